"""Flask app factory: one app serves the CDS Hooks services, the SMART launch, the plan view and the demo."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from smart_app.config import Settings, load_settings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(config: Settings | Mapping[str, Any] | None = None) -> Flask:
    """Build the app from Settings (or keyword overrides for `load_settings`)."""
    settings = config if isinstance(config, Settings) else load_settings(**dict(config or {}))
    app = Flask(
        __name__,
        instance_path=settings.instance_path or None,
        instance_relative_config=True,
        static_folder=str(STATIC_DIR),
        static_url_path="/static",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config["PAINPLAN"] = settings
    app.config["PAINPLAN_LAUNCH"] = settings.launch
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes

    from smart_app.db import init_db
    from smart_app.secrets import secret_key
    from smart_app.sessions import NoCookieSession

    app.secret_key = secret_key(settings, Path(app.instance_path))
    app.session_interface = NoCookieSession()
    engine = init_db(app, settings)

    from cds_hooks.blueprint import create_cds_blueprint
    from launch.blueprint import create_launch_blueprint
    from smart_app.health import health_bp
    from smart_app.metrics import create_metrics_blueprint
    from smart_app.plan_view import create_plan_blueprint

    app.register_blueprint(health_bp)
    app.register_blueprint(create_metrics_blueprint(settings))
    from smart_app.population.dashboard import create_population_blueprint

    app.register_blueprint(create_population_blueprint(settings))
    app.register_blueprint(create_cds_blueprint(settings.cds, engine))
    app.register_blueprint(create_launch_blueprint(settings.launch, engine))
    app.register_blueprint(create_plan_blueprint(settings))
    from smart_app.write.blueprint import create_write_blueprint

    app.register_blueprint(create_write_blueprint(settings))
    if settings.demo:
        from smart_app.demo import create_demo_blueprint

        app.register_blueprint(create_demo_blueprint(settings))
    return app
