"""A fill, order or pharmacy claim whose patient is named only by an identifier (a payer's member id) or by a
`urn:uuid` (a transaction Bundle's unpacked entry) cannot be put with any patient: it is a line of the export not
read, named by file and line as a malformed line is, and the run exits with status 4 (before: counted only in
`resources_without_patient`, exit status 0, "every line of every input file" read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthetic_export import dispense, organization, patient, practitioner, write_export
from test_population_exit_status import METHADONE_10, quarter_of_methadone
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.cli import main
from smart_app.population.command import LINES_NOT_READ, review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

MBI = "http://hl7.org/fhir/sid/us-mbi"
NAMED = [
    "MedicationDispense.ndjson line 2: MedicationDispense whose patient no Patient reference names",
    "MedicationDispense.ndjson line 4: MedicationDispense whose patient no Patient reference names",
]


def export_with_unkeyed_fills(tmp_path: Path) -> Path:
    """Patient A's quarter of methadone, and between the fills two more: one whose subject is the member's Medicare
    Beneficiary Identifier alone, one whose subject is a `urn:uuid` (as a transaction Bundle references its Patient)."""
    folder = tmp_path / "in"
    directory = [practitioner("pcp1", "Dr. Pat Care"), practitioner("er-doc"), organization("ph1")]
    write_export(folder, [*directory, patient("A", gp="Practitioner/pcp1")])
    by_identifier = dispense("X-1", "A", METHADONE_10, "2026-01-20", 90, 30, "er-doc", "ph1")
    by_identifier["subject"] = {"identifier": {"system": MBI, "value": "1EG4TE5MK73"}}
    by_uuid = dispense("X-2", "A", METHADONE_10, "2026-02-20", 90, 30, "er-doc", "ph1")
    by_uuid["subject"] = {"reference": "urn:uuid:9d2b4e3a-6f1c-4b8e-a0d2-3c5e7f9a1b2c"}
    first, second = quarter_of_methadone("A")
    lines = [json.dumps(r) for r in (first, by_identifier, second, by_uuid)]
    (folder / "MedicationDispense.ndjson").write_text("\n".join(lines) + "\n")
    return folder


def test_fills_with_no_patient_reference_are_named_by_line_and_exit_4(tmp_path, capsys):
    folder = export_with_unkeyed_fills(tmp_path)
    out = tmp_path / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    quality = json.loads((out / "data-quality.json").read_text())
    assert code == LINES_NOT_READ
    assert quality["resources_without_patient"] == 2
    assert quality["fills_without_patient_by_file"] == {"MedicationDispense.ndjson": 2}
    assert quality["fills_without_patient_named"] == dict.fromkeys(NAMED, 1)
    assert lines[-1] == f"not read (exit status 4): 2 lines ({', '.join(NAMED)})"


def spark_names_as_duckdb_does(
    files: list[Path],
    tmp_path: Path,
    config: GuidelineConfig,
    named: list[str],
    group: str | None = None,
    group_named: list[str] | None = None,
) -> None:
    """Both engines review `files`: each finds the lines `named` not read, and (with `group`) names `group_named` in
    data-quality.json's `<group>_named`, once each. The one check of the resources-without-patient tests."""
    duck = review(files, tmp_path / "duck", PERIOD, TODAY, config, "duckdb", workers=1)
    spark = review(files, tmp_path / "spark", PERIOD, TODAY, config, "spark", master="local[2]")
    assert duck.lines_not_read == spark.lines_not_read == len(named)
    assert duck.lines_named == spark.lines_named == named
    if group is None:
        return
    for side in ("duck", "spark"):
        quality = json.loads((tmp_path / side / "data-quality.json").read_text())
        assert quality[f"{group}_named"] == dict.fromkeys(group_named or [], 1)


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_names_them_as_duckdb_does(tmp_path):
    files = ndjson_files(export_with_unkeyed_fills(tmp_path))
    spark_names_as_duckdb_does(files, tmp_path, GuidelineConfig.from_mapping(), NAMED)
