"""Which FHIR release the calling EHR speaks, so the resources a card suggests are ones it can create."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cds_hooks.stu3_resources import as_stu3, stu3_misfits
from guideline.record import resources_in
from launch.scopes import r4_named_in_base, release_named_in_base

R4 = "R4"
STU3 = "STU3"
DSTU2 = "DSTU2"
R5 = "R5"
DSTU1 = "DSTU1"
AUTO = "auto"

# A shape test: whether a resource of one type is written as only some releases write it.
Shape = Callable[[Mapping[str, Any]], bool]
# How a suggestion the checks built in R4 is written in a release: the resource, and the element whose code the
# release lacks (None when every code is the release's).
Writer = Callable[[Mapping[str, Any]], tuple[dict[str, Any], str | None]]
# Why a resource written for a release failed its validation, in words for the card (None: a fault of ours): from
# the resource as written, the element whose code the release lacks, and where the release's models refused it
# (element path, pydantic error type; cds_hooks.cards validates, in one place for every release).
Misfits = Callable[[Mapping[str, Any], str | None, tuple[tuple[str, str], ...]], str | None]
# The dose[x] and rate[x] an STU3 Dosage holds itself (R4 moved them under doseAndRate).
_STU3_DOSE_KEYS = frozenset({"doseQuantity", "doseRange", "rateQuantity", "rateRatio", "rateRange"})
# R5 names the medication of these in `medication`, a CodeableReference (R4, STU3, DSTU2: medication[x]).
_MEDICATION_TYPES = ("MedicationRequest", "MedicationDispense", "MedicationStatement", "MedicationAdministration")


@dataclass(frozen=True)
class Release:
    """One FHIR release an EHR may speak: the strings naming it, how a call shows it, and whether and how PainPlan
    writes the resources its cards suggest in it. The path segments of a FHIR base naming it are launch.scopes' alone
    (OTHER_RELEASE_BASES, R4_BASES), which release_of_call reads a base by, as the launch does."""

    name: str  # as PAINPLAN_EHR_FHIR_VERSION and the cards spell it
    # A CapabilityStatement's fhirVersion, its first two numbers ("4.0.1" -> "4.0"): the write-back reads a server's
    # release by these (smart_app.write.fhir_version.RELEASES).
    numbers: tuple[str, ...]
    types: frozenset[str] = frozenset()  # resource types that show it (one another release has too shows both)
    shapes: Mapping[str, Shape] = field(default_factory=dict)  # by resource type: a shape that shows it
    models: str | None = None  # the fhir.resources package suggestions are validated with; None: none is written
    writer: Writer | None = None  # how a suggestion built in R4 is rewritten for it; None: as built
    misfits: Misfits | None = None  # the words for a rewritten suggestion its models refused

    @property
    def writes(self) -> bool:
        """Whether PainPlan writes suggested resources in it (it has models to vouch for them)."""
        return self.models is not None


def _r4_order(resource: Mapping[str, Any]) -> bool:
    """R4's MedicationRequest: the dose under doseAndRate and the medication as medication[x] (R5 keeps doseAndRate
    but names the medication in `medication`)."""
    if "medication" in resource:
        return False
    dosages = resource.get("dosageInstruction")
    if type(dosages) is list:
        for dosage in dosages:  # noqa: SIM110 - a plain loop: any(generator) costs a call on every order
            if type(dosage) is dict and "doseAndRate" in dosage:
                return True
    return False


def _stu3_order(resource: Mapping[str, Any]) -> bool:
    """STU3's MedicationRequest: a requester that is a backbone around its agent, or a dose on the dosage itself."""
    requester = resource.get("requester")
    if type(requester) is dict and "agent" in requester:
        return True
    dosages = resource.get("dosageInstruction")
    if type(dosages) is list:
        for dosage in dosages:  # noqa: SIM110 - a plain loop: any(generator) costs a call on every order
            if type(dosage) is dict and not _STU3_DOSE_KEYS.isdisjoint(dosage):
                return True
    return False


def _stu3_request(resource: Mapping[str, Any]) -> bool:
    """STU3's ProcedureRequest or ReferralRequest states an intent; DSTU2's does not (and R4 renamed both)."""
    return "intent" in resource


def _r5_medication(resource: Mapping[str, Any]) -> bool:
    """R5's medication: a CodeableReference, holding a concept or a reference object."""
    medication = resource.get("medication")
    return type(medication) is dict and ("concept" in medication or type(medication.get("reference")) is dict)


