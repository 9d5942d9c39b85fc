"""What kind of medicine a fill or order is, for the measures: pain opioid, MOUD, benzodiazepine, naloxone, other."""

from __future__ import annotations

from typing import Literal

from guideline.recognition import OPIOID_KINDS, recognise, unidentified_name
from guideline.recognition.cough import is_cough_cold
from guideline.record import ResolvedMedication
from guideline.terminology import OUD_TREATMENT_OPIOID, Terminology

Kind = Literal["opioid", "cough-cold", "moud", "benzodiazepine", "naloxone", "not-relevant", "unidentified"]


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


def unidentified_key(medication: ResolvedMedication) -> tuple[str, str, str]:
    """(system, code, text) naming an unidentified medication in the data-quality report."""
    concept = medication.concept
    coding = next((c for c in concept.codings if c.code), None) if concept else None
    label = (concept.display() if concept else None) or unidentified_name(medication) or medication.reference or ""
    return (coding.system or "" if coding else "", coding.code or "" if coding else "", label)
