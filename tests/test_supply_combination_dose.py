"""Days' supply of a combination product (Percocet, oxycodone/acetaminophen 5/325) whose dose is sent in mg.

Some EHRs send the dose of a combination tablet as its acetaminophen amount ("650 mg"). The supply worked out from
the dispense quantity must read that dose as the MME does (650 mg of Percocet 5/325 is 2 tablets). Divided by the
oxycodone strength it was 130 tablets a dose, so 60 tablets lasted under a day: a current order dropped out of the
MME total and a 30-day order read as acute, without a word. A dose that fits no ingredient leaves the supply unknown
(named as unknown supplies are), never wrong. Evaluation date 2026-06-15.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import RXNORM, UCUM, card, days_ago, run
from fixtures.mme.helpers import config, dosage, every, med_request, orders, qty, terms

from guideline.named_gaps import unconverted_current_opioids
from guideline.supply import daily_units, order_supply

PERCOCET = "1049640"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet]
OXYCODONE_APAP_SOLUTION = "1049580"  # acetaminophen 65 MG/ML / oxycodone hydrochloride 1 MG/ML Oral Solution
EPIC_DOSE_TYPE = "http://epic.com/CodeSystem/dose-rate-type"


def epic_percocet(
    mg: int, tablets: int, *, id: str, draft: bool = False, authored: str | None = None
) -> dict[str, Any]:
    """Percocet as Epic sends it with the dose in mg: calculated and ordered dose in mg, every 6 hours as needed,
    a quantity of tablets and no expectedSupplyDuration."""
    mass = {"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}
    return {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "draft" if draft else "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                        "display": "Community",
                    }
                ],
                "text": "Community",
            }
        ],
        "subject": {"reference": "Patient/p1", "display": "Rivera, Alex"},
        "authoredOn": authored or days_ago(0),
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": RXNORM,
                    "code": PERCOCET,
                    "display": "oxyCODONE-acetaminophen (PERCOCET) 5-325 MG per tablet",
                }
            ],
            "text": "oxyCODONE-acetaminophen (PERCOCET) 5-325 MG per tablet",
        },
        "dosageInstruction": [
            {
                "text": "Take 650 mg by mouth every 6 (six) hours as needed for pain.",
                "timing": {
                    "repeat": {"frequency": 1, "period": 6, "periodUnit": "h"},
                    "code": {"text": "Every 6 hours PRN"},
                },
                "asNeededBoolean": True,
                "route": {"text": "Oral"},
                "doseAndRate": [
                    {"type": {"coding": [{"system": EPIC_DOSE_TYPE, "code": "calculated"}]}, "doseQuantity": mass},
                    {"type": {"coding": [{"system": EPIC_DOSE_TYPE, "code": "ordered"}]}, "doseQuantity": mass},
                ],
            }
        ],
        "dispenseRequest": {
            "validityPeriod": {"start": authored or days_ago(0)},
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": tablets, "unit": "tablet"},
        },
    }


def test_a_current_percocet_dosed_650_mg_lasts_its_days_and_counts_in_the_mme_total() -> None:
    # 650 mg = 2 tablets, 4 a day: 60 tablets last 7.5 days, so the order written 3 days ago is taken today.
    order = epic_percocet(650, 60, id="pc-epic", authored=days_ago(3))
    evaluation = run("patient-view", resources=[order])
    facts = evaluation.facts
    current = next(o for o in facts.record.orders if o.id == "pc-epic")
    assert facts.mme.total == 60  # 10 mg oxycodone x 4 a day x 1.5
    high = card(evaluation, "high-mme")
    assert high is not None and "60" in high.summary
    assert facts.supply(current).per_fill_days == Decimal("7.5")


def test_a_30_day_percocet_draft_dosed_650_mg_is_longer_term_not_acute() -> None:
    # 240 tablets at 8 a day are 30 days: read as 520 tablets a day they were half a day, an acute order.
    draft = epic_percocet(650, 240, id="pc-draft", draft=True)
    evaluation = run("order-sign", drafts=[draft])
    # The longer-term cards, not the acute-pain one: "consider non-opioid options ... for acute pain" was shown.
    assert card(evaluation, "treatment-plan") is not None
    assert card(evaluation, "urine-drug-test") is not None
    assert card(evaluation, "nonopioid-first") is None
    facts = evaluation.facts
    order = next(o for o in facts.record.orders if o.id == "pc-draft")
    assert facts.duration(order) == "subacute-chronic"
    assert facts.supply(order).per_fill_days == Decimal(30)


def test_a_mass_dose_that_fits_no_ingredient_leaves_the_supply_unknown_and_the_order_named() -> None:
    # 1000 mg of Percocet 5/325 is 200 tablets of oxycodone or 3.08 of acetaminophen: no dose anyone takes.
    order = epic_percocet(1000, 60, id="pc-odd", authored=days_ago(3))
    facts = run("patient-view", resources=[order]).facts
    current = next(o for o in facts.record.orders if o.id == "pc-odd")
    # With no end known it is current (a recent start), and named as an opioid whose MME could not be worked out;
    # read as lasting 0.07 days it had ended and was in no total and on no card.
    assert len(unconverted_current_opioids(facts)) == 1
    assert facts.supply(current).per_fill_days is None


def test_a_draft_whose_mass_dose_fits_no_ingredient_is_named_as_of_unknown_duration() -> None:
    draft = epic_percocet(1000, 240, id="pc-odd-draft", draft=True)
    facts = run("order-sign", drafts=[draft]).facts
    order = next(o for o in facts.record.orders if o.id == "pc-odd-draft")
    assert facts.duration(order) == "unclassified"
    assert len(facts.unclassified_triggers) == 1


def test_a_mass_dose_on_a_combination_liquid_is_read_in_millilitres_for_the_supply() -> None:
    # Oxycodone/acetaminophen 1/65 mg per mL, "325 mg" every 6 hours: 5 mL a dose, 20 mL a day, 200 mL last 10 days
    # (divided by the 1 mg/mL of oxycodone it was 325 mL a dose, and the bottle lasted 3.7 hours).
    solution = med_request(
        OXYCODONE_APAP_SOLUTION, [dosage(qty(325, "mg"), every(6))], dispense={"quantity": qty(200, "mL")}
    )
    order = orders(solution)[0]
    assert daily_units(order, terms(), config()) == (Decimal(20), "volume")
    assert order_supply(order, terms(), config()).per_fill_days == Decimal(10)
