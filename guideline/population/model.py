"""The population review's small types: the measurement period, the clinician directory, a patient's fills."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from guideline.fhirdata import EARLIEST_YEAR, LATEST_YEAR, evaluation_day_problem
from guideline.timeutil import months_before

HISTORY_DAYS = 90  # exclusions and hospice look back over the period plus the 90 days before it (spec 5)


class PopulationError(ValueError):
    """A usage error in a population setting or argument; the message names it."""


@dataclass(frozen=True)
class Period:
    """The measurement period, both ends included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PopulationError(f"--period ends ({self.end}) before it starts ({self.start})")
        if self.start.year < EARLIEST_YEAR or self.end.year > LATEST_YEAR:
            # The look-back windows count back from the period and the charts' dates stop at these years.
            raise PopulationError(f"--period must lie between {EARLIEST_YEAR} and {LATEST_YEAR}")

    @classmethod
    def parse(cls, value: str) -> Period:
        """`START/END` as ISO dates."""
        try:
            start, end = (date.fromisoformat(part.strip()) for part in value.split("/"))
        except ValueError as error:
            raise PopulationError(f"--period must be START/END as YYYY-MM-DD/YYYY-MM-DD, not {value!r}") from error
        return cls(start, end)

    @classmethod
    def last_quarter_before(cls, today: date) -> Period:
        """The last complete calendar quarter before `today`."""
        problem = evaluation_day_problem(today)
        if problem:
            raise PopulationError(f"--today {problem}")  # the day the run evaluates as of: --today or PAINPLAN_TODAY
        return cls(*_quarter_of(_quarter_of(today)[0] - timedelta(days=1)))

    @property
    def label(self) -> str:
        # A quarter by its bounds alone: the evaluation date's range plays no part (a period in 1800 is labelled).
        is_quarter = (self.start, self.end) == _quarter_of(self.start)
        quarter = (self.start.month - 1) // 3 + 1
        return f"{self.start.year} Q{quarter}" if is_quarter else f"{self.start}/{self.end}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def history_start(self) -> date:
        return self.start - timedelta(days=HISTORY_DAYS)

    @property
    def history_days(self) -> int:
        """The history window as the point of care's windows are written: the days before the period end."""
        return (self.end - self.history_start).days

    @property
    def year_start(self) -> date:
        """First day of the 12 months ending at the period end: counted back from the day after it, so a period
        ending on 28 February after a leap year starts them on 1 March, not on the 29th (366 days)."""
        return months_before(self.end + timedelta(days=1), 12)

    def contains(self, day: date | None) -> bool:
        return day is not None and self.start <= day <= self.end


def _quarter_of(day: date) -> tuple[date, date]:
    """The first and last days of the calendar quarter `day` falls in."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    last = date(day.year, first_month + 2, calendar.monthrange(day.year, first_month + 2)[1])
    return date(day.year, first_month, 1), last


@dataclass(frozen=True)
class Directory:
    """Who is who, read once from the export's Practitioner, PractitionerRole and Organization files."""

    roles: Mapping[str, tuple[str | None, str | None]] = field(default_factory=dict)  # role id → (practitioner, org)
    practitioner_orgs: Mapping[str, str] = field(default_factory=dict)  # practitioner id → their first org
    names: Mapping[str, str] = field(default_factory=dict)  # "Practitioner/x", "Organization/y" → display name
    # "npi|1234567893" (guideline.identifiers.identifier_key) → "Practitioner/x" or "Organization/y": claims name
    # prescribers and pharmacies by number alone
    by_identifier: Mapping[str, str] = field(default_factory=dict)
    conflicts: int = 0  # ids sent in more than one differing version (the newest was read)
    # "Location/x" → the export's Location, as sent in its own file, kept only where its type or name may say hospice
    # (guideline.exclusions.location_may_say_hospice): a visit names its place by reference, and the review joins it
    # as the point of care joins a Location sent beside the visit.
    places: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class OpioidFill:
    """One pain-opioid supply as the measures read it: a fill, or an order standing in for one (EHR data)."""

    ref: str
    filled: date
    start: date  # after same-drug early-refill shifting
    end: date | None  # None when the days' supply is unknown
    days: Decimal | None
    mme: Decimal | None  # MME per day; None when it could not be calculated or is not counted (buprenorphine)
    mme_text: str
    name: str
    er_la: bool
    prescriber: str | None
    pharmacy: str | None
    # Why the MME could not be calculated (a guideline.fills reason, "no-quantity"); None when it was, or when the
    # drug has no MME by design (buprenorphine).
    mme_reason: str | None = None

    def days_within(self, low: date, high: date) -> int:
        if self.end is None:
            return 0
        first, last = max(self.start, low), min(self.end, high)
        return max((last - first).days + 1, 0)
