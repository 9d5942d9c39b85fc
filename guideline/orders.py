"""Which orders count (guideline 3): draft, new, trigger, active and current orders."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, cast

from guideline.config import GuidelineConfig
from guideline.fhirdata import (
    MEDREQ_CATEGORY_SYSTEMS,
    MEDSTATEMENT_CATEGORY_SYSTEMS,
    Concept,
    last_possible_day,
    unversioned,
)
from guideline.identifiers import actor_key, comparable
from guideline.memo import IdentityTables
from guideline.record import MedOrder, ServiceRequest
from guideline.record.identity import IdentifiedDrug
from guideline.record.pool import order_keys
from guideline.supply import Supply
from guideline.timeutil import day_span, local_date

IGNORED_DRAFT_STATUSES = frozenset({"entered-in-error", "cancelled"})
# R5's status for an order no longer in effect, its parent of completed and stopped: which of the two is not said.
# It is opioid use (history, past OUD treatment), as both are; where only completed counts (naloxone on hand, a
# non-opioid tried, a hospital dose given), it does not, so nothing is taken as given that may never have been.
ENDED = "ended"
# Every status an order or a medication statement of a FHIR version PainPlan reads can have (R4, R5, STU3, DSTU2;
# a statement's in R4's terms, `record.readers.statement_status`). An order with any other status may or may not be
# taken now, as one of status unknown may: it is named, never silently left out.
KNOWN_ORDER_STATUSES = frozenset(
    {
        "active",
        "on-hold",
        "completed",
        ENDED,
        "stopped",
        "cancelled",
        "entered-in-error",
        "draft",
        "intended",
        "not-taken",
        "unknown",
    }
)
NON_ORDER_INTENTS = frozenset({"proposal", "plan", "option"})
REPORTED_INTENT = "plan"  # Oracle Health (Cerner) sends documented home medications as reported, intent plan
# The codes of the HL7 medication request category system (R4; STU3 has the first three).
HL7_CATEGORIES = frozenset({"inpatient", "outpatient", "community", "discharge"})
_HL7_CATEGORY_SYSTEMS = MEDREQ_CATEGORY_SYSTEMS | MEDSTATEMENT_CATEGORY_SYSTEMS


AMBULATORY = "ambulatory"
NOT_AMBULATORY = "not ambulatory"
UNREAD_CATEGORY = "unread"


def category_reading(order: MedOrder, config: GuidelineConfig) -> str:
    """Whether the order's category says outpatient (`AMBULATORY`; no category says so too), says otherwise
    (`NOT_AMBULATORY`: an HL7 category outside `ambulatory_categories`, or one in `inpatient_categories`), or names
    only categories PainPlan does not know (`UNREAD_CATEGORY`)."""
    categories = order.categories
    if not categories:
        return AMBULATORY
    # Asked of every order several times a call; the reader shares one tuple per distinct category array (a chart
    # files its orders under a few), so each is read once per pair of category settings, across calls.
    question = (config.ambulatory_categories, config.inpatient_categories)
    table = _CATEGORY_READINGS.tables.get(question)
    if table is not None:
        entry = table.get(id(categories))
        if entry is not None:
            return entry[1]  # type: ignore[return-value]
    reading = _category_reading(categories, *question)
    _CATEGORY_READINGS.put(question, categories, reading)
    return reading


_CATEGORY_READINGS = IdentityTables(limit=4096)


def _category_reading(categories: tuple[Concept, ...], ambulatory: frozenset[str], inpatient: frozenset[str]) -> str:
    """`category_reading` of a non-empty category tuple under these category settings."""
    known_other = False
    for concept in categories:
        for coding in concept.codings:
            # R4 and STU3 name the same codes in two code systems; the sandbox sends the category without a
            # system. Codes are lower case in FHIR, but "Outpatient" is that code too, and a site's own coding is
            # read by its code or its display ("Outpatient").
            code = (coding.code or "").lower()
            display = (coding.display or "").strip().lower()
            if code in ambulatory or display in ambulatory:
                return AMBULATORY
            hl7 = coding.system is None or coding.system in _HL7_CATEGORY_SYSTEMS
            known_other = known_other or code in inpatient or display in inpatient or (hl7 and code in HL7_CATEGORIES)
        text = (concept.text or "").strip().lower()
        if text in ambulatory:
            return AMBULATORY  # a category sent as text only
        known_other = known_other or text in inpatient
    if known_other:
        return NOT_AMBULATORY
    if not any(concept.codings or concept.text for concept in categories):
        return AMBULATORY  # empty category entries say nothing
    return UNREAD_CATEGORY


def is_ambulatory(order: MedOrder, config: GuidelineConfig) -> bool:
    """Outpatient, or of a category PainPlan cannot read: such an order is evaluated (and named by the caller),
    because leaving it out of every check would look like "all clear"."""
    return category_reading(order, config) != NOT_AMBULATORY


def category_label(order: MedOrder) -> str:
    """The order's categories as the EHR names them ("E-Prescribe"), for saying which one was not read."""
    labels: list[str] = []
    for concept in order.categories:
        labels.extend(named for c in concept.codings if (named := c.display or c.code))
        if not concept.codings and concept.text:
            labels.append(concept.text)
    return ", ".join(dict.fromkeys(label.strip() for label in labels)) or "unnamed"


