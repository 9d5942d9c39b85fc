"""An order or a fill another source relayed under its own id (an HIE's copy of the EHR's order, of the pharmacy's
fill) read once in the review, by the point of care's rules (`guideline.record.identity.relayed_orders`,
`relayed_fills`), where the export tells the sources apart."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from guideline import fills
from guideline.config import GuidelineConfig
from guideline.fhirdata import as_dict, source_system, text
from guideline.orders import identified
from guideline.population.quality import Quality
from guideline.record import Dispense, MedOrder, PatientRecord
from guideline.record.identity import relayed_names, relayed_orders, without_relayed
from guideline.sent_twice import relayed_fills
from guideline.terminology import Terminology


def named_source(resource: Mapping[str, Any] | None) -> str | None:
    """The system a resource's `meta.source` names (`source_system`); None when it names none."""
    return source_system(text(as_dict(as_dict(resource).get("meta")).get("source")))


def own_sources(config: GuidelineConfig) -> frozenset[str]:
    """The systems the site named as the export's own (`population.own_sources`): an order from one is the EHR's."""
    return frozenset(filter(None, map(source_system, config["population"]["own_sources"])))


# The Quality counts of the pairs of orders, and of fills, both read (`_Relayed.maybe`): each the key, too, under which
# a patient's evidence names such pairs (`RelayedRead.unsure`), and the letters read them by it.
ORDERS_MAYBE_RELAYED = "orders_maybe_relayed"
FILLS_MAYBE_RELAYED = "fills_maybe_relayed"
MAYBE_RELAYED = (ORDERS_MAYBE_RELAYED, FILLS_MAYBE_RELAYED)


@dataclass(frozen=True)
class RelayedRead:
    """The record with relayed copies read once, and what could not be settled: each pair of orders, then of fills,
    of two named sources that would be one were either source the export's own, in words for the patient's evidence,
    by the key the evidence names them under (`MAYBE_RELAYED`; a kind with no such pair is left out)."""

    record: PatientRecord
    unsure: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def relayed_read_once(
    record: PatientRecord,
    raw: Mapping[str, Mapping[str, Any]],
    terms: Terminology,
    config: GuidelineConfig,
    quality: Quality,
) -> RelayedRead:
    """The record with each order, then each fill, another source relayed under its own id read once (`_read_once`),
    each counted in the data-quality report."""
    own = own_sources(config)

    # The point of care's test too (`Facts._identified_drug`): a code or a name alone is no evidence two are one.
    def drug(item: MedOrder | Dispense) -> str | None:
        return identified(fills.same_drug_key(item, terms))

    # Orders, then fills, each read from the record the one before left: called apart, as each is of its own type.
    of_orders, of_fills = _orders(drug), _fills(drug)
    record, orders_said = _read_once(record, raw, own, quality, of_orders)
    record, fills_said = _read_once(record, raw, own, quality, of_fills)
    unsure = {kind: said for kind, said in ((of_orders.maybe, orders_said), (of_fills.maybe, fills_said)) if said}
    return RelayedRead(record, unsure)


Sourced = TypeVar("Sourced", MedOrder, Dispense)


@dataclass(frozen=True)
class _Relayed(Generic[Sourced]):
    """What reading relayed copies once differs in between orders and fills; `_read_once` is the one rule."""

    items: Callable[[PatientRecord], Sequence[Sourced]]  # the record's orders, or its fills
    # Those a copy could copy, which must all name another source for nothing to tell the copy from the export's own
    # (orders: the signed MedicationRequests; fills: every fill).
    judged: Callable[[Sequence[Sourced]], Sequence[Sourced]]
    found: Callable[[Sequence[Sourced]], Sequence[Any]]  # the point of care's one rule (`identity.relayed_*`)
    pair: Callable[[Any], tuple[Sourced, Sourced]]  # one it found as (copy, kept)
    without: Callable[
        [PatientRecord, Sequence[Sourced], Sequence[Any]], PatientRecord
    ]  # the record with them read once
    relayed: str  # the Quality count of copies read once
    maybe: str  # the Quality count, by sources, of pairs both read (`MAYBE_RELAYED`)
    words: str  # what the evidence says of each such pair


def _read_once(
    record: PatientRecord,
    raw: Mapping[str, Mapping[str, Any]],
    own: frozenset[str],
    quality: Quality,
    kind: _Relayed[Sourced],
) -> tuple[PatientRecord, tuple[str, ...]]:
    """The record with each order (or fill) another source relayed under its own id read once, counted in
    `kind.relayed`, and the pairs that could not be settled, in words. A Bulk export has no fullUrls to say where a
    resource is from: one whose `meta.source` names a system is read as that source's, one naming none, or one of the
    site's own sources (`population.own_sources`), as the export's own (the point of care's `source` None). Where
    every one a copy could copy names another source, nothing tells which is the export's own and which the copy: both
    are read (an over-count, never a lost order or fill), and each pair that would be one is counted by its two
    sources in `kind.maybe` and said in words for the evidence, never silently."""
    marked = _marked(kind.items(record), raw, own)
    if marked is None:
        return record, ()
    if all(item.source is not None for item in kind.judged(marked)):  # no item the export's own for a copy to copy
        counted = getattr(quality, kind.maybe)
        return record, _unsure(marked, lambda items: map(kind.pair, kind.found(items)), counted, kind.words)
    found = kind.found(marked)
    if not found:
        return record, ()
    setattr(quality, kind.relayed, getattr(quality, kind.relayed) + len(found))
    return kind.without(record, marked, found), ()


