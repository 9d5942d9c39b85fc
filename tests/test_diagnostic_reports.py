"""Urine drug tests that arrive inside or as a DiagnosticReport (HL7 v2 lab feeds converted to FHIR, payers'
clinical data): a test done is never "no urine drug test in 12 months", and a result is never dropped unseen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from builders import LOINC, NOW, PATIENT_ID, TODAY, TZ, card, days_ago, med_request, observation, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.plan import build_plan
from guideline.record import build_record

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FENTANYL_SCREEN = "59673-4"  # a fentanyl urine screen
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn
FIVE_PANEL = "24349-3"  # Drugs of abuse 5 panel - Urine: names no substance PainPlan can judge by


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


def long_term() -> dict:
    return med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)


def sign(*resources: dict):
    return run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="d1")], resources=[long_term(), *resources])


def loinc(code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": LOINC, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def contained_result(local_id: str, code: str, value: str, **extra: Any) -> dict[str, Any]:
    """An Observation as a v2-to-FHIR converter writes it inside its report: no subject, often no date."""
    found = {
        "resourceType": "Observation",
        "id": local_id,
        "status": "final",
        "code": loinc(code),
        "valueString": value,
    }
    return found | extra


def report(*contained: dict, code: dict | None = None, when: str | None = None, **extra: Any) -> dict[str, Any]:
    """An R4 lab DiagnosticReport for a urine drug screen."""
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": extra.pop("id", "rep1"),
        "status": extra.pop("status", "final"),
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
        "code": code or loinc(FIVE_PANEL, "Drugs of abuse 5 panel - Urine"),
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "issued": f"{when or days_ago(20)}T15:00:00-04:00",
    }
    if when is not None:
        resource["effectiveDateTime"] = when
    if contained:
        resource["contained"] = list(contained)
        resource["result"] = [{"reference": f"#{c['id']}"} for c in contained]
    resource.update(extra)
    return resource


# -- (a) Observations contained in the report ------------------------------------------------------------------


def test_a_result_contained_in_its_report_is_read_dated_by_the_report() -> None:
    # Before: contained resources were never read, so a fentanyl positive sent inside its report gave no card.
    found = card(
        sign(report(contained_result("obs1", FENTANYL_SCREEN, "Positive"), when=days_ago(20))),
        unexpected_uds_result.CHECK_ID,
    )
    assert found is not None
    assert f"positive for fentanyl ({days_ago(20)})" in found.summary


def test_a_contained_negative_counts_as_the_years_test() -> None:
    # Before: "Order a urine drug test: none on record" for a patient whose screen came inside its report.
    assert card(sign(), urine_drug_test.CHECK_ID) is not None
    tested = report(contained_result("obs1", OXYCODONE_SCREEN, "Positive"), when=days_ago(30))
    assert card(sign(tested), urine_drug_test.CHECK_ID) is None


def test_a_contained_result_keeps_its_own_date_and_takes_the_reports_status_only_when_it_has_none() -> None:
    own = contained_result("obs1", FENTANYL_SCREEN, "Negative", effectiveDateTime=days_ago(25))
    unstated = contained_result("obs2", OXYCODONE_SCREEN, "Positive")
    del unstated["status"]
    record = build_record([report(own, unstated, when=days_ago(20))], TZ)
    by_code = {o.code.codings[0].code: o for o in record.observations}
    assert by_code[FENTANYL_SCREEN].result_time.date().isoformat() == days_ago(25)
    assert by_code[OXYCODONE_SCREEN].result_time.date().isoformat() == days_ago(20)
    assert by_code[OXYCODONE_SCREEN].status == "final"


def test_reports_that_each_contain_an_obs1_keep_both_results() -> None:
    # A contained id is local to its report: two reports' "#obs1" are two results, not one sent twice.
    first = report(contained_result("obs1", FENTANYL_SCREEN, "Negative"), when=days_ago(20), id="a")
    second = report(contained_result("obs1", FENTANYL_SCREEN, "Positive"), when=days_ago(10), id="b")
    record = build_record([first, second], TZ)
    assert sorted(o.value_string for o in record.observations) == ["Negative", "Positive"]


def test_a_report_sent_twice_gives_its_contained_results_once() -> None:
    sent = report(contained_result("obs1", FENTANYL_SCREEN, "Positive"), when=days_ago(20))
    assert len(build_record([sent, dict(sent)], TZ).observations) == 1


@pytest.mark.parametrize("version", ["STU3", "DSTU2"])
def test_older_reports_contain_their_results_the_same_way(version: str) -> None:
    # STU3 and DSTU2 reports carry effectiveDateTime, result and contained as R4 does; DSTU2 has no category coding
    # of v2-0074's R4 system and may send an issued only.
    older = report(contained_result("r1", FENTANYL_SCREEN, "POSITIVE"), when=days_ago(15))
    older["category"] = {"coding": [{"system": "http://hl7.org/fhir/v2/0074", "code": "LAB"}]}
    if version == "DSTU2":
        del older["effectiveDateTime"]
        older["issued"] = f"{days_ago(15)}T09:00:00Z"
    found = card(sign(older), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"positive for fentanyl ({days_ago(15)})" in found.summary


def test_a_contained_result_of_another_report_than_the_patients_is_left_out() -> None:
    # The report names another patient: its contained results are that patient's, never this one's.
    other = report(contained_result("obs1", FENTANYL_SCREEN, "Positive"), when=days_ago(20))
    other["subject"] = {"reference": "Patient/someone-else"}
    record = build_record([other], TZ, patient_id=PATIENT_ID)
    assert record.observations == ()
    assert any("another patient" in p.reason for p in record.problems)


def test_the_plan_page_lists_a_contained_result() -> None:
    evaluation = run(
        "patient-view",
        resources=[long_term(), report(contained_result("obs1", OXYCODONE_SCREEN, "Positive"), when=days_ago(30))],
    )
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    [row] = plan.section("uds").content.rows
    assert (row.day, row.value) == (TODAY - timedelta(days=30), "positive")


# -- (b) a report with a conclusion and no result PainPlan reads -------------------------------------------------

LOCAL_SCREEN = {"coding": [{"system": "urn:oid:1.2.3.4.5.6", "code": "UDS10"}], "text": "Drug screen, urine"}


def conclusion_only(conclusion: str | None = "Negative", **extra: Any) -> dict[str, Any]:
    found = report(**extra)
    if conclusion is not None:
        found["conclusion"] = conclusion
    return found


def unread(*resources: dict) -> tuple[str, ...]:
    evaluation = run("patient-view", resources=[long_term(), *resources])
    return unexpected_uds_result.unread_results(evaluation.facts)


@pytest.mark.parametrize(
    "done",
    [
        conclusion_only("Negative", when=days_ago(30)),
        conclusion_only("Positive for fentanyl", code=LOCAL_SCREEN, when=days_ago(30)),  # a lab's own code
        conclusion_only("No drugs detected", when=None),  # dated by issued alone
        conclusion_only("Negative", when=None, effectivePeriod={"start": f"{days_ago(31)}T08:00:00-04:00"}),
        conclusion_only("Negative", when=days_ago(30), status="preliminary"),
        conclusion_only("Negative", when=days_ago(30), status="corrected"),
    ],
)
def test_a_drug_screen_report_with_only_a_conclusion_counts_as_the_years_test(done: dict) -> None:
    # Before: a report was never read, so a patient whose screen came as a report got "none on record".
    assert card(sign(done), urine_drug_test.CHECK_ID) is None


@pytest.mark.parametrize("status", ["registered", "cancelled", "entered-in-error"])
def test_a_report_that_says_there_is_no_result_is_no_test(status: str) -> None:
    assert card(sign(conclusion_only("Negative", when=days_ago(30), status=status)), urine_drug_test.CHECK_ID)


@pytest.mark.parametrize(
    ("words", "why"),
    [
        ("Negative, dilute specimen", "dilute specimen"),
        ("Invalid specimen", "invalid specimen"),
        ("Specimen substituted", "substituted specimen"),
        ("Specimen rejected: mislabeled", None),
        ("Test not performed", None),
    ],
)
def test_a_conclusion_that_says_the_specimen_could_not_be_read_is_no_years_test(words: str, why: str | None) -> None:
    # Read by a result's rule: a dilute negative or an invalid specimen informed nothing, and a rejected or untested
    # specimen is no test at all. Counted as the test done, the report kept "Order a urine drug test" quiet.
    evaluation = sign(conclusion_only(words, when=days_ago(30)))
    found = card(evaluation, urine_drug_test.CHECK_ID)
    assert found is not None
    if why is None:
        assert found.summary.startswith("Order a urine drug test: none on record")
    else:
        said = f"The test of {days_ago(30)} could not be read as a result: {why}; a new test is due."
        assert said in found.detail
    # never silent: named with its words on the data-incomplete card and the plan page's panel
    named = f'Drugs of abuse 5 panel - Urine ({days_ago(30)}, report conclusion "{words}")'
    assert unexpected_uds_result.unread_results(evaluation.facts) == (named,)


def test_a_report_of_a_test_not_performed_dated_after_today_is_named_as_not_performed() -> None:
    # A test not performed is no test, wherever dated: the card said "none on record up to today (one is dated …,
    # after today)" and the page's list named it among the tests dated after today, as if one were coming.
    ahead = days_ago(-10)
    evaluation = run("patient-view", resources=[long_term(), conclusion_only("Test not performed", when=ahead)])
    found = card(evaluation, urine_drug_test.CHECK_ID)
    assert found is not None
    assert found.summary == "Order a urine drug test: none on record for a patient starting or on longer-term opioids"
    assert urine_drug_test.tests_after_today(evaluation.facts) == ()
    named = f'Drugs of abuse 5 panel - Urine ({ahead}, report conclusion "Test not performed")'
    assert unexpected_uds_result.unread_results(evaluation.facts) == (named,)
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    assert plan.named["future-dated-drug-tests"] == ()
    assert plan.named["unread-uds"] == (named,)
    [row] = plan.section("uds").content.rows
    assert (row.value, row.after_today) == ('not performed, report conclusion "Test not performed"', False)


def test_a_coded_conclusion_of_a_dilute_specimen_is_no_years_test() -> None:
    coded = conclusion_only(None, when=days_ago(30))
    coded["conclusionCode"] = [
        {"coding": [{"system": "urn:oid:1.2.3.4.5.6", "code": "DIL", "display": "NEGATIVE-DILUTE"}]}
    ]
    assert card(sign(coded), urine_drug_test.CHECK_ID) is not None


def test_a_dilute_positive_conclusion_still_counts() -> None:
    # Dilution never makes a drug appear: the report found something, and is the year's test.
    assert (
        card(sign(conclusion_only("Positive for fentanyl, dilute", when=days_ago(30))), urine_drug_test.CHECK_ID)
        is None
    )


@pytest.mark.parametrize(
    ("words", "counted"),
    [("Negative, not dilute", True), ("No adulterants detected. Negative", True), ("Positive, dilute, invalid", False)],
)
def test_a_conclusion_is_read_for_its_specimen_word_by_word_as_a_result_is(words: str, counted: bool) -> None:
    # The words a lab denies say the specimen is fit; every word is weighed, not only the first.
    found = card(sign(conclusion_only(words, when=days_ago(30))), urine_drug_test.CHECK_ID)
    assert (found is None) is counted


def test_the_population_review_does_not_count_a_dilute_conclusion_for_annual_monitoring(tmp_path) -> None:
    from test_drug_test_procedures import annual_monitoring

    assert annual_monitoring(tmp_path, "p9", conclusion_only("Negative, dilute", when="2026-01-05")) == (
        "true",
        "false",
    )


# Quest and Labcorp send such pairs: the screen's result says only "Indeterminate" (or nothing), and the report of
# the same day says in its conclusion alone why: the specimen was dilute.
INDETERMINATE = pytest.mark.parametrize("value", ["Indeterminate", None], ids=["indeterminate", "no-value"])


def indeterminate_beside_a_dilute_report(value: str | None, day: str) -> list[dict[str, Any]]:
    """A urine drug screen result that reads nothing, and a report of the same day whose conclusion alone says why."""
    screen = observation(OXYCODONE_SCREEN, when=f"{day}T09:14:00-04:00", value_string=value)
    return [screen, conclusion_only("Negative, dilute specimen", when=day, id="rep-dilute")]


@INDETERMINATE
def test_a_result_that_reads_nothing_beside_a_dilute_report_of_its_day_is_no_years_test(value: str | None) -> None:
    # Before: the result was the year's test and the card stayed quiet, though its day's report says the specimen
    # could not show what the patient takes.
    found = card(sign(*indeterminate_beside_a_dilute_report(value, days_ago(30))), urine_drug_test.CHECK_ID)
    assert found is not None
    assert found.summary == f"Order a urine drug test: the test of {days_ago(30)} could not be read (dilute specimen)"
    assert f"The test of {days_ago(30)} could not be read as a result: dilute specimen; a new test is due." in (
        found.detail
    )
    assert "no readable urine drug test result on record" in found.detail
    assert found.facts["last_test"] is None


@INDETERMINATE
def test_such_a_pair_is_never_the_last_test_the_card_names(value: str | None) -> None:
    # The card said "none in 12 months (last <that day>)" of the pair, beside an older readable test it should name.
    older = observation(OXYCODONE_SCREEN, when=days_ago(400), value_string="Negative")
    found = card(sign(older, *indeterminate_beside_a_dilute_report(value, days_ago(30))), urine_drug_test.CHECK_ID)
    assert found is not None
    assert f"(last {days_ago(30)})" not in found.summary
    assert f"The last readable urine drug test result on record is from **{days_ago(400)}**" in found.detail
    assert f"The test of {days_ago(30)} could not be read as a result: dilute specimen" in found.detail


@INDETERMINATE
def test_the_plan_tile_and_note_agree_with_the_card_on_such_a_pair(value: str | None) -> None:
    # Before: the tile said "Up to date" with the pair's day as its last test.
    from guideline.plan.note import note_text

    resources = [long_term(), *indeterminate_beside_a_dilute_report(value, days_ago(30))]
    evaluation = run("patient-view", resources=resources)
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    why = f"The test of {days_ago(30)} could not be read as a result: dilute specimen; a new test is due."
    assert tile.last_done is None and tile.state != "done"
    assert tile.detail.startswith(why)
    line = next(line for line in note_text(plan).splitlines() if line.startswith("- Urine drug test:"))
    assert line.startswith("- Urine drug test: none readable on record") and line.endswith(why)


@INDETERMINATE
def test_the_population_review_does_not_count_such_a_pair_for_annual_monitoring(tmp_path, value: str | None) -> None:
    from test_drug_test_procedures import annual_monitoring

    assert annual_monitoring(tmp_path, "p9", *indeterminate_beside_a_dilute_report(value, "2026-01-05")) == (
        "true",
        "false",
    )


def test_a_readable_result_beside_a_dilute_report_of_its_day_still_counts() -> None:
    # A result read negative is a test that informed care, whatever a conclusion beside it says.
    readable = observation(OXYCODONE_SCREEN, when=days_ago(30), value_string="Negative")
    dilute = conclusion_only("Negative, dilute specimen", when=days_ago(30))
    assert card(sign(readable, dilute), urine_drug_test.CHECK_ID) is None


# The usual case: the report links the result in its `result` list. Quest and Labcorp send the result as an
# Observation of its own the report references; Epic Beaker's v2 feed, converted, contains it in the report.
LINKED = pytest.mark.parametrize("shape", ["referenced", "contained"])


def linked_report(shape: str, conclusion: str, *values: str | None, day: str | None = None) -> list[dict[str, Any]]:
    """An oxycodone screen result of each value (None: no value) and the report that links them, concluding
    `conclusion`: Quest-shaped (referenced) or Beaker-shaped (contained)."""
    day = day or days_ago(30)
    if shape == "contained":
        results = [contained_result(f"obs{n}", OXYCODONE_SCREEN, v) for n, v in enumerate(values)]
        for result in results:
            if result["valueString"] is None:
                del result["valueString"]
        linking = report(*results, when=day, id="rep-linked")
        linking["conclusion"] = conclusion
        return [linking]
    results = [observation(OXYCODONE_SCREEN, when=f"{day}T09:14:00-04:00", value_string=v) for v in values]
    linking = conclusion_only(conclusion, when=day, id="rep-linked")
    linking["result"] = [{"reference": f"Observation/{r['id']}"} for r in results]
    return [*results, linking]


@LINKED
@pytest.mark.parametrize("value", ["Indeterminate", None, "See report"], ids=["indeterminate", "no-value", "see"])
@pytest.mark.parametrize(
    ("conclusion", "why"),
    [
        ("Negative, dilute specimen", "dilute specimen"),
        ("Invalid - adulterated", "invalid specimen, adulterated specimen"),
    ],
)
def test_a_result_that_reads_nothing_is_read_by_the_conclusion_of_the_report_that_links_it(
    shape: str, value: str | None, conclusion: str, why: str
) -> None:
    # Before: the report's results were read, so its conclusion never was: the result was the year's test and the
    # card stayed quiet for a sample the lab says could not show what the patient takes.
    found = card(sign(*linked_report(shape, conclusion, value)), urine_drug_test.CHECK_ID)
    assert found is not None
    assert f"The test of {days_ago(30)} could not be read as a result: {why}; a new test is due." in found.detail
    assert found.facts["last_test"] is None


@LINKED
@pytest.mark.parametrize("value", ["Indeterminate", None])
def test_a_result_that_reads_nothing_in_a_report_concluding_specimen_rejected_is_no_test(
    shape: str, value: str | None
) -> None:
    found = card(sign(*linked_report(shape, "Specimen rejected", value)), urine_drug_test.CHECK_ID)
    assert found is not None
    assert found.summary.startswith("Order a urine drug test: none")


@LINKED
def test_a_dilute_conclusion_leaves_the_negatives_it_links_unread_and_its_positives_read(shape: str) -> None:
    # A negative of a dilute specimen may be a drug diluted below its cut-off; a drug found was in the cup.
    negative = card(sign(*linked_report(shape, "Negative, dilute specimen", "Negative")), urine_drug_test.CHECK_ID)
    assert negative is not None
    assert f"The test of {days_ago(30)} could not be read as a result: dilute specimen" in negative.detail
    positive = linked_report(shape, "Positive for oxycodone, dilute specimen", "Positive")
    assert card(sign(*positive), urine_drug_test.CHECK_ID) is None


@pytest.mark.parametrize("value", ["Indeterminate", "Negative"])
def test_a_report_linking_a_panel_heading_reads_its_members_by_its_conclusion(value: str) -> None:
    # Quest sends the screen as a panel heading whose results are members of their own (hasMember), and the report
    # links the heading alone: its conclusion is about the members' specimen too.
    member = observation(OXYCODONE_SCREEN, when=f"{days_ago(30)}T09:14:00-04:00", value_string=value)
    heading = observation(FIVE_PANEL, when=f"{days_ago(30)}T09:14:00-04:00")
    heading["hasMember"] = [{"reference": f"Observation/{member['id']}"}]
    linking = conclusion_only("Negative, dilute specimen", when=days_ago(30), id="rep-linked")
    linking["result"] = [{"reference": f"Observation/{heading['id']}"}]
    found = card(sign(member, heading, linking), urine_drug_test.CHECK_ID)
    assert found is not None
    assert f"The test of {days_ago(30)} could not be read as a result: dilute specimen" in found.detail


@LINKED
def test_a_negative_a_dilute_conclusion_leaves_unread_is_never_an_unexpected_negative(shape: str) -> None:
    # Before: "negative for oxycodone although oxycodone was prescribed" of a sample the lab says was dilute.
    concluded = linked_report(shape, "Negative, dilute specimen", "Negative")
    assert card(sign(*concluded), unexpected_uds_result.CHECK_ID) is None
    assert unread(*concluded) == (f"urine drug test ({days_ago(30)})",)


@LINKED
@pytest.mark.parametrize("conclusion", ["Negative", "Specimen rejected", "Not dilute"])
def test_a_result_that_reads_clearly_keeps_its_reading_whatever_else_the_conclusion_says(
    shape: str, conclusion: str
) -> None:
    assert card(sign(*linked_report(shape, conclusion, "Negative")), urine_drug_test.CHECK_ID) is None


@LINKED
@pytest.mark.parametrize(
    "conclusion",
    [
        "Negative. Adulterant testing not performed.",
        "NEGATIVE - adulterants not detected",
        "Negative; adulteration screen negative",
        "Negative. Specimen validity testing: dilution not detected.",
    ],
)
def test_a_conclusion_that_says_an_adulterant_was_not_found_or_not_tested_leaves_the_negatives_read(
    shape: str, conclusion: str
) -> None:
    # Quest's and Labcorp's usual footers: a word of an unfit specimen the lab denies after it ("adulterant testing
    # not performed") is no verdict; read as "adulterated", a linked negative went unread and the card asked again
    # for the test just done.
    assert card(sign(*linked_report(shape, conclusion, "Negative")), urine_drug_test.CHECK_ID) is None


@LINKED
@pytest.mark.parametrize("conclusion", ["Dilute negative", "DILUTE: NEGATIVE", "Adulterated specimen, negative"])
def test_a_conclusion_naming_an_unfit_specimen_before_its_negative_still_leaves_the_negatives_unread(
    shape: str, conclusion: str
) -> None:
    # "Negative" after the word is the drug result, not a denial: a dilute negative is the negative a dilute
    # specimen gives.
    found = card(sign(*linked_report(shape, conclusion, "Negative")), urine_drug_test.CHECK_ID)
    assert found is not None and "could not be read as a result" in found.detail


@LINKED
def test_a_conclusion_that_reads_the_test_leaves_a_result_that_reads_nothing_a_test_done(shape: str) -> None:
    # Read as an unlinked report's, "Positive for oxycodone, dilute specimen" is a test read: dilution never makes a
    # drug appear.
    concluded = linked_report(shape, "Positive for oxycodone, dilute specimen", "Indeterminate")
    assert card(sign(*concluded), urine_drug_test.CHECK_ID) is None


def test_the_plan_tile_agrees_with_the_card_on_a_linked_dilute_report() -> None:
    resources = [long_term(), *linked_report("referenced", "Negative, dilute specimen", "Indeterminate")]
    evaluation = run("patient-view", resources=resources)
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    tile = next(t for t in plan.section("tasks").content if t.key == "uds")
    assert tile.last_done is None and tile.state != "done"
    assert tile.detail.startswith(f"The test of {days_ago(30)} could not be read as a result: dilute specimen")


@LINKED
def test_the_population_review_does_not_count_a_linked_dilute_report_for_annual_monitoring(
    tmp_path, shape: str
) -> None:
    from test_drug_test_procedures import annual_monitoring

    pair = linked_report(shape, "Negative, dilute specimen", "Indeterminate", day="2026-01-05")
    assert annual_monitoring(tmp_path, "p9", *pair) == ("true", "false")
    clear = linked_report(shape, "Negative", "Indeterminate", day="2026-01-05")
    assert annual_monitoring(tmp_path / "clear", "p9", *clear) == ("true", "true")


# A result linked by more than one report: Quest sends a preliminary report when the screen is done and a final when
# it is confirmed, each linking the same result; an amended or corrected report, or an HIE's copy of the lab's, links
# it again. Before, only the first report sent was read, whichever it was.


def reports_of_one_result(value: str | None, *reports: tuple[str, str, int]) -> list[dict[str, Any]]:
    """An oxycodone screen result of `value` taken 30 days ago and, for each (status, conclusion, days after the sample
    it was issued), a report linking it, in that order."""
    day = days_ago(30)
    screen = observation(OXYCODONE_SCREEN, when=f"{day}T09:14:00-04:00", value_string=value)
    linking = []
    for n, (status, conclusion, later) in enumerate(reports):
        found = conclusion_only(conclusion, when=day, id=f"rep-{n}", status=status)
        found["issued"] = f"{days_ago(30 - later)}T15:00:00-04:00"
        found["result"] = [{"reference": f"Observation/{screen['id']}"}]
        linking.append(found)
    return [screen, *linking]


UNREAD_DILUTE = f"The test of {days_ago(30)} could not be read as a result: dilute specimen; a new test is due."
PRELIMINARY = ("preliminary", "Screen negative. Confirmation to follow.", 1)


@pytest.mark.parametrize(
    ("earlier", "later", "dilute"),
    [
        (PRELIMINARY, ("final", "Negative, dilute specimen", 3), True),
        (("preliminary", "Negative, dilute specimen", 1), ("final", "Negative", 3), False),
        (("final", "Negative, dilute specimen", 3), ("amended", "Negative", 5), False),
        (("final", "Negative", 3), ("corrected", "Negative, dilute specimen", 5), True),
        (("final", "Negative", 3), ("final", "Negative, dilute specimen", 5), True),  # the latest issued stands
        (("final", "Negative, dilute specimen", 3), ("final", "Negative", 5), False),
    ],
    ids=["final", "final-clear", "amended", "corrected", "latest", "latest-clear"],
)
@pytest.mark.parametrize("order", ["as-issued", "reversed"])
def test_the_report_that_stands_is_read_for_a_result_several_reports_link(
    earlier: tuple[str, str, int], later: tuple[str, str, int], dilute: bool, order: str
) -> None:
    # Before: the first report sent was read, so a preliminary's "Screen negative" hid its final's "dilute specimen"
    # (the card stayed quiet), or a preliminary's "dilute" the final's plain negative (the card asked again).
    sent = (earlier, later) if order == "as-issued" else (later, earlier)
    found = card(sign(*reports_of_one_result("Negative", *sent)), urine_drug_test.CHECK_ID)
    if dilute:
        assert found is not None and UNREAD_DILUTE in found.detail
    else:
        assert found is None


@pytest.mark.parametrize("order", ["as-issued", "reversed"])
def test_a_later_report_that_concludes_nothing_does_not_take_back_an_earlier_reports_dilute_specimen(
    order: str,
) -> None:
    # Interfaces often send the final without the preliminary's comment: a report that says nothing takes nothing
    # back, so the preliminary's "dilute specimen" is still read (before, the silent final replaced it, and a
    # negative the lab called dilute read as a plain negative).
    screen, preliminary, final = reports_of_one_result(
        "Negative", ("preliminary", "Negative, dilute specimen", 1), ("final", "-", 3)
    )
    del final["conclusion"]
    sent = (screen, preliminary, final) if order == "as-issued" else (screen, final, preliminary)
    found = card(sign(*sent), urine_drug_test.CHECK_ID)
    assert found is not None and UNREAD_DILUTE in found.detail


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_a_void_report_of_a_result_is_never_read(status: str) -> None:
    sent = reports_of_one_result("Negative", (status, "Negative, dilute specimen", 5), ("final", "Negative", 3))
    assert card(sign(*sent), urine_drug_test.CHECK_ID) is None


@pytest.mark.parametrize("order", ["clear-first", "dilute-first"])
def test_two_standing_reports_that_disagree_about_the_specimen_read_the_more_cautious_and_say_so(order: str) -> None:
    # The lab's report and an HIE's copy, both final and issued together: nothing says which stands, so the reading
    # that leaves the negative unread wins, and the disagreement is named for the clinician to read.
    clear, dilute = ("final", "Negative", 3), ("final", "Negative, dilute specimen", 3)
    sent = reports_of_one_result("Negative", *((clear, dilute) if order == "clear-first" else (dilute, clear)))
    found = card(sign(*sent), urine_drug_test.CHECK_ID)
    assert found is not None and UNREAD_DILUTE in found.detail
    first, second = ("Negative", "Negative, dilute specimen")[:: 1 if order == "clear-first" else -1]
    disagree = (
        f"Drugs of abuse 5 panel - Urine ({days_ago(30)}, report conclusions of the same results disagree about the "
        f'specimen: "{first}", "{second}"; read the more cautious way)'
    )
    # the negative left unread is named among the results not read, the disagreement as a kind of its own
    assert unread(*sent) == (f"urine drug test ({days_ago(30)})",)
    assert disagreeing(*sent) == (disagree,)


def disagreeing(*resources: dict) -> tuple[str, ...]:
    """The reports whose words disagree, as the data-incomplete card and the plan page's panel name them."""
    evaluation = run("patient-view", resources=[long_term(), *resources])
    named = urine_drug_test.disagreeing_reports(evaluation.facts)
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named["uds-report-disagreements"] == named
    return named


