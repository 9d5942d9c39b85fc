"""Order-select reads a signed prescription that starts later as order-sign does: both carry the same draft orders,
so a benzodiazepine selected beside an opioid prescription that starts next week gets the card at select, not first
at sign."""

from __future__ import annotations

from builders import card, run
from test_later_start_co_prescribing import lorazepam_draft, opioid_from
from test_staggered_prescriptions import day, medication

from guideline.checks.opioid_benzodiazepine import CHECK_ID


def window(days: int) -> dict:
    return {"checks": {"opioid-benzodiazepine": {"later_start_co_prescribing_days": days}}}


def test_a_benzodiazepine_selected_beside_an_opioid_that_starts_next_week_fires_as_at_sign() -> None:
    # Before: nothing at order-select, a card at order-sign for the same draft and the same record.
    resources = [medication(), opioid_from(7)]
    selected = card(run("order-select", drafts=[lorazepam_draft()], resources=resources), CHECK_ID)
    signed = card(run("order-sign", drafts=[lorazepam_draft()], resources=resources), CHECK_ID)
    assert selected is not None and signed is not None
    assert selected.summary == signed.summary
    assert selected.detail == signed.detail
    assert f"- oxyCODONE 10 mg tablet (active, written {day(0)}; starts on {day(7)})" in selected.detail


def test_order_select_reads_the_site_window_too() -> None:
    resources = [medication(), opioid_from(20)]
    config = window(14)
    assert card(run("order-select", drafts=[lorazepam_draft()], resources=resources, config=config), CHECK_ID) is None
    assert card(run("order-select", drafts=[lorazepam_draft()], resources=resources), CHECK_ID) is not None
