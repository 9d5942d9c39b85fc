"""Which FHIR version the EHR's server speaks. PainPlan writes R4 records only: sent to an STU3, DSTU2 or R5 server,
an R4 record is refused, or stored by a lenient server with what it does not know dropped (an R4 Goal's
lifecycleStatus on an STU3 server: a goal with no status), so nothing is sent to one.

Two signs: the base address's path, when it names a version (Epic's …/api/FHIR/STU3, Oracle Health's /dstu2/…,
HAPI's /baseDstu3, the SMART sandbox's /v/r3/), which needs no request, so the page offers no form; and, for a base
that names none, the server's CapabilityStatement `fhirVersion`, asked in the background while the plan page reads
the chart (so the page says before any form is filled what it means for a save; a save's own page view asks the same
way, and the save uses that answer), remembered per base by each app (VersionCache). When neither says, the record
is still sent as R4 (most servers are, and the page's reads assume it), but the page says up front and after the
save that PainPlan could not confirm the version."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from cds_hooks.ehr_release import R4
from cds_hooks.ehr_release import RELEASES as EHR_RELEASES
from launch.scopes import r4_named_in_base, release_named_in_base

log = logging.getLogger(__name__)

# fhirVersion's first two numbers -> release name, from the one table of FHIR releases (cds_hooks.ehr_release: the app
# imports the CDS face, never the other way). R4 (4.0) and R4B (4.3) take R4 records (_takes_r4), so no refusal names
# either; the ballots numbered between them (4.1, R4B's; 4.2 and 4.4 to 4.6, R5's) are no R4, and refused by number.
RELEASES = {number: release.name for release in EHR_RELEASES.values() for number in release.numbers}
KEPT_SECONDS = 3600.0  # a server's version changes with an upgrade, not between saves
UNREAD_KEPT_SECONDS = 60.0  # a CapabilityStatement that could not be read is asked for again soon
# FHIR bases remembered by one app: a site has a few; the bound keeps launches from many servers from growing it.
MAX_BASES = 256
# Questions the plan page leaves running in the background: a server whose `metadata` hangs holds one thread until
# its timeout, and no more than these are ever held.
ASKERS = 4

monotonic = time.monotonic  # the cache's clock (tests move it, not the whole process's)
_askers: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, its pool)
_askers_lock = threading.Lock()


# The release a FHIR base's path names when it is not R4 ("STU3"): the launch reads the same table, so no write scope
# is asked of such a server.
named_in_base = release_named_in_base


def release_of(stated: str) -> str:
    """The release name of a fhirVersion ("3.0.2" -> "STU3"); the number itself when unknown."""
    return RELEASES.get(".".join(stated.split(".")[:2]), stated)


def _takes_r4(stated: str) -> bool:
    """Whether the fhirVersion is one the release table gives R4 (4.0.x, R4B's 4.3.x), not any 4.x: 4.5.0 is R5's."""
    return release_of(stated) == R4


def _refusal(stated: str) -> str:
    """The server's version in words for a refusal: "FHIR STU3 (3.0.2)", or the number alone when no release has it."""
    named = release_of(stated)
    return f"FHIR {stated}" if named == stated else f"FHIR {named} ({stated})"


def read_stated(session: Any, base_url: str, timeout: float) -> str | None:
    """Ask the server for its CapabilityStatement's fhirVersion; None when it cannot be read or states none.
    No token is sent: the capability statement is public."""
    try:
        answer = session.get(
            base_url.rstrip("/") + "/metadata",
            headers={"Accept": "application/fhir+json"},
            timeout=timeout,
            allow_redirects=False,
        )
        body = answer.json() if answer.status_code == 200 else None
    except (requests.RequestException, ValueError):
        log.warning("the FHIR server's CapabilityStatement could not be read")
        return None
    version = body.get("fhirVersion") if isinstance(body, dict) else None
    return version.strip() if isinstance(version, str) and version.strip() else None


def _background() -> ThreadPoolExecutor:
    """This process's pool for questions asked in the background: made in the process that uses it, since a forked
    worker inherits no thread of its parent's pool (`painplan serve` forks its workers)."""
    global _askers
    with _askers_lock:
        if _askers is None or _askers[0] != os.getpid():
            _askers = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=ASKERS, thread_name_prefix="server-version-question"),
            )
        return _askers[1]


