"""Reading a dose the way EHRs write it, and never guessing one PainPlan cannot read (MME not computable).

Each case is a wrong MME an adversarial review found: a unit word PainPlan did not know read as a count of tablets,
a mass dose on a combination product read as mg of the opioid, a daily cap in another unit dropped, dated taper
steps added together, and days of the week ignored. Evaluation date 2026-06-15.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import card, run
from fixtures.mme.helpers import RXNORM, UCUM, config, dosage, every, med_request, mme, terms

from guideline.fills import fill_mme
from guideline.record import build_record
from tests.builders import TZ

SNOMED = "http://snomed.info/sct"
OXYCODONE_5 = "1049621"
OXYCODONE_10 = "1049683"
PERCOCET = "1049640"  # acetaminophen 325 mg / oxycodone 5 mg tablet
HYDROCODONE_APAP_10 = "856999"  # acetaminophen 325 mg / hydrocodone 10 mg tablet
TYLENOL_3 = "993781"  # acetaminophen 300 mg / codeine 30 mg tablet
FIORICET_CODEINE = "993943"  # acetaminophen 325 / butalbital 50 / caffeine 40 / codeine 30 mg capsule
OXYCODONE_APAP_SOLUTION = "1049580"  # acetaminophen 65 mg/mL / oxycodone 1 mg/mL
PROMETHAZINE_CODEINE = "991486"  # codeine 2 mg/mL / promethazine 1.25 mg/mL
FENTANYL_25 = "245134"
METHADONE_10 = "864706"


def cerner_qty(value: Any, unit: str, code: str | None = None) -> dict[str, Any]:
    """A dose as Oracle Health (Cerner) sends it: free-text unit, SNOMED-coded."""
    result: dict[str, Any] = {"value": value, "unit": unit, "system": SNOMED}
    if code:
        result["code"] = code
    return result


def only(resource: dict[str, Any]):
    summary = mme(resource)
    assert len(summary.orders) == 1
    return summary.orders[0]


# --- 1. unit words: common EHR spellings are read, unknown words are never a count ------------------------------


@pytest.mark.parametrize(
    ("value", "unit"),
    [
        (10, "mg(s)"),
        (10, "MG(S)"),
        (10, "mg."),
        (10, "mgs"),
        (10, "milligram(s)"),
        (10000, "mcg(s)"),
        (10000, "microgram(s)"),
        (0.01, "gram(s)"),
        (1, "tab(s)"),
        (1, "tablet(s)"),
        (1, "Tab."),
        (1, "tab(s)."),
    ],
)
def test_ehr_spellings_of_known_units_are_read_as_those_units(value: Any, unit: str) -> None:
    # Before, "10 mg(s)" of oxycodone 10 mg read as 10 tablets: 600 MME/day instead of 60.
    order = only(med_request(OXYCODONE_10, [dosage(cerner_qty(value, unit, "258684004"), every(6))]))
    assert (order.state, order.mme) == ("ok", Decimal(60))


@pytest.mark.parametrize("unit", ["mL(s)", "ml.", "milliliter(s)"])
def test_ehr_spellings_of_millilitres_are_volumes(unit: str) -> None:
    order = only(med_request(OXYCODONE_APAP_SOLUTION, [dosage(cerner_qty(5, unit), every(6))]))
    assert (order.state, order.mme) == ("ok", Decimal(30))  # 5 mL x 1 mg/mL x 4 a day x 1.5


def test_a_patch_count_spelled_patch_es_is_a_count_of_patches() -> None:
    order = only(med_request(FENTANYL_25, [dosage(cerner_qty(1, "patch(es)"), every(72))]))
    assert (order.state, order.mme) == ("ok", Decimal(60))


@pytest.mark.parametrize("unit", ["box", "bottle", "vial", "carton", "package", "kit", "drop(s)", "scoop"])
def test_an_unknown_dose_unit_is_not_computable_never_a_count(unit: str) -> None:
    order = only(med_request(OXYCODONE_5, [dosage(cerner_qty(2, unit), every(6))]))
    assert (order.state, order.reason, order.mme) == ("unknown", "unit-unknown", None)
    assert "unit" in (order.reason_text or "")


def test_an_unknown_quantity_unit_gives_no_supply_estimate() -> None:
    # No dose: the fallback reads quantity ÷ days. "1 bottle" over 30 days is no count of tablets.
    resource = med_request(
        OXYCODONE_5,
        [dosage(None, every(6))],
        dispense={
            "quantity": {"value": 1, "unit": "bottle"},
            "expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"},
        },
    )
    order = only(resource)
    assert order.state == "unknown"
    assert order.mme is None


def test_a_bare_number_without_a_unit_is_still_a_count() -> None:
    order = only(med_request(OXYCODONE_5, [dosage({"value": 2}, every(6))]))
    assert (order.state, order.mme) == ("ok", Decimal(60))


def _fentanyl_fill(quantity: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        "id": "f1",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": FENTANYL_25}]},
        "whenHandedOver": "2026-06-10",
        "quantity": quantity,
        "daysSupply": {"value": 30, "unit": "d", "system": UCUM, "code": "d"},
    }


def test_a_fill_counted_in_boxes_is_not_computable() -> None:
    # Before, "2 box" of fentanyl patches (5 to a box) read as 2 patches: 12 MME/day instead of 60.
    record = build_record([_fentanyl_fill({"value": 2, "unit": "box"})], TZ)
    result = fill_mme(record.dispenses[0], terms(), config())
    assert (result.state, result.mme) == ("unknown", None)


def test_a_fill_of_patch_es_counts_the_patches() -> None:
    record = build_record([_fentanyl_fill({"value": 10, "unit": "patch(es)"})], TZ)
    result = fill_mme(record.dispenses[0], terms(), config())
    assert (result.state, result.mme) == ("ok", Decimal(60))


def _draft(rxcui: str, dose: dict[str, Any], every_hours: int = 6) -> dict[str, Any]:
    resource = med_request(rxcui, [dosage(dose, every(every_hours))], id="d1", status="draft")
    resource.update({"subject": {"reference": "Patient/p1"}, "authoredOn": "2026-06-15"})
    resource["dispenseRequest"] = {"expectedSupplyDuration": {"value": 5, "unit": "days", "system": UCUM, "code": "d"}}
    return resource


def test_the_card_totals_a_cerner_mg_s_dose_as_mg() -> None:
    evaluation = run("order-sign", drafts=[_draft(OXYCODONE_10, cerner_qty(10, "mg(s)"))])
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "60.0 MME/day" in high.summary
    assert "600" not in high.summary + high.detail


def test_the_card_names_an_order_whose_unit_is_unknown() -> None:
    evaluation = run(
        "order-sign",
        drafts=[_draft(OXYCODONE_10, cerner_qty(10, "mg(s)"))],
        resources=[{**_draft(OXYCODONE_5, cerner_qty(2, "box")), "id": "a1", "status": "active"}],
    )
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "at least 60.0 MME/day" in high.summary + high.detail
    assert "unit" in high.detail and "oxycodone hydrochloride 5 MG" in high.detail


# --- 2. a mass dose on a combination product ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rxcui", "mg", "expected", "shown"),
    [
        (PERCOCET, 650, Decimal(60), "2 tablets"),  # 2 x 325 mg acetaminophen → 2 tablets → 10 mg oxycodone
        (PERCOCET, 325, Decimal(30), "1 tablet"),
        (PERCOCET, 10, Decimal(60), "2 tablets"),  # 2 x 5 mg oxycodone
        (PERCOCET, 2.5, Decimal(15), "0.5 tablet"),
        (HYDROCODONE_APAP_10, 650, Decimal(80), "2 tablets"),
        (TYLENOL_3, 600, Decimal(36), "2 tablets"),  # 60 mg codeine x 4 x 0.15
        (TYLENOL_3, 30, Decimal(18), "1 tablet"),
        (FIORICET_CODEINE, 650, Decimal(36), "2 capsules"),
        (OXYCODONE_APAP_SOLUTION, 325, Decimal(30), "5 mL"),  # 325 mg acetaminophen = 5 mL = 5 mg oxycodone
        (OXYCODONE_APAP_SOLUTION, 5, Decimal(30), "5 mL"),
    ],
)
def test_a_mass_dose_on_a_combination_is_read_by_the_one_ingredient_it_is_a_multiple_of(
    rxcui: str, mg: Any, expected: Decimal, shown: str
) -> None:
    order = only(med_request(rxcui, [dosage({"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}, every(6))]))
    assert (order.state, order.mme) == ("ok", expected)
    assert shown in order.explanation


@pytest.mark.parametrize(
    ("rxcui", "mg"),
    [
        (PERCOCET, 100),  # 20 tablets of oxycodone or 0.3 of acetaminophen: neither is a dose
        (FIORICET_CODEINE, 60),  # 2 x 30 mg codeine or 1.5 x 40 mg caffeine: ambiguous
        (PROMETHAZINE_CODEINE, 10),  # 5 mL of codeine or 8 mL of promethazine: ambiguous
    ],
)
def test_a_mass_dose_on_a_combination_that_fits_no_or_several_ingredients_is_not_computable(
    rxcui: str, mg: Any
) -> None:
    order = only(med_request(rxcui, [dosage({"value": mg, "unit": "mg", "system": UCUM, "code": "mg"}, every(6))]))
    assert (order.state, order.reason, order.mme) == ("unknown", "ambiguous-mass-dose", None)


def test_the_card_reads_percocet_650_mg_as_two_tablets() -> None:
    evaluation = run(
        "order-sign", drafts=[_draft(PERCOCET, {"value": 650, "unit": "mg", "system": UCUM, "code": "mg"})]
    )
    high = card(evaluation, "high-mme")
    assert high is not None
    assert "60.0 MME/day" in high.summary
    assert "3900" not in high.summary + high.detail


# --- 3. maxDosePerPeriod in another unit kind, converted by the strength ------------------------------------------

PRN_4_TO_6_H = {"repeat": {"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"}}


def _cap(value: Any, unit: str, code: str | None = None) -> dict[str, Any]:
    numerator: dict[str, Any] = {"value": value, "unit": unit}
    if code:
        numerator.update({"system": UCUM, "code": code})
    return {"numerator": numerator, "denominator": {"value": 1, "unit": "d", "system": UCUM, "code": "d"}}


def test_a_cap_in_mg_limits_a_dose_in_tablets() -> None:
    dose = [{"doseRange": {"low": {"value": 1, "unit": "tablet"}, "high": {"value": 2, "unit": "tablet"}}}]
    resource = med_request(
        OXYCODONE_5,
        [dosage(dose, PRN_4_TO_6_H, asNeededBoolean=True, maxDosePerPeriod=_cap(30, "mg", "mg"))],
    )
    order = only(resource)
    assert (order.state, order.mme) == ("ok", Decimal(45))  # at most 30 mg/day x 1.5, not 60 mg
    assert "cap from maxDosePerPeriod" in order.notes


def test_a_cap_in_tablets_limits_a_dose_in_mg() -> None:
    resource = med_request(
        OXYCODONE_5,
        [
            dosage(
                {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"},
                PRN_4_TO_6_H,
                asNeededBoolean=True,
                maxDosePerPeriod=_cap(6, "tablet"),
            )
        ],
    )
    order = only(resource)
    assert (order.state, order.mme) == ("ok", Decimal(45))  # 6 tablets x 5 mg x 1.5


def test_a_cap_in_mg_on_a_combination_is_not_guessed_to_be_opioid_mg() -> None:
    # "max 4000 mg/day" on Percocet is the acetaminophen limit; it does not cap the oxycodone at 4000 mg.
    resource = med_request(PERCOCET, [dosage(2, every(4), maxDosePerPeriod=_cap(4000, "mg", "mg"))])
    order = only(resource)
    assert (order.state, order.mme) == ("ok", Decimal(90))
    assert "cap from maxDosePerPeriod" not in order.notes


# --- 4. taper steps dated by boundsPeriod without sequence --------------------------------------------------------


def _step(tablets: int, every_hours: int, start: str, end: str) -> dict[str, Any]:
    timing = {
        "repeat": {
            "frequency": 1,
            "period": every_hours,
            "periodUnit": "h",
            "boundsPeriod": {"start": start, "end": end},
        }
    }
    return dosage(tablets, timing)


def test_dated_taper_steps_without_sequence_are_steps_not_added() -> None:
    steps = [_step(2, 4, "2026-06-15", "2026-06-17"), _step(1, 6, "2026-06-18", "2026-06-21")]
    order = only(med_request(OXYCODONE_5, steps))
    assert (order.state, order.mme) == ("ok", Decimal(90))  # the larger step, 60 mg/day, not 80
    assert "highest of 2 sequential dosing steps" in order.notes


def test_dated_instructions_whose_periods_overlap_are_taken_together() -> None:
    together = [_step(1, 6, "2026-06-15", "2026-06-21"), _step(1, 12, "2026-06-18", "2026-06-25")]
    order = only(med_request(OXYCODONE_5, together))
    assert (order.state, order.mme) == ("ok", Decimal(45))  # 20 + 10 mg/day x 1.5


def test_an_undated_instruction_runs_alongside_dated_ones() -> None:
    mixed = [_step(2, 4, "2026-06-15", "2026-06-17"), dosage(1, every(12))]
    order = only(med_request(OXYCODONE_5, mixed))
    assert order.mme == Decimal(105)  # (60 + 10) mg/day x 1.5


# --- 5. dayOfWeek ---------------------------------------------------------------------------------------------------


def test_methadone_three_days_a_week_is_averaged_over_the_week() -> None:
    timing = every(1, "d", dayOfWeek=["mon", "wed", "fri"])
    order = only(med_request(METHADONE_10, [dosage(1, timing)]))
    assert order.state == "ok"
    assert order.mme is not None and order.mme.quantize(Decimal("0.1")) == Decimal("20.1")
    assert "Mon, Wed, Fri" in order.explanation


def test_every_day_of_the_week_changes_nothing() -> None:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    order = only(med_request(METHADONE_10, [dosage(1, every(1, "d", dayOfWeek=days))]))
    assert order.mme == Decimal(47)


def test_a_weekly_dose_on_a_named_day_is_not_scaled_again() -> None:
    order = only(med_request(METHADONE_10, [dosage(7, every(1, "wk", dayOfWeek=["mon"]))]))
    assert order.mme == Decimal(47)  # 7 tablets once a week = 10 mg/day


# --- 6. explanations ---------------------------------------------------------------------------------------------


def test_a_sequenced_taper_is_explained_as_steps_not_a_sum() -> None:
    steps = [dosage(2, every(4), sequence=1), dosage(1, every(6), sequence=2)]
    order = only(med_request(OXYCODONE_5, steps))
    assert order.mme == Decimal(90)
    assert " + 1 tablet" not in order.explanation
    assert "then" in order.explanation


def test_a_fill_counted_in_boxes_says_why_it_is_not_counted() -> None:
    record = build_record([_fentanyl_fill({"value": 2, "unit": "box"})], TZ)
    result = fill_mme(record.dispenses[0], terms(), config())
    assert "cannot be read as a count of patches" in result.explanation


def test_a_mg_dose_of_buprenorphine_naloxone_is_buprenorphine() -> None:
    # The naloxone is never what a dose in mg is written for: "8 mg" of 8/2 film is listed as 8 mg buprenorphine.
    order = only(
        med_request("1010604", [dosage({"value": 8, "unit": "mg", "system": UCUM, "code": "mg"}, every(1, "d"))])
    )
    assert (order.state, order.reason) == ("excluded", "buprenorphine")
    assert order.daily_dose_text == "8 mg buprenorphine/day"
