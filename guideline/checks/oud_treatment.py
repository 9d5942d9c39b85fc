"""`oud-treatment` (guideline 10.10, CDC 2022 Recommendation 12): opioid use disorder without medication
treatment."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import wraps
from typing import Any

from guideline.cards import SUMMARY_LIMIT, Card, Link, Suggestion, addressed
from guideline.checks.common import (
    based_on,
    bullet_list,
    guideline_link,
    named_not_counted,
    override_reasons,
    plan_link,
    runs_as_far_as_known,
    some_orders_read,
    unread_of,
)
from guideline.clinical import (
    DONE_OR_UNSTATED,
    GIVEN_STATUSES,
    UNSTATED_STATUSES,
    condition_date,
    dated_after,
    dated_ahead,
    given_after,
    given_within,
    last_given,
    performed_within,
    undated_done,
    undated_words,
    unknown_status_ahead,
    unstated_in_window,
)
from guideline.config import CheckSettings
from guideline.facts import Facts, fill_named, named_item
from guideline.fhirdata import HCPCS, Coding, Concept, as_dict, system_name
from guideline.fills import counts_as_fill, fill_date, fill_moment, handed_over
from guideline.history import dispense_interval
from guideline.orders import ENDED, IGNORED_DRAFT_STATUSES, is_taken
from guideline.record import Administration, Condition, Dispense, MedOrder, Procedure
from guideline.terminology import MOUD, OUD
from guideline.unread_data import (
    ADMINISTRATIONS,
    CLAIMS,
    CONDITIONS,
    FILLED,
    MEDICINES,
    ORDER_HISTORY,
    ORDERS,
    PROCEDURES,
    Source,
    marked,
)
from guideline.words import and_list, clip

CHECK_ID = "oud-treatment"
# The hooks this check can judge: a new order, or (patient-view) the patient's current state too.
HOOKS = frozenset({"order-select", "order-sign", "patient-view"})
TITLE = "Treatment for opioid use disorder"

PAST_ORDER_STATUSES = frozenset({"completed", "stopped", "on-hold", ENDED})


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires for an active opioid use disorder diagnosis when no buprenorphine, methadone or naltrexone
    treatment is found in the lookback window. On order hooks only with a new opioid order, unless configured
    to run on every order-sign."""
    if not _triggered(facts, settings):
        return None
    diagnoses = facts.conditions_in(OUD, active_only=True)
    if not diagnoses:
        return None
    days = int(settings["lookback_days"])
    if treatment_in_window(facts, days):
        return None
    return _card(facts, settings, diagnoses, days)


def _triggered(facts: Facts, settings: CheckSettings) -> bool:
    """Whether the call asks this check to judge: patient-view, or an order hook with a new opioid order (any order
    where configured to run on every order-sign)."""
    return facts.context.hook == "patient-view" or settings["order_sign_trigger"] == "any" or bool(facts.trigger_orders)


def judges(facts: Facts) -> bool:
    """Whether this check judges the patient on this call: it runs (`checks.common.runs_as_far_as_known`), the call
    asks it to (`_triggered`), and the patient has an active OUD diagnosis. Only then does an OUD dose it could not
    count say anything: named for a patient it never judges (naltrexone given for alcohol use), it was noise on the
    data-incomplete card of every hook."""
    settings = facts.config.check(CHECK_ID)
    return (
        runs_as_far_as_known(facts, settings)
        and _triggered(facts, settings)
        and bool(facts.conditions_in(OUD, active_only=True))
    )


def where_judged(items: Callable[[Facts], tuple[str, ...]]) -> Callable[[Facts], tuple[str, ...]]:
    """`items`, named only where this check judges the patient (`judges`): what the data-incomplete card, the plan
    page and the note read. The population review asks `items` itself, beside its finding, which is the gate there."""

    def named(facts: Facts) -> tuple[str, ...]:
        return items(facts) if facts.once(judges) else ()  # asked by several kinds of every hook's card: once

    return named


