"""Clinical configuration (guideline.md section 12): defaults, TOML-shaped overrides, validation."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from guideline.cards import ADDRESSING
from guideline.config_codes import SiteCodes, read_site_codes
from guideline.config_rules import consistency_errors, type_and_range_errors
from guideline.fhirdata import source_system

CHECK_IDS: tuple[str, ...] = (
    "high-mme",
    "opioid-benzodiazepine",
    "urine-drug-test",
    "unexpected-uds-result",
    "naloxone",
    "er-la-opioid-naive",
    "acute-duration",
    "reassessment-due",
    "pdmp-review",
    "oud-treatment",
    "nonopioid-first",
    "treatment-plan",
    "unidentified-medication",
)

HOOKS: tuple[str, ...] = ("order-select", "order-sign", "patient-view")

EXCLUSION_NAMES: tuple[str, ...] = (
    "age_under_18",
    "sickle_cell",
    "active_cancer",
    "terminal_condition",
    "hospice_palliative",
)

CDC_2022 = "https://www.cdc.gov/mmwr/volumes/71/rr/rr7103a1.htm"

# The non-opioid services the plan view looks for (guideline/plan/nonopioid.py SERVICES, same keys).
NONOPIOID_SERVICE_KEYS: tuple[str, ...] = ("pt", "ot", "chiro", "acupuncture", "tens", "naturopathy", "behavioral")
# The optional text of a resources entry (name is required and checked apart).
RESOURCE_TEXT_KEYS: tuple[str, ...] = ("phone", "url", "description", "description_es")

# The defaults, in the same nested shape as the TOML file's [guideline] table. Every key a user may set is here;
# an override naming a key that is not here is a configuration error, so typos never pass silently.
DEFAULTS: dict[str, Any] = {
    "timezone": "America/New_York",
    "canonical_base": "http://painplan.example/fhir",
    "source_label": "PainPlan (CDC 2022 opioid guideline)",
    "source_url": CDC_2022,
    "topic_code_style": "id",
    "ambulatory_categories": ["community", "outpatient", "discharge"],
    "inpatient_categories": ["inpatient"],
    "count_refills_in_supply": True,
    "current_order_default_days": 90,
    "moud_orders_exempt_from": ["nonopioid-first", "treatment-plan", "acute-duration", "reassessment-due"],
    "mme": {
        "profile": "cdc2022",
        "cdc2022_use_datafile_factors": True,
        "cdc2016_use_datafile_factors": False,
        "methadone_tier_basis": "total",
        "apply_max_dose_per_period": True,
        "parse_timing_text": True,
        "ingredient_code_aliases": {},
        # A US schedule II opioid fill may supply at most 90 days: a longer days' supply is likely the quantity keyed
        # in as the days (#180, 180 days), which reads the daily dose far too low; such fills are named.
        "max_opioid_fill_days": 90,
    },
    "opioid_set": {"include_legacy_codes": True},
    "cns": {"include_barbiturates": True, "extra_codes": []},
    "naloxone": {"extra_rescue_codes": []},
    # NDC → RxNorm product code, for fills and orders sent with an NDC and no name (claims): the site's crosswalk.
    "ndc": {"rxnorm": {}},
    "oud": {
        "extra_moud_codes": [],
        "count_poisoning_as_oud": False,
        "referral_resources": [
            {"label": "FindTreatment.gov", "url": "https://findtreatment.gov/"},
            {"label": "CT Behavioral Health Partnership (HUSKY)", "url": "https://www.ctbhp.com/"},
        ],
    },
    "condition": {"extra_categories": []},
    "exclusions": {
        "age_under_18": {"enabled": True},
        "sickle_cell": {"enabled": True, "require_active": False, "add_codes": [], "remove_codes": []},
        "active_cancer": {"enabled": True, "add_codes": [], "remove_codes": []},
        "terminal_condition": {"enabled": True, "add_codes": [], "remove_codes": []},
        "hospice_palliative": {
            "enabled": True,
            "encounter_months": 12,
            "procedure_days": 90,
            "servicerequest_days": 90,
            "include_z51_5": True,
            "include_hospice_finding": False,
        },
    },
    "checks": {
        "high-mme": {
            "hooks": ["order-select", "order-sign", "patient-view"],
            "warning_mme": 50,
            "critical_mme": 90,
            "include_acute": True,
            "unknown_card": True,
        },
        "opioid-benzodiazepine": {
            "hooks": ["order-select", "order-sign", "patient-view"],
            "indicator": "warning",
            "cns_enabled": True,
            "cns_indicator": "warning",
            "moud_variant": True,
            "patient_view_apply_general_exclusions": False,
            # A signed prescription starting within this many days (a staggered series' next one) is read as current
            # beside a new order: the patient will take the two together within days.
            "later_start_co_prescribing_days": 30,
        },
        "urine-drug-test": {
            "hooks": ["order-sign", "patient-view"],
            "indicator": "info",
            "lookback_months": 12,
            "pending_order_days": 30,
        },
        "unexpected-uds-result": {
            "hooks": ["order-sign", "patient-view"],
            "indicator": "warning",
            "cannabinoid": False,
            # The opioids a patient takes by prescription: a negative for one whose supply covers the test day is
            # unexpected. Each drug's metabolite results never are (guideline/uds_analytes.py).
            "unexpected_negative_substances": [
                "buprenorphine",
                "fentanyl",
                "methadone",
                "opiate",
                "oxycodone",
                "butorphanol",
                "codeine",
                "dihydrocodeine",
                "hydrocodone",
                "hydromorphone",
                "levorphanol",
                "meperidine",
                "morphine",
                "oxymorphone",
                "pentazocine",
                "tapentadol",
                "tramadol",
            ],
            "max_dates": 6,
            "suggest_repeat": False,
        },
        "naloxone": {
            "hooks": ["order-sign", "patient-view"],
            "indicator": "warning",
            "mme_threshold": 50,
            "possession_months": 12,
        },
        "er-la-opioid-naive": {"hooks": ["order-sign"], "indicator": "warning"},
        "acute-duration": {
            "hooks": ["order-sign"],
            "info_days": 3,
            "warning_days": 7,
            "skip_if_ltot": True,
        },
        "reassessment-due": {
            "hooks": ["order-sign", "patient-view"],
            "indicator": "warning",
            "lookback_days": 91,
            "pending_order_days": 30,
        },
        "pdmp-review": {
            "hooks": ["order-sign"],
            "indicator": "warning",
            "lookback_days": 90,
            "include_benzodiazepines": False,
            "suggest_documentation": False,
        },
        "oud-treatment": {
            "hooks": ["order-sign", "patient-view"],
            "indicator": "warning",
            "apply_general_exclusions": False,
            "lookback_days": 90,
            "order_sign_trigger": "opioid",
            "suggestions": [],
        },
        "nonopioid-first": {
            "hooks": ["order-sign"],
            "indicator": "info",
            "options": [
                "NSAIDs (for example ibuprofen or naproxen) unless contraindicated",
                "Acetaminophen",
                "Topical NSAIDs for musculoskeletal injuries",
                "Dental pain: an NSAID combined with acetaminophen",
                "Kidney stones: an NSAID",
                "Low back pain: heat, staying active and an NSAID",
                "Migraine: a triptan, an NSAID or an antiemetic",
                "Non-drug options: ice or heat, physical therapy, activity modification",
            ],
        },
        "treatment-plan": {
            "hooks": ["order-sign"],
            "indicator": "info",
            "lookback_days": 90,
            "accept_document_reference": True,
        },
        "unidentified-medication": {
            "hooks": ["order-select", "order-sign"],
            "indicator": "info",
            "apply_general_exclusions": False,
        },
    },
    "suggestions": {
        "order_intent": "proposal",
        "uds_code": {
            "system": "http://snomed.info/sct",
            "code": "310627008",
            "display": "Urine drug screening (procedure)",
        },
        "naloxone_medication": {
            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
            "code": "1725059",
            "display": "naloxone hydrochloride 40 MG/ML Nasal Spray",
        },
    },
    "pdmp": {
        "label": "Connecticut CPMRS (PDMP)",
        "url": "https://www.ctpmp.com/",
        "smart_url": "",
        "rule": "Connecticut law requires a CPMRS review before prescribing more than a 72-hour supply of a "
        "controlled substance, and at least every 90 days during continuous treatment.",
        "review_codes": [],
    },
    "smart_app": {"launch_url": "", "send_app_context": True},
    "links": {
        "rec1": CDC_2022 + "#Recommendation1",
        "rec2": CDC_2022 + "#Recommendation2",
        "rec3": CDC_2022 + "#Recommendation3",
        "rec4": CDC_2022 + "#Recommendation4",
        "rec5": CDC_2022 + "#Recommendation5",
        "rec6": CDC_2022 + "#Recommendation6",
        "rec7": CDC_2022 + "#Recommendation7",
        "rec8": CDC_2022 + "#Recommendation8",
        "rec9": CDC_2022 + "#Recommendation9",
        "rec10": CDC_2022 + "#Recommendation10",
        "rec11": CDC_2022 + "#Recommendation11",
        "rec12": CDC_2022 + "#Recommendation12",
        "taper_calculator": "https://www.agencymeddirectors.wa.gov/Calculator/TaperDoseCalculator.html",
        "naloxone_local": "",
    },
    "snooze": {
        "durations": {
            "benefits-outweigh-risks": "3 months",
            "short-term-benefit": "1 month",
            "taper-in-progress": "1 month",
            "opioid-tolerant-elsewhere": "3 months",
            "naloxone-already-available": "12 months",
            "naloxone-declined": "3 months",
            "pdmp-reviewed": "90 days",
            "pdmp-unavailable": "1 day",
            "uds-done-elsewhere": "3 months",
            "uds-not-indicated": "12 months",
            "patient-declined": "3 months",
            "results-expected": "3 months",
            "results-discussed": "3 months",
            "assessment-done": "3 months",
            "moud-elsewhere": "3 months",
            "moud-declined": "3 months",
            "referred": "3 months",
            "nonopioid-tried": "3 months",
            "nonopioid-contraindicated": "12 months",
            "plan-documented": "3 months",
            "excluded-condition": "12 months",
            "data-incorrect": "1 month",
            "wrong-clinician": "12 months",
            "snooze-1-month": "1 month",
            "snooze-3-months": "3 months",
            "snooze-6-months": "6 months",
            "snooze-1-year": "12 months",
            "snooze-1-month-with-comment": "1 month",
            "snooze-3-months-with-comment": "3 months",
            "snooze-6-months-with-comment": "6 months",
            "snooze-1-year-with-comment": "12 months",
        }
    },
    "prefetch": {
        "dated": False,
        "uds_query": "",
        "page_cap": 10,
        "medication_statements": False,
        "medication_administrations": False,
        "diagnostic_reports": False,
        "payer_claims": False,
    },
    # The population review's letters (painplan population); measure thresholds are the PQA's, not settings.
    "population": {
        "programme": "HUSKY Health",
        "sender": "HUSKY Health pharmacy and clinical quality team",
        "contact": "",
        "moud_line": "CT Behavioral Health Partnership, 1-877-552-8247 (https://www.ctbhp.com/)",
        "pdmp_name": "CPMRS (Connecticut Prescription Monitoring and Reporting System)",
        "pdmp_url": "https://www.ctpmp.com/",
        # The FHIR bases (`meta.source` systems) that are the export's own: an order from one is the EHR's, so an
        # HIE's copy of it is read once when every order names a source (docs/population.md).
        "own_sources": [],
        # How the review reads a member's Coverage over the period: "name" (the spec's denominators, every enrolment
        # gap named) or "continuous" (PQA's rule: more than one gap, or one longer than enrolment_gap_days, leaves
        # the member out of every measure). guideline.population.enrolment.
        "enrolment": "name",
        "enrolment_gap_days": 31,
    },
    # Non-opioid services the state's plan covers, offered first in the Initiate step (HUSKY Health defaults:
    # physical and occupational therapy, chiropractic, acupuncture, TENS, naturopathy, behavioural health).
    "covered_services": list(NONOPIOID_SERVICE_KEYS),
    # Connecticut defaults (HUSKY Health toolkit). Every entry is configuration: a site replaces the list.
    "resources": [
        {
            "name": "CT Behavioral Health Partnership",
            "phone": "1-877-552-8247",
            "url": "https://www.ctbhp.com/",
            "description": "Behavioral health and substance use treatment access for HUSKY Health members.",
            "description_es": "Acceso a tratamiento de salud mental y por uso de sustancias para miembros de "
            "HUSKY Health.",
        },
        {
            "name": "HUSKY Health Intensive Care Management",
            "phone": "1-800-440-5071",
            "url": "https://www.huskyhealthct.org/",
            "description": "Nurse care managers for members with complex needs, including chronic pain.",
            "description_es": "Enfermeras que coordinan la atención de miembros con necesidades complejas, "
            "incluido el dolor crónico.",
        },
        {
            "name": "CT Dental Health Partnership",
            "phone": "1-855-283-3682",
            "url": "https://www.ctdhp.org/",
            "description": "Dental care referrals for HUSKY Health members (dental pain without opioids).",
            "description_es": "Referidos para atención dental para miembros de HUSKY Health (dolor dental sin "
            "opioides).",
        },
        {
            "name": "Connecticut Prescription Monitoring and Reporting System (CPMRS)",
            "url": "https://www.ctpmp.com/",
            "description": "The state PDMP: review controlled-substance history before prescribing.",
        },
        {
            "name": "CDC Clinical Practice Guideline for Prescribing Opioids for Pain (2022)",
            "url": CDC_2022,
            "description": "The guideline these checks implement.",
        },
        {
            "name": "VA/DoD Clinical Practice Guideline: Use of Opioids in the Management of Chronic Pain",
            "url": "https://www.healthquality.va.gov/guidelines/Pain/cot/",
            "description": "Federal guidance on opioid therapy, tapering and opioid use disorder.",
        },
        {
            "name": "CT Workers' Compensation Commission: opioid guidelines",
            "url": "https://portal.ct.gov/wcc",
            "description": "Medical protocols for opioid prescribing in Connecticut workers' compensation cases.",
        },
    ],
}


# Tables whose keys are the user's (code → value maps) rather than ours.
OPEN_TABLES = frozenset({"mme.ingredient_code_aliases", "snooze.durations", "ndc.rxnorm"})
# Codings a site replaces whole (an Epic preference-list code has its own display, or none).
WHOLE_TABLES = frozenset({"suggestions.uds_code", "suggestions.naloxone_medication"})


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message names the key."""


