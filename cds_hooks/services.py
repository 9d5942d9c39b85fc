"""The three CDS services, their prefetch templates (guideline 14.2) and the discovery document."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from guideline.config import GuidelineConfig
from guideline.memo import MISSING, WeakIdentityMemo
from guideline.search_windows import CLAIMS_WINDOW, Window, reader_windows, widest
from guideline.searches import FILLS_PREPARED, PDMP_CODES, RESULTS_ISSUED, SecondDate, site_uds_query
from guideline.terminology import pdmp_search_codes

ALL = ("order-select", "order-sign", "patient-view")
SIGN_VIEW = ("order-sign", "patient-view")
SIGN = ("order-sign",)
PLAN_CODE = "http://loinc.org|80764-4"


@dataclass(frozen=True)
class PrefetchKey:
    key: str
    portable: str
    dated: str
    hooks: tuple[str, ...]
    label: str  # plain words for the data-incomplete card

    @property
    def resource_type(self) -> str:
        """The resource type the key searches or reads ("MedicationStatement")."""
        return self.portable.split("?", 1)[0]


_P = "{{context.patientId}}"
# Each dated variant below writes its fixed window: it is widened to the widest window the site's settings make its
# readers judge (guideline.search_windows), never narrowed, so a site on the defaults is sent these very templates.
PREFETCH: tuple[PrefetchKey, ...] = (
    PrefetchKey("patient", f"Patient/{_P}", f"Patient/{_P}", ALL, "the patient's demographics"),
    PrefetchKey(
        "medsActive",
        f"MedicationRequest?patient={_P}&status=active",
        f"MedicationRequest?patient={_P}&status=active",
        ALL,
        "active medication orders",
    ),
    PrefetchKey(
        "medsRecent",
        f"MedicationRequest?patient={_P}&_sort=-authoredon&_count=200",
        f"MedicationRequest?patient={_P}&authoredon=ge{{{{today() - 395 days}}}}",
        SIGN_VIEW,
        "medication orders of the last 13 months",
    ),
    PrefetchKey(
        "dispenses",
        f"MedicationDispense?patient={_P}&_count=200",
        f"MedicationDispense?patient={_P}&whenhandedover=ge{{{{today() - 395 days}}}}",
        SIGN_VIEW,
        "pharmacy dispensing records",
    ),
    PrefetchKey(
        "udsLabs",
        f"Observation?patient={_P}&category=laboratory&_sort=-date&_count=200",
        f"Observation?patient={_P}&category=laboratory&date=ge{{{{today() - 1 year}}}}",
        SIGN_VIEW,
        "laboratory results (urine drug tests)",
    ),
    PrefetchKey(
        "pdmpObs",
        f"Observation?patient={_P}&code={PDMP_CODES}",
        f"Observation?patient={_P}&code={PDMP_CODES}&date=ge{{{{today() - 90 days}}}}",
        SIGN,
        "documented PDMP reviews",
    ),
    PrefetchKey("conditions", f"Condition?patient={_P}", f"Condition?patient={_P}", ALL, "conditions"),
    PrefetchKey(
        "procedures",
        f"Procedure?patient={_P}&_sort=-date&_count=200",
        f"Procedure?patient={_P}&date=ge{{{{today() - 1 year}}}}",
        SIGN_VIEW,
        "procedures",
    ),
    PrefetchKey(
        "encounters",
        f"Encounter?patient={_P}&_sort=-date&_count=100",
        f"Encounter?patient={_P}&date=ge{{{{today() - 1 year}}}}",
        ALL,
        "encounters",
    ),
    PrefetchKey(
        "serviceRequests",
        f"ServiceRequest?patient={_P}&_sort=-authored&_count=100",
        f"ServiceRequest?patient={_P}&authored=ge{{{{today() - 90 days}}}}",
        SIGN_VIEW,
        "service requests (pending tests and referrals)",
    ),
    PrefetchKey(
        "carePlans",
        f"CarePlan?patient={_P}&category={PLAN_CODE}",
        f"CarePlan?patient={_P}&category={PLAN_CODE}",
        SIGN,
        "pain treatment plans",
    ),
    PrefetchKey(
        "planNotes",
        f"DocumentReference?patient={_P}&type={PLAN_CODE}",
        f"DocumentReference?patient={_P}&type={PLAN_CODE}&date=ge{{{{today() - 90 days}}}}",
        SIGN,
        "treatment plan notes",
    ),
)
# Asked for only when the site turns it on (prefetch.medication_statements): Epic and Oracle Health send home
# medications as MedicationRequests, and a search of a type the server does not serve would fail on every call.
STATEMENTS = PrefetchKey(
    "medStatements",
    f"MedicationStatement?patient={_P}",
    f"MedicationStatement?patient={_P}",  # an open-ended statement began long ago: no date limit
    ALL,
    "medications the patient reports taking",
)
# Asked for only when the site turns it on (prefetch.medication_administrations): a monthly buprenorphine or
# naltrexone injection given in clinic is often recorded only so, but many servers answer no patient search of it
# (some search administrations only by the order they fulfil). The dated variant asks for the windows its readers
# judge: `oud-treatment`'s look-back, and the 12 months of urine drug test results a dose given may explain.
ADMINISTRATIONS = PrefetchKey(
    "medAdministrations",
    f"MedicationAdministration?patient={_P}&_sort=-effective-time&_count=100",
    f"MedicationAdministration?patient={_P}&effective-time=ge{{{{{{window}}}}}}",
    SIGN_VIEW,
    "medicines given in clinic",
)
# Asked for only when the site turns it on (prefetch.diagnostic_reports): a reference lab or an HL7 v2 interface
# often sends a urine drug screen as a report, its results contained or only its conclusion, and unread the patient
# was told "no urine drug test in 12 months". category=LAB, as Epic and Oracle Health search reports; the dated
# variant asks for the months the urine drug test checks read.
REPORTS = PrefetchKey(
    "labReports",
    f"DiagnosticReport?patient={_P}&category=LAB&_sort=-date&_count=100",
    f"DiagnosticReport?patient={_P}&category=LAB&date=ge{{{{{{window}}}}}}&_count=100",
    SIGN_VIEW,
    "laboratory reports (urine drug tests)",
)
# Asked for only when the site turns it on (prefetch.payer_claims): a payer's FHIR server (CARIN Blue Button) holds
# the member's claims, which stand for fills, diagnoses and procedures (hospice care among them) the payer knows of
# and no chart may hold; Epic and Oracle Health serve no ExplanationOfBenefit, so the search would fail on every call.
# `service-date` is CARIN Blue Button's search parameter (billablePeriod, an item's serviced date); the dated variant
# asks for CLAIMS_WINDOW, widened as every reader of what claims stand for is (guideline.search_windows).
PAYER_CLAIMS = PrefetchKey(
    "payerClaims",
    f"ExplanationOfBenefit?patient={_P}&_count=100",
    f"ExplanationOfBenefit?patient={_P}&service-date=ge{{{{{CLAIMS_WINDOW.token}}}}}&_count=100",
    ALL,
    "payer claims (fills, diagnoses and procedures billed)",
)
# The keys a site turns on, each by its `prefetch` setting, in the order the hooks, the discovery document and the
# SMART launch's scopes list them.
TURNED_ON: tuple[tuple[str, PrefetchKey], ...] = (
    ("medication_statements", STATEMENTS),
    ("medication_administrations", ADMINISTRATIONS),
    ("diagnostic_reports", REPORTS),
    ("payer_claims", PAYER_CLAIMS),
)


@dataclass(frozen=True)
class SecondSearch:
    """A prefetch key asking a dated key's search again on another date parameter (guideline.searches.SecondDate);
    the record counts a resource both return once (by type and id)."""

    key: str  # the prefetch key of the second search ("dispensesPrepared")
    first: str  # the key whose dated search it repeats ("dispenses")
    date: SecondDate
    label: str


# Only the dated variants have them: the portable searches ask for every fill and result.
SECOND_SEARCHES: tuple[SecondSearch, ...] = (
    SecondSearch(
        "dispensesPrepared",
        "dispenses",
        FILLS_PREPARED,
        "pharmacy dispensing records dated only by when they were prepared",
    ),
    SecondSearch(
        "udsLabsIssued",
        "udsLabs",
        RESULTS_ISSUED,
        "laboratory results (urine drug tests) dated only by when they were issued",
    ),
)
PREFETCH_LABELS = {
    **{p.key: p.label for p in (*PREFETCH, *(key for _, key in TURNED_ON))},
    **{second.key: second.label for second in SECOND_SEARCHES},
}


@dataclass(frozen=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    resources: tuple[str, ...]


_COMMON = ("Patient", "MedicationRequest", "Medication", "Condition", "Encounter")
SERVICES: dict[str, ServiceDefinition] = {
    "order-sign": ServiceDefinition(
        "order-sign",
        "order-sign",
        "PainPlan opioid safety checks at signing",
        "Checks the opioid and sedative orders being signed against the CDC 2022 opioid prescribing guideline: "
        "total daily MME, opioid with benzodiazepine, naloxone, urine drug testing, PDMP review, "
        "long-acting opioids for opioid-naive patients, acute supply length, reassessment, OUD treatment, "
        "non-opioid options and treatment plans.",
        (
            *_COMMON,
            "MedicationDispense",
            "Observation",
            "Procedure",
            "ServiceRequest",
            "CarePlan",
            "DocumentReference",
        ),
    ),
    "order-select": ServiceDefinition(
        "order-select",
        "order-select",
        "PainPlan opioid dose and sedative check at order selection",
        "As an opioid or sedative is selected, shows the patient's total daily opioid dose (MME) including "
        "the new order, and warns about an opioid combined with a benzodiazepine or other CNS depressant.",
        _COMMON,
    ),
    "patient-view": ServiceDefinition(
        "patient-view",
        "patient-view",
        "PainPlan opioid safety summary",
        "When a chart is opened, flags the patient's standing opioid risks from the CDC 2022 guideline: high total "
        "daily dose (orders and pharmacy fills), naloxone not on hand, opioid with benzodiazepine, missing or "
        "unexpected urine drug tests, overdue benefit/harm review, and opioid use disorder without treatment.",
        (*_COMMON, "MedicationDispense", "Observation", "Procedure", "ServiceRequest"),
    ),
}


# A dated variant's fixed window ("today() - 1 year"); most turned-on keys have none, only `{window}`.
_FIXED_WINDOW = re.compile(r"today\(\) - (\d+) (days|months|years?)")


def _in_window(key: PrefetchKey, windows: Mapping[str, tuple[Window, ...]]) -> PrefetchKey:
    """The key with its dated variant reaching back as far as the widest window its readers judge (`windows`: each
    check's or exclusion's look-back as the site sets it, by key), never less than the variant's fixed window."""
    readers = windows.get(key.key)
    if not readers:
        return key
    if "{window}" in key.dated:
        return replace(key, dated=key.dated.replace("{window}", widest(None, readers).token))
    fixed = _FIXED_WINDOW.search(key.dated)
    if fixed is None:
        return key
    floor = Window(int(fixed.group(1)), fixed.group(2))
    window = widest(floor, readers)
    return key if window is floor else replace(key, dated=key.dated.replace(fixed.group(0), window.token, 1))


