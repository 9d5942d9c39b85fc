"""timing.repeat.timeOfDay and when items PainPlan cannot read leave the frequency unknown, never fewer doses.

An item that was no text (a number, or the null FHIR JSON puts in a primitive array where only an extension is
given) was dropped before the dosage was read: "at 08:00 and <unreadable>" was one dose a day, half the dose, with no
word that part of the schedule was not understood. Now the dose is named as one whose frequency could not be read,
unless an explicit frequency already says at least as many doses (the listed times only ever raise it). Evaluation
date 2026-06-15.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fixtures.mme.helpers import dosage, every, med_request, mme

METHADONE_10 = "864706"  # methadone hydrochloride 10 MG Oral Tablet: 10 mg x 4.7 (21-40 mg/day band aside) per dose


def only(resource: dict[str, Any]):
    summary = mme(resource)
    assert len(summary.orders) == 1
    return summary.orders[0]


@pytest.mark.parametrize("times", [["08:00", 3], ["08:00", None], ["08:00", ""], [None]])
def test_a_time_of_day_that_cannot_be_read_leaves_the_frequency_unknown(times: list[Any]) -> None:
    order = only(med_request(METHADONE_10, [dosage(1, {"repeat": {"timeOfDay": times}})]))
    assert (order.state, order.reason, order.mme) == ("unknown", "no-frequency", None)


@pytest.mark.parametrize("when", [["MORN", 7], ["MORN", None], ["MORN", ""]])
def test_a_when_code_that_cannot_be_read_leaves_the_frequency_unknown(when: list[Any]) -> None:
    order = only(med_request(METHADONE_10, [dosage(1, {"repeat": {"when": when}})]))
    assert (order.state, order.reason, order.mme) == ("unknown", "no-frequency", None)


def test_once_a_day_at_two_times_one_unreadable_is_unknown_not_once_a_day() -> None:
    # "once a day" with two times listed is read as twice a day (the times raise it); with one time unreadable,
    # dropping it read once a day.
    order = only(med_request(METHADONE_10, [dosage(1, every(1, "d", timeOfDay=["08:00", 20]))]))
    assert (order.state, order.reason) == ("unknown", "no-frequency")


def test_an_explicit_frequency_that_already_covers_every_listed_time_stands() -> None:
    # Three times a day at 08:00 and an unreadable time: two listed items can never raise three doses.
    order = only(med_request(METHADONE_10, [dosage(1, every(1, "d", frequency=3, timeOfDay=["08:00", None]))]))
    assert order.state == "ok"
    assert order.mme is not None and order.mme.quantize(Decimal("0.1")) == Decimal("141.0")


def test_readable_times_are_still_counted() -> None:
    order = only(med_request(METHADONE_10, [dosage(1, {"repeat": {"timeOfDay": ["08:00", "20:00"]}})]))
    assert order.state == "ok" and "08:00, 20:00" in order.explanation
