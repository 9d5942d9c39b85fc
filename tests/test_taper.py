"""Tapering schedule: gradual steps, dates by week or calendar month, pauses, never an abrupt stop."""

from datetime import date
from decimal import Decimal

import pytest

from guideline.taper import TaperError, add_months, taper_schedule

START = date(2026, 11, 22)


def test_ten_percent_of_original_per_month_is_a_straight_line_to_zero() -> None:
    plan = taper_schedule(Decimal("90"), START, Decimal("10"), "month", "original")
    assert [s.mme for s in plan.steps] == [Decimal(90 - 9 * i) for i in range(11)]
    assert plan.steps[0].note == "current dose"
    assert plan.steps[-1].note == "stop"
    assert plan.steps[1].start == date(2026, 12, 22)
    assert plan.steps[0].end == date(2026, 12, 21)
    assert plan.steps[-1].start == date(2027, 9, 22)
    # The last dose before stopping is one ordinary step (10 % of the start), never a jump from a high dose.
    assert plan.steps[-2].mme == Decimal("9")
    assert plan.warnings == ()


def test_percent_of_current_dose_slows_down_and_still_ends() -> None:
    plan = taper_schedule(Decimal("100"), START, Decimal("20"), "week", "current")
    doses = [s.mme for s in plan.steps]
    assert doses[:4] == [Decimal("100"), Decimal("80.0"), Decimal("64.00"), Decimal("51.2000")]
    drops = [a - b for a, b in zip(doses, doses[1:-1], strict=False)]
    assert all(later <= earlier for earlier, later in zip(drops, drops[1:], strict=False))
    assert doses[-1] == 0 and plan.steps[-1].note == "stop"
    # Held for one interval at or below 10 % of the start before stopping.
    assert doses[-2] <= Decimal("10") and doses[-3] > Decimal("10")
    assert plan.steps[1].start == date(2026, 11, 29)
    assert plan.warnings  # 20 % per week is faster than usually tolerated


def test_target_dose_stops_the_taper_there() -> None:
    plan = taper_schedule(Decimal("120"), START, Decimal("10"), "month", "original", target_mme=Decimal("50"))
    assert plan.steps[-1].mme == Decimal("50")
    assert plan.steps[-1].note == "target reached"
    assert [s.mme for s in plan.steps] == [Decimal(x) for x in ("120", "108", "96", "84", "72", "60", "50")]


def test_pause_holds_the_dose_once_it_reaches_the_chosen_share() -> None:
    plan = taper_schedule(
        Decimal("100"),
        START,
        Decimal("10"),
        "month",
        "original",
        pause_at_percent=Decimal("50"),
        pause_intervals=2,
    )
    doses = [s.mme for s in plan.steps]
    assert doses[5:8] == [Decimal("50"), Decimal("50"), Decimal("50")]
    assert plan.steps[6].note.startswith("pause")
    assert doses[8] == Decimal("40")
    assert len(plan.steps) == 13


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_mme": Decimal("0")}, "no current opioid dose"),
        ({"rate_percent": Decimal("40")}, "between"),
        ({"target_mme": Decimal("95")}, "target"),
        ({"interval": "day"}, "interval"),
    ],
)
def test_impossible_requests_are_refused_with_a_readable_reason(kwargs: dict, message: str) -> None:
    arguments = {"start_mme": Decimal("90"), "start_date": START, **kwargs}
    with pytest.raises(TaperError, match=message):
        taper_schedule(**arguments)


def test_months_clamp_to_the_end_of_short_months() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