def _merge(base: dict[str, Any], override: Mapping[str, Any], path: str) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        where = f"{path}.{key}" if path else key
        if key not in base:
            # Per-check and per-code tables accept only known keys; open maps (aliases, durations) accept any.
            if path in OPEN_TABLES:
                merged[key] = value
                continue
            raise ConfigError(f"unknown configuration key: {where}")
        if where in WHOLE_TABLES:
            if not isinstance(value, Mapping) or not value.get("system") or not value.get("code"):
                raise ConfigError(f"{where} must be a coding with system and code")
            merged[key] = dict(value)  # a site coding replaces ours whole: our display must not leak onto it
            continue
        if isinstance(base[key], dict) and base[key] and not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a table")
        if isinstance(base[key], dict) and isinstance(value, Mapping) and base[key]:
            merged[key] = _merge(base[key], value, where)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass(frozen=True)
class CheckSettings:
    """One check's switches and options (enabled, hooks, indicator, exclusions, thresholds)."""

    check_id: str
    enabled: bool
    hooks: frozenset[str]
    apply_general_exclusions: bool
    options: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.options[key]

    def runs_on(self, hook: str) -> bool:
        """Whether the check runs on a call of `hook`: enabled, and the hook one of its hooks."""
        return self.enabled and hook in self.hooks


