"""Waitress, tuned for hostile clients: whole requests buffered before a thread sees them, read deadlines, shedding.

Waitress reads every request (headers and body) in its event loop and hands a worker thread only a complete
request, so a slow or stalled client costs a socket, never a thread. On top of that this module adds:

- a read deadline per request: headers and body must arrive within `read_timeout` seconds of the first byte, else
  the client gets 408 and the connection is closed (waitress alone only closes connections idle for a while, which
  a client trickling one byte at a time never is);
- deadline-aware admission: each queued hook call carries the moment it was queued, and when the queue ahead of it
  would keep it waiting longer than the EHR's patience it is marked to be refused at once (see smart_app.admission);
- an event loop that asks a connection whether it wants to read or write only when its answer can have changed
  (see EventLoop), where waitress's asks every open connection on every turn.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import select
import signal
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from waitress import wasyncore
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask
from waitress.utilities import Error

from smart_app.server import LISTEN_BACKLOG

QUEUED_AT = "painplan.queued_at"  # environ key: time.monotonic() when the complete request was queued
SHED = "painplan.shed"  # environ key: True when admission already knows the call cannot start in time
HOOK_PREFIX = "/cds-services/"
DRAIN_SECONDS = 5.0  # on SIGTERM, the time given to the requests already received (patience + a FHIR budget, and more)
ACCEPT_FAILURE_SAID_EVERY = 60.0  # seconds: a worker that cannot accept says so at most this often, counting
ACCEPT_PAUSE_SECONDS = 0.5  # accept failing for the worker, how long it leaves new connections in the backlog
# accept() failing for the connection it was about to return, not for the worker: that connection is skipped. Linux
# passes a queued connection's pending network error on as accept()'s own (accept(2), "Error handling").
_ABORTED_NAMES = (
    "ECONNABORTED ECONNRESET EPROTO ENETDOWN ENOPROTOOPT EHOSTDOWN ENONET EHOSTUNREACH EOPNOTSUPP ENETUNREACH"
)
ABORTED_BY_CLIENT = frozenset(getattr(errno, name) for name in _ABORTED_NAMES.split() if hasattr(errno, name))
FIRST_REQUEST_SECONDS = (
    1.0  # draining, how long a connection just made may take to send its request before it is closed
)
DRAIN_TURN_SECONDS = 0.05  # while draining, how often the loop looks for connections it may close
ONE_SEND_BYTES = 64 * 1024  # a response body up to this size leaves with its headers in one send (one copy of it)
STOP_MARGIN_SECONDS = 2.0  # stop() waits this long past the drain deadline for threads and sockets to be closed
RETRY_AFTER_SECONDS = 1  # what a refused caller is told to wait before trying again (busy, or restarting)
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 33\r\n\r\n"
    b"the request took too long to send"
)


def is_hook_call(method: str, path: str) -> bool:
    """A CDS service call (not discovery, not feedback): the only requests admission may refuse."""
    return method == "POST" and path.startswith(HOOK_PREFIX) and not path.endswith("/feedback")


def retry_later(code: str, why: str) -> bytes:
    """The body of a call refused before it started (`code`: an OperationOutcome issue type), telling its caller why
    and to send it again after RETRY_AFTER_SECONDS."""
    issue = {"severity": "error", "code": code, "diagnostics": f"{why}; retry after {RETRY_AFTER_SECONDS} second"}
    return json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}).encode()


_RESTARTING = retry_later("transient", "PainPlan is restarting and did not start this call")


class TimedParser(HTTPRequestParser):
    """A request parser that remembers when its first byte arrived, and whether the worker was draining by then."""

    refused = False  # began to arrive during the drain: answered 503, never served

    def __init__(self, adj: Any) -> None:
        super().__init__(adj)
        self.started = time.monotonic()

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        if self.refused and self.expect_continue and self.headers_finished and not self.completed:
            # Its client waits for `100 Continue` before it sends the body, which would be read only to be refused:
            # refused now, without the 100 (waitress sends it as soon as the headers are in). The rest of this read,
            # the body of a client that did not wait, is dropped with it: never taken for a next request.
            self.expect_continue = False
            self.error = Draining("")
            self.completed = True
            return len(data)
        return consumed


class Draining(Error):
    """The answer to a request that began to arrive after SIGTERM: not started, safe to send again elsewhere."""

    code = 503
    reason = "Service Unavailable"

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        headers = [("Content-Type", "application/fhir+json"), ("Retry-After", str(RETRY_AFTER_SECONDS))]
        return f"{self.code} {self.reason}", headers, _RESTARTING


class AdmissionTask(WSGITask):
    """Puts the queueing facts into the WSGI environ, where the admission middleware reads them."""

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[QUEUED_AT] = getattr(self.channel, "queued_at", None)
        environ[SHED] = getattr(self.channel, "shed", False)
        return environ

    def build_response_header(self) -> bytes:
        channel = self.channel
        if channel.server.draining and len(channel.requests) <= 1 and not has_input(channel):
            # The last response this worker sends on the connection: a keep-alive client that was not told reused
            # it as it closed and got a reset (a hook POST is not retried). Told, it opens a new connection. When
            # the client already sent more, the connection stays open for the loop to read it and refuse it (503).
            self.set_close_on_finish()
        return super().build_response_header()

    def write(self, data: bytes) -> None:
        if self.wrote_header or not data or len(data) > ONE_SEND_BYTES:
            super().write(data)
            return
        # Waitress hands the status line and headers, then the body, to the channel apart: two sends (two system
        # calls, two TCP segments) per response. Held back and joined, a small response leaves in one.
        channel = self.channel
        channel.held = []
        try:
            super().write(data)
        finally:
            held, channel.held = channel.held, None
        channel.write_soon(b"".join(held))


_serving = threading.local()  # .channel: the connection whose request this worker thread is serving, if any


class GuardedChannel(HTTPChannel):
    task_class = AdmissionTask
    calls_loop = False  # set when a worker thread serving it pulled the trigger for output or an error
    held: list[bytes] | None = None  # a response's head and first body bytes, while AdmissionTask.write joins them
    waited_for_client = 0.0  # seconds the thread serving this connection's request spent waiting for room to write

    def parser_class(self, adj: Any) -> TimedParser:
        """The parser of the next request (waitress calls `channel.parser_class(adj)` for each)."""
        parser = TimedParser(adj)
        parser.refused = self.server.draining
        return parser

    def _flush_outbufs_below_high_watermark(self) -> None:
        # Past the high watermark a thread waits for the client to read: the client's pace, not the service's time.
        if self.total_outbufs_len <= self.adj.outbuf_high_watermark:
            return
        started = time.monotonic()
        try:
            super()._flush_outbufs_below_high_watermark()
        finally:
            self.waited_for_client += time.monotonic() - started

    def write_soon(self, data: Any) -> int:
        if self.held is None:
            return super().write_soon(data)
        self.held.append(data)
        return len(data)

    # Opening or closing a connection changes which sockets the event loop watches: it asks the new one, forgets the
    # closed one (asking them all again, as it did, cost every accept and every close O(open connections)).
    def add_channel(self, map: Any = None) -> None:
        super().add_channel(map)
        self.server.connection_changed(self._fileno)

    def del_channel(self, map: Any = None) -> None:
        # Before the socket is closed: its number may be the next connection's.
        self.server.connection_changed(self._fileno, closed=True)
        super().del_channel(map)

    # The one way a connection closes (waitress's handle_close, hang-ups, the drain, run()'s last sweep all come here).
    # One that was answered closes in two steps: FIN first (after whatever was sent), then the socket once the client
    # has closed its side too, or at `linger_until`, reading and dropping what it sends meanwhile. Closed at once, a
    # socket with bytes unread, or receiving bytes already on their way, sends a reset instead: the client sees
    # ECONNRESET and can lose an answer it has not read yet (the last one of a `Connection: close`, a 408). One that
    # was never answered has no answer to lose and is closed at once, as is a client hung up on (see close).
    linger_until: float | None = None  # set when our FIN is sent: the time the socket is closed at the latest
    answered = False  # set once a byte of a response has been sent on this connection
    output_released = False  # set once its output buffers are closed and a thread writing to it told

    def handle_close(self) -> None:
        self.close_connection(linger=self.answered)

    def close(self) -> None:
        """Close at once, without waiting for the client: one that reads nothing, or that no HTTP client would be."""
        # Also wasyncore's close, which run() calls on every socket it still has: the same path, so a thread writing
        # to this connection is told even then.
        self.close_connection(linger=False)

    def close_connection(self, *, linger: bool) -> None:
        """Stop sending (a thread writing stops), then send FIN and close later (`linger`, see linger_until), or close
        the socket now (what was received and not read is dropped first: fewer resets). Closed already: nothing."""
        if self.socket is None:
            # Closed already: a reset raises read, hang-up and error events in one turn, and the read closed it.
            return
        try:
            self.release_output()
        finally:
            # Whatever release_output met, the socket is released: a connection is never left open by its close.
            if not (linger and self.linger_until is None and self.send_fin()):
                discard_input(self)
                wasyncore.dispatcher.close(self)

    def release_output(self) -> None:
        """Drop what is left to send and wake a thread waiting to write (it then sees the client gone), once.

        Waitress logs each buffer that fails to close with its message (and the copy of that close in the lingering
        path dropped the failure silently): here it is counted and logged once per connection, by type only.
        """
        failed: list[str] = []
        with self.outbuf_lock:
            if not self.output_released:
                self.output_released = True
                for outbuf in self.outbufs:
                    try:
                        outbuf.close()
                    except Exception as error:  # noqa: BLE001 - a buffer's failure must not keep the socket open
                        failed.append(type(error).__name__)
            self.total_outbufs_len = 0
            self.connected = False
            self.outbuf_lock.notify()
        if failed:
            self.server.output_close_failures += 1
            self.server.logger.error(
                json.dumps({"event": "output-buffer-close-failed", "error": failed[0], "buffers": len(failed)})
            )

    def send_fin(self) -> bool:
        """Send FIN now and watch the socket for the client's (see linger_until); False when it is broken already."""
        # Set before the FIN leaves: a client that reads its end of stream finds the connection lingering already.
        self.linger_until = min(time.monotonic() + LINGER_SECONDS, self.server.stop_deadline or math.inf)
        try:
            self.socket.shutdown(socket.SHUT_WR)
        except OSError:
            self.linger_until = None
            return False
        self.server.connection_changed(self._fileno)  # the loop now watches it for reading only
        self.handle_read()  # what arrived already (or the client's own close)
        return True

    def _flush_some(self, do_close: bool = True) -> bool:
        sent = super()._flush_some(do_close)
        if sent:
            self.answered = True
        return sent

    def readable(self) -> bool:
        return self.linger_until is not None or super().readable()

    def writable(self) -> bool:
        return self.linger_until is None and super().writable()

    def handle_read(self) -> None:
        if self.linger_until is None:
            super().handle_read()
            return
        try:
            while chunk := self.socket.recv(64 * 1024):  # dropped: nothing is served after our FIN
                if len(chunk) < 64 * 1024:
                    return
        except BlockingIOError:
            return
        except OSError:
            pass  # reset by the client, or broken: nothing more to be clean about
        self.close_connection(linger=False)  # the client closed its side (or the socket broke): clean now

    def handle_expt(self) -> None:
        # TCP urgent data: no HTTP client sends it, and while unread it raises POLLPRI on every poll, which spun the
        # loop (waitress only logs a warning, each turn). Such a client is not one to serve: hang up.
        self.close()

    def service(self) -> None:
        request = self.requests[0] if self.requests else None
        refused = request is not None and getattr(request, "refused", False)
        if refused and request.error is None:
            request.error = Draining("")  # waitress's error task answers it, with Connection: close
        started = time.monotonic()
        shed = getattr(self, "shed", False)
        self.waited_for_client = 0.0
        _serving.channel = self  # GuardedServer.pull_trigger asks whether the loop needs waking for it
        try:
            super().service()
        finally:
            _serving.channel = None
        if request is not None and not (shed or refused) and is_hook_call(request.command, request.path):
            # What admission foresees is how long a thread is busy with a call, which a client slow to read its
            # answer must not inflate: a few such clients made the service refuse calls it could serve at once.
            self.server.task_dispatcher.observe(time.monotonic() - started - self.waited_for_client)


