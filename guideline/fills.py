"""Pharmacy fills (MedicationDispense): fill date, days' supply, MME per day and supply intervals (CDC data file)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import TYPE_CHECKING, ClassVar, Literal, Self

from guideline import mme_factors as mf
from guideline.dosage import Amount, number_text, to_amount
from guideline.durations import held_days, quantity_days, why_not_held
from guideline.fhirdata import last_possible_day
from guideline.identifiers import actor_key, comparable
from guideline.memo import MISSING, IdentityMemo
from guideline.mme import (
    DECIMAL_CONTEXT,
    NOT_COUNTED_TEXT,
    REASON_TEXT,
    Drug,
    IngredientMme,
    MmeSummary,
    OrderMme,
    code_named_words,
    conflict_text,
    convert_amounts,
    counted_reading,
    counted_total,
    daily_dose_text,
    factor_text,
    format_mme,
    identify_drug,
    ingredient_amounts,
    medication_display_name,
    named_medication,
    no_factor,
    not_counted_reason,
    own_words,
    per_day_unit,
    quantize6,
    with_conflicts,
)
from guideline.recognition.names import read_name
from guideline.record import Dispense, MedOrder, ResolvedMedication
from guideline.record.identity import IdentifiedDrug, prescription_named
from guideline.record.pool import order_keys
from guideline.record.slot_init import slot_init
from guideline.supply import daily_units
from guideline.terminology import UNNAMED_MEDICATION
from guideline.timeutil import ONE_DAY, day_span, iso_day, months_before

if TYPE_CHECKING:
    from guideline.config import GuidelineConfig
    from guideline.terminology import Terminology

FillState = Literal["ok", "excluded", "unknown"]

# Statuses of a dispense that put medicine in the patient's hands (guideline 5.1).
FILL_STATUSES = frozenset({"completed", "in-progress"})
# No status (STU3 and DSTU2 make it optional; Oracle Health sometimes leaves it out) or R4's "unknown": the fill is
# counted as handed over, since dropping it could hide an opioid, a benzodiazepine or naloxone in the patient's hands.
UNSTATED_FILL_STATUSES = frozenset({None, "unknown"})

# The CDC data file counts a fentanyl patch as 72 hours of wear: its patch factor 7.2 per mcg/h is the clinical 2.4
# for a patch worn all day, times three days. Patches dispensed ÷ days' supply × 3 is the number worn at once.
PATCH_WEAR_DAYS = Decimal(3)

FILL_REASON_TEXT: dict[str, str] = {
    **REASON_TEXT,
    "no-days-supply": "the fill has no days' supply",
    "days-supply-unit-unread": "the fill's days' supply is in a unit PainPlan cannot read as days",
    "days-supply-under-a-day": "the fill's days' supply is less than one day",
    "days-supply-over-999": "the fill's days' supply is more than 999 days",
    "no-quantity": "the fill has no quantity dispensed",
    "negative-quantity": "the fill's quantity is negative: a reversal or a return, not medicine handed over",
    "patch-not-convertible": "the patches dispensed cannot be read as a count of patches of a per-hour strength",
}


def fill_moment(dispense: Dispense) -> datetime | None:
    """When the medicine was handed over, else when it was prepared."""
    return dispense.when_handed_over or dispense.when_prepared


def fill_called(dispense: Dispense, kind: str) -> tuple[str, str | None]:
    """ "fill", "d-1": the kind and id a line names a fill by; a fill read from a pharmacy claim is named by the
    claim ("payer claim", "eob-1"), whatever its kind, as `Dispense.named_by` says."""
    return dispense.named_by or (kind, dispense.id)


def fill_date(dispense: Dispense) -> date | None:
    """The calendar day of `fill_moment` (`local_date`), written out: asked of every fill several times a call."""
    moment = dispense.when_handed_over or dispense.when_prepared
    if moment is None:
        return None
    return moment.date() if isinstance(moment, datetime) else moment


def days_supply(dispense: Dispense) -> Decimal | None:
    """The fill's days' supply in days; None when missing, in a unit that cannot be read as days, or under one day
    (an unknown supply is never a number).

    Pharmacies count whole days, at most 999 (the claim field's three digits). A fraction of a day is a data error:
    it would end the supply before it starts, so the fill would silently count for nothing, and ÷ 0.0001 days would
    give an absurd dose; a supply of thousands of years cannot be placed on a calendar. Both are read as unknown,
    and named as such."""
    # `days_supply_problem` is None exactly when the days written are a supply a fill can hold (a missing,
    # non-positive or unread one is None or under a day here): one bound check rather than its checks and a second
    # reading, for every fill several times a call.
    return held_days(_days_written(dispense))


def _days_written(dispense: Dispense) -> Decimal | None:
    """daysSupply in days: a bare number is days; a unit converts as a supply duration's does (weeks of 7 days,
    months of 30, hours of 1/24; `durations.quantity_days`); a unit it does not know gives None."""
    days, written = dispense.days_supply, dispense.days_supply_written
    if written is None or days is None or days <= 0:
        return days
    return quantity_days(written)


def days_supply_problem(dispense: Dispense) -> str | None:
    """Why the fill has no usable days' supply (a FILL_REASON_TEXT key), or None when it has one."""
    if dispense.days_supply is None or dispense.days_supply <= 0:
        return "no-days-supply"
    days = _days_written(dispense)
    if days is None:
        return "days-supply-unit-unread"
    unheld = why_not_held(days)
    # A supply no fill can hold, named by why (`durations.why_not_held`): "days-supply-under-a-day", "…-over-999".
    return None if unheld is None else f"days-supply-{unheld}"


