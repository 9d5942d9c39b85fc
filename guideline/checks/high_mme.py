"""`high-mme` (guideline 10.1, CDC 2022 Recommendations 4 and 5): high total daily opioid dose."""

from __future__ import annotations

from collections.abc import Collection
from decimal import Decimal
from typing import Literal

from guideline.cards import Card
from guideline.checks.common import (
    based_on,
    bullet_list,
    fill_note,
    guideline_link,
    opioids_to_judge,
    order_kind,
    override_reasons,
    plan_link,
    present,
    remove_draft,
    runs,
    runs_as_far_as_known,
    some_orders_read,
)
from guideline.config import CheckSettings
from guideline.facts import Facts, fill_named, order_named
from guideline.fills import FillMme
from guideline.later_starts import EARLY_FILLS_HEADING, NO_ORDER_FILLS_HEADING, SHOWN_WITH_DOSE, early_fills
from guideline.mme import NOT_COUNTED_TEXT, REASON_TEXT, MmeSummary, OrderMme, format_mme
from guideline.record import MedOrder
from guideline.renewals import RENEWAL_REASONS
from guideline.unread_data import CURRENT_DOSE, FILLED, ORDERS, Source, Unread
from guideline.words import and_list, capitalised

CHECK_ID = "high-mme"
# The hooks this check can judge: a new order, or (patient-view) the patient's current state too.
HOOKS = frozenset({"order-select", "order-sign", "patient-view"})
TITLE = "High daily opioid dose"


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when a new opioid order brings the total daily MME to 50 (warning) or 90 (critical), or (patient-view)
    when the patient's current opioids already reach it; on order-sign an info card says when the dose could not
    be fully calculated. A total that misses an order not converted, or data not read, is a floor that still fires:
    it reads "at least", and data not read marks the summary and is named in the detail."""
    standing = facts.context.hook == "patient-view"
    triggers = judged_orders(facts, settings)
    if not opioids_to_judge(facts, triggers):
        return None

    mme = facts.mme
    total = mme.total
    # The total rests on every current order and fill: one not read may hold more, so the total is a floor.
    unread = facts.not_read(*CURRENT_DOSE)
    indicator = dose_indicator(total, settings)
    if indicator is None:
        return _unknown_card(facts, mme, unread) if gives_unknown_card(facts, settings) else None

    at_least = "at least " if mme.is_floor(unread.any) else ""
    if standing:
        source = " from pharmacy fills" if mme.from_fills and not mme.ok_orders else ""
        head = f"Current opioid dose {at_least}{format_mme(total)} MME/day{source}"
    else:
        head = f"Total opioid dose {at_least}{format_mme(total)} MME/day with this order"
    risk, advice = (
        ("high overdose risk", "reconsider the dose")
        if indicator == "critical"
        else ("overdose risk rises with dose", "use the lowest effective dose")
    )
    # The advice gives way before the risk, and the risk before the total: the mark must fit whole.
    summary = unread.fitted(f"{head} — {risk}; {advice}", f"{head} — {risk}", head)
    if indicator == "critical":
        why = (
            f"Doses of {settings['critical_mme']} MME/day or more carry a substantially higher risk of overdose; "
            "avoid them or carefully justify them."
        )
    else:
        why = (
            f"At {settings['warning_mme']} MME/day or more the risk of overdose rises with dose, "
            "while the benefit often does not."
        )
    detail = "\n\n".join(
        part
        for part in (
            _total_line(mme, unread),
            _unread_note(unread),
            _order_table(mme),
            _fill_table(mme, early_fills(facts)),
            _excluded_list(mme),
            _unknown_list(mme),
            why,
            _options(standing),
            _oud_methadone_note(mme),
            "MME is a risk indicator, not a table for converting one opioid to another.",
            "The patient has naloxone on record; check that it is still at hand and not expired."
            if facts.has_naloxone
            else "Naloxone is recommended at this dose (PainPlan offers it in its own card).",
            _sent_twice_note(facts, mme),
            _relayed_note(facts, mme),
            _basis(facts, standing, unread),
        )
        if part
    )
    return Card(
        check_id=CHECK_ID,
        indicator=indicator,
        summary=summary,
        detail=detail,
        suggestions=() if standing else present(remove_draft(o, facts.name(o)) for o in triggers),
        links=(
            guideline_link(facts.config, "rec4", "CDC 2022 Recommendation 4"),
            guideline_link(facts.config, "rec5", "CDC 2022 Recommendation 5"),
            guideline_link(facts.config, "taper_calculator", "Opioid taper calculator"),
            plan_link("mme"),
        ),
        override_reasons=override_reasons(
            facts.config,
            "benefits-outweigh-risks",
            "short-term-benefit",
            "taper-in-progress",
            "excluded-condition",
            "data-incorrect",
            "wrong-clinician",
        ),
        view="mme",
        orders=() if standing else tuple(o.id for o in triggers if o.id),
        facts={
            "total_mme": str(total),
            "state": mme.state,
            "from_fills": mme.from_fills,
            "not_read": list(unread.kinds),  # stored with the card: issued on incomplete records
        },
        level=total,  # an override of this dose does not hide a higher one
    )


def judged_orders(facts: Facts, settings: CheckSettings) -> tuple[MedOrder, ...]:
    """The new opioid orders this check judges: every trigger order, or the subacute/chronic ones alone where the site
    leaves acute ones out (`include_acute`)."""
    if settings["include_acute"]:
        return facts.trigger_orders
    return tuple(o for o in facts.trigger_orders if facts.duration(o) == "subacute-chronic")


def judges_the_dose(facts: Facts, settings: CheckSettings) -> bool:
    """Whether this check judges a dose on this call: it runs on the hook, the general exclusions leave it on, and
    it has opioids to judge (the engine's gating and this check's own, read by a face that speaks for it)."""
    return runs(facts, settings) and opioids_to_judge(facts, judged_orders(facts, settings))


def data_incomplete_line(facts: Facts, failed: Collection[str]) -> tuple[str, str] | None:
    """The data-incomplete card's line (what, why) that the dose may be higher, asked by the engine after the checks
    (`guideline.checks`), for a total below the warning threshold that is only a floor: below it no dose card shows,
    and a clinician who saw none read the dose as fine. Only where this check judges the dose, and only when the
    card names what makes it a floor (current opioid data not read, or on patient-view the current opioids whose MME
    could not be worked out): on order-sign this check's info card says so of an order not converted itself, and the
    line alone would be a card of its own; beside that card (`gives_unknown_card`), which says the total may be
    higher and why, it is left out, its known part read as the dose ("0.0 MME/day with this order" of an order not
    converted). `failed`: the ids of the checks that failed on this call; with this one among them the
    checks-not-run card names it, and what stopped it (the general exclusions, say) is not read again, to cost the
    data-incomplete card too."""
    settings = facts.config.check(CHECK_ID)
    if CHECK_ID in failed or not judges_the_dose(facts, settings):
        return None
    mme = facts.mme
    unread = facts.not_read(*CURRENT_DOSE).any
    if dose_indicator(mme.total, settings) is not None or not mme.is_floor(unread):
        return None  # a dose card reads "at least" itself; a complete total below it is the dose
    if gives_unknown_card(facts, settings):
        return None  # the info card says the total may be higher, and why; beside it the known part read as the dose
    unconverted = mme.state == "partial" and bool(unconverted_to_name(facts))
    if not (unread or unconverted):
        return None
    cause = {
        (True, False): "the data above not read",
        (False, True): "the doses above not worked out",
        (True, True): "the data above not read or worked out",
    }[(unread, unconverted)]
    ordering = "" if facts.context.hook == "patient-view" else " with this order"
    caution = f"{settings['warning_mme']} MME/day or more calls for caution"
    return (
        "Daily opioid dose PainPlan could read",
        f"{format_mme(mme.total)} MME/day{ordering}; with {cause} it may be higher ({caution})",
    )


def dose_indicator(total: Decimal, settings: CheckSettings) -> Literal["critical", "warning"] | None:
    """The dose card's indicator for a total: critical from `critical_mme`, warning from `warning_mme` (the settings
    refuse a warning threshold at or above the critical one); None below both, where no dose card is shown."""
    if total >= Decimal(str(settings["critical_mme"])):
        return "critical"
    if total >= Decimal(str(settings["warning_mme"])):
        return "warning"
    return None


def gives_unknown_card(facts: Facts, settings: CheckSettings) -> bool:
    """Whether, below the dose thresholds, this check gives its info card: on order-sign, an order not converted."""
    return bool(facts.mme.unknown_orders) and names_unconverted(facts, settings, "order-sign")


def names_unconverted(facts: Facts, settings: CheckSettings, hook: str) -> bool:
    """Whether, on `hook`, the opioids whose MME could not be worked out are named below the dose thresholds: the
    site keeps `unknown_card` and the known total has no dose card (a dose card lists them itself). On order-sign
    this check's info card names them; on patient-view the data-incomplete card does (`unconverted_to_name`)."""
    if facts.context.hook != hook or not settings["unknown_card"]:
        return False
    return dose_indicator(facts.mme.total, settings) is None


