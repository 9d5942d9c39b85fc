"""`unexpected-uds-result` (guideline 10.4, CDC 2022 Recommendation 10, and 12 when results suggest a substance
use disorder): unexpected urine drug test results in the last 12 months."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from guideline.cards import Card, Suggestion
from guideline.checks.common import (
    based_on,
    bullet_list,
    guideline_link,
    override_reasons,
    plan_link,
    prescriptions_and_dispenses,
    runs_as_far_as_known,
    unread_of,
    urine_screen,
)
from guideline.config import CheckSettings
from guideline.data_absent import absent_words
from guideline.dates_sent import date_or_unread
from guideline.facts import Facts
from guideline.record import Observation
from guideline.specimen_validity_words import read_unfit_words, validity_not_judged_words
from guideline.terminology import OPIOID
from guideline.timeutil import AFTER_TODAY, months_before
from guideline.uds import (
    SubstanceResult,
    UdsResult,
    UnreadReport,
    later_negatives,
    left_out_results,
    negative_days,
    not_judged_results,
    unnamed_substance_results,
    value_not_read_why,
)
from guideline.unread_data import ADMINISTRATIONS, LAB_REPORTS, LAB_RESULTS, Source, fitted
from guideline.words import and_list

CHECK_ID = "unexpected-uds-result"
# The hooks this check can judge: a new order, or (patient-view) the patient's current state too.
HOOKS = frozenset({"order-select", "order-sign", "patient-view"})
TITLE = "Unexpected urine drug test result"

RESULT_MONTHS = 12  # guideline 10.4: results considered
CELL_TEXT = {"positive": "positive", "negative": "negative", "indeterminate": "indeterminate", "none": "no value"}


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when a positive or negative result in the last 12 months is not what the prescriptions in effect
    explain. Order hooks need a new opioid order (any duration); patient-view an active opioid order. A result dated
    after today is not judged (`urine_drug_test.tests_after_today` names it)."""
    if not applies(facts):
        return None
    recent = facts.uds_results_within(RESULT_MONTHS)
    findings = _distinct((r, s) for r in recent for s in r.unexpected if s.value in ("positive", "negative"))
    if not findings:
        return None
    return _card(facts, settings, recent, findings)


def applies(facts: Facts) -> bool:
    """Whether this check reads the patient's urine drug tests: a new opioid order, or on patient-view an active one."""
    if facts.context.hook == "patient-view":
        return any(facts.is_in(OPIOID, o) for o in facts.active_orders)
    return bool(facts.trigger_orders)


def date_written(result: UdsResult) -> str:
    """A result's date as the card and the data-completeness lists write it: "2026-06-05", "2026-05" for one dated
    to the month only (never the 1st it is read as), each date sent that could not be read as written
    ("effectiveDateTime '2026-13-45' could not be read as a date"), or "undated"."""
    return date_or_unread(result.when, result.observation.unread_dates)


def report_date_written(unread: UnreadReport) -> str:
    """A lab report's date as `date_written` writes a result's, from the report's own dates."""
    return date_or_unread(unread.when, unread.report.unread_dates)


def unjudged_results(facts: Facts) -> tuple[str, ...]:
    """The results of the last 12 months this check would judge but cannot read as positive or negative (a number
    with no flag, "Inconclusive", a value and a flag that disagree, a value too long to read: with its length), or
    cannot place in time (undated) or trust (status unknown, however far after today), each named with its day: the
    answer must say so, or no card would look like "nothing unexpected"."""
    if not applies(facts):
        return ()
    results = facts.uds_results_since(RESULT_MONTHS)
    named = [
        f"{result.name} ({date_written(result)}"
        f"{value_not_read_why(result.observation)}{_absent_why(result.observation)})"
        for result in results
        # an undated result cannot be judged whatever its value; a dated one, when its value is not read
        if (result.day is None or (result.day <= facts.today and result.value in ("none", "indeterminate")))
        # a panel whose components or members carry the results is a heading, not a result of its own
        and result.substances
        # a negative its report's conclusion says was found is named with the report's words
        # (`urine_drug_test.disagreeing_reports`), one it could not be read surely for with its own
        # (`named_gaps.drug_test_conclusions_unsure`)
        and not result.contradicted
        and not result.observation.components
        and not result.observation.has_members
    ]
    named += [
        f"{result.name} ({result.when}, {result.unsettled}: not judged against prescriptions)"
        for result in results
        if result.unsettled and result.day is not None and result.day <= facts.today
    ]
    named += _panels_without_members(facts)
    since = months_before(facts.today, RESULT_MONTHS)
    # Those dated after today too: no test dated ahead names them (their status is no result's), and the urine drug
    # test card and tile name them in the same words (`unknown_status_written`).
    named += [
        unknown_status_named(name, unknown_status_written(day, written, facts.today))
        for name, day, written in facts.uds_unknown_status_since(since)
    ]
    named += _unread_reports(facts, since)
    return tuple(dict.fromkeys(named))


