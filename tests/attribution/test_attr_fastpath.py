"""A project with no unit prices and no endpoints skips those joins: same events, schema and
costs as the joins give when they match nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from priced_rows import T0, MakePriced

from unitecon.attribution.costed import _finish, variable_costs
from unitecon.attribution.frame import in_window, money
from unitecon.attribution.selfhosted import apply_endpoint_costs, with_gpu_seconds
from unitecon.attribution.units import apply_unit_prices
from unitecon.config import Project


def _rows() -> list[dict[str, Any]]:
    return [
        {"event_id": "a", "ts": T0, "model": "m", "cost": "0.5", "customer_id": "c1"},
        {"event_id": "b", "ts": T0, "unit_type": "web_search", "units": 3,
         "price_status": "unit", "customer_id": "c2"},
        {"event_id": "c", "ts": T0, "endpoint": "llama", "price_status": "endpoint",
         "input_tokens": 10, "output_tokens": 5, "duration_ms": 1200},
        {"event_id": "d", "ts": T0, "operation": "invoke_agent", "task_id": "t"},
        {"event_id": "e", "ts": T0 + dt.timedelta(hours=1), "model": "m", "cost": "0.25",
         "sample_rate": 0.5, "task_id": "t"},
    ]  # fmt: skip


def test_no_prices_no_endpoints_matches_the_joins(make_priced: MakePriced) -> None:
    project = Project()
    priced = make_priced(_rows())
    c = variable_costs(priced, project)
    try:
        t = in_window(priced, c.window)
        t = t.mutate(
            cost=money(t.cost), input_cost=money(t.input_cost), output_cost=money(t.output_cost)
        )
        joined = _finish(apply_endpoint_costs(with_gpu_seconds(apply_unit_prices(t, []), {}), []))
        assert c.events.columns == joined.columns
        assert c.periods == ()
        got = c.events.order_by("event_id").to_pyarrow()
        want = joined.order_by("event_id").to_pyarrow()
        assert got.equals(want)
    finally:
        c.release()
