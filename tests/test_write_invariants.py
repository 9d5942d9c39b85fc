"""Every R4 invariant of what the write-back sends that fhir.resources does not check: one bad resource each.

The models check cardinality, types and choice elements; FHIRPath invariants (gol-1, cpl-3, per-1, …) are
PainPlan's to check before anything reaches the EHR (smart_app/write/validate.py)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from builders import TZ

from smart_app.write.forms import WriteContext, agreement, decision, goal, note, peg
from smart_app.write.validate import InvalidResource, validated

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=TZ)
CONTEXT = WriteContext("walter-brooks", "Practitioner/prac-9", NOW)
SUBJECT = {"reference": "Patient/walter-brooks"}
LOINC = "http://loinc.org"


def _goal() -> dict[str, Any]:
    """A goal as Epic returns it: coded category, a measured target, a note."""
    return {
        "resourceType": "Goal",
        "id": "eGoal.7",
        "meta": {"versionId": "3", "lastUpdated": "2026-05-01T14:02:11Z"},
        "lifecycleStatus": "active",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/goal-category", "code": "behavioral"}]}
        ],
        "description": {"text": "Walk to the mailbox and back"},
        "subject": SUBJECT,
        "startDate": "2026-01-10",
        "target": [
            {
                "measure": {"coding": [{"system": LOINC, "code": "91147-9", "display": "Mean score [PEG]"}]},
                "detailQuantity": {
                    "value": 4,
                    "comparator": "<=",
                    "unit": "{score}",
                    "system": "http://unitsofmeasure.org",
                    "code": "{score}",
                },
                "dueDate": "2026-09-01",
            }
        ],
        "note": [{"text": "Discussed with daughter", "time": "2026-01-10T09:30:00-05:00"}],
    }


def _plan() -> dict[str, Any]:
    return copy.deepcopy(
        decision({"decision": "taper", "reasons": "More harm", "follow_up": "2026-07-14"}, CONTEXT).resource
    )


def _consent() -> dict[str, Any]:
    return copy.deepcopy(agreement({"agreement_kind": "agreement", "note": "Risks discussed"}, CONTEXT).resource)


def _observation() -> dict[str, Any]:
    return copy.deepcopy(peg({"pain": "6", "enjoyment": "7", "activity": "5"}, CONTEXT).resource)


def _note() -> dict[str, Any]:
    return copy.deepcopy(note({"note_text": "Plan reviewed."}, CONTEXT).resource)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change at a dotted path ("target.0.detailString"); list indexes are numbers."""

    def change(resource: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = resource
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def change(resource: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = resource
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return change


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(resource: dict[str, Any]) -> None:
        for each in changes:
            each(resource)

    return change


CONTAINED = {"resourceType": "Practitioner", "id": "pr1", "name": [{"text": "Dr. Ana Alvarez-Ruiz"}]}

# (invariant, a valid resource, the change that breaks it)
BROKEN = [
    ("gol-1", _goal, _drop("target.0.measure")),
    ("gol-1", _goal, _set("target", [{"detailString": "walks 200 m without stopping", "dueDate": "2026-09-01"}])),
    ("cpl-3", _plan, _set("activity.0.reference", {"reference": "Appointment/ap1"})),
    ("ppc-1", _consent, _drop("policyRule")),
    ("ppc-5", _consent, _drop("patient")),
    ("obs-6", _observation, _both(_set("valueQuantity", {"value": 6}), _set("dataAbsentReason", {"text": "asked"}))),
    (
        "obs-7",
        _observation,
        _both(
            _set("code", {"coding": [{"system": LOINC, "code": "91147-9"}]}),
            _set(
                "valueQuantity",
                {"value": 6, "unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"},
            ),
        ),
    ),
    ("obs-3", _observation, _set("referenceRange", [{"type": {"text": "normal"}}])),
    ("per-1", _plan, _set("period", {"start": "2026-06-15", "end": "2026-06-01"})),
    (
        "per-1",
        _plan,
        _both(
            _drop("activity.0.detail.scheduledString"),
            _set(
                "activity.0.detail.scheduledPeriod",
                {"start": "2026-07-01T10:00:00-04:00", "end": "2026-07-01T09:00:00-04:00"},
            ),
        ),
    ),
    ("qty-3", _goal, _drop("target.0.detailQuantity.system")),
    (
        "rng-2",
        _goal,
        _both(
            _drop("target.0.detailQuantity"), _set("target.0.detailRange", {"low": {"value": 6}, "high": {"value": 2}})
        ),
    ),
    (
        "sqty-1",
        _goal,
        _both(
            _drop("target.0.detailQuantity"), _set("target.0.detailRange", {"high": {"value": 4, "comparator": "<="}})
        ),
    ),
    (
        "rat-1",
        _goal,
        _both(_drop("target.0.detailQuantity"), _set("target.0.detailRatio", {"numerator": {"value": 1}})),
    ),
    ("att-1", _note, _drop("content.0.attachment.contentType")),
    ("att-1", _consent, _drop("sourceAttachment.contentType")),
    (
        "ext-1",
        _goal,
        _set(
            "extension",
            [{"url": "http://example.org/x", "valueString": "a", "extension": [{"url": "y", "valueString": "b"}]}],
        ),
    ),
    ("ext-1", _goal, _set("extension", [{"url": "http://example.org/x"}])),
    ("ref-1", _goal, _set("expressedBy", {"reference": "#pr1"})),
    ("ele-1", _goal, _set("priority", {})),
    ("ele-1", _goal, _set("target.0", {"id": "t1"})),
    (
        "dom-2",
        _goal,
        _both(
            _set("contained", [{**CONTAINED, "contained": [{"resourceType": "Patient", "id": "x"}]}]),
            _set("expressedBy", {"reference": "#pr1"}),
        ),
    ),
    ("dom-3", _goal, _set("contained", [CONTAINED])),
    (
        "dom-4",
        _goal,
        _both(
            _set("contained", [{**CONTAINED, "meta": {"versionId": "2"}}]), _set("expressedBy", {"reference": "#pr1"})
        ),
    ),
    (
        "dom-5",
        _goal,
        _both(
            _set("contained", [{**CONTAINED, "meta": {"security": [{"code": "R"}]}}]),
            _set("expressedBy", {"reference": "#pr1"}),
        ),
    ),
]


@pytest.mark.parametrize(("invariant", "make", "break_it"), BROKEN, ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)])
def test_a_resource_breaking_an_invariant_is_refused_naming_it(invariant, make, break_it) -> None:
    resource = make()
    validated(resource)  # valid before the change: the change alone breaks the invariant
    break_it(resource)
    with pytest.raises(InvalidResource, match=invariant):
        validated(resource)


