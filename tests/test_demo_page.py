"""The simulator page, the demo launch, the demo settings, and the service answering the page's requests."""

from __future__ import annotations

import json
import re
import uuid
from argparse import Namespace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from smart_app import create_app
from smart_app.demo import demo_settings
from smart_app.demo_data import load_demo_patients
from smart_app.demo_data.orders import draft_bundle, story_draft

TODAY = date(2026, 3, 15)


@pytest.fixture
def app(tmp_path):
    return create_app(
        {
            "demo": True,
            "auth": "off",
            "allow_http": True,
            "today": TODAY,
            "public_url": "http://127.0.0.1:8765",
            "instance_path": tmp_path,
        }
    )


def embedded_data(html: str) -> dict:
    match = re.search(r'<script id="demo-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page embeds its data"
    return json.loads(match.group(1))


def test_page_lists_every_patient_and_embeds_its_data(app):
    response = app.test_client().get("/demo")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    data = embedded_data(html)
    assert data["today"] == "2026-03-15"
    assert data["fhirServer"] == "http://127.0.0.1:8765/demo/fhir"
    for patient in load_demo_patients(TODAY).values():
        assert f'data-patient="{patient.id}"' in html
        assert patient.name in html
    walter = next(p for p in data["patients"] if p["id"] == "walter-brooks")
    assert walter["age"] == 67
    assert {o["id"] for o in walter["activeOrders"]} == {"walter-brooks-morphine-er", "walter-brooks-oxycodone"}
    assert walter["expected"]["order-sign"] == ["high-mme", "naloxone"]
    gloria = next(p for p in data["patients"] if p["id"] == "gloria-simmons")
    assert "OXYCODONE ER 10 MG 12-HOUR TABLET" in {o["text"] for o in gloria["activeOrders"]}, "Epic names resolve"
    assert {d["key"] for d in data["catalog"]["drugs"]} >= {"oxycodone-5", "alprazolam-0.5", "naloxone-nasal-4"}


def test_page_uses_no_external_assets(app):
    html = app.test_client().get("/demo").get_data(as_text=True)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert app.test_client().get("/static/js/demo.js").status_code == 200
    assert app.test_client().get("/static/css/demo.css").status_code == 200


def test_embedded_json_cannot_close_the_script_tag(app, monkeypatch):
    import smart_app.demo as demo

    original = demo.page_data

    def with_markup(settings, today):
        data = original(settings, today)
        data["patients"][0]["story"] = "</script><script>alert(1)</script>"
        return data

    monkeypatch.setattr(demo, "page_data", with_markup)
    html = app.test_client().get("/demo").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert embedded_data(html)["patients"][0]["story"] == "</script><script>alert(1)</script>"


def test_demo_launch_opens_the_plan_without_an_authorization_server(app):
    client = app.test_client()
    context = json.dumps({"view": "mme", "check": "high-mme", "orders": ["demo-draft-1"]})
    response = client.get("/demo/launch", query_string={"patient": "walter-brooks", "appContext": context})
    assert response.status_code in (302, 303)
    assert "/plan" in response.headers["Location"]


def test_demo_launch_refuses_unknown_patients(app):
    response = app.test_client().get("/demo/launch?patient=someone-else")
    assert response.status_code == 400


def test_demo_settings_turn_auth_off_and_serve_on_the_chosen_port():
    args = Namespace(host=None, port=None, today=None)
    settings = demo_settings(args, env={})
    assert (settings.auth, settings.demo, settings.allow_http) == ("off", True, True)
    assert settings.port == 8765 and settings.host == "127.0.0.1"
    assert settings.public_url == "http://127.0.0.1:8765"
    assert settings.today is None, "without --today the demo follows the real date"

    from_env = demo_settings(args, env={"PAINPLAN_PORT": "9100", "PAINPLAN_TODAY": "2026-05-01"})
    assert (from_env.port, from_env.public_url, from_env.today) == (9100, "http://127.0.0.1:9100", date(2026, 5, 1))

    explicit = demo_settings(Namespace(host="0.0.0.0", port=9200, today="2026-07-04"), env={"PAINPLAN_PORT": "9100"})
    assert (explicit.host, explicit.port, explicit.today) == ("0.0.0.0", 9200, date(2026, 7, 4))


def test_service_answers_the_pages_order_sign_request_from_prefetch(app):
    """The page sends no prefetch (the live browser test covers the FHIR call-back path); here the same
    request body carries the demo data as prefetch so the service answers inside the test client."""
    patient = load_demo_patients(TODAY)["walter-brooks"]
    now = datetime(2026, 3, 15, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    client = app.test_client()
    discovery = client.get("/cds-services").get_json()
    service = next(s for s in discovery["services"] if s["hook"] == "order-sign")
    everything = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in patient.resources()],
    }
    prefetch = {key: everything for key in service.get("prefetch", {})}
    prefetch["patient"] = patient.resources("Patient")[0]
    body = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "fhirServer": "http://127.0.0.1:8765/demo/fhir",
        "context": {
            "userId": "Practitioner/demo-clinician",
            "patientId": patient.id,
            "draftOrders": draft_bundle([story_draft(patient, now)]),
        },
        "prefetch": prefetch,
    }
    response = client.post(f"/cds-services/{service['id']}", json=body)
    assert response.status_code == 200
    cards = response.get_json()["cards"]
    mme = next(c for c in cards if c["source"]["topic"]["code"] in ("high-mme", "highmme"))
    assert mme["indicator"] == "critical"
    assert "130" in mme["summary"]
    assert any(a["type"] == "delete" for s in mme["suggestions"] for a in s["actions"])
