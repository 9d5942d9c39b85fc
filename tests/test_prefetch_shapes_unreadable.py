"""A prefetch value PainPlan cannot read as the answer to its search — no JSON object (a string, a number, a
boolean, a list), a Bundle with no type and no entries, an empty Bundle that is no search answer, an
OperationOutcome, one resource of another type — is named on the data-incomplete card and caveats the cards that
state an absence of its kind; with a FHIR server the search is asked there, and its answer is used. A searchset
with no entries is Epic's and Oracle Health's "nothing found": read as such, silently."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import responses
from builders import PATIENT_ID, days_ago, med_request, observation, patient
from cds_support import FHIR, full_prefetch, hook_request, make_app, oxycodone_draft, topics

from smart_app.cli import main

UDS_LABEL = "laboratory results (urine drug tests)"
ORDERS_LABEL = "active medication orders"
COCAINE_SCREEN = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method
OXYCODONE_10 = med_request("1049683", id="oxy10", authored=days_ago(20), display="oxycodone 10 MG Oral Tablet")


def searchset(*resources: dict[str, Any], total: int | None = None) -> dict[str, Any]:
    """An Epic-shaped searchset: each match with its fullUrl."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"{FHIR}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
            for r in resources
        ],
    }
    if total is not None:
        bundle["total"] = total
    return bundle


def negative_screen() -> dict[str, Any]:
    """A urine drug screen 30 days ago, negative for cocaine (expected): a test within the 12 months."""
    return observation(COCAINE_SCREEN, when=days_ago(30), value_string="Negative")


def sign(tmp_path, fhir: bool = False, **values: Any) -> dict[str, Any]:
    """The order-sign answer for oxycodone 5 mg 2 q4h (90 MME/day) with these prefetch values, the rest empty."""
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **values), fhir=fhir)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def card(answer: dict[str, Any], topic: str) -> dict[str, Any] | None:
    return next((c for c in answer["cards"] if c["source"]["topic"]["code"] == topic), None)


def incomplete_line(answer: dict[str, Any], label: str) -> str:
    """The data-incomplete card's line for `label` ("" when there is none)."""
    found = card(answer, "data-incomplete")
    lines = found["detail"].splitlines() if found else []
    return next((line for line in lines if line.startswith(f"- {label}:")), "")


def searches_to(path: str) -> list[str]:
    """The URLs the service asked of the FHIR server for `path` (a resource type)."""
    return [call.request.url for call in responses.calls if call.request.url.startswith(f"{FHIR}/{path}?")]


# 1. A value that is no JSON object.

NOT_OBJECTS = [
    pytest.param("Bundle/123", "a string", id="string"),
    pytest.param(["Observation/1"], "a list", id="list"),
    pytest.param(3, "a number", id="number"),
    pytest.param(True, "true", id="true"),
    pytest.param({"entry": []}, "an object with no resourceType", id="object"),
]


@pytest.mark.parametrize(("value", "sent"), NOT_OBJECTS)
def test_a_value_that_is_no_resource_is_named_with_what_was_sent_and_caveats_the_absence_cards(tmp_path, value, sent):
    answer = sign(tmp_path, udsLabs=value, medsActive=searchset(OXYCODONE_10))
    line = incomplete_line(answer, UDS_LABEL)
    assert f"the EHR sent {sent}, not a FHIR resource" in line
    assert "the request names no FHIR server to read it again from" in line
    uds = card(answer, "urine-drug-test")
    assert uds is not None and uds["summary"].endswith("(records incomplete)")
    assert "150.0 MME/day" in card(answer, "high-mme")["summary"]  # the other keys are still read: 90 + 60


def assert_lab_search_asked_again_and_used(tmp_path, value) -> None:
    """The udsLabs value is no answer: with a fhirServer the lab search is asked once, and the negative screen it
    answers is read (the screen the server holds), so neither the UDS card nor the data-incomplete card is issued."""
    responses.get(f"{FHIR}/Observation", json=searchset(negative_screen(), total=1))
    answer = sign(tmp_path, fhir=True, udsLabs=value)
    assert len(searches_to("Observation")) == 1
    assert "urine-drug-test" not in topics(answer) and "data-incomplete" not in topics(answer)


@responses.activate
@pytest.mark.parametrize(("value", "sent"), NOT_OBJECTS)
def test_a_value_that_is_no_resource_is_searched_on_the_fhir_server_and_its_answer_used(tmp_path, value, sent):
    assert_lab_search_asked_again_and_used(tmp_path, value)
    assert f"patient={PATIENT_ID}" in searches_to("Observation")[0]


