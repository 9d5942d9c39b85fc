"""Suggested resources an STU3 or DSTU2 EHR can apply: written as STU3 for an STU3 EHR (the setting
PAINPLAN_EHR_FHIR_VERSION, else the fhirServer base's path, else the shapes the EHR sends), left out and named on the
card for a DSTU2 EHR; R4 as before."""

from __future__ import annotations

import copy
import json
import logging
import re
from typing import Any

import pytest
import responses
from builders import RXNORM, days_ago, dispense, med_request, observation
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from fhir.resources.STU3 import get_fhir_model_class as stu3_model

from cds_hooks.ehr_release import release_of_call
from guideline.config import ConfigError
from smart_app.config import load_settings

SNOMED = "http://snomed.info/sct"
STU3_CATEGORY = "http://hl7.org/fhir/medication-request-category"
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
SUBOXONE_FILM = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film
# An Epic STU3 base: the release read from it on each call, where the site leaves PAINPLAN_EHR_FHIR_VERSION at auto.
# A template STU3 refuses is then left out call by call (with the setting STU3 it stops the program).
STU3_BASE = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/STU3"
# Elements R4 added or reshaped that an STU3 server rejects or drops.
R4_ONLY = ("doseAndRate", "encounter", "reportedBoolean", "performerType", "doNotPerform", "instantiatesCanonical")


def stu3_draft(base: dict[str, Any]) -> dict[str, Any]:
    """An R4 MedicationRequest draft as an STU3 EHR (Oracle Health Millennium STU3) sends it: the dose on the dosage
    itself, one category under STU3's code system, the prescriber as requester.agent, the visit as context."""
    draft = copy.deepcopy(base)
    for dosage in draft["dosageInstruction"]:
        dosage.update(dosage.pop("doseAndRate")[0])
    draft["category"] = {"coding": [{"system": STU3_CATEGORY, "code": "community"}]}
    draft["requester"] = {"agent": {"reference": "Practitioner/dr1"}}
    draft["context"] = {"reference": "Encounter/enc1"}
    return draft


