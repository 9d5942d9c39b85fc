"""Both engines read enrolment alike: identical patients and measures tables, enrolment columns and counts."""

from __future__ import annotations

import json

import duckdb
import pytest
from synthetic_export import write_export, write_ndjson, write_synthetic_export
from test_population_enrolment import CONTINUOUS, NAMED, coverage, high_dose
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files
from smart_app.population.spark_engine import java_missing_reason

pytestmark = pytest.mark.skipif(java_missing_reason() is not None, reason=java_missing_reason() or "")

ENROLMENT = ("enrolled_days", "enrolment_gaps", "longest_enrolment_gap_days", "ohd_den", "excluded")


def _export(source) -> None:
    """Members enrolled all quarter (a plan change), to 20 January, with a 10-day gap, with two gaps, with a Coverage
    that cannot be read, with none at all, and one named as DSTU2's subscriber; a few hundred synthetic others."""
    write_synthetic_export(source, 120, seed=5)
    members = [f"m{n}" for n in range(7)]
    write_export(source / "members", [resource for pid in members for resource in high_dose(pid)])
    subscriber = coverage("m6-cov", "m6", "2025-01-01", "2026-02-09", status=None)
    subscriber["subscriber"] = subscriber.pop("beneficiary")
    coverages = [
        coverage("m0-a", "m0", "2025-07-01", "2026-02-14"),
        coverage("m0-b", "m0", "2026-02-15T00:00:00-05:00", None),
        coverage("m1-cov", "m1", "2025-01-01", "2026-01-20"),
        coverage("m2-a", "m2", "2025-01-01", "2026-02-09"),
        coverage("m2-b", "m2", "2026-02-20", "9999-12-31"),
        coverage("m3-a", "m3", "2025-01-01", "2026-01-09"),
        coverage("m3-b", "m3", "2026-01-15", "2026-02-27"),
        coverage("m3-c", "m3", "2026-03-05", None),
        coverage("m4-cov", "m4", "2026-13-01", None),
        subscriber,
    ]
    write_ndjson(source, "Coverage", coverages)


def _both(source, tmp_path, config: GuidelineConfig) -> tuple[list, dict]:
    review(ndjson_files(source), tmp_path / "duck", PERIOD, TODAY, config, "duckdb", workers=2)
    review(ndjson_files(source), tmp_path / "spark", PERIOD, TODAY, config, "spark", master="local[2]")
    con = duckdb.connect()
    for table in ("patients", "measures"):
        duck = con.execute(f"SELECT * FROM '{tmp_path / 'duck' / table}.parquet' ORDER BY ALL").fetchall()
        spark = con.execute(f"SELECT * FROM '{tmp_path / 'spark' / table}.parquet' ORDER BY ALL").fetchall()
        assert duck == spark, table
    assert (tmp_path / "duck" / "patients.csv").read_bytes() == (tmp_path / "spark" / "patients.csv").read_bytes()
    quality = {
        engine: json.loads((tmp_path / engine / "data-quality.json").read_text()) for engine in ("duck", "spark")
    }
    assert {k: v for k, v in quality["duck"].items() if k != "run"} == {
        k: v for k, v in quality["spark"].items() if k != "run"
    }
    columns = ", ".join(("patient_id", *ENROLMENT))
    rows = con.execute(
        f"SELECT {columns} FROM '{tmp_path / 'duck' / 'patients'}.parquet' WHERE patient_id LIKE 'm_' ORDER BY 1"
    ).fetchall()
    return rows, quality["duck"]


def test_both_engines_read_enrolment_alike_under_continuous_enrolment(tmp_path) -> None:
    source = tmp_path / "in"
    _export(source)
    rows, quality = _both(source, tmp_path, CONTINUOUS)
    gap = "not continuously enrolled (1 gap, the longest 70 days)"
    assert rows == [
        ("m0", 90, 0, None, True, None),
        ("m1", 20, 1, 70, False, gap),
        ("m2", 80, 1, 10, True, None),
        ("m3", 80, 2, 5, False, "not continuously enrolled (2 gaps, the longest 5 days)"),
        ("m4", None, None, None, True, None),
        ("m5", None, None, None, True, None),
        ("m6", 40, 1, 50, False, "not continuously enrolled (1 gap, the longest 50 days)"),
    ]
    assert quality["members_not_continuously_enrolled"] == 3
    assert quality["members_enrolment_gap_allowed"] == 1
    assert quality["coverage_not_read"] == {"Coverage/m4-cov: period.start '2026-13-01' is not a date": 1}
    assert quality["members_enrolment_not_stated"] >= 2  # m4, m5 and the synthetic members (no Coverage)


def test_both_engines_name_enrolment_gaps_alike_by_default(tmp_path) -> None:
    source = tmp_path / "in"
    _export(source)
    rows, quality = _both(source, tmp_path, NAMED)
    assert [row[4] for row in rows] == [True] * 7
    assert quality["members_enrolled_part_of_period"] == 4
