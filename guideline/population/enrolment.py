"""A member's enrolment over the measurement period, read from their Coverage: enrolled days and the gaps left."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from guideline.fhirdata import LATEST_YEAR, as_dict, as_list, text, written_days
from guideline.population.model import Period
from guideline.population.quality import Quality
from guideline.sent_twice import ACT_CODE_SYSTEMS

# FHIR's Coverage statuses (FinancialResourceStatusCodes): an active Coverage (or one stating no status, as DSTU2's
# never does) enrols the member; a cancelled, draft or entered-in-error one is read and enrols no one.
_COUNTED = frozenset({"active"})
_NOT_COUNTED = frozenset({"cancelled", "draft", "entered-in-error"})
_FULL_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})$")
# Coverage types (HL7 ActCode, under any of its spellings, sent_twice.ACT_CODE_SYSTEMS, its OID too: the insurance
# policy and program codes CARIN's Coverage carries, its dental example DENTAL) of a plan that pays for no
# prescriptions: dental and vision. The measures count members enrolled with a drug benefit, so such a plan is read
# and enrols no day, as a cancelled one; a plan of any other type, or none stated, enrols as before.
_NO_DRUG_BENEFIT = {"DENTAL": "dental", "DENTPRG": "dental", "VISPOL": "vision"}  # the plan as the evidence names it
# Why a Coverage of a status that enrols no one did not count, as the evidence of a gap says it.
_STATUS_WORDS = {"cancelled": "is cancelled", "draft": "is a draft", "entered-in-error": "was entered in error"}


@dataclass(frozen=True)
class CoverageNotCounted:
    """A Coverage read that enrols no day though it may be dated in the period (a dental plan, a cancelled one): the
    evidence of a gap names it, else the gap reads as if the member's record held no coverage over it."""

    resource: str  # Coverage/id
    why: str  # "dental coverage 2026-01-01 to 2026-12-31 is no medical or drug coverage"

    def __str__(self) -> str:
        return f"{self.resource} not counted: {self.why}"


@dataclass(frozen=True)
class Enrolment:
    """The days of the period a member's Coverage enrols them on, each gap's length in days, in date order, and the
    Coverage that enrolled no day though it may be dated in the period."""

    enrolled_days: int
    gaps: tuple[int, ...]
    not_counted: tuple[CoverageNotCounted, ...] = ()

    @property
    def longest_gap(self) -> int | None:
        return max(self.gaps, default=None)

    def continuous(self, allowed_gap_days: int) -> bool:
        """PQA's rule: no more than one gap, of no more than `allowed_gap_days`."""
        return len(self.gaps) <= 1 and (self.longest_gap or 0) <= allowed_gap_days

    def gap_counts(self, allowed_gap_days: int | None) -> bool:
        """Whether its gaps count under the setting: any gap (`population.enrolment = name`, `allowed_gap_days`
        None), or more than `continuous` allows."""
        return bool(self.gaps) and (allowed_gap_days is None or not self.continuous(allowed_gap_days))

    def gap_text(self) -> str:
        """ "1 gap, the longest 70 days" (the row's `excluded` and evidence say it alike)."""
        noun = "gap" if len(self.gaps) == 1 else "gaps"
        return f"{len(self.gaps)} {noun}, the longest {self.longest_gap} days"

    def evidence(self, period: Period, read: str = "Coverage") -> str:
        """What the row's evidence says of a member whose Coverage (`read`) leaves a gap, and of each Coverage that
        did not fill it."""
        said = f"{read} enrols the member on {self.enrolled_days} of the period's {period.days} days: {self.gap_text()}"
        return "; ".join([said, *map(str, self.not_counted)])  # "; " as the rest: a reason's dates may hold a comma


@dataclass(frozen=True)
class CoverageNotRead:
    """A Coverage that could not be read: which (`Coverage/id`) and why, kept apart from where it is made so the
    evidence never has to split them back out of text (an id may hold ": ")."""

    resource: str
    why: str

    def __str__(self) -> str:
        """ "Coverage/k1-b: period.start '01/21/2026' is not a date", as data-quality.json's coverage_not_read names
        it."""
        return f"{self.resource}: {self.why}"


