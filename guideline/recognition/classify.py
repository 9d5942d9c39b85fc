"""What an order's medication is: from its codes first, then from its names; every medication ends in one class."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal, get_args

from guideline import mme_factors as mf
from guideline.fhirdata import NDC, RXNORM
from guideline.memo import MISSING, IdentityMemo
from guideline.recognition.code_sets import CodeSets, DrugRow
from guideline.recognition.coded_names import name_left_out, names_alone
from guideline.recognition.cut_names import NotedName
from guideline.recognition.lexicon import ingredients as known_ingredients
from guideline.recognition.lexicon import opioid_partners, sedatives_sold_with, sold_with, supplements
from guideline.recognition.names import NamedStrength, NameReading, form_of, name_not_read, read_name
from guideline.recognition.strengths import listed_strengths_known, medication_listed
from guideline.recognition.table_brands import table_brand
from guideline.record import ResolvedMedication, may_read_medication
from guideline.set_names import (
    BENZO,
    BUPRENORPHINE,
    CNS_DEPRESSANT,
    ER_LA,
    MOUD,
    MOUD_BUP,
    NALOXONE_RESCUE,
    NALTREXONE,
    OPIOID,
    OUD_TREATMENT_OPIOID,
    TIRF,
    UNNAMED_MEDICATION,
)
from guideline.words import QUOTED_CHARACTERS, and_list, clip

Kind = Literal[
    "known-opioid",
    "opioid-by-name",
    "opioid-no-mme",
    "benzodiazepine",
    "sedative",
    "naloxone",
    "moud",
    "not-relevant",
    "unidentified",
]
KINDS: tuple[Kind, ...] = get_args(Kind)
OPIOID_KINDS = frozenset({"known-opioid", "opioid-by-name", "opioid-no-mme"})

KIND_TEXT: dict[str, str] = {
    "known-opioid": "opioid (coded)",
    "opioid-by-name": "opioid identified from its name",
    "opioid-no-mme": "opioid without a computable MME",
    "benzodiazepine": "benzodiazepine",
    "sedative": "sedative",
    "naloxone": "naloxone",
    "moud": "medication for opioid use disorder",
    "not-relevant": "not relevant to the opioid checks",
    "unidentified": "could not be identified",
}

_SYSTEM_LABELS = {NDC: "NDC", RXNORM: "RxNorm"}
_SEDATIVE_CLASSES = frozenset({"sedative", "benzodiazepine"})

# The dose forms the factor tables tell apart (fentanyl), by the form words recognition reads.
FORM_CODES: dict[str, str] = {
    "patch": mf.TRANSDERMAL_SYSTEM,
    "buccal tablet": mf.BUCCAL_TABLET,
    "buccal film": mf.BUCCAL_FILM,
    "sublingual": mf.SUBLINGUAL_TABLET,
    "sublingual tablet": mf.SUBLINGUAL_TABLET,  # Abstral's brand form
    "lozenge": mf.ORAL_LOZENGE,
    "nasal spray": mf.NASAL_SPRAY,
    "mucosal spray": mf.MUCOSAL_SPRAY,
}
# Buprenorphine products named for opioid use disorder, whatever form the name gives.
_MOUD_BUPRENORPHINE_BRANDS = frozenset(
    {"suboxone", "subutex", "zubsolv", "bunavail", "sublocade", "brixadi", "probuphine"}
)


@dataclass(frozen=True, slots=True)
class Recognition:
    """One medication's class, how it was identified and the name shown for it."""

    kind: Kind
    how: Literal["code", "name", "none"]
    display: str
    ingredients: tuple[str, ...] = ()
    strengths: tuple[NamedStrength, ...] = ()
    form: str | None = None
    extended_release: bool = False
    # The class came from a code in one of the sets the checks read (a packaged value set or a site's codes): the
    # codes then decide every set, and nothing else is asked. Otherwise (a name, a drug-table or ingredient code) the
    # sets follow the class, through `in_set`.
    by_set_code: bool = False
    # The name lists a strength for an ingredient it did not read ("ALPRAZOLAM/XYLOPRIN 1-5MG"): what was read still
    # decides the class (or, beside an ingredient sold with opioids, the sedative sets of an unidentified name).
    unread_ingredient: bool = False
    # The name looks cut, and its last fragment may begin these opioids ("BUTALBITAL/ACETAMINOPHEN/CAFFEINE/C").
    cut_opioids: tuple[str, ...] = ()
    cut_note: str | None = None  # "the name looks cut and may include codeine"
    # The name as the medication gives it, when recognition noted it (`cut_note`); `display` is the two joined.
    noted_name: str | None = None
    # Its codes state a drug that is no opioid ("acetaminophen", "diazepam") and a name states an opioid: it is read
    # as the name's opioid (`_named_over_code`), and this says what the codes state, so the conflict is named.
    code_says: str | None = None

    @property
    def shown(self) -> str | NotedName:
        """What a card or the plan page names the medication by: the display, or where recognition noted the name,
        the name and its note as typed parts (`cut_names.with_where` joins its where into the note's bracket)."""
        if self.noted_name is not None and self.cut_note is not None:
            return NotedName(self.noted_name, self.cut_note)
        return self.display

    @property
    def by_name(self) -> bool:
        return self.how == "name"

    @property
    def is_opioid(self) -> bool:
        return self.kind in OPIOID_KINDS

    @property
    def unidentified(self) -> bool:
        return self.kind == "unidentified"

    def describe(self) -> str:
        """How it was identified, in words for a card or a plan page."""
        if self.how == "name":
            return f"identified from its name ({self.display})"
        if self.how == "code":
            return "identified from its code"
        return "could not be identified from its codes or its name"


