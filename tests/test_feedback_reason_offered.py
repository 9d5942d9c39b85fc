"""Feedback: an override reason PainPlan knows but the card did not offer is refused (CDS Hooks 2.0.1, overrideReason
is one of the card's), so a naloxone card's 12-month reason cannot silence the PDMP review for a year."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from builders import PATIENT_ID
from cds_support import db, hook_request, make_app, oxycodone_draft, topics
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, insert

from cds_hooks import store
from cds_hooks.feedback import load_snoozes
from smart_app.migrate import alembic_config, current_revision, head_revision

PAINPLAN_REASONS = "http://painplan.example/fhir/CodeSystem/painplan-override-reason"
CDC_REASONS = "http://fhir.org/guides/cdc/opioid-cds/CodeSystem/opioidcds-overrideReasons"
WHEN = "2026-06-15T16:00:00Z"
LATER = datetime(2026, 6, 16, tzinfo=UTC)


def issue_cards(client) -> dict[str, dict]:
    """order-sign of oxycodone 90 MME/day: the PDMP, urine drug test and naloxone cards among others."""
    body = client.post("/cds-services/order-sign", json=hook_request(drafts=[oxycodone_draft()])).json
    return {card["source"]["topic"]["code"]: card for card in body["cards"]}


def overridden(card: dict, code: str, system: str | None = PAINPLAN_REASONS) -> dict:
    reason = {"code": code} if system is None else {"system": system, "code": code}
    return {
        "card": card["uuid"],
        "outcome": "overridden",
        "overrideReason": {"reason": reason},
        "outcomeTimestamp": WHEN,
    }


def send(client, *items: dict):
    return client.post("/cds-services/order-sign/feedback", json={"feedback": list(items)})


def refused_count() -> float:
    labels = {"service": "order-sign", "why": "reason-not-offered"}
    return REGISTRY.get_sample_value("painplan_feedback_refused_total", labels) or 0.0


def test_issued_cards_keep_the_reason_codes_they_offered(tmp_path):
    app = make_app(tmp_path)
    pdmp = issue_cards(app.test_client())["pdmp-review"]
    rows = {row["uuid"]: row for row in store.all_rows(db(app), store.issued_cards)}
    offered = rows[pdmp["uuid"]]["offered_reasons"].split()
    assert offered == [reason["code"] for reason in pdmp["overrideReasons"]]
    assert "pdmp-reviewed" in offered and "naloxone-already-available" not in offered


def test_a_reason_another_card_offers_is_refused_and_snoozes_nothing(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    cards = issue_cards(client)
    before = refused_count()
    response = send(client, overridden(cards["pdmp-review"], "naloxone-already-available"))
    assert response.status_code == 400 and response.json["resourceType"] == "OperationOutcome"
    diagnostics = response.json["issue"][0]["diagnostics"]
    assert "naloxone-already-available" in diagnostics and cards["pdmp-review"]["uuid"] in diagnostics
    assert store.all_rows(db(app), store.feedback) == [] and store.all_rows(db(app), store.snoozes) == []
    assert refused_count() == before + 1
    assert "pdmp-review" in topics(
        client.post("/cds-services/order-sign", json=hook_request(drafts=[oxycodone_draft()])).json
    )


def test_a_cdc_code_no_card_offers_is_refused_with_or_without_its_system(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    uds = issue_cards(client)["urine-drug-test"]
    assert send(client, overridden(uds, "snooze-1-year", CDC_REASONS)).status_code == 400
    assert send(client, overridden(uds, "snooze-1-year", None)).status_code == 400
    assert load_snoozes(db(app), PATIENT_ID, None, LATER) == []


def test_a_batch_with_one_reason_not_offered_stores_none_of_its_items(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    cards = issue_cards(client)
    good = overridden(cards["pdmp-review"], "pdmp-reviewed")
    bad = overridden(cards["urine-drug-test"], "snooze-1-year", CDC_REASONS)
    assert send(client, good, bad).status_code == 400
    assert store.all_rows(db(app), store.feedback) == [] and load_snoozes(db(app), PATIENT_ID, None, LATER) == []
    assert send(client, good).status_code == 200  # sent again without the bad item, it is taken
    [snooze] = load_snoozes(db(app), PATIENT_ID, None, LATER)
    assert snooze.check_id == "pdmp-review" and snooze.until == datetime(2026, 9, 13, 16, 0, tzinfo=UTC)


def test_an_ehr_own_code_is_stored_without_a_snooze_as_before(tmp_path):
    app = make_app(tmp_path)
    client = app.test_client()
    pdmp = issue_cards(client)["pdmp-review"]
    # A code of PainPlan's spelling under the EHR's own system is the EHR's code, not ours.
    own = overridden(pdmp, "naloxone-already-available", "urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.30")
    assert send(client, overridden(pdmp, "epic-override-17"), own).status_code == 200
    assert len(store.all_rows(db(app), store.feedback)) == 2
    assert load_snoozes(db(app), PATIENT_ID, None, LATER) == []


def test_a_card_issued_before_offered_reasons_were_kept_is_taken_as_before(tmp_path):
    """A database at 0004 is upgraded in place; its cards (offered reasons not known) keep today's behaviour."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    with engine.begin() as connection:
        connection.execute(
            insert(store.issued_cards).values(
                uuid="card-1",
                check_id="pdmp-review",
                patient_id=PATIENT_ID,
                indicator="warning",
                issued_at=datetime(2026, 6, 15, 12, tzinfo=UTC),
                service="order-sign",
                about="",
            )
        )
    engine.dispose()
    app = make_app(tmp_path, database_url=url)
    assert current_revision(db(app)) == head_revision()
    [row] = store.all_rows(db(app), store.issued_cards)
    assert row["uuid"] == "card-1" and row["offered_reasons"] is None
    assert send(app.test_client(), overridden({"uuid": "card-1"}, "naloxone-already-available")).status_code == 200
    [snooze] = load_snoozes(db(app), PATIENT_ID, None, LATER)
    assert snooze.check_id == "pdmp-review" and snooze.reason == "naloxone-already-available"
