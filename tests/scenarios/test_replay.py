"""What-if replay: the baseline is reproduced exactly, the ledger is never written, and
routing to a model that is cheaper in every price never raises cost."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitecon.attribution.costed import variable_costs
from unitecon.config import Project
from unitecon.economics import replay, whatif
from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger
from unitecon.models import scenario as sc
from unitecon.pricing import priced_events

T0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def events(n: int = 90) -> list[dict[str, Any]]:
    return [
        {
            "event_id": f"e{i}",
            "ts": T0 + dt.timedelta(minutes=7 * i),
            "provider": "openai",
            "model": "gpt-4o",
            "input_tokens": 1000 + 10 * i,
            "cache_read_tokens": 100 if i % 5 == 0 else 0,
            "output_tokens": 200 + i,
            "feature": ("support", "search", "reports")[i % 3],
            "customer_id": f"c{i % 4}",
            "task_id": f"t{i // 2}",
            "source": f"test:{i}",
        }
        for i in range(n)
    ]


def ledger(rows: list[dict[str, Any]], path: Path | str = ":memory:") -> Ledger:
    led = Ledger(path)
    led.ingest("test", [Chunk(schema.to_table(rows))])
    return led


SCENARIO = """
name: everything
transformations:
  - kind: route
    match: {feature: [support], share: 0.5}
    to_model: gpt-4o-mini
    output_factor: 1.1
    rejection_rate_change: 0.05
  - kind: prompt_cache
    match: {feature: [search]}
    read_share: 0.5
  - kind: semantic_cache
    match: {feature: [search]}
    hit_rate: 0.2
    lookup_usd_per_1000: 0.1
  - kind: batch
    match: {feature: [reports]}
  - kind: price_change
    model: gpt-4o
    factor: 0.8
  - kind: growth
    match: {feature: [support]}
    factor: 1.5
"""


def run(led: Any, text: str) -> whatif.WhatIf:
    s = sc.parse(sc.Scenario, text, "scenario.yaml")
    r = replay.replay(led, s, Project())
    return whatif.WhatIf(
        s.name, [sc.label(t, i) for i, t in enumerate(s.transformations)], r.sides, r.notes
    )


def test_no_transformation_reproduces_the_baseline_exactly() -> None:
    led = ledger(events())
    w = run(led, "name: nothing\n")
    assert w.savings == 0 and len(w.steps) == 1
    # the baseline is what the real pipeline prices: pricing, then attribution
    real = variable_costs(priced_events(led, Project()), Project()).events
    total = Decimal(real.var_cost.sum().to_pyarrow().as_py())
    assert w.baseline.variable_cost == total
    assert w.baseline.requests == 90
    full = run(led, SCENARIO)
    assert full.baseline == w.baseline


def test_contributions_sum_to_the_savings() -> None:
    w = run(ledger(events()), SCENARIO)
    contributions = w.contributions()
    assert sum(c["savings"] for c in contributions) == w.savings.quantize(Decimal("1e-6"))
    by_label = {c["transformation"].split(" ")[1]: c["savings"] for c in contributions}
    assert by_label["route"] > 0 and by_label["prompt_cache"] > 0
    assert by_label["price_change"] > 0 and by_label["growth"] < 0
    assert w.scenario.requests > w.baseline.requests  # rework, lookups and growth add calls


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_replay_never_writes_to_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "ledger.duckdb"
    ledger(events(), path).close()
    before = _digest(path)
    # a read-only connection: any write would raise
    con = ibis.duckdb.connect(str(path), read_only=True)
    w = run(con, SCENARIO)
    assert w.savings != 0
    con.disconnect()
    assert _digest(path) == before
    with Ledger(path) as led:
        n = led.con.execute("SELECT count(*), sum(output_tokens) FROM events").fetchone()
        tables = led.con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    assert n == (90, sum(200 + i for i in range(90)))
    assert not any("rework" in str(t) or "lookup" in str(t) for t in tables)


tokens = st.integers(min_value=1, max_value=200_000)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(tokens, st.integers(0, 100), st.integers(1, 20_000)), min_size=1, max_size=12
    )
)
def test_routing_to_a_cheaper_model_with_factor_one_never_raises_cost(
    calls: list[tuple[int, int, int]],
) -> None:
    rows = [
        {
            "event_id": f"p{i}",
            "ts": T0 + dt.timedelta(minutes=i),
            "provider": "openai",
            "model": "gpt-4o",
            "input_tokens": inp,
            "cache_read_tokens": inp * pct // 100,
            "output_tokens": out,
            "source": f"p:{i}",
        }
        for i, (inp, pct, out) in enumerate(calls)
    ]
    w = run(ledger(rows), "name: r\ntransformations:\n  - {kind: route, to_model: gpt-4o-mini}\n")
    assert w.scenario.cost <= w.baseline.cost
    assert w.scenario.requests == w.baseline.requests
