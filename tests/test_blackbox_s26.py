"""Black-box probes of the hook services with request shapes real EHRs send (session 26 findings)."""

from __future__ import annotations

import json
from typing import Any

import responses
from builders import PATIENT_ID, TODAY, med_request
from cds_support import (
    OXYCODONE_5,
    OXYCODONE_10,
    bundle,
    full_prefetch,
    hook_request,
    make_app,
    oxycodone_draft,
    topics,
)


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


def _smart_context(card: dict[str, Any]) -> dict[str, Any]:
    link = next(link for link in card["links"] if link["type"] == "smart")
    return json.loads(link["appContext"])


def test_a_card_link_says_how_many_orders_being_signed_it_could_not_carry(tmp_path):
    """The CDS Hooks sandbox and some EHRs send a draft with a `urn:uuid:` fullUrl and no id. The card counts it
    ("130 MME/day with this order") but its link can carry only drafts with an id: the link says one was left
    behind, so the page opened from it can say its figures leave that order out."""
    draft = oxycodone_draft()
    del draft["id"]
    body = hook_request()
    body["context"]["draftOrders"] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:5d6c0e1a-8f1e-4a43-9b1f-0c9a3d2b7e11", "resource": draft}],
    }
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)

    high = next(card for card in response.json["cards"] if card["source"]["topic"]["code"] == "high-mme")
    assert "90.0 MME/day with this order" in high["summary"]
    context = _smart_context(high)
    assert "drafts" not in context
    assert context["draftsNotCarried"] == 1


def test_a_card_link_with_every_draft_carried_says_nothing_more(tmp_path):
    body = hook_request(drafts=[oxycodone_draft()])
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)

    high = next(card for card in response.json["cards"] if card["source"]["topic"]["code"] == "high-mme")
    context = _smart_context(high)
    assert [d["id"] for d in context["drafts"]] == ["draft-oxy"]
    assert "draftsNotCarried" not in context


def test_the_page_opened_from_such_a_link_names_the_order_it_does_not_include(tmp_path):
    from builders import patient
    from test_plan_with_drafts import _launched_plan_html

    resources = [patient(patient_id="p1")]
    context = {"view": "mme", "check": "high-mme", "draftsNotCarried": 1}
    html = _launched_plan_html(tmp_path, resources, context)

    notice = html.split('id="data-notice"', 1)[1].split("</div>", 1)[0]
    assert "Orders being signed" in notice
    panel = html.split('id="completeness"', 1)[1].split("</section>", 1)[0]
    assert "1 order being signed could not be carried" in panel
    assert "no total or alert on this page includes it" in panel


def test_discovery_answers_head_as_get_does(tmp_path):
    """A load balancer's or monitor's HEAD on the discovery URL is a GET without the body (HTTP semantics); it was
    refused with 405, so a health check that uses HEAD marked a working service as down."""
    client = make_app(tmp_path).test_client()
    got = client.get("/cds-services")
    head = client.head("/cds-services")

    assert head.status_code == 200
    assert head.headers["Content-Type"] == got.headers["Content-Type"] == "application/json"
    assert head.get_data() == b""
    refused = client.post("/cds-services")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert refused.json["resourceType"] == "OperationOutcome"


def test_a_patient_id_sent_as_an_absolute_url_still_reads_the_patients_chart(tmp_path):
    """A patientId sent as the Patient's URL names the same patient as "Patient/p1": the chart's orders are the
    patient's own, counted in the total, never left out as another patient's."""
    # Another product than the draft's (a same-product draft is read as its renewal): 4 x 10 mg a day, 60 MME/day.
    on_record = med_request(OXYCODONE_10, id="oxy-on-record", status="active", dose=1, period=6)
    prefetch = full_prefetch("order-sign", medsActive=bundle(on_record))
    body = hook_request(drafts=[oxycodone_draft()], prefetch=prefetch)  # 90 MME/day
    body["context"]["patientId"] = f"https://ehr.test/fhir/Patient/{PATIENT_ID}"
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)

    assert "data-incomplete" not in topics(response.json)
    high = next(card for card in response.json["cards"] if card["source"]["topic"]["code"] == "high-mme")
    assert "150.0 MME/day with this order" in high["summary"]


