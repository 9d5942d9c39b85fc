"""Urine drug test results, newest first, with unexpected findings, and urine drug screens still pending."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from guideline.checks.unexpected_uds_result import RESULT_MONTHS
from guideline.checks.urine_drug_test import CHECK_ID as UDS_CHECK
from guideline.checks.urine_drug_test import awaiting_result_since_last, pending_orders, report_months
from guideline.plan.model import QueryStatus
from guideline.plan.reading import concept_name
from guideline.plan.reads import UDS_RESULTS, unread_of
from guideline.record.model import Component
from guideline.specimen_validity_words import validity_row_words
from guideline.timeutil import local_date, months_before
from guideline.uds import (
    named_test,
    not_judged_explained,
    one_sample,
    result_no_reading,
    sample_test,
)

if TYPE_CHECKING:
    from datetime import datetime

    from guideline.config import GuidelineConfig
    from guideline.facts import Facts
    from guideline.fhirdata import Concept, Quantity
    from guideline.record.model import Observation, Procedure
    from guideline.uds import Prescription, SpokenFor, UdsResult, UnreadReport


@dataclass(frozen=True)
class UdsRow:
    day: date | None
    test: str
    value: str
    substances: tuple[str, ...]
    unexpected: tuple[str, ...]
    explained: tuple[str, ...] = ()  # why each positive was expected: a prescription, or a dose given in hospital
    status_note: str | None = None  # "preliminary", "corrected" or "amended": a clinician weighs a result by it
    after_today: bool = False  # dated after today: no test done yet, and not judged (the cards do the same)
    written: str | None = None  # its date as written when it names a month or a year only ("2026-05")
    # Why some of its substances were not judged against prescriptions: "dated to the month only" when the days
    # its date can mean judge them differently (the card names it as not judged too), or why none was (`_not_judged`).
    not_judged: str | None = None
    # Another server's copy of it: "also sent by <server> as <its URL> (shown once)" on the row shown for both, or
    # "possibly the same result as <row>, sent by …" on a row only alike to another (`result_copies`).
    copy_note: str | None = None
    # Why each negative judged against either drug of an order whose code and name state different opioids is
    # expected, in the card's words ("oxycodone: negative, expected: positive for hydromorphone the same day (…)"):
    # the card is quiet on it, and the row said only "Expected" beside a negative for a prescribed drug.
    negatives_expected: tuple[str, ...] = ()
    # Its specimen's validity results PainPlan could not judge (a unit not read, a bound that cannot tell), in the
    # card's words: its negatives are read as negatives, as the card reads them, though the specimen may be dilute.
    validity_note: str | None = None

    @property
    def expected(self) -> tuple[str, str]:
        """The page's "Expected?" cell: its lead, shown bold ("Unexpected:", else ""), and its words: not judged when
        dated after today, the unexpected findings, why it was not judged against prescriptions, why its positives
        were expected, "Expected" for a positive or negative judged, else "–"."""
        if self.after_today:
            return "", "Dated after today, so not counted or judged"
        if self.unexpected:
            not_judged = f"; not judged against prescriptions: {self.not_judged}" if self.not_judged else ""
            return "Unexpected:", "; ".join(self.unexpected) + not_judged
        if self.not_judged:
            return "", f"Not judged against prescriptions: {self.not_judged}"
        if self.explained:
            return "", "Expected: " + "; ".join(self.explained)
        return "", "Expected" if self.value in ("positive", "negative") else "–"


# A result's status the page shows beside its value: a preliminary screen is to be confirmed before anyone acts on
# it, and a corrected or amended one replaced what the lab first sent (which may be in another record's copy).
SHOWN_STATUSES = frozenset({"preliminary", "corrected", "amended"})


@dataclass(frozen=True)
class UdsHistory:
    rows: tuple[UdsRow, ...]
    pending: tuple[str, ...]
    months: int = 13  # the months of laboratory results the page searched (lab_months)
    # The searches a test could be in that were not read in full, in words: the list may then miss a test, and
    # "no urine drug test results" is never said on their strength.
    unread: str = ""


# Where a urine drug test is found: results, lab reports and the tests done as procedures (a point-of-care cup).
TEST_READS = (*UDS_RESULTS, "procedures", "claims")  # a drug test billed (80305-80307, G0480-G0483) is a procedure


def lab_months(config: GuidelineConfig | None) -> int:
    """The months of laboratory results the plan page searches: those the urine drug test checks read (the site's
    `lookback_months`, never under 12) and one more, 13 by default. Fixed at 13, a site reading 24 months had the
    card quiet on a screen 18 months old and the page saying none was on record."""
    return (report_months(config) if config is not None else RESULT_MONTHS) + 1


def build_uds(facts: Facts, statuses: Mapping[str, QueryStatus] | None = None) -> UdsHistory:
    """The tests found, newest first, and those pending; `statuses` (what each search returned) names the searches
    not read that could hold more."""
    rows = []
    today = facts.today
    notes, shown_once = result_copies(facts.uds_results)
    named_in_effect = facts.prescription_history.named_in_effect
    for result in sorted(facts.uds_results, key=lambda r: r.day or date.min, reverse=True):
        if id(result) in shown_once:  # named on the row of the EHR's result it copies
            continue
        substances = tuple(f"{s.label}: {s.value}" for s in result.substances)
        status = result.observation.status
        shown = status if status in SHOWN_STATUSES else None
        # Not judged when dated after today, as the card does not: the prescriptions of a day that has not come are
        # not known.
        after = _after(result.day, today)
        judged = ((), (), None) if after else _judged(result, named_in_effect, facts.uds_spoken_for)
        unexpected, explained, not_judged = judged
        rows.append(
            UdsRow(
                result.day,
                result.name,
                result.value,
                substances,
                unexpected,
                explained,
                shown,
                after_today=after,
                written=result.observation.dated_partial,
                not_judged=not_judged,
                copy_note=notes.get(id(result)),
                negatives_expected=() if after else _negatives_expected(result),
                validity_note=None if after else validity_row_words(facts, result),
            )
        )
    procedures = facts.drug_test_procedures
    notes, shown_once = _copies([_procedure_sent(day, procedure) for day, procedure in procedures], "test")
    for day, procedure in procedures:
        if id(procedure) in shown_once:  # named on the row of the EHR's test it copies
            continue
        # Done as a procedure (a point-of-care cup, a billed test): on the list, with no result to show.
        name = concept_name(procedure.code, "drug test")
        after, written = _after(day, today), procedure.dated_partial
        note = notes.get(id(procedure))
        rows.append(
            UdsRow(day, name, "done, no result recorded", (), (), after_today=after, written=written, copy_note=note)
        )
    reports = [unread for unread in facts.unread_drug_test_reports if unread.done]
    notes, shown_once = _copies([_report_sent(unread) for unread in reports], "report")
    for unread in reports:
        if id(unread.report) in shown_once:
            continue
        # A lab report with no result PainPlan reads: on the list with what it says, named unjudged beside it. A
        # report partly read has its read results on rows of their own, judged; this row names the rest.
        done = _report_value(unread)
        # A test not performed is no test dated ahead, wherever dated: its row says not performed, nothing more.
        after = _after(unread.day, today) and not unread.not_performed
        written, note = unread.report.dated_partial, notes.get(id(unread.report))
        rows.append(UdsRow(unread.day, unread.name, done, (), (), after_today=after, written=written, copy_note=note))
    rows += _unknown_status_rows(facts)
    rows.sort(key=lambda row: row.day or date.min, reverse=True)
    # The orders that keep the card quiet, by the card's own rule and window: a proposal nobody signed, or an order
    # the card no longer counts, shown here as pending beside a card asking for a test.
    days = int(facts.config.check(UDS_CHECK)["pending_order_days"])
    ordered = [
        f"{concept_name(s.code, 'urine drug test')} ordered {local_date(s.authored_on) or ''}".strip()
        for s in pending_orders(facts, days)
    ]
    # And the tests of the months searched still waiting for their result, as the card and the tile say them: beside
    # the tile's words, the section said only "No urine drug test results in the past 13 months".
    awaiting = [test.listed for test in awaiting_result_since_last(facts, lab_months(facts.config))]
    pending = (*ordered, *awaiting)
    return UdsHistory(tuple(rows), pending, lab_months(facts.config), unread_of(TEST_READS, statuses or {}))


def _unknown_status_rows(facts: Facts) -> list[UdsRow]:
    """A row for each result of the months searched whose status is unknown (neither a result's nor one saying there is
    none): read by no check, and named on the data-completeness panel only where the card applies, the section said
    "No urine drug test results" beside a fentanyl positive sent with status "unknown"."""
    since, today = months_before(facts.today, lab_months(facts.config)), facts.today
    found = facts.uds_unknown_status_since(since)
    return [
        UdsRow(
            day,
            name,
            "of unknown status, not read",
            (),
            (),
            after_today=_after(day, today),
            written=written,
            not_judged="its status is unknown",
        )
        for name, day, written in found
    ]


def _judged(
    result: UdsResult,
    named_in_effect: Callable[[tuple[str, ...], date], Prescription | None],
    spoken_for: SpokenFor,
) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """A result's unexpected findings, why each of its expected positives was expected (each reason once), and why it
    was not judged against prescriptions (`_not_judged`), None when it was."""
    if (named := not_judged_explained(result, named_in_effect)) is not None:  # a tricyclic its prescription explains
        return (), (named.written(),), None
    unexpected = tuple(s.explanation or f"unexpected {s.value} for {s.label}" for s in result.unexpected)
    explained = tuple(
        dict.fromkeys(
            s.expected_by for s in result.substances if not s.unexpected and s.value == "positive" and s.expected_by
        )
    )
    return unexpected, explained, result.unsettled or _not_judged(result, spoken_for)


def _not_judged(result: UdsResult, spoken_for: SpokenFor) -> str | None:
    """Why a result with no substance judged was not judged: its value could not be read (and why, as a report's row
    says: `_report_value`), or it is of a drug PainPlan does not judge, of one the site's settings leave out, or of a
    test naming no substance. Its row read "none" with nothing beside it (a clinician reads none detected), or
    "Expected", as if the prescriptions had explained it. None for a result judged, an indeterminate one (its value
    says so) or a panel heading (its results are rows of their own)."""
    observation = result.observation
    if observation.components or observation.has_members:
        return None
    if result.contradicted:  # read, and left unread for its report's conclusion: not a value that could not be read
        # a conclusion that could not be read surely for its drug does not disagree with it: it says so
        return result.unsure or "its lab report's conclusion disagrees with it (read the more cautious way)"
    if result.value == "none":
        why = ", ".join(result_no_reading(result, spoken_for))  # "no result value on record" as the card says
        return f"could not be read ({why})" if why else "could not be read"
    if result.substances or result.value not in ("positive", "negative"):
        return None
    if result.not_judged:
        return f"{result.not_judged}, which PainPlan does not judge"
    if result.left_out:
        return f"{result.left_out}, which this site's settings leave out"
    return "the test names no substance"


def _negatives_expected(result: UdsResult) -> tuple[str, ...]:
    """Each negative the card explains though it is no unexpected result (one judged against either drug of an order
    whose code and name state different opioids: `SubstanceResult.explanation`), with its substance, in its words."""
    return tuple(
        f"{s.label}: {s.value}, {s.explanation}"
        for s in result.substances
        if s.value == "negative" and not s.unexpected and s.explanation
    )


def _after(day: date | None, today: date) -> bool:
    """Whether a row is dated after today (an undated one is not)."""
    return day is not None and day > today


# ---------------------------------------------------------------------------------------------------------------
# Another server's copy of a result (an HIE relaying the lab's result under its own id): no number ties it for sure


@dataclass(frozen=True)
class _Sent:
    """One test on the list as its copies are told: the item (a result, a procedure, a report: keyed by its id()),
    the other server it is from (None: the EHR's), its reference, what a sure copy shares with it (`same`) and what a
    possible copy shares (`alike`); None when nothing can say so."""

    item: object
    source: str | None
    located: str | None
    same: Hashable | None
    alike: Hashable | None


def result_copies(results: Sequence[UdsResult]) -> tuple[dict[int, str], set[int]]:
    """What the page says of results another server sent too: (id() of a result → its row's `copy_note`, id() of
    each result shown once on another's row). A result carries no number to tie it by, as a fill does
    (`sent_twice.relayed_fills`): one from another server is the EHR's result, left off the list and named on its row,
    when it has the same test (its codes) and sample (collected at the same instant: a day alone names none), the
    same status and the same value (and unit, and components) as exactly one of the EHR's own results. One only alike
    to a result of another source (the same test codes, day and value, not all the rest, or alike to two of the
    EHR's) stays a row of its own, marked as a possible copy: both shown, never one dropped on a guess."""
    if all(r.observation.source is None for r in results):  # the usual chart: the EHR's own results only
        return {}, set()
    sent = [
        _Sent(r, r.observation.source, r.observation.located, _same_result(r.observation), _alike(r)) for r in results
    ]
    return _copies(sent, "result")


def _procedure_sent(day: date | None, procedure: Procedure) -> _Sent:
    """A drug test done as a procedure, as its copies are told (`_copies`): the test's codes at the instant it was
    performed, and its status, for a sure copy; its codes and day for a possible one."""
    when = procedure.performed or procedure.performed_start
    same = _done_same(procedure.code, when, procedure.status, None)
    alike = _done_alike(procedure.code, day)
    return _Sent(procedure, procedure.source, procedure.located, same, alike)


def _report_value(unread: UnreadReport) -> str:
    """What a report's row says in place of a value: done, and what it says; or, when its conclusion says the test
    was not performed or could not be read (`UnreadReport.no_reading`), so, as the card does not count it."""
    if unread.not_performed:
        return f"not performed, {unread.reading}"
    if unread.no_reading:
        return f"could not be read ({unread.no_reading}), {unread.reading}"
    return f"done, {unread.said}" + ("" if unread.partly else " (not judged per substance)")


def _report_sent(unread: UnreadReport) -> _Sent:
    """A lab report with no result read, as its copies are told (`_copies`): as a procedure is, and what it says."""
    report = unread.report
    same = _done_same(report.code, report.effective, report.status, unread.said)
    return _Sent(report, report.source, report.located, same, _done_alike(report.code, unread.day))


def _done_same(code: Concept | None, when: datetime | None, status: str | None, reading: str | None) -> Hashable | None:
    """What two copies of one test done with no result read share: the test and its sample (`uds.one_sample`, the
    rule a result's correction is told by: its codes, else its name, at an instant, never a day alone), the status and
    what it says; None when the test or the instant is not known."""
    sample = one_sample(code, when)
    return None if sample is None else (sample, status, reading)


def _done_alike(code: Concept | None, day: date | None) -> tuple[Hashable, date] | None:
    """What a possible copy of a test done shares with it: the test (`uds.named_test`) and the day; None with no test
    or day."""
    test = named_test(code)
    return (test, day) if test is not None and day is not None else None


def _copies(sent: Sequence[_Sent], noun: str) -> tuple[dict[int, str], set[int]]:
    """(id() of an item → its row's `copy_note`, id() of each item shown once on another's row): one from another
    server is the EHR's, left off the list and named on its row, when it shares `same` with exactly one of the EHR's;
    one only `alike` to an item of another source stays a row of its own, marked as a possible copy of the first such
    (the EHR's first). The one rule for results, tests done as procedures and reports with no result read."""
    if all(s.source is None for s in sent):  # the usual chart: the EHR's own tests only
        return {}, set()
    ours: dict[Hashable, list[_Sent]] = {}
    for one in sent:
        if one.source is None and one.same is not None:
            ours.setdefault(one.same, []).append(one)
    copies: dict[int, list[str]] = {}
    notes: dict[int, str] = {}
    firsts = _first_by_source(sent)
    shown_once: set[int] = set()
    for one in sent:
        if one.source is None:
            continue
        said = f"sent by {one.source} as {one.located or f'a {noun} without an id'}"
        owners = ours.get(one.same, []) if one.same is not None else []
        if len(owners) == 1:
            shown_once.add(id(one.item))
            copies.setdefault(id(owners[0].item), []).append(f"also {said}")
            continue
        if one.alike is None:
            continue
        # The first alike item of another source (the item itself is of its own): a few sources, not n items.
        other = next((o for o in firsts.get(one.alike, ()) if o.source != one.source), None)
        if other is not None:
            named = other.located or f"a {noun} without an id"
            notes[id(one.item)] = f"possibly the same {noun} as {named}, {said} (both shown)"
    for key, words in copies.items():
        notes[key] = "; ".join(words) + " (shown once)"
    return notes, shown_once


def _first_by_source(sent: Sequence[_Sent]) -> dict[Hashable, list[_Sent]]:
    """Each `alike` key → the first item of each source with it, the EHR's first, then in the order given: the one a
    possible copy names is the first of them of another source. Keyed, so a chart of n results is read in about n
    steps (compared pairwise, 2,000 results made a million comparisons)."""
    firsts: dict[Hashable, list[_Sent]] = {}
    for one in sorted(sent, key=lambda s: s.source is not None):  # a possible copy names the EHR's
        if one.alike is None:
            continue
        known = firsts.setdefault(one.alike, [])
        if all(o.source != one.source for o in known):
            known.append(one)
    return firsts


def _same_result(observation: Observation) -> Hashable | None:
    """What two copies of one result share: the test and the instant its sample was collected (as the point of care
    tells a correction of the same sample, `uds.sample_test`: none for a day alone, which may be another sample of
    that day), its status and its value; None when the test or the instant is not known."""
    sample = sample_test(observation)
    return None if sample is None else (sample, observation.status, _value(observation))


def _alike(result: UdsResult) -> Hashable | None:
    """What a possible copy shares with a result: what it shares with a test done (`_done_alike`: the test and the
    day) and the value; None with no test or day."""
    alike = _done_alike(result.observation.code, result.day)
    return None if alike is None else (*alike, _value(result.observation))


def _value(observation: Observation | Component) -> Hashable:
    """A result's or component's value as two copies of it write it alike (codes, not their displays; the reason a
    value is absent by its code: 'masked' and 'error' say other things of a result)."""
    found: tuple[Hashable, ...] = (
        _concept(observation.value_concept),
        (observation.value_string or "").strip().casefold(),
        _amount(observation.value_quantity),
        observation.value_comparator,
    )
    absent = (observation.data_absent, observation.data_absent_reason)
    if isinstance(observation, Component):
        return (_concept(observation.code), *found, absent)
    components = tuple(sorted((_value(c) for c in observation.components), key=repr))
    return (*found, observation.value_boolean, absent, components)


def _concept(concept: Concept | None) -> Hashable:
    """A coded value by its codes (system and code), else its text."""
    if concept is None:
        return None
    return _codes(concept) or (concept.text or "").strip().casefold()


def _codes(concept: Concept | None) -> frozenset[tuple[str | None, str | None]]:
    """A concept's codes (system and code), empty with none."""
    return frozenset((c.system, c.code) for c in concept.codings if c.code) if concept else frozenset()


def _amount(quantity: Quantity | None) -> Hashable:
    """A quantity's value and unit."""
    return None if quantity is None else (quantity.value, quantity.code or quantity.unit)
