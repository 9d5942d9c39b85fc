"""Every kind of item PainPlan could not read or count, and how the card, the plan page and the note name it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from operator import attrgetter
from typing import TYPE_CHECKING

from guideline.checks.high_mme import unconverted_current, unconverted_to_name
from guideline.checks.opioid_benzodiazepine import CHECK_ID as OPIOID_BENZODIAZEPINE
from guideline.checks.oud_treatment import (
    doses_after_today,
    judges,
    moud_fills_not_handed_over,
    uncounted_administrations,
    unknown_status_doses,
    where_judged,
)
from guideline.checks.pdmp_review import review_asked, unread_reviews
from guideline.checks.reassessment_due import unread_assessments
from guideline.checks.unexpected_uds_result import (
    date_written,
    left_out_by_setting,
    unjudged_substances,
    unread_results,
)
from guideline.checks.unidentified_medication import current_to_name, later_to_name
from guideline.checks.urine_drug_test import (
    disagreeing_reports,
    drug_tests_read,
    report_months,
    report_since,
    validity_not_judged,
)
from guideline.dosage import sig_length_not_read
from guideline.exclusions import hospice_not_counted_for, undated_claim_diagnoses
from guideline.facts import Facts, fill_named, named_item, order_named
from guideline.fills import implausible_detail, implausible_fills, mme_history_start
from guideline.history import naive_window
from guideline.orders import UNTIL_WINDOW_ENDS, current_until, is_current, possible_start, starts_after
from guideline.recognition import partly_read, recognise, sedative_doubt
from guideline.recognition.classify import medication_names
from guideline.recognition.diagnoses import words_not_read
from guideline.recognition.names import name_not_read
from guideline.terminology import BENZO, CNS_DEPRESSANT
from guideline.uds import (
    conclusion_only_drugs,
    cut_conclusions,
    cut_notes,
    is_drug_test_code,
    is_uds_order,
    is_urine_drug_test,
    value_as_sent,
)
from guideline.uds_names import long_test_name
from guideline.undated import (
    future_dated_drug_tests,
    future_dated_reviews,
    undated_procedures,
)
from guideline.words import QUOTED_CHARACTERS, clip

if TYPE_CHECKING:
    from guideline.config import GuidelineConfig
    from guideline.fills import FillSupply
    from guideline.record import Dispense, MedOrder, ResolvedMedication
    from guideline.supply import Supply

# A text may name the window a setting chose: "{days}" stands for `current_order_default_days` ("90 days"), so the
# card and the page say the window this site set. The faces show the kinds `worded` returns, never the raw ones.
DAYS = "{days}"


def _fill(text: str, days: str) -> str:
    return text.replace(DAYS, days)


def _window_words(config: GuidelineConfig) -> str:
    """`current_order_default_days` as every text says it ("90 days", "1 day"): what `{days}` stands for."""
    days = int(config["current_order_default_days"])
    return "1 day" if days == 1 else f"{days} days"


@dataclass(frozen=True)
class CardLine:
    """How the data-incomplete card names each item of a kind: why it matters, and the line that counts the rest."""

    why: str
    others: str

    def worded(self, days: str) -> CardLine:
        """The line with the window of days filled in."""
        return CardLine(_fill(self.why, days), _fill(self.others, days))


@dataclass(frozen=True)
class PageSentence:
    """The plan page's sentence before its list of the items, for one item and for several (`{count}` of them)."""

    one: str
    many: str

    def text(self, count: int) -> str:
        return self.one if count == 1 else self.many.format(count=count)

    def worded(self, days: str) -> PageSentence:
        """The sentence with the window of days filled in."""
        return PageSentence(_fill(self.one, days), _fill(self.many, days))


# How a kind lists its items, each named.
Items = Callable[[Facts], tuple[str, ...]]


@dataclass(frozen=True)
class NamedGap:
    """One kind of item not read or not counted. A face that is None does not name the kind: its entry says why."""

    key: str  # unique; also the id of the page's list of the items
    items: Items  # each item named, in the order every face lists them
    card: CardLine | None  # the hook's data-incomplete card
    page: PageSentence | None  # the plan page's data-completeness panel
    note: str | None  # the heading of the items in the copy-to-note text
    # What the card names when it names fewer than `items` (only on some hooks, or not what an override quieted);
    # None: the card names `items`.
    card_items: Items | None = None

    @property
    def on_card(self) -> bool:
        return self.card is not None

    def card_named(self, facts: Facts) -> tuple[str, ...]:
        """The items the hook's data-incomplete card names for this call."""
        if self.card is None:
            return ()
        return (self.card_items or self.items)(facts)

    @property
    def on_page(self) -> bool:
        return self.page is not None

    @property
    def in_note(self) -> bool:
        return self.note is not None

    def worded(self, days: str) -> NamedGap:
        """The kind with the window of days filled in on every face."""
        return replace(
            self,
            card=self.card.worded(days) if self.card else None,
            page=self.page.worded(days) if self.page else None,
            note=_fill(self.note, days) if self.note else None,
        )


# How each link type of `Patient.data_elsewhere` is named: the merge, or the record that is the main one.
_ELSEWHERE_WORDS = {"replaced-by": "was replaced by {other} (merged)", "refer": "refers to {other} (its main record)"}


def patient_record_elsewhere(facts: Facts) -> tuple[str, ...]:
    """Each record the patient's own record points to as holding the patient's data, named with how it links."""
    patient = facts.record.patient
    if patient is None:
        return ()
    return tuple(
        f"This patient record {_ELSEWHERE_WORDS[kind].format(other=other)}" for kind, other in patient.data_elsewhere
    )


def unidentified_orders(facts: Facts) -> tuple[str, ...]:
    """Drafts, current orders and current fills whose medication matched no code and no name PainPlan knows,
    each named; those that start later are a kind of their own (`Facts.unidentified_later`), never called current."""
    drafts = tuple(o for o in facts.drafts if recognise(o.medication, facts.terms).unidentified)
    orders = (*drafts, *facts.unidentified_current_orders)
    return tuple(facts.unidentified_named(orders, "current fill"))


def drug_test_notes_cut(facts: Facts) -> tuple[str, ...]:
    """Where a urine drug test check reads the tests (`drug_tests_read`): the results of the months the checks read
    (`report_months`, up to today, or undated) with a lab comment read only in part (`uds.cut_notes`)."""
    if not drug_tests_read(facts):
        return ()
    today = facts.today
    results = facts.uds_results_since(report_months(facts.config))
    return cut_notes((r for r in results if r.day is None or r.day <= today), date_written)


def drug_test_conclusions_unsure(facts: Facts) -> tuple[str, ...]:
    """Where a urine drug test check reads the tests (`drug_tests_read`): the negatives of the months the checks read
    (`report_months`, up to today, or undated) not judged because their lab report's conclusion could not be read
    surely for their drug (`UdsResult.unsure`), each with its value as sent (`value_as_sent`), its date as the other
    lines write it (`date_written`) and why: 'Oxycodone Ur Ql "Negative" (2026-05-01) not judged: its lab report's
    conclusion "Oxycodone 250 ng/mL" could not be read surely for oxycodone'."""
    if not drug_tests_read(facts):
        return ()
    today = facts.today
    named = [
        # only a negative is left so (`uds._contradiction`): one sent as a code or a number alone is quoted as read
        f'{r.name} "{clip(value_as_sent(r.observation, "negative"), QUOTED_CHARACTERS)}" '
        f"({date_written(r)}) not judged: {r.unsure}"
        for r in facts.uds_results_since(report_months(facts.config))
        if r.unsure and (r.day is None or r.day <= today)
    ]
    return tuple(dict.fromkeys(named))


def drug_test_conclusion_only_drugs(facts: Facts) -> tuple[str, ...]:
    """Where a urine drug test check reads the tests (`drug_tests_read`): the drugs a lab report of the months the
    checks read (`report_since`) says in its conclusion were found or not found, that no result it sent tests, each
    named when it would be unexpected as a result (`uds.conclusion_only_drugs`): never judged as one."""
    if not drug_tests_read(facts):
        return ()
    return conclusion_only_drugs(
        facts.record, facts.terms, facts.prescription_history, facts.config, report_since(facts), facts.today
    )


def test_names_not_read(facts: Facts) -> tuple[str, ...]:
    """Where a urine drug test check reads the tests (`drug_tests_read`): the lab results, reports and orders known by
    a name too long to read (`uds_names.long_test_name`) that no code makes a urine drug test, each named by its first
    words (`words.QUOTED_CHARACTERS`) and its length: whether it is one was not read."""
    if not drug_tests_read(facts):
        return ()
    record, terms, config = facts.record, facts.terms, facts.config
    sources = (
        ("result", record.observations, lambda code: is_urine_drug_test(code, terms)),
        ("lab report", record.diagnostic_reports, lambda code: is_drug_test_code(code, terms)),
        ("order", record.service_requests, lambda code: is_uds_order(code, terms, config)),
    )
    named = []
    for kind, items, read_as_drug_test in sources:
        for item in items:
            # The length first: on every order-sign, and almost never long, where reading each code is not free.
            length = long_test_name(item.code)
            if length is not None and item.code is not None and not read_as_drug_test(item.code):
                detail = f"its name ({length:,} characters) is longer than any test's and was not read"
                named.append(named_item(clip(item.code.display() or "", QUOTED_CHARACTERS), kind, item.id, detail))
    return tuple(dict.fromkeys(named))


def drug_test_conclusions_cut(facts: Facts) -> tuple[str, ...]:
    """Where a urine drug test check reads the tests (`drug_tests_read`): the reports of the months the checks read
    (`report_since`) whose conclusion, beside the results it links, was read only in part (`uds.cut_conclusions`)."""
    if not drug_tests_read(facts):
        return ()
    return cut_conclusions(facts.record, facts.terms, report_since(facts), facts.today, lambda: facts.specimen_verdicts)


def reviews_not_counted(facts: Facts) -> tuple[str, ...]:
    """Benefit/harm evaluations, then PDMP reviews, that their check could not count (no date it can read, a status
    unknown or unreadable) where counting them could change it, each named with why."""
    return (*unread_assessments(facts), *unread_reviews(facts))


