"""A search the FHIR server says is incomplete is named, never read as the whole list: Epic's warning 4119 beside the
results it did return, and a Bundle.total above the matches returned once the last page is read."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import requests
import responses
from builders import days_ago, med_request, patient
from cds_support import FHIR, full_prefetch, hook_request, oxycodone_draft, topics
from cds_support import make_app as make_cds_app

from cds_hooks.fhir_client import FhirClient
from cds_hooks.gather import gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig

BASE = "https://ehr.test/fhir"
EPIC_OID = "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369"
IBUPROFEN = med_request("197806", id="ibu", authored=days_ago(30), display="ibuprofen 600 MG Oral Tablet")


def epic_outcome(code: str, text: str) -> dict[str, Any]:
    """An Epic OperationOutcome as it sits in a searchset (search.mode outcome), a warning under Epic's own codes."""
    issue = {
        "severity": "warning",
        "code": "informational",
        "details": {"coding": [{"system": EPIC_OID, "code": code, "display": text}], "text": text},
    }
    return {"resource": {"resourceType": "OperationOutcome", "issue": [issue]}, "search": {"mode": "outcome"}}


def searchset(*resources: dict, total: int | None = None, outcome: dict | None = None, next_url: str = "") -> dict:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources] + ([outcome] if outcome else []),
    }
    if total is not None:
        bundle["total"] = total
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def withheld() -> dict:
    return epic_outcome("4119", "Additional data may be present for patient.")


def order(n: int) -> dict:
    return {"resourceType": "MedicationRequest", "id": f"m{n}", "status": "active"}


def fetch(query: str = "MedicationRequest?patient=p1", page_cap: int = 10):
    client = FhirClient(BASE, "tok", page_cap=page_cap, session=requests.Session())
    return client.fetch_all({"q": query}, 2.0)["q"]


@responses.activate
def test_epics_additional_data_warning_beside_results_names_the_search_and_keeps_what_came_back():
    # Before, the warning counted only on an empty search: beside one returned order it was dropped and the
    # restricted orders it stood for read as "none".
    responses.get(f"{BASE}/MedicationRequest", json=searchset(IBUPROFEN, total=1, outcome=withheld()))
    result = fetch()
    assert not result.ok and "withheld" in (result.error or "")
    assert [r["id"] for r in result.resources] == ["ibu"]


@responses.activate
def test_the_hl7_suppressed_issue_type_beside_results_is_named_too():
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "suppressed"}]}
    responses.get(f"{BASE}/MedicationRequest", json=searchset(order(1), outcome={"resource": outcome}))
    assert not fetch().ok


@responses.activate
def test_informational_notes_beside_results_are_not_missing_data():
    hapi = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}
    responses.get(f"{BASE}/MedicationRequest", json=searchset(order(1), outcome={"resource": hapi}))
    responses.get(f"{BASE}/Immunization", json=searchset(order(2), outcome=epic_outcome("4117", "No CVX code.")))
    assert fetch().ok and fetch("Immunization?patient=p1").ok


@responses.activate
def test_a_withheld_warning_on_the_first_page_still_reads_the_rest():
    responses.get(f"{BASE}/MedicationRequest", json=searchset(order(1), outcome=withheld(), next_url=f"{BASE}/p2"))
    responses.get(f"{BASE}/p2", json=searchset(order(2)))
    result = fetch()
    assert not result.ok and [r["id"] for r in result.resources] == ["m1", "m2"]


@responses.activate
def test_a_total_above_an_empty_answer_is_named_with_both_counts():
    responses.get(f"{BASE}/Observation", json={"resourceType": "Bundle", "type": "searchset", "total": 2, "entry": []})
    result = fetch("Observation?patient=p1&category=laboratory")
    assert not result.ok and result.error == "the FHIR server reported 2 results but returned 0"


@responses.activate
def test_a_total_above_what_every_page_returned_is_named():
    responses.get(f"{BASE}/MedicationRequest", json=searchset(order(1), order(2), total=5, next_url=f"{BASE}/p2"))
    responses.get(f"{BASE}/p2", json=searchset(order(3), total=5))
    result = fetch()
    assert not result.ok and result.error == "the FHIR server reported 5 results but returned 3"
    assert len(result.resources) == 3


@responses.activate
def test_a_total_above_one_page_is_plain_paging_while_a_next_link_remains():
    responses.get(f"{BASE}/MedicationRequest", json=searchset(order(1), order(2), total=3, next_url=f"{BASE}/p2"))
    responses.get(f"{BASE}/p2", json=searchset(order(3), total=3))
    result = fetch()
    assert result.ok and result.error is None and len(result.resources) == 3


@responses.activate
def test_a_search_cut_off_at_the_page_cap_stays_named_as_cut_off():
    responses.get(f"{BASE}/MedicationRequest", json=searchset(order(1), total=9, next_url=f"{BASE}/p2"))
    result = fetch(page_cap=1)
    assert result.ok and result.truncated


@responses.activate
def test_included_resources_do_not_count_as_matches():
    medication = {"resourceType": "Medication", "id": "med1", "code": {"text": "oxycodone 5 mg tablet"}}
    bundle = searchset(order(1), order(2), total=2)
    bundle["entry"].append({"resource": medication, "search": {"mode": "include"}})
    responses.get(f"{BASE}/MedicationRequest", json=bundle)
    assert fetch().ok
    responses.replace(responses.GET, f"{BASE}/MedicationRequest", json={**bundle, "total": 3})
    assert fetch().error == "the FHIR server reported 3 results but returned 2"


