"""Hook answers pinned exactly: every demo patient's calls, realistic 200-resource charts, odd JSON, bad bodies.

Speed work (parsing, reading only what the checks use, cheaper card JSON) must never change an answer; this test
compares each response, card uuids aside, with tests/fixtures/golden/hook_responses.json. When a change MEANS to
change answers (new wording, a new check), regenerate the file and review its diff:
    PAINPLAN_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden_responses.py
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
from builders import TODAY, TZ
from cds_support import bundle, make_app

from cds_hooks.services import templates
from guideline.config import GuidelineConfig
from smart_app.demo_data import load_demo_patients
from smart_app.demo_data.orders import draft_bundle, story_draft

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.bodies import order_sign_body, unique_call  # noqa: E402

GOLDEN = Path(__file__).parent / "fixtures" / "golden" / "hook_responses.json"
# Taken out of the environment: the app refuses a PAINPLAN_* variable that names no setting, so left in, it stopped the
# very run that was to rewrite the answers.
UPDATE = os.environ.pop("PAINPLAN_UPDATE_GOLDEN", None) == "1"
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=TZ)

# Which resources each prefetch key holds, as an EHR would answer its query.
PREFETCH_TYPES = {
    "medsActive": "MedicationRequest",
    "medsRecent": "MedicationRequest",
    "dispenses": "MedicationDispense",
    "udsLabs": "Observation",
    "conditions": "Condition",
    "procedures": "Procedure",
    "encounters": "Encounter",
    "serviceRequests": "ServiceRequest",
    "carePlans": "CarePlan",
    "planNotes": "DocumentReference",
}


def _demo_request(patient: Any, hook: str) -> dict[str, Any]:
    prefetch: dict[str, Any] = {}
    for key in templates(hook, GuidelineConfig.from_mapping()):
        if key == "patient":
            prefetch[key] = patient.resources("Patient")[0]
        elif key == "pdmpObs":
            prefetch[key] = None  # the PDMP observations sit in udsLabs already
        else:
            found = patient.resources(PREFETCH_TYPES[key])
            if key == "medsActive":
                found = [r for r in found if r.get("status") == "active"]
            # Medications travel with the orders that name them, as Epic includes them.
            if key in ("medsActive", "medsRecent"):
                found += patient.resources("Medication")
            prefetch[key] = bundle(*found)
    context: dict[str, Any] = {"userId": "Practitioner/dr1", "patientId": patient.id}
    if hook != "patient-view":
        draft = story_draft(patient, NOW)
        context["draftOrders"] = draft_bundle([draft])
        if hook == "order-select":
            context["selections"] = [f"MedicationRequest/{draft['id']}"]
    return {"hook": hook, "hookInstance": f"golden-{patient.id}-{hook}", "context": context, "prefetch": prefetch}


def _odd_json_request() -> str:
    """Values real senders produce that a JSON parser may read differently: NaN, huge numbers, a numeric code,
    non-ASCII text, a lone surrogate escape, duplicate keys."""
    draft = (
        '{"resourceType":"MedicationRequest","id":"odd-1","status":"draft","intent":"order",'
        '"medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm",'
        '"code":1049621}],"text":"oxyCODONE 5 mg – comprimé \\ud800"},'
        '"dosageInstruction":[{"timing":{"repeat":{"frequency":NaN,"period":4,"periodUnit":"h"}},'
        '"doseAndRate":[{"doseQuantity":{"value":1,"unit":"tablet"}}]},'
        '{"timing":{"repeat":{"frequency":1,"period":Infinity,"periodUnit":"h"}},'
        '"doseAndRate":[{"doseQuantity":{"value":123456789012345678901234567890}}]}],'
        '"dispenseRequest":{"expectedSupplyDuration":{"value":7,"value":30,"code":"d"},'
        '"quantity":{"value":1e400}}}'
    )
    return (
        '{"hook":"order-sign","hookInstance":12345678901234567890123,"context":{"userId":"Practitioner/dr1",'
        f'"patientId":"p1","draftOrders":{{"resourceType":"Bundle","entry":[{{"resource":{draft}}}]}}}},'
        '"prefetch":{"patient":{"resourceType":"Patient","id":"p1","birthDate":"1970-01-01"},'
        '"medsActive":null,"medsRecent":null,"dispenses":null,"udsLabs":null,"pdmpObs":null,"conditions":null,'
        '"procedures":null,"encounters":null,"serviceRequests":null,"carePlans":null,"planNotes":null}}'
    )


BAD_BODIES = {
    "trailing-comma": b'{"hook":"order-sign",}',
    "trailing-garbage": b'{"hook":"order-sign"}x',
    "control-character": b'{"hook":"order\tsign"}',
    "invalid-utf8": b'{"hook":"order-sign\xff"}',
    "empty": b"",
    "array": b"[]",
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "utf16": '{"hook":"order-sign"}'.encode("utf-16"),
    "utf8-bom": b'\xef\xbb\xbf{"hook":"order-sign"}',
}


def _cases() -> dict[str, tuple[str, str, bytes]]:
    """case name → (service, content type, raw body)."""
    cases: dict[str, tuple[str, str, bytes]] = {}
    for patient in load_demo_patients(TODAY).values():
        for hook in ("order-sign", "order-select", "patient-view"):
            body = json.dumps(_demo_request(patient, hook)).encode()
            cases[f"demo/{patient.id}/{hook}"] = (hook, "application/json", body)
    for seed in range(1, 9):
        raw = json.dumps(order_sign_body(seed), separators=(",", ":")).encode()
        cases[f"chart-200/{seed}"] = ("order-sign", "application/json", unique_call(raw, seed))
    cases["odd-json"] = ("order-sign", "application/json", _odd_json_request().encode())
    for name, raw in BAD_BODIES.items():
        cases[f"bad/{name}"] = ("order-sign", "application/json", raw)
    return cases


def _without_uuids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<uuid>" if k == "uuid" else _without_uuids(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_uuids(v) for v in value]
    return value


def _answers(tmp_path: Path) -> dict[str, Any]:
    app = make_app(tmp_path)
    client = app.test_client()
    answers = {}
    for name, (service, content_type, raw) in _cases().items():
        response = client.post(f"/cds-services/{service}", data=raw, content_type=content_type)
        answers[name] = {"status": response.status_code, "body": _without_uuids(json.loads(response.get_data()))}
    return answers


def test_answers_are_exactly_the_recorded_ones(tmp_path):
    answers = _answers(tmp_path)
    if UPDATE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        pytest.skip("golden answers rewritten: review the diff of " + str(GOLDEN))
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert sorted(answers) == sorted(recorded)
    changed = [name for name in answers if answers[name] != recorded[name]]
    assert not changed, (
        f"answers changed for {changed}; if that is intended, regenerate with PAINPLAN_UPDATE_GOLDEN=1 "
        "(see this file's docstring) and review the diff"
    )


def test_the_cases_cover_cards_and_errors():
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    with_cards = [name for name, answer in recorded.items() if answer["status"] == 200 and answer["body"]["cards"]]
    assert len(with_cards) >= 25
    assert all(recorded[f"bad/{name}"]["status"] == 400 for name in ("trailing-comma", "invalid-utf8", "deep"))
    assert recorded["odd-json"]["status"] == 200
