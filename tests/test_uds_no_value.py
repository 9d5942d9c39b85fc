"""A urine drug test result that carries no value at all is no test read. Settled (final, amended, corrected) with
no value, flag, note, reason a value is absent or component with one, it counted as the year's test: for a patient
on long-term opioids whose only test was one, the `urine-drug-test` card was quiet and the tile said up to date on a
result the record does not carry. It is now a test that could not be read, named as such on the card, the tile, the
note and the history. A panel heading whose preliminary members await theirs is found among the results once per
reading, not by a scan of every result per heading."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from builders import LOINC, card, med_request, patient, run
from cds_support import raising
from test_plan import plan_for
from test_uds_card_result_pending import LAB, OPIATES, PANEL, _oracle_registered_report, _sign
from test_uds_unreadable_specimen import OXYCODONE_5, TEST_DAY, _long_term_fills

from guideline.plan.note import note_text
from guideline.uds import awaiting_results, drug_tests_done_days
from guideline.uds import tests_done as counted_by_the_review
from guideline.undated import future_dated_drug_tests

CHECK_ID = "urine-drug-test"
DAY = "2026-06-01"  # two weeks before the tests' today, 2026-06-15


def _epic(code: str, display: str, ident: str, status: str = "final", **value: Any) -> dict[str, Any]:
    """Epic Beaker: a urine drug test result of `status` with `value` (none: nothing but its name and times)."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": status,
        "category": [LAB],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": f"{DAY}T09:14:00-05:00",
        "issued": f"{DAY}T11:02:00Z",
        **value,
    }


# -- work: a hostile body of preliminary panel headings ------------------------------------------------------------


