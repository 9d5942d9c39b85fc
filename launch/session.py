"""The launch session the plan view works with: look it up per request, refresh it, or start a trusted one."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlencode

import flask
import requests
from authlib.integrations.base_client import OAuthError
from flask import redirect, request

from launch import store
from launch.cookies import SESSION_COOKIE_PREFIX, SESSION_COOKIE_SECONDS, session_cookie_name, set_launch_cookie
from launch.cookies import frame_ancestors_header as _frame_ancestors_header
from launch.crypto import digest, random_secret, same_digest
from launch.oauth import refresh
from launch.service import LaunchService, current_service
from launch.settings import LaunchSettings

log = logging.getLogger(__name__)

HANDLE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
FHIR_ID = re.compile(r"^[A-Za-z0-9.-]{1,256}$")
REFRESH_LEEWAY = 60  # refresh a minute early so a FHIR call never starts with a token about to lapse
REFRESH_LOCK_SECONDS = 15
REFRESH_WAIT_SECONDS = 5.0
RELAUNCH = "Open the pain treatment plan again from the patient's chart."
# One cookie per launch; without a cap a busy day of launches would outgrow servers' request-header limits
# (gunicorn refuses header fields over 8190 bytes), so only the newest launches keep theirs.
MAX_LAUNCH_COOKIES = 12


@dataclass(frozen=True)
class LaunchSession:
    handle: str
    iss: str
    patient_id: str
    access_token: str | None
    encounter_id: str | None
    user: str | None
    scope: str
    app_context: Mapping[str, Any] | None
    need_patient_banner: bool
    expires_at: datetime | None
    tenant: str | None

    def __repr__(self) -> str:  # the token and the patient id must never reach a log line
        return f"LaunchSession(handle={self.handle!r}, iss={self.iss!r}, scope={self.scope!r})"


class LaunchError(Exception):
    """Why this request has no usable launch; the message is safe to show a clinician (no token, no PHI)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def frame_ancestors_header(settings: LaunchSettings) -> str:
    return _frame_ancestors_header(settings)


class TokenRefused(Exception):
    """The EHR answered 401 to every read a page made with the launch's token: it no longer accepts that token."""


Read = TypeVar("Read")


def _handle_from_request() -> str:
    handle = request.args.get("s", "") or request.headers.get("X-PainPlan-Launch", "")
    if not HANDLE_PATTERN.match(handle):
        raise LaunchError("This page was opened without a launch. " + RELAUNCH, status=400)
    return handle


def _as_session(service: LaunchService, row: Mapping[str, Any]) -> LaunchSession:
    access_token = service.cipher.open(row["access_token"])
    if row["access_token"] is not None and access_token is None:
        raise LaunchError("This launch can no longer be used. " + RELAUNCH)
    context = json.loads(row["app_context"]) if row["app_context"] else None
    expires = row["token_expires_at"]
    return LaunchSession(
        handle=row["handle"],
        iss=row["iss"],
        patient_id=row["patient_id"],
        access_token=access_token,
        encounter_id=row["encounter_id"],
        user=row["fhir_user"],
        scope=row["scope"] or "",
        app_context=MappingProxyType(context) if isinstance(context, dict) else None,
        need_patient_banner=bool(row["need_patient_banner"]),
        expires_at=datetime.fromtimestamp(expires, UTC) if expires is not None else None,
        tenant=row["tenant"],
    )


def _needs_refresh(row: Mapping[str, Any]) -> bool:
    expires = row["token_expires_at"]
    return expires is not None and expires <= store.now() + REFRESH_LEEWAY


