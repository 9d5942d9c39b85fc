"""Every card PainPlan can show uses person-centred, non-stigmatising language and fits the EHR's limits."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from builders import STIGMATISING, all_text, days_ago, med_request, run

from guideline.cards import SUMMARY_LIMIT, Card
from guideline.config import CHECK_IDS, GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import build_record
from smart_app.demo_data import load_demo_patients
from smart_app.demo_data.orders import story_draft

TZ = ZoneInfo("America/New_York")
TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 12, tzinfo=TZ)
OXYCODONE_5 = "1049621"
TRAMADOL_25_NOT_IN_TABLE = "2670390"
ZOLPIDEM_10 = "854873"
BUP_NALOXONE_FILM = "1010604"


def _demo_cards() -> list[Card]:
    config = GuidelineConfig.from_mapping()
    cards: list[Card] = []
    for patient_id, demo in load_demo_patients(TODAY).items():
        draft = story_draft(demo, NOW)
        drafts = {"resourceType": "Bundle", "entry": [{"resource": draft}]}
        for hook, record in (
            ("order-sign", build_record([demo.bundle], TZ, draft_orders=drafts)),
            ("patient-view", build_record([demo.bundle], TZ)),
        ):
            evaluation = evaluate(record, HookContext(hook, patient_id, "Practitioner/demo"), config, NOW)
            assert not evaluation.failures, (patient_id, hook, evaluation.failures)
            cards.extend(evaluation.cards)
    return cards


def _variant_cards() -> list[Card]:
    """Cards and variants the demo stories do not show: PDMP, unknown MME, other sedatives, MOUD."""
    no_pdmp = run("order-sign", drafts=[med_request(OXYCODONE_5, draft=True, supply_days=5)]).cards
    unknown = run("order-sign", drafts=[med_request(TRAMADOL_25_NOT_IN_TABLE, draft=True)]).cards
    sedative = run(
        "order-sign",
        drafts=[med_request(OXYCODONE_5, draft=True)],
        resources=[med_request(ZOLPIDEM_10, authored=days_ago(5), display="zolpidem tartrate 10 MG Oral Tablet")],
    ).cards
    moud = run(
        "order-sign",
        drafts=[med_request(BUP_NALOXONE_FILM, draft=True, frequency=1, period=1, period_unit="d")],
        resources=[med_request("197591", authored=days_ago(5))],  # diazepam 5 mg
    ).cards
    unread = med_request(OXYCODONE_5, draft=True)
    unread["medicationCodeableConcept"] = {
        "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0406-0512-01"}]
    }
    unidentified = run("order-sign", drafts=[unread]).cards
    return [*no_pdmp, *unknown, *sedative, *moud, *unidentified]


@pytest.fixture(scope="module")
def every_card() -> list[Card]:
    return _demo_cards() + _variant_cards()


def test_the_fixtures_reach_every_check(every_card: list[Card]) -> None:
    assert {c.check_id for c in every_card} == set(CHECK_IDS)


def test_no_card_uses_stigmatising_words(every_card: list[Card]) -> None:
    offending = [(c.check_id, m.group(0)) for c in every_card for m in [STIGMATISING.search(all_text(c))] if m]
    assert offending == []


def test_summaries_fit_and_every_card_explains_itself(every_card: list[Card]) -> None:
    for card in every_card:
        assert 0 < len(card.summary) <= SUMMARY_LIMIT, card.check_id
        assert "Based on" in card.detail, card.check_id
        assert card.override_reasons, card.check_id
        assert all(reason.display for reason in card.override_reasons)


def test_the_language_rule_catches_what_it_should() -> None:
    for phrase in ("Patient is an addict", "dirty urine", "Drug-seeking behaviour", "history of substance abuse"):
        assert STIGMATISING.search(phrase), phrase
    for phrase in ("substance use disorder", "negative result", "opioid use disorder", "addiction medicine"):
        assert not STIGMATISING.search(phrase), phrase
