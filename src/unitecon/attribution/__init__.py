"""Attribution stage: every dollar of a window on the task, agent, customer and feature that
caused it, and the totals always add up.

Flow: priced events (pricing stage) -> `variable_costs` (unit prices, self-hosted GPU time,
leaf-only) -> `allocate` (fixed costs and idle, conserved, with a filtered bucket). The
task reports (`top_tasks`, `task_details`, `outcome_rows`) and every ratio are the economics
stage's (`unitecon.economics.tasks`, `unitecon.economics.metrics`).

Modules: config (project-file sections), frame (money type, window, leaf rule), units,
selfhosted, costed, trees, outcomes, fixed, allocation, rollup, endpoints.
May import: unitecon.ledger, unitecon.pricing, unitecon.engine, unitecon.errors, Ibis
(docs/architecture.md). Never DuckDB directly.

The public names below load lazily, so `unitecon.config` (which imports this package's
`config` models) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "Allocation": "allocation",
    "AllocRow": "allocation",
    "allocate": "allocation",
    "AllocationConfig": "config",
    "EndpointConfig": "config",
    "FixedCost": "config",
    "UnitPrice": "config",
    "Costed": "costed",
    "variable_costs": "costed",
    "EndpointUsage": "endpoints",
    "endpoint_usage": "endpoints",
    "Charge": "fixed",
    "charges": "fixed",
    "split": "fixed",
    "Window": "frame",
    "outcome_summary": "outcomes",
    "task_outcomes": "outcomes",
    "Period": "selfhosted",
    "hourly_cost": "selfhosted",
    "build_forest": "trees",
    "resolve_agents": "trees",
    "task_rollup": "trees",
    "tree_stats": "trees",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)


def __dir__() -> list[str]:
    return __all__
