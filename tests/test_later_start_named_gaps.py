"""A signed order that starts after today is not current (`orders.starts_after`, which `orders.is_current` reads
first): a named gap that names one says so and when it starts, never "current order … counts as current until …"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import builders
import pytest
from builders import TODAY, UCUM, days_ago, run
from named_gaps_support import completeness_panel, data_incomplete_detail, named_kind
from test_mme_drug_conflict import CONFLICT, OXY_5
from test_supply_not_believed import epic_order

from guideline.orders import is_current, starts_after

STARTS = days_ago(-10)  # the earliest fill date: 10 days after the evaluation date
LATER = f"; it starts on {STARTS}, so it is not counted as current today"
WHY = "check the quantity, days' supply and refills; such a supply cannot be right and was not counted"
SHORT = "expected supply duration 0.01 days, less than one day, shorter than any prescription's days' supply"
LONG = "quantity 9000 tablets at 1 a day: 9000 days' supply, more than a prescription can hold"
NAME = "oxyCODONE (ROXICODONE) 5 MG immediate release tablet"


def _later_epic_order(quantity: int, **changes: Any) -> dict[str, Any]:
    """Epic's signed order of oxycodone 5 mg, 1 tablet daily, written yesterday, "do not fill before" 10 days from
    the evaluation date and fillable for 60 days from then (its validity period): 9000 is 90 keyed with two zeros
    too many."""
    validity = {"start": STARTS, "end": days_ago(-70)}
    sent = {"quantity": {"value": quantity, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}
    sent |= {"numberOfRepeatsAllowed": 0, "validityPeriod": validity}
    return epic_order(quantity, status="active", authored=days_ago(1), dispenseRequest=sent, **changes)


def _as_directed_over_hours() -> dict[str, Any]:
    """The same order "take as directed", #60, its expected supply keyed as 0.01 days: only quantity ÷ expected
    supply could give its supply, and that is not believed."""
    order = _later_epic_order(60, dosageInstruction=[{"text": "Take as directed"}])
    order["dispenseRequest"]["expectedSupplyDuration"] = {"value": 0.01, "unit": "days"}
    return order


SUPPLIES = [
    pytest.param(_as_directed_over_hours(), SHORT, id="0.01-days"),
    pytest.param(_later_epic_order(9000), LONG, id="9000-days"),
]


@pytest.mark.parametrize(("order", "sent"), SUPPLIES)
def test_an_order_of_unbelieved_supply_that_starts_later_is_named_as_not_current_as_the_total_reads_it(
    order: dict[str, Any], sent: str
) -> None:
    """Before: "(current order eOxy5.daily, …, so it counts as current until <validity end>, the end it states)",
    while the total left it out as a prescription that starts later."""
    facts = run("patient-view", resources=[order]).facts
    (standing,) = facts.standing_orders
    assert not is_current(standing, facts.supply(standing), TODAY, facts.config)
    assert starts_after(standing, TODAY).isoformat() == STARTS
    assert named_kind("unbelieved-supply").items(facts) == (f"{NAME} (order eOxy5.daily, {sent}{LATER})",)


@pytest.mark.parametrize(("order", "sent"), SUPPLIES)
def test_the_data_incomplete_card_says_it_starts_later(tmp_path: Path, order: dict[str, Any], sent: str) -> None:
    detail = data_incomplete_detail(tmp_path, order)
    assert f"- {NAME} (order eOxy5.daily, {sent}{LATER}): {WHY}" in detail
    assert "counts as current" not in detail and "current order eOxy5" not in detail


def test_the_plan_pages_data_completeness_panel_says_it_starts_later(tmp_path: Path) -> None:
    shown = completeness_panel(tmp_path, _as_directed_over_hours())
    assert "1 medication order had a days' supply no prescription can hold" in shown
    assert f"{NAME} (order eOxy5.daily, {SHORT}{LATER})</li>" in shown
    assert "counts as current" not in shown


def test_an_order_of_unbelieved_supply_begun_by_today_still_counts_as_current_until_the_end_it_states() -> None:
    """The same order with its earliest fill date 10 days ago: current, as before."""
    order = _later_epic_order(9000)
    order["dispenseRequest"]["validityPeriod"] = {"start": days_ago(10), "end": days_ago(-50)}
    facts = run("patient-view", resources=[order]).facts
    stated = f", so it counts as current until {days_ago(-50)}, the end it states"
    assert named_kind("unbelieved-supply").items(facts) == (f"{NAME} (current order eOxy5.daily, {LONG}{stated})",)


def test_an_opioid_whose_code_and_name_disagree_that_starts_later_is_named_as_not_current() -> None:
    """Listed beside the total, not in it: before, "(current order eMr1, its code says oxycodone, …)", and the line
    said the MME total counted it."""
    order = builders.med_request(OXY_5, id="eMr1", authored=days_ago(1), display="oxycodone 5 mg tablet")
    order["medicationCodeableConcept"]["text"] = "HYDROmorphone 2 MG tablet"
    order["dispenseRequest"]["validityPeriod"] = {"start": STARTS, "end": days_ago(-70)}
    draft = builders.med_request(OXY_5, draft=True, id="draft-oxy", supply_days=5)
    facts = run("order-sign", drafts=[draft], resources=[order]).facts
    detail = "counted as hydromorphone, 40.0 MME/day against 30.0 as oxycodone; check which drug is meant"
    assert named_kind("drug-named-otherwise").items(facts) == (
        f"HYDROmorphone 2 MG tablet (order eMr1, {CONFLICT}: {detail}{LATER})",
    )
