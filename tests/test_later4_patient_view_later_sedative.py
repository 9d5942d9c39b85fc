"""Opioid + benzodiazepine on patient-view with a signed prescription that starts later: a patient taking oxycodone
today holds a lorazepam prescription signed yesterday "do not fill before" 5 days from now. Before, the chart showed
nothing until the day it started (the order hooks read such a prescription within the site's window,
`checks.opioid-benzodiazepine.later_start_co_prescribing_days`; patient-view read current supply only). The two are
prescribed together and will be taken together: patient-view names the planned pair too, within the same window,
when the two supplies will overlap, saying when the later one starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import card, med_request, run
from cds_support import bundle, full_prefetch, hook_request, make_app
from test_later_start_co_prescribing import LORAZEPAM, OXYCODONE_5, opioid_from
from test_staggered_prescriptions import day, fill, medication

from guideline.checks.opioid_benzodiazepine import CHECK_ID

LATER_BENZO_BASIS = "current supply, and signed prescriptions that start within the next 30 days"


def lorazepam_from(starts: int, *, supply_days: int = 30, written: int = -1) -> dict[str, Any]:
    """A signed lorazepam 1 mg twice a day, written `written` days from today, not to be filled before `starts`."""
    order = med_request(
        LORAZEPAM, id="eLz.1", authored=day(written), period=12, supply_days=supply_days, display="lorazepam 1 MG"
    )
    order["dispenseRequest"]["validityPeriod"] = {"start": day(starts)}
    return order


def current_oxycodone(supply_days: int = 30) -> dict[str, Any]:
    """Oxycodone 5 mg every 6 hours, written 10 days ago for `supply_days` days."""
    return med_request(OXYCODONE_5, id="eOxy5", authored=day(-10), supply_days=supply_days)


def test_a_benzodiazepine_that_starts_in_5_days_beside_a_current_opioid_is_named() -> None:
    found = card(run("patient-view", resources=[current_oxycodone(), lorazepam_from(5)]), CHECK_ID)
    assert found is not None
    assert f"(starts on {day(5)})" in found.summary and "(active)" in found.summary
    assert f"; starts on {day(5)})" in found.detail
    assert LATER_BENZO_BASIS in found.detail
    assert "active outpatient orders and current pharmacy fills" in found.detail
    assert found.facts["variant"] == "benzo"
    assert found.orders == ("eOxy5", "eLz.1")


def test_an_opioid_that_starts_next_week_beside_a_current_benzodiazepine_is_named() -> None:
    benzo = med_request(LORAZEPAM, id="eLz.1", authored=day(-10), period=12)
    found = card(run("patient-view", resources=[medication(), opioid_from(7), benzo]), CHECK_ID)
    assert found is not None
    assert f"oxyCODONE 10 mg tablet (starts on {day(7)})" in found.summary


def test_a_current_opioid_fill_beside_a_benzodiazepine_that_starts_later_is_named() -> None:
    # The opioid only as a pharmacy fill (its order is not in this record): still the patient's supply today.
    resources = [medication(), fill("eOxy.Elsewhere", day(-3)), lorazepam_from(5)]
    found = card(run("patient-view", resources=resources), CHECK_ID)
    assert found is not None and f"(starts on {day(5)})" in found.summary


def test_a_benzodiazepine_starting_after_the_window_is_no_pair_yet() -> None:
    assert card(run("patient-view", resources=[current_oxycodone(60), lorazepam_from(31)]), CHECK_ID) is None
    assert card(run("patient-view", resources=[current_oxycodone(60), lorazepam_from(30)]), CHECK_ID) is not None


def test_the_sites_window_applies_on_patient_view_too() -> None:
    config = {"checks": {"opioid-benzodiazepine": {"later_start_co_prescribing_days": 3}}}
    assert (
        card(run("patient-view", resources=[current_oxycodone(), lorazepam_from(5)], config=config), CHECK_ID) is None
    )


def test_a_current_supply_that_ends_before_the_later_one_starts_is_no_pair() -> None:
    # The oxycodone's 12 days (written 10 days ago) end in 2 days; the lorazepam starts in 5: never taken together.
    assert card(run("patient-view", resources=[current_oxycodone(12), lorazepam_from(5)]), CHECK_ID) is None
    # A supply reaching the day it starts is a pair.
    assert card(run("patient-view", resources=[current_oxycodone(15), lorazepam_from(5)]), CHECK_ID) is not None


def test_two_prescriptions_that_both_start_later_and_overlap_are_named() -> None:
    # Both signed, the opioid from day 7, the lorazepam from day 10 for 30 days: taken together from day 10.
    found = card(run("patient-view", resources=[medication(), opioid_from(7), lorazepam_from(10)]), CHECK_ID)
    assert found is not None
    assert f"(starts on {day(7)})" in found.summary and f"(starts on {day(10)})" in found.summary


def test_a_current_pair_reads_as_before() -> None:
    benzo = med_request(LORAZEPAM, id="eLz.1", authored=day(-10), period=12)
    found = card(run("patient-view", resources=[current_oxycodone(), benzo]), CHECK_ID)
    assert found is not None and "starts on" not in found.summary
    assert "current supply only" in found.detail


def test_patient_view_over_http(tmp_path: Path) -> None:
    body = hook_request(
        "patient-view",
        prefetch=full_prefetch("patient-view", medsActive=bundle(current_oxycodone(), lorazepam_from(5))),
    )
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body)
    assert response.status_code == 200
    found = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == CHECK_ID)
    assert f"(starts on {day(5)})" in found["summary"]
    assert LATER_BENZO_BASIS in found["detail"]
