"""A live `painplan serve` under hostile load (loopback only, bounded loops): slow and stalled clients, overload."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from cds_support import hook_request, oxycodone_draft
from test_blackbox_serve import LOOPBACK, FakeFhir, fake_fhir_server, painplan_serve, two_free_ports

READ_TIMEOUT = 2  # seconds a client has to send its headers and body
PATIENCE = 1.0  # seconds a hook call may wait for a thread
FHIR_BUDGET = 0.5  # each call against the slow FHIR server takes this long: the service's capacity is known


@dataclass
class Served:
    base: str
    fake: FakeFhir
    port: int


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    fake_port, port = two_free_ports()
    folder = tmp_path_factory.mktemp("hostile")
    fake = FakeFhir()
    env = {
        "PAINPLAN_AUTH": "off",
        "PAINPLAN_ALLOW_HTTP": "1",
        "PAINPLAN_INSTANCE_PATH": str(folder / "instance"),
        "PAINPLAN_TODAY": "2026-06-15",
        "PAINPLAN_WORKERS": "1",
        "PAINPLAN_THREADS": "2",
        "PAINPLAN_READ_TIMEOUT": str(READ_TIMEOUT),
        "PAINPLAN_QUEUE_PATIENCE": str(PATIENCE),
        "PAINPLAN_FHIR_TIMEOUT": str(FHIR_BUDGET),
    }
    with fake_fhir_server(fake, fake_port), painplan_serve(env, port, folder / "serve.log"):
        yield Served(f"http://{LOOPBACK}:{port}", fake, port)


def sign_body(fhir_server: str | None = None) -> bytes:
    body = hook_request(drafts=[oxycodone_draft()], prefetch={} if fhir_server else None)
    if fhir_server:
        body["fhirServer"] = fhir_server
    return json.dumps(body).encode()


def post_sign(base: str, body: bytes, timeout: float = 10) -> requests.Response:
    return requests.post(
        base + "/cds-services/order-sign", data=body, headers={"Content-Type": "application/json"}, timeout=timeout
    )


def read_reply(sock: socket.socket, within: float) -> bytes:
    """Whatever the server sends until it closes the connection or `within` seconds pass."""
    sock.settimeout(within)
    received = b""
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def test_a_stalled_body_is_answered_408_and_closed(served):
    with socket.create_connection((LOOPBACK, served.port), timeout=5) as sock:
        head = (
            "POST /cds-services/order-sign HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000\r\n\r\n{"
        )
        sock.sendall(head.encode())
        reply = read_reply(sock, within=READ_TIMEOUT + 5)
    assert reply.startswith(b"HTTP/1.1 408 ")


def test_headers_trickled_past_the_deadline_are_cut_off(served):
    with socket.create_connection((LOOPBACK, served.port), timeout=5) as sock:
        sock.settimeout(0.3)
        cut_off = False
        for byte in b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 100:  # bounded: at most 100 x 0.2 s
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                cut_off = True
                break
            try:
                reply = sock.recv(4096)
            except TimeoutError:
                continue
            cut_off = True
            assert reply == b"" or reply.startswith(b"HTTP/1.1 408 ")
            break
    assert cut_off


def test_32_slow_header_connections_leave_health_and_hooks_answering(served):
    stop = threading.Event()
    sockets = [socket.create_connection((LOOPBACK, served.port), timeout=5) for _ in range(32)]

    def trickle() -> None:
        line = b"GET /healthz HTTP/1.1\r\nX-Slow: "
        for step in range(40):  # bounded: 40 x 0.1 s
            if stop.wait(0.1):
                return
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.sendall(line[step : step + 1] or b"a")

    worker = threading.Thread(target=trickle, daemon=True)
    worker.start()
    try:
        time.sleep(0.3)
        for _ in range(5):
            assert requests.get(served.base + "/healthz", timeout=2).status_code == 200
            response = post_sign(served.base, sign_body(), timeout=3)
            assert response.status_code == 200
            assert response.json()["cards"][0]["source"]["topic"]["code"] == "high-mme"
    finally:
        stop.set()
        worker.join(timeout=5)
        for sock in sockets:
            sock.close()


def test_overload_is_shed_with_503_and_retry_after_while_capacity_keeps_serving(served):
    # Each call waits FHIR_BUDGET on the slow FHIR server: 2 threads serve about 4 calls a second. Offer 3x that
    # for 3 seconds; calls that cannot start within the patience must be refused at once, the rest served.
    slow = f"{served.fake.base}/slow/fhir"
    body = sign_body(slow)
    capacity_per_second = 2 / FHIR_BUDGET
    offered = int(capacity_per_second * 3 * 3)

    def call(n: int) -> requests.Response:
        time.sleep(n / (capacity_per_second * 3))  # evenly spread arrivals
        return post_sign(served.base, body, timeout=15)

    with ThreadPoolExecutor(max_workers=offered) as pool:
        answers = list(pool.map(call, range(offered)))
        health = requests.get(served.base + "/healthz", timeout=2)

    statuses = [a.status_code for a in answers]
    served_count, shed = statuses.count(200), [a for a in answers if a.status_code == 503]
    assert set(statuses) <= {200, 503}, statuses
    assert shed, "nothing was refused under 3x overload"
    assert served_count >= capacity_per_second  # at least a second's worth served: capacity was not lost to queueing
    for refused in shed:
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["issue"][0]["code"] == "throttled"
    assert health.status_code == 200
    metrics = requests.get(served.base + "/metrics", timeout=2).text
    counted = [
        line for line in metrics.splitlines() if line.startswith('painplan_shed_calls_total{service="order-sign"}')
    ]
    assert counted and float(counted[0].rsplit(" ", 1)[1]) >= len(shed)


def test_metrics_are_summed_across_workers_and_name_calls_and_cards(served):
    post_sign(served.base, sign_body())
    text = requests.get(served.base + "/metrics", timeout=2).text
    assert 'painplan_hook_calls_total{service="order-sign",status="200"}' in text
    assert 'painplan_cards_total{check="high-mme",indicator="critical"}' in text
    assert "painplan_hook_seconds_bucket" in text
