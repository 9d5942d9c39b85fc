"""A urine drug test result of unknown status dated after today is named where a clinician reads it: the
`urine-drug-test` card, the plan page's tile, the copied note and the history, in words that say both. It was named
nowhere: the card said "Order a urine drug test: none on record" beside an Epic fentanyl screen sent with status
"unknown" and collected 2026-07-05 (today is 2026-06-15), while the same screen sent "final" was named as dated after
today. The result cannot count as the year's test twice over (its status is not a result's, and its day has not
come)."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, med_request, observation, patient, run
from test_plan import plan_for
from test_uds_card_unknown_status import _chronic_draft, _unknown
from test_uds_unreadable_specimen import OXYCODONE_5, _long_term_fills

from guideline.plan.note import note_text

CHECK_ID = "urine-drug-test"
AHEAD = "2026-07-05"
NAMED = f"1 result of unknown status, not counted: Fentanyl Ur Ql Scn ({AHEAD}, after today)."


def _tile(plan: Any) -> Any:
    return next(t for t in plan.section("tasks").content if t.key == "uds")


@pytest.mark.parametrize("status", ["unknown", None, "pending-review"])
def test_the_card_names_one_of_unknown_status_dated_after_today(status: str | None) -> None:
    found = card(run("order-sign", drafts=[_chronic_draft()], resources=[_unknown(AHEAD, status=status)]), CHECK_ID)
    assert found is not None
    assert found.detail.startswith(
        f"There is **no readable urine drug test result on record** for this patient. {NAMED}"
    )
    assert found.summary == (
        f"Order a urine drug test: the result of {AHEAD}, after today, is of unknown status, not counted"
    )


def test_the_card_names_it_beside_the_last_test() -> None:
    older = observation("19295-5", when="2025-01-10", value_string="Negative")
    found = card(run("order-sign", drafts=[_chronic_draft()], resources=[older, _unknown(AHEAD)]), CHECK_ID)
    assert found is not None and found.facts["last_test"] == "2025-01-10"
    assert found.detail.startswith(
        f"The last readable urine drug test result on record is from **2025-01-10**, over 12 months ago. {NAMED}"
    )


def test_newest_first_beside_one_of_the_past() -> None:
    found = card(
        run("order-sign", drafts=[_chronic_draft()], resources=[_unknown(), _unknown(AHEAD, ident="eUDS.2")]),
        CHECK_ID,
    )
    assert found is not None
    assert (
        "2 results of unknown status, not counted: Fentanyl Ur Ql Scn (2026-07-05, after today); "
        "Fentanyl Ur Ql Scn (2026-03-02)."
    ) in found.detail
    assert found.summary == (
        "Order a urine drug test: 2 results of unknown status, not counted (newest 2026-07-05, after today)"
    )


def test_the_tile_and_the_card_say_the_same() -> None:
    plan = plan_for([patient(), *_long_term_fills(), _unknown(AHEAD)])
    tile = _tile(plan)
    found = card(run("patient-view", resources=[*_long_term_fills(), _unknown(AHEAD)]), CHECK_ID)
    assert found is not None
    assert tile.not_counted == NAMED and NAMED in found.detail
    assert tile.detail.startswith(NAMED)


def test_the_note_names_it_once_on_the_tiles_line() -> None:
    # With an active opioid order the unexpected-result check reads the tests and names it among the results not
    # judged (status unknown); the note names it once, on the tile's line, as it does one of the past.
    plan = plan_for([patient(), *_long_term_fills(), med_request(OXYCODONE_5), _unknown(AHEAD)])
    note = note_text(plan)
    assert note.count(f"Fentanyl Ur Ql Scn ({AHEAD}") == 1
    assert f"- Urine drug test: none readable on record, next due {_tile(plan).next_due.isoformat()}. {NAMED}" in note


def test_the_data_incomplete_lists_name_it_as_of_unknown_status_and_after_today() -> None:
    plan = plan_for([patient(), *_long_term_fills(), med_request(OXYCODONE_5), _unknown(AHEAD)])
    assert f"Fentanyl Ur Ql Scn ({AHEAD}, after today, status unknown)" in plan.named["unread-uds"]
    # Not a test read as done: it is not named again among the tests dated after today.
    assert plan.named["future-dated-drug-tests"] == ()


def test_the_history_row_names_it() -> None:
    plan = plan_for([patient(), *_long_term_fills(), _unknown(AHEAD)])
    [row] = plan.section("uds").content.rows
    assert row.day.isoformat() == AHEAD and row.value == "of unknown status, not read" and row.after_today
