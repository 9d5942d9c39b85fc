"""NDCs as claims feeds and pharmacies write them, read through a site's crosswalk: with the X12/NCPDP "N4"
qualifier in front, as ten digits without hyphens, and as a product code without its package code. Each either
reads as the one product the crosswalk maps it to, or is named as ambiguous (evaluated on 2026-06-15)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from builders import all_text, card, run

from guideline import named_gaps
from guideline.config import GuidelineConfig
from guideline.engine import Evaluation
from guideline.fills import fill_mme
from guideline.ndc import NdcCrosswalk, ndc11
from guideline.set_names import OPIOID
from guideline.terminology import load_terminology

NDC = "http://hl7.org/fhir/sid/ndc"
RX = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
PAYLOAD = "payload"
CARD = "unidentified-medication"
OXYCODONE_APAP_5 = "1049221"  # acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet
ALPRAZOLAM_05 = "308048"  # alprazolam 0.5 MG Oral Tablet
ALPRAZOLAM_025 = "308047"  # alprazolam 0.25 MG Oral Tablet
# A site's crosswalk: two packages of one oxycodone/acetaminophen product; an alprazolam product whose 30- and
# 500-tablet bottles both map to one drug; a product whose packages the site maps to different strengths; and a
# 5-3-2 code that shares its ten digits with the oxycodone/acetaminophen bottle of 100.
CROSSWALK = {
    "ndc": {
        "rxnorm": {
            "00406-0523-01": OXYCODONE_APAP_5,
            "00406-0523-05": OXYCODONE_APAP_5,
            "59762-3720-01": ALPRAZOLAM_05,
            "59762-3720-05": ALPRAZOLAM_05,
            "00378-4003-01": ALPRAZOLAM_05,
            "00378-4003-05": ALPRAZOLAM_025,
            "04060-523-01": ALPRAZOLAM_05,
        }
    }
}
SETTINGS = GuidelineConfig.from_mapping(CROSSWALK)


def ndc_only(code: str) -> dict[str, Any]:
    """The medication as a claims feed sends it: the NDC, no name."""
    return {"medicationCodeableConcept": {"coding": [{"system": NDC, "code": code}]}}


def claim_fill(code: str) -> dict[str, Any]:
    """A CARIN / NCPDP-derived pharmacy fill: 120 tablets for 30 days, handed over 2026-06-10."""
    return {
        "resourceType": "MedicationDispense",
        "id": PAYLOAD,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "whenHandedOver": "2026-06-10",
        **ndc_only(code),
        "quantity": {"value": 120, "unit": "EA"},
        "daysSupply": {"value": 30, "unit": "day", "system": UCUM, "code": "d"},
    }


def ndc_order(code: str) -> dict[str, Any]:
    """An outpatient order coded by NDC alone: 1 tablet every 6 hours for 30 days, written 2026-06-01."""
    return {
        "resourceType": "MedicationRequest",
        "id": PAYLOAD,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2026-06-01",
        **ndc_only(code),
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }


def oxycodone_draft() -> dict[str, Any]:
    """The order being signed beside the payload: oxycodone 5 mg, 1 tablet every 6 hours for 5 days."""
    draft = ndc_order("ignored")
    draft.update(id="signing", status="draft", authoredOn="2026-06-15")
    draft["medicationCodeableConcept"] = {"coding": [{"system": RX, "code": "1049621"}]}
    draft["dispenseRequest"]["expectedSupplyDuration"]["value"] = 5
    return draft


def payload_of(evaluation: Evaluation) -> Any:
    record = evaluation.facts.record
    return next(item for item in (*record.orders, *record.dispenses) if item.id == PAYLOAD)


@pytest.mark.parametrize(
    ("written", "eleven"),
    [
        ("N400406052301", "00406052301"),  # the X12 / NCPDP product qualifier, as 837 and 835 claims carry it
        ("N4 00406-0523-01", "00406052301"),
        ("n40406-0523-01", "00406052301"),
        ("N40406052301", None),  # the qualifier takes nothing away from ten bare digits' ambiguity
    ],
)
def test_the_n4_qualifier_is_no_part_of_the_ndc(written: str, eleven: str | None) -> None:
    assert ndc11(written) == eleven


@pytest.mark.parametrize(
    "code",
    [
        "N400406052301",  # N4 qualifier
        "N4 00406-0523-01",
        "0406052305",  # ten digits: read as 4-4-2 only, the one of its three layouts the crosswalk holds
        "0406-0523",  # a product code without its package code, 4-4
        "00406-0523",  # 5-4
        "004060523",  # the 9-digit product code
    ],
)
@pytest.mark.parametrize("shape", [claim_fill, ndc_order], ids=["dispense", "order"])
def test_an_ndc_as_claims_write_it_is_read_as_its_crosswalk_product(code: str, shape: Any) -> None:
    evaluation = run("order-sign", resources=[shape(code)], config=CROSSWALK)
    facts = evaluation.facts
    assert facts.is_in(OPIOID, payload_of(evaluation))
    # 4 tablets a day of oxycodone 5 mg (with acetaminophen): 20 mg × 1.5.
    assert (facts.mme.state, facts.mme.total) == ("complete", Decimal("30.0"))
    signing = run("order-sign", drafts=[oxycodone_draft()], resources=[shape(code)], config=CROSSWALK)
    assert card(signing, "unidentified-medication") is None


@pytest.mark.parametrize("code", ["5976237201", "59762-3720", "597623720"])
@pytest.mark.parametrize("shape", [claim_fill, ndc_order], ids=["dispense", "order"])
def test_a_benzodiazepine_ndc_in_a_short_form_gives_the_opioid_benzodiazepine_card(code: str, shape: Any) -> None:
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[shape(code)], config=CROSSWALK)
    assert card(evaluation, "opioid-benzodiazepine") is not None
    assert card(evaluation, "unidentified-medication") is None


def unidentified_with_reason(code: str) -> str:
    """The fill's line on the MME list, after checking it is named on the unidentified-medication card."""
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[claim_fill(code)], config=CROSSWALK)
    found = card(evaluation, "unidentified-medication")
    assert found is not None and f"NDC {code}" in all_text(found)
    assert card(evaluation, "opioid-benzodiazepine") is None
    # Its line, as the plan page's fills and `painplan mme` list it.
    line = fill_mme(payload_of(evaluation), load_terminology(SETTINGS), SETTINGS)
    assert line.state == "unknown"
    return line.explanation


