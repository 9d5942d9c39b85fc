"""A suggested resource, built in R4 by the checks, rewritten as FHIR STU3 for an EHR that speaks STU3."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from guideline.fhirdata import MEDREQ_CATEGORY, MEDREQ_CATEGORY_STU3

# R4 renamed STU3's ProcedureRequest (an order for a test or a procedure).
_RENAMED = {"ServiceRequest": "ProcedureRequest"}
# The STU3 types a suggestion is written as whose requester is a backbone naming it as its `agent` (R4: a plain
# Reference), from the STU3 spec (tests/test_stu3_shapes.py checks them against the STU3 models). STU3's
# ReferralRequest has one too, but no suggestion is written as one: R4 has none, and ServiceRequest is ProcedureRequest.
_AGENT_REQUESTERS = frozenset({"MedicationRequest", "ProcedureRequest", "CommunicationRequest", "Task"})
# Resources whose visit STU3 names `context` (R4: `encounter`).
_CONTEXT_TYPES = frozenset(
    {"MedicationRequest", "ProcedureRequest", "Procedure", "CommunicationRequest", "CarePlan", "Task"}
)
# R4 statuses STU3 writes under another code (its requests say suspended and cancelled); the rest are the same words.
_REQUEST_STATUS_RENAMED = {"on-hold": "suspended", "revoked": "cancelled"}
_STATUS_RENAMED = dict.fromkeys(("ProcedureRequest", "CarePlan", "CommunicationRequest"), _REQUEST_STATUS_RENAMED)
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
}


def as_stu3(resource: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The resource as STU3 writes it, and the element STU3 has no code for (None when every code is STU3's).
    Elements STU3 lacks are left as they are: STU3 validation then refuses the resource, and it is not sent."""
    written = resource.get("resourceType")
    if type(written) is not str:  # no type: as it is, for validation to refuse
        return dict(resource), None
    kind = _RENAMED.get(written, written)
    stu3: dict[str, Any] = {**resource, "resourceType": kind}
    if kind in _CONTEXT_TYPES and "encounter" in stu3 and "context" not in stu3:
        stu3["context"] = stu3.pop("encounter")
    requester = stu3.get("requester")
    if kind in _AGENT_REQUESTERS and type(requester) is dict and "reference" in requester:
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
        parts.append(f"has no place for its R4 element{'s' if len(names) > 1 else ''} {_listed(names)}")
    if reshaped:
        names = sorted(set(reshaped))
        parts.append(f"cannot hold its {_listed(names)} in the shape R4 writes")
    return " and ".join(parts) or None


def _listed(names: list[str]) -> str:
    """Names in words: "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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
