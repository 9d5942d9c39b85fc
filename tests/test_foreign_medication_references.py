"""A Medication named by an absolute reference is read, and matched, only on the EHR's own FHIR server.

`https://other.example.net/fhir/Medication/m-far` is not `Medication/m-far` on the EHR's server: read there, or
matched to a Medication of that id in the chart, the order took the identity of whatever drug the EHR files under
m-far. Such an order is named as an unidentified medication ("its medication is on another server and was not read")
and nothing is requested for it; an absolute reference on the EHR's own server (Epic writes them so) is still read.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
import responses
from builders import RXNORM, med_request, patient
from cds_support import FHIR as HOOK_FHIR
from cds_support import full_prefetch, hook_request, make_app, oxycodone_draft
from test_medication_reads import OXY_MEDICATION, epic_order, listed, open_page, panel_row
from test_plan_view import FHIR

from cds_hooks.gather import MEDICATIONS, gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig
from guideline.fhirdata import path_on_server
from guideline.recognition import unidentified_name
from guideline.record import build_record, medication_references

TZ = ZoneInfo("America/New_York")
FAR = "https://other.example.net/fhir/Medication/m-far"
ELSEWHERE = "its medication is on another server and was not read"
AMOXICILLIN = "308191"  # amoxicillin 500 MG Oral Capsule: what the EHR's own server files as m-far

# The EHR's own Medication m-far: a different drug from the one the other server's m-far names.
LOCAL_M_FAR = {
    "resourceType": "Medication",
    "id": "m-far",
    "code": {"coding": [{"system": RXNORM, "code": AMOXICILLIN}], "text": "amoxicillin 500 MG capsule"},
}


# ---- the one "same server" rule ----


@pytest.mark.parametrize(
    ("url", "server", "path"),
    [
        ("https://ehr.example.org/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", "Medication/m1"),
        ("https://ehr.example.org/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4/", "Medication/m1"),
        ("HTTPS://EHR.Example.ORG/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", "Medication/m1"),
        ("https://ehr.example.org:443/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", "Medication/m1"),
        ("http://ehr.local/fhir/Medication/m1", "http://ehr.local:80/fhir", "Medication/m1"),
        (
            "https://ehr.example.org/fhir/r4/Observation/o1/_history/2",
            "https://ehr.example.org/fhir/r4",
            "Observation/o1/_history/2",
        ),  # fmt: skip
        ("https://other.example.net/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", None),
        ("http://ehr.example.org/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", None),
        ("https://ehr.example.org:8443/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", None),
        ("https://ehr.example.org/fhir/r4b/Medication/m1", "https://ehr.example.org/fhir/r4", None),
        ("https://ehr.example.org/FHIR/R4/Medication/m1", "https://ehr.example.org/fhir/r4", None),  # path: exact
        ("https://user@ehr.example.org/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", None),
        ("https://ehr.example.org.evil.net/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", None),
        ("https://ehr.example.org:99999/fhir/r4/Medication/m1", "https://ehr.example.org/fhir/r4", None),
    ],
)
def test_a_url_is_on_the_server_when_scheme_host_port_and_base_path_agree(url: str, server: str, path: Any) -> None:
    assert path_on_server(url, server) == path


# ---- what is read, and what the record matches ----


def test_only_an_absolute_reference_on_the_ehrs_server_is_shortened_to_a_read() -> None:
    orders = [epic_order("ord-far", FAR), epic_order("ord-own", f"{FHIR}/Medication/m-oxy")]
    assert medication_references([orders], FHIR) == {FAR, "Medication/m-oxy"}
    # With no server to compare with, no absolute reference is known to be the EHR's: none becomes a read.
    assert medication_references([orders]) == {FAR, f"{FHIR}/Medication/m-oxy"}


def test_an_order_on_another_server_is_not_matched_to_the_ehrs_medication_of_that_id() -> None:
    record = build_record([epic_order("ord-far", FAR), LOCAL_M_FAR], TZ, fhir_server=FHIR)
    medication = record.orders[0].medication
    assert medication.unresolved and medication.elsewhere
    assert unidentified_name(medication) == f"medication {FAR} ({ELSEWHERE})"
    assert record.unresolved_medication_refs == (FAR,)


def test_an_absolute_reference_on_the_ehrs_server_matches_the_medication_it_names() -> None:
    own = "HTTPS://EHR.EXAMPLE.ORG:443/fhir/r4/Medication/m-oxy"  # as written, not as the launch's iss
    record = build_record([epic_order("ord-own", own)], TZ, extra_medications=[OXY_MEDICATION], fhir_server=FHIR)
    assert not record.orders[0].medication.unresolved


def test_a_medication_sent_under_that_absolute_full_url_still_matches_it() -> None:
    sent = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": FAR, "resource": {**OXY_MEDICATION, "id": "m-far"}},
            {"fullUrl": f"{FHIR}/MedicationRequest/ord-far", "resource": epic_order("ord-far", FAR)},
        ],
    }
    for server in (FHIR, None):  # the hook, and `painplan check` of a request without fhirServer
        record = build_record([sent], TZ, fhir_server=server)
        assert not record.orders[0].medication.unresolved
        assert medication_references([sent], server) == set()


def test_with_no_server_known_an_absolute_reference_matches_only_by_its_full_url() -> None:
    record = build_record([epic_order("ord-far", FAR), LOCAL_M_FAR], TZ)
    medication = record.orders[0].medication
    assert medication.unresolved and not medication.elsewhere
    assert unidentified_name(medication) == f"medication {FAR} (not found)"


# ---- the hook ----


def _draft() -> dict[str, Any]:
    """Oxycodone 10 mg every 4 hours (90 MME/day): another product than the current 5 mg order, so both count (a
    draft of the same product would be read as its renewal, and count once)."""
    return med_request("1049683", draft=True, id="draft-oxy", dose=1, period=4)


def _hook(tmp_path: Path, orders: list[dict[str, Any]], *held: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The order-sign answer for an oxycodone draft with these active orders, and every URL the hook requested."""
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = {"resourceType": "Bundle", "entry": [{"resource": r} for r in [*orders, *held]]}
    body = hook_request(drafts=[_draft()], prefetch=prefetch, fhir=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, f"{HOOK_FHIR}/Medication/m-oxy", json=OXY_MEDICATION)
        rsps.add(responses.GET, f"{HOOK_FHIR}/Medication/m-far", json=LOCAL_M_FAR)
        rsps.add(responses.GET, re.compile(r"https?://.*"), json=OXY_MEDICATION)  # anything else asked
        response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
        urls = [unquote(c.request.url) for c in rsps.calls]
    assert response.status_code == 200
    return response.json, urls


