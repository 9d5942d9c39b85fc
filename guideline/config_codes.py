"""The codes a site writes in its settings: the PDMP review codes, the codes the exclusions add and remove, the
suggested orderables. Each is read once, when the settings load, two ways: its system under the name the EHR's
codings are read under (fhirdata.coding_system), so that a configured code matches EHR data whatever known spelling
either side uses (an OID, https, another case, a trailing slash); and as the site wrote it, for what PainPlan sends
to the EHR (a search, a suggested order): the spelling the site wrote is the one its EHR knows."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from guideline.fhirdata import coding_code, coding_system

# Settings that are one coding (a table with system and code), and the key of each list of "system|code" strings
# outside the exclusions (whose add_codes and remove_codes are found in their tables).
CODING_KEYS: tuple[tuple[str, str], ...] = (("suggestions", "uds_code"), ("suggestions", "naloxone_medication"))
CODE_LIST_KEYS: tuple[tuple[str, str], ...] = (("pdmp", "review_codes"),)
EXCLUSION_CODE_LISTS: tuple[str, ...] = ("add_codes", "remove_codes")
EXAMPLE = "http://hl7.org/fhir/sid/icd-10-cm|D57.1"

# Lists of RxNorm codes that extend PainPlan's medication sets (digits, written as text or as a number).
RXNORM_CODE_LISTS: tuple[tuple[str, str], ...] = (
    ("cns", "extra_codes"),
    ("naloxone", "extra_rescue_codes"),
    ("oud", "extra_moud_codes"),
)

_URN_OID = "urn:oid:"
# An OID: numbers joined by dots, the first 0, 1 or 2, none with a leading zero.
_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")
# An http(s) URL with a host, or any URN (Epic names its preference lists "urn:com.epic.cdshooks…", no second colon).
_URL = re.compile(r"https?://[^/?#\s|]+[^\s|]*", re.IGNORECASE)
_URN = re.compile(r"urn:[^\s|]+", re.IGNORECASE)
_NOT_A_SYSTEM = "is not a URI (http://..., https://... or urn:...) or an OID"


@dataclass(frozen=True, slots=True)
class SiteCode:
    """A code from the settings: `system` as the EHR's codings are read (to match), `written` as the site wrote it,
    a bare OID made a URN (to send)."""

    system: str
    code: str
    written: str

    @property
    def key(self) -> tuple[str, str]:
        """(system, code) as a coding read from the EHR compares."""
        return (self.system, self.code)

    @property
    def token(self) -> str:
        """The code as a FHIR token search asks for it, in the site's spelling."""
        return f"{self.written}|{self.code}"


@dataclass(frozen=True)
class SiteCodes:
    """Every code the settings name, by the setting's key ("pdmp.review_codes", "suggestions.uds_code")."""

    lists: Mapping[str, tuple[SiteCode, ...]] = field(default_factory=dict)
    codings: Mapping[str, SiteCode] = field(default_factory=dict)
    # The coding tables as PainPlan sends them in a suggested order: the site's own, system and code as read.
    sent: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def listed(self, key: str) -> tuple[SiteCode, ...]:
        """The codes of one list setting (none when it is empty)."""
        return self.lists.get(key, ())

    def coding(self, key: str) -> SiteCode:
        """The code of one coding setting."""
        return self.codings[key]

    def sent_coding(self, key: str) -> dict[str, Any]:
        """A coding setting as a FHIR coding to send: the site's table, its system a URI and its code trimmed."""
        return dict(self.sent[key])


def written_system(system: str) -> str | None:
    """The system as a URI, trimmed, a bare OID given its urn:oid: prefix; None when it is neither a URI nor an OID."""
    plain = system.strip()
    if _OID.fullmatch(plain):
        return _URN_OID + plain
    if plain.lower().startswith(_URN_OID):
        return plain if _OID.fullmatch(plain[len(_URN_OID) :]) else None
    return plain if _URL.fullmatch(plain) or _URN.fullmatch(plain) else None


def _read(written: str, code: str) -> SiteCode:
    """A code under a system already made a URI by `written_system`: matched as the EHR's codings are read."""
    trimmed = code.strip()
    system = coding_system(written, trimmed) or written
    return SiteCode(system, coding_code(system, trimmed) or trimmed, written)


def _read_entry(key: str, value: Any) -> SiteCode | str:
    """One "system|code" string read, or the message naming the key and what is wrong."""
    if not isinstance(value, str) or "|" not in value:
        return f'{key}: {value!r} is not a "system|code" string such as "{EXAMPLE}"'
    system, _, code = value.partition("|")
    written = written_system(system)
    if written is None:
        return f"{key}: {value!r}: the code system {system.strip()!r} {_NOT_A_SYSTEM}"
    if not code.strip():
        return f'{key}: {value!r} has no code after the "|"'
    return _read(written, code)


def _read_coding(key: str, value: Any) -> SiteCode | str:
    """One coding table read (its system and code present, as text: checked before), or what is wrong with it."""
    system, code = value.get("system"), value.get("code")
    written = written_system(system) if isinstance(system, str) else None
    if written is None:
        return f"{key}.system: {system!r} {_NOT_A_SYSTEM}"
    if not isinstance(code, str) or not code.strip():
        return f"{key}.code must not be empty"
    return _read(written, code)


def _code_lists(merged: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(key, value) of every list of "system|code" strings in the settings."""
    for section, name in CODE_LIST_KEYS:
        yield f"{section}.{name}", merged[section][name]
    for exclusion, table in merged["exclusions"].items():
        for name in EXCLUSION_CODE_LISTS:
            if isinstance(table, Mapping) and name in table:
                yield f"exclusions.{exclusion}.{name}", table[name]


def read_site_codes(merged: Mapping[str, Any]) -> tuple[SiteCodes, list[str]]:
    """Every configured code read, and a message for each one that cannot be (each naming its key)."""
    errors: list[str] = []
    lists: dict[str, tuple[SiteCode, ...]] = {}
    for key, values in _code_lists(merged):
        if not isinstance(values, list):
            errors.append(f'{key} must be a list of "system|code" strings')
            continue
        read = [_read_entry(key, value) for value in values]
        errors.extend(entry for entry in read if isinstance(entry, str))
        lists[key] = tuple(entry for entry in read if isinstance(entry, SiteCode))
    codings: dict[str, SiteCode] = {}
    sent: dict[str, Mapping[str, Any]] = {}
    for section, name in CODING_KEYS:
        key, table = f"{section}.{name}", merged[section][name]
        coded = _read_coding(key, table) if isinstance(table, Mapping) else f"{key} must be a coding"
        if isinstance(coded, str):
            errors.append(coded)
            continue
        codings[key] = coded
        sent[key] = {**table, "system": coded.written, "code": coded.code}
    # Plain dicts, never changed after this: the population review sends the settings to its worker processes.
    return SiteCodes(lists, codings, sent), errors


def rxnorm_code(value: Any) -> str | None:
    """An RxNorm code from the settings as text (digits), or None when the value is none."""
    code = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return code if code.isdigit() else None


def rxnorm_list_errors(merged: Mapping[str, Any]) -> list[str]:
    """A message for each entry of an RxNorm code list that is no RxNorm code (a list of another type is named by
    the type rule)."""
    errors: list[str] = []
    for section, name in RXNORM_CODE_LISTS:
        values = merged[section][name]
        if isinstance(values, list):
            errors.extend(
                f"{section}.{name}: {value!r} is not an RxNorm code (digits only)"
                for value in values
                if rxnorm_code(value) is None
            )
    return errors
