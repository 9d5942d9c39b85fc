"""Urine drug test results (guideline 6.4) and whether each substance result was expected (10.4)."""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from operator import attrgetter
from typing import TYPE_CHECKING, ClassVar, Literal, Self, TypeVar

from guideline.clinical import DONE_OR_UNSTATED, GIVEN_STATUSES, last_performed
from guideline.commas import commas_read
from guideline.config import GuidelineConfig
from guideline.data_absent import ABSENT_NOT_PERFORMED, ABSENT_TO_COME, absent_said
from guideline.dates_sent import date_or_unread, unread_words
from guideline.fhirdata import CPT, HCPCS, LOINC, OBS_INTERPRETATION, SNOMED, Concept, last_possible_day
from guideline.fills import handed_over
from guideline.history import Interval, dispense_interval
from guideline.memo import MISSING, IdentityMemo
from guideline.mme import Drug, conflict_labels, conflict_said, identify_drug, named_medication
from guideline.orders import is_ambulatory, is_order, is_taken, order_start, stated_end
from guideline.record import (
    Component,
    DiagnosticReport,
    Dispense,
    MedOrder,
    Observation,
    PatientRecord,
    Procedure,
    ResolvedMedication,
)
from guideline.record.model import flags_not_read, value_words_not_read
from guideline.record.slot_init import slot_init
from guideline.result_words import not_read_words, read_value_words
from guideline.specimen_validity import (
    NO_VERDICTS,
    POSITIVES_STAND,
    SpecimenVerdicts,
    Validity,
    Words,
    read_validity,
    validity_test,
)
from guideline.terminology import OPIOID, UDS_TEST, Terminology, UdsSubstance
from guideline.timeutil import day_only, day_span, iso_day, local_date
from guideline.uds_analytes import ANALYTES, CLASS_MEMBERS
from guideline.uds_names import (
    substances_in_words,
    substances_named,
    substances_of_panel_item,
    with_class_members,
    words_after_metabolites,
    words_after_substances,
)
from guideline.words import QUOTED_CHARACTERS, and_list, clip, longest_not_read

Value = Literal["positive", "negative", "indeterminate", "none"]
ANALYTE_NAMES = tuple(dict.fromkeys(analyte.substance for analyte in ANALYTES))

RESULT_STATUSES = frozenset({"final", "amended", "corrected", "preliminary"})
# Statuses that say there is no result (yet, or any more). Any other status ("unknown", none, a code of the sender's
# own) leaves a result that is not judged but named: read as no result at all, a positive of status unknown was
# neither a card nor a word.
NO_RESULT_STATUSES = frozenset({"registered", "cancelled", "entered-in-error"})
# Positive, Detected, Present, Reactive; Negative, Not detected, Absent, Non-reactive.
POSITIVE_SNOMED = frozenset({"10828004", "260373001", "52101004", "11214006"})
NEGATIVE_SNOMED = frozenset({"260385009", "260415000", "2667000", "131194007"})
# A drug test's normal is "not detected": labs flag a detected drug abnormal or high (A, AA, H, HH) as often as
# positive, and an undetected one normal (N). Read only as "none", such a flagged fentanyl gave no card.
POSITIVE_INTERPRETATION = frozenset({"POS", "DET", "A", "AA", "H", "HH", "HU"})
NEGATIVE_INTERPRETATION = frozenset({"NEG", "ND", "N"})
# LOINC's answers Positive, Detected, Present; Negative, Not detected, Absent: how a lab that codes its answer lists
# in LOINC sends them, often with no text.
POSITIVE_LOINC_ANSWERS = frozenset({"LA6576-8", "LA11882-0", "LA9633-4"})
NEGATIVE_LOINC_ANSWERS = frozenset({"LA6577-6", "LA11883-8", "LA9634-2"})
# An interpretation written in words rather than a code: "Abnormal" is the word for the flag A, "Normal" for N.
FLAG_WORDS: dict[str, Value] = {"abnormal": "positive", "normal": "negative"}
# How labs write a result, after any qualifier below. Negatives are tried first: "not detected" before "detected",
# "non-reactive" before "reactive", "not present" before "present", "not found" before "found". "Found" is read where
# "detected" is ("Oxycodone found", "Found: oxycodone", "Fentanyl: not found", "None found", "Nothing detected"):
# before, a result or conclusion in those words was no reading, and a prescribed opioid not found went unjudged.
NEGATIVE_PREFIXES = (
    "neg", "not detected", "none detected", "undetected", "nd", "non-detect", "non detect", "nondetect",
    "non-reactive", "non reactive", "nonreactive", "absent", "not present",
    "not found", "none found", "nothing detected", "nothing found",
)  # fmt: skip
POSITIVE_PREFIXES = ("pos", "detected", "reactive", "present", "found")
# Below what the lab reports or calls positive, said in words rather than a number: "Below cutoff", "<LOQ", "< LOQ",
# "Below threshold", "Less than cutoff", "Below the limit of quantitation". Only "Below cutoff" was read: the others
# were named as unread, and a test that found no oxycodone in a patient on it could not be judged.
_BELOW_LIMIT = re.compile(
    r"^(?:<|below|less\s+than|under)\s*(?:the\s+)?"
    r"(?:lo[qd]\b|cut|threshold|(?:lower\s+|reporting\s+)?limit|reporting\s+level|detection)"
)
# Over the cutoff the lab calls positive by, in words: "Above cutoff", "Above the cut-off", "> cutoff", "Exceeds
# cutoff", "At or above cutoff", "Greater than threshold". Read as no value before, though "below cutoff" was read.
# Only the cutoff or threshold: over a limit of detection or quantitation ("Above LOQ") is measurable, not found.
_ABOVE_CUTOFF = re.compile(r"^(?:>|above|over|greater\s+than|exceeds?|at\s+or\s+above)\s*(?:the\s+)?(?:cut|threshold)")
# A specimen the lab says cannot show what the patient takes. Dilution lowers what is found, so a dilute negative
# is no negative (read so, it was an "all clear" on a sample that could not show the drug) while a dilute positive
# stands; an invalid, adulterated or substituted specimen is read neither way, as it may not be the patient's urine.
# "Dilute" is the specimen's; "diluted" is mostly the lab's own step ("diluted 1:10" to measure a high amount).
_UNFIT = re.compile(r"\b(?:dilute|invalid|adulterat(?:ed|ion)|adulterants?|substituted)\b", re.IGNORECASE)
# A word of `_UNFIT` the lab denies ("not dilute", "non-dilute", "No adulterants detected") says the specimen is fit.
_DENIED = re.compile(r"\b(?:not|no|non)[\s-]*$", re.IGNORECASE)
# ... or after it, as a lab's footer does: "Adulterant testing not performed", "adulterants not detected",
# "adulteration screen negative" say nothing of this specimen's fitness (read as "adulterated", a negative went unread).
# "Negative" right after the word is no denial: "dilute negative" is a dilute specimen's negative.
_DENIED_AFTER = re.compile(
    r"^[\s:-]*(?:(?:testing|tests?|screen(?:ing)?|check)\s+(?:negative|none\s+detected)\b"
    r"|(?:(?:testing|tests?|screen(?:ing)?|check)\s+)?(?:(?:was|were)\s+)?not\s+(?:performed|done|detected|found|present|seen)\b"
    r"|none\s+detected\b)",
    re.IGNORECASE,
)
# Words before the result that say how it was reached, not what it is ("Presumptive Negative", "Screen positive",
# "Confirmed positive"): a value written so read as none, and an unexpected confirmed fentanyl gave no card.
_LABEL_LONGEST = 40  # "Oxycodone/oxymorphone:" is a label; a sentence with a colon in it is not read as one
_SCREEN_WORDS = r"presumptive(?:ly)?|screen(?:ed|ing)?"  # a screen's result written as one ("Screen positive")
# A finding as a confirmation's words write it right after them: in full or abbreviated ("NEG", "POS").
_CONFIRMED_FINDING = r"(?:pos(?:itive)?|neg(?:ative)?|(?:not\s+)?detected|nd)\b"
# The words that make a finding a confirmation's, one list for every pattern that reads one (`_QUALIFIER`,
# `_CONFIRMATION`, `_CONFIRMED_BY`, `_CONFIRMATION_AFTER_FINDING`): "confirmation", "confirmed", "confirmatory", and
# abbreviated ("confirm", "conf", "conf.") only right before a finding that ends its clause ("screen POS, confirm NEG",
# "screen POS conf NEG"). Said as a verb ("Confirm positive screens by LC-MS/MS", "Please confirm negative results"),
# or before no finding ("Conf. pending"), an abbreviation confirms nothing. Written apart, "conf NEG" was read by none
# of them: the screen's "POS" stood alone over the lab's confirmed negative.
_CONFIRM_WORDS = (
    r"(?:confirm(?:ation|ed|atory)\b"
    rf"|(?:confirm\b|conf\b\.?)(?=[\s:\-–]+{_CONFIRMED_FINDING}\s*+(?:[.;,\n]|$)))"
)
_QUALIFIER = re.compile(rf"^(?:(?:(?:{_SCREEN_WORDS})\b|{_CONFIRM_WORDS})[\s:,-]*)+")
EXPECTATION_WINDOW_DAYS = 30
# How long before a test a medicine clinicians gave (in the emergency department, during a procedure, on a ward)
# explains a positive. Shorter than the 30 days of a prescription, whose supply is taken for weeks: a single dose
# of fentanyl, morphine, hydromorphone or midazolam leaves the urine within about 3 days (norfentanyl 4), and a week
# covers the days after a longer infusion and a slow clearer. Longer, a dose given at a procedure a month ago would
# explain a fentanyl positive today, and illicit fentanyl, the overdose risk the check and naloxone's R6 look for,
# would go unseen.
GIVEN_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Window:
    """The test days a supply (or a dose given) from `start` to `end` bears on: from `lead` days after its start to
    `lag` days after its end. Written once for judging a day (`admits`) and for the days a verdict can turn on
    (`turns`), so the two never disagree."""

    lead: int
    lag: int

    def bounds(self, result_day: date) -> tuple[date, date]:
        """The latest start and the earliest end of a supply bearing on a test on `result_day`: worked out once per
        test, so each supply is two comparisons."""
        return result_day - day_span(self.lead), result_day - day_span(self.lag)

    def turns(self, start: date, end: date) -> tuple[date | None, date | None]:
        """The first test day the supply bears on and the first after the last (None past the calendar's end)."""
        return _days_after(start, self.lead) if self.lead else start, _days_after(end, self.lag + 1)


# A supply explains a positive from its first day to 30 days after its last (10.4), a dose given to 7 days after it;
# a supply makes a negative unexpected from the day after its first (not one written at the visit of the test) to
# its last (taking_on says why not 30 days after).
EXPLAINS_POSITIVE = Window(0, EXPECTATION_WINDOW_DAYS)
GIVEN_EXPLAINS_POSITIVE = Window(0, GIVEN_WINDOW_DAYS)
NEGATIVE_UNEXPECTED = Window(1, 0)

SUBSTANCE_LABELS = {
    "amphetamine": "amphetamine",
    "barbiturate": "barbiturates",
    "benzodiazepine": "benzodiazepines",
    "buprenorphine": "buprenorphine",
    "fentanyl": "fentanyl",
    "methadone": "methadone",
    "opiate": "opiates",
    "oxycodone": "oxycodone",
    "cocaine": "cocaine",
    "heroin": "heroin (6-MAM)",
    "pcp": "phencyclidine (PCP)",
    "xylazine": "xylazine",
    "cannabinoid": "cannabinoids",
    # one drug at a time (guideline/uds_analytes.py): a drug is named as itself
    **{name: name for name in ANALYTE_NAMES},
    "despropionylfentanyl": "despropionylfentanyl (4-ANPP)",
    "fentanyl-analogue": "fentanyl analogues",
    "synthetic-opioid": "novel synthetic opioids",
    "desalkylflurazepam": "N-desalkylflurazepam",
    "synthetic-cathinone": "synthetic cathinones",
    "hallucinogen": "hallucinogens",
}


def value_not_read_why(observation: Observation) -> str:
    """Why a result's value was not read (`Observation.value_not_read`, `Observation.flag_not_read`), as the results
    not judged name it: ", its value is 1,000,000 characters long, not read", else ""."""
    lengths = {"value": observation.value_not_read, "flag": observation.flag_not_read}
    why = [not_read_words(length, what) for what, length in lengths.items() if length is not None]
    return f", {'; '.join(why)}" if why else ""


def value_from_text(raw: str | None) -> Value | None:
    """A result's value (or a conclusion's) read from its words (`_value_as_written`), a confirmation's finding
    after its screen's ("Presumptive positive, confirmation negative") overriding it (`_confirmed_value`)."""
    said = _value_as_written(raw)
    if said is None or not raw or not _more_than_one_clause(raw):
        return said
    return _confirmed_value(raw) or said


def _value_as_written(raw: str | None) -> Value | None:
    """Negative prefixes are tested before positive ones, so "not detected" never reads as detected."""
    if not raw:
        return None
    lowered = raw.strip().lower()
    label, colon, rest = lowered.partition(":")
    for written in (lowered, rest) if colon and len(label) <= _LABEL_LONGEST else (lowered,):
        # the second reading is the result after the substance's name: "Opiates: NEGATIVE"
        written = _QUALIFIER.sub("", written.strip())
        if written.startswith(NEGATIVE_PREFIXES) or _BELOW_LIMIT.match(written):
            return "negative"
        if written.startswith(POSITIVE_PREFIXES) or _ABOVE_CUTOFF.match(written):
            return "positive"
    return None


def _value_from_codes(concept: Concept) -> Value | None:
    for coding in concept.codings:
        if coding.system == SNOMED and coding.code in POSITIVE_SNOMED:
            return "positive"
        if coding.system == SNOMED and coding.code in NEGATIVE_SNOMED:
            return "negative"
        if coding.system == LOINC and coding.code in POSITIVE_LOINC_ANSWERS:
            return "positive"
        if coding.system == LOINC and coding.code in NEGATIVE_LOINC_ANSWERS:
            return "negative"
        if coding.system == OBS_INTERPRETATION:
            flagged = _flag_value(coding.code)
            if flagged:
                return flagged
    return None


def _flag_value(code: str | None) -> Value | None:
    """An HL7 interpretation flag's reading ("pos" is POS: the codes are upper case, not every sender is)."""
    flag = (code or "").upper()
    if flag in POSITIVE_INTERPRETATION:
        return "positive"
    if flag in NEGATIVE_INTERPRETATION:
        return "negative"
    return None


def result_value(observation: Observation) -> Value:
    """Combine valueCodeableConcept, valueString, valueBoolean and interpretation: agreement wins, disagreement is
    indeterminate, silence is "none" (a test was still done). A value that says the test was not performed, with no
    reading of its own, is "none" whatever the flag says (`_lab_did_not_test`); one that says it read nothing
    ("Inconclusive") is never read by the lab system's default flag (`_flagged_beside_no_reading`); one too long to read
    (`Observation.value_not_read`), or whose flag is (`Observation.flag_not_read`), is "none", whatever else it
    sends."""
    if observation.value_not_read is not None or observation.flag_not_read is not None:
        return "none"  # not read: named with its length (`value_not_read_why`)
    answers: list[Value] = []
    if observation.value_concept is not None:
        coded = _value_from_codes(observation.value_concept) or _value_from_words(observation.value_concept)
        if coded:
            answers.append(coded)
    from_string = value_from_text(observation.value_string) or _written_limit(observation)
    if from_string:
        answers.append(from_string)
    if observation.value_boolean is not None:  # a presence test answered true or false
        answers.append("positive" if observation.value_boolean else "negative")
    if not answers and _not_performed(observation):
        # The value says what happened to the specimen; a flag beside it ("Specimen rejected" flagged N, as Epic
        # Beaker sends it) is the lab system's default, and read, an untested sample was a negative and a test done.
        return "none"
    if not answers and _says_no_reading(observation):
        return _flagged_beside_no_reading(observation)
    for concept in observation.interpretation:
        flagged = _value_from_flags(concept)
        if flagged:
            answers.append(flagged)
    if not answers:
        return _fit_for(observation, _against_cutoff(observation) or "none")
    return _fit_for(observation, answers[0] if len(set(answers)) == 1 else "indeterminate")


# A value whose words say the test read nothing (yet): "Inconclusive", "Indeterminate", "Equivocal", "Pending",
# "Result to follow", "See comment". Epic Beaker sends its default flag N beside them, as beside any value it does not
# flag: read by that flag, a test that read nothing was a negative (an "all clear", or an unexpected negative for a
# prescribed opioid).
_NO_READING = re.compile(
    r"\b(?:inconclusive|indeterminate|equivocal|pending|to\s+follow"
    r"|see\s+(?:the\s+)?(?:comments?|notes?|report|below|attached|interpretation))\b",
    re.IGNORECASE,
)


def _says_no_reading(observation: Observation) -> bool:
    """Whether a result's value says in words that the test read nothing (`_NO_READING`)."""
    return any(_NO_READING.search(words) for words in read_value_words(observation))


def _flagged_beside_no_reading(observation: Observation) -> Value:
    """A value that says it read nothing, by its flags: the lab system's default (`_default_flag`) is no reading, so
    "none", as with no flag; any other flag read (A, POS, H, NEG) disagrees with the value's own words, so
    "indeterminate": named either way, never judged, and a positive flag is not dropped in silence."""
    flags = [_value_from_flags(concept) for concept in observation.interpretation if not _default_flag(concept)]
    return "indeterminate" if any(flags) else "none"


def _default_flag(concept: Concept) -> bool:
    """Whether an interpretation is the lab system's default for a value it does not flag: the HL7 flag N alone, or
    "Normal" in words alone (a flag sent as its text)."""
    codes = {(c.code or "").upper() for c in concept.codings if c.code and c.system in (OBS_INTERPRETATION, None)}
    if codes:
        return codes == {"N"}
    return any(
        (words or "").strip().lower() == "normal" for words in (concept.text, *(c.display for c in concept.codings))
    )


def _fit_for(observation: Observation, value: Value) -> Value:
    """`value`, unless the result's words (its value's, its notes' `_NOTE_UNFIT`) say its specimen cannot show it
    (`_fit`), or it is a negative whose specimen's validity results say so (`specimen_unfit`): a drug found in the
    cup was in it, whatever its creatinine, so a positive stands."""
    if value not in ("negative", "positive"):
        return value
    value = _fit(value, [*read_value_words(observation), *_noted_unfit(observation)])
    return "none" if value == "negative" and observation.specimen_unfit else value


# A note beside a drug result ("Specimen dilute. Recollection recommended.") is read for these words only: its other
# words of `_UNFIT` are as often about another test ("Adulterant testing not performed").
_NOTE_UNFIT = frozenset({"dilute", "substituted"})


def _noted_unfit(observation: Observation) -> list[str]:
    """The words of `_NOTE_UNFIT` its notes say of its specimen (one the lab denies, "not dilute", is none), each note
    read to the part a conclusion is (`conclusion_read`; one read in part is named, `cut_notes`)."""
    if not observation.notes:
        return []
    return [word for word in _unfit_words([conclusion_read(n) for n in observation.notes]) if word in _NOTE_UNFIT]


def cut_notes(results: Iterable[UdsResult], written: Callable[[UdsResult], str]) -> tuple[str, ...]:
    """The results among `results` with a note (a lab comment) read only in part (`_noted_unfit`), each named with its
    date as `written` writes it (`unexpected_uds_result.date_written`, as every line naming a result does) and the
    note's length."""
    named = []
    for result in results:
        length = max(map(len, result.observation.notes), default=0)
        if length > CONCLUSION_READ_CHARACTERS:
            named.append(f"{result.name} ({written(result)}, {conclusion_cut_words(length, 'note')})")
    return tuple(dict.fromkeys(named))


def _said_unfit(observation: Observation) -> list[str]:
    """What a specimen validity result says of its specimen in words ("Dilute"), its value's or its notes'."""
    return [*_unfit_words(read_value_words(observation)), *_noted_unfit(observation)]


def _said_fit(observation: Observation) -> bool:
    """Whether a specimen validity result's value names a word of `_UNFIT` only to deny it ("Not dilute"): fit."""
    written = read_value_words(observation)
    return any(_UNFIT.search(words) for words in written) and not _unfit_words(written)


# A validity result's words, read as a drug result's are (`_fit`): "Dilute" is dilute, "Not dilute" fit.
_VALIDITY_WORDS = Words(_said_unfit, _said_fit)


def validity_of(observations: Iterable[Observation]) -> Validity:
    """What the specimen validity results among `observations` say of their specimens, by their words too
    (`_VALIDITY_WORDS`), read once: the verdicts the drug results of a record are read with (`uds_results`,
    `tests_done`), and the validity results not judged (`specimen_validity.read_validity`)."""
    return read_validity(observations, _VALIDITY_WORDS)


def specimen_verdicts_of(observations: Iterable[Observation]) -> SpecimenVerdicts:
    """The verdicts of `validity_of`, where no validity result not judged is named (`tests_done`)."""
    return validity_of(observations).verdicts


def _with_specimen_verdicts(observation: Observation, verdicts: SpecimenVerdicts) -> Observation:
    """The drug result with what its specimen's validity results say of it (`specimen_unfit`), when they find it
    unfit."""
    unfit = verdicts.of(observation)
    return replace(observation, specimen_unfit=unfit) if unfit else observation


def _fit(value: Value, written: Sequence[str]) -> Value:
    """`value`, unless the words (a result's value, a report's conclusion) say its specimen cannot show it
    (`_unfit_words`): then no reading, so that the test is named as unread, never judged. A positive stands when
    dilution is all the words say."""
    if value not in ("negative", "positive"):
        return value
    unfit = _unfit_words(written)
    if unfit and (value == "negative" or not POSITIVES_STAND.issuperset(unfit)):
        return "none"
    return value


def _unfit_words(written: Sequence[str]) -> list[str]:
    """Each word (of a result's value, a report's conclusion) saying its specimen is unfit (`_UNFIT`), lowercased, in
    order; one the lab denies, before it or after it (`_DENIED`, `_DENIED_AFTER`), is none. Every word is read:
    "Positive, dilute, invalid specimen" is invalid, not only dilute."""
    return [
        found.group(0).lower()
        for words in written
        for found in _UNFIT.finditer(words)
        if not _DENIED.search(words[: found.start()]) and not _DENIED_AFTER.match(words[found.end() :])
    ]


# `_UNFIT`'s words as the cards write why a specimen gave no result, by how each word begins.
_UNFIT_WHY = (
    ("dilute", "dilute specimen"),
    ("invalid", "invalid specimen"),
    ("adulter", "adulterated specimen"),
    ("substituted", "substituted specimen"),
)


NOT_PERFORMED = "test not performed"


def no_reading_why(value: Value, written: Sequence[str]) -> tuple[str, ...]:
    """Why a test that reads `value` gave no result, by the words of its value (a result's) or its conclusion (a lab
    report's; `report_words`): (NOT_PERFORMED,) when they say the lab did not test the sample ("TNP", "Specimen
    rejected"), else each reason its specimen could not show what the patient takes ("dilute specimen"), once; empty
    when it read positive or negative, or its words say neither. The one rule for results and reports with only a
    conclusion."""
    if value != "none":
        return ()
    if _says_not_performed(written):
        return (NOT_PERFORMED,)
    whys = (next(why for start, why in _UNFIT_WHY if word.startswith(start)) for word in _unfit_words(written))
    return tuple(dict.fromkeys(whys))


# Why a result carrying nothing of a result (`_bare`), and spoken for by no lab report, gave no result to read.
NO_VALUE = "no result value on record"
# The results (by `Observation.located`) a lab report speaks for (`results_spoken_for`), asked only of a bare result.
SpokenFor = Callable[[], Container[str]]


