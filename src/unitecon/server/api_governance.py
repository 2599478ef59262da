"""Read API of the governance stage: budgets, spend anomalies, runaway tasks, tagging coverage
and alerts (the answers of `unitecon budgets|anomalies|runaway|coverage|alerts --json`).

Each endpoint hands the costed events (narrowed by its filters) to `unitecon.governance` and
returns what it computed; the formulas live there.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from unitecon.server.api import FilterParams, ReadKey, cached
from unitecon.server.api_units import costed, plain
from unitecon.server.errors import COMMON_RESPONSES, InvalidBody
from unitecon.server.models import (
    Alerts,
    Anomalies,
    BudgetDay,
    Budgets,
    BudgetState,
    Coverage,
    DaySpend,
    Filters,
    RunawayTask,
    RunawayTasks,
    SpendAnomaly,
    TagCoverage,
)

router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES, tags=["governance"])


def _month(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text + "-01")
    except ValueError:
        raise InvalidBody(f"`month` {text!r}: expected YYYY-MM, e.g. 2026-10.") from None


def _anomaly(a: Any) -> SpendAnomaly:
    d = a.as_dict()
    d["contributors"] = [
        {"dim": c.dim, "value": c.value, "cost": c.cost, "usual": c.usual, "above_usual": c.delta}
        for c in a.contributors
    ]
    return SpendAnomaly.model_validate(plain(d))


def _runaway(r: Any) -> RunawayTask:
    return RunawayTask.model_validate(plain(r.as_dict()))


def _budget(s: Any) -> BudgetState:
    from unitecon.governance.overview import burn_up

    days = [
        BudgetDay.model_validate(
            plain(
                {
                    "day": b.day,
                    "spent": b.spent,
                    "forecast": b.forecast,
                    "forecast_low": b.low,
                    "forecast_high": b.high,
                }
            )
        )
        for b in burn_up(s)
    ]
    return BudgetState.model_validate({**plain(s.as_dict()), "days": days})


@router.get(
    "/budgets", response_model=Budgets, summary="Budgets: spend to date and month-end forecast"
)
def budgets(
    request: Request,
    response: Response,
    key: ReadKey,
    month: Annotated[
        str | None,
        Query(
            description="Month (YYYY-MM); default: the month of the last day with data.",
            pattern=r"^\d{4}-\d{2}$",
        ),
    ] = None,
) -> Budgets:
    """Budgets: spend to date, month-end forecast with an 80% range, run-out day, alerts.

    One entry per budget of the project file's `governance.budgets`, each with its burn-up
    day by day (cumulative spend, then the cumulative forecast and its range). Spend is the
    variable cost of leaf calls up to `as_of` (the day after the last event, exclusive).
    """
    m = _month(month)

    def answer() -> Budgets:
        from unitecon.governance import budget_statuses, data_end

        project = request.app.state.project
        notes = [] if project.governance.budgets else ["No budgets in the project file."]
        # the month and the 28 days of history its forecast needs (as `unitecon budgets`)
        since = None if m is None else m - dt.timedelta(days=35)
        events = costed(request, Filters(since=since)).events
        end = data_end(events)
        if end is None or not project.governance.budgets:
            return Budgets(
                month=m.strftime("%Y-%m") if m else None, as_of=end, budgets=[], notes=notes
            )
        statuses = budget_statuses(events, project.governance.budgets, m, end)
        return Budgets(
            month=statuses[0].month.strftime("%Y-%m"),
            as_of=end,
            budgets=[_budget(s) for s in statuses],
            notes=notes,
        )

    return cached(request, response, "budgets", answer, month=month)


@router.get("/anomalies", response_model=Anomalies, summary="Spend anomalies and what drove them")
def anomalies(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    top: Annotated[
        int, Query(ge=1, le=500, description="Anomalies to return, largest impact first.")
    ] = 50,
) -> Anomalies:
    """Spend anomalies: days far above the weekday-adjusted baseline of the weeks before.

    Every monitored series is tested (all spend, and each feature, customer and model, as the
    project file's `governance.anomalies` says), over the days from `since` to `until`; the
    `history_days` before `since` serve as its history. With `feature` or `customer`, only
    that spend is tested. Each returned anomaly names what drove it (the values of a second
    dimension whose cost rose most above their usual). `daily` is the filtered spend per day
    over the days tested, to draw the anomalies on.
    """

    def answer() -> Anomalies:
        from unitecon.governance import anomalies_from, data_end
        from unitecon.governance.overview import data_start, spend_by_day

        cfg = request.app.state.project.governance.anomalies
        hist = None if f.since is None else f.since - dt.timedelta(days=cfg.history_days)
        events = costed(request, f.model_copy(update={"since": hist})).events
        first, end = data_start(events), data_end(events)
        if first is None or end is None:
            return Anomalies(
                filters=f, first_day=f.since, as_of=None, period_cost=Decimal(0), daily=[], total=0,
                anomalies=[],
            )  # fmt: skip
        if f.until is not None:
            end = min(end, f.until)
        tested = max(first, f.since) if f.since else first
        found = anomalies_from(events, cfg, first, end, f.since, top)
        spend = spend_by_day(events, tested, end)
        return Anomalies(
            filters=f,
            first_day=tested,
            as_of=end,
            period_cost=plain(spend.total),
            daily=[
                DaySpend(day=d, cost=plain(c)) for d, c in zip(spend.days, spend.costs, strict=True)
            ],
            total=len(found),
            anomalies=[_anomaly(a) for a in found[:top]],
        )

    return cached(request, response, "anomalies", answer, f=f, top=top)


@router.get("/runaway", response_model=RunawayTasks, summary="Runaway tasks (agent loops)")
def runaway(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    top: Annotated[int, Query(ge=0, le=1000, description="Rows (0 = all).")] = 20,
) -> RunawayTasks:
    """Runaway tasks: far more calls than the other tasks of their feature (agent loops).

    Among the tasks of the period (`since`, `until`), the ones above their feature's limit
    (`governance.runaway`: factor x the 99th percentile of the feature's task calls, at least
    `min_calls`), most expensive first, with the agent that made most of their calls. The
    `feature` and `customer` filters select among them; the limits stay the feature's. Open
    one with GET /api/v1/tasks/{task}.
    """

    def answer() -> RunawayTasks:
        from unitecon.governance import runaway_tasks

        cfg = request.app.state.project.governance.runaway
        period = Filters(since=f.since, until=f.until, feature=f.feature)
        found = runaway_tasks(costed(request, period).events, cfg, None)
        if f.customer is not None:
            found = [r for r in found if r.customer_id == f.customer]
        return RunawayTasks(
            filters=f,
            total=len(found),
            rows=[_runaway(r) for r in (found[:top] if top else found)],
        )

    return cached(request, response, "runaway", answer, f=f, top=top)


@router.get("/coverage", response_model=Coverage, summary="Tagging coverage")
def coverage(request: Request, response: Response, key: ReadKey, f: FilterParams) -> Coverage:
    """Tagging coverage: the share of spend and of calls carrying a customer, feature, team,
    user, environment and agent, and the sources of most of the untagged spend.

    Untagged spend cannot be charged back to a customer or a team.
    """

    def answer() -> Coverage:
        from unitecon.governance import coverage as cov

        rows = cov(costed(request, f).events)
        return Coverage(
            filters=f, rows=[TagCoverage.model_validate(plain(x.as_dict())) for x in rows]
        )

    return cached(request, response, "coverage", answer, f=f)


@router.get("/alerts", response_model=Alerts, summary="Alerts: everything needing attention now")
def alerts(
    request: Request,
    response: Response,
    key: ReadKey,
    days: Annotated[
        int, Query(ge=1, le=366, description="Anomalies and runaway tasks of the last N days.")
    ] = 7,
) -> Alerts:
    """Everything that needs attention now, as `unitecon alerts --json`: the latest month's
    budgets with an alert, the spend anomalies and the runaway tasks of the last `days` days.
    """

    def answer() -> Alerts:
        from unitecon.governance import alerts as all_alerts
        from unitecon.governance import data_end

        c = costed(request, Filters())
        end = data_end(c.events)
        if end is None:
            return Alerts(as_of=None, days=days, budgets=[], anomalies=[], runaway_tasks=[])
        gov = request.app.state.project.governance
        got = all_alerts(c.events, gov, c.window.since.date(), end, days)
        return Alerts.model_validate(
            {
                **plain(got.as_dict()),
                "anomalies": [_anomaly(a) for a in got.anomalies],
            }
        )

    return cached(request, response, "alerts", answer, days=days)
