"""The Locations of recent visits' places read from the EHR's FHIR server, for the hospice rule: planned by
`guideline.exclusions`, remembered across calls by a LocationCache. The hook (gather) and the plan page both use it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from cds_hooks.fhir_client import FetchResult
from cds_hooks.location_cache import LocationCache
from guideline.exclusions import MAX_PLACE_READS, places_not_read_words, visit_place_reads
from guideline.record.model import Encounter
from guideline.record.pool import SOURCE
from guideline.record.readers import read_encounter

# Only "no such Location" (its HTTP status) is remembered: a read that failed otherwise is asked again next call.
_NOT_FOUND = frozenset({404, 410})


@dataclass
class PlaceReads:
    """The Locations of the places of the hospice window's visits that no answer holds: read from the EHR's server
    (at most MAX_PLACE_READS), unless the cache remembers them, and each one not read named with why."""

    server: str
    days: int
    today: date
    cache: LocationCache | None = None  # Locations read by earlier calls (organisation data, not the patient's)
    held: set[str] = field(default_factory=set)  # Location/<id> the answers hold or a read asked for
    asked: int = 0
    not_read: dict[str, str] = field(default_factory=dict)  # reference → why it was not read
    over_cap: int = 0
    # The site's zone, when the caller builds the record in it: each visit planned is read once in it, and kept in
    # `visits` (by `id()`, with the visit itself) for the record to take as read rather than read again.
    tz: ZoneInfo | None = None
    visits: dict[int, tuple[Mapping[str, Any], Encounter]] = field(default_factory=dict)

    def plan(self, resources: list[Any], pooled: list[Any]) -> dict[str, str]:
        """The reads (`loc:Location/<id>` → `Location/<id>`) the visits among `resources` need, within the cap; a
        Location the cache remembers is added to `pooled` (or named, when remembered as not found) unread."""
        visits = []
        for resource in resources:
            kind = resource.get("resourceType")
            if kind == "Location" and isinstance(resource.get("id"), str):
                self.held.add(f"Location/{resource['id']}")
            elif kind == "Encounter" and resource.get("location"):
                visits.append(resource)
        reads: dict[str, str] = {}
        for visit in visits:
            if SOURCE not in visit and _places_written(visit) <= self.held:
                continue  # every place already held or asked for: nothing to plan, so the visit is not read twice
            wanted, skipped = visit_place_reads(visit, self.server, self.days, self.today, self._read(visit))
            for ref, why in skipped.items():
                self.not_read.setdefault(ref, why)
            for ref in wanted:
                if ref in self.held or ref in self.not_read:
                    continue
                remembered = self.cache.get(self.server, ref) if self.cache is not None else None
                if remembered is not None:
                    self.held.add(ref)
                    if remembered.location is None:
                        self.not_read[ref] = remembered.why_not
                    else:
                        pooled.append(dict(remembered.location))  # a copy: the record may not change the cache's
                    continue
                if self.asked >= MAX_PLACE_READS:
                    self.over_cap += 1
                    self.not_read[ref] = ""
                    continue
                self.held.add(ref)
                self.asked += 1
                reads[f"loc:{ref}"] = ref
        return reads

    def _read(self, visit: Mapping[str, Any]) -> Encounter | None:
        """The visit as the record reads it (kept in `visits`), or None without a zone or when it cannot be read
        (the record then reads it, and names it)."""
        if self.tz is None:
            return None
        try:
            read = read_encounter(visit, self.tz)
        except Exception:  # noqa: BLE001 - an unreadable visit is named where the record is read
            return None
        self.visits[id(visit)] = (visit, read)
        return read

    def take(self, ref: str, result: FetchResult) -> list[dict]:
        """The Location a read returned, or none with why noted."""
        error = None if result.ok else result.error or "could not be read"
        found = [
            r for r in result.resources if r.get("resourceType") == "Location" and f"Location/{r.get('id')}" == ref
        ]
        if error or not found:
            self.not_read[ref] = error or "the FHIR server returned no Location of that id"
        if self.cache is not None:
            if found:
                self.cache.put(self.server, ref, found[0])
            elif error and result.status in _NOT_FOUND:
                self.cache.put_not_found(self.server, ref, error)
        return found

    def timed_out(self, queries: Mapping[str, str]) -> None:
        for key, ref in queries.items():
            if key.startswith("loc:"):
                self.not_read[ref] = "timed out"

    def named(self) -> str | None:
        """The places not read, in words (`places_not_read_words`), or None when every one was read."""
        return places_not_read_words(self.not_read, bool(self.over_cap)) if self.not_read else None


def _places_written(visit: Mapping[str, Any]) -> set[Any]:
    """A visit's place references as written (a place with none, or a contained one, never matches `held`)."""
    places = visit.get("location")
    if type(places) is not list:
        return {None}
    return {(entry.get("location") or {}).get("reference") if type(entry) is dict else None for entry in places}