def opioid_checks_run(facts: Facts) -> bool:
    """Whether the checks that read the opioid history and the reviews run on this call: an opioid being ordered
    (order-select, order-sign), or on patient-view a patient with a current opioid (`reassessment-due`)."""
    return bool(facts.trigger_orders) or (facts.context.hook == "patient-view" and facts.has_current_opioid)


def where_opioid_checks_run(items: Items) -> Items:
    """`items`, named on the card only where the opioid checks run (`opioid_checks_run`): elsewhere (a chart opened
    with no current opioid, an antibiotic signed) no check reads what they are missing from, and naming them on every
    call was noise clinicians learned to skip. The plan page always names them."""

    def on_card(facts: Facts) -> tuple[str, ...]:
        return items(facts) if opioid_checks_run(facts) else ()

    return on_card


def reviews_on_card(facts: Facts) -> tuple[str, ...]:
    """The reviews no check could count, where a check asking for them runs: the evaluations where the opioid checks
    run (`opioid_checks_run`), the PDMP reviews also where a benzodiazepine order asks for one (`review_asked`).
    Elsewhere no card could ask for one already on record, and the plan page names them."""
    opioid = opioid_checks_run(facts)
    assessments = unread_assessments(facts) if opioid else ()
    reviews = unread_reviews(facts) if opioid or review_asked(facts) else ()
    return (*assessments, *reviews)


def implausible_supply_fills(facts: Facts) -> tuple[str, ...]:
    """Opioid fills whose days' supply is longer than `mme.max_opioid_fill_days` and that something the page reads
    still counts (its supply, as written, reaching into the 12-month MME history), each named with it."""
    return _implausible_named(facts, mme_history_start(facts.today))


def implausible_supply_on_card(facts: Facts) -> tuple[str, ...]:
    """The fills of an implausible days' supply where the checks read them: where the opioid checks run, those whose
    supply reaches into the opioid history's 90 days (the MME total, opioid-naive, long-term therapy)."""
    if not opioid_checks_run(facts):
        return ()
    return _implausible_named(facts, _card_history_since(facts))


def _card_history_since(facts: Facts) -> date:
    """The first day of the opioid history's 90 days the checks read (the MME total, opioid-naive, long-term
    therapy)."""
    # The opioid-naive window reaches a day further back than the long-term therapy windows: it is the wider.
    return naive_window(facts.now)[0].date()


def _implausible_named(facts: Facts, since: date) -> tuple[str, ...]:
    """Read as written their daily dose (quantity ÷ days) is likely too low and their supply too long: the MME total
    and history may be higher, and the opioid history longer, than the patient's."""
    limit = facts.config["mme"]["max_opioid_fill_days"]
    named = []
    for supply, days in implausible_fills(facts.opioid_fill_supplies, limit, since):
        display = recognise(supply.dispense.medication, facts.terms).shown
        detail = implausible_detail(supply, days, facts.today)
        named.append(fill_named(display, "pharmacy fill", supply.dispense, detail))
    return tuple(dict.fromkeys(named))


def fills_possibly_sent_twice(facts: Facts) -> tuple[str, ...]:
    """Opioid fills that may each be another fill sent twice (`Facts.fills_possibly_sent_twice`), both counted, whose
    supply reaches into the 12-month MME history, each named with the fill it may repeat."""
    return _possible_copies_named(facts, mme_history_start(facts.today))


def fills_possibly_sent_twice_on_card(facts: Facts) -> tuple[str, ...]:
    """The possible copies where the checks read them: where the opioid checks run, those whose supply reaches into
    the opioid history's 90 days (the MME total, opioid-naive, long-term therapy)."""
    if not opioid_checks_run(facts):
        return ()
    return _possible_copies_named(facts, _card_history_since(facts))


def _possible_copies_named(facts: Facts, since: date) -> tuple[str, ...]:
    """Each possible copy of an opioid fill, named, when its supply or that of the fill it may repeat (queued as
    counted) lasts to `since` or later: counted twice, the dose or the days of supply may be doubled."""
    # The opioid fills lasting to `since` first: with none (a patient with no opioid of late), no possible copy can
    # be named, and the record's fills are not searched for copies (each one's date, on every call) for nothing.
    lasting = {id(supply.dispense) for supply in facts.opioid_fill_supplies if (supply.end or supply.filled) >= since}
    if not lasting:
        return ()
    named = []
    for maybe in facts.fills_possibly_sent_twice:
        if id(maybe.copy) in lasting or id(maybe.of) in lasting:
            detail = f"possibly the same fill as {fill_reference(maybe.of, 'a fill without an id')}"
            display = recognise(maybe.copy.medication, facts.terms).shown
            named.append(fill_named(display, "pharmacy fill", maybe.copy, detail))
    return tuple(dict.fromkeys(named))


def fill_reference(dispense: Dispense, unnamed: str) -> str:
    """ "eDsp4Nq8Tz", "payer claim eob-1": a fill named by its id alone, a claim's by its claim (`Dispense.named_by`),
    never by the id PainPlan made up for it; `unnamed` for a fill with neither."""
    claim = dispense.named_by
    return " ".join(claim) if claim is not None else dispense.id or unnamed


def sig_against_coded_frequency(facts: Facts) -> tuple[str, ...]:
    """Current opioid orders and drafts whose sig gives doses by time of day adding up to another day's amount than
    their coded dose and frequency, each named with both and the one counted (guideline.mme.sig_against_code)."""
    return tuple(
        dict.fromkeys(
            order_named(result.display_name, result.order, against.text)
            for result in facts.mme.orders
            for against in result.sig_against_code
        )
    )


def sigs_not_read(facts: Facts) -> tuple[str, ...]:
    """Current opioid orders and drafts with an instruction whose text was too long to read
    (`dosage.sig_length_not_read`), each named with the text's length."""
    named = (
        order_named(result.display_name, result.order, _not_read_words(length))
        for result in facts.mme.orders
        for length in filter(None, map(sig_length_not_read, result.order.dosages))
    )
    return tuple(dict.fromkeys(named))


def _not_read_words(length: int) -> str:
    return (
        f"its instructions' text ({length:,} characters) is longer than any prescription's and was not read, so its "
        "dose was not counted from it"
    )


def diagnoses_not_read(facts: Facts) -> tuple[str, ...]:
    """Active diagnoses with no code PainPlan reads whose words were too long to read
    (`recognition.diagnoses.words_not_read`), each named by their first words and with their length."""
    if not facts.any_uncoded_condition:  # the usual chart: every diagnosis read by its code
        return ()
    named = []
    for condition in facts.active_conditions:
        length = words_not_read(condition.code)
        if length is not None and condition.code is not None:
            detail = f"its words ({length:,} characters) are longer than any diagnosis's and were not read"
            shown = clip(condition.code.display() or "", QUOTED_CHARACTERS)
            named.append(named_item(shown, "condition", condition.id, detail))
    return tuple(dict.fromkeys(named))


def medication_names_not_read(facts: Facts) -> tuple[str, ...]:
    """Drafts and current orders with a medication name too long to read (`recognition.names.name_not_read`), each
    named by its first words and with the name's length."""
    named = []
    for order in (*facts.drafts, *facts.active_orders):
        for name in medication_names(order.medication):
            length = name_not_read(name)
            if length is not None:
                detail = f"its name ({length:,} characters) is longer than any medication's and was not read"
                named.append(order_named(clip(name, QUOTED_CHARACTERS), order, detail))
    return tuple(dict.fromkeys(named))


def drug_named_otherwise(facts: Facts) -> tuple[str, ...]:
    """Current opioid orders, drafts, orders that start later (listed beside the total) and current fills whose code
    and name state different drugs (one opioid and another, `guideline.mme.counted_reading`; a drug that is no opioid
    and an opioid, `guideline.mme.code_named_words`), each named with both and the reading counted. A fill read as an
    order's supply is named too: the fill may be of another drug record than its order."""
    orders = (
        _conflict_named(facts, r.display_name, r.order, text) for r in facts.mme.orders for text in r.drug_conflicts
    )
    fills = (
        fill_named(facts.name(f.dispense), "current fill", f.dispense, text)
        for f in (*facts.fill_mme, *(fill for _, fill in facts.order_fills))
        for text in f.drug_conflicts
    )
    return tuple(dict.fromkeys((*orders, *fills)))


def order_fills_of_unread_dose(facts: Facts) -> tuple[str, ...]:
    """Current opioid orders and drafts with a fill read as their supply whose daily dose could not be worked out,
    each named with the fill and why (`fills.fill_unread`): it may imply more than the order counted."""
    return tuple(
        dict.fromkeys(
            order_named(result.display_name, result.order, unread.text)
            for result in facts.mme.orders
            for unread in result.unread_fills
        )
    )


def orders_of_unbelieved_supply(facts: Facts) -> tuple[str, ...]:
    """Drafts and orders in force (active, whatever their dates: `orders.is_standing`) of a medicine that matters here
    whose days' supply, as sent, is none a prescription can hold (`supply.Supply.unbelieved`), each named with
    what was sent and what PainPlan did with the order then (`_read_without_supply`). One `orders.is_current` does not
    count today (it starts later, or its counted time has ended) is named "order", never "current order", and named
    still: the opioid exposure and prescription histories read it, as 30 days from its start (`history.order_interval`),
    its supply unknown."""
    named = []
    # A draft's relevance first: an order of no medicine the checks read has no supply worked out for it here, on
    # every call, for nothing. A standing order's supply is worked out already (`orders.current_orders` reads each
    # one's), so it is asked first, and the medication only of one whose supply was not believed (most are).
    drafts = (order for order in facts.drafts if _matters(facts, order))
    for order in (*drafts, *facts.standing_orders):
        supply = facts.supply(order)
        if supply.unheld and _matters(facts, order):
            current = is_current(order, supply, facts.today, facts.config)
            # One that starts later is not current, whatever its supply: its words say when it starts.
            read = _later_words(facts, order) or _read_without_supply(facts, order, supply, current)
            named.append(order_named(facts.name(order), order, f"{supply.unbelieved}{read}", current=current))
    return tuple(dict.fromkeys(named))


