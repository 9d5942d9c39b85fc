"""`urine-drug-test` (guideline 10.3, CDC 2022 Recommendation 10): no urine drug test in 12 months for a patient
starting or on longer-term opioid therapy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from guideline.cards import Card
from guideline.checks.common import (
    based_on,
    bullet_list,
    dated_after_today_as,
    guideline_link,
    override_reasons,
    plan_link,
    runs_as_far_as_known,
    some_orders_read,
    unread_of,
    urine_screen,
)
from guideline.checks.unexpected_uds_result import (
    RESULT_MONTHS,
    reads_results,
    report_date_written,
    reports_of_window,
    unknown_status_written,
)
from guideline.clinical import is_pending_request
from guideline.config import CheckSettings, GuidelineConfig
from guideline.dates_sent import is_date_read
from guideline.facts import Facts
from guideline.record import MedOrder, ServiceRequest
from guideline.specimen_validity import NO_VERDICTS
from guideline.specimen_validity_words import specimen_not_judged
from guideline.terminology import OPIOID
from guideline.timeutil import AFTER_TODAY, iso_day, months_before
from guideline.uds import (
    AwaitingResult,
    UnreadableTest,
    awaiting_results,
    drug_test_name,
    is_uds_order,
)
from guideline.unread_data import (
    CLAIMS,
    DRUG_TESTS,
    FILLED,
    LAB_REPORTS,
    LAB_RESULTS,
    ORDER_HISTORY,
    ORDERS,
    PROCEDURES,
    SERVICE_REQUESTS,
    Source,
)
from guideline.words import FIRST_LISTED, and_list, capitalised, first_listed, number_of

CHECK_ID = "urine-drug-test"
# The hooks this check can judge: a new order, or (patient-view) the patient's current state too.
HOOKS = frozenset({"order-select", "order-sign", "patient-view"})
TITLE = "Urine drug test due"


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when the patient starts or continues longer-term opioids and no urine drug test that could be read is
    on record for the lookback window, unless a urine drug screen is already ordered."""
    reasons = _longer_term_reasons(facts)
    if not reasons:
        return None
    months = int(settings["lookback_months"])
    if _tested_with_result(facts, months) or _tested_without_result(facts, months):
        return None
    if pending_orders(facts, int(settings["pending_order_days"])):
        return None
    return _card(facts, settings, reasons, months)


def report_months(config: GuidelineConfig) -> int:
    """The months of lab reports the urine drug test checks read: this check's look-back, and never less than the
    12 months of results `unexpected-uds-result` judges (and `naloxone` reads for fentanyl), so a search bounded by it
    drops no screen any card counts."""
    return max(int(config.check(CHECK_ID)["lookback_months"]), RESULT_MONTHS)


def report_since(facts: Facts) -> date:
    """The first day of the lab reports the urine drug test checks read (`report_months` up to today)."""
    return months_before(facts.today, report_months(facts.config))


# -- applicability ---------------------------------------------------------------------------------------------


def _active_longer_term(facts: Facts) -> tuple[MedOrder, ...]:
    return tuple(o for o in facts.active_orders if facts.is_in(OPIOID, o) and facts.duration(o) == "subacute-chronic")


def applies(facts: Facts) -> bool:
    """Whether the patient starts or is on longer-term therapy, so this check reads the urine drug tests."""
    return bool(_longer_term_reasons(facts))


def reads_tests(facts: Facts) -> bool:
    """Whether this check runs on the call (`checks.common.runs_as_far_as_known`: on the hook, the general exclusions
    leaving it on) and applies, as `unexpected_uds_result.reads_results` asks of its own."""
    return runs_as_far_as_known(facts, facts.config.check(CHECK_ID)) and applies(facts)


def drug_tests_read(facts: Facts) -> bool:
    """Whether either urine drug test check (`unexpected-uds-result`, then this one) runs on the call and reads this
    patient's tests: only then is a test the checks could not read or judge named; with no opioid to judge, or the
    checks silenced by the general exclusions (a hospice patient), naming one on every visit would be noise."""
    return reads_results(facts) or reads_tests(facts)


