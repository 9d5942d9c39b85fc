"""A form token per page shown: a random nonce and an HMAC of it with the launch handle under the app's secret key,
checked on every write, and used up when its form is sent to the EHR.

The plan page is framed by EHRs, so its launch cookie is SameSite=None and a cross-site form could carry it;
the token is only ever in our own page, so a forged POST cannot know it. The nonce makes each page's token its own,
so a form sent once (a double click, a reload of the answer page) is recognised when it comes again."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

FIELD = "csrf_token"
NONCE_HEX = 32
TOKEN = re.compile(f"^[0-9a-f]{{{NONCE_HEX + 64}}}$")


def _hmac(key: str | bytes, message: str) -> str:
    """The hex HMAC-SHA256 of `message` under the app's key."""
    raw = key.encode() if isinstance(key, str) else key
    return hmac.new(raw, message.encode(), hashlib.sha256).hexdigest()


def _mac(key: str | bytes, handle: str, nonce: str) -> str:
    """The HMAC binding a nonce to one launch under the app's key."""
    return _hmac(key, f"painplan-write:{handle}:{nonce}")


def new_token(secret_key: str | bytes, handle: str) -> str:
    """A fresh token for the forms of one page shown in this launch."""
    nonce = secrets.token_hex(NONCE_HEX // 2)
    return nonce + _mac(secret_key, handle, nonce)


def token_ok(secret_key: str | bytes, handle: str, presented: str | None) -> bool:
    """The token was made by this app for this launch."""
    if not presented or not TOKEN.match(str(presented)):
        return False
    nonce, mac = str(presented)[:NONCE_HEX], str(presented)[NONCE_HEX:]
    return hmac.compare_digest(_mac(secret_key, handle, nonce), mac)


def send_key(handle: str, form_key: str, token: str) -> str:
    """What is recorded when a form is sent: one page's form in one launch, never the token itself."""
    return hashlib.sha256(f"{handle}\n{form_key}\n{token}".encode()).hexdigest()


def unreached_key(send_key: str) -> str:
    """What is recorded beside a form's send_key when its send never reached the EHR (no connection was made)."""
    return hashlib.sha256(f"{send_key}\nunreached".encode()).hexdigest()


def note_mac(secret_key: str | bytes, handle: str, form_key: str, note: str) -> str:
    """The HMAC carried beside what the EHR noted on a save, in the address the save redirects to: a note typed
    into a link is not the EHR's and must never be shown as if it were."""
    return _hmac(secret_key, f"painplan-note:{handle}:{form_key}:{note}")


def note_ok(secret_key: str | bytes, handle: str, form_key: str, note: str, mac: str | None) -> bool:
    """The note came from this app's own redirect after a save in this launch."""
    return bool(note and mac) and hmac.compare_digest(note_mac(secret_key, handle, form_key, note), str(mac))
