"""Reading a diagnosis recorded by words alone: conservative word rules for the few sets where missing one matters.

Diagnoses are recognised by their codes (SNOMED CT, ICD-10-CM). A free-text problem-list entry or an outside record
often carries none, only `code.text` or a site's own code with a display. For the general exclusions (sickle cell
disease, cancer, terminal illness or hospice) and opioid use disorder, such an entry is read by its words when they
clearly name the condition and say nothing that makes it a history, a family's, a carrier state or a condition
still being ruled out. Anything else is left unread, and the plan page names it (`unread_diagnosis`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from guideline.fhirdata import ICD10CM, SNOMED, Concept
from guideline.recognition.code_sets import CodeSets
from guideline.recognition.hospice import HOSPICE_WORD, PROBLEM_LIST_NOT_HOSPICE_CARE_WORDS
from guideline.set_names import MALIGNANT_CANCER, OUD, POINT_OF_CARE_CANCER, SICKLE_CELL, TERMINAL
from guideline.words import longest_not_read

# The code systems the diagnosis value sets are written in: a concept with a code in one of them is read by code.
DIAGNOSIS_CODE_SYSTEMS = frozenset({SNOMED, ICD10CM})


def _words(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# Words that, anywhere in the entry, say it is no current diagnosis of the patient's: under work-up, a screening, a
# family's, resolved, a risk, or a question.
_NOT_ANYWHERE = _words(
    r"\brule[sd]?\s+out\b",
    r"\br/o\b",
    r"\bscreen(?:ing|ed)?\b",
    r"\?",
    r"\bvs\.?(?=\s)",
    r"\bversus\b",
    r"\bdifferential\b",
    r"\bresolved\b",
    r"\bfamily\b",
    r"\bfhx?\b",
    r"\bnegative\b",
    r"\brisk\b",
    r"\bsuspect(?:ed)?\b",
)
# Words that negate or date the condition when they come before its name ("history of breast cancer", "no sickle
# cell disease", "declined hospice"); after it they may say something else ("sickle cell disease without crisis").
_NOT_BEFORE = _words(
    r"\bhistory\b",
    r"\bhx\b",
    r"\bh/o\b",
    r"\bno\b",
    r"\bnot\b",
    r"\bwithout\b",
    r"\bdenie[sd]\b",
    r"\bdeclin(?:ed|es)\b",
    r"\brefus(?:ed|es)\b",
    r"\bpossible\b",
    r"\bprobable\b",
    r"\blikely\b",
    r"\bprior\b",
    r"\bprevious\b",
    r"\bpast\b",
    r"\bremote\b",
    r"\bs/p\b",
    r"\bstatus\s+post\b",
    r"\bconcern\s+for\b",
    r"\bevaluat(?:e|ion)\s+for\b",
)


class _Rule(NamedTuple):
    """The words that name a condition, and the words that, anywhere in the entry, make it something else."""

    names: re.Pattern[str]
    unless: re.Pattern[str]


RULES: Mapping[str, _Rule] = {
    OUD: _Rule(
        _words(
            r"\b(?:opioid|opiate|heroin|fentanyl)s?(?:\s+type)?\s+(?:use\s+disorder|dependence|addiction|abuse)\b",
            r"\b(?:dependence|addiction)\s+(?:on|to)\s+(?:opioids?|opiates?|heroin|fentanyl)\b",
            r"\boud\b",
        ),
        # Physical dependence on prescribed opioids is no use disorder; a mother's disorder is not her newborn's.
        _words(
            r"\bphysiologic(?:al)?\b",
            r"\bphysical\b",
            r"\biatrogenic\b",
            r"\bmaternal\b",
            r"\bmother\b",
            r"\bneonatal\b",
            r"\bnewborn\b",
            r"\bin\s+utero\b",
            r"\bexposure\b",
        ),
    ),
    SICKLE_CELL: _Rule(
        _words(
            r"\bsickle[\s-]*cell\s+(?:disease|anaemia|anemia|disorder|(?:pain\s+)?crisis|vaso-?occlusive)",
            # Possessive runs (`*+`): a run of spaces handed back was retried by each next run, slow on a long one.
            r"\bsickle[\s-]*+(?:cell[\s/-]*+)?(?:beta[\s-]*+)?(?:zero|plus|0|\+)?[\s-]*thalass",
            r"\bsickle[\s-]*cell\s*[/-]\s*h(?:b|a?emoglobin)[\s-]*[cdeo]\b",
            r"\bsickling\s+disorder\b",
            r"\bhb\s?s[sc]\b",
            r"\bh(?:a)?emoglobin\s+s[sc]\s+disease\b",
        ),
        # Sickle cell trait is a carrier state, not the disease (guideline G2).
        _words(r"\btrait\b", r"\bcarrier\b", r"\bhb\s?as\b"),
    ),
    MALIGNANT_CANCER: _Rule(
        # A word ending in "carcinoma" is tried from its first letter only (the \b before \w*): tried from each of
        # its letters, one 20,000-letter word took seconds (bench/text_worst_case.py). It matches the same words.
        _words(
            r"\bcancer\b",
            r"\b\w*carcinoma\b",
            r"\b\w*sarcoma\b",
            r"\b\w*lymphoma\b",
            r"\bleuka?emia\b",
            r"\bmyeloma\b",
            r"\bmelanoma\b",
            r"\bmesothelioma\b",
            r"\b\w*blastoma\b",
            r"\bglioma\b",
            r"\bmalignancy\b",
            r"\bmalignant\s+(?:neoplasm|tumou?r|growth|lesion|mass)\b",
            r"\bmetasta(?:sis|ses|tic)\b",
        ),
        # A cancer that is over, not invasive, a skin cancer of no bearing on pain treatment, or a predisposition:
        # read as active cancer it would switch every safety check off. A history is one wherever it is written
        # ("Breast cancer, history of", "Colon cancer s/p resection"), not only before the name.
        _words(
            r"\bhistory\b",
            r"\bhx\b",
            r"\bh/o\b",
            r"\bs/p\b",
            r"\bstatus\s+post\b",
            r"\bprevious(?:ly)?\b",
            r"\bprior\b",
            r"\bpast\b",
            r"\bremote\b",
            r"\bremission\b",
            r"\bsurvivor",
            r"\bin\s+situ\b",
            r"\bbenign\b",
            r"\bbasal\s+cell\b",
            r"\bcarrier\b",
            r"\bbrca\d?\b",
            r"\bgene(?:tic)?\b",
            r"\bpredisposition\b",
            r"\bpre-?cancerous\b",
            r"\bnon-?malignant\b",
            r"\bfear\b",
            r"\bphobia\b",
            r"\bcured\b",
            r"\bfree\b",
            r"\bned\b",
            r"\bno\s+(?:evidence|signs?)\b",
            r"\bcompleted\b",
            r"\btreated\b",
        ),
    ),
    TERMINAL: _Rule(
        _words(
            r"\bterminal(?:ly)?\s+ill(?:ness)?\b",
            r"\bterminal\s+(?:cancer|disease|condition|stage|diagnosis|phase)\b",
            r"\bpre-?terminal\b",
            r"\bend[\s-]+of[\s-]+life\b",
            r"\blimited\s+life\s+expectancy\b",
            r"\bcomfort\s+(?:care|measures)\s+only\b",
            # Hospice care is for a terminal illness (a prognosis of six months or less).
            HOSPICE_WORD,
        ),
        # End-of-life or hospice care referred to, evaluated, considered or discussed is not being at the end of life;
        # nor is hospice declined, left or ended, wherever that is written ("Hospice - declined", "Discharged from
        # hospice"), or planned or past: read so, a patient who left hospice lost every check. The words a visit type is
        # read by, and more (`recognition.hospice`).
        _words(*PROBLEM_LIST_NOT_HOSPICE_CARE_WORDS),
    ),
}
# The keratinocyte skin cancers (ICD-10-CM C44, other malignant neoplasm of skin) in words: squamous cell carcinoma of
# the skin, or a skin cancer said not to be melanoma ("basal cell" is no active cancer on either face, above).
# Melanoma, Merkel cell carcinoma and a squamous cell carcinoma of any other site are not among them.
_KERATINOCYTE_SKIN_CANCER = (
    r"\bsquamous\s+cell\s+(?:carcinoma|cancer)\s*,?\s*(?:of\s+)?(?:the\s+)?skin\b",
    r"\b(?:cutaneous|skin)\s+squamous\s+cell\b",
    r"\bnon-?melanoma(?:tous)?\s+skin\s+(?:cancer|carcinoma|malignancy)\b",
    r"\bkeratinocyte\s+(?:carcinoma|cancer)\b",
)
# A skin cancer named by nothing more ("Skin cancer", "Cancer of the skin", "Malignant neoplasm of skin", C44.9x's
# words): most are basal or squamous cell carcinomas, C44. So read only when the entry names no cancer but these
# words, and neither a Merkel cell carcinoma (C4A), Kaposi's sarcoma (C46) nor a secondary (C79.2, another cancer
# spread to the skin): "Skin cancer (melanoma)", "Metastatic skin cancer" and "Lung cancer; skin cancer" still exclude.
_SKIN_CANCER_WORDS = (
    r"\bskin\s+(?:cancer|carcinoma|malignancy)\b",
    r"\b(?:cancer|carcinoma|malignancy|malignant\s+neoplasm)\s+of\s+(?:the\s+)?skin\b",
)
_NOT_KERATINOCYTE = (r"\bmerkel\b", r"\bkaposi", r"\bsecondary\b")
# The whole entry, read from its start, is these words and words that name no cancer.
_SKIN_CANCER_ALONE = (
    rf"^(?:{_words(*_SKIN_CANCER_WORDS).pattern}"
    rf"|(?!{_words(RULES[MALIGNANT_CANCER].names.pattern, *_NOT_KERATINOCYTE).pattern})[\s\S])*\Z"
)
# The point of care's cancers (G3) are named by the same words as the IG's set, less the words of the codes the point
# of care leaves out of it (C44, valueset-corrections.json scope point-of-care): written with no code, "Squamous cell
# carcinoma of skin" or "Skin cancer" switched every opioid check off where C44.92 or C44.90 no longer did. The
# population review reads the IG's set, C44 included, and its words unchanged.
RULES = {
    **RULES,
    POINT_OF_CARE_CANCER: _Rule(
        RULES[MALIGNANT_CANCER].names,
        _words(RULES[MALIGNANT_CANCER].unless.pattern, *_KERATINOCYTE_SKIN_CANCER, _SKIN_CANCER_ALONE),
    ),
}


def read_by_code(concept: Concept | None) -> bool:
    """Whether the concept carries a SNOMED CT or ICD-10-CM code: it is then read by its codes, never its words."""
    return concept is not None and any(
        coding.code and coding.system in DIAGNOSIS_CODE_SYSTEMS for coding in concept.codings
    )


def _entry_texts(concept: Concept) -> tuple[str | None, ...]:
    """The entry's texts as sent: its text and its codings' displays."""
    return (concept.text, *(coding.display for coding in concept.codings))


def _entry_words(texts: tuple[str | None, ...]) -> str:
    """The entry's texts as one line, so a negation in one governs the other."""
    return " ; ".join(filter(None, texts))


