"""build_record: pool every resource into one deduplicated record; a bad resource is skipped and reported."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from guideline.fhirdata import as_dict, as_list, is_absolute_url, local_reference, text
from guideline.record.copies import Order, which_newer
from guideline.record.drafts import DraftIdentities, Repeat
from guideline.record.identity import ORDER_TYPES, prescriptions_renamed, relayed_unchanged, same_apart_from_source
from guideline.record.model import (
    Administration,
    CarePlan,
    DiagnosticReport,
    Dispense,
    Encounter,
    MedOrder,
    Observation,
    Patient,
    PatientRecord,
    Place,
    ReadProblem,
    ServiceRequest,
)
from guideline.record.pool import (
    NO_TYPE_TEXT,
    SOURCE,
    UNREADABLE_REASON,
    MedicationPool,
    collect_resources,
    located_id,
    located_reference,
    set_aside,
    source_base,
)
from guideline.record.readers import (
    location_types,
    read_administration,
    read_care_plan,
    read_condition,
    read_consent,
    read_diagnostic_order,
    read_diagnostic_report,
    read_dispense,
    read_document,
    read_encounter,
    read_goal,
    read_med_order,
    read_med_statement,
    read_observation,
    read_panel,
    read_patient,
    read_procedure,
    read_service_request,
    statement_not_taken,
)
from guideline.record.release_names import DIAGNOSTIC_ORDER, SERVICE_REQUEST_NAMES, STATEMENT_NAMES
from guideline.versions import version_rank

Reader = Callable[[Mapping[str, Any], ZoneInfo], Any]

# resourceType → (PatientRecord field, reader). Orders, service requests, dispenses and administrations need more
# than the resource and the zone (draft flag, Medication pool), so build_record reads those itself.
_READERS: dict[str, tuple[str, Reader]] = {
    "Observation": ("observations", read_observation),
    "Condition": ("conditions", read_condition),
    "Procedure": ("procedures", read_procedure),
    "Encounter": ("encounters", read_encounter),
    "CarePlan": ("care_plans", read_care_plan),
    "DocumentReference": ("documents", read_document),
    "Consent": ("consents", read_consent),
    "Goal": ("goals", read_goal),
}


def _with_server(server: str) -> dict[str, tuple[str, Reader]]:
    """`_READERS` with Observations read against the EHR's FHIR server (`readers.read_observation`)."""
    return {**_READERS, "Observation": ("observations", partial(read_observation, server=server))}


_SERVICE_REQUEST_TYPES = ("ServiceRequest", *SERVICE_REQUEST_NAMES)  # with the STU3/DSTU2 names
_STATEMENT_TYPES = ("MedicationStatement", *STATEMENT_NAMES)  # with R5's ballot name for it
# The resources that carry one medicine and its dose, in any FHIR version: what `painplan mme` takes on its own.
MEDICATION_TYPES = (*ORDER_TYPES, *_STATEMENT_TYPES, "MedicationDispense")
# Every resource type build_record reads, in any FHIR version (Medication through the pool; READ_RESOURCE_TYPES
# are the R4 types the plan page asks for): the population review counts any other type in an export as
# unexpected, and a list kept by hand there called types the findings read "unexpected", as if ignored.
READABLE_TYPES = frozenset(
    {
        *_READERS, *ORDER_TYPES, *_SERVICE_REQUEST_TYPES, *_STATEMENT_TYPES, "MedicationDispense",
        "MedicationAdministration", "Patient", DIAGNOSTIC_ORDER, "DiagnosticReport", "Medication",
    }
)  # fmt: skip


ANOTHER_PATIENT = "it is about another patient, so it was left out"

# Modifier extensions PainPlan reads (FHIR R4, Extensibility 2.5.0.3): none yet, so each one is named.
UNDERSTOOD_MODIFIERS: frozenset[str] = frozenset()


def _unknown_modifier(resource: Mapping[str, Any], draft: bool) -> str | None:
    """Why the resource is not read, when it carries a modifier extension PainPlan does not understand; else None."""
    urls = [as_dict(m).get("url") for m in as_list(resource.get("modifierExtension"))]
    unknown = [u[:200] if isinstance(u, str) else "no URL" for u in urls if u not in UNDERSTOOD_MODIFIERS]
    if not unknown:
        return None
    # A modifier may turn the whole resource around ("retracted", "not given"): read as plain, it would be wrong.
    said = f"it carries a modifier extension PainPlan does not understand ({', '.join(unknown)}): not read"
    return f"{said}, so this draft order was not checked" if draft else said


