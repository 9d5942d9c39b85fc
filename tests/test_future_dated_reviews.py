"""A benefit/harm review or PDMP review dated after today is no review: the card, the plan page's tile and the
data-incomplete card (and the page's completeness panel) read it so, and name it."""

from __future__ import annotations

from typing import Any

import pytest
from builders import NOW, PATIENT_ID, SNOMED, card, days_ago, dispense, med_request, run

from guideline.checks import CHECKS, pdmp_review, reassessment_due
from guideline.plan import build_plan

OXYCODONE = "1049621"
RISK_ASSESSMENT = "454281000124100"  # Assessment of risk for opioid abuse (procedure)
PDMP_PROCEDURE = "461621000124108"
PDMP_FINDING = "461651000124104"
FUTURE = "2026-07-01"  # the evaluation date is 2026-06-15


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, reassessment_due.CHECK_ID, reassessment_due)
    monkeypatch.setitem(CHECKS, pdmp_review.CHECK_ID, pdmp_review)


def ltot() -> list[dict[str, Any]]:
    return [dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]


def evaluation_r4(performed: str, ident: str = "pr-eval-future") -> dict[str, Any]:
    """R4: a benefit/harm review charted with a mistyped year or scheduled ahead, performedDateTime in the future."""
    return {
        "resourceType": "Procedure",
        "id": ident,
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {
            "coding": [{"system": SNOMED, "code": RISK_ASSESSMENT}],
            "text": "Opioid benefit/harm review",
        },
        "performedDateTime": f"{performed}T10:00:00-04:00",
    }


def evaluation_stu3_period(start: str, end: str) -> dict[str, Any]:
    """STU3: dated by a performedPeriod wholly after today."""
    resource = evaluation_r4(start, "pr-eval-stu3")
    del resource["performedDateTime"]
    resource["performedPeriod"] = {"start": f"{start}T10:00:00-04:00", "end": f"{end}T10:30:00-04:00"}
    return resource


def pdmp_row(answered: str) -> dict[str, Any]:
    """A site's flowsheet row "PDMP last reviewed", answered with a date after today."""
    return {
        "resourceType": "Observation",
        "id": "obs-pdmp-future",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": SNOMED, "code": PDMP_FINDING}], "text": "PDMP last reviewed"},
        "effectiveDateTime": f"{days_ago(0)}T09:00:00-04:00",
        "valueDateTime": answered,
    }


def pdmp_procedure(performed: str) -> dict[str, Any]:
    resource = evaluation_r4(performed, "pr-pdmp-future")
    resource["code"] = {"coding": [{"system": SNOMED, "code": PDMP_PROCEDURE}], "text": "CPMRS review"}
    return resource


def sign(resources: list[dict[str, Any]]):
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    return run("order-sign", drafts=[draft], resources=resources)


def tile(evaluation, key: str):
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    return view, {t.key: t for t in view.section("tasks").content}[key]


def test_a_review_dated_after_today_is_not_the_last_review_on_the_card_or_the_tile() -> None:
    evaluation = sign([*ltot(), evaluation_r4(days_ago(200), "pr-eval-old"), evaluation_r4(FUTURE)])
    found = card(evaluation, reassessment_due.CHECK_ID)
    assert found is not None
    assert found.facts["last_assessment"] == days_ago(200)
    assert f"The last documented evaluation was on {days_ago(200)}." in found.detail
    assert f"An evaluation is on record dated {FUTURE}, after today" in found.detail
    view, task = tile(evaluation, "reassessment")
    assert task.last_done.isoformat() == days_ago(200)
    assert task.state == "overdue"  # it said "Up to date" beside the card
    assert (
        f"Opioid benefit/harm review (procedure pr-eval-future), dated {FUTURE}, after today"
        in view.named["future-dated-reviews"]
    )


@pytest.mark.parametrize(
    "future", [evaluation_r4(FUTURE), evaluation_stu3_period(FUTURE, FUTURE)], ids=["R4", "STU3-period"]
)
def test_an_only_review_dated_after_today_is_no_review_and_is_named(future: dict[str, Any]) -> None:
    evaluation = sign([*ltot(), future])
    found = card(evaluation, reassessment_due.CHECK_ID)
    assert found is not None
    assert found.facts["last_assessment"] is None
    assert "The last documented evaluation" not in found.detail
    assert "No evaluation is on record." not in found.detail  # one is, dated after today
    view, task = tile(evaluation, "reassessment")
    assert task.last_done is None and task.state == "never"
    assert any(FUTURE in item for item in view.named["future-dated-reviews"])
    assert "dated after today" in view.note


@pytest.mark.parametrize("future", [pdmp_row(FUTURE), pdmp_procedure(FUTURE)], ids=["observation", "procedure"])
def test_a_pdmp_review_dated_after_today_is_no_review_and_is_named(future: dict[str, Any]) -> None:
    evaluation = sign([future])
    found = card(evaluation, pdmp_review.CHECK_ID)
    assert found is not None and found.facts["last_review"] is None
    assert f"A PDMP review is on record dated {FUTURE}, after today" in found.detail
    view, task = tile(evaluation, "pdmp")
    assert task.last_done is None
    assert view.named["future-dated-reviews"] == (
        f"{future['code']['text']} ({future['resourceType'].lower()} {future['id']}), dated {FUTURE}, after today",
    )