def _longer_term_reasons(facts: Facts) -> tuple[str, ...]:
    """Why the patient counts as starting or on longer-term therapy; empty when the check does not apply.
    Order hooks also need a new opioid order; patient-view looks at the record alone."""
    if facts.context.hook != "patient-view" and not facts.trigger_orders:
        return ()
    reasons: list[str] = []
    if facts.context.hook != "patient-view":
        reasons += [
            f"New order for {facts.name(o)} is for longer-term use ({_supply_text(facts, o)})"
            for o in facts.trigger_orders
            if facts.duration(o) == "subacute-chronic"
        ]
    if facts.exposure.ltot:
        days = ", ".join(f"{d}/30" for d in facts.exposure.window_days)
        reasons.append(
            f"Long-term opioid therapy: days with opioid supply in each of the last three 30-day periods: {days}"
        )
    reasons += [
        f"Active longer-term order for {facts.name(o)} ({_supply_text(facts, o)})" for o in _active_longer_term(facts)
    ]
    return tuple(reasons)


def _supply_text(facts: Facts, order: MedOrder) -> str:
    if order.course_of_therapy == "continuous":
        return "marked as continuous therapy"
    total = facts.supply(order).total_days
    return f"{total.normalize():f} days' supply" if total is not None else "longer-term"


# -- suppression -----------------------------------------------------------------------------------------------


def pending_orders(facts: Facts, days: int) -> tuple[ServiceRequest, ...]:
    """Urine drug screens ordered in the last `days` days and not yet resulted, or drafted in this very order
    session (an accepted suggestion comes back as such a draft); a proposal, plan or option nobody signed is no
    order (`is_pending_request`). The card is silent while there is one, and the plan page lists these as pending."""
    return tuple(
        request
        for request in facts.record.service_requests
        if is_uds_order(request.code, facts.terms, facts.config) and is_pending_request(request, days, facts.today)
    )


# -- the card --------------------------------------------------------------------------------------------------


def _tested_with_result(facts: Facts, months: int) -> bool:
    """A urine drug test result in the window, of a test that could be read: a test whose specimen could not show
    what the patient takes (a dilute negative, an invalid specimen: `uds.unreadable_tests`) informed nothing, and
    counted as the year's test it kept the card quiet for a patient whose only test could not be interpreted."""
    recent = facts.uds_results_within(months)
    unreadable = {test.day for test in facts.unreadable_drug_tests_within(months)}
    return any(result.day not in unreadable for result in recent)


def unreadable_since_last(facts: Facts, months: int) -> tuple[UnreadableTest, ...]:
    """The tests of the last `months` months that could not be read, newer than the last test counted, newest first:
    the card and the plan page's tile say why each is no test done."""
    last = facts.last_drug_test_day()
    return tuple(t for t in facts.unreadable_drug_tests_within(months) if last is None or t.day > last)


def unreadable_words(tests: tuple[UnreadableTest, ...]) -> str:
    """ "The test of 2026-03-02 could not be read as a result: dilute specimen; a new test is due." """
    said = "; ".join(f"the test of {t.when} could not be read as a result: {t.why}" for t in tests)
    return f"{capitalised(said)}; a new test is due."


def unknown_status_since_last(facts: Facts, months: int) -> tuple[tuple[str, str | None], ...]:
    """The urine drug test results of unknown status (neither a result's status nor one saying there is none:
    `uds.results_of_unknown_status`) of the last `months` months or dated after today, newer than the last test
    counted, newest first, undated last, by test name and date as written (`unknown_status_written`): not counted as a
    test done, so the card and the plan page's tile name them. With only such a result on record, the card said "no
    urine drug test result on record", and the tile, step 1 and the note "none in the last 13 months", beside the
    history section's row for it; one dated after today was named nowhere, as no test dated ahead either."""
    last, today = facts.last_drug_test_day(), facts.today
    found = [
        (name, day, written)
        for name, day, written in facts.uds_unknown_status_since(months_before(today, months))
        if day is None or last is None or day > last  # the last test counted is never after today
    ]
    found.sort(key=lambda item: item[1] or date.min, reverse=True)
    return tuple((name, unknown_status_written(day, written, today)) for name, day, written in found)