@dataclass(frozen=True)
class UnreadableTest:
    """A day's urine drug test that gave no result to read, its specimen unfit: its day, its date as the cards
    write it, and why ("dilute specimen")."""

    day: date
    when: str
    why: str


def unreadable_tests(
    results: Iterable[UdsResult], reports: Iterable[UnreadReport] = (), spoken_for: SpokenFor = frozenset
) -> tuple[UnreadableTest, ...]:
    """The dated tests (of `results`, and of `reports` with only a conclusion), newest first, whose specimen the lab
    says could not show what the patient takes (a dilute negative; an invalid, adulterated or substituted specimen:
    `_fit`), or whose results carry no value at all (`NO_VALUE`; `spoken_for`: those a lab report speaks for,
    `results_spoken_for`), and that read no substance positive or negative that day. Such a test informed nothing
    (Rec 10), so it is no year's test; one readable result of the day (a dilute positive) makes the day's test one."""
    readings: list[_Reading] = [(r.day, r.when, r.value, r.observation) for r in results]
    # A result a lab report's conclusion reads the test positive for: that positive is its day's reading.
    readings += [(r.day, r.when, "positive", r.observation) for r in results if r.read_by_conclusion]
    return _unreadable(readings + _report_readings(reports), spoken_for)


def _report_readings(reports: Iterable[UnreadReport]) -> list[_Reading]:
    """The tests of `reports` with only a conclusion, as `_unreadable` reads them: a report partly read is a test by
    its read results, and one whose status says the test is not done is no test."""
    return [(u.day, u.when, u.value, u.report) for u in reports if u.done and not u.partly]


# A test as `_unreadable` reads it: its day, its date as written (None: its day), its value, the result itself (or
# the lab report with only a conclusion).
_Reading = tuple[date | None, str | None, Value, Observation | DiagnosticReport]


def _unreadable(readings: Sequence[_Reading], spoken_for: SpokenFor) -> tuple[UnreadableTest, ...]:
    """`unreadable_tests` of results however they were read: the one rule the card, the plan page and the population
    review's annual-monitoring measure (`tests_done`) count the year's test by."""
    unfit: dict[date, list[str]] = {}
    written: dict[date, str] = {}
    for day, when, value, source in readings:
        if day is None or value != "none":
            continue  # only a dated test of no reading may be one whose specimen was unfit
        whys = _no_reading_of(value, source, spoken_for)
        if whys and whys != (NOT_PERFORMED,):
            unfit.setdefault(day, []).extend(whys)
            written.setdefault(day, when or iso_day(day))
    if not unfit:
        return ()  # the usual chart: the days read are only looked at when some day's specimen was unfit
    read = {day for day, _, value, _ in readings if value in ("positive", "negative")}
    days = sorted((day for day in unfit if day not in read), reverse=True)
    return tuple(UnreadableTest(day, written[day], _day_why(unfit[day])) for day in days)


def _day_why(whys: Sequence[str]) -> str:
    """Why a day's test could not be read, each reason once; "no result value on record" only when nothing of the day
    says more (an empty result beside its day's report concluding "Negative, dilute specimen" is a dilute specimen)."""
    said = [why for why in whys if why != NO_VALUE]
    return ", ".join(dict.fromkeys(said)) if said else NO_VALUE


# How labs report a test they did not do, with status final: Quest's "TNP" (test not performed), "QNS" (quantity
# not sufficient), a rejected or cancelled specimen. Read as a result of no value, it counted as the year's test done,
# and "Order a urine drug test" never showed for a patient whose only sample was never tested.
_NOT_PERFORMED = re.compile(
    r"^\s*(?:tnp|qns)\b|^\s*(?:test\s+)?not\s+(?:performed|done|tested)\b|quantity\s+not\s+sufficient"
    r"|insufficient\s+(?:specimen|sample|quantity|volume)|specimen\s+(?:rejected|unsatisfactory|not\s+received)"
    r"|^\s*rejected\b"
    r"|^\s*(?:test\s+)?cancel",
    re.IGNORECASE,
)


def tests_done(
    observations: Iterable[Observation],
    terms: Terminology,
    reports: Iterable[UnreadReport] = (),
    linked: Iterable[DiagnosticReport] = (),
) -> tuple[Observation, ...]:
    """The urine drug test results of tests the lab did and that could be read: a result's status (not registered,
    unknown or void), no value that says it was not performed ("TNP", "QNS") without a reading beside it, no more
    settled result of the same test and sample that says so (a result corrected to "Specimen rejected"), and no day's
    test whose specimen could not show what the patient takes (`unreadable_tests`, of these results and `reports`, the
    record's reports with only a conclusion, as the card reads them; a result a report of `linked` links is read with
    its conclusion, `_as_concluded`, as `uds_results` reads it). The population review counts the
    year's test by these, as the point of care counts the results it judges (`uds_results`) and the card the year's
    test. A panel's items (its components) are read as results of their own by the cards' rule (`_results_and_items`):
    read as a whole, a heading with no value whose items were all dilute negatives was a test here and none on the
    card."""
    done, withdrawn, values = [], [], {}
    concluded_positive: set[int] = set()  # results a report's conclusion reads the test positive for
    observations, linked = tuple(observations), tuple(linked)
    verdicts = specimen_verdicts_of(observations)
    concluded, contradictions = _conclusions_of(linked, observations, terms, verdicts)
    for observation, test in _results_and_items(observations, terms, True):
        if verdicts is not NO_VERDICTS:
            observation = _with_specimen_verdicts(observation, verdicts)
        value = result_value(observation)
        linking = concluded.get(observation.located or "") if concluded else None
        if linking:
            read, _ = _read_linked(observation, value, test, linking, contradictions)
            if read is None:
                withdrawn.append(observation)
                continue
            observation, value, read_positive = read
            if read_positive:
                concluded_positive.add(id(observation))
        if _lab_did_not_test(observation, value):
            withdrawn.append(observation)
        else:
            done.append(observation)
            values[id(observation)] = value
    # Only a withdrawal takes a test back here: a preliminary and its final are one test done either way.
    standing = _not_replaced(done, [_keyed(o) for o in done], map(_keyed, withdrawn)) if withdrawn else done
    readings: list[_Reading] = [(local_date(o.result_time), None, values[id(o)], o) for o in standing]
    # A conclusion that reads the test positive is its day's reading, as `unreadable_tests` reads it on the card.
    positive: list[_Reading] = [(day, None, "positive", o) for day, _, _, o in readings if id(o) in concluded_positive]
    spoken_for = cache(lambda: _spoken_for(linked, concluded, terms))  # asked only of a result with no value
    unreadable = {test.day for test in _unreadable(readings + positive + _report_readings(reports), spoken_for)}
    if not unreadable:
        return tuple(standing)
    return tuple(o for (day, *_), o in zip(readings, standing, strict=True) if day not in unreadable)


def _lab_did_not_test(observation: Observation, value: Value) -> bool:
    """No reading, and a value that says the test was not performed ("TNP", "QNS"): a reading beside such a note
    ("Negative; quantity not sufficient for confirmation") is still a test done (`no_reading_why`'s first rule)."""
    return value == "none" and _not_performed(observation)


def _not_performed(observation: Observation) -> bool:
    """Whether a result's value says the test was not done (its text, or its coded answer's words), or its reasons a
    value is absent do (`_absent_reasons`, `ABSENT_NOT_PERFORMED`)."""
    if _says_not_performed(read_value_words(observation)):
        return True
    return (observation.data_absent or bool(observation.components)) and all(
        reason in ABSENT_NOT_PERFORMED for reason in _absent_reasons(observation)
    )


def _absent_reasons(observation: Observation) -> tuple[str | None, ...]:
    """Why a result's value is absent: its own reason's code, else, for a panel of analytes with none of its own, each
    drug analyte's (Epic sends a per-analyte panel so; a panel each of whose drug analytes was not performed was not
    performed). None where nothing says. Its specimen validity checks (`validity_test`: creatinine, pH) are no drug
    tested: read among them, a panel whose every drug was "not-performed" counted as the year's test by its
    creatinine's value alone."""
    if observation.data_absent or not observation.components:
        return (observation.data_absent_reason,)
    reasons = tuple(component.data_absent_reason for component in observation.components)
    if None not in reasons or not any(reasons):
        return reasons  # the usual panel: every analyte read, or every one with a reason
    return tuple(component.data_absent_reason for component in _drug_analytes(observation))


def _drug_analytes(observation: Observation) -> tuple[Component, ...]:
    """A panel's analytes but its specimen validity checks (`validity_test`: creatinine, pH), which test no drug; all
    of them when it holds no other. Asked only of a panel some of whose analytes carry a reason a value is absent."""
    # Asked of each component's code alone: a copy of the whole result per component cost more than the test.
    drugs = tuple(c for c in observation.components if validity_test(c.code) is None)
    return drugs or observation.components


# FHIR's data-absent-reason codes (`guideline.data_absent`, the one reading) as a urine drug test sent with no value
# reads them: `ABSENT_NOT_PERFORMED`, no sample tested, no test, as "TNP" is (`_not_performed`); `ABSENT_UNREADABLE`,
# a test that could not be read (`unreadable_tests`), in its words; `ABSENT_TO_COME`, a test awaiting its result
# (`awaits_its_value`), as a preliminary result with no value is (counted, it kept the year's test done and the card
# quiet on a result to come). The others (masked, as-text, not-permitted, unsupported, off the scale): a test done.


def _says_not_performed(written: Iterable[str]) -> bool:
    """Whether the words say the test was not done ("TNP", "QNS", "Specimen rejected", "Cancelled")."""
    return any(_NOT_PERFORMED.search(words) for words in written)


def result_no_reading(result: UdsResult, spoken_for: SpokenFor = frozenset) -> tuple[str, ...]:
    """Why a result read no value (`_no_reading_of`: "dilute specimen", `NO_VALUE`), as a lab report's row gives it
    (`UnreadReport.no_reading`); empty when it read one, or nothing says why."""
    return _no_reading_of(result.value, result.observation, spoken_for)


def _no_reading_of(value: Value, source: Observation | DiagnosticReport, spoken_for: SpokenFor) -> tuple[str, ...]:
    """Why a test that reads `value` gave no result: by its words (`no_reading_why`), else, for a result with nothing
    of a result on record (`_bare`) that no lab report speaks for (`spoken_for`), `NO_VALUE`: a final screen sent
    with its name and times alone counted as the year's test, though the record carries no result of it; so did a
    settled lab report with nothing reported (`_report_bare`)."""
    whys = no_reading_why(value, _words_of(source))
    if whys or value != "none":
        return whys
    if isinstance(source, DiagnosticReport):
        return (NO_VALUE,) if _report_bare(source) else ()
    # a value still to come, beside a panel's analytes read (a panel all to come awaits it: `awaits_its_value`)
    absent = absent_said(source.data_absent_reason)
    if absent:
        return (absent,)
    if not _bare(source):
        return ()
    return () if (source.located or "") in spoken_for() else (NO_VALUE,)


def _bare(observation: Observation) -> bool:
    """A result with nothing of a result on record (`_carries_no_value`) that is no panel heading: a heading's results
    are its members, read (or named as not received) on their own."""
    return not observation.has_members and _carries_no_value(observation)


def results_spoken_for(record: PatientRecord, terms: Terminology) -> frozenset[str]:
    """The results (by `Observation.located`) a urine drug test report done speaks for (`_spoken_for`)."""
    reports = record.diagnostic_reports
    if not reports:
        return frozenset()
    concluded, _ = _conclusions_of(reports, record.observations, terms)
    return _spoken_for(reports, concluded, terms)


def _spoken_for(reports: Iterable[DiagnosticReport], concluded: Iterable[str], terms: Terminology) -> frozenset[str]:
    """The results a urine drug test report done says something of: those whose reports conclude something
    (`linked_conclusions`, a linked panel heading's members too), and those linked by a report sent as a document
    (its results perhaps only there). Quest and Labcorp send an empty screen result and say what it found there: a
    result with no value of its own is read by that report, never as one with no result on record."""
    documented = [
        ref
        for report in reports
        if report.document and report.status in REPORT_DONE_STATUSES and is_drug_test_code(report.code, terms)
        for ref in report.results
    ]
    return frozenset([*concluded, *documented])


def _words_of(source: Observation | DiagnosticReport) -> list[str]:
    """What a test says in words: a result's value (`Observation.value_words`), its notes' `_NOTE_UNFIT` and its
    specimen's validity verdict (`specimen_unfit`), or a report's conclusion (`report_words`)."""
    if isinstance(source, Observation):
        return [*read_value_words(source), *_noted_unfit(source), *source.specimen_unfit]
    return report_words(source)


def report_words(report: DiagnosticReport) -> list[str]:
    """What a report with only a conclusion says in words: its conclusion, and its coded conclusions' text and names,
    each to the part of it read (`conclusion_read`: a conclusion far longer than a report's is read in part, and named
    so, `cut_conclusions`, `_report_reading`)."""
    written = [report.conclusion]
    for concept in report.conclusion_codes:
        written += [concept.text, *(c.display for c in concept.codings)]
    return [conclusion_read(words) for words in written if words]


def report_value(report: DiagnosticReport) -> Value:
    """What a report's conclusion reads as, as a result's value is read (`_fit`), only to tell whether the test could
    be read: never a result per substance (clinical-logic.md, *Lab reports*)."""
    conclusion = conclusion_read(report.conclusion) if report.conclusion else None
    answers = [found for found in [value_from_text(conclusion)] if found]
    for concept in report.conclusion_codes:
        found = _value_from_codes(concept) or _value_from_words(concept)
        if found:
            answers.append(found)
    if not answers:
        return "none"
    return _fit(answers[0] if len(set(answers)) == 1 else "indeterminate", report_words(report))


def linked_conclusions(
    reports: Iterable[DiagnosticReport], observations: Iterable[Observation], terms: Terminology
) -> dict[str, tuple[DiagnosticReport, ...]]:
    """The urine drug test reports done that conclude something and stand (`_standing_reports`) by each result they
    link in their `result` list (`Observation.located`), and each member of a panel heading they link (R4
    `hasMember`): how Quest, Labcorp and Epic Beaker send why a result reads nothing. A result is often linked by more
    than one report (a preliminary and its final, an amended report, an HIE's copy)."""
    linking: dict[str, list[DiagnosticReport]] = {}
    for report in reports:
        if report.results and report.status in REPORT_DONE_STATUSES and is_drug_test_code(report.code, terms):
            for ref in dict.fromkeys(report.results):
                linking.setdefault(ref, []).append(report)
    if not linking:
        return {}
    for heading in observations:
        found = linking.get(heading.located or "") if heading.member_ids else None
        for ref in heading.member_ids if found else ():
            members = linking.setdefault(ref, [])
            members += [report for report in found or () if not any(report is m for m in members)]
    # Of the reports that conclude something: a later one that says nothing (an interface that dropped the
    # preliminary's comment from the final) takes nothing back.
    concluding = {ref: [report for report in found if report_words(report)] for ref, found in linking.items()}
    return {ref: _standing_reports(found) for ref, found in concluding.items() if found}


def _standing_reports(reports: Sequence[DiagnosticReport]) -> tuple[DiagnosticReport, ...]:
    """The reports of one result that no other replaces: the most settled (final, amended, corrected or appended over
    preliminary, as for results, `_SETTLED`), and of those the latest issued. Reports equally settled and issued
    together, or with no issued time to tell them apart (the lab's and an HIE's copy), all stand: nothing says which
    does. A preliminary's conclusion read over its final's hid the final's "dilute specimen", or kept the
    preliminary's after the final took it back."""
    if len(reports) == 1:
        return tuple(reports)
    best = max(map(_report_settled, reports))
    settled = [report for report in reports if _report_settled(report) == best]
    issued = [report.issued for report in settled if report.issued is not None]
    latest = max(issued) if issued else None
    return tuple(report for report in settled if report.issued is None or report.issued == latest)


def _report_settled(report: DiagnosticReport) -> int:
    """How settled a report is, as a result of its status is (`_SETTLED`): R4's appended is an amended report."""
    return _SETTLED.get("amended" if report.status == "appended" else report.status or "", 2)


def _said_of_specimen(report: DiagnosticReport) -> frozenset[str]:
    """What a report's conclusion says of its specimen, by the one reading of a conclusion (`no_reading_why`): the
    test not performed, or each reason it could not show what the patient takes; empty when it says neither."""
    return frozenset(no_reading_why("none", report_words(report)))


# A linked result as its reports' conclusions read it: the result, its value, and whether the conclusion reads the
# test positive while the result's own value is left unread (`_as_concluded_by`).
_Concluded = tuple[Observation, Value, bool]


def _as_concluded(
    observation: Observation, value: Value, reports: Sequence[DiagnosticReport], contradicted: bool = False
) -> _Concluded | None:
    """A linked result as the reports that stand for it (`linked_conclusions`) say of its specimen
    (`_as_concluded_by`); when they conclude differently, the most cautious reading (`_caution`), since nothing says
    which report stands (the disagreement is named: `unread_drug_test_reports`). A negative a report's conclusion
    says was found (`contradicted`, `report_contradictions`) is read by the same rule, the conclusion's reading of it
    weighed as a second report's would be: left unread beside a conclusion that reads the test positive, so it is no
    unexpected negative and its day's test was read. None: the lab did not test it."""
    if len(reports) == 1 and not contradicted:
        return _as_concluded_by(observation, value, reports[0])
    readings = [_as_concluded_by(observation, value, report) for report in reports]
    if contradicted and value == "negative":
        readings.append((observation, "none", True))
    return max(readings, key=_caution)


def _read_linked(
    observation: Observation,
    value: Value,
    test: _Test,
    reports: Sequence[DiagnosticReport],
    contradictions: Mapping[int, Sequence[Contradiction]],
) -> tuple[_Concluded | None, bool]:
    """A linked result as the reports standing for it read it (`_as_concluded`), and whether it is a negative one of
    them says was found (`_contradicting`): the one reading of a linked result, for the cards (`uds_results`) and the
    population review (`tests_done`)."""
    contradicted = value == "negative" and _contradicting(reports, test, contradictions, "negative") is not None
    return _as_concluded(observation, value, reports, contradicted), contradicted


def _caution(reading: _Concluded | None) -> tuple[int, int, bool]:
    """How cautious a reading of a linked result is: no test at all, then a result left unread (the more reasons
    named, the more cautious), then one read as it says; of two otherwise alike, one whose conclusion does not read
    the test positive."""
    if reading is None:
        return 2, 0, True
    observation, value, read_positive = reading
    return int(value == "none"), len(observation.specimen_unfit), not read_positive


def _as_concluded_by(observation: Observation, value: Value, report: DiagnosticReport) -> _Concluded | None:
    """A linked result as its report's conclusion says of its specimen. One that reads nothing ("Indeterminate", no
    value, "See report") is no test when the conclusion, read as an unlinked report's (`no_reading_why`), says the lab
    did not test the sample ("Specimen rejected": None), and takes why when it says the test could not be read
    ("Negative, dilute specimen"); a negative is unread when the conclusion says its specimen was dilute, invalid,
    adulterated or substituted, as its specimen's validity result would make it (`specimen_unfit`); a positive keeps
    its reading (a drug found was in the cup). A result so left unread beside a conclusion that reads the test
    positive ("Positive for oxycodone, dilute specimen": a test read by the one reading of a conclusion,
    `report_value`, as an unlinked report's is) says so: the conclusion's positive is its day's reading
    (`unreadable_tests`), never a result per substance."""
    words = report_words(report)
    if value == "none":
        whys = no_reading_why(report_value(report), words)
        if whys == (NOT_PERFORMED,):
            return None
        unfit = _unfit_words(words) if whys else []
    else:
        unfit = _unfit_words(words) if value == "negative" else []
    if unfit:
        observation = replace(observation, specimen_unfit=tuple(dict.fromkeys((*observation.specimen_unfit, *unfit))))
    elif value != "none":
        return observation, value, False
    return observation, "none", _reads_positive(report)


# Where a conclusion's words pass from one statement to the next: "Positive for fentanyl. Negative for oxycodone.",
# "Oxycodone detected but fentanyl not detected". A point before a digit is a decimal point, no full stop: "Fentanyl
# 0.5 ng/mL (positive)" is one statement (split there, its "positive" was said of no drug); so is the point of "conf."
# before its finding ("Oxycodone screen POS, conf. NEG": `_CONFIRM_WORDS`).
_NO_FULL_STOP = rf"\.(?=\d)|(?<=\bconf)\.(?=[\s:\-–]+{_CONFIRMED_FINDING})"
_SENTENCES = re.compile(rf"(?!{_NO_FULL_STOP})\.|[;\n]|\b(?:but|however|while)\b", re.IGNORECASE)
# Within a statement, a comma ends a group of drugs joined by "and": "Positive for oxycodone and oxymorphone, fentanyl
# not detected" says oxymorphone was found; "Negative for fentanyl, oxycodone and metabolites detected" that
# oxycodone was. "&" and "with" join as "and" does: labs write "Oxycodone & metabolites detected" and "Oxycodone
# with metabolites detected" for Quest's "Oxycodone and metabolites detected".
_GROUPS = re.compile(r",")
_JOINED = re.compile(r"\band\b|&|\bwith\b", re.IGNORECASE)
# "All negative except oxycodone": what follows says the opposite of what came before. "Other than", "besides",
# "apart from" and "aside from" except as "except" does ("No drugs detected other than oxycodone"): before, what
# followed them was read as the statement's own finding, and the oxycodone a lab says it found was read as not found.
_EXCEPT = re.compile(r"\b(?:except(?:\s+for)?|other\s+than|besides|apart\s+from|aside\s+from)\b", re.IGNORECASE)
# A statement that says nothing was found of every drug but those it excepts, its finding written after them ("No
# drugs other than oxycodone detected", "Nothing other than prescribed oxycodone found", "All drugs other than
# oxycodone negative"), or its exception first ("Except for oxycodone, all drugs negative"): read with the finding
# first and the exception after it (`_finding_first`), as "except" is read.
_STATEMENT = re.compile(rf"(?:[^.;\n]|{_NO_FULL_STOP})+", re.IGNORECASE)  # a statement as `_SENTENCES` ends it
_PRESCRIBED = re.compile(r"\bprescri(?:bed|ption)", re.IGNORECASE)
# "All other drugs negative", "No other drugs detected", "Negative: all other analytes": said of every drug but those
# named before it, which "other" sets apart from it (`_ConclusionReader.except_waiting`).
_EVERY_OTHER = re.compile(
    r"^\s*+(?:(?:negative|not\s++detected)[\s:\-–]*+(?:for\s++)?)?(?:all|no)\s++others?\b", re.IGNORECASE
)
_OF_EVERY_DRUG = re.compile(r"^\s*(?:all|no|nothing|none)\b", re.IGNORECASE)
_THEN_EVERY_DRUG = re.compile(r",\s*(?:all|no|nothing|none)\b", re.IGNORECASE)
_FINDING = re.compile(
    r"\b(?:not\s+detected|not\s+present|detected|found|identified|present|negative|absent"
    r"|(?:below|above)\s+(?:the\s+)?cut-?off)\b",
    re.IGNORECASE,
)
# Any word of a finding, read or not: a clause naming no drug with one is a finding of what PainPlan does not read.
_FINDING_WORD = re.compile(rf"{_FINDING.pattern}|\bpositive\b", re.IGNORECASE)
# Words that say nothing was found of any drug tested, though they begin with no finding: "All drugs negative",
# "All other drugs negative", "All drugs absent", "No drugs detected", "No drugs of abuse detected" (found,
# identified, present). "Negative: all other analytes" and "All analytes below cutoff" (Beaker) say so too.
# Anchored at the clause's start on "All" or "No": "absent" after a drug ("Oxycodone present, fentanyl absent")
# is said of that drug only. Before, "All drugs absent" and "No drugs of abuse found" were read as saying nothing,
# and a positive the lab's summary denies was judged with nothing said of it.
_NOTHING_FOUND = re.compile(
    r"^\s*(?:all\b[\w\s]*?\b(?:negative|not\s+detected|absent|not\s+present|below\s+(?:the\s+)?cut-?off)"
    r"|(?:negative|not\s+detected)[\s:\-–]*(?:for\s+)?all\b"
    r"|no\s+(?:other\s+)?(?:drugs?|substances?|analytes?)\b[\w\s]*?\b(?:detected|found|identified|present))\b",
    re.IGNORECASE,
)
# A finding in brackets after a drug ("Oxycodone (negative) fentanyl (positive)", "Fentanyl (POS)") ends what is
# said of that drug, as a full stop would; a bracket that is no finding ("(prescribed)") is left as written.
_BRACKETED = re.compile(r"(?<!\s)\s*+\(([^()]*)\)")  # from a run of spaces' first only: tried from each, slow
# An amount the lab measured, with its unit, as pain-management labs (Aegis, Dominion, Millennium) write it between a
# drug and its finding: "Oxycodone >1000 ng/mL (positive)", "Fentanyl <1 ng/mL negative", "Oxycodone (250 ng/mL)
# detected" (a thousands separator read by `commas_read` first: "1,250 ng/mL"), and the cutoff printed in brackets
# beside it, an amount too ("Oxycodone 250 ng/mL (cutoff 100 ng/mL) positive", "(cut-off: 0.5 ng/mL)"). It is no
# finding: what the clause says is read after it (`_said_after_names`); before, the amount hid the finding and nothing
# was read. Each amount is atomic and possessive: a long run of them is read once, never retried from each character.
_AMOUNT_COMPARATOR = r"[<>≤≥]=?"
_AMOUNT_DIGITS = r"\d++(?:\.\d++)?|\.\d++"
_AMOUNT_NUMBER = rf"(?:{_AMOUNT_COMPARATOR}\s*+)?(?:{_AMOUNT_DIGITS})"
_AMOUNT_NUMBER_READ = rf"(?:({_AMOUNT_COMPARATOR})\s*+)?({_AMOUNT_DIGITS})"  # its comparator and its digits, each read
_AMOUNT_UNIT = r"\s*+(?:ng|pg|mcg|µg|μg|ug|mg)\s*+/\s*+(?:ml|dl|l|mg)\b"


