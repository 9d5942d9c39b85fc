"""Two servers' resources with one id, read from the FHIR server rather than the prefetch: the hook's fallback searches,
the next pages of a prefetched search and the plan page's searches. Prefetched resources were marked with the base of
the server their entry's fullUrl names (tests/test_two_servers_one_id.py), but fetched ones never were, and the plan
page merged its two searches' answers by type and id: an HIE's `MedicationRequest/123` or `MedicationDispense/77` beside
the EHR's was read as a version of it, and one of the two was lost. Fetched resources now carry the same mark, by the
same rule, and the page keeps them apart as the hook does."""

from __future__ import annotations

import json
import re
from datetime import date
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses
from builders import PATIENT_ID, TZ, days_ago, med_request, patient
from cds_support import FHIR, full_prefetch, hook_request, oxycodone_draft

from cds_hooks.fhir_client import FhirClient
from cds_hooks.gather import gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig
from guideline.record import build_record
from smart_app.config import load_settings
from smart_app.plan_view import fetch_page_input

OXY = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
# An Epic-like base (its fullUrls carry it) and an HIE's (Care Everywhere, a regional exchange) that relays its orders.
EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example/fhir"
TODAY = date(2026, 6, 15)
SOURCE = "painplan:source"


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "link": [{"relation": "self", "url": f"{base}/{resource['resourceType']}/{resource['id']}"}],
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": "match"},
    }


def _searchset(*entries: dict[str, Any], next_url: str | None = None, total: int | None = None) -> dict[str, Any]:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": list(entries)}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = [{"relation": "self", "url": "https://fhir.epic.example/self"}]
    if next_url:
        bundle["link"].append({"relation": "next", "url": next_url})
    return bundle


def _order(id_: str, authored: str) -> dict[str, Any]:
    return med_request(OXY, id=id_, status="completed", authored=authored)


def _fill(id_: str, handed_over: str, prepared: str | None = None) -> dict[str, Any]:
    fill: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": id_,
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": OXY}]
        },
        "quantity": {"value": 60, "unit": "TABLET"},
        "daysSupply": {"value": 15, "unit": "Day", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenHandedOver": handed_over,
    }
    if prepared:
        fill["whenPrepared"] = prepared
    return fill


EHR_ORDER = _order("eRx123", f"{days_ago(150)}T09:12:00-05:00")
HIE_ORDER = _order("eRx123", f"{days_ago(40)}T14:30:00-04:00")  # another practice's oxycodone order, the same id


# ---- the client ----------------------------------------------------------------------------------------------------


@responses.activate
def test_a_fetched_page_and_its_next_page_mark_another_server_s_resources():
    # Epic's next link carries a session id; its second page holds an HIE's order with the EHR's order's id.
    page_two = f"{EPIC}/MedicationRequest?sessionID=16-6F1A2B&page=2"
    responses.get(
        f"{EPIC}/MedicationRequest",
        json=_searchset(_entry(EPIC, EHR_ORDER), next_url=page_two, total=2),
        match=[responses.matchers.query_param_matcher({"patient": PATIENT_ID})],
    )
    responses.get(page_two, json=_searchset(_entry(HIE, HIE_ORDER), total=2))
    result = FhirClient(EPIC, "tok", session=requests.Session()).fetch_all(
        {"orders": f"MedicationRequest?patient={PATIENT_ID}"}, 5.0
    )["orders"]
    assert result.ok and result.pages == 2
    ehr, hie = result.resources
    assert SOURCE not in ehr and ehr == EHR_ORDER
    assert hie[SOURCE] == HIE and SOURCE not in HIE_ORDER  # a marked copy: the server's JSON is never changed


@responses.activate
def test_the_ehr_s_own_fullurls_on_its_host_by_another_path_are_not_marked():
    proxied = "https://fhir.epic.example/proxy/R4"
    responses.get(f"{EPIC}/MedicationRequest", json=_searchset(_entry(proxied, EHR_ORDER)))
    result = FhirClient(EPIC, "tok", session=requests.Session()).fetch_all({"o": "MedicationRequest"}, 5.0)["o"]
    assert result.resources == (EHR_ORDER,)


# ---- the hook ------------------------------------------------------------------------------------------------------


def _gathered_record(body: dict[str, Any]):
    request = parse_hook_request(body, body["hook"], allow_http=False)
    data = gather(request, templates(body["hook"], GuidelineConfig.from_mapping()), today=TODAY, budget_seconds=5)
    assert not data.gaps, data.gaps
    return build_record(data.resources, TZ, pooled=True, fhir_server=FHIR, draft_orders=request.draft_orders)


def _recent_orders(record) -> list[tuple[str, str]]:
    return sorted((o.id, o.authored_on.date().isoformat()) for o in record.orders if not o.is_draft)


@responses.activate
def test_the_hook_s_fallback_search_keeps_two_servers_orders_with_one_id_apart():
    responses.get(
        re.compile(re.escape(f"{FHIR}/MedicationRequest") + r"\?.*"),
        json=_searchset(_entry(FHIR, EHR_ORDER), _entry(HIE, HIE_ORDER), total=2),
    )
    prefetch = full_prefetch("order-sign")
    del prefetch["medsRecent"]  # not sent: searched on the EHR's server
    record = _gathered_record(hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True))
    assert _recent_orders(record) == [("eRx123", days_ago(150)), ("eRx123", days_ago(40))]
    assert record.problems == ()


