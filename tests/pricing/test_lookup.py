"""The engine's two ways to find an event's price row agree event by event, on the edges.

A ledger's events are priced by array lookup on their price key (`engine._lookup`); any
other events table by the join (`engine._join`). Both must pick the same row, or none, for
every stored event: this draws events right at the edges that cut the lookup's cells (price
changes, off-peak windows, tier cliffs) and every kind of event that is not priced by
tokens, and compares the two, column by column.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger
from unitecon.pricing import PricingConfig, engine, priced_events

MODELS = [
    ("openai", "o3"),  # price history, flex/priority/batch variants
    ("google", "gemini-2.5-pro"),  # tier cliff at 200k
    ("anthropic", "claude-sonnet-4-5"),  # cliff, cache writes, batch
    ("deepseek", "deepseek-chat"),  # off-peak hours
    ("deepseek", "deepseek-v4-flash"),  # dated and off-peak
    ("azure", "claude-sonnet-4-5"),  # a fallback provider
    ("perplexity", "sonar-pro"),  # a price per request
    ("acme", "unknown-model"),  # missing
    (None, "gpt-4o-mini"),  # no provider
    ("openai", None),  # no model: a unit event
]
#: Instants at which some price of MODELS changes (validity, off-peak), and around them.
EDGES = [
    datetime(2025, 6, 10, tzinfo=UTC),
    datetime(2026, 10, 1, tzinfo=UTC),
    datetime(2025, 3, 1, 16, 30, tzinfo=UTC),
    datetime(2025, 3, 2, 0, 30, tzinfo=UTC),
]
CONFIG = PricingConfig.model_validate(
    {"discounts": [{"provider": "anthropic", "percent": "12.5", "since": "2025-03-01"}]}
)


@st.composite
def event(draw: st.DrawFn) -> dict[str, Any]:
    provider, model = draw(st.sampled_from(MODELS))
    edge = draw(st.sampled_from(EDGES))
    ts = edge + timedelta(microseconds=draw(st.sampled_from([-1, 0, 1, 3_600_000_000])))
    inp = draw(st.sampled_from([0, 1, 199_999, 200_000, 200_001, 272_000, 1_000_000]))
    return {
        "ts": ts,
        "provider": provider,
        "model": model,
        "operation": draw(st.sampled_from(["chat", "embeddings", "invoke_agent", "task"])),
        "endpoint": draw(st.sampled_from([None, None, "vllm-a"])),
        "unit_type": "vector_query" if model is None else None,
        "units": 1.0 if model is None else 0.0,
        "input_tokens": inp,
        "cache_read_tokens": inp // 3,
        "cache_write_tokens": inp // 5,
        "output_tokens": draw(st.sampled_from([0, 7, 50_000])),
        "reasoning_tokens": draw(st.sampled_from([0, 3])),
        "batch": draw(st.booleans()),
        "service_tier": draw(st.sampled_from([None, "default", "flex", "priority"])),
    }


def _priced(led: Ledger, lookup: bool) -> list[dict[str, Any]]:
    old = engine.USE_LOOKUP
    engine.USE_LOOKUP = lookup
    try:
        t = priced_events(led, CONFIG)
        return sorted(t.to_pyarrow().to_pylist(), key=lambda r: r["event_id"])
    finally:
        engine.USE_LOOKUP = old


@pytest.fixture(autouse=True)
def pricing_path() -> str:
    """These tests choose the path themselves (overrides the conftest's two runs)."""
    return "both"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event(), min_size=1, max_size=60))
def test_lookup_and_join_price_every_event_alike(rows: list[dict[str, Any]]) -> None:
    for i, r in enumerate(rows):
        r["event_id"], r["source"] = f"e{i}", f"t:{i}"
    with Ledger(":memory:") as led:
        res = led.ingest("t", [Chunk(schema.to_table(rows))])
        assert res.accepted == len(rows), res.errors
        looked_up, joined = _priced(led, True), _priced(led, False)
    assert looked_up == joined


def test_every_kind_of_event_alike() -> None:
    """One event of each outcome (priced in and out of the off-peak window and on both sides
    of a tier cliff, structural, missing, self-hosted, a unit, a call without usage): the
    same on both paths."""
    base = {"ts": EDGES[2], "input_tokens": 1_000, "output_tokens": 10, "batch": False}
    kinds: list[dict[str, Any]] = [
        {"provider": "deepseek", "model": "deepseek-chat"},
        {"provider": "deepseek", "model": "deepseek-chat", "ts": EDGES[2] - timedelta(hours=1)},
        {"provider": "google", "model": "gemini-2.5-pro", "input_tokens": 200_000},
        {"provider": "google", "model": "gemini-2.5-pro", "input_tokens": 200_001},
        {"provider": "openai", "model": "o3", "operation": "invoke_agent"},
        {"provider": "acme", "model": "unknown-model"},
        {"provider": "openai", "model": "gpt-4o", "endpoint": "vllm-a"},
        {"provider": None, "model": None, "unit_type": "vector_query", "units": 3.0},
        {"provider": "openai", "model": "gpt-4o", "input_tokens": 0, "output_tokens": 0},
    ]
    rows = [base | k | {"event_id": f"k{i}", "source": f"t:{i}"} for i, k in enumerate(kinds)]
    with Ledger(":memory:") as led:
        led.ingest("t", [Chunk(schema.to_table(rows))])
        looked_up, joined = _priced(led, True), _priced(led, False)
    assert looked_up == joined
    assert {r["price_status"] for r in looked_up} == set(engine.STATUSES)
    peak, off_peak = looked_up[0]["cost"], looked_up[1]["cost"]
    below, above = looked_up[2]["cost"], looked_up[3]["cost"]
    assert peak != off_peak and below < above


def test_lookup_is_used_on_a_ledger_and_the_join_elsewhere() -> None:
    """The ledger's events carry price keys (lookup); `ledger_events` hides them, so events a
    caller rewrites (what-if replay) are joined on their rewritten columns."""
    rows: list[dict[str, Any]] = [
        {"ts": EDGES[0], "provider": "openai", "model": "o3", "input_tokens": 10}
    ]
    rows[0] |= {"event_id": "x", "source": "t:1"}
    with Ledger(":memory:") as led:
        led.ingest("t", [Chunk(schema.to_table(rows))])
        keyed = engine._keyed_events(led)
        table = engine.build_prices(keyed, CONFIG)
        assert table.key_ids is not None and engine._Grid.build(table) is not None
        plain = engine.ledger_events(led)
        assert engine.PRICE_KEY not in plain.columns
        assert engine.build_prices(plain, CONFIG).key_ids is None
