"""A different dose at each time of day ("1 tab every morning and 2 tabs at bedtime"): the daily amount is the sum of
the doses, and a sig whose doses cannot be paired with its times names the dose as unread (clinical-logic, "How a
dose is read", several doses a day). Read as the order's one dose taken twice, such an order under-stated MME."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cds_support import PATIENT_ID, bundle, full_prefetch, hook_request, make_app, topics
from fixtures.mme.helpers import EPIC_TYPE, RXNORM, UCUM, dosage, med_request, mme, orders, qty, terms

from guideline.config import GuidelineConfig
from guideline.supply import daily_units

OXY_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXY_15 = "1049611"  # oxycodone hydrochloride 15 MG Oral Tablet
PERCOCET_5 = "1049640"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet]


def _timing_text(text: str) -> dict[str, Any]:
    return {"code": {"text": text}}


def _only(*resources: dict[str, Any], **settings: Any):
    (order,) = mme(*resources, **settings).orders
    return order


def epic_order(
    sig: str,
    *,
    rxcui: str = OXY_5,
    strength_mg: int = 5,
    timing_text: str = "2 times daily",
    status: str = "active",
    id: str = "eRx1",
    dispense: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An Epic MedicationRequest for a dose that differs by time of day: the sig in dosageInstruction.text, Epic's
    frequency (twice a day), and its dose entries of the first dose (admin amount in tablets, calculated in mg)."""
    resource = med_request(
        None,
        [
            {
                "text": sig,
                "patientInstruction": sig,
                "timing": {
                    "repeat": {"frequency": 2, "period": 1, "periodUnit": "d"},
                    "code": {"text": timing_text},
                },
                "route": {"text": "Oral"},
                "doseAndRate": [
                    {
                        "type": {"coding": [{"system": EPIC_TYPE, "code": "calculated", "display": "calculated"}]},
                        "doseQuantity": {"value": strength_mg, "unit": "mg", "system": UCUM, "code": "mg"},
                    },
                    {
                        "type": {"coding": [{"system": EPIC_TYPE, "code": "admin-amount", "display": "admin-amount"}]},
                        "doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"},
                    },
                ],
            }
        ],
        id=id,
        status=status,
        medicationCodeableConcept={
            "text": f"oxyCODONE (ROXICODONE) {strength_mg} MG immediate release tablet",
            "coding": [
                {
                    "system": RXNORM,
                    "code": rxcui,
                    "display": f"oxycodone hydrochloride {strength_mg} MG Oral Tablet",
                }
            ],
        },
        subject={"reference": f"Patient/{PATIENT_ID}", "display": "Test, Patient"},
        category=[
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                    }
                ]
            }
        ],
        dispenseRequest=dispense or {"expectedSupplyDuration": {"value": 30, "unit": "Day", "code": "d"}},
    )
    if status == "draft":
        resource["intent"] = "order"
    return resource


# ---- the sum of the doses at each time of day ----


@pytest.mark.parametrize(
    "sig",
    [
        "1 tab every morning and 2 tabs at bedtime",
        "Take 1 tablet (5 mg total) by mouth every morning and 2 tablets (10 mg total) at bedtime.",
        "take 1 tablet in the morning, 2 tablets at night",
        "Take one tablet every morning and two tablets at bedtime",
        "5 mg qAM and 10 mg qHS",
        "1 tab qam, 2 tabs qhs",
        "2 tabs at bedtime and 1 tab every morning",
        "In the morning take 1 tab, at bedtime take 2 tabs",
        "1 in the morning and 2 at night",
        "1 tab every morning and 2 tabs at bedtime; do not exceed 3 tablets per day",
    ],
)
def test_a_different_dose_at_each_time_of_day_in_the_sig_is_summed(sig: str) -> None:
    """Oxycodone 5 mg: 1 tablet + 2 tablets = 3 tablets = 15 mg a day × 1.5 = 22.5 MME/day (it was 2 tablets, 15)."""
    order = _only(epic_order(sig))
    assert (order.state, order.mme) == ("ok", Decimal("22.5")), order.explanation
    assert order.daily_dose_text == "15 mg oxycodone/day"


def test_the_timing_text_alone_with_a_dose_at_each_time_is_summed() -> None:
    """As before the fix, the timing text's "1 tab ... and 2 tabs ..." was read as twice a day of the one dose."""
    order = _only(med_request(OXY_5, [dosage(1, _timing_text("1 tab every morning and 2 tabs at bedtime"))]))
    assert (order.state, order.mme) == ("ok", Decimal("22.5"))
    assert "1 tablet every morning + 2 tablets at bedtime (3 tablets a day)" in order.explanation


