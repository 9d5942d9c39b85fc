"""FHIR search for the demo server: the parameters PainPlan sends, parsed strictly (400 naming the bad one) and
matched against the demo resources the way an R4 server would (token, date with prefixes, _id, _sort, _count)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

Resource = Mapping[str, Any]
Resolver = Callable[[str], Resource | None]  # a reference such as "Medication/m1" to its resource, if known


class SearchError(ValueError):
    """A search parameter the demo server cannot honour or cannot read; the message names it."""


# -- which element each parameter reads, per resource type ----------------------------------------------------

DATE_PARAMS: dict[str, dict[str, tuple[str, ...]]] = {
    "Observation": {"date": ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")},
    "Procedure": {"date": ("performedDateTime", "performedPeriod")},
    "Encounter": {"date": ("period",)},
    "DocumentReference": {"date": ("date",)},
    "CarePlan": {"date": ("period",)},
    "Consent": {"date": ("dateTime",)},
    "Condition": {"onset-date": ("onsetDateTime", "onsetPeriod"), "recorded-date": ("recordedDate",)},
    "Goal": {"start-date": ("startDate",)},
    "MedicationRequest": {"authoredon": ("authoredOn",)},
    "ServiceRequest": {"authored": ("authoredOn",)},
    "MedicationDispense": {"whenhandedover": ("whenHandedOver",), "whenprepared": ("whenPrepared",)},
    "MedicationAdministration": {"effective-time": ("effectiveDateTime", "effectivePeriod")},
    "DiagnosticReport": {"date": ("effectiveDateTime", "effectivePeriod")},
    # CARIN Blue Button's service-date: an institutional claim's billing period, a pharmacy or professional claim's
    # line dates (a dotted element is read through each line). The demo patients have no claims: an empty Bundle.
    "ExplanationOfBenefit": {"service-date": ("billablePeriod", "item.servicedDate", "item.servicedPeriod")},
}
# token parameter → the element(s) holding CodeableConcepts (or a plain code string such as status).
TOKEN_PARAMS: dict[str, dict[str, tuple[str, ...]]] = {
    "Observation": {"code": ("code",), "category": ("category",), "status": ("status",)},
    "Condition": {
        "code": ("code",),
        "category": ("category",),
        "clinical-status": ("clinicalStatus",),
        "verification-status": ("verificationStatus",),
    },
    "Procedure": {"code": ("code",), "category": ("category",), "status": ("status",)},
    "Encounter": {"type": ("type",), "class": ("class",), "status": ("status",)},
    "ServiceRequest": {"code": ("code",), "category": ("category",), "status": ("status",), "intent": ("intent",)},
    "MedicationRequest": {
        "code": ("medicationCodeableConcept",),
        "category": ("category",),
        "status": ("status",),
        "intent": ("intent",),
    },
    "MedicationDispense": {"code": ("medicationCodeableConcept",), "status": ("status",)},
    "MedicationAdministration": {"code": ("medicationCodeableConcept",), "status": ("status",)},
    "DiagnosticReport": {"code": ("code",), "category": ("category",), "status": ("status",)},
    "Medication": {"code": ("code",), "status": ("status",)},
    "CarePlan": {"category": ("category",), "status": ("status",), "intent": ("intent",)},
    "DocumentReference": {"type": ("type",), "category": ("category",), "status": ("status",)},
    "Consent": {"category": ("category",), "status": ("status",)},
    "Goal": {"category": ("category",), "lifecycle-status": ("lifecycleStatus",)},
    "Patient": {"gender": ("gender",)},
}
# Medication orders and fills name their drug by reference as often as inline: `code` follows the reference.
MEDICATION_REFERENCE = "medicationReference"
PATIENT_PARAMS = frozenset({"patient", "subject", "subject:Patient"})
PAGING_PARAMS = frozenset({"_count", "_offset"})
# `_lastUpdated` (every resource type) reads meta.lastUpdated; a demo resource without one was stored when the demo
# server loaded it, after every date a search can ask about, as a server stamps each resource it stores.
LAST_UPDATED = "_lastUpdated"
STORED_NOW = "meta.lastUpdated"
IGNORED_PARAMS = frozenset({"_format", "_pretty"})  # presentation only: every answer is JSON
PREFIXES = ("ge", "le", "gt", "lt", "eq")
UNSUPPORTED_PREFIXES = ("ne", "sa", "eb", "ap")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)?)?$")
DEFAULT_COUNT = 50
MAX_COUNT = 200


# -- values -----------------------------------------------------------------------------------------------------


def _day_range(text: str, param: str) -> tuple[date, date]:
    """A FHIR date, dateTime or partial date as the days it covers (2026 → all of 2026; the local day as written)."""
    match = _DATE.match(text.strip())
    if not match:
        raise SearchError(f"{param}: {text!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)")
    year, month, day = match.group(1), match.group(2), match.group(3)
    try:
        if day:
            one = date(int(year), int(month), int(day))
            return one, one
        if month:
            start = date(int(year), int(month), 1)
            end = date(int(year) + (int(month) == 12), int(month) % 12 + 1, 1)
            return start, date.fromordinal(end.toordinal() - 1)
        return date(int(year), 1, 1), date(int(year), 12, 31)
    except ValueError as error:
        raise SearchError(f"{param}: {text!r} is not a calendar date") from error


def _resource_range(value: Any) -> tuple[date, date] | None:
    """An element's days: a date/dateTime/instant string, or a Period (an open end reaches the far past/future)."""
    if isinstance(value, str):
        try:
            return _day_range(value, "")
        except SearchError:
            return None
    if isinstance(value, Mapping):
        start = _resource_range(value.get("start")) if value.get("start") else None
        end = _resource_range(value.get("end")) if value.get("end") else None
        if start is None and end is None:
            return None
        return (start[0] if start else date.min), (end[1] if end else date.max)
    return None


