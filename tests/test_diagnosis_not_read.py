"""A problem-list entry written in words far longer than any diagnosis's (a note pasted in, a garbled or hostile feed)
is not read by its words: no condition is read from it (a part could name a cancer the rest calls a history), and it
is named (`diagnoses-not-read`), not among the diagnoses whose words named nothing; an entry of a diagnosis's length
reads as before."""

from __future__ import annotations

from typing import Any

from builders import NOW, SNOMED, condition, med_request, padded, run

from guideline.fhirdata import Coding, Concept
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan
from guideline.recognition.diagnoses import unread_diagnosis
from guideline.words import TEXT_READ_CHARACTERS

OXYCODONE = "1049621"
NOT_READ = "diagnoses-not-read"
UNREAD = "unread-conditions"
CANCER = "Metastatic pancreatic adenocarcinoma"
EPIC_PROBLEM = "urn:oid:1.2.840.114350.1.13.0.1.7.2.696580"  # a site's own problem-list code system


def entry(words: str, display: str | None = None) -> dict[str, Any]:
    """An active problem-list entry written in words alone (an outside record's, no code), or, given a `display`,
    under a site's own code named so (as Epic sends an entry of its own problem list, no SNOMED CT or ICD-10-CM)."""
    resource = condition(SNOMED, "0", id="c-words")
    resource["code"] = {"text": words}
    if display is not None:
        resource["code"]["coding"] = [{"system": EPIC_PROBLEM, "code": "987654", "display": display}]
    return resource


def sign(words: str, display: str | None = None) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The exclusions on order-sign of an opioid beside an entry of `words` (under a code named `display`, if given),
    and what the two kinds name, each checked against the plan page's list of it."""
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    evaluation = run("order-sign", drafts=[draft], resources=[entry(words, display)])
    page = build_plan(evaluation, (), evaluation.facts.config, NOW).named
    named = {}
    for kind in NAMED_GAPS:
        if kind.key in (NOT_READ, UNREAD):
            named[kind.key] = kind.items(evaluation.facts)
            assert page.get(kind.key, ()) == named[kind.key]
    return [f.name for f in evaluation.facts.exclusions], named


def test_an_entry_of_a_diagnosis_length_is_read_by_its_words() -> None:
    assert sign(padded(CANCER, TEXT_READ_CHARACTERS)) == (["active_cancer"], {NOT_READ: (), UNREAD: ()})


def test_an_entry_sent_as_its_text_and_its_codes_name_is_measured_by_the_longer_not_both() -> None:
    # Each of its words is of a diagnosis's length: measured together, the entry ran past the cap and was not read,
    # where the same words as a medication's or a test's name were.
    words = padded(CANCER, 1_200)
    assert sign(words, display=words) == (["active_cancer"], {NOT_READ: (), UNREAD: ()})


def test_an_entry_longer_than_any_diagnosis_is_not_read_and_is_named_with_its_length() -> None:
    exclusions, named = sign(padded(CANCER, 1_000_000))
    assert exclusions == []
    assert named[UNREAD] == ()
    assert named[NOT_READ] == (
        "Metastatic pancreatic adenocarcinoma see attached report see attached report see attached report see attached "
        "report see attached report see attached… "
        "(condition c-words, its words (1,000,000 characters) are longer than any diagnosis's and were not read)",
    )


def test_an_entry_unread_by_its_words_is_one_of_a_diagnosis_length_that_names_nothing() -> None:
    nothing = "Knee pain"
    assert unread_diagnosis(None)  # no code and no words: named, as "a diagnosis with no code or text"
    assert unread_diagnosis(Concept((), padded(nothing, TEXT_READ_CHARACTERS)))
    assert not unread_diagnosis(Concept((), padded(CANCER, TEXT_READ_CHARACTERS)))  # names a cancer
    assert not unread_diagnosis(Concept((), padded(nothing, TEXT_READ_CHARACTERS + 1)))  # diagnoses-not-read
    assert not unread_diagnosis(Concept((Coding(SNOMED, "30989003", nothing),)))  # read by its code
