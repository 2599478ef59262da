"""Read API of the bill reconciliation: the bill against the ledger, with its residuals
explained, and the capture rate (tracked / billed) per provider with its alert (the
answers of `unitecon reconcile --json`). The comparison lives in `unitecon.reconcile`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from unitecon.analysis.answers import Model
from unitecon.server.api import FilterParams, ReadKey, ask, cached
from unitecon.server.errors import COMMON_RESPONSES

router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES, tags=["billing"])


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
        for r in rec.rows[:limit]
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


def _reconcile(request: Request, since: Any, until: Any, limit: int) -> Reconciliation:
    from unitecon.reconcile import reconcile_ledger

    return ask(request, lambda a: _answer(reconcile_ledger(a, since, until), limit))


@router.get("/reconcile", response_model=Reconciliation, summary="The bill against the ledger")
def reconcile(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    limit: Annotated[int, Query(ge=1, le=5000, description="Rows to return.")] = 200,
) -> Reconciliation:
    """Per provider, bill period and model: computed, reported and billed cost, the residual
    and what explains it; the capture rate per provider with its alert. `since`/`until`
    select the bill periods (default: every imported bill)."""
    return cached(request, response, "reconcile",
                  lambda: _reconcile(request, f.since, f.until, limit),
                  since=f.since, until=f.until, limit=limit)  # fmt: skip


@router.get("/capture-rate", response_model=list[CaptureRate], summary="Capture rate")
def capture_rate(
    request: Request, response: Response, key: ReadKey, f: FilterParams
) -> list[CaptureRate]:
    """Tracked / billed per provider and overall, with the alert below the project file's
    `reconcile.capture_alert_below`."""
    answer = cached(request, response, "reconcile",
                    lambda: _reconcile(request, f.since, f.until, 200),
                    since=f.since, until=f.until, limit=200)  # fmt: skip
    return answer.capture
