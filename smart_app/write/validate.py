"""Every resource we send is checked as FHIR R4 (fhir.resources R4B models) plus the R4 invariants the models leave out.

The models check cardinality, types and choice elements ([x]) but no FHIRPath invariant. An EHR that enforces them
refuses the write (or worse, stores what other systems then reject), so each invariant of the resources the
write-back sends (Goal, CarePlan, Consent, Observation, DocumentReference), of DomainResource and of the data types
they use is checked here. Messages name the element and the invariant, never its content (no patient data in logs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.attachment import Attachment
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.range import Range
from fhir.resources.R4B.ratio import Ratio
from pydantic import BaseModel, ValidationError

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
# ppc-2..ppc-5: a consent of these scopes is about a patient. (R4's FHIRPath for them tests system='something', a
# known error in the published expressions; the stated rule is what EHRs and later versions apply.)
SCOPES_NEEDING_PATIENT = {"patient-privacy": "ppc-2", "research": "ppc-3", "adr": "ppc-4", "treatment": "ppc-5"}


class InvalidResource(ValueError):
    """A resource we built does not validate; the message names the element (no patient data)."""


def _items(resource: dict[str, Any], name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """The objects of a repeating element, with their index."""
    for index, item in enumerate(resource.get(name) or []):
        if isinstance(item, dict):
            yield index, item


def _has_value(element: dict[str, Any], prefix: str = "value") -> bool:
    """Whether a choice element (value[x], detail[x]) is present in any of its types."""
    return any(key.startswith(prefix) and not key.startswith("_") for key in element)


def codings(concept: Any) -> set[tuple[str, str]]:
    """A CodeableConcept's (system, code) pairs, "" for a missing one; nothing when it is not a concept."""
    found = concept.get("coding") if isinstance(concept, Mapping) else None
    return {(str(c.get("system") or ""), str(c.get("code") or "")) for c in found or [] if isinstance(c, Mapping)}


def _goal_problems(goal: dict[str, Any]) -> list[str]:
    return [
        f"Goal.target[{i}] has a detail without a measure (gol-1)"
        for i, target in _items(goal, "target")
        if _has_value(target, "detail") and not target.get("measure")
    ]


def _care_plan_problems(plan: dict[str, Any]) -> list[str]:
    return [
        f"CarePlan.activity[{i}] has both detail and reference (cpl-3)"
        for i, activity in _items(plan, "activity")
        if "detail" in activity and "reference" in activity
    ]


def _consent_problems(consent: dict[str, Any]) -> list[str]:
    problems = []
    if not (consent.get("policy") or consent.get("policyRule")):
        problems.append("Consent needs policy or policyRule (ppc-1)")
    if not consent.get("patient"):
        for system, code in sorted(codings(consent.get("scope"))):
            if system == CONSENT_SCOPE and code in SCOPES_NEEDING_PATIENT:
                problems.append(f"Consent of scope {code} needs a patient ({SCOPES_NEEDING_PATIENT[code]})")
    return problems


def _observation_problems(observation: dict[str, Any]) -> list[str]:
    problems = []
    if observation.get("dataAbsentReason") and _has_value(observation):
        problems.append("Observation has both a value and a dataAbsentReason (obs-6)")
    own = codings(observation.get("code"))
    if _has_value(observation) and any(own & codings(c.get("code")) for _, c in _items(observation, "component")):
        problems.append("Observation has a value and a component with its own code (obs-7)")
    for i, span in _items(observation, "referenceRange"):
        if not (span.get("low") or span.get("high") or span.get("text")):
            problems.append(f"Observation.referenceRange[{i}] needs low, high or text (obs-3)")
    return problems


def _document_problems(document: dict[str, Any]) -> list[str]:
    return [] if document.get("content") else ["DocumentReference needs content"]


RESOURCE_RULES: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "Goal": _goal_problems,
    "CarePlan": _care_plan_problems,
    "Consent": _consent_problems,
    "Observation": _observation_problems,
    "DocumentReference": _document_problems,
}


