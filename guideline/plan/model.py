"""The plan view's frame: what each FHIR search returned, a section (content or error), and the whole page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class QueryStatus:
    """What one FHIR search returned (the face converts its fetch results into these; no patient data)."""

    key: str
    label: str
    query: str
    items: int
    ok: bool
    error: str | None = None
    truncated: bool = False


@dataclass(frozen=True)
class Point:
    """One day's value on a chart line."""

    day: date
    value: Decimal


@dataclass(frozen=True)
class Section:
    """A section's content, or the message that says why it could not be built; `queried` names its data."""

    key: str
    title: str
    content: Any = None
    error: str | None = None
    queried: tuple[QueryStatus, ...] = ()

    @property
    def notices(self) -> tuple[str, ...]:
        notes = []
        for status in self.queried:
            if not status.ok:
                notes.append(
                    f"{status.label} could not be read ({status.error or 'error'}); this section may be incomplete."
                )
            elif status.truncated:
                notes.append(
                    f"{status.label}: more results exist than were read ({status.items} read); older data is missing."
                )
        return tuple(notes)


@dataclass(frozen=True)
class PlanView:
    banner: Section
    sections: tuple[Section, ...]
    completeness: tuple[QueryStatus, ...]
    now: datetime
    profile: str
    note: str = ""
    problems: int = 0
    # Each resource that could not be read: type, id, position and why (never its content).
    unreadable: tuple[str, ...] = ()
    # Each current order or draft whose medication could not be identified, named by its text or code.
    unidentified: tuple[str, ...] = ()
    # Each pharmacy fill of a medication that matters here but with no date, so it could not be placed in time.
    undated_fills: tuple[str, ...] = ()
    unread_categories: tuple[str, ...] = ()
    unknown_status: tuple[str, ...] = ()  # recent orders of unknown status, not counted as current
    # Urine drug test results of the last 12 months that could not be judged (value not read, undated, status unknown)
    unread_uds: tuple[str, ...] = ()
    # Active diagnoses with no code PainPlan reads and no word rule that names them: nothing counted them.
    unread_conditions: tuple[str, ...] = ()
    # Procedures a check reads (PDMP review, OUD medication dose, hospice care, ...) with no date it can read.
    undated_procedures: tuple[str, ...] = ()
    # Doses of OUD medication recorded as given with no date, or of unknown status: not counted as treatment.
    uncounted_administrations: tuple[str, ...] = ()
    # Benefit/harm evaluations and PDMP reviews dated after today: not counted as done, named.
    future_dated: tuple[str, ...] = ()
    by_key: Mapping[str, Section] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        return self.by_key[key]
