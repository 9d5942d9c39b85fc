"""The per-bucket step both engines run: parse a patient's lines and call guideline.population.evaluate_patient."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from guideline.config import GuidelineConfig
from guideline.fhirdata import as_dict, as_list, text
from guideline.identifiers import identifier_key
from guideline.population import Directory, Period, Quality, evaluate_patient
from guideline.population.exclusions import hospice_location
from guideline.population.links import LinksRead, read_links
from guideline.record import READABLE_TYPES
from guideline.versions import VersionRank, version_rank

# What the review reads: every type the record reader reads (READABLE_TYPES, so the two cannot drift apart: listed by
# hand, MedicationStatement, Goal and the STU3/DSTU2 order types were called unexpected while the findings read
# them), plus the directory, coverage and claims the review reads itself. Any other type is counted as unexpected.
EXPECTED_TYPES = READABLE_TYPES | frozenset(
    {"Practitioner", "PractitionerRole", "Organization", "Location", "Coverage", "ExplanationOfBenefit"}
)
# Location too: a visit names its place by reference, and a place typed hospice excludes the patient.
DIRECTORY_TYPES = ("Practitioner", "PractitionerRole", "Organization", "Location")
SHARED_TYPES = frozenset({"Medication", "Practitioner", "PractitionerRole", "Organization", "Location"})
# A patient with any of these may be in the cohort (the engine decides); claims may be pharmacy claims.
MEDICATION_TYPES = ("MedicationDispense", "MedicationRequest", "MedicationOrder", "ExplanationOfBenefit")
# Resources of one patient besides fills that a measure reads: a diagnosis that excludes the patient (cancer, sickle
# cell, hospice) or puts them in NAL's denominator, a urine drug test or drug test procedure (AMO), a lab report with a
# conclusion only (AMO), a hospice visit or procedure.
MEASURE_RECORD_TYPES = ("Condition", "Observation", "Procedure", "Encounter", "DiagnosticReport")
# Resources of one patient that name no patient by a `Patient/id` reference, in four groups, each counted by file and
# its first lines named (data-quality.json's `<group>_by_file` and `<group>_named`). A group whose resources the
# measures' answer reads is lines not read (exit status 4): fills, the records a measure reads, and Coverage (a
# member's enrolment: under population.enrolment = continuous the Coverage that fills a gap, joined to no one, leaves
# the member out); the others (CarePlan, a MedicationAdministration: read by no measure) are named and change nothing.
WITHOUT_PATIENT: dict[str, tuple[tuple[str, ...], bool]] = {
    "fills_without_patient": (MEDICATION_TYPES, True),
    "records_without_patient": (MEASURE_RECORD_TYPES, True),
    "coverage_without_patient": (("Coverage",), True),
    "other_resources_without_patient": (
        tuple(
            sorted(EXPECTED_TYPES - SHARED_TYPES - {"Patient", "Coverage", *MEDICATION_TYPES, *MEASURE_RECORD_TYPES})
        ),
        False,
    ),
}
# A patient's key in a reference ("Patient/123", "https://ehr/fhir/Patient/123/_history/2"): both engines' SQL and
# the naming of fills that have none read it with this one pattern.
PATIENT_KEY = r"Patient/([^/?#]+)"
_SURROGATE = re.compile("[\ud800-\udfff]")


def line_keys(line: str) -> str | None:
    """What both engines' SQL reads of an NDJSON line, decided by the parser the evaluator uses (json.loads): None
    when the line is not JSON or no FHIR resource (not an object, or no resourceType as text), else a JSON array of
    its resourceType, id, patient reference and Medication reference (each "" unless it is text: Spark reads a JSON
    null in an array as the text "null"); and, only for a Patient that states a replacement
    (guideline.population.links), a fifth: those (old, new) pairs as JSON text ("" when none can be read), and a
    sixth when a replacement link cannot be read: why, each, as JSON text. (A Bundle entry given an id from its
    fullUrl has a seventh, ID_FROM_FULL_URL: `_entries`.)

    DuckDB's and Spark's own JSON readers disagree with each other and with json.loads on malformed lines (NaN,
    trailing text, trailing commas, single quotes, raw control characters, lone surrogates), so letting each engine
    judge its lines made the same export give different patients and counts. The array is plain ASCII JSON, which
    both engines read the same way.
    """
    return parsed_keys(line)[1]


def parsed_keys(line: str) -> tuple[Any, str | None]:
    """The line parsed (None when it is not JSON) and its `line_keys`: a caller that reads on (a Bundle line's entries,
    `bundle_entries_of`) parses it only once."""
    try:
        resource = json.loads(line)
    except (ValueError, RecursionError):
        return None, None
    return resource, resource_keys(resource)


# The keys naming a resource's patient, the first that does: a Coverage's member is its beneficiary, else (DSTU2's
# Coverage has no beneficiary) its subscriber.
_PATIENT_KEYS = {"": ("subject", "patient", "beneficiary"), "Coverage": ("beneficiary", "subscriber")}


def resource_keys(resource: Any) -> str | None:
    """`line_keys` of a parsed line (or a Bundle entry's resource): None when it is no FHIR resource."""
    # JSON that is no FHIR resource (an array, an object with no resourceType as text) is malformed too: read as a
    # resource of no type, it was dropped with only a "(none)" count, and the line that lost a fill was never named.
    kind = _plain_text(resource.get("resourceType")) if isinstance(resource, dict) else None
    if not kind:
        return None
    patient = next(
        (
            reference
            for key in _PATIENT_KEYS.get(kind, _PATIENT_KEYS[""])
            if (reference := _plain_text(as_dict(resource.get(key)).get("reference")))
        ),
        None,
    )
    # R4's medicationReference, else the reference R5's `medication` (a CodeableReference) holds.
    named = resource.get("medicationReference") or as_dict(resource.get("medication")).get("reference")
    medication = _plain_text(as_dict(named).get("reference"))
    keys = [kind, _plain_text(resource.get("id")), patient, medication]
    # Only the few linked Patients carry these: the engines collect them to build the one merge map of the run, and
    # to name the links it could not read (read_links only ever passes ids UTF-8 can write).
    links = read_links(resource) if kind == "Patient" and resource.get("link") else LinksRead()
    if links.unread:
        keys += [json.dumps(links.pairs) if links.pairs else "", json.dumps(links.unread)]
    elif links.pairs:
        keys.append(json.dumps(links.pairs))
    return json.dumps([key or "" for key in keys])


BUNDLE = "Bundle"
OPERATION_OUTCOME = "OperationOutcome"
BUNDLE_KEYS = json.dumps([BUNDLE])[:-1] + ","  # how `line_keys` of a Bundle begins: '["Bundle",'
NO_RESOURCE = "not a FHIR resource (no resourceType)"


def is_bundle(keys: str | None) -> bool:
    """Whether `line_keys` are a Bundle's (a payer's or HIE's file of Bundles, one a line)."""
    return keys is not None and keys.startswith(BUNDLE_KEYS)


@dataclass(frozen=True)
class Entry:
    """A Bundle line's entry as the engines read it: where it is ("entry 3", "entry 1.4" in a Bundle inside the
    Bundle), its resource as a line of its own and that line's `line_keys`, or why it cannot be read."""

    where: str
    line: str
    keys: str | None
    why: str | None


def bundle_entries(line: str) -> list[Entry]:
    """Each `entry[].resource` of a Bundle line, read as if it were a line of its own (both engines read these in
    place of the Bundle's line; a Bundle among them is read through in turn), and each entry that cannot be read:
    no resource (a transaction's DELETE, a response) or one that is no FHIR resource, as a malformed line is."""
    try:
        bundle = json.loads(line)
    except (ValueError, RecursionError):
        return []
    return bundle_entries_of(bundle)


def bundle_entries_of(bundle: Any) -> list[Entry]:
    """`bundle_entries` of a Bundle line already parsed."""
    return list(_entries(bundle, "entry ")) if isinstance(bundle, dict) else []


def _entries(bundle: Mapping[str, Any], prefix: str) -> Iterable[Entry]:
    local = _local_names(bundle)
    for number, entry in enumerate(as_list(bundle.get("entry")), 1):
        where = f"{prefix}{number}"
        resource = entry.get("resource") if isinstance(entry, dict) else None
        given = _id_from_full_url(entry, resource) if isinstance(resource, dict) else None
        if given:
            resource = {**resource, "id": given}
        # A Bundle among the entries resolves its own entries' references (FHIR: inside the Bundle that holds them).
        if local and isinstance(resource, dict) and resource.get("resourceType") != BUNDLE:
            with contextlib.suppress(RecursionError):  # nested deeper than Python recurses: read as it was written
                resource = _resolved(resource, local)
        keys = resource_keys(resource) if resource is not None else None
        if is_bundle(keys):
            yield from _entries(resource, f"{where}.")
        elif keys is None:
            yield Entry(where, "", None, "no resource" if resource is None else NO_RESOURCE)
        else:
            # ASCII JSON: a lone surrogate (a broken \u escape) is kept escaped, as it was in the line, never made
            # into text UTF-8 cannot hold.
            line = json.dumps(resource, separators=(",", ":"))
            yield Entry(where, line, _marked_id_from_full_url(keys) if given else keys, None)


def _local_names(bundle: Mapping[str, Any]) -> dict[str, str]:
    """Each entry's `urn:` fullUrl (a transaction's or collection's local name, `urn:uuid:…`), and the absolute one of
    an entry given its id from it, → the `Type/id` of the resource it names (its own id, else the one
    `_id_from_full_url` gives it): a reference to one resolves inside its own Bundle only (FHIR's rule), so a fill
    naming its member so is that member's fill."""
    local: dict[str, str] = {}
    for entry in as_list(bundle.get("entry")):
        url = as_dict(entry).get("fullUrl")
        resource = as_dict(as_dict(entry).get("resource"))
        kind = _plain_text(resource.get("resourceType"))
        given = _id_from_full_url(entry, resource)
        ident = _plain_text(resource.get("id")) or given
        if isinstance(url, str) and (url.startswith("urn:") or given) and kind and ident:
            local[url] = f"{kind}/{ident}"
    return local


# FHIR's id: 1 to 64 of these. A urn's tail that is one (a uuid, an oid) is the id as it is.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# A RESTful fullUrl (`https://ehr.example.org/fhir/Patient/123`, `…/Patient/123/_history/4`): its type and id.
# Not fhirdata.local_reference, which reads which resource a reference names: this gives a resource that states no id
# one of PainPlan's, so only a URL of FHIR's RESTful form does (a query, `…/Patient/123?_format=json`, a search's
# URL, or a segment FHIR's id cannot hold names no id; docs/population.md, Bundles on a line).
_RESTFUL = re.compile(r"https?://[^?#]*/([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?")
# Where `line_keys` of an entry given an id so says it (a seventh item): the engines count them by file and type.
ID_FROM_FULL_URL = "id from fullUrl"


def _id_from_full_url(entry: Any, resource: Mapping[str, Any]) -> str | None:
    """The id an entry's resource stating none is given from the entry's fullUrl: from a `urn:` (a transaction POST
    leaves the id to the server; Synthea's and many converters' Bundles name the member so) the uuid or oid when
    FHIR's id can hold it, else a digest of the whole urn; from an absolute RESTful one (a searchset page, a server's
    resource relayed with its id left off) its last segment after its own `Type/`, before any `/_history/`. The same
    on every line and run, so the member's fills, which name that fullUrl (or `Type/id`), are filed under it. None
    when the resource states an id, or the fullUrl names none (another type's URL, a base, a query)."""
    url = as_dict(entry).get("fullUrl")
    if resource.get("id") not in (None, "") or not isinstance(url, str) or _unwritable(url):
        return None
    if not url.startswith("urn:"):
        restful = _RESTFUL.fullmatch(url)
        return restful.group(2) if restful and restful.group(1) == resource.get("resourceType") else None
    tail = url.removeprefix("urn:uuid:").removeprefix("urn:oid:")
    if tail != url and _FHIR_ID.fullmatch(tail):
        return tail
    return "urn-" + hashlib.sha256(url.encode()).hexdigest()[:40]


def _marked_id_from_full_url(keys: str) -> str:
    """`line_keys` with ID_FROM_FULL_URL as their seventh item (the replacement links' two before it, "" when none)."""
    items = json.loads(keys)
    return json.dumps([*items, *[""] * (6 - len(items)), ID_FROM_FULL_URL])


def _resolved(value: Any, local: Mapping[str, str]) -> Any:
    """The resource (or any part of it) with every reference to a local name (`_local_names`) written as the
    `Type/id` it names, wherever it is: the patient, a Medication, the PCP, a fill's prescriber and pharmacy. A copy
    of only the parts that change; the Bundle's own objects are left as they are."""
    if isinstance(value, list):
        items = [_resolved(item, local) for item in value]
        return items if any(new is not old for new, old in zip(items, value, strict=True)) else value
    if not isinstance(value, dict):
        return value
    changed = {key: new for key, old in value.items() if (new := _resolved(old, local)) is not old}
    reference = value.get("reference")
    if isinstance(reference, str) and reference in local:
        changed["reference"] = local[reference]
    return {**value, **changed} if changed else value


def bundle_rows(line: str, keys: str) -> list[tuple[str | None, str | None]]:
    """What both engines keep of a Bundle line: the Bundle itself (its keys alone, to count it: its text is read as
    its entries) and each entry as a line (`bundle_entries`; keys None for one that cannot be read)."""
    return [(None, keys), *((entry.line, entry.keys) for entry in bundle_entries(line))]


def _plain_text(value: Any) -> str | None:
    """A JSON string that can be written as UTF-8 (a lone surrogate escape cannot); None for anything else."""
    return value if isinstance(value, str) and not _unwritable(value) else None


@dataclass(frozen=True)
class RunContext:
    """Everything a worker needs besides the patients: sent once per worker process (or broadcast by Spark)."""

    period: Period
    today: date
    config: GuidelineConfig
    directory: Directory


def _name(resource: Mapping[str, Any]) -> str | None:
    """An Organization's name, or a Practitioner's first name as written (`text`), else from its parts with its
    prefix and suffix ("Dr. Jane Q. Smith, MD"): Epic and Oracle send the parts alone, and a letter that said
    "Jane Q. Smith" left the reader to guess the title and credentials the sender stated."""
    name = resource.get("name")
    if isinstance(name, str):
        return name
    first = as_dict(next(iter(as_list(name)), None))
    written = text(first.get("text"))
    if written and written.strip():
        return written.strip()
    words = [*_parts(first.get("prefix")), *_parts(first.get("given")), *_parts(first.get("family"))]
    suffixes = _parts(first.get("suffix"))
    return ", ".join(p for p in (" ".join(words), *suffixes) if p) or None


def _parts(value: Any) -> list[str]:
    """A HumanName part's words: a list of strings (`given`, `prefix`, `suffix`) or one string (`family`)."""
    return [p.strip() for p in as_list(value) if isinstance(p, str) and p.strip()]


# What the directory keeps of one resource: a role's (practitioner, organisation), anything else's display name.
_Entry = tuple[str | None, str | None] | str | None


def build_directory(lines: Iterable[str]) -> Directory:
    """Practitioners, roles and organisations (names and who works where) from their NDJSON lines.

    An id sent more than once with differing content (two export files, an older and a newer copy) is read from
    its newest version (guideline.versions: the latest `meta.lastUpdated`, else the highest
    `meta.versionId`), then, between versions these do not tell apart, the entry that sorts last. Either engine
    reads the files in its own order, so "the last one read" would put different names on the same letter. Only
    the entry is kept per id, never the resource: a directory can run to a million lines.
    """
    newest: dict[tuple[str, str], tuple[tuple[VersionRank, str], _Entry, tuple[str, ...]]] = {}
    conflicting: set[tuple[str, str]] = set()
    for line in lines:
        try:
            resource = json.loads(line)
        except ValueError:
            continue
        if not isinstance(resource, dict):
            continue
        kind, ident = text(resource.get("resourceType")), text(resource.get("id"))
        if not kind or not ident:
            continue
        key = (kind, ident)
        if kind == "Location":
            entry = hospice_location(resource)
        else:
            entry = _role_links(resource) if kind == "PractitionerRole" else _name(resource)
        rank = (version_rank(resource), repr(entry))
        earlier = newest.get(key)
        if earlier is not None and earlier[1] != entry:
            conflicting.add(key)
        if earlier is None or rank > earlier[0]:
            newest[key] = (rank, entry, _identifier_keys(resource) if kind in _NUMBERED else ())
    roles: dict[str, tuple[str | None, str | None]] = {}
    names: dict[str, str] = {}
    places: dict[str, Any] = {}
    numbered: dict[str, str] = {}
    for (kind, ident), (_, entry, keys) in newest.items():
        for key in keys:  # one identifier on two resources: the lowest reference, whatever order the files came in
            numbered[key] = min(numbered.get(key, f"{kind}/{ident}"), f"{kind}/{ident}")
        if kind == "PractitionerRole":
            roles[ident] = entry  # type: ignore[assignment]
        elif kind == "Location":
            if entry:
                places[f"Location/{ident}"] = entry
        elif entry:
            names[f"{kind}/{ident}"] = entry  # type: ignore[assignment]
    practitioner_orgs: dict[str, str] = {}
    for role_id in sorted(roles):
        practitioner, organisation = roles[role_id]
        if practitioner and organisation:
            practitioner_orgs.setdefault(practitioner, organisation)
    return Directory(
        roles=roles,
        practitioner_orgs=practitioner_orgs,
        names=names,
        conflicts=len(conflicting),
        by_identifier=numbered,
        places=places,
    )


_NUMBERED = frozenset({"Practitioner", "Organization"})  # the ones claims name by NPI or NCPDP number


def _identifier_keys(resource: Mapping[str, Any]) -> tuple[str, ...]:
    """The resource's identifiers, each in its one spelling (guideline.identifiers.identifier_key)."""
    keys = []
    for identifier in as_list(resource.get("identifier")):
        number = text(as_dict(identifier).get("value"))
        if number and number.strip():
            keys.append(identifier_key(text(as_dict(identifier).get("system")), number))
    return tuple(keys)


def _role_links(role: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """A PractitionerRole's practitioner and organisation ids."""
    practitioner = text(as_dict(role.get("practitioner")).get("reference"))
    organisation = text(as_dict(role.get("organization")).get("reference"))
    return (
        practitioner.rsplit("/", 1)[-1] if practitioner else None,
        organisation.rsplit("/", 1)[-1] if organisation else None,
    )


def evaluate_lines(patient_id: str, lines: Iterable[str], context: RunContext) -> tuple[dict[str, Any] | None, Quality]:
    """One patient's NDJSON lines → (row or None, data-quality counts). A line that does not parse is counted."""
    resources = []
    unreadable = 0
    for line in lines:
        try:
            resource = json.loads(line)
        except ValueError:
            unreadable += 1
            continue
        if isinstance(resource, dict):
            resources.append(resource)
        else:
            unreadable += 1
    try:
        outcome = evaluate_patient(
            patient_id, resources, context.period, context.config, context.today, context.directory
        )
    except Exception as error:  # noqa: BLE001 - one patient the engine cannot read must never stop the run
        quality = Quality(patients_not_evaluated=1)
        quality.evaluation_errors[type(error).__name__] += 1  # the kind of failure, never the patient's data
        return None, quality
    quality = outcome.quality
    quality.unreadable_resources += unreadable
    # The unidentified medicines' texts reach data-quality.json and the dashboard: UTF-8 too.
    for key in [key for key in quality.unidentified_medications if any(map(_unwritable, key))]:
        writable = tuple(_writable_text(part) for part in key)
        quality.unidentified_medications[writable] += quality.unidentified_medications.pop(key)  # type: ignore[index]
    return (None if outcome.row is None else _writable(outcome.row)), quality


def _writable(row: dict[str, Any]) -> dict[str, Any]:
    """The row with each lone surrogate (a broken \\u escape that json.loads reads) shown as U+FFFD: Arrow, Parquet
    and the letters hold UTF-8 only, and one odd character in a name must not stop the whole run."""
    return {key: _writable_text(value) if type(value) is str else value for key, value in row.items()}


def _unwritable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _writable_text(value: str) -> str:
    # json.loads joins an escaped pair into one character, so every surrogate left is a lone one.
    return _SURROGATE.sub("\ufffd", value) if _unwritable(value) else value


_CONTEXT: RunContext | None = None


def init_worker(context: RunContext) -> None:
    global _CONTEXT  # noqa: PLW0603 - one read-only context per worker process
    _CONTEXT = context


def evaluate_chunk(chunk: list[tuple[str, list[str]]]) -> tuple[list[dict[str, Any]], Quality]:
    """A process-pool task: several patients at once (amortises the pickling)."""
    assert _CONTEXT is not None, "init_worker was not called"
    rows, quality = [], Quality()
    for patient_id, lines in chunk:
        row, found = evaluate_lines(patient_id, lines, _CONTEXT)
        quality.merge(found)
        if row is not None:
            rows.append(row)
    return rows, quality


def names_no_patient(keys: str | None, kinds: Iterable[str]) -> str | None:
    """The type of a resource of one of `kinds` (a group of WITHOUT_PATIENT) whose `line_keys` name no patient by a
    `Patient/id` reference (a member id alone, a `urn:uuid`), as the engines' SQL keys it; None for any other line."""
    if keys is None:
        return None
    kind, _, reference = json.loads(keys)[:3]
    return kind if kind in kinds and not re.search(PATIENT_KEY, reference) else None
