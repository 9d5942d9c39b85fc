"""The checks whose cards state an absence, given what the face could not read (`evaluate(unread=...)`): each says
"in what could be read", names the data not read and why, marks its summary, and carries the kinds in its facts."""

from __future__ import annotations

import pytest
from builders import ICD10, NOW, PATIENT_ID, TZ, condition, med_request, patient
from cds_support import OXYCODONE_5, oxycodone_draft

from guideline.cards import SUMMARY_LIMIT
from guideline.checks import CHECKS, oud_treatment
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import build_record
from guideline.unread_data import FILLS, KINDS, LABELS, MARK, ORDERS, PROCEDURES

CONFIG = GuidelineConfig.from_mapping()
DOWN = "the FHIR server answered HTTP 503"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, oud_treatment.CHECK_ID, oud_treatment)


def cards(hook: str, drafts=(), resources=(), unread=None) -> dict:
    drafted = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    record = build_record([patient(), *resources], TZ, draft_orders=drafted)
    context = HookContext(hook=hook, patient_id=PATIENT_ID, user_id="Practitioner/dr1")
    evaluation = evaluate(record, context, CONFIG, NOW, unread=unread)
    return {card.check_id: card for card in evaluation.cards}


def acute_oxycodone() -> dict:
    """Oxycodone 5 mg, 1 tablet every 6 h for 5 days: acute, for an opioid-naive patient."""
    return med_request(OXYCODONE_5, draft=True, id="draft-acute", supply_days=5, quantity=20)


def test_nonopioid_first_says_no_recent_opioid_use_only_of_what_could_be_read():
    plain = cards("order-sign", [acute_oxycodone()])["nonopioid-first"]
    unread = cards("order-sign", [acute_oxycodone()], unread={FILLS: DOWN, ORDERS: DOWN})["nonopioid-first"]

    assert "Could not check" not in plain.detail and plain.facts["not_read"] == []
    assert "was found in what could be read" in unread.detail
    assert f"**Could not check:** pharmacy fills and current medication orders could not be read ({DOWN})" in (
        unread.detail
    )
    assert unread.summary == plain.summary + MARK
    assert unread.facts["not_read"] == [FILLS, ORDERS]


def test_naloxone_says_none_found_only_of_what_could_be_read():
    plain = cards("order-sign", [oxycodone_draft()])["naloxone"]
    unread = cards("order-sign", [oxycodone_draft()], unread={ORDERS: DOWN})["naloxone"]

    assert "(none found)" in plain.detail and "Could not check" not in plain.detail
    assert "(none found in what could be read)" in unread.detail
    assert "naloxone prescribed or dispensed in the last" in unread.detail
    assert unread.summary.endswith(MARK) and unread.facts["not_read"] == [ORDERS]


def test_oud_treatment_names_the_unread_procedures_and_keeps_its_finding_in_the_summary():
    oud = condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated")
    found = cards("patient-view", resources=[oud], unread={PROCEDURES: DOWN})["oud-treatment"]

    assert "procedures could not be read" in found.detail and "OUD medication of the last 90 days" in found.detail
    assert found.summary.endswith("no OUD medication in 90 days; offer treatment" + MARK)
    assert found.facts["not_read"] == [PROCEDURES]


def test_a_kind_no_check_reads_for_its_absence_adds_no_caveat():
    found = cards("order-sign", [acute_oxycodone()], unread={"encounters": DOWN})

    assert found and all("Could not check" not in c.detail and MARK not in c.summary for c in found.values())


def test_every_kind_has_a_label_and_the_mark_leaves_room_on_an_ehr_card():
    assert set(KINDS) == set(LABELS) and len(KINDS) == 15
    every = dict.fromkeys(KINDS, DOWN)
    for card in cards("order-sign", [acute_oxycodone(), oxycodone_draft()], unread=every).values():
        assert len(card.summary) <= SUMMARY_LIMIT


def test_no_card_gains_an_empty_paragraph_when_everything_was_read():
    oud = condition(ICD10, "F11.20", display="Opioid dependence, uncomplicated")
    found = {
        **cards("order-sign", [acute_oxycodone(), oxycodone_draft()]),
        **cards("patient-view", resources=[oud]),
    }

    assert {"nonopioid-first", "naloxone", "oud-treatment"} <= set(found)
    for card in found.values():
        assert "\n\n\n" not in card.detail, card.check_id


def test_reassessment_due_says_no_evaluation_only_of_what_could_be_read():
    from builders import days_ago, dispense

    fills = [dispense(OXYCODONE_5, days_ago(days), days_supply=30) for days in (88, 58, 28)]
    plain = cards("order-sign", [oxycodone_draft()], resources=fills)["reassessment-due"]
    unread = cards("order-sign", [oxycodone_draft()], resources=fills, unread={PROCEDURES: DOWN})["reassessment-due"]

    assert "No evaluation is on record." in plain.detail and "Could not check" not in plain.detail
    assert "No evaluation is on record." not in unread.detail
    assert "No evaluation was found in what could be read." in unread.detail
    assert f"procedures could not be read ({DOWN})" in unread.detail and unread.summary.endswith(MARK)
