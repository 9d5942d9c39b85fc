"""The engine: run the enabled checks for a hook over one record and return ordered, snooze-aware cards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from guideline.cards import INDICATOR_RANK, Card, Snooze, silencing_snooze
from guideline.checks import CHECKS
from guideline.checks.common import runs
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
# The checks that hold a `data_incomplete_line` (guideline.checks), in the checks' order: asked after the checks.
CHECKS_WITH_LINE = tuple(c for c in CHECK_IDS if hasattr(CHECKS.get(c), "data_incomplete_line"))


@dataclass(frozen=True)
class CheckFailure:
    """A check that raised: the other checks still answer; the face logs this (no patient data in it)."""

    check_id: str
    error: str


@dataclass(frozen=True)
class Evaluation:
    """The checks' cards, shown and snoozed, the facts they read, the checks that failed, and the lines the checks
    add to the data-incomplete card."""

    cards: tuple[Card, ...]
    snoozed: tuple[Card, ...]
    facts: Facts
    failures: tuple[CheckFailure, ...] = ()
    # The lines (what, why) the checks add to the data-incomplete card (each check's `data_incomplete_line`, in the
    # checks' order: the high-dose check's says a total below its thresholds that is only a floor may be higher):
    # worked out once here, after the checks, so the hook's card and the page's alerts section add the same lines
    # (each last, after the data they speak of).
    data_incomplete_lines: tuple[tuple[str, str], ...] = ()


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
    lines = _data_incomplete_lines(facts, failures)
    return Evaluation(tuple(shown), tuple(snoozed), facts, tuple(failures), lines)


def _data_incomplete_lines(facts: Facts, failures: list[CheckFailure]) -> tuple[tuple[str, str], ...]:
    """Each check's `data_incomplete_line` for this call, asked once every check has run; one that raises is named as
    failed (with it, the checks-not-run card names its check) and the other cards and lines stand, as for a check
    whose `evaluate` raises."""
    failed = {f.check_id for f in failures}
    lines: list[tuple[str, str]] = []
    for check_id in CHECKS_WITH_LINE:
        try:
            line = CHECKS[check_id].data_incomplete_line(facts, failed)
        except Exception as error:  # noqa: BLE001 - the line is its check's: its failure must not cost the others
            failures.append(CheckFailure(check_id, type(error).__name__))
            continue
        if line is not None:
            lines.append(line)
    return tuple(lines)


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
