"""The plan page blueprint: bounded parallel FHIR reads on the server, the engine, then one rendered page."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, has_app_context, render_template, request

from guideline import unread_data as kinds
from guideline.checks.urine_drug_test import report_months
from guideline.config import GuidelineConfig
from guideline.engine import HookContext, evaluate
from guideline.exclusions import HOSPICE_PLACES, hospice_place_days, unread_places_matter
from guideline.named_gaps import UNDATED_HOSPICE_CLAIMS
from guideline.plan import (
    OrderFocus,
    PlanView,
    QueryStatus,
    TaperRequest,
    build_plan,
    drafts_from_app_context,
    named_orders,
    order_focus,
)
from guideline.plan.model import PLACES, RESULT_READS
from guideline.plan.reads import CHART_WINDOW
from guideline.plan.scores import PEG_ITEMS, PEG_MEAN, PEG_PANEL
from guideline.plan.screens import GAD7_TOTAL, PANELS, PHQ9_TOTAL
from guideline.plan.uds_history import lab_months
from guideline.population.claims import CLAIMS_UNREAD, HookClaims, claims_read_for_a_hook
from guideline.record import (
    NOT_A_MEDICATION_ID,
    ON_ANOTHER_SERVER,
    build_record,
    elsewhere_references,
    medication_references,
    readable_medication_references,
)
from guideline.record.pool import UNREADABLE_REASON, located_id, named_in
from guideline.record.release_names import names_read_as
from guideline.report_results import (
    REPORT_RESULTS,
    ResultReads,
    each_result,
    not_read_words,
    plan_result_reads,
    read_outcome,
)
from guideline.search_windows import CLAIMS_WINDOW, Window, reader_windows, widest
from guideline.searches import FILLS_PREPARED, RESULTS_ISSUED, SecondDate, ask_again, render, site_uds_query
from guideline.terminology import load_terminology, pdmp_search_codes
from guideline.words import capitalised, first_listed
from smart_app import svg_charts
from smart_app.config import Settings, read_budget
from smart_app.markdown_text import markdown_html
from smart_app.write.page_panel import ask_version, panel_for

log = logging.getLogger(__name__)

# A card's SMART link names a view in appContext (guideline 10.x); it only chooses which section opens in focus.
VIEW_SECTIONS: dict[str, str] = {
    "plan": "steps",
    "plan-start": "step-initiate",  # the treatment-plan card: where a plan is started (consent and agreement first)
    "mme": "medications",
    "medications": "medications",
    "history": "mme_history",
    "risk": "risks",
    "uds": "uds",
    "oud": "oud",
    "taper": "taper",
}
# Medication/<id> reads per page beyond the current ones (medication_reads): more would only slow the page down.
MEDICATION_READ_CAP = 40
# Orders and fills dated in this many days are current enough that their Medication is always read, past the cap:
# the hooks' 13-month window for recent orders and a month's supply more.
CURRENT_MEDICATION_DAYS = 395
# Statuses of an order (or a draft) that is current whatever its date: its Medication is always read.
CURRENT_ORDER_STATUSES = frozenset({"active", "on-hold", "draft"})

# The payer claims read that stood for nothing the record reads, or for hospice care on no day, on the panel.
CLAIMS_LEFT_OUT = "claims_left_out"

# What each search is, as the data-completeness panel names it; a dated one's label adds its window (QUERY_LABELS).
SEARCH_NAMES: dict[str, str] = {
    "patient": "Patient demographics",
    "orders": "Medication orders",
    "active_orders": "Active medication orders",
    "dispenses": "Pharmacy dispenses",
    "labs": "Laboratory results (13 months)",
    "uds_labs": "Urine drug test results (this site's search)",
    "surveys": "Questionnaire scores",
    "coded_scores": "PEG and pain scores, PDMP findings, PHQ-9 and GAD-7",
    "conditions": "Conditions",
    "procedures": "Procedures",
    "encounters": "Encounters",
    "service_requests": "Referrals and service orders",
    "care_plans": "Care plans",
    "documents": "Documents",
    "consents": "Consents",
    "goals": "Goals",
    "statements": "Medications the patient reports taking",
    "administrations": "Medicines given in clinic",
    "reports": "Laboratory reports (the urine drug test window)",
    "claims": "Payer claims",
    CLAIMS_LEFT_OUT: "Payer claims not counted",
    "medications": "Medication details",
    RESULT_READS: capitalised(REPORT_RESULTS),  # the card's words, as a label
    PLACES: capitalised(HOSPICE_PLACES),  # the card's words (guideline.exclusions), as a label
}

# The hooks' prefetch key each page search stands for (guideline.unread_data.KEY_KINDS gives the kind of data it
# holds): a search not read in full makes the page's cards that state an absence of it say so, as the hook's cards do.
HOOK_KEYS: dict[str, str] = {
    "active_orders": "medsActive",
    "orders": "medsRecent",
    "dispenses": "dispenses",
    "labs": "udsLabs",
    "uds_labs": "udsLabs",  # the site's own urine drug test search, which the hooks run as udsLabs
    "coded_scores": "pdmpObs",
    "conditions": "conditions",
    "procedures": "procedures",
    "encounters": "encounters",
    "service_requests": "serviceRequests",
    "care_plans": "carePlans",
    "documents": "planNotes",
    "statements": "medStatements",
    "administrations": "medAdministrations",
    "reports": "labReports",
    "report_results": "labReports",  # the results the reports name
    "claims": "payerClaims",
}
# The page's dated searches and their fixed windows. Each is widened as the hooks' prefetch key it stands for
# (HOOK_KEYS: one table, so a search cannot be given a key in one and forgotten in the other) is widened by its
# readers (guideline.search_windows), so a site reading hospice discharges over 24 months has the page search 24
# months of encounters, not 13. Its label names the window searched.
PAGE_WINDOWS: dict[str, Window | None] = {
    "orders": CHART_WINDOW,
    "dispenses": CHART_WINDOW,
    "coded_scores": CHART_WINDOW,
    "procedures": CHART_WINDOW,
    "encounters": Window(13, "months"),
    "service_requests": CHART_WINDOW,
    "documents": CHART_WINDOW,
    "surveys": CHART_WINDOW,  # no hook searches questionnaires and no check reads them: never widened
    "administrations": None,  # only its readers' windows: searched as the hooks search
    "claims": CLAIMS_WINDOW,  # the hooks' dated claims search's floor, widened as theirs is
}
# The page's searches made only where the site turns them on, by their `prefetch` setting.
TURNED_ON_BY: dict[str, str] = {
    "administrations": "medication_administrations",
    "claims": "payer_claims",
}


def _labelled(key: str, window: Window | None) -> str:
    """A search's label: its name, with the window it looks back over ("Documents (2 years)")."""
    return f"{SEARCH_NAMES[key]} ({window.words})" if window is not None else SEARCH_NAMES[key]


