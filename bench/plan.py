"""Benchmark: the plan page's server-side build (record, engine, plan, HTML) for a 2,600-resource patient.

Target: ≤ 150 ms median, FHIR network time not included. Run: .venv/bin/python bench/plan.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from werkzeug.datastructures import MultiDict  # noqa: E402

from guideline.config import GuidelineConfig  # noqa: E402
from guideline.engine import HookContext, evaluate  # noqa: E402
from guideline.fhirdata import ICD10CM as ICD  # noqa: E402
from guideline.fhirdata import LOINC, RXNORM, SNOMED, UCUM
from guideline.plan import QueryStatus, build_plan  # noqa: E402
from guideline.record import build_record  # noqa: E402
from smart_app.plan_view import QUERY_LABELS, render_page, taper_request  # noqa: E402

TODAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, tzinfo=ZoneInfo("America/New_York"))
RUNS = 15
TARGET_MS = 150.0

# (rxcui, dose, every hours): oxycodone, hydrocodone/APAP, morphine ER, lorazepam, gabapentin, ibuprofen
ORDER_SHAPES = (
    ("1049621", 1, 6),
    ("856999", 1, 6),
    ("891874", 1, 12),
    ("197901", 1, 24),
    ("310431", 1, 8),
    ("197806", 1, 8),
)
UDS_CODES = ("14314-9", "10998-3", "19295-5", "3397-7")


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def _order(index: int) -> dict[str, Any]:
    rxcui, dose, hours = ORDER_SHAPES[index % len(ORDER_SHAPES)]
    return {
        "resourceType": "MedicationRequest",
        "id": f"mr{index}",
        "status": "active" if index % 25 == 0 else "completed",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community"}
                ]
            }
        ],
        "authoredOn": _day((index * 7) % 730),
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "dosageInstruction": [
            {
                "text": "take as directed",
                "timing": {"repeat": {"frequency": 1, "period": hours, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": dose, "unit": "{tbl}", "system": UCUM, "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"}},
    }


def _dispense(index: int) -> dict[str, Any]:
    rxcui = ORDER_SHAPES[index % 3][0]
    return {
        "resourceType": "MedicationDispense",
        "id": f"md{index}",
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "whenHandedOver": _day((index * 3) % 730),
        "daysSupply": {"value": 30, "unit": "d", "system": UCUM, "code": "d"},
    }


def _observation(index: int) -> dict[str, Any]:
    kind = index % 4
    base: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"o{index}",
        "status": "final",
        "effectiveDateTime": _day((index * 2) % 730),
    }
    if kind == 0:
        code, category = UDS_CODES[index % len(UDS_CODES)], "laboratory"
        base["valueString"] = "Negative" if index % 3 else "Positive"
    elif kind == 1:
        code, category = "91147-9", "survey"
        base["valueQuantity"] = {"value": 3 + index % 6}
    elif kind == 2:
        code, category = "72514-3", "survey"
        base["valueQuantity"] = {"value": index % 11}
    else:
        code, category = "2160-0", "laboratory"  # creatinine: noise the plan must skip
        base["valueQuantity"] = {"value": 1.0, "unit": "mg/dL"}
    base["code"] = {"coding": [{"system": LOINC, "code": code}]}
    base["category"] = [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category}]}
    ]
    return base


def synthetic_patient() -> list[dict[str, Any]]:
    """2,600 resources over 2 years: 500 orders, 600 dispenses, 1,200 observations, conditions and more."""
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": "bench",
            "birthDate": "1960-05-05",
            "gender": "male",
            "name": [{"given": ["Bench"], "family": "Patient"}],
            "identifier": [{"type": {"coding": [{"code": "MR"}]}, "value": "B-1"}],
        }
    ]
    resources += [_order(i) for i in range(500)]
    resources += [_dispense(i) for i in range(600)]
    resources += [_observation(i) for i in range(1200)]
    resources += [
        {
            "resourceType": "Condition",
            "id": f"c{i}",
            "code": {"coding": [{"system": ICD, "code": ("M54.50", "G47.33", "F32.9", "E11.9")[i % 4]}]},
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "recordedDate": _day(i * 3),
        }
        for i in range(150)
    ]
    resources += [
        {
            "resourceType": "Procedure",
            "id": f"p{i}",
            "status": "completed",
            "code": {"coding": [{"system": SNOMED, "code": ("91251008", "461621000124108", "454281000124100")[i % 3]}]},
            "performedDateTime": _day(i * 5),
        }
        for i in range(100)
    ]
    resources += [
        {"resourceType": "Encounter", "id": f"e{i}", "status": "finished", "period": {"start": _day(i * 7)}}
        for i in range(49)
    ]
    assert len(resources) == 2600, len(resources)
    return resources


def main() -> int:
    from smart_app import create_app

    resources = tuple(synthetic_patient())
    statuses = tuple(QueryStatus(k, label, k, 0, True) for k, label in QUERY_LABELS.items())
    config = GuidelineConfig.from_mapping()
    tz = ZoneInfo(config["timezone"])
    args = MultiDict({"rate": "10", "interval": "month"})
    stages: dict[str, list[float]] = {"record": [], "engine": [], "plan": [], "render": [], "total": []}
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"instance_path": instance, "secret_key": "bench-secret-key-0123456789abcdef"})
        html = ""
        with app.test_request_context("/plan?s=bench"):
            for run in range(RUNS + 1):
                # The same steps as smart_app.plan_view.assemble + render_page, timed one by one.
                t0 = time.perf_counter()
                record = build_record(resources, tz)
                t1 = time.perf_counter()
                evaluation = evaluate(record, HookContext("patient-view", "bench"), config, NOW)
                t2 = time.perf_counter()
                view = build_plan(evaluation, statuses, config, NOW, taper_request(args), ())
                t3 = time.perf_counter()
                html = render_page(view, args, lambda **_: "/plan", "", "bench")
                t4 = time.perf_counter()
                if run:  # the first run loads the terminology and compiles templates once per process
                    laps = (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)
                    for name, value in zip(stages, laps, strict=True):
                        stages[name].append(value * 1000)
    failed = [s.key for s in view.sections if s.error]
    median = statistics.median(stages["total"])
    detail = ", ".join(f"{name} {statistics.median(values):.1f}" for name, values in stages.items() if name != "total")
    print(
        f"plan build for {len(resources)} resources: median {median:.1f} ms ({detail} ms), "
        f"min {min(stages['total']):.1f} ms over {RUNS} runs (target ≤ {TARGET_MS:.0f} ms); "
        f"page {len(html) // 1024} KiB; failed sections: {failed or 'none'}"
    )
    return 0 if median <= TARGET_MS and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
