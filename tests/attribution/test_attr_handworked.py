"""A small support task worked out by hand (numbers from the rate card below, not the code).

Window: 2026-03-02 (one UTC day). Token costs are set directly on the rows.

Task t1 (feature support, customer acme, kind ticket), tree:

    s1 invoke_agent supervisor   (repeats 9,999 input tokens: structure, never priced)
    ├── s2 chat (supervisor's own plan)                          $0.010
    ├── s3 invoke_agent researcher
    │   ├── s4 chat, status error            (rework)            $0.020
    │   ├── s5 chat, attempt 2               (rework)            $0.030
    │   └── s6 vector_query, 4 units x $0.0005                   $0.002
    └── s7 invoke_agent writer
        ├── s8 chat on self-hosted llama, 1.8 s x 1 GPU x $3.60/h = 1.8 x $0.001 = $0.0018
        ├── s9 chat, accepted = false        (rework)            $0.040
        ├── s10 chat, attempt 2              (rework)            $0.040
        └── s11 human_review 120 s x $45/h = 120 x $0.0125       $1.500, accepted = true

    t1 = 0.010 + 0.020 + 0.030 + 0.002 + 0.0018 + 0.040 + 0.040 + 1.500 = $1.6438
    rework = 0.020 + 0.030 + 0.040 + 0.040 = $0.130; outcome success (last accepted = true)
    supervisor own = $0.010 -> overhead 0.010 / 1.6438; researcher 0.052; writer 1.5818
    depth 3 (s1 > s3 > s4), fan-out 4 (s7), 8 leaf calls

Tasks t2 (search, beta): one chat $0.100, no verdict -> unknown.
Task t3 (search, beta): one chat $0.050, status error -> failed; rework $0.050.

Variable total = 1.6438 + 0.100 + 0.050 = $1.7938 (support 1.6438, search 0.150).
Endpoint llama, 1 GPU at $3.60/h, all day: $86.40; busy 1.8 GPU-s -> idle 86.40 - 0.0018 =
$86.3982; utilization 1.8 / 86,400.
Fixed: platform $3,100/month by requests; March has 31 days -> $100.00 in the window;
requests 8 (support) + 2 (search) -> support $80, search $20.
Total = 1.7938 + 100 + 86.3982 = $188.1920. Idle shared by GPU cost: all to support.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

from priced_rows import T0, MakePriced

from unitecon.attribution import allocate, variable_costs
from unitecon.attribution.endpoints import endpoint_usage
from unitecon.attribution.frame import IDLE
from unitecon.config import parse
from unitecon.economics.metrics import endpoint_metrics, unit_rows
from unitecon.economics.tasks import outcome_rows, task_details

PROJECT = """
endpoints:
  llama: {gpu: H100, gpu_count: 1, hourly: {on_demand: 3.60}}
unit_prices:
  - {unit_type: vector_query, usd_per_unit: 0.0005}
  - {unit_type: review_second, usd_per_hour: 45}
fixed_costs:
  - {name: platform, monthly: 3100, driver: requests}
