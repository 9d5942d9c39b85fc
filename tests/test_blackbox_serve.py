"""Hostile black-box probes of a live `painplan serve` (waitress workers) with a loopback fake FHIR server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from builders import RXNORM, TODAY, med_request, patient
from cds_support import AMOXICILLIN, OXYCODONE_5, OXYCODONE_10, Harness
from joserfc.jwk import ECKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from cds_hooks.cards import empty_paths

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
SLOW_SECONDS = 5.0
PATIENT = "pt-Zq81kVw3aa"  # distinctive, so the log scan cannot match anything by accident
EPIC_PATIENT = "eQ7wXc.Vb9-Epic-" + "k" * 40
ACCESS_TOKEN = "tok-Xk2-SECRET-77q"
EPIC_MED_ID = "e" + "Ab3.x-" * 32 + "z"  # 194 characters, like Epic's ids
PINNED_ISS = "https://pinned.ehr.test"
FETCHED_ISS = "https://fetched.ehr.test"
TENANT_ISS = "https://tenant.ehr.test"
CORS_ORIGIN = "https://sandbox.cds-hooks.org"
SIGN = "/cds-services/order-sign"


# --- the fake FHIR / JWKS server ------------------------------------------------------------------------------


def free_port() -> int | None:
    """A free loopback port, or None when this sandbox cannot bind one (the tests then skip)."""
    try:
        with socket.socket() as sock:
            sock.bind((LOOPBACK, 0))
            return sock.getsockname()[1]
    except OSError:
        return None


def two_free_ports() -> tuple[int, int]:
    """Two distinct free loopback ports (the fake FHIR server's, then painplan serve's); skips when none bind."""
    first, second = free_port(), free_port()
    if first is None or second is None or first == second:
        pytest.skip("cannot bind loopback ports here")
    return first, second


@dataclass(frozen=True)
class Seen:
    mode: str
    path: str
    query: Mapping[str, list[str]]
    authorization: str | None


@dataclass
class FakeFhir:
    """FHIR by mode, from the first path segment: /ok, /slow, /deny, /oo, /page; plus /jwks and /evil-jwks.

    Searches answer every stored resource of the type asked for; `Type/id` reads answer that resource.
    """

    resources: dict[str, list[dict]] = field(default_factory=dict)
    jwks: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    base: str = ""

    def _trickle(self) -> Iterator[bytes]:
        return _trickle_body(self.stop)

    def requests_to(self, mode: str, predicate: Callable[[Seen], bool] = lambda s: True) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.mode == mode and predicate(s)]

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        request = Request(environ)
        mode, _, rest = request.path.strip("/").partition("/")
        query = parse_qs(request.query_string.decode())
        with self.lock:
            self.seen.append(Seen(mode, request.path, query, request.headers.get("Authorization")))
        return self._answer(mode, rest, request)(environ, start_response)

    def _answer(self, mode: str, rest: str, request: Request) -> Response:
        if mode in ("jwks", "evil-jwks"):
            return _json(self.jwks)
        if mode == "slow":
            self.stop.wait(SLOW_SECONDS)  # ends early when the fixture stops
            return _json(_bundle([]))
        if mode == "deny":
            return Response("", status=401)
        if mode == "trickle":  # a body that never ends, a byte at a time: no read ever times out
            return Response(self._trickle(), mimetype="application/fhir+json")
        if mode == "oo":
            return _json({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]})
        if rest == "fhir/.well-known/smart-configuration":
            return _json(
                {
                    "authorization_endpoint": f"{self.base}/ok/auth/authorize",
                    "token_endpoint": f"{self.base}/ok/auth/token",
                    "capabilities": ["launch-ehr", "permission-v2"],
                    "code_challenge_methods_supported": ["S256"],
                }
            )
        kind, _, ident = rest.removeprefix("fhir/").partition("/")
        with self.lock:
            stored = list(self.resources.get(kind, []))
        if ident:
            found = next((r for r in stored if r.get("id") == ident), None)
            return _json(found) if found else Response("", status=404)
        if mode == "page" and request.args.get("page") != "2":
            following = f"{self.base}{request.path}?{request.query_string.decode()}&page=2"
            return _json({**_bundle([]), "link": [{"relation": "next", "url": following}]})
        wanted = f"Patient/{request.args.get('patient', '')}"
        return _json(_bundle([r for r in stored if (r.get("subject") or {}).get("reference") == wanted]))


def _trickle_body(stop: threading.Event) -> Iterator[bytes]:
    yield b'{"resourceType":"Bundle","entry":['
    for _ in range(200):  # bounded: 200 × 0.1 s, or until the fixture stops
        if stop.wait(0.1):
            return
        yield b" "


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/fhir+json")


def _bundle(resources: list[dict]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


@contextmanager
def fake_fhir_server(fake: FakeFhir, port: int) -> Iterator[FakeFhir]:
    server = make_server(LOOPBACK, port, fake, threaded=True)
    fake.base = f"http://{LOOPBACK}:{port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def painplan_serve(env: Mapping[str, str], port: int, log_path: Path) -> Iterator[subprocess.Popen]:
    """`painplan serve` as a child process, stderr and stdout into `log_path`, stopped with SIGTERM."""
    command = [sys.executable, "-m", "smart_app.cli", "serve", "--port", str(port), "--host", LOOPBACK]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("painplan serve did not start:\n" + log_path.read_text(errors="replace"))
                try:
                    if requests.get(f"http://{LOOPBACK}:{port}/healthz", timeout=1).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.1)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


# --- the live service ---------------------------------------------------------------------------------------------


@dataclass
class Live:
    base: str
    fake: FakeFhir
    harness: Harness
    log_path: Path
    http: requests.Session

    def token(self, path: str, *, iss: str = PINNED_ISS, **kwargs: Any) -> str:
        return self.harness.token(self.base + path, iss=iss, **kwargs)

    def post(self, path: str, body: Any, *, token: str | None = None, raw: bool = False, **kwargs: Any):
        headers = {"Authorization": f"Bearer {token or self.token(path)}", **kwargs.pop("headers", {})}
        if raw:
            headers.setdefault("Content-Type", "application/json")
            return self.http.post(self.base + path, data=body, headers=headers, timeout=15, **kwargs)
        return self.http.post(self.base + path, json=body, headers=headers, timeout=15, **kwargs)

    def sign(self, body: Any, **kwargs: Any):
        return self.post(SIGN, body, **kwargs)

    def fhir(self, mode: str) -> str:
        return f"{self.fake.base}/{mode}/fhir"


def _stored_chart() -> dict[str, list[dict]]:
    # Oxycodone 10 mg every 12 hours (30 MME/day): another product than the drafts' 5 mg, so the two add (a draft
    # of the same product would be read as its renewal and counted once).
    active = med_request(OXYCODONE_10, id="active-oxy", dose=1, period=12, authored="2026-06-01")
    active["subject"] = {"reference": f"Patient/{PATIENT}"}
    medication = {
        "resourceType": "Medication",
        "id": EPIC_MED_ID,
        "code": {"coding": [{"system": RXNORM, "code": OXYCODONE_5}], "text": "OXYCODONE HCL 5 MG PO TABS"},
    }
    return {"Patient": [patient(patient_id=PATIENT)], "MedicationRequest": [active], "Medication": [medication]}


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Live]:
    fake_port, serve_port = two_free_ports()
    folder = tmp_path_factory.mktemp("blackbox")
    harness = Harness()
    fake = FakeFhir(resources=_stored_chart(), jwks=harness.jwks())
    with fake_fhir_server(fake, fake_port):
        trusted = [
            {"iss": PINNED_ISS, "jwks": harness.jwks()},
            {"iss": FETCHED_ISS, "jwks_url": f"{fake.base}/jwks"},
            {"iss": TENANT_ISS, "jwks": harness.jwks(), "tenant": ["org-1"]},
        ]
        (folder / "trusted.json").write_text(json.dumps(trusted))
        (folder / "smart.json").write_text(json.dumps([{"iss": f"{fake.base}/ok/fhir", "client_id": "painplan"}]))
        env = {
            "PAINPLAN_AUTH": "required",
            "PAINPLAN_TRUSTED_CLIENTS": str(folder / "trusted.json"),
            "PAINPLAN_SMART_CLIENTS": str(folder / "smart.json"),
            "PAINPLAN_PUBLIC_URL": f"http://{LOOPBACK}:{serve_port}",
            "PAINPLAN_ALLOW_HTTP": "1",
            "PAINPLAN_INSTANCE_PATH": str(folder / "instance"),
            "PAINPLAN_TODAY": TODAY.isoformat(),
            "PAINPLAN_CORS_ORIGINS": CORS_ORIGIN,
            "PAINPLAN_SECRET_KEY": "blackbox-secret",
            "PAINPLAN_WORKERS": "2",
        }
        log_path = folder / "serve.log"
        with painplan_serve(env, serve_port, log_path), requests.Session() as http:
            yield Live(f"http://{LOOPBACK}:{serve_port}", fake, harness, log_path, http)


def oxy_draft(draft_id: str = "draft-oxy", dose: int = 2, patient_id: str = PATIENT) -> dict[str, Any]:
    """Oxycodone 5 mg, `dose` tablets every 4 h: 2 tablets = 90 MME/day."""
    draft = med_request(OXYCODONE_5, id=draft_id, draft=True, dose=dose, period=4)
    draft["subject"] = {"reference": f"Patient/{patient_id}"}
    return draft


def sign_body(
    drafts: list[dict] | None = None,
    *,
    prefetch: Mapping[str, Any] | None = None,
    fhir: str | None = None,
    patient_id: str = PATIENT,
) -> dict[str, Any]:
    """An order-sign request; `prefetch=None` sends every key (the patient, empty searches)."""
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig

    drafts = [oxy_draft(patient_id=patient_id)] if drafts is None else drafts
    body: dict[str, Any] = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/dr-bb",
            "patientId": patient_id,
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]},
        },
    }
    if prefetch is None:
        keys = templates("order-sign", GuidelineConfig.from_mapping())
        prefetch = {key: _bundle([]) for key in keys} | {"patient": patient(patient_id=patient_id)}
    body["prefetch"] = dict(prefetch)
    if fhir:
        body["fhirServer"] = fhir
        body["fhirAuthorization"] = {
            "access_token": ACCESS_TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read user/MedicationRequest.Read",
            "subject": "painplan",
            "patient": patient_id,
        }
    return body


def topics(response: requests.Response) -> list[str]:
    return [card["source"]["topic"]["code"] for card in response.json()["cards"]]


ISSUED_UUIDS: set[str] = set()


def assert_cards_conform(cards: list[dict], patient_id: str = PATIENT) -> None:
    """standards 5 #27–#29 on every card of a response."""
    assert empty_paths(cards) == [] or cards == []
    for card in cards:
        assert uuid.UUID(card["uuid"]) and card["uuid"] not in ISSUED_UUIDS
        ISSUED_UUIDS.add(card["uuid"])
        assert 0 < len(card["summary"]) < 140
        assert card["indicator"] in ("info", "warning", "critical")
        assert card["source"]["label"] and isinstance(card.get("detail", ""), str)
        code = card["source"]["topic"]["code"]
        assert re.fullmatch(r"[A-Za-z0-9-]{1,100}", code)
        suggestions = card.get("suggestions", [])
        assert ("selectionBehavior" in card) == bool(suggestions)
        if suggestions:
            assert card["selectionBehavior"] == "any"
        for suggestion in suggestions:
            assert suggestion["label"] and uuid.UUID(suggestion["uuid"]) and suggestion["uuid"] not in ISSUED_UUIDS
            ISSUED_UUIDS.add(suggestion["uuid"])
            (action,) = suggestion["actions"]  # one action per suggestion (Epic)
            assert action["type"] in ("create", "update", "delete") and action["description"]
            if action["type"] == "delete":
                assert re.fullmatch(r"[A-Za-z]+/[A-Za-z0-9.-]{1,256}", action["resourceId"])
            else:
                resource = action["resource"]
                assert resource["resourceType"]
                if "subject" in resource:
                    assert resource["subject"] == {"reference": f"Patient/{patient_id}"}
        for reason in card.get("overrideReasons", []):
            assert reason["code"] and reason["system"] and reason["display"]
        for link in card.get("links", []):
            assert link["label"] and link["type"] in ("absolute", "smart")
            parts = urlsplit(link["url"])
            assert parts.scheme in ("https", "http") and parts.netloc
            assert "appContext" not in link or (link["type"] == "smart" and isinstance(link["appContext"], str))
        if "url" in card["source"]:
            assert urlsplit(card["source"]["url"]).scheme == "https"


