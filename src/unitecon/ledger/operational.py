"""Operational failures (disk full, a read-only or unwritable home, a damaged ledger, a lock
held by another process) as messages that say what to do, never a traceback.

`explain(error)` is what the CLI shows for an error that is not unitecon's own; the ledger
also keeps a plain record of what went in (`lineage.jsonl` beside the ledger file, one JSON
line per finished ingest or forget) so that a damaged ledger can be rebuilt from its sources.
"""

from __future__ import annotations

import errno
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unitecon.errors import LedgerError, UniteconError

LINEAGE_LOG = "lineage.jsonl"

_DISK_FULL = ("No space left", "disk is full", "Disk quota exceeded")
_READ_ONLY = ("Read-only file system",)
_DENIED = ("Permission denied", "Operation not permitted")


def _home_hint() -> str:
    from unitecon.ledger.store import home

    return str(home())


def explain(e: BaseException) -> UniteconError | None:
    """`e` as a message a user can act on, or None when it is not an operational failure
    (then it is a bug, reported as such)."""
    if isinstance(e, UniteconError):
        return e
    if isinstance(e, OSError):
        return _os_error(e)
    try:
        import duckdb
    except ImportError:  # pragma: no cover
        return None
    if isinstance(e, duckdb.Error):
        text = str(e)
        if any(s in text for s in _DISK_FULL):
            return _disk_full(None)
        if any(s in text for s in _READ_ONLY):
            return _read_only(None)
        if any(s in text for s in _DENIED):
            return _denied(None)
        from unitecon import engine

        return engine.friendly(e)
    return None


def is_fatal(e: BaseException) -> bool:
    """Whether `e` stops every ingest (the disk, the ledger), not just the file being read:
    a full disk, a read-only file system, or the engine failing to write."""
    if isinstance(e, KeyboardInterrupt | SystemExit | MemoryError):
        return True
    if isinstance(e, OSError):
        return e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
    try:
        import duckdb
    except ImportError:  # pragma: no cover
        return False
    if isinstance(e, duckdb.IOException | duckdb.FatalException | duckdb.TransactionException):
        return True
    text = str(e)
    return any(s in text for s in (*_DISK_FULL, *_READ_ONLY))


def _os_error(e: OSError) -> UniteconError:
    where = e.filename if isinstance(e.filename, str | bytes) else None
    shown = str(where) if where is not None else None
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return _disk_full(shown)
    if e.errno == errno.EROFS:
        return _read_only(shown)
    if e.errno in (errno.EACCES, errno.EPERM):
        return _denied(shown)
    if e.errno == errno.ENOENT:
        return UniteconError(f"No such file or directory: {shown or e}.")
    return UniteconError(
        f"The system refused: {e.strerror or e}{f' ({shown})' if shown else ''}. Check the "
        "path and the disk, then run it again."
    )


def _disk_full(where: str | None) -> LedgerError:
    return LedgerError(
        f"The disk is full{f' (writing {where})' if where else ''}. Free some space (or set "
        f"UNITECON_HOME, now {_home_hint()}, to a disk with room) and run the command again: "
        "an ingest cut short keeps whole chunks, and running it again completes it."
    )


def _read_only(where: str | None) -> LedgerError:
    return LedgerError(
        f"{where or 'The data directory'} is on a read-only file system. Set UNITECON_HOME "
        f"(now {_home_hint()}) to a directory you can write, then run the command again."
    )


def _denied(where: str | None) -> LedgerError:
    return LedgerError(
        f"No permission to write {where or 'the data directory'}. Set UNITECON_HOME (now "
        f"{_home_hint()}) to a directory you can write, or fix the directory's permissions."
    )


def damaged_hint(ledger: Path) -> str:
    """How to rebuild a damaged ledger from the sources its lineage log lists."""
    log = ledger.parent / LINEAGE_LOG
    listed = f"The sources that went into it are listed in {log}. " if log.exists() else ""
    return (
        f" {listed}To rebuild: `mv {ledger} {ledger}.damaged`, then `unitecon ingest` those "
        "files again (ingest is idempotent, so re-running any of them is safe)."
    )


def log_lineage(ledger: Path | None, row: dict[str, Any]) -> None:
    """Append one lineage row to the log beside the ledger (best effort: a ledger in memory,
    or a log that cannot be written, is skipped)."""
    if ledger is None:
        return
    row = {**row, "logged_at": datetime.now(UTC).isoformat()}
    try:
        with (ledger.parent / LINEAGE_LOG).open("a", encoding="utf-8") as f:
            f.write(json.dumps(row, default=str) + "\n")
    except OSError:
        pass
