"""`painplan serve` really serves: two waitress worker processes on a free local port, stopped by the test."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cds_support import hook_request, oxycodone_draft

from smart_app.config import load_settings
from smart_app.server import ServerOptions

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_server_options_follow_settings():
    settings = load_settings(env={"PAINPLAN_QUEUE_PATIENCE": "0.5"}, host="0.0.0.0", port=9000, workers=3, threads=6)
    options = ServerOptions.from_settings(settings)
    assert (options.host, options.port, options.workers, options.threads) == ("0.0.0.0", 9000, 3, 6)
    assert options.patience == 0.5 and options.read_timeout == settings.read_timeout


def test_serve_answers_hooks(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PAINPLAN_AUTH": "off",
        "PAINPLAN_INSTANCE_PATH": str(tmp_path),
        "PAINPLAN_TODAY": "2026-06-15",
    }
    command = [sys.executable, "-m", "smart_app.cli", "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        body = json.dumps(hook_request(drafts=[oxycodone_draft()])).encode()
        request = urllib.request.Request(
            base + "/cds-services/order-sign", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            cards = json.loads(response.read())["cards"]
        assert cards[0]["source"]["topic"]["code"] == "high-mme"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def test_serve_with_a_bad_config_exits_2(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("not_a_setting = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "smart_app.cli", "serve", "--config", str(config)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "unknown setting" in result.stderr


def test_flask_cookie_session_is_switched_off(tmp_path):
    """All state is server-side: the cookie session is a read-only null session that refuses writes."""
    import flask
    import pytest

    from smart_app import create_app

    app = create_app({"instance_path": str(tmp_path), "auth": "off"})
    with app.test_request_context("/healthz"):
        assert not flask.session
        with pytest.raises(RuntimeError):
            flask.session["token"] = "never"
    response = app.test_client().get("/healthz")
    assert "Set-Cookie" not in response.headers


def test_shed_calls_are_counted_by_known_service_only(tmp_path):
    """Shedding comes before routing and authentication: a service name from the path must not mint a series."""
    from prometheus_client import REGISTRY
    from werkzeug.test import EnvironBuilder

    from smart_app import create_app
    from smart_app.http_server import QUEUED_AT, SHED
    from smart_app.server import wsgi_app

    app = create_app({"instance_path": str(tmp_path), "auth": "off"})
    served = wsgi_app(app, app.config["PAINPLAN"])

    def shed(path: str) -> str:
        environ = EnvironBuilder(path=path, method="POST", json={}).get_environ()
        environ.update({QUEUED_AT: time.monotonic(), SHED: True})
        statuses: list[str] = []
        b"".join(served(environ, lambda status, headers: statuses.append(status)))
        return statuses[0]

    def counted(service: str) -> float:
        return REGISTRY.get_sample_value("painplan_shed_calls_total", {"service": service}) or 0.0

    before_sign, before_unknown = counted("order-sign"), counted("unknown")
    assert shed("/cds-services/order-sign").startswith("503")
    for n in range(3):  # a client under overload naming services that do not exist
        assert shed(f"/cds-services/no-such-service-{n}").startswith("503")
    assert counted("order-sign") == before_sign + 1
    assert counted("unknown") == before_unknown + 3
    names = {s.labels["service"] for m in REGISTRY.collect() if m.name == "painplan_shed_calls" for s in m.samples}
    assert not [name for name in names if name.startswith("no-such-service")], names


# `painplan serve`'s supervisor with stand-in workers (no app), stopped by a real SIGTERM. argv[1]: how the stand-in
# worker takes SIGTERM ("exit" as a worker does, or "ignore" as a stuck one); argv[2]: "race" sends the supervisor
# its SIGTERM just as fork() returns, before it has noted the new worker.
SUPERVISOR = """
import os, signal, sys, time
from smart_app import server

def worker(*_):
    signal.signal(signal.SIGTERM, server._exit_worker if sys.argv[1] == "exit" else signal.SIG_IGN)
    print("worker", flush=True)
    time.sleep(60)

server.serve_worker = worker
if sys.argv[2] == "race":
    fork = os.fork
    def racing_fork():
        pid = fork()
        if pid:
            os.kill(os.getpid(), signal.SIGTERM)
        return pid
    os.fork = racing_fork
elif sys.argv[2] == "repeated":
    import threading
    def resend():  # a scheduler sending SIGTERM again and again while it waits
        time.sleep(0.5)
        while True:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.4)
    threading.Thread(target=resend, daemon=True).start()
else:
    signal.signal(signal.SIGALRM, lambda *_: os.kill(os.getpid(), signal.SIGTERM))
    signal.setitimer(signal.ITIMER_REAL, 0.5)
options = server.ServerOptions("127.0.0.1", 0, 1, 1, 1.0, 1.0, 1000)
supervisor = server.Supervisor(None, None, None, options)
supervisor.stop_grace = 1.0
supervisor.run()
print("stopped", flush=True)
"""


@pytest.mark.parametrize(
    ("worker", "when"),
    [("exit", "race"), ("ignore", "later"), ("ignore", "repeated")],
    ids=["sigterm-as-a-worker-is-forked", "a-worker-that-ignores-sigterm", "stop-signals-sent-again-and-again"],
)
def test_the_supervisor_stops_in_bounded_time(worker, when):
    process = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, worker, when],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its workers too are killed below, whatever happens
    )
    try:
        # Before: the worker forked as SIGTERM arrived was never told to stop, and the supervisor waited for it
        # forever; one that did not stop on SIGTERM was waited for forever too, and so was one whose supervisor was
        # sent SIGTERM again within the grace (each signal put the kill off by the whole grace).
        assert process.wait(timeout=8) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.stdout.read().endswith("stopped\n")