@pytest.mark.parametrize("value", ["Negative", None])
@pytest.mark.parametrize("order", ["positive-first", "negative-first"])
def test_two_standing_reports_that_disagree_about_the_drug_read_the_more_cautious_and_say_so(
    order: str, value: str | None
) -> None:
    # The lab's report and an HIE's copy, both final and issued together, one "Positive for oxycodone" and one
    # "Negative": before, the one that does not read the test positive was read and the other dropped in silence.
    # A "Negative" result the positive report links is one it contradicts too (tests/test_report_contradictions.py):
    # read the more cautious way, it is left unread as well.
    positive, negative = ("final", "Positive for oxycodone", 3), ("final", "Negative", 3)
    sent = reports_of_one_result(value, *((positive, negative) if order == "positive-first" else (negative, positive)))
    first, second = ("Positive for oxycodone", "Negative")[:: 1 if order == "positive-first" else -1]
    disagree = (
        f"Drugs of abuse 5 panel - Urine ({days_ago(30)}, report conclusions of the same results disagree: "
        f'"{first}", "{second}"; read the more cautious way)'
    )
    # a result that reads nothing of its own stays unread (the negative conclusion is the more cautious reading); a
    # negative the positive report contradicts is named with its words, not again as a result not read
    assert unread(*sent) == (() if value else (f"urine drug test ({days_ago(30)})",))
    assert disagreeing(*sent)[0].startswith(disagree[:-1])


