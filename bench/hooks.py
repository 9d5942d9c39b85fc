"""Server CPU per order-sign call, and its ratio to `json.loads` of the same bodies (the headline figures).

Bodies: ~165 kB, 200 resources (bench/bodies.py), different on every call (ids, dates, doses, results), so caches
are as cold as a real call's. Two modes:
- in process: the Flask app through its test client, preloaded as `painplan serve` preloads it; CPU is
  `time.process_time()` of this process over the calls.
- `painplan serve` (2 waitress workers): a load generator in a separate process sends calls at a fixed rate
  (open loop; latency of answered calls counted from each call's scheduled start, refusals such as 503 counted
  apart); CPU is the server processes' utime+stime from /proc before and after, divided by the calls answered.

The served run is followed by the same rate of GET /healthz, and the last line splits a call's server CPU into what
any request costs (HTTP, waitress, Flask), the parse of its body, and the rest (building the record, the checks,
the cards, the database), each also in units of json.loads.

With --apart the load generator runs on a core of its own and the server on the others (one worker per core): on
a small machine the generator otherwise shares the server's cores and their caches, which an EHR on another machine
never does, so this is the nearer figure to a deployed server's; the default (2 workers on every core) compares
with earlier runs.

With --auth RS384 or ES384 every call carries a JWT signed as an EHR signs it (in the load generator's process), so
the server's figure includes verifying it and the shared replay check; the default, off, compares with earlier runs.

Run: .venv/bin/python bench/hooks.py [--quick] [--no-serve] [--rate 200] [--seconds 15] [--apart]
                                     [--auth off|RS384|ES384]
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import queue
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bodies import encoded_bodies, unique_call  # noqa: E402
from bench.ehr_tokens import PUBLIC_URL, TokenSigner, make_client  # noqa: E402

TODAY = "2026-06-15"
PATH = "/cds-services/order-sign"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def json_loads_cpu_ms(bodies: list[bytes]) -> float:
    """CPU milliseconds of `json.loads` per body, over the same bodies the service gets."""
    gc.collect()
    started = time.process_time()
    for raw in bodies:
        json.loads(raw)
    return (time.process_time() - started) * 1000 / len(bodies)


def baseline_json_loads_ms() -> float:
    """json.loads of 200 fresh bodies in this process before any app exists: the yardstick for both modes."""
    pool = [unique_call(raw, n) for n, raw in enumerate(encoded_bodies(200, first_seed=90_000))]
    # The best of five rounds: other processes on the machine only ever make a round slower.
    return min(json_loads_cpu_ms(pool) for _ in range(5))


def in_process(calls: int, loads_ms: float, auth: str = "off") -> dict[str, Any]:
    pool = encoded_bodies(min(calls, 200), first_seed=10_000)
    bodies = [unique_call(pool[n % len(pool)], n) for n in range(calls)]

    from smart_app import create_app

    instance = tempfile.mkdtemp(prefix="painplan-bench-")
    settings: dict[str, Any] = {"instance_path": instance, "auth": "off", "today": TODAY, "secret_key": "bench"}
    headers: list[dict[str, str]] = [{} for _ in range(calls + 5)]
    if auth != "off":
        trusted = make_client(Path(instance) / "ehr", auth)
        settings.update(auth="required", trusted_clients=str(trusted), public_url=PUBLIC_URL)
        signer = TokenSigner(trusted.parent)  # every token signed now, before the CPU is counted
        headers = [{"Authorization": signer.authorization(PATH)} for _ in range(calls + 5)]
    app = create_app(settings)
    try:  # what `painplan serve` does before forking (models loaded, heap frozen), so GC costs what it costs there
        from smart_app.server import preload
    except ImportError:
        preload = None
    if preload is not None:
        preload(app)
    client = app.test_client()
    for n in range(5):  # warm-up: imports, first-call set-up (never the bodies measured below)
        client.post(
            PATH, data=unique_call(pool[n], 10**9 + n), content_type="application/json", headers=headers[calls + n]
        )
    wall: list[float] = []
    gc.collect()
    cpu_started = time.process_time()
    for raw, header in zip(bodies, headers, strict=False):
        started = time.perf_counter()
        response = client.post(PATH, data=raw, content_type="application/json", headers=header)
        wall.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    cpu_ms = (time.process_time() - cpu_started) * 1000 / calls
    return {
        "mode": "in-process (Flask test client)" + (f", JWT {auth}" if auth != "off" else ""),
        "calls": calls,
        "body_kb": round(statistics.mean(len(b) for b in bodies) / 1000, 1),
        "cpu_ms_per_call": round(cpu_ms, 3),
        "json_loads_ms": round(loads_ms, 3),
        "ratio_to_json_loads": round(cpu_ms / loads_ms, 1),
        "p50_ms": round(statistics.median(wall), 2),
        "p99_ms": round(percentile(wall, 0.99), 2),
        "max_ms": round(max(wall), 2),
    }


# -- the served mode ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(root: int) -> list[int]:
    """The process and its children (the supervising parent and its waitress workers)."""
    found = [root]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == root:
                found.append(int(entry))
    return found


def _cpu_seconds(pids: list[int]) -> float:
    """utime + stime of the given processes, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def load_generator(args: argparse.Namespace) -> None:
    """Runs in its own process: open-loop calls at `rate` per second, one JSON line of results on stdout."""
    pool = encoded_bodies(args.pool, first_seed=args.seed)
    total = int(args.rate * args.seconds)
    jobs: queue.Queue[tuple[int, float] | None] = queue.Queue()
    latencies: list[float] = []  # answered calls (200) only; refusals are counted in statuses
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    # Signed before the run, each with its own jti: signing RS384 at 200 calls/s would make this process the bottleneck.
    signer = TokenSigner(Path(args.ehr)) if args.ehr else None
    tokens = [signer.authorization(PATH) for _ in range(total)] if signer is not None else []

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        while (job := jobs.get()) is not None:
            call, scheduled = job
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            raw = unique_call(pool[call % len(pool)], args.first_call + call)
            try:
                if args.probe:  # the cost of any request: HTTP, waitress and Flask, no body and no engine
                    connection.request("GET", "/healthz")
                else:
                    headers = {"Content-Type": "application/json"}
                    if tokens:
                        headers["Authorization"] = tokens[call]
                    connection.request("POST", PATH, body=raw, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
                status = 0
            elapsed = (time.perf_counter() - scheduled) * 1000  # from the scheduled start: queueing counts
            with lock:
                if status == 200:
                    latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    started = time.perf_counter() + 0.2
    for call in range(total):
        jobs.put((call, started + call / args.rate))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "calls": total,
                "answered": statuses.get(200, 0),
                "statuses": statuses,
                "achieved_per_second": round(total / elapsed, 1),
                "p50_ms": round(statistics.median(latencies), 1),
                "p99_ms": round(percentile(latencies, 0.99), 1),
                "max_ms": round(max(latencies), 1),
            }
        )
    )


