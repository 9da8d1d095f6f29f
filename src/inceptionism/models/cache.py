"""Loaded networks and their inference copies, kept once per process.

Building GoogLeNet and loading its weights takes about a second, and an inference copy
(:meth:`~inceptionism.models.network.Network.prepared`) a deep copy and several rewrites:
a zoom of 300 frames, a web server or a cluster worker pays them once. Networks are keyed
by model name and weights (a weights file by its SHA-256, so a changed file is loaded
again), inference copies by network, device, dtype and ReLU redirection. Both are
:class:`~inceptionism.lru.KeptCache` LRUs: threads share them, and a network being loaded
(or downloaded) holds up only the callers that need that network.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import torch

from inceptionism.lru import KeptCache, KeptPerObject
from inceptionism.models.network import Network

NETWORKS_KEPT = 4
COPIES_KEPT = 4  # per network: e.g. fp32 and bf16, with and without redirected ReLUs

_networks: KeptCache[Network] = KeptCache(NETWORKS_KEPT)
_copies: KeptPerObject[Network] = KeptPerObject(COPIES_KEPT)


def shared_network(key: Hashable, build: Callable[[], Network]) -> Network:
    """The network cached under ``key``, built by ``build()`` on first use.

    The same object is returned to every caller: it must not be changed (use
    :func:`~inceptionism.models.get_model` for a network of your own).
    """
    return _networks.get(key, build)


def inference_copy(
    net: Network, device: torch.device, *, dtype: torch.dtype | None = None, redirect_relu: bool = False
) -> Network:
    """``net.prepared(device, dtype=..., redirect_relu=...)``, made once per combination and kept."""
    key = (torch.device(device), dtype, redirect_relu)
    return _copies.get(net, key, lambda: net.prepared(key[0], redirect_relu=redirect_relu, dtype=dtype))


def clear() -> None:
    """Forget every cached network and copy (their memory is freed once nothing else holds them)."""
    _networks.clear()
    _copies.clear()
