"""The demo FHIR server honours PainPlan's search parameters (status, category, code, dates with prefixes, _id,
_sort, _count and paging), refuses malformed ones with a 400 OperationOutcome, and serves valid R4 resources."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from demo_support import BASE, TODAY, demo_app
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from smart_app.demo_data import load_demo_patients

LOINC = "http://loinc.org"


@pytest.fixture
def client(tmp_path):
    return demo_app(tmp_path).test_client()


def resources(patient_id: str, kind: str) -> list[dict[str, Any]]:
    return load_demo_patients(TODAY)[patient_id].resources(kind)


def ids(client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    Bundle.model_validate(body)
    return [e["resource"]["id"] for e in body["entry"]]


def test_status_filters_and_accepts_a_list(client) -> None:
    orders = resources("walter-brooks", "MedicationRequest")
    active = {o["id"] for o in orders if o["status"] == "active"}
    assert active and len(active) < len(orders)
    assert set(ids(client, "/demo/fhir/MedicationRequest?patient=walter-brooks&status=active")) == active
    both = {o["id"] for o in orders if o["status"] in ("active", "completed")}
    assert set(ids(client, "/demo/fhir/MedicationRequest?patient=walter-brooks&status=active,completed")) == both


def test_category_with_and_without_its_system(client) -> None:
    labs = ids(client, "/demo/fhir/Observation?patient=tanya-greene&category=laboratory")
    coded = ids(
        client,
        "/demo/fhir/Observation?patient=tanya-greene&category="
        "http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
    )
    assert labs == coded and len(labs) == 4  # her four urine drug tests; the PDMP review is not a lab
    assert ids(client, "/demo/fhir/Observation?patient=tanya-greene&category=http://other.example|laboratory") == []


def test_code_as_system_bar_code_bare_code_and_a_list(client) -> None:
    peg = {o["id"] for o in resources("gloria-simmons", "Observation") if o["code"]["coding"][0]["code"] == "91147-9"}
    phq = {o["id"] for o in resources("gloria-simmons", "Observation") if o["code"]["coding"][0]["code"] == "44261-6"}
    assert peg and phq
    url = "/demo/fhir/Observation?patient=gloria-simmons&code="
    assert set(ids(client, url + f"{LOINC}|91147-9")) == peg
    assert set(ids(client, url + "91147-9")) == peg
    assert set(ids(client, url + f"{LOINC}|91147-9,{LOINC}|44261-6")) == peg | phq
    assert ids(client, url + "http://snomed.info/sct|91147-9") == []


def test_medication_code_follows_the_medication_reference(client) -> None:
    orders = resources("gloria-simmons", "MedicationRequest")
    by_reference = [o for o in orders if "medicationReference" in o]
    assert by_reference
    medication_id = by_reference[0]["medicationReference"]["reference"].rsplit("/", 1)[-1]
    medication = next(m for m in resources("gloria-simmons", "Medication") if m["id"] == medication_id)
    rxnorm = next(c for c in medication["code"]["coding"] if c["system"].endswith("rxnorm"))
    wanted = {o["id"] for o in by_reference if o["medicationReference"]["reference"].endswith("/" + medication_id)}
    found = ids(client, f"/demo/fhir/MedicationRequest?patient=gloria-simmons&code={rxnorm['system']}|{rxnorm['code']}")
    assert wanted <= set(found)


@pytest.mark.parametrize(
    ("prefix", "keep"),
    [
        ("ge", lambda d, x: d >= x),
        ("gt", lambda d, x: d > x),
        ("le", lambda d, x: d <= x),
        ("lt", lambda d, x: d < x),
        ("", lambda d, x: d == x),
    ],
)
def test_date_prefixes_on_authoredon(client, prefix: str, keep) -> None:
    orders = resources("walter-brooks", "MedicationRequest")
    days = sorted(date.fromisoformat(o["authoredOn"][:10]) for o in orders)
    pivot = days[len(days) // 2]
    wanted = {o["id"] for o in orders if keep(date.fromisoformat(o["authoredOn"][:10]), pivot)}
    url = f"/demo/fhir/MedicationRequest?patient=walter-brooks&authoredon={prefix}{pivot.isoformat()}&_count=200"
    assert set(ids(client, url)) == wanted


def test_two_date_bounds_combine_and_each_type_uses_its_own_date(client) -> None:
    dispenses = resources("robert-chen", "MedicationDispense")
    handed = sorted(date.fromisoformat(d["whenHandedOver"][:10]) for d in dispenses)
    low, high = handed[1], handed[-2]
    wanted = {d["id"] for d in dispenses if low <= date.fromisoformat(d["whenHandedOver"][:10]) <= high}
    url = f"/demo/fhir/MedicationDispense?patient=robert-chen&whenhandedover=ge{low}&whenhandedover=le{high}"
    assert set(ids(client, url)) == wanted
    observations = resources("tanya-greene", "Observation")
    recent = {o["id"] for o in observations if o["effectiveDateTime"][:10] >= "2026-01-01"}
    assert set(ids(client, "/demo/fhir/Observation?patient=tanya-greene&date=ge2026-01")) == recent


def test_the_plan_pages_second_searches_are_answered(client) -> None:
    # The plan page also searches lab results by `_lastUpdated` (a result dated only by `issued`) and fills by
    # `whenprepared`: refused as unknown, the page said its laboratory results could not be read.
    labs = {o["id"] for o in resources("tanya-greene", "Observation") if "laboratory" in str(o.get("category"))}
    url = "/demo/fhir/Observation?patient=tanya-greene&category=laboratory&_lastUpdated=ge2025-05-15"
    assert labs and set(ids(client, url)) == labs  # stored when the demo server loaded them: after any such day
    assert ids(client, "/demo/fhir/Observation?patient=tanya-greene&_lastUpdated=lt2025-05-15") == []
    assert client.get("/demo/fhir/MedicationDispense?patient=robert-chen&whenprepared=ge2025-01-01").status_code == 200


def test_sort_count_and_paging(client) -> None:
    first = client.get("/demo/fhir/MedicationRequest?patient=walter-brooks&_sort=-authoredon&_count=4").get_json()
    newest = [e["resource"]["authoredOn"] for e in first["entry"]]
    assert newest == sorted(newest, reverse=True) and len(newest) == 4
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_sort=-authoredon" in following and "_count=4" in following
    second = client.get(following.removeprefix(BASE)).get_json()
    assert second["entry"][0]["resource"]["authoredOn"] <= newest[-1]


def test_id_search(client) -> None:
    one = resources("walter-brooks", "MedicationRequest")[0]["id"]
    assert ids(client, f"/demo/fhir/MedicationRequest?patient=walter-brooks&_id={one}") == [one]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("date=gx2026-01-01", "date"),
        ("date=ge2026-13-40", "date"),
        ("date=ap2026-01-01", "date"),
        ("date=yesterday", "date"),
        ("_count=ten", "_count"),
        ("_count=-1", "_count"),
        ("code=|", "code"),
        ("code=a,,b", "code"),
        ("_sort=dosage", "_sort"),
        ("colour=blue", "colour"),
    ],
)
def test_malformed_parameters_are_a_400_operation_outcome(client, query: str, named: str) -> None:
    response = client.get(f"/demo/fhir/Observation?patient=tanya-greene&{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "invalid" and body["issue"][0]["diagnostics"].startswith(named)


def test_capability_statement_lists_the_search_parameters(client) -> None:
    body = client.get("/demo/fhir/metadata").get_json()
    observation = next(r for r in body["rest"][0]["resource"] if r["type"] == "Observation")
    names = {p["name"] for p in observation["searchParam"]}
    assert {"patient", "_id", "_count", "_lastUpdated", "date", "code", "category", "status"} <= names


# R4 invariants fhir.resources does not evaluate (it checks structure and types, not FHIRPath constraints).
def _r4_invariants(resource: dict[str, Any]) -> list[str]:
    problems = []
    if resource["resourceType"] == "Consent":
        if not (resource.get("policy") or resource.get("policyRule")):
            problems.append("ppc-1: a Consent needs policy or policyRule")
        scopes = {c.get("code") for c in resource.get("scope", {}).get("coding", [])}
        if scopes & {"treatment", "privacy", "research", "adr"} and not resource.get("patient"):
            problems.append("ppc-2..5: a Consent of this scope names its patient")
    return problems


def test_every_demo_resource_is_valid_r4() -> None:
    checked = 0
    for patient in load_demo_patients(TODAY).values():
        for resource in patient.resources():
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
            assert _r4_invariants(resource) == [], (patient.id, resource["id"])
            checked += 1
    assert checked > 250
