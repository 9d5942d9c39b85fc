"""Who a reference in a payer's or an EHR's export names, as `Type/id`: by reference, or by identifier alone."""

from __future__ import annotations

import re

from guideline.fhirdata import local_reference
from guideline.identifiers import by_identifier, named_kind
from guideline.population.model import Directory

_UNSAFE_IN_ID = re.compile(r"[^A-Za-z0-9.\-]+")  # an identifier's system and number, made fit for an id


def resolve_actor(reference: str | None, directory: Directory) -> str | None:
    """`Type/id` of a reference. One by identifier alone (claims name prescribers, pharmacies and PCPs by NPI or
    NCPDP number) is the export's resource with that identifier, else a stable `Type/npi-<number>` of its own when
    the reference states its type (an NCPDP number is always a pharmacy), else None: an unknown NPI of no stated
    type could be a prescriber or a pharmacy."""
    named = by_identifier(reference) if reference else None
    if named is None:
        return local_reference(reference)
    kind, key = named
    found = directory.by_identifier.get(key)
    if found is not None:
        return found
    kind = named_kind(kind, key)
    return f"{kind}/{_UNSAFE_IN_ID.sub('-', key)}" if kind else None
