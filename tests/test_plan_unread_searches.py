"""A plan step never says "none on record" or "Due now" on the strength of a search that could not be read: each
piece of evidence names the searches it rests on, and when one failed (or was cut off) it says "not known", its
status tile and the step say "Unknown — data not read", and the copied note says so too."""

from __future__ import annotations

import re
from typing import Any

import pytest
import responses
from builders import TODAY, days_ago
from test_plan import plan_for, rich_patient
from test_plan_view import FakeFhir, _app, _open_plan

from guideline.plan import QueryStatus
from smart_app.plan_view import QUERY_LABELS, plan_queries

PDMP = "Connecticut CPMRS (PDMP) review"


def _function_goal() -> dict[str, Any]:
    """A Goal as Epic's R4 Goal.Search returns one: a function goal set at a visit two months ago."""
    return {
        "resourceType": "Goal",
        "id": "eGoal.3kP2",
        "lifecycleStatus": "active",
        "category": [{"text": "Function goal"}],
        "description": {"text": "Walk the dog daily"},
        "subject": {"reference": "Patient/p1"},
        "startDate": days_ago(60)[:10],
    }


def _opioid_consent() -> dict[str, Any]:
    """An R4 Consent for opioid therapy, signed two months ago."""
    return {
        "resourceType": "Consent",
        "id": "cons-77",
        "status": "active",
        "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment"}]},
        "category": [
            {
                "coding": [{"system": "http://loinc.org", "code": "59284-0"}],
                "text": "Informed consent for opioid therapy",
            }
        ],
        "patient": {"reference": "Patient/p1"},
        "dateTime": days_ago(60)[:10],
        "policyRule": {"text": "Opioid therapy informed consent, HUSKY toolkit"},
    }


def patient_record() -> list[dict[str, Any]]:
    """Long-term oxycodone, a PDMP review, a reassessment, physical therapy, a urine drug test, an agreement from
    last year, a function goal and a signed consent: every step has evidence from a search of its own."""
    return [*rich_patient(), _function_goal(), _opioid_consent()]


def _searches_of(kind: str) -> list[str]:
    """The page's searches of one resource type (what fails when the EHR answers that type with an error)."""
    queries = plan_queries("p1", TODAY)
    return [key for key, query in queries.items() if query.split("?")[0].split("/")[0] == kind]


def _statuses(failed: list[str], truncated: bool = False) -> list[QueryStatus]:
    """Every search the page makes, those named failed (HTTP 500) or, with `truncated`, cut off at the page limit."""
    statuses = []
    for key in plan_queries("p1", TODAY):
        bad = key in failed
        error = "the FHIR server answered HTTP 500" if bad and not truncated else None
        statuses.append(QueryStatus(key, QUERY_LABELS[key], "…", 0, not bad or truncated, error, bad and truncated))
    return statuses


def _plan_without(kind: str, truncated: bool = False):
    """The plan when every search of `kind` failed: none of those resources came back."""
    resources = patient_record() if truncated else [r for r in patient_record() if r["resourceType"] != kind]
    return plan_for(resources, statuses=_statuses(_searches_of(kind), truncated))


def _steps(plan) -> dict[str, Any]:
    return {s.key: s for s in plan.section("steps").content.steps}


# resource type that fails → (step, evidence label, the step's status after, words its due list must not hold)
CASES: list[tuple[str, str, str, str | None, str]] = [
    ("DocumentReference", "agreement", "Treatment agreement", "not-read", "Treatment agreement"),
    ("Consent", "consent", "Informed consent", "not-read", "Informed consent"),
    ("Consent", "agreement", "Treatment agreement", "not-read", "Treatment agreement"),
    ("Goal", "initiate", "Goals for pain and function", "not-read", "goal for"),
    ("Goal", "reassess", "Progress against goals", None, "goal"),
    ("Procedure", "assess", PDMP, "due", "PDMP"),
    ("Procedure", "reassess", "Benefit and harm reassessment", "not-read", "reassess"),
    ("Procedure", "initiate", "Non-opioid therapies", "due", "not yet tried:"),
    ("ServiceRequest", "reassess", "Benefit and harm reassessment", "not-read", "reassess"),
    ("CarePlan", "decide", "Decision (continue, adjust, taper or stop)", "due", "Record the decision"),
    ("Condition", "decide", "Opioid use disorder", "due", "use disorder"),
    ("Condition", "assess", "Overdose risk factors", None, "risk"),
    ("MedicationDispense", "decide", "Naloxone", "due", "naloxone"),
    ("Observation", "assess", "PEG (pain, enjoyment, general activity)", "not-read", "PEG"),
    ("Observation", "assess", "PHQ-9 (depression)", "not-read", "PHQ-9"),
    ("Observation", "assess", PDMP, "not-read", "PDMP"),
    ("Observation", "assess", "Urine drug test", "not-read", "Urine drug test"),
]
IDS = [f"{kind}-{step}-{label.split(' ')[0]}" for kind, step, label, _, _ in CASES]


