"""A high-MME card whose total rests on data that could not be read says so where the clinician reads the number:
its summary is marked "(records incomplete)" by the one rule (`unread_data.fitted`) and the total reads "at least",
its detail names the kinds not read and why and says the total may be higher. A complete record's card is unchanged."""

from __future__ import annotations

from typing import Any

import responses
from builders import NOW, PATIENT_ID, RXNORM, TZ, patient
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft, search_fails
from test_high_mme_unread_kinds import FILL_KEYS, fills_search_fails

from guideline.cards import SUMMARY_LIMIT, Card
from guideline.config import GuidelineConfig
from guideline.context import HookContext
from guideline.engine import evaluate
from guideline.record import build_record
from guideline.unread_data import COULD_NOT_CHECK, FILLS, MARK, ORDERS, STATEMENTS

DOWN = "the FHIR server answered HTTP 500"
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
EPIC_ORDER_ID = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268"  # an Epic instance's order number
EPIC_RX_NUMBER = "urn:oid:1.2.840.114350.1.13.0.1.7.2.798269"  # its prescription-fill number
UCUM = "http://unitsofmeasure.org"


def epic_order() -> dict[str, Any]:
    """An Epic outpatient MedicationRequest: oxyCODONE 10 mg, 1 tablet every 4 hours (6 a day = 60 mg = 90 MME/day),
    180 tablets for 30 days, written 2026-06-01."""
    return {
        "resourceType": "MedicationRequest",
        "id": "eQ1wXc7TnB0-oxy10",
        "identifier": [{"use": "usual", "system": EPIC_ORDER_ID, "value": "918273"}],
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "code": "community",
                        "display": "Community",
                    }
                ],
                "text": "Community",
            }
        ],
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 mg tablet"}],
            "text": "oxyCODONE (ROXICODONE) 10 mg tablet",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Rivera, Alex"},
        "authoredOn": "2026-06-01T14:05:00Z",
        "dosageInstruction": [
            {
                "text": "Take 1 tablet (10 mg total) by mouth every 4 (four) hours.",
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
                "route": {"text": "Oral"},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {
            "quantity": {"value": 180, "unit": "tablet"},
            "expectedSupplyDuration": {"value": 30, "unit": "Day", "system": UCUM, "code": "d"},
        },
    }


def epic_fill(handed_over: str = "2026-06-01T20:10:00Z", days: int = 30, tablets: int = 180) -> dict[str, Any]:
    """Epic's MedicationDispense of that order: 180 tablets of oxyCODONE 10 mg for 30 days (90 MME/day)."""
    return {
        "resourceType": "MedicationDispense",
        "id": "eZ8m1kq0Rb3sT6vXyA2dFhg3",
        "identifier": [{"use": "usual", "system": EPIC_RX_NUMBER, "value": "4471920-00"}],
        "status": "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": OXYCODONE_10, "display": "oxycodone HCl 10 mg tablet"}],
            "text": "oxyCODONE (ROXICODONE) 10 mg tablet",
        },
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Rivera, Alex"},
        "authorizingPrescription": [{"reference": "MedicationRequest/eQ1wXc7TnB0-oxy10", "display": "oxyCODONE"}],
        "quantity": {"value": tablets, "unit": "Tablet"},
        "daysSupply": {"value": days, "unit": "Day", "system": UCUM, "code": "d"},
        "whenHandedOver": handed_over,
    }


def unconvertible_draft() -> dict[str, Any]:
    """A drafted oxycodone order known by its free text alone, with an ingredient PainPlan does not know: no MME."""
    draft = oxycodone_draft()
    draft["medicationCodeableConcept"] = {"text": "oxycodone / Foo 5 mg"}
    return draft


def high_mme(hook: str, resources=(), drafts=(), unread: dict[str, str] | None = None) -> Card:
    drafted = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    record = build_record([patient(), *resources], TZ, draft_orders=drafted)
    context = HookContext(hook=hook, patient_id=PATIENT_ID, user_id="Practitioner/dr1")
    cards = evaluate(record, context, GuidelineConfig.from_mapping(), NOW, unread=unread).cards
    return next(card for card in cards if card.check_id == "high-mme")


def well_marked(summary: str) -> bool:
    return len(summary) <= SUMMARY_LIMIT and summary.endswith(MARK) and summary.count(MARK) == 1


