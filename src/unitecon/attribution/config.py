"""Project-file sections of the attribution stage: `endpoints`, `unit_prices`, `fixed_costs`,
`allocation`.

Money is `Decimal` [USD]; units live in the field names (`usd_per_gpu_hour`, `power_kw`).
Every model forbids unknown keys, so a typo is an error naming the file, line and field.

Example::

    endpoints:
      llama-70b:
        gpu: H100
        gpu_count: 8
        hourly: {on_demand: 3.90, reserved: 2.60}   # per GPU-hour
        billing: reserved
    unit_prices:
      - {unit_type: web_search, usd_per_1000: 10}
      - {unit_type: review_second, usd_per_hour: 45}
    fixed_costs:
      - {name: platform team, monthly: 30000, driver: requests}
      - {name: fine-tune, amount: 12000, start: 2026-01-01, amortize_months: 12,
         feature: support, driver: tasks}
    allocation: {idle: share}
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RateKind = Literal["on_demand", "reserved", "spot"]
Driver = Literal["even", "requests", "tokens", "tasks", "variable_cost", "metric"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EndpointConfig(_Strict):
    """A self-hosted deployment, priced by GPU time. Either `hourly` + `billing`, or
    `capital_cost` + `life_months` (with optional power)."""

    gpu: str
    """GPU type, as in the GPU table (`H100`, `A100-80GB`, ...)."""
    gpu_count: int = Field(ge=1)
    """GPUs serving the endpoint (all replicas)."""
    hourly: dict[RateKind, Decimal] = Field(default_factory=dict)
    """Rented price per GPU-hour [USD/GPU-h] by kind: on_demand, reserved, spot."""
    billing: RateKind | None = None
    """Which of `hourly` applies (default: the only one given)."""
    capital_cost: Decimal | None = Field(default=None, ge=0)
    """Owned hardware: purchase price of the whole endpoint [USD]."""
    residual_value: Decimal = Field(default=Decimal(0), ge=0)
    """Owned hardware: value at the end of its life [USD]."""
    life_months: int | None = Field(default=None, ge=1)
    """Owned hardware: straight-line depreciation life [months of 730 h]."""
    power_kw: Decimal = Field(default=Decimal(0), ge=0)
    """Owned hardware: average draw of the whole endpoint [kW]."""
    usd_per_kwh: Decimal = Field(default=Decimal(0), ge=0)
    """Electricity price [USD/kWh]."""
    pue: Decimal = Field(default=Decimal(1), ge=1)
    """Power usage effectiveness of the facility (1 = none)."""
    concurrency: Decimal = Field(default=Decimal(1), gt=0)
    """Average requests served at once (batching); a call uses gpu_count/concurrency GPUs."""
    prefill_tokens_per_s: Decimal = Field(default=Decimal(5000), gt=0)
    """Input tokens per second one request sees, used only when a call has no duration."""
    decode_tokens_per_s: Decimal = Field(default=Decimal(40), gt=0)
    """Output tokens per second one request sees, used only when a call has no duration."""
    active_from: dt.datetime | None = None
    """Provisioned since (UTC; default: the start of the analysed window)."""
    active_until: dt.datetime | None = None
    """Provisioned until, exclusive (UTC; default: the end of the analysed window)."""
    models: list[str] = Field(default_factory=list)
    """Models it serves (informational)."""

    @model_validator(mode="after")
    def _one_cost_basis(self) -> EndpointConfig:
        owned = self.capital_cost is not None
        if owned == bool(self.hourly):
            raise ValueError("give either `hourly` (+ `billing`) or `capital_cost` + `life_months`")
        if owned and self.life_months is None:
            raise ValueError("`capital_cost` needs `life_months` (depreciation life)")
        if self.hourly and self.rate_kind not in self.hourly:
            raise ValueError(
                f"`billing: {self.billing}` has no price in `hourly` "
                f"(given: {', '.join(self.hourly)}); add it or pick one of those"
            )
        return self

    @property
    def rate_kind(self) -> RateKind | None:
        if self.billing is not None:
            return self.billing
        return next(iter(self.hourly)) if len(self.hourly) == 1 else None


class UnitPrice(_Strict):
    """Price of a non-token unit (`unit_type`), or of an embedding model's input tokens
    (`model` + `usd_per_mtok`). Exactly one price field."""

    unit_type: str | None = None
    """The event's `unit_type` it prices: web_search, vector_query, review_second, ..."""
    model: str | None = None
    """An embedding (or other) model priced per input token instead."""
    usd_per_unit: Decimal | None = Field(default=None, ge=0)
    """[USD/unit]."""
    usd_per_1000: Decimal | None = Field(default=None, ge=0)
    """[USD/1,000 units], e.g. a web-search API."""
    usd_per_hour: Decimal | None = Field(default=None, ge=0)
    """For time units in seconds (review_second): loaded hourly rate [USD/h]."""
    usd_per_mtok: Decimal | None = Field(default=None, ge=0)
    """With `model`: [USD/million input tokens]."""

    @model_validator(mode="after")
    def _one_price(self) -> UnitPrice:
        if (self.unit_type is None) == (self.model is None):
            raise ValueError("give exactly one of `unit_type` or `model`")
        prices = [self.usd_per_unit, self.usd_per_1000, self.usd_per_hour, self.usd_per_mtok]
        if sum(p is not None for p in prices) != 1:
            raise ValueError(
                "give exactly one price: usd_per_unit, usd_per_1000, usd_per_hour "
                "or (with `model`) usd_per_mtok"
            )
        if (self.model is not None) != (self.usd_per_mtok is not None):
            raise ValueError("`model` goes with `usd_per_mtok` (and only with it)")
        return self

    @property
    def price(self) -> tuple[Decimal, int]:
        """(numerator, per): cost = quantity x numerator / per, exact."""
        if self.usd_per_unit is not None:
            return self.usd_per_unit, 1
        if self.usd_per_1000 is not None:
            return self.usd_per_1000, 1000
        if self.usd_per_hour is not None:
            return self.usd_per_hour, 3600
        assert self.usd_per_mtok is not None
        return self.usd_per_mtok, 1_000_000