def created(response_json: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The resources each card's create actions carry, by the card's topic."""
    found: dict[str, list[dict[str, Any]]] = {}
    for card in response_json["cards"]:
        for suggestion in card.get("suggestions", []):
            for action in suggestion["actions"]:
                if action["type"] == "create":
                    found.setdefault(card["source"]["topic"]["code"], []).append(action["resource"])
    return found


def assert_stu3(resource: dict[str, Any]) -> None:
    """Valid by the STU3 models, and holding no element only R4 has, at any depth."""
    stu3_model(resource["resourceType"]).model_validate(resource)
    text = json.dumps(resource)
    for element in R4_ONLY:
        assert f'"{element}"' not in text, element
    assert resource["resourceType"] != "ServiceRequest"


def sign(tmp_path, drafts, prefetch=None, **settings) -> dict[str, Any]:
    body = hook_request(drafts=drafts, prefetch=prefetch)
    response = make_app(tmp_path, **settings).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return response.json


def test_an_stu3_ehr_by_setting_gets_stu3_naloxone_and_urine_screen_orders(tmp_path):
    """90 MME/day and no drug test: the naloxone order is an STU3 MedicationRequest (its dose on the dosage, one
    category, requester.agent, context) and the urine screen a ProcedureRequest with STU3's status and intent."""
    answer = sign(tmp_path, [oxycodone_draft()], ehr_fhir_version="STU3")
    made = created(answer)

    [naloxone] = made["naloxone"]
    assert_stu3(naloxone)
    assert naloxone["resourceType"] == "MedicationRequest"
    assert naloxone["dosageInstruction"][0]["doseQuantity"] == {
        "value": 1,
        "unit": "spray",
        "system": "http://unitsofmeasure.org",
        "code": "{spray}",
    }
    assert naloxone["category"] == {"coding": [{"system": STU3_CATEGORY, "code": "community"}]}
    assert naloxone["requester"] == {"agent": {"reference": "Practitioner/dr1"}}
    assert naloxone["context"] == {"reference": "Encounter/enc1"}
    assert naloxone["subject"] == {"reference": "Patient/p1"}
    assert (naloxone["status"], naloxone["intent"]) == ("draft", "proposal")
    # STU3's repeats are a positiveInt: R4's 0 cannot be written, and no number says no repeats.
    assert naloxone["dispenseRequest"] == {
        "quantity": {"value": 2, "unit": "each", "system": "http://unitsofmeasure.org", "code": "{each}"}
    }

    [screen] = made["urine-drug-test"]
    assert_stu3(screen)
    assert screen["resourceType"] == "ProcedureRequest"
    assert (screen["status"], screen["intent"]) == ("draft", "proposal")
    assert screen["code"]["coding"][0]["code"] == "310627008"
    assert screen["context"] == {"reference": "Encounter/enc1"}
    assert screen["requester"] == {"agent": {"reference": "Practitioner/dr1"}}
    assert screen["authoredOn"].startswith("2026-06-15T12:00")


def test_an_stu3_draft_order_makes_the_suggestions_stu3_without_a_setting(tmp_path):
    """The order being signed is in STU3's shape (dose on the dosage, requester.agent): the EHR speaks STU3."""
    made = created(sign(tmp_path, [stu3_draft(oxycodone_draft())]))
    assert set(made) >= {"naloxone", "urine-drug-test"}
    for resources in made.values():
        for resource in resources:
            assert_stu3(resource)


def test_the_setting_wins_over_the_shapes_sent(tmp_path):
    """A site that says R4 gets R4, whatever a draft looks like (an interface engine may rewrite drafts)."""
    made = created(sign(tmp_path, [stu3_draft(oxycodone_draft())], ehr_fhir_version="R4"))
    [screen] = made["urine-drug-test"]
    assert screen["resourceType"] == "ServiceRequest"
    assert "doseAndRate" in made["naloxone"][0]["dosageInstruction"][0]


def test_an_r4_call_is_unchanged(tmp_path):
    made = created(sign(tmp_path, [oxycodone_draft()]))
    [naloxone] = made["naloxone"]
    assert naloxone["category"][0]["coding"][0]["code"] == "community"
    assert naloxone["encounter"] == {"reference": "Encounter/enc1"}
    assert naloxone["requester"] == {"reference": "Practitioner/dr1"}
    assert made["urine-drug-test"][0]["resourceType"] == "ServiceRequest"


def test_an_stu3_assessment_order_is_a_procedure_request(tmp_path):
    """reassessment-due: long-term oxycodone (three 30-day fills) and no benefit/harm evaluation."""
    fills = [dispense(OXYCODONE_5, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]
    prefetch = full_prefetch("order-sign", dispenses=bundle(*fills))
    draft = med_request(OXYCODONE_5, draft=True, id="ox1", supply_days=5)
    answer = sign(tmp_path, [draft], prefetch, ehr_fhir_version="STU3")
    [assessment] = created(answer)["reassessment-due"]
    assert_stu3(assessment)
    assert assessment["resourceType"] == "ProcedureRequest"
    assert assessment["code"]["coding"][0]["code"] == "454281000124100"


def test_an_stu3_pdmp_review_record_names_the_visit_as_context(tmp_path):
    """pdmp-review's optional "Document PDMP review" Procedure: STU3's Procedure names the visit `context`."""
    guideline = {"checks": {"pdmp-review": {"suggest_documentation": True}}}
    draft = med_request(OXYCODONE_5, draft=True, id="ox1", supply_days=3)
    answer = sign(tmp_path, [draft], guideline=guideline, ehr_fhir_version="STU3")
    [review] = created(answer)["pdmp-review"]
    assert_stu3(review)
    assert review["resourceType"] == "Procedure"
    assert review["context"] == {"reference": "Encounter/enc1"}
    assert review["status"] == "completed"


def test_an_stu3_repeat_urine_screen_is_a_procedure_request(tmp_path):
    """unexpected-uds-result's optional repeat screen: a cocaine-positive screen 20 days ago, an opioid signed."""
    cocaine = observation("14314-9", when=days_ago(20), value_string="Positive")  # benzoylecgonine, urine screen
    prefetch = full_prefetch("order-sign", udsLabs=bundle(cocaine))
    guideline = {"checks": {"unexpected-uds-result": {"suggest_repeat": True}}}
    answer = sign(tmp_path, [oxycodone_draft()], prefetch, guideline=guideline, ehr_fhir_version="STU3")
    [repeat] = created(answer)["unexpected-uds-result"]
    assert_stu3(repeat)
    assert repeat["resourceType"] == "ProcedureRequest"
    assert repeat["code"]["coding"][0]["code"] == "310627008"


def oud_view(
    tmp_path,
    template: dict[str, Any],
    service_requests: tuple[dict[str, Any], ...] = (),
    fhir_server: str | None = None,
    **settings: Any,
):
    """patient-view of a patient with opioid use disorder and no treatment, with the site's order template, from the
    EHR at `fhir_server` (its base names its release) when one is given."""
    oud = {
        "resourceType": "Condition",
        "id": "c-oud",
        "subject": {"reference": "Patient/p1"},
        "clinicalStatus": "active",
        "verificationStatus": "confirmed",
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "F11.20"}]},
        "assertedDate": "2024-01-10",
    }
    prefetch = full_prefetch("patient-view", conditions=bundle(oud), serviceRequests=bundle(*service_requests))
    guideline = {"checks": {"oud-treatment": {"suggestions": [template]}}}
    body = hook_request("patient-view", prefetch=prefetch, **({"fhirServer": fhir_server} if fhir_server else {}))
    client = make_app(tmp_path, guideline=guideline, **settings).test_client()
    response = client.post("/cds-services/patient-view", json=body)
    assert response.status_code == 200
    return response.json