def is_order(request: MedOrder | ServiceRequest) -> bool:
    """An order, of a medicine or a service: not a proposal, a plan or an option nobody has signed (3.2), such as
    another decision-support tool's suggestion or a care-plan item. A request that states no intent (DSTU2 has none)
    is an order."""
    return request.intent not in NON_ORDER_INTENTS


def is_prescription(order: MedOrder) -> bool:
    """A medicine ordered (`is_order`, by the name the population review reads it by): not a proposal, a plan or an
    option (3.2). A medication reported as taken comes with intent plan (Oracle Health) and so is none; one reported
    with intent order counts, as its intent says."""
    return is_order(order)


def is_taken(order: MedOrder) -> bool:
    """An order, or a medication reported as taken: not a proposal, an option or a plan nobody has acted on (3.2).
    A reported medication with intent plan is what Oracle Health sends for a documented home medication, such as
    a benzodiazepine an outside psychiatrist prescribes: left out, no check saw it."""
    # is_prescription's test, in place: asked of every order several times a call, through two calls.
    intent = order.intent
    return intent not in NON_ORDER_INTENTS or (order.reported and intent == REPORTED_INTENT)


def draft_orders(orders: Iterable[MedOrder], config: GuidelineConfig) -> tuple[MedOrder, ...]:
    """Ambulatory drafts from `context.draftOrders`, whatever their status, except cancelled or in error (3.1)."""
    return tuple(
        o for o in orders if o.is_draft and o.status not in IGNORED_DRAFT_STATUSES and is_ambulatory(o, config)
    )


def selection_key(selection: str) -> str:
    """A selection as the draft's own names read it: an absolute URL of a server's draft
    (`https://ehr/fhir/MedicationRequest/d1`, versioned or not) as its `Type/id`, a `Type/urn:uuid:…` as the
    fullUrl it wraps; any other selection as written."""
    selection = selection.strip()
    if selection.startswith(("http://", "https://")):
        return "/".join(unversioned([part for part in selection.split("/") if part])[-2:])
    kind, _, rest = selection.partition("/")
    if rest.startswith(("urn:uuid:", "urn:oid:")) and kind[:1].isupper():
        return rest
    return selection


def names_draft(selection: str, names: frozenset[str]) -> bool:
    """Whether an order-select selection names one of these draft names (`MedicationRequest/<id>`, a bare id, an
    absolute URL of the draft, its Bundle fullUrl, or `MedicationRequest/<fullUrl>`)."""
    return selection in names or selection_key(selection) in names


def order_names(order: MedOrder) -> frozenset[str]:
    """The names a draft goes by: its id, `Type/id` and Bundle fullUrl."""
    return frozenset(name for name in (order.id, order.ref, order.full_url) if name)


def selected(order: MedOrder, selections: tuple[str, ...]) -> bool:
    """Whether an order-select `selections` entry names this draft (`names_draft`)."""
    names = order_names(order)
    return bool(names) and any(names_draft(s, names) for s in selections)


def unmatched_selections(selections: tuple[str, ...], draft_names: frozenset[str]) -> tuple[str, ...]:
    """The order-select selections that name no draft of the call, in the order sent."""
    return tuple(dict.fromkeys(s for s in selections if not names_draft(s, draft_names)))


