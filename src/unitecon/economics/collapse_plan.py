"""The collapse analysis of each plan: measured usage and unit cost, the customers past each
line, when the others cross at their current growth, plan design checks, and the arithmetic
written out for finance. The formulas are in `collapse.py`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from unitecon.economics.collapse import (
    ONE,
    allowance_safe,
    min_overage_price,
    months_to_cross,
    outcome_profitable,
    percentile,
    target_usage,
    threshold_usage,
)
from unitecon.economics.inputs import ZERO
from unitecon.economics.margins import MarginRow
from unitecon.economics.revenue import Book
from unitecon.economics.revenue_config import Plan

# -- measurements -----------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerUsage:
    """One customer's measured usage on a plan."""

    customer_id: str
    seats: int
    units: Decimal
    """Units of the plan's metric over the window [units]."""
    attempts: Decimal
    """Tasks of the plan's feature over the window (attempts, for outcome pricing) [tasks]."""
    scope_cost: Decimal
    """Variable cost of the plan's feature over the window [USD]."""
    variable_cost: Decimal
    revenue: Decimal
    gross_margin: Decimal
    run_rate: Decimal
    """Recent monthly usage [units/month]."""
    monthly_variable_cost: Decimal
    """Recent monthly variable cost [USD/month], same months as run_rate."""
    growth: float | None
    """Compound monthly usage growth [fraction/month]."""

    @property
    def unit_cost(self) -> Decimal | None:
        return self.variable_cost / self.units if self.units else None


def _in_scope(plan: Plan, row: MarginRow) -> bool:
    """Whether the row's feature counts for the plan's threshold metric."""
    comp = next((u for u in plan.usage if u.metric == plan.unit), None)
    return comp is None or comp.feature is None or row.key[2] == comp.feature


def plan_units(plan: Plan, row: MarginRow) -> Decimal:
    """Units of the plan's threshold metric in a row (only the priced feature's, if any)."""
    if not _in_scope(plan, row):
        return ZERO
    if plan.unit == "credits":
        return sum((row.usage.get(m, ZERO) * r for m, r in plan.credit_burn.items()), ZERO)
    return row.usage.get(plan.unit, ZERO)


def run_rate(monthly: Mapping[dt.date, Decimal], coverage: Mapping[dt.date, Decimal]) -> Decimal:
    """Units per month over the latest months that together cover >= 1 month of data."""
    units, covered = ZERO, ZERO
    for m in sorted(monthly, reverse=True):
        units += monthly[m]
        covered += coverage.get(m, ONE)
        if covered >= 1:
            break
    return units / covered if covered else ZERO


def growth_rate(
    monthly: Mapping[dt.date, Decimal], coverage: Mapping[dt.date, Decimal]
) -> float | None:
    """(r_last / r_first)^(1/k) - 1 over months with >= 1/4 of a month of data, k months
    apart, r = units / coverage. None with fewer than two such months or r_first = 0."""
    full = sorted(m for m in monthly if coverage.get(m, ONE) >= Decimal("0.25"))
    if len(full) < 2:
        return None
    first, last = full[0], full[-1]
    r0 = monthly[first] / coverage.get(first, ONE)
    r1 = monthly[last] / coverage.get(last, ONE)
    k = (last.year - first.year) * 12 + last.month - first.month
    if r0 <= 0 or k == 0:
        return None
    ratio: float = float(r1 / r0)
    return float(ratio ** (1 / k) - 1)


def customers_on(
    plan_name: str, rows: Sequence[MarginRow], book: Book, coverage: Mapping[dt.date, Decimal]
) -> list[CustomerUsage]:
    """The measured usage of every customer whose latest month is on `plan_name`."""
    plan = book.config.plans[plan_name]
    by_c: dict[str, list[MarginRow]] = defaultdict(list)
    for r in rows:
        by_c[str(r.key[0])].append(r)
    out = []
    for cid, rs in sorted(by_c.items()):
        last = max(rs, key=lambda r: r.key[1])  # type: ignore[arg-type, return-value]
        if last.plan != plan_name:
            continue
        out.append(_customer_usage(cid, plan, rs, book, coverage))
    return out


