"""Shedding judges the service's own time per hook call: clients slow to read their answers must not make it refuse."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from serve_support import LOOPBACK, ORDER_SIGN, hook_call, serving

from smart_app.admission import admission

PATIENCE = 0.5  # seconds a hook call may wait for one of the two threads
PAUSE = 1.5  # seconds a slow client reads nothing of its answer (the idle timeout, 5 s, is not reached)
CHUNK = 10_000_000
PARTS = 5  # 50 MB: past waitress's 16 MB high watermark and the kernel's buffers, the thread waits for the client


def hooks(environ: dict[str, Any], start_response: Any) -> Any:
    """A CDS service whose calls take the seconds in the query string; `.../large` answers 50 MB in five parts."""
    environ["wsgi.input"].read()
    if environ["PATH_INFO"].endswith("/large"):
        start_response("200 OK", [("Content-Type", "application/json")])
        return (b" " * CHUNK for _ in range(PARTS))
    time.sleep(float(environ["QUERY_STRING"] or 0))
    body = b'{"cards": []}'
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server() -> Iterator[Any]:
    with serving(admission(hooks, PATIENCE, lambda _service: None), read_timeout=5, patience=PATIENCE) as served:
        yield served


def slow_reader(port: int) -> int:
    """Posts a hook call, reads nothing of its large answer for PAUSE seconds, then all of it: the bytes received."""
    with socket.create_connection((LOOPBACK, port), timeout=10) as conn:
        conn.sendall(hook_call(path="/cds-services/order-sign/large", headers="Connection: close\r\n"))
        time.sleep(PAUSE)
        received = 0
        while chunk := conn.recv(1024 * 1024):
            received += len(chunk)
        return received


def post_calls(port: int, seconds: float, count: int) -> list[requests.Response]:
    """`count` hook calls of `seconds` each, sent at once."""

    def call(_: int) -> requests.Response:
        return requests.post(
            f"http://{LOOPBACK}:{port}/cds-services/order-sign?{seconds}",
            data=ORDER_SIGN,
            headers={"Content-Type": "application/json"},
            timeout=15,
        )

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(call, range(count)))


def test_clients_slow_to_read_do_not_make_the_service_shed_calls_it_can_serve(server):
    port = server.effective_port
    with ThreadPoolExecutor(max_workers=2) as pool:  # both threads wait PAUSE seconds for their client to read
        assert all(received > PARTS * CHUNK for received in pool.map(slow_reader, [port, port]))  # whole answers
    # The time each thread waited on its client counted as the time a call takes: about PAUSE where the service
    # needs milliseconds, and the next calls finding both threads busy were refused though they would start at once.
    # Handing 50 MB to the channel is real work (a tenth of a second or more under load); waiting was 1.5 s a call.
    assert server.task_dispatcher.service_seconds < 0.8 * PATIENCE
    answers = post_calls(port, 0.1, 4)
    assert [a.status_code for a in answers] == [200] * 4


def test_a_real_overload_is_still_shed_after_slow_readers(server):
    port = server.effective_port
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(slow_reader, [port, port]))
    answers = post_calls(port, 0.3, 12)  # two threads, 0.3 s a call: twelve at once cannot all start within 0.5 s
    statuses = [a.status_code for a in answers]
    assert set(statuses) == {200, 503}, statuses
    assert all(a.headers["Retry-After"] == "1" for a in answers if a.status_code == 503)
