"""Shared CDS test helpers: an EHR "harness" with its own keys and JWKS, signed JWTs, request builders, app."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import responses
from builders import PATIENT_ID, TODAY, med_request, patient
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from smart_app import create_app

PUBLIC = "https://cds.painplan.test"
HARNESS_ISS = "https://harness.test"
HARNESS_JWKS = "https://harness.test/.well-known/jwks.json"
PINNED_ISS = "https://pinned.test"
FHIR = "https://ehr.test/fhir"
ALGS = ["ES384", "RS384", "ES256", "RS256", "HS256", "none"]
OXYCODONE_5 = "1049621"  # oxycodone hydrochloride 5 MG Oral Tablet
# Another product: an active order of it beside a 5 mg draft adds (a same-product draft is read as a renewal).
OXYCODONE_10 = "1049683"  # oxycodone hydrochloride 10 MG Oral Tablet
AMOXICILLIN = "308191"  # amoxicillin 500 MG Oral Capsule


class Harness:
    """Plays the CDS client: ES384 and RS384 keys published as a JWKS, and a token factory."""

    def __init__(self) -> None:
        self.ec = ECKey.generate_key("P-384", parameters={"kid": "ec-1", "use": "sig"})
        self.rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})

    def jwks(self, *extra: Any) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in (self.ec, self.rsa, *extra)]}

    def token(
        self,
        aud: str | list[str],
        *,
        alg: str = "ES384",
        key: Any = None,
        iss: str = HARNESS_ISS,
        lifetime: int = 300,
        now: float | None = None,
        header: Mapping[str, Any] | None = None,
        drop: Sequence[str] = (),
        **claims: Any,
    ) -> str:
        now = time.time() if now is None else now
        key = key or (self.rsa if alg.startswith("RS") else self.ec)
        body = {"iss": iss, "aud": aud, "iat": int(now), "exp": int(now) + lifetime, "jti": str(uuid.uuid4())}
        body.update(claims)
        for name in drop:
            body.pop(name, None)
        head = {"alg": alg, "typ": "JWT", "kid": key.kid, "jku": HARNESS_JWKS if iss == HARNESS_ISS else None}
        head.update(header or {})
        head = {k: v for k, v in head.items() if v is not None}
        return jwt.encode(head, body, key, algorithms=ALGS)

    def auth(self, path: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(PUBLIC + path, **kwargs)}"}


def trusted_clients_file(tmp_path: Path, harness: Harness, **extra: Any) -> str:
    entries = [
        {"iss": HARNESS_ISS, "jwks_url": HARNESS_JWKS, **extra},
        {"iss": PINNED_ISS, "jwks": harness.jwks()},
    ]
    path = tmp_path / "trusted.json"
    path.write_text(json.dumps(entries))
    return str(path)


def make_app(tmp_path: Path, **settings: Any):
    """The real app factory with a fixed evaluation date and the test public URL."""
    values = {
        "instance_path": str(tmp_path / "instance"),
        "today": TODAY.isoformat(),
        "public_url": PUBLIC,
        "auth": "off",
        "secret_key": "test-secret",
        **settings,
    }
    app = create_app(values)
    app.config["TESTING"] = True
    return app


def plan_page(tmp_path: Path, *resources: Mapping[str, Any]) -> str:
    """The plan page of patient p1 with these resources of the record beside the patient (no fills, no drafts), as
    the real app renders it."""
    from werkzeug.datastructures import MultiDict

    from smart_app.plan_view import PageInput, assemble, render_page

    app = make_app(tmp_path)
    settings = app.config["PAINPLAN"]
    with app.test_request_context("/plan"):
        view = assemble(
            PageInput((patient(), *resources), (), ()), settings.guideline, "p1", settings.evaluation_now(), MultiDict()
        )
        return render_page(view, MultiDict(), lambda **_: "/plan", handle="H")


def db(app):
    return app.extensions["painplan.db"]


def oxycodone_draft(dose: int = 2, every_hours: int = 4, **kwargs: Any) -> dict[str, Any]:
    """Oxycodone 5 mg: `dose` tablets every `every_hours` h; 2 q4h = 12 tablets = 60 mg = 90 MME."""
    return med_request(OXYCODONE_5, draft=True, id="draft-oxy", dose=dose, period=every_hours, **kwargs)


def hook_request(
    hook: str = "order-sign",
    *,
    drafts: Sequence[Mapping[str, Any]] = (),
    prefetch: Mapping[str, Any] | None = None,
    fhir: bool = False,
    token: str | None = "tok-123",
    **extra: Any,
) -> dict[str, Any]:
    """A CDS Hooks request; `prefetch=None` sends every key of the hook as an empty Bundle."""
    context: dict[str, Any] = {"userId": "Practitioner/dr1", "patientId": PATIENT_ID, "encounterId": "enc1"}
    if hook != "patient-view":
        context["draftOrders"] = {"resourceType": "Bundle", "entry": [{"resource": d} for d in drafts]}
    if hook == "order-select":
        context["selections"] = [f"MedicationRequest/{d['id']}" for d in drafts]
    body: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    body["prefetch"] = full_prefetch(hook) if prefetch is None else dict(prefetch)
    if fhir:
        body["fhirServer"] = FHIR
        if token:
            body["fhirAuthorization"] = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "user/Patient.read user/MedicationRequest.read",
                "subject": "painplan",
            }
    body.update(extra)
    return body


def bundle(*resources: Mapping[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": dict(r)} for r in resources]}


def search_fails(resource_type: str) -> None:
    """An Epic-like FHIR server (under `responses`) that answers HTTP 500 to searches of `resource_type` and an
    empty Bundle to the rest."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        if urlsplit(request.url).path.startswith(f"/fhir/{resource_type}"):
            outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception"}]}
            return 500, {}, json.dumps(outcome)
        return 200, {}, json.dumps(bundle())

    responses.add_callback(responses.GET, re.compile(FHIR + "/.*"), callback=answer)


def full_prefetch(hook: str, **values: Any) -> dict[str, Any]:
    from cds_hooks.services import templates
    from guideline.config import GuidelineConfig

    keys = templates(hook, GuidelineConfig.from_mapping())
    prefetch: dict[str, Any] = {key: bundle() for key in keys}
    prefetch["patient"] = patient()
    prefetch.update(values)
    return prefetch


def data_incomplete_detail(tmp_path: Path, **prefetch_values: Any) -> str:
    """The data-incomplete card's detail for an order-sign of `oxycodone_draft()` with these prefetch values (the rest
    of the prefetch present and empty)."""
    prefetch = full_prefetch("order-sign", **prefetch_values)
    response = (
        make_app(tmp_path)
        .test_client()
        .post("/cds-services/order-sign", json=hook_request(drafts=[oxycodone_draft()], prefetch=prefetch))
    )
    return next(c for c in response.json["cards"] if c["source"]["topic"]["code"] == "data-incomplete")["detail"]


def topics(response_json: Mapping[str, Any]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in response_json["cards"]]


def raising(error: Exception) -> Callable[..., NoReturn]:
    """A stand-in for any function, failing with `error` (to test what one failing part costs a hook call)."""

    def fail(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise error

    return fail
