"""Fixtures for the pricing tests: a ledger from rows, and genai-prices as the reference."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from unitecon.ledger import schema
from unitecon.ledger.records import Chunk
from unitecon.ledger.store import Ledger

Row = dict[str, Any]


@pytest.fixture
def ledger() -> Iterator[Callable[[list[Row]], Ledger]]:
    """`ledger(rows)`: an in-memory ledger holding `rows` (schema defaults fill the rest)."""
    opened: list[Ledger] = []

    def make(rows: list[Row]) -> Ledger:
        led = Ledger(":memory:")
        for i, r in enumerate(rows):
            r.setdefault("event_id", f"e{i}")
            r.setdefault("source", f"test:{i + 1}")
        led.ingest("test", [Chunk(schema.to_table(rows))])
        opened.append(led)
        return led

    yield make
    for led in opened:
        led.close()


def reference(row: Row) -> tuple[Decimal, Decimal, Decimal]:
    """(input, output, total) price of one event by `genai_prices.calc_price`."""
    ctx = {}
    if row.get("batch"):
        ctx["processing"] = "batch"
    if row.get("service_tier"):
        ctx["service_tier"] = row["service_tier"]
    usage = Usage(
        input_tokens=row.get("input_tokens", 0),
        cache_read_tokens=row.get("cache_read_tokens", 0),
        cache_write_tokens=row.get("cache_write_tokens", 0),
        output_tokens=row.get("output_tokens", 0),
        output_reasoning_tokens=row.get("reasoning_tokens", 0),
    )
    ts: datetime = row["ts"]
    calc = calc_price(
        usage,
        row["model"],
        provider_id=row.get("provider") or None,
        genai_request_timestamp=ts,
        price_context=ctx or None,
    )
    return calc.input_price, calc.output_price, calc.total_price


@pytest.fixture(autouse=True, params=["lookup", "join"])
def pricing_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every pricing test runs on both ways the engine finds an event's price row: by array
    lookup on the ledger's price keys (the default) and by the join (other backends)."""
    from unitecon.pricing import engine

    monkeypatch.setattr(engine, "USE_LOOKUP", request.param == "lookup")
    return str(request.param)
