"""What every reader returns: chunks of valid events plus the records it rejected.

A reader is `read(path) -> Iterator[Chunk]`. It never raises on a bad record: the record goes
into `Chunk.rejected` with its location (`file:line`, or `file#span_id`) and a reason, and the
good records around it are kept. It raises `InputError` only when the source cannot be read
at all (missing file, unknown format).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

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
