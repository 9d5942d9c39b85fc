"""Each pattern rewritten to run in linear time (bench/text_worst_case.py) finds exactly what it found before, as it is
called: the pattern as it was, copied here, and the pattern now read every string the tests write (and the same
lowered) and a fixed set of made-up strings of the words and signs these patterns read, and must give the same spans
and groups. A run made possessive (`\\s*+`) gives up only what nothing after it could take; a `(?<!\\s)` start is the
same only where the search never starts inside a run of spaces, which the call sites here keep to."""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

from guideline.dosage import _NOT_A_DOSE, _SAME_DOSE, _SIG_DOSE, _SPELLED, _TEXT_RULES, _limit_words_from
from guideline.plan.reading import _SCORE_TEXT
from guideline.recognition.classify import _GIVEN_AFTER
from guideline.recognition.diagnoses import RULES
from guideline.recognition.names import _BRACKETED as _NAME_BRACKETS
from guideline.recognition.names import _NUMBER, _PACK_PART, _PER_VOLUME, _SINGLE, _UNIT, _brackets, _unbracketed
from guideline.record.readers import _CUTOFF
from guideline.set_names import MALIGNANT_CANCER, POINT_OF_CARE_CANCER, SICKLE_CELL
from guideline.specimen_validity import _FIT_TEXT, _TEXT_AMOUNT
from guideline.uds import _BRACKETED as _UDS_BRACKETS

# -- The patterns as they were (41ad723) ----------------------------------------------------------------------------

OLD_SPELLED = r"\s*(?:\([a-z0-9 -]+\)\s*)?"
OLD_SAME_DOSE = re.compile(r"\s*(?:=|of|,)?\s*")
OLD_PER_VOLUME = re.compile(r"\s*(?:/|per)\s*(\d+(?:\.\d+)?)?\s*ml\b")
OLD_SINGLE = re.compile(
    rf"{_NUMBER}\s*{_UNIT}\b(?:\s*(?:/|per)\s*{_NUMBER}?\s*(ml|hrs?|h|hours?|actuat\w*|spray|dose)\b)?"
)
OLD_PACK_PART = re.compile(r"\d+\s*\(([^()]*)\)")
OLD_CUTOFF = re.compile(r"cut[\s-]?off(?:\s+(?:level|value))?\s*[:=]?\s*(\d+(?:\.\d+)?)\s*([a-zµ/]+)?", re.IGNORECASE)
OLD_TEXT_AMOUNT = re.compile(r"^\s*(<=?|>=?)?\s*(\d+(?:\.\d+)?|\.\d+)\s*(\S.*?)?\s*$")
OLD_FIT_TEXT = re.compile(r"^\s*(?:normal|within normal limits|wnl)\s*\.?\s*$", re.IGNORECASE)
OLD_SCORE_TEXT = re.compile(r"^\s*(\d{1,4}(?:\.\d{1,4})?)\s*(?:(?:/|out of)\s*\d{1,4})?\s*(?:\([^()]*\))?\s*$", re.I)
OLD_GIVEN_AFTER = re.compile(r"[,;:]|\.\s|\s+-+>?\s+|\s*(?:[\u2013\u2014\u2192]|=>)\s*")
OLD_UDS_BRACKETS = re.compile(r"\s*\(([^()]*)\)")
OLD_SICKLE_THALASSEMIA = r"\bsickle[\s-]*(?:cell[\s/-]*)?(?:beta[\s-]*)?(?:zero|plus|0|\+)?[\s-]*thalass"
NEW_SICKLE_THALASSEMIA = r"\bsickle[\s-]*+(?:cell[\s/-]*+)?(?:beta[\s-]*+)?(?:zero|plus|0|\+)?[\s-]*thalass"
CANCER_SUFFIXES = ("carcinoma", "sarcoma", "lymphoma", "blastoma")


def as_before(pattern: re.Pattern[str], new: str, old: str, times: int) -> re.Pattern[str]:
    """A pattern built of a rewritten piece, with the piece as it was: `times` copies replaced, never none."""
    assert pattern.pattern.count(new) == times
    return re.compile(pattern.pattern.replace(new, old), pattern.flags)


