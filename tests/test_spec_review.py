"""Clinical-logic review against guideline.md: one test per discrepancy found, plus the section 16 cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from builders import (
    ICD10,
    NOW,
    RXNORM,
    SNOMED,
    TODAY,
    UCUM,
    card,
    condition,
    days_ago,
    dispense,
    encounter,
    med_request,
    observation,
    procedure,
    run,
    service_request,
)

from guideline.cards import Snooze

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
MORPHINE_ER = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet
FENTANYL_PATCH = "197696"  # 72 HR fentanyl 0.075 MG/HR Transdermal System
ULTRACET = "836397"  # acetaminophen 325 MG / tramadol hydrochloride 37.5 MG Oral Tablet [Ultracet]
TEMAZEPAM = "198241"
BREAST_CANCER = "C50.011"
HOSPICE_CARE = "385763009"
HOSPICE_REFERRAL = "306205009"
PDMP_REVIEW = "461621000124108"
ASSESSMENT = "454281000124100"
OXYCODONE_UDS = "58430-0"  # oxyCODONE+oxyMORphone Ur Ql Scn (oxycodone-urine-drug-screening-tests)
NEGATIVE = (SNOMED, "260385009")


def oxycodone_90_mme(**kwargs: Any) -> dict[str, Any]:
    """2 tablets of 5 mg every 4 hours: 60 mg oxycodone, 90 MME/day (E1)."""
    return med_request(OXYCODONE, dose=2, period=4, **kwargs)


def checks(evaluation: Any) -> list[str]:
    return [c.check_id for c in evaluation.cards]


# -- 5.3: the naive window ends 24 hours before now, also for supply overlap ---------------------------------------


def test_supply_that_began_16_hours_ago_on_the_previous_calendar_day_leaves_the_patient_naive() -> None:
    """Written yesterday at 20:00 and now is 12:00: inside the last 24 hours, so no tolerance yet (5.3).
    The code compared the supply interval by calendar date, so yesterday's date counted as exposure."""
    last_night = med_request(OXYCODONE, authored="2026-06-14T20:00:00-04:00", supply_days=5)
    evaluation = run("order-sign", drafts=[med_request(MORPHINE_ER, draft=True, id="er1")], resources=[last_night])
    assert evaluation.facts.exposure.naive
    assert card(evaluation, "er-la-opioid-naive") is not None


def test_supply_that_began_25_hours_ago_ends_naivety() -> None:
    written = (NOW - timedelta(hours=25)).isoformat()
    evaluation = run(
        "order-sign",
        drafts=[med_request(MORPHINE_ER, draft=True, id="er1")],
        resources=[med_request(OXYCODONE, authored=written, supply_days=5)],
    )
    assert not evaluation.facts.exposure.naive
    assert card(evaluation, "er-la-opioid-naive") is None


def test_dispense_handed_over_last_night_is_inside_the_24_hours() -> None:
    last_night = dispense(OXYCODONE, "2026-06-14T21:30:00-04:00", days_supply=3)
    assert run("order-sign", resources=[last_night]).facts.exposure.naive


# -- 1.1: "today" is the calendar date of now in the configured time zone -----------------------------------------


def test_today_is_the_local_date_when_now_arrives_in_utc() -> None:
    """02:00 UTC on 16 June is 22:00 on 15 June in New York: today is the 15th, so a PDMP review 90 days before
    the 15th is still inside the window (the code took the UTC date and fired)."""
    late_evening_utc = datetime(2026, 6, 16, 2, 0, tzinfo=UTC)
    review = procedure(SNOMED, PDMP_REVIEW, performed=days_ago(90))
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=3)
    evaluation = run("order-sign", drafts=[draft], resources=[review], now=late_evening_utc)
    assert evaluation.facts.today == TODAY
    assert card(evaluation, "pdmp-review") is None


def test_pdmp_reviewed_override_recorded_in_utc_counts_on_its_local_date() -> None:
    """Feedback stores `set_at` in UTC: 01:00 UTC on 17 March is 21:00 on 16 March locally, 91 days ago, so the
    review is outside the 90-day window (the code took the UTC date, 90 days ago, and stayed silent). The snooze
    itself has expired; only its record of the review is read."""
    snooze = Snooze(
        "pdmp-review",
        "p1",
        until=NOW - timedelta(minutes=1),
        indicator="warning",
        reason="pdmp-reviewed",
        set_at=datetime(2026, 3, 17, 1, 0, tzinfo=UTC),
    )
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=3)
    found = card(run("order-sign", drafts=[draft], snoozes=[snooze]), "pdmp-review")
    assert found is not None and "2026-03-16" in found.detail


