"""Updating a goal or plan: read-modify-write of the record as read, If-Match on its version, and only ids the page
offered for this patient (anything else is refused before a write reaches the EHR)."""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from launch_support import ISS, PUBLIC_URL
from test_write_back import WRITE_SCOPE, _launch, _token

from guideline.plan.decision import care_plan_category, decision_system
from smart_app.write.update import VERSION_FIELD

GOAL_ID = "eVn4sQ2bZ.Lq3"
PLAN_ID = "e3Wc9-Fq.Plan"
EPIC_USER = {"reference": "Practitioner/eM5CWtq15N0WJeuCet5bJlQ3", "display": "Physician Family Medicine, MD"}

# A goal as Epic returns it: identifier, narrative, coded category, a measured target, an author and a note.
EPIC_GOAL = {
    "resourceType": "Goal",
    "id": GOAL_ID,
    "meta": {"versionId": "3", "lastUpdated": "2026-05-02T14:02:11Z"},
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Walk to the mailbox</div>'},
    "identifier": [{"use": "usual", "system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.737180", "value": "8827"}],
    "lifecycleStatus": "active",
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/goal-category",
                    "code": "behavioral",
                    "display": "Behavioral",
                }
            ],
            "text": "Behavioral",
        }
    ],
    "description": {"text": "Walk to the mailbox and back"},
    "subject": {"reference": "Patient/walter-brooks", "display": "Brooks, Walter"},
    "startDate": "2026-01-10",
    "expressedBy": EPIC_USER,
    "target": [
        {
            "measure": {
                "coding": [
                    {"system": "http://loinc.org", "code": "41950-7", "display": "Number of steps in 24 hour Measured"}
                ]
            },
            "detailQuantity": {"value": 3000, "unit": "steps/day", "system": "http://unitsofmeasure.org", "code": "/d"},
            "dueDate": "2026-08-01",
        }
    ],
    "note": [
        {
            "authorReference": EPIC_USER,
            "time": "2026-01-10T15:00:00Z",
            "text": "Daughter will walk with him on weekends",
        }
    ],
}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _goal_form(page: str, **fields: str) -> dict[str, str]:
    """The goal form as the clinician fills it to update EPIC_GOAL, hidden fields as the page rendered them."""
    hidden = dict(re.findall(rf'<input type="hidden" name="({re.escape(VERSION_FIELD)}[^"]+)" value="([^"]*)"', page))
    return {
        "csrf_token": _token(page),
        "goal_kind": "function",
        "description": "Walk to the mailbox and back",
        "status": "active",
        "resource_id": GOAL_ID,
        **hidden,
        **fields,
    }


def _post(client: Any, handle: str, form: str, data: dict[str, str]) -> Any:
    return client.post(f"/plan/write/{form}?s={handle}", data=data, base_url=PUBLIC_URL)


def _writes(rsps: responses.RequestsMock) -> list[str]:
    """Every request to the FHIR server other than a read."""
    return [
        f"{c.request.method} {c.request.url}"
        for c in rsps.calls
        if c.request.url.startswith(ISS) and c.request.method != "GET"
    ]


def _text(answer: Any) -> str:
    return html.unescape(answer.get_data(as_text=True))


def test_updating_a_goal_changes_only_what_the_form_edits_and_sends_if_match(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(copy.deepcopy(EPIC_GOAL),))
    assert f'name="{VERSION_FIELD}{GOAL_ID}" value="3"' in page
    data = _goal_form(page, measure="walks there and back without stopping", due="2026-09-01")
    answer = _post(client, handle, "goal", data)
    assert answer.status_code == 303
    assert [(m, path) for m, path, _ in chart.received] == [("PUT", f"Goal/{GOAL_ID}")]
    assert chart.if_match == ['W/"3"']
    sent = chart.received[0][2]
    assert "text" not in sent  # Epic's narrative described the goal before the edit
    for kept in ("identifier", "startDate", "expressedBy", "subject", "description", "lifecycleStatus"):
        assert sent[kept] == EPIC_GOAL[kept], kept
    assert sent["category"] == [*EPIC_GOAL["category"], {"text": "Function goal"}]
    assert sent["target"] == [*EPIC_GOAL["target"], {"dueDate": "2026-09-01"}]
    assert sent["note"][0] == EPIC_GOAL["note"][0]
    assert sent["note"][1]["text"] == "How we will know: walks there and back without stopping"
    assert "statusDate" not in sent and "achievementStatus" not in sent


