"""Shedding judges the service's own time per hook call: clients slow to read their answers must not make it refuse.

Nothing here depends on how fast the machine is: a slow reader starts its pause only once the thread writing its
answer is provably stuck waiting for it (handshake), the time a call is charged is compared with the time the same
thread spent in it on the same clock, and calls are held in their threads by a gate, not by sleeps of a guessed length.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from serve_support import LOOPBACK, ORDER_SIGN, hook_call, serving

from smart_app.admission import admission
from smart_app.http_server import GuardedChannel

PATIENCE = 1.0  # seconds a hook call may wait for one of the two threads
PAUSE = 3.0  # seconds a slow client reads nothing once its thread waits for it: charged, it would exceed PATIENCE
HIGH_WATERMARK = 1024 * 1024  # waitress's outbuf_high_watermark here: past it, a thread writing waits for its client
SOCKET_BUFFER = 64 * 1024  # both ends' kernel buffers (the kernel doubles it): nothing near a chunk fits in them
KERNEL_BYTES = 1024 * 1024  # more than both kernel buffers together can ever hold
CHUNK = 4 * 1024 * 1024
PARTS = 3
WAIT = 10.0  # generous bound on any handshake: reached only when the behaviour is broken
SERVER_SOCKET_OPTIONS = [
    (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
    (socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER),
]


class Gate:
    """Holds `/gate` calls in their worker threads until opened, and counts those that entered."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.entered = threading.Semaphore(0)

    def hold(self) -> None:
        self.entered.release()
        assert self.opened.wait(WAIT), "the gate was never opened"

    def await_entered(self, count: int) -> None:
        for _ in range(count):
            assert self.entered.acquire(timeout=WAIT), "a gated call never reached its thread"


def hooks(gate: Gate) -> Any:
    """A CDS service: `.../large` answers PARTS chunks, `.../gate` waits for the gate, others answer at once."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.input"].read()
        if environ["PATH_INFO"].endswith("/large"):
            start_response("200 OK", [("Content-Type", "application/json")])
            return (b" " * CHUNK for _ in range(PARTS))
        if environ["PATH_INFO"].endswith("/gate"):
            gate.hold()
        body = b'{"cards": []}'
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    return app


class Spy:
    """Per hook call served: the seconds the dispatcher was told it took, and the wall time its thread spent in it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, served: Any) -> None:
        self.calls: list[tuple[float, float]] = []  # (observed, spent)
        self.stuck = threading.Event()  # a thread waits for its client with more unsent than the kernel can hold
        self.recorded = threading.Semaphore(0)  # released as each hook call's thread is done with it
        local = threading.local()
        service, flush = GuardedChannel.service, GuardedChannel._flush_outbufs_below_high_watermark
        observe = served.task_dispatcher.observe

        def timed_service(channel: GuardedChannel) -> None:
            local.observed = None
            started = time.monotonic()
            service(channel)
            spent = time.monotonic() - started
            if local.observed is not None:
                self.calls.append((local.observed, spent))
                self.recorded.release()

        def noted_observe(seconds: float) -> None:
            local.observed = seconds
            observe(seconds)

        def noted_flush(channel: GuardedChannel) -> None:
            # Entering the wait with this much unsent, the thread cannot leave it before its client reads.
            if channel.total_outbufs_len > HIGH_WATERMARK + KERNEL_BYTES:
                self.stuck.set()
            flush(channel)

        monkeypatch.setattr(GuardedChannel, "service", timed_service)
        monkeypatch.setattr(GuardedChannel, "_flush_outbufs_below_high_watermark", noted_flush)
        monkeypatch.setattr(served.task_dispatcher, "observe", noted_observe)


@pytest.fixture
def gate() -> Iterator[Gate]:
    opened = Gate()
    yield opened
    opened.opened.set()  # never leave a thread held, whatever the test did


@pytest.fixture
def server(gate: Gate) -> Iterator[Any]:
    with serving(
        admission(hooks(gate), PATIENCE, lambda _service: None),
        read_timeout=5,
        patience=PATIENCE,
        outbuf_high_watermark=HIGH_WATERMARK,
    ) as served:
        served.adj.socket_options = SERVER_SOCKET_OPTIONS  # set on every connection accepted from now on
        yield served


