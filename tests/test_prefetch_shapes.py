"""A prefetch can still be incomplete in shapes an EHR or its gateway sends: a search continued from its `next` link
whose Bundle.total is above every match read, an Epic withheld warning inside a nested Bundle, a search answered by a
single resource or under a key PainPlan did not ask for, and resource types PainPlan does not read. Each is named."""

from __future__ import annotations

from typing import Any

import responses
from builders import PATIENT_ID, days_ago, med_request
from cds_support import FHIR, full_prefetch, hook_request, make_app, oxycodone_draft, topics

EPIC_OID = "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369"
IBUPROFEN = med_request("197806", id="ibu", authored=days_ago(30), display="ibuprofen 600 MG Oral Tablet")
ACETAMINOPHEN = med_request("313782", id="apap", authored=days_ago(20), display="acetaminophen 325 MG Oral Tablet")
NAPROXEN = med_request("198013", id="nap", authored=days_ago(10), display="naproxen 500 MG Oral Tablet")


def match(resource: dict) -> dict:
    return {
        "fullUrl": f"{FHIR}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": "match"},
    }


def searchset(*resources: dict, total: int | None = None, next_url: str = "", extra: tuple = ()) -> dict:
    """An Epic-shaped searchset: matches with fullUrls, a self link, and a next link while pages remain."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": [{"relation": "self", "url": f"{FHIR}/MedicationRequest?patient={PATIENT_ID}"}],
        "entry": [match(r) for r in resources] + list(extra),
    }
    if total is not None:
        bundle["total"] = total
    if next_url:
        bundle["link"].append({"relation": "next", "url": next_url})
    return bundle


def post(tmp_path, prefetch: dict, *, fhir: bool = False, hook: str = "order-sign") -> dict:
    """The service's answer to an order-sign of oxycodone (or a patient-view) with this prefetch."""
    drafts = [oxycodone_draft()] if hook != "patient-view" else []
    body = hook_request(hook, drafts=drafts, prefetch=prefetch, fhir=fhir)
    response = make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def incomplete_detail(answer: dict) -> str:
    cards = [c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    return cards[0]["detail"] if cards else ""


# 1. A prefetched first page whose remaining pages PainPlan reads itself: its Bundle.total is set against every match.


@responses.activate
def test_a_prefetched_search_continued_by_its_next_link_is_named_when_its_total_exceeds_every_match(tmp_path):
    page_two = f"{FHIR}/MedicationRequest?patient={PATIENT_ID}&status=active&_getpagesoffset=2&_count=2"
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = searchset(IBUPROFEN, ACETAMINOPHEN, total=5, next_url=page_two)
    responses.get(page_two, json=searchset(NAPROXEN, total=5))
    answer = post(tmp_path, prefetch, fhir=True)
    assert [call.request.url for call in responses.calls] == [page_two]  # page two was read, once, and nothing else
    assert "data-incomplete" in topics(answer)
    assert "the FHIR server reported 5 results but returned 3" in incomplete_detail(answer)


@responses.activate
def test_a_prefetched_search_continued_by_its_next_link_whose_total_matches_is_complete(tmp_path):
    page_two = f"{FHIR}/MedicationRequest?patient={PATIENT_ID}&status=active&_getpagesoffset=2&_count=2"
    prefetch = full_prefetch("order-sign")
    included = {"resource": {"resourceType": "Medication", "id": "m1"}, "search": {"mode": "include"}}
    prefetch["medsActive"] = searchset(IBUPROFEN, ACETAMINOPHEN, total=3, next_url=page_two, extra=(included,))
    responses.get(page_two, json=searchset(NAPROXEN, total=3))
    answer = post(tmp_path, prefetch, fhir=True)
    assert len(responses.calls) == 1
    assert "data-incomplete" not in topics(answer)


# 2. A Bundle nested as an entry's resource (a gateway's batch-response, a Bundle in a Bundle) cannot hide a warning.


def withheld_outcome() -> dict:
    """Epic's 4119 as it sits in a searchset (search.mode outcome)."""
    issue = {
        "severity": "warning",
        "code": "informational",
        "details": {
            "coding": [{"system": EPIC_OID, "code": "4119", "display": "Additional data may be present for patient."}],
            "text": "Additional data may be present for patient.",
        },
    }
    return {"resource": {"resourceType": "OperationOutcome", "issue": [issue]}, "search": {"mode": "outcome"}}


def batch_response(*searchsets: dict, status: str = "200 OK") -> dict:
    """A gateway's batch-response: each entry one search's answer, its searchset as the entry's resource."""
    return {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [{"resource": s, "response": {"status": status}} for s in searchsets],
    }


def test_a_withheld_warning_inside_a_batch_response_is_named(tmp_path):
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = batch_response(searchset(IBUPROFEN, total=1, extra=(withheld_outcome(),)))
    detail = incomplete_detail(post(tmp_path, prefetch))
    assert "withheld" in detail


def test_a_withheld_warning_in_a_bundle_inside_a_searchset_is_named(tmp_path):
    prefetch = full_prefetch("patient-view")
    inner = searchset(IBUPROFEN, ACETAMINOPHEN, extra=(withheld_outcome(),))
    prefetch["medsRecent"] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": inner}]}
    detail = incomplete_detail(post(tmp_path, prefetch, hook="patient-view"))
    assert "withheld" in detail


def test_a_suppressed_outcome_in_a_batch_entry_response_is_named(tmp_path):
    prefetch = full_prefetch("order-sign")
    batch = batch_response(searchset(IBUPROFEN))
    suppressed = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "suppressed"}]}
    batch["entry"][0]["response"]["outcome"] = suppressed
    prefetch["medsActive"] = batch
    assert "withheld" in incomplete_detail(post(tmp_path, prefetch))


