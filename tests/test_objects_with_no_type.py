"""An object with no `resourceType` where resources are pooled: an item of `context.draftOrders` sent as a list (as
hand-built integrations send the drafts), the draftOrders object itself when it is a Bundle that lost its type, or a
prefetch value `painplan mme` reads from a CDS Hooks request. Each was skipped without a word: an order-sign of a 90
MME/day oxycodone draft answered with no card at all, "all clear". Each is now named, and the rest still read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from builders import TZ
from cds_support import full_prefetch, hook_request, make_app, oxycodone_draft

from guideline.record import build_record
from smart_app.cli import main


def _typeless(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in resource.items() if key != "resourceType"}


def _sign(tmp_path: Path, drafts: Any) -> list[dict[str, Any]]:
    body = hook_request(drafts=[], prefetch=full_prefetch("order-sign"))
    body["context"]["draftOrders"] = drafts
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["cards"]


def _incomplete(cards: list[dict[str, Any]]) -> str:
    return next(c["detail"] for c in cards if c["source"]["topic"]["code"] == "data-incomplete")


def test_a_draft_with_no_resource_type_in_a_list_of_drafts_is_named_on_the_card(tmp_path: Path):
    cards = _sign(tmp_path, [_typeless(oxycodone_draft())])
    assert "draft order 1" in _incomplete(cards) and "no resourceType" in _incomplete(cards)


def test_a_typeless_draft_beside_a_readable_one_leaves_the_readable_one_checked(tmp_path: Path):
    cards = _sign(tmp_path, [oxycodone_draft(), _typeless({**oxycodone_draft(), "id": "draft-oxy-2"})])
    assert "high-mme" in [c["source"]["topic"]["code"] for c in cards]
    assert "draft order 2" in _incomplete(cards)


def test_a_draft_orders_bundle_that_lost_its_resource_type_is_named(tmp_path: Path):
    cards = _sign(tmp_path, {"type": "collection", "entry": [{"resource": oxycodone_draft()}]})
    assert "draft order 1" in _incomplete(cards) and "no resourceType" in _incomplete(cards)


def test_the_record_names_a_typeless_item_of_a_list_and_reads_the_rest():
    record = build_record([{"id": "obs-1", "status": "final"}], TZ, draft_orders=[oxycodone_draft()])
    assert [o.id for o in record.orders] == ["draft-oxy"]
    [problem] = record.problems
    assert "no resourceType" in problem.reason and problem.position == "patient data item 1"


def test_painplan_mme_names_a_prefetch_value_that_is_no_resource(tmp_path: Path, capsys):
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign"))
    body["prefetch"]["medsActive"] = {"id": "rx-80", "medication": "oxycodone 80 mg", "status": "active"}
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    code = main(["mme", str(path), "--today", "2026-06-15"])
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert code == 3 and report["current_complete"] is False
    [unread] = report["unread"]
    assert "no resourceType" in unread["why"]


def test_painplan_mme_names_a_prefetch_that_is_no_object(tmp_path: Path, capsys):
    # A prefetch sent as a list of its values: read as no prefetch at all, the total was the draft's alone.
    body = hook_request(drafts=[oxycodone_draft()], prefetch={})
    body["prefetch"] = [{"resourceType": "Bundle", "type": "searchset", "entry": []}]
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    code = main(["mme", str(path), "--today", "2026-06-15"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3 and report["current_complete"] is False
    [unread] = report["unread"]
    assert "prefetch" in unread["why"] and "not an object" in unread["why"]
