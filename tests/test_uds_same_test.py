"""One rule of "the same urine drug test", which the cards (a correction replaces a result of the same test and
sample, `uds.sample_test`) and the plan page's drug-test history (a copy another server sent is named on the EHR's
row, `uds_history`) share: `uds.named_test` (its codes, in any order, else its name when it carries no code) and
`uds.one_sample` (that test at the instant its sample was taken, never a day alone). Before, the page told a report
or a test done by its codes only: a lab's report known by its name alone (no coding, as an outside lab's HL7 v2 feed
converted to FHIR sends an orderable it did not map), relayed back by the HIE under its own id, was listed twice with
nothing said, and a result so named only alike to another source's was not marked as a possible copy, though the
cards tell such a result's test by its name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from builders import patient, run
from test_hie_relay import EPIC, HIE, _entry, _searchset
from test_identity5_done_test_copies import AT, pdf_report

from guideline.fhirdata import Coding, Concept
from guideline.plan import build_uds
from guideline.uds import named_test, one_sample

LOINC = "http://loinc.org"
EPIC_COMPONENT = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"  # Epic's lab component ids
NAME = "DRUG SCREEN, URINE"
TAKEN = datetime(2026, 5, 26, 9, 14, tzinfo=timezone(timedelta(hours=-4)))


def named_report(ident: str, when: str = AT) -> dict[str, Any]:
    """A reference lab's drug screen report whose results are only in its PDF, known by its name alone."""
    report = pdf_report(ident, when)
    report["code"] = {"text": NAME}
    return report


def named_result(ident: str, when: str = AT) -> dict[str, Any]:
    """A screen's result known by its name alone (no coding), "Positive", collected at `when`."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
        ],
        "code": {"text": NAME},
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": when,
        "valueString": "Positive",
    }


def rows(ehr: list[dict[str, Any]], hie: list[dict[str, Any]]) -> list[Any]:
    """The plan page's drug-test history with the EHR's search answer and the HIE's, each under its own fullUrls."""
    ours = _searchset(_entry(EPIC, patient()), *(_entry(EPIC, r) for r in ehr))
    theirs = _searchset(*(_entry(HIE, r) for r in hie))
    evaluation = run("patient-view", resources=[ours, theirs], fhir_server=EPIC, with_patient=False)
    return list(build_uds(evaluation.facts).rows)


def test_the_hies_copy_of_a_report_known_by_its_name_only_is_one_row_naming_it() -> None:
    found = rows([named_report("eDR.1")], [named_report("hDR.5")])
    assert len(found) == 1, found
    assert found[0].copy_note == f"also sent by {HIE} as {HIE}/DiagnosticReport/hDR.5 (shown once)"


def test_a_report_known_by_its_name_only_alike_is_marked_as_a_possible_copy() -> None:
    found = rows([named_report("eDR.1")], [named_report("hDR.5", when="2026-05-26")])
    assert len(found) == 2
    notes = [row.copy_note for row in found]
    assert f"possibly the same report as eDR.1, sent by {HIE} as {HIE}/DiagnosticReport/hDR.5 (both shown)" in notes


def test_a_result_known_by_its_name_only_alike_is_marked_as_a_possible_copy() -> None:
    found = rows([named_result("eObs.1")], [named_result("hObs.5", when="2026-05-26")])
    assert len(found) == 2
    notes = [row.copy_note for row in found]
    assert notes.count(None) == 1
    assert f"possibly the same result as eObs.1, sent by {HIE} as {HIE}/Observation/hObs.5 (both shown)" in notes


def test_another_name_is_another_test() -> None:
    other = named_report("hDR.5")
    other["code"] = {"text": "DRUG SCREEN 9 PANEL, URINE"}
    found = rows([named_report("eDR.1")], [other])
    assert len(found) == 2 and [row.copy_note for row in found] == [None, None]


def test_a_test_is_its_codes_in_any_order_and_each_once_else_its_name() -> None:
    loinc, epic = Coding(LOINC, "19659-8", "Drug screen urine"), Coding(EPIC_COMPONENT, "1558024")
    assert named_test(Concept((loinc, epic))) == named_test(Concept((epic, loinc, loinc), "Drug Screen, Urine"))
    assert named_test(Concept((loinc,))) != named_test(Concept((loinc, epic)))  # a code more: another test
    assert named_test(Concept((), NAME)) == named_test(Concept((), " drug screen, urine "))
    assert named_test(Concept((Coding(None, None, NAME),))) == named_test(Concept((), NAME))  # a display only
    assert named_test(Concept((), None)) is None and named_test(None) is None


def test_one_sample_is_the_test_at_an_instant_never_a_day_alone() -> None:
    code = Concept((Coding(LOINC, "19659-8"),))
    assert one_sample(code, TAKEN) == one_sample(Concept((Coding(LOINC, "19659-8"),), "UDS"), TAKEN)
    assert one_sample(code, TAKEN.replace(hour=0, minute=0)) is None  # a date with no time of day
    assert one_sample(code, None) is None and one_sample(None, TAKEN) is None
