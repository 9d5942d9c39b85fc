"""The plan page's MME history reads two servers' orders that share an id as two prescriptions: the EHR's order 123 and
an HIE's order 123 (another practice's, relayed by the regional exchange), each with its own pharmacy fill, are two
prescription courses whose daily MME adds up, as the card's total adds them (`fills.order_course`,
`fills.prescription_course`). Queued as one course, the HIE's supply would start only when the EHR's ran out, and the
line would show 60 MME a day where 120 were taken."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from builders import NOW, TZ, days_ago, patient
from test_signed_renewal import epic_order, fill, medication

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.facts import Facts
from guideline.mme import compute_mme
from guideline.plan.mme_history import MmeHistory, build_mme_history
from guideline.record import build_record

EPIC = "https://fhir.epic.example/interconnect-fhir-oauth/api/FHIR/R4"
HIE = "https://hie.example.org/fhir"
NPI = "http://hl7.org/fhir/sid/us-npi"
TODAY = NOW.date()


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource}


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": list(entries)}


def _order(ago: int, requester: dict[str, Any] | None) -> dict[str, Any]:
    """Order 123 on its server: oxycodone 10 mg every 6 hours, 120 tablets for 30 days (60 MME a day), completed
    (filled), written `ago` days ago; its own server's Medication/eMed10."""
    order = epic_order("123", "completed", days_ago(ago))
    if requester is None:
        del order["requester"]
    else:
        order["requester"] = requester
    return order


def _history(ehr_requester: dict[str, Any] | None, hie_requester: dict[str, Any] | None) -> MmeHistory:
    # The EHR's order 123 and its fill 20 days ago supply through 9 days ahead; the HIE's order 123 (another practice)
    # and its fill 5 days ago overlap them on the last 6 days.
    ehr = _searchset(
        _entry(EPIC, patient()),
        _entry(EPIC, medication()),
        _entry(EPIC, _order(21, ehr_requester)),
        _entry(EPIC, fill("123", fill_id="eDisp.1", ago=20)),
    )
    hie = _searchset(
        _entry(HIE, medication()),
        _entry(HIE, _order(6, hie_requester)),
        _entry(HIE, fill("123", fill_id="hDisp.9", ago=5)),
    )
    record = build_record([ehr, hie], TZ, fhir_server=EPIC)
    assert len(record.orders) == 2 and len(record.dispenses) == 2
    facts = Facts(record, HookContext("patient-view", "p1"), GuidelineConfig.from_mapping(), NOW)
    return build_mme_history(facts, compute_mme)


def _on(result: MmeHistory, day: date) -> Decimal:
    """The daily MME the step line shows on `day`."""
    return max((p for p in result.opioid if p.day <= day), key=lambda p: p.day).value


@pytest.mark.parametrize(
    "requester",
    [
        {"reference": "Practitioner/dr1", "display": "Adams, Ann, MD"},
        {"reference": "Practitioner/dr1", "type": "Practitioner"},
    ],
    ids=["display", "typed"],
)
def test_two_servers_orders_123_by_their_own_dr1_are_two_courses_that_add_up(requester: dict[str, Any]) -> None:
    result = _history(requester, requester)
    assert _on(result, TODAY - timedelta(days=10)) == Decimal(60)  # the EHR's alone
    assert _on(result, TODAY - timedelta(days=3)) == Decimal(120)  # both: two prescribers' supplies add
    assert result.peak == Decimal(120)
    assert result.unknown_orders == ()


def test_two_servers_orders_123_with_no_prescriber_are_two_courses_that_add_up() -> None:
    # Neither order names its prescriber (a converted legacy order, as an HIE relays it): the two servers' orders 123
    # are still two prescriptions, each with its own fill, not one order's supply queued behind the other.
    result = _history(None, None)
    assert _on(result, TODAY - timedelta(days=3)) == Decimal(120)


def test_one_prescribers_orders_named_by_npi_on_two_servers_are_one_course() -> None:
    # An NPI names one person on every server: the HIE's order continues the EHR's course, and queues behind it.
    npi = {"type": "Practitioner", "identifier": {"system": NPI, "value": "1467586115"}}
    result = _history(npi, npi)
    assert _on(result, TODAY - timedelta(days=3)) == Decimal(60)
    assert result.peak == Decimal(60)
