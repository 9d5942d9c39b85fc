"""Write-back: granted scopes decide the forms, CSRF is required, every resource is R4, failures keep the input."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests
import responses
from builders import TZ
from fhir.resources.R4B import get_fhir_model_class
from launch_support import ISS, PUBLIC_URL, FakeEhr, make_app, query
from write_support import ChartServer

from launch.scopes import granted_writes, write_scopes
from smart_app.write import csrf
from smart_app.write.forms import FORMS, WriteContext, agreement, decision, goal, note, peg
from smart_app.write.validate import InvalidResource, validated

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=TZ)
CONTEXT = WriteContext("walter-brooks", "https://ehr.example.org/fhir/r4/Practitioner/prac-9", NOW)
WRITE_SCOPE = "launch openid fhirUser patient/*.rs " + " ".join(write_scopes(True))
PEG = {"pain": "6", "enjoyment": "7", "activity": "5", "date": "2026-06-15"}


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# ----- scopes


def test_granted_writes_reads_v1_v2_wildcards_and_ignores_narrowed_and_read_scopes() -> None:
    granted = granted_writes(
        "patient/Observation.c patient/Goal.cu user/CarePlan.cruds patient/Consent.rs "
        "patient/DocumentReference.c?category=x patient/Patient.read"
    )
    assert granted == {
        "Observation": {"create"},
        "Goal": {"create", "update"},
        "CarePlan": {"create", "update"},
    }
    assert set(granted_writes("patient/*.write")) == set(FORMS_TYPES())
    assert granted_writes("user/Observation.Write")["Observation"] == {"create", "update"}
    assert granted_writes("patient/*.read patient/*.rs launch openid") == {}


def FORMS_TYPES() -> list[str]:  # noqa: N802 - reads like the constant it lists
    return [kind for _, _, kind in FORMS.values()]


# ----- building and validating


def _valid_r4(resource: dict[str, Any]) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_every_form_builds_a_valid_r4_resource() -> None:
    built = [
        peg(PEG, CONTEXT),
        goal({"goal_kind": "function", "description": "Walk 20 minutes", "due": "2026-09-01"}, CONTEXT),
        agreement({"agreement_kind": "consent", "date": "2026-06-14", "note": "Risks discussed"}, CONTEXT),
        decision({"decision": "continue", "reasons": "Goals met", "follow_up": "2026-09-15"}, CONTEXT),
        note({"note_text": "Plan reviewed."}, CONTEXT),
    ]
    for item in built:
        assert item.errors == {} and item.resource is not None
        _valid_r4(validated(item.resource))
    observation = built[0].resource
    assert observation["code"]["coding"][0]["code"] == "91148-7"
    items = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in observation["component"]}
    assert items == {"75893-8": 6, "91145-3": 7, "91146-1": 5, "91147-9": 6.0}
    assert observation["performer"] == [{"reference": "Practitioner/prac-9"}]
    consent = built[2].resource
    assert consent["policyRule"]["coding"][0]["code"] == "OPTIN"
    assert consent["category"][0]["coding"][0]["code"] == "59284-0"
    assert built[3].resource["category"][0]["coding"][0]["code"] == "80764-4"


def test_goal_and_plan_with_an_id_are_updates() -> None:
    built = goal({"goal_kind": "pain", "description": "Pain at 4 or less", "resource_id": "g-1"}, CONTEXT)
    assert built.method == "PUT" and built.target == "Goal/g-1"
    bad = goal({"goal_kind": "pain", "description": "x", "resource_id": "../Patient/1"}, CONTEXT)
    assert "resource_id" in bad.errors


def test_field_errors_are_named_and_nothing_is_built() -> None:
    built = peg({"pain": "11", "enjoyment": "", "activity": "3"}, CONTEXT)
    assert set(built.errors) == {"pain", "enjoyment"} and built.resource is None
    assert decision({"decision": "maybe", "reasons": "", "follow_up": "2020-01-01"}, CONTEXT).errors.keys() == {
        "decision",
        "reasons",
        "follow_up",
    }


def test_agreement_dates_are_checked_and_never_given_a_made_up_time() -> None:
    # Found by fuzzing the forms: year 0001 got New York's 1883 offset (-04:56:02), which FHIR cannot hold.
    for typed, error in (("0001-01-01", "Check the year"), ("1026-06-14", "Check the year"), ("2026-07-01", "future")):
        built = agreement({"agreement_kind": "consent", "date": typed}, CONTEXT)
        assert built.resource is None and error in built.errors["date"]
    earlier = agreement({"agreement_kind": "consent", "date": "2026-06-01"}, CONTEXT).resource
    today = agreement({"agreement_kind": "agreement"}, CONTEXT).resource
    assert earlier["dateTime"] == "2026-06-01" and today["dateTime"] == NOW.isoformat(timespec="seconds")
    _valid_r4(validated(earlier))
    assert "Check the year" in peg({**PEG, "date": "0202-06-15"}, CONTEXT).errors["date"]


def test_a_consent_without_policy_is_refused_before_sending() -> None:
    consent = agreement({"agreement_kind": "agreement"}, CONTEXT).resource
    consent.pop("policyRule")
    with pytest.raises(InvalidResource, match="ppc-1"):
        validated(consent)


def test_csrf_token_is_per_launch_and_needs_the_key() -> None:
    token = csrf.new_token("key-1", "handle-a")
    assert csrf.token_ok("key-1", "handle-a", token)
    assert not csrf.token_ok("key-1", "handle-b", token)
    assert not csrf.token_ok("key-2", "handle-a", token)
    assert not csrf.token_ok("key-1", "handle-a", "")


# ----- the page against a fake EHR


def _launch(
    tmp_path: Any,
    rsps: responses.RequestsMock,
    grant: str,
    fail: int | None = None,
    extra: tuple[dict, ...] = (),
    app_context: dict[str, Any] | None = None,
    page_size: dict[str, int] | None = None,
    guideline: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """A launch into walter-brooks's chart (plus `extra` resources, the appContext a card's link carried, searches
    answered in pages of `page_size` and `guideline` settings), with the plan page as first shown."""
    launch_context = {"appContext": json.dumps(app_context)} if app_context is not None else {}
    ehr = FakeEhr(rsps, grant_scope=grant, extra_context=launch_context)
    chart = ChartServer(rsps, ehr, "walter-brooks", fail_status=fail, page_size=dict(page_size or {}))
    for resource in extra:
        chart.resources[(resource["resourceType"], resource["id"])] = resource
    app = make_app(
        tmp_path, [ehr.client_entry()], today="2026-06-15", **({"guideline": guideline} if guideline else {})
    )
    client = app.test_client()
    started = client.get("/launch", query_string={"iss": ISS, "launch": "l1"}, base_url=PUBLIC_URL)
    params = ehr.authorize(started.headers["Location"])
    finished = client.get("/launch/callback", query_string=params, base_url=PUBLIC_URL)
    handle = query(finished.headers["Location"])["s"]
    page = client.get(f"/plan?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True)
    return client, chart, handle, page, ehr


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)


def test_without_write_scopes_the_page_says_so_and_has_no_forms(tmp_path, rsps) -> None:
    _, _, _, page, _ = _launch(tmp_path, rsps, "launch openid fhirUser patient/*.rs")
    assert 'id="write-unavailable"' in page
    assert "did not grant PainPlan permission to save" in page and "Copy as note" in page
    assert "<form" not in page.split('id="write"')[1].split("</section>")[0]
    assert 'name="csrf_token"' not in page


def test_partial_grant_offers_only_the_granted_forms(tmp_path, rsps) -> None:
    _, _, _, page, _ = _launch(tmp_path, rsps, "launch patient/*.rs patient/Observation.c")
    assert 'id="write-peg"' in page and 'id="write-goal"' not in page
    assert "did not grant permission to save goals" in page
    reassess = page.split('id="step-reassess"')[1].split("</section>")[0]
    assert 'id="reassess-peg"' in reassess and 'href="#write-peg"' in reassess


def test_without_the_observation_scope_the_reassess_step_offers_no_peg_link(tmp_path, rsps) -> None:
    _, _, _, page, _ = _launch(tmp_path, rsps, "launch patient/*.rs patient/Goal.cu")
    assert 'id="write-goal"' in page and 'id="reassess-peg"' not in page


def test_a_write_without_the_csrf_token_is_refused_and_nothing_is_sent(tmp_path, rsps) -> None:
    client, chart, handle, _, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    for token in (None, "0" * 64):
        data = dict(PEG) if token is None else {**PEG, "csrf_token": token}
        answer = client.post(f"/plan/write/peg?s={handle}", data=data, base_url=PUBLIC_URL)
        assert answer.status_code == 403
        text = answer.get_data(as_text=True)
        assert "Not saved: the PEG score" in text and "did not come from the plan page" in text
        assert "pain: 6" in text  # what was typed is handed back, not lost
    assert chart.received == []


def test_a_write_after_the_launch_ended_hands_back_what_was_typed(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    other_window = client.application.test_client()  # no launch cookie: as after the launch has ended
    data = {"csrf_token": _token(page), "goal_kind": "pain", "description": "Pain at 4 or less"}
    answer = other_window.post(f"/plan/write/goal?s={handle}", data=data, base_url=PUBLIC_URL)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 401 and "Not saved: the goal" in text and "description: Pain at 4 or less" in text
    assert chart.received == []


@pytest.mark.parametrize("status", [500, 422])
def test_a_failed_write_says_what_was_not_saved_and_keeps_what_was_typed(tmp_path, rsps, status) -> None:
    client, chart, handle, page, ehr = _launch(tmp_path, rsps, WRITE_SCOPE, fail=status)
    data = {
        "csrf_token": _token(page),
        "goal_kind": "function",
        "description": "Walk to the mailbox & back",
        "measure": "every day",
        "due": "2026-09-15",
    }
    answer = client.post(f"/plan/write/goal?s={handle}", data=data, base_url=PUBLIC_URL)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 502
    assert "Not saved: the goal" in text and "What you typed is still in the form" in text
    assert 'value="Walk to the mailbox &amp; back"' in text and 'value="2026-09-15"' in text
    if status == 422:
        assert "did not accept the content: Server is busy" in text
    else:
        assert "HTTP 500" in text
    assert len(chart.received) == 1  # it was sent once, validated
    get_fhir_model_class("Goal").model_validate(chart.received[0][2])
    for token in ehr.access_tokens:
        assert token not in text


def test_a_write_whose_token_the_ehr_stopped_accepting_is_sent_with_a_renewed_one(tmp_path, rsps) -> None:
    # Found in the standards audit: a token the EHR refused before its stated expiry failed every read the save
    # makes first, and then the save itself; the token is now refreshed once and the form sent with the new one.
    client, chart, handle, page, ehr = _launch(tmp_path, rsps, WRITE_SCOPE)
    ehr.access_tokens.clear()  # the EHR no longer accepts the token it issued
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert answer.status_code == 303 and len(chart.written("Observation")) == 1
    assert [r["form"]["grant_type"] for r in ehr.token_requests].count("refresh_token") == 1


def test_invalid_input_is_not_sent_and_is_shown_back(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    data = {"csrf_token": _token(page), "pain": "12", "enjoyment": "7", "activity": "5"}
    answer = client.post(f"/plan/write/peg?s={handle}", data=data, base_url=PUBLIC_URL)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "A whole number from 0 to 10." in text and 'value="12"' in text
    assert chart.received == []


def test_handout_never_says_no_medicines_when_the_medication_search_failed(tmp_path, rsps) -> None:
    client, chart, handle, _, _ = _launch(tmp_path, rsps, "launch patient/*.rs")
    chart.failing_reads.add("MedicationRequest")
    for lang, unknown, none in (
        ("en", "We could not read your medicines", "Your chart shows no opioid"),
        ("es", "Hoy no pudimos leer sus medicinas", "Su expediente no muestra ninguna"),
    ):
        text = client.get(f"/plan/handout?s={handle}&lang={lang}", base_url=PUBLIC_URL).get_data(as_text=True)
        assert 'id="handout-medicines-unknown"' in text and unknown in text and none not in text


def test_a_saved_write_redirects_with_its_id_and_reads_back(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"], base_url=PUBLIC_URL).get_data(as_text=True)
    assert "Saved the PEG score as Observation/ehr-1." in shown
    assert chart.received[0][0:2] == ("POST", "Observation")


def test_handout_in_spanish_lists_current_medicines_and_needs_the_launch(tmp_path, rsps) -> None:
    client, _, handle, _, _ = _launch(tmp_path, rsps, "launch patient/*.rs")
    sheet = client.get(f"/plan/handout?s={handle}&lang=es", base_url=PUBLIC_URL)
    text = sheet.get_data(as_text=True)
    assert sheet.status_code == 200 and 'lang="es"' in text
    assert "Sus medicinas para el dolor ahora" in text and "morphine" in text.lower()
    assert "Su plan para bajar la dosis" not in text  # no schedule unless asked for
    assert "1-877-552-8247" in text and "988" in text
    with_schedule = client.get(f"/plan/handout?s={handle}&lang=es&schedule=1", base_url=PUBLIC_URL)
    assert "Su plan para bajar la dosis" in with_schedule.get_data(as_text=True)
    other = client.get("/plan/handout?s=AAAAAAAAAAAAAAAAAAAAAAAA&lang=es", base_url=PUBLIC_URL)
    assert other.status_code in (400, 401) and "Su plan" not in other.get_data(as_text=True)


def test_the_handout_gives_the_follow_up_visit_the_decision_scheduled(tmp_path, rsps) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    before = client.get(f"/plan/handout?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True)
    assert 'id="handout-next-visit"' not in before
    data = {
        "csrf_token": _token(page),
        "decision": "taper",
        "reasons": "More harm than benefit",
        "follow_up": "2026-07-14",
    }
    assert client.post(f"/plan/write/decision?s={handle}", data=data, base_url=PUBLIC_URL).status_code == 303
    english = client.get(f"/plan/handout?s={handle}", base_url=PUBLIC_URL).get_data(as_text=True)
    assert "Your next visit: Tuesday, July 14, 2026." in english
    spanish = client.get(f"/plan/handout?s={handle}&lang=es", base_url=PUBLIC_URL).get_data(as_text=True)
    assert "Su próxima cita: martes 14 de julio de 2026." in spanish


def _mme_shown(page: str) -> str:
    """The medications section's MME lines: the total and, with drafts, the comparison with the order."""
    section = page.split('id="medications"', 1)[1].split("</section>", 1)[0]
    return " ".join(re.findall(r"\d+\.\d MME/day[^<]*", section))


