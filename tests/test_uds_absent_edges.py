"""A urine drug test panel read with the reasons its analytes' values are absent (FHIR's dataAbsentReason), beside
analytes that carry a value: its specimen validity checks, or other drugs read."""

from __future__ import annotations

from typing import Any

import pytest
from builders import card
from test_uds_card_result_pending import OPIATES, _sign
from test_uds_no_value import COCAINE, _analyte, _per_analyte_panel, _reason

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
