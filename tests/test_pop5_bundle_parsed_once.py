"""Naming what a Bundle line holds (its unreadable entries, its fills naming no patient) parses the line once: a
payer's Bundle line can run to megabytes, and each file holding one may be read again to name its lines. Before,
`_why_line_malformed` and `_why_line_names_no_patient` parsed each Bundle line twice (once for its keys, once for its
entries)."""

from __future__ import annotations

import json

from synthetic_export import OXYCODONE_5, dispense, patient

from smart_app.population import inputs, worker
from smart_app.population.worker import MEDICATION_TYPES


def bundle_line() -> str:
    """An HIE's collection: a member, a fill naming a member id alone, a DELETE (no resource)."""
    fill = dispense("f1", "M1", OXYCODONE_5, "2026-01-10", 120, 30, "pcp1", "ph1")
    fill["subject"] = {"identifier": {"system": "https://payer.example/member-id", "value": "M1"}}
    entries = [{"resource": patient("M1")}, {"resource": fill}, {"request": {"method": "DELETE"}}]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    return json.dumps(bundle) + "\n"


def parses_of(line: str, monkeypatch) -> list[int]:
    """The json.loads calls of the whole line the naming makes."""
    calls: list[int] = []
    real = json.loads

    def counting(text, *args, **kwargs):
        if len(text) >= len(line) - 1:
            calls.append(len(text))
        return real(text, *args, **kwargs)

    monkeypatch.setattr(worker.json, "loads", counting)
    return calls


def test_a_bundle_line_is_parsed_once_to_name_its_unreadable_entries(monkeypatch):
    line = bundle_line()
    calls = parses_of(line, monkeypatch)
    assert inputs._why_line_malformed(line.encode()) == [(" entry 3", "no resource")]
    assert len(calls) == 1


def test_a_bundle_line_is_parsed_once_to_name_its_fills_without_patient(monkeypatch):
    line = bundle_line()
    calls = parses_of(line, monkeypatch)
    named = inputs._why_line_names_no_patient(line.encode(), kinds=MEDICATION_TYPES)
    assert named == [(" entry 2", "MedicationDispense whose patient no Patient reference names")]
    assert len(calls) == 1
