"""Specimen validity results (urine creatinine, specific gravity, pH) and what they say of their specimen.

Labs send them as results of their own beside the drug results of the same specimen. The criteria are data,
`guideline/data/specimen-validity.json`, with their source and the units they convert; this module only applies
them."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from guideline.fhirdata import LOINC, OBS_INTERPRETATION, SNOMED, Concept
from guideline.record import Observation
from guideline.result_words import not_read_words, read_value_words
from guideline.timeutil import day_only
from guideline.units import normalise_unit
from guideline.words import QUOTED_CHARACTERS, and_list, clip

DATA_FILE = Path(__file__).resolve().parent / "data" / "specimen-validity.json"
_COMPARATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class ValidityTest:
    """A validity test: the LOINC its criteria name ("2161-8" for a creatinine in moles, 14683-7, too), its name,
    the factor of each unit it is read in (`units_of`) and its flags' verdicts ("L": dilute)."""

    loinc: str
    name: str
    units: Mapping[str, Decimal]
    flags: Mapping[str, str]

    def in_criteria_unit(self, value: Decimal, unit: str | None) -> Decimal | None:
        """The value in the unit the criteria state the test in, when `unit` is one the criteria convert; else
        None. Exact: the factors are decimals, as the data states them."""
        factor = self.units.get(units_of(unit))
        return None if factor is None else value * factor


@dataclass(frozen=True)
class Reading:
    """A validity result's value in the criteria's unit: exact, or only a bound (`comparator` "<", "<=", ">", ">=",
    as FHIR's `valueQuantity.comparator` gives a value beyond what the lab measures: "<5 mg/dL"), or none when it
    gives one PainPlan cannot read (`NOT_READ`: a creatinine with no unit, "See comment")."""

    value: Decimal | None
    comparator: str | None = None

    def meets(self, cmp: str, limit: Decimal) -> bool | None:
        """Whether the value meets "`cmp` `limit`": True or False when it is exact or its bound decides it, None when
        a bound leaves it open ("<30" against "<20": it may be 12 or 25) or it was not read (it may be anything)."""
        if self.value is None:
            return None
        if self.comparator is None:
            return _COMPARATORS[cmp](self.value, limit)
        return _decided(self.comparator, self.value, cmp, limit)


# A value given but not read: it leaves every criterion on its test open, as a bound that decides none would.
NOT_READ = Reading(None)


def _decided(bound: str, edge: Decimal, cmp: str, limit: Decimal) -> bool | None:
    """True when every value within the bound ("< `edge`") meets "`cmp` `limit`", False when none does, else None:
    exact, so "<20" is below 20 but "<=20" may be 20 itself."""
    if bound not in _COMPARATORS:
        return None  # FHIR's "ad" ("sufficient to achieve this total") bounds nothing a criterion could use
    same_side = bound[0] == cmp[0]
    if edge == limit:
        # "<20" leaves 20 out; "<=20" holds it, and 20 meets "<20" only if the criterion holds its limit too
        edge_left_out, limit_left_out = len(bound) == 1, len(cmp) == 1
        if same_side:
            return True if edge_left_out or not limit_left_out else None
        return False if edge_left_out or limit_left_out else None
    if _COMPARATORS[bound[0]](edge, limit):  # the bound stops short of the limit on its open side
        return same_side
    return None


def units_of(unit: str | None) -> str:
    """A unit as the criteria list it: `normalise_unit`'s key ("MMOL/L" → "mmol/l", "{SG}" → "sg"); none is ""."""
    return normalise_unit(unit) or ""


@dataclass(frozen=True)
class Rule:
    """A verdict ("dilute") that holds when every (LOINC, comparator, limit) holds for a value of the specimen."""

    verdict: str
    conditions: tuple[tuple[str, str, Decimal], ...]


@dataclass(frozen=True)
class Criteria:
    """The validity tests and the verdict rules, most serious first: the first rule that holds is the verdict."""

    tests: Mapping[str, ValidityTest]
    rules: tuple[Rule, ...]


