"""FhirClient: bearer token, paging, page cap, time budget, errors in plain words, never raises."""

from __future__ import annotations

import threading
import time

import requests
import responses

from cds_hooks.fhir_client import FhirClient

BASE = "https://ehr.test/fhir"


def bundle(*resources: dict, next_url: str | None = None) -> dict:
    data = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    if next_url:
        data["link"] = [{"relation": "self", "url": "x"}, {"relation": "next", "url": next_url}]
    return data


def med(n: int) -> dict:
    return {"resourceType": "MedicationRequest", "id": f"m{n}", "status": "active"}


@responses.activate
def test_parallel_queries_carry_the_bearer_token_and_return_resources():
    responses.get(f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    responses.get(f"{BASE}/MedicationRequest", json=bundle(med(1), med(2)))
    client = FhirClient(BASE, "tok-123", session=requests.Session())
    results = client.fetch_all(
        {"patient": "Patient/p1", "medsActive": "MedicationRequest?patient=p1&status=active"}, 2.0
    )
    assert results["patient"].ok and results["patient"].resources[0]["id"] == "p1"
    assert [r["id"] for r in results["medsActive"].resources] == ["m1", "m2"]
    assert results["medsActive"].pages == 1 and not results["medsActive"].truncated
    assert all(call.request.headers["Authorization"] == "Bearer tok-123" for call in responses.calls)
    assert "patient=p1" in responses.calls[1].request.url or "patient=p1" in responses.calls[0].request.url


@responses.activate
def test_no_token_means_no_authorization_header():
    responses.get(f"{BASE}/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    FhirClient(BASE, None, session=requests.Session()).fetch_all({"patient": "Patient/p1"}, 2.0)
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_follows_next_links_up_to_the_page_cap():
    responses.get(f"{BASE}/MedicationRequest", json=bundle(med(1), next_url=f"{BASE}/page2"))
    responses.get(f"{BASE}/page2", json=bundle(med(2), next_url=f"{BASE}/page3"))
    responses.get(f"{BASE}/page3", json=bundle(med(3)))
    full = FhirClient(BASE, "t", session=requests.Session()).fetch_all({"m": "MedicationRequest?x=1"}, 2.0)["m"]
    assert [r["id"] for r in full.resources] == ["m1", "m2", "m3"] and full.pages == 3 and not full.truncated
    capped = FhirClient(BASE, "t", page_cap=2, session=requests.Session()).fetch_all({"m": "MedicationRequest"}, 2)
    assert capped["m"].ok and capped["m"].truncated and capped["m"].pages == 2
    assert [r["id"] for r in capped["m"].resources] == ["m1", "m2"]


@responses.activate
def test_next_link_to_another_server_is_not_followed_and_keeps_the_token_home():
    responses.get(f"{BASE}/MedicationRequest", json=bundle(med(1), next_url="https://evil.test/steal"))
    result = FhirClient(BASE, "t", session=requests.Session()).fetch_all({"m": "MedicationRequest"}, 2.0)["m"]
    assert not result.ok and "outside" in result.error
    assert [r["id"] for r in result.resources] == ["m1"]
    assert len(responses.calls) == 1


@responses.activate
def test_http_errors_outcomes_and_garbage_are_reported_in_words_without_the_token():
    responses.get(f"{BASE}/Patient/p1", status=401, json={"resourceType": "OperationOutcome"})
    responses.get(
        f"{BASE}/Condition",
        json={"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing"}]},
    )
    responses.get(f"{BASE}/Observation", body="<html>oops</html>")
    responses.get(f"{BASE}/Procedure", body=requests.ConnectionError("refused"))
    results = FhirClient(BASE, "secret-token", session=requests.Session()).fetch_all(
        {"p": "Patient/p1", "c": "Condition?patient=p1", "o": "Observation?patient=p1", "x": "Procedure"}, 2.0
    )
    assert results["p"].error == "the FHIR server answered HTTP 401"
    assert "OperationOutcome" in results["c"].error
    assert "not JSON" in results["o"].error
    assert "could not connect" in results["x"].error
    assert not any(r.ok for r in results.values())
    assert all("secret-token" not in (r.error or "") for r in results.values())


@responses.activate
def test_informational_outcome_inside_a_search_bundle_is_dropped_not_fatal():
    info = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational"}],
    }
    responses.get(f"{BASE}/Condition", json=bundle({"resourceType": "Condition", "id": "c1"}, info))
    result = FhirClient(BASE, None, session=requests.Session()).fetch_all({"c": "Condition"}, 2.0)["c"]
    assert result.ok and [r["resourceType"] for r in result.resources] == ["Condition"]


@responses.activate
def test_budget_stops_slow_queries_and_reports_them_timed_out():
    released = threading.Event()

    def slow(_request):
        released.wait(1.5)
        return 200, {}, '{"resourceType": "Patient", "id": "p1"}'

    responses.add_callback(responses.GET, f"{BASE}/Patient/p1", callback=slow)
    responses.get(f"{BASE}/Condition", json=bundle({"resourceType": "Condition", "id": "c1"}))
    started = time.monotonic()
    results = FhirClient(BASE, None, session=requests.Session()).fetch_all(
        {"patient": "Patient/p1", "conditions": "Condition"}, 0.3
    )
    assert time.monotonic() - started < 1.0
    assert results["patient"].error == "timed out" and not results["patient"].ok
    assert results["conditions"].ok
    # The abandoned query's thread still runs: let it finish here, or its late call lands in the next test's mock.
    released.set()
    deadline = time.monotonic() + 5
    while len(responses.calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)


def test_plain_http_is_refused_unless_allowed_and_nothing_is_sent():
    client = FhirClient("http://ehr.test/fhir", "t")
    result = client.fetch_all({"p": "Patient/1"}, 1.0)["p"]
    assert not result.ok and "https" in result.error
    assert FhirClient("http://ehr.test/fhir", "t", allow_http=True).config_error is None
    assert FhirClient("not a url").config_error


def test_repr_never_shows_the_token():
    assert "tok-123" not in repr(FhirClient(BASE, "tok-123"))


@responses.activate
def test_queries_with_system_urls_in_parameters_stay_relative_to_the_server():
    responses.get(f"{BASE}/Observation", json=bundle())
    query = "Observation?patient=p1&code=http://snomed.info/sct|461651000124104"
    result = FhirClient(BASE, "t", session=requests.Session()).fetch_all({"o": query}, 2.0)["o"]
    assert result.ok and responses.calls[0].request.url.startswith(f"{BASE}/Observation?patient=p1&code=http")
