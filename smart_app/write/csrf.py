"""A CSRF token per launch: an HMAC of the launch handle under the app's secret key, checked on every write.

The plan page is framed by EHRs, so its launch cookie is SameSite=None and a cross-site form could carry it;
the token is only ever in our own page, so a forged POST cannot know it."""

from __future__ import annotations

import hashlib
import hmac

FIELD = "csrf_token"


def token_for(secret_key: str | bytes, handle: str) -> str:
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, b"painplan-write:" + handle.encode(), hashlib.sha256).hexdigest()


def token_ok(secret_key: str | bytes, handle: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(token_for(secret_key, handle), str(presented))
