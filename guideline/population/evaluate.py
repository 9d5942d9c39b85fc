"""evaluate_patient: one patient's resources → their row in the review (the one function both engines call)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from guideline.config import GuidelineConfig
from guideline.exclusions import age_in_years, hospice_not_counted
from guideline.fhirdata import a_date, as_dict, text, written_days
from guideline.population.attribution import PCP_NOT_IN_DIRECTORY, attribute
from guideline.population.claims import with_claims_read
from guideline.population.enrolment import Enrolment, read_enrolment
from guideline.population.exclusions import exclusion_reason, with_export_places
from guideline.population.facts import patient_facts
from guideline.population.measures import MEASURES, outcomes, partial_evidence, partial_measures
from guideline.population.model import Directory, Period
from guideline.population.procedures import undated_measure_procedures, unread_procedure_systems
from guideline.population.quality import Quality
from guideline.population.relayed import relayed_read_once
from guideline.population.standing import standing_findings
from guideline.population.summary import summarise
from guideline.population.versions import newest_versions
from guideline.record import PatientRecord, build_record
from guideline.terminology import load_terminology

# The patients table, in order: (column, kind). Kinds: str, date, float, int, bool. Both engines write exactly this.
PATIENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("patient_id", "str"),
    ("patient_name", "str"),
    ("birth_date", "date"),
    ("pcp_id", "str"),
    ("pcp_name", "str"),
    ("practice_id", "str"),
    ("practice_name", "str"),
    ("attribution", "str"),
    ("source", "str"),
    ("episode_start", "date"),
    ("episode_end", "date"),
    ("avg_mme", "float"),
    ("peak_mme", "float"),
    ("opioid_fills", "int"),
    ("days_supply", "float"),
    ("prescribers", "int"),
    ("pharmacies", "int"),
    ("cob_overlap_days", "int"),
    # The member's enrolment over the period, from their Coverage (guideline.population.enrolment); null when no
    # Coverage of theirs could be read (enrolment not stated).
    ("enrolled_days", "int"),
    ("enrolment_gaps", "int"),
    ("longest_enrolment_gap_days", "int"),
    *((f"{m.column}_{part}", "bool") for m in MEASURES for part in ("den", "num")),
    ("partial", "str"),
    ("excluded", "str"),
    ("findings", "str"),
    ("evidence", "str"),
)


@dataclass
class PatientOutcome:
    """A cohort patient's row (None outside the cohort) and what their data could not tell us."""

    row: dict[str, Any] | None
    quality: Quality = field(default_factory=Quality)


def _number(value: Decimal | None) -> float | None:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)) if value is not None else None


# Spec 3: dates are the date part of the timestamp as written (no time-zone conversion). The record reader converts
# timestamps to the configured zone, so every field the measures date things by is cut to its date part first:
# top-level timestamps and the period starts and ends nested in them (paths of keys; "*" is each item of a list).
_DATED_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "MedicationDispense": (("whenHandedOver",), ("whenPrepared",)),
    "MedicationRequest": (
        ("authoredOn",),
        ("dispenseRequest", "validityPeriod", "start"),
        ("dispenseRequest", "validityPeriod", "end"),
        ("dosageInstruction", "*", "timing", "repeat", "boundsPeriod", "start"),
        ("dosageInstruction", "*", "timing", "repeat", "boundsPeriod", "end"),
    ),
    "Condition": (("recordedDate",), ("onsetDateTime",), ("abatementDateTime",), ("onsetPeriod", "start")),
    "Procedure": (("performedDateTime",), ("performedPeriod", "start"), ("performedPeriod", "end")),
    "Encounter": (("period", "start"), ("period", "end")),
}

# A result keeps its written time of day, with its offset dropped (read as local time, so its written date is kept
# too): a lab's correction sent as a result of its own replaces the result of the same sample, known by its
# collection time (guideline.uds), and cut to dates every correction read as of another sample, so the standing
# review named "an unexpected urine drug test result" for a positive the lab had corrected, where the card did not.
_TIMED_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Observation": (("effectiveDateTime",), ("issued",), ("effectivePeriod", "start")),
}
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}(?::?\d{2})?)$")