# --- discovery and CORS (#1–#4) -------------------------------------------------------------------------------

TOKEN_FIELDS = {
    "order-sign": {"userId", "patientId", "encounterId"},
    "order-select": {"userId", "patientId", "encounterId"},
}
TOKEN_FIELDS["patient-view"] = TOKEN_FIELDS["order-sign"]
USER_TOKENS = {"userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"}


def test_discovery_conforms_and_needs_a_token(live):
    response = live.http.get(
        live.base + "/cds-services", headers={"Authorization": "Bearer " + live.token("/cds-services")}
    )
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    services = response.json()["services"]
    assert services and empty_paths(services) == []
    assert len({(s["id"], s["hook"]) for s in services}) == len(services)
    for service in services:
        assert all(isinstance(service[k], str) and service[k] for k in ("id", "hook", "description", "title"))
        for template in service.get("prefetch", {}).values():
            for token in re.findall(r"\{\{\s*([^}]+?)\s*\}\}", template):
                field_name = token.removeprefix("context.")
                assert token in USER_TOKENS or field_name in TOKEN_FIELDS[service["hook"]], token
    refused = live.http.get(live.base + "/cds-services")
    assert refused.status_code == 401 and "diagnostics" not in refused.text


def test_cors_preflight_needs_no_token(live):
    for path in ("/cds-services", SIGN):
        response = live.http.options(
            live.base + path,
            headers={
                "Origin": CORS_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert 200 <= response.status_code < 300
        assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
        assert {"GET", "POST"} <= {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        assert response.headers.get("Access-Control-Allow-Credentials") != "true"


# --- invocation (#5–#16) ------------------------------------------------------------------------------------


def test_full_prefetch_high_mme_card_and_card_rules(live):
    body = sign_body(prefetch=None)
    body["prefetch"]["medsActive"] = _bundle(live.fake.resources["MedicationRequest"])
    response = live.sign(body)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    assert topics(response)[0] == "high-mme" and "120" in response.json()["cards"][0]["summary"]  # 90 + 30
    assert_cards_conform(response.json()["cards"])
    naloxone = next(c for c in response.json()["cards"] if c["source"]["topic"]["code"] == "naloxone")
    assert naloxone["suggestions"] and naloxone["overrideReasons"]


def test_non_opioid_is_exactly_empty_cards(live):
    amoxicillin = med_request(AMOXICILLIN, id="draft-amox", draft=True, display="amoxicillin 500 MG Oral Capsule")
    amoxicillin["subject"] = {"reference": f"Patient/{PATIENT}"}  # this chart's: another's draft is named
    response = live.sign(sign_body([amoxicillin]))
    assert response.status_code == 200 and response.text.strip() == '{"cards":[]}'


@pytest.mark.parametrize(
    ("change", "status"),
    [
        (lambda b: b.pop("hook"), 400),
        (lambda b: b.pop("context"), 400),
        (lambda b: b.pop("hookInstance"), 400),
        (lambda b: b.update(hook="patient-view"), 400),
        (lambda b: b.update(fhirAuthorization={"access_token": ACCESS_TOKEN}), 400),  # no fhirServer (#24)
        (lambda b: b.update(fhirServer="file:///etc/passwd"), 400),
    ],
)
def test_malformed_calls_are_4xx_operation_outcomes(live, change, status):
    body = sign_body()
    change(body)
    response = live.sign(body)
    assert response.status_code == status and response.json()["resourceType"] == "OperationOutcome"
    assert "Traceback" not in response.text


def test_bad_json_wrong_media_type_unknown_service_and_wrong_method(live):
    assert live.post(SIGN, b"{not json", raw=True).status_code == 400
    plain = live.post(SIGN, json.dumps(sign_body()), raw=True, headers={"Content-Type": "text/plain"})
    assert plain.status_code in (400, 415)
    missing = live.post("/cds-services/does-not-exist", sign_body())
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
    get = live.http.get(live.base + SIGN, headers={"Authorization": "Bearer " + live.token(SIGN)})
    assert get.status_code in (404, 405)


def test_unknown_context_fields_and_epic_extension_change_nothing(live):
    plain = live.sign(sign_body())
    extended = sign_body()
    extended["context"]["com.vendor.newField"] = {"anything": [1, 2]}
    extended["extension"] = {"com.epic.cdshooks.request.bpa-trigger-action": "23", "com.epic.cdshooks.request.x": 1}
    again = live.sign(extended)
    assert again.status_code == 200 and topics(again) == topics(plain)


def _epic_draft() -> dict[str, Any]:
    epic_type = "http://epic.com/CodeSystem/dose-rate-type"

    def dose(code: str, value: int, unit: str, ucum: str) -> dict[str, Any]:
        return {
            "type": {"coding": [{"system": epic_type, "code": code}]},
            "doseQuantity": {"value": value, "unit": unit, "code": ucum},
        }

    return {
        "resourceType": "MedicationRequest",
        "id": "e" + "Qw9-z." * 32 + "y",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{EPIC_PATIENT}"},
        "requester": {
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]
        },
        "medicationReference": {"reference": f"Medication/{EPIC_MED_ID}", "display": "OXYCODONE HCL 5 MG PO TABS"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
                "doseAndRate": [
                    dose("calculated", 10, "mg", "mg"),
                    dose("admin-amount", 2, "tablet", "{tbl}"),
                    dose("ordered", 10, "mg", "mg"),
                ],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "code": "d"}},
    }


def test_epic_shaped_order_reads_the_medication_with_the_token(live):
    draft = _epic_draft()
    body = sign_body([draft], prefetch={}, fhir=live.fhir("ok"), patient_id=EPIC_PATIENT)
    body["context"]["draftOrders"]["type"] = "collection"
    response = live.sign(body)
    assert response.status_code == 200
    reads = live.fake.requests_to("ok", lambda s: s.path.endswith(f"/Medication/{EPIC_MED_ID}"))
    assert reads and all(s.authorization == f"Bearer {ACCESS_TOKEN}" for s in reads)
    high = next(c for c in response.json()["cards"] if c["source"]["topic"]["code"] == "high-mme")
    assert "90" in high["summary"]  # 10 mg × 6 a day × 1.5, from the calculated mg dose
    assert high["suggestions"][0]["actions"][0]["resourceId"] == f"MedicationRequest/{draft['id']}"
    assert_cards_conform(response.json()["cards"], EPIC_PATIENT)


def test_sandbox_shaped_draft_degrades_gracefully(live):
    draft = oxy_draft()
    draft.pop("intent")
    draft["category"] = {"coding": [{"code": "outpatient"}]}
    draft["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = {"value": 2, "code": "{pill}"}
    body = sign_body([draft])
    body["context"]["draftOrders"].pop("resourceType")
    body["context"]["draftOrders"] = {"entry": body["context"]["draftOrders"]["entry"]}
    response = live.sign(body)
    assert response.status_code == 200
    assert_cards_conform(response.json()["cards"])


def test_stu3_dose_shape_gives_the_same_cards(live):
    stu3 = oxy_draft()
    instruction = stu3["dosageInstruction"][0]
    instruction["doseQuantity"] = instruction.pop("doseAndRate")[0]["doseQuantity"]
    assert topics(live.sign(sign_body([stu3]))) == topics(live.sign(sign_body()))


# --- prefetch and FHIR access (#17–#26) -------------------------------------------------------------------------


def test_absent_prefetch_is_fetched_with_the_bearer_token(live):
    before = len(live.fake.requests_to("ok"))
    response = live.sign(sign_body(prefetch={}, fhir=live.fhir("ok")))
    assert response.status_code == 200 and "120" in response.json()["cards"][0]["summary"]
    fresh = live.fake.requests_to("ok")[before:]
    assert {urlsplit(s.path).path.rsplit("/", 1)[-1] for s in fresh} >= {"MedicationRequest", "Observation", PATIENT}
    assert all(s.authorization == f"Bearer {ACCESS_TOKEN}" for s in fresh)


def test_null_prefetch_is_not_refetched_and_partial_prefetch_fetches_only_the_rest(live):
    body = sign_body(fhir=live.fhir("oo"), prefetch=None)
    body["prefetch"]["medsActive"] = None
    del body["prefetch"]["conditions"]
    before = len(live.fake.requests_to("oo"))
    response = live.sign(body)
    fresh = live.fake.requests_to("oo")[before:]
    assert response.status_code == 200
    assert [urlsplit(s.path).path for s in fresh] == ["/oo/fhir/Condition"]
    assert not any(s.query.get("status") == ["active"] for s in fresh)
    assert "conditions" in response.json()["cards"][-1]["detail"]  # the failed read is named, not hidden


def test_operation_outcome_prefetch_is_read_again(live):
    body = sign_body(fhir=live.fhir("ok"))
    body["prefetch"]["medsActive"] = _bundle(
        [{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}]
    )
    before = len(live.fake.requests_to("ok"))
    response = live.sign(body)
    fresh = live.fake.requests_to("ok")[before:]
    assert response.status_code == 200 and any(s.query.get("status") == ["active"] for s in fresh)
    assert "120" in response.json()["cards"][0]["summary"]


def test_nothing_readable_is_412(live):
    empty = sign_body([], prefetch={})
    response = live.sign(empty)
    assert response.status_code == 412 and response.json()["resourceType"] == "OperationOutcome"
    started = time.monotonic()
    denied = live.sign(sign_body([], prefetch={}, fhir=live.fhir("deny")))
    assert denied.status_code == 412 and time.monotonic() - started < 3.0


def test_prefetched_next_link_is_followed_with_the_token(live):
    body = sign_body(fhir=live.fhir("page"))
    url = f"{live.fhir('page')}/MedicationRequest?patient={PATIENT}&status=active&page=2"
    body["prefetch"]["medsActive"] = {**_bundle([]), "link": [{"relation": "next", "url": url}]}
    response = live.sign(body)
    pages = live.fake.requests_to("page", lambda s: s.query.get("page") == ["2"])
    assert pages and all(s.authorization == f"Bearer {ACCESS_TOKEN}" for s in pages)
    assert "120" in response.json()["cards"][0]["summary"]


def test_slow_fhir_server_is_cut_off_within_the_deadline(live):
    started = time.monotonic()
    response = live.sign(sign_body(prefetch={}, fhir=live.fhir("slow")))
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and elapsed < 3.0, elapsed
    assert topics(response)[0] == "high-mme" and topics(response)[-1] == "data-incomplete"


def test_a_never_ending_fhir_answer_is_cut_off_within_the_deadline(live):
    started = time.monotonic()
    response = live.sign(sign_body(prefetch={}, fhir=live.fhir("trickle")))
    assert response.status_code == 200 and time.monotonic() - started < 3.0
    assert topics(response)[-1] == "data-incomplete"


def test_fifty_concurrent_calls_never_mix_patients(live):
    def call(n: int) -> tuple[int, dict]:
        body = sign_body([oxy_draft(f"draft-{n}", patient_id=f"pt-{n}")], patient_id=f"pt-{n}")
        for _ in range(50):
            response = live.post(SIGN, body)
            if response.status_code != 503:  # shed under load (a slow machine): retry as an EHR would
                break
            time.sleep(0.2)
        assert response.status_code == 200
        return n, response.json()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(call, range(50)))
    for n, answer in answers:
        high = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "high-mme")
        assert high["suggestions"][0]["actions"][0]["resourceId"] == f"MedicationRequest/draft-{n}"
        naloxone = next(c for c in answer["cards"] if c["source"]["topic"]["code"] == "naloxone")
        created = [s["actions"][0]["resource"] for s in naloxone["suggestions"] if s["actions"][0]["type"] == "create"]
        assert all(r["subject"]["reference"] == f"Patient/pt-{n}" for r in created if "subject" in r)


