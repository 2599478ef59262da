"""Total cost of ownership of an AI capability over a horizon, per alternative (models stage).

A `TcoModel` (the YAML file, validated with ``extra='forbid'``) holds the volume, the value
of the work, and alternatives (status quo, API, self-hosted, hybrid with a router). Each
alternative's cash flows per month ``t = 0..N`` (``t = 0`` is the upfront month: purchases
and one-time costs only) are built from these lines [USD/month], each rounded to cents:

    variable      AI tasks_t · share_s · c_s                       (API / measured unit cost)
    GPUs rented   replicas_t · G · r_gpu · 730 h
                  replicas_t = max(R_min, ceil(AI tasks_t · share_s · k / 730 h / C))
    GPUs owned    servers · capex at t = 0, sized for the larger peak of month 1 and month N
                  power  = servers · P̄ [kW] · PUE · $/kWh · 730 h
                  colo   = servers · P_contracted [kW] · $/kW-month
    capex         amount · count at the purchase month m;
                  back as residual value at m + life, or at N the book value
                  amount · (1 - (1 - residual share) · (N - m) / life)
    opex, data pipeline stages: monthly from..until; one-time at its month
    people        FTE · loaded annual salary / 12
    labeling      items per month · $/item

with C a replica's capacity at the latency target [tasks/replica-hour] (given, or from the
performance model: `resolve_perf`), k the peak/average ratio and G GPUs per replica.
Volume: tasks_t = V · (1 + g)^(t-1); AI tasks and value as in `unitecon.models.value`.

A route's c_s and the volume's V may be measured from the ledger instead (`from_ledger`,
filled in by `resolve_ledger` with a `measure` function the caller queries the ledger with):

    c_s = cost / tasks          (`per: task`; `economics.metrics.cost_per_task`)
        = cost / successful     (`per: successful_task`; `metrics.cost_per_successful_task`)
    V   = tasks · (730 / 24) / days                                      [tasks/month]

over the feature's events in the window, cost the attribution stage's variable cost.

Net cash flow_t = efficiency value + revenue - cost. NPV, IRR and payback come from
`unitecon.models.finance` at the monthly rate equivalent to the annual discount rate, for each
alternative and for its difference from the baseline. The same code runs exactly (Decimal),
on Monte Carlo draws, and as spreadsheet formulas (`unitecon.models.calc`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from unitecon.errors import UniteconError
from unitecon.models import finance, value
from unitecon.models.calc import DrawEnv, Env, ExactEnv, Q, maximum
from unitecon.models.uncertainty import Num, centrals, is_dist

HOURS_PER_MONTH = 730  # 8760 h / 12, as Infracost and the cloud price lists


class _Strict(BaseModel):
    # the fields' docstrings become their descriptions: the workbook's units come from them
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class FromLedger(_Strict):
    """A feature's measured traffic in the ledger (`unitecon tco` resolves it)."""

    feature: str
    """The feature whose events are measured (the ledger's `feature`)."""
    since: dt.date | None = None
    """First day measured (default: the ledger's first day)."""
    until: dt.date | None = None
    """Day after the last day measured (default: after the ledger's last day)."""


class UnitCostFromLedger(FromLedger):
    """A route's cost per task measured in the ledger."""

    per: Literal["task", "successful_task"] = "task"
    """Divide the feature's variable cost by its tasks, or by its successful tasks."""
    whatif: str | None = None
    """A what-if scenario file (path relative to the TCO file) replayed on the traffic before
    it is measured: the cost per task with those levers (`unitecon whatif`)."""


class Volume(_Strict):
    """How much work there is."""

    tasks_per_month: Num | None = None
    """Tasks in month 1 that the capability could do [tasks/month]."""
    from_ledger: FromLedger | None = None
    """Measure `tasks_per_month` as the feature's tasks per month in the ledger instead."""
    growth_monthly: Num = Decimal(0)
    """Compound volume growth per month [1/month]."""

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        if (self.tasks_per_month is None) == (self.from_ledger is None):
            raise ValueError("give `tasks_per_month` or `from_ledger` (one of them)")
        return self

    input_tokens_per_task: int = 2000
    """Mean input tokens per task (for sizing self-hosted GPUs with the performance model)."""
    output_tokens_per_task: int = 400
    """Mean output tokens per task (for sizing)."""
    cached_share: float = 0.0
    """Share of input tokens served from a prefix cache (for sizing) [0-1)."""


