"""Runaway tasks: agent loops that make far more calls than the other tasks of their feature.

A task (`task_id`, else the trace, else the event) is flagged when its leaf calls exceed

    calls_limit = max(min_calls, floor(factor x p99(leaf calls of the feature's tasks)))

(defaults: factor 3, at least 50 calls). Calls, not cost: a loop repeats calls, while a costly
task with a normal number of calls is a long context or an expensive model, which the unit
metrics and the anomaly monitors report. The 99th percentile assumes runaways are under 1 % of
a feature's tasks (a feature where loops are common shows up as rework in `unitecon
outcomes`). Each flagged task names the agent that made most of its calls: the one to give a
step or budget limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis

from unitecon.attribution.frame import is_leaf, task_key
from unitecon.governance.config import RunawayConfig


@dataclass(frozen=True)
class Runaway:
    task: str
    feature: str | None
    customer_id: str | None
    calls: int
    cost: Decimal
    started: dt.datetime
    ended: dt.datetime
    calls_limit: int
    agent: str | None = None
    agent_calls: int = 0

    @property
    def minutes(self) -> float:
        return round((self.ended - self.started).total_seconds() / 60, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "feature": self.feature,
            "customer_id": self.customer_id,
            "calls": self.calls,
            "cost": self.cost,
            "started": self.started.isoformat(),
            "ended": self.ended.isoformat(),
            "minutes": self.minutes,
            "calls_limit": self.calls_limit,
            "agent": self.agent,
            "agent_calls": self.agent_calls,
        }


def runaway_tasks(
    events: Any, cfg: RunawayConfig | None = None, top: int | None = None
) -> list[Runaway]:
    """Flagged tasks, most expensive first (`top` of them if given)."""
    cfg = cfg or RunawayConfig()
    t = events.filter(is_leaf(events)).mutate(_task=task_key(events))
    tasks = t.group_by("_task").aggregate(
        feature=t.feature.arbitrary(),
        customer_id=t.customer_id.arbitrary(),
        calls=t.count(),
        cost=t.var_cost.sum(),
        started=t.ts.min(),
        ended=t.ts.max(),
    )
    p = tasks.group_by("feature").aggregate(p_calls=tasks.calls.quantile(0.99))
    j = tasks.left_join(p, tasks.feature.identical_to(p.feature)).select(*tasks.columns, "p_calls")
    limit = ibis.greatest(ibis.literal(cfg.min_calls), (j.p_calls * cfg.factor).floor())
    j = j.mutate(calls_limit=limit.cast("int64"))
    flagged = j.filter(j.calls > j.calls_limit)
    flagged = flagged.order_by([ibis.desc("cost"), "_task"])
    if top is not None:
        flagged = flagged.limit(top)
    rows = flagged.to_pyarrow().to_pylist()
    agents = _top_agents(t, [r["_task"] for r in rows])
    return [
        Runaway(
            r["_task"],
            r["feature"],
            r["customer_id"],
            int(r["calls"]),
            Decimal(r["cost"] or 0),
            r["started"],
            r["ended"],
            int(r["calls_limit"]),
            *agents.get(r["_task"], (None, 0)),
        )
        for r in rows
    ]


def _top_agents(t: Any, tasks: list[str]) -> dict[str, tuple[str | None, int]]:
    """For each task, the agent with the most leaf calls (ties: the first by name)."""
    if not tasks:
        return {}
    s = t.filter(t._task.isin(tasks))
    col = "agent_r" if "agent_r" in s.columns else "agent"  # resolved from the tree if given
    g = s.group_by("_task", a=s[col]).aggregate(n=s.count())
    rows = g.order_by(["_task", ibis.desc("n"), "a"]).to_pyarrow().to_pylist()
    out: dict[str, tuple[str | None, int]] = {}
    for r in rows:
        out.setdefault(r["_task"], (r["a"], int(r["n"])))
    return out