def unconverted_to_name(facts: Facts, said: frozenset[int] = frozenset()) -> tuple[str, ...]:
    """On patient-view, the current opioids (orders, reported medications and fills) whose daily dose in MME could
    not be worked out, each named for the data-incomplete card when this check would otherwise be silent about them:
    the check runs on the hook and applies to the patient as far as known (`runs_as_far_as_known`: exclusions that
    cannot be read cost the check, named as not run, never this line), and `names_unconverted` holds. An order a
    clinician's override of the info card named is left out, as the card would be, and so is one whose line on the
    card already says its dose is unknown (`said`: the ids of those orders and fills)."""
    settings = facts.config.check(CHECK_ID)
    if not names_unconverted(facts, settings, "patient-view") or not runs_as_far_as_known(facts, settings):
        return ()
    unconverted = unconverted_current(facts, said)
    return tuple(named for display, named in unconverted if not facts.overridden(CHECK_ID, display))


def unconverted_current(facts: Facts, said: frozenset[int] = frozenset()) -> tuple[tuple[str, str], ...]:
    """Each current opioid order, reported medication and fill (drafts aside) whose daily dose in MME could not be
    worked out, but those in `said` (ids of orders and fills): its name as this check's cards show it, and as the
    data-incomplete card names it."""
    mme = facts.mme
    orders = (o for o in mme.unknown_orders if not o.is_draft and id(o.order) not in said)
    fills = (f for f in mme.unknown_fills if id(f.dispense) not in said)
    # Each line says why (the dose card's list of them does too): a dose not read, a days' supply of more than 999
    # days, no quantity, … is what the clinician checks in the order or with the pharmacy; nothing else there says it.
    named = [(o.display_name, order_named(o.display_name, o.order, o.reason_text)) for o in orders]
    named += [(f.display_name, fill_named(f.display_name, "pharmacy fill", f.dispense, f.reason_text)) for f in fills]
    return tuple(dict.fromkeys(named))


