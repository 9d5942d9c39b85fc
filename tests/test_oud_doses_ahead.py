"""An OUD medication dose dated only after today (an opioid treatment program's G2067 bundle charted for next week, a
Sublocade injection recorded with a mistyped year) shows no dose given yet, so `oud-treatment` does not count it;
it is named, with its date, on the "OUD without treatment" card, on the data-incomplete card and beside the population
review's finding, by one rule, as PDMP reviews and urine drug tests dated ahead are. Before, it was dropped as
outside the window and named nowhere, and the card said no dose was on record."""

from __future__ import annotations

import json
from typing import Any

from builders import days_ago, med_request
from cds_support import bundle, full_prefetch, hook_request, make_app
from test_oud_unknown_status import (
    SUBOXONE_FILM,
    answer,
    otp_bundle,
    oud_diagnosis,
    population_review_of,
    sublocade_given,
)
from test_population_measure_edges import _row

from guideline.checks.oud_treatment import CHECK_ID as OUD_CHECK

WHY = "is a dose of medication for opioid use disorder dated after today, so it was not counted as treatment"
AHEAD = "2026-07-01"  # builders' evaluation day is 2026-06-15


def given_ahead(status: str = "completed") -> dict[str, Any]:
    """Sublocade recorded as given in clinic, dated 2026-07-01 (the year or the day keyed wrong)."""
    return {**sublocade_given(status), "effectiveDateTime": f"{AHEAD}T10:15:00-04:00"}


def test_an_otp_bundle_dated_after_today_is_named_on_both_cards(tmp_path) -> None:
    cards = answer(tmp_path, otp_bundle("completed", performedDateTime=f"{AHEAD}T09:30:00-04:00"))
    item = f"OTP methadone weekly bundle (procedure eG2067.77), dated {AHEAD}, after today"
    assert OUD_CHECK in cards  # no dose given yet: the card still fires, and names it
    assert item in cards[OUD_CHECK]["detail"]
    assert "**OUD medication on record dated after today, not counted as treatment**" in cards[OUD_CHECK]["detail"]
    assert f"{item}: {WHY}" in cards["data-incomplete"]["detail"]


def test_a_clinic_dose_dated_after_today_is_named_on_both_cards(tmp_path) -> None:
    cards = answer(tmp_path, given_ahead())
    item = f"Sublocade 300 mg/1.5 mL injection (administration eMA.sublocade), dated {AHEAD}, after today"
    assert item in cards[OUD_CHECK]["detail"]
    assert f"{item}: {WHY}" in cards["data-incomplete"]["detail"]


def test_a_dose_of_unknown_status_dated_after_today_says_both(tmp_path) -> None:
    cards = answer(tmp_path, otp_bundle(performedDateTime=f"{AHEAD}T09:30:00-04:00"), given_ahead("unknown"))
    detail = cards[OUD_CHECK]["detail"]
    assert f"OTP methadone weekly bundle (procedure eG2067.77), status unknown, dated {AHEAD}, after today" in detail
    assert (
        f"Sublocade 300 mg/1.5 mL injection (administration eMA.sublocade), status unknown, dated {AHEAD}, after today"
        in detail
    )


def test_a_dose_not_done_dated_after_today_is_not_named(tmp_path) -> None:
    cards = answer(tmp_path, otp_bundle("not-done", performedDateTime=f"{AHEAD}T09:30:00-04:00"))
    assert "after today" not in cards[OUD_CHECK]["detail"]
    assert "data-incomplete" not in cards


def test_beside_treatment_counted_a_dose_dated_ahead_is_not_named(tmp_path) -> None:
    active = med_request(SUBOXONE_FILM, status="active", authored=days_ago(30))
    procedures = bundle(otp_bundle("completed", performedDateTime=f"{AHEAD}T09:30:00-04:00"))
    prefetch = full_prefetch(
        "patient-view", conditions=bundle(oud_diagnosis()), procedures=procedures, medsActive=bundle(active)
    )
    body = hook_request("patient-view", prefetch=prefetch)
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body).get_json()
    topics = [card["source"]["topic"]["code"] for card in response["cards"]]
    assert OUD_CHECK not in topics and "data-incomplete" not in topics


def test_the_population_row_names_a_dose_dated_after_the_review_day_beside_the_finding() -> None:
    # The review's day is the period's end (2026-03-31): a bundle of 2026-04-06 is after it.
    pid = "p-ahead"
    outcome = population_review_of(pid, otp_bundle("completed", performedDateTime="2026-04-06"))
    row = _row(outcome)
    assert OUD_CHECK in row["findings"].split(",")
    assert json.loads(row["evidence"])[OUD_CHECK] == [
        f"OTP methadone weekly bundle (procedure p-ahead-otp), dated 2026-04-06, after today: {WHY}"
    ]
    assert outcome.quality.oud_treatment_not_counted == {pid: 1}


def test_whether_treatment_counted_is_worked_out_once_for_every_list_of_doses(tmp_path, monkeypatch) -> None:
    # A dose of unknown status and one dated ahead: the card and the data-incomplete card each list both, and each
    # list is named only where no treatment counted; the check asks that once, and the lists once more between them.
    import guideline.checks.oud_treatment as oud

    calls: list[int] = []
    original = oud.treatment_in_window

    def counted(facts: Any, days: int) -> Any:
        calls.append(days)
        return original(facts, days)

    monkeypatch.setattr(oud, "treatment_in_window", counted)
    cards = answer(tmp_path, otp_bundle(), given_ahead())
    assert OUD_CHECK in cards and "data-incomplete" in cards
    assert len(calls) == 2
