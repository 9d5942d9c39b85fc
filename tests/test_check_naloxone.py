"""`naloxone` (guideline 10.5): offer naloxone when overdose risk is elevated (R1–R5), rescue products only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from guideline.checks import CHECKS, naloxone
from guideline.checks.naloxone import CHECK_ID
from tests.builders import (
    ICD10,
    NOW,
    RXNORM,
    SNOMED,
    assert_person_centred,
    card,
    condition,
    days_ago,
    dispense,
    encounter,
    med_request,
    patient,
    run,
)

FENTANYL_PATCH = "197696"  # 72 HR fentanyl 0.075 MG/HR Transdermal System: 180 MME/day
OXYCODONE = "1049621"  # 5 mg tablets; 1 tablet q6h = 30 MME/day
TEMAZEPAM = "198241"
ZOLPIDEM = "854873"
SUBOXONE_FILM = "1010604"
NALOXONE_INJECTION = "1191212"  # the reference's "on-naloxone" example
NALOXONE_SPRAY = "1725059"
PENTAZOCINE_NALOXONE = "312289"
OSA = "78275009"  # Obstructive sleep apnea syndrome
ALCOHOL_DEPENDENCE = "66590003"
OPIOID_DEPENDENCE = "F11.20"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, naloxone)


def fentanyl_draft() -> dict:
    return med_request(
        FENTANYL_PATCH, draft=True, id="fe1", dose=1, unit="{patch}", frequency=1, period=72, supply_days=30
    )


def oxycodone_draft(**kwargs: object) -> dict:
    return med_request(OXYCODONE, draft=True, id="ox1", supply_days=5, **kwargs)


def active(rxcui: str, **kwargs: object) -> dict:
    return med_request(rxcui, authored=days_ago(5), **kwargs)


def sleep_apnea(clinical: str = "active") -> dict:
    return condition(SNOMED, OSA, display="Obstructive sleep apnea syndrome", clinical=clinical, recorded="2024-03-01")


# -- fires, with every risk factor named ------------------------------------------------------------------------


def test_reference_fentanyl_patch_180_mme_gives_naloxone_and_critical_high_mme() -> None:
    evaluation = run("order-sign", drafts=[fentanyl_draft()])
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert found.indicator == "warning"
    assert found.summary == "Higher overdose risk (180.0 MME/day): offer naloxone"
    assert "**Higher opioid dose:** total 180.0 MME/day" in found.detail
    assert found.facts["risk_factors"] == ["R1"]
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "critical"


def test_suggestion_is_a_valid_naloxone_nasal_spray_order() -> None:
    found = card(run("order-sign", drafts=[fentanyl_draft()]), CHECK_ID)
    assert found is not None
    [suggestion] = found.suggestions
    assert suggestion.label == "Prescribe naloxone 4 mg nasal spray"
    assert suggestion.action == "create" and suggestion.is_recommended
    resource = dict(suggestion.resource)
    MedicationRequest.model_validate(resource)
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == NALOXONE_SPRAY
    assert resource["authoredOn"] == NOW.isoformat()
    assert resource["subject"] == {"reference": "Patient/p1"}
    assert resource["encounter"] == {"reference": "Encounter/enc1"}
    assert resource["requester"] == {"reference": "Practitioner/dr1"}
    assert resource["intent"] == "proposal"


def test_card_links_reasons_and_language() -> None:
    found = card(run("order-sign", drafts=[fentanyl_draft()]), CHECK_ID)
    assert found is not None
    assert [link.url for link in found.links if link.type == "absolute"] == [
        "https://www.cdc.gov/mmwr/volumes/71/rr/rr7103a1.htm#Recommendation8"
    ]
    assert any(link.type == "smart" and link.view == "risk" for link in found.links)
    assert found.view == "risk"
    assert [r.code for r in found.override_reasons] == [
        "naloxone-already-available",
        "naloxone-declined",
        "excluded-condition",
        "data-incorrect",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert "not a rescue kit" in found.detail
    assert "*Based on:" in found.detail and "last 12 months" in found.detail
    assert_person_centred(found)


def test_local_naloxone_link_when_configured() -> None:
    config = {"links": {"naloxone_local": "https://portal.ct.gov/naloxone"}}
    found = card(run("order-sign", drafts=[fentanyl_draft()], config=config), CHECK_ID)
    assert found is not None
    assert any(link.url == "https://portal.ct.gov/naloxone" for link in found.links)


def test_r2_concurrent_benzodiazepine_at_low_dose() -> None:
    found = card(run("order-sign", drafts=[oxycodone_draft()], resources=[active(TEMAZEPAM)]), CHECK_ID)
    assert found is not None
    assert found.facts["risk_factors"] == ["R2"]
    assert "temazepam 15 MG Oral Capsule (active)" in found.detail
    assert "temazepam" in found.summary


def test_r2_other_sedative_draft_counts() -> None:
    drafts = [oxycodone_draft(), med_request(ZOLPIDEM, draft=True)]
    found = card(run("order-sign", drafts=drafts), CHECK_ID)
    assert found is not None
    assert "zolpidem tartrate 10 MG Oral Tablet (new order)" in found.detail


def test_r3_past_overdose_any_status_and_not_counted_as_oud() -> None:
    overdose = condition(
        ICD10, "T40.2X1A", display="Poisoning by other opioids, accidental", clinical="resolved", recorded="2023-06-02"
    )
    found = card(run("order-sign", drafts=[oxycodone_draft()], resources=[overdose]), CHECK_ID)
    assert found is not None
    assert found.facts["risk_factors"] == ["R3"]
    assert "Poisoning by other opioids, accidental (resolved, recorded 2023-06-02)" in found.detail
    assert "past opioid overdose" in found.summary


def test_r4_resolved_alcohol_dependence_counts() -> None:
    """Guideline 16: the reference "substance-abuse" example (alcohol dependence, even if resolved)."""
    resolved = condition(SNOMED, ALCOHOL_DEPENDENCE, display="Alcohol dependence", clinical="resolved")
    found = card(run("order-sign", drafts=[oxycodone_draft()], resources=[resolved]), CHECK_ID)
    assert found is not None
    assert found.facts["risk_factors"] == ["R4"]
    assert "substance use disorder" in found.summary


def test_r4_opioid_use_disorder_counts() -> None:
    oud = condition(ICD10, OPIOID_DEPENDENCE, display="Opioid dependence, uncomplicated")
    found = card(run("order-sign", drafts=[oxycodone_draft()], resources=[oud]), CHECK_ID)
    assert found is not None and "R4" in found.facts["risk_factors"]


def test_r5_needs_active_sleep_disordered_breathing() -> None:
    found = card(run("order-sign", drafts=[oxycodone_draft()], resources=[sleep_apnea()]), CHECK_ID)
    assert found is not None and found.facts["risk_factors"] == ["R5"]
    assert "Obstructive sleep apnea syndrome (active, recorded 2024-03-01)" in found.detail
    assert card(run("order-sign", drafts=[oxycodone_draft()], resources=[sleep_apnea("resolved")]), CHECK_ID) is None


def test_refuted_diagnosis_is_not_a_risk_factor() -> None:
    refuted = condition(SNOMED, ALCOHOL_DEPENDENCE)
    refuted["verificationStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]
    }
    assert card(run("order-sign", drafts=[oxycodone_draft()], resources=[refuted]), CHECK_ID) is None


def test_every_risk_factor_is_listed_and_summary_fits() -> None:
    resources = [
        active(TEMAZEPAM),
        condition(ICD10, "T40.2X1A", display="Poisoning by other opioids, accidental"),
        condition(SNOMED, ALCOHOL_DEPENDENCE, display="Alcohol dependence"),
        sleep_apnea(),
    ]
    found = card(run("order-sign", drafts=[fentanyl_draft()], resources=resources), CHECK_ID)
    assert found is not None
    assert found.facts["risk_factors"] == ["R1", "R2", "R3", "R4", "R5"]
    assert len(found.summary) <= 139
    assert found.summary.startswith("Higher overdose risk (180.0 MME/day, temazepam")
    assert "and 1 more" in found.summary
    for label in ("Higher opioid dose", "sedating medicine", "opioid overdose", "use disorder", "Sleep-disordered"):
        assert label in found.detail


def test_mme_threshold_is_configurable() -> None:
    draft = med_request(OXYCODONE, draft=True, supply_days=5)  # 30 MME/day
    assert card(run("order-sign", drafts=[draft]), CHECK_ID) is None
    config = {"checks": {CHECK_ID: {"mme_threshold": 30}}}
    found = card(run("order-sign", drafts=[draft], config=config), CHECK_ID)
    assert found is not None and "30.0 MME/day" in found.summary


def test_moud_buprenorphine_draft_triggers_with_a_risk_factor() -> None:
    draft = med_request(SUBOXONE_FILM, draft=True, supply_days=30)
    found = card(run("order-sign", drafts=[draft], resources=[active(TEMAZEPAM)]), CHECK_ID)
    assert found is not None


# -- already has naloxone --------------------------------------------------------------------------------------


def test_reference_on_naloxone_active_order_suppresses() -> None:
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=[med_request(NALOXONE_INJECTION)])
    assert card(evaluation, CHECK_ID) is None


@pytest.mark.parametrize(
    "rescue",
    [
        pytest.param(med_request(NALOXONE_SPRAY, authored="2020-01-01"), id="active, any date"),
        pytest.param(med_request(NALOXONE_SPRAY, status="completed", authored=days_ago(300)), id="completed 300 days"),
        pytest.param(med_request(NALOXONE_SPRAY, category=None), id="no category"),
        pytest.param(med_request(NALOXONE_SPRAY, category="inpatient"), id="inpatient category"),
        pytest.param(dispense(NALOXONE_SPRAY, days_ago(200)), id="dispensed 200 days ago"),
    ],
)
def test_rescue_product_on_record_suppresses(rescue: dict) -> None:
    assert card(run("order-sign", drafts=[fentanyl_draft()], resources=[rescue]), CHECK_ID) is None


@pytest.mark.parametrize(
    "stale",
    [
        pytest.param(med_request(NALOXONE_SPRAY, status="completed", authored=days_ago(400)), id="completed 400 days"),
        pytest.param(med_request(NALOXONE_SPRAY, status="stopped", authored=days_ago(20)), id="stopped"),
        pytest.param(med_request(NALOXONE_SPRAY, status="entered-in-error"), id="entered in error"),
        pytest.param(dispense(NALOXONE_SPRAY, days_ago(400)), id="dispensed 400 days ago"),
        pytest.param(dispense(NALOXONE_SPRAY, days_ago(20), status="cancelled"), id="dispense cancelled"),
    ],
)
def test_old_or_void_naloxone_does_not_suppress(stale: dict) -> None:
    assert card(run("order-sign", drafts=[fentanyl_draft()], resources=[stale]), CHECK_ID) is not None


def test_possession_window_is_configurable() -> None:
    completed = med_request(NALOXONE_SPRAY, status="completed", authored=days_ago(200))
    config = {"checks": {CHECK_ID: {"possession_months": 6}}}
    assert card(run("order-sign", drafts=[fentanyl_draft()], resources=[completed], config=config), CHECK_ID)


def test_draft_naloxone_in_the_same_session_suppresses() -> None:
    rescue = med_request(NALOXONE_SPRAY, draft=True)
    assert card(run("order-sign", drafts=[fentanyl_draft(), rescue]), CHECK_ID) is None


@pytest.mark.parametrize("not_rescue", [SUBOXONE_FILM, PENTAZOCINE_NALOXONE])
def test_buprenorphine_or_pentazocine_with_naloxone_is_not_a_rescue_kit(not_rescue: str) -> None:
    resources = [active(not_rescue), dispense(not_rescue, days_ago(10))]
    assert card(run("order-sign", drafts=[fentanyl_draft()], resources=resources), CHECK_ID) is not None


def test_extra_rescue_codes_from_config_suppress() -> None:
    nalmefene = "2686863"
    config = {"naloxone": {"extra_rescue_codes": [nalmefene]}}
    resources = [med_request(nalmefene)]
    assert card(run("order-sign", drafts=[fentanyl_draft()], resources=resources, config=config), CHECK_ID) is None
    assert card(run("order-sign", drafts=[fentanyl_draft()], resources=resources), CHECK_ID) is not None


# -- does not apply --------------------------------------------------------------------------------------------


def test_no_risk_factor_no_card() -> None:
    assert card(run("order-sign", drafts=[oxycodone_draft()]), CHECK_ID) is None


def test_no_new_opioid_order_no_card() -> None:
    evaluation = run("order-sign", drafts=[med_request(TEMAZEPAM, draft=True)], resources=[active(OXYCODONE)])
    assert card(evaluation, CHECK_ID) is None


def test_patient_view_judges_the_current_state_but_order_select_does_not_run() -> None:
    resources = [active(FENTANYL_PATCH, dose=1, unit="{patch}", frequency=1, period=72)]
    standing = card(run("patient-view", resources=resources), CHECK_ID)
    assert standing is not None and "180.0 MME/day" in standing.summary and standing.orders == ()
    kit = med_request(NALOXONE_SPRAY, status="active")
    assert card(run("patient-view", resources=[*resources, kit]), CHECK_ID) is None  # already in place
    assert card(run("patient-view", resources=[condition(ICD10, "G47.33")]), CHECK_ID) is None  # no opioid now
    evaluation = run("order-select", drafts=[fentanyl_draft()], selections=["MedicationRequest/fe1"])
    assert card(evaluation, CHECK_ID) is None


def test_general_exclusions_stop_the_card() -> None:
    assert card(run("order-sign", drafts=[fentanyl_draft()], resources=[patient("2010-01-01")]), CHECK_ID) is None
    hospice = encounter(start=days_ago(40), discharge=(SNOMED, "385763009"))
    assert card(run("order-sign", drafts=[fentanyl_draft()], resources=[hospice]), CHECK_ID) is None


def test_disabled() -> None:
    config = {"checks": {CHECK_ID: {"enabled": False}}}
    assert card(run("order-sign", drafts=[fentanyl_draft()], config=config), CHECK_ID) is None


def test_rxnorm_constant_is_the_builder_system() -> None:
    # The suggested coding uses the same RxNorm system URI the record reader matches on.
    found = card(run("order-sign", drafts=[fentanyl_draft()]), CHECK_ID)
    assert found is not None
    assert found.suggestions[0].resource["medicationCodeableConcept"]["coding"][0]["system"] == RXNORM


@pytest.mark.parametrize("name", ["Opvee (nalmefene) 2.7 mg nasal spray", "nalmefene 1.5 MG/0.5ML auto-injector"])
def test_a_nalmefene_rescue_ordered_by_name_suppresses_without_configuration(name: str) -> None:
    # Nalmefene is newer than the CDC naloxone set: it was unidentified, so the naloxone card stayed next to it.
    rescue = med_request("0", draft=True, id="nal1")
    rescue["medicationCodeableConcept"] = {"text": name}
    evaluation = run("order-sign", drafts=[fentanyl_draft(), rescue])
    assert card(evaluation, CHECK_ID) is None
    assert card(evaluation, "unidentified-medication") is None


# -- the card and the plan page read the same naloxone on hand -------------------------------------------------


def _plan(evaluation):
    from guideline.plan import build_plan

    return build_plan(evaluation, (), evaluation.facts.config, NOW)


@pytest.mark.parametrize(
    ("record", "on_hand"),
    [
        pytest.param(med_request(NALOXONE_SPRAY, authored="2020-01-01"), True, id="active order, any date"),
        # The page read active orders alone: "no active rescue order" beside a card quiet for these.
        pytest.param(dispense(NALOXONE_SPRAY, days_ago(200)), True, id="filled 200 days ago"),
        pytest.param(dispense(NALOXONE_SPRAY, days_ago(20), status="in-progress"), True, id="fill in progress"),
        pytest.param(
            med_request(NALOXONE_SPRAY, status="completed", authored=days_ago(300)), True, id="completed 300 days"
        ),
        pytest.param(med_request(NALOXONE_SPRAY, status="on-hold", authored=days_ago(30)), True, id="on hold"),
        pytest.param(
            med_request(NALOXONE_SPRAY, status="completed", authored=days_ago(400)), False, id="completed 400 days"
        ),
        pytest.param(med_request(NALOXONE_SPRAY, intent="proposal"), False, id="proposal nobody signed"),
        pytest.param(dispense(NALOXONE_SPRAY, days_ago(20), status="cancelled"), False, id="fill cancelled"),
    ],
)
def test_the_card_the_medications_list_and_the_tile_agree(record: dict, on_hand: bool) -> None:
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=[record])
    view = _plan(evaluation)
    tile = next(t for t in view.section("tasks").content if t.key == "naloxone")
    assert (card(evaluation, CHECK_ID) is None) is on_hand
    assert len(view.section("medications").content.naloxone) == (1 if on_hand else 0)
    assert (tile.state == "done") is on_hand
    if on_hand and record["resourceType"] == "MedicationDispense":
        assert tile.last_done is not None  # a fill in progress left the tile "up to date" with no last day


def test_a_cancelled_draft_is_no_naloxone_on_the_page_either() -> None:
    cancelled = med_request(NALOXONE_SPRAY, draft=True, status="cancelled")
    evaluation = run("order-sign", drafts=[fentanyl_draft(), cancelled])
    assert card(evaluation, CHECK_ID) is not None
    assert _plan(evaluation).section("medications").content.naloxone == ()
    drafted = med_request(NALOXONE_SPRAY, draft=True)
    evaluation = run("order-sign", drafts=[fentanyl_draft(), drafted])
    assert card(evaluation, CHECK_ID) is None
    [named] = _plan(evaluation).section("medications").content.naloxone
    assert "(draft" in named


def test_the_page_names_each_naloxone_with_its_status_and_day() -> None:
    records = [
        med_request(NALOXONE_SPRAY, status="completed", authored=days_ago(300)),
        dispense(NALOXONE_SPRAY, days_ago(200)),
    ]
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=records)
    order, fill = _plan(evaluation).section("medications").content.naloxone
    assert order.endswith(f"(completed, {days_ago(300)})") and fill.endswith(f"(filled, {days_ago(200)})")


def test_the_tile_reads_the_checks_possession_window() -> None:
    from guideline.timeutil import months_after

    # With a 6-month window the card asked to offer naloxone ordered 200 days ago, while the tile, reading 12 months,
    # gave a next due date months ahead.
    completed = med_request(NALOXONE_SPRAY, status="completed", authored=days_ago(200))
    config = {"checks": {CHECK_ID: {"possession_months": 6}}}
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=[completed], config=config)
    assert card(evaluation, CHECK_ID) is not None
    view = _plan(evaluation)
    tile = next(t for t in view.section("tasks").content if t.key == "naloxone")
    assert tile.state == "overdue" and tile.next_due == months_after(tile.last_done, 6) < NOW.date()
    assert "outside the 6-month window" in tile.detail
    medications = view.section("medications").content
    assert medications.naloxone == () and medications.naloxone_months == 6


def _tile(evaluation):
    return next(t for t in _plan(evaluation).section("tasks").content if t.key == "naloxone")


def test_naloxone_older_than_the_window_is_named_with_its_day_never_none_on_record() -> None:
    # The tile said "None on record" beside a last day, for naloxone the clinician may remember ordering.
    old = med_request(NALOXONE_SPRAY, status="completed", authored=days_ago(400))
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=[old])
    assert card(evaluation, CHECK_ID) is not None
    tile = _tile(evaluation)
    assert tile.state == "overdue" and tile.last_done.isoformat() == days_ago(400)
    assert f"Last ordered or filled {days_ago(400)}, outside the 12-month window" in tile.detail
    decide = _plan(evaluation).section("steps").content.step("decide")
    assert "Offer naloxone as part of the plan." in decide.due
    assert decide.status == "overdue"


def test_an_old_fill_outside_the_window_without_opioids_is_named_with_no_due_date() -> None:
    fill = dispense(NALOXONE_SPRAY, days_ago(500))
    tile = _tile(run("patient-view", resources=[fill]))
    assert tile.state == "not-applicable" and tile.next_due is None
    assert f"Last ordered or filled {days_ago(500)}, outside the 12-month window" in tile.detail


@pytest.mark.parametrize(
    "records",
    [
        pytest.param([med_request(NALOXONE_SPRAY, authored="2020-01-01")], id="active order from 2020"),
        pytest.param(
            [med_request(NALOXONE_SPRAY, authored="2020-01-01"), dispense(NALOXONE_SPRAY, days_ago(400))],
            id="active order from 2020 and a fill 400 days ago",
        ),
        pytest.param(
            [med_request(NALOXONE_SPRAY, status="on-hold", authored="2021-03-04")], id="on-hold order from 2021"
        ),
    ],
)
def test_an_old_active_order_is_up_to_date_with_no_past_due_date(records: list[dict]) -> None:
    # The card counts any active order as on hand; the tile showed "Up to date" beside a next due date years past.
    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=records)
    assert card(evaluation, CHECK_ID) is None
    tile = _tile(evaluation)
    assert tile.state == "done" and tile.next_due is None
    authored = next(r["authoredOn"] for r in records if r["resourceType"] == "MedicationRequest")
    assert f"order from {authored}" in tile.detail and "confirm the patient still has it" in tile.detail


def test_a_recent_fill_is_up_to_date_until_the_window_ends() -> None:
    from guideline.timeutil import months_after

    evaluation = run("order-sign", drafts=[fentanyl_draft()], resources=[dispense(NALOXONE_SPRAY, days_ago(100))])
    tile = _tile(evaluation)
    assert tile.state == "done" and tile.next_due == months_after(NOW.date() - timedelta(days=100), 12)
    assert f"Ordered or filled {days_ago(100)}" in tile.detail


def test_a_naloxone_draft_is_up_to_date_with_no_due_date() -> None:
    drafted = med_request(NALOXONE_SPRAY, draft=True)
    tile = _tile(run("order-sign", drafts=[fentanyl_draft(), drafted]))
    assert tile.state == "done" and tile.next_due is None
    assert "being signed" in tile.detail


def test_the_rendered_page_says_no_naloxone_is_on_hand_in_the_checks_window(tmp_path) -> None:
    import responses
    from builders import patient as fhir_patient
    from test_plan_view import FakeFhir, _app, _open_plan

    old = med_request(NALOXONE_SPRAY, status="completed", authored="2025-12-01")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [fhir_patient(patient_id="p1"), old])
        app = _app(tmp_path, guideline={"checks": {CHECK_ID: {"possession_months": 6}}})
        html = _open_plan(app).get_data(as_text=True)
    assert "none on hand: no active rescue order, and none ordered or filled in the last 6 months" in html


def test_a_patient_whose_opioid_is_only_a_pharmacy_fill_is_asked_for_naloxone_on_the_page_too() -> None:
    # On patient-view the card follows the opioids the patient has now, orders or fills; the tile read orders alone:
    # "Not needed now" beside a card offering naloxone, and step 6 asked for nothing.
    resources = [dispense(OXYCODONE, days_ago(10)), active(TEMAZEPAM)]
    evaluation = run("patient-view", resources=resources)
    assert card(evaluation, CHECK_ID) is not None
    view = _plan(evaluation)
    tile = next(t for t in view.section("tasks").content if t.key == "naloxone")
    assert tile.state == "never"
    assert "Offer naloxone as part of the plan." in view.section("steps").content.step("decide").due


def test_r4_an_uncoded_opioid_use_disorder_named_in_words_counts() -> None:
    """A problem-list entry with no code PainPlan reads, only words that clearly name opioid use disorder (free text
    at a clinic, a local code), is read as the disorder by every other check (`Facts.conditions_in`). It must be a
    naloxone risk factor too: it is not named as unreadable, so missing it here was silent."""
    oud = condition(ICD10, OPIOID_DEPENDENCE, display="Opioid use disorder, moderate")
    oud["code"] = {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.696580", "code": "31337"}],
                   "text": "Opioid use disorder, moderate"}  # fmt: skip
    found = card(run("order-sign", drafts=[oxycodone_draft()], resources=[oud]), CHECK_ID)
    assert found is not None and found.facts["risk_factors"] == ["R4"]
    assert "Opioid use disorder, moderate" in found.detail
