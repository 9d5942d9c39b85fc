"""One pharmacy fill sent twice: the one rule that tells a fill that reached PainPlan twice from two fills.

A fill can arrive twice: in a hook's prefetch and again from a search or a Bulk page under another id (an HIE
gateway's, a payer feed's), as the EHR's dispense and as the payer's pharmacy claim for it, or billed under two claim
numbers. Read twice, it adds its days' supply again: the copy queues as an early refill, so a supply that ran out
seems current, its MME is counted in today's total, and a short course looks like long-term use. The cards, the plan
page (guideline.facts) and the population review (guideline.population.facts) all read fills through `read_once`.

The rule must never make two real fills one: merged, a supply the patient has is lost, and a card that should show
does not. So, unsure, it counts twice: two part fills of one prescription (a pharmacy that ran short hands over 30
tablets now and 30 later the same day) are two fills, and so are 60 tablets and 60 mL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING

from guideline import fills
from guideline.dosage import classify_unit
from guideline.fhirdata import Coding, Concept, Quantity
from guideline.identifiers import MARK, actor_key, actor_kind, by_identifier, comparable, named_kind
from guideline.orders import is_prescription
from guideline.record import Dispense, MedOrder
from guideline.record.identity import one_numbered, prescription_named
from guideline.units import normalise_unit

if TYPE_CHECKING:
    from guideline.terminology import Terminology

PRESCRIBER_TYPES = ("Practitioner", "PractitionerRole")

# HL7 v3 ActCode, the code system of MedicationDispense.type (ActPharmacySupplyType), as R4 names it, as STU3 and
# DSTU2 did, and by its OID: one system however a copy spells it.
ACT_CODE_SYSTEMS = frozenset(
    {
        "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "http://hl7.org/fhir/v3/ActCode",
        "urn:oid:2.16.840.1.113883.5.4",
    }
)
# The ActPharmacySupplyType codes: a coding of one of them that names no system is read as ActCode (the element's
# own code system), since a sender that drops the system still means it.
SUPPLY_TYPE_CODES = frozenset(
    {
        *("DF", "EM", "SO", "FS", "MS", "UD", "UDE"),
        *("FF", "FFC", "FFCS", "FFP", "FFPS", "FFSS", "TF", "TFS"),
        *("RF", "RFC", "RFCS", "RFF", "RFFS", "RFP", "RFPS", "RFS", "TB", "TBS"),
    }
)
# A fill that hands over part of what was ordered, the rest to follow: a part fill (first fill or refill, at full or
# partial strength) and a trial fill. Its next part may be handed over the same day in the same quantity.
PART_FILLS = frozenset({"FFP", "FFPS", "RFP", "RFPS", "TF", "TFS"})
ACT_CODE = "v3-ActCode"  # the one spelling of ActCode in a fill's type keys
_PART_FILL_KEYS = frozenset(f"{ACT_CODE}|{code}" for code in PART_FILLS)  # as `supply_type_keys` writes them

# The units a claim's bare quantity may be in (NCPDP billing units: each, mL, g), as `quantity_unit` keys them.
COUNT = "count"
BILLING_UNITS = frozenset({COUNT, "volume:1/1", "mass:1000/1"})


@dataclass(frozen=True, slots=True)
class FillMarks:
    """What one fill says that could tell it from another fill of the same day."""

    day: date
    drug: str  # fills.same_drug_key: the clinical drug (a brand and its generic are one)
    quantity: Decimal | None
    days_supply: Decimal | None
    prescriber: str | None
    pharmacy: str | None
    numbers: frozenset[tuple[str, str]]  # (system, value): prescription-fill numbers
    prescriptions: frozenset[str]  # the orders it names as filled (authorizingPrescription)
    claim: str | None  # the pharmacy claim it was read from
    # What kind of fill it says it was (`supply_type_keys`); empty when it does not say, as no claim does.
    supply_types: frozenset[str] = frozenset()
    handed_over_at: datetime | None = None  # when it was handed over, when written to the time of day
    unit: str | None = None  # its quantity's unit (`quantity_unit`); None for a bare number
    in_billing_units: bool = False  # a claim's bare quantity: in NCPDP billing units
    # Whether `prescriber` is named as the prescriber (its order's requester, a claim's prescribing performer), not
    # only as a practitioner performer, who may be the pharmacist who dispensed it (`possibly_same_fill`).
    prescriber_sure: bool = False
    # The reference that names `prescriber`, as the data resolved it (`NamedPrescriber.reference`): whether two
    # prescribers can be told apart at all (`identifiers.comparable`). None: read as `Type/id` on the EHR.
    prescriber_named_as: str | None = None

    @property
    def part_fill(self) -> bool:
        """A part fill or a trial fill (`PART_FILLS`), as its type keys say."""
        return not self.supply_types.isdisjoint(_PART_FILL_KEYS)


def same_fill(one: FillMarks, other: FillMarks) -> bool:
    """One fill sent twice: handed over on the same day, of the same clinical drug, in the same quantity (in one unit,
    `same_unit`) for the same days' supply, from the same prescriber and pharmacy, something both name ties them
    (`tied`), nothing numbers them apart (no fill number that differs under a system both carry, no two different
    prescriptions, not two lines of one claim), and what kind of fill each is does not set them apart
    (`typed_apart`)."""
    return (
        tied(one, other)
        and one.day == other.day
        and one.drug == other.drug
        and same_amount(one, other)
        and one.prescriber == other.prescriber
        and one.pharmacy == other.pharmacy
        and not numbered_apart(one.numbers, other.numbers)
        and not (one.prescriptions and other.prescriptions and not one.prescriptions & other.prescriptions)
        and (one.claim is None or one.claim != other.claim)
        and not typed_apart(one, other)
    )


def same_amount(one: FillMarks, other: FillMarks) -> bool:
    """The same quantity, in one unit however it is spelled (`same_unit`), for the same days' supply (in days)."""
    return one.quantity == other.quantity and same_unit(one, other) and one.days_supply == other.days_supply


