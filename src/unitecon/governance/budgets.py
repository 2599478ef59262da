"""Monthly budgets: spend to date, the month-end forecast with an 80 % interval, alerts.

For a budget of B [USD/month] on a scope (all spend, or `where` feature/customer/...), as of
day `a` (data complete up to, not including, `a`) in month [s, e):

    actual    = sum of var_cost over [s, a)                              (exact Decimal)
    f_d       = expected cost of day d (anomalies.baseline: weekday-adjusted median of the
                h = 28 days before a)                         for each remaining day d in [a, e)
    forecast  = actual + sum_d f_d
    interval  = forecast -/+ 1.2816 x scale x sqrt(n)   (80 %; scale = MAD sigma of the
                history's daily residuals; n = remaining days; the low end never below actual)

the finops notes' recommendation (month-end = MTD actual + the remaining days' forecast, with
a prediction interval). `runs_out` is the first day on which actual plus the cumulative
forecast reaches B. Alerts fire at each `alert_at` fraction reached by the actual spend
("actual") or by the forecast ("forecast"), as AWS Budgets does for actual and forecasted
thresholds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from unitecon.governance.anomalies import CENT, baseline
from unitecon.governance.config import Budget
from unitecon.governance.series import ZERO, daily, day_range

Z80 = Decimal("1.2816")
HISTORY_DAYS = 28


@dataclass(frozen=True)
class Alert:
    budget: str
    kind: str  # "actual" | "forecast"
    fraction: Decimal
    amount: Decimal

    @property
    def message(self) -> str:
        what = "spent" if self.kind == "actual" else "forecast to spend"
        return f"{self.budget}: {what} ${self.amount:,.2f}, {self.fraction * 100:.0f}% or more"


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    month: dt.date
    as_of: dt.date
    actual: Decimal
    forecast: Decimal
    low: Decimal
    high: Decimal
    runs_out: dt.date | None
    scale: Decimal = ZERO
    """Robust sigma of a day's forecast error [USD] (the k-th day ahead: x sqrt(k))."""
    days: tuple[dt.date, ...] = ()
    """Every day of the month."""
    daily_actual: tuple[Decimal | None, ...] = ()
    """Cost per day of the month; None from as_of on."""
    daily_forecast: tuple[Decimal | None, ...] = ()
    """Forecast per day from as_of on; None before."""
    alerts: tuple[Alert, ...] = field(default=())

    @property
    def used(self) -> Decimal:
        """actual / budget."""
        return self.actual / self.budget.monthly

    @property
    def status(self) -> str:
        if self.actual >= self.budget.monthly:
            return "over budget"
        if self.forecast >= self.budget.monthly:
            return "forecast over"
        if self.alerts:
            return "warning"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.budget.name,
            "where": dict(self.budget.where),
            "month": self.month.strftime("%Y-%m"),
            "as_of": self.as_of.isoformat(),
            "budget": self.budget.monthly,
            "actual": self.actual,
            "used": self.used.quantize(Decimal("0.0001")),
            "forecast": self.forecast,
            "forecast_low": self.low,
            "forecast_high": self.high,
            "runs_out": self.runs_out.isoformat() if self.runs_out else None,
            "status": self.status,
            "alerts": [a.message for a in self.alerts],
        }


def forecast_spread(scale: Decimal, days: int) -> Decimal:
    """Half-width of the 80 % range of a `days`-day forecast: Z80 x scale x sqrt(days)."""
    return (Z80 * scale * Decimal(days).sqrt()).quantize(CENT)


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    start = month.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def budget_status(events: Any, budget: Budget, month: dt.date, as_of: dt.date) -> BudgetStatus:
    """The budget's month: actual to `as_of`, forecast for the rest (see the module doc)."""
    start, end = month_bounds(month)
    cut = min(max(as_of, start), end)
    history_first = cut - dt.timedelta(days=HISTORY_DAYS)
    first = min(start, history_first)
    [s] = daily(events, first, cut, None, {str(k): v for k, v in budget.where.items()})
    days = day_range(start, end)
    actual_days = [d for d in days if d < cut]
    daily_actual = [s.at(d) for d in actual_days]
    actual = sum(daily_actual, ZERO)
    rest = [d for d in days if d >= cut]
    hist_days = day_range(history_first, cut)
    hist = [s.at(d) for d in hist_days]
    fc = [baseline(hist, hist_days, d).expected for d in rest]
    scale = baseline(hist, hist_days, cut).scale if rest else ZERO
    remaining = sum(fc, ZERO)
    spread = forecast_spread(scale, len(rest))
    forecast = actual + remaining
    runs_out, running = None, ZERO
    for d, c in zip(days, [*daily_actual, *fc], strict=True):
        running += c
        if running >= budget.monthly:
            runs_out = d
            break
    alerts = [
        Alert(budget.name, kind, f, amount)
        for kind, amount in (("actual", actual), ("forecast", forecast))
        for f in budget.alert_at
        if amount >= f * budget.monthly
    ]
    top: dict[str, Alert] = {}
    for a in alerts:  # only the highest fraction reached, per kind
        top[a.kind] = a
    if "actual" in top and "forecast" in top and top["forecast"].fraction == top["actual"].fraction:
        del top["forecast"]  # the forecast adds nothing the actual does not say
    return BudgetStatus(
        budget,
        start,
        cut,
        actual,
        forecast,
        max(actual, forecast - spread),
        forecast + spread,
        runs_out,
        scale,
        tuple(days),
        tuple([*daily_actual, *([None] * len(rest))]),
        tuple([*([None] * len(actual_days)), *fc]),
        tuple(top.values()),
    )


def data_end(events: Any) -> dt.date | None:
    """The day after the last event: data is complete up to (not including) it."""
    last = events.aggregate(hi=events.ts.max()).to_pyarrow().to_pylist()[0]["hi"]
    return None if last is None else last.date() + dt.timedelta(days=1)
