"""Payer exports hold claims, not dispenses: CMS's BCDA and Blue Button, and CARIN Blue Button, send every fill as a
pharmacy ExplanationOfBenefit. The review reads them as the fills, diagnoses and procedures they stand for."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from synthetic_export import patient, practitioner, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population.claims import claim_resources
from guideline.record.model import BILLING_UNITS_EXTENSION
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

NDC = "http://hl7.org/fhir/sid/ndc"
NPI = "http://hl7.org/fhir/sid/us-npi"
OXYCODONE_10_NDC = "00406055262"  # a payer's drug file maps it to RxNorm 1049683, oxycodone 10 mg tablet
CONFIG = {"ndc": {"rxnorm": {OXYCODONE_10_NDC: "1049683"}}}
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
CARIN_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
CARIN_ROLE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole"


def part_d_event(ident: str, pid: str, day: str, quantity: int = 180, days: int = 30, status: str = "active") -> dict:
    """A Part D prescription drug event as Blue Button 2.0 and BCDA send it (R4)."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": status,
        "type": {
            "coding": [
                {"system": "https://bluebutton.cms.gov/resources/codesystem/eob-type", "code": "PDE"},
                {"system": CLAIM_TYPE, "code": "pharmacy"},
            ]
        },
        "patient": {"reference": f"Patient/{pid}"},
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"identifier": {"system": NPI, "value": "1111111112"}},
                "role": {"coding": [{"system": CARIN_ROLE, "code": "prescribing"}]},
            }
        ],
        "provider": {"identifier": {"system": NPI, "value": "9999999991"}},  # the pharmacy
        "supportingInfo": [
            {
                "sequence": 1,
                "category": {
                    "coding": [
                        {
                            "system": "https://bluebutton.cms.gov/resources/codesystem/information",
                            "code": "https://bluebutton.cms.gov/resources/variables/days_suply_num",
                        }
                    ]
                },
                "valueQuantity": {"value": days},
            }
        ],
        "item": [
            {
                "sequence": 1,
                "productOrService": {
                    "coding": [{"system": NDC, "code": OXYCODONE_10_NDC, "display": "OXYCODONE HCL 10 MG TABLET"}]
                },
                "servicedDate": day,
                "quantity": {"value": quantity},
            }
        ],
    }


def professional_claim(ident: str, pid: str, day: str, icd10: str) -> dict:
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "professional"}]},
        "patient": {"reference": f"Patient/{pid}"},
        "billablePeriod": {"start": day, "end": day},
        "diagnosis": [
            {
                "sequence": 1,
                "diagnosisCodeableConcept": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": icd10}]
                },
            }
        ],
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99214"}]},
            }
        ],
    }


