"""A server's answer whose OperationOutcome says not everything was sent is one rule (`guideline.outcome_issues`),
asked at the point of care and by the population export alike: a searchset truncated for cost ("too-costly", HAPI's
"too many results"), throttled or timed out is named as incomplete as a withheld ("suppressed") one is."""

from __future__ import annotations

import pytest
import responses
from builders import PATIENT_ID, days_ago, med_request
from cds_support import FHIR, full_prefetch, hook_request, make_app, oxycodone_draft

from guideline.outcome_issues import says_not_all_sent
from smart_app.population.export import grade_outcomes

EPIC_OID = "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369"
IBUPROFEN = med_request("197806", id="ibu", authored=days_ago(30), display="ibuprofen 600 MG Oral Tablet")


def outcome_entry(code: str, text: str) -> dict:
    """A server's note inside a searchset (search.mode outcome), as HAPI adds one when it cuts a search short."""
    issue = {"severity": "warning", "code": code, "diagnostics": text}
    return {"resource": {"resourceType": "OperationOutcome", "issue": [issue]}, "search": {"mode": "outcome"}}


def searchset_with(outcome: dict) -> dict:
    """A one-page searchset holding one real match and the server's outcome, with no total and no next link."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": f"{FHIR}/MedicationRequest?patient={PATIENT_ID}"}],
        "entry": [
            {"fullUrl": f"{FHIR}/MedicationRequest/ibu", "resource": IBUPROFEN, "search": {"mode": "match"}},
            outcome,
        ],
    }


def incomplete_detail(answer: dict) -> str:
    cards = [c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    return cards[0]["detail"] if cards else ""


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("too-costly", "Search returned too many results; only the first 100 are included."),
        ("throttled", "Too many requests from this client; the search was cut short."),
        ("timeout", "The search did not complete within the allowed time."),
    ],
)
@responses.activate
def test_a_fallback_search_the_server_cut_short_is_named_at_the_point_of_care(tmp_path, code: str, text: str):
    prefetch = full_prefetch("order-sign")
    del prefetch["medsActive"]  # not prefetched: PainPlan searches the EHR itself
    responses.get(f"{FHIR}/MedicationRequest", json=searchset_with(outcome_entry(code, text)))
    body = hook_request("order-sign", drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert any("MedicationRequest" in call.request.url for call in responses.calls)
    detail = incomplete_detail(response.json)
    assert "active medication" in detail.lower() or "medicationrequest" in detail.lower(), detail
    assert "withheld or cut short" in detail, detail


@responses.activate
def test_a_fallback_search_with_only_an_informational_note_is_not_named(tmp_path):
    # HAPI's note on how a search was read is no gap: the same searchset with it is read as complete.
    prefetch = full_prefetch("order-sign")
    del prefetch["medsActive"]
    note = outcome_entry("informational", "Search parameter _count was capped at 100.")
    responses.get(f"{FHIR}/MedicationRequest", json=searchset_with(note))
    body = hook_request("order-sign", drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    answer = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json
    assert "MedicationRequest" not in incomplete_detail(answer)


@pytest.mark.parametrize(
    "issue",
    [
        {"severity": "warning", "code": "too-costly"},
        {"severity": "warning", "code": " Throttled "},
        {"severity": "information", "code": "timeout"},
        {"severity": "warning", "code": "suppressed"},
        {"severity": "warning", "code": "incomplete"},
        {
            "severity": "warning",
            "code": "informational",
            "details": {"coding": [{"system": EPIC_OID, "code": "4119"}]},
        },
        {"severity": "warning", "code": "informational", "details": {"text": "Additional data may be present."}},
    ],
)
def test_each_way_a_server_says_not_all_was_sent_is_one_rule(issue: dict):
    assert says_not_all_sent(issue)
    graded = grade_outcomes([("line 2", {"resourceType": "OperationOutcome", "issue": [issue]})])
    assert any("not everything was sent" in words for words in graded.not_read), graded


@pytest.mark.parametrize(
    "issue",
    [
        {"severity": "warning", "code": "informational", "diagnostics": "Search parameter _count was capped."},
        {"severity": "warning", "code": "informational", "details": {"coding": [{"system": EPIC_OID, "code": "4117"}]}},
        {
            "severity": "warning",
            "code": "informational",
            "details": {"coding": [{"system": "urn:other", "code": "4119"}]},
        },
        {"severity": "warning", "code": None},
        "not an issue",
    ],
)
def test_other_notes_do_not_say_data_is_missing(issue):
    assert not says_not_all_sent(issue)