def test_empty_fields_keep_the_goal_s_target_and_a_new_status_is_dated(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(copy.deepcopy(EPIC_GOAL),))
    assert _post(client, handle, "goal", _goal_form(page, status="completed")).status_code == 303
    sent = chart.received[0][2]
    assert sent["target"] == EPIC_GOAL["target"] and sent["note"] == EPIC_GOAL["note"]
    assert sent["lifecycleStatus"] == "completed" and sent["statusDate"] == "2026-06-15"
    assert sent["achievementStatus"]["coding"][0]["code"] == "achieved"


def test_a_typed_peg_target_replaces_the_goal_s_peg_target_and_keeps_its_date(tmp_path, rsps) -> None:
    goal = copy.deepcopy(EPIC_GOAL)
    goal["target"] = [
        {
            "measure": {"coding": [{"system": "http://loinc.org", "code": "91148-7", "display": "PEG"}]},
            "detailQuantity": {"value": 5, "unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"},
            "dueDate": "2026-08-01",
        }
    ]
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(goal,))
    data = _goal_form(page, goal_kind="pain", description="Pain low enough to work", peg_target="4")
    answer = _post(client, handle, "goal", data)
    assert answer.status_code == 303
    shown = _text(client.get(answer.headers["Location"], base_url=PUBLIC_URL))
    assert "Pain low enough to work (PEG score at most 4) by 2026-08-01" in shown
    sent = chart.received[0][2]
    assert [
        (t["measure"]["coding"][0]["code"], t["detailQuantity"]["value"], t["dueDate"]) for t in sent["target"]
    ] == [("91147-9", 4, "2026-08-01")]
    assert sent["description"] == {"text": "Pain low enough to work"}


def test_a_goal_an_earlier_painplan_wrote_against_gol_1_is_repaired_on_update(tmp_path, rsps) -> None:
    """Before gol-1 was checked the form wrote "How we will know" as a target detail with no measure and no
    version is known: the update moves the text into a note, keeps the date, and sends no If-Match."""
    old = {
        "resourceType": "Goal",
        "id": "pp-goal-1",
        "lifecycleStatus": "active",
        "category": [{"text": "Function goal"}],
        "description": {"text": "Walk to the mailbox"},
        "subject": {"reference": "Patient/walter-brooks"},
        "startDate": "2026-02-01",
        "target": [{"detailString": "walks 200 m without stopping", "dueDate": "2026-08-01"}],
    }
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(old,))
    data = _goal_form(page, resource_id="pp-goal-1", description="Walk to the mailbox", status="on-hold")
    assert _post(client, handle, "goal", data).status_code == 303
    sent = chart.received[0][2]
    assert sent["target"] == [{"dueDate": "2026-08-01"}] and sent["startDate"] == "2026-02-01"
    assert sent["note"] == [{"text": "How we will know: walks 200 m without stopping"}]
    assert sent["category"] == [{"text": "Function goal"}]
    assert chart.if_match == [None]


def test_a_goal_changed_since_the_page_opened_is_not_overwritten_and_the_typing_is_kept(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(copy.deepcopy(EPIC_GOAL),))
    data = _goal_form(page, measure="walks there and back without stopping")
    changed = chart.resources[("Goal", GOAL_ID)]
    changed["meta"] = {"versionId": "4"}  # a nurse edits the goal in Epic meanwhile
    changed["description"] = {"text": "Walk to the mailbox and back, with a cane"}
    answer = _post(client, handle, "goal", data)
    text = _text(answer)
    assert answer.status_code == 409 and chart.received == [] and _writes(rsps) == []
    assert "Not saved: the goal — someone changed this goal in the EHR after this page was opened" in text
    assert 'value="walks there and back without stopping"' in text  # nothing typed is lost
    assert "with a cane" in text  # the goal as it is now is on the page to check
    assert f'name="{VERSION_FIELD}{GOAL_ID}" value="4"' in text
    again = _post(client, handle, "goal", _goal_form(text, measure="walks there and back without stopping"))
    assert again.status_code == 303 and chart.if_match == ['W/"4"']


def test_the_ehr_refusing_a_stale_version_is_said_plainly(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, fail=412, extra=(copy.deepcopy(EPIC_GOAL),))
    answer = _post(client, handle, "goal", _goal_form(page, due="2026-09-01"))
    text = _text(answer)
    assert answer.status_code == 409 and len(chart.received) == 1
    assert "someone changed this goal in the EHR after this page was opened, so it was not overwritten" in text
    assert 'value="2026-09-01"' in text


