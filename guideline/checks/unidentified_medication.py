"""`unidentified-medication`: a draft order PainPlan could not identify is named, never silently left out; so are
current orders and fills it could not identify when an opioid is being ordered (the MME total may leave them out)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter

from guideline.cards import Card
from guideline.checks.common import (
    and_more,
    based_on,
    bullet_list,
    first_fitting,
    override_reasons,
    plan_link,
    runs_as_far_as_known,
)
from guideline.config import CHECK_IDS, CheckSettings
from guideline.facts import Facts
from guideline.mme import ndc_unread
from guideline.recognition import Recognition, recognise
from guideline.record import MedOrder

CHECK_ID = "unidentified-medication"
# About a new order, so patient-view has nothing for it; current orders are listed on the plan page as well.
HOOKS = frozenset({"order-select", "order-sign"})
TITLE = "Medication PainPlan could not identify"
LATER_HEADING = "Prescriptions that start later, not identified (not current yet)"

# What each check counts from medication orders, in plain words, for the list of what this order escaped.
COUNTED_BY: dict[str, str] = {
    "high-mme": "the total daily dose in MME",
    "opioid-benzodiazepine": "an opioid taken with a benzodiazepine or sedative",
    "urine-drug-test": "urine drug testing for long-term opioid therapy",
    "unexpected-uds-result": "whether urine drug test results are explained by prescriptions",
    "naloxone": "whether to offer naloxone",
    "er-la-opioid-naive": "a long-acting or tolerant-only opioid for a patient not used to opioids",
    "acute-duration": "the length of an acute opioid prescription",
    "reassessment-due": "when benefits and harms were last reassessed",
    "pdmp-review": "PDMP review before an opioid prescription",
    "oud-treatment": "treatment for opioid use disorder",
    "nonopioid-first": "non-opioid options before an opioid",
    "treatment-plan": "a pain treatment plan for longer-term opioids",
}


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when a new draft's medication matches no code and no name PainPlan knows, or when an opioid is being
    ordered while a current order or pharmacy fill is unidentified: the card names them and the checks that could
    not count them, so an unknown opioid never passes as "no alert"."""
    unknown = [(o, recognise(o.medication, facts.terms)) for o in facts.new_drafts]
    unknown = [(o, r) for o, r in unknown if r.unidentified]
    # Current unidentified medicines matter to the dose being signed only when the new order is an opioid; for
    # any other order the plan page lists them, and a card on every order would teach clinicians to ignore it.
    current_lines = _current_unidentified(facts) if facts.trigger_orders else []
    later_lines = list(facts.unidentified_later_lines) if facts.trigger_orders else []
    if not unknown and not current_lines and not later_lines:
        return None
    # The summary, the facts and an override go by each one's name; its line in the lists may say why as well.
    current = [name for name, _ in current_lines]
    later = [name for name, _ in later_lines]
    names = [r.display for _, r in unknown]
    parts = _draft_parts(facts, [_draft_line(o, r, facts) for o, r in unknown]) if names else []
    if current:
        parts.append(
            "**Current medications not identified:**\n"
            + bullet_list([line for _, line in current_lines])
            + "\n\nThe patient's current orders or pharmacy fills above matched no code or name PainPlan knows. If "
            "any is an opioid, the MME total with this order is too low; if any is a benzodiazepine or sedative "
            "whose name PainPlan did not read as one, the combination check missed it."
        )
    if later:
        parts.append(
            f"**{LATER_HEADING}:**\n"
            + bullet_list([line for _, line in later_lines])
            + "\n\nThey begin after today, so they are not in today's MME total; if one is an opioid, a "
            "benzodiazepine or a sedative, no check will count it when it starts either."
        )
    parts.append(
        "If it is one of those medications, weigh it yourself when reading the other cards and the plan (the MME "
        "total may be too low). Choosing the coded product from the medication list lets every check count it."
        if names
        else "Check the medication list and the PDMP for what they are."
    )
    parts.append(
        based_on(
            "the codes and names of today's draft outpatient medication orders"
            + (", and of the patient's current orders and pharmacy fills" if current else "")
            + (", and of the prescriptions that start later." if later else ".")
        )
    )
    detail = "\n\n".join(parts)
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=_summary(names) if names else _current_summary(current) if current else _later_summary(later),
        detail=detail,
        links=(plan_link("plan"),),
        override_reasons=override_reasons(facts.config, "medication-not-relevant", "data-incorrect"),
        view="plan",
        orders=tuple(o.id for o, _ in unknown if o.id),
        facts={
            "unidentified": names,
            **({"unidentified_current": current} if current else {}),
            **({"unidentified_later": later} if later else {}),
        },
        # An override may quiet the reminder about the same current medicines, never a new order nobody could
        # identify, nor another current medicine.
        snoozable=not names,
        about=frozenset((*current, *later)),
    )