def _values(resource: Resource, element: str) -> list[Any]:
    """An element's values: a top-level one's, or a dotted path's through lists ("item.servicedDate": each line's)."""
    values: list[Any] = [resource]
    for name in element.split("."):
        found = [value.get(name) for value in values if isinstance(value, Mapping)]
        values = [v for value in found for v in (value if isinstance(value, list) else [value]) if v is not None]
    return values


@dataclass(frozen=True)
class DateTest:
    param: str
    elements: tuple[str, ...]
    prefix: str
    low: date
    high: date

    def matches(self, resource: Resource) -> bool:
        """FHIR's prefix rules on day ranges; a resource without the element never matches a date search."""
        for element in self.elements:
            if element == STORED_NOW:
                stamp = (
                    (resource.get("meta") or {}).get("lastUpdated")
                    if isinstance(resource.get("meta"), Mapping)
                    else None
                )
                ranges = [_resource_range(stamp) if stamp else (date.max, date.max)]
            else:
                ranges = [_resource_range(value) for value in _values(resource, element)]
            days = [found for found in ranges if found is not None]
            if days:  # the first element that holds a date decides; any of its values (a claim's lines) matches
                return any(self._holds(first, last) for first, last in days)
        return False

    def _holds(self, first: date, last: date) -> bool:
        """Whether the days from `first` to `last` match the prefix and the searched days."""
        if self.prefix == "ge":
            return last >= self.low
        if self.prefix == "le":
            return first <= self.high
        if self.prefix == "gt":
            return last > self.high
        if self.prefix == "lt":
            return first < self.low
        return self.low <= first and last <= self.high


@dataclass(frozen=True)
class TokenTest:
    param: str
    elements: tuple[str, ...]
    wanted: tuple[tuple[str | None, str | None], ...]  # (system or None for any, code or None for any)
    resolve: Resolver | None = None

    def _codings(self, resource: Resource) -> Iterable[tuple[str | None, str | None]]:
        for element in self.elements:
            value = resource.get(element)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str):
                    yield None, item
                elif isinstance(item, Mapping):
                    if "code" in item and "coding" not in item:  # a Coding (Encounter.class)
                        yield item.get("system"), item.get("code")
                    for coding in item.get("coding") or ():
                        if isinstance(coding, Mapping):
                            yield coding.get("system"), coding.get("code")
        reference = resource.get(MEDICATION_REFERENCE)
        if self.param == "code" and self.resolve is not None and isinstance(reference, Mapping):
            medication = self.resolve(str(reference.get("reference", "")))
            if medication is not None:
                yield from TokenTest(self.param, ("code",), self.wanted)._codings(medication)

    def matches(self, resource: Resource) -> bool:
        codings = list(self._codings(resource))
        for system, code in self.wanted:
            for have_system, have_code in codings:
                if code is not None and have_code != code:
                    continue
                if system is not None and (have_system or "") != system:
                    continue
                return True
        return False


