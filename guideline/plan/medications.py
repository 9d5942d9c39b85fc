"""Current opioids with their MME and its explanation, buprenorphine apart, sedatives and naloxone on order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from guideline.plan.reading import one_decimal, order_status
from guideline.record import MedOrder
from guideline.terminology import BUPRENORPHINE, NALOXONE_RESCUE

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


@dataclass(frozen=True)
class Medications:
    opioids: tuple[OpioidRow, ...]
    total: str
    total_state: str
    total_mme: Decimal | None
    buprenorphine: tuple[OpioidRow, ...]
    unknown: tuple[str, ...]
    sedatives: tuple[str, ...]
    naloxone: tuple[str, ...]


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


def _opioid_row(facts: Facts, order: MedOrder) -> OpioidRow:
    result = _mme_result_for(facts, order)
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
    )


def _total_text(facts: Facts) -> str:
    summary = facts.mme
    if summary.state == "none":
        return "not available" if facts.current_opioids else "0 MME/day (no current opioid orders)"
    prefix = "at least " if summary.state == "partial" else ""
    return f"{prefix}{one_decimal(summary.total)} MME/day"


def build_medications(facts: Facts) -> Medications:
    """Buprenorphine (excluded from MME, guideline 8) is listed apart; orders whose MME is unknown are named."""
    rows: list[OpioidRow] = []
    bup: list[OpioidRow] = []
    unknown: list[str] = []
    for order in facts.current_opioids:
        row = _opioid_row(facts, order)
        if row.state == "excluded" or facts.is_in(BUPRENORPHINE, order):
            bup.append(row)
        else:
            rows.append(row)
            if row.state == "unknown":
                unknown.append(f"{row.name}: {row.explanation or 'could not be converted'}")
    summary = facts.mme
    sedatives = tuple(f"{facts.name(o)} ({order_status(o)})" for o in (*facts.current_benzos, *facts.current_cns))
    naloxone = tuple(
        f"{facts.name(o)} ({order_status(o)})"
        for o in facts.record.orders
        if facts.is_in(NALOXONE_RESCUE, o) and (o.status == "active" or o.is_draft)
    )
    return Medications(
        tuple(rows),
        _total_text(facts),
        summary.state,
        summary.total if summary.state != "none" else None,
        tuple(bup),
        tuple(unknown),
        tuple(dict.fromkeys(sedatives)),
        naloxone,
    )