class Adoption(_Strict):
    """Linear ramp of the share of tasks done with the capability."""

    start: Num = Decimal(1)
    """Share in month 1 [0-1]."""
    peak: Num = Decimal(1)
    """Share once ramped up [0-1]."""
    months_to_peak: int = Field(default=0, ge=0)
    """Months from month 1 to the peak share."""


class ValueInputs(_Strict):
    """What a task done with the capability is worth."""

    hours_saved_per_task: Num = Decimal(0)
    """Working time saved per task, against doing it by hand [h/task]."""
    loaded_hourly_cost: Num = Decimal(0)
    """Loaded cost of that time: salary, benefits, overhead [USD/h]."""
    realization: Num = Decimal(1)
    """Share of the saved time actually redeployed to other work [0-1]."""
    revenue_per_task: Num = Decimal(0)
    """Revenue per task where the feature is sold [USD/task]."""
    adoption: Adoption = Field(default_factory=Adoption)
    """Adoption curve."""


class PerfSizing(_Strict):
    """Capacity of one replica from the performance model (`unitecon.models.perf`)."""

    model: str
    """Architecture in the perf catalog (e.g. `llama-3.1-70b`)."""
    gpu: str
    """GPU in the perf catalog (e.g. `H100`)."""
    precision: str = "bf16"
    """Weight precision."""
    tpot_s: float = 0.05
    """Latency target: time per output token [s]."""
    ttft_s: float = 2.0
    """Latency target: time to first token [s]."""


class GpuFleet(_Strict):
    """Self-hosted serving: replicas sized for the peak load."""

    billing: Literal["rented", "owned"]
    """`rented`: pay per GPU-hour, replicas follow the monthly peak; `owned`: servers bought
    upfront, sized for the largest peak of the horizon."""
    gpus_per_replica: int = Field(ge=1)
    """GPUs in one serving replica (tensor parallelism) [GPUs]."""
    tasks_per_replica_hour: Num | None = None
    """Capacity of one replica at the latency target [tasks/h]; from `perf` if omitted."""
    perf: PerfSizing | None = None
    """Derive `tasks_per_replica_hour` from the performance model."""
    peak_to_average: Num = Decimal(3)
    """Busiest hour / average hour [1]."""
    min_replicas: int = Field(default=1, ge=0)
    """Replicas kept up even at no load."""
    usd_per_gpu_hour: Num = Decimal(0)
    """Rented price [USD/GPU-h]."""
    server_capex: Num = Decimal(0)
    """Owned: purchase price of one replica's server [USD]."""
    life_months: int = Field(default=60, ge=1)
    """Owned: depreciation life [months]."""
    residual_share: Num = Decimal(0)
    """Owned: resale value at the end of its life, share of the price [0-1]."""
    kw_average: Num = Decimal(0)
    """Owned: average power draw of one server [kW]."""
    kw_contracted: Num = Decimal(0)
    """Owned: colocation power contracted per server [kW]."""
    pue: Num = Decimal(1)
    """Power usage effectiveness of the facility [1]."""
    usd_per_kwh: Num = Decimal(0)
    """Electricity price [USD/kWh]."""
    colo_usd_per_kw_month: Num = Decimal(0)
    """Colocation price [USD/kW-month]."""

    @model_validator(mode="after")
    def _capacity(self) -> GpuFleet:
        if self.tasks_per_replica_hour is None and self.perf is None:
            raise ValueError("give `tasks_per_replica_hour` or `perf` (model + gpu) to size it")
        return self


class Route(_Strict):
    """A share of the AI tasks served one way (an API, a measured unit cost, a GPU fleet)."""

    name: str
    """Label of the line (e.g. `gpt-4.1 API`)."""
    share: Num = Decimal(1)
    """Share of the AI tasks routed here [0-1]; a hybrid's routes sum to 1."""
    usd_per_task: Num = Decimal(0)
    """Variable cost per task [USD/task] (list price, or measured from the ledger)."""
    from_ledger: UnitCostFromLedger | None = None
    """Measure `usd_per_task` in the ledger instead (`unitecon tco` with a ledger)."""
    gpus: GpuFleet | None = None
    """Self-hosted fleet serving this share."""

    @model_validator(mode="after")
    def _one_source(self) -> Route:
        if self.from_ledger is not None and "usd_per_task" in self.model_fields_set:
            raise ValueError("give `usd_per_task` or `from_ledger`, not both")
        return self


class Capex(_Strict):
    """A purchase, depreciated straight-line to its residual value."""

    name: str
    """Label."""
    amount: Num
    """Price of one unit [USD]."""
    count: int = Field(default=1, ge=0)
    """Units bought."""
    month: int = Field(default=0, ge=0)
    """Purchase month (0 = upfront)."""
    life_months: int = Field(default=36, ge=1)
    """Depreciation life [months]."""
    residual_share: Num = Decimal(0)
    """Resale value at the end of life, share of the price [0-1]."""


