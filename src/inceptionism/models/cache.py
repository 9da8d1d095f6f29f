"""Loaded networks and their inference copies, kept once per process.

Building GoogLeNet and loading its weights takes about a second, and an inference copy
(:meth:`~inceptionism.models.network.Network.prepared`) a deep copy and several rewrites:
a zoom of 300 frames, a web server or a cluster worker pays them once. Networks are keyed
by model name and weights (a weights file by its SHA-256, so a changed file is loaded
again), inference copies by network, device, dtype and ReLU redirection. Both caches are
small LRUs guarded by a lock, so threads share them safely.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import torch

from inceptionism.models.network import Network

T = TypeVar("T")
NETWORKS_KEPT = 4
COPIES_KEPT = 4  # per network: e.g. fp32 and bf16, with and without redirected ReLUs

_lock = threading.RLock()
_networks: OrderedDict[Hashable, Network] = OrderedDict()
_copies: weakref.WeakKeyDictionary[Network, OrderedDict[Hashable, Network]] = weakref.WeakKeyDictionary()


def remember(table: OrderedDict[Hashable, T], key: Hashable, build: Callable[[], T], kept: int) -> T:
    """``table[key]``, built by ``build()`` if missing; only the ``kept`` most recently used stay."""
    with _lock:
        if key in table:
            table.move_to_end(key)
            return table[key]
        value = table[key] = build()
        while len(table) > kept:
            table.popitem(last=False)
        return value


def shared_network(key: Hashable, build: Callable[[], Network]) -> Network:
    """The network cached under ``key``, built by ``build()`` on first use.

    The same object is returned to every caller: it must not be changed (use
    :func:`~inceptionism.models.get_model` for a network of your own).
    """
    return remember(_networks, key, build, NETWORKS_KEPT)


def inference_copy(
    net: Network, device: torch.device, *, dtype: torch.dtype | None = None, redirect_relu: bool = False
) -> Network:
    """``net.prepared(device, dtype=..., redirect_relu=...)``, made once per combination and kept."""
    with _lock:
        copies = _copies.setdefault(net, OrderedDict())
    key = (torch.device(device), dtype, redirect_relu)
    return remember(copies, key, lambda: net.prepared(key[0], redirect_relu=redirect_relu, dtype=dtype), COPIES_KEPT)


def clear() -> None:
    """Forget every cached network and copy (their memory is freed once nothing else holds them)."""
    with _lock:
        _networks.clear()
        _copies.clear()
