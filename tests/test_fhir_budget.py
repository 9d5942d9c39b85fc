"""One memory budget per hook call: all its FHIR queries together read at most so many bytes, then are cut off."""

from __future__ import annotations

import json
import re

import responses
from cds_support import hook_request, oxycodone_draft

from cds_hooks.fhir_client import BUDGET_SPENT, ByteBudget, FhirClient
from cds_hooks.service import run_hook
from smart_app.config import load_settings

BASE = "https://ehr.test/fhir"
KB = 1024


def huge_page(kilobytes: int, *, with_next: bool = True) -> bytes:
    padding = "x" * 200
    count = kilobytes * KB // 320
    entries = [
        {"resource": {"resourceType": "Observation", "id": f"o{n}", "note": [{"text": padding}]}} for n in range(count)
    ]
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
    if with_next:
        bundle["link"] = [{"relation": "next", "url": BASE + "/Observation?page=next"}]
    return json.dumps(bundle).encode()


def test_the_budget_is_shared_by_every_query_and_never_overdrawn():
    budget = ByteBudget(100)
    assert budget.take(60) and not budget.take(50)
    assert budget.spent and not budget.take(1)


@responses.activate
def test_parallel_huge_answers_read_no_more_than_the_budget_and_say_they_were_cut():
    page = huge_page(300)
    responses.add_callback(responses.GET, re.compile(re.escape(BASE) + ".*"), callback=lambda _r: (200, {}, page))
    budget = ByteBudget(512 * KB)
    client = FhirClient(BASE, page_cap=10, budget=budget)
    results = client.fetch_all({f"q{n}": f"Observation?code={n}" for n in range(8)}, 30)
    assert budget.used <= budget.limit
    cut = [r for r in results.values() if r.error == BUDGET_SPENT]
    assert len(cut) >= 7  # at most one query got a whole page in before the budget ran out
    assert all(not r.ok for r in cut)


@responses.activate
def test_a_declared_length_beyond_the_budget_is_refused_before_reading():
    page = huge_page(300, with_next=False)
    responses.add(responses.GET, BASE + "/Observation", body=page, headers={"Content-Length": str(len(page))})
    client = FhirClient(BASE, budget=ByteBudget(64 * KB))
    result = client.fetch_all({"labs": "Observation"}, 30)["labs"]
    assert result.error == BUDGET_SPENT and result.resources == ()


@responses.activate
def test_a_hook_call_against_a_hostile_fhir_server_still_answers_and_names_what_was_cut():
    page = huge_page(200)
    responses.add_callback(responses.GET, re.compile(re.escape(BASE) + ".*"), callback=lambda _r: (200, {}, page))
    settings = load_settings(env={}, today="2026-06-15", fhir_budget_bytes=256 * KB)
    body = hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True)
    body["fhirServer"] = BASE
    result = run_hook("order-sign", body, settings.cds)
    assert result.status == 200
    cards = result.body["cards"]
    incomplete = [c for c in cards if c["source"]["topic"]["code"] == "data-incomplete"]
    assert incomplete and "memory budget" in incomplete[0]["detail"]
    assert "active medication orders: cut off" in incomplete[0]["detail"]
    assert any(c["source"]["topic"]["code"] == "high-mme" for c in cards)  # the draft is still evaluated