def new_drafts(
    drafts: tuple[MedOrder, ...], hook: str, selections: tuple[str, ...], all_drafts: bool = False
) -> tuple[MedOrder, ...]:
    """On order-select the selected drafts, or every draft when `all_drafts` (a selection named no draft, or none
    was sent: the EHR is asking about the drafts it sent, and judging none would read as "all clear"); on
    order-sign every draft (3.1)."""
    if hook == "order-select":
        return drafts if all_drafts else tuple(o for o in drafts if selected(o, selections))
    if hook == "order-sign":
        return drafts
    return ()


def order_start(order: MedOrder) -> datetime | None:
    """validityPeriod.start, else authoredOn, else the first instruction's boundsPeriod.start (3.3)."""
    # Each field read once: authoredOn is parsed on first use, and every read of it goes through that check.
    start = order.dispense.validity_start or order.authored_on
    if start:
        return start
    if order.dosages and order.dosages[0].repeat and order.dosages[0].repeat.bounds_start:
        return order.dosages[0].repeat.bounds_start
    return None


def possible_start(order: MedOrder, today: date | None) -> date | None:
    """The first day of the order's supply: its start (`order_start`) as a day; for one written to the month or the
    year only (authoredOn "2026-05"), the last day it can mean, never after today. Counted from the 1st, as the reader
    dates it, a supply that may still last looked ended, and a current opioid left the MME total with nothing said.
    With no validity period, instructions that begin after the day written (`stated_start`) begin the supply: read
    from the day written, the second of two prescriptions written one day, its instructions a month on, looked ended
    while it was the dose taken. Whether it is current and the history of its supply read it alike; with no `today`
    (the population review's history, read for a past year) a month or a year is read as its first day."""
    return _first_day(order, today, stated_start(order))


def _first_day(order: MedOrder, today: date | None, begins: date | None) -> date | None:
    """`possible_start` of an order whose `stated_start` is `begins` (a caller that has read it passes it)."""
    start = local_date(order_start(order))
    if start is None or order.dispense.validity_start:
        return start
    if order.authored_partial is not None and today is not None:
        start = last_possible_day(start, order.authored_partial, today) or start
    return max(start, begins) if begins is not None else start


def stated_start(order: MedOrder) -> date | None:
    """The first day the order itself says it may begin: its validity period's start (the earliest fill date, "do
    not fill before"), else, when every instruction states one, its instructions' earliest boundsPeriod start. The
    reader reads a date written to the month or the year only as its first day, the earliest it can mean."""
    validity = local_date(order.dispense.validity_start)
    if validity is not None:
        return validity  # the law's date: no pharmacy may fill it before, whatever the instructions say
    # An instruction with no start begins with the order: "every 6 hours for 14 days, then every 8 hours from the
    # 15th" is taken today, though only its second step states a start.
    starts = [local_date(ds.repeat.bounds_start) if ds.repeat else None for ds in order.dosages]
    if not starts or None in starts:
        return None
    return min(start for start in starts if start is not None)


def starts_after(order: MedOrder, today: date) -> date | None:
    """The day the order begins (`stated_start`) when that is after `today`, else None: a staggered Schedule II
    prescription, or a renewal written to be filled later, is not today's dose."""
    return _later_than(stated_start(order), today)


def _later_than(begins: date | None, today: date) -> date | None:
    """`begins` when it is after `today` (the order is not today's dose), else None: `starts_after` of a stated start
    already read."""
    return begins if begins is not None and begins > today else None


def supply_end(order: MedOrder, supply: Supply, start: date | None = None) -> date | None:
    """The latest end of supply the order supports: start (`order_start`, unless given) + supply days, validity
    end, any bounds end."""
    # Not remembered: an order's dates differ from call to call, so a memo here missed nearly every time.
    candidates: list[date] = []
    start = start or local_date(order_start(order))
    if start and supply.total_days is not None:
        candidates.append(start + day_span(math.ceil(supply.total_days)))
    stated = stated_end(order)
    if stated:
        candidates.append(stated)
    return max(candidates) if candidates else None


def worked_out_end(order: MedOrder, supply: Supply, start: date | None) -> date | None:
    """The end of the supply worked out from the order (start + supply days, any bounds end), its validity end left
    out; None when its supply days are unknown (then the validity end is the only end it gives)."""
    if start is None or supply.total_days is None:
        return None
    ends: list[date | None] = [start + day_span(math.ceil(supply.total_days))]
    ends.extend(local_date(ds.repeat.bounds_end) for ds in order.dosages if ds.repeat)
    return max(end for end in ends if end is not None)


