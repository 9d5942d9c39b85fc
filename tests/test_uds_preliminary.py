"""A card whose finding rests on a preliminary urine drug test result says so, as the plan page's list does: a
preliminary screen is confirmed before anyone acts on it."""

from __future__ import annotations

from typing import Any

import pytest
from builders import LOINC, NOW, PATIENT_ID, card, days_ago, dispense, med_request, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
COCAINE_SCREEN = ("14314-9", "Benzoylecgonine [Presence] in Urine by Screen method")
COCAINE_CONFIRMATION = ("16226-3", "Benzoylecgonine [Presence] in Urine by Confirmatory method")
OXYCODONE_SCREEN = ("58430-0", "oxyCODONE+oxyMORphone [Presence] in Urine by Screen method")


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


def oracle_result(test: tuple[str, str], ago: int, value: str, status: str, ident: str) -> dict[str, Any]:
    """Oracle Health (Cerner) R4: the value coded in SNOMED with its words, collected at a time of day."""
    snomed = {"Positive": "10828004", "Negative": "260385009"}[value]
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": status,
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}
                ],
                "text": "Laboratory",
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": test[0], "display": test[1]}], "text": test[1]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{days_ago(ago)}T14:20:00.000Z",
        "issued": f"{days_ago(ago)}T20:02:00.000Z",
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": snomed, "display": value}],
            "text": value,
        },
    }


def sign(*resources: dict[str, Any]):
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    return run("order-sign", drafts=[draft], resources=list(resources))


def test_an_unexpected_finding_from_a_preliminary_result_says_preliminary() -> None:
    screen = oracle_result(COCAINE_SCREEN, 20, "Positive", "preliminary", "obs-coc-prelim")
    found = card(sign(screen), unexpected_uds_result.CHECK_ID)
    assert found is not None
    assert found.summary == (
        f"Discuss unexpected urine drug test result with the patient: positive for cocaine ({days_ago(20)}, "
        "preliminary)"
    )
    assert f"- {days_ago(20)} (preliminary): positive for cocaine, not prescribed in the 30 days before" in (
        found.detail
    )


def test_a_finding_confirmed_by_a_final_result_that_day_is_not_called_preliminary() -> None:
    # The screen came back first (preliminary) and the confirmation is final: the finding rests on the final one.
    screen = oracle_result(COCAINE_SCREEN, 20, "Positive", "preliminary", "obs-coc-prelim")
    confirmation = oracle_result(COCAINE_CONFIRMATION, 20, "Positive", "final", "obs-coc-final")
    found = card(sign(screen, confirmation), unexpected_uds_result.CHECK_ID)
    assert found is not None
    assert found.summary.endswith(f"positive for cocaine ({days_ago(20)})")
    assert f"- {days_ago(20)}: positive for cocaine" in found.detail
    assert "preliminary" not in found.detail


def test_a_final_finding_is_not_called_preliminary() -> None:
    found = card(
        sign(oracle_result(COCAINE_SCREEN, 20, "Positive", "final", "obs-coc")), unexpected_uds_result.CHECK_ID
    )
    assert found is not None and "preliminary" not in found.summary + found.detail


def ltot() -> list[dict[str, Any]]:
    return [dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]


def test_the_last_test_line_says_when_the_last_test_is_preliminary() -> None:
    last = oracle_result(OXYCODONE_SCREEN, 400, "Positive", "preliminary", "obs-oxy-prelim")
    evaluation = run("patient-view", resources=[*ltot(), last])
    found = card(evaluation, urine_drug_test.CHECK_ID)
    assert found is not None
    assert (
        f"The last urine drug test result on record is from **{days_ago(400)}** (preliminary), over 12 months ago."
        in found.detail
    )
    # The page's list already said so: the card and the page now agree.
    [row] = build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.rows
    assert row.status_note == "preliminary"


def test_the_last_test_line_is_plain_when_a_final_result_came_the_same_day() -> None:
    screen = oracle_result(OXYCODONE_SCREEN, 400, "Positive", "preliminary", "obs-oxy-prelim")
    other = oracle_result(COCAINE_SCREEN, 400, "Negative", "final", "obs-coc-final")
    found = card(run("patient-view", resources=[*ltot(), screen, other]), urine_drug_test.CHECK_ID)
    assert found is not None
    assert f"The last urine drug test result on record is from **{days_ago(400)}**, over 12 months ago." in (
        found.detail
    )
