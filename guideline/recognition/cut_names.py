"""Names cut short by claims and pharmacy systems, whose last fragment may begin an opioid (pure text, no codes)."""

from __future__ import annotations

import re

from guideline.recognition.lexicon import ingredients, known_word, sold_with

# Claims and pharmacy drug files cut names at 35 characters: Fioricet with codeine arrives as
# "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C", which reads whole as plain Fioricet.
CUT_AT = 35
# The last fragment after "/" or "-" ("…/C", "…-CO"); after a space only in a name cut at exactly 35 characters,
# since elsewhere a last word after a space is a form or a note ("VITAMIN C").
_AFTER_SEPARATOR = re.compile(r"[/-]\s*([a-z]+)$")
_AFTER_SPACE = re.compile(r"\s([a-z]+)$")


def opioids_cut_off(text: str, read: frozenset[str]) -> tuple[str, ...]:
    """The opioids a cut name's last fragment may begin, of those the packaged drug table sells with every ingredient
    read ("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C": codeine); empty when an opioid was read, nothing was, or the last
    fragment is a word PainPlan reads, begins no such opioid, or is not cut off."""
    known = ingredients()
    if not read or any(known[name].kind == "opioid" for name in read):
        return ()
    lowered = text.strip().lower()
    fragment = _AFTER_SEPARATOR.search(lowered)
    if fragment is None and len(text.strip()) == CUT_AT:
        fragment = _AFTER_SPACE.search(lowered)
    if fragment is None or known_word(fragment.group(1)):
        return ()
    start = fragment.group(1)
    return tuple(
        sorted(opioid for opioid, partners in sold_with().items() if opioid.startswith(start) and read <= partners)
    )


def cut_note(opioids: tuple[str, ...]) -> str:
    """What a cut name is named with: "the name looks cut and may include codeine"."""
    return f"the name looks cut and may include {' or '.join(opioids)}"
