"""Patient-view never looks like "all clear" about a current medicine it did not understand: a current opioid whose
daily dose in MME could not be worked out, and a current medicine nobody could identify, are named on the
data-incomplete card (one info card), as order-sign names them; what is not current, what another card already
lists and what a clinician overrode are not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from builders import NOW, PATIENT_ID, days_ago, med_request, run
from cds_support import bundle, full_prefetch, hook_request, make_app, topics

from guideline.cards import Snooze, finding_keys
from guideline.named_gaps import NAMED_GAPS

NDC = "http://hl7.org/fhir/sid/ndc"
UNCONVERTED_WHY = "could not be worked out"
UNIDENTIFIED_WHY = "could not be identified"


def oxycontin_text_sig(order_id: str = "a1", authored: str = "2026-06-01") -> dict[str, Any]:
    """An Epic outside medication: OxyContin 40 mg by text only, "every 12 hours" in the sig's words (120 MME/day)."""
    order = med_request("0", id=order_id, authored=authored, supply_days=None)
    order["medicationCodeableConcept"] = {"text": "OxyContin 40 mg 12 hr tablet"}
    order["dosageInstruction"] = [{"text": "Take 1 tablet by mouth every 12 hours"}]
    return order


def oxycontin_statement() -> dict[str, Any]:
    """An R4 MedicationStatement the patient reported, its dosage only in words."""
    return {
        "resourceType": "MedicationStatement",
        "id": "ms1",
        "status": "active",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"text": "OxyContin 40 mg"},
        "effectiveDateTime": "2026-04-01",
        "dateAsserted": "2026-06-01",
        "dosage": [{"text": "1 tab PO q12h"}],
    }


def ndc_only_fill(handed_over: str = "2026-06-10", fill_id: str = "f1") -> dict[str, Any]:
    """A pharmacy fill known only by an NDC no crosswalk of this site holds."""
    return {
        "resourceType": "MedicationDispense",
        "id": fill_id,
        "status": "completed",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {"coding": [{"system": NDC, "code": "00406-8530-01"}]},
        "whenHandedOver": handed_over,
        "quantity": {"value": 180},
        "daysSupply": {"value": 30},
    }


def alprazolam() -> dict[str, Any]:
    order = med_request("0", id="bz", authored="2026-06-01", period=1, period_unit="d")
    order["medicationCodeableConcept"] = {"text": "alprazolam 1 mg tablet"}
    return order


def patient_view(tmp_path: Path, **prefetch: Any) -> dict[str, Any]:
    body = hook_request("patient-view", prefetch=full_prefetch("patient-view", **prefetch))
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body)
    assert response.status_code == 200
    return response.json


