"""Attribution (spec 6): the patient's PCP, else the practice they are assigned to, else the prescriber of most of
their period fills, else none."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from guideline.fhirdata import as_dict, as_list, text
from guideline.identifiers import actor_reference
from guideline.population.actors import resolve_actor
from guideline.population.model import Directory, OpioidFill

# The kind of a patient whose generalPractitioner names someone the export's directory does not hold (a role, or a
# number of no stated type), and no clinician it does: attributed to their practice, or their main prescriber, as
# others are, but under a kind of its own, so no letter says they have no PCP on record (they have one; the export
# does not say who) and data quality counts them (pcp_not_in_directory).
PCP_NOT_IN_DIRECTORY = "-pcp-not-in-directory"
# The kind of a patient whose fills are in the export and whose Patient resource is not: whether they have a PCP
# cannot be known, so no letter may say they have none on record.
NO_PATIENT_RESOURCE = "-no-patient-resource"


@dataclass(frozen=True)
class AttributionKind:
    """One kind of attribution: its name (the patients table's `attribution`) and whose letter lists the patient."""

    name: str
    letter: Literal["clinician", "practice"] | None  # None: in no letter


# Every kind attribute() gives, in the order a letter gives the reasons its patients are listed (the clinician's own
# patients first). The one list: an Attribution of any other kind is refused, and the letters read here which kinds
# they list, in what order, and which go to a practice; their words (smart_app's wording.REASONS) must cover every
# kind with a letter, which a test asks.
ATTRIBUTION_KINDS: tuple[AttributionKind, ...] = (
    AttributionKind("pcp", "clinician"),
    # Assigned to a practice, no clinician named (or none the directory holds): the practice's letter.
    AttributionKind("practice", "practice"),
    AttributionKind("practice" + PCP_NOT_IN_DIRECTORY, "practice"),
    # No PCP on record (or none the directory holds): their main prescriber's letter.
    AttributionKind("prescriber", "clinician"),
    AttributionKind("prescriber" + PCP_NOT_IN_DIRECTORY, "clinician"),
    # No Patient resource in the export: PCP unknown. Their age is unknown too, so no measure and no letter has
    # them; were one to, it is their main prescriber's, in words that claim nothing of a PCP.
    AttributionKind("prescriber" + NO_PATIENT_RESOURCE, "clinician"),
    AttributionKind("none", None),
)
_KIND_NAMES = frozenset(kind.name for kind in ATTRIBUTION_KINDS)


@dataclass(frozen=True)
class Attribution:
    kind: str  # the name of one of ATTRIBUTION_KINDS
    clinician_id: str | None  # logical id, without the resource type
    practice_id: str | None
    # The PCP the patient names is not in the directory (whatever they were attributed to instead, "none" included).
    pcp_not_in_directory: bool = False

    def __post_init__(self) -> None:
        """A kind the list does not hold is refused here, where it is made, not left out of every letter later."""
        if self.kind not in _KIND_NAMES:
            raise ValueError(f"attribution kind {self.kind!r} is not in ATTRIBUTION_KINDS")


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


@dataclass(frozen=True)
class _Assignment:
    """What generalPractitioner says: the PCP and the practice found, and whether it named anyone not found."""

    clinician: str | None
    practice: str | None
    not_found: bool


def _assignment(patient: Mapping[str, Any] | None, directory: Directory) -> _Assignment:
    """(PCP, practice) from generalPractitioner: the first clinician named, in their own organisation, else in the
    first practice listed; a practice alone when no clinician is named (Medicaid and FQHC panels assign a practice).
    A reference that leads to no one (a role, or a number of no stated type, the directory does not hold) is noted,
    as is a clinician named by display alone (an outside PCP with no resource of their own): the record names a
    PCP, so the patient is not one with none on record."""
    clinician: str | None = None
    clinician_practice: str | None = None
    listed_practice: str | None = None
    not_found = False
    for item in as_list(as_dict(patient).get("generalPractitioner")):
        reference = actor_reference(item)
        if not reference:
            not_found = not_found or bool(text(as_dict(item).get("display")))
            continue
        practitioner, organisation = _from_reference(reference, directory)
        if practitioner and clinician is None:
            clinician, clinician_practice = practitioner, organisation
        elif not practitioner:
            listed_practice = listed_practice or organisation
            not_found = not_found or organisation is None
    return _Assignment(clinician, clinician_practice or listed_practice, not_found and clinician is None)


def attribute(
    patient: Mapping[str, Any] | None, period_fills: tuple[OpioidFill, ...], directory: Directory
) -> Attribution:
    """The patient's attribution (spec 6): their PCP, else their practice, else their main prescriber, else none."""
    assignment = _assignment(patient, directory)
    if assignment.clinician:
        return Attribution("pcp", assignment.clinician, assignment.practice)
    missing = assignment.not_found
    suffix = PCP_NOT_IN_DIRECTORY if missing else NO_PATIENT_RESOURCE if patient is None else ""
    # Assigned to a practice with no clinician named: the patient is the practice's, not the prescriber's (an
    # emergency department's doctor, say), who would be told the patient has no primary care on record.
    if assignment.practice:
        return Attribution("practice" + suffix, None, assignment.practice, missing)
    # Most fills wins; a tie goes to the prescriber of the latest fill, then the lowest id (deterministic).
    counts = Counter(f.prescriber for f in period_fills if f.prescriber)
    if counts:
        latest = {f.prescriber: f.filled for f in period_fills if f.prescriber}
        # max() keeps the first of equals, and the ids are in order: the lowest id wins a full tie ("dr1" before
        # "dr10"; negated characters put the longer "dr10" first).
        best = max(sorted(counts), key=lambda p: (counts[p], latest[p]))
        ident = _bare(best)
        return Attribution("prescriber" + suffix, ident, directory.practitioner_orgs.get(ident or ""), missing)
    return Attribution("none", None, None, missing)
