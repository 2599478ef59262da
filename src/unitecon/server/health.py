"""`GET /health`: is the service able to take and keep data right now?

Besides the writer's counters it reports what stops ingest before any request fails: the
free space of the disk holding the ledger, whether the writer's threads run, whether the
ledger answers, and the batches acknowledged but not yet in the ledger (the spool). It needs
no key, so it shows sizes and states, never a path, an error text or any data.

`status` is `ok`, `degraded` (it works, but look: under 1 GiB or 5 % free, a write failed
since start, batches waiting in the spool for long) or `failing` (ingest will fail: under
64 MiB free, the writer stopped, the ledger does not answer); `failing` is answered 503 so
a load balancer or a probe takes it out of service.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from fastapi import Request, Response
from pydantic import Field

from unitecon.analysis.answers import Health

GIB = 1 << 30
#: Under this free space ingest is about to fail: `failing`.
FAILING_FREE_BYTES = 64 << 20
#: Under this free space (or `DEGRADED_FREE_SHARE`): `degraded`.
DEGRADED_FREE_BYTES = GIB
DEGRADED_FREE_SHARE = 0.05


class ServiceHealth(Health):
    """Liveness, the writer's counters, and the state of the disk and the ledger."""

    problems: list[str] = Field(default_factory=list)
    """What makes the status `degraded` or `failing`, in plain words (empty when ok)."""
    disk_free_bytes: int | None = None
    """Free space of the file system holding the ledger (None: in memory)."""
    disk_total_bytes: int | None = None
    ledger_bytes: int | None = None
    """Size of the ledger file and its write-ahead log."""
    ledger_ok: bool = True
    """The ledger answered a trivial query just now."""
    writer_running: bool = True
    """The writer's threads (validate, spool, commit) are running."""
    write_failures: int = 0
    """Requests whose write failed since start (each was answered 503)."""


def service_health(request: Request, response: Response) -> ServiceHealth:
    app = request.app
    writer = app.state.writer
    stats = writer.stats
    problems: list[str] = []
    failing = False
    path: Path | None = writer.ledger.path
    free = total = size = None
    if path is not None:
        try:
            usage = shutil.disk_usage(path.parent)
            free, total = usage.free, usage.total
            size = sum(p.stat().st_size for p in (path, Path(f"{path}.wal")) if p.exists())
        except OSError:
            problems.append("the ledger's directory cannot be read")
            failing = True
    if free is not None and total:
        if free < FAILING_FREE_BYTES:
            problems.append(f"the disk holding the ledger is full ({free >> 20} MiB free)")
            failing = True
        elif free < DEGRADED_FREE_BYTES or free < DEGRADED_FREE_SHARE * total:
            problems.append(f"the disk holding the ledger is nearly full ({free >> 20} MiB free)")
    running = all(t.is_alive() for t in getattr(writer, "_threads", []))
    if not running:
        problems.append("the writer has stopped: ingest is refused; restart the service")
        failing = True
    ledger_ok = True
    try:
        cur = writer.ledger.con.cursor()
        try:
            cur.execute("SELECT 1").fetchone()
        finally:
            cur.close()
    except Exception:
        ledger_ok = False
        problems.append("the ledger does not answer")
        failing = True
    if stats.failed:
        problems.append(f"{stats.failed} request(s) failed to write since start (see the log)")
    status = "failing" if failing else "degraded" if problems else "ok"
    if failing:
        response.status_code = 503
    from unitecon import __version__

    return ServiceHealth(
        status=status,
        version=__version__,
        spans_written=stats.rows_written,
        queue_rows=stats.queue_rows,
        refused=stats.refused,
        problems=problems,
        disk_free_bytes=free,
        disk_total_bytes=total,
        ledger_bytes=size,
        ledger_ok=ledger_ok,
        writer_running=running,
        write_failures=stats.failed,
    )
