"""Facts: everything derived from one record, computed once per evaluation and shared by every check."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
from itertools import compress
from operator import attrgetter
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from guideline import orders as order_rules
from guideline.cards import Card, Snooze, silencing_snooze
from guideline.clinical import (
    GIVEN_STATUSES,
    UNSTATED_STATUSES,
    condition_name,
    dated_ahead,
    is_active,
    is_visible,
    last_given,
    performed_within,
    procedure_counts,
)
from guideline.config import CheckSettings, GuidelineConfig
from guideline.context import HookContext
from guideline.dates_sent import unread_words
from guideline.exclusions import ExclusionFinding, general_exclusions
from guideline.fhirdata import Concept
from guideline.fills import (
    FillMme,
    FillSupply,
    RenewedFill,
    authorized_order,
    counted_on_trust,
    counts_as_fill,
    covering_order,
    fill_called,
    fill_date,
    fill_implied_doses,
    fill_mme,
    fill_moment,
    known_in_hand,
    prescription_course,
    renewed_fill_doses,
    same_drug_key,
    standalone_fills,
    supplies_now,
    supply_intervals,
    supply_key,
    with_fills,
)
from guideline.history import (
    HISTORY_DAYS,
    UNKNOWN_SUPPLY_DAYS,
    Exposure,
    Interval,
    counts_as_exposure_dispense,
    counts_as_exposure_order,
    exposure,
    history_start,
    order_supply_interval,
)
from guideline.later_starts import counted_as_signed, draft_series, later_line, named_later
from guideline.memo import cached_property
from guideline.mme import MmeSummary, OrderMme, compute_mme, ndc_unread
from guideline.recognition import recognise
from guideline.recognition.cough import opioid_cough_medicine
from guideline.recognition.cut_names import NotedName, with_where
from guideline.recognition.diagnoses import names_diagnosis, read_by_code, unread_diagnosis
from guideline.record import (
    Administration,
    Condition,
    Dispense,
    MedOrder,
    Observation,
    PatientRecord,
    Procedure,
    ResolvedMedication,
)
from guideline.record.identity import (
    IdentifiedDrug,
    Relayed,
    relayed_names,
    relayed_orders,
    unchanged_fills,
    without_relayed,
)
from guideline.renewals import (
    ImpliedRenewal,
    RenewalBeside,
    ReorderedFill,
    SeriesBeside,
    SeriesLink,
    counted_once,
    fills_counted_once,
    implied_renewals,
    named_beside,
    named_replacing,
    named_series_beside,
    named_unlinked,
    reordered_fills,
    series_beside,
    series_links,
)
from guideline.sent_twice import (
    PossibleCopy,
    SentTwice,
    marks_at_the_point_of_care,
    possible_copies_at_the_point_of_care,
    read_once_at_the_point_of_care,
    relayed_fills,
)
from guideline.specimen_validity import SpecimenVerdicts, Validity
from guideline.supply import Supply, duration_class, order_supply
from guideline.terminology import (
    BENZO,
    CNS_DEPRESSANT,
    MOUD,
    NALOXONE_RESCUE,
    NALTREXONE,
    OPIOID,
    OUD_TREATMENT_OPIOID,
    Terminology,
    load_terminology,
)
from guideline.timeutil import in_last_days, in_last_months, local_date, months_before
from guideline.uds import (
    PrescriptionHistory,
    UdsResult,
    UnreadableTest,
    UnreadReport,
    as_written,
    doses_given,
    drug_test_procedures,
    drug_tests_done_days,
    in_window,
    joined_results,
    results_of_unknown_status,
    results_spoken_for,
    uds_results,
    unread_drug_test_reports,
    unreadable_tests,
    validity_of,
)
from guideline.unread_data import Unread
from guideline.words import QUOTED_CHARACTERS, clip

Item = TypeVar("Item", MedOrder, Dispense)
_MEDICATION = attrgetter("medication")
# The statuses that say whether an order is taken now: any other (unknown, missing, one PainPlan does not know) is
# named by `Facts.unknown_status_orders`. Made once: built in the loop, it was a new set for every order of a call.
_STATUSES_TOLD = order_rules.KNOWN_ORDER_STATUSES - {"unknown"}
Answer = TypeVar("Answer")


def _lines(named: Iterable[tuple[object, str]]) -> tuple[str, ...]:
    """The lines of (item, line) pairs, once each: a kind's named list read from its `…_named` pairs."""
    return tuple(dict.fromkeys(line for _, line in named))


def per_medication(test: Callable[[ResolvedMedication], bool]) -> Callable[[MedOrder | Dispense], bool]:
    """`test` on an order's or dispense's medication, asked once per medication: orders and fills of one drug share
    one medication object, so a chart of refills is classified in a few look-ups."""
    verdicts: dict[int, bool] = {}

    def of(item: MedOrder | Dispense) -> bool:
        key = id(item.medication)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = test(item.medication)
        return verdict

    return of


def named_item(display: str | NotedName, kind: str, ident: str | None, detail: str | None = None) -> str:
    """ "… (fill d-1)", "… (condition c-7)", with a `detail` "… (fill d-1, dispensed 2026-05 only)": how the card and
    the plan page name a record item they did not count."""
    named = f"{kind} {ident}" if ident else kind
    return with_where(display, f"{named}, {detail}" if detail else named)


def fill_named(display: str | NotedName, kind: str, dispense: Dispense, detail: str | None = None) -> str:
    """ "… (fill d-1)", "… (current fill d-1, dispensed 2026-05 only)", "… (payer claim eob-1)": `named_item` for a
    fill, named as `fill_called` says: every line naming a fill asks it, so a claim's fill is named by its claim."""
    return named_item(display, *fill_called(dispense, kind), detail)


def _order_kind(order: MedOrder, current: bool = True) -> str:
    if order.is_draft:
        return "draft order"
    return "reported medication" if order.reported else "current order" if current else "order"


def order_named(display: str | NotedName, order: MedOrder, detail: str | None = None, *, current: bool = True) -> str:
    """ "… (draft order mr-1)", "… (current order mr-1)" or "… (reported medication ms-1)": how the card and the
    plan page name an order, or a medication the patient reports taking (with a `detail`, as `named_item`). A caller
    naming a signed order `orders.is_current` may not count today (one in force whatever its dates) passes that
    answer as `current`: one that is not is named "… (order mr-1)", never "current order" (named_gaps)."""
    return named_item(display, _order_kind(order, current), order.id, detail)


def _named_dated_only(display: str | NotedName, kind: str, ident: str | None, written: str) -> str:
    """ "… (current fill d-1, dispensed 2026-05 only)": `named_item` with the date it is dated by, as written."""
    return named_item(display, kind, ident, f"{written} only")


def remembered_intervals(
    terms: Terminology, config: GuidelineConfig, today: date
) -> Callable[[MedOrder], Interval | None]:
    """An order's supply interval (5.1), worked out once per call and only for the orders something reads: the
    exposure history its opioids, the UDS expectations the sets a result asks about, fill matching one drug."""
    intervals: dict[int, tuple[MedOrder, Interval | None]] = {}  # id(order) -> (order, interval)

    def order_interval(order: MedOrder) -> Interval | None:
        found = intervals.get(id(order))
        if found is None:
            # The entry holds the order, so its id stays its own.
            found = intervals[id(order)] = (order, order_supply_interval(order, terms, config, today))
        return found[1]

    return order_interval


