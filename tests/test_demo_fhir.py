"""The demo FHIR facade: reads, patient searches with paging, metadata, errors, and demo-mode only."""

from __future__ import annotations

from typing import Any

import pytest
from demo_support import BASE, TODAY, demo_app
from fhir.resources.R4B.bundle import Bundle

from cds_hooks.services import templates
from guideline.config import GuidelineConfig
from guideline.searches import render
from smart_app import create_app
from smart_app.demo_data import load_demo_patients
from smart_app.demo_fhir import DemoIndex, search_bundle
from smart_app.plan_view import plan_queries


@pytest.fixture
def client(tmp_path):
    return demo_app(tmp_path).test_client()


def test_read_returns_the_shifted_resource(client):
    response = client.get("/demo/fhir/MedicationRequest/marcus-webb-oxycodone")
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    assert body["status"] == "active"
    assert body["authoredOn"].startswith("2026-02-23"), "written 20 days before the anchor, so 20 days before today"


def test_read_accepts_long_epic_ids(client):
    medications = client.get("/demo/fhir/Medication?patient=gloria-simmons").get_json()
    long_id = next(e["resource"]["id"] for e in medications["entry"] if len(e["resource"]["id"]) > 64)
    response = client.get(f"/demo/fhir/Medication/{long_id}")
    assert response.status_code == 200
    assert response.get_json()["code"]["coding"][1]["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"


def test_unknown_resource_is_a_404_operation_outcome(client):
    response = client.get("/demo/fhir/Patient/nobody")
    assert response.status_code == 404
    assert response.get_json()["resourceType"] == "OperationOutcome"


def test_search_is_scoped_to_the_patient_and_filters_by_clinical_status(client):
    body = client.get("/demo/fhir/Condition?patient=Patient/harold-jensen&clinical-status=active").get_json()
    Bundle.model_validate(body)
    assert body["type"] == "searchset"
    assert body["total"] == 3
    assert all(e["resource"]["subject"]["reference"] == "Patient/harold-jensen" for e in body["entry"])
    assert all(e["fullUrl"].startswith(BASE + "/demo/fhir/Condition/") for e in body["entry"])


def test_paging_follows_next_links_to_every_resource(client):
    first = client.get("/demo/fhir/MedicationRequest?patient=walter-brooks&_count=5").get_json()
    seen, page, pages = [], first, 0
    while True:
        pages += 1
        seen += [e["resource"]["id"] for e in page["entry"]]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        assert following[0].startswith(BASE + "/demo/fhir/MedicationRequest?")
        page = client.get(following[0].removeprefix(BASE)).get_json()
    assert len(seen) == first["total"] == len(set(seen))
    assert pages == -(-first["total"] // 5)


def test_post_search_and_patient_listing(client):
    body = client.post("/demo/fhir/Observation/_search", data={"patient": "tanya-greene"}).get_json()
    assert body["total"] == 5  # four urine drug tests and one PDMP review
    patients = client.get("/demo/fhir/Patient").get_json()
    assert patients["total"] >= 10
    one = client.get("/demo/fhir/Patient?_id=kevin-obrien").get_json()
    assert [e["resource"]["id"] for e in one["entry"]] == ["kevin-obrien"]


def test_search_without_a_patient_is_refused(client):
    response = client.get("/demo/fhir/Observation?code=19295-5")
    assert response.status_code == 400
    assert response.get_json()["issue"][0]["code"] == "required"


def test_metadata_is_an_r4_capability_statement(client):
    body = client.get("/demo/fhir/metadata").get_json()
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    types = {r["type"] for r in body["rest"][0]["resource"]}
    assert {"MedicationRequest", "Observation", "Condition", "Medication"} <= types


def test_facade_and_simulator_exist_only_in_demo_mode(tmp_path):
    app = create_app({"auth": "off", "today": TODAY, "instance_path": tmp_path})
    client = app.test_client()
    assert client.get("/demo/fhir/metadata").status_code == 404
    assert client.get("/demo").status_code == 404


CLAIMS_ON = GuidelineConfig.from_mapping({"prefetch": {"payer_claims": True}})


def claims_searches(patient_id: str) -> list[str]:
    """The payer claims searches a demo with claims turned on sends: the plan page's, and the hooks' FHIR fallback,
    portable and dated."""
    page = plan_queries(patient_id, TODAY, CLAIMS_ON)["claims"]
    dated = GuidelineConfig.from_mapping({"prefetch": {"payer_claims": True, "dated": True}})
    hooks = [
        render(templates("patient-view", config)["payerClaims"], {"patientId": patient_id}, TODAY)
        for config in (CLAIMS_ON, dated)
    ]
    return [page, *(query for query in hooks if query is not None)]


@pytest.mark.parametrize("patient_id", sorted(load_demo_patients(TODAY)))
def test_the_payer_claims_searches_are_answered_as_the_patients_have_none(client, patient_id):
    # The demo patients' records come from the EHR alone: a demo with payer claims turned on named the search as
    # failed on every plan page (HTTP 400: service-date is no parameter the facade took).
    searches = claims_searches(patient_id)
    assert len(searches) == 3 and any("service-date=ge" in query for query in searches)
    for query in searches:
        response = client.get(f"/demo/fhir/{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        Bundle.model_validate(body)
        assert body["type"] == "searchset" and body["total"] == 0


def claim(ident: str, **dates: Any) -> dict[str, Any]:
    """A CARIN Blue Button claim of one patient: a billing period, or a line's service date or period."""
    resource: dict[str, Any] = {"resourceType": "ExplanationOfBenefit", "id": ident, "status": "active"}
    resource["patient"] = {"reference": "Patient/p1"}
    if "billable" in dates:
        resource["billablePeriod"] = dates["billable"]
    if "line" in dates:
        resource["item"] = [{"sequence": 1, "productOrService": {"text": "Pharmacy fill"}, **dates["line"]}]
    return resource


def test_a_claim_is_found_by_its_billing_period_or_a_lines_service_date():
    claims = (
        claim("institutional", billable={"start": "2026-01-05", "end": "2026-01-09"}),
        claim("pharmacy", line={"servicedDate": "2025-11-20"}),
        claim("professional", line={"servicedPeriod": {"start": "2024-12-01", "end": "2024-12-02"}}),
        claim("undated"),
    )
    index = DemoIndex({}, {}, {("p1", "ExplanationOfBenefit"): claims})

    def found(since: str) -> list[str]:
        params = [("patient", "p1"), ("service-date", f"ge{since}"), ("_count", "100")]
        bundle = search_bundle(index, "ExplanationOfBenefit", params, BASE)
        assert bundle is not None
        return [e["resource"]["id"] for e in bundle["entry"]]

    assert found("2025-02-15") == ["institutional", "pharmacy"]
    assert found("2026-01-09") == ["institutional"]
    assert found("2024-01-01") == ["institutional", "pharmacy", "professional"]
