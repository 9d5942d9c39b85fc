"""The clinical-decision step keeps or drops each due item by what it asks for, never by its wording: with no opioid
today it keeps only the offer of treatment for opioid use disorder, and with a signed opioid that starts within days
the naloxone offer beside it. The step once picked them out by matching "opioid use disorder" in the text, so a
reworded line would have left the page silent about it."""

from __future__ import annotations

from typing import Any

import pytest
from builders import ICD10, NOW, condition, run
from test_later5_later_start_naloxone import oxycodone_from, sleep_apnea
from test_staggered_prescriptions import medication

from guideline.plan import build_plan, steps
from guideline.plan.steps import OFFER_NALOXONE, OUD_TREATMENT_DUE, Step

OUD_WORDS = "Opioid use disorder criteria are met: offer medication treatment or a referral (below)."


def opioid_dependence() -> dict[str, Any]:
    """Epic's problem-list entry for opioid dependence (ICD-10-CM F11.20), no buprenorphine or methadone on record."""
    return condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated", recorded="2025-11-02")


def decide_step(resources: list[dict[str, Any]]) -> Step:
    """The clinical-decision step of the plan page for one patient-view evaluation on 2026-06-15."""
    evaluation = run("patient-view", resources=resources)
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    return next(s for s in plan.section("steps").content.steps if s.key == "decide")


def test_with_no_opioid_the_step_is_due_for_oud_treatment_alone() -> None:
    # "Not applicable" beside a line asking for treatment read as nothing to do: the offer stands without opioids.
    step = decide_step([medication(), opioid_dependence()])
    assert step.status == "due"
    assert step.summary.startswith("No opioid therapy now or planned; opioid use disorder criteria are met")
    assert "Rec 12" in step.action and "continue, adjust, taper or stop" not in step.action
    assert step.due == (OUD_WORDS,)


def test_with_no_opioid_and_no_oud_the_step_is_not_applicable() -> None:
    step = decide_step([medication()])
    assert (step.status, step.summary, step.due) == ("not-applicable", "No opioid therapy now or planned.", ())


def test_with_an_opioid_starting_in_5_days_it_asks_for_naloxone_and_oud_treatment_only() -> None:
    step = decide_step([medication(), oxycodone_from(5), sleep_apnea(), opioid_dependence()])
    assert step.summary.startswith("No opioid therapy now; a signed opioid prescription starts on 2026-06-20")
    assert step.due == (OFFER_NALOXONE, OUD_WORDS)
    assert step.status == "due"


def test_the_items_kept_do_not_depend_on_their_wording(monkeypatch: pytest.MonkeyPatch) -> None:
    reworded = "Criteria for OUD met: offer buprenorphine, methadone or naltrexone, or refer."
    monkeypatch.setattr(steps, "OUD_TREATMENT_DUE", reworded)
    assert decide_step([medication(), opioid_dependence()]).due == (reworded,)
    planned = decide_step([medication(), oxycodone_from(5), sleep_apnea(), opioid_dependence()])
    assert planned.due == (OFFER_NALOXONE, reworded)


def test_the_oud_line_is_the_one_written() -> None:
    assert OUD_TREATMENT_DUE == OUD_WORDS
