"""Record fields read on first use (slot_init's lazy fields) are read after the record's reading, outside its guard:
whatever shapes an EHR sends them, reading them never raises, and an order-sign call still runs every check, naming
the one resource it could not read."""

from __future__ import annotations

import copy
import json
import logging
import random
from typing import Any

import pytest
from builders import (
    ICD10,
    LOINC,
    PATIENT_ID,
    TZ,
    condition,
    days_ago,
    dispense,
    encounter,
    med_request,
    observation,
    service_request,
)
from cds_support import OXYCODONE_5, full_prefetch, hook_request, make_app, oxycodone_draft
from test_cds_fuzz import internal_error_logged

import guideline.record.model as model
from guideline.record import build_record, readers
from guideline.record.identity import actors_in, directory_by_url, directory_page
from guideline.record.slot_init import lazy_fields

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


# -- the fuzz: every lazy field, fed the shapes EHRs send wrongly ------------------------------------------------

SEED = 20261207
CALLS = 400  # full order-sign calls, a seeded sample of the cases below (the record is read for every case)
HOSTILE: tuple[Any, ...] = (
    None, "x", 5, "5", 1.5, 10**400, float("nan"), True, [], {}, [None], ["x", "y"], [[["deep"]]], "\u0000\u202e",
    "x" * 3000, "2026-02-30", "2026-13-45T99:99", "2026-05", "9999-12-31T23:59:59+14:00",
    {"reference": 5}, {"reference": ["Practitioner/dr1"]}, {"reference": {"reference": "Practitioner/dr1"}},
    {"reference": "#missing"}, {"reference": "#"}, {"reference": "urn:uuid:"}, {"reference": "PractitionerRole/"},
    {"reference": "http://"}, {"reference": "Practitioner?identifier=x"}, {"reference": "  "},
    {"identifier": "x"}, {"identifier": {"value": 5}}, {"identifier": {"system": ["x"], "value": "1"}},
    {"identifier": [{"system": NPI, "value": "1234567893"}]},
    {"reference": "PractitionerRole/role-1", "identifier": {"system": NPI, "value": ["1234567893"]}},
    {"agent": 5}, {"agent": {"reference": 5}}, {"agent": "x"}, {"agent": {"reference": "#pr"}},
    {"actor": 5}, [{"actor": "x"}], [{"actor": {"reference": 5}}], [{"actor": {"reference": "#x"}, "function": "x"}],
    [{"actor": {"reference": "Practitioner/dr1"}, "function": {"coding": [{"code": 5}]}}],
    [{"actor": {"reference": "Practitioner/dr1"}, "function": [{"coding": [{"code": "prescribing"}]}]}],
    [{"onBehalfOf": 5}], [{"onBehalfOf": {"reference": 5}}], [{"onBehalfOf": "Organization/ph1"}],
    {"coding": {"code": 1}}, {"coding": [{"code": 1, "system": 2}]}, {"coding": "x"}, {"text": 5},
    {"coding": [None, 5, "x"]}, [{"coding": [{"code": "FF"}]}, "x"],
    {"value": "ten", "unit": 5}, {"value": "120"}, {"value": [1]}, {"value": 10**400}, {"value": float("nan")},
    {"value": float("inf")}, {"value": True}, {"value": "1e999999"}, {"value": -0.0, "comparator": 5},
    [{"system": "a", "value": 5}], ["A1", "A2"], [{"value": ["x"]}], [{"value": {"v": 1}}], {"value": "x"},
    [{"high": "x"}], [{"high": {"value": "300"}}], [{"text": 5}], [{"text": "<"}], [{"text": "< 1e99999 ng"}],
    [{"text": "Cutoff: 9" + "9" * 3000}], [{"text": "<300.5.5 ng/mL"}], [{"high": {"value": 10**400}}], {"high": 5},
    {"start": 5, "end": [1]}, {"end": "2026-02-30"}, {"end": {"x": 1}},
)  # fmt: skip
# A reference as each kind an actor is looked up by: by `Type/id` (no look-up), contained, by role, by `urn:` fullUrl.
ACTORS = ("Practitioner/dr1", "#pr", "PractitionerRole/role-1", "urn:uuid:role-1")
_ORDER, _FILL, _RESULT, _PROBLEM, _VISIT, _SCREEN = 0, 1, 3, 4, 5, 6  # places in `_chart()`
# The elements each lazy field is read from, as (place in the chart, path): every lazy field of the record is here.
FEEDS: dict[tuple[str, str], tuple[tuple[int, tuple[Any, ...]], ...]] = {
    ("MedOrder", "authored_on"): ((_ORDER, ("authoredOn",)),),
    ("MedOrder", "course_of_therapy"): (
        (_ORDER, ("courseOfTherapyType",)), (_ORDER, ("courseOfTherapyType", "coding")),
    ),
    ("MedOrder", "identifiers"): (
        (_ORDER, ("identifier",)), (_ORDER, ("identifier", 0)), (_ORDER, ("identifier", 0, "value")),
    ),
    ("MedOrder", "requester"): (
        (_ORDER, ("requester",)), (_ORDER, ("requester", "reference")), (_ORDER, ("prescriber",)),
        (_ORDER, ("contained",)), (_ORDER, ("contained", 0)), (_ORDER, ("contained", 0, "identifier")),
        (_ORDER, ("contained", 0, "resourceType")), (_ORDER, ("contained", 0, "id")),
        (2, ("practitioner",)), (2, ("resourceType",)),
    ),
    ("Dispense", "numbers"): ((_FILL, ("identifier",)), (_FILL, ("identifier", 0))),
    ("Dispense", "performers"): (
        (_FILL, ("performer",)), (_FILL, ("performer", 0)), (_FILL, ("performer", 0, "actor")),
        (_FILL, ("dispenser",)), (_FILL, ("contained",)), (_FILL, ("contained", 0, "resourceType")),
    ),
    ("Dispense", "pharmacy"): ((_FILL, ("location",)), (_FILL, ("performer", 0, "actor", "reference"))),
    ("Dispense", "prescribers"): ((_FILL, ("performer", 0, "function")),),
    ("Dispense", "quantity"): ((_FILL, ("quantity",)), (_FILL, ("quantity", "value"))),
    ("Dispense", "supply_type"): ((_FILL, ("type",)), (_FILL, ("type", "coding"))),
    ("Dispense", "when_prepared"): ((_FILL, ("whenPrepared",)),),
    ("Observation", "reference_below"): ((_RESULT, ("referenceRange", 0, "text")),),
    ("Observation", "reference_high"): (
        (_RESULT, ("referenceRange",)), (_RESULT, ("referenceRange", 0)), (_RESULT, ("referenceRange", 0, "high")),
    ),
    ("Observation", "value_not_read"): ((_RESULT, ("valueString",)), (_RESULT, ("valueCodeableConcept",))),
    ("Observation", "flag_not_read"): ((_RESULT, ("interpretation",)),),
    ("Condition", "abatement_present"): ((_PROBLEM, ("abatementDateTime",)), (_PROBLEM, ("abatementString",))),
    ("Condition", "onset"): ((_PROBLEM, ("onsetDateTime",)), (_PROBLEM, ("onsetPeriod",))),
    ("Condition", "recorded_date"): ((_PROBLEM, ("recordedDate",)),),
    ("Encounter", "period_end"): ((_VISIT, ("period",)), (_VISIT, ("period", "end"))),
    ("ServiceRequest", "authored_on"): ((_SCREEN, ("authoredOn",)),),
    ("ServiceRequest", "occurrence"): ((_SCREEN, ("occurrenceDateTime",)),),
    ("ServiceRequest", "occurrence_end"): ((_SCREEN, ("occurrencePeriod", "end")),),
    ("ServiceRequest", "occurrence_start"): ((_SCREEN, ("occurrencePeriod",)),),
}  # fmt: skip
Case = tuple[int, tuple[Any, ...], Any, str]  # place, path, hostile value, actor reference


