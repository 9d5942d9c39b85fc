"""The SMART client allowlist: which EHR FHIR bases (iss) we are registered with, and how we authenticate."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey, import_key

from guideline.config import ConfigError
from guideline.text_files import NotUtf8TextError, read_text_file

SIGNING_ALGS = ("RS384", "ES384")


@dataclass(frozen=True)
class SmartClient:
    """One registration: `client_secret` means client_secret_basic, `private_jwk` means private_key_jwt."""

    iss: str
    client_id: str
    client_secret: str | None = None
    private_jwk: Mapping[str, Any] | None = None
    scope: str | None = None
    # Imported once at start-up: loading an RSA private key runs a costly consistency check (~50 ms).
    signing_key: RSAKey | ECKey | None = field(default=None, compare=False)

    @property
    def auth_method(self) -> str:
        if self.private_jwk is not None:
            return "private_key_jwt"
        if self.client_secret:
            return "client_secret_basic"
        return "none"

    @property
    def signing_alg(self) -> str:
        """RS384 for RSA keys, ES384 for P-384 keys (SMART allows only these two)."""
        assert self.private_jwk is not None
        return str(self.private_jwk.get("alg") or ("ES384" if self.private_jwk.get("kty") == "EC" else "RS384"))

    def __repr__(self) -> str:  # never print secrets in logs or tracebacks
        return f"SmartClient(iss={self.iss!r}, client_id={self.client_id!r}, auth={self.auth_method})"


def normalize_iss(iss: str) -> str:
    """FHIR bases are compared without surrounding spaces or a trailing slash."""
    return iss.strip().rstrip("/")


def _check_private_jwk(where: str, jwk: Any) -> tuple[Mapping[str, Any], RSAKey | ECKey]:
    if not isinstance(jwk, Mapping):
        raise ConfigError(f"{where}: private_jwk must be a JSON object (a JWK)")
    if not jwk.get("kid"):
        raise ConfigError(f"{where}: private_jwk needs a kid (SMART requires it in the assertion header)")
    try:
        key = import_key(dict(jwk))
    except (JoseError, ValueError, TypeError) as error:
        raise ConfigError(f"{where}: private_jwk is not a usable JWK ({type(error).__name__})") from error
    if not isinstance(key, (RSAKey, ECKey)) or not key.is_private:
        raise ConfigError(f"{where}: private_jwk must be a private RSA or EC (P-384) key")
    alg = jwk.get("alg") or ("ES384" if isinstance(key, ECKey) else "RS384")
    if alg not in SIGNING_ALGS:
        raise ConfigError(f"{where}: private_jwk alg must be RS384 or ES384, not {alg}")
    if alg == "ES384" and jwk.get("crv") != "P-384":
        raise ConfigError(f"{where}: ES384 needs a P-384 key")
    if alg == "RS384" and not isinstance(key, RSAKey):
        raise ConfigError(f"{where}: RS384 needs an RSA key")
    return MappingProxyType(dict(jwk)), key


def parse_clients(entries: Any, source: str = "smart clients") -> Mapping[str, SmartClient]:
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: expected a JSON list of {{iss, client_id}} objects")
    clients: dict[str, SmartClient] = {}
    for index, entry in enumerate(entries):
        where = f"{source}[{index}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: expected an object")
        iss, client_id = entry.get("iss"), entry.get("client_id")
        if not isinstance(iss, str) or not iss.strip() or not isinstance(client_id, str) or not client_id:
            raise ConfigError(f"{where}: iss and client_id are required strings")
        if entry.get("client_secret") and entry.get("private_jwk"):
            raise ConfigError(f"{where}: give client_secret or private_jwk, not both")
        secret = entry.get("client_secret")
        if secret is not None and not isinstance(secret, str):
            raise ConfigError(f"{where}: client_secret must be a string")
        scope = entry.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise ConfigError(f"{where}: scope must be a space-separated string")
        jwk = entry.get("private_jwk")
        base = normalize_iss(iss)
        if base in clients:
            raise ConfigError(f"{where}: iss {base} is listed twice")
        private_jwk, signing_key = _check_private_jwk(where, jwk) if jwk is not None else (None, None)
        clients[base] = SmartClient(
            iss=base,
            client_id=client_id,
            client_secret=secret or None,
            private_jwk=private_jwk,
            scope=scope.strip() if scope else None,
            signing_key=signing_key,
        )
    return MappingProxyType(clients)


def load_clients(path: str) -> Mapping[str, SmartClient]:
    """Read PAINPLAN_SMART_CLIENTS; no path means no SMART launch is allowed (every iss is refused)."""
    if not path:
        return MappingProxyType({})
    try:
        entries = json.loads(read_text_file(path, "SMART clients file"))
    except OSError as error:
        raise ConfigError(f"cannot read SMART clients file {path}: {error.strerror}") from error
    except NotUtf8TextError as error:  # saved in a Windows code page
        raise ConfigError(str(error)) from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"SMART clients file {path} is not valid JSON: {error}") from error
    return parse_clients(entries, source=str(path))
