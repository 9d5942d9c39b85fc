"""The hook path's database work: snoozes seen by every worker, cards of a call stored together, JWT replays."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from cds_hooks import store
from guideline.cards import Snooze
from smart_app.config import Settings
from smart_app.db import database_url

NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)


@pytest.fixture()
def workers(tmp_path):
    """Two engines on one SQLite file, as two server worker processes have (on PAINPLAN_DATABASE_URL's PostgreSQL
    when the suite runs against one: the hook path runs its statements on the driver directly)."""
    shared = os.environ.get("PAINPLAN_DATABASE_URL", "")
    if shared.startswith(("postgres://", "postgresql")):
        url = database_url(Settings(database_url=shared), instance=None)  # type: ignore[arg-type]
    else:
        url = f"sqlite:///{tmp_path / 'painplan.db'}"
    first, second = create_engine(url), create_engine(url)
    store.create_tables(first)
    yield first, second
    first.dispose()
    second.dispose()


def snooze(check: str, user: str | None = None, reason: str | None = "benefits-outweigh-risks", days: int = 30):
    return Snooze(
        check_id=check,
        patient_id="p1",
        until=NOW + timedelta(days=days),
        indicator="warning",
        user_id=user,
        reason=reason,
        set_at=NOW - timedelta(hours=1),
    )


def test_a_snooze_saved_by_one_worker_is_seen_by_the_other_at_once(workers):
    first, second = workers
    assert store.load_snoozes(second, "p1", "Practitioner/a", NOW) == []  # the reader has run its query before
    store.save_snooze(first, snooze("high-mme"))
    [seen] = store.load_snoozes(second, "p1", "Practitioner/a", NOW)
    assert (seen.check_id, seen.patient_id, seen.user_id, seen.reason) == (
        "high-mme",
        "p1",
        None,
        "benefits-outweigh-risks",
    )
    assert seen.until == NOW + timedelta(days=30) and seen.until.tzinfo is not None
    assert seen.set_at == NOW - timedelta(hours=1) and seen.indicator == "warning"


def test_snoozes_are_scoped_to_patient_user_and_time(workers):
    first, second = workers
    store.save_snooze(first, snooze("high-mme"))  # every user
    store.save_snooze(first, snooze("naloxone", user="Practitioner/a", reason=None))
    store.save_snooze(first, snooze("pdmp-review", days=-1))  # already over
    other_patient = Snooze("urine-drug-test", "p2", NOW + timedelta(days=9), "warning")
    store.save_snooze(first, other_patient)

    def checks(user: str | None, patient: str | None = "p1") -> list[str]:
        return sorted(s.check_id for s in store.load_snoozes(second, patient, user, NOW))

    assert checks("Practitioner/a") == ["high-mme", "naloxone"]
    assert checks("Practitioner/b") == ["high-mme"]
    assert checks(None) == ["high-mme"]  # no user id: only the patient-wide snoozes
    assert checks("Practitioner/a", "p2") == ["urine-drug-test"]
    assert checks("Practitioner/a", None) == []
    [mine] = [s for s in store.load_snoozes(second, "p1", "Practitioner/a", NOW) if s.check_id == "naloxone"]
    assert mine.user_id == "Practitioner/a" and mine.reason is None


def test_a_snooze_ends_exactly_at_its_until(workers):
    first, _ = workers
    store.save_snooze(first, snooze("high-mme", days=1))
    assert store.load_snoozes(first, "p1", None, NOW + timedelta(days=1) - timedelta(seconds=1))
    assert store.load_snoozes(first, "p1", None, NOW + timedelta(days=1)) == []


def test_the_cards_of_one_call_are_stored_together_and_found_by_uuid(workers):
    first, second = workers
    cards = [
        store.IssuedCard(f"00000000-0000-4000-8000-00000000000{n}", f"check-{n}", "p1", "u", "info", NOW, "s", "h")
        for n in range(3)
    ]
    store.record_issued(first, cards)
    store.record_issued(first, [])  # nothing to store is not an error
    assert store.find_issued(second, cards[2].uuid) == cards[2]
    assert len(store.all_rows(second, store.issued_cards)) == 3
    with pytest.raises(Exception):  # noqa: B017 - a duplicate uuid fails the whole call's write
        store.record_issued(first, [cards[0], store.IssuedCard("new", "c", None, None, "info", NOW, "s", None)])
    assert store.find_issued(second, "new") is None
    # The failed write's connection is not handed on half-broken (PostgreSQL would refuse everything after it).
    store.record_issued(first, [store.IssuedCard("new", "c", None, None, "info", NOW, "s", None)])
    assert store.find_issued(second, "new") is not None and store.load_snoozes(first, "p1", None, NOW) == []


def test_a_token_id_is_refused_while_unexpired_and_accepted_again_after_expiry(workers):
    first, second = workers
    expires = NOW + timedelta(minutes=5)
    assert store.remember_jti(first, "https://ehr", "jti-1", expires, NOW)
    assert not store.remember_jti(second, "https://ehr", "jti-1", expires, NOW + timedelta(minutes=1))
    assert store.remember_jti(second, "https://other-ehr", "jti-1", expires, NOW)  # ids are per issuer
    later = NOW + timedelta(minutes=6)
    assert store.remember_jti(second, "https://ehr", "jti-1", later + timedelta(minutes=5), later)
    assert not store.remember_jti(first, "https://ehr", "jti-1", later + timedelta(minutes=5), later)
    rows = store.all_rows(first, store.seen_jti)
    assert sorted(row["iss"] for row in rows) == ["https://ehr"]  # the expired rows went with the last insert


def test_driver_rows_convert_each_value_as_the_dialect_does_and_a_shared_one_once():
    """`_DriverStatement.rows` converts a value the rows share once; values that are merely equal are not shared.

    Keyed on equality, two equal datetimes in different zones got the first one's text (SQLite's conversion drops the
    zone: 12:00 UTC and 07:00 -05:00 are equal, their texts are not), True took 1's converted value, and a value that
    cannot be hashed (a JSON column's list) failed the whole write.
    """
    from sqlalchemy.dialects import sqlite

    converted: list[Any] = []
    to_text = dict(store._hook_statements(sqlite.dialect()).insert_issued.converters)["issued_at"]

    def counting(value: Any) -> Any:
        converted.append(value)
        return to_text(value) if isinstance(value, datetime) else json.dumps(value)

    statement = store._DriverStatement("INSERT ...", ("at", "n"), (("at", counting), ("n", counting)))
    shared, eastern = NOW, NOW.astimezone(timezone(timedelta(hours=-5)))
    rows = statement.rows(
        [
            {"at": shared, "n": 1},
            {"at": shared, "n": True},
            {"at": eastern, "n": [1, 2]},
            {"at": shared, "n": [1, 2]},
        ]
    )
    assert rows == [
        (to_text(NOW), "1"),
        (to_text(NOW), "true"),
        (to_text(eastern), "[1, 2]"),
        (to_text(NOW), "[1, 2]"),
    ]
    assert to_text(eastern) != to_text(NOW)
    assert sum(value is shared for value in converted) == 1  # the call's one issue time is converted once


def test_a_replay_keeps_its_pooled_connection_and_a_failed_statement_discards_it(workers):
    first, _ = workers
    opened, discarded = [], []
    event.listen(first, "connect", lambda *_: opened.append(1))
    event.listen(first, "invalidate", lambda *_: discarded.append(1))
    expires = NOW + timedelta(minutes=5)
    assert store.remember_jti(first, "https://ehr", "jti-1", expires, NOW)
    assert not store.remember_jti(first, "https://ehr", "jti-1", expires, NOW)  # a replay is an answer, not a failure
    assert store.remember_jti(first, "https://ehr", "jti-9", expires, NOW)
    assert (opened, discarded) == ([], [])  # the pool's one connection served all three
    with first.begin() as connection:
        connection.execute(text("DROP TABLE cds_seen_jti"))
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error for the missing table
        store.remember_jti(first, "https://ehr", "jti-2", expires, NOW)
    assert discarded == [1]  # not handed to the next call
    store.create_tables(first)
    with store.CallStore(first) as call:
        with first.begin() as connection:
            connection.execute(text("DROP TABLE cds_snoozes"))
        with pytest.raises(Exception):  # noqa: B017
            call.load_snoozes("p1", None, NOW)
        assert discarded == [1, 1]
        store.create_tables(first)
        assert call.load_snoozes("p1", None, NOW) == []  # the next statement of the call gets a new connection
    assert store.remember_jti(first, "https://ehr", "jti-2", expires, NOW)
