"""`pdmp-review`: a review row with no answer (a dataAbsentReason) dated after today, or of unknown status, is never
counted and is named with every fact that kept it from counting, in the same line on the data-incomplete card, the
plan page's data-completeness panel and its copied note (one function, `pdmp_review.unread_reviews`, for both)."""

from __future__ import annotations

from typing import Any

import pytest
from builders import NOW, PATIENT_ID, SNOMED, card, days_ago, med_request, run
from cds_support import bundle, data_incomplete_detail

from guideline.checks import CHECKS, pdmp_review
from guideline.plan import build_plan

CHECK = pdmp_review.CHECK_ID
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
REVIEW_FINDING = "461651000124104"  # Review of prescription drug monitoring program record done (situation)
EPIC_FLOWSHEET = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679"
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
ROW_ID = "eXbq3kPzN1vG7Yt0cHm9sWQ3"  # Epic's ids are opaque and long
AHEAD = "2026-07-01"  # the evaluation date is 2026-06-15
NAMED = f"PDMP Reviewed (observation {ROW_ID})"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK, pdmp_review)


def epic_row(charted: str | None, reason: str = "temp-unknown", status: Any = "final") -> dict[str, Any]:
    """Epic's "PDMP Reviewed" flowsheet row (mapped to SNOMED's finding) filed with no answer, only why."""
    row: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ROW_ID,
        "status": status,
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ],
                "text": "Survey",
            }
        ],
        "code": {
            "coding": [
                {"system": EPIC_FLOWSHEET, "code": "30412", "display": "PDMP REVIEWED"},
                {"system": SNOMED, "code": REVIEW_FINDING},
            ],
            "text": "PDMP Reviewed",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Doe, Jane"},
        "dataAbsentReason": {"coding": [{"system": DAR, "code": reason}], "text": reason},
    }
    if charted is not None:
        row["effectiveDateTime"] = f"{charted}T14:05:00Z"
        row["issued"] = f"{charted}T14:06:12Z"
    return row


def sign(resources: list[dict[str, Any]]):
    return run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)], resources=resources)


def on_card(evaluation) -> tuple[str, ...]:
    """What the data-incomplete card names as reviews no check could count."""
    from guideline.named_gaps import NAMED_GAPS

    return next(kind for kind in NAMED_GAPS if kind.key == "unread-reviews").card_named(evaluation.facts)


# -- no answer, dated after today ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        ("temp-unknown", "value temporarily unknown"),
        ("error", "error, no value sent"),
        ("masked", "no value read (masked)"),
    ],
)
def test_a_row_with_no_answer_dated_after_today_is_named_and_never_counted(reason: str, why: str) -> None:
    # Before: outside the window, it was named nowhere, while an answered row of unknown status dated ahead was.
    evaluation = sign([epic_row(AHEAD, reason)])
    found = card(evaluation, CHECK)
    assert found is not None and found.facts["last_review"] is None
    assert pdmp_review.future_reviews(evaluation.facts) == ()  # no review, so not "a review dated after today"
    assert on_card(evaluation) == (f"{NAMED}, {why}, dated {AHEAD}, after today",)


def test_a_row_with_no_answer_saying_none_was_done_dated_after_today_is_not_named() -> None:
    """`not-performed` is a "No": no review, and nothing the record holds was left uncounted."""
    evaluation = sign([epic_row(AHEAD, "not-performed")])
    assert card(evaluation, CHECK) is not None
    assert on_card(evaluation) == ()


def test_a_row_with_no_answer_dated_after_today_is_not_named_beside_a_review_counted_in_the_window() -> None:
    counted = {**epic_row(days_ago(20)), "id": "eCounted1"}
    del counted["dataAbsentReason"]
    counted["valueString"] = "Yes"
    evaluation = sign([counted, epic_row(AHEAD)])
    assert card(evaluation, CHECK) is None
    assert on_card(evaluation) == ()


# -- no answer, status unknown ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["unknown", ["final"]], ids=["unknown", "list"])
@pytest.mark.parametrize(
    ("charted", "when"),
    [
        (days_ago(10), ""),
        (None, ", no date"),
        (AHEAD, f", dated {AHEAD}, after today"),
    ],
    ids=["in-window", "undated", "ahead"],
)
def test_a_row_with_no_answer_of_unknown_status_keeps_both_facts(status: Any, charted: str | None, when: str) -> None:
    # Before: "status unknown" was lost, the line saying only "value temporarily unknown" (and, ahead, nothing).
    evaluation = sign([epic_row(charted, status=status)])
    assert card(evaluation, CHECK) is not None
    assert on_card(evaluation) == (f"{NAMED}, status unknown, value temporarily unknown{when}",)


def test_a_row_with_no_answer_of_unknown_status_charted_before_the_window_is_not_named() -> None:
    """It could change nothing: a review 200 days old would not keep the card quiet."""
    assert on_card(sign([epic_row(days_ago(200), status="unknown")])) == ()


# -- both faces, one function ----------------------------------------------------------------------------------


def test_the_plan_page_names_the_rows_the_card_names_in_the_same_words() -> None:
    rows = [epic_row(AHEAD), {**epic_row(days_ago(10), status="unknown"), "id": "eUnknown2"}]
    evaluation = sign(rows)
    expected = (
        f"{NAMED}, value temporarily unknown, dated {AHEAD}, after today",
        "PDMP Reviewed (observation eUnknown2), status unknown, value temporarily unknown",
    )
    assert on_card(evaluation) == expected
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    assert view.named["unread-reviews"] == expected
    assert all(line in view.note for line in expected)
    tile = {t.key: t for t in view.section("tasks").content}["pdmp"]
    assert tile.last_done is None  # neither is a review done


def test_the_data_incomplete_card_names_a_row_with_no_answer_dated_after_today(tmp_path) -> None:
    detail = data_incomplete_detail(tmp_path, pdmpObs=bundle(epic_row(AHEAD, status="unknown")))
    assert f"{NAMED}, status unknown, value temporarily unknown, dated {AHEAD}, after today" in detail
