"""The pain treatment plan view, assembled from the engine's Facts: one dataclass per section, each isolated."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from guideline import oud_criteria
from guideline.cards import Card
from guideline.config import GuidelineConfig
from guideline.exclusions import age_in_years
from guideline.fhirdata import LOINC, RXNORM, SNOMED, Concept
from guideline.history import counts_as_exposure_order, dispense_interval, order_interval
from guideline.record import Condition, MedOrder, Observation
from guideline.taper import TaperError, TaperPlan, taper_schedule
from guideline.terminology import (
    BUPRENORPHINE,
    MOUD,
    NALOXONE_RESCUE,
    NALTREXONE,
    OPIOID,
    OPIOID_POISONING,
    OPIOID_TREATMENT_ASSESSMENT,
    OUD,
    PDMP_REVIEW,
    SLEEP_BREATHING,
    SUD_HISTORY,
)
from guideline.timeutil import local_date, months_after, months_before

TENTH = Decimal("0.1")
HISTORY_MONTHS = 12
DUE_SOON_DAYS = 30
PEG_MEAN = "91147-9"
PEG_PANEL = "91148-7"
PEG_ITEMS = ("75893-8", "91145-3", "91146-1")  # average pain, enjoyment of life, general activity
PAIN_SEVERITY = "72514-3"
SCORE_CODES = frozenset({PEG_MEAN, PEG_PANEL, *PEG_ITEMS, PAIN_SEVERITY})
AGREEMENT_LOINC = "94136-9"
PDMP_FINDING = "461651000124104"
PDMP_PROCEDURE = "461621000124108"
DONE_OBSERVATION = frozenset({"final", "amended", "corrected"})
METHADONE_INGREDIENT = "6813"


# ---------------------------------------------------------------------------------------------------------------
# Inputs that do not come from the engine


@dataclass(frozen=True)
class QueryStatus:
    """What one FHIR search returned (the face converts its fetch results into these; no patient data)."""

    key: str
    label: str
    query: str
    items: int
    ok: bool
    error: str | None = None
    truncated: bool = False


@dataclass(frozen=True)
class TaperRequest:
    """The taper form's choices (GET parameters), already parsed by the face."""

    rate_percent: Decimal = Decimal("10")
    interval: str = "month"
    basis: str = "original"
    target_mme: Decimal = Decimal("0")
    pause_at_percent: Decimal | None = None
    pause_intervals: int = 0
    start: date | None = None


# ---------------------------------------------------------------------------------------------------------------
# Section contents


@dataclass(frozen=True)
class Banner:
    name: str
    birth_date: date | None
    age: int | None
    mrn: str | None
    gender: str | None


@dataclass(frozen=True)
class Task:
    """One guideline task of the status strip: state is done, due-soon, overdue, never or not-applicable."""

    key: str
    label: str
    last_done: date | None
    next_due: date | None
    state: str
    detail: str


@dataclass(frozen=True)
class Alerts:
    cards: tuple[Card, ...]
    snoozed: tuple[tuple[Card, str], ...]  # (card, "snoozed until … (reason)")
    exclusions: tuple[tuple[str, str], ...]  # (label, evidence)
    failures: tuple[str, ...]


@dataclass(frozen=True)
class OpioidRow:
    name: str
    status: str
    sig: str
    mme: str
    explanation: str
    state: str
    duration: str


@dataclass(frozen=True)
class Medications:
    opioids: tuple[OpioidRow, ...]
    total: str
    total_state: str
    total_mme: Decimal | None
    buprenorphine: tuple[OpioidRow, ...]
    unknown: tuple[str, ...]
    sedatives: tuple[str, ...]
    naloxone: tuple[str, ...]


@dataclass(frozen=True)
class Point:
    day: date
    value: Decimal


@dataclass(frozen=True)
class MmeHistory:
    start: date
    end: date
    opioid: tuple[Point, ...]  # one point per change of daily MME (a step line)
    buprenorphine_days: int
    peak: Decimal
    average_90: Decimal
    unknown_orders: tuple[str, ...]


@dataclass(frozen=True)
class Scores:
    start: date
    end: date
    peg: tuple[Point, ...]
    pain: tuple[Point, ...]
    latest_peg: Point | None
    latest_pain: Point | None
    peg_change: str | None


@dataclass(frozen=True)
class Risk:
    label: str
    evidence: str
    source: str


@dataclass(frozen=True)
class Risks:
    present: tuple[Risk, ...]
    absent: tuple[str, ...]


@dataclass(frozen=True)
class UdsRow:
    day: date | None
    test: str
    value: str
    substances: tuple[str, ...]
    unexpected: tuple[str, ...]


@dataclass(frozen=True)
class UdsHistory:
    rows: tuple[UdsRow, ...]
    pending: tuple[str, ...]


@dataclass(frozen=True)
class Therapy:
    key: str
    label: str
    kind: str  # "service" | "medicine"
    evidence: tuple[str, ...]

    @property
    def has(self) -> bool:
        return bool(self.evidence)


@dataclass(frozen=True)
class NonOpioid:
    services: tuple[Therapy, ...]
    medicines: tuple[Therapy, ...]


@dataclass(frozen=True)
class OudBlock:
    diagnoses: tuple[str, ...]
    treatment: tuple[str, ...]
    criteria: tuple[oud_criteria.Criterion, ...]
    assessment: oud_criteria.OudAssessment
    options: tuple[tuple[str, str], ...]
    referrals: tuple[Mapping[str, str], ...]


