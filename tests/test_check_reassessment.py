"""`reassessment-due` (guideline 10.8): long-term or recently started opioids without a benefit/harm evaluation."""

from __future__ import annotations

import pytest
from builders import (
    ICD10,
    SNOMED,
    assert_person_centred,
    card,
    condition,
    days_ago,
    dispense,
    med_request,
    procedure,
    run,
    service_request,
)
from fhir.resources.R4B.servicerequest import ServiceRequest

from guideline.cards import SUMMARY_LIMIT
from guideline.checks import CHECKS, reassessment_due

CHECK = reassessment_due.CHECK_ID
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
BUP_NALOXONE = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film (MOUD_BUP)
RISK_ASSESSMENT = "454281000124100"  # Assessment of risk for opioid abuse (procedure)
OVERDOSE_RISK_ASSESSMENT = "866024000"  # Assessment of risk for accidental opioid overdose (procedure)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK, reassessment_due)


def ltot() -> list[dict]:
    """Opioid supply on every day of the three 30-day windows (guideline 5.2)."""
    return [dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]


def recent_start() -> list[dict]:
    """Supply on the last 10 days only: a recent start, not long-term therapy."""
    return [dispense(OXYCODONE, days_ago(9), days_supply=30)]


def draft(days: int = 5, rxcui: str = OXYCODONE, id: str = "ox1") -> dict:
    return med_request(rxcui, draft=True, id=id, supply_days=days)


def sign(*drafts: dict, resources: list[dict], config: dict | None = None):
    return card(run("order-sign", drafts=list(drafts), resources=resources, config=config), CHECK)


def test_long_term_patient_without_evaluation_gets_a_warning_with_the_windows() -> None:
    result = sign(draft(5), resources=ltot())
    assert result is not None
    assert result.indicator == "warning"
    assert result.facts["branch"] == "A"
    assert result.summary.startswith("Opioids on 90 of the last 90 days") and "91 days" in result.summary
    assert len(result.summary) <= SUMMARY_LIMIT
    assert "| 2026-03-18 to 2026-04-16 | 30 of 30 |" in result.detail
    assert "| 2026-04-17 to 2026-05-16 | 30 of 30 |" in result.detail
    assert "| 2026-05-17 to 2026-06-15 | 30 of 30 |" in result.detail
    assert "No evaluation is on record." in result.detail
    assert "every 3 months" in result.detail and "*Based on:" in result.detail
    assert [r.code for r in result.override_reasons] == [
        "assessment-done",
        "benefits-outweigh-risks",
        "excluded-condition",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert any(link.url.endswith("#Recommendation7") for link in result.links)
    assert_person_centred(result)


def test_suggestion_creates_a_valid_assessment_service_request() -> None:
    result = sign(draft(5), resources=ltot())
    assert result is not None
    (suggestion,) = result.suggestions
    assert suggestion.label == "Order an opioid benefit/risk assessment"
    assert suggestion.action == "create" and suggestion.is_recommended is True
    resource = dict(suggestion.resource or {})
    assert resource["code"]["coding"] == [
        {"system": SNOMED, "code": RISK_ASSESSMENT, "display": "Assessment of risk for opioid abuse (procedure)"}
    ]
    assert resource["code"]["text"] == "Opioid therapy benefit and risk assessment"
    assert resource["status"] == "draft" and resource["intent"] == "proposal"
    assert resource["subject"] == {"reference": "Patient/p1"}
    assert resource["encounter"] == {"reference": "Encounter/enc1"}
    assert resource["requester"] == {"reference": "Practitioner/dr1"}
    assert resource["authoredOn"].startswith("2026-06-15T12:00")
    ServiceRequest.model_validate(resource)


def test_order_intent_follows_configuration() -> None:
    result = sign(draft(5), resources=ltot(), config={"suggestions": {"order_intent": "order"}})
    assert result is not None and result.suggestions[0].resource["intent"] == "order"  # type: ignore[index]


def test_recent_start_with_a_longer_term_order_is_branch_b() -> None:
    """Reference differs: its recent-start branch also needs an office visit; no Encounter is needed here."""
    result = sign(draft(30), resources=recent_start())
    assert result is not None and result.facts["branch"] == "B"
    assert result.summary.startswith("Opioids started recently (10 of the last 10 days)")
    assert "10 of the last 10 days" in result.detail
    assert "| last 10 days, 2026-06-06 to 2026-06-15 | 10 of 10 |" in result.detail


def test_recent_start_with_an_acute_order_does_not_fire() -> None:
    assert sign(draft(5), resources=recent_start()) is None


def test_naive_patient_does_not_fire() -> None:
    assert sign(draft(30), resources=[]) is None


def test_drafts_do_not_count_toward_the_days() -> None:
    """Three draft 30-day orders do not make a patient long-term: only real prescriptions and dispenses count."""
    drafts = [draft(30, id=f"d{i}") for i in range(3)]
    assert sign(*drafts, resources=[]) is None


def test_evaluation_within_91_days_suppresses() -> None:
    resources = [*ltot(), procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(91))]
    assert sign(draft(), resources=resources) is None


