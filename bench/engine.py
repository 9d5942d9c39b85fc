"""Benchmark: record build, engine evaluation and card serialisation by chart size, against json.loads.

Prints, for patients of 10, 100, 1,000 and 10,000 resources, the median and p95 of `build_record` and of
`guideline.engine.evaluate` (order-sign), µs per resource, and each stage's ratio to `json.loads` of the same
JSON. Then the order-sign call of a 200-resource patient (record + evaluate + card JSON; target p50 ≤ 2 ms).
Then what medication recognition adds to that call (target ≤ 5 %): the same patient with a third of its orders
sent as text or NDC only, evaluated with recognition and with the code-only lookup, alternately.
Run: .venv/bin/python bench/engine.py [--quick] [--recognition-only]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cds_hooks.cards import card_json, options_for  # noqa: E402
from guideline import mme as mme_module  # noqa: E402
from guideline import terminology as terminology_module  # noqa: E402
from guideline.config import GuidelineConfig  # noqa: E402
from guideline.engine import HookContext, evaluate  # noqa: E402
from guideline.fhirdata import ICD10CM as ICD  # noqa: E402
from guideline.fhirdata import LOINC, MEDREQ_CATEGORY, RXNORM, SNOMED, UCUM
from guideline.record import build_record, clear_read_caches  # noqa: E402
from guideline.terminology import Terminology, load_terminology  # noqa: E402

OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
TZ = ZoneInfo("America/New_York")
TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, tzinfo=TZ)
PATIENT = "bench-patient"
SIZES = (10, 100, 1000, 10000)
ORDER_SIGN_SIZE = 200
ORDER_SIGN_TARGET_MS = 2.0

# oxycodone 5 mg, hydrocodone/APAP, morphine ER, lorazepam, gabapentin, ibuprofen
RXCUIS = ("1049621", "856999", "891874", "197901", "310431", "197806")
UDS_CODES = ("14314-9", "10998-3", "19295-5", "3397-7")


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago % 730)).isoformat()


def _order(n: int, rxcui: str, status: str, draft: bool = False) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"{'draft' if draft else 'mr'}-{n}",
        "status": "draft" if draft else status,
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "authoredOn": TODAY.isoformat() if draft else f"{_day(n * 7)}T09:30:00-05:00",
        "category": [{"coding": [{"system": MEDREQ_CATEGORY, "code": "community"}]}],
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}], "text": f"drug {rxcui}"},
        "dosageInstruction": [
            {
                "text": "1 tablet every 6 hours as needed",
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "asNeededBoolean": True,
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {
            "numberOfRepeatsAllowed": 0,
            "quantity": {"value": 120, "unit": "tablet"},
            "expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"},
        },
    }


def _observation(n: int) -> dict[str, Any]:
    kind = n % 3
    if kind == 0:
        code, category = UDS_CODES[n % len(UDS_CODES)], "laboratory"
        value: dict[str, Any] = {"valueString": "Negative"}
    elif kind == 1:
        code, category = "72514-3", "survey"
        value = {"valueInteger": n % 11}
    else:
        code, category = "2345-7", "laboratory"
        value = {"valueQuantity": {"value": 99, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}}
    return {
        "resourceType": "Observation",
        "id": f"obs-{n}",
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": f"test {code}"}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": f"{_day(n * 2)}T08:00:00Z",
        "issued": f"{_day(n * 2)}T10:00:00.000Z",
        **value,
    }


def _filler(n: int) -> dict[str, Any]:
    """A realistic chart mix: old orders, dispenses, labs and scores, conditions, encounters, procedures."""
    kind = n % 8
    if kind in (0, 1):
        return _order(n, RXCUIS[n % len(RXCUIS)], "active" if n % 40 == 0 else "completed")
    if kind == 2:
        return {
            "resourceType": "MedicationDispense",
            "id": f"md-{n}",
            "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": RXCUIS[n % 3]}]},
            "whenHandedOver": _day(n * 3),
            "daysSupply": {"value": 30, "unit": "d", "system": UCUM, "code": "d"},
            "quantity": {"value": 120, "unit": "tablet"},
        }
    if kind in (3, 4):
        return _observation(n)
    if kind == 5:
        return {
            "resourceType": "Condition",
            "id": f"cond-{n}",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "verificationStatus": {"coding": [{"code": "confirmed"}]},
            "category": [{"coding": [{"code": "problem-list-item"}]}],
            "code": {"coding": [{"system": ICD, "code": ("M54.50", "G47.33", "F32.9", "E11.9")[n % 4]}]},
            "recordedDate": _day(n * 3),
        }
    if kind == 6:
        return {
            "resourceType": "Encounter",
            "id": f"enc-{n}",
            "status": "finished",
            "period": {"start": f"{_day(n * 7)}T09:00:00-05:00", "end": f"{_day(n * 7)}T09:30:00-05:00"},
        }
    return {
        "resourceType": "Procedure",
        "id": f"proc-{n}",
        "status": "completed",
        "code": {"coding": [{"system": SNOMED, "code": "80146002"}]},
        "performedDateTime": _day(n * 5),
    }


def chart(resources: int) -> list[dict[str, Any]]:
    """The patient, one active opioid order, and fillers up to `resources` in total."""
    patient = {"resourceType": "Patient", "id": PATIENT, "birthDate": "1970-01-01", "gender": "female"}
    items = [patient, _order(0, RXCUIS[0], "active")]
    return items + [_filler(n) for n in range(1, resources - 1)]


def drafts() -> dict[str, Any]:
    return {"resourceType": "Bundle", "entry": [{"resource": _order(1, RXCUIS[0], "draft", draft=True)}]}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def timed(call: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Milliseconds of each run (after one warm-up call) and the last result."""
    result = call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def _runs(size: int, quick: bool) -> int:
    budget = 60 if quick else 400
    return max(5, budget // max(1, size // 50))


def by_size(size: int, config: GuidelineConfig, quick: bool) -> dict[str, Any]:
    resources = chart(size)
    raw = json.dumps(resources)
    draft_bundle = drafts()
    context = HookContext("order-sign", PATIENT, "Practitioner/bench")
    runs = _runs(size, quick)
    parse, _ = timed(lambda: json.loads(raw), runs)
    build, record = timed(lambda: build_record(resources, TZ, draft_orders=draft_bundle), runs)
    engine, evaluation = timed(lambda: evaluate(record, context, config, NOW), runs)
    loads = statistics.median(parse)
    row: dict[str, Any] = {"resources": size, "runs": runs, "json_loads_ms": round(loads, 3)}
    for name, times in (("build", build), ("evaluate", engine)):
        median = statistics.median(times)
        row[f"{name}_p50_ms"] = round(median, 3)
        row[f"{name}_p95_ms"] = round(percentile(times, 0.95), 3)
        row[f"{name}_us_per_resource"] = round(median * 1000 / size, 2)
        row[f"{name}_ratio_to_json_loads"] = round(median / loads, 1)
    row["cards"] = [card.check_id for card in evaluation.cards]
    return row


def hooks_chart() -> tuple[list[Any], Any]:
    """The prefetch resources and draft of one of bench/hooks.py's order-sign requests (bench/bodies.py, 200
    resources), so both benchmarks time the same kind of patient."""
    from bench.bodies import order_sign_body

    body = order_sign_body(seed=1)
    resources: list[Any] = []
    for value in body["prefetch"].values():
        is_bundle = isinstance(value, dict) and value.get("resourceType") == "Bundle"
        resources += [entry["resource"] for entry in value.get("entry", [])] if is_bundle else [value]
    return resources, body["context"]["draftOrders"]


def order_sign(
    config: GuidelineConfig, quick: bool, label: str, resources: list[Any], draft: Any, cold: bool = False
) -> dict[str, Any]:
    """The engine's share of an order-sign call: record build, evaluate, card JSON (no HTTP, no database).

    `cold` forgets the record reader's caches before each call: the cost for a chart whose dates, codings and
    instructions this worker has never seen (the per-object memos of recognition, MME and terminology are emptied too).
    """
    context = HookContext("order-sign", PATIENT, "Practitioner/bench")
    options = options_for(config, "https://painplan.example.org", PATIENT)
    stages: dict[str, list[float]] = {"build": [], "evaluate": [], "cards": [], "total": []}
    cards: list[dict[str, Any]] = []
    for run in range(1 + (100 if quick else 1000)):
        if cold:
            clear_read_caches()
        started = time.perf_counter()
        record = build_record(resources, TZ, draft_orders=draft)
        built = time.perf_counter()
        evaluation = evaluate(record, context, config, NOW)
        evaluated = time.perf_counter()
        cards = [card_json(card, options) for card in evaluation.cards]
        done = time.perf_counter()
        if run:  # the first call warms the caches, as the first request of a worker does
            for name, value in zip(
                stages, (built - started, evaluated - built, done - evaluated, done - started), strict=True
            ):
                stages[name].append(value * 1000)
    result: dict[str, Any] = {"chart": label, "caches": "cold" if cold else "warm", "resources": ORDER_SIGN_SIZE}
    for name, times in stages.items():
        result[f"{name}_p50_ms"] = round(statistics.median(times), 3)
    result["p95_ms"] = round(percentile(stages["total"], 0.95), 3)
    result["target_ms"] = ORDER_SIGN_TARGET_MS
    result["cards"] = len(cards)
    return result


# The names the chart's drugs are sent with when an EHR gives no RxNorm code (tall-man letters, as Epic shows them).
NAMES = {
    "1049621": "oxyCODONE hydrochloride 5 MG Oral Tablet",
    "856999": "acetaminophen 325 MG / HYDROcodone bitartrate 10 MG Oral Tablet",
    "891874": "morphine sulfate 100 MG Extended Release Oral Tablet",
    "197901": "LORazepam 1 MG Oral Tablet",
    "310431": "gabapentin 300 MG Oral Capsule",
    "197806": "ibuprofen 600 MG Oral Tablet",
}
RECOGNITION_TARGET = 0.05


class CodeOnlyTerminology(Terminology):
    """The lookup before recognition: set membership from codes only, never from names."""

    __slots__ = ()

    def _in_by_name(self, set_name: str, medication: Any) -> bool:
        return False


def mixed_chart(resources: int) -> list[dict[str, Any]]:
    """chart(), with every third order and fill sent by name only (text, or an NDC coding with a display): the same
    drugs, so the checks have the same work and the difference is the cost of reading names."""
    items = chart(resources)
    for index, item in enumerate(items):
        if item["resourceType"] not in ("MedicationRequest", "MedicationDispense") or index % 3:
            continue
        name = NAMES[item["medicationCodeableConcept"]["coding"][0]["code"]]
        if index % 2:
            item["medicationCodeableConcept"] = {"text": name}
        else:
            ndc = {"system": "http://hl7.org/fhir/sid/ndc", "code": f"00000-{index:04d}-01", "display": name}
            item["medicationCodeableConcept"] = {"coding": [ndc]}
    return items


def recognition_overhead(config: GuidelineConfig, quick: bool) -> dict[str, Any]:
    """Order-sign engine time (record + evaluate) of the same patient two ways, alternating call by call so both
    see the same machine load: every order coded and read by the code-only lookup (PainPlan before recognition),
    and a third of the orders and fills sent by name only and read by recognition."""
    coded = chart(ORDER_SIGN_SIZE)
    named = mixed_chart(ORDER_SIGN_SIZE)
    draft = drafts()
    context = HookContext("order-sign", PATIENT, "Practitioner/bench")
    data = terminology_module._data()
    code_only_terms = CodeOnlyTerminology(data, terminology_module._derive(data, terminology_module._options(config)))
    code_only_config = GuidelineConfig.from_mapping({"checks": {"unidentified-medication": {"enabled": False}}})
    by_name = mme_module._drug_from_name

    def mme_by_name(medication: Any, terms: Any) -> Any:
        return None if isinstance(terms, CodeOnlyTerminology) else by_name(medication, terms)

    mme_module._drug_from_name = mme_by_name
    runs: tuple[tuple[str, list[dict[str, Any]], Terminology, GuidelineConfig], ...] = (
        ("recognition", named, load_terminology(config), config),
        ("code_only", coded, code_only_terms, code_only_config),
    )
    times: dict[str, list[float]] = {"recognition": [], "code_only": []}
    cards: dict[str, list[str]] = {}
    try:
        for run in range(1 + (300 if quick else 3000)):
            for label, resources, terms, settings in runs:
                started = time.perf_counter()
                evaluation = evaluate(
                    build_record(resources, TZ, draft_orders=draft), context, settings, NOW, terms=terms
                )
                if run:
                    times[label].append((time.perf_counter() - started) * 1000)
                cards[label] = sorted(card.check_id for card in evaluation.cards)
    finally:
        mme_module._drug_from_name = by_name
    with_p50 = statistics.median(times["recognition"])
    without_p50 = statistics.median(times["code_only"])
    medications = [r for r in named if r["resourceType"] in ("MedicationRequest", "MedicationDispense")]
    by_name_only = [
        r
        for r in medications
        if not any(c.get("system") == RXNORM for c in r["medicationCodeableConcept"].get("coding", ()))
    ]
    return {
        "chart": "bench/engine.py mix: all coded (code-only lookup) vs a third by name or NDC (recognition)",
        "resources": ORDER_SIGN_SIZE,
        "medication_resources": len(medications),
        "by_name_or_ndc": len(by_name_only),
        "runs": len(times["recognition"]),
        "code_only_p50_ms": round(without_p50, 3),
        "recognition_p50_ms": round(with_p50, 3),
        "overhead_percent": round((with_p50 / without_p50 - 1) * 100, 1),
        "target_percent": RECOGNITION_TARGET * 100,
        "same_cards": cards["recognition"] == cards["code_only"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    parser.add_argument("--recognition-only", action="store_true", help="only the recognition overhead")
    args = parser.parse_args()
    config = GuidelineConfig.from_mapping()
    load_terminology(config)  # loaded once per process in production too
    if args.recognition_only:
        result = recognition_overhead(config, args.quick)
        print("Medication recognition on an order-sign call (record + evaluate):")
        print(json.dumps(result))
        return 0 if result["overhead_percent"] <= RECOGNITION_TARGET * 100 else 1
    print("Record build and evaluate (order-sign) by chart size:")
    for size in SIZES:
        print(json.dumps(by_size(size, config, args.quick)))
    print("Order-sign engine call (record + evaluate + card JSON):")
    results = [
        order_sign(config, args.quick, "bench/engine.py mix", chart(ORDER_SIGN_SIZE), drafts()),
        order_sign(config, args.quick, "bench/hooks.py request", *hooks_chart()),
        order_sign(config, args.quick, "bench/hooks.py request", *hooks_chart(), cold=True),
    ]
    for result in results:
        print(json.dumps(result))
    recognition = recognition_overhead(config, args.quick)
    print("Medication recognition on an order-sign call (record + evaluate):")
    print(json.dumps(recognition))
    fast = all(r["total_p50_ms"] <= ORDER_SIGN_TARGET_MS for r in results)
    return 0 if fast and recognition["overhead_percent"] <= RECOGNITION_TARGET * 100 else 1


if __name__ == "__main__":
    sys.exit(main())