_MEMO = IdentityMemo()


def recognise(medication: ResolvedMedication, terms: CodeSets) -> Recognition:
    """The medication's class: its codes decide when any is known; otherwise its names; otherwise an RxNorm code
    whose names say nothing opioid-like is not relevant, and anything else (a bare code with no name) is
    unidentified."""
    # An inline medicationCodeableConcept is all there is to read, and the reader shares one Concept per distinct
    # content across calls, so the answer is remembered per concept; otherwise per resolved medication.
    key: object = medication.concept if medication.resource is None and medication.reference is None else medication
    found = _MEMO.get(None, key, terms)
    if found is MISSING:
        found = _recognise(medication, terms)
        _MEMO.put(None, key, terms, answer=found)
    return found  # type: ignore[return-value]


def _recognise(medication: ResolvedMedication, terms: CodeSets) -> Recognition:
    found = _recognised(medication, terms)
    if (found.how == "code" and found.is_opioid) or found.unidentified:
        return found
    over = _named_over_code(medication, terms)
    if over is None:
        return found
    # Read as an opioid by its name already (the code in no set): the same reading, the conflict now said.
    return replace(found, code_says=over.code_says) if found.is_opioid else over


def _recognised(medication: ResolvedMedication, terms: CodeSets) -> Recognition:
    by_code = _by_code(medication, terms)
    if by_code is not None:
        return by_code
    reading = _best_reading(medication_names(medication))
    if reading is not None and (reading.cut_opioids or _partner_beside_unread(reading)):
        # "APAP/HC 325-5", "BUTALB/APAP/CAFF/XYLOPRIN", or a name cut before its opioid ("…/CAFFEINE/C"): what was
        # read is sold with opioids, and an ingredient beside it was not read. Not relevant (or a sedative alone)
        # would be a guess that it holds no opioid (no card, no word): it is named instead, with no dose guessed.
        # What was read is kept: a butalbital or carisoprodol in it is a sedative whatever the unread part is.
        shown = unidentified_name(medication)
        return Recognition(
            "unidentified",
            "none",
            str(NotedName(shown, reading.cut_note)) if reading.cut_note else shown,
            ingredients=tuple(i.name for i in reading.ingredients),
            unread_ingredient=True,
            cut_opioids=reading.cut_opioids,
            cut_note=reading.cut_note,
            noted_name=shown if reading.cut_note else None,
        )
    if reading is not None:
        kind = _kind_of(reading)
        if kind == "sedative" and not _sedative_counted(reading, terms):
            # A sedative the site's CNS depressant set leaves out (barbiturates, when cns.include_barbiturates is
            # off) is not relevant, as its code would be; named a sedative, no check would have counted it.
            kind = "not-relevant"
        if kind == "opioid-no-mme" and _strength_listed(reading, medication, terms):
            # The name gives no strength, but the Medication's ingredient list does (an EHR's own product, "PAIN
            # MED", listing oxycodone 5 mg per tablet): its MME can be worked out, as for a name that gave it. Classed
            # here, so `painplan mme`, the cards, the plan page and the review all read the one class.
            kind = "opioid-by-name"
        if kind is not None:
            return Recognition(
                kind=kind,
                how="name",
                display=reading.text,
                ingredients=tuple(i.name for i in reading.ingredients),
                strengths=reading.strengths,
                form=reading.form,
                extended_release=reading.extended_release,
                unread_ingredient=reading.unread_ingredient,
            )
    branded = _by_table_brand(medication, terms)
    if branded is not None:
        return branded
    concept = medication.concept
    names = medication_names(medication)
    if concept is not None and concept.codes(RXNORM) and names and not any(_refuses_only(n) for n in names):
        # An RxNorm drug that is in none of the packaged sets and whose name says nothing opioid-like. A bare code
        # with no name at all is no such evidence: it may be an opioid newer than the packaged data; nor is a name
        # that only refuses a drug ("no oxycodone").
        return Recognition("not-relevant", "code", _shown_name(medication, terms))
    return Recognition("unidentified", "none", unidentified_name(medication))


# Words after which a drug a name mentions is none the order is of: "acetaminophen 325 mg (not oxycodone)", "(was
# oxyCODONE)", "instead of HYDROcodone", "hx oxycodone allergy", "stop oxyCODONE". "No" before a number is a product's
# ("Tylenol No. 3").
_NOT_THIS_DRUG = re.compile(
    r"\b(?:not|no(?!\.?\s*\d)|instead\s+of|in\s+place\s+of|in\s+lieu\s+of|rather\s+than|was|formerly|previously"
    r"|prior|replace[sd]?|replacing|switched\s+from|changed\s+from|history|hx|h/o|allerg\w*|intoleran\w*|stop|stopping"
    r"|stopped|discontinued|d/c)\b",
    re.IGNORECASE,
)

