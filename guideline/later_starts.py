"""Prescriptions that begin after today (a staggered Schedule II series): named beside today's MME total."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from guideline.mme import MmeSummary, OrderMme

NOT_STARTED = "not-started"  # the reason of an opioid order listed beside the total because it begins after today


def starts_text(starts: date) -> str:
    """ "starts on 2026-07-01: not counted in today's total"."""
    return f"starts on {starts.isoformat()}: not counted in today's total"


def later_line(result: OrderMme, starts: date) -> OrderMme:
    """An order that begins after today, listed with its daily dose worked out and the day it starts, and not
    counted: what it adds is seen, and the day it will count. Its sig and fill notes are the current orders' to name."""
    why = starts_text(starts)
    explanation = f"{result.explanation}; {why}" if result.explanation else why
    return replace(
        result,
        state="excluded",
        reason=NOT_STARTED,
        reason_text=why,
        explanation=explanation,
        sig_against_code=(),
        unread_fills=(),
    )


def named_later(summary: MmeSummary, later: Iterable[OrderMme]) -> MmeSummary:
    """The total with the orders that begin after today listed beside it, not counted (its total unchanged)."""
    later = tuple(later)
    return replace(summary, orders=(*summary.orders, *later)) if later else summary