class Recurring(_Strict):
    """A running cost (cloud, licence, a data-pipeline stage) and its one-time setup."""

    name: str
    """Label (pipeline stages: ingestion, preprocessing, vector database, training, tuning)."""
    monthly: Num = Decimal(0)
    """Cost per month while active [USD/month]."""
    one_time: Num = Decimal(0)
    """Setup cost paid at `month` [USD]."""
    month: int = Field(default=0, ge=0)
    """Month of the one-time cost."""
    from_month: int = Field(default=1, ge=1)
    """First month of the running cost."""
    until_month: int | None = Field(default=None, ge=1)
    """Last month of the running cost (default: the horizon)."""


class People(_Strict):
    """Staff dedicated to the capability."""

    role: str
    """Label."""
    fte: Num
    """Full-time equivalents [FTE]."""
    loaded_salary_annual: Num
    """Salary with benefits and overhead [USD/FTE-year]."""


class Labeling(_Strict):
    """Data labeling bought per item."""

    name: str = "labeling"
    """Label."""
    items_per_month: Num
    """Items labeled per month [items/month]."""
    usd_per_item: Num
    """Price per item [USD/item]."""


class Alternative(_Strict):
    """One way to run the capability."""

    description: str = ""
    """One line for the report."""
    quality: Num = Decimal(1)
    """Share of the reference time saving achieved [0-1] (0: no AI at all)."""
    routes: list[Route] = Field(default_factory=list)
    """How the AI tasks are served (one route; several for a hybrid with a router)."""
    capex: list[Capex] = Field(default_factory=list)
    """Purchases."""
    opex: list[Recurring] = Field(default_factory=list)
    """Cloud, licences, support."""
    pipeline: list[Recurring] = Field(default_factory=list)
    """Data pipeline stages: ingestion, preprocessing, vector database, training, tuning."""
    people: list[People] = Field(default_factory=list)
    """Staff."""
    labeling: list[Labeling] = Field(default_factory=list)
    """Labeling."""


class Phase(_Strict):
    """One phase of the roadmap the memo shows (`unitecon memo`)."""

    phase: str
    """Name (e.g. `1. Quick wins`)."""
    from_month: int = Field(ge=0)
    """First month of the phase (0 = now)."""
    until_month: int = Field(ge=0)
    """Last month of the phase."""
    action: str
    """What is done, in one line."""
    alternative: str | None = None
    """The alternative this phase puts in place, if any."""


class TcoModel(_Strict):
    """The TCO file."""

    horizon_months: int = Field(default=36, ge=1, le=240)
    """Months modeled after the upfront month 0."""
    discount_rate: Num = Decimal("0.10")
    """Annual discount rate (cost of capital) [1/year]."""
    baseline: str
    """The alternative others are compared with (incremental NPV, IRR, payback, break-even)."""
    volume: Volume
    """Volume and its growth."""
    value: ValueInputs = Field(default_factory=ValueInputs)
    """Value of the work done."""
    alternatives: dict[str, Alternative]
    """The alternatives by name."""
    seed: int = 0
    """Monte Carlo seed."""
    draws: int = Field(default=10_000, ge=1)
    """Monte Carlo draws."""
    roadmap: list[Phase] = Field(default_factory=list)
    """The phased roadmap of the recommendation (shown by the memo)."""

    @model_validator(mode="after")
    def _baseline_known(self) -> TcoModel:
        if self.baseline not in self.alternatives:
            raise ValueError(
                f"baseline {self.baseline!r} is not an alternative; "
                f"choose from: {', '.join(self.alternatives)}"
            )
        return self


# -- inputs ------------------------------------------------------------------------------


def _walk(obj: object, path: str) -> Iterator[tuple[str, Num]]:
    if isinstance(obj, Decimal) or is_dist(obj):
        yield path, obj  # type: ignore[misc]
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name), f"{path}.{name}" if path else name)
    elif isinstance(obj, list):
        for i, x in enumerate(obj):
            yield from _walk(x, f"{path}[{i}]")
    elif isinstance(obj, dict):
        for k, x in obj.items():
            yield from _walk(x, f"{path}.{k}")


def inputs(model: TcoModel) -> dict[str, Num]:
    """Every number of the model by its path (`alternatives.api.routes[0].usd_per_task`)."""
    return dict(_walk(model, ""))


# -- the monthly model -------------------------------------------------------------------

