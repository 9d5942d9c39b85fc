"""Data-quality counts: one list of counts with their words, which the command's summary and the dashboard both show,
so a count the run produced is never missing from the dashboard (it listed six fixed keys)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from synthetic_export import OXYCODONE_10, dispense, patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Quality
from guideline.population.quality import COUNTS, quality_lines
from smart_app import create_app
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

TOKEN = "population-token-0123456789"


def in_progress_export() -> list[dict]:
    """Six patients of drA, each with one completed oxycodone fill and two `in-progress` ones (a feed that marks
    fills so): the completed fill alone is one fill date, so no patient is in OHD's denominator."""
    resources: list[dict] = [practitioner("drA", "Dr. Ana Alvarez")]
    for n in range(6):
        resources += [
            patient(f"p{n}", "1970-01-01", "Practitioner/drA", f"Person{n}"),
            dispense(f"a{n}", f"p{n}", OXYCODONE_10, "2026-01-05", 180, 30, "drA", "ph1"),
            dispense(f"b{n}", f"p{n}", OXYCODONE_10, "2026-02-04", 180, 30, "drA", "ph1", status="in-progress"),
            dispense(f"c{n}", f"p{n}", OXYCODONE_10, "2026-03-06", 180, 30, "drA", "ph1", status="in-progress"),
        ]
    return resources


