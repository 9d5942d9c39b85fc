"""`opioid-benzodiazepine` (guideline 10.2): opioid with a benzodiazepine or other CNS depressant, three variants."""

from __future__ import annotations

import pytest

from guideline.checks import CHECKS, opioid_benzodiazepine
from guideline.checks.opioid_benzodiazepine import CHECK_ID
from tests.builders import SNOMED, assert_person_centred, card, days_ago, dispense, encounter, med_request, patient, run

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
HYDROCODONE_APAP = "856999"  # opioid combination with a long name
LORAZEPAM = "197901"  # lorazepam 1 MG Oral Tablet
FLURAZEPAM = "1298091"  # flurazepam hydrochloride 30 MG Oral Capsule
ALPRAZOLAM = "308048"
ZOLPIDEM = "854873"  # zolpidem tartrate 10 MG Oral Tablet (CNS depressant, not a benzodiazepine)
BUTALBITAL = "197426"  # acetaminophen 325 MG / butalbital 50 MG Oral Tablet (barbiturate)
SUBOXONE_FILM = "1010604"  # buprenorphine 8 MG / naloxone 2 MG Sublingual Film (MOUD_BUP)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, CHECK_ID, opioid_benzodiazepine)


def active(rxcui: str, **kwargs: object) -> dict:
    return med_request(rxcui, authored=days_ago(5), **kwargs)


def draft(rxcui: str, **kwargs: object) -> dict:
    return med_request(rxcui, draft=True, **kwargs)


# -- fires -----------------------------------------------------------------------------------------------------


