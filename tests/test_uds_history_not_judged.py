"""The plan page's urine drug test history never reads "Expected" beside a result PainPlan did not judge against
prescriptions (a drug it does not judge, one the site's settings leave out): the row says it was not judged and why,
as the data-completeness panel names it (plan page HTML, through the test client)."""

from __future__ import annotations

from typing import Any

import pytest
from builders import days_ago, observation, patient, run
from test_diagnostic_reports import linked_report, long_term
from test_uds_history_card_words import _page, _row, _uds_table
from test_uds_never_silent import AMITRIPTYLINE, FENTANYL_SCREEN, POSITIVE_STRING, epic_drug_screen, epic_order
from test_uds_unreadable_specimen import _epic_result, _long_term_fills

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.plan.uds_history import build_uds

SERTRALINE = ("32112-5", "Sertraline Ur Ql")  # Sertraline [Presence] in Urine: a drug PainPlan does not judge
CANNABINOIDS = ("18282-4", "Cannabinoids Ur Ql Scn")  # left out by the default setting (`cannabinoid` off)
TRICYCLICS = ("19312-8", "Tricyclics Ur Ql Scn")  # judged only against a prescription found by its name
OXYCODONE = ("58430-0", "oxyCODONE+oxyMORphone Ur Ql Scn")


def _result(test: tuple[str, str], value: str, ident: str) -> dict[str, Any]:
    """An Epic Beaker result flagged as a positive (A) or a negative (N) is."""
    return _epic_result(*test, value, ident=ident, flag="A" if value == "POSITIVE" else "N")


def _expected_cell(table: str, test: tuple[str, str]) -> str:
    """The row's "Expected?" cell: its last cell."""
    row = _row(table, test[1])
    return row[row.rindex("<td>") :]


def test_a_positive_for_a_drug_not_judged_never_reads_expected(tmp_path: Any) -> None:
    """Sertraline and cannabinoids positive beside a judged oxycodone positive: the panel names both as not judged,
    but their rows read "Expected", as if checked against the prescriptions and found explained."""
    results = [
        _result(SERTRALINE, "POSITIVE", "eUDS.1"),
        _result(CANNABINOIDS, "POSITIVE", "eUDS.2"),
        _result(OXYCODONE, "POSITIVE", "eUDS.3"),
    ]
    table = _uds_table(_page(tmp_path, [patient(), *_long_term_fills(), *results]))
    sertraline = _expected_cell(table, SERTRALINE)
    assert "Expected" not in sertraline
    assert "Not judged against prescriptions: sertraline, which PainPlan does not judge" in sertraline
    cannabinoids = _expected_cell(table, CANNABINOIDS)
    assert "Expected" not in cannabinoids
    assert "Not judged against prescriptions: cannabinoids, which this site&#39;s settings leave out" in cannabinoids
    assert "Not judged" not in _expected_cell(table, OXYCODONE)  # judged as it was (before the fills, unexpected)


def test_a_negative_for_a_drug_not_judged_never_reads_expected(tmp_path: Any) -> None:
    """A negative for sertraline is not named (it explains nothing to look at), but it was not judged either: a
    patient on sertraline whose test reads negative is no "Expected"."""
    results = [_result(SERTRALINE, "NEGATIVE", "eUDS.1")]
    table = _uds_table(_page(tmp_path, [patient(), *_long_term_fills(), *results]))
    cell = _expected_cell(table, SERTRALINE)
    assert "Expected" not in cell and "Not judged against prescriptions: sertraline" in cell


def test_a_tricyclic_positive_its_prescription_explains_says_which(tmp_path: Any) -> None:
    """The prescription found by its name that keeps it off the panel is named on its row, as a judged positive's is;
    with none, the row says it was not judged."""
    amitriptyline = epic_order(*AMITRIPTYLINE, authored=days_ago(120))  # supplied over the test day
    results = [_result(TRICYCLICS, "POSITIVE", "eUDS.1")]
    table = _uds_table(_page(tmp_path, [patient(), *_long_term_fills(), amitriptyline, *results]))
    assert "Expected: amitriptyline 25 mg tablet (2026-02-15)" in _expected_cell(table, TRICYCLICS)
    table = _uds_table(_page(tmp_path, [patient(), *_long_term_fills(), *results]))
    cell = _expected_cell(table, TRICYCLICS)
    assert "Expected" not in cell and "Not judged against prescriptions: tricyclic antidepressants" in cell