# (key, label shown to the clinician) with each dated search's fixed window; query_labels widens them as a site's
# settings do.
QUERY_LABELS: dict[str, str] = {key: _labelled(key, PAGE_WINDOWS.get(key)) for key in SEARCH_NAMES}


def page_windows(config: GuidelineConfig | None) -> dict[str, Window]:
    """Each dated page search's window: its fixed one, widened to the widest its readers judge. A search a site
    turns on (TURNED_ON_BY: administrations, payer claims) only where it does."""
    readers = reader_windows(config) if config is not None else {}
    on = {key for key, setting in TURNED_ON_BY.items() if config is not None and config["prefetch"].get(setting)}
    return {
        key: widest(floor, readers.get(HOOK_KEYS.get(key, ""), ()))
        for key, floor in PAGE_WINDOWS.items()
        if key not in TURNED_ON_BY or key in on
    }


# Why the site's own urine drug test search was not run; the laboratory search stands in for it.
UDS_QUERY_NOT_FILLED = (
    "this site's urine drug test search (prefetch.uds_query) could not be filled in for this patient, so it was not "
    "run; the laboratory results were searched instead"
)


def site_uds_search(patient_id: str, today: date, config: GuidelineConfig | None) -> tuple[str | None, str | None]:
    """The site's urine drug test search (`prefetch.uds_query`) filled in for this patient, and why it could not be
    (None, the reason): the configuration check fills it with a placeholder patient and date, but a launch's own
    patient id may not fill it ("." is a FHIR id, not a path segment). Nothing set: (None, None)."""
    template = site_uds_query(config) if config is not None else None
    if template is None:
        return None, None
    try:
        search = render(template, {"patientId": patient_id}, today)
    except (ValueError, OverflowError):  # a date the template reaches back to that cannot be written
        search = None
    return (search, None) if search else (None, UDS_QUERY_NOT_FILLED)


def uds_search_status(
    patient_id: str, today: date, config: GuidelineConfig | None, labels: Mapping[str, str] = QUERY_LABELS
) -> QueryStatus | None:
    """The site's urine drug test search as a failed line on the data-completeness panel when it could not be run
    for this patient (the sections and tiles resting on it then say "not known"); None when it ran or is not set."""
    _, problem = site_uds_search(patient_id, today, config)
    if problem is None:
        return None
    template = site_uds_query(config) if config is not None else ""
    query = (template or "").split("?", 1)[0] + "?…"
    return QueryStatus("uds_labs", labels.get("uds_labs", "uds_labs"), query, 0, False, problem)


