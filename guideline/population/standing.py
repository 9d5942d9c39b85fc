"""The engine's standing-risk findings for a patient at the period end (the checks a letter can point to), with the
records a finding could not count that may answer it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK
from guideline.checks.oud_treatment import UNCOUNTED
from guideline.config import GuidelineConfig
from guideline.engine import review
from guideline.facts import Facts
from guideline.named_gaps import NAMED_GAPS, worded
from guideline.record import PatientRecord
from guideline.terminology import Terminology

# The OUD medication records `oud-treatment` could not count, by kind: the card's list of kinds (`UNCOUNTED`), each
# said why in the registry's words for it (its data-incomplete card line), in the registry's order.
_NAMING = {kind.kind: kind.items for kind in UNCOUNTED}
_KINDS = tuple(kind for kind in NAMED_GAPS if kind.key in _NAMING)
if len(_KINDS) != len(_NAMING):  # a kind renamed in the registry would drop its items unseen
    raise ValueError("population standing: a kind of uncounted OUD medication is not in guideline.named_gaps")


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
    lines: list[str] = []
    for kind in worded(_KINDS, facts.config):
        if kind.card is not None:  # every kind is on the card: their line is the one the chart shows
            lines.extend(f"{item}: {kind.card.why}" for item in _NAMING[kind.key](facts))
    return tuple(lines)
