"""What kind of medicine a fill or order is, for the measures: pain opioid, MOUD, benzodiazepine, naloxone, other."""

from __future__ import annotations

from typing import Literal

from guideline.fhirdata import RXNORM
from guideline.record import ResolvedMedication
from guideline.terminology import BENZO, MOUD, MOUD_BUP, NALOXONE_RESCUE, OPIOID, Terminology

Kind = Literal["opioid", "moud", "benzodiazepine", "naloxone", "not-relevant", "unidentified"]


def medication_kind(medication: ResolvedMedication, terms: Terminology) -> Kind:
    """The measures' class of a medication. Buprenorphine for opioid use disorder is MOUD, never a pain opioid
    (spec 4). A medication with no RxNorm coding the tables know (NDC only, text only, unresolved) is
    `unidentified`: counted in the data-quality report, never silently treated as 'not an opioid'."""
    if medication.unresolved:
        return "unidentified"
    if terms.medication_in(MOUD_BUP, medication):
        return "moud"
    if terms.medication_in(OPIOID, medication):
        return "opioid"
    if terms.medication_in(BENZO, medication):
        return "benzodiazepine"
    if terms.medication_in(NALOXONE_RESCUE, medication):
        return "naloxone"
    if terms.medication_in(MOUD, medication):
        return "moud"
    concept = medication.concept
    if concept is None or not any(c.system == RXNORM and c.code for c in concept.codings):
        return "unidentified"  # NDC only or text only: we cannot say it is not an opioid
    return "not-relevant"


def unidentified_key(medication: ResolvedMedication) -> tuple[str, str, str]:
    """(system, code, text) naming an unidentified medication in the data-quality report."""
    concept = medication.concept
    coding = next((c for c in concept.codings if c.code), None) if concept else None
    label = (concept.display() if concept else None) or medication.reference_display or medication.reference or ""
    return (coding.system or "" if coding else "", coding.code or "" if coding else "", label)