def same_unit(one: FillMarks, other: FillMarks) -> bool:
    """Whether the two quantities are in one unit: the same unit however it is spelled ("Tablet", "TAB", "{tbl}",
    "EA"; "mL", "ML"), or a bare number and a unit it means: a dispense's bare number is a count of dose units (as
    PainPlan reads it), a claim's an NCPDP billing unit (each, mL or g). 60 tablets and 60 mL are two fills, and so
    are a dispense's bare 60 and 60 mL: it may mean bottles, and unsure, both are counted."""
    if one.unit == other.unit:
        return True
    if one.unit is not None and other.unit is not None:
        return False
    bare, stated = (one, other.unit) if one.unit is None else (other, one.unit)
    return stated in BILLING_UNITS if bare.in_billing_units else stated == COUNT


def typed_apart(one: FillMarks, other: FillMarks) -> bool:
    """Whether the kind of fill each says it was makes them two fills: two kinds (a trial fill and its balance, a
    part fill and a complete one), or both part or trial fills (a pharmacy that ran short hands over 30 tablets now
    and 30 later, one kind, day and quantity). A fill that says nothing (a claim never does) is set apart by nothing.
    Only one moment of hand-over, written to the time of day, makes such fills one again; a shared fill number does
    not, since a pharmacy sends each part of a fill under its prescription and fill number."""
    if not one.supply_types or not other.supply_types:
        return False
    if one.supply_types & other.supply_types and not (one.part_fill and other.part_fill):
        return False
    return one.handed_over_at is None or one.handed_over_at != other.handed_over_at