def test_a_positive_screen_naming_no_substance_says_so_and_its_heading_stays_as_it_was(tmp_path: Any) -> None:
    """Epic's "DRUG SCREEN, URINE" with one overall value: the panel names it "positive for an unnamed substance", and
    its row read "Expected". A heading whose members carry the results is no result of its own: left as it was."""
    screen = epic_drug_screen(POSITIVE_STRING, when=days_ago(10))
    table = _uds_table(_page(tmp_path, [patient(), *_long_term_fills(), screen]))
    cell = _expected_cell(table, ("", "DRUG SCREEN, URINE"))
    assert "Expected" not in cell and "Not judged against prescriptions: the test names no substance" in cell
    heading = epic_drug_screen(POSITIVE_STRING, when=days_ago(10)) | {"hasMember": [{"reference": "Observation/f1"}]}
    member = observation(FENTANYL_SCREEN, when=days_ago(10), value_string="Positive") | {"id": "f1"}
    page = _page(tmp_path, [patient(), *_long_term_fills(), heading, member])
    assert "names no substance" not in _uds_table(page)


# -- a result with no value read --------------------------------------------------------------------------------


def test_a_result_not_read_says_why_beside_its_value(tmp_path: Any) -> None:
    """Epic's "NEGATIVE-DILUTE" and an "Inconclusive" screen were shown as "none" with "–" beside: read as none
    detected, a negative. The row says it could not be read, and why when its words say (as a report's row does)."""
    dilute = _epic_result("19295-5", "Opiates Ur Ql Scn", "NEGATIVE-DILUTE", ident="eUDS.1")
    inconclusive = _epic_result(*OXYCODONE, "Inconclusive", ident="eUDS.2", flag=None)
    table = _uds_table(_page(tmp_path, [patient(), *_long_term_fills(), dilute, inconclusive]))
    dilute_cell = _expected_cell(table, ("", "Opiates Ur Ql Scn"))
    assert dilute_cell == "<td>Not judged against prescriptions: could not be read (dilute specimen)</td>"
    assert _expected_cell(table, OXYCODONE) == "<td>Not judged against prescriptions: could not be read</td>"


# -- a result of unknown status ----------------------------------------------------------------------------------


def test_a_result_of_unknown_status_is_a_row_never_no_results(tmp_path: Any) -> None:
    """A fentanyl screen flagged positive, sent with status "unknown", for a patient on fills alone (the card does not
    apply, so the panel names nothing): the section read "No urine drug test results in the past 13 months"."""
    screen = _epic_result("65750-2", "Fentanyl Ur Ql Scn", "POSITIVE", ident="eUDS.1", flag="A") | {"status": "unknown"}
    html = _page(tmp_path, [patient(), *_long_term_fills(), screen])
    assert "No urine drug test results in the past" not in html
    row = _row(_uds_table(html), "Fentanyl Ur Ql Scn")
    assert "<td>2026-03-02</td>" in row and "<td>of unknown status, not read</td>" in row
    assert row.endswith("<td>Not judged against prescriptions: its status is unknown</td>")


def test_a_negative_its_reports_conclusion_contradicts_says_so_not_could_not_be_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Quest's panel concluding "Positive for oxycodone" over its own "Negative": the result was read, and left unread
    because its report disagrees (the report's own row says both), not a value that could not be read."""
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    contradicted = linked_report("referenced", "Positive for oxycodone", "Negative")
    evaluation = run("patient-view", resources=[long_term(), *contradicted])
    [row] = [row for row in build_uds(evaluation.facts).rows if row.value == "none"]
    assert row.not_judged == "its lab report's conclusion disagrees with it (read the more cautious way)"
