"""The executive memo: one page for a board, as HTML and PDF (report stage; lays out only).

"Why now / What's the impact / What's the ask", each figure taken from an answer that owns
it, never computed here:

- the ledger's period (`Analysis.summary`, the `report --json` body): fully loaded cost
  (variable, fixed, idle), revenue, gross margin, cost per successful task, the trend from the
  first to the last month, customers past collapse, anomalies, runaway tasks;
- the what-if replay's savings levers (`economics.levers.summary`, the `whatif --json`
  body's `levers`): saved in the period, per month, share of variable + idle GPU cost;
- the TCO file (`tco --json`): the recommended option is the alternative with the largest
  positive NPV against the baseline (the baseline itself when none has one); its NPV against
  the baseline, IRR and payback (break-even) month, the Monte Carlo P10 and P90 of that
  NPV (the risk range), and the roadmap the file gives. The option's own ROI ((benefits -
  cost) / cost, not a comparison with the baseline: a cheaper option can have a positive NPV
  against the baseline and a negative ROI of its own) is in `--json`, not in the sentence
  that recommends it; only a kept baseline is quoted with its ROI.

The PDF is the HTML printed by headless Chromium (`--print-to-pdf`, the browser the
dashboard's tests already use), sized to one US-letter page.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from unitecon.analysis.answers import Summary
from unitecon.errors import UniteconError
from unitecon.terminal import money

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _d(x: Any) -> Decimal | None:
    return None if x is None else Decimal(str(x))


def recommend(tco: dict[str, Any]) -> str:
    """The alternative with the largest positive NPV against the baseline, else the baseline."""
    best, best_npv = tco["baseline"], Decimal(0)
    for name, a in tco["alternatives"].items():
        inc = a["incremental_vs_baseline"]
        if inc is None:
            continue
        npv = _d(inc["npv"] if isinstance(inc, dict) else inc.npv)
        if npv is not None and npv > best_npv:
            best, best_npv = name, npv
    return str(best)


def _inc(a: dict[str, Any]) -> dict[str, Any] | None:
    inc = a["incremental_vs_baseline"]
    if inc is None:
        return None
    return inc if isinstance(inc, dict) else dict(inc.as_dict())


def figures(s: Summary, tco: dict[str, Any], levers: dict[str, Any] | None) -> dict[str, Any]:
    """The memo's figures (`memo --json`), each from the answer that owns it."""
    rec = recommend(tco)
    base = tco["baseline"]
    alt = tco["alternatives"][rec]
    inc = _inc(alt)
    mc = (tco.get("monte_carlo") or {}).get("outputs", {})
    key = f"incremental_npv.{rec}" if rec != base else f"npv.{base}"
    risk = mc.get(key)
    first, last = (s.months[0], s.months[-1]) if s.months else (None, None)
    options = []
    for name, a in tco["alternatives"].items():
        i = _inc(a)
        if i is None:
            continue
        options.append(
            {
                "alternative": name,
                "npv_vs_baseline": i["npv"],
                "payback_month": i["payback_month"],
                "break_even_tasks_per_month": i["break_even_tasks_per_month"],
            }
        )
    measured = tco.get("measured_from_ledger", {}).get("volume.from_ledger")
    return {
        "period": {"since": s.since, "until": s.until, "days": (s.until - s.since).days},
        "ledger": {
            "total_cost": s.total_cost,
            "variable_cost": s.variable_cost,
            "fixed_cost": s.fixed_cost,
            "idle_cost": s.idle_cost,
            "revenue": s.revenue,
            "gross_margin": s.gross_margin,
            "gross_margin_pct": s.gross_margin_pct,
            "cost_per_successful_task": s.cost_per_successful_task,
            "customers_past_collapse": len(s.customers_past_collapse),
            "anomalies": s.anomalies,
            "runaway_tasks": s.runaway_tasks,
        },
        "trend": None
        if first is None or last is None
        else {
            "first_month": first.month.strftime("%Y-%m"),
            "last_month": last.month.strftime("%Y-%m"),
            "first_cost_per_successful_task": first.cost_per_successful_task,
            "last_cost_per_successful_task": last.cost_per_successful_task,
            "first_gross_margin_pct": first.gross_margin_pct,
            "last_gross_margin_pct": last.gross_margin_pct,
        },
        "levers": None
        if levers is None
        else {
            "scenario": levers["scenario"],
            "saved": levers["saved"],
            "saved_per_month": levers["saved_per_month"],
            "saved_share": levers["saved_share"],
            "levers": levers["levers"],
        },
        "recommendation": {
            "alternative": rec,
            "description": alt["description"],
            "baseline": base,
            "horizon_months": tco["horizon_months"],
            "discount_rate_annual": tco["discount_rate_annual"],
            "tasks_per_month_measured": None if measured is None else measured["value"],
            "npv_vs_baseline": None if inc is None else inc["npv"],
            "irr_annual": None if inc is None else inc["irr_annual"],
            "payback_month": alt["payback_month"] if inc is None else inc["payback_month"],
            "roi": alt["roi"],
            "npv": alt["npv"],
            "risk_output": key,
            "risk_p10": None if risk is None else risk["p10"],
            "risk_p90": None if risk is None else risk["p90"],
        },
        "options": options,
        "roadmap": tco.get("roadmap", []),
    }