def _conflict_named(facts: Facts, display: str, order: MedOrder, conflict: str) -> str:
    """An order of the MME total whose code and name state different drugs, named with the `conflict`. The total's
    orders are today's (`orders.is_current`) and the drafts, then those that start later, listed beside it
    (`later_starts.later_line`), not counted in it: one of these is named "order", with the day it starts
    (`_later_words`), never "current order", which read as counted."""
    later = _later_words(facts, order)
    return order_named(display, order, f"{conflict}{later}", current=not later)


def _later_words(facts: Facts, order: MedOrder) -> str:
    """ "; it starts on 2026-06-25, so it is not counted as current today" of a signed order that starts after today
    (`orders.starts_after`, the first thing `orders.is_current` asks), as the prescriptions that start later are named
    elsewhere (`Facts.unidentified_later_lines`); else "". A draft is the regimen being signed, current whenever it
    starts."""
    starts = None if order.is_draft else starts_after(order, facts.today)
    return "" if starts is None else f"; it starts on {starts.isoformat()}, so it is not counted as current today"


def _matters(facts: Facts, order: MedOrder) -> bool:
    """Whether the order is of a medicine that matters here (any class but not-relevant)."""
    return recognise(order.medication, facts.terms).kind != "not-relevant"


def _read_without_supply(facts: Facts, order: MedOrder, supply: Supply, current: bool) -> str:
    """How the order was read with its supply unknown, in its item's words: a draft judged by its course of therapy
    or not judged as acute or longer-term (`Facts.duration`); an order in force begun by today (the caller asks
    `_later_words` first, as `orders.is_current` does) current until the end it states, else for the default window
    from its start, as `orders.is_current` reads it (`orders.current_until`), and, when that day has gone (`current`,
    the caller's `orders.is_current`), that it counted as current until then and is not current today. One sentence
    for all said of a draft sent as acute that it could not be judged, while the checks judged it so; "counts as
    current until" a day gone, of an order the total left out."""
    if order.is_draft:
        judged = facts.duration(order)
        if judged == "unclassified":
            return ", so it could not be judged as acute or longer-term"
        return f"; judged {'acute' if judged == 'acute' else 'longer-term'} by its course of therapy alone"
    until, why = current_until(order, supply, facts.config, possible_start(order, facts.today))
    if until is None:
        return ", so it counts as current while it is active (it states no start)"
    # Its supply unknown, an end is the one it states (`UNTIL_STATED_END`), never a supply's.
    how = f"{_window_words(facts.config)} from its start" if why == UNTIL_WINDOW_ENDS else "the end it states"
    if current:
        return f", so it counts as current until {until.isoformat()}, {how}"
    return f", so it counted as current until {until.isoformat()}, {how}, and is not current today"


def unconverted_current_opioids(facts: Facts) -> tuple[str, ...]:
    """Current opioids (drafts aside) whose daily dose in MME could not be worked out, each named."""
    return tuple(named for _, named in unconverted_current(facts))


def partly_read_sedatives(facts: Facts) -> tuple[str, ...]:
    """Drafts, current orders, listed medications and current fills of a benzodiazepine or other sedative whose name
    was only partly read ("alprazolam / XYZ-unknown 1 mg"), each named with what was read. An unidentified one is
    named as such already (`unidentified-medications`)."""
    named: list[str] = []
    for order in (*facts.current_benzos, *facts.current_cns):
        unread = _partly_read(facts, order.medication)
        if unread:
            named.append(order_named(facts.name(order), order, unread))
    for supply in (*facts.current_fills_in(BENZO), *facts.current_fills_in(CNS_DEPRESSANT)):
        unread = _partly_read(facts, supply.dispense.medication)
        if unread:
            named.append(fill_named(facts.name(supply.dispense), "current fill", supply.dispense, unread))
    return tuple(dict.fromkeys(named))


def _partly_read(facts: Facts, medication: ResolvedMedication) -> str | None:
    """What a sedative's partly read name says ("read as alprazolam; another ingredient ..."), or None."""
    recognition = recognise(medication, facts.terms)
    return None if recognition.unidentified else partly_read(recognition)


def partly_read_sedatives_on_card(facts: Facts) -> tuple[str, ...]:
    """The partly read sedatives where a card could be the last word on them: on patient-view (a chart opened), where
    an opioid is being ordered (the MME total and the opioid checks run), or where one of them is itself being
    ordered. On other orders (an antibiotic signed) naming them every time would be noise; the plan page names them."""
    if (
        facts.context.hook == "patient-view"
        or facts.trigger_orders
        or any(_partly_read(facts, order.medication) for order in facts.new_drafts)
    ):
        return partly_read_sedatives(facts)
    return ()


def partly_read_opioids(facts: Facts) -> tuple[str, ...]:
    """Drafts, current orders, listed medications and current fills of an opioid whose name was only partly read and
    whose unread word may be a sedative the checks count ("ASA/CARISOPRO/CODEINE": codeine is sold with butalbital
    or carisoprodol), each named with what was read. An opioid never sold with a sedative is not named here."""
    return tuple(dict.fromkeys(named for _, named in _opioid_doubts(facts)))


def partly_read_opioids_on_card(facts: Facts) -> tuple[str, ...]:
    """Where the opioid + sedative check judged them: on patient-view (the current ones), and where an opioid is being
    ordered (the new one may hold the sedative, and so may a current one the new opioid is paired against); where
    the check runs and counts sedatives other than benzodiazepines (no benzodiazepine is sold with an opioid). A new
    sedative gets the check's own card with them; on other orders (an antibiotic signed) the check judged nothing, and
    the plan page names them. (The general exclusions are not read here, so that one that cannot be read costs the
    data-incomplete card nothing.)"""
    settings = facts.config.check(OPIOID_BENZODIAZEPINE)
    if not settings.runs_on(facts.context.hook) or not settings["cns_enabled"]:
        return ()
    if facts.context.hook == "patient-view" or facts.trigger_orders:
        return partly_read_opioids(facts)
    return ()


def _opioid_doubts(facts: Facts) -> tuple[tuple[int, str], ...]:
    """`_doubts` of the current opioid orders, listed medications and current fills, worked out once a call (the
    partly-read-opioids line and the unknown-MME line both read them)."""
    return facts.once(_opioid_doubts_of)


def _opioid_doubts_of(facts: Facts) -> tuple[tuple[int, str], ...]:
    return tuple(_doubts(facts, (*facts.current_opioids, *facts.listed_opioids), facts.current_fills))


# Said of a partly read opioid whose dose is unknown too, so its one line says everything not known about it.
DOSE_UNKNOWN = "its daily dose in MME could not be worked out, so the high-dose check could not judge the full total"


def _doubts(facts: Facts, orders: Iterable[MedOrder], fills: Iterable[FillSupply]) -> list[tuple[int, str]]:
    """Each partly read opioid that may hold a sedative, by the id of its order or fill, named with what was read
    and, when its MME could not be worked out either, that too: one medicine, one line on the card."""
    mme = facts.mme
    unknown = {id(o.order) for o in mme.unknown_orders} | {id(f.dispense) for f in mme.unknown_fills}
    named: list[tuple[int, str]] = []
    for order in orders:
        doubt = sedative_doubt(recognise(order.medication, facts.terms), facts.terms)
        if doubt:
            detail = f"{doubt}; {DOSE_UNKNOWN}" if id(order) in unknown else doubt
            named.append((id(order), order_named(facts.name(order), order, detail)))
    for supply in fills:
        doubt = sedative_doubt(recognise(supply.dispense.medication, facts.terms), facts.terms)
        if doubt:
            detail = f"{doubt}; {DOSE_UNKNOWN}" if id(supply.dispense) in unknown else doubt
            shown = fill_named(facts.name(supply.dispense), "current fill", supply.dispense, detail)
            named.append((id(supply.dispense), shown))
    return named


def unconverted_on_card(facts: Facts) -> tuple[str, ...]:
    """The current opioids of unknown MME the data-incomplete card names (`unconverted_to_name`), but those its
    partly-read-opioids line names already, with their dose: named twice, one medicine read as two gaps."""
    if not partly_read_opioids_on_card(facts):
        return unconverted_to_name(facts)
    return unconverted_to_name(facts, frozenset(key for key, _ in _opioid_doubts(facts)))


def _administrations_on_card(facts: Facts) -> tuple[str, ...]:
    """The doses given not identified (`Facts.unidentified_administrations`), where the opioid checks run or the OUD
    treatment check judges the patient: elsewhere no card reads what they may have been."""
    if not (opioid_checks_run(facts) or facts.once(judges)):
        return ()
    return facts.unidentified_administrations


