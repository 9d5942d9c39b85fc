"""The opioid history (exposure: long-term therapy, recent start, opioid-naive) and the plan page's MME history date
an order's supply from the day it begins, by the rule that says whether it is current today
(`orders.possible_start`): an Epic order whose instructions begin after the day written (`boundsPeriod.start`), and
one written to the month only, supply the days today's total counts them for."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from builders import NOW, TODAY, TZ, patient
from test_staggered_prescriptions import day, epic_oxycodone, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.mme import compute_mme
from guideline.plan.mme_history import build_mme_history
from guideline.record import build_record


def facts_of(resources: list[dict[str, Any]], now: datetime = NOW) -> Facts:
    record = build_record([patient(), medication(), *resources], TZ)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), now)


def line(facts: Facts) -> dict[date, Decimal]:
    """The MME history's value on each day."""
    result = build_mme_history(facts, compute_mme)
    points = sorted(result.opioid, key=lambda p: p.day)
    days: dict[date, Decimal] = {}
    for index, point in enumerate(points):
        following = points[index + 1].day if index + 1 < len(points) else result.end + timedelta(days=1)
        current = point.day
        while current < following:
            days[current] = point.value
            current += timedelta(days=1)
    return days


def instructed_later() -> dict[str, Any]:
    """Written 60 days ago; its instructions (and so its 30 days) begin 20 days ago: the dose taken today."""
    return epic_oxycodone("eOxy.2", day(-60), bounds_start=day(-20))


def test_an_order_whose_instructions_begin_later_supplies_the_days_it_is_current() -> None:
    # Read from the day written, its supply ended 30 days ago: no opioid in the last 10 days beside a current
    # 60 MME/day order, and a recent start read as none.
    facts = facts_of([instructed_later()])
    assert facts.mme.total == Decimal(60)
    assert facts.exposure.window_days == (0, 0, 21)
    assert facts.exposure.recent_days == 10 and facts.exposure.recent_start


def test_the_mme_history_line_reaches_today() -> None:
    days = line(facts_of([instructed_later()]))
    assert days[TODAY] == Decimal(60) and days[TODAY - timedelta(days=20)] == Decimal(60)
    assert days[TODAY - timedelta(days=40)] == Decimal(0)


def test_an_order_written_to_the_month_only_supplies_today_when_it_counts_today() -> None:
    # Written "2026-05" for 30 days: counted today (15 June) from the last day May can mean, 31 May; the history
    # dated it from 1 May, its supply over on 30 May.
    order = epic_oxycodone("eOxy.1", "2026-05-31")
    order["authoredOn"] = "2026-05"
    facts = facts_of([order])
    assert facts.mme.total == Decimal(60)
    days = line(facts)
    assert days[TODAY] == Decimal(60) and days[date(2026, 5, 15)] == Decimal(0)


def test_an_order_whose_instructions_begin_today_is_no_tolerance_yet() -> None:
    # Written 120 days ago, its instructions beginning today: no supply in the opioid-naive window (90 days to 24 hours
    # ago), so the patient is opioid-naive; its supply's days are not read from the day it was written.
    facts = facts_of([epic_oxycodone("eOxy.1", day(-120), bounds_start=day(0))])
    assert facts.exposure.intervals == ((TODAY, TODAY + timedelta(days=29)),)
    assert facts.exposure.naive
