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

from unitecon.analysis.answers import Filters
from unitecon.attribution.frame import IDLE, UNALLOCATED, label
from unitecon.cli.output import console, emit_json, money, parse_date, parse_month, table
from unitecon.cli.session import dump, session
from unitecon.errors import UniteconError
from unitecon.ledger import dimensions
from unitecon.terminal import shows_progress

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Project file (default: ./unitecon.yaml).")
]
BY = ("customer", "feature", "plan", "month")


def register(app: typer.Typer) -> None:
    app.command("margins")(margins_cmd)
    app.command("collapse")(collapse_cmd)


def _pct(x: Decimal | None) -> str:
    return "—" if x is None else f"{abs(x * 100) if x == 0 else x * 100:.1f}%"


def margins_cmd(
    by: Annotated[
        str, typer.Option("--by", help=dimensions.help_text(dimensions.MARGINS) + ".")
    ] = "customer",
    month: Annotated[str | None, typer.Option(help="Only this month (YYYY-MM).")] = None,
    since: Annotated[str | None, typer.Option(help="From this UTC date (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show (0 = all).")] = 30,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revenue, variable and fixed cost, contribution and gross margin, worst first, over
    the window asked (`--since`/`--until`, as the API's `margins`), else the ledger's days.

    Example: unitecon margins --by plan --month 2026-10
    """
    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        got = s.ask("margins", f, by=by, month=parse_month(month))
    if as_json:
        emit_json(dump(got))
        return
    _print_margins(got, limit)
    _print_fixed_basis(got)
    _print_losing(got)
    _print_concentration(got.concentration)


def _d(x: Any) -> Decimal | None:
    return None if x is None else Decimal(str(x))


def _print_margins(got: Any, limit: int) -> None:
    """The table; with the fixed cost allocated, a `plan F` column beside `fixed`."""
    by, groups = got.by, got.rows
    shown = groups[:limit] if limit else groups
    plan_col = ["plan"] if by != "plan" else []
    allocated = got.fixed_basis == "allocated"
    f_col = ["plan F"] if allocated else []
    cols = [by, *plan_col, "revenue", "variable", "fixed", *f_col, "contribution",
            "gross margin", "GM %"]  # fmt: skip
    body = [
        (label(g[by]), *([label(g["plan"])] if plan_col else []), money(_d(g["revenue"])),
         money(_d(g["variable_cost"])), money(_d(g["fixed_cost"])),
         *([money(_d(g["plan_fixed_cost"]))] if allocated else []),
         money(_d(g["contribution_margin"])), money(_d(g["gross_margin"])),
         _pct(_d(g["gross_margin_pct"])))
        for g in shown
    ]  # fmt: skip
    rev, gm = got.total["revenue"], got.total["gross_margin"]
    w = got.window
    period = "whole months" if w is None else _window_text(w)
    if got.month:
        period = f"month {got.month}, {period}"
    title = (
        f"Margins by {by}, {period} ({'in time order' if by == 'month' else 'worst first'})"
        f" — revenue {money(rev)}, gross margin {money(gm)}"
    )
    if rev:
        title += f" ({_pct(gm / rev)})"
    if len(shown) < len(groups):
        title += f"; {len(shown)} of {len(groups)} rows"
    key = ["revenue", "gross margin", "GM %"]  # at 80 columns, the others go first
    console.print(table(title, cols, body, right=cols[1 + len(plan_col) :], essential=key))


def _window_text(w: dict[str, Any]) -> str:
    """`2026-09-16 to 2026-11-15 (61 days)`: the days revenue and cost cover."""
    return f"{w['since']} to {w['last_day']} ({w['days']} days)"


def _print_losing(got: Any) -> None:
    """Who is losing money, by which definition (collapse's u0 is a third, named there)."""
    lose, defs = got.losing_money["customers"], got.losing_money["definitions"]
    period = "" if got.window is None else f", {_window_text(got.window)}"
    console.print(
        f"Losing money{period}: {len(lose['gross'])} customers by {defs['gross']}; "
        f"{len(lose['contribution'])} by {defs['contribution']}. `unitecon collapse` counts "
        f"instead customers past u0: {defs['past_u0'].split(': ', 1)[1]}."
    )


def _print_fixed_basis(got: Any) -> None:
    """Which fixed cost the `fixed` column holds, and the other one."""
    shown = money(got.total["fixed_cost"])
    f_total = money(got.total["plan_fixed_cost"])
    fx = got.fixed_window
    plan_line = (
        f"plan F: fixed_cost_per_customer x contract-days = {f_total}; the per-customer "
        "planning figure `unitecon collapse` uses in u0 = (P - F) / c"
    )
    if fx is None:
        console.print(f"fixed cost: {plan_line} (no `fixed_costs` in the project file)")
        return
    idle = (
        f"its own line, {label(IDLE)}"
        if fx["idle_mode"] == "line"
        else "shared over each endpoint's users by busy GPU time"
    )
    window = "" if got.month else (
        f" = fixed costs {money(_d(fx['fixed_costs']))} + idle GPU time "
        f"{money(_d(fx['idle']))} ({idle})"
    )  # fmt: skip
    console.print(
        f"fixed cost: allocated from the project's fixed costs, each by its driver: {shown}"
        f"{window}; what no customer carries is on its own line "
        f"({label(UNALLOCATED)} / {label(IDLE)})\n"
        f"{plan_line} (shown as `plan F`, not in the margins above)"
    )


def _print_concentration(c: dict[str, Any]) -> None:
    top, neg = c["top_cost_share"], c["top_negative_margin_share"]
    rows = [
        ("customers", c["customers"]),
        ("cost share, top 1% / 10%",
         f"{_pct(_d(top['top_1pct']))} / {_pct(_d(top['top_10pct']))}"),
        ("negative margin share, top 1% / 10%",
         f"{_pct(_d(neg['top_1pct']))} / {_pct(_d(neg['top_10pct']))}"),
        ("negative margin (sum)", money(_d(c["negative_margin"]))),
        ("Gini of cost per customer", f"{_d(c['gini']):.3f}"),
    ]  # fmt: skip
    console.print(table("Cost concentration (variable cost per customer)", ["", ""], rows))


@shows_progress("finding each plan's collapse points")
def collapse_cmd(
    plan: Annotated[str | None, typer.Option("--plan", help="One plan (default: all).")] = None,
    target_margin: Annotated[
        float | None, typer.Option("--target-margin", help="Target gross margin m (0.6 = 60%).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="HTML chart path (default: in UNITECON_HOME).")
    ] = None,
    top: Annotated[int, typer.Option(help="Customers to list per plan.")] = 10,
    since: Annotated[str | None, typer.Option(help="From this UTC date (inclusive).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this UTC date (exclusive).")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Usage at which each plan's margin collapses (u0) or misses the target (u_m), over
    the window asked (`--since`/`--until`, as the API's `collapse`), else the ledger's days.

    Example: unitecon collapse --plan starter --target-margin 0.6
    """
    from unitecon.economics.collapse_chart import write_chart
    from unitecon.ledger.store import home

    m_target = None if target_margin is None else Decimal(str(target_margin))
    if m_target is not None and not 0 <= m_target < 1:
        raise UniteconError("--target-margin must be in [0, 1), e.g. 0.6")
    f = Filters(since=parse_date(since, "since"), until=parse_date(until, "until"))
    with session(config) as s:
        plans = s.ask("collapse_plans", f, plan=plan, target_margin=m_target)
    path = write_chart(plans, chart or home() / "collapse.html")
    if as_json:
        from unitecon.economics.collapse_plan import as_dict

        emit_json({"chart": str(path), "plans": [as_dict(p) for p in plans]})
        return
    from unitecon.cli.collapse_view import print_plan

    for p in plans:
        print_plan(p, top)
    console.print(f"Chart: [bold]{path}[/]")
