"""`acute-duration` (guideline 10.7): acute opioid orders over 3 days (info) or 7 days (warning)."""

from __future__ import annotations

import pytest
from builders import (
    SNOMED,
    assert_person_centred,
    card,
    condition,
    days_ago,
    dispense,
    med_request,
    patient,
    run,
)

from guideline.cards import SUMMARY_LIMIT
from guideline.checks import CHECKS, acute_duration

CHECK = acute_duration.CHECK_ID
OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
OXY_APAP = "1049221"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet
BUP_NALOXONE = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film (MOUD_BUP)
SICKLE_CELL = "417357006"  # Sickling disorder due to hemoglobin S


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK, acute_duration)


def oxy(days: int | None, **kwargs: object) -> dict:
    return med_request(OXYCODONE, draft=True, id=str(kwargs.pop("id", "ox1")), supply_days=days, **kwargs)  # type: ignore[arg-type]


def ltot_dispenses() -> list[dict]:
    """Opioid supply covering every day of the three 30-day windows (guideline 5.2)."""
    return [dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]


def sign(*drafts: dict, resources: list[dict] | None = None, config: dict | None = None):
    return card(run("order-sign", drafts=list(drafts), resources=resources or [], config=config), CHECK)


def test_ten_day_acute_order_is_a_warning_with_days_and_source() -> None:
    result = sign(oxy(10))
    assert result is not None
    assert result.indicator == "warning"
    assert result.summary.startswith("10-day opioid supply for acute pain (oxycodone hydrochloride 5 MG Oral Tablet)")
    assert len(result.summary) <= SUMMARY_LIMIT
    assert "oxycodone hydrochloride 5 MG Oral Tablet: 10 days' supply (from the order's days' supply)" in result.detail
    assert "re-evaluate" in result.detail and "*Based on:" in result.detail
    assert result.suggestions == ()
    assert [r.code for r in result.override_reasons] == [
        "benefits-outweigh-risks",
        "short-term-benefit",
        "excluded-condition",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert any(link.url.endswith("#Recommendation6") for link in result.links)
    assert result.orders == ("ox1",)
    assert_person_centred(result)


def test_five_days_is_info() -> None:
    result = sign(oxy(5))
    assert result is not None and result.indicator == "info"
    assert "3 days or less is often enough" in result.summary


@pytest.mark.parametrize(
    ("days", "expected"), [(3, None), (4, "info"), (7, "info"), (8, "warning"), (27, "warning"), (28, None)]
)
def test_threshold_edges_are_strict(days: int, expected: str | None) -> None:
    """> 3 days is info, > 7 is warning; 28 days or more is subacute/chronic, not acute."""
    result = sign(oxy(days))
    assert (result.indicator if result else None) == expected


def test_supply_estimated_from_quantity_is_explained() -> None:
    # 20 tablets at 1 tablet every 6 hours (4 a day) = 5 days.
    result = sign(oxy(None, quantity=20))
    assert result is not None and result.indicator == "info"
    assert "5 days' supply (estimated as quantity ÷ daily dose)" in result.detail


def test_refills_count_toward_the_supply() -> None:
    """Reference differs: refills are ignored there, so 5 days + 1 refill would be 5 days."""
    result = sign(oxy(5, refills=1))
    assert result is not None and result.indicator == "warning"
    assert "10 days' supply (5 days per fill from the order's days' supply, × 2 fills including 1 refill)" in (
        result.detail
    )


def test_course_of_therapy_acute_overrides_the_28_day_rule() -> None:
    result = sign(oxy(30, course="acute"))
    assert result is not None and result.indicator == "warning" and "30-day" in result.summary


def test_continuous_course_is_not_acute() -> None:
    assert sign(oxy(10, course="continuous")) is None


def test_unknown_supply_is_unclassified_and_silent() -> None:
    assert sign(oxy(None)) is None


def test_indicator_follows_the_longest_order_and_all_are_listed() -> None:
    short = med_request(OXY_APAP, draft=True, id="ap1", supply_days=5)
    result = sign(short, oxy(9))
    assert result is not None and result.indicator == "warning"
    assert "9-day" in result.summary and "and 1 more" in result.summary
    assert "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet: 5 days' supply" in result.detail
    assert set(result.orders) == {"ap1", "ox1"}


def test_long_term_patient_is_left_to_reassessment() -> None:
    assert sign(oxy(10), resources=ltot_dispenses()) is None


def test_long_term_patient_fires_when_skip_is_off() -> None:
    config = {"checks": {CHECK: {"skip_if_ltot": False}}}
    assert sign(oxy(10), resources=ltot_dispenses(), config=config) is not None


def test_buprenorphine_for_oud_is_exempt_by_default() -> None:
    moud = med_request(BUP_NALOXONE, draft=True, id="bup1", supply_days=10)
    assert sign(moud) is None
    result = sign(moud, config={"moud_orders_exempt_from": []})
    assert result is not None and result.orders == ("bup1",)


def test_thresholds_are_configurable() -> None:
    config = {"checks": {CHECK: {"info_days": 5, "warning_days": 10}}}
    assert sign(oxy(5), config=config) is None
    assert sign(oxy(10), config=config).indicator == "info"  # type: ignore[union-attr]
    assert sign(oxy(11), config=config).indicator == "warning"  # type: ignore[union-attr]


def test_disabled_check_is_silent() -> None:
    assert sign(oxy(10), config={"checks": {CHECK: {"enabled": False}}}) is None


def test_non_opioid_order_is_ignored() -> None:
    ibuprofen = med_request("197806", draft=True, supply_days=10)  # ibuprofen 600 MG Oral Tablet
    assert sign(ibuprofen) is None


@pytest.mark.parametrize(
    "resources",
    [[patient(birth_date="2010-01-01")], [condition(SNOMED, SICKLE_CELL, clinical="resolved")]],
    ids=["age-16", "sickle-cell-any-status"],
)
def test_general_exclusions_silence_the_card(resources: list[dict]) -> None:
    assert sign(oxy(10), resources=resources) is None


@pytest.mark.parametrize(
    ("days", "shown"),
    [(10, False), (9, False), (14, True)],
    ids=["same-supply", "shorter", "longer"],
)
def test_an_override_of_one_supply_does_not_hide_a_longer_one(days: int, shown: bool) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    from builders import PATIENT_ID

    from guideline.cards import Snooze

    first = sign(oxy(10))
    assert first is not None and first.level == Decimal("10")
    snooze = Snooze(
        CHECK,
        PATIENT_ID,
        datetime(2026, 9, 1, tzinfo=UTC),
        "warning",
        reason="short-term-benefit",
        about=frozenset(),
        level=first.level,
    )
    evaluation = run("order-sign", drafts=[oxy(days)], snoozes=[snooze])
    assert (card(evaluation, CHECK) is not None) is shown