def load_criteria(path: Path = DATA_FILE) -> Criteria:
    """The criteria as the data file states them."""
    data = json.loads(path.read_text(encoding="utf-8"))
    units = {
        name: {units_of(unit): Decimal(factor) for unit, factor in factors.items()}
        for name, factors in data["units"].items()
    }
    tests = {
        t["loinc"]: ValidityTest(t.get("judged_as", t["loinc"]), t["name"], units[t["name"]], dict(t["flags"]))
        for t in data["tests"]
    }
    rules = tuple(
        Rule(r["verdict"], tuple((loinc, cmp, Decimal(limit)) for loinc, cmp, limit in r["when"]))
        for r in data["verdicts"]
    )
    return Criteria(tests, rules)


CRITERIA = load_criteria()

# A value sent as text (`valueString`, as an HL7 v2 feed converted to FHIR sends every value, or a coded value's name,
# `_words`): a number, with its bound and its unit when given ("12 mg/dL", "<5 mg/dL", "1.002"), read as the same
# quantity would be. Possessive runs (`*+`, `++`) and a unit read up to its last non-space: each space is passed once,
# never handed back to be retried (a long run of spaces took seconds, bench/text_worst_case.py); the same readings.
_TEXT_AMOUNT = re.compile(r"^\s*+(?:(<=?|>=?)\s*+)?(\d++(?:\.\d++)?|\.\d++)\s*+(\S(?:.*\S)?)?\s*$")
# A text that says the result is within its range ("Normal", "Within normal limits", "WNL"): the specimen is fit.
_FIT_TEXT = re.compile(r"^\s*+(?:normal|within normal limits|wnl)\s*+\.?\s*$", re.IGNORECASE)
# A coded value that says so: LOINC's answer "Normal" and SNOMED's, as a lab that codes its answer lists sends them,
# often with no text.
_FIT_CODES = frozenset({(LOINC, "LA6626-1"), (SNOMED, "17621005")})


@dataclass(frozen=True)
class Words:
    """How a validity result's words are read, as `guideline.uds` reads a drug result's: the verdicts they say
    (`unfit`: "Dilute"), and whether they say one the lab denies (`denied`: "Not dilute", a fit specimen)."""

    unfit: Callable[[Observation], Sequence[str]]
    denied: Callable[[Observation], bool]


@dataclass(frozen=True)
class Sent:
    """A validity result's value as sent, as a quantity or as text: its number, its bound ("<"), the units it may
    be read in (its unit's code, then its display unit; none for a gravity or a pH) and its unit as written."""

    value: Decimal
    comparator: str | None
    units: tuple[str, ...]
    unit: str | None


def _words(observation: Observation) -> str | None:
    """Its value in words, as sent: the first of its `Observation.value_words` (its `valueString`, else its coded
    value's text, else a coding's name). One reading of a result's words however they are sent: passed over as a
    coded value, "See comment" left a negative read as a real negative with nothing said."""
    # The first only, on purpose: these words are read for one number ("12 mg/dL") and named as the lab wrote them;
    # a verdict in words ("Dilute") is looked for in every one of them (`Words.unfit`, guideline.uds), as any may
    # say it.
    return next(iter(observation.value_words), None)


def _text(observation: Observation) -> str | None:
    """Its value as written (`_words`), else its coded value's code with no name ("QNS"), which is never a number: a
    SNOMED code alone is no amount."""
    written = _words(observation)
    if written or observation.value_concept is None:
        return written
    return next((coding.code for coding in observation.value_concept.codings if coding.code), None)


