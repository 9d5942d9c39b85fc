"""An order whose days' supply, as sent, is more than a prescription can hold is named with what was sent (guideline
4.1): its supply is not counted, and everything else is still evaluated."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from builders import RXNORM, UCUM, days_ago
from cds_support import bundle, full_prefetch, hook_request, make_app, plan_page
from fixtures.mme.helpers import dosage, every, med_request, mme, qty

from smart_app.cli import main

HELD = "more than a prescription can hold"
NINE_THOUSAND = f"quantity 9000 tablets at 1 a day: 9000 days' supply, {HELD}"
WHY = "check the quantity, days' supply and refills; such a supply cannot be right and was not counted"
NOT_JUDGED = ", so it could not be judged as acute or longer-term"
# Begun 10 days ago (`days_ago(10)`) with no end stated: current for 90 days from its start.
NINETY_DAYS = f", so it counts as current until {days_ago(-80)}, 90 days from its start"


def _tablets(value: int) -> dict[str, Any]:
    return {"value": value, "unit": "tablet", "system": UCUM, "code": "{tbl}"}


def _daily(tablets: int, **repeat: Any) -> dict[str, Any]:
    return {
        "text": f"Take {tablets} tablet by mouth daily",
        "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", **repeat}},
        "doseAndRate": [
            {
                "type": {"coding": [{"system": "http://epic.com/CodeSystem/dose-rate-type", "code": "admin-amount"}]},
                "doseQuantity": _tablets(tablets),
            }
        ],
    }


def epic_order(quantity: int, *, status: str = "draft", authored: str | None = None, **changes: Any) -> dict[str, Any]:
    """Epic's order of oxycodone 5 mg, 1 tablet daily, with `quantity` tablets to dispense and no days' supply (Epic
    sends none when the prescriber entered none): 9000 is 90 keyed with two zeros too many."""
    order = {
        "resourceType": "MedicationRequest",
        "id": "eOxy5.daily",
        "status": status,
        "intent": "order",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community"}
                ]
            }
        ],
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "1049621", "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
            "text": "oxyCODONE (ROXICODONE) 5 MG immediate release tablet",
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": authored or days_ago(0),
        "dosageInstruction": [_daily(1)],
        "dispenseRequest": {"quantity": _tablets(quantity), "numberOfRepeatsAllowed": 0},
    }
    return {**order, **changes}


def _cards(tmp_path: Path, hook: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    response = make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=hook_request(hook, **kwargs))
    assert response.status_code == 200
    return {card["source"]["topic"]["code"]: card for card in response.json["cards"]}


def test_a_new_order_whose_quantity_lasts_9000_days_is_named_with_it_not_as_an_order_with_no_quantity(tmp_path):
    """Before, the card said it had "no quantity with a daily dose it can read" beside its 9000 tablets at 1 a day."""
    cards = _cards(tmp_path, "order-sign", drafts=[epic_order(9000)])
    detail = cards["data-incomplete"]["detail"]
    named = (
        f"oxyCODONE (ROXICODONE) 5 MG immediate release tablet (draft order eOxy5.daily, {NINE_THOUSAND}{NOT_JUDGED})"
    )
    assert f"- {named}: {WHY}" in detail
    assert "no quantity with a daily dose it can read" not in detail  # named once, and for what it is
    # Every other check still answers: the PDMP review asked of a new opioid does not turn on its supply.
    assert "checks-not-run" not in cards and "pdmp-review" in cards


def test_an_order_with_more_refills_than_a_prescription_can_carry_is_said_to_have_a_total_that_cannot_be_right(
    tmp_path,
):
    """12 refills keyed as 120: each fill's 30 days' supply is right, only the total (121 fills) is unknown. Before,
    the card said "check the quantity and days' supply; a supply that long cannot be right" of a 30-day fill."""
    dispense = {"quantity": _tablets(30), "numberOfRepeatsAllowed": 120}
    dispense["expectedSupplyDuration"] = {"value": 30, "unit": "Day", "system": UCUM, "code": "d"}
    cards = _cards(tmp_path, "order-sign", drafts=[epic_order(30, dispenseRequest=dispense)])
    refills = f"30 days' supply with 120 refills, more refills than a prescription can carry{NOT_JUDGED}"
    assert f"(draft order eOxy5.daily, {refills}): {WHY}" in cards["data-incomplete"]["detail"]


ACUTE = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy",
            "code": "acute",
            "display": "Short course (acute) therapy",
        }
    ],
    "text": "Short course (acute) therapy",
}


def test_a_draft_sent_as_acute_is_named_as_judged_by_its_course_not_as_one_that_could_not_be_judged(tmp_path):
    """Epic sends the course of therapy the prescriber picked: the draft is judged acute by it (the non-opioid-first
    card reads it so), its 9000 tablets alone are not counted. Before, its line said it could not be judged."""
    cards = _cards(tmp_path, "order-sign", drafts=[epic_order(9000, courseOfTherapyType=ACUTE)])
    detail = cards["data-incomplete"]["detail"]
    words = f"{NINE_THOUSAND}; judged acute by its course of therapy alone"
    assert f"(draft order eOxy5.daily, {words}): {WHY}" in detail
    assert "could not be judged" not in detail and "nonopioid-first" in cards


def test_a_tapers_walk_past_what_a_prescription_can_hold_is_named_with_the_walk(tmp_path):
    """3 tablets a day for 14 days, then 1 a day with no end: 2000 tablets walk 1972 days."""
    taper = [{**_daily(3, boundsDuration={"value": 14, "unit": "d", "system": UCUM, "code": "d"}), "sequence": 1}]
    taper.append({**_daily(1), "sequence": 2})
    cards = _cards(tmp_path, "order-sign", drafts=[epic_order(2000, dosageInstruction=taper)])
    words = f"quantity 2000 tablets taken along the dosing steps: 1972 days' supply, {HELD}{NOT_JUDGED}"
    assert f"(draft order eOxy5.daily, {words}): {WHY}" in cards["data-incomplete"]["detail"]


def test_an_active_order_of_such_a_supply_is_named_on_patient_view_and_a_believable_one_is_not(tmp_path):
    """Its supply unknown, the order counts as current 90 days from its start: before, nothing said why."""
    typo = epic_order(9000, status="active", authored=days_ago(10))
    prefetch = full_prefetch("patient-view", medsActive=bundle(typo), medsRecent=bundle(typo))
    detail = _cards(tmp_path / "typo", "patient-view", prefetch=prefetch)["data-incomplete"]["detail"]
    assert f"(current order eOxy5.daily, {NINE_THOUSAND}{NINETY_DAYS}): {WHY}" in detail
    right = epic_order(90, status="active", authored=days_ago(10))
    prefetch = full_prefetch("patient-view", medsActive=bundle(right), medsRecent=bundle(right))
    cards = _cards(tmp_path / "right", "patient-view", prefetch=prefetch)
    assert "data-incomplete" not in cards or HELD not in cards["data-incomplete"]["detail"]


def test_an_active_order_of_such_a_supply_with_a_stated_end_counts_as_current_until_that_end(tmp_path):
    """Epic's validity period ends 60 days after the order was written: it is current until then, not 90 days."""
    validity = {"start": days_ago(10), "end": days_ago(-50)}
    dispense = {"quantity": _tablets(9000), "numberOfRepeatsAllowed": 0, "validityPeriod": validity}
    typo = epic_order(9000, status="active", authored=days_ago(10), dispenseRequest=dispense)
    prefetch = full_prefetch("patient-view", medsActive=bundle(typo), medsRecent=bundle(typo))
    detail = _cards(tmp_path, "patient-view", prefetch=prefetch)["data-incomplete"]["detail"]
    stated = f", so it counts as current until {days_ago(-50)}, the end it states"
    assert f"(current order eOxy5.daily, {NINE_THOUSAND}{stated}): {WHY}" in detail


