"""Attribution (spec 6): the patient's PCP, else the practice they are assigned to, else the prescriber of most of
their period fills, else none."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from guideline.fhirdata import as_dict, as_list
from guideline.identifiers import actor_reference
from guideline.population.actors import resolve_actor
from guideline.population.model import Directory, OpioidFill


@dataclass(frozen=True)
class Attribution:
    kind: str  # "pcp" | "practice" (assigned to a practice, no clinician named) | "prescriber" | "none"
    clinician_id: str | None  # logical id, without the resource type
    practice_id: str | None


def _bare(local: str | None) -> str | None:
    return local.partition("/")[2] or None if local else None


def _from_reference(reference: str, directory: Directory) -> tuple[str | None, str | None]:
    """(practitioner id, organisation id) for a generalPractitioner reference (by identifier alone too: payers name
    the PCP by NPI)."""
    local = resolve_actor(reference, directory) or ""
    kind, _, ident = local.partition("/")
    if kind == "PractitionerRole":
        practitioner, organisation = directory.roles.get(ident, (None, None))
        if practitioner and not organisation:
            organisation = directory.practitioner_orgs.get(practitioner)
        return practitioner, organisation
    if kind == "Practitioner":
        return ident or None, directory.practitioner_orgs.get(ident)
    if kind == "Organization":
        return None, ident or None
    return None, None


def _assignment(patient: Mapping[str, Any] | None, directory: Directory) -> tuple[str | None, str | None]:
    """(PCP, practice) from generalPractitioner: the first clinician named, in their own organisation, else in the
    first practice listed; a practice alone when no clinician is named (Medicaid and FQHC panels assign a practice)."""
    clinician: str | None = None
    clinician_practice: str | None = None
    listed_practice: str | None = None
    for item in as_list(as_dict(patient).get("generalPractitioner")):
        reference = actor_reference(item)
        if not reference:
            continue
        practitioner, organisation = _from_reference(reference, directory)
        if practitioner and clinician is None:
            clinician, clinician_practice = practitioner, organisation
        elif not practitioner:
            listed_practice = listed_practice or organisation
    return clinician, clinician_practice or listed_practice


def attribute(
    patient: Mapping[str, Any] | None, period_fills: tuple[OpioidFill, ...], directory: Directory
) -> Attribution:
    clinician, practice = _assignment(patient, directory)
    if clinician:
        return Attribution("pcp", clinician, practice)
    # Assigned to a practice with no clinician named: the patient is the practice's, not the prescriber's (an
    # emergency department's doctor, say), who would be told the patient has no primary care on record.
    if practice:
        return Attribution("practice", None, practice)
    # Most fills wins; a tie goes to the prescriber of the latest fill, then the lowest id (deterministic).
    counts = Counter(f.prescriber for f in period_fills if f.prescriber)
    if counts:
        latest = {f.prescriber: f.filled for f in period_fills if f.prescriber}
        best = max(counts, key=lambda p: (counts[p], latest[p], _neg(p)))
        ident = _bare(best)
        return Attribution("prescriber", ident, directory.practitioner_orgs.get(ident or ""))
    return Attribution("none", None, None)


def _neg(value: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in value)
