"""The FastAPI application: receiver, read API and dashboard over one ledger.

The app owns the ledger's one write connection (DuckDB takes one writer per file) and hands
it to the `Writer` thread; every read runs on its own cursor of the same database, one per
worker thread, so reads run concurrently with each other and with the writer.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from fastapi import FastAPI

from unitecon import __version__, engine
from unitecon.config import Project
from unitecon.ledger.store import Ledger
from unitecon.server import errors
from unitecon.server.auth import KeyStore
from unitecon.server.body import MIB
from unitecon.server.cache import KeptAnswers, ReadCache
from unitecon.server.shared import SharedWork
from unitecon.server.writer import Writer


@dataclass(frozen=True)
class Settings:
    """Limits of the service."""

    max_body_bytes: int = 32 * MIB
    """Largest request body, on the wire and decompressed [bytes] (413 above)."""
    max_queue_rows: int = 200_000
    """Events waiting for the writer before ingest answers 503 + Retry-After [rows]."""
    max_batch_rows: int = 50_000
    """Most events the writer commits in one transaction [rows]."""
    checkpoint_wal_bytes: int = 16 * MIB
    """The writer checkpoints the ledger (moves the write-ahead log into the file) when the
    log has grown past this; see `Writer`. Behind the spool a checkpoint delays only the
    ledger, so it can be rare: 16 MiB (about 40,000 spans) costs a third of the CPU of 4 MiB
    checkpoints."""
    read_cache: bool = True
    """Keep each read's latest answer and refresh it in the background after commits
    (`cache.py`); False: every read computes its answer."""
    read_refresh_s: float = 300.0
    """Refresh an answer this old even without a commit (revenue CSVs may change) [s]."""
    read_min_interval_s: float = 1.0
    """Refresh one answer at most this often, however often the ledger commits [s]."""
    prewarm: bool = True
    """Compute the dashboard's default queries in the background at start."""
    keep_answers: bool = True
    """Keep answers beside the ledger (`answers.sqlite`, `cache.KeptAnswers`), so a service
    started again answers its first reads at once."""
    kept_stale_s: float = 3600.0
    """After writes, a kept answer at most this old is served marked stale (and refreshed
    at once) rather than computed first [s]; 0: only an unchanged ledger's answers."""
    decode_processes: int = 0
    """Worker processes that decode and validate OTLP bodies (0: threads of the server
    process decode, and the writer validates the queued requests together). Decoding is
    CPU-bound Python and validation a DuckDB query; processes let them use the cores the
    writer and the HTTP loop leave, off the server process's GIL."""
    ledger_threads: int = 0
    """DuckDB threads of the ledger (writes and reads), fixed; 0: adaptive (`EngineThreads`):
    every core while the ledger takes no writes, the cores the decoder processes leave (at
    least 1) from a commit until `wide_after_s` after the last. On 2 cores with 2 decoders
    that is 1 while OTLP traffic comes in: DuckDB's worker threads would otherwise run a
    checkpoint's compression beside the decoders at normal priority."""
    wide_after_s: float = 30.0
    """With `ledger_threads` 0: the ledger's DuckDB uses every core again once no commit
    has come for this long [s]."""
    commit_nice: int = 19
    """Nice value of the writer's committing thread (Linux), which writes behind the spool
    and checkpoints; 0 leaves it at the server's priority."""
    body_timeout_s: float = 60.0
    """A request body must arrive whole within this time, else 408 [s]."""
    keep_alive_s: float = 5.0
    """An idle keep-alive connection is closed after this long (uvicorn) [s]."""
    header_timeout_s: float = 10.0
    """A request's line and headers must arrive within this time of the connection opening
    or the request starting, else the connection is closed (`protocol.py`) [s]."""
    max_connections: int = 1000
    """Connections and requests served at once; past it uvicorn answers 503, so clients
    that hold connections open without finishing a request cannot take every slot."""
    shared_s: float = 60.0
    """The reads of a page share the margin and unit-metric rows of their window computed
    by one of them for this long (`shared.SharedWork`; same ledger generation and project
    only) [s]."""
    read_cache_bytes: int = 256 * MIB
    """The read cache keeps answers of at most this size in all (least recently read go
    first) [bytes]."""
    memory_limit: str = ""
    """DuckDB's memory limit for the ledger (e.g. `2GB`; empty: `$UNITECON_MEMORY_LIMIT`,
    else a quarter of the machine's memory, at least 1 GiB). DuckDB keeps data it has read
    in memory up to its limit, so without one the service grows with every new read until
    the machine's memory is spent; past the limit queries spill to disk."""
    release_memory: bool = True
    """After each read, hand the memory DuckDB's queries freed back to the system
    (`engine.release_memory`). DuckDB's allocator otherwise keeps freed pages
    resident (0.4-0.7 GiB on the demo ledger between reads, whatever the memory limit:
    docs/architecture.md, "Bounded memory")."""
    decode_threads: int = 1
    """Threads of the server process that decode OTLP bodies when there are no decoder
    processes (0: on the event loop itself). Decoding holds the GIL, so more threads than
    one add no speed, only switches that delay the writer's threads."""

    def duckdb_memory(self) -> str:
        """The ledger's DuckDB memory limit (`memory_limit`, or a quarter of the memory)."""
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            quarter = f"{max(1 << 30, total // 4) >> 20}MB"
        except (ValueError, OSError, AttributeError):
            quarter = "2GB"
        return engine.memory_limit(quarter, self.memory_limit)

    def duckdb_threads(self) -> int:
        """The ledger's DuckDB threads while it takes writes (`ledger_threads`, or the
        cores the decoders leave)."""
        if self.ledger_threads > 0:
            return self.ledger_threads
        return max(1, (os.cpu_count() or 1) - self.decode_processes)

    def idle_threads(self) -> int:
        """The ledger's DuckDB threads while it takes no writes (`ledger_threads`, or
        every core: idle decoder processes use no CPU)."""
        if self.ledger_threads > 0:
            return self.ledger_threads
        return os.cpu_count() or 1

    @staticmethod
    def default_decode_processes() -> int:
        """What `unitecon serve` uses: a decoder process per core, up to 4, where there is
        a second core; none on one core. On 2 cores, two processes decode a burst of
        requests side by side (one held the p99 at 250 ms, two at 150-175 ms, in
        `bench/server.py` at 6,000 spans/s)."""
        cores = os.cpu_count() or 1
        return min(cores, 4) if cores >= 2 else 0