def _cutoff_printed(number: str, unit: str) -> str:
    """The pattern of a cutoff printed in brackets ("(cutoff 100 ng/mL)", "(cut-off: 0.5 ng/mL)"), with its number's
    and its unit's (which may be left out): `_AMOUNT` reads past it, `_CUTOFF` reads it."""
    return rf"\(\s*+cut[\s-]?off(?:\s++(?:level|value))?\s*+[:=]?\s*+(?:of\s++)?{number}{unit}?\s*+\)"


# No group is read in `_AMOUNT` itself: Python's re cannot report a group's span inside its atomic, possessive run.
_AMOUNT = re.compile(
    rf"^(?>(?:\(?\s*+{_AMOUNT_NUMBER}{_AMOUNT_UNIT}\s*+\)?|{_cutoff_printed(_AMOUNT_NUMBER, f'(?:{_AMOUNT_UNIT})')})"
    r"[\s:=\-–]*+)++",
    re.IGNORECASE,
)
# a cutoff's comparator, digits and unit
_CUTOFF = re.compile(_cutoff_printed(_AMOUNT_NUMBER_READ, f"({_AMOUNT_UNIT})"), re.IGNORECASE)
_AMOUNT_READ = re.compile(rf"{_AMOUNT_NUMBER_READ}({_AMOUNT_UNIT})", re.IGNORECASE)  # comparator, digits and unit
_COMPARATORS = {"≤": "<=", "≥": ">="}  # as `_beside_cutoff` reads them
# An amount measured, as `_AMOUNT` reads one: above nothing the lab writes "<" or "≤" before ("<0.5 ng/mL" is under
# what it reports), and more than none.
_MEASURED = re.compile(r"^\(?\s*+(?:>=?\s*+|≥\s*+)?(\d++(?:\.\d++)?|\.\d++)")


def _measured(amounts: str) -> bool:
    """Whether the amounts after a drug (`_AMOUNT`'s match) begin, past any cutoff printed before them, with one
    measured (`_MEASURED`): "250 ng/mL", ">1000 ng/mL", "(cutoff 100 ng/mL): 250 ng/mL"; not "<0.5 ng/mL", "0 ng/mL",
    nor a cutoff alone ("(cutoff 100 ng/mL)"). Before, a cutoff printed first was taken for the amount: not measured."""
    number = _MEASURED.match(_CUTOFF.sub("", amounts).lstrip(" :=-–"))
    return number is not None and Decimal(number[1]) > 0


def _against_printed_cutoff(amounts: str) -> Value | None:
    """What the amounts after a drug (`_AMOUNT`'s match) say against the cutoff printed beside them ("250 ng/mL
    (cutoff 100 ng/mL)": positive, "80 ng/mL (cutoff 100 ng/mL)" or "<0.5 ng/mL (cut-off: 0.5 ng/mL)": negative):
    at or above it found, below it not (`_beside_cutoff`). None when that is not sure: no cutoff, more than one amount
    or cutoff, a cutoff printed without its unit or in another unit (no conversion is attempted), or a bound on both
    sides of it ("<150 ng/mL" against 100 ng/mL)."""
    cutoffs = _CUTOFF.findall(amounts)
    measured = _AMOUNT_READ.findall(_CUTOFF.sub("", amounts))
    if len(cutoffs) != 1 or len(measured) != 1:
        return None
    (cutoff_comparator, cutoff, cutoff_unit), (comparator, amount, unit) = cutoffs[0], measured[0]
    # "(cutoff <100 ng/mL)" is no cutoff to weigh by
    if cutoff_comparator or not cutoff_unit or _other_units(unit, cutoff_unit):
        return None
    return _beside_cutoff(_COMPARATORS.get(comparator, comparator), Decimal(amount), Decimal(cutoff), True)


def _unsettled(amounts: str) -> bool:
    """Whether the amounts after a drug (`_AMOUNT`'s match) hold an amount and a cutoff printed beside it that does
    not settle whether it was found (`_against_printed_cutoff`: "<150 ng/mL (cutoff 100 ng/mL)", "0.3 ng/mL (cutoff
    0.5)"). Under what the lab reports with no cutoff printed ("<0.5 ng/mL") is no doubt; beside a cutoff it cannot
    settle, it may be either, as a measured amount is (`_measured`)."""
    if not _CUTOFF.search(amounts) or not _AMOUNT_READ.search(_CUTOFF.sub("", amounts)):
        return False
    return _against_printed_cutoff(amounts) is None


# A pain-management lab's judgement before its finding ("Unexpected positive for fentanyl", "Expected: oxycodone
# detected") says how the finding compares with the medication list, not what was found.
_JUDGED = re.compile(r"^\s*(?:un)?expected\b[\s:]*", re.IGNORECASE)
# The test named before its finding ("Urine drug screen positive for oxycodone", "UDS negative for fentanyl", "Urine
# drug test: positive for oxycodone"): read as the finding alone, "screen" kept as a screen's (`_SCREEN_WORDS`). Read
# as the name of a drug PainPlan does not know, it read nothing, and a linked negative was judged against it.
_TEST_NAMED = re.compile(
    r"^\s*(?:urine\s+)?(?:drugs?\s+(?:of\s+abuse\s+)?(?=screen)|(?:drugs?\s+test|UDS)\b[\s:,\-–]*)", re.I
)


# A finding said of something named after "for" ("Positive for gabapentin"): when the clause names no drug PainPlan
# reads, it says nothing of them, and is no bare "Positive" said of the report's results. Never so of every drug
# ("Negative for all drugs tested", "Positive for the following:").
_SAID_OF_ANOTHER = re.compile(
    r"\b(?:positive|negative|detected)\s+for\s+(?!(?:all|any|the|following|drugs?|substances?|analytes?)\b)\w",
    re.IGNORECASE,
)
# A clause that begins by denying what it names: "No oxycodone detected".
_DENIED_FIRST = re.compile(r"^\s*(?:no|not|non|neither)\b", re.IGNORECASE)
# A definitive (confirmation) result's words before its finding: "confirmation negative", "confirmed by GC-MS: not
# detected", "confirmatory testing negative", "LC-MS/MS negative". Its finding overrides the presumptive screen's.
# The methods a lab names: a definitive one (mass spectrometry) and the screening immunoassays; one list each, so the
# words that read a finding as a confirmation's, a screen's, or a method written before it (`_METHOD_FIRST`) agree.
_MASS_SPEC = r"(?:LC|GC)-?MS(?:/MS)?"
# ELISA is a screening immunoassay as EIA is: listed apart, it was read past before a finding but its finding was no
# screen's, so "Oxycodone ELISA positive. Oxycodone LC-MS/MS negative." read both ways, the lab's negative unjudged.
_SCREEN_METHODS = r"immunoassays?|EIA|ELISA|EMIT|CEDIA"
_CONFIRMATION = re.compile(
    rf"^\s*(?:(?:{_CONFIRM_WORDS}(?:\s+(?:test(?:ing)?|results?)\b)?|(?:by|{_MASS_SPEC})\b)[\s:,\-–]*)+",
    re.IGNORECASE,
)
# ... or the method after its finding: "negative by LC-MS/MS", "not detected by GC-MS", "negative on confirmation".
_CONFIRMED_BY = re.compile(rf"\b(?:by|on|via)\s+(?:{_MASS_SPEC}\b|{_CONFIRM_WORDS})", re.IGNORECASE)
_DEFINITIVE = re.compile(rf"\bconf|{_MASS_SPEC}", re.IGNORECASE)  # what makes `_CONFIRMATION`'s words one
# A finding written as a screen's: its words (`_SCREEN_WORDS`) or a screening method in the clause of its finding
# ("Oxycodone by immunoassay: positive", "Oxycodone positive by EIA"). Only such a finding gives way to a confirmation
# of its drug (`_screens_overridden`): any other beside one that disagrees is the lab saying both. A method between
# the drug and its finding ("Oxycodone EIA positive") is read past (`_METHOD_FIRST`).
_SCREENED = re.compile(rf"\b(?:{_SCREEN_WORDS}|{_SCREEN_METHODS})\b", re.IGNORECASE)
_OPPOSITE: dict[Value | None, Value] = {"positive": "negative", "negative": "positive"}


# Two findings a lab writes with no break between them, each a statement of its own (`_parted`): a confirmation's right
# after a finding ("Oxycodone screen positive confirmation negative", "screen POS / confirm NEG", "Screen positive -
# LC-MS/MS negative"), and the cells of a one-line report, "label: finding" each, two or more spaces before the next
# label (Epic Beaker: "OXYCODONE SCREEN: POSITIVE  OXYCODONE CONFIRMATION: NEGATIVE"). Read as one clause, the first
# finding was read alone: the screen's "positive" stood over the lab's confirmed negative, and "Oxycodone: POSITIVE
# Fentanyl: NEGATIVE" read fentanyl found. A method after a finding with no finding of its own ("positive confirmed by
# LC-MS/MS") and a run of spaces with no label after it ("Detected:  oxycodone  oxymorphone") part nothing.
_CONFIRMATION_AFTER_FINDING = re.compile(
    rf"\b({_CONFIRMED_FINDING})\s*+[-–/]?\s*+"
    rf"(?=(?:{_CONFIRM_WORDS}|{_MASS_SPEC})(?:[\s:,\-–]+(?:by|{_MASS_SPEC}))*[\s:,\-–]+{_CONFIRMED_FINDING})",
    re.IGNORECASE,
)
_NEXT_CELL = re.compile(rf":([^:.;\n]*?\S)[ \t]{{2,}}(?=[^\s:.;\n][^:.;\n]{{0,{_LABEL_LONGEST}}}:)")


def _parted(words: str) -> str:
    """The words with each pair of findings written with no break between them (`_CONFIRMATION_AFTER_FINDING`,
    `_NEXT_CELL`) parted as two statements."""
    return _NEXT_CELL.sub(r":\1; ", _CONFIRMATION_AFTER_FINDING.sub(r"\1; ", words))


def _is_confirmation(clause: str) -> bool:
    """Whether a clause gives a definitive result's finding: after its words (`_CONFIRMATION`) or before its method
    (`_CONFIRMED_BY`), and not of a drug PainPlan does not read (`_SAID_OF_ANOTHER`)."""
    confirming = _CONFIRMATION.match(clause) or _CONFIRMED_BY.search(clause)
    return bool(confirming) and not _SAID_OF_ANOTHER.search(clause)


def _confirms(clause: str) -> bool:
    """Whether a clause naming drugs gives a definitive result's finding of them: its confirmation's words before the
    drugs or right after them ("Confirmed negative: oxycodone", "Oxycodone confirmation negative": `_CONFIRMATION`),
    or its method after its finding ("oxycodone negative by LC-MS/MS": `_CONFIRMED_BY`)."""
    after = words_after_substances(clause) or ""
    confirming = _CONFIRMATION.match(clause) or _CONFIRMATION.match(after)
    # "by" alone is no confirmation: "Oxycodone by immunoassay: positive" is a screen's finding
    return bool(confirming and _DEFINITIVE.search(confirming[0])) or _CONFIRMED_BY.search(clause) is not None


def _clause_said(clause: str) -> Value | None:
    """What one clause of a conclusion says was found: read as a result's value words are (`_value_as_written`:
    "Positive for oxycodone", "OXYCODONE: POSITIVE", "Unexpected positive for fentanyl": `_JUDGED`; a confirmation
    after a screen spans clauses, read across them by `_confirmed`), else of every drug ("All drugs
    negative"), else after the drugs it names ("Oxycodone detected", "Opiates presumptive positive", "Fentanyl not
    detected", "No oxycodone detected"), and after a confirmation's words ("LC-MS/MS negative": `_CONFIRMATION`)."""
    said = _value_as_written(_CONFIRMATION.sub("", _JUDGED.sub("", _TEST_NAMED.sub("", clause, count=1))))
    if said is None and _NOTHING_FOUND.match(clause):
        return "negative"
    if said is None and (after := _said_after_names(clause)):
        return "negative" if after == "positive" and _DENIED_FIRST.match(clause) else after
    return said


def _said_after_names(clause: str) -> Value | None:
    """What a clause says after the drugs it names ("Oxycodone detected") or the metabolite words it begins with
    ("metabolites detected"), and after an amount there ("Oxycodone >1000 ng/mL positive": `_AMOUNT`): a finding
    written after what it is said of, which closes a list of drugs named bare before it ("Oxycodone and metabolites
    detected")."""
    after = words_after_substances(clause)
    said = words_after_metabolites(clause) if after is None else after
    return _value_as_written(_AMOUNT.sub("", _METHOD_FIRST.sub("", said, count=1), count=1)) if said else None


# A test's method written between the drug and its finding ("Oxycodone EIA positive", "Oxycodone by immunoassay
# positive", "Oxycodone LC-MS/MS negative"): the finding is after it. Whether the finding is a screen's or a
# confirmation's is read from the same words (`_SCREENED`, `_confirms`). Read as part of the finding, it hid it: the
# conclusion read nothing, and a linked negative was judged against the lab's own "positive".
_METHOD_FIRST = re.compile(
    rf"^\s*(?:by\s+)?\(?(?:{_SCREEN_METHODS}|{_MASS_SPEC})\)?(?=[\s:,\-–]|$)[\s:,\-–]*",
    re.IGNORECASE,
)


def _denies_bare(clause: str) -> bool:
    """Whether a clause denies the drugs it names and says nothing after them ("not fentanyl", "not for fentanyl")."""
    return bool(_DENIED_FIRST.match(clause)) and not words_after_substances(clause)


# Rewritten before `_readings` reads them, not read in this order by the reader itself: it reads left to right, a
# finding said of the drugs before it and, past "except", the opposite of the drugs after it, and a part after an
# exception runs on across statements. Read as written, "No drugs other than oxycodone detected" would have the reader
# look past the exception for the finding of the words before it and hold the excepted drugs until then, a second
# order of reading beside the one rule for "except"; moved, it is read by that rule, and a statement excepting what
# was prescribed is gone before the words are split at "except".
def _finding_first(words: str) -> str:
    """The words with each statement's finding of every drug written after its exception moved before it (`_FINDING`:
    "No drugs other than oxycodone detected" is read as "No drugs detected other than oxycodone")."""
    return _STATEMENT.sub(_statement_finding_first, words)


def _statement_finding_first(statement: re.Match[str]) -> str:
    """One statement with its finding before its exception, the exception ended there when words follow the finding
    ("No drugs other than oxycodone detected, fentanyl negative": "No drugs detected other than oxycodone;, fentanyl
    negative"), when it speaks of every drug and finds nothing before it, or begins with its exception ("Other than
    oxycodone, no drugs detected": `_exception_last`)."""
    words = statement[0]
    exception = _EXCEPT.search(words)
    if exception and _excepts_what_was_prescribed(words, exception):
        return ""
    if exception and not words[: exception.start()].strip():
        return _exception_last(words, exception)
    if not exception or not _OF_EVERY_DRUG.match(words) or _FINDING.search(words, 0, exception.start()):
        return words
    finding = _FINDING.search(words, exception.end())
    if not finding:
        return words
    excepted, after = words[exception.start() : finding.start()], words[finding.end() :]
    # The finding closes the exception as written: what follows it ("..., fentanyl negative") is no drug excepted, so
    # the exception ends where the finding stood, as a statement does.
    return f"{words[: exception.start()]}{finding[0]} {excepted}{';' if after.strip() else ''}{after}"


def _excepts_what_was_prescribed(words: str, exception: re.Match[str]) -> bool:
    """Whether a statement excepts what was prescribed and names no drug ("No drugs other than those prescribed
    detected", "All drugs negative except prescribed medications"): the lab judged it against a medication list
    PainPlan does not see, so it says nothing of any drug PainPlan can name, and it is read as saying nothing. Read
    as every drug not found, a prescribed drug found beside it was named as one the conclusion denies."""
    finding = _FINDING.search(words, exception.end())
    excepted = words[exception.end() : finding.start() if finding else len(words)]
    return _PRESCRIBED.search(excepted) is not None and not substances_in_words(excepted)


def _exception_last(words: str, exception: re.Match[str]) -> str:
    """A statement that begins with its exception, the exception moved after the words of every drug that follow it
    ("Except for oxycodone, all drugs negative": "all drugs negative Except for oxycodone")."""
    every = _THEN_EVERY_DRUG.search(words, exception.end())
    if not every:
        return words
    return f"{words[every.start() + 1 :]} {words[exception.start() : every.start()]}"


def _unbracketed(words: str) -> str:
    """The words with each finding written in brackets (`_BRACKETED`) as a statement of its own after its drug."""
    return _BRACKETED.sub(_bracket_read, words)


def _bracket_read(bracket: re.Match[str]) -> str:
    """A finding in brackets as a statement after its drug ("Fentanyl (POS)": "Fentanyl POS;"), a confirmation's after
    a finding as one of its own ("Positive (confirmation negative)": "Positive; confirmation negative;"), so it
    overrides the finding it confirms (`_confirmed`); any other bracket as written."""
    if not _value_as_written(bracket[1]):
        return bracket[0]
    if _is_confirmation(bracket[1]) and _clause_said(_clause_before(bracket)) is not None:
        return f"; {bracket[1]};"
    return f" {bracket[1]};"


_LOOK_BACK = 120  # characters read back for the clause a bracket follows: one clause's worth, never the whole text


def _clause_before(bracket: re.Match[str]) -> str:
    """The clause a bracket follows ("Opiates presumptive positive (confirmation negative)": "Opiates presumptive
    positive"; "Positive for fentanyl, oxycodone (confirmed negative)": "oxycodone", which says nothing)."""
    before = bracket.string[max(0, bracket.start() - _LOOK_BACK) : bracket.start()]
    for breaks in (_SENTENCES, _GROUPS, _JOINED, _EXCEPT):
        before = breaks.split(before)[-1]
    return before


@dataclass(frozen=True)
class _Read:
    """One reading of a conclusion's words (`_readings`), with the drugs (row keys) it is said of."""

    said: Value
    named: tuple[str, ...]
    statement: int  # which statement of the words it was read in (`_SENTENCES`)
    confirms: bool = False  # a confirmation's finding naming no drug ("confirmation negative"), not yet said of any
    # A confirmation's finding of the drugs it names, or of those it confirms (`_confirmed`): "Oxycodone confirmation
    # negative", "oxycodone negative by LC-MS/MS". It overrides a screen's reading of them (`_screens_overridden`).
    definitive: bool = False
    screen: bool = False  # a finding written as a screen's (`_SCREENED`): "Oxycodone screen positive"
    # Which finding of the words it took (`_ConclusionReader.findings_read`); a confirmation's is its own, so the
    # finding it follows is the one numbered before it (`_confirmed`).
    finding: int = -1


def _clause_readings(words: str) -> Iterator[tuple[Value, tuple[str, ...]]]:
    """Each reading of a conclusion's words with the drugs (row keys) it is said of (`_readings`), a confirmation's
    finding naming no drug said of the drugs it confirms in place of their presumptive finding (`_confirmed`)."""
    for reading in _all_confirmed(_readings(words)):
        yield reading.said, reading.named


def _all_confirmed(readings: Iterable[_Read]) -> list[_Read]:
    """The readings, each confirmation's said of what it confirms in place of its screen's (`_confirmed`)."""
    confirmed: list[_Read] = []
    for reading in readings:
        confirmed = _confirmed(confirmed, reading) if reading.confirms else [*confirmed, reading]
    return _screens_overridden(confirmed)


def _screens_overridden(readings: list[_Read]) -> list[_Read]:
    """The readings with each drug a confirmation names (`_Read.definitive`) taken out of every screen's reading of it
    (`_Read.screen`), before or after it: "Oxycodone screen positive. Oxycodone confirmation negative." says
    oxycodone was not found, as "Presumptive positive, confirmation negative" does, not both. Any other reading stands
    beside it, so one that disagrees says both ("Oxycodone confirmation negative. Oxycodone positive."), as two
    confirmations of one drug that disagree do."""
    definitive = {drug for reading in readings if reading.definitive for drug in reading.named}
    if not definitive:
        return readings
    return _taken_out(readings, definitive, lambda reading: reading.screen and not reading.definitive)


def _taken_out(readings: Iterable[_Read], drugs: Container[str], of: Callable[[_Read], bool]) -> list[_Read]:
    """The readings with `drugs` taken out of each reading `of` picks: the one rule by which a confirmation overrides
    a screen (`_screens_overridden`) and a finding naming no drug puts the drugs before it in doubt
    (`_ConclusionReader.settle`)."""
    kept = []
    for reading in readings:
        named = tuple(d for d in reading.named if d not in drugs) if of(reading) else reading.named
        if named or not reading.named:  # one whose drugs all went is gone, never said of every drug
            kept.append(replace(reading, named=named))
    return kept


# Where a value's words pass from one clause to the next, as a conclusion's do (`_readings`): only such words can
# give a screen's finding and then its confirmation's, after it or in brackets ("Positive (confirmation negative)").
_CLAUSE_BREAKS = (_SENTENCES, _GROUPS, _JOINED, _EXCEPT, _BRACKETED, _CONFIRMATION_AFTER_FINDING, _NEXT_CELL)


def _more_than_one_clause(words: str) -> bool:
    """Whether words hold more than one clause of a conclusion (`_CLAUSE_BREAKS`)."""
    return any(breaks.search(words) for breaks in _CLAUSE_BREAKS)


