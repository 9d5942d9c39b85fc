"""The tapering calculator: the form's choices and the schedule from today's total MME (guideline Rec 5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from guideline.mme import MmeSummary
from guideline.plan.taper_doses import TaperDoses, build_taper_doses
from guideline.taper import TaperError, TaperPlan, taper_schedule

if TYPE_CHECKING:
    from guideline.facts import Facts


@dataclass(frozen=True)
class TaperRequest:
    """The taper form's choices (GET parameters), already parsed by the face."""

    rate_percent: Decimal = Decimal("10")
    interval: str = "month"
    basis: str = "original"
    target_mme: Decimal = Decimal("0")
    pause_at_percent: Decimal | None = None
    pause_intervals: int = 0
    start: date | None = None
    # Fields the face could not read, each (field name, what was typed, why in plain words): no schedule is
    # calculated then, as a default in a field's place would be a plan nobody asked for.
    unreadable: tuple[tuple[str, str, str], ...] = ()

    def typed(self, name: str) -> str | None:
        """What was typed in a field that could not be read (shown back in the form), else None."""
        return next((typed for field, typed, _ in self.unreadable if field == name), None)


@dataclass(frozen=True)
class Taper:
    request: TaperRequest
    plan: TaperPlan | None
    message: str | None
    per_order: tuple[tuple[str, Decimal], ...]
    doses: TaperDoses | None = None  # the schedule in tablets per drug


def _per_order_mme(facts: Facts, summary: MmeSummary) -> tuple[tuple[str, Decimal], ...]:
    return tuple((facts.name(r.order), r.mme) for r in summary.orders if r.state == "ok" and r.mme is not None)


def build_taper(facts: Facts, request: TaperRequest, now: MmeSummary) -> Taper:
    """No dose, no schedule; a partial total gives a schedule that says it starts from a lower bound. A taper starts
    from what the patient takes now (`now`, from `mme_now`: an order a draft renews counts, a draft being signed does
    not): from the total with the drafts, the MME schedule of a patient adding hydrocodone ran from 130 beside a dose
    schedule from 90, and a first opioid not yet taken got a ten-month taper."""
    per_order = _per_order_mme(facts, now)
    if request.unreadable:
        why = " ".join(reason for _, _, reason in request.unreadable)
        return Taper(
            request, None, f"The schedule was not calculated: {why} Correct the form and calculate again.", per_order
        )
    if now.state == "none" or not now.total:
        return Taper(request, None, "There is no current opioid dose with a known MME to taper from.", per_order)
    try:
        plan = taper_schedule(
            Decimal(now.total),
            request.start or facts.today,
            request.rate_percent,
            request.interval,  # type: ignore[arg-type]
            request.basis,  # type: ignore[arg-type]
            request.target_mme,
            request.pause_at_percent,
            request.pause_intervals,
        )
    except TaperError as error:
        return Taper(request, None, str(error), per_order)
    partial = None
    if now.state == "partial":
        partial = "Some opioid orders could not be converted to MME, so this schedule starts from a lower bound."
    return Taper(request, plan, partial, per_order, build_taper_doses(facts, plan, now))
