"""Errors (standards 5 #7–#12, 413, 415) are OperationOutcomes, and nothing a client sends yields a 5xx."""

from __future__ import annotations

import io
import json

import pytest
from cds_support import hook_request, make_app, oxycodone_draft


@pytest.fixture
def client(tmp_path):
    return make_app(tmp_path, max_body_bytes=200_000).test_client()


def outcome(response) -> str:
    body = response.json
    assert body["resourceType"] == "OperationOutcome", body
    return body["issue"][0].get("diagnostics", "")


@pytest.mark.parametrize("missing", ["hook", "hookInstance", "context"])
def test_missing_required_fields_are_400(client, missing):
    body = hook_request(drafts=[oxycodone_draft()])
    del body[missing]
    response = client.post("/cds-services/order-sign", json=body)
    assert response.status_code == 400 and missing in outcome(response)


def test_hook_not_matching_the_service_is_400(client):
    response = client.post("/cds-services/order-sign", json=hook_request("patient-view"))
    assert response.status_code == 400 and "order-sign" in outcome(response)


def test_fhir_authorization_without_fhir_server_is_400(client):
    body = hook_request(fhir=True)
    del body["fhirServer"]
    response = client.post("/cds-services/order-sign", json=body)
    assert response.status_code == 400 and "fhirServer" in outcome(response)


def test_plain_http_fhir_server_is_refused_unless_allowed(client, tmp_path):
    body = hook_request(fhir=True, fhirServer="http://ehr.test/fhir")
    assert client.post("/cds-services/order-sign", json=body).status_code == 400
    relaxed = make_app(tmp_path / "relaxed", allow_http=True).test_client()
    assert relaxed.post("/cds-services/order-sign", json=body).status_code == 200


def test_malformed_json_and_wrong_content_type(client):
    bad = client.post("/cds-services/order-sign", data="{not json", content_type="application/json")
    assert bad.status_code == 400 and "JSON" in outcome(bad)
    text = client.post("/cds-services/order-sign", data=json.dumps(hook_request()), content_type="text/plain")
    assert text.status_code in (400, 415)
    fhir_json = client.post(
        "/cds-services/order-sign", data=json.dumps(hook_request()), content_type="application/fhir+json"
    )
    assert fhir_json.status_code == 200


def test_unknown_service_404_and_wrong_method_405(client):
    assert client.post("/cds-services/does-not-exist", json=hook_request()).status_code == 404
    assert client.get("/cds-services/order-sign").status_code == 405
    assert client.post("/cds-services").status_code == 405
    assert client.get("/cds-services/order-sign/feedback").status_code == 405
    deep = client.get("/cds-services/a/b/c")
    assert deep.status_code == 404 and outcome(deep) == "not found"


def test_body_over_the_limit_is_413(client):
    huge = hook_request(padding="x" * 300_000)
    response = client.post("/cds-services/order-sign", json=huge)
    assert response.status_code == 413 and response.json["resourceType"] == "OperationOutcome"


def test_unknown_fields_and_epic_extension_object_change_nothing(client):
    plain = hook_request(drafts=[oxycodone_draft()])
    extended = json.loads(json.dumps(plain))
    extended["context"]["com.vendor.extra"] = {"anything": [1, 2]}
    extended["extension"] = {"com.epic.cdshooks.request.bpa-trigger-action": "23"}
    first = client.post("/cds-services/order-sign", json=plain).json
    second = client.post("/cds-services/order-sign", json=extended).json
    assert [c["summary"] for c in first["cards"]] == [c["summary"] for c in second["cards"]]