@dataclass(frozen=True)
class OudTreatment:
    """The medication treatment for opioid use disorder found in the window: the card is silent exactly when there
    is some, and the plan page lists exactly this, so the page never shows as treatment what the card ignored (a
    cancelled order) or the card counts what the page does not show (a fill whose supply reaches the window)."""

    orders: tuple[MedOrder, ...]
    fills: tuple[Dispense, ...]
    doses: tuple[Procedure, ...]
    given: tuple[Administration, ...] = ()  # administrations: doses given in clinic, recorded as such

    def __bool__(self) -> bool:
        return bool(self.orders or self.fills or self.doses or self.given)


def _overlaps(interval: tuple[date, date] | None, low: date, high: date) -> bool:
    return interval is not None and interval[0] <= high and interval[1] >= low


def _order_shows_treatment(facts: Facts, order: MedOrder, days: int, low: date) -> bool:
    """A draft of this session (not cancelled or in error); an active order, whatever its date; or a completed,
    stopped or on-hold one authored in the window or whose supply reaches it. A proposal nobody signed is no
    treatment (3.2), and a cancelled or erroneous order never is."""
    if order.is_draft:
        return order.status not in IGNORED_DRAFT_STATUSES
    if not is_taken(order):
        return False
    if order.status == "active":
        return True
    return order.status in PAST_ORDER_STATUSES and (
        facts.within_days(order.authored_on, days) or _overlaps(facts.order_interval(order), low, facts.today)
    )


def treatment_in_window(facts: Facts, days: int) -> OudTreatment:
    """Medication for OUD (buprenorphine, methadone or naltrexone: the MOUD set holds all three) in the last `days`
    days: orders of any category and drafts, fills handed over (`fills.handed_over`) in the window or whose supply
    reaches it, and doses given in clinic or by a treatment programme (a billing code, or a medication
    administration)."""
    low = facts.today - timedelta(days=days)
    orders = tuple(
        o for o in facts.record.orders if facts.is_in(MOUD, o) and _order_shows_treatment(facts, o, days, low)
    )
    fills = tuple(
        d
        for d in facts.record.dispenses
        if handed_over(d)
        and facts.is_in(MOUD, d)
        and (facts.within_days(fill_moment(d), days) or _overlaps(dispense_interval(d), low, facts.today))
    )
    return OudTreatment(orders, fills, moud_doses(facts, days), moud_given(facts, days))


def moud_given(facts: Facts, days: int) -> tuple[Administration, ...]:
    """OUD medication recorded as given (a MedicationAdministration) in the last `days` days: a monthly buprenorphine
    or naltrexone injection given in clinic is often recorded so, with no order, fill or billing code."""
    return tuple(
        a
        for a in facts.record.administrations
        if a.status in GIVEN_STATUSES and given_within(a, days, facts.today) and facts.is_in(MOUD, a)
    )


def moud_doses(facts: Facts, days: int) -> tuple[Procedure, ...]:
    """OUD medication given in clinic or by a treatment programme (a billing code) in the last `days` days."""
    return tuple(
        p
        for p in facts.record.procedures
        if p.status in DONE_OR_UNSTATED and is_moud_procedure(p.code) and performed_within(p, days, facts.today)
    )


def _where_untreated(items: Callable[[Facts], Iterable[str]]) -> Callable[[Facts], tuple[str, ...]]:
    """`items`, once each, where no treatment counted in the window: beside treatment, a record that could not be
    counted changes nothing. Every list of `UNCOUNTED` is so, whichever face reads it."""

    @wraps(items)
    def named(facts: Facts) -> tuple[str, ...]:
        found = tuple(items(facts))
        if not found or facts.once(_treated):  # asked by several kinds of one call's cards: worked out once
            return ()
        return tuple(dict.fromkeys(found))

    return named


