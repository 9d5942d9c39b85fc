"""Population review on a hand-built export: each measure, exclusions, attribution and data quality, hand-computed."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from synthetic_export import (
    ALPRAZOLAM,
    FENTANYL_25,
    HYDROCODONE_10,
    ICD10,
    LISINOPRIL,
    MORPHINE_ER_15,
    NALOXONE_SPRAY,
    OXYCODONE_5,
    OXYCODONE_10,
    SUBOXONE_8,
    TRAMADOL_50,
    condition,
    dispense,
    hospice_encounter,
    medication_concept,
    order,
    organization,
    patient,
    practitioner,
    role,
    urine_test,
    write_export,
)

from guideline.config import GuidelineConfig
from guideline.fhirdata import RXNORM, Coding, Concept
from guideline.population import Period
from guideline.population.exclusions import exclusion_reason
from guideline.population.medicines import medication_kind
from guideline.record import ResolvedMedication, build_record
from guideline.terminology import load_terminology
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))
TODAY = date(2026, 4, 15)


def _high_dose(pid: str, prescriber: str = "drA") -> list[dict]:
    """Oxycodone 10 mg, 180 tablets for 30 days, twice: 6 tablets × 10 mg × 1.5 = 90 MME/day for 60 days."""
    return [
        dispense(f"{pid}-f1", pid, OXYCODONE_10, "2026-01-05", 180, 30, prescriber, "ph1"),
        dispense(f"{pid}-f2", pid, OXYCODONE_10, "2026-02-04", 180, 30, prescriber, "ph1"),
    ]


def build_export() -> list:
    resources: list = [
        practitioner("drA", "Dr. Ana Alvarez"),
        practitioner("drB", "Dr. Ben Brown"),
        practitioner("drC", "Dr. Cam Chen"),
        *(practitioner(f"dr{n}") for n in range(1, 5)),
        organization("orgA", "Alvarez Family Practice"),
        organization("orgB", "Brown Internal Medicine"),
        *(organization(f"ph{n}", f"Pharmacy {n}", kind="other") for n in range(1, 5)),
        role("roleA", "drA", "orgA"),
        role("roleB", "drB", "orgB"),
        # OHD: 90 MME/day average; new start; no naloxone → NAL denominator without numerator.
        patient("p-ohd", "1970-05-01", "Practitioner/drA", "Ohd"),
        *_high_dose("p-ohd"),
        # OMP: four prescribers and four pharmacies, 30 MME/day; PCP through a PractitionerRole.
        patient("p-omp", "1980-01-01", "PractitionerRole/roleB", "Omp"),
        *(
            dispense(f"omp{n}", "p-omp", OXYCODONE_5, day, 56, 14, f"dr{n}", f"ph{n}")
            for n, day in enumerate(("2026-01-02", "2026-01-16", "2026-01-30", "2026-02-13"), 1)
        ),
        # COB: hydrocodone 30 MME/day with alprazolam; no PCP, prescriber drC; naloxone in hand; tested in 12 months.
        patient("p-cob", "1960-01-01", None, "Cob"),
        dispense("cob0", "p-cob", HYDROCODONE_10, "2025-11-01", 90, 30, "drC", "ph2"),
        # 02:30 UTC is January 9 in New York; the date as written (January 10) is the fill date.
        dispense("cob1", "p-cob", HYDROCODONE_10, "2026-01-10T02:30:00Z", 90, 30, "drC", "ph2"),
        dispense("cob2", "p-cob", HYDROCODONE_10, "2026-02-09", 90, 30, "drC", "ph2"),
        dispense("cob-b1", "p-cob", ALPRAZOLAM, "2026-01-15", 60, 30, "drB", "ph2"),
        dispense("cob-b2", "p-cob", ALPRAZOLAM, "2026-02-14", 60, 30, "drB", "ph2"),
        dispense("cob-n", "p-cob", NALOXONE_SPRAY, "2025-12-01", 2, 1, "drC", "ph2"),
        urine_test("cob-u", "p-cob", "2025-06-01"),
        # Sickle cell disease (D57.1) excludes; sickle-cell trait (D57.3) does not.
        patient("p-sickle", "1990-01-01", "Practitioner/drA"),
        *_high_dose("p-sickle"),
        condition("sc1", "p-sickle", ICD10, "D57.1"),
        patient("p-trait", "1990-01-01", "Practitioner/drA", "Trait"),
        *_high_dose("p-trait"),
        condition("sc2", "p-trait", ICD10, "D57.3"),
        # Cancer excludes while active; a resolved cancer does not.
        patient("p-cancer", "1950-01-01", "Practitioner/drA"),
        *_high_dose("p-cancer"),
        condition("ca1", "p-cancer", ICD10, "C50.911"),
        patient("p-cancer-old", "1950-01-01", "Practitioner/drB"),
        dispense(
            "cao1",
            "p-cancer-old",
            TRAMADOL_50,
            "2026-03-01",
            20,
            5,
        ),  # fmt: skip
        condition("ca2", "p-cancer-old", ICD10, "C50.911", status="resolved"),
        # Hospice in the history window excludes.
        patient("p-hospice", "1940-01-01", "Practitioner/drA"),
        *_high_dose("p-hospice"),
        hospice_encounter("h1", "p-hospice", "2026-02-01"),
        # Under 18 on the first day of the period: a row, in no denominator.
        patient("p-child", "2010-06-01", "Practitioner/drA"),
        *_high_dose("p-child"),
        # New long-acting start, unattributed (no PCP, no prescriber known).
        patient("p-la", "1975-01-01", None),
        dispense("la1", "p-la", MORPHINE_ER_15, "2026-03-01", 60, 30, None, "ph3"),
        # AMO: 120 days' supply in the 12 months, no urine drug test.
        patient("p-amo", "1965-01-01", "Practitioner/drB"),
        *(
            dispense(f"amo{n}", "p-amo", OXYCODONE_5, day, 60, 30, "drB", "ph1")
            for n, day in enumerate(("2025-05-01", "2025-06-01", "2025-07-01", "2026-01-05"), 1)
        ),
        # AMO met by a urine drug screen the lab sent with only its own code (no LOINC): read by its name.
        patient("p-amo-local", "1965-01-01", "Practitioner/drB"),
        *(
            dispense(f"amol{n}", "p-amo-local", OXYCODONE_5, day, 60, 30, "drB", "ph1")
            for n, day in enumerate(("2025-05-01", "2025-06-01", "2025-07-01", "2026-01-05"), 1)
        ),
        {
            **urine_test("amol-u", "p-amo-local", "2026-01-05"),
            "code": {
                "coding": [{"system": "http://lab.example/codes", "code": "TOX9", "display": "DRUG SCREEN, URINE"}]
            },
        },
        # NAL by diagnosis: opioid use disorder, naloxone ordered; buprenorphine for OUD is not a pain opioid.
        patient("p-oud", "1985-01-01", "Practitioner/drB"),
        dispense("oud1", "p-oud", OXYCODONE_5, "2026-02-01", 20, 5, "drB", "ph1"),
        dispense("oud2", "p-oud", SUBOXONE_8, "2026-02-10", 28, 28, "drB", "ph1"),
        condition("oudc", "p-oud", ICD10, "F11.20"),
        order("oudn", "p-oud", NALOXONE_SPRAY, "2026-02-01", "drB"),
        # Fill without days' supply, derived from its order (2 a day × 10 days); and one with no order at all.
        patient("p-derived", "1970-01-01", "Practitioner/drB"),
        order("dr1", "p-derived", OXYCODONE_5, "2026-01-20", "drB", per_day=2, days=10, status="completed"),
        dispense("dv1", "p-derived", OXYCODONE_5, "2026-01-20", 20, None, None, "ph1", order="dr1"),
        patient("p-nodays", "1970-01-01", "Practitioner/drB"),
        dispense("nd1", "p-nodays", FENTANYL_25, "2026-02-01", 10, None, "drB", "ph1"),
        # Known only by its brand name, as text: recognised as oxycodone 5 mg (4 a day × 5 mg × 1.5 = 30 MME/day).
        patient("p-text", "1970-01-01", "Practitioner/drB"),
        dispense(
            "tx1",
            "p-text",
            None,
            "2026-02-01",
            20,
            5,
            "drB",
            "ph1",
            concept=medication_concept(text="Percocet 5/325 tablet"),
        ),
        # Not in the cohort: a blood-pressure tablet, an NDC-only medicine.
        patient("p-none", "1970-01-01", "Practitioner/drA"),
        dispense("bp1", "p-none", LISINOPRIL, "2026-02-01", 30, 30, "drA", "ph1"),
        patient("p-ndc", "1970-01-01", "Practitioner/drA"),
        dispense(
            "ndc1",
            "p-ndc",
            None,
            "2026-02-01",
            30,
            30,
            "drA",
            "ph1",
            concept=medication_concept(None, ndc="00406-0552-01"),
        ),  # fmt: skip
        # An opioid order with no start date cannot be placed in the period: left out, and counted.
        {k: v for k, v in order("und1", "p-ndc", OXYCODONE_5, "2026-02-01", "drA").items() if k != "authoredOn"},
        # Bad input: a malformed line and a resource type the review does not read.
        '{"resourceType": "Patient", "id": ',
        {"resourceType": "Basic", "id": "b1", "subject": {"reference": "Patient/p-ohd"}},
    ]
    return resources


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("population")
    write_export(folder / "in", build_export())
    lines = review(
        ndjson_files(folder / "in"), folder / "out", PERIOD, TODAY, GuidelineConfig.from_mapping(), workers=1
    )
    (folder / "summary.txt").write_text("\n".join(lines))
    return folder


def _patients(run: Path) -> dict[str, dict[str, str]]:
    with open(run / "out" / "patients.csv", encoding="utf-8") as handle:
        return {row["patient_id"]: row for row in csv.DictReader(handle)}


def _flags(row: dict[str, str]) -> dict[str, tuple[bool, bool]]:
    ids = ("ohd", "omp", "ohdmp", "cob", "iop_hd", "iop_ld", "iop_la", "amo", "nal")
    return {m: (row[f"{m}_den"] == "true", row[f"{m}_num"] == "true") for m in ids}


NONE = (False, False)
DEN = (True, False)
BOTH = (True, True)


def test_cohort_is_patients_with_pain_opioids(run):
    assert set(_patients(run)) == {
        "p-ohd", "p-omp", "p-cob", "p-sickle", "p-trait", "p-cancer", "p-cancer-old", "p-hospice", "p-child",
        "p-la", "p-amo", "p-amo-local", "p-oud", "p-derived", "p-nodays", "p-text",
    }  # fmt: skip


def test_high_dosage(run):
    row = _patients(run)["p-ohd"]
    assert (row["episode_start"], row["episode_end"]) == ("2026-01-05", "2026-03-05")
    assert float(row["avg_mme"]) == 90.0 and float(row["peak_mme"]) == 90.0
    assert _flags(row) == {
        "ohd": BOTH, "omp": DEN, "ohdmp": DEN, "cob": DEN,
        "iop_hd": BOTH, "iop_ld": BOTH, "iop_la": DEN, "amo": NONE, "nal": DEN,
    }  # fmt: skip
    evidence = json.loads(row["evidence"])
    assert any(
        "180 ÷ 30 days' supply = 6 per day = 60 mg/day oxycodone × 1.5 = 90.0 MME/day" in line
        for line in evidence["OHD"]
    )
    assert "(90.0 × 30 days + 90.0 × 30 days) ÷ 60 = 90.0 MME/day" in evidence["OHD"][-1]


def test_multiple_providers(run):
    row = _patients(run)["p-omp"]
    assert (row["prescribers"], row["pharmacies"], row["opioid_fills"]) == ("4", "4", "4")
    assert float(row["avg_mme"]) == 30.0
    assert (row["attribution"], row["pcp_id"], row["practice_id"]) == ("pcp", "drB", "orgB")
    assert _flags(row) == {
        "ohd": DEN, "omp": BOTH, "ohdmp": DEN, "cob": DEN,
        "iop_hd": DEN, "iop_ld": BOTH, "iop_la": DEN, "amo": NONE, "nal": NONE,
    }  # fmt: skip


def test_opioid_with_benzodiazepine(run):
    row = _patients(run)["p-cob"]
    # Hydrocodone covers Jan 10 – Mar 10, alprazolam Jan 15 – Mar 15: 17 + 28 + 10 days together.
    assert row["cob_overlap_days"] == "55"
    assert (row["attribution"], row["pcp_id"]) == ("prescriber", "drC")
    assert _flags(row) == {
        "ohd": DEN, "omp": DEN, "ohdmp": DEN, "cob": BOTH,
        "iop_hd": NONE, "iop_ld": NONE, "iop_la": NONE, "amo": BOTH, "nal": BOTH,
    }  # fmt: skip


def test_exclusions(run):
    patients = _patients(run)
    for pid, reason in (("p-sickle", "sickle"), ("p-cancer", "cancer"), ("p-hospice", "hospice"), ("p-child", "18")):
        row = patients[pid]
        assert reason in row["excluded"]
        assert all(flags == NONE for flags in _flags(row).values()), pid
    trait = patients["p-trait"]
    assert trait["excluded"] == ""
    assert _flags(trait)["ohd"] == BOTH
    assert patients["p-cancer-old"]["excluded"] == ""
    assert _flags(patients["p-cancer-old"])["iop_hd"] == DEN


def test_initial_long_acting_and_unattributed(run):
    row = _patients(run)["p-la"]
    assert (row["attribution"], row["pcp_id"]) == ("none", "")
    # 60 tablets ÷ 30 days × 15 mg morphine × 1 = 30 MME/day: not high, but 30 days and long-acting.
    assert _flags(row)["iop_hd"] == DEN and _flags(row)["iop_ld"] == BOTH and _flags(row)["iop_la"] == BOTH


def test_annual_monitoring_and_naloxone_by_diagnosis(run):
    patients = _patients(run)
    assert _flags(patients["p-amo"])["amo"] == DEN
    assert _flags(patients["p-amo-local"])["amo"] == BOTH  # the same patient, with a locally coded screen
    assert _flags(patients["p-amo"])["ohd"] == NONE  # one fill in the period
    oud = patients["p-oud"]
    assert oud["opioid_fills"] == "1"  # buprenorphine for OUD is not a pain opioid
    assert _flags(oud)["nal"] == BOTH


def test_medicine_known_only_by_name(run):
    row = _patients(run)["p-text"]
    assert (row["avg_mme"], row["opioid_fills"]) == ("30.0", "1")


def test_days_supply_from_the_order_or_reported(run):
    patients = _patients(run)
    assert patients["p-derived"]["days_supply"] == "10.0"
    assert patients["p-nodays"]["days_supply"] == "0.0" and patients["p-nodays"]["avg_mme"] == ""
    quality = json.loads((run / "out" / "data-quality.json").read_text())
    assert quality["fills_without_days_supply"] == 1


def test_data_quality(run):
    quality = json.loads((run / "out" / "data-quality.json").read_text())
    assert quality["malformed_lines"] == 1
    assert quality["unexpected_resource_types"] == {"Basic": 1}
    assert quality["unidentified_medications"] == [
        {"system": "http://hl7.org/fhir/sid/ndc", "code": "00406-0552-01", "text": "NDC 00406-0552-01", "count": 1}
    ]
    assert quality["unattributed_patients"] == 1
    assert quality["orders_without_date"] == 1
    assert quality["resources_by_type"]["MedicationDispense"] == 39
    summary = (run / "summary.txt").read_text()
    assert "1 malformed line skipped" in summary and "1 patient attributed to no clinician" in summary
    assert "1 order without a start date (left out)" in summary


def test_measures_table(run):
    with open(run / "out" / "measures.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    overall = {r["measure"]: r for r in rows if r["level"] == "overall"}
    # OHD denominator: p-ohd, p-omp, p-cob, p-trait; numerator p-ohd, p-trait.
    assert (overall["OHD"]["denominator"], overall["OHD"]["numerator"], overall["OHD"]["rate"]) == ("4", "2", "0.5")
    assert (overall["NAL"]["denominator"], overall["NAL"]["numerator"]) == ("4", "2")  # ohd, trait, cob, oud
    assert overall["AMO"]["better"] == "higher" and overall["COB"]["better"] == "lower"
    drb = {r["measure"]: r for r in rows if r["level"] == "pcp" and r["unit"] == "drB"}
    assert (drb["OMP"]["denominator"], drb["OMP"]["numerator"]) == ("1", "1")
    practices = {r["unit"] for r in rows if r["level"] == "practice"}
    assert {"orgA", "orgB", "unattributed"} <= practices


def test_fills_left_out_for_their_status_are_counted_by_status(tmp_path: Path) -> None:
    write_export(
        tmp_path / "in",
        [
            patient("p-status"),
            dispense("s-done", "p-status", OXYCODONE_5, "2026-02-01", 60, 30),
            dispense("s-open", "p-status", OXYCODONE_5, "2026-03-01", 60, 30, status="in-progress"),
            dispense("s-void", "p-status", ALPRAZOLAM, "2026-03-02", 30, 30, status="entered-in-error"),
            dispense("s-lisin", "p-status", LISINOPRIL, "2026-03-03", 30, 30, status="cancelled"),  # not relevant
        ],
    )
    lines = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["fills_not_counted_by_status"] == {"entered-in-error": 1, "in-progress": 1}
    assert "2 fills not counted for their status (entered-in-error 1, in-progress 1)" in "\n".join(lines)
    assert _patients(tmp_path)["p-status"]["opioid_fills"] == "1"  # only the completed fill


def test_nested_order_dates_are_read_as_written_without_a_zone_change(tmp_path: Path) -> None:
    # 02:00 UTC on 1 April is still 31 March in New York; as written it is April, after the period, so the
    # order-only patient is not in the cohort.
    late = order("o-late", "p-late", OXYCODONE_5, "2026-04-01", per_day=4, days=30)
    late["dispenseRequest"]["validityPeriod"] = {"start": "2026-04-01T02:00:00Z"}
    in_period = order("o-in", "p-in", OXYCODONE_5, "2026-04-01", per_day=4, days=30)
    in_period["dispenseRequest"]["validityPeriod"] = {"start": "2026-03-31T23:00:00-04:00"}
    write_export(tmp_path / "in", [patient("p-late"), late, patient("p-in"), in_period])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    assert set(_patients(tmp_path)) == {"p-in"}


def test_a_resource_type_sent_as_a_list_or_object_does_not_cost_the_patient() -> None:
    from guideline.population import Directory, evaluate_patient

    fills = [
        dispense(f"f{n}", "p-odd", OXYCODONE_10, day, 120, 30) for n, day in enumerate(("2026-01-05", "2026-02-04"))
    ]
    directory = Directory(roles={}, practitioner_orgs={}, names={}, conflicts=0)
    config = GuidelineConfig.from_mapping()
    plain = evaluate_patient("p-odd", [patient("p-odd"), *fills], PERIOD, config, TODAY, directory)
    for odd_type in (["MedicationDispense"], {"value": "MedicationDispense"}):
        odd = {"resourceType": odd_type, "id": "x", "subject": {"reference": "Patient/p-odd"}}
        outcome = evaluate_patient("p-odd", [patient("p-odd"), *fills, odd], PERIOD, config, TODAY, directory)
        assert outcome.row is not None and outcome.row == plain.row


def test_a_broken_unicode_escape_in_a_name_shows_as_a_replacement_character(tmp_path: Path) -> None:
    # json.loads reads "\ud800" (half of a pair) into text that UTF-8 cannot hold: Parquet, the CSV and the
    # dashboard would refuse it, and one such name used to stop the whole run.
    fills = [
        dispense(f"s{n}", "p-sur", OXYCODONE_10, day, 120, 30, "drS")
        for n, day in enumerate(("2026-01-05", "2026-02-04"))
    ]
    unnamed = {**dispense("s9", "p-sur", None, "2026-02-10", 30, 30), "medicationCodeableConcept": {"text": "PILL"}}
    write_export(
        tmp_path / "in", [patient("p-sur", gp="drS", name="NAME"), *fills, unnamed, practitioner("drS", "DOC")]
    )
    for path in (tmp_path / "in").glob("*.ndjson"):
        text = path.read_text(encoding="utf-8")
        for plain, broken in (("NAME", "Al\\udc00ex"), ("DOC", "Dr. \\ud800Sam"), ("PILL", "pill \\ud800")):
            text = text.replace(f'"{plain}"', f'"{broken}"')
        path.write_text(text, encoding="utf-8")
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    [row] = [r for r in _patients(tmp_path).values()]
    assert row["patient_name"] == "Alex Al\ufffdex" and row["pcp_name"] == "Dr. \ufffdSam"
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text(encoding="utf-8"))
    assert {"system": "", "code": "", "text": "pill \ufffd", "count": 1} in quality["unidentified_medications"]


@pytest.mark.parametrize(
    ("rxcui", "kind"),
    [
        ("1010604", "moud"),  # Suboxone film
        ("1996189", "moud"),  # Sublocade: was counted as a pain opioid fill
        ("2639027", "moud"),  # Brixadi: was not relevant
        ("1049621", "opioid"),  # oxycodone 5 mg
        ("205533", "opioid"),  # Buprenex injection, for pain
    ],
)
def test_buprenorphine_for_opioid_use_disorder_is_never_a_pain_opioid_fill(rxcui: str, kind: str) -> None:
    medication = ResolvedMedication(concept=Concept((Coding(RXNORM, rxcui, None),)))
    assert medication_kind(medication, load_terminology(GuidelineConfig.from_mapping({}))) == kind


def test_opioid_fills_naming_no_prescriber_or_pharmacy_are_counted(tmp_path: Path) -> None:
    """OMP counts distinct prescribers and pharmacies: a fill that names neither counts towards none, so the run
    says how many there were instead of undercounting in silence."""
    fills = [
        dispense("q1", "p1", OXYCODONE_5, "2026-01-05", 60, 30, "drA", "ph1"),
        dispense("q2", "p1", OXYCODONE_5, "2026-02-04", 60, 30, None, None),
        dispense("q3", "p1", OXYCODONE_5, "2025-06-04", 60, 30, None, None),  # before the period: not counted
    ]
    write_export(tmp_path / "in", [patient("p1", "1970-01-01"), *fills])
    lines = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert (quality["fills_without_prescriber"], quality["fills_without_pharmacy"]) == (1, 1)
    assert any("1 opioid fill naming no prescriber (OMP may be undercounted)" in line for line in lines)


def test_proposals_plans_and_reported_medications_are_not_prescriptions_and_are_counted(tmp_path: Path) -> None:
    # An order the EHR only proposes or plans was never prescribed, and the hook cards leave it out too; a medication
    # reported as taken (Oracle Health's documented home medication) was prescribed elsewhere. The PQA measures
    # count prescriptions, so none of these makes a patient high-dose, and each is counted where it was left out.
    proposed = order("o-prop", "p-prop", OXYCODONE_10, "2026-02-01", per_day=12, days=30)
    proposed["intent"] = "proposal"
    planned = order("o-plan", "p-prop", OXYCODONE_10, "2026-02-01", per_day=12, days=30)
    planned["intent"] = "plan"
    reported = order("o-home", "p-prop", OXYCODONE_10, "2026-02-01", per_day=12, days=30)
    reported.update(intent="plan", reportedBoolean=True)
    ordered = order("o-real", "p-prop", OXYCODONE_5, "2026-02-01", per_day=2, days=30)
    write_export(tmp_path / "in", [patient("p-prop"), proposed, planned, reported, ordered])
    lines = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    row = _patients(tmp_path)["p-prop"]
    assert row["source"] == "orders"
    assert float(row["peak_mme"]) == 15.0  # oxycodone 5 mg twice a day: the one order prescribed here
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["orders_not_counted_by_intent"] == {"plan": 1, "plan (reported as taken)": 1, "proposal": 1}
    assert "3 orders not counted for their intent (plan 1, plan (reported as taken) 1, proposal 1)" in "\n".join(lines)


def test_a_fill_is_tied_to_the_prescription_not_to_a_medication_reported_as_taken(tmp_path: Path) -> None:
    # A fill naming no order is tied to an order of the same drug covering its date. A documented home medication
    # (reported, intent plan, no prescriber) of that drug started later was the nearer match, and took the
    # prescription's prescriber from the fill.
    prescription = order("o-rx", "p-tie", OXYCODONE_5, "2026-01-30", requester="drA", per_day=4, days=30)
    home = order("o-home", "p-tie", OXYCODONE_5, "2026-01-31", per_day=4, days=30)
    home.update(intent="plan", reportedBoolean=True)
    fill = dispense("f-tie", "p-tie", OXYCODONE_5, "2026-02-01", 120, 30, pharmacy="ph1")
    write_export(tmp_path / "in", [patient("p-tie"), prescription, home, fill])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["fills_without_prescriber"] == 0
    assert _patients(tmp_path)["p-tie"]["prescribers"] == "1"


def test_orders_left_out_for_their_status_are_counted_by_status(tmp_path: Path) -> None:
    # Fills left out for their status were counted; orders were dropped unseen. An EHR export whose discontinued
    # prescriptions are all "stopped" then showed fewer opioid patients with nothing to say why.
    write_export(
        tmp_path / "in",
        [
            patient("p-ord"),
            order("o-done", "p-ord", OXYCODONE_5, "2026-02-01", per_day=2, days=30, status="completed"),
            order("o-stop", "p-ord", OXYCODONE_10, "2026-02-10", per_day=4, days=30, status="stopped"),
            order("o-hold", "p-ord", ALPRAZOLAM, "2026-02-11", per_day=1, days=30, status="on-hold"),
            order("o-lisin", "p-ord", LISINOPRIL, "2026-02-12", per_day=1, days=30, status="stopped"),  # not relevant
        ],
    )
    lines = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["orders_not_counted_by_status"] == {"on-hold": 1, "stopped": 1}
    assert "2 orders not counted for their status (on-hold 1, stopped 1)" in "\n".join(lines)


def test_a_medication_reported_as_taken_is_prior_use_for_a_new_start(tmp_path: Path) -> None:
    # A documented home opioid is no prescription here, but it is opioid use: a fill a week into it starts nothing.
    new_fill = dispense("f-new", "p-home", OXYCODONE_10, "2026-02-01", 180, 30)
    home = order("o-home", "p-home", OXYCODONE_5, "2026-01-25", per_day=4, days=30)
    home.update(intent="plan", reportedBoolean=True)
    write_export(tmp_path / "with", [patient("p-home"), new_fill, home])
    write_export(tmp_path / "without", [patient("p-home"), new_fill])
    for folder, starts in (("with", False), ("without", True)):
        review(
            ndjson_files(tmp_path / folder), tmp_path / folder / "out", PERIOD, TODAY, GuidelineConfig.from_mapping()
        )
        with open(tmp_path / folder / "out" / "patients.csv", encoding="utf-8") as handle:
            row = next(r for r in csv.DictReader(handle) if r["patient_id"] == "p-home")
        assert _flags(row)["iop_hd"][0] is starts, folder


def _measure_exclusion(*resources: dict) -> str | None:
    """The measure exclusion for one patient's resources, over calendar 2026."""
    config = GuidelineConfig.from_mapping({})
    record = build_record(list(resources), ZoneInfo("America/New_York"))
    return exclusion_reason(record, {}, Period(date(2026, 1, 1), date(2026, 12, 31)), config, load_terminology(config))


