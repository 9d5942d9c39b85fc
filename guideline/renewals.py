"""Drafts read as renewals of a current order of the same product when no priorPrescription links them (8.8)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Final, Literal, TypeVar

from guideline.fills import FillMme
from guideline.mme import REASON_TEXT, MmeSummary, OrderMme, counted_total
from guideline.orders import is_product, later_in_series, one_prescriber, order_start, same_prescriber, starts_after
from guideline.record import Dispense, MedOrder
from guideline.record.pool import order_keys

RENEWED: Final = "renewed"  # the current order, whose dose the renewal's larger one stands for
RENEWAL: Final = "renewal"  # the draft, whose dose the current order's larger one stands for
# A signed reorder (no priorPrescription) of a finished order, whose dose the larger one of that order's last fill
# stands for: the fill is counted, not a current order, and the words say so.
REORDER: Final = "reorder"
RENEWAL_REASONS = frozenset({RENEWED, RENEWAL, REORDER})


@dataclass(frozen=True)
class ImpliedRenewal:
    """A renewal (a draft, or a signed order naming a series' prescription already handed over) read as the renewal
    of a current order of the same product that no priorPrescription links to it. `named` is the order the renewal's
    priorPrescription does name when the current one has taken it over."""

    renewal: MedOrder
    order: MedOrder
    named: MedOrder | None = None


@dataclass(frozen=True)
class SeriesLink:
    """A renewal naming a prescription of its own recognised product that is not in force today (`_handed_over`:
    finished, or taken over by a later prescription of its series), with the current signed orders that carry that
    prescription on (`takers`, `orders.later_in_series`: its series' next prescription, or a reorder; the first to
    begin first, `by_start`, so the series' own next one before a reorder begun later), and whether the renewal is
    itself a later prescription of it (`carries_on`). The one finding the series' renewal (`implied_renewals`) and
    the renewal counted beside the series (`series_beside`) read."""

    renewal: MedOrder
    named: MedOrder
    takers: tuple[MedOrder, ...]
    carries_on: bool


def series_links(
    renewals: Iterable[MedOrder],
    orders: Iterable[MedOrder],
    key: Callable[[MedOrder], str],
    by_ref: Mapping[str | None, MedOrder],
    in_force: Callable[[MedOrder], bool],
    today: date,
) -> tuple[SeriesLink, ...]:
    """Each renewal (draft or signed, naming a priorPrescription) of a recognised product whose named order is of
    that product and not in force today, with the current signed orders (`orders`, reported ones left out: prescribed
    elsewhere) that took it over (`SeriesLink`)."""
    standing = [o for o in orders if not o.is_draft and not o.reported]
    links = []
    for renewal in renewals:
        product = key(renewal)
        if not renewal.prior_prescription or not is_product(product):
            continue
        named = _handed_over(order_keys(renewal.prior_prescription), by_ref, in_force)
        if named is None or key(named) != product:
            continue  # none handed over (it renews an order in force, or none), or another product
        takers = by_start(o for o in standing if o is not renewal and later_in_series(o, named, key, today))
        links.append(SeriesLink(renewal, named, takers, later_in_series(renewal, named, key, today)))
    return tuple(links)


def implied_renewals(
    renewals: Iterable[MedOrder],
    orders: Iterable[MedOrder],
    key: Callable[[MedOrder], str],
    starting_later: frozenset[str | None],
    links: Iterable[SeriesLink],
) -> tuple[ImpliedRenewal, ...]:
    """Each draft that names no priorPrescription, or names only orders that start later (`starting_later`, by
    `located`: they are no dose today, so the draft renews none), paired with the current order of the same recognised
    product not paired yet that is the draft's prescriber's and began last (`_partners`: a renewal renews the latest
    prescription; the pair never depends on the order the EHR sent the resources in). A renewal of a staggered series'
    third prescription, to be filled when it would have been, read beside the first (today's dose) as a second dose: 120
    MME/day for a patient taking 60. A renewal naming a real order that is not in force (finished, or taken over by a
    later prescription of its series: `links`, by `series_links`) is paired with the current order that took it over
    (`SeriesLink.takers`: the series' next prescription, or a reorder): a renewal of a series' first prescription on the
    day its second is taken read 120 beside the second. A draft may be a covering prescriber's; a signed renewal is
    paired only when it is itself a later prescription of the order it names (`SeriesLink.carries_on`), else both count,
    the louder reading. Each order is in one pair at most, the surest link first (`_pairing_order`). A medication
    reported as taken (prescribed elsewhere) is no order a renewal here renews."""
    standing = [o for o in orders if not o.is_draft and not o.reported]
    found = {id(link.renewal): link for link in links}
    pairs: list[ImpliedRenewal] = []
    paired: set[int] = set()
    for renewal in _pairing_order(renewals, found):
        product = key(renewal)
        if id(renewal) in paired or not is_product(product):
            continue
        link = None
        refs = order_keys(renewal.prior_prescription) if renewal.prior_prescription else None
        if renewal.is_draft:
            if refs is not None and not refs & starting_later:
                link = found.get(id(renewal))
                if link is None:
                    continue  # it names an order: it replaces that one (`orders.replaced_refs`), or renews none today
        else:
            link = found.get(id(renewal))
            if link is None or not link.carries_on:
                continue  # no sure link: a signed order beside another of the same product is counted beside it
        candidates = link.takers if link is not None else _partners(renewal, (o for o in standing if key(o) == product))
        for order in candidates:
            if order is not renewal and id(order) not in paired:
                pairs.append(ImpliedRenewal(renewal, order, link.named if link is not None else None))
                paired |= {id(renewal), id(order)}
                break
    return tuple(pairs)


def _pairing_order(renewals: Iterable[MedOrder], links: Mapping[int, SeriesLink]) -> list[MedOrder]:
    """The renewals in the order they are paired: signed ones first (a series' own renewal, already in the chart, is
    its prescriber's continuation of it), then drafts naming a series prescription (`links`), then drafts naming
    none, against what is left; within each the first begun first (`by_start`: a second renewal of one order is the
    one counted beside), never in the order given. A draft with no link is the surmise: it must not
    take the series order its own signed renewal carries on, leaving that renewal counted beside the draft."""
    return sorted(by_start(renewals), key=lambda r: 0 if not r.is_draft else 1 if id(r) in links else 2)


def by_start(orders: Iterable[MedOrder], *, latest: bool = False) -> tuple[MedOrder, ...]:
    """The orders by when they begin (`orders.order_start`: the validity start, else authoredOn, else the first
    instruction's start), earliest first, or `latest` first; then by id; undated orders, then orders with no id,
    last either way. The order renewals with no sure link are paired in, so that shuffling the request's resources
    changes neither the pairs nor the total (only orders alike in all of these keep the order given)."""

    def when(order: MedOrder) -> tuple[bool, float, bool, str]:
        start = order_start(order)
        stamp = start.timestamp() if start is not None else 0.0
        return (start is None, -stamp if latest else stamp, order.id is None, order.id or "")

    return tuple(sorted(orders, key=when))


def _partners(draft: MedOrder, orders: Iterable[MedOrder]) -> tuple[MedOrder, ...]:
    """The current orders of its product a draft with no link may renew, in the order it is paired with them: the
    ones known to be its own prescriber's first (`orders.one_prescriber`: a covering prescriber's draft may renew
    another's, but the prescriber's own regimen is the likelier), then the latest begun (`by_start`)."""
    return tuple(sorted(by_start(orders, latest=True), key=lambda order: not one_prescriber(draft, order)))


def _handed_over(
    refs: set[str | None], by_ref: Mapping[str | None, MedOrder], in_force: Callable[[MedOrder], bool]
) -> MedOrder | None:
    """The real order a renewal's priorPrescription (`refs`, by `located`) names when it is not in force today
    (`orders.CurrentOrders.in_force`): finished, or handed over to a later prescription of its series
    (`orders.expired_in_series`). One in force is the order the renewal renews itself, retired by it
    (`orders.replaced_refs`, `orders.renewed_by_signed`) or counted beside it: no other order stands in for it."""
    named = next((by_ref[ref] for ref in refs if ref in by_ref), None)
    if named is None or in_force(named):
        return None
    return named


# The passes after the renewal pairs are weighed run in one order: each takes the step the one before returns, so a
# pass run too early is refused (TypeError), not silently wrong. counted_once -> PairsCounted -> named_series_beside
# -> PairsCounted -> fills_counted_once -> AllCounted -> named_unlinked -> AllCounted.


@dataclass(frozen=True)
class PairsCounted:
    """The total once each renewal pair is counted once (`counted_once`), with the pairs: the step the words naming
    the order still counted beside a renewal of a series read (`named_series_beside`)."""

    summary: MmeSummary
    renewals: tuple[ImpliedRenewal, ...]

    def then(self, count: Callable[[MmeSummary], MmeSummary]) -> PairsCounted:
        """This step with another pass that only counts orders once (`later_starts.counted_as_signed`) run on it."""
        counted = count(self.summary)
        # The same step when the pass changed nothing (the usual call): dataclasses.replace is dear on every call.
        return self if counted is self.summary else replace(self, summary=counted)


@dataclass(frozen=True)
class AllCounted:
    """The orders and fills once every pair, a reorder and its order's fill too, is counted once
    (`fills_counted_once`): the step the last words read (`named_unlinked`), so they name only what is still counted."""

    summary: MmeSummary
    fills: tuple[FillMme, ...]
    renewals: tuple[ImpliedRenewal, ...]


Step = TypeVar("Step", PairsCounted, AllCounted)


def _step(given: object, wanted: type[Step], name: str) -> Step:
    """The step a pass reads, or TypeError naming the pass that must run first."""
    if not isinstance(given, wanted):
        raise TypeError(f"{name} reads {wanted.__name__}, not {type(given).__name__}: run the passes in their order")
    return given


def counted_once(summary: MmeSummary, renewals: Iterable[ImpliedRenewal]) -> PairsCounted:
    """The total with each renewal pair counted once, at the larger daily dose of the two (a tie keeps the renewal);
    the other is listed as not counted, with why. A pair whose dose is not known both ways is left as it is."""
    renewals = tuple(renewals)
    return PairsCounted(_counted_once(summary, renewals), renewals)


def _counted_once(summary: MmeSummary, renewals: Iterable[ImpliedRenewal]) -> MmeSummary:
    results = list(summary.orders)
    changed = False
    words: dict[int, str] = {}
    for pair in renewals:
        renewal = _index(results, pair.renewal)
        order = _index(results, pair.order)
        if renewal is None or order is None:
            continue
        new, old = results[renewal], results[order]
        if new.state != "ok" or old.state != "ok" or new.mme is None or old.mme is None:
            continue
        if old.mme > new.mme:
            results[renewal] = _left_out(new, RENEWAL)
        else:
            results[order] = _left_out(old, RENEWED)
        if pair.named is not None:
            words[id(pair.renewal)] = _series_words(pair.named, pair.order)
        changed = True
    if not changed:
        return summary
    return _with_words(replace(summary, orders=tuple(results), total=counted_total(results)), words)


def _series_words(named: MedOrder, order: MedOrder) -> str:
    """Why a renewal naming an order taken over is counted once with the current order that took it over."""
    return (
        f"it renews {_named(named)} (priorPrescription), which {_named(order)} (the same product and prescriber, begun "
        f"later) has taken over: read as the renewal of {_named(order)}, counted once with it at the larger daily dose"
    )


def _index(results: list[OrderMme], order: MedOrder) -> int | None:
    return next((i for i, r in enumerate(results) if r.order is order), None)


def _left_out(result: OrderMme, reason: Literal["renewed", "renewal", "reorder"]) -> OrderMme:
    return replace(result, state="excluded", reason=reason, reason_text=REASON_TEXT[reason])


@dataclass(frozen=True)
class RenewalBeside:
    """A renewal and the order its chain of priorPrescription links reaches that is still counted beside it (another
    prescriber's), with the renewals between, nearest the renewal first (none when it names that order itself)."""

    renewal: MedOrder
    renewed: MedOrder
    through: tuple[MedOrder, ...] = ()


def named_beside(summary: MmeSummary, pairs: Iterable[RenewalBeside]) -> MmeSummary:
    """Each renewal whose priorPrescription names an order still counted beside it (another prescriber's), directly
    or through the renewals between, with a sentence saying both are counted: two prescriptions taken together, or an
    old order nobody stopped. Counting both leans high; naming it lets the clinician tell which."""
    words = {}
    for pair in pairs:
        link = "priorPrescription"
        if pair.through:
            link += ", through " + " and ".join(f"order {o.id or 'unnamed'}" for o in pair.through)
        words[id(pair.renewal)] = (
            f"it renews {_named(pair.renewed)} ({link}), another prescriber's, still current: both are counted, as two "
            "prescriptions taken together; check whether that order was stopped"
        )
    return _with_words(summary, words)


@dataclass(frozen=True)
class SeriesBeside:
    """A signed renewal naming a prescription of a series that the series' next (`order`) has taken over, not read as
    that series' renewal because the renewal is not known to be the series' prescriber's: both are counted."""

    renewal: MedOrder
    named: MedOrder
    order: MedOrder


def series_beside(links: Iterable[SeriesLink]) -> tuple[SeriesBeside, ...]:
    """The signed renewals `implied_renewals` leaves unpaired for want of one prescriber (`one_prescriber`) though the
    order they name was taken over by a current one of its series (`SeriesLink.takers`): counted beside it, the louder
    reading, and named, since two identical lines on the card said nothing of why both count."""
    return tuple(
        SeriesBeside(link.renewal, link.named, link.takers[0])
        for link in links
        if not link.renewal.is_draft and link.takers and not one_prescriber(link.renewal, link.named)
    )


def named_series_beside(step: PairsCounted, pairs: Iterable[SeriesBeside]) -> PairsCounted:
    """Each signed renewal of a series' prescription counted beside the series' current one (`series_beside`), with a
    sentence saying both are counted and why: another prescriber's renewal may be another course. Reads the step
    `counted_once` returns: when the series' order is counted once with a renewal of its own (its `renewals`: a draft
    with no link), the words name the one of the two still counted beside this renewal."""
    step = _step(step, PairsCounted, "named_series_beside")
    summary, renewals = step.summary, step.renewals
    counted = {id(r.order) for r in summary.orders if r.state == "ok"}
    words = {}
    for pair in pairs:
        if id(pair.renewal) not in counted:
            continue  # itself counted once with a draft read as its renewal: its line says so instead
        # Not known to differ is not "another prescriber": an unnamed prescriber is said to be unknown.
        whose = (
            "this renewal is another prescriber's"
            if not same_prescriber(pair.renewal, pair.named)
            else "this renewal's prescriber is not known to be the series' own"
        )
        words[id(pair.renewal)] = (
            f"it renews {_named(pair.named)} (priorPrescription), which {_named(pair.order)} (the same product, begun "
            f"later) has taken over: {whose}, so it is not read as that series' renewal; both are counted, as another "
            f"course may be meant; {_ask_beside(pair.order, renewals, counted)}"
        )
    return replace(step, summary=_with_words(summary, words)) if words else step


def _ask_beside(order: MedOrder, renewals: Iterable[ImpliedRenewal], counted: set[int]) -> str:
    """Whom to ask about the order counted beside a renewal of its series: the series' prescriber, or, when the
    series' order is counted once with a renewal of its own (`counted_once`), the one of the two still counted."""
    pair = next((p for p in renewals if order is p.order or order is p.renewal), None)
    one = _counted_of(pair, counted) if pair is not None else None
    if pair is None or one is None:
        return f"check with the prescriber of {_named(order)} whether both are to be taken"
    other = pair.renewal if order is pair.order else pair.order
    return (
        f"{_named(order)} is counted once with {_named(other)}, read as one regimen, and {_named(one[0])} is counted "
        f"beside this renewal: check whether both are to be taken"
    )


def _counted_of(pair: ImpliedRenewal, counted: set[int]) -> tuple[MedOrder, MedOrder] | None:
    """The order of a pair still counted and the one left out (`counted_once`, by the ids of the orders counted);
    None unless exactly one is counted (a pair whose dose is not known both ways is left as two orders)."""
    if (id(pair.renewal) in counted) == (id(pair.order) in counted):
        return None
    return (pair.renewal, pair.order) if id(pair.renewal) in counted else (pair.order, pair.renewal)


def named_unlinked(
    step: AllCounted,
    links: Iterable[SeriesLink],
    beside_series: Iterable[SeriesBeside],
    key: Callable[[MedOrder], str],
    today: date,
) -> AllCounted:
    """Each counted renewal naming a prescription of its product not in force today (`series_links`) that no rule
    reads as one regimen with a current order (`implied_renewals`) nor names beside its series (`series_beside`), and
    that is counted beside current orders of its product it does not name, with a sentence saying so. The link to
    them is not sure (another course may be meant), so both count, the louder reading; said, since two identical
    lines on the card gave no word of why (Dr Adams's renewal of Dr Baker's finished order beside her own current
    one, a second renewal of a series' prescription, a renewal of one that starts later). So is a draft naming no
    priorPrescription that `implied_renewals` left unpaired because the orders of its product are already paired
    (`_unpaired_draft_words`). The last pass: it reads the step `fills_counted_once` returns, every pair counted."""
    step = _step(step, AllCounted, "named_unlinked")
    summary, paired = step.summary, step.renewals
    read = {id(o) for pair in paired for o in (pair.renewal, pair.order)}
    read |= {id(pair.renewal) for pair in beside_series}
    counted = [r.order for r in summary.orders if r.state == "ok"]
    words = {}
    for link in links:
        renewal = link.renewal
        if id(renewal) in read or not any(order is renewal for order in counted):
            continue
        product = key(renewal)
        # Named by when they began (`by_start`), not as the EHR listed them: the words never change with the order.
        beside = by_start(order for order in counted if order is not renewal and key(order) == product)
        if beside:
            words[id(renewal)] = _unlinked_words(link.named, beside, today)
    for draft in counted:
        product = key(draft)
        if draft.is_draft and not draft.prior_prescription and id(draft) not in read and is_product(product):
            taken = [pair for pair in paired if key(pair.order) == product]
            if said := _unpaired_draft_words(taken, counted):
                words[id(draft)] = said
    return replace(step, summary=_with_words(summary, words)) if words else step


def _unpaired_draft_words(taken: Sequence[ImpliedRenewal], counted: Sequence[MedOrder]) -> str | None:
    """Why a draft naming no priorPrescription is counted beside the pairs of its product already read as one regimen
    (`taken`; each named by its order still counted): a second renewal of one regimen is not surmised, the louder
    reading. None when no pair of its product is counted."""
    ids = {id(order) for order in counted}
    parts = [
        f"{_named(kept)}, a current order of the same product, is already counted once with {_named(other)} as one "
        "regimen"
        for kept, other in filter(None, (_counted_of(pair, ids) for pair in taken))
    ]
    if not parts:
        return None
    it, every = ("it", "both") if len(parts) == 1 else ("any of them", "all")
    return (
        f"it names no priorPrescription; {'; '.join(parts)}, so this is not read as another renewal of {it}: {every} "
        f"are counted, as prescriptions taken together may be meant; check whether {every} are to be taken"
    )


def _unlinked_words(named: MedOrder, beside: Sequence[MedOrder], today: date) -> str:
    """Why a renewal is counted beside current orders of its product it does not name (`named_unlinked`)."""
    starts = starts_after(named, today)
    state = f"which starts on {starts.isoformat()}" if starts is not None else "which is no longer current"
    them = " and ".join(_named(order) for order in beside)
    if len(beside) == 1:
        what, whose, counted, verb = "a current order", "its", "both are counted, as two prescriptions", "is"
    else:
        what, whose, counted, verb = "current orders", "their", "all are counted, as prescriptions", "are"
    return (
        f"it renews {_named(named)} (priorPrescription), {state}; it does not name {them}, {what} of the same "
        f"product, and is not read as {whose} renewal: {counted} taken together may be meant; check whether {them} "
        f"{verb} to be stopped"
    )


def named_replacing(summary: MmeSummary, pairs: Iterable[tuple[MedOrder, MedOrder]], today: date) -> MmeSummary:
    """Each draft renewal with the other prescriber's current order, or order that starts later, it replaces
    (`orders.replaced_of_another`), with a sentence saying so: the covering clinician's renewal stands for that
    order, which is not counted beside it (nor named beside the total as starting later). Once signed, an order the EHR
    left active runs beside the renewal instead (`named_beside`)."""
    words = {}
    for draft, renewed in pairs:
        starts = starts_after(renewed, today)
        if starts is None:
            state, so = "still current", "not counted beside it"
        else:
            state, so = f"which starts on {starts.isoformat()}", "not listed as starting later"
        words[id(draft)] = (
            f"it renews {_named(renewed)} (priorPrescription), another prescriber's, {state}: read as replaced by "
            f"this renewal, so that order is {so}"
        )
    return _with_words(summary, words)


def _named(order: MedOrder) -> str:
    return f"order {order.id}" if order.id else "an order with no id"


def _with_words(summary: MmeSummary, words: dict[int, str]) -> MmeSummary:
    """The total with each order's line (by the order's id()) ending in its words."""
    if not words:
        return summary
    results = []
    for result in summary.orders:
        why = words.get(id(result.order))
        if why is not None:
            result = result.with_words(why)
        results.append(result)
    return replace(summary, orders=tuple(results))


def _reorders(renewal: MedOrder, earlier: MedOrder, key: Callable[[MedOrder], str], today: date) -> bool:
    """Whether a signed order with no priorPrescription reads as the reorder of an earlier one (`later_in_series`)."""
    return not renewal.is_draft and not renewal.prior_prescription and later_in_series(renewal, earlier, key, today)


@dataclass(frozen=True)
class ReorderedFill:
    """A current fill of a finished order, and a current signed order read as that order's reorder (no
    priorPrescription): one regimen, counted once."""

    renewal: MedOrder
    fill: Dispense


def reordered_fills(
    orders: Iterable[MedOrder],
    fills: Iterable[tuple[Dispense, MedOrder | None]],
    key: Callable[[MedOrder], str],
    today: date,
) -> tuple[ReorderedFill, ...]:
    """Each standalone current fill whose order (finished, so not counted) a current signed order reorders
    (`_reorders`), paired with that order; each order and fill paired once. A fill with no order in the record
    (a claim, an outside prescription) is never paired: nothing says whose it is. The first reorder begun is the
    fill's (`by_start`), never the first the EHR listed."""
    pairs: list[ReorderedFill] = []
    orders = by_start(orders)
    for fill, source in fills:
        if source is None:
            continue
        for order in orders:
            if _reorders(order, source, key, today) and all(order is not p.renewal for p in pairs):
                pairs.append(ReorderedFill(order, fill))
                break
    return tuple(pairs)


def fills_counted_once(step: PairsCounted, fills: Sequence[FillMme], pairs: Iterable[ReorderedFill]) -> AllCounted:
    """The orders and the fills with each reorder and the old order's fill counted once, at the larger daily dose
    (a tie keeps the order), the other listed as not counted with why (`counted_once`'s reasons). A pair whose dose
    is not known both ways is left as it is. Reads the step the renewal pairs' passes return (`PairsCounted`)."""
    step = _step(step, PairsCounted, "fills_counted_once")
    summary, fills = step.summary, tuple(fills)
    results, kept = list(summary.orders), list(fills)
    changed = False
    for pair in pairs:
        order = _index(results, pair.renewal)
        fill = next((i for i, f in enumerate(kept) if f.dispense is pair.fill), None)
        if order is None or fill is None:
            continue
        new, old = results[order], kept[fill]
        if new.state != "ok" or old.state != "ok" or new.mme is None or old.mme is None:
            continue
        if old.mme > new.mme:
            results[order] = _left_out(new, REORDER)
        else:
            kept[fill] = replace(old, state="excluded", reason=RENEWED)
        changed = True
    if not changed:
        return AllCounted(summary, fills, step.renewals)
    return AllCounted(replace(summary, orders=tuple(results), total=counted_total(results)), tuple(kept), step.renewals)
