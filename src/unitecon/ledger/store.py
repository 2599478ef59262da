"""The ledger store: a DuckDB file under `$UNITECON_HOME` (default `./.unitecon/`).

Usage is stored; cost is derived at query time by the pricing stage. Ingest is
idempotent by `event_id` (an anti-join against what is stored), transactional per chunk,
and records lineage in `ingests`. Rejected records go to `quarantine` with their location
and reason; re-ingesting a source replaces that source's quarantine, so fixing the file and
re-ingesting clears it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from unitecon import engine
from unitecon.errors import LedgerError, UniteconError
from unitecon.ledger import migrations, operational
from unitecon.ledger.known import KnownIds
from unitecon.ledger.records import Chunk, DirectRead, HasDirect, Rejected, Scanned
from unitecon.ledger.schema import EVENT_SCHEMA, SOURCE_ROW, source_sql
from unitecon.ledger.traces import resolve as resolve_traces
from unitecon.ledger.traces import touched_traces

DB_NAME = "ledger.duckdb"
#: The ingests this process is writing (their lineage rows are `running` and live).
_LIVE: set[str] = set()
_LIVE_LOCK = threading.Lock()
#: How often a direct read (`Ledger.ingest`) reports DuckDB's progress.
PROGRESS_SECONDS = 0.25
#: DuckDB's memory limit during a direct read (`Ledger._read_direct`): with the Python
#: process around it, `unitecon ingest` stays under 2 GB at any file size (docs/benchmarks.md).
DIRECT_MEMORY = engine.COMMAND_MEMORY
#: The most ids whose hashes a direct read's distinct-id check sorts in memory (8 bytes
#: each: 128 MiB beside DuckDB's own limit; `Ledger._distinct_ids`).
SORTED_IDS = 1 << 24


def home() -> Path:
    """The data directory: `$UNITECON_HOME`, default `./.unitecon`."""
    return Path(os.environ.get("UNITECON_HOME", ".unitecon"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class IngestResult:
    """Lineage of one ingest of one source."""

    ingest_id: str
    source: str
    sha256: str | None
    format: str | None
    rows_read: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    #: spans of a response already priced through another span (`traces.py`), net
    merged: int = 0
    errors: list[Rejected] = field(default_factory=list)  # the first few, for display
    #: read by the ledger in one statement (`DirectRead`), not chunk by chunk
    direct: bool = False
    #: records whose event_id is stored with different content (quarantined, not stored)
    conflicts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingest_id": self.ingest_id,
            "source": self.source,
            "sha256": self.sha256,
            "format": self.format,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "conflicts": self.conflicts,
            "merged": self.merged,
            "direct": self.direct,
            "first_errors": [str(e) for e in self.errors],
        }


def _order(r: Rejected) -> tuple[str, int]:
    head, _, tail = r.location.rpartition(":")
    return (head, int(tail)) if tail.isdigit() else (r.location, 0)


def _first(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> int:
    """The first value of the first row of a query that gives one number."""
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


@contextlib.contextmanager
def _one_thread(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB on one thread for a statement: a distinct count over the rows a transaction
    has not committed yet (scanned by one thread) costs 2.5x the CPU on two threads and
    takes no less wall time (5M ids: 0.6 s CPU on one thread, 1.6 s on two; docs/
    benchmarks.md, "Session 11"). The setting is the database's: for the command line's
    one connection (the service never reads a file directly)."""
    row = con.execute("SELECT current_setting('threads')").fetchone()
    threads = int(row[0]) if row else 0
    if threads <= 1:
        yield
        return
    con.execute("SET threads = 1")
    try:
        yield
    finally:
        con.execute(f"SET threads = {threads}")


