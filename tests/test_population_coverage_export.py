"""`painplan population --export` asks the server for every type the review reads: a payer's Coverage (enrolment),
MedicationStatement, ServiceRequest, DiagnosticReport (AMO's lab reports)... A type left out of the kick-off's `_type`
is a type the server never sends, and the review then checked no enrolment of an export it made itself."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from joserfc.jwk import RSAKey
from synthetic_export import OXYCODONE_10, dispense, patient
from test_population_enrolment import coverage

from smart_app.cli import main

BASE = "https://payer.example.org/fhir"
EXPORT = f"{BASE}/Group/husky-q1/$export"
TOKEN_URL = "https://payer.example.org/auth/token"
STATUS = f"{BASE}/bulkstatus/77"

# The R4 types the review reads (the measures, the standing-risk review, the directory, enrolment).
# MedicationAdministration is read by one finding only and not asked for (an EHR's hold every dose given on a ward).
READ_BY_THE_REVIEW = {
    "Patient", "MedicationDispense", "MedicationRequest", "MedicationStatement", "Medication",
    "ExplanationOfBenefit", "Coverage", "Condition", "Observation", "DiagnosticReport", "Procedure", "Encounter",
    "ServiceRequest", "CarePlan", "DocumentReference", "Consent", "Goal", "Practitioner", "PractitionerRole",
    "Organization", "Location",
}  # fmt: skip
# DSTU2's and STU3's names, and R5's ballot name: Bulk Data is an R4 protocol, and an R4 server refuses a kick-off
# naming a type R4 does not have.
NOT_R4 = {"MedicationOrder", "DiagnosticOrder", "ProcedureRequest", "ReferralRequest", "MedicationUsage"}


@pytest.fixture
def clients_file(tmp_path):
    key = RSAKey.generate_key(2048, parameters={"kid": "painplan-export-1"}, private=True)
    path = tmp_path / "export-clients.json"
    entry = {"iss": BASE, "client_id": "painplan-population", "private_jwk": key.as_dict(private=True),
             "scope": "system/*.read"}  # fmt: skip
    path.write_text(json.dumps([entry]))
    return path


def _ndjson(*resources) -> str:
    return "".join(json.dumps(r) + "\n" for r in resources)


def _payer(member_files: dict[str, list[dict]]) -> dict:
    """A payer's Bulk Data server that exports only the types the kick-off's `_type` names (as the spec has it)."""
    asked: dict = {}
    responses.get(f"{BASE}/.well-known/smart-configuration", json={"token_endpoint": TOKEN_URL})
    responses.post(TOKEN_URL, json={"access_token": "secret-token", "token_type": "bearer", "expires_in": 300})

    def kickoff(request):
        asked["types"] = parse_qs(urlsplit(request.url).query)["_type"][0].split(",")
        asked["prefer"] = request.headers["Prefer"]
        return 202, {"Content-Location": STATUS}, ""

    def status(request):
        sent = [kind for kind in member_files if kind in asked["types"]]
        manifest = {
            "transactionTime": "2026-04-02T00:00:00Z",
            "requiresAccessToken": True,
            "output": [{"type": kind, "url": f"{BASE}/files/{kind}"} for kind in sent],
            "error": [],
        }
        return 200, {}, json.dumps(manifest)

    responses.add_callback(responses.GET, EXPORT, callback=kickoff, match=[])
    responses.add_callback(responses.GET, STATUS, callback=status)
    for kind, resources in member_files.items():
        responses.get(f"{BASE}/files/{kind}", body=_ndjson(*resources))
    return asked


def _member_files() -> dict[str, list[dict]]:
    """Member h1, 90 MME/day for 60 days, enrolled to 20 January only (2026 Q1: a gap of 70 days); h2 all quarter."""
    fills = [
        dispense(f"{pid}-f{n}", pid, OXYCODONE_10, day, 180, 30, "drA", "ph1")
        for pid in ("h1", "h2")
        for n, day in ((1, "2026-01-05"), (2, "2026-02-04"))
    ]
    return {
        "Patient": [patient("h1"), patient("h2")],
        "MedicationDispense": fills,
        "Coverage": [
            coverage("h1-cov", "h1", "2025-01-01", "2026-01-20"),
            coverage("h2-cov", "h2", "2025-01-01", "9999-12-31"),
        ],
    }


@responses.activate
def test_the_kick_off_asks_for_every_r4_type_the_review_reads_coverage_among_them(tmp_path, clients_file, monkeypatch):
    asked = _payer(_member_files())
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients_file))
    main(["population", "--export", EXPORT, "--out", str(tmp_path / "out"), "--today", "2026-04-15",
          "--workers", "1", "--quiet"])  # fmt: skip
    assert set(asked["types"]) == READ_BY_THE_REVIEW
    assert not set(asked["types"]) & NOT_R4
    assert len(asked["types"]) == len(set(asked["types"]))
    # Bulk Data 2.0: a server that exports none of some type named (an EHR's has no ExplanationOfBenefit or
    # Coverage) may then go on without it rather than refuse the kick-off.
    assert [part.strip() for part in asked["prefer"].split(",")] == ["respond-async", "handling=lenient"]


@responses.activate
def test_a_run_under_continuous_enrolment_checks_the_coverage_of_an_export_it_made_itself(
    tmp_path, clients_file, monkeypatch, capsys
):
    _payer(_member_files())
    monkeypatch.setenv("PAINPLAN_POPULATION_EXPORT_CLIENTS", str(clients_file))
    config = tmp_path / "painplan.toml"
    config.write_text('[guideline.population]\nenrolment = "continuous"\n')
    out = tmp_path / "out"
    code = main(["population", "--export", EXPORT, "--out", str(out), "--today", "2026-04-15", "--workers", "1",
                 "--config", str(config), "--quiet"])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "enrolment not checked" not in printed
    quality = json.loads((out / "data-quality.json").read_text())
    assert quality["resources_by_type"]["Coverage"] == 2
    assert quality["members_not_continuously_enrolled"] == 1
    assert quality["run"]["enrolment_checked"] is True
    assert "  OHD: 1/1 = 100.0%" in printed.splitlines()  # h2 alone: h1 is left out for the 70-day gap
