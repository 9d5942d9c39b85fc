"""A "remove the draft" suggestion names the draft as the EHR holds it: an order sent as DSTU2's MedicationOrder is
read as a MedicationRequest, and remembers the type it was sent as (`MedOrder.sent_type`), so its delete names
`MedicationOrder/<id>` while an R4 MedicationRequest sent beside it under the same id keeps its own type."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from builders import TODAY, med_request
from cds_support import hook_request, make_app

from guideline.checks.common import remove_draft
from guideline.record.readers import read_med_order

MORPHINE_ER_30 = "891888"  # morphine sulfate 30 MG Extended Release Oral Tablet
MORPHINE_ER_15 = "891881"  # morphine sulfate 15 MG Extended Release Oral Tablet
TZ = ZoneInfo("America/New_York")


def dstu2_order(code: str, order_id: str) -> dict[str, Any]:
    """A DSTU2 MedicationOrder draft, twice a day: dated by dateWritten, as DSTU2 has no authoredOn."""
    draft = med_request(code, draft=True, id=order_id, frequency=2, period=1, period_unit="d")
    draft["resourceType"] = "MedicationOrder"
    draft["dateWritten"] = draft.pop("authoredOn", None) or TODAY
    return draft


def test_an_order_remembers_the_type_it_was_sent_as() -> None:
    dstu2 = read_med_order(dstu2_order(MORPHINE_ER_30, "mo1"), True, TZ)
    r4 = read_med_order(med_request(MORPHINE_ER_15, draft=True, id="mo1"), True, TZ)
    assert (dstu2.ref, dstu2.sent_type) == ("MedicationRequest/mo1", "MedicationOrder")  # read as R4's order
    assert r4.sent_type is None
    assert remove_draft(dstu2, "morphine").resource_id == "MedicationOrder/mo1"
    assert remove_draft(r4, "morphine").resource_id == "MedicationRequest/mo1"


def test_drafts_of_both_types_under_one_id_are_each_removed_by_their_own_type(tmp_path: Path) -> None:
    """A gateway relaying a DSTU2 EHR's order beside an R4 one: both numbered 7, each deleted as the EHR holds it
    (before, the face renamed every draft whose id a MedicationOrder had, so the R4 order's delete was not found)."""
    body = hook_request(drafts=[dstu2_order(MORPHINE_ER_30, "7"), med_request(MORPHINE_ER_15, draft=True, id="7")])
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)
    assert response.status_code == 200
    deletes = {
        (suggestion["label"], action["resourceId"])
        for card in response.json["cards"]
        for suggestion in card.get("suggestions", [])
        for action in suggestion["actions"]
        if action["type"] == "delete"
    }
    assert deletes == {
        ("Remove the new morphine sulfate 30 MG Extended Release Oral Tablet order", "MedicationOrder/7"),
        ("Remove the new morphine sulfate 15 MG Extended Release Oral Tablet order", "MedicationRequest/7"),
    }
