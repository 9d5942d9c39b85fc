"""The plan page's clinical-decision step offers naloxone for the same patients as the naloxone tile: since a signed
opioid prescription that starts within `later_start_co_prescribing_days` is followed by the naloxone card and tile
(`naloxone.planned_opioids`), a patient whose only opioid starts in 5 days had a tile saying "due" beside a step that
was "not applicable" and did not list the offer."""

from __future__ import annotations

from typing import Any

from builders import NOW, run
from test_later5_later_start_naloxone import WINDOW_14, oxycodone_from, sleep_apnea
from test_staggered_prescriptions import medication

from guideline.plan import build_plan
from guideline.plan.steps import Step

OFFER = "Offer naloxone as part of the plan."


def decide_step(resources: list[dict[str, Any]], config: dict[str, Any] | None = None) -> tuple[Step, Any]:
    """The clinical-decision step and the naloxone tile of the plan page for one patient-view evaluation."""
    evaluation = run("patient-view", resources=resources, config=config)
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    step = next(s for s in plan.section("steps").content.steps if s.key == "decide")
    tile = next(t for t in plan.section("tasks").content if t.key == "naloxone")
    return step, tile


def test_the_decision_step_offers_naloxone_before_an_opioid_that_starts_in_5_days() -> None:
    step, tile = decide_step([medication(), oxycodone_from(5), sleep_apnea()])
    assert tile.state == "never"
    assert OFFER in step.due
    assert step.status == "due"
    # It does not read as "nothing to do": the opioid is planned, and the step says when it starts.
    assert "No opioid therapy now or planned" not in step.summary
    assert [t.key for t in step.tasks] == ["naloxone"]


def test_the_step_and_the_tile_wait_alike_for_one_starting_after_the_window() -> None:
    step, tile = decide_step([medication(), oxycodone_from(31), sleep_apnea()])
    assert tile.state == "not-applicable"
    assert OFFER not in step.due and step.status == "not-applicable"
    # The site's window is the one setting: 14 days leaves an opioid starting in 20 days out of the step as the tile.
    resources = [medication(), oxycodone_from(20), sleep_apnea()]
    step, tile = decide_step(resources, config=WINDOW_14)
    assert tile.state == "not-applicable" and OFFER not in step.due
    step, tile = decide_step(resources)
    assert tile.state == "never" and OFFER in step.due
