"""Deadline-aware admission: a hook call that cannot start within the EHR's patience gets 503 at once, not a queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from smart_app.http_server import QUEUED_AT, RETRY_AFTER_SECONDS, SHED, is_hook_call, retry_later

_BUSY = retry_later("throttled", "PainPlan is busy and could not start this call in time")


def admission(app: Callable, patience: float, on_shed: Callable[[str], None]) -> Callable:
    """WSGI middleware: refuse hook calls the server marked as hopeless, or that already waited past `patience`.

    Only CDS service calls are refused: `/healthz`, discovery, feedback and the plan view are always served, so a
    load balancer never takes a busy instance for a dead one.
    """

    def guarded(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        queued_at = environ.get(QUEUED_AT)
        if queued_at is not None and is_hook_call(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")):
            waited = time.monotonic() - queued_at
            if environ.get(SHED) or waited > patience:
                on_shed(environ["PATH_INFO"].rsplit("/", 1)[-1][:64])
                start_response(
                    "503 Service Unavailable",
                    [
                        ("Content-Type", "application/fhir+json"),
                        ("Content-Length", str(len(_BUSY))),
                        ("Retry-After", str(RETRY_AFTER_SECONDS)),
                    ],
                )
                return [_BUSY]
        return app(environ, start_response)

    return guarded
