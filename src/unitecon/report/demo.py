"""The spend report: one self-contained HTML file (plotly.js inlined, works offline).

Sections: headline numbers, spend by day and model, spend by feature, top customers,
cost per 1k tokens by model. Numbers come from `unitecon.economics`; this module only lays
them out.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from rich.console import Console

from unitecon.economics.costs import costs_by

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1100px;color:#1f2933} h1{margin-bottom:.2rem} .sub{color:#616e7c}
.cards{display:flex;gap:1rem;margin:1.5rem 0} .card{flex:1;border:1px solid #e4e7eb;
border-radius:8px;padding:1rem} .card .v{font-size:1.6rem;font-weight:600}
.card .l{color:#616e7c;font-size:.9rem} table{border-collapse:collapse;width:100%}
td,th{padding:.3rem .6rem;border-bottom:1px solid #e4e7eb;text-align:left}
td.n,th.n{text-align:right}
"""


@dataclass
class Report:
    path: Path
    total_cost: Decimal
    headline: dict[str, Any] = field(default_factory=dict)

    def print_summary(self, console: Console) -> None:
        from unitecon.terminal import money, table

        rows = [(k, _fmt(v, money)) for k, v in self.headline.items()]
        console.print(table("Demo summary", ["", "value"], rows, right=["value"]))


def _label(v: Any) -> str:
    return "(untagged)" if v is None or v == "" else str(v)


def _money(v: Decimal) -> str:
    return f"${v:,.2f}"


def _fmt(v: Any, money: Any) -> str:
    if isinstance(v, str):
        return v
    return str(money(v)) if isinstance(v, Decimal) else f"{v:,}"


def _stacked_by_day(rows: list[dict[str, Any]], key: str, title: str) -> go.Figure:
    fig = go.Figure()
    series: dict[str, dict[Any, float]] = {}
    for r in rows:
        series.setdefault(_label(r[key]), {})[r["day"]] = float(r["cost"])
    days = sorted({r["day"] for r in rows})
    for name in sorted(series, key=lambda s: -sum(series[s].values())):
        fig.add_bar(name=name, x=days, y=[series[name].get(d, 0.0) for d in days])
    fig.update_layout(
        barmode="stack",
        title=title,
        yaxis_title="USD per day",
        height=420,
        legend={"orientation": "h"},
    )
    return fig


def _bar(rows: list[dict[str, Any]], key: str, title: str, top: int = 15) -> go.Figure:
    rows = rows[:top]
    fig = go.Figure(
        go.Bar(
            x=[float(r["cost"]) for r in rows][::-1],
            y=[_label(r[key]) for r in rows][::-1],
            orientation="h",
            text=[_money(r["cost"]) for r in rows][::-1],
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="USD",
        height=max(260, 120 + 28 * len(rows)),
        yaxis={"automargin": True},
    )
    return fig


def _governance_figures(events: Any, project: Any) -> list[go.Figure]:
    """The daily spend with its anomalies, and each budget's burn-up for the latest month."""
    import datetime as dt

    from unitecon.governance import budget_status, data_end, detect
    from unitecon.governance.series import daily
    from unitecon.report.governance import anomaly_figure, budget_figure

    end = data_end(events) if project is not None else None
    if end is None:
        return []
    gov = project.governance
    first = events.aggregate(lo=events.ts.min()).to_pyarrow().to_pylist()[0]["lo"].date()
    [total] = daily(events, first, end)
    found = detect(events, first, end, gov.anomalies.model_copy(update={"monitors": ("total",)}))
    month = (end - dt.timedelta(days=1)).replace(day=1)
    figs = [anomaly_figure(list(total.days), list(total.costs), found)]
    figs += [budget_figure(budget_status(events, b, month, end)) for b in gov.budgets]
    return figs


def write_report(ledger: Any, priced: Any, project: Any, path: Path) -> Report:
    """Write the HTML spend report to `path`; return its headline numbers."""
    by_model = costs_by(priced, ["model"])
    by_day_model = costs_by(priced, ["day", "provider"])
    by_feature = costs_by(priced, ["feature"])
    by_customer = costs_by(priced, ["customer"])
    total = sum((r["cost"] for r in by_model), start=Decimal(0))
    events = sum(r["events"] for r in by_model)
    unpriced = sum(r["unpriced_events"] for r in by_model)
    headline: dict[str, Any] = {
        "variable spend (tokens, units, GPU time)": total,
        "events": events,
        "customers": sum(1 for r in by_customer if r["customer"] is not None),
        "events without a price": unpriced,
    }
    figs = [
        _stacked_by_day(by_day_model, "provider", "Spend by day and provider"),
        _bar(by_feature, "feature", "Spend by feature"),
        _bar(by_model, "model", "Spend by model"),
        _bar([r for r in by_customer if r["customer"]], "customer", "Top 15 customers by spend"),
    ]
    figs += _governance_figures(priced, project)
    from unitecon.report.bill import bill_section

    bill_cards, bill_figs = bill_section(ledger, project)  # the bill vs the ledger
    headline.update(bill_cards)
    figs += bill_figs
    parts = [
        f.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, f in enumerate(figs)
    ]
    cards = "".join(
        f'<div class="card"><div class="v">{html.escape(_fmt(v, _money))}</div>'
        f'<div class="l">{html.escape(k)}</div></div>'
        for k, v in headline.items()
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    doc = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>unitecon report</title>"
        f"<style>{_STYLE}</style></head><body><h1>AI spend report</h1>"
        f"<div class='sub'>Generated {stamp} by unitecon from {html.escape(str(ledger.path))}"
        f"</div><div class='cards'>{cards}</div>{''.join(parts)}</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
    return Report(path=path, total_cost=total, headline=headline)
