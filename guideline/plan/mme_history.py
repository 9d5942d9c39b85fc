"""Daily MME over the past 12 months as a step line (guideline 5.1 exposure intervals), peak and 90-day mean.

Supplies of the same drug and prescription course queue: an early renewal (or refill) starts the day after the
earlier supply ends, so it never counts twice; supplies of different drugs add, and so do those of one drug on another
prescriber's prescription (`fills.prescription_course`). Pharmacy fills that no order in the record stands for count
too; one an order stands for raises it to the fill's dose on the days it supplies when that is larger
(`fills.fill_raises`, the card's rule), and so does one of an order an order renews, along its chain of renewals as
the card reads it (`fills.renewal_raised`, `Facts.renewal_reach`). A fill of unknown days' supply supplies
`fills.UNKNOWN_SUPPLY_DAYS` days (`fills.supplied_days`), as in the exposure history; one whose dose is unknown is
named, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from guideline.fills import (
    FillSupply,
    fill_mme,
    fill_raises,
    fill_unread,
    mme_history_start,
    order_course,
    queue_of,
    renewal_raised,
    source_order,
    supplied_days,
)
from guideline.history import counts_as_exposure_order
from guideline.orders import orders_by_ref
from guideline.plan.model import Point
from guideline.record import MedOrder
from guideline.terminology import OPIOID
from guideline.timeutil import local_date

if TYPE_CHECKING:
    from guideline.facts import Facts

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
    # Fills read as an order's supply (or the supply of the order it renews) whose daily dose is unknown: the line
    # counts the order's dose on their days, and the fill may imply more (`fills.fill_unread`).
    unread_fills: tuple[str, ...] = ()


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
    # The orders this order renews along its priorPrescription links (`Facts.renewal_reach`), those with fills: on the
    # days one supplies, this order counts at its dose when larger than both orders' (`fills.renewal_raised`, the
    # card's rule for a renewal).
    renewed: tuple[_Renewed, ...] = ()
    order_id: int | None = None  # `id` of its order; None for a standalone fill
    # The queue of its server's unsigned orders this order's course takes over when it has none yet (`_renewal_course`)
    takes_over: str | None = None


@dataclass(frozen=True)
class _Renewed:
    """The fills of an order a supply's order renews, with how to price that order and its `id`."""

    fills: tuple[FillSupply, ...]
    price: Callable[[], tuple[str, Decimal | None, str | None]]
    order_id: int


def _fills_by_order(facts: Facts, orders: Sequence[MedOrder]) -> tuple[list[FillSupply], dict[int, list[FillSupply]]]:
    """Opioid fills no history order stands for (claims, outside prescriptions, fills of orders not in the record),
    and by `id` of its order those that one stands for (each fill's supply as the current fills queue it). A fill of
    unknown days' supply is kept: it supplies UNKNOWN_SUPPLY_DAYS days, its dose unknown and named."""
    standalone: list[FillSupply] = []
    paired: dict[int, list[FillSupply]] = {}
    for supply in facts.opioid_fill_supplies:
        order = source_order(supply.dispense, orders, facts.supply_key, facts.order_interval)
        if order is None:
            standalone.append(supply)
        else:
            paired.setdefault(id(order), []).append(supply)
    return standalone, paired


# One server's orders that name no prescriber, neither counted today nor filled: an unlinked reorder of one of them
# queues behind it (no evidence of a second prescription taken at once).
UNSIGNED_ORDERS = "orders"


