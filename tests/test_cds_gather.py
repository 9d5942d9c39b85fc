"""gather: a complete prefetch needs no reads, and Medication references are still found wherever they are."""

from __future__ import annotations

from datetime import date

import responses
from cds_support import FHIR, full_prefetch, hook_request, oxycodone_draft

from cds_hooks.gather import MEDICATIONS, gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig

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
