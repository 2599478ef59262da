"""genai-prices as the pricing tests' reference (imported by name, not from `conftest`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from genai_prices import Usage, calc_price

Row = dict[str, Any]


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
