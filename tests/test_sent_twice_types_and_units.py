"""One fill sent twice, told from two real fills by what kind of fill each is (MedicationDispense.type, HL7 v3
ActPharmacySupplyType) and by the unit of its quantity. A pharmacy that ran short hands over 30 tablets now and 30
later the same day, a trial fill is followed by its balance: equal fills of one prescription on one day, both real.
Read as one, the patient's supply was lost (a missed card); an EHR fill and the payer's claim for it stay one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from builders import NOW, PATIENT_ID, TZ, patient
from synthetic_export import dispense
from test_fills_sent_twice import EPIC_RX_NUMBER, OXYCODONE_10, carin_claim, epic_dispense, total_on_card
from test_population_fill_sources import NDC_CONFIG, OXY_SOLUTION, _evaluate, _liquid, _liquid_claim, _row

from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.fhirdata import Coding, Concept
from guideline.record import build_record
from guideline.sent_twice import FillMarks, same_fill

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"  # R4
ACT_CODE_STU3 = "http://hl7.org/fhir/v3/ActCode"  # STU3 and DSTU2
DISPLAYS = {
    "FFC": "First Fill - Complete",
    "FFP": "First Fill - Part Fill",
    "RFP": "Refill - Part Fill",
    "TF": "Trial Fill",
    "TB": "Trial Balance",
}


def supply_type(code: str, system: str = ACT_CODE) -> dict[str, Any]:
    """MedicationDispense.type as Oracle Health and the FHIR examples send it (coding plus text)."""
    return {"coding": [{"system": system, "code": code, "display": DISPLAYS.get(code, code)}], "text": DISPLAYS[code]}


def part_fill(ident: str, at: str, code: str = "FFP", **changes: Any) -> dict[str, Any]:
    """Part of an Epic fill of oxycodone 10 mg, no fill number sent: 30 tablets for 15 days (30 MME/day) handed over
    on 2026-05-25 at `at` (UTC), on the same prescription, prescriber and pharmacy as every other part."""
    written: dict[str, Any] = {
        "identifier": [],
        "type": supply_type(code),
        "quantity": {"value": 30, "unit": "Tablet"},
        "daysSupply": {"value": 15, "unit": "Day", "system": "http://unitsofmeasure.org", "code": "d"},
        "whenHandedOver": f"2026-05-25T{at}Z",
    }
    return epic_dispense(ident, **{**written, **changes})


def claim_for_a_part() -> dict[str, Any]:
    """The payer's CARIN claim for one part: 30 tablets (no unit, NCPDP billing units) for 15 days on 2026-05-25. A
    claim says nothing of the fill's type."""
    claim = carin_claim("eob-pde-9120")
    claim["billablePeriod"] = {"start": "2026-05-25"}
    claim["supportingInfo"][0]["valueQuantity"] = {"value": 15}
    claim["item"][0].update(servicedDate="2026-05-25", quantity={"value": 30})
    return claim


def fills_read(*chart: dict[str, Any]) -> list[str | None]:
    """The ids of the fills the engine reads, each fill sent twice read once."""
    record = build_record([patient(), *chart], TZ)
    facts = evaluate(record, HookContext("patient-view", PATIENT_ID), GuidelineConfig.from_mapping(), NOW).facts
    return [d.id for d in facts.record.dispenses]


# ---------------------------------------------------------------------------------------------------------------
# The kind of fill: MedicationDispense.type


def test_two_equal_part_fills_of_one_prescription_on_one_day_both_count(tmp_path: Path) -> None:
    # The pharmacy ran short: 30 tablets at 09:10 and the other 30 at 17:45. Read as one, the second part's supply
    # was lost: the card said 90 MME/day (the draft alone) where the second part is current today (30 more).
    morning, evening = part_fill("eM8k2-part1", "13:10:00"), part_fill("eM8k2-part2", "21:45:00")
    assert fills_read(morning, evening) == ["eM8k2-part1", "eM8k2-part2"]
    assert total_on_card(tmp_path, morning, evening) == "120"


def test_a_trial_fill_and_its_balance_on_one_day_both_count(tmp_path: Path) -> None:
    trial = part_fill("eM8k2-trial", "13:10:00", code="TF")
    balance = part_fill("eM8k2-balance", "21:45:00", code="TB")
    assert fills_read(trial, balance) == ["eM8k2-trial", "eM8k2-balance"]
    assert total_on_card(tmp_path, trial, balance) == "120"


def test_fills_of_different_kinds_are_two_fills_even_handed_over_at_one_day_and_quantity() -> None:
    # A part fill and a complete fill of the same quantity: nothing but day and quantity makes them one.
    assert fills_read(part_fill("f-part", "13:10:00"), part_fill("f-full", "21:45:00", code="FFC")) == [
        "f-part",
        "f-full",
    ]


