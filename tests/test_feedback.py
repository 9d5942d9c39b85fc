"""Feedback (standards 1.9, 5 #30–#33; guideline 11.2): validation, idempotence, snoozes, the report."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

import pytest
from builders import PATIENT_ID
from cds_support import db, hook_request, make_app, oxycodone_draft, topics

from cds_hooks import store
from cds_hooks.feedback import add_duration, load_snoozes
from cds_hooks.report import report_rows
from smart_app.commands import run_feedback_report

PAINPLAN_REASONS = "http://painplan.example/fhir/CodeSystem/painplan-override-reason"
CDC_REASONS = "http://fhir.org/guides/cdc/opioid-cds/CodeSystem/opioidcds-overrideReasons"
WHEN = "2026-06-15T16:00:00Z"


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path, instance_path=str(tmp_path / "instance"))


def issue_card(app, dose: int = 2, user: str = "Practitioner/dr1") -> dict:
    body = hook_request(drafts=[oxycodone_draft(dose=dose)])
    body["context"]["userId"] = user
    cards = app.test_client().post("/cds-services/order-sign", json=body).json["cards"]
    return next(c for c in cards if c["source"]["topic"]["code"] == "high-mme")


def send(app, *items: dict, service: str = "order-sign"):
    return app.test_client().post(f"/cds-services/{service}/feedback", json={"feedback": list(items)})


def overridden(card: dict, code: str | None, system: str = PAINPLAN_REASONS, **extra) -> dict:
    item = {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": WHEN, **extra}
    if code:
        item["overrideReason"] = {"reason": {"code": code, "system": system}}
    return item


def test_accepted_feedback_is_stored_once_and_is_idempotent(app):
    card = issue_card(app)
    item = {
        "card": card["uuid"],
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        "outcomeTimestamp": WHEN,
    }
    first, second = send(app, item), send(app, item)
    assert first.status_code == second.status_code == 200 and first.json == {}
    rows = store.all_rows(db(app), store.feedback)
    assert len(rows) == 1 and json.loads(rows[0]["accepted_suggestions"]) == [card["suggestions"][0]["uuid"]]
    assert "patient_id" not in rows[0]
    assert load_snoozes(db(app), PATIENT_ID, "Practitioner/dr1", datetime(2026, 6, 16, tzinfo=UTC)) == []


def test_override_with_reason_snoozes_the_check_for_the_configured_duration(app):
    card = issue_card(app)
    item = overridden(card, "benefits-outweigh-risks")
    item["overrideReason"]["userComment"] = "discussed with patient"
    assert send(app, item).status_code == 200
    [snooze] = load_snoozes(db(app), PATIENT_ID, None, datetime(2026, 6, 16, tzinfo=UTC))
    assert snooze.check_id == "high-mme" and snooze.indicator == "critical" and snooze.user_id is None
    assert snooze.until == datetime(2026, 9, 15, 16, 0, tzinfo=UTC)  # 3 months
    assert store.all_rows(db(app), store.snoozes)[0]["comment"] == "discussed with patient"
    # The next call for this patient no longer shows the snoozed card…
    assert "high-mme" not in topics(
        app.test_client().post("/cds-services/order-sign", json=hook_request(drafts=[oxycodone_draft()])).json
    )


def test_snooze_breaks_when_the_finding_gets_more_severe(app):
    warning_draft = oxycodone_draft(dose=1, every_hours=3)  # 8 tablets = 60 MME: warning
    cards = app.test_client().post("/cds-services/order-sign", json=hook_request(drafts=[warning_draft])).json["cards"]
    warning = next(c for c in cards if c["source"]["topic"]["code"] == "high-mme")
    assert warning["indicator"] == "warning"
    send(app, overridden(warning, "taper-in-progress"))
    again = app.test_client().post("/cds-services/order-sign", json=hook_request(drafts=[warning_draft])).json
    assert "high-mme" not in topics(again)
    critical = app.test_client().post("/cds-services/order-sign", json=hook_request(drafts=[oxycodone_draft()])).json
    assert "high-mme" in topics(critical)


def test_user_scoped_reason_snoozes_for_that_clinician_only(app):
    card = issue_card(app, user="Practitioner/dr7")
    send(app, overridden(card, "wrong-clinician"))
    later = datetime(2026, 6, 16, tzinfo=UTC)
    assert [s.user_id for s in load_snoozes(db(app), PATIENT_ID, "Practitioner/dr7", later)] == ["Practitioner/dr7"]
    assert load_snoozes(db(app), PATIENT_ID, "Practitioner/other", later) == []


def test_cdc_snooze_codes_without_display_and_overrides_without_reason_are_accepted(app):
    card = issue_card(app)
    # The CDC snooze every card offers, sent as EHRs do: system and code, no display.
    assert "snooze-3-months-with-comment" in [r["code"] for r in card["overrideReasons"]]
    assert send(app, overridden(card, "snooze-3-months-with-comment", CDC_REASONS)).status_code == 200
    [snooze] = load_snoozes(db(app), PATIENT_ID, None, datetime(2026, 6, 16, tzinfo=UTC))
    assert snooze.until == datetime(2026, 9, 15, 16, 0, tzinfo=UTC) and snooze.reason == "snooze-3-months-with-comment"
    assert send(app, overridden(card, None)).status_code == 200
    comment_only = overridden(card, None, overrideReason={"userComment": "not today"})
    assert send(app, comment_only).status_code == 200


def test_a_cdc_snooze_code_the_card_did_not_offer_is_400_and_stores_nothing(app):
    card = issue_card(app)
    assert "snooze-1-month" not in [r["code"] for r in card["overrideReasons"]]
    response = send(app, overridden(card, "snooze-1-month", CDC_REASONS))
    assert response.status_code == 400 and response.json["resourceType"] == "OperationOutcome"
    assert store.all_rows(db(app), store.feedback) == [] and store.all_rows(db(app), store.snoozes) == []


def test_unknown_reason_codes_are_stored_but_do_not_snooze(app):
    card = issue_card(app)
    assert send(app, overridden(card, "my-own-code")).status_code == 200
    assert store.all_rows(db(app), store.feedback)[0]["reason_code"] == "my-own-code"
    assert load_snoozes(db(app), PATIENT_ID, None, datetime(2026, 6, 16, tzinfo=UTC)) == []


def test_unknown_card_is_200_with_no_side_effects(app):
    fake = {"uuid": "00000000-0000-4000-8000-000000000000"}
    assert send(app, overridden(fake, "benefits-outweigh-risks")).status_code == 200
    assert store.all_rows(db(app), store.snoozes) == []


@pytest.mark.parametrize(
    "item",
    [
        {"card": "c", "outcome": "accepted", "outcomeTimestamp": WHEN},
        {"card": "c", "outcome": "ignored", "outcomeTimestamp": WHEN},
        {"card": "c", "outcome": "overridden"},
        {"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"},
        {"outcome": "overridden", "outcomeTimestamp": WHEN},
        {"card": "c", "outcome": "accepted", "acceptedSuggestions": [{}], "outcomeTimestamp": WHEN},
        {"card": "c", "outcome": "overridden", "outcomeTimestamp": WHEN, "overrideReason": {"reason": "x"}},
    ],
)
def test_invalid_feedback_is_400(app, item):
    response = send(app, item)
    assert response.status_code == 400 and response.json["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    ("stamp", "said"),
    [(None, "outcomeTimestamp is required"), (" ", "outcomeTimestamp is required"),
     (1718467200, "must be an RFC 3339 date-time (a string)"), ([WHEN], "must be an RFC 3339 date-time (a string)")],
)  # fmt: skip
def test_a_timestamp_of_the_wrong_type_is_named_as_such(app, stamp, said):
    item = {"card": "c", "outcome": "overridden", "outcomeTimestamp": stamp}
    response = send(app, item)
    assert response.status_code == 400 and said in response.json["issue"][0]["diagnostics"]


def test_bad_batch_changes_nothing(app):
    card = issue_card(app)
    good = overridden(card, "benefits-outweigh-risks")
    bad = {"card": "c", "outcome": "ignored", "outcomeTimestamp": WHEN}
    assert send(app, good, bad).status_code == 400
    assert store.all_rows(db(app), store.feedback) == []


def test_feedback_to_another_service_is_treated_as_unknown_card(app):
    card = issue_card(app)
    send(app, overridden(card, "benefits-outweigh-risks"), service="patient-view")
    assert store.all_rows(db(app), store.snoozes) == []


def test_durations_are_calendar_aware():
    start = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
    assert add_duration(start, "1 month") == datetime(2026, 2, 28, 9, 0, tzinfo=UTC)
    assert add_duration(start, "12 months") == datetime(2027, 1, 31, 9, 0, tzinfo=UTC)
    assert add_duration(start, "90 days") == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert add_duration(start, "1 day") == datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        add_duration(start, "forever")


def test_feedback_report_counts_overrides_per_check(app, tmp_path, capsys):
    first, second = issue_card(app), issue_card(app)
    send(app, overridden(first, "benefits-outweigh-risks"))
    send(
        app,
        {
            "card": second["uuid"],
            "outcome": "accepted",
            "outcomeTimestamp": WHEN,
            "acceptedSuggestions": [{"id": second["suggestions"][0]["uuid"]}],
        },
    )
    [row] = [r for r in report_rows(db(app)) if r["check"] == "high-mme"]
    assert row["issued"] == 2 and row["overridden"] == 1 and row["accepted"] == 1 and row["override_rate"] == 0.5
    assert row["top_reasons"] == [{"code": "benefits-outweigh-risks", "count": 1}]
    config = tmp_path / "painplan.toml"
    config.write_text(f'instance_path = "{tmp_path / "instance"}"\n')
    assert run_feedback_report(argparse.Namespace(config=str(config), json=True)) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["checks"][0]["check"] == "high-mme"
    assert run_feedback_report(argparse.Namespace(config=str(config), json=False)) == 0
    assert "high-mme" in capsys.readouterr().out


def test_old_cards_are_pruned_after_the_retention_period(app):
    card = issue_card(app)
    store.prune(db(app), datetime(2026, 6, 15, tzinfo=UTC) + store.RETENTION + store.RETENTION)
    assert store.find_issued(db(app), card["uuid"]) is None


def test_a_snooze_that_would_end_after_year_9999_never_hangs():
    # Found by the live black-box probe: the month loop never ended, spinning a worker thread forever.
    import threading

    errors: list[BaseException] = []

    def attempt() -> None:
        for start, duration in ((datetime(9999, 12, 15, tzinfo=UTC), "3 months"), (datetime(9999, 12, 31), "1 day")):
            try:
                add_duration(start, duration)
            except (ValueError, OverflowError) as error:
                errors.append(error)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=2)
    assert not worker.is_alive() and len(errors) == 2 and all(isinstance(e, ValueError) for e in errors)


@pytest.mark.parametrize(
    "timestamp",
    ["9999-12-15T00:00:00Z", "3000-01-01T00:00:00Z", "in two days", "0001-01-01T00:00:00+14:00"],
)
def test_outcome_timestamps_far_off_the_service_clock_are_400_and_snooze_nothing(app, timestamp):
    if timestamp == "in two days":  # judged against the real clock too: EHRs stamp the real time
        timestamp = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    # A future timestamp would silence the check for that long (until = outcomeTimestamp + duration).
    card = issue_card(app)
    item = {**overridden(card, "benefits-outweigh-risks"), "outcomeTimestamp": timestamp}
    response = send(app, item)
    assert response.status_code == 400 and "outcomeTimestamp" in response.json["issue"][0]["diagnostics"]
    assert store.all_rows(db(app), store.snoozes) == []


def test_a_little_clock_skew_is_accepted(app):
    card = issue_card(app)
    skewed = {**overridden(card, "benefits-outweigh-risks"), "outcomeTimestamp": "2026-06-15T16:10:00Z"}
    assert send(app, skewed).status_code == 200
    assert len(store.all_rows(db(app), store.snoozes)) == 1


def test_a_feedback_batch_is_capped(app):
    card = issue_card(app)
    items = [overridden(card, None)] * 1001
    response = send(app, *items)
    assert response.status_code == 413 and store.all_rows(db(app), store.feedback) == []


def test_over_long_feedback_fields_fit_their_columns(app):
    # The columns are sized (PostgreSQL enforces it; a too-long value failed the whole batch there).
    card = issue_card(app)
    item = overridden(card, "x" * 300, system="https://example.org/" + "s" * 400)
    assert send(app, item).status_code == 200
    [row] = store.all_rows(db(app), store.feedback)
    assert len(row["reason_system"]) <= 256 and len(row["reason_code"]) <= 128


def test_a_later_override_keeps_the_pdmp_review_record(tmp_path):
    """A "pdmp-reviewed" override counts as a PDMP review (10.9); another reason must not erase it."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine

    from cds_hooks.store import create_tables, load_snoozes, save_snooze
    from guideline.cards import Snooze

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    create_tables(engine)
    now = datetime(2026, 6, 15, 16, tzinfo=UTC)
    reviewed = Snooze("pdmp-review", "p1", now + timedelta(days=90), "warning", reason="pdmp-reviewed", set_at=now)
    save_snooze(engine, reviewed)
    later = Snooze("pdmp-review", "p1", now + timedelta(days=30), "warning", reason="data-incorrect", set_at=now)
    save_snooze(engine, later)
    reasons = sorted(s.reason for s in load_snoozes(engine, "p1", None, now))
    assert reasons == ["data-incorrect", "pdmp-reviewed"]
    save_snooze(engine, Snooze("pdmp-review", "p1", now + timedelta(days=95), "warning", reason="pdmp-reviewed"))
    assert len(load_snoozes(engine, "p1", None, now)) == 2  # refreshing a reason updates its own row


def test_a_leap_second_outcome_timestamp_is_read_as_the_second_before(app):
    # Found in the standards audit: RFC 3339 allows a 60th second (a leap second, "23:59:60Z"), which Python's
    # datetime cannot hold, so such an override was refused with 400 and the clinician's reason was lost.
    card = issue_card(app)
    item = {**overridden(card, "benefits-outweigh-risks"), "outcomeTimestamp": "2026-06-14T23:59:60Z"}
    assert send(app, item).status_code == 200
    (row,) = store.all_rows(db(app), store.feedback)
    assert str(row["outcome_timestamp"]).startswith("2026-06-14 23:59:59")
    assert len(store.all_rows(db(app), store.snoozes)) == 1
