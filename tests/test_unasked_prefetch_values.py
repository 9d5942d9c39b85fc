"""A prefetch value under a key PainPlan did not ask for (a site's own key, another hook's) is judged by the rule the
asked keys' values are judged by (`gather._no_answer`): what is no answer is named with the same words, what is an
answer is read. Before, a typeless or empty non-searchset Bundle under an unasked key was read as "nothing" unnamed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from builders import PATIENT_ID, days_ago, med_request
from cds_support import full_prefetch, hook_request, oxycodone_draft

from cds_hooks.gather import gather
from cds_hooks.request import parse_hook_request
from cds_hooks.services import PREFETCH_LABELS, templates
from guideline.config import GuidelineConfig

CONFIG = GuidelineConfig.from_mapping()
TODAY = date(2026, 6, 15)
SITE_KEY = "oudMeds"  # a site's own key: a search for its buprenorphine orders
SITE_LABEL = f'data the EHR sent under the prefetch key "{SITE_KEY}"'
ACTIVE = PREFETCH_LABELS["medsActive"]
OXYCODONE_10 = med_request("1049683", id="oxy10", authored=days_ago(20), display="oxycodone 10 MG Oral Tablet")
TIMEOUT = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "warning", "code": "timeout", "diagnostics": "The search did not complete."}],
}

# Values that are no answer to a search, each with the words the asked keys' rule gives for it.
NO_ANSWER: list[tuple[str, Any, str]] = [
    (
        "typeless empty Bundle",
        {"resourceType": "Bundle"},
        "the EHR sent a Bundle with no type and no entries, not a search result, so it says nothing of what was found",
    ),
    (
        "empty collection",
        {"resourceType": "Bundle", "type": "collection", "entry": []},
        "the EHR sent an empty collection Bundle and no entries, not a search result",
    ),
    (
        "empty batch-response",
        {"resourceType": "Bundle", "type": "batch-response"},
        "the EHR sent an empty batch-response Bundle and no entries, not a search result",
    ),
    (
        "OperationOutcome",
        TIMEOUT,
        'the EHR sent an OperationOutcome (warning, timeout: "The search did not complete."), not a search result',
    ),
    ("reference as text", "MedicationRequest/123", "the EHR sent a string, not a FHIR resource"),
    ("number", 3, "the EHR sent a number, not a FHIR resource"),
    ("object with no type", {"medication": "oxycodone 80 mg"}, "the EHR sent an object with no resourceType"),
    ("empty object", {}, "the EHR sent an empty object, not a FHIR resource"),
]


def gathered(**prefetch: Any):
    """What gather makes of an order-sign of oxycodone (offline) with these prefetch values over the hook's own."""
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **prefetch))
    request = parse_hook_request(body, "order-sign", allow_http=False)
    return gather(request, templates("order-sign", CONFIG), today=TODAY, budget_seconds=5, network=False)


@pytest.mark.parametrize(("shape", "value", "words"), NO_ANSWER, ids=[n for n, _, _ in NO_ANSWER])
def test_a_value_that_is_no_answer_is_named_alike_under_an_asked_and_an_unasked_key(shape, value, words):
    asked = gathered(medsActive=value)
    unasked = gathered(**{SITE_KEY: value})
    assert words in asked.gaps[ACTIVE]
    assert words in unasked.gaps[SITE_LABEL]
    assert unasked.unread[SITE_KEY] == unasked.gaps[SITE_LABEL]
    assert ACTIVE not in unasked.gaps  # the asked key, sent empty and clean, is not named


def test_a_list_under_an_unasked_key_names_each_item_by_the_same_rule():
    """Each item of a list is a value of its own: the order in it is read, the typeless Bundle beside it named."""
    data = gathered(**{SITE_KEY: [OXYCODONE_10, {"resourceType": "Bundle"}]})
    assert "a Bundle with no type and no entries" in data.gaps[SITE_LABEL]
    assert "oxy10" in {r.get("id") for r in data.resources}


@pytest.mark.parametrize(
    "value",
    [
        {"resourceType": "Bundle", "type": "searchset", "total": 0},  # a search that found nothing
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": OXYCODONE_10}]},
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": OXYCODONE_10}]},
        OXYCODONE_10,  # one resource: the query of a key PainPlan did not write may be a read
        [OXYCODONE_10],
    ],
    ids=["empty searchset", "searchset", "collection", "one resource", "list"],
)
def test_a_value_that_is_an_answer_is_read_without_a_gap(value):
    data = gathered(**{SITE_KEY: value})
    assert data.gaps == {} and data.unread == {}
    holds = value.get("entry") if type(value) is dict and value.get("resourceType") == "Bundle" else value
    assert ("oxy10" in {r.get("id") for r in data.resources}) == bool(holds)


def test_a_patient_sent_under_an_unasked_key_is_read():
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1960-01-01"}
    assert gathered(sitePatient=patient).gaps == {}