def days_supply_or_derived(
    dispense: Dispense, order: MedOrder | None, terms: Terminology, config: GuidelineConfig
) -> Decimal | None:
    """The fill's days' supply; when it is missing, quantity ÷ the daily use the linked order's dosage gives (count
    with count, mL with mL); else None ("days' supply unknown", never a guess)."""
    days = days_supply(dispense)
    if days is not None or order is None:
        return days
    identified = identify_drug(dispense.medication, terms) if dispense.billing_units else None
    quantity = fill_quantity(dispense, identified if isinstance(identified, Drug) else None)
    if quantity is None:
        return None
    units, kind = daily_units(order, terms, config)
    if units is None or kind != quantity.unit_class:
        return None
    with localcontext(DECIMAL_CONTEXT):
        return quantity.value / units


def counts_as_fill(dispense: Dispense) -> bool:
    """A fill the MME total and the medication checks count: one known to be in the patient's hands, or one whose
    status is absent or unknown (`UNSTATED_FILL_STATUSES`). Cancelled, declined, stopped, on-hold, in-preparation
    and erroneous dispenses handed nothing over."""
    return known_in_hand(dispense) or dispense.status in UNSTATED_FILL_STATUSES


def known_in_hand(dispense: Dispense) -> bool:
    """A fill known to have put medicine in the patient's hands: completed or in progress, or with no status but a
    handed-over date. Only these show naloxone on hand or past opioid use, which quiet a card: a fill of unknown
    status must not."""
    return dispense.status in FILL_STATUSES or handed_over(dispense)


def handed_over(dispense: Dispense) -> bool:
    """Completed, or with no status but a handed-over date: the status is optional before R4, and a handed-over
    date says what "completed" would."""
    return dispense.status == "completed" or (dispense.status is None and dispense.when_handed_over is not None)


def counted_on_trust(dispense: Dispense) -> bool:
    """A fill counted although nothing says it was handed over (status "unknown", or no status and no handed-over
    date): the MME total and the checks count it, leaning safe, and it is named so that the count can be checked."""
    return counts_as_fill(dispense) and not known_in_hand(dispense)


@dataclass(frozen=True)
class FillMme:
    """MME per day of one fill (quantity × strength × factor ÷ days' supply), or why it has none."""

    dispense: Dispense
    display_name: str
    rxnorm_code: str | None
    state: FillState
    reason: str | None
    ingredients: tuple[IngredientMme, ...]
    mme: Decimal | None
    explanation: str
    daily_dose_text: str | None
    # The medication's own words for why it has no MME (`mme.own_words`: an opioid read from its name with no
    # strength says what was read), for this unknown fill's reason.
    said: str | None = None
    # Its code and a name of it state different opioids: each conflict in words, with the reading counted
    # (`mme.counted_reading`), named on its line and as a named gap ("drug-named-otherwise").
    drug_conflicts: tuple[str, ...] = ()

    @property
    def ref(self) -> str | None:
        return self.dispense.ref

    @property
    def reason_text(self) -> str | None:
        if self.said is not None and self.state == "unknown":
            return self.said
        return FILL_REASON_TEXT.get(self.reason) if self.reason else None


def _patch_worn(drug: Drug, per_day: Amount) -> dict[str, Decimal] | None:
    """mcg/h worn per ingredient: patches per day × 3 days of wear × strength (mg/h → mcg/h)."""
    if per_day.unit_class != "count" or any(s.per != "hour" for s in drug.strengths):
        return None
    worn: dict[str, Decimal] = {}
    for strength in drug.strengths:
        worn[strength.ingredient] = worn.get(strength.ingredient, Decimal(0)) + (
            per_day.value * PATCH_WEAR_DAYS * strength.mg * 1000
        )
    return worn


def _methadone_mg(amounts: dict[str, Decimal]) -> Decimal | None:
    return amounts.get(mf.METHADONE)


def fill_mme(
    dispense: Dispense,
    terms: Terminology,
    config: GuidelineConfig,
    methadone_basis: Decimal | None = None,
) -> FillMme:
    """MME per day of one fill by the CDC data-file formula: quantity × strength per unit × factor ÷ days' supply.

    Tablets and other units count by the unit strength, liquids by mL, patches by the per-hour strength worn
    (72 hours a patch); methadone follows the profile (cdc2016 tiers on `methadone_basis`, else on this fill's own
    mg/day); buprenorphine and methadone for opioid use disorder are listed and never converted, as for orders.
    Never raises on bad data.
    """
    identified = identify_drug(dispense.medication, terms)
    result = _fill_read(dispense, dispense.medication, identified, terms, config, methadone_basis)
    named = code_named_words(dispense.medication, terms, result)
    if named is not None:
        # Its code states no opioid and its name one: read as the name's opioid, as an order is; named on its line.
        return replace(result, explanation=with_conflicts(result.explanation, (named,)), drug_conflicts=(named,))
    if not isinstance(identified, Drug) or not identified.drug_conflicts:
        return result
    # Its names state other drugs than its code: counted by the reading whose MME is the higher, as an order is.
    readings = (
        result,
        *(
            _fill_read(dispense, named_medication(c.name), c.reading, terms, config, methadone_basis)
            for c in identified.drug_conflicts
        ),
    )
    index, words = counted_reading(identified.drug_conflicts, readings)
    counted = readings[index]
    line = with_conflicts(counted.explanation, words)
    return replace(counted, rxnorm_code=result.rxnorm_code, explanation=line, drug_conflicts=words)