def _sent(observation: Observation) -> Sent | None:
    """Its value: its `valueQuantity`, else words (`_words`) that state a number (`_TEXT_AMOUNT`); None when it gives
    none."""
    measured = observation.value_quantity
    if measured is not None and measured.value is not None:
        units = tuple(u for u in (measured.code, measured.unit) if u)
        return Sent(measured.value, observation.value_comparator, units, measured.unit or measured.code)
    text = _words(observation)
    # words too long to read (`Observation.value_not_read`) are read for no number: named with their length (`_written`)
    written = _TEXT_AMOUNT.match(text) if text and observation.value_not_read is None else None
    if written is None:
        return None
    unit = written.group(3)
    return Sent(Decimal(written.group(2)), written.group(1), (unit,) if unit else (), unit)


@dataclass(frozen=True)
class _Read:
    """A validity result with its test, and its value as sent (`_sent`) and in the criteria's unit (`_reading`):
    each read once for all the questions a specimen's verdict asks of it (a regex parse apiece, before)."""

    observation: Observation
    test: ValidityTest
    sent: Sent | None
    reading: Reading | None


def _read(observation: Observation, test: ValidityTest) -> _Read:
    """The result with its value read (`_Read`)."""
    sent = _sent(observation)
    return _Read(observation, test, sent, _reading(sent, test))


# The verdicts whose specimen's positives stand (a drug found in a dilute cup was in it); any other verdict
# ("substituted", "invalid", "adulterated") leaves them unread too, as the sample may not be the patient's urine.
POSITIVES_STAND = frozenset({"dilute"})

# A specimen as its results name it: by the server it is from and its reference, else by the minute it was taken,
# else by its day (a date alone). A day of drug tests, by the server they are from (`SpecimenVerdicts.by_day`).
_Key = tuple[str | None, str | datetime | date]
_Day = tuple[str | None, date]


def validity_test(code: Concept | None, criteria: Criteria = CRITERIA) -> ValidityTest | None:
    """The validity test a result's code names by its LOINC (or a panel component's: `uds._drug_analytes`), else
    None."""
    if code is None:
        return None
    for coding in code.codings:
        if coding.system == LOINC and coding.code is not None and coding.code in criteria.tests:
            return criteria.tests[coding.code]
    return None


def _minute(observation: Observation) -> datetime | None:
    """When its specimen was taken, to the minute; None when unknown or a day alone (it may be another sample)."""
    taken = observation.collected
    if taken is None or day_only(taken):
        return None
    return taken.replace(second=0, microsecond=0)


def _reference(observation: Observation) -> _Key | None:
    """Its specimen's key by reference, from the server it is from; None when it names no specimen."""
    return (observation.source, observation.specimen) if observation.specimen else None


def _specimen_key(observation: Observation) -> _Key | None:
    """Its specimen's key: by reference, else by the minute it was taken, else by its day (a date alone, or midnight,
    as several interfaces send a date); None when it gives no time it was taken."""
    by_ref = _reference(observation)
    if by_ref is not None:
        return by_ref
    taken = observation.collected
    if taken is None:
        return None
    minute = _minute(observation)
    return (observation.source, taken.date() if minute is None else minute)


@dataclass(frozen=True)
class _Sample:
    """What is said of a specimen's validity results taken one day, as a drug result of that day finds them: whether
    they name their specimen, and the minute they were taken (None: a day alone)."""

    referenced: bool
    minute: datetime | None
    said: tuple[str, ...]
    # What names them beside a drug result taken another minute that day, when they find their specimen unfit
    # (`_taken_elsewhere`): perhaps another sample, so not read with it, but not passed over in silence either.
    elsewhere: tuple[str, ...] = ()

    def of_drug(self, referenced: bool, minute: datetime | None) -> tuple[str, ...]:
        """What they say of a drug result taken the same day: `said` when they are of its specimen (`ties`), else,
        unless both name a specimen (then another), what names them as taken another minute (`elsewhere`)."""
        if self.ties(referenced, minute):
            return self.said
        return () if self.referenced and referenced else self.elsewhere

    def ties(self, referenced: bool, minute: datetime | None) -> bool:
        """Whether they are of the specimen of a drug result taken the same day: never when both name a specimen
        (their references alone tie them, `SpecimenVerdicts.by_ref`), else when taken the same minute, else, when
        either gives its day alone, always: nothing tells that day's specimens apart, and tied to each, a verdict
        ("dilute") only leaves a negative unread, where dropped it left one read on a specimen that may be dilute."""
        if self.referenced and referenced:
            return False
        if self.minute is not None and minute is not None:
            return self.minute == minute
        return True


