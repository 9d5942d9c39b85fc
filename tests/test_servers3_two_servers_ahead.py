"""Urine drug tests dated after today are named one line each, by where each lives: the EHR's Procedure/pr1 and an
HIE's Procedure/pr1 (another practice's cup, relayed by the regional exchange) of the same name and day are two
lines, the HIE's named by its URL, and so are the EHR's DiagnosticReport/dr1 and the HIE's dr1 (`Procedure.source`,
`DiagnosticReport.source`, as an Observation's). Before, both were named by the bare id, and
`undated.future_dated_drug_tests`, which keeps one line per text, showed one line for the two tests."""

from __future__ import annotations

from typing import Any

import pytest
from builders import LOINC, PATIENT_ID, days_ago, dispense, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.undated import future_dated_drug_tests

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"
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


def _cup(at: str = "10:30") -> dict[str, Any]:
    """A point-of-care cup billed as CPT 80305, id pr1, performed on FUTURE (a mistyped year) at `at`."""
    return {
        "resourceType": "Procedure",
        "id": "pr1",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": CPT, "code": "80305"}], "text": "Urine drug screen, point of care"},
        "performedDateTime": f"{FUTURE}T{at}:00-05:00",
    }


def _report(issued: str = "15:00") -> dict[str, Any]:
    """A urine drug screen report with a conclusion and no result (a scanned lab report), id dr1, dated FUTURE and
    issued at `issued`."""
    return {
        "resourceType": "DiagnosticReport",
        "id": "dr1",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
        "code": {
            "coding": [
                {"system": LOINC, "code": "69739-1", "display": "Drugs of abuse panel - Urine by Screen method"}
            ],
            "text": "Drug screen panel, urine",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": f"{FUTURE}T08:55:00-04:00",
        "issued": f"{FUTURE}T{issued}:00-04:00",
        "conclusion": "Negative",
    }


def _searchset(base: str, *resources: dict[str, Any]) -> dict[str, Any]:
    entries = [
        {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r, "search": {"mode": "match"}}
        for r in resources
    ]
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def test_two_servers_procedures_pr1_of_one_name_and_day_are_two_lines() -> None:
    # Two cups that day: the EHR's clinic's in the morning, another practice's in the afternoon (sent unchanged, the
    # HIE's pr1 would be the EHR's relayed, and one test).
    hie = _searchset(HIE, _cup("15:05"))
    evaluation = run("patient-view", resources=[*_ltot(), _searchset(EPIC, _cup()), hie], fhir_server=EPIC)
    assert future_dated_drug_tests(evaluation.facts) == (
        f"Urine drug screen, point of care (procedure pr1), dated {FUTURE}, after today",
        f"Urine drug screen, point of care (procedure {HIE}/Procedure/pr1), dated {FUTURE}, after today",
    )


def test_two_servers_reports_dr1_of_one_name_and_day_are_two_lines() -> None:
    hie = _searchset(HIE, _report("17:40"))
    evaluation = run("patient-view", resources=[*_ltot(), _searchset(EPIC, _report()), hie], fhir_server=EPIC)
    ahead = future_dated_drug_tests(evaluation.facts)
    assert len(ahead) == 2
    assert ahead[0].endswith(f"(lab report dr1), dated {FUTURE}, after today")
    assert ahead[1].endswith(f"(lab report {HIE}/DiagnosticReport/dr1), dated {FUTURE}, after today")


@pytest.mark.parametrize("base", [EPIC, HIE], ids=["ehr", "hie-relaying-the-ehrs"])
def test_one_procedure_sent_twice_is_one_line(base: str) -> None:
    # The same cup in the prefetch and in a search's answer, or relayed unchanged by the HIE, is one test, named once.
    evaluation = run(
        "patient-view", resources=[*_ltot(), _searchset(EPIC, _cup()), _searchset(base, _cup())], fhir_server=EPIC
    )
    assert future_dated_drug_tests(evaluation.facts) == (
        f"Urine drug screen, point of care (procedure pr1), dated {FUTURE}, after today",
    )
