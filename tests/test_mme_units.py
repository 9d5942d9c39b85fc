"""MME steps 8.2–8.8 beyond the worked examples: units, codings, Medication.ingredient, fallback, broken input."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fixtures.mme.helpers import RXNORM, code_timing, config, dosage, every, med_request, mme, orders, qty, terms

from guideline.mme import compute_mme


def only(resource: dict, profile: str = "cdc2022", **settings: object):
    summary = mme(resource, profile=profile, **settings)
    assert len(summary.orders) == 1
    return summary.orders[0]


def oxy(dose: object, timing: dict | None = None, **extra: object) -> dict:
    return med_request("1049621", [dosage(dose, timing or every(6), **extra)])


# --- doses in every unit class ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dose", [qty(5, "mg"), qty(5000, "mcg"), qty(5000, "ug"), qty(0.005, "g"), qty(5, "milligram", system=None)]
)
def test_mass_doses_convert_to_mg(dose: dict) -> None:
    order = only(oxy(dose))
    assert order.mme == Decimal(30)  # 20 mg/day × 1.5


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        (oxy(qty(5, "mL")), "unit-not-convertible"),  # mL of a tablet
        (oxy(qty(0.1, "mg/kg")), "unit-not-convertible"),
        (oxy(qty(25, "mcg/h")), "unit-not-convertible"),  # a patch rate for a tablet
        (med_request("1049604", [dosage(qty(2, "{tbl}"), every(6))]), "unit-not-convertible"),  # count of a liquid
        (med_request("197696", [dosage(qty(0.075, "mg"), every(72))]), "unit-not-convertible"),  # mass of a patch
    ],
)
def test_units_that_cannot_be_combined_with_the_strength(resource: dict, reason: str) -> None:
    order = only(resource)
    assert (order.state, order.reason) == ("unknown", reason)
    assert order.reason_text


OXYCODONE_APAP_SOLUTION = "1049580"  # acetaminophen 65 MG/ML / oxycodone hydrochloride 1 MG/ML Oral Solution


@pytest.mark.parametrize(
    ("unit", "value", "expected", "shown"),
    [
        ("tsp", 1, Decimal(30), "1 tsp (5 mL)"),
        ("tablespoon", 1, Decimal(90), "1 tablespoon (15 mL)"),
        ("[tsp_us]", 2, Decimal(60), "2 [tsp_us] (10 mL)"),
        ("cc", 5, Decimal(30), "5 cc"),
    ],
)
def test_a_liquid_dosed_in_spoons_or_cc_has_its_dose_in_ml(
    unit: str, value: int, expected: Decimal, shown: str
) -> None:
    # Before, a spoon was a unit PainPlan did not know: the liquid's MME was unknown.
    order = only(med_request(OXYCODONE_APAP_SOLUTION, [dosage({"value": value, "unit": unit}, every(6))]))
    assert (order.state, order.mme) == ("ok", expected)
    assert shown in order.explanation


def test_a_tablet_dosed_in_spoons_is_no_count_of_tablets() -> None:
    # Before, "1 tbsp" of oxycodone 5 mg tablets read as one tablet (30 MME/day).
    order = only(med_request("1049621", [dosage({"value": 1, "unit": "tbsp"}, every(6))]))
    assert (order.state, order.reason) == ("unknown", "unit-not-convertible")


def test_patch_rate_dose_replaces_the_table_strength() -> None:
    order = only(med_request("197696", [dosage(qty(50, "mcg/h"), every(72))]))
    assert order.mme == Decimal(120)
    assert order.ingredients[0].daily_amount == Decimal(50)


def test_two_patches_worn_at_once() -> None:
    assert only(med_request("245134", [dosage(qty(2, "{patch}"), every(72))])).mme == Decimal(120)


def test_two_rows_of_one_ingredient() -> None:
    # 637540: oxycodone HCl 4.5 mg + oxycodone terephthalate 0.38 mg per tablet
    count = only(med_request("637540", [dosage(1, every(6))]))
    assert count.ingredients[0].daily_amount == Decimal("19.52")
    assert count.mme == Decimal("29.28")
    mass = only(med_request("637540", [dosage(qty(4.88, "mg"), every(6))]))
    assert mass.mme == Decimal("29.28")  # the mass applies to the ingredient once: 1 tablet
    # 5 mg is no whole or half number of tablets of 4.88 mg oxycodone or 325 mg aspirin: not guessed.
    assert only(med_request("637540", [dosage(qty(5, "mg"), every(6))])).reason == "ambiguous-mass-dose"


def test_transmucosal_pack_uses_the_form_inside_its_name() -> None:
    order = only(med_request("1740007", [dosage(qty(1, "spray"), every(1, "d"))]))
    assert order.ingredients[0].factor == Decimal("0.16")
    assert order.mme == Decimal(96)


def test_fentanyl_injection_has_no_factor() -> None:
    order = only(med_request("727759", [dosage(qty(1, "mL"), every(4))]))
    assert (order.state, order.reason) == ("unknown", "injected")


@pytest.mark.parametrize(
    "medication",
    [
        pytest.param({"coding": [{"system": RXNORM, "code": "892531"}]}, id="coded morphine 10 mg/mL injection"),
        pytest.param({"text": "morphine 10 mg/mL injection"}, id="named"),
        pytest.param({"text": "HYDROmorphone (DILAUDID) 1 mg/mL SOSY"}, id="named in Epic's abbreviation"),
        pytest.param({"coding": [{"system": RXNORM, "code": "861473"}]}, id="coded meperidine 50 mg/mL cartridge"),
        pytest.param({"text": "1 ML meperidine hydrochloride 50 MG/ML Cartridge"}, id="the same by name"),
        pytest.param({"text": "morphine 4 mg/mL intravenous solution"}, id="named intravenous"),
        # Epic's own medication names write route and form short ("IJ SOLN", "IV SOLN", "IJ SYRG"): read as an
        # oral solution, each got the oral factor.
        pytest.param({"text": "MORPHINE SULFATE 4 MG/ML IJ SOLN"}, id="Epic IJ SOLN"),
        pytest.param({"text": "MORPHINE SULFATE (PF) 2 MG/ML IV SOLN"}, id="Epic IV SOLN"),
        pytest.param({"text": "HYDROMORPHONE HCL 2 MG/ML IJ SYRG"}, id="Epic IJ SYRG"),
    ],
)
def test_an_injected_opioid_gets_no_oral_factor(medication: dict) -> None:
    # 4 mg IV every 4 hours is about 72 mg oral morphine a day; the oral factor made it 24 MME/day (by name, where
    # it also counted towards the total) with nothing saying it was understated. Names and Medication forms once
    # had two lists of injection words: a cartridge by name got an oral factor while its code got none.
    resource = med_request(None, [dosage(qty(4, "mg"), every(4))])
    resource["medicationCodeableConcept"] = medication
    summary = mme(resource)
    [order] = summary.orders
    assert (order.state, order.reason, order.mme) == ("unknown", "injected", None)
    assert "an injection of" in order.explanation and "oral and patch use" in order.explanation
    assert summary.state == "none"


def test_buprenorphine_patch_is_excluded_with_its_worn_rate() -> None:
    order = only(med_request("904878", [dosage(qty(1, "{patch}"), every(7, "d"))]))
    assert order.state == "excluded"
    assert order.ingredients[0].daily_amount == Decimal(20)
    assert order.ingredients[0].daily_unit == "mcg/h"


def test_buprenorphine_without_usable_dosage_is_still_excluded_not_unknown() -> None:
    summary = mme(med_request("1716065", [dosage(qty(1, "mL"), every(12))]))
    assert summary.orders[0].state == "excluded"
    assert summary.unknown_orders == ()


# --- drug identification (8.2) ----------------------------------------------------------------------------------


def _coded(*codings: dict) -> dict:
    resource = med_request(None, [dosage(2, every(4))])
    resource["medicationCodeableConcept"] = {"coding": list(codings)}
    return resource


def test_identical_table_matches_are_fine() -> None:
    order = only(_coded({"system": RXNORM, "code": "1049221"}, {"system": RXNORM, "code": "1049223"}))
    assert order.mme == Decimal(90)


def test_codes_that_differ_only_in_dose_form_give_one_mme() -> None:
    # An EHR's medication record listing oxycodone 5 mg tablet and capsule was "conflicting codes": no MME.
    tablet, capsule = {"system": RXNORM, "code": "1049621"}, {"system": RXNORM, "code": "1049696"}
    order = only(med_request(None, [dosage(1, every(6))], medicationCodeableConcept={"coding": [tablet, capsule]}))
    assert (order.state, order.mme) == ("ok", Decimal(30))
    ten_mg = {"system": RXNORM, "code": "1049683"}  # another strength still conflicts
    order = only(med_request(None, [dosage(1, every(6))], medicationCodeableConcept={"coding": [tablet, ten_mg]}))
    assert order.reason == "conflicting-codes"


def test_conflicting_codes_need_user_selected() -> None:
    tablet = {"system": RXNORM, "code": "1049621"}
    solution = {"system": RXNORM, "code": "1049604"}
    assert only(_coded(tablet, solution)).reason == "conflicting-codes"
    chosen = only(
        _coded(
            tablet,
            {**solution, "userSelected": False},
        )
    )
    assert chosen.reason == "conflicting-codes"
    order = only(_coded({**tablet, "userSelected": True}, solution))
    assert order.mme == Decimal(90) and order.rxnorm_code == "1049621"


def test_non_rxnorm_and_unknown_codings_are_skipped() -> None:
    order = only(
        _coded(
            {"system": "urn:oid:epic", "code": "1049604"}, {"code": "1049604"}, {"system": RXNORM, "code": "1049621"}
        )
    )
    assert order.mme == Decimal(90)


def _with_medication(medication: dict, dose: object = 1, timing: dict | None = None) -> dict:
    resource = med_request(None, [dosage(dose, timing or every(6))])
    resource["contained"] = [{"resourceType": "Medication", "id": "m", **medication}]
    resource["medicationReference"] = {"reference": "#m", "display": "local oxycodone"}
    return resource


def _ingredient(code: str, numerator: dict, denominator: dict | None = None) -> dict:
    strength: dict = {"numerator": numerator}
    if denominator is not None:
        strength["denominator"] = denominator
    return {"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}, "strength": strength}


def test_medication_ingredient_per_ml_strength() -> None:
    medication = {"ingredient": [_ingredient("7804", qty(5, "mg"), qty(5, "mL"))]}
    order = only(_with_medication(medication, qty(10, "mL")))
    assert order.mme == Decimal(60)  # 10 mL × 1 mg/mL × 4 × 1.5


def test_medication_ingredient_mcg_numerator_and_non_opioid_ingredient() -> None:
    medication = {
        "ingredient": [
            _ingredient("161", qty(325, "mg"), qty(1, "{tbl}")),  # acetaminophen: not an opioid, ignored
            _ingredient("7804", qty(5000, "mcg"), qty(1, "{tbl}")),
        ]
    }
    assert only(_with_medication(medication)).mme == Decimal(30)


def test_medication_ingredient_patch_and_buccal_form_keywords() -> None:
    patch = {"ingredient": [_ingredient("4337", qty(25, "mcg"), qty(1, "h"))]}
    assert only(_with_medication(patch, qty(1, "{patch}"), every(72))).mme == Decimal(60)
    buccal = {
        "form": {"text": "Buccal tablet"},
        "ingredient": [_ingredient("4337", qty(100, "mcg"), qty(1, "{tbl}"))],
    }
    order = only(_with_medication(buccal, 1, code_timing("QID")))
    assert order.mme == Decimal(52)  # 400 mcg × 0.13
    film = {
        "form": {"coding": [{"system": RXNORM, "code": "858080"}]},
        "ingredient": [_ingredient("4337", qty(200, "mcg"), qty(1, "{film}"))],
    }
    assert only(_with_medication(film, 1, code_timing("BID"))).mme == Decimal(72)  # 400 × 0.18


def test_ingredient_code_aliases() -> None:
    medication = {"ingredient": [_ingredient("7806", qty(5, "mg"), qty(1, "{tbl}"))]}
    # Unaliased, the ingredient code is unknown; the reference's name ("local oxycodone") says oxycodone but no
    # strength, so the order is an opioid without a computable MME.
    assert only(_with_medication(medication)).reason == "no-strength"
    aliased = only(_with_medication(medication), ingredient_code_aliases={"7806": "7804"})
    assert aliased.mme == Decimal(30)


def test_two_opioid_ingredients_with_a_mass_dose_are_ambiguous() -> None:
    medication = {
        "ingredient": [
            _ingredient("7804", qty(5, "mg"), qty(1, "{tbl}")),
            _ingredient("5489", qty(5, "mg"), qty(1, "{tbl}")),
        ]
    }
    assert only(_with_medication(medication, qty(10, "mg"))).reason == "ambiguous-mass-dose"
    assert only(_with_medication(medication, 1)).mme == Decimal(50)  # 20 × 1.5 + 20 × 1


def test_unusable_ingredient_strength() -> None:
    medication = {"ingredient": [_ingredient("7804", qty(5, "mL"), qty(1, "{tbl}"))]}
    assert only(_with_medication(medication)).reason == "no-strength"
    # Named oxycodone (ingredient text and reference display) but no strength anywhere: no MME can be computed.
    assert only(_with_medication({"ingredient": [{"itemCodeableConcept": {"text": "oxycodone"}}]})).reason == (
        "no-strength"
    )


def test_unresolved_reference_is_identified_from_its_display() -> None:
    resource = med_request(None, [dosage(1, every(6))])
    resource["medicationReference"] = {"reference": "Medication/elsewhere", "display": "OXYCODONE 5 MG TAB"}
    order = only(resource)
    assert (order.state, order.mme) == ("ok", Decimal(30))  # 5 mg × 4 a day × 1.5
    assert order.display_name == "OXYCODONE 5 MG TAB"
    assert "identified from its name" in order.explanation


def test_unresolved_reference_with_an_unreadable_display_is_unknown() -> None:
    resource = med_request(None, [dosage(1, every(6))])
    resource["medicationReference"] = {"reference": "Medication/elsewhere", "display": "Formulary item 4471"}
    order = only(resource)
    assert (order.state, order.reason) == ("unknown", "medication-unresolved")
    assert order.display_name == "Formulary item 4471"


def test_medication_found_in_the_same_bundle() -> None:
    medication = {
        "resourceType": "Medication",
        "id": "med9",
        "code": {"coding": [{"system": RXNORM, "code": "1049621"}]},
    }
    resource = med_request(None, [dosage(2, every(4))])
    resource["medicationReference"] = {"reference": "Medication/med9"}
    summary = compute_mme(
        orders({"resourceType": "Bundle", "entry": [{"resource": medication}, {"resource": resource}]}),
        terms(),
        config(),
    )
    assert summary.total == Decimal(90)


def test_non_opioid_order_is_unknown_and_never_crashes() -> None:
    order = only(med_request("310965", [dosage(1, every(8))]))  # ibuprofen 200 mg
    assert (order.state, order.reason) == ("unknown", "not-in-drug-table")


# --- instructions, fallback, cap notes --------------------------------------------------------------------------


def test_one_bad_instruction_makes_the_order_unknown_without_fallback() -> None:
    resource = med_request(
        "1049621",
        [dosage(1, every(6)), dosage(1)],
        dispense={"quantity": qty(60), "expectedSupplyDuration": qty(10, "d")},
    )
    order = only(resource)
    assert (order.state, order.reason) == ("unknown", "no-frequency")


def test_no_dose_reason_when_frequency_is_known() -> None:
    assert only(med_request("1049621", [dosage(None, every(6))])).reason == "no-dose"


def test_fallback_for_a_patch_assumes_one_patch() -> None:
    resource = med_request(
        "197696",
        [{"text": "apply as directed"}],
        dispense={"quantity": qty(10, "{patch}"), "expectedSupplyDuration": qty(30, "d")},
    )
    order = only(resource)
    assert order.mme == Decimal(180)
    assert "assumed 1 patch at a time" in order.notes
    assert "estimated from dispense quantity and days' supply" in order.notes
    assert "assumed 1 patch at a time" in order.explanation
    assert "estimated from dispense quantity and days' supply" in order.explanation


def test_fallback_ignores_refills_and_needs_expected_supply() -> None:
    resource = med_request(
        "1049621",
        [],
        dispense={"quantity": qty(60), "expectedSupplyDuration": qty(10, "d"), "numberOfRepeatsAllowed": 5},
    )
    assert only(resource).mme == Decimal(45)
    no_days = med_request("1049621", [], dispense={"quantity": qty(60)})
    assert only(no_days).reason == "no-frequency"


def test_cap_in_another_kind_of_unit_is_ignored_and_said() -> None:
    # A cap in mg on a tablet dose converts by the strength (test_mme_dose_reading); one in mL cannot.
    resource = oxy(1, every(4), maxDosePerPeriod={"numerator": qty(10, "mL"), "denominator": qty(1, "d")})
    order = only(resource)
    assert order.mme == Decimal(45)  # 6 tablets × 5 mg × 1.5, the mL cap does not apply to a tablet dose
    assert any("maxDosePerPeriod ignored" in n for n in order.notes)
    capped = only(
        oxy(qty(5, "mg"), every(4), maxDosePerPeriod={"numerator": qty(10, "mg"), "denominator": qty(1, "d")})
    )
    assert capped.mme == Decimal(15)


def test_sequential_steps_pick_the_highest_and_note_it() -> None:
    steps = [dosage(1, every(6), sequence=1), dosage(3, every(6), sequence=2), dosage(2, every(6), sequence=3)]
    order = only(med_request("1049621", steps))
    assert order.mme == Decimal(90)
    assert any("sequential" in n for n in order.notes)


# --- broken resources: unknown, never an exception ---------------------------------------------------------------


BROKEN = [
    {"dosageInstruction": "take some"},
    {"dosageInstruction": [{"timing": "often", "doseAndRate": "two"}]},
    {
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": "two", "period": "four", "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": "lots", "unit": "tab"}}],
            }
        ]
    },
    {
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "x"}},
                "doseAndRate": [{"doseQuantity": {"value": 1}}],
            }
        ]
    },
    {"dosageInstruction": [{"timing": {"repeat": [1, 2]}, "doseAndRate": [None, 3, []]}]},
    {
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1e400, "period": 0, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1}}],
            }
        ]
    },
    {"category": {"coding": [{"code": "community"}]}, "dispenseRequest": "none"},
    {"dispenseRequest": {"quantity": {"value": "60"}, "expectedSupplyDuration": {"value": 0, "unit": "d"}}},
    {"dosageInstruction": [{"sequence": "first", "maxDosePerPeriod": "8/day"}]},
]


@pytest.mark.parametrize("broken", BROKEN)
def test_broken_resources_give_unknown_and_never_raise(broken: dict) -> None:
    resource = {
        "resourceType": "MedicationRequest",
        "id": "bad",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "1049621"}]},
        **broken,
    }
    for profile in ("cdc2022", "cdc2016"):
        summary = mme(resource, profile=profile)
        assert [o.state for o in summary.orders] == ["unknown"]
        assert summary.orders[0].reason in ("no-frequency", "no-dose", "unit-not-convertible")
        assert summary.display() == "not available"


def test_numeric_strings_are_read_exactly() -> None:
    resource = med_request(
        "1049621", [dosage(qty("2", "{tbl}"), {"repeat": {"frequency": "1", "period": "4", "periodUnit": "h"}})]
    )
    assert only(resource).mme == Decimal(90)


def test_explanations_read_naturally() -> None:
    three_a_day = only(med_request("1049621", [dosage(2, every(1, "d", frequency=3))]))
    assert "2 tablets 3 times a day = 30 mg/day oxycodone" in three_a_day.explanation
    every_four_hours = only(med_request("1049621", [dosage(1, every(4))]))
    assert "1 tablet every 4 hours (6 a day) = 30 mg/day oxycodone" in every_four_hours.explanation
    twice = only(med_request("1049621", [dosage(qty(1, "TAB"), code_timing("BID"))]))
    assert "1 tablet twice a day = 10 mg/day" in twice.explanation
    coded = only(med_request("1049621", [dosage(1, code_timing("Q6H"))]))
    assert "1 tablet every 6 hours (4 a day)" in coded.explanation


@pytest.mark.parametrize(
    "repeat",
    [
        {"frequency": 1, "period": 2**63, "periodUnit": "h"},  # beyond the reader's 10^12: was read as "every 1 hour"
        {"frequency": "twice", "period": 1, "periodUnit": "d"},  # was read as once a day
        {"frequency": 1, "frequencyMax": "often", "period": 4, "periodUnit": "h"},  # PRN maximum unreadable
    ],
)
def test_a_timing_number_sent_but_unreadable_is_no_frequency_not_fhirs_implicit_one(repeat: dict) -> None:
    [order] = mme(med_request("1049621", [dosage(2, {"repeat": repeat})])).orders
    assert (order.state, order.reason) == ("unknown", "no-frequency")


def test_an_absent_frequency_is_still_fhirs_implicit_one() -> None:
    assert only(med_request("1049621", [dosage(2, every(4, frequency=None))])).mme == Decimal(90)