# To name a new kind of uncounted item, add one entry here: the card, the page and the note read this tuple.
# Its order is the plan page's.
NAMED_GAPS: tuple[NamedGap, ...] = (
    NamedGap(
        key="unidentified-medications",
        items=unidentified_orders,
        # On the order hooks the `unidentified-medication` check has a card of its own that names them with the
        # checks that could not count them (the current ones only when an opioid is being ordered; on other orders
        # a card every time would teach clinicians to ignore it). On patient-view that check has no card, so the
        # data-incomplete card names the current ones: a current medicine that may be an opioid or a
        # benzodiazepine, passed over without a word, made the chart look all clear.
        card=CardLine(
            "is a current medication that could not be identified from its codes or name; it may be an opioid, a "
            "benzodiazepine or a sedative, so the MME total and the opioid and benzodiazepine checks could not "
            "count it",
            "other current medications not identified",
        ),
        card_items=current_to_name,
        page=PageSentence(
            "1 medication order could not be identified from its codes or name; the MME total and the opioid, "
            "benzodiazepine, sedative and naloxone checks could not count it:",
            "{count} medication orders could not be identified from their codes or names; the MME total and the "
            "opioid, benzodiazepine, sedative and naloxone checks could not count them:",
        ),
        note="Medications PainPlan could not identify (not counted in MME or the checks)",
    ),
    NamedGap(
        key="unidentified-later",
        items=attrgetter("unidentified_later"),
        # Named with the day it starts, apart from the current ones: listed among them, the card read "… (order
        # eZx.2, starts on 2026-07-10) is a current medication". As the line above, on patient-view only: on the
        # order hooks the `unidentified-medication` card lists them under a heading of their own.
        card=CardLine(
            "is a prescription that starts later, so not a current medication yet, and could not be identified from "
            "its codes or name; it may be an opioid, a benzodiazepine or a sedative, which no check will count when "
            "it starts",
            "other prescriptions that start later not identified",
        ),
        card_items=later_to_name,
        page=PageSentence(
            "1 prescription that starts later (not current yet) could not be identified from its codes or name; when "
            "it starts the MME total and the opioid, benzodiazepine, sedative and naloxone checks will not count it:",
            "{count} prescriptions that start later (not current yet) could not be identified from their codes or "
            "names; when they start the MME total and the opioid, benzodiazepine, sedative and naloxone checks will "
            "not count them:",
        ),
        note="Prescriptions that start later PainPlan could not identify (not current yet)",
    ),
    NamedGap(
        key="unidentified-past-orders",
        items=attrgetter("unidentified_past"),
        card=CardLine(
            "is an order or pharmacy fill of the last 90 days, now ended, whose medication could not be identified; it "
            "may have been an opioid, so the opioid history (long-term use, recent start, opioid-naive) could not "
            "count it",
            "other ended orders and fills of the last 90 days not identified",
        ),
        # Only where a check reads the opioid history they may belong to.
        card_items=where_opioid_checks_run(attrgetter("unidentified_past")),
        page=PageSentence(
            "1 medication order or pharmacy fill of the last 90 days, now ended, could not be identified from its "
            "codes or name; it may have been an opioid, so the opioid history (long-term use, recent start, "
            "opioid-naive) and the status tiles that read it could not count it:",
            "{count} medication orders and pharmacy fills of the last 90 days, now ended, could not be identified from "
            "their codes or names; they may have been opioids, so the opioid history (long-term use, recent start, "
            "opioid-naive) and the status tiles that read it could not count them:",
        ),
        note=(
            "Ended medication orders and fills of the last 90 days PainPlan could not identify (not counted in opioid "
            "history)"
        ),
    ),
    NamedGap(
        key="unidentified-administrations",
        items=attrgetter("unidentified_administrations"),
        card=CardLine(
            "is a dose recorded as given in the last 90 days whose medication could not be identified; if it was "
            "buprenorphine, methadone or naltrexone, the treatment check for opioid use disorder could not count it, "
            "so check what it was",
            "other doses given in the last 90 days not identified",
        ),
        # On the card only where a check it may matter to runs: the opioid checks, or the OUD treatment check judging
        # the patient. The plan page always names them, as it names the ended orders and fills not identified.
        card_items=_administrations_on_card,
        page=PageSentence(
            "1 dose recorded as given in the last 90 days could not be identified from its codes or name; if it was "
            "buprenorphine, methadone or naltrexone, the treatment check for opioid use disorder could not count it:",
            "{count} doses recorded as given in the last 90 days could not be identified from their codes or names; if "
            "one was buprenorphine, methadone or naltrexone, the treatment check for opioid use disorder could not "
            "count it:",
        ),
        note="Doses given in the last 90 days PainPlan could not identify (not counted as OUD treatment)",
    ),
    NamedGap(
        key="partly-read-sedatives",
        items=partly_read_sedatives,
        # With an opioid on record the opioid + sedative card says the name was partly read; with none, nothing did,
        # though the word not read may be an opioid (the medicine itself then an opioid with a sedative).
        card=CardLine(
            "its name was only partly read; the ingredient not recognised may be an opioid, which the MME total and "
            "the opioid and sedative checks could not count, so check what it is",
            "other sedatives whose names were only partly read",
        ),
        card_items=partly_read_sedatives_on_card,
        page=PageSentence(
            "1 benzodiazepine or other sedative has a name PainPlan read only in part; another ingredient in it was "
            "not recognised and may be an opioid, which the MME total and the opioid and sedative checks could not "
            "count:",
            "{count} benzodiazepines or other sedatives have names PainPlan read only in part; another ingredient in "
            "each was not recognised and may be an opioid, which the MME total and the opioid and sedative checks "
            "could not count:",
        ),
        note="Sedatives whose names were only partly read (an ingredient not recognised may be an opioid)",
    ),
    NamedGap(
        key="partly-read-opioids",
        items=partly_read_opioids,
        # The opioid + sedative check pairs an opioid with a sedative on record; the one the unread word may be, inside
        # the opioid itself, it cannot see. Only opioids sold with a sedative (codeine) are named: "oxycodone / Foo"
        # would be noise. Its dose card says only that its dose could not be read.
        card=CardLine(
            "its name was only partly read; the ingredient not recognised may be a sedative, so the opioid + sedative "
            "check could not tell whether this medicine combines an opioid with a sedative; check what it is",
            "other opioids whose names were only partly read",
        ),
        card_items=partly_read_opioids_on_card,
        page=PageSentence(
            "1 opioid has a name PainPlan read only in part; another ingredient in it was not recognised and may be a "
            "sedative, so the opioid + sedative check could not tell whether it combines an opioid with a sedative:",
            "{count} opioids have names PainPlan read only in part; another ingredient in each was not recognised and "
            "may be a sedative, so the opioid + sedative check could not tell whether they combine an opioid with a "
            "sedative:",
        ),
        note="Opioids whose names were only partly read (an ingredient not recognised may be a sedative)",
    ),
    NamedGap(
        key="unconverted-opioids",
        items=unconverted_current_opioids,
        # On order-sign `high-mme` has an info card that names them when an opioid is being ordered, and on
        # patient-view its dose card lists them when the known total already reaches a threshold; below it,
        # patient-view said nothing, so the data-incomplete card names them there (`unconverted_to_name`).
        card=CardLine(
            "is a current opioid whose daily dose in MME could not be worked out, so the high-dose check could not "
            "judge the full total; check the dose by hand",
            "other current opioids whose MME could not be worked out",
        ),
        # Not on the panel or in the note: the page's medications list and the note's medications each name such
        # an opioid with why its dose was not converted.
        page=None,
        note=None,
        card_items=unconverted_on_card,
    ),
    NamedGap(
        key="sig-against-coded-frequency",
        items=sig_against_coded_frequency,
        # The sig's doses by time of day and the coded frequency disagree about the day's dose; the larger was counted
        # (the high-dose direction), so nothing went uncounted, but one of the two is wrong and only the prescriber
        # knows which. Named on the card only where the MME total is judged.
        card=CardLine(
            "the instructions' doses by time of day and the order's coded frequency give different daily doses; the "
            "larger was counted in the MME total and the days' supply, so check which is meant",
            "other orders whose instructions and coded frequency disagree",
        ),
        card_items=where_opioid_checks_run(sig_against_coded_frequency),
        page=PageSentence(
            "1 opioid order's instructions give doses by time of day that add up to a different daily dose than its "
            "coded dose and frequency; the larger was counted in the MME total and the days' supply:",
            "{count} opioid orders' instructions give doses by time of day that add up to a different daily dose "
            "than their coded dose and frequency; the larger was counted in the MME total and the days' supply:",
        ),
        note="Opioid orders whose instructions and coded frequency give different daily doses (the larger counted)",
    ),
    NamedGap(
        key="sigs-not-read",
        # A sig far longer than any prescription's (a paste, a hostile text) is not read, so one hook call is never
        # seconds of one text (`words.TEXT_READ_CHARACTERS`); what it says may change the coded dose, so the order's
        # dose is read as not read (estimated from its quantity and days' supply where it has them, else no MME).
        items=sigs_not_read,
        card=CardLine(
            "its instructions' text is longer than any prescription's and was not read, so its dose was not counted "
            "from it; check the instructions",
            "other orders whose instructions were not read",
        ),
        card_items=where_opioid_checks_run(sigs_not_read),
        page=PageSentence(
            "1 opioid order's instructions are longer than any prescription's and were not read, so its dose was not "
            "counted from them:",
            "{count} opioid orders' instructions are longer than any prescription's and were not read, so their doses "
            "were not counted from them:",
        ),
        note="Opioid orders whose instructions were too long to read (dose not counted from them)",
    ),
    NamedGap(
        key="diagnoses-not-read",
        # A problem-list entry in words far longer than any diagnosis's (a paste, a hostile text) is not read, so one
        # hook call is never seconds of one text (`words.TEXT_READ_CHARACTERS`): no condition is read from it (an
        # exclusion, opioid use disorder), so only the entry shows what it says.
        items=diagnoses_not_read,
        card=CardLine(
            "is a diagnosis whose words are longer than any diagnosis's and were not read, so no check counted it "
            "(a cancer, sickle cell disease, hospice care or opioid use disorder it may name); check it",
            "other diagnoses whose words were not read",
        ),
        card_items=where_opioid_checks_run(diagnoses_not_read),
        page=PageSentence(
            "1 active diagnosis is written in words longer than any diagnosis's, not read, so no check counted it (a "
            "cancer, sickle cell disease, hospice care or opioid use disorder it may name); check it yourself:",
            "{count} active diagnoses are written in words longer than any diagnosis's, not read, so no check counted "
            "them (a cancer, sickle cell disease, hospice care or opioid use disorder they may name); check them "
            "yourself:",
        ),
        note="Diagnoses whose words were too long to read (not read by the checks)",
    ),
    NamedGap(
        key="medication-names-not-read",
        # A medication name far longer than any product's (a paste, a hostile text) is not read, so one hook call is
        # never seconds of one text (`words.TEXT_READ_CHARACTERS`): no drug is read from it, so a medication known
        # by it alone is unidentified (named so too), and one known by its code is not compared with it; only the
        # order shows what it says.
        items=medication_names_not_read,
        card=CardLine(
            "has a name longer than any medication's, which was not read, so what drug it names was not checked; "
            "check the order",
            "other orders whose names were not read",
        ),
        page=PageSentence(
            "1 order has a medication name longer than any medication's, which was not read, so what drug it names "
            "was not checked:",
            "{count} orders have medication names longer than any medication's, which were not read, so what drugs "
            "they name was not checked:",
        ),
        note="Orders whose medication names were too long to read (not checked)",
    ),
    NamedGap(
        key="drug-named-otherwise",
        items=drug_named_otherwise,
        # An EHR drug record mapped to the wrong RxNorm code, or a name edited after coding: which drug the patient
        # takes only the prescriber knows. The opioid reading was counted (a code of no opioid named as one, or the
        # reverse), or of two opioids the one with the higher MME (the high-dose direction), so nothing went
        # uncounted; named on the card only where the MME total is judged. An order that starts later is listed
        # beside the total by the same reading, not counted in it (its own line says so): the sentence says both.
        card=CardLine(
            "its code and its name state different drugs; the MME total counted it (or listed it beside the total, "
            "for an order that starts later) as the opioid, or of two opioids as the one whose MME is the higher "
            "(where either could be worked out), so check which drug is meant",
            "other opioids whose code and name state different drugs",
        ),
        card_items=where_opioid_checks_run(drug_named_otherwise),
        page=PageSentence(
            "1 opioid order or pharmacy fill has a code that states one drug and a name that states another; it was "
            "counted in the MME total (or listed beside it, for an order that starts later) as the opioid, or of two "
            "opioids as the one whose MME is the higher:",
            "{count} opioid orders or pharmacy fills have a code that states one drug and a name that states another; "
            "each was counted in the MME total (or listed beside it, for an order that starts later) as the opioid, or "
            "of two opioids as the one whose MME is the higher:",
        ),
        note="Opioids whose code and name state different drugs (read as the opioid, or of two as the higher MME)",
    ),
    NamedGap(
        key="order-fills-of-unread-dose",
        items=order_fills_of_unread_dose,
        # The order counts at its own dose; a fill of it whose quantity or days' supply is missing may say the patient
        # was dispensed more (another prescriber's prescription, a changed sig), which `fills.fill_raises` would count.
        card=CardLine(
            "the daily dose of that pharmacy fill, read as this order's supply, could not be worked out; it may imply "
            "a larger dose than the order, which the MME total would then count, so check the fill with the pharmacy",
            "other orders with a fill whose daily dose could not be worked out",
        ),
        card_items=where_opioid_checks_run(order_fills_of_unread_dose),
        page=PageSentence(
            "1 current opioid order has a pharmacy fill read as its supply whose daily dose could not be worked out; "
            "it may imply a larger dose than the order, and the MME total counts the order's:",
            "{count} current opioid orders have a pharmacy fill read as their supply whose daily dose could not be "
            "worked out; each may imply a larger dose than its order, and the MME total counts the order's:",
        ),
        note="Opioid orders with a pharmacy fill of unknown daily dose (the order's dose counted)",
    ),
    NamedGap(
        key="undated-fills",
        items=attrgetter("undated_fills"),
        card=CardLine(
            "has no dispense date, so the MME total and the checks could not count it",
            "other fills with no dispense date",
        ),
        page=PageSentence(
            "1 pharmacy fill had no dispense date PainPlan can read (whenHandedOver or whenPrepared), so it could not "
            "be placed in time; the MME total and the checks could not count it:",
            "{count} pharmacy fills had no dispense date PainPlan can read (whenHandedOver or whenPrepared), so they "
            "could not be placed in time; the MME total and the checks could not count them:",
        ),
        note="Pharmacy fills with no date (not counted in MME or the checks)",
    ),
    NamedGap(
        key="unknown-status-fills",
        items=attrgetter("unknown_status_fills"),
        card=CardLine(
            # Said beside the population review's "OUD without treatment" too (`population.standing`): true there.
            "status is unknown and nothing records it as handed over; it was counted as the patient's in the MME "
            "total and the medication checks, but not as treatment for opioid use disorder or as naloxone on hand, so "
            "check that the patient has it",
            "other fills of unknown status counted",
        ),
        page=PageSentence(
            "1 recent pharmacy fill had an unknown status (or none, and no handed-over date); it was counted as "
            "handed over in the MME total and the medication checks, but not as naloxone on hand or past opioid use:",
            "{count} recent pharmacy fills had an unknown status (or none, and no handed-over date); they were "
            "counted as handed over in the MME total and the medication checks, but not as naloxone on hand or past "
            "opioid use:",
        ),
        note="Pharmacy fills of unknown status (counted as handed over)",
    ),
    NamedGap(
        key="implausible-supply-fills",
        items=implausible_supply_fills,
        # A US schedule II opioid fill may supply at most 90 days (`mme.max_opioid_fill_days`): a longer one is
        # likely the quantity keyed in as the days (#180, 180 days), read as 1 tablet a day for half a year. No other
        # number is guessed; the fill is counted as written and named wherever it is still counted: on the card
        # (where the MME total and the opioid history are judged) while it reaches the 90 days the opioid history
        # reads, on the page while it reaches the 12-month MME history.
        card=CardLine(
            "that days' supply looks implausible for an opioid fill; its daily dose may be higher, and its supply "
            "shorter, than counted, so check the quantity and days' supply with the pharmacy",
            "other opioid fills with an implausible days' supply",
        ),
        page=PageSentence(
            "1 opioid fill of the last 12 months had a days' supply that looks implausible for an opioid fill "
            "(perhaps its quantity keyed in as the days); it was counted as written, so its daily dose may be higher, "
            "and its supply shorter, than counted:",
            "{count} opioid fills of the last 12 months had a days' supply that looks implausible for an opioid fill "
            "(perhaps the quantity keyed in as the days); they were counted as written, so their daily doses may be "
            "higher, and their supplies shorter, than counted:",
        ),
        note="Opioid fills with an implausible days' supply (daily dose may be higher, and supply shorter, than "
        "counted)",
        card_items=implausible_supply_on_card,
    ),
    NamedGap(
        key="fills-possibly-sent-twice",
        items=fills_possibly_sent_twice,
        # One fill sent twice is read once (guideline.sent_twice); a pair the rule cannot settle, its prescriber not
        # known to be the same on both, is counted twice (a supply lost cannot be seen, one doubled can be checked),
        # and named, so the doubled dose or supply is never silent.
        card=CardLine(
            "check with the pharmacy whether it was filled once; both were counted in the MME total and the opioid "
            "history, as it matches that fill in day, drug, quantity, days' supply and pharmacy but its prescriber is "
            "not known to be the same: one of the two names none or only a practitioner who may be the pharmacist, or "
            "the two name the prescriber in ways that cannot be matched, such as a reference and an NPI",
            "other opioid fills possibly sent twice",
        ),
        card_items=fills_possibly_sent_twice_on_card,
        page=PageSentence(
            "1 opioid fill matches another fill in day, drug, quantity, days' supply and pharmacy, but its prescriber "
            "is not known to be the same (one of the two names none, or names only a practitioner who may be the "
            "pharmacist, or the two name the prescriber in ways that cannot be matched, such as a reference and an "
            "NPI), so it may be the same fill sent twice; both were counted in the MME total and the opioid history:",
            "{count} opioid fills each match another fill in day, drug, quantity, days' supply and pharmacy, but "
            "their prescribers are not known to be the same (one of each two names none, or names only a "
            "practitioner who may be the pharmacist, or the two name the prescriber in ways that cannot be matched, "
            "such as a reference and an NPI), so each may be the same fill sent twice; both of each were counted in "
            "the MME total and the opioid history:",
        ),
        note="Opioid fills possibly sent twice (both counted)",
    ),
    NamedGap(
        key="future-dated-fills",
        items=attrgetter("future_dated_fills"),
        card=CardLine(
            "is dated after today, so the MME total and the checks did not count it",
            "other fills dated after today",
        ),
        page=PageSentence(
            "1 pharmacy fill is dated after today, so the MME total and the checks did not count it:",
            "{count} pharmacy fills are dated after today, so the MME total and the checks did not count them:",
        ),
        note="Pharmacy fills dated after today (not counted in MME or the checks)",
    ),
    NamedGap(
        key="unknown-status",
        items=attrgetter("unknown_status_orders"),
        card=CardLine(
            "status is unknown, so whether it is taken now cannot be told and it was not counted as current",
            "other orders of unknown status",
        ),
        page=PageSentence(
            "1 recent medication order had an unknown status; whether it is taken now cannot be told, so it was not "
            "counted as current:",
            "{count} recent medication orders had an unknown status; whether they are taken now cannot be told, so "
            "they were not counted as current:",
        ),
        note="Orders of unknown status (not counted as current)",
    ),
    NamedGap(
        key="partially-dated",
        items=attrgetter("partially_dated_supplies"),
        card=CardLine(
            "is dated to the month or the year only, so its supply may have ended already; it was counted as current",
            "other orders and fills dated to the month or the year only",
        ),
        page=PageSentence(
            "1 medication order or pharmacy fill is dated to the month or the year only; its supply may have ended "
            "already, and it was counted as current:",
            "{count} medication orders or pharmacy fills are dated to the month or the year only; their supply may "
            "have ended already, and they were counted as current:",
        ),
        note="Orders and fills dated to the month or the year only (counted as current)",
    ),
    NamedGap(
        key="unreadable-dates",
        # A date that cannot be read is read as none, so the order is placed by its other dates and, with none,
        # counted as current while active: the safe side for the MME total, but counted with nothing said before.
        items=attrgetter("unreadable_dates"),
        card=CardLine(
            "that date was read as none, so it was placed in time by its other dates (an order with none is counted "
            "as current while active); check its dates",
            "other orders and fills with a date that could not be read",
        ),
        page=PageSentence(
            "1 medication order or pharmacy fill had a date PainPlan could not read; it was placed in time by its "
            "other dates (an order with none is counted as current while active):",
            "{count} medication orders or pharmacy fills had dates PainPlan could not read; each was placed in time "
            "by its other dates (an order with none is counted as current while active):",
        ),
        note="Orders and fills with a date that could not be read (placed by their other dates)",
    ),
    NamedGap(
        key="unread-categories",
        items=attrgetter("unread_category_orders"),
        card=CardLine(
            "is not known as outpatient or inpatient, so the order was checked as an outpatient prescription",
            "other orders of unknown category",
        ),
        page=PageSentence(
            "1 medication order had a category PainPlan does not know as outpatient or inpatient; it was checked as "
            "an outpatient prescription:",
            "{count} medication orders had a category PainPlan does not know as outpatient or inpatient; they were "
            "checked as outpatient prescriptions:",
        ),
        note="Orders of unknown category (checked as outpatient)",
    ),
    NamedGap(
        key="unclassified-new-orders",
        items=attrgetter("unclassified_triggers"),
        card=CardLine(
            "has no days' supply PainPlan can work out (no supply duration, and no quantity with a daily dose it can "
            "read), so the checks that depend on whether it is acute or longer-term could not judge it",
            "other new orders of unknown duration",
        ),
        # A page opened from a card's link evaluates the same drafts, so it names them as the card does.
        page=PageSentence(
            "1 order being signed had no days' supply PainPlan can work out (no supply duration, and no quantity "
            "with a daily dose it can read), so the checks that depend on whether it is acute or longer-term could "
            "not judge it:",
            "{count} orders being signed had no days' supply PainPlan can work out (no supply duration, and no "
            "quantity with a daily dose it can read), so the checks that depend on whether they are acute or "
            "longer-term could not judge them:",
        ),
        note="Orders being signed with no days' supply PainPlan can work out (not judged as acute or longer-term)",
    ),
    NamedGap(
        key="unbelieved-supply",
        items=orders_of_unbelieved_supply,
        # A days' supply over 999 days (what a claim can carry), an expected supply under one day (pharmacies count
        # whole days), or over 99 refills, is a keying error (9000 tablets for 90, 10 minutes for 10 days) or corrupt
        # data: it is not counted (guideline.supply), and named with what was sent, since the order then counts as
        # one of unknown supply. Named apart from `unclassified-new-orders`, whose words ("no quantity with a daily
        # dose it can read") were said of an order whose 9000 tablets the clinician could see.
        # What that meant for each order (judged by its course of therapy or not, current until when) is in its
        # item's words: one sentence for all said of a draft sent as acute that it could not be judged. The line
        # names the refills and speaks of "such a supply": with more than 99 refills each fill's supply is right ("30
        # days' supply with 120 refills") and only the total cannot be, and 10 minutes is not "that long"; said of "a
        # supply that long", a 30-day fill read as the error.
        card=CardLine(
            "check the quantity, days' supply and refills; such a supply cannot be right and was not counted",
            "other orders with a days' supply no prescription can hold",
        ),
        page=PageSentence(
            "1 medication order had a days' supply no prescription can hold (less than one day or more than 999 days, "
            "or more than 99 refills; most likely a keying error, such as 9000 tablets for 90), so PainPlan did not "
            "count it:",
            "{count} medication orders had a days' supply no prescription can hold (less than one day or more than 999 "
            "days, or more than 99 refills; most likely keying errors, such as 9000 tablets for 90), so PainPlan did "
            "not count them:",
        ),
        note="Orders with a days' supply no prescription can hold (supply not counted)",
    ),
    NamedGap(
        key="unread-uds",
        items=unread_results,  # the item says which: a value not read, "undated" or "status unknown"
        card=CardLine(
            "urine drug test result not read as positive or negative, or of unknown date or status, so it was not "
            "judged for unexpected results",
            "other urine drug test results not read",
        ),
        page=PageSentence(
            "1 urine drug test result of the last 12 months could not be read as positive or negative, or had no "
            "date or an unknown status, so it was not judged for unexpected results:",
            "{count} urine drug test results of the last 12 months could not be read as positive or negative, or had "
            "no date or an unknown status, so they were not judged for unexpected results:",
        ),
        note=(
            "Urine drug test results not read as positive or negative, or of unknown date or status (not judged for "
            "unexpected results)"
        ),
    ),
    NamedGap(
        key="uds-report-disagreements",
        # A lab report whose conclusion says a drug was found while its own result for that drug reads negative (or
        # calls negative a result read positive, which is kept: a drug found in the cup was in it), or two reports of
        # the same results that conclude differently: the results were read the more cautious way (a contradicted
        # negative is no unexpected negative, a doubtful specimen's negative no test read), and only the report says
        # which the lab meant. Listed among the results not read, it read as a test not read.
        items=disagreeing_reports,  # each item says what each part of the report, or each report, says
        card=CardLine(
            "the lab's own words disagree about the same results, so they were read the more cautious way (a "
            "negative the conclusion says was found is not judged as unexpected, a positive it calls negative is "
            "kept); read the report",
            "other lab reports whose words disagree",
        ),
        page=PageSentence(
            # the months the urine drug test checks read (`report_months`), 12 or a site's longer look-back
            "1 urine drug test report the checks read says different things of the same results (its "
            "conclusion and its own results, or two reports' conclusions), so they were read the more cautious way "
            "(a negative the conclusion says was found is not judged as unexpected, a positive it calls negative is "
            "kept); read the report:",
            "{count} urine drug test reports the checks read say different things of the same results (their "
            "conclusions and their own results, or two reports' conclusions), so they were read the more cautious "
            "way (a negative the conclusion says was found is not judged as unexpected, a positive it calls negative "
            "is kept); read the reports:",
        ),
        note="Urine drug test reports whose words disagree about the same results (read the more cautious way)",
    ),
    NamedGap(
        key="uds-conclusions-unsure",
        # A negative whose lab report's conclusion PainPlan could not read surely for its drug ("Oxycodone 250
        # ng/mL": found, or measured under the cutoff; "Opiates." a heading or a class found) is not judged: an
        # unexpected negative read into words that may say the drug was found accuses a patient of diversion. The lab
        # did not contradict itself, so it is not named among the words that disagree; a positive is kept either
        # way, and not named.
        items=drug_test_conclusions_unsure,  # each item quotes the conclusion and names the drug
        card=CardLine(
            # after the item, which already says the conclusion could not be read surely for the drug
            "its words may say the drug was found, so that negative was not judged as unexpected; read the report",
            "other negatives whose lab report's conclusion could not be read surely",
        ),
        page=PageSentence(
            "1 urine drug test negative the checks read was not judged as unexpected: its lab report's conclusion "
            "could not be read surely for its drug (its words may say it was found); read the report:",
            "{count} urine drug test negatives the checks read were not judged as unexpected: their lab reports' "
            "conclusions could not be read surely for their drugs (their words may say they were found); read the "
            "reports:",
        ),
        note="Urine drug test negatives not judged: their lab report's conclusion could not be read surely",
    ),
    NamedGap(
        key="uds-conclusion-only-drugs",
        # A drug a report's conclusion says surely was found ("Oxycodone positive. Fentanyl positive.") or not, that
        # no result it sent tests, is never judged as a result (a conclusion is never a result per substance); passed
        # over, the lab's own word of unprescribed fentanyl went unsaid. Named only when it would be unexpected as a
        # result: an expected finding named was noise.
        items=drug_test_conclusion_only_drugs,  # each item names the report, its date, the drug and what it says
        card=CardLine(
            # after the item, which already says the conclusion reports a drug no result tests
            "not judged as a result; read the report",
            "other drugs only a lab report's conclusion reports",
        ),
        page=PageSentence(
            "1 drug a urine drug test report the checks read says in its conclusion was found or not found, which no "
            "result it sent tests, was not judged as a result (it would be unexpected as one); read the report:",
            "{count} drugs urine drug test reports the checks read say in their conclusions were found or not found, "
            "which no result they sent tests, were not judged as results (they would be unexpected as ones); read "
            "the reports:",
        ),
        note="Drugs only a urine drug test report's conclusion reports, not judged as results",
    ),
    NamedGap(
        key="uds-conclusions-cut",
        # A conclusion far longer than any interpretive report (a CSV pasted in) is read for what it says was found
        # only to its first `uds.CONCLUSION_READ_CHARACTERS`, so one hook call is never minutes of one text: what it
        # says after that was not compared with its results, and only the report shows it.
        items=drug_test_conclusions_cut,  # each item gives the conclusion's length and how much of it was read
        card=CardLine(
            "the lab report's conclusion is far longer than a report's and was read only in part, so what it says "
            "later was not compared with its results; read the report",
            "other lab reports whose conclusion was read only in part",
        ),
        page=PageSentence(
            "1 urine drug test report the checks read has a conclusion far longer than a report's, read only in "
            "part, so what it says later was not compared with its results; read the report:",
            "{count} urine drug test reports the checks read have conclusions far longer than a report's, read only "
            "in part, so what they say later was not compared with their results; read the reports:",
        ),
        note="Urine drug test reports whose conclusion was read only in part (far longer than a report's)",
    ),
    NamedGap(
        key="uds-notes-cut",
        # A lab comment on a drug result far longer than any comment (a report pasted in) is read for what it says
        # of the specimen ("dilute") only to its first `uds.CONCLUSION_READ_CHARACTERS`, as a conclusion is, so one
        # hook call is never seconds of one text: what it says later was not read, and only the result shows it.
        items=drug_test_notes_cut,
        card=CardLine(
            "its lab comment is far longer than a comment's and was read only in part, so what it says later of the "
            "specimen (dilute, substituted) was not read; read the result",
            "other results whose lab comment was read only in part",
        ),
        page=PageSentence(
            "1 urine drug test result the checks read has a lab comment far longer than a comment's, read only in "
            "part, so what it says later of the specimen was not read; read the result:",
            "{count} urine drug test results the checks read have lab comments far longer than a comment's, read "
            "only in part, so what they say later of the specimen was not read; read the results:",
        ),
        note="Urine drug test results whose lab comment was read only in part (far longer than a comment)",
    ),
    NamedGap(
        key="test-names-not-read",
        # A lab result, report or order known by a name far longer than any test's (a paste, a hostile text) is not
        # read, so one hook call is never seconds of one text (`words.TEXT_READ_CHARACTERS`): it is no urine drug test
        # to the checks (a test done, a result to judge, a test ordered), so only the item shows what it is.
        items=test_names_not_read,
        card=CardLine(
            "has a name longer than any test's, which was not read, so whether it is a urine drug test (done, with a "
            "result to judge, or ordered) was not checked; check it",
            "other lab results, reports and orders whose names were not read",
        ),
        page=PageSentence(
            "1 lab result, report or order has a name longer than any test's, which was not read, so whether it is a "
            "urine drug test was not checked:",
            "{count} lab results, reports and orders have names longer than any test's, which were not read, so "
            "whether they are urine drug tests was not checked:",
        ),
        note="Lab results, reports and orders whose names were too long to read (not checked as urine drug tests)",
    ),
    NamedGap(
        key="unjudged-specimen-validity",
        # Read as no value, a creatinine in mmol/24 h or given only as "<30 mg/dL" left its specimen judged fit with
        # nothing said; read as unfit, a test most likely fit would be no test. Its results are read as the validity
        # results judged allow, and this is named, each item with why (a unit or words not read, or what its bound
        # cannot tell: a substitution left open beside a certain "dilute" too, as it would leave positives unread).
        items=validity_not_judged,
        # The item says why it could not be judged (a unit or words not read, or what its bound cannot tell), so
        # the line does not list the reasons again.
        card=CardLine(
            "PainPlan could not judge it, so could not tell whether the specimen was dilute, substituted or invalid; "
            "the test's results were read as its other validity results allow: a negative as a negative unless they "
            "find the specimen dilute, a positive as a positive",
            "other specimen validity results not judged",
        ),
        page=PageSentence(
            # the months the urine drug test checks read (`report_months`), 12 or a site's longer look-back
            "1 specimen validity result of a urine drug test the checks count could not be judged (in a unit or "
            "words PainPlan does not read, given only as a bound that cannot decide, or found unfit but taken at "
            "another time that day), so whether the specimen was "
            "dilute, substituted or invalid was not judged; its results were read as its other validity results allow "
            "(a negative as a negative unless they find the specimen dilute, a positive as a positive):",
            "{count} specimen validity results of urine drug tests the checks count could not be judged (in a unit "
            "or words PainPlan does not read, given only as a bound that cannot decide, or found unfit but taken at "
            "another time that day), so whether the specimens "
            "were dilute, substituted or invalid was not judged; their results were read as their other validity "
            "results allow (a negative as a negative unless they find the specimen dilute, a positive as a positive):",
        ),
        note=(
            "Urine drug test specimen validity results not judged: a unit or words not read, a bound that cannot "
            "decide, or found unfit at another time that day (results read as the other validity results allow)"
        ),
    ),
    NamedGap(
        key="unjudged-uds-substances",
        items=unjudged_substances,
        card=CardLine(
            "urine drug test result for a drug PainPlan does not judge against prescriptions, so whether it was "
            "expected is for you to decide",
            "other urine drug test results not judged",
        ),
        page=PageSentence(
            "1 urine drug test of the last 12 months found a drug PainPlan does not judge against prescriptions (or "
            "its value could not be read), so whether it was expected is for you to decide:",
            "{count} urine drug tests of the last 12 months found drugs PainPlan does not judge against "
            "prescriptions (or their values could not be read), so whether they were expected is for you to decide:",
        ),
        note="Urine drug test results for drugs PainPlan does not judge (positive or unread)",
    ),
    NamedGap(
        key="uds-substances-not-judged-by-setting",
        items=left_out_by_setting,
        # Not on the card: the site chose not to judge these (cannabinoids are off by default), and a card on every
        # order for a patient who uses cannabis is what that setting was chosen to avoid. The page says so, so that a
        # positive in its results with no "unexpected" beside it is not read as judged and expected.
        card=None,
        page=PageSentence(
            "1 urine drug test of the last 12 months was positive for a substance this site's settings leave out of "
            "judging, so whether it was expected is for you to decide:",
            "{count} urine drug tests of the last 12 months were positive for substances this site's settings leave "
            "out of judging, so whether they were expected is for you to decide:",
        ),
        note="Urine drug test positives this site's settings leave out of judging",
    ),
    NamedGap(
        key="undated-procedures",
        items=undated_procedures,
        card=CardLine(
            "has no date PainPlan can read, so no check could count it as done recently",
            "other procedures with no date",
        ),
        page=PageSentence(
            "1 procedure that a check reads had no date PainPlan can read (performed given as an age, an age range "
            "or words, or not at all), so no check could count it as done recently:",
            "{count} procedures that a check reads had no date PainPlan can read (performed given as an age, an age "
            "range or words, or not at all), so no check could count them as done recently:",
        ),
        note="Procedures with no date (not counted as recent)",
    ),
    NamedGap(
        key="future-dated-reviews",
        items=future_dated_reviews,
        card=CardLine(
            "is dated after today, so no check counted it as a review done",
            "other reviews dated after today",
        ),
        page=PageSentence(
            "1 review (benefit/harm evaluation or PDMP review) is dated after today, so no check or status tile "
            "counted it as done:",
            "{count} reviews (benefit/harm evaluation or PDMP review) are dated after today, so no check or status "
            "tile counted them as done:",
        ),
        note="Reviews dated after today (not counted as done)",
    ),
    NamedGap(
        key="unread-reviews",
        # The item says why: "no date", "status unknown", a PDMP review row's absent answer and its reason ("value
        # temporarily unknown"), or more than one of them.
        items=reviews_not_counted,
        card_items=reviews_on_card,
        card=CardLine(
            "a review that no check could count as done (no date PainPlan can read, a status it cannot tell, or no "
            "answer), so a card may ask for one already on record",
            "other reviews not counted",
        ),
        page=PageSentence(
            "1 review (benefit/harm evaluation or PDMP review) had no date PainPlan can read, an unknown status or no "
            "answer, so no check or status tile counted it as done; check it yourself:",
            "{count} reviews (benefit/harm evaluation or PDMP review) had no date PainPlan can read, an unknown status "
            "or no answer, so no check or status tile counted them as done; check them yourself:",
        ),
        note="Reviews with no date, of unknown status or with no answer (not counted as done)",
    ),
    NamedGap(
        key="future-dated-drug-tests",
        items=future_dated_drug_tests,
        card=CardLine(
            "is dated after today, so it was not counted as a test done or judged for unexpected results",
            "other urine drug tests dated after today",
        ),
        page=PageSentence(
            "1 urine drug test is dated after today, so it was not counted as a test done or judged for unexpected "
            "results:",
            "{count} urine drug tests are dated after today, so they were not counted as tests done or judged for "
            "unexpected results:",
        ),
        note="Urine drug tests dated after today (not counted or judged)",
    ),
    NamedGap(
        key="uncounted-administrations",
        items=where_judged(uncounted_administrations),
        card=CardLine(
            "is a dose of medication for opioid use disorder recorded as given with no date PainPlan can read, so "
            "the treatment check could not count it",
            "other doses given not counted",
        ),
        # One dated, of unknown status, is "unknown-status-doses"': these are the undated ones alone.
        page=PageSentence(
            "1 dose of medication for opioid use disorder recorded as given had no date PainPlan can read, so the "
            "treatment check could not count it:",
            "{count} doses of medication for opioid use disorder recorded as given had no date PainPlan can read, so "
            "the treatment check could not count them:",
        ),
        note="OUD medication given with no date (not counted as treatment)",
    ),
    NamedGap(
        key="unknown-status-doses",
        items=where_judged(unknown_status_doses),
        card=CardLine(
            "is a dose of medication for opioid use disorder of unknown status, so it was not counted as treatment",
            "other OUD medication doses of unknown status",
        ),
        page=PageSentence(
            "1 dose of medication for opioid use disorder (billed, or recorded as given) has an unknown status, so "
            "the treatment check did not count it as treatment; if it was given, the patient is on treatment:",
            "{count} doses of medication for opioid use disorder (billed, or recorded as given) have an unknown "
            "status, so the treatment check did not count them as treatment; if one was given, the patient is on "
            "treatment:",
        ),
        note="OUD medication doses of unknown status (not counted as treatment)",
    ),
    NamedGap(
        key="future-dated-doses",
        # The item says "status unknown" too where its status does not say it was given.
        items=where_judged(doses_after_today),
        card=CardLine(
            "is a dose of medication for opioid use disorder dated after today, so it was not counted as treatment",
            "other OUD medication doses dated after today",
        ),
        page=PageSentence(
            "1 dose of medication for opioid use disorder (billed, or recorded as given) is dated after today, so the "
            "treatment check did not count it as treatment; if its date is wrong and it was given, the patient is on "
            "treatment:",
            "{count} doses of medication for opioid use disorder (billed, or recorded as given) are dated after "
            "today, so the treatment check did not count them as treatment; if a date is wrong and the dose was "
            "given, the patient is on treatment:",
        ),
        note="OUD medication doses dated after today (not counted as treatment)",
    ),
    NamedGap(
        key="moud-fills-not-handed-over",
        # Still being prepared or waiting to be picked up: the MME total counts one waiting ("in-progress") as the
        # patient's, leaning safe, but it is no treatment until handed over.
        items=where_judged(moud_fills_not_handed_over),
        card=CardLine(
            "is a fill of medication for opioid use disorder not yet handed over, so it was not counted as "
            "treatment; if it was picked up, the patient is on treatment",
            "other OUD medication fills not yet handed over",
        ),
        page=PageSentence(
            "1 pharmacy fill of medication for opioid use disorder is still being prepared or waiting to be picked "
            "up, so the treatment check did not count it as treatment; if it was picked up, the patient is on "
            "treatment:",
            "{count} pharmacy fills of medication for opioid use disorder are still being prepared or waiting to be "
            "picked up, so the treatment check did not count them as treatment; if one was picked up, the patient is "
            "on treatment:",
        ),
        note="OUD medication fills not yet handed over (not counted as treatment)",
    ),
    NamedGap(
        key="listed-opioids-not-counted",
        items=attrgetter("listed_opioids_named"),
        # A reported MedicationRequest (Oracle Health) or a MedicationStatement (Epic, STU3) alike.
        card=CardLine(
            "has no order or end date in the last {days}, so its dose was not counted in the MME total; reconcile "
            "the medication list",
            "other opioids on the medication list not counted",
        ),
        # Only where a check works out the MME total they are left out of.
        card_items=where_opioid_checks_run(attrgetter("listed_opioids_named")),
        page=PageSentence(
            "1 opioid is on the medication list as taken (reported, recorded or last confirmed more than {days} ago "
            "with no end date) and has no recent order; it counts for the sedative checks, but its dose was not "
            "counted in the MME total:",
            "{count} opioids are on the medication list as taken (reported, recorded or last confirmed more than "
            "{days} ago with no end date) and have no recent order; they count for the sedative checks, but their "
            "doses were not counted in the MME total:",
        ),
        note="Opioids on the medication list with no recent order (not counted in MME)",
    ),
    NamedGap(
        key="unmatched-selections",
        items=attrgetter("unmatched_selections"),
        card=CardLine(
            "matches no draft order of this call, so every draft order was checked as if it had been selected",
            "other selected orders not found",
        ),
        # Not on the page or in its note: the page is opened with the drafts a card's link carries, not the hook's
        # selections, and checks them all; there is nothing it could not match.
        page=None,
        note=None,
    ),
    NamedGap(
        key="draft-id-clashes",
        # Drafts are the orders being signed: two that differ under one id are both counted (`record.drafts`), where
        # one was once kept in silence, and the clash is named, as a chart resource sent in two versions is.
        items=attrgetter("record.draft_id_clashes"),
        card=CardLine(
            "two draft orders being signed share this id but say different things, so both were counted; check that "
            "each is meant to be signed",
            "other ids shared by differing draft orders",
        ),
        page=PageSentence(
            "1 id is shared by draft orders that say different things; both were counted, so check that each is "
            "meant to be signed:",
            "{count} ids are each shared by draft orders that say different things; all were counted, so check that "
            "each is meant to be signed:",
        ),
        note="Draft orders sharing one id but differing (all counted)",
    ),
    NamedGap(
        key="drafts-of-another-patient",
        # Counted (the clinician is signing it in this chart) but named, as a chart resource of another patient is
        # (there it is left out): a client mixing up two open charts must not pass in silence.
        items=attrgetter("record.drafts_of_another_patient"),
        card=CardLine(
            "it is about another patient than the one in context, but it is being signed in this chart, so it was "
            "counted; check that it is meant for this patient",
            "other draft orders about another patient",
        ),
        # Not on the page or in its note: a card's link carries the fields of a draft the checks read, not its
        # subject, so the page could never tell; the card said it to the clinician signing.
        page=None,
        note=None,
    ),
    NamedGap(
        key="hospice-not-counted",
        # Possible hospice care the hospice exclusion did not count (guideline.exclusions.hospice_not_counted): read
        # as hospice care, an unsure record switched every safety check off; passed over in silence, the cards read
        # as if the chart held no hospice care. The population review counts the same records in its data quality.
        items=hospice_not_counted_for,
        card=CardLine(
            "may be hospice care, but the record does not say so for certain, so the hospice exclusion was not "
            "applied for it; check whether the patient receives hospice care",
            "other possible hospice care not counted",
        ),
        page=PageSentence(
            "1 record may be hospice care, but does not say so for certain (hospice care whose status is unknown, on "
            "hold or stopped, or a stay at a place named hospice whose type does not say so), so the hospice "
            "exclusion was not applied; check whether the patient receives hospice care:",
            "{count} records may be hospice care, but do not say so for certain (hospice care whose status is "
            "unknown, on hold or stopped, or a stay at a place named hospice whose type does not say so), so the "
            "hospice exclusion was not applied; check whether the patient receives hospice care:",
        ),
        note="Possible hospice care not counted (hospice exclusion not applied)",
    ),
    NamedGap(
        key="undated-claim-diagnoses",
        # A payer claim with no date of service (no billablePeriod, no line service dates) billing an exclusion's
        # diagnosis (guideline.exclusions.undated_claim_diagnoses): a claim is a visit on its day, so this one counted
        # as no cancer visit, and the cards read as if it had not been sent. The population review names the same
        # claims in its data quality (claim_diagnoses_undated).
        items=undated_claim_diagnoses,
        card=CardLine(
            "gives no date of service, so it could not count as a visit or a current diagnosis; check whether the "
            "patient is being treated for it",
            "other payer claims with no date of service billing an exclusion's diagnosis",
        ),
        # On the plan page and in its note as well: with `prefetch.payer_claims` the page reads the claims the card
        # reads, so it holds the same claims.
        page=PageSentence(
            "1 payer claim bills an exclusion's diagnosis but gives no date of service, so it could not count as a "
            "visit or a current diagnosis; check whether the patient is being treated for it:",
            "{count} payer claims bill an exclusion's diagnosis but give no date of service, so they could not count "
            "as visits or current diagnoses; check whether the patient is being treated for them:",
        ),
        note="Payer claims with no date of service billing an exclusion's diagnosis (not counted)",
    ),
    NamedGap(
        key="unread-conditions",
        items=attrgetter("unread_conditions"),
        # Not on the card: problem lists from outside records hold many uncoded entries (hypertension, back pain);
        # a card naming them on every order would be read by no one and bury the cards that matter
        # (docs/clinical-logic.md, "Every other active diagnosis ...").
        card=None,
        page=PageSentence(
            "1 active diagnosis had no SNOMED CT or ICD-10-CM code, and its words named none of the conditions "
            "PainPlan reads from words (sickle cell disease, cancer, terminal illness or hospice, opioid use "
            "disorder), so no check or section counted it; check it yourself:",
            "{count} active diagnoses had no SNOMED CT or ICD-10-CM code, and their words named none of the "
            "conditions PainPlan reads from words (sickle cell disease, cancer, terminal illness or hospice, opioid "
            "use disorder), so no check or section counted them; check them yourself:",
        ),
        note="Diagnoses recorded as text only (not read by the checks)",
    ),
    NamedGap(
        key="patient-record-elsewhere",
        # A Patient the EHR retired in a merge (link replaced-by) or that points at the main record (refer): its
        # searches may come back empty while the medicines and results sit on the other record, so the cards would
        # read as all clear. Every check still runs on what was read; the clinician is told where the rest may be.
        items=patient_record_elsewhere,
        card=CardLine(
            "its medications and results may be recorded there, so checks here may be incomplete",
            "other records this patient record points to",
        ),
        page=PageSentence(
            "This patient record points to another that holds the patient's data, so its medications and results "
            "may be recorded there and the checks here may be incomplete:",
            "This patient record points to {count} others that hold the patient's data, so its medications and "
            "results may be recorded there and the checks here may be incomplete:",
        ),
        note="Patient record pointing to another that holds the patient's data (checks may be incomplete)",
    ),
)

