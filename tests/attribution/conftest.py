"""Fixtures: a priced-events table built by hand (`priced_rows`)."""

from __future__ import annotations

from typing import Any

import ibis
import pytest
from priced_rows import MakePriced, priced_table


@pytest.fixture
def make_priced() -> MakePriced:
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    n = 0

    def make(rows: list[dict[str, Any]]) -> Any:
        nonlocal n
        n += 1
        con.con.register("_rows", priced_table(rows))
        con.raw_sql(f"CREATE TABLE priced_{n} AS SELECT * FROM _rows")
        con.con.unregister("_rows")
        return con.table(f"priced_{n}")

    return make
