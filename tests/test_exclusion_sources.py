"""The general exclusions' codes against their source: every code of the CDC's hospice, end-of-life, terminal and
sickle cell expansions (cqframework/opioid-cds-r4 at b29bdcbf, `input/vocabulary/valueset/`) is read, sent alone
with no words beside it, and an ICD-10-CM cancer code is read however a claim or an EHR writes it.

The codes below are copied from those expansions, not from PainPlan's packaged data, so a rebuild that lost one
fails here (guideline/data/README.md, *Exclusion sets checked against their source*)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from builders import PATIENT_ID
from cds_support import bundle, topics
from synthetic_export import patient
from test_hospice_point_of_care import both_faces, order_sign
from test_payer_code_systems import BLUE_BUTTON_ICD10, carrier_claim, pain_fills, population_row

from guideline import terminology as t
from guideline.config import GuidelineConfig
from guideline.fhirdata import ICD10CM, SNOMED, concept

# The CDC `hospice-procedure` (6) and `therapies-indicating-end-of-life-care` (9) expansions, SNOMED CT only.
CDC_HOSPICE_PROCEDURE = (
    "183919006",  # Urgent admission to hospice
    "183920000",  # Routine admission to hospice
    "183921001",  # Admission to hospice for respite
    "305336008",  # Admission to hospice
    "306205009",  # Referral to hospice
    "428371000124100",  # Discharge to healthcare facility for hospice care
)
CDC_END_OF_LIFE_THERAPIES = (
    "103735009",  # Palliative care
    "182964004",  # Terminal care
    "385763009",  # Hospice care
    "395103003",  # Final days pathway
    "395669003",  # Specialist palliative care treatment
    "395670002",  # Specialist palliative care treatment - inpatient
    "395694002",  # Specialist palliative care treatment - daycare
    "395695001",  # Specialist palliative care treatment - outpatient
    "443761007",  # Anticipatory palliative care
)
CDC_HOSPICE_DISPOSITION = ("385763009", "385765002")  # Hospice care; Hospice care management
CDC_HOSPICE_FINDING = ("170935008", "1891000124102", "1951000124104", "305911006", "448451000124101")
CDC_LIMITED_LIFE_EXPECTANCY = ("111947009", "162607003", "162608008", "170969009", "27143004", "300936002")


@pytest.fixture(scope="module")
def term() -> t.Terminology:
    return t.load_terminology(GuidelineConfig())


def coded(system: str, code: str) -> Any:
    """A concept as the EHR's coding is read: its system under its FHIR name, with no display and no text."""
    return concept({"coding": [{"system": system, "code": code}]})


def test_every_code_of_the_cdc_hospice_and_terminal_expansions_is_in_its_set(term: t.Terminology) -> None:
    sets = {
        t.HOSPICE_PROCEDURE: CDC_HOSPICE_PROCEDURE + CDC_END_OF_LIFE_THERAPIES,
        t.HOSPICE_DISPOSITION: CDC_HOSPICE_DISPOSITION,
        t.HOSPICE_FINDING: CDC_HOSPICE_FINDING,
        t.TERMINAL: CDC_LIMITED_LIFE_EXPECTANCY,
    }
    for set_name, codes in sets.items():
        assert {(SNOMED, code) for code in codes} <= term.codes(set_name), set_name
    # Palliative care Z51.5 is in the CDC's terminal set, as well as read by G5's own rule.
    assert term.contains(t.TERMINAL, coded(ICD10CM, "Z515"))


def hospice_procedure(code: str) -> dict[str, Any]:
    """A completed procedure performed a month and a half before today (2026-06-15), coded by the SNOMED CT code
    alone: no display, no text, so only the code can say it is hospice or end-of-life care."""
    return {
        "resourceType": "Procedure",
        "id": "px-1",
        "status": "completed",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "performedDateTime": "2026-05-01T09:00:00-04:00",
    }


@pytest.mark.parametrize("code", CDC_HOSPICE_PROCEDURE + CDC_END_OF_LIFE_THERAPIES)
def test_a_hospice_or_end_of_life_procedure_coded_only_by_the_cdc_code_excludes_on_order_sign(
    tmp_path: Path, code: str
) -> None:
    assert topics(order_sign(tmp_path)) != []  # the oxycodone draft's cards, without it
    assert topics(order_sign(tmp_path, procedures=bundle(hospice_procedure(code)))) == []


