"""The engine's standing-risk findings for a patient at the period end (the checks a letter can point to), with the
records a finding could not count that may answer it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.checks.oud_treatment import (
    NOT_HANDED_OVER_WORDS,
    UNKNOWN_STATUS_WORDS,
    NotCountedWords,
    doses_after_today,
    moud_fills_after_today,
    moud_fills_not_handed_over,
    uncounted_administrations,
    undated_moud_fills,
    unknown_status_doses,
    unknown_status_moud_fills,
    unknown_status_moud_orders,
)
from guideline.config import GuidelineConfig
from guideline.engine import review
from guideline.facts import Facts
from guideline.named_gaps import NAMED_GAPS, worded
from guideline.record import PatientRecord
from guideline.terminology import Terminology
from guideline.undated import undated_moud_doses

# The kinds the chart's data-incomplete card names an OUD medication dose, fill or order by that `oud-treatment` could
# not count (no date it can read; dated in its window with a status it cannot tell; dated only after the review's day;
# a fill of unknown status, so not known handed over, or one not handed over yet; an order of unknown status), each
# with the function naming those alone: the card's "undated-procedures", "undated-fills", "unknown-status-fills",
# "future-dated-fills" and "unknown-status" name every procedure, medicine and order a check reads, of which only the
# OUD medication answers this finding.
_UNCOUNTED_DOSES: dict[str, Callable[[Facts], tuple[str, ...]]] = {
    "undated-procedures": undated_moud_doses,
    "uncounted-administrations": uncounted_administrations,
    "unknown-status-doses": unknown_status_doses,
    "future-dated-doses": doses_after_today,
    "undated-fills": undated_moud_fills,
    "unknown-status-fills": unknown_status_moud_fills,
    "future-dated-fills": moud_fills_after_today,
    "moud-fills-not-handed-over": moud_fills_not_handed_over,
    "unknown-status": unknown_status_moud_orders,
}
# Beside this finding, these say why as the OUD card heads its list, not in the registry's words: a fill of unknown
# status "was counted as the patient's in the MME total and the checks" there, true of the MME total, and beside "OUD
# without treatment" a denial of the finding's own reading (it was not counted as treatment).
_OUD_WORDS: dict[str, NotCountedWords] = {
    "unknown-status-fills": UNKNOWN_STATUS_WORDS,
    "moud-fills-not-handed-over": NOT_HANDED_OVER_WORDS,
}
_DOSE_KINDS = tuple(kind for kind in NAMED_GAPS if kind.key in _UNCOUNTED_DOSES)
if len(_DOSE_KINDS) != len(_UNCOUNTED_DOSES):  # a kind renamed in the registry would drop its items unseen
    raise ValueError("population standing: a kind of uncounted OUD dose is not in guideline.named_gaps")


@dataclass(frozen=True)
class Standing:
    """The check ids raised, and the OUD medication doses, fills and orders on record that the `oud-treatment` finding
    could not count (each "what: why", as the chart's data-incomplete card says it), when that finding is raised."""

    findings: tuple[str, ...]
    uncounted_treatment: tuple[str, ...] = ()

    @property
    def evidence(self) -> dict[str, list[str]]:
        """The row's evidence for its findings, by check id (a letter lists it under the finding's words)."""
        return {OUD_CHECK: list(self.uncounted_treatment)} if self.uncounted_treatment else {}


def standing_findings(record: PatientRecord, config: GuidelineConfig, now: datetime, terms: Terminology) -> Standing:
    """The check ids guideline.engine.review raises for the patient's state at `now`, as on the chart; with "OUD
    without treatment", the doses it could not count, which may make it wrong: a finding that may be false says why."""
    evaluation = review(record, config, now, terms=terms)
    findings = tuple(card.check_id for card in evaluation.cards)
    if OUD_CHECK not in findings:
        return Standing(findings)
    return Standing(findings, uncounted_doses(evaluation.facts))


def uncounted_doses(facts: Facts) -> tuple[str, ...]:
    """The OUD medication doses, fills and orders `oud-treatment` could not count, each as the card's line: "what:
    why"."""
    lines = []
    for kind in worded(_DOSE_KINDS, facts.config):
        if kind.card is not None:  # every kind is on the card: their line is the one the chart shows
            words = _OUD_WORDS.get(kind.key)
            why = words.why if words is not None else kind.card.why
            lines.extend(f"{item}: {why}" for item in _UNCOUNTED_DOSES[kind.key](facts))
    return tuple(lines)
