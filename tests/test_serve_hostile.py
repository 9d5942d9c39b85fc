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
from typing import Any

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


TRICKLE_SECONDS = 0.2  # a slow-header client sends a byte this often: never idle long enough to be closed as idle
CUT_OFF_WITHIN = 30.0  # the longest past the deadline the 408 may take: reached only when something is broken


def test_headers_trickled_past_the_deadline_are_cut_off(served):
    # The read deadline runs from the request's first byte reaching the worker, which is after the client sent it: so
    # nothing may cut the client off before READ_TIMEOUT seconds after that send (however slow the machine, it can
    # only come later), and the 408 must come, however late a loaded machine makes it, well within CUT_OFF_WITHIN.
    # The client keeps sending a byte every TRICKLE_SECONDS, so it is the deadline that cuts it (a connection closed
    # as idle gets no 408).
    line = b"GET /healthz HTTP/1.1\r\nX-Slow: "
    with socket.create_connection((LOOPBACK, served.port), timeout=5) as sock:
        sock.sendall(line[:1])
        first_sent = time.monotonic()
        sock.settimeout(TRICKLE_SECONDS)
        reply, sent = b"", 1
        while time.monotonic() - first_sent < READ_TIMEOUT + CUT_OFF_WITHIN:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                break  # what was read before it is judged below
            except TimeoutError:
                with contextlib.suppress(OSError):  # the worker may close between our recv and this send
                    sock.sendall(line[sent : sent + 1] or b"a")
                    sent += 1
                continue
            if not chunk:
                break
            reply += chunk
        cut_after = time.monotonic() - first_sent
    assert reply.startswith(b"HTTP/1.1 408 "), (reply, cut_after)
    assert cut_after >= READ_TIMEOUT  # not before its deadline


def test_32_slow_header_connections_leave_health_and_hooks_answering(served):
    # 32 clients trickle their headers a byte at a time for as long as the calls below take: one cut off at its
    # deadline (408) is replaced at once, so the calls are made with 32 of them open however slow the machine is
    # (a fixed few seconds of trickling ran out before the calls did, on a loaded machine). The calls' own timeouts are
    # generous: a slow answer is the machine's load; no answer, or a failure, is what this looks for.
    stop = threading.Event()
    line = b"GET /healthz HTTP/1.1\r\nX-Slow: "
    slow: list[tuple[socket.socket, list[int]]] = []

    def open_slow() -> tuple[socket.socket, list[int]]:
        return socket.create_connection((LOOPBACK, served.port), timeout=5), [0]

    def trickle() -> None:
        while not stop.wait(0.1):
            for n, (sock, sent) in enumerate(slow):
                try:
                    sock.sendall(line[sent[0] : sent[0] + 1] or b"a")
                    sent[0] += 1
                except OSError:  # cut off (408 and closed): another takes its place
                    sock.close()
                    slow[n] = open_slow()

    slow.extend(open_slow() for _ in range(32))
    worker = threading.Thread(target=trickle, daemon=True)
    worker.start()
    try:
        assert wait_until(lambda: all(sent[0] for _, sent in slow))  # every one has begun its request
        for _ in range(5):
            assert requests.get(served.base + "/healthz", timeout=CALL_SECONDS).status_code == 200
            response = post_sign(served.base, sign_body(), timeout=CALL_SECONDS)
            assert response.status_code == 200
            assert response.json()["cards"][0]["source"]["topic"]["code"] == "high-mme"
        assert worker.is_alive()  # they were trickling all along
    finally:
        stop.set()
        worker.join(timeout=5)
        for sock, _ in slow:
            sock.close()


CALL_SECONDS = 30.0  # a call's timeout under slow-header load: reached only when something is broken


def wait_until(condition: Any, seconds: float = CALL_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


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
