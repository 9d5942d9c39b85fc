"""Guideline 8.4 and 8.5 on parsed dosages: doses per day for every timing form, dose choice, unit classes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fixtures.mme.helpers import DRUG_FORM, EPIC_TYPE, code_timing, dosage, every, med_request, mme, orders, qty

from guideline.dosage import classify_unit, daily_cap, doses_per_day, pick_dose, to_amount
from guideline.durations import quantity_days
from guideline.fhirdata import Quantity
from guideline.mme import quantize6
from guideline.record import Dosage
from guideline.units import nci_unit


def read(data: dict) -> Dosage:
    """The dosage exactly as the lenient record reader parses it."""
    return orders(med_request("1049621", [data]))[0].dosages[0]


def per_day(timing: dict, **extra: object) -> Decimal | None:
    frequency = doses_per_day(read(dosage(1, timing, **extra)))
    return frequency.per_day if frequency else None


# --- rule 1: frequency over period ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timing", "expected"),
    [
        (every(4), Decimal(6)),  # multiplied first: exactly 6, never 5.999…
        (every(6), Decimal(4)),
        (every(8), Decimal(3)),
        (every(12), Decimal(2)),
        (every(1, "d", 3), Decimal(3)),
        (every(30, "min"), Decimal(48)),
        (every(3600, "s"), Decimal(24)),
        (every(2, "d"), Decimal("0.5")),
        (every(1, "d", 1), Decimal(1)),
    ],
)
def test_frequency_over_period(timing: dict, expected: Decimal) -> None:
    assert per_day(timing) == expected


def test_q4h_is_exactly_six() -> None:
    value = per_day(every(4))
    assert value == 6 and str(value) == "6"


def test_twice_a_week_and_every_72_hours() -> None:
    assert quantize6(per_day(every(1, "wk", 2))) == Decimal("0.285714")
    assert quantize6(per_day(every(72))) == Decimal("0.333333")
    assert quantize6(per_day(every(1, "mo"))) == Decimal("0.033333")
    assert quantize6(per_day(every(1, "a", 2))) == Decimal("0.005479")


def test_prn_reading_uses_frequency_max_and_shorter_period() -> None:
    timing = {"repeat": {"frequency": 1, "frequencyMax": 2, "period": 6, "periodMax": 4, "periodUnit": "h"}}
    assert per_day(timing) == Decimal(12)
    # periodMax that is longer than period is not the maximum-frequency reading
    assert per_day({"repeat": {"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"}}) == Decimal(6)


def test_a_range_sent_reversed_or_half_filled_is_read_at_its_larger_count() -> None:
    """A frequency range sent the wrong way round (frequency 4, frequencyMax 2) is read at 4 a day, the
    maximum-frequency reading a periodMax already gets; read at frequencyMax it was 2, half the dose. A periodMax
    with no period (FHIR requires one) is the only period the timing states: every 6 hours, not the implicit
    period of 1, which read it as every hour (24 a day, 180 MME/day of oxycodone 5 mg)."""
    assert per_day({"repeat": {"frequency": 4, "frequencyMax": 2, "period": 1, "periodUnit": "d"}}) == Decimal(4)
    assert per_day({"repeat": {"frequency": 1, "periodMax": 6, "periodUnit": "h"}}) == Decimal(4)
    # A frequencyMax sent but unreadable leaves the frequency unknown, whatever the frequency beside it says.
    assert per_day({"repeat": {"frequency": 3, "frequencyMax": "six", "period": 1, "periodUnit": "d"}}) is None


def test_implicit_frequency_and_implicit_period() -> None:
    assert per_day(every(8, frequency=None)) == Decimal(3)
    assert per_day({"repeat": {"frequency": 3, "periodUnit": "d"}}) == Decimal(3)


def test_missing_or_unknown_period_unit_means_rule_1_does_not_apply() -> None:
    assert per_day({"repeat": {"frequency": 2, "period": 1}}) is None
    assert per_day({"repeat": {"frequency": 2, "period": 1, "periodUnit": "x"}}) is None
    # …so a later rule may still answer
    assert per_day({"repeat": {"frequency": 2, "period": 1, "periodUnit": "x"}, **code_timing("TID")}) == 3


def test_zero_or_negative_period_never_divides() -> None:
    assert per_day(every(0)) is None
    assert per_day(every(-4)) is None
    assert per_day(every(4, frequency=0)) is None


# --- rules 1b, 2, 3 ----------------------------------------------------------------------------------------------


def test_once_a_day_with_listed_times_counts_the_times() -> None:
    assert per_day(every(1, "d", timeOfDay=["08:00:00", "14:00:00", "20:00:00"])) == Decimal(3)
    assert per_day(every(24, "h", when=["C"])) == Decimal(3)
    # not a one-day period: rule 1 stands
    assert per_day(every(12, "h", timeOfDay=["08:00:00", "14:00:00", "20:00:00"])) == Decimal(2)


def test_time_of_day_and_when() -> None:
    assert per_day({"repeat": {"timeOfDay": ["08:00:00", "20:00:00"]}}) == Decimal(2)
    assert per_day({"repeat": {"when": ["MORN", "HS"]}}) == Decimal(2)
    assert per_day({"repeat": {"when": ["AC", "HS"]}}) == Decimal(4)
    assert per_day({"repeat": {"when": ["PC"]}}) == Decimal(3)


# --- rules 4 and 5 -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("QD", "1"),
        ("BID", "2"),
        ("tid", "3"),
        ("QID", "4"),
        ("AM", "1"),
        ("PM", "1"),
        ("QHS", "1"),
        ("HS", "1"),
        ("BED", "1"),
        ("QOD", "0.5"),
        ("Q1H", "24"),
        ("Q4H", "6"),
        ("q12h", "2"),
        ("Q5H", "4.8"),
        ("Q24H", "1"),
        ("Q2D", "0.5"),
    ],
)
def test_timing_codes(code: str, expected: str) -> None:
    assert per_day(code_timing(code)) == Decimal(expected)


def test_weekly_and_monthly_codes() -> None:
    assert quantize6(per_day(code_timing("WK"))) == Decimal("0.142857")
    assert quantize6(per_day(code_timing("MO"))) == Decimal("0.033333")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1000 every 24h scheduled", "1"),
        ("Every 4 (four) hours as needed", "6"),
        ("every 6 hrs prn pain", "4"),
        ("every 2 days", "0.5"),
        ("Every other day", "0.5"),
        ("once a day", "1"),
        ("nightly", "1"),
        ("Daily", "1"),
        ("twice per day", "2"),
        ("2 times a day", "2"),
        ("three times a day", "3"),
        ("4 times per day", "4"),
    ],
)
def test_timing_text_grammar(text: str, expected: str) -> None:
    assert per_day({"code": {"text": text}}) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Epic's own frequency names: each read as "daily", once a day (a quarter of the MME at 4 times daily).
        ("2 times daily", "2"),
        ("3 times daily", "3"),
        ("4 times daily", "4"),
        ("3 times daily PRN", "3"),
        ("6 times daily", "6"),
        ("Four times daily", "4"),
        ("twice daily", "2"),
        ("2x daily", "2"),
        # Ranges count at their shorter period, the most often they may be taken.
        ("Every 4-6 hours PRN", "6"),
        ("Every 4 to 6 hours as needed", "6"),
        ("Every 4 (four) - 6 (six) hours", "6"),
        # Cerner's and pharmacies' way.
        ("q4hr", "6"),
        ("q6hr PRN", "4"),
        ("q4-6hr PRN", "6"),
        ("q 8 h", "3"),
        # The abbreviations, written as text.
        ("Q6H PRN", "4"),
        ("q4h prn pain", "6"),
        ("BID", "2"),
        ("TID", "3"),
        ("QID PRN", "4"),
        ("qhs", "1"),
        ("At bedtime", "1"),
        ("every day", "1"),
        ("Every morning", "1"),
    ],
)
def test_timing_text_as_ehrs_write_it(text: str, expected: str) -> None:
    assert per_day({"code": {"text": text}}) == Decimal(expected)


@pytest.mark.parametrize(
    ("system", "code", "display", "expected"),
    [
        ("https://fhir.cerner.com/tenant/codeSet/4003", "696530", "q4hr", "6"),
        ("urn:oid:1.2.840.114350.1.13.0.1.7.10.798268.30", "200023", "4 times daily", "4"),
    ],
)
def test_a_local_frequency_code_is_read_by_its_display(system: str, code: str, display: str, expected: str) -> None:
    # EHRs' own frequency codes carry no text, only a display: the frequency was unknown.
    assert per_day({"code": {"coding": [{"system": system, "code": code, "display": display}]}}) == Decimal(expected)


@pytest.mark.parametrize("text", ["weekly", "twice a week", "0 times daily", "at 2 PM", "Once"])
def test_timing_text_that_says_no_daily_count_is_unknown(text: str) -> None:
    assert per_day({"code": {"text": text}}) is None


def test_timing_text_can_be_switched_off_and_dosage_text_is_never_parsed() -> None:
    parsed = read(dosage(1, {"code": {"text": "twice a day"}}))
    assert doses_per_day(parsed, parse_timing_text=False) is None
    assert per_day(None, text="take twice a day") is None
    assert per_day({"code": {"text": "as directed"}}) is None


# --- dose choice (8.5) -------------------------------------------------------------------------------------------


def _typed(kind: str | None, dose: dict) -> dict:
    entry: dict = {"doseQuantity": dose}
    if kind:
        entry["type"] = {"coding": [{"system": EPIC_TYPE, "code": kind}]}
    return entry


def test_mass_entry_preference_calculated_then_ordered() -> None:
    entries = [_typed("ordered", qty(15, "mg")), _typed("calculated", qty(10, "mg")), _typed(None, qty(2))]
    assert pick_dose(read(dosage(entries, every(6)))).value == Decimal(10)
    entries = [_typed("admin-amount", qty(20, "mg")), _typed(None, qty(5, "mg"))]
    assert pick_dose(read(dosage(entries, every(6)))).value == Decimal(5)


def test_without_mass_ordered_then_untyped_then_admin_amount() -> None:
    entries = [_typed("admin-amount", qty(3)), _typed(None, qty(2)), _typed("ordered", qty(1))]
    assert pick_dose(read(dosage(entries, every(6)))).value == Decimal(1)
    entries = [_typed("admin-amount", qty(3)), _typed(None, qty(2))]
    assert pick_dose(read(dosage(entries, every(6)))).value == Decimal(2)


def test_type_text_is_read_when_there_is_no_coding() -> None:
    entries = [
        {"type": {"text": "admin-amount"}, "doseQuantity": qty(3)},
        {"type": {"text": "Ordered"}, "doseQuantity": qty(1)},
    ]
    assert pick_dose(read(dosage(entries, every(6)))).value == Decimal(1)


def test_dose_range_uses_high_or_low() -> None:
    both = dosage([{"doseRange": {"low": qty(1), "high": qty(2)}}], every(6))
    assert pick_dose(read(both)).value == Decimal(2)
    low_only = dosage([{"doseRange": {"low": qty(1)}}], every(6))
    assert pick_dose(read(low_only)).value == Decimal(1)


def test_a_dose_range_sent_reversed_is_read_at_its_larger_end() -> None:
    """A range of 2 to 1 tablets is "1-2 tablets" written the wrong way round: its higher number is 2, as for any
    dose range (its high end, 1, halved the dose)."""
    reversed_range = dosage([{"doseRange": {"low": qty(2), "high": qty(1)}}], every(6))
    assert pick_dose(read(reversed_range)).value == Decimal(2)
    mixed_units = dosage([{"doseRange": {"low": qty(5, "mg"), "high": qty(1)}}], every(6))
    assert pick_dose(read(mixed_units)).value == Decimal(1)  # two units: the high end as sent, nothing compared


def test_stu3_dose_shape_is_accepted() -> None:
    stu3 = {"timing": every(6), "doseQuantity": qty(2)}
    assert pick_dose(read(stu3)).value == Decimal(2)
    stu3_range = {"timing": every(6), "doseRange": {"low": qty(1), "high": qty(3)}}
    assert pick_dose(read(stu3_range)).value == Decimal(3)


def test_epic_dose_extensions_when_there_is_no_dose_and_rate() -> None:
    ordered = {"url": "https://open.epic.com/fhir/extensions/ordered-dose", "valueQuantity": qty(7.5, "mg")}
    admin = {"url": "https://open.epic.com/fhir/extensions/admin-amount", "valueQuantity": qty(1)}
    chosen = pick_dose(read({"timing": every(6), "extension": [admin, ordered]}))
    assert chosen.value == Decimal("7.5") and chosen.unit_class == "mass"
    chosen = pick_dose(read({"timing": every(6), "extension": [admin]}))
    assert chosen.value == Decimal(1) and chosen.unit_class == "count"


def test_patch_prefers_a_rate_entry() -> None:
    entries = [_typed("calculated", qty(0.05, "mg")), {"rateQuantity": qty(50, "ug/h")}, _typed("ordered", qty(1))]
    chosen = pick_dose(read(dosage(entries, every(72))), transdermal=True)
    assert chosen.unit_class == "patch-rate" and chosen.value == Decimal(50)


# --- unit classification -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "code", "system", "expected"),
    [
        ("mg", "mg", "http://unitsofmeasure.org", "mass"),
        ("milligrams", None, None, "mass"),
        ("mcg", None, None, "mass"),
        ("ug", "ug", "http://unitsofmeasure.org", "mass"),
        ("µg", None, None, "mass"),
        ("g", "g", "http://unitsofmeasure.org", "mass"),
        ("mL", "mL", "http://unitsofmeasure.org", "volume"),
        ("mL", "{mL}", "http://unitsofmeasure.org", "volume"),
        ("L", "L", "http://unitsofmeasure.org", "volume"),
        ("mcg/hr", None, None, "patch-rate"),
        ("ug/h", "ug/h", "http://unitsofmeasure.org", "patch-rate"),
        ("mg/h", "mg/h", "http://unitsofmeasure.org", "patch-rate"),
        ("mg/kg", "mg/kg", "http://unitsofmeasure.org", "per-other"),
        ("mg/m2", "mg/m2", "http://unitsofmeasure.org", "per-other"),
        ("mg/mL", "mg/mL", "http://unitsofmeasure.org", "per-other"),
        ("tablet", "{tbl}", "http://unitsofmeasure.org", "count"),
        ("TAB", "TAB", DRUG_FORM, "count"),
        ("patch", None, None, "count"),
        ("spray", None, None, "count"),
        (None, "{pill}", None, "count"),
        (None, None, None, "count"),
        # a foreign system: the unit text is read, not the code
        ("mg", "3", "urn:oid:1.2.840.114350", "mass"),
    ],
)
def test_unit_classes(unit: str | None, code: str | None, system: str | None, expected: str) -> None:
    assert classify_unit(Quantity(Decimal(1), unit, system, code))[0] == expected


NCI_META = "http://ncimeta.nci.nih.gov"
NCI_OID = "urn:oid:2.16.840.1.113883.3.26.1.1"


@pytest.mark.parametrize("system", [NCI_META, NCI_OID])
@pytest.mark.parametrize(
    ("code", "expected", "shown"),
    [
        # The NCI Thesaurus codes of FDA SPL and NCPDP units, as Oracle Health and CARIN send them with no unit text.
        ("C48542", "count", "2 tablets"),
        ("C48480", "count", "2 capsules"),
        ("C48524", "count", "2 patches"),
        ("C122629", "count", "2 sprays"),  # Actuation
        ("C48506", "count", "2 lozenges"),
        ("C48539", "count", "2 suppositories"),
        ("C53499", "count", "2 films"),
        ("C28253", "mass", "2 mg"),
        ("C48152", "mass", "2 mcg"),
        ("C48155", "mass", "2 g"),
        ("C28254", "volume", "2 mL"),
        ("C48505", "volume", "2 L (2000 mL)"),
        # Codes of units PainPlan does not read as an amount stay unknown: C48473 is an ampule, not an actuation.
        # C44278 is SPL's "Unit" (U, as insulin or heparin is dosed): named as U, never a count of tablets.
        ("C44278", "unknown", "2 U"),
        ("C48473", "unknown", "2 C48473"),
        ("C48551", "unknown", "2 C48551"),
    ],
)
def test_an_nci_unit_code_with_no_unit_text_is_read_as_its_unit(
    system: str, code: str, expected: str, shown: str
) -> None:
    quantity = Quantity(Decimal(2), None, system, code)
    assert classify_unit(quantity)[0] == expected
    assert to_amount(quantity).shown == shown


def test_a_dose_in_spl_units_has_no_mme_and_is_named_in_units() -> None:
    """SPL's "Unit" (C44278) is no amount of an opioid: the order stays not computable, its dose shown as "10 U"."""
    dose = {"value": 10, "system": NCI_META, "code": "C44278"}
    (order,) = mme(med_request("1049621", [dosage(dose, every(4))])).orders
    assert (order.state, order.reason, order.mme) == ("unknown", "unit-unknown", None)
    assert nci_unit(NCI_META, "C44278") == "U"


