"""`painplan serve`: the app under gunicorn (several workers), configured from PAINPLAN_* and a TOML file."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

from guideline.config import ConfigError
from smart_app.config import Settings


class PainPlanServer(BaseApplication):
    """Gunicorn driven from Python: no gunicorn.conf.py, no command line of its own."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from smart_app import create_app

        return create_app(self.settings)


def _post_fork(server: Any, _worker: Any) -> None:
    # The app is built once in the master (tables, secret key); each worker needs its own DB connections.
    app = getattr(server.app, "callable", None)
    engine = app.extensions.get("painplan.db") if app is not None else None
    if engine is not None:
        engine.dispose(close=False)


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": max(1, settings.workers),
        "worker_class": "gthread",
        "threads": 4,  # FHIR callbacks wait on the network; threads keep a worker busy meanwhile
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "preload_app": True,
        "post_fork": _post_fork,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,  # our own JSON lines carry what matters, without patient ids in URLs
        "errorlog": "-",
        "limit_request_line": 8190,
        "forwarded_allow_ips": "127.0.0.1",
    }


def run_serve(args: argparse.Namespace) -> int:
    from smart_app.commands import settings_for

    overrides = {
        name: getattr(args, name) for name in ("host", "port", "workers") if getattr(args, name, None) is not None
    }
    settings = settings_for("serve", args, **overrides)
    if settings is None:
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(message)s", stream=sys.stderr)
    try:
        PainPlanServer(settings, gunicorn_options(settings)).run()
    except ConfigError as error:
        print(f"painplan serve: {error}", file=sys.stderr)
        return 2
    return 0