def test_the_plan_pages_data_completeness_panel_names_it(tmp_path):
    page = plan_page(tmp_path, epic_order(9000, status="active", authored=days_ago(10)))
    panel = re.search(r'<section id="completeness".*?</section>', page, re.S)
    assert panel is not None
    shown = panel.group(0).replace("&#39;", "'")
    assert "1 medication order had a days' supply no prescription can hold" in shown
    assert f"(current order eOxy5.daily, {NINE_THOUSAND}{NINETY_DAYS})</li>" in shown


@pytest.mark.parametrize("quantity", [90, 9000])
def test_the_mme_of_an_order_does_not_turn_on_its_supply_and_painplan_mme_names_one_not_counted(
    tmp_path, capsys, quantity
):
    """1 tablet of oxycodone 5 mg a day is 7.5 MME/day whether 90 or 9000 tablets were dispensed; the line of the
    9000 says its supply was not counted (it is current on its first 90 days only), the line of the 90 says nothing."""
    path = tmp_path / "order.json"
    path.write_text(json.dumps(epic_order(quantity, status="active", authored=days_ago(10))))
    assert main(["mme", str(path), "--today", days_ago(0)[:10]]) == 0
    line = json.loads(capsys.readouterr().out)["orders"][0]
    assert (line["mme_per_day"], line["current"]) == (7.5, True)
    named = f"; {NINE_THOUSAND}, so its supply was not counted"
    assert line["explanation"].endswith(named) if quantity == 9000 else HELD not in line["explanation"]


