"""The service's spool: acknowledged batches on disk until the ledger has committed them.

The service acknowledges a request once its validated events are durable here (one Arrow IPC
file per writer batch, written to a temporary name, synced, renamed, directory synced:
about 3 ms), not once they are in the ledger. The ledger commit then runs behind, and
DuckDB's checkpoints, which block every commit for 40-700 ms, no longer hold up answers.

Each file carries the batch's ledger ingest id and source. After a crash, `pending()` gives
back every file not yet removed: an id already in the ledger's lineage was committed (the
lineage row and the rows are one transaction), so the file is only removed; otherwise the
batch is ingested again. Ingest is idempotent by event id, so replay is always safe.
Any open of the ledger for writing replays it (`Ledger.replay_spool`), so a batch the
service acknowledged reaches the ledger even if the next writer is `unitecon ingest`.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from unitecon.ledger.records import Chunk, Rejected

log = logging.getLogger("unitecon.ledger")

#: Schema metadata key holding the batch's ingest id, source and rejected records.
META = b"unitecon.spool"
_NAME = re.compile(r"^(\d{12})-([0-9a-f]{32})\.arrow$")


@dataclass
class Spooled:
    """One writer batch: its events and rejections, and the ledger ingest that will hold it."""

    seq: int
    ingest_id: str
    source: str
    chunk: Chunk
    path: Path | None = None


def spool_dir(ledger_path: Path) -> Path:
    """Where the spool of the ledger file `ledger_path` lives."""
    return Path(f"{ledger_path}.spool")


class Spool:
    """A directory of spooled batches, oldest first by sequence number."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)

    def write(self, entry: Spooled) -> None:
        """Make `entry` durable (returns only after the data and the name are synced)."""
        c = entry.chunk
        meta = {
            "ingest_id": entry.ingest_id,
            "source": entry.source,
            "rows_read": c.rows_read,
            "skipped": c.skipped,
            "rejected": [[r.location, r.reason, r.raw] for r in c.rejected],
        }
        schema_meta = dict(c.events.schema.metadata or {})
        schema_meta[META] = json.dumps(meta).encode()
        table = c.events.replace_schema_metadata(schema_meta)
        name = f"{entry.seq:012d}-{entry.ingest_id}.arrow"
        tmp, final = self.dir / f".{name}.tmp", self.dir / name
        with tmp.open("wb") as f:
            with pa.ipc.new_stream(f, table.schema) as w:
                w.write_table(table)
            f.flush()
            os.fsync(f.fileno())
        tmp.rename(final)
        self._sync_dir()
        entry.path = final

    def pending(self) -> list[Spooled]:
        """The batches still on disk, oldest first (a half-written temporary is dropped)."""
        out: list[Spooled] = []
        for p in sorted(self.dir.iterdir()):
            m = _NAME.match(p.name)
            if m is None:
                if p.name.endswith(".tmp"):  # never acknowledged: the write did not finish
                    p.unlink(missing_ok=True)
                continue
            try:
                with pa.OSFile(str(p), "rb") as f:
                    table = pa.ipc.open_stream(f).read_all()
                schema_meta = dict(table.schema.metadata or {})
                meta = json.loads(schema_meta.pop(META))
            except (pa.ArrowException, OSError, KeyError, ValueError) as e:
                # Damaged on disk after it was synced: kept aside for a person, not lost.
                bad = p.with_name(p.name + ".unreadable")
                p.rename(bad)
                log.error("spooled batch %s is unreadable (%s); kept as %s", p, e, bad)
                continue
            events = table.replace_schema_metadata(schema_meta or None)
            rejected = [Rejected(*r) for r in meta["rejected"]]
            chunk = Chunk(events, rejected, meta["rows_read"], meta["skipped"])
            out.append(Spooled(int(m.group(1)), meta["ingest_id"], meta["source"], chunk, p))
        return out

    def next_seq(self) -> int:
        """A sequence number above every file's."""
        seqs = [int(m.group(1)) for p in self.dir.iterdir() if (m := _NAME.match(p.name))]
        return max(seqs, default=0) + 1

    def remove(self, entry: Spooled) -> None:
        """Forget `entry` (its batch is committed to the ledger)."""
        if entry.path is not None:
            entry.path.unlink(missing_ok=True)
            entry.path = None

    def _sync_dir(self) -> None:
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