def old_cancer(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """A pattern holding the cancer names' words, with `\\w*carcinoma\\b` and the rest as they were (no `\\b`)."""
    written = pattern.pattern
    for suffix in CANCER_SUFFIXES:
        assert rf"\b\w*{suffix}\b" in written
        written = written.replace(rf"\b\w*{suffix}\b", rf"\w*{suffix}\b")
    return re.compile(written, pattern.flags)


# -- The strings read -------------------------------------------------------------------------------------------

TOKENS = (
    *(" ", " ", "  ", "\t", "\n", "-", "--", "(", ")", "[", "]", "/", ".", ",", ";", ":", "=", "<", ">=", "#", "+"),
    *("0", "5", "12", "1.5", ".5", "four", "x", "a", "of", "the", "per", "ml", "mg", "mcg", "hr", "hours", "times"),
    *("daily", "a day", "every", "q", "tab", "tablets", "in the morning", "and", "at bedtime", "max", "more than"),
    *("up to", "dispense", "cutoff", "cut-off", "level", "ng/mL", "normal", "wnl", "out of", "sickle", "cell"),
    *("beta", "zero", "thalassemia", "adeno", "carcinoma", "sarcoma", "lymphoma", "blastoma", "skin", "cancer"),
    *("squamous cell", "merkel", "secondary", "malignant neoplasm", "oxycodone", "morphine", "not", "no", "negative"),
    *("positive", "prescribed", "\u2013", "\u2014", "\u2192", "=>", "->", "_", "\u00a0", "é"),
)


@cache
def written_strings() -> tuple[str, ...]:
    """Every string constant the tests write (2 to 300 characters), and each lowered."""
    found: set[str] = set()
    for path in Path(__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and 2 <= len(node.value) <= 300:
                found |= {node.value, node.value.lower()}
    return tuple(sorted(found))


@cache
def made_up(count: int = 6000) -> tuple[str, ...]:
    """Strings of up to 12 of `TOKENS`, the same each run."""
    rng = random.Random(32)
    return tuple("".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 12))) for _ in range(count))


# Entries where a cancer's word is read inside a skin cancer's (`_SKIN_CANCER_ALONE`), letter by letter.
ENTRIES = (
    "Squamous cell carcinoma of skin",
    "Skin cancer (basal cell carcinoma)",
    "Skin cancer; adenocarcinoma of lung",
    "Merkel cell carcinoma of skin",
    "Skin cancer, Kaposi sarcoma",
    "Non-melanoma skin cancer, osteosarcoma",
    "Cancer of the skin - neuroblastoma",
)


def every_string() -> Iterator[str]:
    yield from ENTRIES
    yield from written_strings()
    yield from made_up()


def found(match: re.Match[str] | None) -> tuple[object, ...] | None:
    return (match.span(), match.groups()) if match else None


def all_found(matches: Iterator[re.Match[str]]) -> list[tuple[object, ...] | None]:
    return [found(match) for match in matches]


def differences(read: Callable[[re.Pattern[str], str], object], new: re.Pattern[str], old: re.Pattern[str]) -> list:
    """The strings `new` and `old` read differently, with both readings (the first few)."""
    apart = []
    for text in every_string():
        if (now := read(new, text)) != (before := read(old, text)):
            apart.append((text, now, before))
    return apart[:5]


def search(pattern: re.Pattern[str], text: str) -> object:
    return found(pattern.search(text))


def match(pattern: re.Pattern[str], text: str) -> object:
    return found(pattern.match(text))


def finditer(pattern: re.Pattern[str], text: str) -> object:
    return all_found(pattern.finditer(text))


def match_everywhere(pattern: re.Pattern[str], text: str) -> object:
    return [found(pattern.match(text, start)) for start in range(len(text) + 1)]


