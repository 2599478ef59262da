"""Shared fixtures: the hand-worked revenue book of test_handworked.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from unitecon import config
from unitecon.economics.inputs import UsageLine
from unitecon.economics.revenue import Book, load_book

OCT = dt.date(2026, 10, 1)

YAML = """
revenue:
  rates: {EUR: "1.10"}
  plans:
    starter: {monthly_fee: 49, fixed_cost_per_customer: 4}
    starter-eu: {monthly_fee: 45, currency: EUR}
    team:
      per_seat: 30
      fixed_cost_per_customer: 10
      usage: [{metric: tasks, included_per_seat: 100, price: "0.08"}]
    support-pro:
      monthly_fee: 99
      fixed_cost_per_customer: 5
      usage: [{metric: resolutions, feature: support, price: "0.99"}]
  customers:
    A: {plan: starter}
    B: {plan: team, seats: 3, start: 2026-10-17}
    C: {plan: support-pro}
    D: {plan: starter-eu, currency: EUR}
"""


def line(cid: str, feature: str, cost: str, tasks: int, **kw: int) -> UsageLine:
    extra = {k: Decimal(v) for k, v in kw.items()}
    return UsageLine(cid, OCT, feature, {"m": Decimal(cost)}, tasks=Decimal(tasks), **extra)


@pytest.fixture
def book() -> Book:
    return load_book(config.parse(YAML, "t.yaml").revenue)


@pytest.fixture
def usage() -> list[UsageLine]:
    return [
        line("A", "search", "12.00", 30),
        line("A", "coding", "50.00", 10),
        line("B", "coding", "20.00", 350),
        line("C", "support", "30.00", 40, successful_tasks=25, conversations=40, resolutions=25),
        line("D", "search", "1.00", 5),
    ]


# -- priced events built by hand (costs set directly, no pricing stage) ------------------

PRICED_TYPES = {
    "priced": "bool",
    "price_status": "string",
    "input_cost": "decimal(38, 12)",
    "output_cost": "decimal(38, 12)",
    "cost": "decimal(38, 12)",
    "price_rule": "string",
    "catalog_version": "string",
    "cache_saving": "decimal(38, 12)",
}


def priced_table(rows: list[dict[str, Any]]) -> Any:
    """Event rows plus the pricing stage's columns, as a pyarrow table. A row's `cost`
    (default 0) is its token cost; `price_status` defaults to priced (structural for
    agent/workflow spans); endpoint and unit rows get their cost from attribution."""
    import pyarrow as pa

    from unitecon.ledger import schema

    events = schema.to_table(
        [
            {"source": "test", **{k: v for k, v in r.items() if k in schema.FIELD_NAMES}}
            for r in rows
        ]
    )
    cols: dict[str, list[Any]] = {k: [] for k in PRICED_TYPES}
    for r in rows:
        structural = r.get("operation", "chat") in schema.STRUCTURAL_OPERATIONS
        status = r.get("price_status") or ("structural" if structural else "priced")
        cost = Decimal(r.get("cost", 0)) if status == "priced" else None
        cols["priced"].append(status == "priced")
        cols["price_status"].append(status)
        cols["input_cost"].append(cost)
        cols["output_cost"].append(Decimal(0) if cost is not None else None)
        cols["cost"].append(cost)
        cols["price_rule"].append("test" if cost is not None else None)
        cols["catalog_version"].append("test")
        saving = Decimal(r.get("cache_saving", 0)) if cost is not None else None
        cols["cache_saving"].append(saving)
    types = {"bool": pa.bool_(), "string": pa.string(), "decimal(38, 12)": pa.decimal128(38, 12)}
    for name, typ in PRICED_TYPES.items():
        events = events.append_column(pa.field(name, types[typ]), pa.array(cols[name], types[typ]))
    return events


class PricedTables:
    """Priced-events tables on one DuckDB connection (UTC), one per call."""

    def __init__(self) -> None:
        import ibis

        self.con = ibis.duckdb.connect()
        self.con.raw_sql("SET TimeZone = 'UTC'")
        self.n = 0

    def __call__(self, rows: list[dict[str, Any]]) -> Any:
        self.n += 1
        self.con.con.register("_rows", priced_table(rows))
        self.con.raw_sql(f"CREATE TABLE priced_{self.n} AS SELECT * FROM _rows")
        self.con.con.unregister("_rows")
        return self.con.table(f"priced_{self.n}")


@pytest.fixture
def make_priced() -> PricedTables:
    return PricedTables()