# One entry per release, in the order the setting lists them. Only R4 and STU3 have models in fhir.resources to
# vouch for a suggested resource; for any other no resource to create is offered, and each card says so.
RELEASES: dict[str, Release] = {
    release.name: release
    for release in (
        Release(
            R4,  # R4B (4.3) takes R4's resources as PainPlan writes them
            numbers=("4.0", "4.3"),
            types=frozenset({"ServiceRequest"}),
            shapes={"MedicationRequest": _r4_order},
            models="R4B",
        ),
        Release(
            STU3,
            numbers=("3.0",),
            shapes={
                "MedicationRequest": _stu3_order,
                "ProcedureRequest": _stu3_request,
                "ReferralRequest": _stu3_request,
            },
            models="STU3",
            writer=as_stu3,
            misfits=stu3_misfits,
        ),
        Release(DSTU2, numbers=("1.0",), types=frozenset({"MedicationOrder", "DiagnosticOrder"})),
        Release(
            R5,
            numbers=("5.0",),
            # ServiceRequest is R4's too; MedicationUsage (the ballot's MedicationStatement) and RequestOrchestration
            # (RequestGroup) are R5's alone.
            types=frozenset({"ServiceRequest", "MedicationUsage", "RequestOrchestration"}),
            shapes=dict.fromkeys(_MEDICATION_TYPES, _r5_medication),
        ),
        Release(DSTU1, numbers=("0.0",)),
    )
}
# What PAINPLAN_EHR_FHIR_VERSION takes; `auto` works the release out call by call (release_of_call).
SETTING_VALUES = (AUTO, *RELEASES)
_NONE: frozenset[str] = frozenset()
# By resource type, what RELEASES says of it, read with one lookup per resource: the releases its type alone shows,
# and each shape test that may show one with the release (as a set) it shows.
_BY_TYPE: dict[str, tuple[frozenset[str], tuple[tuple[frozenset[str], Shape], ...]]] = {}
for _release in RELEASES.values():
    _one = frozenset({_release.name})
    for _kind in _release.types:
        _shown, _tests = _BY_TYPE.get(_kind, (_NONE, ()))
        _BY_TYPE[_kind] = (_shown | _one, _tests)
    for _kind, _shape in _release.shapes.items():
        _shown, _tests = _BY_TYPE.get(_kind, (_NONE, ()))
        _BY_TYPE[_kind] = (_shown, (*_tests, (_one, _shape)))


def setting_value(raw: str) -> str | None:
    """The setting as PainPlan spells it ("stu3" -> "STU3"); None when it names no value it takes."""
    wanted = raw.strip().lower()
    return next((value for value in SETTING_VALUES if value.lower() == wanted), None)


def release_of_call(setting: str, fhir_server: str | None, draft_orders: Any, pool: Iterable[Mapping[str, Any]]) -> str:
    """The release to write suggestions in: the site's setting; else the one the fhirServer base's path names
    (…/api/FHIR/STU3, /dstu2/<tenant>, …/R4, /baseR5); else the one the drafts' shapes, then the chart's, all point
    to; else R4 (most EHRs, and what shapes that disagree leave us with)."""
    if setting != AUTO:
        return setting
    if fhir_server:
        named = release_named_in_base(fhir_server)
        if named is not None:
            return named
        if r4_named_in_base(fhir_server):
            return R4
    # The drafts speak first; when they leave more than one (a ServiceRequest: R4 or R5), the chart chooses among them.
    left = _releases_left(resources_in(draft_orders) if draft_orders else (), None)
    if left is None or len(left) != 1:
        left = _releases_left(pool, left or None)  # drafts that disagree (none left) leave the chart to decide alone
    return next(iter(left)) if left is not None and len(left) == 1 else R4


def _releases_left(resources: Iterable[Any], left: frozenset[str] | None) -> frozenset[str] | None:
    """The releases every resource that shows any points to, narrowed from `left`; None when none shows one, and
    empty when they disagree (an HIE's R4 copies beside the EHR's STU3 records), which proves nothing."""
    for resource in resources:
        releases = _releases_shown(resource)
        if releases and releases is not left:  # the same set as the last (one per type or shape): nothing to narrow
            left = releases if left is None else left & releases
            if not left:
                return left
    return left


def _releases_shown(resource: Any) -> frozenset[str]:
    """The releases a resource's type or shape belongs to; empty when it says nothing (R4 and STU3 write it alike).
    The same set object for the same answer, so a chart of like orders narrows nothing after the first."""
    if type(resource) is not dict:
        return _NONE
    kind = resource.get("resourceType")
    if type(kind) is not str:  # a list or an object (a fuzzer's, a broken interface's): no type, no release
        return _NONE
    known = _BY_TYPE.get(kind)
    if known is None:
        return _NONE
    shown, tests = known
    for release, shows in tests:
        if shows(resource):
            shown = shown | release if shown else release
    return shown
