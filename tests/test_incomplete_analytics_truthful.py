"""The analytics store completeness truthfully: a card issued before PainPlan recorded it (schema 0004) is "not
known", never counted as issued on a complete record; a card resting on a whole record is stored as such."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from alembic import command
from cds_support import db, make_app
from sqlalchemy import create_engine, text
from test_high_mme_unread_kinds import high_mme
from test_incomplete_analytics import migration_url
from test_incomplete_analytics_report import answer, issue

from cds_hooks import store
from cds_hooks.report import format_table, report_rows
from smart_app.migrate import alembic_config, current_revision, head_revision, upgrade


def test_a_card_resting_on_a_whole_record_is_stored_as_complete_not_as_unrecorded():
    card = high_mme()
    assert store.stored_incomplete(card) == ""  # everything read: known complete; NULL is "not recorded"


def test_cards_issued_before_completeness_was_recorded_count_as_not_known_apart_from_complete(tmp_path):
    app = make_app(tmp_path)
    engine = db(app)
    issue(engine, "uds-complete", "urine-drug-test", "")
    issue(engine, "uds-labs", "urine-drug-test", "lab-results")
    issue(engine, "uds-old-0", "urine-drug-test", None)  # stored before schema 0004
    issue(engine, "uds-old-1", "urine-drug-test", None)
    answer(engine, "uds-old-0", "overridden", "data-incorrect")
    answer(engine, "uds-complete", "accepted")

    uds = {row["check"]: row for row in report_rows(engine)}["urine-drug-test"]
    assert (uds["issued"], uds["overridden"], uds["accepted"]) == (4, 1, 1)
    assert uds["records_complete"] == {"issued": 1, "overridden": 0, "accepted": 1, "override_rate": 0.0}
    assert uds["records_incomplete"] == {"issued": 1, "overridden": 0, "accepted": 0, "override_rate": 0.0}
    assert uds["records_unknown"] == {"issued": 2, "overridden": 1, "accepted": 0, "override_rate": 0.5}

    header, _, *lines = format_table(report_rows(engine)).splitlines()
    assert "unknown" in header
    [line] = [line for line in lines if line.startswith("urine-drug-test")]
    # issued, overridden, accepted, rate; incomplete and its rate; complete rate; unknown
    assert re.search(r"\b4\s+1\s+1\s+25%\s+1\s+0%\s+0%\s+2\s", line), line


def test_a_database_at_0004_keeps_its_rows_and_reads_the_unrecorded_ones_as_not_known(tmp_path):
    """The rows an earlier PainPlan stored (NULL for a complete record and for one stored before 0004 alike) are
    upgraded in place; from then on a complete record is stored as such."""
    engine = create_engine(migration_url(tmp_path))
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        for uuid, incomplete in (("old-null", None), ("old-labs", "lab-results")):
            connection.execute(
                text(
                    "INSERT INTO cds_issued_cards (uuid, check_id, patient_id, indicator, issued_at, service, "
                    "records_incomplete) VALUES (:uuid, 'urine-drug-test', 'eJzlzKe3KPzAV0', 'warning', "
                    "'2026-06-14 09:30:00', 'order-sign', :incomplete)"
                ),
                {"uuid": uuid, "incomplete": incomplete},
            )
    upgrade(engine)
    assert current_revision(engine) == head_revision()

    issued = datetime(2026, 6, 15, 16, tzinfo=UTC)
    new = store.IssuedCard("new-complete", "urine-drug-test", "p1", None, "warning", issued, "order-sign", None, "")
    store.record_issued(engine, [store.IssuedCard(**{**new.__dict__, "records_incomplete": ""})])

    [uds] = report_rows(engine)
    assert (uds["records_unknown"]["issued"], uds["records_incomplete"]["issued"]) == (1, 1)
    assert uds["records_complete"]["issued"] == 1
    assert store.find_issued(engine, "new-complete").records_incomplete == ""
    engine.dispose()
