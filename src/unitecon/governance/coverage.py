"""Tagging coverage: how much of the spend can be attributed to a customer, feature, team...

FinOps' allocation KPI: for each business dimension, the share of variable cost (and of leaf
calls) whose events carry a value. Untagged cost cannot be charged back, shows up as
"(untagged)" in every report, and hides real margins, so the sources that emit most of it are
listed, to fix at the instrumentation:

    cost_coverage[dim]  = var_cost of leaf events with dim set / total var_cost
    call_coverage[dim]  = leaf events with dim set / leaf events

An empty string counts as untagged. Structural spans (agents, workflows) are not calls and
carry no cost, so they are left out of both.

A last row, `usage`, is the share of model calls that came with their usage: a call without
it (`price_status` 'usage_missing': a stream sent without `include_usage`, an instrumentation
that dropped the counts) has an unknown cost, so its spend cannot be shown; its sources are
listed with their number of such calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis

from unitecon.attribution.frame import is_leaf
from unitecon.engine import drop, materialize
from unitecon.ledger import dimensions
from unitecon.pricing.engine import source_name

#: The business tags whose coverage is reported: the registry's coverage dimensions.
DIMENSIONS = tuple(
    d.column for d in dimensions.REGISTRY if dimensions.COVERAGE in d.uses and d.column
)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Coverage:
    dim: str
    cost: Decimal
    tagged_cost: Decimal
    calls: int
    tagged_calls: int
    worst: tuple[tuple[str, Decimal], ...]
    """The sources (files, receivers) with the most untagged cost, largest first."""

    @property
    def untagged_cost(self) -> Decimal:
        return self.cost - self.tagged_cost

    @property
    def cost_share(self) -> Decimal | None:
        return self.tagged_cost / self.cost if self.cost else None

    @property
    def call_share(self) -> Decimal | None:
        return Decimal(self.tagged_calls) / self.calls if self.calls else None

    def as_dict(self) -> dict[str, Any]:
        q = Decimal("0.0001")
        return {
            "dimension": self.dim,
            "cost": self.cost,
            "tagged_cost": self.tagged_cost,
            "untagged_cost": self.untagged_cost,
            "cost_coverage": None if self.cost_share is None else self.cost_share.quantize(q),
            "calls": self.calls,
            "tagged_calls": self.tagged_calls,
            "call_coverage": None if self.call_share is None else self.call_share.quantize(q),
            "top_untagged_sources": [{"source": s, "cost": c} for s, c in self.worst],
        }


def coverage(events: Any, dims: tuple[str, ...] = DIMENSIONS, worst: int = 3) -> list[Coverage]:
    """Coverage of each dimension, in the order given: one scan for the totals, one grouped
    pass for the untagged cost of every source in every dimension (each source's name taken
    once per event, not once per dimension), and the `worst` sources of each dimension read
    from that table."""
    t = events.filter(is_leaf(events))
    tagged = {d: _tagged(t, d) for d in dims}
    zero = ibis.literal(ZERO).cast(t.var_cost.type())
    aggs: dict[str, Any] = {"cost": t.var_cost.sum(), "calls": t.count()}
    for d, ok in tagged.items():
        aggs[f"c_{d}"] = ibis.ifelse(ok, t.var_cost, zero).sum()
        aggs[f"n_{d}"] = ok.sum()
    row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    usage = "price_status" in t.columns
    by_source, name = _untagged_by_source(t, dims, usage)
    try:
        out = []
        for i, d in enumerate(dims):
            top = _top(by_source, f"n{i}", f"u{i}", worst)
            out.append(
                Coverage(
                    d,
                    Decimal(row["cost"] or 0),
                    Decimal(row[f"c_{d}"] or 0),
                    int(row["calls"]),
                    int(row[f"n_{d}"] or 0),
                    tuple((r["src"] or "", Decimal(r["v"] or 0)) for r in top if r["v"]),
                )
            )
        if usage:
            out.append(_usage(t, Decimal(row["cost"] or 0), _top(by_source, "lost", "lost", worst)))
    finally:
        drop(by_source, name)
    return out


def _tagged(t: Any, d: str) -> Any:
    """Whether the events of `t` carry dimension `d` (an empty string counts as untagged)."""
    return t[d].notnull() & (t[d].cast("string") != "")


def _lost(t: Any) -> Any:
    """Whether an event of `t` is a model call without its usage."""
    return t.model.notnull() & (t.price_status == "usage_missing")


def _untagged_by_source(t: Any, dims: tuple[str, ...], usage: bool) -> tuple[Any, str]:
    """Per source name (`src`), for the i-th dimension of `dims`: `n{i}` its events
    without the tag, `u{i}` their cost; with `usage`, `lost`: its model calls without
    usage. Materialized: one pass over the events, each dimension's top sources are then a
    read of this table."""
    anything = [~_tagged(t, d) for d in dims] + ([_lost(t)] if usage else [])
    if anything:
        t = t.filter(ibis.or_(*anything))
    aggs: dict[str, Any] = {}
    for i, d in enumerate(dims):
        aggs[f"n{i}"] = t.count(where=~_tagged(t, d))
        aggs[f"u{i}"] = t.var_cost.sum(where=~_tagged(t, d))
    if usage:
        aggs["lost"] = t.count(where=_lost(t))
    return materialize(t.group_by(src=source_name(t)).aggregate(**aggs))


def _top(by_source: Any, count: str, value: str, worst: int) -> list[dict[str, Any]]:
    """The `worst` sources with an event counted in `count`, largest `value` first."""
    g = by_source.filter(by_source[count] > 0)
    rows: list[dict[str, Any]] = (
        g.select("src", v=g[value])
        .order_by([ibis.desc("v"), "src"])
        .limit(worst)
        .to_pyarrow()
        .to_pylist()
    )
    return rows


def _usage(t: Any, cost: Decimal, top: list[dict[str, Any]]) -> Coverage:
    """The `usage` row: model calls (leaf events with a model) with their usage; `top`
    holds the sources with most calls without it (their count, not a cost)."""
    calls = t.filter(t.model.notnull() & t.price_status.isin(["priced", "usage_missing"]))
    lost = calls.price_status == "usage_missing"
    row = calls.aggregate(n=calls.count(), lost=lost.sum()).to_pyarrow().to_pylist()[0]
    n = int(row["n"])
    return Coverage(
        "usage",
        cost,
        cost,
        n,
        n - int(row["lost"] or 0),
        tuple((r["src"] or "", Decimal(r["v"])) for r in top),
    )