def _confirmed_value(words: str) -> Value | None:
    """What a value's words say when a confirmation's finding follows its screen's ("Presumptive positive,
    confirmation negative", "Screen positive; confirmed negative", "Oxycodone: presumptive positive; confirmed
    negative", "Positive (confirmation negative)", "Oxycodone: screen negative. Oxycodone: confirmation positive"):
    read as a conclusion's words are, the confirmation overriding the screen (`_confirmed`, `_screens_overridden`,
    one rule): positive if any drug is so read found, else negative. None when no confirmation's finding is read,
    or when a drug is still read both ways ("Oxycodone: confirmation negative. Oxycodone: positive.")."""
    readings = _readings(words)
    if not any(reading.confirms or reading.definitive for reading in readings):
        return None
    confirmed = _all_confirmed(readings)
    if _read_both_ways(confirmed):
        return None
    said = {reading.said for reading in confirmed}
    return "positive" if "positive" in said else "negative" if "negative" in said else None


def _read_both_ways(readings: Iterable[_Read]) -> bool:
    """Whether a drug is read both found and not found: no confirmation settles it, so a value's words are read as
    they begin (before, a confirmation naming the drug was not read in a value at all)."""
    said: dict[str, set[Value]] = {}
    for reading in readings:
        for drug in reading.named:
            said.setdefault(drug, set()).add(reading.said)
    return any({"positive", "negative"} <= values for values in said.values())


def _confirmed(readings: Sequence[_Read], confirmation: _Read) -> list[_Read]:
    """The readings with a confirmation's finding naming no drug ("Opiates: presumptive positive, confirmation
    negative", "Screen positive for benzodiazepines; confirmation negative") said of the finding it follows, the one
    read just before it (`_Read.finding`): of the drugs that finding was said of, in its place. A definitive result
    (LC-MS/MS, GC-MS) is what the lab found, the screen only presumed. That finding naming no drug, the confirmation
    takes its place ("Presumptive positive, confirmation negative": every drug tested, as the screen's was). It says
    nothing when that finding is itself a confirmation's ("Oxycodone confirmed positive, confirmation negative") or
    was said of no drug PainPlan reads ("Positive for gabapentin; confirmation negative", "Ethanol screen positive;
    confirmation negative"): never of a finding before it, which the lab did not say it confirmed."""
    confirmed = [r for r in readings if r.finding == confirmation.finding - 1]
    if not confirmed or any(r.definitive for r in confirmed):
        return list(readings)
    drugs = tuple(dict.fromkeys(drug for r in confirmed for drug in r.named))
    # Only the finding it confirms gives way here; another finding of those drugs gives way only when written as a
    # screen's (`_screens_overridden`): "Oxycodone positive. Presumptive positive for oxycodone; confirmed negative"
    # says both (it was read not found).
    taken = {id(r) for r in confirmed}
    left = [r for r in readings if id(r) not in taken]
    return [*left, replace(confirmation, named=drugs, confirms=False, definitive=bool(drugs))]


def _readings(words: str) -> list[_Read]:
    """Each reading of a conclusion's words with the drugs (row keys) it is said of, clause by clause
    (`_clause_said`), statement by statement (`_SENTENCES`). Drugs named bare (", oxymorphone") wait for a finding:
    one written after drugs or metabolite words in their group of "and" (`_said_after_names`: "Oxycodone and
    metabolites detected"), or, named before any reading of their statement, the statement's first ("Oxycodone,
    oxymorphone detected"); else they take the reading before them ("Positive for oxycodone, oxymorphone"), one
    after "except" or "other than" (`_EXCEPT`, the finding it turns read first: `_finding_first`) the opposite, and
    one denied after a positive a negative ("Positive for oxycodone but not fentanyl"); a statement that begins by
    denying denies every drug it lists ("No fentanyl, oxycodone detected", "No oxycodone."). Drugs named before a
    finding of every other drug with none of their own are set apart from it (`except_waiting`: "Oxycodone, all
    other drugs negative" found; what cannot be read surely, "indeterminate": `excepted`), and drugs named alone in a
    statement before a finding of others are read so too (`heading_unread`); drugs named with an amount take only a
    finding naming no drug in the clause right after them (`carries`: "Oxycodone 250 ng/mL, positive"), else the one
    the cutoff printed beside the amount gives (`_weighed`: "Oxycodone 80 ng/mL (cutoff 100 ng/mL)"), and those
    measured that none is said of are read neither way at the end (`unsure_measured`: "Oxycodone 250 ng/mL").
    Two findings written with no break between them are parted first (`_parted`: "Oxycodone screen positive
    confirmation negative", "OXYCODONE: POSITIVE  FENTANYL: NEGATIVE").
    A reading naming no drug is given (with none) only where nothing was read before it ("Positive", "Negative,
    dilute specimen") or when said of all drugs ("All other drugs negative"): "Opiates: presumptive positive,
    confirmation negative" says nothing of other drugs; a confirmation's ("confirmation negative") is given to be
    said of the drugs it confirms (`_confirmed`); any other that disagrees with the drugs' finding just before it
    reads them neither way (`doubt`: "Oxycodone negative. Positive.")."""
    reader = _ConclusionReader()
    for part, words_of_part in enumerate(_EXCEPT.split(_finding_first(_unbracketed(_parted(commas_read(words)))))):
        if part:  # "All negative except oxycodone": what follows the exception says the opposite
            reader.said = _OPPOSITE.get(reader.said)
            reader.next_finding()  # a finding of its own: a confirmation after it confirms it alone
        for sentence in _SENTENCES.split(words_of_part):
            reader.statement(sentence)
    reader.settle()
    reader.unsure_measured()
    return reader.read


def _every_other(groups: Sequence[Sequence[str]], index: int) -> bool:
    """Whether the group of `groups` (each split into its clauses) at `index` begins with a finding of every other
    drug ("all others negative")."""
    # `_EVERY_OTHER` holds no "and", "&" or "with", so it matches the group's first clause where it matches the group
    if index >= len(groups) or not _EVERY_OTHER.match(groups[index][0]):
        return False
    return _clause_said(groups[index][0]) == "negative"


def _said_of_those_before(clause: str, named: tuple[str, ...]) -> bool:
    """Whether a clause's finding is said of the drugs named with an amount just before it: it names no drug and is
    said neither of every drug nor of one PainPlan does not read ("Oxycodone 250 ng/mL, positive", "Hydrocodone 85
    ng/mL, below cutoff of 100 ng/mL"; not ", all other drugs negative", ", positive for gabapentin")."""
    return not named and not _NOTHING_FOUND.match(clause) and not _SAID_OF_ANOTHER.search(clause)


def _weighable(groups: Sequence[Sequence[str]], index: int) -> list[bool]:
    """Which clauses of the group of "and" at `index` (`groups`: each split into its clauses) a cutoff printed beside
    their amount may give a finding (`_weighed`): none when no cutoff is printed in it, else those the lab gives no
    finding of its own after, later in their group ("Oxycodone 250 ng/mL (cutoff 100 ng/mL) and oxymorphone 80 ng/mL
    positive") or right after it (`_said_of_those_before`: "Oxycodone 80 ng/mL (cutoff 100 ng/mL), positive"): its
    finding is read as written."""
    clauses = groups[index]
    # a printed cutoff holds no "and", "&" or "with": it lies in one clause of its group
    if not any(map(_CUTOFF.search, clauses)):
        return [False] * len(clauses)
    after = groups[index + 1][0] if index + 1 < len(groups) else ""
    said_later = (
        bool(after) and _clause_said(after) is not None and _said_of_those_before(after, substances_in_words(after))
    )
    weighable = []
    for clause in reversed(clauses):
        weighable.append(not said_later)
        said_later = said_later or _clause_said(clause) is not None
    return weighable[::-1]


def _weighed(clause: str) -> str:
    """The clause with the finding the cutoff printed beside its amount gives (`_against_printed_cutoff`) written
    after it, as the lab would write it, when the amount is all it says of the drugs it names ("Oxycodone 80 ng/mL
    (cutoff 100 ng/mL)": "... negative"); else as written, its amount read as one with no cutoff is."""
    after = words_after_substances(clause)
    amount = _AMOUNT.match(after) if after else None
    if amount is None or amount.string[amount.end() :].strip() or _clause_said(clause) is not None:
        return clause
    weighed = _against_printed_cutoff(amount[0])
    return f"{clause} {weighed}" if weighed else clause


class _ConclusionReader:
    """A conclusion's words as `_readings` reads them, statement by statement: the readings so far, the finding read
    last and the drugs named bare that wait for one."""

    def __init__(self) -> None:
        """Nothing read yet."""
        self.read: list[_Read] = []
        self.said: Value | None = None  # the finding read last: drugs named bare after it take it
        self.waiting: tuple[str, ...] = ()  # drugs named bare, waiting for a finding
        self.number = -1  # which statement is read (`_SENTENCES`)
        self.here: Value | None = None  # the finding this statement last said, once it has said one
        self.first = False  # whether the finding read last was written before the drugs it is said of ("Positive for")
        self.screened = False  # whether the finding read last was written as a screen's (`_SCREENED`)
        # Which finding was read last, counted clause by clause (and past "except", its opposite), whether or not it
        # was said of a drug PainPlan reads: each reading takes its number (`add`), so a confirmation naming no drug
        # confirms the one finding it follows (`_confirmed`).
        self.findings_read = -1
        # Drugs named with an amount and no finding (`_AMOUNT`), waiting in their group of "and" for a finding written
        # after them ("Oxycodone 250 ng/mL and oxymorphone 80 ng/mL positive"); dropped at the group's end. A list:
        # a long run of them is added to once each, never copied whole.
        self.measured: list[str] = []
        # The drugs named with an amount and no finding in the group of "and" just ended, for the next clause of their
        # statement only: "Oxycodone 250 ng/mL, positive" says it of oxycodone (`carried`).
        self.just_measured: tuple[str, ...] = ()
        self.fresh = 0  # how many drugs waited from before this statement
        # Drugs named with no finding read of them yet, each with what a finding of every other drug written after
        # them makes of it (`excepted`): "positive" when named with an amount measured (`_measured`), else
        # "indeterminate". Each leaves once a reading names it (`add`).
        self.unheard: dict[str, Value] = {}
        # Of those, the drugs named with an amount its printed cutoff does not settle (`_unsettled`): read neither way
        # at the end, with those measured (`unsure_measured`).
        self.unsettled: set[str] = set()
        # A finding naming no drug right after a drug's own finding that it disagrees with ("Oxycodone negative.
        # Positive."): its number, and the drugs it puts in doubt once no drug after it takes it (`doubt`, `settle`).
        self.doubting: tuple[int, tuple[str, ...]] | None = None

    def add(self, reading: _Read) -> None:
        """A reading of the finding read last (`findings_read`), its drugs no longer waiting for one (`unheard`)."""
        self.read.append(replace(reading, finding=self.findings_read))
        if self.unheard:
            for drug in reading.named:
                self.unheard.pop(drug, None)

    def statement(self, sentence: str) -> None:
        """One statement, group of "and" by group (`_GROUPS`): drugs still waiting at a group's end take the
        statement's finding ("Positive for oxycodone and oxymorphone, fentanyl not detected"); at its end, drugs a
        statement that begins by denying lists with no finding after them are not found ("No oxycodone."), and any
        other take the finding read last ("Positive for oxycodone, oxymorphone")."""
        self.number += 1
        self.here = None
        self.just_measured = ()
        denying = bool(_DENIED_FIRST.match(sentence))  # "No fentanyl, oxycodone detected"
        fresh = self.fresh = len(self.waiting)  # the drugs waiting from before this statement
        # Each group split into its clauses once: `_weighable` and `_every_other` read them (the next group's ahead).
        groups = [_JOINED.split(group) for group in _GROUPS.split(sentence)]
        for index, clauses in enumerate(groups):
            for clause, weighable in zip(clauses, _weighable(groups, index), strict=True):
                # a finding heading its statement's list ("Positive for oxycodone, oxymorphone 80 ng/mL (cutoff 100
                # ng/mL)") is the lab's own of each drug in it: the amount is not weighed against it
                self.clause(_weighed(clause) if weighable and not (self.here and self.first) else clause, denying)
            if not (self.waiting and self.here and not self.first and _every_other(groups, index + 1)):
                self.give(self.here)
            # else "Oxycodone positive, fentanyl, all others negative": fentanyl may be positive, or negative with the
            # rest, so it is left to the finding of every other drug (`excepted`: read neither way)
            # "Oxycodone 250 ng/mL, fentanyl not detected": no finding of its own, unless the next clause has one
            self.just_measured = tuple(self.measured)
            self.measured.clear()
        if denying and self.here is None and len(self.waiting) > fresh:
            # "No oxycodone.": denied with no finding after it, never left to take the next statement's
            self.add(_Read("negative", self.waiting[fresh:], self.number))
            self.waiting = self.waiting[:fresh]
        self.give(self.said)

    def clause(self, clause: str, denying: bool) -> None:
        """One clause: the drugs it names wait when it says nothing (`wait`), else take its finding (`say`)."""
        named = substances_in_words(clause)
        said = self.finding(clause, named, denying)
        carried, self.just_measured = self.just_measured, ()
        if said is None:
            if not named and not self.waiting and _FINDING_WORD.search(clause):
                # A finding of what PainPlan does not read ("Ethanol screen positive"): a confirmation after it
                # confirms it, never the finding before it (`_confirmed`).
                self.next_finding()
            self.wait(clause, named)
            return
        first = _said_after_names(clause) is None  # written before the drugs it is said of ("Positive for")
        every_other = said == "negative" and _EVERY_OTHER.match(clause) is not None
        if self.fresh and named and self.here is None and not every_other:
            self.heading_unread()
        if self.waiting and self.here and first and not every_other:
            # "Positive for oxycodone and oxymorphone and negative for fentanyl": a finding written first is said
            # of the drugs after it, not of those listed before it
            self.give(self.here)
        if every_other:
            self.except_waiting(denying)
        elif self.carries(clause, named, carried):
            self.waiting += carried
            first = False  # said of the drugs before it: "..., oxycodone 250 ng/mL" after it does not take it
        before, self.said, self.here, self.first = self.said, said, said, first
        self.next_finding()
        self.screened = _SCREENED.search(clause) is not None
        if not first:  # "Oxycodone 250 ng/mL and oxymorphone 80 ng/mL positive": said of the whole group
            self.waiting += tuple(self.measured)
        self.measured.clear()
        self.say(said, clause, named, before)

    @staticmethod
    def carries(clause: str, named: tuple[str, ...], carried: tuple[str, ...]) -> bool:
        """Whether a clause's finding, right after drugs named with an amount in its statement, is theirs
        (`_said_of_those_before`). Before, it was read as a bare "Positive" or "below cutoff" is, of every drug."""
        return bool(carried) and _said_of_those_before(clause, named)

    def heading_unread(self) -> None:
        """Drugs named alone in a statement before, with no finding ("Oxycodone.", "Opiates."), meet a finding of
        drugs it names itself ("Fentanyl not detected."): a heading, or a drug the lab found; not read surely. Before,
        they took that finding: "Oxycodone. Fentanyl not detected." read oxycodone not found, and "Opiates. Oxycodone
        positive." every opiate found. A finding naming no drug ("Oxycodone. Positive.") is theirs, as before."""
        self.add(_Read("indeterminate", self.waiting[: self.fresh], self.number))
        self.waiting, self.fresh = self.waiting[self.fresh :], 0

    def except_waiting(self, denying: bool) -> None:
        """Drugs named before a finding of every other drug with no finding of their own (waiting, or `unheard`) are
        the ones "other" sets apart from it, each read as `excepted` reads it; those a statement that begins by
        denying lists are not found ("No oxycodone, all other drugs negative"). Read as every drug not found, a drug
        the lab measured ("Oxycodone 250 ng/mL, all other drugs negative") was a prescribed opioid's negative the
        conclusion agreed with."""
        kept = self.fresh if denying else len(self.waiting)
        waited, denied = self.waiting[:kept], self.waiting[kept:]
        self.waiting, self.fresh = (), 0
        apart = set(waited).union(denied)
        readings: dict[Value, list[str]] = {}
        for drug in waited:
            readings.setdefault(self.excepted(drug, True), []).append(drug)
        for drug in [drug for drug in self.unheard if drug not in apart]:
            readings.setdefault(self.excepted(drug, False), []).append(drug)
        for said, drugs in readings.items():
            self.add(_Read(said, tuple(drugs), self.number))
        if denied:
            self.add(_Read("negative", denied, self.number))

    def excepted(self, drug: str, waited: bool) -> Value:
        """What a finding of every other drug ("all other drugs negative") makes of a drug named before it with none
        of its own: found when named with an amount measured ("Oxycodone 250 ng/mL": `_measured`); named bare
        (`waited`), the finding written before the list it ends ("Positive for oxycodone, fentanyl, all others
        negative"), else found when nothing was read before it ("Oxycodone, all other drugs negative"), unless it
        names a class ("Opiates. All other drugs negative." may head the opiates' own results, all negative); any
        other is not read surely ("indeterminate"): "Oxycodone positive. Fentanyl, all others negative" may say
        fentanyl was found or not found with the rest, and "Oxycodone <0.5 ng/mL" is under what the lab reports."""
        if self.unheard.get(drug) == "positive":
            return "positive"
        if waited and self.first and self.here:
            return self.here
        if waited and self.said is None and drug not in CLASS_MEMBERS:
            return "positive"
        return "indeterminate"

    def finding(self, clause: str, named: tuple[str, ...], denying: bool) -> Value | None:
        """What a clause says (`_clause_said`), read in its statement and after the finding before it."""
        said = _clause_said(clause)
        if said == "positive" and denying and self.here is None and self.waiting and _said_after_names(clause):
            return "negative"  # the statement's "No" is said of every drug it lists before the finding
        if said is None and self.said == "positive" and named and _denies_bare(clause):
            return "negative"  # "Positive for oxycodone but not fentanyl": fentanyl was not found
        return said

    def wait(self, clause: str, named: tuple[str, ...]) -> None:
        """The drugs a clause that says nothing names wait for a finding; before any was read, only those named with
        nothing after them ("Oxycodone, oxymorphone detected"), not "Oxycodone 250 ng/mL"; named with an amount
        (`_AMOUNT`), after a finding written before the drugs it is said of ("Positive for oxycodone 1,250 ng/mL,
        oxymorphone 430 ng/mL"), else only for one written after them in their group of "and" (`measured`:
        "Oxycodone 250 ng/mL and oxymorphone 80 ng/mL positive"), never one said of the drug before it ("Fentanyl
        not detected, oxycodone 250 ng/mL": an amount measured is no "not detected")."""
        after = words_after_substances(clause)
        amount = _AMOUNT.match(after) if after else None
        heard: Value = "positive" if amount and _measured(amount[0]) else "indeterminate"
        for drug in named:
            if heard == "positive" or drug not in self.unheard:
                self.unheard[drug] = heard
        if amount and _unsettled(amount[0]):
            self.unsettled.update(named)
        if amount:
            if self.said is not None and self.first:
                self.waiting += named
            else:
                self.measured += named
        elif self.said is not None or not after:
            self.waiting += named

    def say(self, said: Value, clause: str, named: tuple[str, ...], before: Value | None) -> None:
        """A clause's finding, said of the drugs waiting and those it names; naming none, of every drug where nothing
        was read before it ("Positive") or it says nothing was found ("All other drugs negative"), never of a drug
        PainPlan does not read ("Positive for gabapentin"); a confirmation's, of the drugs it confirms (`_confirmed`:
        "Opiates: presumptive positive, confirmation negative" says nothing of other drugs), so of none after a finding
        of a drug PainPlan does not read, at the conclusion's start too ("Ethanol positive; confirmation negative":
        read as every drug not found, it denied each drug the lab found after it); any other, of none, though it may
        put in doubt the drugs of the finding just before it (`doubt`)."""
        if named or self.waiting:
            definitive = bool(named) and _confirms(clause)
            self.add(_Read(said, (*self.waiting, *named), self.number, definitive=definitive, screen=self.screened))
            self.waiting, self.fresh = (), 0
        elif _SAID_OF_ANOTHER.search(clause):  # "Positive for gabapentin": said of no drug PainPlan reads
            return
        elif _NOTHING_FOUND.match(clause):
            self.add(_Read(said, (), self.number))
        elif _is_confirmation(clause) and self.findings_read > 0:  # a finding was read before it: its own
            self.add(_Read(said, (), self.number, confirms=True))
        elif before is None:
            self.add(_Read(said, (), self.number))
        else:
            self.doubt(said)

    def doubt(self, said: Value) -> None:
        """A finding naming no drug, after another was read: the drugs of the finding just before it whose reading it
        disagrees with are in doubt ("Oxycodone negative. Positive.", "Oxycodone 80 ng/mL (cutoff 100 ng/mL).
        Positive."), unless drugs named after it take it (`settle`); one that agrees changes nothing."""
        last = [r for r in self.read if r.finding == self.findings_read - 1 and r.said != said]
        drugs = tuple(dict.fromkeys(d for r in last if r.said in _OPPOSITE for d in r.named))
        if drugs:
            self.doubting = (self.findings_read, drugs)

    def next_finding(self) -> None:
        """Another finding is read: one naming no drug read before it is settled first (`settle`)."""
        self.settle()
        self.findings_read += 1

    def settle(self) -> None:
        """A finding naming no drug that disagrees with the drugs' finding just before it (`doubt`) and that no drug
        named after it took ("Oxycodone detected. Negative. Fentanyl." heads fentanyl's) makes them read neither way:
        the lab's words say both. Dropped, as it was, "Oxycodone negative. Positive." read oxycodone not found, and a
        linked negative fired the unexpected-negative card against the lab's own "Positive"."""
        if self.doubting is None:
            return
        (number, drugs), self.doubting = self.doubting, None
        if any(r.finding == number and r.named for r in self.read):
            return
        self.read = _taken_out(self.read, drugs, lambda reading: reading.finding == number - 1)
        self.add(_Read("indeterminate", drugs, self.number))

    def unsure_measured(self) -> None:
        """Drugs named with an amount measured (`_measured`), or one its printed cutoff does not settle
        (`_unsettled`: "Oxycodone (cutoff 100 ng/mL): <150 ng/mL"), and no finding of their own by the conclusion's
        end are read neither way ("Oxycodone 250 ng/mL", "Fentanyl not detected, oxycodone 250 ng/mL"): found, or
        measured under the lab's cutoff. Read as nothing, a linked negative of a prescribed oxycodone was judged
        unexpected beside the lab's own amount of it."""
        measured = tuple(d for d, heard in self.unheard.items() if heard == "positive" or d in self.unsettled)
        if measured:
            self.add(_Read("indeterminate", measured, self.number))

    def give(self, said: Value | None) -> None:
        """The drugs waiting take a finding, once one was read."""
        if said and self.waiting:
            self.add(_Read(said, self.waiting, self.number, screen=self.screened))
            self.waiting, self.fresh = (), 0  # none waits from before this statement now


@dataclass(frozen=True)
class _Claims:
    """What a report's conclusion says was found and not, drug by drug (`UdsSubstance.name`), read only to tell the
    results it links that it contradicts (`report_contradictions`), never as a result per substance."""

    found: frozenset[str]  # the drugs it says were found ("Positive for oxycodone", "Oxycodone detected")
    denied: frozenset[str]  # the drugs it says were not ("Negative for fentanyl")
    # The drugs a drug or class it says was found stands for ("opiates": morphine, codeine, ...), itself included.
    covered: frozenset[str]
    found_unnamed: bool  # it begins by saying something was found, naming nothing ("Positive")
    nothing_found: bool  # it says nothing was found ("Negative", "All drugs negative", "All negative except ...")
    # The drugs it names but cannot be read surely of (read "indeterminate", or found and not found by one word:
    # `_said_both_ways`), a class's members with it (`_with_members`), less those it reads surely by name: neither
    # found nor not found, so a negative of theirs is not judged and named, and a positive kept (`_contradiction`).
    unsure: frozenset[str] = frozenset()
    said_both: frozenset[str] = frozenset()  # of those, the ones it says were found and not found (`_said_both_ways`)

    def says_found(self, substance: str, any_positive: bool) -> bool:
        """Whether it says `substance` was found: by name, or by a bare "Positive" beside linked results none of which
        reads positive (one that does is what it concludes)."""
        return substance in self.found or (self.found_unnamed and not self.found and not any_positive)

    def says_not_found(self, substance: str) -> bool:
        """Whether it says `substance` was not found: by name, or as all but what it says was found."""
        if substance in self.covered:
            return False
        return substance in self.denied or self.nothing_found


