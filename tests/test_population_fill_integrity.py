"""What a fill is, in a payer's or an EHR's export: a fill whose MME cannot be calculated, a claim an adjustment
replaces or a reversal cancels, two versions of one fill, and dates less precise than a day. None may count as a
fill it is not, dilute an average in silence, or settle an age the data does not settle."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from synthetic_export import (
    OXYCODONE_10,
    dispense,
    medication_concept,
    patient,
    write_ndjson,
)
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, PatientOutcome, evaluate_patient
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

CONFIG = GuidelineConfig.from_mapping()
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
RELATED = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
CARIN_RELATED = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBRelatedClaimRelationshipCodes"
CLAIM_ID = "https://payer.example.org/fhir/claim-number"
RX_NUMBER = "https://bluebutton.cms.gov/resources/variables/rx_srvc_rfrnc_num"


def _evaluate(pid: str, resources: list[dict]) -> PatientOutcome:
    return evaluate_patient(pid, resources, PERIOD, CONFIG, TODAY, Directory())


def _high_dose(pid: str) -> list[dict]:
    """Oxycodone 10 mg, 180 tablets for 30 days, twice: 6 tablets × 10 mg × 1.5 = 90 MME/day for 60 days."""
    return [
        dispense(f"{pid}-f1", pid, OXYCODONE_10, "2026-01-05", 180, 30, "drA", "ph1"),
        dispense(f"{pid}-f2", pid, OXYCODONE_10, "2026-02-04", 180, 30, "drA", "ph1"),
    ]


def pharmacy_claim(
    ident: str,
    pid: str,
    day: str,
    quantity: float = 180,
    days: float = 30,
    drug: tuple[str, str] = OXYCODONE_10,
    rx_number: str | None = None,
    pharmacy: str = "ph1",
    **extra: object,
) -> dict:
    """A CARIN Blue Button pharmacy claim: one drug line, days' supply in supportingInfo, the prescriber in the
    care team and the pharmacy as provider."""
    claim: dict = {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "identifier": [{"system": CLAIM_ID, "value": f"CLM-{ident}"}],
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "pharmacy"}]},
        "patient": {"reference": f"Patient/{pid}"},
        "billablePeriod": {"start": day},
        "provider": {"reference": f"Organization/{pharmacy}"},
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"reference": "Practitioner/drA"},
                "role": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": "prescribing"}
                    ]
                },
            }
        ],  # fmt: skip
        "supportingInfo": [
            {
                "sequence": 1,
                "category": {"coding": [{"code": "dayssupply"}]},
                "valueQuantity": {"value": days},
            }
        ],
        "item": [
            {
                "sequence": 1,
                "productOrService": medication_concept(drug),
                "servicedDate": day,
                "quantity": {"value": quantity},
            }
        ],
    }
    if rx_number:
        claim["identifier"].append({"system": RX_NUMBER, "value": rx_number})
    claim.update(extra)
    return claim


def _related(relationship: str, system: str = RELATED, **target: object) -> list[dict]:
    return [{**target, "relationship": {"coding": [{"system": system, "code": relationship}]}}]


# ---------------------------------------------------------------------------------------------------------------
# 3. Two versions of one fill


def test_the_newest_version_of_a_fill_is_read_whatever_the_order(tmp_path: Path) -> None:
    first, second = _high_dose("p1")
    older = {**second, "meta": {"lastUpdated": "2026-02-04T10:00:00Z"}}
    newer = {**second, "status": "entered-in-error", "meta": {"lastUpdated": "2026-02-06T09:00:00Z"}}
    write_ndjson(tmp_path / "in", "Patient", [patient("p1", "1970-01-01", "Practitioner/drA")])
    write_ndjson(tmp_path / "in", "MedicationDispense-2026-02-05", [first, older])
    write_ndjson(tmp_path / "in", "MedicationDispense-2026-02-07", [newer])
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, CONFIG, workers=1)
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert (row["opioid_fills"], row["ohd_den"], row["ohd_num"]) == ("1", "false", "false")
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["fills_not_counted_by_status"] == {"entered-in-error": 1}
    assert quality["resource_conflicts"] == 1


def test_version_ids_are_compared_as_numbers_when_no_date_tells_versions_apart() -> None:
    first, second = _high_dose("p")
    older = {**second, "meta": {"versionId": "2"}}
    newer = {**second, "status": "entered-in-error", "meta": {"versionId": "10"}}  # "10" sorts before "2" as text
    for resources in ([patient("p"), first, older, newer], [patient("p"), first, newer, older]):
        outcome = _evaluate("p", resources)
        assert outcome.row is not None and outcome.row["opioid_fills"] == 1
        assert outcome.quality.resource_conflicts == 1


def test_identical_copies_are_no_conflict() -> None:
    first, second = _high_dose("p")
    outcome = _evaluate("p", [patient("p"), first, second, dict(second)])
    assert outcome.row is not None and outcome.row["opioid_fills"] == 2
    assert outcome.quality.resource_conflicts == 0
