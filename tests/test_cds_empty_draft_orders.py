"""An order hook whose `context.draftOrders` is present but holds no order (`{}`, a Bundle with no entries, `[]`): the
EHR sent nothing being ordered, so the checks of the orders being signed or selected had nothing to check. The call
is still answered (the chart's checks still run), and the data-incomplete card names the missing draft orders: an
empty answer read as "all clear" for an order nobody checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import days_ago, med_request
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft

OXY = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
NAMED = "draft orders (context.draftOrders)"
EMPTY = [
    {},
    {"resourceType": "Bundle"},
    {"resourceType": "Bundle", "type": "collection", "entry": []},
    [],
]
EMPTY_IDS = ["empty-object", "bundle-no-entry", "bundle-empty-entry", "empty-list"]


def _call(tmp_path: Path, hook: str, drafts: Any) -> Any:
    # A patient on a standing Epic oxycodone order (2 tablets every 4 hours: 90 MME/day), ordered 40 days ago.
    standing = med_request(OXY, id="eRx-standing", status="active", authored=days_ago(40), dose=2, period=4)
    body = hook_request(hook, prefetch=full_prefetch(hook, medsActive=bundle(standing)))
    body["context"]["draftOrders"] = drafts
    body["context"].pop("selections", None)
    return make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=body)


def _incomplete(response: Any) -> str:
    cards = [c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    return cards[0]["detail"] if cards else ""


@pytest.mark.parametrize("drafts", EMPTY, ids=EMPTY_IDS)
def test_an_order_sign_with_no_draft_order_names_it_and_still_answers(tmp_path: Path, drafts: Any) -> None:
    # Before: HTTP 200 with no card at all, read by the EHR as "all clear" for an order that was never checked.
    response = _call(tmp_path, "order-sign", drafts)
    assert response.status_code == 200
    detail = _incomplete(response)
    assert f"{NAMED}: the EHR sent no order being signed" in detail, detail
    assert "no order was checked" in detail


def test_an_order_select_with_no_draft_order_names_it(tmp_path: Path) -> None:
    response = _call(tmp_path, "order-select", {"resourceType": "Bundle", "type": "collection", "entry": []})
    assert response.status_code == 200
    assert f"{NAMED}: the EHR sent no order being selected" in _incomplete(response)


def test_an_order_sign_with_a_draft_order_does_not_name_the_draft_orders(tmp_path: Path) -> None:
    body = hook_request(drafts=[oxycodone_draft()])
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    assert NAMED not in _incomplete(response)


def test_draft_orders_that_are_no_object_or_list_stay_a_400(tmp_path: Path) -> None:
    response = _call(tmp_path, "order-sign", "MedicationRequest/1")
    assert response.status_code == 400 and response.json["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("drafts", EMPTY, ids=EMPTY_IDS)
def test_nothing_to_read_and_no_draft_order_names_both_in_the_412(tmp_path: Path, drafts: Any) -> None:
    # An Epic order-sign with no prefetch, no fhirServer and an empty draftOrders: nothing at all to evaluate, so 412.
    # Before: the OperationOutcome named only the chart's data, as if the order being signed had been sent and read.
    body = hook_request("order-sign", prefetch={})
    body["context"]["draftOrders"] = drafts
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 412
    outcome = response.json
    assert outcome["resourceType"] == "OperationOutcome"
    said = " ".join(issue["diagnostics"] for issue in outcome["issue"])
    assert f"{NAMED}: the EHR sent no order being signed" in said, said
    assert "active medication orders" in said and "the patient's demographics" in said, said
    assert all(issue["severity"] == "error" for issue in outcome["issue"])


def test_an_order_select_with_nothing_to_read_names_the_orders_being_selected(tmp_path: Path) -> None:
    body = hook_request("order-select", prefetch={})
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": []}
    body["context"]["selections"] = []
    response = make_app(tmp_path).test_client().post("/cds-services/order-select", json=body)
    assert response.status_code == 412
    said = " ".join(issue["diagnostics"] for issue in response.json["issue"])
    assert f"{NAMED}: the EHR sent no order being selected" in said, said


def test_a_patient_view_with_nothing_to_read_names_no_draft_orders(tmp_path: Path) -> None:
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/patient-view", json=hook_request("patient-view", prefetch={}))
    )
    assert response.status_code == 412
    assert NAMED not in " ".join(issue["diagnostics"] for issue in response.json["issue"])
