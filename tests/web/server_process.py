"""Run the studio in a process of its own (uvicorn), as a user would, to kill it or load it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

TESTS = Path(__file__).resolve().parents[1]
LAUNCH = """
import sys
sys.path.insert(0, {tests!r})
import uvicorn
from inceptionism.web.app import create_app
from inceptionism.web.catalog import ModelCatalog
from inceptionism.web.config import ServerSettings
catalog = None
if {tiny!r}:
    from conftest import make_tiny_net
    net = make_tiny_net()
    catalog = ModelCatalog({{"tiny": lambda: net}})
settings = ServerSettings(data_dir={data_dir!r}, port={port}, **{extra!r})
uvicorn.run(create_app(settings, catalog=catalog), host="127.0.0.1", port={port}, log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(data_dir: Path, *, tiny: bool = True, **extra) -> tuple[subprocess.Popen, str]:
    """A studio process over ``data_dir`` and its base URL, once it answers."""
    port = free_port()
    code = LAUNCH.format(tests=str(TESTS), tiny=tiny, data_dir=str(data_dir), port=port, extra=extra)
    process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(process, url, timeout=60)
    return process, url


def wait_until_answering(process: subprocess.Popen, url: str, *, timeout: float) -> None:
    """Return once the studio ``process`` at ``url`` answers; raise if it dies or is silent for ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the studio did not start: {process.stderr.read()}")
        try:
            if httpx.get(f"{url}/api/presets", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the studio did not answer within {timeout:g} s")
