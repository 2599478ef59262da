"""Project-file section `revenue`: plans, customers, invoice lines and currency rates.

Money is `Decimal` in the plan's currency; `rates` converts it to USD. Every model forbids
unknown keys and cross-checks what it can (a customer's plan must exist, contracts must not
overlap), so a mistake is a `ConfigError` naming the file, line and field.

Example::

    revenue:
      rates: {EUR: "1.08"}                 # USD per 1 unit of the currency
      plans:
        starter: {monthly_fee: 49, fixed_cost_per_customer: 4}
        team:
          per_seat: 30
          usage: [{metric: tasks, included_per_seat: 150, price: "0.08"}]
        support-pro:
          monthly_fee: 99
          usage: [{metric: resolutions, feature: support-agent, price: "0.99"}]
      customers:
        acme: {plan: team, seats: 12, start: 2026-01-01}
        globex:
          contracts:
            - {plan: starter, start: 2026-01-01, end: 2026-03-01}
            - {plan: team, seats: 5, start: 2026-03-01}
      assign:                              # customers not listed above
        - {plan: starter}
      revenue_lines_csv: invoices.csv      # actual invoice lines win over plan arithmetic

Dates are UTC days; a contract runs from `start` (inclusive) to `end` (exclusive).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import difflib
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Usage metrics a plan can price. `ktokens` = (input + output tokens) / 1000; `credits` are
#: burned from the other metrics at the plan's `credit_burn` rates.
Metric = Literal["tasks", "successful_tasks", "conversations", "resolutions", "ktokens", "credits"]
METRICS: tuple[str, ...] = Metric.__args__  # type: ignore[attr-defined]

#: Plan names of the `revenue` section being validated (for the customer -> plan check).
_PLANS: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar(
    "_PLANS", default=None
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UsagePrice(_Strict):
    """One usage-priced component of a plan: `price` per unit of `metric` beyond the
    included allowance (with no allowance, every unit is billed)."""

    metric: Metric
    """What is counted: tasks, successful_tasks, conversations, resolutions, ktokens, credits."""
    price: Decimal = Field(ge=0)
    """Price per unit of `metric` beyond the allowance [plan currency/unit]; the overage price
    when an allowance is set, the outcome price for `resolutions`/`successful_tasks`."""
    included: Decimal = Field(default=Decimal(0), ge=0)
    """Units included per customer-month (also: prepaid credits) [units/month]."""
    included_per_seat: Decimal = Field(default=Decimal(0), ge=0)
    """Units included per seat and month, added to `included` [units/seat/month]."""
    feature: str | None = None
    """Count only this feature's usage (e.g. resolutions of the support agent); all if unset."""


class Plan(_Strict):
    """A price plan. Revenue per customer-month = monthly_fee + per_seat x seats (both
    prorated by contract days in the month) + the usage components."""

    monthly_fee: Decimal = Field(default=Decimal(0), ge=0)
    """Flat fee per customer-month [plan currency/month]; the credit pack price for credits."""
    per_seat: Decimal = Field(default=Decimal(0), ge=0)
    """Price per seat and month [plan currency/seat/month]."""
    usage: list[UsagePrice] = Field(default_factory=list)
    """Usage-priced components (per task, conversation, resolution, 1k tokens, credit)."""
    credit_burn: dict[Metric, Decimal] = Field(default_factory=dict)
    """Credits burned per unit of each metric, e.g. {tasks: 1, ktokens: 0.2} [credits/unit]."""
    currency: str = "USD"
    """ISO code of the prices; converted to USD with `revenue.rates`."""
    fixed_cost_per_customer: Decimal = Field(default=Decimal(0), ge=0)
    """F: fixed cost to serve one customer-month (support, onboarding, platform share)
    [USD/customer-month]; used until the attribution stage allocates fixed costs."""
    threshold_metric: Metric | None = None
    """Usage unit u of the collapse threshold (default: the first usage metric, else tasks)."""

    @model_validator(mode="after")
    def _has_a_price(self) -> Plan:
        if self.monthly_fee == 0 and self.per_seat == 0 and not self.usage:
            raise ValueError(
                "plan has no price: set monthly_fee, per_seat or a usage price "
                "(usage: [{metric: tasks, price: ...}])"
            )
        if any(u.metric == "credits" for u in self.usage) and not self.credit_burn:
            raise ValueError("a credits plan needs credit_burn, e.g. {tasks: 1}")
        return self

    @property
    def unit(self) -> str:
        """The metric the collapse threshold is measured in."""
        if self.threshold_metric:
            return self.threshold_metric
        return self.usage[0].metric if self.usage else "tasks"


def _check_plan(name: str) -> str:
    plans = _PLANS.get()
    if plans is not None and name not in plans:
        close = difflib.get_close_matches(name, sorted(plans), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"unknown plan {name!r}; plans: {', '.join(sorted(plans))}.{hint}")
    return name


