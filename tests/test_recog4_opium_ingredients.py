"""An Epic Medication whose ingredient list names opium and the morphine it holds counts the morphine once."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import RXNORM, UCUM, med_request, run

EPIC_MEDICATION = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"
OPIUM, MORPHINE = "7676", "7052"  # RxNorm ingredients


def counted(order: dict[str, Any], *resources: dict[str, Any]):
    evaluation = run("order-sign", drafts=[order], resources=resources)
    (result,) = [o for o in evaluation.facts.mme.orders if o.order.id == order["id"]]
    return result


# ---- 5. an Epic Medication listing opium and its morphine -----------------------------------------------------------


def _paregoric(opium_strength: bool) -> dict[str, Any]:
    """Paregoric (camphorated opium tincture, 2 mg anhydrous morphine per 5 mL) as an Epic Medication whose ingredient
    list names the opium and the morphine it holds."""

    def per_5_ml(mg: float) -> dict[str, Any]:
        return {
            "numerator": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"},
            "denominator": {"value": 5, "unit": "mL", "system": UCUM, "code": "mL"},
        }

    opium: dict[str, Any] = {"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": OPIUM, "display": "opium"}]}}
    if opium_strength:
        opium["strength"] = per_5_ml(2)  # as the label states it, by its morphine
    morphine = {
        "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": MORPHINE, "display": "morphine"}]},
        "strength": per_5_ml(2),
    }
    return {
        "resourceType": "Medication",
        "id": "epic-paregoric",
        "code": {"coding": [{"system": EPIC_MEDICATION, "code": "4512", "display": "PAREGORIC 2 MG/5ML PO LIQD"}]},
        "ingredient": [opium, morphine],
    }


@pytest.mark.parametrize("opium_strength", [True, False])
def test_opium_and_its_morphine_listed_count_the_morphine_once(opium_strength: bool) -> None:
    """5 mL four times a day of paregoric is 8 mg of morphine: 8 MME/day (before: the opium and the morphine each
    counted, 16; or, the opium listed with no strength, no MME at all)."""
    order = med_request("0", id="par", draft=True, supply_days=10, quantity=200, unit="mL")
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/epic-paregoric", "display": "PAREGORIC 2 MG/5ML PO LIQD"}
    instruction = order["dosageInstruction"][0]
    instruction["timing"] = {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}}
    instruction["doseAndRate"] = [{"doseQuantity": {"value": 5, "unit": "mL", "system": UCUM, "code": "mL"}}]
    result = counted(order, _paregoric(opium_strength))
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(8)
    assert [i.rxcui for i in result.ingredients] == [OPIUM]


def test_opium_and_its_morphine_listed_are_one_opioid_to_recognition() -> None:
    """The class and sets read one ingredient, opium, as the MME does (it listed opium and morphine)."""
    from builders import TZ

    from guideline.config import GuidelineConfig
    from guideline.recognition import recognise
    from guideline.record import build_record
    from guideline.terminology import load_terminology

    order = med_request("0", id="par")
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/epic-paregoric"}
    record = build_record([_paregoric(False), order, {"resourceType": "Patient", "id": "p1"}], TZ)
    (medication,) = [o.medication for o in record.orders if o.id == "par"]
    recognition = recognise(medication, load_terminology(GuidelineConfig.from_mapping()))
    assert recognition.is_opioid
    assert recognition.ingredients == ("opium",)
