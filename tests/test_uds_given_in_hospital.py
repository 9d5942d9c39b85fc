"""A medicine clinicians gave (emergency department, procedure, ward) explains a positive urine drug test for a few
days, and never makes a negative unexpected: only a prescription the patient should be taking does that."""

from __future__ import annotations

from typing import Any

import pytest

from guideline.checks import CHECKS, naloxone, unexpected_uds_result
from guideline.checks.unexpected_uds_result import CHECK_ID
from guideline.plan import build_plan
from tests.builders import NOW, PATIENT_ID, RXNORM, card, days_ago, dispense, med_request, observation, run

OXYCODONE = "1049621"
FENTANYL_INJECTION = "1735003"  # 2 ML fentanyl 0.05 MG/ML Injection
MORPHINE_INJECTION = "1732006"  # 1 ML morphine sulfate 4 MG/ML Injection
FENTANYL_SCREEN = "58379-9"  # fentaNYL+Norfentanyl [Presence] in Urine by Screen method
OPIATE_SCREEN = "19295-5"  # Opiates [Presence] in Urine by Screen method
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone [Presence] in Urine by Screen method
COCAINE = "14314-9"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, naloxone.CHECK_ID, naloxone)


def fentanyl_given_r4(ago: int, status: str = "completed") -> dict[str, Any]:
    """R4: fentanyl 50 mcg IV push in the emergency department, `ago` days ago."""
    return {
        "resourceType": "MedicationAdministration",
        "id": f"ma-fent-{ago}",
        "status": status,
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": FENTANYL_INJECTION, "display": "2 ML fentanyl 0.05 MG/ML Injection"}],
            "text": "fentaNYL (SUBLIMAZE) injection 50 mcg",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "context": {"reference": "Encounter/ed-visit-3"},
        "effectiveDateTime": f"{days_ago(ago)}T02:40:00-04:00",
        "dosage": {"route": {"text": "Intravenous"}, "dose": {"value": 50, "unit": "mcg"}},
    }


def fentanyl_given_stu3(ago: int) -> dict[str, Any]:
    """STU3: fentanyl by infusion during a procedure, given over a period, notGiven false."""
    return {
        "resourceType": "MedicationAdministration",
        "id": "ma-fent-stu3",
        "status": "completed",
        "notGiven": False,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": FENTANYL_INJECTION}]},
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectivePeriod": {"start": f"{days_ago(ago)}T08:05:00-04:00", "end": f"{days_ago(ago)}T09:30:00-04:00"},
    }


def fentanyl_given_dstu2(ago: int) -> dict[str, Any]:
    """DSTU2: dated by effectiveTimeDateTime, wasNotGiven false."""
    return {
        "resourceType": "MedicationAdministration",
        "id": "ma-fent-dstu2",
        "status": "completed",
        "wasNotGiven": False,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": FENTANYL_INJECTION}]},
        "patient": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveTimeDateTime": f"{days_ago(ago)}T14:00:00-04:00",
    }


def morphine_ordered_inpatient(ago: int, *, status: str = "completed", intent: str = "order") -> dict[str, Any]:
    """R4: an inpatient (emergency department) morphine order, no days' supply: what the ward gives, not a
    prescription the patient takes home."""
    order = med_request(MORPHINE_INJECTION, authored=days_ago(ago), status=status, intent=intent, category="inpatient")
    order["dosageInstruction"] = [{"text": "4 mg IV once"}]
    order["dispenseRequest"] = {}
    return order


def morphine_ordered_stu3_inpatient(ago: int) -> dict[str, Any]:
    """STU3: the category under STU3's own code system."""
    order = morphine_ordered_inpatient(ago)
    order["category"] = {"coding": [{"system": "http://hl7.org/fhir/medication-request-category", "code": "inpatient"}]}
    return order


def urine_test(code: str, ago: int, value: str) -> dict[str, Any]:
    return observation(code, when=days_ago(ago), value_string=value)


