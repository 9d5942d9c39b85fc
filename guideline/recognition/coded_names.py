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
from guideline.fhirdata import RXNORM, Concept
from guideline.recognition.names import read_name

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


def names_alone(concept: Concept | None) -> tuple[str, ...]:
    """The names of a medication's codes when every one is an RxNorm code PainPlan names and all name one class;
    else none. A code beside another drug's code is left to that code and the names: naloxone's ingredient code
    listed with buprenorphine's (or oxycodone's) is the abuse deterrent of that product, never naloxone at home; and
    beside an NDC or an EHR's own code it may be that product's ingredient, which cannot be told."""
    return tuple(item.name for item in _named_alone(concept))


def coded_name(concept: Concept | None) -> str | None:
    """What to call a medication `names_alone` names: a product's name when one is among its codes, else every
    ingredient's ("oxycodone / codeine"); None when the rule names none."""
    named = _named_alone(concept)
    product = next((item.name for item in named if item.level == "product"), None)
    return product or " / ".join(item.name for item in named) or None


def _named_alone(concept: Concept | None) -> tuple[CodedName, ...]:
    codings = [c for c in concept.codings if c.code] if concept is not None else []
    table = _every_coded_name()
    found = [table.get(c.code or "") if c.system == RXNORM else None for c in codings]
    named = tuple({item.name: item for item in found if item is not None}.values())
    if not codings or None in found or len({item.kind for item in named}) != 1:
        return ()
    return named
