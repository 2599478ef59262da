"""Cost by dimension and period: the ledger's plain spend report.

Works on the attribution stage's costed events (`Costed.events`, column `var_cost`: token
prices + unit prices + self-hosted busy GPU time, already weighted by 1/sample_rate) or on
the pricing stage's priced events (column `cost`, token prices only; weighted here by
`weighted_cost`). Structural spans carry no cost (leaf-only), so any grouping sums to the
total. Fixed costs and idle GPU time are allocated by `unitecon.attribution.allocate`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from unitecon.attribution.frame import utc_date, weighted
from unitecon.ledger import dimensions

if TYPE_CHECKING:
    import pyarrow as pa

#: Cost dimension name -> column (or period column), from the one registry.
DIMENSIONS: dict[str, str] = {
    d.name: d.column or d.name for d in dimensions.REGISTRY if dimensions.COSTS in d.uses
}


def parse_dims(spec: str) -> list[str]:
    """The cost dimensions named in `spec` (comma-separated; aliases allowed)."""
    return [d.name for d in dimensions.parse(spec, dimensions.COSTS)]


def weighted_cost(t: ir.Table) -> ir.DecimalValue:
    """cost / sample_rate, exact for unsampled rows: cost x round(1/rate, 6) otherwise."""
    return ibis.ifelse(t.sample_rate == 1, t.cost, weighted(t.cost, t.sample_rate)).fill_null(0)


def with_periods(t: ir.Table) -> ir.Table:
    return t.mutate(
        day=utc_date(t),
        week=utc_date(t, "W"),
        month=utc_date(t, "M"),
    )


def filter_period(t: ir.Table, since: date | None, until: date | None) -> ir.Table:
    """Keep events with since <= ts < until (dates are UTC days)."""
    if since is not None:
        t = t.filter(t.ts >= datetime.combine(since, datetime.min.time()))
    if until is not None:
        t = t.filter(t.ts < datetime.combine(until, datetime.min.time()))
    return t


def costs_by(
    priced: ir.Table,
    dims: list[str],
    *,
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """Total cost, events and tokens per combination of `dims`, largest cost first.

    `priced` is a costed table (`var_cost`, preferred: all variable cost) or a priced one
    (`cost`: token prices only).
    """
    rows = cost_table(priced, dims, since=since, until=until).to_pylist()
    out = []
    for r in rows:
        row = {d: r[d] for d in dims}
        row.update(
            cost=Decimal(r["cost"] or 0),
            events=int(r["events"]),
            input_tokens=int(r["input_tokens"] or 0),
            output_tokens=int(r["output_tokens"] or 0),
            unpriced_events=int(r["unpriced_events"] or 0),
        )
        out.append(row)
    return out


def cost_table(
    priced: ir.Table,
    dims: list[str],
    *,
    since: date | None = None,
    until: date | None = None,
) -> pa.Table:
    """`costs_by` as the engine hands it back, in columns (Arrow): one column per dimension
    (named as the dimension), then `cost` (exact decimal; null where nothing was priced),
    `events`, `input_tokens`, `output_tokens` and `unpriced_events` (null: none)."""
    t = with_periods(filter_period(priced, since, until))
    cols = [DIMENSIONS[d] for d in dims]
    cost = t.var_cost if "var_cost" in t.columns else weighted_cost(t)
    agg = t.group_by(cols).aggregate(
        cost=cost.sum(),
        events=t.count(),
        input_tokens=t.input_tokens.sum(),
        output_tokens=t.output_tokens.sum(),
        unpriced=(t.price_status == "missing").sum(),
    )
    periods = [DIMENSIONS[d] for d in dims if dimensions.get(d).period]
    # a time series reads in time order; any other breakdown largest first
    agg = agg.order_by([*periods, ibis.desc("cost"), *(c for c in cols if c not in periods)])
    got = agg.to_pyarrow()
    return got.select(
        [*cols, "cost", "events", "input_tokens", "output_tokens", "unpriced"]
    ).rename_columns([*dims, "cost", "events", "input_tokens", "output_tokens", "unpriced_events"])