# Real interpretive conclusions run to a few thousand characters. One far longer is a paste (a CSV, a garbled feed)
# read clause by clause at ~30 µs a clause (bench/text_worst_case.py: 100,000 commas took 2-3 s of one hook call):
# only its first part is read for what it says was found, and the cut is named (`cut_conclusions`).
CONCLUSION_READ_CHARACTERS = 10_000
_BREAK_NEAR = 500  # a statement break this close before the cut ends the part read, so no statement is read half
_STATEMENT_BREAKS = ".;\n"  # as `_SENTENCES` ends a statement


def conclusion_read(words: str) -> str:
    """The part of a conclusion's words read for what it says was found: all of it up to `CONCLUSION_READ_CHARACTERS`,
    else that many characters, ended at the last statement break within `_BREAK_NEAR` characters before the cut."""
    if len(words) <= CONCLUSION_READ_CHARACTERS:
        return words
    head = words[:CONCLUSION_READ_CHARACTERS]
    end = max(head.rfind(mark, CONCLUSION_READ_CHARACTERS - _BREAK_NEAR) for mark in _STATEMENT_BREAKS)
    return head[: end + 1] if end >= 0 else head


def cut_conclusions(
    record: PatientRecord,
    terms: Terminology,
    since: date,
    today: date,
    verdicts: Callable[[], SpecimenVerdicts] | None = None,
) -> tuple[str, ...]:
    """The urine drug test reports dated from `since` to `today`, or undated, whose conclusion was read for what it
    says was found (they link results: `linked_conclusions`) only in part (`conclusion_read`), each named with its
    date and its conclusion's length. `verdicts`: as `unread_drug_test_reports` takes them (read once per record)."""
    concluded, _ = _conclusions_of(record.diagnostic_reports, record.observations, terms, verdicts)
    named: list[str] = []
    for report in dict.fromkeys(r for reports in concluded.values() for r in reports):
        length = len(report.conclusion or "")
        day = local_date(report.result_time)
        if length > CONCLUSION_READ_CHARACTERS and (day is None or since <= day <= today):
            when = date_or_unread(as_written(day, report.dated_partial), report.unread_dates)
            named.append(f"{drug_test_name(report.code)} ({when}, {conclusion_cut_words(length)})")
    return tuple(dict.fromkeys(named))


def _conclusion_claims(report: DiagnosticReport, terms: Terminology) -> _Claims | None:
    """What a report's conclusion says was found and not (`_Claims`), by its readings (`_clause_readings`) of its
    first part (`conclusion_read`); None when it says nothing of what was found."""
    found: set[str] = set()
    denied: set[str] = set()
    unsure: set[str] = set()
    found_unnamed = nothing_found = False
    written = [conclusion_read(words) for words in report_words(report)]
    for words in written:
        for said, named in _clause_readings(words):
            if named:
                (found if said == "positive" else denied if said == "negative" else unsure).update(named)
            else:
                found_unnamed |= said == "positive"
                nothing_found |= said == "negative"
    if not (found or denied or unsure or found_unnamed or nothing_found):
        return None
    both = _said_both_ways(found & denied, written) if found and denied else set()
    found -= both
    denied -= both
    # a drug read surely stands: "Opiates. Morphine not detected." says nothing sure of opiates, but morphine it denies
    unsure = _with_members(unsure | both) - found - denied
    return _Claims(
        _names_of(found, terms),
        _names_of(denied - found, terms),
        _names_of(with_class_members(found), terms),
        found_unnamed,
        nothing_found,
        _names_of(unsure, terms),
        _names_of(both, terms),
    )


def _with_members(keys: set[str]) -> set[str]:
    """The row keys with the drugs each class among them stands for (`CLASS_MEMBERS`): "Opiates." not read surely says
    nothing sure of morphine either."""
    return {key for named in keys for key in (named, *CLASS_MEMBERS.get(named, ()))}


_WORD = re.compile(r"[\w-]+")


def _said_both_ways(keys: set[str], written: Sequence[str]) -> set[str]:
    """Of the drugs a conclusion says were found and not found, those it names by one word alone ("Positive for
    oxycodone. Oxycodone not detected."): it contradicts itself, so it is read neither way. Named by two words, it
    found one analyte of the drug and not the other ("Norfentanyl 12 ng/mL POS; Fentanyl <0.5 ng/mL NEG": fentanyl was
    taken, `_Claims`), and is read found as before. A word and its plural are one ("Opiate", "Opiates")."""
    naming: dict[str, set[str]] = {}
    for word in {found.lower() for words in written for found in _WORD.findall(words)}:
        for key in keys.intersection(substances_in_words(word)):
            naming.setdefault(key, set()).add(word.removesuffix("s"))
    return {key for key in keys if len(naming.get(key, ())) == 1}


def _names_of(keys: Iterable[str], terms: Terminology) -> frozenset[str]:
    """The substances (`UdsSubstance.name`) of these row keys."""
    return frozenset(s.name for s in terms.substances_keyed(keys)) if keys else frozenset()


def conclusion_only_drugs(
    record: PatientRecord,
    terms: Terminology,
    history: PrescriptionHistory,
    config: GuidelineConfig,
    since: date,
    today: date,
) -> tuple[str, ...]:
    """The drugs a urine drug test report dated from `since` to `today` says surely were found or not found in its
    conclusion (`_Claims.found`, `_Claims.denied`) that no result it links (or contains, or a panel of it holds)
    tests, each named with its report when it would be unexpected as a result of that report's day (`_judged_on`):
    'Drugs of abuse 5 panel - Urine (2026-05-16): its conclusion says fentanyl found, which no result it sent
    tests'. Never judged as a result (a conclusion is never a result per substance); named, so the lab's own word of
    unprescribed fentanyl is not passed over. A report with no result read is named as unread instead."""
    concluded, _ = _conclusions_of(record.diagnostic_reports, record.observations, terms)
    if not concluded:
        return ()
    options = config.check("unexpected-uds-result").options
    include_cannabinoid = bool(options["cannabinoid"])
    negative_substances = frozenset(options["unexpected_negative_substances"])
    linked = [o for o in record.observations if o.located in concluded]
    tested: dict[int, tuple[DiagnosticReport, set[str]]] = {}
    for observation, test in _results_and_items(linked, terms, include_cannabinoid):
        for report in concluded[observation.located or ""]:
            tested.setdefault(id(report), (report, set()))[1].update(s.name for s in test.substances)
    named: list[str] = []
    for report, drugs in tested.values():
        day = local_date(report.result_time)
        claims = _conclusion_claims(report, terms)
        # a report dated to the month only can mean days a prescription judges differently: left as it is
        if claims is None or day is None or report.dated_partial or not since <= day <= today:
            continue
        sure: tuple[tuple[Value, frozenset[str]], ...] = (("positive", claims.found), ("negative", claims.denied))
        for value, said in sure:
            for name in sorted(said - drugs - claims.unsure):
                # the drug's own row ("oxycodone": the CDC's, not its metabolites'), as a result of it is judged
                rows = _judged_by_site(terms.substances_keyed((name,)), include_cannabinoid)
                judged = [
                    _judged_on(r, value, day, history.in_effect, history.taking_on, negative_substances) for r in rows
                ]
                if judged and all(j.unexpected for j in judged):
                    words = "found" if value == "positive" else "not found"
                    when = iso_day(day)
                    named.append(
                        f"{drug_test_name(report.code)} ({when}): its conclusion says {judged[0].label} {words}, "
                        "which no result it sent tests"
                    )
    return tuple(dict.fromkeys(named))


@dataclass(frozen=True)
class Contradiction:
    """A drug a report's conclusion says was found while the results it links for that drug read it negative and
    none positive, or says was not found while they read it positive and none negative: the lab's report contradicts
    itself. A screen under its cut-off beside a confirmation that found the drug is none: the lab says one thing. A
    drug it cannot be read surely of (`doubt`) beside negatives is read so too, and one it says both of beside
    positives: they may contradict it. One that could not be read surely ("unsure") is no contradiction of the lab's
    and is named with its negative (`_not_read_surely`), never among the reports whose words disagree."""

    substance: str
    said: tuple[str, ...]  # what its results say, as written ("Negative", "Not detected"), each once
    results: int  # how many of its results read so
    value: Value = "negative"  # how they read: "negative" (the conclusion says found) or "positive" (says not)
    # Why the conclusion says neither of the drug (`_Claims.unsure`): "unsure", its words may mean either ("Oxycodone
    # positive. Fentanyl, all others negative"), no contradiction but a negative left unjudged (`_not_read_surely`);
    # "both", it says both ("Positive for oxycodone. Oxycodone not detected."). "" when it says one thing.
    doubt: Literal["", "unsure", "both"] = ""

    @property
    def label(self) -> str:
        """The drug as the cards name it ("oxycodone")."""
        return SUBSTANCE_LABELS.get(self.substance, self.substance)


def report_contradictions(
    concluded: Mapping[str, Sequence[DiagnosticReport]],
    observations: Iterable[Observation],
    terms: Terminology,
    verdicts: SpecimenVerdicts | Callable[[], SpecimenVerdicts] | None = None,
) -> dict[int, tuple[Contradiction, ...]]:
    """The drugs each report that stands for the results it links (`linked_conclusions`) contradicts, by its id:
    its conclusion says a drug was found (`_Claims.says_found`) and the results it links for that drug read negative,
    none positive; or says it was not (`_Claims.says_not_found`) and they read positive, none negative. Each is read
    as the cards read it (its specimen's validity results too: `verdicts`, the record's, or what reads them, asked
    only here; read here when not given). Most records have no conclusion saying what was found, and nothing is read
    for them."""
    claims = {id(r): says for reports in concluded.values() for r in reports if (says := _conclusion_claims(r, terms))}
    if not claims:
        return {}
    claimed = {ref for ref, reports in concluded.items() if any(id(r) in claims for r in reports)}
    linked = [o for o in observations if o.located in claimed]
    if verdicts is None:
        verdicts = specimen_verdicts_of(observations)
    elif not isinstance(verdicts, SpecimenVerdicts):
        verdicts = verdicts()
    read: dict[tuple[int, str], list[tuple[Value, str]]] = {}
    positive: set[int] = set()  # the reports any of whose linked results reads positive
    for observation, test in _results_and_items(linked, terms, True):
        claiming = [r for r in concluded.get(observation.located or "", ()) if id(r) in claims]
        if verdicts is not NO_VERDICTS:
            observation = _with_specimen_verdicts(observation, verdicts)
        value = result_value(observation)
        said = value_as_sent(observation, value)
        for report in claiming:
            if value == "positive":
                positive.add(id(report))
            for substance in test.substances:
                read.setdefault((id(report), substance.name), []).append((value, said))
    found: dict[int, list[Contradiction]] = {}
    for (report_id, name), values in read.items():
        if contradiction := _contradiction(claims[report_id], name, values, report_id in positive):
            found.setdefault(report_id, []).append(contradiction)
    return {report_id: tuple(each) for report_id, each in found.items()}


# A record's reports' conclusions as the results they link read them, worked out once per record: its results are
# judged for two windows (`uds_results`) and its unread reports named (`unread_drug_test_reports`), each asking.
# An entry holds its record's results and reports alive: only as many as the calls a worker has in flight need, not
# dozens of past patients' charts held after their calls ended. Kept here, not as a per-call memo on Facts: the
# population review asks too, with no Facts (`tests_done` and `unread_drug_test_reports` of one record,
# guideline.population.facts), and would read each record's conclusions twice.
_CONCLUSIONS = IdentityMemo(limit=8)
_Conclusions = tuple[Mapping[str, tuple[DiagnosticReport, ...]], Mapping[int, tuple[Contradiction, ...]]]


def value_as_sent(observation: Observation, value: Value) -> str:
    """A result's value as the faces quote it: its words as sent (the first of `Observation.value_words`), else its
    value as read ("negative" for a coded answer with no words, or a number and its flag alone), never ""."""
    return next(iter(observation.value_words), value)


def _conclusions_of(
    reports: Iterable[DiagnosticReport],
    observations: Iterable[Observation],
    terms: Terminology,
    verdicts: SpecimenVerdicts | Callable[[], SpecimenVerdicts] | None = None,
) -> _Conclusions:
    """The reports standing for each result they link (`linked_conclusions`) and the drugs each contradicts
    (`report_contradictions`), remembered by the record's own tuples: `verdicts` are what those observations' validity
    results say (`specimen_verdicts_of`), so the tuples decide the answer. Read as they are, never changed."""
    if not reports:
        return {}, {}
    found = _CONCLUSIONS.get("conclusions", reports, observations, terms)
    if found is not MISSING:
        return found  # type: ignore[return-value]
    concluded = linked_conclusions(reports, observations, terms)
    contradictions = report_contradictions(concluded, observations, terms, verdicts) if concluded else {}
    _CONCLUSIONS.put("conclusions", reports, observations, terms, answer=(concluded, contradictions))
    return concluded, contradictions


def _contradiction(
    claims: _Claims, substance: str, values: Sequence[tuple[Value, str]], any_positive: bool
) -> Contradiction | None:
    """The contradiction of a drug's linked results (each read, and as written) by what the conclusion says of it."""
    negatives = [said for value, said in values if value == "negative"]
    positives = [said for value, said in values if value == "positive"]
    if substance in claims.unsure:
        # Neither found nor not found: its negative is read as one the conclusion contradicts would be, not judged.
        # Its positive is kept either way, so only one said both of is named beside it (the lab contradicts itself);
        # one that could not be read surely says nothing against it, and naming it was noise.
        doubt: Literal["unsure", "both"] = "both" if substance in claims.said_both else "unsure"
        if negatives and not positives:
            return Contradiction(substance, tuple(dict.fromkeys(negatives)), len(negatives), doubt=doubt)
        if positives and not negatives and doubt == "both":
            return Contradiction(substance, tuple(dict.fromkeys(positives)), len(positives), "positive", doubt)
        return None
    if negatives and not positives and claims.says_found(substance, any_positive):
        return Contradiction(substance, tuple(dict.fromkeys(negatives)), len(negatives))
    if positives and not negatives and claims.says_not_found(substance):
        return Contradiction(substance, tuple(dict.fromkeys(positives)), len(positives), "positive")
    return None


def _not_read_surely(
    reports: Sequence[DiagnosticReport], test: _Test, contradictions: Mapping[int, Sequence[Contradiction]]
) -> str | None:
    """Why a negative its report's conclusion leaves unjudged was, when that conclusion could not be read surely for
    its drug (`Contradiction.doubt` "unsure"), as the faces say it: 'its lab report's conclusion "Oxycodone 250
    ng/mL" could not be read surely for oxycodone'. None when the conclusion contradicts it (says it was found, or
    both), or leaves it judged."""
    report = _contradicting(reports, test, contradictions, "negative")
    if report is None:
        return None
    tested = {substance.name for substance in test.substances}
    found = [c for c in contradictions[id(report)] if c.substance in tested and c.value == "negative"]
    if any(c.doubt != "unsure" for c in found):
        return None
    drugs = and_list(list(dict.fromkeys(c.label for c in found)))
    return f"its lab report's conclusion {_quoted(_conclusion_words(report))} could not be read surely for {drugs}"


def _contradicting(
    reports: Sequence[DiagnosticReport],
    test: _Test,
    contradictions: Mapping[int, Sequence[Contradiction]],
    value: Value,
) -> DiagnosticReport | None:
    """The first report of a result that contradicts its results of a drug it tests for read `value`
    (`report_contradictions`): "negative", it says the drug was found; "positive", that it was not."""
    if not contradictions:
        return None
    tested = {substance.name for substance in test.substances}
    for report in reports:
        if any(c.substance in tested and c.value == value for c in contradictions.get(id(report), ())):
            return report
    return None


def _quoted(words: str | None) -> str:
    """A result's words as a face quotes them, to `CONCLUSION_QUOTED_CHARACTERS` as a conclusion is."""
    return f'"{clip(words, CONCLUSION_QUOTED_CHARACTERS) if words else words}"'


# How a contradicted result was read, by its reading: a negative the conclusion says was found is left unread (no
# unexpected negative on the lab's own doubt); a positive it says was not found is kept (a drug found in the cup was
# in it: a summary line cannot explain it away).
_READ_AS = {
    "negative": ("that negative was not judged", "those negatives were not judged"),
    "positive": (
        "that positive was kept, as a drug found in the sample was in it",
        "those positives were kept, as a drug found in the sample was in it",
    ),
}


def _contradiction_words(report: DiagnosticReport, found: Sequence[Contradiction]) -> str:
    """What a report that contradicts itself says, in plain words: its conclusion, then what its results of each
    drug say, and how they were read."""
    ordered = sorted(found, key=lambda c: c.value == "positive")  # the negatives first, as `_READ_AS` reads them
    parts = [f"its {c.label} result says {', '.join(map(_quoted, c.said))}" for c in ordered]
    read = [
        _READ_AS[value][sum(c.results for c in each) > 1]
        for value in _READ_AS
        if (each := [c for c in ordered if c.value == value])
    ]
    said = _conclusion_words(report)
    doubts = "; ".join(_DOUBT[c.doubt].format(c.label) for c in ordered if c.doubt)
    doubt = f" ({doubts})" if doubts else ""
    return f'its conclusion says "{said}"{doubt} but {and_list(parts)}; read the more cautious way: {and_list(read)}'


# Why a conclusion says neither of a drug (`Contradiction.doubt`), as the faces name it.
# One it could not be read surely for is no contradiction, and named with its result instead (`_not_read_surely`).
_DOUBT = {"both": "which says {} was both found and not found"}


# An amount written as text beyond what the lab measures: "<50 ng/mL" (below it: not detected), ">1000" (above it).
_WRITTEN_LIMIT = re.compile(r"^\s*(<=?|>=?)\s*(\d+(?:\.\d+)?)\s*([a-zµ/]+)?", re.IGNORECASE)


def written_limit(raw: str | None) -> bool:
    """Whether a valueString is an amount with its comparator ("<50 ng/mL"): read against the result's own range. One
    too long to read (`words.TEXT_READ_CHARACTERS`) is none."""
    if not raw or longest_not_read((raw,)) is not None:
        return False
    return _WRITTEN_LIMIT.match(raw) is not None


def _written_limit(observation: Observation) -> Value | None:
    """A valueString "<50 ng/mL" or ">1000 ng/mL", read as the same amount with its comparator is: a lab that sends
    its quantitative result as text had it read as no value."""
    raw = observation.value_string
    written = _WRITTEN_LIMIT.match(raw) if raw else None
    if written is None:
        return None
    return _bound_value(written.group(1), Decimal(written.group(2)), written.group(3), observation)


def _value_from_words(concept: Concept) -> Value | None:
    """The concept's text, else its codings' names: a lab's own answer code named "Negative" is a negative."""
    for words in (concept.text, *(coding.display for coding in concept.codings)):
        found = value_from_text(words)
        if found:
            return found
    return None


def _value_from_flags(concept: Concept) -> Value | None:
    """An interpretation's HL7 flag (a coding with no system is one: the element allows no other codes), else its
    words ("Positive", "Abnormal"): a flag sent as text only, or under a lab's own code, read as no value."""
    flags: set[Value] = set()
    for coding in concept.codings:
        if coding.system == OBS_INTERPRETATION or coding.system is None:
            flagged = _flag_value(coding.code)
            if flagged:
                flags.add(flagged)
    if flags:
        return flags.pop() if len(flags) == 1 else "indeterminate"
    for words in (concept.text, *(coding.display for coding in concept.codings)):
        found = FLAG_WORDS.get((words or "").strip().lower()) or value_from_text(words)
        if found:
            return found
    return None


def _against_cutoff(observation: Observation) -> Value | None:
    """A measured amount with no word or flag, read against what the lab says: one given only by a bound ("<1 ng/mL")
    as `_bound_value` reads it; an amount above the reference range's upper end (or at a "<300 ng/mL" cutoff) is
    detected, one within it is not. Units that differ, or no range, leave it unread (and named)."""
    measured = observation.value_quantity
    if measured is None or measured.value is None:
        return None
    if observation.value_comparator in ("<", "<=", ">", ">="):
        return _bound_value(observation.value_comparator, measured.value, measured.unit, observation)
    high = observation.reference_high
    if high is None or high.value is None or _other_units(measured.unit, high.unit):
        return None
    return _beside_cutoff(None, measured.value, high.value, observation.reference_below)


def _bound_value(comparator: str, amount: Decimal, unit: str | None, observation: Observation) -> Value | None:
    """An amount the lab gives only a bound for ("<50 ng/mL", ">1000"): with no range, beyond what it measures (below
    it negative, above it positive); with a cutoff (the range's upper end), negative only when every amount below the
    bound is within the cutoff, positive only when every amount above it is beyond it. "<500 ng/mL" against a
    300 ng/mL cutoff may be 400, and was read as negative; it, and a bound in other units, is left unread (named)."""
    below = comparator.startswith("<")
    high = observation.reference_high
    if high is None or high.value is None:
        return "negative" if below else "positive"
    if _other_units(unit, high.unit):
        return None
    # Whether the cutoff itself is a positive amount: a range written "<300 ng/mL" puts 300 above normal.
    return _beside_cutoff(comparator, amount, high.value, observation.reference_below)


def _beside_cutoff(comparator: str | None, amount: Decimal, cutoff: Decimal, at_cutoff_positive: bool) -> Value | None:
    """An amount against a cutoff (`at_cutoff_positive`: whether the cutoff itself is a positive amount): positive
    beyond it, negative within it; a bound ("<50", ">=1000") negative only when every amount below it is within the
    cutoff, positive only when every amount above it is beyond it, else None. The one rule for a result's amount
    against its reference range (`_against_cutoff`) and a conclusion's against the cutoff printed beside it."""
    if not comparator:
        return "positive" if amount > cutoff or (amount == cutoff and at_cutoff_positive) else "negative"
    if comparator.startswith("<"):
        within = amount < cutoff or (amount == cutoff and (comparator == "<" or not at_cutoff_positive))
        return "negative" if within else None
    beyond = amount > cutoff or (amount == cutoff and (comparator == ">" or at_cutoff_positive))
    return "positive" if beyond else None


def _other_units(unit: str | None, cutoff_unit: str | None) -> bool:
    """Whether an amount and its cutoff are both in stated units that differ (no conversion is attempted)."""
    return bool(unit and cutoff_unit and unit.strip().lower() != cutoff_unit.strip().lower())