def stated_end(order: MedOrder) -> date | None:
    """The latest end the order itself states: its validity period's, or any instruction's boundsPeriod's."""
    ends = [local_date(order.dispense.validity_end)]
    ends.extend(local_date(ds.repeat.bounds_end) for ds in order.dosages if ds.repeat)
    known = [end for end in ends if end is not None]
    return max(known) if known else None


def is_standing(order: MedOrder, config: GuidelineConfig) -> bool:
    """A real EHR order in force, whatever its dates: signed (no draft), active, taken and ambulatory (3.2); one rule
    for today's orders, those that start later and the one a draft renews."""
    return not order.is_draft and order.status == "active" and is_taken(order) and is_ambulatory(order, config)


def standing_orders(orders: Iterable[MedOrder], config: GuidelineConfig) -> tuple[MedOrder, ...]:
    """The orders in force (`is_standing`), in their order: what today's orders and those that start later are
    read from."""
    return tuple(o for o in orders if is_standing(o, config))


def is_current(order: MedOrder, supply: Supply, today: date, config: GuidelineConfig) -> bool:
    """Drafts always; otherwise begun by today (`starts_after`) and supply reaching today, or a recent start when
    no end can be derived (3.3)."""
    if order.is_draft:
        return True
    begins = stated_start(order)  # read once: whether it starts later and the first day of its supply both read it
    if _later_than(begins, today) is not None:
        return False
    # `current_until`'s rule, read in place: asked of every order of every call, and the call and its answer's
    # reason cost more than the rule (tests/test_current_until.py holds the two to one answer).
    start = _first_day(order, today, begins)
    end = supply_end(order, supply, start)
    if end is not None:
        return end >= today
    if start is not None:
        return start >= today - timedelta(days=int(config["current_order_default_days"]))
    return True  # status active is the only evidence, and it says current


# Why an order in force counts as current until the day `current_until` gives (3.3): the rule `is_current` reads, so
# the words naming an order of unknown supply (`named_gaps`) say what the total did.
CurrentBy = Literal["supply end", "stated end", "default window", "while active"]
UNTIL_SUPPLY_ENDS: CurrentBy = "supply end"  # start + supply days, or the end it states if later (`supply_end`)
UNTIL_STATED_END: CurrentBy = "stated end"  # its supply gives no end of its own: the end it states (`stated_end`)
UNTIL_WINDOW_ENDS: CurrentBy = "default window"  # no end at all: `current_order_default_days` from its start
WHILE_ACTIVE: CurrentBy = "while active"  # no end and no start: current while it is active (no day)


def current_until(
    order: MedOrder, supply: Supply, config: GuidelineConfig, start: date | None
) -> tuple[date | None, CurrentBy]:
    """The last day a signed order begun by today counts as current, and why (`UNTIL_SUPPLY_ENDS`,
    `UNTIL_STATED_END`, `UNTIL_WINDOW_ENDS`; None with `WHILE_ACTIVE`): its supply's end (`supply_end`), else
    `current_order_default_days` from `start` (`possible_start`, which the caller passes), else no day. One that
    starts later (`starts_after`, which the caller asks first, as `is_current` does) is not current whatever this
    says: its end stated months ahead named it "current until" that end."""
    end = supply_end(order, supply, start)
    if end is not None:
        return end, UNTIL_SUPPLY_ENDS if start is not None and supply.total_days is not None else UNTIL_STATED_END
    if start is not None:
        return start + day_span(int(config["current_order_default_days"])), UNTIL_WINDOW_ENDS
    return None, WHILE_ACTIVE


def replaced_refs(orders: tuple[MedOrder, ...]) -> set[str | None]:
    """The orders real drafts replace (`priorPrescription`), by reference: relative, absolute or versioned, or
    (sandbox) a bare id. A cancelled or erroneous draft is not a draft order (3.1) and replaces nothing."""
    replaced: set[str | None] = set()
    for o in orders:
        if o.is_draft and o.prior_prescription and o.status not in IGNORED_DRAFT_STATUSES:
            replaced |= order_keys(o.prior_prescription)
    return replaced


