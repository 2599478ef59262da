"""Attribution commands: `unit`, `tasks`, `trace` (alias `task`), `outcomes`, `endpoints`.

A thin translator: load the ledger and project file, call `unitecon.attribution` and
`unitecon.economics.metrics`, print. No metric is computed here.

Examples:
    unitecon unit --by feature --loaded --chart unit.html
    unitecon tasks --top 10 --feature support
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.tree import Tree

from unitecon.cli.output import console, emit_json, money, parse_date, table
from unitecon.cli.session import costed_ledger
from unitecon.errors import LookupFailed, UniteconError

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]
SinceOpt = Annotated[str | None, typer.Option(help="From this UTC date (inclusive).")]
UntilOpt = Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")]


def register(app: typer.Typer) -> None:
    app.command("unit")(unit)
    app.command("tasks")(tasks)
    app.command("trace")(trace)
    app.command("task", hidden=True)(trace)
    app.command("outcomes")(outcomes)
    app.command("endpoints")(endpoints)


@contextmanager
def _costed(config: Path | None, since: str | None, until: str | None) -> Iterator[Any]:
    """(Costed, Project) for `--since`/`--until` given as text."""
    lo, hi = parse_date(since, "since"), parse_date(until, "until")
    with costed_ledger(config, lo, hi) as pair:
        yield pair


def _pct(x: Decimal | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _only(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        dim, sep, value = v.partition("=")
        if not sep:
            raise UniteconError(f"--only: expected DIM=VALUE (e.g. feature=support), got {v!r}")
        out[dim.strip()] = value.strip()
    return out


def unit(
    by: Annotated[str, typer.Option("--by", help="feature|customer|agent|task-type|...")] = (
        "feature"
    ),
    loaded: Annotated[bool, typer.Option(help="Unit costs fully loaded (+fixed, idle).")] = False,
    only: Annotated[
        list[str] | None, typer.Option(help="Keep rows with DIM=VALUE; the rest is filtered.")
    ] = None,
    top: Annotated[int, typer.Option(help="Rows to show (0 = all).")] = 20,
    chart: Annotated[Path | None, typer.Option(help="Write a chart (HTML) here.")] = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Unit economics per feature, customer, agent or task type, variable and fully loaded.

    Example: unitecon unit --by customer --loaded --only feature=support
    """
    from unitecon.economics.metrics import unit_rows

    with _costed(config, since, until) as (c, project):
        rows, alloc = unit_rows(c, project, by, _only(only or []))
    data = [r.metrics(loaded) for r in rows]
    if as_json:
        emit_json(_unit_json(by, loaded, c, alloc, data))
        return
    _unit_print(by, loaded, alloc, data[:top] if top else data, len(data))
    if chart is not None:
        from unitecon.cli.charts import unit_chart

        unit_chart(data, by, chart)
        console.print(f"Chart written to {chart}")


def _unit_json(by: str, loaded: bool, c: Any, alloc: Any, data: list[Any]) -> dict[str, Any]:
    return {
        "by": by,
        "loaded": loaded,
        "since": c.window.since,
        "until": c.window.until,
        "variable_cost": alloc.variable,
        "fixed_cost": alloc.fixed,
        "idle_cost": alloc.idle,
        "total_cost": alloc.total,
        "fixed_charges": [
            {"name": ch.name, "month": ch.month, "amount": ch.amount} for ch in alloc.charges
        ],
        "rows": data,
    }


def _unit_print(by: str, loaded: bool, alloc: Any, data: list[Any], n: int) -> None:
    basis = "fully loaded" if loaded else "variable"
    cols = [
        by,
        "variable",
        "fixed",
        "idle",
        "loaded",
        "tasks",
        "per task",
        "per success",
        "per 1k tok",
        "rework",
        "unknown",
    ]
    body = [
        (
            d["key"],
            money(d["variable_cost"]),
            money(d["fixed_cost"]),
            money(d["idle_cost"]),
            money(d["loaded_cost"]),
            f"{d['tasks']:,}",
            money(d["cost_per_task"], 4),
            money(d["cost_per_successful_task"], 4),
            money(d["cost_per_1k_tokens"], 4),
            _pct(d["rework_share"]),
            f"{d['unknown_outcome_tasks']:,}",
        )
        for d in data
    ]
    title = (
        f"Unit cost by {by} ({basis}) — variable {money(alloc.variable)} + fixed "
        f"{money(alloc.fixed)} + idle {money(alloc.idle)} = {money(alloc.total)}"
    )
    if n > len(data):
        title += f" (top {len(data)} of {n})"
    console.print(table(title, cols, body, right=cols[1:]))