# --- feedback (#30–#33) -----------------------------------------------------------------------------------------


def test_feedback_rules(live):
    card = live.sign(sign_body()).json()["cards"][0]
    path = SIGN + "/feedback"
    when = "2026-06-15T16:00:00Z"
    accepted = {
        "card": card["uuid"],
        "outcome": "accepted",
        "outcomeTimestamp": when,
        "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
    }
    reason = {
        "code": "benefits-outweigh-risks",
        "system": "http://painplan.example/fhir/CodeSystem/painplan-override-reason",
    }
    goods = [
        accepted,
        accepted,
        {
            "card": card["uuid"],
            "outcome": "overridden",
            "outcomeTimestamp": when,
            "overrideReason": {"reason": reason, "userComment": "ok"},
        },
        {
            "card": card["uuid"],
            "outcome": "overridden",
            "outcomeTimestamp": when,
            "overrideReason": {"reason": {"code": "x"}},
        },
        {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": when},
        {"card": str(uuid.uuid4()), "outcome": "overridden", "outcomeTimestamp": when},
    ]
    for item in goods:
        response = live.post(path, {"feedback": [item]})
        assert response.status_code == 200, response.text
    bads = [
        {"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": when},
        {"card": card["uuid"], "outcome": "ignored", "outcomeTimestamp": when},
        {"card": card["uuid"], "outcome": "overridden"},
        {"card": ["x"], "outcome": "overridden", "outcomeTimestamp": when},
        {"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "yesterday"},
        # until = outcomeTimestamp + 3 months: once a worker hang past year 9999, and a century-long snooze.
        {**goods[2], "outcomeTimestamp": "9999-12-15T00:00:00Z"},
        {**goods[2], "outcomeTimestamp": "2126-06-15T16:00:00Z"},
        {**goods[2], "outcomeTimestamp": "0001-01-01T00:00:00+14:00"},
    ]
    for item in bads:
        response = live.post(path, {"feedback": [item]})
        assert response.status_code == 400 and response.json()["resourceType"] == "OperationOutcome"
    for body in ([], {"feedback": "x"}, {"feedback": [None]}, "x"):
        assert live.post(path, body).status_code == 400


# --- JWT forgeries (#34–#43) ------------------------------------------------------------------------------------


def _segment(data: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _refused(response: requests.Response) -> bool:
    return response.status_code == 401 and "diagnostics" not in response.text


def test_every_jwt_forgery_is_a_bare_401(live):
    aud = live.base + SIGN
    body = sign_body()
    now = int(time.time())
    claims = {"iss": PINNED_ISS, "aud": aud, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    unsigned = f"{_segment({'alg': 'none', 'kid': 'ec-1'})}.{_segment(claims)}."
    public_pem = live.harness.rsa.as_pem(private=False)
    signing_input = f"{_segment({'alg': 'HS256', 'kid': 'rsa-1', 'typ': 'JWT'})}.{_segment(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    hs256 = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    stranger = ECKey.generate_key("P-384", parameters={"kid": "ec-unknown"})
    forgeries = {
        "alg none": unsigned,
        "HS256 with the public key": hs256,
        "other service's aud": live.token("/cds-services/patient-view"),
        "internal host aud": live.harness.token(f"http://localhost:{urlsplit(live.base).port}{SIGN}", iss=PINNED_ISS),
        "expired": live.token(SIGN, now=time.time() - 1000),
        "future nbf": live.token(SIGN, nbf=now + 600),
        "unknown iss": live.token(SIGN, iss="https://stranger.test"),
        "unknown kid": live.token(SIGN, key=stranger),
        "wrong tenant": live.token(SIGN, iss=TENANT_ISS, tenant="org-2"),
        "no tenant": live.token(SIGN, iss=TENANT_ISS),
        "lifetime of a day": live.token(SIGN, lifetime=86400),
    }
    for name, token in forgeries.items():
        assert _refused(live.sign(body, token=token)), name
    for garbage in ("x", "a.b.c", "é.é.é", "ey." * 2000):
        assert _refused(live.http.post(live.base + SIGN, json=body, headers={"Authorization": "Bearer " + garbage}))


def test_valid_tokens_aud_forms_epic_lifetime_tenant_and_replay(live):
    aud = live.base + SIGN
    body = sign_body()
    now = int(time.time())
    for token in (
        live.harness.token([aud, "https://other.test"], iss=PINNED_ISS),
        live.harness.token(aud + "/", iss=PINNED_ISS),
        live.token(SIGN, alg="RS384"),
        live.token(SIGN, lifetime=900, nbf=now - 300, sub="epic-client"),
        live.token(SIGN, iss=TENANT_ISS, tenant="org-1"),
    ):
        assert live.sign(body, token=token).status_code == 200
    once = live.token(SIGN)
    assert live.sign(body, token=once).status_code == 200
    assert _refused(live.sign(body, token=once))  # the replay reaches the other worker too: shared cache


def test_jku_not_allowlisted_is_never_fetched_and_jwks_fetches_are_bounded(live):
    evil = f"{live.fake.base}/evil-jwks"
    body = sign_body()
    for iss in (PINNED_ISS, FETCHED_ISS):
        assert _refused(live.sign(body, token=live.token(SIGN, iss=iss, header={"jku": evil})))
    assert live.fake.requests_to("evil-jwks") == []
    rotated = ECKey.generate_key("P-384", parameters={"kid": "ec-rotated"})
    live.fake.jwks = live.harness.jwks(rotated)  # published before the issuer's first call
    assert live.sign(body, token=live.token(SIGN, iss=FETCHED_ISS, key=rotated)).status_code == 200
    stranger = ECKey.generate_key("P-384", parameters={"kid": "ec-never"})
    for _ in range(8):
        assert _refused(live.sign(body, token=live.token(SIGN, iss=FETCHED_ISS, key=stranger)))
    assert len(live.fake.requests_to("jwks")) <= 4  # at most a first fetch and one refresh per worker


# --- hostile inputs --------------------------------------------------------------------------------------------


def test_huge_bodies_are_413_never_5xx(live):
    big = b'{"hook":"order-sign","x":"' + b"a" * (6 * 1024 * 1024) + b'"}'
    pieces = [big[i : i + 65536] for i in range(0, len(big), 65536)]
    statuses = []
    for payload in (big, iter(pieces)):  # with Content-Length, then chunked (no length)
        try:
            statuses.append(live.post(SIGN, payload, raw=True).status_code)
        except requests.ConnectionError:
            statuses.append(None)  # the server may close before reading it all; it must survive
    assert all(status in (413, None) for status in statuses), statuses
    # The server survives; a fresh connection, as a pooled one may have been dropped with the unread body.
    path_token = live.token(SIGN)
    after = requests.post(
        live.base + SIGN, json=sign_body(), headers={"Authorization": f"Bearer {path_token}"}, timeout=15
    )
    assert after.status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,
        b'{"hook":"order-sign","hookInstance":"\xff\xfe","context":{}}',
        b"\x00\x01\x02",
        b"",
        b"null",
        b'"order-sign"',
        b"[1,2,3]",
        b'{"hook":"order-sign","hookInstance":"a","context":{"draftOrders":' + b"[" * 5000 + b"]" * 5000 + b"}}",
    ],
)
def test_hostile_bytes_are_4xx(live, raw):
    response = live.post(SIGN, raw, raw=True)
    assert 400 <= response.status_code < 500 and "Traceback" not in response.text


def _deep(levels: int) -> Any:
    value: Any = {"resourceType": "Bundle", "entry": []}
    for _ in range(levels):
        value = {"resourceType": "Bundle", "entry": [{"resource": value}]}
    return value


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["context"].update(draftOrders="MedicationRequest/1"),
        lambda b: b["context"].update(draftOrders=[[[[["deep"]]]]] * 10),
        lambda b: b["context"].update(draftOrders=_deep(300)),
        lambda b: b["context"].update(patientId={"id": PATIENT}),
        lambda b: b["context"].update(userId=[1, 2]),
        lambda b: b.update(prefetch={k: [1, "x", None] for k in b["prefetch"]}),
        lambda b: b.update(prefetch={k: 7 for k in b["prefetch"]}),
        lambda b: b.update(prefetch=["patient"]),
        lambda b: b.update(hookInstance=12345),
        lambda b: b["context"]["draftOrders"]["entry"].append({"resource": {"resourceType": 5, "id": {"x": 1}}}),
        lambda b: b["context"]["draftOrders"]["entry"][0]["resource"].update(dosageInstruction="twice"),
        lambda b: b["context"]["draftOrders"]["entry"][0]["resource"].update(medicationCodeableConcept=[None]),
    ],
)
def test_wrong_types_never_5xx(live, change):
    body = sign_body()
    change(body)
    response = live.sign(body)
    assert response.status_code in (200, 400, 412), response.status_code
    assert "Traceback" not in response.text
    if response.status_code == 200:
        assert_cards_conform(response.json()["cards"])


