"""A lab's correction sent as a result of its own: the corrected (or final) value replaces the earlier one of the same
test on the same sample, so a positive the lab took back never reaches the patient as "unexpected"."""

from __future__ import annotations

from typing import Any

import pytest

from guideline.checks import CHECKS, naloxone, unexpected_uds_result
from guideline.checks.unexpected_uds_result import CHECK_ID
from guideline.plan import build_plan
from tests.builders import NOW, card, days_ago, med_request, observation, run

OXYCODONE = "1049621"
FENTANYL_SCREEN = "58379-9"  # fentaNYL+Norfentanyl [Presence] in Urine by Screen method
FENTANYL_CONFIRM = "59673-4"  # fentaNYL [Mass/volume] in Urine by Confirmatory method
COLLECTED = f"{days_ago(12)}T09:15:00-04:00"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, naloxone.CHECK_ID, naloxone)


def fentanyl(value: str, status: str, *, code: str = FENTANYL_SCREEN, when: str = COLLECTED, issued: int = 11):
    """A fentanyl screen of the sample collected 12 days ago, as its own resource (a new id each time), carrying the
    lab's result identifier as interface engines send it."""
    result = observation(code, when=when, value_string=value, status=status)
    result["identifier"] = [{"system": "urn:oid:2.16.840.1.113883.3.9999.lab", "value": "A26-0412-FENT"}]
    result["issued"] = f"{days_ago(issued)}T16:00:00-04:00"
    return result


def sign(*resources: dict[str, Any]):
    return run(
        "order-sign", drafts=[med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)], resources=list(resources)
    )


def fentanyl_values(evaluation) -> list[tuple[str, str]]:
    return [(r.observation.status, s.value) for r in evaluation.facts.uds_results for s in r.substances]


@pytest.mark.parametrize("correction", ["corrected", "amended"])
def test_a_positive_the_lab_corrected_to_negative_is_no_unexpected_result(correction: str) -> None:
    evaluation = sign(fentanyl("Positive", "final"), fentanyl("Negative", correction, issued=9))
    assert card(evaluation, CHECK_ID) is None
    found = card(evaluation, naloxone.CHECK_ID)  # nor an overdose risk factor from it
    assert found is None or "fentanyl" not in found.detail.lower()
    assert fentanyl_values(evaluation) == [(correction, "negative")]
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    assert [row.explained for row in view.section("uds").content.rows] == [()]


def test_a_preliminary_positive_replaced_by_the_final_negative() -> None:
    evaluation = sign(fentanyl("Positive", "preliminary", issued=12), fentanyl("Negative", "final"))
    assert card(evaluation, CHECK_ID) is None
    assert fentanyl_values(evaluation) == [("final", "negative")]


def test_a_correction_to_positive_still_reaches_the_card() -> None:
    evaluation = sign(fentanyl("Negative", "final"), fentanyl("Positive", "corrected", issued=9))
    found = card(evaluation, CHECK_ID)
    assert found is not None and "positive for fentanyl" in found.detail


@pytest.mark.parametrize(
    "other",
    [
        fentanyl("Negative", "corrected", when=f"{days_ago(5)}T09:15:00-04:00", issued=4),  # another sample
        fentanyl("Negative", "corrected", code=FENTANYL_CONFIRM),  # another test of the sample: a confirmation
    ],
    ids=["another-sample", "another-test"],
)
def test_a_correction_replaces_only_the_same_test_of_the_same_sample(other: dict[str, Any]) -> None:
    evaluation = sign(fentanyl("Positive", "final"), other)
    found = card(evaluation, CHECK_ID)
    assert found is not None and "positive for fentanyl" in found.detail
    assert ("final", "positive") in fentanyl_values(evaluation)


def test_a_correction_naming_its_test_twice_is_of_the_same_test() -> None:
    """The correction relayed through the lab's HL7 v2 interface, whose OBX-3 gives the LOINC as its alternate
    identifier too, converted to FHIR as two identical codings: the same test (`uds.named_test`), so it replaces the
    positive, as the plan page tells a copy of it."""
    corrected = fentanyl("Negative", "corrected", issued=9)
    corrected["code"]["coding"] *= 2
    evaluation = sign(fentanyl("Positive", "final"), corrected)
    assert card(evaluation, CHECK_ID) is None
    assert fentanyl_values(evaluation) == [("corrected", "negative")]


