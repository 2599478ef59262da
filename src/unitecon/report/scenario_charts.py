"""Charts of the scenario models, as standalone plotly HTML files (report stage).

cumulative_cost   cumulative cost per TCO alternative, month by month
tornado           inputs ranked by the NPV swing between their p10 and p90
savings           a waterfall of what each what-if transformation saved
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from unitecon.models import finance
from unitecon.models.tco import TcoResult
from unitecon.models.uncertainty import TornadoBar


def _write(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(str(path), include_plotlyjs=True, full_html=True)  # offline: no CDN
    return path


def cumulative_cost(result: TcoResult, path: Path) -> Path:
    """Lines of cumulative cost [USD] by month, one per alternative."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for name, alt in result.alternatives.items():
        cum = finance.cumulative(alt.cost)
        fig.add_trace(
            go.Scatter(x=list(range(len(cum))), y=[float(c) for c in cum], name=name, mode="lines")
        )
    fig.update_layout(
        title="Cumulative cost by alternative",
        xaxis_title="month",
        yaxis_title="USD",
        yaxis_tickformat="$,.0f",
    )
    return _write(fig, path)


def with_swing(bars: Sequence[TornadoBar]) -> tuple[list[TornadoBar], list[str]]:
    """The bars that move the output, and the inputs left out for a zero swing (inputs of
    other alternatives than the one the output measures)."""
    kept = [b for b in bars if b.swing != 0]
    return kept, [b.input for b in bars if b.swing == 0]


def tornado(bars: Sequence[TornadoBar], output: str, path: Path, top: int = 12) -> Path:
    """Horizontal bars: `output` with each input at its p10 and its p90, largest swing on top;
    inputs with a zero swing are left out (the title says how many)."""
    import plotly.graph_objects as go

    kept, dropped = with_swing(bars)
    shown = kept[:top][::-1]
    names = [b.input for b in shown]
    base = float(shown[0].output_at_low + shown[0].output_at_high) / 2 if shown else 0.0
    fig = go.Figure()
    for label, attr in (("input at p10", "output_at_low"), ("input at p90", "output_at_high")):
        fig.add_trace(
            go.Bar(
                y=names,
                x=[float(getattr(b, attr)) - base for b in shown],
                base=base,
                name=label,
                orientation="h",
            )
        )
    title = f"Tornado: {output}"
    if dropped:
        title += f" ({len(dropped)} inputs with no effect left out)"
    fig.update_layout(title=title, barmode="overlay", xaxis_tickformat="$,.0f", height=600)
    return _write(fig, path)


def savings(contributions: Sequence[dict[str, Any]], path: Path) -> Path:
    """A waterfall of the cost each transformation removed (negative: added)."""
    import plotly.graph_objects as go

    labels = [c["transformation"] for c in contributions]
    values = [float(c["savings"]) for c in contributions]
    fig = go.Figure(
        go.Waterfall(
            x=[*labels, "total"],
            y=[*values, sum(values)],
            measure=["relative"] * len(values) + ["total"],
        )
    )
    fig.update_layout(title="Savings by transformation", yaxis_title="USD saved")
    return _write(fig, path)
