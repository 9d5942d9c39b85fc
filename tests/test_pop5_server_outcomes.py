"""The OperationOutcomes a server puts among the data (a searchset Bundle's `search.mode = outcome` entry: "too many
results, truncated"; an OperationOutcome line in an NDJSON file) are the server's words about its answer, graded as
its error files are: an error, or an issue saying the answer is not all there (incomplete, too-costly, throttled,
timeout, suppressed) at any severity, makes the file input not read (status 3); a note is listed among the export
warnings (status unaffected). Never by the server's words. Before, they were only counted as resources of a type the
review does not read, and a truncated page of members ended "read: every line of every input file" (status 0)."""

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

FILE = "api/members.ndjson"
BASE = "https://api.payer.example/fhir/R4"
SAID = "Search results truncated at 1000; member SMART, NANCY (MRN 4455667) and others not returned"


def page(pid: str, *outcomes: dict) -> dict:
    """A searchset page from a payer's Patient Access API: a member, an oxycodone fill, then its outcome entries."""
    fill = dispense(f"{pid}-1", pid, OXYCODONE_5, "2026-01-10", 120, 30, "pcp1", "ph1")
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": f"{BASE}/Patient/{pid}", "resource": patient(pid, gp="Practitioner/pcp1"),
             "search": {"mode": "match"}},
            {"fullUrl": f"{BASE}/MedicationDispense/{pid}-1", "resource": fill, "search": {"mode": "include"}},
            *({"resource": outcome, "search": {"mode": "outcome"}} for outcome in outcomes),
        ],
    }  # fmt: skip


def outcome(severity: str, code: str, diagnostics: str = SAID) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": code,
                                                           "diagnostics": diagnostics}]}  # fmt: skip


def export(tmp_path: Path, *lines: dict) -> Path:
    folder = tmp_path / "in"
    write_export(folder, [practitioner("pcp1", "Dr. Pat Care"), organization("ph1")])
    (folder / "api").mkdir()
    (folder / FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


def run(folder: Path) -> tuple[int, str, dict]:
    out = folder.parent / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip
    return code, "", json.loads((out / "data-quality.json").read_text(encoding="utf-8"))


def test_a_truncation_warning_in_a_searchset_makes_the_run_partial(tmp_path, capsys):
    code, _, quality = run(export(tmp_path, page("M1"), page("M2", outcome("warning", "too-costly"))))
    printed = capsys.readouterr().out
    assert quality["input_files_not_read"] == {
        f"server outcome in {FILE}: 1 issue saying not everything was sent (warning too-costly) at line 2 entry 3": 1
    }
    assert "OperationOutcome" not in quality["unexpected_resource_types"]
    assert quality["server_outcomes_by_file"] == {FILE: 1}
    assert code == INPUT_NOT_READ and printed.splitlines()[-1].startswith("not read (exit status 3): 1 input file (")
    assert "NANCY" not in printed and "NANCY" not in json.dumps(quality)
    assert quality["resources_by_type"]["Patient"] == 2  # the rest is read all the same


def test_an_error_outcome_and_a_plain_outcome_line_are_graded_too(tmp_path):
    code, _, quality = run(export(tmp_path, page("M1", outcome("error", "processing")), outcome("fatal", "exception")))
    assert quality["input_files_not_read"] == {
        f"server outcome in {FILE}: 2 errors (error processing 1, fatal exception 1) at line 1 entry 3 and line 2": 1
    }
    assert code == INPUT_NOT_READ


def test_a_note_in_a_searchset_is_listed_and_the_run_is_whole(tmp_path, capsys):
    code, _, quality = run(export(tmp_path, page("M1", outcome("information", "informational", "HAPI-0001"))))
    assert quality["input_files_not_read"] == {}
    assert quality["export_warnings"] == {f"server outcome in {FILE}: information informational at line 1 entry 3": 1}
    assert code == 0 and capsys.readouterr().out.splitlines()[-1] == "read: every line of every input file"


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_grades_the_servers_outcomes_as_duckdb_does(tmp_path):
    files = ndjson_files(export(tmp_path, page("M1", outcome("warning", "incomplete"))))
    config = GuidelineConfig.from_mapping()
    duck = review(files, tmp_path / "duck", PERIOD, TODAY, config, "duckdb", workers=1)
    spark = review(files, tmp_path / "spark", PERIOD, TODAY, config, "spark", master="local[2]")
    assert duck.inputs_not_read == spark.inputs_not_read and len(duck.inputs_not_read) == 1
    assert exit_status(duck) == exit_status(spark) == INPUT_NOT_READ
