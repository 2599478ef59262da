"""Read API of the bill reconciliation: the bill against the ledger, with its residuals
explained, and the capture rate (tracked / billed) per provider with its alert (the
answers of `unitecon reconcile --json`). The comparison lives in `unitecon.reconcile`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from unitecon.analysis.answers import Filters
from unitecon.reconcile.answers import (
    BillTotal,
    CaptureRate,
    Reconciliation,
    bills,
    reconciliation,
)
from unitecon.server.api import FilterParams, ReadKey, ask, cached
from unitecon.server.errors import COMMON_RESPONSES

router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES, tags=["billing"])


def _reconcile(request: Request, since: Any, until: Any, limit: int) -> Reconciliation:
    return ask(request, lambda a: reconciliation(a, Filters(since=since, until=until), limit))


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


@router.get("/bills", response_model=list[BillTotal], summary="The bills the ledger holds")
def bill_totals(request: Request, response: Response, key: ReadKey) -> list[BillTotal]:
    """Billed amount and lines per provider, calendar month and source (`unitecon bills
    list`)."""
    return cached(request, response, "bills", lambda: ask(request, bills))