def _names_another_patient(kind: str, resource: Mapping[str, Any], resource_id: str | None, own: str) -> bool:
    """Whether the resource is plainly another patient's: a Patient of another id, or a subject (or patient)
    reference to another Patient. A prefetch filled wrongly, or a proxy's answer to another query, must never
    lend one patient's medicines to another's cards. A reference that names no Patient (a Group, a urn) is kept."""
    if kind == "Patient":
        return resource_id is not None and f"Patient/{resource_id}" != own
    owner = resource.get("subject")
    if owner is None:
        owner = resource.get("patient")
    if type(owner) is not dict:
        return False
    reference = owner.get("reference")
    if type(reference) is not str or reference == own:  # the usual case, decided without parsing
        return False
    local = local_reference(reference.strip()) or ""
    return local.startswith("Patient/") and local != own


def _position(index: int, draft_count: int) -> str:
    """Where a resource sat in the request, in words (only made for a resource that is reported)."""
    return f"draft order {index + 1}" if index < draft_count else f"patient data item {index - draft_count + 1}"


def _unnamed_container(
    resource: Mapping[str, Any], index: int, urls: Mapping[int, str], draft_count: int
) -> str | None:
    """What a resource with no id is named by in its contained results' keys (`readers.contained_results`): its
    Bundle fullUrl ("urn:uuid:…"), else where it sat in the request; None for one with an id (its own keys them).
    Two reports without ids each containing "#obs1" were one result before, and one stood for the other."""
    if text(resource.get("id")):
        return None
    return urls.get(index) or f"{resource.get('resourceType')} ({_position(index, draft_count)})"


# The elements that say what a resource is about: two resources with one id are the same resource only when
# these agree (an EHR's prefetch order can share an id with a draft of another drug).
_IDENTITY_ELEMENTS = ("medicationCodeableConcept", "medicationReference", "code")


