"""A decimal comma in a sig's count of hours or days ("every 4,5 hours", "q4,5h", Oracle Health's frequency display
"Q 4,5 HR PRN", a GTS-style code "Q4,5H") may be 4.5 or a list, "4, 5": read as 4.5 hours it was 5.33 doses a day,
where every 4 hours is 6; a guess either way. It is not read, and the order is named as having no frequency (as "2,5
times a day" is), unless every reading gives one count: "every 4 to 6,5 hours" is every 4 hours however 6,5 is read.
A decimal point ("every 4.5 hours") means one thing and is read. The comma rules are `guideline.commas`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fixtures.mme.helpers import GTS, dosage, every, med_request, mme

from guideline.mme import quantize6 as q6

CERNER_FREQUENCY = "https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d/codeSet/4003"
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet


def _order(timing: dict) -> Any:
    return mme(med_request(OXYCODONE_5, [dosage(1, timing)])).orders[0]


@pytest.mark.parametrize(
    "timing",
    [
        {"code": {"text": "every 4,5 hours"}},  # Epic's frequency text
        {"code": {"text": "q4,5h"}},
        {"code": {"text": "Q4,5H PRN"}},
        {"code": {"coding": [{"system": CERNER_FREQUENCY, "code": "696531", "display": "Q 4,5 HR PRN"}]}},
        {"code": {"coding": [{"system": GTS, "code": "Q4,5H"}]}},
        {"code": {"text": "every 1,5 days"}},
    ],
    ids=["epic-text", "shorthand", "upper-prn", "oracle-display", "gts-code", "days"],
)
def test_a_decimal_comma_in_a_count_of_hours_is_named_not_guessed(timing: dict) -> None:
    order = _order(timing)
    assert (order.state, order.reason, order.mme) == ("unknown", "no-frequency", None)


def test_a_decimal_point_is_still_read() -> None:
    order = _order({"code": {"text": "every 4.5 hours"}})
    assert (order.state, q6(order.mme)) == ("ok", Decimal(40))


def test_a_range_whose_shorter_period_every_reading_agrees_on_is_read() -> None:
    order = _order({"code": {"text": "every 4 to 6,5 hours as needed"}})
    assert (order.state, order.mme) == ("ok", Decimal(45))  # every 4 hours: 6 a day, whatever 6,5 is
    shorter = _order({"code": {"text": "every 4,5 to 6 hours as needed"}})
    assert (shorter.state, shorter.reason) == ("unknown", "no-frequency")


def test_a_structured_period_sent_as_text_is_one_number_and_read() -> None:
    # repeat.period "4,5": a single number field holds no list, so its comma is a decimal one.
    order = _order(every("4,5"))
    assert (order.state, q6(order.mme)) == ("ok", Decimal(40))


def test_the_comma_rules_are_one_module() -> None:
    from guideline.commas import comma_readings, commas_read

    assert comma_readings("4,5") == (Decimal("4.5"), Decimal(4), Decimal(5))
    assert comma_readings("4") == (Decimal(4),)
    assert commas_read("every 4,5 hours", decimal=False) == "every 4,5 hours"
    assert commas_read("every 1,000 hours", decimal=False) == "every 1000 hours"