def _tokens(param: str, raw: str) -> tuple[tuple[str | None, str | None], ...]:
    """`code`, `system|code`, `|code` (no system) or `system|` (any code of the system), comma-separated."""
    wanted: list[tuple[str | None, str | None]] = []
    for part in raw.split(","):
        if not part:
            raise SearchError(f"{param}: an empty value in {raw!r}")
        if "|" in part:
            system, code = part.split("|", 1)
            if not system and not code:
                raise SearchError(f"{param}: {part!r} names neither a system nor a code")
            wanted.append((system, code or None))
        else:
            wanted.append((None, part))
    return tuple(wanted)


# -- the whole query --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A parsed search: the filters, the order and the page."""

    patient_id: str | None
    ids: frozenset[str] | None
    tests: tuple[DateTest | TokenTest, ...]
    sort: tuple[tuple[str, bool], ...]  # (date parameter, descending)
    count: int
    offset: int

    def select(self, candidates: Sequence[Resource], resource_type: str) -> list[Resource]:
        found = [
            r
            for r in candidates
            if (self.ids is None or r.get("id") in self.ids) and all(t.matches(r) for t in self.tests)
        ]
        for param, descending in reversed(self.sort):
            found.sort(key=lambda r, p=param: _sort_key(r, resource_type, p), reverse=descending)
        return found


def _sort_key(resource: Resource, resource_type: str, param: str) -> date:
    if param == "_id":
        return date.min  # ids keep the bundle's order; a real server would sort by text
    for element in DATE_PARAMS.get(resource_type, {}).get(param, ()):
        for value in _values(resource, element):
            found = _resource_range(value)
            if found is not None:
                return found[0]
    return date.min


def _integer(param: str, raw: str, low: int) -> int:
    try:
        value = int(raw)
    except ValueError as error:
        raise SearchError(f"{param}: {raw!r} is not a whole number") from error
    if value < low:
        raise SearchError(f"{param}: {value} is below {low}")
    return value


def parse_query(resource_type: str, params: Sequence[tuple[str, str]], resolve: Resolver | None = None) -> Query:
    """Every parameter read or refused: an unknown one is an error, never silently ignored."""
    dates = {**DATE_PARAMS.get(resource_type, {}), LAST_UPDATED: (STORED_NOW,)}
    tokens = TOKEN_PARAMS.get(resource_type, {})
    patient_id: str | None = None
    ids: frozenset[str] | None = None
    tests: list[DateTest | TokenTest] = []
    sort: list[tuple[str, bool]] = []
    count, offset = DEFAULT_COUNT, 0
    for name, raw in params:
        if name in PATIENT_PARAMS:
            patient_id = raw.rsplit("/", 1)[-1] or None
        elif name == "_id":
            ids = frozenset(v for v in raw.split(",") if v)
            if resource_type == "Patient" and len(ids) == 1:
                patient_id = next(iter(ids))
        elif name == "_count":
            count = min(MAX_COUNT, _integer(name, raw, 0))
        elif name == "_offset":
            offset = _integer(name, raw, 0)
        elif name == "_sort":
            for key in raw.split(","):
                bare = key.removeprefix("-")
                if bare not in dates and bare != "_id":
                    raise SearchError(f"_sort: {resource_type} cannot be sorted by {bare!r}")
                sort.append((bare, key.startswith("-")))
        elif name in dates:
            prefix = raw[:2] if raw[:2].isalpha() else "eq"
            if prefix in UNSUPPORTED_PREFIXES:
                raise SearchError(f"{name}: the prefix {prefix!r} is not supported here (use ge, le, gt, lt or eq)")
            if prefix not in PREFIXES:
                raise SearchError(f"{name}: {raw!r} has an unknown prefix")
            low, high = _day_range(raw[2:] if raw[:2].isalpha() else raw, name)
            tests.append(DateTest(name, dates[name], prefix, low, high))
        elif name in tokens:
            tests.append(TokenTest(name, tokens[name], _tokens(name, raw), resolve))
        elif name in IGNORED_PARAMS:
            continue
        else:
            raise SearchError(f"{name}: not a search parameter the demo server supports for {resource_type}")
    return Query(patient_id, ids, tuple(tests), tuple(sort), count, offset)
