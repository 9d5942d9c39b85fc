"""Non-opioid therapies tried in the last 2 years (Rec 1): services done or referred, non-opioid medicines."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from guideline.fhirdata import RXNORM, SNOMED, Concept
from guideline.orders import is_order, is_taken
from guideline.plan.model import QueryStatus
from guideline.plan.reading import words_of
from guideline.plan.reads import (
    CHART_MONTHS,
    CHART_WINDOW,
    MEDICINE_READS,
    NONE_IN_CHART_WINDOW,
    SERVICE_READS,
    none_within,
)
from guideline.recognition.strengths import IngredientAliases, medication_listed_codes
from guideline.terminology import OPIOID
from guideline.timeutil import local_date, months_before

if TYPE_CHECKING:
    from guideline.facts import Facts
    from guideline.record import MedOrder

SERVICE_DONE = frozenset({"completed", "in-progress"})
SERVICE_REFERRED = frozenset({"active", "completed"})
MEDICINE_ORDERED = frozenset({"active", "completed"})


def _topical(text: str) -> bool:
    """A topical product: form words in the name; a patch counts only when it is lidocaine or capsaicin."""
    return any(w in text for w in ("gel", "topical", "cream", "lidocaine", "capsaicin")) and (
        "patch" not in text or "lidocaine" in text or "capsaicin" in text
    )


@dataclass(frozen=True)
class TherapyKind:
    """One therapy the section asks about: matched by code, or by words for sites that send local codes."""

    key: str
    label: str
    codes: frozenset[str] = frozenset()
    words: tuple[str, ...] = ()
    text_rule: Callable[[str], bool] | None = None  # replaces codes and words where those would mislead

    def matches(self, codes: frozenset[str], text: str) -> bool:
        """`text` starts with a space, so a word written with a leading space matches at word starts only."""
        if self.text_rule is not None:
            return self.text_rule(text)
        return bool(codes & self.codes) or any(w in text for w in self.words)


# Our own short lists (SNOMED for services, RxNorm ingredients for medicines); sites add local codes by text.
SERVICES: tuple[TherapyKind, ...] = (
    TherapyKind(
        "pt",
        "Physical therapy",
        frozenset({"91251008", "229070002", "386053000"}),
        ("physical therapy", "physiotherapy"),
    ),
    TherapyKind("ot", "Occupational therapy", frozenset({"84478008", "410146006"}), ("occupational therapy",)),
    TherapyKind(
        "chiro", "Chiropractic care", frozenset({"81469001", "37768003"}), ("chiropract", "spinal manipulation")
    ),
    TherapyKind("acupuncture", "Acupuncture", frozenset({"44868003", "12257009"}), ("acupuncture",)),
    # " tens" only at a word start: "extensive" or "tension" is no nerve stimulation.
    TherapyKind(
        "tens", "TENS (nerve stimulation)", frozenset({"45457009", "703413007"}), (" tens", "transcutaneous electrical")
    ),
    TherapyKind("naturopathy", "Naturopathy", frozenset({"310108007"}), ("naturopath",)),
    TherapyKind(
        "behavioral",
        "Behavioural health (e.g. CBT)",
        frozenset({"228557008", "304891004", "75516001"}),
        ("cognitive behavio", "behavioral health", "behavioural health", "psychotherapy", "counsel"),
    ),
)
MEDICINES: tuple[TherapyKind, ...] = (
    TherapyKind("acetaminophen", "Acetaminophen", frozenset({"161"}), ("acetaminophen", "paracetamol")),
    TherapyKind(
        "nsaid",
        "NSAIDs (ibuprofen, naproxen, …)",
        frozenset({"5640", "7258", "3355", "4331", "140587", "41493"}),
        ("ibuprofen", "naproxen", "diclofenac", "celecoxib", "meloxicam", "etodolac"),
    ),
    TherapyKind(
        "gabapentinoid", "Gabapentin or pregabalin", frozenset({"25480", "187832"}), ("gabapentin", "pregabalin")
    ),
    TherapyKind(
        "antidepressant",
        "TCA or SNRI (duloxetine, amitriptyline, …)",
        frozenset({"72625", "704", "7531", "39786"}),
        ("duloxetine", "amitriptyline", "nortriptyline", "venlafaxine", "milnacipran"),
    ),
    # A topical is recognised by form words, never by the oral ingredient's code alone.
    TherapyKind("topical", "Topicals (diclofenac gel, lidocaine, capsaicin)", text_rule=_topical),
)


@dataclass(frozen=True)
class Therapy:
    key: str
    label: str
    kind: str  # "service" | "medicine"
    evidence: tuple[str, ...]
    covered: bool = True  # services: listed in `covered_services` (the state plan pays for it)

    @property
    def has(self) -> bool:
        return bool(self.evidence)


@dataclass(frozen=True)
class NonOpioid:
    services: tuple[Therapy, ...]
    medicines: tuple[Therapy, ...]
    # What a therapy not found means, naming how far back its searches looked: "none in the last 2 years"
    services_none: str = NONE_IN_CHART_WINDOW
    medicines_none: str = NONE_IN_CHART_WINDOW


# One record item, read once: (its codes, " " + its lowercase words, how it is shown as evidence).
Candidate = tuple[frozenset[str], str, str]


def _service_candidates(facts: Facts) -> list[Candidate]:
    """Procedures done and referrals made in the window. A request of intent proposal, plan or option is left out:
    a suggestion or care-plan item nobody signed is no referral (`is_order`), and shown as "referred" it made a
    therapy look tried that nobody had ordered."""
    since = months_before(facts.today, CHART_MONTHS)
    found: list[Candidate] = []
    for procedure in facts.record.procedures:
        day = local_date(procedure.performed or procedure.performed_start or procedure.performed_end)
        if procedure.status in SERVICE_DONE and (day is None or day >= since):
            shown = f"done {day.isoformat() if day else '(date not recorded)'}"
            found.append(_read(procedure.code, shown))
    for request in facts.record.service_requests:
        day = local_date(request.authored_on)
        if request.status in SERVICE_REFERRED and is_order(request) and (day is None or day >= since):
            found.append(_read(request.code, f"referred {day.isoformat() if day else ''}".strip()))
    return found


def _read(concept: Concept | None, shown: str) -> Candidate:
    codes = frozenset(concept.codes(SNOMED)) if concept is not None else frozenset()
    return codes, f" {words_of(concept)}", shown


def _medicine_candidates(facts: Facts) -> list[Candidate]:
    """Non-opioid orders in the window: product and ingredient RxNorm codes, and the name's words."""
    since = months_before(facts.today, CHART_MONTHS)
    found: list[Candidate] = []
    for order in facts.record.orders:
        if order.is_draft or order.status not in MEDICINE_ORDERED or not is_taken(order):
            continue  # a proposal nobody signed is no medicine tried
        day = local_date(order.authored_on)
        if (day is not None and day < since) or facts.is_in(OPIOID, order):
            continue
        words = f" {words_of(order.medication.concept)} {facts.name(order).lower()}"
        found.append((_rxnorm_codes(order, facts.terms), words, _shown(facts, order, day)))
    return found


