"""The launch building blocks on their own: allowlist file, discovery parsing, scopes, assertions, store, cookies."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey
from launch_support import ISS, PUBLIC_URL, TOKEN_URL, FakeEhr, ec_client_key, make_app, query

from guideline.config import ConfigError
from launch import store
from launch.clients import load_clients, parse_clients
from launch.crypto import TokenCipher, random_secret
from launch.discovery import (
    DiscoveryCache,
    SmartConfiguration,
    parse_capability_statement,
    parse_well_known,
)
from launch.oauth import SmartPrivateKeyJWT
from launch.scopes import PLAN_RESOURCES, USER_READS, requested_scope
from launch.session import (
    LaunchError,
    LaunchSession,
    app_context_hints,
    begin_trusted_launch,
    current_launch,
    frame_ancestors_header,
    plan_url,
)
from smart_app.config import load_settings


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# ----- the allowlist file


def test_clients_file_maps_normalised_iss_to_client(tmp_path):
    path = tmp_path / "clients.json"
    key = ec_client_key()
    path.write_text(
        json.dumps(
            [
                {"iss": "https://a.example/fhir/", "client_id": "one", "client_secret": "topsecret-value"},
                {"iss": " https://b.example/fhir ", "client_id": "two", "private_jwk": key.as_dict(private=True)},
                {"iss": "https://c.example/fhir", "client_id": "three", "scope": "patient/*.read"},
            ]
        )
    )
    clients = load_clients(str(path))
    assert clients["https://a.example/fhir"].auth_method == "client_secret_basic"
    assert clients["https://b.example/fhir"].auth_method == "private_key_jwt"
    assert clients["https://b.example/fhir"].signing_alg == "ES384"
    assert clients["https://c.example/fhir"].auth_method == "none"
    assert "topsecret-value" not in repr(clients["https://a.example/fhir"])
    assert load_clients("") == {}


@pytest.mark.parametrize(
    "entry, complaint",
    [
        ({"client_id": "x"}, "iss and client_id"),
        ({"iss": "https://a", "client_id": "x", "client_secret": "s", "private_jwk": {"kid": "k"}}, "not both"),
        ({"iss": "https://a", "client_id": "x", "private_jwk": {"kty": "RSA"}}, "kid"),
        ({"iss": "https://a", "client_id": "x", "private_jwk": "not-a-jwk"}, "JSON object"),
    ],
)
def test_bad_client_entries_are_configuration_errors(entry, complaint):
    with pytest.raises(ConfigError, match=complaint):
        parse_clients([entry])


def test_private_jwk_must_be_private_and_rs384_or_es384():
    public_only = ec_client_key().as_dict(private=False)
    with pytest.raises(ConfigError, match="private"):
        parse_clients([{"iss": "https://a", "client_id": "x", "private_jwk": public_only}])
    p256 = ECKey.generate_key("P-256", parameters={"kid": "k"}, private=True).as_dict(private=True)
    with pytest.raises(ConfigError, match="P-384"):
        parse_clients([{"iss": "https://a", "client_id": "x", "private_jwk": p256}])
    rs256 = RSAKey.generate_key(2048, parameters={"kid": "k", "alg": "RS256"}, private=True).as_dict(private=True)
    with pytest.raises(ConfigError, match="RS384 or ES384"):
        parse_clients([{"iss": "https://a", "client_id": "x", "private_jwk": rs256}])
    secret = OctKey.generate_key(256, parameters={"kid": "k"}).as_dict(private=True)
    with pytest.raises(ConfigError):
        parse_clients([{"iss": "https://a", "client_id": "x", "private_jwk": secret}])


def test_duplicate_iss_and_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="twice"):
        parse_clients([{"iss": "https://a/", "client_id": "x"}, {"iss": "https://a", "client_id": "y"}])
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_clients(str(broken))
    with pytest.raises(ConfigError, match="cannot read"):
        load_clients(str(tmp_path / "missing.json"))


# ----- discovery documents


def test_well_known_relative_endpoints_resolve_against_the_fhir_base():
    config = parse_well_known(
        "https://ehr.example/fhir",
        {"authorization_endpoint": "auth/authorize", "token_endpoint": "/oauth/token", "capabilities": ["x"]},
        allow_http=False,
    )
    assert config is not None
    assert config.authorization_endpoint == "https://ehr.example/fhir/auth/authorize"
    assert config.token_endpoint == "https://ehr.example/oauth/token"
    assert not config.permission_v2


def test_plain_http_endpoints_need_allow_http():
    document = {"authorization_endpoint": "http://ehr/authorize", "token_endpoint": "http://ehr/token"}
    assert parse_well_known("http://ehr/fhir", document, allow_http=False) is None
    assert parse_well_known("http://ehr/fhir", document, allow_http=True) is not None
    assert parse_well_known("https://ehr/fhir", {"token_endpoint": "https://ehr/t"}, allow_http=False) is None
    assert parse_well_known("https://ehr/fhir", ["not", "an", "object"], allow_http=False) is None


def test_capability_statement_without_oauth_uris_is_not_a_configuration():
    assert parse_capability_statement("https://e/fhir", {"resourceType": "CapabilityStatement"}, False) is None
    statement = {"rest": [{"security": {"extension": [{"url": "other", "extension": []}]}}, "junk"]}
    assert parse_capability_statement("https://e/fhir", statement, False) is None


def test_discovery_is_cached_per_iss(rsps):
    FakeEhr(rsps)
    cache = DiscoveryCache(timeout=1.0, allow_http=False)
    first, second = cache.get(ISS), cache.get(ISS)
    assert first is second
    assert len(rsps.calls) == 1


# ----- scopes


def test_scope_dialects_never_mix_and_override_replaces_resources():
    v2 = SmartConfiguration("https://a/authorize", "https://a/token", capabilities=frozenset({"permission-v2"}))
    v1 = SmartConfiguration("https://a/authorize", "https://a/token", capabilities=frozenset({"permission-v1"}))
    v2_scope = requested_scope(v2, ehr_launch=True).split()
    v1_scope = requested_scope(v1, ehr_launch=False).split()
    assert len([s for s in v2_scope if s.endswith(".rs")]) == len(PLAN_RESOURCES)
    assert not [s for s in v2_scope if s.endswith(".read")]
    # The page's reads, and the organisation data it reads by id as the user (Location: v1 has no finer `.r`).
    assert len([s for s in v1_scope if s.endswith(".read")]) == len(PLAN_RESOURCES) + len(USER_READS)
    assert not [s for s in v1_scope if s.endswith(".rs")]
    assert "offline_access" not in v2_scope
    custom = requested_scope(v2, ehr_launch=True, override="patient/*.read  launch").split()
    assert custom.count("launch") == 1
    assert "patient/*.read" in custom and not [s for s in custom if s.endswith(".rs")]


def test_the_plan_page_asks_to_read_medication_statements_only_when_the_site_turned_them_on():
    from smart_app.config import load_settings

    v2 = SmartConfiguration("https://a/authorize", "https://a/token", capabilities=frozenset({"permission-v2"}))
    on = load_settings(guideline={"prefetch": {"medication_statements": True}}).launch
    assert on.extra_read_types == ("MedicationStatement",)
    assert "patient/MedicationStatement.rs" in requested_scope(v2, ehr_launch=True, extra_reads=on.extra_read_types)
    off = load_settings().launch
    assert "MedicationStatement" not in requested_scope(v2, ehr_launch=True, extra_reads=off.extra_read_types)


# ----- client assertions


def test_private_key_jwt_assertions_are_short_lived_and_never_replayed():
    key = ec_client_key()
    auth = SmartPrivateKeyJWT(key, "ES384", lifetime=3600)

    class Client:
        client_id = "painplan"

    seen = []
    for _ in range(2):
        token = jwt.decode(auth.sign(Client(), TOKEN_URL), key, algorithms=["ES384"])
        assert token.header["kid"] == "painplan-es384" and token.header["alg"] == "ES384"
        assert token.claims["exp"] - token.claims["iat"] == 300  # capped even when asked for an hour
        assert token.claims["aud"] == TOKEN_URL
        seen.append(token.claims["jti"])
    assert seen[0] != seen[1]


# ----- tokens at rest, store


def test_token_cipher_round_trip_and_other_secret_cannot_open():
    sealed = TokenCipher("one").seal("AT-123")
    assert sealed is not None and "AT-123" not in sealed
    assert TokenCipher("one").open(sealed) == "AT-123"
    assert TokenCipher("two").open(sealed) is None
    assert TokenCipher("one").seal(None) is None


def test_random_secrets_carry_at_least_122_bits():
    values = {random_secret() for _ in range(50)}
    assert len(values) == 50
    assert all(len(value) >= 43 for value in values)  # 32 bytes of base64url


def test_refresh_lock_is_taken_once(tmp_path):
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    store.create_tables(engine)
    now = store.now()
    store.save_session(
        engine,
        {
            "handle": "h" * 20,
            "secret_hash": "x",
            "iss": ISS,
            "patient_id": "p",
            "scope": "",
            "created_at": now,
            "expires_at": now + 100,
            "need_patient_banner": True,
        },
    )
    assert store.claim_refresh(engine, "h" * 20, 15) is True
    assert store.claim_refresh(engine, "h" * 20, 15) is False
    store.release_refresh(engine, "h" * 20)
    assert store.claim_refresh(engine, "h" * 20, 15) is True


# ----- helpers for the plan view


def test_app_context_hints_accept_objects_and_json_strings_only():
    assert app_context_hints('{"a": 1}') == {"a": 1}
    assert app_context_hints({"b": [2]}) == {"b": [2]}
    assert app_context_hints("not json") is None
    assert app_context_hints("[1, 2]") is None
    assert app_context_hints(None) is None


def test_frame_ancestors_header_and_plan_url():
    settings = load_settings(env={}, frame_ancestors="'self', https://ehr.example")
    assert frame_ancestors_header(settings) == "frame-ancestors 'self' https://ehr.example"
    session = LaunchSession("H" * 20, ISS, "p", None, None, None, "", None, True, None, None)
    assert plan_url(session, view="mme", empty=None) == f"/plan?s={'H' * 20}&view=mme"
    assert "'p'" not in repr(session)


# ----- flows that need time to pass


def test_expired_state_is_refused(tmp_path, rsps, monkeypatch):
    ehr = FakeEhr(rsps)
    app = make_app(tmp_path, [ehr.client_entry()])
    client = app.test_client()
    started = client.get("/launch", query_string={"iss": ISS, "launch": "l"}, base_url=PUBLIC_URL)
    params = ehr.authorize(started.headers["Location"])
    later = time.time() + 601
    monkeypatch.setattr(store, "now", lambda: int(later))
    response = client.get("/launch/callback", query_string=params, base_url=PUBLIC_URL)
    assert response.status_code == 400
    assert ehr.token_requests == []


def _trusted_app(tmp_path: Any, **overrides: Any):
    app = make_app(tmp_path, [], **overrides)

    @app.get("/_ehr_opens_plan")
    def _opens() -> Any:
        from flask import request

        return begin_trusted_launch(
            iss="http://127.0.0.1:8765/demo/fhir/",
            patient_id=request.args["patient"],
            app_context={"origin": "demo"},
            encounter_id="enc-1",
        )

    @app.get("/_probe")
    def _probe() -> Any:
        try:
            session = current_launch()
        except LaunchError as error:
            return {"error": error.message}, error.status
        return {
            "patient": session.patient_id,
            "token": session.access_token,
            "iss": session.iss,
            "context": dict(session.app_context or {}),
            "encounter": session.encounter_id,
        }

    return app


def test_trusted_launch_redirects_to_the_plan_with_its_own_cookie(tmp_path):
    app = _trusted_app(tmp_path)
    client = app.test_client()
    response = client.get("/_ehr_opens_plan", query_string={"patient": "demo-1"}, base_url=PUBLIC_URL)
    assert response.status_code == 303
    handle = query(response.headers["Location"])["s"]
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("pp_launch_"))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=None" in cookie
    shown = client.get("/_probe", query_string={"s": handle}, base_url=PUBLIC_URL).get_json()
    assert shown == {
        "patient": "demo-1",
        "token": None,
        "iss": "http://127.0.0.1:8765/demo/fhir",
        "context": {"origin": "demo"},
        "encounter": "enc-1",
    }


def test_trusted_launch_refuses_an_id_that_is_not_a_fhir_id(tmp_path):
    app = _trusted_app(tmp_path)
    with app.test_request_context("/", base_url=PUBLIC_URL), pytest.raises(LaunchError):
        begin_trusted_launch(iss="https://fhir.example", patient_id="x/../y")


def test_launch_session_ends_after_its_lifetime(tmp_path, monkeypatch):
    app = _trusted_app(tmp_path)
    client = app.test_client()
    response = client.get("/_ehr_opens_plan", query_string={"patient": "demo-1"}, base_url=PUBLIC_URL)
    handle = query(response.headers["Location"])["s"]
    later = time.time() + 13 * 3600
    monkeypatch.setattr(store, "now", lambda: int(later))
    assert client.get("/_probe", query_string={"s": handle}, base_url=PUBLIC_URL).status_code == 401


def test_plain_http_demo_gets_lax_cookies_without_secure(tmp_path):
    app = _trusted_app(tmp_path, public_url="http://127.0.0.1:8765", allow_http=True)
    client = app.test_client()
    response = client.get("/_ehr_opens_plan", query_string={"patient": "demo-1"}, base_url="http://127.0.0.1:8765")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("pp_launch_"))
    assert "Secure" not in cookie and "SameSite=Lax" in cookie and "HttpOnly" in cookie
    handle = query(response.headers["Location"])["s"]
    probe = client.get("/_probe", query_string={"s": handle}, base_url="http://127.0.0.1:8765")
    assert probe.get_json()["patient"] == "demo-1"


def test_old_launch_cookies_are_dropped_so_headers_stay_small(tmp_path, monkeypatch):
    app = _trusted_app(tmp_path)
    client = app.test_client()
    clock = [int(time.time())]
    monkeypatch.setattr(store, "now", lambda: clock[0])
    handles = []
    for index in range(15):
        clock[0] += 1  # launches a second apart, so "oldest" is well defined
        response = client.get("/_ehr_opens_plan", query_string={"patient": f"p{index}"}, base_url=PUBLIC_URL)
        handles.append(query(response.headers["Location"])["s"])
    names = [cookie.key for cookie in client._cookies.values() if cookie.key.startswith("pp_launch_")]
    assert len(names) == 12
    assert set(names) == {f"pp_launch_{handle}" for handle in handles[-12:]}
    newest = client.get("/_probe", query_string={"s": handles[-1]}, base_url=PUBLIC_URL)
    assert newest.get_json()["patient"] == "p14"
    assert client.get("/_probe", query_string={"s": handles[0]}, base_url=PUBLIC_URL).status_code == 401


def test_jwks_url_publishes_only_public_keys(tmp_path):
    es, rs = ec_client_key(), RSAKey.generate_key(2048, parameters={"kid": "rs-1", "alg": "RS384"}, private=True)
    entries = [
        {"iss": "https://a.example/fhir", "client_id": "a", "private_jwk": es.as_dict(private=True)},
        {"iss": "https://b.example/fhir", "client_id": "b", "private_jwk": rs.as_dict(private=True)},
        {"iss": "https://c.example/fhir", "client_id": "c", "client_secret": "not-published"},
    ]
    app = make_app(tmp_path, entries)
    response = app.test_client().get("/launch/jwks.json", base_url=PUBLIC_URL)
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    keys = response.get_json()["keys"]
    assert sorted(key["kid"] for key in keys) == ["painplan-es384", "rs-1"]
    for key in keys:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert "not-published" not in response.get_data(as_text=True)