@slot_init
@dataclass(frozen=True, slots=True)
class SubstanceResult:
    """One substance read from one test, and whether the prescriptions (or a dose given) explain it."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    substance: str
    label: str
    value: Value
    unexpected: bool
    explanation: str | None  # the card's words: "expected: …", "positive for cocaine, not prescribed …"
    given: str | None = None  # the dose clinicians gave that explains a positive ("fentanyl … given 2026-06-01")
    # What explains an expected positive, on its own: the prescription and its day ("oxycodone 5 mg (2026-05-01)")
    # or the dose given. The plan page lists it as it is, never by cutting the explanation's words apart.
    expected_by: str | None = None
    # Not judged: the result is dated to the month or the year only, and the days that date can mean judge it
    # differently (a negative for oxycodone in a month its prescription began in). Named, never silently expected.
    unsettled: bool = False
    # A positive: the medication set whose prescriptions explain it (`UdsSubstance.expected_by`), so a negative
    # made unexpected by a supply of two drugs can ask whether this positive is of the other (`_judged_either_way`).
    explainable_by: str | None = None
    # An unexpected negative made so by a supply whose code and name state different opioids: its other drugs.
    other_drugs: OtherDrugs | None = None
    # The supply whose code and name state different opioids this verdict rests on, as written ("HYDROmorphone 2 MG
    # tablet (2026-06-05; its code says oxycodone, its name says hydromorphone)"): the card names it.
    named_otherwise: str | None = None


@slot_init
@dataclass(frozen=True, slots=True)
class UdsResult:
    """One result read as a urine drug test, its substances judged. Made by `uds_result`, which works out the
    last three fields from the others once: the checks, the data-incomplete card and the plan page read them
    for every result, several times a call."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    observation: Observation
    day: date | None
    name: str
    value: Value
    substances: tuple[SubstanceResult, ...]
    # The analyte of a test PainPlan does not judge against prescriptions ("sertraline"): named, never judged.
    not_judged: str | None
    # What a test of only substances the site's settings leave out reports on ("cannabinoids"): named on the plan
    # page, never judged.
    left_out: str | None
    # The result's date as the cards and the page write it: as written when it names a month or a year only
    # ("2026-05"), else its day; None when undated.
    when: str | None
    unexpected: tuple[SubstanceResult, ...]  # its substances judged unexpected
    # Why some of its substances were not judged against prescriptions ("dated to the month only"), else None: the
    # days its date can mean judge them differently.
    unsettled: str | None
    # Its own value left unread, beside a lab report's conclusion that reads the test positive ("Positive for
    # oxycodone, dilute specimen", `_as_concluded_by`): its day's test was read (`unreadable_tests`).
    read_by_conclusion: bool = False
    # A negative a lab report's conclusion says was found ("Positive for oxycodone" beside its "Negative"), left
    # unread (`_as_concluded`): named with the report's words that disagree, not again as a result not read.
    contradicted: bool = False
    # A positive its lab report's conclusion says was not found ("Negative" beside its fentanyl "Positive"): that
    # conclusion as written. The positive is kept (a drug found in the cup was in it); its card line says so.
    denied: str | None = None
    # Of a `contradicted` negative, why, when its report's conclusion could not be read surely for its drug rather
    # than contradicting it (`_not_read_surely`): named so (`uds-conclusions-unsure`), not as words that disagree.
    unsure: str | None = None

    @property
    def preliminary(self) -> bool:
        """A preliminary result is to be confirmed before anyone acts on it: the cards and the page say so."""
        return self.observation.status == "preliminary"


def uds_result(
    observation: Observation,
    day: date | None,
    name: str,
    value: Value,
    substances: tuple[SubstanceResult, ...],
    not_judged: str | None = None,
    left_out: str | None = None,
    read_by_conclusion: bool = False,
    contradicted: bool = False,
    denied: str | None = None,
    unsure: str | None = None,
) -> UdsResult:
    """The result with its date as written, its unexpected substances and why any went unjudged."""
    partial = observation.dated_partial
    when = as_written(day, partial)
    unexpected: tuple[SubstanceResult, ...] = ()
    unsettled = None
    for item in substances:  # most results test one substance
        if item.unexpected:
            unexpected += (item,)
        if item.unsettled:
            unsettled = dated_only(partial or "")
    return UdsResult.make(
        observation,
        day,
        name,
        value,
        substances,
        not_judged,
        left_out,
        when,
        unexpected,
        unsettled,
        read_by_conclusion,
        contradicted,
        denied,
        unsure,
    )


def as_written(day: date | None, partial: str | None) -> str | None:
    """A test's date as the cards and the page write it: as written when it names a month or a year only ("2026-05",
    "2027"), never the 1st it is read as; else its day; None when undated."""
    return partial or (iso_day(day) if day else None)


def dated_only(written: str) -> str:
    """ "dated to the month only" ("2026-05") or "dated to the year only" ("2026")."""
    return f"dated to the {'month' if len(written.strip()) > 4 else 'year'} only"


def drug_test_name(code: Concept | None) -> str:
    """A drug test's name as the cards and the plan page show it: its code's text or display (to
    `words.QUOTED_CHARACTERS`), else "urine drug test"."""
    name = code.display() if code else None
    return clip(name, QUOTED_CHARACTERS, at_word=True) if name else "urine drug test"


UDS_PROCEDURE = "310627008"  # SNOMED "Urine drug screening (procedure)"


# Drug tests recorded or billed as procedures, with no result to read: point-of-care cups and every payer's
# claims. CPT presumptive drug class screening (80305-80307), HCPCS definitive drug testing (G0480-G0483, G0659),
# and SNOMED's urine drug screening. Without them a tested patient was "not tested in 12 months" to the card, and a
# payer's population review found no test at all.
DRUG_TEST_CPT = frozenset({"80305", "80306", "80307"})
DRUG_TEST_HCPCS = frozenset({"G0480", "G0481", "G0482", "G0483", "G0659"})


def is_drug_test_procedure(code: Concept | None) -> bool:
    """A procedure code for drug testing (CPT, HCPCS or SNOMED urine drug screening)."""
    if code is None:
        return False
    return any(
        (coding.system == CPT and (coding.code or "").strip() in DRUG_TEST_CPT)
        or (coding.system == HCPCS and (coding.code or "").strip().upper() in DRUG_TEST_HCPCS)
        or (coding.system == SNOMED and coding.code == UDS_PROCEDURE)
        for coding in code.codings
    )


def drug_test_procedures(record: PatientRecord) -> tuple[tuple[date | None, Procedure], ...]:
    """The drug tests recorded as done procedures, each with its day (None when undated)."""
    return tuple(
        (last_performed(p), p)
        for p in record.procedures
        if p.status in DONE_OR_UNSTATED and is_drug_test_procedure(p.code)
    )


# A report's statuses that say the test was done and reported: a result's, and R4's appended (an amended report).
# Registered, cancelled and entered-in-error say there is none, as for a result; partial, unknown, none or the
# sender's own leave a report that is no test done but is named.
REPORT_DONE_STATUSES = RESULT_STATUSES | {"appended"}


def is_drug_test_code(code: Concept | None, terms: Terminology) -> bool:
    """Whether a report's code names a urine drug test: a UDS LOINC or a lab's own code named so ("Drug screen,
    urine"), or a drug test procedure code."""
    return is_urine_drug_test(code, terms) or is_drug_test_procedure(code)


@slot_init
@dataclass(frozen=True, slots=True)
class UnreadReport:
    """A urine drug test report with no result PainPlan reads: its day, whether its status says the test was done,
    and what it says in words (never read per substance). `partly` says some of its results were read and judged,
    and the others named here could not be."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    report: DiagnosticReport
    day: date | None
    done: bool
    reading: str
    partly: bool = False
    # What its conclusion reads as (`report_value`), only to tell whether the test could be read, and why not
    # (`no_reading_why`: "test not performed", "dilute specimen"): never a result per substance.
    value: Value = "none"
    no_reading: str | None = None
    # What the lab's words disagree about, in plain words: its conclusion and another report's of the same results,
    # or its conclusion and its own results (`report_contradictions`). Named as a kind of its own, apart from
    # `reading` (what is not read), since the results were read, the more cautious way.
    disagreement: str | None = None

    @property
    def said(self) -> str:
        """All it says, as the plan page's list shows it: what is not read, then what disagrees."""
        return "; ".join(words for words in (self.reading, self.disagreement) if words)

    @property
    def counted(self) -> bool:
        """Whether it is a test done for the year's test: done, none of its results read (a report partly read is a
        test by its read results), and its conclusion not saying the test was not performed or could not be read."""
        return self.done and not self.partly and self.no_reading is None

    @property
    def not_performed(self) -> bool:
        """Whether its conclusion says the lab did not test the sample ("Test not performed", "Specimen rejected"): no
        test, wherever dated, so never one dated after today either."""
        return self.no_reading == NOT_PERFORMED

    @property
    def name(self) -> str:
        """The report's name as the cards and the plan page show it: its code's, else "urine drug test"."""
        return drug_test_name(self.report.code)

    @property
    def when(self) -> str | None:
        """The report's date as the cards and the page write it (`as_written`)."""
        return as_written(self.day, self.report.dated_partial)


def unread_drug_test_reports(
    record: PatientRecord, terms: Terminology, verdicts: Callable[[], SpecimenVerdicts] | None = None
) -> tuple[UnreadReport, ...]:
    """The urine drug test reports none of whose results is a urine drug test result on record (contained in it or
    sent beside it), leaving out those whose status says there is no result. A report whose results are read is that
    test already: counted again it would be a second test. For the others the conclusion is all there is to read.
    A report some of whose results were read and others could not be (record.results_not_received) is named too,
    with what was missed and why: its read results are judged, the missing ones must not go unseen. `verdicts`: what
    reads the record's specimen verdicts once for every caller (`Facts.specimen_verdicts`), asked only when a
    conclusion says what was found (`report_contradictions`); read there when not given."""
    if not record.diagnostic_reports:
        return ()
    # By where each lives (`Observation.located`): an HIE report's o9 is not the EHR's o9.
    received = {o.located for o in record.observations if o.id is not None}
    read = {o.located for o in record.observations if o.id is not None and is_urine_drug_test(o.code, terms)}
    missing = {ref: why for ref, why in record.results_not_received if ref not in received}
    concluded, contradicting = _conclusions_of(record.diagnostic_reports, record.observations, terms, verdicts)
    disagreeing = _disagreements(concluded)
    found = []
    for report in record.diagnostic_reports:
        if report.status in NO_RESULT_STATUSES or _report_awaits(report) or not is_drug_test_code(report.code, terms):
            continue  # no result, or none yet (`awaiting_results` names it)
        why = "; ".join(dict.fromkeys(missing[r] for r in report.results if r in missing)) if missing else ""
        value: Value = "none"
        no_reading, disagreement = None, None
        partly = not read.isdisjoint(report.results)  # some of its results are read as urine drug tests
        # a negative its conclusion could not be read surely for is named with that result (`_not_read_surely`)
        itself = _contradicted_itself(contradicting.get(id(report), ())) if contradicting else ()
        if not partly:
            reading = _report_reading(report, not received.isdisjoint(report.results), why)
            value = report_value(report)
            no_reading = ", ".join(_no_reading_of(value, report, frozenset)) or None
        elif why or id(report) in disagreeing or itself:
            reading = _results_missed(report, missing, why)
            disagreement = "; ".join(
                said
                for said in (
                    _disagreement(disagreeing.get(id(report), ())),
                    _contradiction_words(report, itself) if itself else "",
                )
                if said
            )
        else:
            continue  # its results are read: the test is on record as they are
        day, done = local_date(report.result_time), report.status in REPORT_DONE_STATUSES
        found.append(UnreadReport.make(report, day, done, reading, partly, value, no_reading, disagreement or None))
    return tuple(found)


def _contradicted_itself(found: Sequence[Contradiction]) -> tuple[Contradiction, ...]:
    """Of what a report's conclusion says against its results, the contradictions: not a negative it could not be
    read surely for (`_not_read_surely`), which says nothing against it."""
    return tuple(c for c in found if c.doubt != "unsure")


def _results_missed(report: DiagnosticReport, missing: Mapping[str, str], why: str) -> str:
    """How many of a report partly read's results did not come, and why; empty when all came."""
    if not why:
        return ""
    return f"{sum(r in missing for r in report.results)} of its {len(report.results)} results not received: {why}"


def _disagreements(
    concluded: Mapping[str, tuple[DiagnosticReport, ...]],
) -> dict[int, tuple[DiagnosticReport, ...]]:
    """The reports standing for one result (`linked_conclusions`) whose conclusions say different things of its
    specimen (`_said_of_specimen`) or of the drug ("Positive for oxycodone" and "Negative", `_reads_positive`), by
    the first of them: each such set is named once, on its first report. Its results are read the most cautious way
    (`_as_concluded`), never in silence. Each report there concludes something (`linked_conclusions` keeps no other)."""
    found: dict[int, tuple[DiagnosticReport, ...]] = {}
    for reports in concluded.values():
        if len(reports) > 1 and len({(_said_of_specimen(r), _reads_positive(r)) for r in reports}) > 1:
            found.setdefault(id(reports[0]), reports)
    return found


def _reads_positive(report: DiagnosticReport) -> bool:
    """Whether a report's conclusion reads the test positive, as a linked result takes it (`_as_concluded_by`)."""
    return report_value(report) == "positive"


def _disagreement(reports: Sequence[DiagnosticReport]) -> str:
    """What reports standing for the same results and concluding differently say, in words: "about the specimen" when
    they agree about the drug, so a positive beside a negative is never called a specimen's doubt."""
    if not reports:
        return ""
    said = ", ".join(f'"{_conclusion_words(report)}"' for report in reports)
    about = " about the specimen" if len(set(map(_reads_positive, reports))) == 1 else ""
    return f"report conclusions of the same results disagree{about}: {said}; read the more cautious way"


# A conclusion is quoted on a face to this many characters: a pasted 100 kB text was quoted whole on the card, the
# page and the note. Real conclusions are far shorter; the cut one ends with an ellipsis.
CONCLUSION_QUOTED_CHARACTERS = 300


def _conclusion_words(report: DiagnosticReport) -> str | None:
    """A report's conclusion as written (to `CONCLUSION_QUOTED_CHARACTERS`), else its first coded conclusion's name:
    what the faces quote."""
    words = report.conclusion or next((c.display() for c in report.conclusion_codes if c.display()), None)
    return clip(words, CONCLUSION_QUOTED_CHARACTERS) if words else words


def conclusion_cut_words(length: int, what: str = "conclusion") -> str:
    """A conclusion (or a result's note, `what`) read in part (`conclusion_read`), as the faces name it: "its
    conclusion (100,024 characters) was read to its first 10,000 characters"."""
    return f"its {what} ({length:,} characters) was read to its first {CONCLUSION_READ_CHARACTERS:,} characters"


def _cut_said(report: DiagnosticReport) -> str:
    """ "; " and `conclusion_cut_words` when a report's conclusion was read in part, else ""."""
    length = len(report.conclusion or "")
    return f"; {conclusion_cut_words(length)}" if length > CONCLUSION_READ_CHARACTERS else ""


def _report_reading(report: DiagnosticReport, results_received: bool, why: str = "") -> str:
    """What a report with no result PainPlan reads says, in words: its conclusion, else its coded conclusion's name,
    else whether its results came (under codes that are no urine drug test) or not, and why not when they were
    sought and could not be read, and that its conclusion was read in part when it was (`_cut_said`). A status that
    says the test is not done (partial, unknown) is said instead. Never read per substance (clinical-logic.md, *Lab
    reports*)."""
    if report.status not in REPORT_DONE_STATUSES:
        return f"report status {report.status or 'unknown'}"
    words = _conclusion_words(report)
    if words:
        return f'report conclusion "{words}"' + _cut_said(report) + (f"; results not received: {why}" if why else "")
    if results_received:
        return "report whose results are not read as urine drug tests" + (
            f"; others not received: {why}" if why else ""
        )
    if why:
        return f"report with no result received: {why}"
    if report.document:  # its results may be only in the document: "no result received" sent the reader elsewhere
        return "report sent as a document only: read it there"
    return "report with no result received"


def drug_tests_done_days(
    record: PatientRecord,
    terms: Terminology,
    unread: Sequence[UnreadReport] | None = None,
    procedures: Sequence[tuple[date | None, Procedure]] | None = None,
) -> tuple[date, ...]:
    """The days of drug tests done with no result to read, newest first (undated ones left out): procedures (a
    point-of-care cup, a billed test) and reports whose results PainPlan does not read (a conclusion only), of
    `unread` (the record's `unread_drug_test_reports`, found again when not given) those counted as a test done
    (`UnreadReport.counted`: a report partly read is a test already, by its read results, and one whose conclusion
    says the test was not performed or could not be read is none);
    `procedures` likewise the record's `drug_test_procedures`."""
    if unread is None:
        unread = unread_drug_test_reports(record, terms)
    if procedures is None:
        procedures = drug_test_procedures(record)
    days = {day for day, _ in procedures}
    days.update(report.day for report in unread if report.counted)
    return tuple(sorted((day for day in days if day is not None), reverse=True))


def is_uds_order(code: Concept | None, terms: Terminology, config: GuidelineConfig) -> bool:
    """An order for a urine drug screen: SNOMED 310627008, a UDS LOINC test, or the site's own orderable
    (suggestions.uds_code), so an accepted PainPlan suggestion is recognised as one (10.3)."""
    if code is None:
        return False
    return (
        is_drug_test_procedure(code)  # SNOMED urine drug screening, or a CPT/HCPCS drug test
        or is_urine_drug_test(code, terms)  # a UDS LOINC, or a lab's own orderable named "Drug screen, urine"
        or code.has(*config.site_codes.coding("suggestions.uds_code").key)  # either side in any known spelling
    )