def incomplete_detail(answer: dict[str, Any]) -> str:
    found = [c for c in answer["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    assert len(found) == 1, topics(answer)
    assert found[0]["indicator"] == "info"
    return found[0]["detail"]


def card_items(key: str, evaluation: Any) -> tuple[str, ...]:
    kind = next(k for k in NAMED_GAPS if k.key == key)
    return kind.card_named(evaluation.facts)


def test_a_current_opioid_with_a_sig_in_words_only_is_named_on_patient_view(tmp_path: Path) -> None:
    answer = patient_view(tmp_path, medsActive=bundle(oxycontin_text_sig()), medsRecent=bundle(oxycontin_text_sig()))
    detail = incomplete_detail(answer)
    # The line says why the dose could not be worked out, as the dose card's list of such orders does.
    assert (
        "- OxyContin 40 mg 12 hr tablet (current order a1, the dosage has no frequency and there is no dispense "
        "quantity and days' supply to estimate from): " in detail
    )
    assert UNCONVERTED_WHY in detail and "check the dose by hand" in detail


def test_a_reported_opioid_with_a_dosage_in_words_only_is_named_on_patient_view(tmp_path: Path) -> None:
    detail = incomplete_detail(patient_view(tmp_path, medStatements=bundle(oxycontin_statement())))
    assert "- OxyContin 40 mg (reported medication ms1, the dosage has no frequency" in detail
    assert UNCONVERTED_WHY in detail


def test_a_current_fill_nobody_could_identify_beside_a_benzodiazepine_is_named_on_patient_view(tmp_path: Path) -> None:
    answer = patient_view(tmp_path, medsActive=bundle(alprazolam()), dispenses=bundle(ndc_only_fill()))
    detail = incomplete_detail(answer)
    # Known only by an NDC that nothing maps: its line says so, in its MME line's words.
    assert (
        "- NDC 00406-8530-01 (pharmacy fill f1, known only by its NDC, which neither PainPlan's packaged data nor the "
        "site's NDC crosswalk ndc.rxnorm maps to a product, so PainPlan cannot tell what it is; it may be an opioid): "
        in detail
    )
    assert UNIDENTIFIED_WHY in detail and "benzodiazepine" in detail
    assert "alprazolam" not in detail  # identified, and not an opioid: nothing to say about it


def test_both_kinds_share_one_info_card(tmp_path: Path) -> None:
    answer = patient_view(
        tmp_path, medsActive=bundle(oxycontin_text_sig()), dispenses=bundle(ndc_only_fill()), medsRecent=bundle()
    )
    detail = incomplete_detail(answer)
    assert "(current order a1, the dosage has no frequency" in detail and "(pharmacy fill f1" in detail
    assert [c["indicator"] for c in answer["cards"]].count("info") == 1


def test_what_is_no_longer_current_is_not_named(tmp_path: Path) -> None:
    # A fill whose 30 days ran out in May, and an order of last year that no longer supplies today.
    old_order = oxycontin_text_sig(authored="2025-01-10")
    answer = patient_view(tmp_path, medsActive=bundle(old_order), dispenses=bundle(ndc_only_fill("2026-04-01")))
    assert answer == {"cards": []}


def test_order_sign_still_names_them_on_its_own_cards_not_the_data_incomplete_card() -> None:
    draft = med_request("1049621", draft=True, id="draft-oxy", supply_days=5)  # oxycodone 5 mg, 20 MME/day
    evaluation = run("order-sign", drafts=[draft], resources=[oxycontin_text_sig(), ndc_only_fill()])
    assert {"high-mme", "unidentified-medication"} <= {c.check_id for c in evaluation.cards}
    assert card_items("unconverted-opioids", evaluation) == ()
    assert card_items("unidentified-medications", evaluation) == ()


def test_a_high_dose_card_that_lists_the_unconverted_opioid_is_not_repeated() -> None:
    # 60 mg oxycodone a day (90 MME) beside the text-only OxyContin: the high-mme card lists it under
    # "Could not be converted", so the data-incomplete card does not name it again.
    oxycodone = med_request("1049621", id="oxy", authored=days_ago(3), dose=2, period=4)
    evaluation = run("patient-view", resources=[oxycodone, oxycontin_text_sig()])
    high = next(c for c in evaluation.cards if c.check_id == "high-mme")
    assert "OxyContin 40 mg 12 hr tablet" in high.detail
    assert card_items("unconverted-opioids", evaluation) == ()


def test_the_site_setting_that_turns_off_the_unknown_dose_card_is_respected() -> None:
    config = {"checks": {"high-mme": {"unknown_card": False}}}
    evaluation = run("patient-view", resources=[oxycontin_text_sig()], config=config)
    assert card_items("unconverted-opioids", evaluation) == ()


def test_a_patient_excluded_from_the_high_dose_check_is_not_named_for_it() -> None:
    from builders import ICD10, condition

    cancer = condition(ICD10, "C50.011", display="Malignant neoplasm of nipple and areola, right female breast")
    evaluation = run("patient-view", resources=[oxycontin_text_sig(), cancer])
    assert evaluation.facts.excluded(evaluation.facts.config.check("high-mme"))
    assert card_items("unconverted-opioids", evaluation) == ()


def _snooze(check_id: str, about: frozenset[str] | None) -> Snooze:
    return Snooze(check_id, PATIENT_ID, NOW + timedelta(days=30), "info", reason="data-incorrect", about=about)


def test_an_override_of_the_unknown_dose_card_for_that_order_quiets_it_on_patient_view() -> None:
    draft = med_request("1049621", draft=True, id="draft-oxy", supply_days=5)
    cards = run("order-sign", drafts=[draft], resources=[oxycontin_text_sig()]).cards
    signed = next(c for c in cards if c.check_id == "high-mme")
    assert signed.indicator == "info" and "OxyContin 40 mg 12 hr tablet" in signed.detail
    snoozes = (_snooze("high-mme", finding_keys(signed.about)),)
    quiet = run("patient-view", resources=[oxycontin_text_sig()], snoozes=snoozes)
    assert card_items("unconverted-opioids", quiet) == ()
    # Another unconverted opioid is a new finding: it is named.
    other = oxycontin_text_sig("a2")
    other["medicationCodeableConcept"] = {"text": "MS Contin 30 mg 12 hr tablet"}
    loud = run("patient-view", resources=[oxycontin_text_sig(), other], snoozes=snoozes)
    assert card_items("unconverted-opioids", loud) == (
        "MS Contin 30 mg 12 hr tablet (current order a2, the dosage has no frequency and there is no dispense quantity "
        "and days' supply to estimate from)",
    )


def test_an_override_of_the_unidentified_medication_card_for_that_fill_quiets_it_on_patient_view() -> None:
    draft = med_request("1049621", draft=True, id="draft-oxy", supply_days=5)
    signed = run("order-sign", drafts=[draft], resources=[ndc_only_fill()])
    reminder = next(c for c in signed.cards if c.check_id == "unidentified-medication")
    snoozes = (_snooze("unidentified-medication", finding_keys(reminder.about)),)
    quiet = run("patient-view", resources=[alprazolam(), ndc_only_fill()], snoozes=snoozes)
    assert card_items("unidentified-medications", quiet) == ()
    other = ndc_only_fill(fill_id="f2")
    other["medicationCodeableConcept"] = {"coding": [{"system": NDC, "code": "00406-0523-01"}]}
    loud = run("patient-view", resources=[alprazolam(), ndc_only_fill(), other], snoozes=snoozes)
    assert [item for item in card_items("unidentified-medications", loud) if "f2" in item]
    # Its line now says why its NDC was not read after "pharmacy fill f1": the override still goes by its name.
    assert not [item for item in card_items("unidentified-medications", loud) if "(pharmacy fill f1" in item]


def test_the_dose_card_and_the_naming_of_unconverted_opioids_share_one_threshold_rule() -> None:
    from decimal import Decimal

    from guideline.checks.high_mme import dose_indicator, names_unconverted

    evaluation = run("patient-view", resources=[oxycontin_text_sig()])
    settings = evaluation.facts.config.check("high-mme")
    assert [dose_indicator(Decimal(n), settings) for n in ("49.99", "50", "89.99", "90")] == [
        None,
        "warning",
        "warning",
        "critical",
    ]
    # Below 50 MME on patient-view the data-incomplete card names the opioid; order-sign's info card is not for here.
    assert names_unconverted(evaluation.facts, settings, "patient-view")
    assert not names_unconverted(evaluation.facts, settings, "order-sign")
