"""Patient records another record replaced (Patient.link): which old ids the review reads as their newest record.

An MPI merge or a re-enrolment leaves a person's history under two ids. Read apart, 60 days of opioids under each id
is no long-term use for either, and one person may be in two clinicians' letters. Both engines take the map built
here once, from the linked Patients only, and give the old record's resources the surviving id before the cohort is
chosen. Only a replacement both records agree on, or that one states and the other does not contradict, is merged.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guideline.fhirdata import as_dict, as_list, local_reference, text

# FHIR R4 link-type: the record is replaced by the other, or replaces it. "refer" and "seealso" name a record to read
# beside this one (another person's, or one that is not a duplicate): never merged, and not named.
REPLACED_BY, REPLACES = "replaced-by", "replaces"


@dataclass(frozen=True)
class LinksRead:
    """A Patient's replacement links: (old id, new id) pairs, and each link that could not be read, in words."""

    pairs: tuple[tuple[str, str], ...] = ()
    unread: tuple[str, ...] = ()


def read_links(patient: Mapping[str, Any]) -> LinksRead:
    """The replacements a Patient resource states, each as (old id, new id) whichever record states it; and each
    `replaced-by` or `replaces` link whose ids the engines cannot file resources under, with why: no Patient id
    ("Patient/", an identifier alone, a `urn:uuid:`), an id no engine key holds (`filing_problem`), or a Patient
    whose own id is so. Named by the caller, never dropped unseen."""
    own = patient.get("id")
    own_problem = filing_problem(own)
    # Used only where it has no problem, which makes it a non-empty str (`filing_problem`).
    own_id = own if isinstance(own, str) else ""
    found: list[tuple[str, str]] = []
    unread: list[str] = []
    for link in as_list(patient.get("link")):
        link = as_dict(link)
        kind = text(link.get("type"))
        if kind not in (REPLACED_BY, REPLACES):
            continue  # "refer", "seealso": no replacement, nothing to read
        written = as_dict(link.get("other")).get("reference")
        shown = json.dumps(written) if written is not None else "(an identifier only)"
        other = local_reference(written) if isinstance(written, str) else None
        other_id = other.partition("/")[2] if other and other.startswith("Patient/") else ""
        problem = "names no Patient id" if not other_id else filing_problem(other_id)
        problem = problem or (f"this Patient's own id: {own_problem}" if own_problem else None)
        if problem:
            unread.append(f"{kind} {shown}: {problem}")
        else:
            found.append((own_id, other_id) if kind == REPLACED_BY else (other_id, own_id))
    return LinksRead(tuple(dict.fromkeys(found)), tuple(dict.fromkeys(unread)))


# What no engine key holds: the patient key stops at "/", "?" and "#" (tables.resources_sql), and whitespace or a
# control character is no FHIR id.
_NOT_IN_A_KEY = re.compile(r"[\s/?#\x00-\x1f\x7f]")


def filing_problem(ident: Any) -> str | None:
    """Why an id cannot be a patient key both engines file resources under, or None."""
    if not isinstance(ident, str) or not ident:
        return "no id"
    try:
        ident.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape: neither Arrow nor the engines write it
        return "text that is not UTF-8"
    if _NOT_IN_A_KEY.search(ident):
        return "an id holding a space, a control character, /, ? or #"
    return None


@dataclass
class Merges:
    """The old ids read as their surviving record's, and every stated replacement as data-quality.json names it."""

    merged: dict[str, str] = field(default_factory=dict)  # old id → the surviving (newest) id
    # "old → new merged (through ...)", "old → new not merged (why)" → 1 per old record.
    named: Counter[str] = field(default_factory=Counter)
    not_merged: int = 0  # old records read apart from their replacement


def resolve_links(links: Iterable[tuple[str, str]], present: Container[str]) -> Merges:
    """Which old ids merge into which surviving id. `links` are (old, new) pairs as either record states them;
    `present` holds the Patient ids the export has. A replacement is merged when both records are in the export
    and the old one is replaced by one record only; a chain (A by B, B by C) goes to its last record. Two records
    each replaced by the other, a loop, a record replaced by two, and a record whose replacement is itself not
    merged stay apart, each named with why."""
    targets: dict[str, set[str]] = {}
    for old, new in links:
        if old != new:
            targets.setdefault(old, set()).add(new)
    unclear: dict[str, str] = {}
    for old, news in targets.items():
        if len(news) > 1:
            unclear[old] = "replaced by more than one record"
        elif old not in present:
            unclear[old] = f"{old} is not in the export"
        elif next(iter(news)) not in present:
            unclear[old] = f"{next(iter(news))} is not in the export"
    merges = Merges()
    for old in sorted(targets):
        path, why = _walk(old, targets, unclear)
        shown = f"{old} → {', '.join(sorted(targets[old]))}"
        if why is None:
            merges.merged[old] = path[-1]
            through = f" (through {', '.join(path[1:-1])})" if len(path) > 2 else ""
            merges.named[f"{old} → {path[-1]} merged{through}"] += 1
        else:
            merges.named[f"{shown} not merged ({why})"] += 1
            merges.not_merged += 1
    return merges


def _walk(old: str, targets: Mapping[str, set[str]], unclear: Mapping[str, str]) -> tuple[list[str], str | None]:
    """The records from `old` to its surviving one, and None; or why `old` is not merged."""
    if old in unclear:
        return [old], unclear[old]
    path = [old]
    current = old
    while current in targets:
        following = next(iter(targets[current]))
        if following in path:
            if following != old:  # a loop further on: the record replacing this one is in it
                return path, f"{path[1]}, which replaces it, is not merged"
            if len(path) == 2:
                return path, "each record says the other replaces it"
            return path, "the records replace each other in a loop"
        if following in unclear:
            return path, f"{following}, which replaces it, is not merged"
        path.append(following)
        current = following
    return path, None
