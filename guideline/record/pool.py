"""Walking payloads (resources, Bundles, lists) and pooling Medication resources for reference resolution."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

from guideline.fhirdata import (
    Concept,
    as_dict,
    as_list,
    concept,
    is_absolute_url,
    local_reference,
    medication_element,
    path_on_server,
    readings_by_text,
    reference,
    text,
    unversioned,
)
from guideline.record.model import (
    ResolvedMedication,
)

_TYPE_AND_ID = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,256}$")


def _relative(ref: str) -> str:
    """`Medication/1/_history/3` (as servers that write versioned references send it) → `Medication/1`: what names a
    medicine does not change between versions, and read as nothing the order was "unidentified (not found)".
    Anything else that does not end in a plain `Type/id` (dot segments) is returned unchanged and never resolves.
    It reads the last steps only: whether an absolute reference is the EHR's own is `_local`'s to tell."""
    # Not fhirdata.local_reference, which drops a query string and empty steps to match references leniently: this is
    # the gate for what is resolved and read with the user's token, so only a plain `Type/id` passes, and
    # `Medication/m1?_format=xml` is named "not a Medication id" (tests/test_medication_reads.py BAD_REFERENCES).
    parts = unversioned(ref.rstrip("/").split("/"))
    tail = "/".join(parts[-2:]) if len(parts) >= 2 else ref
    if not _TYPE_AND_ID.match(tail) or parts[-1] in (".", ".."):
        return ref
    return tail


def _local(ref: str, server: str | None) -> str | None:
    """How a reference names a resource of the EHR's own server (`Type/id`, as `_relative` gives it), or None when
    it names one elsewhere: an absolute reference is the EHR's only when its base is `server` (Epic writes its own
    references so), and with no server known it is no one's. `…/fhir/Medication/m1` on another server is not
    Medication/m1 here: taken for it, the order became whatever drug the EHR files under that id."""
    if not is_absolute_url(ref):
        return _relative(ref)
    path = path_on_server(ref, server) if server else None
    return None if path is None else _relative(path)


def on_another_server(ref: str | None, server: str | None) -> bool:
    """Whether a reference is an absolute URL on a server other than `server`, the EHR's (never when no server is
    known: then where it is cannot be told)."""
    return bool(ref and server and is_absolute_url(ref) and path_on_server(ref, server) is None)


# One ResolvedMedication per inline concept, shared by every record: the reader shares one Concept per distinct
# coding content, so orders of the same drug, in this call and the next, carry the same immutable object and the
# answers remembered for it (set membership, names, supplies) serve them all, while nothing of a finished call is
# kept alive by those memos. Keyed by identity; each value holds its concept, so an id cannot be reused meanwhile.
_INLINE: dict[int, ResolvedMedication] = {}
_INLINE_LIMIT = 16384


def _inline_medication(code: Concept) -> ResolvedMedication:
    found = _INLINE.get(id(code))
    if found is None or found.concept is not code:
        if len(_INLINE) >= _INLINE_LIMIT:
            _INLINE.clear()  # bounded: after a clear the objects are simply made again
        found = _INLINE[id(code)] = ResolvedMedication.make(concept=code)
    return found


def _inline_of(value: Any) -> ResolvedMedication | None:
    code = concept(value)
    return None if code is None else _inline_medication(code)


# The same objects by the medication concept's JSON text: one C call and one lookup per order or fill,
# where reading the concept and then finding its object cost a lookup and two calls more.
coded_medication = readings_by_text(_inline_of, _INLINE_LIMIT, dict, None)
coded_medication.__doc__ = """The shared ResolvedMedication of an inline medicationCodeableConcept (or R5
medication.concept); None when it names no concept."""


def clear_inline_medications() -> None:
    _INLINE.clear()
    coded_medication.clear()


@dataclass
class MedicationPool:
    """Resources by type/id (for resolving a medicine named by reference) with the first-seen order kept."""

    medications: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # What each (reference, display) resolved to in this call (filled by the reader).
    resolved: dict[tuple[str, str | None], ResolvedMedication] = field(default_factory=dict)
    # Added at the first lookup, in this order: the Medications among these resources (with their fullUrls, by
    # position), then the Medications fetched separately. Most requests name their drugs by code, and then nothing
    # walks the request's resources for Medications at all.
    pending: list[Mapping[str, Any]] = field(default_factory=list)
    pending_urls: dict[int, str] = field(default_factory=dict)
    pending_fetched: list[Mapping[str, Any]] = field(default_factory=list)
    # Medications sent under a Bundle fullUrl in resources pooled without their fullUrls: (fullUrl, Medication).
    pending_by_url: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    # The EHR's FHIR server (the hook's fhirServer, the page's iss): an absolute reference is matched by its id
    # only when it is on this server. None (a prefetch-only call, an offline check): only by its fullUrl.
    server: str | None = None
    # Every resource pooled and their fullUrls (what `pending` starts as), and who is who among them
    # (`identity.Actors`), worked out by the reader the first time an actor named by role or identifier needs it.
    everything: Sequence[Mapping[str, Any]] = field(init=False, default=())
    everything_urls: Mapping[int, str] = field(init=False, default_factory=dict)
    actors: Any = field(init=False, default=None)
    # What resources pooled without their fullUrls were opened from (a hook's prefetch values): walked for who is who
    # by `urn:` fullUrl (`identity.directory_by_url`) only when `actors` is worked out.
    bundles: Sequence[Any] = ()

    def __post_init__(self) -> None:
        self.everything, self.everything_urls = self.pending, self.pending_urls

    def add_medication(self, resource: Mapping[str, Any], full_url: str | None) -> None:
        """Pools a Medication under its fullUrl and where it lives (`located_id`): `Medication/<id>` only when it is
        the EHR's. Another server's (marked, or by a fullUrl on another host) under its `Medication/<id>` was taken
        for the EHR's Medication of that id: the EHR's was never read, and an oxycodone order read as the HIE's
        ibuprofen."""
        home = home_prefix(self.server)
        located = located_id(marked_from(resource, full_url, home) if full_url and type(resource) is dict else resource)
        if located:
            self.medications.setdefault(located, resource)
        if full_url:
            self.medications.setdefault(full_url, resource)

    def find_medication(self, ref: str) -> Mapping[str, Any] | None:
        """The Medication a reference names, as given (a fullUrl) or as its `Medication/id` on the EHR's server."""
        if self.pending or self.pending_fetched or self.pending_by_url:
            pending, urls, fetched = self.pending, self.pending_urls, self.pending_fetched
            by_url = self.pending_by_url
            self.pending, self.pending_urls, self.pending_fetched, self.pending_by_url = [], {}, [], []
            for index, resource in enumerate(pending):
                if resource.get("resourceType") == "Medication":
                    self.add_medication(resource, urls.get(index))
            for medication in fetched:
                self.add_medication(medication, None)
            for url, medication in by_url:
                self.add_medication(medication, url)
        found = self.medications.get(ref)
        if found is not None:
            return found
        local = _local(ref, self.server)
        return None if local is None else self.medications.get(local)


