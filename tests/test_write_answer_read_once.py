"""The EHR's answer to a save is read as JSON once, whatever it holds; what the clinician is told of a 2xx answer
with an empty body or one that is not JSON stays as it was."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from launch_support import ISS, PUBLIC_URL
from test_write_back import CONTEXT, PEG, WRITE_SCOPE, _launch, _token

from smart_app.write.forms import peg
from smart_app.write.send import send


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.mark.parametrize("status", [200, 201])
def test_a_2xx_with_an_empty_body_is_saved_as_before(tmp_path, rsps, status) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.answer_status = status
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert answer.status_code == 303 and len(chart.written("Observation")) == 1
    shown = html.unescape(client.get(answer.headers["Location"], base_url=PUBLIC_URL).get_data(as_text=True))
    assert '<p class="notice notice-ok write-result" role="status" id="write-peg-result">Saved the PEG score.</p>' in (
        shown
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", "<html><body>Your session has ended. <a href='/login'>Sign in</a></body></html>"),
        ("application/fhir+json", '{"resourceType": "Observation", "id": '),  # cut off mid-answer
        ("text/plain", "\xff\xfe not text"),
    ],
)
def test_a_2xx_whose_body_is_not_json_may_not_have_been_saved_as_before(tmp_path, rsps, content_type, body) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.answer_body = (content_type, body)
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 502 and len(chart.written("Observation")) == 1
    assert (
        f"May not have been saved: the PEG score — the EHR answered with something that is not a FHIR answer "
        f"({content_type}), so whether it was saved is not known. Check the patient's chart in the EHR before saving "
        "again" in text
    )


def _counting_json(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each time a response body is read as JSON."""
    reads: list[int] = []
    real = requests.Response.json

    def counted(self: requests.Response, **kwargs: Any) -> Any:
        reads.append(self.status_code)
        return real(self, **kwargs)

    monkeypatch.setattr(requests.Response, "json", counted)
    return reads


WARNED = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "warning", "code": "informational", "details": {"text": "Unknown code ignored"}}],
}
FAILED = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "Resource could not be stored"}],
}


@pytest.mark.parametrize(
    ("answer", "location", "ok", "message"),
    [
        ({"resourceType": "Observation", "id": "obs-9"}, "", True, "saved"),
        (WARNED, f"{ISS}/Observation/obs-9/_history/1", True, "saved"),
        (FAILED, "", False, "the EHR answered without saving: Resource could not be stored"),
        ({"status": "ok"}, "", False, None),
    ],
    ids=["resource", "warning-outcome", "error-outcome", "not-fhir"],
)
def test_a_save_s_answer_is_read_as_json_once(rsps, monkeypatch, answer, location, ok, message) -> None:
    reads = _counting_json(monkeypatch)
    headers = {"Location": location} if location else {}
    rsps.add(responses.POST, f"{ISS}/Observation", body=json.dumps(answer), status=201, headers=headers)
    result = send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 5)
    assert result.ok is ok and (message is None or result.message == message)
    assert reads == [201]


@pytest.mark.parametrize(
    "location",
    [
        f"{ISS}/Observation/obs-9/_history/1",  # HAPI's and Epic's Location of a created resource
        f"{ISS}/Observation/obs-9",
        f"{ISS}/Observation/obs-9/_history/1?_format=json",
        "Observation/obs-9/_history/1",  # relative to the base, as some servers write it
    ],
)
def test_a_location_names_the_saved_record_by_the_rule_every_reference_is_read_by(rsps, location) -> None:
    """The id of a created record is read from its Location as any reference is (`fhirdata.local_reference`): a
    version and a query name the same record."""
    rsps.add(responses.POST, f"{ISS}/Observation", body="", status=201, headers={"Location": location})
    result = send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 5)
    assert result.ok and result.reference == "Observation/obs-9"


@pytest.mark.parametrize("location", [f"{ISS}/Patient/p1/_history/1", f"{ISS}/Observation", f"{ISS}/Observation/"])
def test_a_location_that_names_no_record_of_the_kind_sent_gives_no_id(rsps, location) -> None:
    rsps.add(responses.POST, f"{ISS}/Observation", body="", status=201, headers={"Location": location})
    result = send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 5)
    assert result.ok and result.reference is None