def test_standing_reports_that_agree_about_the_specimen_are_named_nowhere() -> None:
    sent = reports_of_one_result("Negative", ("final", "Negative", 3), ("final", "NEGATIVE", 3))
    assert card(sign(*sent), urine_drug_test.CHECK_ID) is None
    assert unread(*sent) == ()


def test_the_population_review_reads_the_final_report_over_the_preliminary(tmp_path) -> None:
    from test_drug_test_procedures import annual_monitoring

    sent = reports_of_one_result("Negative", PRELIMINARY, ("final", "Negative, dilute specimen", 3))
    assert annual_monitoring(tmp_path, "p9", *sent) == ("true", "false")


@LINKED
def test_a_conclusion_positive_on_a_dilute_specimen_is_a_test_done_beside_the_negative_it_links(
    shape: str, tmp_path
) -> None:
    # The lab says the test found oxycodone: read as an unlinked report's conclusion is (one rule), the test was
    # done and read, as a dilute positive result makes it. Before, the negative it links was unread (dilute) and the
    # conclusion's positive counted for nothing, so the card asked for the test just done.
    concluded = linked_report(shape, "Positive for oxycodone, dilute specimen", "Negative")
    assert card(sign(*concluded), urine_drug_test.CHECK_ID) is None
    # the negative stays unread: a dilute specimen's negative is never judged, and is named so, with the report's
    # words, as its conclusion says oxycodone was found (tests/test_report_contradictions.py)
    assert card(sign(*concluded), unexpected_uds_result.CHECK_ID) is None
    assert unread(*concluded) == ()
    assert disagreeing(*concluded) == (
        f'Drugs of abuse 5 panel - Urine ({days_ago(30)}, its conclusion says "Positive for oxycodone, dilute '
        'specimen" but its oxycodone result says "Negative"; read the more cautious way: that negative was not judged)',
    )
    from test_drug_test_procedures import annual_monitoring

    pair = linked_report(shape, "Positive for oxycodone, dilute specimen", "Negative", day="2026-01-05")
    assert annual_monitoring(tmp_path, "p9", *pair) == ("true", "true")


