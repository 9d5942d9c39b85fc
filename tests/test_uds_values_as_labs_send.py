"""Urine drug test values as labs send them (Quest, Labcorp, Epic Beaker, Cerner): below-limit wordings read as
negative, positives as positive, and a specimen the lab could not test validly never read as a negative."""

from __future__ import annotations

from typing import Any

import pytest
from builders import UCUM, card, days_ago, med_request, observation, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.named_gaps import NAMED_GAPS

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn
OXYCODONE_CONFIRM = "16249-5"  # oxyCODONE [Mass/volume] in Urine by Confirmatory method
COCAINE = "14314-9"  # Benzoylecgonine [Presence] in Urine by Screen method
UNREAD = "urine drug test (2026-06-05)"  # how the data-incomplete card names a result it could not read


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)


def _sign(*resources: dict[str, Any]):
    """An oxycodone order being signed for a patient on long-term oxycodone, with these results on record."""
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    return run("order-sign", drafts=[draft], resources=[long_term, *resources])


def _summary(evaluation) -> str:
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    return found.summary if found is not None else ""


def _unread(evaluation) -> tuple[str, ...]:
    return next(kind for kind in NAMED_GAPS if kind.key == "unread-uds").items(evaluation.facts)


NEGATIVES = [
    "<LOQ",
    "< LOQ",
    "Below LOQ",
    "Below threshold",
    "Less than cutoff",
    "< cutoff",
    "Not detected (<50 ng/mL)",
    "ND",
    "None detected",
    "Negative (cutoff 300 ng/mL)",
    "Presumptive negative",
    "NEG",
    "Below cutoff",
    "<LOD",
    "Below the limit of quantitation",
    "Less than reporting limit",
]


@pytest.mark.parametrize("value", NEGATIVES)
def test_a_negative_as_labs_write_it_is_an_unexpected_negative_for_a_prescribed_opioid(value: str) -> None:
    # "<LOQ", "Below threshold", "Less than cutoff", "< cutoff": read as no value before, named as unread, and the
    # oxycodone missing from the urine of a patient on oxycodone gave no card.
    evaluation = _sign(observation(OXYCODONE_SCREEN, when=days_ago(10), value_string=value))
    assert "negative for oxycodone" in _summary(evaluation)
    assert _unread(evaluation) == ()


POSITIVES = [
    "Presumptive positive",
    "Positive (>300)",
    "DETECTED",
    "POS",
    "Positive - see confirmation",
    # over the lab's cutoff, said in words as "Below cutoff" is: read as no value before, and named as unread
    "Above cutoff",
    "Above the cut-off",
    "> cutoff",
    "Exceeds cutoff",
    "At or above cutoff",
    "Greater than threshold",
]


@pytest.mark.parametrize("value", POSITIVES)
def test_a_positive_as_labs_write_it_is_an_unexpected_positive(value: str) -> None:
    evaluation = _sign(observation(COCAINE, when=days_ago(10), value_string=value))
    assert "positive for cocaine" in _summary(evaluation)


@pytest.mark.parametrize("value", ["Above LOQ", "Above the limit of quantitation", "> LOD"])
def test_over_a_limit_of_detection_is_no_positive(value: str) -> None:
    # Measurable is not over the cutoff the lab calls positive by (an LOQ of 5 ng/mL beside a cutoff of 100): only
    # "cutoff" and "threshold" say the drug was found.
    evaluation = _sign(observation(COCAINE, when=days_ago(10), value_string=value))
    assert "positive for cocaine" not in _summary(evaluation)


NOT_A_NEGATIVE = [
    "Inconclusive",
    "Invalid specimen",
    "Specimen invalid",
    "Dilute",
    "Negative, dilute",
    "Negative - dilute specimen",
    "Dilute negative",
    "NEG (dilute)",
    "Adulterated",
    "Substituted",
    "Negative; specimen substituted",
    "Negative - adulterant detected",  # "adulterant" was spelled out of the words read: a false all clear
    "Pending",
    "Confirmed",  # confirmed what: a bare qualifier, not a result
]


@pytest.mark.parametrize("value", NOT_A_NEGATIVE)
def test_a_specimen_not_validly_tested_is_never_a_negative_and_is_named(value: str) -> None:
    # A negative on a dilute, substituted or adulterated specimen is no test of what the patient takes: read as a
    # negative it was an "all clear" (a dilute negative for cocaine) on a sample that could not show it.
    evaluation = _sign(observation(OXYCODONE_SCREEN, when=days_ago(10), value_string=value))
    assert "negative for oxycodone" not in _summary(evaluation)
    assert _unread(evaluation) == (UNREAD,)


