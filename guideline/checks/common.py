"""Pieces every check's card uses: override reasons, links, suggestions and the suggested resources."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from guideline.cards import Link, OverrideReason, Suggestion, address
from guideline.config import CheckSettings, GuidelineConfig
from guideline.facts import Facts, named_item
from guideline.fhirdata import CDC_OVERRIDE_REASONS
from guideline.fills import fill_date
from guideline.memo import MISSING, IdentityMemo
from guideline.record import Dispense, MedOrder, Observation, Procedure
from guideline.timeutil import AFTER_TODAY, iso_day
from guideline.unread_data import FILLED, ORDER_HISTORY, ORDERS, Source, Unread, fitted

# Our wording for PainPlan's override reasons (guideline 11.1).
OVERRIDE_DISPLAYS: dict[str, str] = {
    "benefits-outweigh-risks": "Expected benefit justifies the risk for this patient",
    "short-term-benefit": "Short-term need; will reassess soon",
    "taper-in-progress": "Dose reduction or taper already planned or under way",
    "opioid-tolerant-elsewhere": "Patient is opioid-tolerant (prescriptions not in this record)",
    "naloxone-already-available": "Patient already has naloxone",
    "naloxone-declined": "Naloxone offered; patient declined",
    "pdmp-reviewed": "PDMP reviewed for this prescription",
    "pdmp-unavailable": "PDMP unavailable now; will review",
    "uds-done-elsewhere": "Urine drug test done elsewhere",
    "uds-not-indicated": "Testing not indicated after weighing benefits and risks",
    "patient-declined": "Patient declined",
    "results-expected": "Results are explained (e.g. medication from another prescriber)",
    "results-discussed": "Results reviewed with patient; follow-up planned",
    "assessment-done": "Benefit/risk evaluation done and documented elsewhere",
    "moud-elsewhere": "Patient receives OUD medication elsewhere",
    "moud-declined": "Patient chose not to start OUD medication",
    "referred": "Referred for OUD treatment",
    "nonopioid-tried": "Non-opioid options tried or in use",
    "nonopioid-contraindicated": "Non-opioid options contraindicated",
    "plan-documented": "Treatment plan documented elsewhere",
    "excluded-condition": "Cancer, sickle cell, palliative or end-of-life care not in coded data",
    "data-incorrect": "Alert based on incorrect or outdated data",
    "medication-not-relevant": "Not an opioid, benzodiazepine, sedative or naloxone",
    "wrong-clinician": "Not responsible for this aspect of care",
}

CDC_SNOOZE_WITH_COMMENT = OverrideReason(
    CDC_OVERRIDE_REASONS, "snooze-3-months-with-comment", "Snooze Alert for 3 Months with a Comment"
)

PRACTITIONER_PREFIXES = ("Practitioner/", "PractitionerRole/")


def runs(facts: Facts, settings: CheckSettings) -> bool:
    """Whether the engine runs a check on this call (`engine.evaluate`): on the hook, and the general exclusions
    leave it on. One rule for the engine and for a check that speaks for itself where its card is silent."""
    # The hook first: the exclusions read the record, and a check off on this hook need not pay for them.
    return settings.runs_on(facts.context.hook) and not facts.excluded(settings)


def runs_as_far_as_known(facts: Facts, settings: CheckSettings) -> bool:
    """`runs`, for what speaks of a check beside its card (the data it could not read, the checks an order escaped):
    where the general exclusions cannot be read, whether it is on for the hook. The engine names the checks such
    exclusions cost (checks-not-run); read here, their failure took down the data-incomplete card and the
    unidentified-medication card with them."""
    try:
        return runs(facts, settings)
    except Exception:  # noqa: BLE001 - whatever stopped the exclusions, the engine names it; nothing else is lost
        return settings.runs_on(facts.context.hook)


def opioids_to_judge(facts: Facts, new_orders: Sequence[MedOrder]) -> bool:
    """Whether a check that follows the patient's opioids has any: on patient-view the opioids the patient has now
    (orders or fills), on an order hook the new opioid orders it judges."""
    if facts.context.hook == "patient-view":
        return facts.has_current_opioid
    return bool(new_orders)


def fill_note(dispense: Dispense) -> str:
    """How a card marks a pharmacy fill among orders: "pharmacy fill 2026-06-05" (or undated)."""
    filled = fill_date(dispense)
    return f"pharmacy fill {iso_day(filled)}" if filled else "pharmacy fill"


def override_system(config: GuidelineConfig) -> str:
    return f"{config['canonical_base']}/CodeSystem/painplan-override-reason"


# (codes, configuration) → their reasons: each check offers the same few on every card it issues.
_REASONS = IdentityMemo(limit=1024)


def override_reasons(config: GuidelineConfig, *codes: str) -> tuple[OverrideReason, ...]:
    """Our coded reasons for a check, then the CDC "other, see comment" snooze offered on every card."""
    reasons = _REASONS.get(codes, config)
    if reasons is MISSING:
        reasons = _override_reasons(config, codes)
        _REASONS.put(codes, config, answer=reasons)
    return reasons  # type: ignore[return-value]


def _override_reasons(config: GuidelineConfig, codes: tuple[str, ...]) -> tuple[OverrideReason, ...]:
    system = override_system(config)
    return (
        *(OverrideReason(system, code, OVERRIDE_DISPLAYS[code]) for code in codes),
        CDC_SNOOZE_WITH_COMMENT,
    )


def guideline_link(config: GuidelineConfig, key: str, label: str) -> Link:
    """A link to a CDC 2022 recommendation (or another configured link) by its `links.*` key."""
    return Link(label=label, url=config["links"][key])


def plan_link(view: str, label: str = "Open PainPlan") -> Link:
    """The SMART link to the plan view; the face fills in the launch URL and appContext."""
    return Link(label=label, type="smart", view=view)


def remove_draft(order: MedOrder, name: str) -> Suggestion | None:
    """ "Remove the new <name> order" (never recommended); omitted when the draft has no id (10.0.2)."""
    if not order.ref:
        return None
    return Suggestion(
        label=f"Remove the new {name} order",
        action="delete",
        description=f"Remove the draft order for {name}.",
        is_recommended=False,
        resource_id=order.held_ref,  # DSTU2's MedicationOrder/<id>: deleted as the EHR holds it
    )


# A card is read in a narrow EHR panel: past these counts it lists the rest as "and N more".
MAX_SUGGESTIONS = 10
MAX_LIST_LINES = 20


def present(items: Iterable[Suggestion | None]) -> tuple[Suggestion, ...]:
    """The suggestions that exist, at most MAX_SUGGESTIONS (a huge draft list must not flood the card)."""
    return tuple(s for s in items if s is not None)[:MAX_SUGGESTIONS]


def dated_after_today(what: str, days: Iterable[date], done: str = "a review") -> str | None:
    """ "A PDMP review is on record dated 2026-07-01, after today, so it cannot show a review done yet.", for the
    latest of `days` (`done` names what it cannot show: "a test"); None when there is none. A card that says "none"
    of a review or a test the clinician can see is wrong."""
    ahead = max(days, default=None)
    return dated_after_today_as(what, iso_day(ahead) if ahead is not None else None, done)


def dated_after_today_as(what: str, written: str | None, done: str = "a review") -> str | None:
    """`dated_after_today` for a date already written as the card shows it ("2027" for a year only)."""
    if written is None:
        return None
    return f"{what} is on record dated {written}{AFTER_TODAY}, so it cannot show {done} done yet."


def named_not_counted(item: Procedure | Observation, what: str, why: str, shown_as: str) -> str:
    """A review its check could not count, named with why: "PDMP review (observation obs-1), no date"; one billed on
    a payer claim by its claim: "… (payer claim eob-1), no date" (`Procedure.named_by`)."""
    shown = (item.code.display() if item.code else None) or shown_as
    kind, ident = (isinstance(item, Procedure) and item.named_by) or (what, item.id)
    return f"{named_item(shown, kind, ident)}, {why}"


def based_on(text: str) -> str:
    return f"*Based on: {text}*"


def some_orders_read(facts: Facts) -> bool:
    """Whether any order besides today's drafts (which come with the call) was read: a basis then names the orders
    read rather than none (`unread_data.Source.some_read`)."""
    return any(not order.is_draft for order in facts.record.orders)


def unread_of(facts: Facts, sources: Iterable[Source]) -> Unread:
    """Which of the kinds the sources of a "Based on" line are read from were not read, for `Unread.basis`."""
    return facts.not_read(*[kind for source in sources for kind in source.kinds])


def prescriptions_and_dispenses(facts: Facts, prescriptions: str = "opioid prescriptions") -> tuple[Source, Source]:
    """The "opioid prescriptions and dispenses" a basis names: the orders and the pharmacy fills, each as far as it
    was read."""
    return (
        Source(prescriptions, (ORDERS, ORDER_HISTORY), some_orders_read(facts), f"the {prescriptions} read"),
        Source("dispenses", FILLED, bool(facts.record.dispenses), "the dispenses read"),
    )


def addressed_to_context(facts: Facts, resource_type: str) -> dict[str, Any]:
    """The elements that address a suggested resource of this type to the call's patient, its visit and now, where
    its type has them (guideline.cards.ADDRESSING)."""
    return address(resource_type, facts.context.patient_id, facts.context.encounter_id, facts.now)


def _order_context(facts: Facts, resource_type: str) -> dict[str, Any]:
    """A suggested order's patient, visit and time, and (only for a practitioner user) its requester (10.3)."""
    references = addressed_to_context(facts, resource_type)
    user = facts.context.user_id
    if user and user.startswith(PRACTITIONER_PREFIXES):
        references["requester"] = {"reference": user}
    return references