def test_thousands_of_resources_are_read_in_time(live):
    orders = [med_request(OXYCODONE_5, id=f"hist-{n}", status="completed", authored="2025-12-01") for n in range(3000)]
    body = sign_body(prefetch=None)
    body["prefetch"]["medsRecent"] = _bundle(orders)
    started = time.monotonic()
    response = live.sign(body)
    assert response.status_code == 200 and time.monotonic() - started < 10


def test_crafted_medication_references_and_names_are_defused(live):
    draft = oxy_draft()
    hostile = "Oxy <img src=x onerror=alert(1)> [x](javascript:alert(1))"
    draft["medicationCodeableConcept"]["text"] = hostile
    draft["medicationCodeableConcept"]["coding"][0]["display"] = hostile
    steer = oxy_draft("draft-steer")
    steer.pop("medicationCodeableConcept")
    steer["medicationReference"] = {"reference": "Medication/../../../evil-jwks/x"}
    before = len(live.fake.seen)
    response = live.sign(sign_body([draft, steer], fhir=live.fhir("ok")))
    assert response.status_code == 200
    assert all(s.path.startswith("/ok/fhir/") for s in live.fake.seen[before:])
    for card in response.json()["cards"]:
        assert not re.search(r"<\s*[A-Za-z/!?]|\]\(\s*javascript:", card.get("detail", ""), re.IGNORECASE)
    assert_cards_conform(response.json()["cards"])


