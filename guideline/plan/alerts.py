"""The alerts section: the checks' cards, snoozed cards with their reason, exclusions and failed checks, and the
data the checks could not read, named as the hook's data-incomplete card names it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from guideline.cards import Card
from guideline.named_gaps import ON_CARD, worded
from guideline.plan.model import QueryStatus

if TYPE_CHECKING:
    from guideline.engine import Evaluation


@dataclass(frozen=True)
class Alerts:
    cards: tuple[Card, ...]
    snoozed: tuple[tuple[Card, str], ...]  # (card, "snoozed until … (reason)")
    exclusions: tuple[tuple[str, str], ...]  # (label, evidence)
    failures: tuple[str, ...]
    # What the checks could not read, each (what, why) as the hook's data-incomplete card lists it: with any, the
    # section shows that card and never "no guideline alerts" (a missing card is not an all clear).
    incomplete: tuple[tuple[str, str], ...] = ()

    @property
    def incomplete_summary(self) -> str:
        """The data-incomplete card's summary, for the template and the note."""
        return INCOMPLETE_SUMMARY


# The hook's data-incomplete card's summary (cds_hooks.cards.data_incomplete_card), so the two read alike.
INCOMPLETE_SUMMARY = "Some patient data could not be read; opioid safety checks may be incomplete"


def _snooze_note(evaluation: Evaluation, card: Card) -> str:
    facts = evaluation.facts
    snooze = next((s for s in facts.snoozes if s.check_id == card.check_id and s.until > facts.now), None)
    if snooze is None:
        return "snoozed"
    return f"snoozed until {snooze.until.date().isoformat()}" + (f" ({snooze.reason})" if snooze.reason else "")


def _search_line(status: QueryStatus) -> tuple[str, str]:
    """A search not read in full as the card's line names it: what, and why."""
    if status.card_words:
        return status.label, status.card_words
    if not status.ok:
        return status.label, f"could not be read ({status.error or 'error'})"
    return status.label, "could not be read in full (cut off at the page limit)"


def incomplete_data(evaluation: Evaluation, searches: Sequence[QueryStatus] = ()) -> tuple[tuple[str, str], ...]:
    """What the hook's data-incomplete card would name for this evaluation: each of the checks' searches not read in
    full, each resource that could not be read, and each item of the kinds the card names (a current order that
    could not be identified, a fill with no date, ...), with why it matters. The page lists them all."""
    facts = evaluation.facts
    lines = [_search_line(s) for s in searches if not s.read_in_full]
    lines.extend((problem.describe(), f"skipped: {problem.reason}") for problem in facts.record.problems)
    for kind in worded(ON_CARD, facts.config):
        if kind.card is not None:  # ON_CARD holds only the kinds with a card line
            lines.extend((item, kind.card.why) for item in kind.card_named(facts))
    # Last, as on the card: what the data named above means for the checks' answers.
    lines.extend(evaluation.data_incomplete_lines)
    return tuple(dict.fromkeys(lines))


def build_alerts(evaluation: Evaluation, searches: Sequence[QueryStatus] = ()) -> Alerts:
    """The section from the engine's evaluation; `searches` are those the checks read (the face's fetch outcome)."""
    snoozed = tuple((card, _snooze_note(evaluation, card)) for card in evaluation.snoozed)
    failures = tuple(f.check_id for f in evaluation.failures)
    exclusions = tuple((e.label, e.evidence) for e in evaluation.facts.exclusions)
    incomplete = incomplete_data(evaluation, searches)
    return Alerts(tuple(evaluation.cards), snoozed, exclusions, failures, incomplete)