def test_the_explanation_shows_each_dose_at_its_time() -> None:
    order = _only(epic_order("Take 1 tablet by mouth every morning and 2 tablets at bedtime."))
    assert order.explanation.startswith(
        "oxyCODONE (ROXICODONE) 5 MG immediate release tablet: 1 tablet every morning + 2 tablets at bedtime "
        "(3 tablets a day) = 15 mg/day oxycodone × 1.5 = 22.5 MME/day"
    ), order.explanation


def test_doses_in_mg_by_time_of_day_on_a_combination_are_read_as_its_tablets() -> None:
    """Percocet 5/325: 650 mg is 2 tablets (of 325 mg acetaminophen) and 325 mg one: 3 tablets, 15 mg oxycodone."""
    order = _only(med_request(PERCOCET_5, [dosage(1, _timing_text("325 mg every morning and 650 mg at bedtime"))]))
    assert (order.state, order.mme) == ("ok", Decimal("22.5")), order.explanation


@pytest.mark.parametrize(
    "sig",
    [
        "5 mg = 1 tab, Oral, at bedtime",  # Oracle Health writes the dose in mg and in tablets
        "1 tab of 5 mg at bedtime",
        "oxycodone 5 mg 1 tab nightly",
        "Take 1 tablet by mouth at bedtime (5 mg)",
    ],
)
def test_one_dose_written_in_two_units_is_one_dose(sig: str) -> None:
    """Read as two doses, "5 mg = 1 tab ... at bedtime" had a dose with no time: the order named unread."""
    order = _only(
        med_request(OXY_5, [dosage(1, {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}, text=sig)])
    )
    assert (order.state, order.mme) == ("ok", Decimal("7.5")), order.explanation


@pytest.mark.parametrize(
    "sig",
    [
        "5 mg = 1 tab, Oral, every morning; 10 mg = 2 tab, Oral, at bedtime",
        "1 tab of 5 mg every morning and 2 tabs of 5 mg at bedtime",
    ],
)
def test_doses_written_in_two_units_at_each_time_are_summed(sig: str) -> None:
    order = _only(
        med_request(OXY_5, [dosage(1, {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}, text=sig)])
    )
    assert (order.state, order.mme) == ("ok", Decimal("22.5")), order.explanation


def test_the_same_dose_at_each_time_reads_as_before() -> None:
    order = _only(epic_order("Take 1 tablet by mouth every morning and 1 tablet at bedtime."))
    assert (order.state, order.mme) == ("ok", Decimal(15))
    assert "5 mg twice a day = 10 mg/day" in order.explanation


def test_the_sig_is_not_read_when_the_site_turns_timing_text_off() -> None:
    order = _only(epic_order("1 tab every morning and 2 tabs at bedtime"), parse_timing_text=False)
    assert order.mme == Decimal(15)  # frequency 2 a day × the one structured dose, as configured


# ---- doses that cannot be paired with times: the dose is named unread ----


@pytest.mark.parametrize(
    "sig",
    [
        "Take 1 tablet every 6 hours as needed and 2 tablets at bedtime",  # one dose has no time of day
        "Take 1 tablet at bedtime for 1 week, then 2 tablets at bedtime",  # two doses at one time: steps, not a sum
        "1 tab every morning and 2 tabs at bedtime, or 1 tab in the afternoon and 1 tab at bedtime",
        "1 tab every morning and 10 mg at bedtime",  # a count and a mass: not one kind of dose to add
    ],
)
def test_doses_that_cannot_be_paired_with_their_times_are_named_unread(sig: str) -> None:
    order = _only(epic_order(sig, dispense={}))
    assert (order.state, order.reason, order.mme) == ("unknown", "dose-by-time-unread", None), order.explanation
    assert "different doses at different times of day" in order.reason_text


def test_an_unpaired_sig_with_a_dispense_quantity_and_days_supply_is_estimated_from_them() -> None:
    """As for any dose that cannot be read: quantity ÷ days' supply, labelled as an estimate (90 ÷ 30 = 3 a day)."""
    sig = "Take 1 tablet at bedtime for 1 week, then 2 tablets at bedtime"
    dispense = {"quantity": qty(90, "tablet"), "expectedSupplyDuration": qty(30, "days", "d")}
    order = _only(epic_order(sig, dispense=dispense))
    assert (order.state, order.estimated_by, order.mme) == ("ok", "fallback", Decimal("22.5"))


# ---- several structured instructions, each at its own time of day ----