# --- SMART launch ----------------------------------------------------------------------------------------------


def test_launch_iss_off_the_allowlist_causes_no_outbound_request(live):
    before = len(live.fake.seen)
    evil = f"{live.fake.base}/evil/fhir"
    for iss in (evil, "http://169.254.169.254/latest", f"{live.fake.base}/ok/fhir/../evil", "javascript:alert(1)"):
        response = live.http.get(live.base + "/launch", params={"iss": iss, "launch": "x"}, allow_redirects=False)
        assert response.status_code == 400 and "Location" not in response.headers
    assert live.fake.seen[before:] == []


def test_launch_redirect_carries_pkce_state_and_aud_and_a_tampered_state_is_refused(live):
    iss = live.fhir("ok")
    response = live.http.get(live.base + "/launch", params={"iss": iss, "launch": "L1"}, allow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{live.fake.base}/ok/auth/authorize"
    assert query["response_type"] == "code" and query["client_id"] == "painplan" and query["aud"] == iss
    assert query["launch"] == "L1" and "launch" in query["scope"].split()
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) >= 43
    assert len(query["state"]) >= 22  # ≥ 122 bits, base64url
    cookie = response.headers["Set-Cookie"].lower()
    assert "httponly" in cookie and query["state"].lower() not in cookie
    before = len(live.fake.seen)
    tampered = live.http.get(
        live.base + "/launch/callback", params={"state": query["state"] + "x", "code": "c"}, allow_redirects=False
    )
    assert tampered.status_code == 400 and live.fake.seen[before:] == []
    stolen = requests.get(  # right state, another browser (no cookie): refused, no token request
        live.base + "/launch/callback", params={"state": query["state"], "code": "c"}, allow_redirects=False, timeout=10
    )
    assert stolen.status_code == 400 and live.fake.seen[before:] == []
    for error in ("access_denied", "<script>x</script>"):
        page = live.http.get(
            live.base + "/launch/callback",
            params={"state": "s", "error": error, "error_description": "<b>evil</b> token=abc"},
            allow_redirects=False,
        )
        assert page.status_code == 400 and "<b>evil" not in page.text and "<script>x" not in page.text
        assert "token=abc" not in page.text and page.headers["Cache-Control"] == "no-store"
    for target in ("https://evil.example/", "//evil.example"):
        bounce = live.http.get(
            live.base + "/launch/callback",
            params={"state": "s", "code": "c", "redirect_uri": target},
            allow_redirects=False,
        )
        assert "evil" not in bounce.headers.get("Location", "")


# --- the log, last: nothing above may have put a token or a patient id into it ----------------------------------


def test_zz_the_server_log_holds_no_tokens_patient_ids_or_tracebacks(live):
    log = live.log_path.read_text(errors="replace")
    assert '"event":"hook"' in log  # the log is really captured
    for secret in (ACCESS_TOKEN, PATIENT, EPIC_PATIENT, "pt-7", "Bearer ey"):
        assert secret not in log, secret
    assert "Traceback" not in log
