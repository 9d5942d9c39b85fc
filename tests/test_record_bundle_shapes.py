"""A batch answer stripped of its resource, and a Bundle whose `entry` or `link` is one object rather than a list:
both lost data without a word. Each is now read, or named, and the rest still evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import TZ, med_request
from cds_support import data_incomplete_detail

from guideline.record import build_record

OXY, LORAZEPAM = "1049621", "197901"


# ---- 2. a batch answer whose resource was stripped -----------------------------------------------------------------


def _batch(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "batch-response", "entry": list(entries)}


def _searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def test_a_batch_answer_with_a_success_status_and_no_resource_is_named_in_the_record():
    order = med_request(OXY, id="rx-1")
    batch = _batch(
        {"resource": _searchset(order), "response": {"status": "200 OK"}},
        {"response": {"status": "200 OK"}},  # returned minimal: the search's Bundle stripped
    )
    record = build_record([batch], TZ)
    assert [o.id for o in record.orders] == ["rx-1"]
    [problem] = record.problems
    assert "HTTP 200" in problem.reason and "no data" in problem.reason


def test_a_batch_answer_to_a_write_with_no_resource_is_no_missing_data():
    created = {"response": {"status": "201 Created", "location": "MedicationRequest/rx-2/_history/1"}}
    deleted = {"request": {"method": "DELETE", "url": "Flag/f1"}, "response": {"status": "200 OK"}}
    record = build_record([_batch({"resource": med_request(OXY, id="rx-1")}, created, deleted)], TZ)
    assert [o.id for o in record.orders] == ["rx-1"] and record.problems == ()


def test_a_stripped_batch_answer_in_the_prefetch_is_named_on_the_card(tmp_path: Path):
    batch = _batch(
        {"resource": _searchset(med_request(OXY, id="rx-1", status="active")), "response": {"status": "200 OK"}},
        {"response": {"status": "200 OK", "etag": 'W/"1"'}},
    )
    detail = data_incomplete_detail(tmp_path, medsActive=batch)
    assert "no data" in detail and "HTTP 200" in detail
