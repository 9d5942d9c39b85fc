"""A tiny read-only FHIR R4 server over the demo bundles (`/demo/fhir`), so the services can call back to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, json, request

from guideline.record import READ_RESOURCE_TYPES
from smart_app.config import Settings
from smart_app.demo_data import DemoPatient, load_demo_patients
from smart_app.demo_search import (
    DATE_PARAMS,
    LAST_UPDATED,
    PAGING_PARAMS,
    TOKEN_PARAMS,
    SearchError,
    parse_query,
)

FHIR_JSON = "application/fhir+json"
# Types that the facade lists in its CapabilityStatement; reads and searches work for any type in the bundles.
SEARCHABLE = tuple(dict.fromkeys((*READ_RESOURCE_TYPES, "Goal")))  # Goal: the goals the plan page writes, reads back


@dataclass(frozen=True)
class DemoIndex:
    """The shifted demo data, indexed for reads (type, id) and patient searches (patient, type)."""

    patients: Mapping[str, DemoPatient]
    by_id: Mapping[tuple[str, str], dict[str, Any]]
    by_patient: Mapping[tuple[str, str], tuple[dict[str, Any], ...]]


@lru_cache(maxsize=4)
def demo_index(today: date) -> DemoIndex:
    patients = load_demo_patients(today)
    by_id: dict[tuple[str, str], dict[str, Any]] = {}
    by_patient: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for patient in patients.values():
        for resource in patient.resources():
            kind, resource_id = resource["resourceType"], resource["id"]
            by_id[(kind, resource_id)] = resource
            by_patient.setdefault((patient.id, kind), []).append(resource)
    return DemoIndex(patients, by_id, {key: tuple(value) for key, value in by_patient.items()})


def evaluation_date(settings: Settings) -> date:
    """The demo's "today": the configured date, else the current date in the guideline's time zone."""
    if settings.today:
        return settings.today
    return datetime.now(ZoneInfo(settings.guideline["timezone"])).date()


def operation_outcome(status: int, code: str, message: str) -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    return Response(json.dumps(body), status=status, mimetype=FHIR_JSON)


def _fhir(body: Mapping[str, Any]) -> Response:
    return Response(json.dumps(body), mimetype=FHIR_JSON)


Params = Sequence[tuple[str, str]]


def search_bundle(
    index: DemoIndex, resource_type: str, params: Params | Mapping[str, str], base_url: str
) -> dict[str, Any] | None:
    """A searchset Bundle for `resource_type` in one patient's data, filtered, sorted and paged as the parameters
    say (smart_app.demo_search). None means the search names no patient; a bad parameter raises SearchError."""
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)

    def resolve(reference: str) -> dict[str, Any] | None:
        kind, _, resource_id = reference.rpartition("/")
        return index.by_id.get((kind.rsplit("/", 1)[-1], resource_id))

    query = parse_query(resource_type, pairs, resolve)
    if resource_type == "Patient":
        candidates = [index.by_id[("Patient", pid)] for pid in index.patients]
    elif query.patient_id is None:
        return None
    else:
        candidates = list(index.by_patient.get((query.patient_id, resource_type), ()))
    found = query.select(candidates, resource_type)
    count, offset = query.count, min(query.offset, len(found))
    page = found[offset : offset + count]
    kept = [(k, v) for k, v in pairs if k not in PAGING_PARAMS]

    def page_url(start: int) -> str:
        return f"{base_url}/{resource_type}?" + urlencode([*kept, ("_count", count), ("_offset", start)])

    links = [{"relation": "self", "url": page_url(offset)}]
    if count and offset + count < len(found):
        links.append({"relation": "next", "url": page_url(offset + count)})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in page
        ],
    }


def capability_statement(settings: Settings, base_url: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": evaluation_date(settings).isoformat(),
        "kind": "instance",
        "software": {"name": "PainPlan demo FHIR facade"},
        "implementation": {"description": "Read-only demo patients (no authentication)", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    {
                        "type": kind,
                        "interaction": [{"code": "read"}, {"code": "search-type"}, *_write_interactions(kind)],
                        "searchParam": [
                            {"name": "patient", "type": "reference"},
                            {"name": "_id", "type": "token"},
                            {"name": "_count", "type": "number"},
                            {"name": LAST_UPDATED, "type": "date"},
                            *({"name": n, "type": "date"} for n in DATE_PARAMS.get(kind, {})),
                            *({"name": n, "type": "token"} for n in TOKEN_PARAMS.get(kind, {})),
                        ],
                    }
                    for kind in SEARCHABLE
                ],
            }
        ],
    }


def _write_interactions(kind: str) -> list[dict[str, str]]:
    """The writes the demo accepts for the plan page's forms (smart_app.demo_writes)."""
    from launch.scopes import WRITE_RESOURCES

    rights = WRITE_RESOURCES.get(kind, "")
    return [{"code": code} for letter, code in (("c", "create"), ("u", "update")) if letter in rights]


def create_demo_fhir_blueprint(settings: Settings) -> Blueprint:
    """Routes under /demo/fhir: metadata, read, and patient-scoped search (GET, or POST _search)."""
    blueprint = Blueprint("demo_fhir", __name__, url_prefix="/demo/fhir")
    base_url = settings.public_url.rstrip("/") + "/demo/fhir"

    def _current() -> DemoIndex:
        from smart_app.demo_writes import with_writes

        return with_writes(demo_index(evaluation_date(settings)))

    from smart_app.demo_writes import create_demo_writes_blueprint

    blueprint.register_blueprint(create_demo_writes_blueprint(settings, base_url, _current))

    @blueprint.get("/metadata")
    def metadata() -> Response:
        return _fhir(capability_statement(settings, base_url))

    @blueprint.get("/<resource_type>/<path:resource_id>")
    def read(resource_type: str, resource_id: str) -> Response:
        resource = _current().by_id.get((resource_type, resource_id))
        if resource is None:
            return operation_outcome(404, "not-found", f"{resource_type}/{resource_id} is not in the demo data")
        return _fhir(resource)

    def _search(resource_type: str, params: Params) -> Response:
        if not resource_type[:1].isupper() or not resource_type.isalpha():
            return operation_outcome(404, "not-supported", "unknown resource type")
        try:
            bundle = search_bundle(_current(), resource_type, params, base_url)
        except SearchError as error:
            return operation_outcome(400, "invalid", str(error))
        if bundle is None:
            return operation_outcome(400, "required", "the demo server only answers searches for one patient")
        return _fhir(bundle)

    @blueprint.get("/<resource_type>")
    def search(resource_type: str) -> Response:
        return _search(resource_type, list(request.args.items(multi=True)))

    @blueprint.post("/<resource_type>/_search")
    def search_post(resource_type: str) -> Response:
        return _search(resource_type, [*request.args.items(multi=True), *request.form.items(multi=True)])

    return blueprint