def _local_part(value: Any) -> Any:
    """A timestamp's written date and time with no offset ("2026-03-31T23:30:00-05:00" → "2026-03-31T23:30:00"); its
    date alone when Python cannot hold the time the record read; one the record reads as no date, as it is."""
    if not _a_timestamp(value):
        return value
    local = _OFFSET.sub("", value.strip())
    try:
        datetime.fromisoformat(local)
    except ValueError:
        return value[:10]
    return local


def _date_part(value: Any) -> Any:
    """A timestamp's written date ("2026-03-31T23:30:00-05:00" → "2026-03-31"); anything else as it is."""
    return value[:10] if _a_timestamp(value) else value


def _a_timestamp(value: Any) -> bool:
    """Whether `value` is a timestamp the record's own parser reads as a date (`a_date`), so one to cut."""
    # Cut, "2026-03-02T10:00:00+25:00" (an offset no clock has) was a dated fill, drug test or result here while the
    # point of care read no date and named it; left whole, the record reads no date here too.
    return isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and a_date(value) is not None


def _cut(node: Any, path: tuple[str, ...], part: Callable[[Any], Any] = _date_part) -> Any:
    """`node` with the timestamp at `path` cut to its date (or `part` of it), copying only what changes (the export
    stays intact)."""
    if not path:
        return part(node)
    key, rest = path[0], path[1:]
    if key == "*":
        if not isinstance(node, list):
            return node
        items = [_cut(item, rest, part) for item in node]
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if not isinstance(node, Mapping) or key not in node:
        return node
    value = _cut(node[key], rest, part)
    return node if value is node[key] else {**node, key: value}


