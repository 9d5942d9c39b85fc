"""Guideline 4.1 supply days and 4.2 pain-duration class on hand-written MedicationRequests."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fixtures.mme.helpers import config, dosage, every, med_request, orders, qty, terms

from guideline.config import GuidelineConfig
from guideline.mme import format_mme
from guideline.supply import daily_units, duration_class, one_place, order_supply, unbelieved_sent


def supply(resource: dict, settings: GuidelineConfig | None = None):
    return order_supply(orders(resource)[0], terms(), settings or config())


def klass(resource: dict, settings: GuidelineConfig | None = None) -> str:
    return duration_class(orders(resource)[0], terms(), settings or config())


def oxy(dispense: dict | None = None, dosages: list | None = None, **extra: object) -> dict:
    return med_request("1049621", dosages if dosages is not None else [dosage(2, every(6))], dispense=dispense, **extra)


def test_expected_supply_duration_wins_and_refills_multiply() -> None:
    result = supply(oxy({"expectedSupplyDuration": qty(10, "d"), "quantity": qty(80), "numberOfRepeatsAllowed": 2}))
    assert result.per_fill_days == Decimal(10)
    assert result.total_days == Decimal(30)
    assert result.refills == 2
    assert result.source == "expected supply duration"


def test_refills_can_be_left_out_of_the_total() -> None:
    settings = GuidelineConfig.from_mapping({"count_refills_in_supply": False})
    result = supply(oxy({"expectedSupplyDuration": qty(10, "d"), "numberOfRepeatsAllowed": 2}), settings)
    assert result.total_days == Decimal(10)


def test_days_unit_without_code_parses_as_days() -> None:
    result = supply(oxy({"expectedSupplyDuration": {"value": 14, "unit": "days"}}))
    assert result.per_fill_days == Decimal(14)


@pytest.mark.parametrize(("value", "unit", "days"), [(2, "wk", "14"), (1, "mo", "30"), (48, "h", "2")])
def test_supply_duration_units(value: int, unit: str, days: str) -> None:
    assert supply(oxy({"expectedSupplyDuration": qty(value, unit)})).per_fill_days == Decimal(days)


def test_unknown_supply_unit_falls_through_and_never_raises() -> None:
    odd = {
        "expectedSupplyDuration": {"value": 30, "unit": "fortnight", "system": "http://unitsofmeasure.org", "code": "x"}
    }
    assert supply(oxy(odd)).per_fill_days is None
    # with a quantity the next source answers: 2 tablets 4 times a day = 8/day, 56 tablets = 7 days
    result = supply(oxy({**odd, "quantity": qty(56)}))
    assert result.per_fill_days == Decimal(7)
    assert result.source == "quantity ÷ daily dose"


def test_quantity_over_daily_units_needs_the_same_kind_of_unit() -> None:
    assert supply(oxy({"quantity": qty(56, "mL")})).per_fill_days is None
    solution = med_request("1049604", [dosage(qty(10, "mL"), every(6))], dispense={"quantity": qty(0.4, "L")})
    assert supply(solution).per_fill_days == Decimal(10)


def test_patch_quantity_over_daily_patches() -> None:
    patch = med_request("197696", [dosage(qty(1, "{patch}"), every(72))], dispense={"quantity": qty(10, "{patch}")})
    assert supply(patch).per_fill_days == Decimal(30)


def test_epic_mass_dose_is_converted_to_tablets_with_the_strength() -> None:
    calculated = [{"type": {"text": "calculated"}, "doseQuantity": qty(10, "mg")}]
    order = orders(med_request("1049621", [dosage(calculated, every(6))], dispense={"quantity": qty(40)}))[0]
    assert daily_units(order, terms(), config()) == (Decimal(8), "count")
    assert order_supply(order, terms(), config()).per_fill_days == Decimal(5)


def test_concurrent_instructions_add_up_for_supply() -> None:
    morning = dosage(1, {"repeat": {"when": ["MORN"]}})
    evening = dosage(2, {"repeat": {"when": ["EVE"]}})
    resource = med_request("891881", [morning, evening], dispense={"quantity": qty(90)})
    assert supply(resource).per_fill_days == Decimal(30)


def test_timing_bounds_are_the_last_source() -> None:
    bounded = [dosage(1, {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h", "boundsDuration": qty(5, "d")}})]
    result = supply(oxy(None, bounded))
    assert (result.per_fill_days, result.source) == (Decimal(5), "timing bounds")
    period = [
        dosage(
            1,
            {
                "repeat": {
                    "frequency": 1,
                    "period": 6,
                    "periodUnit": "h",
                    "boundsPeriod": {"start": "2026-06-01", "end": "2026-06-11"},
                }
            },
        )
    ]
    assert supply(oxy(None, period)).per_fill_days == Decimal(10)
    open_period = [
        dosage(1, {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h", "boundsPeriod": {"start": "2026-06-01"}}})
    ]
    assert supply(oxy(None, open_period)).per_fill_days is None


def test_taper_steps_add_their_bounds() -> None:
    steps = [
        dosage(
            2, {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h", "boundsDuration": qty(3, "d")}}, sequence=1
        ),
        dosage(
            1, {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h", "boundsDuration": qty(4, "d")}}, sequence=2
        ),
    ]
    assert supply(oxy(None, steps)).per_fill_days == Decimal(7)


def test_validity_period_is_never_a_duration() -> None:
    result = supply(oxy({"validityPeriod": {"start": "2026-01-01", "end": "2026-12-31"}}))
    assert result.per_fill_days is None and result.total_days is None and result.source is None


def test_no_information_is_unknown() -> None:
    assert supply(med_request("1049621", [])).total_days is None


# --- 4.2 --------------------------------------------------------------------------------------------------------


def _course(code: str) -> dict:
    return {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy", "code": code}
        ]
    }


def test_course_of_therapy_decides_first() -> None:
    long = {"expectedSupplyDuration": qty(90, "d")}
    assert klass(oxy(long, courseOfTherapyType=_course("acute"))) == "acute"
    assert klass(oxy({"expectedSupplyDuration": qty(3, "d")}, courseOfTherapyType=_course("continuous"))) == (
        "subacute-chronic"
    )


@pytest.mark.parametrize(
    ("days", "refills", "expected"),
    [(7, 0, "acute"), (27, 0, "acute"), (28, 0, "subacute-chronic"), (10, 2, "subacute-chronic"), (9, 2, "acute")],
)
def test_supply_days_against_28(days: int, refills: int, expected: str) -> None:
    resource = oxy({"expectedSupplyDuration": qty(days, "d"), "numberOfRepeatsAllowed": refills})
    assert klass(resource) == expected


def test_unknown_supply_is_unclassified() -> None:
    assert klass(med_request("1049621", [dosage(1)])) == "unclassified"


def test_a_supply_no_prescription_can_hold_is_unknown_never_centuries() -> None:
    # Found by fuzzing: 999,999,999,999 days (under the reader's 10^12 limit) or as many refills overflowed the
    # calendar, and the hook named high-MME and other checks as not run; the population lost the patient.
    absurd = supply(oxy({"expectedSupplyDuration": qty(999_999_999_999, "d"), "quantity": qty(80)}))
    assert absurd.source == "quantity ÷ daily dose" and absurd.per_fill_days == Decimal(10)  # the next source
    refills = supply(oxy({"expectedSupplyDuration": qty(10, "d"), "numberOfRepeatsAllowed": 999_999_999_999}))
    assert refills.per_fill_days == Decimal(10) and refills.total_days is None
    assert supply(oxy({"expectedSupplyDuration": qty(999, "d"), "numberOfRepeatsAllowed": 99})).total_days == 99_900
    assert supply(oxy({"expectedSupplyDuration": qty(1000, "d")}, dosages=[])).per_fill_days is None


def _capped_prn(cap: dict) -> dict:
    """Epic's "1-2 tablets every 4 hours as needed" (its admin amount in tablets) with a daily cap, 180 dispensed."""
    doses = [{"doseRange": {"low": qty(1), "high": qty(2)}}]
    instruction = dosage(doses, every(4), asNeededBoolean=True, maxDosePerPeriod=cap)
    return oxy({"quantity": qty(180)}, dosages=[instruction])


