"""One rule for the "(records incomplete)" mark on a card's summary (`guideline.unread_data.fitted`): the first
wording that fits an EHR card with the mark after it; the mark is never cut, never carried twice, and the summary
never exceeds the card limit."""

from __future__ import annotations

from guideline.cards import SUMMARY_LIMIT
from guideline.checks.common import first_fitting
from guideline.unread_data import MARK, Unread, fitted, marked

LONG = "Longer-term opioid (oxycodone hydrochloride 5 MG / acetaminophen 325 MG Oral Tablet [Percocet] and 2 more) "
SHORT = "Longer-term opioid starting with no pain treatment plan documented in 180 days"


def well_marked(summary: str) -> bool:
    return len(summary) <= SUMMARY_LIMIT and summary.endswith(MARK) and summary.count(MARK) == 1


def test_the_first_wording_that_fits_with_the_mark_is_chosen() -> None:
    longer = LONG + "starting with no pain plan"  # fits the card alone, not with the mark
    assert len(longer) <= SUMMARY_LIMIT < len(longer + MARK)

    assert fitted((longer, SHORT), unread=False) == longer
    assert fitted((longer, SHORT), unread=True) == SHORT + MARK


def test_a_summary_too_long_for_any_wording_is_cut_before_the_mark_never_through_it() -> None:
    too_long = LONG * 2

    for summary in (fitted((too_long, too_long + "x"), unread=True), marked(too_long, True)):
        assert well_marked(summary) and summary.endswith("…" + MARK)
    assert first_fitting(too_long, unread=True) == marked(too_long, True)


def test_a_summary_already_marked_is_not_marked_again() -> None:
    assert marked(SHORT + MARK, True) == SHORT + MARK
    assert fitted((SHORT + MARK,), unread=True) == SHORT + MARK
    assert well_marked(marked(LONG * 2 + MARK, True))


def test_a_summary_whose_data_was_all_read_is_unchanged_or_only_clipped() -> None:
    assert fitted((SHORT,), unread=False) == SHORT == marked(SHORT, False)
    assert len(fitted((LONG * 2,), unread=False)) == SUMMARY_LIMIT and MARK not in fitted((LONG * 2,), False)


def test_the_checks_object_marks_by_the_same_rule() -> None:
    unread = Unread((("procedures", "the FHIR server answered HTTP 503"),))
    assert unread.fitted(LONG + "starting with no pain plan", SHORT) == SHORT + MARK
    assert Unread().fitted(LONG * 2) == fitted((LONG * 2,), unread=False)


def test_a_candidate_carrying_the_mark_keeps_it_whole_when_cut() -> None:
    """Before, a check appended the mark to each wording and the last was clipped at the card limit, mark and all."""
    assert well_marked(first_fitting(LONG * 2 + MARK))