def test_a_palliative_visit_by_its_reason_and_a_tentative_diagnosis_as_at_the_point_of_care() -> None:
    # As at the point of care: a visit billed Z51.5 (its reason, no diagnosis of its own) is palliative care, and a
    # cancer still being ruled out excludes no one from the measures.
    visit = {"resourceType": "Encounter", "id": "e1", "status": "finished", "period": {"start": "2026-03-01"}}
    visit["reasonCode"] = [{"coding": [{"system": ICD10, "code": "Z51.5"}]}]
    assert _measure_exclusion(visit) == "palliative care (Z51.5)"
    suspected = condition("c1", "p1", ICD10, "C50.911", "2026-02-01")
    suspected["verificationStatus"] = {"coding": [{"code": "differential"}]}
    assert _measure_exclusion(suspected) is None


def test_a_visit_of_the_hospice_service_by_its_type_excludes_as_at_the_point_of_care() -> None:
    # A hospice visit known only by its type (here Epic's visit type named hospice) excludes at the point of care;
    # read from discharges and reasons only, the review counted the same patient in its measures.
    visit = {**hospice_encounter("h1", "p1", "2026-02-01"), "type": [{"text": "Hospice Home Visit"}]}
    del visit["hospitalization"]
    assert _measure_exclusion(visit) == "hospice or palliative care (encounter)"
    visit["type"] = [{"text": "Office Visit"}]
    assert _measure_exclusion(visit) is None


