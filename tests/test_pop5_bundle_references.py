"""A transaction or collection Bundle line names its member by the Patient entry's `fullUrl` (`urn:uuid:…`), as an
HIE writes it: the fills are filed under that entry's Patient id, on both engines (one function, `bundle_entries`,
feeds both). A `urn:uuid` that names no Patient entry of its own Bundle (another line's, or an entry with no id) is
still named as a fill without patient (before, every `urn:uuid` reference was, and the run exited with status 4)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from synthetic_export import MORPHINE_ER_15, OXYCODONE_5, dispense, organization, patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.cli import main
from smart_app.population.command import LINES_NOT_READ, exit_status, review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason
from smart_app.population.worker import bundle_entries

FILE = "hie/transactions.ndjson"


def transaction(pid: str, member_url: str, fills: list[dict], patient_id: bool = True) -> dict:
    """An HIE's transaction Bundle: the member POSTed under a `urn:uuid` fullUrl, the fills naming that fullUrl."""
    member = patient(pid, "1961-09-30", gp="Practitioner/pcp1")
    if not patient_id:
        del member["id"]  # a POST may leave the id to the server
    for fill in fills:
        fill["subject"] = {"reference": member_url}
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": member_url, "resource": member, "request": {"method": "POST", "url": "Patient"}},
            *(
                {"fullUrl": f"urn:uuid:{fill['id']}", "resource": fill,
                 "request": {"method": "POST", "url": "MedicationDispense"}}
                for fill in fills
            ),
        ],
    }  # fmt: skip


def fills(pid: str) -> list[dict]:
    """Two oxycodone fills of 30 days at 90 MME/day... and one morphine ER: OHD's denominator and numerator."""
    return [
        dispense(f"{pid}-1", pid, OXYCODONE_5, "2026-01-12", 180, 30, "pcp1", "ph1"),
        dispense(f"{pid}-2", pid, MORPHINE_ER_15, "2026-02-11", 120, 30, "pcp1", "ph1"),
    ]


def export(tmp_path: Path, *bundles: dict) -> Path:
    folder = tmp_path / "in"
    write_export(folder, [practitioner("pcp1", "Dr. Pat Care"), organization("ph1")])
    (folder / "hie").mkdir()
    (folder / FILE).write_text("".join(json.dumps(bundle) + "\n" for bundle in bundles))
    return folder


def run(folder: Path, out: Path) -> int:
    return main(["population", str(folder), "--out", str(out), "--period", "2026-01-01/2026-03-31",
                 "--today", "2026-04-15", "--workers", "1", "--quiet"])  # fmt: skip


def review_on_both_engines(tmp_path: Path, folder: Path) -> tuple[Any, Any]:
    """`folder` reviewed by DuckDB into tmp_path/duck and by Spark into tmp_path/spark: the two results."""
    files = ndjson_files(folder)
    config = GuidelineConfig.from_mapping()
    duck = review(files, tmp_path / "duck", PERIOD, TODAY, config, "duckdb", workers=1)
    spark = review(files, tmp_path / "spark", PERIOD, TODAY, config, "spark", master="local[2]")
    return duck, spark


def rows_on_both_engines(tmp_path: Path) -> list[list[tuple]]:
    """patients.parquet's rows as DuckDB, then Spark, wrote them (after review_on_both_engines)."""
    con = duckdb.connect()
    return [con.execute(f"SELECT * FROM '{tmp_path / side}/patients.parquet'").fetchall() for side in ("duck", "spark")]


def quality_on_both_engines(tmp_path: Path, key: str) -> list[Any]:
    """data-quality.json's `key` as DuckDB, then Spark, wrote it (after review_on_both_engines)."""
    return [json.loads((tmp_path / side / "data-quality.json").read_text())[key] for side in ("duck", "spark")]


def test_a_fill_naming_its_bundles_patient_entry_by_urn_uuid_is_that_patients(tmp_path, capsys):
    out = tmp_path / "out"
    member_url = "urn:uuid:6f1b3c9e-2a41-4f0e-9d3e-5b7c2a9e4d11"
    code = run(export(tmp_path, transaction("H1", member_url, fills("H1"))), out)
    last = capsys.readouterr().out.splitlines()[-1]
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["fills_without_patient_by_file"] == {} and quality["fills_without_patient_named"] == {}
    con = duckdb.connect()
    rows = con.execute(f"SELECT patient_id, pcp_id, opioid_fills, ohd_den FROM '{out}/patients.parquet'").fetchall()
    assert rows == [("H1", "pcp1", 2, True)]
    assert code == 0 and last == "read: every line of every input file"


