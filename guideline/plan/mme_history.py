"""Daily MME over the past 12 months as a step line (guideline 5.1 exposure intervals), peak and 90-day mean.

Supplies of the same drug and prescription course queue: an early renewal (or refill) starts the day after the
earlier supply ends, so it never counts twice; supplies of different drugs add, and so do those of one drug on another
prescriber's prescription (`fills.prescription_course`). Pharmacy fills that no order in the record stands for count
too; one an order stands for raises it to the fill's dose on the days it supplies when that is larger
(`fills.fill_raises`, the card's rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from guideline.fills import (
    MME_HISTORY_MONTHS,
    FillSupply,
    days_supply,
    fill_mme,
    fill_raises,
    queue_of,
    source_order,
)
from guideline.history import counts_as_exposure_order
from guideline.identifiers import actor_key
from guideline.plan.model import Point
from guideline.record import MedOrder
from guideline.terminology import OPIOID
from guideline.timeutil import local_date, months_before

if TYPE_CHECKING:
    from guideline.facts import Facts

HISTORY_MONTHS = MME_HISTORY_MONTHS

# An order's (state, MME, reason): "ok", "excluded" (reason "buprenorphine" or "oud-methadone") or "unknown".
# The reasons for leaving a supply out that the history counts apart by name; any other, or none, is counted as
# UNEXPLAINED (it was counted as buprenorphine, or, with a reason of another name, not shown at all).
APART_REASONS = frozenset({"buprenorphine", "oud-methadone"})
UNEXPLAINED = "unexplained"
OrderMme = Callable[[MedOrder], tuple[str, Decimal | None, str | None]]


@dataclass(frozen=True)
class MmeHistory:
    start: date
    end: date
    opioid: tuple[Point, ...]  # one point per change of daily MME (a step line)
    buprenorphine_days: int
    peak: Decimal
    average_90: Decimal
    unknown_orders: tuple[str, ...]
    oud_methadone_days: int = 0  # methadone for opioid use disorder supplied, not counted in MME
    unexplained_days: int = 0  # an opioid not counted in MME supplied, for a reason the page has no words for


def _history_orders(facts: Facts) -> list[MedOrder]:
    return [o for o in facts.record.orders if counts_as_exposure_order(o, facts.config) and facts.is_in(OPIOID, o)]


@dataclass(frozen=True)
class _Supply:
    """One order's or standalone fill's supply before queueing: drug, first day, length, and how to price it."""

    drug: str
    start: date
    days: int
    price: Callable[[], tuple[str, Decimal | None, str | None]]
    label: Callable[[], str]
    course: str | None  # the prescription course (`fills.queue_of`); None: a fill naming no prescription
    # An order's fills (read as its supply): on the days one supplies, the order counts at its dose when larger.
    fills: tuple[FillSupply, ...] = ()


# The course of the record's orders that name no prescriber: their renewals queue one behind the other, and a fill
# naming another prescription is not taken for one of them.
UNSIGNED_ORDERS = "orders"


def _order_course(order: MedOrder) -> str:
    """An order's prescription course: its prescriber's, as `fills.prescription_course` gives its fills."""
    return f"prescriber:{actor_key(order.requester)}" if order.requester else UNSIGNED_ORDERS


def _fills_by_order(facts: Facts, orders: Sequence[MedOrder]) -> tuple[list[FillSupply], dict[int, list[FillSupply]]]:
    """Opioid fills no history order stands for (claims, outside prescriptions, fills of orders not in the record),
    and by `id` of its order those that one stands for (each fill's supply as the current fills queue it)."""
    standalone: list[FillSupply] = []
    paired: dict[int, list[FillSupply]] = {}
    for supply in facts.opioid_fill_supplies:
        if days_supply(supply.dispense) is None:
            continue
        order = source_order(supply.dispense, orders, facts.drug_key, facts.order_interval)
        if order is None:
            standalone.append(supply)
        else:
            paired.setdefault(id(order), []).append(supply)
    return standalone, paired


def _supplies(facts: Facts, order_mme: OrderMme) -> list[_Supply]:
    orders = _history_orders(facts)
    standalone, paired = _fills_by_order(facts, orders)
    supplies: list[_Supply] = []
    for order in orders:
        interval = facts.order_interval(order)
        if interval is None:
            continue
        supplies.append(
            _Supply(
                facts.drug_key(order),
                interval[0],
                (interval[1] - interval[0]).days + 1,
                lambda order=order: order_mme(order),
                lambda order=order: f"{facts.name(order)} ({local_date(order.authored_on) or 'undated'})",
                _order_course(order),
                tuple(paired.get(id(order), ())),
            )
        )
    for fill in standalone:
        assert fill.end is not None

        def price(fill: FillSupply = fill) -> tuple[str, Decimal | None, str | None]:
            result = fill_mme(fill.dispense, facts.terms, facts.config)
            return result.state, result.mme, result.reason

        supplies.append(
            _Supply(
                fill.drug,
                fill.filled,
                (fill.end - fill.start).days + 1,
                price,
                lambda fill=fill: f"{facts.name(fill.dispense)} (filled {fill.dispense.filled_partial or fill.filled})",
                facts.fill_course(fill.dispense),
            )
        )
    return supplies


def _queued(supplies: list[_Supply]) -> list[tuple[date, date, _Supply]]:
    """Each supply's days, a supply of a drug already supplied on its course starting the day after the earlier one
    ends (`fills.queue_of`, as the current fills queue)."""
    next_free: dict[str, dict[str | None, date]] = {}
    placed: list[tuple[date, date, _Supply]] = []
    for supply in sorted(supplies, key=lambda s: s.start):
        courses = next_free.setdefault(supply.drug, {})
        course = queue_of(courses, supply.course)
        first = max(supply.start, courses.get(course, supply.start))
        last = first + timedelta(days=max(supply.days, 1) - 1)
        courses[course] = last + timedelta(days=1)
        placed.append((first, last, supply))
    return placed


def daily_mme_series(
    facts: Facts, start: date, end: date, order_mme: OrderMme
) -> tuple[dict[date, Decimal], dict[str, int], tuple[str, ...]]:
    """Daily MME from each opioid order's exposure interval (guideline 5.1) and each standalone fill, same-drug
    supplies queued; days of buprenorphine, of methadone for opioid use disorder and of any other opioid left out
    (UNEXPLAINED) counted apart.

    `order_mme(order)` gives ("ok"|"excluded"|"unknown", MME, reason). Returns (change points, days supplied per
    reason not counted, names of orders whose MME is unknown and so missing from the line).
    """
    span = (end - start).days + 1
    daily = [Decimal(0)] * span
    apart: dict[str, list[bool]] = {}
    unknown: list[str] = []
    for interval_start, interval_end, supply in _queued(_supplies(facts, order_mme)):
        low, high = max(interval_start, start), min(interval_end, end)
        if low > high:
            continue
        state, value, reason = supply.price()
        first, last = (low - start).days, (high - start).days
        if state == "excluded":
            days = apart.setdefault(reason if reason in APART_REASONS else UNEXPLAINED, [False] * span)
            for index in range(first, last + 1):
                days[index] = True
        elif state == "ok" and value is not None:
            raised = _raised_days(facts, supply, value, low, high, start)
            for index in range(first, last + 1):
                daily[index] += raised.get(index, value)
        else:
            unknown.append(supply.label())
    changes: dict[date, Decimal] = {}
    previous: Decimal | None = None
    for index, value in enumerate(daily):
        if value != previous:
            changes[start + timedelta(days=index)] = value
            previous = value
    changes[end] = daily[-1]
    return changes, {reason: sum(days) for reason, days in apart.items()}, tuple(dict.fromkeys(unknown))


def _raised_days(
    facts: Facts, supply: _Supply, value: Decimal, low: date, high: date, start: date
) -> dict[int, Decimal]:
    """The days (index from `start`) from `low` to `high` on which a fill read as the order's supply implies a larger
    dose than the order's `value`, with that dose (`fills.fill_raises`, the card's rule): the largest on a day two
    supply."""
    raised: dict[int, Decimal] = {}
    for fill in supply.fills:
        assert fill.end is not None  # only fills of a known days' supply are paired
        first, last = max(fill.start, low), min(fill.end, high)
        if first > last:
            continue
        priced = fill_mme(fill.dispense, facts.terms, facts.config)
        if not fill_raises("ok", value, priced) or priced.mme is None:
            continue
        for index in range((first - start).days, (last - start).days + 1):
            raised[index] = max(raised.get(index, value), priced.mme)
    return raised


def _order_mme_function(facts: Facts, compute: Callable[..., Any]) -> OrderMme:
    # Refills of the same prescription repeat the same drug, dosage and dispense request; the MME depends on
    # nothing else, so each shape is computed once (a 2-year history has hundreds of such repeats).
    cache: dict[Any, tuple[str, Decimal | None, str | None]] = {}

    def order_mme(order: MedOrder) -> tuple[str, Decimal | None, str | None]:
        try:
            key: Any = (order.medication, order.dosages, order.dispense, order.course_of_therapy)
            hash(key)
        except TypeError:
            key = id(order)
        if key not in cache:
            summary = compute((order,), facts.terms, facts.config)
            result = summary.orders[0] if summary.orders else None
            cache[key] = ("unknown", None, None) if result is None else (result.state, result.mme, result.reason)
        return cache[key]

    return order_mme


def _expand(points: Sequence[Point], start: date, end: date) -> list[Decimal]:
    """The step line back to one value per day."""
    values: list[Decimal] = []
    index = 0
    current = Decimal(0)
    day = start
    while day <= end:
        while index < len(points) and points[index].day <= day:
            current = points[index].value
            index += 1
        values.append(current)
        day += timedelta(days=1)
    return values


def build_mme_history(facts: Facts, compute: Callable[..., Any]) -> MmeHistory:
    end = facts.today
    start = months_before(end, HISTORY_MONTHS)
    changes, apart, unknown = daily_mme_series(facts, start, end, _order_mme_function(facts, compute))
    points = tuple(Point(d, v) for d, v in sorted(changes.items()))
    values = _expand(points, start, end)
    last_90 = values[-90:]
    average = sum(last_90, Decimal(0)) / len(last_90) if last_90 else Decimal(0)
    return MmeHistory(
        start,
        end,
        points,
        apart.get("buprenorphine", 0),
        max(values, default=Decimal(0)),
        average,
        unknown,
        apart.get("oud-methadone", 0),
        apart.get(UNEXPLAINED, 0),
    )
