"""SMART App Launch end to end against a strict fake EHR: EHR and standalone launch, CSRF, PKCE, client auth."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from launch_support import (
    ASSERTION_TYPE,
    AUTHORIZE_URL,
    ISS,
    JWKS_URL,
    PUBLIC_URL,
    REDIRECT_URI,
    TOKEN_URL,
    FakeEhr,
    ec_client_key,
    make_app,
    query,
    rsa_client_key,
)
from sqlalchemy import create_engine, select

from launch.scopes import PLAN_RESOURCES, WRITE_RESOURCES
from launch.session import LaunchError, current_launch

RSA_KEY = rsa_client_key()  # RSA generation is slow; one key serves the module


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def add_probe(app: Flask) -> None:
    """A test-only page that shows what `current_launch()` returns (never the token itself)."""

    @app.get("/_probe")
    def _probe() -> Any:
        try:
            session = current_launch()
        except LaunchError as error:
            return {"error": error.message}, error.status
        return {
            "patient": session.patient_id,
            "encounter": session.encounter_id,
            "user": session.user,
            "scope": session.scope,
            "app_context": dict(session.app_context) if session.app_context else None,
            "need_patient_banner": session.need_patient_banner,
            "tenant": session.tenant,
            "iss": session.iss,
            "token_sha": hashlib.sha256(session.access_token.encode()).hexdigest() if session.access_token else None,
        }


def get(client: FlaskClient, path: str, **kwargs: Any) -> Any:
    return client.get(path, base_url=PUBLIC_URL, **kwargs)


def run_launch(
    client: FlaskClient, ehr: FakeEhr, *, launch: str | None = "launch-abc", approve: bool = True, iss: str = ISS
) -> tuple[Any, dict[str, str], Any]:
    """Browser steps: /launch, EHR authorize, /launch/callback; returns (launch, callback params, callback)."""
    args = {"iss": iss}
    if launch is not None:
        args["launch"] = launch
    started = get(client, "/launch", query_string=args)
    assert started.status_code == 302, started.get_data(as_text=True)
    params = ehr.authorize(started.headers["Location"], approve=approve)
    finished = get(client, "/launch/callback", query_string=params)
    return started, params, finished


def handle_of(response: Any) -> str:
    location = response.headers["Location"]
    assert location.startswith("/plan?"), location
    return query(location)["s"]


def set_cookies(response: Any) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_ehr_launch_with_private_key_jwt_end_to_end(tmp_path, rsps):
    ehr = FakeEhr(
        rsps,
        client_key=RSA_KEY,
        grant_scope="launch openid fhirUser patient/Patient.rs patient/MedicationRequest.rs",
        extra_context={"need_patient_banner": False, "tenant": "site-7", "appContext": '{"order": "rx-1"}'},
    )
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()

    started, params, finished = run_launch(client, ehr)

    authorize = query(started.headers["Location"])
    assert started.headers["Location"].startswith(AUTHORIZE_URL + "?")
    assert authorize["response_type"] == "code"
    assert authorize["client_id"] == "painplan-client"
    assert authorize["redirect_uri"] == REDIRECT_URI
    assert authorize["launch"] == "launch-abc"
    assert authorize["aud"] == ISS
    assert authorize["code_challenge_method"] == "S256"
    assert len(authorize["state"]) >= 32  # 256 random bits, URL-safe base64
    scopes = authorize["scope"].split()
    assert "launch" in scopes and "openid" in scopes and "fhirUser" in scopes
    assert "launch/patient" not in scopes

    assert finished.status_code == 303
    handle = handle_of(finished)
    (token_request,) = ehr.token_requests
    form = token_request["form"]
    assert form["grant_type"] == "authorization_code"
    assert form["redirect_uri"] == REDIRECT_URI
    assert 43 <= len(form["code_verifier"]) <= 128
    assert form["client_assertion_type"] == ASSERTION_TYPE
    assert "Authorization" not in token_request["headers"]
    ((header, claims),) = ehr.assertions
    assert header["alg"] == "RS384" and header["kid"] == "painplan-rs384"
    assert claims["aud"] == TOKEN_URL
    assert claims["iss"] == claims["sub"] == "painplan-client"
    assert 0 < claims["exp"] - claims["iat"] <= 300

    shown = get(client, "/_probe", query_string={"s": handle}).get_json()
    assert shown["patient"] == "pat-0001"
    assert shown["encounter"] == "enc-77"
    assert shown["user"] == "Practitioner/prac-9"  # from the verified id_token
    assert shown["scope"] == "launch openid fhirUser patient/Patient.rs patient/MedicationRequest.rs"  # as granted
    assert shown["app_context"] == {"order": "rx-1"}  # a JSON string, parsed
    assert shown["need_patient_banner"] is False
    assert shown["tenant"] == "site-7"
    assert shown["iss"] == ISS
    assert shown["token_sha"] == hashlib.sha256(ehr.access_tokens[0].encode()).hexdigest()


def test_es384_assertions_get_a_fresh_jti_every_time(tmp_path, rsps):
    ehr = FakeEhr(rsps, client_key=ec_client_key())
    app = make_app(tmp_path, [ehr.client_entry()])
    client = app.test_client()
    for _ in range(3):
        assert run_launch(client, ehr)[2].status_code == 303
    assert len(ehr.assertions) == 3
    assert {header["alg"] for header, _ in ehr.assertions} == {"ES384"}
    assert len({claims["jti"] for _, claims in ehr.assertions}) == 3


def test_standalone_launch_uses_default_iss_and_launch_patient_scope(tmp_path, rsps):
    ehr = FakeEhr(rsps, client_secret="s3cret")
    app = make_app(tmp_path, [ehr.client_entry()], smart_default_iss=ISS + "/")
    add_probe(app)
    client = app.test_client()

    started = get(client, "/launch")
    assert started.status_code == 302
    authorize = query(started.headers["Location"])
    assert "launch" not in authorize
    assert authorize["aud"] == ISS
    scopes = authorize["scope"].split()
    assert "launch/patient" in scopes and "launch" not in scopes
    finished = get(client, "/launch/callback", query_string=ehr.authorize(started.headers["Location"]))
    assert finished.status_code == 303
    (token_request,) = ehr.token_requests
    assert token_request["headers"]["Authorization"].startswith("Basic ")
    assert "client_assertion" not in token_request["form"]
    assert get(client, "/_probe", query_string={"s": handle_of(finished)}).get_json()["patient"] == "pat-0001"


def test_public_client_sends_client_id_in_the_token_request(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    _, _, finished = run_launch(app.test_client(), ehr)
    assert finished.status_code == 303
    (token_request,) = ehr.token_requests
    assert token_request["form"]["client_id"] == "painplan-client"
    assert "Authorization" not in token_request["headers"]


def test_v2_scopes_when_permission_v2_is_advertised(tmp_path, rsps):
    ehr = FakeEhr(rsps, permission_v2=True)
    app = make_app(tmp_path, [ehr.client_entry()])
    started = get(app.test_client(), "/launch", query_string={"iss": ISS, "launch": "l1"})
    scopes = query(started.headers["Location"])["scope"].split()
    resources = [scope for scope in scopes if scope.startswith("patient/")]
    # Reads for the page, plus only the creates/updates the write-back forms use (issue 12).
    writes = [f"patient/{name}.{rights}" for name, rights in WRITE_RESOURCES.items()]
    assert sorted(resources) == sorted([*(f"patient/{name}.rs" for name in PLAN_RESOURCES), *writes])
    assert "patient/Observation.c" in scopes and "patient/Goal.cu" in scopes
    assert not any(scope.endswith((".read", ".write", ".d", ".cruds", ".*")) for scope in scopes)


def test_write_back_off_asks_for_reads_only(tmp_path, rsps):
    ehr = FakeEhr(rsps, permission_v2=True)
    app = make_app(tmp_path, [ehr.client_entry()], write_back=False)
    started = get(app.test_client(), "/launch", query_string={"iss": ISS, "launch": "l1"})
    resources = [s for s in query(started.headers["Location"])["scope"].split() if s.startswith("patient/")]
    assert sorted(resources) == sorted(f"patient/{name}.rs" for name in PLAN_RESOURCES)


def test_v1_scopes_and_metadata_fallback_for_a_smart_1_server(tmp_path, rsps):
    ehr = FakeEhr(rsps, well_known=False, permission_v2=False)
    app = make_app(tmp_path, [ehr.client_entry()])
    client = app.test_client()
    started, _, finished = run_launch(client, ehr)
    called = [call.request.url for call in rsps.calls]
    assert called[0] == f"{ISS}/.well-known/smart-configuration"
    assert called[1] == f"{ISS}/metadata"
    scopes = query(started.headers["Location"])["scope"].split()
    resources = [scope for scope in scopes if scope.startswith("patient/")]
    writes = [f"patient/{name}.write" for name in WRITE_RESOURCES]
    assert sorted(resources) == sorted([*(f"patient/{name}.read" for name in PLAN_RESOURCES), *writes])
    assert not any(scope.endswith((".rs", ".c", ".cu")) for scope in scopes)
    assert finished.status_code == 303


def test_iss_not_on_the_allowlist_gets_a_friendly_400_and_no_outbound_call(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    response = get(app.test_client(), "/launch", query_string={"iss": "https://evil.example.net/fhir", "launch": "x"})
    assert response.status_code == 400
    assert "not registered" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert len(rsps.calls) == 0


def test_no_iss_and_no_default_is_refused_without_calls(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    response = get(app.test_client(), "/launch")
    assert response.status_code == 400
    assert len(rsps.calls) == 0


def test_discovery_failure_is_a_friendly_502(tmp_path, rsps):
    ehr = FakeEhr(rsps, well_known=False, metadata=False)
    app = make_app(tmp_path, [ehr.client_entry()])
    response = get(app.test_client(), "/launch", query_string={"iss": ISS, "launch": "l"})
    assert response.status_code == 502
    assert "sign-in service" in response.get_data(as_text=True)


@pytest.mark.parametrize("tamper", ["changed", "missing"])
def test_tampered_or_missing_state_is_rejected_without_token_exchange(tmp_path, rsps, tamper):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    client = app.test_client()
    started = get(client, "/launch", query_string={"iss": ISS, "launch": "l"})
    params = ehr.authorize(started.headers["Location"])
    if tamper == "changed":
        params["state"] = params["state"][:-2] + ("AA" if not params["state"].endswith("AA") else "BB")
    else:
        del params["state"]
    response = get(client, "/launch/callback", query_string=params)
    assert response.status_code == 400
    assert ehr.token_requests == []
    assert "Location" not in response.headers


def test_reused_state_is_rejected_and_the_code_is_exchanged_once(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    client = app.test_client()
    started = get(client, "/launch", query_string={"iss": ISS, "launch": "l"})
    params = ehr.authorize(started.headers["Location"])
    # Keep the state cookie so the replay is refused for the right reason: the state is spent.
    cookies = {cookie.key: cookie.value for cookie in client._cookies.values()}
    assert get(client, "/launch/callback", query_string=params).status_code == 303
    for name, value in cookies.items():
        client.set_cookie(name, value, domain="painplan.test")
    replay = get(client, "/launch/callback", query_string=params)
    assert replay.status_code == 400
    assert "already used" in replay.get_data(as_text=True)
    assert len(ehr.token_requests) == 1


def test_state_from_another_browser_is_rejected(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    victim, attacker = app.test_client(), app.test_client()
    started = get(attacker, "/launch", query_string={"iss": ISS, "launch": "l"})
    params = ehr.authorize(started.headers["Location"])
    response = get(victim, "/launch/callback", query_string=params)  # login-CSRF: no binding cookie
    assert response.status_code == 400
    assert ehr.token_requests == []


def test_access_denied_shows_a_friendly_page(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    _, _, finished = run_launch(app.test_client(), ehr, approve=False)
    text = finished.get_data(as_text=True)
    assert finished.status_code == 403
    assert "not granted" in text
    assert "<b>User said no</b>" not in text  # the EHR's description is never echoed
    assert ehr.token_requests == []


def test_token_endpoint_refusal_is_a_friendly_page(tmp_path, rsps):
    ehr = FakeEhr(rsps, client_secret="right")
    app = make_app(tmp_path, [{**ehr.client_entry(), "client_secret": "wrong"}])
    _, _, finished = run_launch(app.test_client(), ehr)
    assert finished.status_code == 502
    assert "did not issue access" in finished.get_data(as_text=True)


def test_tokens_never_reach_html_locations_cookies_or_the_database_in_clear(tmp_path, rsps):
    ehr = FakeEhr(rsps, client_key=ec_client_key())
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    started, _, finished = run_launch(client, ehr)
    probe = get(client, "/_probe", query_string={"s": handle_of(finished)})
    secrets_issued = ehr.access_tokens + list(ehr.refresh_tokens)
    assert secrets_issued
    for response in (started, finished, probe):
        exposed = response.get_data(as_text=True) + response.headers.get("Location", "")
        exposed += " ".join(set_cookies(response))
        for secret in secrets_issued:
            assert secret not in exposed
    engine = create_engine(f"sqlite:///{tmp_path / 'launch.db'}")
    from launch.store import sessions

    with engine.connect() as connection:
        (row,) = connection.execute(select(sessions)).mappings().all()
    stored = " ".join(str(value) for value in row.values())
    for secret in secrets_issued:
        assert secret not in stored


def test_launch_cookie_attributes(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    started, _, finished = run_launch(app.test_client(), ehr)
    (state_cookie,) = set_cookies(started)
    assert state_cookie.startswith("pp_auth_")
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/launch", "Max-Age=600"):
        assert attribute in state_cookie
    launch_cookie = next(c for c in set_cookies(finished) if c.startswith("pp_launch_"))
    for attribute in ("HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/"):
        assert attribute in launch_cookie
    assert launch_cookie.startswith(f"pp_launch_{handle_of(finished)}=")
    cleared = next(c for c in set_cookies(finished) if c.startswith("pp_auth_"))
    assert "Max-Age=0" in cleared


def test_launch_pages_may_be_framed_only_by_the_configured_ehr(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    started, _, finished = run_launch(app.test_client(), ehr)
    refused = get(app.test_client(), "/launch", query_string={"iss": "https://other.example"})
    for response in (started, finished, refused):
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://ehr.example.org"
        assert response.headers["Cache-Control"] == "no-store"
        assert "X-Frame-Options" not in response.headers


def test_two_launches_in_one_browser_stay_separate(tmp_path, rsps):
    ehr = FakeEhr(rsps, client_key=ec_client_key())
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    browser = app.test_client()
    ehr.patient = "pat-A"
    first = handle_of(run_launch(browser, ehr, launch="launch-A")[2])
    ehr.patient = "pat-B"
    second = handle_of(run_launch(browser, ehr, launch="launch-B")[2])
    assert first != second
    assert get(browser, "/_probe", query_string={"s": first}).get_json()["patient"] == "pat-A"
    assert get(browser, "/_probe", query_string={"s": second}).get_json()["patient"] == "pat-B"
    assert get(browser, "/_probe", query_string={"s": first}).get_json()["patient"] == "pat-A"

    # The handle alone (say, a copied URL) opens nothing in another browser.
    other = app.test_client()
    refused = get(other, "/_probe", query_string={"s": first})
    assert refused.status_code == 401
    # Nor does one launch's cookie unlock the other launch.
    cookie = browser.get_cookie(f"pp_launch_{first}", domain="painplan.test")
    other.set_cookie(f"pp_launch_{second}", cookie.value, domain="painplan.test")
    assert get(other, "/_probe", query_string={"s": second}).status_code == 401


def test_probe_without_a_launch_is_refused(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    assert get(client, "/_probe").status_code == 400
    assert get(client, "/_probe", query_string={"s": "x" * 43}).status_code == 401


def test_expired_token_is_refreshed_and_refresh_tokens_rotate(tmp_path, rsps):
    # expires_in below the one-minute leeway: every request must refresh, each with the newest refresh token.
    ehr = FakeEhr(rsps, client_key=ec_client_key(), expires_in=30, refresh_expires_in=30)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    for round_number in range(1, 4):
        shown = get(client, "/_probe", query_string={"s": handle}).get_json()
        assert shown["token_sha"] == hashlib.sha256(ehr.access_tokens[round_number].encode()).hexdigest()
        assert shown["patient"] == "pat-0001"
    refreshes = [r["form"] for r in ehr.token_requests if r["form"]["grant_type"] == "refresh_token"]
    assert len(refreshes) == 3
    assert len({form["refresh_token"] for form in refreshes}) == 3  # never the same one twice
    assert all(spent for spent in list(ehr.refresh_tokens.values())[:3])


def test_a_fresh_token_is_not_refreshed(tmp_path, rsps):
    ehr = FakeEhr(rsps, expires_in=3600)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    for _ in range(3):
        assert get(client, "/_probe", query_string={"s": handle}).status_code == 200
    assert len(ehr.token_requests) == 1


def test_refresh_that_changes_the_patient_ends_the_launch(tmp_path, rsps):
    ehr = FakeEhr(rsps, expires_in=10, refresh_patient="pat-OTHER")
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    response = get(client, "/_probe", query_string={"s": handle})
    assert response.status_code == 409
    assert "pat-OTHER" not in response.get_data(as_text=True)
    assert get(client, "/_probe", query_string={"s": handle}).status_code == 401  # the launch is gone


def test_expired_token_without_refresh_token_asks_for_a_relaunch(tmp_path, rsps):
    ehr = FakeEhr(rsps, expires_in=10, issue_refresh_token=False)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    response = get(client, "/_probe", query_string={"s": handle})
    assert response.status_code == 401
    assert "again from the patient's chart" in response.get_json()["error"]


def test_refused_refresh_asks_for_a_relaunch(tmp_path, rsps):
    ehr = FakeEhr(rsps, expires_in=10)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    for token in ehr.refresh_tokens:
        ehr.refresh_tokens[token] = True  # the server revoked it
    assert get(client, "/_probe", query_string={"s": handle}).status_code == 401


def _page_text(response: Any) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_a_token_the_ehr_refuses_before_its_stated_expiry_is_refreshed_and_the_page_read_again(tmp_path, rsps):
    # Found in the standards audit (check #47): when the EHR stopped accepting the launch's token before the
    # expiry it had stated (revoked early, or an expires_in it never sent), every read of the plan page answered
    # 401 and the page showed nothing but "could not be read (HTTP 401)", with no refresh and no way out named.
    ehr = FakeEhr(rsps, expires_in=3600)
    ehr.serve_fhir()
    app = make_app(tmp_path, [ehr.client_entry()])
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    ehr.token_patients.clear()  # the EHR no longer accepts the token it issued

    page = get(client, "/plan", query_string={"s": handle})

    assert page.status_code == 200 and "HTTP 401" not in _page_text(page)
    refreshes = [r for r in ehr.token_requests if r["form"]["grant_type"] == "refresh_token"]
    assert len(refreshes) == 1
    assert ehr.token_patients == {ehr.access_tokens[-1]: "pat-0001"} and ehr.fhir_reads  # read with the new token

    ehr.token_patients.clear()  # the handout reads the chart by the same rule
    handout = get(client, "/plan/handout", query_string={"s": handle})
    assert handout.status_code == 200 and "HTTP 401" not in _page_text(handout)
    assert [r["form"]["grant_type"] for r in ehr.token_requests].count("refresh_token") == 2


def test_a_refused_token_with_no_refresh_token_asks_for_a_relaunch(tmp_path, rsps):
    ehr = FakeEhr(rsps, expires_in=3600, issue_refresh_token=False)
    ehr.serve_fhir()
    app = make_app(tmp_path, [ehr.client_entry()])
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    ehr.token_patients.clear()

    page = get(client, "/plan", query_string={"s": handle})

    assert page.status_code == 401 and "again from the patient's chart" in _page_text(page)
    assert get(client, "/plan", query_string={"s": handle}).status_code == 401  # the launch has ended
    assert [r["form"]["grant_type"] for r in ehr.token_requests] == ["authorization_code"]


def test_id_token_with_a_bad_signature_yields_no_user(tmp_path, rsps):
    from joserfc.jwk import ECKey

    ehr = FakeEhr(rsps)
    forged = ECKey.generate_key("P-256", parameters={"kid": "ehr-1"})
    original = ehr.id_token
    ehr.id_token = lambda nonce, key=None: original(nonce, key=forged)  # type: ignore[method-assign]
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    shown = get(client, "/_probe", query_string={"s": handle}).get_json()
    assert shown["user"] is None
    assert shown["patient"] == "pat-0001"


@pytest.mark.parametrize(
    "override",
    [{"aud": "someone-else"}, {"nonce": "replayed-nonce"}, {"iss": "https://other-issuer.example"}, {"exp": 1000}],
)
def test_id_token_with_wrong_claims_yields_no_user(tmp_path, rsps, override):
    ehr = FakeEhr(rsps, id_token_overrides=override)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    assert get(client, "/_probe", query_string={"s": handle}).get_json()["user"] is None


def test_jwks_is_fetched_once_for_many_launches(tmp_path, rsps):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    for _ in range(3):
        handle = handle_of(run_launch(client, ehr)[2])
        assert get(client, "/_probe", query_string={"s": handle}).get_json()["user"] == "Practitioner/prac-9"
    assert [call.request.url for call in rsps.calls].count("https://auth.example.org/oauth2/jwks") == 1


def test_an_ehr_jwks_with_one_unreadable_key_still_verifies_the_id_token(tmp_path, rsps):
    # Found in the standards audit: one malformed key in the EHR's JWK Set (an RSA key without its modulus) made the
    # whole set unreadable, so every launch lost the user's identity (RFC 7517 §5: ignore that key, not the set).
    ehr = FakeEhr(rsps)
    broken = {"kty": "RSA", "kid": "rotating", "use": "sig", "e": "AQAB"}
    rsps.replace(responses.GET, JWKS_URL, json={"keys": [broken, ehr.id_token_key.as_dict(private=False)]})
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    assert get(client, "/_probe", query_string={"s": handle}).get_json()["user"] == "Practitioner/prac-9"


@pytest.mark.parametrize("patient", ["", "../Observation?code=x", "pat 1", "a/b"])
def test_token_response_without_a_usable_patient_is_refused(tmp_path, rsps, patient):
    ehr = FakeEhr(rsps)
    ehr.patient = patient
    app = make_app(tmp_path, [ehr.client_entry()])
    _, _, finished = run_launch(app.test_client(), ehr)
    assert finished.status_code == 400
    assert "which patient" in finished.get_data(as_text=True)


def test_concurrent_request_waits_for_the_refresh_in_progress(tmp_path, rsps):
    import threading

    from launch import store
    from launch.service import service_for

    ehr = FakeEhr(rsps, expires_in=10)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    service = service_for(app)
    # Another worker holds the refresh lock and finishes its refresh shortly.
    assert store.claim_refresh(service.engine, handle, 15)

    def other_worker() -> None:
        time.sleep(0.3)
        values = {"access_token": service.cipher.seal("AT-from-other-worker"), "token_expires_at": store.now() + 3600}
        store.store_refreshed(service.engine, handle, values)

    worker = threading.Thread(target=other_worker)
    worker.start()
    shown = get(client, "/_probe", query_string={"s": handle}).get_json()
    worker.join()
    assert shown["token_sha"] == hashlib.sha256(b"AT-from-other-worker").hexdigest()
    assert [r for r in ehr.token_requests if r["form"]["grant_type"] == "refresh_token"] == []


def test_refresh_stuck_elsewhere_gives_a_retry_message(tmp_path, rsps, monkeypatch):
    from launch import session as launch_session
    from launch import store
    from launch.service import service_for

    monkeypatch.setattr(launch_session, "REFRESH_WAIT_SECONDS", 0.3)
    ehr = FakeEhr(rsps, expires_in=10)
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    handle = handle_of(run_launch(client, ehr)[2])
    assert store.claim_refresh(service_for(app).engine, handle, 15)
    response = get(client, "/_probe", query_string={"s": handle})
    assert response.status_code == 503
    assert "Reload" in response.get_json()["error"]


@pytest.mark.parametrize(("expires_in", "status"), [(["a"], 502), (float("inf"), 502), (10**30, 303), (1e300, 303)])
def test_a_garbled_expires_in_is_a_friendly_page_never_a_500(tmp_path, rsps, expires_in, status):
    # Found by fuzzing the token response: a list (authlib's int() raised TypeError) and 10^30 seconds (the session
    # store's integer column overflowed) both ended the launch in a 500. A huge lifetime is now trusted for a day.
    from launch.session import MAX_TOKEN_SECONDS

    ehr = FakeEhr(rsps, extra_context={"expires_in": expires_in})
    app = make_app(tmp_path, [ehr.client_entry()])
    add_probe(app)
    client = app.test_client()
    _, _, finished = run_launch(client, ehr)
    assert finished.status_code == status
    if status == 303:
        handle = handle_of(finished)
        assert get(client, "/_probe", query_string={"s": handle}).get_json()["patient"] == "pat-0001"
        import time

        from launch import store

        row = store.load_session(app.extensions["painplan.launch"].engine, handle)
        assert row["token_expires_at"] <= int(time.time()) + MAX_TOKEN_SECONDS + 5
    else:
        assert "did not include usable access" in finished.get_data(as_text=True)