class GuardedServer(TcpWSGIServer):
    channel_class = GuardedChannel
    connections_changed = True  # set when maintenance (or the drain) may have changed any connection: ask them all
    loop: EventLoop | None = None
    drain_seconds = DRAIN_SECONDS
    accept_paused_until = 0.0  # time.monotonic() before which no connection is accepted (out of file descriptors)
    unsaid_accept_failures = 0  # accepts that failed for the worker itself (accept_failed) since the last line said
    accept_failure_said_at = -math.inf  # time.monotonic() of that line
    draining = False  # set on SIGTERM: every response closes its connection, a request begun after it is refused

    output_close_failures = 0  # connections whose output buffers failed to close (each logged once)
    stop_deadline: float | None = None  # set by stop(): the loop drains until then, then run() returns
    loop_thread: int | None = None  # the thread running run()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.finished = threading.Event()  # set when run() has returned: every socket closed
        self.refusals: list[GuardedChannel] = []  # draining: connections whose refused request the loop answers
        super().__init__(*args, **kwargs)

    def run(self) -> None:
        """Serve in this thread until stop() (or SIGTERM, see run_until_sigterm), then drain, close every socket
        (connections, the listening socket, the trigger) and return."""
        self.loop_thread = threading.get_ident()
        self.loop = loop = EventLoop(self._map, self)
        try:
            while self.stop_deadline is None:
                loop.turn(self.adj.asyncore_loop_timeout)
            self.drain(self.stop_deadline)
        finally:
            for dispatcher in list(self._map.values()):
                dispatcher.close()
            self._map.clear()
            loop.close()
            self.finished.set()

    def stop(self, timeout: float | None = None, *, wait: bool = True) -> bool:
        """Stop serving: answer what was received within `timeout` seconds (default `drain_seconds`, see drain),
        refuse (503) what arrives meanwhile, close everything, and make run() return. True once run() has returned.

        Safe from any thread and from a signal handler: the loop finishes the turn it is in, then drains (an
        exception raised into it mid-turn could drop bytes it had read). From the loop's own thread, or with
        `wait=False`, it only asks and returns. Asked again while stopping, it keeps the first deadline.
        """
        if self.stop_deadline is None:
            self.stop_deadline = time.monotonic() + (self.drain_seconds if timeout is None else timeout)
            if not self.finished.is_set():  # once run() has returned the pipe is closed: its number may be reused
                with contextlib.suppress(OSError):  # closed just now: nothing left to wake
                    self.trigger.pull_trigger()  # wakes the loop from its poll (one byte into a pipe: signal-safe)
        if wait and threading.get_ident() != self.loop_thread:
            self.finished.wait(max(0.0, self.stop_deadline - time.monotonic()) + STOP_MARGIN_SECONDS)
        return self.finished.is_set()

    def stop_signal(self, _signum: int = 0, _frame: Any = None) -> None:
        """The SIGTERM handler of a worker: drain and stop; a second signal while draining stops at once."""
        if self.stop_deadline is not None:
            raise SystemExit(0)
        self.stop(wait=False)

    def drain(self, deadline: float) -> None:
        """On stop() (SIGTERM): answer every request already received, send what is left, refuse what arrives, close.

        Waitress stopped the threads after their current request and dropped the requests queued behind them: an EHR
        got no answer to a hook call it had sent, at every restart. Whatever is still unfinished at `deadline` (a
        call stuck past its own deadlines, a request still arriving) is closed unanswered, so the worker stops in
        bounded time. A second signal stops it at once.

        Every response written from now on says `Connection: close`, and a request that begins to arrive after the
        signal (its client sent it before reading that) is answered 503 with Retry-After, never served nor reset; so is
        one on a connection still waiting to be accepted at the signal, or made during the drain: the worker accepts
        until it is done (accept_backlog). Left in the queue, those were reset when the listening socket closed; and
        the worker cannot have the kernel refuse them instead, since that socket is shared with the other workers
        and the supervisor (closing its copy refuses nothing; shutting it down would stop every worker accepting and
        reset what waits in its queue).
        """
        self.draining = True
        self.connections_changed = True  # every connection's answers change now (nothing is read for service)
        while time.monotonic() < deadline:
            self.accept_backlog()  # the loop accepts too; this leaves none in the queue when the drain ends below
            self.close_lingering()
            now = time.time()  # the clock of waitress's creation_time (and of its idle timeout), not linger_until's
            for channel in list(self.active_channels.values()):
                if channel.linger_until is not None:
                    continue
                if not (channel.requests or channel.request is not None or channel.total_outbufs_len):
                    if channel.readable() and has_input(channel):
                        continue  # a request arrived unread: closing now resets it, reading it refuses it (503)
                    if not channel.answered and now < channel.creation_time + FIRST_REQUEST_SECONDS:
                        continue  # just made: its request is on its way, and would meet a closed socket (a reset)
                    channel.handle_close()  # nothing received to answer, nothing left to send
            if not self.active_channels:
                break
            self.loop.turn(DRAIN_TURN_SECONDS)
            self.answer_refusals()
        self.task_dispatcher.shutdown(timeout=max(0.0, deadline - time.monotonic()))
        for channel in list(self.active_channels.values()):
            channel.close_connection(linger=False)

    def add_task(self, channel: Any) -> None:
        request = channel.requests[0] if channel.requests else None
        if getattr(request, "refused", False) and threading.get_ident() == self.loop_thread:
            # Refused during the drain, with no request ahead of it on its connection (the loop hands over only a
            # connection's first): the loop answers it itself (answer_refusals), never behind the threads, which may
            # all be busy until the deadline. Not here: the channel's requests lock is held while it reads.
            self.refusals.append(channel)
            return
        super().add_task(channel)

    def answer_refusals(self) -> None:
        """Answer, in the loop's thread, the requests refused during the drain that add_task kept from the threads.

        Safe only on a connection with nothing waiting to be sent: writing a response waits for room below the output
        high watermark, which only this thread makes, so a 503 written behind more than that never returned (the
        drain hung). Waitress reads a request only when nothing waits to be sent, so that is the rule, but it is
        checked here, not assumed: a connection with output waiting has its refusal written by a thread.
        """
        refusals, self.refusals = self.refusals, []
        for channel in refusals:
            if not channel.requests or channel.socket is None:
                continue
            if channel.total_outbufs_len:
                super().add_task(channel)  # the threads' queue: one of them waits for room, this loop makes it
                continue
            try:
                channel.service()  # a 503 written into its buffers (sent at once if it fits), then Connection: close
            except Exception as error:  # noqa: BLE001 - one connection's failure must not end the drain
                self.loop.drop(channel._fileno, channel, error)

    def close_lingering(self) -> None:
        """Close the connections whose client has not closed its side by their `linger_until` (time.monotonic())."""
        now = time.monotonic()  # linger_until's clock, not maintenance's `now` (time.time(), as waitress's)
        for channel in list(self.active_channels.values()):
            if channel.linger_until is not None and now >= channel.linger_until:
                channel.close_connection(linger=False)  # its client never closed its side: nothing left to lose

    def connection_changed(self, fd: int | None, *, closed: bool = False) -> None:
        """One connection opened, or its answers to readable()/writable() changed: the loop asks it (alone) at its
        next turn; `closed`, it forgets it at once. Before the loop runs, or without a number, it asks them all."""
        if self.loop is None or fd is None:
            self.connections_changed = True
        elif closed:
            self.loop.closed(fd)
        else:
            self.loop.opened(fd)

    def accept_backlog(self) -> None:
        """Accept the connections still waiting in the listening socket's queue (their requests are refused 503).

        Left there, they were reset when the socket closed: their clients had sent calls and learnt nothing of them.
        One its client reset while it waited is skipped, never taken for the end of the queue (the ones behind it
        were then reset). At most as many are tried as the queue can hold: an error taken for an aborted connection
        that never clears (EOPNOTSUPP is one) ends the look, where it kept the drain from ever reaching its deadline.
        """
        for _ in range(LISTEN_BACKLOG):
            if len(self.active_channels) >= self.adj.connection_limit or not self.handle_accept():
                return

    def readable(self) -> bool:
        ready = super().readable()  # runs the once-a-second maintenance and applies the connection limit
        return ready and time.monotonic() >= self.accept_paused_until

    def accept(self) -> tuple[socket.socket, Any] | None:
        """The next connection in the queue, or None when it is empty (or another worker took it first).

        Unlike wasyncore's accept, a connection aborted by its client (ECONNABORTED) raises, as it is: it is not the
        end of the queue.
        """
        try:
            return self.socket.accept()
        except BlockingIOError:
            return None

    def handle_accept(self) -> bool:
        """Accept one connection; True when the queue may hold more (one was taken, or one that its client aborted
        before it could be set up was skipped), False when it is empty or accepting failed for the worker itself."""
        try:
            accepted = self.accept()
        except OSError as error:
            if error.errno in ABORTED_BY_CLIENT:
                # That connection is gone (Linux also reports its pending network errors here): the next.
                self.client_left(error)
                return True
            self.accept_failed(error)  # out of descriptors, or the listening socket itself
            return False
        if accepted is None:
            return False
        conn, addr = accepted
        try:
            self.set_socket_options(conn)
            self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)
        except OSError as error:
            # The client left before its connection was set up (macOS fails the options of a connection reset in
            # the queue): that one is closed, the queue goes on (waitress left the socket to the collector).
            self.client_left(error)
            conn.close()
        return True

    def accept_failed(self, error: OSError) -> None:
        """Accepting failed for the worker itself (out of file descriptors, or its listening socket no longer
        listens): pause accepting, since the connection stays in the backlog and the socket readable (retried at once,
        accept failed on every turn at 100 % CPU; descriptors are freed as connections close), and say so whatever
        waitress's log_socket_errors (`painplan serve` turns it off: the worker stopped taking connections without a
        word), by errno name, at most once a minute with the failures since (not twice a second while it lasts)."""
        now = time.monotonic()
        self.accept_paused_until = now + ACCEPT_PAUSE_SECONDS
        self.unsaid_accept_failures += 1
        if now - self.accept_failure_said_at >= ACCEPT_FAILURE_SAID_EVERY:
            said = {"event": "accept-failed", "error": _errno_name(error), "failures": self.unsaid_accept_failures}
            self.logger.warning(json.dumps(said))
            self.accept_failure_said_at, self.unsaid_accept_failures = now, 0

    def client_left(self, error: OSError) -> None:
        """Say (or not) that a client left before its connection was accepted or set up: the one rule of both.

        ECONNABORTED is said by nothing, as in waitress: a client that gave up, routine under load. Any other such
        error is one line at INFO with the error's name, when socket errors are logged (waitress's switch): worth
        counting, never an alarm, so no traceback (a client leaving is no bug to trace) and no address or message.
        """
        if error.errno == errno.ECONNABORTED or not self.adj.log_socket_errors:
            return
        self.logger.info(json.dumps({"event": "client-left-before-accept", "error": _errno_name(error)}))

    def pull_trigger(self) -> None:
        # Waitress wakes the loop at the end of every request so that it watches the connection for the next one;
        # when the loop is already watching it (see EventLoop.awaits_next), that wake-up is a turn for nothing.
        channel = getattr(_serving, "channel", None)
        if channel is not None and self.loop is not None:
            if self.loop.awaits_next(channel):
                return
            channel.calls_loop = True  # its thread could not send everything (or failed): the loop takes over
        super().pull_trigger()

    def maintenance(self, now: float) -> None:
        self.connections_changed = True  # idle connections are told to close, overdue requests get their 408
        self.close_lingering()
        cutoff = now - self.adj.channel_timeout
        for channel in list(self.active_channels.values()):
            if channel.total_outbufs_len and channel.last_activity < cutoff:
                push_or_hang_up(channel, cutoff)
        super().maintenance(now)
        limit = time.monotonic() - self.adj.read_timeout_seconds
        for channel in list(self.active_channels.values()):
            parser = channel.request
            if parser is None or channel.requests or getattr(parser, "started", math.inf) > limit:
                continue
            # Headers or body still incomplete past the deadline: say so and hang up.
            channel.request = None
            with contextlib.suppress(ClientDisconnected):
                channel.write_soon(TIMEOUT_RESPONSE)
            channel.close_when_flushed = True


