"""The signed-in user's `fhirUser`, taken only from an id_token whose signature and claims check out."""

from __future__ import annotations

import logging
from typing import Any

import requests
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from launch.discovery import SmartConfiguration

log = logging.getLogger(__name__)

ID_TOKEN_ALGS = ("RS256", "RS384", "ES256", "ES384")


def _jwks(url: str, timeout: float) -> KeySet | None:
    try:
        response = requests.get(url, timeout=timeout, allow_redirects=False)
        response.raise_for_status()
        return KeySet.import_key_set(response.json())
    except (requests.RequestException, ValueError, JoseError, TypeError) as error:
        log.warning("could not read the EHR's JWKS (%s)", type(error).__name__)
        return None


def fhir_user(
    id_token: Any, *, config: SmartConfiguration, client_id: str, nonce: str | None, timeout: float
) -> str | None:
    """`fhirUser` (or `profile`, its SMART 1.0 name) from a verified id_token; None when it cannot be trusted.

    The user's identity is shown, never used for access decisions, so an unverifiable id_token only
    loses the name; it does not stop the launch.
    """
    if not isinstance(id_token, str) or not config.jwks_uri:
        return None
    keys = _jwks(config.jwks_uri, timeout)
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
