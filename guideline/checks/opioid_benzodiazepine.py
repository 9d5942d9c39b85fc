"""`opioid-benzodiazepine` (guideline 10.2, CDC 2022 Recommendation 11): an opioid with a benzodiazepine or
other CNS depressant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from guideline.cards import SUMMARY_LIMIT, Card, Indicator
from guideline.checks.common import (
    based_on,
    bullet_list,
    fill_note,
    guideline_link,
    order_kind,
    override_reasons,
    plan_link,
    present,
    remove_draft,
    some_orders_read,
    unread_of,
)
from guideline.config import CheckSettings
from guideline.facts import Facts
from guideline.fills import FillSupply
from guideline.later_starts import WINDOW_KEY, starting_within
from guideline.orders import possible_start, starts_after, supply_end
from guideline.recognition import partly_read, recognise
from guideline.record import Dispense, MedOrder
from guideline.terminology import BENZO, CNS_DEPRESSANT, MOUD_BUP, OPIOID, OUD_TREATMENT_OPIOID
from guideline.unread_data import FILLED, ORDERS, Source
from guideline.words import and_list, clip

CHECK_ID = "opioid-benzodiazepine"
# The hooks this check can judge: a new order, or (patient-view) the patient's current state too.
HOOKS = frozenset({"order-select", "order-sign", "patient-view"})
TITLE = "Opioid with a sedative"

Variant = Literal["benzo", "cns", "moud"]
# A signed prescription that starts within `later_start_co_prescribing_days` (a staggered series' first, to be filled
# next week) is read beside the order being selected or signed, and on patient-view beside a supply that reaches its
# start: prescribing a benzodiazepine now with an opioid due next week is a real co-prescription, which waited until
# the opioid started for its card. Further ahead it is no pair with today.


@dataclass(frozen=True)
class Overlap:
    """The opioid and sedative orders that overlap, and which of them are new in this hook call."""

    opioids: tuple[MedOrder | Dispense, ...]  # pharmacy fills count on patient-view (no current order for them)
    sedatives: tuple[MedOrder | Dispense, ...]
    new: tuple[MedOrder, ...]


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Order hooks: a new opioid with a current sedative, or a new sedative with a current opioid. Patient-view:
    an opioid the patient has now (active order or current fill) together with a benzodiazepine or, when enabled,
    another CNS depressant (active order or current fill), or either signed to start within the window beside the
    other's supply (`_planned_overlap`)."""
    if facts.context.hook == "patient-view":
        overlap = _patient_view_overlap(facts, settings)
    else:
        overlap = _order_overlap(facts, settings)
    if overlap is None:
        return None

    variant = _variant(facts, overlap)
    if variant == "moud" and not settings["moud_variant"]:
        return None
    return _card(facts, settings, overlap, variant)


# -- applicability ---------------------------------------------------------------------------------------------


def _is_sedative(facts: Facts, settings: CheckSettings, order: MedOrder) -> bool:
    return facts.is_in(BENZO, order) or (bool(settings["cns_enabled"]) and facts.is_in(CNS_DEPRESSANT, order))


def _unique(orders: Sequence[MedOrder | Dispense]) -> tuple[MedOrder | Dispense, ...]:
    seen: list[MedOrder | Dispense] = []
    for order in orders:
        if not any(order is s for s in seen):
            seen.append(order)
    return tuple(seen)


def _order_overlap(facts: Facts, settings: CheckSettings) -> Overlap | None:
    """(a) a new opioid and any current sedative; (b) a new sedative and any current opioid; (c) the same with
    CNS depressants when enabled. Current means an active order, another draft (3.4), a home medication on the
    active list (`Facts.listed_medications`), or a pharmacy fill supplying today that no such order stands for: a
    benzodiazepine from another prescriber often shows up only as a fill."""
    soon = _starting_soon(facts, settings)
    sedatives = _unique(
        (
            *facts.current_benzos,
            *(facts.current_cns if settings["cns_enabled"] else ()),
            *_sedative_fills(facts, settings),
            *(o for o in soon if _is_sedative(facts, settings, o)),
        )
    )
    current_opioids: tuple[MedOrder | Dispense, ...] = (
        *facts.current_opioids,
        *facts.listed_opioids,
        *(s.dispense for s in facts.current_fills),
        *(o for o in soon if facts.is_in(OPIOID, o)),
    )
    new_opioids = facts.trigger_orders
    new_sedatives = tuple(o for o in facts.new_drafts if _is_sedative(facts, settings, o))
    opioids: list[MedOrder | Dispense] = []
    paired_sedatives: list[MedOrder | Dispense] = []
    if new_opioids and sedatives:
        opioids += new_opioids
        paired_sedatives += sedatives
    if new_sedatives and current_opioids:
        opioids += current_opioids
        paired_sedatives += new_sedatives
    if not opioids:
        return None
    involved = _unique([*opioids, *paired_sedatives])
    # Only drafts are new: a fill never is one of them.
    new = tuple(o for o in involved if isinstance(o, MedOrder) and any(o is n for n in (*new_opioids, *new_sedatives)))
    return Overlap(_unique(opioids), _unique(paired_sedatives), new)


