"""Urine drug test results dated only to the month or the year ("2026-05", "2026"), as outside results and C-CDA
imports send them. Read as the 1st, a negative for a prescribed opioid was judged against the prescriptions of
1 May, before the prescription began, so a possible diversion went unflagged with nothing said, and a positive was
called unexpected or expected by an arbitrary day. Such a result counts as a test done from the earliest day its
date can mean; it is judged against prescriptions only when every day its date can mean (up to today) gives the
same verdict, and otherwise it is named as not judged. Today is 2026-06-15."""

from __future__ import annotations

from typing import Any

import pytest
from builders import LOINC, NOW, PATIENT_ID, card, days_ago, dispense, med_request, patient, run
from cds_support import bundle, full_prefetch, hook_request, make_app

from guideline.checks import CHECKS, naloxone, unexpected_uds_result, urine_drug_test
from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
EPIC_LAB = "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.0"
NOT_JUDGED = "dated to the month only: not judged against prescriptions"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for check in (urine_drug_test, unexpected_uds_result, naloxone):
        monkeypatch.setitem(CHECKS, check.CHECK_ID, check)


def epic_screen(collected: str, substance: str, value: str, ident: str) -> dict[str, Any]:
    """Epic R4: an outside result filed with the collection month only, issued on a full instant, the value as
    valueString with its flag."""
    loinc, name = {
        "oxycodone": ("58430-0", "Oxycodone Screen, Urine"),
        "fentanyl": ("58379-9", "Fentanyl Screen, Urine"),
    }[substance]
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                        "display": "Laboratory",
                    }
                ],
                "text": "Laboratory",
            }
        ],
        "code": {
            "coding": [
                {"system": EPIC_LAB, "code": f"3{loinc[:4]}", "display": substance.upper()},
                {"system": LOINC, "code": loinc, "display": name},
            ],
            "text": name,
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Test, Patient"},
        "effectiveDateTime": collected,
        "issued": "2026-06-02T17:45:00Z",
        "valueString": value,
        "interpretation": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
                        "code": "A" if value == "Positive" else "N",
                    }
                ],
                "text": "Abnormal" if value == "Positive" else "Normal",
            }
        ],
    }


def oracle_report(collected: str, value: str) -> dict[str, Any]:
    """Oracle Health R4: a reference lab's report dated to the month, its oxycodone result contained with no date of
    its own (it takes the report's)."""
    return {
        "resourceType": "DiagnosticReport",
        "id": "dr-outside-1",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB"}], "text": "Lab"}
        ],
        "code": {
            "coding": [{"system": LOINC, "code": "69739-1", "display": "Drugs of abuse panel Ur Scn"}],
            "text": "Drug Screen, Urine",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "effectiveDateTime": collected,
        "contained": [
            {
                "resourceType": "Observation",
                "id": "r1",
                "code": {
                    "coding": [{"system": LOINC, "code": "58430-0", "display": "Oxycodone Screen, Urine"}],
                    "text": "Oxycodone Screen, Urine",
                },
                "valueCodeableConcept": {"text": value},
            }
        ],
        "result": [{"reference": "#r1"}],
    }


def oxycodone_fill(handed_over: str) -> dict[str, Any]:
    """A pharmacy fill of oxycodone, 30 days' supply."""
    fill = dispense(OXYCODONE, handed_over, days_supply=30)
    fill["medicationCodeableConcept"]["coding"][0]["display"] = "oxycodone hydrochloride 5 MG Oral Tablet"
    return fill


def draft() -> dict[str, Any]:
    return med_request(OXYCODONE, draft=True, id="ox-draft", supply_days=30)


def sign(*resources: dict[str, Any]):
    """The order-sign of an oxycodone draft evaluated with these resources."""
    return run("order-sign", drafts=[draft()], resources=list(resources))


# -- the defect: started in May, a negative "2026-05" may be a negative while taking it ---------------------------


def test_a_negative_dated_to_the_month_a_prescription_began_in_is_not_judged_and_is_named(tmp_path: Any) -> None:
    # Filled 20 May: on 1 May no oxycodone was prescribed (a negative is expected), on 31 May it was (unexpected).
    resources = (oxycodone_fill("2026-05-20"), epic_screen("2026-05", "oxycodone", "Negative", "obs-ox-may"))
    prefetch = full_prefetch("order-sign", dispenses=bundle(resources[0]), udsLabs=bundle(resources[1]))
    answer = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/order-sign", json=hook_request(drafts=[draft()], prefetch=prefetch))
        .get_json()
    )
    topics = [c["source"]["topic"]["code"] for c in answer["cards"]]
    assert unexpected_uds_result.CHECK_ID not in topics
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert f"- Oxycodone Screen, Urine (2026-05, {NOT_JUDGED}):" in incomplete["detail"]


