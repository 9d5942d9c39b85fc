"""The two legs of the authorization-code flow: send the browser to the EHR, then take the code back."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import OAuthError

from launch import store
from launch.clients import normalize_iss
from launch.crypto import digest, random_secret, same_digest
from launch.discovery import DiscoveryError, SmartConfiguration
from launch.identity import fhir_user
from launch.oauth import TokenResponseError, authorization_url, exchange_code
from launch.scopes import release_named_in_base, requested_scope
from launch.service import LaunchService
from launch.session import FHIR_ID, LaunchError, app_context_hints, create_session, token_expiry

log = logging.getLogger(__name__)

PENDING_SECONDS = 600
MAX_PARAM_LENGTH = 4096
RELAUNCH = "Open the pain treatment plan again from the patient's chart."

# What the clinician reads for each OAuth error code; the EHR's own error_description is never echoed.
ERROR_MESSAGES = {
    "access_denied": "Access to this patient's chart was not granted, so the plan cannot be shown.",
    "invalid_scope": "The EHR did not accept the permissions PainPlan asks for. Please contact your EHR team.",
    "unauthorized_client": "PainPlan is not authorised for this EHR yet. Please contact your EHR team.",
    "temporarily_unavailable": "The EHR's sign-in service is busy. Please try again in a minute.",
    "server_error": "The EHR's sign-in service reported an error. Please try again.",
}


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and the nonce that binds this state to the browser that started it."""

    url: str
    state: str
    browser_nonce: str


def begin(service: LaunchService, iss_param: str | None, launch_param: str | None) -> Authorization:
    iss = normalize_iss(iss_param or service.settings.smart_default_iss or "")
    if not iss:
        raise LaunchError("No EHR address (iss) was given, and no default EHR is configured.", status=400)
    client = service.clients.get(iss)
    if client is None:
        # No discovery request for an unknown iss: fetching from arbitrary URLs is SSRF and spoofing risk.
        log.warning("SMART launch refused: iss %r is not on the allowlist", iss[:200])
        raise LaunchError("This EHR is not registered with PainPlan. Please contact your EHR team.", status=400)
    launch = (launch_param or "").strip() or None
    if launch is not None and len(launch) > MAX_PARAM_LENGTH:
        raise LaunchError("The launch request from the EHR is not valid. " + RELAUNCH, status=400)
    try:
        config = service.discovery.get(iss)
    except DiscoveryError as error:
        raise LaunchError(str(error) + " Please try again in a minute.", status=502) from error
    scope = requested_scope(
        config,
        ehr_launch=launch is not None,
        override=client.scope,
        # A server whose base names another FHIR release is offered no form, so no write right is asked of it.
        write=service.settings.write_back and release_named_in_base(iss) is None,
        extra_reads=service.settings.extra_read_types,
        user_types=service.settings.user_read_types,
    )
    state, browser_nonce = random_secret(), random_secret()
    code_verifier = secrets.token_urlsafe(64)  # 86 characters; PKCE allows 43-128
    nonce = random_secret() if "openid" in scope.split() else None
    store.save_pending(
        service.engine,
        {
            "state_hash": digest(state),
            "browser_hash": digest(browser_nonce),
            "iss": iss,
            "launch": launch,
            "code_verifier": service.cipher.seal(code_verifier),
            "nonce": nonce,
            "scope": scope,
            "server": json.dumps(config.as_json()),
            "expires_at": store.now() + PENDING_SECONDS,
        },
    )
    url = authorization_url(
        client,
        authorization_endpoint=config.authorization_endpoint,
        redirect_uri=service.redirect_uri,
        scope=scope,
        state=state,
        code_verifier=code_verifier,
        aud=iss,
        launch=launch,
        nonce=nonce,
    )
    return Authorization(url=url, state=state, browser_nonce=browser_nonce)


def _server(pending: Mapping[str, Any]) -> SmartConfiguration:
    saved = json.loads(pending["server"])
    return SmartConfiguration(
        authorization_endpoint=saved["authorization_endpoint"],
        token_endpoint=saved["token_endpoint"],
        capabilities=frozenset(saved.get("capabilities") or ()),
        issuer=saved.get("issuer"),
        jwks_uri=saved.get("jwks_uri"),
        source=saved.get("source", "well-known"),
    )