# The words of `_NOT_THIS_DRUG` that refuse the drug after them outright: a name that says nothing else ("no
# oxycodone") states no drug at all.
_REFUSALS = frozenset({"no", "not"})
# Where a refused drug ends and the name goes on to the drug given: a comma, semicolon or colon, a sentence's end, a
# dash or arrow ("NOT morphine - hydromorphone 2 mg", "no codeine, give tramadol 50 mg"). A bracket is no break: it
# is the refused product's own (its brand, "[Percocet]", or a note, "(patient declined)").
# A run of spaces is tried from its first space only (`(?<!\s)`: the search starts after a word): tried from each,
# a long run took seconds. The same breaks.
_GIVEN_AFTER = re.compile(r"[,;:]|\.\s|(?<!\s)\s++-+>?\s+|(?<!\s)\s*+(?:[\u2013\u2014\u2192]|=>)\s*")
_WORD = re.compile(r"[\w/-]+")


# Words after which an opioid a name mentions is why or beside what the order is given, not its product: "Senna 8.6 mg
# while on oxyCODONE", "(on chronic oxycodone)", "hold if taking oxyCODONE", "Acetaminophen 500 mg (use before
# oxycodone)", "take with oxyCODONE", "per oxyCODONE taper", "constipation due to oxyCODONE", "docusate 100 mg,
# oxycodone-induced constipation". "With" alone is also a combination's own word ("Tylenol with Codeine"), "per" a
# strength's ("5-325 MG per tablet"): see `_context_cut`. "Take with", "use with", "along with" are instructions,
# never a product's name.
_CONTEXT = re.compile(
    r"\b(?:for|while(?:\s+(?:on|taking|using|tapering))?|on|taking|takes|(?:take|taken|use|used|given?|along|together)"
    r"\s+with|with|per|due\s+to|from|before|after|during)\b|\b[a-z]+-induced\b",
    re.IGNORECASE,
)


def stated_part(name: str) -> str:
    """The part of a name that states what the order is: what comes before a word that makes a drug named after it
    a past, refused or replaced one, or before a context word after which an opioid is only why or beside what it is
    given (`_context_cut`). The one rule for every name read as or against a code: recognition's, and the MME's
    (`guideline.mme`, a name that states another opioid than its code). A name that refuses a drug outright and goes
    on to the drug given states what follows (`_given_after_refusal`)."""
    given, head = _statement(name)
    return stated_part(given) if given is not None else head


def _statement(name: str) -> tuple[str | None, str]:
    """What a name states, as (the drug given after a refusal, else None; else the part before a word that makes a
    drug after it not the order's, `_stated_head`, or the whole name beside a refusal). The one guard of the name
    length: a name too long to read (`name_not_read`) is read as nothing (`read_name`), so no part of it either."""
    if name_not_read(name) is not None:
        return None, name
    given = _given_after_refusal(name)
    return given, name if given is not None else _stated_head(name)


def _stated_head(name: str) -> str:
    """`stated_part` of a name that refuses no drug outright (`_given_after_refusal` is None): what comes before a
    past, refused or replaced drug's word or a context word."""
    found = _NOT_THIS_DRUG.search(name)
    head = name[: found.start()] if found else name
    for context in _CONTEXT.finditer(head):
        if _context_cut(head[: context.start()], head[context.start() :], context.group()):
            return head[: context.start()]
    return head


def _refuses_only(name: str) -> bool:
    """Whether a name only refuses a drug: "no oxycodone", "NOT oxyCODONE - patient declined", a refusal
    (`_given_after_refusal`) after which no drug is given. What the order is cannot be told from it, so it is named
    (unidentified), never read as the drug it refuses."""
    given, _ = _statement(name)
    return given is not None and not _stated_reading(given).ingredients


def _given_after_refusal(name: str) -> str | None:
    """What a name that refuses a drug outright goes on to state, the drug given: "hydromorphone 2 mg tablet" of "NOT
    morphine - hydromorphone 2 mg tablet", "give tramadol 50 mg" of "no codeine, give tramadol 50 mg"; "" when
    nothing follows a break after the refused drug ("no oxycodone 5 mg", "NOT oxyCODONE (patient declined)"). None
    when the name refuses no drug: no "no" or "not" right before a drug, or a drug named before it."""
    found = _NOT_THIS_DRUG.search(name)
    if found is None or found.group().lower() not in _REFUSALS or read_name(name[: found.start()]).ingredients:
        return None
    # The drug right after the word: "not to exceed 6 a day: oxyCODONE 5 mg" refuses no drug, and stays oxycodone.
    refused = _WORD.search(name, found.end())
    if refused is None or not read_name(refused.group()).ingredients:
        return None
    # The refused product runs from its drug to the first break, its form and strength words with it ("NOT oxyCODONE
    # ER 10 mg - oxyCODONE 5 mg IR"), so none of them is read as the drug given's. With no break, what is refused and
    # what is given cannot be told apart: nothing is read as given, and the order is named.
    given = _GIVEN_AFTER.search(name, refused.end())
    return name[given.end() :].strip() if given else ""


def _first_word(text: str) -> str:
    """A text's first word, punctuation before it skipped."""
    found = _WORD.search(text)
    return found.group() if found else ""


