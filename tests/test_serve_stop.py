"""The public stop of the serving loop (smart_app.http_server.GuardedServer.stop), in process, on real sockets."""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import socket
import struct
import threading
import time
from typing import Any

import pytest
from serve_support import LOOPBACK

from smart_app.http_server import build_server
from smart_app.server import LISTEN_BACKLOG, listen

WAIT = 20.0  # the longest a test waits for something to happen: reached only when something is broken
in_service: queue.Queue[str] = queue.Queue()  # the path of each call, as a thread starts it


def slow(environ: dict[str, Any], start_response: Any) -> Any:
    """Answers after the seconds given in the query string."""
    in_service.put(environ["PATH_INFO"])
    time.sleep(float(environ["QUERY_STRING"] or 0))
    body = f"done {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def open_fds() -> set[int]:
    """This process's open file descriptors, but the one that lists them (its number is whichever is free then)."""
    folder = f"/proc/{os.getpid()}/fd"
    found = set()
    for name in os.listdir(folder):
        with contextlib.suppress(OSError):  # closed since it was listed (the listing's own, or another thread's)
            if os.readlink(f"{folder}/{name}") != folder:
                found.add(int(name))
    return found


def started(failures: list[BaseException] | None = None) -> tuple[Any, threading.Thread, int]:
    """A server running in a thread; what ends its run() with an exception goes to `failures` when given."""
    try:
        sock = listen(LOOPBACK, 0)
    except OSError:
        pytest.skip("cannot bind a loopback port here")
    served = build_server(slow, sock, threads=2, read_timeout=5, patience=5)

    def run() -> None:
        try:
            served.run()
        except Exception as error:
            if failures is None:
                raise
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return served, thread, served.effective_port


def read_to_close(conn: socket.socket) -> bytes:
    received = b""
    conn.settimeout(5)
    while chunk := conn.recv(4096):
        received += chunk
    conn.close()
    return received


def test_stop_answers_the_call_in_service_then_run_returns_and_closes_every_socket():
    before = open_fds()
    served, thread, port = started()
    idle = socket.create_connection((LOOPBACK, port), timeout=5)
    busy = socket.create_connection((LOOPBACK, port), timeout=5)
    busy.sendall(b"GET /call?0.5 HTTP/1.1\r\nHost: test\r\n\r\n")
    assert in_service.get(timeout=WAIT) == "/call"  # in a worker thread now
    stopping = time.monotonic()
    assert served.stop(timeout=30) is True  # returns once run() has returned
    assert time.monotonic() - stopping < 15  # the call's own time (0.5 s), not the drain time (30 s)
    assert not thread.is_alive()
    reply = read_to_close(busy)
    assert reply.startswith(b"HTTP/1.1 200 OK") and reply.endswith(b"done /call")
    assert b"connection: close" in reply.lower()  # its client is told not to reuse the connection
    assert read_to_close(idle) == b""
    with pytest.raises(ConnectionRefusedError):  # the listening socket is closed too
        socket.create_connection((LOOPBACK, port), timeout=5)
    assert open_fds() <= before  # the trigger's pipe and every connection closed: nothing left for the collector


def test_stop_gives_up_on_a_stuck_call_at_its_timeout_and_a_second_stop_is_harmless():
    served, thread, port = started()
    stuck = socket.create_connection((LOOPBACK, port), timeout=5)
    stuck.sendall(b"GET /stuck?10 HTTP/1.1\r\nHost: test\r\n\r\n")
    assert in_service.get(timeout=WAIT) == "/stuck"
    stopping = time.monotonic()
    served.stop(timeout=0.5, wait=False)
    thread.join(WAIT)  # run() returns at the 0.5 s deadline (plus what a slow machine adds), not after the 10 s call
    assert not thread.is_alive()
    assert time.monotonic() - stopping < WAIT
    assert read_to_close(stuck) == b""  # unanswered at the deadline: closed
    assert served.stop(timeout=0.5) is True  # already stopped: nothing to do


def test_stop_from_the_loop_s_own_thread_does_not_wait_for_itself():
    served, thread, port = started()
    served.trigger.pull_trigger(lambda: served.stop(timeout=1))  # runs in the loop's thread, as a signal handler does
    thread.join(3)
    assert not thread.is_alive()
    assert served.stop() is True


def test_stop_after_the_loop_died_returns_at_once_and_writes_to_no_closed_descriptor(monkeypatch):
    # run() closes every socket and its trigger pipe however it ends; a stop() afterwards wrote its wake-up byte to the
    # pipe's closed descriptor (an error, or a byte into whatever file reused that number).
    from smart_app.http_server import EventLoop

    def broken(loop: Any, timeout: float) -> None:
        raise RuntimeError("a bug in the loop")

    monkeypatch.setattr(EventLoop, "turn", broken)
    failures: list[BaseException] = []
    served, thread, port = started(failures)
    thread.join(5)
    assert not thread.is_alive() and served.finished.is_set()
    assert [str(error) for error in failures] == ["a bug in the loop"]
    writes: list[int] = []
    monkeypatch.setattr(served.trigger, "_physical_pull", lambda: writes.append(1))
    stopping = time.monotonic()
    assert served.stop(timeout=5) is True
    assert time.monotonic() - stopping < 0.5
    assert writes == []


