"""Every draft order being signed is counted, and a draft's doubtful identity (an id two drafts share, a subject
that is another patient) is named on the data-incomplete card; a Medication the draft Bundle resolves is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import RXNORM
from cds_support import OXYCODONE_5, hook_request, make_app, oxycodone_draft, topics

MED_URL = "urn:uuid:22222222-2222-2222-2222-222222222222"


def _cards(tmp_path: Path, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    return response.json["cards"]


def _incomplete(cards: list[dict[str, Any]]) -> str:
    found = [c["detail"] for c in cards if c["source"]["topic"]["code"] == "data-incomplete"]
    return found[0] if found else ""


def _high_dose(cards: list[dict[str, Any]]) -> str:
    return next(c["summary"] for c in cards if c["source"]["topic"]["code"] == "high-mme")


def test_two_differing_drafts_sharing_an_id_are_both_counted_and_the_clash_named(tmp_path: Path) -> None:
    # An EHR numbering drafts per basket: 1 tab q6h (30 MME) and 4 tabs q4h (180 MME), both "draft-oxy".
    low, high = oxycodone_draft(dose=1, every_hours=6), oxycodone_draft(dose=4, every_hours=4)
    cards = _cards(tmp_path, hook_request(drafts=[low, high]))
    assert "210" in _high_dose(cards)  # both are being signed, as the same pair without ids counts
    assert (
        "- MedicationRequest/draft-oxy (draft orders 1 and 2): two draft orders being signed share this id but say "
        "different things, so both were counted; check that each is meant to be signed\n"
    ) in _incomplete(cards)


def test_a_draft_sent_twice_unchanged_is_counted_once_and_not_named(tmp_path: Path) -> None:
    # As an unchanged copy in the prefetch: one order sent twice, nothing left unread.
    cards = _cards(tmp_path, hook_request(drafts=[oxycodone_draft(), oxycodone_draft()]))
    assert "90" in _high_dose(cards) and "180" not in _high_dose(cards)
    assert "draft-oxy" not in _incomplete(cards)


def test_a_draft_about_another_patient_is_counted_and_named(tmp_path: Path) -> None:
    draft = {**oxycodone_draft(), "subject": {"reference": "Patient/p2"}}
    cards = _cards(tmp_path, hook_request(drafts=[draft]))
    assert "90" in _high_dose(cards)  # the clinician is signing it in this chart
    detail = _incomplete(cards)
    assert (
        "- MedicationRequest/draft-oxy (draft order 1): it is about another patient than the one in context, but "
        "it is being signed in this chart, so it was counted; check that it is meant for this patient\n"
    ) in detail
    assert "p2" not in detail  # another patient's id is theirs: never shown


def test_a_medication_the_draft_bundle_holds_under_the_referenced_urn_is_not_named(tmp_path: Path) -> None:
    order = {k: v for k, v in oxycodone_draft().items() if k != "medicationCodeableConcept"}
    order["medicationReference"] = {"reference": MED_URL}
    medication = {
        "resourceType": "Medication",
        "id": "m1",
        "code": {"coding": [{"system": RXNORM, "code": OXYCODONE_5}]},
    }
    body = hook_request()
    body["context"]["draftOrders"] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:11111111-1111-1111-1111-111111111111", "resource": order},
            {"fullUrl": MED_URL, "resource": medication},
        ],
    }
    cards = _cards(tmp_path, body)
    assert "90" in _high_dose(cards)
    assert "data-incomplete" not in topics({"cards": cards}), _incomplete(cards)


def test_a_draft_naming_a_medication_by_a_urn_the_bundle_does_not_hold_is_still_named(tmp_path: Path) -> None:
    order = {k: v for k, v in oxycodone_draft().items() if k != "medicationCodeableConcept"}
    order["medicationReference"] = {"reference": MED_URL}
    cards = _cards(tmp_path, hook_request(drafts=[order]))
    assert "not a Medication id" in _incomplete(cards)
