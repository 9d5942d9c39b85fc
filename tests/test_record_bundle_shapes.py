"""A batch answer stripped of its resource, and a Bundle whose `entry` or `link` is one object rather than a list:
both lost data without a word. Each is now read, or named, and the rest still evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import responses
from builders import TZ, med_request
from cds_support import data_incomplete_detail, oxycodone_draft

from cds_hooks.fhir_client import FhirClient, page_facts
from guideline.plan.what_if import compact_drafts
from guideline.record import build_record

OXY, LORAZEPAM = "1049621", "197901"
BASE = "https://ehr.test/fhir"


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


# ---- 4. `entry` and `link` sent as one object ----------------------------------------------------------------------

WITHHELD_OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "warning",
            "code": "suppressed",
            "details": {
                "coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369", "code": "4119"}],
                "text": "Additional data may be present for patient.",
            },
        }
    ],
}


def test_a_withheld_warning_in_a_single_object_entry_reads_as_in_a_list():
    single = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": {"resource": WITHHELD_OUTCOME, "search": {"mode": "outcome"}},
    }
    listed = {**single, "entry": [single["entry"]]}
    assert page_facts(single) == page_facts(listed) and page_facts(single).withheld


def test_a_warning_alone_in_a_single_object_entry_is_named_on_the_card_as_in_a_list(tmp_path: Path):
    # An OperationOutcome as the one entry: the search may not have run, which a list of one says on the card.
    entry = {"resource": WITHHELD_OUTCOME, "search": {"mode": "outcome"}}
    single = {"resourceType": "Bundle", "type": "searchset", "entry": entry}
    detail = data_incomplete_detail(tmp_path / "single", medsActive=single)
    assert "no results with a warning" in detail
    assert detail == data_incomplete_detail(tmp_path / "listed", medsActive={**single, "entry": [entry]})


def test_a_next_link_sent_as_one_object_is_named_when_not_read(tmp_path: Path):
    page_one = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": {"relation": "next", "url": f"{BASE}/MedicationRequest?_getpages=abc&page=2"},
        "entry": [{"resource": med_request(OXY, id="rx-1", status="active")}],
    }
    detail = data_incomplete_detail(tmp_path, medsActive=page_one)
    assert "only its first page" in detail


@responses.activate
def test_the_fhir_client_follows_a_next_link_sent_as_one_object():
    page_two = f"{BASE}/MedicationRequest?_getpages=abc&page=2"
    responses.get(
        f"{BASE}/MedicationRequest",
        match=[responses.matchers.query_param_matcher({"patient": "p1"})],
        json={**_searchset(med_request(OXY, id="rx-1")), "link": {"relation": "next", "url": page_two}},
    )
    responses.get(page_two, json=_searchset(med_request(LORAZEPAM, id="rx-2")))
    result = FhirClient(BASE, "tok").fetch_all({"meds": "MedicationRequest?patient=p1"}, 10)["meds"]
    assert [r["id"] for r in result.resources] == ["rx-1", "rx-2"] and result.ok


def test_drafts_in_a_single_object_entry_travel_in_the_card_link():
    draft = oxycodone_draft()
    assert [
        d["id"] for d in compact_drafts({"resourceType": "Bundle", "entry": {"resource": draft}}, [draft["id"]])
    ] == [draft["id"]]
