"""Order-sign latency in process (10 to 10,000 resources) and requests/second of `painplan serve` on loopback.

Run: .venv/bin/python bench/hooks.py [--quick] [--no-serve]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guideline.fhirdata import RXNORM  # noqa: E402
from smart_app import create_app  # noqa: E402

PATIENT = "bench-patient"


def _order(n: int, rxcui: str, status: str = "active", draft: bool = False) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": f"{'draft' if draft else 'mr'}-{n}",
        "status": "draft" if draft else status,
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "authoredOn": "2026-05-20",
        "category": [{"coding": [{"code": "community"}]}],
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui}]},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "tablet", "code": "{tbl}"}}],
            }
        ],
        "dispenseRequest": {"expectedSupplyDuration": {"value": 30, "unit": "days", "code": "d"}},
    }


def _filler(n: int) -> dict[str, Any]:
    """A realistic chart mix: labs, conditions, encounters, procedures, old orders."""
    kind = n % 5
    if kind == 0:
        return {
            "resourceType": "Observation",
            "id": f"obs-{n}",
            "status": "final",
            "category": [{"coding": [{"code": "laboratory"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}]},
            "effectiveDateTime": "2026-03-01",
            "valueQuantity": {"value": 99, "unit": "mg/dL"},
        }
    if kind == 1:
        return {
            "resourceType": "Condition",
            "id": f"cond-{n}",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"}]},
            "recordedDate": "2025-01-01",
        }
    if kind == 2:
        return {
            "resourceType": "Encounter",
            "id": f"enc-{n}",
            "status": "finished",
            "period": {"start": "2026-01-02", "end": "2026-01-02"},
        }
    if kind == 3:
        return {
            "resourceType": "Procedure",
            "id": f"proc-{n}",
            "status": "completed",
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "80146002"}]},
            "performedDateTime": "2025-08-01",
        }
    return _order(n, "308191", status="completed")


def request_body(resources: int) -> dict[str, Any]:
    chart = [_order(0, "1049621")] + [_filler(n) for n in range(1, resources)]
    return {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/bench",
            "patientId": PATIENT,
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": _order(1, "1049621", draft=True)}]},
        },
        "prefetch": {
            "patient": {"resourceType": "Patient", "id": PATIENT, "birthDate": "1970-01-01"},
            "medsActive": {"resourceType": "Bundle", "entry": [{"resource": r} for r in chart]},
            **{
                key: None
                for key in (
                    "medsRecent",
                    "dispenses",
                    "udsLabs",
                    "pdmpObs",
                    "conditions",
                    "procedures",
                    "encounters",
                    "serviceRequests",
                    "carePlans",
                    "planNotes",
                )
            },
        },
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def in_process(sizes: list[int], quick: bool) -> list[dict[str, Any]]:
    instance = tempfile.mkdtemp(prefix="painplan-bench-")
    app = create_app({"instance_path": instance, "auth": "off", "today": "2026-06-15", "secret_key": "bench"})
    client = app.test_client()
    rows = []
    for size in sizes:
        raw = json.dumps(request_body(size)).encode()
        runs = max(5, (40 if quick else 400) // max(1, size // 100))
        for _ in range(3):  # warm-up
            client.post("/cds-services/order-sign", data=raw, content_type="application/json")
        times, parse = [], []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.post("/cds-services/order-sign", data=raw, content_type="application/json")
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
            started = time.perf_counter()
            json.loads(raw)
            parse.append((time.perf_counter() - started) * 1000)
        p50 = statistics.median(times)
        rows.append(
            {
                "resources": size,
                "bytes": len(raw),
                "runs": runs,
                "p50_ms": round(p50, 2),
                "p95_ms": round(percentile(times, 0.95), 2),
                "p99_ms": round(percentile(times, 0.99), 2),
                "json_loads_ms": round(statistics.median(parse), 3),
                "ratio_to_json_loads": round(p50 / statistics.median(parse), 1),
            }
        )
    return rows


def client_floor(runs: int) -> dict[str, Any]:
    """What the Flask test client and app cost with no hook work at all: GET /healthz, same app settings."""
    instance = tempfile.mkdtemp(prefix="painplan-bench-")
    app = create_app({"instance_path": instance, "auth": "off", "today": "2026-06-15", "secret_key": "bench"})
    client = app.test_client()
    for _ in range(10):
        client.get("/healthz")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get("/healthz")
        times.append((time.perf_counter() - started) * 1000)
    return {"request": "GET /healthz", "runs": runs, "p50_ms": round(statistics.median(times), 3)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served(requests_total: int, concurrency: int, size: int, workers: int) -> dict[str, Any]:
    """Start `painplan serve` on loopback, send a bounded number of calls, stop it."""
    port = _free_port()
    instance = tempfile.mkdtemp(prefix="painplan-serve-")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PAINPLAN_AUTH": "off",
        "PAINPLAN_INSTANCE_PATH": instance,
        "PAINPLAN_TODAY": "2026-06-15",
        "PAINPLAN_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "smart_app.cli", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        raw = json.dumps(request_body(size)).encode()

        def one(_: int) -> tuple[int, float]:
            started = time.perf_counter()
            request = urllib.request.Request(
                base + "/cds-services/order-sign", data=raw, headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                return response.status, (time.perf_counter() - started) * 1000

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(concurrency)))  # warm every worker
            started = time.perf_counter()
            results = list(pool.map(one, range(requests_total)))
            elapsed = time.perf_counter() - started
        latencies = [ms for _, ms in results]
        return {
            "workers": workers,
            "concurrency": concurrency,
            "requests": requests_total,
            "resources": size,
            "ok": sum(1 for status, _ in results if status == 200),
            "requests_per_second": round(requests_total / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (for a smoke test)")
    parser.add_argument("--no-serve", action="store_true", help="in-process figures only (no gunicorn)")
    args = parser.parse_args()
    print("In-process order-sign (Flask test client, auth off, full prefetch):")
    for row in in_process([10, 100, 200, 1000, 10000], args.quick):
        print(json.dumps(row))
    print("Floor of the same test client and app with no hook work:")
    print(json.dumps(client_floor(100 if args.quick else 1000)))
    if args.no_serve:
        return
    print("painplan serve on 127.0.0.1 (gunicorn gthread):")
    print(json.dumps(served(100 if args.quick else 1000, 16, 100, 2)))


if __name__ == "__main__":
    main()
