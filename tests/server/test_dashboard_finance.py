"""The dashboard's input vs output cost (by model and by feature) and its "usage missing"
state, in real headless Chromium (the browser set-up of test_dashboard.py).

The ledger: a week of demo traffic, plus two chat calls of gpt-4o-mini that came without
usage from one source (`streams.jsonl`): the coverage card's usage row must name that
source with its 2 calls (a count, not "$2.00"), and the prices-missing card list them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.server.test_dashboard import ARTIFACTS, _open, browser, dashboard, page  # noqa: F401

from unitecon import config
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger

PROJECT = "governance: {budgets: [{name: all AI spend, monthly: 3000}]}\n"


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from unitecon.demo import generate
    from unitecon.ingest import read_path

    root = tmp_path_factory.mktemp("dash-finance")
    files = generate(root / "demo", days=7, customers=10)
    ledger = root / "ledger.duckdb"
    start = dt.datetime.fromisoformat(files.summary.window_start.replace("Z", "+00:00"))
    no_usage = [
        {"event_id": f"nousage-{i}", "ts": start + dt.timedelta(hours=i), "operation": "chat",
         "provider": "openai", "model": "gpt-4o-mini-2024-07-18", "status": "ok",
         "feature": "support-agent", "customer_id": "c0001", "source": f"streams.jsonl:{i}"}
        for i in (1, 2)
    ]  # fmt: skip
    with Ledger(ledger) as lg:
        for path in files.all:
            lg.ingest(str(path), read_path(path, None))
        lg.ingest("streams.jsonl", [Chunk(schema.to_table(no_usage))])
    project = root / "unitecon.yaml"
    project.write_text(PROJECT)
    config.load(project)
    return ledger, project


def _table(pg: Any, card: str, n: int = 0) -> list[dict[str, str]]:
    """The n-th table of the card titled `card`, as rows of header -> text."""
    rows: list[dict[str, str]] = pg.evaluate(
        """([card, n]) => {
          const c = [...document.querySelectorAll("section.card")]
            .find((s) => s.querySelector("h2").textContent === card);
          const t = c.querySelectorAll("table")[n];
          const head = [...t.querySelectorAll("thead th")].map((h) => h.textContent.trim());
          return [...t.querySelectorAll("tbody tr")].map((r) => Object.fromEntries(
            [...r.querySelectorAll("td")].map((d, i) => [head[i], d.textContent.trim()])));
        }""",
        [card, n],
    )
    return rows


def test_input_vs_output_by_model_and_by_feature(page: Any, dashboard: tuple[str, str]) -> None:  # noqa: F811
    _open(page, dashboard, "/unit-economics")
    by_model = _table(page, "Input vs output cost by model", 0)
    by_feature = _table(page, "Input vs output cost by model", 1)
    assert {r["Model"] for r in by_model} >= {"gpt-4o-mini-2024-07-18"}
    assert {r["Feature"] for r in by_feature} >= {"support-agent", "coding-assistant"}
    # a cost per 1k tokens is a sub-cent rate: shown to the micro-dollar (6 places, as
    # `unitecon asymmetry` prints it), never "$0.00"
    mini = next(r for r in by_model if r["Model"] == "gpt-4o-mini-2024-07-18")
    # gpt-4o-mini: output $0.60 per M tokens = $0.0006 per 1k, input $0.15/M at most
    assert mini["Output per 1k tokens"] == "$0.000600"
    assert Decimal(mini["Input per 1k tokens"].strip("$")) <= Decimal("0.00015")
    for r in by_feature:
        assert r["Input share"].endswith("%") and r["Output share"].endswith("%")
    assert page.console_errors == []


def test_usage_missing_names_its_source(page: Any, dashboard: tuple[str, str]) -> None:  # noqa: F811
    _open(page, dashboard, "/budgets")
    cov = {r["Tag"]: r for r in _table(page, "Tagging coverage")}
    assert cov["usage"]["Most untagged spend from"] == "streams.jsonl (2 calls without usage)"
    assert cov["usage"]["Spend not tagged"] == "—"
    _open(page, dashboard, "/")
    missing = _table(page, "Prices or usage missing")
    row = next(r for r in missing if r["Model"] == "gpt-4o-mini-2024-07-18")
    assert row["Calls"] == "2" and row["Why"].startswith("usage missing: 2 of 2 calls")
    assert "streams.jsonl" in row["Why"]
    assert page.console_errors == []


def test_asymmetry_names_clear_the_legend(page: Any, dashboard: tuple[str, str]) -> None:  # noqa: F811
    # before: vertical bars whose rotated model names ran into the legend under the chart;
    # now horizontal bars (as the report draws them): no tick label meets the legend
    _open(page, dashboard, "/unit-economics")
    page.wait_for_selector("#asymmetry .legend")
    got = page.evaluate(
        """() => {
          const div = document.getElementById("asymmetry");
          const box = (e) => e.getBoundingClientRect();
          const leg = box(div.querySelector(".legend"));
          const meets = (r) => r.left < leg.right && leg.left < r.right &&
            r.top < leg.bottom && leg.top < r.bottom;
          const ticks = [...div.querySelectorAll(".xtick text, .ytick text")];
          return { horizontal: div.data.every((t) => t.orientation === "h"),
            names: div.querySelectorAll(".ytick text").length,
            overlapping: ticks.filter((t) => meets(box(t))).map((t) => t.textContent) };
        }"""
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#asymmetry").screenshot(path=str(ARTIFACTS / "dashboard-asymmetry.png"))
    assert got["overlapping"] == [], got
    assert got["horizontal"] and got["names"] >= 2, got
    assert page.console_errors == []