def test_the_left_behind_count_is_read_from_the_link_as_an_untrusted_hint():
    from smart_app.plan_view import drafts_not_carried

    for odd in (
        {},
        {"draftsNotCarried": 0},
        {"draftsNotCarried": -3},
        {"draftsNotCarried": "2"},
        {"draftsNotCarried": True},
        [],
    ):
        assert drafts_not_carried(odd) is None, odd
    two = drafts_not_carried({"draftsNotCarried": 2})
    assert two is not None and not two.ok
    assert two.error.startswith("2 orders being signed could not be carried from the card")
    assert "includes them" in two.error
    assert drafts_not_carried({"draftsNotCarried": 10**12}).error.startswith("99 orders being signed")


def test_a_dstu2_medication_order_draft_is_removed_by_its_own_type(tmp_path):
    """A DSTU2 EHR sends the order being signed as a MedicationOrder: the card's "Remove the new … order" must name
    `MedicationOrder/<id>`, the resource the EHR holds (the record reads it as a MedicationRequest, so the delete
    named `MedicationRequest/<id>`, which the EHR cannot find)."""
    draft = med_request("891888", draft=True, id="mo1", frequency=2, period=1, period_unit="d")  # morphine ER 30 mg
    draft["resourceType"] = "MedicationOrder"
    draft["dateWritten"] = draft.pop("authoredOn", None) or TODAY
    body = hook_request(drafts=[draft])
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)

    deletes = [
        action["resourceId"]
        for card in response.json["cards"]
        for suggestion in card.get("suggestions", [])
        for action in suggestion["actions"]
        if action["type"] == "delete"
    ]
    assert "er-la-opioid-naive" in topics(response.json)
    assert deletes and set(deletes) == {"MedicationOrder/mo1"}


def test_a_user_id_sent_as_an_absolute_url_still_signs_the_suggested_orders(tmp_path):
    """context.userId is a relative reference ("Practitioner/dr1"); a client sending the Practitioner's absolute URL
    must still get suggested orders whose requester is that clinician (before, the requester was left out)."""
    body = hook_request(drafts=[oxycodone_draft()])  # 90 MME/day, no drug test: naloxone and a urine screen
    body["context"]["userId"] = "https://ehr.test/fhir/Practitioner/dr-9/_history/3"
    response = make_app(tmp_path).test_client().post("/cds-services/order-sign", json=body)

    created = _created(response.json)
    assert created
    assert [r.get("requester") for r in created] == [{"reference": "Practitioner/dr-9"}] * len(created)


@responses.activate
def test_an_expired_access_token_is_named_once_when_the_server_refuses_it(tmp_path):
    """An EHR that sends `fhirAuthorization.expires_in` of 0 or less sent a token that had already expired: when the
    FHIR server then answers 401, the data-incomplete card says so once, so the integrator fixes the token, not the
    scopes or the server. A token still valid by its own account, refused all the same, gets no such line."""
    from test_absent_unread import morphine_er_draft, refusing_fhir

    refusing_fhir(401)
    client = make_app(tmp_path).test_client()
    expired = hook_request(drafts=[morphine_er_draft()], prefetch={}, fhir=True)
    expired["fhirAuthorization"]["expires_in"] = -60
    fresh = hook_request(drafts=[morphine_er_draft()], prefetch={}, fhir=True)

    said = {
        card["source"]["topic"]["code"]: card
        for card in client.post("/cds-services/order-sign", json=expired).json["cards"]
    }
    other = {
        card["source"]["topic"]["code"]: card
        for card in client.post("/cds-services/order-sign", json=fresh).json["cards"]
    }
    detail = said["data-incomplete"]["detail"]
    assert detail.count("had already expired") == 1
    assert "expires_in -60" in detail
    assert "had already expired" not in other["data-incomplete"]["detail"]
