"""Invariants (hypothesis): cost is never negative; sums by any dimension equal the total."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger
from unitecon.pricing import PricingConfig, costs, priced_events

MODELS = [
    ("openai", "o3"),
    ("google", "gemini-2.5-pro"),
    ("anthropic", "claude-sonnet-4-5"),
    ("deepseek", "deepseek-chat"),
    ("acme", "unknown-model"),
]
CONFIG = PricingConfig.model_validate(
    {"discounts": [{"provider": "anthropic", "percent": "12.5", "since": "2025-03-01"}]}
)


@st.composite
def event(draw: st.DrawFn) -> dict[str, Any]:
    provider, model = draw(st.sampled_from(MODELS))
    inp = draw(st.integers(0, 400_000))
    cache_read = draw(st.integers(0, inp))
    cache_write = draw(st.integers(0, inp - cache_read))
    out = draw(st.integers(0, 50_000))
    return {
        "ts": datetime(2025, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 6e7))),
        "provider": provider,
        "model": model,
        "operation": draw(st.sampled_from(["chat", "chat", "invoke_agent"])),
        "input_tokens": inp,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": out,
        "reasoning_tokens": draw(st.integers(0, out)),
        "batch": draw(st.booleans()),
        "service_tier": draw(st.sampled_from([None, "flex", "priority"])),
        "customer_id": draw(st.sampled_from(["c1", "c2", "c3", None])),
        "feature": draw(st.sampled_from(["search", "support"])),
    }


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event(), min_size=1, max_size=40))
def test_cost_non_negative_and_additive(rows: list[dict[str, Any]]) -> None:
    for i, r in enumerate(rows):
        r["event_id"], r["source"] = f"e{i}", f"t:{i}"
    with Ledger(":memory:") as led:
        led.ingest("t", [Chunk(schema.to_table(rows))])
        priced = priced_events(led, CONFIG).to_pyarrow().to_pylist()
        assert all(r["cost"] is None or r["cost"] >= 0 for r in priced)
        assert all(r["input_cost"] is None or r["input_cost"] >= 0 for r in priced)
        assert all(r["output_cost"] is None or r["output_cost"] >= 0 for r in priced)
        total = sum((r["cost"] for r in priced if r["cost"] is not None), Decimal(0))
        for by in (["customer_id"], ["model"], ["day"], ["feature", "provider"], ["month"]):
            groups = costs(led, CONFIG, by=by).to_pyarrow().to_pylist()
            assert sum((g["cost"] or Decimal(0) for g in groups), Decimal(0)) == total, by
            assert sum(g["events"] for g in groups) == len(rows)