def _treated(facts: Facts) -> bool:
    """Whether treatment counted in this check's window (`lookback_days`)."""
    return bool(treatment_in_window(facts, int(facts.config.check(CHECK_ID)["lookback_days"])))


@_where_untreated
def unknown_status_doses(facts: Facts) -> list[str]:
    """OUD medication doses whose status says nothing of whether they were given, each named with its date, where no
    treatment counted in this check's window (beside treatment, whether one was given changes nothing): a billed dose
    (a procedure of status "unknown") dated in the window or undated, and a dose recorded as given (an administration
    of unknown or no status) dated in it. Neither counts as treatment (a claim's procedure, which carries no status,
    does: `moud_doses`), but either may be the treatment, so the card, the data-incomplete card and the population
    review's finding all name them, from here. An undated administration is `uncounted_administrations`'."""
    days = int(facts.config.check(CHECK_ID)["lookback_days"])
    named = []
    billed = (
        p
        for p in facts.record.procedures
        # No status is a claim's, counted as done (`moud_doses`); one dated only ahead is `doses_after_today`'.
        if p.status == "unknown" and is_moud_procedure(p.code) and dated_after(p, facts.today) is None
    )
    for procedure, why in unstated_in_window(billed, days, facts.today, dated=True):
        named.append(named_not_counted(procedure, "procedure", why, moud_dose_kind(procedure.code)))
    for given in facts.record.administrations:
        if given.status in UNSTATED_STATUSES and given_within(given, days, facts.today) and facts.is_in(MOUD, given):
            when = f"status unknown, dated {last_given(given, facts.today)}"
            named.append(named_given(facts, given, when))
    return named


@_where_untreated
def doses_after_today(facts: Facts) -> list[str]:
    """OUD medication doses dated only after today (a dose charted ahead, a year keyed wrong), billed (a procedure done,
    of no status, or of status "unknown") or recorded as given (an administration given, or of unknown or no status),
    each named with its date, and "status unknown" too where its status does not say it was given, where no treatment
    counted in this check's window. No dose is given yet on that date, so none counts as treatment; but one dated
    wrong may be the treatment, and dropped as outside the window it went unseen on every face, as the PDMP reviews
    and drug tests dated ahead are named (`undated.future_dated_reviews`)."""
    named = []
    for procedure in facts.record.procedures:
        ahead = dated_after(procedure, facts.today)
        if ahead is not None and procedure.status in _BILLED_STATUSES and is_moud_procedure(procedure.code):
            # No status is a claim's, counted as done (`moud_doses`); "unknown" says nothing of whether it was.
            why = unknown_status_ahead(ahead) if procedure.status == "unknown" else dated_ahead(ahead)
            named.append(named_not_counted(procedure, "procedure", why, moud_dose_kind(procedure.code)))
    for given in facts.record.administrations:
        ahead = given_after(given, facts.today)
        if ahead is not None and given.status in RECORDED_STATUSES and facts.is_in(MOUD, given):
            why = unknown_status_ahead(ahead) if given.status in UNSTATED_STATUSES else dated_ahead(ahead)
            named.append(named_given(facts, given, why))
    return named


@_where_untreated
def uncounted_administrations(facts: Facts) -> list[str]:
    """Doses of OUD medication recorded as given (or of unknown status) with no date PainPlan can read, which
    this check cannot count, each named. Read as not given, such a dose left the card saying "no OUD medication"
    with nothing to say one was on record. One dated in the check's window with a status that does not say it was
    given is `unknown_status_doses`', named with its date. The card lists them too (`UNCOUNTED`)."""
    named = []
    for given in facts.record.administrations:
        if given.when is not None:
            continue  # the usual case, dated: no further work
        if given.status not in RECORDED_STATUSES:
            continue
        if facts.is_in(MOUD, given):
            named.append(named_given(facts, given, "no date"))
    return named