def test_a_daily_cap_lengthens_the_supply_a_quantity_gives_as_it_lowers_the_mme() -> None:
    """180 tablets at most 6 a day last 30 days: the cap the MME counts (6 tablets, 45 MME/day) is the day the
    quantity is divided by. Read uncapped (12 a day) they lasted 15, so the order left the current total on day 16."""
    per_day = {"numerator": qty(6), "denominator": qty(1, "d")}
    assert supply(_capped_prn(per_day)).per_fill_days == Decimal(30)
    in_mg = {"numerator": qty(30, "mg"), "denominator": qty(24, "h")}  # 30 mg of a 5 mg tablet is 6 tablets
    assert supply(_capped_prn(in_mg)).per_fill_days == Decimal(30)
    assert klass(_capped_prn(per_day)) == "subacute-chronic"


def test_a_cap_the_mme_ignores_leaves_the_supply_uncapped_too() -> None:
    """A cap above the dose, one in mL on a tablet, or caps switched off by the site change nothing, as for the MME."""
    above = {"numerator": qty(20), "denominator": qty(1, "d")}
    assert supply(_capped_prn(above)).per_fill_days == Decimal(15)
    in_ml = {"numerator": qty(30, "mL"), "denominator": qty(1, "d")}
    assert supply(_capped_prn(in_ml)).per_fill_days == Decimal(15)
    per_day = {"numerator": qty(6), "denominator": qty(1, "d")}
    uncapped = config(apply_max_dose_per_period=False)
    assert supply(_capped_prn(per_day), uncapped).per_fill_days == Decimal(15)


