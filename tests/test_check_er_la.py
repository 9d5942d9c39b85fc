"""`er-la-opioid-naive` (guideline 10.6): fires for a new ER/LA opioid when the record shows no opioid in 90 days."""

from __future__ import annotations

import pytest
from builders import (
    ICD10,
    SNOMED,
    assert_person_centred,
    card,
    condition,
    days_ago,
    dispense,
    med_request,
    patient,
    procedure,
    run,
)

from guideline.cards import SUMMARY_LIMIT
from guideline.checks import CHECKS, er_la_opioid_naive

CHECK = er_la_opioid_naive.CHECK_ID
MORPHINE_ER = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet (ER/LA value set)
FENTANYL_PATCH = "197696"  # 72 HR fentanyl 0.075 MG/HR Transdermal System
OXYCODONE_IR = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet (immediate release)
BUP_NALOXONE = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film (MOUD)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK, er_la_opioid_naive)


def er_draft(**kwargs: object) -> dict:
    return med_request(
        MORPHINE_ER, draft=True, id=kwargs.pop("id", "er1"), frequency=2, period=1, period_unit="d", **kwargs
    )  # type: ignore[arg-type]


def test_new_er_order_for_naive_patient_is_a_warning_naming_the_drug_and_window() -> None:
    result = card(run("order-sign", drafts=[er_draft()]), CHECK)
    assert result is not None
    assert result.indicator == "warning"
    assert "morphine sulfate 30 MG Extended Release Oral Tablet" in result.summary
    assert "90 days" in result.summary and len(result.summary) <= SUMMARY_LIMIT
    # The naive window is [now − 90 days, now − 24 hours].
    assert "from 2026-03-17 to 2026-06-14" in result.detail
    assert "immediate-release" in result.detail and "opioid-tolerant" in result.detail
    assert "*Based on:" in result.detail
    (suggestion,) = result.suggestions
    assert suggestion.action == "delete" and suggestion.resource_id == "MedicationRequest/er1"
    assert suggestion.is_recommended is False
    assert suggestion.label == "Remove the new morphine sulfate 30 MG Extended Release Oral Tablet order"
    codes = [r.code for r in result.override_reasons]
    assert codes == [
        "opioid-tolerant-elsewhere",
        "benefits-outweigh-risks",
        "excluded-condition",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert all(r.display for r in result.override_reasons)
    assert any(link.url.endswith("#Recommendation3") for link in result.links)
    assert result.orders == ("er1",)
    assert_person_centred(result)


def test_fentanyl_patch_counts_as_long_acting() -> None:
    patch = med_request(FENTANYL_PATCH, draft=True, id="fp1", unit="{patch}", period=72)
    result = card(run("order-sign", drafts=[patch]), CHECK)
    assert result is not None and "fentanyl" in result.summary


def test_only_the_er_la_orders_are_listed_and_removable() -> None:
    drafts = [er_draft(), med_request(OXYCODONE_IR, draft=True, id="ir1")]
    result = card(run("order-sign", drafts=drafts), CHECK)
    assert result is not None
    assert [s.resource_id for s in result.suggestions] == ["MedicationRequest/er1"]
    assert "oxycodone" not in result.detail


def test_two_er_la_orders_are_both_named_or_counted_within_the_limit() -> None:
    patch = med_request(FENTANYL_PATCH, draft=True, id="fp1", unit="{patch}", period=72)
    result = card(run("order-sign", drafts=[er_draft(), patch]), CHECK)
    assert result is not None
    assert len(result.summary) <= SUMMARY_LIMIT and "(2)" in result.summary
    assert len(result.suggestions) == 2


def test_acute_er_order_still_fires() -> None:
    """Reference differs: it needs a subacute/chronic trigger; Rec 3 covers starting therapy of any duration."""
    result = card(run("order-sign", drafts=[er_draft(supply_days=5)]), CHECK)
    assert result is not None


def test_immediate_release_order_does_not_fire() -> None:
    assert card(run("order-sign", drafts=[med_request(OXYCODONE_IR, draft=True)]), CHECK) is None


def test_recent_opioid_dispense_means_not_naive() -> None:
    resources = [dispense(OXYCODONE_IR, days_ago(20), days_supply=5)]
    assert card(run("order-sign", drafts=[er_draft()], resources=resources), CHECK) is None


def test_old_order_whose_supply_reaches_into_the_window_means_not_naive() -> None:
    """Reference differs: a 90-day ER order written 92 days ago makes the patient "naive" there; not here."""
    old = med_request(MORPHINE_ER, authored=days_ago(92), supply_days=90, frequency=2, period=1, period_unit="d")
    assert card(run("order-sign", drafts=[er_draft()], resources=[old]), CHECK) is None


def test_supply_that_ended_before_the_window_leaves_the_patient_naive() -> None:
    old = med_request(OXYCODONE_IR, authored=days_ago(130), supply_days=10, status="completed")
    assert card(run("order-sign", drafts=[er_draft()], resources=[old]), CHECK) is not None


def test_buprenorphine_treatment_counts_as_opioid_exposure() -> None:
    resources = [dispense(BUP_NALOXONE, days_ago(30), days_supply=30)]
    assert card(run("order-sign", drafts=[er_draft()], resources=resources), CHECK) is None


def test_dispense_in_the_last_24_hours_does_not_count() -> None:
    """The naive window ends 24 hours before now: an opioid handed over this morning is not tolerance."""
    resources = [dispense(OXYCODONE_IR, "2026-06-15T08:00:00-04:00", days_supply=5)]
    assert card(run("order-sign", drafts=[er_draft()], resources=resources), CHECK) is not None


def test_inpatient_draft_is_ignored() -> None:
    assert card(run("order-sign", drafts=[er_draft(category="inpatient")]), CHECK) is None


def test_draft_without_id_gets_no_delete_suggestion() -> None:
    draft = er_draft()
    del draft["id"]
    result = card(run("order-sign", drafts=[draft]), CHECK)
    assert result is not None and result.suggestions == () and result.orders == ()


def test_order_select_does_not_run_this_check() -> None:
    assert card(run("order-select", drafts=[er_draft()], selections=["MedicationRequest/er1"]), CHECK) is None


def test_disabled_check_is_silent() -> None:
    config = {"checks": {CHECK: {"enabled": False}}}
    assert card(run("order-sign", drafts=[er_draft()], config=config), CHECK) is None


def test_indicator_is_configurable() -> None:
    config = {"checks": {CHECK: {"indicator": "critical"}}}
    result = card(run("order-sign", drafts=[er_draft()], config=config), CHECK)
    assert result is not None and result.indicator == "critical"


@pytest.mark.parametrize(
    "resources",
    [
        [patient(birth_date="2010-01-01")],
        [procedure(SNOMED, "385763009", performed=days_ago(10))],
        [condition(ICD10, "Z51.5", display="Encounter for palliative care")],
    ],
    ids=["age-16", "hospice-procedure", "palliative-z51.5"],
)
def test_general_exclusions_silence_the_card(resources: list[dict]) -> None:
    assert card(run("order-sign", drafts=[er_draft()], resources=resources), CHECK) is None


@pytest.mark.parametrize(
    "name",
    [
        "FENTANYL 25 MCG/HR TD PT72",  # a patch, in Epic's abbreviations: read as no form, it was not long-acting
        "MORPHINE SULFATE 15 MG PO TBCR",  # controlled-release tablet, with no "ER" in the name
        "OXYCODONE HCL 10 MG PO T12A",  # 12-hour abuse-deterrent tablet
        "HYDROCODONE BITARTRATE 20 MG PO C24A",
    ],
)
def test_a_long_acting_opioid_named_in_epics_abbreviations_is_er_la(name: str) -> None:
    draft = med_request(OXYCODONE_IR, draft=True, id="er1", frequency=1, period=1, period_unit="d")
    draft["medicationCodeableConcept"] = {"text": name}
    assert card(run("order-sign", drafts=[draft]), CHECK) is not None
