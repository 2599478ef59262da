"""Governance stage: budgets and month-end forecasts, spend anomalies, runaway tasks and
tagging coverage, on the attribution stage's costed events (variable cost, leaf-only).

    costed events --series.daily--> daily spend per monitored value
                  --budgets.budget_status--> actual, forecast, interval, alerts
                  --anomalies.detect--> anomalous days with their contributors
                  --runaway.runaway_tasks--> loops far beyond their feature's tasks
                  --coverage.coverage--> share of spend carrying each business tag
"""

from unitecon.governance.anomalies import Anomaly, detect
from unitecon.governance.budgets import BudgetStatus, budget_status, data_end
from unitecon.governance.config import AnomalyConfig, Budget, GovernanceConfig, RunawayConfig
from unitecon.governance.coverage import Coverage, coverage
from unitecon.governance.overview import Alerts, alerts, anomalies_from, budget_statuses
from unitecon.governance.runaway import Runaway, runaway_tasks

__all__ = [
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