def _absent_why(observation: Observation) -> str:
    """ ", value temporarily unknown": why a result sent with a reason its value is absent has none, in the words of
    the one reading of FHIR's codes (`data_absent.absent_words`; a panel's analyte still to come beside analytes read:
    named with its date alone, it read as a value that could not be read); else ""."""
    return f", {absent_words(observation.data_absent_reason)}" if observation.data_absent else ""


def unknown_status_written(day: date | None, written: str | None, today: date) -> str | None:
    """A result of unknown status's date as the urine drug test card, its tile and `unjudged_results` write it: as
    written, and AFTER_TODAY beside a day after today ("2026-07-05, after today"), so that none reads as a test
    of the past."""
    return f"{written}{AFTER_TODAY}" if day is not None and day > today else written


def unknown_status_named(name: str, written: str | None) -> str:
    """A result of unknown status as `unjudged_results` names it: "Fentanyl Ur Ql Scn (2026-03-02, status unknown)"."""
    return f"{name} ({written or 'undated'}, status unknown)"


def _panels_without_members(facts: Facts) -> list[str]:
    """Urine drug test panel headings of the window some of whose members (the results per substance) are not on
    record: the search returned the heading without them (filed under another category or code), so whatever they
    say went unjudged. The heading still counts as the test done."""
    panels = [r for r in facts.uds_results_since(RESULT_MONTHS) if r.observation.member_ids]
    if not panels:
        return []
    # By where each lives (`Observation.located`), as the members are keyed: an HIE panel's o2 is not the EHR's o2.
    received = {o.located for o in facts.record.observations if o.id is not None}
    named = []
    for result in panels:
        members = result.observation.member_ids
        missing = sum(member not in received for member in members)
        if missing:
            named.append(
                f"{result.name} ({date_written(result)}, {missing} of its {len(members)} results not received)"
            )
    return named


def _unread_reports(facts: Facts, since: date) -> list[str]:
    """Urine drug test reports of the window (or undated) with no result PainPlan reads, each with what it says or
    its status: a conclusion ("Positive for fentanyl") is the lab's words, not a result per substance, so it is
    named for the clinician to read rather than judged, and never dropped. One of a test not performed is named here
    however far after today it is dated: it is no test dated ahead (`urine_drug_test.tests_after_today`). A report
    whose results were all read and whose words only disagree is named as such
    (`urine_drug_test.disagreeing_reports`)."""
    return [
        f"{unread.name} ({report_date_written(unread)}, {unread.reading})"
        for unread in reports_of_window(facts, since)
        if unread.reading
    ]


def reports_of_window(facts: Facts, since: date) -> list[UnreadReport]:
    """The record's urine drug test reports not wholly read dated in the window, or undated; one of a test not
    performed however far after today (no test dated ahead)."""
    return [
        unread
        for unread in facts.unread_drug_test_reports
        if unread.day is None or since <= unread.day <= (date.max if unread.not_performed else facts.today)
    ]


def unread_results(facts: Facts) -> tuple[str, ...]:
    """`unjudged_results` where this check runs on the call (`checks.common.runs_as_far_as_known`: enabled, the hook
    one of its hooks, and the general exclusions leaving it on): what the data-incomplete card and the plan page's
    data-completeness panel both name, so they never disagree. Named for a check the exclusions silence (a hospice
    patient), they were noise on every visit."""
    if not runs_as_far_as_known(facts, facts.config.check(CHECK_ID)):
        return ()
    return unjudged_results(facts)


def _distinct(
    findings: Iterable[tuple[UdsResult, SubstanceResult]],
) -> tuple[tuple[UdsResult, SubstanceResult], ...]:
    """A screen and its confirmation on the same day report one finding, not two. The finding rests on a settled
    result when there is one: a preliminary screen confirmed by a final result that day is not called preliminary."""
    kept: dict[tuple[str | None, str, str], tuple[UdsResult, SubstanceResult]] = {}
    for result, item in findings:
        key = (result.when, item.substance, item.value)
        if key not in kept or (kept[key][0].preliminary and not result.preliminary):
            kept[key] = (result, item)  # a replaced finding keeps its place: the order is the first seen
    return tuple(kept.values())


# -- the table -------------------------------------------------------------------------------------------------


