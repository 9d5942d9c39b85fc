"""Current opioids (orders and pharmacy fills) with their MME and its explanation, those not counted apart,
sedatives and naloxone on order; with drafts being signed, the total now and with them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from guideline.fills import FillMme, fill_date, fill_moment
from guideline.later_starts import EARLY_FILLS_HEADING, NO_ORDER_FILLS_HEADING, NOT_STARTED, early_fills
from guideline.mme import MmeSummary, OrderMme
from guideline.named_gaps import fill_reference, unidentified_orders
from guideline.orders import active_orders
from guideline.plan.reading import dated, one_decimal, order_status
from guideline.record import Dispense, MedOrder
from guideline.terminology import BUPRENORPHINE, OPIOID
from guideline.unread_data import CURRENT_DOSE

if TYPE_CHECKING:
    from guideline.facts import Facts


@dataclass(frozen=True)
class OpioidRow:
    name: str
    status: str
    sig: str
    mme: str
    explanation: str
    state: str
    duration: str
    order_id: str | None = None  # matches the orders a card's link names (what_if)
    why: str | None = None  # why a row is not counted in MME (buprenorphine, methadone for opioid use disorder)
    # A fill's copies left out as the same fill sent twice (guideline.sent_twice), named: the EHR lists them too.
    sent_twice: str | None = None


@dataclass(frozen=True)
class Medications:
    opioids: tuple[OpioidRow, ...]
    total: str
    total_state: str
    total_mme: Decimal | None
    not_counted: tuple[OpioidRow, ...]  # buprenorphine and methadone for opioid use disorder, listed apart
    unknown: tuple[str, ...]
    sedatives: tuple[str, ...]
    naloxone: tuple[str, ...]  # naloxone on hand, as the cards count it
    fills: tuple[OpioidRow, ...] = ()  # current pharmacy fills no counted order stands for
    comparison: str | None = None  # "90.0 MME/day now; 130.0 with the order being signed (…)"
    naloxone_months: int = 12  # the naloxone check's possession window (possession_months)
    # Ids of the current sedative orders listed: a card's link names them too (opioid + benzodiazepine), and they
    # are in the record, not drafts (`what_if.order_focus`).
    sedative_ids: frozenset[str] = frozenset()
    # Current orders and fills whose medicine could not be identified, each named as the data-incomplete card names
    # it: any may be an opioid the total leaves out, so with none identified the total is no "no current opioids".
    unidentified: tuple[str, ...] = ()
    # The other fills sent twice and read once, each with its copies' ids: fills the table does not list (ended, or
    # filled for an order), whose copy, read too, would have lengthened the supply and the dose history.
    read_once: tuple[str, ...] = ()
    fills_caption: str = NO_ORDER_FILLS_HEADING  # `fills_caption`


def _sig(order: MedOrder) -> str:
    texts = [d.text for d in order.dosages if d.text]
    return "; ".join(texts) if texts else "no instructions text"


def _mme_result_for(facts: Facts, order: MedOrder) -> Any:
    for result in facts.mme.orders:
        if result.order is order or (order.id and result.order.id == order.id):
            return result
    return None


def _explain(result: Any) -> str:
    """The MME module's own explanation (factor, source, PRN and fallback notes), plus why it failed."""
    if result is None:
        return "not converted"
    parts = [result.explanation] if result.explanation else []
    if result.state != "ok" and result.reason_text and result.reason_text not in (result.explanation or ""):
        parts.append(result.reason_text)
    return "; ".join(parts)


def _mme_shown(result: Any, state: str) -> str:
    if result is not None and state == "ok":
        return one_decimal(result.mme)
    return "not counted" if state == "excluded" else "unknown"