def _customer_usage(
    cid: str, plan: Plan, rs: list[MarginRow], book: Book, coverage: Mapping[dt.date, Decimal]
) -> CustomerUsage:
    units: dict[dt.date, Decimal] = defaultdict(Decimal)
    cost: dict[dt.date, Decimal] = defaultdict(Decimal)
    attempts = scope_cost = ZERO
    for r in rs:
        if _in_scope(plan, r):
            attempts += r.usage.get("tasks", ZERO)
            scope_cost += r.variable_cost
        m = r.key[1]
        assert isinstance(m, dt.date)
        units[m] += plan_units(plan, r)
        cost[m] += r.variable_cost
    contracts = book.contracts(cid)
    return CustomerUsage(
        customer_id=cid,
        seats=contracts[-1].seats if contracts else 1,
        units=sum(units.values(), ZERO),
        attempts=attempts,
        scope_cost=scope_cost,
        variable_cost=sum(cost.values(), ZERO),
        revenue=sum((r.revenue for r in rs), ZERO),
        gross_margin=sum((r.gross_margin for r in rs), ZERO),
        run_rate=run_rate(units, coverage),
        monthly_variable_cost=run_rate(cost, coverage),
        growth=growth_rate(units, coverage),
    )


@dataclass(frozen=True)
class UnitCost:
    """Measured distribution of cost per usage unit across a plan's customers [USD/unit]."""

    mean: Decimal
    """Pooled: sum of variable cost / sum of units."""
    p50: Decimal
    p90: Decimal
    customers: int

    def levels(self) -> dict[str, Decimal]:
        return {"mean": self.mean, "p50": self.p50, "p90": self.p90}


def unit_cost(customers: Sequence[CustomerUsage]) -> UnitCost:
    """Pooled mean and p50/p90 of c_i = cost_i / units_i over customers with units > 0."""
    cs = [c for c in customers if c.units > 0]
    per = [c.variable_cost / c.units for c in cs]
    units = sum((c.units for c in cs), ZERO)
    mean = sum((c.variable_cost for c in cs), ZERO) / units if units else ZERO
    return UnitCost(mean, percentile(per, Decimal("0.5")), percentile(per, Decimal("0.9")), len(cs))


# -- the analysis -----------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """A customer's plan terms in USD per month."""

    price: Decimal
    """P = (monthly_fee + per_seat x seats) x rate [USD/month]."""
    fixed: Decimal
    """F [USD/month]."""
    included: Decimal | None
    """A [units/month] of the threshold metric, None when it is not usage-priced."""
    unit_price: Decimal
    """p [USD/unit] beyond A (0 when the metric is not priced)."""


def terms(book: Book, plan_name: str, seats: int) -> Terms:
    """P, F, A and p of `plan_name` for a customer with `seats` seats."""
    plan = book.config.plans[plan_name]
    rate = book.config.rate(plan.currency)
    comp = next((u for u in plan.usage if u.metric == plan.unit), None)
    return Terms(
        price=(plan.monthly_fee + plan.per_seat * seats) * rate,
        fixed=plan.fixed_cost_per_customer,
        included=None if comp is None else comp.included + comp.included_per_seat * seats,
        unit_price=ZERO if comp is None else comp.price * rate,
    )


def line(t: Terms, c: Decimal, m: Decimal) -> Decimal | None:
    """Usage at which margin falls below m for terms t and unit cost c [units/month]."""
    return threshold_usage(t.price, t.fixed, c, m, t.included, t.unit_price)


@dataclass(frozen=True)
class Position:
    """Where one customer sits against its own lines: its plan terms (seats, allowance) and
    its own measured unit cost c_i (the plan's mean when it has no usage)."""

    customer_id: str
    seats: int
    usage: Decimal
    unit_cost: Decimal | None
    revenue: Decimal
    gross_margin: Decimal
    u0: Decimal | None
    u_m: Decimal | None
    growth: float | None
    months_to_u0: float | None
    months_to_um: float | None
    monthly_margin: Decimal
    """Gross margin of a month at the run rate: R(usage) - F - monthly variable cost [USD]."""

    @property
    def past_u0(self) -> bool:
        return self.u0 is not None and self.usage >= self.u0

    @property
    def past_um(self) -> bool:
        return self.u_m is not None and self.usage >= self.u_m


def monthly_revenue(t: Terms, usage: Decimal) -> Decimal:
    """R(u) = P + p x max(0, u - A) [USD/month]."""
    return t.price + t.unit_price * max(ZERO, usage - (t.included or ZERO))


def position(cu: CustomerUsage, t: Terms, c: Decimal, m: Decimal) -> Position:
    u0, um = line(t, c, ZERO), line(t, c, m)
    return Position(
        customer_id=cu.customer_id,
        seats=cu.seats,
        usage=cu.run_rate,
        unit_cost=cu.unit_cost,
        revenue=cu.revenue,
        gross_margin=cu.gross_margin,
        u0=u0,
        u_m=um,
        growth=cu.growth,
        months_to_u0=months_to_cross(cu.run_rate, u0, cu.growth),
        months_to_um=months_to_cross(cu.run_rate, um, cu.growth),
        monthly_margin=monthly_revenue(t, cu.run_rate) - t.fixed - cu.monthly_variable_cost,
    )


