"""Issue 17, item 6: idle GPU cost as its own line ("Idle GPU capacity") or allocated to
the endpoint's users by their busy GPU time (`allocation: {idle: share}`), worked by hand.

One endpoint, 1 GPU at $3.60/h, one UTC day (2026-03-02): provisioned 24 h x 3.60 = $86.40.
Feature a: one call of 1.8 s; feature b: one call of 5.4 s. Busy 7.2 GPU-s x $0.001/GPU-s
= $0.0072 (a 0.0018, b 0.0054); idle = 86.40 - 0.0072 = $86.3928.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

from priced_rows import T0, MakePriced

from unitecon.attribution import variable_costs
from unitecon.config import parse
from unitecon.economics.metrics import unit_rows

PROJECT = """
endpoints:
  llama: {gpu: H100, gpu_count: 1, hourly: {on_demand: 3.60}}
allocation: {idle: %s}
"""


def _rows() -> list[dict[str, Any]]:
    def call(i: int, feature: str, ms: int) -> dict[str, Any]:
        return {
            "event_id": f"e{i}",
            "ts": T0 + dt.timedelta(minutes=i),
            "trace_id": f"t{i}",
            "feature": feature,
            "endpoint": "llama",
            "duration_ms": ms,
            "input_tokens": 1000,
            "output_tokens": 100,
            "price_status": "endpoint",
        }

    return [call(1, "a", 1800), call(2, "b", 5400)]


def _metrics(make_priced: MakePriced, idle: str) -> dict[str, dict[str, Any]]:
    project = parse(PROJECT % idle)
    c = variable_costs(make_priced(_rows()), project)
    rows, _ = unit_rows(c, project, "feature")
    return {r.key: r.metrics(loaded=True) for r in rows}


def test_idle_shared_by_busy_time(make_priced: MakePriced) -> None:
    m = _metrics(make_priced, "share")
    # a: 1.8 / 7.2 = 1/4 of the idle: 86.3928 / 4 = 21.5982; loaded 0.0018 + 21.5982 = 21.60
    # b: 3/4: 64.7946; loaded 0.0054 + 64.7946 = 64.80 (= 86.40 x each one's busy share)
    assert (m["a"]["idle_cost"], m["a"]["loaded_cost"]) == (D("21.5982"), D("21.6"))
    assert (m["b"]["idle_cost"], m["b"]["loaded_cost"]) == (D("64.7946"), D("64.8"))
    assert "__idle__" not in m
    assert m["a"]["cost_per_task"] == D("21.6")  # one task each


def test_idle_as_its_own_line_with_a_human_name(make_priced: MakePriced) -> None:
    m = _metrics(make_priced, "line")
    assert m["a"]["loaded_cost"] == D("0.0018")
    idle = m["__idle__"]
    assert idle["label"] == "Idle GPU capacity" and idle["idle_cost"] == D("86.3928")
    assert m["a"]["label"] == "a"