@pytest.mark.parametrize(("kind", "step_key", "label", "status", "not_due"), CASES, ids=IDS)
def test_evidence_of_a_failed_search_is_not_known_never_none_nor_due(
    kind: str, step_key: str, label: str, status: str | None, not_due: str
) -> None:
    step = _steps(_plan_without(kind))[step_key]
    labels = [QUERY_LABELS[key] for key in _searches_of(kind)]
    lines = [e for e in step.evidence if e.label == label]
    assert lines, [e.label for e in step.evidence]
    for line in lines:
        assert "not known" in line.detail and "could not be read" in line.detail, line
        assert any(name in line.detail for name in labels), line
        assert line.unread
        assert "none" not in line.detail, line
    assert not any(not_due.lower() in d.lower() and "not known" not in d for d in step.due), step.due
    if status is not None:
        assert step.status == status
    if status == "not-read":
        assert step.status_label == "Unknown — data not read"


@pytest.mark.parametrize(
    ("kind", "tile"),
    [
        ("DocumentReference", "agreement"),
        ("Consent", "consent"),
        ("Procedure", "pdmp"),
        ("Procedure", "reassessment"),
        ("ServiceRequest", "reassessment"),
        ("MedicationDispense", "naloxone"),
        ("Observation", "uds"),
        ("Observation", "pdmp"),
    ],
)
def test_the_status_tile_and_the_note_say_not_known(kind: str, tile: str) -> None:
    plan = _plan_without(kind)
    task = next(t for t in plan.section("tasks").content if t.key == tile)
    assert task.state == "not-read" and task.state_label == "Unknown — data not read"
    assert task.next_due is None  # a due date worked out from what was read would be a guess
    assert task.detail.startswith("Not known: ") and "could not be read" in task.detail
    assert not re.search(r"\bNo\b|none", task.detail), task.detail
    line = next(line for line in plan.note.split("\n") if line.startswith(f"- {task.label}: "))
    assert "not known" in line and "could not be read" in line and "none on record" not in line, line


def test_the_copied_note_names_what_each_step_could_not_read() -> None:
    lines = _plan_without("DocumentReference").note.split("\n")
    step = next(line for line in lines if line.startswith("- 3. Treatment agreement: "))
    assert step == (
        "- 3. Treatment agreement: Unknown — data not read. Not known: Treatment agreement (Documents (2 years) could "
        "not be read)."
    )


def test_a_search_cut_off_at_the_page_limit_is_not_read_in_full() -> None:
    plan = _plan_without("DocumentReference", truncated=True)
    agreement = _steps(plan)["agreement"]
    assert agreement.status == "not-read" and not agreement.due
    # What was read is shown; whether a newer one exists is not known.
    assert ("Treatment agreement: Opioid treatment agreement", "") in [(e.label, e.detail) for e in agreement.evidence]
    assert "status not known: Documents (2 years) could not be read in full (cut off at the page limit)" in [
        e.detail for e in agreement.evidence
    ]


def test_a_found_item_that_settles_the_step_stands_whatever_failed() -> None:
    # The consent is a Consent resource and up to date: a failed document search cannot make it less so.
    steps = _steps(_plan_without("DocumentReference"))
    assert steps["consent"].status == "done"
    assert [e.label for e in steps["consent"].evidence] == ["Informed consent: Informed consent for opioid therapy"]