# --- the MME estimated from such a supply (guideline 8.6 fallback), and a fill of one -------------------------------

OVER = (
    "the dosage gives no daily dose to read, and its expected supply duration is more than 999 days, more than a "
    "prescription can hold, so no daily dose was estimated from the dispense quantity"
)


def as_directed(days: int) -> dict[str, Any]:
    """Epic's order of oxycodone 5 mg 'take as directed' (no dose or frequency coded), #90, with the expected supply
    keyed as 1200 days (120 keyed with a zero too many): only quantity ÷ expected supply could give a daily dose."""
    supply = {"quantity": _tablets(90), "numberOfRepeatsAllowed": 0}
    supply["expectedSupplyDuration"] = {"value": days, "unit": "Day", "system": UCUM, "code": "d"}
    return epic_order(
        90,
        status="active",
        authored=days_ago(10),
        dosageInstruction=[{"text": "Take as directed"}],
        dispenseRequest=supply,
    )


def test_no_daily_dose_is_estimated_from_a_supply_no_prescription_can_hold(tmp_path, capsys):
    """Before, 90 tablets 'over 1200 days' gave 0.6 MME/day, counted, while its supply was named as not counted."""
    path = tmp_path / "order.json"
    path.write_text(json.dumps(as_directed(1200)))
    assert main(["mme", str(path), "--today", days_ago(0)[:10]]) == 0
    line = json.loads(capsys.readouterr().out)["orders"][0]
    assert line["mme_per_day"] is None
    assert OVER in line["explanation"] and "estimated from dispense quantity" not in line["explanation"]


def test_painplan_mme_says_once_that_a_supply_no_prescription_can_hold_is_more_than_one_can(tmp_path, capsys):
    """Its MME's reason says the expected supply is more than a prescription can hold; the words of what was sent,
    which say why its supply was not counted, said it again on the same line."""
    path = tmp_path / "order.json"
    path.write_text(json.dumps(as_directed(1200)))
    assert main(["mme", str(path), "--today", days_ago(0)[:10]]) == 0
    explanation = json.loads(capsys.readouterr().out)["orders"][0]["explanation"]
    assert explanation.count(HELD) == 1
    assert explanation.endswith(
        f"{OVER}; check the quantity and days' supply; expected supply duration 1200 days, so "
        "its supply was not counted"
    )


def test_one_not_estimated_is_named_as_an_mme_not_worked_out_with_why(tmp_path):
    """Named as every opioid whose MME could not be worked out is: on order-sign, the high-dose info card's list."""
    draft = {**as_directed(1200), "status": "draft", "authoredOn": days_ago(0)}
    detail = _cards(tmp_path, "order-sign", drafts=[draft])["high-mme"]["detail"]
    assert f"- oxyCODONE (ROXICODONE) 5 MG immediate release tablet: {OVER}" in detail
    assert "0.6 MME" not in detail


