"""One identity for what two resources name two ways: the order a fill names (wherever a fill's
authorizingPrescription is compared), and the prescriber or pharmacy an actor reference names (`who`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain
from typing import Any, TypeVar

from guideline.fhirdata import as_dict, as_list, is_absolute_url, local_reference, text
from guideline.identifiers import MARK, actor_reference, by_identifier, identifier_key
from guideline.record.model import Dispense, MedOrder
from guideline.record.pool import SOURCE, collect_resources, located_id, located_reference, order_keys
from guideline.record.release_names import ORDER_NAMES
from guideline.versions import same_content


def prescription_named(ref: str, fill: str | None, kind: str = "MedicationRequest") -> str | None:
    """The order a fill's authorizingPrescription names, as the reader located it (`pool.located_reference`), as one
    key: the EHR's as `MedicationRequest/<id>` (relative, versioned or a sandbox's bare id), another server's whole
    (`https://hie.example/fhir/MedicationRequest/123`), as `pool.order_keys` matches an order; one contained in the
    fill ("#rx1") as that fill's own (`<fill>#rx1`), since a contained id means something only inside its resource,
    and None with no fill to tie it to. Made relative, the HIE's order 123 was the EHR's order 123: its fill was
    dropped as the EHR's fill sent twice, or queued behind it as one prescription."""
    if ref.startswith("#"):
        return f"{fill}{ref}" if fill else None
    return next((key for key in order_keys(ref, kind) if key and "/" in key), ref or None)


# ---------------------------------------------------------------------------------------------------------------
# Who an actor reference names: one prescriber, one pharmacy, however two resources name them

_DIRECTORY_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization"})
_CLAIMED_TWICE = ""  # an identifier two resources carry: it names neither for sure


@dataclass(frozen=True, slots=True)
class Actors:
    """Who is who among the resources sent with a chart (an `_include`d PractitionerRole, a fill's pharmacy as an
    Organization): each PractitionerRole's practitioner, and each identifier a Practitioner or an Organization carries
    (an NPI, an NCPDP number) with the one resource that carries it."""

    practitioner_of: Mapping[str, str]  # located role (`located_id`, or its fullUrl) → its practitioner, located
    by_identifier: Mapping[str, str]  # `identifier_key` → located `Type/id`; `_CLAIMED_TWICE` when two carry it
    # A `urn:` fullUrl (a transaction or collection Bundle's) → who its entry is, as `who` reads that entry named by
    # `Type/id` (a role as its practitioner; an id-less one by its NPI); `_CLAIMED_TWICE` when two entries differ.
    by_url: Mapping[str, str] = field(default_factory=dict)


def actors_in(
    resources: Sequence[Mapping[str, Any]],
    urls: Mapping[int, str],
    server: str | None,
    sent: Iterable[tuple[str, Mapping[str, Any]]] = (),
) -> Actors:
    """The `Actors` of a chart's resources (`urls`: fullUrls by position, as the record's pool keeps them; `sent`: the
    Practitioner, PractitionerRole and Organization entries among them pooled without their fullUrls, each (fullUrl,
    resource), as `directory_by_url` finds them in a hook's prefetch)."""
    roles: dict[str, str] = {}
    numbers: dict[str, str] = {}
    by_url: dict[str, str] = {}
    role_urls: dict[str, str] = {}  # a role's `urn:` fullUrl → its practitioner, as the role names them
    pooled = ((resource, urls.get(index), True) for index, resource in enumerate(resources))
    for resource, url, numbered in chain(pooled, ((resource, url, False) for url, resource in sent)):
        kind = resource.get("resourceType") if type(resource) is dict else None
        if numbered and kind is not None:  # a type that is no text left the pool when named (`pool.set_aside`)
            for key, actor in _tied_numbers(resource, server):
                _claim(numbers, key, actor)
        if kind not in _DIRECTORY_TYPES:
            continue
        located = located_id(resource)
        names = [n for n in (located, url) if n]
        if kind == "PractitionerRole":
            practitioner = _role_practitioner(resource, resource, server)
            if practitioner and practitioner.startswith("#"):  # a practitioner the role itself contains
                practitioner = _contained(practitioner, resource, server, roles=False)
            if practitioner:
                roles.update(dict.fromkeys(names, practitioner))
                if url and url.startswith(_URN):
                    _claim(role_urls, url, practitioner)
        else:
            if located and numbered:  # one sent by fullUrl is among `resources` too: its numbers are counted there
                for key in _identifier_keys(resource):
                    _claim(numbers, key, located)
            if url and url.startswith(_URN):
                # An id-less entry (a transaction Bundle's) is known by its fullUrl alone: its NPI says who it is.
                named = located or _by_number(kind, resource)
                if named:
                    _claim(by_url, url, named)
    if role_urls or by_url:
        # A role's practitioner named by her entry's fullUrl, as a transaction Bundle ties its entries.
        roles = {role: by_url.get(p, p) if p.startswith(_URN) else p for role, p in roles.items()}
        for url, practitioner in role_urls.items():
            _claim(
                by_url, url, by_url.get(practitioner, practitioner) if practitioner.startswith(_URN) else practitioner
            )
    return Actors(roles, numbers, {url: actor for url, actor in by_url.items() if actor})


