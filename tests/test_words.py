"""The sentence helpers every face shares (`guideline.words`)."""

from __future__ import annotations

from guideline.words import and_list, capitalised, number_of


def test_capitalised_raises_the_first_letter_and_keeps_the_rest_as_written() -> None:
    # A label begun by an acronym or a vendor's name keeps its capitals, where str.capitalize lowers them.
    assert capitalised("the test of 2026-03-02 could not be read: PDMP, Epic") == (
        "The test of 2026-03-02 could not be read: PDMP, Epic"
    )
    assert capitalised("") == ""


def test_and_list_joins_as_a_sentence_lists() -> None:
    assert [and_list(w) for w in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == ["", "a", "a and b", "a, b and c"]


def test_number_of_says_one_in_the_singular_and_groups_thousands() -> None:
    assert number_of(1, "letter") == "1 letter"
    assert number_of(0, "cohort patient") == "0 cohort patients"
    assert number_of(2004, "resource") == "2,004 resources"
