"""Agent trees: tasks, agents and the cost of each node, from span structure.

Leaf-only: only leaves (model calls, tools, units) carry cost; `invoke_agent` and workflow
spans are structure, so a node's inclusive cost is the sum of the leaves below it and a task's
cost is the sum of its leaves, whatever usage the structural spans repeat.

- `agent_r` (resolved agent): a call's own `agent`, else that of its nearest ancestor that
  has one (looked up `LEVELS` parents up, in the engine).
- supervisor of a task: the agent of its earliest `invoke_agent` span (the outermost agent),
  else of its root span. Supervisor overhead = cost of the calls the supervisor made itself
  (model and tool calls; human work under it, `HUMAN_OPERATIONS`, is not the agent's) / the
  task's cost.
- depth: nodes on the longest root-to-leaf path (a lone call has depth 1); fan-out: the most
  children of any one node. Agent own cost: leaves directly under the agent (not inside a
  sub-agent); inclusive cost: every leaf below it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ibis

from unitecon.attribution.frame import ZERO, is_leaf
from unitecon.ledger.schema import STRUCTURAL_OPERATIONS

LEVELS = 4
#: Work done by people, never counted as an agent's own overhead.
HUMAN_OPERATIONS = ("human_review", "labeling")


def resolve_agents(t: Any, levels: int = LEVELS, rows: Any = None) -> Any:
    """Add `agent_r`: own agent, else the nearest ancestor's (up to `levels` parents).

    `rows`: resolve these rows (a selection of `t`'s, with `trace_id`, `parent_span_id` and
    `agent`) against the spans of `t`, instead of every row of `t`: a row's `agent_r`
    depends on its own three columns and on the spans of its trace in `t` only (so the
    spans of other traces are left out before they are collected)."""
    cols = t.columns if rows is None else rows.columns
    if rows is not None:
        t = t.filter(t.trace_id.isin(rows.trace_id))
    nodes = t.select(
        _n_trace="trace_id", _n_span="span_id", _n_parent="parent_span_id", _n_agent="agent"
    ).distinct(on=["_n_trace", "_n_span"], keep="first")
    t = t if rows is None else rows
    cur = t.mutate(agent_r=t.agent, _up=t.parent_span_id)
    for _ in range(levels):
        j = cur.left_join(nodes, (cur.trace_id == nodes._n_trace) & (cur._up == nodes._n_span))
        j = j.select(*cols, "agent_r", "_up", "_n_agent", "_n_parent").view()
        found = j.agent_r.notnull()
        cur = j.select(
            *cols,
            agent_r=ibis.coalesce(j.agent_r, j._n_agent),
            _up=ibis.ifelse(found, ibis.null("string"), j._n_parent),
        ).view()
    return cur.drop("_up")


AGENT_COLUMNS = ("trace_id", "span_id", "parent_span_id", "agent")
"""The costed-event columns `resolve_agents` reads (`agent_r` is resolved from them)."""

ROLLUP_COLUMNS = (
    "task", "trace_id", "parent_span_id", "ts", "operation", "feature", "task_type",
    "customer_id", "var_cost",
)  # fmt: skip
"""The costed-event columns `task_rollup` reads, besides `agent_r`."""


def agent_lookup(t: Any, levels: int = LEVELS) -> Any:
    """The narrow table that `join_resolved` joins to `t` to give `resolve_agents(t)`.

    A call's `agent_r` depends only on its own `agent` and, where that is null, on its
    trace and parent span (and the trace's nodes): so the narrow table holds, per (trace,
    parent span) of a call without an agent, the agent `resolve_agents` finds, computed
    once on the four columns it reads. Materializing that table instead of every column of
    `t` again is what makes it cheap (`Costed.resolved`); the answer is the same row for row
    (a test compares the two; where a trace repeats a span id, `resolve_agents` keeps an
    arbitrary one of its rows either way).

    Only the distinct (trace, parent span) of the calls without an agent are walked up
    the spans (`resolve_agents`' `rows`), not every event: the joins probe those pairs."""
    spans = t.select(*AGENT_COLUMNS)
    asked = spans.filter(
        spans.agent.isnull() & spans.trace_id.notnull() & spans.parent_span_id.notnull()
    )
    pairs = asked.select("trace_id", "parent_span_id", "agent").distinct()
    narrow = resolve_agents(spans, levels, rows=pairs)
    found = narrow.group_by(_m_trace="trace_id", _m_parent="parent_span_id").aggregate(
        _m_agent=narrow.agent_r.max()  # one value per (trace, parent): the same ancestors
    )
    return found


def join_resolved(t: Any, found: Any) -> Any:
    """`t` with `agent_r`, from `agent_lookup(t)` (possibly materialized)."""
    j = t.left_join(
        found,
        (t.trace_id == found._m_trace) & (t.parent_span_id == found._m_parent) & t.agent.isnull(),
    )
    return j.select(*t.columns, agent_r=ibis.coalesce(j.agent, j._m_agent))


def task_rollup(t: Any) -> Any:
    """Per task (engine): cost, calls, agents, supervisor and its own cost, fan-out.

    `t` is a costed table with `agent_r` (see `resolve_agents`).
    """
    sup = t.group_by("task").agg(
        supervisor=ibis.coalesce(
            t.agent_r.argmin(t.ts, where=t.operation == "invoke_agent"),
            t.agent_r.argmin(t.ts, where=t.parent_span_id.isnull()),
        )
    )
    kids = (
        t.filter(t.parent_span_id.notnull())
        .group_by("task", "parent_span_id")
        .agg(n=ibis._.count())
    )
    fan = kids.group_by("task").agg(fan_out=kids.n.max())
    j = t.left_join(sup, t.task == sup.task).select(*t.columns, "supervisor").view()
    per = j.group_by("task").agg(
        trace_id=j.trace_id.max(),
        feature=j.feature.max(),
        task_type=ibis.coalesce(j.task_type.max(), j.feature.max()),
        customer_id=j.customer_id.max(),
        start=j.ts.min(),
        cost=j.var_cost.sum(),
        calls=j.count(where=is_leaf(j)),
        agents=j.agent_r.nunique(where=is_leaf(j)),
        supervisor=j.supervisor.max(),
        supervisor_cost=j.var_cost.sum(
            where=(j.agent_r == j.supervisor) & ~j.operation.isin(HUMAN_OPERATIONS)
        ),
    )
    out = per.left_join(fan, per.task == fan.task).select(*per.columns, "fan_out").view()
    return out.mutate(fan_out=out.fan_out.fill_null(0))


@dataclass
class Node:
    """One span of a task tree."""

    span_id: str
    operation: str
    label: str
    cost: Decimal  # own (leaf) variable cost
    row: dict[str, Any]
    children: list[Node] = field(default_factory=list)
    inclusive: Decimal = ZERO
    depth: int = 1

    @property
    def is_agent(self) -> bool:
        return self.operation in STRUCTURAL_OPERATIONS

    def walk(self) -> list[Node]:
        out = [self]
        for c in self.children:
            out.extend(c.walk())
        return out

    @property
    def agent_own(self) -> Decimal:
        """Leaves directly under this node, not inside a nested structural node."""
        return self.cost + sum((c.agent_own for c in self.children if not c.is_agent), ZERO)


def _label(r: dict[str, Any]) -> str:
    op = r["operation"]
    what = r.get("agent") if op in STRUCTURAL_OPERATIONS else None
    what = what or r.get("model") or r.get("unit_type") or r.get("endpoint") or ""
    return f"{op} {what}".strip()


def build_forest(rows: list[dict[str, Any]]) -> list[Node]:
    """Trees from span rows (`span_id`, `parent_span_id`, `operation`, `var_cost`, ...).

    Rows whose parent is not among them are roots; ordered by `ts`.
    """
    rows = sorted(rows, key=lambda r: (r.get("ts") is None, r.get("ts"), r["span_id"] or ""))
    nodes = {
        r["span_id"] or r["event_id"]: Node(
            r["span_id"] or r["event_id"], r["operation"], _label(r), Decimal(r["var_cost"]), r
        )
        for r in rows
    }
    roots: list[Node] = []
    for n in nodes.values():
        parent = nodes.get(n.row.get("parent_span_id") or "")
        if parent is not None and parent is not n:
            parent.children.append(n)
        else:
            roots.append(n)
    for r in roots:
        _fill(r, 1)
    return roots


def _fill(n: Node, depth: int) -> Decimal:
    n.depth = depth
    n.inclusive = n.cost + sum((_fill(c, depth + 1) for c in n.children), ZERO)
    return n.inclusive


@dataclass(frozen=True)
class TreeStats:
    cost: Decimal
    calls: int
    depth: int
    fan_out: int
    agents: dict[str, tuple[Decimal, Decimal]]  # agent -> (own, inclusive)


def tree_stats(roots: list[Node]) -> TreeStats:
    """Cost, leaf calls, depth, fan-out and per-agent own/inclusive cost of one task."""
    nodes = [n for r in roots for n in r.walk()]
    agents: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for n in nodes:
        if n.is_agent:
            name = n.row.get("agent") or n.label
            agents[name][0] += n.agent_own
            agents[name][1] += n.inclusive
    return TreeStats(
        cost=sum((r.inclusive for r in roots), ZERO),
        calls=sum(1 for n in nodes if not n.is_agent),
        depth=max((n.depth for n in nodes), default=0),
        fan_out=max((len(n.children) for n in nodes), default=0),
        agents={k: (v[0], v[1]) for k, v in agents.items()},
    )
