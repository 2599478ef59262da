"""The answers of the bill reconciliation (`unitecon reconcile --json`, `GET
/api/v1/reconcile`) and of the stored bills (`unitecon bills list --json`, `GET
/api/v1/bills`): the questions of this stage, asked of the analysis core's costed events.
The command line asks them here, or of the running service, which answers with the same
functions (`cli/session.py`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from unitecon.analysis.answers import Filters, Model


class CaptureRate(Model):
    """Tracked / billed for one provider (or `all`) over the bill's periods."""

    provider: str
    tracked: Decimal
    """The ledger's computed cost [USD] over the bill's periods."""
    billed: Decimal
    """What the provider billed [USD] for those periods."""
    rate: Decimal | None
    """tracked / billed (6 places); null when nothing was billed."""
    alert: bool
    """The rate is below the project file's `reconcile.capture_alert_below`."""


class Explanation(Model):
    kind: str
    """unknown_model, untracked_usage, sampling, price_difference, not_billed,
    within_tolerance or unexplained."""
    amount: Decimal
    """The part of the residual it explains [USD], signed as the residual."""
    text: str


class ReconcileRow(Model):
    """One provider x bill period x model."""

    provider: str
    period_start: dt.date
    period_end: dt.date
    """Exclusive."""
    model: str
    computed: Decimal
    reported: Decimal | None
    """The sources' own reported cost [USD], where any reported one."""
    billed: Decimal
    residual: Decimal
    """billed - computed [USD]."""
    residual_pct: Decimal | None
    billed_tokens: int | None
    """Input + output tokens the provider's usage report counted."""
    ledger_tokens: int
    events: int
    status: str
    """match, explained or unexplained."""
    explanations: list[Explanation]


class ExplanationTotal(Model):
    provider: str
    kind: str
    rows: int
    amount: Decimal
    example: str


class ReportedGap(Model):
    provider: str
    model: str
    events: int
    reported: Decimal
    computed: Decimal
    gap: Decimal
    gap_pct: Decimal | None
    flagged: int
    """Calls off beyond `reconcile.reported_tolerance_pct`."""


class Reconciliation(Model):
    threshold: Decimal
    """The capture-rate alert threshold of the project file."""
    capture: list[CaptureRate]
    alerts: list[str]
    """Providers (or `all`) whose capture rate is below the threshold."""
    sources: dict[str, str]
    """Provider -> the bill source its cost lines came from."""
    summary: list[ExplanationTotal]
    total_rows: int
    rows: list[ReconcileRow]
    """Largest residual first; the first `limit`."""
    reported: list[ReportedGap]
    uncovered_days: dict[str, int]
    """Provider -> days with ledger cost outside the bills' periods (not reconciled)."""
    skipped: dict[str, int]
    """Currency -> bill lines left out (no rate in the project file's `revenue.rates`)."""


def _answer(rec: Any, limit: int) -> Reconciliation:
    rows = [
        ReconcileRow(**{k: v for k, v in r.as_dict().items() if k in ReconcileRow.model_fields})
        for r in (rec.rows[:limit] if limit else rec.rows)
    ]
    return Reconciliation(
        threshold=rec.threshold,
        capture=[CaptureRate(**c.__dict__) for c in rec.capture],
        alerts=[c.provider for c in rec.alerts],
        sources=rec.sources,
        summary=[ExplanationTotal(**s) for s in rec.summary()],
        total_rows=len(rec.rows),
        rows=rows,
        reported=[ReportedGap(**g.as_dict()) for g in rec.reported],
        uncovered_days=rec.uncovered_days,
        skipped=rec.skipped,
    )


class BillTotal(Model):
    """Billed amount and lines per provider, calendar month and source."""

    provider: str
    month: str
    format: str
    kind: str
    lines: int
    amount: Decimal | None
    tokens: Decimal | None
    """Input + output tokens the usage reports counted."""
    first: dt.datetime | None
    last: dt.datetime | None


def reconciliation(a: Any, f: Filters, limit: int = 0) -> Reconciliation:
    """The bill against the ledger for the bill periods in `f`'s window: residuals, their
    explanations, capture rate (`limit` rows, largest residual first; 0: all)."""
    from unitecon.reconcile.run import reconcile_ledger

    return _answer(reconcile_ledger(a, f.since, f.until), limit)


def bills(a: Any) -> list[BillTotal]:
    """What bills the ledger holds."""
    from unitecon.billing import totals

    with a.ledger() as store:
        return [BillTotal.model_validate(r) for r in totals(store.con)]
