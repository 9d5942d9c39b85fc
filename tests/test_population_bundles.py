"""An "export" whose lines are FHIR Bundles (a payer's or HIE's file of searchset, collection or transaction Bundles,
one a line) is read: each Bundle line's `entry[].resource` is read as if it were a line of its own, on either engine.
An entry that cannot be read is named by the Bundle's line and the entry's number, and only then is the run partial
(before: the file was named "read in part", its entries unread, and the run exited with status 3; and before that,
counted only as an unexpected resource type "Bundle", the measures came out empty and the run exited 0)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from synthetic_export import OXYCODONE_5, dispense, organization, patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.cli import main
from smart_app.population.command import LINES_NOT_READ, exit_status, review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

FILE = "claims/payer-bundles.ndjson"
BASE = "https://api.payer.example/fhir/R4"


def payer_bundle(pid: str, fill_days: tuple[str, str]) -> dict:
    """One line of a payer's file: a searchset Bundle of a member and their two oxycodone fills, as a payer's Patient
    Access API pages it (fullUrl, search.mode), the fills' patient by reference."""
    member = patient(pid, "1968-04-02", gp="Practitioner/pcp1")
    fills = [
        dispense(f"{pid}-fill{n}", pid, OXYCODONE_5, day, 120, 30, "pcp1", "ph1") for n, day in enumerate(fill_days)
    ]
    return {
        "resourceType": "Bundle",
        "id": f"page-{pid}",
        "type": "searchset",
        "total": 3,
        "link": [{"relation": "self", "url": f"{BASE}/Patient?_id={pid}&_revinclude=MedicationDispense:subject"}],
        "entry": [
            {"fullUrl": f"{BASE}/Patient/{pid}", "resource": member, "search": {"mode": "match"}},
            *(
                {"fullUrl": f"{BASE}/MedicationDispense/{fill['id']}", "resource": fill, "search": {"mode": "include"}}
                for fill in fills
            ),
        ],
    }


def hie_transaction(pid: str) -> dict:
    """An HIE's transaction Bundle: a member and a fill that names them by the entry's `urn:uuid` (no Patient/id:
    filed under the entry's Patient id, see test_pop5_bundle_references), a DELETE of an earlier fill (a request,
    no resource) and an entry whose resource has no resourceType."""
    member_url = "urn:uuid:6f1b3c9e-2a41-4f0e-9d3e-5b7c2a9e4d11"
    fill = dispense(f"{pid}-hie", pid, OXYCODONE_5, "2026-02-20", 60, 15, "pcp1", "ph1")
    fill["subject"] = {"reference": member_url}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": member_url, "resource": patient(pid), "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": "urn:uuid:0c2d", "resource": fill, "request": {"method": "POST", "url": "MedicationDispense"}},
            {"request": {"method": "DELETE", "url": "MedicationDispense/old-1"}},
            {"resource": {"id": "x", "status": "completed"}, "request": {"method": "POST", "url": "Observation"}},
        ],
    }


def export_with_bundles(tmp_path: Path, *bundles: dict) -> Path:
    """A folder with a directory file and a payer's claims folder whose one file holds the Bundle lines."""
    folder = tmp_path / "in"
    write_export(folder, [practitioner("pcp1", "Dr. Pat Care"), organization("ph1")])
    (folder / "claims").mkdir()
    (folder / FILE).write_text("".join(json.dumps(bundle) + "\n" for bundle in bundles))
    return folder


def run(folder: Path, out: Path, *more: str) -> int:
    return main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet", *more])  # fmt: skip


