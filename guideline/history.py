"""Opioid exposure history (guideline 5): supply intervals, long-term therapy, recent start, opioid-naive."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from guideline.config import GuidelineConfig
from guideline.fills import UNKNOWN_SUPPLY_DAYS, fill_date, fill_moment, known_in_hand, supplied_days
from guideline.orders import ENDED, is_ambulatory, is_taken, order_start, possible_start
from guideline.record import Dispense, MedOrder
from guideline.supply import Supply, order_supply
from guideline.timeutil import ONE_DAY, day_span, local_date

if TYPE_CHECKING:
    from guideline.terminology import Terminology

Interval = tuple[date, date]

EXPOSURE_ORDER_STATUSES = frozenset({"active", "completed", "stopped", ENDED})
LTOT_MIN_DAYS = 21
RECENT_START_MIN_DAYS = 7
# The days the opioid history reads (guideline 5.1-5.3): long-term therapy in three 30-day windows, the last ending
# today, and the opioid-naive window from this many days before now to 24 hours before now.
HISTORY_DAYS = 90


def history_start(today: date) -> date:
    """The first of the history's HISTORY_DAYS days, today the last (today - 89)."""
    return today - timedelta(days=HISTORY_DAYS - 1)


def naive_window(now: datetime) -> tuple[datetime, datetime]:
    """The opioid-naive window (5.3), in full datetimes: [now - HISTORY_DAYS days, now - 24 hours]."""
    return now - timedelta(days=HISTORY_DAYS), now - timedelta(hours=24)


def order_interval(order: MedOrder, supply: Supply, today: date | None = None) -> Interval | None:
    """[start, start + total supply days − 1], or 30 days when the supply is unknown; its start is the first day of
    its supply as `is_current` reads it (`orders.possible_start`): dated from the day written, an order whose
    instructions begin a month on (`boundsPeriod.start`) had supplied nothing in the days it counted as today's
    dose, and no recent start was read beside a current 60 MME/day order."""
    start = possible_start(order, today)
    if start is None:
        return None
    days = math.ceil(supply.total_days) if supply.total_days is not None else UNKNOWN_SUPPLY_DAYS
    return start, start + day_span(max(days, 1) - 1)


def order_supply_interval(
    order: MedOrder, terms: Terminology, config: GuidelineConfig, today: date | None = None
) -> Interval | None:
    """`order_interval` of the order with its `order_supply` (remembered per the objects it reads)."""
    # Not remembered itself: an order's dates differ from call to call, so a memo here missed nearly every time.
    return order_interval(order, order_supply(order, terms, config), today)


def dispense_interval(dispense: Dispense) -> Interval | None:
    """[whenHandedOver (else whenPrepared), + daysSupply − 1], or 30 days when daysSupply is missing (or is no
    usable number of days: under one, or over 999, as fills.days_supply reads it)."""
    # Not remembered: a fill's dates differ from call to call, and dating it costs less than a memo's look-up.
    start = fill_date(dispense)
    if start is None:
        return None
    return start, start + day_span(supplied_days(dispense) - 1)


def counts_as_exposure_order(order: MedOrder, config: GuidelineConfig) -> bool:
    """A real (not draft) order with status active, completed, stopped or (R5) ended, ambulatory or uncategorised,
    that was an order or a medication reported as taken: a proposal, plan or option nobody acted on is no opioid use
    (3.2)."""
    return (
        not order.is_draft
        and order.status in EXPOSURE_ORDER_STATUSES
        and is_taken(order)
        and is_ambulatory(order, config)
    )


def counts_as_exposure_dispense(dispense: Dispense) -> bool:
    """A fill known to be in the patient's hands (`fills.known_in_hand`): one of unknown status makes no one
    opioid-tolerant."""
    return known_in_hand(dispense)


def merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Merge overlapping and adjacent intervals."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + ONE_DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def covered_days(intervals: Sequence[Interval], start: date, end: date) -> int:
    """Calendar days in [start, end] inside any (merged) interval."""
    total = 0
    for low, high in intervals:
        overlap_start, overlap_end = max(low, start), min(high, end)
        if overlap_start <= overlap_end:
            total += (overlap_end - overlap_start).days + 1
    return total