def _context_cut(before: str, after: str, word: str) -> bool:
    """Whether a name is cut at a context word: only when the part before it already names a drug (so the name has
    said what it is) and the part after names an opioid it does not. "Per" is context only right before that opioid
    ("per oxyCODONE taper"), elsewhere a strength's basis. "With" names a combination when the drug before
    is an opioid, is sold with the opioid after it in one product ("Tylenol with Codeine", "Phenergan with Codeine",
    "acetaminophen with oxycodone"), or the part after gives a strength ("MULTIVITAMIN WITH CODEINE 10 MG/5ML"): the
    safer reading is then the opioid; otherwise ("Senna with oxyCODONE") it is context like the rest."""
    named = read_name(before).ingredients
    rest = read_name(after)
    # An opioid the part before names already is the name saying its own drug again ("methadone 40 MG Tablet for
    # Oral Suspension [Methadose]"), no other drug: no cut, so its form words stay read.
    opioids = {i.name for i in rest.ingredients if i.kind == "opioid"} - {i.name for i in named}
    if not named or not opioids:
        return False
    if word.lower() == "per":
        # "Per" gives a strength's basis ("6.25 mg per 5 mL and codeine 10 mg per 5 mL"): context only right before
        # the opioid ("per oxyCODONE taper").
        return any(i.name in opioids for i in read_name(_first_word(after[len(word) :])).ingredients)
    if word.lower() != "with":
        return True
    if any(i.kind == "opioid" for i in named) or rest.strengths:
        return False  # with an opioid, or with an opioid's strength ("MULTIVITAMIN WITH CODEINE 10 MG/5ML"): a product
    partners = sold_with()
    return not any({i.name for i in named} & partners.get(opioid, frozenset()) for opioid in opioids)


def _code_words(medication: ResolvedMedication, terms: CodeSets) -> tuple[tuple[str, ...], frozenset[str]] | None:
    """What the medication's codes state when it is no opioid: the ingredients read from each code's name (the value
    sets' name for it, else an RxNorm coding's own display) and the displays so read. None when a code states an
    opioid (buprenorphine and methadone for opioid use disorder are opioids), or an RxNorm code has no name or one
    that reads no ingredient: what that code is cannot be told, and it may be an opioid newer than the packaged data.
    Other systems' codes with no value-set name (an EHR's own, an NDC) are the EHR's names, read as names."""
    concept = medication.concept
    if concept is None:
        return None
    ingredients: list[str] = []
    own: set[str] = set()
    for coding in concept.codings:
        if not coding.system or not coding.code:
            continue
        name = terms.display(coding.system, coding.code)
        if name is None and coding.system == RXNORM:
            name = coding.display
            if not name:
                return None  # an RxNorm code nothing names may be an opioid newer than the packaged data
            own.add(name.strip())
        if not name:
            continue
        reading = read_name(name)
        if not reading.ingredients or any(i.kind == "opioid" for i in reading.ingredients):
            return None
        ingredients.extend(i.name for i in reading.ingredients)
    return (tuple(dict.fromkeys(ingredients)), frozenset(own)) if ingredients else None


def _named_over_code(medication: ResolvedMedication, terms: CodeSets) -> Recognition | None:
    """The opioid a name states where the codes state a drug that is no opioid (clinical-logic, "A code that is no
    opioid and a name that is one"): an EHR's drug record of oxycodone with acetaminophen mapped to acetaminophen's
    RxNorm code, a benzodiazepine's code on an order named oxycodone. A missed opioid is the worse error (no MME, no
    opioid + benzodiazepine card, no naloxone), so the order is read as the name's opioid and the conflict named.
    Names read are the order's text, each coding's display other than the code's own words, and the reference's
    display, each up to a word that makes a drug named after it a past one ("not oxycodone"); a name for opioid use
    disorder (Suboxone) or the code's own drug named by its parts is no opioid against the code."""
    said = _code_words(medication, terms)
    concept = medication.concept
    if said is None or concept is None:
        return None
    coded, own = said
    for name in (n for n in names_against_code(medication) if n not in own):
        reading = read_name(stated_part(name))
        kind = _kind_of(reading) if reading.ingredients and not reading.cut_opioids else None
        if kind not in OPIOID_KINDS or _opioid_beside(reading, coded):
            continue
        return Recognition(
            kind,
            "name",
            name,
            ingredients=tuple(i.name for i in reading.ingredients),
            strengths=reading.strengths,
            form=reading.form,
            extended_release=reading.extended_release,
            unread_ingredient=reading.unread_ingredient,
            code_says=and_list(list(coded)),
        )
    return None


def names_against_code(medication: ResolvedMedication) -> tuple[str, ...]:
    """The names read against a medication's codes, each once: the order's text, each coding's display and the
    reference's display. The one list for recognition's `_named_over_code` and the MME's strength and drug rules
    (`guideline.mme`), so a name one of them weighs is never passed over by the other."""
    concept = medication.concept
    names = (
        *((concept.text, *(c.display for c in concept.codings)) if concept is not None else ()),
        medication.reference_display,
    )
    return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def _opioid_beside(reading: NameReading, coded: tuple[str, ...]) -> bool:
    """Whether a name states the code's own drug and an opioid no product holds with it ("naloxone 1 mg/mL syringe -
    for fentanyl overdose", "LORazepam 1 MG tablet, anxiety while tapering oxyCODONE"): the order is the code's drug,
    the opioid only why it is given. A drug sold with the opioid (acetaminophen with oxycodone) may be the
    combination, mapped to its partner's code, and is read as the opioid."""
    named = {i.name for i in reading.ingredients}
    own = named & set(coded)
    if not own:
        return False
    partners = sold_with()
    opioids = (i.name for i in reading.ingredients if i.kind == "opioid")
    return not any(own & partners.get(opioid, frozenset()) for opioid in opioids)