def test_a_dilute_positive_is_still_a_positive() -> None:
    # Dilution lowers what is found: it never makes a drug appear, so a positive on a dilute sample stands.
    evaluation = _sign(observation(COCAINE, when=days_ago(10), value_string="Positive, dilute specimen"))
    assert "positive for cocaine" in _summary(evaluation)


@pytest.mark.parametrize("value", ["Positive, dilute, invalid specimen", "Positive (dilute; adulterated)"])
def test_a_dilute_positive_also_said_invalid_or_adulterated_is_not_read(value: str) -> None:
    # Only the dilution leaves a positive standing: the lab's other word says the urine may not be the patient's.
    # Read by its first word alone, "dilute", it stood as a positive.
    evaluation = _sign(observation(COCAINE, when=days_ago(10), value_string=value))
    assert "positive for cocaine" not in _summary(evaluation)
    assert _unread(evaluation) == (UNREAD,)


@pytest.mark.parametrize(
    "value", ["Negative - specimen not dilute", "Negative, non-dilute", "NEG. No adulterants detected"]
)
def test_a_negative_whose_lab_says_the_specimen_is_fit_is_a_negative(value: str) -> None:
    # The lab denying the unfit word ("not dilute", "no adulterants") says the specimen is fit: read as unfit, a
    # negative for the prescribed oxycodone went unjudged, named as unread.
    evaluation = _sign(observation(OXYCODONE_SCREEN, when=days_ago(10), value_string=value))
    assert "negative for oxycodone" in _summary(evaluation)
    assert _unread(evaluation) == ()


@pytest.mark.parametrize("value", ["Specimen rejected", "Test not performed", "Rejected"])
def test_a_specimen_not_tested_is_no_test_and_no_negative(value: str) -> None:
    evaluation = _sign(observation(OXYCODONE_SCREEN, when=days_ago(10), value_string=value))
    assert "negative for oxycodone" not in _summary(evaluation)
    assert card(evaluation, urine_drug_test.CHECK_ID) is not None  # no test this year: order one


def _measured(value: float, comparator: str | None, cutoff: float | None) -> dict[str, Any]:
    """An oxycodone confirmation as a lab sends an amount below what it reports: value, comparator, cutoff range."""
    result = observation(OXYCODONE_CONFIRM, when=days_ago(10))
    result["valueQuantity"] = {"value": value, "unit": "ng/mL", "system": UCUM, "code": "ng/mL"}
    if comparator:
        result["valueQuantity"]["comparator"] = comparator
    if cutoff is not None:
        result["referenceRange"] = [{"high": {"value": cutoff, "unit": "ng/mL", "system": UCUM, "code": "ng/mL"}}]
    return result


@pytest.mark.parametrize(("value", "comparator"), [(50, "<"), (300, "<"), (300, "<="), (100, "<=")])
def test_an_amount_below_a_limit_at_or_under_the_cutoff_is_negative(value: float, comparator: str) -> None:
    evaluation = _sign(_measured(value, comparator, cutoff=300))
    assert "negative for oxycodone" in _summary(evaluation)


def test_an_amount_below_a_limit_above_the_cutoff_is_not_read_and_is_named() -> None:
    # "<500 ng/mL" against a 300 ng/mL cutoff may be 400: above the cutoff. Read as negative before.
    evaluation = _sign(_measured(500, "<", cutoff=300))
    assert "negative for oxycodone" not in _summary(evaluation)
    assert _unread(evaluation) == (UNREAD,)


def test_a_written_limit_above_the_cutoff_is_not_read_either() -> None:
    result = _measured(0, None, cutoff=300)
    del result["valueQuantity"]
    result["valueString"] = "<500 ng/mL"
    evaluation = _sign(result)
    assert "negative for oxycodone" not in _summary(evaluation)
    assert _unread(evaluation) == (UNREAD,)


def test_an_amount_below_a_limit_with_no_cutoff_is_below_what_the_lab_measures() -> None:
    evaluation = _sign(_measured(1, "<", cutoff=None))
    assert "negative for oxycodone" in _summary(evaluation)


def test_a_dilute_negative_coded_by_the_lab_and_flagged_normal_is_still_not_a_negative() -> None:
    # Beaker's own answer code named "NEGATIVE-DILUTE" with the flag N: the flag alone would read it as negative.
    result = observation(OXYCODONE_SCREEN, when=days_ago(10), interpretation="N")
    result["valueCodeableConcept"] = {
        "coding": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.11", "code": "7", "display": "NEGATIVE-DILUTE"}
        ],
        "text": "NEGATIVE-DILUTE",
    }
    evaluation = _sign(result)
    assert "negative for oxycodone" not in _summary(evaluation)
    assert _unread(evaluation) == (UNREAD,)
