"""How the serving loop closes a connection (smart_app.http_server.GuardedChannel.close_connection), in process."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from serve_support import LOOPBACK, serving
from waitress.buffers import OverflowableBuffer

from smart_app.http_server import GuardedChannel, TimedParser

WAIT = 10.0  # the longest a test waits for something to happen: reached only when something is broken


def hello(environ: dict[str, Any], start_response: Any) -> Any:
    body = f"path={environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server() -> Iterator[Any]:
    with serving(hello, read_timeout=1.0, patience=5.0) as served:
        yield served


def wait_for(condition: Any, seconds: float = WAIT) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def the_channel(server: Any) -> GuardedChannel:
    """The one connection the server has open (once it has accepted it)."""
    assert wait_for(lambda: len(server.active_channels) == 1)
    return next(iter(server.active_channels.values()))


def read_to_eof(conn: socket.socket) -> bytes:
    """Everything until the server's end of stream; a reset raises ConnectionResetError."""
    conn.settimeout(WAIT)
    received = b""
    while chunk := conn.recv(4096):
        received += chunk
    return received


def test_a_connection_that_was_answered_closes_lingering_one_that_never_was_closes_at_once(server):
    # Lingering (FIN, then reading until the client's own FIN, up to a second) protects an answer the client has not
    # read yet from a reset. A connection that never got a byte has no answer to lose: holding its socket for that
    # second bought nothing (a client opening connections and sending nothing held twice the sockets).
    answered = socket.create_connection((LOOPBACK, server.effective_port), timeout=WAIT)
    answered.sendall(b"GET /last HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    channel = the_channel(server)
    assert read_to_eof(answered).endswith(b"path=/last")
    assert channel.linger_until is not None  # our FIN has left; the socket waits for the client's
    assert wait_for(lambda: not server.active_channels)  # the client never closes: closed at its linger time
    answered.close()

    silent = socket.create_connection((LOOPBACK, server.effective_port), timeout=WAIT)
    channel = the_channel(server)
    assert read_to_eof(silent) == b""  # closed as idle (after the 1 s read timeout), never answered
    assert channel.linger_until is None and channel.socket is None  # closed at once, not held for a linger
    silent.close()


def test_a_buffer_that_fails_to_close_still_releases_the_socket_and_is_logged_once(server, monkeypatch, caplog):
    # The close of a connection's output buffers failed silently when it lingered (and was logged with its message,
    # per buffer, by waitress's own close): now the socket is still closed, and the failure is counted and logged
    # once, by type, never by its message (which may quote what the client sent).
    def failing_close(buffer: Any) -> None:
        raise RuntimeError("GET /secret?patient=123")

    monkeypatch.setattr(OverflowableBuffer, "close", failing_close)
    conn = socket.create_connection((LOOPBACK, server.effective_port), timeout=WAIT)
    with caplog.at_level("INFO"):
        conn.sendall(b"GET /last HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        channel = the_channel(server)
        assert read_to_eof(conn).endswith(b"path=/last")
        conn.close()  # the client's FIN: the lingering close ends now
        assert wait_for(lambda: not server.active_channels)
    assert channel.socket is None
    assert server.output_close_failures == 1
    logged = [r.getMessage() for r in caplog.records if "output-buffer-close-failed" in r.getMessage()]
    assert [json.loads(message)["error"] for message in logged] == ["RuntimeError"]
    assert "secret" not in caplog.text  # the type, never the message
    assert "GET /last" not in caplog.text


def test_a_thread_waiting_to_write_is_woken_by_a_close_whose_buffer_close_fails(server, monkeypatch):
    # The close tells a thread blocked on the connection's output (waiting for room) that the client is gone, even
    # when closing a buffer raised first: left waiting, that thread (and its request) was lost to the worker.
    monkeypatch.setattr(OverflowableBuffer, "close", lambda buffer: 1 / 0)
    conn = socket.create_connection((LOOPBACK, server.effective_port), timeout=WAIT)
    channel = the_channel(server)
    woken = threading.Event()

    def waiting_writer() -> None:
        with channel.outbuf_lock:
            while channel.connected:
                channel.outbuf_lock.wait(WAIT)
        woken.set()

    writer = threading.Thread(target=waiting_writer, daemon=True)
    writer.start()
    server.trigger.pull_trigger(channel.close)  # in the loop's thread, as the loop closes connections
    assert woken.wait(WAIT)
    assert wait_for(lambda: channel.socket is None)
    assert conn.recv(1) == b""
    conn.close()


REFUSED_CALL = b"POST /cds-services/painplan-order-sign HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n"


def test_a_refusal_behind_output_the_client_has_not_read_goes_to_a_thread_and_the_loop_runs_on():
    # The loop answers a request refused during the drain itself (answer_refusals), which is safe only while nothing
    # waits to be sent on that connection: past the output high watermark, writing the 503 waits for the loop to flush,
    # and the loop is the thread waiting (the drain hung). Waitress reads a request only when nothing waits to be sent,
    # so this state is forged here; the loop checks it, and hands such a refusal to a thread instead.
    with serving(hello, read_timeout=30, patience=5.0, outbuf_high_watermark=64 * 1024) as server:
        conn = socket.create_connection((LOOPBACK, server.effective_port), timeout=WAIT)
        channel = the_channel(server)
        unread = b"x" * 8_000_000  # more than loopback's socket buffers hold: most of it stays in ours
        answered = threading.Event()

        def in_the_loop() -> None:
            parser = TimedParser(server.adj)
            parser.refused = True
            parser.received(REFUSED_CALL)
            with channel.outbuf_lock:
                channel.outbufs[-1].append(unread)
                channel.current_outbuf_count += len(unread)
                channel.total_outbufs_len += len(unread)
            channel.requests = [parser]
            server.refusals.append(channel)
            server.answer_refusals()
            answered.set()

        server.trigger.pull_trigger(in_the_loop)
        try:
            assert answered.wait(WAIT)  # before: the loop waited on its own flush, for ever
        finally:
            with channel.outbuf_lock:  # a loop stuck there is released (the test has failed already)
                if not answered.is_set():
                    channel.connected = False
                    channel.outbuf_lock.notify_all()
        received = read_to_eof(conn)
        conn.close()
    assert received[: len(unread)] == unread  # what was waiting, then the refusal, in order
    head = received[len(unread) :].split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 503") and b"retry-after: 1" in head and b"connection: close" in head