@dataclass(frozen=True)
class Exposure:
    """What the record says about the patient's opioid supply over the last HISTORY_DAYS days."""

    intervals: tuple[Interval, ...]
    windows: tuple[Interval, Interval, Interval]
    window_days: tuple[int, int, int]
    recent_days: int
    ltot: bool
    recent_start: bool
    naive: bool

    def covered_days(self, start: date, end: date) -> int:
        return covered_days(self.intervals, start, end)


def exposure(
    orders: Iterable[MedOrder],
    interval_of: Callable[[MedOrder], Interval | None],
    dispenses: Iterable[tuple[Dispense, Interval | None]],
    is_opioid: Callable[[MedOrder | Dispense], bool],
    now: datetime,
) -> Exposure:
    """Long-term therapy, recent start and opioid-naive status (5.1–5.3) from the orders and dispenses that count
    as exposure (`counts_as_exposure_order`, `counts_as_exposure_dispense`) of a medicine that builds tolerance (an
    opioid, or buprenorphine or methadone: any of them ends opioid-naive status), a dispense with its supply interval,
    an order's read by `interval_of`; those `is_opioid` picks (pain opioids) make up the opioid supply."""
    today = now.date()
    opioid_intervals: list[Interval] = []
    naive = naive_window(now)
    exposed_in_naive_window = False
    for order in orders:
        opioid = is_opioid(order)
        if not opioid and exposed_in_naive_window:
            continue  # neither question needs its supply
        interval = interval_of(order)
        if opioid and interval:
            opioid_intervals.append(interval)
        if not exposed_in_naive_window:
            exposed_in_naive_window = _exposed(order.authored_on, _supply_moment(order, interval), interval, naive)
    for dispense, interval in dispenses:
        if interval and is_opioid(dispense):
            opioid_intervals.append(interval)
        if not exposed_in_naive_window:
            moment = fill_moment(dispense)
            exposed_in_naive_window = _exposed(moment, moment, interval, naive)

    intervals = merge(opioid_intervals)
    windows = (
        (history_start(today), today - timedelta(days=60)),
        (today - timedelta(days=59), today - timedelta(days=30)),
        (today - timedelta(days=29), today),
    )
    window_days = tuple(covered_days(intervals, low, high) for low, high in windows)
    ltot = all(days >= LTOT_MIN_DAYS for days in window_days)
    recent_days = covered_days(intervals, today - timedelta(days=9), today)
    return Exposure(
        intervals=intervals,
        windows=windows,
        window_days=window_days,  # type: ignore[arg-type]
        recent_days=recent_days,
        ltot=ltot,
        recent_start=recent_days >= RECENT_START_MIN_DAYS and not ltot,
        naive=not exposed_in_naive_window,
    )


def _supply_moment(order: MedOrder, interval: Interval | None) -> datetime | None:
    """When the order's supply begins: its start (`order_start`), or the first day of its interval when that is
    later (instructions that begin after the day written, a date written to the month only), at 00:00."""
    start = order_start(order)
    if start is None or interval is None or local_date(start) >= interval[0]:
        return start
    return datetime.combine(interval[0], time(0), tzinfo=start.tzinfo)


def _exposed(
    moment: datetime | None,
    start: datetime | None,
    interval: Interval | None,
    window: tuple[datetime, datetime],
) -> bool:
    """Written or handed over inside the naive window, or supply overlapping it (5.3).

    The window is compared in full datetimes (it ends 24 hours before now): supply begins at its start moment,
    not at midnight of that day, and lasts to the end of its last day. A prescription written yesterday evening
    is therefore not yet tolerance.
    """
    low, high = window
    if moment is not None and low <= moment <= high:
        return True
    if interval is None or start is None:
        return False
    supply_ends = datetime.combine(interval[1] + ONE_DAY, time(0), tzinfo=start.tzinfo or low.tzinfo)
    return start <= high and supply_ends > low