# Named before the record is built, so on the card only: a hospice claim handed to a hook with no day of care
# (guideline.population.claims.claims_read_for_a_hook) stands for hospice care on no day, which excludes no one. The
# plan page, reading claims with `prefetch.payer_claims`, names them in its "Payer claims not counted" row.
UNDATED_HOSPICE_CLAIMS = CardLine(
    "has no date of care (no billing period, service date or stay), so whether the patient is in hospice now could "
    "not be told and the hospice exclusion could not be checked for it; check whether the patient receives hospice "
    "care",
    "other hospice claims with no date of care",
)

# The card and the note each keep the order they have always listed these kinds in (their text is compared byte for
# byte across releases); a kind not listed here follows in the registry's order, so a new kind needs no edit here.
CARD_ORDER = (
    "undated-fills",
    "partially-dated",
    "unread-categories",
    "unclassified-new-orders",
    "unknown-status",
    "undated-procedures",
    "uncounted-administrations",
    "future-dated-reviews",
    "future-dated-drug-tests",
    "unread-uds",
)
NOTE_ORDER = (
    "unidentified-medications",
    "undated-fills",
    "partially-dated",
    "unknown-status",
    "undated-procedures",
    "future-dated-reviews",
    "future-dated-drug-tests",
    "uncounted-administrations",
    "unread-conditions",
    "unread-categories",
    "unread-uds",
)