def dashboard(root: Path) -> str:
    app = create_app({"instance_path": str(root / "instance"), "auth": "off", "population_root": str(root / "runs"),
                      "population_token": TOKEN})  # fmt: skip
    page = app.test_client().get("/population/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert page.status_code == 200
    return page.get_data(as_text=True)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'").strip()


def section(html: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]* id="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    return text_of(found.group(2)) if found else ""


@pytest.fixture(scope="module")
def in_progress(tmp_path_factory) -> tuple[list[str], str, Path]:
    root = tmp_path_factory.mktemp("in-progress")
    write_export(root / "in", in_progress_export())
    run = root / "runs" / "2026q1"
    lines = review(ndjson_files(root / "in"), run, PERIOD, TODAY, GuidelineConfig.from_mapping(), workers=1)
    return lines, dashboard(root), run


def test_the_dashboard_shows_the_count_that_explains_a_collapsed_rate(in_progress):
    lines, html, _ = in_progress
    # The command said so; the dashboard listed six other counts, all 0, and OHD as 0/0 with nothing beside it.
    assert "12 fills not counted for their status (in-progress 12)" in lines[-1]
    assert "12 fills not counted for their status (in-progress 12)" in section(html, "quality-problems")
    ohd = text_of(re.search(r'<tr id="rate-OHD">.*?</tr>', html, re.S).group(0))
    assert ohd.startswith("Opioids at high dosage (OHD) 0 0 –")
    assert "Patients may be missing from this denominator: 12 fills not counted for their status" in ohd


def test_every_line_the_command_prints_is_on_the_dashboard(in_progress):
    lines, html, _ = in_progress
    printed = lines[-1].removeprefix("data quality: ").split("; ")
    assert printed and all(line in section(html, "data-quality") for line in printed)


def every_count_set() -> Quality:
    """A Quality with every count it has not zero, so none can pass for "nothing to report"."""
    quality = Quality()
    for number, name in enumerate(Quality.count_names(), 1):
        value = getattr(quality, name)
        if name == "medication_data_from":  # a day, not a count
            quality.medication_data_from = "2025-01-01"
        elif isinstance(value, Counter):
            unidentified = name == "unidentified_medications"
            value[("http://example.org/drugs", "X1", "Mystery tablet") if unidentified else "odd"] += number
        else:
            setattr(quality, name, number)
    return quality


def test_every_count_in_the_data_quality_output_is_on_the_dashboard(in_progress, tmp_path):
    _, _, source = in_progress
    run = tmp_path / "runs" / "2026q1"
    run.mkdir(parents=True)
    (run / "measures.parquet").write_bytes((source / "measures.parquet").read_bytes())
    report = json.loads((source / "data-quality.json").read_text())
    # And counts a later version adds, which no list here knows yet: shown all the same.
    report.update(every_count_set().to_json(), a_count_added_later=7, fills_by_some_new_reason={"odd": 2})
    (run / "data-quality.json").write_text(json.dumps(report))
    shown = section(dashboard(tmp_path), "data-quality")
    for key in report:
        if key != "run":
            assert key in shown, key
    assert "7 a count added later — a count this version of PainPlan does not know" in shown
    assert "2 fills by some new reason (odd 2) — a count this version of PainPlan does not know" in shown
    for line in every_count_set().summary_lines():
        assert line in shown, line


def test_every_count_has_its_words():
    # The summary and the dashboard read the counts' words from one list: a count added to data-quality.json
    # without its words there is shown under its key alone.
    keys = set(Quality().to_json())
    assert keys == {count.key for count in COUNTS}
    assert len({count.key for count in COUNTS}) == len(COUNTS)


def test_a_count_of_zero_is_shown_as_zero_and_not_as_a_problem():
    lines = {line.key: line for line in quality_lines(Quality().to_json())}
    assert lines["fills_not_counted_by_status"].count == 0
    assert lines["fills_not_counted_by_status"].text == "0 fills not counted for their status"
    assert Quality().summary_lines() == []


# ---- Counts a newer version writes: kept through from_json, merge and to_json -------------------------------------


def newer_shard(prescriber_fills: int, reason_fills: int, mystery_fills: int) -> dict:
    """One Spark partition's counts as a newer PainPlan writes them: a count of each shape this version has no field
    for (a number, a {name: count}, a list of items with a count), beside one it knows."""
    shard = Quality(fills_without_prescriber=1).to_json()
    shard["fills_without_prescriber_role"] = prescriber_fills
    shard["fills_by_a_newer_reason"] = {"odd-unit": reason_fills}
    shard["products_not_in_a_newer_table"] = [
        {"system": "http://example.org/ndc", "code": "N1", "count": mystery_fills}
    ]
    return shard


def test_a_count_a_newer_version_wrote_survives_the_merge_of_shards():
    # Before: from_json kept the number on the instance and dropped the others; merge and to_json then dropped the
    # number too, so the merged data-quality.json (and its summary) said nothing of any of them.
    merged = Quality()
    for shard in (newer_shard(2, 3, 4), newer_shard(5, 6, 7)):
        merged.merge(Quality.from_json(json.loads(json.dumps(shard))))
    written = merged.to_json()
    assert written["fills_without_prescriber"] == 2
    assert written["fills_without_prescriber_role"] == 7
    assert written["fills_by_a_newer_reason"] == {"odd-unit": 9}
    assert written["products_not_in_a_newer_table"] == [{"system": "http://example.org/ndc", "code": "N1", "count": 11}]
    # Read back, it is the same report: nothing lost on a second trip (the dashboard reads this file).
    assert Quality.from_json(json.loads(json.dumps(written))).to_json() == written


def test_the_summary_names_a_count_this_version_does_not_know():
    quality = Quality.from_json(newer_shard(2, 3, 4))
    lines = quality.summary_lines()
    unknown = "a count this version of PainPlan does not know"
    assert f"2 fills without prescriber role — {unknown}" in lines
    assert f"3 fills by a newer reason (odd-unit 3) — {unknown}" in lines
    assert f"4 products not in a newer table (1 distinct) — {unknown}" in lines
    # A count it knows has its own words and is not called unknown.
    assert "1 opioid fill naming no prescriber (OMP may be undercounted)" in lines


def test_a_value_that_is_no_count_is_not_read_as_one():
    # The run's own description is no count; anything else of no count's shape stops the read rather than vanish.
    assert Quality.from_json({"run": {"start": "2026-01-01"}}).to_json() == Quality().to_json()
    with pytest.raises(ValueError, match="fills_in_a_newer_shape"):
        Quality.from_json({"fills_in_a_newer_shape": "many"})
    with pytest.raises(ValueError, match="fills_without_date"):
        Quality.from_json({"fills_without_date": {"2026": 1}})


def test_counts_by_patient_are_never_named_by_patient_in_the_summary_or_on_the_dashboard():
    """The summary is printed (a scheduler logs it) and the dashboard shows the same lines: a count kept by patient
    (BCDA's Patient ids are beneficiary ids) gives its number there, and its patients only in data-quality.json, in
    the output folder. The summary printed "possible hospice care not counted (-19990000000123 2)"."""
    quality = Quality()
    quality.hospice_not_counted["-19990000000123"] += 2
    quality.claim_fills_told_apart_by_number["-19990000000456"] += 1
    quality.linked_patients["-19990000000789 → -19990000000790 merged"] += 1
    quality.patient_links_not_read["Patient.ndjson: Patient -19990000000791: a link names no Patient"] += 1
    lines = quality.summary_lines()
    shown = [line.text for line in quality_lines(quality.to_json())]
    assert lines == [line for line in shown if not line.startswith("0 ")]
    for ident in ("123", "456", "789", "790", "791"):
        assert not any(f"-19990000000{ident}" in line for line in lines), ident
    assert any(line.startswith("2 possible hospice care not counted") for line in lines)
    assert all(line.endswith("(by patient in data-quality.json)") for line in lines), lines
    assert quality.to_json()["hospice_not_counted"] == {"-19990000000123": 2}


def test_lines_named_by_number_are_listed_in_file_order():
    """ "Patient.ndjson line 12" came before "line 7" (text order) in data-quality.json and the summary, so a site
    reading down the list jumped about the file; numbers (with their thousands commas) now sort as numbers."""
    quality = Quality()
    for line in ("line 12: not JSON", "line 1,234: not UTF-8", "line 7: not JSON", "line 200: not JSON"):
        quality.malformed_lines_named[f"Patient.ndjson {line}"] += 1
    quality.malformed_lines_named["MedicationDispense.ndjson line 3: not JSON"] += 1
    order = [
        "MedicationDispense.ndjson line 3: not JSON",
        "Patient.ndjson line 7: not JSON",
        "Patient.ndjson line 12: not JSON",
        "Patient.ndjson line 200: not JSON",
        "Patient.ndjson line 1,234: not UTF-8",
    ]
    assert list(quality.to_json()["malformed_lines_named"]) == order
    (line,) = [line for line in quality_lines(quality.to_json()) if line.key == "malformed_lines_named"]
    assert line.text.endswith(": " + "; ".join(order))


@pytest.mark.parametrize(
    ("key", "line"),
    [
        ("fills_not_counted_by_status", "1 fill not counted for its status"),
        ("duplicate_fills", "1 fill sent twice, as two dispenses or as a dispense and a pharmacy claim (counted once)"),
        ("claim_fills_told_apart_by_number", "1 same-day pharmacy claim alike"),
        ("patients_not_evaluated", "1 patient the engine could not evaluate, left out of every measure"),
        ("fills_without_patient_by_file", "1 fill, order or pharmacy claim no Patient reference names"),
        ("unreadable_resources", "1 resource that could not be read"),
        ("hospice_not_counted", "1 possible hospice care not counted"),
    ],
)
def test_a_count_of_one_is_worded_in_the_singular(key, line):
    # Every line is "{count} {words}": "1 fill not counted for their status" read as a typo on the dashboard.
    (shown,) = [shown for shown in quality_lines({key: 1}) if shown.key == key]
    assert shown.text.startswith(line)