def _banner(value: Any) -> bool:
    # Absent means "show it"; some servers send the boolean as a string.
    if isinstance(value, str):
        return value.strip().lower() != "false"
    return value is not False


def _optional_text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else None


def _resource_id(value: Any) -> str | None:
    """A FHIR id as the plan view puts it into request paths: no slashes, queries or spaces (Epic's are long)."""
    text = _optional_text(value)
    return text if text is not None and FHIR_ID.match(text) else None


def complete(service: LaunchService, params: Mapping[str, str], browser_nonce: str | None) -> tuple[str, str]:
    """Check state (single use, this browser), exchange the code, store the launch; returns (handle, secret)."""
    state = params.get("state") or ""
    pending = store.take_pending(service.engine, digest(state)) if state else None
    error = params.get("error")
    if pending is None:
        if error:
            message = ERROR_MESSAGES.get(error, "Sign-in with the EHR did not complete. " + RELAUNCH)
            raise LaunchError(message, status=400)
        raise LaunchError("This sign-in link has expired or was already used. " + RELAUNCH, status=400)
    if not browser_nonce or not same_digest(browser_nonce, pending["browser_hash"]):
        log.warning("SMART callback refused: state not bound to this browser")
        raise LaunchError("This sign-in did not start in this browser window. " + RELAUNCH, status=400)
    if error:
        log.info("SMART authorization ended with error code %r", error[:64])
        raise LaunchError(ERROR_MESSAGES.get(error, "Sign-in with the EHR did not complete. " + RELAUNCH), 403)
    code = params.get("code") or ""
    client = service.clients.get(pending["iss"])
    verifier = service.cipher.open(pending["code_verifier"])
    if not code or len(code) > MAX_PARAM_LENGTH or client is None or verifier is None:
        raise LaunchError("The EHR's answer was incomplete. " + RELAUNCH, status=400)
    server = _server(pending)
    try:
        token = exchange_code(
            client,
            token_endpoint=server.token_endpoint,
            redirect_uri=service.redirect_uri,
            code=code,
            code_verifier=verifier,
        )
    except OAuthError as failure:
        log.warning("SMART token request refused with error code %r", str(failure.error)[:64])
        raise LaunchError("The EHR did not issue access for this launch. " + RELAUNCH, status=502) from failure
    except TokenResponseError as failure:
        log.warning("SMART token response unreadable (%s)", failure)
        raise LaunchError("The EHR's answer did not include usable access. " + RELAUNCH, status=502) from failure
    except (requests.RequestException, ValueError) as failure:
        log.warning("SMART token request failed (%s)", type(failure).__name__)
        raise LaunchError("The EHR's sign-in service did not answer. " + RELAUNCH, status=502) from failure
    access_token = token.get("access_token")
    token_type = str(token.get("token_type") or "bearer").lower()
    if not isinstance(access_token, str) or not access_token or token_type != "bearer":
        raise LaunchError("The EHR's answer did not include usable access. " + RELAUNCH, status=502)
    patient = _resource_id(token.get("patient"))
    if patient is None:
        raise LaunchError("The EHR did not say which patient to show. " + RELAUNCH, status=400)
    granted = token.get("scope")
    if not isinstance(granted, str) or not granted.strip():
        log.warning("SMART token response had no scope; assuming the requested scopes were granted")
        granted = pending["scope"]
    user = fhir_user(
        token.get("id_token"),
        config=server,
        client_id=client.client_id,
        nonce=pending["nonce"],
        jwks=service.jwks,
    )
    refresh_token = token.get("refresh_token")
    return create_session(
        service,
        {
            "iss": pending["iss"],
            "client_iss": pending["iss"],
            "token_endpoint": server.token_endpoint,
            "access_token": access_token,
            "refresh_token": refresh_token if isinstance(refresh_token, str) and refresh_token else None,
            "token_expires_at": token_expiry(token.get("expires_in")),
            "patient_id": patient,
            "encounter_id": _resource_id(token.get("encounter")),
            "fhir_user": user,
            "scope": " ".join(granted.split()),
            "app_context": app_context_hints(token.get("appContext")),
            "need_patient_banner": _banner(token.get("need_patient_banner")),
            "tenant": _optional_text(token.get("tenant")),
        },
    )
