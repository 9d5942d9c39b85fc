"""Lenient readers for FHIR JSON fields: never raise on a wrong shape, return None or empty instead."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Protocol, TypeVar, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import orjson

from guideline.commas import commas_read

_Reading = TypeVar("_Reading")
# What a remembering reader gives back: only ever returned, so a reader of a subtype serves where one of its base does.
_Read_co = TypeVar("_Read_co", covariant=True)

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NDC = "http://hl7.org/fhir/sid/ndc"
UCUM = "http://unitsofmeasure.org"
MEDREQ_CATEGORY = "http://terminology.hl7.org/CodeSystem/medicationrequest-category"
# STU3's code system for the same codes (inpatient, outpatient, community, discharge).
MEDREQ_CATEGORY_STU3 = "http://hl7.org/fhir/medication-request-category"
MEDREQ_CATEGORY_SYSTEMS = frozenset({MEDREQ_CATEGORY, MEDREQ_CATEGORY_STU3})
# Procedure billing codes under their FHIR names (HL7 Terminology): CPT, and HCPCS level II. Every other name a
# sender gives them (an OID, https, CMS Blue Button's own HCPCS system) is read as these (see _SYSTEM_ALIASES).
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
# UB-04 revenue codes (form locator 42), as CARIN Blue Button names them on an institutional claim's line.
REVENUE_CODES = "https://www.nubc.org/CodeSystem/RevenueCodes"
# The name a clinician knows a code's system by, for a code shown with no display.
_SYSTEM_NAMES: Mapping[str, str] = MappingProxyType({HCPCS: "HCPCS", CPT: "CPT", NDC: "NDC", RXNORM: "RxNorm"})
# MedicationStatement's categories (R4, STU3): inpatient, outpatient and community as for orders, and
# patientspecified for what the patient says they take.
MEDSTATEMENT_CATEGORY_SYSTEMS = frozenset(
    {
        "http://terminology.hl7.org/CodeSystem/medication-statement-category",
        "http://hl7.org/fhir/medication-statement-category",
    }
)
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
US_CORE_CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER_STATUS = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
GTS_ABBREVIATION = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
ORDERABLE_DRUG_FORM = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"
OBS_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DISCHARGE_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
EPIC_DOSE_RATE_TYPE = "http://epic.com/CodeSystem/dose-rate-type"
CDC_OVERRIDE_REASONS = "http://fhir.org/guides/cdc/opioid-cds/CodeSystem/opioidcds-overrideReasons"


@dataclass(frozen=True, slots=True)
class Coding:
    """One coding: system, code, display, and whether the user selected it."""

    system: str | None
    code: str | None
    display: str | None = None
    user_selected: bool = False


@dataclass(frozen=True, slots=True)
class Concept:
    """A CodeableConcept: codings plus free text."""

    codings: tuple[Coding, ...] = ()
    text: str | None = None

    def has(self, system: str, code: str) -> bool:
        return any(c.system == system and c.code == code for c in self.codings)

    def codes(self, system: str) -> tuple[str, ...]:
        if len(self.codings) == 1:  # most concepts carry one coding; plan views ask this for every record item
            only = self.codings[0]
            return (only.code,) if only.system == system and only.code else ()
        return tuple([c.code for c in self.codings if c.system == system and c.code])

    def display(self) -> str | None:
        """The concept's text, else the first coding display."""
        if self.text:
            return self.text
        return next((c.display for c in self.codings if c.display), None)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A Quantity with an exact decimal value."""

    value: Decimal | None
    unit: str | None = None
    system: str | None = None
    code: str | None = None


def as_list(value: Any) -> list[Any]:
    """A FHIR array that some senders write as a single object (the sandbox does)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


_EMPTY: Mapping[str, Any] = MappingProxyType({})


def as_dict(value: Any) -> Mapping[str, Any]:
    if type(value) is dict:  # parsed JSON: skip the slower abstract-class check
        return value
    if value is None:
        return _EMPTY
    return value if isinstance(value, Mapping) else _EMPTY


def text(value: Any) -> str | None:
    if type(value) is str or isinstance(value, str):  # parsed JSON: skip the slower subclass check
        return value.strip() or None
    return None


def source_system(source: str | None) -> str | None:
    """The system a `meta.source` names: the URI before any `#` (HAPI FHIR writes the request's id after it, or
    alone, `#a81c2e`, which names no system), without a closing `/`; None when it names none. The one spelling a
    resource's source and a site's `population.own_sources` are compared in."""
    system = (source or "").partition("#")[0].strip().rstrip("/")
    return system or None


def code_text(value: Any) -> str | None:
    """A FHIR code such as a status or an intent, in lower case: the standard writes every one so, and an order
    sent "Active" or a fill sent "Completed" was otherwise no active order and no completed fill."""
    if type(value) is str:  # the usual code, read in place (a call fewer for each of a chart's ~300 codes)
        found = value.strip()
        return found.lower() if found else None
    written = text(value)
    return written.lower() if written is not None else None


