"""Fuzzing the hook endpoints: a few hundred requests built from the demo patients' charts, each mutated with a
seeded random mutator (wrong types, lists for strings, deleted fields, huge numbers, unicode, nulls, nested
Bundles). Whatever arrives: never a 5xx, never a stack trace, a 4xx is an OperationOutcome, and a 200 after an
internal error names the checks that did not run (never an empty list that reads as "all clear")."""

from __future__ import annotations

import copy
import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest
from builders import med_request
from cds_support import full_prefetch, hook_request, make_app, oxycodone_draft
from fuzz_support import mutate_at, node_at, paths

DEMO = Path(__file__).resolve().parent.parent / "smart_app" / "demo_data"
SEED = 20260615
REQUESTS = 300
HOOKS = ("order-sign", "order-select", "patient-view")
LORAZEPAM = "197901"

# Values that real payloads get wrong, and values that break naive code.
ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    10**40,
    1.5e308,
    -1e-320,
    float("nan"),
    float("inf"),
    "",
    " ",
    "null",
    "ünïcødé ✓ 𝄞 مرحبا",
    "\u0000\u202e",
    "x" * 5000,
    "2026-02-30",
    "Patient/../../x",
    "http://snomed.info/sct|123",
    [],
    {},
    [None],
    [[["deep"]]],
    {"coding": {"code": 1}},
    {"reference": {"reference": "Medication/1"}},
    {"value": "ten", "unit": 5},
)


def demo_charts() -> list[tuple[str, list[dict[str, Any]]]]:
    index = json.loads((DEMO / "patients.json").read_text(encoding="utf-8"))
    charts = []
    for entry in index["patients"]:
        bundle = json.loads((DEMO / entry["file"]).read_text(encoding="utf-8"))
        charts.append((entry["id"], [e["resource"] for e in bundle.get("entry", []) if isinstance(e, dict)]))
    return charts


def base_request(rng: random.Random, charts: list[tuple[str, list[dict[str, Any]]]]) -> tuple[str, dict[str, Any]]:
    patient_id, resources = rng.choice(charts)
    hook = rng.choice(HOOKS)
    drafts = [oxycodone_draft()] + ([med_request(LORAZEPAM, draft=True, id="draft-lz")] if rng.random() < 0.3 else [])
    prefetch = full_prefetch(hook)
    prefetch["patient"] = next((r for r in resources if r.get("resourceType") == "Patient"), prefetch["patient"])
    chart = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}
    key = rng.choice([k for k in prefetch if k != "patient"])
    prefetch[key] = chart
    body = hook_request(hook, drafts=drafts, prefetch=prefetch)
    body["context"]["patientId"] = patient_id
    return hook, copy.deepcopy(body)


def mutate(rng: random.Random, body: dict[str, Any]) -> str:
    """One random change somewhere in the request (mostly inside the patient data); returns what it did."""
    places = paths(body)
    inside = [p for p in places if p[:1] in (("prefetch",), ("context",))]
    path = rng.choice(inside if inside and rng.random() < 0.9 else places)
    kind = mutate_at(rng, node_at(body, path[:-1]), path[-1], ODD_VALUES)
    return f"{kind} at {'/'.join(map(str, path))[:120]}"


# Logged events that are handled in place and cost no check (a suggested resource left off a card).
HANDLED_EVENTS = frozenset({"suggestion-dropped"})


def internal_error_logged(records: list[logging.LogRecord]) -> bool:
    """A stage or check failed: an error line other than a handled one, or failures in the call's log line."""
    for record in records:
        message = record.getMessage()
        event = json.loads(message) if message.startswith("{") else {}
        if record.levelno >= logging.ERROR and event.get("event") not in HANDLED_EVENTS:
            return True
        if event.get("event") == "hook" and (event.get("failures") or event.get("error")):
            return True
    return False


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return make_app(tmp_path_factory.mktemp("fuzz")).test_client()


def broken_check(*_args: Any, **_kwargs: Any) -> None:
    raise RuntimeError("injected failure")


