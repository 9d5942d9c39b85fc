"""MedicationAdministration (R4, STU3 and DSTU2): medicine given in clinic, read so that a patient on monthly
buprenorphine or naltrexone injections is not told "no OUD medication" because the doses were recorded only so."""

from __future__ import annotations

from typing import Any

import pytest
from builders import ICD10, PATIENT_ID, RXNORM, UCUM, card, condition, days_ago, run

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK

SUBLOCADE = "1996192"  # 1.5 ML buprenorphine 200 MG/ML Prefilled Syringe (Sublocade 300 mg)
VIVITROL = "637213"  # naltrexone 380 MG Injection
SUBCUTANEOUS = {"coding": [{"system": "http://snomed.info/sct", "code": "34206005", "display": "Subcutaneous route"}]}
INTRAMUSCULAR = {"coding": [{"system": "http://snomed.info/sct", "code": "78421000", "display": "Intramuscular route"}]}


def oud() -> dict[str, Any]:
    return condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated", recorded="2024-01-10")


def sublocade_given(ago: int = 20, **fields: Any) -> dict[str, Any]:
    """R4: Sublocade 300 mg given subcutaneously by the clinic nurse `ago` days ago."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": "ma-sublocade",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": RXNORM,
                    "code": SUBLOCADE,
                    "display": "1.5 ML buprenorphine 200 MG/ML Prefilled Syringe",
                }
            ],
            "text": "Sublocade 300 mg/1.5 mL injection",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "context": {"reference": "Encounter/enc-clinic-7"},
        "effectiveDateTime": f"{days_ago(ago)}T10:15:00-04:00",
        "performer": [{"actor": {"reference": "Practitioner/rn-4"}}],
        "request": {"reference": "MedicationRequest/mr-sublocade"},
        "dosage": {
            "site": {"text": "abdomen, left lower quadrant"},
            "route": SUBCUTANEOUS,
            "dose": {"value": 300, "unit": "mg", "system": UCUM, "code": "mg"},
        },
    }
    resource.update(fields)
    return resource


def sublocade_in_words(ago: int = 20) -> dict[str, Any]:
    """R4, as a site with no RxNorm code on its clinic stock sends it: the name alone."""
    return sublocade_given(
        ago,
        id="ma-bup-text",
        medicationCodeableConcept={"text": "buprenorphine extended-release 300 mg/1.5 mL injection"},
    )


def vivitrol_stu3(ago: int = 25, **fields: Any) -> dict[str, Any]:
    """STU3: Vivitrol given intramuscularly, the medicine a contained Medication, given over ten minutes."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": "ma-vivitrol",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "viv",
                "code": {"coding": [{"system": RXNORM, "code": VIVITROL}], "text": "Vivitrol 380 mg injection"},
            }
        ],
        "status": "completed",
        "notGiven": False,
        "medicationReference": {"reference": "#viv", "display": "Vivitrol"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectivePeriod": {"start": f"{days_ago(ago)}T09:00:00-04:00", "end": f"{days_ago(ago)}T09:10:00-04:00"},
        "performer": [{"actor": {"reference": "Practitioner/rn-4"}}],
        "dosage": {"route": INTRAMUSCULAR, "dose": {"value": 380, "unit": "mg", "system": UCUM, "code": "mg"}},
    }
    resource.update(fields)
    return resource


