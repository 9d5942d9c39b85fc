"""A vitamin's number belongs to its name ("VITAMIN B-6", "B-12", "B-COMPLEX"): read apart, "B" was no word and the
number a strength, so a med list's B vitamins were unidentified (or, in a combination, "may be an opioid") and named
beside every opioid order. Real opioid names, cut and abbreviated ones included, are still read as opioids, and a
name PainPlan does not know is still named."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Concept
from guideline.recognition import Recognition, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"

# B vitamins and other supplements as Epic and Oracle med lists, drug files (Medi-Span, First Databank) and patients'
# reported lists write them, text only.
VITAMINS = [
    "VITAMIN B-6",
    "VITAMIN B-6 50 MG PO TABS",
    "Vitamin B-12 1000 mcg",
    "VITAMIN B-12 1000 MCG SL TABS",
    "vitamin b 12",
    "Vitamin B-1 100 mg",
    "VITAMIN D-3 1000 UNITS PO CAPS",
    "Vitamin B-6-Vitamin B-12",
    "B-COMPLEX",
    "B-COMPLEX PO TABS",
    "B COMPLEX-C PO TABS",
    "B-COMPLEX WITH VITAMIN C",
    "Super B Complex",
    "B-12",
    "B12 1000 MCG",
    "B-6",
    "VIT B-12 TAB 1000MCG",
    "VIT D3 50 MCG",
    "FOLIC ACID-B6-B12 2.5-25-1 MG",
    "FOLIC ACID-VIT B6-VIT B12 2.5-25-2 MG PO TABS",
    "B-COMPLEX/C/FOLIC ACID TAB",
    "B COMPLEX-C-FOLIC ACID 1 MG PO CAPS",
    "Vitamin B complex-vitamin C-folic acid 0.8 mg tablet",
]

# Over-the-counter medicines patients report beside opioids (the laxatives above all), by brand only.
OTC_BRANDS = ["Colace 100 mg", "Senokot", "MiraLAX", "Tums", "Centrum Silver", "Zyrtec", "Claritin", "Pepcid"]

# Opioids as EHRs, drug files and claims write them, abbreviations and cut names included: each stays an opioid.
OPIOIDS = [
    ("oxyCODONE 5 MG PO TABS", "oxycodone"),
    ("HYDROCO/APAP TAB 5-325MG", "hydrocodone"),
    ("OXYCOD/APAP 5-325", "oxycodone"),
    ("HYDROMORPH 2 MG TAB", "hydromorphone"),
    ("TRAMAD 50 MG TAB", "tramadol"),
    ("APAP/COD 300-30 TAB", "codeine"),
    ("Tylenol #3", "codeine"),
    ("Percocet 5/325", "oxycodone"),
    ("B&O SUPPRETTES 16.2-60 MG", "opium"),
    ("MULTIVITAMIN WITH CODEINE 10 MG/5ML SYRP", "codeine"),
    ("VITAMIN B-12/OXYCODONE 5 MG TABS", "oxycodone"),
    ("B-COMPLEX/HYDROCODONE", "hydrocodone"),
]

# Names PainPlan does not know, a vitamin's word beside an unknown one included: each is still named.
UNKNOWN = ["B-XYZ 5 MG", "ZX-114 10 MG TABLET", "XYLORAM-B12 5 MG", "VITAMIN B12/ZZQ 5 MG", "B-COMPLEX/ZZQ 2-5-7 MG"]


def named(text: str) -> Recognition:
    """A medication known by its text alone."""
    return recognise(ResolvedMedication(concept=Concept(text=text)), load_terminology(GuidelineConfig.from_mapping()))


def on_the_list(concept: dict[str, Any], id: str) -> dict[str, Any]:
    order = med_request("0", id=id, authored=days_ago(30))
    order["medicationCodeableConcept"] = concept
    return order


@pytest.mark.parametrize("text", VITAMINS + OTC_BRANDS)
def test_a_vitamin_or_otc_medicine_is_read_not_relevant(text: str) -> None:
    recognition = named(text)
    assert recognition.kind == "not-relevant", (recognition.kind, recognition.ingredients)
    assert not recognition.unread_ingredient


@pytest.mark.parametrize(
    "concept",
    [{"text": text} for text in VITAMINS]
    + [{"coding": [{"system": EPIC_MEDICATION, "code": "2231", "display": "FOLIC ACID-B6-B12 2.5-25-1 MG"}]}],
)
def test_a_vitamin_beside_an_opioid_order_is_not_named(concept: dict[str, Any]) -> None:
    """Before: "Could not identify current medication B-COMPLEX …: the MME total may be too low", and "FOLIC
    ACID-B6-B12 2.5-25-1 MG" named "(it may be an opioid)", on every opioid order."""
    evaluation = run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[on_the_list(concept, "vit")]
    )
    assert card(evaluation, "unidentified-medication") is None
    (dosed,) = [o for o in evaluation.facts.mme.orders if o.order.id == "ox1"]
    assert dosed.state == "ok", dosed.explanation


def test_the_vitamins_number_is_no_strength() -> None:
    """ "B-12 1000 mcg" is 1 mg of vitamin B12; the 12 was read as a number of the name's strengths."""
    b12 = named("Vitamin B-12 1000 mcg")
    assert b12.ingredients == ("vitamin b12",)
    assert [(s.ingredient, s.mg) for s in b12.strengths] == [("vitamin b12", Decimal("1"))]
    combination = named("FOLIC ACID-B6-B12 2.5-25-1 MG")
    assert combination.ingredients == ("folic acid", "vitamin b6", "vitamin b12")
    assert [s.mg for s in combination.strengths] == [Decimal("2.5"), Decimal("25"), Decimal("1")]


@pytest.mark.parametrize(("text", "opioid"), OPIOIDS)
def test_an_opioid_name_is_still_an_opioid(text: str, opioid: str) -> None:
    recognition = named(text)
    assert recognition.is_opioid, (recognition.kind, recognition.ingredients)
    assert opioid in recognition.ingredients


@pytest.mark.parametrize("text", UNKNOWN)
def test_a_name_nobody_knows_is_still_named(text: str) -> None:
    recognition = named(text)
    assert recognition.kind == "unidentified", (recognition.kind, recognition.ingredients)


def test_a_lone_vitamin_letter_still_may_begin_a_cut_opioid() -> None:
    """Only a letter with its number is a vitamin's word alone: the "C" of a cut Fioricet name may begin codeine."""
    assert named("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C").cut_opioids == ("codeine",)