def test_a_part_fill_sent_again_by_a_gateway_at_its_own_moment_counts_once(tmp_path: Path) -> None:
    # The same part fill resent under a gateway's id: one moment of hand-over, written to the second, ties them.
    # Its STU3 copy spells the code system the STU3 way, and the time in the sender's offset: still one.
    part = part_fill("eM8k2-part1", "13:10:00")
    copy = {**part, "id": "hie-gw-MedicationDispense-20260525-0913", "type": supply_type("FFP", ACT_CODE_STU3)}
    copy["whenHandedOver"] = "2026-05-25T09:10:00-04:00"
    assert fills_read(part, copy) == ["eM8k2-part1"]
    assert total_on_card(tmp_path, part, copy) == "90"


def test_a_part_fill_and_its_claim_count_once_the_claim_has_no_type(tmp_path: Path) -> None:
    # The claim carries no type: its absence is no difference, and the claim stays a copy of the EHR's fill.
    assert total_on_card(tmp_path, part_fill("eM8k2-part1", "13:10:00"), claim_for_a_part()) == "90"


def test_two_part_fills_and_their_claims_are_two_fills(tmp_path: Path) -> None:
    # Each claim is a copy of a part; the parts stay two.
    claims = (claim_for_a_part(), {**claim_for_a_part(), "id": "eob-pde-9121"})
    chart = (part_fill("eM8k2-part1", "13:10:00"), part_fill("eM8k2-part2", "21:45:00"), *claims)
    assert sorted(fills_read(*chart)) == ["eM8k2-part1", "eM8k2-part2"]
    assert total_on_card(tmp_path, *chart) == "120"


def test_a_shared_fill_number_does_not_make_two_part_fills_one() -> None:
    # NCPDP sends both parts of one fill under its prescription and fill number: the number names the fill the
    # parts belong to, not the part.
    number = [{"use": "usual", "system": EPIC_RX_NUMBER, "value": "4471920-00"}]
    first = part_fill("eM8k2-part1", "13:10:00", identifier=number)
    second = part_fill("eM8k2-part2", "21:45:00", identifier=number)
    assert fills_read(first, second) == ["eM8k2-part1", "eM8k2-part2"]


def test_part_fills_written_without_a_time_of_day_are_two_fills() -> None:
    # Dated only: nothing tells a copy from the second part, so both are counted (PainPlan errs to counting twice).
    first = {**part_fill("p1", "13:10:00"), "whenHandedOver": "2026-05-25"}
    assert fills_read(first, {**first, "id": "p2"}) == ["p1", "p2"]


def test_the_record_reads_a_fills_type_in_r4_stu3_and_dstu2_spellings() -> None:
    r4 = part_fill("r4", "13:10:00")
    stu3 = {**part_fill("stu3", "13:10:00"), "type": supply_type("RFP", ACT_CODE_STU3)}
    dstu2 = {**part_fill("dstu2", "13:10:00"), "type": {"text": "Trial Fill"}}
    untyped = epic_dispense("none")
    read = {d.id: d.supply_type for d in build_record([r4, stu3, dstu2, untyped], TZ).dispenses}
    assert read["r4"] == Concept((Coding(ACT_CODE, "FFP", "First Fill - Part Fill"),), "First Fill - Part Fill")
    assert read["stu3"] is not None and read["stu3"].codes(ACT_CODE_STU3) == ("RFP",)
    assert read["dstu2"] == Concept((), "Trial Fill")
    assert read["none"] is None


# ---------------------------------------------------------------------------------------------------------------
# The unit of the quantity


def _marks(**changes: Any) -> FillMarks:
    """Oxycodone 10 mg #60 tablets for 30 days on 2026-05-06, by drA at ph1, on prescription o1."""
    marks = FillMarks(
        day=date(2026, 5, 6),
        drug=f"rxnorm:{OXYCODONE_10}",
        quantity=Decimal(60),
        days_supply=Decimal(30),
        prescriber="Practitioner/drA",
        pharmacy="Organization/ph1",
        numbers=frozenset(),
        prescriptions=frozenset({"MedicationRequest/o1"}),
        claim=None,
    )
    return replace(marks, **changes)


def unit_marks(quantity: dict[str, Any], ident: str = "f1", claim: bool = False) -> FillMarks:
    """The marks the point of care reads for an Epic fill of 60 of oxycodone 10 mg with this quantity."""
    from guideline.fills import same_drug_key
    from guideline.sent_twice import fill_marks
    from guideline.terminology import load_terminology

    fill = epic_dispense(ident, quantity=quantity)
    if claim:
        fill["extension"] = [{"url": "urn:painplan:fill-read-from-claim", "valueString": "eob-1"}]
        fill["quantity"] = {
            **quantity,
            "extension": [{"url": "urn:painplan:quantity-in-ncpdp-billing-units", "valueBoolean": True}],
        }
    read = build_record([fill], TZ).dispenses[0]
    config = GuidelineConfig.from_mapping()
    return fill_marks(read, same_drug_key(read, load_terminology(config)), "Practitioner/drA", None)


