"""An HIE's copy of a drug test done with no result read, on the plan page's drug-test history: a point-of-care cup
Epic records as a Procedure (CPT 80305, performed 2026-05-26 09:14) and a reference lab's report whose results are
only in its PDF, each relayed back by the regional HIE under its own id. Results from another server were matched as
copies; these were not, so one test was listed twice with nothing said. They follow the results' rule
(`uds_history.result_copies`): the same test (its codes) at the same instant, the same status (and, for a report,
what it says) as exactly one of the EHR's is that test, shown once and named on its row; one only alike (the same
test and day: a day alone names no sample, another instant) stays a row of its own, marked as a possible copy."""

from __future__ import annotations

from typing import Any

from builders import patient, run
from test_hie_relay import EPIC, HIE, _entry, _searchset

from guideline.plan import build_uds

CPT = "http://www.ama-assn.org/go/cpt"
AT = "2026-05-26T09:14:00-04:00"


def cup(ident: str, when: str = AT, code: str = "80305") -> dict[str, Any]:
    """A point-of-care urine drug screen (CPT 80305, read by direct observation) as Epic records it."""
    return {
        "resourceType": "Procedure",
        "id": ident,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "code": {
            "coding": [{"system": CPT, "code": code}],
            "text": "Drug screen presumptive, direct optical observation",
        },
        "performedDateTime": when,
    }


def pdf_report(ident: str, when: str = AT) -> dict[str, Any]:
    """A reference lab's urine drug test report whose results are only in its PDF (LOINC 69739-1 panel)."""
    return {
        "resourceType": "DiagnosticReport",
        "id": ident,
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "69739-1"}], "text": "Drug screen urine"},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        "issued": "2026-05-27T14:02:00-04:00",
        "presentedForm": [{"contentType": "application/pdf", "url": f"Binary/{ident}-pdf", "title": "Drug screen"}],
    }


def rows(ehr: list[dict[str, Any]], hie: list[dict[str, Any]]) -> list[Any]:
    ours = _searchset(_entry(EPIC, patient()), *(_entry(EPIC, r) for r in ehr))
    theirs = _searchset(*(_entry(HIE, r) for r in hie))
    evaluation = run("patient-view", resources=[ours, theirs], fhir_server=EPIC, with_patient=False)
    return list(build_uds(evaluation.facts).rows)


def test_the_hies_copy_of_a_point_of_care_cup_is_one_row_naming_it() -> None:
    (row,) = rows([cup("ePr.1")], [cup("hPr.5")])
    assert row.value == "done, no result recorded"
    assert row.copy_note == f"also sent by {HIE} as {HIE}/Procedure/hPr.5 (shown once)"


def test_a_cup_only_alike_is_a_row_of_its_own_marked_as_a_possible_copy() -> None:
    for ours, copy in (
        (AT, cup("hPr.5", when="2026-05-26T15:40:00-04:00")),  # the clinic's and the ED's of one day
        ("2026-05-26", cup("hPr.5", when="2026-05-26")),  # the day alone
    ):
        found = rows([cup("ePr.1", when=ours)], [copy])
        assert len(found) == 2
        notes = [row.copy_note for row in found]
        assert notes.count(None) == 1
        assert f"possibly the same test as ePr.1, sent by {HIE} as {HIE}/Procedure/hPr.5 (both shown)" in notes


def test_another_test_or_day_is_no_copy() -> None:
    for copy in (cup("hPr.5", code="80307"), cup("hPr.5", when="2026-05-27T09:14:00-04:00")):
        found = rows([cup("ePr.1")], [copy])
        assert len(found) == 2 and all(row.copy_note is None for row in found)


def test_the_hies_copy_of_a_report_read_from_its_pdf_only_is_one_row_naming_it() -> None:
    found = rows([pdf_report("eDR.1")], [pdf_report("hDR.5")])
    assert len(found) == 1, found
    assert found[0].copy_note == f"also sent by {HIE} as {HIE}/DiagnosticReport/hDR.5 (shown once)"