@dataclass(frozen=True)
class CurrentOrders:
    """Which real orders count today, worked out once: those in force and current (`is_standing`, `is_current`), the
    ones among them a later prescription of their series has taken over (`expired_in_series`), and those counted
    (`active_orders`). The total and the words saying which current order a draft replaces read this one answer."""

    current: tuple[MedOrder, ...]  # held, so the ids in `not_taken_over` stay theirs
    not_taken_over: frozenset[int]  # id() of the current orders no later prescription of their series has taken over
    active: tuple[MedOrder, ...]

    def in_force(self, order: MedOrder) -> bool:
        """Whether this order would count today were no draft or renewal to replace it: current, not taken over."""
        return id(order) in self.not_taken_over


def current_orders(
    orders: Iterable[MedOrder],
    supply_of: Callable[[MedOrder], Supply],
    today: date,
    config: GuidelineConfig,
    key: Callable[[MedOrder], str],
    by_ref: Mapping[str | None, MedOrder] | None = None,
    standing: Sequence[MedOrder] | None = None,
    supply_key: Callable[[MedOrder], object] | None = None,
) -> CurrentOrders:
    """The real orders that count today (`CurrentOrders`) over every order of the record, an order sent with no id or
    two sharing a reference each read as itself: worked out over the orders by reference too, they stood as one, and
    a renewal's line called an order "still current" that the total read as taken over. `by_ref` is the real orders
    by reference (`orders_by_ref`) and `standing` those of `orders` in force (`standing_orders`), when the caller
    has them already; `supply_key` (`fills.supply_key`, else `key`) pairs a statement with the order it records."""
    orders = tuple(orders)
    in_force = standing_orders(orders, config) if standing is None else standing
    current = tuple(o for o in in_force if is_current(o, supply_of(o), today, config))
    replaced = replaced_refs(orders) | renewed_by_signed(current) | renewed_along_chains(orders, current, by_ref)
    expired = expired_in_series(current, supply_of, today, key)
    not_taken_over = [o for o in current if id(o) not in expired]
    recorded = statements_of_orders(current, supply_key or key)
    active = tuple(o for o in not_taken_over if o.located not in replaced and id(o) not in recorded)
    return CurrentOrders(current, frozenset(map(id, not_taken_over)), active)


def statements_of_orders(current: Sequence[MedOrder], key: Callable[[MedOrder], object]) -> set[int]:
    """The current statements (by id()) that name a current order of the same supply key as the one they record
    (basedOn / derivedFrom): the medication list's entry of that prescription, so one supply, never two. A
    statement naming an order not current here, or of another drug, is a supply of its own."""
    orders = {o.located: o for o in current if o.resource_type == "MedicationRequest"}
    recorded: set[int] = set()
    for statement in current:
        named = (orders.get(ref) for ref in statement.records_orders)
        if any(order is not None and key(order) == key(statement) for order in named):
            recorded.add(id(statement))
    return recorded


def active_orders(
    orders: Iterable[MedOrder],
    supply_of: Callable[[MedOrder], Supply],
    today: date,
    config: GuidelineConfig,
    key: Callable[[MedOrder], str],
    supply_key: Callable[[MedOrder], object] | None = None,
) -> tuple[MedOrder, ...]:
    """Active, real, ambulatory, current EHR orders that no draft, and no other such order, replaces (3.2, 3.3), and
    by the same-drug `key` none a later prescription of its staggered series has taken over (`expired_in_series`)."""
    return current_orders(orders, supply_of, today, config, key, supply_key=supply_key).active


def expired_in_series(
    current: Iterable[MedOrder], supply_of: Callable[[MedOrder], Supply], today: date, key: Callable[[MedOrder], str]
) -> set[int]:
    """The current orders (by id()) that a later prescription of their staggered series has taken over: one of the
    same recognised product (`is_product`), by the same prescriber (`one_prescriber`), begun after them and by today,
    when the order's own supply (`worked_out_end`) ended before today and only its validity end keeps it current (the
    prescription's expiry, which Epic sends months after the start), or when the later one was written to be filled
    once this one's supply runs out (`next_in_series`). Read as still current, the first of three 30-day
    prescriptions counted beside the second on the day the second began (day 30) and, by its expiry, on day 35."""
    # Only orders sharing a recognised product with another current order can be taken over: grouped first, so a
    # chart of many different medicines compares no pairs.
    products: dict[str, list[MedOrder]] = {}
    for order in current:
        product = key(order)
        if is_product(product):
            products.setdefault(product, []).append(order)
    expired: set[int] = set()
    for group in products.values():
        if len(group) < 2:
            continue
        for order in group:
            start = possible_start(order, today)
            if start is None:
                continue
            supply = supply_of(order)
            end = worked_out_end(order, supply, start)
            # Its own supply ended: only its validity end keeps it current (its supply unknown: the general rule).
            expiry_only = order.dispense.validity_end is not None and end is not None and end < today
            for later in group:
                if not later_in_series(later, order, key, today):
                    continue
                begins = possible_start(later, today) or start
                if expiry_only or next_in_series(later, begins, start, supply):
                    expired.add(id(order))
                    break
    return expired


