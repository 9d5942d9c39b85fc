"""A batch-response or transaction-response entry's status is judged by one rule (`pool.answer_problem`) wherever a
Bundle is read, and named once. A failed answer with no resource (only `response.status`, perhaps an OperationOutcome
in `response.outcome`, as Epic and HAPI answer a search they refused) was named by the hook's search scan alone:
`painplan mme`, the record and every fetched page read it as nothing, so a chart whose opioid search failed read as
"no opioid". The hook named it under its prefetch key while the record's rule for the same entries, written apart,
named the others."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from builders import TZ, days_ago, med_request
from cds_support import data_incomplete_detail, hook_request, oxycodone_draft

from cds_hooks.fhir_client import FhirClient
from cds_hooks.gather import gather
from cds_hooks.request import parse_hook_request
from guideline.record import build_record
from smart_app.cli import main

OXY = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"

FORBIDDEN = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "forbidden",
            "details": {
                "coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369", "code": "59159"}],
                "text": "The user is not authorized to access this resource.",
            },
        }
    ],
}


def _answered_search(*orders: dict[str, Any]) -> dict[str, Any]:
    """A batch entry answering a search as Epic does: the searchset, its fullUrls, a 200 status."""
    searchset = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(orders),
        "entry": [
            {"fullUrl": f"{EPIC}/MedicationRequest/{o['id']}", "resource": o, "search": {"mode": "match"}}
            for o in orders
        ],
    }
    return {"resource": searchset, "response": {"status": "200 OK"}}


def _batch(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "id": "8c1d9f7e-batch", "type": "batch-response", "entry": list(entries)}


FAILED = {"response": {"status": "403 Forbidden", "outcome": FORBIDDEN}}
ACTIVE = med_request(OXY, id="eRx-1", status="active", authored=f"{days_ago(10)}T09:00:00-05:00", dose=2, period=4)


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (FAILED, "HTTP 403 Forbidden"),
        ({"response": {"status": "404 Not Found"}}, "HTTP 404 Not Found"),
        ({"response": {"status": "500"}}, "HTTP 500"),
        ({"response": {"status": "OK"}}, '"OK"'),  # no HTTP status: whether it succeeded is not known
        ({"response": {"status": "200 OK", "outcome": FORBIDDEN}}, "reported an error"),
    ],
    ids=["403-with-outcome", "404", "500-bare", "non-numeric", "success-with-error-outcome"],
)
def test_a_failed_batch_answer_with_no_resource_is_named_in_the_record(answer: dict[str, Any], words: str):
    record = build_record([_batch(_answered_search(ACTIVE), answer)], TZ)
    assert [o.id for o in record.orders] == ["eRx-1"]  # everything else is still read
    [problem] = record.problems
    assert words in problem.reason and "batch" in problem.reason


def test_a_failed_write_answer_in_a_batch_is_still_no_missing_data():
    # The answer to a write holds no patient data: a failed one lost none either.
    write = {"request": {"method": "POST", "url": "Flag"}, "response": {"status": "422 Unprocessable Entity"}}
    assert build_record([_batch(_answered_search(ACTIVE), write)], TZ).problems == ()


def test_a_failed_answer_in_the_prefetch_is_named_once_on_the_card(tmp_path: Path):
    detail = data_incomplete_detail(tmp_path, medsActive=_batch(_answered_search(ACTIVE), FAILED))
    assert detail.count("403") == 1, detail


def test_a_failed_answer_in_the_prefetch_names_the_search_it_was_sent_for(tmp_path: Path):
    # Before: "resource (patient data item 3): skipped: an answer in a batch the EHR sent failed (HTTP 403 ...)":
    # which prefetch search failed was lost, and the integrator could not tell which query or scope to fix.
    detail = data_incomplete_detail(tmp_path, medsActive=_batch(_answered_search(ACTIVE), FAILED))
    [line] = [line for line in detail.splitlines() if "403" in line]
    assert "HTTP 403 Forbidden" in line and "(in the prefetch: active medication orders)" in line, line


def test_a_failed_answer_under_a_sites_own_prefetch_key_names_that_key(tmp_path: Path):
    detail = data_incomplete_detail(tmp_path, siteOpioidOrders=_batch(_answered_search(ACTIVE), FAILED))
    [line] = [line for line in detail.splitlines() if "403" in line]
    assert 'under the prefetch key "siteOpioidOrders"' in line, line


@responses.activate
def test_a_failed_answer_in_a_search_the_hook_made_names_that_search(tmp_path: Path):
    responses.get(f"{EPIC}/MedicationRequest", json=_batch(_answered_search(ACTIVE), FAILED))
    body = hook_request(drafts=[oxycodone_draft()], prefetch={})
    body["fhirServer"] = EPIC
    body["fhirAuthorization"] = {"access_token": "tok", "token_type": "Bearer", "scope": "x", "subject": "app"}
    request = parse_hook_request(body, "order-sign")
    templates = {"medsActive": "MedicationRequest?patient={{context.patientId}}&status=active"}
    gathered = gather(request, templates, today=date(2026, 6, 15), budget_seconds=5.0, session=requests.Session())
    record = build_record(list(gathered.resources), TZ, fhir_server=EPIC)
    [problem] = record.problems
    assert "HTTP 403" in problem.reason
    assert "(in the answer to the search for active medication orders)" in problem.reason


@responses.activate
def test_a_failed_answer_on_a_fetched_page_reaches_the_record():
    responses.get(f"{EPIC}/MedicationRequest", json=_batch(_answered_search(ACTIVE), FAILED))
    result = FhirClient(EPIC, "tok", session=requests.Session()).fetch_all({"o": "MedicationRequest"}, 5.0)["o"]
    record = build_record(list(result.resources), TZ, fhir_server=EPIC)
    assert [o.id for o in record.orders] == ["eRx-1"]
    [problem] = record.problems
    assert "HTTP 403" in problem.reason


# ---- painplan mme --------------------------------------------------------------------------------------------------


def _mme(tmp_path: Path, data: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code = main(["mme", str(path), "--today", "2026-06-15"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_painplan_mme_names_a_failed_batch_answer_and_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code, report, err = _mme(tmp_path, _batch(_answered_search(ACTIVE), FAILED), capsys)
    assert code == 3
    assert [o["id"] for o in report["orders"]] == ["eRx-1"] and report["current_total_mme"] == 90.0
    [unread] = report["unread"]
    assert "HTTP 403 Forbidden" in unread["why"] and unread["item"].startswith("resource (")
    assert report["complete"] is False and report["current_complete"] is False
    assert "1 item in the input was not read" in err


def test_painplan_mme_with_everything_read_exits_0_with_no_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code, report, err = _mme(tmp_path, _batch(_answered_search(ACTIVE)), capsys)
    assert code == 0 and "unread" not in report and report["current_complete"] is True and err == ""


@responses.activate
def test_the_plan_page_names_a_failed_batch_answer_with_its_reason_and_its_search():
    # The page replaced every entry of no readable type with "an entry with no readable resourceType": the reason
    # the answer was not read (its HTTP 403) was lost.
    from smart_app.plan_view import answered_as_asked

    responses.get(f"{EPIC}/MedicationRequest", json=_batch(_answered_search(ACTIVE), FAILED))
    query = "MedicationRequest?patient=p1&authoredon=ge2024-06-15&_count=100"
    result = FhirClient(EPIC, "tok", session=requests.Session()).fetch_all({"orders": query}, 5.0)["orders"]
    page = answered_as_asked(result.resources, query, "Medication orders (2 years)")
    [problem] = build_record(page, TZ, fhir_server=EPIC).problems
    assert "HTTP 403 Forbidden" in problem.reason and "Medication orders (2 years)" in problem.reason


def test_a_failed_answer_whose_resource_is_an_error_outcome_is_named_by_that_outcome_once():
    record = build_record(
        [_batch(_answered_search(ACTIVE), {"resource": FORBIDDEN, "response": {"status": "403"}})], TZ
    )
    [problem] = record.problems
    assert problem.resource_type == "OperationOutcome"


def test_a_failed_answer_whose_resource_is_only_a_note_is_still_named():
    note = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}
    record = build_record([_batch(_answered_search(ACTIVE), {"resource": note, "response": {"status": "403"}})], TZ)
    assert any("HTTP 403" in problem.reason for problem in record.problems)
