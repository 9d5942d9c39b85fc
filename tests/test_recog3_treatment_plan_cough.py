"""`treatment-plan` (CDC 2022 Recommendation 2) is about a pain treatment plan: a 30-day opioid cough medicine order
(Hycodan, promethazine with codeine) for an opioid-naive patient got "Longer-term opioid starting with no pain
treatment plan documented" ("realistic goals for pain and function"). As the acute-pain checks, it leaves opioid
cough medicines out; they stay opioids for the risk checks (MME, urine drug test, PDMP)."""

from __future__ import annotations

import pytest
from builders import card, med_request, run
from test_acute_checks_cough_medicines import COUGH_MEDICINES, syrup

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
CHECK = "treatment-plan"


@pytest.mark.parametrize("way", ["hycodan-sbd", "hycodan-text", "promethazine-codeine-scd", "claim-guaifenesin-cod"])
def test_a_30_day_opioid_cough_medicine_gets_no_pain_treatment_plan_card(way: str) -> None:
    evaluation = run("order-sign", drafts=[syrup(COUGH_MEDICINES[way], days=30)])
    assert evaluation.facts.exposure.naive
    assert evaluation.facts.duration(evaluation.facts.new_drafts[0]) == "subacute-chronic"
    assert card(evaluation, CHECK) is None
    # Still an opioid for the risk checks.
    assert card(evaluation, "urine-drug-test") is not None


def test_beside_a_30_day_pain_opioid_the_card_names_the_pain_opioid_only() -> None:
    oxycodone = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    found = card(run("order-sign", drafts=[oxycodone, syrup(COUGH_MEDICINES["hycodan-text"], days=30)]), CHECK)
    assert found is not None
    assert found.orders == ("ox1",)
    assert "Hycodan" not in found.summary and "Hycodan" not in found.detail


def test_30_days_of_codeine_for_pain_still_gets_the_card() -> None:
    order = med_request("0", id="cod", draft=True, supply_days=30, quantity=120)
    order["medicationCodeableConcept"] = {"text": "acetaminophen-codeine 300-30 mg tablet"}
    assert card(run("order-sign", drafts=[order]), CHECK) is not None
