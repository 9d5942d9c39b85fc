"""Reading a medication name: ingredients and brands, strengths, dose form and release (pure text, no codes)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from guideline import mme_factors as mf
from guideline.commas import commas_read
from guideline.recognition.cut_names import cut_also_cough_cold, cut_note, opioids_cut_off
from guideline.recognition.lexicon import (
    ALIASES,
    COUGH_COLD_PARTNERS,
    NAME_WORD,
    PAIRED_ALIASES,
    PHRASES,
    VITAMIN_NUMBERED,
    Brand,
    Ingredient,
    brands,
    ingredients,
    known_word,
    sold_with,
)
from guideline.words import longest_not_read

StrengthBasis = Literal["unit", "ml", "hour", "actuation"]


@dataclass(frozen=True, slots=True)
class NamedStrength:
    """One ingredient's strength read from a name, in mg per unit, per mL, per hour (patches) or per spray."""

    ingredient: str
    mg: Decimal
    per: StrengthBasis
    shown: str  # as written ("10 mg", "75 mcg/hr")


@dataclass(frozen=True, slots=True)
class NameReading:
    """What one name says: ingredients in the order named, the strengths assigned to them, form and release."""

    text: str
    ingredients: tuple[Ingredient, ...]
    strengths: tuple[NamedStrength, ...]
    form: str | None
    extended_release: bool
    brand: Brand | None
    # A list of strengths with more numbers than the ingredients read ("APAP/HC 325-5"): one ingredient went unread.
    unread_ingredient: bool = False
    # A name cut short whose last fragment may begin an opioid sold with what was read ("…/CAFFEINE/C": codeine).
    cut_opioids: tuple[str, ...] = ()
    # What such a name is named with: "the name looks cut and may include codeine" (`cut_names.cut_note`).
    cut_note: str | None = None

    def strength_of(self, ingredient: str) -> NamedStrength | None:
        return next((s for s in self.strengths if s.ingredient == ingredient), None)


# A number starts where a run of digits starts, and its digits are never given back (possessive): a name of 60,000
# digits otherwise took minutes, every start inside the run trying every split of it.
_NUMBER = r"(?<![\d.])(\d++(?:\.\d++)?|\.\d++)"
_UNIT = r"(mg|mcg|µg|ug|g)"
# A combination's strengths as one list, in the order its ingredients are named: "5/325", "10-325 mg", "5 mg/325 mg",
# "8 mg-2 mg", "50-325-40-30 MG", and per volume for a liquid ("7.5-325 mg/15 mL"). Read by tokens, not by one
# pattern with a repeated group, so a hostile run of "1/1/1/..." stays linear.
_TOKEN = re.compile(rf"{_NUMBER}\s*{_UNIT}?")
_LIST_SEPARATOR = re.compile(r"\s*[/-]\s*")
_DENOMINATOR = re.compile(r"\s*(ml|hrs?|h|hours?|actuat|spray|l)\b")
_PER_VOLUME = re.compile(r"\s*(?:/|per)\s*+(\d+(?:\.\d+)?)?\s*ml\b")  # `\s*+`: no run of spaces retried twice


@dataclass(frozen=True, slots=True)
class _StrengthList:
    """Numbers written as one list, each with its unit if written; `per_ml` the volume they are per, if any."""

    numbers: tuple[tuple[str, str | None], ...]
    shown: str
    per_ml: Decimal | None


def _strength_list(text: str) -> _StrengthList | None:
    """The first run of two or more numbers joined by "/" or "-"; a last number that is a volume or a rate ("10
    mg/5 mL", "25 mcg/hr") is the denominator, not a member."""
    tokens = list(_TOKEN.finditer(text))
    index = 0
    while index < len(tokens):
        run = [tokens[index]]
        while index + len(run) < len(tokens):
            following = tokens[index + len(run)]
            if not _LIST_SEPARATOR.fullmatch(text, run[-1].end(), following.start()):
                break
            run.append(following)
        index += len(run)
        per_ml = None
        last = run[-1]
        denominator = _DENOMINATOR.match(text, last.end()) if len(run) > 1 and last.group(2) is None else None
        if denominator:
            per_ml = Decimal(last.group(1)) if denominator.group(1) == "ml" else None
            if per_ml is None:
                continue  # "0.075 mg/1 hr": a rate, not a list
            run.pop()
        if len(run) < 2 or _DENOMINATOR.match(text, run[-1].end()) or _dose_range(text, run):
            continue
        end = last.end() + len(denominator.group()) if per_ml and denominator else run[-1].end()
        volume = None if per_ml else _PER_VOLUME.match(text, run[-1].end())  # "120-12 mg per 5 mL"
        if volume is not None:
            per_ml, end = Decimal(volume.group(1) or "1"), volume.end()
        shown = text[run[0].start() : end].strip()
        return _StrengthList(tuple((t.group(1), t.group(2)) for t in run), shown, per_ml)
    return None


# What follows a dose range written in a sig: "1-2 tabs", "2-3 capsules", "1-2 puffs".
_DOSE_COUNT = re.compile(r"\s*(?:tabs?|tablets?|caps?|capsules?|pills?|puffs?|drops?|patch(?:es)?)\b")
_LARGEST_DOSE_COUNT = Decimal(10)


