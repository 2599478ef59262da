"""Task reports: the most expensive tasks, one task's tree, outcomes per task kind.

The engine finds and sums (`trees.task_rollup`, `outcomes.task_outcomes`); only the spans of
the tasks shown are fetched to build their trees in Python. Ratios come from
`unitecon.economics.metrics`, the one place they are defined.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from unitecon.attribution.costed import Costed
from unitecon.attribution.outcomes import OUTCOME_COLUMNS, outcome_summary, task_outcomes
from unitecon.attribution.trees import (
    AGENT_COLUMNS,
    ROLLUP_COLUMNS,
    Node,
    TreeStats,
    build_forest,
    task_rollup,
    tree_stats,
)
from unitecon.economics import metrics

_SPAN_COLUMNS = (
    "event_id", "ts", "span_id", "parent_span_id", "operation", "agent", "agent_r", "model",
    "endpoint", "unit_type", "units", "input_tokens", "output_tokens", "var_cost", "cost_kind",
    "status", "attempt", "accepted", "duration_ms",
)  # fmt: skip

TASK_COLUMNS = tuple(sorted({*ROLLUP_COLUMNS, *OUTCOME_COLUMNS, "feature", "customer_id"}))
"""The costed-event columns the task reports below read (`task_details` excepted): the
roll-up's, the outcomes', and the feature and customer filters'."""


DETAIL_COLUMNS = tuple(
    sorted({*(c for c in _SPAN_COLUMNS if c != "agent_r"), *TASK_COLUMNS, "trace_id"})
)
"""The costed-event columns `task_details` reads (`agent_r` is resolved from them)."""


def top_tasks(
    c: Costed,
    n: int,
    feature: str | None = None,
    customer: str | None = None,
    *,
    trees: bool = True,
) -> list[dict[str, Any]]:
    """The `n` most expensive tasks (variable cost) with structure, outcome and rework.

    Read from the table of `task_details` (`DETAIL_COLUMNS`): the trees of the first rows,
    which the command line shows next, then read the same table (`Analysis.task`). With
    `trees` False (no tree is read next: the service) from the columns read here only
    (`TASK_COLUMNS`: no event ids, tokens or span details to write).

    The `n` tasks are chosen first by their cost alone (the roll-up's `cost`, the same
    order and ties) in one pass over the window (`Costed.scan`), and only their events and
    their traces' spans are then written, resolved (`Costed.resolved_where`), rolled up and
    joined to their outcomes: every column of a task's roll-up and outcome is an aggregate
    of that task's events, and an agent is resolved among its trace's spans. The trees of
    these tasks are then read from the same table (`task_details`)."""
    q = _selected(c.scan(), feature, customer)
    cost = q.group_by("task").agg(cost=q.var_cost.sum())
    keys = [
        r["task"] for r in cost.order_by([t_desc("cost"), "task"]).limit(n).to_pyarrow().to_pylist()
    ]
    if not keys:
        return []
    t = _selected(
        c.resolved_where(keys, DETAIL_COLUMNS if trees else TASK_COLUMNS), feature, customer
    )
    t = t.filter(t.task.isin(keys))
    roll = task_rollup(t).order_by([t_desc("cost"), "task"]).limit(n)
    outc = task_outcomes(t).select("task", "kind", "outcome", "rework_cost")
    j = roll.left_join(outc, roll.task == outc.task).select(
        *roll.columns, "kind", "outcome", "rework_cost"
    )
    rows: list[dict[str, Any]] = j.order_by([t_desc("cost"), "task"]).to_pyarrow().to_pylist()
    for r in rows:
        r["supervisor_overhead"] = metrics.share(Decimal(r["supervisor_cost"] or 0), r["cost"])
    return rows


def _selected(t: Any, feature: str | None, customer: str | None) -> Any:
    if feature is not None:
        t = t.filter(t.feature == feature)
    if customer is not None:
        t = t.filter(t.customer_id == customer)
    return t


def t_desc(col: str) -> Any:
    import ibis

    return ibis.desc(col)


