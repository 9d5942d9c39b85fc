"""Goals for pain and function (FHIR Goal), read for the Initiate and Reassess steps (Rec 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from guideline.plan.reading import words_of
from guideline.record import Goal

if TYPE_CHECKING:
    from guideline.facts import Facts

# The plan page's goal form writes its free-text "How we will know" as a Goal.note starting with these words (R4
# allows a free-text target detail only with a coded measure, gol-1); they are read back with the targets.
HOW_WE_WILL_KNOW = "How we will know: "
CLOSED = frozenset({"cancelled", "entered-in-error", "rejected"})
FUNCTION_WORDS = ("function", "activit", "walk", "work", "sleep", "exercise", "daily living", "stairs", "garden")


@dataclass(frozen=True)
class GoalRow:
    description: str
    kind: str  # "pain" | "function" | "other"
    status: str
    achievement: str | None
    start: date | None
    targets: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Goals:
    rows: tuple[GoalRow, ...]

    @property
    def pain(self) -> tuple[GoalRow, ...]:
        return tuple(r for r in self.rows if r.kind == "pain")

    @property
    def function(self) -> tuple[GoalRow, ...]:
        return tuple(r for r in self.rows if r.kind == "function")


def _kind(goal: Goal) -> str:
    """A target measured by a pain score or the PEG makes a pain goal; otherwise the description decides ("walk
    without pain" is a function goal), then the category."""
    measured = " ".join(words_of(t.measure) for t in goal.targets)
    if "pain" in measured or "peg" in measured:
        return "pain"
    described = (goal.description or "").lower()
    if any(w in described for w in FUNCTION_WORDS):
        return "function"
    if "pain" in described or "peg" in described:
        return "pain"
    words = " ".join(words_of(c) for c in goal.categories)
    if "pain" in words:
        return "pain"
    return "function" if any(w in words for w in FUNCTION_WORDS) else "other"


def _target(goal: Goal) -> tuple[str, ...]:
    """Each target as "measure: value by date", then the "How we will know" the goal form wrote as a note."""
    shown = []
    for target in goal.targets:
        what = (target.measure.display() if target.measure else None) or "target"
        parts = [f"{what}: {target.detail}" if target.detail else what]
        if target.due:
            parts.append(f"by {target.due.isoformat()}")
        shown.append(" ".join(parts))
    shown.extend(note for note in goal.notes if note.startswith(HOW_WE_WILL_KNOW))
    return tuple(shown)


def build_goals(facts: Facts) -> Goals:
    """Goals not cancelled or entered in error, newest first; completed ones stay (progress is history)."""
    rows = [
        GoalRow(
            goal.description or "Goal without a description",
            _kind(goal),
            goal.lifecycle_status or "status not recorded",
            goal.achievement_status.display() if goal.achievement_status else None,
            goal.start,
            _target(goal),
            goal.notes,
        )
        for goal in facts.record.goals
        if goal.lifecycle_status not in CLOSED
    ]
    rows.sort(key=lambda r: r.start or date.min, reverse=True)
    return Goals(tuple(rows))
