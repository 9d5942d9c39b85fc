"""A unit as EHRs spell it, read as one key: the one place doses, strengths and durations tidy unit words.

Three readings, and the words of an hour:

- `unit_key`: trimmed, lower case, UCUM annotation braces dropped. Strengths read their denominator by it (an hour
  by `normalise_unit`, so "hour(s)" and "hrs" are hours there too).
- `normalise_unit`: `unit_key`, and a trailing "(s)", "(es)", "(ies)" or full stop dropped, spaces collapsed. Doses,
  dispense quantities, count words and durations (days' supplies, timing bounds, maxDosePerPeriod periods) read by
  it: durations once had a reading of their own, under which "24 hr", "min(s)", "wk(s)" and "days." named no unit.
- `nci_unit`: the unit an NCI Thesaurus code names (FDA SPL and NCPDP units, as Oracle Health and CARIN payers send
  a quantity's unit with no unit text), as the unit word the readings above know.
- `HOURS`: an hour as units and sigs write it, the one list durations, strengths per hour and sig text read.
"""

from __future__ import annotations

import re

# The NCI Thesaurus, as FHIR quantities name it: the UMLS-era URL Oracle Health sends, its HL7 OID, and its
# canonical URL.
NCI_THESAURUS = frozenset(
    {
        "http://ncimeta.nci.nih.gov",
        "urn:oid:2.16.840.1.113883.3.26.1.1",
        "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    }
)
# The NCI Thesaurus codes of the units of the NCPDP dose and quantity unit subsets (C121847, C89510) and FDA SPL
# that name an amount PainPlan reads, checked against NCI EVS's published NCPDP terminology. Only these: a code not
# listed (an ampule is C48473, a vial C48551) stays an unknown unit, named, never guessed as a count of tablets.
_NCI_UNITS: dict[str, str] = {
    "C48542": "tablet",
    "C64696": "tablet",  # Caplet: a tablet shaped as a capsule
    "C48480": "capsule",
    "C48524": "patch",
    "C53499": "film",
    "C122629": "actuation",
    "C48537": "spray",
    "C65060": "puff",
    "C48506": "lozenge",
    "C48548": "troche",
    "C48539": "suppository",
    "C64933": "each",
    "C28253": "mg",
    "C48152": "mcg",
    "C48155": "g",
    "C28254": "mL",
    "C48505": "L",
    # SPL's "Unit" (UCUM U), the unit insulin or heparin is dosed in: shown as the unit it is, and, being no amount
    # of an opioid, still unknown to the dose readings (never the count word "unit", which would be tablets).
    "C44278": "U",
}

# An hour, after `normalise_unit`: a duration's unit ("24 hr"), a strength's denominator ("mcg/hrs") and a sig's
# interval ("every 4 hrs") are read by this one list, so none of them knows an hour the others do not.
HOURS = frozenset({"h", "hr", "hrs", "hour", "hours"})

_PLURAL_MARK = re.compile(r"\((?:e?s|ies)\)$")
_SPACES = re.compile(r"\s+")


def unit_key(raw: str) -> str:
    """A unit trimmed, in lower case, without UCUM annotation braces: " {Tablets} " → "tablets"."""
    return raw.strip().lower().replace("{", "").replace("}", "")


def normalise_unit(raw: str | None) -> str | None:
    """A unit as EHRs spell it, as one key: "mg(s)", "MG.", "{tbl}", "patch(es)" → "mg", "mg", "tbl", "patch"."""
    if raw is None:
        return None
    key = _PLURAL_MARK.sub("", unit_key(raw).strip().rstrip(".")).rstrip(".").strip()
    return _SPACES.sub(" ", key) or None


def nci_unit(system: str | None, code: str | None) -> str | None:
    """The unit word an NCI Thesaurus unit code names: ("http://ncimeta.nci.nih.gov", "C48542") → "tablet"; None for
    another system or a code not listed."""
    if system not in NCI_THESAURUS or not code:
        return None
    return _NCI_UNITS.get(code.strip().upper())
