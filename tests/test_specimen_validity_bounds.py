"""Specimen validity results given only as a bound (`valueQuantity.comparator`: a creatinine "<5 mg/dL", a specific
gravity ">1.035", a pH "<3"), as labs send a value beyond what they measure: judged when the bound decides a
criterion exactly, and named as not judged, with why, when it cannot ("<30 mg/dL" may or may not be below 20)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import days_ago, patient, run
from cds_support import topics
from test_specimen_validity_units import KIND, WHY_SUBSTITUTED, _card, _creatinine_as_sent, _named, _udt_detail
from test_uds_specimen_validity import _creatinine, _gravity, _ph, _with_specimen
from test_uds_unreadable_specimen import TEST_DAY, WHY_DILUTE, _long_term_fills, _order_sign, _patient_view, _screen

from guideline.named_gaps import NAMED_GAPS
from guideline.specimen_validity import Reading

MASS = ("2161-8", "Creatinine [Mass/volume] in Urine")
WHY_INVALID = f"The test of {TEST_DAY} could not be read as a result: invalid specimen; a new test is due."
CREATININE = "Creatinine [Mass/volume] in Urine"


def _bound(result: dict[str, Any], comparator: str) -> dict[str, Any]:
    """The result with its value given only as a bound, as FHIR sends "<5 mg/dL"."""
    return result | {"valueQuantity": result["valueQuantity"] | {"comparator": comparator}}


def _negative_with(*validity: dict[str, Any]) -> list[dict[str, Any]]:
    return _with_specimen([*_screen("NEGATIVE", "NEGATIVE"), *validity])


# -- a bound that decides --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "validity",
    [
        pytest.param([_bound(_creatinine(5), "<")], id="creatinine<5"),
        pytest.param([_bound(_creatinine(20), "<")], id="creatinine<20"),
        pytest.param([_bound(_creatinine_as_sent(0.4, "mmol/L", "mmol/L", MASS), "<")], id="creatinine<0.4mmol/L"),
        pytest.param([_bound(_gravity(1.002), "<")], id="gravity<1.002"),
        # below 2 needs the gravity of water too: below 5 is dilute, and may be substituted, which a bound cannot say
        pytest.param([_bound(_creatinine(5), "<"), _gravity(1.0250)], id="creatinine<5,gravity1.025"),
    ],
)
def test_a_bound_below_the_dilute_limit_is_dilute(tmp_path, validity) -> None:
    """Passed over as no value, "<5 mg/dL", a creatinine certainly below 20, left the negative the year's test."""
    detail = _udt_detail(tmp_path, validity)
    assert detail is not None and WHY_DILUTE in detail


@pytest.mark.parametrize(
    "validity",
    [
        pytest.param([_bound(_creatinine(2), "<"), _gravity(1.0005)], id="creatinine<2,gravity1.0005"),
        pytest.param([_bound(_creatinine(1), "<="), _bound(_gravity(1.035), ">")], id="creatinine<=1,gravity>1.035"),
    ],
)
def test_a_bound_at_or_under_2_with_the_gravity_of_water_or_above_is_substituted(tmp_path, validity) -> None:
    detail = _udt_detail(tmp_path, validity)
    assert detail is not None and WHY_SUBSTITUTED in detail


@pytest.mark.parametrize(("comparator", "value"), [("<", 3), ("<=", 4), (">", 9.5), (">=", 9)])
def test_a_ph_bound_beyond_a_limit_is_invalid(tmp_path, comparator: str, value: float) -> None:
    detail = _udt_detail(tmp_path, [_bound(_ph(value), comparator)])
    assert detail is not None and WHY_INVALID in detail


@pytest.mark.parametrize(
    "validity",
    [
        pytest.param([_bound(_creatinine(30), ">"), _gravity(1.015)], id="creatinine>30"),
        pytest.param([_creatinine(85), _bound(_gravity(1.035), ">")], id="gravity>1.035"),
        pytest.param([_creatinine(85), _bound(_gravity(1.003), ">=")], id="gravity>=1.003"),
    ],
)
def test_a_bound_that_rules_every_criterion_out_leaves_the_negative_read_and_names_nothing(tmp_path, validity) -> None:
    assert _udt_detail(tmp_path, validity) is None
    assert _named(_negative_with(*validity)) == ()


