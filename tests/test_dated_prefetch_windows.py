"""The dated prefetch templates (`prefetch.dated`) reach back as far as the widest window any check or exclusion
reading their resources judges, never less than their fixed windows: fixed at a year while a site's urine drug test
check read 24 months, the search found no test 18 months old and the card said none was done in 24 months. The plan
page's searches are bounded the same way."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import responses
from builders import med_request, observation, patient
from test_page_lab_window import DatedFhir
from test_plan_view import FHIR as PAGE_FHIR
from test_plan_view import _app, _open_plan

from guideline.checks.urine_drug_test import CHECK_ID as UDS_CHECK
from guideline.config import GuidelineConfig

TODAY = date(2026, 6, 15)
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
P = "{{context.patientId}}"
PDMP = "http://snomed.info/sct|461651000124104,http://snomed.info/sct|461621000124108"
DATED = {"prefetch": {"dated": True}}
# The dated templates as published before windows followed the settings: a site on the defaults sees no change.
BEFORE = {
    "patient": f"Patient/{P}",
    "medsActive": f"MedicationRequest?patient={P}&status=active",
    "medsRecent": f"MedicationRequest?patient={P}&authoredon=ge{{{{today() - 395 days}}}}",
    "dispenses": f"MedicationDispense?patient={P}&whenhandedover=ge{{{{today() - 395 days}}}}",
    "udsLabs": f"Observation?patient={P}&category=laboratory&date=ge{{{{today() - 1 year}}}}",
    "pdmpObs": f"Observation?patient={P}&code={PDMP}&date=ge{{{{today() - 90 days}}}}",
    "conditions": f"Condition?patient={P}",
    "procedures": f"Procedure?patient={P}&date=ge{{{{today() - 1 year}}}}",
    "encounters": f"Encounter?patient={P}&date=ge{{{{today() - 1 year}}}}",
    "serviceRequests": f"ServiceRequest?patient={P}&authored=ge{{{{today() - 90 days}}}}",
    "carePlans": f"CarePlan?patient={P}&category=http://loinc.org|80764-4",
    "planNotes": f"DocumentReference?patient={P}&type=http://loinc.org|80764-4&date=ge{{{{today() - 90 days}}}}",
}
# The second searches for what the first ones' date parameters miss (a fill only prepared, a result only issued),
# on the same windows.
SECOND = {
    "dispensesPrepared": f"MedicationDispense?patient={P}&whenprepared=ge{{{{today() - 395 days}}}}",
    "udsLabsIssued": f"Observation?patient={P}&category=laboratory&_lastUpdated=ge{{{{today() - 1 year}}}}",
}


def _config(*overrides: dict[str, Any]) -> GuidelineConfig:
    merged: dict[str, Any] = {"prefetch": {"dated": True}}
    for override in overrides:
        for section, values in override.items():
            if not isinstance(values, dict):
                merged[section] = values
                continue
            merged.setdefault(section, {})
            for name, value in values.items():
                if isinstance(value, dict):
                    merged[section].setdefault(name, {}).update(value)
                else:
                    merged[section][name] = value
    return GuidelineConfig.from_mapping(merged)


def _windows(config: GuidelineConfig) -> dict[str, str]:
    """Each dated key's look-back as its template writes it ("1 year", "24 months"), over every hook."""
    from cds_hooks.services import ALL, templates

    found: dict[str, str] = {}
    for hook in ALL:
        for key, template in templates(hook, config).items():
            window = re.search(r"\{\{today\(\) - ([^}]+)\}\}", template)
            if window:
                found[key] = window.group(1)
    return found


@pytest.mark.parametrize("hook", ["order-select", "order-sign", "patient-view"])
def test_a_site_on_the_defaults_is_sent_the_same_dated_templates(hook: str) -> None:
    from cds_hooks.services import templates

    asked = templates(hook, GuidelineConfig.from_mapping(DATED))
    assert asked == {key: (BEFORE | SECOND)[key] for key in asked}
    assert len(asked) == {"order-select": 4, "order-sign": 14, "patient-view": 11}[hook]


def test_the_lab_reports_window_on_the_defaults_is_unchanged() -> None:
    asked = _windows(_config({"prefetch": {"diagnostic_reports": True}}))
    assert asked["labReports"] == "12 months"


UDS = "urine-drug-test"
HOSPICE = {"exclusions": {"hospice_palliative": {}}}


def _hospice(**values: int) -> dict[str, Any]:
    return {"exclusions": {"hospice_palliative": values}}


def _check(check: str, **values: int) -> dict[str, Any]:
    return {"checks": {check: values}}


