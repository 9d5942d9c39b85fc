"""Benchmark: time to compute MME (and supply days) for a patient with 10, 100 and 1,000 medication orders."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guideline.config import GuidelineConfig  # noqa: E402
from guideline.fhirdata import RXNORM, UCUM  # noqa: E402
from guideline.mme import compute_mme  # noqa: E402
from guideline.record import build_record  # noqa: E402
from guideline.supply import order_supply  # noqa: E402
from guideline.terminology import load_terminology  # noqa: E402

RUNS = 7


def _order(index: int) -> dict[str, Any]:
    """A realistic mix: tablets q4–6h, Epic triplets, patches, solutions, text-only timing and a fallback."""
    shapes: list[tuple[str, dict[str, Any]]] = [
        (
            "1049621",
            {
                "timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet", "system": UCUM, "code": "{tbl}"}}],
            },
        ),
        (
            "1049221",
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "asNeededBoolean": True,
                "doseAndRate": [
                    {"type": {"text": "calculated"}, "doseQuantity": {"value": 10, "unit": "mg"}},
                    {"type": {"text": "admin-amount"}, "doseQuantity": {"value": 2, "unit": "{tbl}"}},
                    {"type": {"text": "ordered"}, "doseQuantity": {"value": 2, "unit": "{tbl}"}},
                ],
            },
        ),
        (
            "197696",
            {
                "timing": {"repeat": {"frequency": 1, "period": 72, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "{patch}"}}],
            },
        ),
        (
            "1049604",
            {
                "timing": {"code": {"text": "every 6 hours as needed"}},
                "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mL", "system": UCUM, "code": "mL"}}],
            },
        ),
        (
            "864706",
            {
                "timing": {"code": {"coding": [{"code": "TID"}]}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "TAB"}}],
            },
        ),
        (
            "2670390",
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1}}],
            },
        ),
        ("1049621", {"text": "as directed"}),
    ]
    rxcui, dosage = shapes[index % len(shapes)]
    return {
        "resourceType": "MedicationRequest",
        "id": f"rx{index}",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "dosageInstruction": [dosage],
        "dispenseRequest": {
            "quantity": {"value": 60, "unit": "{tbl}"},
            "expectedSupplyDuration": {"value": 10, "unit": "days", "system": UCUM, "code": "d"},
        },
    }


def _median_seconds(work: Any) -> float:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    config = GuidelineConfig.from_mapping({})
    terms = load_terminology(config)  # loaded once per process, as in the service; not part of the timing
    tz = ZoneInfo("America/New_York")
    print(f"MME benchmark, median of {RUNS} runs (Python {sys.version.split()[0]})")
    print(f"{'orders':>7} {'compute_mme':>13} {'µs/order':>9} {'+ supply':>10} {'µs/order':>9} {'parse':>10}")
    for count in (10, 100, 1000):
        resources = [_order(i) for i in range(count)]
        parse = _median_seconds(lambda r=resources: build_record(r, tz))
        orders = build_record(resources, tz).orders
        mme_time = _median_seconds(lambda o=orders: compute_mme(o, terms, config))
        supply_time = _median_seconds(lambda o=orders: [order_supply(x, terms, config) for x in o])
        print(
            f"{count:>7} {mme_time * 1000:>10.2f} ms {mme_time / count * 1e6:>9.1f} "
            f"{supply_time * 1000:>7.2f} ms {supply_time / count * 1e6:>9.1f} {parse * 1000:>7.2f} ms"
        )


if __name__ == "__main__":
    main()
