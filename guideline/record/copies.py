"""Which of two differing copies of one resource is the newer, and when nothing in them can tell.

Only called for a resource sent twice in two versions (rare): none of this runs for the usual chart."""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from guideline.fhirdata import as_dict, text

# A FHIR dateTime or instant, read leniently: a year, a month or a day alone, or a time with or without its seconds
# (and their fraction) and with or without its zone. Anything else is no date PainPlan can read.
_STAMP = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?)?)?"
)
# A time written without its zone was written in some zone of the world's: it stands for a span this wide each way.
_ANY_ZONE = timedelta(hours=14)


@dataclass(frozen=True)
class Stamp:
    """A meta.lastUpdated as the span of time it may stand for (a day alone stands for all of it)."""

    start: datetime  # naive when the stamp names no zone
    end: datetime
    zoned: bool


def _span(match: re.Match[str]) -> Stamp | None:
    """The span a matched stamp names, or None when its numbers name no moment (month 13, hour 99)."""
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        if month is None:
            start = datetime(int(year), 1, 1)
            end = datetime(int(year) + 1, 1, 1)
        elif day is None:
            start = datetime(int(year), int(month), 1)
            end = start + timedelta(days=monthrange(start.year, start.month)[1])
        elif hour is None:
            start = datetime(int(year), int(month), int(day))
            end = start + timedelta(days=1)
        else:
            start = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
            start += timedelta(seconds=float(f"0.{fraction}")) if fraction else timedelta()
            end = start + timedelta(seconds=10.0 ** -len(fraction) if fraction else 1 if second else 60)
    except ValueError:
        return None
    if zone is None:
        return Stamp(start, end, False)
    offset = timedelta() if zone == "Z" else _offset(zone)
    if offset is None:
        return None
    return Stamp((start - offset).replace(tzinfo=UTC), (end - offset).replace(tzinfo=UTC), True)


def _offset(zone: str) -> timedelta | None:
    """ "+05:30" (or "+0530") as a timedelta; None past ±14 hours, which is no zone."""
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        return None
    found = timedelta(hours=hours, minutes=minutes)
    return -found if zone[0] == "-" else found


NO_STAMP = "none"  # the copy gives no meta.lastUpdated


def last_updated(resource: Mapping[str, Any]) -> Stamp | str:
    """A copy's meta.lastUpdated as a Stamp; NO_STAMP when it gives none; else the unreadable value, as written
    (cut short), to be named."""
    raw = as_dict(resource.get("meta")).get("lastUpdated")
    if raw is None:
        return NO_STAMP
    written = text(raw)
    match = _STAMP.fullmatch(written) if written else None
    found = _span(match) if match else None
    return found if found is not None else str(raw)[:40]


def _before(first: Stamp, second: Stamp) -> bool:
    """Whether every moment `first` may stand for is before every moment `second` may: two stamps without a zone
    are taken to be in one (a server writes all its stamps alike), one without a zone beside one with may be in any."""
    if first.zoned == second.zoned:
        return first.end <= second.start
    if first.zoned:
        return first.end <= (second.start - _ANY_ZONE).replace(tzinfo=UTC)
    return (first.end + _ANY_ZONE).replace(tzinfo=UTC) <= second.start


def _by_version(kept: Mapping[str, Any], other: Mapping[str, Any]) -> int:
    """1 when `other` has the higher meta.versionId, -1 when the lower, 0 when they do not tell: a version id is
    opaque in FHIR, so only two whole numbers (as most servers count versions) are ordered."""
    mine = (text(as_dict(kept.get("meta")).get("versionId")) or "").strip()
    theirs = (text(as_dict(other.get("meta")).get("versionId")) or "").strip()
    if not (mine.isdigit() and theirs.isdigit()):
        return 0
    return (int(theirs) > int(mine)) - (int(theirs) < int(mine))


@dataclass(frozen=True)
class Order:
    """Whether `other` is newer (1), older (-1) or not known to be either (0) than the copy kept; for 0, why."""

    newer: int
    unreadable: str | None = None  # a meta.lastUpdated that could not be read, as written


def which_newer(kept: Mapping[str, Any], other: Mapping[str, Any]) -> Order:
    """Which of two differing copies is newer: the later meta.lastUpdated when both can be read and their spans do
    not overlap, else the higher numbered meta.versionId, else not known (and any unreadable date is said)."""
    mine, theirs = last_updated(kept), last_updated(other)
    if isinstance(mine, Stamp) and isinstance(theirs, Stamp):
        if _before(mine, theirs):
            return Order(1)
        if _before(theirs, mine):
            return Order(-1)
    by_version = _by_version(kept, other)
    if by_version:
        return Order(by_version)
    unreadable = next((s for s in (mine, theirs) if isinstance(s, str) and s != NO_STAMP), None)
    return Order(0, unreadable)
