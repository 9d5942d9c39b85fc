"""`painplan feedback-report` splits each check's override rate between the cards issued on incomplete records and
the others: an override of a card fired because a search failed says the EHR is broken, not the card."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta

from cds_support import db, make_app

from cds_hooks import store
from cds_hooks.report import format_table, report_rows
from smart_app.commands import run_feedback_report

ISSUED = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)
REASONS = "http://painplan.example/fhir/CodeSystem/painplan-override-reason"


def issue(engine, uuid: str, check: str, incomplete: str | None) -> None:
    card = store.IssuedCard(uuid, check, "p1", "Practitioner/dr1", "warning", ISSUED, "order-sign", "h1")
    store.record_issued(engine, [store.IssuedCard(**{**card.__dict__, "records_incomplete": incomplete})])


def answer(engine, uuid: str, outcome: str, reason: str | None = None) -> None:
    row = store.FeedbackRow(
        fingerprint=f"fp-{uuid}-{outcome}",
        card_uuid=uuid,
        service="order-sign",
        hook_instance="h1",
        outcome=outcome,
        reason_system=REASONS if reason else None,
        reason_code=reason,
        comment=None,
        accepted_suggestions=(),
        outcome_timestamp=ISSUED + timedelta(minutes=2),
    )
    assert store.record_feedback(engine, row, ISSUED + timedelta(minutes=3))


def test_the_feedback_report_splits_each_checks_override_rate_by_incomplete_records(tmp_path, capsys):
    app = make_app(tmp_path)
    engine = db(app)
    # urine-drug-test: 4 cards on a complete chart (1 overridden), 2 when the lab search failed (both overridden,
    # "data incorrect": the EHR is broken, not the card).
    for n in range(4):
        issue(engine, f"uds-{n}", "urine-drug-test", "")
    answer(engine, "uds-0", "overridden", "benefits-outweigh-risks")
    answer(engine, "uds-1", "accepted")
    issue(engine, "uds-lab-0", "urine-drug-test", "lab-results")
    issue(engine, "uds-lab-1", "urine-drug-test", "lab-reports,lab-results")
    answer(engine, "uds-lab-0", "overridden", "data-incorrect")
    answer(engine, "uds-lab-1", "overridden", "data-incorrect")
    issue(engine, "mme-0", "high-mme", "")

    rows = {row["check"]: row for row in report_rows(engine)}
    uds = rows["urine-drug-test"]
    assert (uds["issued"], uds["overridden"], uds["accepted"], uds["override_rate"]) == (6, 3, 1, 0.5)
    assert uds["records_complete"] == {"issued": 4, "overridden": 1, "accepted": 1, "override_rate": 0.25}
    assert uds["records_incomplete"] == {"issued": 2, "overridden": 2, "accepted": 0, "override_rate": 1.0}
    # No card on incomplete records: no rate, rather than a 0% that reads as "never overridden".
    assert rows["high-mme"]["records_incomplete"] == {
        "issued": 0,
        "overridden": 0,
        "accepted": 0,
        "override_rate": None,
    }
    assert rows["high-mme"]["records_complete"]["issued"] == 1

    table = format_table(report_rows(engine))
    header, _, *lines = table.splitlines()
    assert "incomplete" in header and "complete rate" in header
    [uds_line] = [line for line in lines if line.startswith("urine-drug-test")]
    assert re.search(r"\b6\s+3\s+1\s+50%\s+2\s+100%\s+25%\s+0\s+data-incorrect \(2\)", uds_line), uds_line
    [mme_line] = [line for line in lines if line.startswith("high-mme")]
    assert re.search(r"\b1\s+0\s+0\s+0%\s+0\s+-\s+0%\s+0\s+-$", mme_line), mme_line  # no incomplete card: no rate

    config = tmp_path / "painplan.toml"
    config.write_text(f'instance_path = "{tmp_path / "instance"}"\n')
    assert run_feedback_report(argparse.Namespace(config=str(config), json=True)) == 0
    printed = {row["check"]: row for row in json.loads(capsys.readouterr().out)["checks"]}
    assert printed["urine-drug-test"]["records_incomplete"]["override_rate"] == 1.0
    assert run_feedback_report(argparse.Namespace(config=str(config), json=False)) == 0
    assert uds_line in capsys.readouterr().out


def test_the_notices_are_not_split_as_if_their_records_had_been_complete(tmp_path):
    """The data-incomplete card is itself the notice that records were incomplete, and the checks-not-run card names
    checks that did not run: neither rests on data, so neither may be counted as issued on complete records."""
    app = make_app(tmp_path)
    engine = db(app)
    issue(engine, "notice-0", "data-incomplete", None)
    answer(engine, "notice-0", "overridden", "data-incorrect")
    issue(engine, "notice-1", "checks-not-run", None)
    issue(engine, "uds-0", "urine-drug-test", "")

    rows = {row["check"]: row for row in report_rows(engine)}
    for notice in ("data-incomplete", "checks-not-run"):
        split = (rows[notice][key] for key in ("records_incomplete", "records_complete", "records_unknown"))
        assert list(split) == [None, None, None], notice
    assert rows["data-incomplete"]["override_rate"] == 1.0  # its own totals stay
    assert rows["urine-drug-test"]["records_complete"]["issued"] == 1

    lines = format_table(report_rows(engine)).splitlines()
    [line] = [line for line in lines if line.startswith("data-incomplete")]
    assert re.search(r"\b1\s+1\s+0\s+100%\s+n/a\s+n/a\s+n/a\s+n/a\s+data-incorrect \(1\)$", line), line
