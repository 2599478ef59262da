"""A project-file change re-prices stored history at the next query, with no re-ingest.

Expected values are worked out by hand from the list prices (USD per Mtok):
openai gpt-4o: input 2.50, cache read 1.25, output 10;
anthropic claude-opus-4-1: input 15, cache read 1.50, cache write 18.75, output 75.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from unitecon.config import parse
from unitecon.pricing import PricingConfig, priced_events

M = 1_000_000


def _rows() -> list[dict[str, Any]]:
    gpt = {"provider": "openai", "model": "gpt-4o", "input_tokens": M, "output_tokens": 100_000}
    return [
        {**gpt, "event_id": "g1", "ts": datetime(2025, 3, 1, 12, tzinfo=UTC)},
        {**gpt, "event_id": "g2", "ts": datetime(2025, 4, 30, 23, 59, 59, 999_999, tzinfo=UTC)},
        {**gpt, "event_id": "g3", "ts": datetime(2025, 5, 1, tzinfo=UTC)},
        {
            **gpt,
            "event_id": "g4",
            "ts": datetime(2025, 6, 15, tzinfo=UTC),
            "cache_read_tokens": 200_000,
        },
        {
            "event_id": "o1",
            "ts": datetime(2025, 5, 20, tzinfo=UTC),
            "provider": "anthropic",
            "model": "claude-opus-4-1",
            "input_tokens": M,
            "cache_read_tokens": 100_000,
            "cache_write_tokens": 50_000,
            "output_tokens": 10_000,
        },
        {
            "event_id": "o2",
            "ts": datetime(2025, 6, 1, tzinfo=UTC),
            "provider": "anthropic",
            "model": "claude-opus-4-1",
            "input_tokens": M,
            "cache_read_tokens": 100_000,
            "cache_write_tokens": 50_000,
            "output_tokens": 10_000,
        },
    ]


def _costs(led: Any, config: PricingConfig | None = None) -> dict[str, dict[str, Any]]:
    rows = priced_events(led, config).to_pyarrow().to_pylist()
    return {r["event_id"]: r for r in rows}


# hand-worked list prices
GPT = Decimal("2.50") + Decimal("1.00")  # 1M in at 2.50 + 100k out at 10
GPT_CACHED = Decimal("0.8") * Decimal("2.50") + Decimal("0.2") * Decimal("1.25") + 1
OPUS = (
    Decimal("0.85") * 15  # 850k uncached input
    + Decimal("0.1") * Decimal("1.5")  # 100k cache read
    + Decimal("0.05") * Decimal("18.75")  # 50k cache write
    + Decimal("0.01") * 75  # 10k output
)

CONFIG = """
pricing:
  overrides:
    - provider: openai
      model: gpt-4o
      since: 2025-05-01
      input_mtok: 2.00
  discounts:
    - provider: anthropic
      percent: 10
      since: 2025-06-01