def test_the_plan_page_shows_such_a_result_by_its_month_and_not_judged(tmp_path: Any) -> None:
    from markupsafe import escape
    from werkzeug.datastructures import MultiDict

    from smart_app.plan_view import PageInput, assemble, render_page

    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        resources = (
            patient(),
            oxycodone_fill("2026-05-20"),
            epic_screen("2026-05", "oxycodone", "Negative", "obs-ox-may"),
        )
        view = assemble(PageInput(resources, (), ()), settings.guideline, "p1", NOW, MultiDict(), drafts=[draft()])
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    row = "<td>2026-05</td><td>Oxycodone Screen, Urine</td><td>negative</td>\n"
    assert f"{row}<td>Not judged against prescriptions: dated to the month only</td>" in page
    assert escape(f"Oxycodone Screen, Urine (2026-05, {NOT_JUDGED})") in page


def test_an_oracle_report_dated_to_the_month_gives_its_result_that_date() -> None:
    evaluation = sign(oxycodone_fill("2026-05-20"), oracle_report("2026-05", "Negative"))
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == (
        f"Oxycodone Screen, Urine (2026-05, {NOT_JUDGED})",
    )
    # still a test done for the year's urine drug test, from the earliest day its month can mean
    assert evaluation.facts.last_drug_test_day().isoformat() == "2026-05-01"


def test_a_positive_explained_on_some_days_of_its_month_only_is_not_judged() -> None:
    # Filled 20 May: a positive on 1 May had no prescription in the 30 days before it, one on 31 May had.
    evaluation = sign(oxycodone_fill("2026-05-20"), epic_screen("2026-05", "oxycodone", "Positive", "obs-ox-may"))
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == (
        f"Oxycodone Screen, Urine (2026-05, {NOT_JUDGED})",
    )
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    [row] = view.section("uds").content.rows
    assert row.written == "2026-05" and row.unexpected == () and row.explained == ()
    assert row.not_judged == "dated to the month only"


# -- judged when every day of its month gives the same verdict -----------------------------------------------------


def test_a_negative_while_oxycodone_was_supplied_all_month_is_unexpected_and_named_by_its_month() -> None:
    # Filled 10 April and 9 May (queued from 10 May): oxycodone was supplied on every day of May.
    resources = (oxycodone_fill("2026-04-10"), oxycodone_fill("2026-05-09"))
    evaluation = sign(*resources, epic_screen("2026-05", "oxycodone", "Negative", "obs-ox-may"))
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    assert found is not None
    assert found.summary == (
        "Discuss unexpected urine drug test result with the patient: negative for oxycodone (2026-05)"
    )
    assert "| Substance | 2026-05 |" in found.detail
    assert "2026-05: negative for oxycodone although oxycodone hydrochloride 5 MG Oral Tablet was prescribed" in (
        found.detail
    )
    assert found.facts["unexpected"] == [{"substance": "oxycodone", "value": "negative", "date": "2026-05"}]
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == ()


def test_a_positive_supplied_all_month_is_expected() -> None:
    resources = (oxycodone_fill("2026-04-10"), oxycodone_fill("2026-05-09"))
    evaluation = sign(*resources, epic_screen("2026-05", "oxycodone", "Positive", "obs-ox-may"))
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == ()
    [row] = build_plan(evaluation, (), evaluation.facts.config, NOW).section("uds").content.rows
    assert row.written == "2026-05" and row.not_judged is None
    assert row.explained == ("oxycodone hydrochloride 5 MG Oral Tablet (2026-04-10)",)


@pytest.mark.parametrize("collected", ["2026-05", "2026"])
def test_fentanyl_never_prescribed_is_unexpected_whatever_the_day(collected: str) -> None:
    resources = (oxycodone_fill(days_ago(20)), epic_screen(collected, "fentanyl", "Positive", "obs-fent"))
    evaluation = sign(*resources)
    found = card(evaluation, unexpected_uds_result.CHECK_ID)
    assert found is not None and f"positive for fentanyl ({collected})" in found.summary
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == ()
    assert naloxone.unprescribed_fentanyl_or_heroin(evaluation.facts) == (
        f"Fentanyl Screen, Urine ({collected}): positive for fentanyl, not prescribed",
    )


