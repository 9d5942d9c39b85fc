"""The plan view's frame: what each FHIR search returned, a section (content or error), and the whole page."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from guideline.named_gaps import NamedGap
from guideline.search_windows import Window

# The page's Location reads of the places of recent visits (the hospice exclusion): its status's error is the card's
# own words for them (guideline.exclusions.places_not_read_words), "1 not read; Location/…: why".
PLACES = "places"
# The reads of the results urine drug test reports name: likewise the card's words (report_results.not_read_words).
RESULT_READS = "report_results"
# The Medication reads: the status's error counts the reads not made itself ("1 of 2 could not be read; 3 not read: …").
MEDICATION_READS = "medications"
# The reads whose status's error says what was not read, not only why: shown after the label, never inside a second
# "could not be read (…)".
SELF_WORDED = frozenset({PLACES, RESULT_READS, MEDICATION_READS})


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
    # How far back it searched (None: the whole record): what it did not find may be older, so "none on record"
    # is said only of a search with no window, "none in the last 2 years" of one with.
    window: Window | None = None

    @property
    def read_in_full(self) -> bool:
        """Whether the search answered and was not cut off at the page limit: what it did not find is not there."""
        return self.ok and not self.truncated

    @property
    def card_words(self) -> str | None:
        """The words for the reads not made, when `error` holds them whole (SELF_WORDED: the card's own for the places
        of recent visits and the results of reports), shown after the label as the card shows them; None for a
        search, whose error is only why."""
        return self.error if self.key in SELF_WORDED and self.error else None


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
            if status.card_words:
                notes.append(f"{status.label}: {status.card_words}; this section may be incomplete.")
            elif not status.ok:
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
    # The kinds the page's panel and the note name, worded for this configuration (guideline.named_gaps.worded).
    page_kinds: tuple[NamedGap, ...]
    note_kinds: tuple[NamedGap, ...]
    note: str = ""
    problems: int = 0
    # Each resource that could not be read: type, id, position and why (never its content).
    unreadable: tuple[str, ...] = ()
    # Each kind of item the page or the note names as not read or not counted (guideline.named_gaps), by its key.
    named: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    by_key: Mapping[str, Section] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        return self.by_key[key]

    @property
    def not_built(self) -> tuple[tuple[str, str], ...]:
        """Each part of the page that could not be built, (title, why), for the data-completeness panel: the section
        says so in place, and the panel that names what the page could not do names it too."""
        parts = (self.banner, *self.sections)
        return tuple((s.title, s.error) for s in parts if s.error)

    @property
    def checks_not_run(self) -> tuple[str, ...]:
        """The guideline checks that failed while evaluating (their cards, if any, are missing)."""
        alerts = self.by_key.get("alerts")
        return tuple(getattr(alerts.content, "failures", ())) if alerts is not None else ()

    @property
    def page_gaps(self) -> tuple[tuple[NamedGap, tuple[str, ...]], ...]:
        """Each kind the page's data-completeness panel names, in its order, with the items named (maybe none)."""
        return tuple((kind, self.named[kind.key]) for kind in self.page_kinds)
