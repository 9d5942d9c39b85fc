"""The demo FHIR server takes the plan page's writes: R4-checked creates and updates that reads then return."""

from __future__ import annotations

from dataclasses import replace

import pytest
from demo_support import BASE, demo_app

GOAL = {
    "resourceType": "Goal",
    "lifecycleStatus": "active",
    "description": {"text": "Walk to the mailbox and back"},
    "subject": {"reference": "Patient/walter-brooks"},
}


@pytest.fixture
def client(tmp_path):
    return demo_app(tmp_path).test_client()


def test_create_then_read_and_search_return_it(client):
    created = client.post("/demo/fhir/Goal", json=GOAL)
    assert created.status_code == 201
    ident = created.get_json()["id"]
    assert created.headers["Location"] == f"{BASE}/demo/fhir/Goal/{ident}/_history/1"
    assert client.get(f"/demo/fhir/Goal/{ident}").get_json()["description"]["text"] == "Walk to the mailbox and back"
    found = client.get("/demo/fhir/Goal?patient=walter-brooks").get_json()
    assert [e["resource"]["id"] for e in found["entry"]] == [ident]
    assert client.get("/demo/fhir/Goal?patient=marcus-webb").get_json().get("entry", []) == []


def test_update_replaces_and_counts_versions(client):
    ident = client.post("/demo/fhir/Goal", json=GOAL).get_json()["id"]
    changed = {**GOAL, "id": ident, "lifecycleStatus": "completed"}
    updated = client.put(f"/demo/fhir/Goal/{ident}", json=changed)
    assert updated.status_code == 200 and updated.get_json()["meta"]["versionId"] == "2"
    found = client.get("/demo/fhir/Goal?patient=walter-brooks").get_json()["entry"]
    assert [e["resource"]["lifecycleStatus"] for e in found] == ["completed"]


def test_an_update_with_a_stale_if_match_is_refused_as_a_fhir_server_does(client):
    ident = client.post("/demo/fhir/Goal", json=GOAL).get_json()["id"]
    changed = {**GOAL, "id": ident, "lifecycleStatus": "on-hold"}
    assert client.put(f"/demo/fhir/Goal/{ident}", json=changed, headers={"If-Match": 'W/"1"'}).status_code == 200
    stale = client.put(f"/demo/fhir/Goal/{ident}", json=changed, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.get_json()["resourceType"] == "OperationOutcome"
    assert client.get(f"/demo/fhir/Goal/{ident}").get_json()["meta"]["versionId"] == "2"


def test_an_update_of_a_bundled_plan_replaces_it_in_searches(client):
    plans = client.get("/demo/fhir/CarePlan?patient=walter-brooks").get_json()["entry"]
    original = plans[0]["resource"]
    changed = {**original, "status": "completed"}
    assert client.put(f"/demo/fhir/CarePlan/{original['id']}", json=changed).status_code == 200
    after = client.get("/demo/fhir/CarePlan?patient=walter-brooks").get_json()["entry"]
    assert [e["resource"]["status"] for e in after if e["resource"]["id"] == original["id"]] == ["completed"]
    assert len(after) == len(plans)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("post", "/demo/fhir/Goal", {**GOAL, "lifecycleStatus": 7}, 422),  # not valid R4
        ("post", "/demo/fhir/Goal", {**GOAL, "subject": {"reference": "Patient/nobody"}}, 422),
        ("post", "/demo/fhir/Goal", {"resourceType": "Observation"}, 400),
        ("post", "/demo/fhir/MedicationRequest", {"resourceType": "MedicationRequest"}, 405),
        ("put", "/demo/fhir/Observation/x", {"resourceType": "Observation"}, 405),
        ("put", "/demo/fhir/Goal/other", {**GOAL, "id": "g1"}, 400),
        (
            "post",
            "/demo/fhir/Consent",
            {
                "resourceType": "Consent",
                "status": "active",
                "scope": {"text": "treatment"},
                "category": [{"text": "Opioid treatment agreement"}],
                "patient": {"reference": "Patient/walter-brooks"},
            },
            422,
        ),  # no policy or policyRule (ppc-1)
    ],
)
def test_bad_writes_get_an_operation_outcome(client, method, path, body, status):
    answer = getattr(client, method)(path, json=body)
    assert answer.status_code == status
    assert answer.get_json()["resourceType"] == "OperationOutcome"


def test_the_demo_launch_grants_the_write_scopes(client):
    from launch.scopes import granted_writes
    from smart_app.demo import demo_scope

    settings = client.application.config["PAINPLAN"]
    assert set(granted_writes(demo_scope(settings))) == {
        "Observation",
        "Goal",
        "Consent",
        "CarePlan",
        "DocumentReference",
    }
    assert granted_writes(demo_scope(replace(settings, write_back=False))) == {}