@_where_untreated
def undated_moud_doses(facts: Facts) -> tuple[str, ...]:
    """OUD medication doses billed (a billing code: `is_moud_procedure`) as done with no date PainPlan can read, each
    named as the data-incomplete card's "undated-procedures" names it (`guideline.undated.undated_procedures`, by
    `clinical.undated_done` and `undated_words`): no window can count them, and each may be the treatment."""
    return tuple(
        named_not_counted(procedure, "procedure", undated_words(procedure), moud_dose_kind(procedure.code))
        for procedure in undated_done(facts.record.procedures)
        if is_moud_procedure(procedure.code)
    )


def named_given(facts: Facts, dose: Administration, why: str) -> str:
    """A dose recorded as given that this check could not count, named with why: "Sublocade 300 mg/1.5 mL injection
    (administration ma-1), no date"; a billed one is `named_not_counted`'s."""
    return f"{named_item(facts.name(dose), 'administration', dose.id)}, {why}"


# The statuses of a billed dose, and of a dose recorded as given, that `doses_after_today` names: done, or saying
# nothing of whether it was (not done, stopped, entered in error are no dose). An undated dose recorded as given of
# such a status is `uncounted_administrations`'.
_BILLED_STATUSES = DONE_OR_UNSTATED | UNSTATED_STATUSES
RECORDED_STATUSES = GIVEN_STATUSES | UNSTATED_STATUSES


@_where_untreated
def undated_moud_fills(facts: Facts) -> tuple[str, ...]:
    """The buprenorphine, methadone and naltrexone fills among the fills the data-incomplete card names as undated
    (`Facts.undated_fills`), as it names them: with no day, none can be placed in this check's window, and each may
    be the treatment. The population review names them beside its finding, where a fill dated to the month only is
    undated too."""
    return _named_among(facts.undated_fills_named, facts)


@_where_untreated
def unknown_status_moud_fills(facts: Facts) -> tuple[str, ...]:
    """The buprenorphine, methadone and naltrexone fills of unknown status dated in this check's window, by the rule
    and in the words the data-incomplete card names such fills by (`Facts.unknown_status_fills`, over
    `current_order_default_days`): the MME total counts them, but nothing says one was handed over
    (`fills.handed_over`), so none is treatment here; each may be it."""
    days = int(facts.config.check(CHECK_ID)["lookback_days"])
    return _named_among(facts.unknown_status_fills_within(days), facts)


@_where_untreated
def moud_fills_after_today(facts: Facts) -> tuple[str, ...]:
    """The buprenorphine, methadone and naltrexone fills among the fills the data-incomplete card names as dated after
    today (`Facts.future_dated_fills`), as it names them: none handed over yet, so none is treatment; one dated wrong
    may be it."""
    return _named_among(facts.future_dated_fills_named, facts)


@_where_untreated
def unknown_status_moud_orders(facts: Facts) -> tuple[str, ...]:
    """The buprenorphine, methadone and naltrexone orders among the orders the data-incomplete card names as of
    unknown status (`Facts.unknown_status_orders`), as it names them: never counted as treatment, but each may be it."""
    return _named_among(facts.unknown_status_orders_named, facts)


@_where_untreated
def unidentified_current(facts: Facts) -> tuple[str, ...]:
    """Drafts, current orders and current fills whose medicine matched no code or name PainPlan knows, as the
    data-incomplete card names them (`named_gaps.unidentified_orders`), where no treatment counted: any may be
    buprenorphine, methadone or naltrexone under a name not read ("SUBOX 8MG-2MG FLM"), as `er-la-opioid-naive` and
    `nonopioid-first` count them (`checks.common.unidentified_in_window`)."""
    from guideline.named_gaps import unidentified_orders  # the registry imports this module: asked at call time

    return unidentified_orders(facts)


@_where_untreated
def unidentified_ended(facts: Facts) -> tuple[str, ...]:
    """The ended orders and fills of the last 90 days whose medicine matched no code or name PainPlan knows
    (`Facts.unidentified_past`), where no treatment counted: any may have been the treatment this check reads in its
    window (`lookback_days`, 90 by default)."""
    return facts.unidentified_past


