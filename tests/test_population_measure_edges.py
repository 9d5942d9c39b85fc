"""An adversarial review of the measures at their edges: windows, thresholds, new starts, exclusions and
attribution, each on a realistic Bulk FHIR patient, hand-computed."""

from __future__ import annotations

from synthetic_export import (
    ICD10,
    OXYCODONE_10,
    SNOMED,
    condition,
    dispense,
    patient,
)
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, PatientOutcome, evaluate_patient

CONFIG = GuidelineConfig.from_mapping()
HOSPICE_CARE = {"system": SNOMED, "code": "385763009", "display": "Hospice care"}


def _evaluate(pid: str, resources: list[dict]) -> PatientOutcome:
    return evaluate_patient(pid, resources, PERIOD, CONFIG, TODAY, Directory())


def _row(outcome: PatientOutcome) -> dict:
    assert outcome.row is not None
    return outcome.row


def _high_dose(pid: str) -> list[dict]:
    """Oxycodone 10 mg, 180 tablets for 30 days, twice: 90 MME/day for 60 days (in OHD's numerator)."""
    return [
        dispense(f"{pid}-f1", pid, OXYCODONE_10, "2026-01-05", 180, 30, "drA", "ph1"),
        dispense(f"{pid}-f2", pid, OXYCODONE_10, "2026-02-04", 180, 30, "drA", "ph1"),
    ]


def _hospice_stay(ident: str, pid: str, start: str, end: str | None, status: str = "finished") -> dict:
    """A hospice stay as an EHR's hospice service records it: the visit's type says hospice care."""
    period = {"start": start, **({"end": end} if end else {})}
    return {
        "resourceType": "Encounter",
        "id": ident,
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH", "display": "home health"},
        "type": [{"coding": [HOSPICE_CARE]}],
        "subject": {"reference": f"Patient/{pid}"},
        "period": period,
    }


def _hospice_claim(ident: str, pid: str, start: str, end: str) -> dict:
    """A Blue Button hospice claim for a month's care: billed from its first day to its last."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/eob-type", "code": "HOSPICE"}]},
        "patient": {"reference": f"Patient/{pid}"},
        "billablePeriod": {"start": start, "end": end},
    }


# ---------------------------------------------------------------------------------------------------------------
# Hospice dated around the history window (2025-10-03 to 2026-03-31 for 2026 Q1)


def test_a_hospice_stay_spanning_the_whole_window_excludes() -> None:
    outcome = _evaluate("h1", [patient("h1"), *_high_dose("h1"), _hospice_stay("s", "h1", "2025-09-01", "2026-05-31")])
    assert _row(outcome)["excluded"] == "hospice or palliative care (encounter)"
    assert _row(outcome)["ohd_den"] is False


def test_a_hospice_stay_still_in_progress_excludes() -> None:
    stay = _hospice_stay("s", "h2", "2025-08-01", None, status="in-progress")
    outcome = _evaluate("h2", [patient("h2"), *_high_dose("h2"), stay])
    assert _row(outcome)["excluded"] == "hospice or palliative care (encounter)"


def test_a_hospice_claim_ending_inside_the_window_excludes() -> None:
    claim = _hospice_claim("hc", "h3", "2025-09-15", "2025-10-14")
    outcome = _evaluate("h3", [patient("h3"), *_high_dose("h3"), claim])
    assert _row(outcome)["excluded"] == "hospice or palliative care (procedure)"


def test_hospice_ended_the_day_before_the_window_does_not_exclude_and_on_its_first_day_does() -> None:
    before = _evaluate("h4", [patient("h4"), *_high_dose("h4"), _hospice_stay("s", "h4", "2025-09-01", "2025-10-02")])
    first = _evaluate("h5", [patient("h5"), *_high_dose("h5"), _hospice_stay("s", "h5", "2025-09-01", "2025-10-03")])
    assert (_row(before)["excluded"], _row(before)["ohd_num"]) == (None, True)
    assert _row(first)["excluded"] == "hospice or palliative care (encounter)"


def test_a_finished_hospice_stay_with_no_end_is_its_first_day_only() -> None:
    # A completed record often omits the end: read as its first day, before the window, it excludes no one.
    outcome = _evaluate("h6", [patient("h6"), *_high_dose("h6"), _hospice_stay("s", "h6", "2025-09-01", None)])
    assert _row(outcome)["excluded"] is None


def test_cancer_abated_the_day_before_the_window_does_not_exclude() -> None:
    def cancer(pid: str, abated: str) -> dict:
        return {**condition("ca", pid, ICD10, "C50.911", status="resolved"), "abatementDateTime": abated}

    before = _evaluate("c1", [patient("c1"), *_high_dose("c1"), cancer("c1", "2025-10-02")])
    inside = _evaluate("c2", [patient("c2"), *_high_dose("c2"), cancer("c2", "2025-10-03")])
    assert _row(before)["excluded"] is None
    # Resolved is not active: a cancer resolved in the window excludes no one, whatever its abatement date.
    assert _row(inside)["excluded"] is None