def test_sixty_tablets_and_sixty_ml_are_two_fills() -> None:
    tablets = unit_marks({"value": 60, "unit": "Tablet"})
    assert not same_fill(tablets, unit_marks({"value": 60, "unit": "mL", "system": "http://unitsofmeasure.org"}))
    assert not same_fill(tablets, unit_marks({"value": 60, "unit": "mg"}))
    assert not same_fill(tablets, unit_marks({"value": 60, "unit": "box"}))


def test_a_unit_spelled_another_way_is_the_same_unit() -> None:
    tablets = unit_marks({"value": 60, "unit": "Tablet"})
    for spelled in (
        {"value": 60, "unit": "tab(s)", "system": "http://unitsofmeasure.org", "code": "{tbl}"},  # Oracle Health
        {"value": 60, "unit": "TAB", "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"},
        {"value": 60.0, "unit": "tablets"},
        {"value": 60, "unit": "EA"},  # NCPDP's billing unit for a tablet
    ):
        assert same_fill(tablets, unit_marks(spelled)), spelled
    ml = unit_marks({"value": 60, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"})
    assert same_fill(ml, unit_marks({"value": 60, "unit": "ML"}))
    assert same_fill(ml, unit_marks({"value": 60, "unit": "milliliter"}))
    assert not same_fill(ml, unit_marks({"value": 60, "unit": "L"}))


@pytest.mark.parametrize("system", ["http://ncimeta.nci.nih.gov", "urn:oid:2.16.840.1.113883.3.26.1.1"])
def test_a_unit_sent_only_as_its_nci_code_is_that_unit(tmp_path: Path, system: str) -> None:
    # Oracle Health and CARIN send the FDA SPL unit as its NCI Thesaurus code with no unit text. Read as an unknown
    # unit, the EHR's fill and the payer's claim for it (a bare quantity) were two fills: 180 MME/day for 90.
    tablets = {"value": 180, "system": system, "code": "C48542"}
    assert total_on_card(tmp_path, epic_dispense(quantity=tablets), carin_claim()) == "90"
    coded = unit_marks({"value": 60, "system": system, "code": "C48542"})
    assert same_fill(coded, unit_marks({"value": 60, "unit": "Tablet"}))
    assert not same_fill(coded, unit_marks({"value": 60, "system": system, "code": "C28254"}))
    assert same_fill(
        unit_marks({"value": 60, "system": system, "code": "C28254"}), unit_marks({"value": 60, "unit": "mL"})
    )


def test_a_quantity_with_no_unit_is_one_with_a_unit_it_can_mean() -> None:
    # A dispense's bare number is a count of dose units (PainPlan reads it so): one with 60 tablets, not with 60 mL,
    # which it may or may not mean (mL or bottles: a dispense does not say), so both are counted.
    bare = unit_marks({"value": 60})
    assert same_fill(bare, unit_marks({"value": 60, "unit": "Tablet"}))
    assert not same_fill(bare, unit_marks({"value": 60, "unit": "mL"}))
    assert same_fill(bare, unit_marks({"value": 60}))
    # A claim's bare number is in NCPDP billing units: each (a tablet), mL or g, never a box.
    claimed = unit_marks({"value": 60}, claim=True)
    assert claimed.in_billing_units
    for unit in ("Tablet", "mL", "g"):
        assert same_fill(claimed, unit_marks({"value": 60, "unit": unit})), unit
    assert not same_fill(claimed, unit_marks({"value": 60, "unit": "box"}))


def test_an_oral_solution_in_ml_and_its_claim_with_no_unit_count_once() -> None:
    # The EHR's fill says 450 mL; the payer's claim 450 in billing units (mL for a liquid): one fill.
    fills = [_liquid("m1", "q", OXY_SOLUTION, "2026-01-05", 450, 30)]
    claims = [_liquid_claim("c1", "q", "2026-01-05", False, ndc=False)]
    outcome = _evaluate("q", [patient("q"), *fills, *claims], NDC_CONFIG)
    assert (_row(outcome)["opioid_fills"], outcome.quality.duplicate_fills) == (1, 1)


def test_an_oral_solution_in_ml_and_a_fill_with_no_unit_are_two_fills() -> None:
    # Same day, drug, days and actors; one in mL, the other a bare 450 an EHR wrote (mL or bottles, unknown):
    # both are counted, and the bare one is named as a fill PainPlan could not read an MME for.
    bare = dispense("m2", "r", OXY_SOLUTION, "2026-01-05", 450, 30, "drA", "ph1")
    outcome = _evaluate("r", [patient("r"), _liquid("m1", "r", OXY_SOLUTION, "2026-01-05", 450, 30), bare])
    assert (_row(outcome)["opioid_fills"], outcome.quality.duplicate_fills) == (2, 0)
    assert sum(outcome.quality.fills_without_mme.values()) == 1


def test_marks_of_a_fill_with_no_type_and_no_unit_keep_the_old_rule() -> None:
    # The payer's copy of a fill: no type, no unit, read from a claim, naming no prescription.
    assert same_fill(_marks(), _marks(claim="eob-1", prescriptions=frozenset()))