def _generate(
    port: int,
    rate: float,
    seconds: float,
    seed: int,
    first_call: int,
    pool: int,
    probe: bool = False,
    ehr: Path | None = None,
    cores: set[int] | None = None,
) -> dict[str, Any]:
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--load-generator",
        f"--port={port}",
        f"--rate={rate}",
        f"--seconds={seconds}",
        f"--seed={seed}",
        f"--first-call={first_call}",
        f"--pool={pool}",
        *(["--probe"] if probe else []),
        *([f"--ehr={ehr}"] if ehr else []),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, preexec_fn=_pinned(cores))
    return json.loads(done.stdout.strip().splitlines()[-1])


def split_cores() -> tuple[set[int], set[int]]:
    """The cores this process may use, split into the server's (all but the last) and the load generator's."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("bench/hooks.py --apart needs at least two cores: one for the server, one for the load")
    return set(cores[:-1]), {cores[-1]}


def _pinned(cores: set[int] | None) -> Callable[[], None] | None:
    """A pre-exec hook that keeps a child process (and every process it forks) on `cores`."""
    if cores is None:
        return None
    return lambda: os.sched_setaffinity(0, cores)


def served(
    rate: float,
    seconds: float,
    workers: int | None,
    loads_ms: float,
    auth: str = "off",
    apart: bool = False,
) -> dict[str, Any]:
    """Start `painplan serve` on loopback, warm it, then a fixed-rate run from a separate process."""
    server_cores, generator_cores = split_cores() if apart else (None, None)
    if workers is None:
        workers = len(server_cores) if server_cores else 2
    port = _free_port()
    instance = tempfile.mkdtemp(prefix="painplan-serve-")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PAINPLAN_AUTH": "off",
        "PAINPLAN_INSTANCE_PATH": instance,
        "PAINPLAN_TODAY": TODAY,
        # The shipped default: each call writes its JSON log line, which is part of what a call costs.
        "PAINPLAN_LOG_LEVEL": "INFO",
    }
    ehr = None
    if auth != "off":
        trusted = make_client(Path(instance) / "ehr", auth)
        ehr = trusted.parent
        env.update(PAINPLAN_AUTH="required", PAINPLAN_TRUSTED_CLIENTS=str(trusted), PAINPLAN_PUBLIC_URL=PUBLIC_URL)
    command = [sys.executable, "-m", "smart_app.cli", "serve", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_pinned(server_cores),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        # Warm every worker with bodies the measured run never sends.
        _generate(port, 20, 2, seed=50_000, first_call=10**9, pool=10, ehr=ehr, cores=generator_cores)
        pids = _tree(process.pid)
        before = _cpu_seconds(pids)
        result = _generate(port, rate, seconds, seed=20_000, first_call=0, pool=200, ehr=ehr, cores=generator_cores)
        # Every process's CPU, refused calls' included, charged to the calls answered with cards.
        cpu_ms = (_cpu_seconds(pids) - before) * 1000 / max(1, result["answered"])
        # The same rate of GET /healthz: what any request costs the server before a body or the engine is involved.
        before = _cpu_seconds(pids)
        probe = _generate(
            port, rate, min(seconds, 5.0), seed=0, first_call=0, pool=1, probe=True, cores=generator_cores
        )
        floor_ms = (_cpu_seconds(pids) - before) * 1000 / max(1, probe["answered"])
        return {
            "mode": f"painplan serve ({workers} worker{'s' if workers != 1 else ''}), load generator in its own process"
            + (f" on core {min(generator_cores)}, server on {sorted(server_cores)}" if apart else "")
            + (f", JWT {auth} signed there" if auth != "off" else ""),
            "offered_per_second": rate,
            **result,
            "server_cpu_ms_per_call": round(cpu_ms, 3),
            "json_loads_ms": round(loads_ms, 3),
            "ratio_to_json_loads": round(cpu_ms / loads_ms, 1),
            "any_request_cpu_ms": round(floor_ms, 3),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke test, not a figure)")
    parser.add_argument("--no-serve", action="store_true", help="in-process figures only")
    parser.add_argument(
        "--rate",
        type=float,
        help="calls per second offered to painplan serve (default 200, or 150 per server core with --apart, which"
        " one core serves without queueing)",
    )
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the fixed-rate run")
    parser.add_argument("--workers", type=int, help="server workers (default 2, or one per server core with --apart)")
    parser.add_argument(
        "--apart",
        action="store_true",
        help="the load generator on a core of its own, the server on the rest (needs two cores or more)",
    )
    parser.add_argument("--load-generator", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--first-call", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=int, default=200, help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=32, help=argparse.SUPPRESS)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ehr", help=argparse.SUPPRESS)
    parser.add_argument(
        "--auth",
        choices=("off", "RS384", "ES384"),
        default="off",
        help="sign every call as an EHR does (default off: the figures compare with earlier runs)",
    )
    args = parser.parse_args()
    if args.load_generator:
        load_generator(args)
        return
    print("Order-sign, 200 resources, a different body every call; server CPU per call vs json.loads of the body:")
    loads_ms = baseline_json_loads_ms()
    print(json.dumps(in_process(60 if args.quick else 600, loads_ms, args.auth)))
    if args.no_serve:
        return
    seconds = 3.0 if args.quick else args.seconds
    rate = args.rate or (150.0 * len(split_cores()[0]) if args.apart else 200.0)
    result = served(rate, seconds, args.workers, loads_ms, args.auth, args.apart)
    print(json.dumps(result))
    print(json.dumps(budget(result, loads_ms)))


def body_parse_ms() -> float:
    """CPU milliseconds of the service's own body parser (msgspec, falling back to json.loads) per body, best of 5."""
    from cds_hooks.json_body import parse_json

    pool = [unique_call(raw, n) for n, raw in enumerate(encoded_bodies(200, first_seed=90_000))]
    rounds = []
    for _ in range(5):
        gc.collect()
        started = time.process_time()
        for raw in pool:
            parse_json(raw)
        rounds.append((time.process_time() - started) * 1000 / len(pool))
    return min(rounds)


def budget(served_result: dict[str, Any], loads_ms: float) -> dict[str, Any]:
    """Where a served call's CPU goes: any request's cost, the body's parse, and the rest (engine, cards, database)."""
    total = served_result["server_cpu_ms_per_call"]
    floor = served_result["any_request_cpu_ms"]
    parse = body_parse_ms()
    rest = total - floor - parse
    return {
        "served_cpu_ms_per_call": total,
        "any_request_ms": round(floor, 3),
        "body_parse_ms": round(parse, 3),
        "engine_cards_store_ms": round(rest, 3),
        "in_json_loads": {
            "any_request": round(floor / loads_ms, 2),
            "body_parse": round(parse / loads_ms, 2),
            "engine_cards_store": round(rest / loads_ms, 2),
        },
    }


if __name__ == "__main__":
    main()
