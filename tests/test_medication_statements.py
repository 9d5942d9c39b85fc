"""MedicationStatement (R4, STU3 and DSTU2): a medication the patient or another clinician reports, read as a
medication reported as taken, so that a site's prefetch of statements is not ignored in silence."""

from __future__ import annotations

from typing import Any

import pytest
from builders import PATIENT_ID, RXNORM, UCUM, card, days_ago, med_request, run

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
STATEMENT_CATEGORY = "http://terminology.hl7.org/CodeSystem/medication-statement-category"


def statement(rxcui: str, *, dose: int = 1, every_hours: int = 8, **fields: Any) -> dict[str, Any]:
    """An R4 MedicationStatement: taken since two years ago, confirmed at reconciliation 20 days ago."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": f"ms-{rxcui}",
        "status": "active",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "effectivePeriod": {"start": days_ago(730)},
        "dateAsserted": days_ago(20),
        "informationSource": {"reference": f"Patient/{PATIENT_ID}"},
        "dosage": [
            {
                "timing": {"repeat": {"frequency": 1, "period": every_hours, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": dose, "unit": "{tbl}", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
    }
    resource.update(fields)
    return resource


def low_dose_draft() -> dict[str, Any]:
    """1 tablet of 5 mg every 6 hours for 5 days: 30 MME/day."""
    return med_request(OXYCODONE, draft=True, id="ox1", dose=1, period=6, supply_days=5)


def benzodiazepine_card(*resources: dict[str, Any]):
    return card(run("order-sign", drafts=[low_dose_draft()], resources=resources), "opioid-benzodiazepine")


def test_a_benzodiazepine_the_patient_reports_taking_meets_a_new_opioid() -> None:
    both = benzodiazepine_card(statement(LORAZEPAM))
    assert both is not None and both.facts["sedatives"] == ["lorazepam 1 MG Oral Tablet"]
    assert f"lorazepam 1 MG Oral Tablet (reported as taken, noted {days_ago(20)[:10]}" in both.detail


def test_an_opioid_the_patient_reports_taking_counts_in_the_total() -> None:
    home = statement(OXYCODONE, dose=2, every_hours=4)  # 90 MME/day
    high = card(run("order-sign", drafts=[low_dose_draft()], resources=[home]), "high-mme")
    assert high is not None and "120.0 MME/day" in high.summary and "(reported as taken" in high.detail


@pytest.mark.parametrize(
    "not_taken",
    [
        {"status": "not-taken"},  # R4
        {"status": "completed", "taken": "n"},  # STU3
        {"status": "active", "taken": "n"},  # STU3: the flag decides
        {"wasNotTaken": True},  # DSTU2
        {"status": "entered-in-error"},
        {"status": "intended"},  # planned, not yet taken
        {"status": "completed", "effectivePeriod": {"start": days_ago(400), "end": days_ago(200)}},
    ],
)
def test_a_medication_not_taken_now_is_no_current_medication(not_taken: dict[str, Any]) -> None:
    assert benzodiazepine_card(statement(LORAZEPAM, **not_taken)) is None


def test_an_active_statement_last_confirmed_long_ago_is_on_the_medication_list() -> None:
    # Past 90 days with no end it is no current order, but still on the active list: the sedative check counts it
    # (tests/test_listed_home_medications.py); dropped, a lorazepam on the list gave a new opioid no card.
    assert benzodiazepine_card(statement(LORAZEPAM, dateAsserted=days_ago(200))) is not None


def test_a_stated_period_that_runs_through_today_is_current_and_one_that_ended_is_not() -> None:
    running = {"effectivePeriod": {"start": days_ago(200), "end": days_ago(-30)}, "dateAsserted": days_ago(200)}
    assert benzodiazepine_card(statement(LORAZEPAM, **running)) is not None
    ended = {"effectivePeriod": {"start": days_ago(60), "end": days_ago(10)}, "dateAsserted": days_ago(5)}
    assert benzodiazepine_card(statement(LORAZEPAM, **ended)) is None


def test_stu3_and_dstu2_statements_are_read() -> None:
    stu3 = statement(LORAZEPAM, taken="y", effectiveDateTime=days_ago(30))
    del stu3["effectivePeriod"], stu3["dateAsserted"]
    assert benzodiazepine_card(stu3) is not None
    dstu2 = statement(LORAZEPAM, wasNotTaken=False, dateAsserted=days_ago(10))
    dstu2["patient"] = dstu2.pop("subject")
    assert benzodiazepine_card(dstu2) is not None


@pytest.mark.parametrize("code", ["patientspecified", "community", "outpatient"])
def test_a_statement_of_the_patient_or_of_home_care_is_outpatient_and_not_named_as_unread(code: str) -> None:
    category = {"coding": [{"system": STATEMENT_CATEGORY, "code": code}]}
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[statement(LORAZEPAM, category=category)])
    assert card(evaluation, "opioid-benzodiazepine") is not None
    assert evaluation.facts.unread_category_orders == ()


def test_a_statement_of_a_medicine_given_in_hospital_is_left_out() -> None:
    inpatient = {"coding": [{"system": STATEMENT_CATEGORY, "code": "inpatient"}]}
    assert benzodiazepine_card(statement(LORAZEPAM, category=inpatient)) is None


def test_a_statement_sharing_an_order_id_is_a_resource_of_its_own() -> None:
    # Ids are unique per type: MedicationStatement/ox1 is not the draft MedicationRequest/ox1, nor its EHR copy.
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[statement(LORAZEPAM, id="ox1")])
    assert card(evaluation, "opioid-benzodiazepine") is not None


def test_a_statement_of_an_unknown_medicine_is_named() -> None:
    unknown = statement(LORAZEPAM, medicationCodeableConcept={"text": "grandma's pain pills"})
    evaluation = run("order-sign", drafts=[low_dose_draft()], resources=[unknown])
    unidentified = card(evaluation, "unidentified-medication")
    assert unidentified is not None
    assert unidentified.facts["unidentified_current"] == ["grandma's pain pills (reported medication ms-197901)"]


# -- asking for statements: a site whose EHR serves MedicationStatement turns the search on ------------------------


def test_the_statements_search_is_published_only_when_the_site_turns_it_on(tmp_path) -> None:
    from cds_support import make_app

    plain = make_app(tmp_path / "a").test_client().get("/cds-services").get_json()["services"]
    assert all("medStatements" not in service["prefetch"] for service in plain)
    app = make_app(tmp_path / "b", guideline={"prefetch": {"medication_statements": True}})
    services = app.test_client().get("/cds-services").get_json()["services"]
    assert {service["prefetch"]["medStatements"] for service in services} == {
        "MedicationStatement?patient={{context.patientId}}"
    }
    assert all("MedicationStatement" in service["usageRequirements"] for service in services)
    assert not any("MedicationStatement" in service["usageRequirements"] for service in plain)


def test_a_statement_read_from_the_fhir_server_meets_the_new_opioid(tmp_path) -> None:
    import re

    import responses
    from cds_support import FHIR, bundle, hook_request, make_app, patient, topics

    with responses.RequestsMock() as mock:
        mock.get(f"{FHIR}/Patient/{PATIENT_ID}", json=patient())
        mock.get(re.compile(re.escape(f"{FHIR}/MedicationStatement") + r"\?.*"), json=bundle(statement(LORAZEPAM)))
        mock.get(re.compile(re.escape(FHIR) + r"/\w+\?.*"), json=bundle())
        app = make_app(tmp_path, guideline={"prefetch": {"medication_statements": True}})
        body = hook_request(drafts=[low_dose_draft()], prefetch={}, fhir=True)
        answer = app.test_client().post("/cds-services/order-sign", json=body).get_json()
    assert "opioid-benzodiazepine" in topics(answer)


def test_the_plan_page_asks_for_statements_when_the_hooks_do() -> None:
    from datetime import date

    from guideline.config import GuidelineConfig
    from smart_app.plan_view import plan_queries

    on = GuidelineConfig.from_mapping({"prefetch": {"medication_statements": True}})
    assert plan_queries("p1", date(2026, 6, 15), on)["statements"] == "MedicationStatement?patient=p1&_count=100"
    assert "statements" not in plan_queries("p1", date(2026, 6, 15), GuidelineConfig.from_mapping())


def test_the_statements_setting_must_be_true_or_false() -> None:
    from guideline.config import ConfigError, GuidelineConfig

    with pytest.raises(ConfigError, match="prefetch.medication_statements"):
        GuidelineConfig.from_mapping({"prefetch": {"medication_statements": "yes"}})


def test_the_plan_page_shows_a_reported_benzodiazepine_the_hook_card_names(tmp_path) -> None:
    import responses
    from builders import patient
    from test_plan_view import FakeFhir, _app, _open_plan

    home = statement(LORAZEPAM, dateAsserted="2026-06-01", effectivePeriod={"start": "2024-06-01"})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, [patient(patient_id="p1"), home])
        html = _open_plan(_app(tmp_path, guideline={"prefetch": {"medication_statements": True}})).get_data(
            as_text=True
        )
    assert any("/MedicationStatement?patient=p1" in url for url, _ in fake.requests)
    assert "lorazepam 1 MG Oral Tablet" in html and "reported as taken" in html
