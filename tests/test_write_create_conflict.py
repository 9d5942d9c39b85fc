"""A new record the EHR refuses with 409 or 412 is not saved, says so, and keeps what was typed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from launch_support import ISS, PUBLIC_URL
from test_write_back import PEG, WRITE_SCOPE, _launch, _token


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.mark.parametrize("status", [409, 412])
def test_a_new_peg_score_refused_with_a_conflict_status_keeps_what_was_typed(tmp_path, rsps, status) -> None:
    """409 and 412 mean "changed since read" only for an update. Answered to the create of a PEG score (a server's
    conditional-create or gateway rule), the save crashed with HTTP 500 (no "changed" words for an Observation) and
    the three scores typed were lost."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, fail=status)
    typed = {**PEG, "pain": "8", "enjoyment": "6", "activity": "7", "date": "2026-06-14"}
    answer = client.post(f"/plan/write/peg?s={handle}", data={**typed, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 502
    assert "Not saved: the PEG score" in text and f"HTTP {status}" in text
    assert "What you typed is still in the form below." in text
    assert all(f'value="{value}"' in text for value in typed.values())
    assert [method for method, _, _ in chart.received] == ["POST"]


def test_a_new_goal_refused_with_409_is_not_called_changed_by_someone_else(tmp_path, rsps) -> None:
    """A goal being created cannot have been changed in the EHR since the page was opened."""
    client, _, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, fail=409)
    data = {"csrf_token": _token(page), "goal_kind": "function", "description": "Walk to the park"}
    text = client.post(f"/plan/write/goal?s={handle}", data=data, base_url=PUBLIC_URL).get_data(as_text=True)
    assert "Not saved: the goal" in text and "HTTP 409" in text
    assert "someone changed this goal" not in text
    assert 'value="Walk to the park"' in text


@pytest.mark.parametrize("status", [409, 412])
def test_a_new_goal_refused_with_a_conflict_status_is_not_read_again(tmp_path, rsps, status) -> None:
    """Only an update refused as changed is read again (to show the record as it is now, with its new version). A
    create refused with 409 or 412 changed nothing anyone read: the chart read for this save is the one shown, and
    reading it all again only kept the clinician waiting."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, fail=status)
    data = {"csrf_token": _token(page), "goal_kind": "function", "description": "Walk to the park"}
    answer = client.post(f"/plan/write/goal?s={handle}", data=data, base_url=PUBLIC_URL)
    chart_reads = [(c.request.method, c.request.url.startswith(ISS)) for c in rsps.calls]
    written = chart_reads.index(("POST", True))
    assert answer.status_code == 502 and f"HTTP {status}" in answer.get_data(as_text=True)
    assert ("GET", True) in chart_reads[:written]  # the chart was read for the save
    assert ("GET", True) not in chart_reads[written:]  # and not again after the EHR's answer