@dataclass(frozen=True)
class TaskDetail:
    """One task: its tree(s), stats, outcome and supervisor overhead."""

    task: str
    roots: list[Node]
    stats: TreeStats
    outcome: str
    supervisor: str | None
    supervisor_overhead: Decimal | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "cost": self.stats.cost,
            "calls": self.stats.calls,
            "depth": self.stats.depth,
            "fan_out": self.stats.fan_out,
            "outcome": self.outcome,
            "supervisor": self.supervisor,
            "supervisor_overhead": self.supervisor_overhead,
            "agents": {
                a: {"own_cost": own, "inclusive_cost": inc}
                for a, (own, inc) in self.stats.agents.items()
            },
            "tree": [_node_dict(r) for r in self.roots],
        }


def _node_dict(n: Node) -> dict[str, Any]:
    r = n.row
    return {
        "span_id": n.span_id,
        "operation": n.operation,
        "label": n.label,
        "own_cost": n.agent_own if n.is_agent else n.cost,
        "inclusive_cost": n.inclusive,
        "input_tokens": r.get("input_tokens"),
        "output_tokens": r.get("output_tokens"),
        "status": r.get("status"),
        "attempt": r.get("attempt"),
        "accepted": r.get("accepted"),
        "children": [_node_dict(c) for c in n.children],
    }


def task_details(c: Costed, task: str) -> TaskDetail | None:
    """The tree of one task (by task key or trace id); None when there is none. Read from
    the events of that task and its traces only (`Costed.resolved_where`), or from the
    table `top_tasks` wrote when it holds the task."""
    t = c.resolved_where([task], DETAIL_COLUMNS)
    t = t.filter((t.task == task) | (t.trace_id == task))
    rows = t.select(*_SPAN_COLUMNS, "task").to_pyarrow().to_pylist()
    if not rows:
        return None
    key = rows[0]["task"]
    roll = task_rollup(t).to_pyarrow().to_pylist()[0]
    outc = task_outcomes(t).to_pyarrow().to_pylist()[0]
    roots = build_forest(rows)
    return TaskDetail(
        task=key,
        roots=roots,
        stats=tree_stats(roots),
        outcome=outc["outcome"],
        supervisor=roll["supervisor"],
        supervisor_overhead=metrics.share(Decimal(roll["supervisor_cost"] or 0), roll["cost"]),
    )


def outcome_rows(c: Costed, by: str = "kind") -> list[dict[str, Any]]:
    """Per task kind (or feature): outcomes, spend, cost per (successful) task, rework.

    Read from the table `c.resolved(TASK_COLUMNS)` is built on (the task columns and the
    agent-tree columns), so that `outcomes` materializes the costed events once for this
    and `supervisor_overhead`, not twice (the agent columns are not read here)."""
    rows: list[dict[str, Any]] = (
        outcome_summary(c.narrow({*TASK_COLUMNS, *AGENT_COLUMNS}), by).to_pyarrow().to_pylist()
    )
    for r in rows:
        r["cost_per_task"] = metrics.cost_per_task(r["spend"], r["tasks"])
        r["cost_per_successful_task"] = metrics.cost_per_successful_task(r["spend"], r["succeeded"])
        r["rework_share"] = metrics.share(r["rework_cost"], r["spend"])
    return rows


def supervisor_overhead(c: Costed, by: str = "feature") -> list[dict[str, Any]]:
    """Per feature: supervisor's own cost / cost, over tasks with more than one agent."""
    roll = task_rollup(c.resolved(TASK_COLUMNS))
    multi = roll.filter(roll.agents > 1)
    agg = multi.group_by(by).agg(
        tasks=multi.count(), cost=multi.cost.sum(), supervisor_cost=multi.supervisor_cost.sum()
    )
    rows: list[dict[str, Any]] = agg.order_by(by).to_pyarrow().to_pylist()
    for r in rows:
        r["supervisor_overhead"] = metrics.share(Decimal(r["supervisor_cost"] or 0), r["cost"])
    return rows
