"""line_keys: one judge (json.loads) of every export line for both population engines."""

from __future__ import annotations

import json

import pytest

from smart_app.population.worker import line_keys


def keys(line: str) -> list[str | None] | None:
    found = line_keys(line)
    return None if found is None else [key or None for key in json.loads(found)]


def test_a_resource_gives_its_type_id_patient_and_medication():
    line = json.dumps(
        {
            "resourceType": "MedicationDispense",
            "id": "d1",
            "subject": {"reference": "Patient/p1"},
            "medicationReference": {"reference": "Medication/m1"},
        }
    )
    assert keys(line) == ["MedicationDispense", "d1", "Patient/p1", "Medication/m1"]


def test_the_patient_reference_is_the_first_text_one_of_subject_patient_beneficiary():
    line = {"resourceType": "Coverage", "subject": {"reference": 5}, "patient": {"reference": ""},
            "beneficiary": {"reference": "Patient/p2"}}  # fmt: skip
    assert keys(json.dumps(line)) == ["Coverage", None, "Patient/p2", None]


@pytest.mark.parametrize(
    "line",
    [
        '{"resourceType": "Patient", "id": "p1"} trailing text',
        '{"resourceType": "Patient", "id": "p1"}{"id": "p2"}',
        '{"resourceType": "Patient", "id": "p1",}',
        "{'resourceType': 'Patient'}",
        '{"resourceType": "Patient", "name": "tab\there"}',
        '{"resourceType": "Patient", "deceased": nan}',
        '{"resourceType": "Patient"',
        "[" * 100_000,
    ],
)
def test_what_json_loads_refuses_is_malformed(line):
    assert line_keys(line) is None


def test_what_json_loads_reads_is_read_and_odd_values_are_not_text():
    # NaN and a lone surrogate escape are what json.loads accepts and DuckDB or Spark refused.
    assert keys('{"resourceType": "Patient", "id": "p1", "deceasedBoolean": NaN}') == ["Patient", "p1", None, None]
    assert keys('{"resourceType": "Patient", "id": "\\ud800"}') == ["Patient", None, None, None]
    # Never a JSON null inside the keys: Spark would read it as the text "null" (a patient called "null").
    assert "null" not in line_keys('{"resourceType": "Patient", "id": null, "subject": null}')
    # Whatever the line holds, the keys are plain ASCII JSON, which both engines read alike.
    assert line_keys('{"resourceType": "Patient", "id": "é\\u2028"}').isascii()


@pytest.mark.parametrize(
    "line",
    [
        '{"resourceType": 1e-300, "id": 7}',
        "[1, 2]",
        '"Patient"',
        '{"resourceType": "", "id": null}',
        '{"resourceType": null, "id": "p1"}',
        '{"resourceType": "\\ud800", "id": "p1"}',
        '{"id": "d1", "subject": {"reference": "Patient/p1"}, "whenHandedOver": "2026-01-05"}',
    ],
)
def test_json_that_is_no_fhir_resource_is_malformed(line):
    """Read as a resource of no type, such a line (a fill whose type an extract left out) was dropped with only a
    "(none)" count; now both engines count it as a malformed line, and it is named by its line."""
    assert line_keys(line) is None
