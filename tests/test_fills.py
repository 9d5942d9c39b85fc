"""guideline.fills: per-fill MME by the CDC data-file formula, supply intervals and the fill ↔ order link."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from guideline.config import GuidelineConfig
from guideline.fills import (
    days_supply,
    days_supply_problem,
    fill_date,
    fill_mme,
    same_drug_key,
    source_order,
    supply_intervals,
)
from guideline.history import order_interval
from guideline.record import build_record
from guideline.supply import order_supply
from guideline.terminology import load_terminology
from tests.builders import RXNORM, TZ, UCUM, med_request

CONFIG = GuidelineConfig.from_mapping({})
TERMS = load_terminology(CONFIG)

MORPHINE_ER_30 = "891888"
OXYCODONE_5 = "1049621"
FENTANYL_25_PATCH = "245134"
OXYCODONE_APAP_SOLUTION = "1049580"  # oxycodone 1 mg/mL with acetaminophen
METHADONE_10 = "864706"
BUPRENORPHINE_FILM = "1716065"


def fill(
    rxcui: str,
    handed_over: str | None = "2026-06-01",
    *,
    quantity: float | None = 60,
    unit: str = "{tbl}",
    days: float | None = 30,
    id: str = "f1",
    prepared: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": id,
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        **extra,
    }
    if handed_over:
        resource["whenHandedOver"] = handed_over
    if prepared:
        resource["whenPrepared"] = prepared
    if quantity is not None:
        resource["quantity"] = {"value": quantity, "unit": unit.strip("{}"), "system": UCUM, "code": unit}
    if days is not None:
        resource["daysSupply"] = {"value": days, "unit": "d", "system": UCUM, "code": "d"}
    return resource


def read(*resources: dict[str, Any]):
    return build_record(list(resources), TZ)


def one(resource: dict[str, Any]):
    return read(resource).dispenses[0]


def test_fill_date_prefers_hand_over_then_preparation():
    assert fill_date(one(fill(OXYCODONE_5, "2026-06-03T15:00:00-04:00", prepared="2026-06-01"))) == date(2026, 6, 3)
    assert fill_date(one(fill(OXYCODONE_5, None, prepared="2026-06-01"))) == date(2026, 6, 1)
    assert fill_date(one(fill(OXYCODONE_5, None))) is None


def test_days_supply_missing_or_zero_is_unknown():
    assert days_supply(one(fill(OXYCODONE_5, days=14))) == Decimal(14)
    assert days_supply(one(fill(OXYCODONE_5, days=None))) is None
    assert days_supply(one(fill(OXYCODONE_5, days=0))) is None


@pytest.mark.parametrize(
    ("days_supply_written", "expected", "problem"),
    [
        ({"value": 30, "unit": "d", "system": UCUM, "code": "d"}, Decimal(30), None),
        ({"value": 2, "unit": "wk", "system": UCUM, "code": "wk"}, Decimal(14), None),
        ({"value": 1, "unit": "mo", "system": UCUM, "code": "mo"}, Decimal(30), None),
        ({"value": 30}, Decimal(30), None),  # a bare number is days
        ({"value": 0, "unit": "d", "system": UCUM, "code": "d"}, None, "no-days-supply"),
        ({"value": -30, "unit": "d", "system": UCUM, "code": "d"}, None, "no-days-supply"),
        ({"value": 30, "unit": "fortnights", "code": "fortnights"}, None, "days-supply-unit-unread"),
        ({"value": 12, "unit": "h", "system": UCUM, "code": "h"}, None, "days-supply-under-a-day"),
        ({"value": 0.5, "unit": "d", "system": UCUM, "code": "d"}, None, "days-supply-under-a-day"),
        ({"value": 1000, "unit": "d", "system": UCUM, "code": "d"}, None, "days-supply-over-999"),
        ({"value": 999, "unit": "d", "system": UCUM, "code": "d"}, Decimal(999), None),
        ({"value": 1, "unit": "d", "system": UCUM, "code": "d"}, Decimal(1), None),
    ],
)
def test_days_supply_is_unknown_exactly_when_a_problem_is_named(days_supply_written, expected, problem):
    # The supply every queue and history reads and the reason the card names are one rule: a fill has a days'
    # supply, or a named reason it has none, never both and never neither.
    dispense = one({**fill(OXYCODONE_5, days=None), "daysSupply": days_supply_written})
    assert days_supply(dispense) == expected
    assert days_supply_problem(dispense) == problem


@pytest.mark.parametrize(
    ("rxcui", "quantity", "unit", "days", "expected"),
    [
        # 60 tablets ÷ 30 days = 2/day × 30 mg = 60 mg morphine × 1
        (MORPHINE_ER_30, 60, "{tbl}", 30, Decimal(60)),
        # 120 tablets ÷ 30 days = 4/day × 5 mg = 20 mg oxycodone × 1.5
        (OXYCODONE_5, 120, "{tbl}", 30, Decimal(30)),
        # an early-stopped supply: 45 tablets ÷ 10 days = 4.5/day × 5 mg = 22.5 mg × 1.5
        (OXYCODONE_5, 45, "{tbl}", 10, Decimal("33.75")),
        # 10 patches ÷ 30 days × 3 days' wear = 1 patch worn × 25 mcg/h × 2.4
        (FENTANYL_25_PATCH, 10, "{patch}", 30, Decimal(60)),
        # 20 patches in 30 days: 2 patches worn at once × 25 × 2.4
        (FENTANYL_25_PATCH, 20, "{patch}", 30, Decimal(120)),
        # 300 mL ÷ 10 days = 30 mL/day × 1 mg/mL = 30 mg oxycodone × 1.5
        (OXYCODONE_APAP_SOLUTION, 300, "mL", 10, Decimal(45)),
        # 90 tablets ÷ 30 days = 3/day × 10 mg = 30 mg methadone × 4.7 (CDC 2022: one factor)
        (METHADONE_10, 90, "{tbl}", 30, Decimal("141")),
    ],
)
def test_mme_per_day_is_quantity_times_strength_times_factor_over_days(rxcui, quantity, unit, days, expected):
    result = fill_mme(one(fill(rxcui, quantity=quantity, unit=unit, days=days)), TERMS, CONFIG)
    assert result.state == "ok"
    assert result.mme == expected
    assert "MME/day" in result.explanation and "days' supply" in result.explanation


def test_explanation_shows_the_arithmetic():
    result = fill_mme(one(fill(MORPHINE_ER_30, quantity=60, days=30)), TERMS, CONFIG)
    assert "(filled 2026-06-01)" in result.explanation
    assert "60 tablets ÷ 30 days' supply = 2 per day = 60 mg/day morphine × 1 = 60.0 MME/day" in result.explanation


def test_methadone_follows_the_2016_tiers_on_the_fills_own_dose():
    config = GuidelineConfig.from_mapping({"mme": {"profile": "cdc2016"}})
    # 30 mg/day methadone is in the 21–40 mg tier: factor 8
    result = fill_mme(one(fill(METHADONE_10, quantity=90, days=30)), load_terminology(config), config)
    assert result.mme == Decimal(240)


def test_buprenorphine_fill_has_no_mme_as_for_orders():
    result = fill_mme(one(fill(BUPRENORPHINE_FILM, quantity=60, unit="{film}", days=30)), TERMS, CONFIG)
    assert result.state == "excluded" and result.mme is None
    assert "buprenorphine is not included in MME" in result.explanation


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"days": None}, "no-days-supply"),
        ({"days": 0}, "no-days-supply"),
        # A fraction of a day (found by fuzzing: 1e-300 days raised InvalidOperation, 0.5 days ended the supply before
        # it began, so the fill silently counted for nothing).
        ({"days": 0.5}, "days-supply-under-a-day"),
        ({"days": 1e-300}, "days-supply-under-a-day"),
        ({"days": 5000}, "days-supply-over-999"),  # 10^12 days (the reader's limit) overflowed the calendar
        ({"quantity": None}, "no-quantity"),
        ({"quantity": 0}, "no-quantity"),
    ],
)
def test_fill_without_quantity_or_days_is_unknown_never_zero(kwargs, reason):
    result = fill_mme(one(fill(OXYCODONE_5, **kwargs)), TERMS, CONFIG)
    assert (result.state, result.reason, result.mme) == ("unknown", reason, None)
    assert result.reason_text and result.reason_text in result.explanation


def test_unknown_drug_is_named_unknown():
    result = fill_mme(one(fill("999999999")), TERMS, CONFIG)
    assert result.state == "unknown" and result.reason == "not-in-drug-table"


def drug_of(item):
    return same_drug_key(item, TERMS)


def test_early_refill_of_the_same_drug_starts_after_the_earlier_supply_ends():
    record = read(
        fill(OXYCODONE_5, "2026-05-01", days=30, id="a"),
        fill(OXYCODONE_5, "2026-05-21", days=30, id="b"),  # 10 days early
        fill(MORPHINE_ER_30, "2026-05-21", days=30, id="c"),  # a different drug: overlaps
    )
    supplies = {s.dispense.id: s for s in supply_intervals(record.dispenses, drug_of)}
    assert (supplies["a"].start, supplies["a"].end) == (date(2026, 5, 1), date(2026, 5, 30))
    assert (supplies["b"].start, supplies["b"].end) == (date(2026, 5, 31), date(2026, 6, 29))
    assert supplies["b"].shifted_days == 10
    assert (supplies["c"].start, supplies["c"].end) == (date(2026, 5, 21), date(2026, 6, 19))
    assert supplies["a"].covers(date(2026, 5, 25)) and supplies["c"].covers(date(2026, 5, 25))
    assert not supplies["b"].covers(date(2026, 5, 25))


def test_a_brand_fill_and_its_generic_are_one_drug_for_early_refills():
    # Percocet 10/325 (a branded drug) refilled early as generic oxycodone/APAP 10/325: the pharmacy's label is no
    # second drug, so the refill queues behind the first supply instead of adding its dose to it.
    percocet, generic = "1049625", "1049214"
    record = read(fill(percocet, "2026-05-01", days=30, id="a"), fill(generic, "2026-05-21", days=30, id="b"))
    first, second = record.dispenses
    assert drug_of(first) == drug_of(second) == f"rxnorm:{generic}"
    supplies = {s.dispense.id: s for s in supply_intervals(record.dispenses, drug_of)}
    assert supplies["b"].start == date(2026, 5, 31)


def _unnamed_fill(fill_id: str, reference: str) -> dict[str, Any]:
    """A fill whose Medication the server did not return: a reference with no display, nothing to name it by."""
    resource = fill(OXYCODONE_5, id=fill_id)
    del resource["medicationCodeableConcept"]
    resource["medicationReference"] = {"reference": reference}
    return resource


def test_two_different_unnamed_fills_are_not_the_same_drug():
    # Both were "name:unnamed medication": the second queued behind the first as an early refill, its supply pushed
    # 30 days later, and either could stand for an order of the other.
    fills = build_record([_unnamed_fill("f1", "Medication/m-a"), _unnamed_fill("f2", "Medication/m-b")], TZ).dispenses
    assert drug_of(fills[0]) != drug_of(fills[1])
    first, second = supply_intervals(fills, drug_of)
    assert first.start == second.start == date(2026, 6, 1)


def test_two_unnamed_medications_that_differ_only_in_their_ingredients_are_not_the_same_drug():
    def contained(fill_id: str, ingredient: str) -> dict[str, Any]:
        resource = _unnamed_fill(fill_id, "#med")
        medication = {
            "resourceType": "Medication",
            "id": "med",
            "ingredient": [{"itemCodeableConcept": {"text": ingredient}}],
        }
        resource["contained"] = [medication]
        return resource

    fills = build_record([contained("f1", "SUBSTANCE 17"), contained("f2", "SUBSTANCE 18")], TZ).dispenses
    assert drug_of(fills[0]) != drug_of(fills[1])
    again = build_record([contained("f3", "SUBSTANCE 17")], TZ).dispenses
    assert drug_of(again[0]) == drug_of(fills[0])  # the same medication is the same drug, call after call


def test_fill_with_unknown_days_has_no_interval_and_does_not_push_later_fills():
    record = read(
        fill(OXYCODONE_5, "2026-05-01", days=None, id="a"),
        fill(OXYCODONE_5, "2026-05-05", days=7, id="b"),
    )
    supplies = {s.dispense.id: s for s in supply_intervals(record.dispenses, drug_of)}
    assert supplies["a"].end is None and not supplies["a"].covers(date(2026, 5, 1))
    assert (supplies["b"].start, supplies["b"].end) == (date(2026, 5, 5), date(2026, 5, 11))


def interval_of(order):
    return order_interval(order, order_supply(order, TERMS, CONFIG))


def test_fill_is_one_supply_with_its_authorizing_prescription():
    order = med_request(OXYCODONE_5, id="rx1", authored="2026-01-02")
    dispensed = fill(OXYCODONE_5, "2026-06-01", authorizingPrescription=[{"reference": "MedicationRequest/rx1"}])
    record = read(order, dispensed)
    assert record.dispenses[0].authorizing_prescriptions == ("MedicationRequest/rx1",)
    # The reference decides even though the dates do not overlap.
    assert source_order(record.dispenses[0], record.orders, drug_of, interval_of) is record.orders[0]


def test_fill_naming_an_order_not_in_the_record_stands_alone():
    order = med_request(OXYCODONE_5, id="rx1", authored="2026-05-25")
    dispensed = fill(OXYCODONE_5, "2026-06-01", authorizingPrescription=[{"reference": "MedicationRequest/other"}])
    record = read(order, dispensed)
    assert source_order(record.dispenses[0], record.orders, drug_of, interval_of) is None


def test_fill_without_reference_joins_same_drug_order_overlapping_in_time():
    same = med_request(OXYCODONE_5, id="rx1", authored="2026-05-25")
    other_drug = med_request(MORPHINE_ER_30, id="rx2", authored="2026-05-25")
    record = read(same, other_drug, fill(OXYCODONE_5, "2026-06-01"))
    assert source_order(record.dispenses[0], record.orders, drug_of, interval_of).id == "rx1"
    # a fill long after the order's supply is a supply of its own
    late = read(same, fill(OXYCODONE_5, "2026-09-01"))
    assert source_order(late.dispenses[0], late.orders, drug_of, interval_of) is None


PRESCRIBING = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claimcareteamrole", "code": "prescribing"}]}


def test_fill_from_another_prescriber_is_not_the_same_supply():
    # Only a fill that says who prescribed it (a claim's prescribing care-team member) can name another prescriber.
    order = med_request(OXYCODONE_5, id="rx1", authored="2026-05-25")
    order["requester"] = {"reference": "Practitioner/dr1"}
    claimed = [{"actor": {"reference": "Practitioner/dr9"}, "function": PRESCRIBING}]
    record = read(order, fill(OXYCODONE_5, "2026-06-01", performer=claimed))
    assert record.orders[0].requester == "Practitioner/dr1"
    assert record.dispenses[0].performers == record.dispenses[0].prescribers == ("Practitioner/dr9",)
    assert source_order(record.dispenses[0], record.orders, drug_of, interval_of) is None
    claimed[0]["actor"] = {"reference": "Practitioner/dr1"}
    same = read(order, fill(OXYCODONE_5, "2026-06-01", performer=claimed))
    assert source_order(same.dispenses[0], same.orders, drug_of, interval_of).id == "rx1"


@pytest.mark.parametrize("dispenser", ["Practitioner/pharmacist9", "Organization/pharmacy1", "PractitionerRole/r1"])
def test_a_fill_naming_who_dispensed_it_is_still_its_orders_supply(dispenser: str) -> None:
    # A pharmacy's fill names the pharmacist or pharmacy that dispensed it. Read as its prescriber, no such fill was
    # ever its order's supply: order and fill were counted twice, 180 MME/day for 90.
    order = med_request(OXYCODONE_5, id="rx1", authored="2026-05-25")
    order["requester"] = {"reference": "Practitioner/dr1"}
    dispensed = read(order, fill(OXYCODONE_5, "2026-06-01", performer=[{"actor": {"reference": dispenser}}]))
    assert dispensed.dispenses[0].prescribers == ()
    assert source_order(dispensed.dispenses[0], dispensed.orders, drug_of, interval_of).id == "rx1"


def test_an_order_and_its_fill_from_the_pharmacy_count_once_in_the_total() -> None:
    from builders import days_ago, run

    order = {
        **med_request(OXYCODONE_5, id="rx1", authored=days_ago(5)[:10]),
        "requester": {"reference": "Practitioner/dr1"},
    }
    filled = fill(OXYCODONE_5, days_ago(4)[:10], quantity=120, performer=[{"actor": {"reference": "Organization/ph1"}}])
    high = [c for c in run("patient-view", resources=[order, filled]).cards if c.check_id == "high-mme"]
    alone = [c for c in run("patient-view", resources=[order]).cards if c.check_id == "high-mme"]
    assert [c.summary for c in high] == [c.summary for c in alone]


def test_missing_days_supply_is_derived_from_the_linked_orders_dosage_only():
    from guideline.fills import days_supply_or_derived

    order = med_request(OXYCODONE_5, id="rx1", authored="2026-05-25")  # 1 tablet every 6 hours: 4 a day
    record = read(order, fill(OXYCODONE_5, days=None, quantity=60))
    dispensed = record.dispenses[0]
    assert days_supply_or_derived(dispensed, record.orders[0], TERMS, CONFIG) == Decimal(15)  # 60 ÷ 4
    assert days_supply_or_derived(dispensed, None, TERMS, CONFIG) is None
    liquid = read(order, fill(OXYCODONE_5, days=None, quantity=100, unit="mL")).dispenses[0]
    assert days_supply_or_derived(liquid, record.orders[0], TERMS, CONFIG) is None  # mL against tablets
    given = read(fill(OXYCODONE_5, days=7)).dispenses[0]
    assert days_supply_or_derived(given, record.orders[0], TERMS, CONFIG) == Decimal(7)


def test_numbers_too_long_to_round_are_shown_as_they_are():
    # quantize raises InvalidOperation past the context's 28 digits; the explanation must still be written.
    from guideline.dosage import number_text
    from guideline.fills import quantity_per_day
    from guideline.mme import Amount

    huge = Decimal("1.8E+302")
    assert number_text(huge) == format(huge, "f") and quantity_per_day(Amount(huge, "count", "")) == huge
    assert number_text(Decimal("2.5")) == "2.5" and number_text(Decimal("60.000")) == "60"


def test_a_supply_too_long_for_the_calendar_is_unknown_not_an_overflow():
    # 10^12 days passes the reader (its limit for any number) and overflowed timedelta in the population review.
    from guideline.fills import supply_intervals

    [supply] = supply_intervals([one(fill(OXYCODONE_5, days=10**12))], lambda _: "oxycodone")
    assert supply.start is not None and supply.end is None


def test_a_fill_whose_code_and_name_state_different_strengths_names_the_conflict_on_its_line() -> None:
    """A pharmacy fill is counted at the higher strength as an order is, and its line says so: the pharmacy's drug
    name ("oxycodone 10 mg tablet") against the code it billed (5 mg) is a dose for the clinician to check."""
    concept = {"coding": [{"system": RXNORM, "code": OXYCODONE_5}], "text": "oxycodone 10 mg tablet"}
    result = fill_mme(one(fill(OXYCODONE_5, quantity=90, days=30, medicationCodeableConcept=concept)), TERMS, CONFIG)
    assert (result.state, result.mme) == ("ok", Decimal(45))
    assert result.explanation.endswith(
        "; the code says 5 mg oxycodone, the name says 10 mg: counted at 10 mg, check which strength is meant"
    )


def test_a_fill_of_unknown_supply_holds_its_place_in_the_queue_when_asked():
    # The exposure history reads an unknown days' supply as 30 days; its early refill starts after those 30 days.
    record = read(fill(OXYCODONE_5, "2026-03-01", days=None, id="f1"), fill(OXYCODONE_5, "2026-03-20", id="f2"))
    plain = {s.dispense.id: s for s in supply_intervals(record.dispenses, lambda _: "oxycodone")}
    assert plain["f1"].end is None and plain["f2"].start == date(2026, 3, 20)
    queued = {s.dispense.id: s for s in supply_intervals(record.dispenses, lambda _: "oxycodone", unknown_days=30)}
    assert queued["f1"].end == date(2026, 3, 30)
    assert (queued["f2"].start, queued["f2"].end) == (date(2026, 3, 31), date(2026, 4, 29))
