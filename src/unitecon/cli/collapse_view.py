"""Rich rendering of one plan's collapse analysis (no computation here)."""

from __future__ import annotations

from decimal import Decimal

from unitecon.cli.output import console, money, table
from unitecon.economics.collapse_plan import PlanCollapse, Position


def _u(x: Decimal | None) -> str:
    return "never" if x is None else f"{Decimal(str(x)):,.1f}"


def _pct(x: Decimal) -> str:
    return f"{x * 100:.1f}%"


def _when(months: float | None) -> str:
    if months is None:
        return "—"
    return "now" if months == 0 else f"in {months:.1f} mo"


def _lines(p: PlanCollapse) -> None:
    rows = [
        (lvl, money(c, 6), _u(p.lines[lvl]["u0"]), _u(p.lines[lvl]["u_m"]))
        for lvl, c in p.unit_cost.levels().items()
    ]
    cols = [
        "unit cost level",
        f"c [USD/{p.unit}]",
        "u0 (margin 0)",
        f"u_m (margin {p.target_margin})",
    ]
    t = p.terms
    title = (
        f"Plan {p.plan}: P {money(t.price)}/mo ({p.reference_seats} seats), F {money(t.fixed)}/mo"
        f" — thresholds in {p.unit}/month, {p.unit_cost.customers} customers measured"
    )
    console.print(table(title, cols, rows, right=cols[1:]))


def _customers(p: PlanCollapse, top: int) -> None:
    def row(q: Position) -> tuple[object, ...]:
        flag = "PAST u0" if q.past_u0 else ("past u_m" if q.past_um else "")
        growth = "—" if q.growth is None else f"{q.growth * 100:+.1f}%/mo"
        return (q.customer_id, q.seats, _u(q.usage), _u(q.u0), _u(q.u_m), money(q.monthly_margin),
                growth, _when(q.months_to_u0), flag)  # fmt: skip

    cols = ["customer", "seats", "usage/mo", "u0", "u_m", "margin/mo", "growth", "reaches u0", ""]
    shown = p.positions[:top]
    console.print(table(f"Heaviest {len(shown)} of {len(p.positions)} customers on {p.plan}",
                        cols, [row(q) for q in shown], right=cols[1:8]))  # fmt: skip


def _risk(p: PlanCollapse) -> None:
    rows = []
    labels = (
        ("u0", "past u0 (margin < 0 at the run rate, on plan F)"),
        ("u_m", "past u_m (below the target margin)"),
    )
    for which, label in labels:
        s = p.share(which)
        names = ", ".join(q.customer_id for q in p.past(which)[:8])
        more = len(p.past(which)) - 8
        names += f" (+{more})" if more > 0 else ""
        rows.append((label, _pct(s["customers"]), _pct(s["revenue"]),
                     money(s["revenue_at_risk"]), names or "—"))  # fmt: skip
    cols = ["", "customers", "revenue", "revenue at risk", "who"]
    title = (
        f"Who is past the lines on {p.plan} (monthly run rate vs the plan's P and F; "
        "`unitecon margins` counts margin < 0 over the window with allocated fixed cost)"
    )
    console.print(table(title, cols, rows, right=cols[1:4]))


def _design(p: PlanCollapse) -> None:
    rows = []
    for c in p.design.checks:
        rows.append((c["level"], _u(c["u_m"]), _yn(c["allowance_safe"]),  # type: ignore[arg-type]
                     money(c["min_overage"], 4), _yn(c["overage_safe"]),  # type: ignore[arg-type]
                     _u(c["recommended_allowance"]), money(c["recommended_overage"], 4)))  # type: ignore[arg-type]  # fmt: skip
    cols = ["c level", "u_m before usage charges", "A safe", "c/(1-m)", "overage safe",
            "allowance <=", "overage >="]  # fmt: skip
    allowance = "none" if p.design.allowance is None else _u(p.design.allowance)
    overage = "none" if p.design.overage is None else money(p.design.overage, 4)
    target = _pct(p.target_margin)
    title = f"Plan design for a {target} margin: allowance {allowance}, overage {overage}"
    console.print(table(title, cols, rows, right=cols[1:]))
    o = p.design.outcome
    if o:
        verdict = "profitable" if o["profitable"] else "NOT profitable"
        console.print(
            f"Outcome pricing: cost per attempt {money(o['cost_per_attempt'], 4)} vs price x "  # type: ignore[arg-type]
            f"success rate = {money(o['price'], 2)} x {Decimal(str(o['success_rate'])):.3f} = "  # type: ignore[arg-type]
            f"{money(o['revenue_per_attempt'], 4)} -> [bold]{verdict}[/]"  # type: ignore[arg-type]
        )


def _yn(v: bool | None) -> str:
    return "—" if v is None else ("yes" if v else "NO")


def print_plan(p: PlanCollapse, top: int) -> None:
    """Thresholds, customers, risk, design checks and the arithmetic of one plan."""
    _lines(p)
    _customers(p, top)
    _risk(p)
    _design(p)
    console.print("[bold]Arithmetic[/] (reference customer, mean c):")
    for line in p.arithmetic:
        console.print(f"  {line}", highlight=False)
    console.print()
