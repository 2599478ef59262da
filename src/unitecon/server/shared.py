"""What the reads of one dashboard page share: the plain Python results the analysis core
computed for a window (`analysis.core.Shared`), for the other requests of the same ledger
state and project configuration, for a short while.

A page sends several reads of one window at once (`static/app.js`: margins and collapse,
the variable and the loaded unit metrics), and each request has its own `Analysis`; without
this each priced and costed the window and built the same rows. Here the first computes
them, the others asking meanwhile wait for it, and those asking later in `ttl_s` take them.

What is kept: plain Python objects (margin rows, unit-metric rows), never an engine table (a
temporary table belongs to its request's cursor and scope: `engine.scope`), read-only to
every reader. Bounded: at most `max_entries` and `max_bytes` (a value's size estimated from
its rows, `_size`; least recently used go first, and a value over half of `max_bytes`
is handed over but not kept), each dropped `ttl_s`
after it was computed (so revenue CSVs read by a margin model are read again as often as
the read cache refreshes answers: sooner), and keyed by the ledger generation and the
project fingerprint (`api.ask`), so a commit or a configuration change is never answered
from before it.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

Key = tuple[Hashable, ...]


class SharedWork:
    """Values computed once per key, kept `ttl_s` seconds, at most `max_entries`."""

    def __init__(
        self, *, ttl_s: float = 60.0, max_entries: int = 16, max_bytes: int = 128 << 20
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._done: OrderedDict[Key, tuple[Any, float, int]] = OrderedDict()
        self.bytes = 0
        """The kept values' sizes (`_size`) [bytes]."""
        self._running: dict[Key, threading.Event] = {}
        self.computed = 0
        """Values computed (a key asked while none was kept)."""
        self.shared = 0
        """Values handed to a request that did not compute them."""

    def __len__(self) -> int:
        with self._lock:
            self._expire(time.monotonic())
            return len(self._done)

    def scoped(self, *prefix: Hashable) -> Scoped:
        """This store's view for one ledger state and configuration (`prefix`)."""
        return Scoped(self, tuple(prefix))

    def get(self, key: Key, compute: Callable[[], T]) -> T:
        """The value kept for `key`, else `compute()`'s (kept); while another thread is
        computing `key`, wait for it (if it fails, compute here)."""
        while True:
            with self._lock:
                self._expire(time.monotonic())
                hit = self._done.get(key)
                if hit is not None:
                    self._done.move_to_end(key)
                    self.shared += 1
                    return hit[0]  # type: ignore[no-any-return]
                running = self._running.get(key)
                if running is None:
                    running = self._running[key] = threading.Event()
                    break
            running.wait()
        try:
            value = compute()
        except BaseException:
            with self._lock:
                del self._running[key]
            running.set()
            raise
        size = _size(value)
        with self._lock:
            self.computed += 1
            if size <= self.max_bytes // 2:
                self._done[key] = (value, time.monotonic(), size)
                self.bytes += size
                while len(self._done) > self.max_entries or self.bytes > self.max_bytes:
                    self.bytes -= self._done.popitem(last=False)[1][2]
            del self._running[key]
        running.set()
        return value

    def clear(self) -> None:
        with self._lock:
            self._done.clear()
            self.bytes = 0

    def _expire(self, now: float) -> None:
        for k in [k for k, (_, at, _) in self._done.items() if now - at >= self.ttl_s]:
            self.bytes -= self._done.pop(k)[2]


def _size(value: Any, depth: int = 0) -> int:
    """About what `value` holds, cheaply (pickling a 10M-event month's margin model took
    0.17 s): `ROW_BYTES` for each member of the lists, dicts and sets in it, found through
    tuples and dataclasses (a few levels down)."""
    if isinstance(value, list | dict | set | frozenset):
        return ROW_BYTES * max(1, len(value))
    if depth < 4 and isinstance(value, tuple):
        return sum(_size(v, depth + 1) for v in value)
    if depth < 4 and dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sum(_size(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return ROW_BYTES


ROW_BYTES = 4096
"""What `_size` counts for a row of a kept value, as Python objects: a 10M-event month's
margin model (3,000 rows and 3,000 planned, their usage lines) held 38 MiB (tracemalloc),
2.1 MB pickled; `_size` says 33 MiB."""


class Scoped:
    """`SharedWork` under a key prefix (`analysis.core.Shared`)."""

    def __init__(self, work: SharedWork, prefix: Key) -> None:
        self._work = work
        self._prefix = prefix

    def get(self, key: Key, compute: Callable[[], T]) -> T:
        return self._work.get(self._prefix + key, compute)