def tied(one: FillMarks, other: FillMarks) -> bool:
    """Whether the two fills name something in common that makes them one fill: a fill number, the prescription
    filled, the prescriber or the pharmacy. Two fills that name none of these are two fills: day, drug and quantity
    alone cannot tell a copy from a second real fill, and merged, that fill's dose went uncounted."""
    return bool(
        one.numbers & other.numbers
        or one.prescriptions & other.prescriptions
        or (one.prescriber is not None and one.prescriber == other.prescriber)
        or (one.pharmacy is not None and one.pharmacy == other.pharmacy)
    )


def numbered_apart(mine: frozenset[tuple[str, str]], theirs: frozenset[tuple[str, str]]) -> bool:
    """Whether a system both fills carry numbers them differently (an EHR's and a payer's numbers are two systems,
    so they never tell a fill from its claim)."""
    systems = {system for system, _ in mine} & {system for system, _ in theirs}
    return any({v for s, v in mine if s == system} != {v for s, v in theirs if s == system} for system in systems)


def possibly_same_fill(one: FillMarks, other: FillMarks) -> bool:
    """Alike as one fill sent twice (`same_fill`) in all but the prescriber, not known to be the same: one of the two
    names none, or only a practitioner performer (who may be the pharmacist), or the two are named so that nothing
    tells them apart (`prescribers_apart`). Perhaps one fill sent twice, perhaps two fills: unsure, both are counted,
    and named (`possible_copies`). Two prescribers each named as such, and comparably, are two fills."""
    if one.prescriber == other.prescriber or prescribers_apart(one, other):
        return False
    return same_fill(replace(one, prescriber=None), replace(other, prescriber=None))


def prescribers_apart(one: FillMarks, other: FillMarks) -> bool:
    """Whether two fills' prescribers are known to be two: each named as the prescriber, and named comparably
    (`identifiers.comparable`: both by reference on one server, or both by NPI). One named by reference and one by
    NPI alone that nothing in the data joins (the EHR's order names `Practitioner/p1`, the payer's claim an NPI) may
    be one person as well as two: read as two, one fill sent twice was counted twice and nothing said so."""
    if not (one.prescriber_sure and other.prescriber_sure):
        return False
    return comparable(one.prescriber_named_as or "", other.prescriber_named_as or "")


@dataclass(frozen=True, slots=True)
class SentTwice:
    """A fill left out as a copy, and the fill it repeats (the one read)."""

    copy: Dispense
    kept: Dispense


@dataclass(frozen=True, slots=True)
class PossibleCopy:
    """A fill counted that may be a copy of another fill counted (`possibly_same_fill`): both are read."""

    copy: Dispense
    of: Dispense  # the fill it may repeat, the one `read_once` would have read


def read_once(
    dispenses: Sequence[Dispense],
    counts: Callable[[Dispense], bool],
    marks_of: Callable[[Dispense], FillMarks],
) -> tuple[tuple[Dispense, ...], tuple[SentTwice, ...]]:
    """The fills with each fill sent twice (`same_fill`) read once, in their order, and the copies left out. Only
    dated fills that `counts` are compared; `marks_of` is asked only of fills sharing a day and a quantity with
    another. The copy read is the one that says most (`_read_first`), else the first by id: the same one whatever
    order the fills came in, so the cards and both engines of the population review read the same fill."""
    return _read_once(dispenses, _same_day_fills(dispenses, counts), marks_of)


def _read_once(
    dispenses: Sequence[Dispense], same_day: list[list[Dispense]], marks_of: Callable[[Dispense], FillMarks]
) -> tuple[tuple[Dispense, ...], tuple[SentTwice, ...]]:
    """`read_once`, over the fills `same_day` groups (`_same_day_fills` of `dispenses`)."""
    copies: list[SentTwice] = []
    for fills_that_day in same_day:
        copies += _copies(fills_that_day, marks_of)
    if not copies:
        return tuple(dispenses), ()
    left_out = {id(c.copy) for c in copies}
    return tuple(d for d in dispenses if id(d) not in left_out), tuple(copies)


