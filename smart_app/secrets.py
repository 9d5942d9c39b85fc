"""The cookie-signing key: PAINPLAN_SECRET_KEY, else one generated once and kept in the instance folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from smart_app.config import Settings


def secret_key(settings: Settings, instance: Path) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = instance / "secret_key"
    if not path.exists():
        # O_EXCL: several worker processes may start at once; exactly one writes, the others read its key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
    raise RuntimeError(f"could not read the secret key from {path}")