@dataclass(frozen=True)
class Taper:
    request: TaperRequest
    plan: TaperPlan | None
    message: str | None
    per_order: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Resources:
    entries: tuple[Mapping[str, str], ...]
    links: tuple[tuple[str, str], ...]
    pdmp: Mapping[str, str]


@dataclass(frozen=True)
class Section:
    """A section's content, or the message that says why it could not be built; `queried` names its data."""

    key: str
    title: str
    content: Any = None
    error: str | None = None
    queried: tuple[QueryStatus, ...] = ()

    @property
    def notices(self) -> tuple[str, ...]:
        notes = []
        for status in self.queried:
            if not status.ok:
                notes.append(
                    f"{status.label} could not be read ({status.error or 'error'}); this section may be incomplete."
                )
            elif status.truncated:
                notes.append(
                    f"{status.label}: more results exist than were read ({status.items} read); older data is missing."
                )
        return tuple(notes)


@dataclass(frozen=True)
class PlanView:
    banner: Section
    sections: tuple[Section, ...]
    completeness: tuple[QueryStatus, ...]
    now: datetime
    profile: str
    note: str = ""
    problems: int = 0
    by_key: Mapping[str, Section] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        return self.by_key[key]


# ---------------------------------------------------------------------------------------------------------------
# Small readers


def _fmt(value: Decimal | None) -> str:
    return "not available" if value is None else f"{value.quantize(TENTH, rounding=ROUND_HALF_UP)}"


def _concept_name(concept: Concept | None, fallback: str = "unnamed") -> str:
    return (concept.display() if concept else None) or fallback


def _codes(concept: Concept | None, system: str) -> tuple[str, ...]:
    return concept.codes(system) if concept else ()


def _has_code(concept: Concept | None, system: str, codes: Iterable[str]) -> bool:
    wanted = set(codes)
    return any(code in wanted for code in _codes(concept, system))


def _text_of(concept: Concept | None) -> str:
    if concept is None:
        return ""
    return " ".join([concept.text or "", *(c.display or "" for c in concept.codings)]).lower()


def _dated(moment: datetime | None) -> str:
    day = local_date(moment)
    return f", {day.isoformat()}" if day else ""


def _task_state(last: date | None, due: date | None, today: date) -> str:
    if last is None:
        return "never"
    if due is None:
        return "done"
    if due < today:
        return "overdue"
    if due <= today + timedelta(days=DUE_SOON_DAYS):
        return "due-soon"
    return "done"


def _latest(days: Iterable[date | None]) -> date | None:
    found = [d for d in days if d is not None]
    return max(found) if found else None


def _obs_value(observation: Observation) -> Decimal | None:
    if observation.value_quantity and observation.value_quantity.value is not None:
        return observation.value_quantity.value
    if observation.value_string:
        try:
            return Decimal(observation.value_string.strip())
        except ArithmeticError:
            return None
    return None


# ---------------------------------------------------------------------------------------------------------------
# Section builders (each reads Facts; any exception becomes that section's visible error)


def build_banner(facts: Any) -> Banner:
    patient = facts.record.patient
    if patient is None:
        raise LookupError("The patient's demographics were not returned by the EHR.")
    age = age_in_years(patient.birth_date, facts.today) if patient.birth_date else None
    return Banner(patient.name or "Name not recorded", patient.birth_date, age, patient.mrn, patient.gender)


def build_alerts(evaluation: Any) -> Alerts:
    facts = evaluation.facts
    snoozed = []
    for card in evaluation.snoozed:
        snooze = next(
            (s for s in facts.snoozes if s.check_id == card.check_id and s.until > facts.now),
            None,
        )
        note = "snoozed"
        if snooze is not None:
            note = f"snoozed until {snooze.until.date().isoformat()}" + (f" ({snooze.reason})" if snooze.reason else "")
        snoozed.append((card, note))
    failures = tuple(f.check_id for f in getattr(evaluation, "failures", ()))
    exclusions = tuple((e.label, e.evidence) for e in facts.exclusions)
    return Alerts(tuple(evaluation.cards), tuple(snoozed), exclusions, failures)


def _order_status(order: MedOrder) -> str:
    return "draft" if order.is_draft else (order.status or "unknown status")


def _sig(order: MedOrder) -> str:
    texts = [d.text for d in order.dosages if d.text]
    return "; ".join(texts) if texts else "no instructions text"


def _mme_result_for(facts: Any, order: MedOrder) -> Any:
    for result in facts.mme.orders:
        if result.order is order or (order.id and result.order.id == order.id):
            return result
    return None


def _explain(result: Any) -> str:
    """The MME module's own explanation (factor, source, PRN and fallback notes), plus why it failed."""
    if result is None:
        return "not converted"
    parts = [result.explanation] if result.explanation else []
    if result.state != "ok" and result.reason_text and result.reason_text not in (result.explanation or ""):
        parts.append(result.reason_text)
    return "; ".join(parts)