def test_an_nci_code_under_another_system_is_not_read() -> None:
    assert classify_unit(Quantity(Decimal(2), None, "urn:oid:1.2.840.114350", "C48542"))[0] == "unknown"


def test_a_dose_in_an_nci_tablet_code_is_converted() -> None:
    """Oracle Health's dose of 2 tablets written only as the SPL unit code: once unknown, no MME (named)."""
    dose = {"value": 2, "system": NCI_META, "code": "C48542"}
    (order,) = mme(med_request("1049621", [dosage(dose, every(4))])).orders
    assert (order.state, order.mme) == ("ok", Decimal(90))  # 2 × 6 a day × 5 mg × 1.5
    assert "2 tablets" in order.explanation


@pytest.mark.parametrize(
    ("value", "unit", "canonical"),
    [("500", "mcg", "0.5"), ("2", "g", "2000"), ("0.075", "mg/h", "75"), ("1", "L", "1000"), ("25", "ug/h", "25")],
)
def test_canonical_amounts(value: str, unit: str, canonical: str) -> None:
    amount = to_amount(Quantity(Decimal(value), unit))
    assert amount.value == Decimal(canonical)


def test_no_value_or_non_positive_value_is_no_amount() -> None:
    assert to_amount(Quantity(None, "mg")) is None
    assert to_amount(Quantity(Decimal(0), "mg")) is None
    assert to_amount(None) is None