def unknown_status_words(found: Sequence[tuple[str, str | None]]) -> str:
    """What the card and the tile say of them (`unknown_status_since_last`): "1 result of unknown status, not counted:
    Fentanyl Ur Ql Scn (2026-03-02).", or "" for none; the first few by name, then "and 2 more" (`first_listed`), as
    the page's other lists, since the tile is read in a narrow EHR panel."""
    if not found:
        return ""
    named = "; ".join(first_listed([f"{name} ({written or 'undated'})" for name, written in found]))
    return f"{number_of(len(found), 'result')} of unknown status, not counted: {named}."


def unknown_status_listed(found: Sequence[tuple[str, str | None]]) -> tuple[tuple[str, str | None], ...]:
    """Those of them `unknown_status_words` names by name (`first_listed`'s first ones): the rest it only counts."""
    return tuple(found[:FIRST_LISTED])


def _unknown_status_summary(found: Sequence[tuple[str, str | None]]) -> str:
    """The card's summary beside them, when no test that could not be read says more: their newest date, the test
    named in the detail."""
    # Dates sent but not read are named in the detail: the summary says only that the date could not be read.
    newest = found[0][1] if is_date_read(found[0][1]) else None
    if len(found) == 1:
        # "the result of 2026-07-05, after today, is": a date with a clause after it closes it before the verb
        which = (
            f"the result of {newest}{',' if newest.endswith(AFTER_TODAY) else ''}"
            if newest
            else "a result whose date could not be read"
            if found[0][1]
            else "an undated result"
        )
        return f"Order a urine drug test: {which} is of unknown status, not counted"
    since = f" (newest {newest})" if newest else ""
    return f"Order a urine drug test: {len(found)} results of unknown status, not counted{since}"


def _awaiting_results(facts: Facts) -> tuple[AwaitingResult, ...]:
    """Every urine drug test of the record still waiting for its result (`uds.awaiting_results`), read once a call."""
    return tuple(awaiting_results(facts.record, facts.terms))


def awaiting_result_since_last(facts: Facts, months: int) -> tuple[AwaitingResult, ...]:
    """The urine drug tests of the last `months` months up to today still waiting for their result (a result or a lab
    report of status registered, or a preliminary result with no value yet), newer than the last test counted, one
    per day (a panel and its analytes are one test), newest first. No result is no test done, so the card still asks
    for one, but the card and the plan page's tile say the test is with the lab: the card said "There is no urine drug
    test result on record", which reads as never tested. An undated one could be of any year, and is not said
    pending."""
    registered = facts.once(_awaiting_results)  # the card, the tile and the history each ask
    if not registered:  # the usual chart: the last test is not looked for
        return ()
    since, today, last = months_before(facts.today, months), facts.today, facts.last_drug_test_day()
    found: dict[date, AwaitingResult] = {}
    for test in registered:
        if since <= test.day <= today and (last is None or test.day > last):
            known = found.get(test.day)
            if known is None or (test.collected and not known.collected):  # its collection day, where one says it
                found[test.day] = test
    return tuple(sorted(found.values(), key=lambda test: test.day, reverse=True))


def awaiting_result_words(found: Sequence[AwaitingResult]) -> str:
    """What the card and the tile say of them (`awaiting_result_since_last`): "A urine drug test collected on
    2026-03-02 has no result yet (status registered).", or "(status preliminary, no value yet)", or "" for none;
    "dated" where a day is not said to be its collection's."""
    if not found:
        return ""
    if len(found) == 1:
        return f"A urine drug test {found[0].when} has no result yet ({found[0].status_said})."
    verb = "collected on" if all(test.collected for test in found) else "dated"
    more = len(found) - FIRST_LISTED
    days = and_list([test.written for test in found[:FIRST_LISTED]] + ([f"{more} more"] if more > 0 else []))
    said = "; ".join(dict.fromkeys(test.status_said for test in found))  # newest first, each status once
    return f"Urine drug tests {verb} {days} have no result yet ({said})."