AMBIGUOUS = (
    "known only by its NDC, written as ten digits without hyphens or without its package code, which fits more than "
    "one product in the site's NDC crosswalk ndc.rxnorm, so PainPlan cannot tell what it is; it may be an opioid"
)


def test_ten_digits_that_match_two_crosswalk_entries_are_named_as_ambiguous() -> None:
    # 00406-0523-01 (4-4-2) and 04060-523-01 (5-3-2) are both in the crosswalk: neither is guessed.
    assert unidentified_with_reason("0406052301").endswith(AMBIGUOUS)


def test_ten_digits_whose_readings_are_all_one_drug_are_that_drug() -> None:
    # Two labelers' codes share the ten digits, but the site maps both to one drug: which was meant changes nothing.
    crosswalk = NdcCrosswalk.of({"00406052301": OXYCODONE_APAP_5, "04060052301": OXYCODONE_APAP_5})
    found = crosswalk.match("0406052301")
    assert not found.ambiguous and crosswalk.rxnorm[found.ndc or ""] == OXYCODONE_APAP_5


def test_a_product_whose_packages_map_to_different_drugs_is_named_as_ambiguous() -> None:
    assert unidentified_with_reason("00378-4003").endswith(AMBIGUOUS)


def test_a_short_form_the_crosswalk_does_not_hold_is_named_as_not_mapped() -> None:
    explanation = unidentified_with_reason("0121077504")
    assert "which neither PainPlan's packaged data nor the site's NDC crosswalk ndc.rxnorm maps" in explanation


NOT_MAPPED = (
    "known only by its NDC, which neither PainPlan's packaged data nor the site's NDC crosswalk ndc.rxnorm maps to a "
    "product, so PainPlan cannot tell what it is; it may be an opioid"
)
# Two short forms that fit more than one crosswalk product, and ten digits the crosswalk does not hold.
WHY_NOT_READ = [("0406052301", AMBIGUOUS), ("00378-4003", AMBIGUOUS), ("0121077504", NOT_MAPPED)]


