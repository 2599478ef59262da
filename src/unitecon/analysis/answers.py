"""The answers of the analysis core: one model per question, what the CLI prints with `--json`
and the read API returns (the OpenAPI schema documents them).

Money is `Decimal` in US dollars and travels in JSON as a decimal string (`"12.345"`), never
as a float, so totals reconcile to the cent. Counts are integers; shares are floats in [0, 1].
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    field_validator,
    model_serializer,
)

from unitecon.models.scenario import Scenario


class Model(BaseModel):
    """An answer. Its validator and serializer are built when it is first used, not when
    this module is imported: a command uses one or two of the answers, and building all of
    them took 30-40 ms of every command (`defer_build`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, v: Any) -> Any:
        """Every instant is UTC: an engine that hands one back without its zone (Spark)
        gets it, so each engine's answer is the same."""
        if isinstance(v, dt.datetime) and v.tzinfo is None:
            return v.replace(tzinfo=dt.UTC)
        return v

    @model_serializer(mode="wrap")
    def _scaled(self, handler: Any, info: SerializationInfo) -> Any:
        """In JSON, money to the micro-dollar, unit rates to 1e-9, ratios to 1e-6, zero
        "0" (`unitecon.economics.quantize`, docs/metrics.md); exact Decimals in Python."""
        data = handler(self)
        if info.mode != "json":
            return data
        from unitecon.economics.quantize import for_json

        return for_json(data)


class Health(Model):
    """Liveness and the writer's counters (no data, no key needed)."""

    status: str
    """`ok` while the writer runs."""
    version: str
    spans_written: int
    """Events committed by the service since it started."""
    queue_rows: int
    """Events accepted and not in the ledger yet: queued, or acknowledged and spooled."""
    refused: int
    """Requests answered 503 because the queue was full, since start."""


class Filters(Model):
    """The filters a request applied (echoed back)."""

    since: dt.date | None = None
    """From this UTC day, inclusive."""
    until: dt.date | None = None
    """Up to this UTC day, exclusive."""
    feature: str | None = None
    customer: str | None = None


class DimensionInfo(Model):
    """A dimension of the registry (`unitecon.ledger.dimensions`)."""

    name: str
    label: str
    uses: list[str]
    """The questions that accept it: costs, units, margins, filter, coverage."""


class FilterChoices(Model):
    """What the dashboard's filters can choose from."""

    first_day: dt.date | None
    """The earliest UTC day in the ledger."""
    last_day: dt.date | None
    """The latest UTC day in the ledger."""
    features: list[str]
    customers: list[str]
    events: int
    """Events in the ledger."""
    dimensions: list[DimensionInfo] = Field(default_factory=list)
    """Every dimension and where it is allowed (the one registry)."""


class CostRow(Model):
    """Cost of one combination of the requested dimensions."""

    dims: dict[str, str | None]
    """Dimension name -> value (days and months as ISO dates; null = not set)."""
    cost: Decimal
    """USD, priced at query time from the catalog."""
    events: int
    input_tokens: int
    output_tokens: int
    unpriced_events: int
    """Events with no price (see /api/v1/prices/missing); they count as 0 here."""


class Costs(Model):
    """Cost by dimension and period."""

    by: list[str]
    filters: Filters
    total_cost: Decimal
    """Variable cost of the window and filters (USD): the sum of every row, also the rows
    past `limit`."""
    total_rows: int = 0
    """Rows in all (`rows` holds the first `limit`)."""
    rows: list[CostRow]


class QuarantineRecord(Model):
    """A record that could not become an event, kept with its reason."""

    source: str
    location: str
    """Where it came from: `file:line`, `otlp-http#span_id`, ..."""
    reason: str
    raw: str | None
    ingest_id: str
    quarantined_at: dt.datetime


class Quarantine(Model):
    total: int
    records: list[QuarantineRecord]


class MissingPrice(Model):
    """A model in the ledger with no price, its volume and the override to add."""

    provider: str | None
    model: str
    events: int
    input_tokens: int
    output_tokens: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    reason: str
    """Why it has no price (unknown model, no price on those dates, ...)."""
    snippet: str
    """The project-file entry to add, prices left as TODO."""