@pytest.mark.parametrize(
    ("visit_type", "excluded"),
    [
        ("Hospice Plan of Care", True),
        ("Hospice visit (prior auth)", True),
        ("Hospice refused", False),
        ("Hospice Referral", False),
        ("HOSPICE EVAL", False),
    ],
)
def test_the_review_reads_a_hospice_visit_type_as_the_point_of_care_does(visit_type: str, excluded: bool) -> None:
    # The review reads a visit's type with the point of care's reader: the hospice team's "Plan of Care" visit is
    # hospice care, a referral or an evaluation is not; read with the problem list's words, the first counted a
    # hospice patient in every measure.
    visit = {**hospice_encounter("h1", "p1", "2026-02-01"), "type": [{"text": visit_type}]}
    del visit["hospitalization"]
    assert _measure_exclusion(visit) == ("hospice or palliative care (encounter)" if excluded else None)


def test_a_diagnosis_known_only_by_its_words_excludes_as_at_the_point_of_care() -> None:
    # An outside record's "Sickle cell disease" with no code excludes at the point of care; the review read it too.
    scd = condition("c1", "p1", ICD10, "D57.1", "2026-02-01")
    scd["code"] = {"text": "Sickle cell disease"}
    assert _measure_exclusion(scd) == "sickle cell disease (Sickle cell disease)"
    scd["code"] = {"text": "Sickle cell trait"}
    assert _measure_exclusion(scd) is None