def test_a_believable_expected_supply_still_gives_the_estimate(tmp_path, capsys):
    """90 tablets over 30 days: 3 a day of 5 mg, 22.5 MME/day, as before."""
    path = tmp_path / "order.json"
    path.write_text(json.dumps(as_directed(30)))
    assert main(["mme", str(path), "--today", days_ago(0)[:10]]) == 0
    line = json.loads(capsys.readouterr().out)["orders"][0]
    assert line["mme_per_day"] == 22.5 and "estimated from dispense quantity" in line["explanation"]


def test_a_patch_so_estimated_is_still_one_patch_worn_at_a_time():
    """Fentanyl 75 mcg/h 'apply as directed', 10 patches over 1200 days: one worn at a time, 180 MME/day."""
    patch = med_request(
        "197696",
        [{"text": "apply as directed"}],
        dispense={"quantity": qty(10, "{patch}"), "expectedSupplyDuration": qty(1200, "d")},
    )
    (order,) = mme(patch).orders
    assert (order.state, order.mme) == ("ok", 180)


def pharmacy_fill(days: int) -> dict[str, Any]:
    """A pharmacy's dispense of oxycodone 5 mg, #90, 20 days ago, its days' supply keyed as `days`."""
    return {
        "resourceType": "MedicationDispense",
        "id": "eDisp.1200",
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "1049621", "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
            "text": "oxyCODONE 5 MG tablet",
        },
        "subject": {"reference": "Patient/p1"},
        "quantity": _tablets(90),
        "daysSupply": {"value": days, "unit": "Day", "system": UCUM, "code": "d"},
        "whenPrepared": days_ago(20),
        "whenHandedOver": days_ago(20),
    }


def test_a_fill_of_1200_days_supply_is_named_on_patient_view_with_why_its_mme_was_not_worked_out(tmp_path):
    """Before, the data-incomplete card said its MME could not be worked out, not that its days' supply was why."""
    prefetch = full_prefetch("patient-view", dispenses=bundle(pharmacy_fill(1200)))
    detail = _cards(tmp_path, "patient-view", prefetch=prefetch)["data-incomplete"]["detail"]
    named = "oxyCODONE 5 MG tablet (pharmacy fill eDisp.1200, the fill's days' supply is more than 999 days)"
    assert f"- {named}: is a current opioid whose daily dose in MME could not be worked out" in detail


# --- an expected supply of under a day (the other end of what a prescription can hold) -----------------------------

SHORT = "less than one day, shorter than any prescription's days' supply"
UNDER = (
    f"the dosage gives no daily dose to read, and its expected supply duration is {SHORT}, so no daily dose was "
    "estimated from the dispense quantity"
)
UNDER_A_DAY = [({"value": 0.01, "unit": "days"}, "0.01 days"), ({"value": 10, "unit": "min"}, "10 minutes")]


