"""Governance: budgets, anomalies, runaway tasks and tagging coverage on small hand-built
costed-event tables whose expected numbers are worked out in each test's docstring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from unitecon.governance import (
    AnomalyConfig,
    Budget,
    RunawayConfig,
    budget_status,
    coverage,
    detect,
    runaway_tasks,
)
from unitecon.governance.anomalies import baseline, explained

D = Decimal
UTC = dt.UTC
SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("operation", pa.string()),
        ("var_cost", pa.decimal128(38, 24)),
        *[
            (c, pa.string())
            for c in (
                "feature", "customer_id", "team", "user_id", "environment", "agent", "model",
                "task_id", "trace_id", "source",
            )
        ],
    ]
)  # fmt: skip


def events(rows: list[dict[str, Any]]) -> Any:
    full = [{k: r.get(k) for k in SCHEMA.names} for r in rows]
    for i, r in enumerate(full):
        r["event_id"] = r["event_id"] or f"e{i}"
        r["operation"] = r["operation"] or "chat"
    return ibis.memtable(pa.Table.from_pylist(full, schema=SCHEMA))


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), UTC)


def daily_rows(
    first: dt.date, costs: list[Decimal], feature: str = "chat-app"
) -> list[dict[str, Any]]:
    return [
        {"ts": noon(first + dt.timedelta(days=i)), "var_cost": c, "feature": feature}
        for i, c in enumerate(costs)
        if c
    ]


MON = dt.date(2026, 1, 5)  # a Monday


def test_baseline_weekday_profile() -> None:
    """4 weeks of $10 on weekdays and $4 at weekends: m = median of twenty 10s and eight
    4s = 10; f(Mon..Fri) = 10/10 = 1, f(Sat, Sun) = 4/10 = 0.4; expected Monday $10,
    Saturday $4; every residual is 0, so the scale is 0."""
    days = [MON + dt.timedelta(days=i) for i in range(28)]
    hist = [D(4) if d.weekday() >= 5 else D(10) for d in days]
    monday, saturday = MON + dt.timedelta(days=28), MON + dt.timedelta(days=33)
    assert baseline(hist, days, monday) == baseline(hist, days, monday)
    assert baseline(hist, days, monday).expected == D("10.00")
    assert baseline(hist, days, saturday).expected == D("4.00")
    assert baseline(hist, days, monday).scale == D("0.00")


def test_anomaly_thresholds_by_hand() -> None:
    """History alternating $9, $11 (28 days): m = (9 + 11) / 2 = 10; each weekday holds
    9, 11, 9, 11 (7 is odd) so every f = 1 and expected = $10.00; |residuals| all 1, MAD = 1,
    scale = 1.4826 -> $1.48. With k = 3 the bar is 10 + 3 x 1.48 = $14.44: day 29 at $14.45
    is an anomaly (impact $4.45), at $14.40 it is not."""
    hist = [D(9) if i % 2 == 0 else D(11) for i in range(28)]
    cfg = AnomalyConfig(k=3, min_impact_usd=D(0), min_ratio=1.0, monitors=("total",))
    end = MON + dt.timedelta(days=29)
    found = detect(events(daily_rows(MON, [*hist, D("14.45")])), MON, end, cfg)
    assert [(a.day, a.cost, a.expected, a.scale) for a in found] == [
        (MON + dt.timedelta(days=28), D("14.45"), D("10.00"), D("1.48"))
    ]
    assert found[0].impact == D("4.45")
    assert detect(events(daily_rows(MON, [*hist, D("14.40")])), MON, end, cfg) == []


def test_anomaly_needs_impact_and_ratio() -> None:
    """Constant $10 history (scale 0): a $19 day is 1.9x but only $9 above expected (< $10
    floor); a $20.50 day is $10.50 above and 2.05x: flagged. With min_ratio 2.1 neither is."""
    costs = [D(10)] * 28 + [D(19)] + [D(10)] * 6 + [D("20.50")]
    t = events(daily_rows(MON, costs))
    end = MON + dt.timedelta(days=len(costs))
    cfg = AnomalyConfig(monitors=("total",))
    assert [a.cost for a in detect(t, MON, end, cfg)] == [D("20.50")]
    strict = AnomalyConfig(min_ratio=2.1, monitors=("total",))
    assert detect(t, MON, end, strict) == []


def test_anomaly_per_feature_and_contributors() -> None:
    """Two features, $5 a day each (customer y) for 28 days; on day 29 feature b costs $40
    (customer x $38, y $2) and a stays at $5. The total ($45 vs $10) and feature b ($40 vs $5)
    are anomalies, both $35 above expected (equal impact: ordered by dimension name); a is
    not. Contributors of the total: b +$35 (40 - 5 usual); a's delta is 0, so it is not
    listed. Contributors of b by customer: x spent $38 that day against a usual 0 -> +$38;
    y spent $2 against a usual $5 -> not listed."""
    rows = []
    for i in range(28):
        day = MON + dt.timedelta(days=i)
        rows.append({"ts": noon(day), "var_cost": D(5), "feature": "a", "customer_id": "y"})
        rows.append({"ts": noon(day), "var_cost": D(5), "feature": "b", "customer_id": "y"})
    spike = MON + dt.timedelta(days=28)
    rows += [
        {"ts": noon(spike), "var_cost": D(5), "feature": "a", "customer_id": "y"},
        {"ts": noon(spike), "var_cost": D(38), "feature": "b", "customer_id": "x"},
        {"ts": noon(spike), "var_cost": D(2), "feature": "b", "customer_id": "y"},
    ]
    t = events(rows)
    cfg = AnomalyConfig(monitors=("total", "feature"))
    found = explained(t, detect(t, MON, spike + dt.timedelta(days=1), cfg), 28)
    assert [(a.dim, a.value, a.impact) for a in found] == [
        ("feature", "b", D(35)),
        ("total", "total", D(35)),
    ]
    b, total = found
    assert [(c.value, c.delta) for c in total.contributors] == [("b", D(35))]
    assert [(c.value, c.delta) for c in b.contributors] == [("x", D(38))]


def test_budget_forecast_runout_and_alerts() -> None:
    """$10 every day from 2026-01-04 (feature f) plus $7 a day of another feature that the
    budget's scope excludes. Budget $250/month on feature f, February 2026, as of Feb 15:
    actual = 14 x $10 = $140 (56%); history constant -> forecast 14 more days x $10 = $280,
    range 280 to 280; cumulative spend reaches $250 on day 25: Feb 25. Alerts: actual passed
    50% (not 80%); forecast passed 100%. Status: forecast over."""
    first = dt.date(2026, 1, 4)
    n = (dt.date(2026, 2, 15) - first).days
    rows = daily_rows(first, [D(10)] * n, "f") + daily_rows(first, [D(7)] * n, "other")
    t = events(rows)
    b = Budget(name="f", monthly=D(250), where={"feature": "f"})
    s = budget_status(t, b, dt.date(2026, 2, 1), dt.date(2026, 2, 15))
    assert (s.actual, s.forecast, s.low, s.high) == (D(140), D(280), D(280), D(280))
    assert s.runs_out == dt.date(2026, 2, 25)
    assert s.status == "forecast over"
    assert [(a.kind, a.fraction) for a in s.alerts] == [("actual", D("0.5")), ("forecast", D(1))]


def test_budget_interval() -> None:
    """History alternating $9/$11 for the 28 days before Feb 15 (scale $1.48, see the anomaly
    test), expected $10 a day: forecast = actual + 14 x $10; spread = 1.2816 x 1.48 x
    sqrt(14) = 7.0971 -> $7.10 either side."""
    first = dt.date(2026, 1, 18)  # 28 days before Feb 15
    costs = [D(9) if i % 2 == 0 else D(11) for i in range(28)]
    t = events(daily_rows(first, costs))
    s = budget_status(
        t, Budget(name="all", monthly=D(1000)), dt.date(2026, 2, 1), dt.date(2026, 2, 15)
    )
    actual = sum(costs[-14:], D(0))  # Feb 1..14
    assert s.actual == actual
    assert s.forecast == actual + D(140)
    assert (s.forecast - s.low, s.high - s.forecast) == (D("7.10"), D("7.10"))
    assert s.alerts == () and s.status == "ok"


def test_budget_of_a_closed_month_is_its_actual() -> None:
    """January, as of Feb 15: the whole month is actual (31 x $10), nothing forecast."""
    t = events(daily_rows(dt.date(2026, 1, 1), [D(10)] * 45))
    s = budget_status(
        t, Budget(name="all", monthly=D(400)), dt.date(2026, 1, 1), dt.date(2026, 2, 15)
    )
    assert (s.actual, s.forecast, s.low, s.high) == (D(310), D(310), D(310), D(310))
    assert s.runs_out is None
    assert [(a.kind, a.fraction) for a in s.alerts] == [("actual", D("0.5"))]


def _task(task: str, calls: dict[str, int], feature: str = "support") -> list[dict[str, Any]]:
    t0 = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    rows = [{"ts": t0, "operation": "invoke_agent", "task_id": task, "feature": feature}]
    i = 0
    for agent, n in calls.items():
        for _ in range(n):
            i += 1
            rows.append(
                {
                    "ts": t0 + dt.timedelta(seconds=i),
                    "var_cost": D("0.01"),
                    "task_id": task,
                    "feature": feature,
                    "agent": agent,
                    "customer_id": "c1",
                }
            )
    return rows


def test_runaway_tasks() -> None:
    """200 tasks of 2 calls, one of 50 and one of 60 (40 by planner, 20 by worker), all in
    one feature: p99 of the 202 tasks' calls (linear interpolation at 0.99 x 201 = 198.99
    between sorted values 2 and 2) = 2; limit = max(50, floor(3 x 2)) = 50: only the 60-call
    task is flagged (50 is not above 50), its top agent planner with 40 calls, cost 60 x
    $0.01 = $0.60. The structural invoke_agent spans are not calls."""
    rows = []
    for i in range(200):
        rows += _task(f"t{i:03d}", {"worker": 2})
    rows += _task("edge", {"worker": 50})
    rows += _task("loop", {"planner": 40, "worker": 20})
    found = runaway_tasks(events(rows), RunawayConfig(factor=3, min_calls=50))
    assert [(r.task, r.calls, r.calls_limit, r.agent, r.agent_calls, r.cost) for r in found] == [
        ("loop", 60, 50, "planner", 40, D("0.60"))
    ]
    assert found[0].minutes == 1.0  # 60 seconds from the first call to the last


def test_coverage() -> None:
    """Leaf costs $1 (customer c, a.jsonl:1), $2 (no customer, b.jsonl:7), $3 (customer d,
    a.jsonl:2), $4 (customer '' = untagged, an OTLP span of b.jsonl), and a structural span
    without a customer (not a call). Customer coverage: cost (1 + 3) / 10 = 40%, calls 2 / 4 = 50%;
    untagged $6, all from b.jsonl. Feature is set on no row: 0%."""
    t = events(
        [
            {"var_cost": D(1), "customer_id": "c", "source": "a.jsonl:1"},
            {"var_cost": D(2), "source": "b.jsonl:7"},
            {"var_cost": D(3), "customer_id": "d", "source": "a.jsonl:2"},
            {"var_cost": D(4), "customer_id": "", "source": "b.jsonl#4cc21760db5ca350"},
            {"var_cost": D(0), "operation": "invoke_agent", "source": "b.jsonl:8"},
        ]
    )
    cust, feat = coverage(t, ("customer_id", "feature"))
    assert (cust.cost_share, cust.call_share, cust.untagged_cost) == (D("0.4"), D("0.5"), D(6))
    assert cust.worst == (("b.jsonl", D(6)),)
    assert (feat.cost_share, feat.tagged_calls) == (D(0), 0)


@pytest.mark.parametrize("bad", [{"monthly": 0}, {"monthly": 10, "alert_at": []}])
def test_budget_config_errors(bad: dict[str, Any]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Budget(name="x", **bad)


def test_budget_chart_traces(tmp_path: Any) -> None:
    """The burn-up of the $250 budget above: spent climbs $10 a day to $140 on Feb 14; the
    forecast starts there and ends at $280 on Feb 28; the budget line is at $250."""
    from unitecon.report.governance import budget_figure, write_budget_chart

    first = dt.date(2026, 1, 4)
    t = events(daily_rows(first, [D(10)] * (dt.date(2026, 2, 15) - first).days, "f"))
    s = budget_status(
        t, Budget(name="f", monthly=D(250)), dt.date(2026, 2, 1), dt.date(2026, 2, 15)
    )
    fig = budget_figure(s)
    by_name = {tr.name: tr for tr in fig.data}
    assert list(by_name["spent"].y) == [10.0 * i for i in range(1, 15)]
    assert (by_name["forecast"].x[0], by_name["forecast"].y[0]) == ("2026-02-14", 140.0)
    assert (by_name["forecast"].x[-1], by_name["forecast"].y[-1]) == ("2026-02-28", 280.0)
    assert fig.layout.shapes[0].y0 == 250.0
    out = write_budget_chart([s], tmp_path / "b.html")
    assert "Budget: f, February 2026 (forecast over)" in out.read_text()


def test_coverage_top_sources_ties_zero_and_usage() -> None:
    """Untagged customer cost by source: a.jsonl $5 + $1 = $6, b.jsonl $5, c.jsonl (an OTLP
    span) $2, d.jsonl $0; e.jsonl is tagged. Largest first, a tie broken by name, a source
    with no untagged cost left out (d.jsonl, even with room for it). Usage: 4 model calls
    (the null-model row is not one), 3 without usage: a.jsonl 2, b.jsonl 1."""
    rows = [
        ("a.jsonl:1", D(5), None, "usage_missing"),
        ("b.jsonl:3", D(5), None, "usage_missing"),
        ("c.jsonl#ff", D(2), None, "priced"),
        ("d.jsonl:9", D(0), None, None),
        ("e.jsonl:1", D(7), "x", None),
        ("a.jsonl:2", D(1), "", "usage_missing"),
    ]
    schema = pa.schema(
        [
            ("ts", pa.timestamp("us", tz="UTC")),
            ("operation", pa.string()),
            ("var_cost", pa.decimal128(38, 24)),
            ("customer_id", pa.string()),
            ("source", pa.string()),
            ("model", pa.string()),
            ("price_status", pa.string()),
        ]
    )
    data = [
        {"ts": noon(dt.date(2026, 1, 1)), "operation": "chat", "var_cost": c, "customer_id": cu,
         "source": s, "model": "m" if ps else None, "price_status": ps}
        for s, c, cu, ps in rows
    ] + [{"ts": noon(dt.date(2026, 1, 1)), "operation": "chat", "var_cost": D(0),
          "customer_id": "x", "source": "f.jsonl:1", "model": None,
          "price_status": "usage_missing"}]  # fmt: skip
    t = ibis.memtable(pa.Table.from_pylist(data, schema=schema))
    cust, usage = coverage(t, ("customer_id",), worst=5)
    assert cust.worst == (("a.jsonl", D(6)), ("b.jsonl", D(5)), ("c.jsonl", D(2)))
    (top2, _) = coverage(t, ("customer_id",), worst=2)
    assert top2.worst == (("a.jsonl", D(6)), ("b.jsonl", D(5)))
    assert (usage.dim, usage.calls, usage.tagged_calls) == ("usage", 4, 1)
    assert usage.worst == (("a.jsonl", D(2)), ("b.jsonl", D(1)))


SOURCE_CHARS = "ab:#19 érow\n\r\x85\u2028\u2029"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(SOURCE_CHARS, max_size=8), min_size=1, max_size=20))
def test_source_name_is_the_definition(sources: list[str]) -> None:
    """The fast source name (a replace) equals the definition (the lazy extraction) on any
    text, line ends included, and on a few spelled out: `file:row 3` loses its row (a
    Parquet row, like a `:line`), `a:1:2` the last `:2` only, `a#b#c` the `#c`, `a:row 1:2`
    the `:2`."""
    from unitecon.pricing.engine import source_name, source_name_definition

    sources = [*sources, "a:row 1:2", "file:row 3", "a:1:2", "a#b#c", "x.jsonl#4cc2", "", "a\n:1"]
    t = ibis.memtable(pa.table({"source": pa.array([*sources, None], pa.string())}))
    got = t.select(fast=source_name(t), slow=source_name_definition(t)).to_pyarrow().to_pylist()
    assert [r["fast"] for r in got] == [r["slow"] for r in got]
    assert [r["fast"] for r in got[-8:-2]] == ["a:row 1", "file", "a:1", "a#b", "x.jsonl", ""]
    assert got[-1] == {"fast": None, "slow": None}


VALUES = st.sampled_from([None, "", "(none)", "a", "b"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, 12), VALUES, VALUES, st.integers(0, 900)),
        min_size=1,
        max_size=40,
    ),
    st.lists(
        st.tuples(st.sampled_from(["total", "feature", "customer_id"]), VALUES, st.integers(7, 13)),
        min_size=1,
        max_size=8,
    ),
)
@example(
    rows=[(d, f, cu, 100 * d + i) for d in range(10) for i, (f, cu) in
          enumerate([(None, "a"), ("", "b"), ("(none)", "a"), ("a", None), ("a", "(none)")])],
    asked=[("feature", None, 9), ("feature", "(none)", 9), ("feature", "a", 8),
           ("customer_id", None, 9), ("customer_id", "(none)", 9), ("total", None, 9)],
)  # fmt: skip
def test_contributors_in_one_query_are_each_anomalys_own(
    rows: list[tuple[int, str | None, str | None, int]],
    asked: list[tuple[str, str | None, int]],
) -> None:
    """`explained` (one grouped query per dimension) gives each anomaly the contributors its
    own query gives (`contributors`, one `daily` series each): null, empty and a literal
    '(none)' among the values, windows that overlap, a value with no event."""
    from unitecon.governance.anomalies import Anomaly, contributors
    from unitecon.governance.series import NONE

    t = events(
        [
            {"ts": noon(MON + dt.timedelta(days=d)), "var_cost": D(c) / 100, "feature": f,
             "customer_id": cu}
            for d, f, cu, c in rows
        ]
    )  # fmt: skip
    found = [
        Anomaly(dim, "total" if dim == "total" else (v or NONE), MON + dt.timedelta(days=d),
                D(0), D(0), D(0))
        for dim, v, d in asked
    ]  # fmt: skip
    got = explained(t, found, 7)
    assert [a.contributors for a in got] == [contributors(t, a, 7) for a in found]