def test_connections_still_waiting_to_be_accepted_at_the_stop_are_refused_503_not_reset():
    # Connections the kernel had set up but the loop had not accepted yet when the stop came: left in the listening
    # socket's queue, they were reset when it closed, and their clients lost calls they had sent (a reset tells them
    # nothing about whether the call ran). Accepted by the drain, each request is refused like any arriving after
    # the signal: 503, Retry-After, Connection: close, then a clean end of stream.
    served, thread, port = started()
    held, release = threading.Event(), threading.Event()
    served.trigger.pull_trigger(lambda: (held.set(), release.wait(10)))  # the loop is busy in this turn
    assert held.wait(5)
    waiting = [socket.create_connection((LOOPBACK, port), timeout=5) for _ in range(3)]
    for n, conn in enumerate(waiting):
        conn.sendall(f"GET /waiting/{n} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    served.stop(timeout=2, wait=False)  # the loop drains as soon as its turn ends
    release.set()
    for conn in waiting:
        answer = read_to_close(conn)  # a reset raises ConnectionResetError here
        head = answer.split(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 503 service unavailable"), answer
        assert b"connection: close" in head and b"retry-after: 1" in head
        assert b"done /waiting" not in answer  # not started: safe to send again
    thread.join(5)
    assert not thread.is_alive()


def queued_at_the_stop(port: int, served: Any, count: int, reset: int) -> list[socket.socket]:
    """`count` connections, each with its request sent, waiting in the listening socket's queue while the loop is busy;
    the one at `reset` is then reset by its client (SO_LINGER 0). Returns the others, in the order they connected."""
    held, release = threading.Event(), threading.Event()
    served.trigger.pull_trigger(lambda: (held.set(), release.wait(10)))  # the loop is busy in this turn
    assert held.wait(5)
    waiting = [socket.create_connection((LOOPBACK, port), timeout=5) for _ in range(count)]
    for n, conn in enumerate(waiting):
        conn.sendall(f"GET /waiting/{n} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    aborted = waiting.pop(reset)
    aborted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    aborted.close()  # a reset while still in the queue: its accept, or its first read, fails
    served.stop(timeout=2, wait=False)  # the loop drains as soon as its turn ends
    served.release = release
    return waiting


def assert_all_refused(waiting: list[socket.socket]) -> None:
    for conn in waiting:
        answer = read_to_close(conn)  # a reset raises ConnectionResetError here
        head = answer.split(b"\r\n\r\n")[0].lower()
        assert head.startswith(b"http/1.1 503 service unavailable"), answer
        assert b"connection: close" in head and b"retry-after: 1" in head


def test_a_queued_connection_reset_by_its_client_does_not_leave_those_behind_it_to_be_reset():
    served, thread, port = started()
    waiting = queued_at_the_stop(port, served, count=5, reset=1)
    served.release.set()
    assert_all_refused(waiting)
    thread.join(5)
    assert not thread.is_alive()


@pytest.mark.parametrize("failure", [errno.ECONNABORTED, errno.ECONNRESET, errno.EPROTO])
def test_an_accept_that_fails_for_an_aborted_connection_goes_on_with_the_queue(monkeypatch, failure):
    # Linux hands over a connection reset in the queue (its first read fails); BSD and macOS fail its accept() with
    # ECONNABORTED, which waitress takes for an empty queue: the drain stopped accepting, and left the connections
    # behind it to be reset when the listening socket closed.
    served, thread, port = started()
    accept = served.socket.accept
    failed: list[int] = []

    def aborted_once() -> Any:
        if not failed and served.draining:
            failed.append(failure)
            raise OSError(failure, os.strerror(failure))
        return accept()

    monkeypatch.setattr(served, "socket", AcceptFails(served.socket, aborted_once))
    waiting = queued_at_the_stop(port, served, count=4, reset=3)
    served.release.set()
    assert_all_refused(waiting)
    assert failed == [failure]
    thread.join(5)
    assert not thread.is_alive()


class AcceptFails:
    """A listening socket whose accept() is the test's; everything else is the real socket's."""

    def __init__(self, sock: socket.socket, accept: Any) -> None:
        self._sock, self.accept = sock, accept

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def test_a_queued_connection_that_cannot_be_set_up_is_skipped_and_the_queue_goes_on(monkeypatch):
    # macOS fails the socket options of a connection its client reset in the queue: that one was closed, and its
    # failure taken for the end of the queue.
    served, thread, port = started()
    set_options = served.set_socket_options
    failed: list[bool] = []

    def fails_once(conn: socket.socket) -> None:
        if not failed and served.draining:
            failed.append(True)
            raise OSError(errno.EINVAL, "Invalid argument")
        set_options(conn)

    monkeypatch.setattr(served, "set_socket_options", fails_once)
    waiting = queued_at_the_stop(port, served, count=4, reset=3)
    first = waiting.pop(0)  # the one whose set-up fails: closed, unanswered
    served.release.set()
    assert_all_refused(waiting)
    assert failed == [True]
    with contextlib.suppress(ConnectionResetError):  # its client is gone in real life: a reset is as good
        assert read_to_close(first) == b""  # never answered
    thread.join(5)
    assert not thread.is_alive()


def test_an_accept_that_keeps_failing_ends_the_drain_s_look_at_the_queue(monkeypatch):
    # An error taken for an aborted connection (EOPNOTSUPP among them) that never cleared made accept_backlog try
    # again for ever: the drain never reached its deadline and the worker never stopped.
    served, thread, _ = started()
    tries: list[int] = []

    def always_fails() -> Any:
        tries.append(1)
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))

    monkeypatch.setattr(served, "socket", AcceptFails(served.socket, always_fails))
    looked = threading.Thread(target=served.accept_backlog, daemon=True)
    looked.start()
    looked.join(10)
    assert not looked.is_alive()
    assert len(tries) == LISTEN_BACKLOG  # the queue never holds more: each one it could have held was tried once
    served.stop(timeout=2, wait=False)
    thread.join(10)
    assert not thread.is_alive()
