"""A batch-response entry with no resource and a `response` with no `status` (FHIR requires one; a proxy or a broken
server sends it): its search's answer was lost, and the record dropped it without a word. It is now named, on the card
and in the record, as a stripped success is; an answer to a write (POST, PUT, PATCH, DELETE) is still not named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import TZ, med_request
from cds_support import data_incomplete_detail

from guideline.record import build_record

OXY = "1049621"
EPIC = "https://fhir.ehr.example/api/FHIR/R4"


def _batch(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "id": "b7e4c2a0-batch", "type": "batch-response", "entry": list(entries)}


def _answered_search(*resources: dict[str, Any]) -> dict[str, Any]:
    """A batch entry answering a search, as Epic returns one: the searchset, with a 200 status."""
    searchset = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [
            {"fullUrl": f"{EPIC}/MedicationRequest/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }
    return {"resource": searchset, "response": {"status": "200 OK"}}


# What a proxy that drops the status sends: the answer's etag and timestamp, no status, no resource.
STATUSLESS = {"response": {"etag": 'W/"0"', "lastModified": "2026-06-15T11:58:02Z"}}


@pytest.mark.parametrize(
    "answer",
    [
        STATUSLESS,
        {"response": {}},
        {"response": {"status": ""}},
        {"request": {"method": "GET", "url": "MedicationRequest?patient=e63wRTbPfr1p8UW81d8Seiw3"}, "response": {}},
    ],
    ids=["etag-only", "empty", "empty-status", "get-with-empty-response"],
)
def test_a_batch_answer_with_no_status_and_no_resource_is_named_in_the_record(answer: dict[str, Any]):
    batch = _batch(_answered_search(med_request(OXY, id="eRx-1", status="active")), answer)
    record = build_record([batch], TZ)
    assert [o.id for o in record.orders] == ["eRx-1"]
    [problem] = record.problems
    assert "no status" in problem.reason and "no data" in problem.reason


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_status_less_answer_to_a_write_is_no_missing_data(method: str):
    write = {"request": {"method": method, "url": "Flag/f1"}, "response": {}}
    record = build_record([_batch(_answered_search(med_request(OXY, id="eRx-1")), write)], TZ)
    assert [o.id for o in record.orders] == ["eRx-1"] and record.problems == ()


def test_a_batch_request_entry_with_no_response_is_still_no_missing_data():
    # A batch (not its answer) holds requests alone: there is nothing to have lost.
    request = {"request": {"method": "GET", "url": "MedicationRequest?patient=e63wRTbPfr1p8UW81d8Seiw3"}}
    record = build_record([_batch(_answered_search(med_request(OXY, id="eRx-1")), request)], TZ)
    assert record.problems == ()


def test_a_status_less_batch_answer_in_the_order_sign_prefetch_is_named_on_the_card(tmp_path: Path):
    batch = _batch(_answered_search(med_request(OXY, id="eRx-1", status="active")), STATUSLESS)
    detail = data_incomplete_detail(tmp_path, medsActive=batch)
    assert "no status" in detail and "no data" in detail