@pytest.mark.parametrize(
    ("comparator", "edge", "cmp", "limit", "decided"),
    [
        ("<", "20", "<", "20", True),  # every value below 20 is below 20
        ("<=", "20", "<", "20", None),  # 20 itself is not
        ("<", "30", "<", "20", None),
        ("<", "2", "<=", "1.0010", None),
        (">", "9", ">=", "9", True),
        (">=", "9", ">=", "9", True),
        (">", "8.9", ">=", "9", None),
        ("<=", "4.5", ">=", "4.5", None),  # 4.5 itself meets it
        ("<", "4.5", ">=", "4.5", False),
        (">", "30", "<", "20", False),
        (">=", "20", "<", "20", False),
        (">", "19", "<", "20", None),
        ("ad", "20", "<", "20", None),  # FHIR's "sufficient to achieve this total": no bound at all
    ],
)
def test_a_bound_decides_a_criterion_only_when_every_value_within_it_does(
    comparator, edge, cmp, limit, decided
) -> None:
    assert Reading(Decimal(edge), comparator).meets(cmp, Decimal(limit)) is decided


# -- a bound that cannot decide: named -------------------------------------------------------------------------


def _item(written: str, day: str = TEST_DAY) -> str:
    return f"{written} (specimen of the urine drug test of {day})"


def test_a_creatinine_bound_that_cannot_tell_dilution_leaves_the_test_counted_and_is_named(tmp_path) -> None:
    """ "<30 mg/dL" may be 12 (dilute) or 25 (not): the test counts, its negatives stand, and the creatinine is named
    with why on the data-incomplete card."""
    answer = _patient_view(tmp_path, _negative_with(_bound(_creatinine(30), "<")))
    assert "urine-drug-test" not in topics(answer)
    incomplete = _card(answer, "data-incomplete")
    assert incomplete is not None
    item = _item(f"{CREATININE}, given only as < 30 mg/dL, which cannot tell whether the specimen was dilute")
    assert f"- {item}: " in incomplete["detail"]


def test_a_bound_that_leaves_two_verdicts_open_names_both() -> None:
    """A gravity of 1.025 with a creatinine "<30": below 2 it is substituted, below 20 dilute, else fit."""
    named = _named(_negative_with(_bound(_creatinine(30), "<"), _gravity(1.0250)))
    assert named == (
        _item(
            f"{CREATININE}, given only as < 30 mg/dL, which cannot tell whether the specimen was substituted or dilute"
        ),
    )


def test_a_ph_bound_that_cannot_tell_is_named() -> None:
    named = _named(_negative_with(_creatinine(85), _bound(_ph(5), "<")))
    assert named == (_item("pH of Urine, given only as < 5 [pH], which cannot tell whether the specimen was invalid"),)


def test_a_bound_beside_a_result_that_finds_the_specimen_dilute_names_only_what_it_leaves_open(tmp_path) -> None:
    """A gravity of 1.001 finds it dilute whatever the creatinine: its negatives are unread, named as such; "<30"
    cannot tell whether it was substituted too (below 2), which would leave its positives unread as well."""
    validity = [_bound(_creatinine(30), "<"), _gravity(1.001)]
    detail = _udt_detail(tmp_path, validity)
    assert detail is not None and WHY_DILUTE in detail
    item = _item(f"{CREATININE}, given only as < 30 mg/dL, which cannot tell whether the specimen was substituted")
    assert _named(_positive_with(*validity)) == (item,)


def test_a_bound_in_a_unit_not_read_is_named_as_such() -> None:
    """Passed over in silence before: neither a value nor a unit read."""
    creatinine = _bound(_creatinine_as_sent(30, "mmol/(24.h)", "mmol/24 h", MASS), "<")
    assert _named(_negative_with(creatinine)) == (_item(f"{CREATININE} < 30 mmol/24 h, a unit PainPlan does not read"),)


def test_the_unexpected_negative_says_its_creatinine_bound_could_not_tell(tmp_path) -> None:
    during_supply = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    screen = [r | during_supply for r in _screen("NEGATIVE", "NEGATIVE")]
    answer = _order_sign(tmp_path, [*screen, _bound(_creatinine(30, **during_supply), "<")])
    found = _card(answer, "unexpected-uds-result")
    assert found is not None
    assert (
        "a dilute specimen can read negative, and this one's validity could not be judged: "
        f"{CREATININE}, given only as < 30 mg/dL, which cannot tell whether the specimen was dilute\n"
        in found["detail"]
    )


