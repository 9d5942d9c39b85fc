"""MME conversion factors of guideline 8.1 as data: both profiles, data-file factors, fentanyl forms, tiers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

Basis = Literal["mg", "mcg", "mcg/h"]
Source = Literal["cdc2022", "cdc2016", "datafile"]

# RxNorm ingredient (IN) codes named in guideline 8.1.
CODEINE = "2670"
FENTANYL = "4337"
HYDROCODONE = "5489"
HYDROMORPHONE = "3423"
METHADONE = "6813"
MORPHINE = "7052"
OXYCODONE = "7804"
OXYMORPHONE = "7814"
TAPENTADOL = "787390"
TRAMADOL = "10689"
LEVORPHANOL = "6378"
MEPERIDINE = "6754"
PENTAZOCINE = "8001"
BUTORPHANOL = "1841"
DIHYDROCODEINE = "23088"
OPIUM = "7676"
LEVOMETHADYL = "237005"
BUPRENORPHINE = "1819"
NALBUPHINE = "7238"
PROPOXYPHENE = "8785"

# Ingredient names as shown to clinicians (lowercase, the drug table spells some in capitals).
INGREDIENT_NAMES: dict[str, str] = {
    CODEINE: "codeine",
    FENTANYL: "fentanyl",
    HYDROCODONE: "hydrocodone",
    HYDROMORPHONE: "hydromorphone",
    METHADONE: "methadone",
    MORPHINE: "morphine",
    OXYCODONE: "oxycodone",
    OXYMORPHONE: "oxymorphone",
    TAPENTADOL: "tapentadol",
    TRAMADOL: "tramadol",
    LEVORPHANOL: "levorphanol",
    MEPERIDINE: "meperidine",
    PENTAZOCINE: "pentazocine",
    BUTORPHANOL: "butorphanol",
    DIHYDROCODEINE: "dihydrocodeine",
    OPIUM: "opium",
    LEVOMETHADYL: "levomethadyl",
    BUPRENORPHINE: "buprenorphine",
    NALBUPHINE: "nalbuphine",
    PROPOXYPHENE: "propoxyphene",
}

# RxNorm dose forms that decide fentanyl's factor.
TRANSDERMAL_SYSTEM = "316987"
BUCCAL_TABLET = "970789"
SUBLINGUAL_TABLET = "317007"
ORAL_LOZENGE = "316992"
BUCCAL_FILM = "858080"
NASAL_SPRAY = "126542"
MUCOSAL_SPRAY = "346163"
METERED_NASAL_SPRAY = "1797831"
PACK = "746839"

DOSE_FORM_NAMES: dict[str, str] = {
    TRANSDERMAL_SYSTEM: "Transdermal System",
    BUCCAL_TABLET: "Buccal Tablet",
    SUBLINGUAL_TABLET: "Sublingual Tablet",
    ORAL_LOZENGE: "Oral Lozenge",
    BUCCAL_FILM: "Buccal Film",
    NASAL_SPRAY: "Nasal Spray",
    MUCOSAL_SPRAY: "Mucosal Spray",
    METERED_NASAL_SPRAY: "Metered Dose Nasal Spray",
}

# Medication.form text keywords → dose form (guideline 8.2 step 3); checked in this order, so "buccal tablet"
# is tried before the bare words of other forms.
FORM_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("buccal tablet", BUCCAL_TABLET),
    ("mucosal spray", MUCOSAL_SPRAY),
    ("sublingual spray", MUCOSAL_SPRAY),
    ("oral spray", MUCOSAL_SPRAY),
    ("sublingual", SUBLINGUAL_TABLET),
    ("lozenge", ORAL_LOZENGE),
    ("buccal film", BUCCAL_FILM),
    ("nasal", NASAL_SPRAY),
    ("mucosal", MUCOSAL_SPRAY),
    ("transdermal", TRANSDERMAL_SYSTEM),
    ("patch", TRANSDERMAL_SYSTEM),
)


@dataclass(frozen=True)
class FactorRule:
    """One row of a factor table: ingredient, optional dose forms, factor (exact), basis and source label."""

    ingredient: str
    factor: Decimal
    basis: Basis
    source: Source
    dose_forms: frozenset[str] | None = None  # None: any dose form


def _rule(ingredient: str, factor: str, source: Source, basis: Basis = "mg", forms: tuple[str, ...] = ()) -> FactorRule:
    return FactorRule(ingredient, Decimal(factor), basis, source, frozenset(forms) if forms else None)


_TRANSMUCOSAL_FENTANYL: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("0.13", (BUCCAL_TABLET, SUBLINGUAL_TABLET, ORAL_LOZENGE)),
    ("0.18", (BUCCAL_FILM,)),
    ("0.16", (NASAL_SPRAY, MUCOSAL_SPRAY, METERED_NASAL_SPRAY)),
)

# Transmucosal immediate-release fentanyl (TIRF: Actiq, Fentora, Abstral, Onsolis, Subsys, Lazanda): the forms with a
# data-file factor above. Every product in them is for opioid-tolerant patients only (FDA boxed warning, TIRF REMS).
TRANSMUCOSAL_FENTANYL_FORMS = frozenset(form for _, forms in _TRANSMUCOSAL_FENTANYL for form in forms)


def pack_form(drug_name: str) -> str | None:
    """A pack's dose form is the one named inside its drug name (longest name first: "Metered Dose Nasal Spray")."""
    lowered = drug_name.lower()
    for form_code, form_name in sorted(DOSE_FORM_NAMES.items(), key=lambda item: -len(item[1])):
        if form_name.lower() in lowered:
            return form_code
    return None


