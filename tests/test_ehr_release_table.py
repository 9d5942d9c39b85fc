"""One table of the FHIR releases an EHR may speak (cds_hooks.ehr_release.RELEASES), one entry per release: the
strings naming it, how a call shows it (the fhirServer base, the resource types and shapes sent), and whether and how
suggestions are written in it. Tried with the shapes EHRs send: Epic's STU3 API, Oracle Health (Cerner) Millennium's
R4 API, and an R5 server whose base address names no release."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from builders import PATIENT_ID, RXNORM
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft

from cds_hooks.ehr_release import RELEASES, SETTING_VALUES, release_of_call, setting_value
from launch.scopes import OTHER_RELEASE_BASES, R4_BASES
from smart_app.config import load_settings

OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
UNNAMED_BASE = "https://fhir.hospital.example/api"  # a gateway's base: its path names no release
CERNER_R4_BASE = "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d"
EPIC_STU3_BASE = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/STU3"


def epic_stu3_order() -> dict[str, Any]:
    """An active oxycodone order as Epic's STU3 MedicationRequest.Search answers it: one category object under STU3's
    code system, the prescriber as requester.agent, the visit as context, the dose on the dosage itself."""
    return {
        "resourceType": "MedicationRequest",
        "id": "eXqZ0Qk5Hs6yGEXSuMMN7Ew3",
        "status": "active",
        "intent": "order",
        "category": {
            "coding": [{"system": "http://hl7.org/fhir/medication-request-category", "code": "outpatient"}],
            "text": "Outpatient",
        },
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_5}],
            "text": "oxyCODONE (ROXICODONE) 5 MG immediate release tablet",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Smart, Nancy"},
        "context": {"reference": "Encounter/eGmO0h.1.UQQrExl4bfM7OQ3", "display": "Office Visit"},
        "authoredOn": "2026-06-01T14:02:00Z",
        "requester": {"agent": {"reference": "Practitioner/eM5CWtq15N0WJeuCet5bJlQ3", "display": "Physician, MD"}},
        "dosageInstruction": [
            {
                "text": "Take 1 tablet by mouth every 6 hours as needed for pain.",
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "asNeededBoolean": True,
                "doseQuantity": {"value": 1, "unit": "tablet", "system": "http://unitsofmeasure.org", "code": "{tbl}"},
            }
        ],
    }


def cerner_r4_order() -> dict[str, Any]:
    """The same order as Oracle Health Millennium's R4 API answers it: category a list, reportedBoolean, the
    prescriber a plain Reference, the dose under doseAndRate."""
    return {
        "resourceType": "MedicationRequest",
        "id": "313757847",
        "meta": {"versionId": "1", "lastUpdated": "2026-06-01T14:02:11.000Z"},
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                    }
                ]
            }
        ],
        "reportedBoolean": False,
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_5}],
            "text": "oxyCODONE 5 mg oral tablet",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "encounter": {"reference": "Encounter/97953477"},
        "authoredOn": "2026-06-01T14:02:00.000Z",
        "requester": {"reference": "Practitioner/593923"},
        "dosageInstruction": [
            {
                "text": "1 tab(s) Oral every 6 hr PRN pain",
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "asNeededBoolean": True,
                "doseAndRate": [
                    {"doseQuantity": {"value": 1, "unit": "tab(s)", "system": "http://unitsofmeasure.org"}}
                ],
            }
        ],
    }


def r5(resource: dict[str, Any]) -> dict[str, Any]:
    """An R4 medication resource as an R5 server writes it: the medication a CodeableReference (`medication.concept`),
    everything else as R4 has it (R5 keeps doseAndRate, encounter and the plain requester)."""
    written = copy.deepcopy(resource)
    written["medication"] = {"concept": written.pop("medicationCodeableConcept")}
    return written


def created(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        action["resource"]
        for card in answer["cards"]
        for suggestion in card.get("suggestions", [])
        for action in suggestion["actions"]
        if action["type"] == "create"
    ]


def card(answer: dict[str, Any], topic: str) -> dict[str, Any]:
    return next(c for c in answer["cards"] if c["source"]["topic"]["code"] == topic)


def sign(tmp_path, drafts, prefetch=None, server: str | None = None, **settings) -> dict[str, Any]:
    body = hook_request(drafts=drafts, prefetch=prefetch)
    if server:
        body["fhirServer"] = server  # read from the prefetch only: the offline test sends no token
    response = make_app(tmp_path, **settings).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


# The table itself.


def test_the_table_has_one_entry_per_release_each_under_its_own_name():
    assert list(RELEASES) == ["R4", "STU3", "DSTU2", "R5", "DSTU1"]
    assert all(name == release.name for name, release in RELEASES.items())
    numbers = [number for release in RELEASES.values() for number in release.numbers]
    assert len(numbers) == len(set(numbers))


def test_each_base_segment_the_launch_knows_belongs_to_exactly_one_entry():
    """The base segments are the launch's (launch.scopes): one table of them, which the hooks read a base by."""
    named = {**dict.fromkeys(R4_BASES, "R4"), **OTHER_RELEASE_BASES}
    for segment, name in named.items():
        assert name in RELEASES
        assert release_of_call("auto", f"https://ehr.example/{segment}/fhir", None, ()) == name


