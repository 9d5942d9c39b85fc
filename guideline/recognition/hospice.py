"""Hospice care known by its words: one definition for every reader that meets it in text, a site's visit type or
discharge disposition (exclusion G5) and a problem-list entry with no code (G4, `recognition.diagnoses`).

Each reader had its own list of words that make a mention of hospice no hospice care, and each missed words the
other had: a visit type "Hospice refused" read as hospice care, a problem-list entry "HOSPICE EVAL" as the end of
life, and either excluded the patient from every check.
"""

from __future__ import annotations

import re

# "Hospice" as a word, not "non-hospice" (a home health visit that says it is not one).
HOSPICE_WORD = r"(?<!non-)(?<!non )\bhospice\b"

# Words that, anywhere beside "hospice" (or another end-of-life word), say the care is not being given: it is
# referred to, evaluated, explained, considered, planned or discussed (the patient may decline), declined, ended or
# past. Discharged from hospice ends it; discharged to hospice ("Discharged/transferred to Hospice - home", NUBC's
# own words) begins it.
NOT_HOSPICE_CARE_WORDS: tuple[str, ...] = (
    r"\breferr",
    r"\beval",
    r"\bconsult",
    r"\binfo",
    r"\bpre-?\s*hospice",
    r"\beligib",
    r"\bcandidate\b",
    r"\bplan(?:s|ning)?\b",
    r"\bdiscuss",
    r"\bdirective",
    r"\badvance\b",
    r"\bdeclin",
    r"\brefus",
    r"\brevo[ck]",
    r"\bdiscontinu",
    r"\bended\b",
    r"\bstopped\b",
    r"\bwithdr[ae]w",
    r"\bno\s+longer\b",
    r"\bdischarg(?!\w*(?:\s*/\s*transferred)?\s+to\s+(?:[\w-]+\s+){0,2}hospice\b)",
    r"\bnot\b",
    r"\bhistory\b",
    r"\bhx\b",
    r"\bformer(?:ly)?\b",
    r"\bprevious(?:ly)?\b",
    r"\bprior\b",
    r"\bpast\b",
)

_HOSPICE = re.compile(HOSPICE_WORD, re.IGNORECASE)
_NOT_CARE = re.compile("|".join(f"(?:{p})" for p in NOT_HOSPICE_CARE_WORDS), re.IGNORECASE)


def names_hospice_care(words: str | None) -> bool:
    """Words that name hospice care ("Hospice - Home"), not a referral to it, its end or a past ("Hospice Referral",
    "Hospice Revocation")."""
    return bool(words) and _HOSPICE.search(words) is not None and _NOT_CARE.search(words) is None