def plan_queries(patient_id: str, today: date, config: GuidelineConfig | None = None) -> dict[str, str]:
    """Date-limited searches: 2 years for charts and history, 13 months for encounters, each longer where a check's
    or exclusion's setting reads further back (page_windows), and for laboratory results
    the months the urine drug test checks read and one more (lab_months: 13 by default). Each setting that
    changes what the hooks search changes these alike (tests/test_page_searches_as_hooks.py): the coded scores also
    ask for the hooks' PDMP codes and the site's own (`pdmp.review_codes`); medication statements and
    administrations are asked for when the hooks ask for them (`prefetch.medication_statements`,
    `prefetch.medication_administrations`), administrations in the window `oud-treatment` reads, their only reader;
    lab reports likewise (`prefetch.diagnostic_reports`), in the months the urine drug test checks read; payer claims
    (`prefetch.payer_claims`) in the window the hooks' dated claims search asks for (page_windows); and the
    site's own urine drug test search (`prefetch.uds_query`) replaces the laboratory search, run as the hooks run it."""
    optional = {}
    # Not filled in, the laboratory search runs instead and fetch_page_input names the site's as not read.
    uds_search, _ = site_uds_search(patient_id, today, config)
    if config is not None and config["prefetch"].get("medication_statements"):
        optional["statements"] = f"MedicationStatement?patient={patient_id}&_count=100"  # as the hooks ask
    # One table of windows for the searches and for what the page says none found means (query_windows).
    since_of = {key: window.start(today).isoformat() for key, window in query_windows(config).items()}
    if "administrations" in since_of:  # page_windows has it only where the site turns administrations on
        optional["administrations"] = (
            f"MedicationAdministration?patient={patient_id}&effective-time=ge{since_of['administrations']}&_count=100"
        )
    if config is not None and config["prefetch"].get("diagnostic_reports"):
        optional["reports"] = (
            f"DiagnosticReport?patient={patient_id}&category=LAB&date=ge{since_of['reports']}&_count=100"
        )
    if "claims" in since_of:  # query_windows has it only where the site turns payer claims on
        optional["claims"] = f"ExplanationOfBenefit?patient={patient_id}&service-date=ge{since_of['claims']}&_count=100"
    p = patient_id
    labs = (
        {"uds_labs": uds_search}
        if uds_search
        else {"labs": f"Observation?patient={p}&category=laboratory&date=ge{since_of['labs']}&_count=100"}
    )
    return {
        "patient": f"Patient/{p}",
        "orders": f"MedicationRequest?patient={p}&authoredon=ge{since_of['orders']}&_count=100",
        "active_orders": f"MedicationRequest?patient={p}&status=active&_count=100",
        "dispenses": f"MedicationDispense?patient={p}&whenhandedover=ge{since_of['dispenses']}&_count=100",
        **labs,
        "surveys": f"Observation?patient={p}&category=survey&date=ge{since_of['surveys']}&_count=100",
        "coded_scores": (
            f"Observation?patient={p}&code=http://loinc.org|72514-3,http://loinc.org|38208-5,"
            f"{pdmp_search_codes(config)},"
            f"http://loinc.org|{PHQ9_TOTAL},http://loinc.org|{GAD7_TOTAL},"
            # A PHQ-9 or GAD-7 panel whose own value is its total is read as the screen (guideline.plan.screens):
            # asked for here too, so it is found when the questionnaire search is not read.
            + "".join(f"http://loinc.org|{code}," for code in PANELS)
            + f"http://loinc.org|{PEG_MEAN},http://loinc.org|{PEG_PANEL},"
            # A PEG recorded as its three items is read from them (guideline.plan.scores): asked for here too, so it
            # is known when the questionnaire search is not read.
            + ",".join(f"http://loinc.org|{code}" for code in PEG_ITEMS)
            + f"&date=ge{since_of['coded_scores']}&_count=100"
        ),
        "conditions": f"Condition?patient={p}&_count=100",
        "procedures": f"Procedure?patient={p}&date=ge{since_of['procedures']}&_count=100",
        "encounters": f"Encounter?patient={p}&date=ge{since_of['encounters']}&_count=100",
        "service_requests": f"ServiceRequest?patient={p}&authored=ge{since_of['service_requests']}&_count=100",
        "care_plans": f"CarePlan?patient={p}&_count=50",
        "documents": f"DocumentReference?patient={p}&date=ge{since_of['documents']}&_count=50",
        "consents": f"Consent?patient={p}&_count=50",
        "goals": f"Goal?patient={p}&_count=50",
        **optional,
    }


# The page's dated searches asked again on another date parameter (guideline.searches.SecondDate), as the hooks'
# dated prefetch asks them; the two answers are one search on the data-completeness panel.
# The site's own urine drug test search is asked again as the laboratory search is, when it is bounded by `date`.
SECOND_SEARCHES: dict[str, SecondDate] = {
    "dispenses": FILLS_PREPARED,
    "labs": RESULTS_ISSUED,
    "uds_labs": RESULTS_ISSUED,
}


def second_queries(queries: Mapping[str, str]) -> dict[str, str]:
    """The second search of each dated search in SECOND_SEARCHES the page makes, keyed "<key>:second"."""
    seconds = {key: second.of(queries[key]) for key, second in SECOND_SEARCHES.items() if key in queries}
    return {f"{key}:second": query for key, query in seconds.items() if query is not None}


def asked_again(client: Any, results: Mapping[str, Any], remaining: float) -> dict[str, Any]:
    """The search results with each second search the server refused as asked (FetchResult.refused: HTTP 400, or a
    parameter it did not understand) asked once more without its date bound, by the same client (its memory budget)
    within the page's `remaining` seconds; one that fails again keeps both reasons. Access refused, a server error or
    a timeout is not asked again."""
    retries = {
        key: retry
        for key, result in results.items()
        if key.endswith(":second")
        and result.refused
        and (retry := ask_again(SECOND_SEARCHES[key.removesuffix(":second")], result.query, result.error))
    }
    merged = dict(results)
    if not retries:
        return merged
    again = {key: retry.query for key, retry in retries.items()}
    for key, answer in client.fetch_all(again, max(0.0, remaining)).items():
        merged[key] = answer if answer.ok else replace(answer, error=retries[key].failed(answer.error))
    return merged


def _identity(resource: Mapping[str, Any]) -> str:
    """One resource however many searches returned it: its type and id on its server (`located_id`: an HIE's
    MedicationDispense/77 is not the EHR's, and merged by type and id alone one of the two fills was lost), or its
    whole content when it has no id."""
    return located_id(resource) or json.dumps(resource, sort_keys=True, default=str)


def merged_results(results: Mapping[str, Any]) -> dict[str, Any]:
    """The page's search results with each second search merged into its first: the resources of both, each once;
    read in full only if both were (a second search that failed leaves what only it finds unknown, and says what)."""
    merged = {key: result for key, result in results.items() if not key.endswith(":second")}
    for key, first in list(merged.items()):
        second = results.get(f"{key}:second")
        if second is None:
            continue
        seen = {_identity(r) for r in first.resources}
        extra = []
        for resource in second.resources:
            identity = _identity(resource)
            if identity not in seen:
                seen.add(identity)
                extra.append(resource)
        error = first.error  # the first failed: the whole search is unread, and its own error says why
        if first.ok and not second.ok:
            error = f"the search for {SECOND_SEARCHES[key].what}: {second.error or 'could not be read'}"
        merged[key] = replace(
            first,
            resources=(*first.resources, *extra),
            ok=first.ok and second.ok,
            error=error,
            truncated=first.truncated or second.truncated,
            pages=first.pages + second.pages,
        )
    return merged