def _options(standing: bool) -> str:
    if standing:
        return (
            "**Options:** review the dose with the patient at this visit; use the lowest effective dose; consider "
            "a gradual taper if benefits no longer outweigh risks — never stop opioids abruptly."
        )
    return (
        "**Options:** reconsider the new dose; use the lowest effective dose; for a patient already on "
        "long-term opioids, consider a gradual taper if benefits no longer outweigh risks — never stop "
        "opioids abruptly."
    )


def _oud_methadone_note(mme: MmeSummary) -> str:
    """With methadone for opioid use disorder beside the pain opioids: the options are not about it."""
    items: tuple[OrderMme | FillMme, ...] = (*mme.excluded_orders, *mme.excluded_fills)
    if not any(item.reason == "oud-methadone" for item in items):
        return ""
    return (
        "These options are about the opioids counted above, not the methadone for opioid use disorder: keep that "
        "treatment going and coordinate with the opioid treatment program."
    )


def _sent_twice_note(facts: Facts, mme: MmeSummary) -> str:
    """With a fill counted in the total that was also sent as a copy (guideline.sent_twice, or another server's copy
    relayed: `Facts.fills_read_once`), that it was counted once: the EHR shows both, and the clinician can see why the
    total holds one. Not a gap: nothing went unread."""
    counted = {id(f.dispense) for f in mme.ok_fills}
    sent_twice = len(counted.intersection(facts.fills_read_once))
    if not sent_twice:
        return ""
    if sent_twice == 1:
        return "1 pharmacy fill sent twice was counted once."
    return f"{sent_twice} pharmacy fills sent twice were each counted once."