def test_a_urn_uuid_naming_no_patient_entry_of_its_own_bundle_is_still_named(tmp_path, capsys):
    """Line 2's fill names line 1's member by its urn:uuid (a reference resolves inside its Bundle only): it is named;
    line 1 is read whole."""
    shared = "urn:uuid:0b9e7d4c-1f2a-4c3b-8e5d-6a7b8c9d0e1f"
    other = transaction("H2", "urn:uuid:7d7d7d7d-0000-4000-8000-000000000002", fills("H2"))
    other["entry"][1]["resource"]["subject"] = {"reference": shared}
    other["entry"][2]["resource"]["subject"] = {"reference": "urn:uuid:7d7d7d7d-0000-4000-8000-000000000002"}
    out = tmp_path / "out"
    code = run(export(tmp_path, transaction("H1", shared, fills("H1")), other), out)
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["fills_without_patient_named"] == {
        f"{FILE} line 2 entry 2: MedicationDispense whose patient no Patient reference names": 1,
    }
    con = duckdb.connect()
    rows = con.execute(f"SELECT patient_id, opioid_fills FROM '{out}/patients.parquet' ORDER BY 1").fetchall()
    assert rows == [("H1", 2), ("H2", 1)]
    assert code == LINES_NOT_READ
    assert "urn:uuid" not in capsys.readouterr().out


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_files_the_urn_uuid_fills_as_duckdb_does(tmp_path):
    member_url = "urn:uuid:6f1b3c9e-2a41-4f0e-9d3e-5b7c2a9e4d11"
    duck, spark = review_on_both_engines(tmp_path, export(tmp_path, transaction("H1", member_url, fills("H1"))))
    assert exit_status(duck) == exit_status(spark) == 0
    rows = rows_on_both_engines(tmp_path)
    assert rows[0] == rows[1] and [row[0] for row in rows[0]] == ["H1"]


def test_a_medication_reference_to_its_bundles_medication_entry_is_read_as_that_medication():
    """An order naming its drug by the Bundle's Medication entry (R4 `medicationReference`, R5 `medication.reference`)
    is joined to that Medication as an order naming `Medication/id` is; the entry's own line says so too."""
    medication = {
        "resourceType": "Medication",
        "id": "med-oxy5",
        "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": OXYCODONE_5[0]}]},
    }
    r4 = {
        "resourceType": "MedicationRequest",
        "id": "rx1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "urn:uuid:aa11"},
        "medicationReference": {"reference": "urn:uuid:bb22"},
    }
    r5 = {
        "resourceType": "MedicationRequest",
        "id": "rx2",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "urn:uuid:aa11"},
        "medication": {"reference": {"reference": "urn:uuid:bb22"}},
    }
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:aa11", "resource": patient("H1")},
        {"fullUrl": "urn:uuid:bb22", "resource": medication},
        {"fullUrl": "urn:uuid:cc33", "resource": r4},
        {"fullUrl": "urn:uuid:dd44", "resource": r5},
    ]}  # fmt: skip
    entries = bundle_entries(json.dumps(bundle))
    assert [json.loads(entry.keys)[:4] for entry in entries[2:]] == [
        ["MedicationRequest", "rx1", "Patient/H1", "Medication/med-oxy5"],
        ["MedicationRequest", "rx2", "Patient/H1", "Medication/med-oxy5"],
    ]
    assert json.loads(entries[3].line)["medication"] == {"reference": {"reference": "Medication/med-oxy5"}}
    assert r4["subject"] == {"reference": "urn:uuid:aa11"}  # the Bundle's own resources are left as they were


def test_every_reference_to_an_entry_of_the_bundle_is_read_as_that_entry(tmp_path):
    """An HIE's transaction names the member's PCP, and the fills' prescriber, by the Practitioner entry's urn:uuid:
    the member is attributed to that clinician (`pcp`), not to a PCP "not in the directory"."""
    pcp_url = "urn:uuid:3c1d9a7e-5b2f-4e8a-9c6d-1f0e2d3c4b5a"
    bundle = transaction("H1", "urn:uuid:6f1b3c9e-2a41-4f0e-9d3e-5b7c2a9e4d11", fills("H1"))
    bundle["entry"][0]["resource"]["generalPractitioner"] = [{"reference": pcp_url}]
    for entry in bundle["entry"][1:]:
        entry["resource"]["performer"] = [{"actor": {"reference": pcp_url}}]
    bundle["entry"].append({"fullUrl": pcp_url, "resource": practitioner("pcp9", "Dr. Ada Lovelace"),
                            "request": {"method": "POST", "url": "Practitioner"}})  # fmt: skip
    out = tmp_path / "out"
    assert run(export(tmp_path, bundle), out) == 0
    con = duckdb.connect()
    rows = con.execute(f"SELECT patient_id, pcp_id, pcp_name, attribution FROM '{out}/patients.parquet'").fetchall()
    assert rows == [("H1", "pcp9", "Dr. Ada Lovelace", "pcp")]
