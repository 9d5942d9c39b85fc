"""gather looks at the resources it pools once for what its later steps need of them: whether any names a Medication
(then the Medications are looked for) and which are of types PainPlan does not read (then named). Each answer is
the same as when each was a pass of its own: from the prefetch, the orders being signed and the pages read after."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import responses
from builders import PATIENT_ID
from cds_support import FHIR, bundle, full_prefetch, hook_request, oxycodone_draft

from cds_hooks.gather import MEDICATIONS, UNREAD_RECORDS, gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import templates
from guideline.config import GuidelineConfig

CONFIG = GuidelineConfig.from_mapping()
TODAY = date(2026, 6, 15)
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}


def pharmacy_claim(claim_id: str) -> dict[str, Any]:
    """A pharmacy claim not yet adjudicated (a Claim, which PainPlan does not read as a fill): oxycodone by NDC."""
    return {
        "resourceType": "Claim",
        "id": claim_id,
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
        "patient": SUBJECT,
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "00406055262"}]},
            }
        ],
    }


def peg_answers(answers_id: str) -> dict[str, Any]:
    """A PEG questionnaire's answers as a QuestionnaireResponse (not Observations, so not read as a score)."""
    return {
        "resourceType": "QuestionnaireResponse",
        "id": answers_id,
        "status": "completed",
        "subject": SUBJECT,
        "item": [{"linkId": "peg-pain", "answer": [{"valueInteger": 7}]}],
    }


def order_set() -> dict[str, Any]:
    """An order set sent among the orders being signed (a RequestGroup): the orders inside it are not read out."""
    return {"resourceType": "RequestGroup", "id": "rg-1", "status": "draft", "intent": "proposal", "subject": SUBJECT}


def run(body: dict[str, Any], network: bool = False):
    request = parse_hook_request(body, body["hook"], allow_http=False)
    return gather(request, templates(body["hook"], CONFIG), today=TODAY, budget_seconds=5, network=network)


def test_unread_types_are_counted_in_the_prefetch_and_the_orders_being_signed() -> None:
    prefetch = full_prefetch("order-sign", siteData=bundle(pharmacy_claim("c1"), peg_answers("q1")))
    prefetch["procedures"] = bundle(peg_answers("q2"))
    data = run(hook_request(drafts=[oxycodone_draft(), order_set()], prefetch=prefetch))
    assert data.gaps[UNREAD_RECORDS] == (
        "1 Claim, 2 QuestionnaireResponse, 1 RequestGroup: not counted in the MME total or the checks"
    )


def test_unread_types_in_a_page_read_from_the_server_are_counted_with_those_prefetched() -> None:
    prefetch = full_prefetch("order-sign", siteData=bundle(pharmacy_claim("c1")))
    del prefetch["conditions"]  # not sent: searched on the EHR's server
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    with responses.RequestsMock() as mock:
        mock.get(re.compile(re.escape(f"{FHIR}/Condition") + r"\?.*"), json=bundle(pharmacy_claim("c2")))
        data = run(body, network=True)
    assert data.fetched_keys == ("conditions",)
    assert data.gaps[UNREAD_RECORDS] == "2 Claim: not counted in the MME total or the checks"


def test_none_is_named_when_every_record_is_read() -> None:
    data = run(hook_request(drafts=[oxycodone_draft()]))
    assert UNREAD_RECORDS not in data.gaps and data.gaps == {}


def test_a_medication_named_only_by_an_order_being_signed_is_looked_for() -> None:
    draft = {**oxycodone_draft(), "id": "d-r5"}
    draft.pop("medicationCodeableConcept")
    draft["medication"] = {"reference": {"reference": "Medication/m7"}}  # R5's CodeableReference
    data = run(hook_request(drafts=[draft]))
    assert MEDICATIONS in data.gaps  # offline: named as not read, never passed over
