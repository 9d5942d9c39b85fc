"""`pdmp-review`: a review row sent with no answer and a dataAbsentReason, read by the reason's code, as a urine drug
test result's is (`guideline.data_absent`, one reading): no review where it says none was done, else a row not
counted and named, never a review counted nor one dropped unseen."""

from __future__ import annotations

import pytest
from builders import SNOMED, card, days_ago, observation, run
from test_check_pdmp import CHECK, REVIEW_FINDING, _unread_reviews, oxy

DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    from guideline.checks import CHECKS, pdmp_review

    monkeypatch.setitem(CHECKS, CHECK, pdmp_review)


def _row(reason: str) -> dict:
    """Epic's "PDMP reviewed" finding charted 10 days ago with no answer, only why."""
    row = {**observation(REVIEW_FINDING, system=SNOMED, when=days_ago(10)), "id": "obs-pdmp-absent"}
    return row | {"dataAbsentReason": {"coding": [{"system": DAR, "code": reason}]}}


@pytest.mark.parametrize("reason", ["not-performed", "asked-declined", "not-asked"])
def test_a_review_row_absent_as_not_performed_is_no_review_and_nothing_more(reason: str) -> None:
    evaluation = run("order-sign", drafts=[oxy()], resources=[_row(reason)])
    found = card(evaluation, CHECK)
    assert found is not None and "No PDMP review is documented" in found.detail
    assert _unread_reviews(evaluation) == ()


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        # "may become available": a review whose answer is still to come, named as a drug test awaiting its value is
        pytest.param("temp-unknown", "value temporarily unknown", id="to-come"),
        pytest.param("error", "error, no value sent", id="error"),
        # its answer stands where PainPlan does not read it: perhaps "Yes", perhaps "No"
        pytest.param("masked", "no value read (masked)", id="masked"),
    ],
)
def test_a_review_row_absent_for_another_reason_is_not_counted_and_is_named(reason: str, why: str) -> None:
    # Before, any dataAbsentReason was read as "No" in silence: a review whose answer had not come, or was hidden,
    # was dropped unseen, the card saying no review is documented beside the row the chart shows.
    evaluation = run("order-sign", drafts=[oxy()], resources=[_row(reason)])
    assert card(evaluation, CHECK) is not None
    assert _unread_reviews(evaluation) == (f"PDMP review (observation obs-pdmp-absent), {why}",)


def test_the_reason_is_read_by_the_one_reader_the_drug_tests_read_it_by() -> None:
    from guideline import data_absent, uds

    assert uds.ABSENT_NOT_PERFORMED is data_absent.ABSENT_NOT_PERFORMED
    assert uds.ABSENT_TO_COME is data_absent.ABSENT_TO_COME


@pytest.mark.parametrize(
    ("reason", "said", "named"),
    [
        ("temp-unknown", "value temporarily unknown", "value temporarily unknown"),
        ("error", "error, no value sent", "error, no value sent"),
        ("masked", None, "no value read (masked)"),
        (None, None, "no value read"),
    ],
)
def test_a_reasons_words_are_one_reading(reason: str | None, said: str | None, named: str) -> None:
    # `uds` says why a result reads nothing by `absent_said`, the faces name a value absent by `absent_words`: the
    # awaited and unreadable reasons are worded once.
    from guideline.data_absent import absent_said, absent_words

    assert absent_said(reason) == said
    assert absent_words(reason) == named


def test_a_review_row_absent_with_no_date_is_named_so_and_one_before_the_window_is_not() -> None:
    undated = {k: v for k, v in _row("temp-unknown").items() if k != "effectiveDateTime"}
    evaluation = run("order-sign", drafts=[oxy()], resources=[undated])
    assert _unread_reviews(evaluation) == (
        "PDMP review (observation obs-pdmp-absent), value temporarily unknown, no date",
    )
    # one charted before the 90 days the check reads could change nothing: not named
    old = _row("temp-unknown") | {"effectiveDateTime": days_ago(200)}
    assert _unread_reviews(run("order-sign", drafts=[oxy()], resources=[old])) == ()


def test_the_words_for_the_reviews_not_counted_cover_a_row_with_no_answer() -> None:
    # The kind's card line, page sentence and note heading said "no date" or "unknown status" only, beside a row
    # named for its absent answer alone.
    from guideline.named_gaps import NAMED_GAPS
    from guideline.plan.alerts import incomplete_data

    kind = next(k for k in NAMED_GAPS if k.key == "unread-reviews")
    evaluation = run("order-sign", drafts=[oxy()], resources=[_row("temp-unknown")])
    lines = dict(incomplete_data(evaluation))
    assert kind.card is not None and kind.page is not None and kind.note is not None
    assert lines["PDMP review (observation obs-pdmp-absent), value temporarily unknown"] == kind.card.why
    for words in (kind.card.why, kind.page.one, kind.page.many, kind.note):
        assert "no answer" in words, words