def _draft_line(order: MedOrder, recognition: Recognition, facts: Facts) -> str:
    """A draft's line: its name, and for one known only by an NDC not read, why in brackets, as the current orders'
    lines say it: the crosswalk lacks it, or its short form fits two drugs."""
    why = ndc_unread(order.medication, facts.terms)
    # Known only by its NDC, it has no name a cut note could be on: the one bracket holds the why.
    return f"{recognition.display} ({why})" if why else recognition.display


def _draft_parts(facts: Facts, lines: list[str]) -> list[str]:
    """The drafts nobody could identify (`lines`, each as `_draft_line` names it), why, and the checks running on
    this call (`checks.common.runs_as_far_as_known`) that could not count them: one the general exclusions silence (a
    patient under 18, in hospice) would have counted nothing, and listed it read as a check the order escaped."""
    missed = [
        f"{COUNTED_BY[check_id]} (`{check_id}`)"
        for check_id in CHECK_IDS
        if check_id in COUNTED_BY and runs_as_far_as_known(facts, facts.config.check(check_id))
    ]
    plural = len(lines) > 1
    parts = [
        ("**Orders not identified:**\n" if plural else "**Order not identified:**\n") + bullet_list(lines),
        "PainPlan reads an order's codes (RxNorm of any kind) and then its names (ingredient, brand, strength and "
        "form). Nothing in " + ("these orders" if plural else "this order") + " matched a medication it knows, so "
        "it cannot tell whether " + ("they are" if plural else "it is") + " an opioid, a benzodiazepine, a "
        "sedative or naloxone.",
    ]
    if missed:
        parts.append("**Not counted in these checks:**\n" + bullet_list(missed))
    return parts


def _current_unidentified(facts: Facts) -> list[tuple[str, str]]:
    """Current orders and current fills (that no counted order stands for) nobody could identify, each's name and line
    (`Facts.unidentified_lines`); those that start later are listed apart (`Facts.unidentified_later_lines`), never
    called current."""
    return facts.unidentified_lines(facts.unidentified_current_orders, "pharmacy fill")


def later_to_name(facts: Facts) -> tuple[str, ...]:
    """On patient-view, as `current_to_name`: the prescriptions that start later nobody could identify."""
    return _to_name(facts, attrgetter("unidentified_later_lines"))


def current_to_name(facts: Facts) -> tuple[str, ...]:
    """On patient-view, where this check has no card, the current orders and fills nobody could identify, for the
    data-incomplete card: they may be opioids the high-dose check did not count, or a benzodiazepine beside an
    opioid. One a clinician's override of this check's card named is left out, as the card would be; a site that
    turned the check off hears of them on the plan page only."""
    return _to_name(facts, _current_unidentified)


def _to_name(facts: Facts, named: Callable[[Facts], Iterable[tuple[str, str]]]) -> tuple[str, ...]:
    """The lines of `named(facts)` (name and line pairs) for the data-incomplete card: on patient-view with this check
    on, less those a clinician's override of this check's card named (worked out only then, by name, as the card's
    `about` holds them)."""
    if facts.context.hook != "patient-view" or not facts.config.check(CHECK_ID).enabled:
        return ()
    return tuple(line for name, line in named(facts) if not facts.overridden(CHECK_ID, name))


def _current_summary(current: list[str]) -> str:
    return first_fitting(
        f"Could not identify current medication {and_more(current)}: the MME total may be too low",
        "Could not identify a current medication: the MME total may be too low",
    )


def _later_summary(later: list[str]) -> str:
    return first_fitting(
        f"Could not identify {and_more(later)}, which starts later",
        "Could not identify a prescription that starts later",
    )


def _summary(names: list[str]) -> str:
    return first_fitting(
        f"Could not identify {and_more(names)}: the opioid checks did not count it",
        "Could not identify a new medication order: the opioid checks did not count it",
    )
