"""Margins per customer-month-feature, roll-ups by customer, feature, plan or month, and the
concentration of cost across customers.

Definitions (all [USD] per row; a row is one customer, month and feature):

    revenue                 plan arithmetic or invoice lines (`revenue.py`), for the days of
                            the window only (the same days as the cost); fees and seat
                            charges are split over the customer-month's features by their
                            share of tasks (by variable cost when there are no tasks)
    variable_cost           usage cost of the row (tokens, units, GPU time)
    fixed_cost              allocated fixed cost: with the project's `fixed_costs` (or idle
                            GPU time), each cost's monthly charge split by its driver and scope
                            (`inputs.fixed_lines`, shared idle included); else the plan's F
                            (fixed_cost_per_customer) x share of the month's days in the
                            contract and the window, split over features like the fees
    contribution_margin     revenue - variable_cost
    gross_margin            revenue - variable_cost - fixed_cost
    gross_margin_pct        gross_margin / revenue  (undefined when revenue is 0)

Allocated fixed cost that lands on no customer keeps its own rows, so totals stay whole:
customer and plan `__unallocated__` (no driver weight in scope) and `__idle__` (idle GPU
time shown as a line). They have no revenue and are left out of the concentration figures.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from unitecon.attribution.frame import label
from unitecon.economics.inputs import (
    SPECIAL,
    UNATTRIBUTED,
    USAGE_METRICS,
    ZERO,
    FixedKey,
    UsageLine,
)
from unitecon.economics.revenue import (
    Book,
    RevenueItem,
    cents,
    main_contract,
    month_fraction,
)
from unitecon.economics.split import split_cents
from unitecon.economics.window import Window

By = Literal["customer", "feature", "plan", "month"]


def contribution_margin(revenue: Decimal, variable_cost: Decimal) -> Decimal:
    """Contribution margin = revenue - variable cost [USD]."""
    return revenue - variable_cost


def gross_margin(revenue: Decimal, variable_cost: Decimal, fixed_cost: Decimal) -> Decimal:
    """Gross margin = revenue - variable cost - allocated fixed cost [USD]."""
    return revenue - variable_cost - fixed_cost


def margin_pct(margin: Decimal, revenue: Decimal) -> Decimal | None:
    """Margin / revenue [fraction]; None when revenue is 0 (undefined)."""
    return None if revenue == 0 else margin / revenue


@dataclass(frozen=True)
class MarginRow:
    """Revenue, cost and margin of one group (a customer-month-feature, or a roll-up)."""

    key: tuple[str | dt.date | None, ...]
    revenue: Decimal
    variable_cost: Decimal
    fixed_cost: Decimal
    plan: str | None = None
    usage: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def cost(self) -> Decimal:
        return self.variable_cost + self.fixed_cost

    @property
    def contribution_margin(self) -> Decimal:
        return contribution_margin(self.revenue, self.variable_cost)

    @property
    def gross_margin(self) -> Decimal:
        return gross_margin(self.revenue, self.variable_cost, self.fixed_cost)

    @property
    def gross_margin_pct(self) -> Decimal | None:
        return margin_pct(self.gross_margin, self.revenue)

    def as_dict(self, names: Sequence[str]) -> dict[str, object]:
        out: dict[str, object] = dict(zip(names, self.key, strict=True))
        out.update(
            label=label(self.key[0]),
            plan=self.plan,
            revenue=self.revenue,
            variable_cost=self.variable_cost,
            fixed_cost=self.fixed_cost,
            contribution_margin=self.contribution_margin,
            gross_margin=self.gross_margin,
            gross_margin_pct=self.gross_margin_pct,
            **{k: v for k, v in self.usage.items()},
        )
        return out


KEY_NAMES = ("customer_id", "month", "feature")


def _weights(lines: Sequence[UsageLine]) -> dict[str | None, Decimal]:
    """Feature weights for spreading fees and fixed cost: tasks, else variable cost."""
    if not lines:
        return {None: Decimal(1)}
    w = {ln.feature: ln.tasks for ln in lines}
    if sum(w.values(), ZERO) == 0:
        w = {ln.feature: ln.variable_cost for ln in lines}
    return w


def plan_fixed_cost(
    book: Book, customer_id: str, month: dt.date, window: Window | None = None
) -> Decimal:
    """Sum over the month's contracts of F(plan) x share of the month's days in the contract
    (and the window), to the cent [USD]."""
    total = ZERO
    for c in book.contracts(customer_id):
        f = book.config.plans[c.plan].fixed_cost_per_customer
        total += f * month_fraction(c, month, window)
    return cents(total)


def customer_month_rows(
    cid: str,
    month: dt.date,
    lines: Sequence[UsageLine],
    items: Sequence[RevenueItem],
    fixed: Decimal | Mapping[str | None, Decimal],
    plan: str | None,
) -> list[MarginRow]:
    """The rows of one customer-month: one per feature used (one `None` row without usage)."""
    weights = _weights(lines)
    rev: dict[str | None, Decimal] = defaultdict(Decimal)
    for it in items:
        parts = split_cents(it.amount, weights) if it.feature is None else {it.feature: it.amount}
        for f, amt in parts.items():
            rev[f] += amt
    if isinstance(fixed, Decimal):
        fixed = split_cents(fixed, weights) if fixed else {}
    by_f = {ln.feature: ln for ln in lines}
    feats = list(dict.fromkeys([*weights, *rev, *fixed]))
    return [
        MarginRow(
            key=(cid, month, f),
            revenue=rev.get(f, ZERO),
            variable_cost=by_f[f].variable_cost if f in by_f else ZERO,
            fixed_cost=fixed.get(f, ZERO),
            plan=plan,
            usage={m: by_f[f].metric(m) for m in USAGE_METRICS} if f in by_f else {},
        )
        for f in feats
    ]


def margin_rows(
    book: Book,
    usage: Sequence[UsageLine],
    items: Sequence[RevenueItem],
    allocated_fixed: Mapping[FixedKey, Decimal] | None = None,
    window: Window | None = None,
) -> list[MarginRow]:
    """Margin rows per (customer, month, feature). With `allocated_fixed` (the project's
    fixed cost per key, `inputs.fixed_lines`), it replaces the plans' F; its special lines
    (`__idle__`, `__unallocated__`) become rows whose plan is their own name."""
    lines: dict[tuple[str, dt.date], list[UsageLine]] = defaultdict(list)
    for ln in usage:
        lines[ln.customer_id, ln.month].append(ln)
    rev: dict[tuple[str, dt.date], list[RevenueItem]] = defaultdict(list)
    for it in items:
        rev[it.customer_id, it.month].append(it)
    fixed_by: dict[tuple[str, dt.date], dict[str | None, Decimal]] = defaultdict(dict)
    for (c, m, f), amt in (allocated_fixed or {}).items():
        fixed_by[c, m][f] = amt
    rows = []
    for cid, m in sorted({*lines, *rev, *fixed_by}, key=lambda k: (k[0], k[1])):
        main = None if cid in SPECIAL else main_contract(book.contracts(cid), m, window)
        fixed: Decimal | Mapping[str | None, Decimal] = (
            fixed_by.get((cid, m), {})
            if allocated_fixed is not None
            else plan_fixed_cost(book, cid, m, window)
        )
        plan = main.plan if main else (cid if cid in SPECIAL else None)
        rows += customer_month_rows(cid, m, lines[cid, m], rev[cid, m], fixed, plan)
    return rows


def _key_of(r: MarginRow, by: By) -> str | dt.date | None:
    if by == "plan":
        return r.plan
    return r.key[{"customer": 0, "month": 1, "feature": 2}[by]]


def roll_up(rows: Iterable[MarginRow], by: By) -> list[MarginRow]:
    """Sum rows by customer, feature, plan or month; worst gross margin first."""
    acc: dict[str | dt.date | None, list[MarginRow]] = defaultdict(list)
    for r in rows:
        acc[_key_of(r, by)].append(r)
    out = [_sum(k, rs, by) for k, rs in acc.items()]
    return sorted(out, key=lambda r: (r.gross_margin, str(r.key[0])))


def _sum(key: str | dt.date | None, rs: list[MarginRow], by: By) -> MarginRow:
    usage: dict[str, Decimal] = defaultdict(Decimal)
    for r in rs:
        for k, v in r.usage.items():
            usage[k] += v
    plans = {r.plan for r in rs}
    plan = key if by == "plan" else (plans.pop() if len(plans) == 1 else "(several)")
    return MarginRow(
        key=(key,),
        revenue=sum((r.revenue for r in rs), ZERO),
        variable_cost=sum((r.variable_cost for r in rs), ZERO),
        fixed_cost=sum((r.fixed_cost for r in rs), ZERO),
        plan=plan if isinstance(plan, str) or plan is None else str(plan),
        usage=dict(usage),
    )


def totals(groups: Sequence[MarginRow], plan_fixed: Iterable[Decimal] = ()) -> dict[str, Decimal]:
    """The sums of a roll-up's money columns [USD], and of the plans' F beside it."""
    out = {
        k: sum((getattr(g, k) for g in groups), Decimal(0))
        for k in ("revenue", "variable_cost", "fixed_cost", "contribution_margin", "gross_margin")
    }
    out["plan_fixed_cost"] = sum(plan_fixed, Decimal(0))
    return out


#: What "losing money" means on each page (docs/metrics.md): margins count customers by
#: their margin over the window; `collapse` counts customers past u0 at the monthly run rate
#: against the plan's planning figure F. They answer different questions and are named so.
LOSING_MONEY = {
    "gross": "gross margin < 0 over the window: revenue - variable - fixed cost (allocated "
    "from the project's fixed costs, else the plans' F)",
    "contribution": "contribution margin < 0 over the window: revenue - variable cost",
    "past_u0": "`collapse`: usage at the monthly run rate past u0, the break-even usage on "
    "the plan's price P and planning figure F (not the allocated fixed cost)",
}


def losing_money(by_customer: Iterable[MarginRow]) -> dict[str, list[str]]:
    """Customers losing money over the window (roll-ups by customer; the special lines and
    spend with no customer left out): `gross` (gross margin < 0) and `contribution`
    (contribution margin < 0), worst first."""
    rows = [r for r in by_customer if r.key[0] not in (UNATTRIBUTED, *SPECIAL)]
    rows.sort(key=lambda r: (r.gross_margin, str(r.key[0])))
    return {
        "gross": [str(r.key[0]) for r in rows if r.gross_margin < 0],
        "contribution": [str(r.key[0]) for r in rows if r.contribution_margin < 0],
    }


def in_month(rows: Iterable[MarginRow], month: dt.date) -> list[MarginRow]:
    return [r for r in rows if r.key[1] == month]


# -- concentration ----------------------------------------------------------------------


def top_count(n: int, fraction: Decimal) -> int:
    """How many customers make the top `fraction`: ceil(n x fraction), at least 1 if n > 0."""
    return 0 if n == 0 else max(1, math.ceil(n * fraction))


def top_share(values: Sequence[Decimal], fraction: Decimal) -> Decimal:
    """Share of the total held by the largest ceil(n x fraction) values [fraction]."""
    total = sum(values, ZERO)
    if total == 0:
        return ZERO
    top = sorted(values, reverse=True)[: top_count(len(values), fraction)]
    return sum(top, ZERO) / total


def lorenz(values: Sequence[Decimal]) -> list[tuple[Decimal, Decimal]]:
    """Lorenz curve: (i/n, share of the total held by the i smallest values), from (0, 0)."""
    xs = sorted(values)
    total = sum(xs, ZERO)
    n = len(xs)
    pts, cum = [(ZERO, ZERO)], ZERO
    for i, x in enumerate(xs, start=1):
        cum += x
        pts.append((Decimal(i) / n, cum / total if total else Decimal(i) / n))
    return pts


def gini(values: Sequence[Decimal]) -> Decimal:
    """Gini coefficient G = sum_i (2i - n - 1) x_(i) / (n sum x), x ascending, i = 1..n.

    0 when every customer costs the same; (n - 1)/n when one customer has all the cost.
    """
    xs = sorted(values)
    n, total = len(xs), sum(xs, ZERO)
    if n == 0 or total == 0:
        return ZERO
    return sum(((2 * i - n - 1) * x for i, x in enumerate(xs, start=1)), ZERO) / (n * total)


@dataclass(frozen=True)
class Concentration:
    """How concentrated variable cost and negative margin are across customers."""

    customers: int
    total_variable_cost: Decimal
    negative_margin: Decimal
    """Sum of the negative gross margins of customers below zero [USD] (<= 0)."""
    top_cost_share: dict[str, Decimal]
    """Share of variable cost from the top 1% / 10% customers by cost [fraction]."""
    top_negative_share: dict[str, Decimal]
    """Share of the negative margin from those same customers [fraction]."""
    gini: Decimal
    lorenz: list[tuple[Decimal, Decimal]]


def concentration(by_customer: Sequence[MarginRow]) -> Concentration:
    """Cost concentration over customer roll-ups (the unattributed bucket and the
    `__idle__` / `__unallocated__` lines are left out)."""
    rows = [r for r in by_customer if r.key[0] not in (UNATTRIBUTED, *SPECIAL)]
    rows = sorted(rows, key=lambda r: r.variable_cost, reverse=True)
    costs = [r.variable_cost for r in rows]
    neg = [min(ZERO, r.gross_margin) for r in rows]
    total_neg = sum(neg, ZERO)
    tops, negs = {}, {}
    for name, frac in (("top_1pct", Decimal("0.01")), ("top_10pct", Decimal("0.10"))):
        k = top_count(len(rows), frac)
        tops[name] = top_share(costs, frac)
        negs[name] = sum(neg[:k], ZERO) / total_neg if total_neg else ZERO
    return Concentration(
        customers=len(rows),
        total_variable_cost=sum(costs, ZERO),
        negative_margin=total_neg,
        top_cost_share=tops,
        top_negative_share=negs,
        gini=gini(costs),
        lorenz=lorenz(costs),
    )
