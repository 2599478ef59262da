"""`reconcile_ledger`: the bill in the ledger against the ledger's computed cost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache
from typing import Any

from unitecon.reconcile.computed import ledger_days
from unitecon.reconcile.reconcile import ModelKey, Reconciliation, reconcile
from unitecon.reconcile.reported import reported_gaps


def catalog_model_key(pricing: Any) -> ModelKey:
    """The catalog's model id for a (provider, model) as genai-prices matches it, so that
    the bill's "gpt-4o-mini-2024-07-18" and the events' "gpt-4o-mini" meet; a model the
    catalog does not know keeps its own name."""
    from unitecon.pricing.catalog import Resolved, resolve

    @cache
    def key(provider: str, model: str) -> str:
        r = resolve(provider, model, pricing)
        return r.model_id if isinstance(r, Resolved) else model

    return key


def bill_lines(con: Any, since: dt.date | None, until: dt.date | None) -> list[dict[str, Any]]:
    """The stored bill lines whose period starts in [since, until) (UTC days)."""
    sql, params = "SELECT * FROM bill_lines WHERE true", []
    if since is not None:
        sql += " AND period_start >= ?"
        params.append(dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC))
    if until is not None:
        sql += " AND period_start < ?"
        params.append(dt.datetime.combine(until, dt.time(), tzinfo=dt.UTC))
    return con.execute(sql, params).fetch_arrow_table().to_pylist()  # type: ignore[no-any-return]


def reconcile_ledger(
    analysis: Any, since: dt.date | None = None, until: dt.date | None = None
) -> Reconciliation:
    """Reconcile the bills in the analysed ledger with its computed cost over [since, until)
    (default: the bills' own periods)."""
    project = analysis.project
    cfg = project.reconcile
    lines = bill_lines(analysis.source.con, since, until)
    if lines and since is None:  # the ledger side only over the bill's own periods
        since = min(x["period_start"] for x in lines).date()
    if lines and until is None:
        until = max(x["period_end"] for x in lines).date()
    days = ledger_days(analysis, since, until, cfg.reported_tolerance_pct)
    rates = {k.upper(): Decimal(v) for k, v in project.revenue.rates.items()}
    rec = reconcile(days, lines, catalog_model_key(project.pricing), cfg, rates)
    rec.reported = reported_gaps(days)
    return rec
