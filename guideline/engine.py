"""The engine: run the enabled checks for a hook over one record and return ordered, snooze-aware cards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from guideline.cards import INDICATOR_RANK, Card, Snooze, silencing_snooze
from guideline.checks import CHECKS
from guideline.checks.common import runs
from guideline.checks.high_mme import CHECK_ID as HIGH_MME
from guideline.checks.high_mme import dose_may_be_higher
from guideline.config import CHECK_IDS, GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.record import PatientRecord
from guideline.terminology import Terminology

__all__ = ["CheckFailure", "Evaluation", "HookContext", "evaluate", "review"]

# Reasons whose snooze applies to one user only (guideline 11.1 "patient + user").
USER_SCOPED_REASONS = frozenset({"pdmp-unavailable", "wrong-clinician"})
# Cards of one indicator are shown in the order the checks are listed.
_CHECK_ORDER = {check_id: index for index, check_id in enumerate(CHECK_IDS)}


@dataclass(frozen=True)
class CheckFailure:
    """A check that raised: the other checks still answer; the face logs this (no patient data in it)."""

    check_id: str
    error: str


@dataclass(frozen=True)
class Evaluation:
    """The checks' cards, shown and snoozed, the facts they read, the checks that failed, and what the dose found
    means where no dose card says it."""

    cards: tuple[Card, ...]
    snoozed: tuple[Card, ...]
    facts: Facts
    failures: tuple[CheckFailure, ...] = ()
    # The data-incomplete card's line (what, why) for a total below the dose thresholds that is only a floor
    # (`high_mme.dose_may_be_higher`), else None: worked out once here, after the checks, so the hook's card and the
    # page's alerts section add the same line (each last, after the data it speaks of).
    dose_floor: tuple[str, str] | None = None


def evaluate(
    record: PatientRecord,
    context: HookContext,
    config: GuidelineConfig,
    now: datetime,
    snoozes: Sequence[Snooze] = (),
    terms: Terminology | None = None,
    *,
    unread: Mapping[str, str] | None = None,
) -> Evaluation:
    """Run every check enabled for `context.hook`, at most one card each, sorted critical → warning → info.
    `unread` names the kinds of data the face could not read in full (guideline.unread_data) and why: a card stating
    an absence says so of them."""
    facts = Facts(record, context, config, now, snoozes, terms, unread)
    cards: list[Card] = []
    failures: list[CheckFailure] = []
    for check_id in CHECK_IDS:
        if check_id not in CHECKS:
            continue
        settings = config.check(check_id)
        try:
            # Exclusions read data too: if that fails, only the checks that apply them are lost (10.0.5).
            if not runs(facts, settings):
                continue
            card = CHECKS[check_id].evaluate(facts, settings)
        except Exception as error:  # noqa: BLE001 - one failing check must not take the others down
            failures.append(CheckFailure(check_id, type(error).__name__))
            continue
        if card is not None:
            cards.append(card)
    shown: list[Card] = []
    snoozed: list[Card] = []
    for card in cards:  # one pass: a card is snoozed or shown, never compared field by field with the others
        silenced = bool(snoozes) and card.snoozable and silencing_snooze(card, context, snoozes, now) is not None
        (snoozed if silenced else shown).append(card)
    shown.sort(key=lambda c: (-INDICATOR_RANK[c.indicator], _CHECK_ORDER[c.check_id]))
    floor = _dose_floor(facts, failures)
    return Evaluation(tuple(shown), tuple(snoozed), facts, tuple(failures), floor)


def _dose_floor(facts: Facts, failures: list[CheckFailure]) -> tuple[str, str] | None:
    """`high_mme.dose_may_be_higher` for this call; should it raise, the dose check is named as failed (with it, the
    checks-not-run card names it) and the other cards stand, as for any check that raises."""
    try:
        return dose_may_be_higher(facts, {f.check_id for f in failures})
    except Exception as error:  # noqa: BLE001 - the line is the dose check's: its failure must not cost the others
        failures.append(CheckFailure(HIGH_MME, type(error).__name__))
        return None


def review(
    record: PatientRecord,
    config: GuidelineConfig,
    now: datetime,
    snoozes: Sequence[Snooze] = (),
    terms: Terminology | None = None,
) -> Evaluation:
    """The patient's standing risk: every check enabled for patient-view judges the current state (orders, fills,
    results, diagnoses; never a draft), with the same thresholds, exclusions and snoozes as the chart's cards."""
    settled = replace(
        record,
        orders=tuple(o for o in record.orders if not o.is_draft),
        service_requests=tuple(s for s in record.service_requests if not s.is_draft),
    )
    patient_id = record.patient.id if record.patient else None
    return evaluate(settled, HookContext(hook="patient-view", patient_id=patient_id), config, now, snoozes, terms)
