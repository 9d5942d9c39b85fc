"""A site's own suggestion templates (checks.oud-treatment.suggestions) of any type PainPlan writes: each addressed
to the patient, the visit and the time in the elements its type has (guideline.cards.ADDRESSING), and a type
PainPlan cannot write refused when the settings load."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest
from builders import ICD10, condition
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft
from fhir.resources.R4B import get_fhir_model_class as r4_model
from fhir.resources.STU3 import get_fhir_model_class as stu3_model

from cds_hooks.stu3_resources import as_stu3
from guideline.cards import ADDRESSING
from guideline.config import ConfigError, GuidelineConfig

LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"  # an Epic site's own code list


def communication_template() -> dict[str, Any]:
    """A site's R4 Communication: the clinic's leaflet on medication for opioid use disorder, handed to the patient."""
    return {
        "resourceType": "Communication",
        "status": "completed",
        "category": [{"text": "Patient education"}],
        "payload": [{"contentString": "Medication for opioid use disorder: what to expect (clinic leaflet)"}],
    }


def observation_template() -> dict[str, Any]:
    """A site's R4 Observation: "treatment for opioid use disorder discussed", a flowsheet row of its own."""
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOCAL, "code": "4021"}], "text": "MOUD discussed with patient"},
        "valueCodeableConcept": {"text": "Yes"},
    }


def oud_sign(tmp_path, templates: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
    """order-sign of an oxycodone draft for a patient with active opioid use disorder and no treatment on record."""
    oud = condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated", recorded="2024-01-10")
    prefetch = full_prefetch("order-sign", conditions=bundle(oud))
    guideline = {"checks": {"oud-treatment": {"suggestions": templates}}}
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)
    response = (
        make_app(tmp_path, guideline=guideline, **settings).test_client().post("/cds-services/order-sign", json=body)
    )
    assert response.status_code == 200
    [card] = [c for c in response.json["cards"] if c["source"]["topic"]["code"] == "oud-treatment"]
    return card


def created(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["resource"] for s in card.get("suggestions", []) for a in s["actions"] if a["type"] == "create"]


def test_a_site_communication_and_observation_template_are_offered_on_order_sign(tmp_path):
    """R4's Communication is dated by `sent` and its Observation by `issued`: neither has `authoredOn`. Before, each
    was given one, failed validation, and the card called it "an internal fault": the site's action never offered."""
    card = oud_sign(tmp_path, [communication_template(), observation_template()])
    assert "not offered" not in card["detail"]
    communication, observation = created(card)
    for resource in (communication, observation):
        r4_model(resource["resourceType"]).model_validate(resource)
        assert resource["subject"] == {"reference": "Patient/p1"}
        assert resource["encounter"] == {"reference": "Encounter/enc1"}
        assert "authoredOn" not in resource
    assert communication["sent"].startswith("2026-06-15T")
    assert observation["issued"].startswith("2026-06-15T")


def test_on_an_stu3_ehr_they_are_offered_with_the_visit_as_context(tmp_path):
    card = oud_sign(tmp_path, [communication_template(), observation_template()], ehr_fhir_version="STU3")
    assert "not offered" not in card["detail"]
    for resource in created(card):
        stu3_model(resource["resourceType"]).model_validate(resource)
        assert resource["context"] == {"reference": "Encounter/enc1"} and "encounter" not in resource


def test_a_template_that_names_its_own_time_keeps_it(tmp_path):
    template = {**communication_template(), "sent": "2026-06-15T09:30:00-04:00"}
    [communication] = created(oud_sign(tmp_path, [template]))
    assert communication["sent"] == "2026-06-15T09:30:00-04:00"


@pytest.mark.parametrize(
    ("template", "named"),
    [
        pytest.param({"resourceType": "Appointment", "status": "proposed"}, "'Appointment'", id="a type not written"),
        pytest.param({"resourceType": "MedicationOrder"}, "'MedicationOrder'", id="DSTU2's order"),
        pytest.param({"status": "draft"}, "no resourceType", id="no type"),
        pytest.param("MedicationRequest", "must be a table", id="not a table"),
    ],
)
def test_a_template_of_a_type_painplan_cannot_write_stops_the_program_naming_the_key(tmp_path, template, named):
    guideline = {"checks": {"oud-treatment": {"suggestions": [communication_template(), template]}}}
    with pytest.raises(ConfigError, match=r"checks\.oud-treatment\.suggestions entry 2") as raised:
        make_app(tmp_path, guideline=guideline)
    assert named in str(raised.value)
    assert "Communication" in str(raised.value)  # the types it can write are named


def test_suggestions_must_be_a_list() -> None:
    with pytest.raises(ConfigError, match=r"checks\.oud-treatment\.suggestions"):
        GuidelineConfig.from_mapping({"checks": {"oud-treatment": {"suggestions": communication_template()}}})


def _element(model: Any, name: str) -> Any:
    """A model's element by its JSON name (a Task's `for` is held as `for_fhir`)."""
    fields = model.model_fields
    return fields.get(name) or next((f for f in fields.values() if f.alias == name), None)


def _references(model: Any, name: str) -> tuple[str, ...]:
    extra = _element(model, name).json_schema_extra
    return tuple(extra.get("enum_reference_types", ())) if isinstance(extra, dict) else ()


