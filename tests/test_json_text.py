"""Compact JSON text written by orjson where that is exactly what the standard library writes, by it otherwise."""

from __future__ import annotations

import json

import pytest

from guideline.json_text import compact_json

# A draft MedicationRequest as Epic sends it, and the values where orjson's text and the standard library's differ.
DRAFT = {
    "resourceType": "MedicationRequest",
    "id": "eHx3.Vq-1",
    "status": "draft",
    "intent": "order",
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}],
        "text": "oxycodone HCl 5 MG tablet",
    },
    "dosageInstruction": [{"timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}}}],
    "dispenseRequest": {"quantity": {"value": 42.0, "unit": "tablet"}, "expectedSupplyDuration": {"value": 7}},
}
ODD = [
    {"text": "Oxycodone 5 mg – tablet ✓"},  # non-ASCII: escaped as \\uXXXX
    {"z": float("nan"), "a": float("inf"), "m": float("-inf")},  # NaN, Infinity (orjson writes null)
    {"dose": 0.5e-7, "small": 0.00001, "tiny": 1e-300, "big": 1e16, "bigger": 1.5e300, "neg": -0.0},
    {"del": "a\x7fb", "controls": '\x00\x1f\b\f\n\r\t"\\/'},
    {"id": 2**64, "negative": -(2**70)},  # beyond 64 bits: orjson refuses them
    {"lone": "\ud800"},  # a lone surrogate: orjson refuses it
    {"note": None, "b": [], "a": {}},
    {"line": "a\u2028b"},
]


@pytest.mark.parametrize("value", [DRAFT, [DRAFT, DRAFT], *ODD, ODD])
@pytest.mark.parametrize("sort_keys", [False, True])
def test_the_text_is_what_json_dumps_writes(value, sort_keys):
    assert compact_json(value, sort_keys=sort_keys) == json.dumps(value, separators=(",", ":"), sort_keys=sort_keys)


def test_keys_are_sorted_all_the_way_down_only_when_asked():
    value = {"b": {"d": 1, "c": 2}, "a": [{"f": 1, "e": 2}]}
    assert compact_json(value, sort_keys=True) == '{"a":[{"e":2,"f":1}],"b":{"c":2,"d":1}}'
    assert compact_json(value) == '{"b":{"d":1,"c":2},"a":[{"f":1,"e":2}]}'
