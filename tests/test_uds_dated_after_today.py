"""A urine drug test dated after today (a mistyped collection year, a clock set wrong) is no test done yet and is not
judged for unexpected substances: the "no urine drug test" card, the data-incomplete card and the plan page say it is
on record rather than reading as if the chart held none."""

from __future__ import annotations

from typing import Any

import pytest
from builders import LOINC, NOW, PATIENT_ID, card, days_ago, dispense, med_request, patient, run
from cds_support import bundle, full_prefetch, hook_request, make_app

from guideline.checks import CHECKS, unexpected_uds_result, urine_drug_test
from guideline.plan import build_plan

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
FUTURE = "2027-05-26"  # the collection year typed one ahead: the evaluation date is 2026-06-15
CPT = "http://www.ama-assn.org/go/cpt"


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, urine_drug_test.CHECK_ID, urine_drug_test)
    monkeypatch.setitem(CHECKS, unexpected_uds_result.CHECK_ID, unexpected_uds_result)


def ltot() -> list[dict[str, Any]]:
    """Opioid supply on every day of the last 90: long-term therapy."""
    return [dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]


def epic_fentanyl_screen(collected: str, value: str = "Positive", ident: str = "obs-fent-ahead") -> dict[str, Any]:
    """Epic R4: a lab component with the site's own code and LOINC, the result as valueString and a flag."""
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
                {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.0", "code": "30125", "display": "FENTANYL"},
                {"system": LOINC, "code": "58379-9", "display": "fentaNYL+Norfentanyl [Presence] in Urine by Screen"},
            ],
            "text": "Fentanyl Screen, Urine",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Test, Patient"},
        "effectiveDateTime": f"{collected}T09:12:00-04:00",
        "issued": f"{collected}T17:45:00Z",
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


def stu3_point_of_care_cup(performed: str) -> dict[str, Any]:
    """STU3: a point-of-care cup billed as CPT 80305, performed on a day after today."""
    return {
        "resourceType": "Procedure",
        "id": "pr-cup-ahead",
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "code": {
            "coding": [{"system": CPT, "code": "80305", "display": "Drug test(s), presumptive, direct optical"}],
            "text": "Urine drug screen, point of care",
        },
        "performedDateTime": f"{performed}T10:30:00-05:00",
    }


def test_an_only_test_dated_after_today_is_named_on_the_no_test_card() -> None:
    evaluation = run("patient-view", resources=[*ltot(), epic_fentanyl_screen(FUTURE, "Negative")])
    found = card(evaluation, urine_drug_test.CHECK_ID)
    assert found is not None and found.facts["last_test"] is None
    # It said "none on record" of a test the clinician can see in the chart, without a word about it.
    assert found.summary == f"Order a urine drug test: none on record up to today (one is dated {FUTURE}, after today)"
    assert "There is **no urine drug test result on record** up to today." in found.detail
    assert f"A urine drug test is on record dated {FUTURE}, after today, so it cannot show a test done yet." in (
        found.detail
    )


def test_a_test_dated_after_today_is_named_beside_the_last_test() -> None:
    old = epic_fentanyl_screen(days_ago(500), "Negative", "obs-fent-old")
    evaluation = run("patient-view", resources=[*ltot(), old, stu3_point_of_care_cup(FUTURE)])
    found = card(evaluation, urine_drug_test.CHECK_ID)
    assert found is not None and found.facts["last_test"] == days_ago(500)
    assert f"(last {days_ago(500)})" in found.summary
    assert f"The last urine drug test result on record is from **{days_ago(500)}**, over 12 months ago." in (
        found.detail
    )
    assert f"A urine drug test is on record dated {FUTURE}, after today" in found.detail


def test_no_word_of_a_future_test_when_there_is_none() -> None:
    found = card(run("patient-view", resources=ltot()), urine_drug_test.CHECK_ID)
    assert found is not None
    assert found.summary == "Order a urine drug test: none on record for a patient starting or on longer-term opioids"
    assert "after today" not in found.detail


def test_a_positive_dated_after_today_is_not_judged_but_named() -> None:
    # Which prescriptions were in effect in the 30 days before a day that has not come cannot be known, and the true
    # day is not known either: the result is not judged for unexpected substances, and it is named instead.
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    evaluation = run("order-sign", drafts=[draft], resources=[epic_fentanyl_screen(FUTURE)])
    assert card(evaluation, unexpected_uds_result.CHECK_ID) is None
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    named = f"Fentanyl Screen, Urine (observation obs-fent-ahead), dated {FUTURE}, after today"
    assert view.named["future-dated-drug-tests"] == (named,)
    assert f"Urine drug tests dated after today (not counted or judged): {named}" in view.note
    # The page's list shows the row with its day, not judged against prescriptions of a day that has not come.
    [row] = view.section("uds").content.rows
    assert row.day.isoformat() == FUTURE and row.value == "positive"
    assert row.unexpected == () and row.explained == () and row.after_today


def test_the_plan_page_shows_a_future_row_as_not_counted_or_judged(tmp_path) -> None:
    from markupsafe import escape
    from werkzeug.datastructures import MultiDict

    from smart_app.plan_view import PageInput, assemble, render_page

    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        resources = (patient(), epic_fentanyl_screen(FUTURE))
        view = assemble(PageInput(resources, (), ()), settings.guideline, "p1", NOW, MultiDict(), drafts=[draft])
        page = render_page(view, MultiDict(), lambda **_: "/plan", handle="H")
    row = f"<td>{FUTURE}</td><td>Fentanyl Screen, Urine</td><td>positive</td>\n"
    assert f"{row}<td>Dated after today, so not counted or judged</td>" in page
    assert "Unexpected:" not in page
    sentence = "1 urine drug test is dated after today, so it was not counted as a test done or judged for unexpected"
    assert escape(sentence) in page


def test_a_test_dated_after_today_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=5)
    prefetch = full_prefetch(
        "order-sign",
        udsLabs=bundle(epic_fentanyl_screen(FUTURE)),
        procedures=bundle(stu3_point_of_care_cup(FUTURE)),
    )
    body = hook_request(drafts=[draft], prefetch=prefetch)
    answer = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).get_json()
    incomplete = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    why = "is dated after today, so it was not counted as a test done or judged for unexpected results"
    assert (
        f"- Fentanyl Screen, Urine (observation obs-fent-ahead), dated {FUTURE}, after today: {why}"
        in (incomplete["detail"])
    )
    assert (
        f"- Urine drug screen, point of care (procedure pr-cup-ahead), dated {FUTURE}, after today: {why}"
        in (incomplete["detail"])
    )


def test_a_future_test_is_not_named_where_no_urine_drug_test_check_applies() -> None:
    # No opioid at all: neither check reads the urine drug tests, so naming one would be noise on every visit.
    evaluation = run("patient-view", resources=[patient(), epic_fentanyl_screen(FUTURE)])
    assert build_plan(evaluation, (), evaluation.facts.config, NOW).named["future-dated-drug-tests"] == ()
