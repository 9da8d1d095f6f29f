"""What a worker process keeps between tasks: its networks, prepared Dreamers and torch threads.

A worker runs task after task of the same render: the network is loaded once per process
(:mod:`inceptionism.models.cache`) and the :class:`~inceptionism.engine.dreamer.Dreamer`
of the same settings, guide and mask is prepared once and kept here.
"""

from __future__ import annotations

import hashlib
import io
import signal
import threading
from collections.abc import Callable
from typing import Any

from PIL import Image

from inceptionism.engine.dreamer import Dreamer
from inceptionism.engine.runtime import keep_freed_memory, torch_threads
from inceptionism.engine.settings import DreamSettings
from inceptionism.io.tensors import guide_pixels, mask_values
from inceptionism.lru import KeptCache
from inceptionism.models.network import Network

DREAMERS_KEPT = 4
_dreamers: KeptCache[Dreamer] = KeptCache(DREAMERS_KEPT)


def dask_setup(worker: Any) -> None:
    """Dask's preload hook: a worker process ignores Ctrl-C.

    A ``local:N`` cluster's workers share the terminal's process group, so the Ctrl-C meant for
    the command (stop after the current frame) would kill them mid-task; the command stops them
    itself. Give it to remote workers too with ``dask worker ADDRESS --preload
    inceptionism.distributed.worker``.
    """
    del worker
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_task(function: Callable[..., Any], threads: int | None, *arguments: Any) -> Any:
    """``function(*arguments)`` with ``threads`` torch threads: how every task runs on a worker.

    A worker process dreams and nothing else, so its allocator keeps freed activations for the
    next step, as the ``inceptionism`` command's own process does (measured on local:1: a 256 px
    SqueezeNet dream took 0.54 s there against 0.33 s here before, see ``bench/bench_cluster.py``).
    """
    keep_freed_memory()
    with torch_threads(threads):
        return function(*arguments)


def prepared_dreamer(
    settings: DreamSettings, guide: bytes | None = None, mask: bytes | None = None, *, model: Network | None = None
) -> Dreamer:
    """The Dreamer of ``settings`` with this guide and mask (encoded images), prepared once per process.

    ``model``: a network to use instead of loading ``settings.model`` (in this process only:
    a task sent to a worker names its network in the settings).
    """
    key = (settings.to_json(), _digest(guide), _digest(mask), model)
    return _dreamers.get(key, lambda: _dreamer(settings, guide, mask, model))


def _dreamer(settings: DreamSettings, guide: bytes | None, mask: bytes | None, model: Network | None) -> Dreamer:
    read_mask = mask_values(_image(mask), max_size=settings.max_size)
    return Dreamer(settings, model=model, guide=guide_pixels(_image(guide)), mask=read_mask)


def _digest(data: bytes | None) -> str:
    return "" if data is None else hashlib.sha256(data).hexdigest()


def _image(data: bytes | None) -> Image.Image | None:
    if data is None:
        return None
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