def test_an_empty_nested_search_with_the_withheld_warning_is_not_nothing_on_record(tmp_path):
    prefetch = full_prefetch("order-sign")
    prefetch["udsLabs"] = batch_response(searchset(extra=(withheld_outcome(),)))
    detail = incomplete_detail(post(tmp_path, prefetch))
    assert "urine" in detail.lower() and "warning" in detail


def test_a_failed_search_inside_a_batch_response_is_named(tmp_path):
    prefetch = full_prefetch("order-sign")
    failed = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}
    batch = batch_response(searchset(IBUPROFEN))
    batch["entry"].append({"response": {"status": "403 Forbidden", "outcome": failed}})
    prefetch["medsActive"] = batch
    assert "403" in incomplete_detail(post(tmp_path, prefetch))


def test_a_nested_search_with_pages_left_or_a_total_above_its_matches_is_named(tmp_path):
    paged = searchset(IBUPROFEN, next_url=f"{FHIR}/MedicationRequest?patient={PATIENT_ID}&_getpagesoffset=1")
    prefetch = full_prefetch("order-sign", medsActive=batch_response(paged))
    assert "more pages" in incomplete_detail(post(tmp_path, prefetch))
    prefetch = full_prefetch("order-sign", medsActive=batch_response(searchset(IBUPROFEN, total=4)))
    assert "reported 4 results but returned 1" in incomplete_detail(post(tmp_path, prefetch))


def test_a_clean_batch_response_adds_no_card(tmp_path):
    prefetch = full_prefetch("order-sign", medsActive=batch_response(searchset(IBUPROFEN, total=1)))
    assert "data-incomplete" not in topics(post(tmp_path, prefetch))


# 3. A search answered by one resource, and a key PainPlan did not ask for: read leniently, never trusted unchecked.

OXYCODONE_ORDER = med_request("1049683", id="oxy10", authored=days_ago(20), display="oxycodone 10 MG Oral Tablet")


def test_a_single_resource_where_a_search_was_expected_is_read_and_named(tmp_path):
    prefetch = full_prefetch("order-sign", medsActive=OXYCODONE_ORDER)  # a bare MedicationRequest, no Bundle
    answer = post(tmp_path, prefetch)
    detail = incomplete_detail(answer)
    assert "active medication orders" in detail
    assert "a single MedicationRequest was sent, not a search result" in detail
    mme = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "150.0 MME/day" in mme["summary"]  # the oxycodone 10 mg order it holds still counts (90 + 60)


@responses.activate
def test_a_single_resource_where_a_search_was_expected_is_searched_again_when_the_server_can_be_read(tmp_path):
    prefetch = full_prefetch("order-sign", medsActive=OXYCODONE_ORDER)
    responses.get(f"{FHIR}/MedicationRequest", json=searchset(OXYCODONE_ORDER, IBUPROFEN, total=2))
    answer = post(tmp_path, prefetch, fhir=True)
    assert len(responses.calls) == 1 and "status=active" in responses.calls[0].request.url
    assert "data-incomplete" not in topics(answer)


def test_a_key_painplan_did_not_ask_for_is_read_and_checked_like_a_search(tmp_path):
    site_key = searchset(OXYCODONE_ORDER, extra=(withheld_outcome(),))  # a site's own search, with Epic's 4119
    answer = post(tmp_path, full_prefetch("order-sign", oudMeds=site_key))
    detail = incomplete_detail(answer)
    assert 'prefetch key "oudMeds"' in detail and "withheld" in detail
    mme = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "150.0 MME/day" in mme["summary"]


