"""The reconciliation as a chart: per bill period, the ledger's computed cost and the
residual split by what explains it, stacked up to the bill (a line)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

KIND_NAMES = {
    "untracked_usage": "untracked usage",
    "price_difference": "price difference",
    "unknown_model": "unknown model",
    "sampling": "sampling",
    "not_billed": "not on the bill",
    "within_tolerance": "within tolerance",
    "unexplained": "unexplained",
}


def figure(rec: Any) -> Any:
    """The chart of a reconciliation (`reconcile.Reconciliation` or its answer)."""
    import plotly.graph_objects as go

    tracked: dict[str, Decimal] = defaultdict(Decimal)
    billed: dict[str, Decimal] = defaultdict(Decimal)
    parts: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in rec.rows:
        p = str(r.period_start)
        tracked[p] += r.computed
        billed[p] += r.billed
        for e in r.explanations:
            parts[e.kind][p] += e.amount
    xs = sorted(billed)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=xs, y=[float(tracked[x]) for x in xs], name="tracked (ledger)"))
    for kind, name in KIND_NAMES.items():
        if kind in parts:
            fig.add_trace(go.Bar(x=xs, y=[float(parts[kind][x]) for x in xs], name=name))
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=[float(billed[x]) for x in xs],
            name="billed",
            mode="lines+markers",
            line={"color": "black"},
        )
    )
    fig.update_layout(
        barmode="relative",
        yaxis_title="USD per bill period",
        title="Bill vs ledger: tracked cost and what explains the residual",
    )
    return fig


def write_chart(rec: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure(rec).write_html(str(path), include_plotlyjs=True)
    return path