def _fill_read(
    dispense: Dispense,
    medication: ResolvedMedication,
    identified: Drug | str,
    terms: Terminology,
    config: GuidelineConfig,
    methadone_basis: Decimal | None,
) -> FillMme:
    """`fill_mme` of the fill read as `identified`, the drug `medication` (its own, or one of its names alone) is."""
    drug = identified if isinstance(identified, Drug) else None
    name = medication_display_name(dispense.medication, drug, terms)
    when = fill_date(dispense)
    # A fill dated to the month or the year only is named so ("filled 2026-05"), not by the 1st it is read as.
    written = dispense.filled_partial or (iso_day(when) if when else None)
    label = f"{name} (filled {written})" if written else f"{name} (fill undated)"
    rxnorm = drug.rxcui if drug else None

    def result(state: FillState, reason: str | None, explanation: str, ingredients=(), mme=None) -> FillMme:  # noqa: ANN001
        return FillMme(
            dispense, name, rxnorm, state, reason, tuple(ingredients), mme, explanation, daily_dose_text(ingredients)
        )

    not_counted = not_counted_reason(medication, drug, terms)
    if not_counted:
        return result("excluded", not_counted, f"{label}: {NOT_COUNTED_TEXT[not_counted]}")
    if drug is None:
        reason = str(identified)
        said = own_words(reason, medication, terms)
        text = said or FILL_REASON_TEXT.get(reason, reason)
        return replace(result("unknown", reason, f"{label}: {text}"), said=said)
    problem = days_supply_problem(dispense)
    if problem is not None:
        return result("unknown", problem, f"{label}: {FILL_REASON_TEXT[problem]}")
    days = _days_written(dispense)  # days_supply_problem said it is usable: not read again
    assert days is not None
    quantity = fill_quantity(dispense, drug)
    if quantity is None:
        reason = _quantity_problem(dispense)
        return result("unknown", reason, f"{label}: {FILL_REASON_TEXT[reason]}")
    with localcontext(DECIMAL_CONTEXT):
        per_day = Amount(quantity.value / days, quantity.unit_class, "")
        if drug.transdermal:
            amounts = _patch_worn(drug, per_day)
            if amounts is None:
                return result(
                    "unknown", "patch-not-convertible", f"{label}: {FILL_REASON_TEXT['patch-not-convertible']}"
                )
            daily = f"{number_text(quantity_per_day(per_day))} patches/day × 3 days' wear"
        else:
            found = ingredient_amounts(drug, per_day)
            if isinstance(found, str):
                return result("unknown", found, f"{label}: {FILL_REASON_TEXT.get(found, found)}")
            amounts = dict(found)
            daily = f"{number_text(quantity_per_day(per_day))} per day"
        basis = methadone_basis if methadone_basis is not None else _methadone_mg(amounts)
        ingredients, mme = convert_amounts(amounts, drug, config, basis)
    head = f"{label}: {quantity.shown} ÷ {number_text(days)} days' supply = {daily}"
    if mme is None:
        missing = ", ".join(i.name for i in ingredients if i.mme is None and i.rxcui != mf.BUPRENORPHINE)
        reason, why = no_factor(drug, missing)
        return result("unknown", reason, f"{head}; {why}{conflict_text(drug, counted=False)}", ingredients)
    mme = quantize6(mme)
    steps = " + ".join(
        f"{number_text(i.daily_amount or Decimal(0))} {per_day_unit(i.daily_unit)} {i.name} "
        f"{factor_text(i, config.profile)}"
        for i in ingredients
        if i.mme is not None
    )
    return result("ok", None, f"{head} = {steps} = {format_mme(mme)} MME/day{conflict_text(drug)}", ingredients, mme)


def fill_quantity(dispense: Dispense, drug: Drug | None) -> Amount | None:
    """The fill's quantity as an Amount. A pharmacy claim's bare quantity is in NCPDP billing units (NCPDP Billing
    Unit Standard): mL for a product whose strength is per mL (a solution, syrup, suspension); each for a tablet,
    capsule or patch, which a bare number already counts. A dispense's bare quantity stays a count."""
    amount = to_amount(dispense.quantity)
    if amount is None or not dispense.billing_units or amount.unit_class != "count" or drug is None:
        return amount
    if drug.strengths and all(s.per == "ml" for s in drug.strengths):
        return Amount(amount.value, "volume", f"{number_text(amount.value)} mL")
    return amount


def _quantity_problem(dispense: Dispense) -> str:
    """Why a fill has no usable quantity: a negative one (a claim's reversal) is not "no quantity dispensed"."""
    value = dispense.quantity.value if dispense.quantity is not None else None
    return "negative-quantity" if value is not None and value < 0 else "no-quantity"


def quantity_per_day(per_day: Amount) -> Decimal:
    """Units per day shown to 2 decimal places at most (2 ÷ 3 reads 0.67, not 0.666…)."""
    try:
        rounded = per_day.value.quantize(Decimal("0.01"))
    except InvalidOperation:  # more digits than the context holds (an absurd quantity): shown as it is
        return per_day.value
    return rounded if rounded != per_day.value else per_day.value


# ---------------------------------------------------------------------------------------------------------------
# Supply intervals