@pytest.mark.parametrize("kind", sorted(ADDRESSING))
def test_each_type_names_the_patient_visit_and_time_where_its_r4_model_has_them(kind: str) -> None:
    """The table guideline.cards keeps (guideline cannot import the models) checked against R4's models: the patient
    in a Reference that may name a Patient (a Task's `for` names any resource), the visit in one that may name an
    Encounter, the time in a dateTime or instant."""
    addressing = ADDRESSING[kind]
    model = r4_model(kind)
    assert {"Patient", "Resource"} & set(_references(model, addressing.patient))
    assert "Encounter" in _references(model, addressing.visit)
    if addressing.written is not None:
        assert "datetime.datetime" in str(_element(model, addressing.written).annotation)
    # A type left undated has no time of writing in STU3 (CarePlan; R4's `created`) or none at all (Procedure).
    assert addressing.written is not None or kind in ("CarePlan", "Procedure")


@pytest.mark.parametrize("kind", sorted(ADDRESSING))
def test_each_type_as_stu3_writes_it_keeps_the_patient_visit_and_time_in_elements_stu3_has(kind: str) -> None:
    addressing = ADDRESSING[kind]
    r4 = {
        "resourceType": kind,
        addressing.patient: {"reference": "Patient/p1"},
        addressing.visit: {"reference": "Encounter/e1"},
    }
    if addressing.written is not None:
        r4[addressing.written] = "2026-06-15T12:00:00+00:00"
    written, _ = as_stu3(copy.deepcopy(r4))
    model = stu3_model(written["resourceType"])
    for name in written:
        if name != "resourceType":
            assert _element(model, name) is not None, name
    assert len(written) == len(r4)


@pytest.mark.parametrize(
    ("template", "named"),
    [
        pytest.param(
            {**communication_template(), "authoredOn": "2026-06-01"},
            "authoredOn (no such element)",
            id="an element its type lacks",
        ),
        pytest.param(
            {
                "resourceType": "MedicationRequest",
                "status": "draft",
                "medicationCodeableConcept": {"text": "buprenorphine 8 mg / naloxone 2 mg sublingual film"},
            },
            "intent (required, missing)",
            id="a required element missing",
        ),
    ],
)
def test_a_template_no_r4_model_takes_stops_the_program_naming_the_key_and_element(tmp_path, template, named):
    """A template R4's model refuses, addressed as every call addresses it, is never offered: refused when the settings
    load, not named an internal fault on every card."""
    guideline = {"checks": {"oud-treatment": {"suggestions": [observation_template(), template]}}}
    with pytest.raises(ConfigError, match=r"checks\.oud-treatment\.suggestions entry 2") as raised:
        make_app(tmp_path, guideline=guideline)
    assert named in str(raised.value)


def course_of_therapy_template() -> dict[str, Any]:
    """A site's R4 buprenorphine order saying its course of therapy (continuous): STU3's MedicationRequest has no
    courseOfTherapyType, so an STU3 EHR is never offered it."""
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": {"text": "buprenorphine 8 mg / naloxone 2 mg sublingual film"},
        "courseOfTherapyType": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
                    "code": "continuous",
                }
            ]
        },
    }


@pytest.mark.parametrize(
    ("template", "named"),
    [
        pytest.param(course_of_therapy_template(), "STU3 refuses courseOfTherapyType (no such element)", id="element"),
        pytest.param(
            {
                "resourceType": "MedicationRequest",
                "status": "draft",
                "intent": "original-order",
                "medicationCodeableConcept": {"text": "buprenorphine 8 mg / naloxone 2 mg sublingual film"},
            },
            'STU3 refuses intent (no code "original-order")',
            id="code",
        ),
    ],
)
def test_on_an_stu3_ehr_by_setting_a_template_stu3_refuses_stops_the_program(tmp_path, template, named):
    """The site says its EHR speaks STU3: a template STU3's model refuses, as PainPlan writes it for STU3, would be left
    out of every card, so it stops the program naming the key and element, as R4's refusal does. Before, the program
    started and every card said the suggestion was not offered."""
    guideline = {"checks": {"oud-treatment": {"suggestions": [observation_template(), template]}}}
    with pytest.raises(
        ConfigError, match=r"checks\.oud-treatment\.suggestions entry 2 is no MedicationRequest"
    ) as raised:
        make_app(tmp_path, guideline=guideline, ehr_fhir_version="stu3")
    assert named in str(raised.value)
    assert "PAINPLAN_EHR_FHIR_VERSION" in str(raised.value)


def test_with_the_release_read_per_call_a_template_stu3_refuses_starts_with_a_warning(tmp_path, caplog):
    """The release is read call by call: an R4 EHR is offered the template, so the program starts, and a warning names
    the entry and what STU3 refuses, for the integrator to see before the first STU3 call."""
    guideline = {"checks": {"oud-treatment": {"suggestions": [observation_template(), course_of_therapy_template()]}}}
    with caplog.at_level(logging.WARNING):
        make_app(tmp_path, guideline=guideline)
    [warning] = [r for r in caplog.records if "checks.oud-treatment.suggestions" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert "entry 2" in message and "entry 1" not in message
    assert "STU3 refuses courseOfTherapyType (no such element)" in message


def test_a_site_that_says_r4_is_not_warned_of_stu3(tmp_path, caplog):
    guideline = {"checks": {"oud-treatment": {"suggestions": [course_of_therapy_template()]}}}
    with caplog.at_level(logging.WARNING):
        make_app(tmp_path, guideline=guideline, ehr_fhir_version="R4")
    assert not [r for r in caplog.records if "checks.oud-treatment.suggestions" in r.getMessage()]


def test_templates_stu3_takes_start_with_no_warning(tmp_path, caplog):
    guideline = {"checks": {"oud-treatment": {"suggestions": [communication_template(), observation_template()]}}}
    with caplog.at_level(logging.WARNING):
        make_app(tmp_path, guideline=guideline)
        make_app(tmp_path, guideline=guideline, ehr_fhir_version="STU3")
    assert not [r for r in caplog.records if "checks.oud-treatment.suggestions" in r.getMessage()]