"""


def _rows() -> list[dict[str, Any]]:
    def ev(i: int, trace: str, **k: Any) -> dict[str, Any]:
        base = {
            "event_id": f"e{i}",
            "ts": T0 + dt.timedelta(seconds=i),
            "trace_id": trace,
            "span_id": f"s{i}",
            "feature": "support",
            "customer_id": "acme",
            "task_type": "ticket",
        }
        return {**base, **k}

    sup = {"parent_span_id": "s1"}
    return [
        ev(1, "t1", operation="invoke_agent", agent="supervisor", input_tokens=9999),
        ev(
            2,
            "t1",
            **sup,
            cost="0.010",
            input_cost="0.004",
            output_cost="0.006",
            input_tokens=1000,
            output_tokens=200,
        ),
        ev(3, "t1", **sup, operation="invoke_agent", agent="researcher"),
        ev(4, "t1", parent_span_id="s3", cost="0.020", status="error", input_tokens=2000),
        ev(5, "t1", parent_span_id="s3", cost="0.030", attempt=2, input_tokens=2000),
        ev(
            6,
            "t1",
            parent_span_id="s3",
            operation="vector_query",
            unit_type="vector_query",
            units=4,
            price_status="unit",
        ),
        ev(7, "t1", **sup, operation="invoke_agent", agent="writer"),
        ev(
            8,
            "t1",
            parent_span_id="s7",
            endpoint="llama",
            duration_ms=1800,
            input_tokens=1000,
            output_tokens=300,
            price_status="endpoint",
        ),
        ev(9, "t1", parent_span_id="s7", cost="0.040", accepted=False),
        ev(10, "t1", parent_span_id="s7", cost="0.040", attempt=2),
        ev(
            11,
            "t1",
            parent_span_id="s7",
            operation="human_review",
            unit_type="review_second",
            units=120,
            price_status="unit",
            accepted=True,
        ),
        ev(12, "t2", feature="search", customer_id="beta", task_type="search", cost="0.100"),
        ev(
            13,
            "t3",
            feature="search",
            customer_id="beta",
            task_type="search",
            cost="0.050",
            status="error",
        ),
    ]


def _costed(make_priced: MakePriced, extra: str = "") -> tuple[Any, Any]:
    project = parse(PROJECT + extra)
    return variable_costs(make_priced(_rows()), project), project


def test_variable_fixed_idle_by_feature(make_priced: MakePriced) -> None:
    c, project = _costed(make_priced)
    a = allocate(c, project, "feature")
    assert a.variable == D("1.7938")
    assert a.fixed == D("100")
    assert a.idle == D("86.3982")
    assert a.total == D("188.1920")
    assert a.rows["support"].variable == D("1.6438")
    assert a.rows["support"].fixed == D("80")
    assert a.rows["search"].fixed == D("20")
    assert a.rows[IDLE].idle == D("86.3982")


def test_idle_shared_by_gpu_cost(make_priced: MakePriced) -> None:
    c, project = _costed(make_priced, "allocation: {idle: share}\n")
    a = allocate(c, project, "feature")
    assert IDLE not in a.rows
    assert a.rows["support"].loaded == D("168.0420")
    assert a.rows["search"].loaded == D("20.150")


def test_filter_goes_to_filtered_bucket(make_priced: MakePriced) -> None:
    c, project = _costed(make_priced)
    a = allocate(c, project, "customer", {"feature": "search"})
    assert a.rows["beta"].loaded == D("20.150")
    assert a.rows["__filtered__"].loaded == D("81.6438")
    assert sum(r.loaded for r in a.rows.values()) == D("188.1920")


def test_task_tree(make_priced: MakePriced) -> None:
    c, _ = _costed(make_priced)
    d = task_details(c, "t1")
    assert d is not None
    assert d.stats.cost == D("1.6438")
    assert (d.stats.calls, d.stats.depth, d.stats.fan_out) == (8, 3, 4)
    assert d.stats.agents == {
        "supervisor": (D("0.010"), D("1.6438")),
        "researcher": (D("0.052"), D("0.052")),
        "writer": (D("1.5818"), D("1.5818")),
    }
    assert d.outcome == "success"
    assert d.supervisor == "supervisor"
    assert d.supervisor_overhead == (D("0.010") / D("1.6438")).quantize(D("1e-12"), "ROUND_FLOOR")


def test_outcomes_and_rework(make_priced: MakePriced) -> None:
    c, _ = _costed(make_priced)
    rows = {r["kind"]: r for r in outcome_rows(c)}
    t = rows["ticket"]
    assert (t["tasks"], t["succeeded"], t["failed"], t["unknown"]) == (1, 1, 0, 0)
    assert t["rework_cost"] == D("0.130")
    assert t["cost_per_successful_task"] == D("1.6438")
    s = rows["search"]
    assert (s["tasks"], s["succeeded"], s["failed"], s["unknown"]) == (2, 0, 1, 1)
    assert s["cost_per_successful_task"] is None  # unknown is not success
    assert s["rework_cost"] == D("0.050")


def test_unit_metrics_loaded(make_priced: MakePriced) -> None:
    c, project = _costed(make_priced)
    rows, _ = unit_rows(c, project, "feature")
    m = {r.key: r.metrics(loaded=True) for r in rows}["support"]
    assert m["loaded_cost"] == D("81.6438")
    assert m["cost_per_successful_task"] == D("81.6438")
    assert m["cost_per_request"] == D("10.205475")  # 81.6438 / 8
    assert m["rework_cost"] == D("0.130")


def test_endpoint(make_priced: MakePriced) -> None:
    c, project = _costed(make_priced)
    (u,) = endpoint_usage(c, project)
    assert (u.cost, u.allocated, u.idle) == (D("86.4"), D("0.0018"), D("86.3982"))
    m = endpoint_metrics(u)
    assert m["utilization"] == (D("1.8") / 86400).quantize(D("1e-12"), "ROUND_FLOOR")
    assert m["measured_output_tokens_per_s"] == round(300 / 1.8, 2)
    # prefill share s = (1000/5000) / (1000/5000 + 300/40) = 0.2 / 7.7
    s = D(repr(round(0.2 / 7.7, 9)))
    assert m["usd_per_mtok_input"] == (D("0.0018") * s / 1000 * 10**6).quantize(
        D("1e-12"), "ROUND_FLOOR"
    )
