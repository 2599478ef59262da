"""`Costed.narrow`: the governance questions read the 16 columns they name, materialized
alone, and answer exactly as on the table of every costed column (a second path: the
same readers over `Costed.events` of an independent `variable_costs`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pytest
from hypothesis import given
from test_attr_properties import SETTINGS, _load, ledger_rows, projects

from unitecon.attribution import variable_costs
from unitecon.config import Project
from unitecon.governance import EVENT_COLUMNS, RunawayConfig, coverage, runaway_tasks
from unitecon.governance.series import daily


def _answers(events: Any) -> Any:
    lo = events.aggregate(lo=events.ts.min(), hi=events.ts.max()).to_pyarrow().to_pylist()[0]
    first, end = lo["lo"].date(), lo["hi"].date() + dt.timedelta(days=1)
    series = [daily(events, first, end, dim) for dim in (None, "feature")]
    per_scope = [daily(events, first, end, d) for d in ("customer_id", "model", "agent")]
    return (
        coverage(events),
        runaway_tasks(events, RunawayConfig(factor=1.5, min_calls=1), None),
        series,
        per_scope,
    )


@given(ledger_rows(), projects())
@SETTINGS
def test_governance_reads_the_same_on_its_columns(
    rows: list[dict[str, Any]], project: Project
) -> None:
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    priced = _load(con, rows, "p")
    narrow = variable_costs(priced, project).narrow(EVENT_COLUMNS)
    full = variable_costs(priced, project).events
    assert len(narrow.columns) == len(EVENT_COLUMNS) < len(full.columns)
    assert _answers(narrow) == _answers(full)


def test_narrow_is_the_full_table_once_that_is_made_and_names_its_columns() -> None:
    from hypothesis import find

    rows = find(ledger_rows(), lambda r: len(r) > 2)
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    c = variable_costs(_load(con, rows, "p"), Project())
    with pytest.raises(KeyError, match="no_such_column"):
        c.narrow(["ts", "no_such_column"])
    first = c.narrow(["ts", "var_cost"])
    assert first.columns == ("ts", "var_cost")
    assert c.narrow(["var_cost", "ts"]) is first  # materialized once per set
    assert c.narrow(["ts"]).columns == ("ts",)
    assert c.narrow(["ts"]) is not c.events
    assert c.narrow(["ts"]) is c.events  # the full table, once it is made