class FixedCost(_Strict):
    """A cost no single call causes. One-time (`amount`) or recurring (`monthly`,
    `usd_per_hour`, or `gb` x `usd_per_gb_month`)."""

    name: str
    """Shown on reports."""
    amount: Decimal | None = Field(default=None, ge=0)
    """One-time cost [USD]: amortized over `amortize_months` or `amortize_tasks`, else
    expensed on `start`."""
    amortize_months: int | None = Field(default=None, ge=1)
    """Spread a one-time cost evenly over this many calendar months from `start`."""
    amortize_tasks: int | None = Field(default=None, ge=1)
    """Spread a one-time cost over this many tasks (in scope) from `start`."""
    monthly: Decimal | None = Field(default=None, ge=0)
    """Recurring cost [USD/month], prorated by time within a month."""
    usd_per_hour: Decimal | None = Field(default=None, ge=0)
    """Recurring cost [USD/h] (a cluster billed by the hour)."""
    gb: Decimal | None = Field(default=None, ge=0)
    """Storage size [GB], with `usd_per_gb_month`."""
    usd_per_gb_month: Decimal | None = Field(default=None, ge=0)
    """Storage price [USD/GB-month]."""
    start: dt.date | None = None
    """First day it applies (default: always)."""
    end: dt.date | None = None
    """Day it stops applying, exclusive (default: never)."""
    feature: str | None = None
    """Scope: only this feature carries it (default: all)."""
    agent: str | None = None
    """Scope: only this agent carries it (default: all)."""
    driver: Driver = "variable_cost"
    """How it is split over the rows of a report."""
    metric: str | None = None
    """With `driver: metric`: an event column (`units`, `duration_ms`, ...) or `tags.KEY`."""

    @model_validator(mode="after")
    def _check(self) -> FixedCost:
        kinds = [
            self.amount is not None,
            self.monthly is not None,
            self.usd_per_hour is not None,
            self.gb is not None or self.usd_per_gb_month is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError(
                "give exactly one of: amount (one-time), monthly, usd_per_hour, "
                "gb + usd_per_gb_month"
            )
        if (self.gb is None) != (self.usd_per_gb_month is None):
            raise ValueError("`gb` and `usd_per_gb_month` go together")
        if self.amount is None and (self.amortize_months or self.amortize_tasks):
            raise ValueError("amortize_months/amortize_tasks apply to a one-time `amount`")
        if self.amortize_months and self.amortize_tasks:
            raise ValueError("amortize over months or over tasks, not both")
        if self.amount is not None and self.start is None:
            raise ValueError("a one-time `amount` needs `start` (when it was spent)")
        if self.feature and self.agent:
            raise ValueError("scope to a feature or to an agent, not both")
        if (self.driver == "metric") != (self.metric is not None):
            raise ValueError("`driver: metric` goes with `metric: COLUMN` (and only with it)")
        if self.metric is not None:
            _check_metric(self.metric)
        return self


def _check_metric(metric: str) -> None:
    """A metric driver names a numeric event column or a tag (`tags.KEY`)."""
    import pyarrow as pa

    from unitecon.ledger.schema import EVENT_SCHEMA

    if metric.startswith("tags."):
        if not metric[5:]:
            raise ValueError("`metric: tags.KEY` needs the tag's key after `tags.`")
        return
    numeric = sorted(
        f.name
        for f in EVENT_SCHEMA
        if pa.types.is_integer(f.type)
        or pa.types.is_floating(f.type)
        or pa.types.is_decimal(f.type)
    )
    if metric not in numeric:
        raise ValueError(
            f"`metric: {metric}` is not a numeric event column; use one of "
            f"{', '.join(numeric)}, or tags.KEY"
        )


class AllocationConfig(_Strict):
    """How shared costs are shown."""

    idle: Literal["line", "share"] = "line"
    """Idle GPU cost of self-hosted endpoints: its own line, or shared over the rows that
    used the endpoint, by their GPU cost."""