def decimal(value: Any) -> Decimal | None:
    """An exact decimal from a JSON number or numeric string (floats go through str, never binary)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, str)):
        try:
            return _decimal_from_text(str(value))
        except ValueError:  # an int too long to print (Python's digit limit): not a dose anyone wrote
            return None
    return None


# No dose, count, duration or strength in a chart reaches 10^12; larger values are corrupt data, and letting them
# through would overflow decimal arithmetic downstream instead of reading as "unknown".
MAX_MAGNITUDE_EXPONENT = 12


@lru_cache(maxsize=4096)
def _decimal_from_text(raw: str) -> Decimal | None:
    # Charts repeat the same few numbers (1 tablet, 30 days), so parsing each spelling once pays. A number sent as
    # text with a comma ("1,5" tablets, "1,000" mcg) is read by the one comma rule names and sigs use; it was none.
    try:
        result = Decimal(commas_read(raw.strip()))  # no comma: the text as it is, at the cost of one test
    except (InvalidOperation, ValueError):
        return None
    if not result.is_finite() or (result and result.adjusted() > MAX_MAGNITUDE_EXPONENT):
        return None
    return result


def integer(value: Any) -> int | None:
    number = decimal(value)
    if number is None or number != number.to_integral_value():
        return None
    return int(number)


# Well-formed JSON puts a string or nothing where FHIR wants a string; those values can be cache keys as they are.
_PLAIN = (str, type(None))


def coding(value: Any) -> Coding | None:
    data = as_dict(value)
    if not data:
        return None
    system, code, display = data.get("system"), data.get("code"), data.get("display")
    selected = data.get("userSelected") is True
    if type(system) in _PLAIN and type(code) in _PLAIN and type(display) in _PLAIN:
        return _plain_coding(system, code, display, selected)
    return _read_coding(system, code, display, selected)


# The code systems as C-CDA conversions, HIE feeds, payers and older servers name them (an OID, a bare name, https, a
# trailing slash, a payer's own system): each is read as its FHIR name, once, where a coding is read, so every check,
# the plan page and the population review compare one name. An RxNorm code under its OID was otherwise an
# unidentified medication, not the oxycodone it is.
_SYSTEM_ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        RXNORM: ("urn:oid:2.16.840.1.113883.6.88", "rxnorm"),
        SNOMED: ("urn:oid:2.16.840.1.113883.6.96", "snomed", "snomed ct", "snomed-ct", "sct"),
        LOINC: ("urn:oid:2.16.840.1.113883.6.1", "loinc"),
        # CMS Blue Button 2.0 (and BCDA, which serves the same claims) bills ICD-10-CM diagnoses, undotted, under the
        # WHO ICD-10 name: read under it, an opioid use disorder or a cancer billed to Medicare was no diagnosis.
        ICD10CM: ("urn:oid:2.16.840.1.113883.6.90", "icd-10-cm", "icd10cm", "http://hl7.org/fhir/sid/icd-10"),
        NDC: ("urn:oid:2.16.840.1.113883.6.69", "ndc"),
        CPT: ("urn:oid:2.16.840.1.113883.6.12", "cpt", "cpt-4", "cpt4"),
        # Blue Button bills every line under a HCPCS system of its own, level I (CPT) and level II alike; HL7's
        # retired "all HCPCS codes" system holds both levels too. A level I code under any of them is read as CPT
        # (_by_hcpcs_level). Read by its name alone, a naltrexone injection (J2315) or a drug test (G0481) a payer
        # sent so was not counted: "no OUD medication in 90 days", "no urine drug test on record".
        HCPCS: (
            "urn:oid:2.16.840.1.113883.6.285",
            "hcpcs",
            "https://bluebutton.cms.gov/resources/codesystem/hcpcs",
            "http://terminology.hl7.org/CodeSystem/HCPCS-all-codes",
            "urn:oid:2.16.840.1.113883.6.14",
        ),
        # CMS Blue Button names a line's revenue code by its own variable (the revenue center code), and C-CDA by OID.
        REVENUE_CODES: ("urn:oid:2.16.840.1.113883.6.301.3", "https://bluebutton.cms.gov/resources/variables/rev_cntr"),
        # The HL7 code systems under their STU3 and DSTU2 names (R4 moved them to terminology.hl7.org), or as HL7 v2
        # tables with the same codes: a result flagged "POS" under STU3's name read as no value, and a condition on
        # the problem list under STU3's category system was hidden from the exclusions.
        OBS_INTERPRETATION: (
            "http://hl7.org/fhir/v2/0078",
            "http://terminology.hl7.org/CodeSystem/v2-0078",
            "http://hl7.org/fhir/v3/ObservationInterpretation",
        ),
        CONDITION_CATEGORY: ("http://hl7.org/fhir/condition-category",),
        CONDITION_CLINICAL: ("http://hl7.org/fhir/condition-clinical",),
        CONDITION_VER_STATUS: ("http://hl7.org/fhir/condition-ver-status",),
        DISCHARGE_DISPOSITION: ("http://hl7.org/fhir/discharge-disposition",),
        GTS_ABBREVIATION: ("http://hl7.org/fhir/v3/GTSAbbreviation",),
        ORDERABLE_DRUG_FORM: ("http://hl7.org/fhir/v3/orderableDrugForm",),
    }
)


def _written_form(system: str) -> str:
    """A system as compared with the aliases: trimmed, lower case, http for https, no trailing slash."""
    plain = system.strip().lower().rstrip("/")
    return "http://" + plain[len("https://") :] if plain.startswith("https://") else plain


_BY_WRITTEN_FORM: Mapping[str, str] = MappingProxyType(
    {_written_form(name): canonical for canonical, aliases in _SYSTEM_ALIASES.items() for name in (canonical, *aliases)}
)
# The FHIR names read as they are (the common case: no further work).
_CANONICAL_SYSTEMS = frozenset(_SYSTEM_ALIASES)
# A HCPCS level I code is a CPT code: five digits, or four and F (category II), T (category III) or U (proprietary
# laboratory analyses). Level II codes are a letter and four digits, and modifiers two characters, so none is taken.
_LEVEL_ONE = re.compile(r"[0-9]{4}[0-9FTU]")
# A HCPCS level II code: a letter and four digits. CPT has none, so one under CPT's name is HCPCS sent mislabelled.
_LEVEL_TWO = re.compile(r"[A-Z][0-9]{4}")


def system_name(system: str | None) -> str | None:
    """ "HCPCS", "CPT", "NDC" or "RxNorm" for a coding read under one of their systems; None for any other."""
    return _SYSTEM_NAMES.get(system) if system is not None else None


def canonical_system(system: str | None) -> str | None:
    """The FHIR name of a code system written another way; any other system as it is."""
    if system is None or system in _CANONICAL_SYSTEMS:
        return system
    return _BY_WRITTEN_FORM.get(_written_form(system), system)


def coding_system(system: str | None, code: str | None) -> str | None:
    """The system a coding is read under: its FHIR name, CPT for a HCPCS level I code, and HCPCS for a level II code
    under CPT's name. The EHR's codings and the codes a site writes in its settings are both read so, and so compare
    whatever spelling either side uses."""
    return _by_hcpcs_level(canonical_system(system), code)


def _by_hcpcs_level(system: str | None, code: str | None) -> str | None:
    """CPT for a HCPCS level I code (Blue Button bills CPT codes under its HCPCS system), HCPCS for a level II code
    under CPT's name (a payer's one procedure-code field, labelled CPT: T2042 read as CPT was no hospice care); the
    system otherwise."""
    if system == HCPCS and code is not None and _LEVEL_ONE.fullmatch(code.upper()):
        return CPT
    if system == CPT and code is not None and _LEVEL_TWO.fullmatch(code.upper()):
        return HCPCS
    return system


def coding_code(system: str | None, code: str | None) -> str | None:
    """The code as compared under its system (read by `coding_system`): a UB-04 revenue code sent without its leading
    zero ("651", as payers and Blue Button send it as often as "0651") as its four digits; any other code as it is."""
    if system == REVENUE_CODES and code is not None and len(code) == 3 and code.isdigit():
        return "0" + code
    return code


def _read_coding(system: Any, code: Any, display: Any, selected: bool) -> Coding:
    """The lenient reader: a numeric code (some EHRs send one) becomes its string form."""
    read = text(code) if not isinstance(code, (int, float)) else str(code)
    read_system = coding_system(text(system), read)
    return Coding(
        system=read_system,
        code=coding_code(read_system, read),
        display=text(display),
        user_selected=selected,
    )


@lru_cache(maxsize=16384)
def _plain_coding(system: str | None, code: str | None, display: str | None, selected: bool) -> Coding:
    # Codings repeat across a chart and across calls; Coding is immutable, so one shared object serves them all.
    return _read_coding(system, code, display, selected)


def _concept(value: Any) -> Concept | None:
    data = as_dict(value)
    if not data:
        return None
    key = _concept_key(data)
    if key is not None:
        return _plain_concept(*key)
    return _read_concept(data)


def _read_concept(data: Mapping[str, Any]) -> Concept:
    """The lenient reader for any shape: single objects for arrays, numbers for strings, bare codings."""
    if "coding" not in data and ("code" in data or "system" in data):
        single = coding(data)
        return Concept((single,) if single else (), text(data.get("display")))
    codings = tuple(c for c in (coding(item) for item in as_list(data.get("coding"))) if c is not None)
    return Concept(codings, text(data.get("text")))


CodingKey = tuple[str | None, str | None, str | None, bool]


def _concept_key(data: Mapping[str, Any]) -> tuple[tuple[CodingKey, ...], str | None] | None:
    """The raw fields of a well-formed CodeableConcept (a list of coding objects of strings, text a string), or
    None when the shape needs the lenient reader."""
    items = data.get("coding")
    label = data.get("text")
    if type(label) not in _PLAIN:
        return None
    if items is None:
        return None if ("code" in data or "system" in data) else ((), label)
    if type(items) is not list:
        return None
    keys: list[CodingKey] = []
    for item in items:
        if type(item) is not dict:
            return None
        if not item:
            continue  # an empty coding object reads as no coding
        system, code, display = item.get("system"), item.get("code"), item.get("display")
        if type(system) not in _PLAIN or type(code) not in _PLAIN or type(display) not in _PLAIN:
            return None
        keys.append((system, code, display, item.get("userSelected") is True))
    return tuple(keys), label


@lru_cache(maxsize=16384)
def _plain_concept(keys: tuple[CodingKey, ...], label: str | None) -> Concept:
    return Concept(tuple(_plain_coding(*key) for key in keys), text(label))


def _concepts(value: Any) -> tuple[Concept, ...]:
    if value is None:
        return ()
    if type(value) is list and len(value) == 1:  # the usual single category: no comprehension frames
        only = concept(value[0])
        return (only,) if only is not None else ()
    found = [concept(item) for item in (value if type(value) is list else as_list(value))]
    return tuple([c for c in found if c is not None])


def _quantity(value: Any) -> Quantity | None:
    data = as_dict(value)
    if not data:
        return None
    number, unit, system, code = data.get("value"), data.get("unit"), data.get("system"), data.get("code")
    if type(number) in _NUMBER_TYPES and type(unit) in _PLAIN and type(system) in _PLAIN and type(code) in _PLAIN:
        # decimal() reads a number through str(), so the string form is a complete cache key for the value.
        return _plain_quantity(str(number) if number is not None else None, unit, system, code)
    return Quantity(value=decimal(number), unit=text(unit), system=text(system), code=text(code))


_NUMBER_TYPES = (int, float, str, type(None))


@lru_cache(maxsize=8192)
def _plain_quantity(number: str | None, unit: str | None, system: str | None, code: str | None) -> Quantity:
    value = _decimal_from_text(number) if number is not None else None
    return Quantity(value=value, unit=text(unit), system=text(system), code=text(code))


def quantity_text(value: Quantity) -> str:
    """A quantity as written, for a clinician to read: its value and unit (or code)."""
    return f"{value.value} {value.unit or value.code or ''}".strip()


def medication_element(resource: Mapping[str, Any]) -> tuple[Any, Any]:
    """medication[x] of an order, statement, dispense or administration, as the record reads it: (the concept, the
    reference) as written. The concept is R4's (STU3's, DSTU2's) medicationCodeableConcept, else, when R4 gives no
    medicationReference, R5's `medication` (a CodeableReference) concept; None when neither is an object with
    content, so the reference names the medicine. The reference is R4's medicationReference, else R5's
    `medication.reference`, given whether or not a concept is."""
    concept = resource.get("medicationCodeableConcept")
    if concept and (type(concept) is dict or as_dict(concept)):  # as_dict's test, the usual dict read in place
        return concept, resource.get("medicationReference")
    named = resource.get("medicationReference")
    if named is None:
        both = resource.get("medication")
        if type(both) is dict:  # R5: asked only when R4 names no reference, so the R4 path costs no lookup more
            concept = both.get("concept")
            return (concept if as_dict(concept) else None), both.get("reference")
    return None, named


def medication_ingredients(medication: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A Medication's ingredient list as the record reads it: R4's, R5's and STU3's `ingredient`, else DSTU2's
    `product.ingredient`."""
    listed = medication.get("ingredient") or as_dict(medication.get("product")).get("ingredient")
    return [as_dict(item) for item in as_list(listed)]


