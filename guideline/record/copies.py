"""Which of two differing copies of one resource is the newer, and when nothing in them can tell.

Only called for a resource sent twice in two versions (rare): none of this runs for the usual chart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guideline.versions import NO_STAMP, Stamp, before, last_updated, version_id


def _by_version(kept: Mapping[str, Any], other: Mapping[str, Any]) -> int:
    """1 when `other` has the higher meta.versionId, -1 when the lower, 0 when they do not tell: a version id is
    opaque in FHIR, so only two whole numbers (as most servers count versions) are ordered."""
    mine, theirs = version_id(kept), version_id(other)
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
        if before(mine, theirs):
            return Order(1)
        if before(theirs, mine):
            return Order(-1)
    by_version = _by_version(kept, other)
    if by_version:
        return Order(by_version)
    unreadable = next((s for s in (mine, theirs) if isinstance(s, str) and s != NO_STAMP), None)
    return Order(0, unreadable)