def _by_table_brand(medication: ResolvedMedication, terms: CodeSets) -> Recognition | None:
    """An opioid named by a brand the packaged drug table sells only as opioid products, in a name that reads no
    ingredient: RxNorm's brand-level names ("Zodryl AC Oral Product", "Talwin Injectable Product"), sent with a code
    the packaged data does not hold, were read as not relevant (no card, no word), and the brand alone in text was
    unidentified. Its strength is never read from the name (the table's ingredient order is not the label's)."""
    for name in medication_names(medication):
        brand = table_brand(name)
        if brand is None:
            continue
        injection = any("Inject" in form for form in brand.dose_forms)
        listed = _strength_listed_for(brand.ingredients, medication, terms)
        kind: Kind = "opioid-by-name" if listed else "opioid-no-mme"
        return Recognition(
            kind,
            "name",
            name,
            ingredients=brand.ingredients,
            form="injection" if injection else form_of(" ".join(brand.dose_forms).lower()),
            extended_release=brand.extended_release,
        )
    return None


def _shown_name(medication: ResolvedMedication, terms: CodeSets) -> str:
    name = terms.medication_name(medication)
    return unidentified_name(medication) if name == UNNAMED_MEDICATION else name


# The sets whose codes decide a class, before a drug-table or ingredient code makes a known opioid ...
_CLASS_SETS_FIRST: tuple[tuple[str, Kind], ...] = (
    (NALOXONE_RESCUE, "naloxone"),
    (MOUD_BUP, "moud"),
    (NALTREXONE, "moud"),
    (OUD_TREATMENT_OPIOID, "moud"),
    (OPIOID, "known-opioid"),
)
# ... and after it.
_CLASS_SETS_AFTER: tuple[tuple[str, Kind], ...] = (
    (MOUD, "moud"),
    (BENZO, "benzodiazepine"),
    (CNS_DEPRESSANT, "sedative"),
)


def _by_code(medication: ResolvedMedication, terms: CodeSets) -> Recognition | None:
    if medication.unresolved:
        return None
    in_set = terms.medication_in_by_code
    ingredient_codes = _opioid_ingredient_codes(medication, terms)
    # NALTREXONE also reads a Medication's ingredient codes, so a naltrexone-only Medication with no known code of
    # its own is placed by them (as its membership already was), never left unidentified.
    if not terms.knows_medication(medication) and not ingredient_codes and not in_set(NALTREXONE, medication):
        return None
    name = _shown_name(medication, terms)
    for set_name, kind in _CLASS_SETS_FIRST:
        if in_set(set_name, medication):
            return Recognition(kind, "code", name, by_set_code=True)
    opioid = _coded_opioid(medication, name, ingredient_codes, terms)
    if opioid is not None:
        return opioid
    for set_name, kind in _CLASS_SETS_AFTER:
        if in_set(set_name, medication):
            return Recognition(kind, "code", name, by_set_code=True)
    return Recognition("not-relevant", "code", name, by_set_code=True)


def _coded_opioid(
    medication: ResolvedMedication, name: str, ingredient_codes: tuple[str, ...], terms: CodeSets
) -> Recognition | None:
    """A known opioid by a code no set the checks read holds: a drug-table product (an opioid cough medicine or an
    injection, which the CDC opioid analgesic set leaves out), else an RxNorm opioid ingredient code in the
    Medication's ingredient list. What it carries (ingredients, release, form) places it in the sets."""
    rows = [row for coding in terms.rxnorm_codings(medication.concept) for row in terms.drug_rows(coding.code or "")]
    if rows:
        return Recognition(
            "known-opioid",
            "code",
            name,
            ingredients=tuple(dict.fromkeys(mf.INGREDIENT_NAMES[row.ingredient_rxcui] for row in rows)),
            form="patch" if any(row.dose_form == "Transdermal System" for row in rows) else _route_form(rows),
            extended_release=any("Extended Release" in row.dose_form for row in rows),
        )
    if not ingredient_codes:
        return None
    # The names say what the ingredient codes do not: release, form, other ingredients, strengths.
    reading = _best_reading(medication_names(medication))
    named = tuple(i.name for i in reading.ingredients) if reading else ()
    return Recognition(
        "known-opioid",
        "code",
        name,
        ingredients=tuple(dict.fromkeys((*(mf.INGREDIENT_NAMES[code] for code in ingredient_codes), *named))),
        strengths=reading.strengths if reading else (),
        form=reading.form if reading else None,
        extended_release=reading.extended_release if reading else False,
    )


def _route_form(rows: Iterable[DrugRow]) -> str | None:
    return "injection" if any(row.route == "injection" for row in rows) else None


def _opioid_ingredient_codes(medication: ResolvedMedication, terms: CodeSets) -> tuple[str, ...]:
    """The RxNorm opioid ingredient codes of the Medication's ingredient list, read as the MME reads it (a site's
    alias read through, morphine beside opium the opium's content); one known by its name is left to the names, and
    buprenorphine too, which tell treatment for opioid use disorder from pain."""
    found = (
        listed.ingredient
        for listed in medication_listed(medication, terms)
        if listed.ingredient and not listed.named and listed.ingredient != mf.BUPRENORPHINE
    )
    return tuple(dict.fromkeys(found))


