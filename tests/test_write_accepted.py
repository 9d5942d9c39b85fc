"""202 Accepted: the EHR's status address is asked, for a bounded time, whether the write was stored; the write
itself is never sent again, the token never goes to another server, and a write still not confirmed says so."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Iterator

import pytest
import requests
import responses
from launch_support import ISS, PUBLIC_URL
from test_write_back import CONTEXT, PEG, WRITE_SCOPE, _launch, _read_timeout, _token

from smart_app.write import send as send_module
from smart_app.write.forms import peg
from smart_app.write.send import send

STATUS_URL = f"{ISS}/_async/8d1f"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class _RecordedClock:
    """The `time` module as send() sees it, with its sleeps recorded instead of slept."""

    def __init__(self, waits: list[float]) -> None:
        self.sleep = waits.append

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)


@pytest.fixture(autouse=True)
def slept(monkeypatch) -> list[float]:
    """The waits send() would have slept, recorded instead of slept. Only send()'s own clock is replaced: patching
    time.sleep itself turned every other thread's sleep loop still alive in the suite (a server's, a Spark
    session's) into a busy loop filling this list, and the suite stalled with its memory growing by gigabytes."""
    waits: list[float] = []
    monkeypatch.setattr(send_module, "time", _RecordedClock(waits))
    return waits


def _accepted(rsps: responses.RequestsMock, status_url: str = STATUS_URL) -> None:
    rsps.add(responses.POST, f"{ISS}/Observation", body="", status=202, headers={"Content-Location": status_url})


def _post() -> send_module.WriteResult:
    return send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 5)


def _calls(rsps: responses.RequestsMock, method: str) -> list[responses.Call]:
    return [call for call in rsps.calls if call.request.method == method]


def test_a_202_whose_status_address_then_returns_the_record_is_saved(rsps) -> None:
    _accepted(rsps)
    rsps.add(responses.GET, STATUS_URL, status=202, headers={"Retry-After": "1"})
    stored = {**peg(PEG, CONTEXT).resource, "id": "obs-9", "meta": {"versionId": "1"}}
    rsps.add(responses.GET, STATUS_URL, json=stored, status=200)
    result = _post()
    assert result.ok and not result.unconfirmed and result.reference == "Observation/obs-9"
    assert len(_calls(rsps, "POST")) == 1
    polls = _calls(rsps, "GET")
    assert len(polls) == 2 and polls[0].request.headers["Authorization"] == "Bearer AT-1"


@pytest.mark.parametrize(
    ("entry_status", "location", "ok"),
    [("201 Created", "Observation/obs-9/_history/1", True), ("422 Unprocessable Entity", None, False)],
)
def test_a_202_answered_later_by_a_batch_response_takes_its_outcome(rsps, entry_status, location, ok) -> None:
    """The asynchronous request pattern ends with a batch-response Bundle: its entry says what became of the write."""
    _accepted(rsps)
    response = {"status": entry_status, **({"location": location} if location else {})}
    if not ok:
        response["outcome"] = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "invalid", "diagnostics": "Observation.effective is required"}],
        }
    bundle = {"resourceType": "Bundle", "type": "batch-response", "entry": [{"response": response}]}
    rsps.add(responses.GET, STATUS_URL, body=json.dumps(bundle), status=200)
    result = _post()
    assert result.ok is ok and not result.unconfirmed
    if ok:
        assert result.reference == "Observation/obs-9"
    else:
        assert "did not accept the content: Observation.effective is required" in result.message
    assert len(_calls(rsps, "POST")) == 1


def test_a_202_still_in_progress_is_sent_not_yet_confirmed_and_never_sent_again(rsps) -> None:
    _accepted(rsps)
    rsps.add(responses.GET, STATUS_URL, status=202)
    result = _post()
    assert not result.ok and result.unconfirmed and result.status == 202
    assert result.message == (
        "the record was sent and the EHR accepted it for processing, but had not confirmed it was saved when "
        "PainPlan last asked"
    )
    assert len(_calls(rsps, "POST")) == 1
    assert len(_calls(rsps, "GET")) == len(send_module.POLL_WAITS)


@pytest.mark.parametrize(
    "status_url",
    [
        "https://status.elsewhere.example/_async/8d1f",
        "http://ehr.example.org/fhir/r4/_async/8d1f",
        "https://ehr.example.org/fhir/r4@status.elsewhere.example/_async",
        "https://ehr.example.org/fhir/r4/../../login",
    ],
)
def test_the_token_never_goes_to_a_status_address_outside_the_fhir_server(rsps, status_url) -> None:
    _accepted(rsps, status_url)
    rsps.add(responses.GET, status_url, status=200, json={"resourceType": "Observation", "id": "x"})
    result = _post()
    assert not result.ok and result.unconfirmed
    assert _calls(rsps, "GET") == []


def test_a_status_address_that_fails_leaves_the_write_unconfirmed_not_unsaved(rsps) -> None:
    """A 404 or 500 from the status address says nothing about the write itself (the job may have expired)."""
    _accepted(rsps)
    rsps.add(responses.GET, STATUS_URL, status=404)
    result = _post()
    assert not result.ok and result.unconfirmed


