"""The plan page's urine drug test history says what the cards say of a test: why a negative judged against either
drug of an order whose code and name state different opioids is expected, and that a test's specimen validity could
not be judged, on the row of that test (plan page HTML, through the test client)."""

from __future__ import annotations

from typing import Any

import responses
from builders import patient
from test_plan_view import FakeFhir, _app, _open_plan
from test_specimen_validity_units import _unread_creatinine
from test_uds_drug_named_otherwise import (
    CONFLICT,
    HYDROMORPHONE_SCREEN,
    OXYCODONE_SCREEN,
    epic_order,
    screen,
)
from test_uds_specimen_validity import _creatinine, _ph, _with_specimen
from test_uds_unreadable_specimen import TEST_DAY, _long_term_fills, _screen

LABORATORY = [
    {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
]


def _page(tmp_path: Any, chart: list[dict[str, Any]]) -> str:
    """The plan page opened for this chart, its FHIR server answering with it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, chart)
        return _open_plan(_app(tmp_path)).get_data(as_text=True)


def _uds_table(html: str) -> str:
    """The urine drug test history's table on the page."""
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
    chart = [
        patient(),
        epic_order("HYDROmorphone 2 MG tablet"),
        screen(OXYCODONE_SCREEN, 3, positive=False),
        screen(HYDROMORPHONE_SCREEN, 3, positive=True),
    ]
    table = _uds_table(_page(tmp_path, chart))
    negative = _row(table, OXYCODONE_SCREEN[1])
    assert "Unexpected" not in negative
    assert f"oxycodone: negative, expected: positive for hydromorphone the same day ({CONFLICT})" in negative
    positive = _row(table, HYDROMORPHONE_SCREEN[1])
    assert "Unexpected" not in positive and "Expected: HYDROmorphone 2 MG tablet (" in positive


def test_a_test_whose_specimen_validity_could_not_be_judged_says_so_on_its_row(tmp_path: Any) -> None:
    """A creatinine in mmol/24 h: the data-completeness panel names it; the row of the test it is the specimen of
    says so too, in the card's words, where a clinician reads the negative."""
    results = [*_screen("NEGATIVE", "NEGATIVE"), _unread_creatinine("mmol/(24.h)", "mmol/24 h", category=LABORATORY)]
    html = _page(tmp_path, [patient(), *_long_term_fills(), *_with_specimen(results)])
    written = "Creatinine [Mass/volume] in Urine 15 mmol/24 h, a unit PainPlan does not read"
    assert f"{written} (specimen of the urine drug test of {TEST_DAY})" in html  # the data-completeness panel's
    said = f"a dilute specimen can read negative, and this one&#39;s validity could not be judged: {written}"
    table = _uds_table(html)
    for test in ("Opiates Ur Ql Scn", "oxyCODONE+oxyMORphone Ur Ql Scn"):
        assert said in _row(table, test)


def test_a_positive_whose_specimen_may_be_invalid_says_so_on_its_row(tmp_path: Any) -> None:
    """A pH given only as "<5" may be 4, an invalid specimen whose positives are unread too: the positive's row says
    so, where before only a negative's did."""
    ph = _ph(5, category=LABORATORY) | {"valueQuantity": {"value": 5, "comparator": "<", "unit": "[pH]"}}
    results = [*_screen("POSITIVE", "POSITIVE", flag="A", oxycodone_flag="A"), _creatinine(85, category=LABORATORY), ph]
    html = _page(tmp_path, [patient(), *_long_term_fills(), *_with_specimen(results)])
    written = "pH of Urine, given only as &lt; 5 [pH], which cannot tell whether the specimen was invalid"
    said = (
        "a substituted or invalid specimen may not be the patient&#39;s urine, and this one&#39;s validity could not "
        f"be judged: {written}"
    )
    assert said in _row(_uds_table(html), "Opiates Ur Ql Scn")


def test_a_positive_whose_specimen_read_invalid_says_so_on_its_row(tmp_path: Any) -> None:
    """A pH of 3 reads the specimen invalid for certain: its positive stands, and its row says what the card's line
    says, as it does of a pH that only may be invalid (before, the possible verdict was said, the certain one not)."""
    results = [
        *_screen("POSITIVE", "POSITIVE", flag="A", oxycodone_flag="A"),
        _creatinine(85, category=LABORATORY),
        _ph(3, category=LABORATORY),
    ]
    html = _page(tmp_path, [patient(), *_long_term_fills(), *_with_specimen(results)])
    said = (
        "its specimen&#39;s validity results read it invalid; a substituted or invalid specimen may not be the "
        "patient&#39;s urine"
    )
    assert said in _row(_uds_table(html), "Opiates Ur Ql Scn")


def test_a_negative_whose_creatinine_rules_dilution_out_says_only_what_is_open_on_its_row(tmp_path: Any) -> None:
    """A creatinine of 85 mg/dL beside a pH "<5": only "invalid" is open, so the negative's row says so, by the card's
    rule; it said "a dilute specimen can read negative", which the creatinine had ruled out."""
    ph = _ph(5, category=LABORATORY) | {"valueQuantity": {"value": 5, "comparator": "<", "unit": "[pH]"}}
    results = [*_screen("NEGATIVE", "NEGATIVE"), _creatinine(85, category=LABORATORY), ph]
    html = _page(tmp_path, [patient(), *_long_term_fills(), *_with_specimen(results)])
    written = "pH of Urine, given only as &lt; 5 [pH], which cannot tell whether the specimen was invalid"
    said = (
        "an invalid or substituted specimen may not show what the patient takes, and this one&#39;s validity could "
        f"not be judged: {written}"
    )
    table = _uds_table(html)
    for test in ("Opiates Ur Ql Scn", "oxyCODONE+oxyMORphone Ur Ql Scn"):
        assert said in _row(table, test)
        assert "a dilute specimen can read negative" not in _row(table, test)
