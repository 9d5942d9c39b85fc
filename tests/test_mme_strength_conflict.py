"""A coded product whose own name states another strength of the same opioid (clinical-logic, MME step 1):
counted at the higher strength and the conflict named in the order's explanation."""

from __future__ import annotations

from decimal import Decimal

import builders
from fixtures.mme.helpers import RXNORM, dosage, every, med_request, mme

from guideline.mme import OrderMme

OXY_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXY_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
OXY_SOLUTION = "1049604"  # oxycodone hydrochloride 1 MG/ML Oral Solution
PERCOCET_5 = "1049640"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet]


def _order(coding: dict, text: str | None, dose: object = 1, hours: int = 4) -> OrderMme:
    """One active order of the coded product, as Epic sends it (coding with display, the order name as text)."""
    concept: dict = {"coding": [{"system": RXNORM, **coding}]}
    if text is not None:
        concept["text"] = text
    summary = mme(med_request(None, [dosage(dose, every(hours))], medicationCodeableConcept=concept))
    assert len(summary.orders) == 1
    return summary.orders[0]


def test_text_stating_a_higher_strength_than_the_code_counts_the_higher_and_names_both() -> None:
    order = _order({"code": OXY_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"}, "oxycodone 10 mg tablet")
    assert (order.state, order.mme) == ("ok", Decimal(90))
    assert order.daily_dose_text == "60 mg oxycodone/day"
    assert order.explanation == (
        "oxycodone 10 mg tablet: 1 tablet every 4 hours (6 a day) = 60 mg/day oxycodone × 1.5 = 90.0 MME/day; "
        "the code says 5 mg oxycodone, the name says 10 mg: counted at 10 mg, check which strength is meant"
    )


def test_code_stating_the_higher_strength_keeps_it_and_still_names_the_conflict() -> None:
    order = _order({"code": OXY_10, "display": "oxycodone HCl 10 mg tablet"}, "oxyCODONE 5 MG TABS")
    assert order.mme == Decimal(90)
    assert "the code says 10 mg oxycodone, the name says 5 mg" in order.explanation
    assert "counted at 10 mg" in order.explanation


def test_the_codings_own_display_disagreeing_is_a_conflict_too() -> None:
    """Oracle Health: no text, the coding's display edited locally."""
    order = _order({"code": OXY_5, "display": "oxycodone 15 mg oral tablet"}, None)
    assert order.mme == Decimal(135)
    assert "the code says 5 mg oxycodone, the name says 15 mg" in order.explanation


def test_agreeing_names_and_names_without_a_strength_are_no_conflict() -> None:
    for text in ("oxycodone 5 mg tablet", "oxyCODONE IR tablet", "OXYCODONE HCL", None):
        order = _order({"code": OXY_5, "display": "oxycodone hydrochloride 5 MG Oral Tablet"}, text)
        assert order.mme == Decimal(45), text
        assert "name says" not in order.explanation, text


def test_a_liquid_named_per_5_ml_agrees_with_its_strength_per_ml() -> None:
    order = _order({"code": OXY_SOLUTION}, "oxycodone 5 mg/5 mL oral solution", dose={"value": 5, "unit": "mL"})
    assert order.mme == Decimal(45)
    assert "name says" not in order.explanation


def test_a_combinations_other_ingredient_is_no_conflict_but_its_opioid_is() -> None:
    agreeing = _order({"code": PERCOCET_5}, "oxycodone-acetaminophen 5-325 mg per tablet")
    assert agreeing.mme == Decimal(45)
    assert "name says" not in agreeing.explanation
    differing = _order({"code": PERCOCET_5}, "oxycodone-acetaminophen 10-325 mg per tablet")
    assert differing.mme == Decimal(90)
    assert "the code says 5 mg oxycodone, the name says 10 mg" in differing.explanation


def test_an_order_without_an_mme_names_the_conflict_without_a_strength_used() -> None:
    concept = {"coding": [{"system": RXNORM, "code": OXY_5}], "text": "oxycodone 10 mg tablet"}
    summary = mme(
        med_request(None, [{"doseAndRate": [{"doseQuantity": {"value": 1}}]}], medicationCodeableConcept=concept)
    )
    order = summary.orders[0]
    assert order.state == "unknown"
    assert order.explanation.endswith(
        "; the code says 5 mg oxycodone, the name says 10 mg, check which strength is meant"
    )


def test_the_high_dose_card_fires_on_the_higher_strength_and_names_the_conflict() -> None:
    """An Epic order-sign draft: coded 5 mg, its order name edited to 10 mg; 1 tablet every 4 hours."""
    draft = builders.med_request(OXY_5, draft=True, period=4, supply_days=5, display="oxycodone 5 mg tablet")
    draft["medicationCodeableConcept"]["text"] = "oxycodone 10 mg tablet"
    high = builders.card(builders.run("order-sign", drafts=[draft]), "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary
    assert "the code says 5 mg oxycodone, the name says 10 mg: counted at 10 mg" in high.detail


def _percocet_medication(acetaminophen: dict) -> dict:
    """A contained Medication known only by its ingredients (oxycodone 5 mg, acetaminophen 325 mg), dosed in mg."""
    per_tablet = {"value": 1, "unit": "TABLET"}
    ingredients = [
        {
            "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "7804"}]},
            "strength": {"numerator": {"value": 5, "unit": "mg"}, "denominator": per_tablet},
        },
        {
            "itemCodeableConcept": acetaminophen,
            "strength": {"numerator": {"value": 325, "unit": "mg"}, "denominator": per_tablet},
        },
    ]
    resource = med_request(None, [dosage({"value": 650, "unit": "mg"}, every(6))])
    resource["contained"] = [{"resourceType": "Medication", "id": "m", "ingredient": ingredients}]
    resource["medicationReference"] = {"reference": "#m"}
    return resource


def test_a_coded_partner_ingredient_is_named_by_its_display_else_by_its_code() -> None:
    shown = mme(_percocet_medication({"coding": [{"system": RXNORM, "code": "161", "display": "Acetaminophen"}]}))
    assert "650 mg (2 of 325 mg acetaminophen)" in shown.orders[0].explanation
    bare = mme(_percocet_medication({"coding": [{"system": RXNORM, "code": "161"}]}))
    assert "650 mg (2 of 325 mg RxNorm ingredient 161)" in bare.orders[0].explanation
    assert bare.orders[0].mme == Decimal(60)