def _done(stated: str | None) -> Future[str | None]:
    """A question already answered."""
    future: Future[str | None] = Future()
    future.set_result(stated)
    return future


class VersionCache:
    """What each FHIR base's CapabilityStatement said of its version, for one app: kept KEPT_SECONDS (a minute when
    it could not be read), for at most `max_bases` bases (the least recently asked are forgotten first), and asked
    by one request at a time per base."""

    def __init__(self, max_bases: int = MAX_BASES) -> None:
        self._known: OrderedDict[str, tuple[float, str | None]] = OrderedDict()
        self._asking: dict[str, Future[str | None]] = {}
        self._max_bases = max_bases
        self._lock = threading.Lock()

    def known(self, base_url: str) -> tuple[bool, str | None]:
        """(True, what the server stated) while it is remembered; (False, None) when it is to be asked."""
        with self._lock:
            entry = self._known.get(base_url)
            if entry is None:
                return False, None
            if entry[0] <= monotonic():
                del self._known[base_url]
                return False, None
            self._known.move_to_end(base_url)
            return True, entry[1]

    def remember(self, base_url: str, stated: str | None) -> None:
        """Keep what the server stated (None: it could not be read), forgetting the least recently asked bases."""
        kept = KEPT_SECONDS if stated else UNREAD_KEPT_SECONDS
        with self._lock:
            self._known[base_url] = (monotonic() + kept, stated)
            self._known.move_to_end(base_url)
            while len(self._known) > self._max_bases:
                self._known.popitem(last=False)

    def ask(self, session: Any, base_url: str, timeout: float) -> Future[str | None]:
        """What the server states, as a future: answered at once when remembered, else asked in the background (the
        question already under way for this base, when there is one)."""
        is_known, stated = self.known(base_url)
        if is_known:
            return _done(stated)
        with self._lock:
            pending = self._asking.get(base_url)
            if pending is None:
                pending = _background().submit(self._read, session, base_url, timeout)
                self._asking[base_url] = pending
        return pending

    def _read(self, session: Any, base_url: str, timeout: float) -> str | None:
        """Ask the server in this (background) thread, remember the answer, and let the next question go out."""
        try:
            try:
                stated = read_stated(session, base_url, timeout)
            except Exception:  # a page or a save waits on this answer: never an error in its place
                log.exception("asking the FHIR server's CapabilityStatement failed")
                stated = None
            self.remember(base_url, stated)
            return stated
        finally:
            with self._lock:
                self._asking.pop(base_url, None)


def base_refusal(base_url: str) -> str:
    """Why nothing can be written to this server by its base address alone ("FHIR STU3"); '' when nothing says so."""
    named = named_in_base(base_url)
    return f"FHIR {named}" if named else ""


@dataclass(frozen=True)
class SaveCheck:
    """What the server's version means for a save: `refusal` says why nothing may be sent ('' when it may), and
    `unconfirmed` that it is sent as R4 without the server having said it is R4."""

    refusal: str = ""
    unconfirmed: bool = False


def asked_of(base_url: str) -> bool:
    """Only the server can say its version: its base address names no release, R4 or another."""
    return not base_refusal(base_url) and not r4_named_in_base(base_url)


def check_of(base_url: str, stated: str | None) -> SaveCheck:
    """What a server's base address and its stated fhirVersion (None: not known) mean for a save."""
    named = base_refusal(base_url)
    if named:
        return SaveCheck(named)
    if r4_named_in_base(base_url):
        return SaveCheck()
    if stated is None:
        return SaveCheck(unconfirmed=True)
    return SaveCheck() if _takes_r4(stated) else SaveCheck(_refusal(stated))