def run_until_sigterm(server: GuardedServer) -> None:
    """Serve in this (main) thread until SIGTERM, then drain and return: how every `painplan serve` worker runs."""
    signal.signal(signal.SIGTERM, server.stop_signal)
    server.run()


def has_input(channel: HTTPChannel) -> bool:
    """True when bytes from the client wait unread in the socket (not an end of stream, not an error)."""
    try:
        return bool(channel.socket.recv(1, socket.MSG_PEEK))
    except OSError:  # nothing to read yet (non-blocking), or the connection is broken
        return False


LINGER_SECONDS = 1.0  # draining, how long a closed connection still reads what its client sends, waiting for its FIN
DISCARD_BYTES = 1024 * 1024  # at most this much unread input is thrown away before a draining worker closes


def discard_input(channel: HTTPChannel) -> None:
    """Read and drop what the client sent that will not be served, so that closing sends FIN rather than a reset."""
    discarded = 0
    if channel.socket is None:
        return
    with contextlib.suppress(OSError):  # nothing more to read now (non-blocking), or the connection is broken
        while discarded < DISCARD_BYTES and (chunk := channel.socket.recv(64 * 1024)):
            discarded += len(chunk)


def _errno_name(error: OSError) -> str:
    """An OSError as a log line names it: its errno's name (EINVAL), else its type's; never the message."""
    return errno.errorcode.get(error.errno or 0, type(error).__name__)


