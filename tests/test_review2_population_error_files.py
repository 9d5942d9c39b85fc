"""Review (session 22): an export downloaded by another Bulk Data client keeps its server's error files among the
data (SMART's bulk-data-client saves them as `error/OperationOutcome.ndjson`). Run over that folder, the review read
the server's "could not export" errors as resources of a type it does not read, ignored, and said every line of every
input file was read (status 0). They are graded as `--export` grades the error files it downloads."""

from __future__ import annotations

import json
from pathlib import Path

from synthetic_export import dispense, organization, patient, practitioner, write_export

from smart_app.cli import main

METHADONE_10 = ("864706", "methadone hydrochloride 10 MG Oral Tablet")


def export_with(tmp_path: Path, *issues: dict[str, str]) -> Path:
    folder = tmp_path / "in"
    write_export(
        folder,
        [
            practitioner("pcp1", "Dr. Pat Care"),
            organization("ph1"),
            patient("A", gp="Practitioner/pcp1"),
            dispense("A-1", "A", METHADONE_10, "2026-01-05", 90, 30, "pcp1", "ph1"),
        ],
    )
    (folder / "error").mkdir()
    lines = [json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}) for issue in issues]
    (folder / "error" / "OperationOutcome.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def run(folder: Path) -> int:
    return main(["population", str(folder), "--out", str(folder.parent / "out"), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip


def test_an_error_file_among_the_data_is_input_not_read_and_never_repeats_the_servers_words(tmp_path, capsys):
    said = "Could not export MedicationDispense for Patient/B (Jane Doe, MRN 443322)"
    folder = export_with(tmp_path, {"severity": "error", "code": "processing", "diagnostics": said})
    assert run(folder) == 3
    printed = capsys.readouterr().out
    assert "error/OperationOutcome.ndjson" in printed and "error processing" in printed
    quality = json.loads((folder.parent / "out" / "data-quality.json").read_text(encoding="utf-8"))
    assert any("error/OperationOutcome.ndjson" in name for name in quality["input_files_not_read"])
    assert "Jane Doe" not in printed and "Jane Doe" not in json.dumps(quality)


def test_an_error_file_of_warnings_only_among_the_data_is_read_whole(tmp_path, capsys):
    folder = export_with(tmp_path, {"severity": "warning", "code": "not-supported", "diagnostics": "_typeFilter"})
    assert run(folder) == 0