Line = Callable[[int], Q]


def _given(x: Num) -> bool:
    """A line exists unless its amount is a plain zero (a distribution always counts)."""
    return is_dist(x) or x != 0


VOLUME = "Volume"


@dataclass
class Flows:
    """Monthly values (index = month 0..N) of one alternative, in the env's quantity type."""

    lines: dict[str, list[Q]] = field(default_factory=dict)
    cost: list[Q] = field(default_factory=list)
    efficiency: list[Q] = field(default_factory=list)
    revenue: list[Q] = field(default_factory=list)
    net: list[Q] = field(default_factory=list)
    ai_tasks: list[Q] = field(default_factory=list)


class _Builder:
    """Evaluates the model in one env; `lines(alt)` yields the named cost lines."""

    def __init__(self, m: TcoModel, env: Env) -> None:
        check_resolved(m)
        self.m, self.env, self.n = m, env, m.horizon_months
        self.zero = env.money(env.const(0))
        self.hours = env.named(
            "hours_per_month", HOURS_PER_MONTH, "h/month", "convention: 8760 h / 12 (Infracost)"
        )
        self.per_year = env.named("months_per_year", 12, "months/year", "calendar")
        self.ai_tasks = [self._ai_tasks(t) for t in range(self.n + 1)]

    def _ai_tasks(self, t: int) -> Q:
        e, v = self.env, self.m.value.adoption
        if t == 0:
            tasks, share = self.zero, self.zero
        else:
            growth = (1 + e["volume.growth_monthly"]) ** (e.month(t) - 1)
            tasks = e["volume.tasks_per_month"] * growth
            months = e.named("value.adoption.months_to_peak", v.months_to_peak, "months")
            share = value.adoption(
                t,
                e["value.adoption.start"],
                e["value.adoption.peak"],
                v.months_to_peak,
                e.month(t),
                months,
            )
        e.column(VOLUME, "tasks", t, tasks)
        e.column(VOLUME, "adoption", t, share)
        return e.column(VOLUME, "AI tasks", t, tasks * share)

    def monthly(self, x: Q, months: range | None = None) -> Line:
        months = range(1, self.n + 1) if months is None else months
        return lambda t: self.env.money(x) if t in months else self.zero

    def at(self, x: Q, month: int) -> Line:
        return lambda t: self.env.money(x) if t == month else self.zero

    def lines(self, name: str, a: Alternative) -> Iterator[tuple[str, Line]]:
        p = f"alternatives.{name}"
        for i, r in enumerate(a.routes):
            yield from self._route(name, f"{p}.routes[{i}]", r)
        for i, c in enumerate(a.capex):
            yield from self._capex(f"{p}.capex[{i}]", c)
        for group in ("opex", "pipeline"):
            for i, rc in enumerate(getattr(a, group)):
                yield from self._recurring(f"{p}.{group}[{i}]", group, rc)
        e = self.env
        for i, pe in enumerate(a.people):
            q = f"{p}.people[{i}]"
            yield (
                f"people: {pe.role}",
                self.monthly(e[f"{q}.fte"] * e[f"{q}.loaded_salary_annual"] / self.per_year),
            )
        for i, lb in enumerate(a.labeling):
            q = f"{p}.labeling[{i}]"
            yield (
                f"labeling: {lb.name}",
                self.monthly(e[f"{q}.items_per_month"] * e[f"{q}.usd_per_item"]),
            )

    def _route(self, alt: str, q: str, r: Route) -> Iterator[tuple[str, Line]]:
        e = self.env
        share, unit = e[f"{q}.share"], e[f"{q}.usd_per_task"]
        if _given(r.usd_per_task):
            yield f"{r.name}: per task", lambda t: e.money(self.ai_tasks[t] * share * unit)
        if r.gpus is None:
            return
        g, f = r.gpus, f"{q}.gpus"

        floor = e.named(f"{f}.min_replicas", g.min_replicas, "replicas", "TCO file")
        per_replica = e.named(f"{f}.gpus_per_replica", g.gpus_per_replica, "GPUs", "TCO file")

        def replicas(t: int) -> Q:
            peak = self.ai_tasks[t] * share * e[f"{f}.peak_to_average"] / self.hours
            need = e.ceil(peak / e[f"{f}.tasks_per_replica_hour"])
            return maximum(floor, need)

        if g.billing == "rented":
            rate = e[f"{f}.usd_per_gpu_hour"] * per_replica * self.hours

            def rented(t: int) -> Q:
                if t == 0:
                    return self.zero
                n = e.column(alt, f"{r.name}: replicas", t, replicas(t))
                return e.money(n * rate)

            yield f"{r.name}: GPUs rented", rented
            return
        servers = e.scalar(alt, f"{r.name}: servers", maximum(replicas(1), replicas(self.n)))
        yield from self._capex_lines(
            f"{r.name}: servers",
            servers * e[f"{f}.server_capex"],
            0,
            g.life_months,
            e[f"{f}.residual_share"],
            f,
        )
        kw = e[f"{f}.kw_average"] * e[f"{f}.pue"] * e[f"{f}.usd_per_kwh"] * self.hours
        yield f"{r.name}: power", self.monthly(servers * kw)
        colo = e[f"{f}.kw_contracted"] * e[f"{f}.colo_usd_per_kw_month"]
        yield f"{r.name}: colocation", self.monthly(servers * colo)

    def _capex(self, q: str, c: Capex) -> Iterator[tuple[str, Line]]:
        e = self.env
        total = e[f"{q}.amount"] * e.named(f"{q}.count", c.count, "units", "TCO file")
        yield from self._capex_lines(
            f"capex: {c.name}", total, c.month, c.life_months, e[f"{q}.residual_share"], q
        )

    def _capex_lines(
        self, name: str, total: Q, month: int, life: int, residual: Q, path: str
    ) -> Iterator[tuple[str, Line]]:
        yield name, self.at(total, month)
        if month > self.n:
            return
        if month + life <= self.n:
            back, when = total * residual, month + life
        else:
            e = self.env
            horizon = e.named("horizon_months", self.n, "months", "TCO file")
            bought = e.named(f"{path}.month", month, "month", "TCO file") if month else 0
            life_q = e.named(f"{path}.life_months", life, "months", "TCO file")
            used = (e.const(0) + horizon - bought) / life_q
            back, when = total * (1 - (1 - residual) * used), self.n
        yield f"{name} (residual)", lambda t: -self.env.money(back) if t == when else self.zero

    def _recurring(self, q: str, group: str, rc: Recurring) -> Iterator[tuple[str, Line]]:
        e = self.env
        until = min(rc.until_month or self.n, self.n)
        if _given(rc.monthly):
            months = range(rc.from_month, until + 1)
            yield f"{group}: {rc.name}", self.monthly(e[f"{q}.monthly"], months)
        if _given(rc.one_time):
            yield f"{group}: {rc.name} (one-time)", self.at(e[f"{q}.one_time"], rc.month)

    def flows(self, name: str, a: Alternative) -> Flows:
        e, vi, p = self.env, "value", f"alternatives.{name}"
        out = Flows(ai_tasks=self.ai_tasks)
        line_fns = list(self.lines(name, a))
        for t in range(self.n + 1):
            ai = self.ai_tasks[t]
            eff = value.efficiency_value(
                ai,
                e[f"{vi}.hours_saved_per_task"],
                e[f"{vi}.loaded_hourly_cost"],
                e[f"{vi}.realization"],
                e[f"{p}.quality"],
            )
            eff = e.column(name, "efficiency value", t, e.money(eff))
            rev = e.column(
                name, "revenue", t, e.money(value.revenue(ai, e[f"{vi}.revenue_per_task"]))
            )
            cost = self.zero
            for label, fn in line_fns:
                x = e.column(name, label, t, fn(t))
                out.lines.setdefault(label, []).append(x)
                cost = cost + x
            cost = e.column(name, "total cost", t, cost)
            net = e.column(name, "net cash flow", t, eff + rev - cost)
            out.cost.append(cost)
            out.efficiency.append(eff)
            out.revenue.append(rev)
            out.net.append(net)
        return out


