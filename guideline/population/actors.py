"""Who a reference in a payer's or an EHR's export names, as `Type/id`: by reference, or by identifier alone."""

from __future__ import annotations

import re
from collections.abc import Mapping

from guideline.fhirdata import local_reference
from guideline.identifiers import by_identifier, named_kind
from guideline.population.model import Directory

_UNSAFE_IN_ID = re.compile(r"[^A-Za-z0-9.\-]+")  # an identifier's system and number, made fit for an id


def resolve_actor(reference: str | None, directory: Directory) -> str | None:
    """`Type/id` of a reference. One by identifier alone (claims name prescribers, pharmacies and PCPs by NPI or
    NCPDP number) is the export's resource with that identifier, else a stable `Type/npi-<number>` of its own when
    the reference states its type (an NCPDP number is always a pharmacy), else None: an unknown NPI of no stated
    type could be a prescriber or a pharmacy."""
    identified = by_identifier_in(reference, directory)
    if identified is None:
        return local_reference(reference)
    (kind, key), found = identified
    if found is not None:
        return found
    kind = named_kind(kind, key)
    return f"{kind}/{_UNSAFE_IN_ID.sub('-', key)}" if kind else None


def by_identifier_in(reference: str | None, directory: Directory) -> tuple[tuple[str, str], str | None] | None:
    """A reference by identifier alone as (its kind and key, `identifiers.by_identifier`) and the export's resource
    with that identifier (`Type/id`, None when the directory holds none); None when it is no such reference."""
    named = by_identifier(reference) if reference else None
    return None if named is None else (named, directory.by_identifier.get(named[1]))


# How a clinician, a pharmacy or a practice the export's directory does not hold is named to a reader: the export's
# ids are its own (a payer's "drC2", the `npi-…` made up above), which no reader can look up. An id of the form
# `resolve_actor` makes (`npi-1902000012`) is read back as its number.
_NUMBER_NAMES = {"npi": "NPI", "ncpdp": "NCPDP number", "tin": "TIN"}


def clinician_name(reference: str | None, directory: Directory, displays: Mapping[str, str] | None = None) -> str:
    """How a reader is told who a clinician is: their name in the directory ("Dr. Jane Q. Smith, MD"), else the
    name a fill or claim shows for them (`displays`: "Jane Roe, NP" on a claim's care team), a role's clinician or
    organisation, else plainly what is known ("a clinician with NPI 1902000012 not in our directory"); "unknown"
    when no clinician is named. Never the export's own id."""
    if not reference:
        return "unknown"
    kind, _, ident = reference.partition("/")
    if reference not in directory.names and displays and reference in displays:
        return displays[reference]
    if kind == "PractitionerRole":
        practitioner, organisation = directory.roles.get(ident, (None, None))
        if practitioner and f"Practitioner/{practitioner}" in directory.names:
            return directory.names[f"Practitioner/{practitioner}"]
        place = directory.names.get(f"Organization/{organisation}") if organisation else None
        return f"a clinician of {place} not in our directory" if place else "a clinician not in our directory"
    return directory.names.get(reference) or _not_in_directory("a clinician", ident)


def pharmacy_name(reference: str | None, directory: Directory, displays: Mapping[str, str] | None = None) -> str:
    """How a reader is told which pharmacy filled a prescription: its name in the directory ("Main Street
    Pharmacy"), else the name a fill or claim shows for it (`displays`), else plainly what is known ("a pharmacy
    with NPI 1902000012 not in our directory"); "unknown" when the fill names none. Never the export's own id."""
    if not reference:
        return "unknown"
    shown = (displays or {}).get(reference)
    return directory.names.get(reference) or shown or _not_in_directory("a pharmacy", reference.partition("/")[2])


def practice_name(reference: str, directory: Directory) -> str:
    """How a reader is told which practice a letter is to: its name in the directory ("Fair Haven Community Health
    Center"), else plainly what is known, as for a clinician ("a practice with NPI 1902000046 not in our directory",
    "… with TIN 061234567 …"), else its id: the letter is the practice's own, and with no name and no number only the
    export's id tells the programme which practice to send it to ("a practice not in our directory (id orgGone)")."""
    ident = reference.partition("/")[2]
    return directory.names.get(reference) or _not_in_directory("a practice", ident, with_id=True)


def _not_in_directory(who: str, ident: str, with_id: bool = False) -> str:
    """`who` with the number `resolve_actor` made its id from (`npi-1902000012`), if it made it; else with the
    export's id when `with_id`."""
    system, _, number = ident.partition("-")
    if system in _NUMBER_NAMES and number.isdigit():
        return f"{who} with {_NUMBER_NAMES[system]} {number} not in our directory"
    return f"{who} not in our directory" + (f" (id {ident})" if with_id else "")