@dataclass(frozen=True)
class Design:
    """Plan design checks for target margin m at each measured unit cost level."""

    allowance: Decimal | None
    overage: Decimal | None
    checks: list[dict[str, object]] = field(default_factory=list)
    outcome: dict[str, object] | None = None


@dataclass(frozen=True)
class PlanCollapse:
    """The collapse analysis of one plan."""

    plan: str
    unit: str
    target_margin: Decimal
    reference_seats: int
    terms: Terms
    unit_cost: UnitCost
    lines: dict[str, dict[str, Decimal | None]]
    """Per cost level (mean, p50, p90): u0 and u_m of the reference customer."""
    positions: list[Position]
    design: Design
    arithmetic: list[str]

    def past(self, which: str = "u0") -> list[Position]:
        return [p for p in self.positions if (p.past_u0 if which == "u0" else p.past_um)]

    def share(self, which: str = "u0") -> dict[str, Decimal]:
        """Share of the plan's customers and revenue past the line [fraction]."""
        past = self.past(which)
        rev = sum((p.revenue for p in self.positions), ZERO)
        past_rev = sum((p.revenue for p in past), ZERO)
        n = len(self.positions)
        return {
            "customers": Decimal(len(past)) / n if n else ZERO,
            "revenue": past_rev / rev if rev else ZERO,
            "revenue_at_risk": past_rev,
        }


def design(plan: Plan, t: Terms, uc: UnitCost, m: Decimal, cus: Sequence[CustomerUsage]) -> Design:
    """Allowance and overage checks at each cost level, and the outcome-pricing check."""
    checks: list[dict[str, object]] = []
    for level, c in uc.levels().items():
        um = target_usage(t.price, t.fixed, c, m)
        floor_over = min_overage_price(c, m)
        checks.append(
            {
                "level": level,
                "unit_cost": c,
                "u_m": um,
                "allowance_safe": None if t.included is None else allowance_safe(t.included, um),
                "min_overage": floor_over,
                "overage_safe": None if t.included is None else t.unit_price >= floor_over,
                "recommended_allowance": None if um is None else um.to_integral(ROUND_FLOOR),
                "recommended_overage": floor_over.quantize(Decimal("0.0001"), ROUND_CEILING),
            }
        )
    outcome = None
    if plan.unit in ("resolutions", "successful_tasks") and t.unit_price:
        outcome = outcome_check(t.unit_price, cus)
    return Design(t.included, t.unit_price if t.included is not None else None, checks, outcome)


def outcome_check(price: Decimal, cus: Sequence[CustomerUsage]) -> dict[str, object]:
    """cost per attempt = sum cost / sum tasks; success rate s = outcomes / tasks;
    profitable when cost per attempt < price x s."""
    attempts = sum((c.attempts for c in cus), ZERO)
    outcomes = sum((c.units for c in cus), ZERO)
    cost = sum((c.scope_cost for c in cus), ZERO)
    cpa = cost / attempts if attempts else ZERO
    s = outcomes / attempts if attempts else ZERO
    return {
        "cost_per_attempt": cpa,
        "price": price,
        "success_rate": s,
        "revenue_per_attempt": price * s,
        "profitable": outcome_profitable(cpa, price, s) if attempts else None,
    }