def test_a_drug_test_the_lab_did_not_perform_or_has_not_resulted_is_no_annual_test(tmp_path: Path) -> None:
    # As at the point of care: "TNP" (test not performed) or a result still "registered" is no drug test done, so
    # the patient is not in the AMO numerator; read as a test, the review credited monitoring that never happened.
    fills = [
        dispense(f"m{n}", "p-mon", OXYCODONE_5, day, 60, 30)
        for n, day in enumerate(("2026-01-05", "2026-02-04", "2026-03-06"))
    ]
    not_done = urine_test("u-tnp", "p-mon", "2026-02-10")
    not_done["valueCodeableConcept"] = {"text": "TNP"}
    waiting = {**urine_test("u-reg", "p-mon", "2026-03-10"), "status": "registered"}
    del waiting["valueCodeableConcept"]
    done = urine_test("u-done", "p-mon", "2026-03-12")
    for folder, extra, monitored in (("gap", [not_done, waiting], False), ("done", [done], True)):
        write_export(tmp_path / folder, [patient("p-mon"), *fills, *extra])
        review(
            ndjson_files(tmp_path / folder), tmp_path / folder / "out", PERIOD, TODAY, GuidelineConfig.from_mapping()
        )
        with open(tmp_path / folder / "out" / "patients.csv", encoding="utf-8") as handle:
            row = next(r for r in csv.DictReader(handle) if r["patient_id"] == "p-mon")
        assert _flags(row)["amo"] == (True, monitored), folder


