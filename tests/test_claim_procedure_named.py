"""A procedure read from a payer claim is named by its claim: "… (payer claim eob-7), no date", never by the id
PainPlan made up for it ("eob-7-px1"), which is in no system a reader can search. The claim's id is carried as a
fill's and a diagnosis's are (`PROCEDURE_CLAIM_EXTENSION`, read as `Procedure.claim`), on both faces.

Before, a member whose payer billed an undated buprenorphine injection beside their opioid use disorder had "OUD
without treatment" answered by "(procedure p-sub-clm-px1), no date": nobody could find that record to check it."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from builders import PATIENT_ID, days_ago, run
from synthetic_export import ICD10, condition, patient
from test_payer_code_systems import carrier_claim
from test_population_letters import high_dose
from test_population_measure_edges import _evaluate, _row

from guideline.checks import urine_drug_test
from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.fhirdata import HCPCS
from guideline.population.claims import claim_resources, claims_read_for_a_hook
from guideline.record import build_record
from guideline.record.model import PROCEDURE_CLAIM_EXTENSION
from guideline.undated import undated_procedures

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCEDURE_WHY = "has no date PainPlan can read, so no check could count it as done recently"


def sublocade_claim(pid: str, ident: str, **extra: Any) -> dict[str, Any]:
    """A CARIN professional claim for a Sublocade injection (HCPCS Q9991, buprenorphine extended-release, up to
    100 mg) billed for opioid use disorder (F11.20), its line and the claim carrying no day of service (`created` is
    the day the claim was written)."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "outcome": "complete",
        "patient": {"reference": f"Patient/{pid}"},
        "created": "2026-03-20",
        "item": [
            {
                "sequence": 1,
                "productOrService": {
                    "coding": [
                        {
                            "system": HCPCS,
                            "code": "Q9991",
                            "display": "Injection, buprenorphine extended-release (Sublocade), less than or equal "
                            "to 100 mg",
                        }
                    ]
                },
            }
        ],
        **extra,
    }


def test_the_oud_finding_names_an_undated_billed_injection_by_its_claim() -> None:
    pid = "p-sub"
    oud = condition(f"{pid}-oud", pid, ICD10, "F11.20", recorded="2025-06-10")
    outcome = _evaluate(pid, [patient(pid, "1972-04-02"), *high_dose(pid, "drA"), oud, sublocade_claim(pid, "eob-7")])
    assert OUD_CHECK in _row(outcome)["findings"].split(",")
    named = json.loads(_row(outcome)["evidence"])[OUD_CHECK]
    assert named == [
        "Injection, buprenorphine extended-release (Sublocade), less than or equal to 100 mg (payer claim eob-7), "
        f"no date: {PROCEDURE_WHY}"
    ]
    assert "px1" not in json.dumps(_row(outcome), default=str)


def test_the_hook_names_an_undated_billed_injection_by_its_claim() -> None:
    oud = condition("c-oud", PATIENT_ID, ICD10, "F11.20", recorded="2025-06-10")
    read = claims_read_for_a_hook([sublocade_claim(PATIENT_ID, "eob-7")])
    evaluation = run("patient-view", resources=[oud, *read.resources])
    found = next(c for c in evaluation.cards if c.check_id == OUD_CHECK)
    assert "(payer claim eob-7), no date" in found.detail
    assert "px1" not in found.detail
    assert undated_procedures(evaluation.facts) == (
        "Injection, buprenorphine extended-release (Sublocade), less than or equal to 100 mg (payer claim eob-7), "
        "no date",
    )


def test_every_procedure_a_claim_stands_for_carries_the_claims_id() -> None:
    hospice = sublocade_claim(PATIENT_ID, "h-1", type={"coding": [{"code": "HOSPICE"}]})
    for claim in (sublocade_claim(PATIENT_ID, "eob-7"), hospice):
        procedures = [r for r in claim_resources(claim) if r["resourceType"] == "Procedure"]
        assert procedures
        for procedure in procedures:
            assert procedure["extension"] == [{"url": PROCEDURE_CLAIM_EXTENSION, "valueString": claim["id"]}]


def _procedure(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "Procedure", "id": "pr-1", "status": "completed", "subject": {"reference": "Patient/p1"},
            **extra}  # fmt: skip


def test_the_claim_is_read_leniently_and_an_ehr_procedure_has_none() -> None:
    def claim_of(resource: dict[str, Any]) -> str | None:
        record = build_record([resource], ZoneInfo("America/New_York"))
        assert not record.problems
        return record.procedures[0].claim

    assert claim_of(_procedure()) is None
    assert claim_of(_procedure(extension=[{"url": "http://example.org/other", "valueString": "x"}])) is None
    assert claim_of(_procedure(extension=[{"url": PROCEDURE_CLAIM_EXTENSION, "valueString": "eob-7"}])) == "eob-7"
    assert claim_of(_procedure(extension=[{"url": PROCEDURE_CLAIM_EXTENSION, "valueInteger": 7}])) is None
    assert claim_of(_procedure(extension={"url": PROCEDURE_CLAIM_EXTENSION, "valueString": "eob-7"})) == "eob-7"
    assert claim_of(_procedure(extension="junk")) is None


def test_a_drug_test_billed_on_a_day_after_today_is_named_by_its_claim() -> None:
    # A Part B claim whose line's year was keyed wrong: the urine drug test (CPT 80305) billed on a day to come.
    claim = carrier_claim("bb-uds", PATIENT_ID, days_ago(-20), None, "80305")
    facts = run("patient-view", resources=list(claims_read_for_a_hook([claim]).resources)).facts
    [ahead] = urine_drug_test.tests_after_today(
        facts
    )  # named by `undated.future_dated_drug_tests` where the checks read tests
    assert (ahead.kind, ahead.ident) == ("payer claim", "bb-uds")
