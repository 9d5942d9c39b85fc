"""The whole plan from one engine evaluation: each section built in isolation, its failure shown in it alone."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from guideline.config import GuidelineConfig
from guideline.mme import MmeSummary
from guideline.named_gaps import IN_NOTE, ON_PAGE, ON_PLAN, worded
from guideline.plan.alerts import build_alerts
from guideline.plan.banner import build_banner
from guideline.plan.medications import build_medications, mme_now
from guideline.plan.mme_history import MmeHistory, build_mme_history
from guideline.plan.model import PlanView, QueryStatus, Section
from guideline.plan.nonopioid import build_nonopioid
from guideline.plan.note import note_text
from guideline.plan.oud import build_oud
from guideline.plan.reads import CHECKS_READ, EVIDENCE_READS, MEDICINES, TILE_KEYS, all_keys
from guideline.plan.resources import build_resources
from guideline.plan.risks import build_risks
from guideline.plan.scores import build_scores
from guideline.plan.steps import build_steps, exclusion_reason, not_applicable_tasks
from guideline.plan.tapering import TaperRequest, build_taper
from guideline.plan.tasks import build_tasks
from guideline.plan.uds_history import build_uds

if TYPE_CHECKING:
    from guideline.engine import Evaluation

# The searches each section reads, so a failed or truncated one is noted in the sections it affects. The searches a
# site turns on (statements, administrations, reports) are listed too: a section only notes a search that was made.
# tests/test_plan_section_searches.py fails each search in turn and finds every section whose content it changed here.
SECTION_QUERIES: dict[str, tuple[str, ...]] = {
    "banner": ("patient",),
    # The status tiles and the steps: the searches their evidence rests on (guideline.plan.reads).
    "tasks": all_keys(("opioid_therapy", *TILE_KEYS)),
    # The cards: any search the checks read can cost one (as on the hook's data-incomplete card).
    "alerts": CHECKS_READ,
    # Current orders, the old orders still active, pharmacy fills no order stands for, the Medications orders name
    # and what patients report taking: each can hold a current opioid, so each can change the MME total.
    "medications": MEDICINES,
    "mme_history": MEDICINES,
    "scores": ("coded_scores", "surveys"),
    # The naloxone card's own readings: medicines (dose, sedatives, OUD treatment), conditions, age, drug tests.
    "risks": all_keys(("risks", "oud_treatment")),
    # Results, drug tests done as procedures and pending orders; judged against what is prescribed or given.
    "uds": tuple(dict.fromkeys((*all_keys(("uds",)), *MEDICINES, "administrations"))),
    "nonopioid": all_keys(("nonopioid",)),
    "oud": all_keys(("oud", "oud_treatment")),
    "taper": MEDICINES,
    "resources": (),
    "steps": all_keys(EVIDENCE_READS),
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
    "steps": "Treatment planning steps",
}

# Page order; the status strip comes first but needs the MME history, so those two are built before it.
SECTION_ORDER = (
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
BUILT_FIRST = ("medications", "mme_history")


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
    evaluation: Evaluation,
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
    built: dict[str, Section] = {}

    def history() -> MmeHistory:
        return build_mme_history(facts, compute_mme)

    def history_built() -> MmeHistory | None:
        """The MME history section's content, None when it could not be built (the tiles resting on it say so)."""
        section = built.get("mme_history")
        return section.content if section is not None and section.error is None else None

    @cache
    def mme_today() -> MmeSummary:
        """The daily MME the patient takes now, worked out once for the page: the medications, the status tiles and
        the tapering calculator read it (inside their own section, so its failure is shown there)."""
        return mme_now(facts)

    plan_builders: dict[str, Callable[[], Any]] = {
        "alerts": lambda: build_alerts(evaluation, [statuses[k] for k in CHECKS_READ if k in statuses]),
        "medications": lambda: build_medications(facts, mme_today()),
        "mme_history": history,
        "tasks": lambda: build_tasks(facts, history_built(), mme_today(), statuses),
        "scores": lambda: build_scores(facts, statuses),
        "risks": lambda: build_risks(facts, statuses),
        "uds": lambda: build_uds(facts, statuses),
        "nonopioid": lambda: build_nonopioid(facts, statuses),
        "oud": lambda: build_oud(facts, oud_checked),
        "taper": lambda: build_taper(facts, taper_request or TaperRequest(), mme_today()),
        "resources": lambda: build_resources(config),
    }
    plan_builders.update(builders or {})
    banner = _guard("banner", (builders or {}).get("banner") or (lambda: build_banner(facts)), statuses)
    built.update({key: _guard(key, plan_builders[key], statuses) for key in BUILT_FIRST})
    sections = tuple(built.get(key) or _guard(key, plan_builders[key], statuses) for key in SECTION_ORDER)
    reason = exclusion_reason(facts.exclusions)
    if reason:  # an excluded patient: nothing is due, and no tile shows red
        sections = tuple(
            Section(s.key, s.title, not_applicable_tasks(s.content, reason), s.error, s.queried)
            if s.key == "tasks" and s.content
            else s
            for s in sections
        )
    by_key = {s.key: s for s in sections}
    steps_builder = (builders or {}).get("steps") or (lambda: build_steps(facts, by_key, statuses))
    steps = _guard("steps", steps_builder, statuses)
    sections = (*sections, steps)
    by_key["steps"] = steps
    by_key["banner"] = banner
    view = PlanView(
        banner=banner,
        sections=sections,
        completeness=tuple(fetch_status),
        now=now,
        profile=config.profile,
        page_kinds=worded(ON_PAGE, config),
        note_kinds=worded(IN_NOTE, config),
        problems=len(facts.record.problems),
        unreadable=tuple(f"{p.describe()}: {p.reason}" for p in facts.record.problems),
        named={kind.key: kind.items(facts) for kind in ON_PLAN},
        by_key=by_key,
    )
    return PlanView(**{**view.__dict__, "note": note_text(view)})
