"""Random launch secrets, their stored hashes, and encryption of OAuth tokens at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken


def random_secret() -> str:
    """256 random bits, URL- and cookie-safe (state needs >= 122 bits; handles and nonces get the same)."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """What the database keeps instead of a browser-held secret, so a leaked table cannot replay a cookie."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def same_digest(value: str, stored: str) -> bool:
    return hmac.compare_digest(digest(value), stored)


class TokenCipher:
    """Fernet with a key derived from the app secret: a copied database file alone does not yield tokens."""

    def __init__(self, app_secret: str) -> None:
        key = hashlib.sha256(b"painplan/launch-tokens/v1\x00" + app_secret.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, token: str | None) -> str | None:
        return None if token is None else self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, sealed: str | None) -> str | None:
        """The plain token, or None when it was sealed under another secret (the user then relaunches)."""
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            return None