BASE_STATUSES = {
    "assess": "overdue",
    "consent": "done",
    "agreement": "overdue",
    "initiate": "due",
    "reassess": "due-soon",
    "decide": "due",
}


def test_with_every_search_read_the_steps_tiles_and_note_are_unchanged() -> None:
    quiet = plan_for(patient_record())
    read = plan_for(patient_record(), statuses=_statuses([]))
    assert {s.key: s.status for s in read.section("steps").content.steps} == BASE_STATUSES
    assert read.section("steps").content == quiet.section("steps").content
    assert read.section("tasks").content == quiet.section("tasks").content
    assert read.note == quiet.note
    assert "not known" not in read.note
    assert not any(e.unread for s in read.section("steps").content.steps for e in s.evidence)


# -- the rendered page, the searches failing on a mocked EHR ------------------------------------------------------


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def _section(html: str, ident: str) -> str:
    found = re.search(rf'<section id="{ident}".*?(?=<section id="step-|<section id="resources")', html, re.S)
    assert found, ident
    return found.group(0)


PAGE_CASES = [
    ("DocumentReference", "step-agreement", "Treatment agreement", "Documents (2 years)"),
    ("Consent", "step-consent", "Informed consent", "Consents"),
    ("Goal", "step-initiate", "Goals for pain and function", "Goals"),
    ("Procedure", "step-reassess", "Benefit and harm reassessment", "Procedures (2 years)"),
    ("Procedure", "step-assess", PDMP, "Procedures (2 years)"),
    ("CarePlan", "step-decide", "Decision (continue, adjust, taper or stop)", "Care plans"),
]


@pytest.mark.parametrize(("kind", "anchor", "label", "search"), PAGE_CASES, ids=[c[0] + "-" + c[1] for c in PAGE_CASES])
def test_the_rendered_step_says_not_known_for_a_failed_search(
    tmp_path: Any, kind: str, anchor: str, label: str, search: str
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, patient_record())
        fake.fail.add(kind)
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    step = _text(_section(html, anchor))
    assert f"{label} — not known: {search} could not be read" in step, step
    assert f"{label} — none on record" not in step
    assert "Some data could not be read" in html
    note = _text(re.search(r'<textarea[^>]*id="note-text".*?</textarea>', html, re.S).group(0))
    assert f"({search} could not be read)" in note


def test_the_rendered_agreement_step_and_tile_with_failed_documents(tmp_path: Any) -> None:
    # Before: "Due now — No treatment agreement on record" and a red "None on record" tile, because the search
    # that holds the agreement answered HTTP 500.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeFhir(rsps, patient_record())
        fake.fail.add("DocumentReference")
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    section = _section(html, "step-agreement")
    assert 'data-status="not-read"' in section
    assert '<span class="step-status status-not-read">Unknown — data not read</span>' in section
    assert '<li class="task state-not-read" data-task="agreement">' in section
    text = _text(section)
    assert "Not known: Documents (2 years) could not be read." in text
    assert "Due now" not in text and "none on record" not in text.lower() and "No treatment agreement" not in text
    assert "Last found: not known" in text
    strip = _text(re.search(r'<ol class="step-strip">.*?</ol>', html, re.S).group(0))
    assert "3. Treatment agreement Unknown — data not read" in strip


def test_the_rendered_page_with_every_search_read_shows_no_unknown(tmp_path: Any) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeFhir(rsps, patient_record())
        html = _open_plan(_app(tmp_path)).get_data(as_text=True)
    assert "not-read" not in html and "not known" not in html.lower()
    assert "3. Treatment agreement Overdue" in _text(re.search(r'<ol class="step-strip">.*?</ol>', html, re.S).group(0))


# -- the reassessment tile rests on the medication searches too -------------------------------------------------

MORPHINE_ER_30 = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet
OPIOID_RISK_ASSESSMENT = "454281000124100"  # Assessment of risk for opioid abuse (procedure)


def _oxycodone_fill(ago: int) -> dict[str, Any]:
    """A monthly oxycodone 5 mg fill of 120 tablets from the pharmacy feed."""
    from builders import dispense

    fill = dispense("1049621", days_ago(ago), 30)
    fill["quantity"] = {"value": 120, "unit": "{tbl}", "system": "http://unitsofmeasure.org", "code": "{tbl}"}
    return fill