def build_medications(facts: Any) -> Medications:
    rows: list[OpioidRow] = []
    bup: list[OpioidRow] = []
    unknown: list[str] = []
    for order in facts.current_opioids:
        result = _mme_result_for(facts, order)
        state = result.state if result is not None else "unknown"
        mme = (
            _fmt(result.mme)
            if result is not None and state == "ok"
            else ("not counted" if state == "excluded" else "unknown")
        )
        row = OpioidRow(
            name=facts.name(order),
            status=_order_status(order),
            sig=_sig(order),
            mme=mme,
            explanation=_explain(result),
            state=state,
            duration=facts.duration(order),
        )
        if state == "excluded" or facts.is_in(BUPRENORPHINE, order):
            bup.append(row)
        else:
            rows.append(row)
            if state == "unknown":
                unknown.append(f"{row.name}: {row.explanation or 'could not be converted'}")
    summary = facts.mme
    total_value = summary.total if summary.state != "none" else None
    if summary.state == "none":
        total = "not available" if facts.current_opioids else "0 MME/day (no current opioid orders)"
    else:
        prefix = "at least " if summary.state == "partial" else ""
        total = f"{prefix}{_fmt(summary.total)} MME/day"
    sedatives = tuple(f"{facts.name(o)} ({_order_status(o)})" for o in (*facts.current_benzos, *facts.current_cns))
    naloxone = tuple(
        f"{facts.name(o)} ({_order_status(o)})"
        for o in facts.record.orders
        if facts.is_in(NALOXONE_RESCUE, o) and (o.status == "active" or o.is_draft)
    )
    return Medications(
        tuple(rows),
        total,
        summary.state,
        total_value,
        tuple(bup),
        tuple(unknown),
        tuple(dict.fromkeys(sedatives)),
        naloxone,
    )


def _history_orders(facts: Any) -> list[MedOrder]:
    return [o for o in facts.record.orders if counts_as_exposure_order(o, facts.config) and facts.is_in(OPIOID, o)]


def daily_mme_series(
    facts: Any, start: date, end: date, order_mme: Callable[[MedOrder], tuple[str, Decimal | None]]
) -> tuple[dict[date, Decimal], int, tuple[str, ...]]:
    """Daily MME from each opioid order's exposure interval (guideline 5.1); buprenorphine days counted apart.

    `order_mme(order)` gives ("ok"|"excluded"|"unknown", MME). Returns (change points, buprenorphine days,
    names of orders whose MME is unknown and so missing from the line).
    """
    span = (end - start).days + 1
    daily = [Decimal(0)] * span
    bup_days = [False] * span
    unknown: list[str] = []
    for order in _history_orders(facts):
        interval = order_interval(order, facts.supply(order))
        if interval is None:
            continue
        low, high = max(interval[0], start), min(interval[1], end)
        if low > high:
            continue
        state, value = order_mme(order)
        first, last = (low - start).days, (high - start).days
        if state == "excluded":
            for index in range(first, last + 1):
                bup_days[index] = True
        elif state == "ok" and value is not None:
            for index in range(first, last + 1):
                daily[index] += value
        else:
            unknown.append(f"{facts.name(order)} ({local_date(order.authored_on) or 'undated'})")
    changes: dict[date, Decimal] = {}
    previous: Decimal | None = None
    for index, value in enumerate(daily):
        if value != previous:
            changes[start + timedelta(days=index)] = value
            previous = value
    changes[end] = daily[-1]
    return changes, sum(bup_days), tuple(dict.fromkeys(unknown))


def _order_mme_function(facts: Any, compute: Callable[..., Any]) -> Callable[[MedOrder], tuple[str, Decimal | None]]:
    # Refills of the same prescription repeat the same drug, dosage and dispense request; the MME depends on
    # nothing else, so each shape is computed once (a 2-year history has hundreds of such repeats).
    cache: dict[Any, tuple[str, Decimal | None]] = {}

    def order_mme(order: MedOrder) -> tuple[str, Decimal | None]:
        try:
            key: Any = (order.medication, order.dosages, order.dispense, order.course_of_therapy)
            hash(key)
        except TypeError:
            key = id(order)
        if key not in cache:
            summary = compute((order,), facts.terms, facts.config)
            result = summary.orders[0] if summary.orders else None
            cache[key] = ("unknown", None) if result is None else (result.state, result.mme)
        return cache[key]

    return order_mme


def build_mme_history(facts: Any, compute: Callable[..., Any]) -> MmeHistory:
    end = facts.today
    start = months_before(end, HISTORY_MONTHS)
    changes, bup_days, unknown = daily_mme_series(facts, start, end, _order_mme_function(facts, compute))
    points = tuple(Point(d, v) for d, v in sorted(changes.items()))
    values = _expand(points, start, end)
    last_90 = values[-90:]
    average = sum(last_90, Decimal(0)) / len(last_90) if last_90 else Decimal(0)
    return MmeHistory(start, end, points, bup_days, max(values, default=Decimal(0)), average, unknown)


def _expand(points: Sequence[Point], start: date, end: date) -> list[Decimal]:
    """The step line back to one value per day."""
    values: list[Decimal] = []
    index = 0
    current = Decimal(0)
    day = start
    while day <= end:
        while index < len(points) and points[index].day <= day:
            current = points[index].value
            index += 1
        values.append(current)
        day += timedelta(days=1)
    return values


def _peg_value(observation: Observation) -> Decimal | None:
    if _has_code(observation.code, LOINC, (PEG_MEAN, PEG_PANEL)):
        value = _obs_value(observation)
        if value is not None:
            return value
        items = [
            c.value_quantity.value
            for c in observation.components
            if c.value_quantity and c.value_quantity.value is not None and _has_code(c.code, LOINC, PEG_ITEMS)
        ]
        if len(items) == len(PEG_ITEMS):
            return sum(items, Decimal(0)) / len(items)
    return None


