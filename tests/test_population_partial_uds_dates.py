"""Population review: a urine drug test dated to the month or the year only counts for AMO only when every day it
can mean is in the 12 months; one that straddles their edge is not counted, and is counted in data quality."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from synthetic_export import OXYCODONE_5, dispense, patient, urine_test, write_export

from guideline.config import GuidelineConfig
from guideline.population import Period
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

# A fiscal year, not a calendar one: its 12 months run from 2025-07-01 to 2026-06-30.
FISCAL = Period(date(2025, 7, 1), date(2026, 6, 30))
TODAY = date(2026, 7, 15)
CPT = "http://www.ama-assn.org/go/cpt"
LOINC = "http://loinc.org"


def _fills() -> list[dict[str, Any]]:
    """90 days' opioid supply in the year: the patient is in AMO's denominator."""
    return [
        dispense(f"m{n}", "p-mon", OXYCODONE_5, day, 60, 30)
        for n, day in enumerate(("2026-01-05", "2026-02-04", "2026-03-06"))
    ]


def _result(when: str) -> dict[str, Any]:
    return urine_test("u1", "p-mon", when)


def _procedure(when: str) -> dict[str, Any]:
    """A point-of-care cup billed as CPT 80305, dated as the chart wrote it."""
    return {
        "resourceType": "Procedure",
        "id": "pr1",
        "status": "completed",
        "subject": {"reference": "Patient/p-mon"},
        "code": {"coding": [{"system": CPT, "code": "80305", "display": "Drug test presumptive, direct optical"}]},
        "performedDateTime": when,
    }


def _report(when: str) -> dict[str, Any]:
    """A lab's drug screen report with only its conclusion, no result the review reads."""
    return {
        "resourceType": "DiagnosticReport",
        "id": "dr1",
        "status": "final",
        "subject": {"reference": "Patient/p-mon"},
        "code": {"coding": [{"system": LOINC, "code": "19295-5"}], "text": "Drug screen, urine"},
        "effectiveDateTime": when,
        "conclusion": "All drug classes negative.",
    }


def _run(tmp_path: Path, test: dict[str, Any], period: Period = FISCAL) -> tuple[dict[str, str], dict[str, Any]]:
    write_export(tmp_path / "in", [patient("p-mon"), *_fills(), test])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", period, TODAY, GuidelineConfig.from_mapping(), workers=1)
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["patient_id"] == "p-mon")
    return row, json.loads((tmp_path / "out" / "data-quality.json").read_text())


@pytest.mark.parametrize("make", [_result, _procedure, _report], ids=["result", "procedure", "report"])
@pytest.mark.parametrize(
    ("written", "counted", "named"),
    [
        ("2026-03-10", True, 0),  # a day: as before
        ("2026-05", True, 0),  # every day of May 2026 is in the year
        ("2026", False, 1),  # July to December 2026 are after it: may be after the period, not counted, named
        ("2025", False, 1),  # January to June 2025 are before it
        ("2024", False, 0),  # wholly before: no test in the year, nothing unsettled
    ],
)
def test_a_test_dated_to_the_month_or_year_counts_only_when_all_its_days_are_in_the_year(
    tmp_path: Path, make: Any, written: str, counted: bool, named: int
) -> None:
    row, quality = _run(tmp_path, make(written))
    assert (row["amo_den"], row["amo_num"]) == ("true", "true" if counted else "false")
    assert quality["drug_tests_dated_partly_in_year"] == named


def test_a_month_only_test_is_not_read_as_the_first_when_the_year_starts_mid_month(tmp_path: Path) -> None:
    # The 12 months to 2027-05-14 start on 2026-05-15: "2026-05" may be before or after that day.
    period = Period(date(2027, 4, 1), date(2027, 5, 14))
    fills = [
        dispense(f"m{n}", "p-mon", OXYCODONE_5, day, 60, 30)
        for n, day in enumerate(("2026-12-05", "2027-01-04", "2027-04-06"))
    ]
    write_export(tmp_path / "in", [patient("p-mon"), *fills, _result("2026-05")])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", period, date(2027, 6, 1), GuidelineConfig.from_mapping())
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["patient_id"] == "p-mon")
    assert (row["amo_den"], row["amo_num"]) == ("true", "false")
    assert json.loads((tmp_path / "out" / "data-quality.json").read_text())["drug_tests_dated_partly_in_year"] == 1


def test_the_evidence_names_a_month_only_test_as_written(tmp_path: Path) -> None:
    row, _ = _run(tmp_path, _result("2026-05"))
    (line,) = json.loads(row["evidence"])["AMO"]
    assert line.endswith("urine drug test dated 2026-05")  # never "on 2026-05-01", a day it may not have been


def test_a_panel_of_results_dated_to_the_year_is_counted_once(tmp_path: Path) -> None:
    # One cup, its substances sent as results of their own (oxycodone, fentanyl), all dated "2026": one test unsettled.
    second = {**urine_test("u2", "p-mon", "2026", code="58379-9")}
    write_export(tmp_path / "in", [patient("p-mon"), *_fills(), _result("2026"), second])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", FISCAL, TODAY, GuidelineConfig.from_mapping(), workers=1)
    assert json.loads((tmp_path / "out" / "data-quality.json").read_text())["drug_tests_dated_partly_in_year"] == 1
