"""Two CARIN claims of one day alike in everything but their claim numbers are two fills, and the review names them
(`claim_fills_told_apart_by_number`): a feed that resends a rebilled claim under a new number without reversing the
old one doubles a fill, and the analyst must see where to ask the payer."""

from __future__ import annotations

import json
from pathlib import Path

from synthetic_export import patient, write_export
from test_population_measures import PERIOD, TODAY
from test_population_part_fills import CONFIG, _evaluate, _fills_and_days, carin_pharmacy_claim, part_d_event

from guideline.population import Directory, evaluate_patient
from guideline.population.quality import COUNTS, quality_lines
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

KEY = "claim_fills_told_apart_by_number"


def numbered_apart_export() -> list[dict]:
    """m1's two same-day claims for 90 oxycodone 10 mg tablets (30 days), one payer, claim numbers 2026C1 and
    2026C2, and a control pair of another day that differ in quantity (60 and 45 tablets): two fills apart anyway."""
    return [
        patient("m1"),
        carin_pharmacy_claim("c1", "2026-02-02", 90, 30),
        carin_pharmacy_claim("c2", "2026-02-02", 90, 30),
        carin_pharmacy_claim("c3", "2026-03-09", 60, 20),
        carin_pharmacy_claim("c4", "2026-03-09", 45, 15),
    ]


def test_two_claims_alike_but_for_their_claim_numbers_are_counted_and_named() -> None:
    claims = numbered_apart_export()[1:]
    assert {c["identifier"][0]["system"] for c in claims} == {"https://payer.example.com/claim-number"}
    outcome = _evaluate(claims)
    assert _fills_and_days(outcome) == (4, 95.0)  # both pairs counted as two fills each
    assert outcome.quality.claim_fills_told_apart_by_number == {"m1": 1}  # the pair of 2 February, not of 9 March
    assert outcome.quality.duplicate_claim_fills == 0


def test_claims_that_differ_in_quantity_alone_are_not_named() -> None:
    outcome = _evaluate(numbered_apart_export()[3:])
    assert _fills_and_days(outcome) == (2, 35.0)
    assert not outcome.quality.claim_fills_told_apart_by_number


def test_one_claim_sent_twice_or_billed_to_two_payers_is_read_once_and_not_named() -> None:
    first = carin_pharmacy_claim("c1", "2026-02-02", 90, 30)
    again = {**carin_pharmacy_claim("c1", "2026-02-02", 90, 30), "id": "9f0c2a"}
    secondary = carin_pharmacy_claim("c7", "2026-02-02", 90, 30)
    secondary["identifier"][0]["system"] = "https://medicaid.example.gov/tcn"
    for pair in ([first, again], [first, secondary]):
        outcome = _evaluate(pair)
        assert _fills_and_days(outcome) == (1, 30.0)
        assert not outcome.quality.claim_fills_told_apart_by_number


def test_fills_told_apart_by_refill_number_or_dispensing_status_are_not_named() -> None:
    # Refills 1 and 2 handed over together, and a Part D part fill and its completion: their fill numbers and
    # dispensing status tell them apart, not their claim numbers.
    refills = [
        carin_pharmacy_claim("c1", "2026-02-02", 90, 30, refill=1),
        carin_pharmacy_claim("c2", "2026-02-02", 90, 30, refill=2),
    ]
    parts = [part_d_event("pde1", "2026-02-02", 30, 15, "P"), part_d_event("pde2", "2026-02-02", 30, 15, "C")]
    for pair in (refills, parts):
        outcome = _evaluate(pair)
        assert _fills_and_days(outcome)[0] == 2
        assert not outcome.quality.claim_fills_told_apart_by_number


def test_three_claims_alike_but_for_their_numbers_name_two_fills_counted_only_for_their_numbers() -> None:
    claims = [carin_pharmacy_claim(f"c{n}", "2026-02-02", 90, 30) for n in (1, 2, 3)]
    outcome = _evaluate(claims)
    assert _fills_and_days(outcome) == (3, 90.0)
    assert outcome.quality.claim_fills_told_apart_by_number == {"m1": 2}


def test_a_patient_left_out_of_the_measures_is_not_named() -> None:
    # A 15-year-old is in no measure (adults only): their doubled fill makes no finding to check.
    claims = numbered_apart_export()[1:]
    outcome = evaluate_patient("m1", [patient("m1", birth="2011-01-01"), *claims], PERIOD, CONFIG, TODAY, Directory())
    assert outcome.row is not None and outcome.row["excluded"] == "under 18"
    assert not outcome.quality.claim_fills_told_apart_by_number


# Spark agrees: tests/test_population_spark.py (run after the tests that patch time.sleep, as a Spark session's
# threads call it).


def test_the_review_writes_the_count_by_patient_and_its_summary_counts_it(tmp_path: Path) -> None:
    write_export(tmp_path / "in", numbered_apart_export())
    summary = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, CONFIG, workers=1)
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality[KEY] == {"m1": 1}
    (line,) = [line for line in quality_lines(quality) if line.key == KEY]
    assert line.kind == "problem" and line.count == 1
    assert line.text.startswith("1 ") and "claim number" in line.text and "m1" not in line.text  # printed: no ids
    assert line.text.endswith("(by patient in data-quality.json)")
    assert KEY in {count.key for count in COUNTS}
    (said,) = [line for line in summary if line.startswith("data quality: ")]
    assert line.text in said
