"""A suggested resource, built in R4 by the checks, rewritten as FHIR STU3 for an EHR that speaks STU3."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from guideline.fhirdata import MEDREQ_CATEGORY, MEDREQ_CATEGORY_STU3
from guideline.words import and_list

# R4 renamed STU3's ProcedureRequest (an order for a test or a procedure).
_RENAMED = {"ServiceRequest": "ProcedureRequest"}
# STU3's code system of a request's intent, where STU3 writes it as a CodeableConcept (R4: a code).
REQUEST_INTENT = "http://hl7.org/fhir/request-intent"


def stu3_type(kind: str) -> str:
    """The name STU3 gives an R4 resource type (ServiceRequest: ProcedureRequest; most keep theirs)."""
    return _RENAMED.get(kind, kind)


@dataclass(frozen=True, slots=True)
class _Placement:
    """Where and how an STU3 type holds what R4 holds in `encounter`, a plain `requester` Reference and an `intent`
    code."""

    visit_as_context: bool  # the visit is its `context` (R4: `encounter`)
    requester_as_agent: bool  # the requester is a backbone naming it as its `agent` (R4: a plain Reference)
    intent_as_concept: bool  # the intent is a CodeableConcept (STU3's DeviceRequest; R4: a code)


_NO_PLACEMENT = _Placement(False, False, False)


@lru_cache(maxsize=128)
def _placement(kind: str) -> _Placement:
    """Where the STU3 model of this type holds the visit, the requester and the intent: read from the model rather
    than a list of types, so any type a site's template names (a DeviceRequest, a Communication) is written as STU3
    has it."""
    # Imported here: the models cost a quarter of a second to import, and most importers of the release table
    # (settings checks, the write-back) never write STU3.
    from fhir.resources.STU3 import get_fhir_model_class

    try:
        fields = get_fhir_model_class(kind).model_fields
    except Exception:  # noqa: BLE001 - a type STU3 lacks (ValueError): left as it is, for validation to refuse
        return _NO_PLACEMENT
    context = fields.get("context")
    extra = context.json_schema_extra if context is not None else None
    # STU3's `context` names the visit where its model has no `encounter` and lets it reference an Encounter (a
    # DocumentReference's `context` is a backbone of its own, and no R4 encounter goes there).
    visit = "encounter" not in fields and type(extra) is dict and "Encounter" in extra.get("enum_reference_types", ())
    requester = fields.get("requester")
    agent = requester is not None and "agent" in _elements_of(requester.annotation)
    intent = fields.get("intent")
    concept = intent is not None and "coding" in _elements_of(intent.annotation)
    return _Placement(visit, agent, concept)


def _elements_of(annotation: Any) -> frozenset[str]:
    """The elements of the model an element holds (a backbone's, a CodeableConcept's, a Reference's), none for a
    primitive."""
    for candidate in (annotation, *typing.get_args(annotation)):
        model = getattr(candidate, "get_model_klass", None)
        if model is not None:
            return frozenset(model().model_fields)
    return frozenset()


# R4 statuses STU3 writes under another code (its requests say suspended and cancelled); the rest are the same words.
_REQUEST_STATUS_RENAMED = {"on-hold": "suspended", "revoked": "cancelled"}
_STATUS_RENAMED = dict.fromkeys(
    ("ProcedureRequest", "CarePlan", "CommunicationRequest", "DeviceRequest"), _REQUEST_STATUS_RENAMED
)
# R4's Procedure says on hold and stopped where STU3 says suspended and aborted (the same meanings).
_STATUS_RENAMED["Procedure"] = {"on-hold": "suspended", "stopped": "aborted"}
# R4 elements whose meaning STU3 holds under another name: R4 name -> STU3 name, by STU3 type. R4's
# instantiatesCanonical (the protocol or order set the request follows) is STU3's `definition`, a list of References
# (written {"reference": <canonical URL>}) on these, and a Task's one definitionReference.
_RENAMED_ELEMENTS: dict[str, dict[str, str]] = {
    "CommunicationRequest": {"about": "topic"},  # what the communication is about
    "Task": {"reasonCode": "reason"},  # why the task is needed
}
_DEFINITION_TYPES = frozenset({"MedicationRequest", "ProcedureRequest", "Procedure", "CarePlan"})
# The codes STU3 has for the elements the models do not check (the models take any code as a code). A value
# outside them is no STU3 resource, so the suggestion is not sent. Written out from the STU3 value sets, not read from
# the models' enum_values: those lack ProcedureRequest's status `unknown` and give its intent's child codes
# (original-order, …) as "+" (tests/test_stu3_codes.py).
STU3_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("MedicationRequest", "status"): frozenset(
        {"active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"}
    ),
    ("MedicationRequest", "intent"): frozenset({"proposal", "plan", "order", "instance-order"}),
    ("ProcedureRequest", "status"): frozenset(
        {"draft", "active", "suspended", "completed", "entered-in-error", "cancelled", "unknown"}
    ),
    ("ProcedureRequest", "intent"): frozenset(
        {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}
    ),
    ("Procedure", "status"): frozenset(
        {"preparation", "in-progress", "suspended", "aborted", "completed", "entered-in-error", "unknown"}
    ),
    # A site's own templates may hold these (oud-treatment): their R4 codes STU3 lacks are caught here too.
    ("CarePlan", "status"): frozenset(
        {"draft", "active", "suspended", "completed", "entered-in-error", "cancelled", "unknown"}
    ),
    ("CarePlan", "intent"): frozenset({"proposal", "plan", "order", "option"}),
    ("CommunicationRequest", "status"): frozenset(
        {"draft", "active", "suspended", "cancelled", "completed", "entered-in-error", "unknown"}
    ),
    ("Task", "intent"): frozenset(
        {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}
    ),
    # STU3's DeviceRequest: the request statuses, and its intent a CodeableConcept of the request intents.
    ("DeviceRequest", "status"): frozenset(
        {"draft", "active", "suspended", "completed", "entered-in-error", "cancelled", "unknown"}
    ),
    ("DeviceRequest", "intent"): frozenset(
        {"proposal", "plan", "order", "original-order", "reflex-order", "filler-order", "instance-order", "option"}
    ),
}


def as_stu3(resource: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The resource as STU3 writes it, and the element STU3 has no code for (None when every code is STU3's).
    Elements STU3 lacks are left as they are: STU3 validation then refuses the resource, and it is not sent."""
    written = resource.get("resourceType")
    if type(written) is not str:  # no type: as it is, for validation to refuse
        return dict(resource), None
    kind = stu3_type(written)
    stu3: dict[str, Any] = {**resource, "resourceType": kind}
    placement = _placement(kind)
    if placement.visit_as_context and "encounter" in stu3 and "context" not in stu3:
        stu3["context"] = stu3.pop("encounter")
    requester = stu3.get("requester")
    if placement.requester_as_agent and type(requester) is dict and "reference" in requester:
        stu3["requester"] = {"agent": requester}
    if kind in _STATUS_RENAMED and stu3.get("status") in _STATUS_RENAMED[kind]:
        stu3["status"] = _STATUS_RENAMED[kind][stu3["status"]]
    for r4_name, stu3_name in _RENAMED_ELEMENTS.get(kind, {}).items():
        if r4_name in stu3 and stu3_name not in stu3:
            stu3[stu3_name] = stu3.pop(r4_name)
    _definition(kind, stu3)
    if kind == "MedicationRequest":
        _medication_request(stu3)
    for (code_kind, element), codes in STU3_CODES.items():
        if code_kind == kind and element in stu3 and stu3[element] not in codes:
            return stu3, element
    if placement.intent_as_concept and type(stu3.get("intent")) is str:  # its code checked above, as a code
        stu3["intent"] = {"coding": [{"system": REQUEST_INTENT, "code": stu3["intent"]}]}
    return stu3, None


def _definition(kind: str, resource: dict[str, Any]) -> None:
    """R4's instantiatesCanonical as STU3's definition: References naming the same canonical URLs (a Task's one)."""
    canonicals = resource.get("instantiatesCanonical")
    if kind in _DEFINITION_TYPES and type(canonicals) is list and "definition" not in resource:
        if all(type(url) is str for url in canonicals):
            resource["definition"] = [{"reference": url} for url in canonicals]
            del resource["instantiatesCanonical"]
    elif kind == "Task" and type(canonicals) is str and "definitionReference" not in resource:
        resource["definitionReference"] = {"reference": resource.pop("instantiatesCanonical")}


def stu3_misfits(stu3: Mapping[str, Any], uncoded: str | None, refused: Iterable[tuple[str, str]]) -> str | None:
    """Why a suggestion valid in R4 cannot be written in STU3, in words for the card after "FHIR STU3, which": the
    code it lacks (`uncoded`, from as_stu3), else, from where the STU3 models refused it as sent (`refused`: element
    path and pydantic error type, cds_hooks.cards validates), the R4 elements it has no place for and those R4 writes
    in a shape it cannot hold (two categories). None when neither names an element."""
    if uncoded is not None:
        return f'has no code "{str(stu3.get(uncoded))[:40]}" for its {uncoded}'
    unplaced: list[str] = []
    reshaped: list[str] = []
    for path, kind in refused:
        if path:
            (unplaced if kind == "extra_forbidden" else reshaped).append(path)
    parts = []
    if unplaced:
        names = sorted(set(unplaced))
        parts.append(f"has no place for its R4 element{'s' if len(names) > 1 else ''} {and_list(names)}")
    if reshaped:
        names = sorted(set(reshaped))
        parts.append(f"cannot hold its {and_list(names)} in the shape R4 writes")
    return " and ".join(parts) or None


def _medication_request(request: dict[str, Any]) -> None:
    """STU3's MedicationRequest: one category, the dose on the dosage itself, a positive number of repeats."""
    category = request.get("category")
    if type(category) is list and len(category) == 1 and type(category[0]) is dict:
        request["category"] = _stu3_category(category[0])
    dosages = request.get("dosageInstruction")
    if type(dosages) is list:
        request["dosageInstruction"] = [_stu3_dosage(d) if type(d) is dict else d for d in dosages]
    dispense = request.get("dispenseRequest")
    if type(dispense) is dict and dispense.get("numberOfRepeatsAllowed") == 0:
        # STU3's repeats are a positiveInt: no repeats is said by leaving the number out.
        request["dispenseRequest"] = {k: v for k, v in dispense.items() if k != "numberOfRepeatsAllowed"}
    substitution = request.get("substitution")
    if type(substitution) is dict and "allowedBoolean" in substitution:
        request["substitution"] = {("allowed" if k == "allowedBoolean" else k): v for k, v in substitution.items()}


def _stu3_category(category: dict[str, Any]) -> dict[str, Any]:
    """A category with R4's code system for its codes (inpatient, outpatient, community) under STU3's name."""
    codings = category.get("coding")
    if type(codings) is not list:
        return category
    renamed = [
        {**c, "system": MEDREQ_CATEGORY_STU3} if type(c) is dict and c.get("system") == MEDREQ_CATEGORY else c
        for c in codings
    ]
    return {**category, "coding": renamed}


def _stu3_dosage(dosage: dict[str, Any]) -> dict[str, Any]:
    """One R4 doseAndRate entry with no type, moved onto the dosage (STU3's dose[x] and rate[x]); any other left as
    it is, for validation to refuse: two doses, or a dose type, have no place in STU3."""
    entries = dosage.get("doseAndRate")
    if type(entries) is not list or len(entries) != 1 or type(entries[0]) is not dict or "type" in entries[0]:
        return dosage
    moved = {k: v for k, v in dosage.items() if k != "doseAndRate"}
    moved.update(entries[0])
    return moved