class Table(Model):
    """Rows computed by an economics function, as it returns them (money as strings)."""

    filters: Filters
    columns: list[str]
    """Column names, in order."""
    rows: list[dict[str, Any]]
    notes: list[str] = Field(default_factory=list)
    """Caveats the computation reported (e.g. unpriced events left out)."""


class UnitMetrics(Table):
    """Unit metrics per value of a dimension, and the window's conserved totals:
    variable + fixed + idle = total (USD, for the window `since`..`until`)."""

    by: str
    loaded: bool
    since: dt.datetime
    until: dt.datetime
    variable_cost: Decimal
    fixed_cost: Decimal
    idle_cost: Decimal
    total_cost: Decimal
    fixed_charges: list[dict[str, Any]] = Field(default_factory=list)
    """Each fixed cost's monthly charge in the window: name, month, amount (USD)."""
    one_time_costs: list[dict[str, Any]] = Field(default_factory=list)
    """With `loaded`: each one-time cost amortized per period and over lifetime executions
    (`attribution.fixed.OneTimeView`), and the method the figures use."""

    def with_columns(self) -> UnitMetrics:
        self.columns = list(self.rows[0]) if self.rows else []
        return self


class AsymmetryTable(Table):
    """Input vs output cost per model or feature over the window (API calls): for input,
    output, cache reads and reasoning, tokens, cost, share of the token cost and cost per 1k
    tokens (USD, for the window `since`..`until`)."""

    by: str
    since: dt.datetime
    until: dt.datetime


class MarginTable(Table):
    """Margins rolled up by `by`, worst first, with their totals (USD, for the window)."""

    by: str
    month: str | None = None
    cost_source: str
    """`attribution` (tokens + unit prices + GPU time) or `pricing` (tokens only)."""
    fixed_basis: str
    """`allocated` (the project's fixed costs by driver) or `plan` (the plans' F)."""
    fixed_window: dict[str, Any] | None = None
    """The window's fixed costs and idle GPU cost, and how idle is shown."""
    total: dict[str, Decimal] = Field(default_factory=dict)
    """revenue, variable_cost, fixed_cost, gross_margin, plan_fixed_cost summed over rows."""
    concentration: dict[str, Any] = Field(default_factory=dict)
    """How concentrated variable cost is across customers (Gini, top shares, Lorenz)."""
    window: dict[str, Any] | None = None
    """The days revenue and cost cover: since, until (exclusive), last_day, days."""
    losing_money: dict[str, Any] = Field(default_factory=dict)
    """Customers losing money over the window, by definition (`margins.LOSING_MONEY`)."""


class TaskNode(Model):
    """One span of a task's agent tree; `children` nest."""

    span_id: str
    operation: str
    label: str
    """What it was: `chat gpt-4.1`, `invoke_agent planner`, `execute_tool search`..."""
    agent: str | None = None
    model: str | None = None
    cost: Decimal
    """Own cost (leaves only; structural spans are 0), USD."""
    inclusive_cost: Decimal
    """This node and everything below it, USD."""
    status: str | None = None
    duration_ms: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    children: list[TaskNode] = Field(default_factory=list)


class TaskTree(Model):
    """One task: its totals and its tree."""

    task_id: str
    cost: Decimal
    calls: int
    """Leaf calls (model calls, tools, units)."""
    depth: int
    fan_out: int
    agents: dict[str, dict[str, Decimal]]
    """Agent -> {own, inclusive} cost, USD."""
    roots: list[TaskNode]
    outcome: str | None = None
    """success, failure or unknown (the last known `accepted`)."""
    supervisor: str | None = None
    supervisor_overhead: Decimal | None = None
    """The supervisor agent's own cost / the task's cost."""