class _Walked(tuple):  # type: ignore[type-arg]
    """The record's results, counting each walk through them."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        type(self).walks += 1
        return super().__iter__()


def test_preliminary_panel_headings_are_read_in_a_fixed_number_of_walks() -> None:
    # Each heading looked for its members by walking every result: n headings were n walks, O(n²) in all.
    headings = 200
    resources: list[dict[str, Any]] = []
    for n in range(headings):
        resources.append(_epic(*PANEL, f"P{n}", "preliminary", hasMember=[{"reference": f"Observation/M{n}"}]))
        resources.append(_epic(*OPIATES, f"M{n}", "preliminary"))
    evaluation = run("patient-view", resources=[patient(), *resources])
    record, terms = evaluation.facts.record, evaluation.facts.terms
    _Walked.walks = 0
    walked = _Walked(record.observations)
    assert len(awaiting_results(replace(record, observations=walked), terms)) == 2 * headings
    assert counted_by_the_review(walked, terms) == ()
    assert _Walked.walks <= 8


# -- a settled result with no value at all -----------------------------------------------------------------------

NO_VALUE = f"The test of {DAY} could not be read as a result: no result value on record; a new test is due."
SUMMARY = f"Order a urine drug test: the test of {DAY} could not be read (no result value on record)"


@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
@pytest.mark.parametrize("test", [OPIATES, PANEL], ids=["Epic opiates screen", "Epic 5-drug panel"])
def test_a_settled_result_with_no_value_is_no_test_read(test: tuple[str, str], status: str) -> None:
    found = card(_sign(_epic(*test, "eUDS.F1", status)), CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert found.summary == SUMMARY
    assert found.detail.startswith(
        f"There is **no readable urine drug test result on record** for this patient. {NO_VALUE}"
    )


def test_beside_an_older_test_read_it_is_named_after_it() -> None:
    older = _epic(*OPIATES, "eUDS.O1", valueString="Negative") | {"effectiveDateTime": "2025-03-02T09:14:00-05:00"}
    found = card(_sign(older, _epic(*OPIATES, "eUDS.F1")), CHECK_ID)
    assert found is not None and found.facts["last_test"] == "2025-03-02"
    assert (
        f"The last readable urine drug test result on record is from **2025-03-02**, over 12 months ago. {NO_VALUE}"
        in found.detail
    )


FLAG = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": "N"}]}
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
ABSENT = {"coding": [{"system": DAR, "code": "masked", "display": "Masked"}]}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"valueString": "Negative"}, id="a value"),
        pytest.param({"interpretation": [FLAG]}, id="a flag only"),
        pytest.param({"note": [{"text": "See scanned report in Media"}]}, id="a note only"),
        pytest.param({"dataAbsentReason": ABSENT}, id="a reason its value is elsewhere (masked), as before"),
        pytest.param(
            {"component": [{"code": {"coding": [{"system": LOINC, "code": "19295-5"}]}, "valueString": "Neg"}]},
            id="a component with a value",
        ),
    ],
)
def test_a_settled_result_with_something_of_a_result_is_still_the_years_test(value: dict[str, Any]) -> None:
    assert card(_sign(_epic(*OPIATES, "eUDS.F1", **value)), CHECK_ID) is None


def test_a_panel_heading_whose_members_carry_the_values_is_the_years_test() -> None:
    heading = _epic(*PANEL, "eUDS.P", hasMember=[{"reference": "Observation/eUDS.P1"}])
    assert card(_sign(heading, _epic(*OPIATES, "eUDS.P1", valueString="Negative")), CHECK_ID) is None


def _quest_report(**said: Any) -> dict[str, Any]:
    """Quest: the drug screen report linking the empty screen result, saying the result in its own words."""
    return {
        "resourceType": "DiagnosticReport",
        "id": "dr-q1",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": PANEL[0]}], "text": "Drug Screen Urine"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": f"{DAY}T09:14:00-05:00",
        "result": [{"reference": "Observation/eUDS.F1"}],
        **said,
    }


@pytest.mark.parametrize(
    "said",
    [
        pytest.param({"conclusion": "Negative for all drugs tested"}, id="its conclusion"),
        pytest.param({"presentedForm": [{"contentType": "application/pdf", "url": "Binary/b1"}]}, id="its document"),
    ],
)
def test_an_empty_result_its_lab_report_speaks_for_is_the_years_test(said: dict[str, Any]) -> None:
    # Quest and Labcorp send an empty screen result and say what it found in the report that links it.
    assert card(_sign(_epic(*OPIATES, "eUDS.F1"), _quest_report(**said)), CHECK_ID) is None


def test_the_tile_the_note_the_history_and_patient_view_name_it() -> None:
    # Long-term fills, no active opioid order: `unexpected-uds-result` does not apply, and only the history's row
    # "none" showed the result.
    resources = [*_long_term_fills(), _epic(*OPIATES, "eUDS.F1")]
    plan = plan_for([patient(), *resources])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert tile.state != "done" and tile.last_done is None
    assert tile.not_counted == NO_VALUE and NO_VALUE in note_text(plan)
    found = card(run("patient-view", resources=resources), CHECK_ID)
    assert found is not None and NO_VALUE in found.detail
    (row,) = plan.section("uds").content.rows
    assert row.not_judged == "could not be read (no result value on record)"


def test_the_population_review_does_not_count_it_either() -> None:
    evaluation = _sign(_epic(*OPIATES, "eUDS.F1"))
    assert counted_by_the_review(evaluation.facts.record.observations, evaluation.facts.terms) == ()
    spoken_for = _sign(_epic(*OPIATES, "eUDS.F1"), _quest_report(conclusion="Negative for all drugs tested"))
    record = spoken_for.facts.record
    assert (
        len(counted_by_the_review(record.observations, spoken_for.facts.terms, linked=record.diagnostic_reports)) == 1
    )


# -- a preliminary lab report with nothing reported yet ------------------------------------------------------------

REPORT_PENDING = f"A urine drug test collected on {TEST_DAY} has no result yet (status preliminary, no value yet)."


def test_an_oracle_preliminary_report_with_nothing_reported_is_said_pending() -> None:
    # Oracle Health sends the drug screen's report preliminary, with no result linked and no conclusion yet: it was
    # the year's test done (`uds.unread_drug_test_reports`), and the card was quiet.
    found = card(_sign(_oracle_registered_report(status="preliminary")), CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert found.detail.startswith(
        f"There is **no urine drug test result on record** for this patient. {REPORT_PENDING}"
    )
    assert found.summary == f"Urine drug test: result pending since {TEST_DAY}"


@pytest.mark.parametrize(
    "said",
    [
        pytest.param({"conclusion": "Negative"}, id="a conclusion"),
        pytest.param({"presentedForm": [{"contentType": "application/pdf", "url": "Binary/b1"}]}, id="a document"),
        pytest.param({"result": [{"reference": "Observation/not-sent"}]}, id="a result linked, not received"),
    ],
)
def test_a_preliminary_report_that_says_something_is_read_as_before(said: dict[str, Any]) -> None:
    # As before reports with nothing reported were said pending: one that says something is the year's test done.
    report = _oracle_registered_report(status="preliminary") | said
    assert card(_sign(report), CHECK_ID) is None


def test_the_history_lists_it_pending_and_the_population_review_does_not_count_it() -> None:
    plan = plan_for([patient(), *_long_term_fills(), _oracle_registered_report(status="preliminary")])
    history = plan.section("uds").content
    assert not history.rows
    assert history.pending == (
        f"Drug Screen Urine collected on {TEST_DAY}, no result yet (status preliminary, no value yet)",
    )
    evaluation = _sign(_oracle_registered_report(status="preliminary"))
    record, terms = evaluation.facts.record, evaluation.facts.terms
    assert drug_tests_done_days(record, terms) == ()


# -- awaiting its result, dated after today ------------------------------------------------------------------------

AHEAD = "A urine drug test is on record dated 2026-07-20, after today, so it cannot show a test done yet."


@pytest.mark.parametrize(
    "awaiting",
    [
        pytest.param(_oracle_registered_report(when="2026-07-20", status="preliminary"), id="preliminary report"),
        pytest.param(_oracle_registered_report(when="2026-07-20"), id="registered report"),
        pytest.param(
            _epic(*OPIATES, "eUDS.F1", "preliminary") | {"effectiveDateTime": "2026-07-20T09:14:00-05:00"},
            id="preliminary result with no value",
        ),
    ],
)
def test_a_test_awaiting_its_result_dated_after_today_is_named_as_such(awaiting: dict[str, Any]) -> None:
    # Neither a test done nor pending up to today, it was named nowhere: "none on record" of a test in the chart.
    evaluation = _sign(awaiting)
    found = card(evaluation, CHECK_ID)
    assert found is not None and AHEAD in found.detail
    (named,) = future_dated_drug_tests(evaluation.facts)  # what the data-incomplete card and the page name
    assert named.endswith(", dated 2026-07-20, after today")
    assert found.summary == "Order a urine drug test: none on record up to today (one is dated 2026-07-20, after today)"


# -- a settled lab report with nothing reported ----------------------------------------------------------------------

REPORT_NO_VALUE = f"The test of {TEST_DAY} could not be read as a result: no result value on record; a new test is due."


def _bare_report(code: tuple[str, str] = PANEL, status: str = "final") -> dict[str, Any]:
    """Oracle Health: the drug screen's lab report sent settled with its name and times alone (no result linked, no
    conclusion, no document)."""
    report = _oracle_registered_report(status=status)
    return report | {"code": {"coding": [{"system": LOINC, "code": code[0], "display": code[1]}], "text": code[1]}}


@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
@pytest.mark.parametrize("test", [OPIATES, PANEL], ids=["opiates screen", "drugs-of-abuse panel"])
def test_a_settled_report_with_nothing_reported_is_no_test_read(test: tuple[str, str], status: str) -> None:
    # It counted as the year's test done (`uds.unread_drug_test_reports`), as a final result with no value did.
    found = card(_sign(_bare_report(test, status)), CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert (
        found.summary
        == f"Order a urine drug test: the test of {TEST_DAY} could not be read (no result value on record)"
    )
    assert REPORT_NO_VALUE in found.detail


def test_a_bare_report_is_named_so_on_the_tile_the_note_the_history_and_the_review() -> None:
    plan = plan_for([patient(), *_long_term_fills(), _bare_report()])
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert tile.state != "done" and tile.last_done is None
    assert tile.not_counted == REPORT_NO_VALUE and REPORT_NO_VALUE in note_text(plan)
    (row,) = plan.section("uds").content.rows
    assert row.value == "could not be read (no result value on record), report with no result received"
    evaluation = _sign(_bare_report())
    assert drug_tests_done_days(evaluation.facts.record, evaluation.facts.terms) == ()


@pytest.mark.parametrize(
    "said",
    [
        pytest.param({"conclusion": "Negative"}, id="a conclusion"),
        pytest.param({"presentedForm": [{"contentType": "application/pdf", "url": "Binary/b1"}]}, id="a document"),
        pytest.param({"result": [{"reference": "Observation/not-sent"}]}, id="a result linked, not received"),
    ],
)
def test_a_settled_report_that_says_something_is_a_test_done_as_before(said: dict[str, Any]) -> None:
    assert card(_sign(_bare_report() | said), CHECK_ID) is None


# -- a result with a reason its value is absent -------------------------------------------------------------------


def _absent(code: str | None = None, words: str | None = None) -> dict[str, Any]:
    """Epic Beaker's screen sent final with no value and a dataAbsentReason: coded, or text alone."""
    reason: dict[str, Any] = {"coding": [{"system": DAR, "code": code}]} if code else {}
    return _epic(*OPIATES, "eUDS.F1", dataAbsentReason=reason | ({"text": words} if words else {}))


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        pytest.param(_absent("error"), "error, no value sent", id="error"),
        pytest.param(_absent("not-a-number"), "value not a number", id="not-a-number"),
        pytest.param(_absent("unknown"), "value unknown", id="unknown"),
        pytest.param(_absent(words="Error"), "error, no value sent", id="its text alone"),
    ],
)
def test_a_result_absent_for_an_error_is_a_test_that_could_not_be_read(reason: dict[str, Any], why: str) -> None:
    # The record kept only that a reason was sent: the result counted as the year's test, the card quiet.
    found = card(_sign(reason), CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert f"The test of {DAY} could not be read as a result: {why}; a new test is due." in found.detail
    evaluation = _sign(reason)
    assert counted_by_the_review(evaluation.facts.record.observations, evaluation.facts.terms) == ()


@pytest.mark.parametrize("code", ["not-performed", "not-asked", "asked-declined"])
def test_a_result_absent_as_not_performed_is_no_test_as_tnp_is(code: str) -> None:
    evaluation = _sign(_absent(code))
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert counted_by_the_review(evaluation.facts.record.observations, evaluation.facts.terms) == ()


@pytest.mark.parametrize("code", ["masked", "as-text", "not-permitted", "unsupported", "positive-infinity"])
def test_a_result_whose_value_stands_elsewhere_or_off_the_scale_is_the_years_test_as_before(code: str) -> None:
    assert card(_sign(_absent(code)), CHECK_ID) is None


def test_the_reason_is_kept_in_the_record() -> None:
    evaluation = _sign(_absent("Not-Performed"), _absent(words="Not performed") | {"id": "eUDS.F2"})
    assert [o.data_absent_reason for o in evaluation.facts.record.observations] == ["not-performed", "not-performed"]


def test_the_reason_is_read_by_its_hl7_coding_after_a_local_one_and_in_any_spelling() -> None:
    # Epic may list its own coding first: read by the first coding alone, the reason was "np" and the test that was
    # not performed counted as the year's test, the card quiet.
    local = {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.30", "code": "NP", "display": "Not Performed"}
    both = _epic(*OPIATES, "eUDS.F1", dataAbsentReason={"coding": [local, {"system": DAR, "code": "not-performed"}]})
    spelt = _epic(*OPIATES, "eUDS.F2", dataAbsentReason={"coding": [{"code": "Not_Performed"}]})
    evaluation = _sign(both, spelt)
    assert [o.data_absent_reason for o in evaluation.facts.record.observations] == ["not-performed", "not-performed"]
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["last_test"] is None


@pytest.mark.parametrize("status", ["preliminary", "registered"])
def test_a_panel_and_its_member_awaiting_their_result_after_today_are_one_test_named_once(status: str) -> None:
    # Each was named on the data-incomplete card: the panel and its analyte, two lines for one test.
    ahead = {"effectiveDateTime": "2026-07-20T09:14:00-05:00"}
    heading = _epic(*PANEL, "eUDS.P", status, hasMember=[{"reference": "Observation/eUDS.P1"}]) | ahead
    evaluation = _sign(heading, _epic(*OPIATES, "eUDS.P1", status) | ahead)
    assert future_dated_drug_tests(evaluation.facts) == (
        "Drugs of Abuse Screen, Urine (observation eUDS.P), dated 2026-07-20, after today",
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None and AHEAD in found.detail


def test_a_test_dated_after_today_is_named_only_where_a_drug_test_check_runs_on_the_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ahead = _oracle_registered_report(when="2026-07-20")
    # Both drug test checks kept off order-sign by the site: neither reads the tests there, so neither names them.
    off = {"checks": {CHECK_ID: {"hooks": ["patient-view"]}, "unexpected-uds-result": {"hooks": ["patient-view"]}}}
    draft = med_request(OXYCODONE_5, draft=True, id="ox1", supply_days=30)
    evaluation = run("order-sign", drafts=[draft], resources=[ahead], config=off)
    assert future_dated_drug_tests(evaluation.facts) == ()
    assert len(future_dated_drug_tests(_sign(ahead).facts)) == 1
    # Exclusions that cannot be read cost the checks (named as not run), never this line: on the hook, it stays.
    import guideline.facts

    monkeypatch.setattr(guideline.facts, "general_exclusions", raising(RuntimeError("bug")))
    assert len(future_dated_drug_tests(_sign(ahead).facts)) == 1


# -- a result whose value is temporarily unknown ---------------------------------------------------------------------

TO_COME = f"A urine drug test collected on {DAY} has no result yet (value temporarily unknown)."


@pytest.mark.parametrize("status", ["final", "preliminary"])
def test_a_result_whose_value_is_temporarily_unknown_awaits_it(status: str) -> None:
    # temp-unknown says the value "may become available": counted as the year's test, the card was quiet on a result
    # still to come.
    to_come = {"coding": [{"system": DAR, "code": "temp-unknown"}]}
    evaluation = _sign(_epic(*OPIATES, "eUDS.F1", status, dataAbsentReason=to_come))
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert found.detail.startswith(f"There is **no urine drug test result on record** for this patient. {TO_COME}")
    assert found.summary == f"Urine drug test: result pending since {DAY}"
    assert counted_by_the_review(evaluation.facts.record.observations, evaluation.facts.terms) == ()


def test_a_panel_whose_members_values_are_temporarily_unknown_is_one_test_awaiting_them() -> None:
    to_come = {"dataAbsentReason": {"text": "Temp Unknown", "coding": [{"system": DAR, "code": "temp-unknown"}]}}
    heading = _epic(*PANEL, "eUDS.P", "preliminary", hasMember=[{"reference": "Observation/eUDS.P1"}])
    found = card(_sign(heading, _epic(*OPIATES, "eUDS.P1", **to_come)), CHECK_ID)
    assert found is not None and found.facts["last_test"] is None and found.detail.count("has no result yet") == 1


def test_the_history_lists_it_pending_not_as_a_row() -> None:
    to_come = {"dataAbsentReason": {"coding": [{"system": DAR, "code": "temp-unknown"}]}}
    plan = plan_for([patient(), *_long_term_fills(), _epic(*OPIATES, "eUDS.F1", **to_come)])
    history = plan.section("uds").content
    assert not history.rows
    assert history.pending == (f"Opiates Ur Ql Scn collected on {DAY}, no result yet (value temporarily unknown)",)


# -- a panel's analyte with a reason its value is absent ----------------------------------------------------------

COCAINE = ("14314-9", "Benzoylecgonine Ur Ql Scn")
DRUGS_OF_ABUSE_5 = ("65750-2", "Drugs of abuse 5 panel - Urine by Screen method")


def _analyte(test: tuple[str, str], **value: Any) -> dict[str, Any]:
    """One analyte of an Epic per-analyte panel: its own code and value, or a dataAbsentReason of its own."""
    code, display = test
    return {"code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}, **value}


def _reason(code: str) -> dict[str, Any]:
    """An analyte's dataAbsentReason as Epic codes it."""
    return {"dataAbsentReason": {"coding": [{"system": DAR, "code": code}]}}


def _per_analyte_panel(*analytes: dict[str, Any], status: str = "final") -> dict[str, Any]:
    """Epic Beaker's drugs-of-abuse panel sent as one result with a component per analyte."""
    return _epic(*DRUGS_OF_ABUSE_5, "eUDS.C1", status, component=list(analytes))


def _rows(panel: dict[str, Any]) -> list[Any]:
    """The plan page's drug test history rows beside long-term opioid fills."""
    return list(plan_for([patient(), *_long_term_fills(), panel]).section("uds").content.rows)


@pytest.mark.parametrize("code", ["not-performed", "not-asked", "asked-declined"])
def test_a_panel_whose_analytes_were_not_performed_is_no_test(code: str) -> None:
    # The analytes' reasons were not read: the panel was a test of "no result value on record", not one never done.
    evaluation = _sign(_per_analyte_panel(_analyte(OPIATES, **_reason(code)), _analyte(COCAINE, **_reason(code))))
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert found.detail.startswith("There is **no urine drug test result on record** for this patient.\n")
    assert counted_by_the_review(evaluation.facts.record.observations, evaluation.facts.terms) == ()


def test_an_analyte_not_performed_beside_one_read_is_no_row_as_its_own_result_would_be() -> None:
    panel = _per_analyte_panel(_analyte(OPIATES, valueString="Negative"), _analyte(COCAINE, **_reason("not-performed")))
    assert card(_sign(panel), CHECK_ID) is None  # the opiates screen read: the year's test
    assert [(row.test, row.value) for row in _rows(panel) if row.test != DRUGS_OF_ABUSE_5[1]] == [
        ("Opiates Ur Ql Scn", "negative")
    ]


def test_a_panel_whose_analytes_gave_an_error_could_not_be_read_in_their_words() -> None:
    panel = _per_analyte_panel(_analyte(OPIATES, **_reason("error")), _analyte(COCAINE, **_reason("error")))
    found = card(_sign(panel), CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert f"The test of {DAY} could not be read as a result: error, no value sent; a new test is due." in found.detail


def test_a_panel_whose_analytes_values_are_temporarily_unknown_awaits_them() -> None:
    panel = _per_analyte_panel(
        _analyte(OPIATES, **_reason("temp-unknown")), _analyte(COCAINE, **_reason("temp-unknown"))
    )
    found = card(_sign(panel), CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert found.detail.startswith(f"There is **no urine drug test result on record** for this patient. {TO_COME}")


def test_the_analytes_reason_is_kept_on_the_record() -> None:
    panel = _per_analyte_panel(_analyte(OPIATES, **_reason("error")), _analyte(COCAINE, valueString="Negative"))
    (result,) = _sign(panel).facts.record.observations
    assert [c.data_absent_reason for c in result.components] == ["error", None]


def test_an_analyte_with_no_reason_of_its_own_takes_its_panels() -> None:
    panel = _per_analyte_panel(_analyte(OPIATES), _analyte(COCAINE)) | _reason("not-performed")
    found = card(_sign(panel), CHECK_ID)
    assert found is not None and found.detail.startswith("There is **no urine drug test result on record** for this")