@pytest.mark.parametrize(("corrected", "named"), [(False, True), (True, False)], ids=["positive", "corrected"])
def test_the_standing_review_reads_a_labs_correction_as_the_card_does(
    tmp_path: Path, corrected: bool, named: bool
) -> None:
    # A fentanyl screen positive, then the lab's correction to negative sent as a result of its own (same test, same
    # collection time). Cut to dates, the review could not tell the sample and named an unexpected result the card at
    # the point of care no longer shows.
    taken = "2026-03-10T09:40:00-05:00"
    screen = {**urine_test("u-fent", "p-uds", taken, code="58379-9"), "valueString": "Positive"}
    del screen["valueCodeableConcept"]
    correction = {**screen, "id": "u-fent-corr", "status": "corrected", "valueString": "Negative"}
    resources = [
        patient("p-uds"),
        order("uds-o1", "p-uds", OXYCODONE_5, "2026-03-20", per_day=4, days=30),
        screen,
        *([correction] if corrected else []),
    ]
    write_export(tmp_path / "in", resources)
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    assert ("unexpected-uds-result" in _patients(tmp_path)["p-uds"]["findings"]) is named


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-03-31T23:30:00-05:00", "2026-03-31T23:30:00"),  # the written date and time, whatever the zone
        ("2026-04-01T02:00:00Z", "2026-04-01T02:00:00"),
        # a time the record's own parser reads as no date: kept whole, so the review reads no date either, as the
        # point of care (before, cut to "2026-03-31", a dated result here and an undated one on the card)
        ("2026-03-31T25:00:00Z", "2026-03-31T25:00:00Z"),
        ("2026-03-31T10:00:00+25:00", "2026-03-31T10:00:00+25:00"),
        ("2026-03-31", "2026-03-31"),
    ],
)
def test_a_result_keeps_its_written_date_and_time(written: str, read: str) -> None:
    from guideline.population.evaluate import _as_written

    result = {**urine_test("u1", "p1", written), "issued": written}
    assert _as_written(result)["effectiveDateTime"] == read
    assert _as_written(result)["issued"] == read


