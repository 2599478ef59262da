"""Governance stage: budgets and month-end forecasts, spend anomalies, runaway tasks and
tagging coverage, on the attribution stage's costed events (variable cost, leaf-only).

    costed events --series.daily--> daily spend per monitored value
                  --budgets.budget_status--> actual, forecast, interval, alerts
                  --anomalies.detect--> anomalous days with their contributors
                  --runaway.runaway_tasks--> loops far beyond their feature's tasks
                  --coverage.coverage--> share of spend carrying each business tag
"""

from typing import get_args

from unitecon.governance.anomalies import EXPLAIN_BY, Anomaly, detect
from unitecon.governance.budgets import BudgetStatus, budget_status, data_end
from unitecon.governance.config import (
    AnomalyConfig,
    Budget,
    GovernanceConfig,
    RunawayConfig,
    Scope,
)
from unitecon.governance.coverage import DIMENSIONS, Coverage, coverage
from unitecon.governance.overview import Alerts, alerts, anomalies_from, budget_statuses
from unitecon.governance.runaway import Runaway, runaway_tasks
from unitecon.governance.series import TOTAL

#: The costed-event columns the governance questions read (`Costed.narrow`): the instant
#: and the variable cost; every scope a budget or a monitor may name and the dimension
#: that explains each monitor's anomalies; the coverage dimensions, the source of untagged
#: spend and the price status of the `usage` row; the leaf rule's `operation`, and the
#: columns of the task key of runaway tasks.
EVENT_COLUMNS: tuple[str, ...] = tuple(
    sorted(
        {
            "ts",
            "var_cost",
            "operation",
            "task_id",
            "trace_id",
            "event_id",
            "agent",
            "source",
            "model",
            "price_status",
            *get_args(Scope),
            *(d for d in EXPLAIN_BY if d != TOTAL),
            *EXPLAIN_BY.values(),
            *DIMENSIONS,
        }
    )
)

#: The columns of `EVENT_COLUMNS` the anomalies read: the instant, the variable cost, the
#: leaf rule's `operation`, every scope a monitor may name and the dimension that explains
#: each monitor's anomalies. Their table spans the 28 days of history too, twice the
#: window's events on the dashboard: without the event, trace and task ids and the
#: coverage's columns it is written in ~40 % less time (docs/benchmarks.md, "Session 11").
ANOMALY_COLUMNS: tuple[str, ...] = tuple(
    sorted(
        {
            "ts",
            "var_cost",
            "operation",
            *get_args(Scope),
            *(d for d in EXPLAIN_BY if d != TOTAL),
            *EXPLAIN_BY.values(),
        }
    )
)

__all__ = [
    "ANOMALY_COLUMNS",
    "EVENT_COLUMNS",
    "Alerts",
    "Anomaly",
    "AnomalyConfig",
    "Budget",
    "BudgetStatus",
    "Coverage",
    "GovernanceConfig",
    "Runaway",
    "RunawayConfig",
    "alerts",
    "anomalies_from",
    "budget_status",
    "budget_statuses",
    "coverage",
    "data_end",
    "detect",
    "runaway_tasks",
]
