"""Specimen validity results in another unit than the criteria's: a urine creatinine sent in mmol/L or µmol/L (SI
labs, and US reference labs through UCUM) is converted to mg/dL and judged; one whose unit still cannot be read is
never passed over in silence: the test counts as done, and the validity result left unjudged is named wherever the
test is."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from test_uds_specimen_validity import _gravity, _quest_svt, _with_specimen
from test_uds_unreadable_specimen import TEST_DAY, WHY_DILUTE, _patient_view, _screen

from guideline.specimen_validity import CRITERIA

UCUM = "http://unitsofmeasure.org"
MOLES_PER_VOLUME = ("14683-7", "Creatinine [Moles/volume] in Urine")
KIND = "unjudged-specimen-validity"
WHY_SUBSTITUTED = f"The test of {TEST_DAY} could not be read as a result: substituted specimen; a new test is due."


def _quantity(value: float, code: str | None, unit: str | None) -> dict[str, Any]:
    """A valueQuantity as labs send it: a UCUM code and a display unit, or the display alone (no system)."""
    quantity: dict[str, Any] = {"value": value}
    if unit is not None:
        quantity["unit"] = unit
    if code is not None:
        quantity |= {"system": UCUM, "code": code}
    return quantity


def _creatinine_as_sent(
    value: float, code: str | None, unit: str | None, loinc: tuple[str, str] = MOLES_PER_VOLUME, **kw: Any
) -> dict[str, Any]:
    """A urine creatinine as an SI lab sends it (LOINC 14683-7 by default), its unit as given."""
    result = _quest_svt(*loinc, value, None, ident="svt.creat", **kw)
    return result | {"valueQuantity": _quantity(value, code, unit)}


def _card(answer: dict[str, Any], topic: str) -> dict[str, Any] | None:
    return next((c for c in answer["cards"] if c["source"]["topic"]["code"] == topic), None)


def _udt_detail(tmp_path, validity: list[dict[str, Any]]) -> str | None:
    """The `urine-drug-test` card's detail for a negative screen whose specimen has these validity results."""
    found = _card(
        _patient_view(tmp_path, _with_specimen([*_screen("NEGATIVE", "NEGATIVE"), *validity])), "urine-drug-test"
    )
    return None if found is None else found["detail"]


# -- converted -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loinc", "value", "code", "unit"),
    [
        (("2161-8", "Creatinine [Mass/volume] in Urine"), 1.1, "mmol/L", "mmol/L"),  # a US lab through UCUM
        (MOLES_PER_VOLUME, 1.1, "mmol/L", "mmol/L"),
        (MOLES_PER_VOLUME, 1500, "umol/L", "µmol/L"),  # UCUM's code, the display with the micro sign
        (MOLES_PER_VOLUME, 1500, None, "μmol/L"),  # the display alone, with the Greek mu
        (MOLES_PER_VOLUME, 1500, None, "micromol/L"),
        (MOLES_PER_VOLUME, 1.1, None, "MMOL/L"),  # the display alone, in capitals as an HL7 v2 feed sends it
        (("2161-8", "Creatinine [Mass/volume] in Urine"), 0.15, "g/L", "g/L"),
    ],
)
def test_a_low_creatinine_in_another_unit_is_dilute(tmp_path, loinc, value, code, unit) -> None:
    """1.1 mmol/L is 12.4 mg/dL, 1500 µmol/L 17.0 mg/dL, 0.15 g/L 15 mg/dL: dilute. Read as no value, the negative
    was the year's test and an "all clear" on a sample that could not show the drug."""
    detail = _udt_detail(tmp_path, [_creatinine_as_sent(value, code, unit, loinc)])
    assert detail is not None and WHY_DILUTE in detail


@pytest.mark.parametrize(("value", "code", "unit"), [(8.5, "mmol/L", "mmol/L"), (8840, "umol/L", "µmol/L")])
def test_a_normal_creatinine_in_another_unit_leaves_the_negative_read(tmp_path, value, code, unit) -> None:
    assert _udt_detail(tmp_path, [_creatinine_as_sent(value, code, unit), _gravity(1.015)]) is None


def test_a_creatinine_near_water_with_the_gravity_of_water_is_substituted(tmp_path) -> None:
    """0.1 mmol/L is 1.1 mg/dL, below 2."""
    detail = _udt_detail(tmp_path, [_creatinine_as_sent(0.1, "mmol/L", "mmol/L"), _gravity(1.0005)])
    assert detail is not None and WHY_SUBSTITUTED in detail


@pytest.mark.parametrize(("mmol", "dilute"), [("1.77", False), ("1.76", True)])
def test_the_conversion_is_exact_at_the_threshold(mmol: str, dilute: bool) -> None:
    """20 mg/dL is 1.768 mmol/L (molar mass 113.12 g/mol): the factor is applied in decimals, never floats."""
    test = CRITERIA.tests["14683-7"]
    assert test.in_criteria_unit(Decimal(mmol), "mmol/L") == Decimal(mmol) * Decimal("11.312")
    assert (test.in_criteria_unit(Decimal(mmol), "mmol/L") < 20) is dilute
