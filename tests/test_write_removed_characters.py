"""What a clinician typed is saved as typed wherever FHIR allows it (tab, CR and LF are kept), and when characters a
FHIR string cannot hold had to be removed (pasted text carries them unseen), the save's result says so: the text is
never changed without a word."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from launch_support import PUBLIC_URL
from test_write_back import CONTEXT, WRITE_SCOPE, _launch, _read_timeout, _token

from smart_app.write.forms import FORMS, TEXT_FIELDS


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _saved_line(client: Any, answer: Any, form_key: str) -> str:
    """The saved line of the page the save redirected to, as the clinician reads it, with its notice class."""
    assert answer.status_code == 303
    page = html.unescape(client.get(answer.headers["Location"], base_url=PUBLIC_URL).get_data(as_text=True))
    start = page.index(f'id="write-{form_key}-result"')
    return page[page.rindex("<p", 0, start) : page.index("</p>", start)]


def test_a_goal_whose_text_carried_control_characters_says_how_many_were_removed(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    typed = {
        "goal_kind": "function",
        "description": "Walk to the mailbox\x0b and back\x00",  # a Word line break and a NUL, pasted unseen
        "measure": "walks there\tand back\r\nwithout stopping",
        "csrf_token": _token(page),
    }
    answer = client.post(f"/plan/write/goal?s={handle}", data=typed, base_url=PUBLIC_URL)
    sent = chart.written("Goal")[0]
    # The Word line break is kept as a line break (a break between words, not a character to drop); the NUL goes.
    assert sent["description"]["text"] == "Walk to the mailbox\n and back"
    assert sent["note"][0]["text"] == "How we will know: walks there\tand back\r\nwithout stopping"  # kept as typed
    line = _saved_line(client, answer, "goal")
    assert "notice-warning" in line
    assert line.endswith(
        "Saved the goal as Goal/ehr-1. 1 character that cannot be stored was removed from the goal text "
        "(invisible control characters, which pasted text can carry)."
    )


def test_text_with_only_tabs_and_line_breaks_is_saved_as_typed_without_a_word_more(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    reasons = "Function improving:\r\n\t- walks daily\r\n\t- back at work"
    typed = {"decision": "continue", "reasons": reasons, "follow_up": "2026-09-15", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/decision?s={handle}", data=typed, base_url=PUBLIC_URL)
    assert chart.written("CarePlan")[0]["description"].endswith(f"Reasons: {reasons}")
    line = _saved_line(client, answer, "decision")
    assert "notice-ok" in line and "removed" not in line


def test_characters_removed_from_several_fields_are_counted_for_each(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    typed = {
        "goal_kind": "pain",
        "description": "Pain at 4\x1b or less",
        "measure": "\x07PEG at 4\x07 or\x07 less",
        "csrf_token": _token(page),
    }
    answer = client.post(f"/plan/write/goal?s={handle}", data=typed, base_url=PUBLIC_URL)
    assert chart.written("Goal")[0]["description"]["text"] == "Pain at 4 or less"
    assert _saved_line(client, answer, "goal").endswith(
        "4 characters that cannot be stored were removed: 1 from the goal text and 3 from “How we will know” "
        "(invisible control characters, which pasted text can carry)."
    )


def test_a_note_s_attachment_says_what_was_removed_too(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    typed = {"note_text": "Plan reviewed.\x1b\r\nNext visit in 3 months.", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/note?s={handle}", data=typed, base_url=PUBLIC_URL)
    attachment = chart.written("DocumentReference")[0]["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]).decode() == "Plan reviewed.\r\nNext visit in 3 months."
    assert _saved_line(client, answer, "note").endswith(
        "1 character that cannot be stored was removed from the note (invisible control characters, which pasted "
        "text can carry)."
    )


def test_a_save_that_may_have_been_stored_says_what_was_removed(tmp_path, rsps) -> None:
    """The EHR may hold the goal without the removed characters, while the form still shows them as typed."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.answer_lost = _read_timeout()
    typed = {"goal_kind": "pain", "description": "Pain at 4 or less\x00", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/goal?s={handle}", data=typed, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 502 and chart.written("Goal")[0]["description"]["text"] == "Pain at 4 or less"
    assert (
        "what you typed is still in the form below. 1 character that cannot be stored was removed from the goal "
        "text (invisible control characters, which pasted text can carry)." in text
    )


def test_a_save_the_ehr_refused_says_nothing_of_removed_characters(tmp_path, rsps) -> None:
    """Nothing was stored, and the form still holds the text as typed: the line is about the refusal only."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, fail=422)
    typed = {"goal_kind": "pain", "description": "Pain at 4 or less\x00", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/goal?s={handle}", data=typed, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 502 and "Not saved: the goal" in text and "cannot be stored" not in text


def test_a_link_cannot_make_up_removed_characters(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    typed = {"goal_kind": "pain", "description": "Pain at 4 or less", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/goal?s={handle}", data=typed, base_url=PUBLIC_URL)
    assert "cannot be stored" not in _saved_line(client, answer, "goal")
    forged = answer.headers["Location"].replace(
        "saved=goal", "saved=goal&removed=description%3A2&removed_sig=" + "0" * 64
    )
    shown = html.unescape(client.get(forged, base_url=PUBLIC_URL).get_data(as_text=True))
    assert "Saved the goal as Goal/ehr-1." in shown and "cannot be stored" not in shown


VALID = {
    "goal": {"goal_kind": "pain", "description": "Pain at 4", "measure": "PEG at 4"},
    "agreement": {"date": "2026-06-14", "note": "Risks discussed"},
    "consent": {"date": "2026-06-14", "note": "Risks discussed"},
    "decision": {"decision": "continue", "reasons": "Goals met", "follow_up": "2026-09-15"},
    "note": {"note_text": "Plan reviewed."},
}


@pytest.mark.parametrize(("form_key", "name"), [(k, n) for k, fields in TEXT_FIELDS.items() for n in fields])
def test_every_text_field_counts_what_it_removes(form_key, name) -> None:
    """Each form's text fields are the ones whose removals the save reports: none is cleaned without a count."""
    values = {**VALID[form_key], name: VALID[form_key][name] + "\x01\x02"}
    built = FORMS[form_key][0](values, CONTEXT)
    assert built.resource is not None and "\x01" not in str(built.resource)
    assert built.removed == {name: 2}
    assert FORMS[form_key][0](VALID[form_key], CONTEXT).removed == {}


# Whitespace around the text: what shows nothing is trimmed without a word, the layout typed is kept.


def test_blank_lines_and_spaces_around_a_goal_are_trimmed_and_nothing_is_said(tmp_path, rsps) -> None:
    """Nothing a reader sees changes, so the save's line says nothing of it (the rule: a visible change is said)."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    typed = {
        "goal_kind": "function",
        "description": "\r\n  Walk to the mailbox and back  \r\n\r\n",
        "measure": " walks there without stopping\t",
        "csrf_token": _token(page),
    }
    answer = client.post(f"/plan/write/goal?s={handle}", data=typed, base_url=PUBLIC_URL)
    sent = chart.written("Goal")[0]
    assert sent["description"]["text"] == "Walk to the mailbox and back"
    assert sent["note"][0]["text"] == "How we will know: walks there without stopping"
    line = _saved_line(client, answer, "goal")
    assert "notice-ok" in line and "removed" not in line


def test_a_note_keeps_the_indentation_of_its_first_line(tmp_path, rsps) -> None:
    """An indented list keeps its first item lined up with the rest: only the blank lines around it go."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    typed = {"note_text": "\r\n  - PEG down to 4\r\n  - back at work\r\n\r\n", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/note?s={handle}", data=typed, base_url=PUBLIC_URL)
    attachment = chart.written("DocumentReference")[0]["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]).decode() == "  - PEG down to 4\r\n  - back at work"
    line = _saved_line(client, answer, "note")
    assert "notice-ok" in line and "removed" not in line


def test_decision_reasons_keep_their_first_line_s_indentation() -> None:
    values = {**VALID["decision"], "reasons": "\n\t- walks daily\n\t- back at work\n"}
    built = FORMS["decision"][0](values, CONTEXT)
    assert built.resource is not None and built.resource["description"].endswith(
        "Reasons: \t- walks daily\n\t- back at work"
    )
    assert built.removed == {}


@pytest.mark.parametrize(
    ("form_key", "name"), [("goal", "description"), ("decision", "reasons"), ("note", "note_text")]
)
def test_a_required_text_of_whitespace_only_is_still_missing(form_key, name) -> None:
    built = FORMS[form_key][0]({**VALID[form_key], name: " \r\n\t\r\n "}, CONTEXT)
    assert built.resource is None and name in built.errors
