"""A care plan (a pain treatment plan, or PainPlan's recorded decision) with no date PainPlan can read: no period, no
created date and no meta.lastUpdated. No check could place it in a window, so the treatment-plan card said "no pain
treatment plan is documented" and the plan page listed it as the plan on record, with nothing saying it had no date.
It is now named on the data-incomplete card and the data-completeness panel, the treatment-plan card says one is on
record undated, and the Decide step says it was not taken for the current plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import PATIENT_ID, TZ, card, days_ago, med_request, run
from cds_support import data_incomplete_detail
from test_plan import plan_for, rich_patient

from guideline.checks import CHECKS, treatment_plan
from guideline.record import build_record

OXYCODONE = "1049621"
BASE = "http://painplan.example/fhir"
EPIC = "https://fhir.ehr.example/api/FHIR/R4"
PAIN_PLAN = {
    "coding": [{"system": "http://loinc.org", "code": "80764-4", "display": "Pain medicine Plan of care note"}],
    "text": "Pain treatment plan",
}


def _pain_plan(plan_id: str = "eCP-7Hq2", **extra: Any) -> dict[str, Any]:
    """A pain treatment plan as an EHR sends one when its dates were not filled in (or a gateway stripped them)."""
    return {
        "resourceType": "CarePlan",
        "id": plan_id,
        "status": "active",
        "intent": "plan",
        "title": "Chronic low back pain treatment plan",
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Rivera, Alex"},
        "category": [PAIN_PLAN],
        "description": "Walking program, physical therapy, oxycodone at the lowest effective dose",
        **extra,
    }


def _searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"{EPIC}/CarePlan/{r['id']}", "resource": r, "search": {"mode": "match"}} for r in resources
        ],
    }


# ---- the record ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plan",
    [
        _pain_plan(),
        _pain_plan(created="sometime in spring"),
        _pain_plan(period={"end": "2026-12-31"}),
        _pain_plan(status="completed", meta={"versionId": "3"}),
    ],
    ids=["no-date", "created-unreadable", "period-end-only", "completed-version-only"],
)
def test_a_care_plan_with_no_date_is_named_in_the_record(plan: dict[str, Any]):
    record = build_record([plan], TZ)
    assert [p.id for p in record.care_plans] == ["eCP-7Hq2"]
    [problem] = record.problems
    assert (problem.resource_type, problem.resource_id) == ("CarePlan", "eCP-7Hq2")
    assert "no date" in problem.reason and "current" in problem.reason


@pytest.mark.parametrize("status", ["entered-in-error", "revoked"])
def test_an_undated_care_plan_entered_in_error_or_revoked_is_not_named(status: str):
    # No check and no section reads such a plan: its date would change nothing.
    assert build_record([_pain_plan(status=status)], TZ).problems == ()
    assert build_record([_pain_plan(status=status, meta={"lastUpdated": "last week"})], TZ).problems == ()


# ---- the card --------------------------------------------------------------------------------------------------------


def test_an_undated_pain_plan_in_the_prefetch_is_named_on_the_data_incomplete_card(tmp_path: Path):
    detail = data_incomplete_detail(tmp_path, carePlans=_searchset(_pain_plan()))
    assert "CarePlan" in detail and "eCP-7Hq2" in detail and "no date" in detail


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, treatment_plan.CHECK_ID, treatment_plan)


def _treatment_plan_card(*resources: dict[str, Any]):
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    return card(run("order-sign", drafts=[draft], resources=list(resources)), treatment_plan.CHECK_ID)


@pytest.mark.usefixtures("registered")
def test_the_treatment_plan_card_says_an_undated_plan_is_on_record():
    result = _treatment_plan_card(_pain_plan())
    assert result is not None  # not counted as a plan made in the window: it may be years old
    assert "Chronic low back pain treatment plan" in result.detail
    assert "no date" in result.detail and "check whether it is current" in result.detail


@pytest.mark.usefixtures("registered")
def test_the_treatment_plan_card_says_nothing_of_a_dated_plan_or_an_undated_draft():
    assert "no date" not in _treatment_plan_card(_pain_plan(created=f"{days_ago(200)}T10:00:00-04:00")).detail
    assert "no date" not in _treatment_plan_card(_pain_plan(status="draft")).detail


# ---- the plan page ---------------------------------------------------------------------------------------------------


def _decide(view) -> Any:
    return next(s for s in view.section("steps").content.steps if s.key == "decide")


def test_the_plan_page_names_an_undated_plan_and_does_not_take_it_for_the_current_plan():
    view = plan_for([*rich_patient(), _pain_plan()])
    assert any(item.startswith("CarePlan/eCP-7Hq2") and "no date" in item for item in view.unreadable)
    decide = _decide(view)
    [line] = [e for e in decide.evidence if e.label.startswith("Care plan on record")]
    assert line.day is None and "no date" in line.detail
    assert decide.status == "due"  # an undated plan is no plan of the window (90 days)


def test_an_undated_decision_is_said_to_have_no_date():
    decision = _pain_plan(
        "cp-decision",
        category=[
            {"coding": [{"system": f"{BASE}/CodeSystem/painplan-care-plan", "code": "opioid-treatment-decision"}]},
            {"coding": [{"system": f"{BASE}/CodeSystem/painplan-decision", "code": "taper"}]},
        ],
        description="Function improving; patient prefers a slow reduction",
    )
    view = plan_for([*rich_patient(), decision])
    decide = _decide(view)
    [line] = [e for e in decide.evidence if e.label == "Decision: Taper"]
    assert line.day is None and "no date" in line.detail and "slow reduction" in line.detail
    assert decide.status == "due"
    assert any(item.startswith("CarePlan/cp-decision") for item in view.unreadable)
