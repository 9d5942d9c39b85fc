"""One rule for the current pain treatment plan. The `treatment-plan` card counted a care plan by its `created`,
`period.start` or `meta.lastUpdated`, while the plan page's Decide step took the newest by `created` (or
`period.start`) alone: a plan an EHR revised in place last week (Epic and Oracle keep `created` and move
`meta.lastUpdated`) silenced the card, yet the page showed an older plan as the plan on record and asked for a
decision. Both now ask guideline.care_plans.current_pain_plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from builders import PATIENT_ID, TODAY, card, days_ago, med_request, run
from test_plan import plan_for

from guideline.care_plans import current_pain_plan
from guideline.checks import CHECKS, treatment_plan

OXYCODONE = "1049621"
EPIC = "https://fhir.ehr.example/api/FHIR/R4"
PAIN_PLAN = {
    "coding": [{"system": "http://loinc.org", "code": "80764-4", "display": "Pain medicine Plan of care note"}],
    "text": "Pain treatment plan",
}


def _plan(plan_id: str, title: str, last_updated: str, **extra: Any) -> dict[str, Any]:
    """A pain treatment plan as Epic sends it: made 200 days ago, its meta.lastUpdated moved by each revision."""
    return {
        "resourceType": "CarePlan",
        "id": plan_id,
        "meta": {"versionId": "4", "lastUpdated": last_updated},
        "status": "active",
        "intent": "plan",
        "title": title,
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Rivera, Alex"},
        "created": f"{days_ago(200)}T09:30:00-04:00",
        "period": {"start": days_ago(200)},
        "category": [PAIN_PLAN],
        "description": "Walking program, physical therapy, oxycodone at the lowest effective dose",
        **extra,
    }


# The same plan twice but for meta.lastUpdated: one revised 10 days ago, one untouched since it was made.
REVISED = _plan("eCP-rev", "Chronic low back pain plan (revised)", f"{days_ago(10)}T14:05:00Z")
UNTOUCHED = _plan("eCP-old", "Chronic low back pain plan", f"{days_ago(200)}T13:40:00Z")


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, treatment_plan.CHECK_ID, treatment_plan)


def _card(*plans: dict[str, Any]):
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    return card(run("order-sign", drafts=[draft], resources=list(plans)), treatment_plan.CHECK_ID)


def _plan_line(*plans: dict[str, Any]):
    decide = next(s for s in plan_for(list(plans)).section("steps").content.steps if s.key == "decide")
    [line] = [e for e in decide.evidence if e.label.startswith("Care plan on record")]
    return line


@pytest.mark.usefixtures("registered")
@pytest.mark.parametrize("order", [(REVISED, UNTOUCHED), (UNTOUCHED, REVISED)], ids=["revised-first", "revised-last"])
def test_card_and_page_take_the_plan_revised_last_week_for_the_current_plan(order):
    assert _card(*order) is None  # the card counts the revision of 10 days ago
    line = _plan_line(*order)
    assert line.label == "Care plan on record: Chronic low back pain plan (revised)"
    assert line.day == TODAY - timedelta(days=10) and line.detail == ""


@pytest.mark.usefixtures("registered")
def test_card_and_page_agree_a_plan_untouched_for_200_days_is_not_current():
    assert _card(UNTOUCHED) is not None
    line = _plan_line(UNTOUCHED)
    assert line.label == "Care plan on record: Chronic low back pain plan"
    assert line.day == TODAY - timedelta(days=200)


def test_the_rule_itself_excludes_drafts_and_other_care_plans_and_keeps_undated_ones_apart():
    diabetes = _plan("eCP-dm", "Diabetes care plan", f"{days_ago(1)}T10:00:00Z", category=[{"text": "Diabetes"}])
    draft = _plan("eCP-draft", "Draft pain plan", f"{days_ago(2)}T10:00:00Z", status="draft")
    undated = {k: v for k, v in UNTOUCHED.items() if k not in ("meta", "created", "period")} | {"id": "eCP-nd"}
    ahead = _plan("eCP-next", "Plan from next month", f"{days_ago(-30)}T10:00:00Z")
    del ahead["created"], ahead["period"]  # dated only after today: not yet in force
    facts = run("patient-view", resources=[diabetes, draft, undated, ahead, REVISED, UNTOUCHED]).facts
    current = current_pain_plan(facts.record.care_plans, facts.terms, TODAY)
    assert current.plan is not None and current.plan.id == "eCP-rev"
    assert current.day == TODAY - timedelta(days=10)
    assert [p.id for p in current.undated] == ["eCP-nd"]
    assert [(p.id, d) for p, d in current.ahead] == [("eCP-next", TODAY + timedelta(days=30))]


def _days_ahead(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


# A plan whose every date is after today: a plan written ahead for the next visit, or a server clock that was wrong.
AHEAD = _plan(
    "eCP-ahead",
    "Chronic low back pain plan (next visit)",
    f"{_days_ahead(20)}T08:00:00Z",
    created=f"{_days_ahead(20)}T08:00:00-04:00",
    period={"start": _days_ahead(21)},
)


@pytest.mark.usefixtures("registered")
def test_card_and_page_name_a_plan_dated_only_after_today_instead_of_leaving_it_out_without_a_word():
    found = _card(AHEAD)
    assert found is not None  # not in force yet, so not counted
    assert (
        "A pain treatment plan dated after today is on record (Chronic low back pain plan (next visit), dated "
        f"{_days_ahead(21)}): it was not counted; check its date." in found.detail
    )
    line = _plan_line(AHEAD)
    assert line.label == "Care plan on record: Chronic low back pain plan (next visit)"
    assert line.day is None
    assert (
        line.detail == f"dated after today ({_days_ahead(21)}), so it was not taken for a current plan; check its date"
    )


@pytest.mark.usefixtures("registered")
def test_the_card_names_every_plan_it_did_not_count_one_paragraph_per_kind():
    # Two plans an interface sent with their dates stripped, and two written ahead for the next visits.
    undated = [
        {k: v for k, v in _plan(i, t, "").items() if k not in ("meta", "created", "period")}
        for i, t in (("eCP-nd1", "Knee osteoarthritis plan"), ("eCP-nd2", "Low back pain plan"))
    ]
    ahead = [
        _plan(i, t, f"{_days_ahead(n)}T08:00:00Z", created=f"{_days_ahead(n)}T08:00:00-04:00", period={})
        for i, t, n in (("eCP-a1", "Plan for the May visit", 10), ("eCP-a2", "Plan for the June visit", 40))
    ]
    detail = _card(*undated, *ahead).detail
    assert (
        "Pain treatment plans with no date are on record (Knee osteoarthritis plan; Low back pain plan): PainPlan "
        "could not tell when they were made, so they were not counted; check whether they are current." in detail
    )
    assert (
        f"Pain treatment plans dated after today are on record (Plan for the May visit, dated {_days_ahead(10)}; "
        f"Plan for the June visit, dated {_days_ahead(40)}): they were not counted; check their dates." in detail
    )
