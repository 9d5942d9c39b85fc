"""A signed order in force whose counted time has ended is not current (`orders.is_current`): a named gap that names
one says so in the past, "order … so it counted as current until …, and is not current today", never "current
order … counts as current until" a day already gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import builders
import pytest
from builders import TODAY, days_ago, run
from cds_support import bundle, full_prefetch, hook_request, make_app
from named_gaps_support import completeness_panel, data_incomplete_detail, named_kind
from test_mme_drug_conflict import CONFLICT, OXY_5
from test_supply_not_believed import epic_order

from guideline.orders import is_current

NAME = "oxyCODONE (ROXICODONE) 5 MG immediate release tablet"
LONG = "quantity 9000 tablets at 1 a day: 9000 days' supply, more than a prescription can hold"
WHY = "check the quantity, days' supply and refills; such a supply cannot be right and was not counted"
# Written 100 days before the evaluation date, with no end stated: current for 90 days from its start, to 10 days ago.
ENDED = f", so it counted as current until {days_ago(10)}, 90 days from its start, and is not current today"


def _ended_epic_order(**changes: Any) -> dict[str, Any]:
    """Epic's signed order of oxycodone 5 mg, 1 tablet daily, #9000 (90 keyed with two zeros too many), written 100
    days before the evaluation date and still active: no days' supply of its own and no validity period."""
    return epic_order(9000, status="active", authored=days_ago(100), **changes)


def test_an_order_of_unbelieved_supply_whose_time_has_ended_is_named_as_not_current() -> None:
    """Before: "(current order eOxy5.daily, …, so it counts as current until 2026-06-05, 90 days from its start)",
    a day already gone, while `orders.is_current` and the MME total left it out."""
    facts = run("patient-view", resources=[_ended_epic_order()]).facts
    (standing,) = facts.standing_orders
    assert not is_current(standing, facts.supply(standing), TODAY, facts.config)
    assert facts.mme.orders == ()
    assert named_kind("unbelieved-supply").items(facts) == (f"{NAME} (order eOxy5.daily, {LONG}{ENDED})",)


def test_one_ended_by_the_end_it_states_says_that_end_in_the_past() -> None:
    """Epic's validity period, 100 days ago to 40 days ago: its supply unknown, the end it states is its end."""
    validity = {"start": days_ago(100), "end": days_ago(40)}
    order = _ended_epic_order()
    order["dispenseRequest"]["validityPeriod"] = validity
    facts = run("patient-view", resources=[order]).facts
    stated = f", so it counted as current until {days_ago(40)}, the end it states, and is not current today"
    assert named_kind("unbelieved-supply").items(facts) == (f"{NAME} (order eOxy5.daily, {LONG}{stated})",)


@pytest.mark.parametrize(
    ("written", "named"),
    [
        pytest.param(90, f"current order eOxy5.daily, {LONG}, so it counts as current until {days_ago(0)}", id="90"),
        pytest.param(91, f"order eOxy5.daily, {LONG}, so it counted as current until {days_ago(1)}", id="91"),
    ],
)
def test_the_label_follows_is_current_on_the_last_day_of_the_window(written: int, named: str) -> None:
    """Written 90 days ago it is current today, its last day; written 91 days ago it ended yesterday."""
    facts = run("patient-view", resources=[epic_order(9000, status="active", authored=days_ago(written))]).facts
    (standing,) = facts.standing_orders
    current = is_current(standing, facts.supply(standing), TODAY, facts.config)
    assert current is (written == 90)
    (item,) = named_kind("unbelieved-supply").items(facts)
    assert item.startswith(f"{NAME} ({named}, 90 days from its start")
    assert item.endswith(")" if current else ", and is not current today)")


def test_the_data_incomplete_card_names_it_as_an_order_not_current(tmp_path: Path) -> None:
    detail = data_incomplete_detail(tmp_path, _ended_epic_order())
    assert f"- {NAME} (order eOxy5.daily, {LONG}{ENDED}): {WHY}" in detail
    assert "counts as current" not in detail and "current order eOxy5" not in detail


def test_the_plan_pages_data_completeness_panel_names_it_as_an_order_not_current(tmp_path: Path) -> None:
    shown = completeness_panel(tmp_path, _ended_epic_order())
    assert "1 medication order had a days' supply no prescription can hold" in shown
    assert f"{NAME} (order eOxy5.daily, {LONG}{ENDED})</li>" in shown
    assert "counts as current" not in shown and "current order eOxy5" not in shown


def test_the_drug_named_otherwise_line_does_not_say_the_total_counted_an_order_that_starts_later(
    tmp_path: Path,
) -> None:
    """An Epic hydromorphone record on oxycodone's RxNorm code, "do not fill before" 10 days ahead, beside a draft
    being signed: listed beside the total, not in it, so the card's line must not say the total counted it."""
    order = builders.med_request(OXY_5, id="eMr1", authored=days_ago(1), display="oxycodone 5 mg tablet")
    order["medicationCodeableConcept"]["text"] = "HYDROmorphone 2 MG tablet"
    order["dispenseRequest"]["validityPeriod"] = {"start": days_ago(-10), "end": days_ago(-70)}
    draft = builders.med_request(OXY_5, draft=True, id="draft-oxy", supply_days=5)
    prefetch = full_prefetch("order-sign", medsActive=bundle(order), medsRecent=bundle(order))
    request = hook_request("order-sign", drafts=[draft], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=request)
    cards = {card["source"]["topic"]["code"]: card for card in response.json["cards"]}
    detail = cards["data-incomplete"]["detail"]
    later = f"; it starts on {days_ago(-10)}, so it is not counted as current today"
    (line,) = (text for text in detail.splitlines() if text.startswith("- HYDROmorphone 2 MG tablet (order eMr1"))
    assert f"{CONFLICT}: counted as hydromorphone" in line and f"{later}):" in line
    why = line.split("): ", 1)[1]
    assert "the MME total counted it as the opioid" not in why
    assert "listed it beside the total, for an order that starts later" in why