def _refresh(service: LaunchService, row: dict[str, Any]) -> dict[str, Any]:
    """Spend the refresh token once (they rotate): one request refreshes, concurrent ones wait for it."""
    handle = row["handle"]
    client = service.clients.get(row["client_iss"] or "")
    refresh_token = service.cipher.open(row["refresh_token"])
    if client is None or not refresh_token or not row["token_endpoint"]:
        store.end_session(service.engine, handle)
        raise LaunchError("Your access to this chart has expired. " + RELAUNCH)
    if not store.claim_refresh(service.engine, handle, REFRESH_LOCK_SECONDS):
        deadline = time.monotonic() + REFRESH_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.1)
            latest = store.load_session(service.engine, handle)
            if latest is None:
                break
            if not _needs_refresh(latest):
                return latest
        raise LaunchError("The EHR did not renew access in time. Reload the page.", status=503)
    try:
        token = refresh(client, token_endpoint=row["token_endpoint"], refresh_token=refresh_token)
    except (OAuthError, requests.RequestException, ValueError) as error:  # ValueError: TokenResponseError too
        log.warning("SMART token refresh failed for a launch (%s)", type(error).__name__)
        store.end_session(service.engine, handle)
        raise LaunchError("Your access to this chart has expired. " + RELAUNCH) from error
    new_patient = token.get("patient")
    if new_patient is not None and str(new_patient) != row["patient_id"]:
        # A refreshed token for another patient must never feed this patient's page.
        log.error("SMART token refresh returned a different patient context; launch ended")
        store.end_session(service.engine, handle)
        raise LaunchError("The patient in the EHR changed. " + RELAUNCH, status=409)
    if not token.get("access_token"):
        store.end_session(service.engine, handle)
        raise LaunchError("Your access to this chart has expired. " + RELAUNCH)
    values = {
        "access_token": service.cipher.seal(str(token["access_token"])),
        "refresh_token": service.cipher.seal(str(token.get("refresh_token") or refresh_token)),
        "token_expires_at": token_expiry(token.get("expires_in")),
        "scope": str(token.get("scope") or row["scope"]),
    }
    store.store_refreshed(service.engine, handle, values)
    return {**row, **values, "refresh_lock_until": None}


# A token is trusted at most this long before it is refreshed (or the launch ends): an expires_in of 10^30 seconds
# overflowed the session store's integer column and the launch ended in a 500.
MAX_TOKEN_SECONDS = 24 * 3600


def token_expiry(expires_in: Any) -> int | None:
    """Epoch seconds from a token response's `expires_in` (at most a day ahead); None (never refreshed) when absent
    or garbled."""
    try:
        seconds = int(expires_in) if expires_in is not None else None
    except (TypeError, ValueError, OverflowError):
        return None
    return None if seconds is None else store.now() + min(seconds, MAX_TOKEN_SECONDS)


def current_launch() -> LaunchSession:
    """The launch named by the request's `s` and proven by its per-launch cookie; refreshed if expired."""
    service = current_service()
    handle = _handle_from_request()
    secret = request.cookies.get(session_cookie_name(handle), "")
    row = store.load_session(service.engine, handle)
    if row is None or not secret or not same_digest(secret, row["secret_hash"]):
        raise LaunchError("This launch is not valid in this browser window. " + RELAUNCH)
    if row["expires_at"] < store.now():
        store.end_session(service.engine, handle)
        raise LaunchError("This launch has ended. " + RELAUNCH)
    if _needs_refresh(row):
        row = _refresh(service, row)
    return _as_session(service, row)


def renew_refused_token(session: LaunchSession) -> LaunchSession:
    """The launch with a new access token after the EHR refused its token before the expiry it stated (revoked
    early, or an expires_in it never sent): refreshed as an expired one is, or LaunchError to open it again."""
    service = current_service()
    row = store.load_session(service.engine, session.handle)
    if row is None:
        raise LaunchError("This launch has ended. " + RELAUNCH)
    if service.cipher.open(row["access_token"]) == session.access_token:
        store.expire_token(service.engine, session.handle, row["access_token"])
        row = {**row, "token_expires_at": 0}
    if _needs_refresh(row):  # else another request of this launch has renewed it meanwhile
        row = _refresh(service, row)
    return _as_session(service, row)


def read_renewing(session: LaunchSession, read: Callable[[LaunchSession], Read]) -> tuple[LaunchSession, Read]:
    """`read(session)`, read once more with a renewed token when the EHR refused the launch's (TokenRefused), and the
    launch it was read with; LaunchError when the token cannot be renewed or the EHR refuses the new one too."""
    try:
        return session, read(session)
    except TokenRefused:
        log.info("the EHR refused a launch's access token before its stated expiry; renewing it")
        session = renew_refused_token(session)
    try:
        return session, read(session)
    except TokenRefused as error:
        store.end_session(current_service().engine, session.handle)
        raise LaunchError("The EHR did not accept PainPlan's access to this chart. " + RELAUNCH) from error


