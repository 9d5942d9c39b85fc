"""Before the first save, the write-back panel says what PainPlan knows of the EHR server's FHIR version: a server
that states a release other than R4 is offered no form (saving would be refused), and one whose version cannot be
confirmed is named up front, so the clinician does not learn it only after filling a form. The answer is asked of
the server's CapabilityStatement at most once a while per FHIR base, in the background, and never holds the page
past the deadline of its reads."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
import requests
import responses
from launch_support import PUBLIC_URL, FakeEhr, make_app, query
from test_write_back import PEG, WRITE_SCOPE, _token
from write_support import ChartServer

from smart_app.write import fhir_version
from smart_app.write.page_panel import VersionQuestion, version_check

HAPI = "https://hapi.example.org/fhir"  # a base whose path names no release: only `metadata` can say
EPIC_R4 = "https://fhir.example-hospital.org/interconnect-fhir-oauth/api/FHIR/R4"
UNCONFIRMED_NOTICE = (
    "PainPlan could not confirm which FHIR version the EHR's server uses, so a record you save here is sent as "
    "FHIR R4, the version PainPlan writes. A server of another version may refuse it or store it with parts "
    "missing: after saving, check the record in the patient's chart."
)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _launched(tmp_path: Any, rsps: responses.RequestsMock, iss: str, **settings: Any) -> tuple[Any, ChartServer, str]:
    """A launch with every write scope granted, before any page is shown."""
    ehr = FakeEhr(rsps, grant_scope=WRITE_SCOPE, iss=iss)
    chart = ChartServer(rsps, ehr, "walter-brooks")
    client = make_app(tmp_path, [ehr.client_entry()], today="2026-06-15", **settings).test_client()
    started = client.get("/launch", query_string={"iss": iss, "launch": "l1"}, base_url=PUBLIC_URL)
    finished = client.get(
        "/launch/callback", query_string=ehr.authorize(started.headers["Location"]), base_url=PUBLIC_URL
    )
    return client, chart, query(finished.headers["Location"])["s"]


def _metadata(rsps: responses.RequestsMock, iss: str, answer: Any) -> list[float]:
    """Replace the server's CapabilityStatement with `answer` (a callback's result or an exception to raise); the
    list returned gets the moment of each request."""
    asked: list[float] = []

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        asked.append(time.monotonic())
        if isinstance(answer, Exception):
            raise answer
        return answer() if callable(answer) else answer

    rsps.remove(responses.GET, f"{iss}/metadata")
    rsps.add_callback(responses.GET, f"{iss}/metadata", reply)
    return asked


def _statement(version: str) -> tuple[int, dict[str, str], str]:
    body = '{"resourceType": "CapabilityStatement", "status": "active", "kind": "instance", "fhirVersion": "%s"}'
    return 200, {"Content-Type": "application/fhir+json"}, body % version


def _page(client: Any, handle: str) -> str:
    return html.unescape(client.get(f"/plan?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True))


def _panel(page: str) -> str:
    return page.split('id="write"')[1].split("</section>")[0]


@pytest.mark.parametrize(
    "failure",
    [
        (500, {}, "Internal Server Error"),
        requests.ReadTimeout("metadata did not answer"),
        requests.ConnectTimeout("metadata could not be reached"),
        (200, {"Content-Type": "application/fhir+json"}, '{"resourceType": "CapabilityStatement"}'),  # no version
        RuntimeError("something PainPlan did not foresee"),
    ],
    ids=["http-500", "read-timeout", "connect-timeout", "no-version", "unforeseen-error"],
)
def test_the_panel_says_up_front_when_the_version_cannot_be_confirmed(tmp_path, rsps, failure) -> None:
    client, chart, handle = _launched(tmp_path, rsps, HAPI)
    _metadata(rsps, HAPI, failure)
    page = _page(client, handle)
    assert f'<p class="notice notice-warning" id="write-version-unconfirmed">{UNCONFIRMED_NOTICE}</p>' in _panel(page)
    assert '<form id="write-peg"' in page  # the forms are still offered: the record is sent as R4


def test_a_server_stating_another_release_is_offered_no_form_before_anything_is_typed(tmp_path, rsps) -> None:
    client, chart, handle = _launched(tmp_path, rsps, HAPI)
    _metadata(rsps, HAPI, _statement("3.0.2"))
    page = _page(client, handle)
    assert '<form id="write-' not in page
    panel = _panel(page)
    assert (
        "The EHR's FHIR server is FHIR STU3 (3.0.2), and PainPlan writes FHIR R4 records only, so nothing on this "
        "page is written to the record." in panel
    )


def test_a_server_stating_r4_gets_no_notice_and_is_asked_once_for_pages_and_saves(tmp_path, rsps) -> None:
    client, chart, handle = _launched(tmp_path, rsps, HAPI)
    asked = _metadata(rsps, HAPI, _statement("4.0.1"))
    page = _page(client, handle)
    assert "could not confirm" not in page and '<form id="write-peg"' in page
    _page(client, handle)
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert answer.status_code == 303 and len(chart.written("Observation")) == 1
    assert len(asked) == 1  # remembered for the base: not one question per page view or save


def test_a_base_that_names_its_release_is_never_asked(tmp_path, rsps) -> None:
    client, chart, handle = _launched(tmp_path, rsps, EPIC_R4)
    asked = _metadata(rsps, EPIC_R4, (500, {}, ""))
    page = _page(client, handle)
    assert asked == [] and "could not confirm" not in page and '<form id="write-peg"' in page


def test_a_launch_without_write_scopes_does_not_ask(tmp_path, rsps) -> None:
    ehr = FakeEhr(rsps, grant_scope="launch openid fhirUser patient/*.rs", iss=HAPI)
    ChartServer(rsps, ehr, "walter-brooks")
    client = make_app(tmp_path, [ehr.client_entry()], today="2026-06-15").test_client()
    started = client.get("/launch", query_string={"iss": HAPI, "launch": "l1"}, base_url=PUBLIC_URL)
    finished = client.get(
        "/launch/callback", query_string=ehr.authorize(started.headers["Location"]), base_url=PUBLIC_URL
    )
    asked = _metadata(rsps, HAPI, (500, {}, ""))
    page = _page(client, query(finished.headers["Location"])["s"])
    assert asked == [] and "could not confirm" not in page


def test_a_metadata_request_that_hangs_does_not_hold_the_page(tmp_path, rsps) -> None:
    """The page waits for the answer no longer than its own reads may take (twice fhir_timeout), then says the version
    is not confirmed; the question finishes in the background, and the save then knows the answer."""
    client, chart, handle = _launched(tmp_path, rsps, HAPI, fhir_timeout=0.5)
    released = threading.Event()

    def hang() -> tuple[int, dict[str, str], str]:
        released.wait(30)
        return _statement("4.0.1")

    asked = _metadata(rsps, HAPI, hang)
    try:
        started = time.monotonic()
        page = _page(client, handle)
        took = time.monotonic() - started
        assert not released.is_set() and len(asked) == 1  # the page came back while metadata still hung
        assert UNCONFIRMED_NOTICE in _panel(page)
        assert took < 10
    finally:
        released.set()
    deadline = time.monotonic() + 10
    while "could not confirm" in _page(client, handle) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "could not confirm" not in _page(client, handle) and len(asked) == 1


def test_a_page_that_could_not_confirm_the_version_asks_again_a_minute_later(tmp_path, rsps, monkeypatch) -> None:
    client, chart, handle = _launched(tmp_path, rsps, HAPI)
    answers = [(500, {}, ""), _statement("4.0.1")]
    asked = _metadata(rsps, HAPI, lambda: answers[min(len(asked) - 1, 1)])
    assert UNCONFIRMED_NOTICE in _page(client, handle)
    assert UNCONFIRMED_NOTICE in _page(client, handle) and len(asked) == 1
    later = time.monotonic() + fhir_version.UNREAD_KEPT_SECONDS + 1
    monkeypatch.setattr(fhir_version, "monotonic", lambda: later)  # the cache's clock only
    assert "could not confirm" not in _page(client, handle) and len(asked) == 2


# ----- the cache itself


def test_the_cache_holds_a_bounded_number_of_bases_forgetting_the_least_recently_asked() -> None:
    cache = fhir_version.VersionCache(max_bases=2)
    cache.remember("https://a.example/fhir", "4.0.1")
    cache.remember("https://b.example/fhir", "3.0.2")
    assert cache.known("https://a.example/fhir") == (True, "4.0.1")  # a is now the most recently asked
    cache.remember("https://c.example/fhir", "4.0.1")
    assert cache.known("https://b.example/fhir") == (False, None)
    assert cache.known("https://a.example/fhir") == (True, "4.0.1")
    assert cache.known("https://c.example/fhir") == (True, "4.0.1")


def test_each_app_keeps_its_own_answers(tmp_path, rsps) -> None:
    """One app's answer for a base is not another's (two test apps, or two sites' settings, in one process)."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    client, chart, handle = _launched(tmp_path / "one", rsps, HAPI)
    _metadata(rsps, HAPI, _statement("3.0.2"))
    assert "FHIR STU3 (3.0.2)" in _page(client, handle)
    rsps.reset()
    other, chart, handle = _launched(tmp_path / "two", rsps, HAPI)
    assert "FHIR STU3" not in _page(other, handle)


def test_a_form_sent_back_to_correct_keeps_the_notice(tmp_path, rsps) -> None:
    client, chart, handle = _launched(tmp_path, rsps, HAPI)
    _metadata(rsps, HAPI, (500, {}, ""))
    page = _page(client, handle)
    typo = {**PEG, "pain": "11", "csrf_token": _token(page)}
    answer = client.post(f"/plan/write/peg?s={handle}", data=typo, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422 and chart.received == []
    assert UNCONFIRMED_NOTICE in _panel(text)


def test_a_save_while_metadata_hangs_waits_for_it_once_not_twice(tmp_path, rsps, monkeypatch) -> None:
    """A save asks the version as its page does, and waits for that question up to the page's deadline; it then
    waited for the same question again (up to another fhir_timeout) before sending. Now the save uses the answer its
    page waited for: still unconfirmed, it is sent as R4 and says so."""
    client, chart, handle = _launched(tmp_path, rsps, HAPI, fhir_timeout=0.5)
    released = threading.Event()

    def hang() -> tuple[int, dict[str, str], str]:
        released.wait(30)
        return _statement("4.0.1")

    waits = _waits_on_version_questions(monkeypatch)
    asked = _metadata(rsps, HAPI, hang)
    try:
        page = _page(client, handle)
        waits.clear()
        answer = client.post(
            f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL
        )
        assert not released.is_set() and len(asked) == 1
    finally:
        released.set()
    assert answer.status_code in (302, 303) and len(chart.received) == 1  # sent, as R4
    assert "fv_sig=" in answer.headers["Location"]  # and its saved line says the version was not confirmed
    # However many times the save looks at the question, it waits no longer in all than the page's reads' budget.
    assert waits and None not in waits and sum(waits) <= 2 * 0.5


def _waits_on_version_questions(monkeypatch: pytest.MonkeyPatch) -> list[float | None]:
    """Record how long each wait on a version question may last (None: no limit), wherever it is waited for."""
    questions: set[int] = set()
    waits: list[float | None] = []
    real_ask, real_result = fhir_version.VersionCache.ask, Future.result

    def ask(self: Any, *args: Any) -> Future:
        question = real_ask(self, *args)
        questions.add(id(question))
        return question

    def result(self: Future, timeout: float | None = None) -> Any:
        if id(self) in questions:
            waits.append(timeout)
        return real_result(self, timeout)

    monkeypatch.setattr(fhir_version.VersionCache, "ask", ask)
    monkeypatch.setattr(Future, "result", result)
    return waits


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (HAPI, fhir_version.SaveCheck(unconfirmed=True)),  # only the server could say, and it was not asked
        (EPIC_R4, fhir_version.SaveCheck()),
        (
            "https://fhir.example-hospital.org/interconnect-fhir-oauth/api/FHIR/STU3",
            fhir_version.SaveCheck("FHIR STU3"),
        ),
    ],
)
def test_with_no_question_asked_the_panel_and_the_save_read_the_base_address_alike(base, expected) -> None:
    # One rule for both (page_panel.version_check): the panel once took "no question" to mean confirmed, the save
    # took it to mean unconfirmed.
    assert version_check(base, None) == expected


def test_a_question_asked_is_what_both_read() -> None:
    answered: Future[str | None] = Future()
    answered.set_result("3.0.2")
    question = VersionQuestion(HAPI, answered, time.monotonic() + 1)
    assert version_check(HAPI, question) == fhir_version.SaveCheck("FHIR STU3 (3.0.2)")
