"""The resource types the record reader reads are the ones the population review counts as read, and a Medication
named by reference from any resource the reader resolves it for (a MedicationStatement, DSTU2's MedicationOrder)
is fetched from the FHIR server."""

from __future__ import annotations

import json
from typing import Any

import responses
from builders import PATIENT_ID, RXNORM, patient
from synthetic_export import OXYCODONE_5, condition, dispense, write_export
from synthetic_export import patient as export_patient
from test_plan_view import FakeFhir, _app, _open_plan
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.fhirdata import SNOMED
from guideline.record import medication_references
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet


def statement_by_reference() -> dict[str, Any]:
    """R4: a home medication reported at reconciliation, its medicine a Medication on the server."""
    return {
        "resourceType": "MedicationStatement",
        "id": "ms-lzp",
        "status": "active",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationReference": {"reference": "Medication/m-lzp"},
        "effectivePeriod": {"start": "2024-06-01"},
        "dateAsserted": "2026-06-01",
        "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}}}],
    }


def medication_order_dstu2() -> dict[str, Any]:
    """DSTU2: MedicationOrder (STU3 renamed it MedicationRequest), its medicine by reference."""
    return {
        "resourceType": "MedicationOrder",
        "id": "mo-oxy",
        "status": "active",
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "dateWritten": "2026-06-10",
        "medicationReference": {"reference": "Medication/m-oxy"},
    }


def medication(ident: str, rxcui: str) -> dict[str, Any]:
    return {"resourceType": "Medication", "id": ident, "code": {"coding": [{"system": RXNORM, "code": rxcui}]}}


def test_a_statement_or_a_dstu2_order_naming_its_medication_by_reference_asks_for_it() -> None:
    found = medication_references([{"resourceType": "Bundle", "entry": [{"resource": statement_by_reference()}]}])
    assert found == {"Medication/m-lzp"}
    assert medication_references([medication_order_dstu2()]) == {"Medication/m-oxy"}


def test_the_plan_page_fetches_a_statements_medication_so_the_benzodiazepine_counts(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [patient(), statement_by_reference(), medication("m-lzp", LORAZEPAM)])
        app = _app(tmp_path, guideline={"prefetch": {"medication_statements": True}})
        html = _open_plan(app).get_data(as_text=True)
    assert any(url.endswith("/Medication/m-lzp") for url, _ in fake.requests)
    assert "lorazepam" in html.lower()


def test_the_review_does_not_call_the_types_it_reads_unexpected(tmp_path: Any) -> None:
    pid = "p-types"
    subject = {"reference": f"Patient/{pid}"}
    read = [
        {**statement_by_reference(), "subject": subject},
        {"resourceType": "Goal", "id": "g1", "lifecycleStatus": "active", "subject": subject,
         "description": {"text": "Walk 20 minutes a day"}},
        {"resourceType": "ProcedureRequest", "id": "prq1", "status": "active", "intent": "order", "subject": subject,
         "code": {"coding": [{"system": SNOMED, "code": "310627008"}]}, "authoredOn": "2026-03-01"},
        {"resourceType": "ReferralRequest", "id": "rr1", "status": "active", "intent": "order", "subject": subject,
         "serviceRequested": [{"text": "Physical therapy"}], "authoredOn": "2026-03-01"},
        {"resourceType": "DiagnosticOrder", "id": "do1", "status": "requested", "subject": subject,
         "item": [{"code": {"coding": [{"system": SNOMED, "code": "310627008"}]}}]},
        {**medication_order_dstu2(), "patient": subject},
    ]  # fmt: skip
    write_export(
        tmp_path / "in",
        [
            export_patient(pid),
            dispense("types-f1", pid, OXYCODONE_5, "2026-03-01", 20, 5),
            condition("types-c1", pid, "http://hl7.org/fhir/sid/icd-10-cm", "M54.50"),
            *read,
            {"resourceType": "Basic", "id": "b1", "subject": subject},
        ],
    )
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping())
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["unexpected_resource_types"] == {"Basic": 1}
    assert quality["resources_by_type"]["MedicationStatement"] == 1