def test_a_year_the_verdict_changes_in_is_named_as_dated_to_the_year() -> None:
    evaluation = sign(oxycodone_fill("2026-05-20"), epic_screen("2026", "oxycodone", "Negative", "obs-ox-2026"))
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == (
        "Oxycodone Screen, Urine (2026, dated to the year only: not judged against prescriptions)",
    )


# -- the year's test: counted from the earliest day its date can mean ----------------------------------------------


def ltot() -> list[dict[str, Any]]:
    """Opioid supply on every day of the last 90: long-term therapy."""
    return [oxycodone_fill(days_ago(ago)) for ago in (89, 59, 29)]


@pytest.mark.parametrize(("collected", "fires"), [("2025-06", True), ("2025-07", False), ("2026-06", False)])
def test_the_no_test_card_counts_a_month_from_its_first_day(collected: str, fires: bool) -> None:
    # "2025-06" may be 1 June 2025, over 12 months before 15 June 2026: the card asks for a test rather than trust it.
    screen = epic_screen(collected, "oxycodone", "Positive", "obs-ox")
    found = card(run("patient-view", resources=[*ltot(), screen]), urine_drug_test.CHECK_ID)
    assert (found is not None) is fires


def test_fentanyl_unexplained_on_some_days_of_its_month_is_still_an_overdose_risk() -> None:
    # A fentanyl patch filled 20 May explains a positive on 31 May, not one on 1 May: not judged for the card, but
    # naloxone's R6 leans toward offering naloxone, as it does for a positive dated after today.
    patch = dispense("197696", "2026-05-20", days_supply=30)  # 72 HR fentanyl 0.075 MG/HR Transdermal System
    evaluation = sign(patch, epic_screen("2026-05", "fentanyl", "Positive", "obs-fent"))
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == (
        f"Fentanyl Screen, Urine (2026-05, {NOT_JUDGED})",
    )
    assert naloxone.unprescribed_fentanyl_or_heroin(evaluation.facts) == (
        "Fentanyl Screen, Urine (2026-05): positive for fentanyl, dated to the month only and not prescribed on "
        "every day it can mean",
    )


# -- wording: a month or a year is written as the source wrote it, never as the 1st it is read as ------------------


def conclusion_report(collected: str) -> dict[str, Any]:
    """Oracle Health R4: an outside lab's drug screen report with only its conclusion, dated to the month."""
    report = {k: v for k, v in oracle_report(collected, "Negative").items() if k not in ("contained", "result")}
    return {**report, "id": "dr-outside-2", "conclusion": "Positive for fentanyl. Confirmation to follow."}


def test_the_no_test_card_names_a_last_test_dated_to_the_month_by_its_month() -> None:
    screen = epic_screen("2025-06", "oxycodone", "Positive", "obs-ox")
    found = card(run("patient-view", resources=[*ltot(), screen]), urine_drug_test.CHECK_ID)
    assert found is not None
    assert "(last 2025-06)" in found.summary
    assert "The last urine drug test result on record is from **2025-06**, over 12 months ago." in found.detail
    assert "2025-06-01" not in found.summary + found.detail


def test_a_test_dated_to_a_later_year_is_named_by_its_year() -> None:
    evaluation = run("patient-view", resources=[*ltot(), epic_screen("2027", "oxycodone", "Positive", "obs-ox")])
    found = card(evaluation, urine_drug_test.CHECK_ID)
    assert found is not None
    assert found.summary.endswith("(one is dated 2027, after today)")
    assert "A urine drug test is on record dated 2027, after today, so it cannot show a test done yet." in found.detail
    from guideline.undated import future_dated_drug_tests

    assert [item.split(", dated ")[1] for item in future_dated_drug_tests(evaluation.facts)] == ["2027, after today"]


def test_an_unread_report_dated_to_the_month_is_named_by_its_month() -> None:
    evaluation = sign(oxycodone_fill("2026-05-20"), conclusion_report("2026-05"))
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == (
        'Drug Screen, Urine (2026-05, report conclusion "Positive for fentanyl. Confirmation to follow.")',
    )
    from guideline.plan.uds_history import build_uds

    (row,) = build_uds(evaluation.facts).rows
    assert row.written == "2026-05"