class Contract(_Strict):
    """A customer on a plan from `start` (inclusive) to `end` (exclusive, open if unset)."""

    plan: str
    """Name of a plan under `revenue.plans`."""
    seats: int = Field(default=1, ge=0)
    """Seats billed [seats]."""
    start: dt.date | None = None
    """First day of the contract (UTC); open if unset."""
    end: dt.date | None = None
    """Day after the last day (exclusive); open if unset."""

    _plan_known = field_validator("plan")(_check_plan)

    @model_validator(mode="after")
    def _ordered(self) -> Contract:
        if self.start and self.end and self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        return self

    def active(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


class Customer(_Strict):
    """A customer: one plan (`plan`, `seats`, `start`, `end`) or a list of `contracts`."""

    plan: str | None = None
    """Plan name (shorthand for a single contract)."""
    seats: int = Field(default=1, ge=0)
    """Seats of the shorthand contract [seats]."""
    start: dt.date | None = None
    """Start of the shorthand contract (inclusive)."""
    end: dt.date | None = None
    """End of the shorthand contract (exclusive)."""
    contracts: list[Contract] = Field(default_factory=list)
    """Successive contracts; their date ranges must not overlap."""
    currency: str | None = None
    """Invoicing currency; must equal the currency of the plans it is on."""

    _plan_known = field_validator("plan")(lambda v: v if v is None else _check_plan(v))

    @field_validator("contracts")
    @classmethod
    def _no_overlap(cls, contracts: list[Contract]) -> list[Contract]:
        far = dt.date.max
        spans = sorted(enumerate(contracts), key=lambda ic: ic[1].start or dt.date.min)
        for (i, a), (j, b) in itertools.pairwise(spans):
            if (a.end or far) > (b.start or dt.date.min):
                raise ValueError(
                    f"contracts {i} ({a.start}..{a.end}) and {j} ({b.start}..{b.end}) overlap; "
                    "end is exclusive: set one contract's end to the next one's start"
                )
        return contracts

    @model_validator(mode="after")
    def _one_form(self) -> Customer:
        if self.plan is None and not self.contracts:
            raise ValueError("customer has no plan: set plan (and seats) or contracts")
        if self.plan is not None and self.contracts:
            raise ValueError("set either plan/seats/start/end or contracts, not both")
        return self

    def all_contracts(self) -> list[Contract]:
        if self.plan is None:
            return list(self.contracts)
        return [Contract(plan=self.plan, seats=self.seats, start=self.start, end=self.end)]


class AssignRule(_Strict):
    """Plan for customers not listed: the first rule whose `match` (a glob on the customer
    id) and hash bucket [hash_from, hash_to) contain the customer applies."""

    plan: str
    """Plan name."""
    seats: int = Field(default=1, ge=0)
    """Seats [seats]."""
    match: str = "*"
    """Glob on customer_id (fnmatch)."""
    hash_from: Decimal = Field(default=Decimal(0), ge=0, le=1)
    """Lower end of the stable-hash bucket of the customer id (sha256 -> [0, 1))."""
    hash_to: Decimal = Field(default=Decimal(1), ge=0, le=1)
    """Upper end (exclusive) of the hash bucket."""

    _plan_known = field_validator("plan")(_check_plan)


class RevenueConfig(_Strict):
    """The `revenue` section of the project file."""

    plans: dict[str, Plan] = Field(default_factory=dict)
    """Price plans by name."""
    customers: dict[str, Customer] = Field(default_factory=dict)
    """Customers by customer_id (as in the events)."""
    customers_csv: str | None = None
    """CSV of customer_id,plan[,seats,start,end,currency] (contract_start/contract_end also
    accepted; other columns ignored), one row per contract, relative to the project file."""
    assign: list[AssignRule] = Field(default_factory=list)
    """Rules giving a plan to customers that are neither listed nor in the CSV."""
    revenue_lines_csv: str | None = None
    """Actual invoice lines: customer_id,month(YYYY-MM),amount[,currency,feature]; a
    customer-month with lines uses them instead of the plan arithmetic."""
    rates: dict[str, Decimal] = Field(default_factory=dict)
    """Currency rates [USD per 1 unit of the currency]; USD is 1."""
    target_margin: Decimal = Field(default=Decimal("0.6"), ge=0, lt=1)
    """Target gross margin m for the collapse analysis [fraction]."""

    @model_validator(mode="wrap")
    @classmethod
    def _known_plans(cls, data: Any, handler: Callable[[Any], RevenueConfig]) -> RevenueConfig:
        names = None
        if isinstance(data, dict) and isinstance(data.get("plans"), dict):
            names = frozenset(str(k) for k in data["plans"])
        token = _PLANS.set(names)
        try:
            return handler(data)
        finally:
            _PLANS.reset(token)

    @field_validator("rates")
    @classmethod
    def _positive_rates(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = [k for k, v in rates.items() if v <= 0]
        if bad:
            raise ValueError(f"rates must be > 0 (USD per unit): {', '.join(bad)}")
        return rates

    @model_validator(mode="after")
    def _currencies(self) -> RevenueConfig:
        for name, plan in self.plans.items():
            if plan.currency != "USD" and plan.currency not in self.rates:
                raise ValueError(
                    f"plan {name!r} is priced in {plan.currency} but rates has no "
                    f"{plan.currency}; add rates: {{{plan.currency}: <USD per unit>}}"
                )
        for cid, cust in self.customers.items():
            for c in cust.all_contracts():
                cur = self.plans[c.plan].currency if c.plan in self.plans else None
                if cust.currency and cur and cust.currency != cur:
                    raise ValueError(
                        f"customer {cid!r} invoices in {cust.currency} but plan {c.plan!r} "
                        f"is priced in {cur}; define a {cust.currency} plan"
                    )
        return self

    def rate(self, currency: str) -> Decimal:
        """USD per 1 unit of `currency`."""
        if currency == "USD":
            return Decimal(1)
        if currency not in self.rates:
            raise KeyError(currency)
        return self.rates[currency]
