"""The current pain treatment plan: one rule for the `treatment-plan` card and the plan page's Decide step, so the
card and the page never name different plans."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from guideline.terminology import PAIN_TREATMENT_PLAN
from guideline.timeutil import local_date

if TYPE_CHECKING:
    from guideline.config import GuidelineConfig
    from guideline.record import CarePlan
    from guideline.terminology import Terminology

# The check whose `lookback_days` is the one window a pain treatment plan (or a PainPlan decision) stays current in.
PLAN_WINDOW_CHECK = "treatment-plan"
# Only an active or completed plan is in force: a draft, one on hold or one with no status is no plan agreed.
PLAN_STATUSES = frozenset({"active", "completed"})
# How each face says a status not in force (R4 draft, on-hold, unknown; DSTU2 proposed; STU3 suspended are as written).
_STATUS_WORDS = {None: "no status", "draft": "draft", "proposed": "draft", "unknown": "status unknown"}


def plan_window_days(config: GuidelineConfig) -> int:
    """How many days a pain treatment plan stays current: `checks.treatment-plan.lookback_days`, read by the card
    and the plan page's Decide step alike, so they never disagree on whether a current plan exists."""
    return int(config.check(PLAN_WINDOW_CHECK)["lookback_days"])


@dataclass(frozen=True)
class CurrentPlan:
    """The newest pain treatment plan and its day, the ones with no date that could not be placed, the ones dated
    only after today, each with its latest day, and the ones not in force (a draft, on hold, no status), each with its
    latest day if it has one."""

    plan: CarePlan | None
    day: date | None
    undated: tuple[CarePlan, ...] = ()
    ahead: tuple[tuple[CarePlan, date], ...] = ()
    not_in_force: tuple[tuple[CarePlan, date | None], ...] = ()


def pain_category(plan: CarePlan, terms: Terminology) -> bool:
    """Whether the CarePlan carries the pain treatment plan category (LOINC 80764-4), whatever its status."""
    return any(terms.contains(PAIN_TREATMENT_PLAN, c) for c in plan.categories)


def in_force(plan: CarePlan) -> bool:
    """Whether the plan's status says it is in force (active or completed)."""
    return plan.status in PLAN_STATUSES


def status_words(plan: CarePlan) -> str:
    """A status not in force as both faces say it: "draft", "no status", "on hold", "status unknown"."""
    status = plan.status
    return _STATUS_WORDS.get(status) or (status or "").replace("-", " ")


def not_in_force_days(plans: Iterable[CarePlan]) -> tuple[tuple[CarePlan, date | None], ...]:
    """Each plan not in force, with its latest day if it has one (after today too: shown as written)."""
    return tuple((p, max(_days(p), default=None)) for p in plans if not in_force(p))


def _days(plan: CarePlan) -> list[date]:
    """The plan's days it has among created, period start and meta.lastUpdated."""
    days = (local_date(m) for m in (plan.created, plan.period_start, plan.last_updated))
    return [d for d in days if d is not None]


def plan_day(plan: CarePlan, today: date) -> date | None:
    """The plan's latest day up to today among created, period start and meta.lastUpdated: EHRs revise a plan in
    place, keeping its created date and moving lastUpdated, so a revision made last week is last week's plan. A day
    after today is not counted: the plan is not yet in force, or the clock that wrote it was wrong."""
    return _day_up_to(_days(plan), today)


def _day_up_to(days: list[date], today: date) -> date | None:
    """The latest of `days` up to today, or None."""
    return max((d for d in days if d <= today), default=None)


def current_pain_plan(plans: Iterable[CarePlan], terms: Terminology, today: date) -> CurrentPlan:
    """The pain treatment plan with the latest day (the first written wins a tie), and apart the undated ones, those
    dated only after today and those not in force: none is counted, and both faces name them rather than leave them
    out unsaid (a draft passed over read as "no plan on record")."""
    plans = [p for p in plans if not p.void and pain_category(p, terms)]
    pain_plans = [p for p in plans if in_force(p)]
    not_in_force = not_in_force_days(plans)
    best: tuple[date, CarePlan] | None = None
    ahead: list[tuple[CarePlan, date]] = []
    for plan in pain_plans:
        days = _days(plan)
        day = _day_up_to(days, today)
        if day is not None and (best is None or day > best[0]):
            best = (day, plan)
        elif day is None and days:
            # No day up to today, so every day it has is after today.
            ahead.append((plan, max(days)))
    undated = tuple(p for p in pain_plans if p.undated)
    if best is None:
        return CurrentPlan(None, None, undated, tuple(ahead), not_in_force)
    return CurrentPlan(best[1], best[0], undated, tuple(ahead), not_in_force)
