"""timing.repeat.dayOfWeek that PainPlan cannot read makes the frequency unknown, never fewer days.

A day it could not read was dropped: "every 4 hours on mon and <junk>" was read as Mondays only, a seventh of the
dose, and the card showed a low MME with no word that part of the schedule was not understood. Now the dose is
named as one whose frequency could not be read, as an unreadable period or frequency is. Standard day codes are read
whatever their letter case ("Mon" is mon). Evaluation date 2026-06-15.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import card, run
from builders import med_request as outpatient_request
from fixtures.mme.helpers import dosage, every, med_request, mme, orders, qty

from guideline.dosage import doses_per_day

OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
METHADONE_10 = "864706"  # methadone hydrochloride 10 MG Oral Tablet


def only(resource: dict[str, Any]):
    summary = mme(resource)
    assert len(summary.orders) == 1
    return summary.orders[0]


@pytest.mark.parametrize(
    "days",
    [
        ["mon", "junk"],
        ["mon", "monday"],  # a day's name is no FHIR day code
        ["mon", 3],
        ["mon", None],
        ["mon", ""],
        ["Monday"],
        [3],
        [None],
    ],
)
def test_a_day_of_the_week_that_cannot_be_read_leaves_the_frequency_unknown(days: list[Any]) -> None:
    order = only(med_request(METHADONE_10, [dosage(1, every(1, "d", dayOfWeek=days))]))
    assert (order.state, order.reason, order.mme) == ("unknown", "no-frequency", None)


@pytest.mark.parametrize("days", [["Mon", "WED", "Fri"], ["MON", "wed", "fri"]])
def test_day_codes_in_another_letter_case_are_read(days: list[str]) -> None:
    order = only(med_request(METHADONE_10, [dosage(1, every(1, "d", dayOfWeek=days))]))
    assert order.state == "ok"
    assert order.mme is not None and order.mme.quantize(Decimal("0.1")) == Decimal("20.1")  # 3 days of 7
    assert "Mon, Wed, Fri" in order.explanation


def test_the_days_supply_from_the_quantity_is_unknown_too() -> None:
    resource = med_request(
        OXYCODONE_10, [dosage(1, every(6, dayOfWeek=["mon", "junk"]))], dispense={"quantity": qty(40)}
    )
    dosages = orders(resource)[0].dosages
    assert doses_per_day(dosages[0]) is None


def test_an_unreadable_day_no_longer_hides_a_high_dose_on_the_order_card() -> None:
    # 2 tablets of oxycodone 10 mg every 4 hours is 180 MME/day; read as Mondays only it was 25.7, and no card said
    # that part of the schedule was not understood.
    draft = outpatient_request(OXYCODONE_10, id="ox-days", draft=True, dose=2, period=4, supply_days=None)
    draft["dosageInstruction"][0]["timing"]["repeat"]["dayOfWeek"] = ["mon", "junk"]
    evaluation = run("order-sign", drafts=[draft])
    assert evaluation.facts.mme.total == 0
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "oxycodone" in high.detail.lower() and "no frequency" in high.detail