def test_a_report_of_another_test_is_no_drug_test() -> None:
    blood_count = conclusion_only("Normal", code=loinc("58410-2", "CBC panel - Blood"), when=days_ago(30))
    assert card(sign(blood_count), urine_drug_test.CHECK_ID) is not None
    assert unread(blood_count) == ()


def test_the_card_dates_the_last_test_from_an_old_report() -> None:
    found = card(sign(conclusion_only("Negative", when=days_ago(400))), urine_drug_test.CHECK_ID)
    assert found is not None and f"(last {days_ago(400)})" in found.summary


def test_a_conclusion_is_named_as_a_result_not_judged_with_its_words() -> None:
    # "Positive for fentanyl" is not judged per substance: it is named, never dropped in silence.
    named = unread(conclusion_only("Positive for fentanyl", code=LOCAL_SCREEN, when=days_ago(30)))
    assert named == (f'Drug screen, urine ({days_ago(30)}, report conclusion "Positive for fentanyl")',)


def test_a_conclusion_is_never_read_as_a_negative_for_a_prescribed_opioid() -> None:
    # A report's conclusion is the lab's summary in words, not a result per substance: read as one, "Negative" on a
    # report coded as an oxycodone screen (or a panel whose substances the code does not list) would tell the
    # prescriber "negative for oxycodone although prescribed". It is named instead.
    evaluation = run(
        "order-sign",
        drafts=[med_request(OXYCODONE, draft=True, id="d1")],
        resources=[long_term(), conclusion_only("Negative", code=loinc(OXYCODONE_SCREEN), when=days_ago(10))],
    )
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None
    assert unexpected_uds_result.unread_results(evaluation.facts) == (
        f'urine drug test ({days_ago(10)}, report conclusion "Negative")',
    )


