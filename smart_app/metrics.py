"""`/metrics` for Prometheus: every worker's counters summed, readable from loopback or with the metrics token."""

from __future__ import annotations

import hmac
import os

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest

from smart_app.config import Settings

SHED = Counter(
    "painplan_shed_calls", "Hook calls answered 503 because they could not start within the queue patience", ["service"]
)
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _registry() -> CollectorRegistry:
    """Under `painplan serve` each worker writes its own files; the collector sums them for whichever answers."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def create_metrics_blueprint(settings: Settings) -> Blueprint:
    blueprint = Blueprint("metrics", __name__)
    expected = f"Bearer {settings.metrics_token}".encode() if settings.metrics_token else None

    @blueprint.get("/metrics")
    def metrics() -> Response:
        if expected is not None:
            given = (request.headers.get("Authorization") or "").encode()
            if not hmac.compare_digest(given, expected):
                return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
        elif request.remote_addr not in LOOPBACK:
            # Counts reveal activity, not patients; still, without a token only the host itself may read them.
            return Response(
                "forbidden: set PAINPLAN_METRICS_TOKEN to read metrics remotely\n", 403, mimetype="text/plain"
            )
        response = Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)
        response.headers["Cache-Control"] = "no-store"
        return response

    return blueprint