def _dose_range(text: str, run: list[re.Match[str]]) -> bool:
    """Whether unitless numbers are how many to take ("1-2 tabs"), not a combination's strengths: small, rising and
    followed by a count of dose units. "5-325 TAB" is a list of strengths (325 is no count of tablets)."""
    if any(token.group(2) for token in run) or not _DOSE_COUNT.match(text, run[-1].end()):
        return False
    numbers = [Decimal(token.group(1)) for token in run]
    return numbers[-1] <= _LARGEST_DOSE_COUNT and numbers == sorted(numbers)


# "10 mg", "10 mg/5 mL", "5 MG/ML", "75 mcg/hr", "0.075 MG/HR", "4 mg/actuation", "15 mg/12 hr", "20 mg/24 hours"
# The spaces after its "/" are possessive (`\s*+`): handed back, a long run of them was retried space by space.
_SINGLE = re.compile(
    rf"{_NUMBER}\s*{_UNIT}\b(?:\s*(?:/|per)\s*+{_NUMBER}?\s*(ml|hrs?|h|hours?|actuat\w*|spray|dose)\b)?"
)
# Forms swallowed whole: a mass over some hours in their name ("15 mg/12 hr") is what one tablet holds, released over
# those hours. So it is with no form written: a patch's or an infusion's rate comes with its form.
_ORAL_SOLIDS = frozenset({"tablet", "capsule"})
_EXTENDED = re.compile(
    r"\b(extended|controlled|sustained|modified)[- ]release\b|\blong[- ]acting\b|\b(er|xr|xl|sr|cr|la|er/la|cd)\b"
    r"|\b(12|24)\s*hr?\b|\bcontin\b"
    # Epic's dose-form abbreviations: controlled-release and 12/24-hour tablets and capsules (TBCR, TB12, T12A, CP24).
    r"|\b(tbcr|tber|tb12|tb24|t12a|t24a|cp12|cp24|c12a|c24a|cpcr|cper|cpep|suer)\b"
)
_FORMS: tuple[tuple[str, str], ...] = (
    ("buccal tablet", r"\bbucc(?:al)?\s+tab"),
    ("buccal film", r"\bbucc(?:al)?\s+film"),  # Epic and drug files: "BUCC FILM"
    # Subsys, sprayed under the tongue: RxNorm's "Mucosal Spray", whose factor is not a sublingual tablet's.
    ("mucosal spray", r"\bmucosal\s+spray|\b(?:sublingual|oral|sl)\s+spray"),
    ("sublingual", r"\bsublingual\b|\bsl\b|\bsubl\b"),
    ("lozenge", r"\blozenge|\btroche|\blozg\b"),  # Epic: "200 MCG LOZG"
    ("nasal spray", r"\bnasal\b"),
    ("patch", r"\btransdermal\b|\bpatch|\btd\b|\bpt(?:72|24|wk|tw)\b"),  # Epic: "TD PT72"
    ("implant", r"\bimplant"),
    (
        "injection",
        r"\binj(ection|ectable|ector)?\b|\bauto-?injector|\bsyringe|\bvial|\bso(sy|aj)\b|\bcartridge"
        r"|\bintravenous|\bintramuscular|\bsubcutaneous"
        # Epic writes the route and form short: "4 MG/ML IJ SOLN", "2 MG/ML IV SOLN", "IJ SYRG", "SOCT"
        r"|\b(ij|iv|im|sq|subq|syrg|soct|socr)\b",
    ),
    (
        "solution",
        r"\bsolution|\bsoln\b|\bliquid|\bsyrup|\belixir|\bconcentrate|\bsuspension|\boral\s+sol"
        r"|\b(conc|liqd|susp|susr|suer|elix|syrp)\b"  # Epic: "SUER", an extended-release suspension
        # A tincture is an alcoholic solution ("OPIUM TINCTURE 10 MG/ML PO TINC"), and paregoric and laudanum are the
        # opium tinctures by name: with no form read, a liquid was told from a tablet by its strength alone.
        r"|\btinc(?:ture)?\b|\bparegoric\b|\blaudanum\b",
    ),
    ("suppository", r"\bsuppositor|\bsupp\b|\bsupprettes?\b"),  # B&O Supprettes, belladonna and opium
    ("film", r"\bfilm\b"),
    ("capsule", r"\bcap(sule)?s?\b|\b(cp12|cp24|c12a|c24a|cpcr|cper|cpep|cpdr)\b"),
    ("tablet", r"\btab(let)?s?\b|\b(tbcr|tber|tb12|tb24|t12a|t24a|tbec|tbdp|tbdd)\b"),
)
_FORM_PATTERNS = tuple((form, re.compile(pattern)) for form, pattern in _FORMS)
_FORM_NAMES = frozenset(form for form, _ in _FORMS)


def _mg(value: str, unit: str | None) -> Decimal:
    number = Decimal(value)
    if unit in ("mcg", "µg", "ug"):
        return number / 1000
    if unit == "g":
        return number * 1000
    return number


