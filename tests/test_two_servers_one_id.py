"""Two servers' resources with one id: an HIE feed and the EHR both send MedicationRequest/123, for the same drug on
different dates. Ids are only unique on their own server, but pooling dropped the entries' fullUrls, so the two were
read as two versions of one order: one was dropped (or named "sent twice" with nothing telling which is newer), and
the opioid history lost an order. The fullUrl's base is now kept through pooling where it is another server's, and
resources from different bases are different resources; copies from one server are still versions of one."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from builders import TZ, days_ago, med_request
from cds_support import full_prefetch, hook_request, make_app, oxycodone_draft

from guideline.record import build_record, resources_in

OXY = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
EHR = "https://fhir.ehr.example/api/FHIR/R4"
HIE = "https://hie.example/fhir"


def _order(authored: str, status: str = "completed", **meta: str) -> dict[str, Any]:
    order = med_request(OXY, id="123", status=status, authored=authored, display="oxycodone HCl 5 MG Oral Tablet")
    return {**order, "meta": meta} if meta else order


def _entry(base: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": "match"},
    }


def _searchset(*entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "total": len(entries),
        "entry": list(entries),
    }


EHR_ORDER = _order(f"{days_ago(150)}T09:12:00-05:00")  # the EHR's order 123, five months ago
HIE_ORDER = _order(f"{days_ago(40)}T14:30:00-04:00")  # another practice's order 123, six weeks ago, via the HIE


def _authored(record) -> list[str]:
    return sorted(o.authored_on.date().isoformat() for o in record.orders)


# ---- the record --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("server", [EHR, None], ids=["ehr-server-known", "no-server"])
def test_two_servers_orders_with_one_id_in_one_bundle_are_two_orders(server: str | None):
    merged = _searchset(_entry(EHR, EHR_ORDER), _entry(HIE, HIE_ORDER))
    record = build_record([merged], TZ, fhir_server=server)
    assert _authored(record) == [days_ago(150), days_ago(40)]
    assert record.problems == ()


def test_two_servers_orders_pooled_apart_and_built_from_pooled_resources_are_two_orders():
    # As a hook pools its prefetch: each Bundle walked alone, the resources built as they are (no fullUrls).
    pooled = [
        *resources_in(_searchset(_entry(EHR, EHR_ORDER)), EHR),
        *resources_in(_searchset(_entry(HIE, HIE_ORDER)), EHR),
    ]
    record = build_record(pooled, TZ, pooled=True, fhir_server=EHR)
    assert _authored(record) == [days_ago(150), days_ago(40)]
    assert record.problems == ()


def test_two_versions_from_one_server_are_still_one_order():
    stopped = _order(f"{days_ago(150)}T09:12:00-05:00", "stopped", lastUpdated=f"{days_ago(10)}T08:00:00Z")
    active = _order(f"{days_ago(150)}T09:12:00-05:00", "active", lastUpdated=f"{days_ago(150)}T09:12:00Z")
    for server in (EHR, None):
        record = build_record([_searchset(_entry(EHR, active), _entry(EHR, stopped))], TZ, fhir_server=server)
        assert [o.status for o in record.orders] == ["stopped"] and record.problems == ()
    # a copy sent with no fullUrl beside one on the EHR's server is the same order too
    bare = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": stopped}]}
    record = build_record([_searchset(_entry(EHR, active)), bare], TZ, fhir_server=EHR)
    assert [o.status for o in record.orders] == ["stopped"] and record.problems == ()


@pytest.mark.parametrize("server", ["https://fhir.ehr.example/proxy/R4", "http://FHIR.ehr.example/api/FHIR/R4/"])
def test_the_ehr_s_own_fullurls_by_another_path_or_scheme_are_still_its_own(server: str):
    # A proxy's base, or the EHR writing http for https: still the EHR's host, so still one order in two versions.
    stopped = _order(f"{days_ago(150)}T09:12:00-05:00", "stopped", lastUpdated=f"{days_ago(10)}T08:00:00Z")
    active = _order(f"{days_ago(150)}T09:12:00-05:00", "active", lastUpdated=f"{days_ago(150)}T09:12:00Z")
    pooled = [*resources_in(_searchset(_entry(EHR, active)), server), stopped]  # the second fetched, no fullUrl
    record = build_record(pooled, TZ, pooled=True, fhir_server=server)
    assert [o.status for o in record.orders] == ["stopped"] and record.problems == ()


def test_the_same_order_relayed_unchanged_by_another_server_is_still_read_once():
    # An HIE that passes the EHR's own order on as it is: counted twice, its dose would be twice in the MME total.
    record = build_record([_searchset(_entry(EHR, EHR_ORDER), _entry(HIE, dict(EHR_ORDER)))], TZ, fhir_server=EHR)
    assert _authored(record) == [days_ago(150)] and record.problems == ()


def test_the_newer_version_relayed_unchanged_by_another_server_is_still_the_one_order():
    active = _order(f"{days_ago(150)}T09:12:00-05:00", "active", lastUpdated=f"{days_ago(150)}T09:12:00Z")
    stopped = _order(f"{days_ago(150)}T09:12:00-05:00", "stopped", lastUpdated=f"{days_ago(10)}T08:00:00Z")
    relayed = {**stopped, "meta": {"lastUpdated": f"{days_ago(9)}T02:00:00Z", "source": "#hie-feed"}}
    merged = _searchset(_entry(EHR, active), _entry(EHR, stopped), _entry(HIE, relayed))
    record = build_record([merged], TZ, fhir_server=EHR)
    assert [o.status for o in record.orders] == ["stopped"] and record.problems == ()


def test_pooling_marks_only_resources_of_another_server():
    ehr, hie = resources_in(_searchset(_entry(EHR, EHR_ORDER), _entry(HIE, HIE_ORDER)), EHR)
    assert ehr is EHR_ORDER  # the EHR's own resources are pooled as they are, not copied
    assert hie is not HIE_ORDER and HIE_ORDER.get("painplan:source") is None  # the EHR's JSON is never changed
    assert resources_in(_searchset(_entry(HIE, HIE_ORDER)))[0] is HIE_ORDER  # no server known: nothing to tell


# ---- the hook ------------------------------------------------------------------------------------------------------


def _sign(tmp_path: Path, **prefetch: Any) -> dict[str, Any]:
    body = hook_request(drafts=[oxycodone_draft()], prefetch=full_prefetch("order-sign", **prefetch), fhirServer=EHR)
    return make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body).json


def _all_text(answer: dict[str, Any]) -> str:
    return "\n".join(f"{c['summary']}\n{c.get('detail', '')}" for c in answer["cards"])


def test_an_order_from_the_hie_under_its_own_key_is_not_taken_for_a_version_of_the_ehr_s(tmp_path: Path):
    answer = _sign(
        tmp_path,
        medsRecent=_searchset(_entry(EHR, EHR_ORDER)),
        hieMedications=_searchset(_entry(HIE, HIE_ORDER)),  # a site's own prefetch key, filled from its HIE
    )
    assert "sent twice" not in _all_text(answer)


def test_an_hie_gateway_s_merged_bundle_keeps_both_orders_in_the_hook(tmp_path: Path):
    answer = _sign(tmp_path, medsRecent=_searchset(_entry(EHR, EHR_ORDER), _entry(HIE, HIE_ORDER)))
    assert "sent twice" not in _all_text(answer)