def _card(response: dict[str, Any], topic: str) -> dict[str, Any]:
    return next(c for c in response["cards"] if c["source"]["topic"]["code"] == topic)


def test_the_hook_reads_nothing_for_an_order_on_another_server_and_names_it(tmp_path: Path) -> None:
    response, urls = _hook(tmp_path, [epic_order("ord-far", FAR)], LOCAL_M_FAR)
    assert urls == []  # neither the other server nor the EHR's Medication/m-far
    unidentified = _card(response, "unidentified-medication")["detail"]
    assert f"medication {FAR} ({ELSEWHERE}) (current order ord-far)" in unidentified
    incomplete = _card(response, "data-incomplete")["detail"]
    assert MEDICATIONS in incomplete and "on another FHIR server" in incomplete


@pytest.mark.parametrize("written", [f"{HOOK_FHIR}/Medication/m-oxy", "HTTPS://EHR.TEST:443/fhir/Medication/m-oxy"])
def test_the_hook_still_reads_an_absolute_reference_on_its_own_server(tmp_path: Path, written: str) -> None:
    response, urls = _hook(tmp_path, [epic_order("ord-own", written)])
    assert urls == [f"{HOOK_FHIR}/Medication/m-oxy"]
    topics = [c["source"]["topic"]["code"] for c in response["cards"]]
    assert "unidentified-medication" not in topics and "data-incomplete" not in topics
    assert "120.0 MME/day" in _card(response, "high-mme")["summary"]  # 30 current + 90 the draft


