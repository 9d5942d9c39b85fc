"""A benzodiazepine signed while the patient holds a signed opioid prescription that starts within the next 30 days (a
staggered series' first prescription, to be filled next week) is a real co-prescription: on order-sign (and
order-select, tests/test_later3_order_select.py) the opioid + benzodiazepine card fires and says when the opioid
starts; the same for an opioid signed beside a benzodiazepine prescription that starts later. Patient-view names
such a planned pair too (tests/test_later4_patient_view_later_sedative.py), and a prescription that starts more than
30 days ahead is no co-prescription of today's order."""

from __future__ import annotations

from typing import Any

from builders import card, med_request, run
from test_staggered_prescriptions import day, epic_oxycodone, medication

from guideline.checks.opioid_benzodiazepine import CHECK_ID

LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def opioid_from(starts: int) -> dict[str, Any]:
    """Epic's oxycodone 10 mg prescription written today, "do not fill before" `starts` days on."""
    return epic_oxycodone("eOxy.1", day(0), starts=day(starts))


def lorazepam_draft() -> dict[str, Any]:
    return med_request(LORAZEPAM, id="draft-lz", draft=True, dose=1, period=12, authored=day(0))


def test_a_benzodiazepine_signed_beside_an_opioid_that_starts_next_week_fires() -> None:
    # Before: the opioid is no current order until it starts, so the card waited a week.
    evaluation = run("order-sign", drafts=[lorazepam_draft()], resources=[medication(), opioid_from(7)])
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert f"oxyCODONE 10 mg tablet (starts on {day(7)})" in found.summary
    assert f"- oxyCODONE 10 mg tablet (active, written {day(0)}; starts on {day(7)})" in found.detail
    assert "signed prescriptions that start within the next 30 days" in found.detail
    assert "lorazepam 1 MG Oral Tablet (new)" in found.summary


def test_an_opioid_starting_on_the_30th_day_counts_and_one_after_does_not() -> None:
    assert card(run("order-sign", drafts=[lorazepam_draft()], resources=[medication(), opioid_from(30)]), CHECK_ID)
    later = run("order-sign", drafts=[lorazepam_draft()], resources=[medication(), opioid_from(31)])
    assert card(later, CHECK_ID) is None


def test_an_opioid_signed_beside_a_benzodiazepine_that_starts_later_fires() -> None:
    benzo = med_request(LORAZEPAM, id="eLz.1", authored=day(0), period=12)
    benzo["dispenseRequest"]["validityPeriod"] = {"start": day(10)}
    opioid = med_request(OXYCODONE_5, id="draft-oxy", draft=True)
    found = card(run("order-sign", drafts=[opioid], resources=[benzo]), CHECK_ID)
    assert found is not None
    assert f"lorazepam 1 MG Oral Tablet (starts on {day(10)})" in found.summary


def test_patient_view_names_the_planned_pair_within_the_window() -> None:
    # Before, patient-view read current orders only: nothing until the opioid started, though the lorazepam's
    # supply (to day 20) and the opioid's (from day 7) overlap.
    benzo = med_request(LORAZEPAM, id="eLz.1", authored=day(-10), period=12)
    found = card(run("patient-view", resources=[medication(), opioid_from(7), benzo]), CHECK_ID)
    assert found is not None and f"oxyCODONE 10 mg tablet (starts on {day(7)})" in found.summary
    assert card(run("patient-view", resources=[medication(), opioid_from(31), benzo]), CHECK_ID) is None
