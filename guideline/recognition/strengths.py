"""What a Medication's ingredient list says of its opioid strengths (guideline 8.2 step 3): which opioid each item is,
and its mass strength per unit, mL, hour or actuation. The MME converts from it, and recognition reads it to class
an opioid whose name gives no strength, so the two never disagree about one product."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

from guideline import mme_factors as mf
from guideline.dosage import classify_unit, to_amount
from guideline.fhirdata import RXNORM, Concept, Quantity
from guideline.recognition.names import read_name
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


def listed_opioid(item: MedicationIngredient, aliases: Mapping[str, str]) -> tuple[str | None, bool]:
    """The RxNorm opioid ingredient an item of the list is, by its RxNorm code (a site's alias read through) or,
    with no RxNorm code, by its name; and whether it was by name."""
    codes = item.item.codes(RXNORM) if item.item else ()
    ingredient = next((aliases.get(c, c) for c in codes if aliases.get(c, c) in mf.OPIOID_INGREDIENTS), None)
    if ingredient is None and item.item is not None and not codes:
        return opioid_named(item.item), True
    return ingredient, False


def listed_strengths_known(medication: ResolvedMedication, aliases: Mapping[str, str] | None = None) -> bool:
    """Whether the Medication's ingredient list gives the MME its opioid strengths: one opioid at least with a mass
    strength, and no opioid named by code without one (a named one without is left to the names, as the MME does)."""
    resource = medication.resource
    found = False
    for item in resource.ingredients if resource else ():
        ingredient, named = listed_opioid(item, aliases or {})
        if ingredient is None:
            continue
        if mass_strength(item) is not None:
            found = True
        elif not named:
            return False
    return found