@pytest.mark.parametrize(
    ("read", "new", "old"),
    [
        pytest.param(match, _TEXT_AMOUNT, OLD_TEXT_AMOUNT, id="specimen_validity._TEXT_AMOUNT"),
        pytest.param(match, _FIT_TEXT, OLD_FIT_TEXT, id="specimen_validity._FIT_TEXT"),
        pytest.param(match, _SCORE_TEXT, OLD_SCORE_TEXT, id="plan.reading._SCORE_TEXT"),
        pytest.param(search, _CUTOFF, OLD_CUTOFF, id="record.readers._CUTOFF"),
        pytest.param(match_everywhere, _PER_VOLUME, OLD_PER_VOLUME, id="names._PER_VOLUME"),
        pytest.param(finditer, _SINGLE, OLD_SINGLE, id="names._SINGLE"),
        pytest.param(finditer, _PACK_PART, OLD_PACK_PART, id="names._PACK_PART"),
        pytest.param(finditer, _UDS_BRACKETS, OLD_UDS_BRACKETS, id="uds._BRACKETED"),  # its `sub` and `search`
        pytest.param(finditer, _SIG_DOSE, as_before(_SIG_DOSE, _SPELLED, OLD_SPELLED, 1), id="_SIG_DOSE"),
        *(
            pytest.param(search, rule, as_before(rule, _SPELLED, OLD_SPELLED, count), id=f"_TEXT_RULES[{at}]")
            for at, (rule, _) in enumerate(_TEXT_RULES)
            if (count := rule.pattern.count(_SPELLED))
        ),
        pytest.param(
            search,
            RULES[SICKLE_CELL].names,
            as_before(RULES[SICKLE_CELL].names, NEW_SICKLE_THALASSEMIA, OLD_SICKLE_THALASSEMIA, 1),
            id="diagnoses sickle cell",
        ),
        pytest.param(search, RULES[MALIGNANT_CANCER].names, old_cancer(RULES[MALIGNANT_CANCER].names), id="cancer"),
        # The skin cancer alone (`_SKIN_CANCER_ALONE`) steps through an entry a letter at a time: the cancer words
        # are looked for from every letter, not only where a search would find them first.
        pytest.param(
            search,
            RULES[POINT_OF_CARE_CANCER].unless,
            old_cancer(RULES[POINT_OF_CARE_CANCER].unless),
            id="point-of-care cancer unless",
        ),
    ],
)
def test_a_rewritten_pattern_reads_every_string_as_before(
    read: Callable[[re.Pattern[str], str], object], new: re.Pattern[str], old: re.Pattern[str]
) -> None:
    assert differences(read, new, old) == []


def test_words_that_make_two_doses_one_are_read_between_any_two_places_as_before() -> None:
    # `_sig_doses` asks `fullmatch` between the end of one dose and the start of the next.
    for text in (*made_up(1500), *(t for t in written_strings() if len(t) <= 40)):
        for start in range(len(text) + 1):
            for end in range(start, len(text) + 1):
                new = found(_SAME_DOSE.fullmatch(text, start, end))
                assert new == found(OLD_SAME_DOSE.fullmatch(text, start, end)), (text, start, end)


def test_a_limit_before_a_dose_is_found_from_its_words_as_from_the_start() -> None:
    # `_sig_doses` asks before each dose's start whether a limit's words end there ("max 3 tabs", "#90").
    for text in every_string():
        for dose in range(len(text) + 1):
            before = _NOT_A_DOSE.search(text, 0, dose) is not None
            assert (_NOT_A_DOSE.search(text, _limit_words_from(text, dose), dose) is not None) is before, (text, dose)


def test_brackets_in_a_name_are_found_and_blanked_as_before() -> None:
    for text in every_string():
        assert all_found(iter(_brackets(text))) == all_found(_NAME_BRACKETS.finditer(text)), text
        assert _unbracketed(text, lambda b: f"<{b.start()}>") == _NAME_BRACKETS.sub(lambda b: f"<{b.start()}>", text)


def test_a_finding_in_brackets_is_put_apart_as_before() -> None:
    # guideline.uds calls it with `sub` and `search` from a text's start, never from inside it.
    def marked(bracket: re.Match[str]) -> str:
        return f"<{bracket[1]}>"

    for text in every_string():
        assert _UDS_BRACKETS.sub(marked, text) == OLD_UDS_BRACKETS.sub(marked, text), text


_REFUSED_WORD_END = re.compile(r"[\w/-]")  # classify._WORD's last character: where the search for a break starts


def test_the_break_after_a_refused_drug_is_found_as_before_from_a_word_end() -> None:
    # `_given_after_refusal` searches from the end of the refused drug's word (`_WORD`, `[\w/-]+`): never inside a
    # run of spaces, where `(?<!\s)` would pass over a break the old pattern found.
    for text in every_string():
        for start in [0, *(at + 1 for at, char in enumerate(text) if _REFUSED_WORD_END.match(char))]:
            new, old = _GIVEN_AFTER.search(text, start), OLD_GIVEN_AFTER.search(text, start)
            assert found(new) == found(old), (text, start)


def test_a_break_searched_for_from_inside_a_run_of_spaces_is_missed() -> None:
    """Why the start matters: from a run of spaces' second space, the break is no longer found."""
    text = "NOT morphine  - hydromorphone"
    inside = text.index("  ") + 1
    assert OLD_GIVEN_AFTER.search(text, inside) is not None
    assert _GIVEN_AFTER.search(text, inside) is None
