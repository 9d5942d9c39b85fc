"""The waitress event loop of `painplan serve` (smart_app.http_server) serving a WSGI app on a real loopback socket."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from cds_support import hook_request, oxycodone_draft

from smart_app.http_server import build_server
from smart_app.server import listen

LOOPBACK = "127.0.0.1"
STOP_SECONDS = 2.0  # a test's requests still in service get this long to finish
ORDER_SIGN = json.dumps(hook_request(drafts=[oxycodone_draft()], prefetch={})).encode()  # an oxycodone order-sign


def hook_call(
    body: bytes = ORDER_SIGN, *, path: str = "/cds-services/order-sign", headers: str = "", with_body: bool = True
) -> bytes:
    """The bytes of a hook call POST, keep-alive unless `headers` (each line ending in CRLF) say `Connection: close`;
    without its body when `with_body` is False (a client waiting for `100 Continue`)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n"
    ).encode()
    return head + body if with_body else head


@contextmanager
def serving(app: Any, *, read_timeout: float, patience: float, **adjustments: Any) -> Iterator[Any]:
    """`app` served by two threads on a free loopback port (the test is skipped if none can be bound); stopped after.
    `adjustments` are waitress's (e.g. `outbuf_high_watermark`)."""
    try:
        sock = listen(LOOPBACK, 0)
    except OSError:
        pytest.skip("cannot bind a loopback port here")
    served = build_server(
        app, sock, threads=2, read_timeout=read_timeout, patience=patience, ident="PainPlan", **adjustments
    )
    thread = threading.Thread(target=served.run, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        served.stop(timeout=STOP_SECONDS)  # the product's own stop: drain, close every socket, run() returns
        thread.join(5)
        sock.close()