def _basis(denominator: str | None, form: str | None) -> StrengthBasis:
    if denominator is None:
        return "hour" if form == "patch" else "unit"
    if denominator == "ml":
        return "ml"
    if denominator.startswith("h"):
        return "hour"
    return "actuation"


def _per_basis(
    mg: Decimal, amount: str | None, denominator: str | None, form: str | None
) -> tuple[Decimal, StrengthBasis] | None:
    """A single strength's mg and basis, its denominator's amount read: "10 mg/5 mL" is 2 mg per mL, "0.6 mg/24 hr"
    of a patch 0.025 mg an hour ("12 ug/1 h", as FDA labels write a patch, its rate), and "15 mg/12 hr" of a tablet
    or capsule 15 mg a tablet. Multum names extended-release tablets so ("morphine sulfate 15 mg/12 hr oral tablet,
    extended release", "OxyCONTIN 10 mg/12 hours"): read as a rate, 15 mg/12 hr was 15 mg of morphine an hour,
    15,000 MME a day; and "hours" was no unit, so "10 mg/12 hours" was two strengths for one ingredient. None for a
    strength per zero mL or hours (a drug file's typo), which no product has: the dose is unknown, never guessed."""
    basis = _basis(denominator, form)
    if amount is None or basis not in ("ml", "hour"):
        return mg, basis
    per = Decimal(amount)
    if per == 0:
        return None
    if basis == "hour" and per != 1 and (form is None or form in _ORAL_SOLIDS):
        return mg, "unit"
    return mg / per, basis


def _form(text: str, brand: Brand | None) -> str | None:
    """The form the name writes, unless the brand's own form says more: "BELBUCA 75 MCG FILM" is a buccal film (a
    film for pain), not the sublingual film of Suboxone."""
    written = form_of(text)
    if brand is None or not brand.form:
        return written
    if written is None or (written in brand.form and brand.form in _FORM_NAMES):
        return brand.form
    return written


def form_of(text: str) -> str | None:
    """The dose form words say ("injection", "patch", "tablet", ...), read from lower-case text; None if none."""
    for form, pattern in _FORM_PATTERNS:
        if pattern.search(text):
            return form
    return None


@dataclass(frozen=True, slots=True)
class _Mention:
    start: int
    ingredient: Ingredient


def _mentions(text: str) -> tuple[list[_Mention], Brand | None]:
    known = ingredients()
    table = brands()
    found: list[_Mention] = []
    brand: Brand | None = None
    words = list(NAME_WORD.finditer(text))
    skip = 0
    for index, match in enumerate(words):
        if skip:
            skip -= 1
            continue
        phrase = _phrase_at(words, index)
        if phrase is not None:
            found.append(_Mention(match.start(), known[PHRASES[phrase]]))
            skip = len(phrase) - 1
            continue
        word = ALIASES.get(match.group(), match.group())
        if word in known:
            if not any(m.ingredient.name == word for m in found):
                found.append(_Mention(match.start(), known[word]))
            continue
        two = f"{word} {words[index + 1].group()}" if index + 1 < len(words) else None
        named = table.get(two) if two else None
        named = named or table.get(word)
        if named is not None and brand is None:
            brand = named
            for offset, name in enumerate(named.ingredients):
                found.append(_Mention(match.start() + offset, known[name]))
    codeine = _written_as_ac(text, words, found)
    if codeine is not None:
        found.append(codeine)
    found.sort(key=lambda m: m.start)
    unique = {m.ingredient.name: m for m in reversed(found)}  # a brand and its generic name are one ingredient
    return sorted(unique.values(), key=lambda m: m.start), brand


# The several-word ingredients by their first word, longest first: "multiple vitamins minerals" before "multiple
# vitamins". Only a word that begins one is compared further.
_PHRASES_BY_FIRST_WORD: dict[str, list[tuple[str, ...]]] = {}
for _phrase in sorted(PHRASES, key=len, reverse=True):
    _PHRASES_BY_FIRST_WORD.setdefault(_phrase[0], []).append(_phrase)


def _phrase_at(words: list[re.Match[str]], index: int) -> tuple[str, ...] | None:
    """The several-word ingredient (`PHRASES`) whose words start at `index`, if any ("cod liver oil")."""
    for phrase in _PHRASES_BY_FIRST_WORD.get(words[index].group(), ()):
        written = tuple(w.group() for w in words[index : index + len(phrase)])
        if written == phrase:
            return phrase
    return None


# A cough medicine's generic name says its codeine so: "GUAIFENESIN AC" (with codeine), "guaifenesin DAC" (with a
# decongestant and codeine). Elsewhere "AC" is "before meals", a sig's word, written after the strength.
_WITH_CODEINE = frozenset({"ac", "dac"})
_DIGIT = re.compile(r"\d")