def sign(*resources: dict[str, Any]):
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    return run("order-sign", drafts=[draft], resources=list(resources))


@pytest.mark.parametrize(
    "given", [fentanyl_given_r4(14), fentanyl_given_stu3(14), fentanyl_given_dstu2(14)], ids=["R4", "STU3", "DSTU2"]
)
def test_fentanyl_given_in_the_emergency_department_explains_a_positive_two_days_later(given: dict[str, Any]) -> None:
    evaluation = sign(given, urine_test(FENTANYL_SCREEN, 12, "Positive"))
    assert card(evaluation, CHECK_ID) is None
    [result] = evaluation.facts.uds_results
    [fentanyl] = result.substances
    assert not fentanyl.unexpected
    assert fentanyl.explanation in (
        "expected: fentaNYL (SUBLIMAZE) injection 50 mcg given 2026-06-01",  # R4: the EHR's own name
        "expected: 2 ML fentanyl 0.05 MG/ML Injection given 2026-06-01",  # no name sent: RxNorm's
    )
    # the same judgement: no "positive for fentanyl no prescription explains" among the naloxone risk factors
    found = card(evaluation, naloxone.CHECK_ID)
    assert found is None or "fentanyl" not in found.detail.lower()


@pytest.mark.parametrize(
    "ordered", [morphine_ordered_inpatient(14), morphine_ordered_stu3_inpatient(14)], ids=["R4", "STU3"]
)
def test_morphine_ordered_in_hospital_explains_a_positive_opiate_screen(ordered: dict[str, Any]) -> None:
    evaluation = sign(ordered, urine_test(OPIATE_SCREEN, 12, "Positive"))
    assert card(evaluation, CHECK_ID) is None
    [result] = evaluation.facts.uds_results
    assert result.substances[0].explanation == (
        "expected: 1 ML morphine sulfate 4 MG/ML Injection ordered in hospital 2026-06-01"
    )


@pytest.mark.parametrize(
    "not_taken",
    [
        fentanyl_given_r4(14, status="not-done"),
        fentanyl_given_r4(14, status="entered-in-error"),
        fentanyl_given_r4(21),  # given 9 days before the test: longer than fentanyl stays in urine after a dose
        fentanyl_given_r4(10),  # given after the test
    ],
    ids=["not-done", "entered-in-error", "9-days-before", "after-the-test"],
)
def test_a_dose_not_given_or_not_near_the_test_leaves_the_positive_unexpected(not_taken: dict[str, Any]) -> None:
    found = card(sign(not_taken, urine_test(FENTANYL_SCREEN, 12, "Positive")), CHECK_ID)
    assert found is not None
    assert "positive for fentanyl, not prescribed in the 30 days before" in found.detail


@pytest.mark.parametrize(
    "proposed",
    [morphine_ordered_inpatient(14, intent="proposal"), morphine_ordered_inpatient(14, status="cancelled")],
    ids=["proposal", "cancelled"],
)
def test_a_hospital_order_nobody_carried_out_explains_nothing(proposed: dict[str, Any]) -> None:
    found = card(sign(proposed, urine_test(OPIATE_SCREEN, 12, "Positive")), CHECK_ID)
    assert found is not None
    assert "positive for opiates" in found.detail


def test_a_dose_given_never_makes_a_negative_unexpected() -> None:
    """Guards the other half of the rule: the dose given explains positives only (no prescription to take)."""
    evaluation = sign(
        fentanyl_given_r4(14), morphine_ordered_inpatient(14), urine_test(FENTANYL_SCREEN, 13, "Negative")
    )
    assert card(evaluation, CHECK_ID) is None