@_where_untreated
def unidentified_given(facts: Facts) -> tuple[str, ...]:
    """The doses recorded as given in the last 90 days whose medicine matched no code or name PainPlan knows
    (`Facts.unidentified_administrations`), where no treatment counted: any may have been the treatment given in
    clinic under a name not read."""
    return facts.unidentified_administrations


# A fill not yet handed over (R4/R5 MedicationDispense): still being prepared, or ready and waiting to be picked up.
# MME reads "in-progress" as in the patient's hands (`fills.FILL_STATUSES`); treatment needs the medicine handed over.
# Whether one waiting for pick-up should count as treatment (or not in the MME total) is a clinician's decision, open
# for review: until it is made, it is named here, never counted as treatment.
NOT_HANDED_OVER_STATES = {"preparation": "being prepared", "in-progress": "ready for pick-up"}


@_where_untreated
def moud_fills_not_handed_over(facts: Facts) -> list[str]:
    """Buprenorphine, methadone and naltrexone fills still being prepared or waiting to be picked up, dated in this
    check's window (or, being prepared, undated or dated after today), each named with its state and day, where no
    treatment counted in the window: none handed anything over (`fills.handed_over`), so none is treatment, but one
    picked up since is."""
    days = int(facts.config.check(CHECK_ID)["lookback_days"])
    named = []
    for dispense in facts.record.dispenses:
        state = NOT_HANDED_OVER_STATES.get(dispense.status or "")
        if state is None or not facts.is_in(MOUD, dispense):
            continue
        when = _not_handed_over_when(facts, dispense, days)
        if when is not None:
            named.append(f"{fill_named(facts.name(dispense), 'fill', dispense)}, {state}, not yet handed over, {when}")
    return named


def _not_handed_over_when(facts: Facts, dispense: Dispense, days: int) -> str | None:
    """How a fill not yet handed over is dated where named: "prepared 2026-06-12" in the window; "no date" or "dated
    2026-06-19, after today" for one being prepared, which the MME total does not count, so no other kind names it (one
    waiting to be picked up is counted, and named among the undated fills or those dated ahead); None: not named."""
    day = fill_date(dispense)
    if day is not None and facts.within_days(day, days):
        return f"{'prepared' if dispense.when_handed_over is None else 'dated'} {day}"
    if counts_as_fill(dispense):
        return None
    if day is None:
        return "no date"
    return dated_ahead(dispense.filled_partial or day) if day > facts.today else None


def _named_among(named: tuple[tuple[Dispense | MedOrder, str], ...], facts: Facts) -> tuple[str, ...]:
    """The card's lines for the items among `named` that are OUD medicines: the card's kinds name every medicine, and
    only these answer this check."""
    return tuple(dict.fromkeys(line for item, line in named if facts.is_in(MOUD, item)))


# OUD medication given in clinic or by a treatment programme, known by its billing code: naltrexone depot (J2315),
# buprenorphine by mouth (J0571-J0575), its implant (J0570) and extended-release injections (Sublocade Q9991/Q9992,
# Brixadi J0577/J0578), methadone from a programme (H0020), and the programmes' weekly medication bundles (G2067-G2070,
# G2072, G2073, G2075). Such treatment is recorded as a procedure, with no order or fill: read from those alone, a
# patient on monthly naltrexone injections got "no OUD medication in 90 days".
MOUD_HCPCS = frozenset(
    {
        "J2315",
        "J0570",
        "J0571",
        "J0572",
        "J0573",
        "J0574",
        "J0575",
        "Q9991",
        "Q9992",
        "J0577",
        "J0578",
        "H0020",
        "G2067",
        "G2068",
        "G2069",
        "G2070",
        "G2072",
        "G2073",
        "G2075",
    }
)


