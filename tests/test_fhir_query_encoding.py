"""Every FHIR search value goes out percent-encoded (hook fetches and plan page alike), and a search that came back
empty because of an error is never shown as complete."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from builders import patient
from cds_support import FHIR, hook_request, make_app, oxycodone_draft

from cds_hooks.fhir_client import FhirClient, encode_query
from smart_app.plan_view import plan_queries

BASE = "https://ehr.test/fhir"


def empty_bundle() -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": []}


def test_a_coded_search_value_is_percent_encoded() -> None:
    assert encode_query("Observation?code=http://snomed.info/sct|123") == (
        "Observation?code=http%3A%2F%2Fsnomed.info%2Fsct%7C123"
    )


def test_or_values_keep_their_comma_and_dates_their_plus_sign_is_encoded() -> None:
    query = "Observation?patient=p1&code=http://loinc.org|1-8,http://snomed.info/sct|2&date=ge2026-01-01T00:00:00+05:00"
    assert encode_query(query) == (
        "Observation?patient=p1&code=http%3A%2F%2Floinc.org%7C1-8,http%3A%2F%2Fsnomed.info%2Fsct%7C2"
        "&date=ge2026-01-01T00%3A00%3A00%2B05%3A00"
    )


def test_an_already_encoded_value_is_not_encoded_twice() -> None:
    once = encode_query("Observation?code=http://snomed.info/sct|123")
    assert encode_query(once) == once


def test_modifiers_in_names_and_reads_without_a_search_are_left_alone() -> None:
    assert encode_query("Condition?code:text=sickle cell") == "Condition?code:text=sickle%20cell"
    assert encode_query("Patient/p1") == "Patient/p1"


@responses.activate
def test_the_client_sends_the_exact_encoded_query_string() -> None:
    responses.get(f"{BASE}/Observation", json=empty_bundle())
    client = FhirClient(BASE, "tok", session=requests.Session())
    result = client.fetch_all({"pdmp": "Observation?patient=p1&code=http://snomed.info/sct|123"}, 2.0)["pdmp"]
    assert result.ok
    assert urlsplit(responses.calls[0].request.url).query == "patient=p1&code=http%3A%2F%2Fsnomed.info%2Fsct%7C123"


@responses.activate
def test_hook_fetches_of_missing_prefetch_are_encoded(tmp_path) -> None:
    responses.get(f"{FHIR}/Patient/p1", json=patient())
    responses.get(re.compile(re.escape(FHIR) + r"/\w+\?.*"), json=empty_bundle())
    app = make_app(tmp_path)
    body = hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True)
    assert app.test_client().post("/cds-services/order-sign", json=body).status_code == 200
    queries = [urlsplit(c.request.url).query for c in responses.calls if "/Observation" in c.request.url]
    pdmp = [q for q in queries if "461651000124104" in q]
    assert pdmp and all("code=http%3A%2F%2Fsnomed.info%2Fsct%7C461651000124104,http%3A%2F%2F" in q for q in pdmp)
    assert not any("://" in q or "|" in q for q in queries)


@responses.activate
def test_plan_page_queries_are_encoded() -> None:
    responses.get(re.compile(re.escape(BASE) + r"/.*"), json=empty_bundle())
    client = FhirClient(BASE, "tok", session=requests.Session())
    client.fetch_all({"coded_scores": plan_queries("p1", date(2026, 6, 15))["coded_scores"]}, 2.0)
    assert urlsplit(responses.calls[0].request.url).query == (
        "patient=p1&code=http%3A%2F%2Floinc.org%7C72514-3,http%3A%2F%2Floinc.org%7C38208-5,"
        "http%3A%2F%2Fsnomed.info%2Fsct%7C461651000124104,http%3A%2F%2Fsnomed.info%2Fsct%7C461621000124108,"
        "http%3A%2F%2Floinc.org%7C44261-6,http%3A%2F%2Floinc.org%7C70274-6,"
        "http%3A%2F%2Floinc.org%7C44249-1,http%3A%2F%2Floinc.org%7C69737-5,http%3A%2F%2Floinc.org%7C91147-9,"
        "http%3A%2F%2Floinc.org%7C91148-7,http%3A%2F%2Floinc.org%7C75893-8,http%3A%2F%2Floinc.org%7C91145-3,"
        "http%3A%2F%2Floinc.org%7C91146-1&date=ge2024-06-15&_count=100"
    )


@responses.activate
@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "OperationOutcome",
                            "issue": [{"severity": "warning", "code": "processing", "diagnostics": "unknown code"}],
                        }
                    }
                ],
            },
            "no results with a warning",
        ),
        ({"resourceType": "OperationOutcome", "issue": [{"severity": "information"}]}, "not a Bundle"),
    ],
)
def test_an_empty_search_answer_that_reports_a_problem_is_not_ok(answer: dict, words: str) -> None:
    responses.get(f"{BASE}/Observation", json=answer)
    client = FhirClient(BASE, "tok", session=requests.Session())
    result = client.fetch_all({"q": "Observation?patient=p1&code=http://loinc.org|1"}, 2.0)["q"]
    assert not result.ok and words in (result.error or "")


def test_the_plan_page_never_calls_a_search_that_failed_complete(tmp_path: Any) -> None:
    """A proxy that cannot read raw `:`/`|` in a value and says so with a warning: the panel names the failure."""
    from test_plan_view import FHIR as PLAN_FHIR
    from test_plan_view import FakeFhir, _app, _open_plan

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        warning = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "warning"}]}}],
        }
        rsps.add(
            responses.GET,
            re.compile(re.escape(PLAN_FHIR) + r"/Observation\?.*code=.*"),
            body=json.dumps(warning),
            content_type="application/fhir+json",
        )
        FakeFhir(rsps, [patient(patient_id="p1")])
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    row = re.search(r"<tr[^>]*><td>PEG and pain scores, PDMP findings, PHQ-9 and GAD-7 \(2 years\)</td>.*?</tr>", html)
    assert row is not None and "Complete" not in row.group(0) and "Failed" in row.group(0)


def test_parse_of_an_encoded_query_gives_back_the_values() -> None:
    sent = encode_query("Observation?code=http://snomed.info/sct|461651000124104,http://loinc.org|80764-4")
    assert parse_qs(urlsplit(sent).query)["code"] == ["http://snomed.info/sct|461651000124104,http://loinc.org|80764-4"]


def test_a_sites_own_pdmp_review_codes_are_asked_for_by_the_hook_and_the_plan_page() -> None:
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig

    row = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679|30412"
    config = GuidelineConfig.from_mapping({"pdmp": {"review_codes": [row]}})
    assert templates("order-sign", config)["pdmpObs"].split("&")[1].endswith(f"461621000124108,{row}")
    assert f"|461621000124108,{row}," in plan_queries("p1", date(2026, 6, 15), config)["coded_scores"]
    plain = plan_queries("p1", date(2026, 6, 15), GuidelineConfig.from_mapping())["coded_scores"]
    assert "707679" not in plain and "707679" not in templates("order-sign", GuidelineConfig.from_mapping())["pdmpObs"]


def test_the_hook_and_the_plan_page_ask_for_one_pdmp_code_list() -> None:
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig
    from guideline.searches import PDMP_CODES
    from guideline.terminology import pdmp_search_codes

    row = "urn:oid:1.2.840.114350.1.13.0.1.7.2.707679|30412"
    config = GuidelineConfig.from_mapping({"pdmp": {"review_codes": [row]}})
    codes = pdmp_search_codes(config)
    assert codes == f"{PDMP_CODES},{row}"
    assert pdmp_search_codes(None) == PDMP_CODES
    assert templates("order-sign", config)["pdmpObs"].split("&")[1] == f"code={codes}"
    assert f",{codes}," in plan_queries("p1", date(2026, 6, 15), config)["coded_scores"]
