"""A bounded per-process memory of the Locations read from EHRs' FHIR servers, by server base and id, for a while."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_LOCATION_CACHE_SECONDS = 24 * 60 * 60  # a department's type rarely changes; a day of staleness is tolerable
# A Location the server said it does not have is asked again sooner: it may be being set up.
NOT_FOUND_SECONDS = 5 * 60
# Entries held per process: a health system has thousands of departments, a slim entry is a few hundred bytes.
MAX_LOCATIONS = 5000
# Only what the hospice rule reads of a Location (`hospice_place`: its type and name): never the answer as sent.
_KEPT = ("resourceType", "id", "name", "type")


@dataclass(frozen=True)
class Remembered:
    """A Location as read (only its kept fields), or None with why when the server had none of that id."""

    location: Mapping[str, Any] | None
    why_not: str = ""


@dataclass
class LocationCache:
    """Locations by (server base, `Location/<id>`): organisation data, the same for every patient and token of that
    server, so one read serves every call for `seconds`; the oldest entry goes when `size` are held."""

    seconds: float = DEFAULT_LOCATION_CACHE_SECONDS
    size: int = MAX_LOCATIONS
    clock: Callable[[], float] = time.monotonic
    _entries: OrderedDict[tuple[str, str], tuple[float, Remembered]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, server: str, ref: str) -> Remembered | None:
        """What was read of `ref` on `server` and has not expired, or None (read it)."""
        key = (_base(server), ref)
        with self._lock:
            held = self._entries.get(key)
            if held is None:
                return None
            if held[0] <= self.clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return held[1]

    def put(self, server: str, ref: str, location: Mapping[str, Any]) -> None:
        """Remembers a Location read (its type and name only)."""
        slim = {name: location[name] for name in _KEPT if name in location}
        self._hold(server, ref, Remembered(slim), self.seconds)

    def put_not_found(self, server: str, ref: str, why: str) -> None:
        """Remembers, briefly, that the server has no Location of that id."""
        self._hold(server, ref, Remembered(None, why), min(self.seconds, NOT_FOUND_SECONDS))

    def _hold(self, server: str, ref: str, entry: Remembered, seconds: float) -> None:
        if seconds <= 0 or self.size <= 0:
            return
        key = (_base(server), ref)
        with self._lock:
            self._entries[key] = (self.clock() + seconds, entry)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def _base(server: str) -> str:
    # "https://ehr/fhir/" and "https://ehr/fhir" are one server.
    return server.rstrip("/")


_APP_KEY = "painplan.location_cache"


def app_cache(extensions: dict[str, Any], seconds: float) -> LocationCache:
    """The cache of one app (its Flask `extensions`), made on first use: the hook calls and plan pages of a process
    share it, and a new app (a test's) starts empty."""
    with _APP_LOCK:
        cache = extensions.get(_APP_KEY)
        if cache is None:
            cache = extensions[_APP_KEY] = LocationCache(seconds)
        return cache


_APP_LOCK = threading.Lock()