# -- the window: the checks' own ---------------------------------------------------------------------------------


def test_a_site_reading_24_months_of_tests_names_a_validity_result_not_judged_of_18_months_ago() -> None:
    """The test of 18 months ago is that site's year's test, counted with its negatives: its creatinine with no unit
    was named only within a fixed 12 months, so the count rested on a specimen nobody was told was not judged."""
    taken = {"effectiveDateTime": f"{days_ago(540)}T09:14:00-05:00"}
    unit_not_read = _creatinine_as_sent(15, None, None, MASS, **taken)
    results = _with_specimen([*(r | taken for r in _screen("NEGATIVE", "NEGATIVE")), unit_not_read])
    config = {"checks": {"urine-drug-test": {"lookback_months": 24}}}
    facts = run("patient-view", resources=[patient(), *_long_term_fills(), *results], config=config).facts
    named = next(kind for kind in NAMED_GAPS if kind.key == KIND).items(facts)
    assert named == (_item(f"{CREATININE} 15, sent with no unit", days_ago(540)),)


# -- a more serious verdict a bound leaves open: named, beside positives too ------------------------------------

POSITIVES = ("POSITIVE", "POSITIVE")


def _positive_with(*validity: dict[str, Any]) -> list[dict[str, Any]]:
    return _with_specimen([*_screen(*POSITIVES, flag="A", oxycodone_flag="A"), *validity])


def test_a_certain_dilute_names_the_substitution_its_bound_leaves_open(tmp_path) -> None:
    """ "<5 mg/dL" with a gravity of 1.0005 is dilute for certain, and substituted if below 2, which the bound cannot
    tell: dilute was the verdict and nothing was named, though a substituted specimen's positives are unreadable."""
    validity = [_bound(_creatinine(5), "<"), _gravity(1.0005)]
    detail = _udt_detail(tmp_path, validity)
    assert detail is not None and WHY_DILUTE in detail
    item = _item(f"{CREATININE}, given only as < 5 mg/dL, which cannot tell whether the specimen was substituted")
    assert _named(_positive_with(*validity)) == (item,)


def test_a_ph_bound_that_cannot_tell_invalid_is_named_beside_positives() -> None:
    """An invalid specimen's positives are unread too: a pH "<5" that may be 4 leaves them open."""
    named = _named(_positive_with(_creatinine(85), _bound(_ph(5), "<")))
    assert named == (_item("pH of Urine, given only as < 5 [pH], which cannot tell whether the specimen was invalid"),)


def test_an_open_invalid_beside_a_certain_dilute_is_named_beside_positives() -> None:
    named = _named(_positive_with(_creatinine(12), _bound(_ph(5), "<")))
    assert named == (_item("pH of Urine, given only as < 5 [pH], which cannot tell whether the specimen was invalid"),)


def test_a_bound_that_leaves_only_dilution_open_is_not_named_beside_positives() -> None:
    """A positive stands on a dilute specimen: "<30 mg/dL" cannot change it."""
    assert _named(_positive_with(_bound(_creatinine(30), "<"))) == ()


def test_a_certain_substitution_leaves_nothing_open_to_name() -> None:
    """Substituted for certain: nothing is left open to name, whatever a pH bound says (the positive's line says the
    certain verdict instead: `test_the_unexpected_positive_says_its_specimen_read_substituted_or_invalid`)."""
    validity = [_bound(_creatinine(2), "<"), _gravity(1.0005), _bound(_ph(5), "<")]
    assert _named(_positive_with(*validity)) == ()


def test_a_dilute_negative_names_the_substitution_its_bound_leaves_open() -> None:
    """Its negatives are unread as dilute, and named so; that it may be substituted, not the patient's urine, is named
    beside them too, as it would be beside a positive."""
    named = _named(_negative_with(_bound(_creatinine(5), "<"), _gravity(1.0005)))
    assert named == (
        _item(f"{CREATININE}, given only as < 5 mg/dL, which cannot tell whether the specimen was substituted"),
    )


