"""The waitress event loop of `painplan serve` (smart_app.http_server) in process: what it asks, and that it serves."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import queue
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from serve_support import LOOPBACK, hook_call, serving

from smart_app import http_server
from smart_app.http_server import LINGER_SECONDS, EventLoop, GuardedChannel

ROOT = Path(__file__).resolve().parent.parent
READ_TIMEOUT = 1.0
BIG_BYTES = 8_000_000  # more than loopback's socket buffers hold
HUGE_CHUNK = 10_000_000  # two are past waitress's 16 MB high watermark: the thread then waits for room


def hello(environ: dict[str, Any], start_response: Any) -> Any:
    if environ["PATH_INFO"] == "/huge":  # streamed, more than waitress buffers before the thread waits for the client
        start_response("200 OK", [("Content-Type", "text/plain")])
        return (b"." * HUGE_CHUNK for _ in range(3))
    body = f"path={environ['PATH_INFO']}".encode()
    if environ["PATH_INFO"] == "/big":
        body += b"." * BIG_BYTES
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


# Every serving test here runs twice: with epoll (Linux) and with the poll(2) fallback other systems get.
POLLERS = ["epoll", "poll"]


@pytest.fixture(params=POLLERS)
def poller(request: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The event loop's poller for this test: the fallback is forced by hiding epoll."""
    monkeypatch.setattr(http_server, "EPOLL", request.param == "epoll")
    return request.param


@pytest.fixture
def server(poller: str) -> Iterator[Any]:
    with serving(hello, read_timeout=READ_TIMEOUT, patience=5.0) as served:
        assert wait_for(lambda: served.loop is not None)
        assert type(served.loop.pollster) is POLLSTERS[poller]  # the poller asked for, not the other
        yield served


@pytest.fixture
def patient_server(poller: str) -> Iterator[Any]:
    """As `server`, but idle keep-alive connections stay open 30 s (not READ_TIMEOUT): however slow the machine,
    they are still open when a test that counts what is asked of them is done."""
    with serving(hello, read_timeout=30, patience=5.0) as served:
        assert wait_for(lambda: served.loop is not None)
        yield served


POLLSTERS = {"epoll": getattr(select, "epoll", None), "poll": type(select.poll())}


class Client:
    """A keep-alive HTTP/1.1 connection that reads responses one at a time, however the bytes arrive."""

    def __init__(self, server: Any) -> None:
        self.sock = socket.create_connection((LOOPBACK, server.effective_port), timeout=5)
        self.replies = self.sock.makefile("rb")

    def get(self, path: str) -> bytes:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
        return self.reply()

    def reply(self) -> bytes:
        """The next whole response: status line, headers and a Content-Length body."""
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = self.replies.readline()
            assert line, "the server closed the connection"
            head += line
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        return head + self.replies.read(length)

    def address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    def close(self) -> None:
        self.replies.close()
        self.sock.close()


def await_no_busy_connection(server: Any) -> None:
    """Until the loop has seen every thread finish its request (a slow machine takes longer than any fixed pause)."""
    assert wait_for(lambda: not server.loop.busy, 30), server.loop.busy


def test_idle_keep_alive_connections_are_not_asked_about_on_every_request(patient_server, monkeypatch):
    idle = [Client(patient_server) for _ in range(20)]
    for conn in idle:  # each is an accepted, served, now idle keep-alive connection
        assert conn.get("/warm").endswith(b"path=/warm")
    await_no_busy_connection(patient_server)  # a busy connection is asked every turn
    asked: Counter[int] = Counter()
    readable = GuardedChannel.readable

    def counting(channel: GuardedChannel) -> bool:
        asked[channel._fileno] += 1
        return readable(channel)

    monkeypatch.setattr(GuardedChannel, "readable", counting)
    maintenance = maintenance_counted(patient_server, monkeypatch)
    busy = Client(patient_server)
    for n in range(50):
        assert busy.get(f"/call/{n}").endswith(f"path=/call/{n}".encode())
    fd_of = {channel.addr: fd for fd, channel in patient_server.active_channels.items()}  # by the client's address
    per_idle = [asked[fd_of[conn.address()]] for conn in idle]
    # Waitress's own loop asks every connection twice per request (100 times here); asked again only when a
    # connection opens or closes, or maintenance runs (once a second: the slower the machine, the more often per
    # request), an idle one is asked a handful of times.
    assert max(per_idle) <= 4 + 2 * len(maintenance), f"asked {sorted(per_idle)} times, {len(maintenance)} runs"
    assert asked[fd_of[busy.address()]] >= 50  # the busy one is asked every time something happens to it
    for conn in [*idle, busy]:
        conn.close()


def test_idle_keep_alive_connections_are_not_asked_about_when_others_open_and_close(patient_server, monkeypatch):
    # A client without a pool opens a connection per call: each accept and each close made the loop ask every open
    # connection about itself again (800 idle ones tripled the server's CPU per such call).
    idle = [Client(patient_server) for _ in range(20)]
    for conn in idle:
        assert conn.get("/warm").endswith(b"path=/warm")
    await_no_busy_connection(patient_server)
    asked: Counter[int] = Counter()
    readable = GuardedChannel.readable

    def counting(channel: GuardedChannel) -> bool:
        asked[channel._fileno] += 1
        return readable(channel)

    monkeypatch.setattr(GuardedChannel, "readable", counting)
    maintenance = maintenance_counted(patient_server, monkeypatch)
    fd_of = {channel.addr: fd for fd, channel in patient_server.active_channels.items()}
    for n in range(50):
        once = Client(patient_server)
        assert once.get(f"/once/{n}").endswith(f"path=/once/{n}".encode())
        once.close()
    per_idle = [asked[fd_of[conn.address()]] for conn in idle]
    # Maintenance, once a second, still asks them all.
    assert max(per_idle) <= 4 + 2 * len(maintenance), f"asked {sorted(per_idle)} times, {len(maintenance)} runs"
    for conn in idle:
        assert conn.get("/still").endswith(b"path=/still")  # and each is still served
        conn.close()


