"""The engine's standing-risk findings for a patient at the period end (the checks a letter can point to)."""

from __future__ import annotations

from datetime import datetime

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import PatientRecord
from guideline.terminology import Terminology


def standing_findings(
    record: PatientRecord, config: GuidelineConfig, now: datetime, terms: Terminology
) -> tuple[str, ...]:
    """The check ids the engine raises for the patient's current state (no draft orders), as on patient-view."""
    patient_id = record.patient.id if record.patient else None
    evaluation = evaluate(record, HookContext("patient-view", patient_id), config, now, terms=terms)
    return tuple(card.check_id for card in evaluation.cards)