@dataclass(frozen=True)
class SpecimenVerdicts:
    """What validity results say of their specimens, by specimen: the verdicts ("dilute", "substituted", "invalid")
    of those they find unfit, or the results that could not be judged (`Validity`, `read_validity`): by specimen
    reference, and by the day they were taken (`_Sample`)."""

    by_ref: Mapping[_Key, tuple[str, ...]]
    by_day: Mapping[_Day, tuple[_Sample, ...]]

    def of(self, observation: Observation) -> tuple[str, ...]:
        """What the validity results of its specimen say: those of its specimen reference, and those of its day that
        the reference cannot tell apart from it (either names no specimen) and the minute cannot either
        (`_Sample.ties`)."""
        by_ref = _reference(observation)
        found = list(self.by_ref.get(by_ref, ())) if by_ref is not None else []
        taken = observation.collected
        if taken is not None:
            minute = _minute(observation)
            for sample in self.by_day.get((observation.source, taken.date()), ()):
                found += sample.of_drug(by_ref is not None, minute)
        return tuple(dict.fromkeys(found))


NO_VERDICTS = SpecimenVerdicts({}, {})


@dataclass(frozen=True)
class Validity:
    """What a record's validity results say of their specimens, read in one pass: the verdicts of those they find
    unfit (`verdicts`: "dilute"), and, as written with why, those not judged (`not_judged`, `_unjudged`), of which
    those named beside positives too (`beside_positives`): a bound or a value not read that leaves open a verdict
    that would leave them unread ("substituted", "invalid"; `POSITIVES_STAND`); and those that leave dilution open
    (`dilution_open`), which alone may explain a negative as dilute. A specimen found unfit at another minute of a
    drug result's day is named in the last three beside it as its not judged would be (`read_validity`)."""

    verdicts: SpecimenVerdicts
    not_judged: SpecimenVerdicts
    beside_positives: SpecimenVerdicts
    dilution_open: SpecimenVerdicts


NO_VALIDITY = Validity(NO_VERDICTS, NO_VERDICTS, NO_VERDICTS, NO_VERDICTS)


def read_validity(observations: Iterable[Observation], words: Words, criteria: Criteria = CRITERIA) -> Validity:
    """The verdicts of the specimens the validity results among `observations` find unfit, by their words (`words`:
    "Dilute"), their flags, or their values against the criteria, converted to their units; and those not judged
    (`_unjudged`): whether that specimen was fit, or as unfit as a more serious verdict says, could not be judged.
    Its drug results are read as the verdicts found say, and these are named wherever they are. The results are
    grouped by specimen once for all."""
    groups = _by_specimen(observations, criteria)
    if not groups:
        return NO_VALIDITY
    read = {key: [_read(observation, test) for observation, test in results] for key, results in groups.items()}
    judged = {key: _judged(results, words, criteria) for key, results in read.items()}
    unfit = {
        key: (_unfit_named(read[key], said.verdicts), said.verdicts) for key, said in judged.items() if said.verdicts
    }

    def elsewhere(named_when: Callable[[Sequence[str]], bool]) -> dict[_Key, str]:
        """The specimens found unfit whose verdicts `named_when` names beside a drug result taken another minute of
        their day (`_Sample.elsewhere`), as `_unfit_named` names them."""
        return {key: named for key, (named, verdicts) in unfit.items() if named_when(verdicts)}

    return Validity(
        # never among the verdicts of a drug result taken another minute: it may be another sample
        verdicts=_indexed(groups, {key: said.verdicts for key, said in judged.items()}, {}),
        # among those not judged beside negatives always: it may be theirs, and a dilute specimen can read negative
        not_judged=_indexed(groups, {key: said.not_judged for key, said in judged.items()}, elsewhere(lambda _: True)),
        # beside positives when its verdict would leave them unread too (substituted, invalid)
        beside_positives=_indexed(
            groups, {key: said.beside_positives for key, said in judged.items()}, elsewhere(_opens_beyond_dilution)
        ),
        # as leaving dilution open when it is dilute
        dilution_open=_indexed(
            groups,
            {key: said.dilution_open for key, said in judged.items()},
            elsewhere(lambda verdicts: not POSITIVES_STAND.isdisjoint(verdicts)),
        ),
    )