def _patch_by_rate(rate: float, patches: int, rxcui: str = "245134") -> dict:
    """Oracle Health's fentanyl patch order sentence "25 mcg/hr, Transdermal, q72hr": the dose as the patch's rate
    (no count of patches), on the 25 mcg/h patch (RxNorm 245134) unless told, `patches` to dispense."""
    instruction = dosage(qty(rate, "mcg/h"), every(72))
    return med_request(rxcui, [instruction], dispense={"quantity": qty(patches, "{patch}")})


def test_a_patch_dosed_by_its_rate_lasts_as_many_days_as_its_patches_do() -> None:
    """A dose of 25 mcg/h on a 25 mcg/h patch is one patch worn: 10 patches changed every 72 hours last 30 days. A
    rate of two patches (50 mcg/h) lasts half as long. Before, a dose given as a rate was no count of patches, so
    the supply was unknown and the order was named as having no quantity PainPlan could read."""
    assert supply(_patch_by_rate(25, 10)).per_fill_days == Decimal(30)
    assert supply(_patch_by_rate(50, 10)).per_fill_days == Decimal(15)
    assert klass(_patch_by_rate(25, 10)) == "subacute-chronic"
    # The "12 mcg/h" patch (RxNorm 577057, 0.012 mg/h) delivers 12.5 and is ordered so: one patch.
    assert supply(_patch_by_rate(12.5, 10, rxcui="577057")).per_fill_days == Decimal(30)


def test_a_rate_no_whole_number_of_the_patch_gives_leaves_the_supply_unknown() -> None:
    """37.5 mcg/h of a 25 mcg/h patch is one and a half patches, which no one wears: the patches a day are not
    guessed, and the supply stays unknown (named), as before."""
    assert supply(_patch_by_rate(37.5, 10)).per_fill_days is None


def _step(tablets: int, days: int, sequence: int | None = 1, **bounds: object) -> dict:
    """One step of a taper: `tablets` once a day for `days` days (boundsDuration), or over `bounds`' boundsPeriod."""
    repeat: dict = {"frequency": 1, "period": 1, "periodUnit": "d"}
    repeat |= {"boundsPeriod": bounds} if bounds else {"boundsDuration": qty(days, "d")}
    return dosage(tablets, {"repeat": repeat}, **({"sequence": sequence} if sequence is not None else {}))