@pytest.mark.parametrize("fail", [None, 500])
def test_a_form_sent_back_shows_the_page_as_the_card_s_link_opened_it(tmp_path, rsps, fail) -> None:
    """Opened from Walter's order-sign card, the page evaluates with the order being signed (130 MME/day with it).
    A form sent back (a typing error, or the EHR refusing the save) shows that same page, not one without the
    order (90 MME/day, no comparison) that would contradict what the clinician just read."""
    from test_plan_with_drafts import walter_card_context

    _, _, context = walter_card_context()
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE, fail=fail, app_context=context)
    assert "130.0 with the order being signed" in _mme_shown(page)
    data = {"csrf_token": _token(page), **PEG, "pain": "12" if fail is None else "6"}
    answer = client.post(f"/plan/write/peg?s={handle}", data=data, base_url=PUBLIC_URL)
    text = answer.get_data(as_text=True)
    assert answer.status_code == (422 if fail is None else 502)
    assert "Not saved" in text or "A whole number from 0 to 10." in text
    assert _mme_shown(text) == _mme_shown(page)


SIGN_IN = "https://ehr.example.org/sso/login?next=%2Ffhir%2Fr4"


@pytest.mark.parametrize("form", ["peg", "goal"])
def test_a_write_the_ehr_redirects_to_a_sign_in_page_is_not_called_saved(tmp_path, rsps, form) -> None:
    """A gateway whose session ended answers a write with 302 to its sign-in page. Followed, the POST becomes a GET
    of that page, which answers 200: the clinician was told the PEG was saved when the EHR never stored it."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.redirect_writes = SIGN_IN
    rsps.add(responses.GET, SIGN_IN, body="<html><body>Sign in to continue</body></html>", content_type="text/html")
    typed = PEG if form == "peg" else {"goal_kind": "pain", "description": "Pain at 4 or less"}
    answer = client.post(
        f"/plan/write/{form}?s={handle}", data={**typed, "csrf_token": _token(page)}, base_url=PUBLIC_URL
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 502
    assert "Not saved:" in text and "What you typed is still in the form" in text
    assert "redirected" in text and "HTTP 302" in text
    assert 'write-result" role="status"' not in text  # no "Saved …" notice
    assert not any(c.request.url == SIGN_IN for c in rsps.calls)  # the sign-in page is never fetched


def test_a_2xx_whose_body_is_an_error_outcome_is_not_saved(rsps) -> None:
    """A gateway that answers 200 with an OperationOutcome of severity error stored nothing; an informational
    outcome (HAPI's "Successfully created resource") with a Location is a save."""
    from smart_app.write.send import send

    observation = peg(PEG, CONTEXT).resource
    failed = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": "Resource could not be stored"}],
    }
    rsps.add(responses.POST, f"{ISS}/Observation", json=failed, status=200, content_type="application/fhir+json")
    result = send(requests.Session(), ISS, "AT-1", "POST", "Observation", observation, 5)
    assert not result.ok and result.reference is None
    assert result.message == "the EHR answered without saving: Resource could not be stored"
    created = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": "Successfully created resource"}],
    }
    rsps.replace(
        responses.POST,
        f"{ISS}/Observation",
        json=created,
        status=201,
        headers={"Location": f"{ISS}/Observation/obs-81/_history/1"},
        content_type="application/fhir+json",
    )
    saved = send(requests.Session(), ISS, "AT-1", "POST", "Observation", observation, 5)
    assert saved.ok and saved.reference == "Observation/obs-81"


