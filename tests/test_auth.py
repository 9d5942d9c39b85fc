"""EHR JWT authentication (standards 1.10, 5 #34–#43): every forged or misused token gets a bare 401."""

from __future__ import annotations

import base64
import json
import time

import pytest
import responses
from cds_support import (
    HARNESS_ISS,
    HARNESS_JWKS,
    PINNED_ISS,
    PUBLIC,
    Harness,
    hook_request,
    make_app,
    oxycodone_draft,
    trusted_clients_file,
)
from joserfc.jwk import ECKey

from cds_hooks.auth import REFRESH_INTERVAL, JwksCache, TrustedClient, Verifier

SIGN = "/cds-services/order-sign"


@pytest.fixture
def harness():
    return Harness()


@pytest.fixture
def app(tmp_path, harness):
    return make_app(tmp_path, auth="required", trusted_clients=trusted_clients_file(tmp_path, harness))


def call(app, token: str | None, path: str = SIGN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if path.endswith("/cds-services"):
        return app.test_client().get(path, headers=headers)
    return app.test_client().post(path, json=hook_request(drafts=[oxycodone_draft()]), headers=headers)


def refused(response) -> bool:
    body = response.get_data(as_text=True)
    return (
        response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer" and "diagnostics" not in body
    )


@pytest.fixture
def jwks(harness):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(HARNESS_JWKS, json=harness.jwks(), headers={"Cache-Control": "max-age=300"})
        yield mock


def test_valid_es384_and_rs384_tokens_are_accepted(app, harness, jwks):
    assert call(app, harness.token(PUBLIC + SIGN)).status_code == 200
    assert call(app, harness.token(PUBLIC + SIGN, alg="RS384")).status_code == 200
    assert call(app, harness.token(PUBLIC + "/cds-services"), "/cds-services").status_code == 200
    assert len([c for c in jwks.calls if c.request.url == HARNESS_JWKS]) == 1  # cached


def test_audience_rules(app, harness, jwks):
    assert refused(call(app, harness.token(PUBLIC + "/cds-services/patient-view")))
    assert refused(call(app, harness.token("http://10.0.0.5:8000" + SIGN)))
    assert call(app, harness.token(["https://other.test", PUBLIC + SIGN])).status_code == 200
    assert call(app, harness.token(PUBLIC + SIGN + "/")).status_code == 200


def test_time_claims(app, harness, jwks):
    now = time.time()
    assert refused(call(app, harness.token(PUBLIC + SIGN, now=now - 1000)))  # expired long ago
    assert refused(call(app, harness.token(PUBLIC + SIGN, nbf=int(now) + 600)))
    assert refused(call(app, harness.token(PUBLIC + SIGN, drop=["exp"])))
    assert refused(call(app, harness.token(PUBLIC + SIGN, lifetime=7200)))
    assert refused(call(app, harness.token(PUBLIC + SIGN, iat=int(now) + 600, lifetime=900)))


def test_epic_style_lifetime_with_nbf_and_sub_is_accepted(app, harness, jwks):
    now = int(time.time())
    token = harness.token(PUBLIC + SIGN, alg="RS384", lifetime=900, nbf=now - 300, sub="epic-client-id")
    assert call(app, token).status_code == 200


def _unsigned(header: dict, claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def test_alg_none_and_hmac_with_the_public_key_are_refused(app, harness, jwks):
    now = int(time.time())
    claims = {"iss": HARNESS_ISS, "aud": PUBLIC + SIGN, "iat": now, "exp": now + 300, "jti": "j-none"}
    assert refused(call(app, _unsigned({"alg": "none", "typ": "JWT", "kid": "ec-1"}, claims)))
    from joserfc import jwt
    from joserfc.jwk import OctKey

    public_as_secret = OctKey.import_key(json.dumps(harness.ec.as_dict(private=False)).encode())
    forged = jwt.encode({"alg": "HS256", "kid": "ec-1"}, claims, public_as_secret, algorithms=["HS256"])
    assert refused(call(app, forged))


def test_tampered_signature_and_garbage_are_refused(app, harness, jwks):
    token = harness.token(PUBLIC + SIGN)
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["iss"] = HARNESS_ISS
    claims["aud"] = PUBLIC + "/cds-services/order-select"
    other_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(call(app, f"{head}.{other_body}.{signature}"))
    for garbage in ("x", "a.b.c", "....", "Bearer", "ey." * 50):
        assert refused(call(app, garbage))
    assert refused(call(app, None))
    other_key = ECKey.generate_key("P-384", parameters={"kid": "ec-1"})
    assert refused(call(app, harness.token(PUBLIC + SIGN, key=other_key)))


def test_replayed_jti_is_refused(app, harness, jwks):
    token = harness.token(PUBLIC + SIGN)
    assert call(app, token).status_code == 200
    assert refused(call(app, token))
    assert refused(call(app, harness.token(PUBLIC + SIGN, drop=["jti"])))


def test_unknown_issuer_and_foreign_jku_are_refused_without_fetching(app, harness, jwks):
    jwks.get("https://attacker.test/jwks.json", json=harness.jwks())
    assert refused(call(app, harness.token(PUBLIC + SIGN, iss="https://stranger.test")))
    assert refused(call(app, harness.token(PUBLIC + SIGN, header={"jku": "https://attacker.test/jwks.json"})))
    assert not any("attacker" in c.request.url for c in jwks.calls)


def test_pinned_jwks_issuer_needs_no_fetch(app, harness, jwks):
    assert call(app, harness.token(PUBLIC + SIGN, iss=PINNED_ISS)).status_code == 200
    assert not jwks.calls


def test_tenant_allowlist(tmp_path, harness, jwks):
    app = make_app(tmp_path, auth="required", trusted_clients=trusted_clients_file(tmp_path, harness, tenant=["org-a"]))
    assert call(app, harness.token(PUBLIC + SIGN, tenant="org-a")).status_code == 200
    assert refused(call(app, harness.token(PUBLIC + SIGN, tenant="org-b")))
    assert refused(call(app, harness.token(PUBLIC + SIGN)))


def test_feedback_needs_a_token_for_the_feedback_url(app, harness, jwks):
    body = {"feedback": [{"card": "x", "outcome": "overridden", "outcomeTimestamp": "2026-06-15T12:00:00Z"}]}
    path = SIGN + "/feedback"
    client = app.test_client()
    assert refused(client.post(path, json=body, headers={"Authorization": f"Bearer {harness.token(PUBLIC + SIGN)}"}))
    good = client.post(path, json=body, headers={"Authorization": f"Bearer {harness.token(PUBLIC + path)}"})
    assert good.status_code == 200


def test_new_kid_refreshes_the_jwks_once_and_refreshes_are_rate_limited(harness):
    rotated = ECKey.generate_key("P-384", parameters={"kid": "ec-2"})
    clock = {"t": 1000.0}
    seen: set[str] = set()
    with responses.RequestsMock() as mock:
        mock.get(HARNESS_JWKS, json=harness.jwks())
        mock.get(HARNESS_JWKS, json=harness.jwks(rotated))
        cache = JwksCache(clock=lambda: clock["t"])
        verifier = Verifier(
            {HARNESS_ISS: TrustedClient(HARNESS_ISS, HARNESS_JWKS)},
            lambda iss, jti, exp: not (jti in seen or seen.add(jti)),
            cache,
        )
        aud = PUBLIC + SIGN
        verifier.verify("Bearer " + harness.token(aud), aud)
        assert len(mock.calls) == 1
        clock["t"] += REFRESH_INTERVAL + 1
        verifier.verify("Bearer " + harness.token(aud, key=rotated), aud)  # unknown kid → one refresh
        assert len(mock.calls) == 2
        stranger = ECKey.generate_key("P-384", parameters={"kid": "ec-9"})
        for _ in range(5):
            with pytest.raises(Exception, match="unknown kid|no keys"):
                verifier.verify("Bearer " + harness.token(aud, key=stranger), aud)
        assert len(mock.calls) == 2  # rate-limited: no fetch storm for a kid that stays unknown


def test_auth_off_skips_tokens(tmp_path):
    app = make_app(tmp_path, auth="off")
    assert call(app, None).status_code == 200


def test_a_broken_replay_cache_fails_closed(app, harness, jwks, monkeypatch):
    from cds_hooks import store

    def broken(*_args, **_kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(store, "remember_jti", broken)
    assert refused(call(app, harness.token(PUBLIC + SIGN)))


def test_expired_jwks_cache_with_a_known_kid_answers_at_once_and_refreshes_behind(harness):
    # Found in review: the hourly refresh ran inside the request, under the issuer's lock, so a slow JWKS host
    # stalled every hook call of that EHR for up to the fetch timeout before any FHIR work began.
    import threading

    release = threading.Event()
    fetches: list[float] = []

    class SlowSession:
        def get(self, url, **kwargs):
            fetches.append(time.monotonic())
            if len(fetches) > 1:
                release.wait(5)

            class Answer:
                headers = {"Cache-Control": "max-age=60"}

                def raise_for_status(self):
                    return None

                def json(self):
                    return harness.jwks()

            return Answer()

    clock = {"t": 1000.0}
    cache = JwksCache(SlowSession(), clock=lambda: clock["t"])
    client = TrustedClient(HARNESS_ISS, HARNESS_JWKS)
    assert cache.key_set(client, "ec-1") is not None and len(fetches) == 1
    clock["t"] += 3600  # long expired; the kid is still known
    started = time.monotonic()
    keys = cache.key_set(client, "ec-1")
    assert time.monotonic() - started < 0.5 and any(k.kid == "ec-1" for k in keys.keys)
    deadline = time.monotonic() + 2
    while len(fetches) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fetches) == 2  # the refresh did happen, behind the request
    release.set()


def test_a_fetched_jwks_with_one_unreadable_key_still_verifies_with_the_others(app, harness):
    # Found in the standards audit: one malformed key in a client's JWK Set (an RSA key without its modulus, as
    # a half-finished rotation publishes) made the whole set unreadable, so every call of that EHR got 401.
    # RFC 7517 §5: a key that cannot be read is ignored, not the set.
    broken = {"kty": "RSA", "kid": "rotating", "use": "sig", "e": "AQAB"}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(HARNESS_JWKS, json={"keys": [broken, *harness.jwks()["keys"]]})
        assert call(app, harness.token(PUBLIC + SIGN)).status_code == 200
        assert refused(call(app, harness.token(PUBLIC + SIGN, header={"kid": "rotating"})))


def test_a_pinned_jwks_that_cannot_be_read_stops_start_up(tmp_path, harness):
    from guideline.config import ConfigError
    from smart_app.config import load_settings

    path = tmp_path / "trusted.json"
    pinned = {"keys": [harness.jwks()["keys"][0], {"kty": "EC", "kid": "half", "crv": "P-384", "x": "abc"}]}
    path.write_text(json.dumps([{"iss": PINNED_ISS, "jwks": pinned}]))
    with pytest.raises(ConfigError, match=r"PAINPLAN_TRUSTED_CLIENTS: .*https://pinned.test.*key 2 \(kid half\)"):
        load_settings(env={"PAINPLAN_TRUSTED_CLIENTS": str(path)})