"""


def test_override_and_discount_reprice_history_without_reingest(ledger: Any) -> None:
    led = ledger(_rows())
    before = _costs(led)
    assert {k: v["cost"] for k, v in before.items()} == {
        "g1": GPT,
        "g2": GPT,
        "g3": GPT,
        "g4": GPT_CACHED,
        "o1": OPUS,
        "o2": OPUS,
    }
    assert Decimal("14.5875") == OPUS

    config = parse(CONFIG).pricing
    after = _costs(led, config)
    # affected rows, by hand: input at 2.00 from 2025-05-01 (cache read keeps 1.25) ...
    assert after["g3"]["cost"] == Decimal("2.00") + Decimal("1.00")
    assert after["g4"]["cost"] == Decimal("0.8") * 2 + Decimal("0.2") * Decimal("1.25") + 1
    assert after["g4"]["input_cost"] == Decimal("1.85")
    # ... and 10 % off anthropic from 2025-06-01
    assert after["o2"]["cost"] == Decimal("13.12875") == OPUS * Decimal("0.9")
    # unaffected rows unchanged, to the last digit
    for k in ("g1", "g2", "o1"):
        assert after[k]["cost"] == before[k]["cost"]
        assert after[k]["price_rule"] == before[k]["price_rule"]
    assert "pricing.overrides[0] from 2025-05-01" in after["g3"]["price_rule"]
    assert "-10% pricing.discounts[0]" in after["o2"]["price_rule"]
    assert after["g3"]["catalog_version"] != before["g3"]["catalog_version"]
    # nothing was re-ingested: one ingest, same rows
    assert len(led.ingests()) == 1 and led.count() == 6

    # removing the override restores list prices
    assert {k: v["cost"] for k, v in _costs(led).items()} == {
        k: v["cost"] for k, v in before.items()
    }


def test_discount_with_until_and_precedence(ledger: Any) -> None:
    led = ledger(_rows())
    config = PricingConfig.model_validate(
        {
            "discounts": [
                {
                    "model": "claude-opus-4-1",
                    "percent": 20,
                    "since": date(2025, 5, 1),
                    "until": date(2025, 6, 1),
                },
                {"provider": "anthropic", "percent": 50, "since": date(2025, 1, 1)},
            ]
        }
    )
    after = _costs(led, config)
    assert after["o1"]["cost"] == OPUS * Decimal("0.8")  # model-specific beats provider-wide
    assert after["o2"]["cost"] == OPUS * Decimal("0.5")  # after `until`, the provider one
    assert after["g1"]["cost"] == GPT


def test_private_model_history(ledger: Any) -> None:
    ft = {
        "provider": "openai",
        "model": "ft:gpt-4o-mini:acme:support:abc123",
        "input_tokens": 2 * M,
        "cache_read_tokens": M,
        "output_tokens": M,
    }
    led = ledger(
        [
            {**ft, "event_id": "p0", "ts": datetime(2025, 1, 31, 23, tzinfo=UTC)},
            {**ft, "event_id": "p1", "ts": datetime(2025, 2, 1, tzinfo=UTC)},
            {**ft, "event_id": "p2", "ts": datetime(2025, 7, 1, tzinfo=UTC)},
        ]
    )
    config = parse(
        """
pricing:
  models:
    - model: ft:gpt-4o-mini:acme:support:abc123
      since: 2025-02-01
      input_mtok: 0.30
      output_mtok: 1.20
      cache_read_mtok: 0.15
    - model: FT:GPT-4O-MINI:ACME:SUPPORT:ABC123
      since: 2025-06-01
      input_mtok: 0.20
      output_mtok: 0.80
"""
    ).pricing
    got = _costs(led, config)
    # before the first `since`: unpriced, never $0
    assert got["p0"]["price_status"] == "missing" and got["p0"]["cost"] is None
    # 1M uncached at 0.30 + 1M cache read at 0.15 + 1M out at 1.20
    assert got["p1"]["cost"] == Decimal("1.65")
    # no cache price from 2025-06-01: cache reads are charged as input
    assert got["p2"]["cost"] == Decimal("0.40") + Decimal("0.80")
    assert got["p2"]["price_rule"].startswith("pricing.models[1]")


def test_costs_by_day_uses_utc_calendar_days(ledger: Any) -> None:
    from unitecon.pricing import costs

    by_day = costs(ledger(_rows()), by=["day"]).to_pyarrow().to_pylist()
    got = {r["day"]: (r["events"], r["cost"]) for r in by_day}
    assert got == {
        date(2025, 3, 1): (1, GPT),
        date(2025, 4, 30): (1, GPT),  # 23:59:59.999999 is still April 30
        date(2025, 5, 1): (1, GPT),
        date(2025, 5, 20): (1, OPUS),
        date(2025, 6, 1): (1, OPUS),
        date(2025, 6, 15): (1, GPT_CACHED),
    }
