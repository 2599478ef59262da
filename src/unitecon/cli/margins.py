"""Margin commands: `margins` (revenue, cost and margin by customer, feature or plan) and
`collapse` (the usage at which each plan stops being profitable).

Examples:
    unitecon margins --by plan --month 2026-10
    unitecon collapse --plan starter --target-margin 0.6
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from unitecon.cli.output import console, emit_json, money, parse_month, table
from unitecon.errors import UniteconError

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]
BY = ("customer", "feature", "plan", "month")


def register(app: typer.Typer) -> None:
    app.command("margins")(margins_cmd)
    app.command("collapse")(collapse_cmd)


def _open_ledger() -> Any:
    from unitecon.ledger.store import Ledger

    return Ledger(read_only=True)


def _margins(config: Path | None) -> Any:
    """Read the ledger once and compute the margins (library calls only)."""
    from unitecon import config as cfg
    from unitecon.economics.analysis import book_for, load_inputs, margins
    from unitecon.pricing import priced_events

    project = cfg.load(config)
    book = book_for(project, cfg.find(config))
    with _open_ledger() as ledger:
        inputs = load_inputs(priced_events(ledger, project), project)
    return margins(inputs, book)


def _pct(x: Decimal | None) -> str:
    return "—" if x is None else f"{abs(x * 100) if x == 0 else x * 100:.1f}%"


def margins_cmd(
    by: Annotated[str, typer.Option("--by", help="customer, feature, plan or month.")] = "customer",
    month: Annotated[str | None, typer.Option(help="Only this month (YYYY-MM).")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show (0 = all).")] = 30,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revenue, variable and fixed cost, contribution and gross margin, worst first.

    Example: unitecon margins --by plan --month 2026-10
    """
    from unitecon.economics import margins as mg

    if by not in BY:
        raise UniteconError(f"--by {by!r}: choose from {', '.join(BY)}")
    m_filter = parse_month(month)
    m = _margins(config)
    rows = mg.in_month(m.rows, m_filter) if m_filter else m.rows
    groups = mg.roll_up(rows, by)  # type: ignore[arg-type]
    planned = mg.in_month(m.planned, m_filter) if m_filter else m.planned
    plan_f = {g.key[0]: g.fixed_cost for g in mg.roll_up(planned, by)}  # type: ignore[arg-type]
    conc = mg.concentration(mg.roll_up(rows, "customer"))
    if as_json:
        emit_json(_margins_json(by, month, groups, plan_f, conc, m))
        return
    _print_margins(by, groups, limit, plan_f if m.inputs.fixed_basis == "allocated" else None)
    _print_fixed_basis(m, groups, plan_f, m_filter is not None)
    _print_concentration(conc)


def _margins_json(
    by: str, month: str | None, groups: Any, plan_f: dict[Any, Decimal], conc: Any, m: Any
) -> dict[str, Any]:
    total = {k: sum((getattr(g, k) for g in groups), Decimal(0))
             for k in ("revenue", "variable_cost", "fixed_cost", "gross_margin")}  # fmt: skip
    total["plan_fixed_cost"] = sum(plan_f.values(), Decimal(0))
    fx = m.inputs.fixed
    return {
        "by": by,
        "month": month,
        "cost_source": m.inputs.cost_source,
        "fixed_basis": m.inputs.fixed_basis,
        "fixed_window": None
        if fx is None
        else {"fixed_costs": fx.fixed_total, "idle": fx.idle_total, "idle_mode": fx.idle},
        "rows": [
            {**g.as_dict([by]), "plan_fixed_cost": plan_f.get(g.key[0], Decimal(0))} for g in groups
        ],
        "total": total,
        "concentration": {
            "customers": conc.customers,
            "gini": conc.gini,
            "top_cost_share": conc.top_cost_share,
            "top_negative_margin_share": conc.top_negative_share,
            "negative_margin": conc.negative_margin,
            "lorenz": [{"customers": x, "cost": y} for x, y in conc.lorenz],
        },
    }


