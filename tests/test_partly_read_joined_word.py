"""A combination name with one strength, one of whose joined ingredient words PainPlan does not know ("alprazolam /
XYZ-unknown 1 mg"), is named as partly read: what was read keeps its class, and no dose is guessed for an opioid."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Concept
from guideline.recognition import partly_read, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import BENZO, OPIOID, load_terminology

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"  # an Epic site's own medication records (ERX)
CHECK = "opioid-benzodiazepine"
BENZO_NAME = "alprazolam / XYZ-unknown 1 mg"
OPIOID_NAME = "oxycodone / Foo 5 mg"


def text_only(name: str) -> dict[str, Any]:
    """A medication known by its text alone, as a free-text or historical order carries it."""
    return {"text": name}


def epic_local(name: str) -> dict[str, Any]:
    """A medication known by an Epic site's own code, with its name as display and text (no RxNorm)."""
    return {"coding": [{"system": EPIC_MEDICATION, "code": "208771", "display": name}], "text": name}


def ordered(concept: dict[str, Any], *, draft: bool = False, id: str = "named") -> dict[str, Any]:
    request = med_request("0", draft=draft, id=id, authored=None if draft else days_ago(5))
    request["medicationCodeableConcept"] = concept
    return request


def terms():
    return load_terminology(GuidelineConfig.from_mapping({}))


def medication(name: str) -> ResolvedMedication:
    return ResolvedMedication(concept=Concept((), name))


def test_a_benzodiazepine_beside_an_unknown_joined_word_is_counted_and_partly_read() -> None:
    # Before: read as alprazolam alone, nothing said of "XYZ-unknown".
    recognition = recognise(medication(BENZO_NAME), terms())
    assert (recognition.kind, recognition.unread_ingredient) == ("benzodiazepine", True)
    assert partly_read(recognition) == "read as alprazolam; another ingredient in its name was not recognised"
    assert terms().medication_in(BENZO, medication(BENZO_NAME))


@pytest.mark.parametrize("name", ["alprazolam-XYZ 1 mg", "ALPRAZOLAM/XYZUNKNOWN TAB 1MG", "alprazolam 1 mg / xyz 5 mg"])
def test_the_unknown_word_is_found_however_the_name_joins_it(name: str) -> None:
    assert recognise(medication(name), terms()).unread_ingredient


def test_an_opioid_beside_an_unknown_joined_word_keeps_its_class_and_guesses_no_dose() -> None:
    """The 5 mg follows the unknown word: it may be that ingredient's, so no MME is worked out from it."""
    recognition = recognise(medication(OPIOID_NAME), terms())
    assert (recognition.kind, recognition.strengths, recognition.unread_ingredient) == ("opioid-no-mme", (), True)
    assert terms().medication_in(OPIOID, medication(OPIOID_NAME))


@pytest.mark.parametrize("shape", [text_only, epic_local], ids=["text", "epic"])
def test_the_card_names_the_unread_part_of_an_active_benzodiazepine(shape) -> None:
    drafts = [med_request(OXYCODONE, draft=True, id="ox1")]
    found = card(run("order-sign", drafts=drafts, resources=[ordered(shape(BENZO_NAME))]), CHECK)
    assert found is not None and found.facts["variant"] == "benzo"
    line = f"{BENZO_NAME} (active, written 2026-06-10; read as alprazolam; another ingredient in its name was not"
    assert line in found.detail


@pytest.mark.parametrize("shape", [text_only, epic_local], ids=["text", "epic"])
def test_a_drafted_opioid_with_an_unknown_joined_word_is_named_and_its_dose_not_guessed(shape) -> None:
    lorazepam = med_request(LORAZEPAM, id="lor", authored=days_ago(10))
    evaluation = run("order-sign", drafts=[ordered(shape(OPIOID_NAME), draft=True)], resources=[lorazepam])
    found = card(evaluation, CHECK)
    assert found is not None
    assert f"{OPIOID_NAME} (new order; read as oxycodone; another ingredient in its name was not recognised)" in (
        found.detail
    )
    dose = card(evaluation, "high-mme")
    assert dose is not None and "could not be fully calculated" in dose.summary
    assert f"{OPIOID_NAME}: another ingredient in its name was not recognised, so which strength" in dose.detail


def test_an_ingredient_beside_an_unknown_joined_word_sold_with_opioids_is_unidentified() -> None:
    """The unknown word beside acetaminophen may be the opioid: named, never not relevant."""
    recognition = recognise(medication("acetaminophen / Foo 325 mg"), terms())
    assert (recognition.kind, recognition.unread_ingredient) == ("unidentified", True)
    evaluation = run(
        "order-sign",
        drafts=[med_request(OXYCODONE, draft=True, id="ox1")],
        resources=[ordered(text_only("acetaminophen / Foo 325 mg"))],
    )
    unidentified = card(evaluation, "unidentified-medication")
    assert unidentified is not None and "acetaminophen / Foo 325 mg" in unidentified.detail


@pytest.mark.parametrize(
    "name",
    [
        "oxycodone 5 mg/acetaminophen 325 mg tablet",
        "HYDROcodone-acetaminophen (NORCO) 5-325 mg per tablet",
        "Hydrocodone Bitartrate/Acetaminophen 5-325",
        "oxyCODONE HCl 5 mg/5 mL oral solution",
        "morphine ER 15 mg extended-release tablet",
        "fentaNYL 25 mcg/hr patch",
        "naloxone 4 mg/actuation nasal spray",
        "naloxone 5 mg/0.5 mL auto-injector",
        "BELLADONNA ALKALOIDS/OPIUM 16.2-30 MG SUPP",
        "butalbital-APAP-caffeine 50-325-40",
        "Tylenol w/ Codeine #3",
        "acetaminophen 325 mg 1-2 tabs PO q4h prn pain/fever",  # a sig's words after the strength
        "dipipanone 10 MG / cyclizine 30 MG Oral Tablet",
        "fentaNYL-bupivacaine-NaCl (PF) 2 mcg/mL-0.125 % epidural",  # an infusion's diluent is no ingredient
        "bupivacaine-EPINEPHrine 0.25 %-1:200,000 injection",
        "phenobarbital 16.2 MG / hyoscyamine sulfate 0.1037 MG / atropine sulfate 0.0194 MG / scopolamine "
        "hydrobromide 0.0065 MG Oral Tablet",
    ],
)
def test_a_name_whose_joined_words_are_all_known_is_read_whole(name: str) -> None:
    assert not recognise(medication(name), terms()).unread_ingredient


def test_an_unknown_word_before_the_known_one_is_found_too() -> None:
    assert recognise(medication("Xyzfoo-oxycodone 5 mg"), terms()).unread_ingredient
