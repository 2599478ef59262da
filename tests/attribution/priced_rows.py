"""A priced-events table built by hand (costs set directly, no pricing stage).

Imported by name (`from priced_rows import ...`), not from `conftest`: two `conftest`
modules collected in one process are one module name, the second shadowing the first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pyarrow as pa

from unitecon.ledger import schema

PRICED_FIELDS = [
    pa.field("priced", pa.bool_()),
    pa.field("price_status", pa.string()),
    pa.field("input_cost", pa.decimal128(38, 12)),
    pa.field("output_cost", pa.decimal128(38, 12)),
    pa.field("cost", pa.decimal128(38, 12)),
    pa.field("price_rule", pa.string()),
    pa.field("catalog_version", pa.string()),
    pa.field("cache_saving", pa.decimal128(38, 12)),
]
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

MakePriced = Callable[[list[dict[str, Any]]], Any]


def priced_table(rows: list[dict[str, Any]]) -> pa.Table:
    """Event rows plus pricing columns; status defaults from the row's shape."""
    events = schema.to_table(
        [
            {"source": "test", **{k: v for k, v in r.items() if k in schema.FIELD_NAMES}}
            for r in rows
        ]
    )
    extra: dict[str, list[Any]] = {f.name: [] for f in PRICED_FIELDS}
    for r in rows:
        structural = r.get("operation", "chat") in schema.STRUCTURAL_OPERATIONS
        status = r.get("price_status") or ("structural" if structural else "priced")
        cost = Decimal(r.get("cost", 0)) if status == "priced" else None
        extra["priced"].append(status == "priced")
        extra["price_status"].append(status)
        extra["input_cost"].append(Decimal(r.get("input_cost", 0)) if cost is not None else None)
        extra["output_cost"].append(Decimal(r.get("output_cost", 0)) if cost is not None else None)
        extra["cost"].append(cost)
        extra["price_rule"].append("test" if cost is not None else None)
        extra["catalog_version"].append("test")
        saving = Decimal(r.get("cache_saving", 0)) if cost is not None else None
        extra["cache_saving"].append(saving)
    for f in PRICED_FIELDS:
        events = events.append_column(f, pa.array(extra[f.name], f.type))
    return events
