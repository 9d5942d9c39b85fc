"""Names with brackets stacked in them read as the one product they name: a brand with its generic and strengths in
brackets ("Percocet [oxycodone 5 mg / APAP 325 mg] [Endo]") gets the bracket's strengths, and an RxNorm pack ("{2
(…) } Pack [Brand]") is the product its parts are, never the parts read as one tablet of two salts added up."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Concept
from guideline.recognition import Recognition, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology


def named(text: str) -> Recognition:
    return recognise(ResolvedMedication(concept=Concept(text=text)), load_terminology(GuidelineConfig.from_mapping()))


def current(text: str) -> dict[str, Any]:
    """A current order known by its text: 1 every 6 hours (4 a day)."""
    order = med_request("0", id="br", authored=days_ago(5))
    order["medicationCodeableConcept"] = {"text": text}
    return order


def strengths(recognition: Recognition) -> dict[str, Decimal]:
    return {s.ingredient: s.mg for s in recognition.strengths}


# A brand, then its generic with each strength in brackets, then the maker or the form in more brackets.
BRAND_WITH_ITS_GENERIC = [
    ("Percocet [oxycodone 5 mg / APAP 325 mg] [Endo]", "oxycodone", "5", "30.0"),
    ("PERCOCET [OXYCODONE HCL 5 MG/ACETAMINOPHEN 325 MG] TABLET [ENDO]", "oxycodone", "5", "30.0"),
    ("Percocet [Endo] [oxycodone 5 mg / APAP 325 mg]", "oxycodone", "5", "30.0"),
    ("Roxicet [oxycodone 5 mg/APAP 325 mg] [Roxane] [tablet]", "oxycodone", "5", "30.0"),
    ("Norco [hydrocodone bitartrate 10 mg / acetaminophen 325 mg]", "hydrocodone", "10", "40"),
    ("Tylenol with Codeine #3 [acetaminophen 300 mg / codeine 30 mg] [Janssen]", "codeine", "30", "18.00"),
]


@pytest.mark.parametrize(("text", "opioid", "mg", "mme"), BRAND_WITH_ITS_GENERIC)
def test_a_brand_with_its_generic_in_brackets_reads_the_brackets_strengths(
    text: str, opioid: str, mg: str, mme: str
) -> None:
    """Before: the brand's ingredients stood where the brand is written, so the bracket's first strength followed two
    ingredients and neither was given one: an opioid "whose strength is missing", its MME unknown."""
    recognition = named(text)
    assert recognition.kind == "opioid-by-name", recognition.kind
    assert strengths(recognition)[opioid] == Decimal(mg)
    (order,) = run("patient-view", resources=[current(text)]).facts.mme.orders
    assert order.state == "ok" and order.mme == Decimal(mme), order.explanation


@pytest.mark.parametrize(
    "text",
    [
        "Percocet 10 mg (oxycodone)",  # the bracket names the opioid, with no strength: which is whose is unknown
        "Percocet [Endo]",
    ],
)
def test_a_bracket_that_gives_no_strength_guesses_none(text: str) -> None:
    recognition = named(text)
    assert recognition.kind == "opioid-no-mme"
    assert recognition.strengths == ()


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("{2 (oxycodone hydrochloride 5 MG / acetaminophen 325 MG Oral Tablet) } Pack", "opioid-by-name", "5"),
        ("{60 (oxycodone hydrochloride 5 MG Oral Tablet) } Pack [Roxicodone]", "opioid-by-name", "5"),
        # the brand's "1200 MCG" is the pack's total, no strength of a spray
        ("{2 (fentanyl 0.6 MG/ACTUAT Mucosal Spray [Subsys]) } Pack [Subsys 1200 MCG]", "opioid-by-name", "0.6"),
        ("{28 (buprenorphine 2 MG / naloxone 0.5 MG Sublingual Tablet) } Pack [Suboxone]", "moud", "2"),
    ],
)
def test_a_pack_of_one_product_is_that_product(text: str, kind: str, expected: str) -> None:
    recognition = named(text)
    assert recognition.kind == kind
    opioid = next(name for name in recognition.ingredients if name in ("oxycodone", "fentanyl", "buprenorphine"))
    assert strengths(recognition)[opioid] == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "ingredients"),
    [
        ("{1 (morphine sulfate 15 MG Oral Tablet) / 2 (morphine sulfate 30 MG Oral Tablet) } Pack", {"morphine"}),
        ("{7 (tapentadol 50 MG Oral Tablet) / 7 (tapentadol 100 MG Oral Tablet) } Pack", {"tapentadol"}),
        (
            "{10 (alprazolam 0.5 MG Oral Tablet) / 10 (oxycodone hydrochloride 5 MG Oral Tablet) } Pack",
            {"alprazolam", "oxycodone"},
        ),
    ],
)
def test_a_pack_of_different_products_gives_no_one_strength(text: str, ingredients: set[str]) -> None:
    """Before: the morphine pack read as one tablet of 15 + 30 = 45 mg (two salts of one drug added up), and the
    mixed pack as a tablet holding both. Which of its tablets a dose is cannot be told: the dose is unknown, named."""
    recognition = named(text)
    assert recognition.kind == "opioid-no-mme", recognition.kind
    assert set(recognition.ingredients) == ingredients
    assert recognition.strengths == ()


def test_a_pack_of_a_non_opioid_stays_not_relevant() -> None:
    recognition = named("{6 (methylprednisolone 4 MG Oral Tablet) / 5 (methylprednisolone 4 MG Oral Tablet) } Pack")
    assert recognition.kind == "not-relevant"
