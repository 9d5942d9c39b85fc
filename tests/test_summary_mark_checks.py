"""Every check that marks its summary "(records incomplete)" does it by one rule (`unread_data.fitted`), given long
wordings and data the face could not read: a shorter wording before a cut, the mark whole and once, within the
card limit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from builders import ICD10, NOW, PATIENT_ID, SNOMED, TZ, condition, days_ago, dispense, med_request, patient
from cds_support import OXYCODONE_5, oxycodone_draft

from guideline.cards import SUMMARY_LIMIT, Card
from guideline.checks import CHECKS, oud_treatment
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import build_record
from guideline.unread_data import KINDS, MARK

DOWN = "the FHIR server answered HTTP 503"
EVERY = dict.fromkeys(KINDS, DOWN)
MORPHINE_ER = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet
HYDROCODONE_10_325 = "856999"  # hydrocodone bitartrate 10 MG / acetaminophen 325 MG Oral Tablet
FENTANYL_PATCH = "197696"
TEMAZEPAM = "198241"  # temazepam 15 MG Oral Capsule
OSA = "78275009"  # Obstructive sleep apnea syndrome  # 72 HR fentanyl 0.075 MG/HR Transdermal System
# A site's own PDMP name, as long as a state writes it.
LONG_PDMP = {"pdmp": {"label": "the Connecticut Prescription Monitoring and Reporting System (CPMRS) portal"}}
OUD = condition(
    ICD10,
    "F11.20",
    display="Opioid dependence, uncomplicated, in early remission, on maintenance therapy, with opioid-induced "
    "sleep disorder",
)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, oud_treatment.CHECK_ID, oud_treatment)


def cards(
    hook: str, drafts=(), resources=(), unread: Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None
) -> dict[str, Card]:
    drafted = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    record = build_record([patient(), *resources], TZ, draft_orders=drafted)
    context = HookContext(hook=hook, patient_id=PATIENT_ID, user_id="Practitioner/dr1")
    evaluation = evaluate(record, context, GuidelineConfig.from_mapping(config or {}), NOW, unread=unread)
    return {card.check_id: card for card in evaluation.cards}


def both(hook: str, drafts=(), resources=(), config=None) -> tuple[dict[str, Card], dict[str, Card]]:
    """The cards with everything read, and with every kind of data unread."""
    return cards(hook, drafts, resources, None, config), cards(hook, drafts, resources, EVERY, config)


def well_marked(summary: str) -> bool:
    return len(summary) <= SUMMARY_LIMIT and summary.endswith(MARK) and summary.count(MARK) == 1


def long_term_fills() -> list[dict]:
    return [dispense(OXYCODONE_5, days_ago(days), days_supply=30) for days in (88, 58, 28)]


def er_drafts() -> list[dict]:
    return [
        med_request(MORPHINE_ER, draft=True, id="er1", frequency=2, period=1, period_unit="d"),
        med_request(FENTANYL_PATCH, draft=True, id="er2", frequency=1, period=3, period_unit="d"),
    ]


def test_er_la_opioid_naive_names_the_drug_when_read_in_full_and_counts_the_order_when_marked():
    plain, unread = (found["er-la-opioid-naive"] for found in both("order-sign", er_drafts()[:1]))

    assert plain.summary.startswith("morphine sulfate 30 MG") and len(plain.summary + MARK) > SUMMARY_LIMIT
    assert (
        unread.summary
        == "New extended-release/long-acting opioid order; no opioid use found in the past 90 days" + (MARK)
    )


def test_nonopioid_first_says_this_opioid_rather_than_cut_the_name():
    acute = med_request(HYDROCODONE_10_325, draft=True, id="acute", supply_days=5, quantity=20)
    plain, unread = (found["nonopioid-first"] for found in both("order-sign", [acute]))

    assert (
        "acetaminophen 325 MG / hydrocodone bitartrate 10 MG" in plain.summary
        and len(plain.summary + MARK) > SUMMARY_LIMIT
    )
    assert unread.summary == "No recent opioid use: consider non-opioid options before this opioid for acute pain" + (
        MARK
    )


def test_treatment_plan_leaves_out_the_names_rather_than_cut_them():
    plain, unread = (found["treatment-plan"] for found in both("order-sign", er_drafts()))

    assert "morphine" in plain.summary and len(plain.summary + MARK) > SUMMARY_LIMIT
    assert unread.summary == "Longer-term opioid starting with no pain treatment plan documented in 90 days" + MARK


def test_pdmp_review_with_a_long_site_label_falls_back_to_the_pdmp_and_keeps_the_mark():
    plain, unread = (found["pdmp-review"] for found in both("order-sign", [oxycodone_draft()], config=LONG_PDMP))

    assert "Connecticut Prescription Monitoring" in plain.summary
    assert unread.summary == "No PDMP review on record; check the PDMP before prescribing" + MARK


def test_naloxone_names_fewer_risk_factors_to_leave_room_for_the_mark():
    temazepam = med_request(TEMAZEPAM, id="benzo1", frequency=1, period=1, period_unit="d")
    overdose = condition(ICD10, "T40.2X1A", display="Poisoning by other opioids, accidental", clinical="resolved")
    apnea = condition(SNOMED, OSA, display="Obstructive sleep apnea syndrome", recorded="2024-03-01")
    risks = [temazepam, overdose, apnea, OUD]
    plain, unread = (found["naloxone"] for found in both("order-sign", [oxycodone_draft()], risks))

    assert plain.summary.endswith(", substance use disorder and 1 more): offer naloxone")
    assert unread.summary == (
        "Higher overdose risk (90.0 MME/day, temazepam 15 MG Oral Capsule, past opioid overdose and 2 more): offer "
        "naloxone" + MARK
    )


def test_oud_treatment_cuts_the_diagnosis_not_the_finding_or_the_mark():
    plain, unread = (found["oud-treatment"] for found in both("patient-view", resources=[OUD]))

    assert plain.summary.endswith(": no OUD medication in 90 days; offer treatment")
    assert well_marked(unread.summary) and len(unread.summary) == SUMMARY_LIMIT
    assert unread.summary.endswith("…: no OUD medication in 90 days; offer treatment" + MARK)


@pytest.mark.parametrize("check", ["urine-drug-test", "reassessment-due"])
def test_the_checks_with_one_wording_mark_it_whole(check: str):
    plain, unread = (found[check] for found in both("order-sign", [oxycodone_draft()], long_term_fills()))

    assert unread.summary == plain.summary + MARK and well_marked(unread.summary)


def test_every_marked_summary_of_a_call_follows_the_rule():
    acute = med_request(OXYCODONE_5, draft=True, id="acute", supply_days=5, quantity=20)
    found = {
        **cards("order-sign", [acute, oxycodone_draft()], [OUD, *long_term_fills()], EVERY, LONG_PDMP),
        **cards("patient-view", (), [OUD], EVERY),
    }
    marked = [card for card in found.values() if MARK in card.summary]

    assert {c.check_id for c in marked} >= {"naloxone", "pdmp-review", "urine-drug-test", "oud-treatment", "high-mme"}
    assert all(well_marked(card.summary) for card in marked)