def _opioid_row(facts: Facts, order: MedOrder, result: Any) -> OpioidRow:
    """An opioid's row, from its MME line (`_mme_result_for`; None when the total has none for it)."""
    state = result.state if result is not None else "unknown"
    return OpioidRow(
        name=facts.name(order),
        status=order_status(order),
        sig=_sig(order),
        mme=_mme_shown(result, state),
        explanation=_explain(result),
        state=state,
        duration=facts.duration(order),
        order_id=order.id,
        why=_why_not_counted(result, state),
        sent_twice=relayed_as(facts, order),
    )


def _unknown_named(row: OpioidRow, result: Any) -> str:
    """An order whose MME is unknown, for the notice above the table: the MME line names the order itself ("PERCOCET:
    identified from its name …"), which read "PERCOCET: PERCOCET: …" with the row's name put before it."""
    if result is not None and row.explanation:
        return row.explanation
    return f"{row.name}: {row.explanation or 'could not be converted'}"


def relayed_as(facts: Facts, order: MedOrder) -> str | None:
    """ "also relayed as https://hie.example/fhir/MedicationRequest/hie-77 (read once)": an HIE's copy of the order
    under its own id (`Facts.orders_relayed`), named since the EHR may list both (the plan page and `painplan mme`)."""
    copies = facts.relayed_copies((order.located,))
    return f"also relayed as {', '.join(copies)} (read once)" if copies else None


NOT_COUNTED_KINDS = {
    "buprenorphine": "buprenorphine",
    "oud-methadone": "methadone for opioid use disorder",
    NOT_STARTED: "a prescription that starts after today",
}
# An opioid left out of the total whose reason the page has no words for: it once read "buprenorphine", whatever it was.
NOT_RECORDED = "not counted in MME, reason not recorded"
NOT_RECORDED_KIND = "an opioid with no reason recorded"


def _why_not_counted(result: Any, state: str) -> str | None:
    """ "buprenorphine (not included in MME)", "methadone for opioid use disorder (not counted in MME; …)", or, with
    no words for the reason, that it is not counted and why is not recorded."""
    if state != "excluded":
        return None
    return (result.reason_text if result is not None else None) or NOT_RECORDED


def _total_text(facts: Facts) -> str:
    summary = facts.mme
    unread = facts.not_read(*CURRENT_DOSE).any
    if summary.state == "none" and _only_not_counted(summary):
        return f"0 MME/day ({_not_counted_kinds(summary)} not counted)"
    if summary.state == "none" and facts.has_current_opioid:
        return "not available"
    if summary.state == "none":
        unknown = len(unidentified_orders(facts))
        if unknown:  # never "no current opioid orders" of an order that may be one
            if unknown == 1:
                return "0 MME/day counted; 1 current medicine could not be identified and may be an opioid (below)"
            return f"0 MME/day counted; {unknown} current medicines could not be identified and may be opioids (below)"
        later = len(facts.unidentified_later)
        if later:  # nor of one that starts later, which is no current medicine
            if later == 1:
                return "0 MME/day counted; 1 prescription that starts later could not be identified (below)"
            return f"0 MME/day counted; {later} prescriptions that start later could not be identified (below)"
        if unread:  # never "no current opioid orders or fills" of data not read, which may hold them
            return "0 MME/day counted; some medication records could not be read (above)"
        return "0 MME/day (no current opioid orders or fills)"
    # A total that misses data not read is a floor as one that misses an order not converted is (`high_mme`).
    prefix = "at least " if summary.is_floor(unread) else ""
    text = f"{prefix}{one_decimal(summary.total)} MME/day"
    if summary.from_fills:
        from_fills = sum((f.mme for f in summary.ok_fills if f.mme is not None), Decimal(0))
        if not summary.ok_orders:
            return f"{text} from pharmacy fills"
        return f"{text} (of which {one_decimal(from_fills)} from pharmacy fills)"
    return text


def _only_not_counted(summary: MmeSummary) -> bool:
    """Every current opioid is one the total leaves out by rule (none is unknown): the total is a true zero."""
    items: tuple[OrderMme | FillMme, ...] = (*summary.orders, *summary.fills)
    return bool(items) and all(item.state == "excluded" for item in items)