@responses.activate
def test_the_next_page_of_a_prefetched_search_keeps_another_server_s_order_apart():
    page_two = f"{FHIR}/MedicationRequest?sessionID=16-6F1A2B&page=2"
    responses.get(page_two, json=_searchset(_entry(HIE, HIE_ORDER), total=2))
    prefetch = full_prefetch("order-sign", medsRecent=_searchset(_entry(FHIR, EHR_ORDER), next_url=page_two, total=2))
    record = _gathered_record(hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True))
    assert _recent_orders(record) == [("eRx123", days_ago(150)), ("eRx123", days_ago(40))]
    assert record.problems == ()


# ---- the plan page -------------------------------------------------------------------------------------------------


class _EpicLike:
    """Answers the page's searches as an Epic server behind an HIE gateway would: each search's matches with their
    fullUrls, the dispenses by handed-over date from the EHR and by prepared date from the HIE."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        rsps.add_callback(responses.GET, re.compile(re.escape(EPIC) + r"/.*"), callback=self._answer)

    def _answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url)
        path = url.path[len(urlsplit(EPIC).path) + 1 :]
        params = parse_qs(url.query)
        if path == f"Patient/{PATIENT_ID}":
            return 200, {}, json.dumps(patient())
        entries: list[dict[str, Any]] = []
        if path == "MedicationRequest" and "authoredon" in params:
            entries = [_entry(EPIC, EHR_ORDER), _entry(HIE, HIE_ORDER)]
        elif path == "MedicationDispense" and "whenhandedover" in params:
            entries = [_entry(EPIC, _fill("md77", f"{days_ago(20)}T10:00:00-05:00"))]
        elif path == "MedicationDispense" and "whenprepared" in params:
            hie_fill = _fill("md77", f"{days_ago(60)}T16:00:00-05:00", f"{days_ago(61)}T12:00:00-05:00")
            entries = [_entry(HIE, hie_fill)]
        return 200, {}, json.dumps(_searchset(*entries, total=len(entries)))


def test_the_plan_page_keeps_two_servers_orders_and_fills_with_one_id_apart():
    settings = load_settings(env={}, today=TODAY.isoformat())
    launch = SimpleNamespace(iss=EPIC, access_token="tok", patient_id=PATIENT_ID)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        _EpicLike(rsps)
        page = fetch_page_input(launch, settings, TODAY)
    fills = [r for r in page.resources if r.get("resourceType") == "MedicationDispense"]
    assert sorted(r.get(SOURCE, "EHR") for r in fills) == ["EHR", HIE]  # the second search's fill was kept
    record = build_record(page.resources, TZ, patient_id=PATIENT_ID, fhir_server=page.fhir_server)
    assert sorted((d.id, d.when_handed_over.date().isoformat()) for d in record.dispenses) == [
        ("md77", days_ago(60)),
        ("md77", days_ago(20)),
    ]
    assert sorted(o.authored_on.date().isoformat() for o in record.orders) == [days_ago(150), days_ago(40)]
    assert record.problems == ()


# ---- a Medication of another server with the id the EHR's order names ------------------------------------------------

IBUPROFEN = "197806"  # ibuprofen 600 MG Oral Tablet


def _medication(id_: str, rxcui: str, name: str) -> dict[str, Any]:
    coding = {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": rxcui, "display": name}
    return {"resourceType": "Medication", "id": id_, "code": {"coding": [coding], "text": name}}


def _by_reference(id_: str, medication: str) -> dict[str, Any]:
    order = {
        **med_request(OXY, id=id_, status="active", dose=2, period=4),
        "medicationReference": {"reference": medication},
    }
    order.pop("medicationCodeableConcept")
    return order


@responses.activate
def test_another_server_s_medication_is_never_taken_for_the_ehr_s_medication_of_that_id():
    # A gateway's merged search: the EHR's order names its Medication/eMed1 (not included), and the HIE's order beside
    # it came with the HIE's own Medication/eMed1, ibuprofen. Pooled as the EHR's Medication/eMed1, the oxycodone
    # order was read as ibuprofen (no MME), and the EHR's Medication was never read.
    hie_medication = {
        **_entry(HIE, _medication("eMed1", IBUPROFEN, "ibuprofen 600 MG Oral Tablet")),
        "search": {"mode": "include"},
    }
    merged = _searchset(_entry(FHIR, _by_reference("eRx1", "Medication/eMed1")), hie_medication)
    responses.get(
        f"{FHIR}/Medication/eMed1", json=_medication("eMed1", OXY, "oxycodone hydrochloride 5 MG Oral Tablet")
    )
    prefetch = full_prefetch("order-sign", medsActive=merged)
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    request = parse_hook_request(body, body["hook"], allow_http=False)
    data = gather(request, templates("order-sign", GuidelineConfig.from_mapping()), today=TODAY, budget_seconds=5)
    assert [m["id"] for m in data.medications] == ["eMed1"]  # the EHR's Medication was read
    record = build_record(
        data.resources,
        TZ,
        pooled=True,
        fhir_server=FHIR,
        extra_medications=data.medications,
        medication_urls=data.medication_urls,
        draft_orders=request.draft_orders,
    )
    [order] = [o for o in record.orders if o.id == "eRx1"]
    assert order.medication.concept is not None
    assert [c.code for c in order.medication.concept.codings] == [OXY]