def test_new_opioid_with_active_benzodiazepine_warns_and_offers_to_remove_the_opioid() -> None:
    evaluation = run(
        "order-sign",
        drafts=[draft(OXYCODONE, id="ox1")],
        resources=[active(LORAZEPAM, id="lz1")],
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert found.indicator == "warning"
    assert "oxycodone hydrochloride 5 MG Oral Tablet (new)" in found.summary
    assert "lorazepam 1 MG Oral Tablet (active)" in found.summary
    assert "benzodiazepine" in found.summary.lower()
    assert len(found.summary) <= 139
    assert "lorazepam 1 MG Oral Tablet (active, written 2026-06-10)" in found.detail
    assert "oxycodone hydrochloride 5 MG Oral Tablet (new order)" in found.detail
    assert "respiratory depression" in found.detail
    assert "taper it gradually" in found.detail
    assert "naloxone" in found.detail.lower()
    assert "*Based on:" in found.detail and "draft orders" in found.detail
    assert [(s.action, s.resource_id, s.is_recommended) for s in found.suggestions] == [
        ("delete", "MedicationRequest/ox1", False)
    ]
    assert found.suggestions[0].label == "Remove the new oxycodone hydrochloride 5 MG Oral Tablet order"
    assert found.facts["variant"] == "benzo"
    assert found.view == "medications"
    assert any(link.url.endswith("#Recommendation11") for link in found.links)
    assert any(link.type == "smart" and link.view == "medications" for link in found.links)
    codes = [r.code for r in found.override_reasons]
    assert codes == [
        "benefits-outweigh-risks",
        "taper-in-progress",
        "excluded-condition",
        "data-incorrect",
        "wrong-clinician",
        "snooze-3-months-with-comment",
    ]
    assert all(r.display for r in found.override_reasons)
    assert_person_centred(found)


def test_reference_benzo_trigger_with_opioid_on_order_select_gives_one_delete_for_the_benzodiazepine() -> None:
    """Guideline 16: draft flurazepam selected, active oxycodone → one delete suggestion, for the flurazepam."""
    evaluation = run(
        "order-select",
        drafts=[draft(FLURAZEPAM, id="fz1")],
        resources=[active(OXYCODONE, id="ox9")],
        selections=["MedicationRequest/fz1"],
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert [s.resource_id for s in found.suggestions] == ["MedicationRequest/fz1"]
    assert "flurazepam" in found.summary and "oxycodone" in found.summary


def test_both_members_new_give_two_delete_suggestions() -> None:
    evaluation = run("order-sign", drafts=[draft(OXYCODONE, id="ox1"), draft(ALPRAZOLAM, id="al1")])
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert sorted(s.resource_id for s in found.suggestions) == ["MedicationRequest/al1", "MedicationRequest/ox1"]
    assert all(s.action == "delete" and not s.is_recommended for s in found.suggestions)


def test_draft_without_id_gets_no_delete_suggestion() -> None:
    order = draft(OXYCODONE)
    del order["id"]
    found = card(run("order-sign", drafts=[order], resources=[active(LORAZEPAM)]), CHECK_ID)
    assert found is not None
    assert found.suggestions == ()


def test_other_unselected_draft_benzodiazepine_counts_on_order_select() -> None:
    evaluation = run(
        "order-select",
        drafts=[draft(OXYCODONE, id="ox1"), draft(LORAZEPAM, id="lz1")],
        selections=["MedicationRequest/ox1"],
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None
    # Only the selected draft is new: the other draft is concurrent, not offered for removal.
    assert [s.resource_id for s in found.suggestions] == ["MedicationRequest/ox1"]


def test_cns_variant_names_the_class_generally_and_uses_its_own_indicator() -> None:
    drafts = [draft(OXYCODONE, id="ox1")]
    found = card(run("order-sign", drafts=drafts, resources=[active(ZOLPIDEM)]), CHECK_ID)
    assert found is not None
    assert found.facts["variant"] == "cns"
    assert "sedating medicine" in found.summary
    assert "zolpidem" in found.summary
    assert found.indicator == "warning"
    config = {"checks": {CHECK_ID: {"cns_indicator": "info"}}}
    assert card(run("order-sign", drafts=drafts, resources=[active(ZOLPIDEM)], config=config), CHECK_ID).indicator == (
        "info"
    )


def test_benzo_variant_wins_when_both_kinds_of_sedative_are_present() -> None:
    found = card(
        run("order-sign", drafts=[draft(OXYCODONE)], resources=[active(ZOLPIDEM), active(LORAZEPAM)]), CHECK_ID
    )
    assert found is not None and found.facts["variant"] == "benzo"
    assert "zolpidem" in found.detail and "lorazepam" in found.detail


def test_cns_depressants_are_ignored_when_cns_is_disabled() -> None:
    config = {"checks": {CHECK_ID: {"cns_enabled": False}}}
    assert card(
        run("order-sign", drafts=[draft(OXYCODONE)], resources=[active(ZOLPIDEM)], config=config), CHECK_ID
    ) is (None)
    # A benzodiazepine still fires.
    assert card(run("order-sign", drafts=[draft(OXYCODONE)], resources=[active(LORAZEPAM)], config=config), CHECK_ID)


def test_barbiturates_count_as_cns_depressants_unless_switched_off() -> None:
    assert card(run("order-sign", drafts=[draft(OXYCODONE)], resources=[active(BUTALBITAL)]), CHECK_ID) is not None
    config = {"cns": {"include_barbiturates": False}}
    assert card(
        run("order-sign", drafts=[draft(OXYCODONE)], resources=[active(BUTALBITAL)], config=config), CHECK_ID
    ) is (None)


def _sedative_order(concept: dict) -> dict:
    order = active("0", id="sd1", period=1, period_unit="d")
    order["medicationCodeableConcept"] = concept
    return order


# Sedatives the CDC CNS depressant set lacks, which recognition knows: eszopiclone (Lunesta) is a z-drug like
# zolpidem and zaleplon; carisoprodol (Soma) and meprobamate, its active metabolite, are schedule IV sedatives.
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
MISSING_SEDATIVES = {
    "eszopiclone by RxNorm code alone": {"coding": [{"system": RX, "code": "485465"}]},
    "eszopiclone by RxNorm code and display": {
        "coding": [{"system": RX, "code": "485465", "display": "eszopiclone 3 MG Oral Tablet"}]
    },
    "eszopiclone by name": {"text": "eszopiclone 3 mg tablet"},
    "Lunesta by brand": {"text": "Lunesta 2 mg tablet"},
    "eszopiclone by an EHR's own code": {
        "coding": [
            {"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288", "code": "31", "display": "ESZOPICLONE 1 MG TABLET"}
        ]
    },
    "carisoprodol by RxNorm code alone": {"coding": [{"system": RX, "code": "197446"}]},
    "Soma by brand": {"text": "Soma 350 mg tablet"},
    "meprobamate by RxNorm code alone": {"coding": [{"system": RX, "code": "197929"}]},
    "meprobamate by name": {"text": "meprobamate 400 mg tablet"},
}


@pytest.mark.parametrize("sedative", list(MISSING_SEDATIVES))
def test_a_sedative_the_cdc_set_lacks_gets_the_card_and_is_a_naloxone_risk_factor(sedative: str) -> None:
    # With Lunesta active, a new oxycodone order got neither card, where Ambien or Sonata in its place got both.
    evaluation = run(
        "order-sign", drafts=[draft(OXYCODONE, id="ox1")], resources=[_sedative_order(MISSING_SEDATIVES[sedative])]
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["variant"] == "cns"
    assert "sedating medicine" in found.summary
    naloxone_card = card(evaluation, "naloxone")
    assert naloxone_card is not None and "R2" in naloxone_card.facts["risk_factors"]


def test_a_benzodiazepine_named_only_by_an_ehrs_own_code_is_called_by_that_name() -> None:
    benzo = _sedative_order(
        {
            "coding": [
                {
                    "system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288",
                    "code": "2212",
                    "display": "LORAZEPAM 1 MG TABLET",
                }
            ]
        }
    )
    evaluation = run("order-sign", drafts=[draft(OXYCODONE, id="ox1")], resources=[benzo])
    found = card(evaluation, CHECK_ID)
    assert found is not None and "LORAZEPAM 1 MG TABLET (active)" in found.summary
    assert "unnamed medication" not in found.summary + found.detail
    naloxone_card = card(evaluation, "naloxone")
    assert naloxone_card is not None and "LORAZEPAM 1 MG TABLET" in naloxone_card.summary


def test_moud_variant_coordinates_care_and_offers_no_removal() -> None:
    found = card(run("order-sign", drafts=[draft(SUBOXONE_FILM, id="bn1")], resources=[active(LORAZEPAM)]), CHECK_ID)
    assert found is not None
    assert found.facts["variant"] == "moud"
    assert found.suggestions == ()
    assert found.summary.startswith(
        "Coordinate care: buprenorphine 8 MG / naloxone 2 MG Sublingual Film (new) + lorazepam"
    )
    assert "keep OUD treatment" in found.summary
    assert "Do not withhold or stop buprenorphine" in found.detail
    assert len(found.summary) <= 139


@pytest.mark.parametrize(
    ("injection", "name"),
    [
        ("1996189", "0.5 ML buprenorphine 200 MG/ML Prefilled Syringe [Sublocade]"),
        ("2639027", "0.16 ML buprenorphine 50 MG/ML Prefilled Syringe [Brixadi]"),
    ],
)
def test_a_new_benzodiazepine_for_a_patient_on_extended_release_buprenorphine_coordinates_care(
    injection: str, name: str
) -> None:
    # Before, these injections were no opioid to this check: the same patient on Suboxone got this card, on a
    # monthly injection nothing at all.
    evaluation = run("order-sign", drafts=[draft(LORAZEPAM, id="lz1")], resources=[active(injection, unit="mL")])
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["variant"] == "moud"
    assert found.summary.startswith(f"Coordinate care: {name} (active) + lorazepam")
    assert found.suggestions == ()


def test_an_opioid_order_whose_status_came_in_capitals_still_counts() -> None:
    # "Active" was no active order: no card for the new lorazepam.
    evaluation = run("order-sign", drafts=[draft(LORAZEPAM, id="lz1")], resources=[active(OXYCODONE, status="Active")])
    assert card(evaluation, CHECK_ID) is not None


def test_moud_variant_can_be_switched_off() -> None:
    config = {"checks": {CHECK_ID: {"moud_variant": False}}}
    evaluation = run("order-sign", drafts=[draft(SUBOXONE_FILM)], resources=[active(LORAZEPAM)], config=config)
    assert card(evaluation, CHECK_ID) is None


def test_moud_with_a_pain_opioid_is_not_the_moud_variant() -> None:
    evaluation = run(
        "order-sign",
        drafts=[draft(LORAZEPAM, id="lz1")],
        resources=[active(SUBOXONE_FILM), active(OXYCODONE)],
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["variant"] == "benzo"
    assert [s.resource_id for s in found.suggestions] == ["MedicationRequest/lz1"]


def test_patient_view_fires_on_active_orders_without_suggestions() -> None:
    found = card(run("patient-view", resources=[active(OXYCODONE), active(LORAZEPAM)]), CHECK_ID)
    assert found is not None
    assert found.suggestions == ()
    assert "(active)" in found.summary
    assert "today's draft orders" not in found.detail


def test_patient_view_ignores_general_exclusions_but_order_sign_does_not() -> None:
    teen = patient(birth_date="2010-01-01")  # age 16 at the evaluation date
    resources = [teen, active(OXYCODONE), active(LORAZEPAM)]
    assert card(run("patient-view", resources=resources), CHECK_ID) is not None
    assert card(run("order-sign", drafts=[draft(OXYCODONE)], resources=[teen, active(LORAZEPAM)]), CHECK_ID) is None


def test_hospice_excludes_on_order_hooks() -> None:
    hospice = encounter(start=days_ago(40), discharge=(SNOMED, "385763009"))
    evaluation = run("order-sign", drafts=[draft(OXYCODONE)], resources=[active(LORAZEPAM), hospice])
    assert card(evaluation, CHECK_ID) is None
    assert evaluation.facts.exclusions[0].name == "hospice_palliative"


def test_patient_view_exclusions_can_be_switched_on() -> None:
    config = {"checks": {CHECK_ID: {"patient_view_apply_general_exclusions": True}}}
    resources = [patient(birth_date="2010-01-01"), active(OXYCODONE), active(LORAZEPAM)]
    assert card(run("patient-view", resources=resources, config=config), CHECK_ID) is None


# -- does not fire ---------------------------------------------------------------------------------------------


def test_no_sedative_no_card() -> None:
    assert card(run("order-sign", drafts=[draft(OXYCODONE)]), CHECK_ID) is None


def test_new_benzodiazepine_without_any_opioid_no_card() -> None:
    assert card(run("order-sign", drafts=[draft(LORAZEPAM)]), CHECK_ID) is None


def test_order_select_without_a_new_member_no_card() -> None:
    """Opioid and benzodiazepine drafts, but the selected draft (ibuprofen) is neither: nothing new to warn about.
    (A selection that names no draft at all judges every draft: tests/test_order_select_selections.py.)"""
    evaluation = run(
        "order-select",
        drafts=[draft(OXYCODONE, id="ox1"), draft(LORAZEPAM, id="lz1"), draft("310965", id="other")],
        selections=["MedicationRequest/other"],
    )
    assert card(evaluation, CHECK_ID) is None


def test_expired_benzodiazepine_supply_is_not_current() -> None:
    old = med_request(LORAZEPAM, authored=days_ago(120), supply_days=30)
    assert card(run("order-sign", drafts=[draft(OXYCODONE)], resources=[old]), CHECK_ID) is None


def test_patient_view_needs_both_orders_active() -> None:
    stopped = med_request(LORAZEPAM, authored=days_ago(5), status="stopped")
    assert card(run("patient-view", resources=[active(OXYCODONE), stopped]), CHECK_ID) is None


def test_inpatient_benzodiazepine_draft_is_ignored() -> None:
    inpatient = draft(LORAZEPAM, category="inpatient")
    assert card(run("order-sign", drafts=[inpatient], resources=[active(OXYCODONE)]), CHECK_ID) is None


def test_disabled_or_hook_removed() -> None:
    drafts, resources = [draft(OXYCODONE)], [active(LORAZEPAM)]
    off = {"checks": {CHECK_ID: {"enabled": False}}}
    assert card(run("order-sign", drafts=drafts, resources=resources, config=off), CHECK_ID) is None
    sign_only = {"checks": {CHECK_ID: {"hooks": ["order-select"]}}}
    assert card(run("order-sign", drafts=drafts, resources=resources, config=sign_only), CHECK_ID) is None


def test_summary_stays_within_limit_with_many_long_names() -> None:
    drafts = [draft(HYDROCODONE_APAP, id=f"h{i}") for i in range(3)]
    resources = [active(LORAZEPAM), active(ALPRAZOLAM), active(FLURAZEPAM)]
    found = card(run("order-sign", drafts=drafts, resources=resources), CHECK_ID)
    assert found is not None
    assert len(found.summary) <= 139
    assert "more" in found.summary
    assert len(found.suggestions) == 3


# -- pharmacy fills on the order hooks ---------------------------------------------------------------------------


def test_new_opioid_with_a_benzodiazepine_filled_elsewhere_warns_on_order_sign() -> None:
    """The benzodiazepine has no order in this EHR (another prescriber); the pharmacy fill supplies it today."""
    evaluation = run(
        "order-sign",
        drafts=[draft(OXYCODONE, id="ox1")],
        resources=[dispense(ALPRAZOLAM, handed_over=days_ago(10), days_supply=30)],
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None and found.facts["variant"] == "benzo"
    assert "(filled)" in found.summary and "oxycodone hydrochloride 5 MG Oral Tablet (new)" in found.summary
    assert "no active order" in found.detail and "current pharmacy fills" in found.detail
    assert [(s.action, s.resource_id) for s in found.suggestions] == [("delete", "MedicationRequest/ox1")]


def test_new_benzodiazepine_with_an_opioid_filled_elsewhere_warns_on_order_select() -> None:
    evaluation = run(
        "order-select",
        drafts=[draft(LORAZEPAM, id="lz-new")],
        resources=[dispense(OXYCODONE, handed_over=days_ago(5), days_supply=30)],
        selections=["MedicationRequest/lz-new"],
    )
    found = card(evaluation, CHECK_ID)
    assert found is not None
    assert "(filled)" in found.summary and "lorazepam 1 MG Oral Tablet (new)" in found.summary
    assert [(s.action, s.resource_id) for s in found.suggestions] == [("delete", "MedicationRequest/lz-new")]


def test_a_benzodiazepine_fill_whose_supply_ran_out_is_not_current_on_order_sign() -> None:
    evaluation = run(
        "order-sign",
        drafts=[draft(OXYCODONE, id="ox1")],
        resources=[dispense(ALPRAZOLAM, handed_over=days_ago(60), days_supply=30)],
    )
    assert card(evaluation, CHECK_ID) is None
