"""build_record: pool every resource into one deduplicated record; a bad resource is skipped and reported."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from guideline.fhirdata import (
    text,
)
from guideline.record.model import (
    Dispense,
    MedOrder,
    Patient,
    PatientRecord,
    ReadProblem,
    ServiceRequest,
)
from guideline.record.pool import MedicationPool, collect_resources
from guideline.record.readers import (
    read_care_plan,
    read_condition,
    read_consent,
    read_dispense,
    read_document,
    read_encounter,
    read_med_order,
    read_observation,
    read_patient,
    read_procedure,
    read_service_request,
)

Reader = Callable[[Mapping[str, Any], ZoneInfo], Any]

# resourceType → (PatientRecord field, reader). Orders, service requests and dispenses need more than the resource
# and the zone (draft flag, Medication pool), so build_record reads those itself.
_READERS: dict[str, tuple[str, Reader]] = {
    "Observation": ("observations", read_observation),
    "Condition": ("conditions", read_condition),
    "Procedure": ("procedures", read_procedure),
    "Encounter": ("encounters", read_encounter),
    "CarePlan": ("care_plans", read_care_plan),
    "DocumentReference": ("documents", read_document),
    "Consent": ("consents", read_consent),
}
_ORDER_TYPES = ("MedicationRequest", "MedicationOrder")  # MedicationOrder: STU3's name
_SERVICE_REQUEST_TYPES = ("ServiceRequest", "ProcedureRequest")


def _resource_id(resource: Mapping[str, Any]) -> str | None:
    raw = resource.get("id")
    return str(raw) if isinstance(raw, int) else text(raw)


def build_record(
    resources: Iterable[Any],
    tz: ZoneInfo,
    draft_orders: Any = None,
    extra_medications: Iterable[Mapping[str, Any]] = (),
) -> PatientRecord:
    """Pool every resource (Bundles of any type, lists, single resources) into one deduplicated record.

    `draft_orders` is the hook's `context.draftOrders` (a Bundle, list or resource); drafts win over an EHR copy
    with the same id. `extra_medications` are Medication resources fetched separately for references.
    """
    found: list[tuple[Mapping[str, Any], str | None]] = []
    collect_resources(draft_orders, found)
    draft_count = len(found)
    collect_resources(list(resources), found)
    pool = MedicationPool()
    for resource, full_url in found:
        if resource.get("resourceType") == "Medication":
            pool.add_medication(resource, full_url)
    for medication in extra_medications:
        pool.add_medication(medication, None)

    seen: set[tuple[str, str]] = set()
    collected: dict[str, list[Any]] = {name: [] for name, _ in _READERS.values()}
    orders: list[MedOrder] = []
    service_requests: list[ServiceRequest] = []
    dispenses: list[Dispense] = []
    problems: list[ReadProblem] = []
    patient: Patient | None = None

    for index, (resource, _) in enumerate(found):
        kind = resource.get("resourceType")
        resource_id = _resource_id(resource)
        if resource_id:
            key = (kind, resource_id)
            if key in seen:
                continue  # drafts come first, so a draft beats its EHR copy (guideline 3.3)
            seen.add(key)
        try:
            reading = _READERS.get(kind)
            if reading is not None:
                collected[reading[0]].append(reading[1](resource, tz))
            elif kind in _ORDER_TYPES:
                orders.append(read_med_order(resource, index < draft_count, tz, pool))
            elif kind in _SERVICE_REQUEST_TYPES:
                service_requests.append(read_service_request(resource, index < draft_count, tz))
            elif kind == "MedicationDispense":
                dispenses.append(read_dispense(resource, tz, pool))
            elif kind == "Patient":
                patient = patient or read_patient(resource, tz)
            elif kind == "OperationOutcome":
                problems.append(ReadProblem(kind, resource_id, "the EHR reported an error instead of data"))
        except Exception as error:  # noqa: BLE001 - one unreadable resource must never fail the call
            problems.append(ReadProblem(str(kind), resource_id, f"unreadable: {type(error).__name__}"))

    unresolved = tuple(
        sorted({o.medication.reference for o in orders if o.medication.unresolved and o.medication.reference})
    )
    return PatientRecord(
        patient=patient,
        orders=tuple(orders),
        dispenses=tuple(dispenses),
        service_requests=tuple(service_requests),
        problems=tuple(problems),
        unresolved_medication_refs=unresolved,
        **{name: tuple(values) for name, values in collected.items()},
    )