def _starting_soon(facts: Facts, settings: CheckSettings) -> tuple[MedOrder, ...]:
    """The signed orders that start after today and within the site's `WINDOW_KEY` days (`Facts.later_orders`): held
    by the patient as a new order is selected or signed (or the chart is opened), and taken with it once they start.
    Order-select reads them as order-sign does: both carry the same draft orders, and the card belongs where the
    medicine is chosen."""
    return starting_within(facts.later_orders, facts.today, settings[WINDOW_KEY])


def _starts(facts: Facts, order: MedOrder | Dispense) -> date | None:
    """The day a signed order that starts after today begins (`orders.starts_after`), else None."""
    if isinstance(order, Dispense) or order.is_draft:
        return None
    return starts_after(order, facts.today)


def _sedative_fill_supplies(facts: Facts, settings: CheckSettings) -> tuple[FillSupply, ...]:
    """Benzodiazepine (and, when enabled, other sedative) fills supplying today that no counted order stands for, each
    with its supply, once: another sedative's fills are not read when that part of the check is off."""
    sedative_sets = (BENZO, CNS_DEPRESSANT) if settings["cns_enabled"] else (BENZO,)
    found: dict[int, FillSupply] = {}
    for name in sedative_sets:
        for supply in facts.current_fills_in(name):
            found.setdefault(id(supply.dispense), supply)
    return tuple(found.values())


def _sedative_fills(facts: Facts, settings: CheckSettings) -> tuple[MedOrder | Dispense, ...]:
    """The sedative fills supplying today (`_sedative_fill_supplies`), as the card names them."""
    return tuple(s.dispense for s in _sedative_fill_supplies(facts, settings))


def _patient_view_overlap(facts: Facts, settings: CheckSettings) -> Overlap | None:
    """Active EHR orders and current pharmacy fills no active order stands for (drafts do not exist when a chart is
    opened), and the signed prescriptions that start within the site's window (`_starting_soon`) whose supply will
    overlap the other medicine's: prescribed together, they will be taken together, and the chart said nothing until
    the day the later one began."""
    # A home medication on the active list counts however long ago it was recorded (`Facts.listed_medications`).
    standing = (*facts.active_orders, *facts.listed_medications)
    opioids: tuple[MedOrder | FillSupply, ...] = (
        *(o for o in standing if facts.is_in(OPIOID, o)),
        *facts.current_fills,
    )
    sedatives: tuple[MedOrder | FillSupply, ...] = (
        *(o for o in standing if _is_sedative(facts, settings, o)),
        *_sedative_fill_supplies(facts, settings),
    )
    soon = _starting_soon(facts, settings)
    if soon:
        return _planned_overlap(
            facts,
            (*opioids, *(o for o in soon if facts.is_in(OPIOID, o))),
            (*sedatives, *(o for o in soon if _is_sedative(facts, settings, o))),
        )
    if not opioids or not sedatives:
        return None
    return Overlap(_items(opioids), _items(sedatives), ())


def _items(supplied: Sequence[MedOrder | FillSupply]) -> tuple[MedOrder | Dispense, ...]:
    """The orders and fills as the card names them (a fill by its dispense)."""
    return tuple(item.dispense if isinstance(item, FillSupply) else item for item in supplied)


def _planned_overlap(
    facts: Facts, opioids: Sequence[MedOrder | FillSupply], sedatives: Sequence[MedOrder | FillSupply]
) -> Overlap | None:
    """The opioids and sedatives of which one of each will be taken on one day: the supplies of today all reach
    today; one that starts later pairs only with one whose supply reaches its start. A lorazepam course that ends
    before next week's opioid begins is no co-prescription. Each fill comes with the supply it was found by, so its
    days are its own (a fill looked up in a table rebuilt from every set, and missing from it, read as open-ended)."""
    spans = {id(item): _span(facts, item) for item in (*opioids, *sedatives)}
    pairs = [(o, s) for o in opioids for s in sedatives if _overlap(spans[id(o)], spans[id(s)])]
    if not pairs:
        return None
    return Overlap(_unique(_items([o for o, _ in pairs])), _unique(_items([s for _, s in pairs])), ())


def _span(facts: Facts, item: MedOrder | FillSupply) -> tuple[date, date | None]:
    """The first and last day of the item's supply from today on (no last day: not known, so open)."""
    if isinstance(item, FillSupply):
        return facts.today, item.end
    # The supply's start as whether it is current reads it (a date written to the month is its last possible day).
    end = supply_end(item, facts.supply(item), possible_start(item, facts.today))
    return _starts(facts, item) or facts.today, end


