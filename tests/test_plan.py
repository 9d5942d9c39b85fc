"""Plan assembly on hand-written FHIR fixtures: each section's content, and one failing section never blanks others."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from builders import (
    LOINC,
    NOW,
    SNOMED,
    TODAY,
    condition,
    days_ago,
    med_request,
    observation,
    patient,
    procedure,
    run,
    service_request,
)

from guideline.cards import Snooze
from guideline.plan import QueryStatus, TaperRequest, build_plan

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
LORAZEPAM_1 = "197901"
BUP_NALOXONE_8_2 = "1010604"
NALOXONE_NASAL = "1725059"


def _patient_with_mrn(birth_date: str = "1958-03-02") -> dict[str, Any]:
    resource = patient(birth_date)
    resource["gender"] = "female"
    resource["identifier"] = [
        {
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
            "value": "MRN-4471",
        }
    ]
    return resource


def _document(loinc: str, when: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": f"doc-{loinc}-{when}",
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": loinc}], "text": text},
        "date": when,
    }


def rich_patient() -> list[dict[str, Any]]:
    """A 68-year-old on long-term oxycodone (60 MME/day now), lorazepam, sleep apnea, depression, one cocaine UDS."""
    history = [
        med_request(OXYCODONE_5, id=f"oxy-old-{n}", status="completed", authored=days_ago(200 - 30 * n), supply_days=30)
        for n in range(6)
    ]
    return [
        _patient_with_mrn(),
        *history,
        med_request(OXYCODONE_5, id="oxy-now", authored=days_ago(20), dose=2, supply_days=30),
        med_request(LORAZEPAM_1, id="loraz", authored=days_ago(15), frequency=1, period=1, period_unit="d"),
        med_request("197806", id="ibu", authored=days_ago(60), display="ibuprofen 600 MG Oral Tablet"),
        condition(SNOMED, "78275009", display="Obstructive sleep apnea syndrome"),
        condition(ICD, "F32.9", display="Major depressive disorder, single episode"),
        observation("14314-9", when=days_ago(40), value_string="Positive"),
        observation("10998-3", when=days_ago(40), value_string="Positive"),
        observation("91147-9", when=days_ago(300), value_quantity=8, category="survey"),
        observation("91147-9", when=days_ago(150), value_quantity=7, category="survey"),
        observation("91147-9", when=days_ago(10), value_quantity=5, category="survey"),
        observation("72514-3", when=days_ago(10), value_quantity=6, category="survey"),
        procedure(SNOMED, "461621000124108", performed=days_ago(100)),
        procedure(SNOMED, "91251008", performed=days_ago(60)),
        procedure(SNOMED, "454281000124100", performed=days_ago(50)),
        _document("94136-9", days_ago(400), "Opioid treatment agreement"),
    ]


def plan_for(resources: list[dict[str, Any]], **kwargs: Any):
    evaluation = run("patient-view", resources=resources)
    statuses = kwargs.pop("statuses", ())
    return build_plan(evaluation, statuses, evaluation.facts.config, NOW, **kwargs)


def test_banner_shows_name_dob_age_mrn_and_gender() -> None:
    banner = plan_for(rich_patient()).banner.content
    assert (banner.name, banner.birth_date, banner.age, banner.mrn, banner.gender) == (
        "Alex Rivera",
        date(1958, 3, 2),
        68,
        "MRN-4471",
        "female",
    )


def test_current_opioids_with_mme_per_order_and_total() -> None:
    meds = plan_for(rich_patient()).section("medications").content
    assert meds.total == "60.0 MME/day"
    assert meds.total_mme == Decimal("60")
    [row] = meds.opioids
    assert row.mme == "60.0" and row.status == "active"
    assert "× 1.5" in row.explanation and "40 mg" in row.explanation
    assert any("lorazepam" in s.lower() for s in meds.sedatives)
    assert meds.not_counted == ()


def test_buprenorphine_is_listed_apart_and_never_counted() -> None:
    resources = [
        patient(),
        med_request(BUP_NALOXONE_8_2, id="bup", authored=days_ago(10), frequency=1, period=1, period_unit="d"),
        med_request(OXYCODONE_5, id="oxy", authored=days_ago(5), supply_days=10),
    ]
    view = plan_for(resources)
    meds = view.section("medications").content
    assert [r.name for r in meds.not_counted] == ["buprenorphine 8 MG / naloxone 2 MG Sublingual Film"]
    assert [r.mme for r in meds.opioids] == ["30.0"]
    assert meds.total == "30.0 MME/day"
    history = view.section("mme_history").content
    assert history.buprenorphine_days == 11  # days ago 10 .. today, the buprenorphine line kept apart
    assert history.peak == Decimal("30.0")


def test_mme_history_is_a_daily_step_line_from_order_intervals() -> None:
    history = plan_for(rich_patient()).section("mme_history").content
    values = {p.day: p.value for p in history.opioid}
    assert history.start == date(2025, 6, 15) and history.end == TODAY
    assert values[TODAY - timedelta(days=200)] == Decimal("30.0")  # the first 30-day fill begins
    assert values[TODAY - timedelta(days=20)] == Decimal("60.0")  # the current, doubled order
    assert history.peak == Decimal("60.0")
    # Before the first fill the patient had no opioid supply at all.
    assert min(values) == history.start and values[history.start] == Decimal("0")


def test_status_strip_dates_and_states() -> None:
    tasks = {t.key: t for t in plan_for(rich_patient()).section("tasks").content}
    assert tasks["uds"].last_done == TODAY - timedelta(days=40)
    assert tasks["uds"].next_due == date(2027, 5, 6) and tasks["uds"].state == "done"
    assert tasks["pdmp"].last_done == TODAY - timedelta(days=100)
    assert tasks["pdmp"].next_due == TODAY - timedelta(days=10) and tasks["pdmp"].state == "overdue"
    # A dose increase 20 days ago with the last assessment before it: reassess 1–4 weeks after the increase.
    assert tasks["reassessment"].last_done == TODAY - timedelta(days=50)
    assert tasks["reassessment"].next_due == TODAY - timedelta(days=20) + timedelta(weeks=4)
    assert "1–4 weeks" in tasks["reassessment"].detail
    assert tasks["naloxone"].state == "never"
    assert tasks["agreement"].last_done == TODAY - timedelta(days=400) and tasks["agreement"].state == "overdue"
    assert tasks["consent"].state == "never"


def test_naloxone_on_hand_from_an_active_rescue_order() -> None:
    resources = [*rich_patient(), med_request(NALOXONE_NASAL, id="nal", authored=days_ago(90), as_needed=True)]
    tasks = {t.key: t for t in plan_for(resources).section("tasks").content}
    assert tasks["naloxone"].state == "done"
    assert tasks["naloxone"].last_done == TODAY - timedelta(days=90)


def test_risk_factors_come_with_their_evidence() -> None:
    risks = plan_for(rich_patient()).section("risks").content
    found = {r.label: r.evidence for r in risks.present}
    assert found["Higher opioid dose"] == "total 60.0 MME/day"
    assert "lorazepam" in found["Benzodiazepine"].lower()
    assert "sleep apnea" in found["Sleep-disordered breathing"].lower()
    assert "depressive" in found["Mental health condition"].lower()
    assert found["Age 65 or older"] == "68 years"
    assert "Opioid overdose history" in risks.absent


def test_uds_history_marks_the_unexpected_result() -> None:
    rows = plan_for(rich_patient()).section("uds").content.rows
    assert {r.day for r in rows} == {TODAY - timedelta(days=40)}
    unexpected = [text for r in rows for text in r.unexpected]
    assert any("cocaine" in text for text in unexpected)
    oxycodone = next(r for r in rows if "oxycodone" in " ".join(r.substances).lower())
    assert oxycodone.unexpected == ()  # prescribed, so the positive is expected


def test_pain_and_function_scores_over_time() -> None:
    scores = plan_for(rich_patient()).section("scores").content
    assert [p.value for p in scores.peg] == [Decimal("8.0"), Decimal("7.0"), Decimal("5.0")]
    assert scores.latest_pain.value == Decimal("6")
    assert scores.peg_change.startswith("PEG improved by 38 %")


def test_peg_from_its_three_items_when_no_total_is_recorded() -> None:
    resources = [patient()] + [
        observation(code, when=days_ago(3), value_quantity=value, category="survey")
        for code, value in (("75893-8", 6), ("91145-3", 4), ("91146-1", 5))
    ]
    scores = plan_for(resources).section("scores").content
    assert [(p.day, p.value) for p in scores.peg] == [(TODAY - timedelta(days=3), Decimal("5.0"))]


@pytest.mark.parametrize(
    ("written", "read"), [("7/10", "7.0"), ("8 out of 10", "8.0"), ("10 (worst)", "10.0"), ("6", "6.0")]
)
def test_a_score_written_as_text_is_read(written: str, read: str) -> None:
    # "7/10" and "8 out of 10" were no score: the chart skipped them in silence.
    resources = [patient(), observation("91147-9", when=days_ago(3), value_string=written, category="survey")]
    assert [str(p.value) for p in plan_for(resources).section("scores").content.peg] == [read]


@pytest.mark.parametrize("written", ["NaN", "Infinity", "1e999", "-1", "11", "5-6", "see note"])
def test_a_score_that_is_no_number_on_the_scale_is_left_out_and_the_rest_still_shows(written: str) -> None:
    # "NaN" as text made the comparison raise: the page lost its whole score chart for one odd value.
    resources = [
        patient(),
        observation("91147-9", when=days_ago(30), value_string=written, category="survey"),
        observation("91147-9", when=days_ago(3), value_quantity=5, category="survey"),
    ]
    scores = plan_for(resources).section("scores").content
    assert scores is not None and [str(p.value) for p in scores.peg] == ["5.0"]


def test_non_opioid_therapies_on_record_and_available() -> None:
    content = plan_for(rich_patient()).section("nonopioid").content
    services = {t.key: t for t in content.services}
    medicines = {t.key: t for t in content.medicines}
    assert services["pt"].has and services["pt"].evidence == (f"done {days_ago(60)}",)
    assert not services["acupuncture"].has
    assert medicines["nsaid"].has and "ibuprofen" in medicines["nsaid"].evidence[0]
    assert not medicines["gabapentinoid"].has


@pytest.mark.parametrize(
    ("intent", "referred"), [("order", True), ("proposal", False), ("plan", False), ("option", False)]
)
def test_a_physical_therapy_request_nobody_signed_is_no_referral(intent: str, referred: bool) -> None:
    # A proposal (another tool's suggestion) or a care-plan item nobody signed showed as "referred", and physical
    # therapy as a non-opioid therapy tried, for a patient nobody had referred.
    request = service_request(SNOMED, "91251008", authored=days_ago(20), intent=intent)  # Physical therapy
    pt = next(t for t in plan_for([patient(), request]).section("nonopioid").content.services if t.key == "pt")
    assert pt.has is referred
    assert pt.evidence == ((f"referred {days_ago(20)}",) if referred else ())


def test_oud_block_scores_the_checklist_and_lists_diagnosis_and_treatment() -> None:
    resources = [
        patient(),
        condition(ICD, "F11.20", display="Opioid dependence, uncomplicated"),
        med_request(BUP_NALOXONE_8_2, id="bup", authored=days_ago(10), frequency=1, period=1, period_unit="d"),
    ]
    block = (
        plan_for(resources, oud_checked=["craving", "cut-down", "tolerance", "withdrawal", "time-spent"])
        .section("oud")
        .content
    )
    assert block.diagnoses[0].startswith("Opioid dependence, uncomplicated (active")
    assert "buprenorphine" in block.treatment[0]
    assert block.assessment.counted == 3 and block.assessment.severity == "mild"
    assert len(block.criteria) == 11
    assert [name for name, _ in block.options] == ["Buprenorphine", "Methadone", "Extended-release naltrexone"]
    assert block.referrals[0]["url"] == "https://findtreatment.gov/"


def test_taper_schedule_from_the_current_total() -> None:
    taper = (
        plan_for(rich_patient(), taper_request=TaperRequest(rate_percent=Decimal("10"), interval="week"))
        .section("taper")
        .content
    )
    assert taper.plan.start_mme == Decimal("60")
    assert [s.mme_display for s in taper.plan.steps[:3]] == ["60.0", "54.0", "48.0"]
    assert taper.plan.steps[1].start == TODAY + timedelta(weeks=1)
    assert taper.plan.steps[-1].mme == 0


def test_taper_without_opioids_explains_why_there_is_no_schedule() -> None:
    taper = plan_for([patient()]).section("taper").content
    assert taper.plan is None and "no current opioid dose" in taper.message


def test_exclusions_are_shown_with_their_evidence() -> None:
    resources = [*rich_patient(), condition(ICD, "D57.00", display="Hb-SS disease with crisis, unspecified")]
    alerts = plan_for(resources).section("alerts").content
    assert alerts.exclusions and "Hb-SS disease with crisis" in alerts.exclusions[0][1]


def test_a_failing_section_shows_its_message_and_the_others_still_build() -> None:
    def broken() -> Any:
        raise ValueError("boom")

    view = plan_for(rich_patient(), builders={"risks": broken})
    risks = view.section("risks")
    assert risks.content is None and risks.error == "This section could not be built (ValueError)."
    assert view.section("medications").content.total == "60.0 MME/day"
    assert all(s.error is None for s in view.sections if s.key != "risks")
    assert "Sections that could not be built: Overdose risk factors" in view.note


def test_missing_demographics_fail_the_banner_only() -> None:
    evaluation = run("patient-view", resources=[med_request(OXYCODONE_5)], with_patient=False)
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    assert view.banner.content is None and "demographics" in view.banner.error
    assert view.section("medications").content.total == "30.0 MME/day"


def test_sections_name_their_queries_and_warn_about_failed_or_cut_searches() -> None:
    statuses = (
        QueryStatus("labs", "Laboratory results (13 months)", "Observation?…", 0, False, "timed out"),
        QueryStatus("orders", "Medication orders (2 years)", "MedicationRequest?…", 300, True, None, True),
    )
    view = plan_for(rich_patient(), statuses=statuses)
    uds = view.section("uds")
    assert [q.key for q in uds.queried] == ["labs", "orders"]
    assert any("could not be read (timed out)" in n for n in uds.notices)
    assert any("more results exist" in n for n in view.section("medications").notices)
    assert "Data not available when this was generated: Laboratory results (13 months)" in view.note


def test_copy_as_note_is_plain_text_with_the_essentials() -> None:
    note = plan_for(rich_patient()).note
    assert "Patient: Alex Rivera, DOB 1958-03-02, MRN MRN-4471" in note
    assert "Total opioid dose: 60.0 MME/day" in note
    assert f"- PDMP review: last {days_ago(100)}, next due {days_ago(10)} (overdue)" in note
    # The states in words, as the status strip shows them: a pasted note read "last none on record [not-applicable]"
    assert "- Naloxone on hand: none on record\n" in note and "not-applicable" not in note and "[" not in note
    assert "<" not in note


def test_an_unconvertible_order_makes_the_total_a_lower_bound_everywhere() -> None:
    unknown = med_request("1049621", id="no-sig", authored=days_ago(3), supply_days=None)
    del unknown["dosageInstruction"]
    view = plan_for([patient(), med_request(OXYCODONE_5, id="oxy", authored=days_ago(5)), unknown])
    meds = view.section("medications").content
    assert meds.total == "at least 30.0 MME/day" and meds.total_state == "partial"
    assert len(meds.unknown) == 1 and meds.unknown[0].startswith("oxycodone hydrochloride 5 MG Oral Tablet")
    assert [r.mme for r in meds.opioids] == ["30.0", "unknown"]
    assert "lower bound" in view.section("taper").content.message
    assert "Total opioid dose: at least 30.0 MME/day" in view.note


def test_the_pdmp_task_counts_a_pdmp_reviewed_override_as_the_card_does() -> None:
    # The card counted a clinician's "PDMP reviewed" override as the review; the plan's task said "never".
    reviewed = Snooze(
        check_id="pdmp-review",
        patient_id="p1",
        until=NOW + timedelta(days=80),
        indicator="warning",
        user_id=None,
        reason="pdmp-reviewed",
        set_at=NOW - timedelta(days=10),
    )
    evaluation = run("patient-view", resources=[med_request(OXYCODONE_5, authored=days_ago(5))], snoozes=[reviewed])
    tasks = {t.key: t for t in build_plan(evaluation, (), evaluation.facts.config, NOW).section("tasks").content}
    assert (tasks["pdmp"].last_done, tasks["pdmp"].state) == (TODAY - timedelta(days=10), "done")


def test_a_score_that_cannot_be_read_is_named_not_dropped_unseen() -> None:
    resources = [
        patient(),
        observation("91147-9", when=days_ago(30), value_string="see note", category="survey"),
        observation("72514-3", when=days_ago(20), value_quantity=14, category="survey"),
        observation("91147-9", when=days_ago(3), value_quantity=5, category="survey"),
    ]
    scores = plan_for(resources).section("scores").content
    assert scores.unread == (
        f"PEG on {days_ago(30)}: 'see note'",
        f"pain intensity on {days_ago(20)}: 14",
    )


def test_the_note_names_the_resources_that_could_not_be_read() -> None:
    """The card and the page name each resource skipped as unreadable; the copied note said nothing of them, so a
    note pasted into the chart read as if every record had been counted."""
    error = {"resourceType": "OperationOutcome", "id": "oo-labs", "issue": [{"severity": "error", "code": "timeout"}]}
    view = plan_for([*rich_patient(), error])
    assert view.problems == 1
    [line] = [line for line in view.note.splitlines() if line.startswith("Records that could not be read")]
    assert "oo-labs" in line and line == f"Records that could not be read (not counted): {view.unreadable[0]}"


def _low_dose_patient_with(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A 40-year-old on 15 MME/day of oxycodone (no dose risk) with `extra` resources."""
    return [
        patient("1986-01-10"),
        med_request(OXYCODONE_5, id="oxy-now", authored=days_ago(10), dose=1, frequency=2, supply_days=30),
        *extra,
    ]