def _as_written(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    # text(): a resourceType sent as a list or an object must not fail the patient (it cannot be a dict key).
    kind = text(resource.get("resourceType")) or ""
    if kind == "MedicationDispense":
        resource = _without_partial_fill_dates(resource)
    for path in _DATED_PATHS.get(kind, ()):
        resource = _cut(resource, path)
    for path in _TIMED_PATHS.get(kind, ()):
        resource = _cut(resource, path, _local_part)
    return resource


_FILL_DATES = ("whenHandedOver", "whenPrepared")


def _names_no_day(value: Any) -> bool:
    """A date written to the month or the year only ("2026-02", "2026"): the record reader reads it as the first
    day, which would put a fill on a day it may not have been made."""
    days = written_days(value)
    return days is not None and days[0] != days[1]


def _without_partial_fill_dates(fill: Mapping[str, Any]) -> Mapping[str, Any]:
    """The fill without a handed-over or prepared date that names no day: a fill dated by a month or a year is
    no dated fill (counted in `fills_without_date` when it has no other date), never a fill on the 1st."""
    if not any(_names_no_day(fill.get(key)) for key in _FILL_DATES):
        return fill
    return {key: value for key, value in fill.items() if not (key in _FILL_DATES and _names_no_day(value))}


def _earliest_medication_day(record: PatientRecord) -> str | None:
    """The earliest day of the patient's fills (claims read as fills included) and orders, as ISO text: the run
    takes the earliest over every patient to say how far back the export's medicines go."""
    days = [d.date() for f in record.dispenses if (d := f.when_handed_over or f.when_prepared) is not None]
    days += [o.authored_on.date() for o in record.orders if o.authored_on is not None and not o.is_draft]
    return min(days).isoformat() if days else None


def _index(resources: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    index: dict[str, Mapping[str, Any]] = {}
    for resource in resources:
        kind, ident = text(resource.get("resourceType")), text(resource.get("id"))
        if kind and ident:
            index.setdefault(f"{kind}/{ident}", resource)
    return index


_NOT_ADULT = {
    "minor": "under 18",
    "unsettled": "age not settled (possibly under 18)",
    "no-patient": "no Patient resource in the export (age not known)",
    "unreadable": "birth date not readable (age not known)",
}
# What the patient's row says of an age that cannot be known at all, and why they are in no measure.
_UNKNOWN_AGE = {
    "no-patient": "their fills or orders are in the export but their Patient resource is not, so their age is not "
    "known: left out of every measure (they count adults only)",
    "unreadable": "birth date recorded as {shown}, which cannot be read as a date, so their age is not known: left "
    "out of every measure (they count adults only)",
}


def _written_birth(patient: Mapping[str, Any] | None) -> tuple[date, date] | None:
    """The days the patient's `birthDate` can mean, as written (a year or a month is many days)."""
    return written_days(patient.get("birthDate")) if patient else None


def _age(birth: date | None, written: tuple[date, date] | None, period: Period) -> str:
    """The patient's age on the period's first day: "adult" (18 or older), "minor", or "unsettled" when a birth date
    written as a year or a month allows both. PQA counts adults only, and an age the data cannot settle is no adult:
    read as its first day, "2008" made a probable 17-year-old an adult in the OHD and IOP denominators and in a
    letter. No birth date at all still never excludes, as at the point of care (an EHR that sends none is no
    evidence of a child)."""
    if written is None:
        return "adult" if birth is None or age_in_years(birth, period.start) >= 18 else "minor"
    youngest, oldest = age_in_years(written[1], period.start), age_in_years(written[0], period.start)
    if youngest >= 18:
        return "adult"
    return "minor" if oldest < 18 else "unsettled"


def _known_age(age: str, patient: Mapping[str, Any] | None, read: bool) -> str:
    """The age as `_age` read it, or why it cannot be known: no Patient resource ("no-patient"), or a birth date
    written in a form no reader takes ("01/15/2010", "2010-02-30": "unreadable"). PQA counts adults only, and a
    patient who cannot be shown to be 18 is in no denominator; read as adults, a 15-year-old was in OHD and in a
    letter. A Patient with no birthDate at all is still read as an adult, as at the point of care."""
    if patient is None:
        return "no-patient"
    written = patient.get("birthDate")
    if not read and written is not None and (not isinstance(written, str) or written.strip()):
        return "unreadable"
    return age


def _unsettled_age_text(patient: Mapping[str, Any] | None, period: Period) -> str:
    """The patient's evidence for an age the birth date cannot settle, naming the date as written."""
    shown = text(as_dict(patient).get("birthDate")) or "?"
    return (
        f"birth date recorded as {shown} only: 18 or older on {period.start} cannot be told, so the patient is left "
        "out of every measure (they count adults only)"
    )


def _gap_allowance(config: GuidelineConfig) -> int | None:
    """The one gap `population.enrolment = continuous` allows, in days; None under `name` (no gap is allowed for)."""
    settings = config["population"]
    return settings["enrolment_gap_days"] if settings["enrolment"] == "continuous" else None


def _not_enrolled(
    known: Enrolment | None, unknown: bool, allowed: int | None, patient_id: str, quality: Quality
) -> Enrolment | None:
    """The enrolment that leaves a member in the measures out of them (`population.enrolment = continuous`,
    `allowed` the one gap it allows, and more than one gap, or one longer), else None; each gap counted where the
    setting puts it. A member whose enrolment is `unknown` (`CoverageRead.unknown`) is kept in and named: a Coverage
    not read may be the one that fills the gap, so the data does not say they were not enrolled. `known` is the
    enrolment otherwise (None: not stated)."""
    if unknown:
        quality.members_enrolment_unknown[patient_id] += 1  # in the measures: the dashboard marks every rate
        return None
    if known is None:
        quality.members_enrolment_not_stated += 1
        return None
    if not known.gaps:
        return None
    if allowed is None:  # name: in the spec's denominators, the dashboard marks every rate
        quality.members_enrolled_part_of_period += 1
        return None
    if known.continuous(allowed):  # continuous: the one gap it allows
        quality.members_enrolment_gap_allowed += 1
        return None
    quality.members_not_continuously_enrolled += 1
    return known


def _not_enrolled_text(enrolment: Enrolment, period: Period, allowed: int | None) -> str:
    """Why the row of a member left out for their enrolment (under `continuous`, with its allowance) is in no
    measure."""
    return (
        f"{enrolment.evidence(period)}; population.enrolment = continuous allows one gap of up to {allowed} days, "
        "so the member is in no measure"
    )


def _enrolment_columns(enrolment: Enrolment | None) -> dict[str, int | None]:
    """The row's enrolment columns: null when enrolment is not stated or unknown; the longest gap null when there is
    none."""
    if enrolment is None:
        return {"enrolled_days": None, "enrolment_gaps": None, "longest_enrolment_gap_days": None}
    return {
        "enrolled_days": enrolment.enrolled_days,
        "enrolment_gaps": len(enrolment.gaps),
        "longest_enrolment_gap_days": enrolment.longest_gap,
    }


def _left_out_of_the_measures(quality: Quality) -> None:
    """Forget the items named only while the patient is in the measures, counted before that was known: a patient in
    no measure, or left out of them, has nothing to name them for (fills possibly sent twice included: in no rate,
    they can raise none)."""
    quality.hospice_claims_undated.clear()
    quality.claim_diagnoses_undated.clear()
    quality.claim_fills_told_apart_by_number.clear()
    quality.fills_possibly_sent_twice.clear()
    quality.results_without_date = 0


def evaluate_patient(
    patient_id: str,
    resources: list[Mapping[str, Any]],
    period: Period,
    config: GuidelineConfig,
    today: date,
    directory: Directory,
) -> PatientOutcome:
    """Build the patient's record with PainPlan's reader, read their fills with guideline.fills, score the nine
    measures, attribute them, and run the engine's standing-risk review at the period end. Never raises on data."""
    quality = Quality()
    resources = newest_versions(resources, quality)
    resources = [_as_written(r) for r in with_claims_read(resources, quality, patient_id)]
    terms = load_terminology(config)
    zone = ZoneInfo(config["timezone"])
    # A visit's place joined to the export's Location by reference: Bulk exports send Locations in their own file.
    record = with_export_places(build_record(resources, zone), directory.places)
    quality.unreadable_resources += len(record.problems)
    quality.medication_data_from = _earliest_medication_day(record)
    raw = _index(resources)
    # An HIE's copy of the EHR's order, which the export marks by `meta.source`, read once: for the measures and the
    # standing-risk review alike.
    relayed = relayed_read_once(record, raw, terms, config, quality)
    record = relayed.record
    facts = patient_facts(patient_id, record, raw, period, directory, config, terms, quality)
    if facts is None:
        _left_out_of_the_measures(quality)
        return PatientOutcome(None, quality)
    quality.procedures_not_read_by_system.update(unread_procedure_systems(record, period, config))
    patient = raw.get(f"Patient/{patient_id}")
    birth = record.patient.birth_date if record.patient else None
    written = _written_birth(patient)
    age = _known_age(_age(birth, written, period), patient, birth is not None or written is not None)
    quality.patients_age_unsettled += age == "unsettled"
    quality.patients_without_patient_resource += age == "no-patient"
    quality.patients_birth_date_unreadable += age == "unreadable"
    if written is not None and written[0] != written[1]:
        birth = None  # a year or a month names no day: its first day is no birth date to show
    adult = age == "adult"
    coverage = read_enrolment(resources, period)
    excluded = exclusion_reason(record, raw, period, config, terms)
    allowed = _gap_allowance(config)
    unknown = coverage.unknown(allowed)  # the one reading of it: the counts, the evidence and the columns follow it
    known = None if unknown else coverage.enrolment  # an enrolment not known gives no figures that look known
    unenrolled = _not_enrolled(known, unknown, allowed, patient_id, quality) if adult and not excluded else None
    quality.coverage_not_read.update(str(item) for item in coverage.not_read)
    if unenrolled:
        excluded = f"not continuously enrolled ({unenrolled.gap_text()})"
    if excluded or age != "adult":
        _left_out_of_the_measures(quality)
    else:
        unsure = hospice_not_counted(record, terms, period.history_days, period.end)
        if unsure:
            quality.hospice_not_counted[patient_id] += len(unsure)
        # Counted only here, as `_left_out_of_the_measures` forgets what it names: a patient the measures leave out
        # has no test or hospice day a rate could miss.
        quality.procedures_without_date += undated_measure_procedures(record, terms)
    summary = summarise(facts, period, adult, excluded)
    attribution = attribute(patient, summary.fills, directory)
    if attribution.kind == "none":
        quality.unattributed_patients += 1
    elif attribution.kind == "prescriber":
        quality.attributed_to_prescriber += 1
    elif attribution.kind == "practice":
        quality.attributed_to_practice += 1
    if attribution.pcp_not_in_directory:
        quality.pcp_not_in_directory[attribution.kind.removesuffix(PCP_NOT_IN_DIRECTORY)] += 1
    scored = outcomes(summary)
    now = datetime.combine(min(period.end, today), time(12, 0), tzinfo=zone)
    standing = standing_findings(record, config, now, terms)
    if standing.uncounted_treatment:  # on any row the finding is on, in the measures or not: it is on the row
        quality.oud_treatment_not_counted[patient_id] += len(standing.uncounted_treatment)
    evidence: dict[str, list[str]] = {}
    if unenrolled:
        evidence["excluded"] = [_not_enrolled_text(unenrolled, period, allowed)]
    elif excluded:
        evidence["excluded"] = [excluded]
    elif age == "unsettled":
        evidence["excluded"] = [_unsettled_age_text(patient, period)]
    elif age in _UNKNOWN_AGE:
        evidence["excluded"] = [_UNKNOWN_AGE[age].format(shown=text(as_dict(patient).get("birthDate")) or "?")]
    elif not adult:
        evidence["excluded"] = ["under 18 on the first day of the period"]
    for measure in MEASURES:
        if scored[measure.id][0]:
            evidence[measure.id] = measure.evidence(summary)
    if unknown:
        evidence["enrolment"] = [coverage.unknown_evidence(period)]
    elif known and known.gaps and not unenrolled:
        evidence["enrolment"] = [known.evidence(period)]
    # Both orders read: the patient's MME may count one order twice; both fills read: an early refill, and the MME of
    # its days counted twice.
    for key, said in relayed.unsure.items():
        evidence[key] = list(said)
    evidence.update(standing.evidence)
    partial = partial_measures(summary)
    if partial:
        evidence["partial"] = partial_evidence(summary, partial)
    row: dict[str, Any] = {
        "patient_id": patient_id,
        "patient_name": record.patient.name if record.patient else None,
        "birth_date": birth,
        "pcp_id": attribution.clinician_id,
        "pcp_name": directory.names.get(f"Practitioner/{attribution.clinician_id}")
        if attribution.clinician_id
        else None,
        "practice_id": attribution.practice_id,
        "practice_name": directory.names.get(f"Organization/{attribution.practice_id}")
        if attribution.practice_id
        else None,
        "attribution": attribution.kind,
        "source": facts.source,
        "episode_start": summary.episode[0] if summary.episode else None,
        "episode_end": summary.episode[1] if summary.episode else None,
        "avg_mme": _number(summary.avg_mme),
        "peak_mme": _number(summary.peak_mme),
        "opioid_fills": len(summary.fills),
        "days_supply": _number(summary.days_supply),
        "prescribers": len(summary.prescribers),
        "pharmacies": len(summary.pharmacies),
        "cob_overlap_days": summary.cob_overlap_days,
        **_enrolment_columns(known),
        "partial": ",".join(partial) or None,
        "excluded": excluded or (_NOT_ADULT[age] if not adult else None),
        "findings": ",".join(standing.findings),
        "evidence": json.dumps(evidence, ensure_ascii=False, sort_keys=True),
    }
    for measure in MEASURES:
        den, num = scored[measure.id]
        row[f"{measure.column}_den"] = den
        row[f"{measure.column}_num"] = num
    return PatientOutcome({name: row.get(name) for name, _ in PATIENT_COLUMNS}, quality)
