"""The STU3 shapes cds_hooks.stu3_resources writes a suggestion in are STU3's own, for every type a suggestion is
written as: checked against the STU3 models (fhir.resources), not against a list kept beside them."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class as r4_model
from fhir.resources.STU3 import get_fhir_model_class as stu3_model
from pydantic import TypeAdapter

from cds_hooks.stu3_resources import _AGENT_REQUESTERS, _CONTEXT_TYPES, _RENAMED, as_stu3
from smart_app.warmup import STU3_SUGGESTION_MODELS

PRACTITIONER = {"reference": "Practitioner/dr1"}
_R4_NAME = {stu3: r4 for r4, stu3 in _RENAMED.items()}


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


def test_the_requesters_written_as_an_agent_backbone_are_those_stu3_writes_so():
    """STU3's request pattern names the requester as `requester.agent`; R4 made it a plain Reference. Before, Task
    (a site's oud-treatment template may be one) was missing, and its R4 requester was refused by STU3; the list held
    ReferralRequest, which no suggestion is written as (R4 has none; ServiceRequest is written as ProcedureRequest)."""
    agent = {kind for kind in STU3_SUGGESTION_MODELS if _takes(kind, "requester", {"agent": PRACTITIONER})}
    plain = {kind for kind in STU3_SUGGESTION_MODELS if _takes(kind, "requester", PRACTITIONER)}
    assert agent == {"MedicationRequest", "ProcedureRequest", "CommunicationRequest", "Task"}
    assert plain == set()
    assert agent == _AGENT_REQUESTERS


def test_the_visits_written_as_context_are_those_stu3_names_so():
    """R4's `encounter` is STU3's `context` on every type a suggestion is written as that has one."""
    renamed = {
        kind
        for kind in STU3_SUGGESTION_MODELS
        if _takes(kind, "context", {"reference": "Encounter/enc1"})
        and "encounter" in r4_model(_R4_NAME.get(kind, kind)).model_fields
    }
    assert renamed == _CONTEXT_TYPES


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

    for kind in STU3_SUGGESTION_MODELS:
        slots = cards._release_slots("STU3", kind)
        assert "encounter" not in slots and "subject" in slots and "authoredOn" in slots
        assert ("context" in slots) is (kind in _CONTEXT_TYPES)
        assert ("requester" in slots) is (kind not in _AGENT_REQUESTERS)
    assert cards._release_slots("R4", "ServiceRequest") == cards._SLOTS
