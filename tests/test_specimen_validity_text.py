"""Specimen validity results sent as text (`valueString`), as some lab interfaces send every value: a number with its
unit ("12 mg/dL", "<5 mg/dL") or a unitless gravity or pH ("1.002") is read as the same quantity would be; a verdict
in words ("Dilute") as such words are; "Normal" is fit; any other text is named as not judged, never passed over."""

from __future__ import annotations

from typing import Any

import pytest
from builders import days_ago
from test_specimen_validity_units import WHY_SUBSTITUTED, _named, _udt_detail
from test_uds_specimen_validity import _creatinine, _gravity, _ph, _with_specimen
from test_uds_unreadable_specimen import TEST_DAY, WHY_DILUTE, _screen

CREATININE = "Creatinine [Mass/volume] in Urine"
WHY_INVALID = f"The test of {TEST_DAY} could not be read as a result: invalid specimen; a new test is due."


def _as_text(result: dict[str, Any], written: str) -> dict[str, Any]:
    """The result with its value sent as text only, as an HL7 v2 feed converted to FHIR sends it."""
    sent = {k: v for k, v in result.items() if k != "valueQuantity"}
    return sent | {"valueString": written}


def _negative_with(*validity: dict[str, Any]) -> list[dict[str, Any]]:
    return _with_specimen([*_screen("NEGATIVE", "NEGATIVE"), *validity])


def _item(written: str) -> str:
    return f"{written} (specimen of the urine drug test of {TEST_DAY})"


@pytest.mark.parametrize(
    "validity",
    [
        pytest.param([_as_text(_creatinine(12), "12 mg/dL")], id="creatinine-12-mg/dL"),
        pytest.param([_as_text(_creatinine(12), "12.0 MG/DL")], id="creatinine-capitals"),
        pytest.param([_as_text(_creatinine(5), "<5 mg/dL")], id="creatinine-<5"),
        pytest.param([_as_text(_creatinine(1), "1.1 mmol/L")], id="creatinine-mmol/L"),
        pytest.param([_creatinine(85), _as_text(_gravity(1.002), "1.002")], id="gravity-1.002"),
        pytest.param([_as_text(_creatinine(12), "Dilute")], id="creatinine-Dilute"),
    ],
)
def test_a_validity_result_in_text_that_finds_the_specimen_dilute_leaves_its_negative_unread(
    tmp_path, validity
) -> None:
    """Passed over as text, a creatinine "12 mg/dL" left the negative the year's test, with no card and nothing
    named."""
    detail = _udt_detail(tmp_path, validity)
    assert detail is not None and WHY_DILUTE in detail


def test_a_text_near_water_with_the_gravity_of_water_is_substituted(tmp_path) -> None:
    validity = [_as_text(_creatinine(1), "1.5 mg/dL"), _as_text(_gravity(1.0005), "1.0005")]
    detail = _udt_detail(tmp_path, validity)
    assert detail is not None and WHY_SUBSTITUTED in detail


def test_a_ph_in_text_beyond_its_limit_is_invalid(tmp_path) -> None:
    detail = _udt_detail(tmp_path, [_creatinine(85), _as_text(_ph(9.5), "9.5")])
    assert detail is not None and WHY_INVALID in detail


@pytest.mark.parametrize(
    "validity",
    [
        pytest.param([_as_text(_creatinine(85), "85 mg/dL"), _as_text(_gravity(1.015), "1.015")], id="in-range"),
        pytest.param([_as_text(_creatinine(85), "Normal")], id="Normal"),
        pytest.param([_as_text(_creatinine(85), "Within normal limits")], id="within-normal-limits"),
        pytest.param([_as_text(_creatinine(85), "Not dilute")], id="not-dilute"),
    ],
)
def test_a_text_that_finds_the_specimen_fit_leaves_the_negative_read_and_names_nothing(tmp_path, validity) -> None:
    assert _udt_detail(tmp_path, validity) is None
    assert _named(_negative_with(*validity)) == ()


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("See comment", '"See comment", a value in words PainPlan does not read'),
        ("12 mmol/24 h", "12 mmol/24 h, a unit PainPlan does not read"),
        ("15", "15, sent with no unit"),
        ("<30 mg/dL", "given only as < 30 mg/dL, which cannot tell whether the specimen was dilute"),
    ],
)
def test_a_text_that_cannot_be_judged_is_named(tmp_path, written: str, why: str) -> None:
    """The test still counts as done and its negatives stand (the specimen is not known to be unfit), and the text
    is named with why."""
    validity = [_as_text(_creatinine(30), written)]
    assert _udt_detail(tmp_path, validity) is None
    separator = ", " if why.startswith("given") else " "
    assert _named(_negative_with(*validity)) == (_item(f"{CREATININE}{separator}{why}"),)


def test_a_text_beside_positives_only_is_not_named() -> None:
    """A positive stands whatever a dilute specimen's creatinine says."""
    screen = _screen("POSITIVE", "POSITIVE", flag="A", oxycodone_flag="A")
    taken = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    assert _named(_with_specimen([*screen, _as_text(_creatinine(30, **taken), "See comment")])) == ()


def test_each_validity_result_s_value_is_read_once(monkeypatch) -> None:
    """A specimen's verdict asks of each result whether it is read, bounded, or in words not judged: its value was
    parsed (a regex apiece for text) 3 to 5 times for the one answer; it is read once and carried."""
    import guideline.specimen_validity as specimen_validity

    parsed: list[int] = []
    sent = specimen_validity._sent

    def counted(observation: Any) -> Any:
        parsed.append(id(observation))
        return sent(observation)

    monkeypatch.setattr(specimen_validity, "_sent", counted)
    validity = [_as_text(_creatinine(30), "See comment"), _as_text(_gravity(1.002), "<1.003"), _ph(6.5)]
    named = _named(_negative_with(*validity))
    assert any("See comment" in item for item in named)
    assert sorted(parsed.count(one) for one in set(parsed)) == [1, 1, 1]
