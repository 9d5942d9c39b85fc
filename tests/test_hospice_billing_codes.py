"""Hospice billed by its HCPCS or revenue code alone (PQA's Hospice Encounter and Hospice Intervention codes) is hospice
care: payers' CARIN claims carry no bill type or place of service that says so, and an EHR's charge-coded Procedure
says it by HCPCS. The population review and the cards read the one packaged hospice code set."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from builders import PATIENT_ID, days_ago
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics
from synthetic_export import patient, write_export
from test_population_claims import CONFIG, part_d_event
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
NOT_APPLICABLE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-applicable"}]
}
EXCLUDED = "hospice or palliative care (procedure)"


def carin_institutional(ident: str, pid: str, start: str, end: str, revenue: str) -> dict[str, Any]:
    """A CARIN institutional claim whose only word for hospice is its line's revenue code (no type of bill sent)."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "institutional"}]},
        "use": "claim",
        "outcome": "complete",
        "patient": {"reference": f"Patient/{pid}"},
        "billablePeriod": {"start": start, "end": end},
        "item": [
            {
                "sequence": 1,
                "revenue": {"coding": [{"system": REVENUE, "code": revenue, "display": "Hospice - routine home care"}]},
                "productOrService": NOT_APPLICABLE,
                "quantity": {"value": 30},
            }
        ],
    }


def carin_professional(ident: str, pid: str, day: str, system: str, code: str, place: str = "12") -> dict[str, Any]:
    """A CARIN professional claim billed at the patient's home (place of service 12), coded by HCPCS or CPT."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "outcome": "complete",
        "patient": {"reference": f"Patient/{pid}"},
        "billablePeriod": {"start": day, "end": day},
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": system, "code": code}]},
                "servicedDate": day,
                "locationCodeableConcept": {"coding": [{"system": POS, "code": place}]},
            }
        ],
    }


def _review(tmp_path: Path, claims: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """The review's rows for high-dose patients (90 MME/day in January and February 2026), each with its claims."""
    resources: list[dict[str, Any]] = [*claims]
    for pid in sorted({claim["patient"]["reference"].split("/")[1] for claim in claims}):
        resources += [
            patient(pid),
            part_d_event(f"{pid}-a", pid, "2026-01-05"),
            part_d_event(f"{pid}-b", pid, "2026-02-04"),
        ]
    write_export(tmp_path / "in", resources)
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping(CONFIG))
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        return {row["patient_id"]: row for row in csv.DictReader(handle)}


def test_hospice_billed_by_revenue_or_hcpcs_code_alone_excludes_from_the_measures(tmp_path: Path) -> None:
    # Before, none of these was hospice care: no bill type 81x/82x, no place of service 34, and the code sets were
    # SNOMED CT only, so each patient stayed in the high-dosage measure.
    rows = _review(
        tmp_path,
        [
            # A month of routine home care billed from before the history window (2025-10-03) into it.
            carin_institutional("h-rev", "p-rev", "2025-09-20", "2025-10-19", "0651"),
            carin_professional("h-t2042", "p-t2042", "2026-02-10", HCPCS, "T2042"),
            carin_professional("h-q5006", "p-q5006", "2026-01-20", HCPCS, "Q5006"),
            carin_professional("h-g9473", "p-g9473", "2026-03-02", HCPCS, "G9473"),
            carin_professional("h-s9126", "p-s9126", "2026-02-01", HCPCS, "S9126"),
            carin_professional("office", "p-office", "2026-02-10", "http://www.ama-assn.org/go/cpt", "99214", "11"),
        ],
    )
    for pid in ("p-rev", "p-t2042", "p-q5006", "p-g9473", "p-s9126"):
        assert (rows[pid]["excluded"], rows[pid]["ohd_den"]) == (EXCLUDED, "false"), pid
    assert (rows["p-office"]["excluded"], rows["p-office"]["ohd_den"]) == ("", "true")