@pytest.mark.parametrize("element", ["conclusionCode", "codedDiagnosis"])  # R4; STU3 and DSTU2
def test_a_coded_conclusion_is_named_by_its_words(element: str) -> None:
    coded = conclusion_only(None, when=days_ago(30))
    coded[element] = [
        {"coding": [{"system": "http://snomed.info/sct", "code": "171261000", "display": "Drug screen positive"}]}
    ]
    assert card(sign(coded), urine_drug_test.CHECK_ID) is None
    assert unread(coded) == (
        f'Drugs of abuse 5 panel - Urine ({days_ago(30)}, report conclusion "Drug screen positive")',
    )


def test_a_report_whose_results_did_not_arrive_is_a_test_done_and_named() -> None:
    missing = report(when=days_ago(30), result=[{"reference": "Observation/not-sent"}])
    assert card(sign(missing), urine_drug_test.CHECK_ID) is None
    assert unread(missing) == (f"Drugs of abuse 5 panel - Urine ({days_ago(30)}, report with no result received)",)


def test_a_report_sent_as_a_document_only_says_so() -> None:
    # A lab that sends its report as a PDF (presentedForm) and no coded result was named "report with no result
    # received", which sent the clinician looking for a result that was there, in the document.
    document = report(
        when=days_ago(30),
        presentedForm=[{"contentType": "application/pdf", "title": "Urine drug screen", "url": "Binary/pdf1"}],
    )
    assert card(sign(document), urine_drug_test.CHECK_ID) is None
    assert unread(document) == (
        f"Drugs of abuse 5 panel - Urine ({days_ago(30)}, report sent as a document only: read it there)",
    )