# --- durations and caps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "days"),
    [
        (Quantity(Decimal(30), "days"), "30"),
        (Quantity(Decimal(30), None, "http://unitsofmeasure.org", "d"), "30"),
        (Quantity(Decimal(2), "Weeks"), "14"),
        (Quantity(Decimal(1), "mo"), "30"),
        (Quantity(Decimal(1), "year"), "365"),
        (Quantity(Decimal(36), "h"), "1.5"),
        (Quantity(Decimal(2880), "min"), "2"),
        (Quantity(Decimal(86400), "s"), "1"),
        (Quantity(Decimal(30), "Day(s)"), "30"),  # as some EHRs write the unit: was unknown
        (Quantity(Decimal(2), "Week(s)"), "14"),
        (Quantity(Decimal(30), "{days}"), "30"),
        # spelt as doses and strengths are read (units.normalise_unit): each was read as no duration
        (Quantity(Decimal(24), "hr"), "1"),
        (Quantity(Decimal(24), "Hrs"), "1"),
        (Quantity(Decimal(30), "days."), "30"),
        (Quantity(Decimal(2880), "min(s)"), "2"),
        (Quantity(Decimal(2880), "mins"), "2"),
        (Quantity(Decimal(2), "wk(s)"), "14"),
        (Quantity(Decimal(2), "wks"), "14"),
        (Quantity(Decimal(1), "mo(s)"), "30"),
        (Quantity(Decimal(1), "yr"), "365"),
    ],
)
def test_duration_units(quantity: Quantity, days: str) -> None:
    assert quantity_days(quantity) == Decimal(days)


