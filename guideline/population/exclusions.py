"""Measure exclusions (spec 5): cancer, sickle cell disease, hospice or palliative care, read against the period.

The codes are recognised as at the point of care (guideline.exclusions); what differs on purpose is the window and
the status rules: spec 5 reads a condition, encounter, procedure or finding against the measure period's history
window, not against the months before today."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from guideline.clinical import ACTIVE_CLINICAL, is_visible
from guideline.config import GuidelineConfig
from guideline.exclusions import (
    TENTATIVE_VERIFICATION,
    discharged_to_hospice,
    hospice_care_given,
    hospice_visit,
    is_z515,
    location_may_say_hospice,
    visit_within,
)
from guideline.fhirdata import as_dict, text
from guideline.population.model import Period
from guideline.recognition.diagnoses import in_diagnosis_set
from guideline.record import Condition, PatientRecord
from guideline.record.build import with_places_read
from guideline.terminology import (
    HOSPICE_FINDING,
    MALIGNANT_CANCER,
    SICKLE_CELL,
    Terminology,
)
from guideline.timeutil import in_last_days, local_date

VOID = frozenset({"cancelled", "entered-in-error", "not-done"})


def hospice_location(location: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the review keeps of one of the export's Locations (its name and type, all the hospice rules read), or
    None when neither could say hospice: a payer's export may list thousands of places, nearly none a hospice."""
    if not location_may_say_hospice(location):
        return None
    kept = {"resourceType": "Location", "id": location.get("id"), "name": location.get("name")}
    return {**kept, "type": location.get("type")}


def with_export_places(record: PatientRecord, places: Mapping[str, Mapping[str, Any]]) -> PatientRecord:
    """The record with each visit's places joined to the export's Locations by reference (`Location/id`, relative,
    absolute or versioned), as the point of care joins a Location sent beside the visit (`with_places_read`)."""
    if not places or not any(encounter.places for encounter in record.encounters):
        return record
    return replace(record, encounters=tuple(with_places_read(e, places) for e in record.encounters))


def _abated_on(raw: Mapping[str, Any] | None) -> date | None:
    if not raw:
        return None
    value = text(raw.get("abatementDateTime")) or text(as_dict(raw.get("abatementPeriod")).get("end"))
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _condition_applies(condition: Condition, raw: Mapping[str, Mapping[str, Any]], period: Period) -> bool:
    """Active (or no clinical status), dated on or before the period end, not abated before the history window."""
    if condition.clinical_status is not None and condition.clinical_status not in ACTIVE_CLINICAL:
        return False
    recorded = local_date(condition.onset or condition.recorded_date)
    if recorded is not None and recorded > period.end:
        return False
    abated = _abated_on(raw.get(f"Condition/{condition.id}")) if condition.id else None
    return abated is None or abated >= period.history_start


def _in_history(day: date | None, period: Period) -> bool:
    return in_last_days(day, period.history_days, period.end)


def _name(condition: Condition, fallback: str) -> str:
    shown = condition.code.display() if condition.code else None
    return f"{fallback} ({shown})" if shown else fallback


def exclusion_reason(
    record: PatientRecord,
    raw: Mapping[str, Mapping[str, Any]],
    period: Period,
    config: GuidelineConfig,
    terms: Terminology,
) -> str | None:
    """Why every measure leaves this patient out, or None."""
    # A tentative diagnosis (a cancer still being ruled out) excludes no one, as at the point of care.
    conditions = [
        c for c in record.conditions if is_visible(c, config) and c.verification_status not in TENTATIVE_VERIFICATION
    ]
    for set_name, label in ((MALIGNANT_CANCER, "cancer"), (SICKLE_CELL, "sickle cell disease")):
        # PQA's rule, not the CDC's: one diagnosis in the period excludes, an encounter diagnosis or a claim's
        # included. The point of care asks for a cancer on the problem list or two cancer-related visits, a claim
        # being a visit (guideline.exclusions.cancer_visits): the specs differ, and so do the faces.
        for condition in conditions:
            if in_diagnosis_set(set_name, condition.code, terms) and _condition_applies(condition, raw, period):
                return _name(condition, label)
    for encounter in record.encounters:
        # The point of care's rule for a visit (guideline.exclusions.visit_within), over the history window: a
        # planned, cancelled or erroneous visit never counts.
        if not visit_within(encounter, period.history_days, period.end):
            continue
        if discharged_to_hospice(encounter.discharge_disposition, terms) or hospice_visit(encounter, terms):
            return "hospice or palliative care (encounter)"
        # A palliative-care visit billed Z51.5 may carry it only as its reason, with no diagnosis of its own.
        if any(is_z515(reason) for reason in encounter.reason_codes):
            return "palliative care (Z51.5)"
    for procedure in record.procedures:
        # The point of care's rule for hospice care, its status and its dates (guideline.exclusions
        # .hospice_care_given), over the history window: care of unknown status, on hold or stopped is not counted,
        # and is named (`hospice_not_counted`), at the point of care as here.
        if hospice_care_given(procedure, terms, period.history_days, period.end):
            return "hospice or palliative care (procedure)"
    for observation in record.observations:
        finding = observation.status not in VOID and terms.contains(HOSPICE_FINDING, observation.code)
        if finding and _in_history(local_date(observation.result_time), period):
            return "hospice or palliative care (finding)"
    for condition in conditions:
        if is_z515(condition.code) and _condition_applies(condition, raw, period):
            return "palliative care (Z51.5)"
    return None
