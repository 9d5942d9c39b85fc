"""`urine-drug-test` (guideline 10.3): no urine drug test in 12 months for longer-term opioid therapy."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from guideline.checks import CHECKS, urine_drug_test
from guideline.checks.urine_drug_test import CHECK_ID
from tests.builders import (
    LOINC,
    NOW,
    SNOMED,
    all_text,
    card,
    days_ago,
    dispense,
    encounter,
    med_request,
    observation,
    patient,
    run,
    service_request,
)

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
SUBOXONE_FILM = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film (MOUD_BUP, still triggers)
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn
COCAINE_SCREEN = "70146-6"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, urine_drug_test)


def chronic_draft(**kwargs: object) -> dict:
    return med_request(OXYCODONE, draft=True, id="ox1", supply_days=30, **kwargs)


def acute_draft() -> dict:
    return med_request(OXYCODONE, draft=True, id="ox2", supply_days=5)


def ltot_dispenses() -> list[dict]:
    """Opioid supply on every day of the last 90: long-term therapy (5.2)."""
    return [dispense(OXYCODONE, days_ago(d), days_supply=30) for d in (89, 59, 29)]


def uds(days: int, value: str | None = "negative", code: str = OXYCODONE_SCREEN, **kwargs: object) -> dict:
    return observation(code, when=days_ago(days), value_string=value, **kwargs)


# -- fires -----------------------------------------------------------------------------------------------------


def test_new_chronic_order_without_any_test_on_record() -> None:
    found = card(run("order-sign", drafts=[chronic_draft()]), CHECK_ID)
    assert found is not None
    assert found.indicator == "info"
    assert found.summary == "Order a urine drug test: none on record for a patient starting or on longer-term opioids"
    assert "no urine drug test result on record" in found.detail
    assert "oxycodone hydrochloride 5 MG Oral Tablet is for longer-term use (30 days' supply)" in found.detail
    assert "not a punishment" in found.detail and "never to dismissing the patient" in found.detail
    assert "*Based on: urine drug test results in the last 12 months" in found.detail
    assert found.view == "uds"
    assert any(link.url.endswith("#Recommendation10") for link in found.links)
    assert any(link.type == "smart" and link.view == "uds" for link in found.links)
    assert [r.code for r in found.override_reasons] == [
        "uds-done-elsewhere",
        "uds-not-indicated",
        "patient-declined",
        "excluded-condition",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    lowered = all_text(found).lower()
    for word in ("clean", "dirty", "abuse", "addict", "drug-seeking"):
        assert word not in lowered


def test_suggestion_creates_a_valid_draft_urine_drug_screen_order() -> None:
    found = card(run("order-sign", drafts=[chronic_draft()]), CHECK_ID)
    assert found is not None
    [suggestion] = found.suggestions
    assert suggestion.label == "Order a urine drug screen"
    assert suggestion.action == "create" and suggestion.is_recommended
    resource = dict(suggestion.resource)
    ServiceRequest.model_validate(resource)
    assert resource["status"] == "draft" and resource["intent"] == "proposal"
    assert resource["code"]["coding"] == [
        {"system": SNOMED, "code": "310627008", "display": "Urine drug screening (procedure)"}
    ]
    assert resource["code"]["text"] == "Urine drug screen"
    assert resource["subject"] == {"reference": "Patient/p1"}
    assert resource["encounter"] == {"reference": "Encounter/enc1"}
    assert resource["requester"] == {"reference": "Practitioner/dr1"}
    assert resource["authoredOn"] == NOW.isoformat()


def test_requester_omitted_for_a_non_practitioner_user() -> None:
    found = card(run("order-sign", drafts=[chronic_draft()], user_id="Patient/p1"), CHECK_ID)
    assert found is not None
    assert "requester" not in found.suggestions[0].resource


def test_last_test_older_than_twelve_months_is_named() -> None:
    found = card(run("order-sign", drafts=[chronic_draft()], resources=[uds(400)]), CHECK_ID)
    assert found is not None
    assert "(last 2025-05-11)" in found.summary
    assert "**2025-05-11**" in found.detail
    assert len(found.summary) <= 139
    assert found.facts["last_test"] == "2025-05-11"


def test_acute_order_for_a_long_term_patient_fires() -> None:
    found = card(run("order-sign", drafts=[acute_draft()], resources=ltot_dispenses()), CHECK_ID)
    assert found is not None
    assert "Long-term opioid therapy" in found.detail
    assert "30/30" in found.detail


def test_acute_order_with_an_active_longer_term_order_fires() -> None:
    active_chronic = med_request(OXYCODONE, authored=days_ago(10), supply_days=60)
    found = card(run("order-sign", drafts=[acute_draft()], resources=[active_chronic]), CHECK_ID)
    assert found is not None
    assert "Active longer-term order for oxycodone hydrochloride 5 MG Oral Tablet (60 days' supply)" in found.detail


def test_continuous_course_of_therapy_counts_as_longer_term() -> None:
    draft = med_request(OXYCODONE, draft=True, supply_days=5, course="continuous")
    found = card(run("order-sign", drafts=[draft]), CHECK_ID)
    assert found is not None
    assert "marked as continuous therapy" in found.detail


def test_moud_buprenorphine_draft_still_triggers() -> None:
    draft = med_request(SUBOXONE_FILM, draft=True, supply_days=30)
    assert card(run("order-sign", drafts=[draft]), CHECK_ID) is not None


def test_patient_view_long_term_patient_without_test() -> None:
    found = card(run("patient-view", resources=ltot_dispenses()), CHECK_ID)
    assert found is not None
    assert found.orders == ()


def test_patient_view_active_longer_term_order() -> None:
    active_chronic = med_request(OXYCODONE, authored=days_ago(10), supply_days=60)
    assert card(run("patient-view", resources=[active_chronic]), CHECK_ID) is not None


def test_lookback_window_is_configurable() -> None:
    config = {"checks": {CHECK_ID: {"lookback_months": 3}}}
    evaluation = run("order-sign", drafts=[chronic_draft()], resources=[uds(100)], config=config)
    found = card(evaluation, CHECK_ID)
    assert found is not None and "Order a urine drug test: none in 3 months" in found.summary


def test_indicator_is_configurable() -> None:
    config = {"checks": {CHECK_ID: {"indicator": "warning"}}}
    assert card(run("order-sign", drafts=[chronic_draft()], config=config), CHECK_ID).indicator == "warning"


def test_site_orderable_replaces_the_suggested_code_and_suppresses_when_pending() -> None:
    site = {
        "system": "urn:com.epic.cdshooks.action.code.system.preference-list-item",
        "code": "UDS123",
        "display": "Drug screen, urine",
    }
    config = {"suggestions": {"uds_code": site}}
    found = card(run("order-sign", drafts=[chronic_draft()], config=config), CHECK_ID)
    assert found is not None
    assert found.suggestions[0].resource["code"]["coding"] == [site]
    pending = service_request(site["system"], "UDS123", authored=days_ago(3))
    assert card(run("order-sign", drafts=[chronic_draft()], resources=[pending], config=config), CHECK_ID) is None


# -- does not fire ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "result",
    [
        pytest.param({"value": "negative"}, id="negative"),
        # A value not read; a result with no value at all is no test read (test_uds_no_value).
        pytest.param({"value": "Inconclusive"}, id="no interpretable value"),
        pytest.param({"value": None, "interpretation": "POS", "value_code": (SNOMED, "260385009")}, id="indeterminate"),
        # A preliminary result with a value; one with none is awaiting its result (test_uds_preliminary_no_value).
        pytest.param({"value": "Negative", "status": "preliminary"}, id="preliminary"),
        pytest.param({"value": "positive", "code": COCAINE_SCREEN}, id="other substance"),
        pytest.param({"value": "negative", "category": None}, id="no category"),
    ],
)
def test_any_test_result_in_twelve_months_satisfies(result: dict) -> None:
    evaluation = run("order-sign", drafts=[chronic_draft()], resources=[uds(300, **result)])
    assert card(evaluation, CHECK_ID) is None


def test_test_exactly_twelve_months_ago_still_counts() -> None:
    assert card(run("order-sign", drafts=[chronic_draft()], resources=[uds(365)]), CHECK_ID) is None
    assert card(run("order-sign", drafts=[chronic_draft()], resources=[uds(366)]), CHECK_ID) is not None


def test_cancelled_observation_does_not_count_as_a_test() -> None:
    evaluation = run("order-sign", drafts=[chronic_draft()], resources=[uds(30, status="cancelled")])
    assert card(evaluation, CHECK_ID) is not None


def test_acute_order_for_an_opioid_naive_patient_does_not_fire() -> None:
    assert card(run("order-sign", drafts=[acute_draft()]), CHECK_ID) is None


def test_order_sign_without_an_opioid_order_does_not_fire() -> None:
    lorazepam = med_request("197901", draft=True, supply_days=30)
    assert card(run("order-sign", drafts=[lorazepam], resources=ltot_dispenses()), CHECK_ID) is None


def test_patient_view_without_longer_term_therapy_does_not_fire() -> None:
    short = med_request(OXYCODONE, authored=days_ago(2), supply_days=5)
    assert card(run("patient-view", resources=[short]), CHECK_ID) is None


@pytest.mark.parametrize(
    ("request_", "suppressed"),
    [
        pytest.param(service_request(SNOMED, "310627008", authored=days_ago(10)), True, id="active SNOMED, 10 days"),
        pytest.param(service_request(SNOMED, "310627008", authored=days_ago(30)), True, id="active, 30 days"),
        pytest.param(service_request(SNOMED, "310627008", authored=days_ago(31)), False, id="active, 31 days"),
        pytest.param(
            service_request(SNOMED, "310627008", authored=days_ago(5), status="draft"), True, id="draft status"
        ),
        pytest.param(service_request(LOINC, "42235-2", authored=days_ago(5)), True, id="UDS LOINC"),
        pytest.param(
            service_request(SNOMED, "310627008", authored=days_ago(5), status="completed"), False, id="completed"
        ),
        pytest.param(service_request(SNOMED, "183519002", authored=days_ago(5)), False, id="other service"),
    ],
)
def test_pending_urine_drug_screen_order_suppresses(request_: dict, suppressed: bool) -> None:
    evaluation = run("order-sign", drafts=[chronic_draft()], resources=[request_])
    assert (card(evaluation, CHECK_ID) is None) is suppressed


def test_pending_order_window_is_configurable() -> None:
    config = {"checks": {CHECK_ID: {"pending_order_days": 60}}}
    older = service_request(SNOMED, "310627008", authored=days_ago(45))
    assert card(run("order-sign", drafts=[chronic_draft()], resources=[older], config=config), CHECK_ID) is None


def test_draft_screen_in_the_same_order_session_suppresses() -> None:
    drafted = service_request(SNOMED, "310627008", authored=days_ago(200), status="draft")
    assert card(run("order-sign", drafts=[chronic_draft(), drafted]), CHECK_ID) is None
    cancelled = service_request(SNOMED, "310627008", status="cancelled")
    assert card(run("order-sign", drafts=[chronic_draft(), cancelled]), CHECK_ID) is not None


def test_general_exclusions_stop_the_card() -> None:
    teen = patient(birth_date="2010-01-01")
    assert card(run("order-sign", drafts=[chronic_draft()], resources=[teen]), CHECK_ID) is None
    hospice = encounter(start=days_ago(40), discharge=(SNOMED, "385763009"))
    assert card(run("patient-view", resources=[*ltot_dispenses(), hospice]), CHECK_ID) is None


def test_disabled_check_and_hooks() -> None:
    off = {"checks": {CHECK_ID: {"enabled": False}}}
    assert card(run("order-sign", drafts=[chronic_draft()], config=off), CHECK_ID) is None
    # order-select is not one of this check's hooks by default.
    evaluation = run("order-select", drafts=[chronic_draft()], selections=["MedicationRequest/ox1"])
    assert card(evaluation, CHECK_ID) is None


# -- a proposal is no order ------------------------------------------------------------------------------------


def _screen(intent: str | None, *, kind: str = "ServiceRequest", status: str = "active", ago: int = 5) -> dict:
    request = service_request(SNOMED, "310627008", authored=days_ago(ago), status=status)
    request["resourceType"] = kind
    if intent is None:
        del request["intent"]  # DSTU2's ProcedureRequest has no intent
    else:
        request["intent"] = intent
    return request


@pytest.mark.parametrize(
    ("request_", "suppressed"),
    [
        # Another decision-support tool's suggestion, or a care-plan item nobody signed, silenced the card for a test
        # nobody had ordered, as a medication proposal is no order (3.2).
        pytest.param(_screen("proposal"), False, id="R4 proposal"),
        pytest.param(_screen("plan"), False, id="R4 plan"),
        pytest.param(_screen("option"), False, id="R4 option"),
        pytest.param(_screen("proposal", status="draft"), False, id="R4 proposal, draft status on record"),
        pytest.param(_screen("order"), True, id="R4 order"),
        pytest.param(_screen("original-order"), True, id="R4 original-order"),
        pytest.param(_screen("filler-order"), True, id="R4 filler-order"),
        # STU3's ProcedureRequest names its intents with the same codes.
        pytest.param(_screen("proposal", kind="ProcedureRequest"), False, id="STU3 proposal"),
        pytest.param(_screen("plan", kind="ProcedureRequest"), False, id="STU3 plan"),
        pytest.param(_screen("order", kind="ProcedureRequest"), True, id="STU3 order"),
        # DSTU2's ProcedureRequest states no intent: its requests are orders, as before.
        pytest.param(_screen(None, kind="ProcedureRequest", status="requested"), True, id="DSTU2 requested"),
        pytest.param(_screen(None, kind="ProcedureRequest", status="accepted"), True, id="DSTU2 accepted"),
        pytest.param(_screen(None, kind="ProcedureRequest", status="proposed"), False, id="DSTU2 proposed"),
    ],
)
def test_only_an_order_not_a_proposal_suppresses(request_: dict, suppressed: bool) -> None:
    evaluation = run("order-sign", drafts=[chronic_draft()], resources=[request_])
    assert (card(evaluation, CHECK_ID) is None) is suppressed


def test_a_proposal_drafted_in_this_order_session_still_suppresses() -> None:
    # The card's own suggestion is of intent proposal by default (suggestions.order_intent): accepted, it comes back
    # as a draft of this order session, and the clinician is about to sign it.
    drafted = _screen("proposal", status="draft", ago=0)
    assert card(run("order-sign", drafts=[chronic_draft(), drafted]), CHECK_ID) is None


@pytest.mark.parametrize(
    ("request_", "pending"),
    [
        pytest.param(_screen("proposal"), False, id="proposal"),
        pytest.param(_screen("order"), True, id="order"),
        pytest.param(_screen("order", ago=45), False, id="order outside the pending window"),
        pytest.param(_screen(None, kind="ProcedureRequest", status="requested"), True, id="DSTU2 order"),
        pytest.param(_screen("order", status="completed"), False, id="completed order"),
    ],
)
def test_the_plan_page_shows_as_pending_exactly_the_orders_that_keep_the_card_quiet(
    request_: dict, pending: bool
) -> None:
    # The page listed any active screen order as pending, of any intent and any age, beside a card asking for one.
    from guideline.plan import build_plan

    evaluation = run("patient-view", resources=[*ltot_dispenses(), request_])
    shown = build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.pending
    assert (card(evaluation, CHECK_ID) is None) is pending
    assert bool(shown) is pending


def test_the_plan_page_reads_the_checks_pending_window() -> None:
    from guideline.plan import build_plan

    config = {"checks": {CHECK_ID: {"pending_order_days": 60}}}
    evaluation = run("patient-view", resources=[*ltot_dispenses(), _screen("order", ago=45)], config=config)
    assert card(evaluation, CHECK_ID) is None
    [pending] = build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.pending
    assert pending.endswith(f"ordered {days_ago(45)}")


# -- the plan's urine drug test tile reads the card's window ---------------------------------------------------


@pytest.mark.parametrize(
    ("months", "tested_ago", "card_fires"),
    [
        (6, 240, True),  # the tile read 12 months: "up to date" beside a card asking for a test
        (12, 240, False),
        (12, 400, True),
    ],
)
def test_the_plan_tile_is_overdue_exactly_when_the_card_fires(months: int, tested_ago: int, card_fires: bool) -> None:
    from guideline.plan import build_plan

    config = {"checks": {CHECK_ID: {"lookback_months": months}}}
    evaluation = run("patient-view", resources=[*ltot_dispenses(), uds(tested_ago)], config=config)
    assert (card(evaluation, CHECK_ID) is not None) is card_fires
    tile = next(
        t for t in build_plan(evaluation, (), evaluation.facts.config, NOW).section("tasks").content if t.key == "uds"
    )
    assert (tile.state == "overdue") is card_fires


def test_a_result_dated_in_the_future_is_not_the_last_test() -> None:
    # A result dated after today is in no window the card reads: taken as the last test, the card said "last
    # <a future day>, over 12 months ago" and the plan's tile showed the test as done beside the card.
    from guideline.plan import build_plan

    evaluation = run("patient-view", resources=[*ltot_dispenses(), uds(-5), uds(500)])
    found = card(evaluation, CHECK_ID)
    assert found is not None and f"(last {days_ago(500)})" in found.summary
    tile = next(
        t for t in build_plan(evaluation, (), evaluation.facts.config, NOW).section("tasks").content if t.key == "uds"
    )
    assert tile.last_done.isoformat() == days_ago(500) and tile.state == "overdue"