def test_unknown_duration_unit_is_unknown_not_an_error() -> None:
    assert quantity_days(Quantity(Decimal(30), "fortnights", "http://unitsofmeasure.org", "x")) is None
    assert quantity_days(Quantity(None, "d")) is None


def test_a_cap_per_24_hr_is_read_as_a_daily_cap() -> None:
    # "no more than 6 tablets per 24 hr": the cap was ignored ("period unit is not recognised") and the MME was
    # worked out from every 4 hours alone.
    capped = read(dosage(1, every(4), maxDosePerPeriod={"numerator": qty(4), "denominator": qty(24, "hr")}))
    assert daily_cap(capped).value == Decimal(4)


def test_daily_cap_from_max_dose_per_period() -> None:
    three_days = read(dosage(1, every(4), maxDosePerPeriod={"numerator": qty(24), "denominator": qty(3, "d")}))
    assert daily_cap(three_days).value == Decimal(8)
    half_day = read(dosage(1, every(4), maxDosePerPeriod={"numerator": qty(30, "mg"), "denominator": qty(12, "h")}))
    cap = daily_cap(half_day)
    assert cap.value == Decimal(60) and cap.unit_class == "mass"
    odd = read(dosage(1, every(4), maxDosePerPeriod={"numerator": qty(8), "denominator": qty(1, "x")}))
    assert daily_cap(odd) is None


