"""The context ids (patientId, encounterId, userId) are read by one rule, FHIR's for a literal reference: a bare id,
`Type/id` or an absolute URL ending in it, with a version (`/_history/n`), a trailing slash, a query string and a
fragment dropped, the version and slash as in a resource's own reference; a reference to another type, or a value no
such rule reads, is a 400 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import PATIENT_ID
from cds_support import hook_request, make_app, oxycodone_draft

from cds_hooks.errors import RequestError
from cds_hooks.request import parse_hook_request
from guideline.fhirdata import local_reference
from smart_app.cli import main

EPIC_R4 = "https://fhir.epic.com/interconnect-fhir-oauth/api/FHIR/R4"
ORACLE_R4 = "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d"
EPIC_PATIENT = "erXuFYUfucBZaryVksYEcMg3"
EPIC_ENCOUNTER = "eoK8nLRcEypNjtns4cxX7vg3"
ORACLE_PATIENT = "12724066"
ORACLE_ENCOUNTER = "97953477"


def parsed(**context: object):
    body = hook_request(drafts=[oxycodone_draft()])
    body["context"].update(context)
    return parse_hook_request(body, "order-sign")


@pytest.mark.parametrize(
    ("field", "sent", "read"),
    [
        ("patientId", EPIC_PATIENT, EPIC_PATIENT),
        ("patientId", ORACLE_PATIENT, ORACLE_PATIENT),
        ("patientId", f"Patient/{EPIC_PATIENT}", EPIC_PATIENT),
        ("patientId", f"Patient/{ORACLE_PATIENT}/_history/3", ORACLE_PATIENT),
        ("patientId", f"{EPIC_R4}/Patient/{EPIC_PATIENT}", EPIC_PATIENT),
        ("patientId", f"{EPIC_R4}/Patient/{EPIC_PATIENT}?_format=json", EPIC_PATIENT),
        ("patientId", f"{ORACLE_R4}/Patient/{ORACLE_PATIENT}/_history/2?x=1#summary", ORACLE_PATIENT),
        ("patientId", f"Patient/{ORACLE_PATIENT}?x=1", ORACLE_PATIENT),
        ("patientId", f"Patient/{ORACLE_PATIENT}#summary", ORACLE_PATIENT),
        ("patientId", f"{ORACLE_PATIENT}?x=1", ORACLE_PATIENT),
        ("encounterId", f"Encounter/{EPIC_ENCOUNTER}", EPIC_ENCOUNTER),
        ("encounterId", f"{ORACLE_R4}/Encounter/{ORACLE_ENCOUNTER}", ORACLE_ENCOUNTER),
        ("encounterId", f"{ORACLE_R4}/Encounter/{ORACLE_ENCOUNTER}?_elements=id", ORACLE_ENCOUNTER),
        ("encounterId", f"Encounter/{EPIC_ENCOUNTER}/_history/1#x", EPIC_ENCOUNTER),
        # A trailing slash names the same resource, as in a resource's own reference (fhirdata.local_reference).
        ("patientId", f"Patient/{ORACLE_PATIENT}/", ORACLE_PATIENT),
        ("patientId", f"Patient/{ORACLE_PATIENT}/_history/3/", ORACLE_PATIENT),
        ("patientId", f"{ORACLE_R4}/Patient/{ORACLE_PATIENT}/_history/2/", ORACLE_PATIENT),
        ("encounterId", f"{EPIC_R4}/Encounter/{EPIC_ENCOUNTER}/_history/4", EPIC_ENCOUNTER),
        ("encounterId", f"{EPIC_R4}/Encounter/{EPIC_ENCOUNTER}/", EPIC_ENCOUNTER),
    ],
)
def test_a_context_id_in_every_form_is_read_as_the_bare_id(field: str, sent: str, read: str) -> None:
    request = parsed(**{field: sent})
    assert (request.patient_id if field == "patientId" else request.encounter_id) == read


@pytest.mark.parametrize(
    ("sent", "read"),
    [
        ("Practitioner/eM5CWtq15N0WJeuCet5bJlQ3", "Practitioner/eM5CWtq15N0WJeuCet5bJlQ3"),
        ("PractitionerRole/4122622/_history/7", "PractitionerRole/4122622"),
        (f"{EPIC_R4}/Practitioner/eM5CWtq15N0WJeuCet5bJlQ3", "Practitioner/eM5CWtq15N0WJeuCet5bJlQ3"),
        (f"{EPIC_R4}/Practitioner/eM5CWtq15N0WJeuCet5bJlQ3?_format=json", "Practitioner/eM5CWtq15N0WJeuCet5bJlQ3"),
        (f"{ORACLE_R4}/Practitioner/4122622#me", "Practitioner/4122622"),
        ("Practitioner/4122622?x=1", "Practitioner/4122622"),
        (f"{ORACLE_R4}/Patient/{ORACLE_PATIENT}/_history/1", f"Patient/{ORACLE_PATIENT}"),  # patient-facing app user
        ("Practitioner/4122622/", "Practitioner/4122622"),
        (f"{EPIC_R4}/Practitioner/eM5CWtq15N0WJeuCet5bJlQ3/_history/5/", "Practitioner/eM5CWtq15N0WJeuCet5bJlQ3"),
    ],
)
def test_a_user_in_every_form_is_read_as_its_relative_reference(sent: str, read: str) -> None:
    assert parsed(userId=sent).user_id == read


@pytest.mark.parametrize(
    ("field", "sent"),
    [
        ("patientId", f"Encounter/{EPIC_ENCOUNTER}"),
        ("patientId", f"{EPIC_R4}/Practitioner/eM5CWtq15N0WJeuCet5bJlQ3"),
        ("encounterId", f"{ORACLE_R4}/Patient/{ORACLE_PATIENT}"),
        ("encounterId", f"EpisodeOfCare/{ORACLE_ENCOUNTER}"),
        ("userId", "Device/d1"),
        ("userId", f"{ORACLE_R4}/Organization/675844"),
    ],
)
def test_a_reference_to_another_type_is_refused_naming_the_field(field: str, sent: str) -> None:
    with pytest.raises(RequestError) as refused:
        parsed(**{field: sent})
    assert refused.value.status == 400
    assert f"context.{field}" in refused.value.message
    assert sent.rsplit("/", 2)[-2] in refused.value.message  # the type it named


@pytest.mark.parametrize(
    ("field", "sent"),
    [
        ("patientId", "Patient/"),
        ("patientId", f"{EPIC_R4}/"),
        ("patientId", f"a/Patient/{ORACLE_PATIENT}"),  # a relative reference is Type/id, nothing before it
        ("encounterId", "https:///Encounter/1"),  # no host
        ("userId", "Practitioner/"),
        ("userId", "#me"),
        # `_history` where no Type/id stands before it: no version of any resource (it was read as the id "Patient").
        ("patientId", "Patient/_history/2"),
        ("patientId", f"{ORACLE_PATIENT}/_history/2"),  # a bare id has no version; it was read as the id
        ("userId", "Practitioner/_history/2/"),
    ],
)
def test_a_value_no_reference_rule_reads_is_refused_naming_the_field(field: str, sent: str) -> None:
    with pytest.raises(RequestError) as refused:
        parsed(**{field: sent})
    assert refused.value.status == 400
    assert f"context.{field}" in refused.value.message


@pytest.mark.parametrize(
    "sent",
    [
        f"Patient/{ORACLE_PATIENT}",
        f"Patient/{ORACLE_PATIENT}/",
        f"Patient/{ORACLE_PATIENT}/_history/3",
        f"Patient/{ORACLE_PATIENT}/_history/3/",
        f"{EPIC_R4}/Patient/{EPIC_PATIENT}",
        f"{EPIC_R4}/Patient/{EPIC_PATIENT}/",
        f"{EPIC_R4}/Patient/{EPIC_PATIENT}/_history/12",
        f"{EPIC_R4}/Patient/{EPIC_PATIENT}/_history/12/",
        f"{EPIC_R4}/Patient/{EPIC_PATIENT}/_history/12?_format=json",
    ],
)
def test_a_context_reference_names_the_resource_a_resource_reference_would(sent: str) -> None:
    # The same words in a resource's `subject` and in context.patientId name the same patient (fhirdata.unversioned).
    assert f"Patient/{parsed(patientId=sent).patient_id}" == local_reference(sent)


def test_the_service_answers_a_wrong_type_with_a_400_operation_outcome(tmp_path: Path) -> None:
    body = hook_request(drafts=[oxycodone_draft()])
    body["context"]["patientId"] = f"Encounter/{EPIC_ENCOUNTER}"
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"
    assert "context.patientId" in response.json["issue"][0]["diagnostics"]
    assert EPIC_ENCOUNTER not in response.json["issue"][0]["diagnostics"]  # the id sent is not echoed


def test_painplan_mme_reads_the_patient_id_by_the_same_rule(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    body = hook_request(drafts=[oxycodone_draft()])
    body["context"]["patientId"] = f"{EPIC_R4}/Patient/{PATIENT_ID}?_format=json"  # the prefetch's Patient
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert main(["mme", str(path), "--today", "2026-03-02"]) == 0
    capsys.readouterr()
    body["context"]["patientId"] = f"Encounter/{EPIC_ENCOUNTER}"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert main(["mme", str(path), "--today", "2026-03-02"]) == 2  # unreadable input, as the hook's 400
    assert "context.patientId" in capsys.readouterr().err


@pytest.mark.parametrize("hook", ["order-sign", "order-select", "patient-view"])
@pytest.mark.parametrize("sent", [None, "", "   ", True, {"reference": "Patient/p1"}, ["p1"]])
def test_a_call_without_a_readable_patient_id_is_refused_not_answered(tmp_path: Path, hook: str, sent: object) -> None:
    """CDS Hooks requires context.patientId on these hooks. Answered, the prefetch and the FHIR reads were tied to no
    patient: another patient's orders were counted (270 MME/day for a patient taking 90), and a patient-view call
    answered `{"cards": []}`, which reads as all clear."""
    body = hook_request(hook, drafts=[oxycodone_draft()])
    if sent is None:
        del body["context"]["patientId"]
    else:
        body["context"]["patientId"] = sent
    response = (
        make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body)
    )  # the service id is the hook's name
    assert response.status_code == 400
    assert response.json["resourceType"] == "OperationOutcome"
    assert "context.patientId is required" in response.json["issue"][0]["diagnostics"]