# ----- saved, not saved, or not known: what each answer (or no answer) from the EHR means


def _refused() -> Exception:
    """As requests raises it when nothing listens on the EHR's port: the record never left PainPlan."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, f"{ISS}/Observation", reason))


def _unresolved() -> Exception:
    """As requests raises it when the EHR's host name does not resolve."""
    import socket

    from urllib3.exceptions import MaxRetryError, NameResolutionError

    reason = NameResolutionError("ehr.example.org", None, socket.gaierror(-2, "Name or service not known"))
    return requests.ConnectionError(MaxRetryError(None, f"{ISS}/Observation", reason))


def _connect_timeout() -> Exception:
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

    reason = ConnectTimeoutError(None, "Connection to ehr.example.org timed out. (connect timeout=20)")
    return requests.ConnectTimeout(MaxRetryError(None, f"{ISS}/Observation", reason))


def _untrusted_certificate() -> Exception:
    """The TLS handshake failed on the certificate: nothing of the request was sent."""
    import ssl

    from urllib3.exceptions import MaxRetryError
    from urllib3.exceptions import SSLError as Urllib3SSLError

    reason = Urllib3SSLError(ssl.SSLCertVerificationError(1, "certificate verify failed: unable to get issuer"))
    return requests.exceptions.SSLError(MaxRetryError(None, f"{ISS}/Observation", reason))