def test_pipelined_requests_are_answered_in_order_and_connections_closed_by_clients_are_dropped(server):
    conn = Client(server)
    conn.sock.sendall(b"GET /first HTTP/1.1\r\nHost: test\r\n\r\nGET /second HTTP/1.1\r\nHost: test\r\n\r\n")
    assert conn.reply().endswith(b"path=/first")
    assert conn.reply().endswith(b"path=/second")
    others = [Client(server) for _ in range(5)]
    for other in others:
        assert other.get("/x").endswith(b"path=/x")
    assert len(server.active_channels) == 6
    for other in others:
        other.close()
    deadline = time.monotonic() + 5
    while len(server.active_channels) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.active_channels) == 1
    assert conn.get("/still").endswith(b"path=/still")  # the survivor is still served after the others closed
    conn.close()


def test_a_client_that_never_closes_after_its_last_answer_is_closed_within_the_linger_time(server):
    # After a `Connection: close` answer the worker sends its FIN and waits for the client's; a client that keeps its
    # end open for good must not keep the connection (its socket, a connection slot) for good.
    conn = socket.create_connection((LOOPBACK, server.effective_port), timeout=5)
    conn.sendall(b"GET /last HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    received = b""
    while chunk := conn.recv(4096):  # to our FIN; the client's own end stays open
        received += chunk
    assert received.endswith(b"path=/last")
    assert wait_for(lambda: not server.active_channels, LINGER_SECONDS + 10)  # maintenance: once a second
    conn.close()


def test_connections_reset_by_their_clients_leave_the_loop_serving(server):
    # A reset raises read, hang-up and error events at once: the read closes the connection, then the hang-up asked
    # it to close again, and the clean close of a socket already gone raised out of the loop (the worker died).
    for n in range(20):
        conn = socket.create_connection((LOOPBACK, server.effective_port), timeout=5)
        if n % 2:
            conn.sendall(b"GET /half HTTP/1.1\r\nHo")  # some with a request begun
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # a reset, not a FIN
    assert wait_for(lambda: not server.active_channels, 10)
    assert not server.finished.is_set()  # the loop runs on
    assert Client(server).get("/after").endswith(b"path=/after")


def test_a_connection_whose_handlers_fail_is_dropped_and_the_loop_serves_on(server, monkeypatch, caplog):
    # A handler that raises, and whose error handling raises too (as the close of a closed socket once did): the
    # exception left the loop and the worker died with every call in it. Now only that connection is dropped.
    failed = threading.Event()

    def read_fails(channel):
        if not failed.is_set():
            failed.set()
            raise RuntimeError("a handler's own bug")
        return original_read(channel)

    def error_fails(channel):
        raise RuntimeError("its error handling's bug too")

    original_read = GuardedChannel.handle_read
    monkeypatch.setattr(GuardedChannel, "handle_read", read_fails)
    monkeypatch.setattr(GuardedChannel, "handle_error", error_fails)
    broken = socket.create_connection((LOOPBACK, server.effective_port), timeout=5)
    broken.sendall(b"GET /first HTTP/1.1\r\nHost: test\r\n\r\n")
    assert wait_for(failed.is_set, 10)
    with contextlib.suppress(OSError):
        assert broken.recv(4096) == b""  # closed, never answered (a reset is as good)
    broken.close()
    assert wait_for(lambda: not server.active_channels, 10)
    assert not server.finished.is_set()  # the loop runs on
    assert Client(server).get("/after").endswith(b"path=/after")
    (logged,) = [json.loads(r.getMessage()) for r in caplog.records if "connection-handler-failed" in r.getMessage()]
    assert logged["error"] == "RuntimeError" and logged["at"][-1].startswith("test_event_loop.py:")
    assert "bug" not in json.dumps(logged)  # the type and the place, never the message


def test_a_stalled_request_on_a_quiet_server_still_gets_its_408(server):
    conn = socket.create_connection((LOOPBACK, server.effective_port), timeout=5)
    conn.sendall(b"POST /slow HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nonly part")
    conn.settimeout(READ_TIMEOUT + 30)  # never answered, the test fails here
    started = time.monotonic()
    received = b""
    while chunk := conn.recv(4096):
        received += chunk
    assert received.startswith(b"HTTP/1.1 408 Request Timeout")
    assert time.monotonic() - started >= READ_TIMEOUT - 0.1  # cut off by maintenance at the deadline, not before
    conn.close()


def test_a_response_larger_than_the_socket_buffers_reaches_a_slow_reader_whole(server):
    # Its thread cannot send it all at once: the loop takes over the rest as the client reads, slowly.
    conn = Client(server)
    conn.sock.sendall(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
    time.sleep(0.5)  # the socket buffers fill while nobody reads
    reply = conn.reply()
    assert reply.endswith(b"path=/big" + b"." * BIG_BYTES)
    assert conn.get("/after").endswith(b"path=/after")  # and the connection serves on
    conn.close()


def test_a_request_on_a_keep_alive_connection_takes_one_loop_turn_and_no_wake_up(patient_server, monkeypatch):
    conn = Client(patient_server)
    assert conn.get("/warm").endswith(b"path=/warm")
    await_no_busy_connection(patient_server)
    wakes, turns = [], []
    pull = patient_server.trigger._physical_pull
    monkeypatch.setattr(patient_server.trigger, "_physical_pull", lambda: (wakes.append(1), pull()))
    turn = EventLoop.turn
    monkeypatch.setattr(EventLoop, "turn", lambda loop, timeout: (turns.append(1), turn(loop, timeout)))
    started = time.monotonic()
    for n in range(50):
        assert conn.get(f"/call/{n}").endswith(f"path=/call/{n}".encode())
        time.sleep(0.005)  # an EHR's next call comes a little later, not the instant the last answer arrived
    idle_turns = (time.monotonic() - started) / patient_server.adj.asyncore_loop_timeout + 1  # its poll's timeouts
    # Its bytes arriving is the turn; the thread answering needs no second one (waitress wakes the loop after every
    # request, and while the thread wrote, a loop watching the connection for "writable" spun turn after turn).
    assert len(wakes) <= 5, len(wakes)
    assert len(turns) <= 55 + idle_turns, (len(turns), idle_turns)
    conn.close()


def test_a_small_response_leaves_in_one_send_with_its_headers(server, monkeypatch):
    conn = Client(server)
    sends: list[int] = []
    send = GuardedChannel.send
    monkeypatch.setattr(
        GuardedChannel, "send", lambda channel, data, **kw: (sends.append(len(data)), send(channel, data, **kw))[1]
    )
    for n in range(20):
        reply = conn.get(f"/call/{n}")
        assert reply.startswith(b"HTTP/1.1 200 OK\r\n") and reply.endswith(f"path=/call/{n}".encode())
    assert len(sends) == 20, sends  # waitress sent the head, then the body: two sends (and segments) a response
    assert conn.get("/big").endswith(b"." * BIG_BYTES)  # a large body still goes as it did, without a joined copy
    conn.close()


def maintenance_counted(server: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the server's maintenance runs from now on (once a second: more of them on a slow machine)."""
    runs: list[int] = []
    maintenance = server.maintenance
    monkeypatch.setattr(server, "maintenance", lambda now: (runs.append(1), maintenance(now)))
    return runs


def turns_counted(monkeypatch) -> list[int]:
    """Counts the event loop's turns from now on (one entry per turn)."""
    turns: list[int] = []
    turn = EventLoop.turn
    monkeypatch.setattr(EventLoop, "turn", lambda loop, timeout: (turns.append(1), turn(loop, timeout)))
    return turns


def wait_for(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_tcp_urgent_data_closes_the_connection_instead_of_spinning_the_loop(server, monkeypatch):
    # HTTP never sends TCP urgent (out-of-band) data. Left unread it keeps POLLPRI raised: the loop turned some
    # 35,000 times a second at 100 % CPU, logging "unhandled incoming priority event" each time, for one such byte.
    conn = Client(server)
    assert conn.get("/warm").endswith(b"path=/warm")
    turns = turns_counted(monkeypatch)
    conn.sock.send(b"!", socket.MSG_OOB)
    time.sleep(0.5)
    assert len(turns) <= 20, len(turns)
    assert wait_for(lambda: not server.active_channels)
    with contextlib.suppress(ConnectionResetError):  # closed with the urgent byte unread: a reset, or a FIN
        assert conn.sock.recv(1) == b""
    conn.close()
    assert Client(server).get("/after").endswith(b"path=/after")  # and the server serves on


def test_a_client_that_stops_reading_a_large_response_is_hung_up_on(server):
    # Its thread is done; the rest of the response waits in the loop for room in the socket. Waitress marks the
    # connection to close once nothing moved for the idle timeout, but acts on that mark only when the socket becomes
    # writable, which it never does: the socket, its 8 MB and a connection slot were held for good (a thousand such
    # clients and the worker stops accepting).
    stalled = socket.create_connection((LOOPBACK, server.effective_port), timeout=5)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
    assert stalled.recv(12) == b"HTTP/1.1 200"
    assert wait_for(lambda: not server.active_channels, READ_TIMEOUT + 4), "the stalled connection is still open"
    stalled.close()


def test_a_client_that_stops_reading_does_not_hold_the_thread_writing_its_response(server):
    # Past the high watermark the thread waits for the loop to send; from a client that reads nothing it waited for
    # good, one thread fewer for every such client.
    stalled = socket.create_connection((LOOPBACK, server.effective_port), timeout=5)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.sendall(b"GET /huge HTTP/1.1\r\nHost: test\r\n\r\n")
    assert stalled.recv(12) == b"HTTP/1.1 200"
    dispatcher = server.task_dispatcher
    assert wait_for(lambda: dispatcher.active_count == 1, 2)  # its thread is waiting to write
    assert wait_for(lambda: not server.active_channels and dispatcher.active_count == 0, READ_TIMEOUT + 4)
    stalled.close()


def test_a_slow_but_steady_reader_of_a_large_response_gets_it_whole(server):
    # Between the kernel's buffers (megabytes) the loop may see no room to write for seconds at this pace: it must
    # still not take the reader for a stalled one.
    conn = Client(server)
    conn.sock.sendall(b"GET /big HTTP/1.1\r\nHost: test\r\n\r\n")
    received = b""
    for _ in range(12):  # 3.6 s in all, well past the idle timeout, but never a whole second without reading
        received += conn.replies.read1(128 * 1024)
        time.sleep(0.3)
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and body.startswith(b"path=/big")
    body += conn.replies.read(len(b"path=/big") + BIG_BYTES - len(body))
    assert body == b"path=/big" + b"." * BIG_BYTES
    assert conn.get("/after").endswith(b"path=/after")
    conn.close()


# A worker process as `painplan serve` runs one (its SIGTERM handler, its event loop in the main thread), serving an
# app whose calls wait as their query string says: that many seconds, until the worker drains (`drain`), or until the
# test opens the gate (`gate`). The test sends it a real SIGTERM. The worker reports on its standard output each
# request it has received whole ("queued /path") and the start of its drain ("draining"): the tests wait for those,
# never for a guessed length of time, so a slow machine cannot make them fail.
WORKER = """
import os, resource, sys, time
from smart_app import http_server
from smart_app.http_server import build_server, run_until_sigterm
from smart_app.server import listen

def report(event):
    sys.stdout.write(event + "\\n")  # one write: whole lines, whichever thread reports
    sys.stdout.flush()

def wait(how):
    if how == "drain":
        while not served.draining:
            time.sleep(0.005)
    elif how == "gate":
        while not os.path.exists(sys.argv[4]):
            time.sleep(0.005)
    else:
        time.sleep(float(how or 0))

def slow(environ, start_response):
    environ["wsgi.input"].read()
    body = ("done " + environ["PATH_INFO"]).encode()
    if environ["PATH_INFO"].startswith("/stream"):  # the head and a first part leave at once, the rest after a while
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body) + 6))])
        return streamed(body, environ["QUERY_STRING"])
    wait(environ["QUERY_STRING"])
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

def streamed(body, how):
    yield b"first;"
    wait(how)
    yield body

http_server.EPOLL = sys.argv[3] == "epoll"  # the poll(2) fallback, where asked
if int(sys.argv[2]):
    resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[2]), resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
served = build_server(slow, listen("127.0.0.1", 0), threads=1, read_timeout=10, patience=30, log_socket_errors=False)
served.drain_seconds = float(sys.argv[1])
add_task, drain = served.task_dispatcher.add_task, served.drain

def reported_add_task(channel):
    add_task(channel)
    if channel.requests:
        report("queued " + channel.requests[0].path)

def reported_drain(deadline):
    report("draining")
    drain(deadline)

served.task_dispatcher.add_task, served.drain = reported_add_task, reported_drain
report(str(served.effective_port))
run_until_sigterm(served)
report("stopped")
"""
EVENT_SECONDS = 20.0  # the longest a test waits for a worker's report: reached only when something is broken
STARTUP_SECONDS = 300.0  # the longest a worker may take to import and listen (a minute on a machine at load 20)


class Worker(subprocess.Popen):
    """A worker process (WORKER), with its reports read as they come, and the gate its `gate` calls wait for."""

    def __init__(self, args: list[str], gate: Path) -> None:
        super().__init__(args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
        self.gate = gate
        self.reports: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self.read_reports, daemon=True)
        self.reader.start()

    def read_reports(self) -> None:
        for line in self.stdout:
            self.reports.put(line.rstrip("\n"))
        self.reports.put("")  # its end: the worker exited

    def await_report(self, expected: str) -> None:
        """Until the worker reports `expected` (other reports are passed over)."""
        deadline = time.monotonic() + EVENT_SECONDS
        while True:
            report = self.reports.get(timeout=max(0.0, deadline - time.monotonic()))
            assert report, f"the worker exited without reporting {expected!r}"
            if report == expected:
                return

    def open_gate(self) -> None:
        self.gate.touch()


@pytest.fixture(params=POLLERS)
def worker(request: Any, tmp_path: Path) -> Iterator[Any]:
    started: list[Worker] = []

    def start(drain_seconds: float = 5, open_files: int = 0) -> tuple[Worker, int]:
        gate = tmp_path / f"gate-{len(started)}"
        process = Worker(
            [sys.executable, "-c", WORKER, str(drain_seconds), str(open_files), request.param, str(gate)], gate
        )
        started.append(process)
        line = process.reports.get(timeout=STARTUP_SECONDS)  # "" when it exited without listening
        if not line.strip().isdigit():
            pytest.skip("cannot bind a loopback port here")
        return process, int(line)

    yield start
    for process in started:
        process.kill()
        process.wait(5)
        process.reader.join(5)  # at the end of its output
        process.stdout.close()  # now, not whenever the collector gets to it (tests count open descriptors)


def send_get(port: int, path: str) -> socket.socket:
    conn = socket.create_connection((LOOPBACK, port), timeout=10)
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    return conn


def read_to_close(conn: socket.socket) -> bytes:
    received = b""
    with contextlib.suppress(OSError):
        while chunk := conn.recv(4096):
            received += chunk
    conn.close()
    return received


def test_sigterm_answers_every_request_already_received_then_exits(worker):
    process, port = worker(drain_seconds=30)
    idle = socket.create_connection((LOOPBACK, port), timeout=10)
    calls = []
    for n in range(3):  # one thread: one served, two queued
        calls.append(send_get(port, f"/call/{n}?0.4"))
        process.await_report(f"queued /call/{n}")  # received whole: it must be answered
    stopped = time.monotonic()
    process.send_signal(signal.SIGTERM)
    # Before, the call in the thread was answered and the two queued were dropped unanswered (a hook call lost).
    for n, conn in enumerate(calls):
        assert read_to_close(conn).endswith(f"done /call/{n}".encode()), n
    assert read_to_close(idle) == b""  # an idle keep-alive connection is closed, not left to the kill
    process.await_report("stopped")
    assert process.wait(EVENT_SECONDS) == 0
    assert time.monotonic() - stopped < 15  # once the calls are answered (1.2 s), not at the end of the 30 s drain


def test_sigterm_gives_up_on_a_stuck_call_within_the_drain_time(worker):
    process, port = worker(drain_seconds=1)
    stuck = send_get(port, "/stuck?60")
    process.await_report("queued /stuck")
    stopped = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(EVENT_SECONDS) == 0
    assert time.monotonic() - stopped < EVENT_SECONDS  # the drain time (1 s), not the call's 60 s
    assert read_to_close(stuck) == b""


def test_a_second_sigterm_during_the_drain_stops_the_worker_at_once(worker):
    process, port = worker(drain_seconds=60)
    stuck = send_get(port, "/stuck?90")
    process.await_report("queued /stuck")
    process.send_signal(signal.SIGTERM)
    process.await_report("draining")
    assert process.poll() is None  # draining: it waits for the stuck call
    stopped = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(EVENT_SECONDS) == 0
    assert time.monotonic() - stopped < EVENT_SECONDS  # not the 60 s drain
    assert read_to_close(stuck) == b""


def head_of(response: bytes) -> list[bytes]:
    """The header lines of a response, lower-cased."""
    return response.partition(b"\r\n\r\n")[0].lower().split(b"\r\n")


def first_part(conn: socket.socket) -> bytes:
    """A streamed answer read up to its first part ("first;"): its head has left, and the worker is mid-answer."""
    received = b""
    while b"first;" not in received:
        received += conn.recv(4096)
    return received


def read_to_eof(conn: socket.socket) -> bytes:
    """Everything the worker sends until it closes. Unlike `read_to_close`, a reset is not swallowed: it raises
    ConnectionResetError, which is what the clean-close tests look for."""
    conn.settimeout(5)
    received = b""
    while chunk := conn.recv(4096):
        received += chunk
    conn.close()
    return received


def draining_mid_answer(worker: Any) -> tuple[Worker, socket.socket, bytes]:
    """A worker (30 s drain) that received SIGTERM, and began its drain, in the middle of an answer (/stream/a, held at
    its gate after its first part): the worker, that answer's connection, and what was read of it before the signal."""
    process, port = worker(drain_seconds=30)
    conn = send_get(port, "/stream/a?gate")
    received = first_part(conn)
    process.send_signal(signal.SIGTERM)
    process.await_report("draining")
    return process, conn, received


def assert_refused_for_now(answer: bytes, received: bytes) -> None:
    """A draining worker's refusal a client may retry elsewhere: 503, `Retry-After: 1`, `Connection: close`, and an
    OperationOutcome whose issue is `transient`."""
    assert answer.startswith(b"HTTP/1.1 503 Service Unavailable"), received
    assert b"retry-after: 1" in head_of(answer) and b"connection: close" in head_of(answer)
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["issue"][0]["code"] == "transient"


def test_a_response_written_during_the_drain_says_connection_close(worker):
    # A keep-alive client that was not told reused the connection the moment the drain closed it: a reset, and an
    # EHR does not retry a hook POST. Told `Connection: close`, it opens a new connection (to another worker).
    process, port = worker(drain_seconds=30)
    conn = send_get(port, "/call/a?drain")  # answered once the drain has begun
    process.await_report("queued /call/a")
    process.send_signal(signal.SIGTERM)
    reply = read_to_close(conn)
    assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b"done /call/a")
    assert b"connection: close" in head_of(reply)
    assert process.wait(5) == 0


def test_a_request_arriving_during_the_drain_is_refused_503_with_retry_after_not_served(worker):
    # The response in progress said keep-alive (its head left before SIGTERM), so the client sends its next hook call
    # on the same connection: it must get an explicit refusal it can retry elsewhere, never a reset nor a call the
    # worker starts while stopping.
    process, conn, received = draining_mid_answer(worker)
    assert b"connection: close" not in head_of(received)  # its head left before SIGTERM
    conn.sendall(hook_call())
    process.open_gate()  # the answer in progress ends only now: the next call certainly arrived during the drain
    received += read_to_close(conn)
    first, _, second = received.partition(b"done /stream/a")
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert_refused_for_now(second, received)
    assert b"done /cds-services" not in received
    assert process.wait(5) == 0


def test_a_call_expecting_100_continue_during_the_drain_is_refused_at_once_without_the_100(worker):
    # Told `100 Continue`, a client sends its body (165 kB for an order-sign) only to be refused after it: a draining
    # worker refuses such a call as soon as its headers are in.
    process, conn, received = draining_mid_answer(worker)
    conn.sendall(hook_call(headers="Expect: 100-continue\r\n", with_body=False))
    process.open_gate()
    sent = time.monotonic()
    received += read_to_close(conn)  # the client waits for an answer before it sends the body
    first, _, second = received.partition(b"done /stream/a")
    assert first.startswith(b"HTTP/1.1 200 OK")
    assert second.startswith(b"HTTP/1.1 503 Service Unavailable"), received
    assert b"100 continue" not in received.lower()
    assert b"retry-after: 1" in head_of(second) and b"connection: close" in head_of(second)
    assert json.loads(second.partition(b"\r\n\r\n")[2])["issue"][0]["code"] == "transient"
    assert time.monotonic() - sent < 15  # at once, not at the end of the drain (30 s) for want of a body
    assert process.wait(5) == 0


def test_a_request_sent_behind_one_in_service_during_the_drain_is_refused_503_not_reset(worker):
    # The client sent its next call before the answer to the one in service: that answer was the last, said
    # `Connection: close`, and the connection closed with the next call unread, which the kernel turns into a reset.
    process, port = worker(drain_seconds=30)
    conn = send_get(port, "/call/a?gate")
    process.await_report("queued /call/a")
    process.send_signal(signal.SIGTERM)
    process.await_report("draining")
    conn.sendall(hook_call())
    process.open_gate()  # its answer is written now, with the next call already in the worker's socket
    time.sleep(0.6)  # both are in the client's socket before it reads (if not yet, reading waits for them)
    received = read_to_eof(conn)
    first, _, second = received.partition(b"done /call/a")
    assert first.startswith(b"HTTP/1.1 200 OK") and b"connection: close" not in head_of(first)
    assert second.startswith(b"HTTP/1.1 503 Service Unavailable"), received
    assert b"retry-after: 1" in head_of(second) and b"connection: close" in head_of(second)
    assert b"done /cds-services" not in received
    assert process.wait(5) == 0


def test_what_a_client_sends_after_the_last_answer_is_dropped_before_closing_not_reset(worker):
    # Told `Connection: close` in the head, this client still sends another call while the body streams: closed with
    # that call unread, the socket sent a reset, which can discard the answer waiting in the client's buffer.
    process, port = worker(drain_seconds=30)
    busy = send_get(port, "/call/x?drain")  # the one thread is busy until the drain: the next call starts after it
    conn = send_get(port, "/stream/y?0.5")
    process.await_report("queued /stream/y")  # received before the signal: answered, not refused
    process.send_signal(signal.SIGTERM)
    received = first_part(conn)
    assert b"connection: close" in head_of(received)
    conn.sendall(b"GET /after HTTP/1.1\r\nHost: test\r\n\r\n")
    time.sleep(1.0)  # the rest of the answer and the close are in the client's socket before it reads
    received += read_to_eof(conn)
    assert received.endswith(b"first;done /stream/y")
    assert read_to_close(busy).endswith(b"done /call/x")
    assert process.wait(5) == 0


def test_a_connection_closed_after_its_last_answer_outside_the_drain_ends_cleanly_not_reset(worker):
    # The client asked `Connection: close`, then sent another call while the answer streamed (pipelining clients and
    # proxies do). Closed with that call unread, the socket sent a reset, which can discard the answer still waiting
    # in the client's buffer: the worker must close as the drain does (FIN, read and drop, then close).
    process, port = worker(drain_seconds=5)
    conn = socket.create_connection((LOOPBACK, port), timeout=10)
    conn.sendall(b"GET /stream/y?0.5 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    received = first_part(conn)
    conn.sendall(b"GET /after HTTP/1.1\r\nHost: test\r\n\r\n")
    time.sleep(1.0)  # the rest of the answer and the close are in the client's socket before it reads (or not yet)
    received += read_to_eof(conn)  # a reset raises ConnectionResetError
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.endswith(b"first;done /stream/y")
    assert process.poll() is None  # not a drain: the worker serves on
    assert read_answer(send_get(port, "/next"), b"done /next").startswith(b"HTTP/1.1 200 OK")


def read_answer(conn: socket.socket, ending: bytes) -> bytes:
    received = b""
    while not received.endswith(ending):
        chunk = conn.recv(4096)
        assert chunk, received
        received += chunk
    return received


def test_idle_keep_alive_connections_closed_by_the_drain_end_with_a_clean_eof_not_a_reset(worker):
    # An EHR's pooled connection, idle when the drain closes it: the EHR sends its next call on it before it sees the
    # close. Closed outright, the worker's socket answered those bytes with a reset: the EHR got ECONNRESET (while
    # sending, or reading) instead of the end of stream that tells a client to retry on a new connection.
    process, port = worker(drain_seconds=5)
    pool = [send_get(port, f"/warm/{n}") for n in range(4)]
    for n, conn in enumerate(pool):
        assert read_answer(conn, f"done /warm/{n}".encode()).startswith(b"HTTP/1.1 200 OK")
    process.send_signal(signal.SIGTERM)
    for conn in pool:  # the drain closes them (there is nothing to wait for); their clients do not know yet
        conn.settimeout(EVENT_SECONDS)
        assert conn.recv(1, socket.MSG_PEEK) == b""  # the worker's end of stream has arrived, unread
    body = b"x" * 2_000_000  # a large call: more than the sockets buffer, so a reset cannot go unseen
    for conn in pool:
        conn.sendall(hook_call(body))  # a reset raises ConnectionResetError or BrokenPipeError
        conn.settimeout(5)
        assert conn.recv(4096) == b""  # the end of stream: never served, safe to send again elsewhere
        conn.close()
    assert process.wait(5) == 0


def test_the_body_of_a_call_refused_during_the_drain_is_read_and_dropped_not_reset(worker):
    # A client that sends its body without waiting for `100 Continue` (many do) is refused after the headers: closed
    # with that body still arriving, the socket sent a reset, which can take the 503 with it.
    process, conn, received = draining_mid_answer(worker)
    body = b"x" * 4_000_000
    call = hook_call(body, headers="Expect: 100-continue\r\n")
    head = call[: len(call) - len(body)]
    conn.sendall(head)  # in the worker's socket before the answer in progress ends: it arrived during the drain
    process.open_gate()
    conn.sendall(body)  # not waiting for the answer to the head; a reset: ConnectionResetError, BrokenPipeError
    received += read_to_eof(conn)
    assert received.partition(b"done /stream/a")[2].startswith(b"HTTP/1.1 503 Service Unavailable"), received
    assert process.wait(5) == 0


def test_a_connection_made_during_the_drain_is_refused_503_not_left_to_be_reset(worker):
    # After SIGTERM the worker no longer watched its listening socket: a connection made during the drain (a load
    # balancer not yet told) waited in the queue, its call sent, until the worker closed the socket: then a reset,
    # which tells an EHR nothing about whether its call ran. Now it is accepted and refused like any call arriving
    # during the drain: 503, Retry-After, Connection: close, then a clean end of stream.
    process, conn, received = draining_mid_answer(worker)  # the drain goes on until that answer is let go
    late = socket.create_connection((LOOPBACK, int(conn.getpeername()[1])), timeout=10)
    late.sendall(hook_call())
    answer = read_to_eof(late)  # a reset raises ConnectionResetError
    assert_refused_for_now(answer, answer)
    assert b"done /cds-services" not in answer
    process.open_gate()
    assert read_to_close(conn).endswith(b"done /stream/a")
    assert process.wait(5) == 0


def test_a_connection_made_during_the_drain_gets_its_refusal_even_when_its_request_follows_the_connect(worker):
    # Accepted during the drain with nothing received yet, it must not be taken for an idle connection and closed
    # at once: its client sends the request a moment after connecting, into a closed socket (a reset).
    process, conn, received = draining_mid_answer(worker)
    late = socket.create_connection((LOOPBACK, int(conn.getpeername()[1])), timeout=10)
    time.sleep(0.2)  # the worker accepts it meanwhile (or later: its wait for the request starts at its accept)
    late.sendall(hook_call())
    answer = read_to_eof(late)
    assert_refused_for_now(answer, answer)
    process.open_gate()
    assert read_to_close(conn).endswith(b"done /stream/a")
    assert process.wait(5) == 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_out_of_file_descriptors_the_worker_waits_instead_of_spinning_and_accepts_again_later(worker):
    # accept() failing with EMFILE leaves the connection in the backlog, so the listening socket stays readable: the
    # loop retried at once, turn after turn, at 100 % CPU (and, with socket errors logged, a traceback each time).
    process, port = worker(open_files=64)
    waiting = [socket.create_connection((LOOPBACK, port), timeout=10) for _ in range(80)]
    time.sleep(0.5)
    before = cpu_seconds(process.pid)
    time.sleep(2)
    assert cpu_seconds(process.pid) - before < 0.1
    for conn in waiting[:40]:
        conn.close()
    last = waiting[-1]  # in the backlog while the worker had no descriptor left: served once it has one again
    last.sendall(b"GET /late HTTP/1.1\r\nHost: test\r\n\r\n")
    last.settimeout(5)
    assert last.recv(4096).endswith(b"done /late")
    for conn in waiting[40:]:
        conn.close()


@pytest.mark.parametrize("failure", [errno.EINVAL, errno.EMFILE])
def test_an_accept_that_fails_for_the_worker_is_said_even_with_socket_errors_off(server, caplog, monkeypatch, failure):
    # A failed accept for the worker itself (the listening socket no longer listens) was logged only with waitress's
    # log_socket_errors on, which `painplan serve` turns off: in production the worker stopped taking connections
    # without a word. It is said whatever the switch (a WARNING, by errno name, never a traceback), at most once a
    # minute with the failures since counted, and accepting pauses as when descriptors run out, so a socket that stays
    # readable is not retried at 100 % CPU. Running out of descriptors (EMFILE) was said on every retry, twice a
    # second while it lasted: the same rule now says both.
    monkeypatch.setattr(server.adj, "log_socket_errors", False)

    def failing_accept() -> None:
        raise OSError(failure, os.strerror(failure))

    server.accept = failing_accept
    with caplog.at_level("WARNING"):
        assert server.handle_accept() is False  # a drain taking the queue stops there
        assert server.accept_paused_until > time.monotonic()
        server.accept_paused_until = 0.0
        assert server.handle_accept() is False  # again within the minute: counted, not said again
    said = [json.loads(r.getMessage()) for r in caplog.records if "accept-failed" in r.getMessage()]
    assert said == [{"event": "accept-failed", "error": errno.errorcode[failure], "failures": 1}]
    assert all(record.exc_info is None for record in caplog.records)
    # A minute on, the next failure is said with the failures since the last line: the one not said, and itself.
    server.accept_failure_said_at -= http_server.ACCEPT_FAILURE_SAID_EVERY
    server.accept_paused_until = 0.0
    with caplog.at_level("WARNING"):
        assert server.handle_accept() is False
    said = [json.loads(r.getMessage()) for r in caplog.records if "accept-failed" in r.getMessage()]
    assert said[1:] == [{"event": "accept-failed", "error": errno.errorcode[failure], "failures": 2}]


def accepting(server: Any, accepted: Any) -> None:
    """The server's next accept() is `accepted` (a callable: raises, or returns a connection and its address)."""
    server.accept = accepted


def aborted(code: int) -> Any:
    def accept() -> None:
        raise OSError(code, os.strerror(code))

    return accept


def the_client_left(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [record for record in caplog.records if "client-left-before-accept" in record.getMessage()]


def test_a_connection_aborted_before_it_was_accepted_is_skipped_without_a_word(server, caplog):
    # ECONNABORTED is a client that left while its connection waited in the queue: waitress says nothing of it.
    accepting(server, aborted(errno.ECONNABORTED))
    with caplog.at_level("DEBUG"):
        assert server.handle_accept() is True  # the queue goes on
    assert not the_client_left(caplog)
    assert not [record for record in caplog.records if record.name == "waitress"]


@pytest.mark.parametrize("code", [errno.ECONNRESET, errno.EPROTO, errno.ENETUNREACH])
def test_a_connection_its_client_reset_in_the_queue_is_logged_once_as_information_never_a_traceback(
    server, caplog, code
):
    # Linux hands accept() a queued connection's pending network error: its client left. The queue goes on, and the
    # operator is told in one line at INFO (not the "threw an exception" warning, with no traceback).
    accepting(server, aborted(code))
    with caplog.at_level("DEBUG"):
        assert server.handle_accept() is True
    (record,) = the_client_left(caplog)
    assert record.levelname == "INFO" and record.exc_info is None
    assert json.loads(record.getMessage()) == {"event": "client-left-before-accept", "error": errno.errorcode[code]}
    assert "threw an exception" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= 30]  # nothing at WARNING or above


def test_a_connection_that_cannot_be_set_up_is_logged_by_the_same_rule_and_closed(server, caplog, monkeypatch):
    # macOS fails the socket options of a connection its client reset in the queue: a client that left, as above,
    # where it was a WARNING with a full traceback ("server accept() threw an exception").
    ours, theirs = socket.socketpair()
    accepting(server, lambda: (ours, ("192.0.2.7", 50123)))

    def options_fail(conn: socket.socket) -> None:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(server, "set_socket_options", options_fail)
    with caplog.at_level("DEBUG"):
        assert server.handle_accept() is True
    (record,) = the_client_left(caplog)
    assert record.levelname == "INFO" and record.exc_info is None
    assert json.loads(record.getMessage()) == {"event": "client-left-before-accept", "error": "EINVAL"}
    assert "threw an exception" not in caplog.text and "192.0.2.7" not in caplog.text
    assert ours.fileno() == -1  # closed
    theirs.close()


def test_a_client_that_left_is_not_logged_when_socket_errors_are_not(server, caplog, monkeypatch):
    monkeypatch.setattr(server.adj, "log_socket_errors", False)
    accepting(server, aborted(errno.ECONNRESET))
    with caplog.at_level("DEBUG"):
        assert server.handle_accept() is True
    assert not the_client_left(caplog)


def test_a_dropped_connection_whose_close_fails_too_is_logged_once_by_type_and_still_forgotten(
    server, monkeypatch, caplog
):
    # drop() closed a connection whose handlers failed inside suppress(Exception): an OSError from that close (its
    # socket's own close failing) vanished without a trace. Now it is one line, by type, and the loop forgets it.
    failed = threading.Event()
    broken: list[GuardedChannel] = []
    original_read, original_close = GuardedChannel.handle_read, GuardedChannel.close_connection

    def read_fails(channel):
        if not failed.is_set():
            failed.set()
            broken.append(channel)
            raise RuntimeError("GET /secret?patient=123")
        return original_read(channel)

    def close_fails(channel, *, linger):
        original_close(channel, linger=linger)
        if channel in broken:
            raise OSError(errno.EBADF, "Bad file descriptor: /secret?patient=123")

    monkeypatch.setattr(GuardedChannel, "handle_read", read_fails)

    def error_fails(channel):
        raise RuntimeError("its error handling's bug too")

    monkeypatch.setattr(GuardedChannel, "handle_error", error_fails)
    monkeypatch.setattr(GuardedChannel, "close_connection", close_fails)
    conn = socket.create_connection((LOOPBACK, server.effective_port), timeout=5)
    with caplog.at_level("INFO"):
        conn.sendall(b"GET /first HTTP/1.1\r\nHost: test\r\n\r\n")
        assert wait_for(failed.is_set, 10)
        assert wait_for(lambda: not server.active_channels, 10)
    conn.close()
    assert server.loop.watched.keys() <= {server._fileno, server.trigger._fileno}  # the loop no longer watches it
    messages = [json.loads(r.getMessage()) for r in caplog.records if "connection-close-failed" in r.getMessage()]
    assert messages == [{"event": "connection-close-failed", "error": "OSError"}]
    assert "secret" not in caplog.text  # types only, never a message
    assert Client(server).get("/after").endswith(b"path=/after")