def _cell(found: Sequence[SubstanceResult]) -> str:
    """One substance on one date: several tests that day (screen and confirmation) share a cell."""
    if not found:
        return "not tested"
    if len(found) == 1:  # one test that day, the usual case: a table has dozens of cells
        only = found[0]
        text = CELL_TEXT[only.value]
        if only.given:  # a dose given in hospital is easily missed in the chart: say which one explains it
            return f"{text} ({only.given})"
        unexpected = only.unexpected
    else:
        values = {s.value for s in found}
        text = " / ".join([CELL_TEXT[v] for v in CELL_TEXT if v in values])
        unexpected = any([s.unexpected for s in found])
    return f"**{text} (unexpected)**" if unexpected else text


def _table(
    results: Sequence[UdsResult], findings: Sequence[tuple[UdsResult, SubstanceResult]], max_dates: int
) -> tuple[str, int]:
    """Rows: the substances with an unexpected result; columns: the newest dates that tested any of them (a date
    written to the month or the year only is a column of its own, headed as written)."""
    substances: dict[str, str] = {}
    for _, item in findings:
        substances.setdefault(item.substance, item.label)
    # What each date read for each of those substances, gathered in one pass over the results.
    cells: dict[tuple[tuple[date, str], str], list[SubstanceResult]] = {}
    for result in results:
        if result.day:  # dated, so `date_written` gives its `when`
            for item in result.substances:
                if item.substance in substances:
                    cells.setdefault(((result.day, date_written(result)), item.substance), []).append(item)
    days = sorted({day for day, _ in cells}, reverse=True)
    shown = days[:max_dates]
    lines = [
        "| Substance | " + " | ".join([written for _, written in shown]) + " |",
        "|---|" + "---|" * len(shown),
    ]
    lines += [
        f"| {label} | " + " | ".join([_cell(cells.get((d, substance), ())) for d in shown]) + " |"
        for substance, label in substances.items()
    ]
    return "\n".join(lines), len(days) - len(shown)


def _explanation(negatives: Mapping[str, Sequence[date]], result: UdsResult, item: SubstanceResult) -> str:
    line = f"{date_written(result)}{' (preliminary)' if result.preliminary else ''}: {item.explanation}"
    if item.value == "positive" and result.day is not None:
        count = later_negatives(negatives, item.substance, result.day)
        if count:
            line += f" ({count} negative result{'s' if count > 1 else ''} since)"
    return line


def _either_drug(results: Sequence[UdsResult]) -> tuple[str, ...]:
    """The supplies whose code and name state different opioids that a verdict of these results rests on, each once
    (`SubstanceResult.named_otherwise`): judged against either drug, which may hide or explain a finding, so the card
    says so even when it fires for another result."""
    named = list(dict.fromkeys(s.named_otherwise for r in results for s in r.substances if s.named_otherwise))
    if not named:
        return ()
    return (
        "**Judged against either drug of a prescription whose code and name state different opioids** (a positive for "
        "either is expected, and a negative for one is not unexpected beside a positive for the other that day; "
        "check which drug is meant):\n" + bullet_list(named),
    )


def _validity_said(facts: Facts, result: UdsResult, item: SubstanceResult) -> str:
    """What an unexpected result's line adds when its specimen's validity could not be judged: a negative was read as
    a negative (not known to be dilute), and dilution, not a missed dose, may explain it; a positive as a positive,
    though its specimen may be one that is not the patient's urine."""
    if item.value == "positive" and (read := read_unfit_words(result)):
        return f"; {read}"
    said = validity_not_judged_words(facts, result, item.value) if item.value in ("negative", "positive") else None
    return f"; {said}" if said else ""


def _denied_said(result: UdsResult, item: SubstanceResult) -> str:
    """What a positive's line adds when its lab report's conclusion says nothing of it was found: the positive stands
    (a drug found in the cup was in it), but the line says what the lab's own summary says, so the clinician reads
    the report before the conversation (`uds._contradicting`; named too as lab words that disagree)."""
    if item.value != "positive" or not result.denied:
        return ""
    return f'; the lab\'s report concludes "{result.denied}": read the report'


# -- the card --------------------------------------------------------------------------------------------------


def _summary(findings: Sequence[tuple[UdsResult, SubstanceResult]]) -> str:
    """Names each unexpected finding (newest first, "preliminary" beside one that rests on a preliminary result)
    while it fits, then counts the rest."""
    parts = [
        f"{item.value} for {item.label} ({date_written(result)}{', preliminary' if result.preliminary else ''})"
        for result, item in findings
    ]
    lead = "Discuss unexpected urine drug test result" + ("s" if len(parts) > 1 else "") + " with the patient: "
    # The first wording that fits, made only as far as needed; never marked: it names results that were read.
    return fitted(
        (
            lead + "; ".join(parts[:shown]) + (f"; {len(parts) - shown} more" if shown < len(parts) else "")
            for shown in range(len(parts), 0, -1)
        ),
        unread=False,
        fallback=f"Discuss {len(parts)} unexpected urine drug test results of the last 12 months with the patient",
    )