def test_a_drug_test_the_lab_withdrew_by_a_correction_is_no_annual_test(tmp_path: Path) -> None:
    # The lab corrects its result to "Specimen rejected" (a mislabeled cup), sent as a result of its own: the first
    # result is no test done, at the point of care (no result judged, "Order a urine drug test") and here alike.
    fills = [
        dispense(f"m{n}", "p-mon", OXYCODONE_5, day, 60, 30)
        for n, day in enumerate(("2026-01-05", "2026-02-04", "2026-03-06"))
    ]
    first = urine_test("u-first", "p-mon", "2026-02-10T09:40:00-05:00")
    withdrawn = {**urine_test("u-corr", "p-mon", "2026-02-10T09:40:00-05:00"), "status": "corrected"}
    withdrawn["valueCodeableConcept"] = {"text": "Specimen rejected: mislabeled"}
    write_export(tmp_path, [patient("p-mon"), *fills, first, withdrawn])
    review(ndjson_files(tmp_path), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    assert _flags(_patients(tmp_path)["p-mon"])["amo"] == (True, False)


@pytest.mark.parametrize(
    ("values", "monitored"),
    [
        (("Negative, dilute", "Negative, dilute"), False),
        (("Invalid specimen", "Specimen invalid"), False),
        (("Specimen rejected", "Specimen rejected"), False),  # flagged N, as Epic Beaker sends it
        (("Negative, dilute", "Positive, dilute"), True),  # a dilute positive is read: the day's test informed care
    ],
    ids=["dilute-negative", "invalid", "rejected-flagged-n", "one-result-read"],
)
def test_a_drug_test_that_could_not_be_read_is_no_annual_test_as_on_the_card(
    tmp_path: Path, values: tuple[str, str], monitored: bool
) -> None:
    # The card asks for a test when the year's only one could not be read (a dilute negative, an invalid specimen):
    # the review counted it as AMO's test, and the two disagreed about the same patient.
    fills = [
        dispense(f"m{n}", "p-mon", OXYCODONE_5, day, 60, 30)
        for n, day in enumerate(("2026-01-05", "2026-02-04", "2026-03-06"))
    ]
    results = []
    for n, (code, value) in enumerate(zip(("19295-5", "58430-0"), values, strict=True)):
        result = {**urine_test(f"u{n}", "p-mon", "2026-02-10T09:40:00-05:00", code=code), "valueString": value}
        del result["valueCodeableConcept"]
        flag = "A" if value.startswith("Positive") else "N"
        result["interpretation"] = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": flag}]}
        ]
        results.append(result)
    write_export(tmp_path, [patient("p-mon"), *fills, *results])
    review(ndjson_files(tmp_path), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    assert _flags(_patients(tmp_path)["p-mon"])["amo"] == (True, monitored)


@pytest.mark.parametrize(("creatinine", "monitored"), [(12, False), (85, True)], ids=["dilute", "normal"])
def test_a_negative_beside_a_low_creatinine_of_its_specimen_is_no_annual_test_as_on_the_card(
    tmp_path: Path, creatinine: int, monitored: bool
) -> None:
    # The lab sends the specimen's creatinine as a result of its own: below 20 mg/dL the negatives could not show
    # the drug, and the card asks for a test (docs/clinical-logic.md, *Specimen validity results*).
    fills = [
        dispense(f"m{n}", "p-mon", OXYCODONE_5, day, 60, 30)
        for n, day in enumerate(("2026-01-05", "2026-02-04", "2026-03-06"))
    ]
    collected = "2026-02-10T09:40:00-05:00"
    negative = {**urine_test("u0", "p-mon", collected, code="58430-0"), "valueString": "Negative"}
    del negative["valueCodeableConcept"]
    validity = {
        **urine_test("u1", "p-mon", collected, code="2161-8"),
        "valueQuantity": {"value": creatinine, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"},
    }
    del validity["valueCodeableConcept"]
    write_export(tmp_path, [patient("p-mon"), *fills, negative, validity])
    review(ndjson_files(tmp_path), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    assert _flags(_patients(tmp_path)["p-mon"])["amo"] == (True, monitored)


def test_oud_medication_given_in_clinic_is_read_by_the_standing_review_and_is_no_unexpected_type(
    tmp_path: Path,
) -> None:
    # The review passes every patient line to the record reader, which reads administrations: counted as an
    # unexpected type, data-quality.json said the export's doses were ignored while the findings read them.
    sublocade = {
        "resourceType": "MedicationAdministration",
        "id": "ma-sublocade",
        "status": "completed",
        "subject": {"reference": "Patient/p-inj"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "1996192"}], "text": "Sublocade 300 mg"},
        "effectiveDateTime": "2026-03-10T10:00:00-05:00",
    }
    pain = dispense("inj-f1", "p-inj", OXYCODONE_5, "2026-03-01", 20, 5)
    write_export(
        tmp_path / "in",
        [
            patient("p-inj"),
            pain,
            condition("inj-oud", "p-inj", ICD10, "F11.20"),
            sublocade,
            patient("p-none"),
            {**pain, "id": "none-f1", "subject": {"reference": "Patient/p-none"}},
            condition("none-oud", "p-none", ICD10, "F11.20"),
        ],
    )
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert "MedicationAdministration" not in quality["unexpected_resource_types"]
    assert quality["resources_by_type"]["MedicationAdministration"] == 1
    patients = _patients(tmp_path)
    assert "oud-treatment" not in patients["p-inj"]["findings"]
    assert "oud-treatment" in patients["p-none"]["findings"]
