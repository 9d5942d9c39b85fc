"""The plan page's urine drug test tile, step 1 and the copied note name a result of unknown status they do not
count: with only such a result on record they said "none in the last 13 months" beside the history section's row for
it (a fentanyl screen flagged positive, sent with status "unknown")."""

from __future__ import annotations

from typing import Any

from builders import med_request, observation, patient
from test_plan import plan_for
from test_plan_steps import by_key
from test_uds_history_card_words import _page
from test_uds_unreadable_specimen import OXYCODONE_5, TEST_DAY, _epic_result, _long_term_fills

from guideline.plan.note import note_text

NAMED = f"1 result of unknown status, not counted: Fentanyl Ur Ql Scn ({TEST_DAY})."


def _unknown(when: str = TEST_DAY) -> dict[str, Any]:
    """An Epic Beaker fentanyl screen flagged positive, sent with status "unknown"."""
    screen = _epic_result("65750-2", "Fentanyl Ur Ql Scn", "POSITIVE", ident="eUDS.1", flag="A")
    return screen | {"status": "unknown", "effectiveDateTime": f"{when}T09:14:00-05:00", "issued": f"{when}T16:40:12Z"}


def _tile(plan) -> Any:
    return next(t for t in plan.section("tasks").content if t.key == "uds")


def test_the_tile_step_and_note_name_a_result_of_unknown_status() -> None:
    plan = plan_for([patient(), *_long_term_fills(), _unknown()])
    tile = _tile(plan)
    assert tile.state == "never" and tile.state_label == "None readable on record"
    assert tile.detail.startswith(NAMED)
    assess = by_key(plan.section("steps").content)["assess"]
    evidence = next(e for e in assess.evidence if e.label == "Urine drug test")
    assert evidence.detail == "none readable on record"
    line = next(line for line in note_text(plan).splitlines() if line.startswith("- Urine drug test:"))
    assert line == f"- Urine drug test: none readable on record, next due {tile.next_due.isoformat()}. {NAMED}"


def test_two_results_of_unknown_status_are_each_named() -> None:
    second = _unknown("2026-04-01") | {"id": "eUDS.2"}
    tile = _tile(plan_for([patient(), *_long_term_fills(), _unknown(), second]))
    assert tile.not_counted == (
        "2 results of unknown status, not counted: Fentanyl Ur Ql Scn (2026-04-01); Fentanyl Ur Ql Scn (2026-03-02)."
    )


def test_one_newer_than_the_last_test_counted_is_named_beside_it() -> None:
    older = observation("19295-5", when="2026-01-10", value_string="Negative")
    tile = _tile(plan_for([patient(), *_long_term_fills(), older, _unknown()]))
    assert tile.last_done.isoformat() == "2026-01-10" and tile.not_counted == NAMED


def test_one_older_than_the_last_test_counted_is_not_the_tiles() -> None:
    newer = observation("19295-5", when="2026-05-10", value_string="Negative")
    tile = _tile(plan_for([patient(), *_long_term_fills(), newer, _unknown()]))
    assert tile.state == "done" and tile.not_counted == "" and "unknown status" not in tile.detail


def test_the_rendered_tile_names_it(tmp_path: Any) -> None:
    html = _page(tmp_path, [patient(), *_long_term_fills(), _unknown()])
    assert "None readable in the last" in html and NAMED in html
    assert "None in the last" not in html[: html.index(NAMED)].rsplit("Urine drug test", 1)[-1]


def test_the_note_names_it_once_when_the_unexpected_result_card_also_lists_it() -> None:
    # With an active opioid order the unexpected-result check reads the tests, and its list of results not judged
    # named the result again under the note's last heading: the note named it twice. It is named on the tile's line,
    # beside the "none readable" it explains.
    plan = plan_for([patient(), *_long_term_fills(), med_request(OXYCODONE_5), _unknown()])
    note = note_text(plan)
    assert note.count("Fentanyl Ur Ql Scn (2026-03-02") == 1
    assert f"- Urine drug test: none readable on record, next due {_tile(plan).next_due.isoformat()}. {NAMED}" in note
    assert "Urine drug test results not read as positive or negative" not in note


def test_the_note_still_lists_a_result_of_unknown_status_the_tile_does_not_name() -> None:
    # Older than the last test counted, it is not the tile's to name: the list of results not judged still names it.
    older = _unknown("2026-01-10")
    newer = observation("19295-5", when="2026-05-10", value_string="Negative")
    note = note_text(plan_for([patient(), *_long_term_fills(), med_request(OXYCODONE_5), newer, older]))
    assert "(not judged for unexpected results): Fentanyl Ur Ql Scn (2026-01-10, status unknown)" in note


def test_the_note_lists_it_when_the_tiles_line_is_not_known() -> None:
    # With the procedure searches not read, the tile's line reads "not known, Procedures (2 years) could not be read"
    # and names no test it does not count; the note left the result off its list of results not judged all the same,
    # so it named the fentanyl result nowhere.
    from test_plan_unread_searches import _searches_of, _statuses

    resources = [patient(), *_long_term_fills(), med_request(OXYCODONE_5), _unknown()]
    plan = plan_for(resources, statuses=_statuses(_searches_of("Procedure")))
    assert _tile(plan).state == "not-read"
    note = note_text(plan)
    assert "- Urine drug test: not known, Procedures (2 years) could not be read" in note.splitlines()
    assert "(not judged for unexpected results): Fentanyl Ur Ql Scn (2026-03-02, status unknown)" in note