def suboxone_template(**changes: Any) -> dict[str, Any]:
    """A site's R4 order template for buprenorphine/naloxone, as configuration.md shows one."""
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": SUBOXONE_FILM}],
            "text": "buprenorphine 8 mg / naloxone 2 mg sublingual film",
        },
        "dosageInstruction": [
            {
                "text": "8 mg under the tongue once a day",
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "film", "system": "http://unitsofmeasure.org"}}],
            }
        ],
        **changes,
    }


def test_an_stu3_prefetch_makes_a_site_template_stu3(tmp_path):
    """An STU3 server answers the serviceRequests prefetch with ProcedureRequests (STU3 gives them an intent): the
    oud-treatment template, written by the site in R4, is sent as STU3."""
    earlier = {
        "resourceType": "ProcedureRequest",
        "id": "pr-1",
        "status": "completed",
        "intent": "order",
        "code": {"coding": [{"system": SNOMED, "code": "171207006"}]},  # depression screening
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-01-05",
    }
    answer = oud_view(tmp_path, suboxone_template(), (earlier,))
    [order] = created(answer)["oud-treatment"]
    assert_stu3(order)
    assert order["dosageInstruction"][0]["doseQuantity"]["value"] == 1
    assert order["context"] == {"reference": "Encounter/enc1"}


def task_template() -> dict[str, Any]:
    """A site's R4 Task template: a referral to the opioid treatment program, asked of the care team by the doctor."""
    return {
        "resourceType": "Task",
        "status": "requested",
        "intent": "order",
        "code": {"text": "Refer to the opioid treatment program"},
        "requester": {"reference": "Practitioner/dr1"},
    }


def test_a_site_task_template_names_the_patient_as_its_for_in_r4_and_stu3(tmp_path):
    """A Task names its patient in `for` (R4 and STU3 alike), not `subject`. Before, every Task template was given a
    `subject`, which neither release has, and was left out as "an internal fault" whatever the EHR spoke."""
    [r4_task] = created(oud_view(tmp_path, task_template()))["oud-treatment"]
    assert r4_task["for"] == {"reference": "Patient/p1"} and "subject" not in r4_task
    assert r4_task["encounter"] == {"reference": "Encounter/enc1"}
    [stu3_task] = created(oud_view(tmp_path, task_template(), ehr_fhir_version="STU3"))["oud-treatment"]
    assert_stu3(stu3_task)
    assert stu3_task["for"] == {"reference": "Patient/p1"} and "subject" not in stu3_task
    assert stu3_task["requester"] == {"agent": {"reference": "Practitioner/dr1"}}
    assert stu3_task["context"] == {"reference": "Encounter/enc1"}


def device_template() -> dict[str, Any]:
    """A site's R4 DeviceRequest template: an auricular neurostimulation device for opioid withdrawal, asked for by
    the doctor, as a site that bridges patients to buprenorphine induction may offer one."""
    return {
        "resourceType": "DeviceRequest",
        "status": "draft",
        "intent": "proposal",
        "codeCodeableConcept": {"text": "Auricular neurostimulation device for opioid withdrawal"},
        "requester": {"reference": "Practitioner/dr1"},
    }


