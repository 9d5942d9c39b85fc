"""Authorization URL, code exchange and refresh via authlib's OAuth2Session, with SMART client auth."""

from __future__ import annotations

import secrets
import time
from typing import Any

from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from joserfc.jwk import ECKey, RSAKey

from launch.clients import SmartClient

ASSERTION_SECONDS = 300  # SMART: exp no more than five minutes in the future
TOKEN_TIMEOUT = 10.0


class SmartPrivateKeyJWT(PrivateKeyJWT):
    """private_key_jwt with SMART's rules; authlib's defaults would sign RS256 assertions valid for an hour.

    Every call builds new claim and header dicts: authlib writes its generated jti into a caller's dict, so
    a reused dict would replay the first jti and be refused on the next token request.
    """

    def __init__(self, key: RSAKey | ECKey, alg: str, lifetime: int = ASSERTION_SECONDS) -> None:
        super().__init__(token_endpoint=None, alg=alg)
        self._key = key
        self._kid = str(key.kid)
        self._lifetime = min(lifetime, ASSERTION_SECONDS)

    def sign(self, auth: Any, token_endpoint: str) -> str:
        issued = int(time.time())
        return private_key_jwt_sign(
            self._key,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg=self.alg,
            claims={"jti": secrets.token_urlsafe(32)},
            header={"kid": self._kid, "typ": "JWT"},
            issued_at=issued,
            expires_at=issued + self._lifetime,
        )


def oauth_session(client: SmartClient, *, token_endpoint: str, redirect_uri: str | None = None) -> OAuth2Session:
    session = OAuth2Session(
        client_id=client.client_id,
        client_secret=client.client_secret,
        token_endpoint_auth_method=client.auth_method,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint=token_endpoint,
        default_timeout=TOKEN_TIMEOUT,
    )
    if client.signing_key is not None:
        session.register_client_auth_method(SmartPrivateKeyJWT(client.signing_key, client.signing_alg))
    return session


def authorization_url(
    client: SmartClient,
    *,
    authorization_endpoint: str,
    redirect_uri: str,
    scope: str,
    state: str,
    code_verifier: str,
    aud: str,
    launch: str | None,
    nonce: str | None = None,
) -> str:
    extra = {"aud": aud}
    if launch:
        extra["launch"] = launch
    if nonce:
        extra["nonce"] = nonce
    with oauth_session(client, token_endpoint="", redirect_uri=redirect_uri) as session:
        url, _ = session.create_authorization_url(
            authorization_endpoint, state=state, code_verifier=code_verifier, scope=scope, **extra
        )
    return url


class TokenResponseError(ValueError):
    """The token endpoint answered, but authlib could not read its answer (an `expires_in` that is a list or
    infinite makes its int() raise TypeError or OverflowError)."""


def exchange_code(
    client: SmartClient, *, token_endpoint: str, redirect_uri: str, code: str, code_verifier: str
) -> dict[str, Any]:
    """POST the code at once (codes live about a minute); raises authlib's OAuthError, requests errors, or
    TokenResponseError for an answer it cannot read.

    Public clients get `client_id` in the body from authlib's "none" auth method; confidential ones
    authenticate with Basic or a client assertion instead.
    """
    with oauth_session(client, token_endpoint=token_endpoint, redirect_uri=redirect_uri) as session:
        try:
            token = session.fetch_token(
                token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=code_verifier,
            )
        except (TypeError, OverflowError) as error:
            raise TokenResponseError(type(error).__name__) from error
    return dict(token)


def refresh(client: SmartClient, *, token_endpoint: str, refresh_token: str) -> dict[str, Any]:
    """The refreshed token; raises as exchange_code does (TokenResponseError is a ValueError)."""
    with oauth_session(client, token_endpoint=token_endpoint) as session:
        try:
            token = session.refresh_token(token_endpoint, refresh_token=refresh_token)
        except (TypeError, OverflowError) as error:
            raise TokenResponseError(type(error).__name__) from error
    return dict(token)
