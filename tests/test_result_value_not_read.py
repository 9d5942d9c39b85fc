"""A urine drug test result whose value is far longer than any result's (a report pasted into the value, a garbled or
hostile feed) is not read: it reads as neither positive nor negative (a part could say negative what the rest calls
positive), and it is named among the results not judged, with its length; a value of a result's length reads as
before."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, days_ago, med_request, observation, padded, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.words import TEXT_READ_CHARACTERS

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)


LONG_NEGATIVE = padded("Negative", 1_000_000)


def sign(value: str | None, flag: dict[str, Any] | None = None) -> tuple[str, tuple[str, ...]]:
    """The unexpected-result card's summary on order-sign for a patient on long-term oxycodone whose oxycodone
    screen of 10 days ago reads `value` (and carries the interpretation `flag`, if given), and the results named as
    not judged."""
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    result: dict[str, Any] = observation(OXYCODONE_SCREEN, when=days_ago(10), value_string=value)
    if flag is not None:
        result["interpretation"] = [flag]
    evaluation = run("order-sign", drafts=[draft], resources=[long_term, result])
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    return (found.summary if found else ""), unexpected_uds_result.unjudged_results(evaluation.facts)


def test_a_value_of_a_results_length_is_read() -> None:
    summary, unjudged = sign(padded("Negative", TEXT_READ_CHARACTERS))
    assert "negative for oxycodone" in summary
    assert unjudged == ()


def test_a_value_longer_than_any_results_is_not_read_and_is_named_with_its_length() -> None:
    summary, unjudged = sign(padded("Negative", 1_000_000))
    assert "negative for oxycodone" not in summary
    assert unjudged == (f"urine drug test ({days_ago(10)}, its value is 1,000,000 characters long, not read)",)


def flag_in_words(words: str) -> dict[str, Any]:
    """An interpretation sent in words alone, as a lab interface sends a flag it has no HL7 code for."""
    return {"text": words}


def flag_coded(code: str, display: str) -> dict[str, Any]:
    """An interpretation as Oracle Health sends it: the HL7 flag with its name, and the name as its text."""
    return {"coding": [{"system": INTERPRETATION, "code": code, "display": display}], "text": display}


def test_a_flag_of_a_flags_length_is_read() -> None:
    summary, unjudged = sign(None, flag_in_words(padded("Negative", TEXT_READ_CHARACTERS)))
    assert "negative for oxycodone" in summary
    assert unjudged == ()


@pytest.mark.parametrize("flag", [flag_in_words(LONG_NEGATIVE), flag_coded("N", LONG_NEGATIVE)])
def test_a_flag_longer_than_any_results_is_not_read_and_is_named_with_its_length(flag: dict[str, Any]) -> None:
    # Its words were read whole, whatever their length: a part could say negative what the rest calls positive, and
    # beside them its code is not read either, as a coded value's is not beside a name too long to read.
    summary, unjudged = sign(None, flag)
    assert "negative for oxycodone" not in summary
    assert unjudged == (f"urine drug test ({days_ago(10)}, its flag is 1,000,000 characters long, not read)",)


def test_a_value_and_a_flag_both_too_long_are_named_together() -> None:
    summary, unjudged = sign(LONG_NEGATIVE, flag_in_words(padded("Negative", 3_000)))
    assert unjudged == (
        f"urine drug test ({days_ago(10)}, its value is 1,000,000 characters long, not read; its flag is 3,000 "
        "characters long, not read)",
    )


PANEL = "19659-2"  # Drugs of abuse panel - Urine by Screen method


def sign_panel(value: str, oxycodone: str) -> tuple[str, tuple[str, ...]]:
    """`sign`, the screen sent as a panel with one result per analyte (Epic sends its components so): the panel's own
    value `value`, its oxycodone analyte's `oxycodone` and an opiates analyte's "Negative"."""
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    panel: dict[str, Any] = observation(PANEL, when=days_ago(10), value_string=value)
    panel["component"] = [
        {"code": {"coding": [{"system": "http://loinc.org", "code": OXYCODONE_SCREEN}]}, "valueString": oxycodone},
        {"code": {"coding": [{"system": "http://loinc.org", "code": "16250-3"}]}, "valueString": "Negative"},
    ]
    evaluation = run("order-sign", drafts=[draft], resources=[long_term, panel])
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    return (found.summary if found else ""), unexpected_uds_result.unjudged_results(evaluation.facts)


def test_a_panel_analytes_value_too_long_is_measured_alone() -> None:
    """Each analyte's value is measured as its own result's (`uds._with_panel_components`), never by its panel's."""
    summary, unjudged = sign_panel("See components", LONG_NEGATIVE)
    assert "negative for oxycodone" not in summary
    assert unjudged == (f"urine drug test ({days_ago(10)}, its value is 1,000,000 characters long, not read)",)


def test_a_panels_own_value_too_long_leaves_its_analytes_read() -> None:
    summary, unjudged = sign_panel(LONG_NEGATIVE, "Negative")
    assert "negative for oxycodone" in summary
    assert unjudged == ()


def sign_flagged_panel(flag: dict[str, Any], oxycodone: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """`sign_panel`, the panel flagged `flag` with no value of its own, its oxycodone analyte flagged `oxycodone` with
    none either, and an opiates analyte's "Negative"."""
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    panel: dict[str, Any] = observation(PANEL, when=days_ago(10))
    panel["interpretation"] = [flag]
    panel["component"] = [
        {"code": {"coding": [{"system": "http://loinc.org", "code": OXYCODONE_SCREEN}]}, "interpretation": [oxycodone]},
        {"code": {"coding": [{"system": "http://loinc.org", "code": "16250-3"}]}, "valueString": "Negative"},
    ]
    evaluation = run("order-sign", drafts=[draft], resources=[long_term, panel])
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    return (found.summary if found else ""), unexpected_uds_result.unjudged_results(evaluation.facts)


def test_a_panel_analytes_flag_too_long_is_measured_alone() -> None:
    """Each analyte's flag is measured as its own result's (`uds._with_panel_components`), never by its panel's."""
    summary, unjudged = sign_flagged_panel(flag_coded("N", "Normal"), flag_in_words(LONG_NEGATIVE))
    assert "negative for oxycodone" not in summary
    assert unjudged == (f"urine drug test ({days_ago(10)}, its flag is 1,000,000 characters long, not read)",)


def test_a_panels_own_flag_too_long_leaves_its_analytes_read() -> None:
    summary, unjudged = sign_flagged_panel(flag_in_words(LONG_NEGATIVE), flag_coded("N", "Negative"))
    assert "negative for oxycodone" in summary
    assert unjudged == ()
