"""`painplan serve` offered three times its capacity: how many calls are answered in time, how many are shed.

Every hook call waits FHIR_SECONDS on a deliberately slow loopback FHIR server, so one worker with two threads
serves 2 / FHIR_SECONDS calls a second whatever the machine. The load offers three times that for SECONDS
seconds, evenly spread, from this process (not the server's). Prints answered in time (within the EHR's usual two
seconds), shed (503 + Retry-After) and latencies. Run: .venv/bin/python bench/overload.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from cds_support import hook_request, oxycodone_draft  # noqa: E402
from test_blackbox_serve import LOOPBACK, FakeFhir, fake_fhir_server, free_port, painplan_serve  # noqa: E402

FHIR_SECONDS = 0.5
THREADS = 2
SECONDS = 5
EHR_PATIENCE = 2.0


def main() -> None:
    fake, port, fake_port = FakeFhir(), free_port(), free_port()
    capacity = THREADS / FHIR_SECONDS
    rate = capacity * 3
    folder = Path(tempfile.mkdtemp(prefix="painplan-bench-"))
    env = {
        "PAINPLAN_AUTH": "off",
        "PAINPLAN_ALLOW_HTTP": "1",
        "PAINPLAN_FHIR_TIMEOUT": str(FHIR_SECONDS),
        "PAINPLAN_THREADS": str(THREADS),
        "PAINPLAN_WORKERS": "1",
        "PAINPLAN_TODAY": "2026-06-15",
        "PAINPLAN_LOG_LEVEL": "WARNING",
        "PAINPLAN_INSTANCE_PATH": str(folder / "instance"),
    }
    base = f"http://{LOOPBACK}:{port}"
    with painplan_serve(env, port, folder / "serve.log"), fake_fhir_server(fake, fake_port):
        body = hook_request(drafts=[oxycodone_draft()], prefetch={})
        body["fhirServer"] = f"{fake.base}/slow/fhir"
        data = json.dumps(body).encode()
        count = int(rate * SECONDS)

        def call(n: int) -> tuple[int, float]:
            time.sleep(n / rate)
            started = time.monotonic()
            response = requests.post(
                base + "/cds-services/order-sign",
                data=data,
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
            return response.status_code, time.monotonic() - started

        with ThreadPoolExecutor(count) as pool:
            answers = list(pool.map(call, range(count)))
    served = sorted(seconds for status, seconds in answers if status == 200)
    shed = sorted(seconds for status, seconds in answers if status == 503)
    in_time = [s for s in served if s <= EHR_PATIENCE]
    print(f"offered {count} calls at {rate:g}/s for {SECONDS} s (3 x capacity {capacity:g}/s)")
    print(
        f"  answered 200           {len(served):>4}  "
        f"({len(in_time)} within {EHR_PATIENCE:g} s = {len(in_time) / SECONDS:.1f}/s)"
    )
    if served:
        print(f"  200 latency            p50 {served[len(served) // 2]:.2f} s, max {served[-1]:.2f} s")
    print(f"  shed 503 + Retry-After {len(shed):>4}" + (f"  (p50 {shed[len(shed) // 2]:.2f} s)" if shed else ""))


if __name__ == "__main__":
    main()