@pytest.mark.parametrize(
    "foreign",
    [
        {"id": "g-from-2025"},  # a stale or typed id the page never read
        {"id": "mw-goal-1", "subject": {"reference": "Patient/marcus-webb"}},  # another patient's, in the search
        {"id": "grp-goal-1", "subject": {"reference": "Group/diabetes-class"}},
    ],
)
def test_an_id_that_is_not_this_patient_s_goal_is_refused_and_nothing_is_written(tmp_path, rsps, foreign) -> None:
    """Security: the id comes from the form; with user/Goal.write a tampered one must not overwrite any goal."""
    extra = (copy.deepcopy(EPIC_GOAL),)
    if "subject" in foreign:
        extra += ({**copy.deepcopy(EPIC_GOAL), "meta": {"versionId": "1"}, **foreign},)
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=extra)
    before = len(rsps.calls)
    answer = _post(
        client, handle, "goal", _goal_form(page, resource_id=foreign["id"], **{f"{VERSION_FIELD}{foreign['id']}": "1"})
    )
    text = _text(answer)
    assert answer.status_code == 404
    assert "Not saved: the goal — the goal to update is not one of this patient's goals in the EHR" in text
    assert chart.received == [] and _writes(rsps) == []
    assert not any(foreign["id"] in c.request.url for c in rsps.calls[before:])
    assert 'value="Walk to the mailbox and back"' in text


def test_a_care_plan_that_is_not_a_pain_plan_cannot_be_updated(tmp_path, rsps) -> None:
    other = {
        "resourceType": "CarePlan",
        "id": "onc-plan-1",
        "status": "active",
        "intent": "plan",
        "category": [
            {"coding": [{"system": "http://snomed.info/sct", "code": "395082007", "display": "Cancer care plan"}]}
        ],
        "title": "Chemotherapy",
        "subject": {"reference": "Patient/walter-brooks"},
    }
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(other,))
    data = {
        "csrf_token": _token(page),
        "decision": "taper",
        "reasons": "More harm than benefit",
        "follow_up": "2026-07-14",
        "resource_id": "onc-plan-1",
    }
    answer = _post(client, handle, "decision", data)
    assert answer.status_code == 404 and _writes(rsps) == []
    assert "the plan to update is not one of this patient's plans in the EHR" in _text(answer)


def test_when_the_goal_search_failed_an_update_is_not_sent(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(copy.deepcopy(EPIC_GOAL),))
    chart.failing_reads.add("Goal")
    answer = _post(client, handle, "goal", _goal_form(page, due="2026-09-01"))
    assert answer.status_code == 502 and _writes(rsps) == []
    assert "the patient's goals could not be read from the EHR just now" in _text(answer)


def _pain_plan(settings: Any) -> dict[str, Any]:
    """A decision plan an earlier visit saved ("continue"), since added to in the EHR: a referral, a progress
    note on the follow-up visit, an identifier."""
    config = settings.guideline
    return {
        "resourceType": "CarePlan",
        "id": PLAN_ID,
        "meta": {"versionId": "2", "lastUpdated": "2026-03-02T09:00:00Z"},
        "identifier": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698084", "value": "55120"}],
        "status": "active",
        "intent": "plan",
        "category": [
            {
                "coding": [
                    {"system": "http://loinc.org", "code": "80764-4", "display": "Pain medicine Plan of care note"}
                ]
            },
            {"coding": [care_plan_category(config)]},
            {"coding": [{"system": decision_system(config), "code": "continue"}], "text": "Continue"},
        ],
        "title": "Pain treatment plan: continue",
        "description": "Decision: continue. Reasons: function improving",
        "subject": {"reference": "Patient/walter-brooks"},
        "period": {"start": "2026-03-01"},
        "created": "2026-03-01T10:00:00-05:00",
        "author": EPIC_USER,
        "activity": [
            {
                "progress": [{"time": "2026-04-01T10:00:00-04:00", "text": "Patient rescheduled once"}],
                "detail": {
                    "kind": "Appointment",
                    "code": {"text": "Follow-up visit"},
                    "status": "scheduled",
                    "scheduledString": "2026-04-01",
                    "description": "Follow-up visit: reassess pain, function, goals and harms",
                },
            },
            {"reference": {"reference": "ServiceRequest/pt-referral-7", "display": "Physical therapy referral"}},
        ],
    }


