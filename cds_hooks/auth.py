"""EHR JWT authentication (CDS Hooks 1.10): trusted issuers, pinned or allowlisted JWKS, claims, replay cache."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests
from joserfc import jws, jwt
from joserfc.jwk import KeySet

from guideline.text_files import NotUtf8TextError, read_text_file
from launch.key_sets import read_key_set

log = logging.getLogger(__name__)

ALGORITHMS = ["ES384", "RS384", "ES256", "RS256"]
LEEWAY = 60  # seconds of clock skew
MAX_LIFETIME = 3600  # exp − iat (or exp − nbf) above this is refused; Epic uses 900 s, the sandbox 300 s
JWKS_TTL = 3600
JWKS_MIN_TTL = 60
REFRESH_INTERVAL = 30.0  # an unknown kid triggers at most one JWKS fetch per issuer per this many seconds


class AuthError(Exception):
    """Why a token was refused; logged with iss/tenant/jti, never shown to the client."""


@dataclass(frozen=True)
class TrustedClient:
    iss: str
    jwks_url: str | None = None
    jwks: Mapping[str, Any] | None = None
    tenants: frozenset[str] = frozenset()


def load_trusted_clients(path: str) -> dict[str, TrustedClient]:
    """Read the PAINPLAN_TRUSTED_CLIENTS JSON file: a list of {iss, jwks_url | jwks, tenant?}."""
    if not path:
        return {}
    try:
        entries = json.loads(read_text_file(path, "trusted clients file"))
    except NotUtf8TextError:  # named with where, as it is: not "cannot read"
        raise
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read trusted clients file {path}: {error}") from error
    if isinstance(entries, Mapping):
        entries = entries.get("clients", [])
    clients: dict[str, TrustedClient] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("iss"), str):
            raise ValueError(f"{path}: every trusted client needs an iss")
        if not entry.get("jwks_url") and not isinstance(entry.get("jwks"), Mapping):
            raise ValueError(f"{path}: trusted client {entry['iss']} needs jwks_url or jwks")
        if isinstance(entry.get("jwks"), Mapping):
            _check_pinned(path, entry["iss"], entry["jwks"])
        tenant = entry.get("tenant") or entry.get("tenants") or []
        tenants = frozenset([tenant] if isinstance(tenant, str) else [str(t) for t in tenant])
        clients[entry["iss"]] = TrustedClient(entry["iss"], entry.get("jwks_url") or None, entry.get("jwks"), tenants)
    return clients


def _check_pinned(path: str, iss: str, jwks: Mapping[str, Any]) -> None:
    """Pinned keys are the operator's own file: one that cannot be read stops start-up rather than refusing
    that client's tokens at its first call."""
    try:
        _, left_out = read_key_set(jwks)
    except ValueError as error:
        raise ValueError(f"{path}: trusted client {iss}: jwks: {error}") from error
    if left_out:
        raise ValueError(f"{path}: trusted client {iss}: jwks: cannot read {', '.join(left_out)}")


@dataclass
class _CachedKeys:
    keys: KeySet | None = None
    expires: float = 0.0
    last_fetch: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


def _max_age(header: str | None) -> int:
    match = re.search(r"max-age=(\d+)", header or "")
    return max(JWKS_MIN_TTL, min(int(match.group(1)), 86400)) if match else JWKS_TTL


class JwksCache:
    """Keys per issuer: pinned ones as given, fetched ones cached (Cache-Control) and refreshed on unknown kid."""

    def __init__(self, session: requests.Session | None = None, clock: Callable[[], float] = time.monotonic):
        self._session = session or requests.Session()
        self._clock = clock
        self._entries: dict[str, _CachedKeys] = {}
        self._pinned: dict[str, KeySet] = {}
        self._lock = threading.Lock()

    def key_set(self, client: TrustedClient, kid: str) -> KeySet:
        if client.jwks is not None:
            with self._lock:
                pinned = self._pinned.get(client.iss)
                if pinned is None:
                    pinned = self._pinned[client.iss] = read_key_set(client.jwks)[0]
            return pinned
        with self._lock:
            entry = self._entries.setdefault(client.iss, _CachedKeys())
        with entry.lock:
            now = self._clock()
            stale = entry.keys is None or now >= entry.expires
            unknown = entry.keys is not None and not _has_kid(entry.keys, kid)
            due = (stale or unknown) and now - entry.last_fetch >= REFRESH_INTERVAL
            if due and entry.keys is not None and not unknown:
                # Merely expired, and the token's kid is known: answer with these keys and refresh behind the
                # request, so a slow JWKS host never stalls the EHR's hook calls.
                entry.last_fetch = now
                threading.Thread(target=self._refresh, args=(client, entry), daemon=True, name="jwks").start()
                return entry.keys
            if due:
                entry.last_fetch = now
                self._fetch(client, entry, now)
            if entry.keys is None:
                raise AuthError("no keys available for issuer")
            return entry.keys

    def _refresh(self, client: TrustedClient, entry: _CachedKeys) -> None:
        fresh = _CachedKeys()
        self._fetch(client, fresh, self._clock())
        if fresh.keys is not None:
            with entry.lock:
                entry.keys, entry.expires = fresh.keys, fresh.expires

    def _fetch(self, client: TrustedClient, entry: _CachedKeys, now: float) -> None:
        try:
            response = self._session.get(str(client.jwks_url), timeout=3, headers={"Accept": "application/json"})
            response.raise_for_status()
            entry.keys, left_out = read_key_set(response.json())
            if left_out:
                event = {"event": "jwks-keys-unreadable", "iss": client.iss, "left_out": left_out}
                log.warning(json.dumps(event))
            entry.expires = now + _max_age(response.headers.get("Cache-Control"))
        except Exception as error:  # noqa: BLE001 - keep the old keys; the token fails if its kid is unknown
            log.warning(json.dumps({"event": "jwks-fetch-failed", "iss": client.iss, "error": type(error).__name__}))