def ingredient_item(ingredient: Mapping[str, Any]) -> tuple[Any, Mapping[str, Any]]:
    """What an ingredient is, as written: (its concept, the Reference naming it). The concept is R4's and STU3's
    itemCodeableConcept, else R5's `item.concept` (a CodeableReference); the Reference is R4's itemReference, DSTU2's
    `item`, or R5's `item.reference`, {} when none is given."""
    named = ingredient.get("itemCodeableConcept")
    if named is not None:
        return named, {}
    item = as_dict(ingredient.get("itemReference") or ingredient.get("item"))
    if "concept" in item or type(item.get("reference")) is dict:  # R5: a Reference's `reference` is text
        return item.get("concept") or None, as_dict(item.get("reference"))
    return None, item


def reference(value: Any) -> str | None:
    """The `reference` string of a Reference, or None."""
    if type(value) is dict:
        ref = value.get("reference")
        if type(ref) is str:  # the usual reference, read in place (a call fewer per reference)
            return ref.strip() or None
        return None if ref is None else text(ref)  # None: a display-only or empty Reference
    return None if value is None else text(as_dict(value).get("reference"))


def local_reference(reference: str | None) -> str | None:
    """`Type/id` of a relative, absolute or versioned reference (`https://ehr/fhir/Condition/1/_history/2`):
    EHRs send all three forms for the same resource."""
    if not reference:
        return None
    parts = unversioned([p for p in reference.split("?", 1)[0].split("/") if p])
    return "/".join(parts[-2:]) if len(parts) >= 2 else reference