@slot_init
@dataclass(frozen=True, slots=True)
class FillSupply:
    """The days one fill supplies: [start, end]; an early refill of the same drug starts after the earlier ends."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    dispense: Dispense
    drug: str  # the same-drug key
    filled: date
    start: date
    end: date | None  # None when the days' supply is unknown

    @property
    def shifted_days(self) -> int:
        return (self.start - self.filled).days

    def covers(self, day: date) -> bool:
        return self.end is not None and self.start <= day <= self.end


# The key depends on the medication alone, and the reader shares one medication object per distinct medication
# between calls: each is keyed once, not once per order and call.
_DRUG_KEYS = IdentityMemo()


def same_drug_key(dispense: Dispense | MedOrder, terms: Terminology) -> IdentifiedDrug | str:
    """What "the same drug" means for refills: the identified product (RxNorm code, or its opioid ingredient
    strengths and form), else the medication's codes, else its name, else what it is made of."""
    return _remembered_key("drug key", _same_drug_key, dispense.medication, terms)


def _remembered_key(
    question: str,
    work: Callable[[ResolvedMedication, Terminology], IdentifiedDrug | str],
    medication: ResolvedMedication,
    terms: Terminology,
) -> IdentifiedDrug | str:
    """`work`'s key for the medication, worked out once per medication and terminology (`_DRUG_KEYS`)."""
    key = _DRUG_KEYS.get(question, medication, terms)
    if key is MISSING:
        key = work(medication, terms)
        _DRUG_KEYS.put(question, medication, terms, answer=key)
    return key  # type: ignore[return-value]


def _same_drug_key(medication: ResolvedMedication, terms: Terminology) -> IdentifiedDrug | str:
    identified = identify_drug(medication, terms)
    if isinstance(identified, Drug):
        if identified.rxcui and not identified.from_ingredients:
            # A brand and its generic are one drug (a pharmacy may dispense either): the clinical drug's code.
            return IdentifiedDrug.of_rxnorm(terms.generic_drug(identified.rxcui))
        return IdentifiedDrug.of_strengths(
            identified.dose_form, (f"{s.ingredient}:{s.mg}/{s.per}" for s in identified.strengths)
        )
    concept = medication.concept
    if concept is not None:
        codes = sorted(f"{c.system}|{c.code}" for c in concept.codings if c.code)
        if codes:
            return "codes:" + ",".join(codes)
    name = terms.medication_name(medication)
    if name != UNNAMED_MEDICATION:
        return "name:" + name.strip().lower()
    return "unnamed:" + _content_key(medication)


def supply_key(item: Dispense | MedOrder, terms: Terminology) -> IdentifiedDrug | str:
    """What "the same drug" means for a fill and its own order (*One supply, never two*): the opioid strengths and
    form recognition read, however the medication was sent, else the refill key (`same_drug_key`)."""
    return _remembered_key("supply key", _supply_key, item.medication, terms)


def _supply_key(medication: ResolvedMedication, terms: Terminology) -> IdentifiedDrug | str:
    identified = identify_drug(medication, terms)
    form = _form_named(identified) if isinstance(identified, Drug) and identified.strengths else None
    if form is None or not isinstance(identified, Drug):  # the second only narrows the type: a form is a Drug's
        return _same_drug_key(medication, terms)
    # An order coded by RxNorm and its fill known by name or NDC (or the reverse) read the same strengths and form
    # (RxNorm's name for the code, the pharmacy's for the name); keyed by the code on one side only, they were two
    # supplies: 60 MME/day for 30.
    return IdentifiedDrug.of_strengths(form, (f"{s.ingredient}:{s.mg}/{s.per}" for s in identified.strengths))


def _form_named(drug: Drug) -> str | None:
    """The dose form, with its release, that the drug's name says (RxNorm's for a code, the sender's otherwise)."""
    reading = read_name(drug.display) if drug.display else None
    if reading is None or reading.form is None:
        return None
    return f"{reading.form} extended-release" if reading.extended_release else reading.form


def _content_key(medication: ResolvedMedication) -> str:
    """A medication nothing names, by all it carries (its reference, its Medication's ingredients and form): two
    such medicines are one drug only when nothing tells them apart. Under one shared "unnamed" key a second
    unrelated fill queued behind the first as an early refill, and stood for an order of the other."""
    return hashlib.sha256(repr(medication).encode()).hexdigest()[:16]


def last_supply_day(start: date, days: Decimal) -> date:
    """The last day a supply of `days` (part days round up; at least one day) starting on `start` covers."""
    return start + day_span(max(math.ceil(days), 1) - 1)


def possible_fill_date(dispense: Dispense, today: date) -> date | None:
    """The fill's date (`fill_date`); for one dated to the month or the year only ("2026-05"), the last day it can
    mean, never after today: counted from the 1st, a supply that may still last looked ended, and a current opioid
    left the MME total with nothing said."""
    filled = fill_date(dispense)
    if filled is None or dispense.filled_partial is None:
        return filled
    return last_possible_day(filled, dispense.filled_partial, today) or filled


def no_course(_dispense: Dispense) -> str | None:
    """Every fill of one course: fills of one drug all queue (the population review's rule)."""
    return None


