"""`Costed.narrow`: the governance questions read the 16 columns they name, materialized
alone, and answer exactly as on the table of every costed column (a second path: the
same readers over `Costed.events` of an independent `variable_costs`)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import pytest
from hypothesis import given
from test_attr_properties import DIMS, FILTERS, SETTINGS, _load, ledger_rows, projects

from unitecon.attribution import variable_costs
from unitecon.attribution.costed import Costed
from unitecon.config import Project
from unitecon.governance import (
    ANOMALY_COLUMNS,
    EVENT_COLUMNS,
    AnomalyConfig,
    RunawayConfig,
    anomalies_from,
    coverage,
    runaway_tasks,
)
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
    # the anomalies read their own fewer columns (`Analysis.anomalies`), every monitor
    few = variable_costs(priced, project).narrow(ANOMALY_COLUMNS)
    assert len(few.columns) == len(ANOMALY_COLUMNS) < len(EVENT_COLUMNS)
    assert _anomalies(few) == _anomalies(full)


def _anomalies(events: Any) -> Any:
    lo = events.aggregate(lo=events.ts.min(), hi=events.ts.max()).to_pyarrow().to_pylist()[0]
    first, end = lo["lo"].date(), lo["hi"].date() + dt.timedelta(days=1)
    monitors = ["total", "feature", "customer_id", "model", "provider", "team", "agent"]
    cfg = AnomalyConfig.model_validate(  # lenient: small random ledgers flag days
        {"monitors": [*monitors, "environment"], "history_days": 7, "k": 0.1}
        | {"min_impact_usd": "0", "min_ratio": 1}
    )
    return anomalies_from(events, cfg, first, end, None, None)


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


def _reports(c: Costed, project: Project, dim: str, only: Any) -> Any:
    """The unit, task, outcome and margin readers over `c` (economics asks them)."""
    from unitecon.economics import inputs as inp
    from unitecon.economics.metrics import unit_rows
    from unitecon.economics.tasks import (
        outcome_rows,
        supervisor_overhead,
        task_details,
        top_tasks,
    )

    rows, alloc = unit_rows(c, project, dim, only)
    fixed = inp.fixed_lines(c, project) if project.fixed_costs else None
    tops = top_tasks(c, 5)
    trees = [task_details(c, r["task"]) for r in tops[:2]]
    return (
        [None if d is None else d.as_dict() for d in trees],
        [(r.key, r.fixed, r.idle, r.agg) for r in rows],
        alloc,
        tops,
        top_tasks(c, 5, feature="rag"),
        top_tasks(c, 5, trees=False),  # on the roll-up's columns only (the service)
        sorted(outcome_rows(c, "kind"), key=str),  # rows of equal spend in any order
        sorted(outcome_rows(c, "feature"), key=str),
        sorted(supervisor_overhead(c), key=str),  # unordered
        inp.usage_lines(c.narrow([*inp.USAGE_COLUMNS, "var_cost"]), "var_cost"),
        None if fixed is None else fixed.amounts,
    )


@given(ledger_rows(), projects(), DIMS, FILTERS)
@SETTINGS
def test_the_unit_task_and_margin_readers_read_the_same_on_their_columns(
    rows: list[dict[str, Any]], project: Project, dim: str, only: Any
) -> None:
    """Second path: the same readers on a `Costed` whose every column is materialized first
    (`narrow` and `resolved(columns)` then give that full table)."""
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    priced = _load(con, rows, "p")
    narrow = variable_costs(priced, project)
    full = variable_costs(priced, project)
    assert len(full.events.columns) > 40
    got = _reports(narrow, project, dim, only)
    assert "events" not in narrow._cache  # every reader named its columns
    assert got == _reports(full, project, dim, only)


def test_outcomes_materialize_the_costed_events_once() -> None:
    """`outcome_rows` and `supervisor_overhead` (the `outcomes` question) read one narrow
    table: the costed events are written once, not once per reader."""
    from hypothesis import find

    from unitecon.economics.tasks import outcome_rows, supervisor_overhead

    rows = find(ledger_rows(), lambda r: len(r) > 2)
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    c = variable_costs(_load(con, rows, "p"), Project())
    outcome_rows(c, "feature")
    supervisor_overhead(c)
    narrow = [k for k in c._cache if k.startswith("narrow:")]
    assert len(narrow) == 1, narrow