def later_in_series(later: MedOrder, earlier: MedOrder, key: Callable[[MedOrder], str], today: date | None) -> bool:
    """Whether `later` is a later prescription of `earlier`'s product by its prescriber: the same recognised product
    (`is_product`), by the same prescriber (`one_prescriber`), neither reported as taken (prescribed elsewhere), begun
    on a later day (`possible_start`: the first day of its supply, as whether it is current reads it; an undated order
    is no evidence of either). The one rule a staggered series' hand-over (`expired_in_series`), a renewal read as
    carrying on the order it names and a reorder (`renewals.implied_renewals`, `renewals.reordered_fills`) read a pair
    by: read by two dates (the supply's first day, and the day written or begun), one pair was "later" to the hand-over
    and "earlier" to the renewal, and an order the series took over was paired with no order (120 MME/day for 60)."""
    if later is earlier or later.reported or earlier.reported:
        return False
    product = key(later)
    if not is_product(product) or key(earlier) != product or not one_prescriber(later, earlier):
        return False
    begins, began = possible_start(later, today), possible_start(earlier, today)
    return begins is not None and began is not None and begins > began


# A pharmacy may fill a controlled prescription a few days before the last one runs out, and "a month apart" from
# 1 February is 28 days after a 30-day supply began: so much overlap is still one prescription after another.
SERIES_OVERLAP_DAYS = 3


def follows(begins: date, earlier: Supply, then: date) -> bool:
    """Whether a prescription beginning `then` follows one beginning `begins` with supply `earlier`: it begins no more
    than `SERIES_OVERLAP_DAYS` before that supply runs out. A supply not known shows no such thing: 30 days from
    today and another from next week are both taken for 23 days, and counting one of them hid a double dose."""
    if earlier.total_days is None:
        return False
    return then >= begins + day_span(math.ceil(earlier.total_days) - SERIES_OVERLAP_DAYS)


def next_in_series(later: MedOrder, begins: date, start: date, earlier: Supply) -> bool:
    """Whether `later`, beginning `begins`, is the next prescription of a staggered series after an order beginning
    `start` with supply `earlier`: it states a start after the day it was written (an earliest fill date, "do not fill
    before", or instructions that begin later), and that start follows the earlier supply (`follows`). A reorder
    written to be filled the day it was written states no such date: it may be a second prescription taken beside
    the first, and both count."""
    stated = stated_start(later)
    written = local_date(later.authored_on)
    return stated is not None and written is not None and stated > written and follows(start, earlier, begins)


def later_orders(
    orders: Iterable[MedOrder], today: date, config: GuidelineConfig, standing: Sequence[MedOrder] | None = None
) -> tuple[MedOrder, ...]:
    """Active, real, ambulatory EHR orders that begin after today (`starts_after`) and no draft replaces: not
    current, so in no total and renewing no order yet (the order they renew is still today's dose), but named
    beside today's total. A fill of one dispensed early is real supply, and counts as a fill. `standing` is those of
    `orders` in force (`standing_orders`), when the caller has them already."""
    orders = tuple(orders)
    replaced = replaced_refs(orders)
    in_force = standing_orders(orders, config) if standing is None else standing
    return tuple(o for o in in_force if starts_after(o, today) is not None and o.located not in replaced)