def test_the_unexpected_positive_says_its_specimen_may_be_invalid(tmp_path) -> None:
    """An opiate positive not prescribed, on a specimen whose pH "<5" may be 4: the line says it may not be the
    patient's urine (before, only a negative's line said the specimen's validity could not be judged)."""
    during_supply = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    screen = [r | during_supply for r in _screen("POSITIVE", "NEGATIVE", flag="A")]
    validity = [_creatinine(85, **during_supply), _bound(_ph(5, **during_supply), "<")]
    found = _card(_order_sign(tmp_path, _with_specimen([*screen, *validity])), "unexpected-uds-result")
    assert found is not None
    assert (
        "positive for opiates, not prescribed in the 30 days before; a substituted or invalid specimen may not be the "
        "patient's urine, and this one's validity could not be judged: pH of Urine, given only as < 5 [pH], which "
        "cannot tell whether the specimen was invalid\n" in found["detail"]
    )


@pytest.mark.parametrize(
    ("validity", "verdict"),
    [
        ([_creatinine(1), _gravity(1.0005)], "substituted"),
        ([_creatinine(85), _ph(3)], "invalid"),
    ],
)
def test_the_unexpected_positive_says_its_specimen_read_substituted_or_invalid(
    tmp_path: Any, validity: list[dict[str, Any]], verdict: str
) -> None:
    """Read for certain as substituted or invalid, the specimen's positive still stands (a threshold read by PainPlan
    is no lab's verdict on the drug result), but its line says so, as it says a verdict only possible: before, the
    possible one was said and the certain one was not."""
    during_supply = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    screen = [r | during_supply for r in _screen("POSITIVE", "NEGATIVE", flag="A")]
    dated = [r | during_supply for r in validity]
    found = _card(_order_sign(tmp_path, _with_specimen([*screen, *dated])), "unexpected-uds-result")
    assert found is not None
    assert (
        f"positive for opiates, not prescribed in the 30 days before; its specimen's validity results read it "
        f"{verdict}; a substituted or invalid specimen may not be the patient's urine" in found["detail"]
    )


# -- what an unexpected negative's line says is open --------------------------------------------------------------

NOT_WHAT_THE_PATIENT_TAKES = "an invalid or substituted specimen may not show what the patient takes"
DILUTE_CAN_READ_NEGATIVE = "a dilute specimen can read negative"
KIND_UDS = "unexpected-uds-result"


def _unexpected_negative_detail(tmp_path: Any, validity: list[dict[str, Any]]) -> str:
    """The unexpected-uds-result card's detail for a negative screen during the oxycodone supply, beside `validity`."""
    during_supply = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    screen = [r | during_supply for r in _screen("NEGATIVE", "NEGATIVE")]
    found = _card(_order_sign(tmp_path, _with_specimen([*screen, *(r | during_supply for r in validity)])), KIND_UDS)
    assert found is not None
    return found["detail"]


def test_an_unexpected_negative_whose_creatinine_rules_dilution_out_says_only_what_is_open(tmp_path) -> None:
    """A creatinine of 85 mg/dL is no dilute specimen; a pH "<5" leaves only "invalid" open. The line said "a dilute
    specimen can read negative", which the creatinine had already ruled out."""
    detail = _unexpected_negative_detail(tmp_path, [_creatinine(85), _bound(_ph(5), "<")])
    assert DILUTE_CAN_READ_NEGATIVE not in detail
    assert (
        f"{NOT_WHAT_THE_PATIENT_TAKES}, and this one's validity could not be judged: pH of Urine, given only as < 5 "
        "[pH], which cannot tell whether the specimen was invalid\n" in detail
    )


@pytest.mark.parametrize(
    "validity",
    [
        pytest.param([_bound(_creatinine(30), "<"), _bound(_ph(5), "<")], id="dilute-and-invalid-open"),
        pytest.param([_bound(_creatinine(30), "<"), _gravity(1.0250)], id="substituted-or-dilute-open"),
    ],
)
def test_an_unexpected_negative_whose_dilution_is_open_still_says_a_dilute_specimen_can_read_negative(
    tmp_path, validity
) -> None:
    """Where any result not judged leaves dilution open, dilution may explain the negative: said first, as before."""
    detail = _unexpected_negative_detail(tmp_path, validity)
    assert f"{DILUTE_CAN_READ_NEGATIVE}, and this one's validity could not be judged: " in detail
    assert NOT_WHAT_THE_PATIENT_TAKES not in detail