def _unfit_named(results: Sequence[_Read], verdicts: Sequence[str]) -> str:
    """A specimen found unfit, by its results as sent and its verdicts: "Creatinine Ur 12 mg/dL read dilute"."""
    return f"{and_list([_stated(result) for result in results])} read {and_list(verdicts)}"


def _taken_elsewhere(named: str, minute: datetime) -> str:
    """A specimen found unfit (`_unfit_named`), as named beside a drug result taken another minute the same day."""
    return f"{named}, perhaps of another sample: taken at {minute:%H:%M}, not at the time of the drug test's specimen"


@dataclass(frozen=True)
class _Judged:
    """What one specimen's validity results say, as `Validity` keeps it per specimen: its verdicts (`_verdict`), its
    results not judged, those of them named beside positives too and those that leave dilution open (`_unjudged`)."""

    verdicts: tuple[str, ...]
    not_judged: tuple[str, ...] = ()
    beside_positives: tuple[str, ...] = ()
    dilution_open: tuple[str, ...] = ()


def _judged(read: Sequence[_Read], words: Words, criteria: Criteria) -> _Judged:
    """One specimen's verdicts and its validity results not judged (`_Judged`)."""
    verdicts, open_rules = _verdict(read, words, criteria)
    if not open_rules and (verdicts or not any(_unread(result) for result in read)):
        return _Judged(verdicts)  # the usual specimen: every value read exactly, or found unfit
    return _unjudged(read, words, verdicts, open_rules)


def _unjudged(
    results: Sequence[_Read],
    words: Words,
    verdicts: tuple[str, ...],
    open_rules: Sequence[Rule],
) -> _Judged:
    """One specimen's verdicts with its validity results not judged, as written with why (`_not_judged`), those not
    read before the bounds; of them, those that leave open a verdict that would leave its positives unread too
    (`POSITIVES_STAND`); and those that leave dilution open (`_opens_dilution`)."""
    named = [found for result in results if (found := _not_judged(result, words, verdicts, open_rules)) is not None]
    named.sort(key=lambda found: found.bound)
    return _Judged(
        verdicts,
        tuple(found.written for found in named),
        tuple(found.written for found in named if _opens_beyond_dilution(found.cannot_tell)),
        tuple(found.written for found in named if _opens_dilution(found.cannot_tell)),
    )


@dataclass(frozen=True)
class _NotJudged:
    """A result not judged: whether it is a bound, how it is written, and the verdicts it cannot tell (none when a
    value not read leaves no rule open that the others have not decided)."""

    bound: bool
    written: str
    cannot_tell: tuple[str, ...]


def _opens_beyond_dilution(cannot_tell: Sequence[str]) -> bool:
    """Whether a result not judged leaves open a verdict that would leave positives unread too (`POSITIVES_STAND`)."""
    return not POSITIVES_STAND.issuperset(cannot_tell)


def _opens_dilution(cannot_tell: Sequence[str]) -> bool:
    """Whether a result not judged leaves dilution open: it cannot tell "dilute", or names no verdict it cannot tell
    (a value not read, taken as leaving every one open, as it was always named)."""
    return not cannot_tell or not POSITIVES_STAND.isdisjoint(cannot_tell)


