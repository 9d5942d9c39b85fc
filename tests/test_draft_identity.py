"""A Medication the draft orders Bundle holds under the fullUrl a draft names is read, and not named as unread."""

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