def test_a_site_template_of_a_type_no_check_writes_is_written_as_stu3_has_it(tmp_path):
    """STU3's DeviceRequest names the visit `context` and its requester as `requester.agent`, as its MedicationRequest
    does, and writes its intent as a CodeableConcept: read from the STU3 model of the type the site names. Before,
    only the six types a suggestion is written as by default were renamed, and a DeviceRequest template was left out
    on an STU3 EHR ("has no place for its R4 elements encounter and requester.reference")."""
    [r4_device] = created(oud_view(tmp_path, device_template()))["oud-treatment"]
    assert r4_device["encounter"] == {"reference": "Encounter/enc1"}
    [device] = created(oud_view(tmp_path, device_template(), ehr_fhir_version="STU3"))["oud-treatment"]
    assert_stu3(device)
    assert device["subject"] == {"reference": "Patient/p1"}
    assert device["context"] == {"reference": "Encounter/enc1"}
    assert device["requester"] == {"agent": {"reference": "Practitioner/dr1"}}
    assert device["intent"] == {"coding": [{"system": "http://hl7.org/fhir/request-intent", "code": "proposal"}]}


def test_a_template_stu3_cannot_say_is_dropped_and_logged(tmp_path, caplog):
    """R4's intent original-order has no STU3 code: the suggestion is left out and logged, never sent as written."""
    with caplog.at_level(logging.ERROR, logger="cds_hooks.cards"):
        answer = oud_view(tmp_path, suboxone_template(intent="original-order"), fhir_server=STU3_BASE)
    assert "oud-treatment" in topics(answer)
    assert "oud-treatment" not in created(answer)
    card = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "oud-treatment")
    # The code is named: the site's template, not a fault of PainPlan's (before: "an internal fault").
    assert (
        '"Order buprenorphine 8 mg / naloxone 2 mg sublingual film" is not offered as a suggestion: the EHR speaks '
        "FHIR STU3, which has no code "
        '"original-order" for its intent, so the EHR could not apply it as written. Do it in the EHR directly.'
    ) in card["detail"]
    dropped = [json.loads(r.getMessage()) for r in caplog.records if "suggestion-dropped" in r.getMessage()]
    assert dropped == [
        {
            "event": "suggestion-dropped",
            "check": "oud-treatment",
            "resourceType": "MedicationRequest",
            "error": "STU3 intent",
        }
    ]


def test_a_dose_with_a_type_has_no_stu3_place_and_is_dropped(tmp_path, caplog):
    """R4's doseAndRate.type (ordered or calculated) has nowhere to go in STU3's Dosage: never sent half-written."""
    typed = {
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/dose-rate-type", "code": "ordered"}]},
        "doseQuantity": {"value": 1, "unit": "film", "system": "http://unitsofmeasure.org"},
    }
    template = suboxone_template(dosageInstruction=[{"text": "8 mg once a day", "doseAndRate": [typed]}])
    with caplog.at_level(logging.ERROR, logger="cds_hooks.cards"):
        answer = oud_view(tmp_path, template, fhir_server=STU3_BASE)
    assert "oud-treatment" not in created(answer)
    assert any('"error": "ValidationError"' in r.getMessage() for r in caplog.records)
    detail = next(c["detail"] for c in answer["cards"] if c["source"]["topic"]["code"] == "oud-treatment")
    assert "which has no place for its R4 element dosageInstruction.doseAndRate, so the EHR could not" in detail


def test_r4_elements_stu3_has_no_place_for_are_each_named_on_the_card(tmp_path, caplog):
    """A site's R4 buprenorphine template saying the course of therapy (continuous) and a first fill of 7 days: STU3's
    MedicationRequest has neither courseOfTherapyType nor dispenseRequest.initialFill. The order is not sent without
    them (an order that says less than the site wrote), and the card names both. Before: "an internal fault"."""
    template = suboxone_template(
        courseOfTherapyType={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
                    "code": "continuous",
                }
            ]
        },
        dispenseRequest={
            "initialFill": {
                "duration": {"value": 7, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}
            },
            "expectedSupplyDuration": {"value": 30, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"},
        },
    )
    with caplog.at_level(logging.ERROR, logger="cds_hooks.cards"):
        answer = oud_view(tmp_path, template, fhir_server=STU3_BASE)
    assert "oud-treatment" not in created(answer)
    detail = next(c["detail"] for c in answer["cards"] if c["source"]["topic"]["code"] == "oud-treatment")
    assert (
        '"Order buprenorphine 8 mg / naloxone 2 mg sublingual film" is not offered as a suggestion: the EHR speaks '
        "FHIR STU3, which has no place for "
        "its R4 elements courseOfTherapyType and dispenseRequest.initialFill, so the EHR could not apply it as "
        "written. Do it in the EHR directly."
    ) in detail
    # The same template goes to an R4 EHR as written.
    [order] = created(oud_view(tmp_path, template))["oud-treatment"]
    assert order["courseOfTherapyType"]["coding"][0]["code"] == "continuous"


