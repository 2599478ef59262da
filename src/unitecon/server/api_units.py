"""Read API: unit metrics, tasks and one task's tree, self-hosted endpoints, margins.

Each endpoint asks the analysis core (`unitecon.analysis`) and returns its answer, the
object `unitecon unit|tasks|trace|endpoints|margins|collapse --json` prints.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from unitecon.analysis.answers import (
    AsymmetryTable,
    EndpointSpans,
    Ingests,
    MarginTable,
    MeasureWhatIf,
    Outcomes,
    Table,
    TaskTree,
    UnitMetrics,
    WhatIfResult,
)
from unitecon.economics.collapse_plan import PlanCollapse
from unitecon.ledger import dimensions
from unitecon.models.scenario import Scenario
from unitecon.models.selfhost import Workload
from unitecon.models.tco import Measured
from unitecon.server.api import FilterParams, ReadKey, ask, cached, month_of
from unitecon.server.errors import COMMON_RESPONSES

router = APIRouter(prefix="/api/v1", responses=COMMON_RESPONSES, tags=["read"])

TASK_ROWS = 100
"""`/tasks` computes at least this many rows, whatever its limit (then cuts them)."""


@router.get("/metrics/units", response_model=UnitMetrics)
def unit_metrics(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    by: Annotated[
        str,
        Query(
            description="One row per value of this dimension (aliases such as `customer_id` "
            "are accepted).",
            json_schema_extra={"enum": dimensions.names(dimensions.UNITS)},
        ),
    ] = "feature",
    loaded: Annotated[
        bool, Query(description="Ratios over the loaded cost (fixed and idle included).")
    ] = False,
) -> UnitMetrics:
    """Cost per request, task, successful task, conversation, 1k tokens; rework; loaded cost.

    Special rows: `__filtered__` (events outside the filters), `__idle__`, `__unallocated__`.
    """

    def answer() -> UnitMetrics:
        return ask(request, lambda a: a.units(f, by, loaded))

    return cached(request, response, "unit_metrics", answer, f=f, by=by, loaded=loaded)


@router.get("/tasks", response_model=Table)
def tasks(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Table:
    """The most expensive tasks: cost, calls, agents, supervisor and its own cost, fan-out,
    outcome and rework."""

    # One answer for every limit up to TASK_ROWS (the dashboard asks 20 and 25), cut here:
    # the tasks are in a total order (cost, then task key), so the first `limit` of more
    # rows are the `limit` rows, and one read computes them for both.
    rows = max(limit, TASK_ROWS)

    def answer() -> Table:
        return ask(request, lambda a: a.tasks(f, rows, trees=False))

    got = cached(request, response, "tasks", answer, f=f, limit=rows)
    return got if limit == rows else got.model_copy(update={"rows": got.rows[:limit]})


@router.get("/tasks/{task_id}", response_model=TaskTree)
def task_tree(request: Request, key: ReadKey, task_id: str) -> TaskTree:
    """One task's agent tree: every span with its own and inclusive cost (leaf-only)."""
    return ask(request, lambda a: a.task(task_id))


@router.get("/asymmetry", response_model=AsymmetryTable)
def asymmetry(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    by: Annotated[
        str,
        Query(description="model or feature.", json_schema_extra={"enum": ["model", "feature"]}),
    ] = "model",
) -> AsymmetryTable:
    """Input vs output cost: share of the token cost and cost per 1k tokens of input,
    output, cache reads and reasoning, per model or feature (API calls)."""

    def answer() -> AsymmetryTable:
        return ask(request, lambda a: a.asymmetry(f, by))

    return cached(request, response, "asymmetry", answer, f=f, by=by)


@router.get("/endpoints", response_model=Table)
def endpoints(request: Request, response: Response, key: ReadKey, f: FilterParams) -> Table:
    """Self-hosted endpoints: cost, idle cost, utilization, effective $/M tokens."""

    def answer() -> Table:
        return ask(request, lambda a: a.endpoints(f))

    return cached(request, response, "endpoints", answer, f=f)


@router.get("/margins", response_model=MarginTable)
def margins(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    by: Annotated[
        str,
        Query(
            description="Roll-up.", json_schema_extra={"enum": dimensions.names(dimensions.MARGINS)}
        ),
    ] = "customer",
    month: Annotated[
        str | None, Query(description="Only this month (YYYY-MM).", pattern=r"^\d{4}-\d{2}$")
    ] = None,
) -> MarginTable:
    """Revenue, variable and fixed cost, contribution and gross margin; worst first."""
    m = month_of(month)

    def answer() -> MarginTable:
        return ask(request, lambda a: a.margins(f, by, m))

    return cached(request, response, "margins", answer, f=f, by=by, month=month)