def _print_margins(by: str, groups: Any, limit: int, plan_f: dict[Any, Decimal] | None) -> None:
    """The table; with `plan_f` (fixed cost allocated) a `plan F` column beside `fixed`."""
    shown = groups[:limit] if limit else groups
    plan_col = ["plan"] if by != "plan" else []
    f_col = ["plan F"] if plan_f is not None else []
    cols = [by, *plan_col, "revenue", "variable", "fixed", *f_col, "contribution",
            "gross margin", "GM %"]  # fmt: skip
    body = [
        (g.key[0], *([g.plan] if plan_col else []), money(g.revenue), money(g.variable_cost),
         money(g.fixed_cost), *([money(plan_f.get(g.key[0]))] if plan_f is not None else []),
         money(g.contribution_margin), money(g.gross_margin), _pct(g.gross_margin_pct))
        for g in shown
    ]  # fmt: skip
    rev = sum((g.revenue for g in groups), Decimal(0))
    gm = sum((g.gross_margin for g in groups), Decimal(0))
    title = f"Margins by {by} (worst first) — revenue {money(rev)}, gross margin {money(gm)}"
    if rev:
        title += f" ({_pct(gm / rev)})"
    if len(shown) < len(groups):
        title += f"; {len(shown)} of {len(groups)} rows"
    console.print(table(title, cols, body, right=cols[1 + len(plan_col) :]))


def _print_fixed_basis(m: Any, groups: Any, plan_f: dict[Any, Decimal], filtered: bool) -> None:
    """Which fixed cost the `fixed` column holds, and the other one."""
    shown = money(sum((g.fixed_cost for g in groups), Decimal(0)))
    f_total = money(sum(plan_f.values(), Decimal(0)))
    fx = m.inputs.fixed
    plan_line = (
        f"plan F: fixed_cost_per_customer x contract-days = {f_total}; the per-customer "
        "planning figure `unitecon collapse` uses in u0 = (P - F) / c"
    )
    if fx is None:
        console.print(f"fixed cost: {plan_line} (no `fixed_costs` in the project file)")
        return
    idle = "its own line __idle__" if fx.idle == "line" else "shared by GPU cost"
    window = "" if filtered else (
        f" = fixed costs {money(fx.fixed_total)} ({fx.charges} monthly charges) + idle GPU "
        f"time {money(fx.idle_total)} ({idle})"
    )  # fmt: skip
    console.print(
        f"fixed cost: allocated from the project's fixed costs, each by its driver: {shown}"
        f"{window}; what no customer carries is on __unallocated__ / __idle__\n"
        f"{plan_line} (shown as `plan F`, not in the margins above)"
    )


def _print_concentration(c: Any) -> None:
    rows = [
        ("customers", c.customers),
        ("cost share, top 1% / 10%",
         f"{_pct(c.top_cost_share['top_1pct'])} / {_pct(c.top_cost_share['top_10pct'])}"),
        ("negative margin share, top 1% / 10%",
         f"{_pct(c.top_negative_share['top_1pct'])} / {_pct(c.top_negative_share['top_10pct'])}"),
        ("negative margin (sum)", money(c.negative_margin)),
        ("Gini of cost per customer", f"{c.gini:.3f}"),
    ]  # fmt: skip
    console.print(table("Cost concentration (variable cost per customer)", ["", ""], rows))


def collapse_cmd(
    plan: Annotated[str | None, typer.Option("--plan", help="One plan (default: all).")] = None,
    target_margin: Annotated[
        float | None, typer.Option("--target-margin", help="Target gross margin m (0.6 = 60%).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="HTML chart path (default: in UNITECON_HOME).")
    ] = None,
    top: Annotated[int, typer.Option(help="Customers to list per plan.")] = 10,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Usage at which each plan's margin collapses (u0) or misses the target (u_m).

    Example: unitecon collapse --plan starter --target-margin 0.6
    """
    from unitecon.economics.analysis import collapse
    from unitecon.economics.collapse_chart import write_chart
    from unitecon.ledger.store import home

    m_target = None if target_margin is None else Decimal(str(target_margin))
    if m_target is not None and not 0 <= m_target < 1:
        raise UniteconError("--target-margin must be in [0, 1), e.g. 0.6")
    m = _margins(config)
    if not m.book.config.plans:
        raise UniteconError("No plans in the project file: add a `revenue:` section with plans.")
    plans = collapse(m, plan, m_target)
    path = write_chart(plans, chart or home() / "collapse.html")
    if as_json:
        from unitecon.economics.collapse_plan import as_dict

        emit_json({"chart": str(path), "plans": [as_dict(p) for p in plans]})
        return
    from unitecon.cli.collapse_view import print_plan

    for p in plans:
        print_plan(p, top)
    console.print(f"Chart: [bold]{path}[/]")
