"""What kind of medicine a fill or order is, for the measures: pain opioid, MOUD, benzodiazepine, naloxone, other."""

from __future__ import annotations

import re
from typing import Literal

from guideline.recognition import OPIOID_KINDS, Recognition, recognise, unidentified_name
from guideline.recognition.lexicon import COUGH_COLD_PARTNERS
from guideline.record import ResolvedMedication
from guideline.terminology import OUD_TREATMENT_OPIOID, Terminology

Kind = Literal["opioid", "cough-cold", "moud", "benzodiazepine", "naloxone", "not-relevant", "unidentified"]

# Opioid cough and cold products, which PQA's opioid measures (and CMS Part D's, built on them) leave out of their
# opioid medication list: an antitussive opioid combined with an antihistamine, a decongestant, an expectorant or
# homatropine (`COUGH_COLD_PARTNERS`, which recognition reads too). Recognised by the combination (the RxNorm drug
# table's product name, or the ingredients a name or brand gives), not by a list of codes: every such product of the
# table is one, and none of the CDC's 2022 opioid analgesic set is. Meperidine with promethazine (a pain and sedation
# product) is no cough medicine.
ANTITUSSIVE_OPIOIDS = frozenset({"codeine", "hydrocodone", "dihydrocodeine"})
_WORD = re.compile(r"[a-z]+")


def medication_kind(medication: ResolvedMedication, terms: Terminology) -> Kind:
    """The measures' class of a medication, from guideline.recognition (codes, else names and brands).
    Buprenorphine for opioid use disorder and methadone from an opioid treatment program are MOUD, never a pain
    opioid (spec 4). A medication recognition cannot identify is `unidentified`: counted in the data-quality
    report, never silently taken as 'not an opioid'."""
    recognition = recognise(medication, terms)
    kind = recognition.kind
    if kind in OPIOID_KINDS:
        if terms.medication_in(OUD_TREATMENT_OPIOID, medication):
            return "moud"
        return "cough-cold" if is_cough_cold(medication, recognition, terms) else "opioid"
    if kind in ("moud", "benzodiazepine", "naloxone", "unidentified"):
        return kind  # type: ignore[return-value]
    return "not-relevant"  # sedatives other than benzodiazepines, and everything else known


def is_cough_cold(medication: ResolvedMedication, recognition: Recognition, terms: Terminology) -> bool:
    """Whether an opioid is a cough and cold product (`COUGH_COLD_PARTNERS`): its ingredients as recognition read
    them, and, for a product of the RxNorm drug table (whose rows hold its opioid ingredients only), the other
    ingredients its RxNorm name states."""
    names = set(recognition.ingredients)
    for coding in terms.rxnorm_codings(medication.concept):
        for row in terms.drug_rows(coding.code or ""):
            names.update(_WORD.findall(row.drug_name.lower()))
    return bool(names & ANTITUSSIVE_OPIOIDS) and bool(names & COUGH_COLD_PARTNERS)


def unidentified_key(medication: ResolvedMedication) -> tuple[str, str, str]:
    """(system, code, text) naming an unidentified medication in the data-quality report."""
    concept = medication.concept
    coding = next((c for c in concept.codings if c.code), None) if concept else None
    label = (concept.display() if concept else None) or unidentified_name(medication) or medication.reference or ""
    return (coding.system or "" if coding else "", coding.code or "" if coding else "", label)