def plan_url(session: LaunchSession, **params: Any) -> str:
    query = urlencode({"s": session.handle, **{k: v for k, v in params.items() if v is not None}})
    root = request.script_root if flask.has_request_context() else ""
    return f"{root}/plan?{query}"


def app_context_hints(value: Any) -> dict[str, Any] | None:
    """appContext arrives as a JSON string or an object; keep only an object, as untrusted hints."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return dict(value) if isinstance(value, Mapping) else None


def create_session(service: LaunchService, values: Mapping[str, Any]) -> tuple[str, str]:
    """Store a new launch; returns (public handle, cookie secret)."""
    handle, secret = random_secret(), random_secret()
    moment = store.now()
    context = values.get("app_context")
    row = {
        "handle": handle,
        "secret_hash": digest(secret),
        "iss": values["iss"],
        "client_iss": values.get("client_iss"),
        "token_endpoint": values.get("token_endpoint"),
        "access_token": service.cipher.seal(values.get("access_token")),
        "refresh_token": service.cipher.seal(values.get("refresh_token")),
        "token_expires_at": values.get("token_expires_at"),
        "patient_id": values["patient_id"],
        "encounter_id": values.get("encounter_id"),
        "fhir_user": values.get("fhir_user"),
        "scope": values.get("scope") or "",
        "app_context": json.dumps(context) if context is not None else None,
        "need_patient_banner": bool(values.get("need_patient_banner", True)),
        "tenant": values.get("tenant"),
        "created_at": moment,
        "expires_at": moment + SESSION_COOKIE_SECONDS,
        "refresh_lock_until": None,
    }
    store.save_session(service.engine, row)
    return handle, secret


def _drop_old_launch_cookies(service: LaunchService, response: flask.Response, keep: str) -> None:
    """Clear cookies of ended launches, and of the oldest live ones beyond MAX_LAUNCH_COOKIES."""
    names = [name for name in request.cookies if name.startswith(SESSION_COOKIE_PREFIX)][:200]
    handles = [name[len(SESSION_COOKIE_PREFIX) :] for name in names]
    handles = [handle for handle in handles if handle != keep and HANDLE_PATTERN.match(handle)]
    ages = store.live_session_ages(service.engine, handles)
    newest_first = sorted((h for h in handles if h in ages), key=lambda h: ages[h], reverse=True)
    dropped = [h for h in handles if h not in ages] + newest_first[MAX_LAUNCH_COOKIES - 1 :]
    for handle in dropped:
        set_launch_cookie(response, request, service.settings, session_cookie_name(handle), "", 0, "/")


def redirect_to_plan(service: LaunchService, handle: str, secret: str) -> flask.Response:
    stub = LaunchSession(handle, "", "", None, None, None, "", None, True, None, None)
    response = redirect(plan_url(stub), code=303)
    _drop_old_launch_cookies(service, response, handle)
    set_launch_cookie(
        response, request, service.settings, session_cookie_name(handle), secret, SESSION_COOKIE_SECONDS, "/"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def begin_trusted_launch(
    *,
    iss: str,
    patient_id: str,
    access_token: str | None = None,
    app_context: Mapping[str, Any] | None = None,
    encounter_id: str | None = None,
    scope: str = "",
) -> flask.Response:
    """A launch without OAuth, for callers that already hold the context (the demo's built-in EHR); `scope` is
    what that EHR grants (the plan page offers write-back only for granted write scopes)."""
    if not iss or not FHIR_ID.match(patient_id or "") or (encounter_id and not FHIR_ID.match(encounter_id)):
        raise LaunchError("A launch needs a FHIR server and a valid patient id.", status=400)
    service = current_service()
    handle, secret = create_session(
        service,
        {
            "iss": iss.rstrip("/"),
            "patient_id": patient_id,
            "access_token": access_token,
            "encounter_id": encounter_id,
            "app_context": app_context_hints(app_context),
            "scope": scope,
        },
    )
    return redirect_to_plan(service, handle, secret)