def keyed_short(sent: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Epic's draft of oxycodone 5 mg 'take as directed', #60, its expected supply keyed as `sent` (0.01 days, or 10
    minutes for 10 days): only quantity ÷ expected supply could give a daily dose."""
    dispense = {"quantity": _tablets(60), "numberOfRepeatsAllowed": 0, "expectedSupplyDuration": sent}
    return epic_order(60, dosageInstruction=[{"text": "Take as directed"}], dispenseRequest=dispense, **changes)


@pytest.mark.parametrize("sent", [sent for sent, _ in UNDER_A_DAY])
def test_no_daily_dose_is_estimated_from_an_expected_supply_under_a_day(sent):
    """Before, 60 tablets 'over 0.01 days' were 6000 tablets a day: 45000 MME/day, a false high-dose alarm."""
    dispense = {"quantity": qty(60), "expectedSupplyDuration": sent}
    (result,) = mme(med_request("1049621", [{"text": "Take as directed"}], dispense=dispense)).orders
    assert (result.state, result.mme, result.reason) == ("unknown", None, "supply-under-a-day")
    assert result.reason_text.startswith(UNDER)


def test_a_patch_over_an_expected_supply_under_a_day_is_still_one_patch_worn_at_a_time():
    patch = med_request(
        "197696",
        [{"text": "apply as directed"}],
        dispense={"quantity": qty(10, "{patch}"), "expectedSupplyDuration": qty(10, "min")},
    )
    (order,) = mme(patch).orders
    assert (order.state, order.mme) == ("ok", 180)


def test_a_readable_dose_does_not_read_an_expected_supply_of_hours():
    """An emergency department's order: 1 tablet every 6 hours, #2, its expected supply 12 hours. The dose comes from
    the dosage (4 tablets of 5 mg a day, 30 MME/day), whatever the expected supply says."""
    dispense = {"quantity": qty(2), "expectedSupplyDuration": qty(12, "h")}
    ed = med_request("1049621", [dosage(1, every(6))], dispense=dispense)
    (order,) = mme(ed).orders
    assert (order.state, order.mme) == ("ok", 30)


@pytest.mark.parametrize(("sent", "words"), UNDER_A_DAY)
def test_an_order_signed_with_an_expected_supply_under_a_day_gives_no_high_dose_alarm_and_is_named(
    tmp_path, sent, words
):
    """Its MME is named as not worked out, with why; its supply is named as not believed, with what was sent."""
    cards = _cards(tmp_path, "order-sign", drafts=[keyed_short(sent)])
    high = cards["high-mme"]
    assert high["indicator"] == "info" and "45000" not in high["detail"] and "64800" not in high["detail"]
    assert f"- oxyCODONE (ROXICODONE) 5 MG immediate release tablet: {UNDER}" in high["detail"]
    detail = cards["data-incomplete"]["detail"]
    named = f"(draft order eOxy5.daily, expected supply duration {words}, {SHORT}{NOT_JUDGED}): {WHY}"
    assert named in detail


def test_the_plan_pages_data_completeness_panel_names_an_active_order_of_a_supply_under_a_day(tmp_path):
    order = keyed_short({"value": 0.01, "unit": "days"}, status="active", authored=days_ago(10))
    page = plan_page(tmp_path, order)
    panel = re.search(r'<section id="completeness".*?</section>', page, re.S)
    assert panel is not None
    shown = panel.group(0).replace("&#39;", "'")
    assert "1 medication order had a days' supply no prescription can hold (less than one day or more than" in shown
    assert f"(current order eOxy5.daily, expected supply duration 0.01 days, {SHORT}{NINETY_DAYS})</li>" in shown


@pytest.mark.parametrize(("sent", "shown"), UNDER_A_DAY)
def test_painplan_mme_says_once_that_an_expected_supply_is_under_a_day(tmp_path, capsys, sent, shown):
    """Its MME's reason says the expected supply is under a day; the words of what was sent, which say why its
    supply was not counted, said it again on the same line."""
    path = tmp_path / "order.json"
    path.write_text(json.dumps(keyed_short(sent, status="active", authored=days_ago(10))))
    assert main(["mme", str(path), "--today", days_ago(0)[:10]]) == 0
    explanation = json.loads(capsys.readouterr().out)["orders"][0]["explanation"]
    assert explanation.count(SHORT) == 1
    assert explanation.endswith(f"; expected supply duration {shown}, so its supply was not counted")


@pytest.mark.parametrize("days", ["0.5", "1000"])
def test_each_reason_a_supply_is_not_held_has_words_for_a_fill_and_for_an_order(days):
    """A fill's reason and an order's MME reason are named by `why_not_held`'s answer: each must have its text."""
    from decimal import Decimal

    from guideline.durations import why_not_held
    from guideline.fills import FILL_REASON_TEXT
    from guideline.mme import REASON_TEXT

    unheld = why_not_held(Decimal(days))
    assert unheld is not None
    assert f"days-supply-{unheld}" in FILL_REASON_TEXT
    assert f"supply-{unheld}" in REASON_TEXT
