"""A signed opioid prescription that starts later (a staggered series' first, "do not fill before" next week) on
patient-view: `naloxone` followed only the opioids the patient has today, so a patient with sleep apnea whose only
opioid prescription starts in 5 days got no naloxone offer when the chart was opened, though the prescription is signed
and the patient will take it within days. Within the window the opioid + benzodiazepine check reads such a
prescription by (`later_start_co_prescribing_days`, one setting), it is an opioid the check follows; the card names it
with the day it starts. `er-la-opioid-naive` still reads no such prescription as opioid use: the patient has taken
none, so a long-acting opioid drafted now is still for an opioid-naive patient."""

from __future__ import annotations

from typing import Any

from builders import SNOMED, card, condition, med_request, run
from test_staggered_prescriptions import day, epic_oxycodone, medication

from guideline.plan.tasks import naloxone_task

OSA = "78275009"  # Obstructive sleep apnea syndrome
MORPHINE_ER_15 = "891874"  # morphine sulfate 15 MG Extended Release Oral Tablet
WINDOW_14 = {"checks": {"opioid-benzodiazepine": {"later_start_co_prescribing_days": 14}}}


def sleep_apnea() -> dict[str, Any]:
    return condition(SNOMED, OSA, display="Obstructive sleep apnea syndrome", recorded="2024-03-01")


def oxycodone_from(starts: int) -> dict[str, Any]:
    """Epic's oxycodone 10 mg every 6 hours, signed today, "do not fill before" `starts` days on (60 MME/day)."""
    return epic_oxycodone("eOxy.1", day(0), starts=day(starts))


def test_a_patient_whose_only_opioid_starts_in_5_days_is_offered_naloxone_on_patient_view() -> None:
    evaluation = run("patient-view", resources=[medication(), oxycodone_from(5), sleep_apnea()])
    found = card(evaluation, "naloxone")
    assert found is not None
    assert "Obstructive sleep apnea syndrome" in found.detail
    # The prescription it follows is named, with the day it starts, and the basis says what was read.
    assert f"oxyCODONE 10 mg tablet (active, written {day(0)}; starts on {day(5)})" in found.detail
    assert "signed opioid prescriptions that start within the next 30 days" in found.detail
    # The plan page's naloxone tile agrees: none on hand and due, not "not needed now".
    assert naloxone_task(evaluation.facts).state == "never"


def test_one_starting_after_the_window_waits() -> None:
    resources = [medication(), oxycodone_from(31), sleep_apnea()]
    assert card(run("patient-view", resources=resources), "naloxone") is None
    assert naloxone_task(run("patient-view", resources=resources).facts).state == "not-applicable"
    # The site's window is the one setting: 14 days leaves an opioid starting in 20 days until it starts.
    resources = [medication(), oxycodone_from(20), sleep_apnea()]
    assert card(run("patient-view", resources=resources, config=WINDOW_14), "naloxone") is None
    assert card(run("patient-view", resources=resources), "naloxone") is not None


def test_no_risk_factor_no_card() -> None:
    # 60 MME/day is below the naloxone dose threshold and nothing else is on record: nothing to offer it for.
    assert card(run("patient-view", resources=[medication(), oxycodone_from(5)]), "naloxone") is None


def test_a_current_opioid_card_reads_as_before() -> None:
    current = med_request("1049621", id="eOxy5", authored=day(-10))
    found = card(run("patient-view", resources=[current, sleep_apnea()]), "naloxone")
    assert found is not None
    assert "start within the next" not in found.detail and "starts on" not in found.detail


def test_a_long_acting_opioid_drafted_beside_a_prescription_that_starts_later_is_still_for_an_opioid_naive_patient():
    # The oxycodone starts in 5 days: not taken yet, so no tolerance. Morphine ER drafted now still gets the card.
    draft = med_request(MORPHINE_ER_15, draft=True, id="draft-mser", period=12)
    evaluation = run("order-sign", drafts=[draft], resources=[medication(), oxycodone_from(5)])
    found = card(evaluation, "er-la-opioid-naive")
    assert found is not None and evaluation.facts.exposure.naive
    assert "no opioid use found in the past 90 days" in found.summary
