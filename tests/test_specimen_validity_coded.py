"""Specimen validity results sent as a coded value (`valueCodeableConcept`), as a lab that codes its answer lists
sends them: read by the one reading of a validity result's words, as text is (`valueString`): a verdict ("Dilute") as
such words are, "Normal" (LOINC's answer LA6626-1, SNOMED 17621005, or its words) fit, and any other words named as
not judged, never passed over."""

from __future__ import annotations

from typing import Any

import pytest
from test_specimen_validity_text import CREATININE, _item, _negative_with
from test_specimen_validity_units import _named, _udt_detail
from test_uds_specimen_validity import _creatinine
from test_uds_unreadable_specimen import WHY_DILUTE

from guideline.fhirdata import LOINC, SNOMED

LAB_ANSWERS = "http://acme-lab.example/answers"


def _coded(result: dict[str, Any], *codings: tuple[str, str, str | None], text: str | None = None) -> dict[str, Any]:
    """The result with its value sent as a coded answer only: its codings (system, code, display) and its text."""
    concept: dict[str, Any] = {
        "coding": [
            {"system": system, "code": code} | ({"display": display} if display else {})
            for system, code, display in codings
        ]
    }
    if text is not None:
        concept["text"] = text
    sent = {k: v for k, v in result.items() if k != "valueQuantity"}
    return sent | {"valueCodeableConcept": concept}


@pytest.mark.parametrize(
    "creatinine",
    [
        pytest.param(_coded(_creatinine(12), (LAB_ANSWERS, "DIL", "Dilute")), id="display-Dilute"),
        pytest.param(_coded(_creatinine(12), (LAB_ANSWERS, "DIL", None), text="Dilute specimen"), id="text-Dilute"),
        pytest.param(_coded(_creatinine(12), text="12 mg/dL"), id="text-12-mg/dL"),
    ],
)
def test_a_coded_value_that_finds_the_specimen_dilute_leaves_its_negative_unread(tmp_path, creatinine) -> None:
    detail = _udt_detail(tmp_path, [creatinine])
    assert detail is not None and WHY_DILUTE in detail


@pytest.mark.parametrize(
    "creatinine",
    [
        pytest.param(_coded(_creatinine(85), (LOINC, "LA6626-1", None)), id="LOINC-LA6626-1"),
        pytest.param(_coded(_creatinine(85), (SNOMED, "17621005", None)), id="SNOMED-17621005"),
        pytest.param(_coded(_creatinine(85), (LAB_ANSWERS, "NML", "Normal")), id="display-Normal"),
        pytest.param(_coded(_creatinine(85), text="Within normal limits"), id="text-within-normal-limits"),
        pytest.param(_coded(_creatinine(85), (LAB_ANSWERS, "ND", "Not dilute")), id="display-not-dilute"),
        # The lab's own abbreviation as the text, "Normal" as a coding's name: any of its words may say it.
        pytest.param(
            _coded(_creatinine(85), (LAB_ANSWERS, "NML", "Normal"), text="NML"), id="abbreviation-then-Normal"
        ),
    ],
)
def test_a_coded_value_that_finds_the_specimen_fit_leaves_the_negative_read_and_names_nothing(
    tmp_path, creatinine
) -> None:
    assert _udt_detail(tmp_path, [creatinine]) is None
    assert _named(_negative_with(creatinine)) == ()


@pytest.mark.parametrize(
    ("creatinine", "written"),
    [
        pytest.param(_coded(_creatinine(30), (LAB_ANSWERS, "SC", "See comment")), "See comment", id="See-comment"),
        pytest.param(_coded(_creatinine(30), (LAB_ANSWERS, "ABN", "Abnormal")), "Abnormal", id="Abnormal"),
        pytest.param(_coded(_creatinine(30), (LAB_ANSWERS, "QNS", None)), "QNS", id="code-alone"),
    ],
)
def test_a_coded_value_that_cannot_be_judged_is_named(tmp_path, creatinine, written: str) -> None:
    """Passed over before: the test counted as done and its negative as a real negative, with nothing said. It still
    counts (the specimen is not known to be unfit), and the value is named with why."""
    assert _udt_detail(tmp_path, [creatinine]) is None
    assert _named(_negative_with(creatinine)) == (
        _item(f'{CREATININE} "{written}", a value in words PainPlan does not read'),
    )
