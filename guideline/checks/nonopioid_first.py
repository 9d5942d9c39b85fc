"""`nonopioid-first` (guideline 10.11, CDC 2022 Recommendation 1): acute opioid for an opioid-naive patient."""

from __future__ import annotations

from guideline.cards import Card
from guideline.checks.common import (
    and_more,
    based_on,
    bullet_list,
    could_not_identify,
    first_fitting,
    guideline_link,
    override_reasons,
    prescriptions_and_dispenses,
    present,
    remove_draft,
    unidentified_in_window,
    unread_of,
)
from guideline.config import CheckSettings
from guideline.facts import Facts
from guideline.history import naive_window
from guideline.terminology import TIRF
from guideline.unread_data import MEDICINES
from guideline.words import and_list

CHECK_ID = "nonopioid-first"
# The hooks this check can judge: it is about a new order, so patient-view has nothing for it to judge.
HOOKS = frozenset({"order-select", "order-sign"})
TITLE = "Consider non-opioid options first"


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when a new acute opioid order (not an unclassified one) is for a patient with no opioid in 90 days:
    a reminder that non-opioid options often work as well for acute pain. Opioid cough medicines are left out."""
    # Its options are for pain: an opioid cough medicine is no pain prescription (docs/clinical-logic.md).
    acute = tuple(o for o in facts.pain_prescriptions(CHECK_ID) if facts.duration(o) == "acute")
    if not acute or not facts.exposure.naive:
        return None

    names = [facts.name(o) for o in acute]
    window_start, window_end = (moment.date() for moment in naive_window(facts.now))
    options = list(settings["options"])
    unread = facts.not_read(*MEDICINES)
    unidentified = unidentified_in_window(facts)
    detail = "\n\n".join(
        part
        for part in (
            "**New opioid order" + ("s" if len(names) > 1 else "") + " for acute pain:**\n" + bullet_list(names),
            f"No opioid prescription or dispense was found{unread.where} from {window_start} to {window_end}.",
            unread.paragraph(f"opioid use from {window_start} to {window_end}"),
            could_not_identify(unidentified, window_start, window_end),
            "For many acute pain conditions, non-opioid treatments relieve pain as well as or better than "
            "opioids and avoid the risks that come with opioids.",
            "**Options to consider first:**\n" + bullet_list(options) if options else "",
            _if_still_needed(any(facts.is_in(TIRF, o) for o in acute)),
            _basis(facts, f"in this record from {window_start} to {window_end}"),
        )
        if part
    )
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=_summary(names, unread.any),
        detail=detail,
        suggestions=present(remove_draft(o, name) for o, name in zip(acute, names, strict=True)),
        links=(guideline_link(facts.config, "rec1", "CDC 2022 Recommendation 1"),),
        override_reasons=override_reasons(
            facts.config,
            "nonopioid-tried",
            "nonopioid-contraindicated",
            "excluded-condition",
            "wrong-clinician",
        ),
        view="plan",
        orders=tuple(o.id for o in acute if o.id),
        facts={
            "naive": True,
            "acute_orders": names,
            "not_read": list(unread.kinds),
            "unidentified_in_window": unidentified,
        },
    )


def _if_still_needed(tolerant_only: bool) -> str:
    """The advice if an opioid is still needed. Transmucosal fentanyl is immediate-release too, but for
    opioid-tolerant patients only: advice to use "an immediate-release opioid" must not read as approving it."""
    opioid = "an immediate-release oral opioid" if tolerant_only else "an immediate-release opioid"
    advice = (
        "If an opioid is still needed, talk with the patient about what it can realistically do for the pain "
        f"and about its risks, and prescribe {opioid} at the lowest effective dose for the shortest time"
    )
    if tolerant_only:
        return (
            f"{advice}: transmucosal fentanyl is for opioid-tolerant patients only, and no recent opioid use was found."
        )
    return advice + "."


def _basis(facts: Facts, window: str) -> str:
    """The card's "Based on" line: the drafts, and the prescriptions and dispenses of the window as far as they were
    read (`Unread.basis`)."""
    sources = prescriptions_and_dispenses(facts)
    named, gaps = unread_of(facts, sources).basis(sources)
    return based_on(
        "today's draft outpatient opioid orders (acute: under 28 days' supply, or marked acute); "
        f"{and_list(named)} {window}{gaps}."
    )


def _summary(names: list[str], unread: bool = False) -> str:
    return first_fitting(
        f"No recent opioid use: consider non-opioid options before {and_more(names)} for acute pain",
        "No recent opioid use: consider non-opioid options before this opioid for acute pain",
        unread=unread,
    )