def test_risk_factors_name_an_unprescribed_fentanyl_positive_as_the_naloxone_card_does() -> None:
    # Tanya in the demo: the card offered naloxone for fentanyl in her urine test while the page's risk factors said
    # "none found in the data read".
    evaluation = run(
        "patient-view",
        resources=_low_dose_patient_with(observation("59673-4", when=days_ago(40), value_string="Positive")),
    )
    assert any(c.check_id == "naloxone" for c in evaluation.cards)
    risks = build_plan(evaluation, (), evaluation.facts.config, NOW).section("risks").content
    found = {r.label: r.evidence for r in risks.present}
    fentanyl = found["Fentanyl, heroin or another illicit opioid in a urine drug test, not prescribed"]
    assert "positive for fentanyl" in fentanyl and (TODAY - timedelta(days=40)).isoformat() in fentanyl


def test_risk_factors_name_a_benzodiazepine_known_only_from_a_pharmacy_fill_as_the_naloxone_card_does() -> None:
    # A benzodiazepine from another prescriber reaches the chart only as a fill: the card counts it (R2), the page
    # listed "Benzodiazepine" as not found.
    from builders import dispense

    evaluation = run("patient-view", resources=_low_dose_patient_with(dispense(LORAZEPAM_1, days_ago(5))))
    assert any(c.check_id == "naloxone" for c in evaluation.cards)
    risks = build_plan(evaluation, (), evaluation.facts.config, NOW).section("risks").content
    found = {r.label: r.evidence for r in risks.present}
    assert "lorazepam" in found["Benzodiazepine"].lower()
    assert "Benzodiazepine" not in risks.absent


