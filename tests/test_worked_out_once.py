"""Work one order-sign call needs more than once is done once: the partly read opioids (named by their own gap and
left out of the unknown-MME line beside it) and the PDMP reviews on record (last review, reviews dated ahead, unread
reviews)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builders import SNOMED, days_ago, med_request, observation
from cds_support import bundle, full_prefetch, hook_request, make_app
from test_partly_read_opioid_sedative import SOMA_CODEINE_CUT, ndc_only, ordered

from guideline import named_gaps
from guideline.checks import pdmp_review

OXYCODONE = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
REVIEW_FINDING = "461651000124104"  # Review of prescription drug monitoring program record done (situation)


def counted(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> list[int]:
    """Replace `module.name` by a wrapper that counts its calls; the list's length is the count."""
    calls: list[int] = []
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def test_one_order_sign_call_works_out_each_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    client = make_app(tmp_path).test_client()
    doubts = counted(monkeypatch, named_gaps, "_opioid_doubts_of")
    last = counted(monkeypatch, pdmp_review, "_last_review_of")
    rows = counted(monkeypatch, pdmp_review, "_review_rows_of")
    # A current codeine + carisoprodol product whose cut name was partly read, a PDMP review finding 120 days old
    # (out of the window, so the unread reviews are looked for too) and a new oxycodone order.
    prefetch = full_prefetch(
        "order-sign",
        medsActive=bundle(ordered(ndc_only(SOMA_CODEINE_CUT))),
        pdmpObs=bundle(observation(REVIEW_FINDING, system=SNOMED, when=days_ago(120))),
    )
    drafts = [med_request(OXYCODONE, draft=True, id="ox1", supply_days=3)]
    response = client.post(
        "/cds-services/order-sign", json=hook_request("order-sign", drafts=drafts, prefetch=prefetch)
    )
    assert response.status_code == 200
    cards = {c["source"]["topic"]["code"]: c["detail"] for c in response.json["cards"]}
    assert "ASA/CARISOPRO/CODEINE" in cards["data-incomplete"]
    assert "The last documented PDMP review was on 2026-02-15" in cards[pdmp_review.CHECK_ID]
    assert (len(doubts), len(last), len(rows)) == (1, 1, 1)