def _added_morphine_record(reviewed_ago: int = 40) -> list[dict[str, Any]]:
    """Monthly oxycodone fills for seven months (30 MME/day), a reassessment `reviewed_ago` days ago, and morphine ER
    added 10 days ago (90 MME/day), ordered and not yet in the pharmacy feed: only the orders show the increase."""
    from builders import med_request, patient, procedure
    from test_plan import SNOMED

    return [
        patient(),
        *(_oxycodone_fill(200 - 30 * n) for n in range(7)),
        med_request(MORPHINE_ER_30, id="morphine-er", authored=days_ago(10), period=12, supply_days=30),
        procedure(SNOMED, OPIOID_RISK_ASSESSMENT, performed=days_ago(reviewed_ago)),
    ]


def _reassessment(plan) -> tuple[Any, Any]:
    task = next(t for t in plan.section("tasks").content if t.key == "reassessment")
    return task, _steps(plan)["reassess"]


def test_a_reassessment_is_not_up_to_date_when_the_orders_were_not_read() -> None:
    # Read, the orders show morphine added 10 days ago, after the last review: the review is due 1-4 weeks after.
    task, step = _reassessment(plan_for(_added_morphine_record(), statuses=_statuses([])))
    assert task.state == "due-soon" and step.status == "due-soon"
    # The order search failed: the tile and step said "Up to date" on the strength of the orders not read.
    failed = _searches_of("MedicationRequest")
    resources = [r for r in _added_morphine_record() if r["resourceType"] != "MedicationRequest"]
    plan = plan_for(resources, statuses=_statuses(failed))
    task, step = _reassessment(plan)
    assert task.state == "not-read" and task.state_label == "Unknown — data not read"
    assert task.next_due is None and task.last_done is not None
    assert "Medication orders (2 years) and Active medication orders could not be read" in task.detail
    assert "started or a dose raised there since the last reassessment would make it due again" in task.detail
    assert step.status == "not-read" and step.status_label == "Unknown — data not read" and not step.due
    line = next(line for line in plan.note.split("\n") if line.startswith("- Benefit/harm reassessment: "))
    assert "not known" in line and "Up to date" not in line, line


def test_a_reassessment_done_today_stands_whatever_orders_were_not_read() -> None:
    # No increase can come after a review done today: the failed search cannot undo it.
    failed = _searches_of("MedicationRequest")
    resources = [r for r in _added_morphine_record(reviewed_ago=0) if r["resourceType"] != "MedicationRequest"]
    task, step = _reassessment(plan_for(resources, statuses=_statuses(failed)))
    assert task.state == "done" and step.status == "done"


def test_a_reassessment_due_soon_is_not_known_when_the_orders_were_not_read() -> None:
    # Reviewed 75 days ago (window 91): due soon on what was read. A dose raised in the orders not read would bring
    # the date forward (1-4 weeks after it): the tile said "Due soon" with the window's date.
    record = [r for r in _added_morphine_record(75) if r.get("id") != "morphine-er"]
    built = _reassessment(plan_for(record, statuses=_statuses([])))[0]
    assert built.state == "due-soon" and built.next_due is not None
    failed = _searches_of("MedicationRequest")
    resources = [r for r in record if r["resourceType"] != "MedicationRequest"]
    plan = plan_for(resources, statuses=_statuses(failed))
    task, step = _reassessment(plan)
    assert task.state == "not-read" and task.next_due is None and task.last_done == built.last_done
    assert "Medication orders (2 years) and Active medication orders could not be read" in task.detail
    assert "would make it due again" in task.detail
    assert step.status == "not-read" and not step.due


def test_an_overdue_reassessment_stays_overdue_whatever_orders_were_not_read() -> None:
    # Past the window: a dose raised since could only bring the due date forward.
    record = [r for r in _added_morphine_record(120) if r.get("id") != "morphine-er"]
    failed = _searches_of("MedicationRequest")
    resources = [r for r in record if r["resourceType"] != "MedicationRequest"]
    task = _reassessment(plan_for(resources, statuses=_statuses(failed)))[0]
    assert task.state == "overdue"