@slot_init
@dataclass(frozen=True, slots=True)
class Prescription:
    """An order or dispense in effect in the 30 days before a result, or a dose given shortly before it (`how` says
    "given" or "ordered in hospital"), for the explanation."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    name: str
    day: date
    how: str | None = None
    # Its code and its name state different opioids (`NamedOtherwise`): the other drugs, against the set asked.
    otherwise: OtherDrugs | None = None

    def written(self) -> str:
        """ "HYDROmorphone 2 MG tablet (2026-06-05)", with the conflict of its code and name when there is one
        ("(2026-06-05; its code says oxycodone, its name says hydromorphone)")."""
        conflict = f"; {self.otherwise.words}" if self.otherwise else ""
        return f"{self.name} ({iso_day(self.day)}{conflict})"


@dataclass(frozen=True, slots=True)
class NamedOtherwise:
    """A prescribed medication whose code and name state different opioids (`mme.DrugConflict`, the one reading of
    the conflict the MME counts by): each drug read as a medication of its own, so a test is judged against either.
    Only the prescriber knows which one the patient takes."""

    words: str  # "its code says oxycodone, its name says hydromorphone", as the MME line and named gap say it
    readings: tuple[tuple[str, ResolvedMedication], ...]  # (drug, medication): the code's, then each name's


@dataclass(frozen=True, slots=True)
class OtherDrugs:
    """The drugs of a `NamedOtherwise` supply other than the one a result was judged by: a positive for one of them
    the same day is no unexpected negative for that supply (`_judged_either_way`)."""

    words: str
    labels: tuple[str, ...]  # ("hydromorphone",)
    readings: tuple[ResolvedMedication, ...]


@slot_init
@dataclass(frozen=True, slots=True)
class GivenDose:
    """A medicine clinicians gave (an administration) or ordered in hospital, from its first to its last day: no
    prescription the patient takes, but what explains a positive result in the days after (GIVEN_WINDOW_DAYS)."""

    if TYPE_CHECKING:  # slot_init adds make, with the class's own signature
        make: ClassVar[type[Self]]

    medication: ResolvedMedication
    first: date
    last: date
    how: str  # "given", or "ordered in hospital"


# An inpatient or emergency order carried out, or being carried out: a cancelled, held or proposed one gave nothing.
HOSPITAL_ORDER_DONE = frozenset({"active", "completed"})


def doses_given(record: PatientRecord, config: GuidelineConfig) -> tuple[GivenDose, ...]:
    """Medicines clinicians gave (an administration completed or in progress) or ordered in hospital (an inpatient or
    emergency order carried out: active or completed, not a proposal), each dated: what explains a positive urine
    drug test in the days after. Outpatient orders are the prescriptions, read with their supply."""
    doses = []
    for given in record.administrations:
        if given.status in GIVEN_STATUSES and given.when is not None:
            first = given.given or given.given_start or given.when
            doses.append(GivenDose.make(given.medication, first.date(), given.when.date(), "given"))
    for order in record.orders:
        # An outpatient order is a prescription, read with its supply: told apart before it is dated, as most are.
        if (
            order.is_draft
            or order.status not in HOSPITAL_ORDER_DONE
            or not is_order(order)
            or is_ambulatory(order, config)
        ):
            continue
        day = local_date(order_start(order))
        if day is not None:
            # A ward order runs through the stay it states (doses every few hours until discharge); an end before
            # its start is a typing slip, and an order stating none is read as given on its first day only.
            end = stated_end(order)
            last = end if end is not None and end > day else day
            doses.append(GivenDose.make(order.medication, day, last, "ordered in hospital"))
    return tuple(doses)


class PrescriptionHistory:
    """Real orders and completed dispenses with their supply intervals (5.1), filtered per medication set once:
    "was X prescribed in the 30 days before this result" is asked for every substance of every result."""

    def __init__(
        self,
        orders: Iterable[MedOrder],
        interval_of: Callable[[MedOrder], Interval | None],
        dispenses: Iterable[Dispense],
        terms: Terminology,
        given: Callable[[], Iterable[GivenDose]] = tuple,
    ) -> None:
        """`orders` are the orders that count as exposure (`counts_as_exposure_order`), their supply intervals read
        by `interval_of` only for the sets a result asks about; `dispenses` those that count as exposure
        (`counts_as_exposure_dispense`), their supply intervals (`dispense_interval`) likewise read only for the sets
        asked about. `given` gives the doses clinicians gave or ordered in hospital, read only when a positive no
        prescription explains asks for them."""
        self._terms = terms
        self._interval_of = interval_of
        self._given_source = given
        self._given: tuple[GivenDose, ...] | None = None
        self._given_by_set: dict[str, tuple[GivenDose, ...]] = {}
        # (medication, the order or the fill whose supply interval is read when its set is asked for): most fills are
        # of drugs no result asks about (a statin, an antihypertensive), and dating every one cost more than judging.
        supplied: list[tuple[ResolvedMedication, MedOrder | Dispense]] = [
            (order.medication, order) for order in orders if is_taken(order)
        ]
        # Completed, or with no status but handed over: the status is optional before R4.
        supplied += [(d.medication, d) for d in dispenses if handed_over(d)]
        self._supplied = supplied
        # A fill's interval by its place, read once though its drug is in several sets asked about.
        self._fill_intervals: dict[int, Interval | None] = {}
        # Orders and fills of one drug share one medication object: set membership is asked once per medication, and
        # a set's supplies are picked by their places rather than by reading them all again.
        self._medications: dict[int, ResolvedMedication] = {}
        self._places: dict[int, list[int]] = {}
        medications, places = self._medications, self._places
        for place, (medication, _) in enumerate(supplied):
            found = places.get(id(medication))
            if found is None:
                places[id(medication)] = [place]
                medications[id(medication)] = medication
            else:
                found.append(place)
        self._by_set: dict[str, tuple[tuple[ResolvedMedication, Interval], ...]] = {}
        self._by_name: dict[tuple[str, ...], tuple[tuple[ResolvedMedication, Interval], ...]] = {}
        self._turning: dict[tuple[str, bool], tuple[date, ...]] = {}
        # The medications whose code and name state different opioids, by id, worked out once per record
        # (`_conflicts`): almost no record has one, and then no set is read for a name's other drug. Each name's
        # reading is read once too.
        self._conflicted: dict[int, NamedOtherwise] | None = None
        self._name_readings: dict[str, ResolvedMedication] = {}

    def _in_set(self, set_name: str) -> tuple[tuple[ResolvedMedication, Interval], ...]:
        """The supplies of medications in a set, in record order (the first in effect explains a result)."""
        if set_name not in self._by_set:
            medication_in = self._terms.medication_in
            chosen = [key for key, medication in self._medications.items() if medication_in(set_name, medication)]
            conflicted = self._conflicts()
            if conflicted:  # almost never: a record's usual supplies are in a set by their codes alone
                taken = set(chosen)
                chosen += [k for k, o in conflicted.items() if k not in taken and self._named_in(set_name, o)]
            self._by_set[set_name] = self._supplies_of(chosen)
        return self._by_set[set_name]

    def _named_in(self, set_name: str, otherwise: NamedOtherwise) -> bool:
        """Whether a drug a medication's name states against its code is in the set: such an order is judged
        against either drug (clinical-logic, "A code and a name that state different drugs")."""
        medication_in = self._terms.medication_in
        return any(medication_in(set_name, reading) for _, reading in otherwise.readings[1:])

    def _conflicts(self) -> dict[int, NamedOtherwise]:
        """The supplied medications whose code and name state different opioids (`mme.identify_drug`'s
        `drug_conflicts`, the reading the MME counts by), by `id` as `_medications` keys them (which keeps each
        alive, so its id stays its own): worked out once per record, reading only its opioids."""
        if self._conflicted is None:
            medication_in = self._terms.medication_in
            # the conflict is of an opioid's code: a statin's name is never read for one
            read = (
                (key, self._read_otherwise(medication))
                for key, medication in self._medications.items()
                if medication_in(OPIOID, medication)
            )
            self._conflicted = {key: otherwise for key, otherwise in read if otherwise is not None}
        return self._conflicted

    def _read_otherwise(self, medication: ResolvedMedication) -> NamedOtherwise | None:
        """An opioid's conflicts of code and name (`_conflicts`): those of its identified drug, each name read alone;
        None for most."""
        drug = identify_drug(medication, self._terms)
        conflicts = [c for c in drug.drug_conflicts if c.opioid] if isinstance(drug, Drug) else []
        if not conflicts:
            return None
        coded, *named = conflict_labels(conflicts)  # one code, so every conflict's code states the same drugs
        words = "; ".join(conflict_said(coded, label) for label in named)
        readings = [
            (coded, medication),
            *((label, self._name_reading(c.name)) for label, c in zip(named, conflicts, strict=True)),
        ]
        return NamedOtherwise(words, tuple(readings))

    def _name_reading(self, name: str) -> ResolvedMedication:
        """The medication known by this name alone (`mme.named_medication`), one object per name so the set
        memberships asked of it are remembered."""
        if name not in self._name_readings:
            self._name_readings[name] = named_medication(name)
        return self._name_readings[name]

    def _prescription(self, medication: ResolvedMedication, start: date, set_name: str) -> Prescription:
        """The supply found in `set_name`, with the drugs its code and name state besides the set's when they
        differ (`OtherDrugs`)."""
        name = self._terms.medication_name(medication)
        otherwise = self._conflicts().get(id(medication))
        if otherwise is None:
            return Prescription.make(name, start)
        medication_in = self._terms.medication_in
        others = [(label, r) for label, r in otherwise.readings if not medication_in(set_name, r)]
        other = OtherDrugs(otherwise.words, tuple(label for label, _ in others), tuple(r for _, r in others))
        return Prescription.make(name, start, None, other)

    def explains(self, set_name: str, readings: Iterable[ResolvedMedication]) -> bool:
        """Whether any of these medications is in the set: a positive explained by it is one for that drug."""
        return any(self._terms.medication_in(set_name, reading) for reading in readings)

    def _named(self, drugs: tuple[str, ...]) -> tuple[tuple[ResolvedMedication, Interval], ...]:
        """The supplies of medications whose name says one of `drugs` (as a word), in record order."""
        if drugs not in self._by_name:
            words = re.compile(rf"(?<![a-z])(?:{'|'.join(map(re.escape, drugs))})(?![a-z])")
            name = self._terms.medication_name
            self._by_name[drugs] = self._supplies_of(
                [key for key, medication in self._medications.items() if words.search(name(medication).lower())]
            )
        return self._by_name[drugs]

    def _supplies_of(self, chosen: Sequence[int]) -> tuple[tuple[ResolvedMedication, Interval], ...]:
        """The supplies, in record order, of the medications `chosen` names (by `id`, as `_medications` keys them)."""
        places, fill_intervals = self._places, self._fill_intervals
        picked = []
        for place in sorted([place for key in chosen for place in places[key]]):
            medication, supply = self._supplied[place]
            if isinstance(supply, MedOrder):
                interval = self._interval_of(supply)
            else:
                remembered = fill_intervals.get(place, MISSING)
                if remembered is MISSING:
                    remembered = fill_intervals[place] = dispense_interval(supply)
                interval = remembered
            if interval:
                picked.append((medication, interval))
        return tuple(picked)

    def named_in_effect(self, drugs: tuple[str, ...], result_day: date) -> Prescription | None:
        """An order or dispense whose medication's name says one of `drugs`, with a supply overlapping [L − 30 days,
        L]: for drugs no medication set names (the tricyclics), explains a positive as `in_effect` does. Doses given
        in hospital are not read."""
        high, low = EXPLAINS_POSITIVE.bounds(result_day)
        for medication, (start, end) in self._named(drugs):
            if start <= high and end >= low:
                return Prescription.make(self._terms.medication_name(medication), start)
        return None

    def in_effect(self, set_name: str, result_day: date) -> Prescription | None:
        """An order or dispense in `set_name` whose supply overlaps [L − 30 days, L]: explains a positive (10.4).
        Else a dose of it clinicians gave, or ordered in hospital, in [L − 7 days, L]: a patient given fentanyl in
        the emergency department was "positive for fentanyl, not prescribed" on a test days later."""
        high, low = EXPLAINS_POSITIVE.bounds(result_day)
        for medication, (start, end) in self._in_set(set_name):
            if start <= high and end >= low:
                return self._prescription(medication, start, set_name)
        return self._given_before(set_name, result_day)

    def _given_before(self, set_name: str, result_day: date) -> Prescription | None:
        """The first dose in `set_name` given (or ordered in hospital) in the GIVEN_WINDOW_DAYS before the test."""
        high, low = GIVEN_EXPLAINS_POSITIVE.bounds(result_day)
        for dose in self._given_in_set(set_name):
            if dose.first <= high and dose.last >= low:
                return Prescription.make(
                    self._terms.medication_name(dose.medication), min(dose.last, result_day), dose.how
                )
        return None

    def _given_in_set(self, set_name: str) -> tuple[GivenDose, ...]:
        """The doses of medicines in a set, read from their source the first time any set is asked for: most
        calls judge no positive that the prescriptions leave unexplained, and never read them."""
        if self._given is None:
            self._given = tuple(self._given_source())
        if set_name not in self._given_by_set:
            self._given_by_set[set_name] = tuple(
                dose for dose in self._given if self._terms.medication_in(set_name, dose.medication)
            )
        return self._given_by_set[set_name]

    def turning_days(self, set_name: str, positive: bool) -> tuple[date, ...]:
        """The days on which `in_effect` (for a positive) or `taking_on` (for a negative) can start or stop finding a
        prescription of `set_name`, in order: on the days between two of them, each gives the same answer.

        Each supply's (and dose's) window is the one those judge by (EXPLAINS_POSITIVE, GIVEN_EXPLAINS_POSITIVE,
        NEGATIVE_UNEXPECTED): its first day, and the day after its last."""
        key = (set_name, positive)
        if key not in self._turning:
            days: set[date | None] = set()
            supplies = NEGATIVE_UNEXPECTED if not positive else EXPLAINS_POSITIVE
            for _, (start, end) in self._in_set(set_name):
                days.update(supplies.turns(start, end))
            if positive:
                for dose in self._given_in_set(set_name):
                    days.update(GIVEN_EXPLAINS_POSITIVE.turns(dose.first, dose.last))
            days.discard(None)
            self._turning[key] = tuple(sorted(days))  # type: ignore[arg-type]
        return self._turning[key]

    def taking_on(self, set_name: str, result_day: date) -> Prescription | None:
        """An order or dispense in `set_name` that started before the test day and supplies through it: only
        then is a negative unexpected.

        Deliberate difference from 10.4, which uses the same [L − 30, L] window for negatives: opioids leave the
        urine within days, so a supply that ended weeks before the test, or one written at the visit where the
        sample was taken, explains a negative, and calling it unexpected would wrongly suggest non-adherence.
        """
        high, low = NEGATIVE_UNEXPECTED.bounds(result_day)
        for medication, (start, end) in self._in_set(set_name):
            if start <= high and end >= low:
                return self._prescription(medication, start, set_name)
        return None


def _substance_result(
    substance: UdsSubstance,
    value: Value,
    day: date | None,
    last: date | None,
    history: PrescriptionHistory,
    negative_substances: frozenset[str],
) -> SubstanceResult:
    """The substance judged on the result's day; for a result dated to the month or the year only, whose `day` is
    the first day that date can mean and `last` its last (never after today), judged only when every day from the
    first to the last gives the same verdict. A negative for oxycodone in the month its prescription began is
    expected on the 1st and unexpected on the 31st: judged on the 1st alone, a possible diversion went unflagged
    with nothing said. Never the same verdict, it is not judged and says so (`unsettled`).

    The verdict can change only on a day a prescription starts or stops explaining the result (`turning_days`),
    so the first day and those days within the period are judged, never each of its up to 366 days."""
    in_effect, taking_on = history.in_effect, history.taking_on
    first = _judged_on(substance, value, day, in_effect, taking_on, negative_substances)
    if day is None or last is None:
        return first
    set_name = _day_dependent_set(substance, value, negative_substances)
    if set_name is None:
        return first  # nothing can explain it, or make it unexpected: the same verdict on every day
    for turn in history.turning_days(set_name, value == "positive"):
        if turn <= day:
            continue
        if turn > last:
            break
        judged = _judged_on(substance, value, turn, in_effect, taking_on, negative_substances)
        if judged.unexpected != first.unexpected:
            return SubstanceResult.make(substance.name, first.label, value, False, None, unsettled=True)
    return first


def _day_dependent_set(substance: UdsSubstance, value: Value, negative_substances: frozenset[str]) -> str | None:
    """The medication set that makes the substance's verdict depend on the test's day, else None: for a positive
    the set that may explain it, for a negative the set that may make it unexpected. Every other verdict
    (`_judged_on`) is the same on every day, and for a result dated to the month or the year only
    (`_substance_result`) too; dated or not is all that matters."""
    if value == "positive":
        return substance.expected_by or None
    if value == "negative" and substance.name in negative_substances:
        return substance.negative_unexpected_by or None
    return None


def _days_after(day: date, count: int) -> date | None:
    """`count` days after `day`, or None past the calendar's end (no result can be dated so late)."""
    try:
        return day + day_span(count)
    except OverflowError:
        return None


def _judged_on(
    substance: UdsSubstance,
    value: Value,
    day: date | None,
    in_effect: Callable[[str, date], Prescription | None],
    taking_on: Callable[[str, date], Prescription | None],
    negative_substances: frozenset[str],
) -> SubstanceResult:
    """The substance judged as if the test was done on `day`: a positive against the prescriptions in effect in
    the 30 days before it (or a dose given in the 7), a negative against a supply that covers it (10.4)."""
    label = SUBSTANCE_LABELS.get(substance.name, substance.name)
    if day is None or value not in ("positive", "negative"):
        return SubstanceResult.make(substance.name, label, value, False, None)
    if value == "positive":
        explainable = substance.expected_by or None
        explained = in_effect(substance.expected_by, day) if substance.expected_by else None
        if explained and explained.how:
            given = f"{explained.name} {explained.how} {iso_day(explained.day)}"
            return SubstanceResult.make(
                substance.name,
                label,
                value,
                False,
                f"expected: {given}",
                given=given,
                expected_by=given,
                explainable_by=explainable,
            )
        if explained:
            prescribed = explained.written()
            return SubstanceResult.make(
                substance.name,
                label,
                value,
                False,
                f"expected: {prescribed}",
                expected_by=prescribed,
                explainable_by=explainable,
                named_otherwise=prescribed if explained.otherwise else None,
            )
        return SubstanceResult.make(
            substance.name,
            label,
            value,
            True,
            f"positive for {label}, not prescribed in the 30 days before",
            explainable_by=explainable,
        )
    if substance.name in negative_substances and substance.negative_unexpected_by:
        supply = taking_on(substance.negative_unexpected_by, day)
        if supply:
            return _unexpected_negative(substance.name, label, supply)
    return SubstanceResult.make(substance.name, label, value, False, None)


def _unexpected_negative(substance: str, label: str, prescribed: Prescription) -> SubstanceResult:
    """ "negative for oxycodone although oxycodone 5 mg was prescribed (2026-06-05)"; of a supply whose code and
    name state different opioids, with the conflict and the other drug, whose positive would have explained it."""
    other = prescribed.otherwise
    # Of a conflict whose drugs are all the set's (no other drug to look for), the line is the usual one.
    either = other if other is not None and other.labels else None
    why = f"; {either.words}, and no result that day was positive for {' or '.join(either.labels)}" if either else ""
    words = f"negative for {label} although {prescribed.name} was prescribed ({iso_day(prescribed.day)}{why})"
    named = prescribed.written() if other else None
    return SubstanceResult.make(substance, label, "negative", True, words, other_drugs=either, named_otherwise=named)


def uds_results(
    record: PatientRecord,
    terms: Terminology,
    history: PrescriptionHistory,
    config: GuidelineConfig,
    since: date | None = None,
    today: date | None = None,
    before: date | None = None,
    verdicts: SpecimenVerdicts | None = None,
) -> tuple[UdsResult, ...]:
    """Every urine drug test result on record (or dated `since` onwards; or, with `before`, only those dated before
    it), newest first, with each substance judged (6.4, 10.4). Judging is the costly part, so the checks ask only
    for the window they read, and every result is the window and those before it (`joined_results`). A result
    dated to the month or the year only is dated by its first day (`since` and the year's test read it so) and
    judged on every day its date can mean up to `today` (`_substance_result`). `verdicts`: the record's
    `specimen_verdicts_of`, when already read (a caller judging two windows reads them once)."""
    options = config.check("unexpected-uds-result").options
    negative_substances = frozenset(options["unexpected_negative_substances"])
    include_cannabinoid = bool(options["cannabinoid"])
    # A screen and its confirmation on one day judge a substance the same way, so each (substance, value, day) is
    # judged once.
    # Keyed by the day too where a prescription can change the verdict, else only by whether the result is dated.
    judged: dict[tuple[str, Value, date | None, date | None] | tuple[str, Value, bool], SubstanceResult] = {}
    # Results also share their value objects ("Negative", an interpretation code): each reading is combined once.
    readings: dict[tuple[int, str | None, int, bool | None], Value] = {}
    results = []
    withdrawn: list[Observation] = []  # results the lab says were not performed
    # Specimen validity results judge the drug results of their specimen (`_fit_for`).
    if verdicts is None:
        verdicts = specimen_verdicts_of(record.observations)
    # A report's conclusion about its specimen reads the results it links (`_as_concluded`); most records link none.
    concluded, contradictions = _conclusions_of(record.diagnostic_reports, record.observations, terms, verdicts)
    for observation, test in _results_and_items(record.observations, terms, include_cannabinoid):
        if verdicts is not NO_VERDICTS:  # most charts send no validity result: no call per result
            observation = _with_specimen_verdicts(observation, verdicts)
        moment = observation.result_time
        day = moment.date() if moment else None
        if since is not None and day is not None and day < since:
            continue  # an undated result is kept: it cannot be judged, and it is named so (never dropped unseen)
        if before is not None and (day is None or day >= before):
            continue  # the window's: an undated result is in every window
        partial = observation.dated_partial
        # The last day a date written to the month or the year can mean, never after today nor before its first.
        last = last_possible_day(day, partial, today) if partial is not None and day is not None else None
        if (
            observation.value_quantity is not None
            or written_limit(observation.value_string)
            or observation.notes
            or observation.specimen_unfit
        ):
            value = result_value(observation)  # an amount is read against its own range, a note is its own
        else:
            reading = (
                id(observation.value_concept),
                observation.value_string,
                id(observation.interpretation),
                observation.value_boolean,
            )
            known = readings.get(reading)
            if known is None:
                known = readings[reading] = result_value(observation)
            value = known
        linking = concluded.get(observation.located or "") if concluded else None
        read_positive = contradicted = False
        denied = unsure = None
        if linking:
            read, contradicted = _read_linked(observation, value, test, linking, contradictions)
            if contradicted:
                unsure = _not_read_surely(linking, test, contradictions)
            if read is None:
                withdrawn.append(observation)  # "Specimen rejected": as a result whose own value says so
                continue
            observation, value, read_positive = read
            if value == "positive" and (denying := _contradicting(linking, test, contradictions, "positive")):
                denied = _conclusion_words(denying)
        if value == "none" and _lab_did_not_test(observation, value):  # most results have a reading: no call
            # Not judged, but it withdraws what was sent before for that sample (_standing): a positive corrected to
            # "Specimen rejected: mislabeled" is no longer the lab's result.
            withdrawn.append(observation)
            continue
        substances = []
        for substance in test.substances:
            # Each row's own (rows sharing a substance judge differently). A verdict no prescription can change (a
            # negative nothing makes unexpected, a positive nothing explains, no reading) is the same on every day:
            # judged once per call, not once per test day.
            key: tuple[str, Value, date | None, date | None] | tuple[str, Value, bool]
            if _day_dependent_set(substance, value, negative_substances) is not None:
                key = (substance.test_set, value, day, last)
            else:
                key = (substance.test_set, value, day is None)
            found = judged.get(key)
            if found is None:
                found = judged[key] = _substance_result(substance, value, day, last, history, negative_substances)
            substances.append(found)
        results.append(
            uds_result(
                observation,
                day,
                test.name,
                value,
                tuple(substances),
                test.not_judged,
                test.left_out,
                read_positive,
                contradicted,
                denied,
                unsure,
            )
        )
    return _newest_first(_judged_either_way(_standing(results, withdrawn), history))


def _judged_either_way(results: list[UdsResult], history: PrescriptionHistory) -> list[UdsResult]:
    """The results with each unexpected negative made so by a supply whose code and name state different opioids
    withdrawn when a result of the same date is positive for one of its other drugs (a positive that drug
    explains): the patient takes one of the two, and only the prescriber knows which (clinical-logic, "A code and a
    name that state different drugs"). The other drug's positive is itself expected (`PrescriptionHistory._in_set`)."""
    if not any(item.other_drugs for result in results for item in result.unexpected):
        return results  # the usual case: no such supply made a negative unexpected
    positives: dict[str, dict[str, str]] = {}  # date → the positives' medication sets → their labels
    for result in results:
        for item in result.substances:
            if result.when and item.value == "positive" and item.explainable_by:
                positives.setdefault(result.when, {}).setdefault(item.explainable_by, item.label)
    return [_either_way(result, positives.get(result.when or "", {}), history) for result in results]


def _either_way(result: UdsResult, positives: Mapping[str, str], history: PrescriptionHistory) -> UdsResult:
    """The result with its negatives a positive of the same date for the supply's other drug explains withdrawn."""
    substances = tuple(_expected_either_way(item, positives, history) or item for item in result.substances)
    if all(new is old for new, old in zip(substances, result.substances, strict=True)):
        return result
    return _with_substances(result, substances)


# What `uds_result` works out from the other fields of a UdsResult, never given to it.
_DERIVED = frozenset({"when", "unexpected", "unsettled"})


def _with_substances(result: UdsResult, substances: tuple[SubstanceResult, ...]) -> UdsResult:
    """The result with its substances judged again, every other field it was made with kept by name: written out
    argument by argument, a field added to UdsResult and missed here went back to its default in silence."""
    given = {f.name: getattr(result, f.name) for f in fields(UdsResult) if f.name not in _DERIVED}
    return uds_result(**{**given, "substances": substances})


def _expected_either_way(
    item: SubstanceResult, positives: Mapping[str, str], history: PrescriptionHistory
) -> SubstanceResult | None:
    """An unexpected negative for the drug the code (or the name) states, beside a positive the other drug explains:
    expected, saying which positive (the lab's own words: an opiate screen, not "hydromorphone", when that is what was
    positive); None when it stays as it is."""
    other = item.other_drugs
    if not item.unexpected or other is None:
        return None
    found = [label for medication_set, label in positives.items() if history.explains(medication_set, other.readings)]
    if not found:
        return None
    words = f"expected: positive for {and_list(found)} the same day ({other.words})"
    return SubstanceResult.make(
        item.substance, item.label, item.value, False, words, named_otherwise=item.named_otherwise
    )


def in_window(results: Iterable[UdsResult], since: date) -> tuple[UdsResult, ...]:
    """The results (of every result, `uds_results`) dated `since` onwards or undated: what `uds_results` gives for
    `since`, since a result replaced by a more settled one (`_standing`) is of the same sample, and so of the same
    day, as its replacement: a window never holds one whose replacement it leaves out."""
    return tuple([r for r in results if r.day is None or r.day >= since])


def joined_results(window: Sequence[UdsResult], older: Sequence[UdsResult]) -> tuple[UdsResult, ...] | None:
    """Every result, from the results of a window (`uds_results` with `since`) and those dated before it (with
    `before`), in the order `uds_results` gives with no window: newest first, the undated (all in the window) last.
    None when the older hold a result dated 0001-01-01 and the window an undated one: such a result sorts among the
    undated in record order (`_newest_first`), which the two lists do not tell, and every result is read again."""
    undated = [r for r in window if r.day is None]
    if not undated:
        return (*window, *older)
    if any(r.day == date.min for r in older):
        return None
    return (*window[: len(window) - len(undated)], *older, *undated)


def _newest_first(results: list[UdsResult]) -> tuple[UdsResult, ...]:
    """Newest first, the undated last, each day's and the undated in record order: sorted by `day or date.min`,
    newest first, with the days compared in C rather than through a key function per result."""
    dated = [r for r in results if r.day is not None and r.day != date.min]
    if len(dated) == len(results):
        return tuple(sorted(dated, key=_DAY, reverse=True))
    return (*sorted(dated, key=_DAY, reverse=True), *[r for r in results if r.day is None or r.day == date.min])


_DAY = attrgetter("day")


# How settled a result is: a lab replaces a preliminary with its final, and a final with a correction or amendment.
_SETTLED = {"preliminary": 1, "final": 2, "amended": 3, "corrected": 3}


def _standing(results: list[UdsResult], withdrawn: Sequence[Observation] = ()) -> list[UdsResult]:
    """The results that no more settled result of the same test on the same sample replaces. Labs and interface
    engines often send a correction (or the final after a preliminary) as a resource of its own and leave the first
    standing: read side by side, a positive the lab corrected to negative was still "unexpected fentanyl" on the card
    and an overdose risk factor. Two results equally settled are both kept, since nothing says which stands.
    `withdrawn` are results that say the test was not performed: never judged themselves, they replace as any
    result does, so a positive corrected to "Specimen rejected" or a preliminary whose final is "QNS" stands no more."""
    if not withdrawn and all(result.observation.status == "final" for result in results):
        return results  # the usual chart: nothing replaces anything
    keyed = [_keyed(result.observation) for result in results]
    return _not_replaced(results, keyed, (*keyed, *map(_keyed, withdrawn)))


_Keyed = tuple[tuple[object, ...] | None, int]  # a result's test and sample (None when unknown), and how settled
_Item = TypeVar("_Item")


def _not_replaced(items: Sequence[_Item], keyed: Sequence[_Keyed], replacing: Iterable[_Keyed]) -> list[_Item]:
    """The items (each with its test, sample and how settled it is, in `keyed`) that no more settled result of the
    same test and sample among `replacing` replaces: the rule the chart's results and the population's tests done
    share."""
    best = _most_settled(replacing)
    return [item for item, key in zip(items, keyed, strict=True) if _still_stands(key, best)]


def _most_settled(keyed: Iterable[_Keyed]) -> dict[tuple[object, ...], int]:
    """How settled the most settled result of each test and sample is."""
    best: dict[tuple[object, ...], int] = {}
    for sample_test, settled in keyed:
        if sample_test is not None and settled > best.get(sample_test, 0):
            best[sample_test] = settled
    return best


def _still_stands(keyed: _Keyed, best: Mapping[tuple[object, ...], int]) -> bool:
    """Whether no more settled result of the same test and sample replaces this one."""
    sample_test, settled = keyed
    return sample_test is None or settled >= best.get(sample_test, 0)


def _keyed(observation: Observation) -> _Keyed:
    """The result's test and sample (None when unknown), and how settled it is."""
    return sample_test(observation), _SETTLED.get(observation.status or "", 2)


