"""Guideline section 9: worked examples E1–E22 under both profiles, and the edge cases listed after the table."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fixtures.mme.helpers import (
    DRUG_FORM,
    EPIC_TYPE,
    RXNORM,
    code_timing,
    config,
    dosage,
    every,
    med_request,
    mme,
    orders,
    qty,
    terms,
)

from guideline.mme import compute_mme, format_mme

BOTH = ("cdc2022", "cdc2016")


def _one(resource: dict, profile: str, **settings: object):
    summary = mme(resource, profile=profile, **settings)
    assert len(summary.orders) == 1
    return summary, summary.orders[0]


def _expect(resource: dict, profile: str, expected: str | None, reason: str | None = None) -> None:
    """`expected` is the exact order MME, or None for an unknown order with `reason`."""
    summary, order = _one(resource, profile)
    if expected is None:
        assert order.state == "unknown"
        assert order.reason == reason
        assert order.mme is None
        assert summary.state == "none"
        assert summary.display() == "not available"
    else:
        assert order.state == "ok", order.explanation
        assert order.mme == Decimal(expected)
        assert summary.total == Decimal(expected)
        assert summary.state == "complete"


def e1() -> dict:
    return med_request("1049621", [dosage(2, every(4))])


@pytest.mark.parametrize("profile", BOTH)
def test_e1_oxycodone_two_tablets_every_4_hours_is_90(profile: str) -> None:
    _expect(e1(), profile, "90")
    summary, order = _one(e1(), profile)
    assert order.daily_dose_text == "60 mg oxycodone/day"
    assert order.ingredients[0].daily_amount == Decimal(60)
    assert order.ingredients[0].factor == Decimal("1.5")
    assert order.estimated_by == "dosage"
    assert "90.0 MME" in order.explanation and "× 1.5" in order.explanation
    assert summary.display().startswith("90.0 MME/day (CDC 20")


@pytest.mark.parametrize("profile", BOTH)
def test_e2_fentanyl_patch_ignores_change_interval(profile: str) -> None:
    patch = med_request("197696", [dosage(qty(1, "{patch}"), every(72))])
    _expect(patch, profile, "180")
    daily = med_request("197696", [dosage(qty(1, "{patch}"), every(24))])
    _expect(daily, profile, "180")
    order = mme(patch, profile=profile).orders[0]
    assert order.ingredients[0].daily_unit == "mcg/h"
    assert order.ingredients[0].daily_amount == Decimal(75)


@pytest.mark.parametrize(("profile", "expected"), [("cdc2022", "282"), ("cdc2016", "600")])
def test_e3_methadone_flat_factor_vs_tier(profile: str, expected: str) -> None:
    _expect(med_request("864706", [dosage(2, code_timing("TID"))]), profile, expected)


def e4() -> dict:
    tab = {"value": 1, "unit": "TAB", "system": DRUG_FORM, "code": "TAB"}
    high = {**tab, "value": 2}
    return med_request(
        "836397",
        [
            dosage(
                [{"doseRange": {"low": tab, "high": high}}],
                every(4, periodMax=6),
                asNeededBoolean=True,
            )
        ],
        dispense={"expectedSupplyDuration": qty(30, "days", "d")},
    )


def test_e4_tramadol_range_uses_high_and_has_no_2016_factor() -> None:
    _expect(e4(), "cdc2022", "90")
    _, order = _one(e4(), "cdc2016")
    assert order.state == "unknown" and order.reason == "no-factor"
    assert order.ingredients[0].daily_amount == Decimal(450)  # the dose is still shown
    assert "tramadol" in order.explanation


@pytest.mark.parametrize(("profile", "expected"), [("cdc2022", "60"), ("cdc2016", "48")])
def test_e5_prn_counts_at_max_frequency(profile: str, expected: str) -> None:
    resource = med_request("897696", [dosage(1, every(4), asNeededBoolean=True)])
    _expect(resource, profile, expected)
    assert "PRN counted at max frequency" in mme(resource, profile=profile).orders[0].notes


def e5b() -> dict:
    return med_request(
        "897696",
        [
            dosage(
                [{"doseRange": {"low": qty(1), "high": qty(2)}}],
                every(4, periodMax=6),
                asNeededBoolean=True,
                maxDosePerPeriod={"numerator": qty(8), "denominator": qty(1, "d")},
            )
        ],
    )


@pytest.mark.parametrize(("profile", "capped", "uncapped"), [("cdc2022", "80", "120"), ("cdc2016", "64", "96")])
def test_e5b_max_dose_per_period_caps_the_daily_amount(profile: str, capped: str, uncapped: str) -> None:
    _expect(e5b(), profile, capped)
    assert "cap from maxDosePerPeriod" in mme(e5b(), profile=profile).orders[0].notes
    off = mme(e5b(), profile=profile, apply_max_dose_per_period=False)
    assert off.total == Decimal(uncapped)


@pytest.mark.parametrize("profile", BOTH)
def test_e6_timing_code_only(profile: str) -> None:
    resource = med_request(
        "891888", [dosage(qty(1, "tablet", "{tbl}"), {"code": {"coding": [{"system": "x", "code": "bid"}]}})]
    )
    _expect(resource, profile, "60")


@pytest.mark.parametrize("profile", BOTH)
def test_e7_buprenorphine_is_excluded_and_listed(profile: str) -> None:
    summary, order = _one(med_request("1716065", [dosage(qty(1, "{film}"), every(12))]), profile)
    assert order.state == "excluded"
    assert order.reason_text == "buprenorphine (not included in MME)"
    assert order.mme is None
    assert order.ingredients[0].daily_amount == Decimal("0.6")
    assert summary.excluded_orders == (order,)
    assert summary.unknown_orders == ()
    assert summary.state == "none" and summary.total == 0


@pytest.mark.parametrize("profile", BOTH)
def test_e8_drug_not_in_table_is_unknown_never_zero(profile: str) -> None:
    _expect(med_request("2670390", [dosage(1, every(6))]), profile, None, "not-in-drug-table")


def e8b() -> dict:
    medication = {
        "resourceType": "Medication",
        "id": "tram",
        "code": {"coding": [{"system": RXNORM, "code": "2670390"}]},
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "10689", "display": "tramadol"}]},
                "strength": {"numerator": qty(25, "mg"), "denominator": qty(1, "{tbl}")},
            }
        ],
    }
    resource = med_request(None, [dosage(1, every(6))])
    resource["contained"] = [medication]
    resource["medicationReference"] = {"reference": "#tram"}
    return resource


def test_e8b_strength_from_medication_ingredient() -> None:
    _expect(e8b(), "cdc2022", "20")
    _, order = _one(e8b(), "cdc2016")
    assert order.state == "unknown" and order.reason == "no-factor"
    assert order.rxnorm_code == "2670390"
    assert order.ingredients[0].daily_amount == Decimal(100)


def epic_triplet(calculated: dict, admin: dict, ordered: dict) -> list[dict]:
    return [
        {"type": {"coding": [{"system": EPIC_TYPE, "code": kind}]}, "doseQuantity": dose}
        for kind, dose in (("calculated", calculated), ("admin-amount", admin), ("ordered", ordered))
    ]


@pytest.mark.parametrize("profile", BOTH)
def test_e9_epic_triplet_prefers_the_mass_entry(profile: str) -> None:
    doses = epic_triplet(qty(10, "mg"), qty(2, "tablet", "{tbl}"), qty(2, "tablet", "{tbl}"))
    _expect(med_request("1049221", [dosage(doses, every(6))]), profile, "60")
    # A wrong tablet count proves the mass entry was the one used.
    skewed = epic_triplet(qty(10, "mg"), qty(5, "tablet", "{tbl}"), qty(5, "tablet", "{tbl}"))
    _expect(med_request("1049221", [dosage(skewed, every(6))]), profile, "60")


@pytest.mark.parametrize("profile", BOTH)
def test_e9b_patch_triplet_uses_ordered(profile: str) -> None:
    doses = epic_triplet(qty(1, "{patch}"), qty(1, "{patch}"), qty(1, "{patch}"))
    _expect(med_request("197696", [dosage(doses, every(3, "d"))]), profile, "180")


def test_e10_buccal_fentanyl_uses_data_file_factor_by_form() -> None:
    resource = med_request("668364", [dosage(1, code_timing("QID"))])
    _expect(resource, "cdc2022", "104")
    order = mme(resource).orders[0]
    assert order.ingredients[0].daily_unit == "mcg"
    assert order.ingredients[0].daily_amount == Decimal(800)
    assert order.ingredients[0].factor_source == "datafile"
    assert "CDC data file" in order.explanation
    _expect(resource, "cdc2016", None, "no-factor")


def test_e11_fentanyl_nasal_spray() -> None:
    resource = med_request("1115577", [dosage(qty(1, "spray"), every(1, "d", 3))])
    _expect(resource, "cdc2022", "192")
    _expect(resource, "cdc2016", None, "no-factor")


def test_e12_tapentadol() -> None:
    resource = med_request("825411", [dosage(1, every(6))])
    _expect(resource, "cdc2022", "80")
    _expect(resource, "cdc2016", None, "no-factor")


@pytest.mark.parametrize("profile", BOTH)
def test_e13_oral_solution_volume_times_strength(profile: str) -> None:
    _expect(med_request("1049604", [dosage(qty(10, "mL"), every(6))]), profile, "60")


@pytest.mark.parametrize("profile", BOTH)
def test_e14_taper_takes_the_highest_sequential_step(profile: str) -> None:
    steps = [
        dosage(
            2, {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h", "boundsDuration": qty(3, "d")}}, sequence=1
        ),
        dosage(
            1, {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h", "boundsDuration": qty(4, "d")}}, sequence=2
        ),
    ]
    _expect(med_request("1049621", steps), profile, "60")


@pytest.mark.parametrize("profile", BOTH)
def test_e15_concurrent_instructions_add(profile: str) -> None:
    morning = dosage(1, {"repeat": {"when": ["MORN"]}})
    evening = dosage(2, {"repeat": {"when": ["EVE"]}})
    _expect(med_request("891881", [morning, evening]), profile, "45")


@pytest.mark.parametrize("profile", BOTH)
def test_e16_quantity_over_days_fallback_is_labelled(profile: str) -> None:
    resource = med_request(
        "1049621",
        [{"text": "take 1 to 2 tablets by mouth as directed"}],
        dispense={"quantity": qty(60), "expectedSupplyDuration": qty(10, "d")},
    )
    _expect(resource, profile, "45")
    order = mme(resource, profile=profile).orders[0]
    assert order.estimated_by == "fallback"
    assert "estimated from dispense quantity and days' supply" in order.notes


@pytest.mark.parametrize(
    ("profile", "expected", "parts"),
    [
        ("cdc2022", "211.5", ("141", "70.5")),
        ("cdc2016", "450", ("300", "150")),
    ],
)
def test_e17_methadone_tier_on_the_total(profile: str, expected: str, parts: tuple[str, str]) -> None:
    summary = mme(
        med_request("864706", [dosage(1, code_timing("TID"))], id="m10"),
        med_request("864718", [dosage(1, code_timing("TID"))], id="m5"),
        profile=profile,
    )
    assert summary.total == Decimal(expected)
    assert [o.mme for o in summary.orders] == [Decimal(p) for p in parts]


def test_e17_per_order_tier_reproduces_the_reference() -> None:
    summary = mme(
        med_request("864706", [dosage(1, code_timing("TID"))], id="m10"),
        med_request("864718", [dosage(1, code_timing("TID"))], id="m5"),
        profile="cdc2016",
        methadone_tier_basis="per-order",
    )
    assert summary.total == Decimal(300)


def test_e18_levorphanol_data_file_factor_is_labelled() -> None:
    resource = med_request("197873", [dosage(1, every(6))])
    _expect(resource, "cdc2022", "88")
    order = mme(resource).orders[0]
    assert any("CDC data file" in n for n in order.notes)
    _expect(resource, "cdc2016", None, "no-factor")
    # The data-file factors can be switched off (8.1) and, for cdc2016, on.
    assert mme(resource, cdc2022_use_datafile_factors=False).orders[0].reason == "no-factor"
    assert mme(resource, profile="cdc2016", cdc2016_use_datafile_factors=True).total == Decimal(88)


@pytest.mark.parametrize("profile", BOTH)
def test_e19_draft_and_prefetch_copy_count_once(profile: str) -> None:
    draft = {**e1(), "status": "draft"}
    found = orders(e1(), drafts=[draft])
    summary = compute_mme(found, terms(), config(profile))
    assert summary.total == Decimal(90)
    assert [o.is_draft for o in summary.orders] == [True]


@pytest.mark.parametrize("profile", BOTH)
def test_e20_display_rounds_half_up_but_stores_exact(profile: str) -> None:
    summary, order = _one(med_request("994043", [dosage(1, code_timing("TID"))]), profile)
    assert order.mme == Decimal("6.75")
    assert summary.display().startswith("6.8 MME/day")
    assert format_mme(Decimal("6.75")) == "6.8"


@pytest.mark.parametrize("profile", BOTH)
def test_e21_excluded_order_does_not_make_the_total_partial(profile: str) -> None:
    summary = mme(
        med_request("245134", [dosage(qty(1, "{patch}"), every(72))], id="a"),
        med_request("856999", [dosage(1, every(6), asNeededBoolean=True)], id="b"),
        med_request("1716065", [dosage(qty(1, "{film}"), every(12))], id="c"),
        profile=profile,
    )
    assert summary.total == Decimal(100)
    assert summary.state == "complete"
    assert [o.state for o in summary.orders] == ["ok", "ok", "excluded"]
    assert [o.mme for o in summary.ok_orders] == [Decimal(60), Decimal(40)]


@pytest.mark.parametrize("profile", BOTH)
def test_e22_no_timing_and_no_dispense_is_unknown(profile: str) -> None:
    _expect(med_request("1049621", [dosage(1)]), profile, None, "no-frequency")


def test_partial_total_is_a_lower_bound() -> None:
    summary = mme(e1(), med_request("2670390", [dosage(1, every(6))], id="rx2"))
    assert summary.state == "partial"
    assert summary.total == Decimal(90)
    assert summary.display() == "at least 90.0 MME/day (CDC 2022 factors)"
    assert [o.reason for o in summary.unknown_orders] == ["not-in-drug-table"]


# --- edge cases listed after the table -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("daily_mg", "factor"),
    [("20", "4"), ("20.5", "8"), ("40", "8"), ("60", "10"), ("60.5", "12"), ("0.5", "4")],
)
def test_methadone_2016_tiers_are_half_open(daily_mg: str, factor: str) -> None:
    resource = med_request("864706", [dosage(qty(daily_mg, "mg"), every(1, "d"))])
    summary = mme(resource, profile="cdc2016")
    order = summary.orders[0]
    assert order.ingredients[0].factor == Decimal(factor)
    assert order.mme == Decimal(daily_mg) * Decimal(factor)
