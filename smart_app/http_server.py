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
import math
import select
import threading
import time
from typing import Any

from waitress import wasyncore
from waitress.channel import ClientDisconnected, HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

QUEUED_AT = "painplan.queued_at"  # environ key: time.monotonic() when the complete request was queued
SHED = "painplan.shed"  # environ key: True when admission already knows the call cannot start in time
HOOK_PREFIX = "/cds-services/"
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 33\r\n\r\n"
    b"the request took too long to send"
)


def is_hook_call(method: str, path: str) -> bool:
    """A CDS service call (not discovery, not feedback): the only requests admission may refuse."""
    return method == "POST" and path.startswith(HOOK_PREFIX) and not path.endswith("/feedback")


class TimedParser(HTTPRequestParser):
    """A request parser that remembers when its first byte arrived."""

    def __init__(self, adj: Any) -> None:
        super().__init__(adj)
        self.started = time.monotonic()


class AdmissionTask(WSGITask):
    """Puts the queueing facts into the WSGI environ, where the admission middleware reads them."""

    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[QUEUED_AT] = getattr(self.channel, "queued_at", None)
        environ[SHED] = getattr(self.channel, "shed", False)
        return environ


class GuardedChannel(HTTPChannel):
    parser_class = TimedParser
    task_class = AdmissionTask

    # Opening or closing a connection changes which sockets the event loop watches: it then asks them all again.
    def add_channel(self, map: Any = None) -> None:
        super().add_channel(map)
        self.server.connections_changed = True

    def del_channel(self, map: Any = None) -> None:
        super().del_channel(map)
        self.server.connections_changed = True

    def service(self) -> None:
        request = self.requests[0] if self.requests else None
        started = time.monotonic()
        shed = getattr(self, "shed", False)
        super().service()
        if request is not None and not shed and is_hook_call(request.command, request.path):
            self.server.task_dispatcher.observe(time.monotonic() - started)


class GuardedServer(TcpWSGIServer):
    channel_class = GuardedChannel
    connections_changed = True  # set when a connection opens or closes, or maintenance may have changed any of them

    def run(self) -> None:
        loop = EventLoop(self._map, self)
        try:
            while self._map:
                loop.turn(self.adj.asyncore_loop_timeout)
        except (SystemExit, KeyboardInterrupt):
            self.task_dispatcher.shutdown()

    def maintenance(self, now: float) -> None:
        self.connections_changed = True  # idle connections are told to close, overdue requests get their 408
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


WATCH_READ = select.POLLIN | select.POLLPRI
WATCH_WRITE = select.POLLOUT


def wanted(dispatcher: Any) -> int:
    """The poll events a dispatcher waits for now, as waitress's own poll loop asks it."""
    events = WATCH_READ if dispatcher.readable() else 0
    if dispatcher.writable() and not dispatcher.accepting:
        events |= WATCH_WRITE
    return events


class EventLoop:
    """Waitress's poll loop (same events, same handlers) that does not ask every connection about itself every turn.

    Waitress asks each open connection readable() and writable() on every turn, and a request takes two turns (its
    bytes arrive; its thread finishes): with 32 keep-alive connections that was some 130 Python calls per request,
    a third of the event loop's CPU. A connection's answers change only when something happens to it, so this loop
    keeps one poll registration per socket and asks again only
    - the listening socket, every turn (its readable() also runs the once-a-second maintenance),
    - connections that had an event on the last turn,
    - connections with a request in a worker thread (the thread pulls the trigger when it is done, so the loop
      turns and sees the connection readable again; until then each turn asks it),
    - every connection, after one opened or closed or maintenance ran.
    """

    def __init__(self, sockets: dict[int, Any], server: GuardedServer) -> None:
        self.sockets = sockets
        self.server = server
        self.pollster = select.poll()
        self.watched: dict[int, tuple[Any, int]] = {}  # fd -> (dispatcher, events registered)
        self.ask: set[int] = set()  # fds whose answers may have changed since they were last asked
        self.busy: set[int] = set()  # fds of connections with a request queued or in a worker thread

    def watch(self, fd: int, dispatcher: Any) -> None:
        events = wanted(dispatcher)
        if self.watched.get(fd) == (dispatcher, events):
            return
        if events:
            self.pollster.register(fd, events)  # registers or changes the events of one already registered
            self.watched[fd] = (dispatcher, events)
        elif self.watched.pop(fd, None) is not None:
            self.pollster.unregister(fd)

    def turn(self, timeout: float) -> None:
        sockets, server = self.sockets, self.server
        self.watch(server._fileno, server)  # first: when maintenance runs, it marks every connection to ask
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
                continue
            self.watch(fd, dispatcher)
            if getattr(dispatcher, "requests", None):
                self.busy.add(fd)
            else:
                self.busy.discard(fd)
        try:
            ready = self.pollster.poll(int(timeout * 1000))
        except InterruptedError:  # pragma: no cover - PEP 475 retries; a signal handler that raises ends the loop
            ready = []
        self.ask = set()
        for fd, events in ready:
            dispatcher = sockets.get(fd)
            if dispatcher is not None:
                self.ask.add(fd)
                wasyncore.readwrite(dispatcher, events)


class AdmissionDispatcher(ThreadedTaskDispatcher):
    """Queues complete requests for the worker threads and foresees when a hook call would wait too long."""

    def __init__(self, patience: float) -> None:
        super().__init__()
        self.patience = patience
        self.service_seconds = 0.05  # running mean of a hook call's service time, updated as calls finish
        self._mean_lock = threading.Lock()

    def observe(self, seconds: float) -> None:
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
