"""The STU3 shapes cds_hooks.stu3_resources writes a suggestion in are STU3's own, for every type the STU3 models have
(a site's template may be any): checked against the STU3 models (fhir.resources), not against a list kept beside
them."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import fhir.resources.STU3 as stu3_package
from fhir.resources.R4B import get_fhir_model_class as r4_model
from fhir.resources.STU3 import get_fhir_model_class as stu3_model
from pydantic import TypeAdapter

from cds_hooks.stu3_resources import _RENAMED, REQUEST_INTENT, as_stu3
from smart_app.warmup import STU3_SUGGESTION_MODELS

PRACTITIONER = {"reference": "Practitioner/dr1"}
VISIT = {"reference": "Encounter/enc1"}
_R4_NAME = {stu3: r4 for r4, stu3 in _RENAMED.items()}


def _stu3_resource_types() -> list[str]:
    """Every resource type the STU3 models have: each module holds the model of the type it names in lower case."""
    kinds = []
    for module in pkgutil.iter_modules(stu3_package.__path__):
        loaded = importlib.import_module(f"{stu3_package.__name__}.{module.name}")
        model = next((getattr(loaded, name) for name in dir(loaded) if name.lower() == module.name), None)
        if "contained" in getattr(model, "model_fields", {}):  # a DomainResource, not a data type
            kinds.append(model.__name__)
    return kinds


STU3_TYPES = _stu3_resource_types()


def _r4_fields(kind: str) -> dict[str, Any]:
    """The R4 (R4B) model's elements of the type STU3 names so (none when R4 has no such type)."""
    try:
        return r4_model(_R4_NAME.get(kind, kind)).model_fields
    except ValueError:
        return {}


def _takes(kind: str, element: str, value: Any) -> bool:
    """Whether the STU3 type has the element and its model takes the value there."""
    field = stu3_model(kind).model_fields.get(element)
    if field is None:
        return False
    try:
        TypeAdapter(field.annotation).validate_python(value)
    except ValueError:
        return False
    return True


def test_there_are_stu3_types_to_check():
    assert len(STU3_TYPES) > 90 and {"DeviceRequest", "Communication", "Observation", "SupplyRequest"} <= set(
        STU3_TYPES
    )


def test_every_r4_requester_is_written_where_its_stu3_type_takes_it():
    """STU3's request pattern names the requester as `requester.agent` (R4 made it a plain Reference): for every
    type, read from its STU3 model, so a site's DeviceRequest or SupplyRequest template is written right. Before, a
    hand-kept list of the six types a suggestion is written as by default was renamed, and no other."""
    agents = set()
    for kind in STU3_TYPES:
        if "requester" not in _r4_fields(kind):
            continue
        written, _ = as_stu3({"resourceType": _R4_NAME.get(kind, kind), "requester": PRACTITIONER})
        if _takes(kind, "requester", {"agent": PRACTITIONER}):
            agents.add(kind)
            assert written["requester"] == {"agent": PRACTITIONER}, kind
        else:
            assert written["requester"] == PRACTITIONER, kind
    assert agents >= {"MedicationRequest", "ProcedureRequest", "CommunicationRequest", "Task", "DeviceRequest"}
    assert "SupplyRequest" in agents


def test_every_r4_visit_is_written_as_context_where_its_stu3_type_names_it_so():
    """R4's `encounter` is STU3's `context` on every type that has one in its place (a Communication, an Observation,
    a DeviceRequest as much as a MedicationRequest); a type holding `encounter` in both keeps it."""
    renamed = set()
    for kind in STU3_TYPES:
        if "encounter" not in _r4_fields(kind):
            continue
        written, _ = as_stu3({"resourceType": _R4_NAME.get(kind, kind), "encounter": VISIT})
        context = _takes(kind, "context", VISIT) and not _takes(kind, "encounter", VISIT)
        assert ("context" in written) is context, kind
        if context:
            renamed.add(kind)
            assert written["context"] == VISIT and "encounter" not in written, kind
    assert renamed >= {*STU3_SUGGESTION_MODELS, "Communication", "Observation", "DeviceRequest", "Condition"}
    assert renamed.isdisjoint({"Composition", "Immunization", "Flag"})  # STU3 names their visit `encounter` too


def test_an_r4_intent_code_is_written_as_a_concept_where_the_stu3_type_holds_one():
    """STU3's DeviceRequest holds its intent as a CodeableConcept of the request intents (R4: a code)."""
    for kind in STU3_TYPES:
        if "intent" not in _r4_fields(kind) or "intent" not in stu3_model(kind).model_fields:
            continue
        written, uncoded = as_stu3({"resourceType": _R4_NAME.get(kind, kind), "intent": "proposal"})
        assert uncoded is None and _takes(kind, "intent", written["intent"]), kind
    concept = {"coding": [{"system": REQUEST_INTENT, "code": "proposal"}]}
    assert as_stu3({"resourceType": "DeviceRequest", "intent": "proposal"})[0]["intent"] == concept
    # R4's "directive" has no STU3 code: named, so the suggestion is left out and the card says why.
    assert as_stu3({"resourceType": "DeviceRequest", "intent": "directive"}) == (
        {"resourceType": "DeviceRequest", "intent": "directive"},
        "intent",
    )


def test_an_r4_task_is_written_with_its_requester_as_stu3_agent():
    """A site's R4 Task (follow-up with an opioid treatment program): STU3 takes it with the requester as agent."""
    task = {
        "resourceType": "Task",
        "status": "draft",
        "intent": "order",
        "code": {"text": "Refer to opioid treatment program"},
        "for": {"reference": "Patient/p1"},
        "encounter": {"reference": "Encounter/enc1"},
        "requester": PRACTITIONER,
        "authoredOn": "2026-06-15T09:00:00Z",
    }
    written, uncoded = as_stu3(task)
    assert uncoded is None
    assert written["requester"] == {"agent": PRACTITIONER}
    assert written["context"] == {"reference": "Encounter/enc1"}
    stu3_model("Task").model_validate(written)


def test_the_card_validates_the_visit_and_the_requester_as_as_stu3_writes_them():
    """cds_hooks.cards validates a suggestion's shape once, with placeholders in its plain per-call values (its
    slots): STU3's visit is `context`, and a requester written as `requester.agent` stays in the shape. The slots are
    read from as_stu3 itself; before, cards kept a copy of its renames to be kept in step by hand."""
    from cds_hooks import cards

    for kind in (*STU3_SUGGESTION_MODELS, "DeviceRequest", "Communication", "Observation", "SupplyRequest"):
        slots = cards._release_slots("STU3", kind)
        assert "subject" in slots and "authoredOn" in slots
        assert ("context" in slots) is _takes(kind, "context", VISIT)
        assert ("encounter" in slots) is ("context" not in slots)  # kept where STU3 has no place for it: refused
        assert ("requester" in slots) is not _takes(kind, "requester", {"agent": PRACTITIONER})
    assert cards._release_slots("R4", "ServiceRequest") == cards._SLOTS
