"""Each plan section names every search its content rests on: when one could not be read, the section says so
beside what it shows, never a quiet "none" or "0 MME/day". Derived, not listed: each search is failed in turn (its
resources gone, as from an EHR that answered HTTP 500) and every section whose content changed must name it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from builders import (
    NOW,
    RXNORM,
    TODAY,
    days_ago,
    dispense,
    encounter,
    med_request,
    observation,
    procedure,
    service_request,
)
from builders import run as run_hook
from test_plan_unread_searches import patient_record

from guideline.config import GuidelineConfig
from guideline.plan import QueryStatus, build_plan
from smart_app.plan_view import QUERY_LABELS, plan_queries

CPT = "http://www.ama-assn.org/go/cpt"
HYDROCODONE_10_325 = "856999"  # hydrocodone bitartrate 10 MG / acetaminophen 325 MG Oral Tablet
ALPRAZOLAM_05 = "308047"
NALOXONE_NASAL = "1725059"
SUBLOCADE = "1995489"
OPTIONAL_SEARCHES = {
    "prefetch": {
        "medication_statements": True,
        "medication_administrations": True,
        "diagnostic_reports": True,
        "payer_claims": True,
    }
}


def _hydrocodone() -> dict[str, Any]:
    """An Epic-style Medication resource an order names by reference (its code only here)."""
    return {
        "resourceType": "Medication",
        "id": "eMed.hc10",
        "code": {
            "coding": [{"system": RXNORM, "code": HYDROCODONE_10_325}],
            "text": "HYDROCODONE-ACETAMINOPHEN 10-325 MG PO TABS",
        },
    }


def _ordered_by_reference() -> dict[str, Any]:
    order = med_request(HYDROCODONE_10_325, id="hc-ref", authored=days_ago(12), dose=1, period=8, supply_days=30)
    order.pop("medicationCodeableConcept")
    order["medicationReference"] = {"reference": "Medication/eMed.hc10", "display": "Medication"}
    return order


def _standing_order() -> dict[str, Any]:
    """Oxycodone ordered three years ago and valid until next year: still active, outside the 2-year order search."""
    order = med_request("1049621", id="oxy-standing", authored=days_ago(1100), dose=1, period=12, supply_days=None)
    order["dispenseRequest"]["validityPeriod"] = {"start": days_ago(1100), "end": days_ago(-200)}
    return order


def _reported_alprazolam() -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "id": "ms-alpraz",
        "status": "active",
        "subject": {"reference": "Patient/p1"},
        "dateAsserted": days_ago(30),
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": ALPRAZOLAM_05}], "text": "alprazolam"},
    }


def _sublocade_given() -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": "ma-subl",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": SUBLOCADE}], "text": "Sublocade 300 mg"},
        "effectiveDateTime": days_ago(20),
    }


def whole_record() -> list[dict[str, Any]]:
    """A long-term opioid patient with something in every search the page makes: an order three years old and still
    active (only the active-order search finds it), an order naming a Medication resource, a naloxone fill, an
    unprescribed fentanyl positive, a point-of-care drug test billed as a procedure, a pending drug test order, a
    visit, a benzodiazepine the patient reports taking and buprenorphine given in clinic."""
    return [
        *patient_record(),
        _standing_order(),
        _ordered_by_reference(),
        _hydrocodone(),
        dispense(NALOXONE_NASAL, days_ago(90)),
        observation("59673-4", when=days_ago(35), value_string="Positive"),
        procedure(CPT, "80305", performed=days_ago(25)),
        service_request("http://loinc.org", "19295-5", authored=days_ago(3)),
        encounter(start=days_ago(45)),
        _reported_alprazolam(),
        _sublocade_given(),
    ]


def _coded_score_codes(config: GuidelineConfig) -> set[str]:
    """The codes the coded-score search asks for, read from the search itself."""
    query = plan_queries("p1", TODAY, config)["coded_scores"]
    codes = query.split("code=")[1].split("&")[0]
    return {code.split("|")[-1] for code in codes.split(",")}


def _returned_by(key: str, resource: dict[str, Any], config: GuidelineConfig) -> bool:
    """Whether the page's search `key` returns this resource (as a server would answer the page's queries)."""
    kind = resource["resourceType"]
    two_years = plan_queries("p1", TODAY, config)["orders"].split("authoredon=ge")[1][:10]
    if key == "orders":
        return kind == "MedicationRequest" and resource.get("authoredOn", "")[:10] >= two_years
    if key == "active_orders":
        return kind == "MedicationRequest" and resource.get("status") == "active"
    if key in ("labs", "surveys"):
        category = "laboratory" if key == "labs" else "survey"
        return kind == "Observation" and category in json.dumps(resource.get("category"))
    if key == "coded_scores":
        codes = {c.get("code") for c in resource.get("code", {}).get("coding", [])}
        return kind == "Observation" and bool(codes & _coded_score_codes(config))
    query = plan_queries("p1", TODAY, config).get(key, "")
    return kind == query.split("?")[0].split("/")[0] or (key == "medications" and kind == "Medication")


def _status(key: str, failed: bool) -> QueryStatus:
    error = "the FHIR server answered HTTP 500" if failed else None
    return QueryStatus(key, QUERY_LABELS[key], "…", 0, not failed, error)


def _plan(resources: list[dict[str, Any]], config: GuidelineConfig, failed: str | None):
    keys = [*plan_queries("p1", TODAY, config), "medications"]
    evaluation = run_hook("patient-view", resources=resources, config=config)
    return build_plan(evaluation, [_status(k, k == failed) for k in keys], config, NOW)


def _searches(config: GuidelineConfig) -> list[str]:
    return [*plan_queries("p1", TODAY, config), "medications"]


@pytest.mark.parametrize("settings", [{}, OPTIONAL_SEARCHES], ids=["default", "optional-searches-on"])
def test_a_section_a_failed_search_changed_names_that_search(settings: dict[str, Any]) -> None:
    config = GuidelineConfig.from_mapping(settings)
    record = whole_record()
    whole = _plan(record, config, None)
    silent = []
    for key in _searches(config):
        others = [k for k in _searches(config) if k != key]
        # What the failed search alone would have returned is gone; what another search returns still comes.
        kept = [
            r for r in record if not _returned_by(key, r, config) or any(_returned_by(o, r, config) for o in others)
        ]
        if len(kept) == len(record):
            continue
        failed = _plan(kept, config, key)
        for section in (*failed.sections, failed.banner):
            before = whole.section(section.key)
            changed = _content(before) != _content(section)
            if changed and key not in {q.key for q in section.queried}:
                silent.append(f"{section.key} changed without {key}")
    assert not silent, silent


def _content(section: Any) -> Any:
    """A section's content to compare (the steps and status tiles also carry the failed searches' own words)."""
    content = section.content
    return dataclasses.asdict(content) if dataclasses.is_dataclass(content) else content


def test_every_search_a_section_lists_is_one_the_page_makes() -> None:
    # A misspelt key would leave a section quiet about the search it meant.
    from guideline.plan.assembly import SECTION_QUERIES

    made = {*plan_queries("p1", TODAY, GuidelineConfig.from_mapping(OPTIONAL_SEARCHES)), "uds_labs"}
    made |= {"medications", "report_results"}  # the reads of what orders and reports name
    made |= {"places"}  # the Location reads of the places of recent visits (the hospice exclusion)
    assert {key for keys in SECTION_QUERIES.values() for key in keys} <= made
