"""A clean searchset (every entry a resource, no warning, no nested search) is read in one pass: what that pass finds
must be exactly what the full reading finds, and any other page must be left to the full reading."""

from __future__ import annotations

from typing import Any

import pytest

from cds_hooks.fhir_client import PlainPage, match_count, plain_page, resources_of, search_problem

FHIR = "https://fhir.example.org/api/FHIR/R4"
EPIC_OID = "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369"


def order(order_id: str) -> dict:
    return {
        "resourceType": "MedicationRequest",
        "id": order_id,
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "Medication/oxy10", "display": "oxycodone 10 MG Oral Tablet"},
        "subject": {"reference": "Patient/eAB3mDIBBcyUKviyzrxsnAw3"},
    }


def entry(resource: dict, mode: str | None = "match") -> dict:
    found: dict[str, Any] = {"fullUrl": f"{FHIR}/{resource['resourceType']}/{resource.get('id')}", "resource": resource}
    if mode is not None:
        found["search"] = {"mode": mode}
    return found


def searchset(*entries: Any, total: int | None = None) -> dict:
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": list(entries)}
    if total is not None:
        bundle["total"] = total
    return bundle


MEDICATION = {"resourceType": "Medication", "id": "oxy10", "code": {"text": "oxycodone 10 MG Oral Tablet"}}
WITHHELD = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "warning",
            "code": "informational",
            "details": {"coding": [{"system": EPIC_OID, "code": "4119"}], "text": "Additional data may be present"},
        }
    ],
}

PLAIN = {
    "Epic, with its included Medication": searchset(entry(order("o1")), entry(MEDICATION, "include"), total=1),
    "HAPI, entries without a search mode": searchset(entry(order("o1"), None), entry(order("o2"), None), total=2),
    "a total above its matches": searchset(entry(order("o1")), entry(MEDICATION, "include"), total=2),
    "an outcome-mode entry that is no OperationOutcome": searchset(entry(order("o1"), "outcome"), total=1),
    "a search that is no object": searchset({**entry(order("o1")), "search": "match"}, total=1),
    "an empty search, no entry at all": {"resourceType": "Bundle", "type": "searchset", "total": 0},
}


@pytest.mark.parametrize("bundle", PLAIN.values(), ids=PLAIN.keys())
def test_a_plain_page_reads_as_the_full_reading_reads_it(bundle):
    page = plain_page(bundle)
    assert page is not None
    assert resources_of(bundle) == (page.resources, None)
    assert page.matched == match_count(bundle)
    assert page.problem(bundle) == search_problem(bundle)


def test_a_plain_page_whose_total_is_above_its_matches_is_named():
    bundle = PLAIN["a total above its matches"]
    assert plain_page(bundle).problem(bundle) == "the FHIR server reported 2 results but returned 1"


NOT_PLAIN = {
    "Epic's withheld warning beside the results": searchset(entry(order("o1")), entry(WITHHELD, "outcome")),
    "a search nested in it": searchset(entry(searchset(entry(order("o1")), total=3))),
    "a batch-response entry": {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [{"resource": searchset(entry(order("o1"))), "response": {"status": "200 OK"}}],
    },
    "a failed batch entry with no resource": {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [{"response": {"status": "403 Forbidden"}}],
    },
    "a match stripped of its resource": searchset({"fullUrl": f"{FHIR}/MedicationRequest/o1", "search": {}}),
    "an empty resource": searchset({"resource": {}}),
    "an entry that is not an object": searchset(["MedicationRequest/o1"]),
    "entries that are not a list": {"resourceType": "Bundle", "type": "searchset", "entry": entry(order("o1"))},
    "a single resource, no Bundle": order("o1"),
    # What the pool marks as an item it names (`named_where` says which search it came from): left to that reading.
    "a resource whose resourceType is null": searchset(
        {"fullUrl": f"{FHIR}/MedicationRequest/o1", "resource": {**order("o1"), "resourceType": None}}
    ),
}


@pytest.mark.parametrize("payload", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_any_other_page_is_left_to_the_full_reading(payload):
    assert plain_page(payload) is None


def test_an_empty_search_page_is_its_own():
    """Most searches of a chart find nothing: were their pages one shared page, a caller that added to its resources
    would put one patient's resources into every later empty search."""
    page = plain_page({"resourceType": "Bundle", "type": "searchset", "total": 0}, FHIR)
    assert page is not None and page.matched == 0 and page.resources == []
    page.resources.append(order("eAB3mDIBBcyUKviyzrxsnAw3-order"))
    assert plain_page(searchset(), FHIR) == plain_page({"resourceType": "Bundle", "type": "searchset"}) == PlainPage(0)