def turned_on(config: GuidelineConfig) -> tuple[PrefetchKey, ...]:
    """The keys of the types the site turns on (`prefetch.medication_statements`, `…medication_administrations`,
    `…diagnostic_reports`, `…payer_claims`), whatever the hook."""
    asked = config["prefetch"]
    return tuple(key for setting, key in TURNED_ON if asked.get(setting))


def optional_keys(hook: str, config: GuidelineConfig) -> list[PrefetchKey]:
    """The keys of the types a site turns on that this hook asks for."""
    return [key for key in turned_on(config) if hook in key.hooks]


def prefetch_keys(hook: str, config: GuidelineConfig) -> list[PrefetchKey]:
    keys = [p for p in PREFETCH if hook in p.hooks]
    if not config["checks"]["treatment-plan"].get("accept_document_reference", True):
        keys = [p for p in keys if p.key != "planNotes"]
    return [*keys, *optional_keys(hook, config)]


# The templates by (hook, configuration object): they depend on nothing else, and every hook call asks for them. A
# configuration is immutable and settings read again make a new one, so its identity is an exact key; held weakly
# (WeakIdentityMemo), as every per-configuration memo is, so the old one is freed with its templates.
_BY_CONFIG = WeakIdentityMemo(limit=64)


def templates(hook: str, config: GuidelineConfig) -> Mapping[str, str]:
    """Key → template for one hook: portable by default, the dated variants with `prefetch.dated`. Worked out once per
    hook and configuration (about 0.4 % of a call when worked out on each), so read-only: every call shares it."""
    found = _BY_CONFIG.get(hook, config)
    if found is MISSING:
        found = MappingProxyType(_templates(hook, config))
        _BY_CONFIG.put(hook, config, answer=found)
    return found  # type: ignore[return-value]