def _overlap(first: tuple[date, date | None], second: tuple[date, date | None]) -> bool:
    """Whether two supplies share a day (an open end runs on)."""
    ends = [end for end in (first[1], second[1]) if end is not None]
    return max(first[0], second[0]) <= min(ends, default=date.max)


def _variant(facts: Facts, overlap: Overlap) -> Variant:
    # Treatment for opioid use disorder: buprenorphine for OUD, or methadone from an opioid treatment program.
    if all(facts.is_in(OUD_TREATMENT_OPIOID, o) for o in overlap.opioids):
        return "moud"
    if any(facts.is_in(BENZO, o) for o in overlap.sedatives):
        return "benzo"
    return "cns"


# -- the card --------------------------------------------------------------------------------------------------


def _state_word(facts: Facts, item: MedOrder | Dispense) -> str:
    if isinstance(item, Dispense):
        return "filled"
    starts = _starts(facts, item)
    if starts is not None:
        return f"starts on {starts.isoformat()}"
    return "new" if item.is_draft else "active"


def _name_options(facts: Facts, orders: Sequence[MedOrder | Dispense]) -> tuple[str, ...]:
    """ "a (new), b (active)", then the shorter "a (new) and 1 more"; "c (starts on 2026-06-22)" for an order that
    starts later."""
    labels = [f"{facts.name(o)} ({_state_word(facts, o)})" for o in orders]
    options = [", ".join(labels)]
    if len(labels) > 1:
        options.append(f"{labels[0]} and {len(labels) - 1} more")
    return tuple(options)


def _summary(facts: Facts, overlap: Overlap, variant: Variant) -> str:
    """The drug pair by name: full names first, then shorter forms, until it fits in 139 characters."""
    if variant == "moud":
        lead, tail = "Coordinate care: ", " — keep OUD treatment going"
    elif variant == "benzo" and _sedative_word(facts, overlap) == "benzodiazepine":
        lead, tail = "Opioid with benzodiazepine: ", " — higher risk of fatal overdose"
    elif variant == "benzo":  # a benzodiazepine and another sedative: neither is called the other
        lead, tail = "Opioid with benzodiazepine and sedative: ", " — higher risk of fatal overdose"
    else:
        lead, tail = "Opioid with a sedating medicine: ", " — higher risk of fatal overdose"
    opioid_options = _name_options(facts, overlap.opioids)
    sedative_options = _name_options(facts, overlap.sedatives)
    for opioid_part in opioid_options:
        for sedative_part in sedative_options:
            for ending in (tail, ""):
                summary = f"{lead}{opioid_part} + {sedative_part}{ending}"
                if len(summary) <= SUMMARY_LIMIT:
                    return summary
    half = (SUMMARY_LIMIT - len(lead) - 3) // 2
    return f"{lead}{clip(opioid_options[-1], half)} + {clip(sedative_options[-1], half)}"


def _order_line(facts: Facts, order: MedOrder | Dispense) -> str:
    # A name only partly read says so: the clinician weighs the ingredient PainPlan did not recognise.
    unread = partly_read(recognise(order.medication, facts.terms))
    note = f"; {unread}" if unread else ""
    if isinstance(order, Dispense):
        return f"{facts.name(order)} ({fill_note(order)}, no active order{note})"
    if order.is_draft:
        return f"{facts.name(order)} ({order_kind(order)}{note})"
    written = (
        f", {'noted' if order.reported else 'written'} {order.authored_on.date().isoformat()}"
        if order.authored_on
        else ""
    )
    starts = _starts(facts, order)
    when = f"; starts on {starts.isoformat()}" if starts is not None else ""
    return f"{facts.name(order)} ({order_kind(order)}{written}{when}{note})"


