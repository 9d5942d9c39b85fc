"""Supply days of one order and its pain-duration class (guideline 4.1 and 4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from guideline.dosage import (
    SIG_NOT_READ,
    UNPAIRED,
    Amount,
    TimedDoses,
    doses_by_time,
    doses_per_day,
    duration_words,
    number_text,
    plausible,
    to_amount,
    to_one_place,
)
from guideline.durations import (
    BEYOND_A_PRESCRIPTION,
    SHORT_OF_A_PRESCRIPTION,
    held_days,
    plausible_days,
    quantity_days,
    why_not_held,
)
from guideline.memo import IdentityMemo
from guideline.mme import (
    DECIMAL_CONTEXT,
    DispenseUnit,
    Drug,
    cap_limit,
    coded_dose_units,
    dosing_steps,
    identify_drug,
    quantize6,
    sig_above_code,
    sig_against_code,
    timed_units,
)
from guideline.record import Dosage, MedOrder
from guideline.record.slot_init import slot_init

if TYPE_CHECKING:
    from guideline.config import GuidelineConfig
    from guideline.terminology import Terminology

DurationClass = Literal["acute", "subacute-chronic", "unclassified"]

ACUTE_LIMIT_DAYS = Decimal(28)  # guideline 4.2: < 28 days is acute, ≥ 28 is subacute/chronic


@dataclass(frozen=True, slots=True)
class Unheld:
    """What was sent that no prescription can hold, in words ("expected supply duration 1200 days", two sources
    joined by "; "), and why it is not believed (`durations.BEYOND_A_PRESCRIPTION`, ...): kept apart, so a line whose
    MME reason says the why already names only what was sent (`unbelieved_sent`)."""

    sent: str
    why: str

    def words(self, said: str | None = None) -> str:
        """What was sent and why ("…, more than a prescription can hold"); without the why when it is `said`."""
        return self.sent if self.why == said else f"{self.sent}, {self.why}"


@slot_init
@dataclass(frozen=True, slots=True)
class Supply:
    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]
    per_fill_days: Decimal | None
    total_days: Decimal | None  # per-fill × (1 + refills) when config count_refills_in_supply
    refills: int
    # "expected supply duration", "quantity ÷ daily dose", "quantity along the dosing steps", "timing bounds"
    source: str | None
    # What was sent that no prescription can hold, when it left the supply unknown: so the order is named with it
    # (`unbelieved`), never read as one with no quantity or passed over. Empty when the supply is known or nothing
    # was sent.
    unheld: tuple[Unheld, ...] = ()

    @property
    def unbelieved(self) -> str | None:
        """What was sent that no prescription can hold and why, in words ("quantity 9000 tablets at 1 a day: 9000
        days' supply, more than a prescription can hold"), or None when nothing was."""
        return "; ".join(unheld.words() for unheld in self.unheld) if self.unheld else None


MAX_REFILLS = 99  # the most refills a prescription can carry
TOO_MANY_REFILLS = "more refills than a prescription can carry"


def _instruction_units(
    dosage: Dosage, drug: Drug | None, parse_text: bool, apply_cap: bool
) -> tuple[Decimal, DispenseUnit] | None:
    """Units a day of one instruction, by the rule the MME reads its daily amount with: the sig's doses by time of
    day, or its coded dose and frequency when they give the larger day (`sig_against_code`), lowered to its cap."""
    units = _uncapped_units(dosage, drug, parse_text)
    if units is None or not apply_cap or dosage.max_dose_numerator is None or (drug and drug.transdermal):
        return units  # a patch's MME is the patches worn, never capped; so neither is how long they last
    value, unit = units
    capped = cap_limit(dosage, Amount(value, unit, ""), drug)
    # The cap the MME counts ("max 6 tablets a day": 180 tablets last 30 days, not 15 at 2 every 4 hours), and one
    # it ignores (mL on a tablet) changes neither.
    return units if isinstance(capped, str) or capped[0] >= value else (capped[0], unit)


def _uncapped_units(dosage: Dosage, drug: Drug | None, parse_text: bool) -> tuple[Decimal, DispenseUnit] | None:
    """Units a day of one instruction before any maxDosePerPeriod."""
    timed = doses_by_time(dosage) if parse_text and not (drug and drug.transdermal) else None
    if timed in (UNPAIRED, SIG_NOT_READ):
        return None  # the day's dose is not read, so neither is how long a quantity lasts
    if isinstance(timed, TimedDoses):
        against = sig_against_code(dosage, drug, timed)
        if against is not None:
            return against.counted, against.unit  # both read in one unit: the larger day, as the MME counts it
        return timed_units(timed, drug)
    frequency = doses_per_day(dosage, parse_text)
    if frequency is None or not plausible(frequency):
        return None
    above = sig_above_code(dosage, drug, frequency) if parse_text else None
    if above is not None:
        return above.sig, above.unit  # the sig's larger day, as the MME counts it
    units = coded_dose_units(dosage, drug)
    if units is None:
        return None
    value, unit = units
    return frequency.per_day * value, unit


def daily_units(
    order: MedOrder, terms: Terminology, config: GuidelineConfig
) -> tuple[Decimal | None, DispenseUnit | None]:
    """Units used per day (tablets, patches, sprays… or mL) for guideline 4.1 step 2; (None, None) if unknown.

    Concurrent instructions add up; of sequential steps the largest daily use counts, as in guideline 8.3.
    """
    steps = _step_units(order, terms, config)
    best = _highest(steps) if steps is not None else None
    if steps is None or best is None:
        return None, None
    return best, steps[0][1]


def _highest(steps: list[tuple[Decimal, DispenseUnit, list[Dosage]]]) -> Decimal | None:
    """The largest daily use of the steps (8.3), or None when it is none at all."""
    best = max(units for units, _, _ in steps)
    return best if best > 0 else None


def _step_units(
    order: MedOrder, terms: Terminology, config: GuidelineConfig
) -> list[tuple[Decimal, DispenseUnit, list[Dosage]]] | None:
    """Units a day of each dosing step (`mme.dosing_steps`, the steps the MME reads), with the step's instructions;
    None when an instruction's units are unknown or the steps count in different units."""
    identified = identify_drug(order.medication, terms)
    drug = identified if isinstance(identified, Drug) else None
    parse_text = bool(config["mme"].get("parse_timing_text", True))
    apply_cap = bool(config["mme"].get("apply_max_dose_per_period", True))
    read: list[tuple[Decimal, DispenseUnit, list[Dosage]]] = []
    with localcontext(DECIMAL_CONTEXT):
        for step in dosing_steps(order.dosages):
            units = [u for u in (_instruction_units(d, drug, parse_text, apply_cap) for d in step) if u is not None]
            kinds = {unit for _, unit in units}
            if len(units) != len(step) or len(kinds) != 1:
                return None
            read.append((sum((value for value, _ in units), Decimal(0)), kinds.pop(), step))
    if not read or len({kind for _, kind, _ in read}) != 1:
        return None
    return read


def _dosage_days(dosage: Dosage) -> Decimal | None:
    """timing.repeat.boundsDuration, or the length of a closed boundsPeriod."""
    repeat = dosage.repeat
    if repeat is None:
        return None
    days = quantity_days(repeat.bounds_duration)
    if days is None and repeat.bounds_start and repeat.bounds_end and repeat.bounds_end > repeat.bounds_start:
        seconds = Decimal(int((repeat.bounds_end - repeat.bounds_start).total_seconds()))
        days = seconds / Decimal(86400)
    return days


def _step_days(step: list[Dosage]) -> Decimal | None:
    """How long one step lasts: its longest bounded instruction (those taken together run side by side)."""
    days = [d for d in (_dosage_days(dosage) for dosage in step) if d is not None]
    return max(days) if days else None


def _bounds_days(order: MedOrder) -> Decimal | None:
    """The dosage time bounds: one step's, or sequential steps' added up (unknown when one step has none)."""
    steps = dosing_steps(order.dosages)
    lengths = [_step_days(step) for step in steps]
    if all(length is None for length in lengths):
        return None
    if len(steps) > 1 and any(length is None for length in lengths):
        return None  # a taper with a step of unknown length: its total length is unknown
    return sum((length for length in lengths if length is not None), Decimal(0))


def _walked_days(
    quantity: Decimal, steps: list[tuple[Decimal, DispenseUnit, list[Dosage]]], sequences: set[int | None]
) -> Decimal | None:
    """The days a quantity lasts taken step by step through a taper (3 a day for 14 days, then 2, then 1: 84
    tablets last 42 days), or the steps' length when they end first; None for one step, steps whose order is not
    known (numbered and unnumbered ones side by side), or a step of unknown length before the last."""
    if len(steps) < 2 or (len(sequences) > 1 and None in sequences):
        return None
    ordered = sorted(steps, key=lambda step: step[2][0].sequence or 0)  # by sequence; dated steps come in order
    days, left = Decimal(0), quantity
    for index, (units, _, step) in enumerate(ordered):
        length = _step_days(step)
        if length is None and index < len(ordered) - 1:
            return None
        if length is None or units * length >= left:
            return days + left / units if units > 0 else None
        days, left = days + length, left - units * length
    return days


# Supply per (dispense request, dosages, medication, terms, config) objects: the record reader shares these between
# orders with the same content, so a chart's refills and repeats are computed once.
_SUPPLIES = IdentityMemo()


def order_supply(order: MedOrder, terms: Terminology, config: GuidelineConfig) -> Supply:
    """Per-fill and total supply days from the first source that yields a value (4.1); never raises on bad data."""
    dispense, dosages, medication = order.dispense, order.dosages, order.medication
    # IdentityMemo.get, inlined: every order of every call asks, and the general call cost more than the look-up.
    entry = _SUPPLIES.entries.get(("supply", id(dispense), id(dosages), id(medication), id(terms), id(config)))
    if entry is not None:
        return entry[1]  # type: ignore[return-value]
    supply = _order_supply(order, terms, config)
    _SUPPLIES.put("supply", dispense, dosages, medication, terms, config, answer=supply)
    return supply


def _order_supply(order: MedOrder, terms: Terminology, config: GuidelineConfig) -> Supply:
    refills = max(order.dispense.repeats_allowed or 0, 0)
    unbelieved: list[str] = []  # each source sent but longer than a prescription can hold, in words
    short: str | None = None  # an expected supply sent as under a day, in words
    with localcontext(DECIMAL_CONTEXT):
        sent = order.dispense.expected_supply
        expected = quantity_days(sent)
        # A days' supply keyed, like a fill's daysSupply, so held to the days a prescription can hold (`held_days`);
        # the sources below are how long the quantity or the instructions last, which may be hours (`plausible_days`).
        per_fill = held_days(expected)
        source: str | None = "expected supply duration" if per_fill is not None else None
        if expected is not None and per_fill is None:
            if why_not_held(expected) == "over-999":
                unbelieved.append(f"expected supply duration {one_place(expected)} days")
            elif sent is not None:  # under a day, as sent (0.01 days is "0" to one place); read from `sent`, so sent
                short = f"expected supply duration {duration_words(sent)}"
        if per_fill is None:
            quantity = to_amount(order.dispense.quantity)
            if quantity is not None and quantity.unit_class in ("count", "volume"):
                per_fill, source, words = _quantity_days(order, quantity, terms, config)
                unbelieved += [words] if words else []
        if per_fill is None:
            bounds = _bounds_days(order)
            per_fill = plausible_days(bounds)
            source = "timing bounds" if per_fill is not None else None
            if bounds is not None and per_fill is None:
                unbelieved.append(f"dosage time bounds of {one_place(bounds)} days")
        total = per_fill
        if per_fill is not None and config["count_refills_in_supply"]:
            # More refills than a prescription can carry is corrupt data: the total is unknown, never centuries.
            total = per_fill * (1 + refills) if refills <= MAX_REFILLS else None
            if total is None:
                return Supply.make(per_fill, total, refills, source, (_too_many_refills(per_fill, refills),))
    # A source skipped for the next one that gave a supply leaves nothing unknown, and is not named.
    unheld = [Unheld(short, SHORT_OF_A_PRESCRIPTION)] if short else []
    unheld += [Unheld("; ".join(unbelieved), BEYOND_A_PRESCRIPTION)] if unbelieved else []
    return Supply.make(per_fill, total, refills, source, tuple(unheld) if per_fill is None else ())


# The words of `Supply.unbelieved` that an MME reason of the same order says already, by that reason.
_SAID_BY_MME_REASON = {"supply-over-999": BEYOND_A_PRESCRIPTION, "supply-under-a-day": SHORT_OF_A_PRESCRIPTION}


def unbelieved_sent(supply: Supply, mme_reason: str | None) -> str:
    """What was sent that no prescription can hold (`Supply.unbelieved`), without the words that say why when the
    order's MME reason says them already ("expected supply duration 1200 days", "… 10 min"); with them otherwise."""
    said = _SAID_BY_MME_REASON.get(mme_reason or "")
    return "; ".join(unheld.words(said) for unheld in supply.unheld)


def _too_many_refills(per_fill: Decimal, refills: int) -> Unheld:
    """ "30 days' supply with 120 refills, …": why the total supply of an order is unknown though a fill's is not."""
    return Unheld(f"{one_place(per_fill)} days' supply with {refills} refills", TOO_MANY_REFILLS)


def one_place(value: Decimal) -> str:
    """Days or units a day as the clinician reads them: whole, or to one place, half up (quantity ÷ dose rarely
    comes out whole): "30", "12.5". The rounding is `mme.format_mme`'s (`to_one_place`); unlike an MME, a count of
    days or tablets drops its ".0", as a prescription writes "30 days" and "2 tablets"."""
    return number_text(to_one_place(value))


def _quantity_days(
    order: MedOrder, quantity: Amount, terms: Terminology, config: GuidelineConfig
) -> tuple[Decimal | None, str | None, str | None]:
    """The days a dispense quantity lasts: ÷ the highest step's daily units, or, for a taper, taken along its steps
    when that lasts longer (the highest step alone ended a taper's supply while its lower steps were still taken);
    with, when those days are more than a prescription can hold, what was sent in words."""
    steps = _step_units(order, terms, config)
    highest = _highest(steps) if steps is not None and steps[0][1] == quantity.unit_class else None
    if steps is None or highest is None:
        return None, None, None
    days = quantity.value / highest
    walked = _walked_days(quantity.value, steps, {dosage.sequence for dosage in order.dosages})
    if walked is not None and walked > days:
        if plausible_days(walked) is not None:
            return walked, "quantity along the dosing steps", None
        along = f"quantity {quantity.shown} taken along the dosing steps"
        return None, None, f"{along}: {one_place(walked)} days' supply"
    if plausible_days(days) is None:
        daily = f"{one_place(highest)}{' mL' if quantity.unit_class == 'volume' else ''} a day"
        return None, None, f"quantity {quantity.shown} at {daily}: {one_place(days)} days' supply"
    return days, "quantity ÷ daily dose", None


def duration_class(
    order: MedOrder, terms: Terminology, config: GuidelineConfig, supply: Supply | None = None
) -> DurationClass:
    """Exactly one class per order (4.2): courseOfTherapyType first, then total supply days against 28
    (`supply`: the order's supply when the caller already has it)."""
    course = (order.course_of_therapy or "").strip().lower()
    if course == "acute":
        return "acute"
    if course == "continuous":
        return "subacute-chronic"
    total = (supply or order_supply(order, terms, config)).total_days
    if total is None:
        return "unclassified"
    return "acute" if quantize6(total) < ACUTE_LIMIT_DAYS else "subacute-chronic"