def _rxnorm_codes(order: MedOrder, terms: IngredientAliases) -> frozenset[str]:
    """The order's RxNorm codes and its Medication's ingredient codes, the list read as the MME reads it."""
    medication = order.medication
    codes = medication.concept.codes(RXNORM) if medication.concept else ()
    return frozenset((*codes, *medication_listed_codes(medication, terms)))


def _shown(facts: Facts, order: MedOrder, day: date | None) -> str:
    return f"{facts.name(order)} ({order.status}{', ' + day.isoformat() if day else ''})"


def _therapies(
    kinds: tuple[TherapyKind, ...], kind: str, candidates: list[Candidate], covered: frozenset[str] | None = None
) -> tuple[Therapy, ...]:
    return tuple(
        Therapy(
            t.key,
            t.label,
            kind,
            tuple(dict.fromkeys(shown for codes, text, shown in candidates if t.matches(codes, text))),
            covered is None or t.key in covered,
        )
        for t in kinds
    )


def build_nonopioid(facts: Facts, statuses: Mapping[str, QueryStatus] | None = None) -> NonOpioid:
    """Each therapy with the record items that show it was tried; the record is read once, then matched. A therapy
    not found is "none in the last 2 years" (the window of the searches made and of this list), never "not on
    record": physical therapy 33 months ago was never searched for."""
    searched, listed = statuses or {}, CHART_WINDOW
    return NonOpioid(
        _therapies(SERVICES, "service", _service_candidates(facts), frozenset(facts.config["covered_services"])),
        _therapies(MEDICINES, "medicine", _medicine_candidates(facts)),
        none_within(SERVICE_READS, searched, listed),
        none_within(MEDICINE_READS, searched, listed),
    )
