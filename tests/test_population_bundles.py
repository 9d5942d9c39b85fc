"""An "export" whose lines are FHIR Bundles (a payer's file of searchset Bundles, one a line) is not read as if it were
empty: the review reads one resource a line, so each file holding Bundles is named as read in part, with how many
Bundle lines it holds, and the run exits with status 3 on either engine (before: counted only as an unexpected
resource type "Bundle", the measures came out empty and the run exited 0, "every line of every input file" read)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthetic_export import OXYCODONE_5, dispense, organization, patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.cli import main
from smart_app.population.command import INPUT_NOT_READ, exit_status, review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

READ_IN_PART = (
    "claims/payer-bundles.ndjson: read in part: 2 lines are FHIR Bundles, whose entries the review does not read "
    "(it reads one resource a line)"
)


def payer_bundle(pid: str, fill_day: str) -> dict:
    """One line of a payer's file: a searchset Bundle of a member and their oxycodone fill, as a payer's Patient
    Access API pages it (fullUrl, search.mode), the fill's patient by reference."""
    member = patient(pid, "1968-04-02", gp="Practitioner/pcp1")
    fill = dispense(f"{pid}-fill", pid, OXYCODONE_5, fill_day, 120, 30, "pcp1", "ph1")
    base = "https://api.payer.example/fhir/R4"
    return {
        "resourceType": "Bundle",
        "id": f"page-{pid}",
        "type": "searchset",
        "total": 2,
        "link": [{"relation": "self", "url": f"{base}/Patient?_id={pid}&_revinclude=MedicationDispense:subject"}],
        "entry": [
            {"fullUrl": f"{base}/Patient/{pid}", "resource": member, "search": {"mode": "match"}},
            {"fullUrl": f"{base}/MedicationDispense/{pid}-fill", "resource": fill, "search": {"mode": "include"}},
        ],
    }


def export_with_bundles(tmp_path: Path) -> Path:
    """A folder with a directory file and a payer's claims folder whose one file holds two Bundle lines."""
    folder = tmp_path / "in"
    write_export(folder, [practitioner("pcp1", "Dr. Pat Care"), organization("ph1")])
    (folder / "claims").mkdir()
    lines = [json.dumps(payer_bundle("M1", "2026-01-10")), json.dumps(payer_bundle("M2", "2026-02-11"))]
    (folder / "claims" / "payer-bundles.ndjson").write_text("\n".join(lines) + "\n")
    return folder


def test_a_file_of_payer_bundles_is_named_read_in_part_and_exits_3(tmp_path, capsys):
    folder = export_with_bundles(tmp_path)
    out = tmp_path / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet", "--malformed-lines-ok"])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    quality = json.loads((out / "data-quality.json").read_text())
    assert code == INPUT_NOT_READ  # --malformed-lines-ok does not waive it: whole resources were not read
    assert quality["input_files_not_read"] == {READ_IN_PART: 1}
    assert lines[-1] == f"not read (exit status 3): 1 input file ({READ_IN_PART})"


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_names_the_bundle_file_as_duckdb_does(tmp_path):
    files = ndjson_files(export_with_bundles(tmp_path))
    config = GuidelineConfig.from_mapping()
    duck = review(files, tmp_path / "duck", PERIOD, TODAY, config, "duckdb", workers=1)
    spark = review(files, tmp_path / "spark", PERIOD, TODAY, config, "spark", master="local[2]")
    assert duck.inputs_not_read == spark.inputs_not_read == [READ_IN_PART]
    assert exit_status(duck) == exit_status(spark) == INPUT_NOT_READ
