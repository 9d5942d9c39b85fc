"""gather: a complete prefetch needs no reads, and Medication references are still found wherever they are."""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import ZoneInfo

import responses
from builders import PATIENT_ID, patient
from cds_support import FHIR, full_prefetch, hook_request, oxycodone_draft

from cds_hooks.gather import MEDICATIONS, gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import PREFETCH_LABELS, templates
from guideline.config import GuidelineConfig
from guideline.record import build_record

CONFIG = GuidelineConfig.from_mapping()
TODAY = date(2026, 6, 15)


def by_reference(order_id: str, medication: str) -> dict:
    order = {**oxycodone_draft(), "id": order_id, "status": "active"}
    order.pop("medicationCodeableConcept")
    order["medicationReference"] = {"reference": medication}
    return order


def run(body: dict, network: bool = False):
    request = parse_hook_request(body, body["hook"], allow_http=False)
    return gather(request, templates(body["hook"], CONFIG), today=TODAY, budget_seconds=5, network=network)


def with_active(*orders: dict, extra: tuple[dict, ...] = ()) -> dict:
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = {"resourceType": "Bundle", "entry": [{"resource": r} for r in (*orders, *extra)]}
    return prefetch


def test_a_complete_coded_prefetch_reads_nothing_and_has_no_gaps():
    coded = {**oxycodone_draft(), "id": "mr-1", "status": "active"}
    data = run(hook_request(drafts=[oxycodone_draft()], prefetch=with_active(coded)))
    assert data.gaps == {} and data.obtained and data.fetched_keys == ()
    assert [r["id"] for r in data.resources if r["resourceType"] == "MedicationRequest"] == ["mr-1"]


def test_a_prefetched_order_naming_an_unknown_medication_is_a_gap_offline():
    data = run(hook_request(prefetch=with_active(by_reference("mr-1", "Medication/m1"))))
    assert MEDICATIONS in data.gaps


def test_a_medication_in_the_same_prefetch_needs_no_read():
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "oxycodone 5 mg tablet"}}
    data = run(hook_request(prefetch=with_active(by_reference("mr-1", "Medication/m1"), extra=(medication,))))
    assert MEDICATIONS not in data.gaps


def test_a_draft_naming_a_medication_is_read_from_the_fhir_server():
    body = hook_request(drafts=[by_reference("d1", "Medication/m9")], prefetch=full_prefetch("order-sign"), fhir=True)
    medication = {"resourceType": "Medication", "id": "m9", "code": {"text": "oxycodone 5 mg tablet"}}
    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Medication/m9", json=medication)
        data = run(body, network=True)
    assert [m["id"] for m in data.medications] == ["m9"] and MEDICATIONS not in data.gaps
    assert data.fetched_keys == ("med:Medication/m9",)


def epic_empty_search(code: str = "4101", text: str = "Resource request returns no results.") -> dict:
    """How Epic answers a search that matches nothing: a warning, code 4101, under Epic's own code system."""
    issue = {
        "severity": "warning",
        "code": "processing",
        "details": {
            "coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369", "code": code, "display": text}],
            "text": text,
        },
        "location": ["/f:patient"],
    }
    outcome = {"resourceType": "OperationOutcome", "issue": [issue]}
    return {"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": [{"resource": outcome}]}


def test_epics_no_results_warning_is_an_empty_answer_not_missing_data():
    # Before, every such answer was "no results with a warning (the search may not have run)": at Epic, a patient
    # with no urine test or naloxone on record got a data-incomplete card on every call.
    body = hook_request(drafts=[oxycodone_draft()], prefetch={"patient": patient()}, fhir=True)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(re.escape(FHIR) + r"/\w+\?.*"), json=epic_empty_search())
        data = run(body, network=True)
    assert data.fetched_keys and data.gaps == {}


def test_any_other_warning_on_an_empty_search_is_still_missing_data():
    body = hook_request(drafts=[oxycodone_draft()], prefetch={"patient": patient()}, fhir=True)
    hidden = epic_empty_search("4119", "Additional data may be present for patient.")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(re.escape(FHIR) + r"/\w+\?.*"), json=hidden)
        data = run(body, network=True)
    assert data.gaps and all("warning" in why for why in data.gaps.values())