def replaced_of_another(
    drafts: Iterable[MedOrder],
    real_orders: Mapping[str | None, MedOrder],
    counted: CurrentOrders,
    today: date,
    config: GuidelineConfig,
) -> tuple[tuple[MedOrder, MedOrder], ...]:
    """Each draft with the order its priorPrescription names (`real_orders` by `located`) when that order is another
    prescriber's and would count today (`CurrentOrders.in_force`: active, current, and not taken over by a later
    prescription of its staggered series) or starts later (`starts_after`): a draft replaces the order it renews
    whoever wrote it (`replaced_refs`: the EHR stops it when the renewal is signed), and the draft's line says which
    order it replaced, as a signed renewal's line names the order it runs beside. Read by its own supply alone, the
    first of a series its second had taken over was called "still current"; one that starts later left the list of
    later prescriptions with no word. `counted` is the total's own answer, so the words and the total agree."""
    pairs = []
    for draft in drafts:
        if not draft.is_draft or not draft.prior_prescription or draft.status in IGNORED_DRAFT_STATUSES:
            continue
        renewed = next((real_orders[r] for r in order_keys(draft.prior_prescription) if r in real_orders), None)
        if renewed is None or same_prescriber(draft, renewed) or not is_standing(renewed, config):
            continue
        if starts_after(renewed, today) is not None or counted.in_force(renewed):
            pairs.append((draft, renewed))
    return tuple(pairs)


def renewed_along_chains(
    orders: tuple[MedOrder, ...], current: Iterable[MedOrder], by_ref: Mapping[str | None, MedOrder] | None = None
) -> set[str | None]:
    """The current orders that a draft or a current signed order renews through a renewal that is no longer current
    (`renewal_chain`): a link of one prescriber retires the order it names, as `renewed_by_signed` reads one link;
    another prescriber's order runs beside its renewal and ends the walk, as do two orders naming each other. Read
    one link deep, a draft renewing a completed renewal left the first order, still active, counted beside it.
    `by_ref` is the real orders by reference (`orders_by_ref`) when the caller has it already."""
    current_ids = {id(o) for o in current}
    starts = [
        o
        for o in orders
        if o.prior_prescription and (o.status not in IGNORED_DRAFT_STATUSES if o.is_draft else id(o) in current_ids)
    ]
    if not starts:  # most charts: no draft or current order renews another, so no map of the orders is needed
        return set()
    if by_ref is None:
        by_ref = orders_by_ref(o for o in orders if not o.is_draft)
    retired: set[str | None] = set()
    for start in starts:
        renewer = start
        for renewed in renewal_chain(start, by_ref):
            if renewer is not start and id(renewed) in current_ids:
                # The one-link rules (`replaced_refs`, `renewed_by_signed`) read links from a draft or a current order.
                if not same_prescriber(renewer, renewed) or (
                    renewed.prior_prescription and renewer.located in order_keys(renewed.prior_prescription)
                ):
                    break
                retired.add(renewed.located)
            renewer = renewed
    return retired


def renewed_by_signed(current: Iterable[MedOrder]) -> set[str | None]:
    """The current orders a current signed order of the same prescriber renews (`priorPrescription`): retired, as a
    draft retires the order it names. Epic may leave the old order active beside its renewal, and both counted
    doubled one regimen's dose. Another prescriber's renewal runs beside the order it names while that order is
    current (another course, as the MME history reads it): both count, and the renewal's line says so. Two orders
    naming each other (a data error) say neither is the renewal: both count."""
    current = tuple(current)
    by_ref = {o.located: o for o in current}
    replaced: set[str | None] = set()
    for order in current:
        for ref in order_keys(order.prior_prescription) if order.prior_prescription else ():
            renewed = by_ref.get(ref)
            if renewed is None or renewed is order or not same_prescriber(order, renewed):
                continue
            if renewed.prior_prescription and order.located in order_keys(renewed.prior_prescription):
                continue
            replaced.add(ref)
    return replaced


# How many priorPrescription links a renewal chain is followed through: a regimen renewed monthly for a year and more
# is within it; a longer chain (or a loop the visited set missed) is not followed further.
RENEWAL_CHAIN_LIMIT = 24


