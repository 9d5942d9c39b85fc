"""Every resource we send is checked as FHIR R4 (fhir.resources R4B models) plus the R4 invariants we rely on."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError


class InvalidResource(ValueError):
    """A resource we built does not validate; the message names the element (no patient data)."""


def _invariant_problems(resource: dict[str, Any]) -> list[str]:
    """R4 invariants the models do not enforce but EHRs do."""
    kind = resource.get("resourceType")
    problems: list[str] = []
    if kind == "Consent" and not (resource.get("policy") or resource.get("policyRule")):
        problems.append("Consent needs policy or policyRule (ppc-1)")
    if kind == "CarePlan":
        for activity in resource.get("activity", []):
            if "detail" in activity and "reference" in activity:
                problems.append("CarePlan.activity has both detail and reference (cpl-3)")
    if kind == "DocumentReference" and not resource.get("content"):
        problems.append("DocumentReference needs content")
    return problems


def validated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource as the R4 model serialises it; raises InvalidResource naming what is wrong."""
    kind = str(resource.get("resourceType", ""))
    try:
        model = get_fhir_model_class(kind).model_validate(resource)
    except (KeyError, ValueError, ValidationError) as error:
        if isinstance(error, ValidationError):
            where = "; ".join(".".join(str(p) for p in e["loc"]) or kind for e in error.errors()[:5])
            raise InvalidResource(f"{kind} is not valid FHIR R4 ({where})") from error
        raise InvalidResource(f"{kind or 'the resource'} is not a FHIR R4 resource type") from error
    problems = _invariant_problems(resource)
    if problems:
        raise InvalidResource("; ".join(problems))
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)
