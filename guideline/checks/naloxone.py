"""`naloxone` (guideline 10.5, CDC 2022 Recommendation 8): offer naloxone when overdose risk is elevated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from guideline.cards import Card, Link, Suggestion
from guideline.checks.common import (
    based_on,
    bullet_list,
    fill_note,
    first_fitting,
    guideline_link,
    naloxone_request,
    opioids_to_judge,
    order_kind,
    override_reasons,
    plan_link,
    some_orders_read,
    unread_of,
)
from guideline.clinical import condition_date
from guideline.config import CheckSettings
from guideline.facts import Facts
from guideline.later_starts import starting_within, window_days
from guideline.mme import format_mme
from guideline.orders import starts_after
from guideline.record import Condition, Dispense, MedOrder
from guideline.terminology import (
    BENZO,
    CNS_DEPRESSANT,
    OPIOID_POISONING,
    OUD,
    OUD_TREATMENT_OPIOID,
    SLEEP_BREATHING,
    SUD_HISTORY,
)
from guideline.uds import SubstanceResult, UdsResult
from guideline.unread_data import (
    CLAIMS,
    CONDITIONS,
    FILLED,
    LAB_REPORTS,
    LAB_RESULTS,
    ORDER_HISTORY,
    ORDERS,
    STATEMENTS,
    Source,
    Unread,
)

CHECK_ID = "naloxone"
# The hooks this check can judge: a new order, or (patient-view) the patient's current state too.
HOOKS = frozenset({"order-select", "order-sign", "patient-view"})
TITLE = "Offer naloxone"


@dataclass(frozen=True)
class RiskFactor:
    """One of R1–R5 with the evidence the clinician can check."""

    key: str
    label: str
    short: str  # for the summary
    evidence: tuple[str, ...]


def evaluate(facts: Facts, settings: CheckSettings) -> Card | None:
    """Fires on a new opioid order (any duration, buprenorphine for OUD included), or (patient-view) for a patient
    with current opioids or a signed opioid prescription that starts within the window (`planned_opioids`), when at
    least one overdose risk factor is present and the patient has no naloxone."""
    planned = planned_opioids(facts) if facts.context.hook == "patient-view" else ()
    if not opioids_to_judge(facts, facts.trigger_orders) and not planned:
        return None
    risks = _risk_factors(facts, settings)
    if not risks:
        return None
    if facts.has_naloxone:
        return None
    return _card(facts, settings, risks, planned)


def planned_opioids(facts: Facts) -> tuple[MedOrder, ...]:
    """The signed opioid prescriptions that start after today and within the opioid + benzodiazepine check's window
    (`later_start_co_prescribing_days`, one setting for every check that reads a prescription before it starts): a
    staggered series' first, to be filled next week, is an opioid the patient will take within days, and the chart
    offered no naloxone until the day it began. The plan page's naloxone step reads this too."""
    if not facts.later_opioids:
        return ()
    return starting_within(facts.later_opioids, facts.today, window_days(facts.config))


# -- risk factors (R1–R5) --------------------------------------------------------------------------------------


def _condition_evidence(facts: Facts, condition: Condition) -> str:
    name = facts.condition_name(condition)
    day = condition_date(condition)
    notes = [n for n in (condition.clinical_status, f"recorded {day.isoformat()}" if day else None) if n]
    return f"{name} ({', '.join(notes)})" if notes else name


def _order_evidence(facts: Facts, order: MedOrder | Dispense) -> str:
    if isinstance(order, Dispense):
        return f"{facts.name(order)} ({fill_note(order)})"
    return f"{facts.name(order)} ({'new order' if order.is_draft else 'active'})"


