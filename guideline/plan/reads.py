"""Which of the page's FHIR searches each piece of step evidence and each status tile rests on, and the words for a
search not read in full: evidence that a failed search might have held is "not known", never "none on record", and
nothing is due on the strength of it (never silent)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from guideline.plan.model import PLACES, QueryStatus
from guideline.search_windows import Window
from guideline.words import and_list


@dataclass(frozen=True)
class Reads:
    """The searches a piece of evidence rests on: each of `needed` could alone hold it, so any one not read leaves it
    unknown; of `either`, each holds it all (the coded and the survey score searches both return a PEG), so it is
    unknown only when none of those made was read."""

    needed: tuple[str, ...] = ()
    either: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return (*self.needed, *self.either)

    def where(self, statuses: Mapping[str, QueryStatus], listed: Window | None = None) -> str:
        """Where these searches looked: "in the last 2 years" when one made looks back only so far (the shortest such
        window: beyond it, any of them may hold one unseen), else "on record". `listed` is the window a section lists
        itself (scores, therapies: 24 months), so a search a site widened never has the page say "none in the last
        1000 days" of one the list left out. An agreement signed 33 months ago, with documents searched 2 years back,
        read as never signed."""
        windows = [s.window for k in self.keys if (s := statuses.get(k)) is not None and s.window]
        windows += [listed] if listed is not None else []
        if not windows:
            return "on record"
        return f"in the last {min(windows, key=lambda w: w.shortest_days()).words}"

    def none_found(self, statuses: Mapping[str, QueryStatus], listed: Window | None = None) -> str:
        """What finding none of it means, said where it was looked for (`where`): "none in the last 2 years"."""
        return f"none {self.where(statuses, listed)}"

    def not_read(self, statuses: Mapping[str, QueryStatus]) -> tuple[QueryStatus, ...]:
        """The searches made and not read in full (failed, or cut off at the page limit) that leave it unknown; ()
        when it is known."""
        missing = [statuses[k] for k in self.needed if k in statuses and not statuses[k].read_in_full]
        made = [statuses[k] for k in self.either if k in statuses]
        if made and not any(s.read_in_full for s in made):
            missing.extend(made)
        return tuple(missing)

    def unread(self, statuses: Mapping[str, QueryStatus]) -> str:
        """The words naming the searches it could not be read from (`unread_words`); "" when it is known."""
        return unread_words(self.not_read(statuses))


# How far back the plan page reads charts and history: its dated searches (encounters and lab results aside, and each
# widened where a check reads further: page_windows) and the lists they fill (scores, screens, non-opioid therapies).
# Defined once, so a list never says "none in the last 2 years" of searches its labels say looked back another span.
CHART_WINDOW = Window(2, "years")
CHART_MONTHS = CHART_WINDOW.amount * 12
NONE_IN_CHART_WINDOW = f"none in the last {CHART_WINDOW.words}"

# Urine drug test results: lab results (or the site's own search), lab reports and the results those name.
UDS_RESULTS = ("labs", "uds_labs", "reports", "report_results")
# What the patient takes: orders (recent and active), pharmacy fills and the payer claims that stand for fills (searched
# where a site turns them on), the Medications they name, what they report.
MEDICINES = ("orders", "active_orders", "dispenses", "claims", "medications", "statements")
SIGNED_DOCUMENTS = Reads(("documents", "consents"))
# The searches each list of the non-opioid section rests on: covered services, and first-line medicines.
SERVICE_READS = ("procedures", "service_requests")
MEDICINE_READS = ("orders", "active_orders", "medications")
# Everything the guideline checks read (the hooks' prefetch, and the Locations of recent visits the hospice exclusion
# reads): the alerts section rests on all of it, since a search or place not read can cost a card or let one show that
# the exclusion would have taken away. Goals, consents and questionnaire scores are read by the page alone.
CHECKS_READ = (
    "patient",
    *MEDICINES,
    "administrations",
    "conditions",
    "encounters",
    "procedures",
    *UDS_RESULTS,
    "service_requests",
    "coded_scores",
    "care_plans",
    "documents",
    PLACES,
)

# Keyed by the status tile (Task.key) or the step evidence it names. Searches a site does not turn on are listed too:
# only a search that was made counts.
EVIDENCE_READS: dict[str, Reads] = {
    # A result, a drug test procedure (charted, or billed on a payer claim), or an order pending (which makes the tile
    # "ordered", not due).
    "uds": Reads((*UDS_RESULTS, "procedures", "claims", "service_requests")),
    # A review procedure, or a review finding or flowsheet row (asked for by code with the scores).
    "pdmp": Reads(("procedures", "coded_scores")),
    # An evaluation procedure, or an evaluation ordered and pending.
    "reassessment": Reads(("procedures", "service_requests")),
    "naloxone": Reads(("orders", "active_orders", "dispenses", "claims", "medications")),
    "agreement": SIGNED_DOCUMENTS,
    "consent": SIGNED_DOCUMENTS,
    "scores": Reads(either=("coded_scores", "surveys")),
    "goals": Reads(("goals",)),
    "decision": Reads(("care_plans",)),
    "nonopioid": Reads((*SERVICE_READS, *MEDICINE_READS)),
    # A diagnosis of any status: charted, or billed on a payer claim.
    "oud": Reads(("conditions", "claims")),
    "oud_treatment": Reads((*MEDICINES, "administrations", "procedures")),
    "risks": Reads((*MEDICINES, "conditions", "patient", *UDS_RESULTS)),
    # Whether the patient is on opioid therapy at all: a tile "not needed now" rests on it.
    "opioid_therapy": Reads(MEDICINES),
    # Whether opioids were started or the dose raised since the last reassessment, which makes it due again 1–4 weeks
    # after: a reassessment found up to date rests on it (tasks.UNDONE_BY).
    "dose_change": Reads(MEDICINES),
}
TILE_KEYS = ("uds", "pdmp", "reassessment", "naloxone", "agreement", "consent")


def all_keys(names: Iterable[str]) -> tuple[str, ...]:
    """The searches the named evidence rests on, each once, in order (a section's list of what it queried)."""
    return tuple(dict.fromkeys(key for name in names for key in EVIDENCE_READS[name].keys))


# A section asks by the evidence it names (EVIDENCE_READS) or by searches of its own list (non-opioid therapies, risk
# factors, drug tests): the names below are Reads' rules asked the one way or the other, never a copy of them.


def none_found(name: str, statuses: Mapping[str, QueryStatus], listed: Window | None = None) -> str:
    """`Reads.none_found` for the named evidence: "none in the last 2 years", else "none on record"."""
    return EVIDENCE_READS[name].none_found(statuses, listed)


def where_found(name: str, statuses: Mapping[str, QueryStatus], listed: Window | None = None) -> str:
    """`Reads.where` for the named evidence: "in the last 2 years", else "on record"."""
    return EVIDENCE_READS[name].where(statuses, listed)


def none_within(keys: Iterable[str], statuses: Mapping[str, QueryStatus], listed: Window | None = None) -> str:
    """`Reads.none_found` for the searches `keys`."""
    return Reads(tuple(keys)).none_found(statuses, listed)


def _labels(statuses: Sequence[QueryStatus]) -> str:
    return and_list([s.label for s in statuses])


def unread_words(statuses: Sequence[QueryStatus]) -> str:
    """ "Documents (2 years) could not be read", a search cut off "could not be read in full (cut off at the page
    limit)"; "" when every search was read."""
    failed = [s for s in statuses if not s.ok]
    cut = [s for s in statuses if s.ok and s.truncated]
    said = []
    if failed:
        said.append(f"{_labels(failed)} could not be read")
    if cut:
        said.append(f"{_labels(cut)} could not be read in full (cut off at the page limit)")
    return "; ".join(said)


def unread_of(keys: Iterable[str], statuses: Mapping[str, QueryStatus]) -> str:
    """`Reads.unread` for the searches `keys`: those made and not read in full, in words; "" when all were read."""
    return Reads(tuple(keys)).unread(statuses)


def unread(name: str, statuses: Mapping[str, QueryStatus]) -> str:
    """`Reads.unread` for the named evidence; "" when it is known."""
    return EVIDENCE_READS[name].unread(statuses)