# ICD-10-CM cancer, sickle cell disease and terminal codes as EHRs (dotted) and claims (no dot, lower case, under
# Blue Button's name or the OID) write them.
ICD10_WRITTEN = [
    pytest.param(ICD10CM, ("C50.911", "D57.00", "C25.9"), id="dotted"),
    pytest.param(ICD10CM, ("C50911", "D5700", "C259"), id="no dot"),
    pytest.param(ICD10CM, ("c50911", "d5700", "c259"), id="lower case"),
    pytest.param(BLUE_BUTTON_ICD10, ("C50911", "D5700", "C259"), id="Blue Button"),
    pytest.param("urn:oid:2.16.840.1.113883.6.90", ("C50911", "D5700", "C259"), id="OID"),
]


@pytest.mark.parametrize(("system", "codes"), ICD10_WRITTEN)
def test_an_icd10cm_exclusion_code_is_read_with_or_without_its_dot(
    term: t.Terminology, system: str, codes: tuple[str, str, str]
) -> None:
    # Breast cancer, Hb-SS disease with crisis, pancreatic cancer (the CDC's likely-terminal set).
    cancer, sickle, terminal = codes
    assert term.contains(t.MALIGNANT_CANCER, coded(system, cancer))
    assert term.contains(t.SICKLE_CELL, coded(system, sickle))
    assert term.contains(t.TERMINAL, coded(system, terminal))


def test_a_claim_billing_a_cancer_code_without_its_dot_excludes_from_the_measures(tmp_path: Path) -> None:
    # A Blue Button carrier claim: C50911 (breast cancer) under `sid/icd-10`, no dot, no display, in the period.
    claim = carrier_claim("carrier-ca", "p1", "2026-02-10", "C50911", "99214")
    row = population_row(tmp_path, [patient("p1"), *pain_fills("p1"), claim], "p1")
    excluded = json.loads(row["evidence"]).get("excluded", [])
    assert excluded and excluded[0].startswith("cancer"), excluded
    without = population_row(tmp_path / "none", [patient("p1"), *pain_fills("p1")], "p1")
    assert "excluded" not in json.loads(without["evidence"])


# eCQMs code a discharge to hospice so ("Discharged to Home for Hospice Care", 2.16.840.1.113883.3.117.1.7.1.209, and
# "... to Health Care Facility for Hospice Care", .207), and the second is in the CDC's own hospice-procedure set.
HOSPICE_DISCHARGES = [
    pytest.param("428361000124107", id="discharge to home for hospice care"),
    pytest.param("428371000124100", id="discharge to healthcare facility for hospice care"),
]


def stay_discharged(pid: str, code: str) -> dict[str, Any]:
    """An inpatient stay ended on 25 March 2026, its discharge disposition coded by SNOMED CT alone: in the point of
    care's 90 days (today 2026-06-15) and in the review's history window (to 2026-03-31) alike."""
    return {
        "resourceType": "Encounter",
        "id": "e-dc",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient"},
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": "2026-03-20T09:00:00-04:00", "end": "2026-03-25T11:00:00-04:00"},
        "hospitalization": {"dischargeDisposition": {"coding": [{"system": "http://snomed.info/sct", "code": code}]}},
    }


@pytest.mark.parametrize("code", HOSPICE_DISCHARGES)
def test_a_discharge_to_hospice_coded_as_ecqms_code_it_excludes_on_order_sign_and_from_the_measures(
    tmp_path: Path, code: str
) -> None:
    # Before, only the CDC's hospice-disposition codes (hospice care, hospice care management) were read as a
    # discharge to hospice, so a stay ended by a discharge to hospice read as a discharge home: every opioid card.
    cards, _, excluded, _ = both_faces(tmp_path, lambda pid: {"encounters": bundle(stay_discharged(pid, code))})
    assert (cards, excluded) == (set(), "hospice or palliative care (encounter)")


def test_a_referral_to_hospice_as_a_discharge_disposition_is_no_discharge_to_hospice(tmp_path: Path) -> None:
    # The CDC's hospice-procedure set also holds the referral; a referral is not a discharge into hospice care.
    assert topics(order_sign(tmp_path, encounters=bundle(stay_discharged(PATIENT_ID, "306205009")))) != []