def possible_copies(
    dispenses: Sequence[Dispense],
    counts: Callable[[Dispense], bool],
    marks_of: Callable[[Dispense], FillMarks],
) -> tuple[PossibleCopy, ...]:
    """Among fills already read once (`read_once`), each that `counts` and may be a copy of another
    (`possibly_same_fill`), with the fill it may repeat (the one read first, `_read_first`): both are counted, and
    named so the dose they may double is never silent."""
    return _possible_copies(_same_day_fills(dispenses, counts), marks_of)


def _possible_copies(
    same_day: list[list[Dispense]], marks_of: Callable[[Dispense], FillMarks]
) -> tuple[PossibleCopy, ...]:
    """`possible_copies`, among the fills `same_day` groups (`_same_day_fills`)."""
    found: list[PossibleCopy] = []
    for fills_that_day in same_day:
        alike = _alike(fills_that_day)
        marks = [marks_of(d) for d in alike]
        for later in range(1, len(alike)):
            of = next((alike[i] for i in range(later) if possibly_same_fill(marks[i], marks[later])), None)
            if of is not None:
                found.append(PossibleCopy(alike[later], of))
    return tuple(found)


def _same_day_fills(dispenses: Sequence[Dispense], counts: Callable[[Dispense], bool]) -> list[list[Dispense]]:
    """The dated fills that `counts`, by day, each day of two or more in the order they are read (`_read_first`)."""
    # Run on every call: the days are counted first (Counter counts in C), and only fills of a day that holds
    # another fill are asked `counts`, so a chart where no two fills share a day costs one pass.
    days = list(map(fills.fill_date, dispenses))
    shared = {day for day, fills_that_day in Counter(days).items() if fills_that_day > 1 and day is not None}
    if not shared:
        return []
    by_day: dict[date, list[Dispense]] = {}  # in the order of each day's first counted fill, as before
    for dispense, day in zip(dispenses, days, strict=True):
        if day in shared and counts(dispense):
            by_day.setdefault(day, []).append(dispense)
    return [sorted(same_day, key=_read_first) for same_day in by_day.values() if len(same_day) > 1]


def _left_after(
    same_day: list[list[Dispense]], kept: Sequence[Dispense], copies: Sequence[SentTwice]
) -> list[list[Dispense]]:
    """`_same_day_fills` of `kept`, the fills read once, from that of the fills before (`same_day`) and the `copies`
    left out, without going through the fills again: each day less its copies, a day left with one fill dropped, in
    the order of each day's first fill kept (a day's first fill may have been a copy)."""
    if not copies:
        return same_day
    left_out = {id(c.copy) for c in copies}
    days = [[d for d in fills_that_day if id(d) not in left_out] for fills_that_day in same_day]
    days = [fills_that_day for fills_that_day in days if len(fills_that_day) > 1]
    at = {id(d): n for n, d in enumerate(kept)}
    return sorted(days, key=lambda fills_that_day: min(at[id(d)] for d in fills_that_day))


def _read_first(dispense: Dispense) -> tuple[bool, bool, bool, str]:
    """The copy read first: a quantity with its unit, then one known handed over (a copy of unknown status is
    counted only on trust), then one naming its prescription (a copy naming none is tied to no order and queues as
    an early refill), then the id."""
    quantity = dispense.quantity
    return (
        quantity is None or not (quantity.unit or quantity.code),
        not fills.known_in_hand(dispense),
        not dispense.authorizing_prescriptions,
        dispense.id or "",
    )


def _copies(ordered: list[Dispense], marks_of: Callable[[Dispense], FillMarks]) -> list[SentTwice]:
    """The copies among one day's fills. A fill is a copy of a fill read only when it is `same_fill` with it and
    with every copy of it already found: a copy that carries no fill number matches two fills numbered apart, and
    must not make them one."""
    kept: list[tuple[list[FillMarks], Dispense]] = []
    copies: list[SentTwice] = []
    for dispense in _alike(ordered):
        marks = marks_of(dispense)
        one = next(((seen, read) for seen, read in kept if all(same_fill(marks, m) for m in seen)), None)
        if one is None:
            kept.append(([marks], dispense))
        else:
            one[0].append(marks)
            copies.append(SentTwice(dispense, one[1]))
    return copies