def push_or_hang_up(channel: HTTPChannel, cutoff: float) -> None:
    """A response that has waited since `cutoff` for room in the socket: send what fits now, or hang up on a client
    that took nothing.

    Waitress takes a connection on which it sent nothing for `channel_timeout` seconds for an idle one, even with a
    response still to send: it marks it to close and, at the next chance to write, sends one socket's worth and
    hangs up (a slow but steady reader of a response larger than the kernel's buffers got it cut short); and that
    chance never comes when the client reads nothing (the socket, its response and a connection slot were held for
    good). The kernel's buffers hide a slow reader's progress from the loop for seconds, so a send is tried first:
    anything accepted proves the client still reads.
    """
    # A thread may be appending to this response: never wait for it here, try again at the next maintenance.
    if not channel.outbuf_lock.acquire(blocking=not channel.requests):
        return
    try:
        channel._flush_exception(channel._flush_some)  # a send updates last_activity; a broken socket is closed
        stalled = channel.connected and channel.total_outbufs_len and channel.last_activity < cutoff
    finally:
        channel.outbuf_lock.release()
    if stalled:
        channel.close()  # also wakes a thread waiting for room to write (it then stops: client disconnected)


# epoll where there is one (Linux): the kernel's cost of a poll grows with the sockets that have events, where
# poll(2), the fallback elsewhere, walks every registered socket on every turn (800 idle connections: ~0.2 ms a turn).
EPOLL = hasattr(select, "epoll")
POLL_IN = select.POLLIN | select.POLLPRI
POLL_OUT = select.POLLOUT


