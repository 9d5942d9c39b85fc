"""The brands the packaged RxNorm drug table sells only as opioid products ("… Oral Solution [Zodryl AC]"), for a
name that reads no ingredient: RxNorm's brand-level names ("Zodryl AC Oral Product") and brand-only orders."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache

from guideline.recognition.lexicon import ALIASES, DRUG_TABLE, NAME_WORD, brands, ingredients
from guideline.recognition.names import name_not_read

# The brand in brackets at the end of a drug table name; a pack's name ("{2 (…) } Pack [Subsys 1200 MCG]") is left out.
_BRACKETED = re.compile(r"\[([^\[\]{}()]+)\]$")
# RxNorm marks a reformulated product in its brand ("Endodan Reformulated May 2009"): the brand is the words before.
_REFORMULATED = re.compile(r"\s+reformulated\b.*$")


@dataclass(frozen=True, slots=True)
class TableBrand:
    """One brand of the drug table, as its products say: the ingredients every one of them holds (opioids first),
    whether all are extended-release, and their RxNorm dose forms."""

    name: str
    ingredients: tuple[str, ...]
    extended_release: bool
    dose_forms: tuple[str, ...]


@cache
def table_brands() -> dict[str, TableBrand]:
    """Every brand of the drug table the hand-written brand table does not list, by its lower-case name. The
    ingredients are only those all its products share; their order is not the label's, so no strength is ever read
    by them (a name that reads none of its own ingredients gives no strength to assign)."""
    known = ingredients()
    held: dict[str, list[frozenset[str]]] = {}
    forms: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    with DRUG_TABLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            found = _BRACKETED.search(row["drug_name"])
            if found is None or row["dose_form"] == "Pack":
                continue
            name = _REFORMULATED.sub("", found.group(1).strip().lower())
            words = {ALIASES.get(w, w) for w in NAME_WORD.findall(row["drug_name"][: found.start()].lower())}
            held.setdefault(name, []).append(frozenset(w for w in words if w in known))
            forms.setdefault(name, []).append(row["dose_form"])
            shown.setdefault(name, _REFORMULATED.sub("", found.group(1).strip(), count=1))
    listed = brands()
    table: dict[str, TableBrand] = {}
    for name, sets in held.items():
        shared = frozenset.intersection(*sets)
        opioids = sorted(w for w in shared if known[w].kind == "opioid")
        if name in listed or not opioids:
            continue
        table[name] = TableBrand(
            name=shown[name],
            ingredients=(*opioids, *sorted(shared - set(opioids))),
            extended_release=all("Extended Release" in form for form in forms[name]),
            dose_forms=tuple(dict.fromkeys(forms[name])),
        )
    return table


@cache
def _pattern() -> re.Pattern[str]:
    names = sorted(table_brands(), key=len, reverse=True)  # "zodryl dac" before "zodryl"
    return re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(name) for name in names) + r")(?![a-z0-9])")


def table_brand(name: str) -> TableBrand | None:
    """The drug table brand a name writes as words of its own ("Zodryl AC Oral Product", "Synalgos-DC capsule"); none
    in a name too long to read (`names.name_not_read`)."""
    if name_not_read(name) is not None:
        return None
    found = _pattern().search(name.lower())
    return table_brands()[found.group(1)] if found else None
