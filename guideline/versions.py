"""Which of two versions of one resource (one type and id, sent twice) is the newer, by what each says of itself."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from guideline.fhirdata import as_dict, text

VersionRank = tuple[bool, float, bool, bool, int, str]


def version_rank(resource: Mapping[str, Any]) -> VersionRank:
    """How new a version says it is: a known `meta.lastUpdated` above none, later above earlier; then a
    `meta.versionId` above none, a larger number above a smaller one ("10" after "2"), else by its text."""
    meta = as_dict(resource.get("meta"))
    stamp = text(meta.get("lastUpdated"))
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # FHIR instants carry an offset; a bare one is read as UTC
    version = (text(meta.get("versionId")) or "").strip()
    numeric = version.isdigit()
    return (
        moment is not None,
        moment.timestamp() if moment else 0.0,
        bool(version),
        numeric,
        int(version) if numeric else 0,
        version,
    )


def same_content(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """Whether two versions say the same apart from their metadata: copies that differ only in `meta` are one."""
    return {k: v for k, v in first.items() if k != "meta"} == {k: v for k, v in second.items() if k != "meta"}
