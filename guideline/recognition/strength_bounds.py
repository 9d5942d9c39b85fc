"""The largest unit strength of each opioid in any marketed product, from the shipped drug table: a strength read
from a name above it is no real product's ("oxycodone 5,325 mg", a combination's strengths written as one number)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from guideline import mme_factors as mf
from guideline.memo import MISSING, IdentityMemo
from guideline.recognition.names import StrengthBasis, form_of

# The drug table's strength units as the basis a strength is per (a tablet, a mL, an hour of a patch, a spray).
PER_BY_UNIT: dict[str, StrengthBasis] = {"MG": "unit", "MG/ML": "ml", "MG/HR": "hour", "MG/ACTUAT": "actuation"}
# A name's strength up to this much above the largest product's is still taken: a liquid's strength written rounded,
# or a product newer than the shipped table. Far above it (5325 mg of oxycodone, 66 times 80 mg) is no product.
_MARGIN = Decimal("1.1")

_Key = tuple[str, StrengthBasis, str | None]  # ingredient, basis, form family (None: any form)


class _Row(Protocol):
    @property
    def ingredient_rxcui(self) -> str: ...

    @property
    def ingredient(self) -> str: ...

    @property
    def dose_form(self) -> str: ...

    @property
    def strength_value(self) -> Decimal | None: ...

    @property
    def strength_unit(self) -> str: ...


class DrugTable(Protocol):
    """What the bounds read: guideline.terminology.Terminology's whole drug table."""

    def drug_table(self) -> Mapping[str, Sequence[_Row]]: ...


def row_ingredient(row: _Row) -> str:
    """A drug table row's ingredient by the name the factors use ("oxycodone"), else its own name lower-cased."""
    return mf.INGREDIENT_NAMES.get(row.ingredient_rxcui) or str(row.ingredient).lower()


# Derived once per table (the packaged one is loaded once), remembered by the table's identity.
_DERIVED = IdentityMemo(limit=4)


def _bounds(terms: DrugTable) -> dict[_Key, Decimal]:
    table = terms.drug_table()
    bounds = _DERIVED.get(None, table)
    if bounds is MISSING:
        bounds = _derived_bounds(table)
        _DERIVED.put(None, table, answer=bounds)
    return bounds  # type: ignore[return-value]


def _derived_bounds(table: Mapping[str, Sequence[_Row]]) -> dict[_Key, Decimal]:
    bounds: dict[_Key, Decimal] = {}
    for rows in table.values():
        for row in rows:
            per = PER_BY_UNIT.get(str(row.strength_unit).upper())
            if per is None or row.strength_value is None:
                continue
            name = row_ingredient(row)
            value = Decimal(row.strength_value)
            # Form families by the form words names are read with, so a name's form and a product's compare.
            for key in ((name, per, form_of(row.dose_form.lower())), (name, per, None)):
                bounds[key] = max(bounds.get(key, value), value)
    return bounds


def largest_strength(terms: DrugTable, ingredient: str, per: StrengthBasis, form: str | None) -> Decimal | None:
    """The largest strength of the ingredient in any product of the form's family, or of any form when the form is
    unknown or no product has it; None when no product of the ingredient has a strength on that basis."""
    bounds = _bounds(terms)
    return bounds.get((ingredient, per, form)) or bounds.get((ingredient, per, None))


def implausible(terms: DrugTable, ingredient: str, mg: Decimal, per: StrengthBasis, form: str | None) -> Decimal | None:
    """The largest real strength when a strength read from a name is more than it by more than the margin, else
    None (a plausible strength, or one no product bounds)."""
    largest = largest_strength(terms, ingredient, per, form)
    if largest is None or mg <= largest * _MARGIN:
        return None
    return largest