@responses.activate
def test_a_value_that_is_no_resource_whose_search_fails_too_is_named_for_both(tmp_path):
    failed = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
    responses.get(f"{FHIR}/Observation", json=failed, status=500)
    answer = sign(tmp_path, fhir=True, udsLabs="Bundle/123")
    line = incomplete_line(answer, UDS_LABEL)
    assert "the EHR sent a string, not a FHIR resource" in line and "HTTP 500" in line
    assert card(answer, "urine-drug-test")["summary"].endswith("(records incomplete)")


def test_a_list_of_resources_where_a_search_was_asked_for_is_read_and_named(tmp_path):
    answer = sign(tmp_path, medsActive=[OXYCODONE_10])
    assert "150.0 MME/day" in card(answer, "high-mme")["summary"]  # the order it holds counts
    assert "the EHR sent a list, not a FHIR resource" in incomplete_line(answer, ORDERS_LABEL)


# 2. Bundles with no entries: only a searchset is an answer that nothing was found.

EMPTY_NOT_A_SEARCH = [
    pytest.param({"resourceType": "Bundle"}, "a Bundle with no type", id="no-type"),
    pytest.param({"resourceType": "Bundle", "entry": []}, "a Bundle with no type", id="no-type-empty-entry"),
    pytest.param({"resourceType": "Bundle", "type": "collection"}, "an empty collection Bundle", id="collection"),
    pytest.param(
        {"resourceType": "Bundle", "type": "batch-response", "entry": []},
        "an empty batch-response Bundle",
        id="batch-response",
    ),
    pytest.param(
        {"resourceType": "Bundle", "type": "transaction-response"},
        "an empty transaction-response Bundle",
        id="transaction-response",
    ),
]


@pytest.mark.parametrize(("value", "sent"), EMPTY_NOT_A_SEARCH)
def test_an_empty_bundle_that_is_no_search_answer_is_named_and_caveats_the_absence_cards(tmp_path, value, sent):
    answer = sign(tmp_path, udsLabs=value)
    line = incomplete_line(answer, UDS_LABEL)
    assert f"the EHR sent {sent}" in line and "not a search result" in line
    assert card(answer, "urine-drug-test")["summary"].endswith("(records incomplete)")


@responses.activate
@pytest.mark.parametrize(("value", "sent"), EMPTY_NOT_A_SEARCH)
def test_an_empty_bundle_that_is_no_search_answer_is_searched_on_the_fhir_server(tmp_path, value, sent):
    assert_lab_search_asked_again_and_used(tmp_path, value)


@responses.activate
@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"resourceType": "Bundle", "type": "searchset"}, id="no-entry"),
        pytest.param({"resourceType": "Bundle", "type": "searchset", "total": 0}, id="total-0"),
        pytest.param({"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []}, id="empty-entry"),
    ],
)
def test_an_empty_searchset_is_nothing_found_and_silent(tmp_path, value):
    answer = sign(tmp_path, fhir=True, udsLabs=value)
    assert searches_to("Observation") == []  # believed: not asked again
    assert "data-incomplete" not in topics(answer)
    uds = card(answer, "urine-drug-test")
    assert uds is not None and not uds["summary"].endswith("(records incomplete)")


# 3. An OperationOutcome, and one resource of another type, where a search was asked for.


