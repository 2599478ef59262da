"""Properties: conservation to the last digit (variable, fixed, idle; under filters), no
negative cost, leaf-only (structural spans change nothing), exact splitting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from priced_rows import T0, priced_table

from unitecon.attribution import allocate, split, variable_costs
from unitecon.attribution.fixed import charges
from unitecon.attribution.frame import FILTERED, Window
from unitecon.config import Project, parse

FEATURES = ["support", "rag", "coding"]
CUSTOMERS = ["c1", "c2", "c3", "c4"]
AGENTS = ["sup", "worker", "critic"]
money = st.decimals(min_value=0, max_value=5, places=6, allow_nan=False, allow_infinity=False)


@st.composite
def leaf(draw: Any, i: int, trace: str, parent: str | None, agent: str | None) -> dict[str, Any]:
    kind = draw(st.sampled_from(["token", "token", "endpoint", "unit", "missing"]))
    row: dict[str, Any] = {
        "event_id": f"{trace}-{i}",
        "span_id": f"{trace}-{i}",
        "parent_span_id": parent,
        "trace_id": trace,
        "agent": agent,
        "ts": T0 + dt.timedelta(hours=draw(st.integers(0, 24 * 40)), seconds=i),
        "input_tokens": draw(st.integers(0, 5000)),
        "output_tokens": draw(st.integers(0, 900)),
        "attempt": draw(st.integers(1, 3)),
        "status": draw(st.sampled_from(["ok", "error"])),
        "accepted": draw(st.sampled_from([None, True, False])),
    }
    if kind == "token":
        row["cost"] = draw(money)
    elif kind == "endpoint":
        row.update(
            price_status="endpoint",
            endpoint="llama",
            duration_ms=draw(st.one_of(st.none(), st.floats(0, 60_000))),
        )
    elif kind == "unit":
        row.update(
            price_status="unit",
            unit_type=draw(st.sampled_from(["web_search", "x"])),
            units=draw(st.floats(0, 100)),
        )
    else:
        row["price_status"] = "missing"
    return row


@st.composite
def ledger_rows(draw: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for t in range(draw(st.integers(1, 6))):
        trace = f"t{t}"
        dims = {
            "feature": draw(st.sampled_from(FEATURES)),
            "customer_id": draw(st.sampled_from(CUSTOMERS)),
        }
        root = {
            "event_id": f"{trace}-r",
            "span_id": f"{trace}-r",
            "trace_id": trace,
            "operation": "invoke_agent",
            "agent": draw(st.sampled_from(AGENTS)),
            "ts": T0,
            "input_tokens": 777,
        }
        rows.append({**root, **dims})
        for i in range(draw(st.integers(1, 5))):
            agent = draw(st.sampled_from([None, *AGENTS]))
            rows.append({**draw(leaf(i, trace, f"{trace}-r", agent)), **dims})
    return rows


@st.composite
def projects(draw: Any) -> Project:
    costs = []
    for n in range(draw(st.integers(0, 3))):
        driver = draw(st.sampled_from(["even", "requests", "tokens", "tasks", "variable_cost"]))
        scope = draw(st.sampled_from(["", "feature: rag, ", "agent: critic, "]))
        amount = draw(
            st.sampled_from(
                [
                    "monthly: 1000",
                    "amount: 5000, start: 2026-02-01, amortize_months: 7",
                    "amount: 900, start: 2026-03-01, amortize_tasks: 4",
                    "usd_per_hour: 1.25",
                    "gb: 30, usd_per_gb_month: 0.33",
                    "amount: 77, start: 2026-03-15",
                ]
            )
        )
        costs.append(f"  - {{name: f{n}, {amount}, {scope}driver: {driver}}}")
    idle = draw(st.sampled_from(["line", "share"]))
    return parse(
        "endpoints:\n  llama: {gpu: H100, gpu_count: 2, hourly: {spot: 1.9}, concurrency: 3}\n"
        "unit_prices:\n  - {unit_type: web_search, usd_per_1000: 7}\n"
        f"allocation: {{idle: {idle}}}\n" + ("fixed_costs:\n" + "\n".join(costs) if costs else "")
    )


DIMS = st.sampled_from(["feature", "customer", "agent", "task", "task-type", "model"])
FILTERS = st.one_of(
    st.none(),
    st.builds(lambda f: {"feature": f}, st.sampled_from(FEATURES)),
    st.builds(lambda c: {"customer": c}, st.sampled_from(CUSTOMERS)),
)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _load(con: Any, rows: list[dict[str, Any]], name: str) -> Any:
    con.con.register("_rows", priced_table(rows))
    con.raw_sql(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _rows")
    con.con.unregister("_rows")
    return con.table(name)


@given(ledger_rows(), projects(), DIMS, FILTERS)
@SETTINGS
def test_conservation(rows: list[dict[str, Any]], project: Project, dim: str, only: Any) -> None:
    import ibis

    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    c = variable_costs(_load(con, rows, "p"), project)
    a = allocate(c, project, dim, only)
    events_total = c.events.var_cost.sum().to_pyarrow().as_py() or Decimal(0)
    assert a.variable == events_total
    assert a.fixed == sum((ch.amount for ch in a.charges), Decimal(0))
    assert a.idle == sum((p.idle for p in c.periods), Decimal(0))
    assert sum(r.loaded for r in a.rows.values()) == a.total  # exact, not just to the cent
    endpoint_alloc = sum((p.allocated for p in c.periods), Decimal(0))
    assert endpoint_alloc + a.idle == c.endpoint_total
    for r in a.rows.values():
        assert min(r.variable, r.fixed, r.idle) >= 0
    if only is None:
        assert FILTERED not in a.rows


@given(ledger_rows(), projects())
@SETTINGS
def test_structural_spans_change_nothing(rows: list[dict[str, Any]], project: Project) -> None:
    import ibis

    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    extra = [
        {
            **r,
            "event_id": r["event_id"] + "-wrap",
            "span_id": r["span_id"] + "-wrap",
            "operation": "invoke_workflow",
            "price_status": None,
            "cost": "9",
            "duration_ms": 99_999.0,
            "unit_type": None,
        }
        for r in rows
        if r.get("operation") != "invoke_agent"
    ]
    base = variable_costs(_load(con, rows, "a"), project)
    more = variable_costs(
        _load(con, rows + extra, "b"), project, base.window.since, base.window.until
    )
    for dim in ("feature", "customer"):
        x, y = allocate(base, project, dim), allocate(more, project, dim)
        assert {k: (r.variable, r.idle) for k, r in x.rows.items()} == {
            k: (r.variable, r.idle) for k, r in y.rows.items()
        }
        assert x.total == y.total


@given(
    st.decimals(min_value=0, max_value=10**6, places=24, allow_nan=False),
    st.dictionaries(st.text(max_size=3), st.decimals(0, 10**9, places=3), max_size=12),
)
def test_split_is_exact(total: Decimal, weights: dict[str, Decimal]) -> None:
    shares = split(total, weights)
    if any(w > 0 for w in weights.values()) and total:
        assert sum(shares.values()) == total
    assert all(s >= 0 for s in shares.values())
    wsum = sum(w for w in weights.values() if w > 0)
    for k, s in shares.items():  # within one quantum (1e-24) of the exact share
        assert abs(s - total * weights[k] / wsum) <= Decimal("1e-24")


@given(st.integers(1, 40), st.decimals(0, 10**6, places=2, allow_nan=False))
def test_amortization_sums_to_amount(n: int, amount: Decimal) -> None:
    fc = parse(
        f"fixed_costs:\n  - {{name: x, amount: {amount}, start: 2025-11-01, amortize_months: {n}}}"
    ).fixed_costs[0]
    w = Window(dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert sum(ch.amount for ch in charges(fc, w)) == amount
