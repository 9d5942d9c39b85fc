"""Standing risk: patient-view and `review` judge the current state; fills count as supply and MME (issue 10)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from guideline.cards import Snooze
from guideline.checks import CHECKS
from guideline.config import DEFAULTS, ConfigError, GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate, review
from guideline.record import build_record
from smart_app.demo_data import load_demo_patients
from smart_app.demo_data.orders import draft_bundle, story_draft
from tests.builders import (
    ICD10,
    NOW,
    PATIENT_ID,
    RXNORM,
    TZ,
    UCUM,
    card,
    condition,
    days_ago,
    med_request,
    patient,
    run,
)

MORPHINE_ER_30 = "891888"
OXYCODONE_5 = "1049621"
NALOXONE_SPRAY = "1725059"


def fill(rxcui: str, handed_over: str, quantity: int = 60, days: int = 30, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        "id": f"fill-{rxcui}-{handed_over}",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "whenHandedOver": handed_over,
        "quantity": {"value": quantity, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
        "daysSupply": {"value": days, "unit": "d", "system": UCUM, "code": "d"},
        **extra,
    }


def oxycodone_draft() -> dict[str, Any]:
    return med_request(OXYCODONE_5, id="draft-oxy", draft=True)  # 1 tab q6h = 30 MME/day


# -- fills as exposure and MME ------------------------------------------------------------------------------------


def test_fills_only_patient_has_an_mme_on_patient_view_and_it_says_where_it_came_from():
    evaluation = run("patient-view", resources=[fill(MORPHINE_ER_30, days_ago(10))])
    assert evaluation.facts.mme.total == Decimal(60)  # 60 tablets × 30 mg ÷ 30 days × 1
    high = card(evaluation, "high-mme")
    assert high is not None and high.indicator == "warning"
    assert high.summary == (
        "Current opioid dose 60.0 MME/day from pharmacy fills — overdose risk rises with dose; "
        "use the lowest effective dose"
    )
    assert "From pharmacy fills" in high.detail and "60 tablets ÷ 30 days' supply" in high.detail
    assert high.suggestions == () and high.orders == ()


def test_fill_only_supply_adds_to_a_new_order_of_a_different_drug():
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[fill(MORPHINE_ER_30, days_ago(10))])
    assert evaluation.facts.mme.total == Decimal(90)  # 60 from the fill + 30 from the draft
    assert card(evaluation, "high-mme").indicator == "critical"


def test_an_order_and_its_fill_are_one_supply():
    order = med_request(MORPHINE_ER_30, id="rx-m", authored=days_ago(12), period=12)  # 2 × 30 mg = 60
    linked = fill(MORPHINE_ER_30, days_ago(10), authorizingPrescription=[{"reference": "MedicationRequest/rx-m"}])
    assert run("patient-view", resources=[order, linked]).facts.mme.total == Decimal(60)
    # without the reference, the same drug overlapping in time is the same supply too
    unlinked = fill(MORPHINE_ER_30, days_ago(10))
    assert run("patient-view", resources=[order, unlinked]).facts.mme.total == Decimal(60)


def test_a_renewal_draft_and_the_fill_of_the_order_it_renews_are_one_supply():
    order = med_request(OXYCODONE_5, id="rx-o", authored=days_ago(12))
    renewal = med_request(OXYCODONE_5, id="draft-o", draft=True)
    renewal["priorPrescription"] = {"reference": "MedicationRequest/rx-o"}
    evaluation = run("order-sign", drafts=[renewal], resources=[order, fill(OXYCODONE_5, days_ago(11), quantity=120)])
    assert evaluation.facts.mme.total == Decimal(30)


def test_early_refill_of_the_same_drug_does_not_double_the_dose():
    fills = [fill(MORPHINE_ER_30, days_ago(25)), fill(MORPHINE_ER_30, days_ago(5))]  # 20 days early
    assert run("patient-view", resources=fills).facts.mme.total == Decimal(60)


def test_fills_of_different_drugs_add():
    fills = [fill(MORPHINE_ER_30, days_ago(5)), fill(OXYCODONE_5, days_ago(5), quantity=120)]
    assert run("patient-view", resources=fills).facts.mme.total == Decimal(90)  # 60 + 30


def test_a_finished_fill_does_not_count():
    assert run("patient-view", resources=[fill(MORPHINE_ER_30, days_ago(40))]).facts.mme.state == "none"


# -- standing risk on patient-view --------------------------------------------------------------------------------


def test_walter_patient_view_shows_the_high_dose_and_naloxone_cards():
    day = date(2026, 3, 15)
    walter = load_demo_patients(day)["walter-brooks"]
    record = build_record(walter.resources(), TZ)
    now = datetime(2026, 3, 15, 10, 30, tzinfo=ZoneInfo("America/New_York"))
    evaluation = evaluate(record, HookContext("patient-view", walter.id), GuidelineConfig.from_mapping(), now)
    ids = [c.check_id for c in evaluation.cards]
    assert ids == ["high-mme", "naloxone"]
    high = evaluation.cards[0]
    assert high.indicator == "critical" and high.summary.startswith("Current opioid dose 90.0 MME/day")
    assert "90.0 MME/day" in evaluation.cards[1].summary


def test_review_is_patient_view_without_drafts():
    day = date(2026, 3, 15)
    now = datetime(2026, 3, 15, 10, 30, tzinfo=ZoneInfo("America/New_York"))
    walter = load_demo_patients(day)["walter-brooks"]
    with_draft = build_record(walter.resources(), TZ, draft_orders=draft_bundle([story_draft(walter, now)]))
    evaluation = review(with_draft, GuidelineConfig.from_mapping(), now)
    assert [c.check_id for c in evaluation.cards] == ["high-mme", "naloxone"]
    assert evaluation.facts.mme.total == Decimal(90)  # the hydrocodone draft is not the patient's current state


def test_standing_cards_are_snoozable():
    resources = [fill(MORPHINE_ER_30, days_ago(10))]
    snooze = Snooze("high-mme", PATIENT_ID, NOW + timedelta(days=30), "warning")
    evaluation = run("patient-view", resources=resources, snoozes=[snooze])
    assert card(evaluation, "high-mme") is None
    assert [c.check_id for c in evaluation.snoozed] == ["high-mme"]


def test_no_naloxone_card_when_the_patient_has_naloxone():
    resources = [fill(MORPHINE_ER_30, days_ago(10), quantity=120), med_request(NALOXONE_SPRAY)]  # 120 MME/day
    evaluation = run("patient-view", resources=resources)
    assert card(evaluation, "naloxone") is None and card(evaluation, "high-mme") is not None


def test_standing_cards_need_a_current_opioid():
    evaluation = run("patient-view", resources=[condition(ICD10, "G47.33"), patient()])
    assert card(evaluation, "naloxone") is None and card(evaluation, "high-mme") is None


def test_general_exclusions_apply_on_patient_view_as_on_order_sign():
    young = patient("2012-01-01")
    evaluation = run("patient-view", resources=[young, fill(MORPHINE_ER_30, days_ago(10), quantity=120)])
    assert card(evaluation, "high-mme") is None and card(evaluation, "naloxone") is None


# -- a check runs only where it can judge ---------------------------------------------------------------------------


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_configuration_refuses_a_hook_the_check_cannot_evaluate(check_id):
    for hook in ("order-select", "order-sign", "patient-view"):
        override = {"checks": {check_id: {"hooks": [hook]}}}
        if hook in CHECKS[check_id].HOOKS:
            GuidelineConfig.from_mapping(override)
        else:
            with pytest.raises(ConfigError, match=rf"checks\.{check_id}\.hooks"):
                GuidelineConfig.from_mapping(override)
    # a switched-off check may keep any hooks
    GuidelineConfig.from_mapping({"checks": {check_id: {"hooks": ["patient-view"], "enabled": False}}})


def test_default_hooks_are_all_evaluable_and_patient_view_has_the_standing_checks():
    for check_id, table in DEFAULTS["checks"].items():
        assert set(table["hooks"]) <= CHECKS[check_id].HOOKS
    on_patient_view = {c for c, t in DEFAULTS["checks"].items() if "patient-view" in t["hooks"]}
    assert {
        "high-mme",
        "naloxone",
        "opioid-benzodiazepine",
        "urine-drug-test",
        "reassessment-due",
        "oud-treatment",
    } <= on_patient_view


LORAZEPAM_1 = "197901"


def test_opioid_and_benzodiazepine_known_only_from_fills_give_the_card_on_patient_view():
    fills = [fill(OXYCODONE_5, days_ago(5), quantity=120), fill(LORAZEPAM_1, days_ago(5), quantity=60)]
    evaluation = run("patient-view", resources=fills)
    both = card(evaluation, "opioid-benzodiazepine")
    assert both is not None and "(filled)" in both.summary
    assert "pharmacy fill" in both.detail and both.orders == ()
    offer = card(evaluation, "naloxone")  # 30 MME/day, but the benzodiazepine fill is a risk factor
    assert offer is not None and "pharmacy fill" in offer.detail
    # a finished benzodiazepine fill is not a current one
    earlier = [fill(OXYCODONE_5, days_ago(5), quantity=120), fill(LORAZEPAM_1, days_ago(60), quantity=60)]
    assert card(run("patient-view", resources=earlier), "opioid-benzodiazepine") is None
