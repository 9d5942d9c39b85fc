"""The period arithmetic every measure reads: episode, average and peak daily MME, providers, overlaps, new starts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext

from guideline.history import UNKNOWN_SUPPLY_DAYS
from guideline.mme import DECIMAL_CONTEXT, format_mme
from guideline.population.facts import PatientFacts, Supply, total_days
from guideline.population.model import OpioidFill, Period

NEW_START_LOOKBACK_DAYS = 90
INITIATION_DAYS = 3  # the initiation's date and the next two days


@dataclass(frozen=True)
class PeriodSummary:
    """One patient's numbers for one period, computed once and read by every measure and every output."""

    facts: PatientFacts
    period: Period
    adult: bool
    excluded: str | None
    fills: tuple[OpioidFill, ...]  # pain-opioid fills dated in the period
    fill_dates: int
    days_supply: Decimal
    episode: tuple[date, date] | None
    # Days of the episode covered only by fills with no MME (unknown, or buprenorphine): left out of the average's
    # divisor as their fills are out of its numerator.
    days_without_mme: int
    avg_mme: Decimal | None
    peak_mme: Decimal | None
    prescribers: tuple[str, ...]
    pharmacies: tuple[str, ...]
    benzo_fill_dates: int
    cob_overlap_days: int
    # The period's benzodiazepine fills whose days' supply is unknown (each covers only the day it was filled).
    benzos_without_days: tuple[Supply, ...]
    initiation: OpioidFill | None
    initiation_fills: tuple[OpioidFill, ...]
    year_days_supply: Decimal

    @property
    def unknown_mme(self) -> tuple[OpioidFill, ...]:
        """The period's fills whose MME could not be calculated: the average is only what the others say."""
        return tuple(f for f in self.fills if f.mme_reason is not None)

    @property
    def average_days(self) -> int | None:
        """The average's divisor: the episode's days less those covered only by fills with no MME."""
        return _average_days(self.episode, self.days_without_mme) if self.episode else None

    @property
    def eligible(self) -> bool:
        return self.adult and self.excluded is None

    @property
    def initiation_mme(self) -> Decimal:
        return sum((f.mme for f in self.initiation_fills if f.mme is not None), Decimal(0))

    @property
    def initiation_days(self) -> Decimal:
        return total_days(self.initiation_fills)


def _days(low: date, high: date) -> list[date]:
    return [low + timedelta(days=n) for n in range((high - low).days + 1)]


def _episode(fills: tuple[OpioidFill, ...], period: Period) -> tuple[date, date] | None:
    """From the first day a period fill supplies to the end of the last one's supply, clipped to the period end. An
    early refill queued behind a fill from before the period supplies from the day after that fill runs out: the
    days between are that fill's, and counted from the refill's date they went into the divisor as days of no
    opioid (a patient on 90 MME/day every day averaged 80)."""
    ends = [f.end for f in fills if f.end is not None]
    if not fills or not ends:
        return None
    end = min(max(ends), period.end)
    start = min(f.start for f in fills)
    # Every period fill queued past the period end supplies none of it: the episode is dated as written.
    return (start if start <= end else min(f.filled for f in fills)), end


def _days_without_mme(fills: tuple[OpioidFill, ...], episode: tuple[date, date]) -> int:
    """Days of the episode some fill with no MME covers and no fill with one does."""
    low, high = episode
    unknown = [(f.start, f.end) for f in fills if f.mme is None and f.end is not None]
    if not unknown:
        return 0  # the usual patient: every fill has its MME
    covered = {day for f in fills if f.mme is not None and f.end is not None for day in _days(f.start, f.end)}
    return len({day for start, end in unknown for day in _days(max(start, low), min(end, high)) if day not in covered})


def _average_days(episode: tuple[date, date], days_without_mme: int) -> int:
    """The average's divisor: the episode's days less those covered only by fills with no MME."""
    return (episode[1] - episode[0]).days + 1 - days_without_mme


