"""Asking for lab reports (prefetch.diagnostic_reports): a patient whose urine drug screens come back from a reference
lab as DiagnosticReports is not told "no urine drug test in 12 months", and the card and the plan page read the same
reports, from the same search, the same way."""

from __future__ import annotations

import re
from typing import Any

import pytest
import responses
from builders import LOINC, PATIENT_ID, days_ago, med_request, patient
from test_plan_view import FHIR as PAGE_FHIR
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.checks.unexpected_uds_result import CHECK_ID as UNEXPECTED_CHECK
from guideline.checks.urine_drug_test import CHECK_ID as UDS_CHECK

ON = {"prefetch": {"diagnostic_reports": True}}
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
PANEL = "69739-1"  # Drugs of abuse panel - Urine by Screen method
FENTANYL_SCREEN = "59673-4"
OXYCODONE_SCREEN = "58430-0"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
# Every other search, answered empty; the pattern leaves out the types a test answers, since `responses` hands a
# request matching two patterns to the first only once.
OTHER_SEARCHES = r"/(?!MedicationRequest|DiagnosticReport)\w+\?.*"
PORTABLE = "DiagnosticReport?patient={{context.patientId}}&category=LAB&_sort=-date&_count=100"


def long_term() -> dict[str, Any]:
    """Oxycodone every month for 200 days: long-term opioid therapy, so a urine drug test is due yearly."""
    return med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11, id="mr-oxy")


