"""What a Medication's ingredient list says of its opioid strengths (guideline 8.2 step 3): which opioid each item is,
and its mass strength per unit, mL, hour or actuation. The MME converts from it, and recognition reads it to class
an opioid whose name gives no strength, so the two never disagree about one product."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol

from guideline import mme_factors as mf
from guideline.dosage import classify_unit, to_amount
from guideline.fhirdata import RXNORM, Concept, Quantity
from guideline.recognition.names import form_of, read_name
from guideline.recognition.strength_bounds import DrugTable, implausible
from guideline.record import MedicationIngredient, ResolvedMedication
from guideline.units import HOURS, nci_unit, normalise_unit, unit_key

Strength = Literal["unit", "ml", "hour", "actuation"]


def strength_basis(q: Quantity | None) -> tuple[Strength, Decimal] | None:
    """Per what a Ratio strength is: (basis, amount of that basis); None when the denominator is unusable."""
    if q is None:
        return "unit", Decimal(1)
    value = q.value if q.value is not None else Decimal(1)
    if value <= 0:
        return None
    # The code, else the unit: "hour(s)", "hrs" and "hr." are hours, as a duration reads them (normalise_unit).
    key = unit_key(nci_unit(q.system, q.code) or q.code or q.unit or "")  # "C122629" is an actuation
    if normalise_unit(key) in HOURS:
        return "hour", value
    if any(word in key for word in ("actuat", "spray", "puff")):
        return "actuation", value
    unit_class, multiply, divide = classify_unit(q)
    if unit_class == "volume":
        return "ml", value * multiply / divide
    if unit_class == "count":
        return "unit", value
    return None


def mass_strength(item: MedicationIngredient) -> tuple[Decimal, Strength] | None:
    """The item's strength in mg per its basis, or None when it is not a mass over a usable basis."""
    numerator = to_amount(item.strength_numerator)
    basis = strength_basis(item.strength_denominator)
    if numerator is None or numerator.unit_class != "mass" or basis is None:
        return None
    per, amount = basis
    return numerator.value / amount, per


def opioid_named(item: Concept) -> str | None:
    """The RxNorm ingredient code of an ingredient known only by its name ("oxycodone hydrochloride": DSTU2 names
    a Medication's ingredients by a Substance reference's display), when the name is one opioid ingredient."""
    found = {
        ingredient.rxcui
        for name in (item.text, *(c.display for c in item.codings))
        if name
        for ingredient in read_name(name).ingredients
        if ingredient.kind == "opioid" and ingredient.rxcui in mf.OPIOID_INGREDIENTS
    }
    return found.pop() if len(found) == 1 else None


class IngredientAliases(Protocol):
    """Where the site's ingredient code aliases are read: guideline.terminology.Terminology, built for one
    configuration, so the MME, recognition and the words for a strength no product holds read them alike."""

    @property
    def ingredient_code_aliases(self) -> Mapping[str, str]: ...


class AliasedDrugTable(IngredientAliases, DrugTable, Protocol):
    """The aliases and the drug table whose largest strengths bound a listed one."""


def ingredient_codes(item: MedicationIngredient, aliases: Mapping[str, str]) -> tuple[str, ...]:
    """An item's RxNorm codes, each a site's alias names read as the RxNorm ingredient it stands for."""
    codes = item.item.codes(RXNORM) if item.item else ()
    return tuple(aliases.get(code, code) for code in codes)


def listed_opioid(item: MedicationIngredient, aliases: Mapping[str, str]) -> tuple[str | None, bool]:
    """The RxNorm opioid ingredient an item of the list is, by its RxNorm ingredient code (a site's alias read
    through) or, with none, by its name; and whether it was by name. An RxNorm code that is no opioid ingredient's
    (a precise ingredient such as oxycodone hydrochloride, 82063, which the packaged data does not map) leaves the
    name to say it, as no code does: read as another ingredient, Epic's list of oxycodone hydrochloride 5 mg a tablet
    gave no strength."""
    ingredient = next((c for c in ingredient_codes(item, aliases) if c in mf.OPIOID_INGREDIENTS), None)
    if ingredient is None and item.item is not None:
        return opioid_named(item.item), True
    return ingredient, False


def filler(item: MedicationIngredient, ingredient: str | None) -> bool:
    """Whether the list leaves an item out: one its Medication marks inactive (`isActive` false) that is no opioid
    (`ingredient`, as `listed_opioid` reads it). A filler is no ingredient a dose in mg may measure, nor a name that
    says what the product is; no opioid is a filler, so one marked inactive is read."""
    return ingredient is None and not item.active


@dataclass(frozen=True, slots=True)
class ListedItem:
    """One item of a Medication's ingredient list as the MME reads it: the RxNorm opioid ingredient it is (None for
    any other), whether known by its name, and an opioid's strength in mg of that ingredient per its basis (opium's
    as the mg of opium it stands for, `mf.opium_mass`)."""

    item: MedicationIngredient
    ingredient: str | None
    named: bool
    strength: tuple[Decimal, Strength] | None


