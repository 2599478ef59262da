"""Read API: unit metrics, tasks and one task's tree, self-hosted endpoints, margins.

Each endpoint hands the priced events (narrowed by the filters) to the attribution and
economics functions and returns what they computed; the formulas live there.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from unitecon.server.api import FilterParams, ReadKey, cached, priced
from unitecon.server.errors import COMMON_RESPONSES, NotFound
from unitecon.server.models import Filters, Table, TaskNode, TaskTree

router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES, tags=["read"])

UNIT_DIMS = ("feature", "customer_id", "task_type", "model", "agent", "team", "month")


def _instant(d: dt.date | None) -> dt.datetime | None:
    return None if d is None else dt.datetime.combine(d, dt.time(), dt.UTC)


def costed(request: Request, f: Filters) -> Any:
    """Variable cost of every event in the window (attribution stage)."""
    from unitecon.attribution.costed import variable_costs

    project = request.app.state.project
    return variable_costs(priced(request, f), project, _instant(f.since), _instant(f.until))


def plain(v: Any) -> Any:
    """A JSON-ready value: dataclasses as dicts, dates as ISO text; Decimal stays exact."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {k.name: plain(getattr(v, k.name)) for k in dataclasses.fields(v)}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, Decimal):
        return v.quantize(Decimal(1)) if v == v.to_integral_value() else v.normalize()
    return v


def table(f: Filters, rows: list[dict[str, Any]], notes: list[str] | None = None) -> Table:
    cols = list(rows[0]) if rows else []
    return Table(filters=f, columns=cols, rows=[plain(r) for r in rows], notes=notes or [])


@router.get("/metrics/units", response_model=Table)
def unit_metrics(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    by: Annotated[
        Literal["feature", "customer_id", "task_type", "model", "agent", "team", "month"],
        Query(description="One row per value of this dimension."),
    ] = "feature",
    loaded: Annotated[
        bool, Query(description="Ratios over the loaded cost (fixed and idle included).")
    ] = False,
) -> Table:
    """Cost per request, task, successful task, conversation, 1k tokens; rework; loaded cost.

    Special rows: `__filtered__` (events outside the filters), `__idle__`, `__unallocated__`.
    """

    def answer() -> Table:
        from unitecon.economics.metrics import unit_rows

        rows, _ = unit_rows(costed(request, f), request.app.state.project, by)
        return table(f, [r.metrics(loaded) for r in rows])

    return cached(request, response, "unit_metrics", answer, f=f, by=by, loaded=loaded)


@router.get("/tasks", response_model=Table)
def tasks(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Table:
    """The most expensive tasks: cost, calls, agents, supervisor and its own cost, fan-out."""

    def answer() -> Table:
        from unitecon.attribution.trees import resolve_agents, task_rollup

        t = task_rollup(resolve_agents(costed(request, f).events))
        rows = t.order_by([t.cost.desc(), t.task]).limit(limit).to_pyarrow().to_pylist()
        return table(f, rows)

    return cached(request, response, "tasks", answer, f=f, limit=limit)


def _node(n: Any) -> TaskNode:
    r = n.row
    return TaskNode(
        span_id=n.span_id,
        operation=n.operation,
        label=n.label,
        agent=r.get("agent_r") or r.get("agent"),
        model=r.get("model"),
        cost=n.cost,
        inclusive_cost=n.inclusive,
        status=r.get("status"),
        duration_ms=r.get("duration_ms"),
        input_tokens=int(r.get("input_tokens") or 0),
        output_tokens=int(r.get("output_tokens") or 0),
        children=[_node(c) for c in n.children],
    )


@router.get("/tasks/{task_id}", response_model=TaskTree)
def task_tree(request: Request, key: ReadKey, task_id: str) -> TaskTree:
    """One task's agent tree: every span with its own and inclusive cost (leaf-only)."""
    from unitecon.attribution.trees import build_forest, resolve_agents, tree_stats

    events = costed(request, Filters()).events
    rows = resolve_agents(events.filter(events.task == task_id)).to_pyarrow().to_pylist()
    if not rows:
        raise NotFound(f"No task {task_id!r} in the ledger. List tasks with GET /api/v1/tasks.")
    roots = build_forest(rows)
    s = tree_stats(roots)
    return TaskTree(
        task_id=task_id,
        cost=s.cost,
        calls=s.calls,
        depth=s.depth,
        fan_out=s.fan_out,
        agents={a: {"own": own, "inclusive": inc} for a, (own, inc) in s.agents.items()},
        roots=[_node(r) for r in roots],
    )


@router.get("/endpoints", response_model=Table)
def endpoints(request: Request, response: Response, key: ReadKey, f: FilterParams) -> Table:
    """Self-hosted endpoints: cost, idle cost, utilization, effective $/M tokens."""

    def answer() -> Table:
        from unitecon.attribution.endpoints import endpoint_usage
        from unitecon.economics.metrics import endpoint_metrics

        usage = endpoint_usage(costed(request, f), request.app.state.project)
        return table(f, [endpoint_metrics(u) for u in usage])

    return cached(request, response, "endpoints", answer, f=f)


def _margins(request: Request, f: Filters) -> Any:
    from unitecon.economics import analysis

    project = request.app.state.project
    book = analysis.book_for(project, request.app.state.config_path)
    return analysis.margins(analysis.load_inputs(priced(request, f), project), book)


@router.get("/margins", response_model=Table)
def margins(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    by: Annotated[
        Literal["customer", "feature", "plan", "month"], Query(description="Roll-up.")
    ] = "customer",
) -> Table:
    """Revenue, variable and fixed cost, contribution and gross margin; worst first."""

    def answer() -> Table:
        from unitecon.economics.margins import roll_up

        m = _margins(request, f)
        rows = [r.as_dict([by]) for r in roll_up(m.rows, by)]
        return table(f, rows, [f"cost source: {m.inputs.cost_source}"])

    return cached(request, response, "margins", answer, f=f, by=by)


@router.get("/collapse", response_model=Table)
def collapse(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    plan: Annotated[str | None, Query(description="Only this plan.")] = None,
) -> Table:
    """Per plan: the usage at which a customer's margin reaches 0 (u0) and the target (u_m),
    and where each customer sits against those lines."""

    def answer() -> Table:
        from unitecon.economics import analysis

        out = []
        for pc in analysis.collapse(_margins(request, f), plan):
            row = plain(pc)
            row["positions"] = [
                {**plain(p), "past_u0": p.past_u0, "past_um": p.past_um} for p in pc.positions
            ]
            row["share_past_u0"] = plain(pc.share("u0"))
            row["share_past_um"] = plain(pc.share("u_m"))
            out.append(row)
        return table(f, out)

    return cached(request, response, "collapse", answer, f=f, plan=plan)