def test_what_the_invariants_allow_passes() -> None:
    """The shapes next to each broken one: a target with only a due date, a contained resource that is
    referenced, a range with low below high, a period of one day, an extension with a value."""
    goal = _goal()
    goal["target"].append({"dueDate": "2026-12-01"})
    goal["target"].append(
        {
            "measure": {"text": "Walking distance"},
            "detailRange": {"low": {"value": 200, "unit": "m"}, "high": {"value": 400, "unit": "m"}},
        }
    )
    goal["contained"] = [CONTAINED]
    goal["expressedBy"] = {"reference": "#pr1"}
    goal["extension"] = [{"url": "http://example.org/x", "valueString": "a"}]
    validated(goal)
    plan = _plan()
    plan["period"] = {"start": "2026-06-15", "end": "2026-06-15T17:00:00-04:00"}  # same day, other precision
    validated(plan)


def test_the_messages_name_the_element_and_never_its_content() -> None:
    goal = _goal()
    goal["target"] = [{"detailString": "walks 200 m without stopping"}]
    with pytest.raises(InvalidResource) as raised:
        validated(goal)
    assert "Goal.target[0]" in str(raised.value) and "200 m" not in str(raised.value)


def test_the_goal_form_writes_how_we_will_know_as_a_note_and_a_due_date_only_target() -> None:
    """The reviewer's case: "How we will know" and a due date used to become target.detailString with no measure."""
    built = goal(
        {
            "goal_kind": "function",
            "description": "Walk to the mailbox",
            "measure": "walks 200 m without stopping",
            "due": "2026-09-01",
        },
        CONTEXT,
    )
    sent = validated(built.resource)
    assert sent["target"] == [{"dueDate": "2026-09-01"}]
    assert [n["text"] for n in sent["note"]] == ["How we will know: walks 200 m without stopping"]
    assert sent["note"][0]["authorReference"] == {"reference": "Practitioner/prac-9"}
    assert not any(key.startswith("detail") for target in sent["target"] for key in target)


def test_a_peg_target_is_a_coded_measure_with_its_score() -> None:
    built = goal(
        {
            "goal_kind": "pain",
            "description": "Pain low enough to work full days",
            "peg_target": "4",
            "due": "2026-09-01",
        },
        CONTEXT,
    )
    sent = validated(built.resource)
    assert sent["target"] == [
        {
            "measure": {
                "coding": [{"system": LOINC, "code": "91147-9", "display": "Mean score [PEG]"}],
                "text": "PEG score",
            },
            "detailQuantity": {
                "value": 4,
                "comparator": "<=",
                "unit": "{score}",
                "system": "http://unitsofmeasure.org",
                "code": "{score}",
            },
            "dueDate": "2026-09-01",
        }
    ]


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"goal_kind": "pain", "peg_target": "11"}, "A whole number from 0 to 10."),
        ({"goal_kind": "pain", "peg_target": "four"}, "A whole number from 0 to 10."),
        ({"goal_kind": "function", "peg_target": "4"}, "pain goal"),
    ],
)
def test_a_peg_target_must_be_a_score_on_a_pain_goal(values, error) -> None:
    built = goal({"description": "Pain at 4 or less", **values}, CONTEXT)
    assert built.resource is None and error in built.errors["peg_target"]
