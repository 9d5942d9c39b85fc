"""A server's error files are read as the data files are: gzip-compressed when their bytes are gzip, whatever their
name says (`error/OperationOutcome.ndjson.gz` among the data, an `--export` download the server sent compressed).
An error file that is empty, or cannot be read (a cut-off gzip), is named: what the server reported in it is unknown.
Before, a `.ndjson.gz` error file among the data was read as resources of a type the review does not read (status 0),
a gzipped download was "line 1 is no OperationOutcome", and an empty error file said nothing at all (status 0)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from synthetic_export import dispense, organization, patient, practitioner, write_export

from smart_app.cli import main
from smart_app.population.command import INPUT_NOT_READ

OXYCODONE_5 = ("1049621", "oxycodone hydrochloride 5 MG Oral Tablet")
ERROR_URL = "https://bulk.payer.example/fhir/jobs/7f3a/error-1.ndjson"


def outcome(severity: str, code: str, diagnostics: str) -> str:
    issue = {"severity": severity, "code": code, "diagnostics": diagnostics}
    return json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}) + "\n"


def data(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    write_export(
        folder,
        [
            practitioner("pcp1", "Dr. Pat Care"),
            organization("ph1"),
            patient("A", gp="Practitioner/pcp1"),
            dispense("A-1", "A", OXYCODONE_5, "2026-01-05", 90, 30, "pcp1", "ph1"),
        ],
    )
    return folder


def downloaded(folder: Path, content: bytes) -> Path:
    """The error file `--export` downloaded, as its saved state records it (`.export-state.json`)."""
    state = {"manifest": {"output": [], "error": [{"type": "OperationOutcome", "url": ERROR_URL}]},
             "errors_downloaded": [ERROR_URL]}  # fmt: skip
    (folder / ".export-state.json").write_text(json.dumps(state), encoding="utf-8")
    (folder / ".export-errors").mkdir()
    path = folder / ".export-errors" / "0001.OperationOutcome.ndjson"
    path.write_bytes(content)
    return path


def run(folder: Path) -> tuple[int, list[str], dict]:
    out = folder.parent / "out"
    code = main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip
    return code, [], json.loads((out / "data-quality.json").read_text(encoding="utf-8"))


def test_a_gzipped_error_file_among_the_data_is_graded(tmp_path, capsys):
    folder = data(tmp_path)
    (folder / "error").mkdir()
    said = "Unable to export MedicationDispense/fd-88213 for Patient/12724066 (SMART, NANCY)"
    (folder / "error" / "OperationOutcome.ndjson.gz").write_bytes(
        gzip.compress(outcome("error", "processing", said).encode())
    )
    code, _, quality = run(folder)
    printed = capsys.readouterr().out
    assert quality["input_files_not_read"] == {
        "export error file error/OperationOutcome.ndjson.gz: 1 error (error processing) at line 1": 1
    }
    assert code == INPUT_NOT_READ and "NANCY" not in printed and "NANCY" not in json.dumps(quality)


def test_a_downloaded_error_file_the_server_sent_gzipped_is_read_as_gzip(tmp_path):
    folder = data(tmp_path)
    downloaded(folder, gzip.compress(outcome("warning", "not-supported", "_typeFilter ignored").encode()))
    code, _, quality = run(folder)
    assert quality["input_files_not_read"] == {}
    assert quality["export_warnings"] == {
        "export error file 1 of 1 (.export-errors/0001.OperationOutcome.ndjson): warning not-supported at line 1": 1
    }
    assert code == 0


def test_an_empty_error_file_is_named(tmp_path, capsys):
    folder = data(tmp_path)
    downloaded(folder, b"")
    (folder / "error").mkdir()
    (folder / "error" / "OperationOutcome.ndjson").write_bytes(b"\n")
    code, _, quality = run(folder)
    why = "empty: the server reported errors in it, and what they were is unknown"
    assert quality["input_files_not_read"] == {
        f"export error file 1 of 1 (.export-errors/0001.OperationOutcome.ndjson): {why}": 1,
        f"export error file error/OperationOutcome.ndjson: {why}": 1,
    }
    assert code == INPUT_NOT_READ
    assert capsys.readouterr().out.splitlines()[-1].startswith("not read (exit status 3): 2 input files (")


def test_a_cut_off_gzipped_error_file_is_named_with_what_it_did_say(tmp_path):
    folder = data(tmp_path)
    whole = gzip.compress((outcome("warning", "not-supported", "_typeFilter") * 200).encode())
    downloaded(folder, whole[: len(whole) // 2])
    code, _, quality = run(folder)
    [(name, _)] = quality["input_files_not_read"].items()
    assert name.startswith("export error file 1 of 1 (.export-errors/0001.OperationOutcome.ndjson): could not be read")
    assert "cut off or corrupt" in name
    assert code == INPUT_NOT_READ


def test_an_export_warning_that_the_answer_is_not_all_there_is_input_not_read(tmp_path):
    """A server that stopped exporting a type partway, and says so as a warning ("incomplete"), lost data: status 3,
    as for an error (one rule with the searchset's outcomes among the data)."""
    folder = data(tmp_path)
    downloaded(folder, outcome("warning", "incomplete", "MedicationDispense export stopped at 50,000").encode())
    code, _, quality = run(folder)
    assert quality["input_files_not_read"] == {
        "export error file 1 of 1 (.export-errors/0001.OperationOutcome.ndjson): 1 issue saying not everything was "
        "sent (warning incomplete) at line 1": 1
    }
    assert quality["export_warnings"] == {} and code == INPUT_NOT_READ
