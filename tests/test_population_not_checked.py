"""data-quality.json's `run` says what the review could not check and why: whose enrolment, which patients, which
measures' denominators and numerators, each with its reasons in the very words the command's summary prints and the
dashboard shows (one source: `guideline.population.quality`). Before, `run` said only `enrolment_checked: false`, and
a machine reading it had to guess why from the counts."""

from __future__ import annotations

import html
import json
from pathlib import Path

from synthetic_export import OXYCODONE_10, dispense, medication_concept, patient, write_export, write_ndjson
from test_population_claims import CONFIG, undated_hospice_export
from test_population_enrolment import NAMED, coverage, dashboard_page, high_dose
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.cli import main
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

NO_COVERAGE = "enrolment not checked: the export holds no Coverage (population.enrolment = name)"


def _condition(n: int) -> dict:
    """A chronic pain diagnosis of n1's (ICD-10-CM G89.4), the 200 of them filling a .gz of several blocks."""
    return {
        "resourceType": "Condition",
        "id": f"n1-c{n}",
        "subject": {"reference": "Patient/n1"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G89.4"}]},
        "recordedDate": "2025-11-03",
    }


def _export_with_every_reason(folder: Path) -> None:
    """A payer's quarter in which each thing the review cannot check happens once:
    - n1: a renewal Coverage whose start is a US date ("01/21/2026"): enrolment unknown;
    - n2: no Coverage at all (others have some): enrolment not stated;
    - n3: birth date written "01/15/1970": age not known, in no measure;
    - n4: fills, no Patient resource: age not known, in no measure;
    - n5: a fill of an NDC the review does not know: medication not identified;
    - a Condition file cut off mid-download (a .gz whose end is missing): an input file not read in full."""
    unknown_ndc = dispense(
        "n5-f3", "n5", None, "2026-01-10", 30, 30, "drA", "ph1", concept=medication_concept(ndc="99999-9999-99")
    )
    write_export(
        folder,
        [
            *high_dose("n1"),
            *high_dose("n2"),
            patient("n3", birth="01/15/1970"),
            *high_dose("n3")[1:],
            *high_dose("n4")[1:],
            *high_dose("n5"),
            unknown_ndc,
        ],
    )
    write_ndjson(
        folder,
        "Coverage",
        [
            coverage("n1-a", "n1", "2025-01-01", "2026-01-20"),
            coverage("n1-b", "n1", "01/21/2026", None),
            *(coverage(f"{pid}-a", pid, "2025-01-01", None) for pid in ("n3", "n4", "n5")),
        ],
    )
    cut = write_ndjson(folder, "Condition", [_condition(n) for n in range(200)], True)
    cut.write_bytes(cut.read_bytes()[:-12])


def _page(tmp_path: Path) -> str:
    """The dashboard over the runs under tmp_path/runs, as an analyst reads it (entities unescaped)."""
    return html.unescape(dashboard_page(tmp_path))


def _run(tmp_path: Path, build) -> tuple[dict, list[str], str]:
    """The run's data-quality.json, its summary lines and its dashboard page."""
    source, out = tmp_path / "in", tmp_path / "runs" / "2026q1"
    build(source)
    summary = review(ndjson_files(source), out, PERIOD, TODAY, NAMED, "duckdb", workers=1)
    return json.loads((out / "data-quality.json").read_text()), list(summary), _page(tmp_path)


def test_each_thing_not_checked_names_its_reasons_in_the_summary_and_dashboard_words(tmp_path) -> None:
    quality, summary, page = _run(tmp_path, _export_with_every_reason)
    unchecked = quality["run"]["not_checked"]
    assert unchecked["enrolment"] == ["members_enrolment_not_stated", "members_enrolment_unknown"]
    assert unchecked["patients"] == ["patients_without_patient_resource", "patients_birth_date_unreadable"]
    reasons = unchecked["reasons"]
    assert reasons["members_enrolment_unknown"] == {
        "count": 1,
        "text": "1 member whose enrolment is unknown: a Coverage of theirs could not be read (kept in the measures) "
        "(by patient in data-quality.json)",
    }
    assert reasons["patients_birth_date_unreadable"]["count"] == 1
    assert reasons["patients_without_patient_resource"]["count"] == 1
    assert reasons["unidentified_medications"]["count"] == 1
    (cut,) = quality["input_files_not_read"]
    assert cut.startswith("Condition.ndjson.gz: ")
    assert reasons["input_files_not_read"] == {
        "count": 1,
        "text": f"1 input file not read, or read only in part: {cut}",
    }
    # Which measures may be missing patients, and why: the counts the dashboard names beside each rate.
    ohd = unchecked["measures"]["OHD"]
    assert {"input_files_not_read", "unidentified_medications", "patients_birth_date_unreadable"} <= set(
        ohd["denominator"]
    )
    assert "fills_without_prescriber" not in ohd["numerator"]
    # Every reason named is a reason of something not checked, and its words are the summary's and the dashboard's.
    named = {key for group in ("enrolment", "patients") for key in unchecked[group]}
    named |= {key for measure in unchecked["measures"].values() for part in measure.values() for key in part}
    assert named == set(reasons)
    printed = "\n".join(summary)
    for reason in reasons.values():
        assert reason["text"] in printed
        assert reason["text"] in page


def test_an_export_with_no_coverage_says_why_enrolment_was_not_checked_in_one_set_of_words(tmp_path) -> None:
    quality, summary, page = _run(tmp_path, lambda folder: write_export(folder, [*high_dose("b1"), *high_dose("b2")]))
    run = quality["run"]
    assert run["enrolment_checked"] is False
    assert run["not_checked"]["enrolment"] == ["enrolment_not_checked"]
    # The count is of the members whose enrolment was not read: b1 and b2, each in the measures (it was null).
    assert run["not_checked"]["reasons"]["enrolment_not_checked"] == {"count": 2, "text": NO_COVERAGE}
    assert "members_enrolment_not_stated" not in run["not_checked"]["reasons"]  # one reason, not two
    assert NO_COVERAGE in summary
    assert f'<p id="enrolment">{NO_COVERAGE[0].upper()}{NO_COVERAGE[1:]}' in page


def test_painplan_population_counts_the_members_whose_enrolment_an_export_with_no_coverage_leaves_unread(
    tmp_path, capsys
) -> None:
    """Three adults in the measures and a child in none (the measures count adults only, so no enrolment of theirs
    is read): the reason counts the three, as `members_enrolment_not_stated` would had the export held Coverage."""
    child = [patient("k1", birth="2015-06-01"), *high_dose("k1")[1:]]
    write_export(tmp_path / "in", [*high_dose("b1"), *high_dose("b2"), *high_dose("b3"), *child])
    out = tmp_path / "out"
    code = main(["population", str(tmp_path / "in"), "--out", str(out), "--today", TODAY.isoformat(),
                 "--workers", "1", "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    reasons = json.loads((out / "data-quality.json").read_text())["run"]["not_checked"]["reasons"]
    assert reasons["enrolment_not_checked"] == {"count": 3, "text": NO_COVERAGE}
    assert NO_COVERAGE in printed


def test_a_whole_run_has_nothing_not_checked(tmp_path) -> None:
    def whole(folder: Path) -> None:
        # A year of monthly fills before the quarter: every look-back the measures need is in the export.
        history = ["2025-03-09", "2025-07-09", "2025-08-08", "2025-09-07", "2025-10-07", "2025-11-06", "2025-12-06"]
        earlier = [
            dispense(f"w1-h{n}", "w1", OXYCODONE_10, day, 120, 30, "drA", "ph1") for n, day in enumerate(history)
        ]
        write_export(folder, [*high_dose("w1"), *earlier])
        write_ndjson(folder, "Coverage", [coverage("w1-a", "w1", "2025-01-01", None)])

    quality, _, _ = _run(tmp_path, whole)
    assert quality["run"]["not_checked"] == {"reasons": {}, "enrolment": [], "patients": [], "measures": {}}


def test_a_run_written_before_the_run_said_why_still_says_enrolment_was_not_checked(tmp_path) -> None:
    """A run of an earlier version has `enrolment_checked: false` and no `not_checked`: the dashboard still says
    enrolment was not checked, in the words it had then, rather than nothing."""
    _run(tmp_path, lambda folder: write_export(folder, high_dose("b1")))
    written = tmp_path / "runs" / "2026q1" / "data-quality.json"
    report = json.loads(written.read_text())
    del report["run"]["not_checked"]
    written.write_text(json.dumps(report))
    assert '<p id="enrolment">Enrolment not checked: no Coverage was read, so no member' in _page(tmp_path)


def test_a_hospice_claim_that_dates_no_exclusion_is_named_as_what_may_widen_every_measure(tmp_path) -> None:
    # Before, an undated hospice claim (its patient kept in every measure, where PQA would leave a hospice patient
    # out) was counted in the summary but named nowhere in `not_checked`, and beside no rate on the dashboard.
    write_export(tmp_path / "in", undated_hospice_export())
    out = tmp_path / "runs" / "2026q1"
    config = GuidelineConfig.from_mapping(CONFIG)
    review(ndjson_files(tmp_path / "in"), out, PERIOD, TODAY, config)
    unchecked = json.loads((out / "data-quality.json").read_text())["run"]["not_checked"]
    words = "hospice claim with no day of care to date it by, so no exclusion (patient still in the measures)"
    assert unchecked["reasons"]["hospice_claims_undated"] == {"count": 1, "text": f"1 {words} (p-undated 1)"}
    assert unchecked["measures"]
    for measure, parts in unchecked["measures"].items():
        assert "hospice_claims_undated" in parts["includes"], measure
        assert "hospice_claims_undated" not in parts["denominator"] + parts["numerator"], measure
    assert words in _page(tmp_path)


def _rate_row(page: str, measure: str) -> str:
    """The dashboard's row of one measure's rate, with what it says beside the rate."""
    return page.split(f'<tr id="rate-{measure}">', 1)[1].split("</tr>", 1)[0]


def test_a_quarter_only_export_is_named_as_widening_the_new_start_measures_not_as_leaving_patients_out(
    tmp_path,
) -> None:
    # A quarterly claims extract (fills from 5 January only): a long-term patient's earlier fills are not in it, so
    # they read as a new start. IOP's rates gain such patients; none can be missing from IOP's denominators. Before,
    # the dashboard said beside each IOP rate "Patients may be missing from this denominator", the wrong way round,
    # and never that the rate may count patients PQA's measure leaves out.
    def quarter_only(folder: Path) -> None:
        write_export(folder, high_dose("q1"))
        write_ndjson(folder, "Coverage", [coverage("q1-a", "q1", "2025-01-01", None)])

    quality, _, page = _run(tmp_path, quarter_only)
    measures = quality["run"]["not_checked"]["measures"]
    for measure in ("IOP-HD", "IOP-LD", "IOP-LA"):
        assert "lookback_not_reached" in measures[measure]["includes"], measure
        assert "lookback_not_reached" not in measures[measure]["denominator"], measure
        row = _rate_row(page, measure)
        assert "This rate may count patients PQA's measure leaves out:</strong> 2 look-backs reaching" in row
        assert "missing from this denominator" not in row
    # AMO's 12 months are cut short: fewer days' supply, so its denominator may be missing patients.
    assert "lookback_not_reached" in measures["AMO"]["denominator"]
    assert "lookback_not_reached" not in measures["AMO"]["includes"]
    assert "Patients may be missing from this denominator:</strong> 2 look-backs reaching" in _rate_row(page, "AMO")
