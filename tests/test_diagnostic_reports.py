"""Urine drug tests that arrive inside or as a DiagnosticReport (HL7 v2 lab feeds converted to FHIR, payers'
clinical data): a test done is never "no urine drug test in 12 months", and a result is never dropped unseen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from builders import LOINC, NOW, PATIENT_ID, TODAY, TZ, card, days_ago, med_request, run

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