def _detail(facts: Facts, settings: CheckSettings, overlap: Overlap, variant: Variant) -> str:
    sedative_class = "benzodiazepine" if variant == "benzo" else "sedating medicine (CNS depressant)"
    treatment = _treatment_word(facts, overlap)
    opioid_heading = f"{treatment.capitalize()} for opioid use disorder" if variant == "moud" else "Opioids"
    sedative_heading = "Benzodiazepines and other sedating medicines" if variant == "benzo" else "Sedating medicines"
    finding = "\n\n".join(
        (
            f"**{opioid_heading}:**\n" + bullet_list(_order_line(facts, o) for o in overlap.opioids),
            f"**{sedative_heading}:**\n" + bullet_list(_order_line(facts, o) for o in overlap.sedatives),
        )
    )
    if variant == "moud":
        why = (
            f"{treatment.capitalize()} taken with a benzodiazepine or another sedating medicine raises the risk of "
            "slowed breathing and overdose. Stopping treatment for opioid use disorder raises that risk far more."
        )
        options = (
            "**Options:** coordinate care with the other prescriber; review whether the sedating medicine is "
            "still needed and at what dose; if it is to be stopped, taper it gradually. Do not withhold or stop "
            f"{treatment} treatment because of {_sedative_word(facts, overlap)} use. " + _naloxone_advice(facts, "")
        )
    else:
        why = (
            f"Taking an opioid with a {sedative_class} raises the risk of slowed breathing (respiratory "
            "depression) and fatal overdose."
        )
        options = (
            "**Options:** consider whether both medicines are needed, or a lower dose of one; check the PDMP for "
            f"prescriptions from other clinicians. If the {_sedative_word(facts, overlap)} is to be stopped, taper "
            "it gradually — never abruptly. " + _naloxone_advice(facts, " if both continue")
        )
    ahead = any(_starts(facts, o) is not None for o in (*overlap.opioids, *overlap.sedatives))
    supply = (
        f"current supply, and signed prescriptions that start within the next {settings[WINDOW_KEY]} days"
        if ahead
        else "current supply only"
    )
    return "\n\n".join(
        (
            finding,
            why,
            options,
            _basis(facts, supply),
        )
    )


def _basis(facts: Facts, supply: str) -> str:
    """The card's "Based on" line: the orders and fills only as far as they were read (`Unread.basis`), and today's
    drafts, which come with the call."""
    sources = (
        Source("active outpatient orders", (ORDERS,), some_orders_read(facts), "the active outpatient orders read"),
        Source("current pharmacy fills", FILLED, bool(facts.record.dispenses), "the current pharmacy fills read"),
        *([] if facts.context.hook == "patient-view" else [Source("today's draft orders")]),
    )
    named, gaps = unread_of(facts, sources).basis(sources)
    return based_on(f"{and_list(named)} for opioids, benzodiazepines and other CNS depressants ({supply}){gaps}.")


def _indicator(settings: CheckSettings, variant: Variant, overlap: Overlap, facts: Facts) -> Indicator:
    if variant == "cns" or (variant == "moud" and not any(facts.is_in(BENZO, o) for o in overlap.sedatives)):
        return settings["cns_indicator"]
    return settings["indicator"]


def _card(facts: Facts, settings: CheckSettings, overlap: Overlap, variant: Variant) -> Card:
    suggestions = () if variant == "moud" else present(remove_draft(o, facts.name(o)) for o in overlap.new)
    return Card(
        check_id=CHECK_ID,
        indicator=_indicator(settings, variant, overlap, facts),
        summary=_summary(facts, overlap, variant),
        detail=_detail(facts, settings, overlap, variant),
        suggestions=suggestions,
        links=(
            guideline_link(facts.config, "rec11", "CDC 2022 Recommendation 11"),
            plan_link("medications"),
        ),
        override_reasons=override_reasons(
            facts.config,
            "benefits-outweigh-risks",
            "taper-in-progress",
            "excluded-condition",
            "data-incorrect",
            "wrong-clinician",
        ),
        view="medications",
        orders=tuple(o.id for o in (*overlap.opioids, *overlap.sedatives) if isinstance(o, MedOrder) and o.id),
        facts={
            "variant": variant,
            "opioids": [facts.name(o) for o in overlap.opioids],
            "sedatives": [facts.name(o) for o in overlap.sedatives],
        },
        # An override accepts these sedatives with opioids; another sedative, or another strength, is a new finding.
        about=frozenset(facts.drug_key(o) for o in overlap.sedatives),
    )


def _naloxone_advice(facts: Facts, condition: str) -> str:
    """Offer naloxone, unless the patient already has it (then a reminder that it should be at hand)."""
    if facts.has_naloxone:
        return "The patient has naloxone on record; make sure it is at hand."
    return f"Offer naloxone{condition}."


def _treatment_word(facts: Facts, overlap: Overlap) -> str:
    """What the opioid use disorder treatment is: "buprenorphine", "methadone", or both."""
    bup = any(facts.is_in(MOUD_BUP, o) for o in overlap.opioids)
    methadone = any(not facts.is_in(MOUD_BUP, o) for o in overlap.opioids)
    return "buprenorphine and methadone" if bup and methadone else "methadone" if methadone else "buprenorphine"


def _sedative_word(facts: Facts, overlap: Overlap) -> str:
    """What to call the sedatives: "benzodiazepine" only when every one is; a z-drug, barbiturate or other
    CNS depressant is never called a benzodiazepine."""
    benzos = sum(1 for o in overlap.sedatives if facts.is_in(BENZO, o))
    if benzos == len(overlap.sedatives):
        return "benzodiazepine"
    return "benzodiazepine or other sedating medicine" if benzos else "sedating medicine"