def _relayed_note(facts: Facts, mme: MmeSummary) -> str:
    """With an order counted in the total that another server also relayed under its own id (an HIE's copy,
    `identity.relayed_orders`), that it was counted once, naming the copy: the EHR may list both."""
    counted = {o.order.located for o in mme.ok_orders}
    copies = facts.relayed_copies(counted)
    if not copies:
        return ""
    said = "1 order" if len(copies) == 1 else f"{len(copies)} orders"
    verb = "was" if len(copies) == 1 else "were each"
    return f"{said} relayed by another server under its own id ({', '.join(copies)}) {verb} counted once."


def _fill_table(mme: MmeSummary, early: dict[int, str]) -> str:
    """The fills counted, those of a prescription that starts later (`later_starts.early_fills`) apart."""
    lines = [(f, f.explanation) for f in mme.ok_fills]
    lines += [(f, f"{f.display_name}: {f.reason_text or 'could not be converted'}") for f in mme.unknown_fills]
    alone = [line for f, line in lines if id(f.dispense) not in early]
    filled_early = [f"{line}; {early[id(f.dispense)]}" for f, line in lines if id(f.dispense) in early]
    tables = [
        f"**{heading}:**\n" + bullet_list(group)
        for heading, group in (
            (NO_ORDER_FILLS_HEADING, alone),
            (EARLY_FILLS_HEADING, filled_early),
        )
        if group
    ]
    return "\n\n".join(tables)


def _unknown_card(facts: Facts, mme: MmeSummary, unread: Unread) -> Card:
    known = f"{format_mme(mme.total)} MME/day" if mme.ok_orders else "no convertible dose"
    return Card(
        check_id=CHECK_ID,
        indicator="info",
        summary=unread.fitted(
            "Daily opioid dose (MME) could not be fully calculated for this order; check the dose by hand"
        ),
        detail="\n\n".join(
            part
            for part in (
                f"PainPlan could not convert every current opioid order to morphine milligram equivalents; "
                f"the known part is {known}.",
                _unread_note(unread),
                _unknown_list(mme),
                _order_table(mme),
                "Check the dose and frequency of the order, or calculate the total by hand before signing: "
                "the risk of overdose rises with the total daily dose.",
                _drafts_basis(facts, unread),
            )
            if part
        ),
        links=(guideline_link(facts.config, "rec4", "CDC 2022 Recommendation 4"), plan_link("mme")),
        override_reasons=override_reasons(facts.config, "data-incorrect", "wrong-clinician"),
        view="mme",
        orders=tuple(o.id for o in facts.trigger_orders if o.id),
        facts={"total_mme": str(mme.total), "state": mme.state, "not_read": list(unread.kinds)},
        about=frozenset(o.display_name for o in mme.unknown_orders),
    )


def _drafts_basis(facts: Facts, unread: Unread) -> str:
    """The info card's "Based on" line: the orders, the current ones as far as they were read (`Unread.basis`)."""
    named, gaps = unread.basis((_orders(facts, standing=False),))
    return based_on(f"{and_list(named)}{gaps}.")


