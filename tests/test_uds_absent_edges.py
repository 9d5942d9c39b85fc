"""A urine drug test panel read with the reasons its analytes' values are absent (FHIR's dataAbsentReason), beside
analytes that carry a value: its specimen validity checks, or other drugs read."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card, patient
from test_plan import plan_for
from test_uds_card_result_pending import OPIATES, _sign
from test_uds_no_value import COCAINE, DAY, TO_COME, _analyte, _per_analyte_panel, _reason
from test_uds_unreadable_specimen import _long_term_fills

from guideline.checks import CHECKS, unexpected_uds_result
from guideline.uds import tests_done as counted_by_the_review

CHECK_ID = "urine-drug-test"
CREATININE = ("2161-8", "Creatinine [Mass/volume] in Urine")
PH = ("2756-5", "pH of Urine by Test strip")


def _validity() -> list[dict[str, Any]]:
    """The panel's specimen validity analytes, read: Epic sends creatinine and pH in the drug panel."""
    return [
        _analyte(CREATININE, valueQuantity={"value": 85, "unit": "mg/dL"}),
        _analyte(PH, valueQuantity={"value": 6.2, "unit": "[pH]"}),
    ]


@pytest.mark.parametrize("code", ["not-performed", "asked-declined"])
def test_a_panel_whose_drugs_were_not_performed_is_no_test_though_its_validity_checks_were(code: str) -> None:
    # Before, the creatinine's value made the panel "a test done": no drug was tested, yet it was the year's test and
    # the card asking for one was quiet. It is named as a panel not performed is.
    drugs = [_analyte(OPIATES, **_reason(code)), _analyte(COCAINE, **_reason(code))]
    evaluation = _sign(_per_analyte_panel(*drugs, *_validity()))
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert found.detail.startswith("There is **no urine drug test result on record** for this patient.\n")
    assert counted_by_the_review(evaluation.facts.record.observations, evaluation.facts.terms) == ()


def test_a_panel_with_one_drug_read_beside_validity_checks_is_the_years_test_as_before() -> None:
    drugs = [_analyte(OPIATES, valueString="Negative"), _analyte(COCAINE, **_reason("not-performed"))]
    assert card(_sign(_per_analyte_panel(*drugs, *_validity())), CHECK_ID) is None


def test_a_panel_whose_drugs_are_all_to_come_awaits_them_though_its_validity_checks_were_read() -> None:
    # Before, the creatinine's value made the panel a test done, read nothing: the year's test, the card quiet on
    # drug results still to come.
    drugs = [_analyte(OPIATES, **_reason("temp-unknown")), _analyte(COCAINE, **_reason("temp-unknown"))]
    evaluation = _sign(_per_analyte_panel(*drugs, *_validity()))
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    assert found.detail.startswith(f"There is **no urine drug test result on record** for this patient. {TO_COME}")
    assert counted_by_the_review(evaluation.facts.record.observations, evaluation.facts.terms) == ()


def test_an_analyte_to_come_beside_one_read_is_named_with_its_value_to_come(monkeypatch: pytest.MonkeyPatch) -> None:
    # The opiates screen read is the year's test; the cocaine analyte whose value is still to come is not dropped:
    # the results not judged name it with why (before, with its date alone: read as a value that could not be read),
    # and its history row says so.
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    panel = _per_analyte_panel(_analyte(OPIATES, valueString="Negative"), _analyte(COCAINE, **_reason("temp-unknown")))
    evaluation = _sign(panel)
    assert card(evaluation, CHECK_ID) is None
    assert unexpected_uds_result.unread_results(evaluation.facts) == (
        f"{COCAINE[1]} ({DAY}, value temporarily unknown)",
    )
    rows = plan_for([patient(), *_long_term_fills(), panel]).section("uds").content.rows
    assert [row.not_judged for row in rows if row.test == COCAINE[1]] == [
        "could not be read (value temporarily unknown)"
    ]