def names_diagnosis(set_name: str, concept: Concept | None) -> bool:
    """A diagnosis with no code PainPlan reads whose words clearly name a condition of the set (only the sets in
    RULES have word rules): the words name it, nothing anywhere makes it a history, a screening or a risk, and no
    negation or past comes before its name."""
    rule = RULES.get(set_name)
    if rule is None or concept is None or read_by_code(concept):
        return False
    texts = _entry_texts(concept)
    # one text over the cap: none is read (`words_not_read`)
    return longest_not_read(texts) is None and _words_name(rule, _entry_words(texts))


def _words_name(rule: _Rule, words: str) -> bool:
    """Whether an entry's words, short enough to read, name the rule's condition (`names_diagnosis`)."""
    found = rule.names.search(words) if words else None
    if found is None:
        return False
    if _NOT_ANYWHERE.search(words) or rule.unless.search(words):
        return False
    return _NOT_BEFORE.search(words, 0, found.start()) is None


def in_diagnosis_set(set_name: str, concept: Concept | None, terms: CodeSets) -> bool:
    """A diagnosis of the set: by its code, or, having no code PainPlan reads, by words that clearly name it
    (`names_diagnosis`). Facts reads the same per distinct code (`Facts.conditions_in`)."""
    return terms.contains(set_name, concept) or names_diagnosis(set_name, concept)


def words_not_read(concept: Concept | None) -> int | None:
    """The length of a diagnosis's longest text (`longest_not_read`) when it has no code PainPlan reads and that text is
    longer than `words.TEXT_READ_CHARACTERS` (then none of its words is read, and it is named: `diagnoses-not-read`),
    else None."""
    if concept is None or read_by_code(concept):
        return None
    return longest_not_read(_entry_texts(concept))


def unread_diagnosis(concept: Concept | None) -> bool:
    """A diagnosis PainPlan cannot read: no SNOMED CT or ICD-10-CM code, and no word rule names it. One whose words
    were too long to read is none: it is named as such (`words_not_read`), not as words that named nothing."""
    if concept is None:
        return True
    if read_by_code(concept):
        return False
    # Its code and its words are read once here, not again for each rule (`names_diagnosis`).
    texts = _entry_texts(concept)
    if longest_not_read(texts) is not None:
        return False
    words = _entry_words(texts)
    return not any(_words_name(rule, words) for rule in RULES.values())
