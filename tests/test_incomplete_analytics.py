"""The analytics know which cards were issued on incomplete records: each issued card's row keeps the kinds of data
its finding rests on that could not be read (`records_incomplete`, migration 0004), so the feedback report and
/metrics can tell them apart (never silent, operations)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import responses
from alembic import command
from builders import med_request
from cds_support import db, full_prefetch, hook_request, make_app, search_fails
from sqlalchemy import create_engine, select, text

from cds_hooks import store
from smart_app.config import Settings
from smart_app.db import database_url
from smart_app.migrate import alembic_config, current_revision, head_revision, upgrade

MORPHINE_ER_15 = "891881"  # morphine sulfate 15 MG Extended Release Oral Tablet
ISSUED = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)
LAB_KEYS = ("udsLabs", "udsLabsIssued")  # the prefetch keys holding urine drug test results


def morphine_er_draft() -> dict:
    """Morphine ER 15 mg, 1 tablet twice a day, 60 tablets for 30 days: chronic therapy, so a drug test is due."""
    return med_request(MORPHINE_ER_15, draft=True, id="draft-morphine", dose=1, period=12, supply_days=30, quantity=60)


def lab_search_fails() -> None:
    """An Epic-like FHIR server that answers HTTP 500 to Observation searches (the lab results) and an empty Bundle
    to the rest."""
    search_fails("Observation")


def sign_without_labs(app) -> dict[str, dict]:
    """An order-sign whose prefetch lacks the lab results, so PainPlan searches them on the failing server."""
    prefetch = full_prefetch("order-sign")
    for key in LAB_KEYS:
        prefetch.pop(key, None)
    body = hook_request(drafts=[morphine_er_draft()], prefetch=prefetch, fhir=True)
    response = app.test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.json
    return {card["source"]["topic"]["code"]: card for card in response.json["cards"]}


@responses.activate
def test_the_uds_card_of_a_call_whose_lab_search_failed_is_stored_as_issued_on_incomplete_records(tmp_path):
    lab_search_fails()
    app = make_app(tmp_path)
    cards = sign_without_labs(app)

    uds, naive = cards["urine-drug-test"], cards["er-la-opioid-naive"]
    assert uds["summary"].endswith("(records incomplete)")  # the card said so; the row must too
    assert store.find_issued(db(app), uds["uuid"]).records_incomplete == "lab-results"
    # The medicines were all read: the opioid-naive card stands on a complete record ("", not NULL: not known).
    assert store.find_issued(db(app), naive["uuid"]).records_incomplete == ""


def test_every_card_of_a_fully_read_call_is_stored_as_on_complete_records(tmp_path):
    app = make_app(tmp_path)
    body = hook_request(drafts=[morphine_er_draft()], prefetch=full_prefetch("order-sign"))
    response = app.test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    rows = store.all_rows(db(app), store.issued_cards)
    assert {row["check_id"] for row in rows} >= {"urine-drug-test", "er-la-opioid-naive"}
    assert [row["records_incomplete"] for row in rows] == [""] * len(rows)


def test_a_card_resting_on_several_unread_kinds_stores_them_sorted_and_comma_separated():
    from guideline.cards import Card

    card = Card("urine-drug-test", "warning", "No urine drug test (records incomplete)", "detail")
    several = Card(**{**card.__dict__, "facts": {"not_read": ["procedures", "lab-results", "lab-reports"]}})
    assert store.stored_incomplete(several) == "lab-reports,lab-results,procedures"
    assert store.stored_incomplete(Card(**{**card.__dict__, "facts": {"not_read": []}})) == ""
    assert store.stored_incomplete(card) == ""  # a finding resting on no unread data
    assert store.stored_incomplete(Card(**{**card.__dict__, "check_id": "data-incomplete"})) is None  # a notice


def at_revision_0003(url: str):
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    assert current_revision(engine) == "0003"
    return engine


def migration_url(tmp_path) -> str:
    """A new SQLite file; PAINPLAN_DATABASE_URL's PostgreSQL when the suite runs against one (emptied per test)."""
    shared = os.environ.get("PAINPLAN_DATABASE_URL", "")
    if shared.startswith(("postgres://", "postgresql")):
        return database_url(Settings(database_url=shared), instance=None)  # type: ignore[arg-type]
    return f"sqlite:///{tmp_path / 'at-0003.db'}"


def test_a_database_at_0003_gets_the_column_and_keeps_its_issued_cards_with_null(tmp_path):
    engine = at_revision_0003(migration_url(tmp_path))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO cds_issued_cards (uuid, check_id, patient_id, indicator, issued_at, service, about) "
                "VALUES ('c-old', 'urine-drug-test', 'eJzlzKe3KPzAV0', 'warning', '2026-06-14 09:30:00', "
                "'order-sign', '')"
            )
        )
    upgrade(engine)

    assert current_revision(engine) == head_revision()
    old = store.find_issued(engine, "c-old")
    assert (old.check_id, old.patient_id, old.about, old.records_incomplete) == (
        "urine-drug-test",
        "eJzlzKe3KPzAV0",
        "",
        None,
    )
    new = store.IssuedCard("c-new", "urine-drug-test", "p1", None, "warning", ISSUED, "order-sign", None)
    store.record_issued(engine, [store.IssuedCard(**{**new.__dict__, "records_incomplete": "lab-results"})])
    assert store.find_issued(engine, "c-new").records_incomplete == "lab-results"
    with engine.connect() as connection:
        assert connection.execute(select(store.issued_cards.c.uuid).order_by("uuid")).scalars().all() == [
            "c-new",
            "c-old",
        ]
    engine.dispose()
