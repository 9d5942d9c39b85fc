"""Gaps the population review used to pass over in silence: a PCP the export's directory does not hold, an order with
no days' supply standing in for a fill, and procedures coded under systems PainPlan does not read. Each is counted,
named in the summary and on the dashboard, and changes no answer it cannot stand behind."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from synthetic_export import OXYCODONE_10, dispense, order, organization, patient, practitioner, write_export
from test_population_attribution import DIRECTORY, ED_FILLS, assigned
from test_population_claims import professional_claim
from test_population_letters import groups_of, high_dose, index_row, intro_of, run_letters
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, Quality, evaluate_patient
from guideline.population.attribution import attribute
from guideline.population.quality import COUNTS, quality_lines
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

NPI = "http://hl7.org/fhir/sid/us-npi"
PAYER_PROCEDURES = "https://payer.example.org/CodeSystem/procedure"
ICD10_PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
CPT = "http://www.ama-assn.org/go/cpt"


def evaluate(resources: list[dict], directory: Directory = DIRECTORY, config: GuidelineConfig | None = None):
    return evaluate_patient("p", resources, PERIOD, config or GuidelineConfig.from_mapping(), TODAY, directory)


# ---- 1. A PCP the directory does not hold ------------------------------------------------------------------------


def test_a_role_the_directory_does_not_hold_falls_back_to_the_prescriber_and_says_why():
    # Before: ("prescriber", "drE", "orgHospital"), read as "no PCP on record", and counted nowhere.
    found = attribute(assigned("PractitionerRole/role-left-the-export"), ED_FILLS, DIRECTORY)
    assert (found.kind, found.clinician_id, found.practice_id) == ("prescriber-pcp-not-in-directory", "drE",
                                                                  "orgHospital")  # fmt: skip


def test_an_unknown_npi_of_no_stated_type_is_a_pcp_not_in_the_directory():
    patient_resource = {"resourceType": "Patient", "id": "p",
                        "generalPractitioner": [{"identifier": {"system": NPI, "value": "1999999992"}}]}  # fmt: skip
    assert attribute(patient_resource, ED_FILLS, DIRECTORY).kind == "prescriber-pcp-not-in-directory"


def test_a_missing_pcp_beside_a_listed_practice_goes_to_the_practice_and_says_why():
    found = attribute(assigned("PractitionerRole/gone", "Organization/orgFQHC"), ED_FILLS, DIRECTORY)
    assert (found.kind, found.clinician_id, found.practice_id) == ("practice-pcp-not-in-directory", None, "orgFQHC")


def test_a_pcp_found_among_several_references_needs_no_fallback():
    found = attribute(assigned("PractitionerRole/gone", "PractitionerRole/roleA"), ED_FILLS, DIRECTORY)
    assert (found.kind, found.clinician_id) == ("pcp", "drA")
    # And a plain Practitioner reference stays the patient's PCP by its id, as before (their letter addressed "A
    # clinician not in our directory").
    assert attribute(assigned("Practitioner/drZ"), ED_FILLS, DIRECTORY).kind == "pcp"


def test_the_patient_row_and_the_count_name_the_missing_pcp():
    resources = [
        patient("p", "1970-01-01", "PractitionerRole/role-left-the-export", "Rivera"),
        dispense("f1", "p", OXYCODONE_10, "2026-01-05", 180, 30, "drE", "ph1"),
        dispense("f2", "p", OXYCODONE_10, "2026-02-04", 180, 30, "drE", "ph1"),
    ]
    outcome = evaluate(resources)
    assert (outcome.row["attribution"], outcome.row["pcp_id"]) == ("prescriber-pcp-not-in-directory", "drE")
    assert outcome.quality.pcp_not_in_directory == {"prescriber": 1}
    # Not among the patients "without a PCP": they have one, the export does not say who.
    assert outcome.quality.attributed_to_prescriber == 0
    lines = {line.key: line for line in quality_lines(outcome.quality.to_json())}
    assert lines["pcp_not_in_directory"].text == (
        "1 patient whose named PCP is not in the export's directory, attributed elsewhere (prescriber 1)"
    )
    assert lines["pcp_not_in_directory"].kind == "problem"


@pytest.fixture(scope="module")
def missing_pcp_letters(tmp_path_factory) -> Path:
    return run_letters(
        tmp_path_factory.mktemp("missing-pcp"),
        [
            practitioner("drB", "Dr. Ben Brown"),
            organization("orgFQHC", "Fair Haven Community Health Center"),
            patient("pm", "1970-01-01", "PractitionerRole/role-left-the-export", "Moreno"),
            *high_dose("pm", "drB"),
            {**patient("pq", "1970-01-01", None, "Quinn"),
             "generalPractitioner": [{"reference": "PractitionerRole/gone"}, {"reference": "Organization/orgFQHC"}]},
            *high_dose("pq", "drB"),
        ],
    )  # fmt: skip


def test_the_prescribers_letter_does_not_say_the_patient_has_no_pcp(missing_pcp_letters):
    # Before: "who has no primary care clinician on record and whose opioid prescriptions …".
    html = (missing_pcp_letters / "drB.html").read_text()
    assert "no primary care clinician on record" not in html
    heading = (
        "Patients whose named primary care clinician is not in our directory, whose opioid fills were on your "
        "prescriptions at least as often as on any other clinician's"
    )
    assert list(groups_of(html)) == [heading] and "Moreno" in html and "Quinn" not in html
    assert "found 1 patient whose named primary care clinician is not in our directory and whose opioid" in (
        intro_of(html)
    )
    assert "main prescriber, named PCP not in directory (1)" in index_row(missing_pcp_letters, "drB")


def test_the_practices_letter_does_not_say_no_clinician_was_named(missing_pcp_letters):
    stem = next(p.stem for p in missing_pcp_letters.glob("practice-orgFQHC*.html"))
    html = (missing_pcp_letters / f"{stem}.html").read_text()
    assert "no clinician named" not in html and "Quinn" in html
    assert list(groups_of(html)) == [
        "Patients assigned to your practice for primary care whose named clinician is not in our directory"
    ]
    assert "practice of record, named clinician not in directory (1)" in index_row(missing_pcp_letters, stem)
    quality = json.loads((missing_pcp_letters.parent / "data-quality.json").read_text())
    assert quality["pcp_not_in_directory"] == {"practice": 1, "prescriber": 1}


# ---- 2. Orders with no days' supply (patients known from orders only) ---------------------------------------------


def orders_only(first_days: int | None) -> list[dict]:
    """Two oxycodone 10 mg orders, 6 tablets a day (90 MME/day); the first with `first_days` days' supply."""
    return [
        patient("p", "1970-01-01", None, "Ortiz"),
        order("o1", "p", OXYCODONE_10, "2026-01-05", "drB", per_day=6, days=first_days),
        order("o2", "p", OXYCODONE_10, "2026-02-04", "drB", per_day=6, days=30),
    ]


