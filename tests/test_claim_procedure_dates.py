"""A payer claim's procedures are dated as its diagnoses are: a procedure with no date of its own takes the day of
the claim lines that name it (`item.procedureSequence`), else the claim's days of service (its `billablePeriod`,
else its lines' service dates). One reader for both faces (`guideline.population.claims.claim_resources`).

Before, such a procedure read the claim's `billablePeriod` alone. A CARIN Blue Button professional claim may carry
none, its days of service on its lines only: a naltrexone injection billed so was a procedure on no day, so the
patient got "no OUD medication in 90 days" and the injection was named as undated, beside the claim's diagnoses,
which were dated by the very same lines."""

from __future__ import annotations

from typing import Any

from builders import ICD10, PATIENT_ID, card, condition, days_ago, run

from guideline.checks import oud_treatment
from guideline.population.claims import claim_resources, claims_read_for_a_hook
from guideline.undated import undated_procedures

HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"  # as CARIN names it
CPT = "http://www.ama-assn.org/go/cpt"
NALTREXONE_DEPOT = "J2315"  # naltrexone, depot form, 1 mg: a MOUD dose by its billing code


def coded(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def carin_professional_claim(ident: str, visit_day: str, injection_day: str, **extra: Any) -> dict[str, Any]:
    """A CARIN Blue Button professional claim with no billablePeriod: an office visit (99213) on `visit_day` and an
    injection (96372) on `injection_day`, the injection's line naming the drug given, naltrexone depot (J2315), as
    the claim's procedure 1, which carries no date of its own. Billed for opioid use disorder (F11.20)."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "meta": {
            "profile": [
                "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Professional-NonClinician"
            ]
        },
        "status": "active",
        "type": coded("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "created": days_ago(2),  # the day the claim was written: no day of service
        "outcome": "complete",
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": coded(ICD10, "F1120")}],
        "procedure": [{"sequence": 1, "procedureCodeableConcept": coded(HCPCS, NALTREXONE_DEPOT)}],
        "item": [
            {
                "sequence": 1,
                "diagnosisSequence": [1],
                "productOrService": coded(CPT, "99213"),
                "servicedDate": visit_day,
            },
            {
                "sequence": 2,
                "diagnosisSequence": [1],
                "procedureSequence": [1],
                "productOrService": coded(CPT, "96372"),
                "servicedDate": injection_day,
            },
        ],
        **extra,
    }


def procedure_days(claim: dict[str, Any]) -> dict[str, str | None]:
    """Each procedure the claim stands for, by its code, with the day it was performed."""
    return {
        p["code"]["coding"][0]["code"]: p.get("performedDateTime")
        for p in claim_resources(claim)
        if p["resourceType"] == "Procedure"
    }


def test_an_undated_procedure_takes_the_day_of_the_line_that_names_it() -> None:
    claim = carin_professional_claim("eob-1", "2026-05-01", "2026-05-20")
    assert procedure_days(claim) == {"99213": "2026-05-01", "96372": "2026-05-20", NALTREXONE_DEPOT: "2026-05-20"}


def test_the_line_that_names_it_dates_it_within_a_billable_period_too() -> None:
    # The billable period spans the claim's days; the line naming the procedure says which one it was done on.
    claim = carin_professional_claim(
        "eob-1", "2026-05-01", "2026-05-20", billablePeriod={"start": "2026-05-01", "end": "2026-05-20"}
    )
    assert procedure_days(claim)[NALTREXONE_DEPOT] == "2026-05-20"


def test_a_procedure_no_line_names_takes_the_claims_first_day_of_service_as_its_diagnoses_do() -> None:
    claim = carin_professional_claim("eob-1", "2026-05-01", "2026-05-20")
    del claim["item"][1]["procedureSequence"]
    assert procedure_days(claim)[NALTREXONE_DEPOT] == "2026-05-01"
    [diagnosis] = [r for r in claim_resources(claim) if r["resourceType"] == "Condition"]
    assert (diagnosis["recordedDate"], diagnosis["abatementDateTime"]) == ("2026-05-01", "2026-05-20")


def test_a_procedure_dated_by_itself_keeps_its_own_date() -> None:
    claim = carin_professional_claim("eob-1", "2026-05-01", "2026-05-20")
    claim["procedure"][0]["date"] = "2026-05-19"
    assert procedure_days(claim)[NALTREXONE_DEPOT] == "2026-05-19"


def test_a_procedure_of_a_claim_dated_by_nothing_stays_undated() -> None:
    claim = carin_professional_claim("eob-1", "2026-05-01", "2026-05-20")
    for line in claim["item"]:
        del line["servicedDate"]
    assert procedure_days(claim) == {"99213": None, "96372": None, NALTREXONE_DEPOT: None}


def test_a_naltrexone_injection_billed_on_a_line_dated_claim_is_treatment_at_the_point_of_care() -> None:
    # A patient with opioid use disorder on the problem list; the payer's claim bills last month's injection.
    diagnosis = condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated", recorded="2025-11-02")
    assert card(run("patient-view", resources=[diagnosis]), oud_treatment.CHECK_ID) is not None
    claim = carin_professional_claim("eob-1", days_ago(20), days_ago(20))
    read = claims_read_for_a_hook([claim])
    evaluation = run("patient-view", resources=[diagnosis, *read.resources])
    assert card(evaluation, oud_treatment.CHECK_ID) is None
    assert undated_procedures(evaluation.facts) == ()
