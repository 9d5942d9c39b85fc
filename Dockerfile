# PainPlan: CDS Hooks services + SMART plan view, served by `painplan serve` (waitress worker processes that buffer
# whole requests before a thread sees them, with read deadlines and 503 load shedding: no extra proxy needed for that).
# Build:  docker build -t painplan .
# Run:    docker run --rm -p 8765:8765 -e PAINPLAN_PUBLIC_URL=https://painplan.example.org painplan
# Demo:   docker run --rm -p 8765:8765 painplan painplan demo      (then open http://127.0.0.1:8765/demo)
# Configuration is by PAINPLAN_* environment variables (docs/integrators.md); mount files you refer to
# (trusted clients, SMART clients, a TOML file) read-only, e.g. -v /etc/painplan:/etc/painplan:ro.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY guideline ./guideline
COPY cds_hooks ./cds_hooks
COPY launch ./launch
COPY smart_app ./smart_app
COPY static ./static
# Wheels for the app and every dependency (PostgreSQL driver included), so the runtime stage needs no compiler.
RUN pip wheel --wheel-dir /wheels ".[postgres]"

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAINPLAN_HOST=0.0.0.0 \
    PAINPLAN_PORT=8765 \
    PAINPLAN_INSTANCE_PATH=/var/lib/painplan
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links=/wheels "painplan[postgres]" \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/painplan --create-home painplan
# Without PAINPLAN_DATABASE_URL the SQLite file and the generated secret key live here; mount a volume to keep them.
VOLUME ["/var/lib/painplan"]
USER 10001:10001
WORKDIR /var/lib/painplan
EXPOSE 8765
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PAINPLAN_PORT', '8765'), timeout=2)" || exit 1
CMD ["painplan", "serve"]