def not_counted_words(
    unreadable: tuple[UnreadableTest, ...],
    unknown: Sequence[tuple[str, str | None]],
    awaiting: Sequence[AwaitingResult],
) -> str:
    """What the card and the plan page's tile both say of the tests since the last one counted that they do not count:
    those that could not be read, the results of unknown status, then those awaiting their result; "" for none."""
    said = (
        unreadable_words(unreadable) if unreadable else "",
        unknown_status_words(unknown),
        awaiting_result_words(awaiting),
    )
    return " ".join(words for words in said if words)


def _awaiting_summary(found: Sequence[AwaitingResult]) -> str:
    """The card's summary beside them, in place of any other: a result still to come is what the clinician weighs
    first, since a test ordered before it comes back may be one too many."""
    if len(found) == 1:
        return f"Urine drug test: result pending since {found[0].written}"
    return f"Urine drug test: {len(found)} results pending (newest {found[0].written})"


def validity_not_judged(facts: Facts) -> tuple[str, ...]:
    """Where a urine drug test check reads the tests (`drug_tests_read`): the validity results PainPlan could not
    judge of the specimens of the tests in the months the checks read (`report_months`: a site's longer
    `lookback_months` counts older tests as done), by the card's rule (`specimen_validity_words.specimen_not_judged`:
    every one beside a negative, and beside a positive those that leave a substitution or invalidity open), each
    with its test's day.
    Such a test's results are read as its other validity results allow; named, so that none is taken for one read on a
    specimen known to be fit."""
    if facts.validity_not_judged is NO_VERDICTS:
        return ()  # the usual chart: every validity result read, or none sent
    if not drug_tests_read(facts):
        return ()
    named = [
        f"{written} (specimen of the urine drug test of {result.when})"
        for result in facts.uds_results_within(report_months(facts.config))
        for written in specimen_not_judged(facts, result)
    ]
    return tuple(dict.fromkeys(named))


def disagreeing_reports(facts: Facts) -> tuple[str, ...]:
    """Where a urine drug test check reads the tests (`drug_tests_read`): the urine drug test reports of the months the
    checks read (`report_months`) whose words disagree about the results they link, each with what each says ("report
    conclusions of the same results disagree: ...", "its conclusion says "Positive for oxycodone" but its oxycodone
    result says "Negative" ..."): their results were read the more cautious way (`uds._as_concluded`), and only the
    report tells which reading the lab meant. A site's longer `lookback_months` counts such a report's test as done,
    so it is named over those months too, and wherever this check alone applies."""
    if not drug_tests_read(facts):
        return ()
    since = report_since(facts)
    named = [
        f"{unread.name} ({report_date_written(unread)}, {unread.disagreement})"
        for unread in reports_of_window(facts, since)
        if unread.disagreement
    ]
    return tuple(dict.fromkeys(named))


def _tested_without_result(facts: Facts, months: int) -> bool:
    """A drug test done in the window with no result to read: a procedure (a point-of-care cup, a billed test) or
    a lab report with only its conclusion."""
    since = months_before(facts.today, months)
    return any(since <= day <= facts.today for day in facts.drug_tests_done_days)


@dataclass(frozen=True)
class DrugTestAhead:
    """A urine drug test on record dated only after today: its name, what it is on record as and its id, its day."""

    name: str
    kind: str  # "observation", "procedure", "payer claim" (a procedure billed on one) or "lab report"
    ident: str | None
    day: date
    written: str  # its date as the cards write it: its day, or the month or year it names only ("2027")