def _written_as_ac(text: str, words: list[re.Match[str]], found: list[_Mention]) -> _Mention | None:
    """Codeine, where a name that reads no opioid writes "AC" or "DAC" beside a cough and cold ingredient, before any
    strength: read as guaifenesin alone, "GUAIFENESIN AC LIQUID" was not relevant (no card, no word)."""
    if any(m.ingredient.kind == "opioid" for m in found):
        return None
    if not any(m.ingredient.name in COUGH_COLD_PARTNERS for m in found):
        return None
    number = _DIGIT.search(text)
    before = number.start() if number else len(text)
    marker = next((w for w in words if w.group() in _WITH_CODEINE and w.start() < before), None)
    return _Mention(marker.start(), ingredients()["codeine"]) if marker else None


def _ingredients_in_order(text: str, start: int = 0, end: int | None = None) -> list[str]:
    """Every ingredient word of a name (or of `text[start:end]`) in order, a repeated one each time it is written
    (two salts of one drug)."""
    known = ingredients()
    words = NAME_WORD.finditer(text, start, len(text) if end is None else end)
    return [name for name in (ALIASES.get(w.group(), w.group()) for w in words) if name in known]


def _assign(
    text: str, mentions: list[_Mention], form: str | None, listed: _StrengthList | None
) -> tuple[NamedStrength, ...]:
    """Strengths to ingredients: a pair goes to the ingredients in the order named; a single strength to the one
    ingredient named since the previous strength (RxNorm's "oxycodone 5 MG / acetaminophen 325 MG"). Anything
    ambiguous is left unassigned, so no dose is ever guessed."""
    assigned: dict[str, NamedStrength] = {}
    if listed is not None and listed.per_ml == 0:
        return ()  # strengths per zero mL: none is any ingredient's ("7.5-325 mg/0 mL" was 7.5 mg a unit)
    if listed is not None:
        if len(listed.numbers) == len(mentions):
            unit = next((written for _, written in listed.numbers if written), "mg")
            basis: StrengthBasis = "ml" if listed.per_ml else "unit"
            for mention, (value, written) in zip(mentions, listed.numbers, strict=True):
                mg = _mg(value, written or unit)
                if listed.per_ml:
                    mg = mg / listed.per_ml
                assigned[mention.ingredient.name] = NamedStrength(mention.ingredient.name, mg, basis, listed.shown)
            return tuple(assigned.values())
        repeated = _ingredients_in_order(text)
        if len(listed.numbers) == len(repeated) and set(repeated) == {m.ingredient.name for m in mentions}:
            # An ingredient named twice, as two salts ("ASPIRIN/OXYCODONE HCL/OXYCODONE TEREPHTHALATE
            # 325-4.5-0.38 MG"): each number to its mention, and one ingredient's numbers added up.
            unit = next((written for _, written in listed.numbers if written), "mg")
            totals: dict[str, Decimal] = {}
            for name, (value, written) in zip(repeated, listed.numbers, strict=True):
                totals[name] = totals.get(name, Decimal(0)) + _mg(value, written or unit)
            return tuple(NamedStrength(name, mg, "unit", listed.shown) for name, mg in totals.items())
        if any(written for _, written in listed.numbers):
            # A list of strengths with more (or fewer) numbers than the ingredients recognised ("HYDROCODONE
            # BIT/ACETAMIN 7.5-325 MG" with "ACETAMIN" unknown): which number is whose cannot be told, and reading
            # the last as the opioid's made 325 mg of hydrocodone. Nothing is assigned; the dose stays unknown.
            return ()
    previous_end = 0
    leading: str | None = None  # the ingredient given a strength written before any name ("10 mg oxycodone")
    for single in _SINGLE.finditer(text):
        value, unit, denominator_amount, denominator = single.groups()
        since = [m for m in mentions if previous_end <= m.start < single.start()]
        first = not since and previous_end == 0 and len(mentions) >= 1
        if first:
            since = mentions[:1] if len(mentions) == 1 or mentions[0].start > single.start() else []
        if len(since) == 1 and (since[0].ingredient.name not in assigned or since[0].ingredient.name == leading):
            read = _per_basis(_mg(value, unit), denominator_amount, denominator, form)
            name = since[0].ingredient.name
            if read is None:  # a strength per nothing: this ingredient has none
                previous_end = single.end()
                continue
            mg, basis = read
            if name == leading:
                # The ingredient's own strength follows its name, so the leading one belonged to an ingredient
                # recognition does not know ("belladonna alkaloids 16.2 MG / opium 30 MG"): drop it.
                del assigned[name]
                leading = None
            else:
                leading = name if first else None
            assigned[name] = NamedStrength(name, mg, basis, single.group().strip())
        elif not since:
            _add_second_salt(text, assigned, previous_end, single, form)
        previous_end = single.end()
    return tuple(assigned.values())


def _add_second_salt(
    text: str, assigned: dict[str, NamedStrength], previous_end: int, single: re.Match[str], form: str | None
) -> None:
    """A strength after an ingredient named a second time, as another salt ("oxycodone hydrochloride 4.5 MG /
    oxycodone terephthalate 0.38 MG"), adds to that ingredient's strength when both are per the same basis."""
    again = set(_ingredients_in_order(text, previous_end, single.start()))
    if len(again) != 1:
        return
    (name,) = again
    prior = assigned.get(name)
    value, unit, denominator_amount, denominator = single.groups()
    basis = _basis(denominator, form)
    if prior is None or prior.per != basis or (denominator_amount and denominator == "ml"):
        return
    mg = prior.mg + _mg(value, unit)
    assigned[name] = NamedStrength(name, mg, basis, f"{prior.shown} + {single.group().strip()}")