def test_a_tapers_quantity_lasts_along_its_steps_not_at_its_highest_step() -> None:
    """Epic's taper of oxycodone 10 mg, 3 tablets a day for 14 days, then 2, then 1, with the 84 tablets it needs and
    no days' supply: they last the taper's 42 days. Divided by the highest step's 3 a day they lasted 28, so the
    order left the current ones on day 29 while the patient was still on it."""
    steps = [_step(3, 14, 1), _step(2, 14, 2), _step(1, 14, 3)]
    result = supply(oxy({"quantity": qty(84)}, dosages=steps))
    assert (result.per_fill_days, result.source) == (Decimal(42), "quantity along the dosing steps")
    # Fewer tablets than the taper needs run out within a step: 42 in the first 14 days, 18 more at 2 a day.
    assert supply(oxy({"quantity": qty(60)}, dosages=steps)).per_fill_days == Decimal(23)


def test_dated_steps_without_sequence_numbers_are_walked_in_their_order() -> None:
    """Steps dated by boundsPeriods that follow each other, as the MME reads them: 2 tablets a day for days 1-3,
    then 1 a day for days 4-10; 13 tablets last 10 days (they were added as if taken together, 3 a day: 4.3 days)."""
    steps = [
        _step(1, 0, None, start="2026-06-04", end="2026-06-11"),
        _step(2, 0, None, start="2026-06-01", end="2026-06-04"),
    ]
    assert supply(oxy({"quantity": qty(13)}, dosages=steps)).per_fill_days == Decimal(10)


def test_a_walk_never_shortens_the_supply_the_highest_step_gives() -> None:
    """More tablets than the steps use (60 for a 6-day taper of 9), or a step of unknown length before the last:
    the quantity ÷ the highest step stands, as before."""
    short_taper = [_step(2, 3, 1), _step(1, 3, 2)]
    assert supply(oxy({"quantity": qty(60)}, dosages=short_taper)).per_fill_days == Decimal(30)
    unbounded_first = [dosage(2, {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}, sequence=1)]
    open_middle = [*unbounded_first, _step(1, 14, 2)]
    result = supply(oxy({"quantity": qty(28)}, dosages=open_middle))
    assert (result.per_fill_days, result.source) == (Decimal(14), "quantity ÷ daily dose")


HOLD = ", more than a prescription can hold"


def test_a_supply_no_prescription_can_hold_says_what_was_sent() -> None:
    """Each source longer than 999 days that left the supply unknown is kept in words, so that the order can be named
    with it rather than read as an order with no quantity (`Supply.unbelieved`)."""
    daily = oxy({"quantity": qty(9000)}, dosages=[dosage(1, every(1, "d"))])  # a typo of 90
    assert supply(daily).per_fill_days is None
    assert supply(daily).unbelieved == f"quantity 9000 tablets at 1 a day: 9000 days' supply{HOLD}"
    expected = supply(oxy({"expectedSupplyDuration": qty(1200, "d")}, dosages=[]))
    assert (expected.per_fill_days, expected.unbelieved) == (None, f"expected supply duration 1200 days{HOLD}")
    # A taper whose last step has no end: 3 a day for 14 days, then 1 a day; 2000 tablets walk 1972 days (÷ 3 a day
    # alone, 666.7, is not what the quantity means: the walk is the reading, and it cannot be believed).
    steps = [_step(3, 14, 1), dosage(1, every(1, "d"), sequence=2)]
    walked = supply(oxy({"quantity": qty(2000)}, dosages=steps))
    assert walked.per_fill_days is None
    assert walked.unbelieved == f"quantity 2000 tablets taken along the dosing steps: 1972 days' supply{HOLD}"
    refills = supply(oxy({"expectedSupplyDuration": qty(30, "d"), "numberOfRepeatsAllowed": 120}))
    assert (refills.total_days, refills.unbelieved) == (
        None,
        "30 days' supply with 120 refills, more refills than a prescription can carry",
    )


def test_a_supply_another_source_gives_or_that_can_be_believed_says_nothing() -> None:
    assert supply(oxy({"quantity": qty(90)}, dosages=[dosage(1, every(1, "d"))])).unbelieved is None
    # 1200 days written, but the quantity gives 10: the supply is known, as before.
    skipped = supply(oxy({"expectedSupplyDuration": qty(1200, "d"), "quantity": qty(80)}))
    assert (skipped.per_fill_days, skipped.unbelieved) == (Decimal(10), None)
    assert supply(oxy({"expectedSupplyDuration": qty(999, "d"), "numberOfRepeatsAllowed": 99})).unbelieved is None
    assert supply(oxy(dosages=[dosage(1)])).unbelieved is None  # nothing sent: unknown, not unbelieved


