"""The data-incomplete card names a urine drug test result of unknown status as the service answers it."""

from __future__ import annotations

from builders import observation
from cds_support import bundle, full_prefetch, hook_request, make_app, oxycodone_draft


def test_a_drug_test_of_unknown_status_is_named_on_the_data_incomplete_card(tmp_path) -> None:
    # A positive fentanyl of status "unknown" was dropped before any reading: no card and no word on any card.
    result = observation("100437-3", when="2026-06-01T10:00:00Z", value_string="Positive", status="unknown")
    prefetch = full_prefetch("order-sign", udsLabs=bundle(result))
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/order-sign", json=hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    )
    incomplete = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete")
    assert "2026-06-01, status unknown" in incomplete["detail"]
    assert "of unknown date or status" in incomplete["detail"]