def test_an_undated_report_is_no_test_in_the_window_and_is_named() -> None:
    undated = conclusion_only("Positive for fentanyl")
    del undated["issued"]
    assert card(sign(undated), urine_drug_test.CHECK_ID) is not None
    assert unread(undated) == ('Drugs of abuse 5 panel - Urine (undated, report conclusion "Positive for fentanyl")',)


def test_a_report_of_unknown_status_is_no_test_and_is_named_with_its_status() -> None:
    partial = conclusion_only("Negative", when=days_ago(30), status="partial")
    assert card(sign(partial), urine_drug_test.CHECK_ID) is not None
    assert unread(partial) == (f"Drugs of abuse 5 panel - Urine ({days_ago(30)}, report status partial)",)


def test_a_report_whose_results_are_read_adds_no_second_test() -> None:
    # Its Observation sent beside it in the Bundle is the test: the report is neither a second row nor named.
    result = {
        "resourceType": "Observation",
        "id": "lab-7",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": loinc(OXYCODONE_SCREEN),
        "effectiveDateTime": days_ago(30),
        "valueString": "Positive",
    }
    linked = conclusion_only(
        "See results", when=days_ago(30), result=[{"reference": "https://ehr.example/fhir/Observation/lab-7"}]
    )
    evaluation = run("patient-view", resources=[long_term(), linked, result])
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    assert [row.value for row in plan.section("uds").content.rows] == ["positive"]
    assert unexpected_uds_result.unread_results(evaluation.facts) == ()


