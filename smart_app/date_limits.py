"""How far ahead a date typed into a write-back form may be: the defaults the app's settings start from, kept out
of the write-back code so loading the settings never loads the forms."""

from __future__ import annotations

from dataclasses import dataclass

# How far ahead a typed date may be, by default. A treatment goal is for the coming months, and the guideline asks for a
# review at least every 3 months on long-term opioids: a goal due in 9999 or a follow-up in 2062 is a mistyped year,
# and it would sit in the chart as the plan. A site sets its own (goal_due_years, follow_up_years).
GOAL_DUE_YEARS = 5
FOLLOW_UP_YEARS = 1


@dataclass(frozen=True)
class DateLimits:
    """How many years after today a goal's due date and a follow-up date may be (the site's settings)."""

    goal_due_years: int = GOAL_DUE_YEARS
    follow_up_years: int = FOLLOW_UP_YEARS
