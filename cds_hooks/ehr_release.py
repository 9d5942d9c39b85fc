"""Which FHIR release the calling EHR speaks, so the resources a card suggests are ones it can create."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from guideline.record import resources_in
from launch.scopes import r4_named_in_base, release_named_in_base

R4 = "R4"
STU3 = "STU3"
DSTU2 = "DSTU2"
AUTO = "auto"
# What PAINPLAN_EHR_FHIR_VERSION takes; `auto` works the release out call by call (release_of_call).
SETTING_VALUES = (AUTO, R4, STU3, DSTU2)

# Types only one release has: DSTU2's medication and lab orders, R4's ServiceRequest.
_TYPE_RELEASE = {"MedicationOrder": DSTU2, "DiagnosticOrder": DSTU2, "ServiceRequest": R4}
# The dose[x] and rate[x] an STU3 Dosage holds itself (R4 moved them under doseAndRate).
_STU3_DOSE_KEYS = ("doseQuantity", "doseRange", "rateQuantity", "rateRatio", "rateRange")


def setting_value(raw: str) -> str | None:
    """The setting as PainPlan spells it ("stu3" -> "STU3"); None when it names no value it takes."""
    wanted = raw.strip().lower()
    return next((value for value in SETTING_VALUES if value.lower() == wanted), None)


def release_of_call(setting: str, fhir_server: str | None, draft_orders: Any, pool: Iterable[Mapping[str, Any]]) -> str:
    """The release to write suggestions in: the site's setting; else the one the fhirServer base's path names
    (…/api/FHIR/STU3, /dstu2/<tenant>, …/R4, /baseR5); else the one the drafts' shapes, then the chart's, all point
    to; else R4 (most EHRs, and what shapes that disagree leave us with)."""
    if setting != AUTO:
        return setting
    if fhir_server:
        named = release_named_in_base(fhir_server)
        if named is not None:  # STU3 or DSTU2; or R5 or DSTU1, which PainPlan does not write: the card says so
            return named
        if r4_named_in_base(fhir_server):
            return R4
    for resources in (resources_in(draft_orders) if draft_orders else (), pool):
        found = {release for release in map(_release_shown, resources) if release}
        if len(found) == 1:
            return found.pop()
    return R4


def _release_shown(resource: Any) -> str | None:
    """The release a resource's shape belongs to when only one has it; None when R4 and STU3 write it alike."""
    if type(resource) is not dict:
        return None
    kind = resource.get("resourceType")
    if type(kind) is not str:  # a list or an object (a fuzzer's, a broken interface's): no type, no release
        return None
    if kind in _TYPE_RELEASE:
        return _TYPE_RELEASE[kind]
    if kind in ("ProcedureRequest", "ReferralRequest"):
        # STU3's requests state an intent; DSTU2's (no intent) and R4's (renamed) do not count as STU3.
        return STU3 if "intent" in resource else None
    if kind == "MedicationRequest":
        return _medication_request_release(resource)
    return None


def _medication_request_release(resource: Mapping[str, Any]) -> str | None:
    requester = resource.get("requester")
    if type(requester) is dict and "agent" in requester:
        return STU3
    dosages = resource.get("dosageInstruction")
    for dosage in dosages if type(dosages) is list else ():
        if type(dosage) is dict:
            if "doseAndRate" in dosage:
                return R4
            if any(key in dosage for key in _STU3_DOSE_KEYS):
                return STU3
    return None