HOSTILE = [
    None,
    [],
    "a string",
    12,
    {"hook": 5, "hookInstance": [], "context": "x"},
    {"hook": "order-sign", "hookInstance": "i", "context": {"patientId": {"$ne": 1}, "draftOrders": "oops"}},
    {"hook": "order-sign", "hookInstance": "i", "context": {"draftOrders": [1, None, {"resourceType": 7}]}},
    {"hook": "order-sign", "hookInstance": "i", "context": {}, "prefetch": {"patient": [None, 1, "x"]}},
    {"hook": "order-sign", "hookInstance": "i", "context": {}, "prefetch": "not an object"},
    {"hook": "order-sign", "hookInstance": "i", "context": {"selections": "MedicationRequest/1"}},
    {"hook": "order-sign", "hookInstance": "i", "context": {}, "fhirAuthorization": "tok"},
    {"hook": "order-sign", "hookInstance": "i", "context": {}, "fhirServer": "javascript:alert(1)"},
    {
        "hook": "order-sign",
        "hookInstance": "i",
        "context": {
            "patientId": "p1",
            "draftOrders": {
                "resourceType": "Bundle",
                "entry": [
                    {
                        "resource": {
                            "resourceType": "MedicationRequest",
                            "id": {"nested": True},
                            "dosageInstruction": [{"doseAndRate": "x", "timing": {"repeat": {"frequency": "NaN"}}}],
                            "medicationCodeableConcept": {"coding": "not a list"},
                            "dispenseRequest": {"expectedSupplyDuration": {"value": 1e308, "unit": "eons"}},
                        }
                    }
                ],
            },
        },
        "prefetch": {"medsActive": {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": None}}]}},
    },
]


@pytest.mark.parametrize("body", HOSTILE)
@pytest.mark.parametrize("service", ["order-sign", "order-select", "patient-view"])
def test_nothing_a_client_sends_produces_a_5xx(client, body, service):
    if isinstance(body, dict) and body.get("hook") == "order-sign":
        body = {**body, "hook": service}
    response = client.post(f"/cds-services/{service}", data=json.dumps(body), content_type="application/json")
    assert response.status_code < 500
    assert response.is_json
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "raw",
    [b"\xff\xfe\x00", b"[" * 100_000, b'{"a":' * 50_000, b"NaN", b'{"hook": "order-sign"' + b" " * 10],
)
def test_garbage_bytes_never_produce_a_5xx(client, raw):
    for path in ("/cds-services/order-sign", "/cds-services/order-sign/feedback"):
        response = client.post(path, data=raw, content_type="application/json")
        assert 400 <= response.status_code < 500


def test_an_oversized_chunked_body_is_413_not_a_json_error(client):
    # Found live under gunicorn: a chunked body has no Content-Length, and Werkzeug silently cut it at the limit,
    # so a too-large chart was answered "not valid JSON".
    import io

    def chunked(data: bytes) -> dict:  # a stream of unknown length, as a chunked upload reaches the app
        return {"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True, "HTTP_TRANSFER_ENCODING": "chunked"}

    body = json.dumps({**hook_request(drafts=[oxycodone_draft()]), "pad": "a" * 300_000}).encode()
    response = client.post(
        "/cds-services/order-sign",
        content_type="application/json",
        environ_overrides=chunked(body),
    )
    assert response.status_code == 413 and "too large" in outcome(response)
    small = json.dumps(hook_request(drafts=[oxycodone_draft()])).encode()
    streamed = client.post(
        "/cds-services/order-sign",
        content_type="application/json",
        environ_overrides=chunked(small),
    )
    assert streamed.status_code == 200


class _Trickle(io.RawIOBase):
    """A request stream that hands out at most `step` bytes per read, as a socket may."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.at = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self.data[self.at : self.at + min(self.step, len(buffer))]
        buffer[: len(piece)] = piece
        self.at += len(piece)
        return len(piece)


@pytest.mark.parametrize("terminated", [True, False])
def test_a_body_that_arrives_in_pieces_is_read_whole_and_one_cut_short_is_refused(client, terminated):
    """The service reads a body of known length into one buffer: short reads are read on, an early end is not
    taken for the whole body."""
    body = json.dumps(hook_request(drafts=[oxycodone_draft()])).encode()

    def post(stream: io.RawIOBase, length: int):
        environ = {"wsgi.input": stream, "CONTENT_LENGTH": str(length)}
        if terminated:
            environ["wsgi.input_terminated"] = True
        return client.post("/cds-services/order-sign", content_type="application/json", environ_overrides=environ)

    whole = post(_Trickle(body, 1000), len(body))
    assert whole.status_code == 200 and whole.json["cards"]
    cut = post(_Trickle(body[: len(body) // 2], 1000), len(body))
    if terminated:  # the server says the stream is all there is: half a body is not valid JSON
        assert cut.status_code == 400
    else:  # Werkzeug reports a client gone before its Content-Length arrived; nothing was evaluated
        assert [card["source"]["topic"]["code"] for card in cut.json["cards"]] == ["checks-not-run"]


def test_a_body_not_in_utf8_is_refused_saying_where_and_never_quoting_it(client):
    """A body saved in a Windows code page ("®" as the single byte 0xae) is a 400 that places the byte, as the
    settings files' errors do; it was answered "not valid JSON", which sends an integrator looking for a syntax
    error. The text around the byte is never echoed (it may be a patient's chart)."""
    raw = json.dumps(hook_request(drafts=[oxycodone_draft()]), indent=1).encode()
    at = raw.index(b'"', raw.index(b"\n", raw.index(b"\n") + 1) + 1) + 1  # inside line 3's first string
    raw = raw[:at] + b"Tylenol\xae " + raw[at:]
    line = raw.count(b"\n", 0, raw.index(b"\xae")) + 1
    column = raw.index(b"\xae") - raw.rfind(b"\n", 0, raw.index(b"\xae"))
    for path in ("/cds-services/order-sign", "/cds-services/order-sign/feedback"):
        response = client.post(path, data=raw, content_type="application/json")
        said = outcome(response)
        assert response.status_code == 400, path
        assert said == f"the request body is not UTF-8 text (byte 0xae at line {line}, column {column})", said
        assert "Tylenol" not in response.get_data(as_text=True)
