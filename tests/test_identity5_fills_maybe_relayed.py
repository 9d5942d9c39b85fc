"""Every fill naming a `meta.source`. An EHR that stamps its own FHIR base on every resource beside the pharmacy fills
a regional HIE relayed back under its own ids leaves no fill "the export's own": the point of care's rule
(`sent_twice.relayed_fills`) then found no copy, both fills were read (the copy queued as an early refill, the first
days of an episode at 120 MME a day for 60) and nothing was said anywhere, while the same pair of orders was counted
in `orders_maybe_relayed`. Fills now follow the orders' rule: both are still read (which one is the EHR's cannot be
told), each pair is counted by its two sources in `fills_maybe_relayed` (a problem in the summary and on the
dashboard), and the patient's evidence (and so the letter) names both fills. `population.own_sources` reads the copy
once. Both engines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from synthetic_export import patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY
from test_relayed2_population_relayed_fills import HIE, fill

from guideline.config import GuidelineConfig
from guideline.population import Directory, evaluate_patient
from guideline.population.quality import quality_lines
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

EHR = "https://ehr.example.org/fhir"
PAIR = f"{EHR} and {HIE}"


def both_stamped(day: str = "2026-02-04", number: str = "RX884213-1") -> list[dict[str, Any]]:
    """The pharmacy's fill as the EHR exports it (its own base in `meta.source`) and the HIE's copy of it."""
    ours = fill("eDisp.1", day, number, f"{EHR}#a81c2e")
    copy = fill("hDisp.1", day, number, f"{HIE}#7f3e", pharmacy="hie-org-88", order="hie-rx-41")
    return [ours, copy]


def evaluated(resources: list[dict[str, Any]], settings: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    directory = Directory(roles={}, practitioner_orgs={}, names={}, conflicts=0)
    config = GuidelineConfig.from_mapping(settings)
    outcome = evaluate_patient("p1", [patient("p1", "1961-09-30"), *resources], PERIOD, config, TODAY, directory)
    assert outcome.row is not None
    return outcome.row, outcome.quality


def test_every_fill_naming_a_source_reads_both_but_counts_and_names_the_pair() -> None:
    row, quality = evaluated(both_stamped())
    assert (row["opioid_fills"], row["days_supply"], quality.fills_relayed) == (2, 60.0, 0)
    assert quality.fills_maybe_relayed == {PAIR: 1}
    said = json.loads(row["evidence"])["fills_maybe_relayed"]
    assert len(said) == 1
    assert said[0].startswith(f"MedicationDispense/eDisp.1 (from {EHR}) and MedicationDispense/hDisp.1 (from {HIE})")
    assert "may be one fill sent by two systems, counted twice here" in said[0]
    line = next(line for line in quality_lines(quality.to_json()) if line.key == "fills_maybe_relayed")
    assert line.kind == "problem" and PAIR in line.text and line.text.startswith("1 ")


def test_the_sites_own_source_reads_the_hies_copy_of_the_fill_once() -> None:
    row, quality = evaluated(both_stamped(), {"population": {"own_sources": [EHR]}})
    assert (row["opioid_fills"], row["days_supply"], quality.fills_relayed) == (1, 30.0, 1)
    assert quality.fills_maybe_relayed == {}
    assert "fills_maybe_relayed" not in json.loads(row["evidence"])


def test_fills_of_one_source_or_not_alike_are_no_pair() -> None:
    ours, copy = both_stamped()
    other_day = fill("hDisp.1", "2026-02-05", "RX884213-1", f"{HIE}#7f3e")
    same_server = fill("eDisp.2", "2026-02-04", "RX884213-1", f"{EHR}#c0ffee")
    for resources in ([ours, other_day], [ours, same_server], [ours]):
        row, quality = evaluated(resources)
        assert (quality.fills_relayed, quality.fills_maybe_relayed) == (0, {}), resources
        assert "fills_maybe_relayed" not in json.loads(row["evidence"])


def ran(tmp_path: Path, engine: str) -> Path:
    out = tmp_path / engine
    pcp = patient("p1", "1961-09-30", gp="Practitioner/pcp1", name="Rivera")
    files = ndjson_files(
        write_export(tmp_path / "export", [pcp, practitioner("pcp1", "Dr. Ana Okafor"), *both_stamped()])
    )
    master = "local[2]" if engine == "spark" else None
    review(files, out, PERIOD, TODAY, GuidelineConfig.from_mapping(), engine, master=master, workers=1)
    return out


def evidence(out: Path) -> list[str]:
    (found,) = duckdb.connect().execute(f"SELECT evidence FROM '{out}/patients.parquet'").fetchone() or (None,)
    return json.loads(found or "{}").get("fills_maybe_relayed", [])


def test_a_duckdb_run_counts_the_pair_in_data_quality(tmp_path: Path) -> None:
    out = ran(tmp_path, "duckdb")
    assert json.loads((out / "data-quality.json").read_text())["fills_maybe_relayed"] == {PAIR: 1}
    assert len(evidence(out)) == 1


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_counts_the_pair_as_duckdb_does(tmp_path: Path) -> None:
    sides = [ran(tmp_path, engine) for engine in ("duckdb", "spark")]
    for side in sides:
        assert json.loads((side / "data-quality.json").read_text())["fills_maybe_relayed"] == {PAIR: 1}
    assert evidence(sides[0]) == evidence(sides[1]) and len(evidence(sides[0])) == 1