# The taper form's fields by parameter, named as the form labels them (the message says which field to correct).
TAPER_FIELDS = {
    "rate": "Reduce by (%)",
    "interval": "Every",
    "basis": "Of the",
    "target": "Target MME/day",
    "pause_at": "Pause at (% of start)",
    "pause_intervals": "Pause length (intervals)",
}
_CHOICES = {
    "interval": (("week", "month"), "week or month"),
    "basis": (("original", "current"), "the starting dose or the current dose"),
}


class _TaperForm:
    """Reads the taper form's fields one by one, keeping each it cannot read (field, what was typed, why)."""

    def __init__(self, args: Mapping[str, str]) -> None:
        self.args = args
        self.unreadable: list[tuple[str, str, str]] = []

    def _refuse(self, name: str, typed: str, why: str) -> None:
        self.unreadable.append((name, typed, why))

    def number(self, name: str, default: Decimal | None, *, may_be_blank: bool = False) -> Decimal | None:
        """A number as typed; a trailing "%" is read as meant ("5%" is 5). Absent: `default` (the form's first
        showing); blank: None where a blank field means something (no pause), else unreadable."""
        raw = self.args.get(name)
        if raw is None:
            return default
        typed = raw.strip()
        if typed == "":
            if not may_be_blank:
                self._refuse(name, raw, f"{TAPER_FIELDS[name]} is empty.")
            return None if may_be_blank else default
        try:
            value = Decimal(typed.removesuffix("%").strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self._refuse(name, raw, f"{TAPER_FIELDS[name]}: “{typed[:40]}” is not a number.")
            return default
        return value

    def whole(self, name: str, default: int) -> int:
        """A whole number as typed (its range is the schedule's to judge and say); blank or absent: `default`."""
        typed = (self.args.get(name) or "").strip()
        if typed == "":
            return default
        try:
            return int(typed)
        except ValueError:
            self._refuse(name, typed, f"{TAPER_FIELDS[name]}: “{typed[:40]}” is not a whole number.")
            return default

    def choice(self, name: str, default: str) -> str:
        """One of a select list's values; anything else (a URL typed by hand) is unreadable."""
        typed = self.args.get(name)
        allowed, words = _CHOICES[name]
        if typed is None or typed in allowed:
            return typed or default
        self._refuse(name, typed, f"{TAPER_FIELDS[name]}: “{typed[:40]}” is not {words}.")
        return default


def taper_request(args: Mapping[str, str]) -> TaperRequest:
    """The taper form (GET). Absent fields take the form's defaults; a field that cannot be read is kept with what was
    typed and why, and no schedule is calculated (a default in its place would be a plan the clinician did not ask
    for). A range the schedule refuses (a rate of 0, a pause of 20 intervals) is passed on for it to say so."""
    form = _TaperForm(args)
    defaults = TaperRequest()
    rate = form.number("rate", defaults.rate_percent)
    target = form.number("target", defaults.target_mme)
    return TaperRequest(
        rate_percent=defaults.rate_percent if rate is None else rate,  # None only when unreadable: nothing is built
        interval=form.choice("interval", defaults.interval),
        basis=form.choice("basis", defaults.basis),
        target_mme=defaults.target_mme if target is None else target,
        pause_at_percent=form.number("pause_at", None, may_be_blank=True),
        pause_intervals=form.whole("pause_intervals", defaults.pause_intervals),
        unreadable=tuple(form.unreadable),
    )


@dataclass(frozen=True)
class PageInput:
    """Everything the page needs besides the network: resources by query and the fetch outcome."""

    resources: tuple[dict, ...]
    medications: tuple[dict, ...]
    statuses: tuple[QueryStatus, ...]
    results_not_received: tuple[tuple[str, str], ...] = ()  # report results sought and not read: (id, why)
    fhir_server: str | None = None  # the launch's iss: absolute Medication references are matched on it only


def assemble(
    page_input: PageInput,
    config: GuidelineConfig,
    patient_id: str,
    now: datetime,
    args: Mapping[str, str],
    user_id: str | None = None,
    encounter_id: str | None = None,
    snoozes: Sequence[Any] = (),
    drafts: Sequence[Mapping[str, Any]] = (),
) -> PlanView:
    """Record, engine and plan: the server-side build, without network (the benchmark times this). With the drafts a
    card's link carried, the page evaluates as the order-sign card did (the same findings, both totals)."""
    tz = ZoneInfo(config["timezone"])
    draft_orders = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]} if drafts else None
    record = build_record(
        page_input.resources,
        tz,
        draft_orders=draft_orders,
        extra_medications=page_input.medications,
        patient_id=patient_id,
        results_not_received=page_input.results_not_received,
        fhir_server=page_input.fhir_server,
    )
    hook = "order-sign" if drafts else "patient-view"
    context = HookContext(hook=hook, patient_id=patient_id, user_id=user_id, encounter_id=encounter_id)
    evaluation = evaluate(record, context, config, now, snoozes, unread=unread_kinds(page_input.statuses))
    checked = args.getlist("oud") if hasattr(args, "getlist") else ()
    statuses = page_input.statuses
    places = any(status.key == PLACES for status in statuses)
    if places and not unread_places_matter(evaluation.facts):  # the card's rule: excluded as hospice, a place is moot
        statuses = tuple(status for status in statuses if status.key != PLACES)
    return build_plan(evaluation, statuses, config, now, taper_request(args), checked)