def _alike(ordered: list[Dispense]) -> list[Dispense]:
    """The fills of one day in the quantity of another: a fill is a copy only of one in the same quantity, so the
    others are passed over before their marks (the drug's key, the actors) are worked out."""
    quantities = [_quantity(d) for d in ordered]
    return [d for d, mine in zip(ordered, quantities, strict=True) if sum(q == mine for q in quantities) > 1]


def fill_marks(
    dispense: Dispense,
    drug: str,
    prescriber: str | None,
    pharmacy: str | None,
    *,
    prescriber_sure: bool = False,
    prescriber_named_as: str | None = None,
) -> FillMarks:
    """A dated fill's marks, with its drug key and its prescriber (named as such, or `prescriber_sure`; by the
    reference `prescriber_named_as`) and pharmacy as the caller names them."""
    day = fills.fill_date(dispense)
    assert day is not None  # read_once compares dated fills only
    return FillMarks(
        day=day,
        drug=drug,
        quantity=_quantity(dispense),
        days_supply=fills.days_supply(dispense),
        prescriber=prescriber,
        pharmacy=pharmacy,
        numbers=frozenset(dispense.numbers),
        prescriptions=frozenset(_prescription(ref, dispense) for ref in dispense.authorizing_prescriptions),
        claim=dispense.claim,
        supply_types=supply_type_keys(dispense.supply_type),
        handed_over_at=_time_written(dispense.when_handed_over),
        unit=quantity_unit(dispense.quantity),
        in_billing_units=dispense.billing_units,
        prescriber_sure=prescriber_sure and prescriber is not None,
        prescriber_named_as=prescriber_named_as if prescriber is not None else None,
    )


def relayed_fills(
    dispenses: Sequence[Dispense], drug: Callable[[Dispense], str | None]
) -> tuple[tuple[Dispense, Dispense], ...]:
    """Each fill from another server that is the EHR's fill relayed under its own id, as (the copy, the EHR's fill):
    it shares a fill number (system and value) with exactly one EHR fill (`identity.one_numbered`), names the same
    identified drug (`drug`: its key, None when not identified), and was handed over (else prepared) the same day in
    the same amount (`same_amount`: quantity and days' supply, each known). Its links are the other server's (its
    order, its pharmacy), so they cannot tie it to the EHR's fill as `same_fill` ties a fill one server sent twice:
    read twice, it stood for an order of its own (120 MME/day for 60). Anything less is two fills (an over-count,
    never a loss)."""
    elsewhere = [d for d in dispenses if d.source and d.numbers]
    if not elsewhere:  # the usual chart: the EHR's own fills only
        return ()
    ours = [d for d in dispenses if d.source is None]
    return tuple(
        (copy, kept)
        for copy, kept in one_numbered(elsewhere, ours, lambda fill: fill.numbers)
        if (key := drug(copy)) is not None and key == drug(kept) and _same_hand_over(copy, kept, key)
    )


def _same_hand_over(copy: Dispense, kept: Dispense, drug: str) -> bool:
    """Whether two fills of one drug were handed over (else prepared) the same day in the same amount, its quantity
    and days' supply each known."""
    day = fills.fill_date(copy)
    if day is None or day != fills.fill_date(kept):
        return False
    one, other = (fill_marks(d, drug, None, None) for d in (copy, kept))
    return one.quantity is not None and one.days_supply is not None and same_amount(one, other)


