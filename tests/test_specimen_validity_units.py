"""Specimen validity results in another unit than the criteria's: a urine creatinine sent in mmol/L or µmol/L (SI
labs, and US reference labs through UCUM) is converted to mg/dL and judged; one whose unit still cannot be read is
never passed over in silence: the test counts as done, and the validity result left unjudged is named wherever the
test is."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import days_ago, patient, run
from cds_support import topics
from test_plan import plan_for
from test_uds_specimen_validity import _creatinine, _gravity, _quest_svt, _with_specimen
from test_uds_unreadable_specimen import TEST_DAY, WHY_DILUTE, _long_term_fills, _order_sign, _patient_view, _screen

from guideline.named_gaps import NAMED_GAPS
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


@pytest.mark.parametrize(
    ("value", "code", "unit"),
    [
        (12, None, "mg/100 mL"),  # mg/dL as older lab systems write it
        (1500, "nmol/mL", "nmol/mL"),  # µmol/L in other words
    ],
)
def test_a_low_creatinine_in_another_spelling_of_a_unit_is_dilute(tmp_path, value, code, unit) -> None:
    loinc = ("2161-8", "Creatinine [Mass/volume] in Urine")
    detail = _udt_detail(tmp_path, [_creatinine_as_sent(value, code, unit, loinc)])
    assert detail is not None and WHY_DILUTE in detail


@pytest.mark.parametrize("unit", ["pH units", "pH unit(s)"])
def test_a_ph_in_ph_units_is_read(tmp_path, unit: str) -> None:
    """A pH of 9.5 is invalid, whatever the display calls its unit."""
    ph = _quest_svt("2756-5", "pH of Urine", 9.5, None, ident="svt.ph") | {"valueQuantity": _quantity(9.5, None, unit)}
    detail = _udt_detail(tmp_path, [ph])
    assert detail is not None and "could not be read as a result: invalid specimen" in detail


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


# -- not converted: named --------------------------------------------------------------------------------------

NO_UNIT = pytest.param(None, None, "15, sent with no unit", id="no-unit")
OTHER_UNIT = pytest.param("mmol/(24.h)", "mmol/24 h", "15 mmol/24 h, a unit PainPlan does not read", id="per-day")


def _unread_creatinine(code: str | None, unit: str | None, **kw: Any) -> dict[str, Any]:
    return _creatinine_as_sent(15, code, unit, ("2161-8", "Creatinine [Mass/volume] in Urine"), **kw)


def _named(resources: list[dict[str, Any]], hook: str = "patient-view") -> tuple[str, ...]:
    facts = run(hook, resources=[patient(), *_long_term_fills(), *resources]).facts
    return next(kind for kind in NAMED_GAPS if kind.key == KIND).items(facts)


@pytest.mark.parametrize(("code", "unit", "written"), [NO_UNIT, OTHER_UNIT])
def test_a_creatinine_whose_unit_cannot_be_read_leaves_the_test_counted_and_is_named(
    tmp_path, code, unit, written
) -> None:
    """Dropped in silence, a creatinine that may have been below 20 mg/dL left a negative read as a real negative
    with nothing said. The test still counts (it is not known to be dilute); the data-incomplete card names the
    creatinine not judged."""
    answer = _patient_view(tmp_path, _with_specimen([*_screen("NEGATIVE", "NEGATIVE"), _unread_creatinine(code, unit)]))
    assert "urine-drug-test" not in topics(answer)
    incomplete = _card(answer, "data-incomplete")
    assert incomplete is not None
    item = f"Creatinine [Mass/volume] in Urine {written} (specimen of the urine drug test of {TEST_DAY})"
    assert f"- {item}: " in incomplete["detail"]
    assert (
        f"- {item}: PainPlan could not judge it, so could not tell whether the specimen was dilute, substituted or "
        "invalid; the test's results were read as its other validity results allow: a negative as a negative unless "
        "they find the specimen dilute, a positive as a positive\n"
    ) in incomplete["detail"]


def test_the_plan_page_names_it_in_its_data_completeness_panel() -> None:
    results = _with_specimen([*_screen("NEGATIVE", "NEGATIVE"), _unread_creatinine(None, None)])
    plan = plan_for([patient(), *_long_term_fills(), *results])
    assert plan.named[KIND] == (
        f"Creatinine [Mass/volume] in Urine 15, sent with no unit (specimen of the urine drug test of {TEST_DAY})",
    )


def test_the_unexpected_negative_names_its_specimen_validity_not_judged(tmp_path) -> None:
    """A negative for the prescribed oxycodone is judged as a negative, and the card says its specimen's validity
    could not be judged: dilution, not a missed dose, may explain it."""
    during_supply = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    screen = [r | during_supply for r in _screen("NEGATIVE", "NEGATIVE")]
    answer = _order_sign(tmp_path, [*screen, _unread_creatinine(None, None, **during_supply)])
    found = _card(answer, "unexpected-uds-result")
    assert found is not None
    assert (
        "a dilute specimen can read negative, and this one's validity could not be judged: Creatinine [Mass/volume] "
        "in Urine 15, sent with no unit\n" in found["detail"]
    )


SUBSTITUTION_OPEN = (
    "Creatinine [Mass/volume] in Urine 15, sent with no unit, which cannot tell whether the specimen was substituted"
)


def test_a_validity_result_not_read_beside_one_that_finds_the_specimen_dilute_names_the_substitution_it_leaves_open(
    tmp_path,
) -> None:
    """The specimen is judged dilute by its specific gravity: its negatives are unread already, named as such. This
    test expected nothing named, written before a bound's open verdict was named: but with a gravity of 1.001 a
    creatinine below 2 mg/dL is substituted, which one in no unit cannot tell, and a substituted specimen's positives
    are unread too; it is named as a bound that leaves substitution open is."""
    validity = [_unread_creatinine(None, None), _gravity(1.001)]
    detail = _udt_detail(tmp_path, validity)
    assert detail is not None and WHY_DILUTE in detail
    assert _named(_with_specimen([*_screen("NEGATIVE", "NEGATIVE"), *validity])) == (
        f"{SUBSTITUTION_OPEN} (specimen of the urine drug test of {TEST_DAY})",
    )


def test_a_validity_result_not_read_that_leaves_substitution_open_is_named_beside_positives(tmp_path) -> None:
    """Passed over before: a positive stood as a finding on a specimen that may have been substituted."""
    during_supply = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    screen = [r | during_supply for r in _screen("POSITIVE", "NEGATIVE", flag="A")]
    validity = [_unread_creatinine(None, None, **during_supply), _gravity(1.001, **during_supply)]
    assert _named(_with_specimen([*screen, *validity])) == (
        f"{SUBSTITUTION_OPEN} (specimen of the urine drug test of {days_ago(20)})",
    )
    found = _card(_order_sign(tmp_path, _with_specimen([*screen, *validity])), "unexpected-uds-result")
    assert found is not None
    assert (
        "positive for opiates, not prescribed in the 30 days before; a substituted or invalid specimen may not be the "
        f"patient's urine, and this one's validity could not be judged: {SUBSTITUTION_OPEN}\n" in found["detail"]
    )


def _unread_ph() -> dict[str, Any]:
    """A urine pH in a unit a pH is never sent in, as a mapping error at an interface sends it."""
    return _creatinine_as_sent(5, "mmol/L", "mmol/L", ("2756-5", "pH of Urine")) | {"id": "svt.ph"}


def test_a_validity_result_not_read_beside_a_certain_substitution_is_not_named() -> None:
    """Substituted for certain: every result of the specimen is unread already, whatever a pH not read could say."""
    validity = [_creatinine(1), _gravity(1.0005), _unread_ph()]
    assert _named(_with_specimen([*_screen("POSITIVE", "NEGATIVE", flag="A"), *validity])) == ()


@pytest.mark.parametrize(
    ("validity", "written"),
    [
        pytest.param(
            [_creatinine(85), _unread_ph()],
            "pH of Urine 5 mmol/L, a unit PainPlan does not read, which cannot tell whether the specimen was invalid",
            id="pH-invalid",
        ),
        pytest.param(
            [_unread_creatinine(None, None), _gravity(1.025)],
            "Creatinine [Mass/volume] in Urine 15, sent with no unit, which cannot tell whether the specimen was "
            "substituted or dilute",
            id="creatinine-beside-gravity-1.025",
        ),
    ],
)
def test_a_validity_result_not_read_that_leaves_a_verdict_open_says_which_beside_positives(validity, written) -> None:
    """As a bound that cannot decide is: a substituted or invalid specimen's positives are unread too."""
    results = _with_specimen([*_screen("POSITIVE", "NEGATIVE", flag="A"), *validity])
    assert _named(results) == (f"{written} (specimen of the urine drug test of {TEST_DAY})",)


