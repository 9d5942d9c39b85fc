"""The orders a card's SMART link names (appContext `orders`, and the drafts themselves under `drafts`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from guideline.fhirdata import ingredient_item, medication_element, medication_ingredients, reference
from guideline.json_text import compact_json
from guideline.plan.medications import Medications
from guideline.record import resources_in

MAX_NAMED = 20  # the cards send at most 20 (guideline 10.x); more is not from us
MAX_ID_LENGTH = 256  # Epic ids run past FHIR's 64 characters; far longer is not an id
REFERENCE_PREFIX = "MedicationRequest/"


@dataclass(frozen=True)
class OrderFocus:
    """`found`: ids of current-opioid rows (to highlight) and sedative orders listed; `missing`: named ids the EHR
    record does not hold."""

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
    rows = (*medications.opioids, *medications.not_counted) if medications is not None else ()
    shown = {row.order_id for row in rows if row.order_id}
    # A sedative the card names (opioid + benzodiazepine) is an order in the record: called "not in the EHR record
    # yet (a draft being signed …)", a patient's active alprazolam read as a draft nobody had signed.
    in_record = shown | (medications.sedative_ids if medications is not None else frozenset())
    return OrderFocus(
        frozenset(i for i in order_ids if i in in_record), tuple(i for i in order_ids if i not in in_record)
    )


# -- the drafts themselves ----------------------------------------------------------------------------------------
# A draft being signed is not in the EHR's FHIR record, so the card's link carries the few fields the engine reads
# (appContext, kept short). The page evaluates with them, as the card did, and never trusts them for anything else.

DRAFT_FIELDS = (
    "resourceType",
    "id",
    "status",
    "intent",
    "category",
    "medicationCodeableConcept",
    "medicationReference",
    "medication",  # R5: the medicine as a CodeableReference
    "authoredOn",
    "courseOfTherapyType",
    "priorPrescription",
    "dosageInstruction",
    "dispenseRequest",
)
MAX_DRAFTS_JSON = 4000  # characters of appContext spent on drafts at most; beyond that only the ids travel
# What the record reads of a Medication (its code, form and ingredients, in R4, R5, STU3 and DSTU2 names): a draft
# naming a contained Medication ("#med1", as Epic and Oracle send liquid and compounded products) carries that one.
MEDICATION_FIELDS = ("resourceType", "id", "code", "form", "doseForm", "ingredient", "product")
# What the record reads of a contained Medication or Substance that Medication's ingredient names by "#id": its code.
INGREDIENT_FIELDS = ("resourceType", "id", "code")
_INGREDIENT_TYPES = ("Medication", "Substance")


def _carried(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What of a draft travels to the page: DRAFT_FIELDS, and the contained Medication it names, if any (without it
    the page read "#med1" as nothing, and the draft the card counted was unidentified there), with the contained
    resources its ingredients name."""
    draft = {key: resource[key] for key in DRAFT_FIELDS if key in resource}
    named = _contained_medication(resource)
    if named is not None:
        draft["contained"] = [named, *_contained_ingredients(resource, named)]
    return draft


def _contained_medication(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    """The contained Medication a draft names by "#id" (R4's medicationReference, R5's medication.reference), with
    only MEDICATION_FIELDS; None when it names none."""
    _, named = medication_element(resource)
    ref = reference(named)
    found = _contained(resource, ("Medication",), (ref[1:],) if ref and ref.startswith("#") else ())
    return {key: found[0][key] for key in MEDICATION_FIELDS if key in found[0]} if found else None


def _contained_ingredients(resource: Mapping[str, Any], medication: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The contained Medications and Substances the draft's Medication names as ingredients by "#id", with only
    INGREDIENT_FIELDS (without them the page read an ingredient the card counted as naming nothing). Any other
    contained resource is never carried."""
    refs = (reference(ingredient_item(item)[1]) or "" for item in medication_ingredients(medication))
    wanted = tuple(ref[1:] for ref in refs if ref.startswith("#") and ref[1:] != medication.get("id"))
    return [
        {key: item[key] for key in INGREDIENT_FIELDS if key in item}
        for item in _contained(resource, _INGREDIENT_TYPES, wanted)
    ]


def _contained(resource: Mapping[str, Any], types: Sequence[str], ids: Sequence[str]) -> list[Mapping[str, Any]]:
    """The draft's contained resources of these types with these ids, in the draft's order (an id compared, never
    hashed: an untrusted link may send a list or an object as an id)."""
    contained = resource.get("contained")
    if not ids or not isinstance(contained, list):
        return []
    return [
        item
        for item in contained
        if isinstance(item, Mapping) and item.get("resourceType") in types and item.get("id") in ids
    ]


def _entries(draft_orders: Any) -> list[Mapping[str, Any]]:
    """The draft MedicationRequests, found as the record finds the drafts it reads (`resources_in`: a Bundle, a list,
    one resource; a Bundle's one entry sent as an object too): read another way, drafts the cards counted could be
    missing from their link, and the page evaluated without them."""
    return [i for i in resources_in(draft_orders) if i.get("resourceType") == "MedicationRequest"]


def compact_drafts(draft_orders: Any, order_ids: Sequence[str]) -> list[dict[str, Any]] | None:
    """The named draft MedicationRequests with only what the engine reads; None when they would not fit."""
    text = compact_drafts_json(draft_orders, order_ids)
    return json.loads(text) if text is not None else None


def compact_drafts_json(draft_orders: Any, order_ids: Sequence[str]) -> str | None:
    """`compact_drafts` as compact JSON text (what a card's appContext carries), without building it twice."""
    wanted = set(order_ids)
    drafts = [
        _carried(resource)
        for resource in _entries(draft_orders)
        # An id that is not text (a list, an object) names no order the engine read, and cannot be looked up.
        if isinstance(resource.get("id"), str) and resource["id"] in wanted
    ]
    if not drafts:
        return None
    # Keys sorted all the way down: the same drafts give the same appContext however the EHR ordered its JSON.
    text = compact_json(drafts, sort_keys=True)
    return text if len(text) <= MAX_DRAFTS_JSON else None


def drafts_from_app_context(app_context: Any) -> tuple[dict[str, Any], ...]:
    """The drafts a card's link carried, read as untrusted input: MedicationRequest objects with an id, at most 20,
    only the fields the engine reads (and of `contained`, only the Medication the draft names)."""
    if not isinstance(app_context, Mapping):
        return ()
    raw = app_context.get("drafts")
    if not isinstance(raw, list):
        return ()
    return tuple(_carried(item) for item in raw[:MAX_NAMED] if isinstance(item, Mapping) and carried_as_draft(item))


def carried_as_draft(resource: Mapping[str, Any]) -> bool:
    """Whether the plan page takes this draft from a card's link: a MedicationRequest with an id it can look up."""
    order_id = resource.get("id")
    return (
        resource.get("resourceType") == "MedicationRequest"
        and isinstance(order_id, str)
        and 0 < len(order_id) <= MAX_ID_LENGTH
    )
