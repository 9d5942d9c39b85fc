"""The database engine: SQLite in the instance folder by default, any SQLAlchemy URL (PostgreSQL) otherwise."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, create_engine, event

from guideline.config import ConfigError
from smart_app.config import Settings

DEMO_DATABASE = "demo.db"


def instance_folder(settings: Settings) -> Path:
    """The folder for the SQLite database and the secret key: PAINPLAN_INSTANCE_PATH, else Flask's default."""
    return Path(Flask("smart_app", instance_path=settings.instance_path or None).instance_path)


def database_url(settings: Settings, instance: Path) -> str:
    """The demo always has its own SQLite file, so its clicks never mix with the service's analytics."""
    if settings.demo:
        return f"sqlite:///{instance / DEMO_DATABASE}"
    if settings.database_url:
        url = settings.database_url
        # Heroku-style URLs name the old driver; SQLAlchemy 2 wants psycopg (v3).
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{instance / 'painplan.db'}"


def init_db(app: Flask, settings: Settings) -> Engine:
    """Create the engine and migrate every face's tables to the newest schema; store the engine on the app."""
    engine = make_engine(database_url(settings, Path(app.instance_path)))

    from smart_app.migrate import upgrade

    upgrade(engine)
    app.extensions["painplan.db"] = engine
    return engine


def make_engine(url: str) -> Engine:
    """An engine for the URL, or a ConfigError naming PAINPLAN_DATABASE_URL when its driver is not installed."""
    sqlite = url.startswith("sqlite")
    try:
        # A server database can drop idle connections; a local SQLite file cannot, so skip the extra round trip.
        engine = create_engine(url, pool_pre_ping=not sqlite)
    except ModuleNotFoundError as error:
        extra = " (install it with: pip install 'painplan[postgres]')" if "psycopg" in str(error.name) else ""
        raise ConfigError(f"PAINPLAN_DATABASE_URL: the driver {error.name} is not installed{extra}") from error
    except Exception as error:  # noqa: BLE001 - SQLAlchemy raises several types for a URL it cannot use
        raise ConfigError(f"PAINPLAN_DATABASE_URL: cannot use this database URL ({type(error).__name__})") from error
    if sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # pragma: no cover - driver hook
            cursor = connection.cursor()
            # WAL + busy timeout: several worker processes share the file without "database is locked".
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode, and fast
            cursor.close()

    return engine