def wanted(dispatcher: Any) -> int:
    """The poll events a dispatcher waits for now, as waitress's own poll loop asks it."""
    events = POLL_IN if dispatcher.readable() else 0
    if dispatcher.writable() and not dispatcher.accepting:
        events |= POLL_OUT
    return events


class EventLoop:
    """Waitress's poll loop (same events, same handlers) that does not ask every connection about itself every turn.

    Waitress asks each open connection readable() and writable() on every turn, and a request takes two turns (its
    bytes arrive; its thread finishes): with 32 keep-alive connections that was some 130 Python calls per request,
    a third of the event loop's CPU. A connection's answers change only when something happens to it, so this loop
    keeps one poll registration per socket and asks again only
    - the listening socket, every turn (its readable() also runs the once-a-second maintenance),
    - connections that had an event on the last turn,
    - connections with a request in a worker thread (busy), every turn until they are done,
    - a connection just opened (one that closes is forgotten at once),
    - every connection, after maintenance ran (once a second) or on stopping.

    A busy connection is also watched for its next request, which it will not read yet: if bytes (or a hang-up)
    arrive before its thread is done, the connection is parked (no longer watched for reading, nothing read, as
    waitress would) and its thread wakes the loop when done, as in waitress; if not, the thread need not wake the
    loop at all, which already waits for the next request (awaits_next): one turn and two thread switches fewer.
    """

    def __init__(self, sockets: dict[int, Any], server: GuardedServer) -> None:
        self.sockets = sockets
        self.server = server
        self.epoll = EPOLL
        self.pollster = select.epoll() if self.epoll else select.poll()
        self.watched: dict[int, tuple[Any, int]] = {}  # fd -> (dispatcher, events registered)
        self.ask: set[int] = set()  # fds whose answers may have changed since they were last asked
        self.busy: set[int] = set()  # fds of connections with a request queued or in a worker thread
        self.parked: set[int] = set()  # busy fds no longer watched for their next request (it arrived early)
        self.lock = threading.RLock()  # a worker's awaits_next sees a busy connection's registration settled

    def close(self) -> None:
        """Release the poller (an epoll is a file descriptor)."""
        if self.epoll:
            self.pollster.close()

    def opened(self, fd: int) -> None:
        """A new connection (or one whose answers changed): asked at the next turn, alone."""
        self.ask.add(fd)

    def closed(self, fd: int) -> None:
        """A connection closing: its registration is dropped now, the others are left alone."""
        with self.lock:
            self.ask.discard(fd)
            self.busy.discard(fd)
            self.parked.discard(fd)
            if self.watched.pop(fd, None) is not None:
                with contextlib.suppress(KeyError, OSError):
                    self.pollster.unregister(fd)

    def watch(self, fd: int, dispatcher: Any, events: int) -> None:
        if self.watched.get(fd) == (dispatcher, events):
            return
        if events:
            try:
                if fd in self.watched:
                    self.pollster.modify(fd, events)
                else:
                    self.pollster.register(fd, events)
            except FileNotFoundError:  # epoll forgot it when its socket closed: this is a new one under that number
                self.pollster.register(fd, events)
            except FileExistsError:
                self.pollster.modify(fd, events)
            self.watched[fd] = (dispatcher, events)
        elif self.watched.pop(fd, None) is not None:
            with contextlib.suppress(KeyError, OSError):
                self.pollster.unregister(fd)

    def awaits_next(self, channel: Any) -> bool:
        """True when `channel`'s request is done, nothing is left to send, and the loop watches it for the next."""
        with self.lock:
            if channel.requests or channel.request is not None or channel.total_outbufs_len:
                return False
            if channel.will_close or channel.close_when_flushed or not channel.connected:
                return False
            fd = channel._fileno
            watched = self.watched.get(fd)
            return (
                fd not in self.parked and watched is not None and watched[0] is channel and bool(watched[1] & POLL_IN)
            )

    def turn(self, timeout: float) -> None:
        sockets, server = self.sockets, self.server
        self.watch(server._fileno, server, wanted(server))  # first: its maintenance may mark every connection
        with self.lock:
            if server.connections_changed:
                server.connections_changed = False
                for fd in [fd for fd, (dispatcher, _) in self.watched.items() if sockets.get(fd) is not dispatcher]:
                    del self.watched[fd]
                    with contextlib.suppress(KeyError, OSError):
                        self.pollster.unregister(fd)
                self.ask = set(sockets)
            for fd in self.ask | self.busy:
                dispatcher = sockets.get(fd)
                if dispatcher is None:
                    self.busy.discard(fd)
                    self.parked.discard(fd)
                    continue
                events = wanted(dispatcher)
                if getattr(dispatcher, "requests", None):
                    self.busy.add(fd)
                    if fd not in self.parked:
                        events |= POLL_IN  # its next request, or a hang-up: parked in dispatch, never read early
                    if not dispatcher.calls_loop:
                        # Its thread sends the response itself and pulls the trigger when it cannot; watching for
                        # "writable" meanwhile made this loop spin, holding the interpreter the thread needs.
                        events &= ~POLL_OUT
                else:
                    self.busy.discard(fd)
                    self.parked.discard(fd)
                    if getattr(dispatcher, "calls_loop", False):
                        dispatcher.calls_loop = False
                self.watch(fd, dispatcher, events)
        try:
            ready = self.pollster.poll(timeout) if self.epoll else self.pollster.poll(int(timeout * 1000))
        except InterruptedError:  # pragma: no cover - PEP 475 retries; a signal handler that raises ends the loop
            ready = []
        self.ask = set()
        for fd, events in ready:
            dispatcher = sockets.get(fd)
            if dispatcher is None:
                continue
            self.ask.add(fd)
            if fd in self.busy:
                with self.lock:
                    if not dispatcher.readable():  # still busy: its next request (or hang-up) waits, unread
                        self.parked.add(fd)  # re-registered without it at the start of the next turn
                        if not self.watched[fd][1] & POLL_OUT:
                            continue
                        events &= ~POLL_IN  # writing, hang-ups and errors go on as in waitress's poll loop
            try:
                wasyncore.readwrite(dispatcher, events)
            except Exception as error:
                # readwrite hands a handler's exception to handle_error; this one came from that too. Left to rise,
                # it ended the loop and the worker with every call in it: only this connection is dropped.
                if not isinstance(dispatcher, GuardedChannel):
                    raise  # the listening socket or the trigger: nothing is served without them
                self.drop(fd, dispatcher, error)

    def drop(self, fd: int, channel: GuardedChannel, error: Exception) -> None:
        """Close a connection whose handlers failed, whatever state they left it in, and say so: the error's type and
        where it was raised, never its message (it may quote what the client sent)."""
        frames = traceback.extract_tb(error.__traceback__)[-3:]
        at = [f"{Path(frame.filename).name}:{frame.lineno}" for frame in frames]
        self.server.logger.error(
            json.dumps({"event": "connection-handler-failed", "error": type(error).__name__, "at": at})
        )
        try:
            channel.close_connection(linger=False)  # its handlers failed: no lingering on their reads
        except Exception as second:  # noqa: BLE001 - a failed close must not keep the connection in the loop
            # A second failure (the socket's own close raising OSError, say) is said too, once, by type only.
            self.server.logger.error(json.dumps({"event": "connection-close-failed", "error": type(second).__name__}))
        # Whatever that close did before it failed too: the loop, the map and the server's count forget it, so the
        # loop does not ask it again and a drain does not wait for it.
        self.sockets.pop(fd, None)
        self.server.active_channels.pop(fd, None)
        self.closed(fd)


