"""An HIE's copy of a urine drug test result on the plan page. Epic's cocaine screen (LOINC 14314-9, collected
2026-05-26 09:14, "Positive") relayed back by the regional HIE under its own id (hObs.5) was listed twice in the
drug-test history, though the card shows it once. A result carries no number to tie it by, so the page's rule is:
a result from another server with the same test (LOINC) and sample (collected at the same instant), the same
status and the same value (and unit) as exactly one of the EHR's own results is that result, shown once and named
on its row ("also sent by …"). A result from another server that is only alike (the same test, day and value, but
another instant, a day alone, or alike to two) stays a row of its own, marked as a possible copy. Never dropped
silently."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
from builders import patient, run
from test_check_unexpected_uds import COCAINE, OXYCODONE_SCREEN
from test_hie_relay import EPIC, HIE, _entry, _searchset

from guideline.plan import build_uds

AT = "2026-05-26T09:14:00-04:00"


def result(ident: str, code: str = COCAINE, when: str = AT, value: str = "Positive", **more: Any) -> dict[str, Any]:
    """A urine drug screen result as Epic sends it (LOINC, collected at `when`)."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": more.pop("status", "final"),
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": code}], "text": "Cocaine metabolite, urine screen"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        "valueString": value,
        **more,
    }


def rows(ehr: list[dict[str, Any]], hie: list[dict[str, Any]]) -> list[Any]:
    """The plan page's drug-test history with the EHR's search answer and the HIE's, each under its own fullUrls."""
    ours = _searchset(_entry(EPIC, patient()), *(_entry(EPIC, r) for r in ehr))
    theirs = _searchset(*(_entry(HIE, r) for r in hie))
    evaluation = run("patient-view", resources=[ours, theirs], fhir_server=EPIC, with_patient=False)
    return list(build_uds(evaluation.facts).rows)


def test_the_hies_copy_of_a_result_under_its_own_id_is_one_row_naming_it() -> None:
    (row,) = rows([result("eObs.1")], [result("hObs.5")])
    assert (row.value, row.copy_note) == ("positive", f"also sent by {HIE} as {HIE}/Observation/hObs.5 (shown once)")


def test_the_page_shows_the_copy_on_the_results_row() -> None:
    history = SimpleNamespace(rows=rows([result("eObs.1")], [result("hObs.5")]), unread="", months=13)
    templates = Path(__file__).resolve().parent.parent / "smart_app" / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=True)
    html = env.get_template("plan/uds.html").render(s=SimpleNamespace(content=history))
    assert html.count("<tr class=") == 1
    assert f"also sent by {HIE} as {HIE}/Observation/hObs.5 (shown once)" in html


def test_a_result_only_alike_is_a_row_of_its_own_marked_as_a_possible_copy() -> None:
    for ours, copy in (
        (AT, result("hObs.5", when="2026-05-26T11:40:00-04:00")),  # another instant, the same day
        ("2026-05-26", result("hObs.5", when="2026-05-26")),  # the day alone: no instant says it is one sample
    ):
        found = rows([result("eObs.1", when=ours)], [copy])
        assert len(found) == 2
        notes = [row.copy_note for row in found]
        assert notes.count(None) == 1
        assert f"possibly the same result as eObs.1, sent by {HIE} as {HIE}/Observation/hObs.5 (both shown)" in notes


def test_a_possible_copy_names_the_ehrs_result_not_a_copy_shown_once() -> None:
    # Another HIE's result of the same test and day at another instant; the regional HIE's, met first, is one row.
    other = "https://hie2.example.org/fhir"
    ours = _searchset(_entry(EPIC, patient()), _entry(EPIC, result("eObs.1")))
    theirs = _searchset(_entry(HIE, result("hObs.5")))
    second = _searchset(_entry(other, result("x.8", when="2026-05-26T11:40:00-04:00")))
    evaluation = run("patient-view", resources=[theirs, second, ours], fhir_server=EPIC, with_patient=False)
    notes = sorted(row.copy_note or "" for row in build_uds(evaluation.facts).rows)
    assert notes == [
        f"also sent by {HIE} as {HIE}/Observation/hObs.5 (shown once)",
        f"possibly the same result as eObs.1, sent by {other} as {other}/Observation/x.8 (both shown)",
    ]


def test_two_own_results_alike_tie_the_copy_to_neither() -> None:
    found = rows([result("eObs.1"), result("eObs.2")], [result("hObs.5")])
    assert len(found) == 3
    assert [row.copy_note for row in found].count(None) == 2


def test_another_test_or_value_is_another_result() -> None:
    for copy in (result("hObs.5", value="Negative"), result("hObs.5", code=OXYCODONE_SCREEN)):
        found = rows([result("eObs.1")], [copy])
        assert len(found) == 2 and [row.copy_note for row in found] == [None, None]


DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


def _absent(ident: str, code: str) -> dict[str, Any]:
    """The screen sent with no value and a dataAbsentReason of `code`."""
    sent = result(ident, dataAbsentReason={"coding": [{"system": DATA_ABSENT, "code": code}]})
    del sent["valueString"]
    return sent


def test_copies_whose_values_are_absent_for_other_reasons_are_two_rows() -> None:
    # Only whether a reason was sent was compared: 'masked' (a result that stands elsewhere) and 'error' (none that
    # can be read) were one row, the HIE's error hidden behind the EHR's result.
    assert len(rows([_absent("eObs.1", "masked")], [_absent("hObs.5", "error")])) == 2
    (row,) = rows([_absent("eObs.1", "masked")], [_absent("hObs.5", "masked")])
    assert row.copy_note == f"also sent by {HIE} as {HIE}/Observation/hObs.5 (shown once)"


PANEL = "Drugs of abuse 5 panel - Urine by Screen method"


def _panel(ident: str, code: str) -> dict[str, Any]:
    """Epic's drugs-of-abuse panel, one component per analyte, its cocaine analyte sent with a reason of `code`."""
    sent = result(ident) | {"code": {"coding": [{"system": "http://loinc.org", "code": "65750-2"}], "text": PANEL}}
    del sent["valueString"]
    analyte = {"coding": [{"system": "http://loinc.org", "code": COCAINE}]}
    sent["component"] = [{"code": analyte, "dataAbsentReason": {"coding": [{"system": DATA_ABSENT, "code": code}]}}]
    return sent


def test_copies_of_a_panel_whose_analytes_are_absent_for_other_reasons_are_two_rows() -> None:
    # The panel's own row compared its analytes' values, not their reasons: 'masked' and 'error' were one row.
    for theirs, shown in (("masked", 1), ("error", 2)):
        found = rows([_panel("eObs.1", "masked")], [_panel("hObs.5", theirs)])
        assert len([row for row in found if row.test == PANEL]) == shown