def _not_judged(result: _Read, words: Words, verdicts: Sequence[str], open_rules: Sequence[Rule]) -> _NotJudged | None:
    """A result not judged, when it is named: not read (`_not_read`) when no verdict is found, or not read or given
    only as a bound that leaves an open rule open (`_verdict`), with the verdicts it cannot tell (`_left_open`);
    else None."""
    reading = result.reading
    not_read = reading is None and _not_read(result, words)
    if not not_read and (reading is None or reading.comparator is None):
        return None  # read exactly, or words that judge it
    cannot_tell = _left_open(result.test, reading or NOT_READ, open_rules)
    if not cannot_tell and (verdicts or not not_read):
        return None
    if not not_read:
        return _NotJudged(True, _bound_written(result, cannot_tell), cannot_tell)
    # a result not read that leaves only dilution open is named as ever: the gap's own words say what it left open
    said = _cannot_tell(cannot_tell) if _opens_beyond_dilution(cannot_tell) else ""
    return _NotJudged(False, _written(result) + said, cannot_tell)


def _left_open(test: ValidityTest, reading: Reading, open_rules: Sequence[Rule]) -> tuple[str, ...]:
    """The verdicts of the open rules whose condition on its test its reading leaves open: a bound that cannot decide
    it, or a value not read (`NOT_READ`)."""
    verdicts = [
        rule.verdict
        for rule in open_rules
        for loinc, cmp, limit in rule.conditions
        if loinc == test.loinc and reading.meets(cmp, limit) is None
    ]
    return tuple(dict.fromkeys(verdicts))


def _by_specimen(
    observations: Iterable[Observation], criteria: Criteria
) -> dict[_Key, list[tuple[Observation, ValidityTest]]]:
    """The validity results among `observations`, with their tests, by their specimen's key (`_specimen_key`): one
    that gives no time it was taken is of no drug test."""
    groups: dict[_Key, list[tuple[Observation, ValidityTest]]] = {}
    for observation in observations:
        test = validity_test(observation.code, criteria)
        if test is None:
            continue
        key = _specimen_key(observation)
        if key is not None:
            groups.setdefault(key, []).append((observation, test))
    return groups


def _indexed(
    groups: Mapping[_Key, Sequence[tuple[Observation, ValidityTest]]],
    judged: Mapping[_Key, tuple[str, ...]],
    elsewhere: Mapping[_Key, str],
) -> SpecimenVerdicts:
    """What `judged` says of each specimen, as the drug results find it (`SpecimenVerdicts.of`), with the specimens
    found unfit named beside those of their day taken another minute (`elsewhere`: `_unfit_named`); `NO_VERDICTS`
    when it says nothing of any."""
    if not any(judged.values()) and not elsewhere:
        return NO_VERDICTS
    by_ref: dict[_Key, tuple[str, ...]] = {}
    by_day: dict[_Day, dict[_Sample, None]] = {}
    for key, results in groups.items():
        said, named = judged[key], elsewhere.get(key)
        if not said and named is None:
            continue
        referenced = isinstance(key[1], str)
        if referenced and said:
            by_ref[key] = said
        for observation, _ in results:
            taken = observation.collected
            if taken is not None:  # a referenced result may give no time: its reference alone ties it
                minute = _minute(observation)
                away = () if named is None or minute is None else (_taken_elsewhere(named, minute),)
                sample = _Sample(referenced, minute, said, away)
                by_day.setdefault((observation.source, taken.date()), {})[sample] = None
    return SpecimenVerdicts(by_ref, {day: tuple(samples) for day, samples in by_day.items()})