def _average(fills: tuple[OpioidFill, ...], episode: tuple[date, date], days_without_mme: int) -> Decimal | None:
    """Σ (MME per day × the fill's days inside the episode) ÷ the days in the episode (spec 4). A fill with no MME
    is in neither: counted as 0 MME, a fill with no quantity stretched the episode and lowered the average (90 to
    62.8), taking a patient out of OHD in silence. None when no day of the episode has a fill with an MME."""
    low, high = episode
    days = _average_days(episode, days_without_mme)
    if days <= 0:
        return None
    with localcontext(DECIMAL_CONTEXT):
        weighted = sum((f.mme * f.days_within(low, high) for f in fills if f.mme is not None), Decimal(0))
        return weighted / days


def _peak(fills: tuple[OpioidFill, ...], episode: tuple[date, date]) -> Decimal | None:
    """The highest day's MME of the episode; None when no fill has an MME (not known, never a 0 that reads as a
    low dose)."""
    counted = [(f.mme, f.start, f.end) for f in fills if f.mme is not None and f.end is not None]
    if not counted:
        return None
    return max(sum((mme for mme, start, end in counted if start <= day <= end), Decimal(0)) for day in _days(*episode))


def _covers_lookback(fill: OpioidFill, facts: PatientFacts) -> bool:
    """Any opioid supply (fill or active order) covering one of the 90 days before this fill (spec 5, IOP)."""
    low, high = fill.filled - timedelta(days=NEW_START_LOOKBACK_DAYS), fill.filled - timedelta(days=1)
    for other in facts.opioids:
        if other is fill or other.filled > high:
            continue
        end = other.end or other.start + timedelta(days=UNKNOWN_SUPPLY_DAYS - 1)
        if other.start <= high and end >= low:
            return True
    return any(start <= high and end >= low for start, end in facts.opioid_orders)


def lookback_not_reached(period: Period, earliest: date | None) -> dict[str, int]:
    """The measures' look-backs that reach before the export's earliest fill, order or claim, each in words: the
    IOP measures' 90 days before a period fill (a fill with supply in them is no new start) and AMO's 12 months."""
    if earliest is None:
        return {}
    lookback = period.start - timedelta(days=NEW_START_LOOKBACK_DAYS)
    needs = {
        f"IOP-HD, IOP-LD, IOP-LA: {NEW_START_LOOKBACK_DAYS} days before each fill, from {lookback}": lookback,
        f"AMO: 12 months from {period.year_start}": period.year_start,
    }
    return {words: 1 for words, day in needs.items() if earliest > day}


def summarise(facts: PatientFacts, period: Period, adult: bool, excluded: str | None) -> PeriodSummary:
    fills = tuple(sorted(facts.opioids_in(period.start, period.end), key=lambda f: (f.filled, f.ref)))
    episode = _episode(fills, period)
    days_without_mme = _days_without_mme(fills, episode) if episode else 0
    opioid_days = {
        day for f in fills if f.end is not None for day in _days(max(f.start, period.start), min(f.end, period.end))
    }
    benzos = [b for b in facts.benzodiazepines if period.contains(b.filled)]
    benzo_days = {day for b in benzos for day in _days(max(b.start, period.start), min(b.end, period.end))}
    initiation = next((f for f in fills if not _covers_lookback(f, facts)), None)
    initiation_fills = (
        facts.opioids_in(initiation.filled, initiation.filled + timedelta(days=INITIATION_DAYS - 1))
        if initiation
        else ()
    )
    return PeriodSummary(
        facts=facts,
        period=period,
        adult=adult,
        excluded=excluded,
        fills=fills,
        fill_dates=len({f.filled for f in fills}),
        days_supply=total_days(fills),
        episode=episode,
        days_without_mme=days_without_mme,
        avg_mme=_average(fills, episode, days_without_mme) if episode else None,
        peak_mme=_peak(fills, episode) if episode else None,
        prescribers=tuple(sorted({f.prescriber for f in fills if f.prescriber})),
        pharmacies=tuple(sorted({f.pharmacy for f in fills if f.pharmacy})),
        benzo_fill_dates=len({b.filled for b in benzos}),
        cob_overlap_days=len(opioid_days & benzo_days),
        benzos_without_days=tuple(b for b in benzos if b.days_unknown),
        initiation=initiation,
        initiation_fills=initiation_fills,
        year_days_supply=total_days(facts.opioids_in(period.year_start, period.end)),
    )


def mme_text(value: Decimal | None) -> str:
    return "not calculated" if value is None else f"{format_mme(value)} MME/day"