class Facts:
    """The guideline's derived sets (sections 3–8) for one patient, one hook call and one moment."""

    def __init__(
        self,
        record: PatientRecord,
        context: HookContext,
        config: GuidelineConfig,
        now: datetime,
        snoozes: Sequence[Snooze] = (),
        terms: Terminology | None = None,
        unread: Mapping[str, str] | None = None,
    ) -> None:
        self.context = context
        self.config = config
        # Kinds of data the face could not read in full (guideline.unread_data) -> why: a check stating an absence
        # names them, so "none found" never reads as all clear about data nobody read.
        self.unread: Mapping[str, str] = dict(unread or {})
        # "today" is the calendar date of now in the configured zone (1.1), whatever zone the caller used.
        zone = ZoneInfo(config["timezone"])
        self.now = now.astimezone(zone) if now.tzinfo is not None else now.replace(tzinfo=zone)
        self.today: date = self.now.date()
        self.snoozes = tuple(snoozes)
        self.terms = terms or load_terminology(config)
        self._drug_keys: dict[int, tuple[object, str]] = {}
        # An order an HIE relays under its own id is the EHR's order read once (its fills and renewals naming the
        # EHR's), named on the card and the page: read twice, 60 MME a day was 120.
        self.orders_relayed: tuple[Relayed, ...] = relayed_orders(record.orders, self._identified_drug)
        self._relayed = relayed_names(self.orders_relayed, record.relayed_unchanged)
        if self._relayed:
            orders, dispenses = without_relayed(record.orders, record.dispenses, self.orders_relayed, self._relayed)
            record = replace(record, orders=orders, dispenses=dispenses)
        # A fill sent twice (prefetch and search, a gateway's copy, the payer's claim for it) is read once, as the
        # population review reads it: the copy queued as an early refill and kept an ended supply current.
        # An HIE's copy of the pharmacy's fill under its own id is one of them too, told by the fill number it keeps.
        relayed = tuple(SentTwice(c, k) for c, k in relayed_fills(record.dispenses, self._identified_drug))
        if relayed:
            copies = {id(r.copy) for r in relayed}
            record = replace(record, dispenses=tuple(d for d in record.dispenses if id(d) not in copies))
        # Each fill's marks, worked out once: reading fills sent twice once and finding possible copies compare the
        # same fills (the record's orders are those of `self.record`, which keeps them).
        self._fill_marks = marks_at_the_point_of_care(record.orders, self.terms)
        self._read_once = read_once_at_the_point_of_care(record.dispenses, self._fill_marks)
        self.fills_sent_twice: tuple[SentTwice, ...] = (*relayed, *self._read_once.copies)
        self.record = replace(record, dispenses=self._read_once.kept) if self._read_once.copies else record
        self._conditions: dict[tuple[str, bool], tuple[Condition, ...]] = {}
        # set name -> the visible conditions' codes in it (`_condition_codes_in`): a set is asked for with and without
        # `active_only` (opioid use disorder: the naloxone check all of them, the OUD treatment check the active ones).
        self._condition_codes_by_set: dict[str, frozenset[int]] = {}
        # The per-object memos below (and `_drug_keys`, `_courses`, `_sources`, `remembered_intervals`) are written
        # out in place: one helper taking a closure cost 0.9 % more instructions per order-sign call (callgrind).
        # id(order) -> (order, its duration class): most checks ask it of the same drafts (`duration`).
        self._durations: dict[int, tuple[MedOrder, str]] = {}
        self._cough_medicines: dict[int, tuple[MedOrder, bool]] = {}  # id(order) -> (order, `_cough_medicine`)
        self._observations: dict[str, tuple[Observation, ...]] = {}
        self._procedures: dict[str, tuple[Procedure, ...]] = {}
        self._uds_since: dict[int, tuple[UdsResult, ...]] = {}
        self._uds_within: dict[int, tuple[UdsResult, ...]] = {}
        self._unreadable_within: dict[int, tuple[UnreadableTest, ...]] = {}
        # question ("in", set name) -> id(medication) -> verdict; the medications asked about are held, so an id
        # stays their own.
        self._verdicts: dict[tuple[str, ...], dict[int, bool]] = {}
        self._asked: list[ResolvedMedication] = []
        # id(tuple of orders or fills) -> (the tuple, its items' medication keys, its distinct medications by key)
        self._by_medication: dict[int, tuple[tuple[Any, ...], list[int], dict[int, Any]]] = {}
        self._fills_in: dict[str, tuple[FillSupply, ...]] = {}
        # id(medication) -> (medication, key): matching a fill to its order asks this for every order, per fill.
        self._courses: dict[int, tuple[Dispense, str | None]] = {}
        self._sources: dict[int, tuple[Dispense, MedOrder | None]] = {}
        # question -> its answer for these facts (see `once`).
        self._answers: dict[Callable[[Facts], object], object] = {}
        # A plain function, not a method: the prescription history keeps it, and a bound method would tie the
        # history back to these facts in a cycle that only the garbage collector frees (the whole record with it).
        self.order_interval: Callable[[MedOrder], Interval | None] = remembered_intervals(
            self.terms, self.config, self.today
        )

    def not_read(self, *kinds: str) -> Unread:
        """Which of `kinds` the face could not read in full, in the order asked, and why."""
        return Unread.among(self.unread, kinds)

    def once(self, question: Callable[[Facts], Answer]) -> Answer:
        """`question(self)`, worked out on the first ask and remembered for this call: for a rule of a module this
        one cannot import (a check's), asked by several faces of one call (its card, the data-incomplete card)."""
        if question in self._answers:
            return self._answers[question]  # type: ignore[return-value]
        answer = self._answers[question] = question(self)
        return answer

    # -- medication sets and names -----------------------------------------------------------------------------

    def is_in(self, set_name: str, item: MedOrder | Dispense | Administration) -> bool:
        return self.terms.medication_in(set_name, item.medication)

    def only_in(self, set_name: str, items: Iterable[Item]) -> tuple[Item, ...]:
        """The orders or dispenses whose medication is in a set; each medication is looked up once per set and call
        (orders and fills of one drug share one medication object)."""
        return self._kept(items, ("in", set_name), lambda medication: self.terms.medication_in(set_name, medication))

    def _kept(
        self, items: Iterable[Item], question: tuple[str, ...], test: Callable[[ResolvedMedication], bool]
    ) -> tuple[Item, ...]:
        """The items whose medication passes `test`, asked once per medication and call under `question`."""
        items = items if isinstance(items, tuple) else tuple(items)
        if not items:  # no listed medicines, no fills: asked of many sets on most calls
            return ()
        verdicts = self._verdicts.get(question)
        if verdicts is None:
            verdicts = self._verdicts[question] = {}
        held, keys, medications = self._medications_of(items)
        for key, medication in medications.items():
            if key not in verdicts:
                verdicts[key] = test(medication)
                self._asked.append(medication)
        # Picked in C, not item by item in Python: the fills and the orders are filtered by several questions each
        # call, and a chart's items share a few medications, so a question costs a look-up per medication.
        return tuple(compress(held, map(verdicts.__getitem__, keys)))

    def _medications_of(self, items: tuple[Item, ...]) -> tuple[tuple[Item, ...], list[int], dict[int, Any]]:
        """The items, each one's medication key (`id`) and their distinct medications by key: worked out once per
        tuple of items and call (the entry holds the tuple, so its id stays its own)."""
        found = self._by_medication.get(id(items))
        if found is None:
            medications = list(map(_MEDICATION, items))
            keys = list(map(id, medications))
            found = self._by_medication[id(items)] = (items, keys, dict(zip(keys, medications, strict=True)))
        return found  # type: ignore[return-value]

    def name(self, item: MedOrder | Dispense | Administration) -> str:
        return self.terms.medication_name(item.medication)

    def supply(self, order: MedOrder) -> Supply:
        """The order's supply (4.1); `order_supply` remembers it per the objects it reads."""
        return order_supply(order, self.terms, self.config)

    def duration(self, order: MedOrder) -> str:
        """The order's duration class (4.2), worked out once per order and call (the entry holds the order, so its id
        stays its own)."""
        found = self._durations.get(id(order))
        if found is None:
            supply = self.supply(order)
            found = self._durations[id(order)] = (order, duration_class(order, self.terms, self.config, supply))
        return found[1]

    # -- orders (guideline 3) ----------------------------------------------------------------------------------

    @cached_property
    def drafts(self) -> tuple[MedOrder, ...]:
        return order_rules.draft_orders(self.record.orders, self.config)

    @cached_property
    def new_drafts(self) -> tuple[MedOrder, ...]:
        every = bool(self.unmatched_selections)
        return order_rules.new_drafts(self.drafts, self.context.hook, self.context.selections, every)

    @cached_property
    def unmatched_selections(self) -> tuple[str, ...]:
        """On order-select, each selection that names no draft of the call (`selected order "…"`), or
        `selected order (none named)` when the call sent drafts and no selection: every draft is then judged as
        selected, and these are named so that the cards are not read as about the selected order alone."""
        if self.context.hook != "order-select":
            return ()
        selections, names = self.context.selections, self.record.draft_names
        if not selections:
            return ("selected order (none named)",) if names or self.record.drafts else ()
        return tuple(f'selected order "{s}"' for s in order_rules.unmatched_selections(selections, names))

    @cached_property
    def trigger_orders(self) -> tuple[MedOrder, ...]:
        """The new draft opioid orders (3.1)."""
        return tuple(o for o in self.new_drafts if self.is_in(OPIOID, o))

    def pain_triggers(self, check_id: str) -> tuple[MedOrder, ...]:
        """The trigger orders, less buprenorphine treatment for opioid use disorder where a check exempts it
        (10.0.6: MOUD orders are not pain prescriptions)."""
        if check_id not in self.config["moud_orders_exempt_from"]:
            return self.trigger_orders
        return tuple(o for o in self.trigger_orders if not self.is_in(OUD_TREATMENT_OPIOID, o))

    def pain_prescriptions(self, check_id: str) -> tuple[MedOrder, ...]:
        """The trigger orders that are pain prescriptions (`pain_triggers`), opioid cough and cold medicines left
        out: opioids for every risk check, but no order for the checks about acute pain and a pain treatment plan
        (`acute-duration`, `nonopioid-first`, `treatment-plan`; docs/clinical-logic.md, *Cough medicines*)."""
        return tuple(o for o in self.pain_triggers(check_id) if not self._cough_medicine(o))

    def _cough_medicine(self, order: MedOrder) -> bool:
        """Whether an order is an opioid cough and cold medicine, worked out once per order and call: the three checks
        of `pain_prescriptions` ask it of the same new opioids (the entry holds the order, so its id stays its own)."""
        found = self._cough_medicines.get(id(order))
        if found is None:
            found = self._cough_medicines[id(order)] = (order, opioid_cough_medicine(order.medication, self.terms))
        return found[1]

    @cached_property
    def current_orders(self) -> order_rules.CurrentOrders:
        """Which real orders count today (`orders.current_orders`): the one answer the total and a renewal's words
        read."""
        return order_rules.current_orders(
            self.record.orders,
            self.supply,
            self.today,
            self.config,
            self.drug_key,
            self._orders_by_ref,
            standing=self.standing_orders,
            supply_key=self.supply_key,
        )

    @cached_property
    def active_orders(self) -> tuple[MedOrder, ...]:
        return self.current_orders.active

    def current_in(self, set_name: str) -> tuple[MedOrder, ...]:
        """Drafts and current active orders whose medication is in a set (3.4); deduplicated by the record."""
        return self.only_in(set_name, self._drafts_and_active)

    # The orders each set is picked from, as one tuple per call: `_kept` remembers a tuple's medications by the
    # tuple, and a new one made per question worked them out again for every set asked.
    @cached_property
    def _drafts_and_active(self) -> tuple[MedOrder, ...]:
        return (*self.drafts, *self.active_orders)

    @cached_property
    def _drafts_active_and_listed(self) -> tuple[MedOrder, ...]:
        return (*self.drafts, *self.active_orders, *self.listed_medications)

    @cached_property
    def listed_medications(self) -> tuple[MedOrder, ...]:
        """Home medications on the active list recorded too long ago to be current orders (`listed_medications`):
        the sedative co-prescribing checks count them, the MME total does not. The drafts go in too, for what they
        replace: a home medication a draft converts to a prescription (priorPrescription) is no longer listed."""
        return order_rules.listed_medications(self.record.orders, self.supply, self.today, self.config)

    @cached_property
    def listed_opioids(self) -> tuple[MedOrder, ...]:
        return self.only_in(OPIOID, self.listed_medications)

    @cached_property
    def listed_opioids_named(self) -> tuple[str, ...]:
        """Each listed opioid with the day the list dates it (when it was recorded or last confirmed, not when the
        patient began it): left out of the MME total, so named."""
        named = []
        for order in self.listed_opioids:
            noted = local_date(order_rules.order_start(order))
            detail = f"noted on the medication list {noted.isoformat()}" if noted else None
            named.append(named_item(self.name(order), "reported medication", order.id, detail))
        return tuple(dict.fromkeys(named))

    @cached_property
    def current_opioids(self) -> tuple[MedOrder, ...]:
        return self.current_in(OPIOID)

    @cached_property
    def current_benzos(self) -> tuple[MedOrder, ...]:
        return self.only_in(BENZO, self._drafts_active_and_listed)

    @cached_property
    def current_cns(self) -> tuple[MedOrder, ...]:
        return self.only_in(CNS_DEPRESSANT, self._drafts_active_and_listed)

    # -- MME (guideline 8) -------------------------------------------------------------------------------------

    @cached_property
    def mme(self) -> MmeSummary:
        """Current orders and drafts, plus current pharmacy fills that no counted order stands for."""
        return self.opioid_total(self.current_opioids)

    def opioid_total(self, opioids: Iterable[MedOrder]) -> MmeSummary:
        """The total daily MME of these opioid orders (the current ones with the drafts, or without them: the plan
        page's "now") and the current fills no counted order stands for: the one rule every face counts by."""
        # Raised by its fill before it is weighed against a draft read as its renewal: the larger reading counts.
        orders = fill_implied_doses(compute_mme(tuple(opioids), self.terms, self.config), self.order_fills)
        # A renewal (draft or signed) naming the order it renews stands for that order's fill too: a fill above both
        # counts.
        orders = renewed_fill_doses(orders, self.renewed_fills)
        orders = named_replacing(named_beside(orders, self.renewals_beside), self.replaced_of_another, self.today)
        # The passes after the pairs are weighed take each the step the one before returns (`renewals.PairsCounted`,
        # `renewals.AllCounted`): the words name the orders actually counted, whatever is edited here.
        pairs = counted_once(orders, self.implied_renewals).then(
            lambda summary: counted_as_signed(summary, self.draft_series, self.today)
        )
        pairs = named_series_beside(pairs, self.series_beside)
        counted = fills_counted_once(pairs, self.fill_mme, self.reorders)
        counted = named_unlinked(counted, self.series_links, self.series_beside, self.drug_key, self.today)
        return named_later(with_fills(counted.summary, counted.fills), self._later_lines)

    @cached_property
    def draft_series(self) -> tuple[tuple[MedOrder, ...], ...]:
        """Opioid drafts of one product being signed to be filled on different days (`later_starts.draft_series`)."""
        return draft_series((o for o in self.current_opioids if o.is_draft), self.drug_key, self.supply, self.today)

    @cached_property
    def later_orders(self) -> tuple[MedOrder, ...]:
        """Active orders that begin after today (`orders.later_orders`): not current, each named where it matters."""
        return order_rules.later_orders(self.record.orders, self.today, self.config, self.standing_orders)

    @cached_property
    def later_opioids(self) -> tuple[MedOrder, ...]:
        """Active opioid orders that begin after today (`orders.later_orders`): named beside the total, not in it."""
        return self.only_in(OPIOID, self.later_orders)

    @cached_property
    def _later_lines(self) -> tuple[OrderMme, ...]:
        lines = []
        for order in self.later_opioids:
            starts = order_rules.starts_after(order, self.today)
            if starts is not None:
                lines.append(later_line(compute_mme((order,), self.terms, self.config).orders[0], starts))
        return tuple(lines)

    @cached_property
    def reorders(self) -> tuple[ReorderedFill, ...]:
        """Current fills of a finished order that a current signed order of the same product and prescriber reorders
        with no priorPrescription (`renewals.reordered_fills`): counted once with it, at the larger dose."""
        signed = tuple(o for o in self.current_opioids if not o.is_draft and not o.prior_prescription)
        if not signed:
            return ()
        fills = tuple((s.dispense, self.source_order(s.dispense)) for s in self.current_fills)
        return reordered_fills(signed, fills, self.drug_key, self.today)

    @cached_property
    def replaced_of_another(self) -> tuple[tuple[MedOrder, MedOrder], ...]:
        """Drafts with the other prescriber's current order each replaces (`orders.replaced_of_another`): named."""
        return order_rules.replaced_of_another(
            self.drafts, self._orders_by_ref, self.current_orders, self.today, self.config
        )

    @cached_property
    def renewals_beside(self) -> tuple[RenewalBeside, ...]:
        """Each current opioid order whose chain of priorPrescription links (`renewal_reach`) reaches an order still
        counted (another prescriber's, `orders.renewed_by_signed`): both count, and the renewal's line names that
        order, with the renewals between when it is further down the chain."""
        pairs = []
        for order in self.current_opioids:
            if order.prior_prescription:
                through, beside = self.renewal_reach(order, self._orders_by_ref)
                if beside is not None:
                    pairs.append(RenewalBeside(order, beside, through))
        return tuple(pairs)

    def renewal_reach(
        self, renewal: MedOrder, by_ref: Mapping[str | None, MedOrder]
    ) -> tuple[tuple[MedOrder, ...], MedOrder | None]:
        """The orders `renewal` stands for along its priorPrescription links (`orders.renewal_chain`, nearest first),
        and the order where the walk ends because it is still counted beside the renewal (`runs_beside`), or None. An
        order counted beside stands for its own fills and for those of the orders it renews. The one walk the card's
        total, its note and the MME history read a chain by."""
        chain = order_rules.renewal_chain(renewal, by_ref)
        for index, renewed in enumerate(chain):
            if self.runs_beside(renewed):
                return chain[:index], renewed
        return chain, None

    @cached_property
    def renewed_fills(self) -> tuple[RenewedFill, ...]:
        """Opioid fills that may be today's supply (`fills.supplies_now`) of an order a counted opioid order (a draft,
        or a signed current renewal) renews through priorPrescription, directly or through the renewals between
        (`renewal_reach`), each with the renewal and that order's own MME (`fills.renewed_fill_doses`)."""
        renewals = [o for o in self.current_opioids if o.prior_prescription]
        if not renewals:
            return ()
        found: list[RenewedFill] = []
        for renewal in renewals:
            chain, _ = self.renewal_reach(renewal, self._orders_by_ref)
            for index, renewed in enumerate(chain):
                fills = [
                    fill_mme(s.dispense, self.terms, self.config)
                    for s in self.opioid_fill_supplies
                    if supplies_now(s, self.today) and self.source_order(s.dispense) is renewed
                ]
                if fills:
                    (renewed_mme,) = compute_mme((renewed,), self.terms, self.config).orders
                    found.extend(RenewedFill(renewal, renewed_mme, fill, chain[:index]) for fill in fills)
        return tuple(found)

    @cached_property
    def order_fills(self) -> tuple[tuple[MedOrder, FillMme], ...]:
        """Opioid fills that may be today's supply (`fills.supplies_now`) read as a current order's supply, each with
        its MME a day: one implying a larger dose than its order counts at it, one whose dose is unknown is named
        (`fills.fill_implied_doses`)."""
        counted, pairs = self._counted_orders, []
        for supply in self.opioid_fill_supplies:
            if (
                supplies_now(supply, self.today)
                and (order := self.source_order(supply.dispense))
                and id(order) in counted
            ):
                pairs.append((order, fill_mme(supply.dispense, self.terms, self.config)))
        return tuple(pairs)

    @cached_property
    def series_links(self) -> tuple[SeriesLink, ...]:
        """Opioid renewals naming a prescription of their product that is not in force, with the current orders that
        took it over (`renewals.series_links`): the one finding the series' renewal and a renewal counted beside the
        series read."""
        renewals = tuple(o for o in self.current_opioids if o.prior_prescription)
        if not renewals:
            return ()
        in_force = self.current_orders.in_force
        return series_links(renewals, self.current_opioids, self.drug_key, self._orders_by_ref, in_force, self.today)

    @cached_property
    def series_beside(self) -> tuple[SeriesBeside, ...]:
        """Signed renewals of a series' prescription taken over, not known to be its prescriber's: both count, named."""
        return series_beside(self.series_links)

    @cached_property
    def implied_renewals(self) -> tuple[ImpliedRenewal, ...]:
        """Opioid drafts of the same product as a current opioid order, with no priorPrescription (or one naming only
        an order that starts later, or one a current order has taken over), and signed renewals of one a current order
        has taken over: each pair is counted once in the MME total, at the larger dose (`guideline.renewals`)."""
        renewals = tuple(o for o in self.current_opioids if o.is_draft or o.prior_prescription)
        if not renewals:
            return ()
        standing = tuple(o for o in self.current_opioids if not o.is_draft)
        # Not `later_orders`: it leaves out the orders a draft replaces, and a draft naming a later order is exactly
        # the one to pair here.
        later = (
            frozenset(
                ref
                for ref, order in self._orders_by_ref.items()
                if order_rules.is_standing(order, self.config) and order_rules.starts_after(order, self.today)
            )
            if any(d.is_draft and d.prior_prescription for d in renewals)
            else frozenset()
        )
        return implied_renewals(renewals, standing, self.drug_key, later, self.series_links)

    # -- pharmacy fills (MedicationDispense as exposure and MME) ------------------------------------------------

    def _identified_drug(self, order: MedOrder | Dispense) -> str | None:
        """The drug key of an order whose drug is identified (an RxNorm product, or strengths and form), else None:
        a code or a name alone is no evidence that two orders are one (`identity.relayed_orders`)."""
        return order_rules.identified(self.drug_key(order))

    def relayed_copies(self, kept: Container[str | None]) -> list[str]:
        """The copies another server relayed of the orders located in `kept` (`identity.relayed_names`: under the
        same id, unchanged, or under their own ids), each named by its reference ("a copy without an id" when it has
        none): read once, named since the EHR may list both."""
        return [copy or "a copy without an id" for copy, of in self._relayed if of in kept]

    @cached_property
    def fills_possibly_sent_twice(self) -> tuple[PossibleCopy, ...]:
        """The fills counted that may each be a copy of another counted (`sent_twice.possibly_same_fill`: their
        prescriber not known to be the same, one of the two naming none, or only a practitioner performer, who may be
        the pharmacist): both are read, and named so a dose they may double is never silent."""
        return possible_copies_at_the_point_of_care(self._read_once, self._fill_marks)

    @cached_property
    def fills_read_once(self) -> dict[int, tuple[Dispense, tuple[str, ...]]]:
        """id() of each fill read once → (the fill, the names of its copies left out): a fill sent twice by its id
        (`fills_sent_twice`), another server's copy by its URL there, whether relayed under its own id or unchanged
        under the fill's (`record.relayed_unchanged`, dropped when the record was pooled). What the card and the plan
        page name, since the EHR may list both."""
        named = [(sent.kept, sent.copy.located or "a copy without an id") for sent in self.fills_sent_twice]
        unchanged = unchanged_fills(self.record.relayed_unchanged)
        if unchanged:
            # The EHR's own fills only: another server's fill of the same id has the same `ref`, and is not the one
            # its unchanged copy stands for (that copy was dropped when the record was pooled).
            fills = {d.ref: d for d in self.record.dispenses if d.ref and d.source is None}
            named.extend((fills[of], copy) for copy, of in unchanged if of in fills)
        found: dict[int, tuple[Dispense, tuple[str, ...]]] = {}
        for kept, name in named:
            found[id(kept)] = (kept, (*found.get(id(kept), (kept, ()))[1], name))
        return found

    def drug_key(self, item: MedOrder | Dispense) -> IdentifiedDrug | str:
        """The refill "same drug" key; it depends on the medication alone, so it is worked out once per medication
        (orders of one drug share one medication object)."""
        medication = item.medication
        found = self._drug_keys.get(id(medication))
        if found is not None and found[0] is medication:
            return found[1]
        key = same_drug_key(item, self.terms)
        self._drug_keys[id(medication)] = (medication, key)
        return key

    def supply_key(self, item: MedOrder | Dispense) -> IdentifiedDrug | str:
        """The key that pairs a fill with its own order (`fills.supply_key`), remembered per medication."""
        return supply_key(item, self.terms)

    @cached_property
    def fills(self) -> tuple[Dispense, ...]:
        """The dispenses counted as handing medicine over (`fills.counts_as_fill`: completed or in progress, or of a
        status absent or unknown)."""
        return tuple(d for d in self.record.dispenses if counts_as_fill(d))

    @cached_property
    def opioid_fill_supplies(self) -> tuple[FillSupply, ...]:
        """Every opioid fill's supply, early refills of the same drug queued after the earlier supply."""
        return self.fill_supplies(self.only_in(OPIOID, self.fills))

    def fill_supplies(self, fills: Iterable[Dispense], *, exposure: bool = False) -> tuple[FillSupply, ...]:
        """The fills' supplies, queued by drug and prescription course (`fills.supply_intervals`): the one queue the
        current total's fills (opioid, sedative, unidentified) and the opioid exposure history read. For the total a
        fill dated to the month or the year only is placed on the last day it can mean (its supply may still last)
        and one of unknown days' supply holds no place (its dose unknown, named); for the `exposure` history (5.1)
        each is dated as written and an unknown supply lasts UNKNOWN_SUPPLY_DAYS days."""
        if exposure:
            return supply_intervals(fills, self.drug_key, course_of=self.fill_course, unknown_days=UNKNOWN_SUPPLY_DAYS)
        return supply_intervals(fills, self.drug_key, self.today, self.fill_course)

    @cached_property
    def current_fills(self) -> tuple[FillSupply, ...]:
        """Opioid fills supplying today that are not the supply of a current order or of one a draft renews."""
        return self._standalone(self.opioid_fill_supplies)

    def current_fills_in(self, set_name: str) -> tuple[FillSupply, ...]:
        """Fills of a medication set (benzodiazepines, sedatives) supplying today that no counted order stands for."""
        if set_name == OPIOID:
            return self.current_fills
        if set_name not in self._fills_in:
            fills = self.only_in(set_name, self.fills)
            self._fills_in[set_name] = self._standalone(self.fill_supplies(fills))
        return self._fills_in[set_name]

    def _standalone(self, supplies: tuple[FillSupply, ...]) -> tuple[FillSupply, ...]:
        counted, renewed = self._counted_orders, self._renewed_refs
        return standalone_fills(
            supplies, self.source_order, lambda order: id(order) in counted or order.located in renewed, self.today
        )

    def runs_beside(self, renewed: MedOrder) -> bool:
        """Whether a renewal of this order runs beside it (two courses, both counted) rather than continuing it: the
        order is still counted today as itself (current, active, no renewal retiring it: another prescriber's).
        The card's total and the MME history's queues read renewals by this one rule."""
        return id(renewed) in self._counted_orders

    @cached_property
    def _counted_orders(self) -> frozenset[int]:
        return frozenset(id(o) for o in self.active_orders)

    @cached_property
    def _renewed_refs(self) -> frozenset[str | None]:
        """The orders the drafts and the current signed orders renew through priorPrescription, directly or through
        the renewals between (`orders.renewal_chain`): the renewal stands for the renewed orders' fills. Read from the
        drafts alone, a signed renewal's completed order left its last fill counted as a standalone fill beside the
        renewal, and read one link deep, a draft renewing a signed renewal left the older order's fill counted: one
        regimen twice."""
        renewals = (*self.drafts, *self.active_orders)
        by_ref = self._orders_by_ref
        return frozenset(
            renewed.located
            for o in renewals
            if o.prior_prescription
            for renewed in order_rules.renewal_chain(o, by_ref)
        )

    @cached_property
    def _orders_by_ref(self) -> dict[str | None, MedOrder]:
        """The real orders by reference, as a priorPrescription names them (`orders.renewal_chain`)."""
        return order_rules.orders_by_ref(self.real_orders)

    @cached_property
    def real_orders(self) -> tuple[MedOrder, ...]:
        """The EHR's orders, drafts left out: the orders a fill can come from."""
        return tuple(o for o in self.record.orders if not o.is_draft)

    @cached_property
    def standing_orders(self) -> tuple[MedOrder, ...]:
        """The real orders in force, whatever their dates (`orders.is_standing`), in record order: asked once a call
        for today's orders, those that begin later and the data-incomplete card's kinds that read them (dates not
        read, supplies not believed)."""
        return order_rules.standing_orders(self.real_orders, self.config)

    @cached_property
    def _real_orders_by_drug(self) -> dict[str, tuple[MedOrder, ...]]:
        """The real orders per supply key (`fills.supply_key`), in record order: a fill is matched only against its
        own drug's."""
        by_drug: dict[str, list[MedOrder]] = {}
        for order in self.real_orders:
            by_drug.setdefault(self.supply_key(order), []).append(order)
        return {drug: tuple(orders) for drug, orders in by_drug.items()}

    def fill_course(self, dispense: Dispense) -> str | None:
        """The prescription course a fill belongs to (`fills.prescription_course`): fills of one drug on different
        courses are taken at the same time, and their doses add."""
        found = self._courses.get(id(dispense))
        if found is None or found[0] is not dispense:
            # Worked out once per fill: the opioid, sedative and unidentified fills each ask.
            found = self._courses[id(dispense)] = (dispense, prescription_course(dispense, self.real_orders))
        return found[1]

    def source_order(self, dispense: Dispense) -> MedOrder | None:
        """The order a fill came from (`fills.source_order`), with the orders and their intervals read once."""
        found = self._sources.get(id(dispense))
        if found is None or found[0] is not dispense:
            # Worked out once per fill: the current fills, the fills raising their order and each renewing draft ask.
            found = self._sources[id(dispense)] = (dispense, self._find_source_order(dispense))
        return found[1]

    def _find_source_order(self, dispense: Dispense) -> MedOrder | None:
        """The order a fill came from, worked out (`source_order` remembers it)."""
        if dispense.authorizing_prescriptions:
            return authorized_order(dispense, self.real_orders)
        same_drug = self._real_orders_by_drug.get(self.supply_key(dispense), ())
        return covering_order(dispense, [(order, self.order_interval(order)) for order in same_drug], self.supply_key)

    @cached_property
    def unidentified_fills(self) -> tuple[FillSupply, ...]:
        """Fills supplying today that no counted order stands for and whose medication matched no code or name
        PainPlan knows: they may be opioids the total leaves out, so they are named, never dropped."""
        return self._standalone(self.fill_supplies(self._unidentified(self.fills)))

    def _unidentified(self, items: Iterable[Item]) -> tuple[Item, ...]:
        """The orders or fills whose medication matched no code or name PainPlan knows, asked once per medication
        and call: the current fills, the current orders and the ended ones share a chart's few medications."""
        terms = self.terms
        return self._kept(items, ("unidentified",), lambda m: recognise(m, terms).unidentified)

    @cached_property
    def unidentified_current_orders(self) -> tuple[MedOrder, ...]:
        """Current (not draft) orders whose medication matched no code or name PainPlan knows: like the
        unidentified fills, they may be opioids the total leaves out."""
        return self._unidentified(self.active_orders)

    @cached_property
    def unidentified_past(self) -> tuple[str, ...]:
        """The orders and fills (a pharmacy's or a claim's) that ended but supplied medicine in the 90 days the opioid
        history reads (`exposure`: long-term use, a recent start, opioid-naive), whose medication matched no code or
        name PainPlan knows: each may have been an opioid the history left out, so that long-term therapy read as
        none. Named, the orders first, with their status ("… (completed order mr-1)"), then the fills with their day
        ("… (fill md-1, filled 2026-05-06)"), one known only by an NDC not read with why, as the current ones
        (`unidentified_lines`). Older ones could change nothing, and are not named. A fill still
        supplying today is a current one (`unidentified_fills`, or its order's), and the fill of an order named
        already (current or ended) is that order: one medicine is counted once."""
        orders = self._unidentified_ended_orders()
        named = []
        for order in orders:
            kind = f"{order.status} order" if order.status else "order"
            why = ndc_unread(order.medication, self.terms)
            named.append(named_item(recognise(order.medication, self.terms).shown, kind, order.id, why))
        named.extend(self._unidentified_ended_fills(orders))
        return tuple(dict.fromkeys(named))

    @cached_property
    def unidentified_administrations(self) -> tuple[str, ...]:
        """The doses recorded as given (in clinic, on a ward) in the 90 days the ended unidentified orders and fills are
        named for (`unidentified_past`), whose medication matched no code or name PainPlan knows: each may have been
        buprenorphine, methadone or naltrexone, which the OUD treatment check counts when given. Named as the
        unidentified orders are, with the day it was given ("SUBOX 8MG-2MG FLM (administration ma-1, given
        2026-06-05)", or "no date" where it has none), "status unknown" where its status does not say it was given, and
        for one known only by an NDC not read, why (`ndc_unread`). Not given (not-done, stopped, entered in error) is
        no dose, and is not named."""
        first, named = history_start(self.today), []
        for dose in self.record.administrations:
            if dose.status not in GIVEN_STATUSES | UNSTATED_STATUSES:
                continue
            given = last_given(dose, self.today)
            if dose.when is not None and (given is None or given < first):
                continue  # before the window, or dated only after today
            if not recognise(dose.medication, self.terms).unidentified:
                continue
            # With no date no window can place it, and it may be in this one: named so, as an undated OUD dose is.
            day = f"given {given.isoformat()}" if given is not None else "no date"
            detail = f"status unknown, {day}" if dose.status in UNSTATED_STATUSES else day
            named.append(self._unidentified_named(dose.medication, "administration", dose.id, detail)[1])
        return tuple(dict.fromkeys(named))

    def _unidentified_ended_orders(self) -> tuple[MedOrder, ...]:
        """The ended orders `unidentified_past` names: not current, their supply in the window."""
        unidentified = self._unidentified(self.exposure_orders)
        if not unidentified:  # the usual chart: every medication identified
            return ()
        current = {id(order) for order in self.active_orders}
        return tuple(o for o in unidentified if id(o) not in current and self._in_history_window(o))

    def _unidentified_ended_fills(self, ended_orders: tuple[MedOrder, ...]) -> list[str]:
        """The ended fills `unidentified_past` names, each with its day: run out in the window, of no order named."""
        unidentified = self._unidentified(self.fills)
        if not unidentified:  # the usual chart: every medication identified
            return []
        ordered = {id(order) for order in (*self.unidentified_current_orders, *ended_orders)}
        first, today = history_start(self.today), self.today
        named = []
        # Dated as the exposure history dates fills: an unknown days' supply lasts UNKNOWN_SUPPLY_DAYS days.
        for supply in self.fill_supplies(unidentified, exposure=True):
            fill = supply.dispense
            if supply.end is None or supply.end < first or supply.end >= today or supply.filled > today:
                continue  # before the window, still supplying (a current fill) or dated after today (named so)
            if id(self.source_order(fill)) in ordered:
                continue
            shown = recognise(fill.medication, self.terms).shown
            filled = f"filled {supply.filled.isoformat()}"
            why = ndc_unread(fill.medication, self.terms)
            named.append(fill_named(shown, "fill", fill, f"{filled}, {why}" if why else filled))
        return named

    def _in_history_window(self, order: MedOrder) -> bool:
        """Whether an order's supply overlaps the last 90 days, or it was written in them (its supply unknown)."""
        interval = self.order_interval(order)
        if interval is not None:
            return interval[1] >= history_start(self.today) and interval[0] <= self.today
        # Written on any day the opioid-naive window touches (it opens HISTORY_DAYS before now, so on today - 90).
        return in_last_days(order.authored_on, HISTORY_DAYS, self.today)

    @cached_property
    def undated_fills(self) -> tuple[str, ...]:
        """Fills with no handed-over or prepared date whose medication matters here (any class but not-relevant),
        each named, with a date sent that could not be read as written: without a date no supply can be placed in
        time, so the MME total and the checks cannot count them. The hook's data-incomplete card and the plan page
        both name them."""
        return _lines(self.undated_fills_named)

    @cached_property
    def undated_fills_named(self) -> tuple[tuple[Dispense, str], ...]:
        """`undated_fills`, each with its fill: a check that reads some medicines only names those among them."""
        named = []
        for dispense in self.fills:
            if fill_date(dispense) is not None:
                continue
            recognition = recognise(dispense.medication, self.terms)
            if recognition.kind == "not-relevant":
                continue
            named.append(
                (dispense, fill_named(recognition.shown, "fill", dispense, unread_words(dispense.unread_dates)))
            )
        return tuple(named)

    @cached_property
    def partially_dated_supplies(self) -> tuple[str, ...]:
        """Current orders and fills of a medicine that matters here dated to the month or the year only, each named
        with its date as written: counted from the last day that date can mean, their supply may be current, so
        they are counted, but each may have ended already, and the card and the plan page say so."""
        named = []
        for order in self.active_orders:
            if order.authored_partial is not None and order.dispense.validity_start is None:
                display = recognise(order.medication, self.terms).shown
                written = f"written {order.authored_partial}"
                named.append(_named_dated_only(display, _order_kind(order), order.id, written))
        for supply in (*self.current_fills, *self.current_fills_in(BENZO), *self.current_fills_in(CNS_DEPRESSANT)):
            fill = supply.dispense
            if fill.filled_partial is not None:
                display = recognise(fill.medication, self.terms).shown
                written = f"dispensed {fill.filled_partial}"
                named.append(_named_dated_only(display, *fill_called(fill, "current fill"), written))
        return tuple(dict.fromkeys(named))

    @cached_property
    def unreadable_dates(self) -> tuple[str, ...]:
        """Drafts, then orders in force (`orders.is_standing`), of a medicine that matters here with a date sent
        that could not be read ("2026-13-45", "06/15/2026"), each named with it as written. A draft is evaluated as
        the regimen being signed, from today when the day it may be filled from cannot be read. Read as none, the
        order is placed in time by its other dates, and with none it counts as current while active (the safe side
        for the MME total): named "current order" when counted, and "not counted as current" when its other dates
        ended it, since the one not read may have said otherwise. One started before `current_order_default_days`
        could not be current anyway, as for an order of unknown status, and one a renewal took over is named by the
        renewal, so neither is here. Then the current fills whose hand-over date could not be read, dated by when
        they were prepared (one with no date read at all is an undated fill)."""
        named = [
            order_named(self.name(order), order, unread_words(order.unread_dates))
            for order in self.drafts
            if order.unread_dates and recognise(order.medication, self.terms).kind != "not-relevant"
        ]
        active = {id(order) for order in self.active_orders}
        recent = self.today - timedelta(days=int(self.config["current_order_default_days"]))
        for order in self.standing_orders:
            unread = order.unread_dates
            if not unread or recognise(order.medication, self.terms).kind == "not-relevant":
                continue  # the usual order: every date read
            detail = unread_words(unread)
            if id(order) in active:
                named.append(order_named(self.name(order), order, detail))
                continue
            start = local_date(order_rules.order_start(order))
            if (start is None or start >= recent) and not order_rules.is_current(
                order, self.supply(order), self.today, self.config
            ):
                named.append(order_named(self.name(order), order, f"{detail}; not counted as current", current=False))
        for supply in (*self.current_fills, *self.current_fills_in(BENZO), *self.current_fills_in(CNS_DEPRESSANT)):
            fill = supply.dispense
            if fill.unread_dates:  # its hand-over date not read, so dated by when it was prepared
                detail = f"{unread_words(fill.unread_dates)}; dated by whenPrepared"
                named.append(fill_named(self.name(fill), "current fill", fill, detail))
        return tuple(dict.fromkeys(named))

    @cached_property
    def unknown_status_fills(self) -> tuple[str, ...]:
        """Recent fills (within `current_order_default_days`) of a medicine that matters here counted on trust
        (`fills.counted_on_trust`: status unknown, or none and no handed-over date), each named with its day: they
        are counted as handed over, and naming them lets the clinician check that the patient has the medicine."""
        return _lines(self.unknown_status_fills_named)

    @cached_property
    def unknown_status_fills_named(self) -> tuple[tuple[Dispense, str], ...]:
        """`unknown_status_fills`, each with its fill: a check that reads some medicines only names those among them."""
        return self.unknown_status_fills_within(int(self.config["current_order_default_days"]))

    def unknown_status_fills_within(self, days: int) -> tuple[tuple[Dispense, str], ...]:
        """`unknown_status_fills_named`'s rule over the last `days` days: a check with a window of its own (the OUD
        check's `lookback_days`) names those of its window, by the same rule and in the same words."""
        recent = self.today - timedelta(days=days)
        named = []
        for dispense in self.fills:
            filled = fill_date(dispense)
            if filled is None or not recent <= filled <= self.today or not counted_on_trust(dispense):
                continue
            recognition = recognise(dispense.medication, self.terms)
            if recognition.kind != "not-relevant":
                line = f"{fill_named(recognition.shown, 'fill', dispense)}, filled {filled.isoformat()}"
                named.append((dispense, line))
        return tuple(named)

    @cached_property
    def future_fills(self) -> tuple[Dispense, ...]:
        """Fills of a medicine that matters here dated after today (a clock or keying error): no supply can start
        before it is handed over, so neither the MME total nor the checks count them, and they are named."""
        return tuple(
            d
            for d in self.fills
            if (fill_date(d) or self.today) > self.today and recognise(d.medication, self.terms).kind != "not-relevant"
        )

    @cached_property
    def future_dated_fills(self) -> tuple[str, ...]:
        """The `future_fills`, each named with its date: "Oxycodone … (fill md-1), dated 2026-06-16, after today"."""
        return _lines(self.future_dated_fills_named)

    @cached_property
    def future_dated_fills_named(self) -> tuple[tuple[Dispense, str], ...]:
        """`future_dated_fills`, each with its fill: a check that reads some medicines only names those among them."""
        return tuple(
            (
                d,
                f"{fill_named(recognise(d.medication, self.terms).shown, 'fill', d)}, "
                + dated_ahead(d.filled_partial or fill_date(d) or self.today),
            )
            for d in self.future_fills
        )

    @cached_property
    def unclassified_triggers(self) -> tuple[str, ...]:
        """The new opioid orders whose days' supply cannot be worked out, so neither acute nor longer-term (4.2):
        each named, since the checks that turn on that (acute duration, urine test, treatment plan, non-opioid
        first) cannot judge them, and no card from them must not read as "nothing to say"."""
        named = (
            order_named(self.name(order), order)
            for order in self.trigger_orders
            # One whose supply was sent but cannot be believed is named with it (named_gaps `unbelieved-supply`).
            if self.duration(order) == "unclassified" and self.supply(order).unbelieved is None
        )
        return tuple(dict.fromkeys(named))

    @cached_property
    def unknown_status_orders(self) -> tuple[str, ...]:
        """Recent orders (and medications reported as taken) of a medicine that matters here whose status is
        "unknown", missing or none PainPlan knows (`orders.KNOWN_ORDER_STATUSES`): whether it is taken now cannot be
        told, so it is not counted as current, and each is named so that no card from it does not read as "nothing to
        say". One started long ago could not be current anyway (no end known: `current_order_default_days`), and is
        not named."""
        return _lines(self.unknown_status_orders_named)

    @cached_property
    def unknown_status_orders_named(self) -> tuple[tuple[MedOrder, str], ...]:
        """`unknown_status_orders`, each with its order: a check that reads some medicines names those among them."""
        recent = self.today - timedelta(days=int(self.config["current_order_default_days"]))
        named = []
        for order in self.real_orders:
            if order.status in _STATUSES_TOLD or not order_rules.is_taken(order):
                continue
            start = local_date(order_rules.order_start(order))
            if (start is not None and start < recent) or not order_rules.is_ambulatory(order, self.config):
                continue
            recognition = recognise(order.medication, self.terms)
            if recognition.kind != "not-relevant":
                named.append((order, order_named(recognition.shown, order, current=False)))
        return tuple(named)

    @cached_property
    def unread_category_orders(self) -> tuple[str, ...]:
        """Drafts and current orders of a medicine that matters here (any class but not-relevant) whose category
        PainPlan could not read, each named with that category: they are checked as outpatient orders, and the card
        and the plan page say so, so that a site can list the category as outpatient or inpatient."""
        named = []
        for order in (*self.drafts, *self.active_orders):
            if order_rules.category_reading(order, self.config) != order_rules.UNREAD_CATEGORY:
                continue
            recognition = recognise(order.medication, self.terms)
            if recognition.kind == "not-relevant":
                continue
            named.append(f"{order_named(recognition.shown, order)}: category {order_rules.category_label(order)}")
        return tuple(dict.fromkeys(named))

    def unidentified_lines(self, orders: Iterable[MedOrder], fill_kind: str) -> list[tuple[str, str]]:
        """The given unidentified orders, then the unidentified fills, without repeats: each one's name, by what
        recognition shows and its id ("… (current order mr-1)", "… (<fill_kind> d-1)"), and its line, which for one
        known only by an NDC not read says why, as its MME line does (`ndc_unread`): "… (<fill_kind> d-1, known
        only by its NDC, …)". The card's summary and a clinician's override go by the name, every list by the line.
        Those that start later are named apart (`unidentified_later_lines`), never as current."""
        named = [self._unidentified_named(o.medication, _order_kind(o), o.id) for o in orders]
        for supply in self.unidentified_fills:
            named.append(self._unidentified_named(supply.dispense.medication, *fill_called(supply.dispense, fill_kind)))
        return list(dict.fromkeys(named))

    def _unidentified_named(
        self, medication: ResolvedMedication, kind: str, ident: str | None, detail: str | None = None
    ) -> tuple[str, str]:
        """An unidentified item's name and line (`unidentified_lines`): both by what recognition shows, its kind, id
        and `detail`; the line adds why for one known only by an NDC not read (`ndc_unread`), after the detail."""
        shown = recognise(medication, self.terms).shown
        why = ndc_unread(medication, self.terms)
        line = f"{detail}, {why}" if detail and why else detail or why
        return named_item(shown, kind, ident, detail), named_item(shown, kind, ident, line)

    def unidentified_named(self, orders: Iterable[MedOrder], fill_kind: str) -> list[str]:
        """The lines of `unidentified_lines`: how the card's list and the plan page alike name them."""
        return list(dict.fromkeys(line for _, line in self.unidentified_lines(orders, fill_kind)))

    @cached_property
    def unidentified_later_lines(self) -> tuple[tuple[str, str], ...]:
        """The orders that start later (`later_orders`) whose medication nobody could identify, each named with the day
        it starts ("… (order mr-2, starts on 2026-07-10)"), with its line as `unidentified_lines` gives it (for one
        known only by an NDC not read, "…, starts on 2026-07-10, known only by its NDC, …)"): read by no check
        until it starts, and may be an opioid or a benzodiazepine, so named, not passed over; never called current."""
        named = []
        for order in self.later_orders:
            starts = order_rules.starts_after(order, self.today)
            if recognise(order.medication, self.terms).unidentified and starts is not None:
                named.append(
                    self._unidentified_named(order.medication, "order", order.id, f"starts on {starts.isoformat()}")
                )
        return tuple(dict.fromkeys(named))

    @cached_property
    def unidentified_later(self) -> tuple[str, ...]:
        """The lines of `unidentified_later_lines`: how the card's list, the plan page and the note name them."""
        return tuple(dict.fromkeys(line for _, line in self.unidentified_later_lines))

    def overridden(self, check_id: str, part: str) -> bool:
        """Whether a clinician's unexpired override of `check_id` for this patient (and user) was set on a finding
        that named `part`: what that override quiets on the check's own card stays quiet where else it is named."""
        probe = Card(check_id=check_id, indicator="info", summary=part[:1] or "-", detail="", about=frozenset({part}))
        return silencing_snooze(probe, self.context, self.snoozes, self.now) is not None

    @cached_property
    def fill_mme(self) -> tuple[FillMme, ...]:
        return tuple(fill_mme(s.dispense, self.terms, self.config) for s in self.current_fills)

    @property
    def has_current_opioid(self) -> bool:
        """An opioid draft, current order or current fill: the patient has opioids now."""
        return bool(self.current_opioids or self.current_fills)

    # -- history (guideline 5) ---------------------------------------------------------------------------------

    @cached_property
    def exposure_dispenses(self) -> tuple[Dispense, ...]:
        return tuple(d for d in self.record.dispenses if counts_as_exposure_dispense(d))

    @cached_property
    def exposure_orders(self) -> tuple[MedOrder, ...]:
        """The real orders that supplied medicine (5.1): the exposure history and the UDS expectations read them."""
        config = self.config
        return tuple(order for order in self.real_orders if counts_as_exposure_order(order, config))

    @cached_property
    def exposure_fill_supplies(self) -> tuple[tuple[Dispense, Interval | None], ...]:
        """Each fill that counts as exposure of a medicine that builds tolerance (`_tolerance_builders`: the only fills
        the history reads), with the days it supplies, an early refill of one drug and course queued after the
        earlier supply, as the current total reads it (5.1); None for an undated fill."""
        # Merged as overlapping runs, 90 days of oxycodone handed over in 40 days ended 21 days ago: no long-term
        # therapy and no card, while the current total counted the last fill as today's supply.
        # Every fill of a drug one of these is (by `drug_key`) is queued, whatever its medicine: a queue holds the
        # fills of one drug, so leaving out the other drugs' fills moves no fill in it.
        read = self._tolerance_builders(self.exposure_dispenses)
        if not read:
            return ()
        drug_key = self.drug_key
        drugs = {drug_key(d) for d in read}
        queued = self.fill_supplies([d for d in self.exposure_dispenses if drug_key(d) in drugs], exposure=True)
        days = {id(s.dispense): (s.start, s.end) for s in queued if s.end is not None}
        return tuple((d, days.get(id(d))) for d in read)

    def _tolerance_builders(self, items: Iterable[Item]) -> tuple[Item, ...]:
        """The orders or fills whose medicine builds opioid tolerance: an opioid, or buprenorphine or methadone
        (naltrexone does not) (5.3). The opioid history reads these alone: the others add no opioid supply and no
        exposure, so they are left out before it rather than asked about one by one inside it."""
        terms = self.terms
        return self._kept(
            items,
            ("builds tolerance",),
            lambda m: (
                terms.medication_in(OPIOID, m)
                or (terms.medication_in(MOUD, m) and not terms.medication_in(NALTREXONE, m))
            ),
        )

    @cached_property
    def exposure(self) -> Exposure:
        return exposure(
            self._tolerance_builders(self.exposure_orders),
            self.order_interval,
            self.exposure_fill_supplies,
            # Buprenorphine or methadone for opioid use disorder is treatment, not pain therapy: months of it are not
            # long-term opioid therapy for pain (Recommendations 6 and 7).
            is_opioid=per_medication(
                lambda m: self.terms.medication_in(OPIOID, m) and not self.terms.medication_in(OUD_TREATMENT_OPIOID, m)
            ),
            now=self.now,
        )

    # -- naloxone on hand (guideline 10.5) ---------------------------------------------------------------------

    @cached_property
    def naloxone_on_hand(self) -> tuple[MedOrder | Dispense, ...]:
        """The rescue products (never buprenorphine/naloxone) that show naloxone on hand: drafted now, on an active or
        on-hold order, or ordered or filled within the naloxone check's possession window; any category counts. The
        plan page lists exactly these, so it never says "none" beside a card that found some, or back."""
        months = int(self.config.check("naloxone").options["possession_months"])
        found: list[MedOrder | Dispense] = []
        # Each medication is looked up once (`only_in`), not each order and fill: a chart's share a few medications.
        for order in self.only_in(NALOXONE_RESCUE, self.record.orders):
            if order.is_draft:
                if order.status not in order_rules.IGNORED_DRAFT_STATUSES:
                    found.append(order)
                continue
            if not order_rules.is_taken(order):
                continue  # a proposal nobody signed is no naloxone at home (3.2)
            if order.status in ("active", "on-hold") or (
                order.status == "completed"
                and self.within_months(order.authored_on or order_rules.order_start(order), months)
            ):
                found.append(order)
        found.extend(
            d
            for d in self.only_in(NALOXONE_RESCUE, self.record.dispenses)
            if known_in_hand(d) and self.within_months(fill_moment(d), months)
        )
        return tuple(found)

    @property
    def has_naloxone(self) -> bool:
        """Naloxone on hand (`naloxone_on_hand`). Every card that would otherwise say "offer naloxone" reads this,
        so none asks to offer it to a patient who has it."""
        return bool(self.naloxone_on_hand)

    # -- clinical reading (guideline 6) ------------------------------------------------------------------------

    @cached_property
    def visible_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.record.conditions if is_visible(c, self.config))

    @cached_property
    def active_conditions(self) -> tuple[Condition, ...]:
        return tuple(c for c in self.visible_conditions if is_active(c))

    def conditions_in(self, set_name: str, active_only: bool = False) -> tuple[Condition, ...]:
        """The visible (or active) conditions whose code is in a set, in record order."""
        key = (set_name, active_only)
        if key not in self._conditions:
            pool = self.active_conditions if active_only else self.visible_conditions
            inside = self._condition_codes_in(set_name)
            self._conditions[key] = tuple(c for c in pool if id(c.code) in inside) if inside else ()
        return self._conditions[key]

    def observations_in(self, set_name: str) -> tuple[Observation, ...]:
        """The record's observations whose code is in a set, in record order."""
        if set_name not in self._observations:
            inside = self._codes_in(set_name, self._observation_codes)
            observations = self.record.observations
            self._observations[set_name] = tuple(o for o in observations if id(o.code) in inside) if inside else ()
        return self._observations[set_name]

    def _condition_codes_in(self, set_name: str) -> frozenset[int]:
        """The visible conditions' distinct codes in a set: by code, or for an entry with no code PainPlan reads, by
        the words that clearly name it (`names_diagnosis`: exclusions and opioid use disorder only)."""
        found = self._condition_codes_by_set.get(set_name)
        if found is None:
            found = self._condition_codes_by_set[set_name] = self._read_condition_codes_in(set_name)
        return found

    def _read_condition_codes_in(self, set_name: str) -> frozenset[int]:
        by_code = self._codes_in(set_name, self._condition_codes)
        if not self._uncoded_conditions:  # the usual chart: every diagnosis coded, no words to read
            return by_code
        return by_code | {key for key, code in self._uncoded_conditions.items() if names_diagnosis(set_name, code)}

    @property
    def any_uncoded_condition(self) -> bool:
        """Whether a visible condition carries no SNOMED CT or ICD-10-CM code (its words are then read): the usual
        chart has none, and a reader of such entries need not look at each condition."""
        return bool(self._uncoded_conditions)

    @cached_property
    def _uncoded_conditions(self) -> dict[int, Concept | None]:
        """The visible conditions' distinct codes that carry no SNOMED CT or ICD-10-CM code (read by their words)."""
        return {key: code for key, code in self._condition_codes.items() if not read_by_code(code)}

    @cached_property
    def unread_conditions(self) -> tuple[str, ...]:
        """Active diagnoses with no code PainPlan reads and no word rule that names them, each named by its first words
        (`words.QUOTED_CHARACTERS`): no check counted them, so the plan page says so rather than look as if the problem
        list held nothing of note."""
        named = []
        for condition in self.active_conditions:
            if unread_diagnosis(condition.code):
                # quoted as `named_gaps.diagnoses_not_read` quotes: its words may be 2,000 long
                shown = clip(condition.code.display() or "", QUOTED_CHARACTERS) if condition.code else None
                named.append(named_item(shown or "a diagnosis with no code or text", "condition", condition.id))
        return tuple(dict.fromkeys(named))

    def _codes_in(self, set_name: str, codes: dict[int, Concept | None]) -> frozenset[int]:
        # Conditions and results of one code share one code object: each distinct code is looked up once per set.
        return self.terms.keys_in(set_name, codes)

    @cached_property
    def _condition_codes(self) -> dict[int, Concept | None]:
        return {id(c.code): c.code for c in self.visible_conditions}

    @cached_property
    def _observation_codes(self) -> dict[int, Concept | None]:
        return {id(o.code): o.code for o in self.record.observations}

    def procedures_in(
        self, set_name: str, days: int | None = None, completed_only: bool = False
    ) -> tuple[Procedure, ...]:
        if set_name not in self._procedures:  # a check may ask for a window and for the last one on record
            self._procedures[set_name] = tuple(
                p for p in self.record.procedures if self.terms.contains(set_name, p.code)
            )
        return tuple(
            p
            for p in self._procedures[set_name]
            if procedure_counts(p, completed_only) and (days is None or performed_within(p, days, self.today))
        )

    def condition_name(self, condition: Condition) -> str:
        return condition_name(condition, self.terms)

    def within_days(self, moment: datetime | date | None, days: int) -> bool:
        return in_last_days(moment, days, self.today)

    def within_months(self, moment: datetime | date | None, months: int) -> bool:
        return in_last_months(moment, months, self.today)

    def local_day(self, moment: datetime | None) -> date | None:
        """The calendar date in the configured zone of a moment that may come from elsewhere (a UTC store)."""
        if moment is None:
            return None
        return moment.astimezone(self.now.tzinfo).date() if moment.tzinfo is not None else moment.date()

    @cached_property
    def prescription_history(self) -> PrescriptionHistory:
        return PrescriptionHistory(
            self.exposure_orders,
            self.order_interval,
            self.exposure_dispenses,  # each dated only when its drug's set is asked about
            self.terms,
            # the record and settings, not the facts: a closure over the facts would make a reference cycle
            partial(doses_given, self.record, self.config),
        )

    @cached_property
    def uds_results(self) -> tuple[UdsResult, ...]:
        """Every result. The plan page reads them after the checks read the last 12 months: the results of the widest
        window already judged are taken as they are, and only those before it judged (`joined_results`)."""
        history, today = self.prescription_history, self.today
        if self._uds_since:
            months = max(self._uds_since)
            before = months_before(today, months)
            older = uds_results(
                self.record,
                self.terms,
                history,
                self.config,
                today=today,
                before=before,
                verdicts=self.specimen_verdicts,
            )
            joined = joined_results(self._uds_since[months], older)
            if joined is not None:
                return joined
        return uds_results(self.record, self.terms, history, self.config, today=today, verdicts=self.specimen_verdicts)

    @cached_property
    def specimen_validity(self) -> Validity:
        """What the record's specimen validity results say of their specimens (`uds.validity_of`): grouped by
        specimen and judged once for both the verdicts and the results not judged."""
        return validity_of(self.record.observations)

    @property
    def specimen_verdicts(self) -> SpecimenVerdicts:
        """What the record's specimen validity results say of their specimens (`Validity.verdicts`): read once
        for every window of results judged, the checks' and the plan page's."""
        return self.specimen_validity.verdicts

    @cached_property
    def unread_drug_test_reports(self) -> tuple[UnreadReport, ...]:
        """The urine drug test reports with results PainPlan does not read: the test done, what the card names and
        the plan page lists."""
        # The verdicts read once for every window of results, and only when a conclusion says what was found.
        return unread_drug_test_reports(self.record, self.terms, lambda: self.specimen_verdicts)

    @cached_property
    def drug_test_procedures(self) -> tuple[tuple[date | None, Procedure], ...]:
        """The drug tests recorded as done procedures, each with its day: the card, its dated-ahead list and the
        plan page read them."""
        return drug_test_procedures(self.record)

    @cached_property
    def drug_tests_done_days(self) -> tuple[date, ...]:
        """Days of drug tests done with no result to read, newest first: procedures (point-of-care, claims) and
        reports whose results PainPlan does not read (a conclusion only). Each still counts as the test done."""
        return drug_tests_done_days(self.record, self.terms, self.unread_drug_test_reports, self.drug_test_procedures)

    @cached_property
    def unreadable_drug_tests(self) -> tuple[UnreadableTest, ...]:
        """The tests on record whose specimen could not show what the patient takes, and that read nothing
        (`uds.unreadable_tests`, of the results and the reports with only a conclusion): no test done for the year's
        test, nor the last test."""
        return unreadable_tests(self.uds_results, self.unread_drug_test_reports, self.uds_spoken_for)

    @cached_property
    def uds_results_spoken_for(self) -> frozenset[str]:
        """The urine drug test results a lab report speaks for (`uds.results_spoken_for`): one with no value of its
        own is read by that report, never as a test with no result on record (`uds.NO_VALUE`)."""
        return results_spoken_for(self.record, self.terms)

    def uds_spoken_for(self) -> frozenset[str]:
        """`uds_results_spoken_for`, as the readers of the results take it: asked only when a result with no value is
        met (`uds.SpokenFor`), so the usual chart never looks for it."""
        return self.uds_results_spoken_for

    @property
    def validity_not_judged(self) -> SpecimenVerdicts:
        """By specimen, its validity results PainPlan could not judge (a unit or words it does not read, or a bound
        that cannot decide: `Validity.not_judged`), its drug results read as the others allow, and these named
        beside."""
        return self.specimen_validity.not_judged

    def unreadable_drug_tests_within(self, months: int) -> tuple[UnreadableTest, ...]:
        """`uds.unreadable_tests` of the results and the reports with only a conclusion within the last `months`
        months up to today (`uds_results_within`), worked out once per window: the card asks whether the year's test
        was done, then names those not read. Read without the reports, an "Indeterminate" result beside its day's
        report concluding "Negative, dilute specimen" counted as the year's test and as the last test."""
        found = self._unreadable_within.get(months)
        if found is None:
            since, today = months_before(self.today, months), self.today
            reports = [u for u in self.unread_drug_test_reports if u.day is not None and since <= u.day <= today]
            found = unreadable_tests(self.uds_results_within(months), reports, self.uds_spoken_for)
            self._unreadable_within[months] = found
        return found

    def last_drug_test_day(self) -> date | None:
        """The newest day, not after today, of any urine drug test on record: a result, or a drug test procedure. A
        result dated in the future is in no window the card reads: taken as the last test, the card said it was
        "over 12 months ago" and the plan's tile showed the test as done beside a card asking for one. A test that
        could not be read (a dilute negative: `unreadable_drug_tests`) is not the last test: it informed nothing."""
        unreadable = {test.day for test in self.unreadable_drug_tests}
        days = [r.day for r in self.uds_results if r.day is not None and r.day not in unreadable]
        days += self.drug_tests_done_days
        return max((day for day in days if day <= self.today), default=None)

    def last_drug_test_written(self) -> str | None:
        """`last_drug_test_day` as the cards and the page write it: the month or the year its date names only
        ("2025-06") when every test read as of that day is dated so, never the 1st it is read as; else the day."""
        last = self.last_drug_test_day()
        if last is None:
            return None
        day = last.isoformat()
        written = [as_written(r.day, r.observation.dated_partial) for r in self.uds_results if r.day == last]
        written += [u.when for u in self.unread_drug_test_reports if u.counted and u.day == last]
        written += [as_written(done, p.dated_partial) for done, p in self.drug_test_procedures if done == last]
        partial = [w for w in written if w and w != day]
        return partial[0] if partial and len(partial) == len(written) else day

    @cached_property
    def uds_results_of_unknown_status(self) -> tuple[tuple[str, date | None, str | None], ...]:
        """The urine drug test results of unknown status on record, of any date (`uds.results_of_unknown_status`):
        each with its test's name, day and date as written. Read once: the unexpected-result check's list, the plan
        page's history rows and its tile each take their own window of them (`uds_unknown_status_since`)."""
        return results_of_unknown_status(self.record, self.terms, self.config)

    def uds_unknown_status_since(self, since: date) -> tuple[tuple[str, date | None, str | None], ...]:
        """`uds_results_of_unknown_status` dated `since` onwards, or undated: the one place their window is taken."""
        return tuple([found for found in self.uds_results_of_unknown_status if found[1] is None or found[1] >= since])

    def uds_results_since(self, months: int) -> tuple[UdsResult, ...]:
        """The results dated within the last `months` calendar months (the window a check reads)."""
        if months not in self._uds_since:
            since = months_before(self.today, months)
            every = self.__dict__.get("uds_results")  # every result, when already read: the window is among them
            self._uds_since[months] = (
                in_window(every, since)
                if every is not None
                else uds_results(
                    self.record,
                    self.terms,
                    self.prescription_history,
                    self.config,
                    since,
                    self.today,
                    verdicts=self.specimen_verdicts,
                )
            )
        return self._uds_since[months]

    def uds_results_within(self, months: int) -> tuple[UdsResult, ...]:
        """The results dated within the last `months` calendar months up to today (a future date is not in it)."""
        if months not in self._uds_within:
            today = self.today
            self._uds_within[months] = tuple(
                [r for r in self.uds_results_since(months) if r.day is not None and r.day <= today]
            )
        return self._uds_within[months]

    # -- exclusions (guideline 7) ------------------------------------------------------------------------------

    @cached_property
    def exclusions(self) -> tuple[ExclusionFinding, ...]:
        return general_exclusions(
            self.record,
            self.terms,
            self.config,
            self.today,
            self.visible_conditions,
            self.conditions_in,
            self.observations_in,
        )

    def excluded(self, settings: CheckSettings) -> bool:
        """Whether the general exclusions silence this check on this hook."""
        applies = settings.apply_general_exclusions
        if settings.check_id == "opioid-benzodiazepine" and self.context.hook == "patient-view":
            applies = bool(settings.options["patient_view_apply_general_exclusions"])
        return applies and bool(self.exclusions)