def evaluate(m: TcoModel, env: Env) -> dict[str, Flows]:
    """Monthly flows of every alternative in `env` (exact, draws or formulas)."""
    b = _Builder(m, env)
    return {name: b.flows(name, a) for name, a in m.alternatives.items()}


# -- results -----------------------------------------------------------------------------


def _sum(xs: list[Decimal]) -> Decimal:
    return sum(xs, Decimal(0))


def _annual(monthly: Decimal | None) -> Decimal | None:
    if monthly is None:
        return None
    return ((1 + monthly) ** 12 - 1).quantize(Decimal("1e-6"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Incremental:
    """An alternative minus the baseline: is switching worth it?"""

    npv: Decimal
    """NPV of (net cash flow - baseline net cash flow) [USD]."""
    irr_monthly: Decimal | None
    """IRR of the difference [1/month]; None without a sign change."""
    irr_annual: Decimal | None
    """``(1 + IRR_m)^12 - 1`` [1/year]."""
    payback_month: Decimal | None
    """Month the cumulative difference turns non-negative (interpolated); None: never."""
    break_even_tasks_per_month: Decimal | None
    """Month-1 volume at which both cost the same over the horizon (present value), same
    growth and adoption [tasks/month]; None if their costs never cross."""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AltResult:
    """One alternative's monthly cash flows and summary, exact."""

    name: str
    description: str
    lines: dict[str, list[Decimal]]
    cost: list[Decimal]
    efficiency: list[Decimal]
    revenue: list[Decimal]
    net: list[Decimal]
    ai_tasks: list[Decimal]
    npv: Decimal
    pv_cost: Decimal
    irr_monthly: Decimal | None
    payback_month: Decimal | None
    roi: Decimal | None
    roe: Decimal | None
    incremental: Incremental | None

    @property
    def total_cost(self) -> Decimal:
        return _sum(self.cost)

    @property
    def unit_cost(self) -> Decimal | None:
        """Total cost / AI tasks over the horizon [USD/task]."""
        tasks = _sum(self.ai_tasks)
        return (self.total_cost / tasks).quantize(Decimal("1e-6"), ROUND_HALF_UP) if tasks else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "total_cost": self.total_cost,
            "total_efficiency_value": _sum(self.efficiency),
            "total_revenue": _sum(self.revenue),
            "npv": self.npv,
            "pv_cost": self.pv_cost,
            "irr_monthly": self.irr_monthly,
            "irr_annual": _annual(self.irr_monthly),
            "payback_month": self.payback_month,
            "unit_cost": self.unit_cost,
            "roi": self.roi,
            "roe": self.roe,
            "incremental_vs_baseline": self.incremental,
            "monthly": [
                {
                    "month": t,
                    "ai_tasks": finance.cents(self.ai_tasks[t]),
                    "cost": self.cost[t],
                    "efficiency_value": self.efficiency[t],
                    "revenue": self.revenue[t],
                    "net": self.net[t],
                    "cumulative_net": c,
                    "lines": {k: v[t] for k, v in self.lines.items()},
                }
                for t, c in enumerate(finance.cumulative(self.net))
            ],
        }


@dataclass(frozen=True)
class TcoResult:
    model: TcoModel
    monthly_rate: Decimal
    alternatives: dict[str, AltResult]

    def as_dict(self) -> dict[str, Any]:
        return {
            "horizon_months": self.model.horizon_months,
            "discount_rate_annual": central_of(self.model.discount_rate),
            "discount_rate_monthly": self.monthly_rate.quantize(Decimal("1e-12")),
            "baseline": self.model.baseline,
            "alternatives": {k: v.as_dict() for k, v in self.alternatives.items()},
            "roadmap": [p.model_dump() for p in self.model.roadmap],
        }


def central_of(x: Num) -> Decimal:
    return centrals({"x": x})["x"]  # type: ignore[no-any-return]


def run(m: TcoModel) -> TcoResult:
    """The deterministic TCO: every distribution at its central value; money exact."""
    flows = evaluate(m, ExactEnv(centrals(inputs(m))))
    rate = finance.monthly_rate(central_of(m.discount_rate))
    base = flows[m.baseline]
    breakeven = break_even(m)
    out = {}
    for name, f in flows.items():
        eff, rev, cost = _sum(f.efficiency), _sum(f.revenue), _sum(f.cost)
        inc = None
        if name != m.baseline:
            diff = [a - b for a, b in zip(f.net, base.net, strict=True)]
            irr_m = finance.irr(diff)
            inc = Incremental(
                finance.npv(rate, diff),
                irr_m,
                _annual(irr_m),
                finance.payback_period(diff),
                breakeven.get(name),
            )
        out[name] = AltResult(
            name,
            m.alternatives[name].description,
            f.lines,
            f.cost,
            f.efficiency,
            f.revenue,
            f.net,
            f.ai_tasks,
            finance.npv(rate, f.net),
            finance.npv(rate, f.cost),
            finance.irr(f.net),
            finance.payback_period(f.net),
            value.roi(eff, rev, cost),
            value.roe(eff, cost),
            inc,
        )
    return TcoResult(m, rate, out)


# -- vectorized evaluation (Monte Carlo, break-even) -------------------------------------


def _stack(xs: list[Q], n: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.stack([np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in xs], axis=1)


def _pv(flows: np.ndarray[Any, Any], rate_m: Any) -> Any:
    t = np.arange(flows.shape[1])
    df = (1.0 + np.asarray(rate_m, dtype=float)[..., None]) ** -t
    return (flows * df).sum(axis=1)


def payback_vec(flows: np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """`finance.payback_period` per row of a (draws, months) array; NaN = never."""
    cum = np.cumsum(flows, axis=1)
    n = cum.shape[1]
    neg = cum < 0
    any_neg = neg.any(axis=1)
    last_neg = n - 1 - np.argmax(neg[:, ::-1], axis=1)
    out = np.full(cum.shape[0], np.nan)
    ok = any_neg & (last_neg < n - 1)
    rows = np.nonzero(ok)[0]
    t = last_neg[rows] + 1
    out[rows] = t - 1 + (-cum[rows, t - 1]) / flows[rows, t]
    out[~any_neg] = 0.0
    return out


def draw_outputs(m: TcoModel, values: Mapping[str, Any]) -> dict[str, Any]:
    """NPV, incremental NPV, payback and unit cost per alternative for float/array inputs."""
    sizes = [np.size(v) for v in values.values()]
    n = max(sizes) if sizes else 1
    flows = evaluate(m, DrawEnv(values))
    rate_m = (1.0 + np.asarray(values["discount_rate"], dtype=float)) ** (1 / 12) - 1
    base_net = _stack(flows[m.baseline].net, n)
    out: dict[str, Any] = {}
    for name, f in flows.items():
        net, cost = _stack(f.net, n), _stack(f.cost, n)
        tasks = _stack(f.ai_tasks, n).sum(axis=1)
        out[f"npv.{name}"] = _pv(net, rate_m)
        out[f"pv_cost.{name}"] = _pv(cost, rate_m)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"unit_cost.{name}"] = np.where(tasks > 0, cost.sum(axis=1) / tasks, np.nan)
        if name != m.baseline:
            out[f"incremental_npv.{name}"] = _pv(net - base_net, rate_m)
            out[f"payback.{name}"] = payback_vec(net - base_net)
    return out


def break_even(m: TcoModel, points: int = 1201) -> dict[str, Decimal | None]:
    """Month-1 volume where each alternative's PV of cost equals the baseline's.

    Evaluates the model once on a log grid of volumes (1/1000 to 1000 times the given one,
    central inputs) and interpolates the crossing nearest the given volume [tasks/month].
    """
    values = centrals(inputs(m), as_float=True)
    v0 = values["volume.tasks_per_month"]
    grid = v0 * np.logspace(-3, 3, points)
    out = draw_outputs(m, {**values, "volume.tasks_per_month": grid})
    base = out[f"pv_cost.{m.baseline}"]
    res: dict[str, Decimal | None] = {}
    for name in m.alternatives:
        if name == m.baseline:
            continue
        d = out[f"pv_cost.{name}"] - base
        idx = np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) < 0)[0]
        if idx.size == 0:
            res[name] = None
            continue
        i = idx[np.argmin(np.abs(np.log(grid[idx] / v0)))]
        x = grid[i] + (grid[i + 1] - grid[i]) * d[i] / (d[i] - d[i + 1])
        res[name] = Decimal(repr(float(x))).quantize(Decimal(1), ROUND_HALF_UP)
    return res