def _orders(drug: Callable[[MedOrder], str | None]) -> _Relayed[MedOrder]:
    """Orders: a relayed order's fills and renewals are read as naming the order it copies (`without_relayed`)."""

    def without(record: PatientRecord, marked: Sequence[MedOrder], found: Sequence[Any]) -> PatientRecord:
        orders, dispenses = without_relayed(marked, record.dispenses, found, relayed_names(found, ()))
        # The source was only the rule's input: the orders read on are the export's, as every other resource is.
        orders = tuple(replace(o, source=None) if o.source else o for o in orders)
        return replace(record, orders=orders, dispenses=dispenses)

    return _Relayed(
        items=lambda record: record.orders,
        judged=lambda marked: [o for o in marked if o.resource_type == "MedicationRequest" and not o.is_draft],
        found=lambda orders: relayed_orders(orders, drug),
        pair=lambda found: (found.copy, found.kept),
        without=without,
        relayed="orders_relayed",
        maybe=ORDERS_MAYBE_RELAYED,
        words=_ORDER_WORDS,
    )


def _fills(drug: Callable[[Dispense], str | None]) -> _Relayed[Dispense]:
    """Fills (an HIE's copy of the pharmacy's fill: the same fill number, drug, day, quantity and days' supply). Its
    links are the HIE's (its order, its pharmacy), so the review's rule for a fill sent twice does not tie it: read
    twice, it queued as an early refill (twice the days' supply) and its first days counted twice the MME."""

    def without(record: PatientRecord, marked: Sequence[Dispense], found: Sequence[Any]) -> PatientRecord:
        copies = {id(copy) for copy, _ in found}
        # The fills read on are as the export wrote them: the source was only the rule's input.
        kept = tuple(d for d, m in zip(record.dispenses, marked, strict=True) if id(m) not in copies)
        return replace(record, dispenses=kept)

    return _Relayed(
        items=lambda record: record.dispenses,
        judged=lambda marked: marked,
        found=lambda dispenses: relayed_fills(dispenses, drug),
        pair=lambda found: found,
        without=without,
        relayed="fills_relayed",
        maybe=FILLS_MAYBE_RELAYED,
        words=_FILL_WORDS,
    )


Pairs = Callable[[Sequence[Sourced]], Iterable[tuple[Sourced, Sourced]]]
_ORDER_WORDS = "carry the same order number, drug and date: they may be one order sent by two systems, counted twice "
_ORDER_WORDS += "here (its MME too)"
_FILL_WORDS = "carry the same fill number, drug, day, quantity and days' supply: they may be one fill sent by two "
_FILL_WORDS += "systems, counted twice here (its MME and days' supply too)"


def _unsure(marked: Sequence[Sourced], pairs_of: Pairs[Sourced], counted: Counter[str], words: str) -> tuple[str, ...]:
    """The pairs the one rule (`pairs_of`) would read once were one of the sources the export's own, each source tried
    so in turn (a pair found either way is one pair), counted by their two sources (`counted`) and said in `words`.
    Orders and fills alike: where every one names another source, nothing tells which is the EHR's."""
    pairs: dict[tuple[int, int], tuple[Sourced, Sourced]] = {}
    for system in sorted({item.source for item in marked if item.source}):
        trial = [replace(o, source=None) if o.source == system else o for o in marked]
        place = {id(o): n for n, o in enumerate(trial)}
        for copy, kept in pairs_of(trial):
            low, high = sorted((place[id(copy)], place[id(kept)]))
            pairs.setdefault((low, high), (marked[low], marked[high]))
    said = []
    for pair in pairs.values():
        first, second = sorted(pair, key=lambda item: (item.source or "", _where(item)))
        counted[f"{first.source} and {second.source}"] += 1
        said.append(f"{_where(first)} (from {first.source}) and {_where(second)} (from {second.source}) {words}")
    return tuple(sorted(said))  # in one order whatever order the engine handed the items in


def _where(item: MedOrder | Dispense) -> str:
    """An order's or a fill's reference in the export (`MedicationRequest/eRx.1`, `MedicationDispense/eDisp.1`)."""
    if isinstance(item, Dispense):
        return item.ref or "a fill with no id"
    return item.located or "an order with no id"


def _marked(
    items: Sequence[Sourced], raw: Mapping[str, Mapping[str, Any]], own: frozenset[str]
) -> list[Sourced] | None:
    """Each order or fill with the source it names (`_from_source`); None in the usual export, where none names
    another source and there is nothing to read once."""
    marked = [_from_source(item, raw, own) for item in items]
    return marked if any(item.source is not None for item in marked) else None


def _from_source(item: Sourced, raw: Mapping[str, Mapping[str, Any]], own: frozenset[str]) -> Sourced:
    """The order or fill with the source its `meta.source` names, None for none or one of the site's own (a fill read
    from a claim line is the payer's, never a copy another source relayed)."""
    # A fill is looked up by its `ref` (its `located` is the bare id); a claim line's fill by none, since its id was
    # made up for it and no resource of the export carries it.
    key = (item.ref if item.claim is None else None) if isinstance(item, Dispense) else item.located
    source = named_source(raw.get(key)) if key else None
    return replace(item, source=source) if source and source not in own else item
