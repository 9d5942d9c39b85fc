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


@dataclass(frozen=True)
class _Plan:
    """A plan that pays for no prescriptions, as the evidence of a gap names it: "dental coverage … is no medical or
    drug coverage"."""

    name: str  # "dental", "Medicare Part B"
    is_not: str  # "medical or drug coverage"


_DENTAL = _Plan("dental", "medical or drug coverage")
# Coverage types (HL7 ActCode, under any of its spellings, sent_twice.ACT_CODE_SYSTEMS, its OID too: the insurance
# policy and program codes CARIN's Coverage carries, its dental example DENTAL) of a plan that pays for no
# prescriptions: dental and vision. The measures count members enrolled with a drug benefit, so such a plan is read
# and enrols no day, as a cancelled one; a plan of any other type, or none stated, enrols as before.
_NO_DRUG_BENEFIT = {"DENTAL": _DENTAL, "DENTPRG": _DENTAL, "VISPOL": _Plan("vision", "medical or drug coverage")}
# Medicare Parts A and B pay for hospital and clinic care, and no outpatient prescription (Part B's drugs are given in
# a clinic, none of the pharmacy fills the measures count): a Coverage of Part A or B alone enrols no day either.
# CMS's Blue Button (CARIN's Coverage) sends one Coverage per part, its class a group "Medicare" and a plan "Part A";
# US Core types Parts A and B by the Source of Payment Typology as 121 (Medicare FFS), Part D as 122, Medicare
# Advantage as 111-113. A Coverage is read as Part A or B only when it says so, names Medicare (a SOPT code of its
# category 1, the word in its classes, type or payor: a company's "Auto Parts A/S" is no Medicare part), and says
# nothing of a drug benefit (Part C or D, Medicare Advantage, an Rx class, a drug type, words of drugs or pharmacy):
# Part D, an MA-PD plan, or a Medicare Coverage naming no part (SOPT 1 or 12, a group "Medicare" alone) may pay for
# the fills, and enrols.
_SOPT_SYSTEMS = frozenset(
    {
        "https://nahdo.org/sopt",
        "http://nahdo.org/sopt",
        "https://www.nahdo.org/sopt",
        "http://www.nahdo.org/sopt",
        "urn:oid:2.16.840.1.113883.3.221.5",
    }
)
_SOPT_PARTS_A_B = "121"  # Medicare FFS: US Core's code for Parts A and B
# Medicare managed care (Advantage: 11, 111-113, 119), the drug benefit (122), a dual-eligible plan (14) and
# Medicare's pharmacy benefit manager (191): each may pay for prescriptions.
_SOPT_DRUG_OR_ADVANTAGE = frozenset({"11", "111", "112", "113", "119", "122", "14", "191"})
_ACT_DRUG = frozenset({"DRUGPOL"})
_COVERAGE_CLASS_PLAN = frozenset({"group", "subgroup", "plan", "subplan", "class", "subclass"})
_COVERAGE_CLASS_RX = frozenset({"rxbin", "rxpcn", "rxid", "rxgroup"})  # a pharmacy benefit's card fields
# "Part A", "Parts A and B", "part a & b", "Parts A, B and D": the letters named.
_PARTS = re.compile(r"\bparts?\s+([a-d](?:\s*(?:,|and|&|/|\+)\s*(?:parts?\s+)?[a-d])*)\b", re.IGNORECASE)
_DRUG_WORDS = re.compile(r"\b(?:drugs?|rx|pharmacy|prescriptions?|advantage|ma-?pd)\b", re.IGNORECASE)
_PART_LETTER = re.compile(r"\b[a-d]\b")
_MEDICARE = re.compile(r"\bmedicare\b", re.IGNORECASE)
# A Medicare supplement (Medigap) plan pays what Parts A and B leave, a Medicare MSA plan (Advantage with a savings
# account, never a drug benefit) the care of its deductible: neither pays for an outpatient prescription, so each
# enrols no day, read only as it names itself and no drug benefit (`_names_drug_benefit`) or Part C or D. Medigap by
# SOPT 523 (Medicare supplemental policy), its words, or a standard plan letter sold today, F, G, K, L, M or N, beside
# Medicare (a health plan's own "Plan G", or a commercial "Supplemental Plan N", is no Medigap); MSA by SOPT 123
# alone. Plans A to D are sold too but left out of the letters: "Medicare Plan D" is as often the drug benefit's Part D
# (and "Plan A", "Plan B" its Parts A and B) written loosely, and a Part D plan read as Medigap would drop a member
# with a drug benefit from the measures; a Medigap Plan A to D is still read by SOPT 523 or its words.
_MEDIGAP = _Plan("Medicare supplement (Medigap)", "drug coverage")
_MSA = _Plan("Medicare MSA", "drug coverage")
_SOPT_PLANS = {"523": _MEDIGAP, "123": _MSA}
_MEDIGAP_WORDS = re.compile(r"\b(?:medigap|medicare\s+supplement(?:al)?)\b", re.IGNORECASE)
_MEDIGAP_LETTER = re.compile(r"\bplan\s+[fgklmn]\b", re.IGNORECASE)
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
    """The Coverage's reading: one cancelled, a draft or entered in error (named so, whatever plan it is), a dental
    or vision plan, Medicare Part A or B alone, a Medigap or MSA plan, enrols no day, and is named when its dates may
    reach into the period (a plan outside it explains no gap)."""
    status = coverage.get("status")
    if status is not None and not (isinstance(status, str) and status in _COUNTED | _NOT_COUNTED):
        return _Reading(not_read=f"status {status!r} is not one FHIR defines")
    span, why = _span(coverage, status, period)
    plan = _no_drug_benefit(coverage)
    if why is not None and plan is None:
        return _Reading(not_read=why)
    # Named when its dates reach into the period, or (a plan's) cannot be read: whatever they say, it enrols no day.
    named = span is not None or why is not None
    if status in _NOT_COUNTED:  # first: a cancelled plan covers nothing, whatever plan it is
        said = f"coverage {_written_dates(coverage)} {_STATUS_WORDS[status]}"
        return _Reading(not_counted=said if named else None)
    if plan is not None:
        said = f"{plan.name} coverage {_written_dates(coverage)} is no {plan.is_not}"
        return _Reading(not_counted=said if named else None)
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