def medication_names(medication: ResolvedMedication) -> tuple[str, ...]:
    """Every name the medication carries, most telling first: text, coding displays, the Medication's ingredient
    names (a `filler`'s left out), the reference's display, and the name of any RxNorm opioid ingredient code, or of
    codes PainPlan names itself when they are all the codes there are, its ingredient list's too (`names_alone`:
    opioid, benzodiazepine and naloxone codes EHRs send with no name)."""
    names: list[str] = []
    concept = medication.concept
    if concept is not None:
        if concept.text:
            names.append(concept.text)
        names.extend(c.display for c in concept.codings if c.display)
        names.extend(
            mf.INGREDIENT_NAMES[c.code] for c in concept.codings if c.system == RXNORM and c.code in mf.INGREDIENT_NAMES
        )
    names.extend(names_alone(medication))
    resource = medication.resource
    if resource is not None:
        for item in resource.ingredients:
            if item.item is None or name_left_out(item):
                continue
            shown = item.item.display()
            if shown:
                names.append(shown)
        if resource.form is not None and names:
            form = resource.form.display()
            if form:
                names = [f"{name} {form}" for name in names]
    if medication.reference_display:
        names.append(medication.reference_display)
    return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))


def _score(reading: NameReading) -> tuple[int, int, int, int]:
    opioids = [i for i in reading.ingredients if i.kind == "opioid"]
    complete = bool(opioids) and all(reading.strength_of(i.name) for i in opioids)
    return (bool(opioids), complete, len(reading.ingredients), reading.form is not None)


def _best_reading(names: Iterable[str]) -> NameReading | None:
    best: NameReading | None = None
    for name in names:
        reading = _stated_reading(name)
        if not reading.ingredients:
            continue
        if best is None or _score(reading) > _score(best):
            best = reading
    return best


def _stated_reading(name: str) -> NameReading:
    """A name read as what it states (`stated_part`): "Senna 8.6 mg while on oxyCODONE" is senna, "acetaminophen 325
    mg (not oxycodone)" acetaminophen, each shown by its whole name. A stated part that reads no drug ("hx: oxycodone
    5 mg") leaves the whole name read: what the order is could not be told otherwise, and a missed opioid is the
    worse error. A stated part that reads the same drugs as the whole name leaves the whole read too, so form and
    release words after the cut ("oxycodone 5 mg, do not crush, ER") still count."""
    whole = read_name(name)
    given, stated = _statement(name)
    if given is not None:
        # "NOT morphine - hydromorphone 2 mg tablet" is hydromorphone, shown by its whole name; the refused drug and
        # its words are never read, so "no oxycodone" states no drug and is named as unidentified.
        return replace(_stated_reading(given), text=whole.text)
    if stated == name:
        return whole
    reading = read_name(stated)
    if not reading.ingredients or {i.name for i in reading.ingredients} == {i.name for i in whole.ingredients}:
        return whole
    return replace(reading, text=whole.text)


def _kind_of(reading: NameReading) -> Kind | None:
    names = {i.name for i in reading.ingredients}
    classes = {i.kind for i in reading.ingredients}
    opioids = [i for i in reading.ingredients if i.kind == "opioid"]
    if opioids:
        if {i.name for i in opioids} == {"buprenorphine"}:
            return "moud" if _buprenorphine_for_oud(reading) else "opioid-no-mme"
        if all(reading.strength_of(i.name) for i in opioids):
            return "opioid-by-name"
        return "opioid-no-mme"
    if "naloxone" in classes:  # naloxone, or nalmefene
        return "naloxone"
    if names == {"naltrexone"}:
        return "moud"
    if "benzodiazepine" in classes:
        return "benzodiazepine"
    if "sedative" in classes:
        return "sedative"
    if classes:
        return "not-relevant"
    return None


def _partner_beside_unread(reading: NameReading) -> bool:
    """Whether a name with no opioid read lists a strength for an ingredient it did not read, beside one that is
    sold with opioids (acetaminophen, ibuprofen, butalbital, ...) or a supplement: the unread one may be the opioid."""
    if any(i.kind == "opioid" for i in reading.ingredients) or not reading.unread_ingredient:
        return False
    # A supplement is read only so that its own name is quiet: "FISH OIL/ZZQ 5 MG" may be anything, as it was
    # before "fish oil" was known, and stays named.
    partners = opioid_partners() | supplements()
    return any(i.name in partners for i in reading.ingredients)


def _strength_listed(reading: NameReading, medication: ResolvedMedication, terms: CodeSets) -> bool:
    """Whether an opioid the name gives no strength for has it in its Medication's ingredient list, as the MME reads
    it."""
    return _strength_listed_for(tuple(i.name for i in reading.ingredients), medication, terms)


def _strength_listed_for(names: tuple[str, ...], medication: ResolvedMedication, terms: CodeSets) -> bool:
    """`_strength_listed` by the ingredient names read. Buprenorphine for pain is never converted (guideline 8.7),
    whatever its strength."""
    known = known_ingredients()
    opioids = {name for name in names if known[name].kind == "opioid"}
    return opioids != {"buprenorphine"} and listed_strengths_known(medication, terms)


def _sedative_counted(reading: NameReading, terms: CodeSets) -> bool:
    """Whether the CNS depressant set, as configured, holds one of the name's sedatives."""
    return any(i.name in _single_ingredients(terms, CNS_DEPRESSANT) for i in reading.ingredients)