def _verdict(
    results: Sequence[_Read],
    words: Words,
    criteria: Criteria,
) -> tuple[tuple[str, ...], tuple[Rule, ...]]:
    """One specimen's verdicts: its results' words and flags, and the first rule its values meet; with the rules
    before it that a bound leaves open and whose verdict would say more (`_says_more`)."""
    found: list[str] = []
    for result in results:
        found += words.unfit(result.observation)
        found += _flag_verdicts(result.observation, result.test)
    # A rule a bound leaves open is passed over for the next that surely holds ("<5 mg/dL" beside a gravity of 1.025
    # is dilute for certain, substituted only below 2, which it cannot tell), but kept, to be named: passed over in
    # silence, a certain "dilute" hid an open "substituted", whose positives are unreadable too.
    readings = _readings(results, words)
    passed_over: list[Rule] = []
    for rule in criteria.rules:
        holds = _holds(rule, readings)
        if holds:
            found.append(rule.verdict)
            break
        if holds is None:
            passed_over.append(rule)
    verdicts = tuple(dict.fromkeys(found))
    return verdicts, tuple(rule for rule in passed_over if _says_more(rule.verdict, verdicts))


def _says_more(verdict: str, found: Sequence[str]) -> bool:
    """Whether an open verdict would say more than those found: any, when none is; one that leaves positives unread
    too, beside "dilute" alone (`POSITIVES_STAND`); none beside a verdict that leaves every result unread already."""
    if verdict in found:
        return False
    if not POSITIVES_STAND.issuperset(found):
        return False
    return not found or verdict not in POSITIVES_STAND


def _readings(results: Sequence[_Read], words: Words) -> dict[str, list[Reading]]:
    """The values the criteria can read (`_reading`), and those given but not read (`NOT_READ`, `_not_read`), by the
    LOINC the criteria judge them as."""
    readings: dict[str, list[Reading]] = {}
    for result in results:
        reading = result.reading
        if reading is None and _not_read(result, words):
            reading = NOT_READ
        if reading is not None:
            readings.setdefault(result.test.loinc, []).append(reading)
    return readings


def _flag_verdicts(observation: Observation, test: ValidityTest) -> list[str]:
    """The verdicts of its HL7 flags (a coding with no system is one) that the test's criteria name."""
    return [
        test.flags[(coding.code or "").upper()]
        for concept in observation.interpretation
        for coding in concept.codings
        if coding.system in (OBS_INTERPRETATION, None) and (coding.code or "").upper() in test.flags
    ]


def _reading(sent: Sent | None, test: ValidityTest) -> Reading | None:
    """A value as sent (`_sent`) in the unit of the criteria, exact or a bound, read by its unit's code, else its
    display unit (`units`); None when it gives no value, or a unit the criteria do not convert."""
    if sent is None:
        return None
    for unit in sent.units or (None,):  # a specific gravity or a pH has no unit
        converted = test.in_criteria_unit(sent.value, unit)
        if converted is not None:
            return Reading(converted, sent.comparator)
    return None


def _unread(result: _Read) -> bool:
    """Whether it gives a value the criteria cannot read (`_reading`): in a unit they do not convert, or in words that
    state no number ("See comment", `_text`)."""
    measured = result.observation.value_quantity
    if measured is None or measured.value is None:
        return bool(_text(result.observation)) and result.reading is None
    return result.reading is None


def _not_read(result: _Read, words: Words) -> bool:
    """Whether it gives a value the criteria cannot read (`_unread`) in words that do not judge it either
    (`_words_judged`)."""
    return _unread(result) and not _words_judged(result, words)


def _words_judged(result: _Read, words: Words) -> bool:
    """Whether words that state no number (`_text`) say what the specimen is by words the criteria know: a verdict
    ("Dilute", read by `_verdict`), one the lab denies ("Not dilute") or "Normal" (`_FIT_TEXT`, `_FIT_CODES`): fit."""
    if result.sent is not None:
        return False
    observation = result.observation
    return bool(words.unfit(observation)) or words.denied(observation) or _said_normal(observation)


def _said_normal(observation: Observation) -> bool:
    """Whether its value says it is within its range: "Normal" in any of its words (`_FIT_TEXT`: the lab's
    abbreviation may be the text and "Normal" a coding's name) or by code (`_FIT_CODES`)."""
    if observation.value_not_read is not None:
        return False  # not read: named as not judged (`_written`)
    if any(_FIT_TEXT.match(words) is not None for words in (*read_value_words(observation), _text(observation) or "")):
        return True
    concept = observation.value_concept
    return concept is not None and any((coding.system, coding.code) in _FIT_CODES for coding in concept.codings)


