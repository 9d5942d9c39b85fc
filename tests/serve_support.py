"""The waitress event loop of `painplan serve` (smart_app.http_server) serving a WSGI app on a real loopback socket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from smart_app.http_server import build_server
from smart_app.server import listen

LOOPBACK = "127.0.0.1"
STOP_SECONDS = 2.0  # a test's requests still in service get this long to finish


@contextmanager
def serving(app: Any, *, read_timeout: float, patience: float) -> Iterator[Any]:
    """`app` served by two threads on a free loopback port (the test is skipped if none can be bound); stopped after."""
    try:
        sock = listen(LOOPBACK, 0)
    except OSError:
        pytest.skip("cannot bind a loopback port here")
    served = build_server(app, sock, threads=2, read_timeout=read_timeout, patience=patience, ident="PainPlan")
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.stop(timeout=STOP_SECONDS)  # the product's own stop: drain, close every socket, run() returns
        thread.join(5)
        sock.close()