def run_gather(prefetch: dict) -> Any:
    config = GuidelineConfig.from_mapping()
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    request = parse_hook_request(body, "order-sign", allow_http=False)
    return gather(request, templates("order-sign", config), today=date(2026, 6, 15), budget_seconds=5, network=False)


def test_a_prefetched_search_with_the_withheld_warning_is_named_and_its_results_still_count():
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = searchset(IBUPROFEN, total=1, outcome=withheld())
    data = run_gather(prefetch)
    ((label, why),) = data.gaps.items()
    assert "medication" in label.lower() and why.startswith("in the prefetch,") and "withheld" in why
    assert "ibu" in [r.get("id") for r in data.resources]


def test_a_prefetched_search_whose_total_exceeds_its_entries_is_named():
    prefetch = full_prefetch("order-sign")
    prefetch["udsLabs"] = {"resourceType": "Bundle", "type": "searchset", "total": 2, "entry": []}
    data = run_gather(prefetch)
    ((label, why),) = data.gaps.items()
    assert "urine" in label.lower() and why == "in the prefetch, the FHIR server reported 2 results but returned 0"


def test_a_prefetched_total_equal_to_its_entries_is_complete():
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = searchset(IBUPROFEN, total=1)
    assert run_gather(prefetch).gaps == {}


def test_the_card_names_the_withheld_order_searches(tmp_path):
    prefetch = full_prefetch("patient-view")
    partial = searchset(IBUPROFEN, total=1, outcome=withheld())
    prefetch.update(medsActive=partial, medsRecent=partial)
    response = (
        make_cds_app(tmp_path)
        .test_client()
        .post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch))
    )
    assert "data-incomplete" in topics(response.json)
    incomplete = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert "withheld" in incomplete["detail"]


PAGE_FHIR = "https://ehr.example.org/fhir/r4"


def open_page(tmp_path: Any, answer: Any) -> str:
    """The plan page for a patient on ibuprofen, with `answer(url)` replacing the server's answer where it gives one."""
    from urllib.parse import parse_qs, urlsplit

    from launch_support import PUBLIC_URL
    from launch_support import make_app as make_launch_app

    from launch.session import begin_trusted_launch

    resources = [patient(patient_id="p1"), IBUPROFEN]

    def reply(request: Any) -> tuple[int, dict, str]:
        import json

        url = urlsplit(request.url)
        kind = url.path.rsplit("/fhir/r4/", 1)[1].split("/")[0]
        special = answer(request.url)
        if special is not None:
            return 200, {}, json.dumps(special)
        if "/" in url.path.rsplit("/fhir/r4/", 1)[1]:
            found = next((r for r in resources if url.path.endswith(f"{r['resourceType']}/{r['id']}")), None)
            return (200, {}, json.dumps(found)) if found else (404, {}, "{}")
        return 200, {}, json.dumps(searchset(*[r for r in resources if r["resourceType"] == kind]))

    app = make_launch_app(tmp_path, [], today=date(2026, 6, 15))

    @app.get("/_open")
    def _open() -> Any:
        return begin_trusted_launch(iss=PAGE_FHIR, patient_id="p1", access_token="tok", app_context={"view": "plan"})

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(re.escape(PAGE_FHIR) + r"/.*"), callback=reply)
        client = app.test_client()
        handle = parse_qs(urlsplit(client.get("/_open", base_url=PUBLIC_URL).headers["Location"]).query)["s"][0]
        return client.get("/plan", query_string={"s": handle}, base_url=PUBLIC_URL).get_data(as_text=True)


def panel_row(html: str, label: str) -> str:
    row = re.search(r"<tr[^>]*><td>" + re.escape(label) + r"</td>.*?</tr>", html)
    assert row, label
    return re.sub(r"<[^>]+>", " ", row.group(0))


def test_the_plan_page_names_order_searches_with_the_withheld_warning(tmp_path):
    def orders(url: str) -> dict | None:
        if "/MedicationRequest?" in url:
            return searchset(IBUPROFEN, total=1, outcome=withheld())
        return None

    html = open_page(tmp_path, orders)
    row = panel_row(html, "Medication orders (2 years)")
    assert "Incomplete:" in row and "withheld" in row  # what came back is shown: not "Failed", not "Complete"
    assert "Some data could not be read" in html


def test_the_plan_page_names_a_lab_search_whose_total_exceeds_its_results(tmp_path):
    def labs(url: str) -> dict | None:
        if "category=laboratory" in url:
            return {"resourceType": "Bundle", "type": "searchset", "total": 2, "entry": []}
        return None

    row = panel_row(open_page(tmp_path, labs), "Laboratory results (13 months)")
    assert "Failed: the FHIR server reported 2 results but returned 0" in row  # nothing came back


def test_a_prefetched_first_page_with_the_withheld_warning_is_named_while_the_rest_is_read():
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = searchset(IBUPROFEN, outcome=withheld(), next_url=f"{FHIR}/MedicationRequest?page=2")
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    request = parse_hook_request(body, "order-sign", allow_http=False)
    config = GuidelineConfig.from_mapping()
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/MedicationRequest", json=searchset(order(2)))
        data = gather(request, templates("order-sign", config), today=date(2026, 6, 15), budget_seconds=5)
    assert data.fetched_keys == ("medsActive",)
    ((label, why),) = data.gaps.items()
    assert "medication" in label.lower() and "withheld" in why
    assert {"ibu", "m2"} <= {r.get("id") for r in data.resources}