def _chart(actor: str) -> list[dict[str, Any]]:
    """A chart as Epic sends one, every element a lazy field is read from present: an order and its two like fills on
    one day (read to tell a fill sent twice), naming their prescriber and pharmacist by `actor`; a measured drug
    amount with its range; a problem with no clinicalStatus; a visit; a drug screen ordered; a resource of no type."""
    order = med_request(OXYCODONE_5, id="rx-1", authored=days_ago(40), course="continuous")
    order["requester"] = {"reference": actor}
    order["identifier"] = [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.798268", "value": "A1"}]
    order["contained"] = [
        {"resourceType": "Practitioner", "id": "pr", "identifier": [{"system": NPI, "value": "1234567893"}]}
    ]
    fills = _fills_by_role()
    for fill in fills:
        fill["authorizingPrescription"] = [{"reference": "MedicationRequest/rx-1"}]
        fill["whenPrepared"] = days_ago(11)
        fill["type"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "FF"}]}
        fill["performer"] = [{"actor": {"reference": actor}}]
        fill["location"] = {"reference": "Location/pharmacy-1"}
        fill["identifier"] = [{"system": "urn:oid:2.16.840.1.113883.3.7", "value": "RX-9"}]
        fill["contained"] = [
            {"resourceType": "Organization", "id": "x", "identifier": [{"system": NPI, "value": "1234567893"}]}
        ]
    role = {"resourceType": "PractitionerRole", "id": "role-1", "practitioner": {"reference": "Practitioner/dr1"}}
    result = observation("59673-4", when=days_ago(20), value_quantity=12)  # fentaNYL in urine, an amount
    result["referenceRange"] = [{"high": {"value": 1, "unit": "ng/mL"}, "text": "<1 ng/mL"}]
    problem = condition(ICD10, "G89.29", clinical=None)  # no clinicalStatus: whether it abated is read
    problem.update(onsetDateTime=days_ago(400), abatementDateTime=days_ago(5))
    visit = encounter(start=days_ago(3))
    visit["period"]["end"] = days_ago(2)
    screen = service_request(LOINC, "19295-5", authored=days_ago(2))
    screen.update(occurrenceDateTime=days_ago(1), occurrencePeriod={"start": days_ago(1), "end": days_ago(0)})
    unreadable = {"resourceType": ["Practitioner"], "id": "odd-1"}
    return [order, fills[0], role, result, problem, visit, screen, fills[1], unreadable]