def build_scores(facts: Any) -> Scores:
    end = facts.today
    start = months_before(end, HISTORY_MONTHS * 2)
    peg: dict[date, Decimal] = {}
    items: dict[date, dict[str, Decimal]] = {}
    pain: dict[date, Decimal] = {}
    for observation in facts.record.observations:
        if observation.status in ("entered-in-error", "cancelled"):
            continue
        loinc = set(_codes(observation.code, LOINC))
        if not loinc & SCORE_CODES:
            continue
        day = local_date(observation.result_time)
        if day is None or not start <= day <= end:
            continue
        value = _peg_value(observation)
        if value is not None:
            peg[day] = value
            continue
        for code in PEG_ITEMS:
            if _has_code(observation.code, LOINC, (code,)):
                item = _obs_value(observation)
                if item is not None:
                    items.setdefault(day, {})[code] = item
        if _has_code(observation.code, LOINC, (PAIN_SEVERITY,)):
            item = _obs_value(observation)
            if item is not None:
                pain[day] = item
    for day, found in items.items():
        if day not in peg and len(found) == len(PEG_ITEMS):
            peg[day] = sum(found.values(), Decimal(0)) / len(found)
    peg_points = tuple(Point(d, v.quantize(TENTH, rounding=ROUND_HALF_UP)) for d, v in sorted(peg.items()))
    pain_points = tuple(Point(d, v) for d, v in sorted(pain.items()))
    change = None
    if len(peg_points) >= 2 and peg_points[0].value > 0:
        first, last = peg_points[0].value, peg_points[-1].value
        percent = ((first - last) / first * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP)
        direction = "improved" if percent > 0 else ("worsened" if percent < 0 else "unchanged")
        meaningful = " (a 30 % improvement is usually called meaningful)" if 0 < percent < 30 else ""
        change = f"PEG {direction} by {abs(percent)} % since {peg_points[0].day.isoformat()}{meaningful}"
    return Scores(
        start,
        end,
        peg_points,
        pain_points,
        peg_points[-1] if peg_points else None,
        pain_points[-1] if pain_points else None,
        change,
    )


MENTAL_HEALTH_ICD = (
    "F20",
    "F21",
    "F22",
    "F23",
    "F24",
    "F25",
    "F28",
    "F29",
    "F31",
    "F32",
    "F33",
    "F34",
    "F40",
    "F41",
    "F43.1",
    "F431",
    "F60",
)
MENTAL_HEALTH_WORDS = (
    "depress",
    "anxiety",
    "bipolar",
    "post-traumatic",
    "ptsd",
    "schizo",
    "panic disorder",
    "personality disorder",
)


def _is_mental_health(condition: Condition) -> bool:
    icd = [
        c.code.upper()
        for c in (condition.code.codings if condition.code else ())
        if c.code and c.system and "icd-10" in c.system
    ]
    if any(code.startswith(MENTAL_HEALTH_ICD) for code in icd):
        return True
    return any(word in _text_of(condition.code) for word in MENTAL_HEALTH_WORDS)


def _condition_evidence(conditions: Sequence[Condition]) -> str:
    described = []
    for condition in conditions[:4]:
        day = local_date(condition.recorded_date or condition.onset)
        status = condition.clinical_status or "status not recorded"
        described.append(
            f"{_concept_name(condition.code, 'a coded condition')} ({status}{', ' + day.isoformat() if day else ''})"
        )
    more = f" and {len(conditions) - 4} more" if len(conditions) > 4 else ""
    return "; ".join(described) + more


def build_risks(facts: Any) -> Risks:
    present: list[Risk] = []
    absent: list[str] = []

    def add(label: str, evidence: str | None, source: str) -> None:
        if evidence:
            present.append(Risk(label, evidence, source))
        else:
            absent.append(label)

    summary = facts.mme
    threshold = Decimal(str(facts.config["checks"]["naloxone"]["mme_threshold"]))
    add(
        "Higher opioid dose",
        f"total {_fmt(summary.total)} MME/day" if summary.state != "none" and summary.total >= threshold else None,
        "current opioid orders",
    )
    benzos = [facts.name(o) for o in facts.current_benzos]
    add("Benzodiazepine", ", ".join(dict.fromkeys(benzos)) or None, "current medication orders")
    others = [facts.name(o) for o in facts.current_cns if o not in facts.current_benzos]
    add("Other CNS depressant", ", ".join(dict.fromkeys(others)) or None, "current medication orders")
    sud = tuple(dict.fromkeys((*facts.conditions_in(OUD), *facts.conditions_in(SUD_HISTORY))))
    add("Substance use disorder or OUD", _condition_evidence(sud) if sud else None, "conditions, any status")
    overdose = facts.conditions_in(OPIOID_POISONING)
    add("Opioid overdose history", _condition_evidence(overdose) if overdose else None, "conditions, any status")
    apnea = facts.conditions_in(SLEEP_BREATHING, active_only=True)
    add("Sleep-disordered breathing", _condition_evidence(apnea) if apnea else None, "active conditions")
    mental = tuple(c for c in facts.active_conditions if _is_mental_health(c))
    add("Mental health condition", _condition_evidence(mental) if mental else None, "active conditions")
    patient = facts.record.patient
    age = age_in_years(patient.birth_date, facts.today) if patient and patient.birth_date else None
    if age is None:
        present.append(Risk("Age unknown", "no birth date on record", "patient"))
    else:
        add("Age 65 or older", f"{age} years" if age >= 65 else None, "patient birth date")
    return Risks(tuple(present), tuple(absent))