def test_an_unread_report_dated_to_a_later_year_is_named_by_its_year() -> None:
    evaluation = run("patient-view", resources=[*ltot(), conclusion_report("2027")])
    found = card(evaluation, urine_drug_test.CHECK_ID)
    assert found is not None and found.summary.endswith("(one is dated 2027, after today)")


def test_a_result_of_unknown_status_dated_to_the_month_is_named_by_its_month() -> None:
    screen = {**epic_screen("2026-05", "oxycodone", "Positive", "obs-ox"), "status": "unknown"}
    evaluation = sign(oxycodone_fill("2026-05-20"), screen)
    assert unexpected_uds_result.unjudged_results(evaluation.facts) == (
        "Oxycodone Screen, Urine (2026-05, status unknown)",
    )


def test_the_plan_pages_tile_and_step_name_a_last_test_dated_to_the_month_by_its_month(tmp_path: Any) -> None:
    from werkzeug.datastructures import MultiDict

    from smart_app.plan_view import PageInput, assemble, render_page

    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        resources = (patient(), *ltot(), epic_screen("2025-06", "oxycodone", "Positive", "obs-ox"))
        view = assemble(PageInput(resources, (), ()), settings.guideline, "p1", NOW, MultiDict())
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    assert "Last: 2025-06 " in page or "Last: 2025-06<" in page
    assert "2025-06-01" not in page


# -- a drug test recorded as a procedure dated to the month or the year: written so, as a result is --------------


def drug_test_procedure(performed: str, ident: str = "proc-cup") -> dict[str, Any]:
    """Epic R4: a point-of-care urine drug screen imported from an outside clinic's C-CDA, performed to the month."""
    return {
        "resourceType": "Procedure",
        "id": ident,
        "status": "completed",
        "code": {
            "coding": [
                {"system": "http://www.ama-assn.org/go/cpt", "code": "80305", "display": "Drug test prsmv dir opt obs"}
            ],
            "text": "Urine drug screen, point of care",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Test, Patient"},
        "performedDateTime": performed,
    }


@pytest.mark.parametrize(("performed", "fires"), [("2025-06", True), ("2025-07", False), ("2026-06", False)])
def test_the_no_test_card_counts_a_procedure_month_from_its_first_day(performed: str, fires: bool) -> None:
    # As a result's: "2025-06" may be 1 June 2025, over 12 months before 15 June 2026.
    found = card(run("patient-view", resources=[*ltot(), drug_test_procedure(performed)]), urine_drug_test.CHECK_ID)
    assert (found is not None) is fires


def test_the_no_test_card_names_a_last_test_procedure_dated_to_the_month_by_its_month() -> None:
    # The card said "(last 2025-06-01)": a day the source never wrote.
    found = card(run("patient-view", resources=[*ltot(), drug_test_procedure("2025-06")]), urine_drug_test.CHECK_ID)
    assert found is not None
    assert "(last 2025-06)" in found.summary
    assert "The last urine drug test result on record is from **2025-06**, over 12 months ago." in found.detail
    assert "2025-06-01" not in found.summary + found.detail


def test_a_test_procedure_dated_to_a_later_year_is_named_by_its_year() -> None:
    evaluation = run("patient-view", resources=[*ltot(), drug_test_procedure("2027")])
    found = card(evaluation, urine_drug_test.CHECK_ID)
    assert found is not None and found.summary.endswith("(one is dated 2027, after today)")
    assert "2027-01-01" not in found.summary + found.detail


def test_a_procedure_and_a_result_on_the_same_month_are_written_by_the_month() -> None:
    screen = epic_screen("2025-06", "oxycodone", "Positive", "obs-ox")
    resources = [*ltot(), screen, drug_test_procedure("2025-06")]
    found = card(run("patient-view", resources=resources), urine_drug_test.CHECK_ID)
    assert found is not None and "(last 2025-06)" in found.summary


def test_a_procedure_dated_to_the_day_is_written_by_its_day() -> None:
    found = card(run("patient-view", resources=[*ltot(), drug_test_procedure("2025-06-01")]), urine_drug_test.CHECK_ID)
    assert found is not None and "(last 2025-06-01)" in found.summary


def test_the_plan_pages_list_shows_a_test_procedure_by_its_month() -> None:
    from guideline.plan.uds_history import build_uds

    evaluation = run("patient-view", resources=[*ltot(), drug_test_procedure("2026-05")])
    (row,) = build_uds(evaluation.facts).rows
    assert row.written == "2026-05" and row.value == "done, no result recorded"
