"""Payers name code systems their own way: CMS Blue Button 2.0 (and BCDA, which shares its shapes) bills every line
under its own HCPCS system, CPT codes included, and its diagnoses under `http://hl7.org/fhir/sid/icd-10`; CARIN Blue
Button and C-CDA conversions use the systems' OIDs. Every name of a system reaches the same answer as its FHIR URI,
through the real checks, the plan page and the population review.

Before, a naltrexone injection (J2315) or a drug test (G0481, 80305) billed under Blue Button's HCPCS system was not
counted: the patient got "no OUD medication in 90 days" or "Order a urine drug test: none on record", and nothing
said a code had gone unread. A Blue Button diagnosis of opioid use disorder was no diagnosis at all."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from builders import (
    ICD10,
    LOINC,
    NOW,
    RXNORM,
    card,
    condition,
    days_ago,
    dispense,
    med_request,
    observation,
    procedure,
    run,
)
from synthetic_export import OXYCODONE_5, patient, write_export
from synthetic_export import condition as export_condition
from synthetic_export import dispense as export_dispense
from test_drug_test_procedures import annual_monitoring

from guideline.checks import CHECKS, oud_treatment, unexpected_uds_result, urine_drug_test
from guideline.config import GuidelineConfig
from guideline.fhirdata import NDC, canonical_system, concept
from guideline.plan import build_plan
from guideline.population import Period
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"  # the FHIR name (THO) every HCPCS name reads as
CPT = "http://www.ama-assn.org/go/cpt"
BLUE_BUTTON_HCPCS = "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
BLUE_BUTTON_ICD10 = "http://hl7.org/fhir/sid/icd-10"  # Blue Button's name for the ICD-10-CM codes it bills
HCPCS_NAMES = [
    pytest.param(HCPCS, id="HCPCS (THO)"),
    pytest.param("https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", id="HCPCS https (CARIN)"),
    pytest.param("urn:oid:2.16.840.1.113883.6.285", id="HCPCS OID"),
    pytest.param(BLUE_BUTTON_HCPCS, id="Blue Button HCPCS"),
    pytest.param("http://terminology.hl7.org/CodeSystem/HCPCS-all-codes", id="HCPCS all codes"),
    pytest.param("urn:oid:2.16.840.1.113883.6.14", id="HCPCS all codes OID"),
]
CPT_NAMES = [
    pytest.param(CPT, id="CPT"),
    pytest.param("urn:oid:2.16.840.1.113883.6.12", id="CPT OID"),
    # HCPCS level I is CPT: Blue Button bills both levels under its HCPCS system ("92999" in its carrier example).
    pytest.param(BLUE_BUTTON_HCPCS, id="Blue Button HCPCS, level I"),
    pytest.param("http://terminology.hl7.org/CodeSystem/HCPCS-all-codes", id="HCPCS all codes, level I"),
]
ICD10_NAMES = [
    pytest.param(ICD10, "F11.20", id="ICD-10-CM"),
    pytest.param(ICD10, "F1120", id="ICD-10-CM, no dot"),
    pytest.param("urn:oid:2.16.840.1.113883.6.90", "F11.20", id="ICD-10-CM OID"),
    pytest.param("urn:oid:2.16.840.1.113883.6.90", "F1120", id="ICD-10-CM OID, no dot"),
    pytest.param(BLUE_BUTTON_ICD10, "F1120", id="Blue Button ICD-10"),
]
RXNORM_NAMES = [
    pytest.param(RXNORM, id="RxNorm"),
    pytest.param("urn:oid:2.16.840.1.113883.6.88", id="RxNorm OID"),
]
NDC_NAMES = [
    pytest.param(NDC, id="NDC"),
    pytest.param("urn:oid:2.16.840.1.113883.6.69", id="NDC OID"),
]
LOINC_NAMES = [
    pytest.param(LOINC, id="LOINC"),
    pytest.param("urn:oid:2.16.840.1.113883.6.1", id="LOINC OID"),
]

OXYCODONE = "1049621"
SUBOXONE_FILM = "1010604"  # buprenorphine 8 mg / naloxone 2 mg sublingual film
SUBOXONE_NDC = "12496-1208-03"  # mapped to it by this test's crosswalk, as a payer's drug file maps it
OXYCODONE_NDC = "00406-0512-01"
CROSSWALK = {"ndc": {"rxnorm": {SUBOXONE_NDC: SUBOXONE_FILM, OXYCODONE_NDC: OXYCODONE}}}
FENTANYL_SCREEN = "59673-4"  # fentaNYL [Presence] in Urine by Screen method


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for check in (oud_treatment, urine_drug_test, unexpected_uds_result):
        monkeypatch.setitem(CHECKS, check.CHECK_ID, check)


def coded(system: str, code: str) -> dict[str, Any]:
    """A concept as claims send it: one coding, no display, no text."""
    return {"coding": [{"system": system, "code": code}]}


def oud_diagnosis(system: str = ICD10, code: str = "F11.20") -> dict[str, Any]:
    # A diagnosis from a payer's feed carries its code alone: no display to read it by words.
    return condition(system, code, recorded="2025-11-02")


def oud_card(*resources: dict[str, Any], config: dict[str, Any] | None = None):
    return card(run("patient-view", resources=[oud_diagnosis(), *resources], config=config), oud_treatment.CHECK_ID)


def page_treatment(*resources: dict[str, Any]) -> tuple[str, ...]:
    evaluation = run("patient-view", resources=[oud_diagnosis(), *resources])
    return build_plan(evaluation, (), evaluation.facts.config, NOW).by_key["oud"].content.treatment


def long_term_oxycodone() -> dict[str, Any]:
    return med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)


def uds_card(*resources: dict[str, Any]):
    evaluation = run(
        "order-sign",
        drafts=[med_request(OXYCODONE, draft=True, id="d1")],
        resources=[long_term_oxycodone(), *resources],
    )
    return card(evaluation, urine_drug_test.CHECK_ID)


# -- the one reading step ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("system", HCPCS_NAMES)
def test_every_name_of_hcpcs_reads_as_one_system(system: str) -> None:
    assert canonical_system(system) == HCPCS
    found = concept(coded(system, "J2315"))
    assert found is not None and found.codings[0].system == HCPCS


@pytest.mark.parametrize("system", CPT_NAMES)
def test_a_level_one_code_under_any_hcpcs_or_cpt_name_reads_as_cpt(system: str) -> None:
    found = concept(coded(system, "80305"))
    assert found is not None and found.codings[0].system == CPT


@pytest.mark.parametrize(
    "code",
    [
        "0001U",  # proprietary laboratory analyses
        "1125F",  # category II: pain severity quantified
        "0042T",  # category III
        "99213",
    ],
)
def test_every_kind_of_cpt_code_under_blue_buttons_hcpcs_is_cpt_and_level_two_stays_hcpcs(code: str) -> None:
    assert concept(coded(BLUE_BUTTON_HCPCS, code)).codings[0].system == CPT  # type: ignore[union-attr]
    assert concept(coded(BLUE_BUTTON_HCPCS, "J2315")).codings[0].system == HCPCS  # type: ignore[union-attr]
    # A modifier ("LT", "25") is no procedure code; it keeps the HCPCS name it came under.
    assert concept(coded(BLUE_BUTTON_HCPCS, "25")).codings[0].system == HCPCS  # type: ignore[union-attr]


# -- MOUD dose: oud-treatment and the plan page ---------------------------------------------------------------------


@pytest.mark.parametrize("system", HCPCS_NAMES)
def test_a_moud_dose_under_any_name_of_hcpcs_is_treatment_on_the_card_and_the_page(system: str) -> None:
    assert oud_card() is not None
    dose = procedure(system, "J2315", performed=days_ago(20))
    dose["code"] = coded(system, "J2315")
    assert oud_card(dose) is None
    assert page_treatment(dose) == (f"medication for opioid use disorder (HCPCS J2315) (given, {days_ago(20)})",)


# -- drug tests: urine-drug-test, the plan page and the population's annual monitoring -----------------------------

DRUG_TESTS = [
    *(pytest.param(p.values[0], "80305", id=f"80305 {p.id}") for p in CPT_NAMES),
    *(pytest.param(p.values[0], "G0481", id=f"G0481 {p.id}") for p in HCPCS_NAMES),
]


@pytest.mark.parametrize(("system", "code"), DRUG_TESTS)
def test_a_drug_test_under_any_name_of_its_system_is_the_years_test(system: str, code: str) -> None:
    assert uds_card() is not None
    assert uds_card(procedure(system, code, performed=days_ago(30))) is None
    evaluation = run("patient-view", resources=[long_term_oxycodone(), procedure(system, code, performed=days_ago(30))])
    [row] = build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.rows
    assert row.value == "done, no result recorded"


@pytest.mark.parametrize(("system", "code"), DRUG_TESTS)
def test_the_population_review_counts_a_drug_test_under_any_name_for_annual_monitoring(
    tmp_path: Path, system: str, code: str
) -> None:
    billed = procedure(system, code, performed="2026-01-05")
    assert annual_monitoring(tmp_path, "p1", billed) == ("true", "true")


# -- diagnoses: oud-treatment -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("system", "code"), ICD10_NAMES)
def test_an_oud_diagnosis_under_any_name_of_icd10cm_is_read(system: str, code: str) -> None:
    evaluation = run("patient-view", resources=[oud_diagnosis(system, code)])
    found = card(evaluation, oud_treatment.CHECK_ID)
    # Claims send the code without its dot and with no display: it is named by the value set's name for it, as the
    # dotted code is ("F1120: no OUD medication" before).
    assert found is not None
    assert found.summary == "Opioid dependence, uncomplicated: no OUD medication in 90 days; offer treatment"


# -- medications: RxNorm and NDC ---------------------------------------------------------------------------------


@pytest.mark.parametrize("system", RXNORM_NAMES)
def test_an_rxnorm_medication_under_either_name_is_identified(system: str) -> None:
    # 2 tablets every 4 hours of oxycodone 5 mg = 90 MME/day.
    draft = med_request(OXYCODONE, draft=True, id="d1", dose=2, period=4)
    draft["medicationCodeableConcept"] = coded(system, OXYCODONE)
    high = card(run("order-sign", drafts=[draft]), "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary
    fill = dispense(SUBOXONE_FILM, days_ago(20))
    fill["medicationCodeableConcept"] = coded(system, SUBOXONE_FILM)
    assert oud_card(fill) is None


@pytest.mark.parametrize("system", NDC_NAMES)
def test_an_ndc_medication_under_either_name_is_identified_through_the_crosswalk(system: str) -> None:
    draft = med_request(OXYCODONE, draft=True, id="d1", dose=2, period=4)
    draft["medicationCodeableConcept"] = coded(system, OXYCODONE_NDC)
    high = card(run("order-sign", drafts=[draft], config=CROSSWALK), "high-mme")
    assert high is not None and "90.0 MME/day" in high.summary
    fill = dispense(SUBOXONE_FILM, days_ago(20))
    fill["medicationCodeableConcept"] = coded(system, SUBOXONE_NDC)
    assert oud_card(config=CROSSWALK) is not None
    assert oud_card(fill, config=CROSSWALK) is None


# -- urine drug test results: LOINC ------------------------------------------------------------------------------


@pytest.mark.parametrize("system", LOINC_NAMES)
def test_a_urine_drug_test_result_under_either_name_of_loinc_is_read(system: str) -> None:
    result = observation(FENTANYL_SCREEN, system=system, when=days_ago(20), value_string="Positive")
    assert uds_card(result) is None
    evaluation = run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="d1")], resources=[result])
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    assert found is not None and "positive for fentanyl" in found.summary


# -- claims as CMS Blue Button 2.0 sends them, read by the population review -------------------------------------

PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))
TODAY = date(2026, 4, 15)


def carrier_claim(ident: str, pid: str, day: str, diagnosis: str | None, line: str | None) -> dict[str, Any]:
    """A Part B carrier claim as Blue Button 2.0 (R4) sends it: the diagnosis under `sid/icd-10` without its dot, the
    line under Blue Button's HCPCS system, CPT or level II alike, with no display."""
    claim: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {
            "coding": [
                {"system": "https://bluebutton.cms.gov/resources/variables/nch_clm_type_cd", "code": "71"},
                {"system": "https://bluebutton.cms.gov/resources/codesystem/eob-type", "code": "CARRIER"},
                {"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"},
            ]
        },
        "use": "claim",
        "patient": {"reference": f"Patient/{pid}"},
        "billablePeriod": {"start": day, "end": day},
        "diagnosis": [],
        "item": [],
    }
    if diagnosis:
        claim["diagnosis"].append(
            {
                "sequence": 1,
                "diagnosisCodeableConcept": coded(BLUE_BUTTON_ICD10, diagnosis),
                "type": [
                    {
                        "coding": [
                            {"system": "http://terminology.hl7.org/CodeSystem/ex-diagnosistype", "code": "principal"}
                        ]
                    }
                ],
            }
        )
    if line:
        claim["item"].append(
            {
                "sequence": 1,
                "productOrService": coded(BLUE_BUTTON_HCPCS, line),
                "servicedPeriod": {"start": day, "end": day},
                "quantity": {"value": 1.0},
            }
        )
    return claim


