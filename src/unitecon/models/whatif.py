"""What-if comparison: baseline vs scenario, savings and each transformation's contribution.

Pure: works on the totals the replay (`unitecon.economics.replay`) computed per step.

    cost_k          variable cost + idle GPU cost after transformations 1..k   [USD]
    savings         cost_0 - cost_K                                              [USD]
    contribution_k  cost_{k-1} - cost_k  (sums to the savings by construction)   [USD]

Contributions are sequential: each is measured given the ones before it (the order of the
file), the usual waterfall convention; reorder the file to see another attribution.
Unit metrics come from `unitecon.economics.metrics` (the one place they are defined).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from unitecon.economics import metrics

ZERO = Decimal(0)
MICRO = Decimal("1e-6")


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


def compare_groups(base: Sequence[Group], scen: Sequence[Group]) -> list[dict[str, Any]]:
    """Baseline vs scenario per key, largest saving first."""
    b = {g.key: g for g in base}
    s = {g.key: g for g in scen}
    rows = []
    for key in sorted(set(b) | set(s), key=lambda k: (k is None, str(k))):
        gb = b.get(key, Group(key, ZERO, 0, 0))
        gs = s.get(key, Group(key, ZERO, 0, 0))
        rows.append(
            {
                "key": key,
                "baseline": _metrics(gb.cost, gb.requests, gb.tasks),
                "scenario": _metrics(gs.cost, gs.requests, gs.tasks),
                "savings": _m(gb.cost - gs.cost),
            }
        )
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
    margins: dict[str, Any] | None = None

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
                dim: compare_groups(b.groups.get(dim, []), s.groups.get(dim, []))
                for dim in b.groups
            },
            "margins": self.margins,
            "notes": self.notes,
        }