# "Tylenol #3" is acetaminophen 300 mg with codeine 30 mg (#2: 15 mg, #4: 60 mg): the number is the codeine.
_CODEINE_NUMBER = re.compile(r"(?:#|\bno\.?)\s*([234])\b")
_CODEINE_MG = {"2": "15", "3": "30", "4": "60"}


def _codeine_number(lowered: str, listed: _StrengthList | None) -> tuple[NamedStrength, ...] | None:
    """The strengths a Tylenol-with-codeine number stands for, when the name writes none of its own ("Tylenol
    #3" read as plain Tylenol: acetaminophen, not relevant, and its codeine was never counted)."""
    if "tylenol" not in lowered and "codeine" not in lowered:
        return None
    number = _CODEINE_NUMBER.search(lowered)
    if number is None or _SINGLE.search(lowered) or listed is not None:
        return None
    shown = number.group().strip()
    return (
        NamedStrength("acetaminophen", Decimal(300), "unit", shown),
        NamedStrength("codeine", Decimal(_CODEINE_MG[number.group(1)]), "unit", shown),
    )


def name_not_read(text: str) -> int | None:
    """The length of a name when it is longer than `words.TEXT_READ_CHARACTERS` (then none of it is read: it reads no
    drug, and its order is named, `medication-names-not-read`), else None."""
    return longest_not_read((text,))


@lru_cache(maxsize=4096)
def read_name(text: str) -> NameReading:
    """What a medication name says (lower-cased; "oxyCODONE" and "OXYCODONE" read the same); nothing of a name too
    long to read (`name_not_read`)."""
    if name_not_read(text) is not None:
        return NameReading(text, (), (), None, False, None)
    pack = _pack_reading(text)
    return pack if pack is not None else _read_one(text)


def _read_one(text: str) -> NameReading:
    """`read_name` of a name that is no RxNorm pack."""
    lowered = _cut_names_spelt(
        _without_morphine_notes(
            _vitamin_numbers_joined(
                _pairs_spelt(_b_and_o_spelt(" ".join(commas_read(text.lower()).replace(",", " ").split())))
            )
        )
    )
    mentions, brand = _mentions(lowered)
    mentions, morphine_at = _morphine_as_opium_content(mentions)
    form = _form(lowered, brand)
    extended = bool(_EXTENDED.search(lowered)) or bool(brand and brand.extended_release)
    listed = _strength_list(lowered)  # read once: the strengths, the codeine number and the unread check all ask
    numbered = _codeine_number(lowered, listed)
    if numbered is not None:
        known = ingredients()
        named = {m.ingredient.name for m in mentions}
        mentions += [_Mention(len(lowered), known[s.ingredient]) for s in numbered if s.ingredient not in named]
    # An unknown word joined to an ingredient may be the ingredient a strength belongs to ("oxycodone / foo 5 mg"):
    # which number is whose cannot be told, so none is assigned and no dose is guessed.
    joined_unread = bool(mentions) and _unread_word_joined(lowered)
    read = frozenset(m.ingredient.name for m in mentions)
    cut_opioids = opioids_cut_off(text, read)
    strengths = numbered
    if strengths is None:
        strengths = () if joined_unread else _assign(lowered, mentions, form, listed)
    strengths = tuple(_opium_strength(lowered, s, morphine_at) for s in strengths)
    if numbered is None and not joined_unread:
        strengths = _bracketed_product(lowered, mentions, strengths)
    return NameReading(
        text=text,
        ingredients=tuple(m.ingredient for m in mentions),
        strengths=strengths,
        form=form,
        extended_release=extended,
        brand=brand,
        unread_ingredient=(numbered is None and _unread_ingredient(lowered, mentions, listed))
        or _opioid_cut_named(lowered)
        or joined_unread,
        cut_opioids=cut_opioids,
        cut_note=cut_note(cut_opioids, cut_also_cough_cold(text, read)) if cut_opioids else None,
    )


def _bracketed_product(
    lowered: str, mentions: list[_Mention], strengths: tuple[NamedStrength, ...]
) -> tuple[NamedStrength, ...]:
    """The strengths of the product a bracket names, where the rest of the name gives an opioid none: "percocet
    [oxycodone 5 mg / apap 325 mg] [endo]". The brand's ingredients stand where the brand is written, so the bracket's
    first strength followed two ingredients and was given to neither. A bracket counts only when it reads, by itself,
    ingredients of this name with a strength for every opioid the name holds ("percocet 10 mg (oxycodone)" gives
    none: which ingredient the 10 mg is cannot be told); a brand's, a maker's or a form's bracket reads nothing."""
    opioids = {m.ingredient.name for m in mentions if m.ingredient.kind == "opioid"}
    if not opioids or opioids <= {s.ingredient for s in strengths}:
        return strengths
    read = {m.ingredient.name for m in mentions}
    for bracket in _brackets(lowered):
        inner = _read_one(bracket.group()[1:-1])
        named = {i.name for i in inner.ingredients}
        if (
            named
            and named <= read
            and opioids <= {s.ingredient for s in inner.strengths}
            and not inner.unread_ingredient
        ):
            return inner.strengths
    return strengths