# -- 1.1 Period rule: start or end in the window, or the Period spans the whole window ----------------------------


def _performed_period(resource: dict[str, Any], start: str, end: str) -> dict[str, Any]:
    del resource["performedDateTime"]
    resource["performedPeriod"] = {"start": start, "end": end}
    return resource


def test_pdmp_review_period_that_ends_after_today_counts_by_its_start() -> None:
    """The code kept only the latest date of the Period and dropped it when it lay in the future."""
    review = _performed_period(procedure(SNOMED, PDMP_REVIEW), days_ago(10), "2026-06-20")
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=3)
    assert card(run("order-sign", drafts=[draft], resources=[review]), "pdmp-review") is None


def test_hospice_care_period_spanning_the_window_excludes() -> None:
    """G5b: hospice care started 150 days ago and continuing is hospice care within the last 90 days."""
    ongoing = _performed_period(procedure(SNOMED, HOSPICE_CARE, status="in-progress"), days_ago(150), "2026-09-01")
    evaluation = run("order-sign", drafts=[oxycodone_90_mme(draft=True, id="ox1")], resources=[ongoing])
    assert [f.name for f in evaluation.facts.exclusions] == ["hospice_palliative"]
    assert card(evaluation, "high-mme") is None


def test_hospice_order_whose_occurrence_period_spans_the_window_excludes() -> None:
    request = service_request(SNOMED, HOSPICE_REFERRAL, authored=days_ago(200))
    request["occurrencePeriod"] = {"start": days_ago(200), "end": "2026-12-31"}
    evaluation = run("order-sign", drafts=[oxycodone_90_mme(draft=True, id="ox1")], resources=[request])
    assert [f.name for f in evaluation.facts.exclusions] == ["hospice_palliative"]


def test_period_entirely_before_the_window_still_does_not_count() -> None:
    old = _performed_period(procedure(SNOMED, HOSPICE_CARE), days_ago(200), days_ago(120))
    evaluation = run("order-sign", drafts=[oxycodone_90_mme(draft=True, id="ox1")], resources=[old])
    assert evaluation.facts.exclusions == ()


def test_benefit_harm_evaluation_period_spanning_the_window_counts() -> None:
    """10.8 reads performedPeriod: an evaluation episode that began before the window and is still open."""
    fills = [dispense(OXYCODONE, days_ago(ago), days_supply=30) for ago in (89, 59, 29)]
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    assert card(run("order-sign", drafts=[draft], resources=fills), "reassessment-due") is not None
    episode = _performed_period(procedure(SNOMED, ASSESSMENT, status="in-progress"), days_ago(120), "2026-07-01")
    assert card(run("order-sign", drafts=[draft], resources=[*fills, episode]), "reassessment-due") is None


# -- 3.3: replaced orders ---------------------------------------------------------------------------------------


def test_prior_prescription_as_an_absolute_reference_replaces_the_active_order() -> None:
    """Epic sends absolute references: the re-signed draft replaces its active original, so the total is
    90 MME/day, not 180 (the code matched only `MedicationRequest/<id>` or a bare id)."""
    original = oxycodone_90_mme(id="old1", authored=days_ago(5))
    renewal = oxycodone_90_mme(draft=True, id="new1")
    renewal["priorPrescription"] = {"reference": "https://ehr.example/fhir/MedicationRequest/old1"}
    evaluation = run("order-sign", drafts=[renewal], resources=[original])
    assert evaluation.facts.active_orders == ()
    assert str(evaluation.facts.mme.total) == "90.000000"


def test_cancelled_draft_does_not_replace_its_prior_prescription() -> None:
    """A cancelled draft is not a draft order (3.1), so it replaces nothing: the active order stays current."""
    original = oxycodone_90_mme(id="old1", authored=days_ago(5))
    withdrawn = oxycodone_90_mme(draft=True, id="new1", status="cancelled")
    withdrawn["priorPrescription"] = {"reference": "MedicationRequest/old1"}
    evaluation = run("order-sign", drafts=[withdrawn], resources=[original])
    assert [o.id for o in evaluation.facts.active_orders] == ["old1"]