SEARCH_KINDS: dict[str, str] = {search: kinds.KEY_KINDS[key] for search, key in HOOK_KEYS.items()}


def unread_kinds(statuses: Sequence[QueryStatus]) -> dict[str, str]:
    """The kinds of data the page's searches left unread (failed, or cut off at the page limit), each with why (the
    first search's, for a kind two searches hold)."""
    unread: dict[str, str] = {}
    for status in statuses:
        kind = SEARCH_KINDS.get(status.key)
        if kind is not None and not status.read_in_full:
            why = (status.error or "error") if not status.ok else "cut off at the page limit"
            unread.setdefault(kind, why)
    return unread


def charts(view: PlanView) -> dict[str, Any]:
    """The inline SVGs for the two chart sections (None when the section failed or has nothing to draw)."""
    drawn: dict[str, Any] = {"mme": None, "scores": None}
    history = view.by_key["mme_history"].content
    if history is not None:
        drawn["mme"] = svg_charts.line_chart(
            "mme-chart",
            "Daily MME over the past 12 months",
            f"Daily morphine milligram equivalents from {history.start} to {history.end}; "
            f"peak {history.peak.quantize(Decimal('0.1'))}, reference lines at 50 and 90 MME/day.",
            history.start,
            history.end,
            [svg_charts.Series("Opioids (MME/day)", tuple((p.day, p.value) for p in history.opioid), "series-a", True)],
            [svg_charts.ReferenceLine(50, "50 MME/day"), svg_charts.ReferenceLine(90, "90 MME/day", "ref-critical")],
            "MME/day",
        )
    scores = view.by_key["scores"].content
    if scores is not None and (scores.peg or scores.pain):
        drawn["scores"] = svg_charts.line_chart(
            "scores-chart",
            f"Pain and function scores over {CHART_WINDOW.words}",
            "PEG scores (mean of pain, enjoyment of life and general activity, 0–10) and pain intensity (0–10).",
            scores.start,
            scores.end,
            [
                svg_charts.Series("PEG", tuple((p.day, p.value) for p in scores.peg), "series-a"),
                svg_charts.Series("Pain intensity", tuple((p.day, p.value) for p in scores.pain), "series-b"),
            ],
            (),
            "score (0–10)",
            y_max=10,
        )
    return drawn


def render_page(
    view: PlanView,
    args: Mapping[str, str],
    link: Any,
    focus: str = "",
    handle: str = "",
    orders: OrderFocus | None = None,
    write: Any = None,
) -> str:
    """The page's HTML (needs a Flask request context for url_for); `orders` are the ones a card's link named,
    `write` the write-back panel (forms, results; None leaves the page read-only)."""
    return render_template(
        "plan.html",
        view=view,
        charts=charts(view),
        link=link,
        args=args,
        focus=focus,
        handle=handle,
        named=orders or OrderFocus(),
        print_full=args.get("print") == "full",
        write=write,
    )


def named_order_focus(view: PlanView, app_context: Any) -> OrderFocus:
    """The orders a card's SMART link names (the drafts being signed), matched to the current-opioid rows."""
    return order_focus(view.by_key["medications"].content, named_orders(app_context))


def query_labels(config: GuidelineConfig | None) -> dict[str, str]:
    """QUERY_LABELS with each search's window as the site's settings make it: the laboratory search's (lab_months)
    and each widened one's (page_windows), so the data-completeness panel names the months or days searched."""
    labels = dict(QUERY_LABELS)
    months = lab_months(config)
    if months != 13:
        labels["labs"] = f"Laboratory results ({months} months)"
    labels.update({key: _labelled(key, window) for key, window in page_windows(config).items()})
    return labels


def query_windows(config: GuidelineConfig | None) -> dict[str, Window]:
    """How far back each dated search looks (the windows its label names), so that a step or tile finding nothing
    says "none in the last 2 years", never "none on record" of what may be older. A search not listed has none."""
    windows: dict[str, Window] = {**page_windows(config), "labs": Window(lab_months(config), "months")}
    if config is not None:
        windows["reports"] = Window(report_months(config), "months")
    return windows


def _to_status(
    key: str, result: Any, labels: Mapping[str, str] = QUERY_LABELS, windows: Mapping[str, Window] | None = None
) -> QueryStatus:
    return QueryStatus(
        key=key,
        label=labels.get(key, key),
        query=result.query.split("?", 1)[0] + ("?…" if "?" in result.query else ""),
        items=len(result.resources),
        ok=bool(result.ok),
        error=result.error,
        truncated=bool(result.truncated),
        window=(windows or {}).get(key),
    )