def sublocade_dstu2(ago: int = 20, **fields: Any) -> dict[str, Any]:
    """DSTU2: effectiveTime[x], wasNotGiven, patient, and the dose as dosage.quantity."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": "ma-d2",
        "status": "completed",
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "wasNotGiven": False,
        "effectiveTimeDateTime": f"{days_ago(ago)}T14:00:00-04:00",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": SUBLOCADE}], "text": "Sublocade 300 mg"},
        "dosage": {"route": SUBCUTANEOUS, "quantity": {"value": 300, "unit": "mg", "system": UCUM, "code": "mg"}},
    }
    resource.update(fields)
    return resource


def _page_treatment(evaluation) -> tuple[str, ...]:
    from guideline.plan import build_plan

    return build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now).by_key["oud"].content.treatment


# -- given in clinic: the card is quiet, and the page names the dose ------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(sublocade_given(), id="R4 Sublocade, RxNorm"),
        pytest.param(sublocade_in_words(), id="R4 buprenorphine extended-release injection, text only"),
        pytest.param(sublocade_given(status="in-progress"), id="R4 in progress"),
        pytest.param(vivitrol_stu3(), id="STU3 Vivitrol, contained Medication, effectivePeriod"),
        pytest.param(sublocade_dstu2(), id="DSTU2 effectiveTimeDateTime"),
        pytest.param(
            sublocade_dstu2(
                effectiveTimeDateTime=None,
                effectiveTimePeriod={"start": f"{days_ago(30)}T14:00:00Z", "end": f"{days_ago(30)}T14:05:00Z"},
            ),
            id="DSTU2 effectiveTimePeriod",
        ),
    ],
)
def test_oud_medication_given_in_clinic_is_treatment_on_the_card_and_the_page(given: dict[str, Any]) -> None:
    # Before: a patient on monthly Sublocade or Vivitrol injections given in clinic, recorded only as administrations,
    # got "no OUD medication in 90 days: offer treatment".
    given = {k: v for k, v in given.items() if v is not None}
    evaluation = run("patient-view", resources=[oud(), given])
    assert card(evaluation, OUD_CHECK) is None
    (listed,) = _page_treatment(evaluation)
    assert "(given " in listed


def test_the_page_names_the_dose_given_with_its_amount_and_day() -> None:
    evaluation = run("patient-view", resources=[oud(), sublocade_given(20), vivitrol_stu3(25)])
    assert _page_treatment(evaluation) == (
        f"Sublocade 300 mg/1.5 mL injection (given 300 mg, {days_ago(20)})",
        f"Vivitrol 380 mg injection (given 380 mg, {days_ago(25)})",
    )


def test_a_medication_given_by_reference_to_a_medication_in_the_bundle_is_read() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "med-vivitrol",
        "code": {"coding": [{"system": RXNORM, "code": VIVITROL}], "text": "Vivitrol 380 mg injection"},
    }
    given = vivitrol_stu3(contained=[], medicationReference={"reference": "Medication/med-vivitrol"})
    evaluation = run("patient-view", resources=[oud(), given, medication])
    assert card(evaluation, OUD_CHECK) is None


@pytest.mark.parametrize(
    "not_given",
    [
        pytest.param(sublocade_dstu2(wasNotGiven=True, reasonNotGiven=[{"text": "declined"}]), id="DSTU2 wasNotGiven"),
        pytest.param(vivitrol_stu3(notGiven=True), id="STU3 notGiven"),
        pytest.param(sublocade_given(status="not-done", statusReason=[{"text": "declined"}]), id="R4 not-done"),
        pytest.param(sublocade_given(status="entered-in-error"), id="R4 entered in error"),
        pytest.param(vivitrol_stu3(status="entered-in-error"), id="STU3 entered in error"),
        pytest.param(sublocade_given(status="stopped"), id="stopped before it was given"),
        pytest.param(sublocade_given(status="on-hold"), id="on hold"),
        pytest.param(sublocade_given(120), id="given 120 days ago"),
    ],
)
def test_a_dose_not_given_or_given_before_the_window_is_no_treatment(not_given: dict[str, Any]) -> None:
    evaluation = run("patient-view", resources=[oud(), not_given])
    assert card(evaluation, OUD_CHECK) is not None
    assert _page_treatment(evaluation) == ()


def test_the_card_names_doses_given_in_clinic_among_what_it_looked_for() -> None:
    found = card(run("patient-view", resources=[oud()]), OUD_CHECK)
    assert found is not None
    assert "no dose given in clinic or by a treatment program" in found.detail
    assert "or recorded as given" in found.detail


# -- a dose PainPlan cannot place in time is named, never counted --------------------------------------------


def test_an_undated_or_unknown_status_oud_dose_is_named_on_the_page_and_the_card_still_fires() -> None:
    from guideline.plan import build_plan

    undated = sublocade_given(effectiveDateTime=None)
    undated = {k: v for k, v in undated.items() if v is not None}
    unknown = vivitrol_stu3(status="unknown")
    evaluation = run("patient-view", resources=[oud(), undated, unknown])
    assert card(evaluation, OUD_CHECK) is not None
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["uncounted-administrations"] == (
        "Sublocade 300 mg/1.5 mL injection (administration ma-sublocade), no date",
    )
    # Dated in the window, of unknown status: named with its date among the OUD doses of unknown status.
    assert view.named["unknown-status-doses"] == (
        f"Vivitrol 380 mg injection (administration ma-vivitrol), status unknown, dated {days_ago(25)}",
    )
    assert "Sublocade 300 mg/1.5 mL injection (administration ma-sublocade), no date" in view.note


def test_an_undated_oud_dose_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    from cds_support import full_prefetch, hook_request, make_app

    undated = {k: v for k, v in sublocade_given().items() if k != "effectiveDateTime"}
    prefetch = full_prefetch("patient-view", conditions={"resourceType": "Bundle", "entry": [{"resource": oud()}]})
    prefetch["extra"] = {"resourceType": "Bundle", "entry": [{"resource": undated}]}
    body = hook_request("patient-view", prefetch=prefetch)
    answer = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).get_json()
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert "Sublocade 300 mg/1.5 mL injection (administration ma-sublocade), no date" in incomplete["detail"]
    assert OUD_CHECK in [c["source"]["topic"]["code"] for c in answer["cards"]]


def test_a_dose_of_another_medicine_with_no_date_is_not_named() -> None:
    from guideline.plan import build_plan

    ketorolac = {
        "resourceType": "MedicationAdministration",
        "id": "ma-ketorolac",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"text": "ketorolac 30 mg/mL injection"},
    }
    evaluation = run("patient-view", resources=[oud(), ketorolac])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["uncounted-administrations"] == ()


# -- naloxone given (in the ED) is not naloxone at home ----------------------------------------------------------


def test_naloxone_given_in_the_emergency_department_is_not_naloxone_on_hand() -> None:
    from builders import med_request

    given = sublocade_given(
        3,
        id="ma-narcan",
        medicationCodeableConcept={"coding": [{"system": RXNORM, "code": "1191250"}], "text": "naloxone 0.4 mg/mL"},
    )
    draft = med_request("1049621", draft=True, id="ox1", supply_days=5)  # oxycodone 5 mg
    evaluation = run("order-sign", drafts=[draft], resources=[oud(), given])
    assert evaluation.facts.naloxone_on_hand == ()
    assert card(evaluation, "naloxone") is not None


# -- a bad administration never fails the call -------------------------------------------------------------------


def test_an_administration_with_elements_of_the_wrong_shape_is_read_leniently() -> None:
    odd = sublocade_given(id="ma-odd", dosage=["not", "an", "object"], effectiveDateTime=12345)
    evaluation = run("patient-view", resources=[oud(), odd, vivitrol_stu3()])
    assert evaluation.facts.record.problems == ()
    assert card(evaluation, OUD_CHECK) is None  # the Vivitrol dose still counts
    assert _page_treatment(evaluation) == (f"Vivitrol 380 mg injection (given 380 mg, {days_ago(25)})",)


# -- asking for administrations: a site whose EHR serves them turns the search on ----------------------------------

ON = {"prefetch": {"medication_administrations": True}}


def test_the_administrations_search_is_published_only_when_the_site_turns_it_on(tmp_path) -> None:
    from cds_support import make_app

    plain = make_app(tmp_path / "a").test_client().get("/cds-services").get_json()["services"]
    assert all("medAdministrations" not in service["prefetch"] for service in plain)
    assert not any("MedicationAdministration" in service["usageRequirements"] for service in plain)
    services = make_app(tmp_path / "b", guideline=ON).test_client().get("/cds-services").get_json()["services"]
    asked = {service["hook"]: service["prefetch"].get("medAdministrations") for service in services}
    portable = "MedicationAdministration?patient={{context.patientId}}&_sort=-effective-time&_count=100"
    assert asked == {"order-sign": portable, "patient-view": portable, "order-select": None}
    requirements = {service["hook"]: service["usageRequirements"] for service in services}
    assert "MedicationAdministration" in requirements["patient-view"]
    assert "MedicationAdministration" not in requirements["order-select"]


def test_the_dated_administrations_search_asks_for_the_treatment_checks_window() -> None:
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig

    config = GuidelineConfig.from_mapping(
        {"prefetch": {"medication_administrations": True, "dated": True}, "checks": {OUD_CHECK: {"lookback_days": 400}}}
    )
    assert templates("patient-view", config)["medAdministrations"] == (
        "MedicationAdministration?patient={{context.patientId}}&effective-time=ge{{today() - 400 days}}"
    )
    # A shorter look-back still asks for the 12 months of urine drug test results a dose given may explain (and 7
    # days before the first): tests/test_dated_prefetch_windows.py.
    config = GuidelineConfig.from_mapping(
        {"prefetch": {"medication_administrations": True, "dated": True}, "checks": {OUD_CHECK: {"lookback_days": 60}}}
    )
    assert templates("patient-view", config)["medAdministrations"].endswith("{{today() - 373 days}}")


@pytest.mark.parametrize(("settings", "fires"), [pytest.param(ON, False, id="on"), pytest.param({}, True, id="off")])
def test_a_dose_read_from_the_fhir_server_when_the_prefetch_is_missing_is_treatment(
    tmp_path, settings: dict[str, Any], fires: bool
) -> None:
    import re

    import responses
    from cds_support import FHIR, bundle, hook_request, make_app, patient, topics

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{FHIR}/Patient/{PATIENT_ID}", json=patient())
        mock.get(re.compile(re.escape(f"{FHIR}/Condition") + r"\?.*"), json=bundle(oud()))
        given = mock.get(
            re.compile(re.escape(f"{FHIR}/MedicationAdministration") + r"\?.*"), json=bundle(sublocade_given())
        )
        mock.get(re.compile(re.escape(FHIR) + r"/\w+\?.*"), json=bundle())
        app = make_app(tmp_path, guideline=settings)
        body = hook_request("patient-view", prefetch={}, fhir=True)
        answer = app.test_client().post("/cds-services/patient-view", json=body).get_json()
    assert (OUD_CHECK in topics(answer)) is fires
    if not fires:
        (call,) = given.calls
        assert f"/MedicationAdministration?patient={PATIENT_ID}&_sort=-effective-time&_count=100" in call.request.url


def test_a_dose_sent_under_a_prefetch_key_of_the_sites_own_is_read_with_the_setting_off(tmp_path) -> None:
    from cds_support import full_prefetch, hook_request, make_app, topics

    prefetch = full_prefetch("patient-view", conditions={"resourceType": "Bundle", "entry": [{"resource": oud()}]})
    prefetch["clinicDoses"] = {"resourceType": "Bundle", "entry": [{"resource": vivitrol_stu3()}]}
    answer = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch))
    )
    assert OUD_CHECK not in topics(answer.get_json())


def test_the_plan_page_asks_for_doses_given_in_the_windows_the_hooks_ask_for() -> None:
    from datetime import date

    from guideline.config import GuidelineConfig
    from smart_app.plan_view import plan_queries

    on = GuidelineConfig.from_mapping(ON)
    # 373 days: the 12 months of urine drug test results a dose given may explain, and 7 days before the first.
    assert plan_queries("p1", date(2026, 6, 15), on)["administrations"] == (
        "MedicationAdministration?patient=p1&effective-time=ge2025-06-07&_count=100"
    )
    assert "administrations" not in plan_queries("p1", date(2026, 6, 15), GuidelineConfig.from_mapping())


def test_the_plan_page_asks_to_read_administrations_only_when_the_site_turned_them_on() -> None:
    from launch.discovery import SmartConfiguration
    from launch.scopes import requested_scope
    from smart_app.config import load_settings

    v2 = SmartConfiguration("https://a/authorize", "https://a/token", capabilities=frozenset({"permission-v2"}))
    on = load_settings(guideline=ON).launch
    assert on.extra_read_types == ("MedicationAdministration",)
    assert "patient/MedicationAdministration.rs" in requested_scope(
        v2, ehr_launch=True, extra_reads=on.extra_read_types
    )
    both = load_settings(guideline={"prefetch": {"medication_administrations": True, "medication_statements": True}})
    assert both.launch.extra_read_types == ("MedicationStatement", "MedicationAdministration")
    assert load_settings().launch.extra_read_types == ()


def test_the_administrations_setting_must_be_true_or_false() -> None:
    from guideline.config import ConfigError, GuidelineConfig

    with pytest.raises(ConfigError, match="prefetch.medication_administrations"):
        GuidelineConfig.from_mapping({"prefetch": {"medication_administrations": "yes"}})


def test_the_plan_page_lists_the_dose_the_card_counts(tmp_path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    undated = {k: v for k, v in sublocade_given(id="ma-undated").items() if k != "effectiveDateTime"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [patient(patient_id="p1"), oud(), sublocade_given(), undated])
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
    assert any("/MedicationAdministration?patient=p1&effective-time=ge" in url for url, _ in fake.requests)
    assert f"Sublocade 300 mg/1.5 mL injection (given 300 mg, {days_ago(20)})" in html
    # Beside the dose counted as treatment, one with no date changes nothing, and is not listed as not counted (as a
    # dose of unknown status is not: one rule, `oud_treatment._where_untreated`).
    assert "(administration ma-undated), no date" not in html


def test_the_demo_server_answers_the_administrations_search() -> None:
    from smart_app.demo_search import SearchError, parse_query

    query = parse_query(
        "MedicationAdministration", [("patient", "p1"), ("effective-time", "ge2026-03-17"), ("_count", "100")]
    )
    assert query.patient_id == "p1" and len(query.tests) == 1
    assert parse_query("MedicationAdministration", [("patient", "p1"), ("_sort", "-effective-time")]).sort
    with pytest.raises(SearchError, match="whenhandedover"):
        parse_query("MedicationAdministration", [("patient", "p1"), ("whenhandedover", "ge2026-03-17")])


def test_a_medication_a_dose_names_by_reference_is_read_from_the_fhir_server(tmp_path) -> None:
    # The dose names its medicine only by a reference the prefetch does not hold: unread, it was no treatment.
    import re

    import responses
    from cds_support import FHIR, bundle, full_prefetch, hook_request, make_app, topics

    given = vivitrol_stu3(contained=[], medicationReference={"reference": "Medication/med-clinic-44"})
    medication = {
        "resourceType": "Medication",
        "id": "med-clinic-44",
        "code": {"coding": [{"system": RXNORM, "code": VIVITROL}]},
    }
    prefetch = full_prefetch("patient-view", conditions=bundle(oud()), clinicDoses=bundle(given))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        read = mock.get(f"{FHIR}/Medication/med-clinic-44", json=medication)
        mock.get(re.compile(re.escape(FHIR) + r"/.*"), json=bundle())
        body = hook_request("patient-view", prefetch=prefetch, fhir=True)
        answer = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).get_json()
    assert len(read.calls) == 1
    assert OUD_CHECK not in topics(answer)