def directory_by_url(payloads: Iterable[Any], server: str | None) -> list[tuple[str, Mapping[str, Any]]]:
    """The Practitioner, PractitionerRole and Organization entries `payloads` (a hook's prefetch values) send under a
    `urn:` fullUrl, each (fullUrl, resource as pooled: marked when another server's): what an actor reference naming
    that fullUrl names. The hook pools its prefetch without fullUrls; walked only when an actor reference needs who is
    who (`Actors`), so the usual call, naming `Practitioner/x`, pays nothing for it."""
    found: list[Mapping[str, Any]] = []
    urls: dict[int, str] = {}
    for payload in payloads:
        if payload is not None:
            collect_resources(payload, found, urls, server)
    return [(url, found[index]) for index, url in urls.items() if url.startswith(_URN) and _in_directory(found[index])]


def _in_directory(resource: Mapping[str, Any]) -> bool:
    """Whether a resource is a Practitioner, a PractitionerRole or an Organization. One whose resourceType is no text
    (a list) is none: the record names it as unreadable, and as a set's key it failed the whole call. Asked here, for
    these walk what the EHR sent (a prefetch, a page read), not the record's pool it leaves once named (`set_aside`)."""
    kind = resource.get("resourceType")
    return type(kind) is str and kind in _DIRECTORY_TYPES


_URN = "urn:"  # a fullUrl that names an entry only within its Bundle (`urn:uuid:…`, `urn:oid:…`)


