"""A form is sent to the EHR at most once: a double click, a reload of the answer page or the browser's "resubmit"
never writes the record a second time; a form the page shows afresh can be saved again on purpose."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
import responses
from launch_support import PUBLIC_URL
from test_write_back import PEG, WRITE_SCOPE, _launch, _read_timeout, _token

from smart_app.write import csrf


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_each_page_gets_its_own_form_token_and_only_its_launch_accepts_it() -> None:
    first, second = csrf.new_token("key-1", "handle-a"), csrf.new_token("key-1", "handle-a")
    assert first != second
    assert csrf.token_ok("key-1", "handle-a", first) and csrf.token_ok("key-1", "handle-a", second)
    assert not csrf.token_ok("key-1", "handle-b", first)
    assert not csrf.token_ok("key-2", "handle-a", first)
    assert not csrf.token_ok("key-1", "handle-a", "0" * len(first))
    assert not csrf.token_ok("key-1", "handle-a", first[:-1] + ("0" if first[-1] != "0" else "1"))
    assert not csrf.token_ok("key-1", "handle-a", "")


def test_a_saved_form_sent_again_is_not_written_twice(tmp_path, rsps) -> None:
    """The save went through; the browser sends the same form again (a double click, Back then Resubmit)."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    data = {**PEG, "csrf_token": _token(page)}
    first = client.post(f"/plan/write/peg?s={handle}", data=data, base_url=PUBLIC_URL)
    assert first.status_code == 303
    again = client.post(f"/plan/write/peg?s={handle}", data=data, base_url=PUBLIC_URL)
    text = html.unescape(again.get_data(as_text=True))
    assert len(chart.written("Observation")) == 1
    assert again.status_code == 409
    assert "Not sent again: the PEG score — this form was already sent to the EHR" in text
    assert "Not saved" not in text and "Saved the PEG score" not in text
    assert 'value="6"' in text  # what was typed is still there, in a form the clinician can send on purpose


def test_reloading_the_answer_to_an_unconfirmed_write_does_not_send_it_again(tmp_path, rsps) -> None:
    """The EHR stored the goal but its answer was lost; the clinician reloads the answer page (the browser resends
    the POST): the goal must not reach the chart a second time."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.answer_lost = _read_timeout()
    data = {"csrf_token": _token(page), "goal_kind": "pain", "description": "Pain at 4 or less"}
    first = client.post(f"/plan/write/goal?s={handle}", data=data, base_url=PUBLIC_URL)
    assert "May not have been saved" in html.unescape(first.get_data(as_text=True))
    chart.answer_lost = None
    reloaded = client.post(f"/plan/write/goal?s={handle}", data=data, base_url=PUBLIC_URL)
    assert len(chart.written("Goal")) == 1
    assert reloaded.status_code == 409
    assert "Not sent again: the goal" in html.unescape(reloaded.get_data(as_text=True))


def test_a_form_not_sent_can_be_sent_and_the_page_shown_after_a_failure_can_save_on_purpose(tmp_path, rsps) -> None:
    """Only a send uses up the form: a correction re-sends the same form, and the page shown after a failed save
    carries a fresh form that the clinician can press again."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    token = _token(page)
    wrong = client.post(
        f"/plan/write/peg?s={handle}", data={**PEG, "pain": "12", "csrf_token": token}, base_url=PUBLIC_URL
    )
    assert wrong.status_code == 422 and chart.received == []
    chart.fail_status = 503
    failed = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": token}, base_url=PUBLIC_URL)
    assert failed.status_code == 502 and len(chart.received) == 1
    chart.fail_status = None
    fresh = _token(failed.get_data(as_text=True))
    assert fresh != token
    saved = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": fresh}, base_url=PUBLIC_URL)
    assert saved.status_code == 303 and len(chart.written("Observation")) == 2


@pytest.mark.parametrize("unreachable", ["refused", "connect timeout"])
def test_reloading_after_a_send_that_never_reached_the_ehr_says_so_and_still_does_not_send(
    tmp_path, rsps, unreachable
) -> None:
    """The EHR refused the connection (or never accepted it in time): nothing reached it. A reload must not claim the
    form 'was already sent to the EHR', nor send it on its own; the fresh form under the answer can be saved."""
    from test_write_back import _connect_timeout, _refused

    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.unreachable = _refused() if unreachable == "refused" else _connect_timeout()
    data = {**PEG, "csrf_token": _token(page)}
    first = client.post(f"/plan/write/peg?s={handle}", data=data, base_url=PUBLIC_URL)
    assert first.status_code == 502 and chart.received == []
    chart.unreachable = None
    reloaded = client.post(f"/plan/write/peg?s={handle}", data=data, base_url=PUBLIC_URL)
    text = html.unescape(reloaded.get_data(as_text=True))
    assert chart.received == [] and reloaded.status_code == 409
    assert "already sent" not in text
    assert (
        "Not sent again: the PEG score — the earlier attempt to save this form did not reach the EHR (no connection "
        "to it could be made), so nothing was saved. It is not sent again on its own: check what you typed in the "
        "form below and press Save to send it."
    ) in text
    fresh = _token(text)
    saved = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": fresh}, base_url=PUBLIC_URL)
    assert saved.status_code == 303 and len(chart.written("Observation")) == 1
