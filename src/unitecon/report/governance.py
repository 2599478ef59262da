"""Charts of the governance stage: budget burn-up with the forecast range, and the daily
spend with its anomalies marked. Plotly figures; `write_*` writes a standalone HTML file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from unitecon.governance.budgets import BudgetStatus
from unitecon.governance.overview import burn_up

#: The x axis of a chart by day: ISO dates (2026-11-02, not plotly's "Nov 2 2026")
DAY_AXIS = {"type": "date", "tickformat": "%Y-%m-%d", "hoverformat": "%Y-%m-%d"}


def budget_figure(s: Any) -> go.Figure:
    """Cumulative spend against the budget: actual, forecast and its 80% range
    (`governance.overview.burn_up`, the same days the dashboard draws). `s` is a
    `BudgetStatus` or the analysis core's answer for it (`answers.BudgetState`)."""
    if isinstance(s, BudgetStatus):
        days = [(d.day, d.spent, d.forecast, d.low, d.high) for d in burn_up(s)]
        amount, name, month, status = s.budget.monthly, s.budget.name, s.month, s.status
    else:
        days = [(d.day, d.spent, d.forecast, d.forecast_low, d.forecast_high) for d in s.days]
        amount, name, status = s.budget, s.name, s.status
        month = dt.date.fromisoformat(s.month + "-01")
    spent = [(d[0], d[1]) for d in days if d[1] is not None]
    ahead = [d for d in days if d[2] is not None]
    fc_x = [d[0].isoformat() for d in ahead] if len(ahead) > 1 else []
    fc = [float(d[2] or 0) for d in ahead]
    lo = [float(d[3] or 0) for d in ahead]
    hi = [float(d[4] or 0) for d in ahead]
    fig = go.Figure()
    if fc_x:
        band = {"width": 0, "color": "rgba(99, 110, 250, 0.25)"}
        fig.add_trace(go.Scatter(x=fc_x, y=hi, mode="lines", line=band, showlegend=False))
        fig.add_trace(
            go.Scatter(
                x=fc_x,
                y=lo,
                mode="lines",
                fill="tonexty",
                fillcolor="rgba(99, 110, 250, 0.2)",
                line=band,
                name="forecast range (80%)",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=fc_x,
                y=fc,
                mode="lines",
                name="forecast",
                line={"dash": "dash", "color": "#636efa"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[d.isoformat() for d, _ in spent],
            y=[float(v or 0) for _, v in spent],
            name="spent",
            mode="lines+markers",
            line={"color": "#636efa"},
        )
    )
    fig.add_hline(
        y=float(amount),
        line={"color": "firebrick"},
        annotation_text=f"budget ${amount:,.0f}",
    )
    fig.update_layout(
        title=f"Budget: {name}, {month.strftime('%B %Y')} ({status})",
        xaxis={**DAY_AXIS, "title": "day (UTC)"},
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
        xaxis={**DAY_AXIS, "title": "day (UTC)"},
        yaxis_title="spend (USD)",
        yaxis_tickprefix="$",
        template="plotly_white",
    )
    return fig


def write_budget_chart(statuses: list[Any], path: Path) -> Path:
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
