"""The plan page's urine drug test history says what the cards say of a test: why a negative judged against either
drug of an order whose code and name state different opioids is expected, on the row of that test (plan page HTML,
through the test client)."""

from __future__ import annotations

from typing import Any

import responses
from builders import patient
from test_plan_view import FakeFhir, _app, _open_plan
from test_uds_drug_named_otherwise import (
    CONFLICT,
    HYDROMORPHONE_SCREEN,
    OXYCODONE_SCREEN,
    epic_order,
    screen,
)


def _uds_table(tmp_path: Any, chart: list[dict[str, Any]]) -> str:
    """The urine drug test history's table on the plan page opened for this chart."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, chart)
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    start = html.index("<caption>Urine drug test results, newest first</caption>")
    return html[start : html.index("</table>", start)]


def _row(table: str, test: str) -> str:
    """The table row of the test named `test`."""
    start = table.index(f"<td>{test}</td>")
    return table[table.rindex("<tr", 0, start) : table.index("</tr>", start)]


def test_a_negative_the_other_drugs_positive_explains_says_why_as_the_card_does(tmp_path: Any) -> None:
    """Hydromorphone recorded under oxycodone's code: the oxycodone negative beside the hydromorphone positive is
    expected, and the row says so in the card's words; before, it said only "Expected", and the page never said why a
    negative for a prescribed drug was no unexpected result."""
    table = _uds_table(
        tmp_path,
        [
            patient(),
            epic_order("HYDROmorphone 2 MG tablet"),
            screen(OXYCODONE_SCREEN, 3, positive=False),
            screen(HYDROMORPHONE_SCREEN, 3, positive=True),
        ],
    )
    negative = _row(table, OXYCODONE_SCREEN[1])
    assert "Unexpected" not in negative
    assert f"oxycodone: negative, expected: positive for hydromorphone the same day ({CONFLICT})" in negative
    positive = _row(table, HYDROMORPHONE_SCREEN[1])
    assert "Unexpected" not in positive and "Expected: HYDROmorphone 2 MG tablet (" in positive
