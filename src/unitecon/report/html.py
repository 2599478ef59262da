"""The report: one self-contained HTML file (plotly.js inlined: it opens offline).

It opens with the period and the headline a board reads (`Analysis.summary`: fully loaded
cost, revenue, gross margin, cost per successful task, budget status, top risks), then one
section per question with its chart and, beside it, the same numbers as a table. Every
figure is an answer of the analysis core (the CLI's `--json`, the read API's body); this
module only lays them out and formats money (`terminal.money`).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from rich.console import Console

from unitecon.analysis.answers import Costs, Filters, Summary
from unitecon.terminal import money

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;
max-width:1320px;padding:0 1rem;color:#1f2933} h1{margin-bottom:.2rem}
h2{margin-top:2.2rem;border-bottom:2px solid #e4e7eb;padding-bottom:.3rem}
.sub{color:#616e7c} .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));
gap:.8rem;margin:1.2rem 0} .card{border:1px solid #e4e7eb;border-radius:8px;padding:.8rem}
.card .v{font-size:1.45rem;font-weight:600;overflow-wrap:anywhere} .card .l{color:#616e7c;
font-size:.85rem} .card .v.t{font-size:1.05rem} .card.bad .v{color:#b42318} .pair{display:grid;
grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1rem;align-items:start}
.tbl{max-height:460px;overflow:auto;border:1px solid #e4e7eb;border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.85rem} caption{text-align:left;
font-weight:600;padding:.3rem .5rem} td,th{padding:.25rem .4rem;border-bottom:1px solid #e4e7eb;
text-align:left;overflow-wrap:anywhere} th{background:#f5f7fa;position:sticky;top:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums} td.n{white-space:nowrap}
tfoot td{font-weight:600} .pair.stack{grid-template-columns:minmax(0,1fr)}
.note{color:#616e7c;font-size:.85rem}
"""

_PLOTLY = {"displaylogo": False, "responsive": True}
#: The most columns a table may have to sit beside its chart; a wider one goes under it
_BESIDE = 6


@dataclass
class Report:
    """The written report and its headline (for the terminal)."""

    path: Path
    summary: Summary
    headline: list[tuple[str, str]] = field(default_factory=list)

    @property
    def total_cost(self) -> Decimal:
        return self.summary.total_cost

    def print_summary(self, console: Console) -> None:
        from unitecon.terminal import table

        console.print(table(_period(self.summary), ["", "value"], self.headline, right=["value"]))


def _period(s: Summary) -> str:
    last = (s.until - dt.timedelta(days=1)).date()
    days = (s.until - s.since).days
    return f"{s.since.date()} to {last} (UTC, {days} days)"


