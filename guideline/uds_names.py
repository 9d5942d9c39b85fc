"""Reading a urine drug test from its name, for lab results that carry only a local code or text (no LOINC)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from guideline.fhirdata import LOINC, Concept
from guideline.uds_analytes import ANALYTES, CLASS_MEMBERS
from guideline.words import longest_not_read

# A result is a urine drug test by name when its name is one of the abbreviations for one, or says urine and says
# drug testing or a substance. A serum methadone level, a urine culture, a urinalysis, and urine "screens" for
# chlamydia, pregnancy or nicotine are not.
_URINE_DRUG_TEST = re.compile(r"\b(uds|utox|udt|udst)\b")
_URINE = re.compile(r"\b(urine|ur|urn)\b")
_DRUG_TESTING = re.compile(r"\b(drug|drugs|tox|toxicology)\b")

# The substance table's row keys (guideline.terminology, guideline.uds_analytes) and the words lab names use for
# them, so a result named "Morphine, Urine" is judged as its LOINC code "Morphine [Presence] in Urine" is. Word
# boundaries keep 6-monoacetylmorphine (heroin) from reading as morphine, hydromorphone as morphine, and acetyl
# fentanyl from reading as fentanyl.
SUBSTANCE_WORDS: dict[str, str] = {
    "amphetamine": r"amphetamines?|methamphetamine|mdma|ecstasy",
    "barbiturate": r"barbiturates?|butalbital|phenobarbital|secobarbital",
    "benzodiazepine": r"benzodiazepines?|benzos?",
    "buprenorphine": r"buprenorphine|norbuprenorphine",
    "fentanyl": r"(?<!acetyl )(?<!acryl )(?<!butyryl )(?<!furanyl )(?<!valeryl )(?:fentanyl|norfentanyl)",
    "methadone": r"methadone|eddp",
    "opiate": r"opiates?",
    "oxycodone": r"oxycodone|noroxycodone",
    "cocaine": r"cocaine|benzoylecgonine",
    "heroin": r"heroin|6-mam|6-monoacetylmorphine|6-acetylmorphine",
    "pcp": r"phencyclidine|pcp",
    "xylazine": r"xylazine",
    "cannabinoid": r"cannabinoids?|cannabis|marijuana|thc|thc-cooh",
    "morphine": r"morphine|normorphine",
    "codeine": r"codeine|norcodeine",
    "hydrocodone": r"hydrocodone|norhydrocodone",
    "hydromorphone": r"hydromorphone",
    "oxymorphone": r"oxymorphone|noroxymorphone",
    "oxycodone+oxymorphone": r"oxycodone\s*(?:/|\+|&|and)\s*oxymorphone",
    "tapentadol": r"tapentadol|nortapentadol",
    "tramadol": r"tramadol|nortramadol|o-desmethyltramadol",
    "meperidine": r"meperidine|normeperidine",
    "fentanyl-analogue": r"acetyl ?fentanyl|acryl ?fentanyl|butyryl ?fentanyl|furanyl ?fentanyl|valeryl ?fentanyl"
    r"|carfentanil|norcarfentanil",
    "synthetic-opioid": r"[a-z]*nitazene|u-47700|brorphine",
    "alprazolam": r"alprazolam|alpha-hydroxyalprazolam",
    "clonazepam": r"clonazepam|7-aminoclonazepam",
    "diazepam": r"diazepam",
    "nordiazepam": r"nordiazepam",
    "oxazepam": r"oxazepam",
    "temazepam": r"temazepam",
    "lorazepam": r"lorazepam",
}
_SUBSTANCE_PATTERNS = {name: re.compile(rf"(?<![\w-])(?:{words})(?![\w-])") for name, words in SUBSTANCE_WORDS.items()}
# A name for two drugs tested together ("Oxycodone/Oxymorphone") is that test's row, not each drug's.
_COMBINED = {"oxycodone+oxymorphone": ("oxycodone", "oxymorphone")}
# What may stand between a drug's name and what a lab says of it: "Oxycodone - positive", "Opiates = POS".
_BETWEEN = re.compile(r"^(?:[\s:=/&+\-–]|\b(?:was|were|is|are)\b)+")
# Words a clause begins with for what a drug named before it breaks down to ("Oxycodone and metabolites detected",
# "Hydrocodone and its metabolite hydromorphone present"): they name no drug of their own, and what the lab says
# after them is said of the drugs named before.
_METABOLITES = re.compile(r"^\s*(?:(?:its|their)\s+)?metabolites?(?:\s*\(s\))?(?![\w-])")


def _loinc_coded(code: Concept) -> bool:
    return any(c.system == LOINC and c.code for c in code.codings)


def long_test_name(code: Concept | None) -> int | None:
    """The length of a test's longest name (its text or a coding's display, `longest_not_read`) when it carries no
    LOINC code and that name is longer than `words.TEXT_READ_CHARACTERS` (then none is read: it names no test, and is
    named, `test-names-not-read`), else None."""
    if code is None:
        return None
    # The length first: asked of every result, report and order on each order-sign, and almost never long.
    length = longest_not_read([code.text, *[coding.display for coding in code.codings]])
    return length if length is not None and not _loinc_coded(code) else None


def substances_named(code: Concept | None) -> tuple[str, ...] | None:
    """The substances (their row keys) a urine drug test reports on, read from its name; None when the name is no
    such test, is too long to read (`long_test_name`), or the result carries a LOINC code (a LOINC outside the urine
    drug test sets is another test, whatever its name)."""
    if code is None or _loinc_coded(code) or long_test_name(code) is not None:
        return None
    names = _names(code)
    named_test = bool(_URINE_DRUG_TEST.search(names))
    if not named_test and not _URINE.search(names):
        return None
    found = _substances_in(names)
    if not found and not named_test and not _DRUG_TESTING.search(names):
        return None
    return found


def substances_of_panel_item(code: Concept | None) -> tuple[str, ...] | None:
    """The substances a component of a urine drug test panel reports on, read from its name alone ("Fentanyl",
    "OXYCODONE"): the panel already says it is a urine drug test, so its items need not. None when the name names
    no substance (a creatinine or pH check of the specimen) or the component carries a LOINC code."""
    if code is None or _loinc_coded(code) or long_test_name(code) is not None:
        return None
    return _substances_in(_names(code)) or None


def substances_in_words(words: str) -> tuple[str, ...]:
    """The substances (their row keys) words name, as a result's name is read: a lab report's conclusion
    ("Positive for oxycodone") read only to tell a result of the same report it contradicts (`guideline.uds`)."""
    return _substances_in(words.lower())


def with_class_members(keys: Iterable[str]) -> frozenset[str]:
    """The row keys, with the drugs each class among them stands for (`CLASS_MEMBERS`) and the analyte rows each drug
    so named explains (`_EXPLAINED`: its metabolites, as "Oxycodone positive" is said of its oxymorphone too)."""
    drugs = {key for found in keys for key in (found, *CLASS_MEMBERS.get(found, ()))}
    return frozenset(drugs.union(*(_EXPLAINED.get(drug, ()) for drug in drugs)))


def _explained() -> dict[str, tuple[str, ...]]:
    """The analyte rows (keys) each drug explains a positive of (`Analyte.explained_by`), by the drug."""
    rows: dict[str, list[str]] = {}
    for analyte in ANALYTES:
        for drug in analyte.explained_by:
            rows.setdefault(drug, []).append(analyte.key)
    return {drug: tuple(keys) for drug, keys in rows.items()}


# A lab names the drug it found and not what it breaks down to: the analyte table says which rows each explains.
_EXPLAINED = _explained()


def words_after_substances(words: str) -> str | None:
    """What words say after the last substance they name ("Oxycodone detected": "detected"), as a lab writes a
    finding after the drug; None when they name none."""
    lowered = words.lower()
    ends = [found.end() for pattern in _SUBSTANCE_PATTERNS.values() for found in pattern.finditer(lowered)]
    return _BETWEEN.sub("", lowered[max(ends) :]) if ends else None


def words_after_metabolites(words: str) -> str | None:
    """What words that begin with metabolite words say after them ("metabolites detected": "detected"); None when
    they begin otherwise."""
    lowered = words.lower()
    found = _METABOLITES.match(lowered)
    return _BETWEEN.sub("", lowered[found.end() :]) if found else None


def _names(code: Concept) -> str:
    return " ".join(filter(None, [code.text, *(c.display for c in code.codings)])).lower()


def _substances_in(names: str) -> tuple[str, ...]:
    found = tuple(name for name, pattern in _SUBSTANCE_PATTERNS.items() if pattern.search(names))
    parts = {part for combined, both in _COMBINED.items() if combined in found for part in both}
    return tuple(name for name in found if name not in parts) if parts else found
