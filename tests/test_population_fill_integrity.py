"""What a fill is, in a payer's or an EHR's export: a fill whose MME cannot be calculated, a claim an adjustment
replaces or a reversal cancels, two versions of one fill, and dates less precise than a day. None may count as a
fill it is not, dilute an average in silence, or settle an age the data does not settle."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from synthetic_export import (
    OXYCODONE_5,
    OXYCODONE_10,
    dispense,
    medication_concept,
    patient,
    write_ndjson,
)
from test_population_measures import PERIOD, TODAY

from guideline.config import GuidelineConfig
from guideline.fhirdata import written_days
from guideline.fills import fill_mme
from guideline.population import Directory, PatientOutcome, evaluate_patient
from guideline.record import build_record
from guideline.terminology import load_terminology
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
# 1. A fill whose MME cannot be calculated


def test_a_fill_with_no_quantity_is_left_out_of_the_average_and_named() -> None:
    # The third fill (no quantity) stretched the episode to March 31 and counted as 0 MME: 90 became 62.79.
    third = dispense("p-f3", "p", OXYCODONE_10, "2026-03-06", None, 30, "drA", "ph1")
    outcome = _evaluate("p", [patient("p"), *_high_dose("p"), third])
    row = outcome.row
    assert row is not None
    assert (row["avg_mme"], row["ohd_den"], row["ohd_num"]) == (90.0, True, True)
    # Still a fill of a known days' supply: it counts towards the days-supply measures, as PQA sums days' supply.
    assert (row["opioid_fills"], row["days_supply"], row["amo_den"]) == (3, 90.0, True)
    assert (row["episode_start"], row["episode_end"]) == (date(2026, 1, 5), date(2026, 3, 31))
    assert row["partial"] == "OHD,NAL"
    evidence = json.loads(row["evidence"])
    assert any("26 days covered only by fills with no MME are left out" in e for e in evidence["OHD"])
    assert "(90.0 × 30 days + 90.0 × 30 days) ÷ 60 = 90.0 MME/day" in evidence["OHD"][-1]
    assert "the fill has no quantity dispensed" in evidence["partial"][0]
    assert dict(outcome.quality.fills_without_mme) == {"no-quantity": 1}


def test_when_no_fill_has_an_mme_there_is_no_average_and_the_result_is_partial() -> None:
    fills = [
        dispense("q-f1", "q", OXYCODONE_10, "2026-01-05", None, 30, "drA", "ph1"),
        dispense("q-f2", "q", OXYCODONE_10, "2026-02-04", None, 30, "drA", "ph1"),
    ]
    row = _evaluate("q", [patient("q"), *fills]).row
    assert row is not None
    assert (row["avg_mme"], row["ohd_den"], row["ohd_num"]) == (None, True, False)
    assert row["partial"] == "OHD,IOP-HD,NAL"  # the first fill starts the new supply too


def test_an_initiation_fill_of_unknown_mme_makes_the_initial_high_dosage_partial() -> None:
    fills = [
        dispense("i-f1", "i", OXYCODONE_5, "2026-02-01", 20, 5, "drA", "ph1"),  # 30 MME/day
        dispense("i-f2", "i", OXYCODONE_10, "2026-02-01", None, 5, "drA", "ph1"),
    ]
    row = _evaluate("i", [patient("i"), *fills]).row
    assert row is not None
    assert (row["iop_hd_den"], row["iop_hd_num"], row["partial"]) == (True, False, "IOP-HD")


def test_a_reversal_is_no_fill_of_unknown_mme() -> None:
    # A quantity of −180 was read as "the fill has no quantity dispensed": a fill of unknown MME, partial results.
    reversal = dispense("p-r3", "p", OXYCODONE_10, "2026-03-06", -180, 30, "drA", "ph1")
    outcome = _evaluate("p", [patient("p"), *_high_dose("p"), reversal])
    assert outcome.row is not None and outcome.row["partial"] is None
    assert not outcome.quality.fills_without_mme


def test_a_complete_record_is_not_partial() -> None:
    row = _evaluate("p", [patient("p"), *_high_dose("p")]).row
    assert row is not None and row["partial"] is None
    assert "partial" not in json.loads(row["evidence"])


# ---------------------------------------------------------------------------------------------------------------
# 2. Reversals and adjustments


def test_a_negative_quantity_is_named_as_such_at_the_point_of_care_too() -> None:
    # The hook's fill reader said "the fill has no quantity dispensed" for a quantity of −180.
    record = build_record([dispense("n1", "p", OXYCODONE_10, "2026-02-04", -180, 30)], ZoneInfo("America/New_York"))
    found = fill_mme(record.dispenses[0], load_terminology(CONFIG), CONFIG)
    assert (found.state, found.reason) == ("unknown", "negative-quantity")
    assert "quantity is negative" in found.explanation


def test_a_negative_quantity_dispense_reverses_its_fill() -> None:
    reversal = dispense("p-r2", "p", OXYCODONE_10, "2026-02-04", -180, 30, "drA", "ph1")
    outcome = _evaluate("p", [patient("p"), *_high_dose("p"), reversal])
    row = outcome.row
    assert row is not None
    assert (row["opioid_fills"], row["days_supply"], row["ohd_den"]) == (1, 30.0, False)
    assert (outcome.quality.fills_reversed, outcome.quality.reversals_unmatched) == (1, 0)


def test_an_r5_reversal_cancels_its_fill() -> None:
    # R5 names a fill's medicine `medication` (a CodeableReference): read by R4's names only, no reversal matched.
    def r5(fill: dict) -> dict:
        return {**{k: v for k, v in fill.items() if k != "medicationCodeableConcept"},
                "medication": {"concept": fill["medicationCodeableConcept"]}}  # fmt: skip

    reversal = dispense("p-r2", "p", OXYCODONE_10, "2026-02-04", -180, 30, "drA", "ph1")
    outcome = _evaluate("p", [patient("p"), *map(r5, _high_dose("p")), r5(reversal)])
    assert outcome.row is not None and outcome.row["opioid_fills"] == 1
    assert (outcome.quality.fills_reversed, outcome.quality.reversals_unmatched) == (1, 0)


def test_a_reversal_with_no_fill_to_cancel_is_dropped_and_counted_not_read_as_a_fill() -> None:
    reversal = dispense("p-r3", "p", OXYCODONE_10, "2026-03-06", -180, 30, "drA", "ph1")
    outcome = _evaluate("p", [patient("p"), *_high_dose("p"), reversal])
    row = outcome.row
    assert row is not None
    assert (row["opioid_fills"], row["avg_mme"], row["amo_den"]) == (2, 90.0, False)
    assert (outcome.quality.fills_reversed, outcome.quality.reversals_unmatched) == (0, 1)


def test_a_reversal_claim_cancels_the_claim_it_reverses() -> None:
    claims = [
        pharmacy_claim("c1", "p", "2026-01-05", rx_number="RX1"),
        pharmacy_claim("c2", "p", "2026-02-04", rx_number="RX2"),
        pharmacy_claim("c2r", "p", "2026-02-04", quantity=-180, days=-30, rx_number="RX2"),
    ]
    outcome = _evaluate("p", [patient("p"), *claims])
    row = outcome.row
    assert row is not None
    assert (row["opioid_fills"], row["days_supply"], row["ohd_den"]) == (1, 30.0, False)
    quality = outcome.quality
    assert (quality.fills_reversed, quality.reversals_unmatched, quality.claims_read) == (1, 0, 1)
    assert quality.fills_without_days_supply == 0  # the reversal's −30 days is no fill without days' supply


def test_a_reversal_of_another_prescription_number_or_pharmacy_cancels_nothing() -> None:
    claims = [
        pharmacy_claim("c1", "p", "2026-01-05", rx_number="RX1"),
        pharmacy_claim("c2", "p", "2026-02-04", rx_number="RX2"),
        pharmacy_claim("c9r", "p", "2026-02-04", quantity=-180, rx_number="RX9"),
        pharmacy_claim("c8r", "p", "2026-02-04", quantity=-180, rx_number="RX2", pharmacy="ph2"),
    ]
    outcome = _evaluate("p", [patient("p"), *claims])
    assert outcome.row is not None and outcome.row["opioid_fills"] == 2
    assert (outcome.quality.fills_reversed, outcome.quality.reversals_unmatched) == (0, 2)


def test_an_adjustment_replaces_the_claim_it_names_as_prior() -> None:
    # Case C: the adjustment and the claim it replaces were both read as fills (days' supply 60 → 90).
    adjusted = pharmacy_claim(
        "c2a", "p", "2026-02-04", quantity=120, related=_related("prior", claim={"reference": "Claim/c2"})
    )
    claims = [pharmacy_claim("c1", "p", "2026-01-05"), pharmacy_claim("c2", "p", "2026-02-04"), adjusted]
    outcome = _evaluate("p", [patient("p"), *claims])
    row = outcome.row
    assert row is not None
    # The adjusted quantity is read: (90 × 30 + 60 × 30) ÷ 60 = 75.
    assert (row["opioid_fills"], row["days_supply"], row["avg_mme"], row["amo_den"]) == (2, 60.0, 75.0, False)
    assert (outcome.quality.claims_replaced, outcome.quality.claims_read) == (1, 2)


def test_an_adjustment_names_the_claim_it_replaces_by_its_claim_number() -> None:
    identifier = {"system": CLAIM_ID, "value": "CLM-c2"}
    adjusted = pharmacy_claim("c2a", "p", "2026-02-04", related=_related("prior", reference=identifier))
    claims = [pharmacy_claim("c1", "p", "2026-01-05"), pharmacy_claim("c2", "p", "2026-02-04"), adjusted]
    outcome = _evaluate("p", [patient("p"), *claims])
    assert outcome.row is not None and outcome.row["opioid_fills"] == 2
    assert outcome.quality.claims_replaced == 1


def test_a_claim_that_says_it_was_replaced_by_another_in_the_export_is_dropped() -> None:
    old = pharmacy_claim(
        "c2", "p", "2026-02-04", related=_related("replacedby", CARIN_RELATED, claim={"reference": "Claim/c2a"})
    )
    claims = [pharmacy_claim("c1", "p", "2026-01-05"), old, pharmacy_claim("c2a", "p", "2026-02-04")]
    outcome = _evaluate("p", [patient("p"), *claims])
    assert outcome.row is not None and outcome.row["opioid_fills"] == 2
    assert outcome.quality.claims_replaced == 1
    # A replacement the export does not hold leaves the claim standing: it is the only record of the fill.
    alone = _evaluate("p", [patient("p"), pharmacy_claim("c1", "p", "2026-01-05"), old])
    assert alone.row is not None and alone.row["opioid_fills"] == 2
    assert alone.quality.claims_replaced == 0


def test_the_same_fill_billed_twice_counts_once() -> None:
    # Case D: one claim sent twice (its claim number under two resource ids) made 90 days' supply of 45 and put the
    # patient in AMO. (Two claim numbers of one payer are two paid claims, two fills: test_population_part_fills.)
    claims = [
        pharmacy_claim("a1", "q", "2026-02-01", quantity=90, days=45, drug=OXYCODONE_5),
        {**pharmacy_claim("a1", "q", "2026-02-01", quantity=90, days=45, drug=OXYCODONE_5), "id": "a1dup"},
    ]
    outcome = _evaluate("q", [patient("q"), *claims])
    row = outcome.row
    assert row is not None
    assert (row["opioid_fills"], row["days_supply"], row["amo_den"]) == (1, 45.0, False)
    assert outcome.quality.duplicate_claim_fills == 1


def test_reverse_and_rebill_leaves_one_fill() -> None:
    # A pharmacy reverses a claim and bills it again under a new number: one fill, not none and not two.
    claims = [
        pharmacy_claim("c1", "p", "2026-01-05"),
        pharmacy_claim("c2", "p", "2026-02-04"),
        pharmacy_claim("c2r", "p", "2026-02-04", quantity=-180),
        pharmacy_claim("c2b", "p", "2026-02-04"),
    ]
    outcome = _evaluate("p", [patient("p"), *claims])
    assert outcome.row is not None and outcome.row["opioid_fills"] == 2
    assert (outcome.quality.fills_reversed, outcome.quality.duplicate_claim_fills) == (1, 0)


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


# ---------------------------------------------------------------------------------------------------------------
# 4. Dates less precise than a day


def test_written_days_spans_what_a_partial_date_can_mean() -> None:
    assert written_days("2008") == (date(2008, 1, 1), date(2008, 12, 31))
    assert written_days("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert written_days("2008-06-15") == (date(2008, 6, 15), date(2008, 6, 15))
    assert written_days("2026-04-01T02:00:00Z") == (date(2026, 4, 1), date(2026, 4, 1))
    assert written_days("soon") is None and written_days(None) is None and written_days("2008-13") is None


def test_a_birth_date_that_cannot_settle_the_age_keeps_the_patient_out_of_every_denominator() -> None:
    # Born in 2008 (or January 2008): 18 on 2026-01-01 only if born on January 1. Read as 2008-01-01, a probable
    # 17-year-old entered the OHD and IOP denominators.
    for birth in ("2008", "2008-01"):
        outcome = _evaluate("c", [patient("c", birth), *_high_dose("c")])
        row = outcome.row
        assert row is not None
        assert not any(row[f"{m}_den"] for m in ("ohd", "omp", "ohdmp", "cob", "iop_hd", "iop_ld", "iop_la",
                                                 "amo", "nal")), birth  # fmt: skip
        assert row["excluded"] == "age not settled (possibly under 18)"
        assert row["birth_date"] is None  # no day to show: "2008-01-01" would be a guess
        assert f"birth date recorded as {birth}" in json.loads(row["evidence"])["excluded"][0]
        assert outcome.quality.patients_age_unsettled == 1


def test_a_partial_birth_date_that_settles_the_age_is_read() -> None:
    adult = _evaluate("a", [patient("a", "2007"), *_high_dose("a")])  # 18 or 19 on 2026-01-01
    assert adult.row is not None and adult.row["ohd_den"] and adult.row["excluded"] is None
    assert adult.quality.patients_age_unsettled == 0
    minor = _evaluate("m", [patient("m", "2008-06"), *_high_dose("m")])  # 17 whatever the day
    assert minor.row is not None and minor.row["excluded"] == "under 18"
    assert minor.quality.patients_age_unsettled == 0


def test_a_fill_dated_only_by_month_or_year_is_no_dated_fill_and_is_counted() -> None:
    # "2026-01" and "2026-02" read as the 1st of each month shifted the episode; "2026" counted in Q1.
    by_month = _evaluate("a", [patient("a"), *_high_dose_on("a", "2026-01", "2026-02")])
    assert by_month.row is None  # no fill dated to the day: not in the cohort
    assert by_month.quality.fills_without_date == 2
    by_year = _evaluate("b", [patient("b"), *_high_dose_on("b", "2026-01-05", "2026")])
    assert by_year.row is not None and by_year.row["opioid_fills"] == 1 and not by_year.row["ohd_den"]
    assert by_year.quality.fills_without_date == 1


def test_a_fill_prepared_on_a_day_keeps_that_day_when_handed_over_in_a_month() -> None:
    fills = _high_dose_on("c", "2026-01-05", "2026-02")
    fills[1]["whenPrepared"] = "2026-02-10"
    outcome = _evaluate("c", [patient("c"), *fills])
    row = outcome.row
    assert row is not None and row["opioid_fills"] == 2
    # Read as February 1, it queued behind the first fill (Feb 4 – Mar 5); prepared on Feb 10, it ends Mar 11.
    assert row["episode_end"] == date(2026, 3, 11)
    assert outcome.quality.fills_without_date == 0


def test_a_claim_dated_by_month_is_no_dated_fill() -> None:
    outcome = _evaluate(
        "p", [patient("p"), pharmacy_claim("c1", "p", "2026-01-05"), pharmacy_claim("c2", "p", "2026-02")]
    )
    assert outcome.row is not None and outcome.row["opioid_fills"] == 1
    assert outcome.quality.fills_without_date == 1


def _high_dose_on(pid: str, first: str, second: str) -> list[dict]:
    return [
        dispense(f"{pid}-f1", pid, OXYCODONE_10, first, 180, 30, "drA", "ph1"),
        dispense(f"{pid}-f2", pid, OXYCODONE_10, second, 180, 30, "drA", "ph1"),
    ]


def test_summary_names_the_new_counts() -> None:
    from guideline.population import Quality

    quality = Quality(resource_conflicts=1, claims_replaced=2, fills_reversed=3, reversals_unmatched=4)
    quality.duplicate_claim_fills = 5
    quality.patients_age_unsettled = 6
    quality.fills_without_mme["no-quantity"] = 7
    lines = quality.summary_lines()
    assert any(line.startswith("1 resource sent in differing versions") for line in lines)
    assert any(line.startswith("2 claims replaced by a later claim") for line in lines)
    assert any(line.startswith("3 fills cancelled by a reversal") for line in lines)
    assert any(line.startswith("4 reversals with no fill to cancel") for line in lines)
    assert any(line.startswith("5 claim lines billed twice") for line in lines)
    assert any(line.startswith("6 patients whose birth date cannot settle") for line in lines)
    assert "7 opioid fills whose MME could not be calculated, left out of the average (no-quantity 7)" in lines
    assert Quality.from_json(json.loads(json.dumps(quality.to_json()))).to_json() == quality.to_json()


# ---------------------------------------------------------------------------------------------------------------
# All of it in one export, as files a payer sends: both engines must read it alike (tests/test_population_spark.py)


def integrity_export() -> dict[str, list[dict]]:
    """NDJSON files (name → resources) holding each case above once."""
    first, second = _high_dose("p-ver")
    return {
        "Patient": [
            patient(pid, "1970-01-01", "Practitioner/drA")
            for pid in ("p-noqty", "p-rev", "p-claims", "p-adj", "p-dup", "p-ver", "p-month")
        ]
        + [patient("p-born08", "2008", "Practitioner/drA"), patient("p-born07", "2007", "Practitioner/drA")],
        "MedicationDispense": [
            *_high_dose("p-noqty"),
            dispense("p-noqty-f3", "p-noqty", OXYCODONE_10, "2026-03-06", None, 30, "drA", "ph1"),
            *_high_dose("p-rev"),
            dispense("p-rev-r2", "p-rev", OXYCODONE_10, "2026-02-04", -180, 30, "drA", "ph1"),
            dispense("p-rev-r9", "p-rev", OXYCODONE_10, "2026-03-09", -180, 30, "drA", "ph1"),
            first,
            {**second, "meta": {"lastUpdated": "2026-02-04T10:00:00Z"}},
            *_high_dose_on("p-month", "2026-01", "2026-02-04"),
            *_high_dose("p-born08"),
            *_high_dose("p-born07"),
        ],
        "MedicationDispense-newer": [
            {**second, "status": "entered-in-error", "meta": {"lastUpdated": "2026-02-06T09:00:00Z"}}
        ],
        "ExplanationOfBenefit": [
            pharmacy_claim("c1", "p-claims", "2026-01-05", rx_number="RX1"),
            pharmacy_claim("c2", "p-claims", "2026-02-04", rx_number="RX2"),
            pharmacy_claim("c2r", "p-claims", "2026-02-04", quantity=-180, rx_number="RX2"),
            pharmacy_claim("a1", "p-adj", "2026-01-05"),
            pharmacy_claim("a2", "p-adj", "2026-02-04"),
            pharmacy_claim(
                "a2x", "p-adj", "2026-02-04", quantity=120, related=_related("prior", claim={"reference": "Claim/a2"})
            ),
            pharmacy_claim("d1", "p-dup", "2026-02-01", quantity=90, days=45, drug=OXYCODONE_5),
            # Case D: one claim sent twice, its claim number under another resource id.
            {**pharmacy_claim("d1", "p-dup", "2026-02-01", quantity=90, days=45, drug=OXYCODONE_5), "id": "d1x"},
        ],
    }


def write_integrity_export(folder: Path) -> Path:
    for name, resources in integrity_export().items():
        write_ndjson(folder, name, resources)
    return folder


def test_an_export_holding_every_case(tmp_path: Path) -> None:
    files = ndjson_files(write_integrity_export(tmp_path / "in"))
    summary = review(files, tmp_path / "out", PERIOD, TODAY, CONFIG, workers=2)
    with open(tmp_path / "out" / "patients.csv", encoding="utf-8") as handle:
        rows = {row["patient_id"]: row for row in csv.DictReader(handle)}
    shown = {pid: (row["opioid_fills"], row["avg_mme"], row["ohd_den"], row["partial"]) for pid, row in rows.items()}
    assert shown == {
        "p-noqty": ("3", "90.0", "true", "OHD,NAL"),
        "p-rev": ("1", "90.0", "false", ""),
        "p-claims": ("1", "90.0", "false", ""),
        "p-adj": ("2", "75.0", "true", ""),
        "p-dup": ("1", "15.0", "false", ""),
        "p-ver": ("1", "90.0", "false", ""),
        "p-month": ("1", "90.0", "false", ""),
        "p-born08": ("2", "90.0", "false", ""),
        "p-born07": ("2", "90.0", "true", ""),
    }
    assert rows["p-born08"]["excluded"] == "age not settled (possibly under 18)"
    quality = json.loads((tmp_path / "out" / "data-quality.json").read_text())
    assert quality["fills_without_mme"] == {"no-quantity": 1}
    assert (quality["fills_reversed"], quality["reversals_unmatched"], quality["claims_replaced"]) == (2, 1, 1)
    assert (quality["duplicate_claim_fills"], quality["resource_conflicts"]) == (1, 1)
    assert (quality["fills_without_date"], quality["patients_age_unsettled"]) == (1, 1)
    assert "2 fills cancelled by a reversal (neither counted)" in summary[-1]
    assert "1 opioid fill whose MME could not be calculated, left out of the average (no-quantity 1)" in summary[-1]
