"""A high-MME card whose total rests on data that could not be read (pharmacy fills, orders, reported medications)
carries those kinds in its facts, so the card store and /metrics count it with the cards issued on incomplete
records, as every other check's card; its summary and detail say so too (tests/test_high_mme_unread_card.py)."""

from __future__ import annotations

import responses
from builders import NOW, PATIENT_ID, TZ, patient
from cds_support import db, full_prefetch, hook_request, make_app, oxycodone_draft, search_fails
from test_incomplete_analytics_metrics import counted

from cds_hooks import store
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import build_record
from guideline.unread_data import FILLS, STATEMENTS

DOWN = "the FHIR server answered HTTP 500"
FILL_KEYS = ("dispenses", "dispensesPrepared")  # the prefetch keys holding pharmacy fills


def fills_search_fails() -> None:
    """An Epic-like FHIR server that answers HTTP 500 to MedicationDispense searches and an empty Bundle to the rest."""
    search_fails("MedicationDispense")


def high_mme(unread=None):
    """Oxycodone 5 mg, 2 tablets every 4 hours (90 MME/day) drafted for a patient, evaluated on order-sign."""
    drafted = {"resourceType": "Bundle", "entry": [{"resource": oxycodone_draft()}]}
    record = build_record([patient()], TZ, draft_orders=drafted)
    context = HookContext(hook="order-sign", patient_id=PATIENT_ID, user_id="Practitioner/dr1")
    cards = evaluate(record, context, GuidelineConfig.from_mapping(), NOW, unread=unread).cards
    return next(card for card in cards if card.check_id == "high-mme")


def test_a_high_mme_card_carries_the_kinds_its_total_rests_on_that_were_not_read():
    assert high_mme().facts["not_read"] == []
    unread = high_mme({FILLS: DOWN, STATEMENTS: DOWN, "lab-results": DOWN})
    assert unread.facts["not_read"] == [FILLS, STATEMENTS]  # lab results are no part of a dose
    assert store.stored_incomplete(unread) == "fills,statements"


@responses.activate
def test_a_high_mme_card_of_a_call_whose_fill_search_failed_is_stored_as_on_incomplete_records(tmp_path):
    fills_search_fails()
    app = make_app(tmp_path)
    before = counted(app, "high-mme")
    prefetch = full_prefetch("order-sign")
    for key in FILL_KEYS:
        prefetch.pop(key, None)
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    response = app.test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.json
    cards = {card["source"]["topic"]["code"]: card for card in response.json["cards"]}

    assert "- pharmacy dispensing records: the FHIR server answered HTTP 500" in cards["data-incomplete"]["detail"]
    assert store.find_issued(db(app), cards["high-mme"]["uuid"]).records_incomplete == FILLS
    assert counted(app, "high-mme") == before + 1  # /metrics counts it with the cards issued on incomplete records
    # and the clinician reads it on the card itself: the total is a floor
    assert cards["high-mme"]["summary"] == (
        "Total opioid dose at least 90.0 MME/day with this order — high overdose risk; reconsider the dose"
        " (records incomplete)"
    )
    assert "could not be read (the FHIR server answered HTTP 500)" in cards["high-mme"]["detail"]