def failed_search(diagnostics: str) -> dict[str, Any]:
    """What some EHRs put under the key when the search behind it failed."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout", "diagnostics": diagnostics}],
    }


def test_an_operation_outcome_is_named_with_its_diagnostics(tmp_path):
    answer = sign(tmp_path, udsLabs=failed_search("Search timed out after 30000 ms"))
    line = incomplete_line(answer, UDS_LABEL)
    assert 'the EHR sent an OperationOutcome (error, timeout: "Search timed out after 30000 ms")' in line
    assert "not a search result" in line
    assert card(answer, "urine-drug-test")["summary"].endswith("(records incomplete)")


def test_an_operation_outcome_s_long_diagnostics_are_cut_short(tmp_path):
    stack = "java.lang.IllegalStateException: index unavailable " + "at com.ehr.search.Index.query(Index.java:88) " * 40
    line = incomplete_line(sign(tmp_path, udsLabs=failed_search(stack)), UDS_LABEL)
    assert "java.lang.IllegalStateException: index unavailable" in line
    assert "Index.java:88) " * 5 not in line and "…" in line


def test_an_operation_outcome_with_a_warning_alone_is_named_too(tmp_path):
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "incomplete", "details": {"text": "Search not run: index rebuild"}}],
    }
    line = incomplete_line(sign(tmp_path, udsLabs=outcome), UDS_LABEL)
    assert 'OperationOutcome (warning, incomplete: "Search not run: index rebuild")' in line


@responses.activate
def test_an_operation_outcome_is_searched_on_the_fhir_server_and_its_answer_used(tmp_path):
    assert_lab_search_asked_again_and_used(tmp_path, failed_search("Search timed out"))


def test_a_resource_of_another_type_is_named_as_not_what_was_asked_for(tmp_path):
    answer = sign(tmp_path, medsActive=negative_screen())  # an Observation where MedicationRequests were asked for
    line = incomplete_line(answer, ORDERS_LABEL)
    assert "a single Observation was sent where a search of MedicationRequest was asked for" in line
    assert "the request names no FHIR server to read it again from" in line


@responses.activate
def test_a_resource_of_another_type_is_searched_on_the_fhir_server_and_its_answer_used(tmp_path):
    responses.get(f"{FHIR}/MedicationRequest", json=searchset(OXYCODONE_10, total=1))
    answer = sign(tmp_path, fhir=True, medsActive=negative_screen())
    assert len(searches_to("MedicationRequest")) == 1 and "status=active" in searches_to("MedicationRequest")[0]
    assert "150.0 MME/day" in card(answer, "high-mme")["summary"]
    assert "data-incomplete" not in topics(answer)


# 4. The patient is a read: it always has its one Patient, so an empty Bundle (even a searchset) or another resource
# is no answer either (read as one, the Patient was silently missing: no card said so).

PATIENT_LABEL = "the patient's demographics"
NOT_THE_PATIENT = [
    pytest.param({"resourceType": "Bundle", "type": "searchset"}, "an empty searchset Bundle", id="empty-searchset"),
    pytest.param(
        {"resourceType": "Bundle", "type": "collection", "entry": []}, "an empty collection Bundle", id="coll"
    ),
]


@pytest.mark.parametrize(("value", "sent"), NOT_THE_PATIENT)
def test_an_empty_bundle_for_the_patient_read_is_named(tmp_path, value, sent):
    line = incomplete_line(sign(tmp_path, patient=value), PATIENT_LABEL)
    assert f"the EHR sent {sent} and no entries where the Patient itself was asked for, so it is missing" in line


def test_another_resource_for_the_patient_read_is_named(tmp_path):
    line = incomplete_line(sign(tmp_path, patient=negative_screen()), PATIENT_LABEL)
    assert "a single Observation was sent where the Patient itself was asked for, so it is missing" in line


@responses.activate
def test_an_empty_searchset_for_the_patient_read_is_read_on_the_fhir_server(tmp_path):
    responses.get(f"{FHIR}/Patient/{PATIENT_ID}", json=patient())
    answer = sign(tmp_path, fhir=True, patient={"resourceType": "Bundle", "type": "searchset"})
    assert any(c.request.url == f"{FHIR}/Patient/{PATIENT_ID}" for c in responses.calls)
    assert "data-incomplete" not in topics(answer)


def test_an_operation_outcome_s_text_is_on_the_card_and_never_in_the_log(tmp_path, caplog):
    # Its text is the EHR's and may name the patient: the card is this patient's; the call's log names labels only.
    with caplog.at_level(logging.INFO, logger="painplan"):
        answer = sign(tmp_path, udsLabs=failed_search("No index for patient Rivera, Alex (MRN 000123)"))
    assert "Rivera, Alex" in incomplete_line(answer, UDS_LABEL)
    assert UDS_LABEL in caplog.text and "Rivera" not in caplog.text


def test_the_offline_check_names_such_values_and_exits_3(tmp_path, capsys):
    prefetch = full_prefetch("order-sign", medsActive="Bundle/123", udsLabs={"resourceType": "Bundle"})
    path = tmp_path / "request.json"
    path.write_text(json.dumps(hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)))
    assert main(["check", str(path), "--today", "2026-06-15"]) == 3
    answer = json.loads(capsys.readouterr().out)
    assert "the EHR sent a string, not a FHIR resource" in incomplete_line(answer, ORDERS_LABEL)
    assert "the EHR sent a Bundle with no type and no entries" in incomplete_line(answer, UDS_LABEL)
    assert card(answer, "urine-drug-test")["summary"].endswith("(records incomplete)")