@pytest.mark.parametrize("fhir", [False, True])
def test_the_hook_matches_an_absolute_reference_to_the_medication_included_under_that_full_url(
    tmp_path: Path, fhir: bool
) -> None:
    # Epic's search Bundle: the order names its Medication by absolute URL, and the search includes that Medication
    # (search.mode include) under the same fullUrl. Whatever the server, that is the Medication the order names.
    prefetch = full_prefetch("order-sign")
    included = {"fullUrl": FAR, "resource": {**OXY_MEDICATION, "id": "m-far"}, "search": {"mode": "include"}}
    order = {"fullUrl": f"{FHIR}/MedicationRequest/ord-far", "resource": epic_order("ord-far", FAR)}
    prefetch["medsActive"] = {"resourceType": "Bundle", "type": "searchset", "entry": [order, included]}
    body = hook_request(drafts=[_draft()], prefetch=prefetch, fhir=fhir)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(r"https?://.*"), json=LOCAL_M_FAR)  # anything asked: another drug
        response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
        urls = [c.request.url for c in rsps.calls]
    assert response.status_code == 200 and urls == []
    topics = [c["source"]["topic"]["code"] for c in response.json["cards"]]
    assert "unidentified-medication" not in topics and "data-incomplete" not in topics
    assert "120.0 MME/day" in _card(response.json, "high-mme")["summary"]  # 30 current + 90 the draft


def test_offline_the_absolute_reference_is_named_as_not_read(tmp_path: Path) -> None:
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = {"resourceType": "Bundle", "entry": [{"resource": epic_order("ord-far", FAR)}]}
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    request = parse_hook_request(body, "order-sign", allow_http=False)
    asked = templates("order-sign", GuidelineConfig.from_mapping())
    data = gather(request, asked, today=date(2026, 6, 15), budget_seconds=5, network=False)
    assert data.gaps[MEDICATIONS] == "1 on another FHIR server, which PainPlan does not read"
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)  # no fhirServer: whose it is is unknown
    request = parse_hook_request(body, "order-sign", allow_http=False)
    data = gather(request, asked, today=date(2026, 6, 15), budget_seconds=5, network=False)
    assert "offline check reads nothing" in data.gaps[MEDICATIONS]


# ---- the plan page ----


def test_the_page_reads_nothing_for_an_order_on_another_server_and_names_it(tmp_path: Path) -> None:
    html, reads = open_page(tmp_path, [patient(), epic_order("ord-far", FAR), LOCAL_M_FAR])
    assert reads == ["Patient/p1"]  # every request is recorded, one to another host by its whole URL
    assert listed(html, "unidentified-medications") == [f"medication {FAR} ({ELSEWHERE}) (current order ord-far)"]
    row = panel_row(html, "Medication details")
    assert 'class="failed"' in row and "1 not read: on another FHIR server, which PainPlan does not read" in row


def test_the_page_reads_an_absolute_reference_on_its_own_server(tmp_path: Path) -> None:
    own = FHIR.replace("https://ehr.example.org", "https://EHR.example.org:443") + "/Medication/m-oxy"
    html, reads = open_page(tmp_path, [patient(), epic_order("ord-own", own), OXY_MEDICATION])
    assert sorted(reads) == ["Medication/m-oxy", "Patient/p1"]
    assert '<strong id="total-mme">30.0 MME/day</strong>' in html
    assert listed(html, "unidentified-medications") == []


def test_a_reference_beside_a_concept_that_is_no_object_is_fetched_because_the_reader_reads_it() -> None:
    # A converter that wraps every element in an array sends the concept as a list: the record reader passes over
    # it to the reference, so the reference is fetched too (it was not, and the order was named as not read).
    order = epic_order("ord-wrapped", "Medication/m-oxy")
    order["medicationCodeableConcept"] = [{"text": "oxyCODONE 5 mg tablet"}]
    assert medication_references([order], FHIR) == {"Medication/m-oxy"}
    record = build_record([order, {**OXY_MEDICATION, "id": "m-oxy"}], TZ, fhir_server=FHIR)
    assert record.orders[0].medication.reference == "Medication/m-oxy"
    assert not record.orders[0].medication.unresolved