def test_an_order_with_no_days_supply_is_counted_and_makes_the_result_partial():
    outcome = evaluate(orders_only(None), Directory())
    row = outcome.row
    assert row["source"] == "orders" and row["ohd_den"]
    # Its 90 MME/day counts on no day of the average, which its date still starts: the result may be wrong.
    # Before: 45.0 MME/day, not in OHD, and nothing said so.
    assert row["avg_mme"] == 45.0 and not row["ohd_num"]
    assert row["partial"] == "OHD,NAL"  # OHDMP only for a patient in OMP
    evidence = json.loads(row["evidence"])["partial"]
    assert len(evidence) == 1 and "no days' supply" in evidence[0] and "its days' supply is unknown" in evidence[0]
    assert outcome.quality.orders_without_days_supply == 1
    assert outcome.quality.fills_without_mme == {"no-days-supply": 1}
    # Its MME per day is known from the dose: the initial dose counts it, and is not partial for it.
    assert row["iop_hd_num"] and "IOP-HD" not in row["partial"]


def test_orders_with_their_days_supply_are_not_partial():
    outcome = evaluate(orders_only(30), Directory())
    assert outcome.row["partial"] is None and outcome.row["ohd_num"]
    assert outcome.quality.orders_without_days_supply == 0 and not outcome.quality.fills_without_mme


# ---- 3. Procedures under code systems PainPlan does not read ------------------------------------------------------