def test_a_complete_records_dose_card_is_unchanged():
    found = high_mme("patient-view", [epic_order(), epic_fill()])

    assert found.summary == "Current opioid dose 90.0 MME/day — high overdose risk; reconsider the dose"
    assert found.detail.startswith("**Total: 90.0 MME/day (CDC 2022 factors).**\n\n**Orders counted:**")
    assert COULD_NOT_CHECK not in found.detail and "at least" not in found.detail
    assert found.facts["not_read"] == []


def test_the_dose_card_of_a_record_whose_fills_were_not_read_says_its_total_is_a_floor():
    found = high_mme("patient-view", [epic_order(), epic_fill()], unread={FILLS: DOWN, "lab-results": DOWN})

    assert found.summary == (
        "Current opioid dose at least 90.0 MME/day — high overdose risk; reconsider the dose" + MARK
    )
    assert found.detail.startswith(
        "**Total: at least 90.0 MME/day (CDC 2022 factors).**\n\n"
        "**Could not check:** pharmacy fills could not be read (the FHIR server answered HTTP 500), so opioids "
        "they hold may be missing. The total may be higher.\n\n"
    )
    assert "lab results" not in found.detail  # no part of a dose
    assert found.facts["not_read"] == [FILLS]


def test_kinds_not_read_for_different_reasons_are_each_named_with_why():
    found = high_mme(
        "order-sign", drafts=[oxycodone_draft()], unread={ORDERS: "cut off at the page limit", STATEMENTS: DOWN}
    )

    assert well_marked(found.summary)
    assert (
        "**Could not check:** current medication orders could not be read (cut off at the page limit); medications "
        "the patient reports could not be read (the FHIR server answered HTTP 500), so opioids they hold may be "
        "missing. The total may be higher."
    ) in found.detail


def test_a_long_warning_summary_takes_a_shorter_wording_to_keep_the_mark_whole():
    """Fills alone at 60 MME/day: the full warning with the mark is 145 characters, past the EHR card's limit."""
    fill = epic_fill(tablets=120)  # 4 tablets a day = 40 mg = 60 MME/day

    complete = high_mme("patient-view", [fill])
    unread = high_mme("patient-view", [fill], unread={ORDERS: DOWN})

    assert complete.summary == (
        "Current opioid dose 60.0 MME/day from pharmacy fills — overdose risk rises with dose; use the lowest "
        "effective dose"
    )
    assert unread.summary == (
        "Current opioid dose at least 60.0 MME/day from pharmacy fills — overdose risk rises with dose" + MARK
    )
    assert well_marked(unread.summary)


def test_the_info_card_of_a_dose_not_converted_names_the_data_not_read():
    complete = high_mme("order-sign", drafts=[unconvertible_draft()])
    unread = high_mme("order-sign", drafts=[unconvertible_draft()], unread={FILLS: DOWN})

    assert complete.indicator == unread.indicator == "info"
    assert COULD_NOT_CHECK not in complete.detail and MARK not in complete.summary
    assert unread.summary == complete.summary + MARK and well_marked(unread.summary)
    assert (
        "**Could not check:** pharmacy fills could not be read (the FHIR server answered HTTP 500), so opioids they "
        "hold may be missing. The total may be higher."
    ) in unread.detail


@responses.activate
def test_the_service_card_of_a_call_whose_fill_search_failed_says_the_total_may_be_higher(tmp_path):
    fills_search_fails()
    prefetch = full_prefetch("patient-view", medsActive=bundle(epic_order()))
    for key in FILL_KEYS:
        prefetch.pop(key, None)
    body = hook_request("patient-view", prefetch=prefetch, fhir=True)
    response = make_app(tmp_path).test_client().post("/cds-services/patient-view", json=body)
    assert response.status_code == 200, response.json
    cards = {card["source"]["topic"]["code"]: card for card in response.json["cards"]}

    dose = cards["high-mme"]
    assert dose["summary"] == "Current opioid dose at least 90.0 MME/day — high overdose risk; reconsider the dose" + (
        MARK
    )
    assert (
        "**Could not check:** pharmacy fills could not be read (the FHIR server answered HTTP 500), so opioids they "
        "hold may be missing. The total may be higher."
    ) in dose["detail"]
    assert "data-incomplete" in cards  # the separate card still lists the searches not read


