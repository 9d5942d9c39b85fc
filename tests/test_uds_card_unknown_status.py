"""`urine-drug-test` (guideline 10.3) names a urine drug test result of unknown status it does not count, as the plan
page's tile does: the card said "There is no urine drug test result on record" beside an Epic Beaker fentanyl screen
sent with status "unknown" in the last 12 months, which the tile and the history section both showed. The tile and
the card list them as the page's other lists do: the first five, then "and N more"."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, med_request, observation, patient, run
from test_plan import plan_for
from test_uds_unreadable_specimen import OXYCODONE_5, TEST_DAY, _epic_result, _long_term_fills

from guideline.plan.note import note_text

CHECK_ID = "urine-drug-test"
NAMED = f"1 result of unknown status, not counted: Fentanyl Ur Ql Scn ({TEST_DAY})."


def _unknown(when: str = TEST_DAY, status: str | None = "unknown", ident: str = "eUDS.1") -> dict[str, Any]:
    """An Epic Beaker fentanyl screen flagged positive, sent with `status` (None: none sent)."""
    screen = _epic_result("65750-2", "Fentanyl Ur Ql Scn", "POSITIVE", ident=ident, flag="A")
    screen |= {"effectiveDateTime": f"{when}T09:14:00-05:00", "issued": f"{when}T16:40:12Z"}
    if status is None:
        return {key: value for key, value in screen.items() if key != "status"}
    return screen | {"status": status}


def _chronic_draft() -> dict[str, Any]:
    return med_request(OXYCODONE_5, draft=True, id="ox1", supply_days=30)


@pytest.mark.parametrize("status", ["unknown", None, "pending-review"])
def test_the_card_names_a_result_of_unknown_status_and_never_says_none_on_record(status: str | None) -> None:
    found = card(run("order-sign", drafts=[_chronic_draft()], resources=[_unknown(status=status)]), CHECK_ID)
    assert found is not None
    assert "no urine drug test result on record" not in found.detail
    assert found.detail.startswith(
        f"There is **no readable urine drug test result on record** for this patient. {NAMED}"
    )
    assert found.summary == f"Order a urine drug test: the result of {TEST_DAY} is of unknown status, not counted"


def test_on_patient_view_for_long_term_therapy_too() -> None:
    found = card(run("patient-view", resources=[*_long_term_fills(), _unknown()]), CHECK_ID)
    assert found is not None and NAMED in found.detail
    assert "no urine drug test result on record" not in found.detail


def test_one_newer_than_an_old_test_is_named_beside_it() -> None:
    older = observation("19295-5", when="2025-01-10", value_string="Negative")
    found = card(run("order-sign", drafts=[_chronic_draft()], resources=[older, _unknown()]), CHECK_ID)
    assert found is not None
    assert found.detail.startswith(
        f"The last readable urine drug test result on record is from **2025-01-10**, over 12 months ago. {NAMED}"
    )


def test_one_older_than_the_window_is_not_the_cards() -> None:
    found = card(run("order-sign", drafts=[_chronic_draft()], resources=[_unknown("2025-03-02")]), CHECK_ID)
    assert found is not None and "unknown status" not in found.detail
    assert found.summary == "Order a urine drug test: none on record for a patient starting or on longer-term opioids"


def test_a_registered_result_is_no_result_and_not_of_unknown_status() -> None:
    # "registered": the test is known, no result yet (uds.NO_RESULT_STATUSES): none on record is what the chart holds,
    # and the card says the test is waiting for its result (test_uds_card_result_pending).
    found = card(run("order-sign", drafts=[_chronic_draft()], resources=[_unknown(status="registered")]), CHECK_ID)
    assert found is not None and "unknown status" not in found.detail
    assert "There is **no urine drug test result on record** for this patient." in found.detail
    assert f"A urine drug test collected on {TEST_DAY} has no result yet (status registered)." in found.detail


def test_the_card_and_the_tile_say_the_same() -> None:
    plan = plan_for([patient(), *_long_term_fills(), _unknown()])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    found = card(run("patient-view", resources=[*_long_term_fills(), _unknown()]), CHECK_ID)
    assert found is not None
    assert tile.not_counted == NAMED and tile.not_counted in found.detail


def _many(count: int) -> list[dict[str, Any]]:
    """`count` results of unknown status, a day apart, newest on 2026-03-10."""
    return [_unknown(f"2026-03-{10 - n:02d}", ident=f"eUDS.{n}") for n in range(count)]


def test_the_tile_names_the_first_five_then_counts_the_rest() -> None:
    plan = plan_for([patient(), *_long_term_fills(), *_many(7)])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    named = "; ".join(f"Fentanyl Ur Ql Scn (2026-03-{day:02d})" for day in range(10, 5, -1))
    assert tile.not_counted == f"7 results of unknown status, not counted: {named}; and 2 more."


def test_the_note_still_names_those_the_tile_only_counts() -> None:
    # The note leaves off its list of results not judged only those the tile's line names.
    note = note_text(plan_for([patient(), *_long_term_fills(), med_request(OXYCODONE_5), *_many(7)]))
    for day in range(4, 11):
        assert note.count(f"Fentanyl Ur Ql Scn (2026-03-{day:02d}") == 1
    assert "Fentanyl Ur Ql Scn (2026-03-05, status unknown)" in note


def test_the_card_names_the_first_five_then_counts_the_rest() -> None:
    found = card(run("order-sign", drafts=[_chronic_draft()], resources=_many(7)), CHECK_ID)
    assert found is not None
    assert "7 results of unknown status, not counted: Fentanyl Ur Ql Scn (2026-03-10);" in found.detail
    assert "Fentanyl Ur Ql Scn (2026-03-06); and 2 more." in found.detail
    assert found.summary == "Order a urine drug test: 7 results of unknown status, not counted (newest 2026-03-10)"