def _identity_values(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The concepts and references naming what the resource is about, R5's `medication` (a CodeableReference) read
    as the concept and the reference it holds, so an R5 copy compares as its R4 form does."""
    values = [as_dict(resource.get(element)) for element in _IDENTITY_ELEMENTS]
    both = as_dict(resource.get("medication"))
    if both:
        values += [as_dict(both.get("concept")), as_dict(both.get("reference"))]
    return values


def _content_identity(kind: str, resource: Mapping[str, Any], find: Finder) -> frozenset[tuple[str, ...]]:
    """The codes, texts and references naming what the resource is about, with the codes and text of a Medication
    it names by reference (`find`); empty when it names nothing."""
    tokens: set[tuple[str, ...]] = set()
    for value in _identity_values(resource):
        if not value:
            continue
        ref = text(value.get("reference"))
        if ref:
            tokens.add(("reference", ref))
            # One order sent once by medicationReference and once by the Medication's own code (two shapes of one
            # EHR's answers) named nothing in common, and its dose was counted twice.
            named = find(ref) if ref.startswith("Medication/") or "/Medication/" in ref else None
            if type(named) is dict:
                tokens |= _content_identity("Medication", {"code": named.get("code")}, _find_none)
        label = text(value.get("text")) or text(value.get("display"))
        if label:
            tokens.add(("text", label.casefold()))
        for coding in map(as_dict, as_list(value.get("coding"))):
            code = text(coding.get("code"))
            if code:
                tokens.add(("code", text(coding.get("system")) or "", code))
    return frozenset(tokens)


Identity = frozenset[tuple[str, ...]]
# The Medication a reference names (`MedicationPool.find_medication`).
Finder = Callable[[str], Mapping[str, Any] | None]


def _find_none(ref: str) -> None:
    """No Medication looked up: a Medication's own code names no other."""
    return None


Copy = tuple[str, str, int]  # type, id, and which of the resources sharing them (0 the first met)


# Where a resource with an id that came back is from: the base of the server its fullUrl names (pool.SOURCE), HOME for
# the EHR's own (a fullUrl on its server, or none, in what the EHR sent), None when that cannot be told (no EHR
# server known and no fullUrl).
HOME = ""


@dataclass
class _Known:
    """One resource among those sharing a type and id: where it is from, and what it names (worked out when needed)."""

    source: str | None
    resource: Mapping[str, Any]
    identity: Identity | None = None

    def names(self, kind: str, find: Finder) -> Identity:
        if self.identity is None:
            self.identity = _content_identity(kind, self.resource, find)
        return self.identity


def _source(index: int, found: list[Mapping[str, Any]], urls: Mapping[int, str], home: bool, drafts: int) -> str | None:
    """Where the resource at `index` is from (HOME, another server's base, or None: not known). A draft's is never
    told: a draft beats its EHR copy whatever its fullUrl says."""
    if index < drafts:
        return None
    resource = found[index]
    marked = resource.get(SOURCE)
    if type(marked) is str:
        return marked
    if home:  # pooled with the EHR's server known: another server's resources were marked
        return HOME
    url = urls.get(index)
    return None if url is None else source_base(url, resource)


def _copy_of(
    earlier: list[_Known], kind: str, resource: Mapping[str, Any], source: str | None, find: Finder
) -> int | None:
    """Which earlier resource of this type and id this one is a copy of (its place in `earlier`): the first from the
    same server (or either's not known) whose content names a code, text or reference in common with this one (or
    either names nothing to compare), or from another server that sent it unchanged (an HIE relaying the EHR's own
    order: read twice, its dose counted twice; a newer version relayed is matched when the record is read again with
    the newer versions in place; an order so dropped is named, `identity.relayed_unchanged`). None when it is another
    resource, which is then added to `earlier`: both are kept. Ids are unique on their own server only: an HIE's
    MedicationRequest/123 is not the EHR's."""
    identity = _content_identity(kind, resource, find)
    for index, known in enumerate(earlier):
        if source is not None and known.source is not None and source != known.source:
            if same_apart_from_source(known.resource, resource):
                return index
            continue
        named = known.names(kind, find)
        if not identity or not named or identity & named:
            return index
    earlier.append(_Known(source, resource, identity))
    return None


def _ehr_order_first(
    kind: str,
    met: Mapping[str, Any],
    own: Mapping[str, Any],
    versions: tuple[Mapping[str, Any], Mapping[str, Any]],
    newer: dict[int, Mapping[str, Any]],
) -> None:
    """Another server's unchanged copy of the EHR's order met before the EHR's own (`identity.relayed_unchanged`):
    the two swap places for the record's second reading (`newer`), so the EHR's order is read and the copy named.
    Read first, the EHR's own order was taken for the HIE's, and its fills, naming the EHR's, stood for no order."""
    if versions[1] is met and relayed_unchanged(kind, own, met):  # no newer version of it read in its place
        newer[id(met)], newer[id(own)] = own, met


def _results_by_full_url(
    reports: list[DiagnosticReport], found: list[Mapping[str, Any]], urls: dict[int, str]
) -> list[DiagnosticReport]:
    """Reports whose results name Observations by their Bundle fullUrl ("urn:uuid:…", as transaction and collection
    Bundles tie entries) with those results named by the Observations' ids: otherwise such a report, whose results
    are read, counted as a second test with no result read. Only called when a report and a fullUrl were sent."""
    ids = _observation_keys_by_url(found, urls)
    return [
        replace(report, results=tuple(ids.get(ref) or ref for ref in report.results))
        if any(ref in ids for ref in report.results)
        else report
        for report in reports
    ]


def _prescriptions_by_full_url(
    dispenses: list[Dispense], orders: list[MedOrder], found: list[Mapping[str, Any]], urls: dict[int, str]
) -> tuple[tuple[Dispense, ...], tuple[MedOrder, ...]]:
    """Fills whose authorizingPrescription, and renewals whose priorPrescription, name an order by its Bundle fullUrl
    ("urn:uuid:…", as a transaction Bundle, Synthea's, ties entries), naming it by the order's located id: otherwise
    the fill named no order of the record and added to its own order, and the renewal retired no order (both added)."""
    ids = {
        url: located
        for p, url in urls.items()
        if found[p].get("resourceType") in ORDER_TYPES and (located := located_id(found[p]))
    }
    renewals, fills = prescriptions_renamed(orders, dispenses, ids)
    return fills, renewals


def _members_by_full_url(
    observations: list[Observation], found: list[Mapping[str, Any]], urls: dict[int, str]
) -> list[Observation]:
    """Panels whose members name Observations by their Bundle fullUrl ("urn:uuid:…"), with those members named by
    the Observations' keys, as `_results_by_full_url` does a report's results: otherwise a panel whose members were
    sent beside it was named as missing them."""
    ids = _observation_keys_by_url(found, urls)
    return [
        replace(o, member_ids=tuple(dict.fromkeys(ids.get(m) or m for m in o.member_ids)))
        if any(m in ids for m in o.member_ids)
        else o
        for o in observations
    ]


def _observation_keys_by_url(found: list[Mapping[str, Any]], urls: dict[int, str]) -> dict[str, str | None]:
    """The key (`_observation_key`) of each Observation sent under a Bundle fullUrl, by that fullUrl."""
    return {
        url: _observation_key(found[position])
        for position, url in urls.items()
        if found[position].get("resourceType") == "Observation"
    }


def _keyed_by_full_url(found: list[Mapping[str, Any]], urls: Mapping[int, str]) -> None:
    """Gives each id-less Observation sent under a `urn:uuid` fullUrl that fullUrl as its id, in place in `found`: a
    report or panel of a transaction Bundle (or Synthea's) names it so, and keyed by nothing it was named "not
    received" though it arrived."""
    for position, url in urls.items():
        if url.startswith("urn:"):
            resource = found[position]
            if resource.get("resourceType") == "Observation" and not text(resource.get("id")):
                found[position] = {**resource, "id": url}


def _observation_key(resource: Mapping[str, Any]) -> str | None:
    """An Observation's key as `Observation.located` gives it: its id when the EHR's, its located id when another
    server's (an HIE report's result under the HIE's fullUrl is never the EHR's result of that id)."""
    return located_id(resource) if SOURCE in resource else text(resource.get("id"))


def _draft_names(drafts: list[Mapping[str, Any]], urls: Mapping[int, str]) -> frozenset[str]:
    """Every name the hook's drafts go by: each one's id, `Type/id` and Bundle fullUrl."""
    names: set[str] = set()
    for index, resource in enumerate(drafts):
        kind, resource_id = resource.get("resourceType"), text(resource.get("id"))
        if resource_id:
            names.add(resource_id)
            if isinstance(kind, str):
                names.add(f"{kind}/{resource_id}")
        if index in urls:
            names.add(urls[index])
    return frozenset(names)


def build_record(
    resources: Iterable[Any],
    tz: ZoneInfo,
    draft_orders: Any = None,
    extra_medications: Iterable[Mapping[str, Any]] = (),
    patient_id: str | None = None,
    pooled: bool = False,
    results_not_received: Iterable[tuple[str, str]] = (),
    fhir_server: str | None = None,
    medication_urls: Iterable[tuple[str, Mapping[str, Any]]] = (),
    visits_read: Mapping[int, tuple[Mapping[str, Any], Encounter]] | None = None,
    bundles: Sequence[Any] = (),
) -> PatientRecord:
    """Pool every resource (Bundles of any type, lists, single resources) into one deduplicated record.

    `draft_orders` is the hook's `context.draftOrders` (a Bundle, list or resource); drafts win over an EHR copy
    with the same id. `extra_medications` are Medication resources fetched separately for references, and
    `medication_urls` Medications with the Bundle fullUrl they came under (pooled `resources` lose theirs). With
    `patient_id`, a resource that names another patient is left out and named as a problem (never its patient).
    `pooled` says `resources` are already the plain resources `resources_in` gives (as a hook's gathered data
    are), so they are taken as they are rather than walked for Bundles and lists again. `results_not_received`
    are the report results a FHIR client tried to read and could not, each (result id, why), to be named.
    `fhir_server` is the EHR's FHIR base (the hook's fhirServer, the page's iss): a Medication named by an absolute
    reference is matched by its id only on that server, and otherwise by its fullUrl alone. Two resources of one type
    and id are different resources when they are from different servers: by their fullUrls' bases, or by the base
    `resources_in(…, fhir_server)` marked another server's resources with (pooled ones have no fullUrls left).
    `visits_read` are Encounters among `resources` read already in `tz` (`read_encounter`), by the `id()` of each,
    with the visit itself: the hook reads a visit to plan its place's Location read, and it is not read again.
    `bundles` are what `pooled` resources were opened from (a hook's prefetch values): an actor reference naming a
    Practitioner, PractitionerRole or Organization entry's `urn:` fullUrl names that entry (`identity.who`).
    """
    found: list[Mapping[str, Any]] = []
    urls: dict[int, str] = {}  # fullUrls by position in `found`, for Medication references
    collect_resources(draft_orders, found, urls)
    draft_count = len(found)
    if pooled:
        found.extend(resources)  # walking them again found the same list, for ~0.17 M instructions a call (0.5 %)
    else:
        collect_resources(list(resources), found, urls, fhir_server)
    extra, by_url = list(extra_medications), list(medication_urls)
    read = partial(
        _read_all,
        urls=urls,
        draft_count=draft_count,
        tz=tz,
        own=f"Patient/{patient_id}" if patient_id else None,
        home=bool(fhir_server),
        results_not_received=tuple(results_not_received),
        pool=partial(
            MedicationPool, pending_fetched=extra, pending_by_url=by_url, server=fhir_server, bundles=tuple(bundles)
        ),
        visits_read=visits_read or None,
    )
    record, newer, untold = read(found)
    if not newer:
        return record
    # A later copy was a newer version of a resource read earlier: read again, with it in the first copy's place.
    # What could not be told between copies is still named: the copy read first may be gone from the list read again.
    again = read([newer.get(id(resource), resource) for resource in found])[0]
    return replace(again, problems=tuple(dict.fromkeys((*again.problems, *untold))))


def _read_all(
    found: list[Mapping[str, Any]],
    urls: dict[int, str],
    draft_count: int,
    tz: ZoneInfo,
    own: str | None,
    results_not_received: tuple[tuple[str, str], ...],
    pool: Callable[..., MedicationPool],
    home: bool,
    visits_read: Mapping[int, tuple[Mapping[str, Any], Encounter]] | None = None,
) -> tuple[PatientRecord, dict[int, Mapping[str, Any]], list[ReadProblem]]:
    """The record read from the pooled resources (drafts first), the newer versions found of resources read in an
    older one (for each first copy, by its `id()`, the copy to read in its place), and the resources named because
    nothing told which of their copies is newer. A resource named for a resourceType that is no text is set aside in
    `found` (`pool.set_aside`), so no reader of the pool meets it after."""
    if urls:
        _keyed_by_full_url(found, urls)
    medications = pool(pending=found, pending_urls=urls)
    # With the EHR's server known, a panel's members are read against it (an HIE panel's o2 is not the EHR's o2).
    readers = _READERS if medications.server is None else _with_server(medications.server)
    if visits_read:  # the few calls whose visits were read to plan their places' reads
        readers = {**readers, "Encounter": ("encounters", partial(_visit_read_once, visits_read=visits_read))}
    source = partial(_source, found=found, urls=urls, home=home, drafts=draft_count)
    # The first and newest copy of each resource, by type, id and which of the resources sharing them it is: two
    # resources with one id (two servers' orders) each have their own versions, and one is never taken for the other's.
    versions: dict[Copy, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    newer: dict[int, Mapping[str, Any]] = {}
    # The position of the first resource of each type and id; a list once the id comes back (`_copy_of`).
    seen: dict[tuple[str, str], int | list[_Known]] = {}
    collected: dict[str, list[Any]] = {name: [] for name, _ in _READERS.values()}
    orders: list[MedOrder] = []
    service_requests: list[ServiceRequest] = []
    dispenses: list[Dispense] = []
    administrations: list[Administration] = []
    reports: list[DiagnosticReport] = []
    problems: list[ReadProblem] = []
    untold: list[ReadProblem] = []
    relayed: list[tuple[str, str]] = []  # (copy, kept): another server's unchanged copies of the EHR's orders
    drafts = DraftIdentities()
    patient: Patient | None = None
    locations: dict[str, Mapping[str, Any]] = {}

    for index, resource in enumerate(found):
        kind = resource.get("resourceType")
        if type(kind) is not str and not isinstance(kind, str):  # parsed JSON: skip the subclass check
            kind = None
        raw_id = resource.get("id")
        if type(raw_id) is str:  # the usual id, read in place
            resource_id = raw_id.strip() or None
        else:
            resource_id = str(raw_id) if isinstance(raw_id, int) else text(raw_id)
        if kind is None:
            reason = resource.get(UNREADABLE_REASON) or NO_TYPE_TEXT
            problems.append(ReadProblem("resource", resource_id, reason, _position(index, draft_count)))
            if resource.get("resourceType") is not None:  # no text (a list): named, it leaves the pool (`set_aside`)
                found[index] = set_aside(raw_id)
            continue
        # One lookup for the usual resource, which carries none; a draft so marked is named as not checked.
        if "modifierExtension" in resource and (unread := _unknown_modifier(resource, index < draft_count)):
            problems.append(ReadProblem(kind[:40], resource_id, unread, _position(index, draft_count)))
            continue
        # Drafts are the orders being signed for the patient in context: an id written another way there (an
        # identifier space the EHR uses for its own drafts) must never cost the card, so only the chart is checked.
        if (
            own is not None
            and index >= draft_count
            # the usual resource names this patient as its subject: decided here, without a call
            and not (type(subject := resource.get("subject")) is dict and subject.get("reference") == own)
            and _names_another_patient(kind, resource, resource_id, own)
        ):
            shown = None if kind == "Patient" else resource_id  # another patient's id is theirs: never shown
            problems.append(ReadProblem(kind[:40], shown, ANOTHER_PATIENT, _position(index, draft_count)))
            continue
        repeat = Repeat.FIRST
        if index < draft_count:  # a draft is counted whatever its id or subject says; a doubt is named
            if resource_id:
                repeat = drafts.repeat(kind, resource_id, index, resource)
                if repeat is Repeat.UNCHANGED:  # one draft sent twice: counted once, as an unchanged chart copy
                    continue
            if own is not None and kind != "Patient" and _names_another_patient(kind, resource, resource_id, own):
                drafts.of_another_patient(kind, resource_id, index)
        try:
            if resource_id and repeat is Repeat.FIRST:
                key = (kind, resource_id)
                earlier = seen.setdefault(key, index)  # one lookup where get-then-set takes two
                # The id came before: setdefault gave back what it held (another position, or a list), not `index`
                # itself, which it returns only when it stored it. Told so without two len() calls per resource.
                if earlier is not index:
                    if isinstance(earlier, int):  # its first position; else the list of its versions
                        first = found[earlier]
                        versions[(kind, resource_id, 0)] = (first, first)
                        earlier = seen[key] = [_Known(source(earlier), first)]
                    group = _copy_of(earlier, kind, resource, source(index), medications.find_medication)
                    if group is None:  # another resource with this id: its versions are tracked apart
                        versions[(kind, resource_id, len(earlier) - 1)] = (resource, resource)
                    else:
                        copy = (kind, resource_id, group)
                        if SOURCE in resource and (named := relayed_unchanged(kind, earlier[group].resource, resource)):
                            relayed.append(named)  # another server's unchanged copy of the EHR's order: named
                        elif SOURCE in earlier[group].resource:
                            _ehr_order_first(kind, earlier[group].resource, resource, versions[copy], newer)
                        # drafts come first, so a draft beats its EHR copy (guideline 3.3)
                        if index >= draft_count and not any(d is versions[copy][0] for d in found[:draft_count]):
                            problem = _another_version(copy, versions, resource, newer)
                            if problem is not None:
                                untold.append(
                                    ReadProblem(kind[:40], resource_id, problem, _position(index, draft_count))
                                )
                                problems.append(untold[-1])
                        continue
            reading = readers.get(kind)
            if reading is not None:
                if kind == "Observation" and "contained" in resource:  # a panel may send its members inside it
                    container = _unnamed_container(resource, index, urls, draft_count)
                    collected["observations"].extend(read_panel(resource, tz, medications.server, container))
                else:
                    collected[reading[0]].append(reading[1](resource, tz))
            elif kind in ORDER_TYPES:
                # doNotPerform: an order *not* to give the medicine (or to do the test). No rule reads one as
                # given, pending or done: as an order it added to the MME total or stood for a drug screen.
                if resource.get("doNotPerform") is not True:
                    order = read_med_order(resource, index < draft_count, tz, medications)
                    if index < draft_count and index in urls:
                        order = replace(order, full_url=urls[index])  # a selection may name the draft by it
                    orders.append(order)
            elif kind in _SERVICE_REQUEST_TYPES:
                if resource.get("doNotPerform") is not True:
                    service_requests.append(read_service_request(resource, index < draft_count, tz))
            elif kind == "MedicationDispense":
                dispenses.append(read_dispense(resource, tz, medications))
            elif kind in _STATEMENT_TYPES:
                if not statement_not_taken(resource):
                    orders.append(read_med_statement(resource, tz, medications))
            elif kind == "MedicationAdministration":
                administrations.append(read_administration(resource, tz, medications))
            elif kind == "Patient":
                patient = patient or read_patient(resource, tz)
            elif kind == DIAGNOSTIC_ORDER:  # DSTU2's lab order: one ServiceRequest per test it orders
                service_requests.extend(read_diagnostic_order(resource, index < draft_count, tz))
            elif kind == "DiagnosticReport":  # a lab report: the results it contains are read as any result
                container = _unnamed_container(resource, index, urls, draft_count)
                report, contained = read_diagnostic_report(resource, tz, medications.server, container)
                reports.append(report)
                collected["observations"].extend(contained)
            elif kind == "Location":  # where a visit took place: its type may say hospice (`with_places_read`)
                if resource_id:  # where it lives: an HIE's Location/l1 is not the EHR's l1
                    locations[located_id(resource) or f"Location/{resource_id}"] = resource
            elif kind == "OperationOutcome":
                problems.append(
                    ReadProblem(
                        kind, resource_id, "the EHR reported an error instead of data", _position(index, draft_count)
                    )
                )
            elif not kind.strip():  # an empty type names no resource: skipped, a draft being signed went unseen
                reason = "its resourceType is empty"
                problems.append(ReadProblem("resource", resource_id, reason, _position(index, draft_count)))
        except Exception as error:  # noqa: BLE001 - one unreadable resource must never fail the call
            problems.append(
                ReadProblem(
                    kind[:40], resource_id, f"unreadable: {type(error).__name__}", _position(index, draft_count)
                )
            )

    if reports and urls:
        reports = _results_by_full_url(reports, found, urls)
    if urls and (
        any(r.startswith("urn:") for d in dispenses for r in d.authorizing_prescriptions)
        or any((o.prior_prescription or "").startswith("urn:") for o in orders)
    ):
        fills, renewals = _prescriptions_by_full_url(dispenses, orders, found, urls)
        dispenses, orders = list(fills), list(renewals)
    if urls and any(o.member_ids for o in collected["observations"]):
        collected["observations"] = _members_by_full_url(collected["observations"], found, urls)
    if locations and collected["encounters"]:
        server = medications.server
        collected["encounters"] = [with_places_read(e, locations, server) for e in collected["encounters"]]
    problems.extend(_undated_care_plans(collected["care_plans"]))
    unresolved = tuple(
        sorted({o.medication.reference for o in orders if o.medication.unresolved and o.medication.reference})
    )
    record = PatientRecord(
        patient=patient,
        orders=tuple(orders),
        dispenses=tuple(dispenses),
        administrations=tuple(administrations),
        diagnostic_reports=tuple(reports),
        service_requests=tuple(service_requests),
        problems=tuple(problems),
        unresolved_medication_refs=unresolved,
        results_not_received=results_not_received,
        draft_names=_draft_names(found[:draft_count], urls),
        draft_id_clashes=drafts.clashes(),
        drafts_of_another_patient=drafts.of_other_patients(),
        relayed_unchanged=tuple(relayed),
        **{name: tuple(values) for name, values in collected.items()},
    )
    return record, newer, untold


def _visit_read_once(
    resource: Mapping[str, Any], tz: ZoneInfo, visits_read: Mapping[int, tuple[Mapping[str, Any], Encounter]]
) -> Encounter:
    """The visit as `read_encounter` reads it: the reading made already when it is this very resource's."""
    found = visits_read.get(id(resource))
    if found is not None and found[0] is resource:
        return found[1]
    return read_encounter(resource, tz)


def with_places_read(
    encounter: Encounter, locations: Mapping[str, Mapping[str, Any]], server: str | None = None
) -> Encounter:
    """The visit with the type (and, where the visit gives none, the name) of each Location it took place at that
    the record holds: an Epic stay at "Connecticut Hospice, Branford" says hospice only in its Location's type.
    `locations` are keyed by where they live (`located_id`), and a place by where its reference points
    (`_place_key`): an HIE visit's `Location/l1` never takes the EHR's l1's type (hospice or not), nor the reverse."""
    if not encounter.places:
        return encounter
    places = []
    for place in encounter.places:
        held = locations.get(_place_key(place.reference, server) or "") if place.reference else None
        if held is not None and not place.types:
            name = place.name or text(held.get("name"))
            place = Place.make(place.reference, name, place.status, location_types(held))
        places.append(place)
    return replace(encounter, places=tuple(places))


def _place_key(ref: str, server: str | None) -> str | None:
    """A visit's place reference as the Location key it names: the EHR's as `Location/<id>` (relative, versioned, or
    absolute on the EHR's host), another server's as its absolute URL (as the reader made an HIE visit's relative one,
    `pool.located_reference`)."""
    located = located_reference(ref, {}, server)
    return located if located and is_absolute_url(located) else local_reference(located)


UNDATED_CARE_PLAN = (
    "it has no date PainPlan can read (no created date, period start or meta.lastUpdated), so no check could count "
    "it as a plan made in its window and the plan page did not take it for the current plan; check when it was made"
)


def _undated_care_plans(plans: list[CarePlan]) -> list[ReadProblem]:
    """The care plans no check can place in its window (a pain treatment plan made in the lookback counts by
    `created`, `period.start` or meta.lastUpdated): one whose only date is a meta.lastUpdated that cannot be read,
    with that date as written, and one with no date at all. Passed over silently, a plan on record read as none."""
    return [
        ReadProblem("CarePlan", plan.id, _undated_reason(plan))
        for plan in plans
        if plan.undated and not plan.void  # no check reads a void plan: its date would change nothing
    ]


def _undated_reason(plan: CarePlan) -> str:
    """Why an undated care plan is named: its unreadable meta.lastUpdated, or no date at all."""
    if plan.last_updated_unread is None:
        return UNDATED_CARE_PLAN
    return (
        f'its only date, when it was last changed (meta.lastUpdated "{plan.last_updated_unread}"), could not be '
        "read, so no check could count it as a plan made in its window"
    )


TWO_VERSIONS = (
    "it was sent twice, in two versions that differ, and nothing in them (meta.lastUpdated, meta.versionId) says "
    "which is newer: the first was read, and it may be out of date"
)


def _untold(order: Order, first_read: bool) -> str:
    """Why a resource sent in two versions is named (nothing tells which is newer, or a date that would tell could
    not be read) and which copy was read: the first of the two compared, or the one sent later."""
    if order.unreadable is None and first_read:
        return TWO_VERSIONS
    why = (
        "nothing in them (meta.lastUpdated, meta.versionId) says which is newer"
        if order.unreadable is None
        else f'one gives the date of its last change as "{order.unreadable}" (meta.lastUpdated), which could not be '
        "read, so which is newer is not known"
    )
    read = "the first" if first_read else "the one sent later"
    return f"it was sent twice, in two versions that differ, and {why}: {read} was read, and it may be out of date"


def _another_version(
    copy: Copy,
    versions: dict[Copy, tuple[Mapping[str, Any], Mapping[str, Any]]],
    resource: Mapping[str, Any],
    newer: dict[int, Mapping[str, Any]],
) -> str | None:
    """What to make of another copy of a resource read already: nothing when it says the same (apart from `meta`)
    or is older; the copy to read instead when it is newer; a problem to name when nothing tells (`which_newer`).
    The first copy read was once kept whatever the second said: an order stopped since was read as active. When
    nothing tells, the copy read is still the one `version_rank` puts first (a dated copy over an undated one, as the
    population review reads an export), so naming it never changes which copy the checks see."""
    first, newest = versions[copy]
    if same_apart_from_source(newest, resource):
        return None
    order = which_newer(newest, resource)
    if order.newer < 0:
        return None
    if order.newer > 0 or version_rank(resource) > version_rank(newest):
        versions[copy] = (first, resource)
        newer[id(first)] = resource
    if order.newer > 0:
        return None
    return _untold(order, first_read=versions[copy][1] is not resource)