def tasks(
    top: Annotated[int, typer.Option(help="How many of the most expensive tasks.")] = 10,
    feature: Annotated[str | None, typer.Option(help="Only this feature.")] = None,
    trees: Annotated[int, typer.Option(help="Print the tree of the first N.")] = 1,
    since: SinceOpt = None,
    until: UntilOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The most expensive tasks with their agent tree, outcome and rework.

    Example: unitecon tasks --top 5 --feature support
    """
    from unitecon.attribution.tasks import task_details, top_tasks

    with _costed(config, since, until) as (c, _):
        rows = top_tasks(c, top, feature)
        found = (task_details(c, r["task"]) for r in rows[: max(trees, 0)])
        details = [d for d in found if d is not None]
    if as_json:
        emit_json({"tasks": rows, "trees": [d.as_dict() for d in details]})
        return
    cols = [
        "task",
        "kind",
        "customer",
        "cost",
        "calls",
        "agents",
        "fan-out",
        "supervisor",
        "overhead",
        "outcome",
        "rework",
    ]
    body = [
        (
            r["task"],
            r["kind"],
            r["customer_id"],
            money(r["cost"], 4),
            r["calls"],
            r["agents"],
            r["fan_out"],
            r["supervisor"],
            _pct(r["supervisor_overhead"]),
            r["outcome"],
            money(r["rework_cost"], 4),
        )
        for r in rows
    ]
    console.print(table(f"Most expensive tasks ({len(rows)})", cols, body, right=["cost"]))
    for d in details:
        console.print(_tree(d))


def trace(
    task_id: Annotated[str, typer.Argument(help="Task id (or trace id).")],
    since: SinceOpt = None,
    until: UntilOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One task's tree with the cost of each node (own and inclusive), as a tree.

    Example: unitecon trace 4bf92f3577b34da6a3ce929d0e0e4736
    """
    from unitecon.attribution.tasks import task_details

    with _costed(config, since, until) as (c, _):
        d = task_details(c, task_id)
    if d is None:
        raise LookupFailed("task", task_id)
    if as_json:
        emit_json(d.as_dict())
        return
    console.print(_tree(d))


def _tree(d: Any) -> Tree:
    s = d.stats
    root = Tree(
        f"[bold]task {d.task}[/] {money(s.cost, 4)} · {s.calls} calls · depth {s.depth} · "
        f"fan-out {s.fan_out} · outcome {d.outcome} · supervisor overhead "
        f"{_pct(d.supervisor_overhead)}"
    )

    def add(parent: Tree, n: Any) -> None:
        flags = "".join(f" [{c}]{w}[/]" for c, w in _flags(n.row) if w)
        own = f"own {money(n.cost, 6)}" if not n.is_agent else f"own {money(n.agent_own, 6)}"
        branch = parent.add(f"{n.label}  {money(n.inclusive, 6)} ({own}){flags}")
        for ch in n.children:
            add(branch, ch)

    for r in d.roots:
        add(root, r)
    return root


def _flags(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("yellow", f"retry {row['attempt']}" if (row.get("attempt") or 1) > 1 else ""),
        ("red", "error" if row.get("status") == "error" else ""),
        ("red", "rejected" if row.get("accepted") is False else ""),
    ]


def outcomes(
    by: Annotated[str, typer.Option(help="kind (task type) or feature.")] = "kind",
    since: SinceOpt = None,
    until: UntilOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cost per successful task, success/failed/unknown tasks, rework cost and share.

    Example: unitecon outcomes --by feature
    """
    from unitecon.attribution.tasks import outcome_rows, supervisor_overhead

    if by not in ("kind", "feature"):
        raise UniteconError(f"--by: choose kind or feature, not {by!r}")
    with _costed(config, since, until) as (c, _):
        rows = outcome_rows(c, by)
        sup = supervisor_overhead(c)
    if as_json:
        emit_json({"outcomes": rows, "supervisor_overhead": sup})
        return
    _sup_print(sup)
    cols = [
        by,
        "tasks",
        "success",
        "failed",
        "unknown",
        "spend",
        "per task",
        "per success",
        "rework",
        "rework share",
        "retries",
        "errors",
        "rejected",
    ]
    body = [
        (
            r[by],
            r["tasks"],
            r["succeeded"],
            r["failed"],
            r["unknown"],
            money(r["spend"]),
            money(r["cost_per_task"], 4),
            money(r["cost_per_successful_task"], 4),
            money(r["rework_cost"]),
            _pct(r["rework_share"]),
            r["retries"],
            r["errors"],
            r["rejected"],
        )
        for r in rows
    ]
    console.print(table("Outcomes and rework (cost of pass)", cols, body, right=cols[1:]))


def _sup_print(rows: list[dict[str, Any]]) -> None:
    cols = ["feature", "multi-agent tasks", "cost", "supervisor's own", "overhead"]
    body = [
        (
            r["feature"], r["tasks"], money(r["cost"]), money(r["supervisor_cost"]),
            _pct(r["supervisor_overhead"]),
        )
        for r in rows
    ]  # fmt: skip
    console.print(table("Supervisor overhead", cols, body, right=cols[1:]))


def endpoints(
    since: SinceOpt = None,
    until: UntilOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Self-hosted endpoints: GPU cost, idle cost, utilization, tok/s, $ per M tokens.

    Example: unitecon endpoints --since 2026-01-01
    """
    from unitecon.attribution.endpoints import endpoint_usage
    from unitecon.economics.metrics import endpoint_metrics

    with _costed(config, since, until) as (c, project):
        rows = [endpoint_metrics(u) for u in endpoint_usage(c, project)]
    if as_json:
        emit_json(rows)
        return
    cols = [
        "endpoint",
        "gpu",
        "cost",
        "idle",
        "utilization",
        "calls",
        "out tok/s",
        "GPU-s/token",
        "$/M in",
        "$/M out",
        "loaded $/M in",
        "loaded $/M out",
    ]
    body = [
        (
            r["endpoint"],
            r["gpu"],
            money(r["cost"]),
            money(r["idle_cost"]),
            _pct(r["utilization"]),
            f"{r['calls']:,}",
            r["output_tokens_per_s"],
            f"{r['gpu_seconds_per_token']:.4f}" if r["gpu_seconds_per_token"] else "—",
            money(r["usd_per_mtok_input"]),
            money(r["usd_per_mtok_output"]),
            money(r["loaded_usd_per_mtok_input"]),
            money(r["loaded_usd_per_mtok_output"]),
        )
        for r in rows
    ]
    console.print(table("Self-hosted endpoints", cols, body, right=cols[2:]))