def _card(
    facts: Facts,
    settings: CheckSettings,
    results: tuple[UdsResult, ...],
    findings: tuple[tuple[UdsResult, SubstanceResult], ...],
) -> Card:
    table, hidden = _table(results, findings, int(settings["max_dates"]))
    negatives = negative_days(results)
    older = f"\n\n{hidden} older test date{'s' if hidden > 1 else ''} not shown." if hidden else ""
    detail = "\n\n".join(
        (
            "**Results in the last 12 months:**\n\n" + table + older,
            "**Unexpected:**\n"
            + bullet_list(
                [_explanation(negatives, r, s) + _validity_said(facts, r, s) + _denied_said(r, s) for r, s in findings]
            ),
            *_either_drug(results),
            "Screening immunoassays give false positives and false negatives: talk with the patient and consider "
            "confirmatory testing (for example by mass spectrometry) before making decisions.",
            "An unexpected result is a reason for closer follow-up and a conversation, not for dismissing the "
            "patient or stopping opioids abruptly. Repeated unexpected results may warrant an assessment for "
            "substance use disorder.",
            _basis(facts),
        )
    )
    suggestions: tuple[Suggestion, ...] = ()
    if settings["suggest_repeat"]:
        suggestions = (urine_screen(facts, "repeat urine drug screen", recommended=False),)
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=_summary(findings),
        detail=detail,
        suggestions=suggestions,
        links=(guideline_link(facts.config, "rec10", "CDC 2022 Recommendation 10"), plan_link("uds")),
        override_reasons=override_reasons(
            # 11.1 offers excluded-condition on every check but oud-treatment (10.4's list omits it; the general
            # exclusions do apply here, so an uncoded exclusion must be answerable).
            facts.config,
            "results-expected",
            "results-discussed",
            "excluded-condition",
            "data-incorrect",
            "wrong-clinician",
        ),
        view="uds",
        orders=tuple(o.id for o in facts.trigger_orders if o.id),
        facts={"unexpected": [{"substance": s.substance, "value": s.value, "date": r.when} for r, s in findings]},
        # "Results discussed" covers these results; an unexpected result on another day is a new finding.
        about=frozenset(f"{r.when}|{s.substance}|{s.value}" for r, s in findings),
    )


def _basis(facts: Facts) -> str:
    """The card's "Based on" line: the results, and what they were judged against only as far as it was read
    (`Unread.basis`): a prescription or dispense not read may explain a result."""
    results = (
        Source(
            "urine drug test results of the last 12 months",
            (LAB_RESULTS, LAB_REPORTS),
            True,  # the card names the results it found
            "the urine drug test results read of the last 12 months",
        ),
    )
    prescribed = prescriptions_and_dispenses(facts, "opioid and other prescriptions")
    hospital = (
        Source(
            "medicines given or ordered in hospital",
            (ADMINISTRATIONS,),
            bool(facts.record.administrations),
            "the medicines given or ordered in hospital read",
        ),
    )
    (found, against, given), gaps = unread_of(facts, (*results, *prescribed, *hospital)).grouped(
        results, prescribed, hospital
    )
    return based_on(
        f"{and_list(found)}, judged against {and_list(against)} in effect in the 30 days before each test, and "
        f"{and_list(given)} in the 7 days before it{gaps}."
    )


def unjudged_substances(facts: Facts) -> tuple[str, ...]:
    """Where this check runs and applies: the results of the last 12 months for drugs PainPlan does not judge against
    prescriptions (an antidepressant, kratom, alcohol) that are positive or unread, and the positives of tests that
    name no substance ("DRUG SCREEN, URINE"), named so that "no unexpected result" is never read as covering them.
    A tricyclic positive a prescription of it in the 30 days before explains is left out: it is expected."""
    if not reads_results(facts):
        return ()
    results = facts.uds_results_since(RESULT_MONTHS)
    explained = facts.prescription_history.named_in_effect
    return (
        *not_judged_results(results, facts.today, date_written, explained),
        *unnamed_substance_results(results, facts.today, date_written),
    )


def left_out_by_setting(facts: Facts) -> tuple[str, ...]:
    """Where this check runs and applies: the positives of the last 12 months for what the site's settings leave out
    of judging (cannabinoids unless `cannabinoid` is on). The plan page names them; no card does, since the site
    chose not to be told on every order."""
    if not reads_results(facts):
        return ()
    return left_out_results(facts.uds_results_since(RESULT_MONTHS), facts.today)


def reads_results(facts: Facts) -> bool:
    """Whether this check runs on the call (`checks.common.runs_as_far_as_known`) and applies: only then does anything
    it leaves unjudged matter."""
    return runs_as_far_as_known(facts, facts.config.check(CHECK_ID)) and applies(facts)