def _cases() -> list[Case]:
    """Every hostile value at every element a lazy field is read from, with each kind of actor reference."""
    places = dict.fromkeys(place for feeds in FEEDS.values() for place in feeds)
    return [(where, path, value, actor) for where, path in places for value in HOSTILE for actor in ACTORS]


def _hostile_chart(case: Case) -> list[dict[str, Any]]:
    """The chart with the case's hostile value in place (a path whose parent was not sent: the chart unchanged)."""
    where, path, value, actor = case
    chart = _chart(actor)
    parent: Any = chart[where]
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = copy.deepcopy(value)
    return chart


def test_every_lazy_field_of_the_record_is_fuzzed():
    """A new lazy field is read outside the guard too: it must be fed the hostile shapes here."""
    declared = {
        (cls.__name__, name)
        for cls in vars(model).values()
        if isinstance(cls, type) and cls.__module__ == model.__name__
        for name in lazy_fields(cls)
    }
    assert declared == set(FEEDS)


def test_reading_a_lazy_field_never_raises_whatever_was_sent():
    """Each lazy field of every resource read, then each record shown (which reads them all again)."""
    failed = []
    for case in _cases():
        record = build_record(_hostile_chart(case), TZ, patient_id=PATIENT_ID)
        items = (*record.orders, *record.dispenses, *record.observations, *record.conditions, *record.encounters)
        for item in (*items, *record.service_requests):
            for name in lazy_fields(type(item)):
                try:
                    getattr(item, name)
                except Exception as error:  # noqa: BLE001 - every failure is listed, not the first alone
                    failed.append((type(item).__name__, name, type(error).__name__, repr(case)[:200]))
        assert repr(record)
    assert failed == []


def test_order_sign_with_hostile_lazy_elements_runs_every_check(client, caplog):
    """A seeded sample of the cases through a whole order-sign call: never a failed check, whatever a lazy field
    read; the one resource PainPlan could not read is named (the resource of no type, always)."""
    cases = random.Random(SEED).sample(_cases(), CALLS)
    for case in cases:
        answer = _order_sign(client, caplog, _hostile_chart(case))
        topics = [card["source"]["topic"]["code"] for card in answer["cards"]]
        assert "checks-not-run" not in topics, case
        assert "data-incomplete" in topics, case


@pytest.mark.parametrize("written", NO_TYPE_TEXT, ids=("list", "object"))
@pytest.mark.parametrize("chart", (_order_with_contained_prescriber, _fills_by_role), ids=lambda c: c.__name__)
def test_a_resource_of_no_type_leaves_the_pool_its_readers_walk(monkeypatch, written, chart):
    """Named unreadable by the record's reading, such a resource is out of the resources the record's pool hands
    every later reader (who is who among the chart's actors, read on first use): each reader then need not guard
    against a type that is no text, and the one resource is still named, once, with its id."""
    handed: list[Any] = []

    def spied(resources, *args, **kwargs):
        handed.extend(resource.get("resourceType") for resource in resources)
        return actors_in(resources, *args, **kwargs)

    monkeypatch.setattr(readers, "actors_in", spied)
    broken = {"resourceType": written, "id": "odd-1", "identifier": [{"system": NPI, "value": "1234567893"}]}
    record = build_record([*chart(), broken], TZ)
    # The lazy fields, read now: who is who among the chart's actors is worked out.
    assert [order.requester for order in record.orders] + [fill.performers for fill in record.dispenses]
    assert handed and all(kind is None or type(kind) is str for kind in handed), handed
    named = [p for p in record.problems if p.resource_id == "odd-1"]
    assert [(p.resource_type, p.reason) for p in named] == [("resource", "its resourceType is not a text value")]