def supply_intervals(
    dispenses: Iterable[Dispense],
    drug_of: Callable[[Dispense], str],
    today: date | None = None,
    course_of: Callable[[Dispense], str | None] = no_course,
    unknown_days: int | None = None,
) -> tuple[FillSupply, ...]:
    """Each dated fill's supply, in fill order. Fills of one drug and one prescription course (`course_of`, e.g.
    `prescription_course`) queue: a fill made before the earlier supply ran out starts the day after it ends. Fills
    of different drugs, or of one drug on different prescriptions, overlap (and their doses add). A fill naming no
    prescription (course None) queues behind the course of its drug whose supply ends first; a fill naming one whose
    course has no fill yet takes over the supply of the fills that named none, as one course. Given `today`, a fill
    dated to the month or the year only is placed on the last day it can mean (`possible_fill_date`). Given
    `unknown_days`, a fill whose days' supply is unknown supplies that many days (the exposure history's rule), else
    its supply has no end and holds no place in the queue."""
    filled_on = [(fill_date(d) if today is None else possible_fill_date(d, today), d) for d in dispenses]
    # Ordered by date, id and place: the place is unique, so sorting never compares two dispenses.
    dated = sorted((filled, d.id or "", index, d) for index, (filled, d) in enumerate(filled_on) if filled is not None)
    next_free: dict[str, dict[str | None, date]] = {}  # drug -> course -> the day its supply is free again
    supplies: list[FillSupply] = []
    for filled, _, _, dispense in dated:
        assert filled is not None
        drug = drug_of(dispense)
        courses = next_free.setdefault(drug, {})
        course = queue_of(courses, course_of(dispense))
        start = max(filled, courses.get(course, filled))
        days = days_supply(dispense)
        if days is None and unknown_days is not None:
            days = Decimal(unknown_days)
        end = last_supply_day(start, days) if days is not None else None
        if end is not None:
            courses[course] = end + ONE_DAY
        supplies.append(FillSupply.make(dispense, drug, filled, start, end))
    return tuple(supplies)


def queue_of(courses: dict[str | None, date], course: str | None) -> str | None:
    """Which of one drug's course queues (course -> the day it is free again) a supply joins: its own course's; a
    supply naming none, the course free first; one whose course has no queue yet takes over that of the supplies that
    named none (they may have been its own). The MME history queues the same way."""
    if course is None:
        return min(courses, key=courses.__getitem__) if courses else None
    if course not in courses and None in courses:
        courses[course] = courses.pop(None)
    return course


def order_course(order: MedOrder) -> str:
    """An order's prescription course: its prescriber's; one naming none is its own, where it lives
    (`MedOrder.located`: an HIE's unsigned order 123 is not the EHR's), so its fills add up with another's."""
    return f"prescriber:{actor_key(order.requester)}" if order.requester else f"order:{order.located}"


def prescription_course(dispense: Dispense, real_orders: Sequence[MedOrder]) -> str | None:
    """The prescription course a fill belongs to: the prescriber of the order its authorizingPrescription names when
    that order is in the record and names one (Schedule II opioids carry no refills, so one prescriber's monthly
    prescriptions are one course, and the next one filled early still queues); else the prescription it names (one
    from another prescriber or another system, such as an emergency department's, is a second course, taken at the
    same time); None when it names none."""
    if not dispense.authorizing_prescriptions:
        return None
    order = authorized_order(dispense, real_orders)
    if order is not None:
        return order_course(order)
    # The one identity of the order named (another server's whole: its order 123 is not the EHR's). One contained
    # in the fill names no order any other fill can share, so it joins no course by its id: it queues as a fill
    # naming none (`queue_of`), where two fills' own "#rx1" were one course.
    named = [key for key in (prescription_named(r, None) for r in dispense.authorizing_prescriptions) if key]
    return "prescription:" + min(named) if named else None


# ---------------------------------------------------------------------------------------------------------------
# A fill and the order it came from are one supply


def _same_prescriber(dispense: Dispense, order: MedOrder) -> bool:
    """Unknown on either side is no evidence of a different prescriber, nor is a prescriber named one way (by
    reference) against one named the other (by identifier alone), nor two references on two servers: they may be the
    same person (`identifiers.comparable`). Only a fill that
    names its prescriber (a claim's) can differ: a pharmacy's fill names who dispensed it, not who prescribed it."""
    if not order.requester or not dispense.prescribers:
        return True
    named = [actor_key(p) for p in dispense.prescribers if comparable(p, order.requester)]  # on two servers: no
    return not named or actor_key(order.requester) in named


def source_order(
    dispense: Dispense,
    orders: Sequence[MedOrder],
    drug_of: Callable[[Dispense | MedOrder], str],
    interval_of: Callable[[MedOrder], tuple[date, date] | None],
) -> MedOrder | None:
    """The order a fill came from: the one its authorizingPrescription names; without that reference, an order of
    the same drug (and prescriber, when both are known) whose supply interval contains the fill date."""
    real = [o for o in orders if not o.is_draft]
    if dispense.authorizing_prescriptions:
        return authorized_order(dispense, real)
    return covering_order(dispense, ((o, interval_of(o)) for o in real), drug_of)


def authorized_order(dispense: Dispense, real_orders: Iterable[MedOrder]) -> MedOrder | None:
    """The first real order the fill's authorizingPrescription names (relative, absolute or a bare id)."""
    return named_order(dispense.authorizing_prescriptions, real_orders)


def named_order(references: Sequence[str], real_orders: Iterable[MedOrder]) -> MedOrder | None:
    """The first real order one of the references names (relative, absolute or a bare id): a fill's
    authorizingPrescription, a draft's priorPrescription."""
    wanted = named_refs(references)
    return next((o for o in real_orders if o.located in wanted), None)


