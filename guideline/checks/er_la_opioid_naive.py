"""`er-la-opioid-naive` (guideline 10.6, CDC 2022 Recommendation 3): an extended-release/long-acting opioid, or
transmucosal immediate-release fentanyl (for opioid-tolerant patients only), for an opioid-naive patient."""

from __future__ import annotations

from guideline.cards import Card
from guideline.checks.common import (
    based_on,
    bullet_list,
    could_not_identify,
    first_fitting,
    guideline_link,
    override_reasons,
    plan_link,
    prescriptions_and_dispenses,
    present,
    remove_draft,
    unidentified_in_window,
    unread_of,
)
from guideline.config import CheckSettings
from guideline.facts import Facts
from guideline.history import HISTORY_DAYS, naive_window
from guideline.terminology import ER_LA, TIRF
from guideline.unread_data import MEDICINES
from guideline.words import and_list

CHECK_ID = "er-la-opioid-naive"
# The hooks this check can judge: it is about a new order, so patient-view has nothing for it to judge.
HOOKS = frozenset({"order-select", "order-sign"})
# The id stays as integrators registered it; the check also covers transmucosal fentanyl, which is not long-acting.
TITLE = "Long-acting or tolerant-only opioid for an opioid-naive patient"


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires when a new order is for an ER/LA opioid (any pain duration) or for transmucosal immediate-release
    fentanyl (for opioid-tolerant patients only) and the record shows no opioid prescription, dispense or
    overlapping supply in the past 90 days."""
    tolerant_only = tuple(o for o in facts.trigger_orders if facts.is_in(TIRF, o))
    listed = {id(o) for o in tolerant_only}
    er_la = tuple(o for o in facts.trigger_orders if facts.is_in(ER_LA, o) and id(o) not in listed)
    if not (tolerant_only or er_la) or not facts.exposure.naive:
        return None

    tirf_names = [facts.name(o) for o in tolerant_only]
    er_la_names = [facts.name(o) for o in er_la]
    window_start, window_end = (moment.date() for moment in naive_window(facts.now))
    unread = facts.not_read(*MEDICINES)
    unidentified = unidentified_in_window(facts)
    detail = "\n\n".join(
        part
        for part in (
            _list("New order for opioid-tolerant patients only", tirf_names),
            _list("New extended-release/long-acting opioid order", er_la_names),
            f"No opioid prescription, dispense or supply was found in what could be read from {window_start} to "
            f"{window_end}: the patient may be opioid-naive."
            if unread.any
            else f"No opioid prescription, dispense or supply was found from {window_start} to {window_end}: "
            "the patient appears to be opioid-naive.",
            unread.paragraph(f"opioid use in the past {HISTORY_DAYS} days"),
            could_not_identify(unidentified, window_start, window_end),
            _tirf_why() if tirf_names else "",
            _er_la_why() if er_la_names else "",
            _options(bool(tirf_names)),
            _basis(facts, f"in this record from {window_start} to {window_end} ({HISTORY_DAYS} days)"),
        )
        if part
    )
    orders = (*tolerant_only, *er_la)
    names = [*tirf_names, *er_la_names]
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=_tolerant_only_summary(tirf_names, unread.any) if tirf_names else _summary(er_la_names, unread.any),
        detail=detail,
        suggestions=present(remove_draft(o, name) for o, name in zip(orders, names, strict=True)),
        links=(
            guideline_link(facts.config, "rec3", "CDC 2022 Recommendation 3"),
            plan_link("history"),
        ),
        override_reasons=override_reasons(
            facts.config,
            "opioid-tolerant-elsewhere",
            "benefits-outweigh-risks",
            "excluded-condition",
            "wrong-clinician",
        ),
        view="history",
        orders=tuple(o.id for o in orders if o.id),
        facts={
            "naive": True,
            "er_la_orders": er_la_names,
            "tolerant_only_orders": tirf_names,
            "unidentified_in_window": unidentified,
            "not_read": list(unread.kinds),
        },
    )


def _basis(facts: Facts, window: str) -> str:
    """The card's "Based on" line: the prescriptions and dispenses of the window only as far as they were read
    (`Unread.basis`)."""
    sources = prescriptions_and_dispenses(facts, "opioid and opioid use disorder medication prescriptions")
    named, gaps = unread_of(facts, sources).basis(sources)
    return based_on(f"{and_list(named)} {window}, including earlier supply that lasts into that window{gaps}.")


def _list(heading: str, names: list[str]) -> str:
    """ "**New … order:**" and the names, plural when there are several; nothing when there are none."""
    if not names:
        return ""
    return f"**{heading}{'s' if len(names) > 1 else ''}:**\n" + bullet_list(names)


def _tirf_why() -> str:
    return (
        "Transmucosal immediate-release fentanyl (buccal tablets and films, lozenges, sublingual tablets, "
        "sublingual and nasal sprays: Fentora, Actiq, Abstral, Onsolis, Subsys, Lazanda) is contraindicated in "
        "patients who are not opioid-tolerant (FDA boxed warning): in them, any dose can cause life-threatening or "
        "fatal slowed breathing. "
        "It is approved only for breakthrough cancer pain in patients already taking around-the-clock opioids "
        "(at least 60 mg of oral morphine a day, or an equivalent dose of another opioid, for a week or longer), "
        "and is prescribed and dispensed only through the TIRF REMS program."
    )


def _er_la_why() -> str:
    return (
        "Starting opioid therapy with an extended-release/long-acting product carries a higher risk of "
        "overdose than starting with an immediate-release opioid. Several of these products (notably "
        "fentanyl patches and some high-strength extended-release tablets) are approved only for patients "
        "who are already opioid-tolerant."
    )


_ELSEWHERE = "If the patient takes opioids prescribed elsewhere, check the PDMP and record it."


def _options(tolerant_only: bool) -> str:
    """What to do instead: an immediate-release opioid, and the PDMP for opioids the record does not show."""
    if tolerant_only:
        return (
            "**Options:** do not start transmucosal fentanyl for this patient. If an opioid is needed, use an "
            f"oral immediate-release opioid at the lowest effective dose. {_ELSEWHERE}"
        )
    return (
        "**Options:** if an opioid is needed, start with an immediate-release opioid at the lowest effective "
        f"dose instead. {_ELSEWHERE}"
    )


def _wording(names: list[str]) -> tuple[str, str, str]:
    """The drugs joined for a sentence, its verb, and "order" or "orders (N)"."""
    if len(names) == 1:
        return names[0], "is", "order"
    return and_list(names), "are", f"orders ({len(names)})"


def _tolerant_only_summary(names: list[str], unread: bool = False) -> str:
    """Name the transmucosal fentanyl when it fits in a summary; otherwise count the orders."""
    joined, verb, orders = _wording(names)
    return first_fitting(
        f"{joined} {verb} for opioid-tolerant patients only; no opioid use found in the past 90 days",
        f"New transmucosal fentanyl {orders} for opioid-tolerant patients only; no opioid use found in the past "
        "90 days",
        unread=unread,
    )


def _summary(names: list[str], unread: bool = False) -> str:
    """Name the drugs when they fit in a summary; otherwise count the orders."""
    joined, verb, orders = _wording(names)
    return first_fitting(
        f"{joined} {verb} extended-release/long-acting; no opioid use found in the past 90 days",
        f"New extended-release/long-acting opioid {orders}; no opioid use found in the past 90 days",
        unread=unread,
    )
