"""Bring the database to the newest schema with the Alembic revisions in smart_app/migrations, before serving."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

SCRIPT_LOCATION = "smart_app:migrations"
# pg_advisory_lock key: "PainPlan" in ASCII, so it cannot collide with a lock another application picks by chance.
ADVISORY_LOCK_KEY = 0x5061696E506C616E


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "smart_app/migrations has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Upgrade in place; a database made before migrations (tables, no alembic_version) is adopted by 0001.

    Instances that start together (containers sharing one database) take turns: each waits for the migration lock,
    then looks again, so only the first one migrates and the others find the database already at head."""
    if current_revision(engine) == head_revision():
        return  # the usual start-up: nothing to load, nothing to lock
    with migration_lock(engine):
        if current_revision(engine) == head_revision():
            return
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while one process migrates: a PostgreSQL advisory lock, or an OS file lock beside a SQLite file."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield  # an in-memory database belongs to one process: nobody to wait for
        return
    with open(Path(database).with_name(Path(database).name + ".migrate-lock"), "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