def test_a_clean_key_painplan_did_not_ask_for_is_read_without_a_card(tmp_path):
    answer = post(tmp_path, full_prefetch("order-sign", oudMeds=searchset(OXYCODONE_ORDER, total=1)))
    assert "data-incomplete" not in topics(answer)
    mme = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "150.0 MME/day" in mme["summary"]


def test_a_key_painplan_did_not_ask_for_that_holds_no_resource_is_named(tmp_path):
    answer = post(tmp_path, full_prefetch("order-sign", oudMeds="MedicationRequest?patient=p1"))
    detail = incomplete_detail(answer)
    assert 'prefetch key "oudMeds"' in detail and "not a FHIR resource" in detail


def test_a_key_painplan_did_not_ask_for_answered_by_a_warning_alone_is_named(tmp_path):
    # A site's own search that did not run, as a gateway passes it on: an OperationOutcome, no Bundle, no results.
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "warning", "code": "timeout", "diagnostics": "The search did not complete."}],
    }
    detail = incomplete_detail(post(tmp_path, full_prefetch("order-sign", oudMeds=outcome)))
    assert 'prefetch key "oudMeds"' in detail
    # The asked keys' words (gather._no_answer), the outcome's own text with them.
    assert 'an OperationOutcome (warning, timeout: "The search did not complete."), not a search result' in detail


@responses.activate
def test_a_key_asked_by_another_hook_has_its_remaining_pages_read_and_its_total_checked(tmp_path):
    page_two = f"{FHIR}/MedicationDispense?patient={PATIENT_ID}&_getpagesoffset=1"
    dispense = {"resourceType": "MedicationDispense", "id": "d1", "status": "completed"}
    prefetch = full_prefetch("order-select", dispenses=searchset(dispense, total=4, next_url=page_two))
    responses.get(page_two, json=searchset({**dispense, "id": "d2"}, total=4))
    answer = post(tmp_path, prefetch, fhir=True, hook="order-select")
    assert len(responses.calls) == 1
    assert "pharmacy dispensing records" in incomplete_detail(answer)
    assert "reported 4 results but returned 2" in incomplete_detail(answer)


# 4. Resource types: R5's MedicationUsage is a home medication; types holding medicines or results PainPlan does not
# read are named; context types are not.


def medication_usage(kind: str = "MedicationUsage") -> dict:
    """An R5 (ballot) MedicationUsage: oxycodone 10 mg every 6 hours, recorded as taken, as a gateway sends it."""
    return {
        "resourceType": kind,
        "id": "usage-oxy",
        "status": "recorded",
        "medication": {
            "concept": {
                "coding": [
                    {
                        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                        "code": "1049683",
                        "display": "oxycodone hydrochloride 10 MG Oral Tablet",
                    }
                ]
            }
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectivePeriod": {"start": days_ago(20)},
        "dateAsserted": days_ago(5),
        "adherence": {
            "code": {
                "coding": [
                    {"system": "http://hl7.org/fhir/CodeSystem/medication-statement-adherence", "code": "taking"}
                ]
            }
        },
        "dosage": [
            {
                "text": "1 tablet every 6 hours",
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 1,
                            "unit": "tablet",
                            "system": "http://unitsofmeasure.org",
                            "code": "{tbl}",
                        }
                    }
                ],
            }
        ],
    }


def mme_summary(answer: dict) -> str:
    return next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "high-mme")["summary"]


def test_an_r5_medication_usage_is_read_as_a_medication_reported_as_taken(tmp_path):
    usage = post(tmp_path, full_prefetch("order-sign", medStatements=searchset(medication_usage())))
    statement = post(
        tmp_path, full_prefetch("order-sign", medStatements=searchset(medication_usage("MedicationStatement")))
    )
    assert "150.0 MME/day" in mme_summary(statement)  # the statement's 60 MME beside the draft's 90
    assert mme_summary(usage) == mme_summary(statement)
    assert "data-incomplete" not in topics(usage)


def test_records_holding_medicines_or_results_painplan_does_not_read_are_named(tmp_path):
    claim = {
        "resourceType": "Claim",
        "id": "rx-claim-1",
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "00406055262"}]},
            }
        ],
    }
    answers = {
        "resourceType": "QuestionnaireResponse",
        "id": "peg-1",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "item": [{"linkId": "1", "answer": [{"valueInteger": 7}]}],
    }
    detail = incomplete_detail(post(tmp_path, full_prefetch("order-sign", siteData=searchset(claim, answers))))
    assert "Claim" in detail and "QuestionnaireResponse" in detail