def _renewal_course(
    facts: Facts, order: MedOrder, by_ref: dict[str | None, MedOrder], paired: dict[int, list[FillSupply]]
) -> tuple[str, str | None]:
    """The prescription course an order's supply queues in, and the queue it takes over when its own has none yet.
    The course is that of the order it renews through priorPrescription (followed along a chain,
    `Facts.renewal_reach`) up to an order that runs beside it (`Facts.runs_beside`: another prescriber's, still
    counted today), else its own. Another prescriber's renewal of a completed order
    continues that order's course, as the card counts it once; on its own course both were added.

    An order naming no prescriber is its own course (`fills.order_course`, as the card adds it and reads its fills)
    when it is counted today or has fills, taking over its server's queue of the other unsigned orders; one neither
    counted nor filled queues in that server's queue (an unlinked early reorder is not counted twice)."""
    chain, _ = facts.renewal_reach(order, by_ref)
    course_of = chain[-1] if chain else order
    if course_of.requester:
        return order_course(course_of), None
    unsigned = UNSIGNED_ORDERS if course_of.source is None else f"{UNSIGNED_ORDERS}:{course_of.source}"
    if facts.runs_beside(course_of) or paired.get(id(course_of)):
        return order_course(course_of), unsigned
    return unsigned, None


def _supplies(facts: Facts, order_mme: OrderMme) -> list[_Supply]:
    orders = _history_orders(facts)
    standalone, paired = _fills_by_order(facts, orders)
    by_ref = orders_by_ref(orders)
    supplies: list[_Supply] = []
    for order in orders:
        interval = facts.order_interval(order)
        if interval is None:
            continue
        course, takes_over = _renewal_course(facts, order, by_ref, paired)
        supplies.append(
            _Supply(
                facts.drug_key(order),
                interval[0],
                (interval[1] - interval[0]).days + 1,
                partial(order_mme, order),
                partial(_order_label, facts, order),
                course,
                tuple(paired.get(id(order), ())),
                _renewed(facts, order, by_ref, paired, order_mme),
                id(order),
                takes_over,
            )
        )
    for fill in standalone:

        def price(fill: FillSupply = fill) -> tuple[str, Decimal | None, str | None]:
            result = fill_mme(fill.dispense, facts.terms, facts.config)
            return result.state, result.mme, result.reason

        supplies.append(
            _Supply(
                fill.drug,
                fill.filled,
                supplied_days(fill.dispense),
                price,
                partial(_fill_label, facts, fill),
                facts.fill_course(fill.dispense),
            )
        )
    return supplies


def _order_label(facts: Facts, order: MedOrder) -> str:
    """ "oxycodone … (2026-03-20)": an order as the history names it, by the day it was written."""
    return f"{facts.name(order)} ({local_date(order.authored_on) or 'undated'})"


def _fill_label(facts: Facts, fill: FillSupply) -> str:
    """ "oxycodone … (filled 2026-03-20)": a fill as the history names it."""
    return f"{facts.name(fill.dispense)} (filled {fill.dispense.filled_partial or fill.filled})"


def _renewed(
    facts: Facts,
    order: MedOrder,
    by_ref: dict[str | None, MedOrder],
    paired: dict[int, list[FillSupply]],
    order_mme: OrderMme,
) -> tuple[_Renewed, ...]:
    """The fills of each history order `order` stands for along its priorPrescription links, nearest first, with its
    price: the card's walk (`Facts.renewal_reach`), which ends at an order still counted beside it (that order stands
    for its own fills). Orders with no fills are passed through."""
    chain, _ = facts.renewal_reach(order, by_ref)
    return tuple(
        _Renewed(tuple(paired[id(renewed)]), partial(order_mme, renewed), id(renewed))
        for renewed in chain
        if paired.get(id(renewed))
    )


def _queued(supplies: list[_Supply]) -> list[tuple[date, date, _Supply]]:
    """Each supply's days, a supply of a drug already supplied on its course starting the day after the earlier one
    ends (`fills.queue_of`, as the current fills queue)."""
    next_free: dict[str, dict[str | None, date]] = {}
    placed: list[tuple[date, date, _Supply]] = []
    for supply in sorted(supplies, key=lambda s: s.start):
        courses = next_free.setdefault(supply.drug, {})
        if supply.takes_over is not None and supply.takes_over in courses and supply.course not in courses:
            courses[supply.course] = courses.pop(supply.takes_over)  # its reorder: it continues that queue
        course = queue_of(courses, supply.course)
        first = max(supply.start, courses.get(course, supply.start))
        last = first + timedelta(days=max(supply.days, 1) - 1)
        courses[course] = last + timedelta(days=1)
        placed.append((first, last, supply))
    return placed


