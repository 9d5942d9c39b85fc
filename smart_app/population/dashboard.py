"""The population dashboard: measure rates per quarter run, PCPs and practices by decile, the letters.

Not public by default: off until PAINPLAN_POPULATION_ROOT names the runs' folder, and then readable only with
PAINPLAN_POPULATION_TOKEN (HTTP Basic password or Bearer token), except in the demo."""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Response, abort, render_template, request, send_from_directory

from guideline.population import MEASURES, Measure
from guideline.population.quality import BY_PATIENT, ENROLMENT, QualityLine, quality_lines
from guideline.population.unchecked import ENROLMENT_NOT_CHECKED
from guideline.words import capitalised
from smart_app.config import Settings
from smart_app.population.charts import (
    CLASSES,
    HIGHER_BETTER,
    LOWER_BETTER,
    decile_chart,
    rates_over_time,
    unit_deciles,
)
from smart_app.population.runs import Run, find_runs

# The count of members whose enrolment could not be told from Coverage (guideline.population.quality).
UNKNOWN_ENROLMENT = "members_enrolment_unknown"


@dataclass(frozen=True)
class QualityView:
    """A run's data-quality counts as the dashboard shows them: what was left out or not read first."""

    problems: list[QualityLine]  # not zero: fills, resources or patients left out or not read
    notes: list[QualityLine]  # not zero: how the data was read (nothing lost)
    census: list[QualityLine]  # what the export held
    zero: list[QualityLine]  # nothing to report
    # Per measure: the problem counts that may leave patients out of its denominator, and out of its numerator.
    missing: dict[str, tuple[list[QualityLine], list[QualityLine]]]
    # Per measure: the problem counts that may put patients in its rate whom its PQA definition leaves out, their
    # enrolment read from Coverage (a gap named, say).
    extra: dict[str, list[QualityLine]] = field(default_factory=dict)
    # Per measure: the same for members whose enrolment could not be told from Coverage, shown apart from `extra`:
    # a gap read and a Coverage not read are two facts, not one.
    not_told: dict[str, list[QualityLine]] = field(default_factory=dict)


def quality_view(run: Run) -> QualityView:
    """Every count in the run's data-quality.json (the same lines the command's summary prints), sorted for show."""
    lines = quality_lines(run.quality)
    problems = [line for line in lines if line.count and line.kind == "problem"]
    return QualityView(
        problems=problems,
        notes=[line for line in lines if line.count and line.kind == "note"],
        census=[line for line in lines if line.kind == "census"],
        zero=[line for line in lines if not line.count and line.kind != "census"],
        missing={m.id: _missing(m, problems) for m in MEASURES},
        extra={
            m.id: [line for line in problems if line.widens(m.id) and line.unchecked != ENROLMENT] for m in MEASURES
        },
        not_told={
            m.id: [line for line in problems if line.widens(m.id) and line.unchecked == ENROLMENT] for m in MEASURES
        },
    )


def enrolment_note(run: Run) -> str | None:
    """What the run's rates assume of enrolment (population.enrolment), or that it could not be checked; None for a
    run written before the review read Coverage."""
    about = run.quality.get("run")
    mode = about.get("enrolment") if isinstance(about, dict) else None
    if mode is None:
        return None
    if not about.get("enrolment_checked", True):
        said = _reason_text(about, ENROLMENT_NOT_CHECKED)  # the command's summary's words, as the run wrote them
        if said:
            return capitalised(said)
        return "Enrolment not checked: no Coverage was read, so no member's enrolment over the period is known."
    if mode == "continuous":
        return (
            "Members not continuously enrolled over the period are in no measure (population.enrolment = continuous)."
        )
    if mode == "name":
        return "Members are counted whatever their enrolment; each gap is named (population.enrolment = name)."
    # A newer version's setting, or a file edited by hand: read as `name`, the line would claim every gap was named.
    return (
        f"Enrolment was read under a setting this version of PainPlan does not know (population.enrolment = "
        f"{json.dumps(mode)}): what these rates assume of members' enrolment cannot be told here."
    )


