"""What-if comparison: baseline vs scenario, savings and each transformation's contribution.

Pure: works on the totals the replay (`unitecon.economics.replay`) computed per step.

    cost_k          variable cost + idle GPU cost after transformations 1..k   [USD]
    savings         cost_0 - cost_K                                              [USD]
    contribution_k  cost_{k-1} - cost_k  (sums to the savings by construction)   [USD]

Contributions are sequential: each is measured given the ones before it (the order of the
file), the usual waterfall convention; reorder the file to see another attribution.
Unit metrics come from `unitecon.economics.metrics` (the one place they are defined).

Margins come from the margins stage (`unitecon.economics.analysis.margins`, run on the
baseline's and the scenario's usage with the project's plans), rolled up by
`economics.margins.roll_up`; here only their differences are taken:

    gross_margin_change      gross_margin_K - gross_margin_0                          [USD]
    gross_margin_pct_change  gross_margin_pct_K - gross_margin_pct_0  (None if either is
                             undefined: no revenue)                      [fraction, points/100]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from unitecon.economics import metrics
from unitecon.economics.analysis import Margins
from unitecon.economics.inputs import UNATTRIBUTED
from unitecon.economics.margins import By, MarginRow, roll_up

ZERO = Decimal(0)
MICRO = Decimal("1e-6")
#: The replay's group dimensions and the margins stage's roll-up of the same key.
MARGIN_BY: dict[str, By] = {"feature": "feature", "customer_id": "customer"}


def _m(x: Decimal) -> Decimal:
    """Money as reported: exact sums, shown to 1e-6 USD (sub-cent unit costs stay visible)."""
    return x.quantize(MICRO)


@dataclass(frozen=True)
class Group:
    """Cost and volume of one feature or customer."""

    key: Any
    cost: Decimal
    requests: int
    tasks: int


@dataclass(frozen=True)
class Side:
    """One priced replay: totals and groups by dimension."""

    variable_cost: Decimal
    idle_cost: Decimal
    requests: int
    tasks: int
    groups: dict[str, list[Group]] = field(default_factory=dict)

    @property
    def cost(self) -> Decimal:
        return self.variable_cost + self.idle_cost


def _metrics(cost: Decimal, requests: int, tasks: int) -> dict[str, Any]:
    return {
        "cost": _m(cost),
        "requests": requests,
        "tasks": tasks,
        "cost_per_request": metrics.cost_per_request(cost, requests),
        "cost_per_task": metrics.cost_per_task(cost, tasks),
    }


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    return metrics.share(part, whole)


def _margin(r: MarginRow | None) -> dict[str, Any]:
    if r is None:
        return {"revenue": ZERO, "gross_margin": ZERO, "gross_margin_pct": None}
    pct = r.gross_margin_pct
    return {
        "revenue": r.revenue,
        "variable_cost": _m(r.variable_cost),
        "fixed_cost": r.fixed_cost,
        "gross_margin": _m(r.gross_margin),
        "gross_margin_pct": None if pct is None else pct.quantize(MICRO),
    }


def margin_change(base: MarginRow | None, scen: MarginRow | None) -> dict[str, Any]:
    """Revenue, cost and gross margin before and after, and the changes (module docstring)."""
    b, s = _margin(base), _margin(scen)
    pb, ps = b["gross_margin_pct"], s["gross_margin_pct"]
    gb = base.gross_margin if base else ZERO
    gs = scen.gross_margin if scen else ZERO
    return {
        "baseline": b,
        "scenario": s,
        "gross_margin_change": _m(gs - gb),
        "gross_margin_pct_change": None if pb is None or ps is None else ps - pb,
    }


def total_row(rows: Sequence[MarginRow]) -> MarginRow:
    """All margin rows summed (one group)."""
    return MarginRow(
        key=("total",),
        revenue=sum((r.revenue for r in rows), ZERO),
        variable_cost=sum((r.variable_cost for r in rows), ZERO),
        fixed_cost=sum((r.fixed_cost for r in rows), ZERO),
    )


def _by_key(m: Margins | None, dim: str) -> dict[Any, MarginRow]:
    """Margin roll-up by the replay's dimension, keyed like its groups (no customer: None)."""
    if m is None or dim not in MARGIN_BY:
        return {}
    rows = roll_up(m.rows, MARGIN_BY[dim])
    out: dict[Any, MarginRow] = {}
    for r in rows:
        k = r.key[0]
        out[None if dim == "customer_id" and k == UNATTRIBUTED else k] = r
    return out


