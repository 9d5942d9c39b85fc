"""Orders and fills dated only to the month or the year ("2026-05", "2026"). The record reader reads such a date as
its first day; a supply counted from the 1st could look ended when, written on the 31st, it still lasts today, and the
opioid left the MME total with nothing said. Such a supply is counted from the last day its date can mean (never
after today): it may be current, so it is counted, and named as dated only so, on the card, the plan page and the
note. The population review already treats such a fill as undated."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import dispense, med_request, run
from cds_support import bundle, full_prefetch, hook_request, make_app

from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet: 1 tablet every 6 hours = 30 MME/day
NAME = "oxycodone hydrochloride 5 MG Oral Tablet"


def _order(authored: str) -> dict:
    """An Epic outpatient oxycodone order, 30 days' supply, written on `authored` (today is 2026-06-15)."""
    return med_request(OXYCODONE, id="ox1", authored=authored, supply_days=30, display=NAME)


def _fill(handed_over: str) -> dict:
    """A pharmacy fill of oxycodone, 30 days' supply, handed over on `handed_over`, with no order in the chart."""
    fill = {**dispense(OXYCODONE, handed_over, days_supply=30), "id": "d1", "quantity": {"value": 120}}
    fill["medicationCodeableConcept"]["coding"][0]["display"] = NAME
    return fill


@pytest.mark.parametrize(
    ("authored", "current"), [("2026-05", True), ("2026", True), ("2026-04", False), ("2025", False)]
)
def test_an_active_order_written_in_a_month_or_year_counts_while_its_supply_may_last(
    authored: str, current: bool
) -> None:
    # Written in May, 30 days' supply: from 1 May it ended on 31 May, from 31 May it lasts until 29 June.
    evaluation = run("patient-view", resources=[_order(authored)])
    assert [o.id for o in evaluation.facts.active_orders] == (["ox1"] if current else [])
    assert evaluation.facts.mme.total == (30 if current else 0)
    named = (f"{NAME} (current order ox1, written {authored} only)",) if current else ()
    assert evaluation.facts.partially_dated_supplies == named


def test_an_order_written_on_a_day_is_read_as_before() -> None:
    evaluation = run("patient-view", resources=[_order("2026-05-01")])
    assert evaluation.facts.active_orders == () and evaluation.facts.partially_dated_supplies == ()


@pytest.mark.parametrize(("handed_over", "current"), [("2026-05", True), ("2026", True), ("2026-04", False)])
def test_a_fill_dated_to_a_month_or_year_counts_while_its_supply_may_last(handed_over: str, current: bool) -> None:
    evaluation = run("patient-view", resources=[_fill(handed_over)])
    assert [s.dispense.id for s in evaluation.facts.current_fills] == (["d1"] if current else [])
    assert evaluation.facts.mme.total == (30 if current else 0)
    named = (f"{NAME} (current fill d1, dispensed {handed_over} only)",) if current else ()
    assert evaluation.facts.partially_dated_supplies == named


def test_a_possibly_current_supply_is_named_on_the_card_the_plan_page_and_the_note(tmp_path: Path) -> None:
    named = f"{NAME} (current fill d1, dispensed 2026-05 only)"
    draft = med_request(OXYCODONE, draft=True, id="draft", supply_days=5)
    prefetch = full_prefetch("order-sign", dispenses=bundle(_fill("2026-05")))
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/order-sign", json=hook_request(drafts=[draft], prefetch=prefetch))
    )
    incomplete = [c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    assert len(incomplete) == 1 and named in incomplete[0]["detail"]
    evaluation = run("order-sign", drafts=[draft], resources=[_fill("2026-05")])
    view = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now)
    assert view.named["partially-dated"] == (named,)
    assert named in view.note
