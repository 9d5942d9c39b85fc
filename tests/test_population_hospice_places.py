"""The population review joins a visit's Location by reference across a Bulk export: a Bulk export sends Locations in
their own Location.ndjson, not contained in the Encounter, and a stay at a place typed hospice excludes the patient
on the DuckDB path and the Spark path alike, as at the point of care."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from synthetic_export import patient, write_export
from test_hospice_point_of_care import POS_HOSPICE, epic_stay_at
from test_population_measure_edges import _high_dose
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

HOSPICE = "hospice or palliative care (encounter)"
NUCC_COMMUNITY_HOSPICE = {"system": "http://nucc.org/provider-taxonomy", "code": "251G00000X"}


def location(ident: str, name: str, *codings: dict[str, str], text: str = "Hospice") -> dict[str, Any]:
    return {"resourceType": "Location", "id": ident, "name": name, "type": [{"coding": list(codings), "text": text}]}


def stay(pid: str, ident: str, reference: str, display: str | None = None) -> dict[str, Any]:
    place = {"reference": reference, **({"display": display} if display else {})}
    return {**epic_stay_at(pid, place), "id": ident}


def places_export() -> list[dict[str, Any]]:
    """Four patients on 90 MME/day with an Epic stay going on since 20 March: at a Location typed hospice (place of
    service 34) sent in Location.ndjson, named by no display; at one typed by NUCC's community hospice taxonomy, named
    by an absolute versioned reference; at a ward; and at a place whose Location the export does not hold, named
    hospice by its display only."""
    people = ["p-pos34", "p-nucc", "p-ward", "p-name"]
    resources: list[dict[str, Any]] = [item for pid in people for item in (patient(pid), *_high_dose(pid))]
    resources += [
        stay("p-pos34", "eCTH.1", "Location/loc-cth"),
        stay("p-nucc", "eCTH.2", "https://fhir.payer.example/R4/Location/loc-home/_history/3", "Home"),
        stay("p-ward", "eWard.1", "Location/loc-ward", "5 North"),
        stay("p-name", "eName.1", "Location/loc-gone", "Connecticut Hospice, Branford"),
        location("loc-cth", "Connecticut Hospice, Branford", POS_HOSPICE),
        location("loc-home", "Hospice at Home", NUCC_COMMUNITY_HOSPICE),
        location("loc-ward", "5 North Medical", text="Inpatient ward"),
    ]
    return resources


EXPECTED = [("p-name", None), ("p-nucc", HOSPICE), ("p-pos34", HOSPICE), ("p-ward", None)]


def excluded(out: Path) -> list[tuple[str, str | None]]:
    rows = duckdb.connect().execute(f"SELECT patient_id, excluded FROM '{out / 'patients'}.parquet' ORDER BY 1")
    return rows.fetchall()


def test_a_stay_at_a_location_sent_in_its_own_file_is_joined_by_reference_on_duckdb(tmp_path: Path) -> None:
    # Before, only a Location contained in the Encounter was read: every patient here stayed in the measures.
    write_export(tmp_path / "in", places_export())
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    assert excluded(tmp_path / "out") == EXPECTED
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["hospice_not_counted"] == {"p-name": 1}


@pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")
def test_spark_joins_the_location_as_duckdb_does(tmp_path: Path) -> None:
    from test_population_spark import both_engines

    write_export(tmp_path / "in", places_export())
    both_engines(ndjson_files(tmp_path / "in"), tmp_path)
    assert excluded(tmp_path / "spark") == EXPECTED
