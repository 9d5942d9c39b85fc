"""Record fields read on first use (slot_init's lazy fields) are read after the record's reading, outside its guard:
whatever shapes an EHR sends them, reading them never raises, and an order-sign call still runs every check, naming
the one resource it could not read."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from builders import days_ago, dispense, med_request
from cds_support import OXYCODONE_5, full_prefetch, hook_request, make_app, oxycodone_draft
from test_cds_fuzz import internal_error_logged

from guideline.record.identity import directory_by_url, directory_page

NPI = "http://hl7.org/fhir/sid/us-npi"
# A resourceType that is no text, as the plan page's fuzzer found one sent: `_read_all` names such a resource as
# unreadable. Read again where a prescriber or a pharmacy is looked up (`identity.actors_in`), it was a set's key.
NO_TYPE_TEXT: tuple[Any, ...] = (["Practitioner"], {"text": "Organization"})


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("lazy")).test_client()


def _order_with_contained_prescriber() -> list[dict[str, Any]]:
    """An active oxycodone order whose prescriber is contained in it, known by her NPI (a C-CDA conversion's), and a
    fill of it: who prescribed is read to place the fill in its prescriber's course."""
    order = med_request(OXYCODONE_5, id="rx-contained", authored=days_ago(40))
    order["requester"] = {"reference": "#pr"}
    order["contained"] = [
        {"resourceType": "Practitioner", "id": "pr", "identifier": [{"system": NPI, "value": "1234567893"}]}
    ]
    fill = dispense(OXYCODONE_5, days_ago(10))
    fill["authorizingPrescription"] = [{"reference": "MedicationRequest/rx-contained"}]
    return [order, fill]


def _fills_by_role() -> list[dict[str, Any]]:
    """Two like fills of one day, each naming its pharmacist by PractitionerRole: read to tell a fill sent twice."""
    fills = []
    for number in (1, 2):
        fill = dispense(OXYCODONE_5, days_ago(10))
        fill["id"] = f"fill-{number}"
        fill["quantity"] = {"value": 120, "unit": "tablet"}
        fill["performer"] = [{"actor": {"reference": "PractitionerRole/role-1"}}]
        fills.append(fill)
    return fills


def _order_sign(client: Any, caplog: Any, chart: list[dict[str, Any]]) -> dict[str, Any]:
    """The cards of an order-sign of `oxycodone_draft()` with `chart` as the active medications; no error logged."""
    entries = [{"resource": resource} for resource in chart]
    prefetch = full_prefetch("order-sign", medsActive={"resourceType": "Bundle", "type": "searchset", "entry": entries})
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.post(
            "/cds-services/order-sign",
            data=json.dumps(hook_request("order-sign", drafts=[oxycodone_draft()], prefetch=prefetch)),
            content_type="application/json",
        )
    assert response.status_code == 200
    assert not internal_error_logged(caplog.records), [r.getMessage() for r in caplog.records]
    return response.json


@pytest.mark.parametrize("written", NO_TYPE_TEXT, ids=("list", "object"))
@pytest.mark.parametrize("chart", (_order_with_contained_prescriber, _fills_by_role), ids=lambda c: c.__name__)
def test_a_resource_of_no_type_beside_an_actor_looked_up_costs_no_check(client, caplog, written, chart):
    """A resource whose resourceType is no text is named as unreadable by the record's reading. Beside an order whose
    prescriber is contained, or fills naming a PractitionerRole, it was read again when that actor was looked up, on
    first use, after the guard: the engine failed and 13 checks were reported as not run. Now it is skipped there."""
    broken = {"resourceType": written, "id": "odd-1", "identifier": [{"system": NPI, "value": "1234567893"}]}
    answer = _order_sign(client, caplog, [*chart(), broken])
    topics = [card["source"]["topic"]["code"] for card in answer["cards"]]
    assert "checks-not-run" not in topics
    assert any("MME/day" in card["summary"] for card in answer["cards"])  # the dose check ran
    incomplete = [card for card in answer["cards"] if "could not be read" in card["summary"]]
    assert incomplete and "resourceType" in incomplete[0]["detail"]  # the one resource is named


@pytest.mark.parametrize("written", NO_TYPE_TEXT, ids=("list", "object"))
def test_the_directory_of_a_prefetch_skips_an_entry_of_no_type(written):
    """An entry under a `urn:` fullUrl whose resourceType is no text names no Practitioner: it is left out of the
    directory (its resource is named where the record is read), the entries beside it kept."""
    role = {"resourceType": "PractitionerRole", "practitioner": {"reference": "Practitioner/dr1"}}
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"fullUrl": "urn:uuid:odd", "resource": {"resourceType": written}},
            {"fullUrl": "urn:uuid:role", "resource": role},
        ],
    }
    assert [url for url, _ in directory_by_url([bundle], None)] == ["urn:uuid:role"]
    assert [entry["fullUrl"] for entry in directory_page(bundle)["entry"]] == ["urn:uuid:role"]
