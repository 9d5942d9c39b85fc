"""A urine drug test result whose date was sent but could not be read is named with the date as sent, on every line
that names it (`unexpected_uds_result.date_written`): "effectiveDateTime '2026-13-45' could not be read as a date",
told from a result sent with no date at all ("undated")."""

from __future__ import annotations

from typing import Any

import pytest
from builders import PATIENT_ID, days_ago, med_request, observation, run

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.named_gaps import NAMED_GAPS
from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
TCA_SCREEN = "19312-8"  # Tricyclic antidepressants [Presence] in Urine by Screen method
EPIC_COMPONENT = "urn:oid:1.2.840.114350.1.13.0.1.7.2.768282"  # an Epic site's lab component identifiers
UNJUDGED = "unjudged-uds-substances"
# As sent and mistyped (a month 13), and in the US order a lab system writes for people (not FHIR's).
SENT = ("2026-13-45", "06/01/2026")


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)


def unread(sent: str) -> str:
    return f"effectiveDateTime '{sent}' could not be read as a date"


def epic_drug_screen(when: str | None) -> dict[str, Any]:
    """An Epic lab result "DRUG SCREEN, URINE" (a local code naming no substance) read "Positive", dated `when` alone
    (no `issued`, which would date it), or sent with no date when None."""
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": "eDS-1",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                        "display": "Laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": EPIC_COMPONENT, "code": "1554", "display": "DRUG SCREEN, URINE"}],
            "text": "DRUG SCREEN, URINE",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Doe, Jane"},
        "valueString": "Positive",
    }
    if when is not None:
        resource["effectiveDateTime"] = when
    return resource


def tricyclic_screen(when: str | None) -> dict[str, Any]:
    """A tricyclic antidepressant screen (a drug PainPlan does not judge) read "Positive", dated `when` alone."""
    result = observation(TCA_SCREEN, when=when or days_ago(10), value_string="Positive")
    if when is None:
        del result["effectiveDateTime"]
    return result


def unjudged(*resources: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """On order-sign for a patient on long-term oxycodone with these results: what `unjudged-uds-substances` names,
    and what the plan page names for it."""
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    draft = med_request(OXYCODONE, draft=True, id="d1")
    evaluation = run("order-sign", drafts=[draft], resources=[long_term, *resources])
    [kind] = [kind for kind in NAMED_GAPS if kind.key == UNJUDGED]
    page = build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now).named
    return kind.items(evaluation.facts), page.get(UNJUDGED, ())


@pytest.mark.parametrize("sent", SENT)
def test_a_positive_naming_no_substance_is_named_with_its_date_as_sent(sent: str) -> None:
    # Before: "DRUG SCREEN, URINE (undated, positive for an unnamed substance)", as if no date had been sent.
    named = (f"DRUG SCREEN, URINE ({unread(sent)}, positive for an unnamed substance)",)
    assert unjudged(epic_drug_screen(sent)) == (named, named)


def test_a_positive_naming_no_substance_sent_with_no_date_is_still_undated() -> None:
    named = ("DRUG SCREEN, URINE (undated, positive for an unnamed substance)",)
    assert unjudged(epic_drug_screen(None)) == (named, named)


@pytest.mark.parametrize("sent", SENT)
def test_a_positive_for_a_drug_not_judged_is_named_with_its_date_as_sent(sent: str) -> None:
    # Before: "tricyclic antidepressants (undated, positive)".
    named = (f"tricyclic antidepressants ({unread(sent)}, positive)",)
    assert unjudged(tricyclic_screen(sent)) == (named, named)


def test_positives_for_a_drug_not_judged_of_dates_not_read_are_named_apart_by_date() -> None:
    """Grouped by the date as written: one sent mistyped and one sent with none are two tests, not one "undated"."""
    items, _ = unjudged(tricyclic_screen(SENT[0]), tricyclic_screen(None), tricyclic_screen(SENT[1]))
    assert items == (
        f"tricyclic antidepressants ({unread(SENT[0])}, positive)",
        "tricyclic antidepressants (undated, positive)",
        f"tricyclic antidepressants ({unread(SENT[1])}, positive)",
    )


