"""The HIE's copy of a pharmacy fill in the population review. An EHR's Bulk export holds the pharmacy's fills (each
carrying its Surescripts prescription-fill number) and the copies a regional HIE relayed back under ids of its own,
with its own links (the HIE's order and pharmacy ids) and `meta.source` naming the HIE. Read twice, each monthly
fill of oxycodone 10 mg, 120 tablets for 30 days (60 MME a day), was two: the first days of the episode at 120 MME a
day (IOP-HD's evidence), the copy queued as an early refill (180 days' supply for 90), 6 fills from 2 pharmacies
(the HIE's organisation id read as a second pharmacy). The review reads such a copy once by the point of care's one
rule (`sent_twice.relayed_fills`), counted in `fills_relayed`. Anything less than the same fill number, drug, day,
quantity and days' supply stays two fills (an over-count, never a loss). Both engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from synthetic_export import OXYCODONE_10, dispense, patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, evaluate_patient
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

RX_FILL = "urn:oid:2.16.840.1.113883.3.7418.1.4"  # the pharmacy's prescription-fill number (Surescripts, NCPDP)
HIE = "https://hie.example.org/fhir"


def fill(
    ident: str, filled: str, number: str, source: str | None = None, pharmacy: str = "cvs-4471", order: str = "eRx.1"
) -> dict[str, Any]:
    """Oxycodone 10 mg, 120 tablets for 30 days (60 MME a day), prescribed by pcp1, numbered by the pharmacy."""
    resource = dispense(ident, "p1", OXYCODONE_10, filled, 120, 30, prescriber="pcp1", pharmacy=pharmacy, order=order)
    resource["identifier"] = [{"system": RX_FILL, "value": number}]
    if source is not None:
        resource["meta"] = {"source": source, "lastUpdated": f"{filled}T18:40:02Z"}
    return resource


def relayed(ident: str, filled: str, number: str, **changes: Any) -> dict[str, Any]:
    """The HIE's copy: its own id, its own order and pharmacy ids, `meta.source` the HIE (HAPI's base#request)."""
    return {**fill(ident, filled, number, f"{HIE}#7f3e", pharmacy="hie-org-88", order="hie-rx-41"), **changes}


def three_months() -> list[dict[str, Any]]:
    """January's, February's and March's fills, each also relayed back by the HIE."""
    days = (("2026-01-05", "RX884213-0"), ("2026-02-04", "RX884213-1"), ("2026-03-06", "RX884213-2"))
    return [
        resource
        for n, (day, number) in enumerate(days)
        for resource in (fill(f"eDisp.{n}", day, number), relayed(f"hDisp.{n}", day, number))
    ]


def evaluated(resources: list[dict[str, Any]]) -> tuple[dict[str, Any], Any]:
    directory = Directory(roles={}, practitioner_orgs={}, names={}, conflicts=0)
    config = GuidelineConfig.from_mapping()
    outcome = evaluate_patient("p1", [patient("p1", "1961-09-30"), *resources], PERIOD, config, TODAY, directory)
    assert outcome.row is not None
    return outcome.row, outcome.quality


def test_the_hies_copy_of_a_fill_is_read_once_and_counted():
    row, quality = evaluated(three_months())
    assert (row["source"], row["opioid_fills"], row["days_supply"], row["pharmacies"]) == ("fills", 3, 90.0, 1)
    assert (row["avg_mme"], row["peak_mme"]) == (60.0, 60.0)
    assert "first 3 days: 60.0 MME/day in total, 30 days' supply" in json.loads(row["evidence"])["IOP-HD"][0]
    assert (quality.fills_relayed, quality.duplicate_fills) == (3, 0)


def test_anything_less_than_the_same_fill_stays_two_fills():
    ours = fill("eDisp.0", "2026-02-04", "RX884213-1")
    for copy in (
        relayed("hDisp.0", "2026-02-04", "RX884213-2"),  # another fill number
        relayed("hDisp.0", "2026-02-05", "RX884213-1"),  # another day
        relayed("hDisp.0", "2026-02-04", "RX884213-1", quantity={"value": 60}),  # another quantity
        {**relayed("hDisp.0", "2026-02-04", "RX884213-1"), "meta": {"source": "#a81c2e"}},  # no source named
    ):
        row, quality = evaluated([ours, copy])
        assert (row["opioid_fills"], row["days_supply"], quality.fills_relayed) == (2, 60.0, 0), copy


def ran(tmp_path: Path, engine: str) -> Path:
    out = tmp_path / engine
    pcp = patient("p1", "1961-09-30", gp="Practitioner/pcp1", name="Rivera")
    files = ndjson_files(
        write_export(tmp_path / "export", [pcp, practitioner("pcp1", "Dr. Ana Okafor"), *three_months()])
    )
    master = "local[2]" if engine == "spark" else None
    review(files, out, PERIOD, TODAY, GuidelineConfig.from_mapping(), engine, master=master, workers=1)
    return out


def patients(out: Path) -> list[tuple[Any, ...]]:
    query = f"SELECT patient_id, opioid_fills, days_supply, pharmacies FROM '{out}/patients.parquet'"
    return duckdb.connect().execute(query).fetchall()


def test_a_duckdb_run_reads_each_copy_once_and_counts_it(tmp_path):
    out = ran(tmp_path, "duckdb")
    assert json.loads((out / "data-quality.json").read_text())["fills_relayed"] == 3
    assert patients(out) == [("p1", 3, 90.0, 1)]


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_reads_each_copy_once_as_duckdb_does(tmp_path):
    sides = [ran(tmp_path, engine) for engine in ("duckdb", "spark")]
    for side in sides:
        assert json.loads((side / "data-quality.json").read_text())["fills_relayed"] == 3
    assert patients(sides[0]) == patients(sides[1]) == [("p1", 3, 90.0, 1)]
