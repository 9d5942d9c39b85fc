"""A pain treatment plan on record that is not in force: a draft, one with no status, or one on hold. Only an active
or completed plan counts, on the `treatment-plan` card and on the plan page's Decide step alike; before, both passed
over the others without a word, so a clinician whose colleague had drafted a plan last week read "no pain treatment
plan" on the card and saw no plan at all on the page. Now each is named, on both faces, and neither takes it for the
current plan. A plan entered in error or revoked is still never named: nothing reads it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from builders import PATIENT_ID, TODAY, card, days_ago, med_request, run
from test_plan import plan_for, rich_patient

from guideline.care_plans import current_pain_plan
from guideline.checks import CHECKS, treatment_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
BASE = "http://painplan.example/fhir"
PAIN_PLAN = {
    "coding": [{"system": "http://loinc.org", "code": "80764-4", "display": "Pain medicine Plan of care note"}],
    "text": "Pain treatment plan",
}
ABSENT = object()


def _plan(plan_id: str, title: str, status: Any, days: int = 10, **extra: Any) -> dict[str, Any]:
    """A pain treatment plan as Epic sends it, created `days` ago; status ABSENT leaves the element out."""
    resource = {
        "resourceType": "CarePlan",
        "id": plan_id,
        "meta": {"versionId": "1", "lastUpdated": f"{days_ago(days)}T14:05:00Z"},
        "status": status,
        "intent": "plan",
        "title": title,
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Rivera, Alex"},
        "created": f"{days_ago(days)}T09:30:00-04:00",
        "category": [PAIN_PLAN],
        **extra,
    }
    if status is ABSENT:
        del resource["status"]
    return resource


DRAFT = _plan("eCP-d1", "Knee osteoarthritis pain plan", "draft")
NO_STATUS = _plan("eCP-n1", "Chronic low back pain plan", ABSENT, days=20)
ON_HOLD = _plan("eCP-h1", "Neck pain plan", "on-hold", days=30)
VOIDED = [_plan("eCP-e1", "Entered in error", "entered-in-error"), _plan("eCP-r1", "Revoked plan", "revoked")]


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, treatment_plan.CHECK_ID, treatment_plan)


def _card(*plans: dict[str, Any]):
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    return card(run("order-sign", drafts=[draft], resources=list(plans)), treatment_plan.CHECK_ID)


def _decide(resources: list[dict[str, Any]]):
    return next(s for s in plan_for(resources).section("steps").content.steps if s.key == "decide")


def _plan_lines(step) -> list[tuple[str, Any, str]]:
    return [(e.label, e.day, e.detail) for e in step.evidence if e.label.startswith("Care plan on record")]


def test_the_rule_keeps_plans_not_in_force_apart_with_their_status_and_day():
    facts = run("patient-view", resources=[DRAFT, NO_STATUS, ON_HOLD, *VOIDED]).facts
    current = current_pain_plan(facts.record.care_plans, facts.terms, TODAY)
    assert current.plan is None and current.day is None and current.undated == () and current.ahead == ()
    assert [(p.id, d) for p, d in current.not_in_force] == [
        ("eCP-d1", TODAY - timedelta(days=10)),
        ("eCP-n1", TODAY - timedelta(days=20)),
        ("eCP-h1", TODAY - timedelta(days=30)),
    ]


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize(
    ("plan", "named"),
    [
        (DRAFT, f"Knee osteoarthritis pain plan, draft, dated {days_ago(10)}"),
        (NO_STATUS, f"Chronic low back pain plan, no status, dated {days_ago(20)}"),
        (ON_HOLD, f"Neck pain plan, on hold, dated {days_ago(30)}"),
    ],
    ids=["draft", "no-status", "on-hold"],
)
def test_the_card_still_asks_for_a_plan_and_names_the_one_not_in_force(plan: dict[str, Any], named: str):
    found = _card(plan)
    assert found is not None  # a plan nobody has agreed to is no plan made
    assert (
        f"A pain treatment plan not in force is on record ({named}): only an active or completed plan counts, so it "
        "was not counted; if it is the plan, finish and sign it, or check its status." in found.detail
    )


@pytest.mark.usefixtures("registered")
def test_the_card_names_several_plans_not_in_force_in_one_paragraph_and_never_a_voided_one():
    detail = _card(DRAFT, NO_STATUS, *VOIDED).detail
    assert (
        f"Pain treatment plans not in force are on record (Knee osteoarthritis pain plan, draft, dated {days_ago(10)}; "
        f"Chronic low back pain plan, no status, dated {days_ago(20)}): only an active or completed plan counts, so "
        "they were not counted; if one is the plan, finish and sign it, or check their status." in detail
    )
    assert "Entered in error" not in detail and "Revoked plan" not in detail


@pytest.mark.usefixtures("registered")
def test_the_card_says_nothing_of_a_draft_when_a_plan_in_force_counts():
    assert _card(DRAFT, _plan("eCP-a1", "Agreed pain plan", "active", days=40)) is None


def test_the_decide_step_shows_a_draft_as_a_draft_not_as_the_current_plan():
    step = _decide([*rich_patient(), DRAFT])
    assert _plan_lines(step) == [
        (
            "Care plan on record: Knee osteoarthritis pain plan",
            TODAY - timedelta(days=10),
            "a draft, not in force, so it was not taken for a current plan; if it is the plan, finish and sign it",
        )
    ]
    assert step.status == "due"  # no plan in force: the decision is still asked for


def test_the_decide_step_names_a_plan_with_no_status_or_on_hold():
    step = _decide([*rich_patient(), NO_STATUS, ON_HOLD, *VOIDED])
    assert _plan_lines(step) == [
        (
            "Care plan on record: Chronic low back pain plan",
            TODAY - timedelta(days=20),
            "no status recorded, so it was not taken for a current plan; check whether it is in force",
        ),
        (
            "Care plan on record: Neck pain plan",
            TODAY - timedelta(days=30),
            "on hold, not in force, so it was not taken for a current plan; check its status",
        ),
    ]


def test_the_decide_step_lists_the_current_plan_and_beside_it_the_draft():
    active = _plan("eCP-a1", "Agreed pain plan", "active", days=40)
    step = _decide([*rich_patient(), active, DRAFT])
    assert [label for label, _, _ in _plan_lines(step)] == [
        "Care plan on record: Agreed pain plan",
        "Care plan on record: Knee osteoarthritis pain plan",
    ]
    assert not any(d.startswith("Record the decision") for d in step.due)  # the plan of 40 days ago is current


def _decision(plan_id: str, status: Any, days: int, choice: str = "taper") -> dict[str, Any]:
    """PainPlan's decision as the page writes it (both categories and the decision), with `status`."""
    return _plan(
        plan_id,
        f"Pain treatment plan: {choice}",
        status,
        days=days,
        category=[
            PAIN_PLAN,
            {"coding": [{"system": f"{BASE}/CodeSystem/painplan-care-plan", "code": "opioid-treatment-decision"}]},
            {"coding": [{"system": f"{BASE}/CodeSystem/painplan-decision", "code": choice}], "text": choice},
        ],
        description=f"Decision: {choice}.",
    )