# -- measured from the ledger -------------------------------------------------------------

DAYS_PER_MONTH = Decimal(HOURS_PER_MONTH) / 24  # 30.416... days, as HOURS_PER_MONTH


@dataclass(frozen=True)
class Measured:
    """A feature's traffic in a window of the ledger."""

    cost: Decimal
    """Variable cost of the feature's events (attribution `var_cost`) [USD]."""
    tasks: int
    """Distinct tasks."""
    successful_tasks: int
    """Tasks whose last known `accepted` is true (`attribution.outcomes`)."""
    days: Decimal
    """Length of the window [days]."""
    per_task: Decimal | None = None
    """cost / tasks, as the economics stage's `metrics.cost_per_task` computed it [USD]."""
    per_successful_task: Decimal | None = None
    """cost / successful tasks (`metrics.cost_per_successful_task`) [USD]."""

    def usd_per_task(self, per: str) -> Decimal | None:
        """Cost per task or per successful task, as measured [USD/task]."""
        return self.per_successful_task if per == "successful_task" else self.per_task

    def tasks_per_month(self) -> Decimal | None:
        """tasks · DAYS_PER_MONTH / days, to whole tasks [tasks/month]."""
        if not self.days:
            return None
        return (self.tasks * DAYS_PER_MONTH / self.days).quantize(Decimal(1), ROUND_HALF_UP)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cost": self.cost,
            "tasks": self.tasks,
            "successful_tasks": self.successful_tasks,
            "days": self.days,
        }