# (settings, the dated keys whose window they change, each with its new look-back); every other key keeps its own.
WIDER: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("uds 24 months", _check(UDS, lookback_months=24), {"udsLabs": "24 months", "procedures": "24 months"}),
    ("uds pending orders", _check(UDS, pending_order_days=120), {"serviceRequests": "120 days"}),
    ("pdmp 180 days", _check("pdmp-review", lookback_days=180), {"pdmpObs": "180 days"}),
    ("pdmp 400 days", _check("pdmp-review", lookback_days=400), {"pdmpObs": "400 days", "procedures": "400 days"}),
    ("reassessment", _check("reassessment-due", lookback_days=400), {"procedures": "400 days"}),
    ("reassessment orders", _check("reassessment-due", pending_order_days=100), {"serviceRequests": "100 days"}),
    ("treatment plan 180", _check("treatment-plan", lookback_days=180), {"planNotes": "180 days"}),
    (
        "treatment plan 400",
        _check("treatment-plan", lookback_days=400),
        {"planNotes": "400 days", "procedures": "400 days"},
    ),
    (
        "oud treatment",
        _check("oud-treatment", lookback_days=400),
        {"procedures": "400 days", "medsRecent": "430 days", "dispenses": "430 days"},
    ),
    ("naloxone", _check("naloxone", possession_months=24), {"medsRecent": "24 months", "dispenses": "24 months"}),
    ("current orders", {"current_order_default_days": 500}, {"medsRecent": "500 days"}),
    ("hospice encounters", _hospice(encounter_months=24), {"encounters": "24 months"}),
    ("hospice procedures", _hospice(procedure_days=400), {"procedures": "400 days", "encounters": "400 days"}),
    ("hospice orders", _hospice(servicerequest_days=180), {"serviceRequests": "180 days"}),
    # 13 months may be 393 to 397 days: neither covers the other, so the search asks for days enough for both.
    (
        "months and days",
        {**_check(UDS, lookback_months=13), **_hospice(procedure_days=396)},
        {"udsLabs": "13 months", "procedures": "397 days", "encounters": "396 days"},
    ),
]


@pytest.mark.parametrize(("settings", "changed"), [pytest.param(s, c, id=i) for i, s, c in WIDER])
def test_each_dated_search_reaches_back_as_far_as_its_readers_judge(
    settings: dict[str, Any], changed: dict[str, str]
) -> None:
    from cds_hooks.services import SECOND_SEARCHES

    default = _windows(_config())
    seconds = {second.key: changed[second.first] for second in SECOND_SEARCHES if second.first in changed}
    assert _windows(_config(settings)) == {**default, **changed, **seconds}


@pytest.mark.parametrize(
    "settings",
    [
        _check(UDS, lookback_months=12, pending_order_days=7),
        _check("pdmp-review", lookback_days=30),
        _check("treatment-plan", lookback_days=30),
        _hospice(encounter_months=3, procedure_days=30, servicerequest_days=30),
        _check("naloxone", possession_months=6),
    ],
)
def test_a_shorter_setting_never_narrows_the_fixed_windows(settings: dict[str, Any]) -> None:
    assert _windows(_config(settings)) == _windows(_config())


def test_medicines_given_are_asked_for_over_the_unexpected_result_window_too() -> None:
    # A dose given in the emergency department explains a positive urine drug test in the week after it, for every
    # result of the last 12 months: asked for over the treatment check's 90 days only, a fentanyl dose given eight
    # months ago left the positive test days later "not prescribed".
    on = {"prefetch": {"medication_administrations": True}}
    assert _windows(_config(on))["medAdministrations"] == "373 days"  # 12 months (at most 366 days) and 7
    assert _windows(_config(on, _check("oud-treatment", lookback_days=500)))["medAdministrations"] == "500 days"


def _long_term_with_an_old_screen() -> list[dict[str, Any]]:
    """Oxycodone every month for over a year and an oxycodone-positive urine screen 18 months ago."""
    return [
        patient(patient_id="p1"),
        med_request(OXYCODONE, id="oxy", authored="2025-12-15T10:00:00-05:00", supply_days=30, refills=11),
        observation("16250-3", when="2024-12-10T09:30:00-05:00", value_string="Positive"),  # oxycodone screen
    ]


def test_the_advertised_lab_search_says_the_sites_months(tmp_path: Any) -> None:
    from cds_support import make_app

    settings = {"prefetch": {"dated": True}, "checks": {UDS: {"lookback_months": 24}}}
    services = make_app(tmp_path, guideline=settings).test_client().get("/cds-services").get_json()["services"]
    asked = {service["hook"]: service["prefetch"].get("udsLabs") for service in services}
    wanted = f"Observation?patient={P}&category=laboratory&date=ge{{{{today() - 24 months}}}}"
    assert asked == {"order-sign": wanted, "patient-view": wanted, "order-select": None}


