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


# -- transmucosal immediate-release fentanyl (TIRF): for opioid-tolerant patients only ----------------------------

FENTORA = "668624"  # fentanyl 0.2 MG Buccal Tablet [Fentora]
TOLERANT_ONLY = "for opioid-tolerant patients only; no opioid use found in the past 90 days"


def tirf_draft(rxcui: str = FENTORA, text: str | None = None, **kwargs: object) -> dict:
    """One dose every 6 hours as needed for 3 days: an acute order by its supply."""
    draft = med_request(rxcui, draft=True, id="tf1", period=6, as_needed=True, supply_days=3, **kwargs)  # type: ignore[arg-type]
    if text is not None:
        draft["medicationCodeableConcept"] = {"text": text}
    return draft


def test_fentora_for_an_opioid_naive_patient_warns_it_is_for_opioid_tolerant_patients_only() -> None:
    # It is contraindicated in patients who are not opioid-tolerant (boxed warning, TIRF REMS); the check said
    # "several products are for opioid-tolerant patients only" but only read extended-release ones: no card.
    result = card(run("order-sign", drafts=[tirf_draft()]), CHECK)
    assert result is not None and result.indicator == "warning"
    assert result.summary == f"fentanyl 0.2 MG Buccal Tablet [Fentora] is {TOLERANT_ONLY}"
    assert "**New order for opioid-tolerant patients only:**\n- fentanyl 0.2 MG Buccal Tablet [Fentora]" in (
        result.detail
    )
    assert "contraindicated in patients who are not opioid-tolerant" in result.detail
    assert "TIRF REMS" in result.detail and "from 2026-03-17 to 2026-06-14" in result.detail
    assert "immediate-release opioid at the lowest effective dose instead" not in result.detail
    assert "oral immediate-release opioid" in result.detail
    assert [s.resource_id for s in result.suggestions] == ["MedicationRequest/tf1"]
    assert result.facts["tolerant_only_orders"] == ["fentanyl 0.2 MG Buccal Tablet [Fentora]"]
    assert_person_centred(result)


@pytest.mark.parametrize(
    "rxcui",
    [
        "261106",  # fentanyl 0.2 MG Oral Lozenge [Actiq]
        "310295",  # fentanyl 0.2 MG Oral Lozenge
        "1053654",  # fentanyl 0.2 MG Sublingual Tablet [Abstral]
        "1237059",  # fentanyl 0.2 MG/ACTUAT Mucosal Spray [Subsys]
        "1115575",  # fentanyl 0.1 MG/ACTUAT Metered Dose Nasal Spray [Lazanda]
        "858092",  # fentanyl 0.2 MG Buccal Film
        "1740008",  # {2 (fentanyl 0.6 MG/ACTUAT Mucosal Spray [Subsys]) } Pack: a branded pack
        "1740007",  # the generic pack
    ],
)
def test_every_transmucosal_fentanyl_product_by_code_is_for_tolerant_patients_only(rxcui: str) -> None:
    result = card(run("order-sign", drafts=[tirf_draft(rxcui)]), CHECK)
    assert result is not None and result.summary.endswith(TOLERANT_ONLY)


@pytest.mark.parametrize(
    "text",
    [
        "FENTORA 100 MCG TAB",
        "Fentora",  # a brand with no strength: still the product
        "Abstral 100 mcg",
        "ACTIQ 400 MCG LOZG",
        "fentanyl citrate 200 mcg lozenge",
        "Subsys 100 mcg",
        "FENTANYL 100 MCG SL SPRAY",
        "Lazanda 100 mcg/spray",
        "Onsolis 200 mcg",
        "fentanyl 100 mcg/actuation nasal spray",
    ],
)
def test_transmucosal_fentanyl_named_by_name_or_brand_is_for_tolerant_patients_only(text: str) -> None:
    result = card(run("order-sign", drafts=[tirf_draft(text=text)]), CHECK)
    assert result is not None and result.summary.endswith(TOLERANT_ONLY)


