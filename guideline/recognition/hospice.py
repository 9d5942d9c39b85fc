"""Hospice care known by its words: one definition for every reader that meets it in text, a site's visit type or
discharge disposition (exclusion G5) and a problem-list entry with no code (G4, `recognition.diagnoses`).

Each reader had its own list of words that make a mention of hospice no hospice care, and each missed words the
other had: a visit type "Hospice refused" read as hospice care, a problem-list entry "HOSPICE EVAL" as the end of
life, and either excluded the patient from every check. Merged into one list, the visit reader took the problem
list's words for a plan or a past, and a hospice team's "Hospice Plan of Care" visit read as no hospice care. So
both lists are defined here, the problem list's as the visit's and more.
"""

from __future__ import annotations

import re

# "Hospice" as a word, not "non-hospice" (a home health visit that says it is not one).
HOSPICE_WORD = r"(?<!non-)(?<!non )\bhospice\b"

# Words that, anywhere beside "hospice" on a visit's type, service type or class, or a discharge disposition, say the
# visit is about hospice but gives no hospice care: care referred to, evaluated, explained, considered or discussed
# (the patient may decline), declined, or ended. Discharged from hospice ends it; discharged to hospice
# ("Discharged/transferred to Hospice - home", NUBC's own words) begins it.
VISIT_NOT_HOSPICE_CARE_WORDS: tuple[str, ...] = (
    r"\breferr",
    r"\beval",
    r"\bconsult",
    r"\binfo",
    r"\bpre-?\s*hospice",
    r"\beligib",
    r"\bcandidate\b",
    r"\bplanning\b",
    r"\bdiscuss",
    r"\bdeclin",
    r"\brefus",
    r"\brevo[ck]",
    r"\bdiscontinu",
    r"\bended\b",
    r"\bstopped\b",
    r"\bwithdr[ae]w",
    r"\bno\s+longer\b",
    r"\bformer(?:ly)?\b",
    r"\bdischarg(?!\w*(?:\s*/\s*transferred)?\s+to\s+(?:[\w-]+\s+){0,2}hospice\b)",
    r"\bnot\b",
)

# A problem-list entry with no code is read by more: the visit's words, and those that make the entry a plan, a
# directive or a past ("Hospice plan", "Advance directive: hospice", "Hospice, prior"). They are not the visit's:
# a visit's type names the service given at the visit and its own dates say when, and on a visit type these words
# name hospice care ("Hospice Plan of Care", "Hospice visit (prior auth)", "Hospice - Advance Care", "Hospice
# History and Physical"). Read with this list, a hospice patient's visits read as no hospice care and every card
# fired. Two lists, kept here together, so that neither reader drifts from the other again.
PROBLEM_LIST_NOT_HOSPICE_CARE_WORDS: tuple[str, ...] = (
    *VISIT_NOT_HOSPICE_CARE_WORDS,
    r"\bplans?\b",
    r"\bdirective",
    r"\badvance\b",
    r"\bhistory\b",
    r"\bhx\b",
    r"\bprevious(?:ly)?\b",
    r"\bprior\b",
    r"\bpast\b",
)

_HOSPICE = re.compile(HOSPICE_WORD, re.IGNORECASE)
_NOT_CARE_ON_A_VISIT = re.compile("|".join(f"(?:{p})" for p in VISIT_NOT_HOSPICE_CARE_WORDS), re.IGNORECASE)


def names_hospice_care(words: str | None) -> bool:
    """A visit type, service, class or discharge disposition whose words name hospice care ("Hospice - Home",
    "Hospice Plan of Care"), not a referral to it or its end ("Hospice Referral", "Hospice Revocation")."""
    if not words:
        return False
    return _HOSPICE.search(words) is not None and _NOT_CARE_ON_A_VISIT.search(words) is None
