"""A short-lived in-process cache of read answers, keyed by the ledger's state.

Reads price and attribute events at query time; on a ledger of millions of events one answer
takes seconds. The dashboard asks the same few questions again and again, so the answer is
kept for `ttl_s` seconds under the key (writer generation, project, path, query): the writer
generation changes with every commit (`Writer.generation`, with the last ingest id), so a
cached answer never outlives the data it was computed from. Costs are never stored: the cache
holds finished answers in memory only, and the ledger stays the one source of truth.

Concurrent identical requests compute once: the others wait for the first one's answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ReadCache:
    """Answers by key for `ttl_s` seconds, at most `max_entries` of them (least recent out)."""

    def __init__(self, ttl_s: float = 60.0, max_entries: int = 256) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def _get(self, key: Hashable) -> tuple[bool, Any]:
        with self._lock:
            item = self._items.get(key)
            if item is None or time.monotonic() - item[0] > self.ttl_s:
                return False, None
            self._items.move_to_end(key)
            self.hits += 1
            return True, item[1]

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached answer for `key`, else `compute()` (once, whoever else asks)."""
        if self.ttl_s <= 0:
            return compute()
        found, value = self._get(key)
        if found:
            return value  # type: ignore[no-any-return]
        with self._lock:
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            found, value = self._get(key)
            if found:
                return value  # type: ignore[no-any-return]
            result = compute()
            with self._lock:
                self.misses += 1
                self._items[key] = (time.monotonic(), result)
                self._items.move_to_end(key)
                while len(self._items) > self.max_entries:
                    self._items.popitem(last=False)
                self._computing.pop(key, None)
            return result