def enrolment_not_told(quality: QualityView) -> str | None:
    """The members of the run whose enrolment could not be told from Coverage (`members_enrolment_unknown`), said
    apart from members whose Coverage was read; None when there are none. Read from the run's quality view (its
    problems: the counts not zero), so the page reads data-quality.json's lines once."""
    count = next((line.count for line in quality.problems if line.key == UNKNOWN_ENROLMENT), 0)
    if not count:
        return None
    who = "1 member" if count == 1 else f"{count:,} members"
    return (
        f"Enrolment could not be told from Coverage for {who}: a Coverage of theirs could not be read, so whether "
        f"they were enrolled is not known; kept in the measures, apart from members whose Coverage was read (named "
        f"{BY_PATIENT})."
    )


def _reason_text(about: dict, key: str) -> str | None:
    """The words of one reason the run's `not_checked` gives (guideline.population.unchecked); None in a run written
    before the run said why."""
    reasons = about.get("not_checked", {}).get("reasons") if isinstance(about.get("not_checked"), dict) else None
    reason = reasons.get(key) if isinstance(reasons, dict) else None
    said = reason.get("text") if isinstance(reason, dict) else None
    return said if isinstance(said, str) else None


def _missing(measure: Measure, problems: list[QualityLine]) -> tuple[list[QualityLine], list[QualityLine]]:
    return (
        [line for line in problems if line.lowers(measure.id, "denominators")],
        [line for line in problems if line.lowers(measure.id, "numerators")],
    )


def _presented_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode("utf-8").partition(":")[2]
        except (ValueError, UnicodeDecodeError):
            return None
    return None


def create_population_blueprint(settings: Settings) -> Blueprint:
    blueprint = Blueprint("population", __name__, url_prefix="/population")
    root = Path(settings.population_root) if settings.population_root else None

    @blueprint.before_request
    def guard() -> Response | None:
        if root is None:
            abort(404)
        if settings.demo and not settings.population_token:
            return None
        if not settings.population_token:
            return Response("forbidden: set PAINPLAN_POPULATION_TOKEN to open the dashboard\n", 403,
                            mimetype="text/plain")  # fmt: skip
        presented = _presented_secret()
        if presented is None or not hmac.compare_digest(presented.encode(), settings.population_token.encode()):
            return Response("unauthorized\n", 401, {"WWW-Authenticate": 'Basic realm="PainPlan population"'},
                            mimetype="text/plain")  # fmt: skip
        return None

    @blueprint.after_request
    def private(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    @blueprint.get("/")
    def dashboard() -> str:
        assert root is not None
        runs, unreadable = find_runs(root)
        latest = runs[-1] if runs else None
        chosen = request.args.get("measure", "OHD")
        measure = next((m for m in MEASURES if m.id == chosen), MEASURES[0])
        charts = {}
        if latest:
            charts["lower"] = rates_over_time(runs, LOWER_BETTER, "rates-lower", "Measures where lower is better")
            charts["higher"] = rates_over_time(runs, HIGHER_BETTER, "rates-higher", "Measures where higher is better")
            for level, label in (("pcp", "PCPs"), ("practice", "Practices")):
                values, count = unit_deciles(latest, level, measure.id)
                title = f"{label} by decile of {measure.id} rate ({latest.label})"
                charts[level] = decile_chart(f"deciles-{level}", title, values, count) if values else None
        quality = quality_view(latest) if latest else None
        return render_template(
            "population/dashboard.html",
            runs=runs,
            unreadable=unreadable,
            latest=latest,
            charts=charts,
            measures=MEASURES,
            measure=measure,
            lower_ids=LOWER_BETTER,
            higher_ids=HIGHER_BETTER,
            classes=CLASSES,
            quality=quality,
            enrolment=enrolment_note(latest) if latest else None,
            enrolment_not_told=enrolment_not_told(quality) if quality else None,
            letters=latest.letters() if latest else None,  # read once: the count, the note and the list
        )

    @blueprint.get("/runs/<run>/letters/<path:name>")
    def letter(run: str, name: str) -> Response:
        assert root is not None
        folder = next((r.folder for r in find_runs(root, limit=1000)[0] if r.name == run), None)
        if folder is None or not name.endswith((".html", ".pdf")):
            abort(404)
        return send_from_directory(folder / "letters", name)

    return blueprint
