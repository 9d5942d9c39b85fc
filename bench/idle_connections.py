"""Server CPU per request while other clients hold idle keep-alive connections open (an EHR's connection pool).

An EHR keeps connections open between calls; a serving loop that asks every open connection about itself on every
turn costs more per request the more connections wait. This starts `painplan serve` with one worker, opens N
connections that each finish one GET /healthz and then stay open and quiet, sends GET /healthz on another connection
at a steady pace, and prints the server's CPU (utime + stime of the parent and worker, from /proc) per request, for
each N. The requests come from this process, the server runs in its own. With `--connect` each request opens a new
connection and closes it (a client without a pool): what an accept and a close cost with N idle connections open.

Run: .venv/bin/python bench/idle_connections.py [--idle 0,100,800] [--requests 3000] [--connect]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.hooks import _cpu_seconds, _free_port, _tree  # noqa: E402

PACE_SECONDS = 0.002  # between requests: a steady load, not a burst that queues


def _start(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PAINPLAN_AUTH": "off",
        "PAINPLAN_INSTANCE_PATH": tempfile.mkdtemp(prefix="painplan-idle-"),
    }
    command = [sys.executable, "-m", "smart_app.cli", "serve", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("painplan serve did not answer /healthz within 60 s")


def _idle_connection(port: int) -> http.client.HTTPConnection:
    """A keep-alive connection that has been used once, as a pooled EHR connection has, and is now quiet."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/healthz")
    connection.getresponse().read()
    return connection


def _get_healthz(active: http.client.HTTPConnection | None, port: int) -> None:
    """One GET /healthz: on `active`, or (None) on a new connection closed after it."""
    connection = active or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/healthz")
    connection.getresponse().read()
    if active is None:
        connection.close()


def one_run(idle: int, requests: int, connect: bool = False) -> dict[str, float | int | bool]:
    port = _free_port()
    process = _start(port)
    try:
        waiting = [_idle_connection(port) for _ in range(idle)]
        active = None if connect else http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(50):  # warm the worker's request path
            _get_healthz(active, port)
        pids = _tree(process.pid)
        before = _cpu_seconds(pids)
        for _ in range(requests):
            _get_healthz(active, port)
            time.sleep(PACE_SECONDS)
        cpu_us = (_cpu_seconds(pids) - before) * 1e6 / requests
        for connection in waiting:
            connection.close()
        if active is not None:
            active.close()
        return {
            "idle_connections": idle,
            "requests": requests,
            "new_connection_each": connect,
            "server_cpu_us_per_request": round(cpu_us),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", default="0,100,800", help="comma-separated numbers of idle connections")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--connect", action="store_true", help="each request on a new connection, closed after it")
    args = parser.parse_args()
    counts = [int(part) for part in args.idle.split(",")]
    # Each idle connection is a socket here and one in the server: raise this process's limit when it can be.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max(counts) + 256
    if soft < wanted and (hard == resource.RLIM_INFINITY or hard >= wanted):
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    print("GET /healthz on one connection while others wait idle; server CPU per request (1 worker):")
    for idle in counts:
        print(json.dumps(one_run(idle, args.requests, args.connect)), flush=True)


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    main()
