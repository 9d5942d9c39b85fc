"""The engine's standing-risk findings for a patient at the period end (the checks a letter can point to)."""

from __future__ import annotations

from datetime import datetime

from guideline.config import GuidelineConfig
from guideline.engine import review
from guideline.record import PatientRecord
from guideline.terminology import Terminology


def standing_findings(
    record: PatientRecord, config: GuidelineConfig, now: datetime, terms: Terminology
) -> tuple[str, ...]:
    """The check ids guideline.engine.review raises for the patient's state at `now`, as on the chart."""
    return tuple(card.check_id for card in review(record, config, now, terms=terms).cards)
