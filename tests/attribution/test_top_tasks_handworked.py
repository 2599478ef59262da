"""`economics.tasks.top_tasks`: the most expensive tasks, worked by hand, with a tie at the
cut (broken by the task key) and a task whose outcome and fan-out come from its own
events only.

    task a: invoke_agent lead (root a0), chats a1 ($3, lead's own) and a2 ($1, under a1,
            agent helper) -> cost 4, 2 calls, 2 agents, supervisor lead, its own cost 3,
            fan-out 1 (a0 has one child, a1 one), last verdict accepted=false: failed
    task b: two chats ($2 each, attempt 2 on the second: rework $2) -> cost 4, 2 calls,
            fan-out 0 (no parents), no verdict: unknown
    task c: one chat $4, accepted=true -> cost 4, success
    task d: one chat $1 -> cost 1

Top 2 by cost, ties by task key ascending: a, b (c has the same cost, after b).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

from priced_rows import T0, MakePriced

from unitecon.attribution import variable_costs
from unitecon.config import Project
from unitecon.economics.tasks import top_tasks


def _rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"event_id": "a0", "task_id": "a", "trace_id": "ta", "span_id": "a0",
         "operation": "invoke_agent", "agent": "lead"},
        {"event_id": "a1", "task_id": "a", "trace_id": "ta", "span_id": "a1",
         "parent_span_id": "a0", "agent": "lead", "cost": "3"},
        {"event_id": "a2", "task_id": "a", "trace_id": "ta", "span_id": "a2",
         "parent_span_id": "a1", "agent": "helper", "cost": "1", "accepted": False},
        {"event_id": "b1", "task_id": "b", "cost": "2"},
        {"event_id": "b2", "task_id": "b", "cost": "2", "attempt": 2},
        {"event_id": "c1", "task_id": "c", "cost": "4", "accepted": True},
        {"event_id": "d1", "task_id": "d", "cost": "1"},
    ]  # fmt: skip
    for i, r in enumerate(rows):
        r |= {"ts": T0 + dt.timedelta(minutes=i), "provider": "openai", "model": "gpt-4o"}
        r |= {"feature": "f", "customer_id": "acme"}
    return rows


def test_top_two_by_hand(make_priced: MakePriced) -> None:
    c = variable_costs(make_priced(_rows()), Project())
    try:
        got = top_tasks(c, 2)
    finally:
        c.release()
    assert [r["task"] for r in got] == ["a", "b"]
    a, b = got
    assert (a["cost"], a["calls"], a["agents"], a["fan_out"]) == (D(4), 2, 2, 1)
    assert (a["supervisor"], a["supervisor_cost"], a["outcome"]) == ("lead", D(3), "failed")
    assert a["supervisor_overhead"] == D("0.75")
    assert (b["cost"], b["calls"], b["fan_out"], b["outcome"]) == (D(4), 2, 0, "unknown")
    assert b["rework_cost"] == D(2)
