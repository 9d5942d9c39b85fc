"""Realistic order-sign requests built from the demo data, evaluated once before the workers fork."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from cds_hooks.ehr_release import R4, STU3
from cds_hooks.stu3_resources import stu3_type
from guideline.cards import ADDRESSING
from guideline.config import GuidelineConfig

WARM_UP_DAY = date(2026, 1, 1)
# Resource types a card may suggest (guideline.cards.ADDRESSING: every type PainPlan writes, a site's template's too)
# or a check may read; their R4B models load lazily (tenths of a second each).
FHIR_MODELS = tuple(
    dict.fromkeys(
        (
            *ADDRESSING,
            # and the types the checks read (an Observation is also one a site's template may write)
            "Observation",
            "Condition",
            "Encounter",
            "Patient",
            "MedicationDispense",
            "Medication",
            "DocumentReference",
            "Goal",
            "Consent",
            "OperationOutcome",
            "Bundle",
        )
    )
)
# The STU3 models an STU3 EHR's suggestions are validated with (cds_hooks.stu3_resources writes them): the types
# PainPlan writes, as STU3 names them, read from the one table rather than a copy kept in step by hand.
STU3_SUGGESTION_MODELS = tuple(dict.fromkeys(stu3_type(kind) for kind in ADDRESSING))
# By each release PainPlan writes suggestions in (ehr_release.RELEASES: those with `models`), the types to load from
# its models package; cds_hooks.cards loads them from the package the table names (R4: R4B).
MODELS_BY_RELEASE = {R4: FHIR_MODELS, STU3: STU3_SUGGESTION_MODELS}


def load_fhir_models() -> None:
    from cds_hooks.cards import get_fhir_model_class

    # STU3's: about 5 MB and 0.06 s, once, rather than in each worker's first STU3 call.
    for release, names in MODELS_BY_RELEASE.items():
        for name in names:
            get_fhir_model_class(name, release)


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