def test_the_reason_is_read_from_the_resource_as_it_would_be_sent(tmp_path):
    """A site template with an empty note (left out of what is sent, as every empty value is) and the R4 element
    courseOfTherapyType: the card names the element STU3 lacks, and only it. Before, the reason was worked out again
    from the resource with its empty note, and the card also said STU3 "cannot hold its note.text in the shape R4
    writes": a note never sent."""
    template = suboxone_template(
        note=[{"text": ""}],
        courseOfTherapyType={
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
                    "code": "continuous",
                }
            ]
        },
    )
    answer = oud_view(tmp_path, template, fhir_server=STU3_BASE)
    assert "oud-treatment" not in created(answer)
    detail = next(c["detail"] for c in answer["cards"] if c["source"]["topic"]["code"] == "oud-treatment")
    assert "which has no place for its R4 element courseOfTherapyType, so the EHR could not" in detail
    assert "note" not in detail
    # An R4 EHR is sent the order, its empty note left out.
    [order] = created(oud_view(tmp_path, template))["oud-treatment"]
    assert "note" not in order and order["courseOfTherapyType"]["coding"][0]["code"] == "continuous"


def test_an_r4_protocol_reference_keeps_its_meaning_as_stu3_definition(tmp_path):
    """R4's instantiatesCanonical (the order set the order follows) is STU3's definition: written there, offered."""
    protocol = "https://fhir.hospital.example/PlanDefinition/moud-induction"
    answer = oud_view(tmp_path, suboxone_template(instantiatesCanonical=[protocol]), ehr_fhir_version="STU3")
    [order] = created(answer)["oud-treatment"]
    assert_stu3(order)
    assert order["definition"] == [{"reference": protocol}]


def test_r4_elements_stu3_names_otherwise_are_renamed():
    """A CommunicationRequest's `about` is STU3's `topic`; a Task's reasonCode its `reason`; a Procedure stopped or
    on hold is STU3's aborted or suspended."""
    from cds_hooks.stu3_resources import as_stu3

    about = [{"reference": "MedicationRequest/ox1"}]
    assert as_stu3({"resourceType": "CommunicationRequest", "status": "active", "about": about}) == (
        {"resourceType": "CommunicationRequest", "status": "active", "topic": about},
        None,
    )
    reason = {"text": "buprenorphine induction follow-up"}
    assert as_stu3({"resourceType": "Task", "intent": "order", "reasonCode": reason})[0]["reason"] == reason
    assert as_stu3({"resourceType": "Procedure", "status": "stopped"})[0]["status"] == "aborted"
    assert as_stu3({"resourceType": "Procedure", "status": "on-hold"})[0]["status"] == "suspended"


def test_a_dstu2_ehr_gets_no_create_suggestion_and_the_card_says_why(tmp_path):
    """A DSTU2 EHR (Oracle Health's /dstu2/ base) sends the draft as a MedicationOrder. fhir.resources has no DSTU2
    models, so nothing is written in DSTU2: each suggested order is left out and the card names it, while the
    delete of the draft still names MedicationOrder/<id>."""
    draft = oxycodone_draft()
    draft["resourceType"] = "MedicationOrder"
    draft["dateWritten"] = draft.pop("authoredOn")
    answer = sign(tmp_path, [draft])
    assert created(answer) == {}
    cards = {card["source"]["topic"]["code"]: card for card in answer["cards"]}
    assert "suggestions" not in cards["naloxone"]
    assert (
        '"Prescribe naloxone 4 mg nasal spray" is not offered as a suggestion: the EHR speaks FHIR DSTU2, and '
        "PainPlan writes the resources it suggests in FHIR R4 or STU3 only, so the EHR could not apply it. Do it in "
        "the EHR directly."
    ) in cards["naloxone"]["detail"]
    assert '"Order a urine drug screen" is not offered' in cards["urine-drug-test"]["detail"]


