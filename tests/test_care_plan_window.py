"""One window for a current pain treatment plan. The `treatment-plan` card counted a plan made in its `lookback_days`
(90 days), while the plan page's Decide step took one made in a fixed 92 days: for a plan 91 or 92 days old the card
said no plan was documented while the page showed it as current and asked for nothing, and a site that set the card's
window to 45 or 180 days moved the card alone. Both now read `checks.treatment-plan.lookback_days`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from builders import NOW, PATIENT_ID, card, days_ago, med_request, run

from guideline.checks import treatment_plan
from guideline.config import ConfigError, GuidelineConfig
from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
PAIN_PLAN = {
    "coding": [{"system": "http://loinc.org", "code": "80764-4", "display": "Pain medicine Plan of care note"}]
}
ASK = "Record the decision"


def _plan(days: int) -> dict[str, Any]:
    """An active pain treatment plan as Oracle Health sends it, made `days` ago and untouched since."""
    return {
        "resourceType": "CarePlan",
        "id": "M-41872",
        "meta": {"versionId": "0", "lastUpdated": f"{days_ago(days)}T15:12:00.000Z"},
        "status": "active",
        "intent": "plan",
        "title": "Chronic knee pain treatment plan",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "period": {"start": f"{days_ago(days)}T15:10:00.000Z"},
        "category": [PAIN_PLAN],
    }


def _window(days: int | None) -> dict[str, Any] | None:
    return None if days is None else {"checks": {"treatment-plan": {"lookback_days": days}}}


@pytest.mark.parametrize(
    ("window", "age", "current"),
    [
        pytest.param(None, 90, True, id="default, 90 days old"),
        pytest.param(None, 91, False, id="default, 91 days old: the page took it for current"),
        pytest.param(None, 92, False, id="default, 92 days old: the page took it for current"),
        pytest.param(45, 60, False, id="site window 45 days, 60 days old: the page took it for current"),
        pytest.param(180, 120, True, id="site window 180 days, 120 days old: the page asked for a decision"),
    ],
)
def test_the_card_and_the_decide_step_agree_whether_a_plan_is_current(window: int | None, age: int, current: bool):
    # One call, as the service makes it: the longer-term oxycodone being signed, and the plan on record.
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    evaluation = run("order-sign", drafts=[draft], resources=[_plan(age)], config=_window(window))
    found = card(evaluation, treatment_plan.CHECK_ID)
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    decide = next(s for s in view.section("steps").content.steps if s.key == "decide")
    assert (found is None) is current
    assert any(d.startswith(ASK) for d in decide.due) is not current
    assert decide.status != "not-applicable"  # the draft being signed is opioid therapy for the page


@pytest.mark.parametrize("value", [0, -30, 91.5, "90"])
def test_a_bad_window_stops_the_program_with_the_key_named(value: Any):
    with pytest.raises(ConfigError, match=r"checks\.treatment-plan\.lookback_days"):
        GuidelineConfig.from_mapping(_window(value))


def _decision(days: int) -> dict[str, Any]:
    """PainPlan's decision as the page writes it (continue), recorded `days` ago."""
    base = "http://painplan.example/fhir"
    return {
        "resourceType": "CarePlan",
        "id": "cp-decision",
        "status": "active",
        "intent": "plan",
        "title": "Pain treatment plan: continue",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "created": f"{days_ago(days)}T10:00:00-04:00",
        "period": {"start": days_ago(days)},
        "category": [
            PAIN_PLAN,
            {"coding": [{"system": f"{base}/CodeSystem/painplan-care-plan", "code": "opioid-treatment-decision"}]},
            {"coding": [{"system": f"{base}/CodeSystem/painplan-decision", "code": "continue"}]},
        ],
    }


def _sign(*resources: dict[str, Any]):
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    evaluation = run("order-sign", drafts=[draft], resources=list(resources))
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    return card(evaluation, treatment_plan.CHECK_ID), next(
        s for s in view.section("steps").content.steps if s.key == "decide"
    )


def test_a_plan_revised_after_an_old_decision_is_current_on_both_faces():
    # Before, an old PainPlan decision hid the plan the EHR revised since: the card counted the revision, the page
    # looked at the decision alone and asked for one.
    found, decide = _sign(_decision(120), _plan(10))
    assert found is None
    assert not any(d.startswith(ASK) for d in decide.due)
    lines = [(e.label, e.day) for e in decide.evidence if e.label.startswith(("Decision:", "Care plan on record"))]
    assert lines == [
        ("Decision: Continue the current plan", NOW.date() - timedelta(days=120)),
        ("Care plan on record: Chronic knee pain treatment plan", NOW.date() - timedelta(days=10)),
    ]


def test_the_decision_is_not_listed_again_as_a_care_plan():
    found, decide = _sign(_decision(30))
    assert found is None and not any(d.startswith(ASK) for d in decide.due)
    assert not any(e.label.startswith("Care plan on record") for e in decide.evidence)


def test_an_old_decision_and_an_old_plan_still_ask_for_a_decision():
    found, decide = _sign(_decision(120), _plan(100))
    assert found is not None and any(d.startswith(ASK) for d in decide.due)