def _not_counted_kinds(summary: MmeSummary) -> str:
    """ "buprenorphine is", "methadone for opioid use disorder is", or both "are"."""
    items: tuple[OrderMme | FillMme, ...] = (*summary.orders, *summary.fills)
    reasons = {item.reason for item in items}
    kinds = [text for reason, text in NOT_COUNTED_KINDS.items() if reason in reasons]
    if reasons - NOT_COUNTED_KINDS.keys():
        kinds.append(NOT_RECORDED_KIND)
    return " and ".join(kinds) + (" are" if len(kinds) > 1 else " is")


def copies_by_fill(facts: Facts) -> dict[int, tuple[str, ...]]:
    """id() of each fill read once -> the names of its copies left out (`Facts.fills_read_once`)."""
    return {key: names for key, (_, names) in facts.fills_read_once.items()}


def also_sent_as(copies: tuple[str, ...]) -> str:
    """ "also sent as hie-gw-7781 (read once)": why the EHR shows two fills where the page shows one."""
    return f"also sent as {', '.join(copies)} (read once)"


def _read_once_elsewhere(facts: Facts, listed: Iterable[Dispense]) -> tuple[str, ...]:
    """Each fill read once that the fills table does not list, named with its day, id (a claim's by its claim) and
    copies."""
    copies = copies_by_fill(facts)
    shown = {id(d) for d in listed}
    kept = {key: fill for key, (fill, _) in facts.fills_read_once.items() if key not in shown}
    return tuple(
        f"{facts.name(d)} filled {d.filled_partial or fill_date(d) or 'on an unknown day'} "
        f"({fill_reference(d, 'no id')}), " + also_sent_as(copies[key])
        for key, d in kept.items()
    )


# Fills with no current order beside fills of a prescription that starts later (`later_starts.early_fills`).
MIXED_FILLS = "From pharmacy fills (no current order in this record, or one filled early whose order starts later)"


def fills_caption(filled_early: Iterable[bool]) -> str:
    """The fills table's caption, each fill listed saying whether it was filled early from a prescription that starts
    later: its order is in the record, so "no current order in this record" is said only of the fills it is true of."""
    kinds = set(filled_early)
    if kinds == {True}:
        return EARLY_FILLS_HEADING
    return MIXED_FILLS if kinds == {True, False} else NO_ORDER_FILLS_HEADING


def _fill_rows(facts: Facts, early: Mapping[int, str]) -> tuple[OpioidRow, ...]:
    copies = copies_by_fill(facts)
    rows = []
    for supply, result in zip(facts.current_fills, facts.fill_mme, strict=True):
        until = f", supply to {supply.end.isoformat()}" if supply.end else ", days' supply unknown"
        filled_early = early.get(id(supply.dispense))
        rows.append(
            OpioidRow(
                name=result.display_name,
                status=f"pharmacy fill {supply.dispense.filled_partial or supply.filled.isoformat()}{until}",
                sig=filled_early or "from pharmacy fill data (no current order in this record)",
                mme=_mme_shown(result, result.state),
                explanation=f"{result.explanation}; {filled_early}" if filled_early else result.explanation,
                state=result.state,
                duration="unclassified",
                order_id=supply.dispense.id,
                why=_why_not_counted(result, result.state),
                sent_twice=also_sent_as(copies[id(supply.dispense)]) if id(supply.dispense) in copies else None,
            )
        )
    return tuple(rows)


def _opioids_now(facts: Facts) -> tuple[MedOrder, ...]:
    """The patient's current opioid orders without the drafts: those the drafts renew included. A draft that
    replaces an order (`priorPrescription`) retires it from the current orders, so read without it a patient renewing
    months of oxycodone had "no current opioid now"."""
    standing = active_orders(
        facts.real_orders, facts.supply, facts.today, facts.config, facts.drug_key, supply_key=facts.supply_key
    )
    return facts.only_in(OPIOID, standing)


