"""Coverage the review could not read is never silent. A Coverage whose member no `Patient/id` reference names (a
payer's member id alone, a `urn:uuid`) cannot be joined to any member: it is a line not read, named by file and line,
and the run exits with status 4, as for a fill (before: named among resources no measure reads, status 0, though under
`population.enrolment = continuous` it may be the Coverage that fills a member's gap)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synthetic_export import write_export, write_ndjson
from test_population_enrolment import CONTINUOUS, coverage, high_dose
from test_population_fills_without_patient import spark_names_as_duckdb_does

from smart_app.cli import main
from smart_app.population.command import LINES_NOT_READ
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

MEMBER_ID = "HUSKY00042817"
NAMED = [
    "Coverage.ndjson line 2: Coverage whose patient no Patient reference names",
    "Coverage.ndjson line 3: Coverage whose patient no Patient reference names",
]


def export_with_unjoined_coverage(tmp_path: Path) -> Path:
    """Members k1 and k2 on 90 MME/day. k1's Coverage to 20 January names them; the Coverage from 21 January names
    its beneficiary by the plan's member id alone, and another (k2's, all year) by a `urn:uuid` the export defines
    nowhere: neither can be joined to a member."""
    folder = tmp_path / "in"
    write_export(folder, [*high_dose("k1"), *high_dose("k2")])
    by_member_id = coverage("k1-cov-b", "k1", "2026-01-21", None)
    by_member_id["beneficiary"] = {
        "identifier": {"system": "https://husky.example.org/member-id", "value": MEMBER_ID},
        "display": "HUSKY member",
    }
    by_member_id["subscriber"] = dict(by_member_id["beneficiary"])
    by_urn = coverage("k2-cov", "k2", "2025-07-01", "2026-06-30")
    by_urn["beneficiary"] = {"reference": "urn:uuid:4f7c2d1e-8a3b-4c5d-9e6f-0a1b2c3d4e5f"}
    write_ndjson(folder, "Coverage", [coverage("k1-cov-a", "k1", "2025-01-01", "2026-01-20"), by_member_id, by_urn])
    return folder


def _main(folder: Path, out: Path, config: Path | None = None) -> int:
    extra = ["--config", str(config)] if config else []
    return main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet", *extra])  # fmt: skip


def test_a_coverage_no_patient_reference_names_is_a_line_not_read_named_by_line_exit_4(tmp_path, capsys):
    out = tmp_path / "out"
    code = _main(export_with_unjoined_coverage(tmp_path), out)
    printed = capsys.readouterr().out
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["coverage_without_patient_by_file"] == {"Coverage.ndjson": 2}
    assert quality["coverage_without_patient_named"] == dict.fromkeys(NAMED, 1)
    assert quality["other_resources_without_patient_by_file"] == {}
    assert code == LINES_NOT_READ
    assert printed.splitlines()[-1] == f"not read (exit status 4): 2 lines ({', '.join(NAMED)})"
    assert "2 Coverage no Patient reference names (lines not read: enrolment read without it), by file" in printed
    assert MEMBER_ID not in printed and "urn:uuid" not in printed  # no member id printed


def test_malformed_lines_ok_lets_a_scheduler_accept_it_and_the_line_still_names_it(tmp_path, capsys):
    folder = export_with_unjoined_coverage(tmp_path)
    code = main(["population", str(folder), "--out", str(tmp_path / "out"), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet", "--malformed-lines-ok"])  # fmt: skip
    last = capsys.readouterr().out.splitlines()[-1]
    assert code == 0 and last.startswith("not read (exit status 0: --malformed-lines-ok): 2 lines (Coverage.ndjson")


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_names_unjoined_coverage_as_duckdb_does(tmp_path):
    files = ndjson_files(export_with_unjoined_coverage(tmp_path))
    spark_names_as_duckdb_does(files, tmp_path, CONTINUOUS, NAMED, "coverage_without_patient", NAMED)
