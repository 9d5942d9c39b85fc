"""The database engine: SQLite in the instance folder by default, any SQLAlchemy URL (PostgreSQL) otherwise."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, create_engine, event

from smart_app.config import Settings


def database_url(settings: Settings, instance: Path) -> str:
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
    """Create the engine and every face's tables; store the engine on the app."""
    url = database_url(settings, Path(app.instance_path))
    sqlite = url.startswith("sqlite")
    # A server database can drop idle connections; a local SQLite file cannot, so skip the extra round trip.
    engine = create_engine(url, pool_pre_ping=not sqlite)
    if sqlite:

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # pragma: no cover - driver hook
            cursor = connection.cursor()
            # WAL + busy timeout: several gunicorn workers share the file without "database is locked".
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable across app crashes in WAL mode, and fast
            cursor.close()

    from cds_hooks.store import create_tables as create_cds_tables
    from launch.store import create_tables as create_launch_tables

    create_cds_tables(engine)
    create_launch_tables(engine)
    app.extensions["painplan.db"] = engine
    return engine
