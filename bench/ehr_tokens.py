"""The EHR's side of CDS Hooks authentication for the benchmarks: a signing key, its trusted-client entry, tokens.

A token is signed in the caller's process (the load generator's, or before the timed loop), never in the server's,
so the server's CPU per call holds only what it costs to verify one.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

ISSUER = "https://ehr.bench.test"
PUBLIC_URL = "http://127.0.0.1:8765"  # the server's PAINPLAN_PUBLIC_URL: each token's audience is this + the path
KEY_FILE = "ehr-key.json"
TRUSTED_FILE = "trusted-clients.json"


def make_client(folder: Path, alg: str) -> Path:
    """A new key for `alg` (RS384 or ES384) in `folder`, and the trusted-clients file that pins its public half."""
    key = RSAKey.generate_key(2048, parameters={"kid": "bench-1"}) if alg == "RS384" else None
    if alg == "ES384":
        key = ECKey.generate_key("P-384", parameters={"kid": "bench-1"})
    if key is None:
        raise ValueError(f"unsupported algorithm {alg}: use RS384 or ES384")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / KEY_FILE).write_text(json.dumps({"alg": alg, "jwk": key.as_dict(private=True)}))
    trusted = [{"iss": ISSUER, "jwks": {"keys": [key.as_dict(private=False)]}}]
    (folder / TRUSTED_FILE).write_text(json.dumps(trusted))
    return folder / TRUSTED_FILE


class TokenSigner:
    """Signs one short-lived JWT per call, with a fresh `jti`, as an EHR does."""

    def __init__(self, folder: Path) -> None:
        saved = json.loads((folder / KEY_FILE).read_text())
        self.alg: str = saved["alg"]
        self.key = (RSAKey if self.alg == "RS384" else ECKey).import_key(saved["jwk"])

    def authorization(self, path: str) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": PUBLIC_URL + path, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
        header = {"alg": self.alg, "typ": "JWT", "kid": self.key.kid}
        return "Bearer " + jwt.encode(header, claims, self.key, algorithms=[self.alg])