Measure = Callable[[FromLedger], Measured]


def ledger_fields(m: TcoModel) -> list[tuple[str, FromLedger]]:
    """Every `from_ledger` of the model with its path."""
    out: list[tuple[str, FromLedger]] = []
    if m.volume.from_ledger is not None:
        out.append(("volume.from_ledger", m.volume.from_ledger))
    for name, a in m.alternatives.items():
        for i, r in enumerate(a.routes):
            if r.from_ledger is not None:
                out.append((f"alternatives.{name}.routes[{i}].from_ledger", r.from_ledger))
    return out


def resolve_ledger(
    m: TcoModel, measure: Measure, source: str = "TCO file"
) -> tuple[TcoModel, dict[str, dict[str, Any]]]:
    """Fill `usd_per_task` and `tasks_per_month` from the ledger (`measure`), clearing
    `from_ledger`; also return what was measured, by field path. Errors name `source` and
    the field."""
    found: dict[str, dict[str, Any]] = {}

    def get(path: str, f: FromLedger, what: str, value: Callable[[Measured], Any]) -> Any:
        try:
            got = measure(f)
        except UniteconError as e:
            raise UniteconError(f"{source}: {path}: {e}") from e
        x = value(got)
        if x is None:
            raise UniteconError(
                f"{source}: {path}: feature {f.feature!r} has no {what} in the window "
                "measured; widen `since`/`until` or give the number instead"
            )
        found[path] = {"feature": f.feature, "value": x, **got.as_dict()}
        return x

    volume = m.volume
    if volume.from_ledger is not None:
        v = get("volume.from_ledger", volume.from_ledger, "tasks", Measured.tasks_per_month)
        volume = volume.model_copy(update={"tasks_per_month": v, "from_ledger": None})
    alts = {}
    for name, a in m.alternatives.items():
        routes = []
        for i, r in enumerate(a.routes):
            f = r.from_ledger
            if f is not None:
                what = "successful tasks" if f.per == "successful_task" else "tasks"
                path = f"alternatives.{name}.routes[{i}].from_ledger"
                c = get(path, f, what, partial(Measured.usd_per_task, per=f.per))
                r = r.model_copy(update={"usd_per_task": c, "from_ledger": None})
            routes.append(r)
        alts[name] = a.model_copy(update={"routes": routes})
    return m.model_copy(update={"volume": volume, "alternatives": alts}), found