@router.get("/collapse", response_model=Table)
def collapse(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    plan: Annotated[str | None, Query(description="Only this plan.")] = None,
) -> Table:
    """Per plan: the usage at which a customer's margin reaches 0 (u0) and the target (u_m),
    and where each customer sits against those lines."""

    def answer() -> Table:
        return ask(request, lambda a: a.collapse(f, plan))

    return cached(request, response, "collapse", answer, f=f, plan=plan)


@router.get("/outcomes", response_model=Outcomes)
def outcomes(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    by: Annotated[
        str,
        Query(
            description="kind (task type) or feature.",
            json_schema_extra={"enum": ["kind", "feature"]},
        ),
    ] = "kind",
) -> Outcomes:
    """Cost per successful task, tasks by outcome, rework cost and share; the supervisor
    overhead of multi-agent tasks (`unitecon outcomes`)."""

    def answer() -> Outcomes:
        return ask(request, lambda a: a.outcomes(f, by))

    return cached(request, response, "outcomes", answer, f=f, by=by)


@router.get("/collapse/plans", response_model=list[PlanCollapse])
def collapse_plans(
    request: Request,
    response: Response,
    key: ReadKey,
    f: FilterParams,
    plan: Annotated[str | None, Query(description="Only this plan.")] = None,
    target_margin: Annotated[
        Decimal | None, Query(description="Target gross margin (0.6 = 60%).")
    ] = None,
) -> list[PlanCollapse]:
    """Each plan's whole collapse analysis (`unitecon collapse --json`): terms, unit cost
    levels, u0 and u_m, the design checks and every customer's position."""

    def answer() -> list[PlanCollapse]:
        return ask(request, lambda a: a.collapse_plans(f, plan, target_margin))

    return cached(
        request, response, "collapse_plans", answer, f=f, plan=plan, target=str(target_margin)
    )


@router.get("/lineage", response_model=Ingests)
def lineage(request: Request, response: Response, key: ReadKey) -> Ingests:
    """Every ingest with its source, counts and status (`unitecon lineage`)."""
    return cached(request, response, "lineage", lambda: ask(request, lambda a: a.lineage()))


@router.get("/endpoints/{endpoint}/spans", response_model=EndpointSpans)
def endpoint_spans(request: Request, key: ReadKey, endpoint: str) -> EndpointSpans:
    """The timed spans of one self-hosted endpoint (`unitecon audit`)."""
    return ask(request, lambda a: a.endpoint_spans(endpoint))


@router.get("/workload", response_model=Workload)
def workload(
    request: Request,
    key: ReadKey,
    feature: Annotated[str, Query(description="The feature to measure.")],
    since: Annotated[dt.date | None, Query()] = None,
    until: Annotated[dt.date | None, Query()] = None,
) -> Workload:
    """A feature's token mix and peak load (`unitecon selfhost compare --from-ledger`)."""
    got: Workload = ask(request, lambda a: a.workload(feature, since, until))
    return got


@router.get("/measure", response_model=Measured)
def measure(
    request: Request,
    key: ReadKey,
    feature: Annotated[str, Query(description="The feature to measure.")],
    since: Annotated[dt.date | None, Query()] = None,
    until: Annotated[dt.date | None, Query()] = None,
) -> Measured:
    """A feature's variable cost, tasks and successful tasks in a window (a TCO model's
    `from_ledger`, `unitecon tco`)."""
    got: Measured = ask(request, lambda a: a.measure(feature, since, until))
    return got


@router.post("/measure/whatif", response_model=Measured)
def measure_whatif(request: Request, key: ReadKey, body: MeasureWhatIf) -> Measured:
    """`/measure` after a what-if scenario is replayed on the feature's traffic (a TCO
    model's `from_ledger` with `whatif:`, `unitecon tco`)."""
    got: Measured = ask(request, lambda a: a.measure_whatif(body))
    return got


@router.post("/whatif", response_model=WhatIfResult)
def whatif(request: Request, key: ReadKey, scenario: Scenario) -> WhatIfResult:
    """The ledger's traffic replayed under a scenario (the YAML file of `unitecon whatif`,
    as JSON), against the baseline."""
    return ask(request, lambda a: a.whatif(scenario))
