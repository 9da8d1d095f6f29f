"""Thread-safe LRU caches whose entries are each built once, without holding up other keys.

Networks and their inference copies, a Dreamer's per-size tables, the memory a step costs and
a worker's prepared Dreamers are all kept this way. The first thread that asks for a key
builds it; the others asking for that key wait for its result, while every other key, kept
or being built, is served at once: one slow build (a weight download, a memory probe) stalls
no other thread. A build that fails is forgotten, so the next call tries again.

>>> squares = KeptCache(2)
>>> squares.get(3, lambda: 9), squares.get(3, lambda: 0)
(9, 9)
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

V = TypeVar("V")


class KeptCache(Generic[V]):
    """The ``kept`` most recently used values, each built by the first caller that needs it."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Future[V]] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], V]) -> V:
        """The value of ``key``, built by ``build()`` (outside the lock) if no one has built it yet."""
        with self._lock:
            entry = self._entries.get(key)
            building = entry is None
            if building:
                entry = self._entries[key] = Future()
                self._evict()
            else:
                self._entries.move_to_end(key)
        if building:
            try:
                entry.set_result(build())
            except BaseException as error:
                self._forget(key, entry)
                entry.set_exception(error)
                raise
        return entry.result()

    def _evict(self) -> None:
        """Drop the least recently used values beyond ``kept``; one being built stays (else it is built twice)."""
        excess = len(self._entries) - self.kept
        for key in [key for key, entry in self._entries.items() if entry.done()][: max(0, excess)]:
            del self._entries[key]

    def _forget(self, key: Hashable, entry: Future[V]) -> None:
        with self._lock:
            if self._entries.get(key) is entry:
                del self._entries[key]

    def clear(self) -> None:
        """Forget every value (builds under way finish for their callers)."""
        with self._lock:
            self._entries.clear()

    def keys(self) -> list[Hashable]:
        """The keys kept, the least recently used first."""
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class KeptPerObject(Generic[V]):
    """A :class:`KeptCache` per object (a network), forgotten with the object."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self._lock = threading.Lock()
        self._caches: weakref.WeakKeyDictionary[object, KeptCache[V]] = weakref.WeakKeyDictionary()

    def get(self, owner: object, key: Hashable, build: Callable[[], V]) -> V:
        """The value of ``key`` kept for ``owner``, built by ``build()`` if missing."""
        with self._lock:
            cache = self._caches.get(owner)
            if cache is None:
                cache = self._caches[owner] = KeptCache(self.kept)
        return cache.get(key, build)

    def clear(self) -> None:
        """Forget every value of every object."""
        with self._lock:
            self._caches.clear()