# An RxNorm pack (GPCK, BPCK): "{2 (oxycodone hydrochloride 5 MG / acetaminophen 325 MG Oral Tablet) } Pack", "{1 (…)
# / 2 (…) } Pack [Brand 1200 MCG]". Each part is a count and a product in parentheses; the brand after it is the pack's.
_PACK = re.compile(r"\s*\{(?P<parts>[^{}]*)\}\s*pack\b(?P<brand>.*)", re.IGNORECASE | re.DOTALL)
_PACK_PART = re.compile(r"(?<!\d)\d++\s*\(([^()]*)\)")  # from a number's first digit only: from each, slow


def _pack_reading(text: str) -> NameReading | None:
    """A pack read as the product its parts are: their ingredients, and their strengths only when every part is the
    same product ("{60 (oxycodone … 5 MG Oral Tablet) } Pack"). Read whole, the parts of "{1 (morphine sulfate 15 MG
    …) / 2 (morphine sulfate 30 MG …) } Pack" were one tablet of 45 mg (two salts of one drug added up); which part a
    dose is cannot be told, so a pack of different products gives no strength and its dose is unknown (named). The
    pack brand's strength ("[Subsys 1200 MCG]", the whole pack's) is never read."""
    found = _PACK.fullmatch(text)
    if found is None:
        return None
    parts = [_read_one(part) for part in _PACK_PART.findall(found.group("parts"))]
    if not parts:
        return None
    brand = _read_one(found.group("brand")).brand if found.group("brand").strip() else None
    same = all(p.strengths == parts[0].strengths and p.ingredients == parts[0].ingredients for p in parts)
    forms = {p.form for p in parts}
    return NameReading(
        text=text,
        ingredients=tuple(dict.fromkeys(i for p in parts for i in p.ingredients)),
        strengths=parts[0].strengths if same else (),
        form=forms.pop() if len(forms) == 1 else None,
        extended_release=any(p.extended_release for p in parts),
        brand=brand or next((p.brand for p in parts if p.brand), None),
        unread_ingredient=any(p.unread_ingredient for p in parts),
    )


# Belladonna and opium suppositories as pharmacies and Epic name them: "B&O SUPPRETTES 16.2-60 MG", "B & O 16.2-30 MG
# RE SUPP". Read as the letters B and O, the name was unidentified.
_B_AND_O = re.compile(r"\bb\s*&\s*o\b")


def _b_and_o_spelt(lowered: str) -> str:
    """The name with "B&O" written out as the belladonna and opium it stands for, in that order (its strengths'
    order: 16.2 mg belladonna, 30 or 60 mg opium)."""
    return _B_AND_O.sub("belladonna/opium", lowered)


# Each pair as written, "/" or "-" between, spaces or none around it ("bup / nal", "bup-nx").
_PAIR_JOIN = re.compile(r"\s*[/-]\s*")
_PAIRED = re.compile("|".join(rf"\b{first}\s*[/-]\s*{second}\b" for first, second in PAIRED_ALIASES))


def _pairs_spelt(lowered: str) -> str:
    """The name with each pair of abbreviations (`PAIRED_ALIASES`) written out as the ingredients it stands for:
    "bup/nal 8-2mg sl tab" is "buprenorphine/naloxone 8-2mg sl tab"."""

    def spelt(found: re.Match[str]) -> str:
        first, second = _PAIR_JOIN.split(found.group())
        return PAIRED_ALIASES[(first, second)]

    return _PAIRED.sub(spelt, lowered)


# A vitamin's letter and number written apart: "B-12", "D-3", and after "vitamin" (or "vit") a space too ("vitamin B
# 12"). Read apart, "B" was no word and the number one more strength than the ingredients read, so "FOLIC ACID-B6-B12
# 2.5-25-1 MG" and "B-12" were named beside every opioid order as medicines that might be an opioid.
_VITAMIN_NUMBER = re.compile(
    r"\b(?:(?P<vitamin>(?:vitamin|vit)\s+)(?P<after>[a-z])\s*-?\s*(?P<its>\d{1,2})|(?P<letter>[a-z])\s*-\s*(?P<number>\d{1,2}))"
    r"\b(?![.\d])"
)


def _vitamin_numbers_joined(lowered: str) -> str:
    """The name with each vitamin's letter joined to its number ("b-12" is "b12"), where the two make a vitamin's
    word (`VITAMIN_NUMBERED`); a space joins them only after "vitamin", so a sig's "q 12" is left alone."""

    def joined(found: re.Match[str]) -> str:
        letter = found.group("after") or found.group("letter")
        number = found.group("its") or found.group("number")
        if f"{letter}{number}" not in VITAMIN_NUMBERED:
            return found.group()
        return f"{found.group('vitamin') or ''}{letter}{number}"

    return _VITAMIN_NUMBER.sub(joined, lowered)


