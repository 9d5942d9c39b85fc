"""Review (session 22): one prescriber named by one NPI is one prescriber, whether or not the reference states its
type. A payer's claim names the prescriber by NPI alone ({"identifier": {...}}); an HIE's or a payer's order may
state "type": "Practitioner" (or "PractitionerRole") beside the same NPI: an NPI names one person on every server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import card, days_ago, dispense, med_request, run

NPI = "http://hl7.org/fhir/sid/us-npi"
NCPDP = "http://terminology.hl7.org/NamingSystem/NCPDPProviderIdentificationNumber"
PRESCRIBING = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": "prescribing"}]}
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def by_npi(number: str, kind: str | None = None) -> dict[str, Any]:
    reference: dict[str, Any] = {"identifier": {"system": NPI, "value": number}}
    if kind:
        reference["type"] = kind
    return reference


def claim_fill(prescriber: dict[str, Any]) -> dict[str, Any]:
    """A Part D claim as a MedicationDispense: 120 tablets for 30 days, its pharmacy by NCPDP number and its
    prescriber by NPI alone, marked as prescribing."""
    fill = dispense(OXYCODONE_5, days_ago(10), 30)
    fill["quantity"] = {"value": 120, "unit": "tablet"}
    fill["performer"] = [
        {"actor": {"identifier": {"system": NCPDP, "value": "0123456"}}},
        {"function": PRESCRIBING, "actor": prescriber},
    ]
    return fill


@pytest.mark.parametrize("kind", ["Practitioner", "PractitionerRole"])
def test_a_claims_fill_of_the_order_by_the_same_npi_typed_on_one_side_is_that_orders_supply(kind: str) -> None:
    """Oxycodone 5 mg every 6 hours (30 MME/day), filled 10 days ago under the same NPI: one supply, 30 MME/day. The
    order's requester stating its type read as another prescriber's fill: 60 MME/day, a high-dose and a naloxone
    card for a patient on 30."""
    order = med_request(OXYCODONE_5, id="o1", authored=days_ago(12), supply_days=30, quantity=120)
    order["requester"] = by_npi("1245319599", kind)
    evaluation = run("patient-view", resources=[order, claim_fill(by_npi("1245319599"))])
    assert evaluation.facts.mme.total == Decimal(30)
    assert card(evaluation, "high-mme") is None


def test_another_npis_claim_still_adds() -> None:
    """The same product filled under another prescriber's NPI is another supply: 60 MME/day."""
    order = med_request(OXYCODONE_5, id="o1", authored=days_ago(12), supply_days=30, quantity=120)
    order["requester"] = by_npi("1245319599", "Practitioner")
    evaluation = run("patient-view", resources=[order, claim_fill(by_npi("1679576722"))])
    assert evaluation.facts.mme.total == Decimal(60)