def service_request(facts: Facts, coding: Mapping[str, str], text: str) -> dict[str, Any]:
    """A draft ServiceRequest for the EHR to create (urine drug screen, benefit/harm assessment)."""
    return {
        "resourceType": "ServiceRequest",
        "status": "draft",
        "intent": facts.config["suggestions"]["order_intent"],
        "code": {"coding": [dict(coding)], "text": text},
        **_order_context(facts, "ServiceRequest"),
    }


def order_suggestion(label: str, description: str, resource: Mapping[str, Any], recommended: bool) -> Suggestion:
    """A suggestion whose one action creates `resource`."""
    return Suggestion(label, "create", description, is_recommended=recommended, resource=resource)


def urine_screen(facts: Facts, what: str, recommended: bool) -> Suggestion:
    """Order a <what>: the site's urine screen orderable (suggestions.uds_code) as a draft ServiceRequest."""
    resource = service_request(facts, facts.config.site_codes.sent_coding("suggestions.uds_code"), "Urine drug screen")
    return order_suggestion(f"Order a {what}", f"Create a draft order for a {what}.", resource, recommended)


def naloxone_request(facts: Facts) -> dict[str, Any]:
    """A draft naloxone nasal spray order (a rescue product, never a buprenorphine combination)."""
    return {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": facts.config["suggestions"]["order_intent"],
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                    }
                ]
            }
        ],
        "medicationCodeableConcept": {
            "coding": [facts.config.site_codes.sent_coding("suggestions.naloxone_medication")],
            "text": "naloxone 4 mg/0.1 mL nasal spray",
        },
        **_order_context(facts, "MedicationRequest"),
        "dosageInstruction": [
            {
                "text": "For a suspected opioid overdose: spray the whole device (4 mg) into one nostril and "
                "call 911. If there is no response after 2 to 3 minutes, give a new device in the other "
                "nostril.",
                "asNeededBoolean": True,
                "route": {
                    "coding": [{"system": "http://snomed.info/sct", "code": "46713006", "display": "Nasal route"}]
                },
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 1,
                            "unit": "spray",
                            "system": "http://unitsofmeasure.org",
                            "code": "{spray}",
                        }
                    }
                ],
            }
        ],
        "dispenseRequest": {
            "quantity": {"value": 2, "unit": "each", "system": "http://unitsofmeasure.org", "code": "{each}"},
            "numberOfRepeatsAllowed": 0,
        },
    }


