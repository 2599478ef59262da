"""The single writer: every write of the service goes through one thread.

DuckDB takes one writer per file, and the ledger writes a chunk in one transaction. Request
handlers decode their body into a validated `Chunk` (`submit`) or, for OTLP, into candidate
rows not yet validated (`submit_candidates`); the writer thread takes what is queued (up to
`max_batch_rows`), validates all the candidates in one query (`decode.BatchValidator`: the
query's cost is mostly fixed, so one per batch instead of one per request), writes the batch
as one ledger ingest (one transaction: group commit), and only then resolves each request's
future. So a request is acknowledged only
after its spans are committed, and a failed write fails every request in it (nothing is
acknowledged and lost).

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
from dataclasses import dataclass, field

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
    validate_s: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)


class Writer:
    """Owns the ledger's write connection; one thread writes batches of queued chunks."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        source: str = "otlp-http",
        max_queue_rows: int = 200_000,
        max_batch_rows: int = 50_000,
    ) -> None:
        self.ledger = ledger
        self.source = source
        self.max_queue_rows = max_queue_rows
        self.max_batch_rows = max_batch_rows
        self.stats = WriterStats()
        self.generation = 0
        """Commits so far: changes whenever the ledger does (read caches key on it)."""
        self.last_ingest_id: str | None = None
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._queued_rows = 0
        self._closing = False
        self._validator = BatchValidator(source)
        self._thread = threading.Thread(target=self._run, name="unitecon-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Refuse new work, write what is queued, and stop the thread."""
        with self._lock:
            self._closing = True
        self._queue.put(None)
        self._thread.join(timeout)

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

    # -- the writer thread -----------------------------------------------------------
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

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._validator.close()

    def _loop(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            jobs, stop = self._take_batch(first)
            self._write(jobs)
        while True:  # drain what was queued before stop() (submit refuses new work)
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                self._write([job])

    def _batch(self, jobs: list[_Job]) -> tuple[Chunk, dict[int, list[Rejected]]]:
        """One chunk of the jobs' events; candidates validated together in one query."""
        chunks = [j.chunk for j in jobs if j.chunk is not None]
        cand = [(j, j.candidates) for j in jobs if j.candidates is not None]
        own: dict[int, list[Rejected]] = {}
        if cand:
            started = time.perf_counter()
            done = self._validator.validate([t for _, t in cand])
            self.stats.validate_s += time.perf_counter() - started
            chunks.append(done.chunk)
            own = {id(j): r for (j, _), r in zip(cand, done.rejected, strict=True)}
        if len(chunks) == 1:
            return chunks[0], own
        events = pa.concat_tables([c.events for c in chunks])
        rejected: list[Rejected] = [r for c in chunks for r in c.rejected]
        return Chunk(events, rejected, rows_read=events.num_rows + len(rejected)), own

    def _write(self, jobs: list[_Job]) -> None:
        started = time.perf_counter()
        try:
            batch, own = self._batch(jobs)
            res = self.ledger.ingest(
                f"{self.source}/{uuid.uuid4().hex[:16]}", [batch], fmt=self.source
            )
        except Exception as e:  # the whole batch failed: nobody is acknowledged
            log.exception("ledger write failed for %d requests", len(jobs))
            self.stats.failed += len(jobs)
            self.stats.last_error = f"{type(e).__name__}: {e}"
            err = Unavailable(f"The ledger write failed ({type(e).__name__}); retry later.")
            self._settle(jobs, None, err)
            return
        self.stats.batches += 1
        self.stats.rows_written += batch.events.num_rows
        self.stats.requests_written += len(jobs)
        self.stats.busy_s += time.perf_counter() - started
        self.last_ingest_id = res.ingest_id
        self.generation += 1
        self._settle(jobs, res.ingest_id, None, own)

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