def _no_drug_benefit(coverage: Mapping[str, Any]) -> _Plan | None:
    """The plan the Coverage says it is, when one that pays for no prescriptions: a dental or vision plan by its type
    (`_NO_DRUG_BENEFIT`), or Medicare Part A or B alone, a Medigap or an MSA plan (`_medicare_plan`); else None."""
    codings = [as_dict(c) for c in as_list(as_dict(coverage.get("type")).get("coding"))]
    act = [(text(c.get("code")) or "").upper() for c in codings if text(c.get("system")) in ACT_CODE_SYSTEMS]
    plan = next((_NO_DRUG_BENEFIT[code] for code in act if code in _NO_DRUG_BENEFIT), None)
    return plan if plan is not None else _medicare_plan(coverage, codings, act)


def _medicare_plan(coverage: Mapping[str, Any], codings: list[Mapping[str, Any]], act: list[str]) -> _Plan | None:
    """Medicare Part A, Part B, or both, when the Coverage says it is that alone (its plan or group, its type's words,
    or SOPT 121), names Medicare (`_names_medicare`) and no drug benefit; else a Medigap or MSA plan naming no drug
    benefit and no Part C or D (`_supplement`); else None. `act`: its type's ActCode codes, in upper case."""
    sopt = {text(c.get("code")) for c in codings if text(c.get("system")) in _SOPT_SYSTEMS}
    classes = [as_dict(c) for c in as_list(coverage.get("class"))]
    plan_words = [w for c in classes if _class_types(c) & _COVERAGE_CLASS_PLAN for w in _texts(c, "value", "name")]
    type_words = [*_texts(as_dict(coverage.get("type")), "text"), *(w for c in codings for w in _texts(c, "display"))]
    if _names_drug_benefit(act, sopt, classes, [*plan_words, *type_words]):
        return None
    medicare = _names_medicare(coverage, sopt, [*plan_words, *type_words])
    medicare_type_words = [w for w in type_words if _MEDICARE.search(w)]  # "Part B" alone in a type says too little
    parts = {p for w in (*plan_words, *medicare_type_words) for p in _parts(w)}
    if parts - {"a", "b"}:  # Part C or D named: it pays for prescriptions
        return None
    if not parts and _SOPT_PARTS_A_B in sopt:
        parts = {"a", "b"}
    if parts and medicare:  # "Part B" of no Medicare named is some other plan's ("Auto Parts A/S" a company's name)
        return _Plan("Medicare Part " + " and ".join(part.upper() for part in sorted(parts)), "drug coverage")
    return _supplement(sopt, [*plan_words, *type_words], medicare)


def _supplement(sopt: set[str | None], words: list[str], medicare: bool) -> _Plan | None:
    """A Medigap plan (SOPT 523, its words, or a plan letter F, G, K, L, M or N beside Medicare) or a Medicare MSA plan
    (SOPT 123) the Coverage says it is; else None."""
    plan = next((plan for code, plan in _SOPT_PLANS.items() if code in sopt), None)
    if plan is not None or any(_MEDIGAP_WORDS.search(w) for w in words):
        return plan or _MEDIGAP
    return _MEDIGAP if medicare and any(_MEDIGAP_LETTER.search(w) for w in words) else None


def _names_drug_benefit(
    act: list[str], sopt: set[str | None], classes: list[Mapping[str, Any]], words: list[str]
) -> bool:
    """Whether the Coverage names a benefit that may pay for prescriptions: a drug policy (ActCode DRUGPOL), Medicare
    Advantage or the drug benefit by SOPT, a pharmacy card's class (rxbin, ...), or words of drugs or Advantage."""
    return bool(
        _ACT_DRUG.intersection(act)
        or sopt & _SOPT_DRUG_OR_ADVANTAGE
        or any(_class_types(c) & _COVERAGE_CLASS_RX for c in classes)
        or any(_DRUG_WORDS.search(w) for w in words)
    )


def _names_medicare(coverage: Mapping[str, Any], sopt: set[str | None], words: list[str]) -> bool:
    """Whether the Coverage says it is Medicare: a SOPT code of its Medicare category (1, 1xx), or the word in its
    classes' or type's words (Blue Button's group "Medicare") or its payor's name."""
    payors = [w for p in as_list(coverage.get("payor")) for w in _texts(as_dict(p), "display")]
    return any(code.startswith("1") for code in sopt if code) or any(_MEDICARE.search(w) for w in [*words, *payors])


def _class_types(entry: Mapping[str, Any]) -> set[str]:
    """The codes of a Coverage.class entry's type ("group", "plan", "rxbin"), in lower case."""
    codings = (as_dict(c) for c in as_list(as_dict(entry.get("type")).get("coding")))
    return {code.lower() for c in codings if (code := text(c.get("code")))}


def _texts(element: Mapping[str, Any], *keys: str) -> list[str]:
    """The text an element holds under these keys (a class's value and name, a coding's display)."""
    return [word for key in keys if (word := text(element.get(key)))]


def _parts(words: str) -> set[str]:
    """The Medicare parts the words name, as lower-case letters: "Parts A and B" -> {"a", "b"}."""
    return {letter for match in _PARTS.finditer(words) for letter in _PART_LETTER.findall(match.group(1).lower())}


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