def build_uds(facts: Any) -> UdsHistory:
    rows = []
    for result in sorted(facts.uds_results, key=lambda r: r.day or date.min, reverse=True):
        substances = tuple(f"{s.label}: {s.value}" for s in result.substances)
        unexpected = tuple(s.explanation or f"unexpected {s.value} for {s.label}" for s in result.unexpected)
        rows.append(UdsRow(result.day, result.name, result.value, substances, unexpected))
    pending = tuple(
        f"{_concept_name(s.code, 'urine drug test')} ordered {local_date(s.authored_on) or ''}".strip()
        for s in facts.record.service_requests
        if s.status in ("active", "draft")
        and (_has_code(s.code, SNOMED, ("310627008",)) or facts.terms.contains("UDS_TEST", s.code))
    )
    return UdsHistory(tuple(rows), pending)


# Non-opioid therapies: (key, label, SNOMED codes, keywords). Our own short list; sites add local codes by text.
SERVICES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("pt", "Physical therapy", ("91251008", "229070002", "386053000"), ("physical therapy", "physiotherapy")),
    ("ot", "Occupational therapy", ("84478008", "410146006"), ("occupational therapy",)),
    ("chiro", "Chiropractic care", ("81469001", "37768003"), ("chiropract", "spinal manipulation")),
    ("acupuncture", "Acupuncture", ("44868003", "12257009"), ("acupuncture",)),
    ("tens", "TENS (nerve stimulation)", ("45457009", "703413007"), ("tens", "transcutaneous electrical")),
    ("naturopathy", "Naturopathy", ("310108007",), ("naturopath",)),
    (
        "behavioral",
        "Behavioural health (e.g. CBT)",
        ("228557008", "304891004", "75516001"),
        ("cognitive behavio", "behavioral health", "behavioural health", "psychotherapy", "counsel"),
    ),
)
MEDICINES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("acetaminophen", "Acetaminophen", ("161",), ("acetaminophen", "paracetamol")),
    (
        "nsaid",
        "NSAIDs (ibuprofen, naproxen, …)",
        ("5640", "7258", "3355", "4331", "140587", "41493"),
        ("ibuprofen", "naproxen", "diclofenac", "celecoxib", "meloxicam", "etodolac"),
    ),
    ("gabapentinoid", "Gabapentin or pregabalin", ("25480", "187832"), ("gabapentin", "pregabalin")),
    (
        "antidepressant",
        "TCA or SNRI (duloxetine, amitriptyline, …)",
        ("72625", "704", "7531", "39786"),
        ("duloxetine", "amitriptyline", "nortriptyline", "venlafaxine", "milnacipran"),
    ),
    (
        "topical",
        "Topicals (diclofenac gel, lidocaine, capsaicin)",
        ("6387", "1992"),
        ("topical", "gel", "patch", "cream", "lidocaine", "capsaicin"),
    ),
)
TEXT_ONLY_KEYS = frozenset({"topical"})  # a topical is recognised by form words, never by the oral ingredient alone


def _topical(text: str) -> bool:
    """A topical product: form words in the name; a patch counts only when it is lidocaine or capsaicin."""
    return any(w in text for w in ("gel", "topical", "cream", "lidocaine", "capsaicin")) and (
        "patch" not in text or "lidocaine" in text or "capsaicin" in text
    )


def _therapy_match(
    concept: Concept | None, system: str, codes: tuple[str, ...], words: tuple[str, ...], key: str
) -> bool:
    text = _text_of(concept)
    if key == "topical":
        return _topical(text)
    if key == "tens":
        return _has_code(concept, system, codes) or "transcutaneous electrical" in text or " tens" in f" {text}"
    return _has_code(concept, system, codes) or any(w in text for w in words)


def build_nonopioid(facts: Any) -> NonOpioid:
    since = months_before(facts.today, 24)
    # Filter the record once (date, status, not an opioid); only the survivors are matched against each therapy.
    done: list[tuple[Concept | None, str]] = []
    for procedure in facts.record.procedures:
        day = local_date(procedure.performed or procedure.performed_start or procedure.performed_end)
        if procedure.status in ("completed", "in-progress") and (day is None or day >= since):
            done.append((procedure.code, f"done {day.isoformat() if day else '(date not recorded)'}"))
    for request in facts.record.service_requests:
        day = local_date(request.authored_on)
        if request.status in ("active", "completed") and (day is None or day >= since):
            done.append((request.code, f"referred {day.isoformat() if day else ''}".strip()))
    services = []
    for key, label, codes, words in SERVICES:
        evidence = [text for code, text in done if _therapy_match(code, SNOMED, codes, words, key)]
        services.append(Therapy(key, label, "service", tuple(dict.fromkeys(evidence))))
    # Per order once: its RxNorm codes (product and ingredients) and its lowercase words; then cheap lookups.
    candidates: list[tuple[frozenset[str], str, str]] = []
    for order in facts.record.orders:
        if order.is_draft or order.status not in ("active", "completed"):
            continue
        day = local_date(order.authored_on)
        if (day is not None and day < since) or facts.is_in(OPIOID, order):
            continue
        name = facts.name(order)
        medication = order.medication
        codes = set(_codes(medication.concept, RXNORM))
        if medication.resource:
            codes.update(code for i in medication.resource.ingredients for code in _codes(i.item, RXNORM))
        words = f"{_text_of(medication.concept)} {name.lower()}"
        shown = f"{name} ({order.status}{', ' + day.isoformat() if day else ''})"
        candidates.append((frozenset(codes), words, shown))
    medicines = []
    for key, label, codes, words in MEDICINES:
        wanted = frozenset(codes)
        evidence = [
            shown
            for order_codes, text, shown in candidates
            if (_topical(text) if key in TEXT_ONLY_KEYS else (order_codes & wanted or any(w in text for w in words)))
        ]
        medicines.append(Therapy(key, label, "medicine", tuple(dict.fromkeys(evidence))))
    return NonOpioid(tuple(services), tuple(medicines))