def test_after_a_write_the_ehr_may_have_stored_the_records_on_file_are_read_again(tmp_path, rsps) -> None:
    """The goal reached the chart but the answer was lost: the list on the page must show it, not the list read
    before the save (which has the clinician save it again)."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.answer_lost = _read_timeout()
    data = {"csrf_token": _token(page), "goal_kind": "pain", "description": "Pain at 4 or less by autumn"}
    answer = client.post(f"/plan/write/goal?s={handle}", data=data, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 502 and "May not have been saved: the goal" in text
    on_record = text.split('id="write-on-record"')[1].split("</div>")[0]
    assert "Pain at 4 or less by autumn" in on_record
    assert "the records listed on this page were read again after this save" in text


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", "<html><body><form action='/login'>Your session has ended. Sign in</form></body></html>"),
        ("application/json", '{"status": "ok"}'),
    ],
)
def test_a_2xx_whose_body_is_not_a_fhir_answer_is_not_called_saved(rsps, content_type, body) -> None:
    """A gateway in front of the EHR whose session ended answers 200 with its sign-in page (or its own JSON) instead
    of redirecting: nothing says the EHR stored the record, and nothing says it did not."""
    rsps.add(responses.POST, f"{ISS}/Observation", body=body, status=200, content_type=content_type)
    result = _post()
    assert not result.ok and result.unconfirmed and result.status == 200
    assert result.message == (
        f"the EHR answered with something that is not a FHIR answer ({content_type}), so whether it was saved is not "
        "known"
    )
    assert len(_calls(rsps, "POST")) == 1


def test_a_batch_response_status_that_is_not_a_number_leaves_the_write_unconfirmed(rsps) -> None:
    """send() never raises: a status such as '²01' is a digit to str.isdigit that int() cannot read."""
    _accepted(rsps)
    bundle = {"resourceType": "Bundle", "type": "batch-response", "entry": [{"response": {"status": "²01 Created"}}]}
    rsps.add(responses.GET, STATUS_URL, body=json.dumps(bundle), status=200)
    result = _post()
    assert not result.ok and result.unconfirmed


def test_each_question_to_the_status_address_waits_a_few_seconds_at_most(rsps) -> None:
    """The clinician waits for the follow-up: a slow status address must not hold the page for the write's timeout
    at every question."""
    _accepted(rsps)
    rsps.add(responses.GET, STATUS_URL, status=202)
    send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 60)
    timeouts = [call.request.req_kwargs["timeout"] for call in _calls(rsps, "GET")]
    assert timeouts == [send_module.POLL_TIMEOUT] * len(send_module.POLL_WAITS)


OUTCOME_ERROR = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "processing",
            "diagnostics": "Observation.subject: patient eRt.8Gv3 is not on file",
        }
    ],
}


@pytest.mark.parametrize("final_status", [200, 400, 422, 500])
def test_a_status_address_whose_final_answer_is_an_error_outcome_says_the_write_was_not_saved(
    rsps, final_status
) -> None:
    """The asynchronous pattern ends a job that failed with an error status (or a 200) and an OperationOutcome:
    the write was not stored, and the EHR's reason is shown, not 'may have been saved'."""
    _accepted(rsps)
    rsps.add(responses.GET, STATUS_URL, json=OUTCOME_ERROR, status=final_status)
    result = _post()
    assert not result.ok and not result.unconfirmed and result.status == final_status
    assert result.message == (
        "the EHR accepted the record for processing, then reported that it could not save it: "
        "Observation.subject: patient eRt.8Gv3 is not on file"
    )
    assert len(_calls(rsps, "POST")) == 1


@pytest.mark.parametrize(
    ("final_status", "body"),
    [
        (500, "<html><body>Internal Server Error</body></html>"),
        (503, json.dumps({**OUTCOME_ERROR, "issue": [{"severity": "error", "code": "transient"}]})),
        (404, json.dumps({**OUTCOME_ERROR, "issue": [{"severity": "error", "code": "not-found"}]})),
        (401, json.dumps({**OUTCOME_ERROR, "issue": [{"severity": "error", "code": "login"}]})),
    ],
)
def test_a_status_address_error_about_the_question_itself_leaves_the_write_unconfirmed(
    rsps, final_status, body
) -> None:
    """A gateway's error page, a transient outcome (ask later), an expired job (404) or a refused question (401)
    says nothing about the write: it may still be stored."""
    _accepted(rsps)
    rsps.add(responses.GET, STATUS_URL, body=body, status=final_status)
    result = _post()
    assert not result.ok and result.unconfirmed and result.status == 202


def test_retry_after_from_the_status_address_sets_the_next_wait_within_the_same_total(rsps, slept) -> None:
    _accepted(rsps)
    rsps.add(responses.GET, STATUS_URL, status=202, headers={"Retry-After": "2"})
    rsps.add(responses.GET, STATUS_URL, status=202, headers={"Retry-After": "1"})
    rsps.add(responses.GET, STATUS_URL, json={**peg(PEG, CONTEXT).resource, "id": "obs-9"}, status=200)
    result = _post()
    assert result.ok and result.reference == "Observation/obs-9"
    assert slept == [0.5, 2.0, 1.0]
    assert sum(slept) <= sum(send_module.POLL_WAITS)


@pytest.mark.parametrize("retry_after", ["120", "Sat, 05 Dec 2099 23:59:00 GMT"])
def test_retry_after_beyond_the_total_wait_stops_asking_and_leaves_the_write_unconfirmed(
    rsps, slept, retry_after
) -> None:
    """The clinician is never kept waiting longer than the usual follow-up, and the EHR is not asked before the time
    it gave."""
    _accepted(rsps)
    rsps.add(responses.GET, STATUS_URL, status=202, headers={"Retry-After": retry_after})
    result = _post()
    assert not result.ok and result.unconfirmed and result.status == 202
    assert slept == [0.5] and len(_calls(rsps, "GET")) == 1