@dataclass(frozen=True)
class CoverageRead:
    """A member's Coverage read: their enrolment from the Coverage that could be read (None when none could: not
    stated when there was none, `unknown` when some could not be read), and each Coverage that could not be read."""

    enrolment: Enrolment | None
    not_read: tuple[CoverageNotRead, ...] = ()

    def unknown(self, allowed_gap_days: int | None) -> bool:
        """Whether the member's enrolment is unknown: a Coverage of theirs could not be read, and the Coverage read
        (if any) leaves a gap that counts: any gap (`population.enrolment = name`, `allowed_gap_days` None), or more
        than `continuous` allows. A Coverage not read can only add enrolled days, never take one away, so beside
        Coverage read that already settles it (no gap, or the one gap allowed) it changes nothing."""
        if not self.not_read:
            return False
        return self.enrolment is None or self.enrolment.gap_counts(allowed_gap_days)

    def unknown_evidence(self, period: Period) -> str:
        """What the row's evidence says of a member whose enrolment is unknown (`unknown`)."""
        # "; " as the rest of the evidence: a reason may hold a comma of its own ("period.start 'Jan 21, 2026' ...").
        unread = "; ".join(f"{item.resource} could not be read ({item.why})" for item in self.not_read)
        read = (
            self.enrolment.evidence(period, "the Coverage read")
            if self.enrolment
            else "no other Coverage of the member's was read"
        )
        return f"enrolment unknown: {unread}; {read}; kept in the measures"


def read_enrolment(resources: Iterable[Mapping[str, Any]], period: Period) -> CoverageRead:
    """The member's enrolment over `period` from the Coverage among their resources. Never raises on data."""
    spans: list[tuple[date, date]] = []
    read = 0
    not_read: list[CoverageNotRead] = []
    not_counted: list[CoverageNotCounted] = []
    for resource in resources:
        if text(resource.get("resourceType")) != "Coverage":
            continue
        reading = _read(resource, period)
        name = f"Coverage/{text(resource.get('id')) or '(no id)'}"
        if reading.not_read is not None:
            not_read.append(CoverageNotRead(name, reading.not_read))
            continue
        read += 1
        if reading.not_counted is not None:
            not_counted.append(CoverageNotCounted(name, reading.not_counted))
        if reading.span is not None:
            spans.append(reading.span)
    if not read:
        return CoverageRead(None, tuple(not_read))
    return CoverageRead(_enrolment(spans, period, tuple(not_counted)), tuple(not_read))


@dataclass(frozen=True)
class _Reading:
    """One Coverage read: the period's days it enrols the member on, why it could not be read, or why it enrols no
    day though it may be dated in the period."""

    span: tuple[date, date] | None = None
    not_read: str | None = None
    not_counted: str | None = None


def _read(coverage: Mapping[str, Any], period: Period) -> _Reading:
    """The Coverage's reading: a dental or vision plan, or one cancelled, a draft or entered in error, enrols no
    day, and is named when its dates may reach into the period (a plan outside it explains no gap)."""
    status = coverage.get("status")
    if status is not None and not (isinstance(status, str) and status in _COUNTED | _NOT_COUNTED):
        return _Reading(not_read=f"status {status!r} is not one FHIR defines")
    span, why = _span(coverage, status, period)
    plan = _no_drug_benefit(coverage)
    if plan is not None:  # whatever its dates say, it enrols no day in a drug benefit: dates not read stop nothing
        if why is None and span is None:
            return _Reading()
        return _Reading(not_counted=f"{plan} coverage {_written_dates(coverage)} is no medical or drug coverage")
    if why is not None:
        return _Reading(not_read=why)
    if status in _NOT_COUNTED:
        said = f"coverage {_written_dates(coverage)} {_STATUS_WORDS[status]}"
        return _Reading(not_counted=said if span is not None else None)
    return _Reading(span=span)