@pytest.mark.parametrize(("code", "why"), WHY_NOT_READ)
@pytest.mark.parametrize(
    ("shape", "where"), [(claim_fill, "pharmacy fill"), (ndc_order, "current order")], ids=["dispense", "order"]
)
def test_the_unidentified_medication_card_says_why_an_ndc_was_not_read(
    code: str, why: str, shape: Any, where: str
) -> None:
    # "NDC 0406052301" alone could not tell the clinician whether the crosswalk lacks it or it matches two drugs.
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[shape(code)], config=CROSSWALK)
    found = card(evaluation, CARD)
    assert found is not None
    assert f"- NDC {code} ({where} payload, {why})\n" in found.detail
    # The summary and what an override quiets name it as before, without the why.
    assert found.summary.startswith(f"Could not identify current medication NDC {code} ({where} payload):")
    assert found.about == {f"NDC {code} ({where} payload)"}


@pytest.mark.parametrize(("code", "why"), WHY_NOT_READ)
def test_the_page_and_the_data_incomplete_card_say_why_an_ndc_was_not_read(code: str, why: str) -> None:
    facts = run("patient-view", resources=[claim_fill(code)], config=CROSSWALK).facts
    named = f"NDC {code} (current fill payload, {why})"
    assert named in named_gaps.unidentified_orders(facts)
    on_card = next(kind for kind in named_gaps.NAMED_GAPS if kind.key == "unidentified-medications")
    assert on_card.card_named(facts) == (f"NDC {code} (pharmacy fill payload, {why})",)


def test_a_draft_known_only_by_an_ambiguous_ndc_is_listed_with_why() -> None:
    draft = ndc_order("0406052301")
    draft.update(status="draft", authoredOn="2026-06-15")
    found = card(run("order-sign", drafts=[draft], config=CROSSWALK), CARD)
    assert found is not None
    assert f"- NDC 0406052301 ({AMBIGUOUS})\n" in found.detail
    assert found.summary.startswith("Could not identify NDC 0406052301:")


def test_a_later_order_known_only_by_an_unmapped_ndc_is_listed_with_why() -> None:
    later = ndc_order("0121077504")
    later["dispenseRequest"]["validityPeriod"] = {"start": "2026-07-10"}
    found = card(run("order-sign", drafts=[oxycodone_draft()], resources=[later], config=CROSSWALK), CARD)
    assert found is not None
    assert f"- NDC 0121077504 (order payload, starts on 2026-07-10, {NOT_MAPPED})\n" in found.detail
    assert (
        found.summary == "Could not identify NDC 0121077504 (order payload, starts on 2026-07-10), which starts later"
    )


def test_a_medication_unidentified_by_a_local_code_is_named_with_no_ndc_reason() -> None:
    # A code in no set and no NDC: unidentified for its own reasons, named by its code alone, as before.
    local = {"medicationCodeableConcept": {"coding": [{"system": "urn:oid:1.2.3", "code": "X-77"}]}}
    evaluation = run("order-sign", drafts=[oxycodone_draft()], resources=[{**claim_fill("x"), **local}])
    found = card(evaluation, CARD)
    assert found is not None and "(pharmacy fill payload)\n" in found.detail


@pytest.mark.parametrize(("code", "why"), WHY_NOT_READ)
def test_an_ended_order_and_fill_known_only_by_an_ndc_not_read_are_named_with_why(code: str, why: str) -> None:
    # Ended in the 90 days the opioid history reads: named on the page as possibly an opioid, and why it was not read.
    ended = {**ndc_order(code), "status": "completed", "authoredOn": "2026-05-06"}
    fill = {**claim_fill(code), "id": "ended-fill", "whenHandedOver": "2026-04-20"}
    facts = run("patient-view", resources=[ended, fill], config=CROSSWALK).facts
    past = next(kind for kind in named_gaps.NAMED_GAPS if kind.key == "unidentified-past-orders")
    assert past.items(facts) == (
        f"NDC {code} (completed order payload, {why})",
        f"NDC {code} (fill ended-fill, filled 2026-04-20, {why})",
    )
