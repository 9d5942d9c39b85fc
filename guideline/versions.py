"""Which of two versions of one resource (one type and id, sent twice) is the newer, by what each says of itself."""

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


def before(first: Stamp, second: Stamp) -> bool:
    """Whether every moment `first` may stand for is before every moment `second` may: two stamps without a zone
    are taken to be in one (a server writes all its stamps alike), one without a zone beside one with may be in any."""
    if first.zoned == second.zoned:
        return first.end <= second.start
    if first.zoned:
        return first.end <= (second.start - _ANY_ZONE).replace(tzinfo=UTC)
    return (first.end + _ANY_ZONE).replace(tzinfo=UTC) <= second.start


def version_id(resource: Mapping[str, Any]) -> str:
    """The copy's meta.versionId as written, trimmed; "" when it gives none."""
    return (text(as_dict(resource.get("meta")).get("versionId")) or "").strip()


VersionRank = tuple[bool, float, bool, bool, int, str]


def version_rank(resource: Mapping[str, Any]) -> VersionRank:
    """How new a version says it is: a `meta.lastUpdated` read (`last_updated`) above none, later above earlier; then
    a `meta.versionId` above none, a larger number above a smaller one ("10" after "2"), else by its text. A total
    order for choosing one copy, it agrees with `before` wherever that tells two stamps apart: each is ordered by the
    start of its span, one with no zone on the UTC clock (two such are taken to be in one zone, as `before` takes
    them; beside a zoned one, `before` tells only when no zone could make them overlap)."""
    stamp = last_updated(resource)
    version = version_id(resource)
    numeric = version.isdigit()
    return (
        isinstance(stamp, Stamp),
        _on_utc_clock(stamp.start).timestamp() if isinstance(stamp, Stamp) else 0.0,
        bool(version),
        numeric,
        int(version) if numeric else 0,
        version,
    )


def _on_utc_clock(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def same_content(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """Whether two versions say the same apart from their metadata: copies that differ only in `meta` are one."""
    return {k: v for k, v in first.items() if k != "meta"} == {k: v for k, v in second.items() if k != "meta"}