def _read_timeout() -> Exception:
    """The record was sent; the EHR did not answer within the timeout."""
    from urllib3.exceptions import ReadTimeoutError

    return requests.ReadTimeout(ReadTimeoutError(None, f"{ISS}/Observation", "Read timed out. (read timeout=20)"))


def _remote_disconnected() -> Exception:
    """The record was sent; the EHR (or a proxy) closed the connection without answering."""
    from http.client import RemoteDisconnected

    from urllib3.exceptions import ProtocolError

    cause = RemoteDisconnected("Remote end closed connection without response")
    return requests.ConnectionError(ProtocolError("Connection aborted.", cause))


def _reset() -> Exception:
    from urllib3.exceptions import ProtocolError

    return requests.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset by peer")))


@pytest.mark.parametrize(
    ("method", "target", "status", "headers", "reference"),
    [
        ("POST", "Observation", 201, {"Location": f"{ISS}/Observation/obs-82/_history/1", "ETag": 'W/"1"'}, "obs-82"),
        ("POST", "Observation", 204, {}, None),  # return=minimal with nothing to say which id
        ("PUT", "Observation/obs-7", 204, {"ETag": 'W/"4"'}, "obs-7"),
        ("PUT", "Observation/obs-7", 200, {}, "obs-7"),
    ],
)
def test_a_write_the_ehr_answers_with_no_body_is_saved(rsps, method, target, status, headers, reference) -> None:
    """Prefer: return=minimal, or a server that ignores Prefer, answers a stored write with no body; 204 means done.
    Shown as not saved, the clinician saves again and the chart gets the record twice."""
    from smart_app.write.send import send

    observation = peg(PEG, CONTEXT).resource
    if method == "PUT":
        observation = {**observation, "id": "obs-7"}
    rsps.add(getattr(responses, method), f"{ISS}/{target}", body="", status=status, headers=headers)
    result = send(requests.Session(), ISS, "AT-1", method, target, observation, 5)
    assert result.ok and not result.unconfirmed and result.message == "saved"
    assert result.reference == (f"Observation/{reference}" if reference else None)


