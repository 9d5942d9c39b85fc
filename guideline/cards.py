"""The card model every check returns; faces turn it into CDS Hooks JSON or plan-view HTML."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal

from guideline.context import HookContext

Indicator = Literal["info", "warning", "critical"]

INDICATOR_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}

SUMMARY_LIMIT = 139


@dataclass(frozen=True, slots=True)
class Addressing:
    """The R4 elements a suggested resource of one type names its patient, its visit and when it was written in."""

    patient: str = "subject"
    visit: str = "encounter"
    # Its own record time (authoredOn, a Communication's sent, an Observation's issued); None for a type with none in
    # both releases PainPlan writes (a stamp STU3 has no place for would keep the suggestion from an STU3 EHR).
    written: str | None = "authoredOn"


# The types PainPlan writes suggested resources as: its checks' own and a site's templates (checks.oud-treatment.
# suggestions, refused at load when of another type), both addressed through `address`. One table for the three,
# checked against the R4 and STU3 models in tests/test_site_templates.py (guideline imports no models). Before, every
# template was given an authoredOn and an encounter whatever its type: a Communication or an Observation, which have
# no authoredOn, was never offered.
ADDRESSING: Mapping[str, Addressing] = MappingProxyType(
    {
        "MedicationRequest": Addressing(),
        "ServiceRequest": Addressing(),
        "CommunicationRequest": Addressing(),
        "DeviceRequest": Addressing(),
        "Task": Addressing(patient="for"),  # R4 and STU3 name a Task's patient in `for`
        "CarePlan": Addressing(written=None),  # R4's `created`: STU3's CarePlan has none
        "Communication": Addressing(written="sent"),
        "Observation": Addressing(written="issued"),
        "Procedure": Addressing(written=None),  # only when it was performed, which is no stamp of ours to give
    }
)
_ANY_TYPE = Addressing()
# Every element a suggested resource may name its patient in (the CDS face validates each apart, per patient).
PATIENT_ELEMENTS = ("subject", *dict.fromkeys(a.patient for a in ADDRESSING.values() if a.patient != "subject"))
# Every element a suggested resource may be dated by as written (the CDS face validates each apart, per call).
WRITTEN_ELEMENTS = tuple(dict.fromkeys(a.written for a in ADDRESSING.values() if a.written is not None))


def addressing(resource_type: object) -> Addressing:
    """Where a suggested resource of this type names its patient, visit and time (a type not in the table: R4's
    request names)."""
    return ADDRESSING.get(resource_type, _ANY_TYPE) if type(resource_type) is str else _ANY_TYPE


def patient_element(resource_type: object) -> str:
    """The element a suggested resource of this type names its patient in."""
    return addressing(resource_type).patient


def address(resource_type: object, patient_id: str | None, encounter_id: str | None, now: datetime) -> dict[str, Any]:
    """The elements that address a suggested resource of this type to this patient, visit and time, each in the
    element its type has (the checks' own suggestions and a site's templates alike)."""
    place = addressing(resource_type)
    elements: dict[str, Any] = {}
    if patient_id:
        elements[place.patient] = {"reference": f"Patient/{patient_id}"}
    if encounter_id:
        elements[place.visit] = {"reference": f"Encounter/{encounter_id}"}
    if place.written is not None:
        elements[place.written] = now.isoformat()
    return elements


def addressed(
    template: Mapping[str, Any], patient_id: str | None, encounter_id: str | None, now: datetime
) -> dict[str, Any]:
    """A copy of a site's template addressed to this patient (always: a template's own patient is a placeholder),
    and to this visit and time unless it names its own, each in the element its type has."""
    resource = copy.deepcopy(dict(template))  # the faces' writers may reshape nested values; the setting stays as read
    patient = patient_element(resource.get("resourceType"))
    for element, value in address(resource.get("resourceType"), patient_id, encounter_id, now).items():
        if element == patient or element not in resource:
            resource[element] = value
    return resource


@dataclass(frozen=True, slots=True)
class OverrideReason:
    system: str
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class Link:
    """An absolute link, or (type "smart") a link to the plan view; `view` goes into appContext."""

    label: str
    url: str = ""
    type: Literal["absolute", "smart"] = "absolute"
    view: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggestion with exactly one action (Epic allows one action per suggestion)."""

    label: str
    action: Literal["create", "delete"]
    description: str
    is_recommended: bool = False
    resource: Mapping[str, Any] | None = None
    resource_id: str | None = None


@dataclass(frozen=True)
class Card:
    """A check's finding, in our words, with the evidence the clinician needs to act on it."""

    check_id: str
    indicator: Indicator
    summary: str
    detail: str
    suggestions: tuple[Suggestion, ...] = ()
    links: tuple[Link, ...] = ()
    override_reasons: tuple[OverrideReason, ...] = ()
    view: str = "plan"
    orders: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    # False for a finding no snooze may hide (a new order nobody could identify): the clinician must see it.
    snoozable: bool = True
    # What the finding is about (the sedatives combined with opioids, the unexpected results, the medicines nobody
    # could identify) and its size (the MME total): a snooze set on this finding does not hide a later one about
    # something new, or a larger one. Empty and None: the check's finding has no parts, a snooze covers it whole.
    about: frozenset[str] = frozenset()
    level: Decimal | None = None

    def __post_init__(self) -> None:
        if not self.summary or len(self.summary) > SUMMARY_LIMIT:
            raise ValueError(f"{self.check_id}: summary must be 1..{SUMMARY_LIMIT} characters")


@dataclass(frozen=True, slots=True)
class Snooze:
    """A clinician's override that silences one check for one patient (and maybe one user) until a date."""

    check_id: str
    patient_id: str
    until: datetime
    indicator: Indicator
    user_id: str | None = None
    reason: str | None = None
    set_at: datetime | None = None
    # The snoozed finding's `finding_keys` and level; None for a snooze stored before PainPlan kept them, which
    # covers every finding of the check, as it did when it was set.
    about: frozenset[str] | None = None
    level: Decimal | None = None

    def covers(self, card: Card) -> bool:
        """Whether the card shows the finding this snooze was set on: nothing in it that was not in the snoozed
        one, and no larger (a higher MME total is a new finding, whatever its indicator)."""
        if self.about is not None and not finding_keys(card.about) <= self.about:
            return False
        return self.level is None or card.level is None or card.level <= self.level


def finding_keys(about: Iterable[str]) -> frozenset[str]:
    """What a snooze keeps of a finding's parts: short digests, so the database holds no drug names or results."""
    # surrogatepass: a name read from JSON may hold a lone surrogate, and every name must be hashable.
    return frozenset(hashlib.sha256(part.encode("utf-8", "surrogatepass")).hexdigest()[:16] for part in about)


def silencing_snooze(card: Card, context: HookContext, snoozes: Sequence[Snooze], now: datetime) -> Snooze | None:
    """An unexpired snooze for this patient and check (and user, when user-scoped) set on this finding: a more
    severe finding breaks the snooze (10.0.4), and so does one about something new or larger (`Snooze.covers`)."""
    for snooze in snoozes:
        if snooze.check_id != card.check_id or snooze.patient_id != context.patient_id or snooze.until <= now:
            continue
        if snooze.user_id is not None and snooze.user_id != context.user_id:
            continue
        if INDICATOR_RANK[card.indicator] > INDICATOR_RANK[snooze.indicator]:
            continue
        if not snooze.covers(card):
            continue
        return snooze
    return None
