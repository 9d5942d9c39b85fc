"""Part fills in a claims-only export: a pharmacy that cannot fill a whole prescription hands over part now and the
rest later, billing each part as a claim under the same prescription and fill number. Each part is a dispense: its
quantity and days' supply count, once. One fill billed twice, or reversed, still counts once."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from synthetic_export import patient, write_export
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.population import Directory, PatientOutcome, evaluate_patient
from guideline.population.claims import FILL_NUMBER_SYSTEM, claim_resources
from smart_app.population.command import review
from smart_app.population.inputs import ndjson_files

NDC = "http://hl7.org/fhir/sid/ndc"
NPI = "http://hl7.org/fhir/sid/us-npi"
OXYCODONE_10_NDC = "00406055262"  # oxycodone 10 mg tablet; the payer's drug file maps it to RxNorm 1049683
CONFIG = GuidelineConfig.from_mapping({"ndc": {"rxnorm": {OXYCODONE_10_NDC: "1049683"}}})
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
CARIN = "http://hl7.org/fhir/us/carin-bb/CodeSystem/"
BB = "https://bluebutton.cms.gov/resources/variables/"
BB_INFO = "https://bluebutton.cms.gov/resources/codesystem/information"


def _carin_info(sequence: int, kind: str, **value: Any) -> dict:
    return {"sequence": sequence, "category": {"coding": [{"system": CARIN + "C4BBSupportingInfoType", "code": kind}]},
            **value}  # fmt: skip


def carin_pharmacy_claim(
    ident: str, day: str, quantity: int, days: int, refill: int = 0, related: list[dict] | None = None
) -> dict:
    """A CARIN Blue Button pharmacy explanation of benefit, as a commercial payer's Patient Access API sends it: the
    NDC dispensed, the quantity on the line, days' supply and refill number in supportingInfo."""
    claim = {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "meta": {"profile": ["http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-Pharmacy"]},
        "identifier": [
            {
                "type": {"coding": [{"system": CARIN + "C4BBIdentifierType", "code": "uc"}]},
                "system": "https://payer.example.com/claim-number",
                "value": f"2026{ident.upper()}",
            }
        ],
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "pharmacy"}]},
        "use": "claim",
        "patient": {"reference": "Patient/m1"},
        "billablePeriod": {"start": day, "end": day},
        "created": f"{day}T21:14:03-05:00",
        "insurer": {"display": "Example Health Plan"},
        "provider": {"identifier": {"system": NPI, "value": "1234567893"}, "display": "Main Street Pharmacy"},
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"identifier": {"system": NPI, "value": "1111111112"}},
                "role": {"coding": [{"system": CARIN + "C4BBClaimCareTeamRole", "code": "prescribing"}]},
            }
        ],
        "supportingInfo": [
            _carin_info(1, "dayssupply", valueQuantity={"value": days}),
            _carin_info(2, "refillnum", valueQuantity={"value": refill}),
            _carin_info(3, "refillsauthorized", valueQuantity={"value": 0}),
            _carin_info(
                4,
                "dawcode",
                code={
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/"
                            "NCPDPDispensedAsWrittenOrProductSelectionCode",
                            "code": "0",
                        }
                    ]
                },
            ),  # fmt: skip
        ],
        "outcome": "complete",
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
    if related:
        claim["related"] = related
    return claim


def part_d_event(ident: str, day: str, quantity: int, days: int, status: str | None, fill: int = 0) -> dict:
    """A Part D prescription drug event as Blue Button 2.0 and BCDA send it, with its dispensing status: P a part
    fill, C the completion of a part fill (none: the whole quantity at once)."""
    info: list[dict] = [
        {"sequence": 1, "category": {"coding": [{"system": BB_INFO, "code": BB + "days_suply_num"}]},
         "valueQuantity": {"value": days}},
        {"sequence": 2, "category": {"coding": [{"system": BB_INFO, "code": BB + "fill_num"}]},
         "valueQuantity": {"value": fill}},
    ]  # fmt: skip
    if status:
        info.append(
            {
                "sequence": 3,
                "category": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/claiminformationcategory", "code": "info"},
                        {"system": BB_INFO, "code": BB + "dspnsng_stus_cd", "display": "Dispensing Status Code"},
                    ]
                },
                "code": {"coding": [{"system": BB + "dspnsng_stus_cd", "code": status}]},
            }
        )
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": ident,
        "identifier": [
            {"system": BB + "pde_id", "value": f"89{ident}"},
            {"system": BB + "rx_srvc_rfrnc_num", "value": "000000772501"},
        ],
        "status": "active",
        "type": {
            "coding": [
                {"system": "https://bluebutton.cms.gov/resources/codesystem/eob-type", "code": "PDE"},
                {"system": CLAIM_TYPE, "code": "pharmacy"},
            ]
        },
        "patient": {"reference": "Patient/m1"},
        "billablePeriod": {"start": day, "end": day},
        "provider": {"identifier": {"system": NPI, "value": "1234567893"}},
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"identifier": {"system": NPI, "value": "1111111112"}},
                "role": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": "prescribing"}
                    ]
                },
            }
        ],  # fmt: skip
        "supportingInfo": info,
        "item": [
            {
                "sequence": 1,
                "productOrService": {"coding": [{"system": NDC, "code": OXYCODONE_10_NDC}]},
                "servicedDate": day,
                "quantity": {"value": quantity},
            }
        ],
    }