# A URL's scheme, as absolute references write it ("https://", "http://"); "urn:uuid:…" is no such URL.
_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_absolute_url(ref: str) -> bool:
    """Whether a reference is an absolute URL (`https://ehr/fhir/Medication/1`), which names its server."""
    return _ABSOLUTE_URL.match(ref) is not None


def _origin_and_path(url: str) -> tuple[tuple[str, str | None, int | None], str, str] | None:
    """(scheme, host, port) with the scheme and host in lower case and a default port as none, the path, and
    what follows the path (?query, #fragment); None for a URL that names no host or a port that is no port."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # "https://ehr:99999/…"
        return None
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return None  # user info in a reference: never taken for the EHR's own server
    scheme = parts.scheme.lower()
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    rest = (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    return (scheme, parts.hostname, port), _without_dot_segments(parts.path), rest


def _without_dot_segments(path: str) -> str:
    """The path as the server resolves it: "." and ".." steps (percent-encoded too) removed, so that
    `/fhir/../admin` or `/fhir/%2e%2e/admin` is judged as the `/admin` it reaches, never as below `/fhir`. An
    encoded slash or a backslash separates steps here too: a gateway may decode it (`/fhir/..%2fadmin`)."""
    steps: list[str] = []
    for step in _ENCODED_DOT.sub(".", _SLASH_LIKE.sub("/", path)).split("/"):
        if step == "..":
            if len(steps) > 1:  # never above the root: steps[0] is the empty step before the leading slash
                steps.pop()
        elif step != ".":
            steps.append(step)
    return "/".join(steps)


_ENCODED_DOT = re.compile("%2e", re.IGNORECASE)
_SLASH_LIKE = re.compile(r"%2f|%5c|\\", re.IGNORECASE)  # %2F, %5C and a backslash


def path_on_server(url: str, server: str) -> str | None:
    """The part of an absolute `url` below the FHIR base `server` (`https://ehr/fhir/Observation/1` on
    `https://ehr/fhir` → `Observation/1`), or None when the URL is on another server. Scheme and host are compared
    in any case, a default port is as none, the base may end in a slash; the base path itself must match exactly.
    The one rule for "the EHR's own server": PainPlan sends the user's token there and nowhere else."""
    within = _within_base(url, server)
    if within is None or not within[0]:
        return None
    return within[0] + within[1]


