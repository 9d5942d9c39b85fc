"""The kinds of patient data a face could not read in full, and how a card that states an absence names them: "none
found" of data PainPlan could not read is false confidence (never silent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from guideline.cards import SUMMARY_LIMIT
from guideline.words import and_list, clip

# The kinds, as the faces name them to the engine (each face maps its own searches to these).
ORDERS = "orders"  # current (active) medication orders
ORDER_HISTORY = "order-history"  # medication orders of the past months
FILLS = "fills"  # pharmacy dispensing records
LAB_RESULTS = "lab-results"
PDMP_REVIEWS = "pdmp-reviews"  # PDMP review findings and flowsheet rows
PROCEDURES = "procedures"
CONDITIONS = "conditions"
ENCOUNTERS = "encounters"
SERVICE_REQUESTS = "service-requests"
CARE_PLANS = "care-plans"
PLAN_DOCUMENTS = "plan-documents"
STATEMENTS = "statements"  # medications the patient reports taking
ADMINISTRATIONS = "administrations"  # medicines given in clinic
LAB_REPORTS = "lab-reports"
# Payer claims (ExplanationOfBenefit, prefetch.payer_claims): the fills, diagnoses and procedures the payer billed, some
# in no chart; named apart from the pharmacy fills, so a claims search refused beside a fills search read in full never
# says the fills could not be read.
CLAIMS = "payer-claims"

# Plain words for each kind, as a card says them.
LABELS: Mapping[str, str] = {
    ORDERS: "current medication orders",
    ORDER_HISTORY: "past medication orders",
    FILLS: "pharmacy fills",
    LAB_RESULTS: "lab results",
    PDMP_REVIEWS: "PDMP reviews",
    PROCEDURES: "procedures",
    CONDITIONS: "diagnoses",
    ENCOUNTERS: "visits",
    SERVICE_REQUESTS: "pending orders for tests and referrals",
    CARE_PLANS: "care plans",
    PLAN_DOCUMENTS: "treatment plan notes",
    STATEMENTS: "medications the patient reports",
    ADMINISTRATIONS: "medicines given in clinic",
    LAB_REPORTS: "lab reports",
    CLAIMS: "payer claims (fills, diagnoses and procedures billed)",
}
KINDS: tuple[str, ...] = tuple(LABELS)
# The kinds all unread when the hooks could not gather the chart at all. Not the payer claims: a site searches them only
# where it turns them on, and the fills, diagnoses and procedures they stand for are named unread then as the chart's.
CHART_KINDS: tuple[str, ...] = tuple([kind for kind in KINDS if kind != CLAIMS])

# The kind of data each of the hooks' prefetch keys (and its FHIR fallback) holds, by the keys' own names (as
# guideline.search_windows names them): a key not read in full (failed, timed out, cut off at the page limit, unusable
# in the prefetch) makes the cards that state an absence of it say so. Stated once for both faces: the hooks map what
# `gather` did not read through it, the plan page each search through the key it stands for (plan_view.HOOK_KEYS).
KEY_KINDS: Mapping[str, str] = {
    "medsActive": ORDERS,
    "medsRecent": ORDER_HISTORY,
    "dispenses": FILLS,
    "dispensesPrepared": FILLS,
    "udsLabs": LAB_RESULTS,
    "udsLabsIssued": LAB_RESULTS,
    "pdmpObs": PDMP_REVIEWS,
    "conditions": CONDITIONS,
    "procedures": PROCEDURES,
    "encounters": ENCOUNTERS,
    "serviceRequests": SERVICE_REQUESTS,
    "carePlans": CARE_PLANS,
    "planNotes": PLAN_DOCUMENTS,
    "medStatements": STATEMENTS,
    "medAdministrations": ADMINISTRATIONS,
    "labReports": LAB_REPORTS,
    "payerClaims": CLAIMS,
}

# What the patient's fills are read from: the pharmacy's dispensing records and the payer's claims (a pharmacy claim
# is a fill), so a card that states an absence of fills says so when either was not read, naming the one not read.
FILLED = (FILLS, CLAIMS)

# What a patient's medicines are read from: the opioid history, naloxone on hand, OUD medication.
MEDICINES = (*FILLED, ORDERS, ORDER_HISTORY, STATEMENTS, ADMINISTRATIONS)
# What the current total daily dose (MME) is read from: current orders and the reported medications counted in it,
# the past orders that end, renew or stand for one (their fills), and the current fills no counted order stands for.
CURRENT_DOSE = (ORDERS, ORDER_HISTORY, *FILLED, STATEMENTS)
# What a urine drug test is read from: results, reports, a test done as a procedure (charted, or billed to the payer:
# a claim's CPT 80305-80307 or HCPCS G0480-G0483 line is one), a screen already ordered.
DRUG_TESTS = (LAB_RESULTS, LAB_REPORTS, PROCEDURES, CLAIMS, SERVICE_REQUESTS)

# Added to the summary of a card whose absence may be wrong: the clinician reads the summary first.
MARK = " (records incomplete)"
# What a "Based on" line names when none of its data was read (`Unread.basis`).
NOTHING_NAMED = "what could be read"
COULD_NOT_CHECK = "**Could not check:**"


def _parts(summary: str, unread: bool) -> tuple[str, str]:
    """The summary without MARK, and the mark it is to end with: MARK when data it rests on was not read or it
    already carries it (a mark is never dropped, and never doubled)."""
    return summary.removesuffix(MARK), MARK if unread or summary.endswith(MARK) else ""


def marked(summary: str, unread: bool) -> str:
    """The summary with MARK when data it rests on was not read, cut before the mark (never through it) to leave it
    room on an EHR card; one that carries it already is not marked again."""
    plain, mark = _parts(summary, unread)
    return clip(plain, SUMMARY_LIMIT - len(mark)) + mark


def fitted(candidates: Iterable[str], unread: bool, fallback: str | None = None) -> str:
    """The first of `candidates` (most specific first, made only as far as needed: a generator is read lazily) that
    fits an EHR card with MARK after it when data it rests on was not read; else `fallback` (by default the last
    candidate) `marked`. The one rule every check that marks its summary follows: a shorter wording is chosen before
    anything is cut, and the mark is never cut, never doubled, and never pushes a summary past SUMMARY_LIMIT."""
    last = fallback
    for candidate in candidates:
        plain, mark = _parts(candidate, unread)
        if len(plain) + len(mark) <= SUMMARY_LIMIT:
            return plain + mark
        if fallback is None:
            last = candidate
    if last is None:
        raise ValueError("a summary needs at least one wording")
    return marked(last, unread)


def could_not_check(unread: Mapping[str, str], kinds: Iterable[str], missing: str) -> str:
    """ "**Could not check:** pharmacy fills and current medication orders could not be read (the FHIR server answered
    HTTP 401), so opioid use in the past 90 days may be missing."; "" when every kind was read. Kinds that failed
    for one reason are named together, in the order given."""
    by_why: dict[str, list[str]] = {}
    for kind in kinds:
        if kind in unread:
            by_why.setdefault(unread[kind], []).append(LABELS[kind])
    if not by_why:
        return ""
    said = "; ".join([f"{and_list(labels)} could not be read ({why})" for why, labels in by_why.items()])
    return f"{COULD_NOT_CHECK} {said}, so {missing} may be missing."


@dataclass(frozen=True)
class Source:
    """Data a card's "Based on" line names, worded as read in full (`words`), read in part (`partly`: "the current
    pharmacy fills read …") and none read (`alone`: what it still names then, such as today's drafts, which come with
    the call; "" names nothing). `kinds`: what it is read from (none: it is always there, such as the MME total);
    `some_read`: whether any of it was read, which tells in part from none."""

    words: str
    kinds: tuple[str, ...] = ()
    some_read: bool = False
    partly: str = ""
    alone: str = ""


@dataclass(frozen=True)
class Unread:
    """The kinds of data one check rests on that the face could not read, in the check's order, and why: all a check
    needs to say so on its card (made by `Facts.not_read`)."""

    why: tuple[tuple[str, str], ...] = ()  # (kind, why), only the kinds not read

    @classmethod
    def among(cls, unread: Mapping[str, str], kinds: Iterable[str]) -> Unread:
        """Which of `kinds` are in `unread` (kind -> why), in the order asked."""
        if not unread:  # the usual call: everything read
            return _ALL_READ
        # A list made in one call, not a generator resumed once a kind: every check asks this on every call.
        return cls(tuple([(kind, unread[kind]) for kind in kinds if kind in unread]))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple([kind for kind, _ in self.why])

    @property
    def any(self) -> bool:
        return bool(self.why)

    def __bool__(self) -> bool:
        # `if unread:` asks the same as `.any`: without this every Unread, the empty one too, would be true.
        return bool(self.why)

    @property
    def where(self) -> str:
        """What an absence adds when some of its data was not read: "No evaluation was found in what could be read"."""
        return " in what could be read" if self.any else ""

    def fitted(self, *candidates: str) -> str:
        """The card's summary: the first wording that fits with MARK when some of its data was not read (`fitted`)."""
        return fitted(candidates, self.any)

    def of(self, *kinds: str) -> Unread:
        """Only those of `kinds` not read, in that order: for a card that names two absences apart."""
        return Unread.among(dict(self.why), kinds)

    def paragraph(self, missing: str) -> str:
        """The card's "**Could not check:** …" paragraph (`could_not_check`); "" when every kind was read."""
        return could_not_check(dict(self.why), self.kinds, missing)

    def basis(self, sources: Iterable[Source]) -> tuple[tuple[str, ...], str]:
        """The sources as a "Based on" line names them (NOTHING_NAMED when none was read), and what it adds of those
        not read ("; pharmacy fills could not be read", "; not all current medication orders could be read"; "" when
        all were read): the one rule every basis follows, so that none claims data PainPlan could not read (never
        silent)."""
        if not self.why:  # the usual call: every source read, each named in its own words
            return tuple(filter(None, [source.words for source in sources])) or (NOTHING_NAMED,), ""
        unread = dict(self.why)
        named: list[str] = []
        none: dict[str, None] = {}
        part: dict[str, None] = {}
        for source in sources:
            missed = [LABELS[kind] for kind in source.kinds if kind in unread]
            if not missed:
                named.append(source.words)
                continue
            named.append(source.partly if source.some_read else source.alone)
            (part if source.some_read else none).update(dict.fromkeys(missed))
        partly = [label for label in part if label not in none]  # a kind none of was read is said so once
        gaps = [f"{and_list(list(none))} could not be read"] if none else []
        gaps += [f"not all {and_list(partly)} could be read"] if partly else []
        return tuple(filter(None, named)) or (NOTHING_NAMED,), "".join(f"; {gap}" for gap in gaps)

    def grouped(self, *groups: Sequence[Source]) -> tuple[tuple[tuple[str, ...], ...], str]:
        """`basis` of a line that names its data in groups ("…; … and …"): each group's names, and one clause for
        what was not read of any."""
        _, gaps = self.basis([source for group in groups for source in group])
        return tuple([self.basis(group)[0] for group in groups]), gaps


# What `Unread.among` answers when every kind was read.
_ALL_READ = Unread()