def _name(observation: Observation, test: ValidityTest) -> str:
    """The result's name as the lab sent it (its text, else a coding's display), else its test's."""
    return (observation.code.display() if observation.code else None) or test.name


def _as_sent(sent: Sent) -> tuple[str, str | None]:
    """A value as written, with its bound ("< 30", "15"), and its unit (None when it gives none)."""
    bound = f"{sent.comparator} " if sent.comparator else ""
    return f"{bound}{sent.value}", sent.unit


def _given(sent: Sent) -> str:
    """A value as sent, with its bound and its unit: "< 30 mg/dL", "1.002"."""
    value, unit = _as_sent(sent)
    return f"{value} {unit}" if unit else value


def _stated(result: _Read) -> str:
    """A result as the lab sent it: "Creatinine Ur 12 mg/dL", "Creatinine Ur "Dilute"", or its name alone when it
    gives no value (a flag, "L", alone)."""
    name = _name(result.observation, result.test)
    if result.sent is not None:
        return f"{name} {_given(result.sent)}"
    text = _text(result.observation)
    return f'{name} "{_quoted(text)}"' if text else name


def _written(result: _Read) -> str:
    """A result in a unit or words not read, as the lab sent it and why it is not judged: "Creatinine Ur 15, sent
    with no unit", "Creatinine [Mass/volume] in Urine 15 mmol/24 h, a unit PainPlan does not read", "Creatinine Ur
    "See comment", a value in words PainPlan does not read", one too long to read with its length
    (`Observation.value_not_read`: "its value is 1,000,000 characters long, not read"), its words quoted to
    `words.QUOTED_CHARACTERS`."""
    name = _name(result.observation, result.test)
    if result.sent is None:
        length = result.observation.value_not_read
        why = "a value in words PainPlan does not read" if length is None else not_read_words(length)
        return f'{name} "{_quoted(_text(result.observation) or "")}", {why}'
    value, unit = _as_sent(result.sent)
    if unit is None:
        return f"{name} {value}, sent with no unit"
    return f"{name} {value} {unit}, a unit PainPlan does not read"


def _quoted(text: str) -> str:
    """A value's words as a face quotes them: the first `words.QUOTED_CHARACTERS`, ending "…" when cut (one too long
    to read may be megabytes)."""
    return clip(text, QUOTED_CHARACTERS)


def _bound_written(result: _Read, verdicts: Iterable[str]) -> str:
    """A bound that cannot decide, as sent and what it cannot tell: "Creatinine Ur, given only as < 30 mg/dL, which
    cannot tell whether the specimen was dilute"."""
    sent = result.sent
    assert sent is not None  # a bound is read from the value sent (`_reading` of `_sent`), so one was sent
    return f"{_name(result.observation, result.test)}, given only as {_given(sent)}" + _cannot_tell(verdicts)


def _cannot_tell(verdicts: Iterable[str]) -> str:
    """What a result not judged cannot tell: ", which cannot tell whether the specimen was substituted or dilute"."""
    return ", which cannot tell whether the specimen was " + " or ".join(verdicts)


def _holds(rule: Rule, readings: Mapping[str, Sequence[Reading]]) -> bool | None:
    """Whether each of the rule's conditions holds for a value of its test: True, False, or None when a bound leaves
    one open and none is false."""
    said = [_met(readings.get(loinc, ()), cmp, limit) for loinc, cmp, limit in rule.conditions]
    if False in said:
        return False
    return True if all(said) else None


def _met(readings: Sequence[Reading], cmp: str, limit: Decimal) -> bool | None:
    """Whether a value of the test meets the condition: True when one surely does, False when none can (or there is
    none), else None."""
    said = [reading.meets(cmp, limit) for reading in readings]
    if True in said:
        return True
    return False if all(s is False for s in said) else None
