"""Read API of the governance stage: budgets, spend anomalies, runaway tasks, tagging coverage
and alerts (the answers of `unitecon budgets|anomalies|runaway|coverage|alerts --json`).

Each endpoint hands the costed events (narrowed by its filters) to `unitecon.governance` and
returns what it computed; the formulas live there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from unitecon.analysis.answers import (
    Alerts,
    Anomalies,
    Budgets,
    Coverage,
    RunawayTasks,
    Summary,
)
from unitecon.server.api import FilterParams, ReadKey, ask, cached, month_of
from unitecon.server.errors import COMMON_RESPONSES

router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES, tags=["governance"])


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
    m = month_of(month)

    def answer() -> Budgets:
        return ask(request, lambda a: a.budgets(m))

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
        return ask(request, lambda a: a.anomalies(f, top))

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
        return ask(request, lambda a: a.runaway(f, top))

    return cached(request, response, "runaway", answer, f=f, top=top)


@router.get("/coverage", response_model=Coverage, summary="Tagging coverage")
def coverage(request: Request, response: Response, key: ReadKey, f: FilterParams) -> Coverage:
    """Tagging coverage: the share of spend and of calls carrying a customer, feature, team,
    user, environment and agent, and the sources of most of the untagged spend.

    Untagged spend cannot be charged back to a customer or a team.
    """

    def answer() -> Coverage:
        return ask(request, lambda a: a.coverage(f))

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
        return ask(request, lambda a: a.alerts(days))

    return cached(request, response, "alerts", answer, days=days)


@router.get("/summary", response_model=Summary, summary="The period's headline (the report's)")
def summary(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    top: Annotated[int, Query(ge=0, le=100, description="Largest anomalies/runaways.")] = 5,
) -> Summary:
    """The headline of a period (`since`, `until`), as `unitecon report --json`: fully
    loaded cost (variable, fixed, idle), revenue, gross margin, cost per successful task,
    the monthly trend, the budgets of the period's last month, customers past collapse, the
    largest anomalies and runaway tasks. Feature and customer filters do not apply.
    """

    def answer() -> Summary:
        return ask(request, lambda a: a.summary(f, top))

    return cached(request, response, "summary", answer, f=f, top=top)