# -- layout ------------------------------------------------------------------------------

_STYLE = """
@page{size:Letter;margin:12mm 14mm}
*{box-sizing:border-box} body{font-family:'DejaVu Sans',system-ui,sans-serif;color:#1f2933;
font-size:9.6pt;line-height:1.32;margin:0 auto;max-width:190mm}
h1{font-size:16pt;margin:0} .sub{color:#616e7c;font-size:8.6pt;margin:.15rem 0 .5rem}
h2{font-size:11.2pt;margin:.55rem 0 .25rem;border-bottom:1.5px solid #d9e2ec;padding-bottom:1px}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:5px;margin:.3rem 0}
.kpi{border:1px solid #d9e2ec;border-radius:5px;padding:4px 6px}
.kpi .v{font-size:12pt;font-weight:700;white-space:nowrap} .kpi .l{font-size:7.6pt;color:#616e7c}
ul{margin:.15rem 0 .2rem 1.1rem;padding:0} li{margin:.08rem 0}
table{border-collapse:collapse;width:100%;font-size:8.4pt;margin:.2rem 0}
td,th{border-bottom:1px solid #e4e7eb;padding:2px 4px;text-align:left;vertical-align:top}
th{background:#f5f7fa} td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.n{white-space:nowrap} .ask{background:#f0f7f3;border-left:4px solid #2f855a;
padding:4px 8px;margin:.3rem 0} .cols{display:grid;grid-template-columns:1.3fr 1fr;gap:10px}
.note{color:#616e7c;font-size:7.6pt}
"""


def _pct(v: Any, signed: bool = False) -> str:
    if v is None:
        return "—"
    x = Decimal(str(v)) * 100
    return f"{x:+.1f}%" if signed else f"{x:.1f}%"


def _m(v: Any, places: int = 2) -> str:
    return "—" if v is None else money(Decimal(str(v)), places)


def _month(v: Any) -> str:
    return "never" if v is None else f"month {Decimal(str(v)):.1f}"


