"""Value sets, the derived medication and condition sets of guideline 2.2/2.3, and the RxNorm drug table."""

from __future__ import annotations

import csv
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from guideline import mme_factors as mf
from guideline.config import ConfigError, GuidelineConfig
from guideline.config_codes import SiteCode, rxnorm_code
from guideline.fhirdata import (
    DISCHARGE_DISPOSITION,
    ICD10CM,
    LOINC,
    NDC,
    RXNORM,
    SNOMED,
    Coding,
    Concept,
    coding_system,
)
from guideline.memo import MISSING, IdentityMemo, IdentityTables, WeakIdentityMemo
from guideline.ndc import NdcCrosswalk, ndc11
from guideline.recognition import in_set, recognise
from guideline.recognition.coded_names import coded_name, load_named_codes
from guideline.recognition.strengths import medication_listed_codes
from guideline.record import ResolvedMedication
from guideline.searches import PDMP_CODES
from guideline.set_names import (
    BENZO,
    BUPRENORPHINE,
    CNS_DEPRESSANT,
    ER_LA,
    HOSPICE_DISPOSITION,
    HOSPICE_FINDING,
    HOSPICE_PROCEDURE,
    MALIGNANT_CANCER,
    MOUD,
    MOUD_BUP,
    NALOXONE_RESCUE,
    NALTREXONE,
    OPIATE_EXPECTED,
    OPIOID,
    OPIOID_POISONING,
    OPIOID_TREATMENT_ASSESSMENT,
    OUD,
    OUD_TREATMENT_OPIOID,
    PAIN_MANAGEMENT_PROCEDURE,
    PAIN_TREATMENT_PLAN,
    PDMP_REVIEW,
    POINT_OF_CARE_CANCER,
    SICKLE_CELL,
    SLEEP_BREATHING,
    SUD_HISTORY,
    TERMINAL,
    TIRF,
    UDS_TEST,
    UNNAMED_MEDICATION,
)
from guideline.uds_analytes import ANALYTES, UNMARKETED, Analyte

DATA_DIR = Path(__file__).resolve().parent / "data"

Code = tuple[str, str]  # (system, code)

# The derived sets' names live in guideline.set_names (recognition names them without importing this module); every
# reader of the sets imports them from here, as before.

# ---- set names: 2022 value sets used as they are (the name is the value set id) ----
AMPHETAMINE_MEDS = "amphetamines-class-medications"
BARBITURATE_MEDS = "barbiturate-medications"
BENZODIAZEPINE_MEDS = "benzodiazepine-medications"
BUPRENORPHINE_MEDS = "buprenorphine-medications"
FENTANYL_MEDS = "fentanyl-type-medications"
METHADONE_MEDS = "methadone-medications"
OXYCODONE_MEDS = "oxycodone-medications"
NON_SYNTHETIC_OPIOID_MEDS = "non-synthetic-opioid-medications"
BUPRENORPHINE_AND_METHADONE_MEDS = "buprenorphine-and-methadone-medications"

ALL_UDS_TESTS = "all-urine-drug-screening-tests"
AMPHETAMINE_TESTS = "amphetamine-urine-drug-screening-tests"
BARBITURATE_TESTS = "barbiturate-urine-drug-screening-tests"
BENZODIAZEPINE_TESTS = "benzodiazepine-urine-drug-screening-tests"
BUPRENORPHINE_TESTS = "buprenorphine-urine-drug-screening-tests"
CANNABINOID_TESTS = "cannabinoid-urine-drug-screening-tests"
COCAINE_TESTS = "cocaine-urine-drug-screening-tests"
FENTANYL_TESTS = "fentanyl-type-urine-drug-screening-tests"
OPIATE_TESTS = "general-opiate-urine-drug-screening-tests"
HEROIN_TESTS = "heroin-urine-drug-screening-tests"
METHADONE_TESTS = "methadone-urine-drug-screening-tests"
OXYCODONE_TESTS = "oxycodone-urine-drug-screening-tests"
PCP_TESTS = "phencyclidine-urine-drug-screening-tests"
XYLAZINE_TESTS = "xylazine-urine-drug-screening-tests"
OPIATE_SPECIFIC_TESTS = "opiate-specific-urine-drug-screening-tests"
SYNTHETIC_OPIOID_TESTS = "synthetic-opioid-urine-drug-screening-tests"
# Derived per row of guideline/uds_analytes.py (the suffix is the row's key): the codes of the analyte table that row
# judges, the medications that explain a positive, and those whose supply makes a negative unexpected.
UDS_ANALYTE_TESTS = "uds-analyte-tests:"
UDS_EXPLAINED_BY = "uds-explained-by:"
UDS_MISSED_BY = "uds-missed-by:"
UDS_ANALYTES_FILE = "uds-analytes.csv"

# ---- exact code lists of Appendix A (RxNorm) ----


def _code_list(codes: str) -> frozenset[str]:
    """A whitespace-separated list of codes, so long code lists stay readable as written in Appendix A."""
    return frozenset(codes.split())


# A.2: stimulants/anorectics and inhaled anaesthetics in the CNS set that carry no added overdose risk with opioids.
CNS_REMOVED_STIMULANTS = _code_list(
    """
    904368 904372 979543 979549 994071 978654 978662 978668 978686 977860 977861
    803348 803350 803353 803354 826131 826586 826600 826832 826910 826919 900038 968766 1112982 1112987 1249083
    1810304 1302827 1302833 1302839 1302845 1302850 1302856 1313059 1313061
    """
)
CNS_REMOVED_ANAESTHETICS = _code_list(
    "200243 541963 997618 997625 1245044 2697457 542347 542355 542358 1540984 1549863 2628931 208919 562366"
)
# A.3: naloxone/pentazocine tablets are an abuse-deterrent opioid, not a rescue product.
NALOXONE_NOT_RESCUE = "312289"
# A.4: buprenorphine products used to treat OUD (sublingual tablets/films, buprenorphine/naloxone, implant).
MOUD_BUP_CODES = _code_list(
    """
    246474 250426 351264 351265
    351266 351267 1431076 1431083 1431102 1431104 1597568 1597570 1597573 1597575 1666338 1666385 1864412 1864414
    1010600 1010603 1010604 1010606 1307056 1307058 1307061 1307063
    1542390 1542396 1544851 1544853 1544854 1544856
    1797650 1797655
    """
)
# Extended-release injectable buprenorphine for OUD, newer than A.4: Sublocade (monthly) and Brixadi (weekly or
# monthly), generic and branded. They join MOUD_BUP and, as A.4's sublingual and implant products already are,
# the opioids. The CDC opioid analgesic set leaves injectables out and the CDC MOUD set predates Brixadi, so without
# this list a patient on Brixadi got the OUD-treatment card ("no OUD medication"), and a new benzodiazepine for a
# patient on either gave no card, where the same patient on Suboxone gets the coordinate-care card.
XR_INJECTABLE_BUP_CODES = _code_list(
    """
    1996184 1996189 1996192 1996193
    2639021 2639027 2639029 2639030 2639031 2639032 2639033 2639034 2639036 2639039 2639041 2639042 2639043 2639044
    """
)
# Methadone forms dispensed only by opioid treatment programs: 40 mg tablets for oral suspension (generic, Diskets,
# Methadose) and the 10 mg/mL oral concentrate (generic, Methadose).
METHADONE_OUD_CODES = _code_list("1990745 864978 864980 991147 991149")
# A.5: oral naltrexone 50 mg, extended-release injectable 380 mg, and the ingredient itself.
NALTREXONE_INGREDIENT = "7243"
# The RxNorm ingredient naloxone: the antagonist of buprenorphine/naloxone and other combinations against misuse.
NALOXONE_INGREDIENT = "7242"
NALTREXONE_CODES: frozenset[str] = frozenset({"1483744", "637213", NALTREXONE_INGREDIENT})
BUPROPION_NALTREXONE = "1551468"
_NALTREXONE_MEMBERS = frozenset((RXNORM, code) for code in NALTREXONE_CODES)
# Names for the A.5 codes, which no packaged value set or drug-table row describes.
NALTREXONE_DISPLAYS: Mapping[str, str] = {
    "1483744": "naltrexone hydrochloride 50 MG Oral Tablet",
    "637213": "naltrexone 380 MG Injection",
    NALTREXONE_INGREDIENT: "naltrexone",
}