def test_a_prefetched_empty_search_with_a_warning_is_read_again_from_the_fhir_server():
    # The EHR fills prefetch from its own searches and may pass on their warnings. Before, an empty prefetched
    # search with Epic's 4119 "Additional data may be present" read as "no urine test on record", while the same
    # answer from the FHIR server counted as missing data.
    prefetch = full_prefetch("order-sign")
    prefetch["udsLabs"] = epic_empty_search("4119", "Additional data may be present for patient.")
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    test = {"resourceType": "Observation", "id": "uds-1", "status": "final", "code": {"text": "urine drug screen"}}
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, re.compile(re.escape(FHIR) + r"/Observation\?.*"), json=bundle_of(test))
        data = run(body, network=True)
    assert data.fetched_keys == ("udsLabs",) and data.gaps == {}
    assert "uds-1" in [r.get("id") for r in data.resources]


def test_a_prefetched_empty_search_with_a_warning_and_no_fhir_server_is_named_with_why():
    prefetch = full_prefetch("order-sign")
    prefetch["udsLabs"] = epic_empty_search("4119", "Additional data may be present for patient.")
    data = run(hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    ((label, why),) = data.gaps.items()
    assert "urine" in label.lower() and why.startswith("in the prefetch,") and "warning" in why


def test_a_prefetched_no_results_answer_is_an_empty_answer():
    prefetch = full_prefetch("order-sign")
    prefetch["udsLabs"] = epic_empty_search()
    data = run(hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    assert data.gaps == {} and data.fetched_keys == ()


def bundle_of(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def test_gathered_resources_are_plain_so_the_record_takes_them_without_a_second_walk():
    """run_hook builds the record with `pooled=True`: that is only the same record if gather pools plain resources
    (nested Bundles opened, an entry holding no resource named), as walking them again would find them."""
    medication = {"resourceType": "Medication", "id": "m1", "code": {"text": "oxycodone 5 mg tablet"}}
    nested = {"resourceType": "Bundle", "entry": [{"fullUrl": "urn:uuid:m1", "resource": medication}]}
    prefetch = with_active(by_reference("mr-1", "Medication/m1"), extra=(nested,))
    prefetch["conditions"] = {"resourceType": "Bundle", "entry": [{"resource": "not an object"}, "not an entry"]}
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    data = run(body)
    request = parse_hook_request(body, body["hook"], allow_http=False)
    built = [
        build_record(
            data.resources, ZoneInfo("America/Chicago"), request.draft_orders, data.medications, PATIENT_ID, pooled
        )
        for pooled in (True, False)
    ]
    assert built[0] == built[1] and built[0].problems and built[0].orders


def test_an_item_the_pool_names_in_a_clean_search_page_still_says_which_search_it_came_from():
    """A clean Epic searchset read in one pass (`plain_page`) with one resource whose resourceType is null, marked as
    the pool marks an item it names: the card must still say which prefetch search held it."""
    unreadable = {"resourceType": None, "id": "mr-9", "painplan:unreadable": "a resource with no type"}
    prefetch = with_active(by_reference("mr-1", "Medication/m1"))
    prefetch["medsActive"]["entry"].append({"fullUrl": f"{FHIR}/MedicationRequest/mr-9", "resource": unreadable})
    data = run(hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    where = f"in the prefetch: {PREFETCH_LABELS['medsActive']}"
    assert [r for r in data.resources if r.get("id") == "mr-9"] == [
        {**unreadable, "painplan:unreadable": f"a resource with no type ({where})"}
    ]


def test_the_keys_not_read_in_full_are_named_by_key_with_the_gaps_why():
    """`Gathered.unread` names by prefetch key what `gaps` names by label, with the same why: the CDS service maps
    keys (not the label text) to the kinds of data the absence cards say could not be read."""
    prefetch = full_prefetch("order-sign")
    prefetch["udsLabs"] = epic_empty_search("4119", "Additional data may be present for patient.")
    del prefetch["conditions"]
    prefetch["medsActive"] = {"resourceType": "Bundle", "entry": [{"resource": by_reference("mr-1", "Medication/m1")}]}
    data = run(hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    assert set(data.unread) == {"udsLabs", "conditions"}
    assert {key: data.gaps[PREFETCH_LABELS[key]] for key in data.unread} == data.unread
    assert MEDICATIONS in data.gaps  # named on the card, and no prefetch key's
