"""A urine drug test report whose conclusion was read only in part, dated by a date sent but not readable, is named
with that date as sent ("effectiveDateTime '2026-13-45' could not be read as a date"), as every other line naming a
report does (`report_date_written`), never "undated": the date is in the record, mistyped or in another order."""

from __future__ import annotations

import pytest
from test_result_dates_written import OXYCODONE_SCREEN, SENT, lab_report, on_view, unread

from guideline.named_gaps import drug_test_conclusions_cut

# A lab system's narrative conclusion far longer than PainPlan reads (10,000 characters).
LONG_CONCLUSION = "Positive for fentanyl by confirmation; see the comments. " * 200


def inconclusive() -> dict:
    """A v2-to-FHIR converter's contained oxycodone screen read "Inconclusive", with no date of its own."""
    result = {"resourceType": "Observation", "id": "obs1", "status": "final", "valueString": "Inconclusive"}
    result["code"] = {"coding": [{"system": "http://loinc.org", "code": OXYCODONE_SCREEN}]}
    return result


@pytest.mark.parametrize("sent", SENT)
def test_a_cut_conclusion_is_named_with_its_reports_date_as_sent(sent: str) -> None:
    (line,) = drug_test_conclusions_cut(on_view(lab_report(sent, LONG_CONCLUSION, inconclusive())).facts)
    # Before: "Drugs of abuse 5 panel - Urine (undated, …)".
    assert line.startswith(f"Drugs of abuse 5 panel - Urine ({unread(sent)}, ")


def test_a_cut_conclusion_of_a_readable_date_is_named_with_it() -> None:
    (line,) = drug_test_conclusions_cut(on_view(lab_report("2026-06-01", LONG_CONCLUSION, inconclusive())).facts)
    assert line.startswith("Drugs of abuse 5 panel - Urine (2026-06-01, ")
