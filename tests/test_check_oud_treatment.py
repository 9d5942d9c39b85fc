"""`oud-treatment` (guideline 10.10): opioid use disorder without medication treatment in 90 days."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest

from guideline.checks import CHECKS, oud_treatment
from guideline.checks.oud_treatment import CHECK_ID
from tests.builders import (
    ICD10,
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
    procedure,
    run,
)

OXYCODONE = "1049621"
LORAZEPAM = "197901"
SUBOXONE_FILM = "1010604"
METHADONE = "864706"  # methadone hydrochloride 10 MG Oral Tablet
NALTREXONE_TABLET = "1483744"
NALTREXONE_INJECTION = "637213"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, oud_treatment)


def oud(code: str = "F11.20", system: str = ICD10, **kwargs: object) -> dict:
    kwargs.setdefault("display", "Opioid dependence, uncomplicated")
    kwargs.setdefault("recorded", "2024-01-10")
    return condition(system, code, **kwargs)


def opioid_draft() -> dict:
    return med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)


# -- fires -----------------------------------------------------------------------------------------------------


def test_patient_view_active_oud_without_treatment() -> None:
    found = card(run("patient-view", resources=[oud()]), CHECK_ID)
    assert found is not None
    assert found.indicator == "warning"
    # A diagnosis named with a comma ran into the rest ("Opioid dependence, uncomplicated with no OUD medication")
    assert found.summary == "Opioid dependence, uncomplicated: no OUD medication in 90 days; offer treatment"
    assert "Opioid dependence, uncomplicated (recorded 2024-01-10)" in found.detail
    assert "No buprenorphine, methadone or naltrexone" in found.detail and "last 90 days" in found.detail
    assert "lowers the risk of overdose and death" in found.detail
    assert "no special DEA waiver" in found.detail
    assert "opioid treatment program" in found.detail
    assert "naltrexone injection" in found.detail
    assert "Offer naloxone" in found.detail
    assert "never a reason to dismiss" in found.detail
    assert "*Based on:" in found.detail
    assert found.suggestions == ()
    assert found.view == "oud"
    urls = [link.url for link in found.links if link.type == "absolute"]
    assert urls == [
        "https://www.cdc.gov/mmwr/volumes/71/rr/rr7103a1.htm#Recommendation12",
        "https://findtreatment.gov/",
        "https://www.ctbhp.com/",
    ]
    assert any(link.type == "smart" and link.view == "oud" for link in found.links)
    assert [r.code for r in found.override_reasons] == [
        "moud-elsewhere",
        "moud-declined",
        "referred",
        "data-incorrect",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert_person_centred(found)


def test_reference_2016_only_code_still_fires() -> None:
    """Guideline 16: Rec 12 "in-criteria-met" with SNOMED 191865004 and no MOUD gives a card here."""
    dx = oud("191865004", SNOMED, display="Combined opioid with other drug dependence")
    found = card(run("patient-view", resources=[dx]), CHECK_ID)
    assert found is not None and "Combined opioid with other drug dependence" in found.summary


def test_diagnosis_name_falls_back_to_the_value_set_display() -> None:
    dx = condition(ICD10, "F11.20")  # no display in the EHR payload
    found = card(run("patient-view", resources=[dx]), CHECK_ID)
    assert found is not None and found.summary.startswith("Opioid dependence, uncomplicated")


def test_remission_code_still_counts_while_active_and_shows_its_name() -> None:
    dx = oud("F11.21", display="Opioid dependence, in remission")
    found = card(run("patient-view", resources=[dx]), CHECK_ID)
    assert found is not None
    assert "Opioid dependence, in remission" in found.summary
    assert "remission" in found.detail


def test_old_diagnosis_has_no_recorded_date_limit() -> None:
    assert card(run("patient-view", resources=[oud(recorded="2015-02-01")]), CHECK_ID) is not None


def test_uncategorised_or_status_less_diagnosis_counts() -> None:
    assert card(run("patient-view", resources=[oud(category=None)]), CHECK_ID) is not None
    assert card(run("patient-view", resources=[oud(clinical=None)]), CHECK_ID) is not None


def test_a_status_with_the_hl7_code_after_a_site_code_or_only_in_words_is_read() -> None:
    # A site's own status coding sent before HL7's (as Oracle Health orders its codings elsewhere), or a status in
    # words only, read as an unknown status: the active diagnosis was "not active" and the card never came.
    site_first = oud(clinical=None)
    site_first["clinicalStatus"] = {
        "coding": [
            {"system": "https://fhir.cerner.com/ec2458f2/codeSet/12030", "code": "3299", "display": "Active"},
            {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"},
        ]
    }
    words_only = oud(clinical=None)
    words_only["clinicalStatus"] = {"text": "Active"}
    for diagnosis in (site_first, words_only):
        assert card(run("patient-view", resources=[diagnosis]), CHECK_ID) is not None


def test_order_sign_with_a_new_opioid_order() -> None:
    found = card(run("order-sign", drafts=[opioid_draft()], resources=[oud()]), CHECK_ID)
    assert found is not None and found.orders == ("ox1",)


def test_order_sign_without_opioid_runs_only_when_configured_for_any() -> None:
    drafts, resources = [med_request(LORAZEPAM, draft=True)], [oud()]
    assert card(run("order-sign", drafts=drafts, resources=resources), CHECK_ID) is None
    config = {"checks": {CHECK_ID: {"order_sign_trigger": "any"}}}
    assert card(run("order-sign", drafts=drafts, resources=resources, config=config), CHECK_ID) is not None


def test_general_exclusions_do_not_apply() -> None:
    hospice = encounter(start=days_ago(40), discharge=(SNOMED, "385763009"))
    evaluation = run("patient-view", resources=[oud(), patient("2010-01-01"), hospice])
    assert evaluation.facts.exclusions
    assert card(evaluation, CHECK_ID) is not None


def test_long_diagnosis_name_is_clipped_to_the_summary_limit() -> None:
    dx = oud(display="Opioid dependence " + "with a very long local problem-list description " * 4)
    found = card(run("patient-view", resources=[dx]), CHECK_ID)
    assert found is not None
    assert len(found.summary) <= 139 and "…" in found.summary
    assert found.summary.endswith(": no OUD medication in 90 days; offer treatment")


def test_site_order_templates_become_create_suggestions_for_this_patient() -> None:
    template = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": SUBOXONE_FILM}],
            "text": "buprenorphine 8 mg / naloxone 2 mg sublingual film",
        },
        "subject": {"reference": "Patient/placeholder"},
        "dosageInstruction": [{"text": "Per the clinic's induction protocol"}],
    }
    config = {"checks": {CHECK_ID: {"suggestions": [template]}}}
    found = card(run("patient-view", resources=[oud()], config=config), CHECK_ID)
    assert found is not None
    [suggestion] = found.suggestions
    assert suggestion.label == "Order buprenorphine 8 mg / naloxone 2 mg sublingual film"
    assert suggestion.action == "create" and not suggestion.is_recommended
    resource = dict(suggestion.resource)
    MedicationRequest.model_validate(resource)
    assert resource["subject"] == {"reference": "Patient/p1"}
    assert resource["encounter"] == {"reference": "Encounter/enc1"}
    assert template["subject"] == {"reference": "Patient/placeholder"}  # the configured template is untouched


def test_referral_resources_come_from_config() -> None:
    config = {"oud": {"referral_resources": [{"label": "Local bridge clinic", "url": "https://bridge.example/"}]}}
    found = card(run("patient-view", resources=[oud()], config=config), CHECK_ID)
    assert found is not None
    assert [link.label for link in found.links if link.type == "absolute"][1:] == ["Local bridge clinic"]
    assert "Local bridge clinic" in found.detail


# -- does not fire ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dx",
    [
        pytest.param(oud(clinical="resolved"), id="resolved"),
        pytest.param(oud(clinical="inactive"), id="inactive"),
        pytest.param(oud(category="medical-history"), id="not a visible category"),
        pytest.param(condition(SNOMED, "290202004", display="Accidental fentanyl poisoning"), id="poisoning only"),
        pytest.param(condition(ICD10, "T40.2X1A"), id="ICD poisoning only"),
        pytest.param(condition(ICD10, "F10.20", display="Alcohol dependence, uncomplicated"), id="other SUD"),
    ],
)
def test_no_active_visible_oud_no_card(dx: dict) -> None:
    assert card(run("patient-view", resources=[dx]), CHECK_ID) is None


def test_abated_diagnosis_without_status_does_not_count() -> None:
    dx = oud(clinical=None)
    dx["abatementDateTime"] = "2025-01-01"
    assert card(run("patient-view", resources=[dx]), CHECK_ID) is None


def test_refuted_diagnosis_does_not_count() -> None:
    dx = oud()
    dx["verificationStatus"] = {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]
    }
    assert card(run("patient-view", resources=[dx]), CHECK_ID) is None


def test_poisoning_counts_as_oud_when_configured() -> None:
    poisoning = condition(SNOMED, "290202004", display="Accidental fentanyl poisoning")
    config = {"oud": {"count_poisoning_as_oud": True}}
    assert card(run("patient-view", resources=[poisoning], config=config), CHECK_ID) is not None


@pytest.mark.parametrize(
    "treatment",
    [
        pytest.param(med_request(SUBOXONE_FILM, authored="2023-01-01"), id="active, any date"),
        pytest.param(med_request(SUBOXONE_FILM, category="inpatient"), id="active, inpatient category"),
        pytest.param(med_request(METHADONE, status="completed", authored=days_ago(60)), id="completed in window"),
        pytest.param(
            med_request(METHADONE, status="stopped", authored=days_ago(100), supply_days=30, refills=1),
            id="stopped, supply reaching the window",
        ),
        pytest.param(med_request(NALTREXONE_TABLET, status="on-hold", authored=days_ago(10)), id="naltrexone on hold"),
        pytest.param(dispense(NALTREXONE_INJECTION, days_ago(30)), id="naltrexone dispense"),
        pytest.param(dispense(METHADONE, days_ago(110), days_supply=28), id="dispense supply reaching window"),
        # Extended-release injections: Brixadi was in no packaged set, so its patients got this card.
        pytest.param(dispense("2639027", days_ago(20), days_supply=28), id="Brixadi injection fill"),
        pytest.param(med_request("1996189", authored=days_ago(20)), id="Sublocade injection order"),
    ],
)
def test_moud_in_the_window_suppresses(treatment: dict) -> None:
    assert card(run("patient-view", resources=[oud(), treatment]), CHECK_ID) is None


HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


@pytest.mark.parametrize(
    ("code", "ago", "status", "suppresses"),
    [
        ("J2315", 20, "completed", True),  # naltrexone depot injection (Vivitrol), given in clinic
        ("Q9991", 40, "completed", True),  # buprenorphine extended-release injection (Sublocade)
        ("H0020", 5, None, True),  # methadone administration by a treatment programme, from a claim (no status)
        ("G2067", 60, "completed", True),  # opioid treatment programme weekly bundle, methadone
        ("J2315", 120, "completed", False),  # outside the 90 days
        ("J2315", 20, "not-done", False),
    ],
)
def test_treatment_given_in_clinic_and_known_by_its_billing_code_suppresses(
    code: str, ago: int, status: str | None, suppresses: bool
) -> None:
    # Injections given in clinic and a programme's methadone are recorded as procedures (and payers know them only by
    # their billing code), with no order or fill: the patient on monthly Vivitrol got "no OUD medication in 90 days".
    given = procedure(HCPCS, code, performed=days_ago(ago), status=status or "completed")
    if status is None:
        del given["status"]
    assert (card(run("patient-view", resources=[oud(), given]), CHECK_ID) is None) is suppresses


def test_the_card_says_it_also_looked_for_doses_given_in_clinic() -> None:
    # The card said it looked for an "order, dispense or draft", though a dose given in clinic or by a treatment
    # program (a billing code) silences it too: a clinician could think such a dose went unread and was the reason.
    found = card(run("patient-view", resources=[oud()]), CHECK_ID)
    assert found is not None
    [looked] = [p for p in found.detail.split("\n\n") if p.startswith("No buprenorphine")]
    assert "no order, pharmacy fill or draft" in looked
    assert "no dose given in clinic or by a treatment program" in looked
    based_on = found.detail.split("*Based on:")[1]
    assert "pharmacy fills" in based_on and "doses given in clinic or by a treatment program" in based_on


@pytest.mark.parametrize(
    "old",
    [
        pytest.param(med_request(SUBOXONE_FILM, status="completed", authored=days_ago(200)), id="completed long ago"),
        pytest.param(med_request(SUBOXONE_FILM, status="entered-in-error"), id="entered in error"),
        pytest.param(dispense(SUBOXONE_FILM, days_ago(150), days_supply=30), id="old dispense"),
        pytest.param(dispense(SUBOXONE_FILM, days_ago(10), status="cancelled"), id="cancelled dispense"),
    ],
)
def test_old_or_void_moud_does_not_suppress(old: dict) -> None:
    assert card(run("patient-view", resources=[oud(), old]), CHECK_ID) is not None


def test_moud_draft_in_this_order_session_suppresses() -> None:
    drafts = [opioid_draft(), med_request(NALTREXONE_TABLET, draft=True)]
    assert card(run("order-sign", drafts=drafts, resources=[oud()]), CHECK_ID) is None
    # A buprenorphine/naloxone draft is both the trigger and the treatment.
    assert card(run("order-sign", drafts=[med_request(SUBOXONE_FILM, draft=True)], resources=[oud()]), CHECK_ID) is None


def test_naltrexone_by_medication_ingredient_suppresses() -> None:
    order = med_request("999999", authored=days_ago(10))
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "#med"}
    order["contained"] = [
        {
            "resourceType": "Medication",
            "id": "med",
            "code": {"text": "Vivitrol"},
            "ingredient": [{"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "7243"}]}}],
        }
    ]
    assert card(run("patient-view", resources=[oud(), order]), CHECK_ID) is None


def test_lookback_window_is_configurable() -> None:
    completed = med_request(METHADONE, status="completed", authored=days_ago(60), supply_days=14)
    assert card(run("patient-view", resources=[oud(), completed]), CHECK_ID) is None
    config = {"checks": {CHECK_ID: {"lookback_days": 30}}}
    found = card(run("patient-view", resources=[oud(), completed], config=config), CHECK_ID)
    assert found is not None and "in 30 days" in found.summary


def test_disabled() -> None:
    config = {"checks": {CHECK_ID: {"enabled": False}}}
    assert card(run("patient-view", resources=[oud()], config=config), CHECK_ID) is None


# -- the card and the plan page read the same evidence ---------------------------------------------------------


def _page_treatment(evaluation) -> tuple[str, ...]:
    from guideline.plan import build_plan

    return build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now).by_key["oud"].content.treatment


@pytest.mark.parametrize(
    ("record", "treated"),
    [
        pytest.param(dispense(SUBOXONE_FILM, days_ago(20), days_supply=30), True, id="buprenorphine fill"),
        pytest.param(
            procedure(HCPCS, "J2315", performed=days_ago(20)), True, id="naltrexone injection given in clinic"
        ),
        pytest.param(procedure(HCPCS, "Q9991", performed=days_ago(40)), True, id="Sublocade given in clinic"),
        # A cancelled or erroneous buprenorphine order showed on the page as treatment beside the card saying none.
        pytest.param(
            med_request(SUBOXONE_FILM, status="cancelled", authored=days_ago(10)), False, id="cancelled order in window"
        ),
        pytest.param(
            med_request(SUBOXONE_FILM, status="entered-in-error", authored=days_ago(10)), False, id="order in error"
        ),
        pytest.param(
            med_request(SUBOXONE_FILM, status="unknown", authored=days_ago(10)), False, id="order of unknown status"
        ),
        pytest.param(
            med_request(SUBOXONE_FILM, intent="proposal", authored=days_ago(10)), False, id="proposal nobody signed"
        ),
        # A fill dispensed before the window whose supply reaches into it: the card counted it, the page did not.
        pytest.param(dispense(METHADONE, days_ago(110), days_supply=28), True, id="fill supply reaching the window"),
        pytest.param(
            med_request(METHADONE, status="stopped", authored=days_ago(100), supply_days=30, refills=1),
            True,
            id="stopped order, supply reaching the window",
        ),
        pytest.param(dispense(SUBOXONE_FILM, days_ago(150), days_supply=30), False, id="old fill"),
        # Naltrexone is medication treatment for OUD (CDC 2022 Rec 12): on the card and the page alike.
        pytest.param(
            med_request(NALTREXONE_TABLET, status="completed", authored=days_ago(30)), True, id="naltrexone order"
        ),
        pytest.param(dispense(NALTREXONE_INJECTION, days_ago(30)), True, id="naltrexone fill"),
        pytest.param(med_request(SUBOXONE_FILM, authored="2023-01-01"), True, id="active order, any date"),
    ],
)
def test_the_card_and_the_plan_page_agree_on_treatment(record: dict, treated: bool) -> None:
    # The card fires exactly when the page lists no treatment, and the page lists exactly what the card counted.
    evaluation = run("patient-view", resources=[oud(), record])
    assert (card(evaluation, CHECK_ID) is None) is treated
    assert len(_page_treatment(evaluation)) == (1 if treated else 0)


def test_the_plan_page_names_each_kind_of_treatment_with_its_status_and_day() -> None:
    records = [
        med_request(NALTREXONE_TABLET, status="completed", authored=days_ago(30)),
        dispense(METHADONE, days_ago(110), days_supply=28),
        procedure(HCPCS, "J2315", performed=days_ago(20)),
    ]
    evaluation = run("patient-view", resources=[oud(), *records])
    assert card(evaluation, CHECK_ID) is None
    order, fill, dose = _page_treatment(evaluation)
    assert order.endswith(f"(completed, {days_ago(30)})") and "naltrexone" in order
    assert fill.endswith(f"(filled, {days_ago(110)})") and "methadone" in fill.lower()
    assert dose == f"medication for opioid use disorder (HCPCS J2315) (given, {days_ago(20)})"


def test_the_plan_page_reads_the_checks_lookback() -> None:
    # The page looked 90 days back whatever the card's window: with a 30-day lookback it listed an order of 60 days
    # ago as treatment beside a card saying "no OUD medication in 30 days".
    completed = med_request(METHADONE, status="completed", authored=days_ago(60), supply_days=14)
    config = {"checks": {CHECK_ID: {"lookback_days": 30}}}
    evaluation = run("patient-view", resources=[oud(), completed], config=config)
    assert card(evaluation, CHECK_ID) is not None
    assert _page_treatment(evaluation) == ()
    config = {"checks": {CHECK_ID: {"lookback_days": 120}}}
    old = dispense(SUBOXONE_FILM, days_ago(100), days_supply=7)
    evaluation = run("patient-view", resources=[oud(), old], config=config)
    assert card(evaluation, CHECK_ID) is None
    assert len(_page_treatment(evaluation)) == 1


def test_the_rendered_page_names_the_checks_window(tmp_path) -> None:
    import responses
    from builders import patient as fhir_patient
    from test_plan_view import FakeFhir, _app, _open_plan

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, [fhir_patient(patient_id="p1"), oud()])
        app = _app(tmp_path, guideline={"checks": {CHECK_ID: {"lookback_days": 60}}})
        html = _open_plan(app).get_data(as_text=True)
    assert "Medication treatment (last 60 days):</strong> none found" in html
