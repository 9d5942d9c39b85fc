"""SMART discovery: `.well-known/smart-configuration`, else the CapabilityStatement `oauth-uris`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

log = logging.getLogger(__name__)

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
CACHE_SECONDS = 300


class DiscoveryError(Exception):
    """The EHR's authorization endpoints could not be found (message is safe to show)."""


@dataclass(frozen=True)
class SmartConfiguration:
    authorization_endpoint: str
    token_endpoint: str
    capabilities: frozenset[str] = frozenset()
    code_challenge_methods: tuple[str, ...] = ()
    token_auth_methods: tuple[str, ...] = ()
    issuer: str | None = None
    jwks_uri: str | None = None
    source: str = "well-known"

    @property
    def permission_v2(self) -> bool:
        return "permission-v2" in self.capabilities

    def as_json(self) -> dict[str, Any]:
        return {
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "capabilities": sorted(self.capabilities),
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "source": self.source,
        }


def _endpoint(iss: str, value: Any, allow_http: bool) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    # The spec wants absolute URLs, but clients resolve relative ones against the FHIR base anyway.
    url = urljoin(iss + "/", value.strip())
    scheme = urlsplit(url).scheme
    if scheme == "https" or (allow_http and scheme == "http"):
        return url
    return None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def parse_well_known(iss: str, document: Any, allow_http: bool) -> SmartConfiguration | None:
    if not isinstance(document, Mapping):
        return None
    authorize = _endpoint(iss, document.get("authorization_endpoint"), allow_http)
    token = _endpoint(iss, document.get("token_endpoint"), allow_http)
    if authorize is None or token is None:
        return None
    return SmartConfiguration(
        authorization_endpoint=authorize,
        token_endpoint=token,
        capabilities=frozenset(_strings(document.get("capabilities"))),
        code_challenge_methods=_strings(document.get("code_challenge_methods_supported")),
        token_auth_methods=_strings(document.get("token_endpoint_auth_methods_supported")),
        issuer=document.get("issuer") if isinstance(document.get("issuer"), str) else None,
        jwks_uri=_endpoint(iss, document.get("jwks_uri"), allow_http),
        source="well-known",
    )


def parse_capability_statement(iss: str, document: Any, allow_http: bool) -> SmartConfiguration | None:
    """SMART 1.0 servers put the endpoints in rest[].security.extension[oauth-uris]."""
    if not isinstance(document, Mapping) or not isinstance(document.get("rest"), list):
        return None
    for rest in document["rest"]:
        security = rest.get("security") if isinstance(rest, Mapping) else None
        extensions = security.get("extension") if isinstance(security, Mapping) else None
        for extension in extensions if isinstance(extensions, list) else ():
            if not isinstance(extension, Mapping) or extension.get("url") != OAUTH_URIS:
                continue
            uris = {
                item.get("url"): item.get("valueUri") or item.get("valueUrl")
                for item in extension.get("extension") or ()
                if isinstance(item, Mapping)
            }
            authorize = _endpoint(iss, uris.get("authorize"), allow_http)
            token = _endpoint(iss, uris.get("token"), allow_http)
            if authorize and token:
                return SmartConfiguration(authorize, token, source="metadata")
    return None


def _get_json(url: str, timeout: float, accept: str) -> Any:
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": accept}, allow_redirects=False)
    except requests.RequestException as error:
        log.warning("SMART discovery request failed: %s (%s)", url, type(error).__name__)
        return None
    if response.status_code != 200:
        log.info("SMART discovery got HTTP %s from %s", response.status_code, url)
        return None
    try:
        return response.json()
    except ValueError:
        return None


def fetch_configuration(iss: str, *, timeout: float, allow_http: bool) -> SmartConfiguration:
    """Ask the server; the caller has already checked `iss` against the allowlist (no SSRF)."""
    config = parse_well_known(
        iss, _get_json(f"{iss}/.well-known/smart-configuration", timeout, "application/json"), allow_http
    )
    if config is None:
        document = _get_json(f"{iss}/metadata", timeout, "application/fhir+json")
        config = parse_capability_statement(iss, document, allow_http)
    if config is None:
        raise DiscoveryError("The EHR's sign-in service could not be reached or did not describe itself.")
    return config


class DiscoveryCache:
    """Discovery answers per iss for a few minutes: launches stay fast and the EHR is not asked every time."""

    def __init__(self, timeout: float, allow_http: bool, seconds: int = CACHE_SECONDS) -> None:
        self._timeout = timeout
        self._allow_http = allow_http
        self._seconds = seconds
        self._entries: dict[str, tuple[float, SmartConfiguration]] = {}
        self._lock = threading.Lock()

    def get(self, iss: str) -> SmartConfiguration:
        with self._lock:
            cached = self._entries.get(iss)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        config = fetch_configuration(iss, timeout=self._timeout, allow_http=self._allow_http)
        with self._lock:
            self._entries[iss] = (time.monotonic() + self._seconds, config)
        return config
