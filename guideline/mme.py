"""Morphine milligram equivalents per order and in total (guideline 8 and 9; result structure 8.9)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from guideline import mme_factors as mf
from guideline.dosage import (
    CANONICAL_UNIT,
    SIG_NOT_READ,
    UNPAIRED,
    Amount,
    Frequency,
    TimedDoses,
    UnitClass,
    count_text,
    daily_cap,
    doses_by_time,
    doses_per_day,
    doses_per_dosing_day,
    entry_amount,
    number_text,
    pick_dose,
    plausible,
    sig_dose_and_frequency,
    to_amount,
    to_one_place,
)
from guideline.durations import (
    BEYOND_A_PRESCRIPTION,
    MAX_DAYS_SUPPLY,
    SHORT_OF_A_PRESCRIPTION,
    quantity_days,
    why_not_held,
)
from guideline.fhirdata import NDC, RXNORM, Coding, Concept
from guideline.memo import MISSING, IdentityMemo
from guideline.recognition import Recognition, recognise, unidentified_name
from guideline.recognition.classify import FORM_CODES, names_against_code, stated_part
from guideline.recognition.lexicon import ingredients as known_ingredients
from guideline.recognition.names import read_name
from guideline.recognition.strength_bounds import PER_BY_UNIT, implausible, row_ingredient
from guideline.recognition.strengths import (
    Strength,
    form_words,
    ingredient_codes,
    listed_form,
    mass_strength,
    medication_listed,
    unreal_listed,
)
from guideline.record import Dosage, MedicationIngredient, MedOrder, ResolvedMedication
from guideline.terminology import (
    BUPRENORPHINE,
    NALOXONE_INGREDIENT,
    NALTREXONE_INGREDIENT,
    OUD_TREATMENT_OPIOID,
    UNNAMED_MEDICATION,
)
from guideline.words import QUOTED_CHARACTERS, and_list, clip

if TYPE_CHECKING:
    from guideline.config import GuidelineConfig
    from guideline.fills import FillMme, UnreadFill
    from guideline.terminology import Terminology

# Precision ≥ 28 and banker's rounding for the 6-dp comparison quantum, whatever the caller's context (1.4).
DECIMAL_CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
SIX_DP = Decimal("0.000001")

REASON_TEXT: dict[str, str] = {
    "medication-unresolved": "the medication reference could not be resolved",
    "not-in-drug-table": "no RxNorm code of this medication is in the drug table and no usable ingredient strength "
    "is given",
    # A medication known by NDC codes alone that nothing maps: "no RxNorm code ... is in the drug table" misnamed it.
    "ndc-not-mapped": "known only by its NDC, which neither PainPlan's packaged data nor the site's NDC crosswalk "
    "ndc.rxnorm maps to a product, so PainPlan cannot tell what it is; it may be an opioid",
    # Ten digits without hyphens, or a product code without its package code, that fits more than one crosswalk entry.
    "ndc-ambiguous": "known only by its NDC, written as ten digits without hyphens or without its package code, which "
    "fits more than one product in the site's NDC crosswalk ndc.rxnorm, so PainPlan cannot tell what it is; it may be "
    "an opioid",
    "conflicting-codes": "the RxNorm codes on the order describe different strengths or products",
    "no-frequency": "the dosage has no frequency and there is no dispense quantity and days' supply to estimate from",
    "no-dose": "the dosage has no dose and there is no dispense quantity and days' supply to estimate from",
    "dose-by-time-unread": "the instructions give different doses at different times of day and PainPlan could not "
    "tell which dose goes with which time, so no one dose is assumed, and there is no dispense quantity and days' "
    "supply to estimate from",
    # A sig far longer than any prescription's is not read (`words.TEXT_READ_CHARACTERS`): what it says may change
    # the coded dose, so none is trusted.
    "sig-not-read": "the instructions' text is longer than any prescription's and was not read, so no dose is "
    "trusted, and there is no dispense quantity and days' supply to estimate from",
    # Quantity ÷ an expected supply no prescription can hold (90 tablets "over 1200 days", 120 keyed with a zero too
    # many) is no dose: it would be counted far too low while the supply itself is not counted (guideline.supply).
    "supply-over-999": "the dosage gives no daily dose to read, and its expected supply duration is more than "
    f"{MAX_DAYS_SUPPLY} days, {BEYOND_A_PRESCRIPTION}, so no daily dose was estimated from the dispense "
    "quantity; check the quantity and days' supply",
    # Quantity ÷ an expected supply of under a day (0.01 days, 10 minutes keyed for 10 days) is no dose either: 60
    # tablets "over 0.01 days" were 6000 a day, a false alarm of tens of thousands of MME.
    "supply-under-a-day": "the dosage gives no daily dose to read, and its expected supply duration is "
    f"{SHORT_OF_A_PRESCRIPTION}, so no daily dose was estimated from the dispense quantity; check the quantity and "
    "days' supply",
    "implausible-frequency": "the dosage is more often than every 15 minutes, which no one takes; check the order",
    "unit-not-convertible": "the dose unit cannot be combined with the product strength",
    "unit-unknown": "the dose or quantity unit is not one PainPlan can read (a package such as a box or vial, or an "
    "unfamiliar word), so it is not counted as tablets",
    "ambiguous-mass-dose": "a dose in mg was given for a combination product and it is not clear which ingredient it "
    "measures",
    "no-factor": "the selected profile has no conversion factor for this ingredient or dose form",
    "injected": "the conversion factors are for oral, transdermal and transmucosal use; an injected opioid has none",
    "no-strength": "the product strength is missing or unusable",
    # A strength read from a name ("oxycodone 5,325 mg") or an ingredient list (5000 mg a tablet) above every
    # product's: `reason_words` says which and why.
    "implausible-strength": "the strength read from its name or its ingredient list is more than any product of that "
    "opioid holds; check the order",
    # A name read only in part ("oxycodone / Foo 5 mg"): the strength written may be the unread ingredient's.
    "unread-ingredient": "another ingredient in its name was not recognised, so which strength is the opioid's "
    "could not be told and its dose could not be read",
    "buprenorphine": "buprenorphine (not included in MME)",
    "oud-methadone": "methadone for opioid use disorder (not counted in MME; the CDC thresholds do not apply)",
    # A draft of the same product as a current order with no priorPrescription (guideline.renewals): one of the two.
    "renewed": "renewed by the new order of the same product (no priorPrescription links them), so the larger daily "
    "dose of the two is counted, not both",
    "renewal": "a new order of the same product as a current order, read as its renewal (no priorPrescription links "
    "them), so the larger daily dose of the two, the current order's, is counted, not both",
    # A signed reorder with no priorPrescription of a finished order whose last fill implies more: the fill counts.
    "reorder": "a new order of the same product as a finished order whose last fill still supplies, read as its "
    "reorder (no priorPrescription links them), so the larger daily dose of the two, the fill's, is counted, not both",
    # An active order that begins after today (guideline.later_starts): a staggered prescription, filled later.
    "not-started": "starts after today (its earliest fill date, or its first dose, is still ahead), so not counted in "
    "today's total",
    # Drafts of one product being signed together to be filled on different days (guideline.later_starts).
    "series": "a prescription of a staggered series being signed (one product, to be filled on different days), so "
    "the series is counted once, at its largest daily dose",
}
# Why an opioid listed with its daily dose is kept out of the total: the end of its explanation.
NOT_COUNTED_TEXT: dict[str, str] = {
    "buprenorphine": "buprenorphine is not included in MME",
    "oud-methadone": REASON_TEXT["oud-methadone"],
    "renewed": REASON_TEXT["renewed"],
    "renewal": REASON_TEXT["renewal"],
    "reorder": REASON_TEXT["reorder"],
    "not-started": REASON_TEXT["not-started"],
    "series": REASON_TEXT["series"],
}

FALLBACK_NOTE = "estimated from dispense quantity and days' supply"
ONE_PATCH_NOTE = "assumed 1 patch at a time"
PRN_NOTE = "PRN counted at max frequency"


def quantize6(value: Decimal) -> Decimal:
    """Removes division noise before a comparison (guideline 1.4); not display rounding."""
    with localcontext(DECIMAL_CONTEXT):
        return value.quantize(SIX_DP, rounding=ROUND_HALF_EVEN)


def format_mme(value: Decimal) -> str:
    """Display rounding: one decimal place, half up (6.75 → "6.8"), as `supply.one_place` rounds (`to_one_place`).
    Unlike days, an MME keeps its ".0" ("90.0 MME/day"): a dose worked out by multiplication reads as one figure
    in every explanation, card and total, whole or not."""
    return format(to_one_place(value), "f")


# ---------------------------------------------------------------------------------------------------------------
# Step 1: which drug, which opioid ingredient strengths (8.2)


@dataclass(frozen=True)
class IngredientStrength:
    """One opioid ingredient of the product: strength in mg per unit, per mL, per hour or per actuation."""

    ingredient: str
    name: str
    mg: Decimal
    per: Strength


@dataclass(frozen=True)
class StrengthConflict:
    """An opioid whose RxNorm code says one strength and the order's name (text or the code's display) another."""

    name: str
    coded: Decimal
    named: tuple[Decimal, ...]
    per: Strength
    # Named strengths more than any product of the opioid holds ("5,325 mg"): named, never counted over the code's.
    unreal: tuple[Decimal, ...] = ()
    said_by: str = "name"  # or "ingredient list": where the other strength is written
    stated_by: str = "code"  # where `coded` is written: the code, or an ingredient list's first entry of the opioid

    @property
    def counted(self) -> Decimal:
        return max((self.coded, *(n for n in self.named if n not in self.unreal)))


@dataclass(frozen=True)
class DrugConflict:
    """A name of a coded product that states other opioids than its code (an EHR drug record mapped to the wrong
    RxNorm code, a name edited after coding): the drug that name reads as, or why it has no strength."""

    coded: tuple[str, ...]  # the code's opioids ("oxycodone")
    named: tuple[str, ...]  # the name's ("hydromorphone")
    name: str  # the name that states them
    reading: Drug | str  # the drug the name alone is read as, or a reason code
    opioid: bool = True  # False: the name states no opioid at all, and the code's opioid is kept


@dataclass(frozen=True)
class Drug:
    """The identified product: matched code, dose form (packs resolved to their inner form) and strengths."""

    rxcui: str | None
    display: str | None
    dose_form: str | None
    strengths: tuple[IngredientStrength, ...]
    transdermal: bool
    from_ingredients: bool = False
    from_name: bool = False  # strengths read from the medication's name (no code in the drug table)
    # An injection: an oral factor would understate it about threefold (4 mg IV morphine is no 4 MME), so none applies.
    injected: bool = False
    # The other ingredients of a combination product (acetaminophen 325 mg of Percocet), read from its name, so a
    # dose in mg can be matched to the ingredient it measures; `partner_unknown` when one's strength is not known.
    partners: tuple[IngredientStrength, ...] = ()
    partner_unknown: bool = False
    # The code's strength of an opioid and the other strength its name states: the higher one is counted.
    conflicts: tuple[StrengthConflict, ...] = ()
    # Names of the order that state another opioid than its code: each read as the drug it names, and the reading
    # whose MME is the higher counted (`counted_reading`).
    drug_conflicts: tuple[DrugConflict, ...] = ()

    @property
    def combination(self) -> bool:
        return bool(self.partners) or self.partner_unknown

    @property
    def ingredients(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.ingredient for s in self.strengths))


def _drug_from_rows(coding: Coding, rows: Sequence[Any]) -> Drug | str:
    strengths: list[IngredientStrength] = []
    dose_form = mf.product_form(rows[0].dose_form_rxcui, rows[0].drug_name)
    for row in rows:
        per = PER_BY_UNIT.get(str(row.strength_unit).upper())
        value = row.strength_value
        if per is None or value is None or value <= 0:
            return "no-strength"
        name = row_ingredient(row)
        strengths.append(IngredientStrength(row.ingredient_rxcui, name, Decimal(value), per))
    transdermal = dose_form == mf.TRANSDERMAL_SYSTEM or any(s.per == "hour" for s in strengths)
    injected = rows[0].route == "injection"
    partners, unknown = _partners(str(rows[0].drug_name))
    return Drug(
        coding.code,
        coding.display or rows[0].drug_name,
        dose_form,
        tuple(strengths),
        transdermal,
        injected=injected,
        partners=partners,
        partner_unknown=unknown,
    )


# An opioid antagonist added against misuse (the naloxone of buprenorphine/naloxone) is never the ingredient a dose
# in mg is written for, so it is no partner: "8 mg" of buprenorphine/naloxone 8/2 is buprenorphine.
_ANTAGONISTS = ("naloxone", "naltrexone")


@lru_cache(maxsize=4096)
def _partners(name: str) -> tuple[tuple[IngredientStrength, ...], bool]:
    """The non-opioid ingredients of a product and their strengths, from its name ("acetaminophen 325 MG /
    oxycodone hydrochloride 5 MG Oral Tablet"), and whether one is there whose strength could not be read."""
    reading = read_name(name)
    partners = []
    # An RxNorm name lists every ingredient between " / ": one the name reader does not know is a partner unknown.
    unknown = " / " in name and any(not read_name(part).ingredients for part in name.split(" / "))
    for ingredient in reading.ingredients:
        if ingredient.kind in ("opioid", *_ANTAGONISTS):
            continue
        strength = next((s for s in reading.strengths if s.ingredient == ingredient.name), None)
        if strength is None or strength.mg <= 0:
            unknown = True
            continue
        partners.append(IngredientStrength(ingredient.name, ingredient.name, strength.mg, strength.per))
    return tuple(partners), unknown


def _row_content(rows: Sequence[Any]) -> frozenset[tuple[Any, ...]]:
    return frozenset((r.ingredient_rxcui, Decimal(r.strength_value), r.strength_unit, r.dose_form_rxcui) for r in rows)


def _same_dose(matches: Sequence[tuple[Coding, Sequence[Any]]]) -> bool:
    """Whether codes that differ only in dose form give one MME: the same ingredients and strengths, none of them
    fentanyl (whose factor depends on the form). An EHR's medication record can list several equivalent products,
    such as oxycodone 5 mg tablet and capsule."""
    rows = [row for _, found in matches for row in found]
    if any(row.ingredient_rxcui == mf.FENTANYL for row in rows):
        return False
    doses = {
        frozenset((r.ingredient_rxcui, Decimal(r.strength_value), r.strength_unit) for r in found)
        for _, found in matches
    }
    return len(doses) == 1


def _rxnorm_codings(medication: ResolvedMedication) -> list[Coding]:
    concept = medication.concept
    return [c for c in (concept.codings if concept else ()) if c.system == RXNORM and c.code]


def _form_from_medication(medication: ResolvedMedication) -> str | None:
    form = medication.resource.form if medication.resource else None
    if form is None:
        return None
    for coding in form.codings:
        if coding.system == RXNORM and coding.code:
            return coding.code
    words = form_words(medication) or ""
    for keyword, form_code in mf.FORM_KEYWORDS:
        if keyword in words:
            return form_code
    return None


def _drug_from_ingredients(medication: ResolvedMedication, terms: Terminology) -> Drug | str:
    """Guideline 8.2 step 3: Medication.ingredient with RxNorm ingredient codes and Ratio strengths; an opioid
    strength no product has is not counted (`implausible-strength`), as a name's is not."""
    resource = medication.resource
    if resource is None or not resource.ingredients:
        return "not-in-drug-table"
    strengths: list[IngredientStrength] = []
    partners: list[IngredientStrength | None] = []
    for listed in medication_listed(medication, terms):
        item, ingredient, strength = listed.item, listed.ingredient, listed.strength
        if ingredient is None:
            if not _antagonist(item, terms):
                partners.append(_partner(item))  # a non-opioid ingredient such as acetaminophen
            continue
        if strength is None:
            if listed.named:
                continue  # a name without a usable strength: the names decide, as with no ingredient at all
            return "no-strength"
        mg, per = strength
        strengths.append(IngredientStrength(ingredient, mf.INGREDIENT_NAMES[ingredient], mg, per))
    if not strengths:
        return "not-in-drug-table"
    if unreal_listed(medication, terms) is not None:
        return "implausible-strength"  # a drug-file error or mg keyed for mcg: counting it gave a false critical total
    dose_form = _form_from_medication(medication)
    transdermal = dose_form == mf.TRANSDERMAL_SYSTEM or any(s.per == "hour" for s in strengths)
    codes = _rxnorm_codings(medication)
    rxcui = codes[0].code if codes else None
    injected = _injection_form(medication)
    known = tuple(p for p in partners if p is not None)
    first, others = _first_of_each(strengths)
    drug = Drug(
        rxcui,
        None,
        dose_form,
        first,
        transdermal,
        from_ingredients=True,
        injected=injected,
        partners=known,
        partner_unknown=len(known) < len(partners),
    )
    if not others:
        return drug
    # The list states one opioid twice (oxycodone 7804 and oxycodone hydrochloride 82063, or one code repeated):
    # one ingredient, never two to sum. Its other entries are weighed against its first as a name against a code.
    again = _Statement(
        "ingredient list's other entry",
        lambda rxcui, _name, per: others.get((rxcui, per), []),
        lambda _name, _mg, _per: False,  # every listed strength is one a product holds (`unreal_listed` above)
        against="ingredient list",
    )
    return _with_stated_strengths(drug, [again])


def _first_of_each(
    strengths: Sequence[IngredientStrength],
) -> tuple[tuple[IngredientStrength, ...], dict[tuple[str, Strength], list[Decimal]]]:
    """The first strength the list gives of each opioid per basis, and the strengths its other entries give of it."""
    first: dict[tuple[str, Strength], IngredientStrength] = {}
    others: dict[tuple[str, Strength], list[Decimal]] = {}
    for strength in strengths:
        key = (strength.ingredient, strength.per)
        if key in first:
            others.setdefault(key, []).append(strength.mg)
        else:
            first[key] = strength
    return tuple(first.values()), others


def _antagonist(item: MedicationIngredient, terms: Terminology) -> bool:
    """Whether a Medication.ingredient is naloxone or naltrexone, by its RxNorm code (a site's alias read through)
    or its name."""
    if item.item is None:
        return False
    if {NALOXONE_INGREDIENT, NALTREXONE_INGREDIENT} & set(ingredient_codes(item, terms.ingredient_code_aliases)):
        return True
    names = (item.item.text, *(c.display for c in item.item.codings))
    return any(i.kind in _ANTAGONISTS for n in names if n for i in read_name(n).ingredients)


def _partner(item: MedicationIngredient) -> IngredientStrength | None:
    """A non-opioid Medication.ingredient with its mass strength, or None when the strength cannot be read."""
    strength = mass_strength(item)
    if strength is None:
        return None
    mg, per = strength
    name = _partner_name(item.item)
    return IngredientStrength(name.lower(), name, mg, per)


def _partner_name(item: Concept | None) -> str:
    """A non-opioid ingredient's name, lower-cased: its text (DSTU2 names it by reference display), a coding's
    display, else its RxNorm code, which the packaged tables do not name (they hold opioid products only)."""
    if item is None:
        return "another ingredient"
    name = item.text or next((c.display for c in item.codings if c.display), None)
    if name:
        return name.lower()
    code = next(iter(item.codes(RXNORM)), None)
    return f"RxNorm ingredient {code}" if code else "another ingredient"


def _injection_form(medication: ResolvedMedication) -> bool:
    """Whether the Medication's form says injection ("Injectable Solution", "Prefilled Syringe", ...), read with the
    form words names are read with."""
    return listed_form(medication) == "injection"


def identify_drug(medication: ResolvedMedication, terms: Terminology) -> Drug | str:
    """The drug and its opioid strengths, or an 8.9 reason code (all codings, userSelected breaks conflicts).
    When no code is in the drug table and no Medication.ingredient says it, the name recognition read decides."""
    if medication.unresolved:
        found: Drug | str = "medication-unresolved"
    elif medication.resource is None and medication.concept is not None:
        # Without a Medication resource only the codings decide, and charts repeat a few drugs many times.
        found = _identify_by_codes(medication.concept, terms)
    else:
        found = _identify(medication, terms, read_list=True)
    if found in ("medication-unresolved", "not-in-drug-table"):
        return _drug_from_name(medication, terms) or _ndc_not_mapped(medication, terms, found)
    return found


def _ndc_not_mapped(medication: ResolvedMedication, terms: Terminology, found: str) -> str:
    """ "ndc-not-mapped" for a medication known only by NDCs with no name, which no crosswalk maps (a paregoric claim:
    no packaged data holds paregoric), "ndc-ambiguous" when its short form fits more than one crosswalk product, else
    `found`: the line says why it could not be read."""
    concept = medication.concept
    if found != "not-in-drug-table" or concept is None or concept.text or terms.rxnorm_codings(concept):
        return found
    if medication.resource is not None and medication.resource.ingredients:
        return found
    codings = [c for c in concept.codings if c.code]
    if codings and all(c.system == NDC and not c.display for c in codings):
        return "ndc-ambiguous" if terms.ndc_ambiguous(concept) else "ndc-not-mapped"
    return found


# One Drug per recognised medication, so the per-instruction memo below hits for orders of the same named drug.
_NAMED = IdentityMemo()


def _drug_from_name(medication: ResolvedMedication, terms: Terminology) -> Drug | str | None:
    recognition = recognise(medication, terms)
    if not recognition.by_name or not recognition.is_opioid:
        return None
    drug = _NAMED.get(None, recognition)
    if drug is MISSING:
        drug = _named_drug(recognition, medication, terms)
        _NAMED.put(None, recognition, answer=drug)
    return drug  # type: ignore[return-value]


def _no_strength(recognition: Recognition) -> str:
    """Why a name read as an opioid gave no strength: an ingredient in it not read (its strength may be the one
    written, so none was taken), or none written that PainPlan could use."""
    return "unread-ingredient" if recognition.unread_ingredient else "no-strength"


def reason_words(reason: str, medication: ResolvedMedication, terms: Terminology) -> str | None:
    """Why an order or fill has no MME, in words: its reason's text, but for an opioid read from its name with no
    strength of it, what was read and what is missing ("identified from its name as oxycodone with acetaminophen; no
    strength written"), where "the product strength is missing or unusable" said nothing was read. The card's line,
    the plan page's row and `painplan mme` all read this one text; the reason key stays for the review's counts."""
    if reason == "no-strength":
        recognition = recognise(medication, terms)
        if recognition.by_name and recognition.is_opioid:
            words = _named_without_strength(recognition)
            if medication.resource is not None and medication.resource.ingredients:
                # The Medication's ingredient list was read first and gave no usable opioid strength either.
                words += ", and its ingredient list gives none PainPlan can use"
            return words
    if reason == "implausible-strength":
        return _implausible_words(medication, terms) or REASON_TEXT[reason]
    return REASON_TEXT.get(reason)


# Why a medication known only by its NDC could not be read (`_ndc_not_mapped`): the crosswalk lacks it, or its short
# form fits two drugs. What an unidentified item is named by says it as well, since nothing else on the card does.
NDC_UNREAD = frozenset({"ndc-not-mapped", "ndc-ambiguous"})


def ndc_unread(medication: ResolvedMedication, terms: Terminology) -> str | None:
    """Why a medication known only by its NDC could not be read, in its MME line's words (`reason_words`), else
    None: the unidentified-medication card and the plan page name it with these words."""
    found = identify_drug(medication, terms)
    if isinstance(found, str) and found in NDC_UNREAD:
        return reason_words(found, medication, terms)
    return None


def own_words(reason: str, medication: ResolvedMedication, terms: Terminology) -> str | None:
    """`reason_words` where they say more than the reason's stock text (REASON_TEXT), else None: an order's and a
    fill's `said`, which their lines show in place of their own stock text (a fill's is FILL_REASON_TEXT)."""
    words = reason_words(reason, medication, terms)
    return words if words != REASON_TEXT.get(reason) else None


def _implausible_words(medication: ResolvedMedication, terms: Terminology) -> str | None:
    """ "its ingredient list gives 5000 mg oxycodone, which is more than any oxycodone product holds (largest 80 mg):
    check the order", or from a name, "identified from its name as oxycodone; 5325 mg is more than any oxycodone
    product holds (largest 80 mg): check the order". The list first: it is read before the names."""
    listed = unreal_listed(medication, terms)
    if listed is not None:
        written, most = (_strength_text(mg, listed.per) for mg in (listed.mg, listed.largest))
        return (
            f"its ingredient list gives {written} {listed.ingredient}, which is more than any {listed.ingredient} "
            f"product holds (largest {most}): check the order"
        )
    recognition = recognise(medication, terms)
    for strength in recognition.strengths:
        largest = implausible(terms, strength.ingredient, strength.mg, strength.per, recognition.form)
        if largest is None:
            continue
        written, most = (_strength_text(mg, strength.per) for mg in (strength.mg, largest))
        return (
            f"identified from its name as {_read_as(recognition)}; {written} is more than any {strength.ingredient} "
            f"product holds (largest {most}): check the order"
        )
    return None


def _named_without_strength(recognition: Recognition) -> str:
    """ "identified from its name as pentazocine with aspirin; no strength written", or, where the name writes a
    number none of which is the opioid's strength, "…; its name gives no strength of the hydrocodone"."""
    read = _read_as(recognition)
    if not any(char.isdigit() for char in recognition.display):
        return f"identified from its name as {read}; no strength written"
    opioids = _opioids_read(recognition)
    missing = [name for name in opioids if not _named_strength(recognition, name)]
    return f"identified from its name as {read}; its name gives no strength of the {and_list(missing or opioids)}"


def _opioids_read(recognition: Recognition) -> list[str]:
    """The opioids among the ingredients read from the name, in the name's order."""
    known = known_ingredients()
    return [name for name in recognition.ingredients if known[name].kind == "opioid"]


def _read_as(recognition: Recognition) -> str:
    """ "oxycodone with acetaminophen": the opioids read from the name, then what they are with."""
    opioids = _opioids_read(recognition)
    others = [name for name in recognition.ingredients if name not in opioids]
    return and_list(opioids) + (f" with {and_list(others)}" if others else "")


def _named_strength(recognition: Recognition, name: str) -> bool:
    return any(s.ingredient == name and s.mg > 0 for s in recognition.strengths)


def _named_drug(recognition: Recognition, medication: ResolvedMedication, terms: Terminology) -> Drug | str:
    strengths: list[IngredientStrength] = []
    partners: list[IngredientStrength] = []
    unknown = False
    known = known_ingredients()
    for name in recognition.ingredients:
        ingredient = known[name]
        if ingredient.kind in _ANTAGONISTS:
            continue
        if ingredient.kind != "opioid":
            other = next((s for s in recognition.strengths if s.ingredient == name and s.mg > 0), None)
            if other is None:
                unknown = True
            else:
                partners.append(IngredientStrength(name, name, other.mg, other.per))
            continue
        strength = next((s for s in recognition.strengths if s.ingredient == name), None)
        if strength is None or strength.mg <= 0:
            return _no_strength(recognition)
        if implausible(terms, strength.ingredient, strength.mg, strength.per, recognition.form) is not None:
            return "implausible-strength"  # no product holds it: counting it gave a false critical total
        strengths.append(IngredientStrength(ingredient.rxcui or name, name, strength.mg, strength.per))
    if not strengths:
        return _no_strength(recognition)
    dose_form = FORM_CODES.get(recognition.form or "")
    transdermal = dose_form == mf.TRANSDERMAL_SYSTEM or any(s.per == "hour" for s in strengths)
    codes = _rxnorm_codings(medication)
    rxcui = codes[0].code if codes else None
    injected = recognition.form == "injection"
    return Drug(
        rxcui,
        recognition.display,
        dose_form,
        tuple(strengths),
        transdermal,
        from_name=True,
        injected=injected,
        partners=tuple(partners),
        partner_unknown=unknown,
    )


@lru_cache(maxsize=4096)
def _identify_by_codes(concept: Concept, terms: Terminology) -> Drug | str:
    return _identify(ResolvedMedication(concept=concept), terms, read_list=False)


def _identify(medication: ResolvedMedication, terms: Terminology, *, read_list: bool) -> Drug | str:
    """The drug its codes name in the drug table, else (`read_list`) the one its Medication's ingredient list gives."""
    matches = [(c, terms.drug_rows(c.code or "")) for c in terms.rxnorm_codings(medication.concept)]
    matches = [(c, rows) for c, rows in matches if rows]
    if not matches:
        if not read_list:
            return "not-in-drug-table"  # no Medication resource, so no ingredients to read (8.2 step 3)
        return _drug_from_ingredients(medication, terms)
    contents = {_row_content(rows) for _, rows in matches}
    if len(contents) > 1 and not _same_dose(matches):
        selected = [(c, rows) for c, rows in matches if c.user_selected]
        if not selected or len({_row_content(rows) for _, rows in selected}) > 1:
            return "conflicting-codes"
        matches = selected
    coding, rows = matches[0]
    drug = _drug_from_rows(coding, rows)
    if isinstance(drug, str):
        return drug
    # The names recognition reads against the codes: the strength rule and the drug rule read the same ones.
    names = names_against_code(medication)
    known = known_ingredients()
    statements = [
        _Statement(
            "name",
            lambda rxcui, _name, per: _named_strengths(rxcui, per, names, known),
            # Against every form, not the name's: the code fixes the product, so the name's form words are no surer
            # than its strength, and the wider bound refuses fewer real strengths (one refused is only named).
            lambda name, mg, per: implausible(terms, name, mg, per, None) is not None,
        )
    ]
    if read_list:
        listed = _listed_strengths(medication, terms)
        if listed:
            form = listed_form(medication)
            statements.append(
                _Statement(
                    "ingredient list",
                    # By the opioid's name: the list may code it by another concept than the table (a salt, an alias).
                    lambda _rxcui, name, per: listed.get(f"{name}|{per}", []),
                    lambda name, mg, per: implausible(terms, name, mg, per, form) is not None,
                )
            )
    return _with_named_drugs(_with_stated_strengths(drug, statements), names, terms)


def _with_named_drugs(drug: Drug, names: Sequence[str | None], terms: Terminology) -> Drug:
    """The coded drug with each of its names that states other opioids than its code (`DrugConflict`). A name is
    read by the one name reading recognition uses, so brands (Percocet), salts, combinations, cut names and tall-man
    lettering read as the product they name. A name that reads no opioid states nothing against the code when it
    names a part of the product (its partner, "acetaminophen 325 mg"); one naming another drug ("diazepam 5 mg
    tablet") is a conflict with the code's opioid kept (`DrugConflict.opioid` False)."""
    coded = tuple(dict.fromkeys(s.name for s in drug.strengths))
    found: list[DrugConflict] = []
    for text in dict.fromkeys(n for n in names if n):
        # Up to a word that makes a drug named after it one not meant ("not HYDROmorphone", "was …"), as
        # recognition reads a name against a code.
        stated = stated_part(text)
        read = read_name(stated).ingredients
        named = tuple(dict.fromkeys(i.name for i in read if i.kind == "opioid"))
        if not named and read and not {i.name for i in read} & _product_ingredients(drug, terms):
            # A name of no opioid at all, and no part of the coded product ("diazepam 5 mg tablet" on oxycodone's
            # code): the opioid is kept, the safe side, and the conflict named (clinical-logic, "A code that is no
            # opioid and a name that is one").
            named = tuple(dict.fromkeys(i.name for i in read))
            if all(c.named != named for c in found):
                found.append(DrugConflict(coded, named, text, "not-in-drug-table", opioid=False))
            continue
        if not named or set(named) == set(coded) or any(c.named == named for c in found):
            continue
        found.append(DrugConflict(coded, named, text, _name_reading(stated, terms)))
    return replace(drug, drug_conflicts=tuple(found)) if found else drug


def _product_ingredients(drug: Drug, terms: Terminology) -> frozenset[str]:
    """Every ingredient of the coded product, its partners too ("acetaminophen" of Percocet), as its RxNorm name
    reads."""
    rows = terms.drug_rows(drug.rxcui) if drug.rxcui else ()
    return frozenset(i.name for row in rows for i in read_name(row.drug_name).ingredients)


@lru_cache(maxsize=1024)
def _name_reading(text: str, terms: Terminology) -> Drug | str:
    """The drug a name alone is read as (an opioid identified by name), or why it has no MME."""
    found = _drug_from_name(named_medication(text), terms)
    return found if found is not None else "no-strength"


def named_medication(text: str) -> ResolvedMedication:
    """A medication known by this name alone: how a name that states another drug than its code is read."""
    return ResolvedMedication(concept=Concept(text=text))


def _listed_strengths(medication: ResolvedMedication, terms: Terminology) -> dict[str, list[Decimal]]:
    """The opioid strengths the Medication's ingredient list states, by opioid name and basis ("oxycodone|unit")."""
    found: dict[str, list[Decimal]] = {}
    for listed in medication_listed(medication, terms):
        if listed.ingredient is None or listed.strength is None:
            continue
        mg, per = listed.strength
        if mg > 0:
            found.setdefault(f"{mf.INGREDIENT_NAMES[listed.ingredient]}|{per}", []).append(mg)
    return found


# A strength stated within this fraction of the code's is the same strength written rounded (liquids: 1.33 mg/mL).
_SAME_STRENGTH = Decimal("0.02")


@dataclass(frozen=True, slots=True)
class _Statement:
    """Where the record states an opioid's strength besides its code (`said_by`: its name, its ingredient list): the
    strengths it states of one opioid (by rxcui, name and basis), and whether a strength is one no product holds."""

    said_by: str
    stated: Callable[[str, str, Strength], list[Decimal]]
    unreal: Callable[[str, Decimal, Strength], bool]
    against: str = "code"  # what its strengths are weighed against: the code, or the list's first entry of one opioid


def _with_stated_strengths(drug: Drug, statements: Sequence[_Statement]) -> Drug:
    """The coded drug counted at the highest strength of each of its opioids that its code or the record's own
    statements of it give in the same unit (its name: code 5 mg, text "oxycodone 10 mg tablet"; its Medication's
    ingredient list: code 5 mg, list 10 mg a tablet), each disagreement with the code kept to be named
    (`conflict_text`), a statement's in its order. The one rule for names and lists: the record contradicts itself,
    and the higher dose is the one not to understate. A stated strength no product of that opioid holds (`unreal`) is
    named and never counted. A statement without a strength, or a strength of a combination's other ingredient, is no
    disagreement."""
    conflicts: list[StrengthConflict] = []
    strengths = list(drug.strengths)
    for statement in statements:
        for rxcui in drug.ingredients:
            coded_as = [s for s in drug.strengths if s.ingredient == rxcui]  # the code's own, before any is counted
            name, per = coded_as[0].name, coded_as[0].per
            if any(s.per != per for s in coded_as):
                continue
            coded = sum((s.mg for s in coded_as), Decimal(0))
            named = statement.stated(rxcui, name, per)
            differing = tuple(dict.fromkeys(n for n in named if abs(n - coded) > coded * _SAME_STRENGTH))
            if not differing:
                continue
            unreal = tuple(n for n in differing if statement.unreal(name, n, per))
            conflict = StrengthConflict(name, coded, differing, per, unreal, statement.said_by, statement.against)
            conflicts.append(conflict)
            own = [s for s in strengths if s.ingredient == rxcui]
            current = sum((s.mg for s in own), Decimal(0))  # the code's, or an earlier statement's counted
            if conflict.counted > current:
                first = strengths.index(own[0])
                strengths = [s for s in strengths if s.ingredient != rxcui]
                strengths.insert(first, IngredientStrength(rxcui, name, conflict.counted, per))
    if not conflicts:
        return drug
    return replace(drug, strengths=tuple(strengths), conflicts=(*drug.conflicts, *conflicts))


def _named_strengths(rxcui: str, per: Strength, names: Sequence[str | None], known: Mapping[str, Any]) -> list[Decimal]:
    """The strengths of one opioid ingredient the names state per the same basis (mg per tablet, per mL, ...)."""
    found = []
    for text in dict.fromkeys(n for n in names if n):
        for named in read_name(text).strengths:
            ingredient = known.get(named.ingredient)
            if ingredient is not None and ingredient.rxcui == rxcui and named.per == per and named.mg > 0:
                found.append(named.mg)
    return found


def _strength_text(mg: Decimal, per: Strength) -> str:
    """A strength as a clinician writes it: 10 mg, 1 mg/mL, 25 mcg/h, 0.1 mg per spray."""
    if per == "hour":
        return f"{number_text(mg * 1000)} mcg/h"
    return f"{number_text(mg)} { {'unit': 'mg', 'ml': 'mg/mL', 'actuation': 'mg per spray'}[per] }"


_UNREAL = " (more than any {} product holds)"


def conflict_text(drug: Drug | None, counted: bool = True) -> str:
    """The strength conflicts of a coded drug, for the end of its explanation ("" when there is none); `counted`
    when the order has an MME, so the strength it used is said."""
    if drug is None or not drug.conflicts:
        return ""
    parts = []
    for c in drug.conflicts:
        # The strength the dose was counted at: the highest of every statement of this opioid's (the code's, the
        # name's, the ingredient list's), never this one statement's alone.
        used_at = max(o.counted for o in drug.conflicts if (o.name, o.per) == (c.name, c.per))
        used = f": counted at {_strength_text(used_at, c.per)}" if counted else ""
        named = " and ".join(
            _strength_text(n, c.per) + (_UNREAL.format(c.name) if n in c.unreal else "") for n in c.named
        )
        coded = f"{_strength_text(c.coded, c.per)} {c.name}"
        parts.append(f"the {c.stated_by} says {coded}, the {c.said_by} says {named}{used}")
    return f"; {'; '.join(parts)}, check which strength is meant"


class _Reading(Protocol):
    """An order's or a fill's MME line, as `counted_reading` weighs it."""

    @property
    def state(self) -> str: ...

    @property
    def mme(self) -> Decimal | None: ...


def counted_reading(conflicts: Sequence[DrugConflict], readings: Sequence[_Reading]) -> tuple[int, tuple[str, ...]]:
    """Which reading of an order or fill whose names state other drugs than its code is counted, and each conflict
    in words. `readings` are the code's, then each conflicting name's (`Drug.drug_conflicts`): the one whose MME is
    the higher is counted (the code's on a tie or when none has one), as the strength rule counts the higher
    strength, so a dose that may reach a threshold is never passed over in silence."""
    index = max(range(len(readings)), key=lambda i: (readings[i].state == "ok", readings[i].mme or Decimal(0)))
    labels = conflict_labels(conflicts)
    return index, tuple(
        _conflict_words(labels[0], labels[n], (labels[index], readings[index]), readings[0], readings[n], n == index)
        if conflicts[n - 1].opioid
        else _no_opioid_words(labels[0], labels[n], (labels[index], readings[index]))
        for n in range(1, len(readings))
    )


def conflict_labels(conflicts: Sequence[DrugConflict]) -> list[str]:
    """The drugs of each reading of an order or fill whose names state other drugs than its code, as its lines name
    them: the code's ("oxycodone"), then each conflicting name's ("hydromorphone")."""
    return [and_list(list(conflicts[0].coded)), *(and_list(list(c.named)) for c in conflicts)]


def conflict_said(coded: str, named: str) -> str:
    """ "its code says oxycodone, its name says hydromorphone": how every line names a conflict of code and name."""
    return f"its code says {coded}, its name says {named}"


def with_conflicts(line: str, words: Sequence[str]) -> str:
    """An order's or a fill's MME line with each drug conflict's words after it: the one way both lines name them."""
    return line + "".join(f"; {w}" for w in words)


def _conflict_words(
    coded: str, named: str, counted: tuple[str, _Reading], code: _Reading, name: _Reading, name_counted: bool
) -> str:
    """ "its code says oxycodone, its name says hydromorphone: counted as hydromorphone, 40.0 MME/day against 30.0 as
    oxycodone; check which drug is meant"."""
    head = conflict_said(coded, named)
    label, reading = counted
    if reading.state != "ok" or reading.mme is None:
        return f"{head}: check which drug is meant"
    other, other_label = (code, coded) if name_counted else (name, named)
    if other.state == "ok" and other.mme is not None:
        weighed = f", {format_mme(reading.mme)} MME/day against {format_mme(other.mme)} as {other_label}"
    elif other.state == "excluded":
        weighed = f"; as {other_label} it is not counted in the MME total"
    else:
        weighed = f"; as {other_label} its MME could not be worked out"
    return f"{head}: counted as {label}{weighed}; check which drug is meant"


def _no_opioid_words(coded: str, named: str, counted: tuple[str, _Reading]) -> str:
    """ "its code says oxycodone, its name says diazepam: counted as oxycodone, 30.0 MME/day; as diazepam it is no
    opioid; check which drug is meant": a name of no opioid beside an opioid's code, which is kept. The reading
    counted is said as it is: another name's opioid when that one's MME was the higher ("counted as hydromorphone")."""
    head = conflict_said(coded, named)
    label, reading = counted
    if reading.state != "ok" or reading.mme is None:
        # No reading has an MME, so the code's is the one kept (`counted_reading` falls back to it).
        return f"{head}: kept as {coded}; check which drug is meant"
    counted_as = f"counted as {label}, {format_mme(reading.mme)} MME/day"
    return f"{head}: {counted_as}; as {named} it is no opioid; check which drug is meant"


def code_named_words(medication: ResolvedMedication, terms: Terminology, reading: _Reading) -> str | None:
    """ "its code says acetaminophen, its name says oxycodone and acetaminophen: counted as oxycodone, 30.0 MME/day;
    as acetaminophen it is no opioid; check which drug is meant", for an order or fill whose codes state a drug that
    is no opioid and whose name an opioid (recognition reads it as the opioid); else None."""
    recognition = recognise(medication, terms)
    if recognition.code_says is None:
        return None
    known = known_ingredients()
    opioids = [name for name in recognition.ingredients if known[name].kind == "opioid"]
    head = conflict_said(recognition.code_says, and_list(list(recognition.ingredients)))
    if reading.state == "ok" and reading.mme is not None:
        counted = f"counted as {and_list(opioids)}, {format_mme(reading.mme)} MME/day"
    else:
        counted = f"read as {and_list(opioids)}"
    return f"{head}: {counted}; as {recognition.code_says} it is no opioid; check which drug is meant"


# ---------------------------------------------------------------------------------------------------------------
# Steps 2–5: instructions, doses per day, dose, daily amount per ingredient (8.3–8.6)


@dataclass(frozen=True)
class _Daily:
    """Daily amounts of one instruction (or of the fallback): ingredient → mg/day, or mcg/h worn for a patch."""

    amounts: tuple[tuple[str, Decimal], ...]
    text: str
    notes: tuple[str, ...] = ()
    against: tuple[SigAgainstCode, ...] = ()  # its sig's doses by time of day disagreeing with its coded frequency


def _per_ingredient(drug: Drug, daily: Amount) -> tuple[tuple[str, Decimal], ...] | str:
    """Daily dose (in its unit class) → mg/day per ingredient (8.6 table), or a reason code."""
    if daily.unit_class == "unknown":
        return "unit-unknown"
    if daily.unit_class == "mass":
        if len(drug.ingredients) > 1 or drug.combination:
            return "ambiguous-mass-dose"
        return ((drug.ingredients[0], mf.opium_dose_mass(drug.ingredients[0], daily.value, drug.strengths)),)
    if daily.unit_class == "volume":
        if any(s.per != "ml" for s in drug.strengths):
            return "unit-not-convertible"
    elif daily.unit_class == "count":
        if any(s.per not in ("unit", "actuation") for s in drug.strengths):
            return "unit-not-convertible"
    else:
        return "unit-not-convertible"
    totals: dict[str, Decimal] = {}
    for strength in drug.strengths:
        totals[strength.ingredient] = totals.get(strength.ingredient, Decimal(0)) + daily.value * strength.mg
    return tuple(totals.items())


# A mass dose on a combination product names one ingredient's amount. The reading must be a whole or half number of
# tablets (at most 4 at once), or of a liquid a volume from 0.5 to 30 mL (within 1%: liquid strengths are rounded,
# 21.7 mg/mL for 325 mg per 15 mL).
MAX_UNITS_PER_DOSE = Decimal(4)
MAX_ML_PER_DOSE = Decimal(30)
_HALF = Decimal("0.5")


def _fits(units: Decimal, per: Strength) -> bool:
    """Whether `units` tablets (or mL) is a dose someone takes: see MAX_UNITS_PER_DOSE."""
    halves = units * 2
    nearest = halves.to_integral_value()
    if per == "unit":
        return halves == nearest and _HALF <= units <= MAX_UNITS_PER_DOSE
    return abs(halves - nearest) <= halves / 100 and _HALF <= units <= MAX_ML_PER_DOSE


def combination_dose(drug: Drug, dose: Amount) -> Amount | str:
    """A mass dose on a combination product as the tablets (or mL) it stands for: 650 mg of Percocet 5/325 is 2 ×
    325 mg acetaminophen, 10 mg is 2 × 5 mg oxycodone. Not computable when it fits no ingredient, several at
    different counts, or an ingredient's strength is unknown."""
    pers = {s.per for s in (*drug.strengths, *drug.partners)}
    if drug.partner_unknown or len(drug.ingredients) > 1 or len(pers) != 1 or not pers <= {"unit", "ml"}:
        return "ambiguous-mass-dose"
    per = pers.pop()
    # Two salts of one opioid (oxycodone HCl 4.5 mg + terephthalate 0.38 mg) are one strength of 4.88 mg.
    opioid = drug.strengths[0]
    opioid = IngredientStrength(opioid.ingredient, opioid.name, sum((s.mg for s in drug.strengths), Decimal(0)), per)
    readings = [(dose.value / s.mg, s) for s in (opioid, *drug.partners)]
    fitting = [(units, s) for units, s in readings if _fits(units, per)]
    if per == "ml":
        fitting = [((units * 2).to_integral_value() / 2, s) for units, s in fitting]
    if len({units for units, _ in fitting}) != 1:
        return "ambiguous-mass-dose"
    units, strength = fitting[0]
    if per == "ml":
        amount = f"{number_text(units)} mL of {number_text(strength.mg)} mg/mL {strength.name}"
        return Amount(units, "volume", f"{dose.shown} ({amount})")
    amount = count_text(units, _unit_noun(drug))
    return Amount(units, "count", f"{dose.shown} ({amount} of {number_text(strength.mg)} mg {strength.name})")


def _unit_noun(drug: Drug) -> str:
    name = (drug.display or "").lower()
    return "capsule" if "capsule" in name else "tablet" if "tablet" in name else "unit"


def cap_limit(dosage: Dosage, daily: Amount, drug: Drug | None) -> tuple[Decimal, Amount] | str:
    """The instruction's maxDosePerPeriod in the unit of `daily` with the cap as written, or the note saying why it is
    ignored: the one reading of a cap for the MME and for the days a dispense quantity lasts (`guideline.supply`)."""
    cap = daily_cap(dosage)
    if cap is None:
        return "maxDosePerPeriod ignored: its period unit is not recognised"
    if cap.unit_class == "unknown":
        return "maxDosePerPeriod ignored: its unit is not recognised"
    limit = _cap_value(cap, daily, drug)
    if limit is None:
        return "maxDosePerPeriod ignored: its unit is a different kind from the dose"
    return limit, cap


def _cap_value(cap: Amount, daily: Amount, drug: Drug | None) -> Decimal | None:
    """maxDosePerPeriod in the dose's unit: as it is, or converted by the one opioid strength (30 mg a day of a
    5 mg tablet is 6 tablets); None when it cannot be (a mass cap on a combination may be the acetaminophen's)."""
    if cap.unit_class == daily.unit_class:
        return cap.value
    if drug is None or drug.combination or len(drug.strengths) != 1 or drug.transdermal:
        return None
    strength = drug.strengths[0]
    per_unit = _dose_mg_per_unit(strength, drug)
    unit_of_strength = {"unit": "count", "ml": "volume"}.get(strength.per)
    if cap.unit_class == "mass" and daily.unit_class == unit_of_strength:
        return cap.value / per_unit
    if daily.unit_class == "mass" and cap.unit_class == unit_of_strength:
        return cap.value * per_unit
    return None


def _dose_mg_per_unit(strength: IngredientStrength, drug: Drug) -> Decimal:
    """The mg a dose in mg counts per tablet or mL: the strength, but an opium liquid's mg are its morphine's
    (`mf.dosed_by_morphine`), 10 mg per mL of the tincture RxNorm states as 100 mg of opium."""
    return strength.mg / mf.opium_dose_mass(strength.ingredient, Decimal(1), drug.strengths)


def _patch_worn(drug: Drug, dose: Amount) -> tuple[tuple[str, Decimal], ...] | str:
    """Patch strength worn, in mcg/h per ingredient: a count of patches × strength, or an explicit rate (8.7.1)."""
    if dose.unit_class == "unknown":
        return "unit-unknown"
    if dose.unit_class == "patch-rate":
        if len(drug.ingredients) > 1:
            return "ambiguous-mass-dose"
        return ((drug.ingredients[0], dose.value),)
    if dose.unit_class != "count":
        return "unit-not-convertible"
    if any(s.per != "hour" for s in drug.strengths):
        return "no-strength"
    totals: dict[str, Decimal] = {}
    for strength in drug.strengths:
        totals[strength.ingredient] = totals.get(strength.ingredient, Decimal(0)) + dose.value * strength.mg * 1000
    return tuple(totals.items())


# Daily amounts per (dosage, drug) object pair and the two settings that change them. The record reader shares one
# Dosage object per distinct instruction and identify_drug one Drug per coded drug, so refills hit.
_INSTRUCTIONS = IdentityMemo()


def _instruction(dosage: Dosage, drug: Drug, config: GuidelineConfig) -> _Daily | str:
    settings = config["mme"]
    options = (bool(settings.get("parse_timing_text", True)), bool(settings.get("apply_max_dose_per_period", True)))
    daily = _INSTRUCTIONS.get(options, dosage, drug)
    if daily is MISSING:
        daily = _read_instruction(dosage, drug, *options)
        _INSTRUCTIONS.put(options, dosage, drug, answer=daily)
    return daily  # type: ignore[return-value]


def _read_instruction(dosage: Dosage, drug: Drug, parse_timing_text: bool, apply_cap: bool) -> _Daily | str:
    frequency = doses_per_day(dosage, parse_timing_text)
    if not plausible(frequency):
        return "implausible-frequency"
    dose = pick_dose(dosage, drug.transdermal)
    notes: list[str] = [PRN_NOTE] if dosage.as_needed else []
    if drug.transdermal:
        # Only the number of patches worn matters; the change interval does not (8.7.1).
        if dose is None:
            return "no-frequency" if frequency is None else "no-dose"
        worn = _patch_worn(drug, dose)
        if isinstance(worn, str):
            return worn
        return _Daily(worn, f"{dose.shown} worn", ())
    timed = doses_by_time(dosage) if parse_timing_text else None
    if timed == UNPAIRED:
        return "dose-by-time-unread"
    if timed == SIG_NOT_READ:
        return "sig-not-read"
    against = sig_against_code(dosage, drug, timed) if isinstance(timed, TimedDoses) else None
    if against is not None and against.coded_counted:
        # In the units the two were compared in, so the MME and the days' supply count one daily amount.
        read: tuple[Amount, str] | str = Amount(against.coded, against.unit, ""), against.coded_words
    elif isinstance(timed, TimedDoses):
        read = _timed_daily(timed, drug)
    else:
        read = _dosed_daily(frequency, dose, drug)
        if read == "no-frequency" and apply_cap:
            read = _cap_as_daily(dosage, dose, drug) or read
        above = sig_above_code(dosage, drug, frequency) if parse_timing_text and not isinstance(read, str) else None
        if above is not None:
            read = Amount(above.sig, above.unit, ""), f"{read[1]}; {above.text(dosage, drug)}"
    if isinstance(read, str):
        return read
    daily, text = read
    if dosage.max_dose_numerator is not None and apply_cap:
        capped = cap_limit(dosage, daily, drug)
        if isinstance(capped, str):
            notes.append(capped)
        elif capped[0] < daily.value:
            daily = Amount(capped[0], daily.unit_class, "")
            text += f", capped at {capped[1].shown}"
            notes.append("cap from maxDosePerPeriod")
    amounts = _per_ingredient(drug, daily)
    if isinstance(amounts, str):
        return amounts
    if daily.unit_class == "mass" and mf.dosed_by_morphine(amounts[0][0], drug.strengths):
        notes.append(mf.OPIUM_DOSE_NOTE)
    return _Daily(amounts, text, tuple(notes), (against,) if against is not None else ())


def _as_counted(dose: Amount, drug: Drug) -> Amount | str:
    """A dose as the MME counts it: one in mg on a combination product as its tablets (`combination_dose`, or its
    note when not computable), any other as it is."""
    return combination_dose(drug, dose) if dose.unit_class == "mass" and drug.combination else dose


def _dosed_daily(frequency: Frequency | None, dose: Amount | None, drug: Drug) -> tuple[Amount, str] | str:
    """The day's amount of one dose taken `frequency` times a day, and its words: "1 tablet every 4 hours (6 a day)"."""
    if frequency is None:
        return "no-frequency"
    if dose is None:
        return "no-dose"
    converted = _as_counted(dose, drug)
    if isinstance(converted, str):
        return converted
    dose = converted
    text = f"{dose.shown} {frequency.text}"
    if not frequency.text.endswith(" a day"):
        text += f" ({number_text(frequency.per_day)} a day)"
    return Amount(frequency.per_day * dose.value, dose.unit_class, ""), text


def _cap_as_daily(dosage: Dosage, dose: Amount | None, drug: Drug) -> tuple[Amount, str] | None:
    """A dose with no frequency but a daily maximum ("1 tablet as needed, max 6 tablets a day") as that maximum,
    the most the prescription allows (CDC MME counts the most prescribed); None when there is no cap or it cannot
    be read in the dose's unit (`cap_limit`), and the order stays without a frequency."""
    if dose is None or dosage.max_dose_numerator is None:
        return None
    converted = _as_counted(dose, drug)  # as `_dosed_daily` reads it: a cap in mg may be acetaminophen's
    if isinstance(converted, str):
        return None
    dose = converted
    capped = cap_limit(dosage, dose, drug)
    if isinstance(capped, str):
        return None
    limit, cap = capped
    return Amount(limit, dose.unit_class, ""), f"{cap.shown}, the prescription's daily maximum (no frequency given)"


def _timed_daily(timed: TimedDoses, drug: Drug) -> tuple[Amount, str] | str:
    """The day's amount of doses given by time of day, their sum, and its words: "1 tablet every morning + 2 tablets
    at bedtime (3 tablets a day)". A dose in mg on a combination product is read as its tablets, as a dose is."""

    def as_read(amount: Amount) -> tuple[Decimal, UnitClass] | str:
        converted = _as_counted(amount, drug)
        return converted if isinstance(converted, str) else (converted.value, converted.unit_class)

    summed = _timed_sum(timed, as_read)
    if not isinstance(summed, tuple):
        # Doses in two kinds of unit: the sig reader pairs none such (`dose-by-time-unread`), so this guards only.
        return summed or "unit-not-convertible"
    total, unit_class = summed
    if unit_class == "count":
        words = count_text(
            total, timed.doses[0].unit if timed.doses[0].amount.unit_class == "count" else _unit_noun(drug)
        )
    else:
        words = f"{number_text(total)} {CANONICAL_UNIT.get(unit_class, '')}".strip()
    return Amount(total, unit_class, ""), f"{timed.text} ({words} a day)"


_Unit = TypeVar("_Unit", bound=str)


def _timed_sum(
    timed: TimedDoses, read: Callable[[Amount], tuple[Decimal, _Unit] | str | None]
) -> tuple[Decimal, _Unit] | str | None:
    """The day's sum of doses by time of day, each dose (read by `read` into a value and its unit) times its times a
    day: the one rule the MME's daily amount (`_timed_daily`) and the units a day (`timed_units`) add doses by. Why a
    dose could not be read (`read`'s text, or None), or None when the doses are in more than one unit."""
    total, units = Decimal(0), set()
    for dose in timed.doses:
        found = read(dose.amount)
        if not isinstance(found, tuple):
            return found
        total += found[0] * len(dose.times)
        units.add(found[1])
    return (total, units.pop()) if len(units) == 1 else None


# ---------------------------------------------------------------------------------------------------------------
# A sig's doses by time of day against the order's coded dose and frequency: one rule for the MME and the days' supply

DispenseUnit = Literal["count", "volume"]


def dispensed_units(dose: Amount, drug: Drug | None) -> tuple[Decimal, DispenseUnit] | None:
    """A dose in the units a pharmacy counts (tablets or mL); a mass dose is turned into units by the strength, and
    a patch's rate into patches by the patch's own rate."""
    if dose.unit_class in ("count", "volume"):
        return dose.value, dose.unit_class  # type: ignore[return-value]
    if dose.unit_class == "patch-rate" and drug is not None and drug.transdermal:
        return _patches_worn(dose, drug)
    if dose.unit_class != "mass" or drug is None or drug.transdermal:
        return None
    if drug.combination:
        # The mg may be the acetaminophen's (650 mg of Percocet 5/325 is 2 tablets, not 130): read as the MME reads
        # it, and a dose that fits no ingredient, or several at different counts, leaves the units unknown.
        units = combination_dose(drug, dose)
        return None if isinstance(units, str) else (units.value, units.unit_class)  # type: ignore[return-value]
    if len(drug.strengths) != 1:
        return None
    strength = drug.strengths[0]
    return dose.value / _dose_mg_per_unit(strength, drug), ("volume" if strength.per == "ml" else "count")


# A patch's rate is its labelled one: the 12 mcg/h fentanyl patch delivers 12.5, so a dose of 12.5 mcg/h is one.
_PATCH_RATE_TOLERANCE = Decimal("0.05")


def _patches_worn(dose: Amount, drug: Drug) -> tuple[Decimal, DispenseUnit] | None:
    """A dose written as a rate (Oracle Health's "25 mcg/hr, Transdermal, q72hr") as the patches worn at once: 50
    mcg/h of a 25 mcg/h patch is 2. A rate no whole number of the product's patches gives (37.5 of a 25) is no count
    of them, so how long the patches last is not guessed."""
    if len(drug.strengths) != 1 or drug.strengths[0].per != "hour" or drug.strengths[0].mg <= 0:
        return None
    patches = dose.value / (drug.strengths[0].mg * 1000)  # the dose's rate is in mcg/h, the strength in mg/h
    whole = patches.to_integral_value()
    if whole < 1 or abs(patches - whole) > whole * _PATCH_RATE_TOLERANCE:
        return None
    return whole, "count"


def timed_units(timed: TimedDoses, drug: Drug | None) -> tuple[Decimal, DispenseUnit] | None:
    """Units a day of doses given by time of day ("1 tab every morning and 2 tabs at bedtime" is 3 tablets)."""
    summed = _timed_sum(timed, lambda amount: dispensed_units(amount, drug))
    return summed if isinstance(summed, tuple) else None


def coded_dose_units(dosage: Dosage, drug: Drug | None) -> tuple[Decimal, DispenseUnit] | None:
    """The instruction's coded dose in the units a pharmacy counts: a count or volume entry first (Epic's admin
    amount is in tablets, what a dispense quantity counts), else the dose the MME reads, turned into units."""
    for entry in dosage.dose_and_rate:
        amount = entry_amount(entry)
        if amount is not None and amount.unit_class in ("count", "volume"):
            return amount.value, amount.unit_class  # type: ignore[return-value]
    dose = pick_dose(dosage, drug.transdermal if drug else False)
    return dispensed_units(dose, drug) if dose is not None else None


@dataclass(frozen=True)
class SigAgainstCode:
    """An instruction whose sig gives doses by time of day adding up to another day's amount than its coded dose
    taken as often as its coded frequency says (QID of 1 tablet, "1 tab every morning and 2 tabs at bedtime")."""

    timed: Decimal  # units a day by the sig's doses by time of day
    coded: Decimal  # units a day by the coded dose × the coded frequency
    unit: DispenseUnit
    noun: str  # the unit as the sig writes it ("tabs"), for the words
    dose: Decimal  # the coded dose in units
    frequency: Frequency  # the coded frequency
    # The coded frequency has as many doses a day as the sig's times, but the coded dose is none of the sig's doses.
    dose_differs: bool = False

    @property
    def coded_counted(self) -> bool:
        """Whether the coded dose and frequency give the larger day, and so are counted."""
        return self.coded > self.timed

    @property
    def counted(self) -> Decimal:
        """The units a day counted: the larger of the two readings."""
        return max(self.coded, self.timed)

    def _amount(self, units: Decimal) -> str:
        return count_text(units, self.noun) if self.unit == "count" else f"{number_text(units)} mL"

    @property
    def coded_words(self) -> str:
        """ "1 tablet 4 times a day", with the doses a day when its words do not say them ("…, 4 a day")."""
        words = f"{self._amount(self.dose)} {self.frequency.text}"
        return words if words.endswith(" a day") else f"{words}, {number_text(self.frequency.per_day)} a day"

    @property
    def text(self) -> str:
        """ "the instructions give 3 tablets a day by time of day but the coded frequency gives 4 tablets a day (1
        tablet 4 times a day); counted 4 tablets a day"."""
        coded_by = "coded dose gives" if self.dose_differs else "coded frequency gives"
        return (
            f"the instructions give {self._amount(self.timed)} a day by time of day but the {coded_by} "
            f"{self._amount(self.coded)} a day ({self.coded_words}); counted "
            f"{self._amount(self.counted)} a day"
        )


def sig_against_code(dosage: Dosage, drug: Drug | None, timed: TimedDoses) -> SigAgainstCode | None:
    """The sig's doses by time of day against the instruction's coded dose and frequency (its timing.repeat, when,
    timeOfDay or timing code, never words), or None when they agree or cannot be compared. A coded frequency of as
    many doses a day as the sig gives, of one of the sig's doses, is no disagreement: EHRs code one of the doses (Epic
    the first) with the times a day, and the sig's doses stand; of a dose that is none of them (3 tablets twice a day
    against 1 and 2), it is. A schedule limited to some days of the week is weighed by its average over the week
    against the sig counted every day, as the sig is read; the times a day are compared on a day it is taken."""
    dosing_day = doses_per_dosing_day(dosage, parse_timing_text=False)
    if dosing_day is None or not plausible(dosing_day):
        # No coded frequency: the sig's times are the only frequency read, and nothing coded can say more. An
        # implausible one (more often than every 15 minutes) leaves the whole instruction unknown, and named
        # (`_read_instruction`'s "implausible-frequency"), before the sig is read.
        return None
    # A weekday that is no FHIR day code: every day, the most it can mean (as `doses_per_day` never reads fewer days).
    frequency = doses_per_day(dosage, parse_timing_text=False) or dosing_day
    by_time, dose = timed_units(timed, drug), coded_dose_units(dosage, drug)
    if dose is None:
        # No coded dose: a coded frequency alone gives no day's amount to weigh against the sig's doses.
        return None
    if by_time is None or by_time[1] != dose[1]:
        # The sig's doses are in no unit a pharmacy counts, or not in the coded dose's (tablets against mL): the MME
        # reads the sig's doses in their own unit, and one no strength converts leaves the order unknown and named
        # ("unit-unknown", "unit-not-convertible"); a coded dose in a unit the product does not come in (mL of a
        # tablet) says no amount of it, so no larger day is hidden.
        return None
    same_times = dosing_day.per_day == sum(len(d.times) for d in timed.doses)
    if same_times and _one_of_the_doses(dose[0], timed, drug):
        return None
    with localcontext(DECIMAL_CONTEXT):
        coded = frequency.per_day * dose[0]
        if quantize6(coded) == quantize6(by_time[0]):
            return None
    written = next((d.unit for d in timed.doses if d.amount.unit_class == "count"), "")
    noun = written or (_unit_noun(drug) if drug is not None else "unit")  # a sig in mg: the product's tablets
    return SigAgainstCode(by_time[0], coded, by_time[1], noun, dose[0], frequency, dose_differs=same_times)


@dataclass(frozen=True)
class SigAboveCode:
    """An instruction whose sig's one dose and frequency allow more a day than its coded dose and frequency."""

    sig: Decimal  # units a day the sig allows, at its most
    unit: DispenseUnit

    def text(self, dosage: Dosage, drug: Drug | None) -> str:
        """ "the instructions "Take 1-2 tablets every 4-6 hours" allow more than the coded dose: 12 tablets a day
        counted"."""
        noun = "mL" if self.unit == "volume" else _unit_noun(drug) if drug is not None else "unit"
        quoted = clip(dosage.text or "", QUOTED_CHARACTERS)
        return f'the instructions "{quoted}" allow more than the coded dose: {count_text(self.sig, noun)} a day counted'


def sig_above_code(dosage: Dosage, drug: Drug | None, frequency: Frequency | None) -> SigAboveCode | None:
    """The sig's day when its words, read surely (`sig_dose_and_frequency`), allow more than the coded dose taken as
    often as the coded `frequency` says (the caller's `doses_per_day` of the dosage, timing text read; CDC MME counts
    the most prescribed), compared in the units a pharmacy counts; None when they allow the same or less, or either
    cannot be read in one unit. A patch is read by neither."""
    if drug is not None and drug.transdermal:
        return None
    read = sig_dose_and_frequency(dosage)
    if read is None or frequency is None or not plausible(frequency):
        return None
    sig_units, coded_units = dispensed_units(read[0], drug), coded_dose_units(dosage, drug)
    if sig_units is None or coded_units is None or sig_units[1] != coded_units[1]:
        return None
    with localcontext(DECIMAL_CONTEXT):
        sig, coded = read[1] * sig_units[0], frequency.per_day * coded_units[0]
        if quantize6(sig) <= quantize6(coded):
            return None
    return SigAboveCode(sig, sig_units[1])


def _one_of_the_doses(units: Decimal, timed: TimedDoses, drug: Drug | None) -> bool:
    """Whether a coded dose (in units) is one of the sig's doses by time of day: how an EHR structures such a sig
    (Epic codes the first dose with the number of times a day), not a second instruction."""
    for each in timed.doses:
        found = dispensed_units(each.amount, drug)
        if found is not None and quantize6(found[0]) == quantize6(units):
            return True
    return False


def against_text(against: Sequence[SigAgainstCode]) -> str:
    """The disagreements of an order's instructions, for the end of its explanation ("" when there is none)."""
    return "".join(f"; {a.text}, check which is meant" for a in against)


def _fallback(order: MedOrder, drug: Drug) -> _Daily | str | None:
    """Guideline 8.6 fallback: dispense quantity ÷ expected supply days (no refills); one patch at a time. An
    expected supply no prescription can hold (`durations.held_days`: under a day, "supply-under-a-day", or over 999
    days, "supply-over-999") gives no dose, but to a patch, whose one worn at a time does not read the days."""
    quantity = to_amount(order.dispense.quantity)
    days = quantity_days(order.dispense.expected_supply)
    if quantity is None or days is None:
        return None
    text = f"{FALLBACK_NOTE}: {quantity.shown} over {number_text(days)} days"
    if drug.transdermal:
        if any(s.per != "hour" for s in drug.strengths):
            return None
        worn = tuple((s.ingredient, s.mg * 1000) for s in drug.strengths)
        return _Daily(worn, f"{text}, {ONE_PATCH_NOTE}", (FALLBACK_NOTE, ONE_PATCH_NOTE))
    unheld = why_not_held(days)
    if unheld is not None:
        return f"supply-{unheld}"  # named by why (`durations.why_not_held`): "supply-under-a-day", "supply-over-999"
    per_day = Amount(quantity.value / days, quantity.unit_class, "")
    amounts = _per_ingredient(drug, per_day)
    if isinstance(amounts, str):
        return None
    return _Daily(amounts, f"{text} = {number_text(per_day.value)} per day", (FALLBACK_NOTE,))


def _add(items: Sequence[_Daily]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for item in items:
        for ingredient, amount in item.amounts:
            totals[ingredient] = totals.get(ingredient, Decimal(0)) + amount
    return totals


@dataclass(frozen=True)
class _Groups:
    """Per dosing step, the summed daily amounts of its concurrent instructions and their words."""

    groups: tuple[dict[str, Decimal], ...]
    texts: tuple[str, ...]
    notes: tuple[str, ...]
    estimated_by: Literal["dosage", "fallback"]
    against: tuple[SigAgainstCode, ...] = ()


_FAR_PAST = datetime.min.replace(tzinfo=UTC)
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def _dated(dosage: Dosage) -> tuple[datetime, datetime]:
    """The instruction's boundsPeriod; an open end (or no boundsPeriod) reaches as far as time does."""
    repeat = dosage.repeat
    start = repeat.bounds_start if repeat is not None else None
    end = repeat.bounds_end if repeat is not None else None
    return start or _FAR_PAST, end or _FAR_FUTURE


def _steps(dosages: Sequence[Dosage]) -> list[list[Dosage]]:
    """Instructions split into steps by their boundsPeriod: ones whose periods overlap are taken together, ones that
    follow each other ("days 1-3, then days 4-7") are steps of a taper. Undated instructions overlap every one."""
    if len(dosages) == 1:
        return [list(dosages)]
    ordered = sorted(dosages, key=lambda d: _dated(d)[0])
    steps: list[list[Dosage]] = []
    reach = _FAR_PAST
    for dosage in ordered:
        start, end = _dated(dosage)
        if steps and start < reach:
            steps[-1].append(dosage)
            reach = max(reach, end)
        else:
            steps.append([dosage])
            reach = end
    return [sorted(step, key=dosages.index) for step in steps]


def dosing_steps(dosages: Sequence[Dosage]) -> list[list[Dosage]]:
    """The order's dosing steps (8.3), each the instructions taken together: by sequence, in the order the order
    lists them, and within one by boundsPeriods that follow each other (`_steps`). The one reading of steps for the
    MME and for the days a dispense quantity lasts (`guideline.supply`)."""
    by_sequence: dict[int | None, list[Dosage]] = {}
    for dosage in dosages:
        by_sequence.setdefault(dosage.sequence, []).append(dosage)
    return [step for grouped in by_sequence.values() for step in _steps(grouped)]


def daily_groups(order: MedOrder, drug: Drug, config: GuidelineConfig) -> _Groups | str:
    """Dosing steps (8.3): by sequence, and within one by boundsPeriods that do not overlap; concurrent instructions
    add up; fall back to quantity ÷ days when allowed."""
    steps = dosing_steps(order.dosages)
    read: list[list[_Daily]] = []
    failure: str | None = None if order.dosages else "no-frequency"
    for step in steps:
        outcomes = [_instruction(dosage, drug, config) for dosage in step]
        failure = failure or next((o for o in outcomes if isinstance(o, str)), None)
        read.append([o for o in outcomes if not isinstance(o, str)])
    if failure is None:
        groups = tuple(_add(step) for step in read)
        notes = tuple(dict.fromkeys(n for step in read for d in step for n in d.notes))
        texts = tuple(" + ".join(d.text for d in step) for step in read)
        against = tuple(dict.fromkeys(a for step in read for d in step for a in d.against))
        return _Groups(groups, texts, notes, "dosage", against)
    if failure in ("no-frequency", "no-dose", "dose-by-time-unread", "sig-not-read") and len(order.dosages) <= 1:
        estimate = _fallback(order, drug)
        if isinstance(estimate, str):
            return estimate
        if estimate is not None:
            return _Groups((_add([estimate]),), (estimate.text,), estimate.notes, "fallback")
    return failure


# ---------------------------------------------------------------------------------------------------------------
# Steps 6–7: conversion, order MME, total (8.7, 8.8)


@dataclass(frozen=True)
class IngredientMme:
    name: str
    rxcui: str
    daily_amount: Decimal | None
    daily_unit: str  # "mg" | "mcg" | "mcg/h"
    factor: Decimal | None
    factor_source: str | None  # "cdc2022" | "cdc2016" | "datafile"
    mme: Decimal | None


@dataclass(frozen=True)
class OrderMme:
    order: MedOrder
    order_ref: str | None
    is_draft: bool
    display_name: str
    rxnorm_code: str | None
    state: Literal["ok", "excluded", "unknown"]
    reason: str | None
    reason_text: str | None
    estimated_by: Literal["dosage", "fallback"] | None
    ingredients: tuple[IngredientMme, ...]
    mme: Decimal | None
    notes: tuple[str, ...]
    dose_explanation: str  # how the dose was worked out: "oxycodone …: 1 tablet every 6 hours … = 60.0 MME/day"
    daily_dose_text: str | None
    # Instructions whose sig's doses by time of day give another day's amount than their coded dose and frequency:
    # the larger was counted, and each is named (guideline.named_gaps, "sig-against-coded-frequency").
    sig_against_code: tuple[SigAgainstCode, ...] = ()
    # Fills read as its supply whose daily dose could not be worked out: whether they imply more than the order could
    # not be told, so each is named (guideline.named_gaps, "order-fills-of-unread-dose").
    unread_fills: tuple[UnreadFill, ...] = ()
    # Its code and a name of it state different opioids: each conflict in words, with the reading counted (the one
    # whose MME is the higher), named on its line and as a named gap (guideline.named_gaps, "drug-named-otherwise").
    drug_conflicts: tuple[str, ...] = ()
    # What the rules read after the dose add to the line, in the order added (a fill that raises the order or was
    # not weighed, a renewal or a series, a start after today): one typed field the card's line, the plan page's row
    # and `painplan mme` read, never derived back from the text.
    words: tuple[str, ...] = ()

    @property
    def explanation(self) -> str:
        """The order's line: how its dose was worked out, then each of its words."""
        return "; ".join(part for part in (self.dose_explanation, *self.words) if part)

    def with_words(self, *words: str) -> OrderMme:
        """The line with these words added after those it has."""
        return replace(self, words=(*self.words, *words)) if words else self


@dataclass(frozen=True)
class MmeSummary:
    profile: str
    total: Decimal
    state: Literal["complete", "partial", "none"]
    orders: tuple[OrderMme, ...] = field(default_factory=tuple)
    fills: tuple[FillMme, ...] = field(default_factory=tuple)  # current pharmacy fills no counted order stands for

    @property
    def ok_fills(self) -> tuple[FillMme, ...]:
        return tuple(f for f in self.fills if f.state == "ok")

    @property
    def unknown_fills(self) -> tuple[FillMme, ...]:
        return tuple(f for f in self.fills if f.state == "unknown")

    @property
    def from_fills(self) -> bool:
        """Whether part of the total comes from pharmacy fills rather than orders."""
        return bool(self.ok_fills)

    @property
    def ok_orders(self) -> tuple[OrderMme, ...]:
        return tuple(o for o in self.orders if o.state == "ok")

    @property
    def unknown_orders(self) -> tuple[OrderMme, ...]:
        return tuple(o for o in self.orders if o.state == "unknown")

    @property
    def excluded_orders(self) -> tuple[OrderMme, ...]:
        return tuple(o for o in self.orders if o.state == "excluded")

    @property
    def excluded_fills(self) -> tuple[FillMme, ...]:
        return tuple(f for f in self.fills if f.state == "excluded")

    @property
    def label(self) -> str:
        return mf.PROFILE_LABELS.get(self.profile, self.profile)

    def is_floor(self, unread: bool = False) -> bool:
        """Whether the total is only a floor, read "at least": an order was not converted (a partial total), or
        `unread` (the caller knows data the total rests on was not read)."""
        return self.state == "partial" or unread

    def display(self, unread: bool = False) -> str:
        """ "90.0 MME/day (CDC 2022 factors)"; "at least …" when the total is a floor (`is_floor`)."""
        if self.state == "none":
            return "not available"
        shown = f"{format_mme(self.total)} MME/day ({self.label})"
        return f"at least {shown}" if self.is_floor(unread) else shown


def _unit_for(ingredient: str, drug: Drug) -> str:
    if drug.transdermal:
        return "mcg/h"
    if ingredient == mf.FENTANYL:
        return "mcg"
    return "mg"


def _shown_amount(ingredient: str, amount: Decimal, drug: Drug) -> Decimal:
    """mg/day for most opioids, mcg/day for transmucosal fentanyl, mcg/h worn for patches."""
    if not drug.transdermal and ingredient == mf.FENTANYL:
        return amount * 1000
    return amount


def _factor(
    rule: mf.FactorRule | None, ingredient: str, profile: str, methadone_basis: Decimal | None
) -> tuple[Decimal | None, str | None]:
    if profile == "cdc2016" and ingredient == mf.METHADONE:
        tier = mf.methadone_tier(methadone_basis) if methadone_basis is not None else None
        return tier, ("cdc2016" if tier is not None else None)
    if rule is None:
        return None, None
    return rule.factor, rule.source


def _convert(
    group: Mapping[str, Decimal],
    drug: Drug,
    rules: tuple[mf.FactorRule, ...],
    profile: str,
    methadone_basis: Decimal | None,
) -> tuple[IngredientMme, ...]:
    converted: list[IngredientMme] = []
    for ingredient, amount in group.items():
        name = mf.INGREDIENT_NAMES.get(ingredient, ingredient)
        shown = _shown_amount(ingredient, amount, drug)
        unit = _unit_for(ingredient, drug)
        if ingredient == mf.BUPRENORPHINE:
            converted.append(IngredientMme(name, ingredient, shown, unit, None, None, None))
            continue
        if drug.injected:
            factor, source = None, None
        else:
            form = mf.TRANSDERMAL_SYSTEM if drug.transdermal else drug.dose_form
            factor, source = _factor(mf.find_rule(rules, ingredient, form), ingredient, profile, methadone_basis)
        mme = shown * factor if factor is not None else None
        converted.append(IngredientMme(name, ingredient, shown, unit, factor, source, mme))
    return tuple(converted)


def no_factor(drug: Drug | None, missing: str, profile: str = "") -> tuple[str, str]:
    """Why an opioid has no MME, as a reason code and words: it is injected, or the profile has no factor for it."""
    if drug is not None and drug.injected:
        return "injected", f"an injection of {missing}; the {profile}conversion factors are for oral and patch use"
    return "no-factor", f"no {profile}conversion factor for {missing}"


def _group_mme(ingredients: Sequence[IngredientMme]) -> Decimal | None:
    relevant = [i for i in ingredients if i.rxcui != mf.BUPRENORPHINE]
    if any(i.mme is None for i in relevant):
        return None
    return sum((i.mme for i in relevant if i.mme is not None), Decimal(0))


def _per_day(unit: str) -> str:
    return unit if unit == "mcg/h" else f"{unit}/day"


def daily_dose_text(ingredients: Sequence[IngredientMme]) -> str | None:
    """The daily amounts in words ("60 mg oxycodone/day", "25 mcg/h fentanyl patch"), shared with fills."""
    parts = []
    for item in ingredients:
        if item.daily_amount is None:
            continue
        if item.daily_unit == "mcg/h":
            parts.append(f"{number_text(item.daily_amount)} mcg/h {item.name} patch")
        else:
            parts.append(f"{number_text(item.daily_amount)} {item.daily_unit} {item.name}/day")
    return ", ".join(parts) or None


def _factor_text(item: IngredientMme, profile: str) -> str:
    factor = number_text(item.factor or Decimal(0))
    if item.factor_source == "datafile":
        table = "2022" if profile == "cdc2022" else "2016"
        return f"× {factor} ({mf.datafile_words(item.rxcui, factor, table)})"
    return f"× {factor}"


@dataclass(frozen=True)
class _Work:
    """Pass-1 result for one order: identification and daily amounts, before factors are applied."""

    order: MedOrder
    display_name: str
    drug: Drug | None
    groups: _Groups | None
    reason: str | None
    not_counted: str | None  # a NOT_COUNTED_TEXT key: listed, never added to the total
    said: str | None = None  # the reason in the medication's own words (`own_words`), when they say more
    # The order read as each drug its names state against its code (`Drug.drug_conflicts`), in their order.
    otherwise: tuple[_Work, ...] = ()
    # Its codes state no opioid and its name one (`code_named_words`): the conflict's words for the reading counted.
    code_named: Callable[[_Reading], str] | None = None


def medication_display_name(medication: ResolvedMedication, drug: Drug | None, terms: Terminology) -> str:
    """The name an order or fill is listed under: its own name, else the drug table's, else its codes."""
    if medication.unresolved:
        return medication.reference_display or "medication could not be identified"
    name = terms.medication_name(medication)
    if name and name != UNNAMED_MEDICATION:
        return name
    return (drug.display if drug and drug.display else None) or unidentified_name(medication)


def not_counted_reason(medication: ResolvedMedication, drug: Drug | None, terms: Terminology) -> str | None:
    """Why an opioid is listed but never added to the pain MME total, or None when it counts: buprenorphine is never
    converted (8.7), and methadone in a form only opioid treatment programs dispense is treatment for opioid use
    disorder (the OUD_TREATMENT_OPIOID set), to which the CDC dose thresholds do not apply."""
    if drug is not None and all(i == mf.BUPRENORPHINE for i in drug.ingredients):
        return "buprenorphine"
    if medication.unresolved:
        return None
    if drug is None and terms.medication_in(BUPRENORPHINE, medication):
        return "buprenorphine"
    if terms.medication_in(OUD_TREATMENT_OPIOID, medication):
        return "oud-methadone"  # the set's other members are buprenorphine, answered above
    return None


def _first_pass(order: MedOrder, terms: Terminology, config: GuidelineConfig) -> _Work:
    identified = identify_drug(order.medication, terms)
    work = _work_of(order, order.medication, identified, terms, config)
    if recognise(order.medication, terms).code_says is not None:
        return replace(work, code_named=lambda reading: code_named_words(order.medication, terms, reading) or "")
    if not isinstance(identified, Drug) or not identified.drug_conflicts:
        return work
    otherwise = tuple(
        _work_of(order, named_medication(c.name), c.reading, terms, config) for c in identified.drug_conflicts
    )
    return replace(work, otherwise=otherwise)


def _work_of(
    order: MedOrder, medication: ResolvedMedication, identified: Drug | str, terms: Terminology, config: GuidelineConfig
) -> _Work:
    """The order read as `identified`, the drug `medication` (its own, or one of its names alone) is."""
    drug = identified if isinstance(identified, Drug) else None
    name = medication_display_name(order.medication, drug, terms)
    not_counted = not_counted_reason(medication, drug, terms)
    if drug is None:
        reason = not_counted or str(identified)
        return _Work(order, name, None, None, reason, not_counted, own_words(reason, medication, terms))
    groups = daily_groups(order, drug, config)
    if isinstance(groups, str):
        return _Work(order, name, drug, None, not_counted or groups, not_counted)
    return _Work(order, name, drug, groups, not_counted, not_counted)


def _methadone_mg(work: _Work) -> Decimal | None:
    """The order's methadone mg/day for tiering: the group with the most methadone (8.3)."""
    if work.groups is None or work.drug is None or mf.METHADONE not in work.drug.ingredients or work.not_counted:
        return None  # methadone for OUD is not counted, so it does not raise the cdc2016 tier of pain methadone
    return max(g.get(mf.METHADONE, Decimal(0)) for g in work.groups.groups)


def _methadone_read(work: _Work) -> Decimal | None:
    """`_methadone_mg` of the order, the most any of its readings (its code's, its names') gives: the tier is then
    never lowered by a reading not counted."""
    found = [m for m in (_methadone_mg(w) for w in (work, *work.otherwise)) if m is not None]
    return max(found) if found else None


def _rxnorm_code(work: _Work) -> str | None:
    if work.drug and work.drug.rxcui:
        return work.drug.rxcui
    codes = _rxnorm_codings(work.order.medication)
    return codes[0].code if codes else None


def _result(
    work: _Work,
    state: Literal["ok", "excluded", "unknown"],
    reason: str | None,
    ingredients: tuple[IngredientMme, ...],
    mme: Decimal | None,
    notes: Sequence[str],
    explanation: str,
    daily: str | None = None,
) -> OrderMme:
    """The order's MME line; `daily` is `daily_dose_text(ingredients)` when the caller has it already."""
    return OrderMme(
        order=work.order,
        order_ref=work.order.ref,
        is_draft=work.order.is_draft,
        display_name=work.display_name,
        rxnorm_code=_rxnorm_code(work),
        state=state,
        reason=reason,
        reason_text=(work.said if reason == work.reason and work.said else REASON_TEXT.get(reason)) if reason else None,
        estimated_by=work.groups.estimated_by if work.groups else None,
        ingredients=ingredients,
        mme=mme,
        notes=tuple(dict.fromkeys(notes)),
        dose_explanation=explanation + against_text(work.groups.against if work.groups else ()),
        daily_dose_text=daily if daily is not None else daily_dose_text(ingredients),
        sig_against_code=work.groups.against if work.groups else (),
    )


def _second_pass(work: _Work, config: GuidelineConfig, methadone_total: Decimal) -> OrderMme:
    """The order's MME line; an order whose names state another drug than its code is counted by the reading whose
    MME is the higher, and the conflict is named on its line (`counted_reading`)."""
    result = _converted(work, config, methadone_total)
    if work.code_named is not None:
        # Its code states no opioid and its name one: read as the name's opioid, the conflict named on its line.
        named = work.code_named(result)
        line = with_conflicts(result.dose_explanation, (named,))
        return replace(result, dose_explanation=line, drug_conflicts=(named,))
    if work.drug is None or not work.otherwise:
        return result
    readings = (result, *(_converted(w, config, methadone_total) for w in work.otherwise))
    index, words = counted_reading(work.drug.drug_conflicts, readings)
    counted = readings[index]
    line = with_conflicts(counted.dose_explanation, words)
    return replace(counted, dose_explanation=line, drug_conflicts=words)


def _converted(work: _Work, config: GuidelineConfig, methadone_total: Decimal) -> OrderMme:
    profile = config.profile
    settings = config["mme"]
    use_datafile = bool(settings.get(f"{profile}_use_datafile_factors", profile == "cdc2022"))
    rules = mf.rules_for(profile, use_datafile)
    if work.drug is None or work.groups is None:
        reason = work.reason or "no-frequency"
        state: Literal["excluded", "unknown"] = "excluded" if work.not_counted else "unknown"
        why = f"{work.display_name}: {work.said or REASON_TEXT[reason]}{conflict_text(work.drug, False)}"
        return _result(work, state, reason, (), None, [], why)
    basis = methadone_total if settings.get("methadone_tier_basis", "total") == "total" else _methadone_mg(work)
    groups = work.groups.groups
    converted = [_convert(g, work.drug, rules, profile, basis) for g in groups]
    totals = [_group_mme(c) for c in converted]
    if all(t is not None for t in totals):
        best = max(range(len(converted)), key=lambda i: totals[i] or Decimal(0))
    else:
        best = max(range(len(converted)), key=lambda i: sum(groups[i].values(), Decimal(0)))
    ingredients = converted[best]
    notes = list(work.groups.notes)
    if len(converted) > 1:
        notes.append(f"highest of {len(converted)} sequential dosing steps")
    notes.extend(f"{i.name}: {_factor_text(i, profile)}" for i in ingredients if i.factor_source == "datafile")
    if profile == "cdc2016" and basis is not None and any(i.rxcui == mf.METHADONE for i in ingredients):
        notes.append(f"methadone factor tiered on {number_text(basis)} mg/day methadone")
    doses = ", then ".join(work.groups.texts)
    daily_text = daily_dose_text(ingredients)
    daily = daily_text or "daily dose unknown"
    if work.not_counted:
        why = f"{NOT_COUNTED_TEXT[work.not_counted]}{conflict_text(work.drug, False)}"
        return _result(
            work,
            "excluded",
            work.not_counted,
            ingredients,
            None,
            notes,
            f"{work.display_name}: {doses} = {daily}; {why}",
            daily_text,
        )
    mme = totals[best]
    if mme is None:
        profile_name = mf.PROFILE_LABELS[profile].removesuffix(" factors")
        missing = ", ".join(i.name for i in ingredients if i.mme is None and i.rxcui != mf.BUPRENORPHINE)
        reason, why = no_factor(work.drug, missing, f"{profile_name} ")
        why = f"{work.display_name}: {doses} = {daily}; {why}{conflict_text(work.drug, False)}"
        return _result(work, "unknown", reason, ingredients, None, notes, why, daily_text)
    steps = " + ".join(
        f"{number_text(i.daily_amount or Decimal(0))} {_per_day(i.daily_unit)} {i.name} {_factor_text(i, profile)}"
        for i in ingredients
        if i.mme is not None
    )
    highest = "; highest step = " if len(converted) > 1 else " = "
    explanation = f"{_named(work)}: {doses}{highest}{steps} = {format_mme(mme)} MME/day{conflict_text(work.drug)}"
    return _result(work, "ok", None, ingredients, mme, notes, explanation, daily_text)


def _named(work: _Work) -> str:
    """The order's name, saying so when the drug was identified from its name rather than its code."""
    if work.drug is not None and work.drug.from_name:
        return f"{work.display_name} (identified from its name)"
    return work.display_name


def compute_mme(orders: Sequence[MedOrder], terms: Terminology, config: GuidelineConfig) -> MmeSummary:
    """MME of each order and the total (8.8). Unknown orders are listed and never count as 0."""
    with localcontext(DECIMAL_CONTEXT):
        works = [_first_pass(order, terms, config) for order in orders]
        methadone_total = sum((m for m in (_methadone_read(w) for w in works) if m is not None), Decimal(0))
        results = tuple(_second_pass(w, config, methadone_total) for w in works)
    ok = any(r.state == "ok" for r in results)
    unknown = any(r.state == "unknown" for r in results)
    state: Literal["complete", "partial", "none"] = "none" if not ok else ("partial" if unknown else "complete")
    return MmeSummary(profile=config.profile, total=counted_total(results), state=state, orders=results)


def counted_total(results: Sequence[OrderMme]) -> Decimal:
    """The total MME/day of the orders counted (state ok), without division noise: unknown and excluded add nothing."""
    with localcontext(DECIMAL_CONTEXT):
        total = sum((r.mme for r in results if r.state == "ok" and r.mme is not None), Decimal(0))
    return quantize6(total)


# ---------------------------------------------------------------------------------------------------------------
# The same conversion for a daily amount known some other way (a pharmacy fill: quantity ÷ days' supply)


def ingredient_amounts(drug: Drug, per_day: Amount) -> tuple[tuple[str, Decimal], ...] | str:
    """A daily amount in units, mL or mg → mg/day per opioid ingredient (8.6 table), or a reason code."""
    with localcontext(DECIMAL_CONTEXT):
        return _per_ingredient(drug, per_day)


def convert_amounts(
    amounts: Mapping[str, Decimal], drug: Drug, config: GuidelineConfig, methadone_basis: Decimal | None
) -> tuple[tuple[IngredientMme, ...], Decimal | None]:
    """Daily amounts per ingredient (mg/day, or mcg/h worn for a patch) → per-ingredient MME and their sum, with the
    active profile's factors (methadone tiered on `methadone_basis` under cdc2016); the sum is None when a factor
    is missing. Buprenorphine is listed but never converted (8.7)."""
    profile = config.profile
    use_datafile = bool(config["mme"].get(f"{profile}_use_datafile_factors", profile == "cdc2022"))
    with localcontext(DECIMAL_CONTEXT):
        ingredients = _convert(amounts, drug, mf.rules_for(profile, use_datafile), profile, methadone_basis)
        return ingredients, _group_mme(ingredients)


def factor_text(item: IngredientMme, profile: str) -> str:
    """ "× 1.5", or the data-file wording, as in the order explanations."""
    return _factor_text(item, profile)


def per_day_unit(unit: str) -> str:
    return _per_day(unit)
