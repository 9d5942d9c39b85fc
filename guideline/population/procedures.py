"""Procedures the review cannot read: coded only under a code system PainPlan does not know (a payer's own, ICD-10-PCS
on an inpatient claim), named by that system in data quality rather than passed over; or with no date it can read."""

from __future__ import annotations

from collections import Counter
from datetime import date

from guideline.clinical import procedure_dates, undated_done
from guideline.config import GuidelineConfig
from guideline.fhirdata import CPT, HCPCS, LOINC, SNOMED, Concept
from guideline.population.model import Period
from guideline.record import PatientRecord, Procedure
from guideline.terminology import HOSPICE_PROCEDURE, Terminology
from guideline.timeutil import local_date
from guideline.uds import is_drug_test_procedure

# The systems PainPlan's procedure codes are in (drug tests: CPT, HCPCS, SNOMED CT; hospice: SNOMED CT, HCPCS; PDMP
# review and the standing review's other procedures: SNOMED CT; a pain treatment plan: LOINC), each under any of its
# known names.
READ_SYSTEMS = frozenset({SNOMED, CPT, HCPCS, LOINC})
# A coding that says there is no code (CARIN and Blue Button fill a line's productOrService so): no unread system.
NO_CODE_SYSTEMS = frozenset({"http://terminology.hl7.org/CodeSystem/data-absent-reason"})
NO_SYSTEM = "(no system)"


def read_systems(config: GuidelineConfig) -> frozenset[str]:
    """The systems read: PainPlan's own, and every system the site's settings name a code in (its PDMP review codes,
    the codes its exclusions add, its orderables)."""
    site = config.site_codes
    listed = {code.system for codes in site.lists.values() for code in codes}
    return READ_SYSTEMS | listed | {code.system for code in site.codings.values()}


def unread_procedure_systems(record: PatientRecord, period: Period, config: GuidelineConfig) -> Counter[str]:
    """{system: procedures} of the record's procedures in the review's windows (or undated) with no code under a
    system read: each under its first coding's system."""
    systems = read_systems(config)
    since = min(period.year_start, period.history_start)
    found: Counter[str] = Counter()
    for procedure in record.procedures:
        if procedure.status == "entered-in-error" or not _in_review(procedure, since, period.end):
            continue
        system = _unread_system(procedure.code, systems)
        if system is not None:
            found[system] += 1
    return found


def undated_measure_procedures(record: PatientRecord, terms: Terminology) -> int:
    """Done (or unstated) procedures a measure reads, drug tests (AMO) and hospice care (the exclusion), with no date
    the record reads: none at all, words, an age, or a time that is no date. No window counts them, so each is named
    by its count, as the point of care names each (`guideline.undated.undated_procedures`), by the same rule."""
    return sum(
        1
        for procedure in undated_done(record.procedures)
        if is_drug_test_procedure(procedure.code) or terms.contains(HOSPICE_PROCEDURE, procedure.code)
    )


def _in_review(procedure: Procedure, since: date, end: date) -> bool:
    """Dated in the review's windows, or not dated at all (then it cannot be placed outside them)."""
    days = [day for day in map(local_date, procedure_dates(procedure)) if day is not None]
    return not days or any(since <= day <= end for day in days)


def _unread_system(code: Concept | None, systems: frozenset[str]) -> str | None:
    """The system of a code none of whose codings is under a system read; None when one is, or there is no code."""
    codings = [c for c in code.codings if c.code and c.system not in NO_CODE_SYSTEMS] if code else []
    if not codings or any(c.system in systems for c in codings):
        return None
    return codings[0].system or NO_SYSTEM
