"""Realistic order-sign requests built from the demo data, evaluated once before the workers fork."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from guideline.config import GuidelineConfig

WARM_UP_DAY = date(2026, 1, 1)
# Resource types a card may suggest or a check may read; their R4B models load lazily (tenths of a second each).
FHIR_MODELS = (
    "MedicationRequest",
    "ServiceRequest",
    "Procedure",
    "Observation",
    "Condition",
    "Encounter",
    "Patient",
    "MedicationDispense",
    "Medication",
    "CarePlan",
    "DocumentReference",
    "Goal",
    "Consent",
    "Task",
    "CommunicationRequest",
    "OperationOutcome",
    "Bundle",
)

# The STU3 models an STU3 EHR's suggestions are validated with (cds_hooks.stu3_resources writes them).
STU3_SUGGESTION_MODELS = (
    "MedicationRequest",
    "ProcedureRequest",
    "Procedure",
    "CommunicationRequest",
    "CarePlan",
    "Task",
)


def load_fhir_models() -> None:
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.STU3 import get_fhir_model_class as stu3_model_class

    for name in FHIR_MODELS:
        get_fhir_model_class(name)
    for name in STU3_SUGGESTION_MODELS:  # about 5 MB and 0.06 s, once, rather than in each worker's first STU3 call
        stu3_model_class(name)


def warm_up_requests(config: GuidelineConfig) -> list[dict[str, Any]]:
    """Each demo patient's chart as prefetch with its story's draft order: every reader, check and card is used."""
    from cds_hooks.services import templates
    from smart_app.demo_data import load_demo_patients
    from smart_app.demo_data.orders import draft_bundle, story_draft

    keys = list(templates("order-sign", config))
    now = datetime.combine(WARM_UP_DAY, datetime.min.time(), tzinfo=UTC)
    requests = []
    for patient in load_demo_patients(WARM_UP_DAY).values():
        prefetch = {key: _bundle(patient.bundle.get("entry", []) if n == 0 else []) for n, key in enumerate(keys)}
        context = {
            "userId": "Practitioner/warm-up",
            "patientId": patient.id,
            "draftOrders": draft_bundle([story_draft(patient, now)]),
        }
        requests.append(
            {"hook": "order-sign", "hookInstance": str(uuid.uuid4()), "context": context, "prefetch": prefetch}
        )
    return requests


def _bundle(entries: list[Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}