def compare_groups(
    base: Sequence[Group],
    scen: Sequence[Group],
    margins: tuple[dict[Any, MarginRow], dict[Any, MarginRow]] | None = None,
) -> list[dict[str, Any]]:
    """Baseline vs scenario per key (with its margins when given), largest saving first."""
    b = {g.key: g for g in base}
    s = {g.key: g for g in scen}
    mb, ms = margins or ({}, {})
    rows = []
    for key in sorted(set(b) | set(s) | set(mb) | set(ms), key=lambda k: (k is None, str(k))):
        gb = b.get(key, Group(key, ZERO, 0, 0))
        gs = s.get(key, Group(key, ZERO, 0, 0))
        row = {
            "key": key,
            "baseline": _metrics(gb.cost, gb.requests, gb.tasks),
            "scenario": _metrics(gs.cost, gs.requests, gs.tasks),
            "savings": _m(gb.cost - gs.cost),
        }
        if margins is not None:
            row["margin"] = margin_change(mb.get(key), ms.get(key))
        rows.append(row)
    return sorted(rows, key=lambda r: (-r["savings"], str(r["key"])))


@dataclass(frozen=True)
class WhatIf:
    """The result of a scenario."""

    name: str
    labels: list[str]
    """One per transformation, in order."""
    steps: list[Side]
    """Baseline, then after each transformation."""
    notes: list[str]
    margins: tuple[Margins, Margins] | None = None
    """The margins stage's result on the baseline's and on the scenario's usage."""
    window: tuple[dt.datetime, dt.datetime] | None = None
    """The replayed window [since, until), UTC."""

    @property
    def baseline(self) -> Side:
        return self.steps[0]

    @property
    def scenario(self) -> Side:
        return self.steps[-1]

    @property
    def savings(self) -> Decimal:
        return self.baseline.cost - self.scenario.cost

    def contributions(self) -> list[dict[str, Any]]:
        """Cost removed by each transformation, given the ones before it."""
        return [
            {
                "transformation": label,
                "savings": _m(before.cost - after.cost),
                "cost_after": _m(after.cost),
            }
            for label, before, after in zip(
                self.labels, self.steps[:-1], self.steps[1:], strict=True
            )
        ]

    def _margins_by(self, dim: str) -> tuple[dict[Any, MarginRow], dict[Any, MarginRow]]:
        mb, ms = self.margins or (None, None)
        return _by_key(mb, dim), _by_key(ms, dim)

    def margin_summary(self) -> dict[str, Any] | None:
        """Revenue and gross margin in total, before and after; None without margins."""
        if self.margins is None:
            return None
        mb, ms = self.margins
        return {
            "fixed_cost": "plan" if mb.inputs.allocated_fixed is None else "allocated",
            "total": margin_change(total_row(mb.rows), total_row(ms.rows)),
        }

    def as_dict(self) -> dict[str, Any]:
        b, s = self.baseline, self.scenario
        return {
            "scenario": self.name,
            "baseline": _metrics(b.cost, b.requests, b.tasks) | {"idle_gpu_cost": _m(b.idle_cost)},
            "scenario_result": _metrics(s.cost, s.requests, s.tasks)
            | {"idle_gpu_cost": _m(s.idle_cost)},
            "savings": _m(self.savings),
            "savings_share": _pct(self.savings, b.cost),
            "contributions": self.contributions(),
            "by": {
                dim: compare_groups(
                    b.groups.get(dim, []),
                    s.groups.get(dim, []),
                    None if self.margins is None else self._margins_by(dim),
                )
                for dim in b.groups
            },
            "margins": self.margin_summary(),
            "notes": self.notes,
        }
