"""The ledger's side of a reconciliation: computed and reported cost per provider, UTC day
and model, in one function over the analysis core's costed events (`Analysis.events`), so
the bill is compared with the very numbers every other surface shows.

Computed cost is the attribution stage's variable cost (`var_cost`: catalog prices with the
project's overrides and discounts, weighted by 1/sample_rate), leaf calls only, API calls
only (self-hosted endpoint calls are not on a provider's bill).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis

WEIGHT = "decimal(18, 6)"


@dataclass(frozen=True)
class LedgerDay:
    """What the ledger knows of one provider, UTC day and model (as the events name it)."""

    provider: str
    day: dt.date
    model: str
    computed: Decimal
    """Variable cost [USD], sampling-weighted."""
    events: int
    tokens: int
    """Input + output tokens, sampling-weighted (input inclusive of cache)."""
    input_tokens: int
    output_tokens: int
    input_cost: Decimal
    """The input tokens' part of `computed` [USD], sampling-weighted."""
    unpriced_events: int
    unpriced_tokens: int
    sampled_events: int
    sampled_cost: Decimal
    mean_sample_rate: float
    reported: Decimal | None
    """Sum of the sources' own `reported_cost` [USD], weighted; None when none reported."""
    reported_events: int
    computed_where_reported: Decimal
    """Our cost of the events that carry a reported cost, unweighted (same events)."""
    reported_where_reported: Decimal
    reported_flagged: int
    """Events whose reported cost is off ours by more than the tolerance."""


def ledger_days(
    analysis: Any,
    since: dt.date | None = None,
    until: dt.date | None = None,
    reported_tolerance_pct: Decimal = Decimal(1),
) -> list[LedgerDay]:
    """Per provider x UTC day x model: the ledger's computed and reported cost, from the
    analysis core's costed events of [since, until)."""
    from unitecon.analysis.answers import Filters

    events = analysis.events(Filters(since=since, until=until), once=True)
    return _aggregate(events, reported_tolerance_pct)


def _aggregate(t: Any, tol_pct: Decimal) -> list[LedgerDay]:
    t = t.filter((t.cost_kind != "structural") & t.endpoint.isnull() & t.provider.notnull())
    t = t.mutate(day=t.ts.date(), model=t.model.fill_null(""))
    sampled = t.sample_rate < 1
    weight = ibis.ifelse(sampled, (1 / t.sample_rate).round(6), 1.0).cast(WEIGHT)
    tokens = (t.input_tokens + t.output_tokens).cast("float64") / t.sample_rate
    has_rep = t.reported_cost.notnull()
    cost = t.cost.fill_null(0)
    tol = ibis.literal(tol_pct / 100, "decimal(18, 6)")
    off = (t.reported_cost - cost).abs() > ibis.greatest(cost * tol, ibis.literal(Decimal("1e-6")))
    agg = (
        t.group_by(["provider", "day", "model"])
        .aggregate(
            computed=t.var_cost.sum(),
            events=t.count(),
            tokens=tokens.sum(),
            input_tokens=(t.input_tokens.cast("float64") / t.sample_rate).sum(),
            output_tokens=(t.output_tokens.cast("float64") / t.sample_rate).sum(),
            input_cost=ibis.ifelse(t.cost_kind == "token", t.input_cost * weight, 0).sum(),
            unpriced_events=(t.cost_kind == "unpriced").sum(),
            unpriced_tokens=ibis.ifelse(t.cost_kind == "unpriced", tokens, 0.0).sum(),
            sampled_events=sampled.sum(),
            sampled_cost=ibis.ifelse(sampled, t.var_cost, 0).sum(),
            mean_sample_rate=t.sample_rate.mean(),
            reported=(t.reported_cost * weight).sum(),
            reported_events=has_rep.sum(),
            computed_where_reported=ibis.ifelse(has_rep, cost, 0).sum(),
            reported_where_reported=t.reported_cost.fill_null(0).sum(),
            reported_flagged=(has_rep & off).sum(),
        )
        .order_by(["provider", "day", "model"])
    )
    out = []
    for r in agg.to_pyarrow().to_pylist():
        out.append(
            LedgerDay(
                provider=str(r["provider"]).lower(),
                day=r["day"],
                model=r["model"],
                computed=Decimal(r["computed"] or 0),
                events=int(r["events"]),
                tokens=round(r["tokens"] or 0),
                input_tokens=round(r["input_tokens"] or 0),
                output_tokens=round(r["output_tokens"] or 0),
                input_cost=Decimal(r["input_cost"] or 0),
                unpriced_events=int(r["unpriced_events"] or 0),
                unpriced_tokens=round(r["unpriced_tokens"] or 0),
                sampled_events=int(r["sampled_events"] or 0),
                sampled_cost=Decimal(r["sampled_cost"] or 0),
                mean_sample_rate=float(r["mean_sample_rate"] or 1),
                reported=None if r["reported"] is None else Decimal(r["reported"]),
                reported_events=int(r["reported_events"] or 0),
                computed_where_reported=Decimal(r["computed_where_reported"] or 0),
                reported_where_reported=Decimal(r["reported_where_reported"] or 0),
                reported_flagged=int(r["reported_flagged"] or 0),
            )
        )
    return out