def test_a_report_whose_contained_results_are_read_adds_no_second_test() -> None:
    evaluation = run(
        "patient-view",
        resources=[long_term(), report(contained_result("obs1", OXYCODONE_SCREEN, "Positive"), when=days_ago(30))],
    )
    assert len(build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.rows) == 1
    assert unexpected_uds_result.unread_results(evaluation.facts) == ()


def test_the_plan_page_lists_a_conclusion_only_report_with_its_conclusion() -> None:
    evaluation = run("patient-view", resources=[long_term(), conclusion_only("Negative", when=days_ago(30))])
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    [row] = plan.section("uds").content.rows
    assert (row.day, row.value) == (
        TODAY - timedelta(days=30),
        'done, report conclusion "Negative" (not judged per substance)',
    )
    assert plan.named["unread-uds"] == unexpected_uds_result.unread_results(evaluation.facts)


@pytest.mark.parametrize(
    ("words", "shown"),
    [
        ("Specimen rejected: mislabeled", 'not performed, report conclusion "Specimen rejected: mislabeled"'),
        ("Negative, dilute", 'could not be read (dilute specimen), report conclusion "Negative, dilute"'),
    ],
)
def test_the_plan_page_lists_a_conclusion_the_card_does_not_count_as_not_done(words: str, shown: str) -> None:
    # "done, report conclusion "Specimen rejected"" beside a card asking for a test: the row says why it is no test.
    evaluation = run("patient-view", resources=[long_term(), conclusion_only(words, when=days_ago(30))])
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    [row] = plan.section("uds").content.rows
    assert row.value == shown