def test_evaluation_older_than_the_window_is_named() -> None:
    resources = [*ltot(), procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(92))]
    result = sign(draft(), resources=resources)
    assert result is not None
    assert "The last documented evaluation was on 2026-03-15." in result.detail


def test_any_code_of_the_seven_code_set_counts_and_period_end_is_read() -> None:
    """Reference differs: a 1-code set and performedPeriod.start only."""
    assessment = procedure(SNOMED, OVERDOSE_RISK_ASSESSMENT)
    del assessment["performedDateTime"]
    assessment["performedPeriod"] = {"start": days_ago(120), "end": days_ago(10)}
    assert sign(draft(), resources=[*ltot(), assessment]) is None


def test_an_evaluation_dated_by_r4_performed_string_counts() -> None:
    # R4's performed[x] may be a string; a date written there was no date, so a review done last week read as none
    # ("No evaluation is on record"). Words that are no date still date nothing.
    assessment = procedure(SNOMED, RISK_ASSESSMENT)
    del assessment["performedDateTime"]
    assessment["performedString"] = days_ago(10)
    assert sign(draft(), resources=[*ltot(), assessment]) is None
    assessment["performedString"] = "during the last visit"
    assert sign(draft(), resources=[*ltot(), assessment]) is not None


def test_an_undated_evaluation_is_named_not_called_none() -> None:
    # An evaluation recorded without a date cannot show a recent review, so the card still fires; but it said
    # "No evaluation is on record", which the clinician can see is false.
    assessment = procedure(SNOMED, RISK_ASSESSMENT)
    del assessment["performedDateTime"]
    result = sign(draft(), resources=[*ltot(), assessment])
    assert result is not None
    assert "No evaluation is on record" not in result.detail
    assert "An evaluation is on record without a date" in result.detail


def test_in_progress_counts_but_not_done_does_not() -> None:
    in_progress = procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(5), status="in-progress")
    assert sign(draft(), resources=[*ltot(), in_progress]) is None
    not_done = procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(5), status="not-done")
    assert sign(draft(), resources=[*ltot(), not_done]) is not None


def test_lookback_is_configurable() -> None:
    resources = [*ltot(), procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(70))]
    result = sign(draft(), resources=resources, config={"checks": {CHECK: {"lookback_days": 60}}})
    assert result is not None and "60 days" in result.summary


def test_pending_assessment_order_suppresses() -> None:
    pending = service_request(SNOMED, RISK_ASSESSMENT, authored=days_ago(10))
    assert sign(draft(), resources=[*ltot(), pending]) is None


def test_a_dstu2_assessment_order_in_progress_suppresses() -> None:
    # DSTU2 has no "active": an evaluation ordered last week, accepted by the clinic, read as no order at all.
    ordered = service_request(SNOMED, RISK_ASSESSMENT, authored=days_ago(7), status="accepted")
    ordered["resourceType"] = "ProcedureRequest"
    assert sign(draft(), resources=[*ltot(), ordered]) is None


@pytest.mark.parametrize("intent", ["proposal", "plan", "option"])
def test_an_assessment_proposed_but_not_ordered_does_not_suppress(intent: str) -> None:
    # A suggestion from another decision-support tool, or a care-plan item nobody signed, is no order (3.2).
    proposed = service_request(SNOMED, RISK_ASSESSMENT, authored=days_ago(10), intent=intent)
    assert sign(draft(), resources=[*ltot(), proposed]) is not None


def test_old_or_completed_assessment_order_does_not_suppress() -> None:
    old = service_request(SNOMED, RISK_ASSESSMENT, authored=days_ago(40))
    assert sign(draft(), resources=[*ltot(), old]) is not None
    revoked = service_request(SNOMED, RISK_ASSESSMENT, authored=days_ago(2), status="revoked")
    assert sign(draft(), resources=[*ltot(), revoked]) is not None


def test_assessment_order_drafted_in_this_session_suppresses() -> None:
    """An accepted suggestion comes back as a draft ServiceRequest on the next call."""
    drafted = service_request(SNOMED, RISK_ASSESSMENT, status="draft", intent="proposal")
    assert sign(draft(), drafted, resources=ltot()) is None