def mme_now(facts: Facts) -> MmeSummary:
    """The daily MME the patient takes now, before the drafts being signed: current orders (those renewed included)
    and pharmacy fills no counted order stands for."""
    return facts.opioid_total(_opioids_now(facts))


def _comparison(facts: Facts, standing: MmeSummary) -> str | None:
    """With opioid drafts: the total without them (`standing`, the patient now) beside the total with them (what the
    card used)."""
    drafts = [o for o in facts.current_opioids if o.is_draft]
    if not drafts or facts.mme.state == "none":
        return None
    # Data not read makes both figures floors, as it makes the total beside them one (`_total_text`).
    unread = facts.not_read(*CURRENT_DOSE).any
    now = f"{'at least ' if standing.is_floor(unread) else ''}{one_decimal(standing.total)} MME/day now"
    if standing.state == "none" and _only_not_counted(standing):
        now = f"0 MME/day now ({_not_counted_kinds(standing)} not counted)"
    elif standing.state == "none" and unread:  # never "no current opioid" of data not read, which may hold one
        now = "0 MME/day counted now (some medication records could not be read)"
    elif standing.state == "none" and not facts.current_fills:
        now = "no current opioid now"
    names = ", ".join(dict.fromkeys(facts.name(o) for o in drafts))
    being_signed = "the order being signed" if len(drafts) == 1 else "the orders being signed"
    prefix = "at least " if facts.mme.is_floor(unread) else ""
    return f"{now}; {prefix}{one_decimal(facts.mme.total)} with {being_signed} ({names})"


def naloxone_named(facts: Facts) -> tuple[str, ...]:
    """The naloxone the cards count as on hand (`Facts.naloxone_on_hand`), each with its status and day: read from
    active orders alone, the page said "no active rescue order" beside a card quiet for naloxone filled last month,
    and listed a cancelled draft."""
    named = []
    for item in facts.naloxone_on_hand:
        if isinstance(item, MedOrder):
            named.append(f"{facts.name(item)} ({order_status(item)}{dated(item.authored_on)})")
        else:
            named.append(f"{facts.name(item)} (filled{dated(fill_moment(item))})")
    return tuple(dict.fromkeys(named))


def build_medications(facts: Facts, now: MmeSummary) -> Medications:
    """Buprenorphine and methadone for opioid use disorder (not counted in MME) are listed apart; orders whose MME
    is unknown are named. `now` is `mme_now(facts)`, worked out once for the page."""
    rows: list[OpioidRow] = []
    apart: list[OpioidRow] = []
    unknown: list[str] = []
    for order in (*facts.current_opioids, *facts.later_opioids):  # those that start later, listed apart
        result = _mme_result_for(facts, order)
        row = _opioid_row(facts, order, result)
        if row.state == "excluded" or facts.is_in(BUPRENORPHINE, order):
            apart.append(row)
        else:
            rows.append(row)
            if row.state == "unknown":
                unknown.append(_unknown_named(row, result))
    summary = facts.mme
    sedatives = tuple(f"{facts.name(o)} ({order_status(o)})" for o in (*facts.current_benzos, *facts.current_cns))
    naloxone = naloxone_named(facts)
    early = early_fills(facts)
    fill_rows = _fill_rows(facts, early)
    return Medications(
        tuple(rows),
        _total_text(facts),
        summary.state,
        summary.total if summary.state != "none" else None,
        tuple(apart),
        tuple(unknown),
        tuple(dict.fromkeys(sedatives)),
        naloxone,
        fill_rows,
        _comparison(facts, now),
        int(facts.config.check("naloxone")["possession_months"]),
        frozenset(o.id for o in (*facts.current_benzos, *facts.current_cns) if o.id),
        (*unidentified_orders(facts), *facts.unidentified_later),
        _read_once_elsewhere(facts, (s.dispense for s in facts.current_fills)),
        fills_caption(id(s.dispense) in early for s in facts.current_fills),
    )