def slow_reader(port: int, spy: Spy) -> int:
    """Posts a hook call whose answer is large, reads nothing of it for PAUSE seconds from the moment its thread is
    stuck waiting for it, then reads all of it: the bytes received, once its thread is done with the call (the last
    bytes can reach the client before the thread has returned)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)  # before connecting: the window stays small
        conn.settimeout(WAIT)
        conn.connect((LOOPBACK, int(port)))
        conn.sendall(hook_call(path="/cds-services/order-sign/large", headers="Connection: close\r\n"))
        assert spy.stuck.wait(WAIT), "the thread never waited for its client"
        time.sleep(PAUSE)  # at least this long, however slow the machine: the thread waits all of it
        received = 0
        while chunk := conn.recv(1024 * 1024):
            received += len(chunk)
    assert spy.recorded.acquire(timeout=WAIT), "the call's thread never finished it"
    return received


def post(port: int, path: str) -> requests.Response:
    return requests.post(
        f"http://{LOOPBACK}:{port}/cds-services/{path}",
        data=ORDER_SIGN,
        headers={"Content-Type": "application/json"},
        timeout=WAIT + 5,
    )


def await_queued(server: Any, count: int) -> None:
    """Until `count` requests wait in the dispatcher's queue (both threads are held)."""
    deadline = time.monotonic() + WAIT
    while len(server.task_dispatcher.queue) < count:
        assert time.monotonic() < deadline, "the calls never reached the queue"
        time.sleep(0.01)


def test_the_time_a_thread_waits_for_a_slow_reader_is_not_charged_to_the_call(server, monkeypatch):
    spy = Spy(monkeypatch, server)
    for _ in range(2):
        spy.stuck.clear()
        assert slow_reader(server.effective_port, spy) > PARTS * CHUNK  # the whole answer
    assert len(spy.calls) == 2
    # Its thread spent `spent` seconds in the call, PAUSE of them provably waiting for the client: the rest, and only
    # the rest, is the service's time. Charged with the wait, a call looked PAUSE long where the service needs
    # milliseconds (same clock on both sides: holds on a machine however slow).
    for observed, spent in spy.calls:
        assert observed <= spent - PAUSE, (observed, spent)


def test_clients_slow_to_read_do_not_make_the_service_shed_calls_it_can_serve(server, gate, monkeypatch):
    spy = Spy(monkeypatch, server)
    port = server.effective_port
    for _ in range(2):
        spy.stuck.clear()
        slow_reader(port, spy)
    with ThreadPoolExecutor(max_workers=4) as pool:
        held = [pool.submit(post, port, "order-sign/gate") for _ in range(2)]
        gate.await_entered(2)  # both threads busy: the next calls queue, and admission foresees their wait
        queued = [pool.submit(post, port, "order-sign") for _ in range(2)]
        await_queued(server, 2)
        gate.opened.set()  # they start now, long before PATIENCE: a wait foreseen from slow readers refused them
        statuses = [future.result().status_code for future in held + queued]
    assert statuses == [200] * 4


def test_a_real_overload_is_still_shed_after_slow_readers(server, gate, monkeypatch):
    spy = Spy(monkeypatch, server)
    port = server.effective_port
    for _ in range(2):
        spy.stuck.clear()
        slow_reader(port, spy)
    with ThreadPoolExecutor(max_workers=8) as pool:
        held = [pool.submit(post, port, "order-sign/gate") for _ in range(2)]
        gate.await_entered(2)
        queued = [pool.submit(post, port, "order-sign") for _ in range(6)]
        await_queued(server, 6)
        time.sleep(PATIENCE * 1.2)  # at least this long: every queued call has now waited past its patience
        gate.opened.set()
        answers = [future.result() for future in held + queued]
    assert [a.status_code for a in answers] == [200] * 2 + [503] * 6
    assert all(a.headers["Retry-After"] == "1" for a in answers[2:])