def read_ahead(chunks: Iterable[Chunk]) -> Iterator[Chunk]:
    """The chunks of a reader (an iterator) with the next one read in a background thread
    while the caller writes the current one; a list or tuple is passed through as is.

    At most one chunk waits ready. An error of the reader is raised here, in the caller's
    thread; when the caller stops early (an error while writing), the reader is stopped
    after the chunk it is reading.
    """
    if isinstance(chunks, list | tuple):
        yield from chunks
        return
    ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(("chunk", chunk)):
                    return
            put(("done", None))
        except BaseException as e:  # handed to the caller's thread
            put(("error", e))

    worker = threading.Thread(target=produce, name="unitecon-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = ready.get()
            if kind == "done":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


#: What `content_stamp` reads: every write of the ledger adds or changes a lineage row
#: (`ingests`: an ingest, a spooled batch, `forget`; `bill_imports`: a bill), so the lineage
#: and the tables' sizes say whether anything was written since.
_STAMP_SQL = """
SELECT (SELECT max(version) FROM schema_migrations),
       (SELECT count(*) FROM events),
       (SELECT count(*) FROM quarantine),
       (SELECT count(*) FROM price_keys),
       (SELECT count(*) FROM bill_lines),
       (SELECT count(*) || ':' || coalesce(sum(hash(ingest_id, source, status, started_at,
               finished_at, rows_read, accepted, duplicates, quarantined, merged)), 0)
        FROM ingests),
       (SELECT count(*) || ':' || coalesce(sum(hash(import_id, sha256, imported_at,
               lines_read, buckets_new, buckets_replaced)), 0)
        FROM bill_imports)
"""


def content_stamp(con: Any) -> str:
    """A digest of what the ledger holds, which changes with every write: two reads with
    the same stamp read the same ledger (for answers kept across a restart of the service,
    `server/cache.KeptAnswers`). Cheap at any size (sizes and the lineage, not the events:
    2 ms on 10M events)."""
    row = con.execute(_STAMP_SQL).fetchone()
    return hashlib.sha256(repr(row).encode()).hexdigest()


class Ledger:
    """One DuckDB ledger. Use as a context manager, or call `close()`."""

    MAX_ERRORS_KEPT = 20
    #: A direct read with more rejected lines than this is read in chunks instead.
    MAX_REDO_LINES = 10_000
    _ibis: Any = None
    """The Ibis backend over `con` (`ibis`), made on first use."""

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False) -> None:
        if path is None:
            path = home() / DB_NAME
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            if read_only and not self.path.exists():
                raise LedgerError(
                    f"No ledger at {self.path}. Run `unitecon ingest FILE` or "
                    "`unitecon demo` first (or set UNITECON_HOME)."
                )
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise operational.explain(e) or e from None
        try:
            self.con = engine.connect(self.path, read_only=read_only)
        except LedgerError as e:
            if self.path is not None and "cannot be read" in str(e):
                raise LedgerError(str(e) + operational.damaged_hint(self.path)) from None
            raise
        self._known: KnownIds | None = None
        self._memory_limit: str | None = None
        if not read_only:
            migrations.migrate(self.con)
            self._mark_interrupted()
            self.replay_spool()
        elif migrations.current_version(self.con) < migrations.LATEST:
            self.con = self._migrated_then_read_only()

    def _migrated_then_read_only(self) -> Any:
        """A read of a ledger an older unitecon wrote: migrate it (open for writing once,
        as `unitecon ingest` would), then read it. Where it cannot be written (a read-only
        file, another process writing it), say how to migrate it instead."""
        self.con.close()
        try:
            con = engine.connect(self.path, read_only=False)
        except UniteconError:  # locked by a writer, or not writable
            con = None
        if con is not None:
            try:
                migrations.migrate(con)
            finally:
                con.close()
        con = engine.connect(self.path, read_only=True)
        if migrations.current_version(con) < migrations.LATEST:
            con.close()
            raise LedgerError(
                f"The ledger {self.path} is at an older schema and cannot be migrated by a "
                "read; open it once for writing (e.g. `unitecon ingest`) to migrate it."
            )
        return con

    # -- lifecycle -------------------------------------------------------------------
    def _mark_interrupted(self) -> None:
        """Lineage rows still `running` that no ingest of this process is writing become
        `interrupted`: the ledger has one writing process (DuckDB locks the file), so an
        ingest that is not ours and not finished was stopped (killed, a crash, power)."""
        with _LIVE_LOCK:
            live = sorted(_LIVE)
        skip = f" AND ingest_id NOT IN ({', '.join('?' * len(live))})" if live else ""
        self.con.execute(
            f"UPDATE ingests SET status = 'interrupted' WHERE status = 'running'{skip}", live
        )

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ibis(self) -> Any:
        """The Ibis backend over this ledger's connection (for the analytical queries): one
        per connection, made on first use. The backend keeps which in-memory tables it
        registered on the connection (`engine/duck.py`, released with the engine's scope);
        two backends over one connection would each believe the other's registrations,
        and a query of one would read a table the other had already released."""
        if self._ibis is None:
            home = None if self.path is None else self.path.parent
            self._ibis = engine.ibis_backend(self.con, home)
        return self._ibis

    # -- ingest ----------------------------------------------------------------------
    def replay_spool(self) -> int:
        """Write the batches the service acknowledged but had not committed when it stopped
        (`spool.py`); a batch whose ingest is in the lineage was committed and is only
        removed. Returns how many batches were written."""
        from unitecon.ledger.spool import Spool, spool_dir

        if self.path is None or not spool_dir(self.path).is_dir():
            return 0
        spool, written = Spool(spool_dir(self.path)), 0
        for entry in spool.pending():
            if not self.has_ingest(entry.ingest_id):
                self.ingest(entry.source, [entry.chunk], fmt="spool", ingest_id=entry.ingest_id)
                written += 1
            spool.remove(entry)
        return written

    def track_ids(self) -> None:
        """Keep the stored event ids' hashes in memory (`known.KnownIds`), so that a batch
        of new events skips the scan of every stored id. For a long-lived writer (the
        service); it must be the ledger's only writer."""
        if self._known is None:
            self._known = KnownIds.load(self.con)

    def ingest(
        self,
        source: str,
        chunks: Iterable[Chunk],
        *,
        sha256: str | None = None,
        fmt: str | None = None,
        on_chunk: Callable[[IngestResult], None] | None = None,
        ingest_id: str | None = None,
    ) -> IngestResult:
        """Write `chunks` read from `source`; each chunk is one transaction.

        The source's earlier quarantine entries are replaced by this run's. Duplicates (an
        `event_id` already stored, or repeated within the chunk) are counted and skipped.
        `ingest_id` names the lineage row (default: a new one); the service's spool picks it
        before the write, to know after a crash whether the write was committed.
        """
        res = IngestResult(ingest_id or uuid.uuid4().hex, source, sha256, fmt)
        with _LIVE_LOCK:
            _LIVE.add(res.ingest_id)
        try:
            return self._ingest(res, chunks, on_chunk)
        except BaseException:
            self._set_status(res.ingest_id, "failed")
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(res.ingest_id)

    def _set_status(self, ingest_id: str, status: str) -> None:
        """Best effort (the error that stopped the ingest may also stop this)."""
        with contextlib.suppress(duckdb.Error):
            self.con.execute(
                "UPDATE ingests SET status = ?, finished_at = ? "
                "WHERE ingest_id = ? AND status = 'running'",
                [status, datetime.now(UTC), ingest_id],
            )

    def _ingest(
        self,
        res: IngestResult,
        chunks: Iterable[Chunk],
        on_chunk: Callable[[IngestResult], None] | None,
    ) -> IngestResult:
        if isinstance(chunks, list | tuple) and len(chunks) == 1:
            # One chunk (the service's batches): lineage and rows in one transaction, one
            # commit (each commit is a WAL sync).
            self.con.execute("BEGIN TRANSACTION")
            try:
                self._start(res)
                self._write_chunk(res, chunks[0], clear_quarantine=True, transaction=False)
                self._finish(res, log=False)
                self.con.execute("COMMIT")
            except Exception:
                self.con.execute("ROLLBACK")
                raise
            if on_chunk is not None:
                on_chunk(res)
            return res
        self._start(res)
        plan = chunks.direct() if isinstance(chunks, HasDirect) and self._known is None else None
        if plan is not None and self._read_direct(res, plan, on_chunk):
            if on_chunk is not None:
                on_chunk(res)
            self._finish(res)
            return res
        first = True
        for chunk in read_ahead(chunks):
            self._write_chunk(res, chunk, clear_quarantine=first)
            first = False
            if on_chunk is not None:
                on_chunk(res)
        if first:  # an empty source still clears its old quarantine
            self._write_chunk(res, Chunk(EVENT_SCHEMA.empty_table()), clear_quarantine=True)
        self._finish(res)
        return res

    def _read_direct(
        self,
        res: IngestResult,
        plan: DirectRead,
        on_chunk: Callable[[IngestResult], None] | None = None,
    ) -> bool:
        """Read the source in one statement (`DirectRead`: DuckDB parses the file in
        parallel) while its bytes are scanned in a thread, and write it in one transaction
        when the plan accepts what was read; False, with nothing written, otherwise.
        `on_chunk` sees `rows_read` grow with DuckDB's progress once the scan has counted
        the lines. The file's validated rows are held in a temporary table: on a ledger
        file, DuckDB's memory is held to `DIRECT_MEMORY` meanwhile, so that table spills to
        the ledger's temporary directory instead of growing with the file."""
        con = self.con
        order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
        if not (order and order[0]):  # row N is line N only in file order
            return False
        if self.path is None:
            return self._read_direct_in_memory_limit(res, plan, on_chunk)
        if self._memory_limit is None:  # as first found (its text rounds: read it once)
            row = con.execute("SELECT current_setting('memory_limit')").fetchone()
            self._memory_limit = str(row[0]) if row else ""
        con.execute(f"SET memory_limit = '{DIRECT_MEMORY}'")
        try:
            return self._read_direct_in_memory_limit(res, plan, on_chunk)
        finally:
            if self._memory_limit:
                con.execute(f"SET memory_limit = '{self._memory_limit}'")
            else:
                con.execute("RESET memory_limit")

    def _read_direct_in_memory_limit(
        self,
        res: IngestResult,
        plan: DirectRead,
        on_chunk: Callable[[IngestResult], None] | None,
    ) -> bool:
        """A numbered source in one statement (`_insert_numbered`) when it can, else (or
        when that gives up before writing) through a temporary table (`_read_direct_held`)."""
        if plan.numbered is not None:
            done = self._insert_numbered(res, plan, on_chunk)
            if done is not None:
                return done
        return self._read_direct_held(res, plan, on_chunk)

    def _insert_numbered(
        self,
        res: IngestResult,
        plan: DirectRead,
        on_chunk: Callable[[IngestResult], None] | None,
    ) -> bool | None:
        """Insert the valid records of `plan.numbered` straight into `events`, in one
        statement and one pass over the file (validation in the engine, no copy held in
        between), then check what it wrote, all in one transaction. True: written. False:
        rolled back, read the file in chunks (ids repeated in the file, too many rejected
        records, or a record the chunked read would keep). None: rolled back before anything
        was decided, try `_read_direct_held` (some ids already stored: its anti-join and
        conflict report; or the statement failed, as when the file has a column named
        `file_row_number`).

        The price keys are added first from a read of the key columns alone, of every
        record (of their distinct values, `plan.keys`, where the source offers it); the keys
        that only rejected records had are removed again. The checks are
        the held read's (`DirectRead.accepts`): when every record was inserted, only that no
        id was inserted twice; otherwise a second pass over the file counts its records and
        ids and numbers the rejected ones, whose entries come from `plan.redo`.
        """
        assert plan.numbered is not None
        con = self.con
        try:
            scanned = plan.scan()
        except OSError:
            return None
        if scanned is None or scanned.keys:  # a numbered source's records have no keys
            return None
        rows = f"({plan.numbered})"
        values = {n: f"d.{n}" for n in EVENT_SCHEMA.names}
        values["source"] = plan.location  # the text is it followed by `source_row`
        values[SOURCE_ROW] = "d._pos"
        values["ingest_id"] = "$ingest_id"
        match = " AND ".join(f"d._k_{n} = k.{n}" for n in migrations.KEY_NAMES)
        this = {"ingest_id": res.ingest_id}
        con.execute("BEGIN TRANSACTION")
        try:
            if self.count() and self._any_stored(plan, rows):
                con.execute("ROLLBACK")
                return None
            con.execute("DELETE FROM quarantine WHERE source = ?", [res.source])
            top = _first(con, "SELECT coalesce(max(key_id), 0) FROM price_keys")
            keyed = rows if plan.keys is None else f"({plan.keys})"
            keys = f"(SELECT DISTINCT {migrations.key_columns_sql()} FROM {keyed})"
            con.execute(migrations.ADD_PRICE_KEYS.format(source=keys))
            with self._progress(res, scanned, on_chunk):
                inserted = _first(
                    con,
                    f"INSERT INTO events ({', '.join(values)}, price_key) "
                    f"SELECT {', '.join(values.values())}, k.key_id FROM (SELECT *, "
                    f"{migrations.key_columns_sql('_k_')} FROM {rows} WHERE _reason IS NULL) "
                    f"AS d JOIN price_keys AS k ON {match}",
                    this,
                )
            bad: list[int] = []
            if inserted == scanned.lines:
                records = inserted
                ids = self._distinct_ids(this, inserted)
            else:
                row = con.execute(
                    "SELECT count(*), count(DISTINCT event_id), coalesce(list(_pos ORDER BY "
                    f"_pos) FILTER (WHERE _reason IS NOT NULL), []) FROM {rows}"
                ).fetchone()
                assert row is not None
                records, ids, bad = int(row[0]), int(row[1]), [int(x) for x in row[2]]
        except (duckdb.Error, UnicodeDecodeError):  # (a message cut mid-character)
            con.execute("ROLLBACK")
            return None
        except BaseException:
            con.execute("ROLLBACK")
            raise
        try:
            if (
                not plan.accepts(scanned, records, scanned.keys, ids)
                or len(bad) != records - inserted
                or len(bad) > self.MAX_REDO_LINES
            ):
                con.execute("ROLLBACK")
                return False
            rejected: list[Rejected] = []
            if bad:  # their entries, raw records included, from the chunked read
                try:
                    redone = plan.redo(bad)
                except (duckdb.Error, OSError):  # the chunked read will say what
                    redone = None
                if redone is None or len(redone) != len(bad):
                    con.execute("ROLLBACK")
                    return False
                rejected = sorted(redone, key=_order)
                con.execute(
                    "DELETE FROM price_keys WHERE key_id > $top AND key_id NOT IN "
                    "(SELECT price_key FROM events WHERE ingest_id = $ingest_id)",
                    {**this, "top": top},
                )
            self._quarantine(res, rejected)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        res.direct = True
        res.rows_read += records
        res.accepted += inserted
        self._count_rejected(res, rejected)
        return True

    def _distinct_ids(self, this: dict[str, str], rows: int) -> int:
        """The number of distinct ids among the `rows` records this ingest (`this`)
        inserted. First from their 64-bit hashes, which is the answer when no two meet
        (distinct hashes are distinct ids); only when two hashes meet (a repeated id, or
        DuckDB's hash colliding on structured ids as `ingest/seen.py` found) are the ids
        themselves counted. Up to `SORTED_IDS` records the hashes are sorted in memory and
        their neighbours compared (5M ids: 0.4-0.5 s CPU, where DuckDB's
        `count(DISTINCT hash(event_id))` took 1.0-1.1 s on one thread: docs/benchmarks.md,
        "Session 14"); above, DuckDB counts them, within its memory limit, on one thread
        (`_one_thread`). (The scan of the rows a transaction has not committed yet is one
        thread's either way; the sorted road leaves the setting alone, which costs 0.06 s
        the first time.)"""
        where = "FROM events WHERE ingest_id = $ingest_id"
        if rows <= SORTED_IDS:
            got = self.con.execute(f"SELECT hash(event_id) AS h {where}", this).fetchnumpy()
            hashes = np.sort(np.asarray(got["h"], dtype=np.uint64))
            if not bool(np.any(hashes[1:] == hashes[:-1])):
                return int(hashes.size)
            return _first(self.con, f"SELECT count(DISTINCT event_id) {where}", this)
        with _one_thread(self.con):
            row = self.con.execute(
                f"SELECT count(*), count(DISTINCT hash(event_id)) {where}", this
            ).fetchone()
            assert row is not None
            if row[1] == row[0]:
                return int(row[1])
            return _first(self.con, f"SELECT count(DISTINCT event_id) {where}", this)

    def _any_stored(self, plan: DirectRead, rows: str) -> bool:
        """Whether any record of `rows` (`plan.numbered`) has an id stored already: from
        the ids the source gives (`plan.ids`, one column) when every record gives one, else
        from the validated records."""
        semi = "AS n SEMI JOIN events AS e ON n.event_id = e.event_id"
        if plan.ids is not None:
            given = f"({plan.ids})"
            if not _first(self.con, f"SELECT count(*) FROM {given} WHERE event_id IS NULL"):
                return bool(_first(self.con, f"SELECT count(*) FROM {given} {semi}"))
        return bool(_first(self.con, f"SELECT count(*) FROM (SELECT event_id FROM {rows}) {semi}"))

    @contextlib.contextmanager
    def _progress(
        self,
        res: IngestResult,
        scanned: Scanned,
        on_chunk: Callable[[IngestResult], None] | None,
    ) -> Iterator[None]:
        """Around one statement: `on_chunk` sees `rows_read` grow with DuckDB's progress
        (display only: reset to 0 after)."""
        if on_chunk is None:
            yield
            return
        known: Future[Scanned | None] = Future()
        known.set_result(scanned)
        done = threading.Event()
        self.con.execute("SET enable_progress_bar = true")
        with ThreadPoolExecutor(1, thread_name_prefix="unitecon-direct") as pool:
            showing = pool.submit(self._show_progress, res, known, done, on_chunk)
            try:
                yield
            finally:
                done.set()
                showing.result()
                self.con.execute("RESET enable_progress_bar")
                res.rows_read = 0

    def _read_direct_held(
        self,
        res: IngestResult,
        plan: DirectRead,
        on_chunk: Callable[[IngestResult], None] | None,
    ) -> bool:
        con = self.con
        table = '"_direct_' + res.ingest_id.replace('"', "") + '"'
        done = threading.Event()
        with ThreadPoolExecutor(2, thread_name_prefix="unitecon-direct") as pool:
            scanning = pool.submit(plan.scan)
            showing = None
            if on_chunk is not None:  # DuckDB tracks the statement's progress
                con.execute("SET enable_progress_bar = true")
                showing = pool.submit(self._show_progress, res, scanning, done, on_chunk)
            try:
                con.execute(f"CREATE TEMP TABLE {table} AS {plan.query}")
            except (duckdb.Error, UnicodeDecodeError):  # (a message cut mid-character)
                return False  # the chunked read says what is wrong, and where
            finally:
                done.set()
                if showing is not None:
                    showing.result()  # no more progress from here on
                    con.execute("RESET enable_progress_bar")
                res.rows_read = 0
            try:
                try:
                    scanned = scanning.result()
                except OSError:
                    scanned = None
                row = con.execute(
                    f"SELECT count(*), coalesce(sum(_p), 0), count(DISTINCT event_id), "
                    f"count(_reason) FROM {table}"
                ).fetchone()
                if row is None:
                    return False
                records, fields, ids, rejected = (int(x) for x in row)
                if not plan.accepts(scanned, records, fields, ids):
                    return False
                quarantine: list[Rejected] = []
                if rejected > self.MAX_REDO_LINES:
                    return False
                if rejected:  # their entries, raw lines included, from the chunked read
                    bad = con.execute(
                        f"SELECT rowid + {int(plan.first)} FROM {table} "
                        "WHERE _reason IS NOT NULL ORDER BY 1"
                    ).fetchall()
                    try:
                        redone = plan.redo([int(r[0]) for r in bad])
                    except (duckdb.Error, OSError):  # the chunked read will say what
                        redone = None
                    if redone is None or len(redone) != rejected:
                        return False
                    quarantine = redone
                self._insert_direct(res, table, plan, records, quarantine)
                return True
            finally:
                con.execute(f"DROP TABLE IF EXISTS {table}")

    def _show_progress(
        self,
        res: IngestResult,
        scanning: Future[Scanned | None],
        done: threading.Event,
        on_chunk: Callable[[IngestResult], None],
    ) -> None:
        """Until `done`: `res.rows_read` as DuckDB's progress times the scanned line count
        (for display only; the caller resets it)."""
        while not done.wait(PROGRESS_SECONDS):
            if not scanning.done() or scanning.exception() is not None:
                continue
            scanned = scanning.result()
            percent = self.con.query_progress()
            if scanned is not None and percent >= 0:
                res.rows_read = int(scanned.lines * min(percent, 100.0) / 100)
                on_chunk(res)

    def _insert_direct(
        self,
        res: IngestResult,
        table: str,
        plan: DirectRead,
        records: int,
        rejected: list[Rejected],
    ) -> None:
        """Insert the valid records of `table` (a direct read, in file order) whose id is
        not stored yet, each with its line as source and its price key, and quarantine
        `rejected`, in one transaction that first clears the source's quarantine."""
        con = self.con
        values = {n: f"d.{n}" for n in EVENT_SCHEMA.names}
        location, first = plan.location, int(plan.first)
        values["source"] = location  # the text is it followed by `source_row`
        values[SOURCE_ROW] = f"d._row + {first}"
        values["ingest_id"] = "$ingest_id"
        match = " AND ".join(f"d._k_{n} = k.{n}" for n in migrations.KEY_NAMES)
        valid = f"(SELECT *, rowid AS _row FROM {table} WHERE _reason IS NULL)"
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM quarantine WHERE source = ?", [res.source])
            keys = f"(SELECT DISTINCT {migrations.key_columns_sql()} FROM {valid})"
            con.execute(migrations.ADD_PRICE_KEYS.format(source=keys))
            new, conflicts = "", []
            if self.count():  # the ids stored already: a semi-join built on the new ones
                located = f"(SELECT *, {location} || (_row + {first}) AS _src FROM {valid})"
                conflicts = self._conflicts(located, "b._src")
                new = (
                    f"WHERE d.event_id NOT IN (SELECT n.event_id FROM {table} AS n "
                    "SEMI JOIN events AS e ON n.event_id = e.event_id)"
                )
            row = con.execute(
                f"INSERT INTO events ({', '.join(values)}, price_key) "
                f"SELECT {', '.join(values.values())}, k.key_id FROM (SELECT *, "
                f"{migrations.key_columns_sql('_k_')} FROM {valid}) AS d "
                f"JOIN price_keys AS k ON {match} {new}",
                {"ingest_id": res.ingest_id},
            ).fetchone()
            rejected = sorted([*rejected, *conflicts], key=_order)
            self._quarantine(res, rejected)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        inserted = int(row[0]) if row else 0
        res.direct = True
        res.rows_read += records
        res.accepted += inserted
        res.duplicates += records - len(rejected) - inserted
        res.conflicts += len(conflicts)
        self._count_rejected(res, rejected)

    def _quarantine(self, res: IngestResult, rejected: list[Rejected]) -> None:
        if rejected:
            now = datetime.now(UTC)
            self.con.executemany(
                "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)",
                [[res.source, r.location, r.reason, r.raw, res.ingest_id, now] for r in rejected],
            )

    def _count_rejected(self, res: IngestResult, rejected: list[Rejected]) -> None:
        res.quarantined += len(rejected)
        room = self.MAX_ERRORS_KEPT - len(res.errors)
        if room > 0:
            res.errors.extend(rejected[:room])

    def _start(self, res: IngestResult) -> None:
        self.con.execute(
            "INSERT OR REPLACE INTO ingests (ingest_id, source, sha256, format, started_at, "
            "status) VALUES (?, ?, ?, ?, ?, 'running')",
            [res.ingest_id, res.source, res.sha256, res.format, datetime.now(UTC)],
        )

    def _finish(self, res: IngestResult, *, log: bool = True) -> None:
        if log:  # a file's ingest, not one of the service's batches
            row = {k: v for k, v in res.as_dict().items() if k != "first_errors"}
            operational.log_lineage(self.path, row | {"status": "done"})
        self.con.execute(
            "UPDATE ingests SET finished_at = ?, rows_read = ?, accepted = ?, duplicates = ?, "
            "quarantined = ?, merged = ?, status = 'done' WHERE ingest_id = ?",
            [
                datetime.now(UTC),
                res.rows_read,
                res.accepted,
                res.duplicates,
                res.quarantined,
                res.merged,
                res.ingest_id,
            ],
        )

    def _write_chunk(
        self, res: IngestResult, chunk: Chunk, *, clear_quarantine: bool, transaction: bool = True
    ) -> None:
        batch = chunk.events.set_column(
            EVENT_SCHEMA.get_field_index("ingest_id"),
            "ingest_id",
            pa.repeat(pa.scalar(res.ingest_id, pa.string()), chunk.events.num_rows),
        )
        con = self.con
        if transaction:
            con.execute("BEGIN TRANSACTION")
        try:
            if clear_quarantine:
                con.execute("DELETE FROM quarantine WHERE source = ?", [res.source])
            inserted, conflicts = self._insert_new(batch) if batch.num_rows else (0, [])
            if inserted and (traces := touched_traces(batch)) is not None:
                res.merged += resolve_traces(con, traces)
            rejected = sorted([*chunk.rejected, *conflicts], key=_order)
            self._quarantine(res, rejected)
            if transaction:
                con.execute("COMMIT")
        except Exception:
            if transaction:
                con.execute("ROLLBACK")
            raise
        res.rows_read += chunk.rows_read or (batch.num_rows + len(chunk.rejected))
        res.accepted += inserted
        res.duplicates += batch.num_rows - inserted - len(conflicts)
        res.conflicts += len(conflicts)
        self._count_rejected(res, rejected)

    def _insert_new(self, batch: pa.Table) -> tuple[int, list[Rejected]]:
        """Insert the rows of `batch` whose event_id is not stored yet (first one wins).

        The stored ids that the batch repeats are found with a semi-join whose hash table is
        built on the batch (not on the whole ledger), so a chunk costs O(batch + one scan of
        the id column) however large the ledger grows; they are removed from the batch in
        Arrow. With `track_ids()` only the ids whose hash is already known are probed, and
        the scan is skipped when there are none. Rows repeated inside the batch are
        collapsed with a window only when there are any. A stored id whose row differs
        (`_conflicts`) comes back as a rejection; the stored row stays.
        """
        import pyarrow.compute as pc  # the write path only: 0.1 s of every read's import

        con = self.con
        ids = batch.column("event_id")
        repeated = pc.count_distinct(ids, mode="all").as_py() != batch.num_rows
        con.register("_batch", batch)
        try:
            probe = "_batch"
            if self._known is not None:  # only ids that may be stored need the scan
                hashes = con.execute("SELECT hash(event_id) AS h FROM _batch").fetchnumpy()["h"]
                hashes = np.asarray(hashes, dtype=np.uint64)
                maybe = self._known.maybe_stored(hashes)
                self._known.add(hashes)  # a superset: added before the commit
                con.register("_maybe", batch.filter(pa.array(maybe)))
                probe = "_maybe" if maybe.any() else ""
            stored = (
                con.execute(
                    f"SELECT b.event_id FROM {probe} b SEMI JOIN events e "
                    "ON b.event_id = e.event_id"
                ).fetch_arrow_table()
                if probe
                else pa.table({"event_id": pa.array([], pa.string())})
            )
            conflicts = self._conflicts(probe) if stored.num_rows else []
        finally:
            con.unregister("_batch")
            if self._known is not None:
                con.unregister("_maybe")
        if stored.num_rows:
            batch = batch.filter(pc.invert(pc.is_in(ids, value_set=stored.column(0))))
        if not batch.num_rows:
            return 0, conflicts
        source = (
            "(SELECT * EXCLUDE (_rn) FROM (SELECT *, row_number() OVER "
            "(PARTITION BY event_id ORDER BY source) AS _rn FROM _batch) WHERE _rn = 1)"
            if repeated
            else "_batch"
        )
        return self._append(batch, source), conflicts

    def _conflicts(self, table: str, location: str = "b.source") -> list[Rejected]:
        """The records of `table` (event columns) whose event_id is stored with other
        content: each a rejection naming where the stored one came from."""
        cols = [n for n in EVENT_SCHEMA.names if n not in ("source", "ingest_id")]

        def value(t: str, c: str) -> str:  # tags in any order are the same tags
            return f"list_sort(map_entries({t}.{c}))" if c == "tags" else f"{t}.{c}"

        mine = ", ".join(value("b", c) for c in cols)
        theirs = ", ".join(value("e", c) for c in cols)
        rows = self.con.execute(
            f"SELECT {location}, b.event_id, {source_sql('e')} FROM {table} AS b JOIN events AS e "
            f"ON b.event_id = e.event_id WHERE hash({mine}) <> hash({theirs})"
        ).fetchall()
        return [
            Rejected(
                str(loc),
                f"event_id: {eid!r} is already stored with different content (first from "
                f"{first}); this record was not stored. To replace it, `unitecon forget` "
                "the first source and ingest again",
                "",
            )
            for loc, eid, first in rows
        ]

    def _append(self, batch: pa.Table, source: str = "_batch") -> int:
        """Insert `batch` (EVENT_SCHEMA; `source` a query over it named `_batch`) as is, each
        row with its price key, adding the keys not seen before. Callers check ids first
        (`_insert_new`); the benchmark fills its ledger with this."""
        con = self.con
        batch = batch.append_column("price_key", self._price_keys(batch))
        con.register("_batch", batch)
        try:
            names = ", ".join(batch.column_names)  # the event fields and price_key
            row = con.execute(f"INSERT INTO events ({names}) SELECT * FROM {source}").fetchone()
        finally:
            con.unregister("_batch")
        return int(row[0]) if row else 0

    def _price_keys(self, batch: pa.Table) -> pa.Array:
        """The `price_keys.key_id` of each row of `batch` (`migrations.KEY_COLUMNS`), adding
        the keys the table lacks. Matched in Arrow: an INSERT fed by a DuckDB join costs
        50-100% more than one straight from Arrow."""
        con, names = self.con, list(migrations.KEY_NAMES)
        con.register("_keyed", batch)
        try:
            keys = con.execute(
                f"SELECT {migrations.key_columns_sql()} FROM _keyed"
            ).fetch_arrow_table()
        finally:
            con.unregister("_keyed")
        con.register("_keys", keys.group_by(names).aggregate([]))
        try:
            con.execute(migrations.ADD_PRICE_KEYS.format(source="_keys"))
        finally:
            con.unregister("_keys")
        known = con.execute("SELECT * FROM price_keys").fetch_arrow_table()
        at = keys.append_column("_i", pa.array(np.arange(batch.num_rows, dtype=np.int64)))
        found = at.join(known, names, join_type="left outer").sort_by("_i")
        return found.column("key_id").combine_chunks().cast(pa.int32())

    # -- removal ---------------------------------------------------------------------
    def forget(self, source: str) -> dict[str, Any]:
        """Remove the events every ingest of `source` stored, and its quarantine entries,
        in one transaction, and record it in the lineage (a row of format `forget`, status
        `done`, `rows_read` = the events removed, `quarantined` = the entries removed).

        An event another source also held (a duplicate there, so not stored twice) goes
        too: ingest that source again to bring it back. Raises LookupFailed (with the
        nearest sources) when the lineage has no ingest of `source`."""
        from unitecon.errors import LookupFailed

        known = [r[0] for r in self.con.execute("SELECT DISTINCT source FROM ingests").fetchall()]
        if source not in known:
            raise LookupFailed("source", source, known)
        con = self.con
        ingest_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        con.execute("BEGIN TRANSACTION")
        try:
            removed = con.execute(
                "DELETE FROM events WHERE ingest_id IN (SELECT ingest_id FROM ingests "
                "WHERE source = ? AND format IS DISTINCT FROM 'forget')",
                [source],
            ).fetchone()
            cleared = con.execute("DELETE FROM quarantine WHERE source = ?", [source]).fetchone()
            events = int(removed[0]) if removed else 0
            entries = int(cleared[0]) if cleared else 0
            con.execute(
                "INSERT INTO ingests (ingest_id, source, sha256, format, started_at, "
                "finished_at, rows_read, quarantined, status) "
                "VALUES (?, ?, NULL, 'forget', ?, ?, ?, ?, 'done')",
                [ingest_id, source, now, now, events, entries],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        out = {
            "source": source,
            "ingest_id": ingest_id,
            "events_removed": events,
            "quarantine_removed": entries,
        }
        operational.log_lineage(self.path, {**out, "format": "forget", "status": "done"})
        return out

    # -- reads -----------------------------------------------------------------------
    def has_ingest(self, ingest_id: str) -> bool:
        """Whether the lineage holds a finished ingest `ingest_id`."""
        row = self.con.execute(
            "SELECT count(*) FROM ingests WHERE ingest_id = ? AND status = 'done'", [ingest_id]
        ).fetchone()
        return bool(row and row[0])

    def count(self) -> int:
        row = self.con.execute("SELECT count(*) FROM events").fetchone()
        return int(row[0]) if row else 0

    def stamp(self, con: Any = None) -> str:
        """`content_stamp` of this ledger (on `con`, a cursor of it, if given)."""
        return content_stamp(self.con if con is None else con)

    def quarantine(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT source, location, reason, raw, ingest_id, quarantined_at FROM quarantine "
            "ORDER BY source, quarantined_at, location"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        return self.rows(sql)

    def ingests(self) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM ingests ORDER BY started_at")

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Run a query; rows as dicts (through Arrow, so time zones need no pytz)."""
        result: list[dict[str, Any]] = (
            self.con.execute(sql, params or []).fetch_arrow_table().to_pylist()
        )
        return result
