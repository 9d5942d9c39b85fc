"""The plan page's "Expected?" cell of a urine drug test row, as `UdsRow.expected` words it."""

from datetime import date
from typing import Any

from guideline.plan.uds_history import UdsRow


def _row(value: str = "negative", **given: Any) -> UdsRow:
    return UdsRow(date(2026, 3, 2), "Drug screen", value, (), **given)


def test_unexpected_leads_in_bold_with_why_not_judged() -> None:
    row = _row(unexpected=("unexpected positive for fentanyl",), not_judged="dated to the month only")
    assert row.expected == (
        "Unexpected:",
        "unexpected positive for fentanyl; not judged against prescriptions: dated to the month only",
    )


def test_after_today_is_neither_counted_nor_judged_whatever_it_found() -> None:
    row = _row(unexpected=("unexpected positive for fentanyl",), after_today=True)
    assert row.expected == ("", "Dated after today, so not counted or judged")


def test_expected_words_by_what_was_judged() -> None:
    assert _row(unexpected=(), not_judged="its status is unknown").expected == (
        "",
        "Not judged against prescriptions: its status is unknown",
    )
    assert _row("positive", unexpected=(), explained=("oxycodone prescribed",)).expected == (
        "",
        "Expected: oxycodone prescribed",
    )
    assert _row(unexpected=()).expected == ("", "Expected")
    assert _row("none", unexpected=()).expected == ("", "–")