def supply_type_keys(supply_type: Concept | None) -> frozenset[str]:
    """A fill's type as keys two copies of it share: each coding as `system|code`, ActCode as one system however it
    is spelled (and its codes in capitals); a type in words alone as its words."""
    if supply_type is None:
        return frozenset()
    keys = {f"{system}|{code}" for system, code in map(_supply_coding, supply_type.codings) if code}
    if not keys and supply_type.text and supply_type.text.strip():
        keys.add("text|" + " ".join(supply_type.text.lower().split()))
    return frozenset(keys)


def _supply_coding(coding: Coding) -> tuple[str, str]:
    """(system, code) of one coding of a fill's type, ActCode under its one spelling."""
    code = (coding.code or "").strip()
    if coding.system in ACT_CODE_SYSTEMS or (not coding.system and code.upper() in SUPPLY_TYPE_CODES):
        return ACT_CODE, code.upper()
    return coding.system or "", code


def _time_written(moment: datetime | None) -> datetime | None:
    """When a fill was handed over, if written to the time of day: a date alone reads as local midnight, which
    tells nothing of when in the day."""
    return moment if moment is not None and moment.time() != time(0) else None


def quantity_unit(quantity: Quantity | None) -> str | None:
    """A quantity's unit as one key however it is spelled: a count of dose units ("Tablet", "TAB", "{tbl}", "EA")
    as `COUNT`, a mass, volume or patch rate as its scale to mg, mL or mcg/h ("mL" and "ML" one, "L" another), any
    other unit as written, tidied ("box"); None for a bare number."""
    if quantity is None or not (quantity.unit or quantity.code):
        return None
    unit_class, multiply, divide = classify_unit(quantity)
    if unit_class == "count":
        return COUNT
    if unit_class in ("mass", "volume", "patch-rate"):
        return f"{unit_class}:{multiply.normalize():f}/{divide.normalize():f}"
    return f"{unit_class}:{normalise_unit(quantity.unit) or normalise_unit(quantity.code)}"


def _quantity(dispense: Dispense) -> Decimal | None:
    """The quantity a fill's marks carry: its value normalized, so 30 and 30.0 are one quantity."""
    quantity = dispense.quantity.value if dispense.quantity is not None else None
    return quantity.normalize() if isinstance(quantity, Decimal) else quantity


def _prescription(ref: str, dispense: Dispense) -> str:
    """An authorizingPrescription as the one identity of the order it names (`identity.prescription_named`): another
    server's whole, so two servers' order 123 are two prescriptions; one contained in the fill ("#rx1") as that
    fill's own, since two fills each containing their own "#rx1" name two orders."""
    return prescription_named(ref, dispense.id or str(id(dispense))) or ref


# ---------------------------------------------------------------------------------------------------------------
# At the point of care: the cards and the plan page


@dataclass(frozen=True, slots=True)
class ReadOnce:
    """The record's fills read once at the point of care, and the fills kept that share a day with another."""

    kept: tuple[Dispense, ...]
    copies: tuple[SentTwice, ...]
    # `_same_day_fills` of `kept`, worked out from the days found for reading the fills once (`_left_after`):
    # finding possible copies looks among the same days, so the record's fills are gone through by day once a call.
    same_day: list[list[Dispense]]


def read_once_at_the_point_of_care(
    dispenses: Sequence[Dispense], marks_of: Callable[[Dispense], FillMarks]
) -> ReadOnce:
    """The record's fills with each fill sent twice read once (`read_once`), among the fills the cards count
    (`fills.counts_as_fill`), marked by `marks_at_the_point_of_care`."""
    same_day = _same_day_fills(dispenses, fills.counts_as_fill)
    kept, copies = _read_once(dispenses, same_day, marks_of)
    return ReadOnce(kept, copies, _left_after(same_day, kept, copies))


