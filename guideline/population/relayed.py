"""An order another source relayed under its own id (an HIE's copy of the EHR's order) read once in the review, by
the point of care's one rule (`guideline.record.identity.relayed_orders`), where the export tells the sources apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from guideline import fills
from guideline.config import GuidelineConfig
from guideline.fhirdata import as_dict, text
from guideline.orders import identified
from guideline.population.quality import Quality
from guideline.record import MedOrder, PatientRecord
from guideline.record.identity import relayed_names, relayed_orders, without_relayed
from guideline.terminology import Terminology


def named_source(resource: Mapping[str, Any] | None) -> str | None:
    """The system a resource's `meta.source` names: the URI before any `#` (HAPI FHIR writes the request's id after it,
    or alone, `#a81c2e`, which names no system); None when it names none."""
    source = text(as_dict(as_dict(resource).get("meta")).get("source"))
    system = (source or "").partition("#")[0].strip()
    return system or None


def relayed_read_once(
    record: PatientRecord,
    raw: Mapping[str, Mapping[str, Any]],
    terms: Terminology,
    config: GuidelineConfig,
    quality: Quality,
) -> PatientRecord:
    """The record with each order another source relayed under its own id read once (its fills and renewals naming
    the order it copies), counted in `orders_relayed`. A Bulk export has no fullUrls to say where an order is from: an
    order whose `meta.source` names a system is read as that source's, one naming none as the export's own (the EHR's,
    the point of care's `source` None). Where none names a system, or every order does, nothing tells which is the
    EHR's order and which the copy: both are read (an over-count, never a lost order)."""
    marked = [_from_source(order, raw) for order in record.orders]
    if all(order.source is None for order in marked):  # the usual export: no order names another source
        return record

    # The point of care's test too (`Facts._identified_drug`): a code or a name alone is no evidence two orders are one.
    relayed = relayed_orders(marked, lambda order: identified(fills.same_drug_key(order, terms, config)))
    if not relayed:
        return record
    quality.orders_relayed += len(relayed)
    orders, dispenses = without_relayed(marked, record.dispenses, relayed, relayed_names(relayed, ()))
    # The source was only the rule's input: the orders read on are the export's, as every other resource is.
    return replace(
        record, orders=tuple(replace(o, source=None) if o.source else o for o in orders), dispenses=dispenses
    )


def _from_source(order: MedOrder, raw: Mapping[str, Mapping[str, Any]]) -> MedOrder:
    source = named_source(raw.get(order.located)) if order.located else None
    return replace(order, source=source) if source else order
