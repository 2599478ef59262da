"""Attribution commands: `unit`, `tasks`, `trace` (alias `task`), `outcomes`, `endpoints`.

A thin translator: load the ledger and project file, call `unitecon.attribution` and
`unitecon.economics.metrics`, print. No metric is computed here.

Examples:
    unitecon unit --by feature --loaded --chart unit.html
    unitecon tasks --top 10 --feature support
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.tree import Tree

from unitecon.analysis.answers import Filters
from unitecon.cli.empty import said_nothing_matched
from unitecon.cli.output import console, emit_json, money, parse_date, period, table
from unitecon.cli.session import dump, session
from unitecon.errors import UniteconError
from unitecon.terminal import shows_progress

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
    app.command("asymmetry")(asymmetry_cmd)


def num(x: Any) -> Decimal | None:
    """A number of an answer (exact; JSON carries it as a decimal string)."""
    return None if x is None else Decimal(str(x))


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

    Example: unitecon unit --by customer --loaded --only feature=support-agent
    """
    sel = _only(only or [])
    f = Filters(
        since=parse_date(since, "since"),
        until=parse_date(until, "until"),
        feature=sel.pop("feature", None),
        customer=sel.pop("customer", sel.pop("customer_id", None)),
    )
    with session(config) as s:
        got = s.ask("units", f, by=by, loaded=loaded, **({"only": sel} if sel else {}))
        if not as_json and not any(
            r["requests"] for r in got.rows if not str(r["key"]).startswith("__")
        ):
            from unitecon.cli.empty import nothing_matched

            nothing_matched(s, f)
            return
    data = got.rows
    if as_json:
        emit_json(dump(got))
        return
    _unit_print(got, data[:top] if top else data, len(data))
    if got.one_time_costs:
        _one_time_print(got)
    if chart is not None:
        from unitecon.cli.charts import unit_chart

        unit_chart(data, by, chart)
        console.print(f"Chart written to {chart}")


def _unit_print(got: Any, data: list[Any], n: int) -> None:
    by, basis = got.by, "fully loaded" if got.loaded else "variable"
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
            d["label"],
            money(d["variable_cost"]),
            money(d["fixed_cost"]),
            money(d["idle_cost"]),
            money(d["loaded_cost"]),
            f"{d['tasks']:,}",
            money(d["cost_per_task"], 4),
            money(d["cost_per_successful_task"], 4),
            money(d["cost_per_1k_tokens"], 4),
            _pct(num(d["rework_share"])),
            f"{d['unknown_outcome_tasks']:,}",
        )
        for d in data
    ]
    title = (
        f"Unit cost by {by} ({basis}), {got.since.date()} to {got.until.date()} — variable "
        f"{money(got.variable_cost)} + fixed {money(got.fixed_cost)} + idle "
        f"{money(got.idle_cost)} = {money(got.total_cost)}"
    )
    if n > len(data):
        title += f" (top {len(data)} of {n})"
    console.print(table(title, cols, body, right=cols[1:]))


def _one_time_print(got: Any) -> None:
    """Each one-time cost per task both ways; the method the loaded figures use is named."""
    cols = ["one-time cost", "amount", "in the figures above", "charge in window", "tasks",
            "per task, per period", "lifetime executions E", "per task, A / E"]  # fmt: skip
    body = []
    for v in got.one_time_costs:
        e = v["lifetime_tasks"]
        lifetime = "—" if e is None else f"{num(e):,.0f}"
        if e is not None and v["lifetime_tasks_estimated"]:
            lifetime += " (estimated)"
        body.append((v["name"], money(num(v["amount"])), v["method"],
                     money(num(v["window_charge"])), f"{v['tasks_in_window']:,}",
                     money(num(v["cost_per_task_per_period"]), 4), lifetime,
                     money(num(v["cost_per_task_lifetime"]), 4)))  # fmt: skip
    title = (
        f"One-time costs amortized two ways, {got.since.date()} to {got.until.date()} (end "
        "exclusive): per period (A/N a month of life) vs lifetime executions (A/E)"
    )
    console.print(table(title, cols, body, right=cols[1:2] + cols[3:]))