def reference_seats(cus: Sequence[CustomerUsage]) -> int:
    """The lower median of the customers' seats (1 without customers)."""
    seats = sorted(c.seats for c in cus)
    return seats[(len(seats) - 1) // 2] if seats else 1


def analyze(
    plan_name: str,
    rows: Sequence[MarginRow],
    book: Book,
    coverage: Mapping[dt.date, Decimal],
    m: Decimal,
) -> PlanCollapse:
    """The full collapse analysis of one plan (see `collapse.py` for the equations)."""
    plan = book.config.plans[plan_name]
    cus = customers_on(plan_name, rows, book, coverage)
    uc = unit_cost(cus)
    seats = reference_seats(cus)
    t = terms(book, plan_name, seats)
    lines = {lvl: {"u0": line(t, c, ZERO), "u_m": line(t, c, m)} for lvl, c in uc.levels().items()}
    positions = [
        position(cu, terms(book, plan_name, cu.seats), cu.unit_cost or uc.mean, m) for cu in cus
    ]
    positions.sort(key=lambda p: p.usage, reverse=True)
    return PlanCollapse(
        plan=plan_name,
        unit=plan.unit,
        target_margin=m,
        reference_seats=seats,
        terms=t,
        unit_cost=uc,
        lines=lines,
        positions=positions,
        design=design(plan, t, uc, m, cus),
        arithmetic=explain(plan, t, uc, m, seats),
    )


def _usd(x: Decimal, places: int = 2) -> str:
    q = x.quantize(Decimal(1).scaleb(-places))
    return f"-${-q:,}" if q < 0 else f"${q:,}"


def _n(x: Decimal | None) -> str:
    return "never" if x is None else f"{x.quantize(Decimal('0.1')):,}"


def _threshold_lines(name: str, t: Terms, c: Decimal, m: Decimal, unit: str) -> list[str]:
    """The arithmetic of u0 (m = 0) or u_m, ending in the figure the table shows (the usage
    charges beyond the allowance included: `collapse.threshold_usage`)."""
    base = target_usage(t.price, t.fixed, c, m)
    if m == 0:
        head = f"u0 = (P - F) / c = ({_usd(t.price)} - {_usd(t.fixed)}) / {_usd(c, 6)}"
    else:
        head = (
            f"u_m = (P(1 - m) - F) / c = ({_usd(t.price)} x {ONE - m} - {_usd(t.fixed)})"
            f" / {_usd(c, 6)}"
        )
    tail = f" (m = {m})" if m else ""
    if not t.unit_price:
        return [f"{head} = {_n(base)} {unit}/month{tail}"]
    a = t.included or ZERO
    final = line(t, c, m)
    out = [f"{head} = {_n(base)} {unit}/month before usage charges{tail}"]
    if base is not None and base >= a:
        slope = (ONE - m) * t.unit_price - c
        if slope >= 0:
            why = (
                f"beyond A = {_n(a)} each {unit} earns (1 - m) p = "
                f"{_usd((ONE - m) * t.unit_price, 6)} >= c = {_usd(c, 6)}: the margin never "
                f"falls below {m}"
            )
        else:
            why = f"beyond A = {_n(a)}: {name} = A + ((1 - m) P - F - c A) / (c - (1 - m) p)"
        out.append(f"{name} with the allowance and overage p = {_usd(t.unit_price, 4)}: {why}"
                   f" -> {name} = {_n(final)} {unit}/month (the thresholds table)")  # fmt: skip
    return out


def explain(plan: Plan, t: Terms, uc: UnitCost, m: Decimal, seats: int) -> list[str]:
    """The threshold arithmetic of the reference customer, line by line, for audit."""
    c, unit = uc.mean, plan.unit
    out = [
        f"P = (monthly_fee {plan.monthly_fee} + per_seat {plan.per_seat} x {seats} seats)"
        f" x rate {plan.currency} = {_usd(t.price)}/month",
        f"F = fixed_cost_per_customer = {_usd(t.fixed)}/month",
        f"c = sum(variable cost) / sum({unit}) over {uc.customers} customers = {_usd(c, 6)}"
        f"/{unit} (p50 {_usd(uc.p50, 6)}, p90 {_usd(uc.p90, 6)})",
        *_threshold_lines("u0", t, c, ZERO, unit),
        *_threshold_lines("u_m", t, c, m, unit),
    ]
    if t.included is not None and t.unit_price:
        um = target_usage(t.price, t.fixed, c, m)
        floor_over = min_overage_price(c, m)
        out += [
            f"allowance A = {_n(t.included)} {unit}: safe iff A <= u_m:"
            f" {_n(t.included)} <= {_n(um)} -> {'yes' if allowance_safe(t.included, um) else 'NO'}",
            f"overage p = {_usd(t.unit_price, 4)} >= c / (1 - m) = {_usd(c, 6)} / {ONE - m}"
            f" = {_usd(floor_over, 4)} -> {'yes' if t.unit_price >= floor_over else 'NO'}",
        ]
        if t.included == 0:
            out.append(
                f"with usage pricing from the first unit: u_m = {_n(line(t, c, m))} {unit}/month"
            )
    return out


def as_dict(p: PlanCollapse) -> dict[str, object]:
    """The analysis as plain data (Decimals stay Decimals; JSON writes them as strings)."""
    from dataclasses import asdict

    def pos(q: Position) -> dict[str, object]:
        return {**asdict(q), "past_u0": q.past_u0, "past_um": q.past_um}

    return {
        "plan": p.plan,
        "unit": p.unit,
        "target_margin": p.target_margin,
        "reference_seats": p.reference_seats,
        "terms": asdict(p.terms),
        "unit_cost": asdict(p.unit_cost),
        "lines": p.lines,
        "past_u0": {**p.share("u0"), "customers_past": [q.customer_id for q in p.past("u0")]},
        "past_um": {**p.share("u_m"), "customers_past": [q.customer_id for q in p.past("u_m")]},
        "design": asdict(p.design),
        "arithmetic": p.arithmetic,
        "customers": [pos(q) for q in p.positions],
    }
