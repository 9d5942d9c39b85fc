"""A fake SMART EHR (authorization server + a little FHIR) on `responses`, and an app factory for launch tests.

The fake behaves like a strict server: it checks the PKCE S256 verifier against the challenge, the redirect
URI, one-time codes, client authentication (Basic, private_key_jwt with replay detection, or public), and it
rotates refresh tokens (a spent refresh token is refused). Tests read what it saw from its attributes.

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        ehr = FakeEhr(rsps, client_id="painplan")
        app = make_app(tmp_path, [ehr.client_entry()])
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
from flask import Flask
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ISS = "https://ehr.example.org/fhir/r4"
AUTH_BASE = "https://auth.example.org/oauth2"
AUTHORIZE_URL = AUTH_BASE + "/authorize"
TOKEN_URL = AUTH_BASE + "/token"
JWKS_URL = AUTH_BASE + "/jwks"
PUBLIC_URL = "https://painplan.test"
REDIRECT_URI = PUBLIC_URL + "/launch/callback"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def rsa_client_key(kid: str = "painplan-rs384") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS384"}, private=True)


def ec_client_key(kid: str = "painplan-es384") -> ECKey:
    return ECKey.generate_key("P-384", parameters={"kid": kid, "alg": "ES384"}, private=True)


def query(url: str) -> dict[str, str]:
    """The query string of a URL as a flat dict (every SMART parameter appears once)."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    launch: str | None
    nonce: str | None
    patient: str
    used: bool = False