OUD_OPTIONS: tuple[tuple[str, str], ...] = (
    (
        "Buprenorphine",
        "Can be started in primary care or by telehealth; no special DEA waiver has been needed "
        "since 2023. Sublingual film or tablet, or monthly injection.",
    ),
    ("Methadone", "Dispensed through a certified opioid treatment program; daily visits at first."),
    ("Extended-release naltrexone", "Monthly injection after a period without opioids (usually 7–10 days)."),
)


def build_oud(facts: Any, checked: Iterable[str] = ()) -> OudBlock:
    diagnoses = tuple(
        f"{_concept_name(c.code, 'opioid use disorder')} ({c.clinical_status or 'status not recorded'}"
        f"{', recorded ' + local_date(c.recorded_date).isoformat() if c.recorded_date else ''})"
        for c in facts.conditions_in(OUD)
    )
    treatment = tuple(
        dict.fromkeys(
            f"{facts.name(o)} ({_order_status(o)}{_dated(o.authored_on)})"
            for o in facts.record.orders
            if (facts.is_in(MOUD, o) or facts.is_in(NALTREXONE, o))
            and (o.status == "active" or facts.within_days(o.authored_on, 90))
        )
    )
    referrals = tuple(facts.config["oud"]["referral_resources"])
    return OudBlock(diagnoses, treatment, oud_criteria.CRITERIA, oud_criteria.assess(checked), OUD_OPTIONS, referrals)


def _per_order_mme(facts: Any) -> tuple[tuple[str, Decimal], ...]:
    return tuple((facts.name(r.order), r.mme) for r in facts.mme.orders if r.state == "ok" and r.mme is not None)


def build_taper(facts: Any, request: TaperRequest) -> Taper:
    summary = facts.mme
    per_order = _per_order_mme(facts)
    if summary.state == "none" or not summary.total:
        return Taper(request, None, "There is no current opioid dose with a known MME to taper from.", per_order)
    try:
        plan = taper_schedule(
            Decimal(summary.total),
            request.start or facts.today,
            request.rate_percent,
            request.interval,  # type: ignore[arg-type]
            request.basis,  # type: ignore[arg-type]
            request.target_mme,
            request.pause_at_percent,
            request.pause_intervals,
        )
    except TaperError as error:
        return Taper(request, None, str(error), per_order)
    partial = None
    if summary.state == "partial":
        partial = "Some opioid orders could not be converted to MME, so this schedule starts from a lower bound."
    return Taper(request, plan, partial, per_order)


LINK_LABELS: tuple[tuple[str, str], ...] = (
    ("rec1", "Rec 1: non-opioid therapies first"),
    ("rec2", "Rec 2: goals and treatment plan"),
    ("rec4", "Rec 4: immediate-release first, lowest dose"),
    ("rec5", "Rec 5: continuing or tapering"),
    ("rec7", "Rec 7: reassess benefits and harms"),
    ("rec8", "Rec 8: naloxone and risk mitigation"),
    ("rec9", "Rec 9: check the PDMP"),
    ("rec10", "Rec 10: toxicology testing"),
    ("rec11", "Rec 11: avoid opioids with benzodiazepines"),
    ("rec12", "Rec 12: treat opioid use disorder"),
    ("taper_calculator", "Washington State taper calculator"),
)


def build_resources(config: GuidelineConfig) -> Resources:
    links = tuple((label, config["links"][key]) for key, label in LINK_LABELS if config["links"].get(key))
    return Resources(tuple(config["resources"]), links, dict(config["pdmp"]))


# ---------------------------------------------------------------------------------------------------------------
# Status strip


def _document_tasks(facts: Any) -> tuple[date | None, date | None]:
    """Last treatment agreement and last informed consent (DocumentReference or Consent)."""
    agreements: list[date | None] = []
    consents: list[date | None] = []
    for document in facts.record.documents:
        if document.status not in (None, "current"):
            continue
        words = f"{_text_of(document.type)} {(document.description or '').lower()}"
        day = local_date(document.date)
        if _has_code(document.type, LOINC, (AGREEMENT_LOINC,)) or "agreement" in words:
            agreements.append(day)
        elif "consent" in words and ("opioid" in words or "informed" in words):
            consents.append(day)
    for consent in facts.record.consents:
        if consent.status not in (None, "active"):
            continue
        words = " ".join(_text_of(c) for c in consent.categories)
        codes = {code for c in consent.categories for code in _codes(c, LOINC)}
        day = local_date(consent.date_time)
        if AGREEMENT_LOINC in codes or "agreement" in words:
            agreements.append(day)
        else:
            consents.append(day)
    return _latest(agreements), _latest(consents)


def _pdmp_last(facts: Any) -> date | None:
    days: list[date | None] = []
    pdmp_codes = (PDMP_PROCEDURE, PDMP_FINDING)
    for procedure in facts.record.procedures:
        if procedure.status == "completed" and (
            facts.terms.contains(PDMP_REVIEW, procedure.code) or _has_code(procedure.code, SNOMED, pdmp_codes)
        ):
            days.append(local_date(procedure.performed or procedure.performed_end or procedure.performed_start))
    for observation in facts.record.observations:
        if observation.status in DONE_OBSERVATION and _has_code(observation.code, SNOMED, pdmp_codes):
            days.append(local_date(observation.result_time))
    return _latest(d for d in days if d is None or d <= facts.today)


