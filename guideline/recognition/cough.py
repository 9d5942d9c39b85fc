"""Opioid cough and cold medicines: an antitussive opioid combined with a cough and cold ingredient."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from guideline.recognition.classify import OPIOID_KINDS, Recognition, recognise
from guideline.recognition.lexicon import COUGH_COLD_PARTNERS

if TYPE_CHECKING:
    from guideline.recognition.code_sets import CodeSets
    from guideline.record import ResolvedMedication

# Opioid cough and cold products, which the CDC 2022 opioid analgesic set and PQA's opioid measures (and CMS Part D's,
# built on them) leave out: an antitussive opioid combined with an antihistamine, a decongestant, an expectorant or
# homatropine (`COUGH_COLD_PARTNERS`, which recognition reads too). Recognised by the combination (the RxNorm drug
# table's product name, or the ingredients a name or brand gives), not by a list of codes: every such product of the
# table is one, and none of the CDC's 2022 opioid analgesic set is. Meperidine with promethazine (a pain and sedation
# product) is no cough medicine.
ANTITUSSIVE_OPIOIDS = frozenset({"codeine", "hydrocodone", "dihydrocodeine"})
_WORD = re.compile(r"[a-z]+")


def is_cough_cold(medication: ResolvedMedication, recognition: Recognition, terms: CodeSets) -> bool:
    """Whether an opioid is a cough and cold product (`COUGH_COLD_PARTNERS`): its ingredients as recognition read
    them, and, for a product of the RxNorm drug table (whose rows hold its opioid ingredients only), the other
    ingredients its RxNorm name states."""
    names = set(recognition.ingredients)
    for coding in terms.rxnorm_codings(medication.concept):
        for row in terms.drug_rows(coding.code or ""):
            names.update(_WORD.findall(row.drug_name.lower()))
    return bool(names & ANTITUSSIVE_OPIOIDS) and bool(names & COUGH_COLD_PARTNERS)


def opioid_cough_medicine(medication: ResolvedMedication, terms: CodeSets) -> bool:
    """Whether a medication is an opioid cough and cold medicine (promethazine with codeine, Hycodan, Tussionex):
    an opioid for the risk checks, but no pain prescription for the acute-pain checks."""
    recognition = recognise(medication, terms)
    return recognition.kind in OPIOID_KINDS and is_cough_cold(medication, recognition, terms)
