"""Resources other than fills, orders and claims whose patient is named only by an identifier (a payer's member id)
or a `urn:uuid` cannot be put with any patient. A diagnosis that excludes a patient from the measures (cancer,
hospice, sickle cell), a urine drug test AMO counts, a hospice visit or procedure: each is a line of the export not
read, named by file and line, and the run exits with status 4, as for a fill. A resource no measure reads (a CarePlan)
is named the same way and changes nothing of the status. Before, both were only counted in
`resources_without_patient`, with status 0 and "every line of every input file" read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthetic_export import ICD10, condition, organization, patient, practitioner, urine_test, write_export
from test_population_exit_status import quarter_of_methadone
from test_population_fills_without_patient import spark_names_as_duckdb_does

from guideline.config import GuidelineConfig
from smart_app.cli import main
from smart_app.population.command import LINES_NOT_READ
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

MBI = "http://hl7.org/fhir/sid/us-mbi"
MEMBER_ID = "1EG4TE5MK73"
NAMED = [
    "Condition.ndjson line 2: Condition whose patient no Patient reference names",
    "Observation.ndjson line 1: Observation whose patient no Patient reference names",
]
OTHER = ["CarePlan.ndjson line 1: CarePlan whose patient no Patient reference names"]


def export_with_unkeyed_records(tmp_path: Path) -> Path:
    """Patient A's quarter of methadone (OHD's numerator, a letter to pcp1); a breast cancer diagnosis that would
    exclude them, its subject the member's Medicare Beneficiary Identifier alone; a urine drug test whose subject is
    a `urn:uuid`; and a CarePlan whose subject is the member id."""
    folder = tmp_path / "in"
    directory = [practitioner("pcp1", "Dr. Pat Care"), practitioner("er-doc"), organization("ph1")]
    write_export(folder, [*directory, patient("A", gp="Practitioner/pcp1"), *quarter_of_methadone("A")])
    keyed = condition("c-htn", "A", ICD10, "I10")
    cancer = condition("c-ca", "A", ICD10, "C50.911")
    cancer["subject"] = {"identifier": {"system": MBI, "value": MEMBER_ID}}
    (folder / "Condition.ndjson").write_text(f"{json.dumps(keyed)}\n{json.dumps(cancer)}\n")
    test = urine_test("o-udt", "A", "2026-02-10")
    test["subject"] = {"reference": "urn:uuid:9d2b4e3a-6f1c-4b8e-a0d2-3c5e7f9a1b2c"}
    (folder / "Observation.ndjson").write_text(json.dumps(test) + "\n")
    care_plan = {
        "resourceType": "CarePlan",
        "id": "cp1",
        "status": "active",
        "intent": "plan",
        "subject": {"identifier": {"system": MBI, "value": MEMBER_ID}},
    }
    (folder / "CarePlan.ndjson").write_text(json.dumps(care_plan) + "\n")
    return folder


def test_records_a_measure_reads_with_no_patient_reference_are_named_by_line_and_exit_4(tmp_path, capsys):
    folder = export_with_unkeyed_records(tmp_path)
    out = tmp_path / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["resources_without_patient"] == 3
    assert quality["records_without_patient_by_file"] == {"Condition.ndjson": 1, "Observation.ndjson": 1}
    assert quality["records_without_patient_named"] == dict.fromkeys(NAMED, 1)
    assert quality["other_resources_without_patient_by_file"] == {"CarePlan.ndjson": 1}
    assert quality["other_resources_without_patient_named"] == dict.fromkeys(OTHER, 1)
    assert code == LINES_NOT_READ
    assert lines[-1] == f"not read (exit status 4): 2 lines ({', '.join(NAMED)})"
    assert OTHER[0] in printed  # named in the summary, though no measure reads it
    assert MEMBER_ID not in printed and "urn:uuid" not in printed  # no patient id printed


def test_a_resource_no_measure_reads_is_named_and_leaves_the_status_0(tmp_path, capsys):
    folder = export_with_unkeyed_records(tmp_path)
    (folder / "Condition.ndjson").unlink()
    (folder / "Observation.ndjson").unlink()
    out = tmp_path / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["other_resources_without_patient_named"] == dict.fromkeys(OTHER, 1)
    assert quality["records_without_patient_by_file"] == {}
    assert code == 0 and lines[-1] == "read: every line of every input file"


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_names_them_as_duckdb_does(tmp_path):
    files = ndjson_files(export_with_unkeyed_records(tmp_path))
    config = GuidelineConfig.from_mapping()
    spark_names_as_duckdb_does(files, tmp_path, config, NAMED, "other_resources_without_patient", OTHER)
