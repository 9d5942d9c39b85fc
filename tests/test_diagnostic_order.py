"""DSTU2 lab orders (`DiagnosticOrder`) are read as the R4 `ServiceRequest` they became, one per test ordered."""

from __future__ import annotations

from typing import Any

import pytest
from builders import NOW, PATIENT_ID, SNOMED, TZ, card, days_ago, dispense, med_request, run, service_request

from guideline.record import build_record

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
UDS_SNOMED = "310627008"  # Urine drug screening
LOINC = "http://loinc.org"
UDS_PANEL = "69739-1"  # Drugs of abuse panel - Urine by Screen method (a urine drug screen LOINC)
CBC = "58410-2"  # CBC panel - Blood by Automated count
CHECK_ID = "urine-drug-test"


def ltot_dispenses() -> list[dict[str, Any]]:
    """Opioid supply on every day of the last 90: long-term therapy, so the urine drug test card applies."""
    return [dispense(OXYCODONE, days_ago(d), days_supply=30) for d in (89, 59, 29)]


def diagnostic_order(
    *items: tuple[str, str, str], status: str = "requested", ago: int | None = 5, later_event: int | None = None
) -> dict[str, Any]:
    """A DSTU2 DiagnosticOrder: `item[].code` names each test, the first event dates the order, no intent."""
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticOrder",
        "id": f"do-{status}-{ago}",
        "status": status,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "orderer": {"reference": "Practitioner/dr1"},
        "item": [
            {"code": {"coding": [{"system": system, "code": code, "display": name}]}} for system, code, name in items
        ],
    }
    events = []
    if ago is not None:
        events.append({"status": "requested", "dateTime": days_ago(ago), "actor": {"reference": "Practitioner/dr1"}})
    if later_event is not None:
        events.append({"status": "received", "dateTime": days_ago(later_event)})
    if events:
        resource["event"] = events
    return resource


UDS = (LOINC, UDS_PANEL, "Drug screen, urine")


def _silenced(*resources: dict[str, Any]) -> bool:
    return card(run("patient-view", resources=[*ltot_dispenses(), *resources]), CHECK_ID) is None


def test_without_an_order_the_card_asks_for_a_test() -> None:
    assert not _silenced()


@pytest.mark.parametrize(
    ("status", "pending"),
    [
        ("requested", True),
        ("received", True),
        ("accepted", True),
        ("in-progress", True),
        ("review", True),
        # A suggestion is said by the status, since DSTU2 states no intent: no order, as a proposal nobody signed.
        ("proposed", False),
        ("planned", False),
        ("suspended", False),
        ("rejected", False),
        ("failed", False),
        ("cancelled", False),
        ("completed", False),
    ],
)
def test_a_dstu2_urine_drug_screen_order_silences_the_card_by_its_status(status: str, pending: bool) -> None:
    # Unread, a screen ordered last week from a DSTU2 server left the card asking for a test already ordered.
    assert _silenced(diagnostic_order(UDS, status=status)) is pending


def test_the_r4_shape_of_the_same_order_agrees() -> None:
    r4 = service_request(LOINC, UDS_PANEL, authored=days_ago(5))
    assert _silenced(r4) and _silenced(diagnostic_order(UDS))
    assert not _silenced(service_request(LOINC, UDS_PANEL, authored=days_ago(5), intent="proposal"))


def test_a_screen_among_several_tests_counts_and_is_named_by_its_own_code() -> None:
    from guideline.plan import build_plan

    order = diagnostic_order((LOINC, CBC, "CBC panel"), UDS)
    evaluation = run("patient-view", resources=[*ltot_dispenses(), order])
    assert card(evaluation, CHECK_ID) is None
    pending = build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.pending
    assert pending == (f"Drug screen, urine ordered {days_ago(5)}",)


def test_the_first_event_dates_the_order() -> None:
    # Ordered 45 days ago (outside the 30-day pending window), received last week: not pending any more.
    assert not _silenced(diagnostic_order(UDS, ago=45, later_event=5))
    assert _silenced(diagnostic_order(UDS, ago=20, later_event=2))


def test_the_order_is_read_as_a_service_request_with_r4_status_and_intent() -> None:
    proposed = diagnostic_order((SNOMED, UDS_SNOMED, "Urine drug screening"), status="proposed")
    record = build_record([proposed, diagnostic_order(UDS, status="review", ago=3)], TZ)
    suggestion, review = record.service_requests
    assert (suggestion.status, suggestion.intent) == ("active", "proposal")
    assert (review.status, review.intent) == ("active", None)
    assert review.code is not None and review.code.has(LOINC, UDS_PANEL)
    assert review.authored_on is not None and review.authored_on.date().isoformat() == days_ago(3)


def test_an_undated_order_with_no_item_is_read_without_failing() -> None:
    bare = {"resourceType": "DiagnosticOrder", "id": "do-bare", "status": "requested", "item": [{}, "odd"]}
    record = build_record([bare, med_request(OXYCODONE, authored=days_ago(2))], TZ)
    assert record.problems == ()
    assert [s.code for s in record.service_requests] in ([], [None])


def test_the_plan_page_reads_a_diagnostic_order_its_service_request_search_is_answered_with() -> None:
    """An Oracle Health DSTU2 tenant answers the page's ServiceRequest search with its DiagnosticOrders, as it
    answers with a ProcedureRequest: the screen ordered last week is read as one, not replaced by a note that the
    search asks for ServiceRequest only (which left the urine drug test tile overdue beside a quiet card)."""
    import json
    import re
    from datetime import date
    from types import SimpleNamespace
    from urllib.parse import urlsplit

    import responses

    from smart_app.config import load_settings
    from smart_app.plan_view import fetch_page_input

    base = "https://fhir-myrecord.cerner.example/dstu2/ec2458f2-1e24-41c8-b71b-0e701af7583d"
    order = diagnostic_order(UDS)

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        path = urlsplit(request.url).path.rsplit("/", 1)[-1]
        found = [order] if path == "ServiceRequest" else []
        entries = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in found]
        return 200, {}, json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": entries})

    today = date.fromisoformat(NOW.date().isoformat())
    settings = load_settings(env={}, today=today.isoformat())
    launch = SimpleNamespace(iss=base, access_token="tok", patient_id=PATIENT_ID)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.GET, re.compile(re.escape(base) + r"/.*"), callback=answer)
        page = fetch_page_input(launch, settings, today)
    record = build_record(page.resources, TZ, patient_id=PATIENT_ID, fhir_server=page.fhir_server)
    assert record.problems == ()
    (screen,) = record.service_requests
    assert screen.code is not None and screen.code.has(LOINC, UDS_PANEL)
    assert screen.authored_on is not None and screen.authored_on.date().isoformat() == days_ago(5)