def listed_items(items: Sequence[MedicationIngredient], aliases: Mapping[str, str]) -> tuple[ListedItem, ...]:
    """The ingredient list's items, morphine listed beside opium folded into the opium as its morphine content
    (`mf.morphine_is_opium_content`): it is left out when the opium has a strength, and gives the opium its strength
    (ten times its morphine) when the opium has none. Each counted, a paregoric listing both counted its morphine
    twice; the opium listed without a strength left the product with none. A `filler` is left out: as another
    ingredient it made "oxycodone 5 mg" ambiguous."""
    listed = []
    for item in items:
        ingredient, named = listed_opioid(item, aliases)
        if filler(item, ingredient):
            continue
        strength = mass_strength(item) if ingredient else None
        if strength is not None and ingredient == mf.OPIUM:
            strength = mf.opium_mass(*strength), strength[1]
        listed.append(ListedItem(item, ingredient, named, strength))
    if not mf.morphine_is_opium_content(i.ingredient for i in listed if i.ingredient):
        return tuple(listed)
    morphine = next(i for i in listed if i.ingredient == mf.MORPHINE)
    kept = [i for i in listed if i.ingredient != mf.MORPHINE]
    if morphine.strength is None:
        return tuple(kept)
    mg, per = morphine.strength
    as_opium = (mf.opium_of_morphine(mg), per)
    return tuple(
        ListedItem(i.item, i.ingredient, i.named, as_opium) if i.ingredient == mf.OPIUM and i.strength is None else i
        for i in kept
    )


def medication_listed(medication: ResolvedMedication, terms: IngredientAliases) -> tuple[ListedItem, ...]:
    """The Medication's ingredient list as the MME reads it (`listed_items`), the site's aliases read through: the
    one reading the MME, recognition and the words for a strength no product holds all take. Empty without one."""
    resource = medication.resource
    return listed_items(resource.ingredients, terms.ingredient_code_aliases) if resource else ()


def medication_listed_codes(medication: ResolvedMedication, terms: IngredientAliases) -> tuple[str, ...]:
    """The RxNorm codes of the Medication's ingredient list in that one reading (`medication_listed`): each a site's
    alias names read as its ingredient, an inactive filler's left out. For readers of any ingredient, not only the
    opioids: a non-opioid's own reading of the list missed the aliases a site set for it."""
    aliases = terms.ingredient_code_aliases
    found = (code for listed in medication_listed(medication, terms) for code in ingredient_codes(listed.item, aliases))
    return tuple(dict.fromkeys(found))


def listed_strengths_known(medication: ResolvedMedication, terms: IngredientAliases) -> bool:
    """Whether the Medication's ingredient list gives the MME its opioid strengths: one opioid at least with a mass
    strength, and no opioid named by code without one (a named one without is left to the names, as the MME does)."""
    found = False
    for listed in medication_listed(medication, terms):
        if listed.ingredient is None:
            continue
        if listed.strength is not None:
            found = True
        elif not listed.named:
            return False
    return found


@dataclass(frozen=True, slots=True)
class UnrealStrength:
    """An opioid strength of an ingredient list that no product has: which opioid, the strength in mg per its basis,
    and the largest strength of that opioid in any product."""

    ingredient: str
    mg: Decimal
    per: Strength
    largest: Decimal


def form_words(medication: ResolvedMedication) -> str | None:
    """The Medication's form words, its text and every coding's display, in lower case; None with no form."""
    form = medication.resource.form if medication.resource else None
    if form is None:
        return None
    return " ".join(filter(None, [form.text, *(c.display for c in form.codings)])).lower()


def listed_form(medication: ResolvedMedication) -> str | None:
    """The form family the Medication's form words say ("tablet", "patch", "injection"), as names are read."""
    words = form_words(medication)
    return form_of(words) if words is not None else None


def unreal_listed(medication: ResolvedMedication, terms: AliasedDrugTable) -> UnrealStrength | None:
    """The first opioid of the Medication's ingredient list whose strength is more than any product of that opioid
    holds (the bound a name's strength meets, `strength_bounds.implausible`), by the Medication's form family; None
    when every listed strength is plausible. 5000 mg of oxycodone a tablet is a drug-file error or mg keyed for mcg:
    counted, it made a false critical total of 30000 MME a day."""
    form = listed_form(medication)
    for listed in medication_listed(medication, terms):
        if listed.ingredient is None or listed.strength is None:
            continue
        mg, per = listed.strength
        name = mf.INGREDIENT_NAMES[listed.ingredient]
        largest = implausible(terms, name, mg, per, form)
        if largest is not None:
            return UnrealStrength(name, mg, per, largest)
    return None