def _naloxone_last(facts: Any) -> tuple[date | None, bool]:
    """Latest naloxone order/dispense and whether an active rescue order makes it "on hand" today."""
    active = False
    days: list[date | None] = []
    for order in facts.record.orders:
        if order.is_draft or not facts.is_in(NALOXONE_RESCUE, order):
            continue
        if order.status == "active":
            active = True
            days.append(local_date(order.authored_on))
        elif order.status == "completed":
            days.append(local_date(order.authored_on))
    for dispense in facts.record.dispenses:
        if dispense.status == "completed" and facts.is_in(NALOXONE_RESCUE, dispense):
            interval = dispense_interval(dispense)
            days.append(interval[0] if interval else None)
    return _latest(days), active


def _dose_increase(history: MmeHistory | None, today: date) -> date | None:
    """The latest day in the last 4 weeks when the daily MME rose (a start or a dose increase)."""
    if history is None:
        return None
    previous = Decimal(0)
    found = None
    for point in history.opioid:
        if point.value > previous and point.day >= today - timedelta(days=28) and point.day != history.start:
            found = point.day
        previous = point.value
    return found


def build_tasks(facts: Any, history: MmeHistory | None) -> tuple[Task, ...]:
    today = facts.today
    tasks: list[Task] = []
    on_opioids = bool(facts.current_opioids) or facts.exposure.ltot

    uds_last = _latest(r.day for r in facts.uds_results)
    uds_due = months_after(uds_last, 12) if uds_last else (today if on_opioids else None)
    tasks.append(
        Task(
            "uds",
            "Urine drug test",
            uds_last,
            uds_due,
            _task_state(uds_last, uds_due, today) if on_opioids or uds_last else "not-applicable",
            "At least yearly during longer-term opioid therapy (Rec 10).",
        )
    )

    pdmp_last = _pdmp_last(facts)
    pdmp_due = pdmp_last + timedelta(days=90) if pdmp_last else (today if on_opioids else None)
    tasks.append(
        Task(
            "pdmp",
            "PDMP review",
            pdmp_last,
            pdmp_due,
            _task_state(pdmp_last, pdmp_due, today) if on_opioids or pdmp_last else "not-applicable",
            f"Before each controlled prescription and at least every 90 days (Rec 9). {facts.config['pdmp']['label']}.",
        )
    )

    assessments = facts.procedures_in(OPIOID_TREATMENT_ASSESSMENT)
    reassess_last = _latest(local_date(p.performed or p.performed_end or p.performed_start) for p in assessments)
    increase = _dose_increase(history, today)
    detail = "Every 3 months during longer-term therapy (Rec 7)."
    if increase and (reassess_last is None or reassess_last < increase):
        reassess_due = increase + timedelta(weeks=4)
        detail = (
            f"Opioids were started or the dose increased on {increase.isoformat()}: reassess 1–4 weeks "
            f"after ({(increase + timedelta(weeks=1)).isoformat()} to {reassess_due.isoformat()})."
        )
    elif reassess_last:
        reassess_due = months_after(reassess_last, 3)
    else:
        reassess_due = today if on_opioids else None
    tasks.append(
        Task(
            "reassessment",
            "Benefit/harm reassessment",
            reassess_last,
            reassess_due,
            _task_state(reassess_last, reassess_due, today) if on_opioids or reassess_last else "not-applicable",
            detail,
        )
    )

    naloxone_last, naloxone_active = _naloxone_last(facts)
    naloxone_recent = naloxone_last is not None and facts.within_months(naloxone_last, 12)
    on_hand = naloxone_active or naloxone_recent
    tasks.append(
        Task(
            "naloxone",
            "Naloxone on hand",
            naloxone_last,
            months_after(naloxone_last, 12) if naloxone_last else None,
            "done" if on_hand else ("never" if on_opioids else "not-applicable"),
            "An active naloxone rescue order, or one ordered or dispensed in the last 12 months (Rec 8)."
            if on_hand
            else "No naloxone rescue product ordered or dispensed in the last 12 months (Rec 8).",
        )
    )

    agreement_last, consent_last = _document_tasks(facts)
    for key, label, last in (
        ("agreement", "Treatment agreement", agreement_last),
        ("consent", "Informed consent", consent_last),
    ):
        due = months_after(last, 12) if last else (today if on_opioids else None)
        tasks.append(
            Task(
                key,
                label,
                last,
                due,
                _task_state(last, due, today) if on_opioids or last else "not-applicable",
                "Reviewed and signed with the patient, renewed yearly (Rec 2, HUSKY toolkit).",
            )
        )
    return tuple(tasks)


# ---------------------------------------------------------------------------------------------------------------
# Assembly


SECTION_QUERIES: dict[str, tuple[str, ...]] = {
    "banner": ("patient",),
    "tasks": ("labs", "procedures", "surveys", "orders", "dispenses", "documents", "consents"),
    "alerts": ("orders", "conditions", "encounters", "procedures", "labs"),
    "medications": ("orders", "medications"),
    "mme_history": ("orders", "medications"),
    "scores": ("surveys", "vitals"),
    "risks": ("orders", "conditions", "patient"),
    "uds": ("labs", "service_requests", "orders", "dispenses"),
    "nonopioid": ("procedures", "service_requests", "orders"),
    "oud": ("conditions", "orders", "dispenses"),
    "taper": ("orders", "medications"),
    "resources": (),
}

