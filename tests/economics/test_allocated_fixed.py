"""Margins carry the project's real fixed costs, allocated by driver, worked out by hand.

Window: the events' one UTC day, 2026-03-02 [Mar 2, Mar 3); March has 31 days, so a
monthly cost M charges M / 31 in the window.

Leaf calls (the invoke_agent root of t1 is structure: no request, no cost):

    e2  acme  support  task t1  chat                       $0.40
    e3  acme  support  task t1  llama, 1.8 s x 1 GPU x $3.60/h = $0.0018
    e4  acme  search   task t2  chat                       $0.10, accepted
    e5  beta  search   task t3  chat                       $0.05, rejected
    e6  (no customer) search t5 chat                       $0.20, accepted

Fixed costs in the window:

    platform     3100/month, driver requests:  3100 / 31 = $100.00 over 5 calls = $20/call
                 -> acme/support 2 x 20 = $40, acme/search $20, beta/search $20,
                    (unattributed)/search $20
    index        279/month, feature search, driver tasks: 279 / 31 = $9.00 over 3 search
                 tasks (t2, t3, t5) = $3 each -> acme, beta, (unattributed) $3 each
    voice vendor 62/month, feature voice: 62 / 31 = $2.00; no voice events -> no weight ->
                 `__unallocated__` $2.00

Endpoint llama, 1 GPU at $3.60/h all day: 24 x 3.60 = $86.40; busy 1.8 GPU-s x $0.001 =
$0.0018; idle 86.40 - 0.0018 = $86.3982.
    idle: share -> all on acme/support (its only user)
    idle: line  -> one `__idle__` line

Allocated fixed (idle shared):

    acme / support         40 + 86.3982 = 126.3982
    acme / search          20 + 3       =  23
    beta / search          20 + 3       =  23
    (unattributed)/search  20 + 3       =  23
    __unallocated__                     =   2
    total = 197.3982 = fixed 100 + 9 + 2 = 111 plus idle 86.3982
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

from unitecon.attribution.outcomes import task_outcomes
from unitecon.config import parse
from unitecon.economics.analysis import collapse, load_inputs, margins
from unitecon.economics.inputs import IDLE, UNALLOCATED, UNATTRIBUTED, costed, usage_lines
from unitecon.economics.revenue import load_book

T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
MAR = dt.date(2026, 3, 1)
PROJECT = """
endpoints:
  llama: {{gpu: H100, gpu_count: 1, hourly: {{on_demand: 3.60}}}}
fixed_costs:
  - {{name: platform, monthly: 3100, driver: requests}}
  - {{name: index, monthly: 279, feature: search, driver: tasks}}
  - {{name: voice vendor, monthly: 62, feature: voice, driver: requests}}
allocation: {{idle: {idle}}}
"""
REVENUE = """
revenue:
  plans:
    starter: {monthly_fee: 31, fixed_cost_per_customer: 6.2}
  customers:
    acme: {plan: starter}
    beta: {plan: starter}
"""


def _rows() -> list[dict[str, Any]]:
    def ev(i: int, cust: str | None, feature: str, task: str, **k: Any) -> dict[str, Any]:
        base = {"event_id": f"e{i}", "ts": T0 + dt.timedelta(minutes=i), "task_id": task}
        return {**base, "customer_id": cust, "feature": feature, **k}

    return [
        ev(1, "acme", "support", "t1", operation="invoke_agent", input_tokens=999, cost="9"),
        ev(2, "acme", "support", "t1", cost="0.40"),
        ev(3, "acme", "support", "t1", endpoint="llama", duration_ms=1800,
           price_status="endpoint"),
        ev(4, "acme", "search", "t2", cost="0.10", accepted=True),
        ev(5, "beta", "search", "t3", cost="0.05", accepted=False),
        ev(6, None, "search", "t5", cost="0.20", accepted=True),
    ]  # fmt: skip


def _inputs(make_priced: Any, idle: str) -> Any:
    project = parse(PROJECT.format(idle=idle) + REVENUE)
    return project, load_inputs(make_priced(_rows()), project)


def test_allocated_fixed_by_hand(make_priced: Any) -> None:
    _, inputs = _inputs(make_priced, "share")
    assert inputs.fixed_basis == "allocated"
    assert inputs.allocated_fixed == {
        ("acme", MAR, "support"): D("126.3982"),
        ("acme", MAR, "search"): D(23),
        ("beta", MAR, "search"): D(23),
        (UNATTRIBUTED, MAR, "search"): D(23),
        (UNALLOCATED, MAR, None): D(2),
    }
    assert inputs.fixed.fixed_total == 111
    assert inputs.fixed.idle_total == D("86.3982")
    assert sum(inputs.allocated_fixed.values()) == D("197.3982")


def test_idle_as_a_line(make_priced: Any) -> None:
    _, inputs = _inputs(make_priced, "line")
    assert inputs.allocated_fixed[("acme", MAR, "support")] == 40
    assert inputs.allocated_fixed[(IDLE, MAR, None)] == D("86.3982")
    assert sum(inputs.allocated_fixed.values()) == D("197.3982")


def test_margin_rows_use_the_allocation_and_collapse_keeps_plan_f(make_priced: Any) -> None:
    project, inputs = _inputs(make_priced, "line")
    m = margins(inputs, load_book(project.revenue))
    rows = {r.key: r for r in m.rows}
    acme = rows["acme", MAR, "support"]
    assert (acme.variable_cost, acme.fixed_cost, acme.plan) == (D("0.4018"), 40, "starter")
    idle = rows[IDLE, MAR, None]
    assert (idle.revenue, idle.fixed_cost, idle.plan) == (0, D("86.3982"), IDLE)
    assert rows[UNALLOCATED, MAR, None].plan == UNALLOCATED
    assert sum(r.fixed_cost for r in m.rows) == D("197.3982")
    for r in m.rows:
        assert r.gross_margin == r.revenue - r.variable_cost - r.fixed_cost
    # Plan F: 6.20 a month, for the window's one day of March's 31 (the same day as the
    # cost): 6.20 x 1/31 = 0.20, split over acme's two features by tasks (t1, t2): 0.10 each.
    planned = {r.key: r.fixed_cost for r in m.planned if r.key[0] == "acme"}
    assert planned == {("acme", MAR, "search"): D("0.10"), ("acme", MAR, "support"): D("0.10")}
    (p,) = collapse(m)
    assert p.terms.fixed == D("6.2")
    assert sum(q.gross_margin for q in p.positions) == sum(
        r.gross_margin for r in m.planned if r.plan == "starter"
    )


def test_no_fixed_costs_falls_back_to_plan_f(make_priced: Any) -> None:
    project = parse(REVENUE)
    assert not project.fixed_costs and not project.endpoints
    inputs = load_inputs(make_priced(_rows()), project)
    assert inputs.allocated_fixed is None and inputs.fixed_basis == "plan"
    m = margins(inputs, load_book(project.revenue))
    assert m.rows == m.planned


def test_successful_tasks_agree_with_task_outcomes(make_priced: Any) -> None:
    """inputs.py restates the `success` rule of attribution.outcomes; each task here stays in
    one (customer, month, feature) slice, so the counts must agree."""
    project = parse(PROJECT.format(idle="line"))
    c = costed(make_priced(_rows()), project)
    lines = usage_lines(c.events, "var_cost")
    o = task_outcomes(c.events).to_pyarrow().to_pylist()
    assert sum(ln.successful_tasks for ln in lines) == sum(r["outcome"] == "success" for r in o)
    assert sum(ln.successful_tasks for ln in lines) == 2  # t2, t5; t3 rejected, t1 unknown
