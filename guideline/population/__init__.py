"""Population review: PQA opioid measures over a Bulk FHIR export, one pure per-patient evaluation."""

from guideline.population.evaluate import PatientOutcome, evaluate_patient
from guideline.population.measures import MEASURES, Measure, column_id
from guideline.population.model import Directory, Period, PopulationError
from guideline.population.quality import Quality

__all__ = [
    "MEASURES",
    "Directory",
    "Measure",
    "PatientOutcome",
    "Period",
    "PopulationError",
    "Quality",
    "column_id",
    "evaluate_patient",
]
