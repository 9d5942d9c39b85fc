"""The six HUSKY steps: statuses, dated evidence, what is due, goals, screens, the last decision, exclusions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from builders import days_ago, observation
from test_plan import plan_for, rich_patient

from guideline.config import ConfigError, GuidelineConfig
from guideline.plan.model import QueryStatus
from guideline.search_windows import Window
from smart_app.demo_data import load_demo_patients
from smart_app.plan_view import PageInput, assemble

DEMO_DAY = date(2026, 6, 15)
DEMO_NOW = datetime(2026, 6, 15, 12, tzinfo=ZoneInfo("America/New_York"))
BASE = "http://painplan.example/fhir"


def demo_steps(patient_id: str):
    patient = load_demo_patients(DEMO_DAY)[patient_id]
    view = assemble(PageInput(tuple(patient.resources()), (), ()), GuidelineConfig(), patient_id, DEMO_NOW, {})
    steps = view.by_key["steps"]
    assert steps.error is None
    return steps.content, view


def by_key(steps) -> dict[str, Any]:
    return {s.key: s for s in steps.steps}


def test_six_steps_in_order_with_stable_anchors() -> None:
    steps, _ = demo_steps("walter-brooks")
    assert [s.anchor for s in steps.steps] == [
        "step-assess",
        "step-consent",
        "step-agreement",
        "step-initiate",
        "step-reassess",
        "step-decide",
    ]


def test_walter_on_opioids_has_due_steps_with_dated_evidence() -> None:
    steps, _ = demo_steps("walter-brooks")
    s = by_key(steps)
    assert s["assess"].status == "due"
    assert any(e.label.endswith("CPMRS (PDMP) review") and e.day is not None for e in s["assess"].evidence)
    assert "A PEG score: none in the last 2 years." in s["assess"].due
    assert s["consent"].status == "due" and s["agreement"].status == "due"
    assert any("goal for function" in d for d in s["initiate"].due)
    assert s["reassess"].status == "done"
    assert s["decide"].status == "due" and "Offer naloxone as part of the plan." in s["decide"].due
    assert steps.not_applicable is None


def test_hospice_patient_every_step_not_applicable_with_the_reason_and_no_red_tile() -> None:
    steps, view = demo_steps("eleanor-fitzgerald")
    reason = "Not applicable: receiving hospice or palliative care — the guideline's checks do not apply."
    assert steps.not_applicable == reason
    assert {s.status for s in steps.steps} == {"not-applicable"}
    assert all(s.not_applicable == reason and not s.due for s in steps.steps)
    assert {t.state for t in view.by_key["tasks"].content} == {"not-applicable"}


def test_well_managed_patient_has_no_red_consent_or_agreement() -> None:
    steps, _ = demo_steps("robert-chen")
    s = by_key(steps)
    assert s["agreement"].status == "done"
    assert [e.label for e in s["agreement"].evidence] == ["Treatment agreement: Opioid treatment agreement"]
    assert s["initiate"].status == "done"  # his PEG goal and his walking goal
    assert s["consent"].status == "done"  # carried by the treatment agreement, and it says so
    assert "treatment agreement" in s["consent"].tasks[0].detail
    assert s["decide"].status == "done"  # his care plan from this quarter is the plan on record


def test_patient_without_opioids_needs_no_consent_or_agreement() -> None:
    plan = plan_for([observation("44261-6", when=days_ago(20), value_quantity=4, category="survey")])
    s = by_key(plan.section("steps").content)
    assert s["consent"].status == "not-applicable" and s["agreement"].status == "not-applicable"
    assert s["consent"].summary.startswith("Not needed now: no opioid therapy now or planned.")


def test_no_agreement_or_consent_names_how_far_back_the_documents_were_searched() -> None:
    # An agreement older than the document search may be on record: the step says where it looked, as the tile does.
    record = [r for r in rich_patient() if r["resourceType"] not in ("DocumentReference", "Consent")]
    docs = QueryStatus("documents", "Documents (2 years)", "DocumentReference?…", 0, True, window=Window(2, "years"))
    whole = by_key(plan_for(record).section("steps").content)
    assert whole["agreement"].summary == "No treatment agreement on record."
    windowed = by_key(plan_for(record, statuses=[docs]).section("steps").content)
    assert windowed["agreement"].summary == "No treatment agreement in the last 2 years."
    assert windowed["consent"].summary == "No informed consent in the last 2 years."
    assert windowed["agreement"].due == (
        "Treatment agreement: none in the last 2 years for a patient on opioid therapy.",
    )


def test_failed_medication_search_is_not_shown_as_no_opioid_therapy() -> None:
    failed = QueryStatus("orders", "Medication orders (2 years)", "MedicationRequest?…", 0, False, "timed out")
    plan = plan_for([observation("44261-6", when=days_ago(20), value_quantity=4, category="survey")], statuses=[failed])
    s = by_key(plan.section("steps").content)
    assert s["consent"].status == "unknown" and s["agreement"].status == "unknown"
    assert s["consent"].status_label == "Could not be checked"
    assert "Medication orders (2 years) failed" in s["consent"].summary
    assert "not-applicable" not in {step.status for step in s.values()}


def test_phq9_and_gad7_scores_show_with_their_band_and_date() -> None:
    resources = [
        *rich_patient(),
        observation("44261-6", when=days_ago(300), value_quantity=6, category="survey"),
        observation("44261-6", when=days_ago(30), value_quantity=14, category=None),
        observation("70274-6", when=days_ago(30), value_quantity="3", category="survey"),
    ]
    steps = plan_for(resources).section("steps").content
    phq9 = steps.screens.latest("PHQ-9 (depression)")
    assert (phq9.score, phq9.band, phq9.needs_follow_up) == (14, "moderate", True)
    labels = [(e.label, e.detail) for e in by_key(steps)["assess"].evidence]
    assert ("PHQ-9 14", "moderate; follow up") in labels and ("GAD-7 3", "minimal") in labels


def _goal(description: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Goal",
        "id": description[:8].replace(" ", "-"),
        "lifecycleStatus": "active",
        "description": {"text": description},
        "subject": {"reference": "Patient/p1"},
        "startDate": days_ago(40)[:10],
        **extra,
    }


def test_goals_for_pain_and_function_complete_the_initiate_step() -> None:
    goals = [
        _goal(
            "Keep pain at 4 or below",
            target=[
                {
                    # The PEG's name says "general activity": the description, not the measure, makes it a pain goal.
                    "measure": {"text": "PEG pain, enjoyment, general activity"},
                    "detailQuantity": {"value": 4, "code": "{score}"},
                    "dueDate": "2026-09-01",
                }
            ],
        ),
        _goal("Walk to the mailbox and back every day", achievementStatus={"text": "Improving"}),
        _goal("Old goal", lifecycleStatus="entered-in-error"),
    ]
    steps = plan_for([*rich_patient(), *goals]).section("steps").content
    assert [g.kind for g in steps.goals.rows] == ["pain", "function"]
    initiate = by_key(steps)["initiate"]
    assert not any("goal" in d for d in initiate.due)
    assert ("Goal (pain): Keep pain at 4 or below", "PEG pain, enjoyment, general activity: 4 by 2026-09-01") in [
        (e.label, e.detail) for e in initiate.evidence
    ]
    assert "Improving" in [e.detail for e in by_key(steps)["reassess"].evidence]


def test_last_painplan_decision_is_shown_with_reasons_and_follow_up() -> None:
    def plan(day: str, decision: str) -> dict[str, Any]:
        return {
            "resourceType": "CarePlan",
            "id": f"cp-{decision}",
            "status": "active",
            "intent": "plan",
            "subject": {"reference": "Patient/p1"},
            "created": day,
            "category": [
                {"coding": [{"system": f"{BASE}/CodeSystem/painplan-care-plan", "code": "opioid-treatment-decision"}]},
                {"coding": [{"system": f"{BASE}/CodeSystem/painplan-decision", "code": decision}]},
            ],
            "description": "Function improving; patient prefers a slow reduction",
            "activity": [
                {
                    "detail": {
                        "status": "scheduled",
                        "description": "Follow-up visit",
                        "scheduledPeriod": {"start": "2026-07-01"},
                    }
                }
            ],
        }

    steps = (
        plan_for([*rich_patient(), plan(days_ago(200), "continue"), plan(days_ago(5), "taper")])
        .section("steps")
        .content
    )
    assert steps.decision.decision == "taper" and steps.decision.label == "Taper"
    evidence = [(e.label, e.detail) for e in by_key(steps)["decide"].evidence]
    assert ("Decision: Taper", "Function improving; patient prefers a slow reduction") in evidence
    assert ("Plan: Follow-up visit (2026-07-01)", "") in evidence


def test_a_decision_updated_today_counts_as_today_s_decision() -> None:
    """An update keeps the plan's created date (read-modify-write); the EHR's meta.lastUpdated says when it was
    last decided, so the Decide step is not "due" again the day the plan was updated."""
    plan = {
        "resourceType": "CarePlan",
        "id": "cp-1",
        "meta": {"versionId": "4", "lastUpdated": f"{days_ago(0)}T15:20:00Z"},
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Patient/p1"},
        "created": f"{days_ago(200)}T10:00:00-04:00",
        "category": [
            {"coding": [{"system": f"{BASE}/CodeSystem/painplan-care-plan", "code": "opioid-treatment-decision"}]},
            {"coding": [{"system": f"{BASE}/CodeSystem/painplan-decision", "code": "taper"}]},
        ],
        "description": "Decision: taper.",
    }
    steps = plan_for([*rich_patient(), plan]).section("steps").content
    assert steps.decision.day == date.fromisoformat(days_ago(0))
    assert not any(d.startswith("Record the decision") for d in by_key(steps)["decide"].due)
    older = {**plan, "meta": {"lastUpdated": f"{days_ago(300)}T15:20:00Z"}}  # never before its created date
    assert plan_for([*rich_patient(), older]).section("steps").content.decision.day == date.fromisoformat(days_ago(200))


def test_a_goal_s_how_we_will_know_note_and_peg_target_show_with_its_targets() -> None:
    goal = {
        "resourceType": "Goal",
        "id": "g1",
        "lifecycleStatus": "active",
        "category": [{"text": "Pain goal"}],
        "description": {"text": "Pain low enough to work full days"},
        "subject": {"reference": "Patient/p1"},
        "startDate": days_ago(10),
        "target": [
            {
                "measure": {"coding": [{"system": "http://loinc.org", "code": "91147-9"}], "text": "PEG score"},
                "detailQuantity": {"value": 4, "comparator": "<=", "unit": "{score}"},
                "dueDate": "2026-09-01",
            }
        ],
        "note": [{"text": "How we will know: back at work five days a week"}, {"text": "Prefers mornings"}],
    }
    steps = plan_for([*rich_patient(), goal]).section("steps").content
    shown = next(e for e in by_key(steps)["initiate"].evidence if "work full days" in e.label)
    assert shown.detail == "PEG score: at most 4 by 2026-09-01; How we will know: back at work five days a week"


def test_covered_services_come_from_configuration() -> None:
    assert GuidelineConfig()["covered_services"][0] == "pt"
    with pytest.raises(ConfigError, match="covered_services: unknown service 'yoga'"):
        GuidelineConfig.from_mapping({"covered_services": ["pt", "yoga"]})
    from builders import run

    from guideline.plan import build_plan

    config = GuidelineConfig.from_mapping({"covered_services": ["pt", "behavioral"]})
    evaluation = run("patient-view", resources=rich_patient(), config=config)
    plan = build_plan(evaluation, (), config, evaluation.facts.now)
    services = {t.key: t.covered for t in plan.section("nonopioid").content.services}
    assert services["pt"] and services["behavioral"] and not services["acupuncture"]
    offer = next(d for d in by_key(plan.section("steps").content)["initiate"].due if d.startswith("Offer"))
    assert offer == "Offer covered non-opioid services not yet tried: Behavioural health (e.g. CBT)."


def test_a_failing_steps_builder_is_named_and_the_sections_still_show() -> None:
    def broken() -> Any:
        raise ValueError("boom")

    plan = plan_for(rich_patient(), builders={"steps": broken})
    assert plan.section("steps").error == "This section could not be built (ValueError)."
    assert plan.section("medications").content is not None
    assert "Sections that could not be built: Treatment planning steps" in plan.note


@pytest.mark.parametrize("section", ["tasks", "oud"])
def test_decision_step_is_not_up_to_date_when_a_section_it_reads_failed(section: str) -> None:
    def broken() -> Any:
        raise ValueError("boom")

    decide = by_key(plan_for(rich_patient(), builders={section: broken}).section("steps").content)["decide"]
    assert decide.status == "unknown"
    assert any(e.detail == "could not be checked" for e in decide.evidence)


def test_note_lists_each_step_and_its_status() -> None:
    lines = plan_for(rich_patient()).note.split("\n")
    assert "Treatment planning steps (HUSKY):" in lines
    assert any(
        line.startswith("- 2. Informed consent: Due now. Due: Informed consent: none on record") for line in lines
    )


def test_page_without_its_steps_still_shows_every_section(tmp_path, monkeypatch) -> None:
    from test_plan_view import FakeFhir, _app, _open_plan

    import guideline.plan.assembly as assembly

    def broken(*_: Any) -> Any:
        raise ValueError("boom")

    monkeypatch.setattr(assembly, "build_steps", broken)
    import responses

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, rich_patient())
        response = _open_plan(_app(tmp_path))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This section could not be built (ValueError). The sections below are shown without the steps." in html
    for key in ("medications", "tasks", "scores", "uds", "taper", "oud", "resources"):
        assert f'<section id="{key}" class="section' in html
    assert 'id="step-assess"' not in html


def _score_search(key: str, label: str, ok: bool) -> QueryStatus:
    return QueryStatus(key, label, "Observation?…", 0, ok, None if ok else "timed out")


def _assess_without_scores(coded_search_ok: bool, survey_search_ok: bool):
    """The Assess step for a patient on opioids with no PEG, PHQ-9 or GAD-7 in the data, after these searches."""
    statuses = [
        _score_search("coded_scores", "PEG and screen scores (2 years)", coded_search_ok),
        _score_search("surveys", "Questionnaire scores (2 years)", survey_search_ok),
    ]
    without_peg = [r for r in rich_patient() if not {"72514-3", "91147-9"} & set(str(r.get("code")).split("'"))]
    return by_key(plan_for(without_peg, statuses=statuses).section("steps").content)["assess"]


def test_failed_score_searches_make_peg_and_screens_unknown_not_due() -> None:
    assess = _assess_without_scores(coded_search_ok=False, survey_search_ok=False)
    assert assess.status == "not-read" and assess.status_label == "Unknown — data not read"
    details = {e.label: e.detail for e in assess.evidence}
    for label in ("PEG (pain, enjoyment, general activity)", "PHQ-9 (depression)", "GAD-7 (anxiety)"):
        assert "could not be read" in details[label] and "Questionnaire scores (2 years)" in details[label]
    assert not any("PEG score" in d or "PHQ-9 screen" in d or "GAD-7 screen" in d for d in assess.due)


def test_one_working_score_search_keeps_none_on_record_as_due() -> None:
    assess = _assess_without_scores(coded_search_ok=True, survey_search_ok=False)
    assert "A PEG score: none in the last 2 years." in assess.due
    assert "A PHQ-9 screen: none in the last 2 years." in assess.due
    assert assess.status in ("due", "overdue")  # known gaps, not "could not be checked"


def test_a_score_found_despite_a_failed_search_is_shown() -> None:
    statuses = [_score_search("surveys", "Questionnaire scores (2 years)", False)]
    resources = [*rich_patient(), observation("44261-6", when=days_ago(30), value_quantity=6, category=None)]
    assess = by_key(plan_for(resources, statuses=statuses).section("steps").content)["assess"]
    details = {e.label: e.detail for e in assess.evidence}
    assert details["PHQ-9 6"] == "mild"
    assert "could not be read" in details["GAD-7 (anxiety)"]