def check_resolved(m: TcoModel) -> None:
    """Refuse a model whose `from_ledger` numbers were not measured yet."""
    left = ledger_fields(m)
    if left:
        raise UniteconError(
            f"{left[0][0]}: measured from the ledger, not resolved yet; run `unitecon tco` "
            "with a ledger (or call tco.resolve_ledger first)"
        )


# -- capacity from the performance model ---------------------------------------------------


def replica_tasks_per_hour(p: PerfSizing, v: Volume, gpus_per_replica: int) -> Decimal:
    """Tasks one replica serves per hour at the latency target [tasks/h]:
    ``(input + output tok/s of a replica) · 3600 / (input + output tokens per task)``."""
    from unitecon.models.perf import calibrate
    from unitecon.models.perf.predict import deployment
    from unitecon.models.perf.serving import Engine, Lengths, at_latency_target
    from unitecon.models.selfhost import replica_tokens_per_s

    lengths = Lengths(v.input_tokens_per_task, v.output_tokens_per_task, v.cached_share)
    dep = deployment(p.model, p.gpu, gpus_per_replica, p.precision)
    point = at_latency_target(dep, calibrate.fitted(), Engine(), lengths, p.tpot_s, p.ttft_s)
    tok_s = replica_tokens_per_s(point, lengths)
    per_task = v.input_tokens_per_task + v.output_tokens_per_task
    return Decimal(repr(tok_s * 3600 / per_task)).quantize(Decimal(1), ROUND_HALF_UP)


def resolve_perf(m: TcoModel) -> TcoModel:
    """Fill each fleet's missing `tasks_per_replica_hour` from the performance model."""
    alts = {}
    for name, a in m.alternatives.items():
        routes = []
        for r in a.routes:
            g = r.gpus
            if g is not None and g.tasks_per_replica_hour is None and g.perf is not None:
                cap = replica_tasks_per_hour(g.perf, m.volume, g.gpus_per_replica)
                r = r.model_copy(
                    update={"gpus": g.model_copy(update={"tasks_per_replica_hour": cap})}
                )
            routes.append(r)
        alts[name] = a.model_copy(update={"routes": routes})
    return m.model_copy(update={"alternatives": alts})