def _is_moud_coding(coding: Coding) -> bool:
    return coding.system == HCPCS and (coding.code or "").strip().upper() in MOUD_HCPCS


def is_moud_procedure(code: Concept | None) -> bool:
    """A procedure billing code for OUD medication given in clinic or by a treatment programme."""
    return code is not None and any(_is_moud_coding(c) for c in code.codings)


def moud_dose_label(code: Concept | None) -> str | None:
    """ "medication for opioid use disorder (HCPCS J2315)": how a dose known by its code alone is named (a claim names
    it so), by the billing code that makes it a dose, else its first code; None when it carries no code."""
    if code is None:
        return None
    coded = [c for c in code.codings if c.code and c.code.strip()]
    coding = next((c for c in coded if _is_moud_coding(c)), coded[0] if coded else None)
    return f"medication for opioid use disorder ({_code_shown(coding)})" if coding is not None else None


def moud_dose_kind(code: Concept | None) -> str:
    """What a billed dose is named by where its code has no words of its own (`named_not_counted`'s `shown_as`):
    what its billing code makes it (`moud_dose_label`), else "medication for opioid use disorder"."""
    return moud_dose_label(code) or "medication for opioid use disorder"


def _code_shown(coding: Coding) -> str:
    """ "HCPCS J2315", "NDC 65757-300-01": the code under its system's name; a local code's system means nothing to a
    clinician, so such a code is shown alone."""
    code = (coding.code or "").strip()
    system = system_name(coding.system)
    if system in ("HCPCS", "CPT"):
        code = code.upper()  # billing codes are upper case; a local code is shown as the site wrote it
    return f"{system} {code}" if system else code


# -- the card --------------------------------------------------------------------------------------------------


def _diagnosis_name(facts: Facts, condition: Condition) -> str:
    return facts.condition_name(condition) if condition.code is not None else "opioid use disorder"


def _diagnosis_line(facts: Facts, condition: Condition) -> str:
    day = condition_date(condition)
    return f"{_diagnosis_name(facts, condition)}" + (f" (recorded {day.isoformat()})" if day else "")


def _basis(facts: Facts, days: int) -> str:
    """The card's "Based on" line: the diagnoses and the OUD medication as far as they were read (`Unread.basis`),
    and today's drafts."""
    record = facts.record
    diagnoses = (
        Source(
            "active diagnoses on record (any date)",
            (CONDITIONS,),
            bool(record.conditions),
            "the active diagnoses read on record (any date)",
        ),
    )
    given = "doses given in clinic or by a treatment program"
    medicines = (
        Source(
            "buprenorphine, methadone and naltrexone orders",
            (ORDERS, ORDER_HISTORY),
            some_orders_read(facts),
            "the buprenorphine, methadone and naltrexone orders read",
        ),
        Source("pharmacy fills", FILLED, bool(record.dispenses), "the pharmacy fills read"),
        Source("today's drafts"),
        Source(
            f"{given} (by billing code, or recorded as given)",
            (ADMINISTRATIONS, PROCEDURES, CLAIMS),
            bool(record.administrations or record.procedures),
            f"the {given} read (by billing code, or recorded as given)",
        ),
    )
    (found, taken), gaps = unread_of(facts, (*diagnoses, *medicines)).grouped(diagnoses, medicines)
    return based_on(f"{and_list(found)}, and {and_list(taken)} in the last {days} days{gaps}.")


def _summary(facts: Facts, diagnoses: tuple[Condition, ...], days: int, unread: bool = False) -> str:
    """The diagnosis, cut to leave room for the finding, marked when data it rests on was not read (`marked`, which
    leaves the mark its own room)."""
    tail = f": no OUD medication in {days} days; offer treatment"
    room = SUMMARY_LIMIT - len(marked(tail, unread))
    return marked(clip(_diagnosis_name(facts, diagnoses[0]), room) + tail, unread)


