"""Which orders count (guideline 3): draft, new, trigger, active and current orders."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from guideline.clinical import local_reference
from guideline.config import GuidelineConfig
from guideline.fhirdata import MEDREQ_CATEGORY_SYSTEMS
from guideline.record import MedOrder
from guideline.supply import Supply
from guideline.timeutil import day_span, local_date

IGNORED_DRAFT_STATUSES = frozenset({"entered-in-error", "cancelled"})
NON_ORDER_INTENTS = frozenset({"proposal", "plan", "option"})


def is_ambulatory(order: MedOrder, config: GuidelineConfig) -> bool:
    """No category, or a category coding in `ambulatory_categories` (community, outpatient, discharge)."""
    coded = False
    ambulatory = config.ambulatory_categories
    for concept in order.categories:
        for coding in concept.codings:
            coded = True
            # R4 and STU3 name the same codes in two code systems; the sandbox sends the category without a
            # system, and a bare code from the HL7 list is still that code. Codes are lower case in FHIR, but
            # "Outpatient" is that code too: read so, it was an inpatient order, left out of every check.
            if (coding.code or "").lower() in ambulatory and (
                coding.system is None or coding.system in MEDREQ_CATEGORY_SYSTEMS
            ):
                return True
            if coding.display and coding.display.strip().lower() in ambulatory:
                return True  # a site's own category coding, named "Outpatient"
        if concept.text and concept.text.strip().lower() in ambulatory:
            return True  # a category sent as text only
    return not coded and not any(concept.text for concept in order.categories)


def draft_orders(orders: Iterable[MedOrder], config: GuidelineConfig) -> tuple[MedOrder, ...]:
    """Ambulatory drafts from `context.draftOrders`, whatever their status, except cancelled or in error (3.1)."""
    return tuple(
        o for o in orders if o.is_draft and o.status not in IGNORED_DRAFT_STATUSES and is_ambulatory(o, config)
    )


def selected(order: MedOrder, selections: tuple[str, ...]) -> bool:
    """Whether an order-select `selections` entry names this draft (`MedicationRequest/<id>` or a bare id)."""
    if not order.id:
        return False
    return any(s == order.ref or s == order.id or s.endswith("/MedicationRequest/" + order.id) for s in selections)


def new_drafts(drafts: tuple[MedOrder, ...], hook: str, selections: tuple[str, ...]) -> tuple[MedOrder, ...]:
    """On order-select the selected drafts; on order-sign every draft (3.1)."""
    if hook == "order-select":
        return tuple(o for o in drafts if selected(o, selections))
    if hook == "order-sign":
        return drafts
    return ()


def order_start(order: MedOrder) -> datetime | None:
    """validityPeriod.start, else authoredOn, else the first instruction's boundsPeriod.start (3.3)."""
    if order.dispense.validity_start:
        return order.dispense.validity_start
    if order.authored_on:
        return order.authored_on
    if order.dosages and order.dosages[0].repeat and order.dosages[0].repeat.bounds_start:
        return order.dosages[0].repeat.bounds_start
    return None


def supply_end(order: MedOrder, supply: Supply) -> date | None:
    """The latest end of supply the order supports: start + supply days, validity end, any bounds end."""
    # Not remembered: an order's dates differ from call to call, so a memo here missed nearly every time.
    candidates: list[date] = []
    start = local_date(order_start(order))
    if start and supply.total_days is not None:
        candidates.append(start + day_span(math.ceil(supply.total_days)))
    validity_end = local_date(order.dispense.validity_end)
    if validity_end:
        candidates.append(validity_end)
    candidates.extend(
        d for d in (local_date(ds.repeat.bounds_end) for ds in order.dosages if ds.repeat) if d is not None
    )
    return max(candidates) if candidates else None


def is_current(order: MedOrder, supply: Supply, today: date, config: GuidelineConfig) -> bool:
    """Drafts always; otherwise supply reaching today, or a recent start when no end can be derived (3.3)."""
    if order.is_draft:
        return True
    end = supply_end(order, supply)
    if end is not None:
        return end >= today
    start = local_date(order_start(order))
    if start is not None:
        return start >= today - timedelta(days=int(config["current_order_default_days"]))
    return True  # status active is the only evidence, and it says current


def active_orders(
    orders: Iterable[MedOrder],
    supply_of: Callable[[MedOrder], Supply],
    today: date,
    config: GuidelineConfig,
) -> tuple[MedOrder, ...]:
    """Active, real, ambulatory, current EHR orders that no draft replaces (3.2, 3.3)."""
    orders = tuple(orders)
    # Only a real draft replaces its original: a cancelled or erroneous one is not a draft order (3.1). The
    # reference may be relative, absolute or versioned, or (sandbox) a bare id.
    replaced = {
        local_reference(o.prior_prescription)
        for o in orders
        if o.is_draft and o.prior_prescription and o.status not in IGNORED_DRAFT_STATUSES
    }
    replaced |= {f"MedicationRequest/{r}" for r in replaced if r and "/" not in r}
    return tuple(
        o
        for o in orders
        if not o.is_draft
        and o.status == "active"
        and o.intent not in NON_ORDER_INTENTS
        and is_ambulatory(o, config)
        and o.ref not in replaced
        and is_current(o, supply_of(o), today, config)
    )
