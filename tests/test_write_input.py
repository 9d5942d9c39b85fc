"""Form input PainPlan cannot read is sent back to correct, never a crash that loses what was typed; characters
FHIR strings cannot hold are never sent to the EHR."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
import responses
from launch_support import PUBLIC_URL
from test_write_back import CONTEXT, PEG, WRITE_SCOPE, _launch, _token

from smart_app.write.forms import goal, peg


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.mark.parametrize("typed", ["²", "¹0", "5½", "1e1"])
def test_a_score_typed_with_other_digits_is_sent_back_not_a_crash(typed) -> None:
    """'²' is a digit to str.isdigit but not to int(): the save crashed (HTTP 500) and the typing was lost."""
    built = peg({**PEG, "pain": typed}, CONTEXT)
    assert built.resource is None and built.errors["pain"] == "A whole number from 0 to 10."
    built = goal({"goal_kind": "pain", "description": "Pain at 4", "peg_target": typed}, CONTEXT)
    assert built.resource is None and "peg_target" in built.errors


def test_the_page_sends_back_a_score_it_cannot_read(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    data = {**PEG, "pain": "²", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/peg?s={handle}", data=data, base_url=PUBLIC_URL)
    assert answer.status_code == 422 and chart.received == []
    assert "A whole number from 0 to 10." in html.unescape(answer.get_data(as_text=True))


def test_digits_of_other_scripts_are_read_as_their_numbers() -> None:
    built = peg({**PEG, "pain": "６"}, CONTEXT)  # a full-width 6, as a Japanese input method types it
    assert built.resource is not None and built.resource["component"][0]["valueQuantity"]["value"] == 6


def test_control_characters_are_never_sent_to_the_ehr() -> None:
    """FHIR strings hold no character below U+0020 other than tab, CR and LF: an EHR refuses the record, or stores
    what its other readers cannot show. A pasted text carrying them keeps its words."""
    built = goal({"goal_kind": "pain", "description": "Pain\x00 at 4\x07 or less\x1b", "measure": "a\tb\r\nc"}, CONTEXT)
    assert built.resource is not None
    assert built.resource["description"]["text"] == "Pain at 4 or less"
    assert built.resource["note"][0]["text"].endswith("a\tb\r\nc")


GOAL = {"goal_kind": "function", "description": "Walk to the mailbox and back"}
DECISION = {"decision": "continue", "reasons": "Function improving at the same dose"}


@pytest.mark.parametrize(
    ("values", "field", "error"),
    [
        ({**GOAL, "due": "9999-12-31"}, "due", "The due date is more than 5 years away; check the year."),
        ({**GOAL, "due": "2031-06-16"}, "due", "The due date is more than 5 years away; check the year."),
        ({**GOAL, "due": "2025-09-01"}, "due", "A new goal's due date is in the past; check the year."),
        ({**DECISION, "follow_up": "2062-06-15"}, "follow_up", "The follow-up date is more than a year away; check "),
        ({**DECISION, "follow_up": "2027-06-16"}, "follow_up", "The follow-up date is more than a year away; check "),
    ],
)
def test_dates_far_from_today_are_sent_back_to_check_not_written_as_typed(values, field, error) -> None:
    """Today is 2026-06-15: a goal due in 9999 or a follow-up in 2062 is a mistyped year, not a plan."""
    from smart_app.write.forms import decision

    built = (goal if "goal_kind" in values else decision)(values, CONTEXT)
    assert built.resource is None and built.errors[field].startswith(error)


@pytest.mark.parametrize(
    "values",
    [
        {**GOAL, "due": "2031-06-15"},
        {**GOAL, "due": "2026-06-15"},
        {**GOAL, "due": "2025-09-01", "resource_id": "goal-7"},  # an existing goal keeps a due date that passed
        {**GOAL, "due": "2025-09-01", "status": "completed"},
        {**DECISION, "follow_up": "2027-06-15"},
        {**DECISION, "follow_up": "2026-06-15"},
    ],
)
def test_dates_within_the_bounds_are_written(values) -> None:
    from smart_app.write.forms import decision

    built = (goal if "goal_kind" in values else decision)(values, CONTEXT)
    assert built.errors == {} and built.resource is not None


def test_the_page_sends_back_a_follow_up_decades_away_with_what_was_typed(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    data = {**DECISION, "follow_up": "2062-06-15", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/decision?s={handle}", data=data, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422 and chart.received == []
    assert "The follow-up date is more than a year away; check the year." in text
    assert 'value="2062-06-15"' in text and "Function improving at the same dose" in text