# -- 7 G3b: an Encounter is linked to a cancer Condition whatever the reference's form ----------------------------


def test_g3b_links_visits_through_absolute_and_versioned_references() -> None:
    cancer = condition(ICD10, BREAST_CANCER, clinical="resolved", category="encounter-diagnosis", id="ca1")
    visits = [
        encounter(start=days_ago(30), diagnoses=["https://ehr.example/fhir/Condition/ca1"]),
        encounter(start=days_ago(200), diagnoses=["Condition/ca1/_history/3"]),
    ]
    evaluation = run("order-sign", drafts=[oxycodone_90_mme(draft=True, id="ox1")], resources=[cancer, *visits])
    assert [f.name for f in evaluation.facts.exclusions] == ["active_cancer"]


def test_g3b_links_through_an_absolute_condition_encounter_reference() -> None:
    first, second = encounter(start=days_ago(30)), encounter(start=days_ago(90))
    cancers = [
        condition(
            ICD10,
            BREAST_CANCER,
            clinical="resolved",
            category="encounter-diagnosis",
            encounter=f"https://ehr.example/fhir/Encounter/{visit['id']}",
        )
        for visit in (first, second)
    ]
    evaluation = run("order-sign", drafts=[oxycodone_90_mme(draft=True, id="ox1")], resources=[first, second, *cancers])
    assert [f.name for f in evaluation.facts.exclusions] == ["active_cancer"]


# -- 10.4: unexpected negatives (spec judged clinically wrong) -----------------------------------------------------


def _oxycodone_screen(ago: int) -> dict[str, Any]:
    return observation(OXYCODONE_UDS, when=days_ago(ago), value_code=NEGATIVE)


def test_negative_weeks_after_a_short_supply_ended_is_not_unexpected() -> None:
    """A 5-day oxycodone supply that ended 20 days before the test: oxycodone is gone from urine within days,
    so a negative is what we expect. The spec's [L − 30, L] window called it unexpected and implied the
    patient was not taking the medicine."""
    finished = med_request(OXYCODONE, authored=days_ago(30), supply_days=5, status="completed")
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=3)
    evaluation = run("order-sign", drafts=[draft], resources=[finished, _oxycodone_screen(5)])
    assert card(evaluation, "unexpected-uds-result") is None


def test_negative_while_the_supply_covers_the_test_day_is_unexpected() -> None:
    ongoing = med_request(OXYCODONE, authored=days_ago(20), supply_days=30)
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=3)
    found = card(run("order-sign", drafts=[draft], resources=[ongoing, _oxycodone_screen(5)]), "unexpected-uds-result")
    assert found is not None and "negative for oxycodone although" in found.detail


def test_negative_on_the_day_the_prescription_starts_is_a_baseline_not_unexpected() -> None:
    """A screen taken at the visit where the first prescription is written comes before the first dose."""
    started = med_request(OXYCODONE, authored=days_ago(5), supply_days=30)
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=3)
    evaluation = run("order-sign", drafts=[draft], resources=[started, _oxycodone_screen(5)])
    assert card(evaluation, "unexpected-uds-result") is None


# -- 11.1: excluded-condition is offered by every check except oud-treatment --------------------------------------


def test_unexpected_uds_card_offers_the_excluded_condition_reason() -> None:
    positive = observation(OXYCODONE_UDS, when=days_ago(5), value_string="Positive")
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=3)
    found = card(run("order-sign", drafts=[draft], resources=[positive]), "unexpected-uds-result")
    assert found is not None
    codes = [r.code for r in found.override_reasons]
    assert codes == [
        "results-expected",
        "results-discussed",
        "excluded-condition",
        "data-incorrect",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]


# -- 10.0.4 snoozes through the engine -----------------------------------------------------------------------------


def _snooze(indicator: str, *, user: str | None = None, until: datetime | None = None) -> Snooze:
    return Snooze("high-mme", "p1", until or NOW + timedelta(days=30), indicator, user_id=user, reason="x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("snooze", "shown"),
    [
        (_snooze("critical"), False),
        (_snooze("warning"), True),  # the finding is now more severe: the snooze is broken
        (_snooze("critical", user="Practitioner/dr1"), False),
        (_snooze("critical", user="Practitioner/other"), True),  # another clinician's user-scoped snooze
        (_snooze("critical", until=NOW), True),  # expired at this very moment
    ],
    ids=["patient", "broken-by-severity", "same-user", "other-user", "expired"],
)
def test_snoozes_silence_by_scope_severity_and_expiry(snooze: Snooze, shown: bool) -> None:
    evaluation = run("order-sign", drafts=[oxycodone_90_mme(draft=True, id="ox1")], snoozes=[snooze])
    assert (card(evaluation, "high-mme") is not None) is shown
    assert any(c.check_id == "high-mme" for c in evaluation.snoozed) is not shown


