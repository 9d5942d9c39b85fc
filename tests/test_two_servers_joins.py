"""No join across two servers by a bare id: an HIE's `MedicationRequest/123` is the HIE's order 123.

A regional exchange (HIE) relays another practice's orders and fills beside the EHR's (Epic). An HIE renewal naming
`priorPrescription: MedicationRequest/123` renews the HIE's 123: read as the EHR's, it retired the EHR's current
opioid order 123 and lowered the total (a missed high-dose card). An HIE fill naming `authorizingPrescription:
MedicationRequest/123` is no fill of the EHR's order 123."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from builders import NOW, RXNORM, TZ, days_ago, patient
from test_signed_renewal import OXYCODONE_10, epic_order, fill, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.fills import authorized_order
from guideline.record import build_record

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    url = f"{base}/{resource['resourceType']}/{resource['id']}"
    return {"fullUrl": url, "resource": resource, "search": {"mode": "match"}}


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": list(entries)}


def _coded(order: dict[str, Any]) -> dict[str, Any]:
    """The HIE's copy names its drug by code (its Medication ids are its own)."""
    order = dict(order)
    order.pop("medicationReference")
    coding = {"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 MG Oral Tablet"}
    order["medicationCodeableConcept"] = {"coding": [coding], "text": "oxycodone 10 mg tablet"}
    return order


def _ehr_order() -> dict[str, Any]:
    """The EHR's current order 123: oxycodone 10 mg, 2 tablets every 6 hours (120 MME a day), written 10 days ago."""
    return epic_order("123", "active", days_ago(10), tablets=2)


def _hie_renewal() -> dict[str, Any]:
    """The HIE's order h5 (60 MME a day), the same prescriber's, renewing the HIE's own MedicationRequest/123."""
    return _coded(epic_order("h5", "active", days_ago(2), tablets=1, prior="123"))


def _facts(*entries: dict[str, Any]) -> Facts:
    bundle = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), *entries)
    record = build_record([bundle], TZ, fhir_server=EPIC)
    return Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)


def test_an_hie_renewal_naming_123_does_not_retire_the_ehrs_123() -> None:
    facts = _facts(_entry(EPIC, _ehr_order()), _entry(HIE, _hie_renewal()))
    assert sorted(o.id for o in facts.current_opioids) == ["123", "h5"]
    assert facts.mme.total == Decimal(180)


def test_the_ehrs_own_renewal_of_123_still_retires_it() -> None:
    ehr_renewal = epic_order("124", "active", days_ago(2), tablets=1, prior="123")
    facts = _facts(_entry(EPIC, _ehr_order()), _entry(EPIC, ehr_renewal))
    assert [o.id for o in facts.current_opioids] == ["124"]
    assert facts.mme.total == Decimal(60)


def test_an_hie_renewal_naming_the_ehrs_order_absolutely_retires_it() -> None:
    # The HIE relays a renewal written against the EHR's order, naming it by its EHR URL: that is the EHR's 123.
    hie = _hie_renewal()
    hie["priorPrescription"] = {"reference": f"{EPIC}/MedicationRequest/123"}
    facts = _facts(_entry(EPIC, _ehr_order()), _entry(HIE, hie))
    assert [o.id for o in facts.current_opioids] == ["h5"]


def test_an_hie_fill_naming_123_is_no_fill_of_the_ehrs_123() -> None:
    hie_fill = {**fill("123"), "id": "hDisp.1"}
    hie_fill.pop("medicationReference")
    hie_fill["medicationCodeableConcept"] = _hie_renewal()["medicationCodeableConcept"]
    bundle = _searchset(_entry(EPIC, patient()), _entry(EPIC, medication()), _entry(EPIC, _ehr_order()))
    record = build_record([bundle, _searchset(_entry(HIE, hie_fill))], TZ, fhir_server=EPIC)
    [dispense] = record.dispenses
    assert authorized_order(dispense, record.orders) is None
    ehr_fill = build_record([bundle, _searchset(_entry(EPIC, fill("123")))], TZ, fhir_server=EPIC)
    [own] = ehr_fill.dispenses
    assert authorized_order(own, ehr_fill.orders).id == "123"