# Nalmefene rescue products, newer than the CDC naloxone set (A.3), by their codes as the FDA NDC Directory lists them
# (openFDA, checked 2026-12): Zurnai 1.5 mg/0.5 mL auto-injector, NDC 59011-962-01, RxNorm 2720806 and 2720812;
# nalmefene hydrochloride injection 2 mg/2 mL, NDC 82432-102-02, RxNorm 2592953 and 2672926. Named as the directory
# names them (no RxNorm name was checked). Opvee, the nasal spray, is read by its name: none of its codes was checked.
# Check them against current RxNorm before a release, as the A.5 naltrexone codes.
NALMEFENE_RESCUE_DISPLAYS: Mapping[str, str] = {
    "2720806": "nalmefene hydrochloride 1.5 MG/0.5 ML auto-injector (Zurnai)",
    "2720812": "nalmefene hydrochloride 1.5 MG/0.5 ML auto-injector (Zurnai)",
    "2592953": "nalmefene hydrochloride 2 MG/2 ML injection",
    "2672926": "nalmefene hydrochloride 2 MG/2 ML injection",
}
# Their NDCs, read as a site's crosswalk reads its own (a site's entry for the same NDC wins).
NALMEFENE_RESCUE_NDCS: Mapping[str, str] = {"59011-0962-01": "2720806", "82432-0102-02": "2592953"}

BUPRENORPHINE_INGREDIENT = "1819"
METHADONE_INGREDIENT = "6813"
HYDROCODONE_INGREDIENT = "5489"
HYDROMORPHONE_INGREDIENT = "3423"

# Counts stated by the guideline. If the packaged data ever disagrees, loading fails loudly rather than silently
# changing which patients get alerts.
EXPECTED_SIZES: Mapping[str, int] = {
    "2022/opioid-analgesics-with-ambulatory-misuse-potential": 557,
    "2022/extended-release-opioid-with-ambulatory-misuse-potential": 183,
    "2022/benzodiazepine-medications": 207,
    "2022/cns-depressant-medications": 116,
    "2022/barbiturate-medications": 119,
    "2022/naloxone-medications": 50,
    "2022/buprenorphine-and-methadone-medications": 85,
    "2022/opioid-misuse-disorders": 212,
    "2016/opioid-misuse-disorders": 83,
    "2022/conditions-documenting-substance-misuse": 936,
    "2022/conditions-documenting-sleep-disordered-breathing": 61,
    "2022/sickle-cell-diseases": 81,
    "2022/cdc-malignant-cancer-conditions": 1668,
    "2022/conditions-likely-terminal-for-opioid-prescribing": 991,
    "2022/limited-life-expectancy-conditions": 6,
    "2022/all-urine-drug-screening-tests": 1669,
    "2022/xylazine-urine-drug-screening-tests": 3,
    "2022/hospice-procedure": 6,
    "2022/therapies-indicating-end-of-life-care": 9,
    "2022/opioid-treatment-assessment-procedure": 7,
}
LEGACY_OPIOID_COUNT = 50
CNS_REMOVED_COUNT = 49
CNS_LEFT_COUNT = 67
NALOXONE_RESCUE_COUNT = 21
MOUD_BUP_COUNT = 34
XR_INJECTABLE_BUP_COUNT = 18  # all in the 2022 buprenorphine-medications set
POISONING_SNOMED_COUNT = 122

_POISONING_DISPLAY = re.compile(r"poisoning|overdose|toxic effect", re.IGNORECASE)
# A.6: opium, heroin, other opioids, methadone, synthetic narcotics, other/unspecified narcotics.
_ICD_POISONING_PREFIXES = ("T400", "T401", "T402", "T403", "T404", "T406")
_ICD_POISONING_INTENTS = frozenset("1234")  # accidental, self-harm, assault, undetermined; not 5/6


class TerminologyError(RuntimeError):
    """The packaged terminology data is missing or no longer matches the counts the guideline states."""


@dataclass(frozen=True)
class DrugIngredient:
    """One opioid-ingredient row of the drug table (a combination drug has one row per opioid ingredient)."""

    rxcui: str
    drug_name: str
    dose_form_rxcui: str
    dose_form: str
    route: str
    ingredient_rxcui: str
    ingredient: str
    strength_value: Decimal
    strength_unit: str


@dataclass(frozen=True)
class UdsSubstance:
    """One row of the 10.4 substance table: which tests detect it and which prescriptions explain a result."""

    name: str
    test_set: str
    expected_by: str | None
    negative_unexpected_by: str | None
    # The analyte table's name for the row, when it is not the substance's own: rows may share a substance (the CDC
    # oxycodone tests, and the oxycodone+oxymorphone tests an oxymorphone prescription explains too).
    key: str = ""

    @property
    def row_key(self) -> str:
        """The row's name in the analyte table and in names read (`guideline.uds_names`)."""
        return self.key or self.name


def _analyte_row(analyte: Analyte) -> UdsSubstance:
    """The substance row of one analyte: its codes and medication sets are derived from the analyte table."""
    return UdsSubstance(
        analyte.substance,
        UDS_ANALYTE_TESTS + analyte.key,
        UDS_EXPLAINED_BY + analyte.key if analyte.explained_by else None,
        UDS_MISSED_BY + analyte.key if analyte.negative_for else None,
        "" if analyte.key == analyte.substance else analyte.key,
    )


UDS_SUBSTANCES: tuple[UdsSubstance, ...] = (
    UdsSubstance("amphetamine", AMPHETAMINE_TESTS, AMPHETAMINE_MEDS, AMPHETAMINE_MEDS),
    UdsSubstance("barbiturate", BARBITURATE_TESTS, BARBITURATE_MEDS, BARBITURATE_MEDS),
    UdsSubstance("benzodiazepine", BENZODIAZEPINE_TESTS, BENZODIAZEPINE_MEDS, BENZODIAZEPINE_MEDS),
    UdsSubstance("buprenorphine", BUPRENORPHINE_TESTS, BUPRENORPHINE_MEDS, BUPRENORPHINE_MEDS),
    UdsSubstance("fentanyl", FENTANYL_TESTS, FENTANYL_MEDS, FENTANYL_MEDS),
    UdsSubstance("methadone", METHADONE_TESTS, METHADONE_MEDS, METHADONE_MEDS),
    # Hydrocodone and hydromorphone show up on opiate immunoassays, so they explain a positive but their absence
    # says nothing about an opiate screen (guideline 10.4).
    UdsSubstance("opiate", OPIATE_TESTS, OPIATE_EXPECTED, NON_SYNTHETIC_OPIOID_MEDS),
    UdsSubstance("oxycodone", OXYCODONE_TESTS, OXYCODONE_MEDS, OXYCODONE_MEDS),
    UdsSubstance("cocaine", COCAINE_TESTS, None, None),
    UdsSubstance("heroin", HEROIN_TESTS, None, None),
    UdsSubstance("pcp", PCP_TESTS, None, None),
    UdsSubstance("xylazine", XYLAZINE_TESTS, None, None),
    UdsSubstance("cannabinoid", CANNABINOID_TESTS, None, None),
    # One drug at a time (guideline/uds_analytes.py): the tests of the CDC's opiate-specific and synthetic opioid
    # sets, the other opioids, benzodiazepines and drugs the CDC sets leave out, judged by the analyte table.
    *(_analyte_row(analyte) for analyte in ANALYTES),
)


