"""build_record tells another patient's resource by its subject (or DSTU2 `patient`) in whatever shape it comes:
the usual subject object is told without a call, and every other shape is checked in full, never kept unseen."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guideline.record import build_record
from guideline.record.build import ANOTHER_PATIENT

TZ = ZoneInfo("America/New_York")
OURS, THEIRS = "e63wRTbPfr1p8UW81d8Seiw3", "eq081-VQEgP8drUUqCWzHfw3"  # Epic-style FHIR ids


def _condition(subject: Any, key: str = "subject") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "c1",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F11.20"}]},
        key: subject,
        "recordedDate": "2026-03-02",
    }


def _dstu2_order(patient: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationOrder",  # DSTU2: the patient is `patient`, not `subject`
        "id": "mo1",
        "status": "active",
        "patient": patient,
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}]
        },
        "dateWritten": "2026-05-01",
    }


def _left_out(resource: dict[str, Any]) -> bool:
    record = build_record([resource], TZ, patient_id=OURS)
    named = [p for p in record.problems if p.reason == ANOTHER_PATIENT]
    kept = bool(record.conditions or record.orders)
    assert named or kept, "the resource was neither read nor named"
    return bool(named)


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": f"Patient/{THEIRS}", "display": "Other, Patient"},
        {"reference": f"https://fhir.example.org/api/FHIR/R4/Patient/{THEIRS}"},
        {"reference": f" Patient/{THEIRS} "},
    ],
)
def test_a_subject_naming_another_patient_is_left_out_and_named(subject: Any) -> None:
    assert _left_out(_condition(subject))


@pytest.mark.parametrize(
    "subject",
    [
        {"reference": f"Patient/{OURS}", "display": "Ours, Patient"},
        {"display": "Ours, Patient"},  # no reference: nothing names another patient
        {"reference": "Group/g1"},
        [{"reference": f"Patient/{THEIRS}"}],  # not an object: not read as a reference
        f"Patient/{THEIRS}",
        None,
    ],
)
def test_a_subject_naming_no_other_patient_is_read(subject: Any) -> None:
    assert not _left_out(_condition(subject))


def test_a_condition_with_no_subject_is_read() -> None:
    resource = _condition(None)
    del resource["subject"]
    assert not _left_out(resource)


def test_a_dstu2_order_for_another_patient_is_left_out_and_named() -> None:
    assert _left_out(_dstu2_order({"reference": f"Patient/{THEIRS}"}))
    assert not _left_out(_dstu2_order({"reference": f"Patient/{OURS}"}))