# Drug files and pharmacy systems cut codeine to "COD" ("APAP/COD 300-30 TAB", "GUAIFENESIN-COD",
# "BROMPHENIRAMINE/PSE/COD") and write promethazine with phenylephrine as "PROMETHAZINE VC" ("PROMETHAZINE VC/COD SYR").
# "COD" before "LIVER" is the fish ("COD LIVER OIL", "Cod-Liver Oil"), never codeine: one pattern for spelling it
# out and for naming an opioid's cut name.
_COD = r"\bcod\b(?![\s-]*liver)"
_CUT_CODEINE = re.compile(_COD)
_WITH_PHENYLEPHRINE = re.compile(r"\bvc\b")


def _cut_names_spelt(lowered: str) -> str:
    """The name with codeine and phenylephrine written out where drug files cut them: "VC" beside promethazine
    (Promethazine VC, with phenylephrine), and "COD" beside an ingredient the packaged drug table sells with codeine,
    when no opioid is read. Left unread, each was unidentified; elsewhere "COD" is no codeine ("COD LIVER OIL")."""
    cut = _CUT_CODEINE.search(lowered)
    with_phenylephrine = _WITH_PHENYLEPHRINE.search(lowered)
    if cut is None and with_phenylephrine is None:
        return lowered
    found = {m.ingredient.name for m in _mentions(lowered)[0]}
    if with_phenylephrine is not None and "promethazine" in found:
        lowered = _WITH_PHENYLEPHRINE.sub("phenylephrine", lowered)
        found.add("phenylephrine")
    known = ingredients()
    if cut is not None and found & sold_with()["codeine"] and all(known[n].kind != "opioid" for n in found):
        lowered = _CUT_CODEINE.sub("codeine", lowered)
    return lowered


_OPIUM = mf.INGREDIENT_NAMES[mf.OPIUM]
_MORPHINE = mf.INGREDIENT_NAMES[mf.MORPHINE]


def _morphine_as_opium_content(mentions: list[_Mention]) -> tuple[list[_Mention], int | None]:
    """Morphine named beside opium is the opium's morphine content, as pharmacies and DailyMed write it ("opium
    tincture 10 mg/mL (morphine)", "OPIUM TINCTURE DEODORIZED- morphine solution"): no product holds both. Read as a
    second ingredient, with no strength of its own, it lost the dose. The mentions without it, and where it is
    written (a strength after it is the morphine's)."""
    if not mf.morphine_is_opium_content(m.ingredient.rxcui for m in mentions if m.ingredient.rxcui):
        return mentions, None
    where = next(m.start for m in mentions if m.ingredient.name == _MORPHINE)
    return [m for m in mentions if m.ingredient.name != _MORPHINE], where


def _opium_strength(lowered: str, strength: NamedStrength, morphine_at: int | None) -> NamedStrength:
    """Opium's strength as the mg of opium it means (any other ingredient's as written): one written after the word
    morphine is that morphine, ten times as much opium ("opium tincture (morphine 10 mg/mL)"); else as the label
    gives it, a liquid's by its morphine (`mf.opium_mass`)."""
    if strength.ingredient != _OPIUM:
        return strength
    if morphine_at is not None and lowered.find(strength.shown) >= morphine_at:
        mg = mf.opium_of_morphine(strength.mg)
    else:
        mg = mf.opium_mass(strength.mg, strength.per)
    return NamedStrength(_OPIUM, mg, strength.per, strength.shown)


def _without_morphine_notes(lowered: str) -> str:
    """The name with a morphine equivalent in brackets blanked, when another opioid (not opium, whose morphine is its
    content) is named outside them: "hydromorphone 2 mg tablet (morphine equivalent 8 mg)" is hydromorphone alone,
    where the note's 8 mg of morphine was counted as a second ingredient. A brand's generic in brackets ("MS CONTIN
    (morphine)") is the same opioid and stays."""
    if _MORPHINE not in lowered:
        return lowered
    notes = [note for note in _brackets(lowered) if _MORPHINE in note.group()]
    if not notes:
        return lowered
    outside = _unbracketed(lowered, lambda note: " " * len(note.group()))
    opioids = {m.ingredient.name for m in _mentions(outside)[0] if m.ingredient.kind == "opioid"}
    if not opioids or opioids & {_OPIUM, _MORPHINE}:
        return lowered
    for note in notes:
        if {m.ingredient.name for m in _mentions(note.group())[0] if m.ingredient.kind == "opioid"} == {_MORPHINE}:
            lowered = lowered[: note.start()] + " " * len(note.group()) + lowered[note.end() :]
    return lowered


# The opioids as drug files cut them to two or three letters ("IBU/HC", "APAP-HC", "APAP HC 5-325"): too short to
# read as the opioid by themselves ("HC" is also hydrocortisone), but a name holding one beside an ingredient sold with
# opioids names an ingredient that was not read (recognition.classify then names the medicine, never "not relevant").
_OPIOID_CUT = re.compile(rf"\b(?:hc|oxy)\b|{_COD}")
# Two words joined by "/" or "-", as a combination's name joins its ingredients ("apap/hc", "acetaminophen-hc").
_JOINED_WORDS = re.compile(r"[a-z]\s*[/-]\s*[a-z]")