# -- section 16: the reference cases and the intended divergences --------------------------------------------------


def _ultracet_draft() -> dict[str, Any]:
    tab = {"system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm", "code": "TAB", "unit": "TAB"}
    return {
        "resourceType": "MedicationRequest",
        "id": "e4",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": ULTRACET}]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"}},
                "asNeededBoolean": True,
                "doseAndRate": [{"doseRange": {"low": {"value": 1, **tab}, "high": {"value": 2, **tab}}}],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }


def test_rec8_ultracet_dose_range_is_critical_under_cdc2022() -> None:
    found = card(run("order-sign", drafts=[_ultracet_draft()]), "high-mme")
    assert found is not None and found.indicator == "critical"
    assert found.facts["total_mme"] == "90.000000"


def test_rec8_ultracet_under_cdc2016_is_not_convertible_and_gives_the_info_card() -> None:
    config = {"mme": {"profile": "cdc2016"}}
    found = card(run("order-sign", drafts=[_ultracet_draft()], config=config), "high-mme")
    assert found is not None and found.indicator == "info"
    assert (
        card(
            run("order-select", drafts=[_ultracet_draft()], selections=["MedicationRequest/e4"], config=config),
            "high-mme",
        )
        is None
    )


def _patch_triplet(dose: float = 1) -> dict[str, Any]:
    """The CDC test shape: three doseAndRate entries (calculated, admin-amount, ordered), each in {patch}."""
    order = med_request(FENTANYL_PATCH, draft=True, id="fe1", unit="{patch}", period=3, period_unit="d")
    entry = order["dosageInstruction"][0]["doseAndRate"][0]
    order["dosageInstruction"][0]["doseAndRate"] = [
        {
            "type": {"coding": [{"system": "http://epic.com/CodeSystem/dose-rate-type", "code": kind}]},
            "doseQuantity": {**entry["doseQuantity"], "value": dose},
        }
        for kind in ("calculated", "admin-amount", "ordered")
    ]
    return order


def test_rec8_multiple_dose_rates_give_180_and_a_critical_card_and_naloxone() -> None:
    evaluation = run("order-sign", drafts=[_patch_triplet()])
    assert str(evaluation.facts.mme.total) == "180.000000"
    assert card(evaluation, "high-mme").indicator == "critical"  # type: ignore[union-attr]
    assert card(evaluation, "naloxone").facts["risk_factors"] == ["R1"]  # type: ignore[union-attr]


def test_rec8_low_dose_patch_with_temazepam_gives_naloxone_for_the_sedative_only() -> None:
    temazepam = med_request(
        TEMAZEPAM, authored=days_ago(5), dose=1, unit="{cap}", frequency=1, period=1, period_unit="d"
    )
    evaluation = run("order-sign", drafts=[_patch_triplet(0.2)], resources=[temazepam])
    assert str(evaluation.facts.mme.total) == "36.000000"
    assert card(evaluation, "high-mme") is None
    assert card(evaluation, "naloxone").facts["risk_factors"] == ["R2"]  # type: ignore[union-attr]
    assert card(evaluation, "opioid-benzodiazepine") is not None


def test_rec9_cross_coded_review_procedure_means_no_pdmp_card() -> None:
    cross_coded = procedure(SNOMED, "461651000124104", performed=days_ago(30))
    draft = med_request(OXYCODONE, draft=True, id="ox1", supply_days=30)
    assert card(run("order-sign", drafts=[draft], resources=[cross_coded]), "pdmp-review") is None


def test_rec12_2016_only_code_without_moud_gives_a_card_on_patient_view() -> None:
    oud = condition(SNOMED, "191865004")
    assert card(run("patient-view", resources=[oud]), "oud-treatment") is not None