def renewal_chain(order: MedOrder, real_orders: Mapping[str | None, MedOrder]) -> tuple[MedOrder, ...]:
    """The orders `order` renews through priorPrescription, nearest first: the one it names, the one that order
    names, and on (`real_orders` by `located`). A draft renewing a signed renewal stands for the older order's fill too,
    or one regimen counted twice. Each order once: a loop (orders naming each other, a data error) ends the walk, and
    so does `RENEWAL_CHAIN_LIMIT`."""
    chain: list[MedOrder] = []
    seen = {id(order)}
    current = order
    while current.prior_prescription and len(chain) < RENEWAL_CHAIN_LIMIT:
        renewed = next((real_orders[ref] for ref in order_keys(current.prior_prescription) if ref in real_orders), None)
        if renewed is None or id(renewed) in seen:
            break
        chain.append(renewed)
        seen.add(id(renewed))
        current = renewed
    return tuple(chain)


def orders_by_ref(real_orders: Iterable[MedOrder]) -> dict[str | None, MedOrder]:
    """The real orders by where they live (`MedOrder.located`, as `pool.order_keys` reads a priorPrescription: an
    HIE's 123 is not the EHR's), the first of a reference sent twice kept (as `fills.named_order` takes it)."""
    found: dict[str | None, MedOrder] = {}
    for order in real_orders:
        found.setdefault(order.located, order)
    return found


def is_product(key: IdentifiedDrug | str) -> bool:
    """Whether a same-drug key names a recognised product (an RxNorm product, or opioid strengths and form; told by
    its type, `identity.IdentifiedDrug`): the evidence two orders are one prescription needs. A key made of codes or
    a name alone is too loose to say two orders are one prescription. A plain string spelled as a product's key is
    refused (TypeError): read as "not a product", a caller keying orders another way would silently count a renewal
    beside the order it renews."""
    if type(key) is IdentifiedDrug:
        return True
    if key.startswith(IdentifiedDrug.PREFIXES):
        raise TypeError(f"a product's drug key must be an IdentifiedDrug (fills.same_drug_key), not a plain {key!r}")
    return False


def identified(key: IdentifiedDrug | str) -> IdentifiedDrug | None:
    """A same-drug key when it names an identified product (`is_product`), else None: a code or a name alone is no
    evidence that two orders are one (`identity.relayed_orders`, at the point of care and in the review)."""
    return cast(IdentifiedDrug, key) if is_product(key) else None


def one_prescriber(first: MedOrder, second: MedOrder) -> bool:
    """Both orders name their prescriber, the same way, and it is the same one: the evidence an unlinked reorder
    needs to be read as a renewal. Unknown is no evidence: two such orders add, as two prescriptions may. Nor are
    references that cannot tell one prescriber from another (`identifiers.comparable`): one by reference and one by
    NPI alone, or two servers' references (the EHR's order is no reorder of an HIE's)."""
    mine, theirs = first.requester, second.requester
    if not mine or not theirs:
        return False
    return comparable(mine, theirs) and actor_key(mine) == actor_key(theirs)


def same_prescriber(first: MedOrder, second: MedOrder) -> bool:
    """Whether two orders may be one prescriber's: unknown on either side, one named by reference and the other by
    identifier alone, or references on two servers (`identifiers.comparable`), is no evidence of two prescribers."""
    if not first.requester or not second.requester or not comparable(first.requester, second.requester):
        return True
    return actor_key(first.requester) == actor_key(second.requester)


def listed_medications(
    orders: Iterable[MedOrder],
    supply_of: Callable[[MedOrder], Supply],
    today: date,
    config: GuidelineConfig,
) -> tuple[MedOrder, ...]:
    """Medications on the active medication list as reported that are no current order only because they were
    written down more than `current_order_default_days` ago and give no end (no days' supply, validity, bounds or
    effective period end): a MedicationRequest with reportedBoolean or reportedReference (Oracle Health's home
    medication) and a MedicationStatement (Epic's and STU3's) alike, read the one way. Status active on the list
    says the patient takes it today; the date says only when it was recorded or last confirmed. A statement that
    the patient does not take it never reaches here (the reader drops it), and one that ended, stopped or is in
    error is not active. The co-prescribing checks count them; the MME total does not (no recent order says the
    dose)."""
    orders = tuple(orders)
    replaced = replaced_refs(orders)
    listed = []
    for o in orders:
        if not o.reported or o.is_draft or o.status != "active" or not is_taken(o) or o.located in replaced:
            continue
        if not is_ambulatory(o, config):
            continue
        supply = supply_of(o)
        if (
            supply_end(o, supply) is None
            and not is_current(o, supply, today, config)
            and starts_after(o, today) is None
        ):
            listed.append(o)
    return tuple(listed)