def directory_page(payload: Any) -> dict[str, Any] | None:
    """A search page's Practitioner, PractitionerRole and Organization entries sent under a `urn:` fullUrl, as a
    Bundle of them alone (None when it has none): what `directory_by_url` reads of a page the hook read itself, kept
    as the prefetch's Bundles are, since the page's resources are pooled without their fullUrls."""
    if type(payload) is not dict or payload.get("resourceType") != "Bundle":
        return None
    kept = [
        entry
        for entry in as_list(payload.get("entry"))
        if type(entry) is dict
        and str(entry.get("fullUrl") or "").startswith(_URN)
        and type(resource := entry.get("resource")) is dict
        and _in_directory(resource)
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": kept} if kept else None


def _claim(names: dict[str, str], url: str, actor: str) -> None:
    """Puts `actor` in `names` under `url`, or `_CLAIMED_TWICE` when it holds another: one fullUrl two entries are
    sent under (two Bundles each numbering their own) names neither."""
    names[url] = actor if names.get(url, actor) == actor else _CLAIMED_TWICE


# The elements that name who prescribed, dispensed or recorded (and a role's practitioner and organisation), each a
# Reference or a list of them, or holding one under `agent` (STU3's requester), `actor` or `onBehalfOf` (a performer).
_ACTOR_ELEMENTS = ("requester", "prescriber", "performer", "dispenser", "recorder", "practitioner", "organization")
_NESTED_ACTORS = ("agent", "actor", "onBehalfOf")


def _tied_numbers(resource: Mapping[str, Any], server: str | None) -> Iterator[tuple[str, str]]:
    """(identifier key, located `Type/id`) for each actor Reference of `resource` that names a Practitioner or an
    Organization both by reference and by identifier (`{"reference": "Practitioner/x", "identifier": <NPI>}`, as a
    gateway or a claim writes it): the chart's own word that x carries that number, so a reference giving the number
    alone names x though x's resource was not sent. A contained, `urn:` or conditional reference ties nothing (it
    names no `Type/id` another resource could share)."""
    for element in _ACTOR_ELEMENTS:
        value = resource.get(element)
        if value is None:
            continue
        for named in as_list(value):
            if type(named) is not dict:
                continue
            for ref in (named, *(named.get(nested) for nested in _NESTED_ACTORS if nested in named)):
                if type(ref) is dict and "identifier" in ref and "reference" in ref:
                    tied = _tie(ref, resource, server)
                    if tied:
                        yield tied


def _tie(ref: Mapping[str, Any], resource: Mapping[str, Any], server: str | None) -> tuple[str, str] | None:
    """The (identifier key, located Practitioner or Organization) one Reference carrying both ties, or None."""
    written = text(ref.get("reference"))
    number = as_dict(ref.get("identifier"))
    system, value = text(number.get("system")), text(number.get("value"))
    if not written or not system or not value or not value.strip() or written[0] == "#":
        return None
    if written.startswith(_URN) or MARK in written:
        return None
    located = located_reference(written, resource, server) or written
    actor = located if is_absolute_url(located) else local_reference(located)
    if not actor or _kind(actor) not in ("Practitioner", "Organization"):
        return None
    return identifier_key(system, value.strip()), actor


def _identifier_keys(resource: Mapping[str, Any]) -> list[str]:
    """The keys (`identifier_key`) of a resource's identifiers that name whose number they are (a system)."""
    return [identifier_key(system, value) for system, value in _system_numbers(resource)]


def _system_numbers(resource: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """A resource's identifiers that name whose number they are, as (system, value without its spaces): those with a
    system and a value (a bare value is any list's)."""
    for identifier in map(as_dict, as_list(resource.get("identifier"))):
        system, value = text(identifier.get("system")), text(identifier.get("value"))
        if system and value and value.strip():
            yield system, value.strip()


def _role_practitioner(role: Mapping[str, Any], container: Mapping[str, Any], server: str | None) -> str | None:
    """A PractitionerRole's practitioner, located as the role (or the resource containing it) makes it; a contained
    one (`#pr`) as written, for the caller to read in the resource that contains it; None when it names none."""
    practitioner = actor_reference(role.get("practitioner"))
    if not practitioner or practitioner.startswith("#") or MARK in practitioner:
        return practitioner
    return located_reference(practitioner, container, server)


def who(ref: str, resource: Mapping[str, Any], actors: Callable[[], Actors], server: str | None) -> str:
    """The actor a located reference names, as one spelling every copy of it can share: a PractitionerRole as its
    practitioner (the role sent with the chart, or contained in `resource`); a reference by identifier as the one
    Practitioner or Organization sent with the chart that carries that identifier (of the type the reference states,
    if it states one); a contained Practitioner or Organization as its NPI or NCPDP number, any other contained
    actor as its container's own (`MedicationRequest/o1#pr`). Anything not known for sure is left as written: a
    role whose practitioner nobody names is not guessed to be anyone's, unless the reference to it carries (or is) an
    NPI that the one Practitioner sent with the chart carries (an NPI names a person, never a role). A `urn:`
    reference (a transaction or collection Bundle's) is the entry sent under that fullUrl, read so (`Actors.by_url`);
    one no entry is sent under is left as written; a contained one read as its NPI or NCPDP number is then read as a
    reference by identifier is. `actors` is asked only for a reference by role, by identifier, by `urn:` or to a
    contained actor with such a number (the usual chart names its actors by `Type/id`)."""
    if ref.startswith(_URN):
        found = actors().by_url.get(ref)
        if not found or MARK not in found:
            return found or ref
        ref = found  # an id-less entry's NPI: the Practitioner sent with the chart that carries it, if one does
    if ref.startswith("#"):
        found = _contained(ref, resource, server)
        if not found:
            # The container's own: two orders' "#pr" are two people as far as anything shows.
            container = located_id(resource)
            return f"{container}{ref}" if container else ref
        if MARK not in found:
            return found
        # Her NPI: the Practitioner sent with the chart that carries it, as a reference giving that NPI names her.
        # Left as the NPI, a copy converted from a C-CDA document (its prescriber contained) was not one with the
        # EHR's fill naming her `Practitioner/p1`, and the cards counted both where the population review joined them.
        ref = found
    if MARK in ref:
        kind, key = by_identifier(ref) or ("", "")
        if kind == "PractitionerRole" and key.startswith("npi|"):
            kind = "Practitioner"  # an NPI names a person: a role's NPI is its practitioner's
        found = actors().by_identifier.get(key)
        if not found or (kind and _kind(found) != kind):
            return ref
        ref = found
    if "PractitionerRole/" in ref:
        found = actors().practitioner_of.get(ref if is_absolute_url(ref) else local_reference(ref) or ref)
        if found:
            return found
        # The role not sent: the NPI its reference carries beside it says whose it is, when the Practitioner that
        # carries that NPI was sent. Nothing else is taken for it (a display is free text).
        number = _role_npi(ref, resource)
        found = actors().by_identifier.get(number) if number else None
        return found if found and _kind(found) == "Practitioner" else ref
    return ref


def _kind(located: str) -> str:
    """The type of a located `Type/id` (the EHR's) or absolute URL (another server's)."""
    return (local_reference(located) or "").partition("/")[0]


def _role_npi(ref: str, resource: Mapping[str, Any]) -> str | None:
    """The NPI (`identifier_key`) a Reference in `resource` carries beside its reference to the role `ref` (located),
    as a gateway writes `{"reference": "PractitionerRole/y", "identifier": {<NPI>}}`; None when none does. Only asked
    for a role the chart does not resolve (rare): the resource's elements, and the elements within those, are walked."""
    wanted = local_reference(ref)
    for named in _references_in(resource, depth=3):
        number = as_dict(named.get("identifier"))
        system, value = text(number.get("system")), text(number.get("value"))
        if value and local_reference(text(named.get("reference")) or "") == wanted:
            key = identifier_key(system, value)
            if key.startswith("npi|"):
                return key
    return None


def _references_in(value: Any, depth: int) -> Iterator[Mapping[str, Any]]:
    """The Reference-shaped objects (a `reference` beside an `identifier`) in a resource's elements, `depth` down,
    outside its contained resources (whose references are theirs)."""
    if depth == 0:
        return
    if type(value) is list:
        for item in value:
            yield from _references_in(item, depth)
    elif type(value) is dict:
        if "reference" in value and "identifier" in value:
            yield value
        for key, item in value.items():
            if key != "contained" and type(item) in (dict, list):
                yield from _references_in(item, depth - 1)


def _contained(ref: str, resource: Mapping[str, Any], server: str | None, roles: bool = True) -> str | None:
    """Who a contained actor (`#id`) is, said in a way another resource can say it too: a role's practitioner (one
    step only, `roles`: two contained roles naming each other lead nowhere), or a practitioner's or an organisation's
    NPI or NCPDP number as a reference by identifier; None when it says neither."""
    wanted = ref[1:]
    for contained in map(as_dict, as_list(resource.get("contained"))):
        if text(contained.get("id")) != wanted:
            continue
        kind = contained.get("resourceType")
        if kind == "PractitionerRole" and roles:
            practitioner = _role_practitioner(contained, resource, server)
            if practitioner and practitioner.startswith("#"):  # contained beside the role, in the same resource
                return _contained(practitioner, resource, server, roles=False)
            return practitioner
        if kind in ("Practitioner", "Organization"):
            return _by_number(kind, contained)
        return None
    return None


def _by_number(kind: str, resource: Mapping[str, Any]) -> str | None:
    """A Practitioner or an Organization named by its NPI or NCPDP number (a reference by identifier, as another
    resource may name it), for one no `Type/id` names (contained, or an id-less Bundle entry); None with neither."""
    for system, value in _system_numbers(resource):
        if identifier_key(system, value)[:4] in ("npi|", "ncpd"):
            return f"{kind}{MARK}{system}|{value}"
    return None


# ---------------------------------------------------------------------------------------------------------------
# One order from two sources: another server relaying the EHR's order, under the same id (unchanged: dropped when the
# record is pooled, `build._copy_of`) or under an id of its own (`relayed_orders`, once the drugs are identified).
# Either way the copy is read once, its fills and renewals name the EHR's order, and it is named (`relayed_names`).

ORDER_TYPES = ("MedicationRequest", *ORDER_NAMES)  # with DSTU2's name (STU3 renamed it)


def same_apart_from_source(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """Whether two copies say the same apart from `meta` and where they are from (`versions.same_content`): another
    server's resource of the same type and id that says this is the resource relayed unchanged, read once."""
    if SOURCE not in first and SOURCE not in second:  # the usual pair: both the EHR's
        return same_content(first, second)
    return same_content(
        {k: v for k, v in first.items() if k != SOURCE}, {k: v for k, v in second.items() if k != SOURCE}
    )


# What another server relays of the EHR's own that is read once when relayed unchanged under the same id, and the
# EHR's copy read whichever came first: its orders and the pharmacy's fills.
_RELAYED_TYPES = (*ORDER_TYPES, "MedicationDispense")


def relayed_unchanged(kind: str, kept: Mapping[str, Any], copy: Mapping[str, Any]) -> tuple[str, str] | None:
    """(the copy's located id, the EHR's resource's) when `copy`, dropped as `kept` relayed unchanged by another
    server under the same id (`same_apart_from_source`), is another server's copy of the EHR's order or fill, to be
    named as one under its own id is; None for any other copy (the EHR's own sent twice, another type, an HIE's order
    first met). A fill so relayed met first was read in place of the EHR's: it named the HIE's order of the same id,
    never sent, and stood for it beside the EHR's (120 MME/day for 60)."""
    if kind not in _RELAYED_TYPES or SOURCE not in copy or SOURCE in kept:
        return None
    copy_id, kept_id = located_id(copy), located_id(kept)
    return (copy_id, kept_id) if copy_id and kept_id else None


class IdentifiedDrug(str):
    """A same-drug key (`fills.same_drug_key`) that names an identified product (an RxNorm product, or its strengths
    and form): the only key that is evidence two orders are one (`relayed_orders`, `orders.is_product`). Told by its
    type, not by its spelling; compared, hashed and shown as the string it is. Made by its two constructors only, so
    the spelling (`PREFIXES`) is written in one place, where `orders.is_product` refuses a plain string so spelled."""

    __slots__ = ()

    PREFIXES = ("rxnorm:", "strengths:")

    @classmethod
    def of_rxnorm(cls, rxcui: str) -> IdentifiedDrug:
        """The key of an RxNorm clinical drug."""
        return cls(f"{cls.PREFIXES[0]}{rxcui}")

    @classmethod
    def of_strengths(cls, dose_form: str | None, strengths: Iterable[str]) -> IdentifiedDrug:
        """The key of a drug identified by its opioid strengths and dose form ("ingredient:mg/per", sorted)."""
        return cls(f"{cls.PREFIXES[1]}{dose_form}:{','.join(sorted(strengths))}")


@dataclass(frozen=True, slots=True)
class Relayed:
    """An order another server relayed under its own id (`copy`), and the EHR's order it is a copy of (`kept`)."""

    copy: MedOrder
    kept: MedOrder


def relayed_orders(orders: Sequence[MedOrder], drug: Callable[[MedOrder], str | None]) -> tuple[Relayed, ...]:
    """Each non-draft order from another server that is the EHR's order relayed under its own id: it shares an
    identifier (system and value) with exactly one EHR order, names the same recognised drug (`drug`: its key, None
    when not identified) and was written the same day. Anything less is two orders (an over-count, never a loss)."""
    elsewhere = [o for o in orders if o.source and not o.is_draft and o.resource_type == "MedicationRequest"]
    if not elsewhere:  # the usual chart: the EHR's own orders only
        return ()
    ours = [o for o in orders if o.source is None and not o.is_draft and o.resource_type == "MedicationRequest"]
    return tuple(
        Relayed(copy, kept)
        for copy, kept in one_numbered(elsewhere, ours, lambda order: order.identifiers)
        if (key := drug(copy)) is not None
        and key == drug(kept)
        and copy.authored_on is not None
        and kept.authored_on is not None
        and copy.authored_on.date() == kept.authored_on.date()
    )


Item = TypeVar("Item", MedOrder, Dispense)


def one_numbered(
    elsewhere: Sequence[Item], ours: Sequence[Item], numbers: Callable[[Item], Iterable[tuple[str, str]]]
) -> Iterator[tuple[Item, Item]]:
    """Each of another server's orders or fills (`elsewhere`) with the one EHR order or fill (`ours`) that shares one
    of its `numbers` (system and value, as another server relays them); none when no EHR one, or more than one,
    carries its numbers: which one it copies is not known. The one rule for relayed orders and relayed fills. Only a
    number with a system and a value names one order or fill for sure (a bare value is any list's)."""
    by_number: dict[tuple[str, str], list[Item]] = {}
    for item in ours:
        for pair in numbers(item):
            if pair[0]:
                by_number.setdefault(pair, []).append(item)
    for copy in elsewhere:
        carriers = [by_number[pair] for pair in numbers(copy) if pair in by_number]
        named = {id(item): item for owners in carriers for item in owners}
        if len(named) == 1 and all(len(owners) == 1 for owners in carriers):
            yield copy, next(iter(named.values()))


def unchanged_orders(unchanged: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs of `PatientRecord.relayed_unchanged` (`relayed_unchanged`) whose EHR resource is an order."""
    return [pair for pair in unchanged if _ehr_kind(pair) in ORDER_TYPES]


def unchanged_fills(unchanged: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pairs of `PatientRecord.relayed_unchanged` (`relayed_unchanged`) whose EHR resource is a pharmacy fill."""
    return [pair for pair in unchanged if _ehr_kind(pair) == "MedicationDispense"]


def _ehr_kind(pair: tuple[str, str]) -> str:
    """The type of the EHR's resource in a (copy, EHR's) pair of `relayed_unchanged`: its located id is the EHR's own,
    always `Type/id` (`located_id` of a resource not marked with SOURCE), so the type is what precedes the first /."""
    return pair[1].partition("/")[0]


def relayed_names(
    relayed: Sequence[Relayed], unchanged: Sequence[tuple[str, str]]
) -> tuple[tuple[str | None, str | None], ...]:
    """Every copy of an EHR order another server relayed, as (the copy's located id, the EHR order's): those under
    the same id, unchanged, dropped when the record was pooled (`relayed_unchanged`; `PatientRecord.relayed_unchanged`),
    then those under an id of its own (`relayed_orders`). What the card and the page name, and what fills and renewals
    naming a copy are renamed by."""
    orders = unchanged_orders(unchanged)  # a fill's are named with the fills (`unchanged_fills`)
    return (*orders, *((r.copy.located, r.kept.located) for r in relayed))


def without_relayed(
    orders: Sequence[MedOrder],
    fills: Sequence[Dispense],
    relayed: Sequence[Relayed],
    names: Sequence[tuple[str | None, str | None]],
) -> tuple[tuple[MedOrder, ...], tuple[Dispense, ...]]:
    """The orders without the copies relayed under their own ids (`relayed`), and renewals and fills naming any copy
    (`names`, `relayed_names`) naming its kept order instead: the HIE's fill of its copy is the EHR order's fill (left
    naming the copy, it had no order and added its own)."""
    to_kept = {copy: kept for copy, kept in names if copy and kept}
    dropped = {id(r.copy) for r in relayed}
    return prescriptions_renamed([o for o in orders if id(o) not in dropped], fills, to_kept)


def prescriptions_renamed(
    orders: Sequence[MedOrder], fills: Sequence[Dispense], names: Mapping[str, str]
) -> tuple[tuple[MedOrder, ...], tuple[Dispense, ...]]:
    """The orders and fills with each renewal's priorPrescription and each fill's authorizingPrescription that is a
    key of `names` naming the order by its value instead (one order known by two names: a Bundle fullUrl and its
    located id, an HIE's copy and the EHR's order); the rest as they are."""
    renamed_orders = tuple(
        replace(o, prior_prescription=names[o.prior_prescription])
        if o.prior_prescription is not None and o.prior_prescription in names
        else o
        for o in orders
    )
    renamed_fills = tuple(
        replace(f, authorizing_prescriptions=tuple(names.get(ref, ref) for ref in f.authorizing_prescriptions))
        if any(ref in names for ref in f.authorizing_prescriptions)
        else f
        for f in fills
    )
    return renamed_orders, renamed_fills