def test_the_copied_note_records_the_alerts_the_clinician_saw() -> None:
    # Tanya in the demo: the note pasted into her chart named her risk factors and tiles but neither the unexpected
    # urine drug test results nor the naloxone alert the page showed above the steps; nor does it say "no alerts" of
    # a patient with none, which the page does.
    from guideline.plan.note import note_text

    evaluation = run(
        "patient-view",
        resources=_low_dose_patient_with(observation("59673-4", when=days_ago(40), value_string="Positive")),
    )
    view = build_plan(evaluation, (), evaluation.facts.config, NOW)
    text = note_text(view)
    summaries = [c.summary for c in evaluation.cards]
    assert summaries and all(f"- {s}" in text for s in summaries)
    assert "Alerts (as on the chart's cards):" in text
    quiet = run("patient-view", resources=[patient("1986-01-10")])
    assert "Alerts: none today." in note_text(build_plan(quiet, (), quiet.facts.config, NOW))


def test_the_copied_note_says_none_on_record_once() -> None:
    # The note read "Naloxone on hand: none on record (none on record)".
    from guideline.plan.note import note_text

    evaluation = run("patient-view", resources=_low_dose_patient_with())
    text = note_text(build_plan(evaluation, (), evaluation.facts.config, NOW))
    assert "none on record (none on record)" not in text
    assert "- Naloxone on hand: none on record\n" in text


def test_risk_factors_the_naloxone_card_does_not_count_say_so() -> None:
    """CDC names age 65 or older and mental health conditions among overdose risks, and the page lists them; the
    naloxone card counts R1-R6 only. Unmarked, a clinician read 'Age 65 or older' beside a quiet naloxone card as
    the two disagreeing."""
    view = plan_for(rich_patient())
    risks = {r.label: r for r in view.section("risks").content.present}
    assert not risks["Age 65 or older"].card_counts and not risks["Mental health condition"].card_counts
    assert all(
        risks[label].card_counts for label in ("Higher opioid dose", "Benzodiazepine", "Sleep-disordered breathing")
    )
    assert "Age 65 or older (68 years; not counted by the naloxone card)" in view.note