class SelfHostRequest(Model):
    """A workload to price self-hosted against an API model."""

    # a request body of the service: built with the module, as the service's framework
    # expects of a body's model (deferred, it warns that the body's alias has no effect)
    model_config = ConfigDict(extra="forbid", defer_build=False)

    model: str = Field(examples=["Llama-3.1-70B"])
    """Open-weights model to self-host (see /api/v1/selfhost/catalog)."""
    api_model: str = Field(examples=["openai:gpt-4.1"])
    """API model to compare with, optionally `provider:model`."""
    input_len: int = Field(gt=0)
    """Mean input tokens per request (cached included)."""
    output_len: int = Field(gt=0)
    """Mean output tokens per request."""
    cached_share: float = Field(0.0, ge=0, le=1)
    """Share of input tokens that are cache reads."""
    peak_tokens_per_s: float = Field(gt=0)
    """Peak input + output tokens per second."""
    peak_to_average: float = Field(3.0, ge=1)
    """Peak / average load."""
    plan: str = Field("reserved", pattern="^(on_demand|reserved|spot)$")
    """Rank by this GPU price plan."""
    tpot_ms: float = Field(50, gt=0)
    """Latency target: time per output token [ms]."""
    ttft_ms: float = Field(2000, gt=0)
    """Latency target: time to first token [ms]."""
    gpu_prices: dict[str, Decimal] = Field(default_factory=dict)
    """GPU id -> USD per GPU-hour on demand (default: the catalog's mid price)."""
    top: int = Field(10, ge=1, le=100)


class SelfHostOption(Model):
    gpu: str
    gpu_id: str
    num_gpus: int
    precision: str
    replicas: int
    tokens_per_s_per_replica: float
    tpot_ms: float
    ttft_ms: float
    bound: str
    monthly_usd: dict[str, Decimal]
    """Plan -> USD per month for the fleet."""
    usd_per_mtok: dict[str, Decimal]
    """input/output -> USD per million tokens at the fleet's utilization."""
    break_even_mtok_per_month: Decimal
    calibrated: bool
    """False when the configuration is outside the performance model's calibration data."""
    throughput_band: list[float]
    """[low, high] multipliers on the predicted throughput from calibration coverage."""
    coverage_warning: str | None
    """What is outside the calibration data, when something is."""
    warning: str | None
    price_status: str = "unsourced"
    """'override', or the GPU catalog's 'sourced' / 'unsourced' per-GPU price."""
    price_source: str = ""
    """Where the catalog's per-GPU price was seen (URLs, dates); empty when unsourced."""


class SelfHostComparison(Model):
    api_model: str
    api_usd_per_mtok_blended: Decimal
    monthly_mtok: float
    api_monthly_usd: Decimal
    plan: str
    options: list[SelfHostOption]
    ranking_note: str | None
    """Set whenever the first option is outside the calibration data."""
    skipped: list[str]


class SelfHostCatalog(Model):
    models: list[str]
    gpus: dict[str, str]
    """GPU id -> name."""


class KeyListing(Model):
    key_id: str
    kind: str
    name: str
    created_at: str
    revoked_at: str | None


# ---- governance: budgets, anomalies, runaway tasks, tagging coverage, alerts -------------


class BudgetSummary(Model):
    """One budget's month: spend to date, month-end forecast with its 80% range, alerts."""

    name: str
    where: dict[str, str]
    """The budget's scope, e.g. {feature: support-agent}; empty = all spend."""
    month: str
    """YYYY-MM."""
    as_of: dt.date
    """Spend is counted up to this UTC day (exclusive): the day after the last event."""
    budget: Decimal
    """USD per month."""
    actual: Decimal
    """Spent so far this month, USD."""
    used: Decimal
    """actual / budget (a fraction: 0.68 = 68%)."""
    forecast: Decimal
    """Month-end spend forecast: actual + the remaining days' expected cost, USD."""
    forecast_low: Decimal
    """80% range of the forecast, low end (never below actual), USD."""
    forecast_high: Decimal
    runs_out: dt.date | None
    """First day on which actual plus forecast reaches the budget (null: not this month)."""
    status: str
    """`ok`, `warning` (an alert threshold reached), `forecast over`, `over budget`."""
    alerts: list[str]
    """Alert messages: the highest threshold reached by the actual and the forecast."""


class BudgetDay(Model):
    """One day of a budget's burn-up: cumulative spend, or the cumulative forecast."""

    day: dt.date
    spent: Decimal | None
    """Cumulative spend to the end of this day (null from `as_of` on), USD."""
    forecast: Decimal | None
    """Cumulative forecast (null before the last day with data), USD."""
    forecast_low: Decimal | None
    """80% range of the cumulative forecast, USD."""
    forecast_high: Decimal | None


