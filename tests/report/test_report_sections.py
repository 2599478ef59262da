"""The report's sections on input vs output cost and on calls whose cost is unknown
(`report.sections`): each lays out the analysis core's answer (`asymmetry`, `prices_missing`,
`coverage`), checked here against figures worked out by hand.

A 7-day demo ledger, plus one file of our own (`streams-without-usage.jsonl`) for a feature
`hand-feature` that only it uses:

    1 call of gpt-4o-mini-2024-07-18: 1,000,000 input and 100,000 output tokens
        input  1,000,000 x $0.15/M = $0.15    output 100,000 x $0.60/M = $0.06
        token cost $0.21; input share 0.15 / 0.21 = 71.4 %, output 0.06 / 0.21 = 28.6 %
        $/1k: input 0.15 / 1,000 = $0.000150, output 0.06 / 100 = $0.000600
        out/in price 0.0006 / 0.00015 = 4.0x
    3 calls of the same model with no usage (a stream sent without include_usage):
        usage missing, 3 of the file's 4 calls of that model; never $0
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

MODEL = "gpt-4o-mini-2024-07-18"
SOURCE = "streams-without-usage.jsonl"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    from unitecon import config
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.ingest import read_path
    from unitecon.ledger.store import Ledger
    from unitecon.pipeline import demo_ledger
    from unitecon.report.html import local, write_report

    home = tmp_path_factory.mktemp("sections")
    path = demo_ledger(home, days=7, customers=10)
    ts = dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)
    base = {"operation": "chat", "provider": "openai", "model": MODEL, "status": "ok",
            "feature": "hand-feature", "customer_id": "c0001"}  # fmt: skip
    lines = [{**base, "event_id": "hand-1", "ts": ts.isoformat(), "input_tokens": 1_000_000,
              "output_tokens": 100_000}]  # fmt: skip
    lines += [
        {**base, "event_id": f"nousage-{i}", "ts": (ts + dt.timedelta(minutes=i)).isoformat(),
         "input_tokens": 0, "output_tokens": 0}
        for i in range(1, 4)
    ]  # fmt: skip
    extra = home / SOURCE
    extra.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    with Ledger(path) as lg:
        res = lg.ingest(str(extra), read_path(extra, None))
        assert res.accepted == 4, res
    project = config.load(home / "unitecon.yaml")
    out = home / "report.html"
    with Ledger(path) as lg, Analysis(lg, project, home / "unitecon.yaml") as a:
        write_report(local(a), Filters(), out)
    return out.read_text(encoding="utf-8"), home


def _section(html: str, title: str) -> str:
    """The text of the report's section titled `title` (tags stripped)."""
    m = re.search(rf"<section><h2>{re.escape(title)}</h2>(.*?)</section>", html, re.S)
    assert m, f"no section {title!r}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1)))


def _row(text: str, key: str) -> list[str]:
    """The cells after `key` in a section's table text, up to the next row's key."""
    start = text.index(f" {key} ")
    return text[start:].split()[1:12]


def test_the_hand_worked_rate_card() -> None:
    p = calc_price(Usage(input_tokens=1_000_000, output_tokens=100_000), MODEL,
                   provider_id="openai")  # fmt: skip
    assert (p.input_price, p.output_price) == (Decimal("0.15"), Decimal("0.06"))


def test_input_vs_output_by_feature(report: tuple[str, Path]) -> None:
    html, _ = report
    text = _section(html, "Input vs output cost by feature")
    # token cost, then share and $/1k of input, output, cache reads, reasoning; out/in
    # (no cache reads, no reasoning: a 0 share, no cost per token)
    assert _row(text, "hand-feature")[:10] == [
        "$0.21", "71.4%", "$0.000150", "28.6%", "$0.000600", "0.0%", "—", "0.0%", "—", "4.0x",
    ]  # fmt: skip
    assert "2026-11-" in text and "end exclusive" in text  # the window is stated
    assert "Input vs output cost by model" in html
    by_model = _section(html, "Input vs output cost by model")
    assert f" {MODEL} " in by_model
    # one chart per section (plotly), the shares of the kinds of token
    assert html.count("Share of each feature") == 1 and html.count("Share of each model") == 1


def test_usage_missing_names_the_source(report: tuple[str, Path]) -> None:
    html, home = report
    text = _section(html, "Prices or usage missing")
    # 3 of the file's 4 calls of gpt-4o-mini came without usage: the state, the count, the
    # source responsible; never a cost of $0
    assert f" {MODEL} 3 usage missing usage missing: 3 of 4 calls from " in text
    assert f"{home / SOURCE}" in text
    assert "3 without it have an unknown cost" in text
    # the share of calls with usage, to 0.01 % (calls - 3) / calls, not rounded to 100 %
    m = re.search(r"([\d,]+) of ([\d,]+) model calls \(([\d.]+)%\)", text)
    assert m, text
    ok, calls = (int(g.replace(",", "")) for g in m.groups()[:2])
    assert ok == calls - 3 and Decimal(m.group(3)) == round(Decimal(ok * 100) / calls, 2)
    # the chart: calls without usage per source
    assert "Model calls without usage, by source" in html
    assert f'"y":["{SOURCE}"]' in html.replace(" ", "")
    # the unpriced fine-tune of the demo is listed as a price missing, not as usage
    assert re.search(r"ft:gpt-4\.1-mini\S* \d+ no price", text)