def icd10cm_dotted(code: str) -> str:
    """An ICD-10-CM code in its dotted form: claims and many exports write "F1120" for "F11.20" (the dot always
    follows the third character), and the value sets hold the dotted form."""
    compact = code.strip().upper()
    if "." in compact or len(compact) <= 3:
        return compact
    return f"{compact[:3]}.{compact[3:]}"


def is_icd10_opioid_poisoning(code: str) -> bool:
    """The A.6 rule on a bare ICD-10-CM code: T40.0–T40.4 or T40.6 with intent 1–4 as the 6th character."""
    compact = code.replace(".", "")
    return len(compact) >= 6 and compact.startswith(_ICD_POISONING_PREFIXES) and compact[5] in _ICD_POISONING_INTENTS


# ---------------------------------------------------------------------------------------------------------------
# Heavy data: read once per process.


@dataclass(frozen=True)
class _Data:
    valuesets: Mapping[str, frozenset[Code]]  # "2022/<id>" / "2016/<id>"
    displays: Mapping[Code, str]
    drugs: Mapping[str, tuple[DrugIngredient, ...]]
    legacy_opioids: frozenset[str]  # A.1, before the config decides whether to use them
    # The analyte table: each urine drug test code no CDC class set judges -> (its analyte, the row judging it or "")
    uds_analytes: Mapping[Code, tuple[str, str]]
    # Per value set, the codes the project's corrections added and removed: the counts the guideline states are of
    # the CDC expansions, before them.
    corrected: Mapping[str, tuple[frozenset[Code], frozenset[Code]]] = field(default_factory=dict)
    # Per value set, the codes its point-of-care corrections add and remove: applied to the set the point of care
    # reads (`at_point_of_care`), never to the packaged set, which the population review reads as the IG gives it.
    point_of_care: Mapping[str, tuple[frozenset[Code], frozenset[Code]]] = field(default_factory=dict)

    @cached_property
    def generics(self) -> Mapping[str, str]:
        """Branded drug → clinical drug of this table, built once and kept with the data it was made from, so it
        lives as long as they do (a module cache keyed by id() kept every table ever asked about alive)."""
        return _generics(self.drugs)

    def upstream_size(self, key: str) -> int:
        """How many codes the value set held before the project's corrections."""
        added, removed = self.corrected.get(key, (frozenset(), frozenset()))
        return len(self.valuesets.get(key, ())) - len(added) + len(removed)

    def at_point_of_care(self, key: str) -> frozenset[Code]:
        """The value set as the point of care reads it: with its point-of-care corrections."""
        added, removed = self.point_of_care.get(key, (frozenset(), frozenset()))
        return (self.valuesets[key] | added) - removed