def test_a_validity_result_not_read_beside_positives_only_is_not_named() -> None:
    """A positive stands whatever the specimen's validity: nothing the creatinine could say changes it."""
    screen = _screen("POSITIVE", "POSITIVE", flag="A", oxycodone_flag="A")
    assert _named(_with_specimen([*screen, _unread_creatinine(None, None)])) == ()


def test_a_creatinine_in_mg_dl_is_never_named() -> None:
    assert _named(_with_specimen([*_screen("NEGATIVE", "NEGATIVE"), _creatinine(85)])) == ()


def test_an_order_sign_groups_the_record_s_validity_results_once(tmp_path, monkeypatch) -> None:
    """The verdicts the results are read with and the results not judged the cards name come of one grouping of the
    record's validity results by specimen (each was grouped on its own: two passes per call)."""
    import guideline.specimen_validity as specimen_validity

    calls: list[int] = []
    grouped = specimen_validity._by_specimen

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return grouped(*args, **kwargs)

    monkeypatch.setattr(specimen_validity, "_by_specimen", counted)
    during_supply = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    screen = [r | during_supply for r in _screen("NEGATIVE", "NEGATIVE")]
    answer = _order_sign(tmp_path, [*screen, _unread_creatinine(None, None, **during_supply)])
    found = _card(answer, "unexpected-uds-result")
    assert found is not None and "this one's validity could not be judged" in found["detail"]
    assert len(calls) == 1
