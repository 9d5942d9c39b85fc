"""Compassionate opioid tapering schedule: gradual steps by date with the MME at each step, never abrupt."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from guideline.mme import format_mme

Interval = Literal["week", "month"]
Basis = Literal["original", "current"]

RATE_MIN = Decimal("1")
RATE_MAX = Decimal("25")
# HHS 2019: 10 % per month is a common starting point; faster than 10 % per week is rarely tolerated.
FAST_WEEKLY_RATE = Decimal("10")
# With "percent of the current dose" the dose approaches zero but never reaches it; below this share of the
# starting dose the schedule proposes stopping after one more interval at that small dose.
CURRENT_BASIS_STOP_SHARE = Decimal("0.10")
MAX_STEPS = 120


class TaperError(ValueError):
    """The requested schedule is not possible (the message is safe to show)."""


@dataclass(frozen=True)
class TaperStep:
    """One step: from `start` to `end` (inclusive) take `mme` MME/day (`fraction` of the starting dose)."""

    number: int
    start: date
    end: date
    mme: Decimal
    fraction: Decimal
    note: str = ""

    @property
    def mme_display(self) -> str:
        return format_mme(self.mme)

    @property
    def percent_display(self) -> str:
        return f"{(self.fraction * 100).quantize(Decimal('1'), rounding=ROUND_HALF_UP)} %"


@dataclass(frozen=True)
class TaperPlan:
    """The whole schedule and the choices that produced it."""

    start_mme: Decimal
    start_date: date
    rate_percent: Decimal
    interval: Interval
    basis: Basis
    target_mme: Decimal
    pause_at_percent: Decimal | None
    pause_intervals: int
    steps: tuple[TaperStep, ...]
    warnings: tuple[str, ...] = ()

    @property
    def end_date(self) -> date:
        return self.steps[-1].start if self.steps else self.start_date

    @property
    def description(self) -> str:
        basis = "of the starting dose" if self.basis == "original" else "of the current dose"
        return f"reduce by {self.rate_percent} % {basis} every {self.interval}"


def add_months(day: date, months: int) -> date:
    """The same day-of-month `months` later, clamped to the month end (Jan 31 + 1 = Feb 28/29)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _step_start(start: date, interval: Interval, index: int) -> date:
    return start + timedelta(weeks=index) if interval == "week" else add_months(start, index)


def _next_dose(current: Decimal, start_mme: Decimal, rate: Decimal, basis: Basis) -> Decimal:
    if basis == "original":
        return current - start_mme * rate / 100
    return current * (1 - rate / 100)


def taper_schedule(
    start_mme: Decimal,
    start_date: date,
    rate_percent: Decimal = Decimal("10"),
    interval: Interval = "month",
    basis: Basis = "original",
    target_mme: Decimal = Decimal("0"),
    pause_at_percent: Decimal | None = None,
    pause_intervals: int = 0,
) -> TaperPlan:
    """A gradual taper from `start_mme` down to `target_mme` (0 = discontinue).

    Step 0 is the current dose from `start_date`; each later step lowers the dose by `rate_percent` of the
    starting dose (`basis="original"`, a straight line) or of the dose at that step (`"current"`, slower near
    the end). With `pause_at_percent`, the dose is held for `pause_intervals` extra intervals once it first
    reaches that share of the starting dose, because many patients need a pause partway.
    """
    if start_mme <= 0:
        raise TaperError("There is no current opioid dose to taper from.")
    if not RATE_MIN <= rate_percent <= RATE_MAX:
        raise TaperError(f"Choose a reduction between {RATE_MIN} and {RATE_MAX} % per step.")
    if interval not in ("week", "month"):
        raise TaperError("The interval must be week or month.")
    if basis not in ("original", "current"):
        raise TaperError("The reduction basis must be original or current.")
    if target_mme < 0 or target_mme >= start_mme:
        raise TaperError("The target must be below the current dose (0 means stopping).")
    if pause_intervals < 0 or pause_intervals > 12:
        raise TaperError("A pause lasts 0 to 12 intervals.")

    warnings: list[str] = []
    if interval == "week" and rate_percent > FAST_WEEKLY_RATE:
        warnings.append(
            "Reductions faster than 10 % per week are rarely tolerated; reserve them for situations where "
            "the risks of continuing clearly outweigh withdrawal risk."
        )

    doses: list[tuple[Decimal, str]] = [(start_mme, "current dose")]
    paused = False
    current = start_mme
    while current > target_mme and len(doses) < MAX_STEPS:
        if (
            pause_at_percent is not None
            and not paused
            and pause_intervals
            and current <= start_mme * pause_at_percent / 100
            and current < start_mme
        ):
            paused = True
            doses.extend((current, "pause: hold this dose") for _ in range(pause_intervals))
            continue
        following = _next_dose(current, start_mme, rate_percent, basis)
        if basis == "current" and following <= start_mme * CURRENT_BASIS_STOP_SHARE:
            # Proportional steps shrink forever; hold the small dose one interval, then stop or reach target.
            if current > start_mme * CURRENT_BASIS_STOP_SHARE:
                doses.append((max(following, target_mme), ""))
                current = max(following, target_mme)
                continue
            following = target_mme
        current = max(following, target_mme)
        note = "stop" if current == 0 else ("target reached" if current == target_mme else "")
        doses.append((current, note))
    if current > target_mme:
        warnings.append(f"The schedule is cut at {MAX_STEPS} steps; choose a faster rate or review it later.")

    steps = []
    for index, (dose, note) in enumerate(doses):
        begins = _step_start(start_date, interval, index)
        ends = _step_start(start_date, interval, index + 1) - timedelta(days=1)
        steps.append(TaperStep(index, begins, ends, dose, dose / start_mme, note))
    return TaperPlan(
        start_mme=start_mme,
        start_date=start_date,
        rate_percent=rate_percent,
        interval=interval,
        basis=basis,
        target_mme=target_mme,
        pause_at_percent=pause_at_percent,
        pause_intervals=pause_intervals,
        steps=tuple(steps),
        warnings=tuple(warnings),
    )
