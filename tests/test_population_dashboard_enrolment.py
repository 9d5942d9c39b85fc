"""The dashboard's enrolment lines: a setting it does not know said in words (never read as `name`), and members
whose enrolment could not be told from Coverage kept apart from members whose Coverage was read and leaves a gap."""

from __future__ import annotations

import json

from synthetic_export import write_export, write_ndjson
from test_population_coverage_unknown import _gap_and_unreadable
from test_population_enrolment import NAMED, coverage, high_dose
from test_population_measures import PERIOD, TODAY
from test_population_not_checked import _page

from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files


def _reviewed(tmp_path, coverages: list[dict]) -> None:
    """u7's renewal unreadable (a gap it may fill: enrolment unknown), u8 enrolled to 20 January (a 70-day gap)."""
    source = tmp_path / "in"
    write_export(source, [resource for pid in ("u7", "u8") for resource in high_dose(pid)])
    write_ndjson(source, "Coverage", coverages)
    review(ndjson_files(source), tmp_path / "runs" / "2026q1", PERIOD, TODAY, NAMED, "duckdb", workers=1)


def _rate_cell(page: str, measure: str) -> str:
    return page.split(f'<tr id="rate-{measure}">')[1].split("</tr>")[0]


def test_members_whose_enrolment_could_not_be_told_are_shown_apart_from_members_with_a_gap(tmp_path) -> None:
    _reviewed(tmp_path, [*_gap_and_unreadable("u7"), coverage("u8-a", "u8", "2025-01-01", "2026-01-20")])
    page = _page(tmp_path)
    unknown = page.split('<p id="enrolment-unknown"')[1].partition(">")[2].split("</p>")[0]
    assert unknown == (
        "Enrolment could not be told from Coverage for 1 member: a Coverage of theirs could not be read, so whether "
        "they were enrolled is not known; kept in the measures, apart from members whose Coverage was read (named by "
        "patient in data-quality.json)."
    )
    cell = _rate_cell(page, "OHD")
    gap, _, not_told = cell.partition("<strong>Enrolment could not be told from Coverage:</strong>")
    assert "1 member whose Coverage leaves a gap in the period" in gap
    assert "members whose enrolment is unknown" not in gap  # not counted among the members with a gap read
    assert "1 member whose enrolment is unknown: a Coverage of theirs could not be read" in not_told
    assert "members whose Coverage leaves a gap" not in not_told


def test_a_run_without_members_of_unknown_enrolment_has_no_such_line(tmp_path) -> None:
    _reviewed(tmp_path, [coverage(f"{pid}-a", pid, "2025-01-01", None) for pid in ("u7", "u8")])
    page = _page(tmp_path)
    assert 'id="enrolment-unknown"' not in page
    assert "Enrolment could not be told" not in page


def test_an_enrolment_setting_this_version_does_not_know_is_said_in_words_not_read_as_name(tmp_path) -> None:
    """A run written by a newer PainPlan under a setting this one has no words for: what its rates assume of
    enrolment cannot be told here, and the dashboard says so rather than claim every gap was named."""
    _reviewed(tmp_path, [coverage(f"{pid}-a", pid, "2025-01-01", None) for pid in ("u7", "u8")])
    written = tmp_path / "runs" / "2026q1" / "data-quality.json"
    report = json.loads(written.read_text())
    report["run"]["enrolment"] = "continuous-medicaid"
    written.write_text(json.dumps(report))
    enrolment = _page(tmp_path).split('<p id="enrolment">')[1].split("</p>")[0]
    assert enrolment == (
        "Enrolment was read under a setting this version of PainPlan does not know (population.enrolment = "
        '"continuous-medicaid"): what these rates assume of members\' enrolment cannot be told here.'
    )
    assert "each gap is named" not in enrolment
