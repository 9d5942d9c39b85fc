"""JWK Sets read leniently: one reader for the launch's ID token keys and the hooks' EHR JWT keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joserfc.jwk import KeySet


def read_key_set(document: Any) -> tuple[KeySet, list[str]]:
    """The keys of a JWK Set that can be read, and a description of each left out ("key 2 (kid k1)").

    RFC 7517 §5: a key with a member missing or an unknown type or curve is ignored, not the whole set, so one
    half-published key never refuses every token a client signs with its other keys. ValueError when none is left.
    """
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWK Set (no keys list)")
    keys: list[Any] = []
    left_out: list[str] = []
    for position, entry in enumerate(entries, start=1):
        try:
            keys.extend(KeySet.import_key_set({"keys": [entry]}).keys)
        except Exception:  # noqa: BLE001 - whatever the library cannot read is left out, as RFC 7517 asks
            kid = entry.get("kid") if isinstance(entry, Mapping) else None
            left_out.append(f"key {position}" + (f" (kid {str(kid)[:64]})" if isinstance(kid, str) else ""))
    if not keys:
        raise ValueError("no key in the JWK Set can be read")
    return KeySet(keys), left_out
