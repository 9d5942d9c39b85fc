"""`painplan serve`: load everything once, freeze the heap, then fork waitress worker processes on one socket."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from smart_app.config import Settings

log = logging.getLogger("painplan.serve")

METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
RESTART_PAUSE_SECONDS = 1.0  # a worker that dies at once is not restarted in a tight loop
STOP_GRACE_SECONDS = 10.0  # after SIGTERM, a worker still running this long after is killed
STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


@dataclass(frozen=True)
class ServerOptions:
    """What the worker processes are built with, from the settings."""

    host: str
    port: int
    workers: int
    threads: int
    read_timeout: float
    patience: float
    max_body_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerOptions:
        return cls(
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            threads=settings.threads,
            read_timeout=settings.read_timeout,
            patience=settings.queue_patience,
            max_body_bytes=settings.max_body_bytes,
        )


# The listening socket's queue: connections the kernel holds for the workers to accept (it may cap it lower).
LISTEN_BACKLOG = 2048


def listen(host: str, port: int, backlog: int = LISTEN_BACKLOG) -> socket.socket:
    """The listening socket every worker accepts on (bound once, in the parent, before forking)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def preload(app: Any) -> None:
    """Import and load every model and terminology now, then freeze the heap, so forked workers share it.

    Without this each worker's first hook call pays for the lazy loads (about 0.3 s), and every full garbage
    collection walks the whole static heap (tens of ms, the p99 of the service).
    """
    import guideline.engine  # noqa: F401 - the checks and their modules
    from guideline.terminology import load_terminology

    settings: Settings = app.config["PAINPLAN"]
    load_terminology(settings.guideline)
    warm_up(app)
    engine = app.extensions.get("painplan.db")
    if engine is not None:
        engine.dispose()  # no connection may cross the fork
    freeze_heap()


# A hook call allocates tens of thousands of containers and frees nearly all of them by reference counting; with
# the default threshold (700) the collector still ran several times per call, walking the call's live JSON and
# record each time, and promoted them into full collections of tens of ms. Well above what one call keeps alive
# at once, collections become rare, as long as a call leaves (almost) nothing in reference cycles: the collector
# runs after every 50,000 containers left behind. tests/test_no_cyclic_garbage.py keeps PainPlan's share at zero
# (a cycle that held each call's record made it run every ~70 calls, for 20-100 ms each).
YOUNG_GENERATION_THRESHOLD = 50_000


def freeze_heap() -> None:
    """Move everything loaded so far out of the collector's sight, and collect young objects rarely."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


def warm_up(app: Any) -> None:
    """FHIR models, then an offline order-sign per demo story: every lazily built table exists before the fork."""
    from cds_hooks.service import run_hook
    from smart_app.warmup import load_fhir_models, warm_up_requests

    settings: Settings = app.config["PAINPLAN"]
    try:
        load_fhir_models()
        for body in warm_up_requests(settings.guideline):
            run_hook("order-sign", body, settings.cds, engine=None, network=False)
    except Exception:  # noqa: BLE001 - warming is an optimisation; a failure here must not stop the service
        log.warning("warm-up evaluation failed; workers will load lazily", exc_info=True)


def wsgi_app(app: Any, settings: Settings) -> Any:
    from smart_app.admission import admission

    return admission(app.wsgi_app, settings.queue_patience, count_shed)


def count_shed(service: str) -> None:
    """One hook call refused with 503, under its service's name, or "unknown" for a service that does not exist."""
    from cds_hooks.services import SERVICES
    from smart_app.metrics import SHED

    # Shedding comes before routing and authentication: a name taken from the path as it is let any client mint a
    # new series (and a file per worker) with every made-up service name.
    SHED.labels(service if service in SERVICES else "unknown").inc()


def serve_worker(app: Any, settings: Settings, sock: socket.socket, options: ServerOptions) -> None:
    """One worker process: a waitress event loop and its threads on the shared socket, until SIGTERM."""
    from smart_app.http_server import build_server, run_until_sigterm

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C goes to the parent, which stops the workers in order
    signal.signal(signal.SIGTERM, _exit_worker)  # until the server exists (then it drains: run_until_sigterm)
    app.wsgi_app = wsgi_app(app, settings)
    server = build_server(
        app,
        sock,
        threads=options.threads,
        read_timeout=options.read_timeout,
        patience=options.patience,
        max_request_body_size=options.max_body_bytes + 1,  # the app answers 413 itself, with an OperationOutcome
        connection_limit=1000,
        ident="PainPlan",
        expose_tracebacks=False,
        log_socket_errors=False,
        clear_untrusted_proxy_headers=True,
    )
    run_until_sigterm(server)