def possible_copies_at_the_point_of_care(
    read: ReadOnce, marks_of: Callable[[Dispense], FillMarks]
) -> tuple[PossibleCopy, ...]:
    """The fills the cards count, read once (`read`), that may be copies of another (`possible_copies`), marked as
    `read_once_at_the_point_of_care` marks them (`marks_at_the_point_of_care`)."""
    return _possible_copies(read.same_day, marks_of)


def marks_at_the_point_of_care(orders: Sequence[MedOrder], terms: Terminology) -> Callable[[Dispense], FillMarks]:
    """A fill's marks as the cards read them, each fill's worked out once (`remembered_marks`): the prescriber read
    through the order a fill names among the record's `orders` (`prescriber_named`), as the population review reads
    it, and an NPI of no type as the Practitioner an order names by it (`by_npi_as_ordered`). With no export's
    directory to look numbers up in, a prescriber or pharmacy is the actor as the record read it (a reference by NPI
    is the Practitioner sent with the chart that carries it, `identity.who`): one named by reference and one by NPI
    or NCPDP number that nothing in the chart joins are not known to be one, so such fills are both read (and a
    prescriber so named two ways is not known to be two either, `prescribers_apart`)."""
    # Read when a marked fill first names its order (one naming none is read through no order): most calls mark no
    # fill at all, so the record's orders are not gone through on every call for nothing.
    filled_from: list[MedOrder] | None = None
    practitioner = by_npi_as_ordered(named_practitioner, orders)

    def marks(dispense: Dispense) -> FillMarks:
        nonlocal filled_from
        if filled_from is None and dispense.authorizing_prescriptions:
            filled_from = prescriptions(orders)
        named = prescriber_named(dispense, filled_from or (), practitioner)
        drug = fills.same_drug_key(dispense, terms)
        return named.marks(dispense, drug, named_pharmacy(dispense))

    return remembered_marks(marks)


def remembered_marks(marks_of: Callable[[Dispense], FillMarks]) -> Callable[[Dispense], FillMarks]:
    """`marks_of`, each fill's marks worked out once: reading fills sent twice once and finding possible copies
    compare the same fills (the fill is kept beside its marks, so a reused `id()` is never taken for it)."""
    seen: dict[int, tuple[Dispense, FillMarks]] = {}

    def marks(dispense: Dispense) -> FillMarks:
        found = seen.get(id(dispense))
        if found is None or found[0] is not dispense:
            found = seen[id(dispense)] = (dispense, marks_of(dispense))
        return found[1]

    return marks


def prescriptions(orders: Iterable[MedOrder]) -> list[MedOrder]:
    """The orders a fill may be filled from: a draft, a medication reported as taken, or a proposal, prescribed
    nothing."""
    return [o for o in orders if not o.is_draft and is_prescription(o)]


@dataclass(frozen=True, slots=True)
class NamedPrescriber:
    """A fill's prescriber as `prescriber_read` reads it: who, the reference that names them, and whether named as
    the prescriber."""

    who: str | None
    reference: str | None  # as written in the record (a hook's, resolved by `identity.who`)
    sure: bool

    def marks(self, dispense: Dispense, drug: str, pharmacy: str | None, reference: str | None = None) -> FillMarks:
        """The fill's marks with this prescriber (`fill_marks`), named by `reference` when the caller resolved it
        further (the population review, through its directory), else by the record's."""
        named_as = reference or self.reference
        return fill_marks(dispense, drug, self.who, pharmacy, prescriber_sure=self.sure, prescriber_named_as=named_as)


def prescriber_named(
    dispense: Dispense, filled_from: Sequence[MedOrder], practitioner: Callable[[str], str | None]
) -> NamedPrescriber:
    """The prescriber a fill names (`prescriber_read`), through the order its authorizingPrescription names among
    `filled_from` (`fills.authorized_order`)."""
    order = fills.authorized_order(dispense, filled_from) if dispense.authorizing_prescriptions else None
    return prescriber_read(dispense, order, practitioner)