def _total_line(mme: MmeSummary, unread: Unread) -> str:
    """ "**Total: 90.0 MME/day (CDC 2022 factors).**", "at least …" when it is a floor."""
    return f"**Total: {mme.display(unread.any)}.**"


def _unread_note(unread: Unread) -> str:
    """ "**Could not check:** pharmacy fills could not be read (…), so opioids they hold may be missing. The total may
    be higher."; "" when every kind the total rests on was read."""
    said = unread.paragraph("opioids they hold")
    return f"{said} The total may be higher." if said else ""


def _basis(facts: Facts, standing: bool, unread: Unread) -> str:
    """The card's "Based on" line: the orders and the fills only as far as they were read (`Unread.basis`: a total
    that missed some must not claim to rest on them)."""
    profile = _profile_label(facts.mme.profile)
    fills = "that no counted order stands for (MME per day = quantity × strength × factor ÷ days' supply)"
    named, gaps = unread.basis(
        (
            _orders(facts, standing),
            Source(
                f"current pharmacy fills {fills}",
                FILLED,
                bool(facts.record.dispenses),
                f"the current pharmacy fills read {fills}",
            ),
        )
    )
    return based_on(f"{', and '.join(named)}, with the {profile} conversion factors{gaps}.")


def _orders(facts: Facts, standing: bool) -> Source:
    """The orders a total rests on: the current ones as far as they were read, and (on a new order) today's drafts,
    which come with the call."""
    drafts = "" if standing else "today's draft orders"
    current = "current outpatient opioid orders"
    return Source(
        and_list([part for part in (current, drafts) if part]),
        (ORDERS,),
        some_orders_read(facts),
        and_list([part for part in (f"the {current} read", drafts) if part]),
        drafts,
    )


def _profile_label(profile: str) -> str:
    return "CDC 2022" if profile == "cdc2022" else "CDC 2016"


def _order_line(order: OrderMme) -> str:
    return f"{order.explanation} ({order_kind(order.order)})"


def _order_table(mme: MmeSummary) -> str:
    lines = [_order_line(o) for o in mme.ok_orders]
    return "**Orders counted:**\n" + bullet_list(lines) if lines else ""


def _excluded_list(mme: MmeSummary) -> str:
    """The opioids kept out of the total, under why: buprenorphine, methadone for opioid use disorder, and one of
    an order and the draft read as its renewal (shown with its MME, so the larger one counted can be seen)."""
    parts = []
    for reason in NOT_COUNTED_TEXT:
        lines = [
            _order_line(o)
            if reason in RENEWAL_REASONS or reason in SHOWN_WITH_DOSE
            else f"{o.display_name}: {o.daily_dose_text or 'dose not computed'}"
            for o in mme.excluded_orders
            if o.reason == reason
        ]
        lines += [_fill_line(f) for f in mme.excluded_fills if f.reason == reason]
        if lines:
            parts.append(f"**{capitalised(REASON_TEXT[reason])}:**\n" + bullet_list(lines))
    return "\n\n".join(parts)


def _fill_line(fill: FillMme) -> str:
    """A fill kept out of the total; one read as renewed with its MME a day worked out, so the larger one counted
    can be seen: "oxycodone … (filled 2026-05-26): 120 tablets ÷ 30 days' supply = … = 60.0 MME/day (pharmacy fill)"."""
    if fill.reason in RENEWAL_REASONS and fill.mme is not None and fill.explanation:
        return f"{fill.explanation} (pharmacy fill)"
    return f"{fill.display_name} ({fill_note(fill.dispense)})"


def _unknown_list(mme: MmeSummary) -> str:
    lines = [f"{o.display_name}: {o.reason_text or 'could not be converted'}" for o in mme.unknown_orders]
    return "**Could not be converted:**\n" + bullet_list(lines) if lines else ""
