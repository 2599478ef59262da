"""Charts of attribution results: plotly figures written to a standalone HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from unitecon.attribution.frame import FILTERED, IDLE, UNALLOCATED

_SPECIAL = {IDLE, FILTERED, UNALLOCATED}


def unit_chart(rows: list[dict[str, Any]], by: str, path: Path, top: int = 25) -> Path:
    """Stacked bars of variable, fixed and idle cost per row (the fully loaded cost), with
    the cost per successful task on a second axis."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    shown = [r for r in rows if r["key"] not in _SPECIAL][:top]
    shown += [r for r in rows if r["key"] in _SPECIAL]
    keys = [r["key"] for r in shown]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for col, name in (
        ("variable_cost", "variable"),
        ("fixed_cost", "fixed"),
        ("idle_cost", "idle"),
    ):
        fig.add_trace(go.Bar(x=keys, y=[float(r[col]) for r in shown], name=name))
    per = [r["cost_per_successful_task"] for r in shown]
    fig.add_trace(
        go.Scatter(
            x=keys,
            y=[float(p) if p is not None else None for p in per],
            name="cost per successful task",
            mode="markers",
        ),
        secondary_y=True,
    )
    fig.update_layout(
        barmode="stack",
        title=f"Fully loaded cost by {by} (USD)",
        yaxis_title="USD",
        yaxis2_title="USD per successful task",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(path), include_plotlyjs=True)
    return path