def test_updating_a_plan_records_the_new_decision_and_keeps_the_rest(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    plan = _pain_plan(client.application.config["PAINPLAN"])
    chart.resources[("CarePlan", PLAN_ID)] = plan
    page = client.get(f"/plan?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True)
    assert f'name="{VERSION_FIELD}{PLAN_ID}" value="2"' in page
    hidden = dict(re.findall(rf'<input type="hidden" name="({re.escape(VERSION_FIELD)}[^"]+)" value="([^"]*)"', page))
    data = {
        "csrf_token": _token(page),
        "decision": "taper",
        "reasons": "More harm than benefit",
        "follow_up": "2026-07-14",
        "naloxone": "on",
        "resource_id": PLAN_ID,
        **hidden,
    }
    answer = _post(client, handle, "decision", data)
    assert answer.status_code == 303 and chart.if_match == ['W/"2"']
    sent = chart.received[0][2]
    for kept in ("identifier", "created", "period", "author", "subject", "intent"):
        assert sent[kept] == plan[kept], kept
    decisions = [c["coding"][0]["code"] for c in sent["category"]]
    assert decisions == ["80764-4", "opioid-treatment-decision", "taper"]
    assert sent["title"] == "Pain treatment plan: taper" and "More harm than benefit" in sent["description"]
    follow_up, referral, naloxone = sent["activity"]
    assert follow_up["progress"] == plan["activity"][0]["progress"]
    assert follow_up["detail"]["scheduledString"] == "2026-07-14"
    assert referral == plan["activity"][1]
    assert naloxone["detail"]["code"]["text"] == "Naloxone rescue kit"
    assert sent["contributor"] == [{"reference": "Practitioner/prac-9"}]
    shown = client.get(answer.headers["Location"], base_url=PUBLIC_URL).get_data(as_text=True)
    assert "Saved the decision and plan as CarePlan/" + PLAN_ID in shown


@pytest.mark.parametrize(
    "version",
    [
        None,  # the hidden field lost (an old page, a form copied by hand, a proxy dropping fields)
        "",
        '3" or W/"*',  # not a FHIR version token: never put into If-Match
        "../4",
    ],
)
def test_an_update_without_the_version_the_page_showed_is_refused_not_sent(tmp_path, rsps, version) -> None:
    """Without the version the page showed, the version read now would make If-Match always match: a change made in
    the EHR meanwhile would be overwritten without a word. Nothing is sent; the clinician is told to reload."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(copy.deepcopy(EPIC_GOAL),))
    data = _goal_form(page, measure="walks there and back without stopping")
    data.pop(f"{VERSION_FIELD}{GOAL_ID}")
    if version is not None:
        data[f"{VERSION_FIELD}{GOAL_ID}"] = version
    changed = chart.resources[("Goal", GOAL_ID)]
    changed["meta"] = {"versionId": "4"}  # a nurse edits the goal in Epic meanwhile
    changed["description"] = {"text": "Walk to the mailbox and back, with a cane"}
    answer = _post(client, handle, "goal", data)
    text = _text(answer)
    assert answer.status_code == 409
    assert chart.received == [] and _writes(rsps) == []  # no PUT reached the EHR
    assert "Not saved: the goal — PainPlan could not check whether this goal was changed in the EHR" in text
    assert "What you typed is still in the form below." in text
    assert 'value="walks there and back without stopping"' in text
    assert "with a cane" in text  # the goal as it is now
    again = _post(client, handle, "goal", _goal_form(text, measure="walks there and back without stopping"))
    assert again.status_code == 303 and chart.if_match == ['W/"4"']


def test_the_version_field_the_form_renders_is_the_one_the_save_reads(tmp_path, rsps) -> None:
    """One definition of the hidden field's name: a page writing one name and a save reading another would lose
    the version on every update (and every update would then be refused)."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(copy.deepcopy(EPIC_GOAL),))
    names = re.findall(r'<input type="hidden" name="([^"]+)" value="3"', page)
    assert names == [f"{VERSION_FIELD}{GOAL_ID}"]


def test_an_update_the_ehr_answers_with_204_no_content_is_saved(tmp_path, rsps) -> None:
    """A server honouring Prefer: return=minimal answers a stored update with 204 and no body. Called "not saved",
    the clinician saved again with the version the page showed, and the EHR refused it as a conflict."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(copy.deepcopy(EPIC_GOAL),))
    chart.answer_status = 204
    answer = _post(client, handle, "goal", _goal_form(page, due="2026-09-01"))
    assert answer.status_code == 303 and chart.resources[("Goal", GOAL_ID)]["meta"]["versionId"] == "4"
    shown = _text(client.get(answer.headers["Location"], base_url=PUBLIC_URL))
    assert f"Saved the goal as Goal/{GOAL_ID}." in shown and "Not saved" not in shown


# -- the goal search answered in pages: a list cut off at the page limit is never taken for all the goals ----------


def _other_goal(ident: str, text: str) -> dict[str, Any]:
    """Another of the patient's goals as Epic lists it, set before the one to update."""
    return {
        "resourceType": "Goal",
        "id": ident,
        "meta": {"versionId": "1"},
        "lifecycleStatus": "active",
        "category": [{"text": "Function goal"}],
        "description": {"text": text},
        "subject": {"reference": "Patient/walter-brooks"},
        "startDate": "2025-11-02",
    }


OTHER_GOALS = (_other_goal("eGl7.a1", "Sleep through the night"), _other_goal("eGl7.b2", "Return to part-time work"))
# One goal a page, two pages read: the third goal (the one to update) is on a page the page limit left unread.
PAGED = {"page_size": {"Goal": 1}, "guideline": {"prefetch": {"page_cap": 2}}}


def test_a_goal_on_a_page_not_read_is_refused_as_not_read_not_as_someone_else_s(tmp_path, rsps) -> None:
    goals = (*copy.deepcopy(OTHER_GOALS), copy.deepcopy(EPIC_GOAL))
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=goals, **PAGED)
    searches = [c.request.url for c in rsps.calls if "/Goal?" in c.request.url]
    assert len(searches) == 2 and "_getpagesoffset=1" in searches[1]  # the next link was followed, to the limit
    assert f'data-ref="Goal/{GOAL_ID}"' not in page
    answer = _post(client, handle, "goal", _goal_form(page, due="2026-09-01"))
    text = _text(answer)
    assert answer.status_code == 502 and _writes(rsps) == []
    assert "not all of the patient's goals could be read from the EHR" in text
    assert "not one of this patient's goals" not in text


def test_a_goal_among_those_read_is_updated_though_more_are_on_later_pages(tmp_path, rsps) -> None:
    # The goal to update was read whole: that it is this patient's and its version are known, whatever is unread.
    goals = (copy.deepcopy(EPIC_GOAL), *copy.deepcopy(OTHER_GOALS))
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=goals, **PAGED)
    answer = _post(client, handle, "goal", _goal_form(page, due="2026-09-01"))
    assert answer.status_code == 303
    assert [(m, path) for m, path, _ in chart.received] == [("PUT", f"Goal/{GOAL_ID}")] and chart.if_match == ['W/"3"']


