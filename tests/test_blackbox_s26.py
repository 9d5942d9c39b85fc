"""Black-box probes of the hook services with request shapes real EHRs send (session 26 findings)."""

from __future__ import annotations

import json
from typing import Any

from builders import PATIENT_ID, TODAY, med_request
from cds_support import OXYCODONE_5, bundle, full_prefetch, hook_request, make_app, oxycodone_draft, topics


def _created(response_json: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource a suggestion of the answer would create."""
    return [
        action["resource"]
        for card in response_json["cards"]
        for suggestion in card.get("suggestions", [])
        for action in suggestion["actions"]
        if action["type"] == "create"
    ]


def test_an_encounter_id_sent_as_a_reference_is_not_written_twice_in_suggested_orders(tmp_path):
    """Some EHRs send context.encounterId as "Encounter/<id>", as others send patientId as "Patient/<id>": the
    naloxone order and the urine screen a card suggests must point at that visit, never "Encounter/Encounter/<id>"."""
    body = hook_request(drafts=[oxycodone_draft()])  # 90 MME/day and no drug test: naloxone and a urine screen
    body["context"]["encounterId"] = "Encounter/eVf3kQ.2-Epic"
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)

    created = _created(response.json)
    assert {r["resourceType"] for r in created} == {"MedicationRequest", "ServiceRequest"}
    assert [r["encounter"] for r in created] == [{"reference": "Encounter/eVf3kQ.2-Epic"}] * len(created)


def test_an_encounter_id_sent_as_an_absolute_url_is_read_as_its_id(tmp_path):
    body = hook_request(drafts=[oxycodone_draft()])
    body["context"]["encounterId"] = "https://ehr.test/fhir/Encounter/enc-77"
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)

    created = _created(response.json)
    assert created
    assert [r["encounter"] for r in created] == [{"reference": "Encounter/enc-77"}] * len(created)


def test_draft_orders_sent_on_patient_view_are_not_read_as_the_patients_current_orders(tmp_path):
    """patient-view has no draftOrders (CDS Hooks 2.0.1): an EHR that puts its order basket there anyway must not make
    the chart's card say "Current opioid dose 90 MME/day" for an oxycodone draft nobody signed; the key is an
    unknown context key like any other, and the chart's own orders are still checked."""
    on_record = med_request(OXYCODONE_5, id="oxy-on-record", status="active", dose=1, period=6)  # 4 a day: 30 MME
    prefetch = full_prefetch("patient-view", medsActive=bundle(on_record), medsRecent=bundle(on_record))
    client = make_app(tmp_path).test_client()
    plain = client.post("/cds-services/patient-view", json=hook_request("patient-view", prefetch=prefetch))
    body = hook_request("patient-view", prefetch=prefetch)
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "entry": [{"resource": oxycodone_draft(dose=4)}]}
    with_basket = client.post("/cds-services/patient-view", json=body)

    assert with_basket.status_code == 200
    assert "high-mme" not in topics(with_basket.json)
    assert topics(with_basket.json) == topics(plain.json)
    assert PATIENT_ID in str(plain.json)  # the chart's cards were made for this patient (a suggestion's subject)


def test_painplan_mme_reads_a_patient_view_request_as_the_hook_does(tmp_path, capsys):
    """`painplan mme`'s current total is the total the high-dose card uses: on a patient-view request whose context
    carries an order basket anyway, that is the chart's orders alone (before, the drafts were added in)."""
    from smart_app.cli import main

    on_record = med_request(OXYCODONE_5, id="oxy-on-record", status="active", dose=1, period=6)  # 30 MME/day
    request = hook_request(
        "patient-view", prefetch=full_prefetch("patient-view", medsActive=bundle(on_record), medsRecent=bundle())
    )
    request["context"]["patientId"] = f"https://ehr.test/fhir/Patient/{PATIENT_ID}"  # read as the bare id
    request["context"]["draftOrders"] = {"resourceType": "Bundle", "entry": [{"resource": oxycodone_draft(dose=4)}]}
    path = tmp_path / "patient-view.json"
    path.write_text(json.dumps(request), encoding="utf-8")

    code = main(["mme", str(path), "--today", TODAY.isoformat()])
    report = json.loads(capsys.readouterr().out)

    assert code == 0
    assert [o["id"] for o in report["orders"]] == ["oxy-on-record"]
    assert report["current_total_mme"] == 30.0
