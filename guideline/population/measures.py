"""The nine PQA opioid measures, each defined once over a patient's period summary (spec 5)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from guideline.mme import format_mme
from guideline.population.actors import clinician_name, pharmacy_name
from guideline.population.facts import PatientFacts
from guideline.population.model import OpioidFill
from guideline.population.summary import PeriodSummary, mme_text
from guideline.supply import one_place
from guideline.words import number_of

HIGH_DOSAGE_MME = Decimal(90)
MULTIPLE_PROVIDERS = 4
COB_OVERLAP_DAYS = 30
INITIAL_HIGH_MME = Decimal(50)
INITIAL_LONG_DAYS = Decimal(7)
LONG_TERM_DAYS = Decimal(90)


@dataclass(frozen=True)
class Measure:
    id: str
    name: str
    better: str  # "lower" | "higher"
    denominator: str
    numerator: str
    in_denominator: Callable[[PeriodSummary], bool]
    in_numerator: Callable[[PeriodSummary], bool]  # read only where in_denominator holds
    evidence: Callable[[PeriodSummary], list[str]]

    @property
    def column(self) -> str:
        return column_id(self.id)


def column_id(measure_id: str) -> str:
    """`IOP-HD` → `iop_hd` (the patients table's column stem)."""
    return measure_id.lower().replace("-", "_")


def _fill_lines(summary: PeriodSummary) -> list[str]:
    return [_fill_line(f, summary.facts) for f in summary.fills]


def _fill_line(fill: OpioidFill, facts: PatientFacts) -> str:
    # Semicolons between the parts: a clinician's name has commas of its own ("Dr. Jane Q. Smith, MD").
    who = [f"prescriber {clinician_name(fill.prescriber, facts.directory, facts.displays)}"]
    who.append(f"pharmacy {pharmacy_name(fill.pharmacy, facts.directory, facts.displays)}")
    if fill.start != fill.filled:
        who.append(f"supply starts {fill.start} after the earlier fill of the same drug")
    return f"{fill.mme_text} ({'; '.join(who)})"


def _base_ohd(s: PeriodSummary) -> bool:
    return s.eligible and s.fill_dates >= 2 and s.days_supply >= 15


def _ohd(s: PeriodSummary) -> bool:
    return s.avg_mme is not None and s.avg_mme >= HIGH_DOSAGE_MME


def _omp(s: PeriodSummary) -> bool:
    return len(s.prescribers) >= MULTIPLE_PROVIDERS and len(s.pharmacies) >= MULTIPLE_PROVIDERS


def _cob(s: PeriodSummary) -> bool:
    return s.benzo_fill_dates >= 2 and s.cob_overlap_days >= COB_OVERLAP_DAYS


def _iop(s: PeriodSummary) -> bool:
    return s.eligible and s.initiation is not None


def _amo_den(s: PeriodSummary) -> bool:
    return s.eligible and s.year_days_supply >= LONG_TERM_DAYS


def _nal_den(s: PeriodSummary) -> bool:
    at_risk = _base_ohd(s) and (_ohd(s) or _cob(s))
    return s.eligible and (at_risk or s.facts.oud_diagnosis is not None)


def _average_evidence(s: PeriodSummary) -> list[str]:
    if s.episode is None:
        return ["no fill in the period has a days' supply, so no average could be calculated"]
    low, high = s.episode
    days = (high - low).days + 1
    divisor = s.average_days or 0
    parts = " + ".join(
        f"{format_mme(f.mme)} × {f.days_within(low, high)} days"
        for f in s.fills
        if f.mme is not None and f.days_within(low, high)
    )
    span = f"the episode {low} to {high} ({days} days"
    if s.days_without_mme:
        span += f"; {s.days_without_mme} days covered only by fills with no MME are left out"
    if s.avg_mme is None:
        return [*_fill_lines(s), f"{span}): no fill in it has an MME, so no average could be calculated"]
    return [
        *_fill_lines(s),
        f"Average daily MME over {span}): ({parts or '0'}) ÷ {divisor} = "
        f"{mme_text(s.avg_mme)}; highest single day {mme_text(s.peak_mme)}",
    ]


def _names(references: tuple[str, ...], name: Callable[..., str], facts: PatientFacts) -> str:
    return "; ".join(name(r, facts.directory, facts.displays) for r in references) or "none known"


def _provider_evidence(s: PeriodSummary) -> list[str]:
    return [
        f"{number_of(len(s.prescribers), 'prescriber')} ({_names(s.prescribers, clinician_name, s.facts)}) and "
        f"{number_of(len(s.pharmacies), 'pharmacy', 'pharmacies')} ({_names(s.pharmacies, pharmacy_name, s.facts)}) "
        f"across {number_of(len(s.fills), 'opioid fill')} in the period",
        *_fill_lines(s),
    ]


def _cob_evidence(s: PeriodSummary) -> list[str]:
    return [
        f"benzodiazepine filled on {s.benzo_fill_dates} different dates; {s.cob_overlap_days} days in the period "
        "covered by both an opioid and a benzodiazepine supply",
        *_fill_lines(s),
    ]


def _initiation_evidence(s: PeriodSummary) -> list[str]:
    if s.initiation is None:
        return []
    return [
        f"new opioid start on {s.initiation.filled} (no opioid supply in the 90 days before); first 3 days: "
        f"{mme_text(s.initiation_mme)} in total, {one_place(s.initiation_days)} days' supply"
        + (", includes an extended-release/long-acting opioid" if any(f.er_la for f in s.initiation_fills) else ""),
        *(_fill_line(f, s.facts) for f in s.initiation_fills),
    ]


def _amo_evidence(s: PeriodSummary) -> list[str]:
    tests = s.facts.urine_tests
    return [
        f"{one_place(s.year_days_supply)} days' opioid supply in the 12 months to {s.period.end}; "
        + (_last_test(tests[-1]) if tests else "no urine drug test in those 12 months")
    ]


def _last_test(written: str) -> str:
    """The year's last urine drug test by its date as written: "on 2026-03-10", or "dated 2026-05" for a month
    or a year only, never a day it may not have been."""
    return f"urine drug test {'on' if len(written) == 10 else 'dated'} {written}"


def _nal_evidence(s: PeriodSummary) -> list[str]:
    reasons = []
    if _base_ohd(s) and _ohd(s):
        reasons.append(f"average {mme_text(s.avg_mme)}")
    if _base_ohd(s) and _cob(s):
        reasons.append("opioid with a benzodiazepine")
    if s.facts.oud_diagnosis:
        reasons.append(s.facts.oud_diagnosis)
    held = s.facts.naloxone
    return [
        f"at risk: {'; '.join(reasons)}; "
        + (f"naloxone filled or ordered on {held[-1]}" if held else "no naloxone filled or ordered in 12 months")
    ]


MEASURES: tuple[Measure, ...] = (
    Measure(
        "OHD",
        "Opioids at high dosage",
        "lower",
        "≥ 2 opioid fills on different dates and ≥ 15 days' supply in the period",
        "average daily MME over the episode ≥ 90",
        _base_ohd,
        _ohd,
        _average_evidence,
    ),
    Measure(
        "OMP",
        "Opioids from multiple providers",
        "lower",
        "as OHD",
        "≥ 4 prescribers and ≥ 4 pharmacies",
        _base_ohd,
        _omp,
        _provider_evidence,
    ),
    Measure(
        "OHDMP",
        "Opioids at high dosage from multiple providers",
        "lower",
        "as OHD",
        "both OHD and OMP",
        _base_ohd,
        lambda s: _ohd(s) and _omp(s),
        lambda s: [*_average_evidence(s)[-1:], *_provider_evidence(s)[:1]],
    ),
    Measure(
        "COB",
        "Concurrent opioid and benzodiazepine",
        "lower",
        "as OHD",
        "≥ 2 benzodiazepine fills on different dates and ≥ 30 days of overlap in the period",
        _base_ohd,
        _cob,
        _cob_evidence,
    ),
    Measure(
        "IOP-HD",
        "Initial opioid prescribing at high dosage",
        "lower",
        "a new opioid start in the period (no opioid supply in the 90 days before)",
        "the first 3 days' fills sum to ≥ 50 MME/day",
        _iop,
        lambda s: s.initiation_mme >= INITIAL_HIGH_MME,
        _initiation_evidence,
    ),
    Measure(
        "IOP-LD",
        "Initial opioid prescribing for long duration",
        "lower",
        "as IOP-HD",
        "the first 3 days' fills supply more than 7 days",
        _iop,
        lambda s: s.initiation_days > INITIAL_LONG_DAYS,
        _initiation_evidence,
    ),
    Measure(
        "IOP-LA",
        "Initial prescribing of long-acting or extended-release opioids",
        "lower",
        "as IOP-HD",
        "an extended-release or long-acting opioid among the first 3 days' fills",
        _iop,
        lambda s: any(f.er_la for f in s.initiation_fills),
        _initiation_evidence,
    ),
    Measure(
        "AMO",
        "Annual monitoring for patients on long-term opioid therapy",
        "higher",
        "≥ 90 days' opioid supply in the 12 months ending at the period end",
        "a urine drug test in those 12 months",
        _amo_den,
        lambda s: bool(s.facts.urine_tests),
        _amo_evidence,
    ),
    Measure(
        "NAL",
        "Naloxone for patients at risk of overdose",
        "higher",
        "in the OHD or COB numerator, or opioid use disorder or overdose on record",
        "naloxone filled or ordered in the 12 months ending at the period end",
        _nal_den,
        lambda s: bool(s.facts.naloxone),
        _nal_evidence,
    ),
)

MEASURE_BY_ID = {m.id: m for m in MEASURES}


def outcomes(summary: PeriodSummary) -> dict[str, tuple[bool, bool]]:
    """(in denominator, in numerator) per measure id; a numerator is always false where its denominator is."""
    result = {}
    for measure in MEASURES:
        den = measure.in_denominator(summary)
        result[measure.id] = (den, den and measure.in_numerator(summary))
    return result


def partial_measures(s: PeriodSummary) -> tuple[str, ...]:
    """The measures whose result a fill of unknown MME could change, had its MME been known: OHD (and OHDMP and
    NAL through it) for any such fill in the period, since the average leaves it out; IOP-HD for one among the first
    3 days' fills while they sum to under 50 (MME only adds); COB (and NAL through it) for a benzodiazepine fill of
    unknown days' supply while the overlap is under 30 days."""
    found = set()
    if s.unknown_mme and _base_ohd(s):
        found.add("OHD")
        if _omp(s):
            found.add("OHDMP")
        if not (_cob(s) or s.facts.oud_diagnosis):
            found.add("NAL")
    # A benzodiazepine fill of unknown days' supply covers only its fill day: more days could meet COB's 30 when the
    # fills are on two dates (on one, no number of days meets COB).
    if s.benzos_without_days and s.benzo_fill_dates >= 2 and _base_ohd(s) and not _cob(s):
        found.add("COB")
        if not (_ohd(s) or s.facts.oud_diagnosis):
            found.add("NAL")
    # An order with no days' supply has its MME per day, which is all the initial dose adds.
    unknown_start = any(f.mme_reason and f.mme is None for f in s.initiation_fills)
    if _iop(s) and unknown_start and s.initiation_mme < INITIAL_HIGH_MME:
        found.add("IOP-HD")
    return tuple(m.id for m in MEASURES if m.id in found)


def partial_evidence(s: PeriodSummary, partial: tuple[str, ...]) -> list[str]:
    """Why the patient's result is partial: each fill of unknown MME with its reason, and what it may change."""
    named = (*(s.unknown_mme if "OHD" in partial else ()), *(s.initiation_fills if "IOP-HD" in partial else ()))
    unknown = {f.ref: f for f in named if f.mme_reason}
    lines = [f"{fill.mme_text}: {_unknown(fill)}, so {', '.join(partial)} may differ" for fill in unknown.values()]
    if "COB" in partial:
        lines += [
            f"{benzo.name} filled on {benzo.filled}: its days' supply is unknown (counted as that day only), so "
            f"{', '.join(m for m in partial if m in ('COB', 'NAL'))} may differ"
            for benzo in s.benzos_without_days
        ]
    return lines


def _unknown(fill: OpioidFill) -> str:
    """What is not known of a fill: its MME, or (an order's dose gives its MME per day) its days' supply."""
    return "its MME is unknown" if fill.mme is None else "its days' supply is unknown"