def fetch_page_input(
    session: Any, settings: Settings, today: date, drafts: Sequence[Mapping[str, Any]] = ()
) -> PageInput:
    """All FHIR reads in parallel under one budget (with the second searches, SECOND_SEARCHES, merged into their
    first), then, together, the Medication reads that orders (and the drafts a card's link carried, as the hook read
    them) reference (medication_reads) and (where the site searches lab reports) the results
    urine drug test reports name and no search returned."""
    from cds_hooks.fhir_client import FhirClient

    config = settings.guideline
    client = FhirClient(
        session.iss,
        session.access_token,
        page_cap=int(config["prefetch"]["page_cap"]),
        allow_http=settings.allow_http,
    )
    budget = read_budget(settings)
    started = time.monotonic()
    queries = plan_queries(session.patient_id, today, config)
    answers = client.fetch_all(queries | second_queries(queries), budget)
    results = merged_results(asked_again(client, answers, budget - (time.monotonic() - started)))
    if session.access_token and token_refused(results.values()):
        from launch.session import TokenRefused

        raise TokenRefused  # the caller renews the token and reads again (launch.session.read_renewing)
    labels = query_labels(config)
    windows = query_windows(config)
    statuses = [_to_status(key, result, labels, windows) for key, result in results.items()]
    unfilled = uds_search_status(session.patient_id, today, config, labels)
    if unfilled is not None:
        statuses.append(unfilled)
    answered = [
        r for key, result in results.items() for r in answered_as_asked(result.resources, queries[key], labels[key])
    ]
    # Payer claims read as the hook reads them, as the fills, diagnoses and procedures they stand for.
    claims = claims_read_for_a_hook(answered)
    resources: list[dict] = list(claims.resources)
    left_out = claims_status(claims)
    if left_out is not None:
        statuses.append(left_out)
    wanted = medication_references([resources, list(drafts)], session.iss)
    # The hook's rule: only a plain Medication/<id> on the launch's server is read with the token; the orders of the
    # rest stay named (those on another server are not matched to this server's Medication of the same id either).
    readable = readable_medication_references(wanted)
    elsewhere = len(elsewhere_references(wanted))
    plan = (
        plan_result_reads(resources, load_terminology(config), session.iss)
        if "reports" in queries and session.access_token
        else ResultReads()
    )
    # The Locations of recent visits' places, read by the hook's rule (cds_hooks.place_reads): only a Location's type
    # may say a stay was at a hospice, and without them the card excluded a patient the page did not.
    places = _place_reads(session.iss, settings, today)
    place_reads = places.plan(resources, resources) if places is not None else {}
    if not wanted and not plan.reads and not plan.not_read and not place_reads:
        _name_places(places, statuses)
        return PageInput(tuple(resources), (), tuple(statuses), fhir_server=session.iss)
    to_read, left = medication_reads(readable, [*resources, *drafts], session.iss, today)
    reads = {f"med{i}": ref for i, ref in enumerate(to_read)}
    # plan_result_reads plans only plain Observation/<id> reads on the launch's server: a filter here could only drop
    # a result unnamed.
    reads |= {f"obs{i}": path for i, path in enumerate(plan.reads)}
    reads |= place_reads
    remaining = max(0.5, budget - (time.monotonic() - started))
    answers = client.fetch_all(reads, remaining)
    medications: list[dict] = []
    if wanted:
        unreadable = len(wanted) - len(readable) - elsewhere
        medications, status = _medications_read(answers, reads, left, unreadable, elsewhere)
        statuses.append(status)
    not_received = list(plan.not_read)
    for key, answer in answers.items():
        if key.startswith("obs"):
            error = None if answer.ok else answer.error or "could not be read"
            found, missed = read_outcome(reads[key], answer.resources, error)
            resources.extend(found)
            not_received.extend(missed)
        elif key.startswith("loc:") and places is not None:
            resources.extend(places.take(reads[key], answer))
    if places is not None:
        places.timed_out({key: ref for key, ref in place_reads.items() if key not in answers})
    _name_places(places, statuses)
    if plan.reads or plan.not_read:
        statuses.append(_results_status(len(plan.reads) + len(plan.not_read), not_received, plan.capped))
    return PageInput(
        tuple(resources), tuple(medications), tuple(statuses), each_result(not_received), fhir_server=session.iss
    )


def claims_status(claims: HookClaims) -> QueryStatus | None:
    """The payer claims that count for nothing, on the data-completeness panel as the card names them: those that
    stood for nothing PainPlan reads, by count, and each hospice claim with no day of care; None when there are none."""
    problems = [f"{claims.unread} {CLAIMS_UNREAD}"] if claims.unread else []
    problems += [f"{claim}: {UNDATED_HOSPICE_CLAIMS.why}" for claim in claims.undated_hospice]
    if not problems:
        return None
    count = claims.unread + len(claims.undated_hospice)
    return QueryStatus(
        CLAIMS_LEFT_OUT, QUERY_LABELS[CLAIMS_LEFT_OUT], "ExplanationOfBenefit", count, False, "; ".join(problems)
    )


def token_refused(results: Iterable[Any]) -> bool:
    """No search answered and the FHIR server refused at least one with 401: it no longer accepts the token (a
    403 is a scope the EHR did not grant, and one search answered is a token still accepted)."""
    answers = list(results)
    return bool(answers) and not any(a.ok for a in answers) and any(a.status == 401 for a in answers)


# The resource types a search's answer may hold besides the type it asks for: the types the record reads as it under
# another release's name (release_names: DSTU2's DiagnosticOrder, read as ServiceRequests, too), and the Medications
# an order search may include.
ANSWER_ALSO: dict[str, frozenset[str]] = {
    "MedicationRequest": names_read_as("MedicationRequest") | {"Medication"},
    "MedicationStatement": names_read_as("MedicationStatement") | {"Medication"},
    "MedicationDispense": frozenset({"Medication"}),
    "MedicationAdministration": frozenset({"Medication"}),
    "ServiceRequest": names_read_as("ServiceRequest"),
}


