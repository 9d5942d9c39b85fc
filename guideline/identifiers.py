"""References by identifier alone: claims name prescribers and pharmacies by NPI or NCPDP number, not by resource."""

from __future__ import annotations

from typing import Any

from guideline.fhirdata import is_absolute_url, local_reference, reference, text

NPI_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/us-npi", "urn:oid:2.16.840.1.113883.4.6"})
NCPDP_SYSTEMS = frozenset(
    {
        "http://terminology.hl7.org/NamingSystem/NCPDPProviderIdentificationNumber",
        "http://terminology.hl7.org/CodeSystem/NCPDPProviderIdentificationNumber",
    }
)
# The IRS's number for an employer or a practice (a TIN, or EIN), as CARIN Blue Button names a provider organisation's.
TIN_SYSTEMS = frozenset({"urn:oid:2.16.840.1.113883.4.4"})
MARK = "?identifier="  # a conditional reference, as FHIR writes one: "Practitioner?identifier=<system>|<value>"


def actor_reference(value: Any) -> str | None:
    """A Reference's `reference`, else its identifier as a conditional reference (its `type`, when given, first)."""
    found = reference(value)
    if found is not None or type(value) is not dict:
        return found
    identifier = value.get("identifier")
    if type(identifier) is not dict:
        return None
    number = text(identifier.get("value"))
    if not number or not number.strip():
        return None
    return f"{text(value.get('type')) or ''}{MARK}{text(identifier.get('system')) or ''}|{number.strip()}"


def identifier_key(system: str | None, value: str) -> str:
    """One spelling per identifier: "npi|1234567893", "ncpdp|0123456", "tin|061234567", or "<system>|<value>"."""
    plain = (system or "").strip().rstrip("/")
    number = value.strip()
    if plain in NPI_SYSTEMS:
        plain = "npi"
    elif plain in NCPDP_SYSTEMS:
        plain = "ncpdp"
    elif plain in TIN_SYSTEMS:
        plain = "tin"
        # A tax id is written with its hyphen or without ("06-1234567", "061234567"): one number either way.
        digits = number.replace("-", "")
        number = digits if digits.isdigit() else number
    return f"{plain}|{number}"


def actor_key(ref: str) -> str:
    """What two references to one actor share: `Type/id` (guideline.clinical.local_reference) or, by identifier,
    the identifier's one spelling (the type too when no system says whose number it is)."""
    named = by_identifier(ref)
    if named is None:
        # Another server's actor, whole, as the reader located it (`pool.located_reference`): its dr1 is not the
        # EHR's dr1. The EHR's own absolute references were read as `Type/id`.
        return ref if is_absolute_url(ref) else local_reference(ref) or ref
    kind, key = named
    # An NPI names one actor whether a reference states "Practitioner", "PractitionerRole" or no type: typed on an
    # order and not on a claim, one prescriber was read as two, and the claim's fill added to its own order.
    return "?" + key if not key.startswith("|") else "?".join(named)


def comparable(first: str, second: str) -> bool:
    """Whether two actor references can tell one actor from another: both by identifier (an NPI names one person on
    every server), or both by reference on one server (the EHR's relative ones, or another server's absolute ones on
    one base). One by reference and one by identifier, or references on two servers (the EHR's `Practitioner/dr1`
    and an HIE's), may name one person as well as two: no evidence either way."""
    return (MARK in first) == (MARK in second) and not on_two_servers(first, second)


def on_two_servers(first: str, second: str) -> bool:
    """Whether two actor references are references on two servers (the EHR's relative one and an HIE's absolute one,
    as the reader located them): never evidence of one actor, and never of two."""
    return MARK not in first and MARK not in second and _server_of(first) != _server_of(second)


def _server_of(ref: str) -> str | None:
    """The base an absolute reference (another server's, as the reader located it) is on; None for a relative one."""
    return ref.rsplit("/", 2)[0] if is_absolute_url(ref) else None


def by_identifier(ref: str) -> tuple[str, str] | None:
    """(the resource type it names, or "", and its `identifier_key`) for a conditional reference; None otherwise."""
    kind, mark, rest = ref.partition(MARK)
    if not mark:
        return None
    system, _, number = rest.rpartition("|")
    return kind, identifier_key(system, number)


def actor_kind(ref: str) -> str:
    """The type an actor reference names: the `Type` of `Type/id` (relative or absolute), or a reference by
    identifier's (`named_kind`), "" when it states none."""
    named = by_identifier(ref)
    if named is None:
        return (local_reference(ref) or ref).partition("/")[0]
    return named_kind(*named)


def named_kind(kind: str, key: str) -> str:
    """The type a reference by identifier names (`by_identifier`): its stated type, else "Organization" for an NCPDP
    number (always a pharmacy), else "" (an NPI of no stated type may be a prescriber or a pharmacy)."""
    return "Organization" if not kind and key.startswith("ncpdp|") else kind
