"""The single writer: every write of the service goes through one committing thread.

DuckDB takes one writer per file, and the ledger writes a chunk in one transaction. Request
handlers decode their body into a validated `Chunk` (`submit`) or, for OTLP, into candidate
rows not yet validated (`submit_candidates`). Two threads then work as a pipeline:

    queued requests --validator thread--> one validated batch --committer thread--> ledger

The validator takes what is queued (up to `max_batch_rows`) and validates all its candidates
in one prepared query (`decode.BatchValidator`: one query per batch, not per request). The
committer writes each validated batch as one ledger ingest (one transaction: group commit)
and only then resolves each request's future. The two stages overlap (both spend most of
their time inside DuckDB, which releases the GIL): while batch N is being committed, batch
N+1 is validated. The hand-over holds one batch, so a validated batch never waits behind
more than one commit, and requests that arrive meanwhile join the next, larger batch.

So a request is acknowledged only after its spans are committed, and a failed validation or
write fails every request of its batch (nothing is acknowledged and lost).

Checkpoints are the writer's too. DuckDB moves its write-ahead log into the file when the
log passes `checkpoint_threshold`, inside the commit that crossed it, and that checkpoint
blocks every commit meanwhile (tens to hundreds of ms). Left to itself it would run inside
some request's commit, under load. The committer instead checkpoints after a commit, once
the log is past `checkpoint_wal_bytes` and no batch is waiting (the requests it holds are
answered first), and DuckDB's own threshold is raised to `HARD_CHECKPOINT` as a backstop for
a writer never idle.

The queue is bounded in rows. A submit that would overflow it raises `Overloaded` (503 with
`Retry-After`) at once: a burst beyond capacity is refused, never silently dropped.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from unitecon.ingest.base import Chunk, Rejected
from unitecon.ledger.store import Ledger
from unitecon.server.decode import BatchValidator
from unitecon.server.errors import Overloaded, Unavailable

log = logging.getLogger("unitecon.server")


@dataclass(frozen=True)
class Written:
    """What one request's chunk became in the ledger."""

    rows: int
    rejected: int
    ingest_id: str
    rejections: list[Rejected] = field(default_factory=list)
    """The request's rejected records (quarantined), for the OTLP partial-success message."""


@dataclass
class _Job:
    chunk: Chunk | None
    candidates: pa.Table | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Written]
    rows: int


@dataclass
class _Batch:
    """Jobs validated together, ready to commit."""

    jobs: list[_Job]
    chunk: Chunk
    own: dict[int, list[Rejected]]


@dataclass
class WriterStats:
    """Counters, for the health endpoint and the benchmark."""

    batches: int = 0
    rows_written: int = 0
    requests_written: int = 0
    refused: int = 0
    failed: int = 0
    last_error: str | None = None
    queue_rows: int = 0
    busy_s: float = 0.0
    """Time the committer spent writing [s]."""
    validate_s: float = 0.0
    """Time the validator spent validating [s]."""
    commit_cpu_s: float = 0.0
    """CPU time of the committer thread while writing [s] (below busy_s: waits for the
    disk, the GIL or a core)."""
    validate_cpu_s: float = 0.0
    """CPU time of the validator thread while validating [s]."""
    checkpoints: int = 0
    """Checkpoints the committer ran between batches."""
    checkpoint_s: float = 0.0
    """Time they took [s]."""
    extra: dict[str, int] = field(default_factory=dict)


#: DuckDB's own checkpoint threshold while the writer manages checkpoints.
HARD_CHECKPOINT = "256MB"


