"""The demo FHIR server's writes: create and update into a per-run store that reads and searches then include."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, request

from launch.scopes import WRITE_RESOURCES
from smart_app.config import Settings

FHIR_JSON = "application/fhir+json"
EXTENSION_KEY = "painplan.demo_writes"
MAX_WRITES = 2000  # a demo runs for a day at most; beyond this the oldest writes are kept, new ones refused


@dataclass
class DemoWrites:
    """Resources written during this run, by (type, id); lost when the demo stops, as a demo should be."""

    resources: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: Any = field(default_factory=lambda: itertools.count(1))

    def put(self, resource: dict[str, Any]) -> None:
        with self.lock:
            self.resources[(resource["resourceType"], resource["id"])] = resource

    def snapshot(self) -> tuple[dict[str, Any], ...]:
        with self.lock:
            return tuple(self.resources.values())


def store() -> DemoWrites:
    return current_app.extensions.setdefault(EXTENSION_KEY, DemoWrites())


def with_writes(index: Any) -> Any:
    """The demo index with this run's writes laid over it (a written id replaces the bundled one)."""
    written = store().snapshot()
    if not written:
        return index
    by_id = dict(index.by_id)
    by_patient = {key: list(value) for key, value in index.by_patient.items()}
    for resource in written:
        key = (resource["resourceType"], resource["id"])
        patient = _patient_id(resource)
        if key in by_id and patient:
            listed = by_patient.get((patient, key[0]), [])
            by_patient[(patient, key[0])] = [r for r in listed if r.get("id") != key[1]]
        by_id[key] = resource
        if patient:
            by_patient.setdefault((patient, key[0]), []).append(resource)
    return type(index)(index.patients, by_id, {key: tuple(value) for key, value in by_patient.items()})


def _patient_id(resource: Mapping[str, Any]) -> str | None:
    for name in ("subject", "patient"):
        reference = (resource.get(name) or {}).get("reference") if isinstance(resource.get(name), Mapping) else None
        if isinstance(reference, str) and reference.startswith("Patient/"):
            return reference.split("/", 1)[1]
    return None


def _outcome(status: int, code: str, message: str) -> Response:
    body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": message}]}
    return Response(json.dumps(body), status=status, mimetype=FHIR_JSON)


def _checked(resource_type: str, patients: Mapping[str, Any]) -> dict[str, Any] | Response:
    """The request body as a valid R4 resource of `resource_type` for a demo patient, or the error answer."""
    if resource_type not in WRITE_RESOURCES:
        return _outcome(405, "not-supported", f"the demo server does not accept {resource_type[:40]} writes")
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict) or body.get("resourceType") != resource_type:
        return _outcome(400, "structure", f"the body must be a {resource_type} resource")
    from smart_app.write.validate import InvalidResource, validated

    try:
        resource = validated(body)
    except InvalidResource as error:
        return _outcome(422, "invalid", str(error))
    if _patient_id(resource) not in patients:
        return _outcome(422, "invariant", "the resource must be for one of the demo patients")
    return resource


def _stamped(resource: dict[str, Any], ident: str, version: int) -> dict[str, Any]:
    moment = datetime.now(UTC).isoformat(timespec="seconds")
    return {**resource, "id": ident, "meta": {"versionId": str(version), "lastUpdated": moment}}


def create_demo_writes_blueprint(settings: Settings, base_url: str, index_of: Any) -> Blueprint:
    """POST /<type> creates, PUT /<type>/<id> updates (Goal and CarePlan, refused with 412 when If-Match names
    another version), each answered like a FHIR server."""
    blueprint = Blueprint("demo_fhir_writes", __name__)

    def saved(resource: dict[str, Any], status: int) -> Response:
        location = f"{base_url}/{resource['resourceType']}/{resource['id']}/_history/{resource['meta']['versionId']}"
        response = Response(json.dumps(resource), status=status, mimetype=FHIR_JSON)
        response.headers["Location"] = location
        return response

    @blueprint.post("/<resource_type>")
    def create(resource_type: str) -> Response:
        index = index_of()
        checked = _checked(resource_type, index.patients)
        if isinstance(checked, Response):
            return checked
        writes = store()
        if len(writes.resources) >= MAX_WRITES:
            return _outcome(507, "too-costly", "the demo's store is full; restart the demo")
        resource = _stamped(checked, f"demo-w{next(writes.counter)}", 1)
        writes.put(resource)
        return saved(resource, 201)

    @blueprint.put("/<resource_type>/<resource_id>")
    def update(resource_type: str, resource_id: str) -> Response:
        if "u" not in WRITE_RESOURCES.get(resource_type, ""):
            return _outcome(405, "not-supported", f"the demo server does not update {resource_type[:40]}")
        index = index_of()
        checked = _checked(resource_type, index.patients)
        if isinstance(checked, Response):
            return checked
        if checked.get("id") != resource_id:
            return _outcome(400, "invariant", "the id in the body must match the id in the URL")
        existing = index.by_id.get((resource_type, resource_id))
        if existing is not None and _patient_id(existing) != _patient_id(checked):
            return _outcome(422, "invariant", "an update cannot move a record to another patient")
        current = int((existing or {}).get("meta", {}).get("versionId", "0") or 0)
        expected = request.headers.get("If-Match")
        if expected and expected not in (f'W/"{current}"', f'"{current}"'):
            return _outcome(412, "conflict", "the record has changed since that version was read")
        resource = _stamped(checked, resource_id, current + 1)
        store().put(resource)
        return saved(resource, 200 if existing is not None else 201)

    return blueprint