def _table(cols: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[str]) -> str:
    num = set(numeric)
    cls = [' class="n"' if c in num else "" for c in cols]
    head = "".join(f"<th{k}>{html.escape(c)}</th>" for c, k in zip(cols, cls, strict=True))
    body = "".join(
        "<tr>"
        + "".join(f"<td{k}>{html.escape(v)}</td>" for v, k in zip(r, cls, strict=True))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _period(f: dict[str, Any]) -> str:
    p = f["period"]
    last = (p["until"] - dt.timedelta(days=1)).date()
    return f"{p['since'].date()} to {last} (UTC, {p['days']} days)"


def _why(f: dict[str, Any]) -> str:
    g, t = f["ledger"], f["trend"]
    kpi = [
        ("fully loaded AI cost", _m(g["total_cost"])),
        ("revenue", _m(g["revenue"])),
        ("gross margin", f"{_m(g['gross_margin'])} ({_pct(g['gross_margin_pct'])})"),
        ("cost per successful task", _m(g["cost_per_successful_task"], 4)),
    ]
    cards = "".join(
        f"<div class='kpi'><div class='v'>{html.escape(v)}</div>"
        f"<div class='l'>{html.escape(k)} (period)</div></div>"
        for k, v in kpi
    )
    items = [
        f"Fully loaded cost {_m(g['total_cost'])}: variable {_m(g['variable_cost'])}, "
        f"fixed {_m(g['fixed_cost'])}, idle self-hosted GPU {_m(g['idle_cost'])}: "
        "the token bill is the smaller part.",
    ]
    if t is not None:
        items.append(
            f"Trend {t['first_month']} → {t['last_month']}: cost per successful task "
            f"{_m(t['first_cost_per_successful_task'], 4)} → "
            f"{_m(t['last_cost_per_successful_task'], 4)}; gross margin "
            f"{_pct(t['first_gross_margin_pct'])} → {_pct(t['last_gross_margin_pct'])}."
        )
    items.append(
        f"Risks: {g['customers_past_collapse']:,} customers past their plan's zero-margin "
        f"line, {g['anomalies']:,} spend anomalies, {g['runaway_tasks']:,} runaway agent tasks."
    )
    lis = "".join(f"<li>{html.escape(i)}</li>" for i in items)
    return f"<h2>Why now</h2><div class='kpis'>{cards}</div><ul>{lis}</ul>"


def _impact(f: dict[str, Any]) -> str:
    r, lv = f["recommendation"], f["levers"]
    parts = ["<h2>What's the impact</h2>"]
    items = []
    if lv is not None:
        items.append(
            f"Savings levers found by replaying the period's real traffic ('{lv['scenario']}'): "
            f"{_m(lv['saved'])} in the period, {_m(lv['saved_per_month'])} a month, "
            f"{_pct(lv['saved_share'])} of variable + idle GPU cost."
        )
    horizon = f"{r['horizon_months']} months at {_pct(r['discount_rate_annual'])} a year"
    if r["alternative"] == r["baseline"]:
        items.append(
            f"No alternative beats '{r['baseline']}' over {horizon}: keep it "
            f"(NPV {_m(r['npv'])}, ROI {_pct(r['roi'])})."
        )
    else:
        items.append(
            f"Recommended: '{r['alternative']}' ({r['description']}). Over {horizon}: NPV "
            f"{_m(r['npv_vs_baseline'])} against '{r['baseline']}', IRR "
            f"{_pct(r['irr_annual'])} a year, break-even {_month(r['payback_month'])}."
        )
    if r["risk_p10"] is not None:
        items.append(
            f"Risk range (Monte Carlo): that NPV is {_m(r['risk_p10'])} at P10 and "
            f"{_m(r['risk_p90'])} at P90."
        )
    if r["tasks_per_month_measured"] is not None:
        items.append(
            f"Volume measured in the ledger: {Decimal(str(r['tasks_per_month_measured'])):,.0f} "
            "tasks a month (the TCO is anchored to it)."
        )
    parts.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>")
    left = ""
    if lv is not None and lv["levers"]:
        rows = [
            (x["lever"], _m(x["saved"]), _m(x["per_month"]), _pct(x["share"])) for x in lv["levers"]
        ]
        cols = ["lever", "saved (period)", "per month", "% of cost"]
        left = _table(cols, rows, cols[1:])
    opts = [
        (
            o["alternative"],
            _m(o["npv_vs_baseline"]),
            _month(o["payback_month"]),
            "—"
            if o["break_even_tasks_per_month"] is None
            else f"{Decimal(str(o['break_even_tasks_per_month'])):,.0f}",
        )
        for o in f["options"]
    ]
    ocols = ["option", f"NPV vs {r['baseline']}", "break-even", "pays from (tasks/mo)"]
    right = _table(ocols, opts, ocols[1:])
    parts.append(f"<div class='cols'><div>{left}</div><div>{right}</div></div>")
    return "".join(parts)


def _ask(f: dict[str, Any]) -> str:
    r = f["recommendation"]
    if r["alternative"] == r["baseline"]:
        ask = f"Approve the savings levers; keep '{r['baseline']}' and review the TCO quarterly."
    else:
        ask = (
            f"Approve '{r['alternative']}' now: NPV {_m(r['npv_vs_baseline'])} over "
            f"{r['horizon_months']} months, break-even {_month(r['payback_month'])}."
        )
    rows = [
        (p["phase"], f"{p['from_month']}–{p['until_month']}", p["action"]) for p in f["roadmap"]
    ]
    road = (
        _table(["phase", "months", "action"], rows, [])
        if rows
        else "<p class='note'>No roadmap in the TCO file (add `roadmap:`).</p>"
    )
    return f"<h2>What's the ask</h2><div class='ask'><b>{html.escape(ask)}</b></div>{road}"


def render(f: dict[str, Any], source: str = "") -> str:
    """The memo as one HTML page (no script: it prints as it shows)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    src = f" · from {html.escape(source)}" if source else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>AI economics memo, {html.escape(_period(f))}</title><style>{_STYLE}</style>"
        "</head><body><h1>AI economics: board memo</h1>"
        f"<div class='sub'>Period: <b>{html.escape(_period(f))}</b> · {stamp} · unitecon{src}"
        f"</div>{_why(f)}{_impact(f)}{_ask(f)}"
        "<p class='note'>Money in USD. Ledger figures are for the period; TCO figures over the "
        "horizon; a month is 730 hours. Every figure is the CLI's: unitecon report / whatif / "
        "tco --json.</p></body></html>"
    )


def chromium() -> str:
    """The Chromium to print with (`UNITECON_CHROMIUM`, else the first on PATH)."""
    env = os.environ.get("UNITECON_CHROMIUM")
    if env:
        return env
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise UniteconError(
        "No Chromium to print the memo's PDF with: install Debian's chromium (make browser, "
        "or apt-get install chromium) or set UNITECON_CHROMIUM; the HTML memo was written."
    )


def to_pdf(page: Path, out: Path, timeout: float = 120) -> Path:
    """Print `page` to `out` with headless Chromium (no header or footer)."""
    exe = chromium()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="unitecon-pdf-") as profile:
        argv = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            f"--print-to-pdf={out}",
            page.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise UniteconError(f"Chromium took over {timeout:.0f} s to print {page}") from e
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise UniteconError(f"Chromium could not print {page} to PDF: {tail[0]}")
    return out


def write(f: dict[str, Any], html_path: Path, pdf_path: Path | None, source: str = "") -> Path:
    """Write the HTML memo, and its PDF when `pdf_path` is given."""
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render(f, source), encoding="utf-8")
    if pdf_path is not None:
        to_pdf(html_path, pdf_path)
    return html_path