def _written_dates(coverage: Mapping[str, Any]) -> str:
    """The Coverage's dates as written: "2026-01-01 to 2026-12-31", "from 2026-01-01", "to 2026-12-31"."""
    raw = coverage.get("period")
    if raw is not None and not isinstance(raw, Mapping):
        return "whose period is not a period"
    bounds = as_dict(raw)
    start, end = (None if bounds.get(key) is None else _as_written(bounds[key]) for key in ("start", "end"))
    if start and end:
        return f"{start} to {end}"
    if start or end:
        return f"from {start}" if start else f"to {end}"
    return "with no dates"


def _as_written(value: Any) -> str:
    """A date as the Coverage writes it (a value that is no text, as JSON would)."""
    return value if isinstance(value, str) else repr(value)


def _span(coverage: Mapping[str, Any], status: Any, period: Period) -> tuple[tuple[date, date] | None, str | None]:
    """The days the Coverage is dated over, clipped to the period's (None when none of them), or why its dates
    cannot be read."""
    raw = coverage.get("period")
    if raw is None and status is None:
        return None, "no period and no status"
    if raw is not None and not isinstance(raw, Mapping):
        return None, "period is not a period"
    bounds = as_dict(raw)
    start, why = _bound(bounds, "start")
    if why is None:
        end, why = _bound(bounds, "end")
    if why is not None:
        return None, why
    first = period.start if start is None else start[0]  # a start written as a month or a year: its first day
    last = period.end if end is None else end[1]  # an end so written: its last day
    if start is not None and end is not None and last < first:
        return None, f"period ends ({bounds['end']}) before it starts"
    first, last = max(first, period.start), min(last, period.end)
    return ((first, last) if first <= last else None), None


def _no_drug_benefit(coverage: Mapping[str, Any]) -> str | None:
    """The plan the Coverage's type says it is, when a dental or vision plan (`_NO_DRUG_BENEFIT`); else None."""
    codings = [as_dict(c) for c in as_list(as_dict(coverage.get("type")).get("coding"))]
    codes = ((text(c.get("code")) or "").upper() for c in codings if text(c.get("system")) in ACT_CODE_SYSTEMS)
    return next((_NO_DRUG_BENEFIT[code] for code in codes if code in _NO_DRUG_BENEFIT), None)


def _bound(bounds: Mapping[str, Any], key: str) -> tuple[tuple[date, date] | None, str | None]:
    """A period's start or end as the days it can mean (None when open), or why it cannot be read. A payer's
    "no end" written as a far date (9999-12-31) is open."""
    value = bounds.get(key)
    if value is None:
        return None, None
    days = written_days(value)
    if days is not None:
        return days, None
    if key == "end" and _far_date(value):
        return None, None
    return None, f"period.{key} {value!r} is not a date"


def _far_date(value: Any) -> bool:
    """A full date after the years a clinical date can have (`fhirdata.LATEST_YEAR`): a payer's "no end"."""
    if not (isinstance(value, str) and _FULL_DATE.match(value[:10])):
        return False
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return False
    return day.year > LATEST_YEAR


def _enrolment(
    spans: list[tuple[date, date]], period: Period, not_counted: tuple[CoverageNotCounted, ...]
) -> Enrolment:
    """The enrolled days and the gaps the spans leave in the period."""
    gaps, enrolled = [], 0
    day = period.start  # the first day not yet known to be enrolled
    for first, last in sorted(spans):
        if first > day:
            gaps.append((first - day).days)
        if last >= day:
            enrolled += (last - max(first, day)).days + 1
            day = last + timedelta(days=1)
    if day <= period.end:
        gaps.append((period.end - day).days + 1)
    return Enrolment(enrolled, tuple(gaps), not_counted)


def enrolment_not_checked(quality: Quality, mode: str) -> str | None:
    """The run's one summary line when its export holds no Coverage at all (the caller then counts no member as
    enrolment not stated: none could be); None when it holds some."""
    if quality.resources_by_type["Coverage"]:
        return None
    unread = sum(quality.input_files_not_read.values())
    if unread:  # a file not opened may be the Coverage: "the export holds none" would be a claim, not a reading
        files = "1 input file" if unread == 1 else f"{unread} input files"
        return (
            f"enrolment not checked: no Coverage was read, and {files} could not be read in full, which may hold it "
            f"(population.enrolment = {mode})"
        )
    return f"enrolment not checked: the export holds no Coverage (population.enrolment = {mode})"
