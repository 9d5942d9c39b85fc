"""What a run could not check, and why, as data-quality.json's `run` says it for a machine (`not_checked`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guideline.population.measures import MEASURES
from guideline.population.quality import ENROLMENT, PATIENTS, QualityLine, quality_lines

# The key of the run's one line saying enrolment was not checked at all (an export with no Coverage).
ENROLMENT_NOT_CHECKED = "enrolment_not_checked"


def not_checked(report: Mapping[str, Any], enrolment_line: str | None, members: int) -> dict[str, Any]:
    """Whose enrolment (`enrolment`) and which patients (`patients`) the run could not check, and which measures'
    denominators and numerators may be missing patients for it, or may hold patients their definition leaves out
    (`measures`: `denominator`, `numerator`, `includes`), each as the keys of its reasons; and
    each reason (`reasons`, by key) with its count and its words. The words are the command's summary's and the
    dashboard's (`quality_lines`, and `enrolment_line`, the summary's line for an export with no Coverage, counted
    as `members`, those in the measures whose enrolment it leaves unread): one source, so a machine reading the run
    never reads it otherwise than an analyst does."""
    reasons: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[str]] = {ENROLMENT: [], PATIENTS: []}
    if enrolment_line is not None:  # every member's in the measures: none could be stated
        reasons[ENROLMENT_NOT_CHECKED] = {"count": members, "text": enrolment_line}
        groups[ENROLMENT].append(ENROLMENT_NOT_CHECKED)
    problems = [line for line in quality_lines(report) if line.count and line.kind == "problem"]
    for line in problems:
        if line.unchecked is not None:
            groups[line.unchecked].append(_reason(line, reasons))
    measures: dict[str, dict[str, list[str]]] = {}
    for measure in MEASURES:
        parts = {
            part.removesuffix("s"): [_reason(line, reasons) for line in problems if line.lowers(measure.id, part)]
            for part in ("denominators", "numerators")
        }
        # What may have put patients in it that its PQA definition leaves out: not checked either (a hospice stay
        # that dated no exclusion), and the dashboard says it beside the rate as it says what may be missing.
        parts["includes"] = [_reason(line, reasons) for line in problems if line.widens(measure.id)]
        if any(parts.values()):
            measures[measure.id] = parts
    return {"reasons": reasons, **groups, "measures": measures}


def _reason(line: QualityLine, reasons: dict[str, dict[str, Any]]) -> str:
    """The line's key, its count and words put in `reasons`."""
    reasons[line.key] = {"count": line.count, "text": line.text}
    return line.key
