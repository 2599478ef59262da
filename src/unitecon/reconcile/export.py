"""The exports of `unitecon export`: the ledger's cost as FOCUS 1.2, its events as a lake.

Both read the ledger and write files. `focus_export` and `lake_export` take the analysis
core (`Analysis`) and the request, so the command line runs them on its own read of the
ledger, or, while `unitecon serve` holds the ledger, the service runs the same functions on
its read cursor (`POST /api/v1/admin/export/focus|lake`, an admin key: it writes files on
the service's machine, which is the command's: the service file is found beside the ledger).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from unitecon.analysis.answers import Model


class FocusRequest(BaseModel):
    """Where to write the FOCUS 1.2 export (.csv or .parquet), for which UTC days."""

    path: str
    since: dt.date | None = None
    until: dt.date | None = None
    account: str = "unitecon"
    """BillingAccountId / Name to write."""


class FocusExport(Model):
    path: str
    rows: int
    first_day: dt.date | None
    """The first charge period's day (None: no charges)."""
    last_day: dt.date | None
    billed_by_service: dict[str, Decimal]
    """ServiceName -> BilledCost [USD] over the exported days."""


class LakeRequest(BaseModel):
    """Where to write the lake (a folder), for which UTC days."""

    path: str
    since: dt.date | None = None
    until: dt.date | None = None


class LakeExport(Model):
    lake: str
    days: int
    events: int
    quarantined: int


def focus_export(a: Any, req: FocusRequest) -> FocusExport:
    """Write the FOCUS rows of the ledger's cost in [since, until) to `req.path`."""
    from unitecon.errors import UniteconError
    from unitecon.reconcile import focus as f

    path = Path(req.path)
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise UniteconError(f"--focus {path}: name a .csv or .parquet file")
    rows = f.focus_rows(a, req.since, req.until, req.account)
    f.write(rows, path)
    days = sorted({r["ChargePeriodStart"].date() for r in rows})
    return FocusExport(
        path=str(path),
        rows=len(rows),
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        billed_by_service=f.totals(rows),
    )


def lake_export(a: Any, req: LakeRequest) -> LakeExport:
    """Write the ledger's events of [since, until) by UTC day, quarantine and lineage as
    Parquet under `req.path` (`ledger.lake.export`)."""
    from unitecon.ledger.lake import export

    with a.ledger() as store:
        done = export(store, Path(req.path), req.since, req.until)
    return LakeExport(
        lake=req.path, days=done.days, events=done.events, quarantined=done.quarantined
    )