def procedures_export() -> list[dict]:
    claim = professional_claim("c1", "p", "2026-02-10", "M54.5")
    claim["item"].append({"sequence": 2, "productOrService": {"coding": [{"system": PAYER_PROCEDURES,
                                                                          "code": "UDS-01"}]}})  # fmt: skip
    # A line that says it has no code is no code under an unread system.
    claim["item"].append({"sequence": 3, "productOrService": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-applicable"}]}})  # fmt: skip
    claim["procedure"] = [{"sequence": 1, "procedureCodeableConcept": {"coding": [{"system": ICD10_PCS,
                                                                                  "code": "0SRC0J9"}]}}]  # fmt: skip
    charted = {"resourceType": "Procedure", "id": "pr1", "status": "completed", "subject": {"reference": "Patient/p"},
               "performedDateTime": "2026-03-01",
               "code": {"coding": [{"system": PAYER_PROCEDURES, "code": "UDS-02"}]}}  # fmt: skip
    read = {**charted, "id": "pr2", "code": {"coding": [{"system": CPT, "code": "80305"}]}}
    old = {**charted, "id": "pr3", "performedDateTime": "2019-03-01"}  # long before the review looks
    return [*orders_only(30), claim, charted, read, old]


def test_procedures_under_systems_not_read_are_counted_by_system():
    outcome = evaluate(procedures_export(), Directory())
    # Before: nothing; a drug test billed under the payer's own code was simply not there.
    assert outcome.quality.procedures_not_read_by_system == {PAYER_PROCEDURES: 2, ICD10_PCS: 1}
    lines = {line.key: line for line in quality_lines(outcome.quality.to_json())}
    line = lines["procedures_not_read_by_system"]
    assert line.text.startswith("3 procedures or claim lines coded only under systems the review does not read")
    assert line.lowers("AMO", "numerators") and not line.lowers("AMO", "denominators")


def test_a_site_that_configures_codes_in_its_own_system_has_them_read():
    config = GuidelineConfig.from_mapping({"pdmp": {"review_codes": [f"{PAYER_PROCEDURES}|PDMP-1"]}})
    assert evaluate(procedures_export(), Directory(), config).quality.procedures_not_read_by_system == {ICD10_PCS: 1}


# ---- 4. data-quality.json follows the fields ----------------------------------------------------------------------


def test_to_json_writes_every_field_and_from_json_reads_it_back():
    from test_population_quality_report import every_count_set

    quality = every_count_set()
    written = quality.to_json()
    assert list(written) == list(Quality.count_names())
    assert Quality.from_json(json.loads(json.dumps(written))).to_json() == written
    assert {count.key for count in COUNTS} == set(written)


# ---- The command: counted, summarised, the same on both engines (tests/test_population_spark.py) -------------------


def gaps_export() -> list[dict]:
    """Every gap above in one export."""
    return [
        practitioner("drB", "Dr. Ben Brown"),
        patient("pm", "1970-01-01", "PractitionerRole/role-left-the-export", "Moreno"),
        *high_dose("pm", "drB"),
        *[{**r, "subject": {"reference": "Patient/po"}} if r["resourceType"] != "Patient" else {**r, "id": "po"}
          for r in orders_only(None)],
        *[{**r, "id": "pp"} if r["resourceType"] == "Patient" else _moved(r, "pp") for r in procedures_export()],
    ]  # fmt: skip


def _moved(resource: dict, pid: str) -> dict:
    """The resource, another patient's: its id and subject (or a claim's patient) made theirs."""
    key = "patient" if resource["resourceType"] == "ExplanationOfBenefit" else "subject"
    return {**resource, "id": f"{pid}-{resource['id']}", key: {"reference": f"Patient/{pid}"}}


def test_the_summary_names_each_gap(tmp_path):
    write_export(tmp_path / "in", gaps_export())
    lines = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping(),
                   workers=1)  # fmt: skip
    summary = lines[-1]
    assert "1 patient whose named PCP is not in the export's directory, attributed elsewhere (prescriber 1)" in summary
    assert "1 opioid order without days' supply (patients with no fills; left out of MME)" in summary
    assert f"procedures or claim lines coded only under systems the review does not read ({PAYER_PROCEDURES} 2" in (
        summary
    )


def test_a_counter_added_to_quality_is_written_without_a_list_to_update():
    # Before: to_json listed its keys by hand, so a count added to Quality was merged and then never written.
    @dataclass
    class Later(Quality):
        fills_by_a_later_reason: Counter[str] = field(default_factory=Counter)
        a_later_count: int = 0

    later = Later(a_later_count=3)
    later.fills_by_a_later_reason["odd"] += 2
    assert later.to_json()["a_later_count"] == 3 and later.to_json()["fills_by_a_later_reason"] == {"odd": 2}