def test_rec11_benzodiazepine_trigger_with_active_opioid_offers_one_removal() -> None:
    flurazepam = med_request("1298091", draft=True, id="fz1", unit="{cap}", frequency=1, period=1, period_unit="d")
    active = med_request(OXYCODONE, authored=days_ago(3))
    found = card(
        run("order-select", drafts=[flurazepam], resources=[active], selections=["MedicationRequest/fz1"]),
        "opioid-benzodiazepine",
    )
    assert found is not None
    assert [s.resource_id for s in found.suggestions] == ["MedicationRequest/fz1"]


# -- section 16 robustness ------------------------------------------------------------------------------------------


def test_unknown_supply_unit_is_unclassified_and_never_fails_the_call() -> None:
    draft = med_request(OXYCODONE, draft=True, id="ox1", dose=2, period=4)
    draft["dispenseRequest"]["expectedSupplyDuration"] = {"value": 10, "unit": "fortnights"}
    evaluation = run("order-sign", drafts=[draft])
    assert evaluation.failures == ()
    assert evaluation.facts.duration(evaluation.facts.trigger_orders[0]) == "unclassified"
    assert card(evaluation, "acute-duration") is None and card(evaluation, "nonopioid-first") is None
    assert card(evaluation, "high-mme").indicator == "critical"  # type: ignore[union-attr]


def test_unresolvable_medication_reference_is_identified_from_its_display() -> None:
    draft = med_request(OXYCODONE, draft=True, id="ox1")
    del draft["medicationCodeableConcept"]
    draft["medicationReference"] = {"reference": "Medication/missing", "display": "oxycodone 5 mg tablet"}
    evaluation = run("order-sign", drafts=[draft])
    assert evaluation.failures == ()
    assert [o.id for o in evaluation.facts.trigger_orders] == ["ox1"]


def test_unresolvable_medication_reference_without_a_readable_name_is_no_trigger() -> None:
    draft = med_request(OXYCODONE, draft=True, id="ox1")
    del draft["medicationCodeableConcept"]
    draft["medicationReference"] = {"reference": "Medication/missing", "display": "Formulary item 4471"}
    evaluation = run("order-sign", drafts=[draft])
    assert evaluation.failures == () and evaluation.facts.trigger_orders == ()


def test_re_signed_active_draft_with_prior_prescription_counts_once() -> None:
    """order-sign 1.1 re-signs an order as status active: it is still the draft, and it replaces the original."""
    original = oxycodone_90_mme(id="old1", authored=days_ago(20))
    re_signed = oxycodone_90_mme(draft=True, id="new1", status="active")
    re_signed["priorPrescription"] = {"reference": "MedicationRequest/old1"}
    evaluation = run("order-sign", drafts=[re_signed], resources=[original])
    assert [o.id for o in evaluation.facts.trigger_orders] == ["new1"]
    assert str(evaluation.facts.mme.total) == "90.000000"


def test_draft_duplicated_in_prefetch_counts_once_as_the_draft() -> None:
    draft = oxycodone_90_mme(draft=True, id="rx1")
    prefetch_copy = oxycodone_90_mme(id="rx1", authored=days_ago(0))
    evaluation = run("order-sign", drafts=[draft], resources=[prefetch_copy])
    assert str(evaluation.facts.mme.total) == "90.000000"
    assert card(evaluation, "high-mme").indicator == "critical"  # type: ignore[union-attr]


def test_uncategorised_condition_is_visible() -> None:
    oud = condition(ICD10, "F11.20", category=None)
    assert card(run("patient-view", resources=[oud]), "oud-treatment") is not None


# -- 10.0.5: a failure while reading exclusions costs only the checks that need them --------------------------------


def test_exclusion_failure_does_not_take_down_checks_that_ignore_exclusions(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> tuple[()]:
        raise ValueError("malformed exclusion data")

    monkeypatch.setattr("guideline.facts.general_exclusions", broken)
    fills = [med_request(OXYCODONE, authored=days_ago(3), supply_days=30), med_request(TEMAZEPAM, authored=days_ago(3))]
    evaluation = run("patient-view", resources=[condition(ICD10, "F11.20"), *fills])
    assert card(evaluation, "oud-treatment") is not None
    assert card(evaluation, "opioid-benzodiazepine") is not None  # patient-view applies no exclusions
    # every patient-view check that applies the exclusions is named as not run
    assert {f.check_id for f in evaluation.failures} == {
        "high-mme",
        "naloxone",
        "urine-drug-test",
        "unexpected-uds-result",
        "reassessment-due",
    }