def order_kind(order: MedOrder) -> str:
    """How a card names an order's standing: a new order, an active one, or a medication reported as taken."""
    if order.is_draft:
        return "new order"
    return "reported as taken" if order.reported else "active"


def bullet_list(lines: Iterable[str]) -> str:
    """A markdown list of at most MAX_LIST_LINES lines, then how many more there were."""
    items = list(lines)
    shown = [f"- {line}" for line in items[:MAX_LIST_LINES]]
    if len(items) > MAX_LIST_LINES:
        shown.append(f"- … and {len(items) - MAX_LIST_LINES} more")
    return "\n".join(shown)


def first_fitting(*summaries: str, unread: bool = False) -> str:
    """The first (most specific) summary that fits an EHR card, with "(records incomplete)" when data it rests on
    was not read (`unread_data.fitted`); the last one, cut to fit, if none does."""
    return fitted(summaries, unread)


def and_more(names: list[str]) -> str:
    """ "oxycodone 5 mg" or "oxycodone 5 mg and 2 more": the first name and how many others."""
    return names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")


def unidentified_in_window(facts: Facts) -> int:
    """The orders and fills of the opioid history's 90 days whose medicine matched no code or name PainPlan knows:
    current orders, current fills no order stands for, and the orders and fills that ended but supplied medicine in
    the window (`Facts.unidentified_past`). Any may have been an opioid, which would end opioid-naive status; each is
    named where PainPlan names what it could not identify."""
    return len(facts.unidentified_current_orders) + len(facts.unidentified_fills) + len(facts.unidentified_past)


def could_not_identify(count: int, start: date, end: date) -> str:
    """ "**Could not identify:** 1 medication …": "opioid-naive" rests only on the medicines PainPlan identified."""
    if not count:
        return ""
    what = "1 medication" if count == 1 else f"{count} medications"
    it = "it is an opioid" if count == 1 else "any of them is an opioid"
    return (
        f"**Could not identify:** {what} from {start} to {end} matched no code or name PainPlan knows (each is named "
        f"with what PainPlan could not identify): if {it}, the patient is not opioid-naive."
    )