def tests_after_today(facts: Facts) -> tuple[DrugTestAhead, ...]:
    """The urine drug tests dated only after today (a mistyped collection year, a clock set wrong): results,
    procedures and lab reports read as tests done, and tests awaiting their result (`uds.awaiting_results`, said
    pending only up to today). None is a test done yet, nor judged for unexpected substances (the prescriptions of a
    day that has not come are not known), so each is named rather than counted."""
    today = facts.today
    # Each test by where it lives, never by its bare id: two servers' o1 (or pr1, or report dr1) are two tests.
    found: dict[str | int, DrugTestAhead] = {}
    for result in facts.uds_results_since(RESULT_MONTHS):  # a day after today is in every window's "since"
        if result.day is not None and result.day > today:
            # a panel's components share its result: the panel is named once, by its located id (an HIE's by URL)
            located = result.observation.located
            ahead = DrugTestAhead(result.name, "observation", located, result.day, result.when or iso_day(result.day))
            found.setdefault(located or id(result.observation), ahead)
    for day, procedure in facts.drug_test_procedures:
        # dated as the card counts it (its latest date): what the card does not count is named
        if day is not None and day > today:
            name = drug_test_name(procedure.code)
            written = procedure.dated_partial or iso_day(day)  # its month or year as written, as a result's
            kind, ident = procedure.named_by or ("procedure", procedure.located)
            found.setdefault(id(procedure), DrugTestAhead(name, kind, ident, day, written))
    for unread in facts.unread_drug_test_reports:
        # a report partly read is a test by its read results, named above when they are dated ahead; one of a test
        # not performed is no test, named as not performed (`unexpected_uds_result.unread_results`)
        if (
            unread.done
            and not unread.partly
            and not unread.not_performed
            and unread.day is not None
            and unread.day > today
        ):
            found.setdefault(
                id(unread.report),
                DrugTestAhead(
                    unread.name, "lab report", unread.report.located, unread.day, unread.when or iso_day(unread.day)
                ),
            )
    for awaiting in _awaiting_after(facts):
        # named nowhere else: neither a test done nor one pending up to today (the card said "none on record")
        ahead = DrugTestAhead(awaiting.name, awaiting.kind, awaiting.located, awaiting.day, awaiting.written)
        found.setdefault(f"{awaiting.kind} {awaiting.located}" if awaiting.located else id(awaiting), ahead)
    return tuple(found.values())


def _awaiting_after(facts: Facts) -> list[AwaitingResult]:
    """The tests awaiting their result dated after today, a panel heading's members awaiting theirs left out: the
    heading and its members are one test, named once by the heading, as a panel of results is."""
    ahead = [awaiting for awaiting in facts.once(_awaiting_results) if awaiting.day > facts.today]
    members = {member for awaiting in ahead for member in awaiting.members}
    return [a for a in ahead if not (members and a.kind == "observation" and a.located in members)]


def _preliminary_on(facts: Facts, day: date) -> bool:
    """Whether every test on record that day is preliminary (a result, or a report read as a test done): the last-test
    line then says so, as the plan page's list does. A procedure or any settled result that day makes it plain."""
    if any(done == day for done, _ in facts.drug_test_procedures):
        return False
    statuses = [r.observation.status for r in facts.uds_results if r.day == day]
    statuses += [u.report.status for u in facts.unread_drug_test_reports if u.counted and u.day == day]
    return bool(statuses) and all(status == "preliminary" for status in statuses)


def _latest_ahead(ahead: tuple[DrugTestAhead, ...]) -> str | None:
    """The date, as the card writes it, of the latest test dated after today (its day first when one says it)."""
    if not ahead:
        return None
    return max(ahead, key=lambda t: (t.day, t.written == iso_day(t.day))).written


