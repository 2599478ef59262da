"""The ledger as a lake: events, quarantine and lineage as Parquet, events partitioned by day.

`export(ledger, root)` writes

    root/events/day=YYYY-MM-DD/part-0.parquet   the event schema's columns (no engine column)
    root/quarantine/part-0.parquet
    root/ingests/part-0.parquet

Re-exporting replaces each day it writes (a day's directory is written beside the old one
and swapped in), so an export is idempotent and a re-export after late events is exact.
Only the event schema's columns are written (`schema.FIELD_NAMES`): the ledger's own
`price_key` names a row of its `price_keys` table, which a lake reader does not have.

`Lake(root)` is what an analysis reads: the `events` table on an engine that reads Parquet
(Spark, or DuckDB for a check), and the quarantine records.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unitecon import engine
from unitecon.errors import LedgerError
from unitecon.ledger.schema import FIELD_NAMES, source_sql


@dataclass(frozen=True)
class Exported:
    root: Path
    days: int
    events: int
    quarantined: int


def export(
    ledger: Any, root: Path, since: dt.date | None = None, until: dt.date | None = None
) -> Exported:
    """Write the ledger's events (of [since, until), by UTC day), quarantine and lineage
    under `root`, replacing the days written."""
    con = ledger.con
    cols = ", ".join(
        f"{source_sql()} AS source" if c == "source" else f'"{c}"' for c in FIELD_NAMES
    )
    where, params = [], []
    if since is not None:
        where.append("ts >= ?::DATE")
        params.append(since.isoformat())
    if until is not None:
        where.append("ts < ?::DATE")
        params.append(until.isoformat())
    cond = f"WHERE {' AND '.join(where)}" if where else ""
    root.mkdir(parents=True, exist_ok=True)
    stage = root / f".stage-{uuid.uuid4().hex[:12]}"
    stage.mkdir()
    try:
        con.execute(
            f"COPY (SELECT {cols}, strftime(ts AT TIME ZONE 'UTC', '%Y-%m-%d') AS day "
            f"FROM events {cond}) TO '{_sql_path(stage / 'events')}' "
            "(FORMAT PARQUET, PARTITION_BY (day), FILENAME_PATTERN 'part-{i}')",
            params,
        )
        n = con.execute(f"SELECT count(*) FROM events {cond}", params).fetchone()
        days = _swap_days(stage / "events", root / "events")
        for table in ("quarantine", "ingests"):
            out = stage / table
            out.mkdir(parents=True)
            con.execute(
                f"COPY (SELECT * FROM {table}) TO '{_sql_path(out / 'part-0.parquet')}' "
                "(FORMAT PARQUET)"
            )
            _replace(out, root / table)
        q = con.execute("SELECT count(*) FROM quarantine").fetchone()
    except OSError as e:
        raise LedgerError(f"Cannot write the lake at {root}: {e.strerror or e}") from None
    except engine.engine_errors() as e:
        raise engine.friendly(e, root) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Exported(root, days, int(n[0]) if n else 0, int(q[0]) if q else 0)


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def _replace(new: Path, old: Path) -> None:
    """Put directory `new` where `old` is (the old one removed after the move)."""
    trash = old.with_name(f".old-{uuid.uuid4().hex[:12]}")
    if old.exists():
        old.rename(trash)
    new.rename(old)
    shutil.rmtree(trash, ignore_errors=True)


def _swap_days(staged: Path, events: Path) -> int:
    events.mkdir(parents=True, exist_ok=True)
    days = sorted(staged.glob("day=*")) if staged.exists() else []
    for d in days:
        _replace(d, events / d.name)
    return len(days)


class Lake:
    """A lake written by `export`, read through an Ibis backend that reads Parquet."""

    @staticmethod
    def check(root: Path) -> None:
        """Raise the one-line `No lake at ...` where `root` holds no exported events."""
        if not (root / "events").is_dir():
            raise LedgerError(f"No lake at {root}: write one with `unitecon export --lake {root}`.")

    def __init__(self, root: Path, backend: Any) -> None:
        self.check(root)
        self.root = root
        self.path = None
        self.con = None  # no DuckDB connection: pricing reads `ibis()`
        self._backend = backend

    def ibis(self) -> Any:
        return self._backend

    def quarantine(self, limit: int | None = None) -> list[dict[str, Any]]:
        import pyarrow.parquet as pq

        path = self.root / "quarantine"
        if not path.is_dir():
            return []
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
        rows.sort(key=lambda r: (r["source"], r["quarantined_at"], r["location"]))
        return rows[:limit] if limit else rows

    def ingests(self) -> list[dict[str, Any]]:
        """The ledger's lineage as exported with the lake (`unitecon lineage` on Spark),
        oldest first, as `Ledger.ingests` gives it."""
        import pyarrow.parquet as pq

        path = self.root / "ingests"
        if not path.is_dir():
            return []
        rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
        rows.sort(key=lambda r: r["started_at"])
        return rows