def _templates(hook: str, config: GuidelineConfig) -> dict[str, str]:
    """`templates`, worked out."""
    keys = prefetch_keys(hook, config)
    if config["prefetch"].get("dated"):
        windows = reader_windows(config)  # built once, not once per key
        result = with_second_searches({p.key: _in_window(p, windows).dated for p in keys})
    else:
        result = {p.key: p.portable for p in keys}
    uds_query = site_uds_query(config)  # the plan page runs the same searches (guideline.searches)
    if uds_query and "udsLabs" in result:
        result = with_site_uds_query(result, uds_query)
    codes = pdmp_search_codes(config)  # the plan page asks with the same list
    if codes != PDMP_CODES and "pdmpObs" in result:
        result["pdmpObs"] = result["pdmpObs"].replace(f"code={PDMP_CODES}", f"code={codes}", 1)
    return result


def with_site_uds_query(result: dict[str, str], uds_query: str) -> dict[str, str]:
    """The templates with the site's urine drug test search in place of the laboratory search, followed by its own
    second search when it is bounded by `date` (RESULTS_ISSUED): bounded so alone, it missed every result a lab files
    with only `issued`, which the engine dates by. Portable or dated, as the site's search is dated either way."""
    second = RESULTS_ISSUED.of(uds_query)
    ordered: dict[str, str] = {}
    for key, template in result.items():
        if key == "udsLabsIssued":
            continue
        ordered[key] = uds_query if key == "udsLabs" else template
        if key == "udsLabs" and second is not None:
            ordered["udsLabsIssued"] = second
    return ordered


