"""What every reader returns: chunks of valid events plus the records it rejected.

A reader is `read(path) -> Iterator[Chunk]`. It never raises on a bad record: the record goes
into `Chunk.rejected` with its location (`file:line`, or `file#span_id`) and a reason, and the
good records around it are kept. It raises `InputError` only when the source cannot be read
at all (missing file, unknown format).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pyarrow as pa

from unitecon.ledger.schema import EVENT_SCHEMA

#: Rows per chunk: each chunk is one ledger transaction.
CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class Rejected:
    """A record that could not become an event."""

    location: str
    reason: str
    raw: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass
class Chunk:
    """A batch of valid events (EVENT_SCHEMA) and the records rejected alongside them."""

    events: pa.Table
    rejected: list[Rejected] = field(default_factory=list)
    rows_read: int = 0
    #: Records read but deliberately not kept (OTLP spans that are not GenAI); in rows_read.
    skipped: int = 0

    def __post_init__(self) -> None:
        if not self.events.schema.equals(EVENT_SCHEMA):
            self.events = self.events.select(list(EVENT_SCHEMA.names)).cast(EVENT_SCHEMA)


ChunkIterator = Iterator[Chunk]


@dataclass(frozen=True)
class Scanned:
    """What a scan of a file's bytes found: its lines, and the object keys with a value
    that they hold (`lines.key_colons`)."""

    lines: int
    keys: int


@dataclass(frozen=True)
class DirectRead:
    """A source the ledger may read itself in one statement instead of chunk by chunk: a
    plain JSONL or CSV file, or a Parquet file, which DuckDB then reads in parallel, as its
    own COPY would.

    `query` gives the file's records in file order with their validation
    (`validate.validation_sql`: the event columns, `_reason`, and `_p`, the number of known
    fields each record sets). `scan` reads the file's bytes for what a parse that keeps only
    the known fields cannot tell (None: a line too long to be kept). The ledger keeps the
    result only when `accepts` it; the lines it rejects then get their quarantine entries from
    `redo` (the chunked read's own, raw text included; None: the chunked read would not reject
    them all). Otherwise the file is read chunk by chunk, as if this was never tried.
    """

    query: str
    #: SQL string literal; the source of the record numbered N is `location || N` (the
    #: ledger stores `location` as `source` and N as `source_row`: `schema.SOURCE_ROW`)
    location: str
    scan: Callable[[], Scanned | None]
    #: called with the numbers (as in `location`) of the rejected records
    redo: Callable[[list[int]], list[Rejected] | None]
    #: the number of the first record: 1 (JSONL lines, Parquet rows), 2 (CSV, after its
    #: header line); record i (from 0) is numbered `first + i`
    first: int = 1
    #: `query` with each record's number as a column `_pos` (as in `location`), for a
    #: columnar source whose reader numbers its rows itself (Parquet's row numbers) and whose
    #: `_p` is always 0: the ledger then writes its valid records in one statement, with no
    #: copy of the file held in between (`Ledger._insert_numbered`). None: not offered.
    numbered: str | None = None
    #: a query of one column, `event_id`: each record's id as the source gives it (NULL
    #: where validation computes one from the content), a cheap read of one column that
    #: tells the ledger whether any of them is stored already. None: not offered.
    ids: str | None = None
    #: `query`'s columns of the price key (`migrations.KEY_INPUTS` validated as `query`
    #: validates them) over the source's distinct values of those fields alone: the same
    #: keys as over every record, from a read of a few columns and a validation of a few
    #: rows. None: not offered (the ledger takes the keys from `numbered`).
    keys: str | None = None

    @staticmethod
    def accepts(scanned: Scanned | None, records: int, fields: int, ids: int) -> bool:
        """Every line is one record (no blank line, so line N is record N), no record has a
        key beyond the known fields (their count is every key with a value), and no event id
        comes twice (so no record's fate depends on another's). A columnar source's scan
        counts its records and no keys (its unknown columns are known from its schema)."""
        return (
            scanned is not None
            and records == scanned.lines
            and fields == scanned.keys
            and ids == records
        )


@runtime_checkable
class HasDirect(Protocol):
    """A reader's chunks that can also be read as one statement (`DirectRead`)."""

    def direct(self) -> DirectRead | None: ...