TITLES: dict[str, str] = {
    "tasks": "Plan status",
    "alerts": "Alerts from the guideline checks",
    "medications": "Current opioids and MME",
    "mme_history": "MME over the past 12 months",
    "scores": "Pain and function scores",
    "risks": "Overdose risk factors",
    "uds": "Urine drug tests",
    "nonopioid": "Non-opioid therapies",
    "oud": "Opioid use disorder",
    "taper": "Tapering calculator",
    "resources": "Resources",
}


def _guard(key: str, builder: Callable[[], Any], statuses: Mapping[str, QueryStatus]) -> Section:
    queried = tuple(statuses[k] for k in SECTION_QUERIES.get(key, ()) if k in statuses)
    title = TITLES.get(key, "Patient")
    try:
        return Section(key, title, builder(), None, queried)
    except Exception as error:  # noqa: BLE001 - one section's failure is shown in that section only
        message = str(error) if isinstance(error, LookupError) else ""
        return Section(
            key, title, None, message or f"This section could not be built ({type(error).__name__}).", queried
        )


def build_plan(
    evaluation: Any,
    fetch_status: Sequence[QueryStatus],
    config: GuidelineConfig,
    now: datetime,
    taper_request: TaperRequest | None = None,
    oud_checked: Iterable[str] = (),
    compute_mme: Callable[..., Any] | None = None,
    builders: Mapping[str, Callable[[], Any]] | None = None,
) -> PlanView:
    """The whole plan from one engine evaluation; `builders` lets a caller replace a section (tests)."""
    facts = evaluation.facts
    if compute_mme is None:
        from guideline.mme import compute_mme as default_compute

        compute_mme = default_compute
    statuses = {s.key: s for s in fetch_status}
    history_holder: dict[str, MmeHistory] = {}

    def history() -> MmeHistory:
        history_holder["value"] = build_mme_history(facts, compute_mme)
        return history_holder["value"]

    plan_builders: dict[str, Callable[[], Any]] = {
        "alerts": lambda: build_alerts(evaluation),
        "medications": lambda: build_medications(facts),
        "mme_history": history,
        "tasks": lambda: build_tasks(facts, history_holder.get("value")),
        "scores": lambda: build_scores(facts),
        "risks": lambda: build_risks(facts),
        "uds": lambda: build_uds(facts),
        "nonopioid": lambda: build_nonopioid(facts),
        "oud": lambda: build_oud(facts, oud_checked),
        "taper": lambda: build_taper(facts, taper_request or TaperRequest()),
        "resources": lambda: build_resources(config),
    }
    plan_builders.update(builders or {})
    banner = _guard("banner", (builders or {}).get("banner") or (lambda: build_banner(facts)), statuses)
    built = {key: _guard(key, plan_builders[key], statuses) for key in ("medications", "mme_history")}
    order = (
        "tasks",
        "alerts",
        "medications",
        "mme_history",
        "scores",
        "risks",
        "uds",
        "nonopioid",
        "oud",
        "taper",
        "resources",
    )
    sections = tuple(built.get(key) or _guard(key, plan_builders[key], statuses) for key in order)
    by_key = {s.key: s for s in sections}
    by_key["banner"] = banner
    view = PlanView(
        banner=banner,
        sections=sections,
        completeness=tuple(fetch_status),
        now=now,
        profile=config.profile,
        problems=len(facts.record.problems),
        by_key=by_key,
    )
    return PlanView(**{**view.__dict__, "note": note_text(view)})


def note_text(view: PlanView) -> str:
    """A plain-text summary for the progress note (EHR note editors rarely accept images or HTML)."""
    lines = [f"Pain treatment plan summary ({view.now.date().isoformat()}, PainPlan, CDC 2022 guideline)"]
    banner = view.banner.content
    if isinstance(banner, Banner):
        lines.append(f"Patient: {banner.name}, DOB {banner.birth_date or 'unknown'}, MRN {banner.mrn or 'unknown'}")
    meds = view.by_key.get("medications")
    if meds and isinstance(meds.content, Medications):
        lines.append(f"Total opioid dose: {meds.content.total}")
        lines.extend(f"- {r.name} ({r.status}): {r.mme} MME/day" for r in meds.content.opioids)
        lines.extend(f"- {r.name} ({r.status}): buprenorphine, not included in MME" for r in meds.content.buprenorphine)
    tasks = view.by_key.get("tasks")
    if tasks and tasks.content:
        lines.append("Plan status:")
        for task in tasks.content:
            last = task.last_done.isoformat() if task.last_done else "none on record"
            due = f", next due {task.next_due.isoformat()}" if task.next_due else ""
            lines.append(f"- {task.label}: last {last}{due} [{task.state}]")
    risks = view.by_key.get("risks")
    if risks and isinstance(risks.content, Risks) and risks.content.present:
        lines.append("Risk factors: " + "; ".join(f"{r.label} ({r.evidence})" for r in risks.content.present))
    alerts = view.by_key.get("alerts")
    if alerts and isinstance(alerts.content, Alerts) and alerts.content.exclusions:
        lines.append("Guideline exclusions: " + "; ".join(label for label, _ in alerts.content.exclusions))
    missing = [s.label for s in view.completeness if not s.ok]
    if missing:
        lines.append("Data not available when this was generated: " + ", ".join(missing))
    failed = [s.title for s in view.sections if s.error]
    if failed:
        lines.append("Sections that could not be built: " + ", ".join(failed))
    return "\n".join(lines)
