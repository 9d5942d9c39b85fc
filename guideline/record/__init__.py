"""The typed, lenient patient record built from FHIR JSON (R4, STU3 dose shape, sandbox payloads).

`model` holds the types, `readers` one reader per resource type, `pool` the payload walk and Medication pool,
`build` the record itself. A resource that cannot be read is skipped and reported in `PatientRecord.problems`;
it never fails the call.
"""

from guideline.record.build import READABLE_TYPES, build_record
from guideline.record.model import (
    READ_RESOURCE_TYPES,
    Administration,
    CarePlan,
    Component,
    Condition,
    Consent,
    DiagnosticReport,
    Dispense,
    DispenseRequest,
    DocumentReference,
    Dosage,
    DoseAndRate,
    Encounter,
    Goal,
    GoalTarget,
    Medication,
    MedicationIngredient,
    MedOrder,
    Observation,
    Patient,
    PatientRecord,
    Procedure,
    ReadProblem,
    ResolvedMedication,
    ServiceRequest,
    TimingRepeat,
)
from guideline.record.pool import iter_resources, medication_references, resources_in
from guideline.record.readers import clear_read_caches

__all__ = [
    "READ_RESOURCE_TYPES",
    "READABLE_TYPES",
    "build_record",
    "clear_read_caches",
    "iter_resources",
    "medication_references",
    "resources_in",
    "ReadProblem",
    "Patient",
    "MedicationIngredient",
    "Medication",
    "TimingRepeat",
    "DoseAndRate",
    "Dosage",
    "DispenseRequest",
    "ResolvedMedication",
    "MedOrder",
    "Dispense",
    "Administration",
    "Component",
    "Observation",
    "Condition",
    "Procedure",
    "Encounter",
    "ServiceRequest",
    "CarePlan",
    "DocumentReference",
    "Consent",
    "DiagnosticReport",
    "Goal",
    "GoalTarget",
    "PatientRecord",
]
