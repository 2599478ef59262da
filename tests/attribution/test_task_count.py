"""Tasks are counted by hand: an explicit task, a trace, and events with neither."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from priced_rows import T0, MakePriced

from unitecon.attribution.costed import variable_costs
from unitecon.config import Project
from unitecon.economics.metrics import unit_rows


def test_events_without_task_or_trace_are_one_task_each(make_priced: MakePriced) -> None:
    """t1 (two calls), trace tr-9 (one call, no task id), and two calls with neither: 4
    tasks; a structural span of t1 adds none. Cost per task = $10 / 4 = $2.50."""
    rows = [
        {"event_id": "a", "task_id": "t1", "cost": "1"},
        {"event_id": "b", "task_id": "t1", "trace_id": "tr-1", "cost": "2"},
        {"event_id": "c", "trace_id": "tr-9", "cost": "3"},
        {"event_id": "d", "cost": "2"},
        {"event_id": "e", "cost": "2"},
        {"event_id": "f", "task_id": "t1", "operation": "invoke_agent"},
    ]
    for i, r in enumerate(rows):
        r |= {"ts": T0 + dt.timedelta(minutes=i), "provider": "openai", "model": "gpt-4o"}
        r.setdefault("customer_id", "acme")
    project = Project()
    c = variable_costs(make_priced(rows), project)
    try:
        got, _ = unit_rows(c, project, "customer")
    finally:
        c.release()
    m = {r.key: r.metrics() for r in got}["acme"]
    assert m["tasks"] == 4
    assert m["cost_per_task"] == Decimal("2.5")
