"""`painplan population` finds fills possibly sent twice by the cards' one function (`sent_twice.possible_copies`):
two fills alike in everything but the prescriber, which only one of the two names as such (an EHR's dispense names
Dr A through its prescription, an HIE's copy of it names no prescriber). Both are counted, as at the point of care,
and named in data-quality.json by kind of fill, in the summary's and the dashboard's words, and in `run.not_checked`
under the measures whose rates such a pair may raise. Before, the review counted both with nothing said."""

from __future__ import annotations

import json
from pathlib import Path

from synthetic_export import ALPRAZOLAM, OXYCODONE_10, dispense, order, patient, write_export
from test_population_enrolment import high_dose
from test_population_measures import TODAY

from smart_app.cli import main

KEY = "fills_possibly_sent_twice"
WORDS = (
    "fills possibly sent twice, both counted: alike in day, drug, quantity, days' supply and pharmacy, but only one "
    "of the two names its prescriber (ask the pharmacy whether each was filled once)"
)


def _ehr_fill_and_hie_copy(pid: str, drug: tuple[str, str], day: str, quantity: int, days: int) -> list[dict]:
    """The EHR's fill naming its prescriber through its prescription (Dr A's order), and an HIE's copy under its own
    id that dropped the order and names the pharmacy alone."""
    rx = f"{pid}-rx-{drug[0]}"
    return [
        order(rx, pid, drug, day, requester="drA", per_day=quantity / days, days=days, status="completed"),
        dispense(f"{pid}-ehr-{drug[0]}", pid, drug, day, quantity, days, None, "ph1", order=rx),
        dispense(f"hie-{pid}-{drug[0]}-7781", pid, drug, day, quantity, days, None, "ph1"),
    ]


def _population(tmp_path: Path, resources: list[dict], capsys) -> tuple[dict, str]:
    """data-quality.json of `painplan population` over the export, and what the command printed."""
    write_export(tmp_path / "in", resources)
    out = tmp_path / "out"
    code = main(["population", str(tmp_path / "in"), "--out", str(out), "--today", TODAY.isoformat(),
                 "--workers", "1", "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    return json.loads((out / "data-quality.json").read_text()), printed


def test_possible_copies_of_opioid_and_benzodiazepine_fills_are_counted_by_kind_and_named(tmp_path, capsys) -> None:
    opioid_pair = [*high_dose("c1")[:1], *_ehr_fill_and_hie_copy("c1", OXYCODONE_10, "2026-01-05", 180, 30)]
    benzodiazepine_pair = [*high_dose("c2"), *_ehr_fill_and_hie_copy("c2", ALPRAZOLAM, "2026-01-10", 60, 30)]
    quality, printed = _population(tmp_path, [*opioid_pair, *benzodiazepine_pair], capsys)
    assert quality[KEY] == {"benzodiazepine": 1, "opioid": 1}
    assert quality["duplicate_fills"] == 0  # not known to be one fill: both counted, as the cards count them
    text = f"2 {WORDS} (benzodiazepine 1, opioid 1)"
    assert text in printed
    unchecked = quality["run"]["not_checked"]
    assert unchecked["reasons"][KEY] == {"count": 2, "text": text}
    # Counted twice, an opioid fill may double a dose or a days' supply: the rates it may raise name it.
    for measure in ("OHD", "OMP", "OHDMP", "COB", "IOP-HD", "IOP-LD", "AMO", "NAL"):
        assert KEY in unchecked["measures"][measure]["includes"], measure
    # The same drug twice adds no long-acting opioid to a start; a copy queued as an early refill may leave a later
    # fill no new start.
    assert KEY not in unchecked["measures"]["IOP-LA"]["includes"]
    assert KEY in unchecked["measures"]["IOP-LA"]["denominator"]


def test_a_benzodiazepine_possible_copy_is_named_only_under_the_measures_its_days_may_raise(tmp_path, capsys) -> None:
    # Both alprazolam fills counted: 60 days of benzodiazepine beside the opioid where there may be 30 (COB, and NAL
    # through it). No opioid measure reads a benzodiazepine's days.
    quality, _ = _population(
        tmp_path, [*high_dose("c2"), *_ehr_fill_and_hie_copy("c2", ALPRAZOLAM, "2026-01-10", 60, 30)], capsys
    )
    assert quality[KEY] == {"benzodiazepine": 1}
    measures = quality["run"]["not_checked"]["measures"]
    named = {measure for measure, parts in measures.items() for part in parts.values() if KEY in part}
    assert named == {"COB", "NAL"}
    assert KEY in measures["COB"]["includes"] and KEY in measures["NAL"]["includes"]


def test_two_fills_each_naming_another_prescriber_are_two_fills_and_not_named(tmp_path, capsys) -> None:
    # Dr A's fill and Dr B's fill, each named through its prescription, on one day at one pharmacy: two fills.
    second = [
        order("c3-rx2", "c3", OXYCODONE_10, "2026-01-05", requester="drB", per_day=6, days=30, status="completed"),
        dispense("c3-f9", "c3", OXYCODONE_10, "2026-01-05", 180, 30, None, "ph1", order="c3-rx2"),
    ]
    resources = [*high_dose("c3")[:1], *_ehr_fill_and_hie_copy("c3", OXYCODONE_10, "2026-01-05", 180, 30)[:2]]
    quality, _ = _population(tmp_path, [*resources, *second], capsys)
    assert quality[KEY] == {}
    assert KEY not in quality["run"]["not_checked"]["reasons"]


def test_a_possible_copy_of_a_patient_in_no_measure_is_not_named_under_the_measures(tmp_path, capsys) -> None:
    # A child (the measures count adults only): both fills are in no rate, so the pair can raise none. Before, it was
    # counted and named under OHD's numerator and the includes of eight measures, as a fill billed under two claim
    # numbers is not (`claim_fills_told_apart_by_number`, cleared for such a patient).
    child = [patient("k1", birth="2015-03-01"), *_ehr_fill_and_hie_copy("k1", OXYCODONE_10, "2026-01-05", 180, 30)]
    quality, _ = _population(tmp_path, child, capsys)
    assert quality[KEY] == {}
    assert KEY not in quality["run"]["not_checked"]["reasons"]


def test_one_possible_copy_is_worded_in_the_singular(tmp_path, capsys) -> None:
    # Before, the summary and the dashboard said "1 fills possibly sent twice".
    pair = [*high_dose("c1")[:1], *_ehr_fill_and_hie_copy("c1", OXYCODONE_10, "2026-01-05", 180, 30)]
    _, printed = _population(tmp_path, pair, capsys)
    assert f"1 fill {WORDS.removeprefix('fills ')} (opioid 1)" in printed
    assert "1 fills" not in printed