def test_the_dstu2_setting_leaves_the_orders_out_too(tmp_path):
    answer = sign(tmp_path, [oxycodone_draft()], ehr_fhir_version="DSTU2")
    assert created(answer) == {}
    detail = next(c["detail"] for c in answer["cards"] if c["source"]["topic"]["code"] == "naloxone")
    assert "the EHR speaks FHIR DSTU2" in detail


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/STU3", "STU3"),
        ("https://fhir-open.cerner.com/dstu2/ec2458f2-1e24-41c8-b71b-0e701af7583d", "DSTU2"),
        ("https://hapi.example/baseDstu3", "STU3"),
        ("https://hapi.example/baseR5", "R5"),
        ("https://legacy.example/dstu1/fhir", "DSTU1"),
        ("https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4", "R4"),
        ("https://ehr.example/fhir", "R4"),
        (None, "R4"),
    ],
)
def test_the_fhir_server_base_names_the_release(server, expected):
    assert release_of_call("auto", server, None, ()) == expected


def test_the_base_path_wins_over_the_shapes_and_the_setting_over_both():
    r4_draft = {"resourceType": "Bundle", "entry": [{"resource": oxycodone_draft()}]}
    assert release_of_call("auto", "https://ehr.example/api/FHIR/STU3", r4_draft, ()) == "STU3"
    assert release_of_call("R4", "https://ehr.example/api/FHIR/STU3", None, ()) == "R4"
    assert release_of_call("auto", "https://ehr.example/fhir", r4_draft, ()) == "R4"


def test_shapes_that_disagree_prove_nothing():
    """A prefetch with both an R4 ServiceRequest and an STU3 ProcedureRequest (an HIE's copies beside the EHR's)
    names no release: the suggestions stay R4."""
    pool = (
        {"resourceType": "ServiceRequest", "status": "active", "intent": "order"},
        {"resourceType": "ProcedureRequest", "status": "active", "intent": "order"},
    )
    assert release_of_call("auto", None, None, pool) == "R4"
    assert release_of_call("auto", None, None, pool[1:]) == "STU3"
    # A DSTU2 ProcedureRequest has no intent: it says nothing of STU3.
    assert release_of_call("auto", None, None, ({"resourceType": "ProcedureRequest", "status": "active"},)) == "R4"


@pytest.mark.parametrize("value", ["stu3", "STU3", " stu3 "])
def test_the_setting_reads_any_case(value, tmp_path):
    settings = load_settings(env={"PAINPLAN_EHR_FHIR_VERSION": value}, instance_path=str(tmp_path))
    assert settings.cds.ehr_fhir_version == "STU3"


def test_a_bad_setting_stops_the_program_naming_the_key(tmp_path):
    with pytest.raises(
        ConfigError, match=r"PAINPLAN_EHR_FHIR_VERSION must be auto, R4, STU3, DSTU2, R5 or DSTU1, not 'R3'"
    ):
        load_settings(env={"PAINPLAN_EHR_FHIR_VERSION": "R3"}, instance_path=str(tmp_path))


def test_resources_no_reader_can_read_say_nothing_of_the_release():
    """A resourceType written as a list or an object (the fuzzer's), a requester or dosage that is no object: no
    release is read from them, and nothing fails (a TypeError here cost the whole call)."""
    odd = (
        {"resourceType": ["MedicationRequest"]},
        {"resourceType": {"text": "MedicationOrder"}},
        {"resourceType": "MedicationRequest", "requester": "Practitioner/dr1", "dosageInstruction": ["2 tablets"]},
        "MedicationOrder",
        None,
    )
    drafts = {"resourceType": "Bundle", "entry": [{"resource": r} for r in odd]}
    assert release_of_call("auto", None, drafts, odd) == "R4"


@responses.activate
def test_an_r5_ehr_gets_no_create_suggestion_and_the_card_says_why(tmp_path):
    """An R5 server (HAPI's baseR5) names its release in its base: an R4 MedicationRequest is no R5 resource (R5
    writes the medication as a CodeableReference), so nothing is offered as if it could be applied. Before, the R5
    base was read, then ignored, and R4 resources were sent without a word."""
    body = hook_request(drafts=[oxycodone_draft()], fhir=True)
    body["fhirServer"] = "https://hapi.example/baseR5"
    empty = {"resourceType": "Bundle", "type": "searchset", "entry": []}
    responses.add(responses.GET, re.compile(r"https://hapi\.example/baseR5/.*"), json=empty)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    answer = response.json
    assert created(answer) == {}
    detail = next(c["detail"] for c in answer["cards"] if c["source"]["topic"]["code"] == "naloxone")
    assert '"Prescribe naloxone 4 mg nasal spray" is not offered as a suggestion: the EHR speaks FHIR R5' in detail
