"""A relative reference inside another server's resource names that server's resource, never the EHR's.

An HIE's MedicationRequest (its Bundle entry's fullUrl on the HIE's base) that names `medicationReference:
Medication/m1` means the HIE's Medication/m1. Resolved against the EHR, the HIE's order was read as whatever drug the
EHR files under m1 (a wrong drug, silently), and the EHR was asked for `Medication/m1` (and an HIE report's
`Observation/o9`) with the EHR's bearer token, an id that is not its own. Such a reference is now read as absolute on
its source (`https://hie.example/fhir/Medication/m1`): answered by a Medication the HIE's Bundle holds under that
fullUrl, else named as on another server and never fetched."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import responses
from builders import PATIENT_ID, days_ago, med_request
from cds_support import FHIR, full_prefetch, hook_request, oxycodone_draft
from test_report_result_reads import ON, reflab_report, results

from cds_hooks.gather import MEDICATIONS, REPORT_RESULTS, gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig
from guideline.record import build_record, medication_references
from guideline.record.pool import ON_ANOTHER_SERVER, absolute_on_source
from guideline.report_results import OTHER_SERVER, plan_result_reads
from guideline.terminology import load_terminology

TZ = ZoneInfo("America/New_York")
TODAY = date(2026, 6, 15)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OXY = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
AMOXICILLIN = "308191"  # amoxicillin 500 MG Oral Capsule
IBUPROFEN = "197806"  # ibuprofen 600 MG Oral Tablet
# An Epic base (its fullUrls carry it) and an HIE's (a regional exchange relaying another practice's orders).
EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example/fhir"


def _medication(id_: str, rxcui: str, name: str) -> dict[str, Any]:
    coding = {"system": RXNORM, "code": rxcui, "display": name}
    return {"resourceType": "Medication", "id": id_, "code": {"coding": [coding], "text": name}}


def _by_reference(id_: str, medication: str, authored: str | None = None) -> dict[str, Any]:
    order = {
        **med_request(OXY, id=id_, status="active", dose=2, period=4, authored=authored or days_ago(10)),
        "medicationReference": {"reference": medication, "display": "see Medication"},
    }
    order.pop("medicationCodeableConcept")
    return order


def _entry(base: str, resource: dict[str, Any], mode: str = "match") -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": list(entries)}


def _order(record, id_: str):
    [order] = [o for o in record.orders if o.id == id_ and not o.is_draft]
    return order


def _codes(order) -> list[str]:
    return [] if order.medication.concept is None else [c.code for c in order.medication.concept.codings]


# ---- the one rule ----------------------------------------------------------------------------------------------------


def test_a_relative_reference_in_a_marked_resource_is_absolute_on_its_source() -> None:
    marked = {"resourceType": "MedicationRequest", "id": "h1", "painplan:source": HIE}
    assert absolute_on_source("Medication/m1", marked) == f"{HIE}/Medication/m1"
    assert absolute_on_source("Medication/m1/_history/2", marked) == f"{HIE}/Medication/m1/_history/2"
    assert absolute_on_source(f"{EPIC}/Medication/m1", marked) == f"{EPIC}/Medication/m1"  # absolute: as written
    assert absolute_on_source("#med", marked) == "#med"  # contained: the resource's own
    assert absolute_on_source("urn:uuid:6f1c2b1e-0b7a-4f65-9a55-0b1d0e6f2c11", marked).startswith("urn:")
    assert absolute_on_source("Medication/m1", {"resourceType": "MedicationRequest", "id": "e1"}) == "Medication/m1"


# ---- the record ------------------------------------------------------------------------------------------------------


def test_the_record_never_reads_an_hie_order_as_the_ehrs_medication_of_that_id() -> None:
    # A gateway's merged search: the EHR's order names its own Medication/m1 (amoxicillin, included); the HIE's
    # order names the HIE's Medication/m1, which the HIE did not send. Read against the EHR, the HIE's oxycodone
    # order was amoxicillin.
    bundle = _searchset(
        _entry(EPIC, _by_reference("eRx1", "Medication/m1")),
        _entry(EPIC, _medication("m1", AMOXICILLIN, "amoxicillin 500 MG Oral Capsule"), "include"),
        _entry(HIE, _by_reference("hieRx7", "Medication/m1")),
    )
    record = build_record([bundle], TZ, patient_id=PATIENT_ID, fhir_server=EPIC)
    assert _codes(_order(record, "eRx1")) == [AMOXICILLIN]
    hie = _order(record, "hieRx7")
    assert hie.medication.concept is None and hie.medication.elsewhere
    assert hie.medication.reference == f"{HIE}/Medication/m1"


def test_the_record_reads_an_hie_order_by_the_medication_the_hie_sent() -> None:
    bundle = _searchset(
        _entry(EPIC, _by_reference("eRx1", "Medication/m1")),
        _entry(EPIC, _medication("m1", AMOXICILLIN, "amoxicillin 500 MG Oral Capsule"), "include"),
        _entry(HIE, _by_reference("hieRx7", "Medication/m1")),
        _entry(HIE, _medication("m1", IBUPROFEN, "ibuprofen 600 MG Oral Tablet"), "include"),
    )
    record = build_record([bundle], TZ, patient_id=PATIENT_ID, fhir_server=EPIC)
    assert _codes(_order(record, "eRx1")) == [AMOXICILLIN]
    assert _codes(_order(record, "hieRx7")) == [IBUPROFEN]


def test_what_must_be_fetched_names_the_hies_medication_as_on_its_server() -> None:
    bundle = _searchset(
        _entry(EPIC, _by_reference("eRx1", "Medication/e9")), _entry(HIE, _by_reference("h", "Medication/m1"))
    )
    assert medication_references([bundle], EPIC) == {"Medication/e9", f"{HIE}/Medication/m1"}


def test_the_hies_included_medication_does_not_stand_for_the_ehrs_of_that_id_in_a_whole_bundle() -> None:
    # A whole Bundle (as `painplan mme` and a page read one): the HIE's Medication/m1, sent for the HIE's order, was
    # taken for the EHR's Medication/m1 there, and the EHR's own order's Medication was never asked for.
    bundle = _searchset(
        _entry(EPIC, _by_reference("eRx1", "Medication/m1")),
        _entry(HIE, _by_reference("hieRx7", "Medication/m1")),
        _entry(HIE, _medication("m1", IBUPROFEN, "ibuprofen 600 MG Oral Tablet"), "include"),
    )
    assert medication_references([bundle], EPIC) == {"Medication/m1"}


# ---- the hook (responses-mocked FHIR) --------------------------------------------------------------------------------


def _gather(prefetch: dict[str, Any], terms: bool = False):
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    request = parse_hook_request(body, body["hook"], allow_http=False)
    config = GuidelineConfig.from_mapping(ON if terms else {})
    data = gather(
        request,
        templates("order-sign", config),
        today=TODAY,
        budget_seconds=5,
        terms=load_terminology(config) if terms else None,
    )
    record = build_record(
        data.resources,
        TZ,
        pooled=True,
        fhir_server=FHIR,
        extra_medications=data.medications,
        medication_urls=data.medication_urls,
        draft_orders=request.draft_orders,
    )
    return data, record


def test_the_hook_never_asks_the_ehr_for_the_hies_medication_id_and_names_it() -> None:
    merged = _searchset(
        _entry(FHIR, _by_reference("eRx1", "Medication/e9")), _entry(HIE, _by_reference("hieRx7", "Medication/m1"))
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        ehr_m1 = rsps.get(
            f"{FHIR}/Medication/m1", json=_medication("m1", AMOXICILLIN, "amoxicillin 500 MG Oral Capsule")
        )
        ehr_e9 = rsps.get(
            f"{FHIR}/Medication/e9", json=_medication("e9", OXY, "oxycodone hydrochloride 5 MG Oral Tablet")
        )
        data, record = _gather(full_prefetch("order-sign", medsActive=merged))
        assert ehr_m1.call_count == 0  # the EHR is never asked for the HIE's id
        assert ehr_e9.call_count == 1
        assert not [c for c in rsps.calls if c.request.url.startswith(HIE)]
    assert ON_ANOTHER_SERVER in data.gaps[MEDICATIONS]
    assert _codes(_order(record, "eRx1")) == [OXY]
    hie = _order(record, "hieRx7")
    assert hie.medication.concept is None and hie.medication.elsewhere


def test_the_hook_reads_the_hies_included_medication_and_the_ehrs_own_of_the_same_id() -> None:
    merged = _searchset(
        _entry(FHIR, _by_reference("eRx1", "Medication/m1")),
        _entry(HIE, _by_reference("hieRx7", "Medication/m1")),
        _entry(HIE, _medication("m1", IBUPROFEN, "ibuprofen 600 MG Oral Tablet"), "include"),
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        ehr_m1 = rsps.get(
            f"{FHIR}/Medication/m1", json=_medication("m1", OXY, "oxycodone hydrochloride 5 MG Oral Tablet")
        )
        data, record = _gather(full_prefetch("order-sign", medsActive=merged))
        assert ehr_m1.call_count == 1  # the EHR's own order's Medication, once
    assert MEDICATIONS not in data.gaps
    assert _codes(_order(record, "eRx1")) == [OXY]
    assert _codes(_order(record, "hieRx7")) == [IBUPROFEN]  # not the EHR's m1, oxycodone


def test_an_hie_reports_relative_result_is_named_on_another_server_and_never_read() -> None:
    found = results()
    hie_report = reflab_report([f"Observation/{found[0]['id']}"], report_id="hieDr3")
    ehr_report = reflab_report([f"Observation/{found[1]['id']}"], report_id="eDr1")
    reports = _searchset(_entry(HIE, hie_report), _entry(FHIR, ehr_report))
    terms = load_terminology(GuidelineConfig.from_mapping(ON))
    plan = plan_result_reads([reports], terms, FHIR)
    assert plan.reads == (f"Observation/{found[1]['id']}",)
    # Keyed as the record keys the HIE report's result: the HIE's, never the EHR's result of that id.
    assert plan.not_read == ((f"{HIE}/Observation/{found[0]['id']}", OTHER_SERVER),)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        hie_read = rsps.get(f"{FHIR}/Observation/{found[0]['id']}", json=found[0])
        ehr_read = rsps.get(f"{FHIR}/Observation/{found[1]['id']}", json=found[1])
        data, _ = _gather(full_prefetch("order-sign", labReports=reports), terms=True)
        assert hie_read.call_count == 0 and ehr_read.call_count == 1
    assert OTHER_SERVER in data.gaps[REPORT_RESULTS]


# ---- the plan page (responses-mocked FHIR) ---------------------------------------------------------------------------


def test_the_plan_page_never_asks_the_ehr_for_the_hies_medication_id_and_names_it() -> None:
    import json
    import re
    from types import SimpleNamespace
    from urllib.parse import urlsplit

    from builders import patient

    from smart_app.config import load_settings
    from smart_app.plan_view import fetch_page_input

    orders = [
        _entry(EPIC, _by_reference("eRx1", "Medication/e9")),
        _entry(HIE, _by_reference("hieRx7", "Medication/m1")),
    ]

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        path = urlsplit(request.url).path[len(urlsplit(EPIC).path) + 1 :]
        if path == f"Patient/{PATIENT_ID}":
            return 200, {}, json.dumps(patient())
        if path == "Medication/e9":
            return 200, {}, json.dumps(_medication("e9", OXY, "oxycodone hydrochloride 5 MG Oral Tablet"))
        if path.startswith("Medication/"):
            return 200, {}, json.dumps(_medication("m1", AMOXICILLIN, "amoxicillin 500 MG Oral Capsule"))
        return 200, {}, json.dumps(_searchset(*(orders if path == "MedicationRequest" else [])))

    settings = load_settings(env={}, today=TODAY.isoformat())
    launch = SimpleNamespace(iss=EPIC, access_token="tok", patient_id=PATIENT_ID)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, re.compile(re.escape(EPIC) + r"/.*"), callback=answer)
        page = fetch_page_input(launch, settings, TODAY)
        read = [urlsplit(c.request.url).path.rsplit("/", 2)[-2:] for c in rsps.calls]
    assert ["Medication", "e9"] in read and ["Medication", "m1"] not in read  # the EHR is never asked for m1
    assert any(ON_ANOTHER_SERVER in " ".join(map(str, vars(s).values())) for s in page.statuses)
    record = build_record(
        page.resources, TZ, patient_id=PATIENT_ID, fhir_server=page.fhir_server, extra_medications=page.medications
    )
    assert _codes(_order(record, "eRx1")) == [OXY]
    hie = _order(record, "hieRx7")
    assert hie.medication.concept is None and hie.medication.elsewhere
