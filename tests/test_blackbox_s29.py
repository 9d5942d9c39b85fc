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


def _oracle_patch_draft() -> dict[str, Any]:
    """Oracle Health's fentanyl patch order: the order sentence "25 mcg/hr, Transdermal, q72hr" with its dose as the
    patch's rate and no count of patches, 10 patches to dispense and no days' supply."""
    return {
        "resourceType": "MedicationRequest",
        "id": "cer-fent-1",
        "status": "draft",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community"}
                ],
                "text": "Community",
            }
        ],
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": RXNORM,
                    "code": "245134",
                    "display": "72 HR fentanyl 0.025 MG/HR Transdermal System",
                    "userSelected": True,
                }
            ],
            "text": "fentaNYL 25 mcg/hr transdermal film, extended release",
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-15T09:12:00.000-05:00",
        "dosageInstruction": [
            {
                "text": "25 mcg/hr, Transdermal, q72hr, # 10 patch(es), 0 Refill(s)",
                "timing": {"repeat": {"frequency": 1, "period": 72, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 25, "unit": "mcg/hr", "system": UCUM, "code": "ug/h"}}],
            }
        ],
        "dispenseRequest": {"quantity": {"value": 10, "unit": "patch(es)"}, "numberOfRepeatsAllowed": 0},
    }


def test_a_patch_ordered_by_its_rate_is_judged_as_the_30_days_its_patches_last(tmp_path):
    """10 patches of 25 mcg/h changed every 72 hours last 30 days: a longer-term start with no pain treatment plan
    and no urine drug test. Before, a dose given as the patch's rate was no count of patches, so the supply was
    unknown; both cards were missing and the draft was named as having no quantity PainPlan could read."""
    body = hook_request(drafts=[_oracle_patch_draft()])
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)

    assert {"treatment-plan", "urine-drug-test"} <= set(topics(response.json))
    assert "data-incomplete" not in topics(response.json)


def test_a_draft_whose_quantity_has_no_daily_dose_to_divide_it_by_is_not_said_to_have_no_quantity(tmp_path):
    """Oracle Health's order with its sig in words only ("10 mg orally every 4 hours as needed"; the text is read
    only for doses at times of day) and 30 tablets to dispense: the supply is unknown because no daily dose divides
    the 30, and the data-incomplete card says so. It said "no quantity or supply duration it can read" of an order
    whose quantity the clinician can see, which sends the reader to look for the wrong thing."""
    draft = _oracle_patch_draft() | {
        "id": "cer-oxy-1",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "1049621", "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
            "text": "oxyCODONE 5 mg oral tablet",
        },
        "dosageInstruction": [{"text": "10 mg orally every 4 hours as needed for pain"}],
        "dispenseRequest": {"quantity": {"value": 30, "unit": "tab(s)"}},
    }
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=hook_request(drafts=[draft]))

    detail = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete")["detail"]
    line = next(line for line in detail.splitlines() if "draft order cer-oxy-1" in line)
    assert "no quantity or supply duration" not in line
    assert "no supply duration, and no quantity with a daily dose it can read" in line


def _taper_step(tablets: int, days: int, sequence: int) -> dict[str, Any]:
    """One step of an Epic taper: `tablets` once a day for `days` days."""
    return {
        "sequence": sequence,
        "text": f"Take {tablets} tablet(s) by mouth daily for {days} days",
        "timing": {
            "repeat": {
                "frequency": 1,
                "period": 1,
                "periodUnit": "d",
                "boundsDuration": {"value": days, "unit": "days", "system": UCUM, "code": "d"},
            }
        },
        "doseAndRate": [{"doseQuantity": _tablets(tablets)}],
    }


def _taper(order_id: str, steps: list[dict[str, Any]], tablets: int, **extra: Any) -> dict[str, Any]:
    """An oxycodone 10 mg taper with the tablets it needs to dispense and no days' supply."""
    return _epic_prn_order(tablets, authored=days_ago(0)) | {
        "id": order_id,
        "dosageInstruction": steps,
        "dispenseRequest": {"quantity": _tablets(tablets), "numberOfRepeatsAllowed": 0},
        **extra,
    }


def test_a_taper_stays_current_while_its_last_step_is_taken(tmp_path):
    """3 tablets a day for 14 days, then 2, then 1: 84 tablets last the taper's 42 days. On day 35 the patient takes
    the last step, so the chart's order is current and its longer-term checks speak. Before, the 84 tablets were
    divided by the highest step's 3 a day, the order ended on day 28, and patient-view gave no card at all."""
    steps = [_taper_step(3, 14, 1), _taper_step(2, 14, 2), _taper_step(1, 14, 3)]
    order = _taper("eOxy.taper", steps, 84, authoredOn=days_ago(35))
    prefetch = full_prefetch("patient-view", medsActive=bundle(order), medsRecent=bundle(order))
    client = make_app(tmp_path).test_client()
    response = client.post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch))

    assert {"urine-drug-test", "reassessment-due"} <= set(topics(response.json))


def test_an_acute_tapers_supply_says_it_was_taken_along_its_steps(tmp_path):
    """2 tablets a day for 3 days, then 1 a day for 4: 10 tablets last 7 days, not 5 (10 ÷ 2), and the acute-duration
    card says how the days were found."""
    draft = _taper("eOxy.acute", [_taper_step(2, 3, 1), _taper_step(1, 4, 2)], 10, status="draft")
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=hook_request(drafts=[draft]))

    card = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "acute-duration")
    assert card["summary"].startswith("7-day opioid supply for acute pain")
    assert "7 days' supply (estimated from the quantity taken along the dosing steps)" in card["detail"]
