"""The report's savings-levers section: what each what-if lever saves on the period's traffic.

Laid out from `economics.levers.summary` (the `whatif --json` answer's `levers`): a bar per
lever and, beside it, the table (saved in the period, per 730-hour month, % of the period's
variable + idle GPU cost, what the replay costs), the total in the foot. Formats only.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from unitecon.terminal import money

SAVES, COSTS = "#2f855a", "#b42318"


def pct(v: Decimal | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def figure(lv: dict[str, Any]) -> go.Figure:
    rows = lv["levers"][::-1]
    saved = [float(r["saved"]) for r in rows]
    fig = go.Figure(
        go.Bar(
            x=saved,
            y=[r["lever"] for r in rows],
            orientation="h",
            marker_color=[SAVES if s >= 0 else COSTS for s in saved],
            text=[money(r["saved"]) for r in rows],
        )
    )
    fig.update_layout(
        title="Saved by each lever in the period (given the ones before it)",
        xaxis_tickprefix="$",
        yaxis={"automargin": True},
        height=max(280, 110 + 34 * len(rows)),
    )
    return fig


def rows(lv: dict[str, Any]) -> tuple[list[str], list[tuple[str, ...]], tuple[str, ...]]:
    """Columns, one row per lever, and the total row."""
    cols = ["lever", "saved in the period", "per month", "% of variable + idle"]
    body: list[tuple[str, ...]] = [
        (str(r["lever"]), money(r["saved"]), money(r["per_month"]), pct(r["share"]))
        for r in lv["levers"]
    ]
    foot: tuple[str, ...] = (
        "all levers",
        money(lv["saved"]),
        money(lv["saved_per_month"]),
        pct(lv["saved_share"]),
    )
    return cols, body, foot


def note(lv: dict[str, Any]) -> str:
    period = ""
    if lv["since"] is not None:
        period = f" on {lv['since']:%Y-%m-%d} to {lv['until']:%Y-%m-%d} ({lv['days']:.0f} days)"
    return (
        f"What-if scenario '{lv['scenario']}' replayed on the real traffic{period}: variable "
        f"and idle GPU cost {money(lv['baseline_cost'])} in the period (fixed costs do not "
        "change); a month is 730 hours. A negative "
        "saving is a lever that adds cost. " + " ".join(f"({n})" for n in lv["notes"])
    ).strip()