def _template_suggestion(facts: Facts, template: Mapping[str, Any]) -> Suggestion:
    """A site's complete order template, addressed to this patient and visit."""
    resource = addressed(template, facts.context.patient_id, facts.context.encounter_id, facts.now)
    # R4's medicationCodeableConcept, else R5's medication.concept: the template's drug names the suggestion.
    medication = as_dict(
        resource.get("medicationCodeableConcept") or as_dict(resource.get("medication")).get("concept")
    )
    name = medication.get("text") or next(
        (c.get("display") for c in medication.get("coding", []) if c.get("display")), None
    )
    return Suggestion(
        label=f"Order {name}" if name else "Start medication for opioid use disorder",
        action="create",
        description="Create a draft order from the site's opioid use disorder treatment template.",
        is_recommended=False,
        resource=resource,
    )


@dataclass(frozen=True)
class NotCountedWords:
    """How the card heads one list of records not counted as treatment: what they are, and what follows if so."""

    what: str
    if_so: str
    records: str = "OUD medication on record"  # a medicine not identified is not known to be OUD medication

    @property
    def heading(self) -> str:
        return f"**{self.records} {self.what}, not counted as treatment** ({self.if_so}):"


UNKNOWN_STATUS_WORDS = NotCountedWords(
    "of unknown status", "if it was given or is being taken, the patient is on treatment"
)
AHEAD_WORDS = NotCountedWords("dated after today", "if its date is wrong and it was given, the patient is on treatment")
NOT_HANDED_OVER_WORDS = NotCountedWords("not yet handed over", "if it was picked up, the patient is on treatment")
NO_DATE_WORDS = NotCountedWords("with no date", "if it was given in the window, the patient is on treatment")
UNIDENTIFIED_WORDS = NotCountedWords(
    "that could not be identified",
    "if one is buprenorphine, methadone or naltrexone, the patient is on treatment",
    "Medications on record",
)


@dataclass(frozen=True)
class Uncounted:
    """One kind of OUD medication record this check could not count, any of which may be the treatment it finds none
    of: the registry's kind (`guideline.named_gaps`) whose words say why beside the population finding, the function
    naming the records of that kind that are OUD medication, and the card's heading over them."""

    kind: str
    items: Callable[[Facts], tuple[str, ...]]
    words: NotCountedWords


# Every kind of OUD medication record not counted as treatment: the card lists each under its heading, in this order,
# and the population review names each beside its finding (`guideline.population.standing`), so the two never name
# different records. The registry names the same records on the data-incomplete card, the page and the note: its
# undated procedures and fills, fills and orders of unknown status and fills dated ahead name every medicine a check
# reads, of which these are the OUD medication; the medicines it could not identify, current or ended in the last 90
# days, it names as it names them, any of them possibly the treatment.
UNCOUNTED: tuple[Uncounted, ...] = (
    Uncounted("unknown-status-doses", unknown_status_doses, UNKNOWN_STATUS_WORDS),
    Uncounted("unknown-status-fills", unknown_status_moud_fills, UNKNOWN_STATUS_WORDS),
    Uncounted("unknown-status", unknown_status_moud_orders, UNKNOWN_STATUS_WORDS),
    Uncounted("future-dated-doses", doses_after_today, AHEAD_WORDS),
    Uncounted("future-dated-fills", moud_fills_after_today, AHEAD_WORDS),
    Uncounted("moud-fills-not-handed-over", moud_fills_not_handed_over, NOT_HANDED_OVER_WORDS),
    Uncounted("undated-procedures", undated_moud_doses, NO_DATE_WORDS),
    Uncounted("uncounted-administrations", uncounted_administrations, NO_DATE_WORDS),
    Uncounted("undated-fills", undated_moud_fills, NO_DATE_WORDS),
    Uncounted("unidentified-medications", unidentified_current, UNIDENTIFIED_WORDS),
    Uncounted("unidentified-past-orders", unidentified_ended, UNIDENTIFIED_WORDS),
    Uncounted("unidentified-administrations", unidentified_given, UNIDENTIFIED_WORDS),
)


