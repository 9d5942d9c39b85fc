"""Mental health screens on record (PHQ-9 depression, GAD-7 anxiety): every score in 2 years, newest first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from guideline.fhirdata import LOINC
from guideline.plan.reading import observation_number
from guideline.plan.reads import CHART_MONTHS
from guideline.record import Observation
from guideline.timeutil import local_date, months_before

if TYPE_CHECKING:
    from guideline.facts import Facts

PHQ9_TOTAL = "44261-6"
GAD7_TOTAL = "70274-6"
VOID_STATUSES = frozenset({"entered-in-error", "cancelled"})

# (lowest score of the band, its name), highest band first; the published PHQ-9 and GAD-7 severity bands.
PHQ9_BANDS: tuple[tuple[int, str], ...] = (
    (20, "severe"),
    (15, "moderately severe"),
    (10, "moderate"),
    (5, "mild"),
    (0, "minimal"),
)
GAD7_BANDS: tuple[tuple[int, str], ...] = ((15, "severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))
INSTRUMENTS: dict[str, tuple[str, tuple[tuple[int, str], ...]]] = {
    PHQ9_TOTAL: ("PHQ-9 (depression)", PHQ9_BANDS),
    GAD7_TOTAL: ("GAD-7 (anxiety)", GAD7_BANDS),
}
# Each questionnaire's panel code and the total it stands for when the panel carries the total as its own value, as
# flowsheets map a PHQ-9 row: the PEG panel's own value is read as the PEG alike (guideline.plan.scores).
PANELS = {"44249-1": PHQ9_TOTAL, "69737-5": GAD7_TOTAL}
# The highest total each instrument can give (9 items of 0-3, 7 items of 0-3): a larger number is another scale or an
# error, and shown as "severe" it asked for follow-up on a number the screen cannot produce.
HIGHEST_TOTAL = {PHQ9_TOTAL: 27, GAD7_TOTAL: 21}


@dataclass(frozen=True)
class ScreenResult:
    instrument: str
    day: date
    score: Decimal
    band: str

    @property
    def needs_follow_up(self) -> bool:
        """A score of 10 or more (moderate or worse) on either screen calls for follow-up."""
        return self.score >= 10


@dataclass(frozen=True)
class Screens:
    """Every PHQ-9 and GAD-7 total in the window, newest first, and the instruments with none."""

    results: tuple[ScreenResult, ...]
    missing: tuple[str, ...]
    # Totals sent beyond the instrument's scale, by instrument: named on the page, never shown as a band.
    unread: tuple[tuple[str, str], ...] = ()

    def unread_of(self, instrument: str) -> tuple[str, ...]:
        return tuple(text for name, text in self.unread if name == instrument)

    def latest(self, instrument: str) -> ScreenResult | None:
        return next((r for r in self.results if r.instrument == instrument), None)


def _band(score: Decimal, bands: tuple[tuple[int, str], ...]) -> str:
    return next((name for low, name in bands if score >= low), "minimal")


def _totals(observation: Observation) -> Iterator[tuple[str, Decimal | None]]:
    """The PHQ-9 and GAD-7 totals a result carries: its own value, or a component of a questionnaire panel (PHQ-9
    44249-1, GAD-7 69737-5) that holds the total, or else the panel's own number; sent so, the screen was "none in 2
    years" and shown as due."""
    codes = tuple(observation.code.codes(LOINC)) if observation.code is not None else ()
    for code in codes:
        if code in INSTRUMENTS:
            yield code, observation_number(observation)
    in_components = set()
    for component in observation.components:
        for code in component.code.codes(LOINC) if component.code is not None else ():
            if code in INSTRUMENTS:
                in_components.add(code)
                yield code, observation_number(component)
    for code in codes:
        total = PANELS.get(code)
        if total is not None and total not in in_components:  # a total component is the panel's total
            yield total, observation_number(observation)


def build_screens(facts: Facts) -> Screens:
    since = months_before(facts.today, CHART_MONTHS)
    found: dict[tuple[str, date], ScreenResult] = {}
    unread: list[tuple[str, str]] = []
    for observation in facts.record.observations:
        if observation.status in VOID_STATUSES:
            continue
        for code, score in _totals(observation):
            day = local_date(observation.result_time)
            if day is None or score is None or not since <= day <= facts.today:
                continue
            name, bands = INSTRUMENTS[code]
            if score > HIGHEST_TOTAL[code]:
                unread.append((name, f"{score} on {day.isoformat()} (the scale ends at {HIGHEST_TOTAL[code]})"))
                continue
            found[(name, day)] = ScreenResult(name, day, score, _band(score, bands))
    results = tuple(sorted(found.values(), key=lambda r: (r.day, r.instrument), reverse=True))
    missing = tuple(name for name, _ in INSTRUMENTS.values() if not any(r.instrument == name for r in results))
    return Screens(results, missing, tuple(unread))