def current_sedatives(facts: Facts) -> tuple[MedOrder | Dispense, ...]:
    """R2's evidence: current benzodiazepine and other sedative orders, then sedative fills no current order stands
    for (a benzodiazepine from another prescriber often reaches the chart only as a fill). The plan page's risk
    factors read this too, so that page and card name the same sedatives."""
    benzo_ids = {id(o) for o in facts.current_benzos}
    sedatives: list[MedOrder | Dispense] = [
        *facts.current_benzos,
        *(o for o in facts.current_cns if id(o) not in benzo_ids),
    ]
    for set_name in (BENZO, CNS_DEPRESSANT):
        sedatives += [s.dispense for s in facts.current_fills_in(set_name) if s.dispense not in sedatives]
    return tuple(sedatives)


def _risk_factors(facts: Facts, settings: CheckSettings) -> tuple[RiskFactor, ...]:
    """Every risk factor present, in R1–R5 order: the card lists them all."""
    risks: list[RiskFactor] = []
    mme = facts.mme
    if mme.state != "none" and mme.total >= Decimal(str(settings["mme_threshold"])):
        dose = f"{'at least ' if mme.state == 'partial' else ''}{format_mme(mme.total)} MME/day"
        source = " (from pharmacy fills)" if mme.from_fills and not mme.ok_orders else ""
        risks.append(RiskFactor("R1", "Higher opioid dose", dose, (f"total {dose}{source}",)))
    sedatives = current_sedatives(facts)
    if sedatives:
        evidence = tuple(_order_evidence(facts, o) for o in sedatives)
        risks.append(RiskFactor("R2", "Benzodiazepine or other sedating medicine", facts.name(sedatives[0]), evidence))
    overdose = facts.conditions_in(OPIOID_POISONING)
    if overdose:
        evidence = tuple(_condition_evidence(facts, c) for c in overdose)
        risks.append(RiskFactor("R3", "History of opioid overdose", "past opioid overdose", evidence))
    # Opioid use disorder as every check reads it (`conditions_in`): by code, or an entry with no code PainPlan reads
    # whose words clearly name it. Read by code alone, such an entry was no risk factor and, being read, not named.
    opioid_use_disorder = {id(c) for c in facts.conditions_in(OUD)}
    disorders = tuple(
        c for c in facts.visible_conditions if id(c) in opioid_use_disorder or facts.terms.contains(SUD_HISTORY, c.code)
    )
    # Treatment for opioid use disorder is evidence of the disorder, diagnosis on record or not: read otherwise,
    # methadone from an opioid treatment program (not counted in MME) left its patient with no risk factor at all.
    evidence = (*(_condition_evidence(facts, c) for c in disorders), *oud_treatment_evidence(facts))
    if evidence:
        label = "Substance use disorder or opioid use disorder"
        risks.append(RiskFactor("R4", label, "substance use disorder", evidence))
    apnea = facts.conditions_in(SLEEP_BREATHING, active_only=True)
    if apnea:
        evidence = tuple(_condition_evidence(facts, c) for c in apnea)
        risks.append(RiskFactor("R5", "Sleep-disordered breathing", "sleep-disordered breathing", evidence))
    illicit = _unprescribed_illicit(facts)
    if illicit:
        risks.append(RiskFactor("R6", *_illicit_opioid_wording(illicit), _illicit_evidence(illicit)))
    return tuple(risks)


def oud_treatment_evidence(facts: Facts) -> tuple[str, ...]:
    """R4's evidence from medication: current buprenorphine for opioid use disorder or methadone from an opioid
    treatment program (orders, drafts and fills no counted order stands for), each named with how it is on record.
    The plan page's risk factors read this too."""
    orders = facts.current_in(OUD_TREATMENT_OPIOID)
    fills = tuple(s.dispense for s in facts.current_fills if facts.is_in(OUD_TREATMENT_OPIOID, s.dispense))
    named = [f"{facts.name(o)} (treatment for opioid use disorder, {order_kind(o)})" for o in orders]
    named += [f"{facts.name(d)} (treatment for opioid use disorder, {fill_note(d)})" for d in fills]
    return tuple(dict.fromkeys(named))