def test_a_correction_of_a_test_known_by_its_coding_display_only_replaces_it() -> None:
    """A screen whose coding carries the lab's name and no code (an interface that maps no code): the test is its
    name, as for one sent with a text only, and its preliminary positive is replaced by the final negative."""
    screen = []
    for value, status, issued in (("Positive", "preliminary", 12), ("Negative", "final", 11)):
        result = fentanyl(value, status, issued=issued)
        result["code"] = {"coding": [{"display": "FENTANYL SCREEN, URINE"}]}
        screen.append(result)
    evaluation = sign(*screen)
    assert card(evaluation, CHECK_ID) is None
    assert fentanyl_values(evaluation) == [("final", "negative")]


def test_two_final_results_of_one_sample_are_both_judged() -> None:
    """Nothing says which stands: both are kept, as before (the table shows both values that day)."""
    evaluation = sign(fentanyl("Positive", "final"), fentanyl("Negative", "final", issued=9))
    assert sorted(fentanyl_values(evaluation)) == [("final", "negative"), ("final", "positive")]


@pytest.mark.parametrize(
    ("results", "shown"),
    [
        ((fentanyl("Positive", "preliminary"),), "preliminary"),  # a screen not yet final: confirm before acting
        ((fentanyl("Positive", "final"), fentanyl("Negative", "corrected", issued=9)), "corrected"),
        ((fentanyl("Negative", "final"),), None),
    ],
    ids=["preliminary", "corrected", "final"],
)
def test_the_plan_page_says_when_a_result_is_preliminary_or_corrected(results, shown: str | None) -> None:
    evaluation = sign(*results)
    [row] = build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.rows
    assert row.status_note == shown


def test_a_correction_of_another_sample_dated_only_by_its_day_replaces_nothing() -> None:
    """Two samples of one day, each dated by the day alone (as outside labs and C-CDA imports send them): an
    emergency department screen positive for fentanyl and the clinic's screen that afternoon, corrected to negative.
    A day is no sample: the emergency department's positive still reaches the card."""
    day = days_ago(12)
    emergency = observation(FENTANYL_SCREEN, when=day, value_string="Positive", status="final")
    clinic = observation(FENTANYL_SCREEN, when=day, value_string="Negative", status="corrected")
    evaluation = sign(emergency, clinic)
    found = card(evaluation, CHECK_ID)
    assert found is not None and "positive for fentanyl" in found.detail
    assert sorted(fentanyl_values(evaluation)) == [("corrected", "negative"), ("final", "positive")]


@pytest.mark.parametrize("withdrawn", ["Test not performed", "Specimen rejected: mislabeled", "Cancelled"])
def test_a_positive_the_lab_withdrew_by_a_correction_is_no_unexpected_result(withdrawn: str) -> None:
    """The lab corrects a positive to 'not performed' (a mislabeled or rejected specimen): the positive is no longer
    the lab's result, so it is no 'unexpected fentanyl' and no overdose risk factor."""
    evaluation = sign(fentanyl("Positive", "final"), fentanyl(withdrawn, "corrected", issued=9))
    assert card(evaluation, CHECK_ID) is None
    found = card(evaluation, naloxone.CHECK_ID)
    assert found is None or "fentanyl" not in found.detail.lower()
    assert fentanyl_values(evaluation) == []
    assert evaluation.facts.last_drug_test_day() is None  # nor the year's drug test done
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    assert view.section("uds").content.rows == ()


def test_a_preliminary_positive_the_final_says_was_not_performed_is_not_judged() -> None:
    evaluation = sign(fentanyl("Positive", "preliminary", issued=12), fentanyl("QNS", "final"))
    assert card(evaluation, CHECK_ID) is None
    assert fentanyl_values(evaluation) == []


def test_a_not_performed_result_of_equal_standing_replaces_nothing() -> None:
    """Two finals of one sample, one of them 'not performed': nothing says which stands, so the positive is judged."""
    evaluation = sign(fentanyl("Positive", "final"), fentanyl("Test not performed", "final", issued=9))
    found = card(evaluation, CHECK_ID)
    assert found is not None and "positive for fentanyl" in found.detail
