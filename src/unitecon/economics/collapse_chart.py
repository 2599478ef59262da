"""The collapse chart: monthly gross margin against usage per customer, one panel per plan,
with the reference customer's margin line and the u0 / u_m threshold lines. Written as one
offline HTML file (plotly.js inlined)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from unitecon.economics.collapse_plan import PlanCollapse, monthly_revenue

LINE_STYLES = {"mean": "solid", "p50": "dot", "p90": "dash"}


def _curve(p: PlanCollapse, x_max: float) -> tuple[list[float], list[float]]:
    """Reference customer's margin M(u) = R(u) - F - c u at the mean unit cost."""
    xs = [x_max * i / 100 for i in range(101)]
    c, t = p.unit_cost.mean, p.terms
    ys = [float(monthly_revenue(t, Decimal(x)) - t.fixed - c * Decimal(x)) for x in xs]
    return xs, ys


def _x_max(p: PlanCollapse) -> float:
    pts = [float(q.usage) for q in p.positions]
    pts += [float(v) for lv in p.lines.values() for v in lv.values() if v is not None]
    return max([*pts, 1.0]) * 1.1


def _panel(fig: Any, p: PlanCollapse, row: int) -> None:
    import plotly.graph_objects as go

    fig.add_trace(
        go.Scatter(
            x=[float(q.usage) for q in p.positions],
            y=[float(q.monthly_margin) for q in p.positions],
            mode="markers",
            name=f"{p.plan}: customers",
            text=[q.customer_id for q in p.positions],
            marker={"color": ["#c0392b" if q.past_u0 else "#2c7fb8" for q in p.positions]},
            hovertemplate="%{text}<br>usage %{x:,.1f}<br>margin $%{y:,.2f}<extra></extra>",
        ),
        row=row,
        col=1,
    )
    xs, ys = _curve(p, _x_max(p))
    fig.add_trace(
        go.Scatter(x=xs, y=ys, mode="lines", name=f"{p.plan}: M(u) at mean c",
                   line={"color": "#555"}),
        row=row, col=1,
    )  # fmt: skip
    fig.add_hline(y=0, line={"color": "#999", "width": 1}, row=row, col=1)
    for level, lines in p.lines.items():
        for name, color in (("u0", "#c0392b"), ("u_m", "#e67e22")):
            v = lines[name]
            if v is not None:
                fig.add_vline(x=float(v), line={"color": color, "dash": LINE_STYLES[level]},
                              annotation_text=f"{name} ({level})", row=row, col=1)  # fmt: skip
    fig.update_xaxes(title_text=f"{p.unit} per month", row=row, col=1)
    fig.update_yaxes(title_text="gross margin [USD/month]", row=row, col=1)


def write_chart(plans: Sequence[PlanCollapse], path: Path) -> Path:
    """Write the chart to `path` (HTML, works offline) and return it."""
    from plotly.subplots import make_subplots

    titles = [f"{p.plan}: margin vs {p.unit} (m = {p.target_margin})" for p in plans]
    fig = make_subplots(rows=max(1, len(plans)), cols=1, subplot_titles=titles)
    for i, p in enumerate(plans, start=1):
        _panel(fig, p, i)
    fig.update_layout(height=420 * max(1, len(plans)), title="Margin collapse threshold")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path