def tasks(
    top: Annotated[
        int, typer.Option(min=1, max=1000, help="How many of the most expensive tasks.")
    ] = 10,
    feature: Annotated[str | None, typer.Option(help="Only this feature.")] = None,
    trees: Annotated[int, typer.Option(help="Print the tree of the first N.")] = 1,
    since: SinceOpt = None,
    until: UntilOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The most expensive tasks with their agent tree, outcome and rework.

    Example: unitecon tasks --top 5 --feature support-agent
    """
    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"), feature=feature)
    with session(config) as s:
        got = s.ask("tasks", f, limit=top)
        rows = got.rows
        if not rows and not as_json:
            from unitecon.cli.empty import nothing_matched

            nothing_matched(s, f)
            return
        shown = 0 if as_json else max(trees, 0)  # the JSON holds the table, not the trees
        details = [s.ask("task", task_id=r["task"]) for r in rows[:shown]]
    if as_json:
        emit_json(dump(got))
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
            _pct(num(r["supervisor_overhead"])),
            r["outcome"],
            money(r["rework_cost"], 4),
        )
        for r in rows
    ]
    title = f"Most expensive tasks ({len(rows)}), {period(f)}"
    console.print(table(title, cols, body, right=["cost"]))
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
    with session(config) as s:
        try:
            d = s.ask("task", task_id=task_id)
        except UniteconError as e:  # the service's message names its route: name the command
            if not str(e).startswith("Unknown task"):
                raise
            raise UniteconError(
                f"Unknown task {task_id!r}. List tasks with `unitecon tasks`."
            ) from None
    if as_json:
        emit_json(dump(d))
        return
    console.print(_tree(d))


def _tree(d: Any, lines: int = 60) -> Tree:
    """The task's tree, its first `lines` nodes (breadth first: the upper levels whole)."""
    root = Tree(
        f"[bold]task {d.task_id}[/] {money(d.cost, 4)} · {d.calls} calls · depth {d.depth} · "
        f"fan-out {d.fan_out} · outcome {d.outcome} · supervisor overhead "
        f"{_pct(num(d.supervisor_overhead))}"
    )
    queue: list[tuple[Tree, Any]] = [(root, r) for r in d.roots]
    shown = 0
    while queue and shown < lines:
        parent, n = queue.pop(0)
        flag = " [red]error[/]" if n.status == "error" else ""
        branch = parent.add(
            f"{n.label}  {money(n.inclusive_cost, 6)} (own {money(n.cost, 6)}){flag}"
        )
        shown += 1
        queue += [(branch, c) for c in n.children]
    if queue:
        root.add(f"[dim]… {len(queue)} more nodes: `unitecon trace {d.task_id} --json`[/]")
    return root


def _flags(row: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("yellow", f"retry {row['attempt']}" if (row.get("attempt") or 1) > 1 else ""),
        ("red", "error" if row.get("status") == "error" else ""),
        ("red", "rejected" if row.get("accepted") is False else ""),
    ]


@shows_progress("costing the tasks' outcomes")
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
    if by not in ("kind", "feature"):
        raise UniteconError(f"--by: choose kind or feature, not {by!r}")
    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        got = s.ask("outcomes", f, by=by)
        if not got.outcomes and not as_json and said_nothing_matched(s, f):
            return
    if as_json:
        emit_json(dump(got))
        return
    rows, sup = got.outcomes, got.supervisor_overhead
    _sup_print(sup, period(f))
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
            money(num(r["spend"])),
            money(num(r["cost_per_task"]), 4),
            money(num(r["cost_per_successful_task"]), 4),
            money(num(r["rework_cost"])),
            _pct(num(r["rework_share"])),
            r["retries"],
            r["errors"],
            r["rejected"],
        )
        for r in rows
    ]
    title = f"Outcomes and rework (cost of pass), {period(f)}"
    console.print(table(title, cols, body, right=cols[1:]))


