"""Common supplements and vitamins on a medication list are read as the non-opioid ingredients they are, not named
unidentified beside every opioid order; a real opioid beside or inside such a name is still the opioid."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Concept
from guideline.recognition import Recognition, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
HYDROCODONE_APAP = "856999"  # hydrocodone bitartrate 10 MG / acetaminophen 325 MG Oral Tablet

# Epic's and Oracle's med-list texts for patient-reported supplements and vitamins, as they arrive text only.
SUPPLEMENTS = [
    "FISH OIL 1000 MG PO CAPS",
    "OMEGA-3 FATTY ACIDS 1000 MG PO CAPS",
    "MULTIVITAMIN PO TABS",
    "MULTIPLE VITAMINS-MINERALS PO TABS",
    "VITAMIN D3 50 MCG (2000 UT) PO CAPS",
    "VITAMIN B-12 1000 MCG PO TABS",
    "VITAMIN C 500 MG PO TABS",
    "MELATONIN 3 MG PO TABS",
    "FERROUS SULFATE 325 (65 FE) MG PO TABS",
    "POTASSIUM CHLORIDE ER 20 MEQ PO TBCR",
    "FOLIC ACID 1 MG PO TABS",
    "MAGNESIUM OXIDE 400 MG PO TABS",
    "PROBIOTIC PO CAPS",
    "GLUCOSAMINE-CHONDROITIN PO TABS",
    "COENZYME Q10 100 MG PO CAPS",
    "TURMERIC PO CAPS",
    "ZINC SULFATE 220 MG PO CAPS",
    "BIOTIN 5 MG PO TABS",
    "CALCIUM CARBONATE-VITAMIN D 600-400 MG-UNIT PO TABS",
    # the same supplements as other lists write them
    "OMEGA-3 1000 MG PO CAPS",
    "PRENATAL VITAMINS PO TABS",
    "PRENATAL VITAMIN PLUS LOW IRON 27-1 MG PO TABS",
    "ascorbic acid 500 mg tablet",
]


def named(text: str) -> Recognition:
    """A medication known by its text alone."""
    return recognise(ResolvedMedication(concept=Concept(text=text)), load_terminology(GuidelineConfig.from_mapping()))


def on_the_list(concept: dict[str, Any], id: str) -> dict[str, Any]:
    order = med_request("0", id=id, authored=days_ago(30))
    order["medicationCodeableConcept"] = concept
    return order


@pytest.mark.parametrize("text", SUPPLEMENTS)
def test_a_supplement_is_read_not_relevant(text: str) -> None:
    recognition = named(text)
    assert recognition.kind == "not-relevant", (recognition.kind, recognition.ingredients)
    assert not recognition.unread_ingredient
    assert not recognition.is_opioid


@pytest.mark.parametrize(
    "concept",
    [{"text": text} for text in SUPPLEMENTS]
    + [
        # Epic's own medication code, unknown to PainPlan, with the supplement's name as its display
        {"coding": [{"system": EPIC_MEDICATION, "code": "40854", "display": "FISH OIL 1000 MG PO CAPS"}]},
    ],
)
def test_a_supplement_beside_an_opioid_order_is_not_named(concept: dict[str, Any]) -> None:
    """Before: "Could not identify current medication FISH OIL 1000 MG PO CAPS …: the MME total may be too low" on
    every opioid order of a patient taking it, a card clinicians learn to ignore."""
    evaluation = run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[on_the_list(concept, "sup")]
    )
    assert card(evaluation, "unidentified-medication") is None
    assert evaluation.facts.unidentified_named(evaluation.facts.unidentified_current_orders, "fill") == []
    (dosed,) = [o for o in evaluation.facts.mme.orders if o.order.id == "ox1"]
    assert dosed.state == "ok", dosed.explanation


def test_a_real_opioid_on_the_same_list_is_still_dosed() -> None:
    supplements = [on_the_list({"text": text}, f"sup{i}") for i, text in enumerate(SUPPLEMENTS)]
    current = med_request(HYDROCODONE_APAP, id="hc", authored=days_ago(10), frequency=4, supply_days=30, quantity=120)
    evaluation = run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[*supplements, current]
    )
    assert card(evaluation, "unidentified-medication") is None
    (counted,) = [o for o in evaluation.facts.mme.orders if o.order.id == "hc"]
    assert counted.state == "ok", counted.explanation
    assert counted.mme is not None and counted.mme > 0


@pytest.mark.parametrize(
    ("text", "opioid"),
    [
        ("FISH OIL/CODEINE PHOSPHATE 30 MG TABS", "codeine"),
        ("MULTIVITAMIN WITH CODEINE 10 MG/5ML SYRP", "codeine"),
        ("VITAMIN K/OXYCODONE", "oxycodone"),  # "VITAMIN" must not carry the oxycodone off
        ("VITAMIN/OXYCODONE 5 MG TABS", "oxycodone"),
    ],
)
def test_a_name_with_a_supplement_word_and_an_opioid_is_still_the_opioid(text: str, opioid: str) -> None:
    recognition = named(text)
    assert recognition.is_opioid, recognition.kind
    assert opioid in recognition.ingredients


@pytest.mark.parametrize("text", ["FISH OIL/ZZQ 5 MG", "MELATONIN-XYLORAM 3 MG PO TABS", "VITAMIN D/ZZQ 5 MG"])
def test_an_unknown_word_beside_a_supplement_is_still_unidentified(text: str) -> None:
    """A known word does not make the rest of the name read."""
    recognition = named(text)
    assert recognition.kind == "unidentified", (recognition.kind, recognition.ingredients)


def test_a_vitamin_letter_is_not_a_known_word_alone() -> None:
    """ "C" after a cut codeine partner may still begin codeine: the letter of "VITAMIN C" is known only there."""
    recognition = named("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C")
    assert recognition.cut_opioids == ("codeine",)
