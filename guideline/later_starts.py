"""Prescriptions that begin after today (a staggered Schedule II series): named beside today's MME total; drafts of
one series being signed together counted once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from guideline.config import GuidelineConfig
from guideline.mme import MmeSummary, OrderMme, counted_total
from guideline.orders import follows, is_product, starts_after, stated_start
from guideline.record import MedOrder
from guideline.supply import Supply

if TYPE_CHECKING:
    from guideline.facts import Facts

NOT_STARTED = "not-started"  # the reason of an opioid order listed beside the total because it begins after today
SERIES = "series"  # the reason of a draft of a staggered series being signed that another of the series stands for
# Reasons whose orders the card lists with their daily dose worked out and the words that say when they start.
SHOWN_WITH_DOSE = frozenset({NOT_STARTED, SERIES})
# Where a fill of a prescription that starts later is listed: the order is in the record, not current yet, so the
# words of a fill with no current order ("no current order in this record") sent the clinician looking elsewhere.
EARLY_FILLS_HEADING = "From pharmacy fills of a prescription that starts later (not current yet)"
# Where the other current fills are listed, on the card and the plan page alike: no order the record holds counts them.
NO_ORDER_FILLS_HEADING = "From pharmacy fills (no current order in this record)"


def starts_text(starts: date) -> str:
    """ "starts on 2026-07-01: not counted in today's total"."""
    return f"starts on {starts.isoformat()}: not counted in today's total"


def later_line(result: OrderMme, starts: date) -> OrderMme:
    """An order that begins after today, listed with its daily dose worked out and the day it starts, and not
    counted: what it adds is seen, and the day it will count. Its sig and fill notes are the current orders' to name."""
    why = starts_text(starts)
    return replace(
        result.with_words(why),
        state="excluded",
        reason=NOT_STARTED,
        reason_text=why,
        sig_against_code=(),
        unread_fills=(),
    )


# The one setting that says how far ahead a signed prescription is read before it starts, by every check that does
# (the opioid + benzodiazepine pair, naloxone's opioids to follow): it lives with the check that introduced it.
WINDOW_CHECK = "opioid-benzodiazepine"
WINDOW_KEY = "later_start_co_prescribing_days"


def window_days(config: GuidelineConfig) -> int:
    """The site's `later_start_co_prescribing_days` (30 by default, at most 90)."""
    return int(config.check(WINDOW_CHECK)[WINDOW_KEY])


def starting_within(later: Iterable[MedOrder], today: date, days: int) -> tuple[MedOrder, ...]:
    """The signed orders that start after today (`orders.starts_after`) and no more than `days` days from it: held by
    the patient and taken within days (the checks that read a prescription before it starts read it by this window,
    `later_start_co_prescribing_days`). Further ahead it is no part of today's picture."""
    last = today + timedelta(days=days)
    return tuple(o for o in later if (starts := starts_after(o, today)) is not None and starts <= last)


def named_later(summary: MmeSummary, later: Iterable[OrderMme]) -> MmeSummary:
    """The total with the orders that begin after today listed beside it, not counted (its total unchanged)."""
    later = tuple(later)
    return replace(summary, orders=(*summary.orders, *later)) if later else summary


def draft_series(
    drafts: Iterable[MedOrder], key: Callable[[MedOrder], str], supply_of: Callable[[MedOrder], Supply], today: date
) -> tuple[tuple[MedOrder, ...], ...]:
    """Drafts of one recognised product being signed together that begin on different days, one at least after today,
    each once the one before has run out (`follows`): a staggered series, 90 days written as three prescriptions to be
    filled a month apart, each in start order. Two drafts of the product beginning on one day, or one beginning while
    the other still supplies, are two prescriptions taken together: that product's drafts add."""
    groups: dict[str, list[MedOrder]] = {}
    for draft in drafts:
        product = key(draft)
        if draft.is_draft and is_product(product):
            groups.setdefault(product, []).append(draft)
    found = []
    for group in groups.values():
        begins = [max(stated_start(d) or today, today) for d in group]
        if len(group) > 1 and len(set(begins)) == len(group) and max(begins) > today:
            ordered = sorted(zip(begins, range(len(group)), group, strict=True))
            if all(
                follows(first, supply_of(earlier), then)
                for (first, _, earlier), (then, _, _) in zip(ordered, ordered[1:], strict=False)
            ):
                found.append(tuple(draft for _, _, draft in ordered))
    return tuple(found)


def counted_as_signed(summary: MmeSummary, series: Iterable[tuple[MedOrder, ...]], today: date) -> MmeSummary:
    """Each series being signed counted once, at its largest daily dose (the earliest on a tie), the others listed
    with why; and each counted draft that begins after today saying when: the regimen being signed is judged, and
    the clinician sees which prescription the total holds. A series any of whose doses is unknown is left to add."""
    results = list(summary.orders)
    changed = False
    for group in series:
        places = [_place(results, draft) for draft in group]
        if any(p is None or results[p].state != "ok" or results[p].mme is None for p in places):
            continue
        lines = [results[p] for p in places if p is not None]
        keep = max(range(len(lines)), key=lambda k: (lines[k].mme, -k))
        for k, place in enumerate(places):
            if k == keep or place is None:
                continue
            starts = starts_after(group[k], today)
            when = f"starts on {starts.isoformat()}: " if starts else ""
            if k > keep:
                why = f"{when}a later prescription of the series being signed, not counted beside it"
            else:
                why = f"{when}an earlier prescription of the series being signed, whose larger later dose is counted"
            results[place] = _worded(replace(results[place], state="excluded", reason=SERIES, reason_text=why), why)
            changed = True
    for place, result in enumerate(results):
        words = signed_later_words(result, today)
        if words is not None:
            results[place] = _worded(result, words)
            changed = True
    if not changed:
        return summary
    return replace(summary, orders=tuple(results), total=counted_total(results))


def signed_later_words(result: OrderMme, today: date) -> str | None:
    """ "starts on 2026-07-01: counted as the regimen being signed" for a counted draft that begins after today; None
    for any other line. The card's note and `painplan mme` word it by this one rule."""
    starts = starts_after(result.order, today) if result.order.is_draft and result.state == "ok" else None
    return None if starts is None else f"starts on {starts.isoformat()}: counted as the regimen being signed"


def _place(results: list[OrderMme], order: MedOrder) -> int | None:
    return next((i for i, r in enumerate(results) if r.order is order), None)


def _worded(result: OrderMme, why: str) -> OrderMme:
    return result.with_words(why)


def early_fills(facts: Facts) -> dict[int, str]:
    """id() of each current fill no counted order stands for whose order begins after today (`Facts.later_opioids`:
    dispensed before its earliest fill date) -> the words naming that order and its start. The fill is real supply
    and counts (`orders.later_orders`); its order is in the record, so it is not listed as a fill with none."""
    if not facts.later_opioids:
        return {}
    later = {id(order) for order in facts.later_opioids}
    found = {}
    for supply in facts.current_fills:
        order = facts.source_order(supply.dispense)
        starts = starts_after(order, facts.today) if order is not None and id(order) in later else None
        if order is not None and starts is not None:
            named = f"order {order.id}" if order.id else "an order with no id"
            found[id(supply.dispense)] = f"filled early from {named}, which starts on {starts.isoformat()}"
    return found
