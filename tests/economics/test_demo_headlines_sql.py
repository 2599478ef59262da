"""The demo's headline figures, re-derived from the ledger with plain SQL (issue 17).

A small demo (7 days, 12 customers, seed 7) is generated and ingested; then each figure the
report's headline cards and the margins page show is computed a second way: DuckDB SQL on
the `events` table and the demo's customers.csv, the rate card written here from the demo
project file, and `genai_prices.calc_price` for token prices (the published catalog's own
function), none of it through unitecon's pricing, attribution or economics code.

    variable spend = token cost + unit-priced cost + busy GPU-time cost       [USD, window]
      token cost    sum over leaf calls with a model (no endpoint) of calc_price(...) x w,
                    w = round(1/sample_rate, 6), Anthropic x 0.9 from 2026-11-01 (discount)
      unit cost     vector_query units x 0.10/1000 + web_search x 5/1000 + review_second
                    x 38/3600, x w
      GPU busy      per UTC day: 2 GPUs x $2.10/h x 24 h = $100.80 x B / max(B, 2 x 86,400),
                    B = sum(duration_ms / 1000 x 2 GPUs / concurrency 1) of the day's calls
    customers      distinct customer_id
    plan fees      per customer-month: fee (starter 49, support-pro 199, team 35 x seats)
                    x days of the month in the contract and the window / days in the month
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from genai_prices import Usage, calc_price

CENT = Decimal("0.01")
STRUCTURAL = ("invoke_agent", "invoke_workflow", "create_agent")
UNIT_RATES = {
    "vector_query": Decimal("0.10") / 1000,
    "web_search": Decimal(5) / 1000,
    "review_second": Decimal(38) / 3600,
}
FEES = {"starter": (Decimal(49), Decimal(0)), "support-pro": (Decimal(199), Decimal(0)),
        "team": (Decimal(0), Decimal(35))}  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from unitecon.demo import generate
    from unitecon.ingest import read_path
    from unitecon.ledger.store import Ledger
    from unitecon.pipeline import write_demo_project

    home = tmp_path_factory.mktemp("headlines")
    files = generate(home / "demo", days=7, customers=12)
    with Ledger(home / "ledger.duckdb") as lg:
        for path in files.all:
            lg.ingest(str(path), read_path(path, None))
    write_demo_project(home)
    return home


def _sql(home: Path, query: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(home / "ledger.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(query).fetchall()
    finally:
        con.close()


def _weight(sample_rate: float | None) -> Decimal:
    if sample_rate is None or sample_rate == 1:
        return Decimal(1)
    return round(Decimal(1) / Decimal(repr(sample_rate)), 6)


def _token_cost(home: Path) -> tuple[Decimal, int]:
    rows = _sql(
        home,
        f"""
        SELECT provider, model, timezone('UTC', ts), input_tokens, cache_read_tokens,
               cache_write_tokens, output_tokens, reasoning_tokens, sample_rate, batch, service_tier
        FROM events
        WHERE operation NOT IN {STRUCTURAL} AND endpoint IS NULL
          AND model IS NOT NULL AND model <> ''
        """,
    )
    total, unpriced = Decimal(0), 0
    for prov, model, naive, i, cr, cw, o, rs, rate, batch, tier in rows:
        ts = naive.replace(tzinfo=dt.UTC)
        ctx = {k: v for k, v in (("processing", "batch" if batch else None),
                                 ("service_tier", tier)) if v}  # fmt: skip
        usage = Usage(input_tokens=i, cache_read_tokens=cr, cache_write_tokens=cw,
                      output_tokens=o, output_reasoning_tokens=rs)  # fmt: skip
        try:
            p = calc_price(usage, model, provider_id=prov or None,
                           genai_request_timestamp=ts, price_context=ctx or None)  # fmt: skip
        except LookupError:
            unpriced += 1
            continue
        cost = p.total_price
        if prov == "anthropic" and ts >= dt.datetime(2026, 11, 1, tzinfo=dt.UTC):
            cost *= Decimal("0.9")
        total += cost * _weight(rate)
    return total, unpriced


def _unit_cost(home: Path) -> Decimal:
    rows = _sql(
        home,
        f"""
        SELECT unit_type, units, sample_rate FROM events
        WHERE operation NOT IN {STRUCTURAL} AND endpoint IS NULL
          AND (model IS NULL OR model = '') AND unit_type IS NOT NULL
        """,
    )
    return sum(
        (Decimal(str(u)) * UNIT_RATES[t] * _weight(r) for t, u, r in rows if t in UNIT_RATES),
        Decimal(0),
    )


def _gpu_busy_cost(home: Path) -> Decimal:
    rows = _sql(
        home,
        """
        SELECT CAST(timezone('UTC', ts) AS DATE) AS day, sum(duration_ms) FROM events
        WHERE endpoint = 'llama-70b-h100' GROUP BY 1
        """,
    )
    day_cost, provisioned = Decimal("100.80"), Decimal(2 * 86_400)
    total = Decimal(0)
    for _, ms in rows:
        busy = Decimal(ms) / 1000 * 2  # 2 GPUs, concurrency 1
        total += day_cost * busy / max(busy, provisioned)
    return total


def test_variable_spend_customers_and_unpriced(demo: Path) -> None:
    from unitecon import config
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.ledger.store import Ledger
    from unitecon.report.html import local, write_report
    from unitecon.terminal import money

    tokens, unpriced = _token_cost(demo)
    want = tokens + _unit_cost(demo) + _gpu_busy_cost(demo)
    (customers,) = _sql(demo, "SELECT count(DISTINCT customer_id) FROM events")[0]
    project = config.load(demo / "unitecon.yaml")
    with (
        Ledger(demo / "ledger.duckdb") as lg,
        Analysis(lg, project, demo / "unitecon.yaml") as a,
    ):
        rep = write_report(local(a), Filters(), demo / "report.html", analysis=a)
        by_customer = a.costs(Filters(), by="customer")
    assert rep.summary.variable_cost.quantize(CENT) == want.quantize(CENT)
    html = (demo / "report.html").read_text(encoding="utf-8")
    assert money(want) in html  # the report's headline and its cost tables
    assert sum(1 for r in by_customer.rows if r.dims["customer"] is not None) == customers
    assert sum(r.unpriced_events for r in by_customer.rows) == unpriced


def test_plan_fees_cover_the_window(demo: Path) -> None:
    from unitecon import config
    from unitecon.analysis import Analysis
    from unitecon.analysis.answers import Filters
    from unitecon.ledger.store import Ledger

    ((lo, hi),) = _sql(
        demo,
        "SELECT min(timezone('UTC', ts))::DATE, max(timezone('UTC', ts))::DATE + 1 FROM events",
    )
    contracts = _sql(
        demo,
        f"""
        SELECT customer_id, plan, coalesce(TRY_CAST(seats AS INTEGER), 1),
               TRY_CAST(contract_start AS DATE)
        FROM read_csv_auto('{demo / "demo" / "customers.csv"}', all_varchar = true)
        """,
    )
    want = Decimal(0)
    for _, plan, seats, start in contracts:
        fee, per_seat = FEES[plan]
        month = lo.replace(day=1)
        while month < hi:
            days = calendar.monthrange(month.year, month.month)[1]
            end = month + dt.timedelta(days=days)
            a, b = max(month, lo, start or month), min(end, hi)
            if b > a:
                amount = (fee + per_seat * seats) * (b - a).days / days
                want += amount.quantize(CENT, ROUND_HALF_EVEN)  # each component to the cent
            month = end
    project = config.load(demo / "unitecon.yaml")
    with Ledger(demo / "ledger.duckdb") as lg, Analysis(lg, project, demo / "unitecon.yaml") as a:
        m = a.margin_model(Filters())
    got = sum((it.amount for it in m.items if it.component in ("fee", "seats")), Decimal(0))
    assert got == want
    assert (m.inputs.window.since, m.inputs.window.until) == (lo, hi)
