"""Charts of the governance stage: budget burn-up with the forecast range, and the daily
spend with its anomalies marked. Plotly figures; `write_*` writes a standalone HTML file."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from unitecon.governance.budgets import Z80, BudgetStatus


def budget_figure(s: BudgetStatus) -> go.Figure:
    """Cumulative spend against the budget: actual, forecast and its 80% range."""
    days = [d.isoformat() for d in s.days]
    cum: list[float | None] = []
    run = Decimal(0)
    n_actual = sum(1 for v in s.daily_actual if v is not None)
    for v in s.daily_actual[:n_actual]:
        run += v or 0
        cum.append(float(run))
    fc_x, fc, lo, hi = [], [], [], []
    if n_actual < len(days):
        base = run
        fc_x.append(days[n_actual - 1] if n_actual else days[0])
        fc += [float(base)]
        lo += [float(base)]
        hi += [float(base)]
        for k, v in enumerate(s.daily_forecast[n_actual:], 1):
            base += v or 0
            spread = Z80 * float(s.scale) * math.sqrt(k)
            fc_x.append(days[n_actual + k - 1])
            fc.append(float(base))
            lo.append(max(float(run), float(base) - spread))
            hi.append(float(base) + spread)
    fig = go.Figure()
    if fc_x:
        fig.add_trace(go.Scatter(x=fc_x, y=hi, line={"width": 0}, showlegend=False))
        fig.add_trace(
            go.Scatter(x=fc_x, y=lo, fill="tonexty", line={"width": 0}, name="forecast range (80%)")
        )
        fig.add_trace(go.Scatter(x=fc_x, y=fc, name="forecast", line={"dash": "dash"}))
    fig.add_trace(
        go.Scatter(
            x=days[:n_actual], y=cum, name="spent", mode="lines+markers", line={"color": "#636efa"}
        )
    )
    fig.add_hline(
        y=float(s.budget.monthly),
        line={"color": "firebrick"},
        annotation_text=f"budget ${s.budget.monthly:,.0f}",
    )
    fig.update_layout(
        title=f"Budget: {s.budget.name}, {s.month.strftime('%B %Y')} ({s.status})",
        xaxis_title="day (UTC)",
        yaxis_title="cumulative spend (USD)",
        yaxis_tickprefix="$",
        template="plotly_white",
    )
    return fig


def anomaly_figure(days: list[Any], costs: list[Decimal], anomalies: list[Any]) -> go.Figure:
    """Daily spend of one series with its anomalous days marked."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=[d.isoformat() for d in days], y=[float(c) for c in costs], name="spend")
    )
    if anomalies:
        fig.add_trace(
            go.Scatter(
                x=[a.day.isoformat() for a in anomalies],
                y=[float(a.cost) for a in anomalies],
                mode="markers",
                marker={"size": 14, "color": "firebrick", "symbol": "x"},
                name="anomaly",
                text=[f"expected ${a.expected:,.2f}" for a in anomalies],
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[a.day.isoformat() for a in anomalies],
                y=[float(a.expected) for a in anomalies],
                mode="markers",
                marker={"size": 10, "color": "gray", "symbol": "line-ew-open"},
                name="expected",
            )
        )
    fig.update_layout(
        title="Daily spend and anomalies (all spend)",
        xaxis_title="day (UTC)",
        yaxis_title="spend (USD)",
        yaxis_tickprefix="$",
        template="plotly_white",
    )
    return fig


def write_budget_chart(statuses: list[BudgetStatus], path: Path) -> Path:
    """All budgets' burn-up charts in one standalone HTML file (plotly inlined: offline)."""
    parts = [
        budget_figure(s).to_html(full_html=False, include_plotlyjs=(i == 0))
        for i, s in enumerate(statuses)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>unitecon budgets</title>"
        f"</head><body>{''.join(parts)}</body></html>",
        encoding="utf-8",
    )
    return path