def on_server(url: str, server: str) -> bool:
    """Whether an absolute `url` is the FHIR base `server` itself or below it (a search's next page, HAPI's
    `https://ehr/fhir?_getpages=…` too), by `path_on_server`'s rule: where the user's token may be sent."""
    return _within_base(url, server) is not None


def _within_base(url: str, server: str) -> tuple[str, str] | None:
    """The path below the base (empty at the base itself) and what follows it, or None for another server."""
    found, base = _origin_and_path(url), _origin_and_path(server)
    if found is None or base is None or found[0] != base[0]:
        return None
    prefix = base[1].rstrip("/") + "/"
    if found[1] in (prefix, prefix[:-1]):
        return "", found[2]
    if not found[1].startswith(prefix):
        return None
    return found[1][len(prefix) :], found[2]


def unversioned(parts: list[str]) -> list[str]:
    """A reference's path steps without its version (`Type/id/_history/3` → `Type/id`): servers that write
    versioned references send them, and a version names the same resource."""
    return parts[:-2] if len(parts) >= 4 and parts[-2] == "_history" else parts


_DATE_PARTS = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_datetime(value: Any, tz: ZoneInfo) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime in `tz`; partial dates start their period.

    A date without a time means 00:00 local time (guideline 1.1); an offset-less time is read as local time.
    """
    if type(value) is not str and (value is None or not isinstance(value, str)):
        return None
    # A chart repeats its dates (same-day orders, labs and visits). Keyed by the text alone, with the zone kept
    # beside the answer: one dict lookup, where a cache keyed by (text, zone) builds, hashes and compares a tuple per
    # date. A process reads in one zone; another zone's answer is simply read again.
    known = _DATETIMES.get(value)
    if known is not None and known[0] is tz:
        return known[1]
    raw = value.strip()
    # A bare date, or a short form fromisoformat reads ("20250304", "2025-W10-1"), else a dateTime or instant: the
    # usual shape of a chart's new dates (about 130 a call), read here with no call frame on the way.
    parsed: Any = _bare_date(raw, tz) if len(raw) <= 10 else _NOT_A_DATE
    if parsed is _NOT_A_DATE:
        try:
            parsed = _datetime_from_text(raw.replace("Z", "+00:00") if "Z" in raw else raw)
        except ValueError:
            parsed = None
        else:
            if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:  # _clinical_year, inline
                parsed = None
            elif parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=tz)
            else:
                parsed = parsed.astimezone(tz)
    if len(_DATETIMES) >= _DATETIME_LIMIT:
        _DATETIMES.clear()  # bounded: after a clear the dates are simply read again
    _DATETIMES[value] = (tz, parsed)
    return parsed


_DATETIMES: dict[str, tuple[ZoneInfo, datetime | None]] = {}
# Bound once: `datetime.fromisoformat` makes (and frees) a bound classmethod on every read of a new date.
_datetime_from_text, _date_from_text = datetime.fromisoformat, date.fromisoformat
_DATETIME_LIMIT = 16384


# A clinical date outside these years is a sentinel ("9999-12-31": no end date, as several EHRs send it) or corrupt,
# and windows and supplies counted from a date near year 1 or 9999 overflow the calendar: it reads as no date.
EARLIEST_YEAR, LATEST_YEAR = 1800, 2200


def evaluation_day_problem(day: date) -> str | None:
    """Why `day` cannot be the evaluation date ("must be a date between 1801 and 2200"), or None when it can."""
    if EARLIEST_YEAR < day.year <= LATEST_YEAR:
        return None
    # The demo charts and every look-back window count back from it; near year 1 or 9999 they cannot.
    return f"must be a date between {EARLIEST_YEAR + 1} and {LATEST_YEAR}"


def _clinical_year(year: int) -> bool:
    return EARLIEST_YEAR <= year <= LATEST_YEAR


_NOT_A_DATE = object()


def _bare_date(raw: str, tz: ZoneInfo) -> datetime | None | object:
    """A date (year, year-month or full date) as the start of its period in `tz`, None for one that names no day
    or an impossible one, or _NOT_A_DATE for text of another shape."""
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        # The usual full date, parsed in C; what fromisoformat refuses (other digits, impossible days) goes on below.
        try:
            full = _date_from_text(raw)
        except ValueError:
            pass
        else:
            if not _clinical_year(full.year):
                return None
            return datetime(full.year, full.month, full.day, 0, 0, 0, 0, tz)  # positional: a keyword costs twice
    match = _DATE_PARTS.match(raw)
    if not match:
        return _NOT_A_DATE
    year, month, day = match.groups()
    if not _clinical_year(int(year)):
        return None
    try:
        day_value = date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return None
    return datetime.combine(day_value, time(0), tzinfo=tz)


def unread_date(value: Any, parsed: datetime | None) -> str | None:
    """A date that was sent but that `parse_datetime` read as none (`parsed`), as written ("2026-13-45"), for naming it;
    None when it was read or not sent. A year outside the clinical years is a sentinel ("9999-12-31": no end date), as
    `parse_datetime` reads it, and is not named."""
    if parsed is not None or value is None or (type(value) is str and not value.strip()):
        return None
    written = value.strip() if type(value) is str else str(value)
    shape = _DATE_PARTS.match(written[:10])
    if shape is not None and not _clinical_year(int(shape.group(1))):
        return None
    return written if len(written) <= _WRITTEN_LIMIT else written[: _WRITTEN_LIMIT - 1] + "…"


# An unread date is named as written up to this length: a date is short, and a long text is no date.
_WRITTEN_LIMIT = 40


def parse_date(value: Any, tz: ZoneInfo) -> date | None:
    parsed = parse_datetime(value, tz)
    return parsed.date() if parsed else None


def a_date(day: str | None) -> str | None:
    """A day (or time) as written when `parse_datetime` reads it as a date; None for one that is no date
    ("2026-13-45", "2026-02-30", an offset past 24 hours), as both faces read it: a claim's, or an EHR's."""
    return day if parse_datetime(day, _ANY_ZONE) is not None else None


# The zone `a_date` parses in, for a reader that does not know the site's (the population review's claims, before
# the record is built): no zone changes whether a text is a date, since the parser checks the year as written before
# it converts, so the record, reading the same day in the configured zone, agrees (a day near midnight is a date in
# every zone).
_ANY_ZONE = ZoneInfo("UTC")


def no_day_written(value: Any) -> str | None:
    """The date as written when it names a month or a year but no day ("2026-05", "2026"), else None."""
    if type(value) is not str or len(value) >= 10:
        return None  # the usual full date or dateTime, told without parsing
    days = written_days(value)
    return value.strip() if days is not None and days[0] != days[1] else None


def last_written_day(value: str) -> date | None:
    """The last day a written date can mean: its own day, or the last of its month ("2026-05") or year ("2026")."""
    days = written_days(value)
    return days[1] if days is not None else None


def last_possible_day(first: date, written: str, today: date | None = None) -> date | None:
    """The last day a date written to the month or the year only can mean ("2026-05": 31 May), never after `today`
    nor before `first` (the day it is read as); None when `written` names no date. Counted from the 1st, a supply
    that may still last looks ended, and a result is judged on a day it may not have been taken."""
    last = last_written_day(written)
    if last is None:
        return None
    return max(first, min(last, today) if today is not None else last)


def written_days(value: Any) -> tuple[date, date] | None:
    """The first and last day a FHIR date or dateTime can mean, as written: its own day (a dateTime's written date,
    whatever its offset), or every day of its month ("2008-01") or year ("2008"), which `parse_datetime` reads as
    the first; None when it names no date. For a rule that must know whether a date names a day."""
    if type(value) is not str:
        return None
    raw = value.strip()
    if len(raw) > 10 and raw[10:11] == "T":
        raw = raw[:10]  # the written date of a dateTime (partial dates carry no time in FHIR)
    match = _DATE_PARTS.match(raw)
    if not match or not _clinical_year(int(match.group(1))):
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    try:
        if day is not None:
            found = date(year, month, day)  # type: ignore[arg-type]
            return found, found
        if month is not None:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])  # type: ignore[arg-type]
    except ValueError:
        return None
    return date(year, 1, 1), date(year, 12, 31)  # type: ignore[arg-type]


def first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def extension_value(element: Any, url: str, value_key: str) -> Any:
    """The `value[x]` of the first extension with this url on an element."""
    for extension in as_list(as_dict(element).get("extension")):
        data = as_dict(extension)
        if data.get("url") == url:
            return data.get(value_key)
    return None


# A hashable image of a JSON value, so whatever was read from it can be cached by content. Every scalar carries
# its type (1, 1.0 and true are different JSON and read differently); floats go through repr so -0.0 stays
# distinct from 0.0. Objects keep their key order: two orders of the same keys just make two cache entries.
Image = Hashable


def json_image(value: Any) -> Image:
    """The image of a parsed-JSON value; raises TypeError for anything json.loads cannot produce."""
    kind = type(value)
    if kind is str:
        return value
    if kind is dict:
        return (dict, tuple([(key, json_image(item)) for key, item in value.items()]))
    if kind is list:
        return (list, tuple([json_image(item) for item in value]))
    if kind is float:
        return (float, repr(value))
    if kind is int or kind is bool or value is None:
        return (kind, value)
    raise TypeError(f"not a JSON value: {kind.__name__}")


def from_image(image: Image) -> Any:
    """The JSON value back from its image (only on a cache miss)."""
    if type(image) is str:
        return image
    # Not a str, so a (type, content) pair: content is the scalar, or the items' or members' images (json_image).
    kind, content = cast("tuple[type, Any]", image)
    if kind is dict:
        return {key: from_image(item) for key, item in content}
    if kind is list:
        return [from_image(item) for item in content]
    if kind is float:
        return float(content)
    return content


# orjson refuses what it would otherwise turn into plain JSON (datetimes, dataclasses, subclasses of str, int, dict
# and list, any other Mapping) instead of converting it, so the bytes below stand for one parsed-JSON value.
_KEY_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS
_dumps = orjson.dumps


def json_key(value: Any) -> bytes | None:
    """The JSON text of a parsed-JSON value as a cache key (several times cheaper than `json_image`), or None
    where the text might not stand for exactly this value: integers beyond 64 bits and lone surrogates (orjson
    refuses them) and any null, since orjson also writes NaN and Infinity as null. Key order is kept, and 1, 1.0
    and true are written differently, as in the image. Parsed JSON holds lists, never tuples."""
    key = json_text(value)
    # find, not `in`: bytes `in` first tries the operand as an integer and raises and clears an error each time.
    return None if key is None or key.find(b"null") >= 0 else key


def json_text(value: Any) -> bytes | None:
    """The JSON text of a parsed-JSON value, or None where orjson refuses it. Unlike `json_key` it may hold null
    (NaN and Infinity write so too): a cache may look it up as it is but must check for null before storing it,
    which spares the search on every hit."""
    try:
        return _dumps(value, None, _KEY_OPTIONS)
    except TypeError:
        return None


class ReadingsByText(Protocol[_Read_co]):
    """A reader that remembers its readings by JSON text (see `readings_by_text`)."""

    def __call__(self, value: Any) -> _Read_co: ...

    clear: Callable[[], None]


def readings_by_text(read: Callable[[Any], _Reading], limit: int, kind: type, empty: Any) -> ReadingsByText[_Reading]:
    """`read`, remembering what it made of each distinct JSON text, for values a chart repeats (concepts,
    quantities, category arrays, inline medications): one C call makes the key and one lookup finds the shared,
    immutable reading. A plain function (not an object with `__call__`): it runs for nearly every element read.

    Bounded: emptied when full, after which values are simply read again. A text holding null is never stored (NaN
    and Infinity write as null too), so a hit needs no search for one; values orjson refuses (integers beyond 64
    bits, lone surrogates) are read without it.

    Only values of `kind` (dict for an element, list for an array) are remembered: None reads as `empty` and any
    other value as `read` makes it, so the reader is this function itself, with no function of its own around it.
    """
    entries: dict[bytes, _Reading] = {}

    def read_by_text(value: Any) -> _Reading:
        if type(value) is not kind:
            return empty if value is None else read(value)  # type: ignore[no-any-return]
        try:
            # json_text, inlined: this runs for nearly every element read. Positional: keywords cost a C call more.
            key = _dumps(value, None, _KEY_OPTIONS)
        except TypeError:
            return read(value)
        found = entries.get(key, _MISSING)
        if found is _MISSING:
            found = read(value)
            if key.find(b"null") < 0:  # find, not `in`: see json_key
                if len(entries) >= limit:
                    entries.clear()
                entries[key] = found
        return found  # type: ignore[return-value]

    read_by_text.clear = entries.clear  # type: ignore[attr-defined]
    return read_by_text  # type: ignore[return-value]


class ZonedReadingsByText(Protocol[_Read_co]):
    """A reader of an element that holds dates, remembering its readings by JSON text (`zoned_readings_by_text`)."""

    def __call__(self, value: Any, tz: ZoneInfo) -> _Read_co: ...

    clear: Callable[[], None]


def zoned_readings_by_text(
    read: Callable[[Any, ZoneInfo], _Reading], limit: int, empty: Any
) -> ZonedReadingsByText[_Reading]:
    """`read(value, tz)` once per distinct content, for the elements holding dates that a chart repeats (an order's
    dosage instructions and dispense request): the immutable reading is shared, which also lets MME and supply
    remember their answers per object. None reads as `empty`. Each reading is kept with the zone it was read in (a
    process reads in one zone; another zone's is simply made again). One call per element: a wrapper, a cache
    function and a key function around it took three calls per element of every order.

    A text holding null (NaN and Infinity write so too) or a value orjson refuses (integers beyond 64 bits, lone
    surrogates) is remembered by its slower `json_image`, which tells them apart; a value that is no parsed JSON (a
    caller's own Mapping) is read as it is. Bounded: emptied when full, after which values are simply read again."""
    entries: dict[bytes, tuple[ZoneInfo, _Reading]] = {}

    @lru_cache(maxsize=limit)
    def by_image(image: Image, tz: ZoneInfo) -> _Reading:
        return read(from_image(image), tz)

    def unkeyed(value: Any, tz: ZoneInfo) -> _Reading:
        try:
            image = json_image(value)
        except TypeError:
            return read(value, tz)
        return by_image(image, tz)

    def read_by_text(value: Any, tz: ZoneInfo) -> _Reading:
        if value is None:
            return empty  # type: ignore[no-any-return]
        try:
            key = _dumps(value, None, _KEY_OPTIONS)  # json_text, inlined (see readings_by_text)
        except TypeError:
            return unkeyed(value, tz)
        # Keyed by the text alone with the zone beside the reading: one lookup, where a key of (text, zone) builds,
        # hashes and compares a tuple each time. A text holding null is never stored, so a hit needs no search.
        found = entries.get(key)
        if found is not None and found[0] is tz:
            return found[1]
        if key.find(b"null") >= 0:  # find, not `in`: see json_key
            return unkeyed(value, tz)
        result = read(value, tz)  # the key stands for exactly this value, so reading it is reading the key
        if len(entries) >= limit:
            entries.clear()
        entries[key] = (tz, result)
        return result

    def clear() -> None:
        entries.clear()
        by_image.cache_clear()

    read_by_text.clear = clear  # type: ignore[attr-defined]
    return read_by_text  # type: ignore[return-value]


_MISSING = object()
# Keyed by the element's JSON text: one C call, where walking the codings (or testing each field's type) for a key
# costs several times more. A chart files its orders and problems under a few categories, so a whole category array
# is remembered by its text too.
concept: ReadingsByText[Concept | None] = readings_by_text(_concept, 16384, dict, None)
concept.__doc__ = "A CodeableConcept; a bare Coding object is accepted as a concept with one coding."
concepts: ReadingsByText[tuple[Concept, ...]] = readings_by_text(_concepts, 16384, list, ())
concepts.__doc__ = "The concepts of a CodeableConcept array (a single object is read as an array of one)."
quantity: ReadingsByText[Quantity | None] = readings_by_text(_quantity, 8192, dict, None)
quantity.__doc__ = "A Quantity (or any quantity-shaped element: SimpleQuantity, Duration, Age)."


def clear_caches() -> None:
    """Forget every cached reading (benchmarks measure the cold cost with this; results never depend on it)."""
    for cached in (_decimal_from_text, _plain_coding, _plain_concept, _plain_quantity):
        cached.cache_clear()
    concept.clear()
    concepts.clear()
    quantity.clear()
    _DATETIMES.clear()