def _pct(v: Decimal | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def headline(s: Summary) -> list[tuple[str, str]]:
    """The headline figures as (label, text), in the order the report shows them."""
    worst = _worst_budget(s)
    return [
        ("fully loaded AI cost", money(s.total_cost)),
        ("variable (tokens, unit prices, busy GPU time)", money(s.variable_cost)),
        ("fixed costs", money(s.fixed_cost)),
        ("idle self-hosted GPU time", money(s.idle_cost)),
        ("revenue", money(s.revenue)),
        ("gross margin", money(s.gross_margin)),
        ("gross margin %", _pct(s.gross_margin_pct)),
        ("cost per successful task (fully loaded)", money(s.cost_per_successful_task, 4)),
        ("cost per successful task (variable)", money(s.variable_cost_per_successful_task, 4)),
        ("successful tasks / tasks", f"{s.successful_tasks:,} / {s.tasks:,}"),
        (f"budgets {s.budget_month or ''}".strip(), worst),
        ("customers past collapse (margin < 0)", f"{len(s.customers_past_collapse):,}"),
        ("spend anomalies", f"{s.anomalies:,}"),
        ("runaway tasks", f"{s.runaway_tasks:,}"),
    ]


_RANK = {"over budget": 3, "forecast over": 2, "warning": 1, "ok": 0}


def _worst_budget(s: Summary) -> str:
    if not s.budgets:
        return "no budgets"
    worst = max(s.budgets, key=lambda b: _RANK.get(b.status, 0))
    bad = [b for b in s.budgets if b.status != "ok"]
    if not bad:
        return f"all {len(s.budgets)} ok"
    return f"{worst.status}: {worst.name}" + (f" (+{len(bad) - 1} more)" if len(bad) > 1 else "")


def table_html(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: Sequence[str] = (),
    caption: str = "",
    foot: Sequence[Any] | None = None,
) -> str:
    """A plain HTML table (copyable); `numeric` columns right-aligned."""
    num = set(numeric)
    cls = [' class="n"' if c in num else "" for c in columns]
    head = "".join(f"<th{k}>{html.escape(c)}</th>" for c, k in zip(columns, cls, strict=True))

    def row(r: Sequence[Any]) -> str:
        cells = zip(r, cls, strict=True)
        return "<tr>" + "".join(f"<td{k}>{html.escape(_s(v))}</td>" for v, k in cells) + "</tr>"

    body = "".join(row(r) for r in rows)
    tfoot = f"<tfoot>{row(foot)}</tfoot>" if foot is not None else ""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody>{tfoot}</table>"


def _s(v: Any) -> str:
    return "—" if v is None else str(v)


def _label(v: Any) -> str:
    return "(untagged)" if v is None or v == "" else str(v)


class _Doc:
    """Sections of the report; the first figure carries plotly.js, inlined."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._js = True

    def fig(self, f: go.Figure) -> str:
        f.update_layout(template="plotly_white", margin={"l": 60, "r": 20, "t": 50, "b": 50})
        out = f.to_html(full_html=False, include_plotlyjs=self._js, config=_PLOTLY)
        self._js = False
        return str(out)

    def section(self, title: str, figure: go.Figure | None, table: str, note: str = "") -> None:
        n = f"<p class='note'>{html.escape(note)}</p>" if note else ""
        if figure is None:
            body = f"<div class='tbl'>{table}</div>"
        elif not table:
            body = self.fig(figure)
        else:
            chart = self.fig(figure)
            # a table of many columns goes under its chart, at full width (beside it, in two
            # fifths of the page, it would scroll sideways)
            cols = table[: table.find("</thead>")].count("</th>")
            pair = "pair stack" if cols > _BESIDE else "pair"
            body = f"<div class='{pair}'><div>{chart}</div><div class='tbl'>{table}</div></div>"
        self.parts.append(f"<section><h2>{html.escape(title)}</h2>{n}{body}</section>")


def _trend(d: _Doc, s: Summary) -> None:
    months = [m.month.strftime("%Y-%m") for m in s.months]
    fig = go.Figure()
    fig.add_bar(name="revenue", x=months, y=[float(m.revenue) for m in s.months])
    fig.add_bar(
        name="fully loaded cost",
        x=months,
        y=[float(m.variable_cost + m.fixed_cost) for m in s.months],
    )
    fig.add_scatter(
        name="gross margin %",
        x=months,
        y=[
            None if m.gross_margin_pct is None else float(m.gross_margin_pct) * 100
            for m in s.months
        ],
        yaxis="y2",
        mode="lines+markers",
    )
    fig.update_layout(
        title="Revenue, cost and margin by month",
        xaxis={"type": "category"},
        yaxis={"title": "USD", "tickprefix": "$"},
        yaxis2={"title": "margin %", "overlaying": "y", "side": "right", "ticksuffix": "%"},
        legend={"orientation": "h", "y": -0.15},
        height=420,
    )
    cols = ["month", "revenue", "variable", "fixed + idle", "gross margin", "margin %",
            "per successful task"]  # fmt: skip
    rows = [
        (m.month.strftime("%Y-%m"), money(m.revenue), money(m.variable_cost), money(m.fixed_cost),
         money(m.gross_margin), _pct(m.gross_margin_pct), money(m.cost_per_successful_task, 4))
        for m in s.months
    ]  # fmt: skip
    foot = (
        "total",
        money(s.revenue),
        money(s.variable_cost),
        money(s.fixed_cost + s.idle_cost),
        money(s.gross_margin),
        _pct(s.gross_margin_pct),
        money(s.cost_per_successful_task, 4),
    )
    d.section(
        "Trend by month",
        fig,
        table_html(cols, rows, numeric=cols[1:], foot=foot),
        "Months are UTC calendar months cut to the period; a partial month has partial revenue.",
    )


def _loaded(d: _Doc, s: Summary) -> None:
    parts = [("variable", s.variable_cost), ("fixed", s.fixed_cost), ("idle GPU", s.idle_cost)]
    fig = go.Figure(
        go.Bar(
            x=[p for p, _ in parts],
            y=[float(v) for _, v in parts],
            text=[money(v) for _, v in parts],
        )
    )
    fig.update_layout(title="Fully loaded cost = variable + fixed + idle", yaxis_tickprefix="$",
                      height=360)  # fmt: skip
    rows = [(p, money(v), _pct(v / s.total_cost if s.total_cost else None)) for p, v in parts]
    foot = ("fully loaded", money(s.total_cost), "100.0%")
    d.section(
        "What the AI cost, fully loaded",
        fig,
        table_html(["part", "USD", "share"], rows, numeric=["USD", "share"], foot=foot),
    )


def _by_day(d: _Doc, c: Costs) -> None:
    from unitecon.report.governance import DAY_AXIS

    dims = c.by
    days = sorted({r.dims[dims[0]] or "" for r in c.rows})
    series: dict[str, dict[str, Decimal]] = {}
    for r in c.rows:
        series.setdefault(_label(r.dims[dims[1]]), {})[r.dims[dims[0]] or ""] = r.cost
    names = sorted(series, key=lambda n: -sum(series[n].values()))
    fig = go.Figure()
    for n in names:
        fig.add_bar(name=n, x=days, y=[float(series[n].get(x, 0)) for x in days])
    fig.update_layout(
        barmode="stack",
        title="Variable spend by day and provider",
        xaxis=DAY_AXIS,
        yaxis_tickprefix="$",
        height=420,
        legend={"orientation": "h", "y": -0.2},
    )
    cols = ["day", *names, "total"]
    rows = [
        (x, *(money(series[n].get(x)) if x in series[n] else "—" for n in names),
         money(sum((series[n].get(x, Decimal(0)) for n in names), Decimal(0))))
        for x in days
    ]  # fmt: skip
    foot = (
        "total",
        *(money(sum(series[n].values(), Decimal(0))) for n in names),
        money(c.total_cost),
    )
    d.section("Spend by day", fig, table_html(cols, rows, numeric=cols[1:], foot=foot))


def _ranked(d: _Doc, c: Costs, title: str, top: int = 15) -> None:
    dim = c.by[0]
    rows = c.rows[:top]
    fig = go.Figure(
        go.Bar(
            x=[float(r.cost) for r in rows][::-1],
            y=[_label(r.dims[dim]) for r in rows][::-1],
            orientation="h",
            text=[money(r.cost) for r in rows][::-1],
        )
    )
    fig.update_layout(title=title, xaxis_tickprefix="$", yaxis={"automargin": True},
                      height=max(280, 110 + 26 * len(rows)))  # fmt: skip
    cols = [dim, "cost", "share", "calls", "input tokens", "output tokens"]
    body = [
        (_label(r.dims[dim]), money(r.cost), _pct(r.cost / c.total_cost if c.total_cost else None),
         f"{r.events:,}", f"{r.input_tokens:,}", f"{r.output_tokens:,}")
        for r in rows
    ]  # fmt: skip
    more = f" (top {top} of {c.total_rows})" if c.total_rows > top else ""
    foot = (f"all {c.total_rows}", money(c.total_cost), "100.0%", "", "", "")
    d.section(title + more, fig, table_html(cols, body, numeric=cols[1:], foot=foot))


def _budgets(d: _Doc, budgets: Any) -> None:
    from unitecon.report.governance import budget_figure

    cols = ["budget", "month", "budget USD", "spent", "used", "forecast", "80% range",
            "runs out", "status"]  # fmt: skip
    rows = [
        (b.name, b.month, money(b.budget), money(b.actual), _pct(b.used), money(b.forecast),
         f"{money(b.forecast_low)} – {money(b.forecast_high)}", b.runs_out, b.status)
        for b in budgets.budgets
    ]  # fmt: skip
    tbl = table_html(cols, rows, numeric=cols[2:7])
    if not budgets.budgets:
        d.section("Budgets", None, tbl, "No budgets in the project file (governance.budgets).")
        return
    for i, b in enumerate(budgets.budgets):
        fig = budget_figure(b)
        fig.update_layout(height=380, legend={"orientation": "h", "y": -0.25})
        one = [
            ("spent", money(b.actual)),
            ("forecast", money(b.forecast)),
            ("budget", money(b.budget)),
            ("status", b.status),
        ]
        d.section(
            f"Budget: {b.name}" if i else "Budgets",
            fig,
            tbl if i == 0 else table_html(["", ""], one, numeric=[""]),
        )


def _anomalies(d: _Doc, a: Any) -> None:
    from unitecon.report.governance import anomaly_figure

    fig = anomaly_figure([x.day for x in a.daily], [x.cost for x in a.daily], [])
    if a.anomalies:
        fig.add_scatter(
            x=[x.day.isoformat() for x in a.anomalies if x.dim == "total"],
            y=[float(x.cost) for x in a.anomalies if x.dim == "total"],
            mode="markers", marker={"size": 13, "color": "firebrick", "symbol": "x"},
            name="anomaly (all spend)",
        )  # fmt: skip
    fig.update_layout(title="Daily variable spend and anomalies", height=380,
                      legend={"orientation": "h", "y": -0.25})  # fmt: skip
    cols = ["day", "series", "cost", "expected", "above expected", "driven by"]
    rows = [
        (x.day, "all spend" if x.dim == "total" else f"{x.dim}={x.value}", money(x.cost),
         money(x.expected), money(x.impact),
         ", ".join(f"{c.dim}={c.value}" for c in x.contributors[:2]))
        for x in a.anomalies
    ]  # fmt: skip
    note = f"{a.total} anomalies in the period; the {len(a.anomalies)} largest shown."
    d.section("Spend anomalies", fig, table_html(cols, rows, numeric=cols[2:5]), note)


def _risks(d: _Doc, s: Summary) -> None:
    cols = ["customer", "plan", "usage / month", "u0 (margin 0)", "revenue", "gross margin",
            "margin / month"]  # fmt: skip
    rows: list[tuple[Any, ...]] = [
        (c.customer_id, c.plan, f"{c.usage:,.0f}", "—" if c.u0 is None else f"{c.u0:,.0f}",
         money(c.revenue), money(c.gross_margin), money(c.monthly_margin))
        for c in s.customers_past_collapse
    ]  # fmt: skip
    d.section(
        "Customers past collapse",
        None,
        table_html(cols, rows, numeric=cols[2:]),
        "Customers whose usage is past their plan's zero-margin line (unitecon collapse).",
    )
    cols = ["task", "feature", "customer", "calls", "calls limit", "cost", "agent"]
    rows = [
        (r.task, r.feature, r.customer_id, f"{r.calls:,}", f"{r.calls_limit:,}", money(r.cost),
         r.agent)
        for r in s.top_runaway_tasks
    ]  # fmt: skip
    d.section(
        "Runaway tasks",
        None,
        table_html(cols, rows, numeric=["calls", "calls limit", "cost"]),
        f"{s.runaway_tasks} runaway tasks (agent loops); the most expensive shown "
        "(unitecon trace TASK for one's tree).",
    )


Ask = Callable[..., Any]
"""`ask(question, filters, **params)`: an answer of the analysis core (`filters` None for the
questions without them), locally (`local`) or through the service (`cli.session.Session`)."""


def local(analysis: Any) -> Ask:
    """`Ask` of an open `Analysis`."""

    def ask(question: str, f: Filters | None = None, **params: Any) -> Any:
        method = getattr(analysis, question)
        return method(**params) if f is None else method(f, **params)

    return ask


def write_report(
    ask: Ask,
    f: Filters,
    path: Path,
    *,
    source: str = "",
    analysis: Any = None,
    levers: dict[str, Any] | None = None,
) -> Report:
    """Ask the report's questions for the window `f` and write the HTML file to `path`.
    With a local `analysis` over a ledger with bills, the bill section is added; with
    `levers` (`economics.levers.summary` of a what-if on the window), the savings levers."""
    s = ask("summary", f)
    window = Filters(since=f.since, until=f.until)
    d = _Doc()
    _trend(d, s)
    _loaded(d, s)
    _by_day(d, ask("costs", window, by="day,provider"))
    _ranked(d, ask("costs", window, by="feature"), "Spend by feature")
    _ranked(d, ask("costs", window, by="model"), "Spend by model")
    _ranked(d, ask("costs", window, by="customer"), "Top customers by spend")
    last = f.until - dt.timedelta(days=1) if f.until else None
    _budgets(d, ask("budgets", None, month=last.replace(day=1) if last else None))
    _anomalies(d, ask("anomalies", window, top=20))
    _risks(d, s)
    _finance_sections(d, ask, window)
    if levers is not None:
        _levers(d, levers)
    if analysis is not None:
        _bill(d, analysis)
    head = headline(s)
    bad = {"customers past collapse (margin < 0)", "spend anomalies", "runaway tasks"}
    cards = "".join(
        f'<div class="card{" bad" if k in bad and v not in ("0",) else ""}">'
        f'<div class="v{"" if v[:1] in "$-0123456789" else " t"}">{html.escape(v)}</div>'
        f'<div class="l">{html.escape(k)}</div></div>'
        for k, v in head[:1] + head[4:8] + head[10:]
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in s.notes)
    doc = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>AI unit economics, {html.escape(_period(s))}</title><style>{_STYLE}</style>"
        f"</head><body><h1>AI unit economics</h1><div class='sub'>Period: <b>"
        f"{html.escape(_period(s))}</b> · generated {stamp} by unitecon"
        f"{' from ' + html.escape(source) if source else ''}</div>"
        f"<div class='cards'>{cards}</div>"
        f"<section><h2>Headline</h2><div class='tbl'>"
        f"{table_html(['figure', 'value'], head, numeric=['value'], caption=_period(s))}"
        f"</div><ul class='note'>{notes}</ul></section>"
        f"{''.join(d.parts)}</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
    return Report(path=path, summary=s, headline=head)


def _finance_sections(d: _Doc, ask: Ask, window: Filters) -> None:
    """Input vs output cost by model and feature; calls whose cost is unknown
    (`report.sections`)."""
    from unitecon.report import sections

    for by in ("model", "feature"):
        sections.asymmetry(d, ask("asymmetry", window, by=by))
    sections.usage_missing(d, ask("prices_missing", window), ask("coverage", window))


def _levers(d: _Doc, lv: dict[str, Any]) -> None:
    """Savings levers found by the what-if replay (`report.levers`)."""
    from unitecon.report import levers

    cols, body, foot = levers.rows(lv)
    tbl = table_html(cols, body, numeric=cols[1:], foot=foot)
    d.section("Savings levers (what-if replay)", levers.figure(lv), tbl, levers.note(lv))


def _bill(d: _Doc, analysis: Any) -> None:
    """The bill against the ledger, when the ledger holds bills (`report.bill`)."""
    from unitecon.report.bill import bill_section

    source = analysis.source
    if not hasattr(source, "con"):
        return
    cards, figs = bill_section(source, analysis.project)
    if not figs:
        return
    tbl = table_html(["", ""], list(cards.items()), numeric=[""])
    for i, fig in enumerate(figs):
        d.section("The bill against the ledger" if i == 0 else "", fig, tbl if i == 0 else "")