def test_a_write_the_ehr_accepted_but_has_not_stored_is_neither_saved_nor_not_saved(rsps, monkeypatch) -> None:
    """202 Accepted (an asynchronous server) says the EHR will process the write later: it may yet be stored."""
    from smart_app.write import send as send_module
    from smart_app.write.send import send

    monkeypatch.setattr(send_module, "POLL_WAITS", (0.0, 0.0, 0.0))

    status_url = f"{ISS}/_async/8d1f"
    rsps.add(responses.POST, f"{ISS}/Observation", body="", status=202, headers={"Content-Location": status_url})
    rsps.add(responses.GET, status_url, status=202)  # still processing each time it is asked
    result = send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 5)
    assert not result.ok and result.unconfirmed and result.reference is None and result.status == 202
    assert result.message == (
        "the record was sent and the EHR accepted it for processing, but had not confirmed it was saved when "
        "PainPlan last asked"
    )


@pytest.mark.parametrize(
    ("error", "unconfirmed", "message"),
    [
        (_refused, False, "the EHR could not be reached"),
        (_unresolved, False, "the EHR could not be reached"),
        (_connect_timeout, False, "the EHR could not be reached in time"),
        (_untrusted_certificate, False, "the EHR could not be reached"),
        (_read_timeout, True, "the record was sent but the EHR did not answer in time"),
        (_remote_disconnected, True, "the record was sent but the connection to the EHR was lost before it answered"),
        (_reset, True, "the record was sent but the connection to the EHR was lost before it answered"),
        (
            requests.ConnectionError,
            True,
            "the record was sent but the connection to the EHR was lost before it answered",
        ),
    ],
)
def test_a_write_that_got_no_answer_says_whether_it_was_sent(rsps, error, unconfirmed, message) -> None:
    """Only a failure before the record left PainPlan is "not saved"; once it was sent, the EHR may have stored it."""
    from smart_app.write.send import send

    rsps.add(responses.POST, f"{ISS}/Observation", body=error())
    result = send(requests.Session(), ISS, "AT-1", "POST", "Observation", peg(PEG, CONTEXT).resource, 5)
    assert not result.ok and result.unconfirmed is unconfirmed and result.reference is None
    assert result.message == message