class LedgerView(Ledger):
    """The read methods of `Ledger` on a cursor of the server's ledger (one per thread)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
        self.con = con
        self.path = path

    def close(self) -> None:
        self.con.close()


class EngineThreads:
    """The ledger's DuckDB threads (one setting for every cursor of the database): `busy`
    from a commit of the writer (`committed`, its `on_commit` hook, on its committing
    thread) until `wide_after_s` after the last, then `idle` again, set by the next read
    (`reading`, on the read's own cursor). A dashboard read on an idle service thus uses
    every core, and OTLP ingest keeps the cores its decoder processes need: DuckDB's worker
    threads (a checkpoint's compression, a read's parallel scans) run at normal priority
    beside them (docs/architecture.md, "The engine's threads")."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        busy: int,
        idle: int,
        wide_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._busy, self._idle, self._after = busy, idle, wide_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last = -math.inf
        """When the writer last committed (`clock()`)."""
        self.now = idle
        con.execute(f"SET threads = {idle}")

    def committed(self, con: duckdb.DuckDBPyConnection) -> None:
        """After a commit, on the writer's connection: `busy` threads. Lowering DuckDB's
        threads waits for the tasks its workers are running (a read's, briefly): the
        committer writes behind the spool, so no answer waits for it."""
        with self._lock:
            self._last = self._clock()
            if self.now != self._busy:
                con.execute(f"SET threads = {self._busy}")
                self.now = self._busy

    def reading(self, con: duckdb.DuckDBPyConnection) -> None:
        """Before a read, on its cursor: `idle` threads once no commit came for a while
        (raising them starts workers, it waits for nothing)."""
        if self.now == self._idle:
            return
        with self._lock:
            if self.now != self._idle and self._clock() - self._last >= self._after:
                con.execute(f"SET threads = {self._idle}")
                self.now = self._idle


class Reads:
    """Hands each worker thread its own read cursor of the ledger, and releases the memory
    the engine freed after each read (`reading`)."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        release_memory: bool = True,
        threads: EngineThreads | None = None,
    ) -> None:
        self._ledger = ledger
        self._threads = threads
        self._local = threading.local()
        self._views: list[LedgerView] = []
        self._lock = threading.Lock()
        self._release = release_memory
        self.releases = 0
        """How many times the engine's freed memory was handed back."""

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Around one read's computation: when it ends, the memory its queries freed goes
        back to the system (`engine.release_memory`), so the service's resident memory is
        what it holds, not the peak of its last reads. After every read, not only the last
        of those in flight: a busy service (requests beside the read cache's background
        refreshes) is seldom without a read running, and waiting for none kept 0.4-0.7 GiB
        resident (docs/benchmarks.md). Before it, the engine's threads are set for a
        read (`EngineThreads`)."""
        if self._threads is not None:
            self._threads.reading(self.view().con)
        try:
            yield
        finally:
            if self._release and engine.release_memory():
                with self._lock:
                    self.releases += 1

    def view(self) -> LedgerView:
        view: LedgerView | None = getattr(self._local, "view", None)
        if view is None:
            with self._lock:
                cur = self._ledger.con.cursor()
                cur.execute("SET TimeZone = 'UTC'")
                view = LedgerView(cur, self._ledger.path)
                self._views.append(view)
            self._local.view = view
        return view

    def interrupt(self) -> None:
        """Interrupt the queries running on every read cursor."""
        with self._lock:
            for v in self._views:
                v.con.interrupt()

    def close(self) -> None:
        with self._lock:
            for v in self._views:
                v.close()
            self._views.clear()


def _stamp(ledger: Ledger) -> str:
    """What an answer is computed from, besides the project and the code: the ledger's
    content and the price catalog in use (`KeptAnswers` keeps an answer while both stay)."""
    from unitecon.pricing.catalog import catalog_version

    cursor = ledger.con.cursor()
    try:
        return ledger.stamp(cursor) + " " + catalog_version()
    finally:
        cursor.close()


def warm_decoder() -> int:
    """Run in a decoder process at start: decode a sample OTLP request (loads the decoder's
    modules and runs its code paths once), so that the first real requests do not wait."""
    from unitecon.server.decode import decode_validated, sample_request

    decode_validated(sample_request(), "application/x-protobuf", "otlp-http")
    return os.getpid()


def _decoders(settings: Settings) -> Executor | None:
    """Where OTLP bodies are decoded: decoder processes (spawned: the server process has
    threads), or decoder threads, or None: on the event loop."""
    if settings.decode_processes > 0:
        return ProcessPoolExecutor(
            settings.decode_processes, mp_context=multiprocessing.get_context("spawn")
        )
    if settings.decode_threads > 0:
        return ThreadPoolExecutor(settings.decode_threads, thread_name_prefix="unitecon-decode")
    return None


def create_app(
    ledger_path: Path | str,
    project: Project | None = None,
    *,
    keys: KeyStore | Path | str | None = None,
    settings: Settings | None = None,
    config_path: Path | None = None,
) -> FastAPI:
    """The service over the ledger at `ledger_path`.

    `keys` is the API key store (default: `keys.sqlite` beside the ledger); `config_path`
    the project file `project` came from (CSV paths in it are relative to it). The ledger is
    opened for writing when the app starts (lifespan) and closed when it stops, after the
    writer has committed everything it acknowledged.
    """
    settings = settings or Settings()
    if isinstance(keys, KeyStore):
        store = keys
    else:
        store = KeyStore(keys) if keys is not None else KeyStore.beside(ledger_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = Ledger(ledger_path)
        threads = EngineThreads(
            ledger.con,
            settings.duckdb_threads(),
            settings.idle_threads(),
            settings.wide_after_s,
        )
        ledger.con.execute(f"SET memory_limit = '{settings.duckdb_memory()}'")
        writer = Writer(
            ledger,
            max_queue_rows=settings.max_queue_rows,
            max_batch_rows=settings.max_batch_rows,
            checkpoint_wal_bytes=settings.checkpoint_wal_bytes,
            commit_nice=settings.commit_nice,
        )
        writer.on_commit.append(lambda _generation: threads.committed(ledger.con))
        app.state.engine_threads = threads
        writer.start()
        app.state.decoders = _decoders(settings)
        if settings.decode_processes > 0:
            # Start the decoder processes now (spawning one and importing the decoder takes
            # over a second), not on the first requests, which would wait for them.
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                *(
                    loop.run_in_executor(app.state.decoders, warm_decoder)
                    for _ in range(settings.decode_processes)
                )
            )
        app.state.ledger = ledger
        app.state.writer = writer
        app.state.shared = SharedWork(ttl_s=settings.shared_s)
        app.state.reads = reads = Reads(
            ledger, release_memory=settings.release_memory, threads=threads
        )
        cache = ReadCache(
            lambda: writer.generation,
            enabled=settings.read_cache,
            refresh_s=settings.read_refresh_s,
            min_interval_s=settings.read_min_interval_s,
            max_bytes=settings.read_cache_bytes,
            kept=KeptAnswers.beside(ledger_path) if settings.keep_answers else None,
            stamp=lambda: _stamp(ledger),
            kept_stale_s=settings.kept_stale_s,
        )
        writer.on_commit.append(cache.changed)
        app.state.read_cache = cache
        if settings.prewarm:
            from unitecon.server.warm import dashboard_reads

            cache.prewarm(dashboard_reads(app))
        try:
            yield
        finally:
            if app.state.decoders is not None:
                app.state.decoders.shutdown(cancel_futures=True)
            reads.interrupt()  # a background read in progress on a big ledger: stop it
            cache.close()
            writer.stop()
            reads.close()
            ledger.close()

    app = FastAPI(
        title="unitecon",
        version=__version__,
        description=(
            "What every AI call, agent task, customer and feature costs and earns.\n\n"
            "Send OpenTelemetry GenAI spans to `POST /v1/traces` with an ingest key; read "
            "costs, unit metrics, tasks, margins, budgets and alerts under `/api/v1/` with a "
            "read key. Keys go in `Authorization: Bearer <key>`; create them with "
            "`unitecon keys create`. Money is a decimal string in US dollars."
        ),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = store
    app.state.project = project or Project()
    app.state.config_path = config_path
    errors.install(app)

    from unitecon.server import api, api_billing, api_governance, api_units, dashboard, otlp

    app.include_router(otlp.router)
    app.include_router(api.router)
    app.include_router(api_units.router)
    app.include_router(api_governance.router)
    app.include_router(api_billing.router)
    app.include_router(dashboard.router)
    return app
