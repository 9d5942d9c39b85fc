"""PainPlan writes FHIR R4 records only: to a server that is STU3 (or DSTU2, or R5) nothing is sent, and the page
says why, instead of an R4 record being refused, or stored by a lenient server with the parts it does not know
dropped (an R4 Goal's lifecycleStatus on an STU3 server: a goal with no status)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from launch_support import PUBLIC_URL, FakeEhr, make_app, query
from test_write_back import PEG, WRITE_SCOPE, _token
from write_support import ChartServer, forget_versions

from smart_app.write import csrf, fhir_version


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _launch(tmp_path: Any, rsps: responses.RequestsMock, iss: str, version: str) -> tuple[Any, ...]:
    ehr = FakeEhr(rsps, grant_scope=WRITE_SCOPE, iss=iss, fhir_version=version)
    chart = ChartServer(rsps, ehr, "walter-brooks")
    client = make_app(tmp_path, [ehr.client_entry()], today="2026-06-15").test_client()
    started = client.get("/launch", query_string={"iss": iss, "launch": "l1"}, base_url=PUBLIC_URL)
    finished = client.get(
        "/launch/callback", query_string=ehr.authorize(started.headers["Location"]), base_url=PUBLIC_URL
    )
    handle = query(finished.headers["Location"])["s"]
    page = client.get(f"/plan?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True)
    return client, chart, handle, page


@pytest.mark.parametrize(
    ("base", "named"),
    [
        ("https://fhir.example-hospital.org/interconnect-fhir-oauth/api/FHIR/STU3", "STU3"),  # Epic
        ("https://fhir-ehr.cerner.com/dstu2/ec2458f2-1e24-41c8-b71b-0e701af7583d", "DSTU2"),  # Oracle Health
        ("http://hapi.fhir.org/baseDstu3", "STU3"),
        ("https://launch.smarthealthit.org/v/r3/fhir", "STU3"),
        ("https://hapi.example.org/baseR5", "R5"),
        ("https://fhir.example-hospital.org/interconnect-fhir-oauth/api/FHIR/R4", None),
        ("https://fhir-ehr.cerner.com/r4/ec2458f2-1e24-41c8-b71b-0e701af7583d", None),
        ("http://hapi.fhir.org/baseR4", None),
        ("https://hapi.example.org/fhir", None),
    ],
)
def test_the_version_a_fhir_base_names_is_read_from_its_path(base, named) -> None:
    assert fhir_version.named_in_base(base) == named


@pytest.mark.parametrize(("stated", "release"), [("3.0.2", "STU3"), ("1.0.2", "DSTU2"), ("5.0.0", "R5")])
def test_a_server_whose_capability_statement_is_not_r4_is_sent_nothing(tmp_path, rsps, stated, release) -> None:
    """A base address that names no version (HAPI's /fhir): the server's own CapabilityStatement says it, asked again
    before the save once what the page learnt is forgotten (the page was shown by another worker, or the server
    changed since: a page that knows it offers no form, tests/test_write_version_notice.py)."""
    client, chart, handle, page = _launch(tmp_path, rsps, "https://hapi.example.org/fhir", "4.0.1")
    forget_versions(client)
    chart.ehr.fhir_version = stated
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert chart.received == []
    assert answer.status_code == 502
    assert (
        f"Not saved: the PEG score — the EHR's FHIR server is FHIR {release} ({stated}), and PainPlan writes FHIR R4 "
        "records only, so nothing was sent. What you typed is still in the form below." in text
    )


def test_a_server_on_an_r5_ballot_is_sent_nothing(tmp_path, rsps) -> None:
    """fhirVersion 4.5.0 is an R5 ballot (R5's third preview), not R4: R4 is 4.0.x and R4B 4.3.x. Before, any 4.x
    was taken for R4, and R4 records were sent to a server that may refuse them or drop what it does not know."""
    client, chart, handle, page = _launch(tmp_path, rsps, "https://hapi.example.org/fhir", "4.0.1")
    forget_versions(client)
    chart.ehr.fhir_version = "4.5.0"
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert chart.received == []
    assert answer.status_code == 502
    assert (
        "Not saved: the PEG score — the EHR's FHIR server is FHIR 4.5.0, and PainPlan writes FHIR R4 records only, "
        "so nothing was sent." in text
    )


@pytest.mark.parametrize(
    ("stated", "refusal"),
    [
        ("4.0.0", ""),  # R4
        ("4.0.1", ""),  # R4's technical correction
        ("4.3.0", ""),  # R4B: takes R4's Observation, Goal, CarePlan, Consent and DocumentReference as written
        ("4.1.0", "FHIR 4.1.0"),  # R4B's first ballot
        ("4.2.0", "FHIR 4.2.0"),  # R5's previews and draft ballot
        ("4.4.0", "FHIR 4.4.0"),
        ("4.6.0", "FHIR 4.6.0"),
        ("3.0.2", "FHIR STU3 (3.0.2)"),
    ],
)
def test_a_stated_version_is_read_by_the_release_table_s_numbers(stated, refusal) -> None:
    assert fhir_version.check_of("https://hapi.example.org/fhir", stated) == fhir_version.SaveCheck(refusal)


@pytest.mark.parametrize("stated", ["4.0.1", "4.3.0"])
def test_an_r4_or_r4b_server_is_written_to(tmp_path, rsps, stated) -> None:
    client, chart, handle, page = _launch(tmp_path, rsps, "https://hapi.example.org/fhir", stated)
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert answer.status_code == 303 and len(chart.written("Observation")) == 1


UNCONFIRMED = (
    "PainPlan could not confirm which FHIR version the EHR's server uses (its capability statement could not be "
    "read, or names no version), so the record was sent as FHIR R4: check it in the patient's chart."
)


def _saved_page(client: Any, answer: Any) -> str:
    """The plan page the save redirected to, as the clinician reads it."""
    assert answer.status_code == 303
    return html.unescape(client.get(answer.headers["Location"], base_url=PUBLIC_URL).get_data(as_text=True))


@pytest.mark.parametrize("metadata", ["error", "no version"])
def test_a_server_whose_version_cannot_be_read_is_written_to_and_the_page_says_so(tmp_path, rsps, metadata) -> None:
    """Most servers are R4, and the page's reads assume it, so the record is sent; but the save does not pass for one
    PainPlan knows the server takes: the clinician is told to check it in the chart."""
    client, chart, handle, page = _launch(tmp_path, rsps, "https://hapi.example.org/fhir", "4.0.1")
    forget_versions(client)
    if metadata == "error":
        rsps.replace(responses.GET, "https://hapi.example.org/fhir/metadata", status=500)
    else:
        statement = {"resourceType": "CapabilityStatement", "status": "active", "kind": "instance"}
        rsps.replace(responses.GET, "https://hapi.example.org/fhir/metadata", json=statement)
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert len(chart.written("Observation")) == 1
    result = _saved_page(client, answer).split('id="write-peg-result"')[1].split("</p>")[0]
    assert "notice-warning" in _saved_page(client, answer).split('id="write-peg-result"')[0][-120:]
    assert f"Saved the PEG score as Observation/ehr-1. {UNCONFIRMED}" in result


def test_a_save_to_a_server_whose_version_was_read_carries_no_such_warning(tmp_path, rsps) -> None:
    client, chart, handle, page = _launch(tmp_path, rsps, "https://hapi.example.org/fhir", "4.0.1")
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    text = _saved_page(client, answer)
    assert "Saved the PEG score as Observation/ehr-1." in text and "could not confirm which FHIR version" not in text


def test_a_base_that_names_r4_confirms_the_version_when_metadata_cannot_be_read(tmp_path, rsps) -> None:
    iss = "https://fhir.example-hospital.org/interconnect-fhir-oauth/api/FHIR/R4"
    client, chart, handle, page = _launch(tmp_path, rsps, iss, "4.0.1")
    forget_versions(client)
    rsps.replace(responses.GET, f"{iss}/metadata", status=500)
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert "could not confirm which FHIR version" not in _saved_page(client, answer)


def test_the_version_warning_cannot_be_added_by_a_link(tmp_path, rsps) -> None:
    client, chart, handle, page = _launch(tmp_path, rsps, "https://hapi.example.org/fhir", "4.0.1")
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    forged = answer.headers["Location"].replace("saved=peg", "saved=peg&fv=unconfirmed&fv_sig=" + "0" * 64)
    assert "could not confirm which FHIR version" not in html.unescape(
        client.get(forged, base_url=PUBLIC_URL).get_data(as_text=True)
    )


def test_a_failed_save_to_a_server_whose_version_cannot_be_read_says_so_too(tmp_path, rsps) -> None:
    """The EHR's refusal may come from the version itself (an STU3 server refusing an R4 record)."""
    client, chart, handle, page = _launch(tmp_path, rsps, "https://hapi.example.org/fhir", "4.0.1")
    forget_versions(client)
    rsps.replace(responses.GET, "https://hapi.example.org/fhir/metadata", status=500)
    chart.fail_status = 422
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 502
    assert "Not saved: the PEG score — the EHR did not accept the content: Server is busy." in text
    assert (
        "What you typed is still in the form below. PainPlan could not confirm which FHIR version the EHR's server "
        "uses (its capability statement could not be read, or names no version); the record was sent as FHIR R4."
    ) in text


def test_an_epic_stu3_base_offers_no_forms_and_says_why(tmp_path, rsps) -> None:
    iss = "https://fhir.example-hospital.org/interconnect-fhir-oauth/api/FHIR/STU3"
    client, chart, handle, page = _launch(tmp_path, rsps, iss, "3.0.2")
    area = html.unescape(page.split('id="write"')[1].split("</section>")[0])
    assert "<form" not in area
    assert (
        "The EHR's FHIR server is FHIR STU3, and PainPlan writes FHIR R4 records only, so nothing on this page is "
        "written to the record." in area
    )
    token = csrf.new_token(client.application.secret_key, handle)  # a form from an older page, or a tampered one
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": token}, base_url=PUBLIC_URL)
    assert chart.received == [] and answer.status_code == 502
    assert "Not saved: the PEG score — the EHR's FHIR server is FHIR STU3" in html.unescape(
        answer.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("iss", "writes"),
    [
        ("https://fhir.example-hospital.org/interconnect-fhir-oauth/api/FHIR/STU3", False),
        ("https://fhir.example-hospital.org/interconnect-fhir-oauth/api/FHIR/R4", True),
    ],
)
def test_write_scopes_are_asked_for_only_from_a_server_that_can_be_written_to(tmp_path, rsps, iss, writes) -> None:
    """No form is offered to an STU3 server, so no right to write is asked for: the clinician is not shown a consent
    screen for writes that will never happen."""
    ehr = FakeEhr(rsps, iss=iss)
    client = make_app(tmp_path, [ehr.client_entry()], today="2026-06-15").test_client()
    started = client.get("/launch", query_string={"iss": iss, "launch": "l1"}, base_url=PUBLIC_URL)
    scope = query(started.headers["Location"])["scope"].split()
    assert "patient/Patient.rs" in scope
    assert ("patient/Goal.cu" in scope) is writes and ("patient/Observation.c" in scope) is writes