@dataclass(frozen=True)
class MmeSeries:
    """The daily MME line's change points, the days supplied per reason not counted, the names of the supplies whose
    MME is unknown (missing from the line) and of the fills whose dose is unknown beside their order's."""

    changes: dict[date, Decimal]
    apart: dict[str, int]
    unknown: tuple[str, ...]
    unread_fills: tuple[str, ...]


def daily_mme_series(facts: Facts, start: date, end: date, order_mme: OrderMme) -> MmeSeries:
    """Daily MME from each opioid order's exposure interval (guideline 5.1) and each standalone fill, same-drug
    supplies queued; days of buprenorphine, of methadone for opioid use disorder and of any other opioid left out
    (UNEXPLAINED) counted apart.

    `order_mme(order)` gives ("ok"|"excluded"|"unknown", MME, reason).
    """
    span = (end - start).days + 1
    daily = [Decimal(0)] * span
    apart: dict[str, list[bool]] = {}
    unknown: list[str] = []
    unread: list[str] = []
    placed = _queued(_supplies(facts, order_mme))
    # Each order's days as queued: a fill of an order renewed raises the renewal only off the renewed order's days.
    spans = {supply.order_id: (first, last) for first, last, supply in placed if supply.order_id is not None}
    for interval_start, interval_end, supply in placed:
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
            raised = _raised_days(facts, supply, value, (low, high), start, unread, spans)
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
    return MmeSeries(
        changes,
        {reason: sum(days) for reason, days in apart.items()},
        tuple(dict.fromkeys(unknown)),
        tuple(dict.fromkeys(unread)),
    )


def _raised_days(
    facts: Facts,
    supply: _Supply,
    value: Decimal,
    days: tuple[date, date],
    start: date,
    unread: list[str],
    spans: dict[int, tuple[date, date]],
) -> dict[int, Decimal]:
    """The `days` (index from `start`) on which a fill read as the order's supply implies a larger dose than the
    order's `value` (`fills.fill_raises`), or a fill of an order it renews along the chain a larger dose than both
    (`fills.renewal_raised`), with that dose (the card's rules): the largest on a day two supply. A fill of an order
    renewed raises the renewal only off that order's own days as queued (`spans`, by order `id`), where the fill
    already stands with its own order: one fill is never counted on two orders on one day. A fill on those days whose
    dose is unknown is added to `unread` (`fills.fill_unread`)."""
    low, high = days
    raised: dict[int, Decimal] = {}
    weighed: list[tuple[FillSupply, _Renewed | None]] = [(fill, None) for fill in supply.fills]
    weighed += [(fill, renewed) for renewed in supply.renewed for fill in renewed.fills]
    for fill, renewing in weighed:
        # A fill of unknown days' supply supplies UNKNOWN_SUPPLY_DAYS days, as the exposure history reads it.
        end = fill.end or fill.start + timedelta(days=supplied_days(fill.dispense) - 1)
        first, last = max(fill.start, low), min(end, high)
        if first > last:
            continue
        priced = fill_mme(fill.dispense, facts.terms, facts.config)
        if fill_unread("ok", value, priced):
            unread.append(_fill_label(facts, fill))
            continue
        if renewing is None:
            raises = fill_raises("ok", value, priced)
        else:
            renewed_state, renewed_mme, _ = renewing.price()
            raises = renewal_raised(renewed_state, renewed_mme, "ok", value, priced)
        if not raises or priced.mme is None:
            continue
        own_days = spans.get(renewing.order_id) if renewing is not None else None
        for index in range((first - start).days, (last - start).days + 1):
            day = start + timedelta(days=index)
            if own_days is not None and own_days[0] <= day <= own_days[1]:
                continue
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
    start = mme_history_start(end)
    series = daily_mme_series(facts, start, end, _order_mme_function(facts, compute))
    apart = series.apart
    points = tuple(Point(d, v) for d, v in sorted(series.changes.items()))
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
        series.unknown,
        apart.get("oud-methadone", 0),
        apart.get(UNEXPLAINED, 0),
        series.unread_fills,
    )