def answered_as_asked(resources: Sequence[dict], query: str, label: str) -> list[dict]:
    """A search's resources, each one of another type than the search asks for (or of no readable type) replaced by
    a stand-in the record names as unreadable: a Patient or a Bundle in the order search was skipped unseen, and an
    entry with no resourceType was dropped, taking its opioid out of the total on a page that looked complete."""
    asked = query.split("?", 1)[0].split("/", 1)[0]
    allowed = {asked, *ANSWER_ALSO.get(asked, ())}
    return [r if _type_of(r) in allowed else _stand_in(r, asked, label) for r in resources]


def _type_of(resource: Mapping[str, Any]) -> str | None:
    """A resource's resourceType when it is text (a list or an object there is no type)."""
    kind = resource.get("resourceType")
    return kind if isinstance(kind, str) else None


def _stand_in(resource: Mapping[str, Any], asked: str, label: str) -> dict[str, Any]:
    """What the record names for a resource of the wrong type in a search's answer: where it came from and why. An
    entry pooling already named (UNREADABLE_REASON: a failed batch answer, an entry with no resource) keeps its
    reason, with the search it came in: replaced by "no readable resourceType", why it was not read was lost."""
    if isinstance(resource.get(UNREADABLE_REASON), str):
        return dict(named_in(resource, f"in the answer to the search for {label}"))
    kind = resource.get("resourceType")
    what = f"a {kind[:40]}" if isinstance(kind, str) and kind else "an entry with no readable resourceType"
    stand_in: dict[str, Any] = {
        "resourceType": None,
        UNREADABLE_REASON: f"{what} in the answer to the search for {label}, which asks for {asked} only",
    }
    rid = resource.get("id")
    if kind != "Patient" and isinstance(rid, str):  # a Patient's id may be another patient's: never shown
        stand_in["id"] = rid[:64]
    return stand_in


def _medications_read(
    answers: Mapping[str, Any], reads: Mapping[str, str], left: int, unreadable: int, elsewhere: int = 0
) -> tuple[list[dict], QueryStatus]:
    """The Medications read (keys "med…", each reading the reference `reads` gives) and their line on the
    data-completeness panel, which names each read that failed (the first few by reference, as the places of recent
    visits are named), says how many references were not read at all because they are no Medication id or on another
    server, and whether `left` ones were not read for the cap (the orders of all of these are named as unidentified)."""
    mine = {key: answer for key, answer in answers.items() if key.startswith("med")}
    # Only Medications, as the hook keeps them: a read answered with another resource gave the page no Medication.
    medications = [r for answer in mine.values() for r in answer.resources if r.get("resourceType") == "Medication"]
    # The reference only, never what the answer held: it may be another patient's resource (tests: a Patient).
    failed = [f"{reads[key]}: {answer.error or 'could not be read'}" for key, answer in mine.items() if not answer.ok]
    problems = ["; ".join([f"{len(failed)} of {len(mine)} could not be read", *first_listed(failed)])] if failed else []
    if unreadable:
        problems.append(f"{unreadable} not read: {NOT_A_MEDICATION_ID}")
    if elsewhere:
        problems.append(f"{elsewhere} not read: {ON_ANOTHER_SERVER}")
    status = QueryStatus(
        "medications",
        QUERY_LABELS["medications"],
        "Medication/<id>",
        len(medications),
        not problems,
        "; ".join(problems) or None,
        left > 0,
    )
    return medications, status


def _newest_day(resource: Mapping[str, Any]) -> str | None:
    """The newest day an order, fill, statement or administration is dated by, as written (None when undated)."""
    period = resource.get("effectivePeriod")
    found = [
        resource.get(name)
        for name in ("authoredOn", "dateWritten", "whenHandedOver", "whenPrepared", "effectiveDateTime", "dateAsserted")
    ]
    found += [period.get("start"), period.get("end")] if isinstance(period, Mapping) else []
    days = [value[:10] for value in found if isinstance(value, str) and len(value) >= 10]
    return max(days) if days else None


def medication_reads(
    readable: Sequence[str], resources: Sequence[Mapping[str, Any]], server: str | None, today: date
) -> tuple[list[str], int]:
    """The Medication references to read, and how many are left unread for MEDICATION_READ_CAP. Every current one
    is read, past the cap: named by a draft or an active or on-hold order, by anything dated in the last
    CURRENT_MEDICATION_DAYS, or by something undated. The rest newest first, up to the cap: a cap taking them in
    id order once left a current oxycodone order unread and the page at 0 MME/day while the card said 90."""
    wanted = set(readable)
    since = date.fromordinal(today.toordinal() - CURRENT_MEDICATION_DAYS).isoformat()
    newest: dict[str, str] = {}
    for resource in resources:
        named = wanted & medication_references([[resource]], server)
        if not named:
            continue
        day = _newest_day(resource)
        if day is None or resource.get("status") in CURRENT_ORDER_STATUSES:
            day = "9999-12-31"  # current whatever its date, or no date to tell by: read
        for ref in named:
            newest[ref] = max(day, newest.get(ref, ""))
    ordered = sorted(readable, key=lambda ref: (newest.get(ref, "9999-12-31"), ref), reverse=True)
    current = [ref for ref in ordered if newest.get(ref, "9999-12-31") >= since]
    rest = ordered[len(current) :]
    return current + rest[:MEDICATION_READ_CAP], max(0, len(rest) - MEDICATION_READ_CAP)


def _place_reads(iss: str, settings: Settings, today: date) -> Any:
    """The hook's Location reads for this page (None where the hospice exclusion is off), sharing the app's cache."""
    from cds_hooks.location_cache import app_cache
    from cds_hooks.place_reads import PlaceReads

    days = hospice_place_days(settings.guideline)
    if days is None or not iss:
        return None
    cache = app_cache(current_app.extensions, settings.location_cache_seconds) if has_app_context() else None
    return PlaceReads(iss, days, today, cache)


