"""A save the EHR answers with warnings (Epic: 201 with an OperationOutcome of severity warning, e.g. an element it
ignored) is a save, and the clinician is told what the EHR noted: "Saved" alone would hide that part of the record
may not be in the chart."""

from __future__ import annotations

import html
from collections.abc import Iterator

import pytest
import requests
import responses
from launch_support import ISS, PUBLIC_URL
from test_write_back import CONTEXT, PEG, WRITE_SCOPE, _launch, _token

from smart_app.write.forms import peg
from smart_app.write.send import send

IGNORED = "The element Observation.method is not supported and was ignored."


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_save_answered_with_warnings_keeps_them(rsps) -> None:
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "information", "code": "informational", "diagnostics": "Resource created"},
            {"severity": "warning", "code": "not-supported", "details": {"text": IGNORED}},
        ],
    }
    headers = {"Location": f"{ISS}/Observation/eXq1/_history/1"}
    rsps.add(responses.POST, f"{ISS}/Observation", json=outcome, status=201, headers=headers)
    result = send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 5)
    assert result.ok and result.reference == "Observation/eXq1"
    assert result.warnings == (IGNORED,)


def test_the_page_says_what_the_ehr_noted_on_a_save(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.warning = IGNORED
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert answer.status_code == 303
    shown = html.unescape(client.get(answer.headers["Location"], base_url=PUBLIC_URL).get_data(as_text=True))
    assert f"Saved the PEG score as Observation/ehr-1. The EHR noted: {IGNORED}" in shown


def test_a_note_not_made_by_painplan_is_never_shown(tmp_path, rsps) -> None:
    """The note travels in the address after the save: one typed into a link is not the EHR's and is not shown."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    forged = {"s": handle, "saved": "peg", "ref": "Observation/ehr-1", "note": "Call 555-0100", "note_sig": "0" * 64}
    shown = html.unescape(client.get("/plan", query_string=forged, base_url=PUBLIC_URL).get_data(as_text=True))
    assert "Saved the PEG score as Observation/ehr-1." in shown and "555-0100" not in shown


def test_an_outcome_that_explains_itself_only_in_a_coding_display_is_still_shown(rsps) -> None:
    """Epic's OperationOutcome may carry its reason only as details.coding.display, with no text or diagnostics."""
    issue = {
        "severity": "error",
        "code": "business-rule",
        "details": {
            "coding": [
                {
                    "system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369",
                    "code": "59159",
                    "display": "The patient is not in the user's care context.",
                }
            ]
        },
    }
    rsps.add(
        responses.POST, f"{ISS}/Observation", json={"resourceType": "OperationOutcome", "issue": [issue]}, status=422
    )
    result = send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 5)
    assert not result.ok and not result.unconfirmed
    assert result.message == "the EHR did not accept the content: The patient is not in the user's care context."