def named_refs(references: Iterable[str]) -> frozenset[str | None]:
    """The order references (`MedicationRequest/id`) that references name, relative, absolute or a bare id: what an
    order's `ref` is matched against (`named_order`; the orders the drafts renew, whose fills the drafts stand for)."""
    return frozenset(key for r in references for key in order_keys(r))


def covering_order(
    dispense: Dispense,
    dated_orders: Iterable[tuple[MedOrder, tuple[date, date] | None]],
    drug_of: Callable[[Dispense | MedOrder], str],
) -> MedOrder | None:
    """Among real orders with their supply intervals, the latest-starting one of the same drug (and prescriber,
    when both are known) whose interval contains the fill date."""
    filled = fill_date(dispense)
    if filled is None:
        return None
    drug = drug_of(dispense)
    candidates = []
    for order, interval in dated_orders:
        if interval is None or not interval[0] <= filled <= interval[1]:
            continue
        if drug_of(order) == drug and _same_prescriber(dispense, order):
            candidates.append((interval[0], order))
    return max(candidates, key=lambda item: item[0])[1] if candidates else None


# ---------------------------------------------------------------------------------------------------------------
# The fills that count today, and the total they add to


def standalone_fills(
    supplies: Iterable[FillSupply],
    source_of: Callable[[Dispense], MedOrder | None],
    counted: Callable[[MedOrder], bool],
    today: date,
) -> tuple[FillSupply, ...]:
    """The fill supplies that reach today and that no counted order already stands for (an order and its fill are
    one supply; `source_of` finds a fill's order). A fill of unknown days' supply made in the last 30 days is kept so
    that it is named, not dropped."""
    kept: list[FillSupply] = []
    for supply in supplies:
        if not supplies_now(supply, today):
            continue
        order = source_of(supply.dispense)
        if order is not None and counted(order):
            continue
        kept.append(supply)
    return tuple(kept)


# Guideline 5.1: a supply of unknown days counts as [start, start + 29]; the exposure history and the MME history read
# it so, and a fill of unknown supply this recent is named as current.
UNKNOWN_SUPPLY_DAYS = 30


def supplied_days(dispense: Dispense) -> int:
    """The days a fill supplies on the calendar: its days' supply (part days up, at least one), or
    UNKNOWN_SUPPLY_DAYS when that is unknown (guideline 5.1). The exposure history and the MME history read it so."""
    days = days_supply(dispense)
    return max(math.ceil(days), 1) if days is not None else UNKNOWN_SUPPLY_DAYS


def supplies_now(supply: FillSupply, today: date) -> bool:
    """Whether a fill may be today's supply: its supply covers today, or its days' supply is unknown and it was made
    in the last UNKNOWN_SUPPLY_DAYS days (its dose then unknown, so it is named, never dropped). The current total's
    standalone fills and the fills read as an order's supply are chosen by this one rule."""
    if supply.covers(today):
        return True
    return supply.end is None and 0 <= (today - supply.filled).days < UNKNOWN_SUPPLY_DAYS


def with_fills(summary: MmeSummary, fills: Sequence[FillMme]) -> MmeSummary:
    """The order total plus the fills' MME per day (fills of different drugs add); unknown fills make it partial."""
    ok_fills = [f for f in fills if f.state == "ok" and f.mme is not None]
    with localcontext(DECIMAL_CONTEXT):
        total = summary.total + sum((f.mme for f in ok_fills if f.mme is not None), Decimal(0))
    ok = bool(summary.ok_orders or ok_fills)
    unknown = bool(summary.unknown_orders or any(f.state == "unknown" for f in fills))
    state: Literal["complete", "partial", "none"] = "none" if not ok else ("partial" if unknown else "complete")
    return replace(summary, total=quantize6(total), state=state, fills=tuple(fills))


# ---------------------------------------------------------------------------------------------------------------
# A fill read as an order's supply that implies a larger daily dose than the order


def fill_raises(order_state: str, order_mme: Decimal | None, fill: FillMme) -> bool:
    """Whether a fill read as an order's supply implies a larger daily dose than the order (quantity ÷ days' supply):
    then the order counts at the fill's dose. The one rule the card's total, the plan page's total now and its MME
    history all apply; a dose not known both ways raises nothing."""
    return (
        order_state == "ok"
        and order_mme is not None
        and fill.state == "ok"
        and fill.mme is not None
        and quantize6(fill.mme) > quantize6(order_mme)
    )


def fill_unread(order_state: str, order_mme: Decimal | None, fill: FillMme) -> bool:
    """Whether a fill read as an order's supply leaves `fill_raises` unanswerable: the order's dose is known and the
    fill's is not (no quantity, no days' supply, ...). The fill may imply more than the order, so it is named
    (`UnreadFill`), never passed over as "no larger"."""
    return order_state == "ok" and order_mme is not None and fill.state == "unknown"


