"""`costs(by=...)` equals summing `priced_events` per group, exactly (Decimal), for many
dimension sets.

The corpus is the exactness test's (tier cliffs, price history and dated variants on their
edge instants and the microsecond before, time-of-day prices on their boundary seconds,
cache reads and writes, separately priced reasoning, per-request prices, batch / flex /
priority, fallback providers) plus project prices with their own history (a private model,
an override and a discount starting and ending on given days), unknown models, structural
(agent) rows with tokens, endpoint rows and non-token units, over customers and features
with nulls among them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from test_exactness import MODELS, events

from unitecon.ledger.schema import TOKEN_FIELDS
from unitecon.pricing import PricingConfig, costs, priced_events

CONFIG = PricingConfig.model_validate(
    {
        "models": [
            {
                "model": "acme-private",
                "since": "2025-05-01",
                "input_mtok": "0.7",
                "output_mtok": "2.1",
            },
            {
                "model": "acme-private",
                "since": "2026-02-01",
                "input_mtok": "0.5",
                "output_mtok": "1.5",
            },
        ],
        "overrides": [
            {
                "model": "gpt-4o-mini",
                "since": "2025-09-01",
                "until": "2026-03-01",
                "input_mtok": "0.2",
            }
        ],
        "discounts": [{"provider": "anthropic", "percent": "12.5", "since": "2025-11-15"}],
    }
)
DIMENSION_SETS: list[tuple[str, ...]] = [
    (),
    ("day",),
    ("month",),
    ("customer_id",),
    ("model",),
    ("provider",),
    ("feature",),
    ("operation",),
    ("customer_id", "day"),
    ("provider", "model", "month"),
    ("feature", "customer_id", "day"),
    ("service_tier", "batch"),
]
CUSTOMERS = ["c1", "c2", "c3", None]
FEATURES = ["search", "chat", None]


def corpus(models: list[Any]) -> list[dict[str, Any]]:
    rows = events(3_000, [*models, ("acme", "acme-private"), ("acme", "unknown-model")], seed=11)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for i, r in enumerate(rows):
        r["customer_id"] = CUSTOMERS[i % len(CUSTOMERS)]
        r["feature"] = FEATURES[i % len(FEATURES)]
        if i % 97 == 0:  # an agent span carrying its children's tokens: never priced
            r["operation"] = "invoke_agent"
        elif i % 89 == 0:  # a self-hosted endpoint: left to later stages, unpriced here
            r["endpoint"] = "gpu-pool-1"
        elif i % 83 == 0:  # a non-token unit
            r.update(model=None, provider=None, unit_type="search", units=3.0)
    # a group holding only structural rows (its cost is 0, not null)
    rows.append(
        {
            "ts": start + timedelta(days=3),
            "operation": "invoke_workflow",
            "provider": "openai",
            "model": "gpt-4o",
            "input_tokens": 1_000,
            "customer_id": "only-agents",
            "feature": "only-agents",
        }
    )
    return rows


def key_of(row: dict[str, Any], dim: str) -> Any:
    ts: datetime = row["ts"].astimezone(UTC)
    if dim == "day":
        return ts.date()
    if dim == "month":
        return date(ts.year, ts.month, 1)
    return row[dim]


def add(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """SQL SUM: nulls ignored, null when every value is null."""
    return a if b is None else b if a is None else a + b


def expected(priced: list[dict[str, Any]], by: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
    out: dict[tuple[Any, ...], dict[str, Any]] = defaultdict(
        lambda: (
            {"events": 0, "unpriced": 0, **dict.fromkeys(TOKEN_FIELDS, 0)}
            | dict.fromkeys(("input_cost", "output_cost", "cost"))
        )
    )
    for r in priced:
        g = out[tuple(key_of(r, d) for d in by)]
        g["events"] += 1
        g["unpriced"] += r["price_status"] in ("missing", "endpoint", "unit")
        for f in TOKEN_FIELDS:
            g[f] += r[f]
        for c in ("input_cost", "output_cost", "cost"):
            g[c] = add(g[c], r[c])
    return out


@pytest.mark.parametrize(
    "models",
    [
        pytest.param(MODELS, id="decimal"),  # openrouter's 18-decimal price: DECIMAL products
        pytest.param([m for m in MODELS if m[0] != "openrouter"], id="bigint"),
    ],
)
def test_costs_equal_priced_events_summed_per_group(ledger: Any, models: list[Any]) -> None:
    led = ledger(corpus(models))
    priced = priced_events(led, CONFIG).to_pyarrow().to_pylist()
    statuses = {r["price_status"] for r in priced}
    assert statuses == {"priced", "structural", "missing", "endpoint", "unit"}
    rules = " | ".join({r["price_rule"] for r in priced if r["price_rule"]})
    for fragment in ("tier input > 200,000", "00:30-16:30 UTC", "flex variant", "pricing."):
        assert fragment in rules, fragment
    for by in DIMENSION_SETS:
        want = expected(priced, by)
        got = costs(led, CONFIG, by=list(by)).to_pyarrow().to_pylist()
        have = {tuple(r.pop(d) for d in by): r for r in got}
        assert have.keys() == want.keys(), by
        for key, w in want.items():
            assert have[key] == w, (by, key)
        total = costs(led, CONFIG).to_pyarrow().to_pylist()[0]
        assert sum(g["events"] for g in have.values()) == total["events"] == len(priced)
    agents = costs(led, CONFIG, by=["customer_id"]).to_pyarrow().to_pylist()
    only = next(r for r in agents if r["customer_id"] == "only-agents")
    assert (only["unpriced"], only["cost"]) == (0, Decimal(0))
