"""The engine's cost equals `genai_prices.calc_price` exactly, event by event.

10,000 generated events, priced twice (DECIMAL and BIGINT arithmetic), cover:
- tier cliffs (gemini-2.5-pro, claude-sonnet-4-5 at 200k input; 199,999 / 200,000 / 200,001);
- historic prices (o3 before and after 2025-06-10, deepseek-v4-flash's dated prices);
- dated variants (batch, flex, priority, fast from 2026-10-12/14);
- cache reads and writes (anthropic); reasoning and per-request prices (perplexity);
- time-of-day prices (deepseek, including the boundary seconds);
- a fallback provider whose variants genai-prices ignores (azure -> anthropic);
- a guessed provider, and an 18-decimal catalog price (openrouter).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from genai_reference import reference

from unitecon.pricing import PricingConfig, priced_events
from unitecon.pricing.engine import build_prices, ledger_events

MODELS = [
    ("google", "gemini-2.5-pro"),
    ("openai", "o3"),
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-opus-4-1"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("deepseek", "deepseek-chat"),
    ("deepseek", "deepseek-reasoner"),
    ("deepseek", "deepseek-v4-flash"),
    ("perplexity", "sonar-deep-research"),
    ("perplexity", "sonar-pro"),
    ("azure", "claude-sonnet-4-5"),
    ("azure", "o3"),
    ("google", "claude-sonnet-4-5"),
    ("gcp.gemini", "gemini-2.5-flash"),
    ("openrouter", "google/gemini-2.5-flash"),
    (None, "gpt-4.1"),
]
TIERS = [None, None, "default", "flex", "priority", "fast"]
START = datetime(2025, 1, 1, tzinfo=UTC)
# instants where a price changes, and the microsecond before
EDGES = [
    datetime(2025, 6, 10, tzinfo=UTC),
    datetime(2026, 10, 12, tzinfo=UTC),
    datetime(2026, 10, 14, tzinfo=UTC),
    datetime(2026, 8, 17, tzinfo=UTC),
    datetime(2026, 9, 10, tzinfo=UTC),
    datetime(2025, 7, 1, 0, 30, tzinfo=UTC),
    datetime(2025, 7, 1, 16, 30, tzinfo=UTC),
    datetime(2026, 9, 20, 1, 0, tzinfo=UTC),
    datetime(2026, 9, 20, 4, 0, tzinfo=UTC),
    datetime(2026, 9, 20, 10, 0, tzinfo=UTC),
]


def events(n: int, models: list[Any] = MODELS, seed: int = 7) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    m = rng.integers(0, len(models), n)
    seconds = rng.integers(0, 2 * 365 * 86_400, n)
    micros = rng.integers(0, 1_000_000, n)
    # input: small, around the 200k cliff, and large
    kind = rng.integers(0, 4, n)
    near = 200_000 + rng.integers(-3, 4, n)
    inp = np.where(kind == 0, rng.integers(0, 5_000, n), rng.integers(0, 400_000, n))
    inp = np.where(kind == 3, near, inp)
    cache_read = (inp * rng.random(n) * (rng.random(n) < 0.6)).astype(np.int64)
    cache_write = ((inp - cache_read) * rng.random(n) * (rng.random(n) < 0.4)).astype(np.int64)
    out = rng.integers(0, 20_000, n)
    reasoning = (out * rng.random(n) * (rng.random(n) < 0.5)).astype(np.int64)
    batch = rng.random(n) < 0.25
    tier = rng.integers(0, len(TIERS), n)
    rows = []
    for i in range(n):
        ts = START + timedelta(seconds=int(seconds[i]), microseconds=int(micros[i]))
        if i % 10 == 0:  # on a price edge, or the microsecond before it
            ts = EDGES[(i // 10) % len(EDGES)] - timedelta(microseconds=int(i % 20 == 0))
        provider, model = models[m[i]]
        rows.append(
            {
                "ts": ts,
                "provider": provider,
                "model": model,
                "input_tokens": int(inp[i]),
                "cache_read_tokens": int(cache_read[i]),
                "cache_write_tokens": int(cache_write[i]),
                "output_tokens": int(out[i]),
                "reasoning_tokens": int(reasoning[i]),
                "batch": bool(batch[i]),
                "service_tier": TIERS[tier[i]],
            }
        )
    return rows


@pytest.mark.parametrize(
    ("arithmetic", "models"),
    [
        # openrouter's 18-decimal price per Mtok forces DECIMAL(38, 24) products
        ("decimal", MODELS),
        ("bigint", [m for m in MODELS if m[0] != "openrouter"]),
    ],
)
def test_engine_equals_calc_price_row_by_row(
    ledger: Any, arithmetic: str, models: list[Any]
) -> None:
    rows = events(10_000, models)
    led = ledger(rows)
    table = build_prices(ledger_events(led), PricingConfig())
    assert (table.int_scale() is None) == (arithmetic == "decimal")
    got = priced_events(led).order_by("event_id").to_pyarrow().to_pylist()
    by_id = {r["event_id"]: r for r in got}
    assert len(by_id) == len(rows)
    diffs = []
    for r in rows:
        e = by_id[r["event_id"]]
        assert e["price_status"] == "priced", (r, e)
        want = reference(r)
        have = (e["input_cost"], e["output_cost"], e["cost"])
        if have != want:
            diffs.append((r, have, want, e["price_rule"]))
    assert diffs == []
    rules = {e["price_rule"] for e in got}
    # the features the corpus is meant to cover were all exercised
    for fragment in (
        "tier input > 200,000 tokens",
        "input <= 200,000 tokens",
        "openai/o3 from 2025-06-10",
        "batch variant",
        "flex variant",
        "priority variant",
        "00:30-16:30 UTC",
        "deepseek-v4-flash from 2026-08-17",
        "perplexity/sonar-deep-research",
    ):
        assert any(fragment in rule for rule in rules), fragment


def test_cliff_by_hand(ledger: Any) -> None:
    """gemini-2.5-pro: $1.25/$10 per Mtok up to 200k input, $2.50/$15 above, on all tokens."""
    ts = datetime(2025, 8, 1, tzinfo=UTC)
    rows = [
        {
            "ts": ts,
            "provider": "google",
            "model": "gemini-2.5-pro",
            "input_tokens": n,
            "output_tokens": 1_000,
        }
        for n in (200_000, 200_001)
    ]
    got = priced_events(ledger(rows)).order_by("event_id").to_pyarrow().to_pylist()
    assert got[0]["cost"] == Decimal("1.25") * 200_000 / 10**6 + Decimal("0.010")
    assert got[1]["cost"] == Decimal("2.50") * 200_001 / 10**6 + Decimal("0.015")