# Illicit fentanyl and heroin carry the highest overdose risk of any exposure a urine test can show; fentanyl
# analogues and the novel synthetic opioids (nitazenes, U-47700) are the same illicit supply, as potent or more.
FENTANYL_OR_HEROIN = ("fentanyl", "heroin", "fentanyl-analogue")
OVERDOSE_RISK_SUBSTANCES = (*FENTANYL_OR_HEROIN, "synthetic-opioid")
UDS_RISK_MONTHS = 12


def unprescribed_fentanyl_or_heroin(facts: Facts) -> tuple[str, ...]:
    """R6's evidence: positive results for fentanyl, heroin (6-MAM), a fentanyl analogue or a novel synthetic
    opioid in the last 12 months that no prescription explains (the plan page's risk factors read it too)."""
    return _illicit_evidence(_unprescribed_illicit(facts))


def _illicit_evidence(findings: Sequence[tuple[UdsResult, SubstanceResult]]) -> tuple[str, ...]:
    """R6's findings in words: "<test> (<day>): positive for <drug>, not prescribed", or for a result dated to the
    month or the year only that no prescription explains on some of its days, "…, dated to the month only and not
    prescribed on every day it can mean"."""
    return tuple(
        f"{result.name} ({result.when or 'date unknown'}): positive for {item.label}, "
        + (f"{result.unsettled} and not prescribed on every day it can mean" if item.unsettled else "not prescribed")
        for result, item in findings
    )


def _unprescribed_illicit(facts: Facts) -> list[tuple[UdsResult, SubstanceResult]]:
    """R6's findings: each unexplained positive for an illicit opioid, with its result. A positive dated to the month
    or the year only that a prescription explains on some of the days it can mean and not on others (`unsettled`)
    counts too: not judged for `unexpected-uds-result`, it leans toward offering naloxone, as a positive dated after
    today does."""
    return [
        (result, item)
        for result in facts.uds_results_since(UDS_RISK_MONTHS)
        for item in result.substances
        if item.substance in OVERDOSE_RISK_SUBSTANCES
        and (item.unexpected or item.unsettled)
        and item.value == "positive"
    ]


def _illicit_opioid_wording(findings: Sequence[tuple[UdsResult, SubstanceResult]]) -> tuple[str, str]:
    """R6's label and short name: "fentanyl or heroin" when that is what was found, else "another illicit opioid"
    beside them, so a nitazene is never called fentanyl."""
    if all(item.substance in FENTANYL_OR_HEROIN for _, item in findings):
        return "Fentanyl or heroin found in a urine drug test, not prescribed", "fentanyl or heroin in a urine test"
    return (
        "Fentanyl, heroin or another illicit opioid found in a urine drug test, not prescribed",
        "an illicit opioid in a urine test",
    )


# -- the card --------------------------------------------------------------------------------------------------


def _summary(risks: tuple[RiskFactor, ...], unread: bool = False) -> str:
    """Names every risk factor when it fits, else the first ones and a count of the rest."""
    named = (
        ", ".join(r.short for r in risks[:shown]) + (f" and {len(risks) - shown} more" if shown < len(risks) else "")
        for shown in range(len(risks), 0, -1)
    )
    return first_fitting(
        *(f"Higher overdose risk ({n}): offer naloxone" for n in named),
        f"Higher overdose risk ({len(risks)} risk factors): offer naloxone",
        unread=unread,
    )


def _planned_line(facts: Facts, order: MedOrder) -> str:
    """ "oxyCODONE 10 mg tablet (active, written 2026-06-15; starts on 2026-06-20)"."""
    written = f", written {order.authored_on.date().isoformat()}" if order.authored_on else ""
    starts = starts_after(order, facts.today)
    when = f"; starts on {starts.isoformat()}" if starts is not None else ""
    return f"{facts.name(order)} ({order_kind(order)}{written}{when})"