def _strings(value: Any) -> Iterator[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _contained_problems(resource: dict[str, Any]) -> list[str]:
    """dom-2 to dom-5: contained resources are flat, referenced, and carry no version, date or security label."""
    kind = resource.get("resourceType")
    everything = set(_strings(resource))
    problems = []
    for i, inner in _items(resource, "contained"):
        where = f"{kind}.contained[{i}]"
        if inner.get("contained"):
            problems.append(f"{where} contains resources itself (dom-2)")
        if f"#{inner.get('id', '')}" not in everything and "#" not in set(_strings(inner)):
            problems.append(f"{where} is not referenced from the resource (dom-3)")
        meta = inner.get("meta") if isinstance(inner.get("meta"), dict) else {}
        if meta.get("versionId") or meta.get("lastUpdated"):
            problems.append(f"{where} has a versionId or lastUpdated (dom-4)")
        if meta.get("security"):
            problems.append(f"{where} has security labels (dom-5)")
    return problems


def _element_problems(value: Any, path: str, contained: set[str], root: bool = False) -> Iterator[str]:
    """ele-1 (no empty element), ext-1 (an extension has a value or extensions, not both) and ref-1 (a local
    reference names a contained resource), anywhere in the resource; FHIR JSON also has no empty arrays."""
    if isinstance(value, list):
        if not value:
            yield f"{path} is an empty list (ele-1)"
        for index, item in enumerate(value):
            yield from _element_problems(item, f"{path}[{index}]", contained, root and path.endswith(".contained"))
        return
    if not isinstance(value, dict):
        return
    if not root and not (set(value) - {"id"}):
        yield f"{path} is empty (ele-1)"
    reference = value.get("reference")
    if isinstance(reference, str) and reference.startswith("#") and reference != "#" and reference[1:] not in contained:
        yield f"{path} refers to a contained resource that is not there (ref-1)"
    for key, item in value.items():
        here = f"{path}.{key}"
        if key in ("extension", "modifierExtension"):
            for index, extension in enumerate(item if isinstance(item, list) else []):
                if isinstance(extension, dict) and bool(extension.get("extension")) == _has_value(extension):
                    yield f"{here}[{index}] needs either a value or extensions, not both or neither (ext-1)"
        yield from _element_problems(item, here, contained, key == "contained")


def _nodes(model: BaseModel, path: str) -> Iterator[tuple[str, BaseModel]]:
    """Every element of a validated model with its path in JSON names (Goal.target[0].detailQuantity)."""
    yield path, model
    for name, info in type(model).model_fields.items():
        value = getattr(model, name, None)
        key = info.alias or name
        if isinstance(value, BaseModel):
            yield from _nodes(value, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _nodes(item, f"{path}.{key}[{index}]")


def _later(start: str, end: str) -> bool:
    """per-1's start > end; moments of different precision are compared on what both state (FHIRPath gives no
    answer when they agree that far, and the invariant then holds)."""
    if "T" in start and "T" in end:
        return datetime.fromisoformat(start) > datetime.fromisoformat(end)
    start_day, end_day = start.split("T")[0], end.split("T")[0]
    common = min(len(start_day), len(end_day))
    return start_day[:common] > end_day[:common]


def _comparable(low: dict[str, Any], high: dict[str, Any]) -> bool:
    """Two quantities rng-2 can compare: same unit code, or neither has one."""
    return (low.get("system"), low.get("code")) == (high.get("system"), high.get("code"))


def _type_problems(path: str, node: BaseModel) -> list[str]:
    """The data-type invariants: per-1, qty-3, rng-2, sqty-1, rat-1 and att-1."""
    data = node.model_dump(mode="json", by_alias=True, exclude_none=True)
    problems = []
    if isinstance(node, Period) and data.get("start") and data.get("end") and _later(data["start"], data["end"]):
        problems.append(f"{path} starts after it ends (per-1)")
    if isinstance(node, Quantity) and data.get("code") and not data.get("system"):
        problems.append(f"{path} has a unit code without its system (qty-3)")
    if isinstance(node, Range):
        low, high = data.get("low") or {}, data.get("high") or {}
        if "value" in low and "value" in high and _comparable(low, high) and low["value"] > high["value"]:
            problems.append(f"{path} has low above high (rng-2)")
        if low.get("comparator") or high.get("comparator"):
            problems.append(f"{path} has a comparator in low or high (sqty-1)")
    if isinstance(node, Ratio):
        if bool(data.get("numerator")) != bool(data.get("denominator")):
            problems.append(f"{path} needs both numerator and denominator (rat-1)")
        elif not data.get("numerator") and not data.get("extension"):
            problems.append(f"{path} is empty without an extension (rat-1)")
    if isinstance(node, Attachment) and data.get("data") and not data.get("contentType"):
        problems.append(f"{path} has data without a contentType (att-1)")
    return problems


def _invariant_problems(resource: dict[str, Any], model: BaseModel | None = None) -> list[str]:
    """R4 invariants the models do not enforce but EHRs do: the resource's own, DomainResource's (dom-2 to dom-5),
    every element's (ele-1, ext-1, ref-1) and, given the validated model, the data types' (per-1, qty-3, …)."""
    kind = str(resource.get("resourceType", ""))
    problems = list(RESOURCE_RULES.get(kind, lambda _: [])(resource))
    problems.extend(_contained_problems(resource))
    contained = {str(inner.get("id")) for _, inner in _items(resource, "contained")}
    problems.extend(_element_problems(resource, kind, contained, root=True))
    if model is not None:
        problems.extend(p for path, node in _nodes(model, kind) for p in _type_problems(path, node))
    return problems


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as the R4 model serialises it (what is sent); raises InvalidResource naming what is wrong."""
    kind = str(resource.get("resourceType", ""))
    try:
        model = get_fhir_model_class(kind).model_validate(resource)
    except (KeyError, ValueError, ValidationError) as error:
        if isinstance(error, ValidationError):
            where = "; ".join(".".join(str(p) for p in e["loc"]) or kind for e in error.errors()[:5])
            raise InvalidResource(f"{kind} is not valid FHIR R4 ({where})") from error
        raise InvalidResource(f"{kind or 'the resource'} is not a FHIR R4 resource type") from error
    sent = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    problems = _invariant_problems(sent, model)
    if problems:
        raise InvalidResource(
            "; ".join(problems[:5]) + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
        )
    return sent