@dataclass(frozen=True)
class GuidelineConfig:
    """The validated clinical configuration; `raw` keeps the merged nested table."""

    raw: Mapping[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULTS))
    ambulatory_categories: frozenset[str] = field(init=False, default=frozenset(), compare=False, repr=False)
    inpatient_categories: frozenset[str] = field(init=False, default=frozenset(), compare=False, repr=False)
    # The codes the site wrote (PDMP review codes, exclusion codes, suggested orderables), each read once here.
    site_codes: SiteCodes = field(init=False, default_factory=SiteCodes, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Every hook call asks for every check's settings; build each once per configuration.
        object.__setattr__(self, "_checks", {})
        # Read for every order of every call: lower-cased once (category codes are compared in any case).
        for key in ("ambulatory_categories", "inpatient_categories"):
            categories = frozenset(str(c).strip().lower() for c in self.raw.get(key, ()))
            object.__setattr__(self, key, categories)
        site_codes, errors = read_site_codes(self.raw)
        if errors:  # from_mapping has refused these already; a configuration built from a raw table has not
            raise ConfigError(errors[0])
        object.__setattr__(self, "site_codes", site_codes)

    @classmethod
    def from_mapping(cls, override: Mapping[str, Any] | None = None) -> GuidelineConfig:
        merged = _merge(DEFAULTS, override or {}, "")
        _validate(merged)
        return cls(raw=merged)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    @property
    def profile(self) -> str:
        return self.raw["mme"]["profile"]

    def check(self, check_id: str) -> CheckSettings:
        cached: dict[str, CheckSettings] = self._checks  # type: ignore[attr-defined]
        if check_id not in cached:
            cached[check_id] = self._build_check(check_id)
        return cached[check_id]

    def _build_check(self, check_id: str) -> CheckSettings:
        table = dict(self.raw["checks"][check_id])
        return CheckSettings(
            check_id=check_id,
            enabled=bool(table.pop("enabled", True)),
            hooks=frozenset(table.pop("hooks")),
            apply_general_exclusions=bool(table.pop("apply_general_exclusions", True)),
            options=table,
        )

    def exclusion_enabled(self, name: str) -> bool:
        return bool(self.raw["exclusions"][name]["enabled"])


def _check_timezone(name: str) -> None:
    """A time zone the system knows: "today" and the day of every FHIR dateTime are read in it, so an unknown one
    failed every evaluation (a traceback in `painplan check`, each hook call in `painplan serve`)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: unknown time zone {name!r} (an IANA name, such as America/New_York)") from None


def _validate(merged: Mapping[str, Any]) -> None:
    if merged["mme"]["profile"] not in ("cdc2022", "cdc2016"):
        raise ConfigError("mme.profile must be cdc2022 or cdc2016")
    if merged["mme"]["methadone_tier_basis"] not in ("total", "per-order"):
        raise ConfigError("mme.methadone_tier_basis must be total or per-order")
    if merged["topic_code_style"] not in ("id", "alnum"):
        raise ConfigError("topic_code_style must be id or alnum")
    if merged["suggestions"]["order_intent"] not in ("proposal", "order"):
        raise ConfigError("suggestions.order_intent must be proposal or order")
    for check_id, table in merged["checks"].items():
        if check_id not in CHECK_IDS:
            raise ConfigError(f"unknown check: {check_id}")
        if "indicator" in table and table["indicator"] not in ("info", "warning", "critical"):
            raise ConfigError(f"checks.{check_id}.indicator must be info, warning or critical")
    for service in merged["covered_services"] if isinstance(merged["covered_services"], list) else ():
        if service not in NONOPIOID_SERVICE_KEYS:
            raise ConfigError(
                f"covered_services: unknown service {service!r}; known: {', '.join(NONOPIOID_SERVICE_KEYS)}"
            )
    if not isinstance(merged["resources"], list):
        raise ConfigError("resources must be a list of tables, each with a name (and url, phone, ...)")
    for number, entry in enumerate(merged["resources"], start=1):
        if not isinstance(entry, Mapping) or not entry.get("name"):
            raise ConfigError("every resources entry needs a name")
        for key in RESOURCE_TEXT_KEYS:
            if key in entry and not isinstance(entry[key], str):
                raise ConfigError(f"resources entry {number} ({entry['name']}): {key} must be text")
    # Type and range first: a consistency rule comparing "fifty" with 90 would only confuse the message.
    errors = type_and_range_errors(DEFAULTS, merged, WHOLE_TABLES) or consistency_errors(merged, HOOKS)
    if errors:
        raise ConfigError(errors[0] if len(errors) == 1 else f"{errors[0]} (and {len(errors) - 1} more problems)")
    _check_timezone(merged["timezone"])
    for check_id, table in merged["checks"].items():
        _refuse_unable_hooks(check_id, table)
    _check_templates("checks.oud-treatment.suggestions", merged["checks"]["oud-treatment"]["suggestions"])
    for key in ("programme", "sender", "moud_line", "pdmp_name"):
        if not str(merged["population"][key]).strip():
            raise ConfigError(f"population.{key} must not be empty")
    _check_own_sources(merged["population"]["own_sources"])
    _check_enrolment(merged["population"])


def _check_templates(key: str, templates: list[Any]) -> None:
    """Each of a site's suggestion templates is a table of a type PainPlan writes (guideline.cards.ADDRESSING): of
    another, no EHR is ever offered it, and the card would call it an internal fault on every call."""
    writes = f"PainPlan writes suggestions as {', '.join(ADDRESSING)} only"
    for number, template in enumerate(templates, start=1):
        if not isinstance(template, Mapping):
            raise ConfigError(
                f"{key} entry {number} must be a table, a FHIR R4 resource, not a {type(template).__name__} ({writes})"
            )
        kind = template.get("resourceType")
        if kind not in ADDRESSING:
            named = f"resourceType {kind!r}" if isinstance(kind, str) else "no resourceType"
            raise ConfigError(f"{key} entry {number} has {named}: {writes}")


def _check_own_sources(sources: list[Any]) -> None:
    """Each of `population.own_sources` names a system as `meta.source` does (the URI before any `#`)."""
    for source in sources:
        if not isinstance(source, str) or source_system(source) is None:
            raise ConfigError(
                f"population.own_sources: {source!r} names no system (give the FHIR base as meta.source writes it)"
            )


# population.enrolment: "name" names each enrolment gap (the spec's denominators), "continuous" applies PQA's rule.
ENROLMENT_MODES = ("name", "continuous")


def _check_enrolment(population: Mapping[str, Any]) -> None:
    """`population.enrolment` is one of its modes; `enrolment_gap_days` a whole number of days, 0 or more."""
    if population["enrolment"] not in ENROLMENT_MODES:
        raise ConfigError(
            f"population.enrolment must be one of {', '.join(ENROLMENT_MODES)}, not {population['enrolment']!r}"
        )
    days = population["enrolment_gap_days"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise ConfigError(f"population.enrolment_gap_days must be a whole number of days, 0 or more, not {days!r}")


def _refuse_unable_hooks(check_id: str, table: Mapping[str, Any]) -> None:
    """A check switched on for a hook it cannot judge would look like "all clear" there: refuse the setting."""
    from guideline.checks import CHECKS  # the checks read this module; by the time settings are read both exist

    if check_id not in CHECKS or not table.get("enabled", True):
        return
    unable = set(table["hooks"]) - CHECKS[check_id].HOOKS
    if unable:
        raise ConfigError(
            f"checks.{check_id}.hooks: {check_id} cannot evaluate {', '.join(sorted(unable))}; "
            f"it can run on {', '.join(sorted(CHECKS[check_id].HOOKS))}"
        )


# Checks may carry `enabled` and `apply_general_exclusions` in their tables without listing them in DEFAULTS.
for _table in DEFAULTS["checks"].values():
    _table.setdefault("enabled", True)
    _table.setdefault("apply_general_exclusions", _table is not DEFAULTS["checks"]["oud-treatment"])
DEFAULTS["checks"]["oud-treatment"]["apply_general_exclusions"] = False
