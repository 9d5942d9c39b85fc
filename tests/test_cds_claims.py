"""Payer claims handed to a hook (a CARIN Blue Button pharmacy ExplanationOfBenefit in a prefetch key) are read as
the fills they stand for, as the population review reads them; a claim that stands for nothing is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import PATIENT_ID
from cds_support import bundle, full_prefetch, hook_request, make_app, topics

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
OXYCODONE_SOLUTION = "1049604"  # oxycodone hydrochloride 1 MG/ML Oral Solution


def pharmacy_claim(
    claim_id: str = "pde-1",
    status: str = "active",
    *,
    product: dict[str, Any] | None = None,
    day: str = "2026-06-10",
    days_supply: int = 30,
    quantity: int = 180,
) -> dict[str, Any]:
    """A CARIN Blue Button pharmacy claim: by default oxycodone 10 mg, 180 tablets for 30 days (90 MME/day)."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": claim_id,
        "meta": {"profile": ["http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Pharmacy"]},
        "status": status,
        "use": "claim",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "pharmacy"}]},
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "billablePeriod": {"start": day},
        "outcome": "complete",
        "supportingInfo": [
            {
                "sequence": 1,
                "category": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType",
                            "code": "dayssupply",
                        }
                    ]
                },
                "valueQuantity": {"value": days_supply},
            }
        ],
        "item": [
            {
                "sequence": 1,
                "servicedDate": day,
                "productOrService": product or {"coding": [{"system": RXNORM, "code": OXYCODONE_10}]},
                "quantity": {"value": quantity},
            }
        ],
    }


def empty_professional_claim() -> dict[str, Any]:
    """A professional claim with no line, diagnosis or procedure PainPlan could read."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": "prof-9",
        "status": "active",
        "use": "claim",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "billablePeriod": {"start": "2026-05-02"},
        "outcome": "complete",
    }


def answer(tmp_path: Path, hook: str, **prefetch: Any) -> dict[str, Any]:
    body = hook_request(hook, prefetch=full_prefetch(hook, **prefetch))
    response = make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body)
    assert response.status_code == 200
    return response.json


def test_a_pharmacy_claim_in_the_dispenses_key_is_read_as_the_fill_it_stands_for(tmp_path: Path) -> None:
    found = answer(tmp_path, "patient-view", dispenses=bundle(pharmacy_claim()))
    high = next(c for c in found["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert high["indicator"] == "critical"
    assert "90" in high["summary"] and "pharmacy fills" in high["summary"]


def test_a_claim_in_a_key_of_its_own_is_read_too(tmp_path: Path) -> None:
    found = answer(tmp_path, "patient-view", claims=bundle(pharmacy_claim()))
    assert "high-mme" in topics(found)


def test_a_cancelled_claim_is_no_fill(tmp_path: Path) -> None:
    found = answer(tmp_path, "patient-view", dispenses=bundle(pharmacy_claim(status="cancelled")))
    assert "high-mme" not in topics(found)


def test_a_claim_that_stands_for_nothing_is_named_not_dropped_unseen(tmp_path: Path) -> None:
    found = answer(tmp_path, "patient-view", claims=bundle(empty_professional_claim()))
    detail = next(c for c in found["cards"] if c["source"]["topic"]["code"] == "data-incomplete")["detail"]
    assert "claims (ExplanationOfBenefit)" in detail and "1 " in detail


def test_a_claim_for_a_liquid_with_no_unit_is_read_in_ml(tmp_path: Path) -> None:
    # A pharmacy claim's quantity is in NCPDP billing units, mL for a liquid: 5400 of oxycodone 1 mg/mL for 30 days
    # is 180 mg a day, 270 MME/day, not a fill of unknown dose.
    claim = pharmacy_claim()
    claim["item"][0]["productOrService"] = {"coding": [{"system": RXNORM, "code": OXYCODONE_SOLUTION}]}
    claim["item"][0]["quantity"] = {"value": 5400}
    found = answer(tmp_path, "patient-view", dispenses=bundle(claim))
    high = next(c for c in found["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "270" in high["summary"]
