"""Supplement brands and herbs a medication list names by brand or common name (Nephro-Vite, Ocuvite, PreserVision,
saw palmetto, fish oil) are read as the vitamins and supplements they are, by a row of a shipped table (the brand
table or the supplement words), never by guessing: not named unidentified beside every opioid order. A real opioid
beside or inside such a name is still the opioid, and an unknown word beside one still unidentified."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Concept
from guideline.recognition import Recognition, recognise
from guideline.recognition.lexicon import brands, supplements
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet

# As Epic's and Oracle's med lists and patients' reports name them, text only.
SUPPLEMENT_NAMES = [
    "NEPHRO-VITE RX 1 MG PO TABS",
    "Nephro-Vite Rx 1 mg tablet",
    "NEPHRO-VITE PO TABS",
    "OCUVITE PO TABS",
    "Ocuvite Lutein 6 mg capsule",
    "PRESERVISION AREDS 2 PO CAPS",
    "PreserVision AREDS tablet",
    "SAW PALMETTO 450 MG PO CAPS",
    "saw palmetto capsule",
    "FISH OIL 1000 MG PO CAPS",
    "Omega-3 Fish Oil 1,000 mg capsule",
]


def named(text: str) -> Recognition:
    return recognise(ResolvedMedication(concept=Concept(text=text)), load_terminology(GuidelineConfig.from_mapping()))


def test_the_rows_are_shipped() -> None:
    """Recognised by table rows, each tested: the brand table's three and the supplement word."""
    table = brands()
    assert {table[name].ingredients for name in ("nephro vite", "ocuvite", "preservision")} == {("multivitamin",)}
    assert {"saw palmetto", "fish oil"} <= supplements()


@pytest.mark.parametrize("text", SUPPLEMENT_NAMES)
def test_a_supplement_brand_is_read_not_relevant(text: str) -> None:
    # Before: unidentified ("could not be identified from its codes or its name"), but fish oil.
    recognition = named(text)
    assert (recognition.kind, recognition.how) == ("not-relevant", "name"), recognition
    assert not recognition.unread_ingredient


@pytest.mark.parametrize(
    "concept",
    [{"text": text} for text in SUPPLEMENT_NAMES]
    + [{"coding": [{"system": EPIC_MEDICATION, "code": "31174", "display": "OCUVITE PO TABS"}]}],
)
def test_beside_an_opioid_order_it_is_not_named(concept: dict[str, Any]) -> None:
    """Before: "Could not identify current medication OCUVITE PO TABS …: the MME total may be too low"."""
    listed = med_request("0", id="sup", authored=days_ago(30))
    listed["medicationCodeableConcept"] = concept
    evaluation = run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[listed])
    assert card(evaluation, "unidentified-medication") is None
    (dosed,) = [o for o in evaluation.facts.mme.orders if o.order.id == "ox1"]
    assert dosed.state == "ok", dosed.explanation


@pytest.mark.parametrize(
    ("text", "opioid"), [("OCUVITE/OXYCODONE 5 MG TABS", "oxycodone"), ("SAW PALMETTO/CODEINE 30 MG", "codeine")]
)
def test_an_opioid_beside_one_is_still_the_opioid(text: str, opioid: str) -> None:
    recognition = named(text)
    assert recognition.is_opioid, recognition.kind
    assert opioid in recognition.ingredients


@pytest.mark.parametrize("text", ["OCUVITE/ZZQ 5 MG", "SAW PALMETTO-XYLORAM 3 MG PO TABS"])
def test_an_unknown_word_beside_one_is_still_unidentified(text: str) -> None:
    assert named(text).kind == "unidentified"