class Writer:
    """Owns the ledger's write connection; one thread validates batches of queued requests,
    another commits them (and checkpoints when idle)."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        source: str = "otlp-http",
        max_queue_rows: int = 200_000,
        max_batch_rows: int = 50_000,
        checkpoint_wal_bytes: int = 4 << 20,
    ) -> None:
        self.ledger = ledger
        self.source = source
        self.max_queue_rows = max_queue_rows
        self.max_batch_rows = max_batch_rows
        self.stats = WriterStats()
        self.generation = 0
        """Commits so far: changes whenever the ledger does (read caches key on it)."""
        self.last_ingest_id: str | None = None
        self.on_commit: list[Callable[[int], None]] = []
        """Called on the committer thread with the new generation after each commit."""
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._ready: queue.Queue[_Batch | None] = queue.Queue(maxsize=1)
        self._lock = threading.Lock()
        self._queued_rows = 0
        self._closing = False
        self._validator = BatchValidator(source)
        self.checkpoint_wal_bytes = checkpoint_wal_bytes
        self._wal = Path(f"{ledger.path}.wal") if ledger.path is not None else None
        if self._wal is not None:
            ledger.con.execute(f"SET checkpoint_threshold = '{HARD_CHECKPOINT}'")
        self._threads = [
            threading.Thread(target=self._validate_loop, name="unitecon-validator", daemon=True),
            threading.Thread(target=self._commit_loop, name="unitecon-writer", daemon=True),
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Refuse new work, write what is queued, and stop the threads."""
        with self._lock:
            self._closing = True
        self._queue.put(None)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    async def submit(self, chunk: Chunk) -> Written:
        """Queue `chunk` and wait until it is committed. Raises Overloaded when full."""
        return await self._submit(chunk, None, chunk.events.num_rows + len(chunk.rejected))

    async def submit_candidates(self, candidates: pa.Table) -> Written:
        """Queue candidate rows (`decode.decode_otlp`): validated with the batch, then
        committed. Raises Overloaded when full."""
        return await self._submit(None, candidates, candidates.num_rows)

    async def _submit(self, chunk: Chunk | None, cand: pa.Table | None, rows: int) -> Written:
        with self._lock:
            if self._closing:
                raise Unavailable("The server is shutting down; retry against the new one.")
            if self._queued_rows and self._queued_rows + rows > self.max_queue_rows:
                self.stats.refused += 1
                raise Overloaded(
                    f"The ingest queue is full ({self._queued_rows:,} spans waiting to be "
                    "written); retry after the Retry-After delay.",
                    retry_after_s=1,
                )
            self._queued_rows += rows
            self.stats.queue_rows = self._queued_rows
        loop = asyncio.get_running_loop()
        job = _Job(chunk, cand, loop, loop.create_future(), rows)
        self._queue.put(job)
        return await job.future

    # -- the validator thread ----------------------------------------------------------
    def _take_batch(self, first: _Job) -> tuple[list[_Job], bool]:
        jobs, rows, stop = [first], first.rows, False
        while rows < self.max_batch_rows:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                stop = True
                break
            jobs.append(nxt)
            rows += nxt.rows
        return jobs, stop

    def _validate_loop(self) -> None:
        try:
            stop = False
            while not stop:
                first = self._queue.get()
                if first is None:
                    break
                jobs, stop = self._take_batch(first)
                self._hand_over(jobs)
            while True:  # what was queued before stop() (submit refuses new work)
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is not None:
                    self._hand_over([job])
        finally:
            self._validator.close()
            self._ready.put(None)

    def _hand_over(self, jobs: list[_Job]) -> None:
        try:
            batch = self._batch(jobs)
        except Exception as e:  # the whole batch failed: nobody is acknowledged
            self._failed(jobs, e, "validation")
            return
        self._ready.put(batch)  # waits while the committer still holds the previous one

    def _batch(self, jobs: list[_Job]) -> _Batch:
        """One chunk of the jobs' events; candidates validated together in one query."""
        chunks = [j.chunk for j in jobs if j.chunk is not None]
        cand = [(j, j.candidates) for j in jobs if j.candidates is not None]
        own: dict[int, list[Rejected]] = {}
        if cand:
            started, cpu = time.perf_counter(), time.thread_time()
            done = self._validator.validate([t for _, t in cand])
            self.stats.validate_s += time.perf_counter() - started
            self.stats.validate_cpu_s += time.thread_time() - cpu
            chunks.append(done.chunk)
            own = {id(j): r for (j, _), r in zip(cand, done.rejected, strict=True)}
        if len(chunks) == 1:
            return _Batch(jobs, chunks[0], own)
        events = pa.concat_tables([c.events for c in chunks])
        rejected: list[Rejected] = [r for c in chunks for r in c.rejected]
        chunk = Chunk(events, rejected, rows_read=events.num_rows + len(rejected))
        return _Batch(jobs, chunk, own)

    # -- the committer thread ----------------------------------------------------------
    def _commit_loop(self) -> None:
        while (batch := self._ready.get()) is not None:
            self._write(batch)
            if self._ready.empty() and self._queue.empty():
                self._checkpoint()

    def _checkpoint(self) -> None:
        """Checkpoint the ledger if its write-ahead log is past `checkpoint_wal_bytes`."""
        try:
            if self._wal is None or self._wal.stat().st_size < self.checkpoint_wal_bytes:
                return
        except FileNotFoundError:
            return
        started = time.perf_counter()
        try:
            self.ledger.con.execute("CHECKPOINT")
        except Exception:  # it is retried after the next commit; the data is in the log
            log.exception("checkpoint failed")
            return
        self.stats.checkpoints += 1
        self.stats.checkpoint_s += time.perf_counter() - started

    def _write(self, b: _Batch) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            res = self.ledger.ingest(
                f"{self.source}/{uuid.uuid4().hex[:16]}", [b.chunk], fmt=self.source
            )
        except Exception as e:  # the whole batch failed: nobody is acknowledged
            self._failed(b.jobs, e, "ledger write")
            return
        self.stats.batches += 1
        self.stats.rows_written += b.chunk.events.num_rows
        self.stats.requests_written += len(b.jobs)
        self.stats.busy_s += time.perf_counter() - started
        self.stats.commit_cpu_s += time.thread_time() - cpu
        self.last_ingest_id = res.ingest_id
        self.generation += 1
        self._settle(b.jobs, res.ingest_id, None, b.own)
        for hook in self.on_commit:
            try:
                hook(self.generation)
            except Exception:  # a listener's bug must not stop the writes
                log.exception("on_commit hook failed")

    def _failed(self, jobs: list[_Job], e: Exception, what: str) -> None:
        log.exception("%s failed for %d requests", what, len(jobs))
        self.stats.failed += len(jobs)
        self.stats.last_error = f"{type(e).__name__}: {e}"
        err = Unavailable(f"The {what} failed ({type(e).__name__}); retry later.")
        self._settle(jobs, None, err)

    def _settle(
        self,
        jobs: list[_Job],
        ingest_id: str | None,
        err: Exception | None,
        own: dict[int, list[Rejected]] | None = None,
    ) -> None:
        with self._lock:
            self._queued_rows -= sum(j.rows for j in jobs)
            self.stats.queue_rows = self._queued_rows
        for j in jobs:
            if err is not None:
                j.loop.call_soon_threadsafe(_fail, j.future, err)
            else:
                j.loop.call_soon_threadsafe(_succeed, j.future, _written(j, ingest_id, own))


def _written(job: _Job, ingest_id: str | None, own: dict[int, list[Rejected]] | None) -> Written:
    if job.chunk is not None:
        c = job.chunk
        return Written(c.events.num_rows, len(c.rejected), ingest_id or "", c.rejected)
    rejected = (own or {}).get(id(job), [])
    return Written(job.rows - len(rejected), len(rejected), ingest_id or "", rejected)


def _succeed(fut: asyncio.Future[Written], value: Written) -> None:
    if not fut.done():
        fut.set_result(value)


def _fail(fut: asyncio.Future[Written], err: Exception) -> None:
    if not fut.done():
        fut.set_exception(err)
