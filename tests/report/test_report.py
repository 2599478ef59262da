"""`unitecon report`: one offline HTML file whose headline is the CLI's (and the API's)
answer, each figure checked against a second path (unit metrics, margins), opened in
headless Chromium at 1400 px with no console error and nothing overflowing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from unitecon.cli.main import run
from unitecon.terminal import money

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 14-day demo ledger and the demo's project file, in a data directory."""
    from unitecon.pipeline import demo_ledger

    home = tmp_path_factory.mktemp("report")
    demo_ledger(home, days=14, customers=12)
    return home


def D(v: Any) -> Decimal:
    return Decimal(str(v))


#: JSON money is quantized to 1e-6 USD (cli.output): a sum of n quantized terms is within n/2
#: units of the quantized sum
Q = Decimal("0.000002")


def test_headline_figures_agree_with_the_other_questions(
    home: Path, cli_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    s = cli_json(["report"])
    units = cli_json(["unit", "--by", "feature"])
    margins = cli_json(["margins", "--by", "customer"])
    # fully loaded = variable + fixed + idle, the unit metrics' conserved totals
    parts = D(s["variable_cost"]) + D(s["fixed_cost"]) + D(s["idle_cost"])
    assert abs(D(s["total_cost"]) - parts) <= Q
    assert D(s["total_cost"]) == D(units["total_cost"])
    assert D(s["variable_cost"]) == D(units["variable_cost"]) > 0
    assert D(s["idle_cost"]) > 0  # the demo's self-hosted endpoints sit idle part of the day
    # revenue from the margins by customer (a second roll-up of the same rows)
    revenue = sum((D(r["revenue"]) for r in margins["rows"]), Decimal(0))
    assert abs(D(s["revenue"]) - revenue) <= Q * len(margins["rows"])
    assert D(s["revenue"]) == D(margins["total"]["revenue"]) > 0
    # gross margin = revenue - fully loaded cost (margins' fixed cost carries fixed + idle)
    assert abs(D(s["gross_margin"]) - (D(s["revenue"]) - D(s["total_cost"]))) <= Q
    # cost per successful task = fully loaded / the successful tasks of every feature's row
    successes = sum(r["successful_tasks"] for r in units["rows"])
    assert s["successful_tasks"] == successes > 0
    per = D(s["cost_per_successful_task"])
    assert abs(per - D(s["total_cost"]) / successes) <= Q
    # the months add up to the period
    month_revenue = sum((D(m["revenue"]) for m in s["months"]), Decimal(0))
    assert abs(month_revenue - D(s["revenue"])) <= Q * len(s["months"])
    month_cost = sum((D(m["variable_cost"]) + D(m["fixed_cost"]) for m in s["months"]), Decimal(0))
    assert abs(month_cost - D(s["total_cost"])) <= Q * len(s["months"])
    # the risks are the governance questions' own counts
    assert s["anomalies"] == cli_json(["anomalies", "--top", "50"])["total"]
    assert s["runaway_tasks"] == cli_json(["runaway"])["total"]
    assert [b["name"] for b in s["budgets"]] == [
        b["name"] for b in cli_json(["budgets"])["budgets"]
    ]


def test_report_html_is_offline_and_shows_the_cli_figures(
    home: Path, cli_json: Any, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    s = cli_json(["report"])
    out = tmp_path / "r.html"
    assert run(["report", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    text = out.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\ssrc=", text)  # plotly.js inlined: opens offline
    assert "Plotly.newPlot" in text
    # the period, then the headline figures, as the CLI's --json gives them
    last = dt.date.fromisoformat(s["until"][:10]) - dt.timedelta(days=1)
    assert f"Period: <b>{s['since'][:10]} to {last} (UTC, 14 days)" in text
    for key in ("total_cost", "variable_cost", "fixed_cost", "idle_cost", "revenue",
                "gross_margin"):  # fmt: skip
        assert money(D(s[key])) in text, key
        assert money(D(s[key])) in printed, key
    assert money(D(s["cost_per_successful_task"]), 4) in text
    # a table beside every chart: each chart's section holds a table
    for sec in re.findall(r"<section>(.*?)</section>", text, flags=re.S):
        if "plotly-graph-div" in sec and "go.Table" not in sec:
            assert "<table" in sec or "Table" in sec, sec[:200]
    assert text.count("<table") >= 9


def test_window_narrows_the_period_and_reversed_is_an_error(
    home: Path, cli_json: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    full = cli_json(["report"])
    first = dt.date.fromisoformat(full["since"][:10])
    week = cli_json(
        ["report", "--since", str(first + dt.timedelta(days=7)), "--until",
         str(first + dt.timedelta(days=14))],
    )  # fmt: skip
    assert week["since"][:10] == str(first + dt.timedelta(days=7))
    assert D(week["variable_cost"]) < D(full["variable_cost"])
    costs = cli_json(
        ["costs", "--by", "feature", "--limit", "0", "--since", str(first + dt.timedelta(days=7)),
         "--until", str(first + dt.timedelta(days=14))],
    )  # fmt: skip
    assert D(week["variable_cost"]) == D(costs["total_cost"])
    capsys.readouterr()
    code = run(["report", "--since", "2026-11-10", "--until", "2026-11-01"])
    assert code != 0
    assert "must be after" in capsys.readouterr().err


def test_report_in_a_browser_at_1400px(home: Path, tmp_path: Path) -> None:
    pw = pytest.importorskip("playwright.sync_api")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("no chromium: run scripts/install-browser.sh")
    out = tmp_path / "r.html"
    assert run(["report", "--out", str(out)]) == 0
    errors: list[str] = []
    with pw.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(chromium), args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        page = b.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: errors.append(r.url) if r.url.startswith("http") else None)
        page.goto(out.as_uri())
        page.wait_for_selector(".plotly-graph-div .main-svg")
        wide = page.evaluate(
            "() => [document.documentElement.scrollWidth, [...document.querySelectorAll("
            "'body *')].filter(e => e.getBoundingClientRect().right > 1400 + 1 &&"
            " !e.closest('.tbl')).map(e => e.tagName + '.' + e.className).slice(0, 5)]"
        )
        # before: most side tables scrolled sideways in their frames (two fifths of the page)
        scrolling = page.evaluate(
            "() => [...document.querySelectorAll('.tbl')].filter(t => t.scrollWidth > "
            "t.clientWidth + 1).map(t => t.closest('section').querySelector('h2').textContent)"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report-1400.png"), full_page=True)
        charts = page.eval_on_selector_all(".plotly-graph-div", "els => els.length")
        b.close()
    assert errors == []
    assert wide[0] <= 1400, wide
    assert wide[1] == [], wide
    assert scrolling == [], scrolling
    assert charts >= 8


def test_a_window_holding_no_event_says_so(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # before: a report of "-1120 days" with $0.00 headline figures; now the read commands'
    # one line (exit 0, as `costs --since 2030-01-01` does) and no file written
    out = tmp_path / "empty.html"
    capsys.readouterr()
    assert run(["report", "--since", "2030-01-01", "--out", str(out)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "No events match the window 2030-01-01 to end" in said, said
    assert "The ledger holds" in said and "days" not in said and "$0.00" not in said
    assert not out.exists()


def test_charts_by_day_have_iso_date_axes(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # before: plotly's default date ticks ("Nov 2 2026"); every chart whose x values are
    # days now names its axis a date axis with ISO ticks
    from unitecon.report import html as report_html

    figures: list[Any] = []
    draw = report_html._Doc.fig
    monkeypatch.setattr(report_html._Doc, "fig", lambda d, f: figures.append(f) or draw(d, f))
    assert run(["report", "--out", str(tmp_path / "r.html")]) == 0
    day = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    dated = [
        f for f in figures
        if any(t.x is not None and len(t.x) and all(day.match(str(x)) for x in t.x)
               for t in f.data)
    ]  # fmt: skip
    assert len(dated) >= 3, len(dated)  # spend by day, a budget's burn-up, the anomalies
    for f in dated:
        assert f.layout.xaxis.type == "date", f.layout.title.text
        assert f.layout.xaxis.tickformat == "%Y-%m-%d", f.layout.title.text