def population_row(folder: Path, resources: list[dict[str, Any]], pid: str) -> dict[str, str]:
    write_export(folder / "in", resources)
    review(ndjson_files(folder / "in"), folder / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    with open(folder / "out" / "patients.csv", encoding="utf-8") as handle:
        return next(row for row in csv.DictReader(handle) if row["patient_id"] == pid)


def pain_fills(pid: str) -> list[dict[str, Any]]:
    return [
        export_dispense(f"{pid}-f{n}", pid, OXYCODONE_5, day, 60, 30, "drB", "ph1")
        for n, day in enumerate(("2025-05-01", "2025-06-01", "2025-07-01", "2026-01-05"), 1)
    ]


@pytest.mark.parametrize("line", ["80305", "G0481"])
def test_a_blue_button_carrier_claim_for_a_drug_test_counts_for_annual_monitoring(tmp_path: Path, line: str) -> None:
    claim = carrier_claim("carrier-1", "p1", "2026-02-10", None, line)
    assert annual_monitoring(tmp_path, "p1", claim) == ("true", "true")


def test_a_blue_button_carrier_claim_for_opioid_use_disorder_puts_the_patient_in_the_naloxone_measure(
    tmp_path: Path,
) -> None:
    # 60 tablets of oxycodone 5 mg for 30 days is 15 MME/day: no dose risk, so only the diagnosis brings naloxone in.
    claim = carrier_claim("carrier-1", "p1", "2026-02-10", "F1120", "99214")
    row = population_row(tmp_path, [patient("p1"), *pain_fills("p1"), claim], "p1")
    assert row["nal_den"] == "true"
    without = population_row(tmp_path / "none", [patient("p1"), *pain_fills("p1")], "p1")
    assert without["nal_den"] == "false"


def test_a_blue_button_claim_for_a_naltrexone_injection_is_treatment_in_the_standing_review(tmp_path: Path) -> None:
    diagnosis = export_condition("dx1", "p1", ICD10, "F11.20")
    injection = carrier_claim("carrier-1", "p1", "2026-03-10", "F1120", "J2315")
    treated = population_row(tmp_path, [patient("p1"), *pain_fills("p1"), diagnosis, injection], "p1")
    assert "oud-treatment" not in treated["findings"]
    untreated = population_row(tmp_path / "none", [patient("p1"), *pain_fills("p1"), diagnosis], "p1")
    assert "oud-treatment" in untreated["findings"]