def _buprenorphine_for_oud(reading: NameReading) -> bool:
    brand = reading.brand.name.lower() if reading.brand else None
    if brand in _MOUD_BUPRENORPHINE_BRANDS:
        return True
    if any(i.name == "naloxone" for i in reading.ingredients):
        return True
    if reading.form in ("sublingual", "implant", "film"):
        return True
    if reading.form != "injection":
        return False
    # An injection for OUD is extended-release (Sublocade, Brixadi), named so or by a concentration no analgesic
    # injection has: theirs are 50 to 356 mg/mL, Buprenex for pain is 0.3 mg/mL.
    strength = reading.strength_of("buprenorphine")
    return reading.extended_release or (strength is not None and strength.per == "ml" and strength.mg >= 10)


def unidentified_name(medication: ResolvedMedication) -> str:
    """A name for a medication nobody could identify: its text or display, else its codes, else its reference."""
    names = medication_names(medication)
    if names:
        return names[0] if name_not_read(names[0]) is None else clip(names[0], QUOTED_CHARACTERS)
    concept = medication.concept
    codes = [c for c in (concept.codings if concept else ()) if c.code]
    if codes:
        return ", ".join(f"{_SYSTEM_LABELS.get(c.system or '', c.system or 'code')} {c.code}" for c in codes)
    reference = medication.reference
    if reference and medication.elsewhere:
        # Read nowhere: not from the other server (the token is the EHR's), nor as the EHR's own Medication of that id.
        return f"medication {reference} (its medication is on another server and was not read)"
    if reference and not reference.startswith("#") and not may_read_medication(reference):
        # Never read (no Medication id): "not found" would send the clinician looking for a record nobody asked for.
        return f"medication {reference} (its medication reference could not be read)"
    if reference and medication.resource is not None:
        # Found and read, but empty of anything that names a medicine: "not found" would send the clinician looking
        # for a record that is there.
        return f"medication {reference} (its Medication names no medicine: no code, name or ingredient)"
    if reference:
        return f"medication {reference} (not found)"
    return "a medication with no name or code"


# ---- set membership of a medication its codes do not place (Terminology.medication_in asks this) ----


def in_set(recognition: Recognition, set_name: str, terms: CodeSets) -> bool:
    """Whether a recognised medication belongs to a code set the checks read, when no set's code decided its class:
    the one rule for a name, a drug-table code and an ingredient code, so a class never goes without its set."""
    if recognition.by_set_code:
        return False
    if recognition.how == "none":
        return _sedative_read(recognition, set_name, terms)
    rule = _CLASS_RULES.get(set_name)
    if rule is not None:
        return rule(recognition)
    if recognition.kind == "unidentified":
        return False
    # The ingredient sets (urine-test substances, the sedative sets) by the names; a name recognised as not relevant
    # still joins a substance set (a barbiturate the site does not count as a sedative explains a barbiturate
    # result, as its code does), and names not relevant are never sold alone in a set the checks count.
    return bool(set(recognition.ingredients) & _single_ingredients(terms, set_name))


def _opioid(recognition: Recognition) -> bool:
    return recognition.kind in OPIOID_KINDS


def _buprenorphine_moud(recognition: Recognition) -> bool:
    return recognition.kind == "moud" and "buprenorphine" in recognition.ingredients


def _long_acting(recognition: Recognition) -> bool:
    return recognition.extended_release or recognition.form == "patch" or "methadone" in recognition.ingredients


def _transmucosal_fentanyl(recognition: Recognition) -> bool:
    form = FORM_CODES.get(recognition.form or "")
    return "fentanyl" in recognition.ingredients and form in mf.TRANSMUCOSAL_FENTANYL_FORMS


# The sets that stand for a class (opioid, long-acting, rescue, treatment for opioid use disorder), each with the
# rule that places a medication its codes did not: a set added here is a class set wherever the class sets are read.
_CLASS_RULES: dict[str, Callable[[Recognition], bool]] = {
    OPIOID: lambda r: _opioid(r) or _buprenorphine_moud(r),
    ER_LA: lambda r: _opioid(r) and _long_acting(r),
    TIRF: lambda r: _opioid(r) and _transmucosal_fentanyl(r),
    NALOXONE_RESCUE: lambda r: r.kind == "naloxone",
    MOUD_BUP: _buprenorphine_moud,
    OUD_TREATMENT_OPIOID: lambda r: (
        _buprenorphine_moud(r) or (_opioid(r) and "methadone" in r.ingredients and _otp_methadone(r))
    ),
    NALTREXONE: lambda r: r.kind == "moud" and "naltrexone" in r.ingredients,
    MOUD: lambda r: r.kind == "moud" or (_opioid(r) and "methadone" in r.ingredients),
    BUPRENORPHINE: lambda r: "buprenorphine" in r.ingredients and (_opioid(r) or r.kind == "moud"),
}


def _class_sets() -> frozenset[str]:
    """The sets that stand for a class: those with a class rule, and every set whose code decides a class other
    than a sedative's. Read from the tables each time, so a class set added to either is never left out."""
    deciding = (name for name, kind in (*_CLASS_SETS_FIRST, *_CLASS_SETS_AFTER) if kind not in _SEDATIVE_CLASSES)
    return frozenset(_CLASS_RULES).union(deciding)


def _sedative_read(recognition: Recognition, set_name: str, terms: CodeSets) -> bool:
    """Whether an unidentified name read a sedative or benzodiazepine of the set beside the ingredient it did not
    read ("BUTALB/APAP/CAFF/COD"): the sedative is in it whatever the other is, so the opioid + sedative check counts
    it and it explains a barbiturate urine result, as the product's code would. The class sets stay out of reach: the
    unread part may be the opioid, and the name stays unidentified."""
    if not recognition.ingredients or set_name in _class_sets():
        return False
    known = known_ingredients()
    read = {name for name in recognition.ingredients if known[name].kind in _SEDATIVE_CLASSES}
    return bool(read & _single_ingredients(terms, set_name))


