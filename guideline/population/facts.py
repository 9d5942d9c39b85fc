"""A cohort patient's facts for the measures: pain-opioid supplies, benzodiazepines, naloxone, tests, diagnoses."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any, TypeVar

from guideline import fills, sent_twice
from guideline.clinical import is_visible
from guideline.config import GuidelineConfig
from guideline.fhirdata import as_dict, as_list, text, written_days
from guideline.history import order_interval
from guideline.identifiers import actor_reference
from guideline.mme import compute_mme
from guideline.orders import ENDED, is_prescription, is_taken, order_start
from guideline.population.actors import by_identifier_in, resolve_actor
from guideline.population.claims import is_claim_number
from guideline.population.medicines import Kind, medication_kind, unidentified_key
from guideline.population.model import Directory, OpioidFill, Period
from guideline.population.quality import Quality
from guideline.recognition.diagnoses import in_diagnosis_set
from guideline.record import Dispense, MedOrder, Observation, PatientRecord
from guideline.supply import one_place, order_supply
from guideline.terminology import ER_LA, OPIOID_POISONING, OUD, Terminology
from guideline.timeutil import local_date
from guideline.uds import drug_test_procedures, tests_done, unread_drug_test_reports

# Spec 3: orders count when active or completed. R5's ended (`orders.ENDED`) is what an R5 server calls a
# prescription that ran its course: read by R4's statuses, such a server's every past prescription went uncounted.
ORDER_STATUSES = frozenset({"active", "completed", ENDED})


@dataclass(frozen=True)
class Supply:
    """A benzodiazepine supply: the days it covers (only the day it was filled when its days' supply is unknown)."""

    filled: date
    start: date
    end: date
    name: str = ""
    days_unknown: bool = False


@dataclass(frozen=True)
class PatientFacts:
    patient_id: str
    source: str  # "fills" | "orders"
    opioids: tuple[OpioidFill, ...]  # pain-opioid supplies dated from 90 days before the look-back year on
    # Active/completed pain-opioid order intervals, and those of opioids reported as taken (new-start look-back).
    opioid_orders: tuple[tuple[date, date], ...]
    benzodiazepines: tuple[Supply, ...]
    naloxone: tuple[date, ...]  # naloxone fills and orders
    # The year's urine drug tests, oldest first, each dated as written: a day, or a month or a year ("2026-05")
    # every day of which is in the year.
    urine_tests: tuple[str, ...]
    oud_diagnosis: str | None
    # Who is who, so that the evidence names each fill's prescriber and pharmacy as a reader knows them
    # (guideline.population.actors.clinician_name), not by the export's ids.
    directory: Directory = field(default_factory=Directory, compare=False, repr=False)
    # The names the patient's fills, orders and claims show for a prescriber or pharmacy (a reference's `display`)
    # by the `Type/id` it resolves to: a claim names them by NPI, with a display, when the directory holds neither.
    displays: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def opioids_in(self, low: date, high: date) -> tuple[OpioidFill, ...]:
        return tuple(f for f in self.opioids if low <= f.filled <= high)


def fill_counts(dispense: Dispense) -> bool:
    """Spec 3: a fill counts when its status is completed or absent (claims feeds often send no status). Deliberately
    not fills.counts_as_fill, which at the point of care also counts in-progress and needs a status."""
    return dispense.status in (None, "completed")


def _order_counts(order: MedOrder) -> bool:
    """Spec 3: an order counts when active or completed; and only a prescription counts (not a proposal, a plan or
    an option, which the hook cards leave out too, nor a medication reported as taken, prescribed elsewhere)."""
    return not order.is_draft and order.status in ORDER_STATUSES and is_prescription(order)


def _reported_in_use(order: MedOrder) -> bool:
    """An active or completed medication reported as taken (a documented home medication): use, not prescribing."""
    return not order.is_draft and order.reported and is_taken(order) and order.status in ORDER_STATUSES


def _intent_label(order: MedOrder) -> str:
    """How data-quality.json names the intent an order was left out for."""
    intent = order.intent or "(none)"
    return f"{intent} (reported as taken)" if order.reported else intent


class _Reader:
    """Reads one record's medicines once (classification is memoised by the terminology)."""

    def __init__(
        self,
        record: PatientRecord,
        raw: Mapping[str, Mapping[str, Any]],
        directory: Directory,
        config: GuidelineConfig,
        terms: Terminology,
        quality: Quality,
    ) -> None:
        self.record, self.raw, self.directory = record, raw, directory
        self.config, self.terms, self.quality = config, terms, quality
        self.kinds: dict[int, Kind] = {}

    @cached_property
    def prescriptions(self) -> tuple[MedOrder, ...]:
        """The orders a fill may be filled from (`sent_twice.prescriptions`), as the cards read them: read once per
        record, for the fills' prescribers, their copies and the prescription each was filled from."""
        return tuple(sent_twice.prescriptions(self.record.orders))

    @cached_property
    def marks(self) -> Callable[[Dispense], sent_twice.FillMarks]:
        """`_marks`, each fill's worked out once per record: reading fills sent twice once and counting possible
        copies compare the same fills (`sent_twice.remembered_marks`, as the cards remember them)."""
        return sent_twice.remembered_marks(_marks(self))

    def kind(self, item: Dispense | MedOrder) -> Kind:
        key = id(item.medication)
        if key not in self.kinds:
            self.kinds[key] = medication_kind(item.medication, self.terms)
        return self.kinds[key]

    def practitioner(self, reference: str | None) -> str | None:
        """A prescriber as `Practitioner/id` (a PractitionerRole is read through to its practitioner; one named by
        identifier alone, through the directory)."""
        local = resolve_actor(reference, self.directory)
        if not local:
            return None
        kind, _, ident = local.partition("/")
        if kind == "PractitionerRole":
            practitioner = self.directory.roles.get(ident, (None, None))[0]
            return f"Practitioner/{practitioner}" if practitioner else local
        return local if kind == "Practitioner" else None

    def prescriber(self, dispense: Dispense, order: MedOrder | None) -> str | None:
        """The fill's prescriber by the cards' rule (`sent_twice.fill_prescriber`: the order's requester, else a
        claim's prescribing performer, else a practitioner performer), read through the directory."""
        return sent_twice.fill_prescriber(dispense, order, self.practitioner)

    def pharmacy(self, dispense: Dispense) -> str | None:
        """The fill's pharmacy: a performer the directory says is an Organization (a claim names it by NPI alone),
        else the pharmacy the fill names (`Dispense.pharmacy`: its Organization performer, a STU3 performer's
        onBehalfOf, its location, or a dispenser by identifier alone) when it is an organisation or a place. STU3
        named the pharmacist as the actor and the pharmacy as `onBehalfOf`, which R4 dropped: read as R4 alone,
        every STU3 fill named no pharmacy and OMP saw none."""
        for performer in dispense.performers:
            local = resolve_actor(performer, self.directory)
            if local and local.startswith("Organization/"):
                return local
        local = resolve_actor(dispense.pharmacy, self.directory)
        return local if local and local.startswith(("Organization/", "Location/")) else None


def _distinct_fills(reader: _Reader, dispenses: Sequence[Dispense], patient_id: str) -> tuple[Dispense, ...]:
    """The fills with each fill sent twice read once, by the cards' rule (guideline.sent_twice), the prescriber and
    pharmacy as the export's directory names them. Each copy is counted once: in `duplicate_claim_fills` when both
    it and the fill read are claim lines (one fill billed under two claim numbers), else in `duplicate_fills`. The
    fills kept apart only by their claim numbers are named (`_told_apart_by_claim_number`)."""
    marks = reader.marks
    kept, copies = sent_twice.read_once(dispenses, fill_counts, marks)
    for copy in copies:
        if copy.copy.claim is not None and copy.kept.claim is not None:
            reader.quality.duplicate_claim_fills += 1
        else:
            reader.quality.duplicate_fills += 1
    told_apart = _told_apart_by_claim_number(reader, kept, marks)
    if told_apart:
        reader.quality.claim_fills_told_apart_by_number[patient_id] += told_apart
    return kept


# The kinds whose fills a measure adds up (MME, days' supply, overlap): one counted twice makes a finding.
_SUPPLY_KINDS = frozenset({"opioid", "benzodiazepine"})


def _marks(reader: _Reader) -> Callable[[Dispense], sent_twice.FillMarks]:
    """A fill's marks as the review compares them, the prescriber and pharmacy as the export's directory names them."""
    # The prescriber as the measures read it, through the prescription a fill names: an EHR's dispense names its
    # prescriber only so, and read as naming none, it was never one with the payer's claim for it.
    orders = reader.prescriptions
    practitioner = sent_twice.by_npi_as_ordered(reader.practitioner, orders)

    def marks(dispense: Dispense) -> sent_twice.FillMarks:
        drug = fills.same_drug_key(dispense, reader.terms)
        named = sent_twice.prescriber_named(dispense, orders, practitioner)
        return named.marks(dispense, drug, reader.pharmacy(dispense), _as_resolved(reader, named.reference))

    return marks


def _as_resolved(reader: _Reader, reference: str | None) -> str | None:
    """A prescriber's reference as the export's directory resolves it: one by NPI that the directory holds is that
    Practitioner's `Type/id` (so known to be, or not to be, the one an order names by reference); else as written."""
    identified = by_identifier_in(reference, reader.directory)
    # The directory's half of `resolve_actor` only: an NPI the directory does not hold stays an NPI, never the
    # `Practitioner/npi-…` id resolve_actor makes up for it. Read as a reference, that id would be comparable with an
    # order's `Practitioner/p1` (`sent_twice.prescribers_apart`), and two fills told apart by prescriber though
    # nothing says whose the NPI is.
    return (identified[1] if identified else None) or reference


def _count_possible_copies(reader: _Reader, by_kind: Mapping[str, Sequence[Dispense]]) -> None:
    """Counts, by kind, the opioid and benzodiazepine fills read that may each be a copy of another read
    (`sent_twice.possible_copies`, the cards' one function: alike in all but a prescriber only one of the two names
    as such). Both are counted, as the cards count them, so a dose or days' supply the measures add up may be
    doubled: never silently."""
    marks = reader.marks
    for kind in sorted(_SUPPLY_KINDS):
        found = sent_twice.possible_copies(by_kind.get(kind, ()), fill_counts, marks)
        if found:
            reader.quality.fills_possibly_sent_twice[kind] += len(found)


def _told_apart_by_claim_number(
    reader: _Reader, kept: Sequence[Dispense], marks: Callable[[Dispense], sent_twice.FillMarks]
) -> int:
    """How many of the fills read (after fills sent twice are read once) would be copies of another but for their
    claim numbers: two same-day claims one payer numbered apart, alike in everything else (`sent_twice.same_fill`).
    Both are counted (two part fills of one day, as the payer adjudicated them), but a feed that rebills a claim
    under a new number without reversing the old one doubles the fill; only opioid and benzodiazepine fills, whose
    supply a measure adds up, are counted."""
    claims = [d for d in kept if d.claim is not None and reader.kind(d) in _SUPPLY_KINDS and _claim_numbered(d)]
    if len(claims) < 2:
        return 0

    def unnumbered(dispense: Dispense) -> sent_twice.FillMarks:
        found = marks(dispense)
        return replace(found, numbers=frozenset(n for n in found.numbers if not is_claim_number(n[0])))

    return len(sent_twice.read_once(claims, fill_counts, unnumbered)[1])


def _claim_numbered(dispense: Dispense) -> bool:
    return any(is_claim_number(system) for system, _ in dispense.numbers)


def _drug_key(reader: _Reader) -> Callable[[Dispense | MedOrder], str]:
    """The refill "same drug" key under the reader's terminology (fills.same_drug_key remembers it per medication)."""
    return lambda item: fills.same_drug_key(item, reader.terms)


def _supply_key(reader: _Reader) -> Callable[[Dispense | MedOrder], str]:
    """The key pairing a fill with its own order under the reader's terminology (`fills.supply_key`)."""
    return lambda item: fills.supply_key(item, reader.terms)


def _with_derived_days(dispense: Dispense, order: MedOrder | None, reader: _Reader) -> Dispense:
    """Spec 4: a fill without days' supply takes it from its order's dosage when there is one (guideline.fills)."""
    if fills.days_supply(dispense) is not None:
        return dispense
    derived = fills.days_supply_or_derived(dispense, order, reader.terms, reader.config)
    return replace(dispense, days_supply=derived, days_supply_written=None) if derived is not None else dispense


def _filled_from(reader: _Reader, dispenses: list[Dispense]) -> list[tuple[Dispense, MedOrder | None]]:
    """Each fill with the prescription it was filled from (`fills.source_order`), its days' supply taken from that
    prescription's dosage when it gives none (`_with_derived_days`): the opioid and the benzodiazepine fills alike."""
    orders = reader.prescriptions
    drug_of = _supply_key(reader)
    intervals: dict[int, tuple[date, date] | None] = {}  # each order's supply worked out once, not once per fill

    def interval_of(order: MedOrder) -> tuple[date, date] | None:
        if id(order) not in intervals:
            intervals[id(order)] = order_interval(order, order_supply(order, reader.terms, reader.config))
        return intervals[id(order)]

    found = []
    for dispense in dispenses:
        order = fills.source_order(dispense, orders, drug_of, interval_of)
        found.append((_with_derived_days(dispense, order, reader), order))
    return found


def _opioid_fills(
    reader: _Reader, dispenses: list[Dispense], period: Period
) -> tuple[tuple[OpioidFill, ...], frozenset[int]]:
    """The pain-opioid fills as the measures read them, and (by `id`) the orders they were filled from."""
    filled = _filled_from(reader, dispenses)
    linked = {id(ready): order for ready, order in filled}
    result: list[OpioidFill] = []
    for supply in fills.supply_intervals([ready for ready, _ in filled], _drug_key(reader)):
        dispense = supply.dispense
        computed = fills.fill_mme(dispense, reader.terms, reader.config)
        days = fills.days_supply(dispense)
        prescriber = reader.prescriber(dispense, linked.get(id(dispense)))
        pharmacy = reader.pharmacy(dispense)
        unknown = computed.reason if computed.state == "unknown" else None
        if period.contains(supply.filled):
            reader.quality.fills_without_days_supply += days is None
            reader.quality.fills_without_prescriber += prescriber is None
            reader.quality.fills_without_pharmacy += pharmacy is None
            if unknown:
                reader.quality.fills_without_mme[unknown] += 1
        result.append(
            OpioidFill(
                # A claim line's fill by the id made up for it too: here the ref only tells the patient's fills apart.
                ref=dispense.ref or f"MedicationDispense#{len(result)}",
                filled=supply.filled,
                start=supply.start,
                end=supply.end,
                days=days,
                mme=computed.mme if computed.state == "ok" else None,
                mme_text=computed.explanation,
                name=computed.display_name,
                er_la=reader.terms.medication_in(ER_LA, dispense.medication),
                prescriber=prescriber,
                pharmacy=pharmacy,
                mme_reason=unknown,
            )
        )
    return tuple(result), frozenset(id(order) for order in linked.values() if order is not None)


def _order_fills(reader: _Reader, orders: list[MedOrder], period: Period) -> tuple[OpioidFill, ...]:
    """EHR data without fills: each order stands in for one fill with the engine's order-based supply."""
    result: list[OpioidFill] = []
    for order in orders:
        start = local_date(order_start(order))
        if start is None:
            continue
        supply = order_supply(order, reader.terms, reader.config)
        days = supply.total_days if supply.total_days and supply.total_days > 0 else None
        summary = compute_mme([order], reader.terms, reader.config)
        item = summary.orders[0] if summary.orders else None
        mme = item.mme if item is not None and item.state == "ok" else None
        if item is None or item.state == "unknown":
            unknown: str | None = (item.reason if item is not None else None) or "unknown"
        else:
            # Its MME per day is known from the dose, but with no days' supply it covers no day of the average,
            # whose episode its date still starts: as a fill with no days' supply, the result is partial.
            unknown = "no-days-supply" if mme is not None and days is None else None
        if period.contains(start):
            reader.quality.orders_without_days_supply += days is None
            if unknown:
                reader.quality.fills_without_mme[unknown] += 1
        end = fills.last_supply_day(start, days) if days else None
        explanation = item.explanation if item is not None else "MME could not be calculated"
        if mme is not None:
            supplied = f"{one_place(days)} days' supply" if days is not None else "no days' supply"
            explanation = f"{explanation} (order, {supplied})"
        result.append(
            OpioidFill(
                ref=order.ref or f"MedicationRequest#{len(result)}",
                filled=start,
                start=start,
                end=end,
                days=days,
                mme=mme,
                mme_text=explanation,
                name=item.display_name if item is not None else reader.terms.medication_name(order.medication),
                er_la=reader.terms.medication_in(ER_LA, order.medication),
                prescriber=reader.practitioner(order.requester),
                pharmacy=None,
                mme_reason=unknown,
            )
        )
    return tuple(result)


def _benzodiazepines(reader: _Reader, dispenses: list[Dispense]) -> tuple[Supply, ...]:
    """The benzodiazepine supplies, a fill with no days' supply taking it from its prescription's dosage as an
    opioid fill does (read as one day, two months' alprazolam so sent met COB's 30 days on none)."""
    prepared = [ready for ready, _ in _filled_from(reader, dispenses)]
    supplies = []
    for supply in fills.supply_intervals(prepared, _drug_key(reader)):
        end = supply.end if supply.end is not None else supply.start  # unknown supply: only the day it was filled
        name = reader.terms.medication_name(supply.dispense.medication) or "a benzodiazepine"
        supplies.append(Supply(supply.filled, supply.start, end, name, supply.end is None))
    return tuple(supplies)


def _oud_diagnosis(record: PatientRecord, reader: _Reader, period: Period) -> str | None:
    for condition in record.conditions:
        if not is_visible(condition, reader.config):
            continue
        recorded = local_date(condition.recorded_date or condition.onset)
        if recorded is not None and recorded > period.end:
            continue
        for set_name, label in ((OUD, "opioid use disorder"), (OPIOID_POISONING, "opioid overdose")):
            if in_diagnosis_set(set_name, condition.code, reader.terms):
                # The code, not its display: ICD-10-CM titles still say "abuse", which a letter must not repeat.
                coded = next((c for c in condition.code.codings if c.code), None) if condition.code else None
                return f"{label} on record (code {coded.code})" if coded else f"{label} on record"
    return None


_Item = TypeVar("_Item", Dispense, MedOrder)


def _grouped_by_kind(
    reader: _Reader,
    items: Sequence[_Item],
    counts: Callable[[_Item], bool],
    day_of: Callable[[_Item], date | None],
    start: date,
    end: date,
) -> tuple[dict[str, list[_Item]], int]:
    """The fills or orders that count and fall between `start` and `end`, by medication kind, and how many had no
    date. An unidentified one, and a fill or order left out for its status (an order also for its intent), is
    counted in the data-quality report; the caller reports the undated ones: none is dropped unseen."""
    grouped: dict[str, list[_Item]] = {}
    undated = 0
    for item in items:
        if not counts(item):
            if isinstance(item, Dispense):
                if reader.kind(item) != "not-relevant":
                    reader.quality.fills_not_counted_by_status[item.status or "(none)"] += 1
            elif not item.is_draft and reader.kind(item) != "not-relevant":
                if item.status not in ORDER_STATUSES:
                    reader.quality.orders_not_counted_by_status[item.status or "(none)"] += 1
                else:
                    reader.quality.orders_not_counted_by_intent[_intent_label(item)] += 1
            continue
        kind = reader.kind(item)
        if kind == "unidentified":
            reader.quality.unidentified_medications[unidentified_key(item.medication)] += 1
            continue
        day = day_of(item)
        if day is None:
            undated += 1
            continue
        if start <= day <= end:
            grouped.setdefault(kind, []).append(item)
    return grouped, undated


def patient_facts(
    patient_id: str,
    record: PatientRecord,
    raw: Mapping[str, Mapping[str, Any]],
    period: Period,
    directory: Directory,
    config: GuidelineConfig,
    terms: Terminology,
    quality: Quality,
) -> PatientFacts | None:
    """The patient's facts, or None when they are not in the cohort (no pain-opioid fill or order in the 12 months
    ending at the period end). Counts unidentified medicines, fills and orders without a date and fills without days'
    supply."""
    reader = _Reader(record, raw, directory, config, terms, quality)
    look_back_start = period.year_start - timedelta(days=90)
    by_kind, undated_fills = _grouped_by_kind(
        reader,
        _distinct_fills(reader, record.dispenses, patient_id),
        fill_counts,
        fills.fill_date,
        look_back_start,
        period.end,
    )
    quality.cough_cold_opioid_fills += sum(
        period.contains(day) for d in by_kind.get("cough-cold", []) if (day := fills.fill_date(d)) is not None
    )
    orders_by_kind, undated_orders = _grouped_by_kind(
        reader, record.orders, _order_counts, lambda order: local_date(order_start(order)), look_back_start, period.end
    )
    quality.fills_without_date += undated_fills
    quality.orders_without_date += undated_orders

    opioid_dispenses = by_kind.get("opioid", [])
    opioid_orders = orders_by_kind.get("opioid", [])
    in_year = [d for d in opioid_dispenses if period.year_start <= (fills.fill_date(d) or period.end) <= period.end]
    # Every order grouped by kind is dated (`_grouped_by_kind` counts the undated apart).
    orders_in_year = [
        o for o in opioid_orders if (day := local_date(order_start(o))) and period.year_start <= day <= period.end
    ]
    if not in_year and not orders_in_year:
        return None
    _count_possible_copies(reader, by_kind)
    filled: frozenset[int] = frozenset()
    if opioid_dispenses:
        source = "fills"
        opioids, filled = _opioid_fills(reader, opioid_dispenses, period)
    else:
        source, opioids = "orders", _order_fills(reader, opioid_orders, period)
        quality.patients_from_orders += 1
    # A medication reported as taken is no prescription, but it is opioid use: prior supply for a new start. A
    # prescription a fill was filled from is that fill's supply, not use before it: written on 2 February and
    # filled on the 4th, its days from the 2nd made the new start no new start.
    reported = [o for o in record.orders if _reported_in_use(o) and reader.kind(o) == "opioid"]
    unfilled = [o for o in opioid_orders if id(o) not in filled]
    order_intervals = tuple(
        interval
        for interval in (order_interval(o, order_supply(o, terms, config)) for o in (*unfilled, *reported))
        if interval is not None
    )
    naloxone = [fills.fill_date(d) for d in by_kind.get("naloxone", [])]
    naloxone += [local_date(order_start(o)) for o in orders_by_kind.get("naloxone", [])]
    tests = _year_tests(reader, period)
    benzodiazepines = _benzodiazepines(reader, by_kind.get("benzodiazepine", []))
    quality.benzodiazepine_fills_without_days_supply += sum(
        1 for supply in benzodiazepines if supply.days_unknown and period.contains(supply.filled)
    )
    return PatientFacts(
        patient_id=patient_id,
        source=source,
        opioids=opioids,
        opioid_orders=order_intervals,
        benzodiazepines=benzodiazepines,
        naloxone=tuple(sorted(d for d in naloxone if d is not None and period.year_start <= d <= period.end)),
        urine_tests=tests,
        oud_diagnosis=_oud_diagnosis(record, reader, period),
        directory=directory,
        displays=_displays(reader),
    )


def _displays(reader: _Reader) -> dict[str, str]:
    """The `display` of each actor the patient's fills and orders (a claim's lines among them) name, by the
    `Type/id` it resolves to (a role's by its practitioner's too); the first by resource id where two differ, so
    either engine, whatever order it read the lines in, shows the same name."""
    found: dict[str, str] = {}
    for key in sorted(reader.raw):
        if not key.startswith(("MedicationDispense/", "MedicationRequest/")):
            continue
        resource = reader.raw[key]
        actors = [as_dict(p).get("actor") for p in as_list(resource.get("performer"))] + [resource.get("requester")]
        for actor in map(as_dict, actors):
            display = (text(actor.get("display")) or "").strip()
            reference = actor_reference(actor) if display else None
            local = resolve_actor(reference, reader.directory) if reference else None
            if not local:
                continue
            found.setdefault(local, display)
            practitioner = reader.practitioner(reference)  # a role's display names its practitioner too
            if practitioner:
                found.setdefault(practitioner, display)
    return found


Span = tuple[date, date]


def _year_tests(reader: _Reader, period: Period) -> tuple[str, ...]:
    """The urine drug tests in the 12 months to the period end, dated as written, oldest first. A test dated to the
    month or the year only counts when every day it can mean is in them: read as the 1st, "2026" counted in a year
    ending 2026-06-30 and "2026-05" was missed in one starting 2026-05-15. One that may fall either side is left
    out and counted (`drug_tests_dated_partly_in_year`, once per date as written), as AMO's numerator may miss the
    patient for it."""
    found: dict[str, Span] = {}
    unsettled = set()  # by date as written: a panel's results, one per substance, are one test
    for written, (first, last) in _drug_tests(reader):
        if period.year_start <= first and last <= period.end:
            found[written] = (first, last)
        elif first <= period.end and last >= period.year_start:
            unsettled.add(written)
    reader.quality.drug_tests_dated_partly_in_year += len(unsettled)
    return tuple(sorted(found, key=lambda written: (found[written], written)))


def _drug_tests(reader: _Reader) -> list[tuple[str, Span]]:
    """Every dated urine drug test done, as its date is written and the days it can mean: results the lab reported,
    and tests done with no result to read (claims CPT 80305-80307, HCPCS G0480-G0483, G0659; charted procedures;
    lab reports with only a conclusion). Results and lab reports with no date the record reads are counted
    (`results_without_date`)."""
    record, terms = reader.record, reader.terms
    reports = unread_drug_test_reports(record, terms)
    # The reports too, as the card reads them: an "Indeterminate" result beside its day's report concluding "Negative,
    # dilute specimen" is no test done.
    results = tests_done(record.observations, terms, reports, record.diagnostic_reports)
    tests = [_result_span(o) for o in results]
    if None in tests:  # the usual chart: every result dated, nothing more to read
        reader.quality.results_without_date += _undated_results(results, tests)
    for day, procedure in drug_test_procedures(record):
        raw = reader.raw.get(f"Procedure/{procedure.id}") if procedure.id else None
        performed = as_dict(as_dict(raw).get("performedPeriod"))
        tests.append(
            _matching_span(day, (as_dict(raw).get("performedDateTime"), performed.get("start"), performed.get("end")))
        )
    for report in reports:
        if report.counted:
            raw = as_dict(reader.raw.get(f"DiagnosticReport/{report.report.id}") if report.report.id else None)
            effective = as_dict(raw.get("effectivePeriod"))
            written = (raw.get("effectiveDateTime"), effective.get("start"), effective.get("end"), raw.get("issued"))
            span = _first_span(day=report.day, values=written)
            # A test done that no window counts: named, as its results would be, or AMO's numerator missed the
            # patient with nothing said.
            if span is None:
                reader.quality.results_without_date += 1
            tests.append(span)
    return [test for test in tests if test is not None]


def _undated_results(results: tuple[Observation, ...], spans: list[tuple[str, Span] | None]) -> int:
    """Results with no date the record reads (none, or "+25:00": no span, as `_result_span` read them), a panel's
    heading left out as the card leaves it out (its items are results of their own): in no window, so named, as the
    card names each, or AMO's numerator missed the patient with nothing said (forgotten for a patient the measures
    leave out)."""
    return sum(
        1 for o, span in zip(results, spans, strict=True) if span is None and not (o.components or o.has_members)
    )


def _result_span(observation: Observation) -> tuple[str, Span] | None:
    """A result's date as written and its days: its day, or every day of the month or year it names only."""
    if observation.dated_partial is not None:
        days = written_days(observation.dated_partial)
        return (observation.dated_partial, days) if days is not None else None
    day = local_date(observation.result_time)
    return (day.isoformat(), (day, day)) if day is not None else None


def _matching_span(day: date | None, values: tuple[Any, ...]) -> tuple[str, Span] | None:
    """A procedure's `day` (its latest performed date) as written: of the written dates read as that day, a full
    date settles it; else the month or the year one of them names."""
    if day is None:
        return None
    spans = [(str(value).strip(), days) for value in values if (days := written_days(value)) and days[0] == day]
    if not spans or any(first == last for _, (first, last) in spans):
        return day.isoformat(), (day, day)
    return spans[0]


def _first_span(day: date | None, values: tuple[Any, ...]) -> tuple[str, Span] | None:
    """A report's `day` (its effective date, else its issued) as written: the first of `values` that names a date."""
    if day is None:
        return None
    for value in values:
        days = written_days(value)
        if days is not None:
            return (day.isoformat(), (day, day)) if days[0] == days[1] else (str(value).strip(), days)
    return day.isoformat(), (day, day)


def total_days(supplies: tuple[OpioidFill, ...]) -> Decimal:
    return sum((f.days for f in supplies if f.days is not None), Decimal(0))