def fill_prescriber(
    dispense: Dispense, order: MedOrder | None, practitioner: Callable[[str], str | None]
) -> str | None:
    """The prescriber of a fill filled from `order` (`prescriber_read`)."""
    return prescriber_read(dispense, order, practitioner).who


def prescriber_read(
    dispense: Dispense, order: MedOrder | None, practitioner: Callable[[str], str | None]
) -> NamedPrescriber:
    """The prescriber of a fill, the one rule of the cards and the population review: the requester of the order it
    was filled from, else a claim's prescribing performer, else a practitioner performer, each as `practitioner`
    names it (None: not a prescriber); and whether it is named as the prescriber (not the last, who may be the
    pharmacist). An EHR's dispense names its prescriber only through its order: read as naming none, it was never
    one with the HIE's or the payer's copy that names the prescriber directly."""
    if order is not None and order.requester:
        found = practitioner(order.requester)
        if found:
            return NamedPrescriber(found, order.requester, True)
    for sure, named in ((True, dispense.prescribers), (False, dispense.performers)):
        for reference in named:
            found = practitioner(reference)
            if found:
                return NamedPrescriber(found, reference, sure)
    return NamedPrescriber(None, None, False)


def by_npi_as_ordered(
    practitioner: Callable[[str], str | None], orders: Sequence[MedOrder]
) -> Callable[[str], str | None]:
    """`practitioner`, with a fill's NPI of no stated type read as a Practitioner's when a prescription among `orders`
    names its prescriber as the Practitioner that carries it (`ordered_npis`): the data's own word that the NPI is
    hers, so an HIE's copy naming her by NPI alone and the EHR's fill naming her through its order name one
    prescriber. Any other NPI of no type stays as `practitioner` reads it (none: it may be a pharmacy's)."""
    known: frozenset[str] | None = None  # worked out when a fill first names an NPI of no type (rare)

    def named(ref: str) -> str | None:
        nonlocal known
        found = practitioner(ref)
        if found is not None or not ref.startswith(MARK):
            return found
        if known is None:
            known = ordered_npis(prescriptions(orders))
        key = by_identifier(ref)
        return practitioner("Practitioner" + ref) if key is not None and key[1] in known else None

    return named


def ordered_npis(orders: Iterable[MedOrder]) -> frozenset[str]:
    """The NPIs (`identifier_key`) the orders name their prescriber by as a Practitioner: a Practitioner contained in
    the order that carries it, or a requester by NPI of the type Practitioner, as the record reads them. (A role by
    NPI is not taken: read as `Practitioner`, the fill's NPI would be another prescriber than the order's role.)"""
    found = set()
    for order in orders:
        named = by_identifier(order.requester) if order.requester else None
        if named is not None and named[0] == "Practitioner" and named[1].startswith("npi|"):
            found.add(named[1])
    return frozenset(found)


def named_practitioner(ref: str) -> str | None:
    """A prescriber as a reference names it (`Practitioner` or `PractitionerRole`, one spelling of who), None for
    any other actor: at the point of care there is no directory to read a role through to its practitioner."""
    kind, key = _actor(ref)
    return key if kind in PRESCRIBER_TYPES else None


def named_pharmacy(dispense: Dispense) -> str | None:
    """The pharmacy a fill names, as the reader read it (`Dispense.pharmacy`: an organisation performer, an NCPDP
    number always one; else a STU3 performer's onBehalfOf; else where it was dispensed; else a dispenser named by
    NPI alone)."""
    return _actor(dispense.pharmacy)[1] if dispense.pharmacy else None


def _actor(ref: str) -> tuple[str, str]:
    """(the type it names, one spelling of who it is): `Type/id`, or the type and the identifier's one spelling."""
    named = by_identifier(ref)
    if named is None:  # another server's (absolute, as the reader located it) whole: its ph1 is not the EHR's
        return actor_kind(ref), actor_key(ref)
    kind = named_kind(*named)
    return kind, f"{kind}?{named[1]}"