def test_context_resources_painplan_does_not_need_add_no_card(tmp_path):
    context = [
        {"resourceType": "Practitioner", "id": "dr1", "name": [{"family": "Osler"}]},
        {"resourceType": "Organization", "id": "org1", "name": "Clinic"},
        {
            "resourceType": "Coverage",
            "id": "cov1",
            "status": "active",
            "beneficiary": {"reference": f"Patient/{PATIENT_ID}"},
        },
        {"resourceType": "Location", "id": "loc1", "name": "Clinic 2"},
        {"resourceType": "AllergyIntolerance", "id": "al1", "patient": {"reference": f"Patient/{PATIENT_ID}"}},
    ]
    answer = post(tmp_path, full_prefetch("order-sign", context=searchset(*context)))
    assert "data-incomplete" not in topics(answer)


# A list sent under a key PainPlan did not ask for: each item is read and checked as a value of its own would be.


def test_a_search_inside_a_list_under_an_unasked_key_is_checked_against_its_total(tmp_path):
    prefetch = full_prefetch("order-sign")
    prefetch["siteMeds"] = [searchset(IBUPROFEN, total=7)]
    detail = incomplete_detail(post(tmp_path, prefetch))
    assert 'prefetch key "siteMeds"' in detail and "7" in detail


def test_an_item_that_is_no_resource_in_a_list_under_an_unasked_key_is_named(tmp_path):
    prefetch = full_prefetch("order-sign")
    prefetch["siteMeds"] = [IBUPROFEN, {"medication": "oxycodone 80 mg"}]
    detail = incomplete_detail(post(tmp_path, prefetch))
    assert 'prefetch key "siteMeds"' in detail and "not a FHIR resource" in detail


def test_a_clean_list_under_an_unasked_key_adds_no_card(tmp_path):
    prefetch = full_prefetch("order-sign")
    prefetch["siteMeds"] = [IBUPROFEN, searchset(ACETAMINOPHEN, total=1)]
    assert "data-incomplete" not in topics(post(tmp_path, prefetch))


def test_a_paged_prefetch_with_no_fhir_server_says_its_first_page_was_read_and_keeps_its_warning(tmp_path):
    # Page one was read; it was called "not in the prefetch", and that replaced the page's own withheld warning.
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = searchset(
        IBUPROFEN, total=4, next_url=f"{FHIR}/MedicationRequest?page=2", extra=(withheld_outcome(),)
    )
    detail = incomplete_detail(post(tmp_path, prefetch, fhir=False))
    assert "not in the prefetch" not in detail
    assert "first page" in detail and "withheld" in detail


def test_a_search_entry_that_holds_no_resource_is_named_even_when_the_total_agrees(tmp_path):
    # A gateway that strips resources it may not pass on can leave the entry behind: counted as a match, read as
    # nothing, and named only if Bundle.total happened to give it away.
    stripped = {"fullUrl": f"{FHIR}/MedicationRequest/opioid-1", "search": {"mode": "match"}}
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = searchset(IBUPROFEN, total=2, extra=(stripped,))
    detail = incomplete_detail(post(tmp_path, prefetch))
    assert "holds no resource" in detail


def test_a_batch_response_entry_answering_a_write_with_no_resource_is_no_gap(tmp_path):
    # A write's answer holds no resource by design (a success that answers a read or a search, and holds none, is
    # named: tests/test_record_bundle_shapes.py).
    prefetch = full_prefetch("order-sign")
    prefetch["siteNotes"] = {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [
            {"response": {"status": "201 Created", "location": "Flag/f1/_history/1"}},
            {"request": {"method": "DELETE", "url": "Flag/f2"}, "response": {"status": "200 OK"}},
            {"resource": IBUPROFEN, "response": {"status": "200 OK"}},
        ],
    }
    assert "data-incomplete" not in topics(post(tmp_path, prefetch))


def test_a_batch_entry_whose_outcome_is_an_error_is_named_even_without_a_status(tmp_path):
    failed = {
        "response": {
            "outcome": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "processing", "diagnostics": "search failed"}],
            }
        }
    }
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [failed, {"resource": searchset(IBUPROFEN, total=1), "response": {"status": "200 OK"}}],
    }
    assert "reported an error" in incomplete_detail(post(tmp_path, prefetch))


def test_a_batch_entry_with_an_informational_outcome_is_no_gap(tmp_path):
    note = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}
    prefetch = full_prefetch("order-sign")
    prefetch["medsActive"] = {
        "resourceType": "Bundle",
        "type": "batch-response",
        "entry": [{"resource": searchset(IBUPROFEN, total=1), "response": {"status": "200 OK", "outcome": note}}],
    }
    assert "data-incomplete" not in topics(post(tmp_path, prefetch))
