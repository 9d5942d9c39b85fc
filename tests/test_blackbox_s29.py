"""Black-box probes of the hook services with request payloads as Epic and Oracle Health send them (session 29)."""

from __future__ import annotations

from typing import Any

from builders import RXNORM, UCUM, days_ago
from cds_support import bundle, full_prefetch, hook_request, make_app, topics

EPIC_ERX_TYPE = "http://epic.com/CodeSystem/dose-rate-type"


def _tablets(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "tablet", "system": UCUM, "code": "{tbl}"}


def _epic_prn_order(quantity: int, *, authored: str) -> dict[str, Any]:
    """An Epic order of oxycodone 10 mg "1-2 tablets every 4 hours as needed, max 6 tablets a day", a quantity to
    dispense and no days' supply (Epic sends none when the prescriber entered none)."""
    return {
        "resourceType": "MedicationRequest",
        "id": "eOxy10.prn",
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community"}
                ]
            }
        ],
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "1049683", "display": "oxycodone hydrochloride 10 MG Oral Tablet"}],
            "text": "oxyCODONE (ROXICODONE) 10 MG immediate release tablet",
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": authored,
        "dosageInstruction": [
            {
                "text": "Take 1-2 tablets (10-20 mg total) by mouth every 4 (four) hours as needed for pain. Max 6 "
                "tablets a day",
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
                "asNeededBoolean": True,
                "doseAndRate": [
                    {
                        "type": {"coding": [{"system": EPIC_ERX_TYPE, "code": "admin-amount"}]},
                        "doseRange": {"low": _tablets(1), "high": _tablets(2)},
                    }
                ],
                "maxDosePerPeriod": {
                    "numerator": _tablets(6),
                    "denominator": {"value": 1, "unit": "day", "system": UCUM, "code": "d"},
                },
            }
        ],
        "dispenseRequest": {"quantity": _tablets(quantity), "numberOfRepeatsAllowed": 0},
    }


def test_a_capped_as_needed_order_stays_current_as_long_as_its_quantity_lasts_at_the_cap(tmp_path):
    """180 tablets at most 6 a day last 30 days. Twenty days on, the chart's order is still current: 60 mg a day of
    oxycodone, 90 MME/day, as the high-dose card counts it. Before, the quantity was divided by the uncapped 12
    tablets a day, the order ended on day 15, and patient-view gave no high-dose card and named nothing."""
    order = _epic_prn_order(180, authored=days_ago(20))
    prefetch = full_prefetch("patient-view", medsActive=bundle(order), medsRecent=bundle(order))
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch))
    )

    assert "high-mme" in topics(response.json)
    card = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "90.0 MME/day" in card["summary"]
