"""Real Chromium (Debian's) driven by Playwright against the real app served on loopback.

Playwright never downloads a browser here: it launches /usr/bin/chromium, with the flags that keep
Chromium from calling home on a closed network. axe-core comes from npm (tests/browser/package.json).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.servers.dovecot import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "vi-VN",
}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def base_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def app(make_app: Callable[..., Flask], base_url: str) -> Flask:
    """The app as `make run` has it: no mail server, so mail goes through the local folder and the
    test mailbox page is served; links in mail point at the live server."""
    return make_app(BASE_URL=base_url)


@pytest.fixture
def live_server(app: Flask, base_url: str) -> Iterator[str]:
    """The real app on a loopback port, one thread per request (each gets its own app context)."""
    port = int(base_url.rsplit(":", 1)[1])
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    thread.join()
    server.server_close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page on a 390 × 844 phone screen, in Vietnamese."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    context.close()
