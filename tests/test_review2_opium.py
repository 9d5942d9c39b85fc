"""Review (session 22): opium tincture ordered in mg, as its label and Epic's order composer dose it ("6 mg
(0.6 mL) four times daily"): the mg of a dose of an opium liquid are its morphine, the label's strength."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import RXNORM, UCUM, card, days_ago, med_request, run

TINCTURE = ("830196", "opium tincture 100 MG/ML Oral Solution")


def mg_order(concept: dict[str, Any], mg: float = 6) -> dict[str, Any]:
    """A draft for "6 mg (0.6 mL) by mouth four times daily", 30 days (72 mL)."""
    order = med_request("0", id="tinc", draft=True, supply_days=30, quantity=72, unit="mL")
    order["medicationCodeableConcept"] = concept
    instruction = order["dosageInstruction"][0]
    instruction["text"] = f"{mg:g} mg by mouth four times daily"
    instruction["timing"] = {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}}
    instruction["doseAndRate"] = [{"doseQuantity": {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}}]
    return order


@pytest.mark.parametrize(
    "concept",
    [
        {"coding": [{"system": RXNORM, "code": TINCTURE[0], "display": TINCTURE[1]}]},
        {"text": "OPIUM TINCTURE 10 MG/ML PO TINC"},
        {"text": "laudanum 10 mg/mL oral solution"},
    ],
)
def test_opium_tincture_dosed_in_mg_is_its_morphine(concept: dict[str, Any]) -> None:
    """6 mg four times a day is 24 mg of morphine, 24 MME/day (read as 24 mg of opium it was 2.4)."""
    order = mg_order(concept)
    evaluation = run("order-sign", drafts=[order])
    (result,) = [o for o in evaluation.facts.mme.orders if o.order.id == "tinc"]
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(24), result.explanation
    assert "240 mg/day opium" in result.explanation
    assert any("dosed in mg of its morphine" in note for note in result.notes)


def test_opium_tincture_at_a_high_mg_dose_raises_the_high_dose_card() -> None:
    """25 mg four times a day is 100 mg of morphine a day: the high-dose card (at 10 MME/day it had none)."""
    order = mg_order({"text": "OPIUM TINCTURE 10 MG/ML PO TINC"}, mg=25)
    evaluation = run("order-sign", drafts=[order])
    assert card(evaluation, "high-mme") is not None


def test_a_cap_in_mg_on_opium_tincture_dosed_in_ml_is_mg_of_its_morphine() -> None:
    """0.6 mL four times a day with "no more than 24 mg a day" (maxDosePerPeriod, the label's morphine): the cap
    allows the 2.4 mL taken, 24 MME/day. Read as 24 mg of opium it capped the day at 0.24 mL, 2.4 MME/day."""
    order = med_request("0", id="tinc", draft=True, supply_days=30, quantity=72, unit="mL")
    order["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": TINCTURE[0], "display": TINCTURE[1]}]}
    instruction = order["dosageInstruction"][0]
    instruction["text"] = "0.6 mL (6 mg) by mouth four times daily; max 24 mg a day"
    instruction["timing"] = {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}}
    instruction["doseAndRate"] = [{"doseQuantity": {"value": 0.6, "unit": "mL", "system": UCUM, "code": "mL"}}]
    instruction["maxDosePerPeriod"] = {
        "numerator": {"value": 24, "unit": "mg", "system": UCUM, "code": "mg"},
        "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"},
    }
    evaluation = run("order-sign", drafts=[order])
    (result,) = [o for o in evaluation.facts.mme.orders if o.order.id == "tinc"]
    assert result.state == "ok", result.explanation
    assert result.mme == Decimal(24), result.explanation


def test_the_supply_of_opium_tincture_dosed_in_mg_is_its_ml() -> None:
    """72 mL of the tincture at 6 mg (0.6 mL) four times a day lasts 30 days: written 40 days ago with no days'
    supply, it has run out and is not today's dose. Read as 0.06 mL a dose it lasted 300 days and counted today."""
    order = mg_order({"coding": [{"system": RXNORM, "code": TINCTURE[0], "display": TINCTURE[1]}]})
    order.update(id="old", status="active", authoredOn=days_ago(40))
    del order["dispenseRequest"]["expectedSupplyDuration"]
    evaluation = run("patient-view", resources=[order])
    assert evaluation.facts.mme.total == 0
    assert not [o for o in evaluation.facts.mme.orders if o.order.id == "old" and o.state == "ok"]
