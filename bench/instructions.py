"""Instructions per order-sign call under valgrind (callgrind), and their ratio to `json.loads` of the same bodies.

CPU time on a shared or virtual machine moves by tens of percent between runs; an instruction count does not, so
this is the figure to compare a change by. It is not the headline: Python's pointer-chasing code runs far fewer
instructions per cycle than json.loads's C loop, so the CPU-time ratio (bench/hooks.py) is about twice this one.

Each figure is the difference of two runs that do the same set-up and differ only in the calls measured, so
imports, app start-up and warm-up cancel out. Bodies as in bench/hooks.py (~165 kB, 200 resources, a different
one every call). Needs valgrind; takes a few minutes.

Run: .venv/bin/python bench/instructions.py [--calls 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PATH = "/cds-services/order-sign"


def run_calls(calls: int, what: str) -> None:
    """The measured program: `calls` order-sign calls (or json.loads of the same bodies) after the set-up."""
    from bench.bodies import encoded_bodies, unique_call

    pool = encoded_bodies(20, first_seed=10_000)
    bodies = [unique_call(pool[n % len(pool)], n) for n in range(20)]
    if what == "loads":
        for raw in bodies[:calls]:
            json.loads(raw)
        return
    from smart_app import create_app
    from smart_app.server import preload

    app = create_app({"instance_path": tempfile.mkdtemp(), "auth": "off", "today": "2026-06-15", "secret_key": "b"})
    preload(app)
    client = app.test_client()
    for n in range(3):  # warm-up, as in bench/hooks.py
        client.post(PATH, data=unique_call(pool[n], 10**9 + n), content_type="application/json")
    for raw in bodies[:calls]:
        assert client.post(PATH, data=raw, content_type="application/json").status_code == 200


def instructions(calls: int, what: str) -> int:
    """Instructions callgrind counts for the whole program with this many calls."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the same hashing, so the same instructions, every run
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--child",
        what,
        "--calls",
        str(calls),
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    found = re.search(r"refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise RuntimeError("callgrind printed no instruction count")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="calls per measured run (at most 20)")
    parser.add_argument("--child", choices=("hook", "loads"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    calls = max(1, min(args.calls, 20))
    if args.child:
        run_calls(calls if os.environ.get("BENCH_EMPTY_RUN") != "1" else 0, args.child)
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench/instructions.py needs valgrind (apt-get install valgrind)")
    per_call = {}
    for what in ("hook", "loads"):
        os.environ["BENCH_EMPTY_RUN"] = "1"
        empty = instructions(calls, what)
        os.environ["BENCH_EMPTY_RUN"] = "0"
        full = instructions(calls, what)
        per_call[what] = (full - empty) / calls
    print("Order-sign, 200 resources: instructions per call (callgrind) vs json.loads of the body:")
    print(
        json.dumps(
            {
                "calls": calls,
                "instructions_per_call_millions": round(per_call["hook"] / 1e6, 2),
                "json_loads_millions": round(per_call["loads"] / 1e6, 2),
                "ratio_to_json_loads": round(per_call["hook"] / per_call["loads"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