def with_second_searches(result: dict[str, str]) -> dict[str, str]:
    """The dated templates with each search in SECOND_SEARCHES followed by its second search, on the window the
    site's settings made the first's. A site's own urine drug test search (`prefetch.uds_query`) replaces both lab
    searches after, with its own second search (with_site_uds_query), as the plan page runs it."""
    seconds = {second.first: second for second in SECOND_SEARCHES}
    ordered: dict[str, str] = {}
    for key, template in result.items():
        ordered[key] = template
        second = seconds.get(key)
        if second is not None and (again := second.date.of(template)) is not None:
            ordered[second.key] = again
    return ordered


def usage_requirements(service: ServiceDefinition, config: GuidelineConfig, auth_required: bool = True) -> str:
    extra = tuple(key.resource_type for key in optional_keys(service.hook, config))
    reads = ", ".join((*service.resources, *extra))
    return (
        "Send the prefetch below, or fhirServer with fhirAuthorization granting read access (patient/ or user/ "
        f"scopes) to: {reads}. Medication resources an order names by reference (R4 medicationReference, R5 "
        "medication.reference) are read from fhirServer. "
        # What this instance enforces: a sandbox run with auth off must not tell integrators it checks a JWT.
        + (
            "Requests must carry a signed JWT from a trusted CDS client."
            if auth_required
            else "This instance runs without authentication (auth off): it checks no JWT, for testing only."
        )
    )


def discovery(config: GuidelineConfig, auth_required: bool = True) -> dict[str, Any]:
    return {
        "services": [
            {
                "hook": service.hook,
                "id": service.id,
                "title": service.title,
                "description": service.description,
                "prefetch": dict(templates(service.hook, config)),  # a JSON object
                "usageRequirements": usage_requirements(service, config, auth_required),
            }
            for service in SERVICES.values()
        ]
    }