def test_a_revenue_code_outside_hospice_or_a_hospice_or_home_health_code_alone_excludes_no_one(tmp_path: Path) -> None:
    # Q5001 is "hospice or home health care provided in patient's home": alone, no evidence of hospice care.
    rows = _review(
        tmp_path,
        [
            carin_institutional("er", "p-er", "2026-02-10", "2026-02-10", "0450"),  # emergency room
            carin_professional("home", "p-home", "2026-02-10", HCPCS, "Q5001"),
        ],
    )
    for pid in ("p-er", "p-home"):
        assert (rows[pid]["excluded"], rows[pid]["ohd_den"]) == ("", "true"), pid


def order_sign(tmp_path: Path, **prefetch: Any) -> list[str]:
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **prefetch))
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return topics(response.json)


def charged_procedure(code: str, status: str = "completed") -> dict[str, Any]:
    """Hospice care as an EHR's charge-coded Procedure sends it: HCPCS only, performed three weeks ago."""
    return {
        "resourceType": "Procedure",
        "id": "px-hospice-1",
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": HCPCS, "code": code, "display": "Hospice routine home care; per diem"}]},
        "performedDateTime": days_ago(21),
    }


def test_a_procedure_coded_hcpcs_hospice_care_suppresses_the_opioid_cards(tmp_path: Path) -> None:
    # Before, a Procedure coded HCPCS T2042 (hospice routine home care) was no hospice care: every opioid card fired.
    assert order_sign(tmp_path, procedures=bundle(charged_procedure("T2042"))) == []


def test_a_claim_handed_to_a_hook_with_a_hospice_revenue_code_suppresses_the_opioid_cards(tmp_path: Path) -> None:
    claim = carin_institutional("h-rev", PATIENT_ID, days_ago(40), days_ago(10), "0651")
    assert order_sign(tmp_path, procedures=bundle(claim)) == []


def test_a_hcpcs_code_outside_hospice_leaves_the_cards(tmp_path: Path) -> None:
    assert order_sign(tmp_path, procedures=bundle(charged_procedure("T1019"))) != []  # personal care services


def test_a_visit_typed_by_a_hospice_revenue_code_suppresses_the_opioid_cards(tmp_path: Path) -> None:
    visit = {
        "resourceType": "Encounter",
        "id": "enc-hospice-1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH", "display": "home health"},
        "type": [{"coding": [{"system": REVENUE, "code": "0651", "display": "Hospice - routine home care"}]}],
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "period": {"start": days_ago(14), "end": days_ago(14)},
    }
    assert order_sign(tmp_path, encounters=bundle(visit)) == []


CPT = "http://www.ama-assn.org/go/cpt"


def test_a_hcpcs_code_sent_under_the_cpt_system_is_read_as_hcpcs(tmp_path: Path) -> None:
    # Payers fill productOrService from one procedure-code field and may name CPT's system for a HCPCS level II code
    # (a letter and four digits, which CPT never uses): read under CPT, T2042 was no hospice care on either face.
    rows = _review(tmp_path, [carin_professional("h-cpt", "p-cpt", "2026-02-10", CPT, "T2042")])
    assert (rows["p-cpt"]["excluded"], rows["p-cpt"]["ohd_den"]) == (EXCLUDED, "false")
    procedure = charged_procedure("T2042")
    procedure["code"]["coding"][0]["system"] = CPT
    assert order_sign(tmp_path / "hook", procedures=bundle(procedure)) == []


def test_a_hospice_revenue_code_sent_without_its_leading_zero_is_hospice_care_on_both_faces(tmp_path: Path) -> None:
    # Payers and Blue Button send a revenue code as "651" as often as "0651": before, "651" was no hospice care on
    # either face, and nothing named it.
    rows = _review(tmp_path, [carin_institutional("h-651", "p-651", "2025-09-20", "2025-10-19", "651")])
    assert (rows["p-651"]["excluded"], rows["p-651"]["ohd_den"]) == (EXCLUDED, "false")
    claim = carin_institutional("h-651", PATIENT_ID, days_ago(40), days_ago(10), "651")
    assert order_sign(tmp_path / "hook", procedures=bundle(claim)) == []