def test_a_file_of_payer_bundles_is_read_entry_by_entry_and_exits_0(tmp_path, capsys):
    bundles = payer_bundle("M1", ("2026-01-10", "2026-02-09")), payer_bundle("M2", ("2026-02-11", "2026-03-12"))
    out = tmp_path / "out"
    code = run(export_with_bundles(tmp_path, *bundles), out)
    lines = capsys.readouterr().out.splitlines()
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["input_files_not_read"] == {}
    assert quality["resources_by_type"] == {
        "Bundle": 2, "MedicationDispense": 4, "Organization": 1, "Patient": 2, "Practitioner": 1
    }  # fmt: skip
    assert "Bundle" not in quality["unexpected_resource_types"]
    con = duckdb.connect()
    patients = con.execute(f"SELECT patient_id, opioid_fills, ohd_den FROM '{out}/patients.parquet'").fetchall()
    assert patients == [("M1", 2, True), ("M2", 2, True)]
    assert code == 0 and lines[-1] == "read: every line of every input file"


def test_an_unreadable_entry_is_named_by_its_line_and_entry_and_the_rest_is_read(tmp_path, capsys):
    """Line 2 is an HIE's transaction: its DELETE and its typeless entry cannot be read; each is named by line and
    entry, status 4. Its fill, naming its member by the member entry's `urn:uuid`, is that member's (before, it was
    named as a fill without patient). Line 1's member is reviewed all the same."""
    out = tmp_path / "out"
    code = run(
        export_with_bundles(tmp_path, payer_bundle("M1", ("2026-01-10", "2026-02-09")), hie_transaction("H1")), out
    )
    lines = capsys.readouterr().out.splitlines()
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["input_files_not_read"] == {}
    assert quality["malformed_lines_named"] == {
        f"{FILE} line 2 entry 3: no resource": 1,
        f"{FILE} line 2 entry 4: not a FHIR resource (no resourceType)": 1,
    }
    assert quality["malformed_lines_by_file"] == {FILE: 2}
    assert quality["fills_without_patient_named"] == {}
    assert code == LINES_NOT_READ and lines[-1].startswith("not read (exit status 4): 2 lines (")
    assert f"{FILE} line 2 entry 3: no resource" in lines[-1]
    assert "urn:uuid" not in "\n".join(lines)
    con = duckdb.connect()
    rows = con.execute(f"SELECT patient_id, opioid_fills FROM '{out}/patients.parquet' ORDER BY 1").fetchall()
    assert rows == [("H1", 1), ("M1", 2)]


def test_a_bundle_inside_a_bundle_is_read_through(tmp_path):
    """A collection Bundle of searchset pages (an HIE's bundle of bundles): the inner Bundles' entries are read, an
    unreadable one named by both entry numbers."""
    inner = payer_bundle("M1", ("2026-01-10", "2026-02-09"))
    inner["entry"].append({"fullUrl": f"{BASE}/Observation/o1"})
    outer = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": inner}]}
    out = tmp_path / "out"
    assert run(export_with_bundles(tmp_path, outer), out) == LINES_NOT_READ
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["malformed_lines_named"] == {f"{FILE} line 1 entry 1.4: no resource": 1}
    assert quality["resources_by_type"]["MedicationDispense"] == 2 and quality["resources_by_type"]["Bundle"] == 1
    con = duckdb.connect()
    assert con.execute(f"SELECT patient_id, opioid_fills FROM '{out}/patients.parquet'").fetchall() == [("M1", 2)]


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_reads_the_bundle_entries_as_duckdb_does(tmp_path):
    files = ndjson_files(
        export_with_bundles(tmp_path, payer_bundle("M1", ("2026-01-10", "2026-02-09")), hie_transaction("H1"))
    )
    config = GuidelineConfig.from_mapping()
    duck = review(files, tmp_path / "duck", PERIOD, TODAY, config, "duckdb", workers=1)
    spark = review(files, tmp_path / "spark", PERIOD, TODAY, config, "spark", master="local[2]")
    assert duck.inputs_not_read == spark.inputs_not_read == []
    assert duck.lines_named == spark.lines_named and len(duck.lines_named) == 2
    assert exit_status(duck) == exit_status(spark) == LINES_NOT_READ
    con = duckdb.connect()
    for table in ("patients", "measures"):
        rows = [
            con.execute(f"SELECT * FROM '{tmp_path / side / table}.parquet'").fetchall() for side in ("duck", "spark")
        ]
        assert rows[0] == rows[1] and rows[0]
