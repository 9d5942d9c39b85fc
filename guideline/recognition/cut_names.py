"""Names cut short by claims and pharmacy systems, whose last fragment may begin an opioid (pure text, no codes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from guideline.recognition.lexicon import COUGH_COLD_PARTNERS, ingredients, known_word, sold_with
from guideline.words import QUOTED_CHARACTERS, clip

# Claims and pharmacy drug files cut names at 35 characters: Fioricet with codeine arrives as
# "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C", which reads whole as plain Fioricet.
CUT_AT = 35
# The last fragment after "/" or "-" ("…/C", "…-CO"); after a space only in a name cut at exactly 35 characters,
# since elsewhere a last word after a space is a form or a note ("VITAMIN C").
_AFTER_SEPARATOR = re.compile(r"[/-]\s*([a-z]+)$")
_AFTER_SPACE = re.compile(r"\s([a-z]+)$")
# The ingredients cough and cold products combine with one another, with or without an opioid: the opioid products'
# partners and dextromethorphan, the antitussive most sold without one ("CHLORPHENIRAMINE/PHENYLEPHRINE/DM").
_COUGH_COLD = COUGH_COLD_PARTNERS | {"dextromethorphan"}
# What a cut name is named with, first words.
CUT_NOTE_START = "the name looks cut"


def _cut_fragment(text: str) -> str | None:
    """The last fragment of a name that may be cut ("c" of "…/CAFFEINE/C"), unless it is a word PainPlan reads."""
    lowered = text.strip().lower()
    fragment = _AFTER_SEPARATOR.search(lowered)
    if fragment is None and len(text.strip()) == CUT_AT:
        fragment = _AFTER_SPACE.search(lowered)
    if fragment is None or known_word(fragment.group(1)):
        return None
    return fragment.group(1)


def opioids_cut_off(text: str, read: frozenset[str]) -> tuple[str, ...]:
    """The opioids a cut name's last fragment may begin, of those the packaged drug table sells with every ingredient
    read ("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C": codeine); empty when an opioid was read, nothing was, or the last
    fragment is a word PainPlan reads, begins no such opioid, or is not cut off."""
    known = ingredients()
    if not read or any(known[name].kind == "opioid" for name in read):
        return ()
    start = _cut_fragment(text)
    if start is None:
        return ()
    return tuple(
        sorted(opioid for opioid, partners in sold_with().items() if opioid.startswith(start) and read <= partners)
    )


def cut_also_cough_cold(text: str, read: frozenset[str]) -> bool:
    """Whether a cut cough and cold name's last fragment as well begins another cough and cold ingredient: after
    chlorpheniramine and phenylephrine "D" may be dihydrocodeine (ColdCough PD) or dextromethorphan."""
    start = _cut_fragment(text)
    if start is None or not read or not read <= _COUGH_COLD:
        return False
    return any(name.startswith(start) for name in _COUGH_COLD - read)


def cut_note(opioids: tuple[str, ...], cough_cold_too: bool = False) -> str:
    """What a cut name is named with: "the name looks cut and may include codeine", and where its last part as well
    begins a cough and cold ingredient, "…, or a cough and cold ingredient instead"."""
    note = f"{CUT_NOTE_START} and may include {' or '.join(opioids)}"
    return f"{note}, or a cough and cold ingredient instead" if cough_cold_too else note


@dataclass(frozen=True, slots=True)
class NotedName:
    """A shown name and recognition's note on it, kept apart ("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C" and "the name
    looks cut and may include codeine"): typed fields, so no string operation on the shown text can lose the note, as
    it could from the `str` subclass this replaces. Its text is the name with the note in brackets."""

    name: str
    note: str

    def __str__(self) -> str:
        return f"{self.name} ({self.note})"


def with_where(display: str | NotedName, where: str) -> str:
    """A shown name with where it was found in brackets ("… (current order mr-1)"), the note of a name recognition
    noted (`NotedName`) joined into the one bracket: "BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C (current order mr-1; the
    name looks cut and may include codeine)", where two brackets in a row read as a stutter. Decided by what the name
    is, never by its words: an order whose own text holds the note's words is named as written."""
    # Cut here, where every face names an item, so that no card quotes a pasted or hostile name whole.
    if isinstance(display, NotedName):
        return f"{clip(display.name, QUOTED_CHARACTERS)} ({where}; {display.note})"
    return f"{clip(display, QUOTED_CHARACTERS)} ({where})"
