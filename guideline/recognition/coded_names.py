"""RxNorm codes PainPlan names itself, for EHRs that send them with no display or text: the opioid ingredient codes
of the packaged drug table, and the benzodiazepine and naloxone ingredient codes and products only the 2016 CDC sets
list (guideline/data/named-codes.csv)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from guideline import mme_factors as mf
from guideline.fhirdata import RXNORM, Coding
from guideline.recognition.names import read_name
from guideline.recognition.strengths import filler, listed_opioid
from guideline.record import MedicationIngredient, ResolvedMedication

NAMED_CODES_FILE = Path(__file__).resolve().parent.parent / "data" / "named-codes.csv"
# What a row may name: one of these, never beside an opioid (the naloxone of buprenorphine/naloxone or
# oxycodone/naloxone is an abuse deterrent, no rescue product; those products are left to their own codes).
_NAMED_KINDS = frozenset({"benzodiazepine", "naloxone"})


@dataclass(frozen=True)
class CodedName:
    """The name a row gives its code, the class that name reads as, and whether it names an ingredient or a
    product."""

    name: str
    kind: str
    level: str = "ingredient"


@cache
def coded_names() -> Mapping[str, CodedName]:
    """RxNorm code → its row's name; loading fails on a row that reads as no benzodiazepine or naloxone, or as both,
    or beside an opioid, or that cites no source."""
    with NAMED_CODES_FILE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names: dict[str, CodedName] = {}
    for row in rows:
        kinds = {i.kind for i in read_name(row["name"]).ingredients}
        named = kinds & _NAMED_KINDS
        if len(named) != 1 or "opioid" in kinds or not row["source"].strip():
            raise ValueError(
                f"{NAMED_CODES_FILE.name}: {row['rxcui']} {row['name']!r} reads as no one benzodiazepine or "
                "naloxone alone, or cites no source"
            )
        names[row["rxcui"]] = CodedName(row["name"], named.pop(), row["level"])
    return MappingProxyType(names)


@cache
def _every_coded_name() -> Mapping[str, CodedName]:
    """`coded_names` and the drug table's opioid ingredient codes by its ingredient names (oxycodone, 7804): one
    table, so a bare opioid code is named by the rule that names a bare benzodiazepine or naloxone code."""
    opioids = {code: CodedName(name, "opioid") for code, name in mf.INGREDIENT_NAMES.items()}
    both = opioids.keys() & coded_names().keys()
    if both:
        raise ValueError(f"{NAMED_CODES_FILE.name}: {sorted(both)} are the drug table's opioid ingredients")
    return MappingProxyType({**opioids, **coded_names()})


def load_named_codes() -> None:
    """Reads and checks named-codes.csv (`coded_names`, none of its codes a drug table opioid's), once: called when
    the packaged terminology loads, so a broken row stops loading rather than the first call that meets a bare code,
    and no call pays the reading."""
    _every_coded_name()


def names_alone(medication: ResolvedMedication) -> tuple[str, ...]:
    """The names of a medication's codes, its own or else its Medication's ingredients' (`codes_read`), when every one
    is an RxNorm code PainPlan names and all name one class; else none. A code beside another drug's code is left to
    that code and the names: naloxone's ingredient code listed with buprenorphine's (or oxycodone's) is the abuse
    deterrent of that product, never naloxone at home; and beside an NDC or an EHR's own code it may be that
    product's ingredient, which cannot be told."""
    return tuple(item.name for item in _named_alone(medication))


def coded_name(medication: ResolvedMedication) -> str | None:
    """What to call a medication `names_alone` names: a product's name when one is among its codes, else every
    ingredient's ("oxycodone / codeine"); None when the rule names none."""
    named = _named_alone(medication)
    product = next((item.name for item in named if item.level == "product"), None)
    return product or " / ".join(item.name for item in named) or None


def codes_read(medication: ResolvedMedication) -> tuple[Coding | None, ...]:
    """The codes the rule reads: the medication's own; with none and no name (text, the reference's display), each
    code of its Medication's ingredient list (a `name_left_out` item left out, and None for an item named with no
    code, which is left to its name). A Medication coded or named itself is known by that: its list only says what
    is in it, perhaps in part (a buprenorphine/naloxone film listing only naloxone's code)."""
    concept = medication.concept
    own = tuple(c for c in concept.codings if c.code) if concept is not None else ()
    resource = medication.resource
    named = (concept is not None and concept.text) or medication.reference_display
    if own or named or resource is None:
        return own
    read: list[Coding | None] = []
    for item in resource.ingredients:
        if item.item is None or name_left_out(item):
            continue
        coded = [c for c in item.item.codings if c.code]
        read.extend(coded or ([None] if item.item.display() else []))
    return tuple(read)


def name_left_out(item: MedicationIngredient) -> bool:
    """Whether the list leaves the item out (`strengths.filler`), so its name is not read: an inactive naloxone (an
    abuse deterrent) read as the product's name made an opioid naloxone on hand. No site aliases are read here: an
    inactive item only an alias makes an opioid has no opioid name to read."""
    return not item.active and filler(item, listed_opioid(item, {})[0])


def _named_alone(medication: ResolvedMedication) -> tuple[CodedName, ...]:
    codes = codes_read(medication)
    table = _every_coded_name()
    found = [table.get(c.code or "") if c is not None and c.system == RXNORM else None for c in codes]
    named = tuple({item.name: item for item in found if item is not None}.values())
    if not codes or None in found or len({item.kind for item in named}) != 1:
        return ()
    return named