def test_a_total_already_partial_on_an_incomplete_record_reads_at_least_once():
    """An order not converted makes the total a floor by itself; fills not read as well say "at least" once, not
    twice, in the summary and in the detail's total."""
    found = high_mme("order-sign", [epic_order()], drafts=[unconvertible_draft()], unread={FILLS: DOWN})

    assert found.facts["state"] == "partial"
    assert found.summary == (
        "Total opioid dose at least 90.0 MME/day with this order — high overdose risk; reconsider the dose" + MARK
    )
    assert found.detail.startswith("**Total: at least 90.0 MME/day (CDC 2022 factors).**\n\n" + COULD_NOT_CHECK)
    assert found.detail.count("at least at least") == 0


@responses.activate
def test_the_order_sign_card_of_a_call_whose_fill_search_failed_is_not_based_on_fills(tmp_path):
    """The basis line names what the total rests on: with every MedicationDispense search failed, the orders alone."""
    fills_search_fails()
    prefetch = full_prefetch("order-sign", medsActive=bundle(epic_order()))
    for key in FILL_KEYS:
        prefetch.pop(key, None)
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.json
    dose = next(card for card in response.json["cards"] if card["source"]["topic"]["code"] == "high-mme")

    assert "current pharmacy fills" not in dose["detail"]
    assert dose["detail"].endswith(
        "*Based on: current outpatient opioid orders and today's draft orders, with the CDC 2022 conversion factors; "
        "pharmacy fills could not be read.*"
    )


def test_a_card_whose_fills_were_read_in_part_is_based_on_the_fills_read():
    """One of the fill searches cut off: the fills it did read are counted, and the basis says not all were read."""
    found = high_mme("patient-view", [epic_order(), epic_fill()], unread={FILLS: "cut off at the page limit"})

    assert found.detail.endswith(
        "*Based on: current outpatient opioid orders, and the current pharmacy fills read that no counted order "
        "stands for (MME per day = quantity × strength × factor ÷ days' supply), with the CDC 2022 conversion "
        "factors; not all pharmacy fills could be read.*"
    )


def test_a_complete_records_card_is_based_on_orders_and_fills():
    found = high_mme("patient-view", [epic_order(), epic_fill()])

    assert found.detail.endswith(
        "*Based on: current outpatient opioid orders, and current pharmacy fills that no counted order stands for "
        "(MME per day = quantity × strength × factor ÷ days' supply), with the CDC 2022 conversion factors.*"
    )


ORDER_KEYS = ("medsActive", "medsRecent")  # the prefetch keys holding current and past medication orders


@responses.activate
def test_the_order_sign_card_of_a_call_whose_order_search_failed_is_not_based_on_current_orders(tmp_path):
    """The MedicationRequest search failed (HTTP 500) while the drafts came with the call and the fills were read: the
    basis names the drafts and the fills, and says the current orders could not be read."""
    search_fails("MedicationRequest")
    prefetch = full_prefetch("order-sign", dispenses=bundle(epic_fill()))
    for key in ORDER_KEYS:
        prefetch.pop(key, None)
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True)
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.json
    dose = next(card for card in response.json["cards"] if card["source"]["topic"]["code"] == "high-mme")

    assert "current outpatient opioid orders" not in dose["detail"]
    assert dose["detail"].endswith(
        "*Based on: today's draft orders, and current pharmacy fills that no counted order stands for (MME per day = "
        "quantity × strength × factor ÷ days' supply), with the CDC 2022 conversion factors; current medication "
        "orders could not be read.*"
    )


def test_a_card_whose_current_orders_were_read_in_part_is_based_on_the_orders_read():
    """The active-orders search cut off at the page limit: the orders it read count, and the basis says not all were
    read."""
    found = high_mme("patient-view", [epic_order(), epic_fill()], unread={ORDERS: "cut off at the page limit"})

    assert found.detail.endswith(
        "*Based on: the current outpatient opioid orders read, and current pharmacy fills that no counted order "
        "stands for (MME per day = quantity × strength × factor ÷ days' supply), with the CDC 2022 conversion "
        "factors; not all current medication orders could be read.*"
    )


def test_the_info_card_of_an_order_search_failed_is_based_on_the_drafts_alone():
    """Below the thresholds with a draft not converted: the info card's basis names the drafts, and the orders not
    read."""
    found = high_mme("order-sign", drafts=[unconvertible_draft()], unread={ORDERS: DOWN})

    assert found.indicator == "info"
    assert found.detail.endswith("*Based on: today's draft orders; current medication orders could not be read.*")
