"""Which FHIR version the EHR's server speaks. PainPlan writes R4 records only: sent to an STU3, DSTU2 or R5 server,
an R4 record is refused, or stored by a lenient server with what it does not know dropped (an R4 Goal's
lifecycleStatus on an STU3 server: a goal with no status), so nothing is sent to one.

Two signs: the base address's path, when it names a version (Epic's …/api/FHIR/STU3, Oracle Health's /dstu2/…,
HAPI's /baseDstu3, the SMART sandbox's /v/r3/), which needs no request, so the page offers no form; and, before a
save, the server's CapabilityStatement `fhirVersion`, for a base that names none. When neither says, the record is
still sent as R4 (most servers are, and the page's reads assume it), but the save is marked unconfirmed so the page
says PainPlan could not confirm the version."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests

from launch.scopes import r4_named_in_base, release_named_in_base

log = logging.getLogger(__name__)

# fhirVersion's first two numbers -> release name; R4 (4.0) and R4B (4.3) take R4 records.
RELEASES = {"0.0": "DSTU1", "1.0": "DSTU2", "3.0": "STU3", "4.0": "R4", "4.3": "R4B", "5.0": "R5"}
KEPT_SECONDS = 3600.0  # a server's version changes with an upgrade, not between saves
UNREAD_KEPT_SECONDS = 60.0  # a CapabilityStatement that could not be read is asked for again soon

_stated: dict[str, tuple[float, str | None]] = {}
_lock = threading.Lock()


# The release a FHIR base's path names when it is not R4 ("STU3"): the launch reads the same table, so no write scope
# is asked of such a server.
named_in_base = release_named_in_base


def release_of(stated: str) -> str:
    """The release name of a fhirVersion ("3.0.2" -> "STU3"); the number itself when unknown."""
    return RELEASES.get(".".join(stated.split(".")[:2]), stated)


def _takes_r4(stated: str) -> bool:
    return stated.startswith("4.")


def forget() -> None:
    """Drop what was learnt of every server (tests; a server upgraded meanwhile)."""
    with _lock:
        _stated.clear()


def stated_version(session: Any, base_url: str, timeout: float) -> str | None:
    """The server's CapabilityStatement fhirVersion, remembered for a while per server; None when it cannot be read.
    No token is sent: the capability statement is public."""
    moment = time.monotonic()
    with _lock:
        known = _stated.get(base_url)
    if known is not None and known[0] > moment:
        return known[1]
    stated: str | None = None
    try:
        answer = session.get(
            base_url.rstrip("/") + "/metadata",
            headers={"Accept": "application/fhir+json"},
            timeout=timeout,
            allow_redirects=False,
        )
        body = answer.json() if answer.status_code == 200 else None
        version = body.get("fhirVersion") if isinstance(body, dict) else None
        stated = version.strip() if isinstance(version, str) and version.strip() else None
    except (requests.RequestException, ValueError):
        log.warning("the FHIR server's CapabilityStatement could not be read")
    with _lock:
        _stated[base_url] = (moment + (KEPT_SECONDS if stated else UNREAD_KEPT_SECONDS), stated)
    return stated


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


def save_check(session: Any, base_url: str, timeout: float) -> SaveCheck:
    """Whether this record may be sent to this server, and whether its version is confirmed."""
    named = base_refusal(base_url)
    if named:
        return SaveCheck(named)
    if r4_named_in_base(base_url):
        return SaveCheck()
    stated = stated_version(session, base_url, timeout)
    if stated is None:
        log.warning("the FHIR server's version could not be confirmed; the record is sent as R4")
        return SaveCheck(unconfirmed=True)
    return SaveCheck() if _takes_r4(stated) else SaveCheck(f"FHIR {release_of(stated)} ({stated})")