def product_form(dose_form: str, drug_name: str) -> str:
    """A drug-table product's dose form: a pack's is the form named inside its drug name (Subsys's spray), else
    the pack's own; the MME factors and the TIRF set read it alike."""
    return (pack_form(drug_name) or dose_form) if dose_form == PACK else dose_form


# Opium is counted by its morphine: opium USP is about 10 % anhydrous morphine by weight (Opium Tincture USP: 10 g of
# powdered opium, 1 g of morphine per 100 mL), and its effect is its morphine's. RxNorm states opium products by their
# opium ("opium tincture 100 MG/ML", B&O "opium 30 MG"), so the factor per mg of opium is 0.1, 1 per mg of morphine.
# The CDC data file's 1 per mg of opium counted laudanum and B&O suppositories ten times over. Clinical lead to confirm.
OPIUM_MORPHINE_FRACTION = Decimal("0.1")
# The strongest opium liquid, the tincture, holds 10 mg of morphine per mL (100 mg of opium).
_OPIUM_LIQUID_MORPHINE_MAX = Decimal(10)


def opium_of_morphine(mg: Decimal) -> Decimal:
    """The mg of opium that holds `mg` of morphine (ten times as much)."""
    return mg / OPIUM_MORPHINE_FRACTION


def opium_mass(mg: Decimal, per: str) -> Decimal:
    """The mg of opium a stated opium strength means. US labels and drug files name the liquids by their morphine
    (tincture "10 mg/mL", paregoric "2 mg/5 mL"), RxNorm by their opium (100 mg/mL): no liquid holds over 10 mg/mL
    morphine, so a strength per mL up to that is its morphine and stands for ten times as much opium. A
    suppository's strength is its opium (B&O "16.2 mg/30 mg"), as RxNorm states it."""
    if per == "ml" and mg <= _OPIUM_LIQUID_MORPHINE_MAX:
        return opium_of_morphine(mg)
    return mg


def morphine_is_opium_content(ingredients: Iterable[str]) -> bool:
    """Whether morphine named beside opium is the opium's morphine content (RxNorm ingredient codes): no product
    holds both, and pharmacies, DailyMed and EHR ingredient lists name the tincture's morphine beside its opium."""
    found = set(ingredients)
    return OPIUM in found and MORPHINE in found


OPIUM_DOSE_NOTE = "an opium liquid is dosed in mg of its morphine, ten times as much opium"


def dosed_by_morphine(ingredient: str, strengths: Sequence[Any]) -> bool:
    """Whether a dose in mg of this product is its morphine: an opium liquid's label doses it so ("0.6 mL (6 mg of
    anhydrous morphine)"), as Epic's order composer does ("6 mg")."""
    return ingredient == OPIUM and any(s.per == "ml" for s in strengths)


def opium_dose_mass(ingredient: str, mg: Decimal, strengths: Sequence[Any]) -> Decimal:
    """The mg of the ingredient a dose in mg means: 6 mg of opium tincture is 60 mg of opium; any other is itself."""
    return opium_of_morphine(mg) if dosed_by_morphine(ingredient, strengths) else mg


