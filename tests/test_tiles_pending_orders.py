"""While a urine drug screen or a benefit/harm evaluation is ordered and pending (the order that keeps the card
quiet), the status strip and the steps say so: not "Overdue" beside a quiet card, nor "Up to date"."""

from __future__ import annotations

from typing import Any

import pytest
from builders import NOW, PATIENT_ID, SNOMED, card, days_ago, dispense, run, service_request

from guideline.checks import CHECKS, reassessment_due, urine_drug_test
from guideline.plan import build_plan

OXYCODONE = "1049621"
UDS_PROCEDURE = "310627008"  # Urine drug screening (procedure)
ASSESSMENT = "454281000124100"  # Assessment of risk for opioid abuse (procedure)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, reassessment_due.CHECK_ID, reassessment_due)


def ltot() -> list[dict[str, Any]]:
    return [dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]


def procedure_request_stu3(code: str, ago: int) -> dict[str, Any]:
    """STU3: the evaluation ordered as a ProcedureRequest."""
    return {
        "resourceType": "ProcedureRequest",
        "id": "prq-eval",
        "status": "active",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": SNOMED, "code": code}], "text": "Opioid benefit/risk assessment"},
        "authoredOn": days_ago(ago),
    }


def page(resources: list[dict[str, Any]]):
    evaluation = run("patient-view", resources=[*ltot(), *resources])
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    tiles = {t.key: t for t in view.section("tasks").content}
    return evaluation, tiles, view.section("steps").content


@pytest.mark.parametrize("ordered_ago", [5, 29])
def test_a_pending_urine_drug_screen_is_shown_as_ordered_not_overdue(ordered_ago: int) -> None:
    evaluation, tiles, steps = page([service_request(SNOMED, UDS_PROCEDURE, authored=days_ago(ordered_ago))])
    assert card(evaluation, urine_drug_test.CHECK_ID) is None  # the order keeps the card quiet
    tile = tiles["uds"]
    assert tile.state == "ordered"
    assert f"ordered {days_ago(ordered_ago)}, result pending" in tile.detail
    assess = steps.step("assess")
    assert not any("Urine drug test" in line for line in assess.due)
    assert any(e.label == "Urine drug test" and "ordered" in e.detail for e in assess.evidence)


def test_a_urine_drug_screen_proposed_or_ordered_long_ago_leaves_the_tile_overdue() -> None:
    proposed = service_request(SNOMED, UDS_PROCEDURE, authored=days_ago(5), intent="proposal")
    stale = service_request(SNOMED, UDS_PROCEDURE, authored=days_ago(45))  # beyond pending_order_days (30)
    evaluation, tiles, steps = page([proposed, stale])
    assert card(evaluation, urine_drug_test.CHECK_ID) is not None
    assert tiles["uds"].state == "never"
    assert any("Urine drug test" in line for line in steps.step("assess").due)


@pytest.mark.parametrize(
    "ordered",
    [service_request(SNOMED, ASSESSMENT, authored=days_ago(6)), procedure_request_stu3(ASSESSMENT, 6)],
    ids=["R4", "STU3"],
)
def test_a_pending_evaluation_order_is_shown_as_ordered_on_the_tile_and_step_5(ordered: dict[str, Any]) -> None:
    evaluation, tiles, steps = page([ordered])
    assert card(evaluation, reassessment_due.CHECK_ID) is None
    tile = tiles["reassessment"]
    assert tile.state == "ordered"
    assert f"ordered {days_ago(6)}, result pending" in tile.detail
    reassess = steps.step("reassess")
    assert reassess.status == "ordered" and reassess.status_label == "Ordered, pending"
    assert reassess.due == ()


def test_without_a_pending_order_the_evaluation_tile_is_still_due() -> None:
    evaluation, tiles, steps = page([])
    assert card(evaluation, reassessment_due.CHECK_ID) is not None
    assert tiles["reassessment"].state == "never"
    assert steps.step("reassess").status == "due"