def test_a_review_dated_after_today_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    from cds_support import full_prefetch, hook_request, make_app

    prefetch = full_prefetch("patient-view")
    prefetch["extra"] = {"resourceType": "Bundle", "entry": [{"resource": evaluation_r4(FUTURE)}]}
    body = hook_request("patient-view", prefetch=prefetch)
    answer = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).get_json()
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert (
        f"Opioid benefit/harm review (procedure pr-eval-future), dated {FUTURE}, after today" in (incomplete["detail"])
    )


# -- a review dated after today whose status is unknown or unreadable ----------------------------------------------


def _unread(evaluation) -> tuple[str, ...]:
    """What the data-incomplete card names as reviews no check could count (and the plan page too)."""
    from guideline.named_gaps import NAMED_GAPS

    kind = next(kind for kind in NAMED_GAPS if kind.key == "unread-reviews")
    return kind.card_named(evaluation.facts)


def unknown_status(resource: dict[str, Any], status: Any = "unknown") -> dict[str, Any]:
    """The resource with a status PainPlan cannot tell: "unknown", or one sent as a list (read as none)."""
    return {**resource, "status": status}


@pytest.mark.parametrize("status", ["unknown", ["completed"]], ids=["unknown", "list"])
def test_an_evaluation_of_unknown_status_dated_after_today_is_named_not_dropped(status: Any) -> None:
    # Before: dated outside the window and of no status PainPlan reads, it was dropped unseen; the card said "No
    # evaluation is on record." and the tile "never" of a chart showing one.
    evaluation = sign([*ltot(), unknown_status(evaluation_r4(FUTURE), status)])
    found = card(evaluation, reassessment_due.CHECK_ID)
    assert found is not None and found.facts["last_assessment"] is None
    named = f"Opioid benefit/harm review (procedure pr-eval-future), status unknown, dated {FUTURE}, after today"
    assert _unread(evaluation) == (named,)
    view, task = tile(evaluation, "reassessment")
    assert task.last_done is None
    assert view.named["unread-reviews"] == (named,)


def test_an_evaluation_of_unknown_status_dated_by_a_period_after_today_is_named() -> None:
    """STU3: a performedPeriod wholly after today."""
    evaluation = sign([*ltot(), unknown_status(evaluation_stu3_period(FUTURE, FUTURE))])
    assert _unread(evaluation) == (
        f"Opioid benefit/harm review (procedure pr-eval-stu3), status unknown, dated {FUTURE}, after today",
    )


@pytest.mark.parametrize("status", ["unknown", ["final"]], ids=["unknown", "list"])
def test_a_pdmp_review_row_of_unknown_status_dated_after_today_is_named_not_dropped(status: Any) -> None:
    evaluation = sign([unknown_status(pdmp_row(FUTURE), status)])
    found = card(evaluation, pdmp_review.CHECK_ID)
    assert found is not None and found.facts["last_review"] is None
    named = f"PDMP last reviewed (observation obs-pdmp-future), status unknown, dated {FUTURE}, after today"
    assert _unread(evaluation) == (named,)
    view, _ = tile(evaluation, "pdmp")
    assert view.named["unread-reviews"] == (named,)


def test_a_pdmp_review_procedure_of_unknown_status_dated_after_today_is_named_not_dropped() -> None:
    evaluation = sign([unknown_status(pdmp_procedure(FUTURE))])
    assert card(evaluation, pdmp_review.CHECK_ID) is not None
    assert _unread(evaluation) == (
        f"CPMRS review (procedure pr-pdmp-future), status unknown, dated {FUTURE}, after today",
    )


def test_a_review_of_unknown_status_dated_after_today_is_not_named_beside_a_review_counted_in_the_window() -> None:
    """It could change nothing: the counted review keeps the card quiet, as for one of unknown status dated today."""
    counted = evaluation_r4(days_ago(30), "pr-pdmp-counted")
    counted["code"] = {"coding": [{"system": SNOMED, "code": PDMP_PROCEDURE}], "text": "CPMRS review"}
    evaluation = sign([counted, unknown_status(pdmp_procedure(FUTURE))])
    assert card(evaluation, pdmp_review.CHECK_ID) is None
    assert _unread(evaluation) == ()


@pytest.mark.parametrize("status", ["in-progress", "preparation"])
def test_a_pdmp_review_procedure_of_a_status_short_of_done_dated_after_today_is_no_review(status: str) -> None:
    """A status PainPlan reads that is not a review done (a review under way or scheduled): the card fires and asks
    for a review, as for one dated today; no review is claimed."""
    evaluation = sign([{**pdmp_procedure(FUTURE), "status": status}])
    found = card(evaluation, pdmp_review.CHECK_ID)
    assert found is not None and found.facts["last_review"] is None