def _in_order(order: tuple[str, ...], kinds: tuple[NamedGap, ...]) -> tuple[NamedGap, ...]:
    """The kinds of one face, those in `order` first; a key in `order` that the face does not name is an error."""
    by_key = {kind.key: kind for kind in kinds}
    stray = [key for key in order if key not in by_key]
    if stray or len(set(order)) != len(order):
        raise ValueError(f"named gaps: the order lists a kind twice or one this face does not name: {stray}")
    return (*(by_key[key] for key in order), *(kind for kind in kinds if kind.key not in order))


if len({kind.key for kind in NAMED_GAPS}) != len(NAMED_GAPS):
    raise ValueError("named gaps: two kinds share a key")

# Worked out once at import, so the hook's hot path only walks a tuple.
ON_CARD = _in_order(CARD_ORDER, tuple(kind for kind in NAMED_GAPS if kind.on_card))
ON_PAGE = tuple(kind for kind in NAMED_GAPS if kind.on_page)
IN_NOTE = _in_order(NOTE_ORDER, tuple(kind for kind in NAMED_GAPS if kind.in_note))
# What the plan view works out: the kinds its page or its note names.
ON_PLAN = tuple(kind for kind in NAMED_GAPS if kind.on_page or kind.in_note)


def worded(kinds: tuple[NamedGap, ...], config: GuidelineConfig) -> tuple[NamedGap, ...]:
    """The kinds as a face shows them under this configuration: each window of days in their text filled in."""
    return _worded(kinds, _window_words(config))


# (id of the kinds tuple, days) → (that tuple, its worded kinds). Keyed by identity, not by value: the faces pass
# module constants, and hashing 17 dataclasses on every hook call cost more than the wording itself. The tuple is
# kept in the value so an id can never be reused by another tuple while its entry lives.
_WORDED: dict[tuple[int, str], tuple[tuple[NamedGap, ...], tuple[NamedGap, ...]]] = {}


def _worded(kinds: tuple[NamedGap, ...], days: str) -> tuple[NamedGap, ...]:
    entry = _WORDED.get((id(kinds), days))
    if entry is None or entry[0] is not kinds:
        entry = _WORDED[(id(kinds), days)] = (kinds, tuple(kind.worded(days) for kind in kinds))
    return entry[1]