def named_test(code: Concept | None) -> Hashable | None:
    """Which test a record's code names, the one rule of "the same test" the cards and the plan page share: its codes
    (system and code, in any order, each once), else, when it carries no code, its name (its text, else a coding's
    display, case and surrounding spaces aside: a lab's report or result known by name only); None with neither."""
    if code is None:
        return None
    codes = frozenset([(c.system or "", c.code) for c in code.codings if c.code])
    if codes:
        return codes
    return (code.display() or "").strip().casefold() or None


def one_sample(code: Concept | None, taken: datetime | None) -> tuple[Hashable, datetime] | None:
    """One test of one sample, as each record of it gives it (a result, a lab report, a test done as a procedure): the
    test (`named_test`) and the instant its sample was taken; None when either is unknown, or the instant is a day
    alone (`day_only`), which may be another sample of that day (an emergency department's screen and the clinic's
    that afternoon)."""
    if taken is None or day_only(taken):
        return None
    test = named_test(code)
    return None if test is None else (test, taken)


def sample_test(observation: Observation) -> tuple[Hashable, datetime] | None:
    """A result's test and sample (`one_sample`), collected at its effective time: one dated only by when it was
    issued may be another sample."""
    return one_sample(observation.code, observation.collected)


def results_of_unknown_status(
    record: PatientRecord, terms: Terminology, config: GuidelineConfig
) -> tuple[tuple[str, date | None, str | None], ...]:
    """The urine drug test results of any date whose status is neither a result's nor one that says there is none,
    each with its test's name, day and date as the cards write it (`as_written`; undated, the dates it was sent but
    not read, `unread_words`, so no line calls it "undated"). Read once per call
    (`Facts.uds_results_of_unknown_status`), each reader taking its own window of them."""
    include_cannabinoid = bool(config.check("unexpected-uds-result").options["cannabinoid"])
    found = []
    for observation in record.observations:
        if observation.status in RESULT_STATUSES or observation.status in NO_RESULT_STATUSES:
            continue
        test = _read_test(observation.code, terms, include_cannabinoid)
        if test is None:
            continue
        day = observation.result_time.date() if observation.result_time else None
        if test.substances or test.not_judged or _reports_an_unnamed_finding(observation):
            written = as_written(day, observation.dated_partial) or unread_words(observation.unread_dates)
            found.append((test.name, day, written))
    return tuple(found)


# Of the statuses that say there is no result (`NO_RESULT_STATUSES`), the one that says a result is to come: the lab
# has the test, not yet its result. Cancelled and entered-in-error say none will come.
AWAITING_STATUS = "registered"
PRELIMINARY = "preliminary"
# How a test awaiting its result is said, by why: its status registered, or a preliminary result with no value yet.
_AWAITING_SAID = {AWAITING_STATUS: f"status {AWAITING_STATUS}", PRELIMINARY: f"status {PRELIMINARY}, no value yet"}


def _carries_no_value(observation: Observation) -> bool:
    """No value of any kind, no flag, no note, no reason a value is absent and no component with a value: nothing of a
    result but its name and times."""
    return not observation.data_absent and _sends_no_value(observation)


def _sends_no_value(observation: Observation) -> bool:
    """No value of any kind, no flag, no note and no component with a value (a reason its value is absent aside)."""
    return (
        observation.value_concept is None
        and not (observation.value_string or "").strip()
        and observation.value_quantity is None
        and observation.value_boolean is None
        and not observation.interpretation
        and not observation.notes
        and all(
            c.value_concept is None
            and not (c.value_string or "").strip()
            and c.value_quantity is None
            and not c.interpretation
            for c in observation.components
        )
    )


def awaits_its_value(observation: Observation, by_location: Callable[[], Mapping[str, list[Observation]]]) -> bool:
    """Whether a preliminary result carries no value yet (`_carries_no_value`), or a result says its value is to come
    (`_value_to_come`): the lab has started the test, its result has not come, so it is awaiting it as one registered
    is, and no test done (counted, it kept the year's test done and the card quiet). A panel heading awaits it when
    each of its members is on record (`by_location`, the record's results by where each lives: `located_index`) and
    each copy of it awaits its own (registered, or so); one whose member has a value, or is not on record, is read as
    before."""
    if not _no_value_yet(observation):
        return False
    if not observation.has_members:
        return True
    members = set(observation.member_ids)
    if not members:
        return False
    located = by_location()
    return all(ref in located and all(map(_member_awaits, located[ref])) for ref in members)


def located_index(observations: Sequence[Observation]) -> Callable[[], Mapping[str, list[Observation]]]:
    """The results by where each lives (`Observation.located`), indexed on the first ask and then kept: a panel
    heading's members are found in it (`awaits_its_value`). Each heading scanning every result made a body of n
    preliminary headings O(n²); the usual chart, with none, never builds it."""

    @cache
    def index() -> Mapping[str, list[Observation]]:
        found: dict[str, list[Observation]] = {}
        for observation in observations:
            if observation.located:
                found.setdefault(observation.located, []).append(observation)
        return found

    return index


def _reports_nothing(report: DiagnosticReport) -> bool:
    """A lab report with its name and times alone: no result linked, no conclusion and no document."""
    return not report.results and not report.document and not report_words(report)


def _report_awaits(report: DiagnosticReport) -> bool:
    """A preliminary lab report with nothing reported yet (`_reports_nothing`; Oracle Health sends a drug screen's
    report so once the lab has started it). Read as a test done, it kept the year's test done and the card quiet, as a
    preliminary result with no value did (`awaits_its_value`)."""
    return report.status == PRELIMINARY and _reports_nothing(report)


def _report_bare(report: DiagnosticReport) -> bool:
    """A lab report of a settled status with nothing reported (`_reports_nothing`): no test read, as a settled result
    with no value is none (`NO_VALUE`). Read as a test done, it kept the card quiet on a result the record lacks."""
    return report.status in REPORT_DONE_STATUSES and _reports_nothing(report)


def _member_awaits(member: Observation) -> bool:
    """A panel's member still to be resulted: registered, or with no value yet (`_no_value_yet`) and no members of its
    own."""
    if member.status == AWAITING_STATUS:
        return True
    return not member.has_members and _no_value_yet(member)


def _may_await(observation: Observation) -> bool:
    """Whether a result may await its value (`awaits_its_value`): preliminary, or sent with a reason its value is absent
    or with analytes that may carry one. The usual result, final with a value of its own, is told so here."""
    return observation.status == PRELIMINARY or observation.data_absent or bool(observation.components)


def _no_value_yet(observation: Observation) -> bool:
    """A preliminary result that carries no value (`_carries_no_value`), or one that says its value is to come."""
    if observation.status == PRELIMINARY and _carries_no_value(observation):
        return True
    return _value_to_come(observation)


def _value_to_come(observation: Observation) -> bool:
    """A result (final, amended, corrected or preliminary) with nothing of a result but reasons its value is absent
    that say it is to come (`_absent_reasons`, `ABSENT_TO_COME`): a final one so is no more a test done than a
    preliminary one with no value."""
    return (
        observation.status in RESULT_STATUSES
        and all(reason in ABSENT_TO_COME for reason in _absent_reasons(observation))
        # its drug analytes carry none: a creatinine read beside them says nothing of a drug
        and _sends_no_value(replace(observation, components=_drug_analytes(observation)))
    )


@dataclass(frozen=True)
class AwaitingResult:
    """A urine drug test on record still waiting for its result: its name, its day, that day as the cards write it, and
    whether it is the day its specimen was taken (effective[x]) rather than the day it was issued."""

    name: str
    day: date
    written: str
    collected: bool
    status: str = AWAITING_STATUS  # registered, or preliminary for a result with no value yet (`awaits_its_value`)
    kind: str = "observation"  # or "lab report"
    located: str | None = None  # where it lives (`Observation.located`, `DiagnosticReport.located`)
    # A panel heading's members, where each lives (`Observation.member_ids`): the heading and its members are one test.
    members: tuple[str, ...] = ()
    # Its reason a value is absent when that says the value is to come (`ABSENT_TO_COME`), said in place of its status.
    absent_reason: str | None = None

    @property
    def when(self) -> str:
        """ "collected on 2026-03-02", or "dated 2026-03-02" where the day is not said to be its collection's."""
        return f"{'collected on' if self.collected else 'dated'} {self.written}"

    @property
    def status_said(self) -> str:
        """Why it has no result, as the cards say it: "status registered", "status preliminary, no value yet" or
        "value temporarily unknown"."""
        return ABSENT_TO_COME.get(self.absent_reason or "") or _AWAITING_SAID[self.status]

    @property
    def listed(self) -> str:
        """As the plan page's history lists it among those pending: "Drug Screen Urine collected on 2026-03-02, no
        result yet (status registered)"."""
        return f"{self.name} {self.when}, no result yet ({self.status_said})"


def awaiting_results(record: PatientRecord, terms: Terminology) -> list[AwaitingResult]:
    """The urine drug test results and lab reports on record, dated, of status registered (`AWAITING_STATUS`), the
    results of status preliminary that carry no value yet (`awaits_its_value`), and the preliminary reports with
    nothing reported yet (`_report_awaits`)."""
    found: list[AwaitingResult] = []
    by_location = located_index(record.observations)
    for observation in record.observations:
        status = observation.status
        awaiting = status == AWAITING_STATUS or (_may_await(observation) and awaits_its_value(observation, by_location))
        if not awaiting or not is_urine_drug_test(observation.code, terms):
            continue  # most results: no date read
        day = observation.result_time.date() if observation.result_time else None
        if day:
            written = as_written(day, observation.dated_partial) or iso_day(day)
            collected = observation.collected is not None
            found.append(
                AwaitingResult(
                    drug_test_name(observation.code),
                    day,
                    written,
                    collected,
                    status or "",
                    located=observation.located,
                    members=observation.member_ids,
                    absent_reason=_absent_reasons(observation)[0] if _value_to_come(observation) else None,
                )
            )
    for report in record.diagnostic_reports:
        awaiting = report.status == AWAITING_STATUS or _report_awaits(report)
        day = local_date(report.result_time) if awaiting else None
        if day and is_drug_test_code(report.code, terms):
            written, effective = as_written(day, report.dated_partial) or iso_day(day), report.effective is not None
            found.append(
                AwaitingResult(
                    drug_test_name(report.code),
                    day,
                    written,
                    effective,
                    report.status or "",
                    "lab report",
                    report.located,
                )
            )
    return found


def _reports_an_unnamed_finding(observation: Observation) -> bool:
    """A test naming no substance ("DRUG SCREEN, URINE") that says positive, or reads both ways, on its own: of
    unknown status it is still something found. A negative, a value not read or a panel heading finds nothing."""
    if observation.components or observation.has_members:
        return False
    return result_value(observation) in _UNNAMED_VALUES


def _results_and_items(
    observations: Sequence[Observation], terms: Terminology, include_cannabinoid: bool
) -> Iterator[tuple[Observation, _Test]]:
    """Every urine drug test result of a result's status, and each item of a panel as a result of its own
    (`_with_panel_components`), with what its code tests for: the one reading of a panel's items the cards and the
    population review's tests done (`tests_done`) share. Results of one test share one code object, so what a code
    tests for is read once per code."""
    tests: dict[int, _Test | None] = {}

    def test_of(code: Concept | None) -> _Test | None:
        found = tests.get(id(code), MISSING)
        if found is MISSING:
            found = tests[id(code)] = _read_test(code, terms, include_cannabinoid)
        return found  # type: ignore[return-value]

    items: dict[int, _Test | None] = {}

    def item_test_of(code: Concept | None) -> _Test | None:
        """A panel item: its code read as any result's, else its substance's name."""
        found = test_of(code)
        if found is not None:
            return found
        remembered = items.get(id(code), MISSING)
        if remembered is MISSING:
            remembered = items[id(code)] = _panel_item_test(code, terms, include_cannabinoid)
        return remembered

    return _with_panel_components(observations, test_of, item_test_of, tests)


def _with_panel_components(
    observations: Sequence[Observation],
    test_of: Callable[[Concept | None], _Test | None],
    item_test_of: Callable[[Concept | None], _Test | None],
    known: Mapping[int, _Test | None],
) -> Iterator[tuple[Observation, _Test]]:
    """Every result, and each component of a panel as a result of its own: a lab that reports a drug screen panel as
    one result with a component per substance (each with its own code, value, flag and range) had those substances
    never judged, so an unexpected positive in a component gave no card. Components of other tests (a PEG item, a
    blood pressure) are left out by their codes before any copy is made. Each comes with what its code tests for.
    `known` holds what `test_of` has read, by the id of the code: results of one test share one code object, so a
    result's test is mostly found there without a call."""
    by_location = located_index(observations)
    for observation in observations:
        if observation.status not in RESULT_STATUSES:
            continue
        if _may_await(observation) and awaits_its_value(observation, by_location):
            continue  # a test whose result has not come: awaiting it (`awaiting_results`), as one registered is
        code = observation.code
        test = known.get(id(code), MISSING)
        if test is MISSING:
            test = test_of(code)
        if test is not None:
            yield observation, test
        if not observation.components:
            continue
        # In a urine drug test panel an item named only by its substance ("Fentanyl", as Epic's local component
        # codes are) is that substance's result; elsewhere such a name says nothing about urine.
        read = item_test_of if test is not None else test_of
        for component in observation.components:
            item = read(component.code)
            if item is None:
                continue
            yield (
                replace(
                    observation,
                    code=component.code,
                    value_concept=component.value_concept,
                    value_string=component.value_string,
                    # measured by its own value: copied, the panel's measure would be taken for the analyte's
                    value_not_read=value_words_not_read(component.value_string, component.value_concept),
                    value_quantity=component.value_quantity,
                    interpretation=component.interpretation,  # the panel's own flag and range are not the component's
                    flag_not_read=flags_not_read(component.interpretation),  # measured by its own, as its value
                    # its own reason a value is absent, else its panel's (a panel not performed was not for any analyte)
                    data_absent=component.data_absent or observation.data_absent,
                    data_absent_reason=component.data_absent_reason
                    if component.data_absent
                    else observation.data_absent_reason,
                    components=(),
                    value_comparator=component.value_comparator,
                    reference_high=component.reference_high,
                    reference_below=component.reference_below,
                ),
                item,
            )


@dataclass(frozen=True)
class _Test:
    """What a urine drug test code reports on, and its name."""

    substances: tuple[UdsSubstance, ...]
    name: str
    not_judged: str | None = None  # the analyte of a code the analyte table lists with no row to judge it
    left_out: str | None = None  # "cannabinoids" for a test of them alone, at a site that does not judge them


# The reader shares one object per distinct code between calls: what a code tests for is read once per code.
_TESTS = IdentityMemo()


def is_urine_drug_test(code: Concept | None, terms: Terminology) -> bool:
    """Whether a result's code is a urine drug test, by code or (no LOINC sent) by name: what the cards, the plan
    page and the population review's annual-monitoring measure all count as a test."""
    return _read_test(code, terms, True) is not None


def _read_test(code: Concept | None, terms: Terminology, include_cannabinoid: bool) -> _Test | None:
    """The substances a UDS code tests for (cannabinoids only when the site reads them); None for other codes."""
    test = _TESTS.get(include_cannabinoid, code, terms)
    if test is MISSING:
        test = _test_of(code, terms, include_cannabinoid)
        _TESTS.put(include_cannabinoid, code, terms, answer=test)
    return test  # type: ignore[return-value]


def _test_of(code: Concept | None, terms: Terminology, include_cannabinoid: bool) -> _Test | None:
    not_judged = None
    if terms.contains(UDS_TEST, code):
        reported = terms.substances_for_test(code)
        if not reported:
            # A test of a drug PainPlan does not judge (sertraline, kratom, ethanol): named, never only counted.
            not_judged = terms.analyte_not_judged(code)
    else:
        # A lab result with only a local code or text ("Oxycodone, Urine, Screen"): read from its name, so the
        # test counts as done and its result is judged. Without this it was no test: a "no urine drug test in 12
        # months" card for a patient tested last month, and an unexpected result that gave no card.
        named = substances_named(code)
        if named is None:
            return None
        reported = terms.substances_keyed(named)
    substances = _judged_by_site(reported, include_cannabinoid)
    return _Test(substances, drug_test_name(code), not_judged, _left_out(reported, substances))


def _panel_item_test(code: Concept | None, terms: Terminology, include_cannabinoid: bool) -> _Test | None:
    """A urine drug test panel's item read from its substance's name alone; None when it names none."""
    named = substances_of_panel_item(code)
    if named is None:
        return None
    reported = terms.substances_keyed(named)
    substances = _judged_by_site(reported, include_cannabinoid)
    left_out = _left_out(reported, substances)
    if not substances and left_out is None:
        return None
    return _Test(substances, drug_test_name(code), left_out=left_out)


def _judged_by_site(reported: Iterable[UdsSubstance], include_cannabinoid: bool) -> tuple[UdsSubstance, ...]:
    """The substances of a test the site judges: cannabinoids only when its setting says so."""
    return tuple(s for s in reported if include_cannabinoid or s.name != "cannabinoid")


def _left_out(reported: Sequence[UdsSubstance], judged: Sequence[UdsSubstance]) -> str | None:
    """What a test reports on when the site's settings leave out all of it (a cannabinoid test at a site that does
    not judge cannabinoids), in the cards' words; None when any of it is judged, or it reports on nothing known."""
    if judged or not reported:
        return None
    return ", ".join(dict.fromkeys(SUBSTANCE_LABELS.get(s.name, s.name) for s in reported))


def negative_days(results: Iterable[UdsResult]) -> dict[str, list[date]]:
    """The dates of the results negative for each substance (a result counts once per substance)."""
    days: dict[str, list[date]] = {}
    for result in results:
        if result.day is not None:
            counted: set[str] = set()
            for item in result.substances:
                if item.value == "negative" and item.substance not in counted:
                    counted.add(item.substance)
                    days.setdefault(item.substance, []).append(result.day)
    return days


def later_negatives(negatives: Mapping[str, Sequence[date]], substance: str, after: date) -> int:
    """How many negative results for `substance` came after a given positive (the card reports it); `negatives` is
    `negative_days` of the results, read once for every positive on the card."""
    return sum(1 for day in negatives.get(substance, ()) if day > after)


_NOT_JUDGED_VALUES = {"positive": "positive", "indeterminate": "indeterminate", "none": "value not read"}


# The tricyclic antidepressants by the words of their names, and what explains a positive for each analyte of them
# PainPlan does not otherwise judge: the drug, the drugs it is a metabolite of, and for a class screen any of them.
# No medication set names these drugs, so a prescription is found by its medication's name ("amitriptyline
# hydrochloride 25 MG Oral Tablet", "perphenazine / amitriptyline"); one named only by a brand or a bare code is not
# found, and the positive stays named. A drug that only cross-reacts (cyclobenzaprine, quetiapine, carbamazepine)
# explains nothing: it is not what the screen found, and the clinician is to weigh it.
TRICYCLICS = (
    "amitriptyline", "nortriptyline", "imipramine", "desipramine", "doxepin", "clomipramine", "trimipramine",
    "protriptyline",
)  # fmt: skip
NOT_JUDGED_EXPLAINED_BY: dict[str, tuple[str, ...]] = {
    "tricyclic antidepressants": TRICYCLICS,
    "amitriptyline": ("amitriptyline",),
    "nortriptyline": ("nortriptyline", "amitriptyline"),
    "amitriptyline+nortriptyline": ("amitriptyline", "nortriptyline"),
    "imipramine": ("imipramine",),
    "desipramine": ("desipramine", "imipramine"),
    "doxepin": ("doxepin",),
    "nordoxepin": ("doxepin",),
    "clomipramine": ("clomipramine",),
    "norclomipramine": ("clomipramine",),
    "trimipramine": ("trimipramine",),
    "nortrimipramine": ("trimipramine",),
    "protriptyline": ("protriptyline",),
}


def not_judged_results(
    results: Iterable[UdsResult],
    today: date,
    written: Callable[[UdsResult], str],
    prescribed: Callable[[tuple[str, ...], date], Prescription | None] | None = None,
) -> tuple[str, ...]:
    """The results (of `results`, up to `today` or undated) of tests for a drug PainPlan does not judge, that are
    positive or could not be read, one item per date as `written` writes it (`unexpected_uds_result.date_written`, as
    every line naming a result does) and value, naming the drugs ("sertraline, kratom (2026-06-05, positive)"). A
    negative is left out: it explains nothing to look at. So is a dated positive for a tricyclic that `prescribed`
    (`PrescriptionHistory.named_in_effect`) finds a prescription of in the 30 days before it. A panel whose components
    or members carry the results is a heading, not a result of its own."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for result in results:
        if (
            result.not_judged is None
            or result.value == "negative"
            or (result.day is not None and result.day > today)
            or result.observation.components
            or result.observation.has_members
            or not_judged_explained(result, prescribed) is not None
        ):
            continue
        # by the date as written: two undated results, one sent a date not read, are two tests, not one
        grouped.setdefault((written(result), result.value), []).append(result.not_judged)
    return tuple(
        f"{', '.join(dict.fromkeys(drugs))} ({when}, {_NOT_JUDGED_VALUES[value]})"
        for (when, value), drugs in grouped.items()
    )


def not_judged_explained(
    result: UdsResult, prescribed: Callable[[tuple[str, ...], date], Prescription | None] | None
) -> Prescription | None:
    """The prescription of it found by name that explains a dated positive for a drug not judged (a tricyclic:
    `NOT_JUDGED_EXPLAINED_BY`), else None: the panel leaves such a positive out, and the plan page's row names it."""
    drugs = NOT_JUDGED_EXPLAINED_BY.get(result.not_judged or "")
    if prescribed is None or drugs is None or result.value != "positive" or result.day is None:
        return None
    return prescribed(drugs, result.day)


# What a result for no named substance says: only a positive (or a reading whose sources disagree) needs a look.
_UNNAMED_VALUES = {
    "positive": "positive for an unnamed substance",
    "indeterminate": "indeterminate, substance not named",
}


def unnamed_substance_results(
    results: Iterable[UdsResult], today: date, written: Callable[[UdsResult], str]
) -> tuple[str, ...]:
    """The results (of `results`, up to `today` or undated) of a test that names no substance ("DRUG SCREEN, URINE"
    from a lab's own code) that are positive or whose sources disagree, each with its test's name and date as
    `written` writes it (`unexpected_uds_result.date_written`, as every line naming a result does): counted as
    a test done, but what was found cannot be judged against any prescription. A negative, or a value not read (a
    panel heading's "See components"), finds nothing to look at; a heading whose components or members carry the
    results is not a result of its own."""
    named = []
    for result in results:
        if (
            result.substances
            or result.not_judged is not None
            or result.left_out is not None
            or result.value not in _UNNAMED_VALUES
            or (result.day is not None and result.day > today)
            or result.observation.components
            or result.observation.has_members
        ):
            continue
        named.append(f"{result.name} ({written(result)}, {_UNNAMED_VALUES[result.value]})")
    return tuple(dict.fromkeys(named))


def left_out_results(results: Iterable[UdsResult], today: date) -> tuple[str, ...]:
    """The positive results (of `results`, dated up to `today`) of tests of only what the site's settings leave out
    of judging (cannabinoids, unless `checks.unexpected-uds-result.cannabinoid`), one item per day naming what was
    found ("cannabinoids (2026-06-05, positive)"): the site chose not to judge them, and the plan page says so, so
    that a positive there with no "unexpected" beside it is not read as judged and expected."""
    days: dict[str, list[str]] = {}
    for result in results:
        if result.left_out is None or result.value != "positive" or result.day is None or result.day > today:
            continue
        days.setdefault(result.when or iso_day(result.day), []).append(result.left_out)
    return tuple(f"{', '.join(dict.fromkeys(found))} ({when}, positive)" for when, found in days.items())