def _opioid_cut_named(lowered: str) -> bool:
    """Whether the name holds an opioid's cut name as a word of its own: "ibu/hc", "apap-hc", "apap hc 5-325"."""
    return _OPIOID_CUT.search(lowered) is not None


# Where a combination's name joins two ingredients: "/" ("alprazolam / xyz 1 mg", "oxycodone 5 mg/acetaminophen"), or
# "-" between words ("hydrocodone-acetaminophen"; "12-hr" and "5-325" join numbers).
_JOIN = re.compile(r"/|(?<=[a-z])\s*-\s*(?=[a-z])")
_WORD_BEFORE = re.compile(r"([a-z][a-z0-9]*)\s*$")
_WORD_AFTER = re.compile(r"\s*([a-z][a-z0-9]*)")
# An ingredient written with its own strength after a join, as RxNorm writes each one: "/ acetaminophen 325 mg".
_NAMED_WITH_STRENGTH = re.compile(r"\s*[a-z][a-z0-9]*(?:\s+[a-z][a-z0-9]*){0,3}\s*\d")
# A brand, a note or a strength's basis in brackets is no ingredient list: RxNorm's "[Hy-KXP]", Epic's "(NORCO)".
_BRACKETED = re.compile(r"\[[^\]]*\]|\([^)]*\)")
_OPENING = re.compile(r"[\[(]")
_CLOSING = {"[": "]", "(": ")"}


def _brackets(text: str) -> list[re.Match[str]]:
    """The brackets `_BRACKETED.finditer(text)` finds, in one pass: an opening bracket with no closing one after it is
    passed over without looking for one. Looked for from each, "((((…" took seconds (bench/text_worst_case.py)."""
    last = {opening: text.rfind(closing) for opening, closing in _CLOSING.items()}
    found: list[re.Match[str]] = []
    position = 0
    while (opening := _OPENING.search(text, position)) is not None:
        start = opening.start()
        bracket = _BRACKETED.match(text, start) if start < last[text[start]] else None
        if bracket is None:
            position = start + 1
            continue
        found.append(bracket)
        position = bracket.end()
    return found


def _unbracketed(text: str, instead: Callable[[re.Match[str]], str]) -> str:
    """`_BRACKETED.sub(instead, text)`, its brackets found by `_brackets`."""
    parts: list[str] = []
    position = 0
    for bracket in _brackets(text):
        parts += [text[position : bracket.start()], instead(bracket)]
        position = bracket.end()
    return "".join([*parts, text[position:]])


# Shorter words are abbreviations PainPlan reads elsewhere or none ("w/", "p-v-tussin"; the opioids' cut names).
_SHORTEST_INGREDIENT = 3
_LONGEST_WORD = 64


def _unread_word_joined(lowered: str) -> bool:
    """Whether a word joined to another as a combination joins its ingredients is no word PainPlan knows: "alprazolam
    / xyz-unknown 1 mg" or "oxycodone / foo 5 mg" has one strength, so no strength is left over to tell that an
    ingredient went unread, and the name was read as its known ingredient alone. Units, forms, salts and release
    words ("mg/ml", "mcg/hr", "extended-release", "hydrocodone bitartrate/acetaminophen") are known words. Only the
    joins of the ingredient list count: before the first strength, or before an ingredient written with its own
    ("oxycodone 5 mg / foo 325 mg"); words after the strengths are a sig's or a note's ("1-2 tabs prn pain/fever")."""
    text = _unbracketed(lowered, lambda _: " ")
    first_number = next((index for index, char in enumerate(text) if char.isdigit()), len(text))
    for join in _JOIN.finditer(text):
        if join.start() > first_number and not _NAMED_WITH_STRENGTH.match(text, join.end()):
            continue
        # A word is looked for in the few characters before the join, so a name of many joins stays linear.
        before = _WORD_BEFORE.search(text, max(0, join.start() - _LONGEST_WORD), join.start())
        after = _WORD_AFTER.match(text, join.end())
        for word in (before.group(1) if before else None, after.group(1) if after else None):
            if word is not None and len(word) >= _SHORTEST_INGREDIENT and not known_word(word):
                return True
    return False


def _unread_ingredient(lowered: str, mentions: list[_Mention], listed: _StrengthList | None) -> bool:
    """Whether the name lists more strengths than the ingredients read: "APAP/HC 325-5" (two numbers, acetaminophen
    read alone) names an ingredient recognition does not know. A list counts when it has a mass unit or the name
    joins words with "/" or "-", as a combination's name does; a brand stands for its ingredients."""
    if listed is None or not mentions:
        return False
    read = max(len(mentions), len(_ingredients_in_order(lowered)))
    combination = any(written for _, written in listed.numbers) or _JOINED_WORDS.search(lowered) is not None
    return combination and len(listed.numbers) > read
