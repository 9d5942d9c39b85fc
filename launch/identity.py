"""The signed-in user's `fhirUser`, taken only from an id_token whose signature and claims check out."""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from launch.discovery import SmartConfiguration
from launch.key_sets import read_key_set

log = logging.getLogger(__name__)

ID_TOKEN_ALGS = ("RS256", "RS384", "ES256", "ES384")
JWKS_SECONDS = 300
REFETCH_PAUSE = 10.0  # an unknown kid triggers a refetch at most this often, so bad tokens cannot hammer the EHR


def _fetch(url: str, timeout: float) -> KeySet | None:
    try:
        response = requests.get(url, timeout=timeout, allow_redirects=False)
        response.raise_for_status()
        # The keys CDS Hooks tokens are checked with are read by the same rule: one unreadable key is left out.
        keys, left_out = read_key_set(response.json())
    except (requests.RequestException, ValueError, JoseError, TypeError) as error:
        log.warning("could not read the EHR's JWKS (%s)", type(error).__name__)
        return None
    if left_out:
        log.warning("left out of the EHR's JWKS, unreadable: %s", ", ".join(left_out))
    return keys


def _kid(compact: str) -> str | None:
    try:
        segment = compact.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


class JwksCache:
    """The EHR's signing keys per jwks_uri: one fetch serves many launches; a new kid causes one refetch."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._entries: dict[str, tuple[float, float, KeySet]] = {}  # url -> (fresh until, fetched at, keys)
        self._lock = threading.Lock()

    def keys(self, url: str, kid: str | None) -> KeySet | None:
        moment = time.monotonic()
        with self._lock:
            entry = self._entries.get(url)
        if entry is not None:
            fresh_until, fetched_at, keys = entry
            known = kid is None or any(key.kid == kid for key in keys.keys)
            if (fresh_until > moment and known) or moment - fetched_at < REFETCH_PAUSE:
                return keys
        keys = _fetch(url, self._timeout)
        if keys is None:
            return entry[2] if entry is not None else None
        with self._lock:
            self._entries[url] = (moment + JWKS_SECONDS, moment, keys)
        return keys


def fhir_user(
    id_token: Any, *, config: SmartConfiguration, client_id: str, nonce: str | None, jwks: JwksCache
) -> str | None:
    """`fhirUser` (or `profile`, its SMART 1.0 name) from a verified id_token; None when it cannot be trusted.

    The user's identity is shown, never used for access decisions, so an unverifiable id_token only
    loses the name; it does not stop the launch.
    """
    if not isinstance(id_token, str) or not config.jwks_uri:
        return None
    keys = jwks.keys(config.jwks_uri, _kid(id_token))
    if keys is None:
        return None
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGS))
        options: dict[str, Any] = {"aud": {"essential": True, "value": client_id}, "exp": {"essential": True}}
        if config.issuer:
            options["iss"] = {"essential": True, "value": config.issuer}
        if nonce:
            options["nonce"] = {"essential": True, "value": nonce}
        JWTClaimsRegistry(leeway=60, **options).validate(token.claims)
    except (JoseError, ValueError) as error:
        log.warning("id_token rejected (%s); continuing without the user's identity", type(error).__name__)
        return None
    value = token.claims.get("fhirUser") or token.claims.get("profile")
    return value if isinstance(value, str) and value else None
