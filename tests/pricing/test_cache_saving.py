"""What the prompt cache saved, per event, at the event's own prices (hand-worked)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from unitecon.pricing import priced_events

TS = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)


def test_cache_saving_at_the_events_own_price(ledger: Any) -> None:
    """claude-sonnet-4-5 (Anthropic's list prices): input $3/M, cache read $0.30/M up to
    200k input tokens; $6/M and $0.60/M above. Saving = cache-read tokens x (input price -
    cache-read price):
      a: 40,000 x (3 - 0.30) / 10^6 = $0.108
      b: 100,000 x (6 - 0.60) / 10^6 = $0.54 (300k input: the tier above the cliff)
      c: no cache reads: $0; d: a model that prices no cache reads: $0
      e: an agent span (structural): $0; f: an unknown model: no saving (null)."""
    rows = [
        {"input_tokens": 100_000, "cache_read_tokens": 40_000},
        {"input_tokens": 300_000, "cache_read_tokens": 100_000},
        {"input_tokens": 5_000},
        {"provider": "openai", "model": "gpt-3.5-turbo", "input_tokens": 1_000},
        {"operation": "invoke_agent", "input_tokens": 100, "cache_read_tokens": 50},
        {"model": "no-such-model", "provider": "acme", "cache_read_tokens": 1},
    ]
    rows[3]["cache_read_tokens"] = 500  # billed as input: no cache price, no saving
    for i, r in enumerate(rows):
        r.setdefault("provider", "anthropic")
        r.setdefault("model", "claude-sonnet-4-5")
        r.setdefault("input_tokens", 10)
        r |= {"ts": TS, "event_id": "abcdef"[i]}
    got = {
        r["event_id"]: r["cache_saving"]
        for r in priced_events(ledger(rows)).to_pyarrow().to_pylist()
    }
    assert got == {
        "a": Decimal("0.108"),
        "b": Decimal("0.54"),
        "c": Decimal(0),
        "d": Decimal(0),
        "e": Decimal(0),
        "f": None,
    }