def test_only_r4_and_stu3_are_written_and_the_setting_takes_every_release():
    assert [r.name for r in RELEASES.values() if r.writes] == ["R4", "STU3"]
    assert SETTING_VALUES == ("auto", "R4", "STU3", "DSTU2", "R5", "DSTU1")
    assert setting_value("r5") == "R5"


def test_an_r5_setting_is_read(tmp_path):
    settings = load_settings(env={"PAINPLAN_EHR_FHIR_VERSION": "r5"}, instance_path=str(tmp_path))
    assert settings.cds.ehr_fhir_version == "R5"


# Recognised by the shapes sent.


@pytest.mark.parametrize(
    ("server", "drafts", "pool", "expected"),
    [
        (EPIC_STU3_BASE, [], [], "STU3"),
        (CERNER_R4_BASE, [], [], "R4"),
        (UNNAMED_BASE, [epic_stu3_order()], [], "STU3"),
        (UNNAMED_BASE, [cerner_r4_order()], [], "R4"),
        (UNNAMED_BASE, [r5(cerner_r4_order())], [], "R5"),
        (UNNAMED_BASE, [], [r5(cerner_r4_order())], "R5"),
        # R4 and R5 both have ServiceRequest: beside an R5 order it says nothing against R5.
        (UNNAMED_BASE, [], [{"resourceType": "ServiceRequest", "status": "active", "intent": "order"}], "R4"),
        (
            UNNAMED_BASE,
            [],
            [{"resourceType": "ServiceRequest", "status": "active", "intent": "order"}, r5(cerner_r4_order())],
            "R5",
        ),
        (UNNAMED_BASE, [], [{"resourceType": "MedicationUsage", "status": "recorded"}], "R5"),
        # An HIE's R5 copy beside the EHR's R4 order: shapes that disagree prove nothing.
        (UNNAMED_BASE, [], [cerner_r4_order(), r5(cerner_r4_order())], "R4"),
        # The order being signed speaks first: an R4 draft over an R5 chart.
        (UNNAMED_BASE, [cerner_r4_order()], [r5(cerner_r4_order())], "R4"),
    ],
    ids=[
        "epic-stu3-base",
        "cerner-r4-base",
        "epic-stu3-draft",
        "cerner-r4-draft",
        "r5-draft",
        "r5-chart",
        "service-request-alone",
        "service-request-and-r5",
        "medication-usage",
        "r4-and-r5-disagree",
        "r4-draft-first",
    ],
)
def test_the_release_is_read_from_the_base_then_the_shapes(server, drafts, pool, expected):
    drafts_bundle = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]} if drafts else None
    assert release_of_call("auto", server, drafts_bundle, pool) == expected


