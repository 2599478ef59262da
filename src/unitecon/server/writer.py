"""The single writer: every write of the service goes through one validator and one
committing thread, with the spool between them.

DuckDB takes one writer per file, and the ledger writes a chunk in one transaction. Request
handlers decode their body into a validated `Chunk` (`submit`) or, for OTLP, into candidate
rows not yet validated (`submit_candidates`). Two threads then work as a pipeline:

    queued requests --validator--> one validated batch --spool--> acknowledged
                                                          \--committer--> ledger

The validator takes what is queued (up to `max_batch_rows`) and validates all its candidates
in one prepared query (`decode.BatchValidator`: one query per batch, not per request);
requests decoded in decoder processes (`unitecon serve`'s default) arrive validated, and are
only gathered. It writes the batch to the spool (`ledger/spool.py`: an Arrow file, synced)
and then answers the batch's requests: an acknowledged span is on disk. The committer
writes each spooled batch to the ledger as one ingest (one transaction: group commit,
lineage named by the id chosen at spool time) and then removes it from the spool. After a
crash the spool is replayed when the ledger is next opened for writing
(`Ledger.replay_spool`); ingest is idempotent, so replaying a committed batch changes
nothing.

Why not answer after the ledger commit: DuckDB's checkpoint (moving the write-ahead log into
the file) blocks every commit while it runs, 40-100 ms most times and 400-730 ms about one
checkpoint in 16 on the events table. Answering after commit put those stalls into the
latency of every request waiting at the time (the p99). Behind the spool they only delay the
ledger, by the length of the stall. Reads that compute an answer first wait until the ledger
holds every batch acknowledged before they started (`caught_up`), so a client reads its own
writes.

An in-memory ledger (tests, `:memory:`) has no spool: requests are then answered after the
commit, and a failed write fails every request of its batch (nothing is acknowledged and
lost). With a spool, a failed ledger write is retried with backoff (the batch is safe on
disk, and stays there if the server stops first); a failed spool write fails the batch's
requests.

Checkpoints are the committer's: after a commit, once the log is past `checkpoint_wal_bytes`
(without a spool only when no batch is waiting, so that requests are answered first), and
DuckDB's own threshold is raised to `HARD_CHECKPOINT` as a backstop. Behind a spool the
committer thread runs at a low priority (`commit_nice`): on 2 cores a checkpoint (0.2-1.8 s
of CPU every 40,000 spans) otherwise takes a core from the decoders and the HTTP loop, and
the requests answered meanwhile wait for it.

The queue is bounded in rows, counted from submit until the ledger commit. A submit that
would overflow it raises `Overloaded` (503 with `Retry-After`) at once: a burst beyond
capacity is refused, never silently dropped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from unitecon.ledger.records import Chunk, Rejected
from unitecon.ledger.spool import Spool, Spooled, spool_dir
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
    """The requests still waiting for an answer (none once the batch is spooled)."""
    rows: int
    """Queued rows the batch holds (released from the queue at its commit)."""
    requests: int
    """Requests in the batch (its jobs, answered or not)."""
    entry: Spooled
    own: dict[int, list[Rejected]]


@dataclass
class _Files:
    """Files to ingest on the committer thread, in order after what was queued before."""

    paths: list[tuple[str, str | None]]
    """(path, format or None to detect it)."""
    done: concurrent.futures.Future[Any]
    write: Callable[[Any], Any] | None = None
    """Instead of files: a write of its own on the ledger (`Writer.write`)."""


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
    checkpoint_log: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=256))
    """When each of the last 256 checkpoints started (`time.perf_counter()`) and how long
    it took [s]."""
    spooled: int = 0
    """Batches written to the spool (acknowledged before their commit)."""
    spool_s: float = 0.0
    """Time the spool writes took [s]."""
    spool_max_s: float = 0.0
    """The longest spool write [s]."""
    commit_retries: int = 0
    """Ledger writes of spooled batches that failed and were tried again."""
    replayed: int = 0
    """Spooled batches found at start and written to the ledger (after a crash)."""
    extra: dict[str, int] = field(default_factory=dict)


#: DuckDB's own checkpoint threshold while the writer manages checkpoints.
HARD_CHECKPOINT = "256MB"
#: Longest wait between two tries of a failed ledger write of a spooled batch [s].
MAX_RETRY_WAIT_S = 5.0


class Writer:
    """Owns the ledger's write connection; one thread validates and spools batches of queued
    requests, another commits them (and checkpoints)."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        source: str = "otlp-http",
        max_queue_rows: int = 200_000,
        max_batch_rows: int = 50_000,
        checkpoint_wal_bytes: int = 16 << 20,
        spool: bool = True,
        commit_nice: int = 19,
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
        self._ready: queue.SimpleQueue[_Batch | _Files | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._queued_rows = 0
        self._closing = False
        self._validator = BatchValidator(source)
        ledger.track_ids()  # the only writer while it runs: stored ids checked in memory
        self.spool = Spool(spool_dir(ledger.path)) if spool and ledger.path is not None else None
        """Where acknowledged batches wait for the ledger (None: answer after the commit)."""
        self._seq = self.spool.next_seq() if self.spool is not None else 1
        self._handed = 0
        """Sequence number of the last batch handed to the committer."""
        self._committed = 0
        """Sequence number of the last batch the committer is done with."""
        self._progress = threading.Condition()
        self.checkpoint_wal_bytes = checkpoint_wal_bytes
        self.commit_nice = commit_nice
        """Nice value of the committer thread when there is a spool (the commit is then off
        the answer's path, and a checkpoint should take only the CPU that answering leaves)."""
        self._wal = Path(f"{ledger.path}.wal") if ledger.path is not None else None
        if self._wal is not None:
            ledger.con.execute(f"SET checkpoint_threshold = '{HARD_CHECKPOINT}'")
        self._threads = [
            threading.Thread(target=self._validate_loop, name="unitecon-validator", daemon=True),
            threading.Thread(target=self._commit_loop, name="unitecon-writer", daemon=True),
        ]

    def start(self) -> None:
        """Write what a previous run left in the spool, warm up, then start the threads."""
        self.replay()
        self._warm()
        for t in self._threads:
            t.start()

    def replay(self) -> int:
        """Write the spooled batches of a run that stopped before committing them (the
        ledger did so when it was opened; this catches a spool filled since). Returns how
        many batches were written."""
        if self.spool is None:
            return 0
        written = self.ledger.replay_spool()
        if written:
            log.warning("wrote %d acknowledged batches left in the spool", written)
            self.generation += 1
        self.stats.replayed += written
        return written

    def _warm(self) -> None:
        """Decode, validate and serialize a sample request once (nothing is written): the
        first run of the prepared validation and of these code paths costs several times a
        later one, and would fall on the first requests."""
        import io

        from unitecon.server.decode import decode_otlp, sample_request

        sample = decode_otlp(sample_request(), "application/x-protobuf", self.source)
        chunk = self._validator.validate([sample.candidates]).chunk
        with pa.ipc.new_stream(io.BytesIO(), chunk.events.schema) as w:
            w.write_table(chunk.events)

    def stop(self, timeout: float = 30.0) -> None:
        """Refuse new work, write what is queued, and stop the threads."""
        with self._lock:
            self._closing = True
        self._queue.put(None)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def caught_up(self, timeout: float = 10.0) -> bool:
        """Wait until the ledger holds every batch acknowledged so far (read your writes).
        False if that took longer than `timeout` seconds."""
        with self._progress:
            target = self._handed
            return self._progress.wait_for(lambda: self._committed >= target, timeout)

    async def submit(self, chunk: Chunk) -> Written:
        """Queue `chunk` and wait until it is durable. Raises Overloaded when full."""
        return await self._submit(chunk, None, chunk.events.num_rows + len(chunk.rejected))

    async def submit_candidates(self, candidates: pa.Table) -> Written:
        """Queue candidate rows (`decode.decode_otlp`): validated with the batch, then
        made durable. Raises Overloaded when full."""
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
        rows = sum(j.rows for j in jobs)
        try:
            batch = self._batch(jobs, rows)
        except Exception as e:  # the whole batch failed: nobody is acknowledged
            self._failed(jobs, rows, e, "validation")
            return
        if self.spool is not None:
            started = time.perf_counter()
            try:
                self.spool.write(batch.entry)
            except Exception as e:  # not durable: nobody is acknowledged
                self._failed(jobs, rows, e, "spool write")
                return
            took = time.perf_counter() - started
            self.stats.spooled += 1
            self.stats.spool_s += took
            self.stats.spool_max_s = max(self.stats.spool_max_s, took)
        with self._progress:
            self._handed = batch.entry.seq
        if self.spool is not None:  # durable: answer now, commit behind
            self._answer(batch.jobs, batch.entry.ingest_id, None, batch.own)
            batch.jobs = []
        self._ready.put(batch)

    def _batch(self, jobs: list[_Job], rows: int) -> _Batch:
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
            chunk = chunks[0]
        else:
            events = pa.concat_tables([c.events for c in chunks])
            rejected: list[Rejected] = [r for c in chunks for r in c.rejected]
            chunk = Chunk(events, rejected, rows_read=events.num_rows + len(rejected))
        ingest_id = uuid.uuid4().hex
        entry = Spooled(self._seq, ingest_id, f"{self.source}/{ingest_id[:16]}", chunk)
        self._seq += 1
        return _Batch(jobs, rows, len(jobs), entry, own)

    # -- the committer thread ----------------------------------------------------------
    def _commit_loop(self) -> None:
        if self.commit_nice and self.spool is not None:
            try:  # this thread only (a Linux thread is a task of its own)
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.commit_nice)
            except (OSError, AttributeError):  # not permitted, or not Linux: run as is
                log.info("could not lower the committer's priority")
        while (batch := self._ready.get()) is not None:
            if isinstance(batch, _Files):
                self._ingest_files(batch)
                continue
            self._write(batch)
            if self.spool is not None or (self._ready.empty() and self._queue.empty()):
                self._checkpoint()

    def ingest_files(
        self, paths: list[tuple[str, str | None]]
    ) -> concurrent.futures.Future[list[Any]]:
        """Ingest files with the ledger's own file path (`Ledger.ingest`: lineage, quarantine
        with `file:line`, idempotent), on the committer thread, after every batch handed
        over before; the future holds each file's `IngestResult`. For `unitecon ingest` while
        the service holds the ledger."""
        with self._lock:
            if self._closing:
                raise Unavailable("The server is shutting down; retry against the new one.")
        done: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
        self._ready.put(_Files(paths, done))
        return done

    def write(self, fn: Callable[[Any], Any]) -> concurrent.futures.Future[Any]:
        """Run `fn(ledger)` on the committer thread, after every batch handed over before,
        as one more commit (readers see it, the read cache refreshes); the future holds its
        result. For the commands that write the ledger while the service holds it
        (`unitecon forget`, `bills import`)."""
        with self._lock:
            if self._closing:
                raise Unavailable("The server is shutting down; retry against the new one.")
        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._ready.put(_Files([], done, fn))
        return done

    def _ingest_files(self, job: _Files) -> None:
        from unitecon.ingest import detect_format, read_path
        from unitecon.ledger.store import sha256_file

        if not job.done.set_running_or_notify_cancel():
            return
        if job.write is not None:
            try:
                got = job.write(self.ledger)
                self._after_commit()
                job.done.set_result(got)
            except BaseException as e:  # handed to the request that asked
                job.done.set_exception(e)
            return
        try:
            out = []
            for path, fmt in job.paths:
                kind = fmt or detect_format(Path(path))
                out.append(
                    self.ledger.ingest(
                        path, read_path(Path(path), kind), sha256=sha256_file(Path(path)), fmt=kind
                    )
                )
                self._after_commit()
            job.done.set_result(out)
        except BaseException as e:  # handed to the request that asked
            job.done.set_exception(e)

    def _after_commit(self) -> None:
        self.generation += 1
        for hook in self.on_commit:
            try:
                hook(self.generation)
            except Exception:
                log.exception("on_commit hook failed")

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
        took = time.perf_counter() - started
        self.stats.checkpoints += 1
        self.stats.checkpoint_s += took
        self.stats.checkpoint_log.append((round(started, 2), round(took, 3)))

    def _write(self, b: _Batch) -> None:
        e = b.entry
        wait = 0.1
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                res = self.ledger.ingest(
                    e.source, [e.chunk], fmt=self.source, ingest_id=e.ingest_id
                )
                break
            except Exception as err:
                if b.jobs or self.spool is None:  # not acknowledged yet: the requests fail
                    self._failed(b.jobs, b.rows, err, "ledger write", e.seq)
                    return
                # Acknowledged and safe in the spool: try again (the write was rolled back).
                log.exception("ledger write of spooled batch %s failed; retrying", e.ingest_id)
                self.stats.commit_retries += 1
                self.stats.last_error = f"{type(err).__name__}: {err}"
                if self._closing:
                    return  # stopping: it stays in the spool, written at the next open
                time.sleep(wait)
                wait = min(wait * 2, MAX_RETRY_WAIT_S)
        if self.spool is not None:
            self.spool.remove(e)
        self.stats.batches += 1
        self.stats.rows_written += e.chunk.events.num_rows
        self.stats.requests_written += b.requests
        self.stats.busy_s += time.perf_counter() - started
        self.stats.commit_cpu_s += time.thread_time() - cpu
        self.last_ingest_id = res.ingest_id
        self.generation += 1
        self._release(b.rows, e.seq)
        self._answer(b.jobs, res.ingest_id, None, b.own)
        for hook in self.on_commit:
            try:
                hook(self.generation)
            except Exception:  # a listener's bug must not stop the writes
                log.exception("on_commit hook failed")

    def _failed(
        self, jobs: list[_Job], rows: int, e: Exception, what: str, seq: int | None = None
    ) -> None:
        log.exception("%s failed for %d requests", what, len(jobs))
        self.stats.failed += len(jobs)
        self.stats.last_error = f"{type(e).__name__}: {e}"
        self._release(rows, seq)
        self._answer(
            jobs, None, Unavailable(f"The {what} failed ({type(e).__name__}); retry later.")
        )

    def _release(self, rows: int, seq: int | None) -> None:
        """`rows` leave the queue; the batch `seq` (if any) is done."""
        with self._lock:
            self._queued_rows -= rows
            self.stats.queue_rows = self._queued_rows
        if seq is not None:
            with self._progress:
                self._committed = max(self._committed, seq)
                self._progress.notify_all()

    def _answer(
        self,
        jobs: list[_Job],
        ingest_id: str | None,
        err: Exception | None,
        own: dict[int, list[Rejected]] | None = None,
    ) -> None:
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