class BudgetState(BudgetSummary):
    """A budget's month with its burn-up, day by day."""

    days: list[BudgetDay]


class Budgets(Model):
    """Every budget of the project file for one month."""

    month: str | None
    """YYYY-MM (null: the ledger is empty)."""
    as_of: dt.date | None
    budgets: list[BudgetState]
    notes: list[str] = Field(default_factory=list)


class AnomalyContributor(Model):
    """A value of a second dimension whose cost rose most above its usual that day."""

    dim: str
    value: str
    cost: Decimal
    """Its cost on the anomaly's day, USD."""
    usual: Decimal
    """Its mean daily cost over the history, USD."""
    above_usual: Decimal
    """cost - usual, USD."""


class SpendAnomaly(Model):
    """A day whose spend in one series is far above the weekday-adjusted baseline."""

    dim: str
    """`total` (all spend), or the dimension of the series: feature, customer_id, model..."""
    value: str
    """The series' value (`total` for all spend; `(none)`: events without one)."""
    day: dt.date
    cost: Decimal
    """The day's cost in this series, USD."""
    expected: Decimal
    """What the weeks before predict for that weekday, USD."""
    impact: Decimal
    """cost - expected, USD: how anomalies are ranked."""
    ratio: float | None
    """cost / expected (null when expected is 0)."""
    score: float | None
    """Robust z-score (null when the history is constant)."""
    contributors: list[AnomalyContributor]
    """What drove it (only the largest anomalies are explained)."""


class DaySpend(Model):
    day: dt.date
    cost: Decimal
    """Variable cost of the day (leaf calls), USD."""


class Anomalies(Model):
    """Spend anomalies of a period, largest impact first, and the daily spend they sit on."""

    filters: Filters
    first_day: dt.date | None
    """The first day tested (days before it only serve as history)."""
    as_of: dt.date | None
    """Days up to this one (exclusive) are tested."""
    period_cost: Decimal
    """Spend over the days tested, USD."""
    daily: list[DaySpend]
    """Spend per day over the days tested (the total of the filtered events)."""
    total: int
    """Anomalies found (`anomalies` holds the `top` largest)."""
    anomalies: list[SpendAnomaly]


class RunawayTask(Model):
    """A task with far more calls than the other tasks of its feature (an agent loop)."""

    task: str
    feature: str | None
    customer_id: str | None
    calls: int
    cost: Decimal
    """USD."""
    started: dt.datetime
    ended: dt.datetime
    minutes: float
    calls_limit: int
    """Calls above which a task of its feature is flagged."""
    agent: str | None
    """The agent that made most of its calls."""
    agent_calls: int


class RunawayTasks(Model):
    filters: Filters
    total: int
    """Runaway tasks found (`rows` holds the `top` most expensive)."""
    rows: list[RunawayTask]


class UntaggedSource(Model):
    source: str
    """The file or receiver the untagged events came from."""
    cost: Decimal


class TagCoverage(Model):
    """How much of the spend carries one business tag."""

    dimension: str
    cost: Decimal
    tagged_cost: Decimal
    untagged_cost: Decimal
    cost_coverage: Decimal | None
    """tagged_cost / cost (a fraction; null: no cost)."""
    calls: int
    tagged_calls: int
    call_coverage: Decimal | None
    """tagged_calls / calls (a fraction; null: no calls)."""
    top_untagged_sources: list[UntaggedSource]


class Coverage(Model):
    filters: Filters
    rows: list[TagCoverage]


class Alerts(Model):
    """Everything needing attention now (as `unitecon alerts --json`)."""

    as_of: dt.date | None
    days: int
    budgets: list[BudgetSummary]
    """The latest month's budgets with an alert."""
    anomalies: list[SpendAnomaly]
    """Anomalies of the last `days` days."""
    runaway_tasks: list[RunawayTask]
    """Runaway tasks started in the last `days` days."""


# ---- the summary a board reads (the report's headline) -------------------------------------


