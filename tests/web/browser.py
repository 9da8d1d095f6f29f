"""What the browser tests share: the real studio served in a thread, and Debian's Chromium.

Both fixtures skip, saying why, when the ``[web]`` extra, playwright or Chromium is missing.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "tests" / "data" / "coffee.jpg"
TIMEOUT_MS = 60_000


@pytest.fixture
def studio_url(tmp_path: Path) -> Iterator[str]:
    """The real app served by uvicorn in a thread, on a free port, with its data in tmp_path."""
    uvicorn = pytest.importorskip("uvicorn", reason="the web studio needs the [web] extra (fastapi, uvicorn)")
    from inceptionism.web.app import create_app
    from inceptionism.web.config import ServerSettings

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(ServerSettings(host="127.0.0.1", port=port, data_dir=tmp_path / "studio"))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the studio server did not start within 30 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def chromium() -> Iterator[object]:
    """Headless Chromium, or a skip saying what is missing."""
    yield from launch_chromium()


def launch_chromium(*extra_args: str) -> Iterator[object]:
    """Headless Chromium started with :data:`CHROMIUM_ARGS` and ``extra_args`` (a fixture's body), or a skip."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (install it, e.g. apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            browser.close()


def get_json(url: str) -> dict:
    """The JSON a GET of ``url`` answers."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def watched_page(context) -> tuple[object, list[str]]:
    """A new page of ``context`` with the default timeout, and the list its page errors and console messages go to."""
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
    return page, problems


def open_studio(context, studio_url: str) -> tuple[object, list[str]]:
    """:func:`watched_page` on the studio, once its status says it is ready."""
    page, problems = watched_page(context)
    page.goto(f"{studio_url}/")
    page.wait_for_function("document.querySelector('#status').textContent.includes('Ready')", timeout=TIMEOUT_MS)
    return page, problems


def finished_job(context, studio_url: str, kind: str, params: dict) -> dict:
    """A ``kind`` job of ``params`` on :data:`PHOTO`, sent through the API and waited for until done."""
    image = {"name": PHOTO.name, "mimeType": "image/jpeg", "buffer": PHOTO.read_bytes()}
    sent = context.request.post(
        f"{studio_url}/api/jobs", multipart={"kind": kind, "params": json.dumps(params), "image": image}
    )
    assert sent.status == 202, sent.text()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while (job := get_json(f"{studio_url}/api/jobs/{sent.json()['id']}"))["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["state"] == "done", job
    return job
