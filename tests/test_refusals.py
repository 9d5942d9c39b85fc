"""What the FHIR server refused is carried as a fact (the key and the HTTP status), never found again by reading our
own words: the expired-token line, a Location remembered as not found and a search asked again all follow the status,
whatever the gap messages say."""

from __future__ import annotations

from datetime import date
from typing import Any

import requests
import responses
from builders import med_request
from cds_support import FHIR, hook_request, make_app
from test_absent_unread import morphine_er_draft, refusing_fhir

from cds_hooks import fhir_client
from cds_hooks.fhir_client import FetchResult, FhirClient
from cds_hooks.gather import gather
from cds_hooks.location_cache import LocationCache
from cds_hooks.place_reads import PlaceReads
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig

TODAY = date(2026, 3, 2)
EXPIRED = "had already expired"
# Epic's 401 for a token past its lifetime: an OperationOutcome with a security issue.
EPIC_401 = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "fatal", "code": "security", "details": {"text": "The access token provided is expired"}}],
}


def expired_request(expires_in: int = 0) -> dict[str, Any]:
    """An order-sign with no prefetch and a token the EHR says expired `expires_in` seconds from now (0: already)."""
    body = hook_request(drafts=[morphine_er_draft()], prefetch={}, fhir=True)
    body["fhirAuthorization"]["expires_in"] = expires_in
    return body


def incomplete_detail(tmp_path, body: dict[str, Any]) -> str:
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.json
    cards = {card["source"]["topic"]["code"]: card for card in response.json["cards"]}
    return cards["data-incomplete"]["detail"]


@responses.activate
def test_an_expired_token_a_server_refuses_with_401_is_named_once(tmp_path) -> None:
    refusing_fhir(401)
    detail = incomplete_detail(tmp_path, expired_request(0))
    assert detail.count(EXPIRED) == 1
    assert "expires_in 0" in detail


@responses.activate
def test_the_expired_token_is_named_from_the_status_whatever_the_refusals_are_worded(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(fhir_client, "ANSWERED_HTTP", "the EHR's FHIR server turned the request away (status {status})")
    refusing_fhir(401)
    detail = incomplete_detail(tmp_path, expired_request(0))
    assert "turned the request away (status 401)" in detail  # the rewording is what the card shows
    assert "answered HTTP 401" not in detail
    assert detail.count(EXPIRED) == 1


@responses.activate
def test_a_403_is_a_scope_refusal_not_an_expired_token(tmp_path) -> None:
    refusing_fhir(403)
    detail = incomplete_detail(tmp_path, expired_request(0))
    assert "answered HTTP 403" in detail
    assert EXPIRED not in detail


@responses.activate
def test_gather_records_each_key_the_server_refused_with_its_status() -> None:
    """Only the medication order searches are refused (401); every other search answers an empty Bundle."""
    refusing_fhir(401, refused=("MedicationRequest",))
    request = parse_hook_request(expired_request(0), "order-sign")
    asked = templates("order-sign", GuidelineConfig.from_mapping())
    data = gather(request, asked, today=TODAY, budget_seconds=5)
    orders = {key for key, query in asked.items() if query.startswith("MedicationRequest")}
    assert orders
    assert dict(data.refused) == dict.fromkeys(orders, 401)


@responses.activate
def test_the_client_carries_the_status_of_a_refused_answer() -> None:
    responses.get(f"{FHIR}/MedicationRequest", status=401, json=EPIC_401)
    responses.get(f"{FHIR}/MedicationDispense", status=400, json={"resourceType": "OperationOutcome"})
    responses.get(f"{FHIR}/Condition", json={"resourceType": "Bundle", "type": "searchset"})
    results = FhirClient(FHIR, "tok", session=requests.Session()).fetch_all(
        {"m": "MedicationRequest?patient=p1", "d": "MedicationDispense?patient=p1", "c": "Condition?patient=p1"}, 5.0
    )
    assert (results["m"].status, results["m"].refused) == (401, False)
    assert (results["d"].status, results["d"].refused) == (400, True)  # asked differently, it may be answered
    assert results["c"].status is None and results["c"].ok


@responses.activate
def test_a_search_refused_as_asked_is_refused_by_its_status_whatever_it_is_worded(monkeypatch) -> None:
    monkeypatch.setattr(fhir_client, "REFUSED", "the search was not accepted as asked")
    responses.get(f"{FHIR}/MedicationDispense", status=400, json={"resourceType": "OperationOutcome"})
    result = FhirClient(FHIR, "tok", session=requests.Session()).fetch_all(
        {"d": "MedicationDispense?patient=p1&whenprepared=ge2025-03-02"}, 5.0
    )["d"]
    assert result.refused and result.status == 400


class Clock:
    def __call__(self) -> float:
        return 1000.0


def test_a_location_is_remembered_as_not_found_by_its_status_whatever_it_is_worded() -> None:
    cache = LocationCache(clock=Clock())
    places = PlaceReads(FHIR, 30, TODAY, cache)
    gone = FetchResult("loc:Location/e5North", "Location/e5North", (), False, "no such place (gone)", status=410)
    down = FetchResult("loc:Location/e6South", "Location/e6South", (), False, "the server is down", status=503)
    assert places.take("Location/e5North", gone) == [] and places.take("Location/e6South", down) == []
    remembered = cache.get(FHIR, "Location/e5North")
    assert remembered is not None and remembered.location is None and remembered.why_not == "no such place (gone)"
    assert cache.get(FHIR, "Location/e6South") is None  # a failure other than "not found" is asked again next call


@responses.activate
def test_a_medication_read_refused_with_401_is_recorded_under_its_read() -> None:
    """Epic names an order's medicine by a Medication reference; the prefetch held every search, so only that
    Medication is read from the server, which refuses the expired token: its read is recorded, as a search is."""
    from cds_support import bundle, full_prefetch

    order = med_request("1049621", id="eRx1")
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/eMed4", "display": "oxycodone 5 mg tablet"}
    responses.get(f"{FHIR}/Medication/eMed4", status=401, json=EPIC_401)
    body = hook_request(drafts=[morphine_er_draft()], prefetch=full_prefetch("order-sign", medsActive=bundle(order)))
    body.update(fhirServer=FHIR, fhirAuthorization={"access_token": "tok", "token_type": "Bearer", "expires_in": 0})
    request = parse_hook_request(body, "order-sign")
    data = gather(request, templates("order-sign", GuidelineConfig.from_mapping()), today=TODAY, budget_seconds=5)
    assert dict(data.refused) == {"med:Medication/eMed4": 401}
