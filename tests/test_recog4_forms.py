"""Forms read by name: Talwin NX (pentazocine with naloxone) is an oral tablet, opium liquids are solutions, and
B&O Supprettes are belladonna and opium rectal suppositories."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import RXNORM, UCUM, med_request, run

from guideline.config import GuidelineConfig
from guideline.fhirdata import Coding, Concept
from guideline.recognition import Recognition, recognise
from guideline.record import ResolvedMedication
from guideline.terminology import load_terminology

TALWIN_NX_GENERIC = "312289"  # naloxone 0.5 MG / pentazocine 50 MG Oral Tablet
BO_60 = "312107"  # belladonna alkaloids 16.2 MG / opium 60 MG Rectal Suppository


def named(text: str, system: str | None = None, code: str | None = None) -> Recognition:
    """Text only, or (with a code) a coding with the name as its display, as claims and Epic send them."""
    concept = Concept(text=text) if system is None else Concept((Coding(system, code, text),))
    return recognise(ResolvedMedication(concept=concept), load_terminology(GuidelineConfig.from_mapping()))


def counted(order: dict[str, Any], *resources: dict[str, Any]):
    evaluation = run("order-sign", drafts=[order], resources=resources)
    (result,) = [o for o in evaluation.facts.mme.orders if o.order.id == order["id"]]
    return result


# ---- 3. Talwin NX and opium tincture forms --------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Talwin NX", "TALWIN NX TAB", "Talwin Nx oral tablet"])
def test_talwin_nx_by_brand_is_an_oral_tablet_with_naloxone(text: str) -> None:
    """Before: read by the drug table's Talwin (its only product an injection), so an injection with no factor."""
    recognition = named(text)
    assert recognition.form == "tablet", recognition.form
    assert set(recognition.ingredients) == {"pentazocine", "naloxone"}
    assert recognition.is_opioid


def test_talwin_nx_by_brand_with_its_strengths_counts_as_its_code_does() -> None:
    def tablet(concept: dict[str, Any]) -> dict[str, Any]:
        draft = med_request("0", id="tw", draft=True, frequency=1, period=6, period_unit="h", supply_days=5)
        draft["medicationCodeableConcept"] = concept
        return draft

    by_code = counted(tablet({"coding": [{"system": RXNORM, "code": TALWIN_NX_GENERIC}]}))
    by_brand = counted(tablet({"text": "TALWIN NX 50-0.5 MG PO TABS"}))
    assert by_code.state == "ok" and by_code.mme is not None
    assert by_brand.state == "ok", by_brand.explanation
    assert by_brand.mme == by_code.mme


@pytest.mark.parametrize(
    "text", ["opium tincture", "OPIUM TINCTURE 10 MG/ML PO TINC", "laudanum", "PAREGORIC 2 MG/5ML PO LIQD"]
)
def test_opium_liquids_are_a_solution_by_name(text: str) -> None:
    assert named(text).form == "solution"


# ---- 4. B&O Supprettes ----------------------------------------------------------------------------------------------


def suppository_order(concept: dict[str, Any]) -> dict[str, Any]:
    """ "Insert 1 suppository rectally once daily", 10 suppositories."""
    order = med_request("0", id="supp", draft=True, supply_days=10, quantity=10, unit="{suppository}")
    order["medicationCodeableConcept"] = concept
    instruction = order["dosageInstruction"][0]
    instruction["timing"] = {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}
    instruction["doseAndRate"] = [
        {"doseQuantity": {"value": 1, "unit": "suppository", "system": UCUM, "code": "{suppository}"}}
    ]
    return order


@pytest.mark.parametrize("text", ["B&O SUPPRETTES 16.2-60 MG", "B & O 16.2-60 MG RE SUPP"])
def test_b_and_o_supprettes_are_opium_suppositories(text: str) -> None:
    """Before: unidentified. 60 mg of powdered opium is 6 mg of morphine: 6 MME/day, as RxNorm's 312107 reads."""
    recognition = named(text)
    assert recognition.is_opioid, recognition.kind
    assert set(recognition.ingredients) == {"belladonna", "opium"}
    assert recognition.form == "suppository"
    by_name = counted(suppository_order({"text": text}))
    by_code = counted(suppository_order({"coding": [{"system": RXNORM, "code": BO_60}]}))
    assert by_name.state == "ok", by_name.explanation
    assert by_name.mme == by_code.mme == Decimal(6)
