"""Whether an order in force is current (`orders.is_current`) and the words naming one of unknown supply
(`named_gaps.orders_of_unbelieved_supply`) read one rule, `orders.current_until` (3.3): the end of its supply or the
end it states, else `current_order_default_days` from its start, else current while it is active. `is_current`
reads it in place (it runs for every order of every call), so these hold the two to one answer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from builders import TODAY, days_ago, run
from test_supply_not_believed import epic_order

from guideline.named_gaps import orders_of_unbelieved_supply
from guideline.orders import (
    UNTIL_STATED_END,
    UNTIL_SUPPLY_ENDS,
    UNTIL_WINDOW_ENDS,
    WHILE_ACTIVE,
    current_until,
    is_current,
    possible_start,
)

# Epic's validity period: written 10 days ago, fillable for 60 days.
VALIDITY = {"start": days_ago(10), "end": days_ago(-50)}
THIRTY_DAYS = {"value": 30, "unit": "Day", "system": "http://unitsofmeasure.org", "code": "d"}


def _believed(authored: str) -> dict[str, Any]:
    """Epic's order of 30 tablets, 1 a day, with a 30-day expected supply."""
    dispense = {"quantity": {"value": 30, "unit": "tablet"}, "expectedSupplyDuration": THIRTY_DAYS}
    return epic_order(30, status="active", authored=authored, dispenseRequest=dispense)


def _undated() -> dict[str, Any]:
    """9000 tablets (90 keyed with two zeros too many) on an order sent with no authoredOn and no start."""
    order = epic_order(9000, status="active")
    order.pop("authoredOn")
    return order


CASES = [
    pytest.param(_believed(days_ago(10)), date.fromisoformat(days_ago(-20)), UNTIL_SUPPLY_ENDS, id="supply-current"),
    pytest.param(_believed(days_ago(40)), date.fromisoformat(days_ago(10)), UNTIL_SUPPLY_ENDS, id="supply-ended"),
    pytest.param(
        epic_order(9000, status="active", authored=days_ago(10), dispenseRequest={"validityPeriod": VALIDITY}),
        date.fromisoformat(days_ago(-50)),
        UNTIL_STATED_END,
        id="stated-end",
    ),
    pytest.param(
        epic_order(9000, status="active", authored=days_ago(10)),
        date.fromisoformat(days_ago(-80)),
        UNTIL_WINDOW_ENDS,
        id="window-current",
    ),
    pytest.param(
        epic_order(9000, status="active", authored=days_ago(100)),
        date.fromisoformat(days_ago(10)),
        UNTIL_WINDOW_ENDS,
        id="window-ended",
    ),
    # Written to the month only: its window runs from the last day May can mean.
    pytest.param(
        epic_order(9000, status="active", authored="2026-05"),
        date(2026, 8, 29),
        UNTIL_WINDOW_ENDS,
        id="window-month-only",
    ),
    pytest.param(_undated(), None, WHILE_ACTIVE, id="no-start"),
]


@pytest.mark.parametrize(("resource", "until", "why"), CASES)
def test_is_current_reads_the_day_and_the_reason_current_until_gives(
    resource: dict[str, Any], until: date | None, why: str
) -> None:
    facts = run("patient-view", resources=[resource]).facts
    (order,) = facts.standing_orders
    supply = facts.supply(order)
    assert current_until(order, supply, facts.config, possible_start(order, TODAY)) == (until, why)
    assert is_current(order, supply, TODAY, facts.config) is (until is None or until >= TODAY)


def test_an_order_of_unknown_supply_and_no_start_is_said_to_count_while_it_is_active() -> None:
    facts = run("patient-view", resources=[_undated()]).facts
    (named,) = orders_of_unbelieved_supply(facts)
    assert named.endswith(", so it counts as current while it is active (it states no start))")