class MonthSummary(Model):
    """One month of the window: revenue, fully loaded cost and margin (USD)."""

    month: dt.date
    """The month's first day."""
    revenue: Decimal
    variable_cost: Decimal
    fixed_cost: Decimal
    """Allocated fixed costs and idle self-hosted GPU time of the month."""
    gross_margin: Decimal
    """revenue - variable_cost - fixed_cost."""
    gross_margin_pct: Decimal | None
    tasks: int
    successful_tasks: int
    cost_per_successful_task: Decimal | None
    """(variable + fixed) / successful tasks of the month, USD."""


class CollapsedCustomer(Model):
    """A customer whose usage is past the plan's zero-margin line (u0)."""

    customer_id: str
    plan: str
    usage: Decimal
    """Monthly run rate, in the plan's unit."""
    u0: Decimal | None
    """The usage at which this customer's gross margin reaches 0."""
    revenue: Decimal
    gross_margin: Decimal
    """Over the window, USD."""
    monthly_margin: Decimal
    """A month's gross margin at the run rate, USD."""


class Summary(Model):
    """The headline of a period, what the report opens with (USD, for `since`..`until`).

    Fully loaded cost = variable + fixed + idle (`unit metrics`); revenue and gross margin
    from `margins`; budgets, anomalies, runaway tasks and collapse as their own questions.
    """

    filters: Filters
    since: dt.datetime
    """First instant of the period (UTC)."""
    until: dt.datetime
    """End of the period, exclusive (UTC)."""
    variable_cost: Decimal
    """Tokens, unit prices and busy self-hosted GPU time."""
    fixed_cost: Decimal
    """The project file's fixed costs in the period."""
    idle_cost: Decimal
    """Self-hosted GPU time provisioned and not used."""
    total_cost: Decimal
    """Fully loaded AI cost: variable + fixed + idle."""
    revenue: Decimal
    gross_margin: Decimal
    """revenue - fully loaded cost (margins' fixed cost holds fixed and idle)."""
    gross_margin_pct: Decimal | None
    tasks: int
    successful_tasks: int
    cost_per_successful_task: Decimal | None
    """Fully loaded cost / successful tasks, USD."""
    variable_cost_per_successful_task: Decimal | None
    months: list[MonthSummary]
    """The trend, month by month."""
    budgets: list[BudgetSummary]
    """The budgets of the period's last month."""
    budget_month: str | None
    customers_past_collapse: list[CollapsedCustomer]
    """Customers past their plan's zero-margin usage, worst monthly margin first."""
    anomalies: int
    top_anomalies: list[SpendAnomaly]
    runaway_tasks: int
    top_runaway_tasks: list[RunawayTask]
    notes: list[str] = Field(default_factory=list)


# -- the questions the command line asks beside a running service (issue 15) -------------
class Outcomes(Model):
    """Per task kind (or feature): tasks by outcome, spend, cost per (successful) task,
    rework; and the supervisor overhead of multi-agent tasks (`unitecon outcomes`)."""

    filters: Filters
    by: str
    """kind (the task type) or feature."""
    outcomes: list[dict[str, Any]]
    supervisor_overhead: list[dict[str, Any]]


class Ingests(Model):
    """The ledger's lineage: every ingest (and forget), oldest first (`unitecon lineage`)."""

    rows: list[dict[str, Any]]


class EndpointSpans(Model):
    """The timed spans of one self-hosted endpoint, column by column (`unitecon audit`)."""

    endpoint: str
    start_s: list[float]
    """Start, seconds since the epoch."""
    duration_ms: list[float]
    ttft_ms: list[float | None]
    input_tokens: list[int]
    output_tokens: list[int]


class WhatIfResult(Model):
    """A scenario replayed on the ledger's traffic against the baseline (`unitecon whatif`):
    `economics.whatif.WhatIf.as_dict`."""

    result: dict[str, Any]


class MeasureWhatIf(BaseModel):
    """A feature measured after a what-if scenario is replayed on its traffic: the body of
    `POST /api/v1/measure/whatif` (a TCO model's `from_ledger` with `whatif:`)."""

    feature: str
    since: dt.date | None = None
    until: dt.date | None = None
    scenario: Scenario
