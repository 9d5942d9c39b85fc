"""Specimen validity results (creatinine, specific gravity, pH) sent beside a urine drug screen as results of their
own are judged with the drug results of the same specimen: a dilute, substituted or invalid specimen leaves its
negatives unread (named, as a value "NEGATIVE-DILUTE" is), its positives stand. A note on a drug result saying
"dilute" or "substituted" is read as its value's words are."""

from __future__ import annotations

from typing import Any

from builders import LOINC, days_ago
from cds_support import topics
from test_uds_unreadable_specimen import (
    TEST_DAY,
    WHY_DILUTE,
    _epic_result,
    _order_sign,
    _patient_view,
    _screen,
    _uds_card,
)

FLAGS = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
COLLECTED = f"{TEST_DAY}T09:14:00-05:00"


def _quest_svt(
    code: str, display: str, value: float, unit: str | None, *, ident: str, flag: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A Quest-like specimen validity result: LOINC, a valueQuantity in UCUM, an optional L/LL/A flag."""
    quantity: dict[str, Any] = {"value": value}
    if unit:
        quantity |= {"unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    result: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": COLLECTED,
        "issued": f"{TEST_DAY}T16:40:12Z",
        "valueQuantity": quantity,
    }
    if flag:
        result["interpretation"] = [{"coding": [{"system": FLAGS, "code": flag}]}]
    return result | extra


def _creatinine(value: float, unit: str | None = "mg/dL", **kw: Any) -> dict[str, Any]:
    return _quest_svt("2161-8", "Creatinine [Mass/volume] in Urine", value, unit, ident="svt.creat", **kw)


def _gravity(value: float, **kw: Any) -> dict[str, Any]:
    return _quest_svt("2965-2", "Specific gravity of Urine", value, None, ident="svt.sg", **kw)


def _ph(value: float, **kw: Any) -> dict[str, Any]:
    return _quest_svt("2756-5", "pH of Urine", value, "[pH]", ident="svt.ph", **kw)


def _with_specimen(results: list[dict[str, Any]], ref: str = "Specimen/sp1") -> list[dict[str, Any]]:
    return [r | {"specimen": {"reference": ref}} for r in results]


def _unread_why(results: list[dict[str, Any]], tmp_path) -> str | None:
    found = _uds_card(_patient_view(tmp_path, results))
    return None if found is None else found["detail"]


def test_a_negative_screen_with_a_low_creatinine_flagged_l_on_its_specimen_is_no_years_test(tmp_path) -> None:
    """Read apart, the creatinine of 12 mg/dL changed nothing: the negative was the year's test and no card showed."""
    results = _with_specimen([*_screen("NEGATIVE", "NEGATIVE"), _creatinine(12, flag="L")])
    found = _uds_card(_patient_view(tmp_path, results))
    assert found is not None
    assert found["summary"] == f"Order a urine drug test: the test of {TEST_DAY} could not be read (dilute specimen)"
    assert WHY_DILUTE in found["detail"]


def test_a_creatinine_below_20_with_no_flag_collected_the_same_minute_is_dilute(tmp_path) -> None:
    detail = _unread_why([*_screen("NEGATIVE", "NEGATIVE"), _creatinine(12)], tmp_path)
    assert detail is not None and WHY_DILUTE in detail


def test_a_low_specific_gravity_is_dilute(tmp_path) -> None:
    detail = _unread_why([*_screen("NEGATIVE", "NEGATIVE"), _gravity(1.001)], tmp_path)
    assert detail is not None and WHY_DILUTE in detail


def test_creatinine_below_2_with_a_specific_gravity_of_water_is_substituted(tmp_path) -> None:
    detail = _unread_why([*_screen("NEGATIVE", "NEGATIVE"), _creatinine(1.2), _gravity(1.0005)], tmp_path)
    assert detail is not None and "could not be read as a result: substituted specimen" in detail


def test_a_ph_of_9_or_more_is_invalid(tmp_path) -> None:
    detail = _unread_why([*_screen("NEGATIVE", "NEGATIVE"), _ph(9.5)], tmp_path)
    assert detail is not None and "could not be read as a result: invalid specimen" in detail


def test_a_validity_result_saying_dilute_in_words_is_read(tmp_path) -> None:
    said = _epic_result("2161-8", "Creatinine Ur", "Dilute", ident="svt.words", flag=None)
    detail = _unread_why([*_screen("NEGATIVE", "NEGATIVE"), said], tmp_path)
    assert detail is not None and WHY_DILUTE in detail


def test_a_normal_creatinine_leaves_the_negative_read(tmp_path) -> None:
    results = _with_specimen([*_screen("NEGATIVE", "NEGATIVE"), _creatinine(85), _gravity(1.015), _ph(6.0)])
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, results))