# Stands in for a Bundle entry that holds no resource object, so the record can name it ("no resource in it").
UNREADABLE_REASON = "painplan:unreadable"


def named_where(found: Sequence[Any], where: str) -> Sequence[Any]:
    """`found` with each item pooling named (UNREADABLE_REASON: a failed batch answer, an entry with no resource)
    saying where it came (`where`: "in the prefetch: active medication orders"): without it, the card said a batch
    answer failed and not which search, and the integrator could not tell which query or scope to fix."""
    if not any([type(r) is dict and r.get("resourceType", "") is None for r in found]):  # the usual case: none
        return found
    return [named_in(r, where) if type(r) is dict and r.get("resourceType", "") is None else r for r in found]


def named_in(resource: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    """The item pooling named, saying where it came; any other resource as it is."""
    named = resource.get(UNREADABLE_REASON)
    return {**resource, UNREADABLE_REASON: f"{named} ({where})"} if isinstance(named, str) else resource


# Why a resource whose resourceType is no text (a list, an object) is named.
NO_TYPE_TEXT = "its resourceType is not a text value"


def set_aside(resource_id: Any) -> dict[str, Any]:
    """Stands in for a resource whose resourceType is no text once the record has named it (`build._read_all`), in
    the resources the record's pool hands its readers afterwards (who is who among the actors, read on first use; a
    Medication by reference): none of them meets that type, which as a set's key failed the whole call. Its id is
    kept as sent, so a second reading of the record names it as the first did."""
    return {"resourceType": None, "id": resource_id, UNREADABLE_REASON: NO_TYPE_TEXT}


def unreadable_entry() -> dict[str, Any]:
    return {"resourceType": None, UNREADABLE_REASON: "a Bundle entry that holds no resource object"}


# Why an entry's resource typed "Bundle" is named rather than walked (see `_no_bundle`).
NOT_A_BUNDLE = 'its resourceType is "Bundle" but it has no type and no entries, so it is no Bundle PainPlan can read'


def _no_bundle(resource: Mapping[str, Any]) -> bool:
    """Whether an entry's resource typed "Bundle" is no Bundle: no `type` (required of every Bundle) and no entries.
    A resource whose resourceType was mangled (an order sent as "Bundle") is so, and walked as a Bundle it held
    nothing and vanished. A real empty nested search answer has its type ("searchset", total 0) and is skipped
    silently, as it holds nothing; one with entries but no type is still walked, for what it holds is readable."""
    return text(resource.get("type")) is None and not as_list(resource.get("entry"))


def _no_type() -> dict[str, Any]:
    """Stands in for an object with no resourceType where a resource is expected (an item of a list of resources, or
    the payload itself): skipped, a draft order sent so went unseen, and an order-sign answered "all clear"."""
    return {
        "resourceType": None,
        UNREADABLE_REASON: "an object with no resourceType, so no FHIR resource PainPlan can read",
    }


def _named_no_bundle(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The placeholder that names such a resource, with its id if it has one."""
    return {"resourceType": None, "id": resource.get("id"), UNREADABLE_REASON: NOT_A_BUNDLE}


# The FHIR base of another server than the EHR's, kept on a resource pooled from a Bundle entry whose fullUrl names it
# there (a copy of the resource carries it; the EHR's JSON is never changed): ids are unique on their own server only,
# and an HIE's MedicationRequest/123 beside the EHR's was read as a version of it, and one of the two orders was lost.
SOURCE = "painplan:source"


# A resource as read: the same object back when nothing marks it, a marked copy (a dict) otherwise.
_Resource = TypeVar("_Resource", bound=Mapping[str, Any])


def source_base(url: str, resource: Mapping[str, Any]) -> str | None:
    """The FHIR base an absolute fullUrl names `resource` on (`https://hie.example/fhir` for
    `https://hie.example/fhir/MedicationRequest/123`, or its `_history` version), or None when it is no absolute URL
    or does not end in the resource's own type and id (then it tells nothing of where the resource is from)."""
    if not is_absolute_url(url):
        return None
    parts = unversioned(url.split("?", 1)[0].split("#", 1)[0].rstrip("/").split("/"))
    if len(parts) < 5 or parts[-2] != resource.get("resourceType") or parts[-1] != text(resource.get("id")):
        return None
    return "/".join(parts[:-2])


def _host(url: str) -> str | None:
    """The host a URL names, in lower case; None when it names none (or is no URL)."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def marked_if_elsewhere(resource: _Resource, url: str, server: str) -> _Resource | dict[str, Any]:
    """The resource, or a copy of it marked with its base (SOURCE) when its fullUrl names it on another host than
    `server`, the EHR's. The host alone tells: an EHR's own fullUrls may name it by another path or scheme than its
    FHIR base (a proxy's, an http one), and taken for another server's, two versions of one order were both read."""
    base = source_base(url, resource)
    if base is None or _host(base) == _host(server):
        return resource
    return {**resource, SOURCE: base}


def marked_from(resource: _Resource, url: Any, home: str | None) -> _Resource | dict[str, Any]:
    """`marked_if_elsewhere` behind the test the EHR's own fullUrls pass: one starting with `home` (`home_prefix`)
    is the EHR's, and costs no URL parse. The pooling loops over plain entries inline this test (a call per entry
    was most of a searchset's reading); every other path calls it."""
    if home is None or type(url) is not str or url.startswith(home):
        return resource
    return marked_if_elsewhere(resource, url, home)


def located_id(resource: Mapping[str, Any]) -> str | None:
    """A resource's type and id where it lives: `MedicationRequest/123` for the EHR's own, with the base it was
    marked from (SOURCE) for another server's (`https://hie.example/fhir/MedicationRequest/123`); None with no id.
    What tells one resource met twice from two servers' resources with one id."""
    rid = text(resource.get("id"))
    if rid is None:
        return None
    marked = resource.get(SOURCE)
    path = f"{resource.get('resourceType')}/{rid}"
    return f"{marked}/{path}" if isinstance(marked, str) else path


def absolute_on_source(ref: str, resource: Mapping[str, Any]) -> str:
    """A reference as `resource` makes it: a relative one (`Medication/m1`) in another server's resource (marked,
    SOURCE) is absolute on that server (`https://hie.example/fhir/Medication/m1`); any other as written. An HIE's
    order naming `Medication/m1` means the HIE's m1: read against the EHR, it became whatever drug the EHR files
    under that id, and the EHR was asked for an id not its own with its token. The one rule for every reader of a
    reference (medicines, what the hook fetches, report results)."""
    marked = resource.get(SOURCE)
    if type(marked) is not str or not ref or ref[0] == "#" or ":" in ref:  # contained, absolute, or a urn
        return ref
    return f"{marked}/{ref}"


def located_reference(ref: str | None, resource: Mapping[str, Any], server: str | None) -> str | None:
    """A reference to another resource (an order's priorPrescription, a fill's authorizingPrescription, a report's
    result) as the located identity it names (`located_id`): the EHR's as `Type/id` (relative, or absolute on the
    EHR's host), another server's as its unversioned absolute URL (a relative one in that server's resource is on it,
    `absolute_on_source`). With no EHR server known nothing is marked, and an absolute one is its `Type/id`. Kept by
    its bare id, an HIE renewal naming `MedicationRequest/123` retired the EHR's current order 123."""
    if not ref:
        return ref
    ref = absolute_on_source(ref, resource)
    if not is_absolute_url(ref):
        return ref
    if server is None or _host(ref) == _host(server):
        return local_reference(ref)
    parts = unversioned(ref.split("?", 1)[0].split("#", 1)[0].rstrip("/").split("/"))
    return "/".join(parts)


def order_keys(reference: str | None, kind: str = "MedicationRequest") -> set[str | None]:
    """The located order references (`MedOrder.located`) one priorPrescription or authorizingPrescription names, as
    `located_reference` read it: another server's (absolute) whole, the EHR's as `Type/id` (also versioned), a bare id
    (sandboxes) also as `kind/<id>`. The one rule for the renewals, the orders drafts replace and a fill's order."""
    if reference and is_absolute_url(reference):
        return {reference}
    local = local_reference(reference)
    return {local, f"{kind}/{local}"} if local and "/" not in local else {local}


def iter_resources(payload: Any) -> Iterable[tuple[Mapping[str, Any], str | None]]:
    """Every resource in a resource, Bundle (any type, nested) or list, with its Bundle fullUrl if any
    (`resources_in` gives the resources alone, for callers that only pool them).

    An object that claims to be a resource (has a resourceType) is yielded even when it is malformed, and one with
    no resourceType as a stand-in that says so, so the record can name it instead of dropping it unseen."""
    found: list[Mapping[str, Any]] = []
    found_urls: dict[int, str] = {}
    collect_resources(payload, found, found_urls)
    return iter([(resource, found_urls.get(index)) for index, resource in enumerate(found)])


def resources_in(payload: Any, server: str | None = None) -> list[Mapping[str, Any]]:
    """The resources iter_resources yields, without their fullUrls (what pooling callers read); with the EHR's
    `server`, one whose fullUrl names it on another server is a copy marked with that server's base (SOURCE)."""
    found: list[Mapping[str, Any]] = []
    collect_resources(payload, found, server=server)
    return found


def home_prefix(server: str | None) -> str | None:
    """The EHR's FHIR base as every fullUrl on it starts (with its closing slash), or None when none is known."""
    return server.rstrip("/") + "/" if server else None


def collect_resources(
    payload: Any, found: list[Mapping[str, Any]], urls: dict[int, str] | None = None, server: str | None = None
) -> None:
    """Appends the resources iter_resources yields (a list, not nested generators: charts have thousands of
    entries) and, when `urls` is given, puts each one's Bundle fullUrl there under its position in `found`. Only
    resources that have a fullUrl get one: a plain resource costs one append, not a pair. With the EHR's FHIR base
    `server`, a resource whose fullUrl names it on another server is appended as a copy marked with that server's
    base (SOURCE); the EHR's own cost one test of their fullUrl's start."""
    home = home_prefix(server)
    if isinstance(payload, list):
        for item in payload:
            if type(item) is dict and item.get("resourceType") != "Bundle":
                # The common case, a plain resource, without a call per item (the same test as below).
                found.append(item if "resourceType" in item else _no_type())
                continue
            collect_resources(item, found, urls, server)
        return
    data = as_dict(payload)
    if not data:
        return
    if "resourceType" not in data:
        # An object that is no resource (a draft, or a Bundle of drafts, that lost its type): named, not skipped.
        found.append(_no_type())
        return
    if data.get("resourceType") == "Bundle":
        for entry in as_list(data.get("entry")):
            resource = entry.get("resource") if type(entry) is dict else None
            if (
                type(resource) is dict
                and resource
                and resource.get("resourceType") != "Bundle"
                and "response" not in entry
            ):
                # The common case, an entry holding a resource object, without the calls of the general path (a
                # batch answer's takes it: its status is judged).
                if urls is not None:
                    url = entry.get("fullUrl")
                    if url is not None:
                        _note_url(urls, len(found), url)
                if home is not None:
                    url = entry.get("fullUrl")
                    if type(url) is str and not url.startswith(home):
                        resource = marked_if_elsewhere(resource, url, home)
                found.append(resource)
            else:
                _collect_entry(entry, found, urls, server)
        return
    # Kept even when resourceType is not a text value: build_record names such a resource as unreadable.
    found.append(data)


def _note_url(urls: dict[int, str], position: int, url: Any) -> None:
    readable = text(url)
    if readable is not None:
        urls[position] = readable


# Statuses that answer a write (created, accepted for later, nothing to return): such an entry holds no resource by
# design. Any other success answers a read or a search, whose resource is the data asked for.
_WRITE_STATUSES = frozenset({"201", "202", "204"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_ANSWER = "an answer in a batch the EHR sent"


def answer_problem(entry: Mapping[str, Any]) -> str | None:
    """Why a batch-response or transaction-response entry (one with a `response`) lost data, in words; the one rule
    for a batch answer's status, named where its Bundle is pooled (`collect_resources`), so the hook, the plan
    page, a fetched page and `painplan mme` all name it, once. Named: a status that is no success (4xx, 5xx, or
    no HTTP status at all, such as "OK") or an error in `response.outcome`, whatever the entry holds; and with no
    resource, a success that answers a read or a search (a server returning minimal answers, or a proxy, stripped
    what it found) or no status at all (FHIR requires one). None for an answer to a write (its method, or 201, 202
    or 204), for one whose resource is an OperationOutcome reporting an error (that resource names the failure
    where it is read), and for a batch's request alone (no response: nothing was answered)."""
    if "response" not in entry or text(as_dict(entry.get("request")).get("method")) in _WRITE_METHODS:
        return None
    resource = entry.get("resource")
    held = type(resource) is dict and bool(resource)
    if held and as_dict(resource).get("resourceType") == "OperationOutcome" and outcome_failed(resource, empty=True):
        return None  # the error it reports names the failure where it is read (a note beside a 403 would not)
    response = as_dict(entry["response"])
    status = (text(response.get("status")) or "")[:40]
    code = status[:3]
    if status and not (code.isdigit() and code.startswith("2")):
        said = f"HTTP {status}" if code.isdigit() else f'its status "{status}" is no HTTP status'
        return f"{_ANSWER} failed ({said}), so whatever its search or read would have found was not read"
    if outcome_failed(response.get("outcome")):
        said = f" (HTTP {status})" if status else ""
        return f"{_ANSWER} reported an error{said}, so what its search or read found may not all be there"
    if held or code in _WRITE_STATUSES:
        return None
    if not status:
        return (
            f"{_ANSWER} has no status and holds no data: the server or a proxy left out whether its search "
            "succeeded and what it found, so none of it was read"
        )
    return (
        f"{_ANSWER} says it succeeded (HTTP {status}) but holds no data: the server or a proxy left out what it "
        "found, so none of it was read"
    )


def outcome_failed(outcome: Any, empty: bool = False) -> bool:
    """Whether an OperationOutcome reports an error or a fatal issue (a warning or a note does not); one with no
    issues counts as `empty` says (a batch answer's `response.outcome` with none says nothing; an OperationOutcome
    sent as a search's answer with none is no data, so it failed). One rule for the answers' reading and the pool's."""
    issues = as_dict(outcome).get("issue")
    severities = (
        [issue.get("severity") for issue in issues if isinstance(issue, dict)] if isinstance(issues, list) else []
    )
    return any(severity in ("error", "fatal") for severity in severities) or (empty and not severities)


def _collect_entry(
    entry: Any, found: list[Mapping[str, Any]], urls: dict[int, str] | None, server: str | None = None
) -> None:
    """A Bundle entry of any shape: a nested Bundle is walked, an entry without a resource object is named."""
    entry_data = as_dict(entry)
    if (
        not entry_data
        or ("resource" in entry_data and not as_dict(entry_data["resource"]))
        # an entry with no resource at all, unless it is a batch's or transaction's answer or request alone: a
        # gateway may strip a resource it may not pass on and leave its search entry, a match read as nothing
        or ("resource" not in entry_data and "response" not in entry_data and "request" not in entry_data)
    ):
        # An entry that is not an object, or whose resource is not one: named by the record, not dropped.
        found.append(unreadable_entry())
        return
    problem = answer_problem(entry_data)
    if problem is not None:  # named, and whatever the entry holds is still read
        found.append({"resourceType": None, UNREADABLE_REASON: problem})
    if "resource" not in entry_data:
        return
    resource = as_dict(entry_data.get("resource"))
    if resource.get("resourceType") == "Bundle":
        if _no_bundle(resource):
            found.append(_named_no_bundle(resource))
            return
        collect_resources(resource, found, urls, server)
    else:  # an object with content: an empty or missing resource was named or passed over above
        if urls is not None:
            _note_url(urls, len(found), entry_data.get("fullUrl"))
        found.append(marked_from(resource, entry_data.get("fullUrl"), home_prefix(server)))


# The resources whose Medication, named by reference alone, is read from the FHIR server: a dose given in clinic
# names its medicine so as often as an order does, and unread it was no OUD treatment.
# Every type whose reader resolves a medication reference through the pool: left out, a MedicationStatement's or a
# DSTU2 MedicationOrder's Medication was never fetched, and the medicine stayed unidentified.
_REFERRING_TYPES = frozenset({
    "MedicationRequest", "MedicationOrder", "MedicationStatement", "MedicationUsage", "MedicationDispense",
    "MedicationAdministration",
})  # fmt: skip


def medication_references(payloads: Iterable[Any], server: str | None = None) -> set[str]:
    """References to Medication resources that no given payload contains (they must be fetched, 2.1 c): those on
    the EHR's `server` as their `Medication/<id>`, any other absolute one as written (it is never read)."""
    found = unresolved_references(payloads, "Medication", _REFERRING_TYPES, _medication_reference, server)
    return {_local(ref, server) or ref for ref in found}


# Only plain reads of a Medication by FHIR id (Epic's run past 64 characters): a reference is EHR data, and
# "Medication/../../x" or "Patient/1" would otherwise send the bearer token somewhere other than a Medication.
_MEDICATION_READ = re.compile(r"Medication/[A-Za-z0-9.\-]{1,256}")
# Why an order's Medication was not read when its reference is no such read (the hook's gap and the page's panel).
NOT_A_MEDICATION_ID = "an order names its medication by a reference that is not a Medication id"
# Why when it is on another server than the EHR's (the token is for the EHR's server only).
ON_ANOTHER_SERVER = "on another FHIR server, which PainPlan does not read"


def may_read_medication(ref: str) -> bool:
    """Whether a reference has the shape PainPlan reads with the user's token: a plain `Medication/<id>` (a versioned
    or absolute one as its `Medication/<id>`), the id not "." or ".." (ids by the pattern, but path steps in a
    URL). Whose server an absolute one is on is `medication_references`' to tell: it leaves one elsewhere absolute."""
    path = _relative(ref)
    return _MEDICATION_READ.fullmatch(path) is not None and path[len("Medication/") :] not in (".", "..")


def readable_medication_references(refs: Iterable[str]) -> list[str]:
    """The references among `refs` (as medication_references gives them) that are read from the EHR's server,
    sorted: the hook and the plan page read exactly these. An absolute one is on another server, or none is known."""
    return sorted(ref for ref in refs if not is_absolute_url(ref) and may_read_medication(ref))


def elsewhere_references(refs: Iterable[str]) -> list[str]:
    """The references among `refs` (as medication_references gives them) on another server than the EHR's, or
    absolute with no server known, sorted: never read, and their orders named."""
    return sorted(ref for ref in refs if is_absolute_url(ref))


def _medication_reference(resource: Mapping[str, Any]) -> tuple[Any, ...]:
    """The reference naming the medicine of an order, statement, dispense or administration that names no concept:
    R4's medicationReference, or the reference of R5's `medication` (a CodeableReference), as the reader takes them
    (`medication_element`: a concept that is no object, such as one sent as a list, names nothing)."""
    usual = resource.get("medicationCodeableConcept")
    if type(usual) is dict and usual:  # the usual R4 concept, answered in place: one test per resource of a chart
        return ()
    concept, named = medication_element(resource)
    return () if concept is not None else (named,)


def unresolved_references(
    payloads: Iterable[Any],
    target: str,
    referring: Collection[str],
    references_of: Callable[[Mapping[str, Any]], Iterable[Any]],
    server: str | None = None,
) -> list[str]:
    """The references (as written, in the order met, once each; a relative one in another server's resource as
    absolute on it, `absolute_on_source`) that the payloads' resources of the `referring` types make through
    `references_of` and that no resource of type `target` among the payloads answers, by its fullUrl, or by
    `target/id` (a relative reference, or an absolute one on the EHR's `server`); contained ones ("#x") are the
    resource's own. What a FHIR client must still read, or name (one on another server is never read)."""
    found: list[Mapping[str, Any]] = []
    urls: dict[int, str] = {}
    collect_resources(list(payloads), found, urls, server)
    refs: list[str] = []
    for resource in found:
        kind = resource.get("resourceType")
        # One test per resource: charts hold thousands. A type that is no text (a list) names no Medication: it
        # is an unreadable resource, named where the record is read; as a set's key it failed the whole chart.
        if type(kind) is str and kind in referring:
            named = [ref for ref in map(reference, references_of(resource)) if ref and not ref.startswith("#")]
            if named and SOURCE in resource:  # another server's: its relative references are on that server
                named = [absolute_on_source(ref, resource) for ref in named]
            refs.extend(named)
    if not refs:  # the usual payload names nothing by reference: the targets are never pooled
        return []
    held = _held(found, urls, target)
    return list(dict.fromkeys(ref for ref in refs if ref not in held and _local(ref, server) not in held))


def _held(found: list[Mapping[str, Any]], urls: Mapping[int, str], target: str) -> set[str]:
    """How the resources of type `target` among `found` may be referred to: `target/id` and their fullUrls."""
    held: set[str] = set()
    for index, resource in enumerate(found):
        if resource.get("resourceType") != target:
            continue
        located = located_id(resource)  # another server's (marked) is no `target/id` of the EHR's
        if located:
            held.add(located)
        if index in urls:
            held.add(urls[index])
    return held