def test_a_daily_cap_is_written_in_words() -> None:
    # The card read "capped at 8 tablets per d": the period's UCUM code, not a word a clinician reads.
    one_day = read(dosage(1, every(4), maxDosePerPeriod={"numerator": qty(8), "denominator": qty(1, "d")}))
    assert daily_cap(one_day).shown == "8 tablets per day"
    three_days = read(dosage(1, every(4), maxDosePerPeriod={"numerator": qty(24), "denominator": qty(3, "d")}))
    assert daily_cap(three_days).shown == "24 tablets per 3 days"
    half_day = read(dosage(1, every(4), maxDosePerPeriod={"numerator": qty(30, "mg"), "denominator": qty(12, "h")}))
    assert daily_cap(half_day).shown == "30 mg per 12 hours"


def test_an_epic_order_4_times_daily_counts_four_doses_in_its_mme() -> None:
    order = med_request("1049621", [dosage(1, {"code": {"text": "4 times daily"}})])  # oxycodone 5 mg tablets
    assert mme(order).orders[0].mme == Decimal(30)  # 4 × 5 mg × 1.5; it read 7.5


def test_a_strength_per_an_nci_actuation_code_is_per_spray() -> None:
    """A nasal spray's strength "100 mcg per 1 C122629" is per actuation, not per unit (a count of one)."""
    from guideline.recognition.strengths import strength_basis

    assert strength_basis(Quantity(Decimal(1), None, NCI_META, "C122629")) == ("actuation", Decimal(1))
    assert strength_basis(Quantity(Decimal(1), None, NCI_OID, "C48542")) == ("unit", Decimal(1))
    assert strength_basis(Quantity(Decimal(5), None, NCI_META, "C28254")) == ("ml", Decimal(5))


def test_number_text_writes_a_decimal_that_is_no_number_as_it_is() -> None:
    """number_text says a NaN Decimal's text instead of raising TypeError (its exponent is the letter "n"): no FHIR
    value reads as one (fhirdata.decimal refuses them), but explanations must never fail on a number."""
    from guideline.dosage import number_text

    assert number_text(Decimal("NaN")) == "NaN"
    assert number_text(Decimal("Infinity")) == "Infinity"
    assert number_text(Decimal("0.123456")) == "0.1235"
