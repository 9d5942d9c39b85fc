"""Test-wide fixtures: with PAINPLAN_DATABASE_URL pointing at PostgreSQL, every test starts on an empty database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _empty_shared_database() -> Iterator[None]:
    """Tests normally get a fresh SQLite file each; a shared server database must be emptied between tests
    (run the suite against PostgreSQL with PAINPLAN_DATABASE_URL=postgresql://…)."""
    url = os.environ.get("PAINPLAN_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql")):
        from sqlalchemy import MetaData, create_engine

        from smart_app.config import Settings
        from smart_app.db import database_url

        engine = create_engine(database_url(Settings(database_url=url), instance=None))  # type: ignore[arg-type]
        metadata = MetaData()
        metadata.reflect(engine)
        metadata.drop_all(engine)
        engine.dispose()
    yield