@pytest.mark.parametrize(
    "timings",
    [
        ({"repeat": {"timeOfDay": ["08:00:00"]}}, {"repeat": {"timeOfDay": ["21:00:00"]}}),
        ({"repeat": {"when": ["MORN"]}}, {"repeat": {"when": ["HS"]}}),
        (
            {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["MORN"]}},
            {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}},
        ),
    ],
)
def test_structured_instructions_each_with_its_time_and_dose_add_up(timings: tuple[dict, dict]) -> None:
    morning, bedtime = timings
    resource = med_request(OXY_5, [dosage(1, morning, sequence=1), dosage(2, bedtime, sequence=1)])
    order = _only(resource)
    assert (order.state, order.mme) == ("ok", Decimal("22.5"))


# ---- the days' supply from the quantity reads the same daily amount ----


def test_the_days_supply_from_a_quantity_counts_the_summed_daily_tablets() -> None:
    """90 tablets at 3 a day last 30 days, not 45."""
    resource = epic_order("1 tab every morning and 2 tabs at bedtime", dispense={"quantity": qty(90, "tablet")})
    (order,) = orders(resource)
    config = GuidelineConfig.from_mapping()
    assert daily_units(order, terms(), config) == (Decimal(3), "count")


def test_an_unpaired_sig_leaves_the_daily_tablets_unknown() -> None:
    resource = epic_order("Take 1 tablet every 6 hours as needed and 2 tablets at bedtime")
    (order,) = orders(resource)
    assert daily_units(order, terms(), GuidelineConfig.from_mapping()) == (None, None)


# ---- through the service: the order-sign card ----


def test_order_sign_counts_the_dose_at_each_time_of_day(tmp_path: Path) -> None:
    """Oxycodone 15 mg, 1 tablet every morning and 2 at bedtime: 45 mg, 67.5 MME/day, over the 50 MME/day warning.
    Read as 1 tablet twice a day it was 45 MME/day, and no dose card at all."""
    draft = epic_order(
        "Take 1 tablet (15 mg total) by mouth every morning and 2 tablets (30 mg total) at bedtime.",
        rxcui=OXY_15,
        strength_mg=15,
        status="draft",
        id="eDraft1",
    )
    body = hook_request(drafts=[draft], prefetch=full_prefetch("order-sign"))
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    assert "high-mme" in topics(response.json)
    high = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "67.5 MME/day" in high["summary"]
    assert "1 tablet every morning + 2 tablets at bedtime" in high["detail"]


def test_order_sign_names_a_dose_it_cannot_pair_with_its_times(tmp_path: Path) -> None:
    draft = epic_order(
        "Take 1 tablet every 6 hours as needed and 2 tablets at bedtime",
        rxcui=OXY_15,
        strength_mg=15,
        status="draft",
        id="eDraft2",
        dispense={},
    )
    active = epic_order("1 tab every 4 hours", rxcui=OXY_15, strength_mg=15, id="eRx9")
    active["dosageInstruction"][0]["timing"] = {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}}
    prefetch = full_prefetch("order-sign", medsActive=bundle(active))
    body = hook_request(drafts=[draft], prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    high = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "at least 135.0 MME/day" in high["summary"]  # the active order alone: 6 × 15 mg × 1.5
    assert "different doses at different times of day" in high["detail"]


def test_instructions_each_at_its_time_that_repeat_the_whole_sig_are_not_counted_twice() -> None:
    """Each structured instruction is one part of the sig: read whole on each, the day's 3 tablets were 6."""
    sig = "1 tab every morning and 2 tabs at bedtime"
    morning = dosage(1, {"repeat": {"when": ["MORN"]}}, text=sig)
    bedtime = dosage(2, {"repeat": {"when": ["HS"]}}, text=sig)
    order = _only(med_request(OXY_5, [morning, bedtime]))
    assert (order.state, order.mme) == ("ok", Decimal("22.5")), order.explanation


# ---- times of day and counts in words, read by one list each ----


@pytest.mark.parametrize(
    ("text", "per_day"),
    [
        ("one tablet every morning and one tablet at bedtime", 2),  # a dose in words between the times: once
        ("1 tab qAM", 1),  # no frequency: "qAM" was unknown as text
        ("5 mg qPM", 1),
        ("1 tab qAM and qHS", 2),  # read as the "qHS" alone: once
        ("1 tablet one time daily", 1),
        ("take once daily", 1),
        ("twice daily as needed", 2),
    ],
)
def test_times_of_day_and_counts_in_words_as_sigs_write_them(text: str, per_day: int) -> None:
    order = _only(med_request(OXY_5, [dosage(1, _timing_text(text))]))
    assert order.mme == Decimal(per_day) * Decimal("7.5"), order.explanation