def _finding(facts: Facts, last: date | None, months: int, read_all: bool = True) -> tuple[str, str]:
    """The summary and the first line of the card: the last test (and whether it is preliminary), or none, any test
    since that could not be read and why, any result of unknown status, any awaiting its result, and any test dated
    after today, which cannot count but must not read as "none on record"; with data not read (`read_all` False),
    "none found in what could be read". The summary names the first of these that there is: a result pending, then a
    test that could not be read, then a result of unknown status, else the last test (or none)."""
    on_record = "on record" if read_all else "found in what could be read"
    unreadable = unreadable_since_last(facts, months)
    unknown = unknown_status_since_last(facts, months)
    awaiting = awaiting_result_since_last(facts, months)
    # Beside a test that could not be read, or a result of unknown status, "no result on record" is untrue of the
    # result the chart shows.
    result = f"{'readable ' if unreadable or unknown else ''}urine drug test result {on_record}"
    ahead = tests_after_today(facts)
    latest = _latest_ahead(ahead)
    after = dated_after_today_as("A urine drug test", latest, "a test")
    if last is not None:
        shown = facts.last_drug_test_written() or last.isoformat()
        plain = f"Order a urine drug test: none in {months} months (last {shown}) for a patient on longer-term opioids"
        status = " (preliminary)" if _preliminary_on(facts, last) else ""
        finding = f"The last {result} is from **{shown}**{status}, over {months} months ago."
    elif ahead:
        plain = f"Order a urine drug test: none on record up to today (one is dated {latest}{AFTER_TODAY})"
        finding = f"There is **no {result}** up to today."
    else:
        plain = "Order a urine drug test: none on record for a patient starting or on longer-term opioids"
        finding = f"There is **no {result}** for this patient."
    if awaiting:
        summary = _awaiting_summary(awaiting)
    elif unreadable:
        summary = f"Order a urine drug test: the test of {unreadable[0].when} could not be read ({unreadable[0].why})"
    elif unknown:
        summary = _unknown_status_summary(unknown)
    else:
        summary = plain
    return summary, " ".join(
        line for line in (finding, not_counted_words(unreadable, unknown, awaiting), after) if line
    )


def _basis(facts: Facts, months: int, pending_days: int) -> str:
    """The card's "Based on" line: the tests, screens ordered and opioids only as far as they were read
    (`Unread.basis`)."""
    record = facts.record
    sources = (
        Source(
            f"urine drug test results in the last {months} months",
            (LAB_RESULTS, LAB_REPORTS, PROCEDURES, CLAIMS),
            bool(record.observations or record.diagnostic_reports or record.procedures),
            f"the urine drug test results read in the last {months} months",
        ),
        Source(
            f"urine drug screen orders from the last {pending_days} days",
            (SERVICE_REQUESTS,),
            any(not request.is_draft for request in record.service_requests),
            f"the urine drug screen orders read from the last {pending_days} days",
        ),
        Source("current opioid orders", (ORDERS,), some_orders_read(facts), "the current opioid orders read"),
        Source(
            "the last 90 days of opioid prescriptions and dispenses",
            (ORDER_HISTORY, *FILLED),
            some_orders_read(facts) or bool(record.dispenses),
            "the opioid prescriptions and dispenses read of the last 90 days",
        ),
    )
    named, gaps = unread_of(facts, sources).basis(sources)
    return based_on(f"{and_list(named)}{gaps}.")


def _card(facts: Facts, settings: CheckSettings, reasons: tuple[str, ...], months: int) -> Card:
    last = facts.last_drug_test_day()
    unread = facts.not_read(*DRUG_TESTS)
    summary, finding = _finding(facts, last, months, not unread.any)
    missing = f"a urine drug test of the last {months} months, or one already ordered,"
    detail = "\n\n".join(
        part
        for part in (
            finding,
            unread.paragraph(missing),
            "**Why this applies:**\n" + bullet_list(reasons),
            "Testing before starting and periodically during longer-term opioid therapy can show substances the "
            "patient has not mentioned and supports safer prescribing.",
            "**Options:** discuss a urine drug test with the patient and explain it as a routine safety check, "
            "not a punishment; agree on what will happen with the results. A result should lead to a "
            "conversation, never to dismissing the patient from care.",
            _basis(facts, months, settings["pending_order_days"]),
        )
        if part
    )
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=unread.fitted(summary),
        detail=detail,
        suggestions=(urine_screen(facts, "urine drug screen", recommended=True),),
        links=(guideline_link(facts.config, "rec10", "CDC 2022 Recommendation 10"), plan_link("uds")),
        override_reasons=override_reasons(
            facts.config,
            "uds-done-elsewhere",
            "uds-not-indicated",
            "patient-declined",
            "excluded-condition",
            "wrong-clinician",
        ),
        view="uds",
        orders=tuple(o.id for o in facts.trigger_orders if o.id),
        facts={"last_test": last.isoformat() if last else None, "not_read": list(unread.kinds)},
    )
