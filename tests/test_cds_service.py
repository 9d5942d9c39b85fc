"""Service calls end to end (standards 5 #5, #6, #14–#25): cards, prefetch semantics, FHIR fallback, budget."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from builders import PATIENT_ID, med_request, patient
from cds_support import (
    AMOXICILLIN,
    FHIR,
    OXYCODONE_5,
    OXYCODONE_10,
    bundle,
    db,
    full_prefetch,
    hook_request,
    make_app,
    oxycodone_draft,
    raising,
    topics,
)

from cds_hooks import store
from cds_hooks.cards import empty_paths


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def post(app, body, service="order-sign"):
    return app.test_client().post(f"/cds-services/{service}", json=body)


def fhir_mock(resources_by_type: dict | None = None, status: int = 200):
    """A mock FHIR server answering every search and read; returns nothing unless told."""
    resources_by_type = resources_by_type or {}

    def answer(request):
        path = urlsplit(request.url).path[len("/fhir/") :]
        kind = path.split("/")[0]
        if status != 200:
            return status, {}, json.dumps({"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]})
        if "/" in path:
            found = resources_by_type.get(path)
            return (200, {}, json.dumps(found)) if found else (404, {}, "{}")
        return 200, {}, json.dumps(bundle(*resources_by_type.get(kind, [])))

    responses.add_callback(responses.GET, __import__("re").compile(FHIR + "/.*"), callback=answer)


def test_high_mme_order_sign_gives_a_high_mme_card(app):
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "high-mme" in topics(response.json)
    high = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert high["indicator"] == "critical" and "90" in high["summary"]
    assert empty_paths(response.json) == []


def test_active_orders_from_prefetch_add_to_the_draft(app):
    active = med_request(OXYCODONE_10, id="act1", dose=1, period=12)  # 20 mg = 30 MME (another product: it adds)
    draft = oxycodone_draft(dose=1, every_hours=4)  # 6 tablets = 45 MME → 75 total: a warning
    body = hook_request(drafts=[draft], prefetch=full_prefetch("order-sign", medsActive=bundle(active)))
    high = next(c for c in post(app, body).json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert high["indicator"] == "warning" and "75" in high["summary"]


def test_non_opioid_order_gives_exactly_empty_cards(app):
    draft = med_request(AMOXICILLIN, draft=True, id="amox", display="amoxicillin 500 MG Oral Capsule")
    response = post(app, hook_request(drafts=[draft]))
    assert response.status_code == 200 and response.json == {"cards": []}


def test_stu3_dose_shape_gives_the_same_cards(app):
    r4 = oxycodone_draft()
    stu3 = json.loads(json.dumps(r4))
    dosage = stu3["dosageInstruction"][0]
    dosage["doseQuantity"] = dosage.pop("doseAndRate")[0]["doseQuantity"]
    first = post(app, hook_request(drafts=[r4])).json
    second = post(app, hook_request(drafts=[stu3])).json
    assert [c["summary"] for c in first["cards"]] == [c["summary"] for c in second["cards"]]


def test_sandbox_shaped_draft_degrades_gracefully(app):
    draft = oxycodone_draft()
    draft["category"] = draft["category"][0]  # an object, not a list
    draft.pop("intent")
    draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = {"value": 2, "code": "{pill}"}
    body = hook_request(drafts=[draft])
    body["context"]["draftOrders"].pop("type", None)
    assert post(app, body).status_code == 200


def test_order_select_and_patient_view_answer(app):
    select = post(app, hook_request("order-select", drafts=[oxycodone_draft()]), "order-select")
    assert select.status_code == 200 and "high-mme" in topics(select.json)
    view = post(app, hook_request("patient-view"), "patient-view")
    assert view.status_code == 200 and "high-mme" not in topics(view.json)


@responses.activate
def test_absent_prefetch_is_fetched_with_the_bearer_token(app):
    active = med_request(OXYCODONE_10, id="act1", dose=1, period=12)  # 30 MME, another product than the draft
    fhir_mock({"Patient/p1": patient(), "MedicationRequest": [active]})
    body = hook_request(drafts=[oxycodone_draft(dose=1, every_hours=4)], prefetch={}, fhir=True)
    response = post(app, body)
    assert response.status_code == 200
    assert responses.calls and all(c.request.headers["Authorization"] == "Bearer tok-123" for c in responses.calls)
    paths = {urlsplit(c.request.url).path for c in responses.calls}
    assert "/fhir/Patient/p1" in paths and "/fhir/MedicationRequest" in paths and "/fhir/Condition" in paths
    query = next(parse_qs(urlsplit(c.request.url).query) for c in responses.calls if "status=active" in c.request.url)
    assert query["patient"] == [PATIENT_ID]
    high = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "75" in high["summary"]
    assert "data-incomplete" not in topics(response.json)


@responses.activate
def test_null_prefetch_is_not_refetched_and_partial_prefetch_fetches_only_the_rest(app):
    fhir_mock()
    prefetch = full_prefetch("order-sign", medsActive=None)
    del prefetch["conditions"]
    post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True))
    assert [urlsplit(c.request.url).path for c in responses.calls] == ["/fhir/Condition"]


@responses.activate
def test_operation_outcome_prefetch_is_fetched_again(app):
    fhir_mock()
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}
    in_bundle = bundle({"resourceType": "Observation", "id": "o1"}, outcome)
    prefetch = full_prefetch("order-sign", udsLabs=outcome, pdmpObs=in_bundle)
    response = post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True))
    assert response.status_code == 200
    assert sorted(parse_qs(urlsplit(c.request.url).query).get("category", ["pdmp"])[0] for c in responses.calls) == [
        "laboratory",
        "pdmp",
    ]


@responses.activate
def test_prefetched_bundle_with_next_link_is_followed_with_the_token(app):
    # Oxycodone 10 mg every 12 hours, 30 MME each: another product than the 5 mg draft, so all three add.
    fhir_mock({"MedicationRequest": [med_request(OXYCODONE_10, id="act2", dose=1, period=12)]})
    page_one = bundle(med_request(OXYCODONE_10, id="act1", dose=1, period=12))
    page_one["link"] = [{"relation": "next", "url": f"{FHIR}/MedicationRequest?page=2"}]
    body = hook_request(
        drafts=[oxycodone_draft(dose=1, every_hours=4)],
        prefetch=full_prefetch("order-sign", medsActive=page_one),
        fhir=True,
    )
    response = post(app, body)
    assert [c.request.url for c in responses.calls] == [f"{FHIR}/MedicationRequest?page=2"]
    assert responses.calls[0].request.headers["Authorization"] == "Bearer tok-123"
    high = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "105" in high["summary"]  # 30 + 30 + 45


@responses.activate
def test_epic_shaped_draft_reads_the_medication_and_uses_the_calculated_mg_dose(app):
    long_id = "e" + "Ab3.x-" * 32 + "z"  # 194 characters
    assert len(long_id) == 194
    medication = {
        "resourceType": "Medication",
        "id": "med-epic-1",
        "code": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": OXYCODONE_5}],
            "text": "OXYCODONE HCL 5 MG PO TABS",
        },
    }
    fhir_mock({"Medication/med-epic-1": medication})
    epic_type = "http://epic.com/CodeSystem/dose-rate-type"
    draft = {
        "resourceType": "MedicationRequest",
        "id": long_id,
        "status": "draft",
        "intent": "order",
        "category": [{"coding": [{"code": "outpatient"}]}],
        "subject": {"reference": f"Patient/{PATIENT_ID}", "display": "Alex"},
        "requester": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason"}]},
        "medicationReference": {"reference": "Medication/med-epic-1", "display": "OXYCODONE HCL 5 MG PO TABS"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
                "doseAndRate": [
                    {
                        "type": {"coding": [{"system": epic_type, "code": "calculated"}]},
                        "doseQuantity": {"value": 10, "unit": "mg", "code": "mg"},
                    },
                    {
                        "type": {"coding": [{"system": epic_type, "code": "admin-amount"}]},
                        "doseQuantity": {"value": 2, "unit": "tablet", "code": "{tbl}"},
                    },
                    {
                        "type": {"coding": [{"system": epic_type, "code": "ordered"}]},
                        "doseQuantity": {"value": 10, "unit": "mg", "code": "mg"},
                    },
                ],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "code": "d"}},
    }
    body = hook_request(drafts=[draft], prefetch={}, fhir=True)
    body["context"]["draftOrders"]["type"] = "collection"
    response = post(app, body)
    assert response.status_code == 200
    assert any(urlsplit(c.request.url).path == "/fhir/Medication/med-epic-1" for c in responses.calls)
    high = next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "90" in high["summary"]  # 10 mg × 6/day × 1.5
    delete = high["suggestions"][0]["actions"][0]
    assert delete["resourceId"] == f"MedicationRequest/{long_id}"


def test_no_prefetch_and_no_fhir_server_is_412_when_nothing_can_be_read(app):
    response = post(app, hook_request("patient-view", prefetch={}), "patient-view")
    assert response.status_code == 412
    assert response.json["resourceType"] == "OperationOutcome"
    assert "active medication orders" in response.json["issue"][0]["diagnostics"]


@responses.activate
def test_all_callbacks_401_is_412_in_time(app):
    fhir_mock(status=401)
    started = time.monotonic()
    response = post(app, hook_request("patient-view", prefetch={}, fhir=True), "patient-view")
    assert response.status_code == 412 and time.monotonic() - started < 3


def test_draft_orders_alone_still_get_cards_and_a_data_incomplete_card(app):
    response = post(app, hook_request(drafts=[oxycodone_draft()], prefetch={}))
    assert response.status_code == 200
    assert topics(response.json)[0] == "high-mme" and topics(response.json)[-1] == "data-incomplete"
    incomplete = response.json["cards"][-1]
    assert incomplete["indicator"] == "info" and "active medication orders" in incomplete["detail"]


@responses.activate
def test_slow_fhir_server_is_cut_off_by_the_budget_and_named_in_a_data_incomplete_card(tmp_path):
    app = make_app(tmp_path, fhir_timeout=0.5)
    released = threading.Event()

    def slow(_request):
        released.wait(2)
        return 200, {}, json.dumps(bundle())

    responses.add_callback(responses.GET, __import__("re").compile(FHIR + "/.*"), callback=slow)
    prefetch = full_prefetch("order-sign")
    del prefetch["medsActive"]
    started = time.monotonic()
    try:
        response = post(app, hook_request(drafts=[oxycodone_draft()], prefetch=prefetch, fhir=True))
        assert time.monotonic() - started < 1.5
    finally:
        # The abandoned query still waits in `slow`: let it answer and be recorded here, not in a later test's mock.
        released.set()
        deadline = time.monotonic() + 10
        while not responses.calls and time.monotonic() < deadline:
            time.sleep(0.01)
    assert response.status_code == 200
    assert topics(response.json)[0] == "high-mme" and topics(response.json)[-1] == "data-incomplete"
    assert "active medication orders: timed out" in response.json["cards"][-1]["detail"]


@responses.activate
def test_no_token_from_the_sandbox_means_unauthenticated_reads(app):
    fhir_mock()
    post(app, hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True, token=None))
    assert responses.calls and all("Authorization" not in c.request.headers for c in responses.calls)


def test_issued_cards_are_remembered_for_feedback(app):
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    card = response.json["cards"][0]
    issued = store.find_issued(db(app), card["uuid"])
    assert issued.check_id == "high-mme" and issued.patient_id == PATIENT_ID
    assert issued.user_id == "Practitioner/dr1" and issued.service == "order-sign" and issued.indicator == "critical"


def test_engine_failure_costs_cards_not_the_call(app, monkeypatch):
    import cds_hooks.service

    monkeypatch.setattr(cds_hooks.service, "evaluate", raising(RuntimeError("bug")))
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert response.status_code == 200 and topics(response.json) == ["checks-not-run"]
    assert "High total daily opioid dose" in response.json["cards"][0]["detail"]


def test_concurrent_calls_do_not_mix_patients(app):
    from concurrent.futures import ThreadPoolExecutor

    def call(n: int):
        body = hook_request(drafts=[oxycodone_draft(dose=2 + n % 2)])
        body["context"]["patientId"] = f"p{n}"
        response = app.test_client().post("/cds-services/order-sign", json=body)
        card = response.json["cards"][0]
        return n, store.find_issued(db(app), card["uuid"]).patient_id, card["summary"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(24)))
    assert all(patient_id == f"p{n}" for n, patient_id, _ in results)
    assert all(("90" in s) == (n % 2 == 0) for n, _, s in results)


@responses.activate
def test_medication_references_never_steer_the_token_outside_the_fhir_base(app):
    # Found in review: "Medication/../../x" kept its last two segments ("../x") and was joined onto the FHIR
    # base, so the bearer token went to another path of the same host; only Medication/<id> reads are made now.
    import re

    fhir_mock()
    responses.add(responses.GET, re.compile(r"https://ehr\.test/(?!fhir/).*"), json={})
    drafts = []
    for n, ref in enumerate(["Medication/../../oauth/x", "../../admin", "Medication/ok-1?_format=xml", "Patient/p2"]):
        draft = {**oxycodone_draft(), "id": f"d{n}"}
        draft.pop("medicationCodeableConcept")
        draft["medicationReference"] = {"reference": ref}
        drafts.append(draft)
    response = post(app, hook_request(drafts=drafts, fhir=True))
    assert response.status_code == 200
    paths = [urlsplit(c.request.url).path for c in responses.calls]
    assert all(path.startswith("/fhir/") for path in paths), paths
    assert not any("Patient/p2" in c.request.url for c in responses.calls)
    assert "not a Medication id" in response.json["cards"][-1]["detail"]  # named, never silently dropped
    assert not any(urlsplit(c.request.url).query for c in responses.calls if "/Medication/" in c.request.url)


@pytest.mark.parametrize("patient_id", [".", "..", "Patient/.."])
@responses.activate
def test_dot_segment_patient_ids_never_turn_a_read_into_a_search_of_all_patients(app, patient_id):
    # "Patient/." resolves to "<base>/Patient/", a search that many servers answer with other patients' records.
    fhir_mock({"Patient": [patient(patient_id="someone-else")]})
    body = hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True)
    body["context"]["patientId"] = patient_id
    response = post(app, body)
    assert response.status_code in (200, 400, 412)
    paths = [urlsplit(c.request.url).path.rstrip("/") for c in responses.calls]
    assert not any(path in ("/fhir/Patient", "/fhir", "") for path in paths), paths


@responses.activate
def test_a_patient_reference_in_context_is_read_as_the_bare_id(app):
    # The request parser accepts "Patient/p1" for patientId; the FHIR reads must then use "p1" as well.
    fhir_mock({f"Patient/{PATIENT_ID}": patient()})
    body = hook_request(drafts=[oxycodone_draft()], prefetch={}, fhir=True)
    body["context"]["patientId"] = f"Patient/{PATIENT_ID}"
    assert post(app, body).status_code == 200
    urls = [c.request.url for c in responses.calls]
    assert f"{FHIR}/Patient/{PATIENT_ID}" in urls
    assert not any("Patient%2F" in url or "patient=Patient" in url for url in urls), urls


def _loopback_server(app_callable):
    """A werkzeug server on a free loopback port in a thread; returns (base URL, stop function) or skips."""
    import threading

    from werkzeug.serving import make_server

    try:
        server = make_server("127.0.0.1", 0, app_callable, threaded=True)
    except OSError:
        pytest.skip("cannot bind a loopback port here")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}/fhir", stop


def test_a_trickling_or_huge_fhir_answer_ends_its_reader_at_the_deadline():
    # Found live: a read timeout is per socket read, so a body trickling a byte at a time was read past the
    # budget by a leftover thread (one per query per hook call) and a huge body was loaded whole into memory.
    import threading

    from werkzeug.wrappers import Request, Response

    from cds_hooks import fhir_client

    stop = threading.Event()

    def trickle():
        yield b'{"resourceType":"Bundle","entry":['
        for _ in range(100):
            if stop.wait(0.05):
                return
            yield b" "

    # Built once, before the clock starts: on a loaded machine building it inside the handler took most of the budget.
    huge = b'{"resourceType":"Bundle","x":"' + b"a" * (fhir_client.MAX_RESPONSE_BYTES + 10) + b'"}'

    def answer(environ, start_response):
        path = Request(environ).path
        if path.endswith("/Huge"):
            return Response(huge, mimetype="application/fhir+json")(environ, start_response)
        return Response(trickle(), mimetype="application/fhir+json")(environ, start_response)

    base, stop_server = _loopback_server(answer)
    try:
        client = fhir_client.FhirClient(base, "tok", allow_http=True, session=requests.Session())
        started = time.monotonic()
        results = client.fetch_all({"slow": "Slow", "huge": "Huge"}, 2.0)
        assert time.monotonic() - started < 3.0
        assert results["slow"].error == "timed out"
        assert "too large" in (results["huge"].error or "")
        time.sleep(0.5)  # the readers notice the deadline at their next chunk
        assert not [t for t in threading.enumerate() if t.name.startswith("fhir") and t.is_alive()]
    finally:
        stop.set()
        stop_server()


def test_a_call_reads_its_snoozes_and_stores_its_cards_on_one_pooled_connection(app):
    from sqlalchemy import event

    engine = db(app)
    post(app, hook_request(drafts=[oxycodone_draft()]))  # the pool's first connection is made outside the count
    checkouts: list[object] = []
    event.listen(engine, "checkout", lambda *_: checkouts.append(1))
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    assert "high-mme" in topics(response.json)
    # Checking a connection out and back in cost more than SQLite's own work on each statement.
    assert len(checkouts) == 1
    for card in response.json["cards"]:
        assert store.find_issued(engine, card["uuid"]) is not None  # committed before the call was answered


def test_a_snooze_read_that_fails_still_stores_the_cards_on_a_fresh_connection(app):
    engine = db(app)
    with engine.begin() as connection:  # the snoozes cannot be read; the issued cards can still be written
        connection.exec_driver_sql("ALTER TABLE cds_snoozes RENAME TO cds_snoozes_gone")
    response = post(app, hook_request(drafts=[oxycodone_draft()]))
    [incomplete] = [c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete"]
    assert "earlier overrides (snoozes)" in incomplete["detail"] and "high-mme" in topics(response.json)
    assert all(store.find_issued(engine, card["uuid"]) is not None for card in response.json["cards"])