def test_a_report_naming_its_results_by_their_bundle_full_urls_adds_no_second_test() -> None:
    # A transaction or collection Bundle ties its entries by fullUrl ("urn:uuid:…"), not by Type/id.
    result = {
        "resourceType": "Observation",
        "id": "lab-8",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": loinc(OXYCODONE_SCREEN),
        "effectiveDateTime": days_ago(30),
        "valueString": "Positive",
    }
    url = "urn:uuid:6f1c3c1e-2f7a-4c55-9a57-0d3c2b1f9a10"
    linked = conclusion_only("See results", when=days_ago(30), result=[{"reference": url}])
    sent = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:0b9a", "resource": linked}, {"fullUrl": url, "resource": result}],
    }
    evaluation = run("patient-view", resources=[long_term(), sent])
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    assert [row.value for row in plan.section("uds").content.rows] == ["positive"]
    assert unexpected_uds_result.unread_results(evaluation.facts) == ()


def test_the_population_review_counts_a_conclusion_only_report_for_annual_monitoring(tmp_path) -> None:
    from test_drug_test_procedures import annual_monitoring

    screened = conclusion_only("Negative", when="2026-01-05")
    assert annual_monitoring(tmp_path, "p9", screened) == ("true", "true")


def test_the_service_names_a_report_it_cannot_judge_on_the_data_incomplete_card(tmp_path) -> None:
    from cds_support import bundle, data_incomplete_detail

    sent = conclusion_only("Positive for fentanyl", code=LOCAL_SCREEN, when="2026-06-01")
    detail = data_incomplete_detail(tmp_path, udsLabs=bundle(sent))
    assert 'Drug screen, urine (2026-06-01, report conclusion "Positive for fentanyl")' in detail


def test_a_report_whose_results_are_not_urine_drug_tests_by_their_codes_says_so() -> None:
    # A v2 feed's OBX under a lab's own code named by its substance alone ("FENTANYL"): the result arrived, so the
    # report must not say none was received; the test is done and the report named for a clinician to read.
    item = {
        "resourceType": "Observation",
        "id": "obx-1",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {"coding": [{"system": "urn:oid:1.2.3.4.5.7", "code": "FENT"}], "text": "FENTANYL"},
        "effectiveDateTime": days_ago(30),
        "valueString": "POSITIVE",
    }
    linked = report(code=LOCAL_SCREEN, when=days_ago(30), result=[{"reference": "Observation/obx-1"}])
    assert card(sign(linked, item), urine_drug_test.CHECK_ID) is None
    assert unread(linked, item) == (
        f"Drug screen, urine ({days_ago(30)}, report whose results are not read as urine drug tests)",
    )
