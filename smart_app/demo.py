"""The one-command demo: an EHR simulator page at /demo, its FHIR facade, a no-OAuth plan launch, and its settings.

`painplan demo` itself (serving the app built by the factory) is smart_app.demo_command: the factory mounts this
module, so it must not import the factory back."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from smart_app.commands import command_settings
from smart_app.config import Settings
from smart_app.demo_data import DemoPatient
from smart_app.demo_data.orders import catalog_json
from smart_app.demo_fhir import create_demo_fhir_blueprint, demo_index, evaluation_date

DEMO_USER = "Practitioner/demo-clinician"


def _age(birth: str | None, today: date) -> int | None:
    if not birth:
        return None
    born = date.fromisoformat(birth[:10])
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _concept_text(concept: Mapping[str, Any] | None) -> str:
    concept = concept or {}
    if concept.get("text"):
        return str(concept["text"])
    return next((str(c["display"]) for c in concept.get("coding", []) if c.get("display")), "unnamed")


def _status_code(concept: Mapping[str, Any] | None) -> str:
    return next((str(c["code"]) for c in (concept or {}).get("coding", []) if c.get("code")), "")


def _medication_text(order: Mapping[str, Any], medications: Mapping[str, Mapping[str, Any]]) -> str:
    if "medicationCodeableConcept" in order:
        return _concept_text(order["medicationCodeableConcept"])
    reference = order.get("medicationReference", {})
    target = medications.get(str(reference.get("reference", "")).rsplit("/", 1)[-1])
    return _concept_text(target.get("code")) if target else str(reference.get("display", "unnamed medication"))


def chart_summary(patient: DemoPatient, today: date) -> dict[str, Any]:
    """What the simulator's chart shows for one patient: banner, active orders and problem list."""
    person = patient.resources("Patient")[0]
    medications = {m["id"]: m for m in patient.resources("Medication")}
    active = [
        {
            "id": order["id"],
            "text": _medication_text(order, medications),
            "sig": (order.get("dosageInstruction") or [{}])[0].get("text", ""),
            "authoredOn": str(order.get("authoredOn", ""))[:10],
        }
        for order in patient.resources("MedicationRequest")
        if order.get("status") == "active"
    ]
    problems = [
        {
            "text": _concept_text(condition.get("code")),
            "status": _status_code(condition.get("clinicalStatus")),
        }
        for condition in patient.resources("Condition")
    ]
    mrn = next((i.get("value") for i in person.get("identifier", []) if i.get("value")), "")
    return {
        "id": patient.id,
        "name": patient.name,
        "title": patient.title,
        "story": patient.story,
        "gender": person.get("gender", ""),
        "birthDate": person.get("birthDate", ""),
        "age": _age(person.get("birthDate"), today),
        "mrn": mrn,
        "expected": {hook: list(checks) for hook, checks in patient.expected.items()},
        "order": {
            "drug": patient.order.drug,
            "sig": patient.order.sig,
            "days": patient.order.days,
            "refills": patient.order.refills,
            "replaces": patient.order.replaces or "",
        },
        "activeOrders": active,
        "problems": problems,
    }


def page_data(settings: Settings, today: date) -> dict[str, Any]:
    """Everything demo.js needs, embedded in the page as JSON (no second round trip, works offline)."""
    public = settings.public_url.rstrip("/")
    patients = demo_index(today).patients
    return {
        "today": today.isoformat(),
        "fhirServer": public + "/demo/fhir",
        "userId": DEMO_USER,
        "discovery": "/cds-services",
        "launchPath": "/demo/launch",
        "patients": [chart_summary(p, today) for p in patients.values()],
        "catalog": catalog_json(),
    }


def _app_context(raw: str | None) -> dict[str, Any] | None:
    """A card's appContext string, read as a JSON object; anything else is dropped (it is only a hint)."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def demo_scope(settings: Settings) -> str:
    """What the built-in EHR grants: the plan's reads, and its writes unless write_back is off."""
    from launch.scopes import resource_scopes, write_scopes

    granted = [*resource_scopes(True), *(write_scopes(True) if settings.write_back else ())]
    return " ".join(["launch", *granted])


def create_demo_blueprint(settings: Settings) -> Blueprint:
    """The simulator page, the demo launch and the FHIR facade (registered only when settings.demo is on)."""
    blueprint = Blueprint("demo", __name__, url_prefix="/demo")
    blueprint.register_blueprint(create_demo_fhir_blueprint(settings), url_prefix="/fhir")
    fhir_base = settings.public_url.rstrip("/") + "/demo/fhir"

    @blueprint.get("")
    @blueprint.get("/")
    def simulator() -> str:
        today = evaluation_date(settings)
        data = page_data(settings, today)
        # "<" escaped as \u003c keeps the JSON valid and stops any "</script>" in the data from closing the tag.
        data_json = json.dumps(data).replace("<", "\\u003c")
        return render_template("demo.html", data=data, data_json=data_json, today=today)

    @blueprint.get("/launch")
    def launch() -> Response:
        patient_id = request.args.get("patient", "")
        if patient_id not in demo_index(evaluation_date(settings)).patients:
            abort(400, description="Unknown demo patient.")
        from launch.session import begin_trusted_launch

        return begin_trusted_launch(
            iss=fhir_base,
            patient_id=patient_id,
            app_context=_app_context(request.args.get("appContext")),
            scope=demo_scope(settings),
        )

    return blueprint


def demo_settings(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """Settings for `painplan demo`: authentication off, demo on, plain HTTP to itself on the chosen port."""
    env = os.environ if env is None else env

    def own_url(read: Settings) -> dict[str, Any]:
        # The service calls the facade at public_url, so it must be an address this process answers on.
        return {"public_url": env.get("PAINPLAN_PUBLIC_URL") or f"http://127.0.0.1:{read.port}"}

    # The demo's own values over the site's, then one check of them all: plain http allowed, since a public_url on
    # the machine's LAN address is the demo's own. --port and --host over the variables, as serve reads them:
    # --port 0 and --host "" are checked, not left out.
    return command_settings(args, ("host", "port"), env=env, derived=own_url, auth="off", demo=True, allow_http=True)


def reset_demo_database(settings: Settings) -> int:
    """Delete the demo's own SQLite file (and its WAL companions); the service's database is never touched."""
    from smart_app.db import DEMO_DATABASE, instance_folder

    folder = instance_folder(settings)
    removed = 0
    for suffix in ("", "-wal", "-shm"):
        path = folder / (DEMO_DATABASE + suffix)
        if path.exists():
            path.unlink()
            removed += 1
    return removed