def datafile_words(ingredient: str, factor: str, table: str) -> str:
    """How an explanation names a data-file factor; opium's says it is counted by its morphine, not as the file says."""
    if ingredient == OPIUM:
        return (
            f"factor {factor}: opium is counted by its morphine, about 10 %, 1 per mg of morphine; "
            f"the CDC data file's 1 per mg of opium would count it ten times over"
        )
    return f"factor {factor} from the CDC data file, not in the {table} clinical table"


# Data-file factors: used by cdc2022 unless turned off, and by cdc2016 only when turned on (opium's is the file's
# row corrected to its morphine content, above).
DATAFILE_RULES: tuple[FactorRule, ...] = (
    *(_rule(FENTANYL, factor, "datafile", "mcg", forms) for factor, forms in _TRANSMUCOSAL_FENTANYL),
    _rule(LEVORPHANOL, "11", "datafile"),
    _rule(MEPERIDINE, "0.1", "datafile"),
    _rule(PENTAZOCINE, "0.37", "datafile"),
    _rule(BUTORPHANOL, "7", "datafile"),
    _rule(DIHYDROCODEINE, "0.25", "datafile"),
    _rule(OPIUM, str(OPIUM_MORPHINE_FRACTION), "datafile"),
    _rule(LEVOMETHADYL, "8", "datafile"),
)

CLINICAL_RULES: dict[str, tuple[FactorRule, ...]] = {
    "cdc2022": (
        _rule(CODEINE, "0.15", "cdc2022"),
        _rule(FENTANYL, "2.4", "cdc2022", "mcg/h", (TRANSDERMAL_SYSTEM,)),
        _rule(HYDROCODONE, "1", "cdc2022"),
        _rule(HYDROMORPHONE, "5", "cdc2022"),
        _rule(METHADONE, "4.7", "cdc2022"),
        _rule(MORPHINE, "1", "cdc2022"),
        _rule(OXYCODONE, "1.5", "cdc2022"),
        _rule(OXYMORPHONE, "3", "cdc2022"),
        _rule(TAPENTADOL, "0.4", "cdc2022"),
        _rule(TRAMADOL, "0.2", "cdc2022"),
    ),
    "cdc2016": (
        _rule(CODEINE, "0.15", "cdc2016"),
        _rule(FENTANYL, "2.4", "cdc2016", "mcg/h", (TRANSDERMAL_SYSTEM,)),
        _rule(HYDROCODONE, "1", "cdc2016"),
        _rule(HYDROMORPHONE, "4", "cdc2016"),
        _rule(MORPHINE, "1", "cdc2016"),
        _rule(OXYCODONE, "1.5", "cdc2016"),
        _rule(OXYMORPHONE, "3", "cdc2016"),
        # methadone: tiered, see METHADONE_TIERS_2016
    ),
}

# cdc2016 methadone tiers on total daily methadone mg D, half-open: (low, high] → factor; high None = no limit.
METHADONE_TIERS_2016: tuple[tuple[Decimal, Decimal | None, Decimal], ...] = (
    (Decimal(0), Decimal(20), Decimal(4)),
    (Decimal(20), Decimal(40), Decimal(8)),
    (Decimal(40), Decimal(60), Decimal(10)),
    (Decimal(60), None, Decimal(12)),
)

# Every ingredient code 8.2 step 3 recognises in Medication.ingredient (opioids of 8.1, convertible or not).
OPIOID_INGREDIENTS = frozenset(INGREDIENT_NAMES)

PROFILE_LABELS = {"cdc2022": "CDC 2022 factors", "cdc2016": "CDC 2016 factors"}


def rules_for(profile: str, use_datafile: bool) -> tuple[FactorRule, ...]:
    """The factor rules in force for a profile, data-file rules last so clinical rows win."""
    return CLINICAL_RULES[profile] + (DATAFILE_RULES if use_datafile else ())


def find_rule(rules: tuple[FactorRule, ...], ingredient: str, dose_form: str | None) -> FactorRule | None:
    for rule in rules:
        if rule.ingredient == ingredient and (rule.dose_forms is None or dose_form in rule.dose_forms):
            return rule
    return None


def methadone_tier(daily_mg: Decimal) -> Decimal | None:
    """cdc2016 factor for daily methadone D; None for D ≤ 0."""
    for low, high, factor in METHADONE_TIERS_2016:
        if daily_mg > low and (high is None or daily_mg <= high):
            return factor
    return None