def test_a_creatinine_in_other_units_is_judged_once_converted(tmp_path) -> None:
    """12 mmol/L is 136 mg/dL (tests/test_specimen_validity_units.py): not dilute, so the negative stands."""
    results = [*_screen("NEGATIVE", "NEGATIVE"), _creatinine(12, unit="mmol/L")]
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, results))


def test_a_low_creatinine_of_another_specimen_changes_nothing(tmp_path) -> None:
    screen = _with_specimen(_screen("NEGATIVE", "NEGATIVE"), "Specimen/sp1")
    other = _with_specimen([_creatinine(12, flag="L")], "Specimen/sp2")
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, [*screen, *other]))


def test_a_low_creatinine_collected_another_time_changes_nothing(tmp_path) -> None:
    later = _creatinine(12, flag="L", effectiveDateTime=f"{TEST_DAY}T14:02:00-05:00")
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, [*_screen("NEGATIVE", "NEGATIVE"), later]))


def test_a_positive_on_a_dilute_specimen_stands(tmp_path) -> None:
    """Dilution never makes a drug appear: the oxycodone found is found, and the test is the year's test."""
    results = [*_screen("NEGATIVE", "POSITIVE", oxycodone_flag="A"), _creatinine(12, flag="L")]
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, results))


def test_a_note_on_the_drug_result_saying_dilute_is_read(tmp_path) -> None:
    noted = [r | {"note": [{"text": "Specimen dilute. Recollection recommended."}]} for r in _screen("NEG", "NEG")]
    detail = _unread_why(noted, tmp_path)
    assert detail is not None and WHY_DILUTE in detail


def test_a_note_denying_dilution_leaves_the_negative_read(tmp_path) -> None:
    noted = [r | {"note": [{"text": "Specimen not dilute."}]} for r in _screen("NEG", "NEG")]
    assert "urine-drug-test" not in topics(_patient_view(tmp_path, noted))


def test_a_negative_for_the_prescribed_oxycodone_on_a_dilute_specimen_is_not_called_unexpected(tmp_path) -> None:
    """Read apart, it was "negative for oxycodone although oxycodone was prescribed" on a sample that could not
    show it."""
    during_supply = {"effectiveDateTime": f"{days_ago(20)}T09:14:00-05:00"}
    screen = [r | during_supply for r in _screen("NEGATIVE", "NEGATIVE")]
    assert "unexpected-uds-result" in topics(_order_sign(tmp_path, screen))
    dilute = [*screen, _creatinine(12, flag="L", **during_supply)]
    assert "unexpected-uds-result" not in topics(_order_sign(tmp_path, dilute))


def test_the_specimens_are_judged_once_per_call_for_every_window_of_results_read(tmp_path, monkeypatch) -> None:
    """The card reads the year's results, then every result for the last test: both are read with the specimens'
    verdicts, worked out once per call (the record's validity results are the same for both)."""
    import guideline.uds as uds

    calls: list[int] = []
    judged = uds.read_validity

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return judged(*args, **kwargs)

    monkeypatch.setattr(uds, "read_validity", counted)
    results = _with_specimen([*_screen("NEGATIVE", "NEGATIVE"), _creatinine(12, flag="L")])
    found = _uds_card(_patient_view(tmp_path, results))
    assert found is not None and WHY_DILUTE in found["detail"]
    assert len(calls) == 1
