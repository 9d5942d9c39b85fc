"""The sentence helpers every face shares (`guideline.words`)."""

from __future__ import annotations

import re
from pathlib import Path

from guideline.fhirdata import Coding, Concept
from guideline.words import TEXT_READ_CHARACTERS, and_list, capitalised, clip, longest_not_read, number_of


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


def test_the_free_text_cap_and_the_quoting_limit_have_one_name_each() -> None:
    # A module's own name for one of them (as `dosage.SIG_READ_CHARACTERS` was) reads as a limit of its own, one a
    # change could set apart from the others.
    guideline = Path(__file__).resolve().parents[1] / "guideline"
    aliases = re.compile(r"^\w+(?:: [\w\[\]]+)? = (?:words\.)?(?:TEXT_READ|QUOTED)_CHARACTERS\b", re.MULTILINE)
    assert [str(path) for path in guideline.rglob("*.py") if aliases.search(path.read_text(encoding="utf-8"))] == []


def caps(concept: Concept) -> list[int | None]:
    """What each free-text cap says of a concept: as a diagnosis, as a test's name, as a sig's timing code, and each
    of its names as a medication's."""
    from guideline.dosage import sig_length_not_read
    from guideline.recognition.diagnoses import words_not_read
    from guideline.recognition.names import name_not_read
    from guideline.record.model import Dosage
    from guideline.uds_names import long_test_name

    names = [concept.text or "", *(coding.display or "" for coding in concept.codings)]
    return [
        words_not_read(concept),
        long_test_name(concept),
        sig_length_not_read(Dosage(text="1 tab by mouth daily", timing_code=concept)),
        max(map(name_not_read, names), key=lambda length: length or 0),
    ]


def test_every_cap_measures_the_longest_single_text_it_reads() -> None:
    # Epic sends a name as a concept's text and again as its coding's display: measured by their sum (a test's name)
    # or the line a reader joins them into (a diagnosis), a name of 1,500 characters was read as a medication and a
    # sig, and not as a diagnosis or a test.
    name = "Metastatic pancreatic adenocarcinoma " + "see attached note " * 81
    local = "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.68"  # a site's own code: read by its words
    assert caps(Concept((Coding(local, "L1", name),), name)) == [None] * 4
    longer = "x" * (TEXT_READ_CHARACTERS + 1)
    assert caps(Concept((Coding(local, "L1", name),), longer)) == [TEXT_READ_CHARACTERS + 1] * 4


def test_a_name_clipped_at_a_word_ends_after_its_last_whole_word() -> None:
    name = "Oxycodone [Presence] in Urine by Screen method see attached report"
    assert clip(name, 40, at_word=True) == "Oxycodone [Presence] in Urine by Screen…"
    assert clip(name, 39, at_word=True) == "Oxycodone [Presence] in Urine by…"
    assert clip(name, len(name), at_word=True) == name
    assert clip("x" * 50, 10, at_word=True) == "x" * 9 + "…"  # no word to end at: cut where it stands