def quest_report(fentanyl: str = "Negative", ago: int = 40) -> dict[str, Any]:
    """R4: a reference lab's urine drug screen as its HL7 v2 interface turns it into FHIR, its results contained."""
    when = days_ago(ago)
    return {
        "resourceType": "DiagnosticReport",
        "id": "dr-quest-8812",
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.1234", "value": "QX-8812"}],
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": "LAB", "display": "Laboratory"}]}],
        "code": {
            "coding": [{"system": LOINC, "code": PANEL, "display": "Drugs of abuse panel - Urine by Screen method"}],
            "text": "Pain management drug screen, urine",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{when}T09:10:00-04:00",
        "issued": f"{when}T17:42:00-04:00",
        "performer": [{"display": "Quest Diagnostics"}],
        "contained": [
            {
                "resourceType": "Observation",
                "id": "r1",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": OXYCODONE_SCREEN}], "text": "Oxycodone"},
                "valueString": "Positive",
            },
            {
                "resourceType": "Observation",
                "id": "r2",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": FENTANYL_SCREEN}], "text": "Fentanyl"},
                "valueString": fentanyl,
            },
        ],
        "result": [{"reference": "#r1"}, {"reference": "#r2"}],
    }


def stu3_conclusion_only(ago: int = 60) -> dict[str, Any]:
    """STU3: a screen whose only answer is its conclusion, coded in codedDiagnosis, one category (not a list)."""
    when = days_ago(ago)
    return {
        "resourceType": "DiagnosticReport",
        "id": "dr-stu3-77",
        "status": "final",
        "category": {"coding": [{"system": "http://hl7.org/fhir/v2/0074", "code": "LAB"}]},
        "code": {"coding": [{"system": "urn:oid:1.2.3.4.5.6", "code": "UDS10"}], "text": "Drug screen, urine"},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": when,
        "issued": f"{when}T16:00:00-04:00",
        "conclusion": "No drugs detected",
        "codedDiagnosis": [{"coding": [{"system": "http://snomed.info/sct", "code": "260415000"}], "text": "Negative"}],
    }


# -- the hooks ask for reports only when the site turns it on ----------------------------------------------------


def test_the_setting_is_known_and_must_be_true_or_false() -> None:
    from guideline.config import ConfigError, GuidelineConfig

    assert GuidelineConfig.from_mapping(ON)["prefetch"]["diagnostic_reports"] is True
    with pytest.raises(ConfigError, match="prefetch.diagnostic_reports"):
        GuidelineConfig.from_mapping({"prefetch": {"diagnostic_reports": "yes"}})


def test_the_reports_search_is_published_only_when_the_site_turns_it_on(tmp_path) -> None:
    from cds_support import make_app

    plain = make_app(tmp_path / "a").test_client().get("/cds-services").get_json()["services"]
    assert all("labReports" not in service["prefetch"] for service in plain)
    assert not any("DiagnosticReport" in service["usageRequirements"] for service in plain)
    services = make_app(tmp_path / "b", guideline=ON).test_client().get("/cds-services").get_json()["services"]
    asked = {service["hook"]: service["prefetch"].get("labReports") for service in services}
    assert asked == {"order-sign": PORTABLE, "patient-view": PORTABLE, "order-select": None}
    requirements = {service["hook"]: service["usageRequirements"] for service in services}
    assert "DiagnosticReport" in requirements["order-sign"] and "DiagnosticReport" in requirements["patient-view"]
    assert "DiagnosticReport" not in requirements["order-select"]


@pytest.mark.parametrize(("months", "window"), [(12, 12), (24, 24), (6, 12)])
def test_the_dated_reports_search_asks_for_the_urine_test_checks_window(months: int, window: int) -> None:
    # Never less than the 12 months of results unexpected-uds-result judges, whatever the test's own look-back.
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig

    config = GuidelineConfig.from_mapping(
        {"prefetch": {"diagnostic_reports": True, "dated": True}, "checks": {UDS_CHECK: {"lookback_months": months}}}
    )
    assert templates("order-sign", config)["labReports"] == (
        f"DiagnosticReport?patient={{{{context.patientId}}}}&category=LAB"
        f"&date=ge{{{{today() - {window} months}}}}&_count=100"
    )


# -- the card: the FHIR fallback asks the same query ------------------------------------------------------------


def _patient_view(tmp_path, settings: dict[str, Any], report_answer: dict[str, Any] | None, status: int = 200):
    """A patient-view with no prefetch, its data read from the FHIR server; the report search answered as given."""
    from cds_support import FHIR, bundle, hook_request, make_app

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{FHIR}/Patient/{PATIENT_ID}", json=patient())
        mock.get(re.compile(re.escape(f"{FHIR}/MedicationRequest") + r"\?.*"), json=bundle(long_term()))
        reports = mock.get(
            re.compile(re.escape(f"{FHIR}/DiagnosticReport") + r"\?.*"), json=report_answer or {}, status=status
        )
        mock.get(re.compile(re.escape(FHIR) + OTHER_SEARCHES), json=bundle())
        body = hook_request("patient-view", prefetch={}, fhir=True)
        answer = make_app(tmp_path, guideline=settings).test_client().post("/cds-services/patient-view", json=body)
    return answer.get_json(), reports.calls


@pytest.mark.parametrize(("settings", "fires"), [pytest.param(ON, False, id="on"), pytest.param({}, True, id="off")])
def test_a_screen_read_from_the_fhir_server_as_a_report_is_the_years_test(
    tmp_path, settings: dict[str, Any], fires: bool
) -> None:
    from cds_support import bundle, topics

    answer, calls = _patient_view(tmp_path, settings, bundle(quest_report()))
    assert (UDS_CHECK in topics(answer)) is fires
    if not fires:
        (call,) = calls
        assert f"/DiagnosticReport?patient={PATIENT_ID}&category=LAB&_sort=-date&_count=100" in call.request.url
    else:
        assert not calls


def test_an_unexpected_fentanyl_positive_in_a_report_read_from_the_fhir_server_gives_its_card(tmp_path) -> None:
    from cds_support import bundle, topics

    answer, _ = _patient_view(tmp_path, ON, bundle(quest_report(fentanyl="Positive")))
    assert UNEXPECTED_CHECK in topics(answer)


def test_a_failed_reports_search_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    from cds_support import topics

    answer, calls = _patient_view(tmp_path, ON, None, status=500)
    assert len(calls) == 1
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert "laboratory reports (urine drug tests)" in incomplete["detail"]
    assert UDS_CHECK in topics(answer)  # everything else is still evaluated


def test_a_reports_search_cut_short_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    from cds_support import FHIR, bundle, hook_request, make_app

    endless = bundle(quest_report()) | {
        "link": [{"relation": "next", "url": f"{FHIR}/DiagnosticReport?patient=p1&_page=2"}]
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{FHIR}/Patient/{PATIENT_ID}", json=patient())
        mock.get(re.compile(re.escape(f"{FHIR}/MedicationRequest") + r"\?.*"), json=bundle(long_term()))
        mock.get(re.compile(re.escape(f"{FHIR}/DiagnosticReport") + r"\?.*"), json=endless)
        mock.get(re.compile(re.escape(FHIR) + OTHER_SEARCHES), json=bundle())
        app = make_app(tmp_path, guideline={"prefetch": {"diagnostic_reports": True, "page_cap": 2}})
        body = hook_request("patient-view", prefetch={}, fhir=True)
        answer = app.test_client().post("/cds-services/patient-view", json=body).get_json()
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert "laboratory reports (urine drug tests)" in incomplete["detail"]
    assert "only the first 2 pages were read" in incomplete["detail"]


# -- the plan page: the same search, the same reading ------------------------------------------------------------


def test_the_plan_page_asks_for_lab_reports_of_the_urine_test_window() -> None:
    from datetime import date

    from guideline.config import GuidelineConfig
    from smart_app.plan_view import QUERY_LABELS, plan_queries

    on = GuidelineConfig.from_mapping(ON)
    assert plan_queries("p1", date(2026, 6, 15), on)["reports"] == (
        "DiagnosticReport?patient=p1&category=LAB&date=ge2025-06-15&_count=100"
    )
    assert "reports" in QUERY_LABELS
    assert "reports" not in plan_queries("p1", date(2026, 6, 15), GuidelineConfig.from_mapping())


def test_the_plan_page_asks_to_read_reports_only_when_the_site_turned_them_on() -> None:
    from launch.discovery import SmartConfiguration
    from launch.scopes import requested_scope
    from smart_app.config import load_settings

    v2 = SmartConfiguration("https://a/authorize", "https://a/token", capabilities=frozenset({"permission-v2"}))
    v1 = SmartConfiguration("https://a/authorize", "https://a/token")
    on = load_settings(guideline=ON).launch
    assert on.extra_read_types == ("DiagnosticReport",)
    assert "patient/DiagnosticReport.rs" in requested_scope(v2, ehr_launch=True, extra_reads=on.extra_read_types)
    assert "patient/DiagnosticReport.read" in requested_scope(v1, ehr_launch=True, extra_reads=on.extra_read_types)
    off = load_settings().launch
    assert "DiagnosticReport" not in requested_scope(v2, ehr_launch=True, extra_reads=off.extra_read_types)


def test_the_plan_page_shows_the_screens_the_card_counts_and_agrees_with_it(tmp_path) -> None:
    # Before: the page never searched reports, so it said "no urine drug test results" and showed the test overdue
    # beside a card (fed by the site's prefetch) that counted the same screens.
    from cds_support import hook_request, topics

    resources = [patient(patient_id="p1"), long_term(), quest_report(fentanyl="Positive"), stu3_conclusion_only()]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, resources)
        app = _app(tmp_path, guideline=ON, auth="off")
        html = _open_plan(app).get_data(as_text=True)
        body = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": PAGE_FHIR}
        answer = app.test_client().post("/cds-services/patient-view", json=body).get_json()
    assert any("/DiagnosticReport?patient=p1&category=LAB&date=ge2025-06-15&_count=100" in u for u, _ in fake.requests)
    assert "No urine drug test results in the past 13 months." not in html
    assert "<strong>Unexpected:</strong>" in html and "fentanyl" in html
    assert "done, report conclusion &#34;No drugs detected&#34; (not judged per substance)" in html
    assert UDS_CHECK not in topics(answer) and UNEXPECTED_CHECK in topics(answer)


def test_a_failed_reports_search_is_named_on_the_plan_page(tmp_path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [patient(patient_id="p1"), long_term(), quest_report()])
        fake.fail.add("DiagnosticReport")
        html = _open_plan(_app(tmp_path, guideline=ON)).get_data(as_text=True)
    assert "Some data could not be read" in html
    assert (
        "Laboratory reports (the urine drug test window) could not be read (the FHIR server answered HTTP 500)" in html
    )


def test_the_demo_server_answers_the_reports_search() -> None:
    from smart_app.demo_search import parse_query

    query = parse_query(
        "DiagnosticReport", [("patient", "p1"), ("category", "LAB"), ("date", "ge2025-06-15"), ("_count", "100")]
    )
    assert query.patient_id == "p1" and len(query.tests) == 2
    assert parse_query("DiagnosticReport", [("patient", "p1"), ("category", "LAB"), ("_sort", "-date")]).sort
