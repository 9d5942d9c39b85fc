"""A comma inside a number of a sig ("1,5 tablets", "1,000 mcg") is read as a name's is (guideline.recognition.names:
a decimal comma, or a thousands separator), not as a list comma: "1,5 tablets" read as 5 tablets doubled the dose."""

from __future__ import annotations

from decimal import Decimal

from fixtures.mme.helpers import mme
from test_doses_by_time_of_day import epic_order


def test_a_decimal_comma_in_a_dose_by_time_of_day() -> None:
    """Oxycodone 5 mg, 1.5 tablets + 2 tablets = 3.5 tablets = 17.5 mg a day × 1.5 = 26.25 MME/day. Before: "1,5
    tablets" was "5 tablets", 7 tablets = 35 mg, 52.5 MME/day, twice the dose."""
    order = mme(epic_order("Take 1,5 tablets by mouth every morning and 2 tablets at bedtime.")).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal("26.25")), order.explanation
    assert "1.5 tablets every morning + 2 tablets at bedtime" in order.explanation


def test_a_thousands_separator_in_a_dose_by_time_of_day() -> None:
    """Morning 1,000 mcg (1 mg) and 500 mcg at bedtime of a product dosed in mcg: the two doses are read, not "000"."""
    from guideline.dosage import _timed_in_text

    timed = _timed_in_text("take 1,000 mcg every morning and 500 mcg at bedtime")
    assert timed is not None and not isinstance(timed, str)
    assert [(d.amount.shown, d.times) for d in timed.doses] == [
        ("1000 mcg", ("every morning",)),
        ("500 mcg", ("at bedtime",)),
    ]


def test_list_commas_in_a_sig_are_unchanged() -> None:
    order = mme(epic_order("take 1 tablet in the morning, 2 tablets at night")).orders[0]
    assert (order.state, order.mme) == ("ok", Decimal("22.5"))
