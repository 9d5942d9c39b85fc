"""The alerts section: the checks' cards, snoozed cards with their reason, exclusions and failed checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from guideline.cards import Card

if TYPE_CHECKING:
    from guideline.engine import Evaluation


@dataclass(frozen=True)
class Alerts:
    cards: tuple[Card, ...]
    snoozed: tuple[tuple[Card, str], ...]  # (card, "snoozed until … (reason)")
    exclusions: tuple[tuple[str, str], ...]  # (label, evidence)
    failures: tuple[str, ...]


def _snooze_note(evaluation: Evaluation, card: Card) -> str:
    facts = evaluation.facts
    snooze = next((s for s in facts.snoozes if s.check_id == card.check_id and s.until > facts.now), None)
    if snooze is None:
        return "snoozed"
    return f"snoozed until {snooze.until.date().isoformat()}" + (f" ({snooze.reason})" if snooze.reason else "")


def build_alerts(evaluation: Evaluation) -> Alerts:
    snoozed = tuple((card, _snooze_note(evaluation, card)) for card in evaluation.snoozed)
    failures = tuple(f.check_id for f in getattr(evaluation, "failures", ()))
    exclusions = tuple((e.label, e.evidence) for e in evaluation.facts.exclusions)
    return Alerts(tuple(evaluation.cards), snoozed, exclusions, failures)
