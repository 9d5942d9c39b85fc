"""`painplan demo`: build the whole app with the simulator on (smart_app.demo) and serve it until interrupted."""

from __future__ import annotations

import argparse
import sys

from smart_app import create_app
from smart_app.demo import demo_settings, reset_demo_database


def _quiet_handler() -> type:
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        """No access log: request lines name patients (even made-up ones) and would bury the printed URL."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None

    return QuietHandler


def run_demo(args: argparse.Namespace) -> int:
    """Serve the whole app with the simulator until interrupted; print where to open it."""
    from werkzeug.serving import make_server

    settings = demo_settings(args)
    if getattr(args, "reset", False):
        removed = reset_demo_database(settings)
        print(f"Demo database reset ({removed} file{'s' if removed != 1 else ''} removed).", flush=True)
    app = create_app(settings)
    server = make_server(settings.host, settings.port, app, threaded=True, request_handler=_quiet_handler())
    print(f"PainPlan demo: open {settings.public_url.rstrip('/')}/demo  (Ctrl+C to stop)", flush=True)
    if settings.today:
        print(f"Evaluation date: {settings.today.isoformat()}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
    finally:
        server.server_close()
    return 0