@pytest.mark.usefixtures("registered")
def test_a_draft_decision_is_not_the_last_decision_on_the_page_as_it_is_no_plan_on_the_card():
    # Before, the page took a draft decision for the decision recorded (step "Up to date") while the card, which does
    # not count a draft, said no plan was documented.
    draft_decision = _decision("cp-dd", "draft", days=3)
    assert _card(draft_decision) is not None
    step = _decide([*rich_patient(), draft_decision])
    assert not any(e.label.startswith("Decision:") for e in step.evidence)
    assert _plan_lines(step) == [
        (
            "Care plan on record: Pain treatment plan: taper",
            TODAY - timedelta(days=3),
            "a draft, not in force, so it was not taken for a current plan; if it is the plan, finish and sign it",
        )
    ]
    assert step.status == "due"


def test_a_draft_beside_a_recorded_decision_is_named_too():
    step = _decide([*rich_patient(), _decision("cp-d", "active", days=30, choice="continue"), DRAFT])
    assert any(e.label == "Decision: Continue the current plan" for e in step.evidence)
    assert [label for label, _, _ in _plan_lines(step)] == ["Care plan on record: Knee osteoarthritis pain plan"]


def _decision_only(plan_id: str, status: Any, days: int, choice: str = "adjust") -> dict[str, Any]:
    """PainPlan's decision as another writer (an older page, an interface) leaves it: the decision category and the
    decision, no LOINC 80764-4."""
    resource = _decision(plan_id, status, days, choice)
    resource["category"] = resource["category"][1:]
    return resource


def test_a_draft_decision_without_the_pain_plan_code_is_named_on_the_decide_step():
    # Before, neither the decision rule (not in force) nor the pain treatment plan rule (no LOINC 80764-4) read it,
    # and step 6 said nothing of it: "no decision recorded" with a draft decision of 4 days ago on the chart.
    step = _decide([*rich_patient(), _decision_only("cp-do", "draft", days=4)])
    assert not any(e.label.startswith("Decision:") for e in step.evidence)
    assert _plan_lines(step) == [
        (
            "Care plan on record: Pain treatment plan: adjust",
            TODAY - timedelta(days=4),
            "a draft, not in force, so it was not taken for a current plan; if it is the plan, finish and sign it",
        )
    ]
    assert step.status == "due"


def test_a_decision_in_force_without_the_pain_plan_code_is_the_decision_and_not_listed_again():
    step = _decide([*rich_patient(), _decision_only("cp-da", "active", days=4), _decision_only("cp-dh", "on-hold", 9)])
    assert any(e.label == "Decision: Adjust the dose or regimen" for e in step.evidence)
    assert _plan_lines(step) == [
        (
            "Care plan on record: Pain treatment plan: adjust",
            TODAY - timedelta(days=9),
            "on hold, not in force, so it was not taken for a current plan; check its status",
        )
    ]