def _not_counted(facts: Facts) -> str:
    """The card's lists of the records `UNCOUNTED` names, each under its heading; "" when there are none."""
    listed: dict[NotCountedWords, list[str]] = {}
    for kind in UNCOUNTED:
        listed.setdefault(kind.words, []).extend(kind.items(facts))
    return "\n\n".join(part for words, items in listed.items() if (part := _listed(words.heading, tuple(items))))


def _listed(heading: str, doses: tuple[str, ...]) -> str:
    return f"{heading}\n{bullet_list(doses)}" if doses else ""


def _none_found(where: str, days: int, listed: bool) -> str:
    """What the card found of treatment. Beside records listed as not counted (a fill with no date, an order of unknown
    status, a dose dated ahead), "no order, pharmacy fill or draft" would deny what the card goes on to show: it then
    says none could be counted."""
    if not listed:
        return (
            f"No buprenorphine, methadone or naltrexone was found{where} in the last {days} days: no order, pharmacy "
            "fill or draft, and no dose given in clinic or by a treatment program."
        )
    return (
        f"No buprenorphine, methadone or naltrexone treatment could be counted{where} in the last {days} days: no "
        "order, pharmacy fill, draft or dose given in clinic or by a treatment program that counts as treatment. Those "
        "listed below are on record but could not be counted; any of them may be the treatment."
    )


def _card(facts: Facts, settings: CheckSettings, diagnoses: tuple[Condition, ...], days: int) -> Card:
    # OUD medication is read from the medicines and from treatment-program doses billed as procedures.
    unread = facts.not_read(*MEDICINES, PROCEDURES)
    referrals = tuple(
        Link(label=str(r["label"]), url=str(r["url"]))
        for r in facts.config["oud"]["referral_resources"]
        if r.get("label") and r.get("url")
    )
    referral_text = ", ".join(link.label for link in referrals)
    not_counted = _not_counted(facts)
    detail = "\n\n".join(
        part
        for part in (
            "**Opioid use disorder diagnosis:**\n" + bullet_list(_diagnosis_line(facts, c) for c in diagnoses),
            _none_found(unread.where, days, bool(not_counted)),
            not_counted,
            unread.paragraph(f"OUD medication of the last {days} days"),
            "Medication for opioid use disorder is strongly recommended: it lowers the risk of overdose and death.",
            "**Options:**\n"
            + bullet_list(
                (
                    "Buprenorphine: can be started in primary care; no special DEA waiver has been needed since 2023.",
                    "Methadone: through an opioid treatment program.",
                    "Extended-release naltrexone injection.",
                    f"Referral for treatment{': ' + referral_text if referral_text else ''}.",
                    "Naloxone is on record; make sure it is at hand."
                    if facts.has_naloxone
                    else "Offer naloxone as well.",
                )
            ),
            "Keep the patient in care: opioid use disorder is never a reason to dismiss a patient. If the "
            "diagnosis names remission, judge whether treatment is still needed.",
            _basis(facts, days),
        )
        if part
    )
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=_summary(facts, diagnoses, days, unread.any),
        detail=detail,
        suggestions=tuple(_template_suggestion(facts, t) for t in settings["suggestions"]),
        links=(
            guideline_link(facts.config, "rec12", "CDC 2022 Recommendation 12"),
            *referrals,
            plan_link("oud"),
        ),
        override_reasons=override_reasons(
            facts.config, "moud-elsewhere", "moud-declined", "referred", "data-incorrect", "wrong-clinician"
        ),
        view="oud",
        orders=tuple(o.id for o in facts.trigger_orders if o.id),
        facts={"diagnoses": [_diagnosis_name(facts, c) for c in diagnoses], "not_read": list(unread.kinds)},
    )