@dataclass
class FakeEhr:
    """Register with `rsps`; call `authorize(url)` where a browser would follow the redirect to the EHR."""

    rsps: responses.RequestsMock
    client_id: str = "painplan-client"
    client_secret: str | None = None
    client_key: RSAKey | ECKey | None = None
    iss: str = ISS
    permission_v2: bool = True
    well_known: bool = True
    metadata: bool = True
    fhir_version: str = "4.0.1"  # the CapabilityStatement's fhirVersion (3.0.2 for an STU3 server)
    patient: str = "pat-0001"
    encounter: str | None = "enc-77"
    expires_in: int = 3600
    refresh_expires_in: int = 3600
    issue_refresh_token: bool = True
    grant_scope: str | None = None  # what the server grants; default: what was asked
    extra_context: Mapping[str, Any] = field(default_factory=dict)
    refresh_patient: str | None = None  # a (misbehaving) server that changes the patient on refresh
    id_token_key: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", parameters={"kid": "ehr-1"}))
    fhir_user: str | None = "Practitioner/prac-9"
    id_token_overrides: Mapping[str, Any] = field(default_factory=dict)  # e.g. a wrong aud or nonce
    # What the fake saw:
    grants: dict[str, Grant] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    assertions: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    seen_jti: set[str] = field(default_factory=set)
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: dict[str, bool] = field(default_factory=dict)  # token -> spent
    fhir_reads: list[str] = field(default_factory=list)
    token_patients: dict[str, str] = field(default_factory=dict)  # access token -> the patient it was issued for
    cross_patient_reads: list[str] = field(default_factory=list)  # reads whose patient is not the token's
    patient_names: dict[str, str] = field(default_factory=dict)
    authorize_url: str = AUTHORIZE_URL  # browser tests point it at a page the browser can reach

    def __post_init__(self) -> None:
        self.rsps.add_callback(responses.GET, f"{self.iss}/.well-known/smart-configuration", self._well_known)
        self.rsps.add_callback(responses.GET, f"{self.iss}/metadata", self._metadata)
        self.rsps.add_callback(responses.POST, TOKEN_URL, self._token)
        self.rsps.add_callback(responses.GET, JWKS_URL, self._jwks)

    # ----- what the app's configuration file says about this EHR
    def client_entry(self, **extra: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {"iss": self.iss, "client_id": self.client_id, **extra}
        if self.client_secret:
            entry["client_secret"] = self.client_secret
        if self.client_key is not None:
            entry["private_jwk"] = self.client_key.as_dict(private=True)
        return entry

    # ----- discovery
    def _well_known(self, request: Any) -> tuple[int, dict[str, str], str]:
        if not self.well_known:
            return 404, {}, "not found"
        capabilities = [
            "launch-ehr",
            "launch-standalone",
            "client-public",
            "client-confidential-symmetric",
            "client-confidential-asymmetric",
            "context-ehr-patient",
            "context-banner",
            "sso-openid-connect",
            "permission-v1",
            "permission-patient",
            "permission-online",
        ]
        if self.permission_v2:
            capabilities.append("permission-v2")
        document = {
            "issuer": AUTH_BASE,
            "jwks_uri": JWKS_URL,
            "authorization_endpoint": self.authorize_url,
            "token_endpoint": TOKEN_URL,
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "capabilities": capabilities,
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(document)

    def _metadata(self, request: Any) -> tuple[int, dict[str, str], str]:
        if not self.metadata:
            return 404, {}, "not found"
        oauth = {
            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
            "extension": [
                {"url": "authorize", "valueUri": self.authorize_url},
                {"url": "token", "valueUri": TOKEN_URL},
            ],
        }
        statement = {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "fhirVersion": self.fhir_version,
            "rest": [{"mode": "server", "security": {"extension": [oauth]}}],
        }
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps(statement)

    def _jwks(self, request: Any) -> tuple[int, dict[str, str], str]:
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"keys": [self.id_token_key.as_dict(private=False)]}),
        )

    # ----- the user's browser at the authorization endpoint
    def authorize(self, url: str, *, approve: bool = True, patient: str | None = None) -> dict[str, str]:
        """Check the authorization request like a server would; return the callback's query parameters.
        `patient` picks the patient for this grant alone (concurrent launches must not share `self.patient`)."""
        assert url.startswith(self.authorize_url + "?"), url
        params = query(url)
        assert params["response_type"] == "code"
        assert params["client_id"] == self.client_id
        assert params["redirect_uri"] == REDIRECT_URI
        assert params["aud"] == self.iss
        assert params["code_challenge_method"] == "S256"
        assert len(params["code_challenge"]) == 43
        if not approve:
            return {"error": "access_denied", "error_description": "<b>User said no</b>", "state": params["state"]}
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            challenge=params["code_challenge"],
            scope=params["scope"],
            launch=params.get("launch"),
            nonce=params.get("nonce"),
            patient=patient or self.patient,
        )
        return {"code": code, "state": params["state"]}

    # ----- the token endpoint
    def _error(self, code: str, status: int = 400) -> tuple[int, dict[str, str], str]:
        return status, {"Content-Type": "application/json"}, json.dumps({"error": code})

    def _authenticate(self, request: Any, form: Mapping[str, str]) -> str | None:
        """The client id the request proves, or None."""
        header = request.headers.get("Authorization", "")
        if self.client_secret:
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            return self.client_id if header == f"Basic {expected}" else None
        if self.client_key is not None:
            if form.get("client_assertion_type") != ASSERTION_TYPE or "client_assertion" not in form:
                return None
            try:
                token = jwt.decode(form["client_assertion"], self.client_key, algorithms=["RS384", "ES384"])
            except Exception:
                return None
            self.assertions.append((dict(token.header), dict(token.claims)))
            claims = token.claims
            now = int(time.time())
            if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
                return None
            if claims.get("aud") != TOKEN_URL or not claims.get("jti") or claims["jti"] in self.seen_jti:
                return None
            if not (now - 5 <= claims["exp"] <= now + 300) or claims["exp"] - claims.get("iat", 0) > 300:
                return None
            self.seen_jti.add(claims["jti"])
            return self.client_id
        return form.get("client_id") if not header else None

    def _issue(self, scope: str, patient: str, expires_in: int, grant: Grant | None) -> dict[str, Any]:
        access = "AT-" + secrets.token_urlsafe(24)
        self.access_tokens.append(access)
        self.token_patients[access] = patient
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "scope": self.grant_scope or scope,
            "patient": patient,
        }
        if self.issue_refresh_token:
            refresh = "RT-" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh] = False
            body["refresh_token"] = refresh
        if grant is not None:
            if self.encounter:
                body["encounter"] = self.encounter
            body.update(self.extra_context)
            if "openid" in scope.split() and self.fhir_user:
                body["id_token"] = self.id_token(grant.nonce)
        return body

    def id_token(self, nonce: str | None, *, key: ECKey | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": AUTH_BASE,
            "sub": "user-9",
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "fhirUser": self.fhir_user,
        }
        if nonce:
            claims["nonce"] = nonce
        claims.update(self.id_token_overrides)
        signer = key or self.id_token_key
        return jwt.encode({"alg": "ES256", "kid": signer.kid}, claims, signer, algorithms=["ES256"])

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = {key: values[0] for key, values in parse_qs(request.body or "").items()}
        self.token_requests.append({"form": form, "headers": dict(request.headers)})
        client = self._authenticate(request, form)
        if client != self.client_id:
            return self._error("invalid_client", 401)
        if form.get("grant_type") == "authorization_code":
            grant = self.grants.get(form.get("code", ""))
            if grant is None or grant.used:
                return self._error("invalid_grant")
            grant.used = True
            if form.get("redirect_uri") != grant.redirect_uri:
                return self._error("invalid_grant")
            if s256(form.get("code_verifier", "")) != grant.challenge:
                return self._error("invalid_grant")
            body = self._issue(grant.scope, grant.patient, self.expires_in, grant)
        elif form.get("grant_type") == "refresh_token":
            presented = form.get("refresh_token", "")
            if self.refresh_tokens.get(presented, True):  # unknown or already spent
                return self._error("invalid_grant")
            self.refresh_tokens[presented] = True
            last_scope = self.token_requests[0]["form"].get("scope") or "patient/Patient.rs"
            body = self._issue(last_scope, self.refresh_patient or self.patient, self.refresh_expires_in, None)
        else:
            return self._error("unsupported_grant_type")
        headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
        return 200, headers, json.dumps(body)

    # ----- a whole (empty) FHIR server that checks every read belongs to the token's patient
    def serve_fhir(self) -> None:
        """Answer every FHIR read under iss: Patient reads by id, every search with an empty searchset."""
        self.rsps.add_callback(
            responses.GET, re.compile(re.escape(self.iss) + r"/(?!\.well-known|metadata).+"), self._any_fhir
        )

    def _any_fhir(self, request: Any) -> tuple[int, dict[str, str], str]:
        header = request.headers.get("Authorization", "")
        patient = self.token_patients.get(header[7:]) if header.startswith("Bearer ") else None
        if patient is None:
            return 401, {}, ""
        path = urlsplit(request.url).path[len(urlsplit(self.iss).path) :].strip("/")
        asked = path.split("/")[1] if path.startswith("Patient/") else query(request.url).get("patient", "")
        self.fhir_reads.append(request.url)
        if asked != patient:
            self.cross_patient_reads.append(request.url)
            return 403, {}, ""
        headers = {"Content-Type": "application/fhir+json"}
        if path.startswith("Patient/"):
            name = self.patient_names.get(patient, "Test Patient").split()
            resource = {
                "resourceType": "Patient",
                "id": patient,
                "birthDate": "1970-04-01",
                "name": [{"given": name[:-1], "family": name[-1]}],
            }
            return 200, headers, json.dumps(resource)
        return 200, headers, json.dumps({"resourceType": "Bundle", "type": "searchset", "total": 0, "entry": []})


def write_clients(tmp_path: Path, entries: Sequence[Mapping[str, Any]]) -> str:
    path = tmp_path / "smart-clients.json"
    path.write_text(json.dumps(list(entries)), encoding="utf-8")
    return str(path)


def make_app(tmp_path: Path, entries: Sequence[Mapping[str, Any]], **overrides: Any) -> Flask:
    """The real app from `smart_app.create_app`, configured for launch tests."""
    from smart_app import create_app

    settings: dict[str, Any] = {
        "instance_path": str(tmp_path / "instance"),
        "smart_clients": write_clients(tmp_path, entries),
        "public_url": PUBLIC_URL,
        "secret_key": "launch-tests-secret-key-0123456789",
        "frame_ancestors": ("'self'", "https://ehr.example.org"),
        "database_url": f"sqlite:///{tmp_path / 'launch.db'}",
        **overrides,
    }
    app = create_app(settings)
    app.testing = True
    return app
