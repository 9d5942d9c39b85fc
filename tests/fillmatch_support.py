"""Realistic EHR medication payloads (orders, fills, statements as Epic and Oracle Health send them) and two
runners: `painplan mme` and a CDS hook call through the real app, both on 2026-06-15."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from builders import RXNORM, UCUM
from cds_support import bundle, full_prefetch, hook_request, make_app

from smart_app.cli import main

TODAY = "2026-06-15"
NDC = "http://hl7.org/fhir/sid/ndc"
EPIC_ERX = "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288"
PREFETCH_KEY = {"MedicationRequest": "medsActive", "MedicationDispense": "dispenses", "Condition": "conditions"}


def qty(value: Any, unit: str = "{tbl}") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def every(hours: int) -> dict[str, Any]:
    return {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}}


def daily() -> dict[str, Any]:
    return {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}


def dosage(dose: Mapping[str, Any], timing: Mapping[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"doseAndRate": [{"doseQuantity": dict(dose)}], **extra}
    if timing is not None:
        result["timing"] = dict(timing)
    return result


def named(text: str) -> dict[str, Any]:
    """A medication known by its name only (Oracle Health free text, a claim's drug name)."""
    return {"text": text}


def coded(rxcui: str, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [{"system": RXNORM, "code": rxcui}]}
    if text:
        concept["text"] = text
    return concept


def order(
    medication: Mapping[str, Any],
    dosages: Sequence[Mapping[str, Any]],
    *,
    id: str = "rx1",
    authored: str = "2026-06-05",
    supply_days: int | None = 30,
    **extra: Any,
) -> dict[str, Any]:
    """An active outpatient MedicationRequest; a Medication resource is sent contained, as Epic sends its ERX."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": id,
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "authoredOn": authored,
        "requester": {"reference": "Practitioner/dr1"},
        "dosageInstruction": [dict(d) for d in dosages],
        "dispenseRequest": {},
        **extra,
    }
    if medication.get("resourceType") == "Medication":
        resource["contained"] = [dict(medication)]
        resource["medicationReference"] = {"reference": f"#{medication['id']}"}
    else:
        resource["medicationCodeableConcept"] = dict(medication)
    if supply_days is not None:
        resource["dispenseRequest"]["expectedSupplyDuration"] = {
            "value": supply_days,
            "unit": "days",
            "system": UCUM,
            "code": "d",
        }
    return resource


def fill(
    medication: Mapping[str, Any],
    *,
    id: str = "md1",
    handed_over: str = "2026-06-06",
    days: int | None = 30,
    quantity: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A completed pharmacy MedicationDispense."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": id,
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": dict(medication),
        "whenHandedOver": handed_over,
        **extra,
    }
    if days is not None:
        resource["daysSupply"] = {"value": days, "unit": "Day", "system": UCUM, "code": "d"}
    if quantity is not None:
        resource["quantity"] = dict(quantity)
    return resource


def mme_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], *resources: Mapping[str, Any]) -> dict[str, Any]:
    """`painplan mme --today 2026-06-15` on a Bundle of the resources beside patient p1."""
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1970-04-01"}}]
    entries += [{"resource": dict(r)} for r in resources]
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}), encoding="utf-8")
    assert main(["mme", str(path), "--today", TODAY]) == 0
    return json.loads(capsys.readouterr().out)


def hook_cards(
    tmp_path: Path, hook: str, resources: Sequence[Mapping[str, Any]] = (), drafts: Sequence[Mapping[str, Any]] = ()
) -> dict[str, dict[str, Any]]:
    """The cards of one CDS Hooks call through the real app, the record sent as prefetch, by topic code."""
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for resource in resources:
        by_key.setdefault(PREFETCH_KEY[resource["resourceType"]], []).append(resource)
    prefetch = full_prefetch(hook, **{key: bundle(*found) for key, found in by_key.items()})
    request = hook_request(hook, drafts=list(drafts), prefetch=prefetch)
    response = make_app(tmp_path).test_client().post(f"/cds-services/{hook}", json=request)
    assert response.status_code == 200
    return {card["source"]["topic"]["code"]: card for card in response.json["cards"]}