def _evaluate(claims: list[dict]) -> PatientOutcome:
    return evaluate_patient("m1", [patient("m1"), *claims], PERIOD, CONFIG, TODAY, Directory())


def _fills_and_days(outcome: PatientOutcome) -> tuple[int, float]:
    assert outcome.row is not None
    return outcome.row["opioid_fills"], outcome.row["days_supply"]


def test_a_part_fill_and_its_completion_on_one_day_are_two_dispenses() -> None:
    # 60 tablets prescribed, 30 on hand: 30 now (P) and the other 30 that evening (C), one prescription and fill
    # number. Read as one fill billed twice, the second 15 days of supply were lost.
    outcome = _evaluate(
        [part_d_event("pde1", "2026-02-02", 30, 15, "P"), part_d_event("pde2", "2026-02-02", 30, 15, "C")]
    )
    assert _fills_and_days(outcome) == (2, 30.0)
    assert outcome.quality.duplicate_claim_fills == 0


def test_two_part_fills_of_one_prescription_on_one_day_are_two_dispenses() -> None:
    outcome = _evaluate(
        [part_d_event("pde1", "2026-02-02", 20, 10, "P"), part_d_event("pde2", "2026-02-02", 20, 10, "P")]
    )
    assert _fills_and_days(outcome) == (2, 20.0)


def test_a_completion_billed_twice_is_one_dispense() -> None:
    # The same completion sent under two event ids: one dispense, counted as a copy.
    claims = [
        part_d_event("pde1", "2026-02-02", 30, 15, "P"),
        part_d_event("pde2", "2026-02-02", 30, 15, "C"),
        part_d_event("pde3", "2026-02-02", 30, 15, "C"),
    ]
    outcome = _evaluate(claims)
    assert _fills_and_days(outcome) == (2, 30.0)
    assert outcome.quality.duplicate_claim_fills == 1


def test_two_fills_of_one_prescription_on_one_day_under_two_refill_numbers_are_two_dispenses() -> None:
    # A vacation supply: refill 1 and refill 2 handed over together, each 90 tablets for 30 days (CARIN claims).
    claims = [
        carin_pharmacy_claim("c1", "2026-02-02", 90, 30, refill=1),
        carin_pharmacy_claim("c2", "2026-02-02", 90, 30, refill=2),
    ]
    outcome = _evaluate(claims)
    assert _fills_and_days(outcome) == (2, 60.0)
    assert outcome.quality.duplicate_claim_fills == 0


def test_carin_parts_of_one_fill_on_different_days_each_count_once() -> None:
    # 20 tablets for 7 days on 2 February, the remaining 70 for 23 days on the 4th, the completion naming the
    # first part as an associated claim (not a claim it replaces): both parts are read, 30 days in all.
    relationship = {"system": "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship", "code": "associated"}
    associated = [{"claim": {"reference": "Claim/c1"}, "relationship": {"coding": [relationship]}}]
    claims = [
        carin_pharmacy_claim("c1", "2026-02-02", 20, 7),
        carin_pharmacy_claim("c2", "2026-02-04", 70, 23, related=associated),
    ]
    outcome = _evaluate(claims)
    assert _fills_and_days(outcome) == (2, 30.0)
    assert (outcome.quality.duplicate_claim_fills, outcome.quality.claims_replaced) == (0, 0)