@pytest.mark.parametrize("status", [204, 202])
def test_the_page_calls_a_write_answered_without_a_body_saved_and_a_202_unconfirmed(tmp_path, rsps, status) -> None:
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    chart.answer_status = status
    answer = client.post(f"/plan/write/peg?s={handle}", data={**PEG, "csrf_token": _token(page)}, base_url=PUBLIC_URL)
    assert len(chart.written("Observation")) == 1
    if status == 204:
        assert answer.status_code == 303
        shown = client.get(answer.headers["Location"], base_url=PUBLIC_URL).get_data(as_text=True)
        assert "Saved the PEG score." in shown and "Not saved" not in shown
        return
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 202 and "Not saved" not in text and 'write-result" role="status"' not in text
    assert (
        "May not have been saved: the PEG score — the record was sent and the EHR accepted it for processing, but "
        "had not confirmed it was saved when PainPlan last asked. Check the patient's chart in the EHR before saving "
        "again" in text
    )
    assert "what you typed is still in the form below." in text and re.search(r'name="pain"[^>]*value="6"', text)


@pytest.mark.parametrize("lost", [True, False])
def test_the_page_never_calls_a_write_that_may_be_stored_not_saved(tmp_path, rsps, lost) -> None:
    """The EHR stored the goal but its answer never came: "Not saved" would have the clinician save it twice.
    When the EHR could not be reached at all, nothing was stored and "Not saved" is the truth."""
    client, chart, handle, page, _ = _launch(tmp_path, rsps, WRITE_SCOPE)
    if lost:
        chart.answer_lost = _read_timeout()
    else:
        chart.unreachable = _refused()
    data = {"csrf_token": _token(page), "goal_kind": "pain", "description": "Pain at 4 or less"}
    answer = client.post(f"/plan/write/goal?s={handle}", data=data, base_url=PUBLIC_URL)
    text = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 502 and 'value="Pain at 4 or less"' in text
    if lost:
        assert len(chart.written("Goal")) == 1
        assert "Not saved" not in text
        assert (
            "May not have been saved: the goal — the record was sent but the EHR did not answer in time. Check the "
            "patient's chart in the EHR before saving again (the records listed on this page were read again after "
            "this save, and a record the EHR is still processing may not be among them yet); what you typed is still "
            "in the form below." in text
        )
    else:
        assert chart.received == []
        assert "Not saved: the goal — the EHR could not be reached. What you typed is still in the form" in text
        assert "May not have been saved" not in text