def test_mutated_requests_never_fail_silently_or_with_a_5xx(client, caplog, monkeypatch):
    from guideline.checks import CHECKS

    rng = random.Random(SEED)
    charts = demo_charts()
    statuses: dict[int, int] = {}
    injected = 0
    for number in range(REQUESTS):
        hook, body = base_request(rng, charts)
        done = [mutate(rng, body) for _ in range(rng.randint(1, 3))]
        # Every tenth request also meets a failing check, so the "names what did not run" rule is exercised
        # whether or not the mutations find a real failure.
        failing = rng.choice(sorted(CHECKS)) if number % 10 == 0 else None
        where = f"request {number} ({hook}, failing check {failing}): {'; '.join(done)}"
        caplog.clear()
        with caplog.at_level(logging.INFO), monkeypatch.context() as patch:
            if failing:
                patch.setattr(CHECKS[failing], "evaluate", broken_check)
            response = client.post(f"/cds-services/{hook}", data=json.dumps(body), content_type="application/json")
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        text = response.get_data(as_text=True)
        assert response.status_code < 500, where
        assert "Traceback" not in text and 'File "' not in text, where
        if 400 <= response.status_code < 500:
            assert response.json["resourceType"] == "OperationOutcome", where
            assert response.json["issue"][0]["diagnostics"], where
            continue
        cards = response.json["cards"]
        if internal_error_logged(caplog.records):
            injected += 1
            topics = [c["source"]["topic"]["code"] for c in cards]
            assert "checks-not-run" in topics, where
    # The mutator must exercise both answers: mostly evaluated requests, and some malformed ones refused.
    assert statuses.get(200, 0) > REQUESTS // 2 and sum(v for k, v in statuses.items() if k >= 400) > 0, statuses
    assert injected > 0  # some calls did meet a failure (a check enabled for the hook that reached it)


def test_the_mutator_is_deterministic():
    def run_once() -> list[str]:
        rng = random.Random(SEED)
        charts = demo_charts()
        out = []
        for _ in range(20):
            _, body = base_request(rng, charts)
            out.append(mutate(rng, body))
        return out

    assert run_once() == run_once()


@pytest.mark.parametrize("written", [["MedicationRequest"], {"text": "MedicationRequest"}, "", "  "])
@pytest.mark.parametrize("sent_as", ["prefetch", "draft"])
def test_a_resource_type_that_is_no_type_is_an_unread_resource_not_a_failed_gather(client, caplog, written, sent_as):
    """A resourceType written as a list (found by the plan page's fuzzer) made the look for Medications to read fail
    with a TypeError: the whole chart was dropped as "could not be gathered", the benzodiazepine on it unseen. An
    empty one was skipped without a word, a draft being signed included. Each is one resource that cannot be read:
    it is named, and everything else is evaluated."""
    broken = med_request(LORAZEPAM, id="odd", draft=sent_as == "draft")
    broken["resourceType"] = written
    broken.pop("medicationCodeableConcept", None)
    broken["medicationReference"] = {"reference": "Medication/lorazepam"}  # what makes the look for Medications run
    chart = [med_request(LORAZEPAM, id="benzo-1")] + ([broken] if sent_as == "prefetch" else [])
    prefetch = {
        "medications": {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in chart]}
    }
    drafts = [oxycodone_draft()] + ([broken] if sent_as == "draft" else [])
    with caplog.at_level(logging.INFO):
        answer = client.post(
            "/cds-services/order-sign", json=hook_request("order-sign", drafts=drafts, prefetch=prefetch)
        )
    assert answer.status_code == 200 and not internal_error_logged(caplog.records)
    cards = answer.get_json()["cards"]
    summaries = [card["summary"] for card in cards]
    assert any("90.0 MME/day" in summary for summary in summaries)  # the draft is still evaluated
    assert any(summary.startswith("Opioid with benzodiazepine") for summary in summaries)  # and the chart
    incomplete = [card for card in cards if "could not be read" in card["summary"]]
    assert incomplete and "resourceType" in incomplete[0]["detail"]