def _exit_worker(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)


class Supervisor:
    """Forks the workers, restarts one that dies, and stops them all on SIGTERM or Ctrl+C."""

    def __init__(self, app: Any, settings: Settings, sock: socket.socket, options: ServerOptions) -> None:
        self.app, self.settings, self.sock, self.options = app, settings, sock, options
        self.children: dict[int, int] = {}  # pid → worker number
        self.stopping = False
        self.stop_grace = STOP_GRACE_SECONDS
        self.pid = os.getpid()  # the supervisor's own: a worker inherits this object, and its handler, at fork

    def spawn(self, number: int) -> None:
        # A stop signal is held back from the fork until the new worker is noted: handled in between, it signalled
        # every worker but that one, which served on while the supervisor waited for it forever.
        held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child
                code = 0
                try:
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a stop sent meanwhile arrives now (see stop)
                    serve_worker(self.app, self.settings, self.sock, self.options)
                except SystemExit as stop:
                    code = stop.code if isinstance(stop.code, int) else 0
                except BaseException:
                    log.exception("worker %d failed", number)
                    code = 1
                finally:
                    os._exit(code)
            self.children[pid] = number
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def stop(self, _signum: int = 0, _frame: Any = None) -> None:
        if os.getpid() != self.pid:
            # A worker stopped before it installed its own handler runs this inherited one: it must stop itself
            # (never signal the siblings it copied), or it serves on and the supervisor waits for it forever.
            raise SystemExit(0)
        first = not self.stopping
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        # A worker drains for a few seconds (smart_app.http_server.DRAIN_SECONDS); one still running after the
        # grace is killed, so that stopping never hangs on a stuck worker. The grace runs from the first signal:
        # re-armed by each, a scheduler sending SIGTERM again and again put the kill off for good.
        if first:
            signal.signal(signal.SIGALRM, self.kill)
            signal.setitimer(signal.ITIMER_REAL, self.stop_grace)

    def kill(self, _signum: int = 0, _frame: Any = None) -> None:
        for pid in list(self.children):
            log.warning(
                "worker %d (pid %d) did not stop in %.0f s; killing it", self.children[pid], pid, self.stop_grace
            )
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for number in range(self.options.workers):
            self.spawn(number)
        while self.children:
            try:
                pid, _status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
                continue
            number = self.children.pop(pid, None)
            if number is not None and not self.stopping:
                log.warning("worker %d (pid %d) stopped; starting a new one", number, pid)
                _clear_dead_worker_metrics(pid)
                time.sleep(RESTART_PAUSE_SECONDS)
                if not self.stopping:
                    self.spawn(number)


def _clear_dead_worker_metrics(pid: int) -> None:
    if os.environ.get(METRICS_DIR_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def run_serve(args: argparse.Namespace) -> int:
    from smart_app.commands import settings_for

    settings = settings_for("serve", args, options=("host", "port", "workers"))
    if settings is None:
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(message)s", stream=sys.stderr)
    options = ServerOptions.from_settings(settings)
    try:
        sock = listen(options.host, options.port)
    except OSError as error:
        print(f"painplan serve: cannot listen on {options.host}:{options.port}: {error.strerror}", file=sys.stderr)
        return 2
    # Metrics from every worker are kept in files in this folder and summed by /metrics; the variable must be set
    # before prometheus_client is first imported, which happens when the app is built just below.
    metrics_dir = tempfile.mkdtemp(prefix="painplan-metrics-")
    previous = os.environ.get(METRICS_DIR_VARIABLE)
    os.environ[METRICS_DIR_VARIABLE] = metrics_dir
    try:
        _serve(settings, sock, options)
    finally:
        sock.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        # Leave the environment as found: a caller in the same process must not point at the removed folder.
        if previous is None:
            os.environ.pop(METRICS_DIR_VARIABLE, None)
        else:
            os.environ[METRICS_DIR_VARIABLE] = previous
    return 0


def _serve(settings: Settings, sock: socket.socket, options: ServerOptions) -> None:
    from smart_app import create_app

    app = create_app(settings)
    preload(app)
    log.info(
        "painplan serve: listening on http://%s:%d with %d workers x %d threads",
        options.host,
        options.port,
        options.workers,
        options.threads,
    )
    Supervisor(app, settings, sock, options).run()
