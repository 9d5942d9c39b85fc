"""The acute-pain checks (`acute-duration`, CDC Recommendation 6; `nonopioid-first`, Recommendation 1) are about
pain: an opioid cough and cold medicine (promethazine with codeine, Hycodan, guaifenesin with codeine) ordered for an
opioid-naive patient got "10-day opioid supply for acute pain" and "consider non-opioid options before Hycodan for
acute pain", with NSAIDs and dental pain among the options. The CDC opioid analgesic set leaves these products out;
PainPlan counts them for the risk checks (MME, opioid + benzodiazepine, naloxone) and leaves them out of these two."""

from __future__ import annotations

from typing import Any

import pytest
from builders import RXNORM, UCUM, card, med_request, run

NDC = "http://hl7.org/fhir/sid/ndc"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
PAIN_CHECKS = ("acute-duration", "nonopioid-first")

COUGH_MEDICINES = {
    "promethazine-codeine-scd": {
        "coding": [
            {
                "system": RXNORM,
                "code": "991486",
                "display": "codeine phosphate 2 MG/ML / promethazine hydrochloride 1.25 MG/ML Oral Solution",
            }
        ]
    },
    "hycodan-sbd": {
        "coding": [
            {
                "system": RXNORM,
                "code": "992671",
                "display": "homatropine methylbromide 0.3 MG/ML / hydrocodone bitartrate 1 MG/ML Oral Solution"
                " [Hycodan]",
            }
        ]
    },
    "hycodan-text": {"text": "Hycodan 5-1.5 mg/5 mL syrup"},
    "epic-promethazine-codeine": {"text": "promethazine-codeine (PHENERGAN WITH CODEINE) 6.25-10 mg/5 mL syrup"},
    "claim-guaifenesin-cod": {
        "coding": [{"system": NDC, "code": "00121077504", "display": "GUAIFENESIN-COD 100-10 MG/5ML"}]
    },
}


def syrup(concept: dict[str, Any], days: int = 10, id: str = "cough") -> dict[str, Any]:
    """5 mL every 4-6 hours as needed for cough, `days` days' supply (over the 7 days acute-duration warns at)."""
    order = med_request("0", id=id, draft=True, supply_days=days, quantity=120, unit="mL", as_needed=True)
    order["medicationCodeableConcept"] = concept
    instruction = order["dosageInstruction"][0]
    instruction["text"] = "Take 5 mL by mouth every 4-6 hours as needed for cough"
    instruction["timing"] = {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h", "periodMax": 6}}
    instruction["doseAndRate"] = [{"doseQuantity": {"value": 5, "unit": "mL", "system": UCUM, "code": "mL"}}]
    return order


@pytest.mark.parametrize("way", list(COUGH_MEDICINES))
def test_an_opioid_cough_medicine_gets_no_acute_pain_card(way: str) -> None:
    evaluation = run("order-sign", drafts=[syrup(COUGH_MEDICINES[way])])
    assert evaluation.facts.exposure.naive  # the patient had no opioid: both cards fired before
    for check in PAIN_CHECKS:
        assert card(evaluation, check) is None, check
    # Still an opioid for the risk checks: counted in the MME total.
    (line,) = [o for o in evaluation.facts.mme.orders if o.order.id == "cough"]
    assert line.mme is not None


def test_beside_a_pain_opioid_the_cards_name_the_pain_opioid_only() -> None:
    oxycodone = med_request(OXYCODONE, draft=True, id="ox1", supply_days=10)
    evaluation = run("order-sign", drafts=[oxycodone, syrup(COUGH_MEDICINES["hycodan-text"])])
    for check in PAIN_CHECKS:
        found = card(evaluation, check)
        assert found is not None, check
        assert found.orders == ("ox1",)
        assert "Hycodan" not in found.summary and "Hycodan" not in found.detail


@pytest.mark.parametrize("text", ["codeine sulfate 30 mg tablet", "acetaminophen-codeine 300-30 mg tablet"])
def test_codeine_for_pain_still_gets_the_acute_pain_cards(text: str) -> None:
    order = med_request("0", id="cod", draft=True, supply_days=10, quantity=40)
    order["medicationCodeableConcept"] = {"text": text}
    evaluation = run("order-sign", drafts=[order])
    for check in PAIN_CHECKS:
        assert card(evaluation, check) is not None, check
