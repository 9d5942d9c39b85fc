"""Urine drug tests dated after today are named one by one, by where each lives: two servers' results, procedures or
reports that share an id (the EHR's `Observation/o1` and an HIE's `Observation/o1`) are two tests, never one.

`urine_drug_test.tests_after_today` kept one test per (kind, bare id, day): the HIE's o1 dated the same day as the
EHR's o1 was dropped, and whatever it was (an oxycodone screen from another practice) was named nowhere, though it is
on record and counted nowhere either."""

from __future__ import annotations

from typing import Any

import pytest
from builders import PATIENT_ID, days_ago, dispense, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.undated import future_dated_drug_tests

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"
LOINC = "http://loinc.org"
CPT = "http://www.ama-assn.org/go/cpt"
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FUTURE = "2027-05-26"  # the collection year typed one ahead: the evaluation date is 2026-06-15


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


def _ltot() -> list[dict[str, Any]]:
    """Opioid supply on every day of the last 90: long-term therapy, so the urine drug test check applies."""
    return [dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]


def _screen(code: str, display: str, value: str) -> dict[str, Any]:
    """A urine screen result (R4, LOINC-coded), id o1, collected on FUTURE (a mistyped year)."""
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{FUTURE}T09:12:00-04:00",
        "valueString": value,
    }


def _cup(text: str) -> dict[str, Any]:
    """A point-of-care cup billed as CPT 80305, id pr1, performed on FUTURE."""
    return {
        "resourceType": "Procedure",
        "id": "pr1",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": CPT, "code": "80305"}], "text": text},
        "performedDateTime": f"{FUTURE}T10:30:00-05:00",
    }


def _searchset(base: str, *resources: dict[str, Any]) -> dict[str, Any]:
    entries = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in resources
    ]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def test_two_servers_results_o1_dated_after_today_are_both_named() -> None:
    ehr = _searchset(EPIC, _screen("11235-9", "Fentanyl Screen, Urine", "Negative"))
    hie = _searchset(HIE, _screen("58430-0", "Oxycodone Screen, Urine", "Positive"))
    evaluation = run("patient-view", resources=[*_ltot(), ehr, hie], fhir_server=EPIC)
    ahead = urine_drug_test.tests_after_today(evaluation.facts)
    assert [(t.name, t.ident) for t in ahead] == [
        ("Fentanyl Screen, Urine", "o1"),
        ("Oxycodone Screen, Urine", f"{HIE}/Observation/o1"),
    ]
    assert future_dated_drug_tests(evaluation.facts) == (
        f"Fentanyl Screen, Urine (observation o1), dated {FUTURE}, after today",
        f"Oxycodone Screen, Urine (observation {HIE}/Observation/o1), dated {FUTURE}, after today",
    )


def test_two_servers_procedures_pr1_dated_after_today_are_both_named() -> None:
    ehr = _searchset(EPIC, _cup("Urine drug screen, point of care"))
    hie = _searchset(HIE, _cup("Drug screen cup, presumptive"))
    evaluation = run("patient-view", resources=[*_ltot(), ehr, hie], fhir_server=EPIC)
    assert [t.name for t in urine_drug_test.tests_after_today(evaluation.facts)] == [
        "Urine drug screen, point of care",
        "Drug screen cup, presumptive",
    ]


def test_one_panel_dated_after_today_is_still_named_once() -> None:
    # A result with a component per substance is one test: its components share its key.
    panel = _screen("69739-1", "Drug screen panel, urine", "See components")
    del panel["valueString"]
    panel["component"] = [
        {"code": {"coding": [{"system": LOINC, "code": "11235-9"}]}, "valueString": "Negative"},
        {"code": {"coding": [{"system": LOINC, "code": "58430-0"}]}, "valueString": "Positive"},
    ]
    evaluation = run("patient-view", resources=[*_ltot(), _searchset(EPIC, panel)], fhir_server=EPIC)
    assert [(t.name, t.ident) for t in urine_drug_test.tests_after_today(evaluation.facts)] == [
        ("Drug screen panel, urine", "o1")
    ]
