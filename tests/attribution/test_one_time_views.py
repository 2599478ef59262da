"""Issue 17, item 3: a one-time cost amortized per period and over lifetime executions,
both shown, each saying its method; worked by hand.

Window: 2026-03-02 (one UTC day), 4 tasks (all in scope).

fine-tune: $1,800 from 2026-03-01 over 6 months. Life 1 Mar to 1 Sep = 31+30+31+30+31+31
    = 184 days; March is month 1 of life: 1,800 / 6 = 300 over 31 days.
    per period: window charge 300 x 1/31 = 9.677419...; per task 9.677419... / 4 = 2.419354...
    lifetime (estimated): E = 4 tasks x 184 days / 1 day = 736; 1,800 / 736 = 2.445652...
labels: $1,000 over 500 tasks (lifetime executions configured).
    window charge 1,000 x 4 / 500 = 8.00; per task A / E = 1,000 / 500 = 2.00; no period.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

from priced_rows import T0, MakePriced

from unitecon.attribution import variable_costs
from unitecon.attribution.fixed import one_time_views
from unitecon.config import parse

PROJECT = """
fixed_costs:
  - {name: fine-tune, amount: 1800, start: 2026-03-01, amortize_months: 6, driver: tasks}
  - {name: labels, amount: 1000, start: 2026-03-01, amortize_tasks: 500, driver: tasks}
"""
Q = D("1e-24")


def _rows() -> list[dict[str, Any]]:
    return [
        {"event_id": f"e{i}", "ts": T0 + dt.timedelta(minutes=i), "trace_id": f"t{i}",
         "feature": "a", "cost": "0.01", "input_tokens": 10}
        for i in range(4)
    ]  # fmt: skip


def test_both_methods(make_priced: MakePriced) -> None:
    project = parse(PROJECT)
    c = variable_costs(make_priced(_rows()), project)
    v = {x.name: x for x in one_time_views(c.source, c.window, project.fixed_costs)}
    ft = v["fine-tune"]
    assert ft.method == "per period (6 months)" and ft.tasks == 4
    assert abs(ft.window_charge - D(300) / 31) <= Q
    assert abs(ft.per_task_per_period - D(300) / 31 / 4) <= 2 * Q  # type: ignore[operator]
    assert ft.lifetime_tasks == 736 and ft.lifetime_estimated
    assert abs(ft.per_task_lifetime - D(1800) / 736) <= Q  # type: ignore[operator]
    lb = v["labels"]
    assert lb.method == "lifetime executions (500 tasks)"
    assert (lb.window_charge, lb.per_task_lifetime) == (D(8), D(2))
    assert lb.per_period_charge is None and not lb.lifetime_estimated