def test_a_coding_of_another_term_type_is_read_by_its_display() -> None:
    # An RxNorm code outside the packaged drug table (a branded dose form, say) is read by its display.
    draft = tirf_draft()
    draft["medicationCodeableConcept"] = {
        "coding": [
            {
                "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                "code": "9990001",
                "display": "fentanyl Buccal Tablet [Fentora]",
            }
        ]
    }
    result = card(run("order-sign", drafts=[draft]), CHECK)
    assert result is not None and result.summary.endswith(TOLERANT_ONLY)


@pytest.mark.parametrize(
    ("text", "summary"),
    [
        # The patch is long-acting: the card says so, never "for opioid-tolerant patients only".
        (
            "fentanyl 25 mcg/hr patch",
            "fentanyl 25 mcg/hr patch is extended-release/long-acting; no opioid use found in the past 90 days",
        ),
        ("fentanyl citrate 50 mcg/mL injection", None),
        ("sufentanil 30 mcg sublingual tablet", None),
    ],
)
def test_other_fentanyl_forms_are_not_transmucosal_fentanyl(text: str, summary: str | None) -> None:
    result = card(run("order-sign", drafts=[tirf_draft(text=text)]), CHECK)
    assert (result.summary if result else None) == summary


def test_transmucosal_fentanyl_for_an_opioid_tolerant_patient_gives_no_card() -> None:
    resources = [dispense(MORPHINE_ER, days_ago(20), days_supply=30)]
    assert card(run("order-sign", drafts=[tirf_draft()], resources=resources), CHECK) is None


def test_transmucosal_fentanyl_and_an_er_la_order_are_both_listed() -> None:
    result = card(run("order-sign", drafts=[tirf_draft(), er_draft()]), CHECK)
    assert result is not None and result.summary.endswith(TOLERANT_ONLY)
    assert "**New order for opioid-tolerant patients only:**" in result.detail
    assert "**New extended-release/long-acting opioid order:**\n- morphine sulfate 30 MG" in result.detail
    assert len(result.suggestions) == 2 and len(result.summary) <= SUMMARY_LIMIT


def test_an_er_la_order_alone_keeps_its_summary() -> None:
    result = card(run("order-sign", drafts=[er_draft()]), CHECK)
    assert result is not None and result.summary.endswith(
        "is extended-release/long-acting; no opioid use found in the past 90 days"
    )
    assert "opioid-tolerant patients only:**" not in result.detail


def test_the_nonopioid_first_card_beside_it_does_not_advise_an_immediate_release_opioid_as_if_fentora_were_one() -> (
    None
):
    from guideline.checks import nonopioid_first

    evaluation = run("order-sign", drafts=[tirf_draft()])
    tolerant_only = card(evaluation, CHECK)
    assert tolerant_only is not None  # never suppressed by the non-opioid card
    first = card(evaluation, nonopioid_first.CHECK_ID)
    assert first is not None
    assert "prescribe an immediate-release opioid at the lowest effective dose" not in first.detail
    assert "immediate-release oral opioid" in first.detail
    assert "transmucosal fentanyl is for opioid-tolerant patients only" in first.detail


def _unidentified_order(**kwargs: object) -> dict:
    """An order whose medicine no code or name identifies: a local code and a clinic's own abbreviation."""
    order = med_request(OXYCODONE_IR, **kwargs)  # type: ignore[arg-type]
    order["medicationCodeableConcept"] = {
        "coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "code": "88421"}],
        "text": "PAIN CMPD TAB (CLINIC STOCK)",
    }
    return order


def test_an_unidentified_medicine_in_the_window_is_named_as_a_possible_opioid() -> None:
    """The card says the patient appears opioid-naive from the opioids it could identify. An order in the 90 days
    whose medicine matched no code or name may have been an opioid: the card says so, and counts them, where it
    said "appears to be opioid-naive" as if the record were whole."""
    past = _unidentified_order(id="mr-x", status="completed", authored=days_ago(30), supply_days=10)
    result = card(run("order-sign", drafts=[er_draft()], resources=[past]), CHECK)
    assert result is not None
    assert "1 medication" in result.detail and "matched no code or name" in result.detail
    assert "if it is an opioid, the patient is not opioid-naive" in result.detail
    assert result.facts["unidentified_in_window"] == 1

    plain = card(run("order-sign", drafts=[er_draft()]), CHECK)
    assert plain is not None and "matched no code or name" not in plain.detail
    assert plain.facts["unidentified_in_window"] == 0