def _has_kid(keys: KeySet, kid: str) -> bool:
    return any(key.kid == kid for key in keys.keys)


def _normalise(url: str) -> str:
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class VerifiedToken:
    iss: str
    jti: str
    tenant: str | None
    claims: Mapping[str, Any]


class Verifier:
    """Checks a `Authorization: Bearer <jwt>` header for one called URL; raises AuthError with the reason."""

    def __init__(
        self,
        clients: Mapping[str, TrustedClient],
        remember_jti: Callable[[str, str, datetime], bool],
        cache: JwksCache | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.clients = dict(clients)
        self.remember_jti = remember_jti
        self.cache = cache or JwksCache()
        self.now = now

    def verify(self, authorization: str | None, audience: str) -> VerifiedToken:
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("no bearer token")
        token = token.strip()
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = dict(compact.protected)
            unverified = json.loads(compact.payload)
        except Exception as error:  # noqa: BLE001 - any parsing failure is simply "not a JWT"
            raise AuthError("not a compact JWT") from error
        if not isinstance(unverified, dict):
            raise AuthError("claims are not an object")
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise AuthError(f"algorithm not allowed: {str(alg)[:20]}")
        iss = unverified.get("iss")
        client = self.clients.get(iss) if isinstance(iss, str) else None
        if client is None:
            raise AuthError("issuer not trusted")
        jku = header.get("jku")
        if jku is not None and (client.jwks_url is None or _normalise(str(jku)) != _normalise(client.jwks_url)):
            raise AuthError("jku not on the allowlist")  # never fetched: no SSRF, no key substitution
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("kid missing")
        if header.get("typ") not in (None, "JWT"):
            log.info(json.dumps({"event": "jwt-unusual-typ", "iss": iss}))
        keys = self.cache.key_set(client, kid)
        if not _has_kid(keys, kid):
            raise AuthError("unknown kid")
        try:
            verified = jwt.decode(token, keys.get_by_kid(kid), algorithms=[alg])
        except Exception as error:  # noqa: BLE001 - bad signature, key/alg mismatch
            raise AuthError(f"signature invalid ({type(error).__name__})") from error
        claims = dict(verified.claims)
        self._check_claims(claims, client, audience)
        jti = claims["jti"]
        if not self.remember_jti(iss, jti, datetime.fromtimestamp(float(claims["exp"]) + LEEWAY, UTC)):
            raise AuthError("jti replayed")
        return VerifiedToken(iss, jti, claims.get("tenant"), claims)

    def _check_claims(self, claims: Mapping[str, Any], client: TrustedClient, audience: str) -> None:
        now = self.now()
        numbers = {}
        for name in ("exp", "iat", "nbf"):
            value = claims.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise AuthError(f"{name} is not a number")
            numbers[name] = float(value)
        if "exp" not in numbers:
            raise AuthError("exp missing")
        if numbers["exp"] + LEEWAY < now:
            raise AuthError("expired")
        if numbers.get("nbf", now) - LEEWAY > now:
            raise AuthError("not yet valid")
        if numbers.get("iat", now) - LEEWAY > now:
            raise AuthError("issued in the future")
        start = numbers.get("iat", numbers.get("nbf", now))
        if numbers["exp"] - start > MAX_LIFETIME:
            raise AuthError("lifetime too long")
        if numbers["exp"] - now > MAX_LIFETIME + LEEWAY:
            raise AuthError("expires too far ahead")
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if _normalise(audience) not in {_normalise(a) for a in audiences if isinstance(a, str)}:
            raise AuthError("audience mismatch")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti.strip() or len(jti) > 256:
            raise AuthError("jti missing")
        if client.tenants and claims.get("tenant") not in client.tenants:
            raise AuthError("tenant not allowed")
