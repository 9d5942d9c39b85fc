"""DSM-5 opioid use disorder criteria (our plain wording) and the severity their count implies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Criterion:
    """One of the eleven DSM-5 criteria; `supervised_exempt` ones do not count under supervised treatment."""

    key: str
    text: str
    supervised_exempt: bool = False


CRITERIA: tuple[Criterion, ...] = (
    Criterion("larger-amounts", "Takes opioids in larger amounts or for longer than intended"),
    Criterion("cut-down", "Persistent wish or unsuccessful efforts to cut down or control opioid use"),
    Criterion("time-spent", "A great deal of time spent obtaining, using or recovering from opioids"),
    Criterion("craving", "Craving, or a strong desire or urge to use opioids"),
    Criterion("role-failure", "Repeated use leading to failure to meet obligations at work, school or home"),
    Criterion("social-problems", "Continued use despite persistent social or relationship problems it causes"),
    Criterion("activities-given-up", "Important social, work or leisure activities given up or reduced"),
    Criterion("hazardous-use", "Repeated use in situations where it is physically hazardous"),
    Criterion("despite-harm", "Continued use despite knowing of a physical or psychological problem it worsens"),
    Criterion("tolerance", "Tolerance: needing more for the same effect, or less effect from the same amount", True),
    Criterion("withdrawal", "Withdrawal symptoms, or opioids taken to relieve or avoid withdrawal", True),
)

CRITERION_KEYS: frozenset[str] = frozenset(c.key for c in CRITERIA)
WINDOW_TEXT = "within a 12-month period"
SUPERVISED_NOTE = (
    "Tolerance and withdrawal do not count toward the diagnosis when opioids are taken only under "
    "appropriate medical supervision."
)


@dataclass(frozen=True)
class OudAssessment:
    """How many criteria count, and the severity they indicate (never a diagnosis by itself)."""

    checked: frozenset[str]
    counted: int
    severity: str  # "none" | "mild" | "moderate" | "severe"

    @property
    def label(self) -> str:
        if self.severity == "none":
            return f"{self.counted} of 11 criteria: below the threshold for opioid use disorder"
        return f"{self.counted} of 11 criteria: {self.severity} opioid use disorder criteria met"


def severity_for(count: int) -> str:
    """2–3 mild, 4–5 moderate, 6 or more severe (DSM-5)."""
    if count >= 6:
        return "severe"
    if count >= 4:
        return "moderate"
    if count >= 2:
        return "mild"
    return "none"


def assess(checked: Iterable[str], supervised: bool = True) -> OudAssessment:
    """Count the checked criteria (unknown keys ignored); tolerance/withdrawal drop out when `supervised`."""
    chosen = frozenset(k for k in checked if k in CRITERION_KEYS)
    counted = sum(1 for c in CRITERIA if c.key in chosen and not (supervised and c.supervised_exempt))
    return OudAssessment(checked=chosen, counted=counted, severity=severity_for(counted))