def test_the_card_table_and_the_plan_page_say_why_a_positive_was_expected() -> None:
    evaluation = sign(
        fentanyl_given_r4(14),
        urine_test(FENTANYL_SCREEN, 12, "Positive"),
        urine_test(FENTANYL_SCREEN, 5, "Positive"),  # a week later: not the dose given in the department
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert (
        "| fentanyl | **positive (unexpected)** | positive (fentaNYL (SUBLIMAZE) injection 50 mcg given 2026-06-01) |"
        in (found.detail)
    )
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    rows = view.section("uds").content.rows
    assert [row.explained for row in rows] == [(), ("fentaNYL (SUBLIMAZE) injection 50 mcg given 2026-06-01",)]


def morphine_ordered_for_a_stay(start_ago: int, end_ago: int, *, how: str = "bounds") -> dict[str, Any]:
    """An inpatient morphine order written on admission, its end stated by the dosing period (as ward orders are
    written: every 4 hours as needed through discharge) or by the order's validity period."""
    order = morphine_ordered_inpatient(start_ago)
    period = {"start": f"{days_ago(start_ago)}T10:00:00-04:00", "end": f"{days_ago(end_ago)}T12:00:00-04:00"}
    if how == "bounds":
        order["dosageInstruction"] = [
            {"text": "4 mg IV every 4 hours as needed", "timing": {"repeat": {"boundsPeriod": period}}}
        ]
    else:
        order["dispenseRequest"] = {"validityPeriod": period}
    return order


@pytest.mark.parametrize("how", ["bounds", "validity"])
def test_a_hospital_order_in_effect_through_a_long_stay_explains_a_positive_during_it(how: str) -> None:
    """Admitted 25 days ago, discharged 9 days ago, tested on the ward 10 days ago: the order written on day one is
    what explains the positive (it was read as given only on the day it was written)."""
    evaluation = sign(morphine_ordered_for_a_stay(25, 9, how=how), urine_test(OPIATE_SCREEN, 10, "Positive"))
    assert card(evaluation, CHECK_ID) is None
    [result] = evaluation.facts.uds_results
    [opiates] = result.substances
    assert opiates.explanation.endswith(f"ordered in hospital {days_ago(10)}")


def test_a_stay_that_ended_more_than_a_week_before_the_test_explains_nothing() -> None:
    found = card(sign(morphine_ordered_for_a_stay(25, 18), urine_test(OPIATE_SCREEN, 10, "Positive")), CHECK_ID)
    assert found is not None
    assert "positive for opiates" in found.detail


def test_a_stated_end_before_the_start_is_no_stay() -> None:
    """A mistyped end (before the order was written) does not stretch the order back or forward."""
    found = card(sign(morphine_ordered_for_a_stay(25, 30), urine_test(OPIATE_SCREEN, 10, "Positive")), CHECK_ID)
    assert found is not None


def test_what_explains_a_positive_is_a_field_of_its_own_that_the_page_lists_as_it_is() -> None:
    # The page once cut "expected: " off the card's words to list what explains a positive: a change of wording
    # would have left the prefix on the page. The explaining prescription or dose is now a field of its own.
    oxycodone_fill = dispense(OXYCODONE, days_ago(20), days_supply=30)
    evaluation = sign(
        fentanyl_given_r4(14),
        oxycodone_fill,
        urine_test(FENTANYL_SCREEN, 12, "Positive"),
        urine_test(OXYCODONE_SCREEN, 12, "Positive"),
    )
    by_substance = {s.substance: s for r in evaluation.facts.uds_results for s in r.substances}
    given = by_substance["fentanyl"]
    assert given.expected_by == given.given == "fentaNYL (SUBLIMAZE) injection 50 mcg given 2026-06-01"
    prescribed = by_substance["oxycodone"]
    assert prescribed.expected_by == f"oxycodone hydrochloride 5 MG Oral Tablet ({days_ago(20)})"
    assert prescribed.explanation == f"expected: {prescribed.expected_by}" and prescribed.given is None
    rows = build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.rows
    assert sorted(row.explained for row in rows) == sorted([(given.expected_by,), (prescribed.expected_by,)])
