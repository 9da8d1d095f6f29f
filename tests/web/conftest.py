"""Fixtures of the studio's API tests: a studio over a temporary folder, dreaming with the tiny network.

The shared helpers of ``tests/conftest.py`` are loaded by path under a name of their own:
every ``conftest.py`` outside a package is imported as the module ``conftest``, so a plain
``from conftest import ...`` here would find this very file. They are re-exported, so a test
module's ``from conftest import make_clip`` works whichever of the two is ``conftest`` then.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from browser import chromium, studio_url  # noqa: F401  (the browser tests' fixtures)
from fastapi import FastAPI
from fastapi.testclient import TestClient

from inceptionism.web.app import create_app
from inceptionism.web.catalog import ModelCatalog
from inceptionism.web.config import ServerSettings


def _load_shared():
    name = "_inceptionism_tests_shared"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_shared = _load_shared()
DATA = _shared.DATA
make_tiny_net = _shared.make_tiny_net
make_clip = _shared.make_clip

BASE_URL = "http://127.0.0.1:8000"
SMALL_LIMITS = {
    "host": "127.0.0.1",  # given, so no INCEPTIONISM_* variable of the machine running the tests changes them
    "workers": 1,
    "token": None,
    "max_upload_mb": 1,
    "max_video_upload_mb": 2,  # so the request cap (BodyLimit) is 3 MiB
    "max_pixels": 1_000_000,
    "max_side": 512,
    "max_frames": 8,
    "queue_limit": 4,
    "preview_interval": 0.05,
}
"""What the studio of a test allows unless the test says otherwise: small, so refusals are cheap."""


@pytest.fixture(scope="session")
def tiny_catalog() -> ModelCatalog:
    """The tiny random network, built once, as the studio's only model."""
    net = make_tiny_net()
    return ModelCatalog({"tiny": lambda: net})


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Where the test's studio keeps its jobs."""
    return tmp_path / "studio"


@pytest.fixture
def make_app(data_dir: Path, tiny_catalog: ModelCatalog) -> Callable[..., FastAPI]:
    """``make_app(**settings)``: a studio app over ``data_dir`` (not started); settings override :data:`SMALL_LIMITS`."""

    def make(**settings) -> FastAPI:
        return create_app(ServerSettings(**{"data_dir": data_dir, **SMALL_LIMITS, **settings}), catalog=tiny_catalog)

    return make


@pytest.fixture
def make_client(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    """``make_client(**settings)``: a started studio (workers running) that stops at the end of the test."""
    with ExitStack() as stack:
        yield lambda **settings: stack.enter_context(TestClient(make_app(**settings), base_url=BASE_URL))


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """A started studio with :data:`SMALL_LIMITS`."""
    return make_client()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A 6-frame H.264 clip (96x64, 24 fps) with a tone."""
    return make_clip(tmp_path / "clip.mp4", count=6)


@pytest.fixture
def clip_of(tmp_path: Path) -> Callable[[int], bytes]:
    """``clip_of(count)``: the bytes of a ``count``-frame clip like :func:`clip`'s."""
    return lambda count: make_clip(tmp_path / f"clip-{count}.mp4", count=count).read_bytes()