def partly_read(recognition: Recognition) -> str | None:
    """What a name only partly read says, for a card: "read as alprazolam; another ingredient in its name was not
    recognised"; None for a name read whole, or one whose codes decided."""
    if not recognition.unread_ingredient or not recognition.ingredients:
        return None
    read = _listed(list(recognition.ingredients), "and")
    if recognition.cut_note:
        return f"read as {read}; {recognition.cut_note}"
    # Unidentified, its unread part sits beside an ingredient sold with opioids: it may be the opioid.
    maybe = " (it may be an opioid)" if recognition.unidentified else ""
    return f"read as {read}; another ingredient in its name was not recognised{maybe}"


def sedatives_maybe_unread(recognition: Recognition, terms: CodeSets) -> tuple[str, ...]:
    """The sedatives an opioid whose name was only partly read may hold in the word not read: those the packaged drug
    table sells with an opioid it read and that the site's benzodiazepine or CNS depressant set counts ("ASA/CARISOPRO/
    CODEINE": butalbital, carisoprodol). Empty for a name read whole, for an opioid never sold with a sedative
    ("oxycodone / Foo 5 mg") and when a counted sedative was read in the name (the checks count that one)."""
    if not recognition.is_opioid or not recognition.unread_ingredient:
        return ()
    counted = _single_ingredients(terms, BENZO) | _single_ingredients(terms, CNS_DEPRESSANT)
    read = set(recognition.ingredients)
    if read & counted:
        return ()
    partners = sedatives_sold_with()
    return tuple(sorted({sedative for name in read for sedative in partners.get(name, ())} & counted))


def sedative_doubt(recognition: Recognition, terms: CodeSets) -> str | None:
    """What an opioid partly read, which may hold a sedative, says for a card: "read as aspirin and codeine; another
    ingredient in its name was not recognised; codeine is sold with butalbital or carisoprodol"; else None."""
    sedatives = sedatives_maybe_unread(recognition, terms)
    unread = partly_read(recognition)
    if not sedatives or unread is None:
        return None
    partners = sedatives_sold_with()
    opioids = [name for name in recognition.ingredients if partners.get(name, frozenset()) & set(sedatives)]
    sold = "is" if len(opioids) == 1 else "are"
    return f"{unread}; {_listed(opioids, 'and')} {sold} sold with {_listed(list(sedatives), 'or')}"


def _listed(names: list[str], joiner: str) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {joiner} {names[-1]}"


# The tablet for oral suspension as names and forms write it: drug files' "TAB FOR SUSP", "DISP TAB" and
# "dispersible", Epic's "TBSO", claims' "DISKET", a Medication form's "Tablet for Suspension", "soluble tablet".
_FOR_SUSPENSION = re.compile(r"\bdispers|\bdisp\b|\bsusp|\btbso\b|\bdiskets?\b|\bsoluble\b")
# The tablets for oral suspension's one strength, and no pain methadone tablet's (those are 5 and 10 mg): in the
# packaged drug table the 40 mg methadone products are the treatment codes' tablets (864978, 864980, 1990745).
_OTP_TABLET_MG = 40


def _otp_methadone(recognition: Recognition) -> bool:
    """Methadone in a form only opioid treatment programs dispense, as its code would say: the 10 mg/mL oral
    concentrate, or 40 mg tablets for oral suspension (Diskets, Methadose dispersible), named so or named a 40 mg
    tablet by any name ("METHADONE HCL 40 MG PO TBSO", "METHADOSE 40 MG TABLET"): no other tablet holds 40 mg."""
    strength = next((s for s in recognition.strengths if s.ingredient == "methadone"), None)
    if strength is None or recognition.form == "injection":
        return False
    if strength.per == "ml":
        return strength.mg == 10
    tablet = recognition.form == "tablet" or bool(_FOR_SUSPENSION.search(recognition.display.lower()))
    return strength.per == "unit" and strength.mg == _OTP_TABLET_MG and tablet


@lru_cache(maxsize=256)
def _single_ingredients(terms: CodeSets, set_name: str) -> frozenset[str]:
    """The ingredients the set holds as single-ingredient products, read from its members' names (so a UDS
    substance set such as oxycodone-medications or a site's barbiturate setting applies to names as to codes)."""
    known = known_ingredients()
    found: set[str] = set()
    for system, code in terms.codes(set_name):
        shown = (terms.display(system, code) or "").lower()
        if not shown:
            continue
        words = [word for word in shown.replace("-", " ").split() if word in known]
        if "/" in shown:
            # From a combination only its sedatives: butalbital is sold only with acetaminophen or aspirin, and
            # the barbiturate set holds it so (Fioricet by name was no CNS depressant though its code is one),
            # while the acetaminophen or codeine beside it must never join the set. A combination with an opioid is
            # in a set for its opioid: the opioid sets hold Fioricet with codeine, and its butalbital joining them
            # made plain Fioricet by name explain an opiate positive (and an opiate negative unexpected).
            opioid = any(known[word].kind == "opioid" for word in words)
            words = [] if opioid else [word for word in words if known[word].kind in _SEDATIVE_CLASSES]
        found.update(words)
    return frozenset(found)