SHORT = ", less than one day, shorter than any prescription's days' supply"


@pytest.mark.parametrize(
    ("sent", "words"),
    [
        ({"value": 0.01, "unit": "days"}, "0.01 days"),
        (qty(10, "min"), "10 minutes"),
        ({"value": 0.01, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}, "0.01 days"),
    ],
)
def test_an_expected_supply_under_a_day_is_no_supply_and_says_what_was_sent(sent: dict, words: str) -> None:
    """As a fill's days' supply under a day is (`fills.days_supply`): 60 tablets 'as directed' over 10 minutes is a
    keying error, not a supply that ends today; named with what was sent, as one over 999 days is."""
    order = oxy({"expectedSupplyDuration": sent, "quantity": qty(60)}, dosages=[{"text": "Take as directed"}])
    result = supply(order)
    assert (result.per_fill_days, result.source) == (None, None)
    assert result.unbelieved == f"expected supply duration {words}{SHORT}"
    assert klass(order) == "unclassified"


def test_an_expected_supply_under_a_day_beside_one_over_999_names_each_with_its_own_words() -> None:
    order = oxy({"expectedSupplyDuration": qty(2, "h"), "quantity": qty(9000)}, dosages=[dosage(1, every(1, "d"))])
    assert supply(order).unbelieved == (
        f"expected supply duration 2 hours{SHORT}; quantity 9000 tablets at 1 a day: 9000 days' supply{HOLD}"
    )


@pytest.mark.parametrize(
    ("reason", "sent"),
    [
        (
            "supply-under-a-day",
            f"expected supply duration 2 hours; quantity 9000 tablets at 1 a day: 9000 days' supply{HOLD}",
        ),
        (
            "supply-over-999",
            f"expected supply duration 2 hours{SHORT}; quantity 9000 tablets at 1 a day: 9000 days' supply",
        ),
        (None, f"expected supply duration 2 hours{SHORT}; quantity 9000 tablets at 1 a day: 9000 days' supply{HOLD}"),
    ],
)
def test_what_was_sent_leaves_out_only_the_why_the_orders_mme_reason_says_already(reason: str | None, sent: str):
    """`painplan mme`'s line of an order whose MME reason says why its supply cannot be right names what was sent
    without saying why twice; the other source keeps its own why."""
    order = oxy({"expectedSupplyDuration": qty(2, "h"), "quantity": qty(9000)}, dosages=[dosage(1, every(1, "d"))])
    assert unbelieved_sent(supply(order), reason) == sent


def test_an_order_of_hours_with_a_readable_dose_takes_its_supply_from_its_quantity() -> None:
    """An emergency department's order, 2 tablets every 6 hours, #4, its expected supply 12 hours: the quantity
    over the dose it reads gives half a day, a supply worked out (not keyed), which is believed; nothing is named."""
    result = supply(oxy({"expectedSupplyDuration": qty(12, "h"), "quantity": qty(4)}))
    assert (result.per_fill_days, result.source, result.unbelieved) == (Decimal("0.5"), "quantity ÷ daily dose", None)
    assert supply(oxy({"expectedSupplyDuration": qty(1, "d")})).per_fill_days == Decimal(1)  # a day is held


def test_days_and_mme_round_alike_to_one_place_and_only_days_drop_a_whole_numbers_point() -> None:
    """One display rounding (half up, to one place) for both: "30 days' supply" beside "90.0 MME/day"."""
    assert (one_place(Decimal("6.75")), format_mme(Decimal("6.75"))) == ("6.8", "6.8")
    assert (one_place(Decimal("30.04")), format_mme(Decimal("30.04"))) == ("30", "30.0")
    # A number too long to round (corrupt data) is shown as it is by both, never an error that loses the card.
    absurd = Decimal("1e30")
    assert one_place(absurd) == format_mme(absurd) == "1" + "0" * 30