# -- a lab report, named where PainPlan reads no result of it -----------------------------------------------------

FIVE_PANEL = {
    "coding": [{"system": "http://loinc.org", "code": "24349-3", "display": "Drugs of abuse 5 panel - Urine"}]
}
OXYCODONE_SCREEN = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn


def lab_report(when: str, conclusion: str, *contained: dict[str, Any]) -> dict[str, Any]:
    """An R4 lab DiagnosticReport for a urine drug screen concluding `conclusion`, dated by its effectiveDateTime
    `when` alone (no `issued`, which would date it), with its `contained` results as a v2-to-FHIR converter sends
    them (no date of their own: they take the report's)."""
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": "rep1",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}]}],
        "code": FIVE_PANEL,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": when,
        "conclusion": conclusion,
    }
    if contained:
        resource["contained"] = list(contained)
        resource["result"] = [{"reference": f"#{c['id']}"} for c in contained]
    return resource


def on_view(*resources: dict[str, Any]):
    long_term = med_request(OXYCODONE, authored=days_ago(200), supply_days=30, refills=11)
    return run("patient-view", resources=[long_term, *resources])


@pytest.mark.parametrize("sent", SENT)
def test_a_report_with_only_a_conclusion_is_named_with_its_date_as_sent(sent: str) -> None:
    # Before: 'Drugs of abuse 5 panel - Urine (undated, report conclusion "Positive for fentanyl")'.
    evaluation = on_view(lab_report(sent, "Positive for fentanyl"))
    assert unexpected_uds_result.unread_results(evaluation.facts) == (
        f'Drugs of abuse 5 panel - Urine ({unread(sent)}, report conclusion "Positive for fentanyl")',
    )


@pytest.mark.parametrize("sent", SENT)
def test_a_report_whose_conclusion_disagrees_with_its_result_is_named_with_its_date_as_sent(sent: str) -> None:
    negative = {"resourceType": "Observation", "id": "obs1", "status": "final", "valueString": "Negative"}
    negative["code"] = {"coding": [{"system": "http://loinc.org", "code": OXYCODONE_SCREEN}]}
    evaluation = on_view(lab_report(sent, "Positive for oxycodone", negative))
    named = urine_drug_test.disagreeing_reports(evaluation.facts)
    assert named == (
        f'Drugs of abuse 5 panel - Urine ({unread(sent)}, its conclusion says "Positive for oxycodone" but its '
        'oxycodone result says "Negative"; read the more cautious way: that negative was not judged)',
    )
    assert (
        build_plan(evaluation, (), evaluation.facts.config, evaluation.facts.now).named["uds-report-disagreements"]
        == named
    )


def test_a_report_sent_with_no_date_is_still_undated() -> None:
    undated = lab_report("", "Positive for fentanyl")
    del undated["effectiveDateTime"]
    evaluation = on_view(undated)
    assert unexpected_uds_result.unread_results(evaluation.facts) == (
        'Drugs of abuse 5 panel - Urine (undated, report conclusion "Positive for fentanyl")',
    )


@pytest.mark.parametrize("sent", SENT)
def test_a_result_contained_in_a_report_whose_date_was_not_read_is_named_with_the_reports_date_as_sent(
    sent: str,
) -> None:
    """A contained result with no date of its own takes its report's (a v2-to-FHIR converter's OBX has none): the
    report's date sent and not read is its date as sent, never "undated"."""
    inconclusive = {"resourceType": "Observation", "id": "obs1", "status": "final", "valueString": "Inconclusive"}
    inconclusive["code"] = {"coding": [{"system": "http://loinc.org", "code": OXYCODONE_SCREEN}]}
    evaluation = on_view(lab_report(sent, "See results", inconclusive))
    # Before: "urine drug test (undated)".
    assert unexpected_uds_result.unread_results(evaluation.facts) == (f"urine drug test ({unread(sent)})",)
