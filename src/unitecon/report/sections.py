"""The report's sections on where the token cost goes and what cannot be costed.

- **Input vs output cost** (`Analysis.asymmetry`, by model and by feature): each kind of
  token's share of the token cost and its cost per 1k tokens, as `unitecon asymmetry` and
  `GET /api/v1/asymmetry` answer it.
- **Usage missing** (`Analysis.prices_missing` and the `usage` row of `Analysis.coverage`):
  model calls whose cost is unknown (a model without a price, a call that came without token
  counts), never counted as $0, with the sources responsible, as `unitecon prices missing`,
  `unitecon coverage` and the dashboard show them.

Like `report.html`, these only lay out the core's answers: no figure is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from unitecon.report.html import _Doc, _pct, table_html
from unitecon.terminal import money

#: The kinds of token of an asymmetry row, with their names in the report.
KINDS = (
    ("input", "input"),
    ("output", "output"),
    ("cache_read", "cache reads (part of input)"),
    ("reasoning", "reasoning (part of output)"),
)
#: How the prices-missing reason of calls without usage starts (`pricing.USAGE_MISSING`).
USAGE_MISSING = "usage missing"


def _dec(v: Any) -> Decimal | None:
    """A figure of an answer (a Decimal locally, a decimal string through the service)."""
    return None if v is None else Decimal(str(v))


def _part(row: Mapping[str, Any], kind: str, field: str) -> Decimal | None:
    return _dec((row.get(kind) or {}).get(field))


def asymmetry(d: _Doc, answer: Any, top: int = 12) -> None:
    """One section: the chart of each kind's share of the token cost, per model or feature,
    and the table of shares and costs per 1k tokens beside it."""
    by, rows = answer.by, answer.rows[:top]
    period = f"{answer.since:%Y-%m-%d} to {answer.until:%Y-%m-%d} (end exclusive)"
    keys = [str(r["key"]) for r in rows][::-1]  # horizontal bars: the largest on top
    fig = go.Figure()
    for kind, name in KINDS:
        shares = [_part(r, kind, "cost_share") for r in rows][::-1]
        fig.add_bar(
            name=name,
            y=keys,
            x=[None if s is None else float(s) for s in shares],
            orientation="h",
            hovertemplate="%{y}: %{x:.1%}<extra>" + name + "</extra>",
        )
    fig.update_layout(
        title=f"Share of each {by}'s token cost by kind of token",
        barmode="group",
        xaxis={"tickformat": ".0%", "rangemode": "tozero"},
        yaxis={"type": "category", "automargin": True},
        legend={"orientation": "h", "y": -0.12, "traceorder": "normal"},
        height=max(360, 140 + 70 * len(rows)),
    )
    cols = [by, "token cost"]
    for kind, _ in KINDS:
        short = kind.replace("_", " ")
        cols += [f"{short} share", f"{short} $/1k"]
    cols.append("out/in price")
    body = []
    for r in rows:
        line: list[Any] = [r["key"], money(_dec(r["token_cost"]))]
        for kind, _ in KINDS:
            line += [_pct(_part(r, kind, "cost_share")),
                     money(_part(r, kind, "cost_per_1k_tokens"), 6)]  # fmt: skip
        ratio = _dec(r.get("output_input_price_ratio"))
        line.append("—" if ratio is None else f"{ratio:.1f}x")
        body.append(line)
    more = f" (top {top} of {len(answer.rows)})" if len(answer.rows) > top else ""
    d.section(
        f"Input vs output cost by {by}{more}",
        fig,
        table_html(cols, body, numeric=cols[1:], caption=period),
        f"{period}. API calls (self-hosted calls: see unitecon endpoints); cache reads are "
        "part of input, reasoning part of output; shares are of the token cost; $/1k is the "
        "cost per 1,000 tokens of that kind; out/in is output's $/token over input's "
        "(unitecon asymmetry).",
    )


def usage_missing(d: _Doc, missing: list[Any], coverage: Any) -> None:
    """One section: model calls with no cost (no price, or no usage), never $0, and the
    sources whose calls came without usage (chart: their number of such calls)."""
    usage = next((r for r in coverage.rows if r.dimension == "usage"), None)
    sources = list(usage.top_untagged_sources) if usage is not None else []
    fig = None
    if sources:
        names = [Path(s.source).name or s.source for s in sources]
        counts = [int(s.cost) for s in sources]
        fig = go.Figure(go.Bar(x=counts[::-1], y=names[::-1], orientation="h", text=counts[::-1]))
        fig.update_layout(
            title="Model calls without usage, by source (most first)",
            xaxis_title="calls",
            yaxis={"automargin": True},
            height=max(260, 110 + 30 * len(names)),
        )
    cols = ["provider", "model", "calls", "state", "why, and the source responsible"]
    rows = [
        (
            r.provider,
            r.model,
            f"{r.events:,}",
            "usage missing" if r.reason.startswith(USAGE_MISSING) else "no price",
            r.reason,
        )
        for r in missing
    ]
    if usage is not None and usage.calls:
        lost = usage.calls - usage.tagged_calls
        # two places: 3 calls of 7,059 without usage is 99.96 %, not "100.0 %"
        cov = _dec(usage.call_coverage)
        share = "—" if cov is None else f"{cov * 100:.2f}%"
        note = (
            f"{usage.tagged_calls:,} of {usage.calls:,} model calls ({share}) came with their "
            f"usage; {lost:,} without it have an unknown cost, never counted as $0."
        )
    else:
        note = "No model calls in the period."
    note += (
        " A model without a price is left out of every cost until a price is added to the "
        "project file; a call without usage is fixed at its source (unitecon prices missing, "
        "unitecon coverage)."
    )
    tbl = table_html(cols, rows, numeric=["calls"]) if rows else ""
    if fig is None and not tbl:
        tbl = table_html(["", ""], [("every model call", "priced, with its usage")])
    d.section("Prices or usage missing", fig, tbl, note)