def _read_valuesets(path: Path) -> tuple[dict[str, frozenset[Code]], dict[Code, str]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    systems: list[str] = document["systems"]
    valuesets: dict[str, frozenset[Code]] = {}
    displays: dict[Code, str] = {}
    for key, rows in document["sets"].items():
        members: set[Code] = set()
        for system_index, code, display in rows:
            member = (systems[system_index], code)
            members.add(member)
            if display:
                displays.setdefault(member, display)
        valuesets[key] = frozenset(members)
    return valuesets, displays


def _strength(raw: str, rxcui: str) -> tuple[Decimal, str]:
    # Parse the source text ("0.075 MG/HR"), not the float-formatted strength_value column, so the value is exact.
    parts = raw.split()
    if len(parts) != 2:
        raise TerminologyError(f"drug table row {rxcui}: unreadable strength {raw!r}")
    try:
        value = Decimal(parts[0])
    except InvalidOperation as error:
        raise TerminologyError(f"drug table row {rxcui}: unreadable strength {raw!r}") from error
    return value, parts[1]


def _generics(drugs: Mapping[str, tuple[DrugIngredient, ...]]) -> dict[str, str]:
    """Branded drug → clinical drug of the table (a pack names no single clinical drug)."""
    by_name = {
        rows[0].drug_name: rxcui for rxcui, rows in drugs.items() if rows and not rows[0].drug_name.endswith("]")
    }
    found = {}
    for rxcui, rows in drugs.items():
        name = rows[0].drug_name if rows else ""
        if name.endswith("]") and " [" in name:
            generic = by_name.get(name[: name.rindex(" [")])
            if generic:
                found[rxcui] = generic
    return found


def _read_drug_table(path: Path) -> tuple[dict[str, tuple[DrugIngredient, ...]], frozenset[str]]:
    rows: dict[str, list[DrugIngredient]] = {}
    legacy: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            value, unit = _strength(row["strength"], row["rxcui"])
            rows.setdefault(row["rxcui"], []).append(
                DrugIngredient(
                    rxcui=row["rxcui"],
                    drug_name=row["drug_name"],
                    dose_form_rxcui=row["dose_form_rxcui"],
                    dose_form=row["dose_form"],
                    route=row["route_derived"],
                    ingredient_rxcui=row["ingredient_rxcui"],
                    ingredient=row["ingredient"],
                    strength_value=value,
                    strength_unit=unit,
                )
            )
            # A.1: in the 2016 opioid set, dropped from 2022, and not injectable (injectables are not ambulatory).
            if (
                row["in_vs_opioid_analgesics_2016"] == "Y"
                and row["in_vs_opioid_analgesics_2022"] == "N"
                and row["route_derived"] != "injection"
            ):
                legacy.add(row["rxcui"])
    return {rxcui: tuple(items) for rxcui, items in rows.items()}, frozenset(legacy)


def _read_uds_analytes(path: Path) -> dict[Code, tuple[str, str]]:
    """The analyte table (guideline/data/build_uds_analytes.py): LOINC code -> (analyte, row key or "")."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {(LOINC, row["code"]): (row["analyte"], row["substance"]) for row in csv.DictReader(handle)}


@cache
def _data() -> _Data:
    try:
        valuesets, displays = _read_valuesets(DATA_DIR / "valuesets.json")
        drugs, legacy = _read_drug_table(DATA_DIR / "opioid-drug-data.csv")
        analytes = _read_uds_analytes(DATA_DIR / UDS_ANALYTES_FILE)
        load_named_codes()  # recognition's table (coded_name), read with the rest of the packaged data
    except (OSError, KeyError, ValueError) as error:
        raise TerminologyError(f"cannot read the packaged terminology data in {DATA_DIR}: {error}") from error
    for rxcui, drug_rows in drugs.items():
        displays.setdefault((RXNORM, rxcui), drug_rows[0].drug_name)
    for rxcui, name in (*NALTREXONE_DISPLAYS.items(), *NALMEFENE_RESCUE_DISPLAYS.items()):
        displays.setdefault((RXNORM, rxcui), name)
    data = _Data(valuesets=valuesets, displays=displays, drugs=drugs, legacy_opioids=legacy, uds_analytes=analytes)
    _check_counts(data)  # the counts describe the upstream expansions, before the project's corrections
    try:
        corrections = json.loads((DATA_DIR / CORRECTIONS_FILE).read_text(encoding="utf-8"))["corrections"]
    except (OSError, KeyError, ValueError) as error:
        raise TerminologyError(f"cannot read {CORRECTIONS_FILE} in {DATA_DIR}: {error}") from error
    return _corrected(data, corrections)


CORRECTIONS_FILE = "valueset-corrections.json"
# A correction's `scope`: absent, it corrects the packaged set every face reads; "point-of-care", only the set the hook
# cards and the plan page read (the population review follows its measure spec's sets).
POINT_OF_CARE_SCOPE = "point-of-care"


def _corrected(data: _Data, corrections: Mapping[str, Mapping[str, Any]]) -> _Data:
    """The value sets with the project's corrections (codes added and removed, each set with its reason)."""
    valuesets = dict(data.valuesets)
    displays = dict(data.displays)
    corrected: dict[str, tuple[frozenset[Code], frozenset[Code]]] = {}
    point_of_care: dict[str, tuple[frozenset[Code], frozenset[Code]]] = {}
    for key, change in corrections.items():
        if key not in valuesets:
            raise TerminologyError(f"{CORRECTIONS_FILE} corrects {key}, which is not a packaged value set")
        scope = change.get("scope")
        if scope not in (None, POINT_OF_CARE_SCOPE):
            raise TerminologyError(f"{CORRECTIONS_FILE}: {key} has scope {scope!r}, not {POINT_OF_CARE_SCOPE!r}")
        added = {_corrected_code(system, code) for system, code, *_ in change.get("add", ())}
        removed = {_corrected_code(system, code) for system, code, *_ in change.get("remove", ())}
        for system, code, *display in change.get("add", ()):
            if display:
                displays.setdefault(_corrected_code(system, code), display[0])
        if scope == POINT_OF_CARE_SCOPE:
            point_of_care[key] = (frozenset(added), frozenset(removed))
            continue
        corrected[key] = (frozenset(added - valuesets[key]), frozenset(removed & valuesets[key]))
        valuesets[key] = (valuesets[key] | added) - removed
    return _Data(valuesets, displays, data.drugs, data.legacy_opioids, data.uds_analytes, corrected, point_of_care)


def _corrected_code(system: str, code: str) -> Code:
    """A correction's code with its system under its FHIR name, as the EHR's codings are read
    ("https://www.cms.gov/…HCPCS…" is HCPCS)."""
    return coding_system(system, code) or system, code


def _check_counts(data: _Data) -> None:
    """The counts the guideline states for the source sets (the derived sets are checked in `_derive`)."""
    for key, size in EXPECTED_SIZES.items():
        _expect(data.upstream_size(key), size, f"value set {key}")
    _expect(len(data.legacy_opioids), LEGACY_OPIOID_COUNT, "legacy opioid codes (A.1)")


def _expect(actual: int, expected: int, what: str) -> None:
    if actual != expected:
        raise TerminologyError(
            f"{what}: found {actual} codes, the guideline states {expected}; the terminology data changed, "
            "review guideline Appendix A before using it"
        )


# ---------------------------------------------------------------------------------------------------------------
# Derived sets for one configuration.


@dataclass(frozen=True)
class _Options:
    """The configuration values that change a derived set (and so the cache key)."""

    include_legacy_codes: bool
    include_barbiturates: bool
    cns_extra: tuple[str, ...]
    naloxone_extra: tuple[str, ...]
    moud_extra: tuple[str, ...]
    count_poisoning_as_oud: bool
    # Site changes to the condition sets of the general exclusions: set name → (codes added, codes removed).
    exclusion_codes: tuple[tuple[str, frozenset[Code], frozenset[Code]], ...] = ()
    # The site's NDC crosswalk: (11-digit NDC, RxNorm code) pairs.
    ndc_rxnorm: tuple[tuple[str, str], ...] = ()
    # The site's own codes for a documented PDMP review (a flowsheet row, say).
    pdmp_review_extra: frozenset[Code] = frozenset()
    # The site's ingredient code aliases (code → RxNorm ingredient): no set changes, but recognition, the MME and the
    # words for a strength no product holds all read a Medication's ingredient list through them, from here.
    ingredient_aliases: tuple[tuple[str, str], ...] = ()


# The general exclusions whose condition codes a site may add to or remove from, and the sets each one reads (active
# cancer: the point of care's and the population review's; a site's change is made to both).
EXCLUSION_CODE_SETS: dict[str, tuple[str, ...]] = {
    "sickle_cell": (SICKLE_CELL,),
    "active_cancer": (MALIGNANT_CANCER, POINT_OF_CARE_CANCER),
    "terminal_condition": (TERMINAL,),
}


def _matched(codes: Iterable[SiteCode]) -> frozenset[Code]:
    """Configured codes as set members: their systems read as the EHR's are (at load), ICD-10-CM dotted."""
    return frozenset((c.system, icd10cm_dotted(c.code) if c.system == ICD10CM else c.code) for c in codes)


def site_pdmp_review_codes(config: GuidelineConfig) -> tuple[str, ...]:
    """The site's own PDMP review codes as FHIR token searches write them ("system|code"), for the queries that
    fetch reviews: a code the check accepts but no query asks for would never arrive. Asked for in the site's own
    spelling, the one its EHR stores; what comes back is matched under the systems' FHIR names."""
    written = {(c.written, c.code) for c in config.site_codes.listed("pdmp.review_codes")}
    return tuple(f"{system}|{code}" for system, code in sorted(written))


def pdmp_search_codes(config: GuidelineConfig | None) -> str:
    """The codes every search for documented PDMP reviews asks for, as a token search's `code=` value: the packaged
    ones (`PDMP_CODES`), then the site's own (`site_pdmp_review_codes`). The hooks' `pdmpObs` and the plan page's
    coded-score search ask with the same list, so neither fetches a review the other cannot see."""
    site = site_pdmp_review_codes(config) if config is not None else ()
    return ",".join((PDMP_CODES, *site))


def _exclusion_codes(config: GuidelineConfig) -> tuple[tuple[str, frozenset[Code], frozenset[Code]], ...]:
    changes: list[tuple[str, frozenset[Code], frozenset[Code]]] = []
    for name, set_names in EXCLUSION_CODE_SETS.items():
        added = _matched(config.site_codes.listed(f"exclusions.{name}.add_codes"))
        removed = _matched(config.site_codes.listed(f"exclusions.{name}.remove_codes"))
        if added or removed:
            changes.extend((set_name, added, removed) for set_name in set_names)
    return tuple(changes)


def _rxnorm_codes(values: object, key: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise ConfigError(f"{key} must be a list of RxNorm codes")
    codes: set[str] = set()
    for value in values:
        code = rxnorm_code(value)
        if code is None:  # refused when the settings loaded (config_codes); a table built by hand is not checked
            raise ConfigError(f"{key}: {value!r} is not an RxNorm code (digits only)")
        codes.add(code)
    return tuple(sorted(codes))


def _options(config: GuidelineConfig) -> _Options:
    return _Options(
        include_legacy_codes=bool(config["opioid_set"]["include_legacy_codes"]),
        include_barbiturates=bool(config["cns"]["include_barbiturates"]),
        cns_extra=_rxnorm_codes(config["cns"]["extra_codes"], "cns.extra_codes"),
        naloxone_extra=_rxnorm_codes(config["naloxone"]["extra_rescue_codes"], "naloxone.extra_rescue_codes"),
        moud_extra=_rxnorm_codes(config["oud"]["extra_moud_codes"], "oud.extra_moud_codes"),
        count_poisoning_as_oud=bool(config["oud"]["count_poisoning_as_oud"]),
        exclusion_codes=_exclusion_codes(config),
        ndc_rxnorm=_ndc_crosswalk(config["ndc"]["rxnorm"], NALMEFENE_RESCUE_NDCS),
        pdmp_review_extra=_matched(config.site_codes.listed("pdmp.review_codes")),
        ingredient_aliases=tuple(sorted((config["mme"].get("ingredient_code_aliases") or {}).items())),
    )


def _ndc_crosswalk(table: Mapping[str, str], packaged: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The crosswalk keyed by 11-digit NDC, the site's entries over the packaged ones; the configuration has checked
    every site entry and that each NDC, in whatever layouts, maps to one code (config_rules.ndc_crosswalk_errors),
    so a site's entry replaces only a packaged one, never another of the site's."""
    merged = {ndc11(written) or written: rxcui.strip() for written, rxcui in (*packaged.items(), *table.items())}
    return tuple(sorted(merged.items()))


def _with_ndc_members(sets: dict[str, frozenset[Code]], crosswalk: tuple[tuple[str, str], ...]) -> None:
    """Each set that holds an RxNorm product also holds the NDCs the site's crosswalk maps to it, so a fill sent
    with only its NDC is in every set its RxNorm code is in."""
    if not crosswalk:
        return
    ndcs_of: dict[str, list[str]] = {}
    for ndc, rxcui in crosswalk:
        ndcs_of.setdefault(rxcui, []).append(ndc)
    for name, members in sets.items():
        added = {(NDC, ndc) for system, code in members if system == RXNORM for ndc in ndcs_of.get(code, ())}
        if added:
            sets[name] = members | added


def _transmucosal_fentanyl(row: DrugIngredient) -> bool:
    """A drug-table row of fentanyl in a transmucosal form; a pack (Subsys's) by the form named inside it."""
    form = mf.product_form(row.dose_form_rxcui, row.drug_name)
    return row.ingredient_rxcui == mf.FENTANYL and form in mf.TRANSMUCOSAL_FENTANYL_FORMS


def _rx(codes: Iterable[str]) -> frozenset[Code]:
    return frozenset((RXNORM, code) for code in codes)


def _derive(data: _Data, options: _Options) -> dict[str, frozenset[Code]]:
    vs = data.valuesets

    def v22(set_id: str) -> frozenset[Code]:
        return vs[f"2022/{set_id}"]

    def rows_of(member: Code) -> tuple[DrugIngredient, ...]:
        return data.drugs.get(member[1], ()) if member[0] == RXNORM else ()

    def display_has(member: Code, word: str) -> bool:
        return word in data.displays.get(member, "").lower()

    xr_injectable_bup = _rx(XR_INJECTABLE_BUP_CODES)
    _expect(
        len(xr_injectable_bup & v22("buprenorphine-medications")),
        XR_INJECTABLE_BUP_COUNT,
        "extended-release injectable buprenorphine codes in buprenorphine-medications",
    )
    opioid = v22("opioid-analgesics-with-ambulatory-misuse-potential") | xr_injectable_bup
    if options.include_legacy_codes:
        opioid = opioid | _rx(data.legacy_opioids)

    er_la = v22("extended-release-opioid-with-ambulatory-misuse-potential") | frozenset(
        member
        for member in opioid
        if any(
            "Extended Release" in row.dose_form
            or row.dose_form == "Transdermal System"
            or row.ingredient_rxcui == METHADONE_INGREDIENT
            for row in rows_of(member)
        )
    )

    tirf = frozenset(member for member in opioid if any(_transmucosal_fentanyl(row) for row in rows_of(member)))

    cns_base = v22("cns-depressant-medications")
    removed = _rx(CNS_REMOVED_STIMULANTS | CNS_REMOVED_ANAESTHETICS)
    _expect(len(cns_base & removed), CNS_REMOVED_COUNT, "CNS depressant codes removed (A.2)")
    cns = cns_base - removed
    added = data.corrected.get("2022/cns-depressant-medications", (frozenset(), frozenset()))[0]
    _expect(len(cns - added), CNS_LEFT_COUNT, "CNS depressant codes left after A.2")
    if options.include_barbiturates:
        cns = cns | v22("barbiturate-medications")
    cns = cns | _rx(options.cns_extra)

    naloxone = frozenset(
        member
        for member in v22("naloxone-medications")
        if not display_has(member, "buprenorphine") and member != (RXNORM, NALOXONE_NOT_RESCUE)
    )
    _expect(len(naloxone), NALOXONE_RESCUE_COUNT, "naloxone rescue codes (A.3)")
    naloxone = naloxone | _rx(NALMEFENE_RESCUE_DISPLAYS) | _rx(options.naloxone_extra)

    moud_bup = _rx(MOUD_BUP_CODES)
    _expect(len(moud_bup), MOUD_BUP_COUNT, "MOUD buprenorphine codes (A.4)")
    moud_bup = moud_bup | xr_injectable_bup
    naltrexone = _rx(NALTREXONE_CODES)
    moud = v22("buprenorphine-and-methadone-medications") | moud_bup | naltrexone | _rx(options.moud_extra)

    buprenorphine = frozenset(
        member
        for member in opioid
        if display_has(member, "buprenorphine")
        or any(row.ingredient_rxcui == BUPRENORPHINE_INGREDIENT for row in rows_of(member))
    )

    misuse_2022 = v22("opioid-misuse-disorders")
    poisoning = frozenset(
        member
        for member in misuse_2022
        if member[0] == SNOMED and _POISONING_DISPLAY.search(data.displays.get(member, ""))
    )
    _expect(len(poisoning), POISONING_SNOMED_COUNT, "opioid poisoning SNOMED codes (A.7)")
    oud = misuse_2022 | vs["2016/opioid-misuse-disorders"]
    if not options.count_poisoning_as_oud:
        oud = oud - poisoning

    opiate_expected = v22(NON_SYNTHETIC_OPIOID_MEDS) | frozenset(
        member
        for member in opioid
        if any(row.ingredient_rxcui in (HYDROCODONE_INGREDIENT, HYDROMORPHONE_INGREDIENT) for row in rows_of(member))
    )

    derived: dict[str, frozenset[Code]] = {
        OPIOID: opioid,
        ER_LA: er_la,
        TIRF: tirf,
        BENZO: v22("benzodiazepine-medications"),
        CNS_DEPRESSANT: cns,
        NALOXONE_RESCUE: naloxone,
        MOUD_BUP: moud_bup,
        OUD_TREATMENT_OPIOID: moud_bup | (_rx(METHADONE_OUD_CODES) & moud),
        MOUD: moud,
        NALTREXONE: naltrexone,
        BUPRENORPHINE: buprenorphine,
        OUD: oud,
        OPIOID_POISONING: poisoning,
        SUD_HISTORY: v22("conditions-documenting-substance-misuse"),
        SLEEP_BREATHING: v22("conditions-documenting-sleep-disordered-breathing"),
        SICKLE_CELL: v22("sickle-cell-diseases"),
        MALIGNANT_CANCER: v22("cdc-malignant-cancer-conditions"),
        POINT_OF_CARE_CANCER: data.at_point_of_care("2022/cdc-malignant-cancer-conditions"),
        TERMINAL: v22("conditions-likely-terminal-for-opioid-prescribing") | v22("limited-life-expectancy-conditions"),
        UDS_TEST: v22(ALL_UDS_TESTS) | v22(XYLAZINE_TESTS),
        # G5a also accepts the HL7 discharge-disposition code for hospice.
        HOSPICE_DISPOSITION: v22("hospice-disposition") | {(DISCHARGE_DISPOSITION, "hosp")},
        HOSPICE_PROCEDURE: _hospice_care_codes(data),
        HOSPICE_FINDING: v22("hospice-finding"),
        OPIOID_TREATMENT_ASSESSMENT: v22("opioid-treatment-assessment-procedure"),
        # Real data and the CDC test data mix the procedure and finding codes, so either counts (10.9).
        PDMP_REVIEW: v22("pdmp-review-procedure") | v22("pdmp-data-reviewed-finding"),
        PAIN_MANAGEMENT_PROCEDURE: v22("pain-management-procedure"),
        PAIN_TREATMENT_PLAN: v22("pain-treatment-plan"),
        OPIATE_EXPECTED: opiate_expected,
    }
    derived.update(_analyte_sets(data, opioid))
    derived[PDMP_REVIEW] = derived[PDMP_REVIEW] | options.pdmp_review_extra
    for set_name, added, removed in options.exclusion_codes:
        derived[set_name] = (derived[set_name] | added) - removed
    for key, members in vs.items():
        year, set_id = key.split("/", 1)
        derived[key] = members
        if year == "2022":
            derived[set_id] = members  # a bare id means the 2022 expansion (guideline 1.3)
    return derived


def _hospice_care_codes(data: _Data) -> frozenset[Code]:
    """Hospice or end-of-life care (HOSPICE_PROCEDURE): the CDC hospice procedures and end-of-life therapies, with the
    HCPCS and revenue codes payers bill hospice by (the project's correction of `hospice-procedure`)."""
    return data.valuesets["2022/hospice-procedure"] | data.valuesets["2022/therapies-indicating-end-of-life-care"]


@cache
def hospice_care_codes() -> frozenset[Code]:
    """HOSPICE_PROCEDURE's codes, which no site setting changes: the claims reader, which reads a payer's claims
    before any Terminology is at hand, knows a hospice claim's lines by them, as the exclusions know a procedure."""
    return _hospice_care_codes(_data())


_WORD = re.compile(r"[a-z]+")


def _analyte_sets(data: _Data, opioid: frozenset[Code]) -> dict[str, frozenset[Code]]:
    """Each analyte row's tests (from the analyte table) and medication sets: every RxNorm product of the packaged
    medication sets and drug table that names one of the row's ingredients (by its drug-table ingredient or a word
    of its name), so "acetaminophen 300 MG / codeine phosphate 30 MG Oral Tablet" explains a morphine result."""
    tests: dict[str, set[Code]] = {}
    for member, (_, key) in data.uds_analytes.items():
        if key:
            tests.setdefault(UDS_ANALYTE_TESTS + key, set()).add(member)
    wanted = {word for analyte in ANALYTES for word in (*analyte.explained_by, *analyte.negative_for)}
    by_word = _products_by_ingredient(data, opioid, wanted)
    sets: dict[str, frozenset[Code]] = {name: frozenset(codes) for name, codes in tests.items()}
    for analyte in ANALYTES:
        sets.setdefault(UDS_ANALYTE_TESTS + analyte.key, frozenset())
        explained = frozenset().union(*(by_word.get(word, ()) for word in analyte.explained_by))
        if analyte.explained_by and not explained and analyte.key not in UNMARKETED:
            # A drug prescribed somewhere that no packaged set names would be "not prescribed" for every patient.
            raise TerminologyError(f"urine drug test analyte {analyte.key}: no packaged medication names it")
        sets[UDS_EXPLAINED_BY + analyte.key] = explained
        sets[UDS_MISSED_BY + analyte.key] = frozenset().union(*(by_word.get(w, ()) for w in analyte.negative_for))
    return sets


def _products_by_ingredient(data: _Data, opioid: frozenset[Code], words: set[str]) -> dict[str, set[Code]]:
    """The RxNorm products PainPlan knows (packaged medication sets, the opioid set and the drug table) that name
    each of `words` as an ingredient."""
    products = {(RXNORM, rxcui) for rxcui in data.drugs} | {(RXNORM, code) for code in NALTREXONE_CODES} | opioid
    for key, members in data.valuesets.items():
        if key.startswith("2022/") and key.endswith("-medications"):
            products |= members
    found: dict[str, set[Code]] = {}
    for member in products:
        if member[0] != RXNORM:
            continue
        names = set(_WORD.findall(data.displays.get(member, "").lower()))
        names.update(row.ingredient.lower() for row in data.drugs.get(member[1], ()))
        for word in names & words:
            found.setdefault(word, set()).add(member)
    return found


# ---------------------------------------------------------------------------------------------------------------
# The public lookup object.


# Memo questions besides set names; set names never contain a space, so these cannot collide with one.
_NAME = "medication name"
_SUBSTANCES = "substances for test"
_BY_CODE = "by code"
_KNOWN = "known medication"
# The derived medication sets; with every packaged "*-medications" value set they are the codes PainPlan knows.
_MEDICATION_SETS = frozenset(
    {OPIOID, ER_LA, TIRF, BENZO, CNS_DEPRESSANT, NALOXONE_RESCUE, MOUD_BUP, OUD_TREATMENT_OPIOID, MOUD, NALTREXONE}
)


class Terminology:
    """Code-set membership, drug-table rows and display names for one configuration (immutable, shareable)."""

    __slots__ = (
        "_data",
        "_known_medication_codes",
        "_concept_tables",
        "_concepts_in",
        "_medication_memo",
        "_medication_tables",
        "_medications_in",
        "_memo",
        "_sets",
        "_substances_by_test",
        "_ndc_rxnorm",
        "_ndc",
        "_ingredient_aliases",
        "uds_substances",
    )

    def __init__(
        self,
        data: _Data,
        sets: Mapping[str, frozenset[Code]],
        ndc_rxnorm: Mapping[str, str] | None = None,
        ingredient_aliases: Mapping[str, str] | None = None,
    ) -> None:
        self._data = data
        self._ndc_rxnorm: Mapping[str, str] = ndc_rxnorm or {}
        self._ndc = NdcCrosswalk.of(self._ndc_rxnorm)
        self._ingredient_aliases: Mapping[str, str] = ingredient_aliases or {}
        self._sets = dict(sets)
        self.uds_substances: tuple[UdsSubstance, ...] = UDS_SUBSTANCES
        by_test: dict[Code, list[UdsSubstance]] = {}
        for substance in UDS_SUBSTANCES:
            # A CDC class row also judges the analyte table's codes named for it (heroin's diamorphine).
            tests = self._sets[substance.test_set] | self._sets.get(UDS_ANALYTE_TESTS + substance.row_key, frozenset())
            for member in sorted(tests):
                by_test.setdefault(member, []).append(substance)
        self._substances_by_test = {member: tuple(items) for member, items in by_test.items()}
        self._memo = IdentityMemo()  # keyed by Concept: the record reader shares one object per distinct concept
        self._medication_memo = IdentityMemo()  # keyed by ResolvedMedication
        # Set membership, the hottest questions: one table per set, keyed by the concept or medication.
        self._concepts_in = IdentityTables()
        self._medications_in = IdentityTables()
        # Their tables by set, read directly by the look-ups (the dicts live as long as their IdentityTables).
        self._concept_tables = self._concepts_in.tables
        self._medication_tables = self._medications_in.tables
        self._known_medication_codes: frozenset[Code] | None = None

    def _members(self, set_name: str) -> frozenset[Code]:
        try:
            return self._sets[set_name]
        except KeyError:
            raise KeyError(f"unknown code set: {set_name!r}") from None

    def contains(self, set_name: str, concept: Concept | None) -> bool:
        """True when any coding has the same system and code as a member; a coding without system never matches."""
        table = self._concept_tables.get(set_name)
        if table is not None:
            entry = table.get(id(concept))
            if entry is not None:
                return entry[1]  # type: ignore[return-value]
        if concept is None:
            self._members(set_name)
            answer = False
        else:
            answer = self._contains(set_name, concept)
        self._concepts_in.put(set_name, concept, answer)
        return answer

    def keys_in(self, set_name: str, concepts: Mapping[int, Concept | None]) -> frozenset[int]:
        """The keys of `concepts` whose concept is in a set (`contains`): the set's remembered answers are looked up
        in one loop (`IdentityTables.keys_where`), where a call of `contains` per concept cost more than the answer (a
        chart's distinct codes, asked of each set on every call)."""
        return self._concepts_in.keys_where(set_name, concepts, self.contains)

    def _contains(self, set_name: str, concept: Concept) -> bool:
        members = self._members(set_name)
        for coding in concept.codings:
            if not coding.system or not coding.code:
                continue
            member = (coding.system, coding.code)
            if member in members:
                # A.5: EHRs often list ingredient-level codings too, so a naltrexone coding next to an opioid or
                # bupropion product coding describes that combination, which is not medication for OUD.
                naltrexone = member in _NALTREXONE_MEMBERS and set_name in (NALTREXONE, MOUD)
                if naltrexone and self._naltrexone_combination(concept):
                    continue
                return True
            if coding.system == NDC and (NDC, self._ndc.match(coding.code).ndc) in members:
                return True  # an NDC the site's crosswalk maps, in another of its layouts or a short form
            if coding.system == ICD10CM:
                if (ICD10CM, icd10cm_dotted(coding.code)) in members:
                    return True  # written without its dot (claims), or in lower case
                if set_name == OPIOID_POISONING and is_icd10_opioid_poisoning(coding.code):
                    return True
        return False

    def _naltrexone_combination(self, concept: Concept) -> bool:
        # A.5: bupropion/naltrexone and opioid/naltrexone products carry the naltrexone ingredient but are not MOUD.
        return concept.has(RXNORM, BUPROPION_NALTREXONE) or any(
            coding.system and coding.code and (coding.system, coding.code) in self._sets[OPIOID]
            for coding in concept.codings
        )

    def medication_in(self, set_name: str, medication: ResolvedMedication) -> bool:
        """Membership of a medication: by its codes (NALTREXONE, and so MOUD, also read Medication.ingredient);
        a medication no set's code placed in a class is in the sets its recognised class stands for (by its name,
        a drug-table code or an ingredient code), so the class and the sets never disagree."""
        table = self._medication_tables.get(set_name)
        if table is not None:
            entry = table.get(id(medication))
            if entry is not None:
                return entry[1]  # type: ignore[return-value]
        by_code = self._medication_in(set_name, medication)
        if by_code and recognise(medication, self).code_says is not None:
            # Its codes state a drug that is no opioid and its name an opioid: read as the opioid for every check
            # (clinical-logic, "A code that is no opioid and a name that is one"), so never in the code's sets too.
            by_code = False
        answer = by_code or self._in_by_recognition(set_name, medication)
        self._medications_in.put(set_name, medication, answer)
        return answer

    def medication_in_by_code(self, set_name: str, medication: ResolvedMedication) -> bool:
        """Membership read from the medication's codes alone."""
        question = (_BY_CODE, set_name)
        entry = self._medication_memo.entries.get((question, id(medication)))
        if entry is not None and entry[0][0] is medication:
            return entry[1] is True
        answer = self._medication_in(set_name, medication)
        self._medication_memo.put(question, medication, answer=answer)
        return answer

    def _in_by_recognition(self, set_name: str, medication: ResolvedMedication) -> bool:
        return in_set(recognise(medication, self), set_name, self)

    def knows_medication(self, medication: ResolvedMedication) -> bool:
        """Whether any coding of the medication is in a packaged medication set or the drug table."""
        concept = medication.concept
        if concept is None:
            return False
        entry = self._memo.entries.get((_KNOWN, id(concept)))
        if entry is not None and entry[0][0] is concept:
            return entry[1] is True
        known = self._medication_codes()
        answer = any(
            (coding.system, coding.code) in known or (coding.system == RXNORM and coding.code in self._data.drugs)
            for coding in concept.codings
            if coding.system and coding.code
        )
        if not answer and self._ndc_rxnorm:
            # An NDC the site's crosswalk maps, in whatever layout it came: known as its RxNorm code is known.
            answer = any((RXNORM, c.code) in known or c.code in self._data.drugs for c in self.ndc_codings(concept))
        self._memo.put(_KNOWN, concept, answer=answer)
        return answer

    def _medication_codes(self) -> frozenset[Code]:
        codes = self._known_medication_codes
        if codes is None:
            codes = frozenset().union(
                *(
                    members
                    for name, members in self._sets.items()
                    if name in _MEDICATION_SETS or name.endswith("-medications")
                )
            )
            self._known_medication_codes = codes
        return codes

    def _medication_in(self, set_name: str, medication: ResolvedMedication) -> bool:
        self._members(set_name)
        if medication.unresolved:
            return False
        if self.contains(set_name, medication.concept):
            return True
        if set_name in (NALTREXONE, MOUD):
            return self._naltrexone_by_ingredient(medication)
        return False

    def _naltrexone_by_ingredient(self, medication: ResolvedMedication) -> bool:
        resource = medication.resource
        if resource is None or (medication.concept and self._naltrexone_combination(medication.concept)):
            return False
        # Only a naltrexone-only product: a second coded ingredient means a combination (A.5 exclusions). The list is
        # read as every reader reads it: an inactive diluent (a kit's sodium chloride) is no second ingredient.
        return set(medication_listed_codes(medication, self)) == {NALTREXONE_INGREDIENT}

    @property
    def ingredient_code_aliases(self) -> Mapping[str, str]:
        """The site's ingredient code aliases (`mme.ingredient_code_aliases`: a local or precise-ingredient code →
        its RxNorm ingredient), the one place every reader of a Medication's ingredient list takes them from."""
        return self._ingredient_aliases

    def codes(self, set_name: str) -> frozenset[Code]:
        """The enumerable members. OPIOID_POISONING also matches the ICD-10-CM rule, which is not listed here."""
        return self._members(set_name)

    def drug_rows(self, rxcui: str) -> tuple[DrugIngredient, ...]:
        """The drug table's opioid-ingredient rows for an RxCUI; empty when the drug is not in the table."""
        return self._data.drugs.get(rxcui, ())

    def drug_table(self) -> Mapping[str, tuple[DrugIngredient, ...]]:
        """The whole drug table, RxCUI to its opioid-ingredient rows (the largest strengths are derived from it)."""
        return self._data.drugs

    def generic_drug(self, rxcui: str) -> str:
        """The clinical drug (RxNorm SCD) a branded drug of the table stands for, else the code itself: Percocet
        10/325 (1049625) is acetaminophen 325 MG / oxycodone hydrochloride 10 MG Oral Tablet (1049214). RxNorm names a
        branded drug as its clinical drug followed by the brand in brackets, which is how the table's are matched."""
        return self._data.generics.get(rxcui, rxcui)

    def same_form_strengths(self, rxcui: str) -> tuple[Decimal, ...]:
        """Strengths (mg per unit) of single-opioid products with this drug's ingredient, dose form and unit,
        for a taper that needs a smaller tablet; empty when the drug is unknown or a combination."""
        rows = self.drug_rows(rxcui)
        if len(rows) != 1:
            return ()
        row = rows[0]
        found = {
            other[0].strength_value
            for other in self._data.drugs.values()
            if len(other) == 1
            and other[0].ingredient_rxcui == row.ingredient_rxcui
            and other[0].dose_form_rxcui == row.dose_form_rxcui
            and other[0].strength_unit == row.strength_unit
            and (" / " in other[0].drug_name) == (" / " in row.drug_name)
        }
        return tuple(sorted(found))

    def display(self, system: str, code: str) -> str | None:
        """The value sets' name for a code; an ICD-10-CM code is looked up dotted, as the sets hold it (claims send
        "F1120", and the card named the diagnosis "F1120")."""
        found = self._data.displays.get((system, code))
        if found is None and system == ICD10CM:
            return self._data.displays.get((ICD10CM, icd10cm_dotted(code)))
        return found

    def medication_name(self, medication: ResolvedMedication) -> str:
        """The display name of guideline 2.1: text, drug-table coding, any RxNorm coding, bare codes recognition
        names (`coded_name`), reference display, then any other coding's display (an EHR's own code or an NDC)."""
        entry = self._medication_memo.entries.get((_NAME, id(medication)))
        if entry is not None and entry[0][0] is medication:
            return entry[1]  # type: ignore[return-value]
        name = self._medication_name(medication)
        self._medication_memo.put(_NAME, medication, answer=name)
        return name

    def ndc_codings(self, concept: Concept | None) -> tuple[Coding, ...]:
        """The RxNorm codings the site's crosswalk gives the concept's NDC codings (none without a crosswalk)."""
        if not self._ndc_rxnorm or concept is None:
            return ()
        found = (self._ndc_rxnorm.get(self._ndc.match(c.code).ndc or "") for c in concept.codings if c.system == NDC)
        return tuple(Coding(RXNORM, rxcui) for rxcui in dict.fromkeys(found) if rxcui)

    def ndc_ambiguous(self, concept: Concept | None) -> bool:
        """Whether an NDC coding of the concept, written in a short form, matches more than one crosswalk product."""
        if concept is None:
            return False
        return any(self._ndc.match(c.code).ambiguous for c in concept.codings if c.system == NDC)

    def rxnorm_codings(self, concept: Concept | None) -> tuple[Coding, ...]:
        """The concept's RxNorm codings, then those its NDCs map to."""
        if concept is None:
            return ()
        own = tuple(c for c in concept.codings if c.system == RXNORM and c.code)
        return own + self.ndc_codings(concept) if self._ndc_rxnorm else own

    def _medication_name(self, medication: ResolvedMedication) -> str:
        concept = medication.concept
        if concept is not None:
            if concept.text:
                return concept.text
            rxnorm = list(self.rxnorm_codings(concept))
            for coding in rxnorm:
                rows = self.drug_rows(coding.code or "")
                if rows:
                    return coding.display or rows[0].drug_name
            for coding in rxnorm:
                name = coding.display or self.display(RXNORM, coding.code or "")
                if name:
                    return name
            # An opioid, benzodiazepine or naloxone sent by codes no value set names (an ingredient's): called what
            # recognition read it as, never "unnamed medication" on the card that counts it.
            named = coded_name(medication)
            if named:
                return named
        if medication.reference_display:
            return medication.reference_display
        if concept is not None:
            # Epic sends a medication it has no RxNorm code for under its own code, named in the display only.
            shown = next((c.display for c in concept.codings if c.display and c.display.strip()), None)
            if shown:
                return shown
        return UNNAMED_MEDICATION

    def substances_for_test(self, concept: Concept | None) -> tuple[UdsSubstance, ...]:
        """The 10.4 substances a test code reports on, in table order; empty for tests not mapped to one."""
        if concept is None:
            return ()
        entry = self._memo.entries.get((_SUBSTANCES, id(concept)))
        if entry is not None and entry[0][0] is concept:
            return entry[1]  # type: ignore[return-value]
        substances = self._substances_for_test(concept)
        self._memo.put(_SUBSTANCES, concept, answer=substances)
        return substances

    def _substances_for_test(self, concept: Concept) -> tuple[UdsSubstance, ...]:
        found: set[UdsSubstance] = set()
        for coding in concept.codings:
            if coding.system and coding.code:
                found.update(self._substances_by_test.get((coding.system, coding.code), ()))
        return tuple(s for s in self.uds_substances if s in found) if found else ()

    def substances_keyed(self, keys: Iterable[str]) -> tuple[UdsSubstance, ...]:
        """The substance rows of these row keys (`UdsSubstance.row_key`), in table order."""
        wanted = frozenset(keys)
        return tuple(s for s in self.uds_substances if s.row_key in wanted)

    def analyte_not_judged(self, concept: Concept | None) -> str | None:
        """The analyte of a urine drug test code the analyte table lists with no row to judge it ("sertraline")."""
        for coding in concept.codings if concept else ():
            listed = self._data.uds_analytes.get((coding.system or "", coding.code or ""))
            if listed and not listed[1]:
                return listed[0]
        return None


_CACHE: dict[_Options, Terminology] = {}
_CACHE_LOCK = threading.Lock()
# Every hook call asks with the service's one configuration object: its options are read once, not per call. Held
# weakly (WeakIdentityMemo), as every per-configuration memo is: settings read again free the old configuration.
_BY_CONFIG = WeakIdentityMemo(limit=64)


def load_terminology(config: GuidelineConfig) -> Terminology:
    """The Terminology for this configuration; equal relevant settings give the very same object."""
    terminology = _BY_CONFIG.get("terminology", config)
    if terminology is MISSING:
        terminology = _load_terminology(config)
        _BY_CONFIG.put("terminology", config, answer=terminology)
    return terminology  # type: ignore[return-value]


def _load_terminology(config: GuidelineConfig) -> Terminology:
    options = _options(config)
    with _CACHE_LOCK:
        terminology = _CACHE.get(options)
        if terminology is None:
            data = _data()
            sets = _derive(data, options)
            _with_ndc_members(sets, options.ndc_rxnorm)
            terminology = Terminology(data, sets, dict(options.ndc_rxnorm), dict(options.ingredient_aliases))
            _CACHE[options] = terminology
        return terminology
