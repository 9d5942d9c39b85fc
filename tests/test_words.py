"""The sentence helpers every face shares (`guideline.words`)."""

from __future__ import annotations

from guideline.words import TEXT_READ_CHARACTERS, and_list, capitalised, longest_not_read, number_of


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


def test_a_text_longer_than_any_real_one_is_not_read_and_its_length_given() -> None:
    assert longest_not_read(["1 tablet by mouth every 6 hours", "x" * TEXT_READ_CHARACTERS]) is None
    assert longest_not_read(["short", "x" * 1_000_000]) == 1_000_000
    assert longest_not_read([]) is None


def test_every_free_text_cap_is_the_one_limit() -> None:
    from guideline.dosage import SIG_READ_CHARACTERS
    from guideline.recognition.diagnoses import DIAGNOSIS_READ_CHARACTERS
    from guideline.recognition.names import NAME_READ_CHARACTERS
    from guideline.result_words import VALUE_READ_CHARACTERS
    from guideline.uds_names import TEST_NAME_READ_CHARACTERS

    caps = {SIG_READ_CHARACTERS, DIAGNOSIS_READ_CHARACTERS, NAME_READ_CHARACTERS, VALUE_READ_CHARACTERS}
    assert caps | {TEST_NAME_READ_CHARACTERS} == {TEXT_READ_CHARACTERS}