def _name_places(places: Any, statuses: list[QueryStatus]) -> None:
    """The places of recent visits not read, on the data-completeness panel (as the card names them)."""
    named = places.named() if places is not None else None
    if named:
        statuses.append(QueryStatus(PLACES, QUERY_LABELS[PLACES], "Location/<id>", places.asked, False, named))


def _results_status(sought: int, not_received: Sequence[tuple[str, str]], capped: int) -> QueryStatus:
    """The report results' line on the data-completeness panel: how many of those sought could not be read (each
    is named with its report in the urine drug test list and the completeness panel)."""
    missed = len(each_result(not_received))
    return QueryStatus(
        RESULT_READS,
        QUERY_LABELS[RESULT_READS],
        "Observation/<id>",
        sought - missed,
        not missed,
        not_read_words(not_received) if missed else None,  # the card's words: the Items column counts those read
        capped > 0,
    )


def _load_snoozes(patient_id: str, user_id: str | None, now: datetime) -> list[Any]:
    engine = current_app.extensions.get("painplan.db")
    if engine is None:
        return []
    try:
        from cds_hooks.store import load_snoozes

        return load_snoozes(engine, patient_id, user_id, now)
    except Exception as error:  # noqa: BLE001 - without snoozes the page still shows every card
        log.warning("snoozes unavailable for the plan view", extra={"error": type(error).__name__})
        return []


CARD_DRAFTS = "Orders being signed (from the card)"


def drafts_not_carried(hints: Any) -> QueryStatus | None:
    """The orders being signed a card counted and its link could not carry (no id the page can look them up by, or
    too long), as a failed line of the data-completeness panel: the page's totals and alerts leave them out."""
    count = hints.get("draftsNotCarried") if isinstance(hints, Mapping) else None
    if type(count) is not int or count < 1:
        return None
    count = min(count, 99)  # a hint, from a link: a number no card sends is still named, not echoed
    noun = "order being signed" if count == 1 else "orders being signed"
    it = "it" if count == 1 else "them"
    why = (
        f"{count} {noun} could not be carried from the card (no id the page can look {it} up by, or too long), so "
        f"no total or alert on this page includes {it}: the card's figures do"
    )
    return QueryStatus("card_drafts", CARD_DRAFTS, "appContext draftsNotCarried", 0, False, why)


@dataclass(frozen=True)
class LaunchedPage:
    """The plan page as a launch shows it: what was read, the view, and the orders the card's link named."""

    page_input: PageInput
    view: PlanView
    orders: OrderFocus


def launched_page(session: Any, settings: Settings, now: datetime, args: Mapping[str, str]) -> LaunchedPage:
    """Read and evaluate as the launch shows the page: with the drafts a card's link carried, the encounter and the
    user's snoozes. The first showing and a form sent back both come from here, so they cannot disagree (a page
    re-shown without the order being signed would give another MME and other alerts than the one just read)."""
    hints = session.app_context or {}
    drafts = drafts_from_app_context(hints)
    page_input = fetch_page_input(session, settings, now.date(), drafts)
    left_behind = drafts_not_carried(hints)
    if left_behind is not None:
        page_input = replace(page_input, statuses=(*page_input.statuses, left_behind))
    snoozes = _load_snoozes(session.patient_id, session.user, now)
    view = assemble(
        page_input,
        settings.guideline,
        session.patient_id,
        now,
        args,
        session.user,
        session.encounter_id,
        snoozes,
        drafts,
    )
    return LaunchedPage(page_input, view, named_order_focus(view, hints))


def secured(response: Response, settings: Settings) -> Response:
    """The response with the page's security headers: its content policy (framed by the EHR only), no caching."""
    from launch.session import frame_ancestors_header

    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"object-src 'none'; base-uri 'none'; form-action 'self'; {frame_ancestors_header(settings.launch)}"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def launch_error_page(error: Any, settings: Settings) -> Response:
    """The page for a launch that is missing or expired (a LaunchError), with its status."""
    body = render_template("plan_error.html", message=error.message)
    return secured(Response(body, status=error.status, mimetype="text/html"), settings)


def create_plan_blueprint(settings: Settings) -> Blueprint:
    blueprint = Blueprint("plan", __name__, template_folder="templates")
    blueprint.add_app_template_filter(markdown_html, "markdown")

    @blueprint.get("/plan")
    def plan_page() -> Response:
        from launch.session import LaunchError, current_launch, plan_url, read_renewing

        try:
            session = current_launch()
        except LaunchError as error:
            return launch_error_page(error, settings)
        now = settings.evaluation_now()
        version = ask_version(session, settings)  # in the background, while the page reads the chart
        try:
            session, shown = read_renewing(session, lambda launch: launched_page(launch, settings, now, request.args))
        except LaunchError as error:
            return launch_error_page(error, settings)
        hints = session.app_context or {}

        def link(**params: Any) -> str:
            return plan_url(session, **params)

        view_hint = hints.get("view") if isinstance(hints, Mapping) else None
        focus = VIEW_SECTIONS.get(view_hint, "") if isinstance(view_hint, str) else ""
        write = panel_for(session, settings, shown.view, shown.page_input, request.args, version)
        focus = focus or ("medications" if shown.orders else "")
        body = render_page(shown.view, request.args, link, focus, session.handle, shown.orders, write)
        return secured(Response(body, mimetype="text/html"), settings)

    return blueprint
