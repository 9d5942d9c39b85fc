"""Review (session 22): a transaction or collection Bundle (Synthea's patients, a payer's or an HIE's document, what
`painplan mme` and `painplan check` read whole) ties its entries by their fullUrl: a fill's authorizingPrescription
names its order as "urn:uuid:…". Read by that name alone, the fill named no order of the record, was read as another
prescription's fill, and added to its own order."""

from __future__ import annotations

from typing import Any

from builders import TODAY, days_ago, dispense, med_request, patient

from guideline.config import GuidelineConfig
from guideline.terminology import load_terminology
from smart_app.mme_command import mme_report

CONFIG = GuidelineConfig.from_mapping({})
TERMS = load_terminology(CONFIG)
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
ORDER_ID = "4b1c0c2e-9a0d-4d55-8a0b-2f7f6a1e0001"
RENEWAL_ID = "4b1c0c2e-9a0d-4d55-8a0b-2f7f6a1e0002"


def transaction(*resources: dict[str, Any]) -> dict[str, Any]:
    """A transaction Bundle as Synthea writes one: each entry under "urn:uuid:<its id>", posted by type."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": f"urn:uuid:{r['id']}", "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for r in resources
        ],
    }


def test_a_fill_naming_its_order_by_the_orders_full_url_is_that_orders_supply() -> None:
    """Oxycodone 5 mg every 6 hours (30 MME/day), filled 10 days ago from that order: 30 MME/day, not 60."""
    order = med_request(OXYCODONE_5, id=ORDER_ID, authored=days_ago(12), supply_days=30, quantity=120)
    fill = dispense(OXYCODONE_5, days_ago(10), 30)
    fill["quantity"] = {"value": 120, "unit": "tablet"}
    fill["authorizingPrescription"] = [{"reference": f"urn:uuid:{ORDER_ID}"}]
    report = mme_report(transaction(patient(), order, fill), CONFIG, TERMS, TODAY)
    assert report["current_total_mme"] == 30.0


def test_a_fill_naming_a_full_url_no_order_holds_still_adds() -> None:
    """A fill naming a fullUrl the Bundle holds no order under is another prescription's: it adds (60)."""
    order = med_request(OXYCODONE_5, id=ORDER_ID, authored=days_ago(12), supply_days=30, quantity=120)
    fill = dispense(OXYCODONE_5, days_ago(10), 30)
    fill["quantity"] = {"value": 120, "unit": "tablet"}
    fill["authorizingPrescription"] = [{"reference": "urn:uuid:0d8c3a7e-0000-4000-8000-00000000beef"}]
    report = mme_report(transaction(patient(), order, fill), CONFIG, TERMS, TODAY)
    assert report["current_total_mme"] == 60.0


def test_a_renewal_naming_the_order_it_renews_by_its_full_url_retires_it() -> None:
    """A renewal written 2 days ago whose priorPrescription is "urn:uuid:<the first order>", both active: one
    regimen, 30 MME/day (the first was not retired: 60)."""
    first = med_request(OXYCODONE_5, id=ORDER_ID, authored=days_ago(20), supply_days=30, quantity=120)
    renewal = med_request(OXYCODONE_5, id=RENEWAL_ID, authored=days_ago(2), supply_days=30, quantity=120)
    renewal["priorPrescription"] = {"reference": f"urn:uuid:{ORDER_ID}"}
    report = mme_report(transaction(patient(), first, renewal), CONFIG, TERMS, TODAY)
    assert report["current_total_mme"] == 30.0
    assert {line["id"]: line["current"] for line in report["orders"]} == {ORDER_ID: False, RENEWAL_ID: True}
