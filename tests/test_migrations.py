"""Schema migrations: a new database and one made by the old create_all start-up both end at the newest revision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, insert, inspect, select

from cds_hooks import store as cds_store
from launch import store as launch_store
from smart_app import create_app
from smart_app.migrate import current_revision, head_revision, upgrade


def schema_differences(engine) -> list:
    combined = MetaData()
    for metadata in (cds_store.metadata, launch_store.metadata):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, combined)


def test_a_new_database_is_migrated_to_exactly_the_schema_the_code_uses(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'new.db'}")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []


def test_a_database_made_by_the_old_start_up_is_upgraded_in_place_and_keeps_its_rows(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    cds_store.create_tables(engine)  # what every start-up did before migrations
    launch_store.create_tables(engine)
    issued_at = datetime(2026, 6, 15, 12, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(cds_store.issued_cards).values(
                uuid="card-1", check_id="high-mme", indicator="warning", issued_at=issued_at, service="order-sign"
            )
        )
    assert current_revision(engine) is None

    app = create_app(
        {
            "instance_path": str(tmp_path),
            "auth": "off",
            "today": "2026-06-15",  # start-up prunes cards past retention; this one is fresh
            "database_url": f"sqlite:///{tmp_path / 'old.db'}",
        }
    )
    app.extensions["painplan.db"].dispose()

    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(select(cds_store.issued_cards.c.check_id)).scalars().all() == ["high-mme"]


def test_a_partly_created_old_database_gets_its_missing_tables(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'partial.db'}")
    cds_store.create_tables(engine)  # an old version without the launch tables
    upgrade(engine)
    assert {"launch_pending", "launch_session"} <= set(inspect(engine).get_table_names())
    assert schema_differences(engine) == []


def test_upgrading_twice_changes_nothing(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def _upgrade_in_a_process(url: str, start: Any, results: Any) -> None:
    try:
        engine = create_engine(url)
        start.wait(10)
        upgrade(engine)
        results.put("ok")
    except Exception as error:  # noqa: BLE001 - reported to the test, which names it
        results.put(f"{type(error).__name__}: {error}")


def test_instances_starting_together_migrate_once_and_all_start(tmp_path):
    """Four processes upgrade one new database at the same moment (containers starting together)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_upgrade_in_a_process, args=(url, start, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    outcomes = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(30)
    assert outcomes == ["ok"] * 4
    engine = create_engine(url)
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []


def test_the_migration_lock_makes_a_second_instance_wait(tmp_path):
    import threading

    from smart_app.migrate import migration_lock

    engine = create_engine(f"sqlite:///{tmp_path / 'locked.db'}")
    order: list[str] = []
    with migration_lock(engine):
        waiter = threading.Thread(target=lambda: (upgrade(engine), order.append("upgraded")))
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive() and order == []  # blocked while another instance holds the lock
        order.append("released")
    waiter.join(30)
    assert order == ["released", "upgraded"]
    assert current_revision(engine) == head_revision()