def hospice_claim(ident: str, pid: str, day: str, last_day: str | None = None) -> dict:
    """A Blue Button hospice claim billed from `day` to `last_day` (the same day when not given)."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "status": "active",
        "type": {"coding": [{"system": "https://bluebutton.cms.gov/resources/codesystem/eob-type", "code": "HOSPICE"}]},
        "patient": {"reference": f"Patient/{pid}"},
        "billablePeriod": {"start": day, "end": last_day or day},
    }


def _run(tmp_path: Path, resources: list[dict]) -> tuple[dict[str, dict[str, str]], dict]:
    write_export(tmp_path / "in", resources)
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, GuidelineConfig.from_mapping(CONFIG))
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    return rows, json.loads((tmp_path / "out" / "data-quality.json").read_text())


def test_a_claims_only_export_gives_the_measures_exclusions_and_attribution(tmp_path: Path) -> None:
    # Before, every claim was "a resource of an unexpected type, ignored": no cohort, no measure, no letter.
    prescriber = {**practitioner("drA", "Dr. Ana Alvarez"), "identifier": [{"system": NPI, "value": "1111111112"}]}
    resources = [
        prescriber,
        patient("p-high", "1970-01-01"),
        part_d_event("pde1", "p-high", "2026-01-05"),
        part_d_event("pde2", "p-high", "2026-02-04"),
        part_d_event("pde3", "p-high", "2026-03-01", status="cancelled"),  # reversed: not a fill
        patient("p-cancer", "1970-01-01"),
        part_d_event("pde4", "p-cancer", "2026-01-05"),
        part_d_event("pde5", "p-cancer", "2026-02-04"),
        professional_claim("prof1", "p-cancer", "2025-12-01", "C50.911"),  # breast cancer, billed last December
        patient("p-hospice", "1970-01-01"),
        part_d_event("pde6", "p-hospice", "2026-01-05"),
        part_d_event("pde7", "p-hospice", "2026-02-04"),
        hospice_claim("hosp1", "p-hospice", "2026-02-10"),
        professional_claim("prof2", "p-none", "2026-02-01", "M54.50"),  # back pain, no opioid fills: no cohort
        patient("p-old-cancer", "1970-01-01"),
        part_d_event("pde8", "p-old-cancer", "2026-01-05"),
        professional_claim("prof3", "p-old-cancer", "2023-03-01", "C50.911"),  # billed three years ago: not now
        {**hospice_claim("empty", "p-high", "2026-02-10"), "type": {"text": "dental"}},  # nothing to read in it
    ]
    rows, quality = _run(tmp_path, resources)
    assert set(rows) == {"p-high", "p-cancer", "p-hospice", "p-old-cancer"}
    assert "excluded" not in json.loads(rows["p-old-cancer"]["evidence"])
    high = rows["p-high"]
    assert (high["opioid_fills"], float(high["avg_mme"])) == ("2", 90.0)
    assert (high["ohd_den"], high["ohd_num"]) == ("true", "true")
    assert (high["attribution"], high["pcp_id"]) == ("prescriber", "drA")  # the claim's prescriber NPI, found
    assert (high["prescribers"], high["pharmacies"]) == ("1", "1")
    assert json.loads(rows["p-cancer"]["evidence"])["excluded"][0].startswith("cancer")
    assert json.loads(rows["p-hospice"]["evidence"])["excluded"] == ["hospice or palliative care (procedure)"]
    assert "ExplanationOfBenefit" not in quality["unexpected_resource_types"]
    assert (quality["claims_read"], quality["claims_not_read"]) == (12, 1)
    assert quality["fills_not_counted_by_status"] == {"cancelled": 1}


def test_a_blue_button_v1_line_and_a_carin_claim_give_the_same_fill() -> None:
    v2 = part_d_event("c", "p1", "2026-01-05", quantity=60, days=15)
    v1 = json.loads(json.dumps(v2))  # STU3: item.service, days' supply on the quantity
    item = v1["item"][0]
    item["service"] = item.pop("productOrService")
    item["quantity"]["extension"] = [
        {"url": "https://bluebutton.cms.gov/resources/variables/days_suply_num", "valueQuantity": {"value": 15}}
    ]
    del v1["supportingInfo"]
    carin = json.loads(json.dumps(v2))
    carin["supportingInfo"] = [
        {
            "sequence": 1,
            "category": {"coding": [{"system": CARIN_INFO, "code": "dayssupply"}]},
            "valueQuantity": {"value": 15},
        }
    ]
    fills = [claim_resources(claim) for claim in (v2, v1, carin)]
    for (fill,) in fills:
        assert fill["resourceType"] == "MedicationDispense" and fill["status"] == "completed"
        assert (fill["whenHandedOver"], fill["quantity"], fill["daysSupply"]) == (
            "2026-01-05",
            {"value": 60, "extension": [{"url": BILLING_UNITS_EXTENSION, "valueBoolean": True}]},
            {"value": 15},
        )
        assert fill["medicationCodeableConcept"]["coding"][0]["code"] == OXYCODONE_10_NDC
        assert [p["actor"].get("type") for p in fill["performer"]] == ["Practitioner", "Organization"]


ADJUDICATION_STATUS = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayerAdjudicationStatus"
DISCRIMINATOR = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator"


def test_a_denied_pharmacy_claim_or_line_is_no_fill_and_is_counted(tmp_path: Path) -> None:
    # A denied claim is a prescription the plan did not pay for: read as a fill it made the patient high-dose on a
    # fill that may never have been dispensed. It is a declined fill, counted as not counted for its status.
    denied = part_d_event("c-denied", "p-den", "2026-01-05")
    denied["adjudication"] = [
        {
            "category": {"coding": [{"system": DISCRIMINATOR, "code": "benefitpaymentstatus"}]},
            "reason": {"coding": [{"system": ADJUDICATION_STATUS, "code": "denied"}]},
        }
    ]
    line_denied = part_d_event("c-line", "p-den", "2026-02-04")
    line_denied["item"][0]["adjudication"] = [
        {
            "category": {
                "coding": [
                    {"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication", "code": "denialreason"}
                ]
            },
            "reason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/NCPDPRejectCode", "code": "75"}]},
        }
    ]
    paid = part_d_event("c-paid", "p-den", "2026-03-05")
    assert [f["status"] for claim in (denied, line_denied, paid) for f in claim_resources(claim)] == [
        "declined",
        "declined",
        "completed",
    ]
    rows, quality = _run(tmp_path, [patient("p-den"), denied, line_denied, paid])
    assert rows["p-den"]["opioid_fills"] == "1"
    assert quality["fills_not_counted_by_status"] == {"declined": 2}


NUBC_BILL = "https://www.nubc.org/CodeSystem/TypeOfBill"
NUBC_REVENUE = "https://www.nubc.org/CodeSystem/RevenueCodes"
HOSPICE_ROUTINE_HOME_CARE = {"coding": [{"system": NUBC_REVENUE, "code": "0651"}]}
NOT_APPLICABLE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-applicable"}]
}


def undated_hospice_export() -> list[dict]:
    """Three patients on 90 MME/day whose hospice claims carry no billablePeriod: one dated by its lines (a month's
    routine home care from before the history window, which starts 2025-10-03, into it), one by the stay CARIN's
    `admissionperiod` states, one by nothing but the day the claim was written."""
    by_lines = {
        key: value
        for key, value in hospice_claim("h-lines", "p-lines", "2025-09-15").items()
        if key != "billablePeriod"
    }
    by_lines["item"] = [
        {
            "sequence": 1,
            "revenue": HOSPICE_ROUTINE_HOME_CARE,
            "productOrService": NOT_APPLICABLE,
            "servicedPeriod": {"start": "2025-09-15", "end": "2025-10-14"},
        }
    ]
    by_stay = {
        "resourceType": "ExplanationOfBenefit",
        "id": "h-stay",
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "institutional"}]},
        "patient": {"reference": "Patient/p-stay"},
        "supportingInfo": [
            {
                "sequence": 1,
                "category": {"coding": [{"system": CARIN_INFO, "code": "typeofbill"}]},
                "code": {"coding": [{"system": NUBC_BILL, "code": "0812"}]},
            },
            {
                "sequence": 2,
                "category": {"coding": [{"system": CARIN_INFO, "code": "admissionperiod"}]},
                "timingPeriod": {"start": "2025-11-01", "end": "2026-02-15"},
            },
        ],
        "item": [{"sequence": 1, "revenue": HOSPICE_ROUTINE_HOME_CARE, "productOrService": NOT_APPLICABLE}],
    }
    undated = {
        key: value for key, value in hospice_claim("h-undated", "p-undated", "x").items() if key != "billablePeriod"
    }
    undated["created"] = "2026-02-20"  # the day the claim was written: no day of care
    resources = [by_lines, by_stay, undated]
    for n, pid in enumerate(("p-lines", "p-stay", "p-undated")):
        resources += [
            patient(pid, "1970-01-01"),
            part_d_event(f"pde-{n}a", pid, "2026-01-05"),
            part_d_event(f"pde-{n}b", pid, "2026-02-04"),
        ]
    return resources


def test_a_hospice_claim_without_a_billable_period_is_dated_by_its_lines_or_stay_or_named(tmp_path: Path) -> None:
    # Before, a hospice claim with no billablePeriod was hospice care on no day: each of the three stayed in OHD's
    # numerator with nothing said.
    write_export(tmp_path / "in", undated_hospice_export())
    config = GuidelineConfig.from_mapping(CONFIG)
    lines = review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, config)
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    for pid in ("p-lines", "p-stay"):
        assert rows[pid]["excluded"] == "hospice or palliative care (procedure)", pid
        assert rows[pid]["ohd_den"] == "false"
    # Dated by nothing it carries: still in the measures, and named as such.
    assert (rows["p-undated"]["excluded"], rows["p-undated"]["ohd_den"]) == ("", "true")
    assert quality["hospice_claims_undated"] == {"p-undated": 1}
    # Counted once, as the claim: its hospice care on no day is no procedure without a date as well.
    assert quality["procedures_without_date"] == 0
    summary = next(line for line in lines if line.startswith("data quality: "))
    assert "1 hospice claim with no day of care to date it by" in summary
    assert "(p-undated 1)" in summary
    assert "drug tests and hospice care with no date" not in summary


POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
BLUE_BUTTON_POS = "https://bluebutton.cms.gov/resources/variables/line_place_of_srvc_cd"


def test_a_professional_claim_at_a_hospice_place_of_service_is_hospice_care() -> None:
    # A physician's visit billed at place of service 34 (hospice) is care given in hospice; read before by its
    # office-visit code alone, it excluded no one.
    for system in (POS, BLUE_BUTTON_POS):
        claim = professional_claim("prof-h", "p1", "2026-02-10", "M54.50")
        claim["item"][0]["locationCodeableConcept"] = {"coding": [{"system": system, "code": "34"}]}
        care = [
            r for r in claim_resources(claim) if r.get("code", {}).get("coding", [{}])[0].get("code") == "385763009"
        ]
        assert [c["performedPeriod"] for c in care] == [{"start": "2026-02-10", "end": "2026-02-10"}], system
    office = professional_claim("prof-o", "p1", "2026-02-10", "M54.50")
    office["item"][0]["locationCodeableConcept"] = {"coding": [{"system": POS, "code": "11"}]}  # an office
    assert not any(r.get("code", {}).get("coding", [{}])[0].get("code") == "385763009" for r in claim_resources(office))
