"""What the CLI and the service show of the governance stage: a month's budgets, the anomalies
of a period with what drove them, and the alerts (everything needing attention now).

Selections over the stage's results, shared so that `unitecon budgets/anomalies/alerts` and
`GET /api/v1/budgets|anomalies|alerts` give the same answers; the formulas live in
`budgets`, `anomalies` and `runaway`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from unitecon.governance.anomalies import Anomaly, detect, explained
from unitecon.governance.budgets import BudgetStatus, budget_status, forecast_spread
from unitecon.governance.config import AnomalyConfig, Budget, GovernanceConfig
from unitecon.governance.runaway import Runaway, runaway_tasks
from unitecon.governance.series import ZERO, Series, daily


def latest_month(end: dt.date) -> dt.date:
    """The month of the last day with data (`end` is the day after it)."""
    return (end - dt.timedelta(days=1)).replace(day=1)


def data_start(events: Any) -> dt.date | None:
    """The first day with an event (None: no events)."""
    lo = events.aggregate(lo=events.ts.min()).to_pyarrow().to_pylist()[0]["lo"]
    return None if lo is None else lo.date()


def budget_statuses(
    events: Any, budgets: list[Budget], month: dt.date | None, end: dt.date
) -> list[BudgetStatus]:
    """Each budget in `month` (None: the latest), actual to `end` (exclusive)."""
    m = month or latest_month(end)
    return [budget_status(events, b, m, end) for b in budgets]


def anomalies_from(
    events: Any,
    cfg: AnomalyConfig,
    first: dt.date,
    end: dt.date,
    since: dt.date | None = None,
    top: int | None = 15,
) -> list[Anomaly]:
    """Anomalies of the days in [first, end) (from `since` on, if given; the days before it
    are history), largest impact first; the `top` largest (None: all) with contributors."""
    found = detect(events, first, end, cfg)
    if since is not None:
        found = [a for a in found if a.day >= since]
    n = len(found) if top is None else top
    return explained(events, found[:n], cfg.history_days) + found[n:]


@dataclass(frozen=True)
class Alerts:
    """Everything that needs attention for the `days` days to `as_of` (exclusive)."""

    as_of: dt.date
    days: int
    budgets: tuple[BudgetStatus, ...]
    """The latest month's budgets with an alert."""
    anomalies: tuple[Anomaly, ...]
    """Anomalies of the last `days` days (the 10 largest with contributors)."""
    runaway_tasks: tuple[Runaway, ...]
    """Runaway tasks started in the last `days` days."""

    @property
    def any(self) -> bool:
        return bool(self.budgets or self.anomalies or self.runaway_tasks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "days": self.days,
            "budgets": [s.as_dict() for s in self.budgets],
            "anomalies": [a.as_dict() for a in self.anomalies],
            "runaway_tasks": [r.as_dict() for r in self.runaway_tasks],
        }


def alerts(
    events: Any, gov: GovernanceConfig, first: dt.date, end: dt.date, days: int = 7
) -> Alerts:
    """Budget alerts of the latest month, anomalies and runaway tasks of the last `days`
    days, for events whose data runs from `first` to `end` (exclusive)."""
    recent = end - dt.timedelta(days=days)
    statuses = budget_statuses(events, gov.budgets, None, end)
    found = anomalies_from(events, gov.anomalies, first, end, recent, top=10)
    loops = [r for r in runaway_tasks(events, gov.runaway, None) if r.started.date() >= recent]
    return Alerts(
        end,
        days,
        tuple(s for s in statuses if s.alerts),
        tuple(found),
        tuple(loops),
    )


def spend_by_day(events: Any, first: dt.date, end: dt.date) -> Series:
    """Total cost per day in [first, end) (every day present)."""
    [s] = daily(events, first, end)
    return s


@dataclass(frozen=True)
class BurnUpDay:
    """One day of a budget's burn-up chart (cumulative amounts, USD)."""

    day: dt.date
    spent: Decimal | None
    """Spent to the end of the day; None from as_of on."""
    forecast: Decimal | None
    """Forecast to the end of the day; from the last day with data on (there: the spend)."""
    low: Decimal | None
    """80% range of `forecast` (the k-th day ahead: +/- Z80 x scale x sqrt(k); the low end
    never below the spend to date), as `budget_status` computes it for the month end."""
    high: Decimal | None


def burn_up(s: BudgetStatus) -> list[BurnUpDay]:
    """The budget's month day by day: cumulative spend, then the cumulative forecast with its
    range (the last day's forecast and range are the status's `forecast`, `low`, `high`)."""
    n = sum(1 for v in s.daily_actual if v is not None)
    out: list[BurnUpDay] = []
    spent = ZERO
    for d, v in zip(s.days[:n], s.daily_actual[:n], strict=True):
        spent += v or ZERO
        out.append(BurnUpDay(d, spent, None, None, None))
    if n and n < len(s.days):  # the forecast starts from the last day's spend
        out[-1] = BurnUpDay(out[-1].day, spent, spent, spent, spent)
    base = spent
    for k, (d, f) in enumerate(zip(s.days[n:], s.daily_forecast[n:], strict=True), 1):
        base += f or ZERO
        spread = forecast_spread(s.scale, k)
        out.append(BurnUpDay(d, None, base, max(spent, base - spread), base + spread))
    return out
