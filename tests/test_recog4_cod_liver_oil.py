"""Cod liver oil is a supplement read whole, not an unidentified medication named beside every opioid order;
"COD" cut from codeine is still codeine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import card, days_ago, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Coding, Concept
from guideline.recognition import Recognition, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def named(text: str, system: str | None = None, code: str | None = None) -> Recognition:
    """Text only, or (with a code) a coding with the name as its display, as claims and Epic send them."""
    concept = Concept(text=text) if system is None else Concept((Coding(system, code, text),))
    return recognise(ResolvedMedication(concept=concept), load_terminology(GuidelineConfig.from_mapping()))


def active(concept: dict[str, Any], id: str = "cur") -> dict[str, Any]:
    order = med_request("0", id=id, authored=days_ago(5))
    order["medicationCodeableConcept"] = concept
    return order


def counted(order: dict[str, Any], *resources: dict[str, Any]):
    evaluation = run("order-sign", drafts=[order], resources=resources)
    (result,) = [o for o in evaluation.facts.mme.orders if o.order.id == order["id"]]
    return result


# ---- 1. cod liver oil ----------------------------------------------------------------------------------------------

COD_LIVER_OIL = [
    {"text": "COD LIVER OIL PO CAPS"},  # Epic's patient-reported supplement, text only
    {"coding": [{"system": NDC, "code": "00904532060", "display": "COD LIVER OIL 1,250 UNIT CAPSULE"}]},
    {"coding": [{"system": EPIC_MEDICATION, "code": "77881", "display": "cod liver oil liquid"}]},
]


@pytest.mark.parametrize("concept", COD_LIVER_OIL)
def test_cod_liver_oil_beside_an_opioid_order_is_not_named(concept: dict[str, Any]) -> None:
    """Before: "Could not identify current medication COD LIVER OIL …: the MME total may be too low" on every
    opioid order, a card a clinician learns to ignore."""
    evaluation = run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1")], resources=[active(concept)])
    assert card(evaluation, "unidentified-medication") is None
    assert evaluation.facts.unidentified_named(evaluation.facts.unidentified_current_orders, "fill") == []


@pytest.mark.parametrize("text", ["COD LIVER OIL", "COD LIVER OIL 1,000 MG CAPSULE", "Cod Liver Oil Oral Liquid"])
def test_cod_liver_oil_is_a_supplement_read_whole(text: str) -> None:
    recognition = named(text)
    assert recognition.kind == "not-relevant", recognition.kind
    assert not recognition.unread_ingredient
    assert "codeine" not in recognition.ingredients


@pytest.mark.parametrize(
    ("text", "mme"),
    [("APAP/COD 300-30 TAB", Decimal("18.0")), ("ACETAMINOPHEN-COD #3", Decimal("18.0"))],
)
def test_cod_cut_from_codeine_is_still_codeine(text: str, mme: Decimal) -> None:
    draft = med_request("0", id="tab", draft=True, frequency=1, period=6, period_unit="h", supply_days=5, quantity=20)
    draft["medicationCodeableConcept"] = {"coding": [{"system": NDC, "code": "00093035001", "display": text}]}
    result = counted(draft)
    assert result.state == "ok", result.explanation
    assert result.mme == mme


def test_a_cod_cut_name_beside_an_unread_word_is_still_codeine() -> None:
    """COD beside acetaminophen is codeine even when another word goes unread: an opioid whose dose is not guessed."""
    recognition = named("APAP/COD/XYLOPRIN 300-30-5 TAB")
    assert recognition.is_opioid and "codeine" in recognition.ingredients
    assert recognition.unread_ingredient and not recognition.strengths


@pytest.mark.parametrize("text", ["COD-LIVER OIL CAPSULE", "Cod-Liver Oil/Acetaminophen"])
def test_cod_liver_oil_written_with_a_hyphen_is_no_codeine(text: str) -> None:
    """Before: "COD-" beside acetaminophen was spelt codeine, an opioid whose dose is unknown."""
    recognition = named(text)
    assert not recognition.is_opioid, recognition.kind
    assert "codeine" not in recognition.ingredients
    assert "cod liver oil" in recognition.ingredients
    assert not recognition.unread_ingredient  # "cod-liver" joins two words of the supplement's name