def _sup_print(rows: list[dict[str, Any]], when: str) -> None:
    cols = ["feature", "multi-agent tasks", "cost", "supervisor's own", "overhead"]
    body = [
        (
            r["feature"], r["tasks"], money(num(r["cost"])), money(num(r["supervisor_cost"])),
            _pct(num(r["supervisor_overhead"])),
        )
        for r in rows
    ]  # fmt: skip
    console.print(table(f"Supervisor overhead, {when}", cols, body, right=cols[1:]))


def endpoints(
    since: SinceOpt = None,
    until: UntilOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Self-hosted endpoints: GPU cost, idle cost, utilization, tok/s, $ per M tokens.

    Example: unitecon endpoints --since 2026-01-01
    """
    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        got = s.ask("endpoints", f)
        if not as_json and not any(r["calls"] for r in got.rows) and said_nothing_matched(s, f):
            return
    rows = got.rows
    if as_json:
        emit_json(dump(got))
        return
    cols = [
        "endpoint",
        "gpu",
        "GPU cost",
        "idle",
        "utilization",
        "calls",
        "measured out tok/s",
        "configured prefill/decode tok/s",
        "GPU-s/output token",
        "$/M in, busy",
        "$/M out, busy",
        "$/M in, provisioned",
        "$/M out, provisioned",
    ]
    body = [
        (
            r["endpoint"],
            r["gpu"],
            money(r["cost"]),
            money(r["idle_cost"]),
            _pct(num(r["utilization"])),
            f"{r['calls']:,}",
            r["measured_output_tokens_per_s"],
            f"{r['configured_prefill_tokens_per_s'] or '—'} / "
            f"{r['configured_decode_tokens_per_s'] or '—'}",
            f"{num(r['gpu_seconds_per_output_token']):.4f}"
            if r["gpu_seconds_per_output_token"]
            else "—",
            money(r["usd_per_mtok_input"]),
            money(r["usd_per_mtok_output"]),
            money(r["provisioned_usd_per_mtok_input"]),
            money(r["provisioned_usd_per_mtok_output"]),
        )
        for r in rows
    ]
    period = ""
    if rows and rows[0].get("since"):
        r0 = rows[0]
        period = f", {r0['since'][:10]} to {r0['until'][:10]} (end exclusive, {r0['days']} days)"
    title = (
        f"Self-hosted endpoints{period}: costs are the window's; busy = GPU time the calls "
        "used, provisioned = all GPU time paid for (idle included); $/M split in/out at the "
        "configured prefill/decode rates"
    )
    console.print(table(title, cols, body, right=cols[2:]))


def asymmetry_cmd(
    by: Annotated[str, typer.Option("--by", help="model or feature.")] = "model",
    since: SinceOpt = None,
    until: UntilOpt = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Input vs output cost: share of the token cost and cost per 1k tokens of input, output,
    cache reads and reasoning, per model or feature (API calls).

    Example: unitecon asymmetry --by feature
    """
    from unitecon.economics.asymmetry import COMPONENTS

    if by not in ("model", "feature"):
        raise UniteconError(f"--by: choose model or feature, not {by!r}")
    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        got = s.ask("asymmetry", f, by=by)
        if not as_json and not got.rows and said_nothing_matched(s, f):
            return
    if as_json:
        emit_json(dump(got))
        return
    rows = got.rows
    period = f"{got.since:%Y-%m-%d} to {got.until:%Y-%m-%d} (end exclusive)"
    names = {"input": "input", "output": "output", "cache_read": "cache reads",
             "reasoning": "reasoning"}  # fmt: skip
    cols = [by, "token cost"]
    for k in COMPONENTS:
        cols += [f"{names[k]} share", f"{names[k]} $/1k"]
    cols.append("out/in price")
    body = []
    for r in rows:
        line: list[Any] = [r["key"], money(num(r["token_cost"]))]
        for k in COMPONENTS:
            line += [_pct(num(r[k]["cost_share"])), money(num(r[k]["cost_per_1k_tokens"]), 6)]
        ratio = num(r["output_input_price_ratio"])
        line.append("—" if ratio is None else f"{ratio:.1f}x")
        body.append(line)
    title = (
        f"Input vs output cost by {by}, {period} — API calls; cache reads are part of input, "
        "reasoning part of output"
    )
    console.print(table(title, cols, body, right=cols[1:]))
