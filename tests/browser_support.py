"""Browser-test support: serve a Flask app on a free local port and drive Debian's Chromium with Playwright.

Use it from a test module (pytest puts `tests/` on sys.path):

    from browser_support import browser_page, live_server, save_screenshot

    def test_page(tmp_path):
        with live_server(app) as base_url, browser_page() as page:
            page.goto(base_url + "/demo")
            save_screenshot(page, "demo-start")

`browser_page()` skips the test (with the reason) when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PAINPLAN_CHROMIUM", "/usr/bin/chromium")
# Every switch that could reach the network or a GPU is off: tests never use the network.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DEFAULT_TIMEOUT_MS = 15_000


def chromium_missing_reason() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set PAINPLAN_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@contextmanager
def live_server(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve `app` with werkzeug's threaded server on a free port; yield its base URL, e.g. http://127.0.0.1:51234."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            return None  # request lines would flood test output

    # Port 0: the OS picks a free port, so parallel test runs never collide.
    server = make_server(host, 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


@contextmanager
def browser_page(viewport: tuple[int, int] = (1100, 900)) -> Iterator[Any]:
    """A Playwright page in a fresh headless Chromium profile; skips the test when Chromium is unavailable."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="painplan-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=list(CHROMIUM_ARGS),
                viewport={"width": viewport[0], "height": viewport[1]},
            )
            context.set_default_timeout(DEFAULT_TIMEOUT_MS)
            try:
                page = context.pages[0] if context.pages else context.new_page()
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def save_screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG under test-artifacts/ (git-ignored) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
