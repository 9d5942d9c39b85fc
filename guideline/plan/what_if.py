"""The orders a card's SMART link names (appContext `orders`): which current-opioid rows they are, which are not."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guideline.plan.medications import Medications

MAX_NAMED = 20  # the cards send at most 20 (guideline 10.x); more is not from us
MAX_ID_LENGTH = 256  # Epic ids run past FHIR's 64 characters; far longer is not an id
REFERENCE_PREFIX = "MedicationRequest/"


@dataclass(frozen=True)
class OrderFocus:
    """`found`: ids of current-opioid rows to highlight; `missing`: named ids the EHR record does not hold."""

    found: frozenset[str] = frozenset()
    missing: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.found or self.missing)


def named_orders(app_context: Any) -> tuple[str, ...]:
    """The order ids in an appContext, read as untrusted hints: strings only, references cut to their id."""
    if not isinstance(app_context, Mapping):
        return ()
    raw = app_context.get("orders")
    if not isinstance(raw, (list, tuple)):
        return ()
    ids = []
    for item in raw[:MAX_NAMED]:
        if isinstance(item, str):
            order_id = item.strip().removeprefix(REFERENCE_PREFIX)
            if order_id and len(order_id) <= MAX_ID_LENGTH:
                ids.append(order_id)
    return tuple(dict.fromkeys(ids))


def order_focus(medications: Medications | None, order_ids: tuple[str, ...]) -> OrderFocus:
    """The named orders among the section's rows; a draft being signed is often not in the EHR record yet."""
    if not order_ids:
        return OrderFocus()
    rows = (*medications.opioids, *medications.buprenorphine) if medications is not None else ()
    shown = {row.order_id for row in rows if row.order_id}
    return OrderFocus(frozenset(i for i in order_ids if i in shown), tuple(i for i in order_ids if i not in shown))
