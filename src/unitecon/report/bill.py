"""The report's bill section: the capture rate per provider (with its alert) and the chart
of tracked cost and what explains the residual, when the ledger holds bills."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go


def bill_section(ledger: Any, project: Any) -> tuple[dict[str, str], list[go.Figure]]:
    """(headline cards, figures) of the reconciliation; nothing without bills."""
    from unitecon.analysis import Analysis
    from unitecon.reconcile import reconcile_ledger
    from unitecon.reconcile.chart import figure

    has = ledger.con.execute("SELECT count(*) FROM bill_lines").fetchone()
    if not has or not has[0] or project is None:
        return {}, []
    with Analysis(ledger, project) as analysis:
        rec = reconcile_ledger(analysis)
    cards = {}
    for c in rec.capture:
        if c.rate is not None:
            flag = " — below threshold" if c.alert else ""
            cards[f"capture rate, {c.provider} (tracked / billed){flag}"] = f"{c.rate * 100:.1f}%"
    thr = f"alert below {rec.threshold * 100:.0f}%"
    table = go.Figure(
        go.Table(
            header={"values": ["provider", "tracked (USD)", "billed (USD)", "capture", thr]},
            cells={"values": [
                [c.provider for c in rec.capture],
                [f"{c.tracked:,.2f}" for c in rec.capture],
                [f"{c.billed:,.2f}" for c in rec.capture],
                ["—" if c.rate is None else f"{c.rate * 100:.1f}%" for c in rec.capture],
                ["below threshold" if c.alert else "ok" for c in rec.capture],
            ]},
        )
    )  # fmt: skip
    table.update_layout(title="Capture rate over the bills' periods (`unitecon reconcile`)",
                        height=80 + 30 * len(rec.capture))  # fmt: skip
    summary = rec.summary()
    expl = go.Figure(
        go.Table(
            header={"values": ["provider", "explanation", "rows", "USD", "largest row"]},
            cells={"values": [
                [s["provider"] for s in summary],
                [s["kind"].replace("_", " ") for s in summary],
                [s["rows"] for s in summary],
                [f"{s['amount']:,.2f}" for s in summary],
                [s["example"] for s in summary],
            ]},
            columnwidth=[60, 90, 40, 60, 400],
        )
    )  # fmt: skip
    expl.update_layout(title="What explains the gap between the bill and the ledger")
    return cards, [table, figure(rec), expl]