def test_buprenorphine_for_oud_is_exempt_by_default() -> None:
    moud = draft(30, rxcui=BUP_NALOXONE, id="bup1")
    assert sign(moud, resources=ltot()) is None
    result = sign(moud, resources=ltot(), config={"moud_orders_exempt_from": []})
    assert result is not None and result.orders == ("bup1",)


def test_disabled_check_is_silent() -> None:
    assert sign(draft(), resources=ltot(), config={"checks": {CHECK: {"enabled": False}}}) is None


def test_active_cancer_excludes() -> None:
    cancer = condition(ICD10, "C50.011", display="Malignant neoplasm of nipple and areola, right female breast")
    assert sign(draft(), resources=[*ltot(), cancer]) is None


# -- the plan page's tile reads the card's window ----------------------------------------------------------------


def _tile_and_card(resources: list[dict], config: dict | None = None):
    from builders import NOW

    from guideline.plan import build_plan

    evaluation = run("patient-view", resources=resources, config=config)
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    tile = next(t for t in view.section("tasks").content if t.key == "reassessment")
    return tile, card(evaluation, CHECK)


@pytest.mark.parametrize(
    ("ago", "config"),
    [
        # 92 days ago: outside the card's 91 days, while the tile's "3 months" made it due today, "Due soon".
        pytest.param(92, None, id="92 days, default window"),
        # A site's 60-day window: the tile, reading 3 months, said "Up to date" beside the card.
        pytest.param(70, {"checks": {CHECK: {"lookback_days": 60}}}, id="70 days, 60-day window"),
    ],
)
def test_the_tile_is_overdue_whenever_the_card_finds_no_review_in_its_window(ago: int, config: dict | None) -> None:
    tile, found = _tile_and_card([*ltot(), procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(ago))], config)
    assert found is not None
    assert tile.state == "overdue"
    days = (config or {}).get("checks", {}).get(CHECK, {}).get("lookback_days", 91)
    assert f"{days} days" in tile.detail


def test_a_review_inside_the_window_is_up_to_date_until_the_window_ends() -> None:
    from datetime import timedelta

    from builders import TODAY

    tile, found = _tile_and_card([*ltot(), procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(30))])
    assert found is None
    assert tile.state == "done" and tile.next_due == TODAY - timedelta(days=30) + timedelta(days=91)


def test_a_dose_increase_never_moves_an_overdue_review_later() -> None:
    # A dose increase 20 days ago set the tile's due date 1–4 weeks after it, "Due soon", though the last review was
    # 100 days ago and the card found none in its 91 days.
    resources = [
        med_request(OXYCODONE, id=f"old-{n}", status="completed", authored=days_ago(200 - 30 * n), supply_days=30)
        for n in range(6)
    ]
    resources += [
        med_request(OXYCODONE, id="now", authored=days_ago(20), dose=2, supply_days=30),
        procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(100)),
    ]
    tile, found = _tile_and_card(resources)
    assert found is not None
    assert tile.state == "overdue" and "1–4 weeks" in tile.detail


def _unread_reviews(evaluation) -> tuple[str, ...]:
    """What the data-incomplete card and the plan page name as reviews not counted (none before they were named)."""
    from guideline.named_gaps import NAMED_GAPS

    kinds = [kind for kind in NAMED_GAPS if kind.key == "unread-reviews"]
    return kinds[0].items(evaluation.facts) if kinds else ()


@pytest.mark.parametrize("status", [["completed"], "unknown", None])
def test_an_evaluation_of_unreadable_or_unknown_status_is_named_when_none_counts(status: object) -> None:
    # Done last week, its status sent as a list (or "unknown", or none): whether it was done cannot be told, so it
    # is not counted and the card fires, but the card and the page now say an evaluation is on record.
    assessment = {**procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(5)), "id": "pr-eval-list", "status": status}
    if status is None:
        del assessment["status"]
    evaluation = run("order-sign", drafts=[draft()], resources=[*ltot(), assessment])
    assert card(evaluation, CHECK) is not None
    assert _unread_reviews(evaluation) == ("opioid treatment evaluation (procedure pr-eval-list), status unknown",)


def test_an_evaluation_of_unknown_status_beside_one_counted_is_not_named() -> None:
    unknown = {**procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(5)), "status": "unknown"}
    counted = procedure(SNOMED, RISK_ASSESSMENT, performed=days_ago(40))
    evaluation = run("order-sign", drafts=[draft()], resources=[*ltot(), unknown, counted])
    assert card(evaluation, CHECK) is None
    assert _unread_reviews(evaluation) == ()
