"""`treatment-plan` (guideline 10.12): longer-term opioids starting without a documented pain treatment plan."""

from __future__ import annotations

from typing import Any

import pytest
from builders import (
    LOINC,
    SNOMED,
    assert_person_centred,
    card,
    days_ago,
    dispense,
    med_request,
    patient,
    procedure,
    run,
)

from guideline.cards import SUMMARY_LIMIT
from guideline.checks import CHECKS, treatment_plan

CHECK = treatment_plan.CHECK_ID
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
BUP_NALOXONE = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film (MOUD_BUP)
PLAN_NOTE = "80764-4"  # LOINC Pain medicine Plan of care note
PAIN_MANAGEMENT = "408957008"  # SNOMED Chronic pain control management (procedure)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK, treatment_plan)


def oxy(days: int | None = 30, **kwargs: object) -> dict:
    return med_request(OXYCODONE, draft=True, id="ox1", supply_days=days, **kwargs)  # type: ignore[arg-type]


def care_plan(
    *, created: str | None = None, status: str = "active", category: str = PLAN_NOTE, **extra: Any
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": f"cp-{category}-{status}-{created}",
        "status": status,
        "intent": "plan",
        "subject": {"reference": "Patient/p1"},
        "category": [{"coding": [{"system": LOINC, "code": category}]}],
        **extra,
    }
    if created:
        resource["created"] = created
    return resource


def plan_note(*, date: str, status: str = "current") -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": f"doc-{status}-{date}",
        "status": status,
        "type": {"coding": [{"system": LOINC, "code": PLAN_NOTE}]},
        "subject": {"reference": "Patient/p1"},
        "date": f"{date}T10:00:00-04:00",
        "content": [{"attachment": {"contentType": "text/plain"}}],
    }


def sign(*drafts: dict, resources: list[dict] | None = None, config: dict | None = None):
    return card(run("order-sign", drafts=list(drafts), resources=resources or [], config=config), CHECK)


def test_longer_term_start_without_plan_is_info_with_a_plan_link() -> None:
    result = sign(oxy())
    assert result is not None and result.indicator == "info"
    assert "oxycodone hydrochloride 5 MG Oral Tablet" in result.summary and len(result.summary) <= SUMMARY_LIMIT
    assert "oxycodone hydrochloride 5 MG Oral Tablet (30 days' supply)" in result.detail
    assert "goals for pain and function" in result.detail and "tapered and stopped" in result.detail
    assert "*Based on:" in result.detail
    assert result.suggestions == ()
    smart, rec2 = result.links
    assert (smart.type, smart.view, smart.label) == ("smart", "plan-start", "Create or review pain treatment plan")
    assert rec2.url.endswith("#Recommendation2")
    assert result.view == "plan" and result.orders == ("ox1",)
    assert [r.code for r in result.override_reasons] == [
        "plan-documented",
        "benefits-outweigh-risks",
        "excluded-condition",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert_person_centred(result)


def test_acute_order_does_not_fire() -> None:
    assert sign(oxy(10)) is None


def test_continuous_course_with_unknown_supply_fires() -> None:
    result = sign(oxy(None, course="continuous"))
    assert result is not None and "(marked for continuous use)" in result.detail


def test_patient_already_on_opioids_does_not_fire() -> None:
    assert sign(oxy(), resources=[dispense(OXYCODONE, days_ago(20), days_supply=30)]) is None


def test_recent_care_plan_suppresses() -> None:
    assert sign(oxy(), resources=[care_plan(created=days_ago(30))]) is None


def test_care_plan_by_another_clinician_counts() -> None:
    """Reference differs: it requires the plan's author to be the prescriber."""
    plan = care_plan(created=days_ago(30), author={"reference": "Practitioner/someone-else"})
    assert sign(oxy(), resources=[plan]) is None


@pytest.mark.parametrize(
    "plan",
    [
        care_plan(created=days_ago(200), meta={"lastUpdated": f"{days_ago(10)}T09:00:00Z"}),
        care_plan(created=days_ago(200), period={"start": days_ago(5)}),
        care_plan(created=days_ago(60), status="completed"),
    ],
    ids=["updated-recently", "period-starts-in-window", "completed"],
)
def test_care_plan_dates_and_statuses_that_count(plan: dict) -> None:
    assert sign(oxy(), resources=[plan]) is None


@pytest.mark.parametrize(
    "plan",
    [
        care_plan(created=days_ago(91)),
        care_plan(created=days_ago(10), status="draft"),
        care_plan(created=days_ago(10), category="18776-5"),
    ],
    ids=["too-old", "draft-status", "other-category"],
)
def test_care_plans_that_do_not_count(plan: dict) -> None:
    assert sign(oxy(), resources=[plan]) is not None


def test_pain_management_procedure_counts_within_the_window() -> None:
    assert sign(oxy(), resources=[procedure(SNOMED, PAIN_MANAGEMENT, performed=days_ago(20))]) is None
    assert sign(oxy(), resources=[procedure(SNOMED, PAIN_MANAGEMENT, performed=days_ago(100))]) is not None


def test_plan_note_counts_unless_disabled_or_superseded() -> None:
    note = plan_note(date=days_ago(10))
    assert sign(oxy(), resources=[note]) is None
    config = {"checks": {CHECK: {"accept_document_reference": False}}}
    result = sign(oxy(), resources=[note], config=config)
    assert result is not None and "plan notes" not in result.detail
    assert sign(oxy(), resources=[plan_note(date=days_ago(10), status="superseded")]) is not None


def test_lookback_is_configurable() -> None:
    plan = care_plan(created=days_ago(60))
    result = sign(oxy(), resources=[plan], config={"checks": {CHECK: {"lookback_days": 45}}})
    assert result is not None and "last 45 days" in result.detail


def test_buprenorphine_for_oud_is_exempt_by_default() -> None:
    moud = med_request(BUP_NALOXONE, draft=True, id="bup1", supply_days=30)
    assert sign(moud) is None
    assert sign(moud, config={"moud_orders_exempt_from": []}) is not None


def test_under_18_excludes_and_unknown_age_does_not() -> None:
    assert sign(oxy(), resources=[patient(birth_date="2010-01-01")]) is None
    assert sign(oxy(), resources=[patient(birth_date=None)]) is not None


def test_disabled_check_is_silent() -> None:
    assert sign(oxy(), config={"checks": {CHECK: {"enabled": False}}}) is None