def test_two_carin_claims_alike_but_for_their_claim_numbers_are_two_fills() -> None:
    # Same day, refill number, quantity, days' supply, prescriber and pharmacy, and CARIN says no part: but two
    # claims the payer adjudicated and paid under two unique claim numbers. A payer's duplicate-claim edit rejects
    # a fill billed again, and an adjustment names the claim it replaces; so these are two dispensings (two part
    # fills of one day, which CARIN cannot mark as such). Read as one, 30 days' supply was lost.
    claims = [carin_pharmacy_claim("c1", "2026-02-02", 45, 15), carin_pharmacy_claim("c2", "2026-02-02", 45, 15)]
    claim_number = {"system": "https://payer.example.com/claim-number", "value": "2026C1"}
    assert claim_number in claim_resources(claims[0])[0]["identifier"]
    outcome = _evaluate(claims)
    assert _fills_and_days(outcome) == (2, 30.0)
    assert outcome.quality.duplicate_claim_fills == 0


def test_one_carin_claim_sent_twice_under_two_resource_ids_is_read_once() -> None:
    # The payer's API re-issued resource ids between two extracts: one claim number, so one fill billed once.
    first = carin_pharmacy_claim("c1", "2026-02-02", 90, 30)
    again = {**carin_pharmacy_claim("c1", "2026-02-02", 90, 30), "id": "9f0c2a"}
    outcome = _evaluate([first, again])
    assert _fills_and_days(outcome) == (1, 30.0)
    assert outcome.quality.duplicate_claim_fills == 1


def test_one_fill_billed_to_two_payers_is_read_once() -> None:
    # Coordination of benefits in an ACO's merged export: the primary and the secondary payer each paid a claim for
    # the same fill, each under its own claim-number system. Nothing numbers them apart: one fill billed twice.
    primary = carin_pharmacy_claim("c1", "2026-02-02", 90, 30)
    secondary = carin_pharmacy_claim("c7", "2026-02-02", 90, 30)
    secondary["identifier"][0]["system"] = "https://medicaid.example.gov/tcn"
    outcome = _evaluate([primary, secondary])
    assert _fills_and_days(outcome) == (1, 30.0)
    assert outcome.quality.duplicate_claim_fills == 1


def test_a_reversed_part_fill_cancels_only_itself() -> None:
    # The completion reversed (a negative quantity) and not billed again: the part fill alone is left.
    claims = [
        part_d_event("pde1", "2026-02-02", 30, 15, "P"),
        part_d_event("pde2", "2026-02-02", 30, 15, "C"),
        part_d_event("pde2r", "2026-02-02", -30, 15, "C"),
    ]
    outcome = _evaluate(claims)
    assert _fills_and_days(outcome) == (1, 15.0)
    assert outcome.quality.fills_reversed == 1


def test_a_claim_that_names_no_prescriber_or_pharmacy_is_not_tied_to_another_by_its_refill_number() -> None:
    # Two anonymous claims of one day and drug were two fills, nothing naming them as one: a refill number of 0
    # in common (every first fill has it) must not make them one.
    bare = [carin_pharmacy_claim(f"c{n}", "2026-02-02", 90, 30) for n in (1, 2)]
    for claim in bare:
        del claim["provider"], claim["careTeam"]
    assert all(
        FILL_NUMBER_SYSTEM not in str(fill.get("identifier")) for claim in bare for fill in claim_resources(claim)
    )
    assert _fills_and_days(_evaluate(bare)) == (2, 60.0)


def test_the_review_reads_a_part_fill_and_its_completion_as_two_fills(tmp_path: Path) -> None:
    # End to end on the DuckDB engine: the export's two Part D events of one day are 30 days' supply, not 15.
    write_export(tmp_path / "in", [patient("m1"), part_d_event("pde1", "2026-02-02", 30, 15, "P"),
                                   part_d_event("pde2", "2026-02-02", 30, 15, "C")])  # fmt: skip
    review(ndjson_files(tmp_path / "in"), tmp_path / "out", PERIOD, TODAY, CONFIG, workers=1)
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    assert (row["opioid_fills"], float(row["days_supply"])) == ("2", 30.0)
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert (quality["claims_read"], quality["duplicate_claim_fills"]) == (2, 0)


def test_a_fill_number_that_is_no_number_is_no_fill_number() -> None:
    # json.loads reads NaN: such a refill number says nothing, and the claim is still read as its fill.
    claim = carin_pharmacy_claim("c1", "2026-02-02", 90, 30)
    claim["supportingInfo"][1]["valueQuantity"]["value"] = float("nan")
    (fill,) = claim_resources(claim)
    assert FILL_NUMBER_SYSTEM not in str(fill["identifier"]) and fill["quantity"]["value"] == 90  # its claim number