class AdmissionDispatcher(ThreadedTaskDispatcher):
    """Queues complete requests for the worker threads and foresees when a hook call would wait too long."""

    def __init__(self, patience: float) -> None:
        super().__init__()
        self.patience = patience
        self.service_seconds = 0.05  # running mean of a hook call's service time, updated as calls finish
        self._mean_lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        """One hook call's service time: the application's, not the time spent waiting for its client to read."""
        with self._mean_lock:
            self.service_seconds += (seconds - self.service_seconds) * 0.3  # follows a slowdown within a few calls

    def expected_wait(self, ahead: int) -> float:
        """Seconds a call queued behind `ahead` others waits, all threads busy, at the mean service time."""
        threads = max(1, len(self.threads) - self.stop_count)
        return math.ceil((ahead + 1) / threads) * self.service_seconds

    def add_task(self, channel: Any) -> None:
        request = channel.requests[0] if channel.requests else None
        channel.queued_at = time.monotonic()
        channel.shed = False
        with self.lock:
            idle = len(self.threads) - self.stop_count - self.active_count
            ahead = len(self.queue) - idle
            if (
                request is not None
                and ahead >= 0
                and is_hook_call(request.command, request.path)
                and self.expected_wait(ahead) > self.patience
            ):
                # Refused at the front of the queue: the next free thread answers 503 in microseconds.
                channel.shed = True
                self.queue.appendleft(channel)
            else:
                self.queue.append(channel)
            self.queue_cv.notify()


# Waitress reads 8 kB per event-loop turn by default: a 165 kB order-sign body took some twenty turns (poll, read,
# parse, append), ~0.6 ms of CPU per call in waitress alone; in 256 kB reads it is ~0.3 ms. A read takes only what
# has arrived, so a slow client is served exactly as before.
RECV_BYTES = 256 * 1024


def build_server(app: Any, sock: Any, *, threads: int, read_timeout: float, patience: float, **adjustments: Any):
    """A waitress server on an already bound, listening socket (shared by every worker process)."""
    from waitress.adjustments import Adjustments

    adj = Adjustments(
        sockets=[sock],
        threads=threads,
        recv_bytes=RECV_BYTES,
        channel_timeout=max(1, math.ceil(read_timeout)),  # idle keep-alive connections close after this too
        cleanup_interval=1,  # look for overdue requests every second
        **adjustments,
    )
    adj.read_timeout_seconds = read_timeout
    dispatcher = AdmissionDispatcher(patience)
    dispatcher.set_thread_count(threads)
    sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
    return GuardedServer(app, {}, True, sock, dispatcher=dispatcher, adj=adj, bind_socket=False, sockinfo=sockinfo)
