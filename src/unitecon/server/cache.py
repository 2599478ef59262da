"""Read answers kept in memory and refreshed in the background (stale-while-revalidate).

Reads price and attribute events at query time; on a ledger of ten million events one answer
takes from seconds to minutes. A read must not wait that long, so the service keeps, for each
query it has answered, the latest *completed* answer, and recomputes it in the background.

Freshness rule:

* An answer is kept under the query's key: the project configuration's fingerprint, the
  endpoint and its parsed parameters. It is never served for another query or another project
  configuration (a different fingerprint is a different key; an answer whose configuration
  changed while it was being computed is thrown away).
* Each answer records the ledger generation it was computed from (`Writer.generation`, the
  number of commits since the service started, read when the computation starts) and when.
* A read returns the latest completed answer at once, with its generation and age (the API
  shows them in the `X-Unitecon-Generation`, `X-Unitecon-Ledger-Generation`,
  `X-Unitecon-As-Of`, `X-Unitecon-Fresh` and `Age` headers). It blocks only when no answer
  has ever been computed for that query (then concurrent identical reads compute it once),
  or when the request asks for it (`Cache-Control: no-cache`: read-your-writes, the answer
  is recomputed unless it already includes every commit).
* An answer is stale when the ledger has had a commit since its generation, or when it is
  older than `refresh_s` (inputs outside the ledger, such as revenue CSV files, may have
  changed). Stale answers that a request has read in the last `active_s` are recomputed by
  one background thread, one at a time, the longest-waiting first, and each at most once per
  `min_interval_s`. So after a commit, every answer in use is replaced within
  `min_interval_s` plus the time to recompute the answers queued before it: a bounded delay,
  whatever the read traffic. An answer nobody has read lately (or only prewarmed) is not
  recomputed at every commit, which would take the cores from ingest; the first read of it
  gets it at once, marked stale, and starts its refresh.
* A failed recomputation keeps the previous answer (and is retried at the next commit or
  after `refresh_s`). Answers not read for `idle_s` are dropped, not refreshed; at most
  `max_entries` are kept, holding at most `max_bytes` in all (the least recently read go
  first; an answer larger than `max_bytes` alone is served, never kept). An answer's size is
  measured once, when it is computed (`size_of`: its JSON size, or an Arrow table's bytes).

At start the service computes the dashboard's default queries in the background (`prewarm`),
so the first visitor finds answers ready. Answers are also kept beside the ledger
(`KeptAnswers`, `answers.sqlite`) with the ledger's content stamp, so a service started again
answers its first reads at once: as current on a ledger nobody has written since, as stale
(and refreshed at once) after writes, if the answer is at most `kept_stale_s` old. A kept
answer is a finished answer of the same code and project, never an input to another. The
ledger stays the one source of truth: costs are priced from its events at query time, and
no cost is stored in it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import pickle
import sqlite3
import sys
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from unitecon.server.body import MIB

T = TypeVar("T")
log = logging.getLogger("unitecon.server")


class Obsolete(Exception):
    """Raised by a computation whose key no longer describes it (the project changed)."""


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A completed answer and the ledger state it was computed from."""

    value: T
    generation: int
    """Ledger generation (commits) when the computation started."""
    as_of: float
    """Wall-clock time (epoch seconds) when the computation started."""
    computed_at: float
    """Monotonic time when the computation finished."""
    fresh: bool = True
    """False when the ledger has changed since (a newer answer is on its way)."""
    stamp: str | None = None
    """The ledger's `content_stamp` (and the catalog's version) read before the computation
    started, when answers are kept across restarts (`KeptAnswers`); else None."""

    def age_s(self) -> float:
        return max(0.0, time.monotonic() - self.computed_at)