def test_the_records_on_file_say_when_not_every_goal_was_read(tmp_path, rsps) -> None:
    goals = (*copy.deepcopy(OTHER_GOALS), copy.deepcopy(EPIC_GOAL))
    _, _, _, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=goals, **PAGED)
    on_file = _text_of(page, "write-on-record")
    assert "more goals may be on record: Goals could not be read in full (cut off at the page limit)" in on_file


def test_the_records_on_file_never_say_none_of_a_search_that_failed(tmp_path, rsps) -> None:
    client, chart, handle, _, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.failing_reads.add("Goal")
    page = client.get(f"/plan?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True)
    on_file = _text_of(page, "write-on-record")
    assert "Goals: none on record" not in on_file
    assert "Goals: not known: Goals could not be read" in on_file


def _text_of(page: str, element_id: str) -> str:
    """The text of one element of the page, tags dropped and spaces collapsed."""
    block = page.split(f'id="{element_id}"', 1)[1].split("</div>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", block)).split())


def test_a_goal_the_ehr_refuses_as_changed_is_shown_as_it_is_now_and_can_be_saved_over_it(tmp_path, rsps) -> None:
    """The goal was changed in Epic between the page's check and the PUT: the EHR answers 412. The answer says the
    goal below is as it is now, so it must have been read again (with its new version in the form), not the goal as
    read before the save, whose version would make every later save a conflict again."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, extra=(copy.deepcopy(EPIC_GOAL),))

    def nurse_edits() -> None:
        goal = chart.resources[("Goal", GOAL_ID)]
        goal["meta"] = {"versionId": "4"}
        goal["description"] = {"text": "Walk to the mailbox and back, with a cane"}
        chart.before_write = None

    chart.before_write = nurse_edits
    answer = _post(client, handle, "goal", _goal_form(page, due="2026-09-01"))
    text = _text(answer)
    assert answer.status_code == 409 and chart.if_match == ['W/"3"']  # sent once, refused by the EHR
    assert chart.resources[("Goal", GOAL_ID)]["meta"] == {"versionId": "4"}
    assert "someone changed this goal in the EHR after this page was opened, so it was not overwritten" in text
    assert "with a cane" in text and f'name="{VERSION_FIELD}{GOAL_ID}" value="4"' in text
    assert 'value="2026-09-01"' in text
    again = _post(client, handle, "goal", _goal_form(text, due="2026-09-01"))
    assert again.status_code == 303 and chart.if_match[-1] == 'W/"4"'