@dataclass(frozen=True)
class UnreadFill:
    """A fill read as an order's supply whose daily dose could not be worked out, with the order's own dose it could
    not be weighed against (guideline.named_gaps, "order-fills-of-unread-dose")."""

    fill: FillMme
    order_mme: Decimal

    @property
    def _why(self) -> str:
        reason = self.fill.reason_text or "its daily dose could not be worked out"
        order = format_mme(self.order_mme)
        return f"{reason}, so whether it implies more than the order's {order} MME a day could not be told"

    @property
    def text(self) -> str:
        """ "pharmacy fill md-1 on 2026-06-05: the fill has no quantity dispensed, so whether …" ("payer claim eob-1 on
        …" for a claim's fill): how the card, the page and the note name it beside its order."""
        dispense = self.fill.dispense
        filled = fill_date(dispense)
        when = dispense.filled_partial or (iso_day(filled) if filled else "undated")
        kind, ident = fill_called(dispense, "pharmacy fill")
        named = f"{kind} {ident}" if ident else kind
        return f"{named} on {when}: {self._why}"

    @property
    def sentence(self) -> str:
        """The end of the order's explanation: "the pharmacy fill of … on 2026-06-05 was not weighed (…)"."""
        return f"the pharmacy fill of {_fill_named(self.fill)} was not weighed against the order: {self._why}"


def with_unread(result: OrderMme, fills: Iterable[FillMme]) -> OrderMme:
    """The order with each fill whose dose could not be weighed against it (`fill_unread`) named, in its explanation
    and in `unread_fills`; the order as it is when there is none."""
    mme = result.mme
    unread = tuple(UnreadFill(f, mme) for f in fills if mme is not None and fill_unread(result.state, mme, f))
    if not unread:
        return result
    return replace(result.with_words(*(u.sentence for u in unread)), unread_fills=(*result.unread_fills, *unread))


def fill_implied_doses(summary: MmeSummary, paired: Iterable[tuple[MedOrder, FillMme]]) -> MmeSummary:
    """Each counted order whose current fills imply a larger daily dose than the order, counted at the largest of
    them, with why (`raised_by_fills`): the fill may be another prescriber's prescription or a changed sig, and read
    as the order's supply it hid the larger dose. Of two readings of one supply the larger counts, as for an order and
    the draft read as its renewal (`renewals.counted_once`, which weighs the order so raised)."""
    by_order: dict[int, list[FillMme]] = {}
    for order, fill in paired:
        by_order.setdefault(id(order), []).append(fill)
    if not by_order:
        return summary
    results = [raised_by_fills(r, by_order.get(id(r.order), ())) for r in summary.orders]
    if all(new is old for new, old in zip(results, summary.orders, strict=True)):
        return summary
    return replace(summary, orders=tuple(results), total=counted_total(results))


def raised_by_fills(result: OrderMme, fills: Sequence[FillMme]) -> OrderMme:
    """The order counted at the largest dose its fills imply when that is larger than its own (`fill_raises`), one
    sentence naming every such fill; else the order as it is. Each fill is compared with the order's own dose, never
    with another fill's; a fill whose dose is unknown is named (`with_unread`)."""
    above = sorted(
        (f for f in fills if fill_raises(result.state, result.mme, f)), key=lambda f: f.mme or 0, reverse=True
    )
    # Weighed against the order's own dose, before any fill raises it.
    unread = with_unread(result, fills)
    if not above or result.mme is None:
        return unread
    return counted_at_fill(unread, above[0], fills_above_order_text(above, result.mme))


def counted_at_fill(result: OrderMme, fill: FillMme, why: str) -> OrderMme:
    """The order counted at `fill`'s dose, its explanation ending with `why`."""
    return replace(
        result.with_words(why), mme=fill.mme, ingredients=fill.ingredients, daily_dose_text=fill.daily_dose_text
    )


def fills_above_order_text(above: Sequence[FillMme], order_mme: Decimal) -> str:
    """ "the pharmacy fill of … on 2026-06-10 (#180 for 30 days) implies 90.0 MME a day, more than the order's 45.0
    MME; the larger is counted …": why an order counts at its fill's dose. Several such fills (largest first) are one
    sentence, "the pharmacy fills of … and of … imply 90.0 and 60.0 MME a day, …; the largest is counted …"."""
    if len(above) == 1:
        return (
            f"the pharmacy fill of {_fill_named(above[0])} implies {format_mme(above[0].mme or Decimal(0))} MME a "
            f"day, more than the order's {format_mme(order_mme)} MME; the larger is counted (the fill may be "
            "another prescriber's prescription or a changed sig)"
        )
    named = ", of ".join(_fill_named(f) for f in above[:-1]) + f" and of {_fill_named(above[-1])}"
    doses = (
        ", ".join(format_mme(f.mme or Decimal(0)) for f in above[:-1])
        + f" and {format_mme(above[-1].mme or Decimal(0))}"
    )
    return (
        f"the pharmacy fills of {named} imply {doses} MME a day, each more than the order's {format_mme(order_mme)} "
        "MME; the largest is counted (the fills may be another prescriber's prescriptions or a changed sig)"
    )


def _fill_named(fill: FillMme) -> str:
    """ "oxycodone … on 2026-06-10 (#180 for 30 days)": a fill by its medicine, day and amount as written."""
    dispense = fill.dispense
    quantity = dispense.quantity.value if dispense.quantity is not None else None
    days = _days_written(dispense)
    amount = f" (#{number_text(quantity)} for {number_text(days)} days)" if quantity is not None and days else ""
    filled = fill_date(dispense)
    when = dispense.filled_partial or (iso_day(filled) if filled else "undated")
    return f"{fill.display_name} on {when}{amount}"


@dataclass(frozen=True)
class RenewedFill:
    """A current fill of an order a renewal (a draft, or a current signed order) names in its priorPrescription: the
    renewal replaces the order in the total, and the fill would go with it unread."""

    draft: MedOrder  # the renewal: a draft, or a current signed order
    renewed: OrderMme  # the order the draft renews, at its own dose
    fill: FillMme
    # The renewals between, nearest the draft first: a draft renewing a signed renewal of `renewed` (a chain).
    through: tuple[MedOrder, ...] = ()