def test_an_r5_medication_dispense_or_statement_tells_r5_too():
    dispense = {
        "resourceType": "MedicationDispense",
        "status": "completed",
        "medication": {"reference": {"reference": "Medication/oxy5"}},
    }
    statement = {"resourceType": "MedicationStatement", "status": "recorded", "medication": {"concept": {"text": "x"}}}
    assert release_of_call("auto", UNNAMED_BASE, None, [dispense]) == "R5"
    assert release_of_call("auto", UNNAMED_BASE, None, [statement]) == "R5"


# Through the service: what each release's EHR is sent.


def test_an_r5_server_whose_base_names_no_release_gets_no_create_suggestion_and_the_card_says_why(tmp_path):
    """An R5 server behind a gateway (its base names no release) sends the draft with `medication.concept`: an R4
    MedicationRequest is no R5 resource, so no order is offered to create; each is named, and the checks still run
    (90 MME/day: the naloxone card is there). Before, the R5 server got R4 resources without a word."""
    draft = r5(oxycodone_draft())
    answer = sign(tmp_path, [draft], server=UNNAMED_BASE)
    assert created(answer) == []
    detail = card(answer, "naloxone")["detail"]
    assert (
        '"Prescribe naloxone 4 mg nasal spray" is not offered as a suggestion: the EHR speaks FHIR R5, and PainPlan '
        "writes the resources it suggests in FHIR R4 or STU3 only, so the EHR could not apply it."
    ) in detail
    assert '"Order a urine drug screen" is not offered' in card(answer, "urine-drug-test")["detail"]


def test_an_r5_chart_alone_tells_r5_on_patient_view(tmp_path):
    """patient-view has no draft: the active orders the R5 server prefetched (medication.concept) say R5."""
    orders = [r5(cerner_r4_order()), {**r5(cerner_r4_order()), "id": "313757848"}]
    for order in orders:
        order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 4  # 4 tablets q6h: 120 MME/day
    prefetch = full_prefetch("patient-view", medsActive=bundle(*orders))
    body = hook_request("patient-view", prefetch=prefetch)
    body["fhirServer"] = UNNAMED_BASE
    answer = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).json
    assert created(answer) == []
    assert "the EHR speaks FHIR R5" in card(answer, "naloxone")["detail"]


def test_the_same_chart_from_cerner_r4_gets_r4_orders(tmp_path):
    orders = [cerner_r4_order(), {**cerner_r4_order(), "id": "313757848"}]
    for order in orders:
        order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 4
    prefetch = full_prefetch("patient-view", medsActive=bundle(*orders))
    body = hook_request("patient-view", prefetch=prefetch)
    body["fhirServer"] = UNNAMED_BASE
    answer = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).json
    kinds = {resource["resourceType"] for resource in created(answer)}
    assert "MedicationRequest" in kinds
    naloxone = next(r for r in created(answer) if r["resourceType"] == "MedicationRequest")
    assert "doseAndRate" in json.dumps(naloxone)


def test_an_epic_stu3_chart_gets_stu3_orders(tmp_path):
    """The Epic STU3 order in the chart, an unnamed base, a draft with no telling shape: STU3 orders are written."""
    draft = oxycodone_draft()
    draft["dosageInstruction"] = [{"text": "2 tablets every 4 hours"}]  # no dose element: the draft says nothing
    prefetch = full_prefetch("order-sign", medsActive=bundle(epic_stu3_order()))
    answer = sign(tmp_path, [draft], prefetch, server=UNNAMED_BASE)
    kinds = {resource["resourceType"] for resource in created(answer)}
    assert "ProcedureRequest" in kinds and "ServiceRequest" not in kinds


def test_the_version_numbers_agree_with_those_the_plan_page_reads_from_a_capability_statement():
    """The write-back reads a server's fhirVersion by a map made from this table: each number there is one entry's
    here, naming the same release (R4B is R4's entry)."""
    from smart_app.write.fhir_version import RELEASES as STATED

    by_number = {number: release.name for release in RELEASES.values() for number in release.numbers}
    assert by_number == {number: "R4" if name == "R4B" else name for number, name in STATED.items()}
