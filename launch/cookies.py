"""Per-launch browser cookies and the frame-ancestors header for pages an EHR frames."""

from __future__ import annotations

import hashlib

from flask import Request, Response

from launch.settings import LaunchSettings

SESSION_COOKIE_PREFIX = "pp_launch_"
STATE_COOKIE_PREFIX = "pp_auth_"
STATE_COOKIE_SECONDS = 600
SESSION_COOKIE_SECONDS = 12 * 3600


def session_cookie_name(handle: str) -> str:
    # One cookie per launch: two tabs (two patients) each carry their own, so they can never mix.
    return SESSION_COOKIE_PREFIX + handle


def state_cookie_name(state: str) -> str:
    # Named after the state (hashed, so the cookie name does not reveal it) to allow parallel authorizations.
    return STATE_COOKIE_PREFIX + hashlib.sha256(state.encode("utf-8")).hexdigest()[:24]


def set_launch_cookie(
    response: Response, request: Request, settings: LaunchSettings, name: str, value: str, max_age: int, path: str
) -> None:
    """HttpOnly, Secure, SameSite=None and Partitioned, so it works inside an EHR iframe.

    Partitioned (CHIPS) keeps the cookie usable where browsers block third-party cookies; it is keyed by
    the EHR's top-level site, which is where the whole launch (redirects included) happens.

    A plain-http request is only served when allow_http is set (local demo); browsers refuse SameSite=None
    without Secure there, so that one case falls back to Lax, which suffices for a top-level demo page.
    """
    secure = request.is_secure or not settings.allow_http or settings.public_url.startswith("https://")
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
        partitioned=secure,
    )


def frame_ancestors_header(settings: LaunchSettings) -> str:
    """The Content-Security-Policy value that lets only the configured EHR origins frame our pages."""
    sources = " ".join(settings.frame_ancestors) or "'self'"
    return f"frame-ancestors {sources}"