def renewed_fill_doses(summary: MmeSummary, renewed: Iterable[RenewedFill]) -> MmeSummary:
    """Each draft counted at the largest dose a current fill of the order it renews implies, when that fill implies
    more than the renewed order (`fill_raises`) and more than the draft, with why; else the draft as it is. A fill
    that matched its order says nothing new (a renewal at a lower dose is a taper the prescriber means), but one above
    it says the patient may have been taking more than ordered, and the draft that replaces the order must not hide
    it: read without the link, as a renewal the draft implies, the same supply counts at the fill's dose."""
    above: dict[int, list[RenewedFill]] = {}
    unread: dict[int, list[FillMme]] = {}
    drafts = {id(r.order): r for r in summary.orders}
    for item in renewed:
        draft = drafts.get(id(item.draft))
        if draft is None:
            continue
        if renewal_raised(item.renewed.state, item.renewed.mme, draft.state, draft.mme, item.fill):
            above.setdefault(id(item.draft), []).append(item)
        elif fill_unread(draft.state, draft.mme, item.fill):
            # The draft stands for the fill: one whose dose is unknown is named on the draft, as on its order.
            unread.setdefault(id(item.draft), []).append(item.fill)
    if not above and not unread:
        return summary
    results = [
        _raised_by_renewed(named, above[id(r.order)]) if id(r.order) in above else named
        for r in summary.orders
        for named in (with_unread(r, unread.get(id(r.order), ())),)
    ]
    return replace(summary, orders=tuple(results), total=counted_total(results))


def renewal_raised(
    renewed_state: str, renewed_mme: Decimal | None, renewal_state: str, renewal_mme: Decimal | None, fill: FillMme
) -> bool:
    """Whether a renewal counts at the dose of a fill of the order it renews: the fill implies more than that order
    (`fill_raises`: the patient may have been taking more than ordered) and more than the renewal. The one rule the
    card's total (`renewed_fill_doses`) and the plan page's MME history apply."""
    return fill_raises(renewed_state, renewed_mme, fill) and fill_raises(renewal_state, renewal_mme, fill)


def _raised_by_renewed(result: OrderMme, items: Sequence[RenewedFill]) -> OrderMme:
    """The draft counted at the largest of the renewed order's fill doses above it, one sentence naming it."""
    largest = max(items, key=lambda i: i.fill.mme or 0)
    fill, renewed_mme = largest.fill, largest.renewed.mme or Decimal(0)
    which = "the last fill" if len(items) == 1 else "the largest of the current fills"
    text = (
        f"{which} of {_renewed_named(largest)}, {_fill_named(fill)}, implies "
        f"{format_mme(fill.mme or Decimal(0))} MME a day, more than that order's {format_mme(renewed_mme)} MME "
        f"and this order's {format_mme(result.mme or Decimal(0))} MME; the larger is counted (the patient may have "
        "been taking more than ordered)"
    )
    return counted_at_fill(result, fill, text)


def _renewed_named(item: RenewedFill) -> str:
    """ "the order this renews", or along a chain "order eOxy.Old, which this renews through order eOxy.New"."""
    if not item.through:
        return "the order this renews"
    between = " and ".join(f"order {o.id or 'unnamed'}" for o in item.through)
    return f"order {item.renewed.order.id or 'unnamed'}, which this renews through {between}"


def implausible_supply(dispense: Dispense, limit: int) -> Decimal | None:
    """The fill's days' supply when it is longer than `limit` days (`mme.max_opioid_fill_days`): a schedule II
    opioid fill over 90 days is not lawful in the US, so such a supply is likely the quantity keyed in as the days
    and the daily dose read from it too low. None for a supply within the limit or unknown."""
    days = days_supply(dispense)
    return days if days is not None and days > limit else None


# How far back the plan page's MME history (`plan.mme_history`) reads past supply: the last 12 months.
MME_HISTORY_MONTHS = 12


def mme_history_start(today: date) -> date:
    """The first day of the plan page's MME history (`plan.mme_history`); the kinds of named gaps that name the fills
    it counts read from the same day."""
    return months_before(today, MME_HISTORY_MONTHS)


def implausible_fills(
    supplies: Iterable[FillSupply], limit: int, since: date
) -> tuple[tuple[FillSupply, Decimal], ...]:
    """The fills of an implausible days' supply (`implausible_supply`) whose supply, as written, lasts to `since` or
    later, each with that supply: not only those reaching today. One that ended 45 days ago still makes the patient
    not opioid-naive, though its real supply (the quantity keyed in as the days) probably ended months ago."""
    found = []
    for supply in supplies:
        days = implausible_supply(supply.dispense, limit)
        if days is not None and supply.end is not None and supply.end >= since:
            found.append((supply, days))
    return tuple(found)


def implausible_detail(supply: FillSupply, days: Decimal, today: date) -> str:
    """ "days' supply 180", and for a supply that ended before today ", filled 2026-01-02, read as supplying to
    2026-05-01": the days it was counted on, which its real supply probably did not reach."""
    shown = f"days' supply {number_text(days)}"
    if supply.covers(today) or supply.end is None:
        return shown
    filled = supply.dispense.filled_partial or iso_day(supply.filled)
    return f"{shown}, filled {filled}, read as supplying to {iso_day(supply.end)}"
