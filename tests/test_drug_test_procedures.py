"""Drug tests recorded or billed as procedures (point-of-care cups, claims): the test counts as done everywhere."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from builders import NOW, SNOMED, TODAY, card, days_ago, med_request, procedure, run, service_request
from synthetic_export import OXYCODONE_5, dispense, patient, write_export

from guideline.checks import CHECKS, urine_drug_test
from guideline.config import GuidelineConfig
from guideline.plan import build_plan
from guideline.population import Period
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
OXYCODONE = "1049621"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)


def long_term() -> dict:
    return med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)


def sign(*resources: dict):
    return run("order-sign", drafts=[med_request(OXYCODONE, draft=True, id="d1")], resources=[long_term(), *resources])


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (CPT, "80305"),  # presumptive drug class screening, read by direct observation (a point-of-care cup)
        (CPT, "80307"),
        ("urn:oid:2.16.840.1.113883.6.12", "80306"),  # CPT under its OID
        (HCPCS, "G0481"),  # definitive drug testing
        (SNOMED, "310627008"),  # urine drug screening
    ],
)
def test_a_drug_test_done_as_a_procedure_counts_as_the_years_test(system: str, code: str) -> None:
    # Before: "Order a urine drug test: none on record" for a patient whose test was billed last month.
    assert card(sign(), urine_drug_test.CHECK_ID) is not None
    assert card(sign(procedure(system, code, performed=days_ago(30))), urine_drug_test.CHECK_ID) is None


@pytest.mark.parametrize(
    "done",
    [
        procedure(CPT, "80305", performed=days_ago(400)),  # outside the 12 months
        procedure(CPT, "80305", performed=days_ago(30), status="not-done"),
        procedure(CPT, "99213", performed=days_ago(30)),  # an office visit
    ],
)
def test_an_old_undone_or_other_procedure_is_no_test(done: dict) -> None:
    assert card(sign(done), urine_drug_test.CHECK_ID) is not None


@pytest.mark.parametrize("status", ["in-progress", None])
def test_a_drug_test_in_progress_or_without_status_counts_as_procedures_do(status: str | None) -> None:
    # A specimen taken whose result is still due is a test done, as an in-progress procedure is for every other rule.
    done = procedure(CPT, "80307", performed=days_ago(2), status=status or "completed")
    if status is None:
        done.pop("status", None)
    assert card(sign(done), urine_drug_test.CHECK_ID) is None


def test_the_card_dates_the_last_test_from_a_procedure_too() -> None:
    found = card(sign(procedure(CPT, "80305", performed=days_ago(400))), urine_drug_test.CHECK_ID)
    assert found is not None and f"(last {(TODAY - timedelta(days=400)).isoformat()})" in found.summary


def test_a_drug_test_order_by_cpt_code_is_pending() -> None:
    ordered = service_request(CPT, "80307", authored=days_ago(3))
    assert card(sign(ordered), urine_drug_test.CHECK_ID) is None


def test_the_plan_lists_a_procedure_test_and_dates_the_task_from_it() -> None:
    evaluation = run("patient-view", resources=[long_term(), procedure(CPT, "80305", performed=days_ago(30))])
    plan = build_plan(evaluation, (), evaluation.facts.config, NOW)
    [row] = plan.section("uds").content.rows
    assert (row.day, row.value) == (TODAY - timedelta(days=30), "done, no result recorded")


def annual_monitoring(folder: Path, patient_id: str, *tests: dict) -> tuple[str, str]:
    """The population review's AMO denominator and numerator (patients.csv) for a patient on long-term oxycodone
    (fills 2025-05 to 2026-01) whose drug test is sent as `tests` (a result and its report, say), reviewed over 2026
    Q1."""
    fills = [
        dispense(f"f{n}", patient_id, OXYCODONE_5, day, 60, 30, "drB", "ph1")
        for n, day in enumerate(("2025-05-01", "2025-06-01", "2025-07-01", "2026-01-05"), 1)
    ]
    for test in tests:
        test["subject"] = {"reference": f"Patient/{patient_id}"}
    write_export(folder / "in", [patient(patient_id, "1965-01-01", "Practitioner/drB"), *fills, *tests])
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    review(ndjson_files(folder / "in"), folder / "out", period, date(2026, 4, 15), GuidelineConfig.from_mapping())
    with open(folder / "out" / "patients.csv", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["patient_id"] == patient_id)
    return row["amo_den"], row["amo_num"]


def test_the_population_review_counts_a_billed_drug_test_for_annual_monitoring(tmp_path: Path) -> None:
    billed = procedure(CPT, "80307", performed="2026-01-05")
    assert annual_monitoring(tmp_path, "p1", billed) == ("true", "true")