def test_a_screen_18_months_old_read_from_the_fhir_server_counts_for_a_site_reading_24_months(tmp_path: Any) -> None:
    # Before: the search asked for a year of results, the server sent none, and the card said "no urine drug test
    # in 24 months" beside a screen done 18 months ago.
    from cds_support import hook_request, make_app, topics

    settings = {"prefetch": {"dated": True}, "checks": {UDS: {"lookback_months": 24}}}
    body = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": PAGE_FHIR}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = DatedFhir(rsps, _long_term_with_an_old_screen())
        answer = make_app(tmp_path, guideline=settings).test_client().post("/cds-services/patient-view", json=body)
    labs = [url for url, _ in fake.requests if "/Observation?" in url and "laboratory" in url]
    assert labs and all(re.search(r"(&date|_lastUpdated)=ge2024-06-15", url) for url in labs), labs
    assert UDS_CHECK not in topics(answer.get_json())


def test_the_same_call_on_the_defaults_still_asks_for_a_year(tmp_path: Any) -> None:
    # The card is due: the screen is older than the 12 months a default site reads (and the search asks for).
    from cds_support import hook_request, make_app, topics

    body = hook_request("patient-view", prefetch={}, fhir=True) | {"fhirServer": PAGE_FHIR}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = DatedFhir(rsps, _long_term_with_an_old_screen())
        answer = make_app(tmp_path, guideline=DATED).test_client().post("/cds-services/patient-view", json=body)
    labs = [url for url, _ in fake.requests if "/Observation?" in url and "laboratory" in url]
    assert labs and all(re.search(r"(&date|_lastUpdated)=ge2025-06-15", url) for url in labs), labs
    assert UDS_CHECK in topics(answer.get_json())


def _since(query: str) -> str:
    return re.search(
        r"(?:date|authoredon|whenhandedover|whenprepared|_lastUpdated|authored|effective-time)=ge([0-9-]+)", query
    ).group(1)


def test_the_page_searches_on_the_defaults_are_unchanged() -> None:
    from smart_app.plan_view import QUERY_LABELS, plan_queries, query_labels

    page = plan_queries("p1", TODAY, GuidelineConfig.from_mapping())
    assert {
        key: _since(page[key]) for key in ("orders", "dispenses", "procedures", "service_requests")
    } == dict.fromkeys(("orders", "dispenses", "procedures", "service_requests"), "2024-06-15")
    assert _since(page["encounters"]) == "2025-05-15" and _since(page["documents"]) == "2024-06-15"
    assert _since(page["coded_scores"]) == "2024-06-15"
    assert query_labels(GuidelineConfig.from_mapping()) == QUERY_LABELS


def test_the_page_searches_reach_back_as_far_as_the_checks_read() -> None:
    # Before: encounters were searched over 13 months and the rest over 2 years whatever the settings, so a site
    # reading hospice discharges over 24 months had the page miss one the card's search found.
    from smart_app.plan_view import plan_queries, query_labels

    config = _config(
        _hospice(encounter_months=24),
        _check("oud-treatment", lookback_days=900),
        {"prefetch": {"medication_administrations": True}},
    )
    page = plan_queries("p1", TODAY, config)
    assert _since(page["encounters"]) == "2024-06-15"  # 24 months
    assert _since(page["procedures"]) == "2023-12-28"  # 900 days
    assert _since(page["orders"]) == "2023-11-28"  # 930 days: a fill before the window may supply into it
    assert _since(page["administrations"]) == "2023-12-28"
    labels = query_labels(config)
    assert labels["encounters"] == "Encounters (24 months)"
    assert labels["procedures"] == "Procedures (900 days)"
    assert labels["orders"] == "Medication orders (930 days)"
    assert labels["documents"] == "Documents (2 years)"


def test_the_page_panel_names_the_wider_window(tmp_path: Any) -> None:
    settings = {"exclusions": {"hospice_palliative": {"encounter_months": 24}}}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = DatedFhir(rsps, _long_term_with_an_old_screen())
        html = _open_plan(_app(tmp_path, guideline=settings)).get_data(as_text=True)
    assert any("/Encounter?" in url and "date=ge2024-06-15" in url for url, _ in fake.requests)
    assert "Encounters (24 months)" in html


@pytest.mark.parametrize("settings", [pytest.param(s, id=i) for i, s, _ in WIDER])
def test_the_page_reaches_back_at_least_as_far_as_each_widened_hook_search(settings: dict[str, Any]) -> None:
    from test_page_searches_as_hooks import PAGE_KEY, page_searches

    from cds_hooks.services import ALL, templates
    from guideline.searches import render
    from smart_app.plan_view import plan_queries

    config = _config(settings, {"prefetch": {"medication_administrations": True}})
    page = page_searches(plan_queries("p1", TODAY, config))
    for hook in ALL:
        for key, template in templates(hook, config).items():
            query = render(template, {"patientId": "p1", "userId": "Practitioner/1"}, TODAY)
            if "=ge" not in query:
                continue
            mine = page[PAGE_KEY[key]]
            assert _since(mine) <= _since(query), (key, query, mine)
