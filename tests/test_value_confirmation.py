"""A result's own value words that give a screen's finding and then its confirmation's ("Presumptive positive,
confirmation negative"): the confirmation overrides the screen, as it does in a lab report's conclusion."""

from __future__ import annotations

import pytest
from builders import card, days_ago, observation
from test_diagnostic_reports import FENTANYL_SCREEN, OXYCODONE_SCREEN, sign

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.uds import value_from_text


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


@pytest.mark.parametrize(
    ("value", "read"),
    [
        # Labcorp and pain-management labs write the screen and its confirmation in one value
        ("Presumptive positive, confirmation negative", "negative"),
        ("Screen positive; confirmed negative", "negative"),
        ("Oxycodone: presumptive positive; confirmed negative", "negative"),
        ("Presumptive positive, LC-MS/MS negative", "negative"),
        ("Presumptive positive; negative by LC-MS/MS", "negative"),
        ("Screen negative, confirmation positive", "positive"),
        ("Presumptive positive, confirmed positive", "positive"),
        # ... abbreviated, with no break before the confirmation, or in the next cell of a one-line report
        ("Screen POS, confirm NEG", "negative"),
        ("Screen POS conf NEG", "negative"),
        ("Screen POS, conf. NEG", "negative"),
        ("Screen positive confirmation negative", "negative"),
        ("SCREEN: POSITIVE  CONFIRMATION: NEGATIVE", "negative"),
        ("Positive, confirm: pending", "positive"),
        # ... or in brackets after the screen's
        ("Positive (confirmation negative)", "negative"),
        ("Presumptive positive (confirmed negative by LC-MS/MS)", "negative"),
        ("Screen negative (confirmation positive)", "positive"),
        # ... or naming the drug in each, as a conclusion does (`uds._screens_overridden`, one rule): before, only a
        # confirmation naming no drug was taken, and the screen's first words read
        ("Oxycodone: screen negative. Oxycodone: confirmation positive 150 ng/mL.", "positive"),
        ("Oxycodone: screen positive. Oxycodone: confirmation negative.", "negative"),
        # ... and one that stands beside a finding not written as a screen's says both: the first words stand
        ("Oxycodone: confirmation negative. Oxycodone: positive.", "negative"),
        # no confirmation's finding: the screen's stands
        ("Positive, confirmed by LC-MS/MS", "positive"),
        ("Positive - see confirmation", "positive"),
        ("Presumptive positive, confirmation pending", "positive"),
        ("Negative, dilute specimen", "negative"),
        ("Positive (confirmed)", "positive"),
        ("Positive (>300)", "positive"),
        ("Negative (cutoff 300 ng/mL)", "negative"),
    ],
)
def test_a_confirmation_in_the_value_overrides_its_screen(value: str, read: str) -> None:
    assert value_from_text(value) == read


@pytest.mark.parametrize(
    "value",
    [
        "Presumptive positive, confirmation negative",
        "Positive (confirmation negative)",
        "SCREEN: POSITIVE  CONFIRMATION: NEGATIVE",
        "Screen POS conf NEG",
    ],
)
def test_a_prescribed_opioid_screened_positive_and_confirmed_negative_is_an_unexpected_negative(value: str) -> None:
    # Before, the screen's "positive" was read and the patient prescribed oxycodone looked as expected: the lab's
    # definitive test found no oxycodone (guideline 10.4).
    result = observation(OXYCODONE_SCREEN, when=f"{days_ago(30)}T09:14:00-04:00", value_string=value)
    found = card(sign(result), unexpected_uds_result.CHECK_ID)
    assert found is not None and f"negative for oxycodone ({days_ago(30)})" in found.summary


def test_a_drug_not_prescribed_screened_positive_and_confirmed_negative_is_no_unexpected_positive() -> None:
    result = observation(
        FENTANYL_SCREEN, when=f"{days_ago(30)}T09:14:00-04:00", value_string="Screen positive; confirmed negative"
    )
    assert card(sign(result), unexpected_uds_result.CHECK_ID) is None