def _basis(facts: Facts, planned: bool, naloxone: str, unread: Unread) -> str:
    """The card's "Based on" line: the risk factors' data only as far as it was read (`Unread.basis`), and the
    naloxone found in none of it ("none found in what could be read" when some was not read)."""
    drafts = "" if facts.context.hook == "patient-view" else "today's draft orders"
    later = f"signed opioid prescriptions that start within the next {window_days(facts.config)} days"
    sources = (
        Source(
            "current opioid and sedative orders including today's drafts",
            (ORDERS,),
            some_orders_read(facts),
            "the current opioid and sedative orders read, including today's drafts",
            drafts,
        ),
        Source(
            "current opioid pharmacy fills",
            FILLED,
            bool(facts.record.dispenses),
            "the current opioid pharmacy fills read",
        ),
        *([Source(later)] if planned else []),
        Source("the total daily dose (MME)"),
        Source(
            "diagnoses on record", (CONDITIONS, CLAIMS), bool(facts.record.conditions), "the diagnoses on record read"
        ),
        Source(
            "urine drug tests of the last 12 months",
            (LAB_RESULTS, LAB_REPORTS),
            bool(facts.record.observations or facts.record.diagnostic_reports),
            "the urine drug tests read of the last 12 months",
        ),
    )
    named, gaps = unread_of(facts, sources).basis(sources)
    return based_on(f"{', '.join(named)}, and {naloxone} (none found{unread.where}){gaps}.")


def _card(
    facts: Facts, settings: CheckSettings, risks: tuple[RiskFactor, ...], planned: tuple[MedOrder, ...] = ()
) -> Card:
    lines = [f"**{r.label}:** {'; '.join(r.evidence)}" for r in risks]
    months = settings["possession_months"]
    # Named when the card follows them: with no opioid today, they are why the card is here.
    later = (
        f"**Signed opioid prescription{'s' if len(planned) > 1 else ''} that start{'' if len(planned) > 1 else 's'} "
        "later:**\n" + bullet_list(_planned_line(facts, o) for o in planned)
        if planned
        else None
    )
    # Naloxone on hand is read from orders, fills and what the patient reports; "none found" may be wrong without them.
    unread = facts.not_read(*FILLED, ORDERS, ORDER_HISTORY, STATEMENTS)
    detail = "\n\n".join(
        part
        for part in (
            "This patient's risk of opioid overdose is elevated:\n" + bullet_list(lines),
            later,
            unread.paragraph(f"naloxone prescribed or dispensed in the last {months} months"),
            "Naloxone reverses an opioid overdose and can be given by family or friends before help arrives.",
            "**Options:** prescribe naloxone and show the patient and the people they live with when and how to "
            "use it. Buprenorphine/naloxone tablets or films (for example Suboxone or Zubsolv) are not a rescue "
            "kit and do not count as having naloxone.",
            _basis(facts, bool(planned), f"naloxone orders or dispenses in the last {months} months", unread),
        )
        if part
    )
    resource = naloxone_request(facts)
    links: list[Link] = [guideline_link(facts.config, "rec8", "CDC 2022 Recommendation 8")]
    if facts.config["links"]["naloxone_local"]:
        links.append(guideline_link(facts.config, "naloxone_local", "Local naloxone resources"))
    links.append(plan_link("risk"))
    return Card(
        check_id=CHECK_ID,
        indicator=settings["indicator"],
        summary=_summary(risks, unread.any),
        detail=detail,
        suggestions=(
            Suggestion(
                label="Prescribe naloxone 4 mg nasal spray",
                action="create",
                description="Create a draft order for naloxone 4 mg nasal spray, 2 devices.",
                is_recommended=True,
                resource=resource,
            ),
        ),
        links=tuple(links),
        override_reasons=override_reasons(
            facts.config,
            "naloxone-already-available",
            "naloxone-declined",
            "excluded-condition",
            "data-incorrect",
            "wrong-clinician",
        ),
        view="risk",
        orders=tuple(o.id for o in facts.trigger_orders if o.id),
        facts={"risk_factors": [r.key for r in risks], "not_read": list(unread.kinds)},
    )