@dataclass
class _Entry:
    compute: Callable[[], Any]
    answer: Answer[Any] | None = None
    last_read: float = field(default_factory=time.monotonic)
    """When a request (or, at first, the prewarm) last read it (idle answers are dropped)."""
    last_request: float | None = None
    """When a request last read it; None: only prewarmed so far."""
    done: threading.Event = field(default_factory=threading.Event)
    """Set once a first answer (or a first failure) exists."""
    retry_at: float = 0.0
    """After a failed refresh: not tried again before this monotonic time."""
    size: int = 0
    """`size_of` its answer [bytes]."""


class ReadCache:
    """Latest answers by key, refreshed in the background when the ledger changes."""

    def __init__(
        self,
        generation: Callable[[], int] = lambda: 0,
        *,
        enabled: bool = True,
        refresh_s: float = 300.0,
        min_interval_s: float = 1.0,
        idle_s: float = 3600.0,
        active_s: float = 900.0,
        max_entries: int = 256,
        max_bytes: int | None = None,
        background: bool = True,
        kept: KeptAnswers | None = None,
        stamp: Callable[[], str] = lambda: "",
        kept_stale_s: float = 3600.0,
    ) -> None:
        self.generation = generation
        self.kept = kept if enabled else None
        """Where answers are kept across restarts (None: in memory only)."""
        self.stamp = stamp
        """What the ledger holds now (`ledger.store.content_stamp`, with the catalog)."""
        self.kept_stale_s = kept_stale_s
        """A kept answer of an earlier ledger state at most this old is served (stale, and
        refreshed) rather than computed first [s]; 0: only an unchanged ledger's."""
        self.enabled = enabled
        self.refresh_s = refresh_s
        self.min_interval_s = min_interval_s
        self.idle_s = idle_s
        self.active_s = active_s
        self._local = threading.local()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        """`size_of` the answers kept, in all."""
        self.hits = 0
        self.misses = 0
        self.stale_hits = 0
        self.refreshes = 0
        self.failures = 0
        self.kept_hits = 0
        """First reads answered by an answer kept by an earlier run (`KeptAnswers`)."""
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._jobs: list[Callable[[], Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._busy = False
        self._held = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        if background and enabled:
            self._thread = threading.Thread(target=self._run, name="unitecon-reads", daemon=True)
            self._thread.start()

    # -- reads -------------------------------------------------------------------------------
    def get(self, key: Hashable, compute: Callable[[], T], *, fresh: bool = False) -> Answer[T]:
        """The latest answer for `key`; computed here (once) only if there is none yet.

        `fresh`: the caller must see every commit made so far (HTTP `Cache-Control:
        no-cache`): a stale answer is recomputed here, not served.
        """
        if not self.enabled:
            return self._compute(compute)
        if fresh:
            return self._fresh(key, compute)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(compute)
                self._bound()
                mine = True
            else:
                entry.compute = compute  # the newest closure: same query, same answer
                mine = False
            entry.last_read = time.monotonic()
            if not getattr(self._local, "background", False):
                entry.last_request = entry.last_read
            self._entries.move_to_end(key)
            if entry.answer is not None:
                return self._served(entry.answer)
        if mine:
            return self._first(key, entry)
        entry.done.wait()  # someone else computes the first answer
        with self._lock:
            if entry.answer is not None:
                return self._served(entry.answer)
        return self.get(key, compute)  # theirs failed: this thread tries (and may fail)

    def _served(self, answer: Answer[T]) -> Answer[T]:
        """Count and mark an answer being served (the lock is held)."""
        fresh = answer.generation == self.generation()
        if fresh:
            self.hits += 1
        else:
            self.stale_hits += 1
            self._wake.notify()
        return answer if fresh == answer.fresh else _with_fresh(answer, fresh)

    def _fresh(self, key: Hashable, compute: Callable[[], T]) -> Answer[T]:
        with self._lock:
            entry = self._entries.get(key)
            a = entry.answer if entry is not None else None
        if a is not None and a.generation == self.generation():
            return self.get(key, compute)
        answer = self._compute(compute)
        with self._lock:
            self.misses += 1
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(compute)
                self._bound()
            elif entry.answer is not None and entry.answer.generation > answer.generation:
                return answer  # a newer one landed meanwhile; keep it, serve this one
            entry.compute = compute
            self._keep(key, entry, answer)
            entry.last_read = time.monotonic()
            entry.done.set()
        self._save(key, answer)
        return answer

    def _first(self, key: Hashable, entry: _Entry) -> Answer[Any]:
        kept = self._kept_answer(key)
        if kept is not None:
            with self._lock:
                self.kept_hits += 1
                self._keep(key, entry, kept)
                entry.done.set()
                served = self._served(kept)
            if kept.generation >= 0 or not getattr(self._local, "background", False):
                return served
            # The prewarm found an answer of an earlier ledger: readers get it at once
            # (marked stale) while this background thread works out the current one.
        with self._lock:
            self.misses += 1
        try:
            answer = self._compute(entry.compute)
        except BaseException:
            with self._lock:
                if self._entries.get(key) is entry and entry.answer is None:
                    self._drop(key)
                entry.done.set()
            raise
        with self._lock:
            self._keep(key, entry, answer)
            entry.done.set()
        self._save(key, answer)
        return answer

    def _compute(self, compute: Callable[[], T]) -> Answer[T]:
        generation, as_of = self.generation(), time.time()
        # Read before the computation: the answer holds at least what the stamp describes,
        # and a ledger still at this stamp later holds nothing more (`KeptAnswers`).
        stamp = self._stamp() if self.kept is not None else None
        value = compute()
        return Answer(value, generation, as_of, time.monotonic(), stamp=stamp)

    def _stamp(self) -> str | None:
        try:
            return self.stamp()
        except Exception:  # no stamp, no keeping: the answer is still served
            log.exception("could not read the ledger's stamp")
            return None

    # -- answers kept across restarts ------------------------------------------------------
    def _kept_answer(self, key: Hashable) -> Answer[Any] | None:
        """The answer kept for `key` by an earlier run, if it describes this ledger now."""
        if self.kept is None:
            return None
        found = self.kept.load(key)
        if found is None:
            return None
        data, as_of, stamp = found
        before = self.generation()
        now_stamp = self._stamp()
        age = max(0.0, time.time() - as_of)
        value = Packed(data[1:]) if data[:1] == b"P" else data[1:]
        if now_stamp is not None and stamp == now_stamp and self.generation() == before:
            return Answer(value, before, as_of, time.monotonic() - age, stamp=stamp)
        # The ledger or the catalog changed since. Recent enough (a deploy, a restart of a
        # service that receives spans): served at once as stale, generation -1 ("before
        # this service started"), and refreshed; else worked out from the events first.
        if age > self.kept_stale_s:
            return None
        return Answer(value, -1, as_of, time.monotonic() - age, fresh=False, stamp=stamp)

    def _save(self, key: Hashable, answer: Answer[Any]) -> None:
        """Keep `answer` beside the ledger: a packed model, or a body already rendered."""
        if self.kept is None or answer.stamp is None:
            return
        value = answer.value
        if isinstance(value, Packed):
            self.kept.save(key, b"P" + value.data, answer.as_of, answer.stamp)
        elif isinstance(value, bytes):
            self.kept.save(key, b"B" + value, answer.as_of, answer.stamp)

    # -- background --------------------------------------------------------------------------
    def prewarm(self, jobs: list[Callable[[], Any]]) -> None:
        """Run `jobs` (reads that fill the cache) on the background thread, in order."""
        with self._lock:
            self._jobs.extend(jobs)
            self._wake.notify()

    def changed(self, generation: int | None = None) -> None:
        """The ledger changed (a commit): wake the refresher."""
        with self._lock:
            self._wake.notify()

    def _due(self, now: float) -> tuple[Hashable, _Entry] | None:
        """The stale entry waiting longest, if any is due (the lock is held)."""
        current = self.generation()
        best: tuple[float, Hashable, _Entry] | None = None
        for key, entry in list(self._entries.items()):
            a = entry.answer
            if a is None:
                continue
            if now - entry.last_read > self.idle_s:
                self._drop(key)
                continue
            if entry.last_request is None or now - entry.last_request > self.active_s:
                continue  # nobody reads it lately: refreshed when someone does
            stale = a.generation != current or now - a.computed_at > self.refresh_s
            due = stale and now - a.computed_at >= self.min_interval_s and now >= entry.retry_at
            if due and (best is None or a.computed_at < best[0]):
                best = (a.computed_at, key, entry)
        return None if best is None else (best[1], best[2])

    def _next_wait(self, now: float) -> float:
        """Seconds until an entry may become due without a commit (the lock is held)."""
        waits = [60.0]
        current = self.generation()
        for entry in self._entries.values():
            a = entry.answer
            if a is None or entry.last_request is None:
                continue
            age = now - a.computed_at
            if a.generation != current:
                waits.append(max(self.min_interval_s - age, entry.retry_at - now))
            else:
                waits.append(self.refresh_s - age)
        return max(0.01, min(waits))

    def _take(self) -> Callable[[], None] | None:
        """The next piece of background work, waiting for one; None when closed."""
        with self._lock:
            while True:
                self._busy = False
                if self._closed:
                    return None
                if not self._held:
                    if self._jobs:
                        self._busy = True
                        return self._jobs.pop(0)
                    now = time.monotonic()
                    due = self._due(now)
                    if due is not None:
                        self._busy = True
                        key, entry = due
                        return lambda: self._refresh(key, entry)
                    self._wake.notify_all()  # idle: wake wait_idle()
                    self._wake.wait(self._next_wait(now))
                else:
                    self._wake.wait()

    def _run(self) -> None:
        self._local.background = True
        while (work := self._take()) is not None:
            try:
                work()
            except Obsolete:
                pass
            except Exception:
                with self._lock:
                    self.failures += 1
                    closing = self._closed
                if not closing:  # at shutdown the read is interrupted on purpose
                    log.exception("background read failed")

    def _refresh(self, key: Hashable, entry: _Entry) -> None:
        try:
            answer = self._compute(entry.compute)
        except Obsolete:
            with self._lock:
                if self._entries.get(key) is entry:
                    self._drop(key)
            return
        except Exception:
            with self._lock:  # keep the previous answer; try again after min_interval_s
                entry.retry_at = time.monotonic() + max(self.min_interval_s, 1.0)
            raise
        with self._lock:
            self.refreshes += 1
            if self._entries.get(key) is not entry:
                return
            self._keep(key, entry, answer)
        self._save(key, answer)

    def run_pending(self) -> int:
        """Run the due background work here, now (a cache without a thread; tests)."""
        done = 0
        self._local.background = True
        try:
            while True:
                with self._lock:
                    if self._jobs:
                        job: Callable[[], Any] = self._jobs.pop(0)
                    else:
                        due = self._due(time.monotonic())
                        if due is None:
                            return done
                        job = functools.partial(self._refresh, *due)
                try:
                    job()
                except Obsolete:
                    pass
                except Exception:
                    with self._lock:
                        self.failures += 1
                    log.exception("background read failed")
                done += 1
        finally:
            self._local.background = False

    # -- bounds, tests, shutdown -------------------------------------------------------------
    def _keep(self, key: Hashable, entry: _Entry, answer: Answer[Any]) -> None:
        """Set `entry`'s answer (the lock is held), within `max_bytes`."""
        size = size_of(answer.value) if self.max_bytes is not None else 0
        if self._entries.get(key) is entry:
            self.bytes += size - entry.size
        entry.answer, entry.size = answer, size
        self._bound()

    def _bound(self) -> None:
        while len(self._entries) > self.max_entries or (
            self.max_bytes is not None and self.bytes > self.max_bytes and self._entries
        ):
            _, gone = self._entries.popitem(last=False)
            self.bytes -= gone.size

    def _drop(self, key: Hashable) -> None:
        """Forget `key`'s entry (the lock is held)."""
        gone = self._entries.pop(key)
        self.bytes -= gone.size

    def __len__(self) -> int:
        return len(self._entries)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Pause background work while inside (tests; the work in progress finishes)."""
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
                self._wake.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until the background thread has nothing due (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                now = time.monotonic()
                idle = not self._busy and not self._jobs and self._due_peek(now) is None
                if idle or self._thread is None or now >= deadline:
                    return idle
                self._wake.notify_all()
                self._wake.wait(min(0.05, deadline - now))

    def _due_peek(self, now: float) -> Hashable | None:
        current = self.generation()
        for key, entry in self._entries.items():
            a = entry.answer
            if a is None or entry.last_request is None or now - entry.last_request > self.active_s:
                continue
            if a.generation != current or now - a.computed_at > self.refresh_s:
                return key
        return None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(5)


@dataclass(frozen=True)
class Packed:
    """An answer model kept packed (`pack`): the bytes are what the cache holds and what
    `size_of` counts, a small fraction of the memory of the model's Python objects."""

    data: bytes

    @property
    def nbytes(self) -> int:
        return len(self.data)


def pack(value: Any) -> Any:
    """`value` as the cache keeps it: a pydantic model (or a list of them) pickled and
    compressed (`Packed`), anything else as it is.

    A model's Python objects take far more memory than its content: the demo ledger's cost
    by day and model (628 rows) held 970 KiB as objects (tracemalloc), 98 kB as JSON, 16 kB
    packed; 256 kept answers as objects held up to ~250 MiB, and `max_bytes`, counted on
    the JSON, did not bound what was held (docs/benchmarks.md, "Service memory under
    dashboard reads"). Pickled, not JSON: the JSON rounds money (`answers.Model`), a pickle
    gives back the exact model. Packing costs ~10 ms when an answer is computed, unpacking
    ~2 ms a read. Only what this process packed, or what `KeptAnswers` kept for the same
    code beside the ledger, is ever unpacked."""
    models = value if isinstance(value, list) else [value]
    if not all(isinstance(m, BaseModel) for m in models):
        return value  # a list of models (e.g. the prices missing, maybe none) is packed too
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):  # a local class: kept as is
        return value
    return Packed(zlib.compress(data, 1))


def unpack(value: Any) -> Any:
    """The value `pack` kept (a new model for each reader)."""
    return pickle.loads(zlib.decompress(value.data)) if isinstance(value, Packed) else value


def size_of(value: Any) -> int:
    """About how many bytes `value` holds: an Arrow table's buffers, or its JSON size."""
    if isinstance(value, bytes | bytearray | str):
        return len(value)
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes
    dump = getattr(value, "model_dump_json", None)
    try:
        if callable(dump):
            return len(dump())
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        return sys.getsizeof(value)


def _with_fresh(answer: Answer[T], fresh: bool) -> Answer[T]:
    """A copy of `answer` marked fresh or not."""
    return dataclasses.replace(answer, fresh=fresh)


#: The file beside the ledger that keeps the service's answers across restarts.
KEPT_FILE = "answers.sqlite"


@functools.cache
def code_digest() -> str:
    """A digest of this unitecon's code: an answer is kept for the code that computed it
    only (a fix changes answers; a model's pickle fits its own class)."""
    import unitecon

    root = Path(unitecon.__file__).parent
    h = hashlib.sha256(unitecon.__version__.encode())
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


class KeptAnswers:
    """The service's answers, kept in a SQLite file beside the ledger, so that a service
    started again (a deploy, a restart, a crash) answers its first reads at once instead of
    computing each from the events (seconds to minutes on ten million events).

    A kept answer is the answer the read cache computed, packed (`pack`), with the ledger's
    `content_stamp` and the price catalog's version read before its computation started.
    It is served only for the same query (the key holds the project's fingerprint, the
    endpoint and its parameters) and by the same code (`code_digest`); it is current
    (fresh) only while the ledger and the catalog are what the stamp says. After any write
    (a late or re-sent event, a `forget`, a bill, the spans a live service received) or a
    new catalog it is an earlier state's answer: served at once *marked stale* and
    refreshed, as the in-memory cache serves an answer after a commit, if it is at most
    `ReadCache.kept_stale_s` old (a deploy, a restart); older, the first read computes it
    from the events. Nothing is derived from it: a finished answer, never an input.
    At most `max_rows` answers of `max_bytes` in all are kept (the least recently saved go
    first). A file that cannot be read or written only costs the keeping: the reads go on.
    """

    def __init__(
        self, path: Path | str, *, max_rows: int = 1024, max_bytes: int = 1024 * MIB
    ) -> None:
        self.path = Path(path)
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.scope = code_digest()
        self._saves = 0
        self._ok = True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(self._connect()) as con:
                con.execute(
                    "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, scope TEXT NOT "
                    "NULL, stamp TEXT NOT NULL, as_of REAL NOT NULL, saved_at REAL NOT NULL, "
                    "value BLOB NOT NULL)"
                )
                con.execute("DELETE FROM answers WHERE scope <> ?", [self.scope])
        except (sqlite3.Error, OSError) as e:
            self._failed("open", e)

    @classmethod
    def beside(cls, ledger_path: Path | str | None) -> KeptAnswers | None:
        """The store next to a ledger file; None for an in-memory ledger."""
        if ledger_path is None or str(ledger_path) == ":memory:":
            return None
        return cls(Path(ledger_path).parent / KEPT_FILE)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 10000")
        return con

    def _failed(self, what: str, e: Exception) -> None:
        if self._ok:
            log.warning("answers are not kept across restarts (%s %s: %s)", what, self.path, e)
        self._ok = False

    def _key(self, key: Hashable) -> str:
        return hashlib.sha256(f"{self.scope}\0{key!r}".encode()).hexdigest()

    def load(self, key: Hashable) -> tuple[bytes, float, str] | None:
        """The kept (packed value, as_of, stamp) of `key`, if any."""
        if not self._ok:
            return None
        try:
            with closing(self._connect()) as con:
                row = con.execute(
                    "SELECT value, as_of, stamp FROM answers WHERE key = ? AND scope = ?",
                    [self._key(key), self.scope],
                ).fetchone()
        except sqlite3.Error as e:
            self._failed("read", e)
            return None
        return None if row is None else (bytes(row[0]), float(row[1]), str(row[2]))

    def save(self, key: Hashable, data: bytes, as_of: float, stamp: str) -> None:
        """Keep `key`'s packed answer (replacing the one before); one larger than a quarter
        of `max_bytes` is not kept."""
        if not self._ok or len(data) > self.max_bytes // 4:
            return
        try:
            with closing(self._connect()) as con:
                con.execute(
                    "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                    [self._key(key), self.scope, stamp, as_of, time.time(), data],
                )
                self._saves += 1
                if self._saves % 16 == 0 or len(data) > MIB:
                    self._prune(con)
        except sqlite3.Error as e:
            self._failed("write", e)

    def _prune(self, con: sqlite3.Connection) -> None:
        """The most recently saved answers within `max_rows` and `max_bytes`; the rest go."""
        con.execute(
            "DELETE FROM answers WHERE key IN (SELECT key FROM (SELECT key, row_number() "
            "OVER w AS n, sum(length(value)) OVER w AS total FROM answers WINDOW w AS "
            "(ORDER BY saved_at DESC ROWS UNBOUNDED PRECEDING)) WHERE n > ? OR total > ?)",
            [self.max_rows, self.max_bytes],
        )

    def __len__(self) -> int:
        try:
            with closing(self._connect()) as con:
                row = con.execute("SELECT count(*) FROM answers").fetchone()
        except sqlite3.Error:
            return 0
        return int(row[0]) if row else 0
