"""Invariants, for any plan, usage and unit cost (hypothesis)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from unitecon.economics.analysis import MarginInputs, margins
from unitecon.economics.collapse import threshold_usage
from unitecon.economics.inputs import UsageLine
from unitecon.economics.margins import gini, roll_up
from unitecon.economics.revenue import Book
from unitecon.economics.revenue_config import Customer, Plan, RevenueConfig, UsagePrice
from unitecon.economics.split import split_cents

OCT = dt.date(2026, 10, 1)
FEATURES = ("support", "search", "coding", None)

money = st.decimals(min_value=0, max_value=10_000, places=2)
costs = st.decimals(min_value=0, max_value=1_000, places=6)
counts = st.integers(min_value=0, max_value=5_000).map(Decimal)
fractions = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.95"), places=2)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    usage = draw(
        st.lists(
            st.builds(
                UsagePrice,
                metric=st.sampled_from(["tasks", "resolutions", "ktokens"]),
                price=costs,
                included=counts,
                included_per_seat=counts,
                feature=st.sampled_from(FEATURES),
            ),
            max_size=2,
        )
    )
    return Plan(
        monthly_fee=draw(money) + Decimal("0.01"),
        per_seat=draw(money),
        usage=usage,
        fixed_cost_per_customer=draw(money),
    )


@st.composite
def lines(draw: st.DrawFn, cid: str = "x") -> list[UsageLine]:
    feats = draw(st.lists(st.sampled_from(FEATURES), unique=True, max_size=3))
    return [
        UsageLine(
            cid,
            OCT,
            f,
            {"m1": draw(costs), "m2": draw(costs)},
            tasks=draw(counts),
            resolutions=draw(counts),
            ktokens=draw(counts),
        )
        for f in feats
    ]


def _book(plan: Plan, seats: int = 1, start: dt.date | None = None) -> Book:
    cfg = RevenueConfig(plans={"p": plan})
    return Book(cfg, {"x": Customer(plan="p", seats=seats, start=start)})


@settings(max_examples=150, deadline=None)
@given(plans(), lines(), st.integers(0, 50), st.sampled_from([None, dt.date(2026, 10, 9)]))
def test_margin_is_revenue_minus_cost_and_conserves(plan, usage, seats, start) -> None:  # type: ignore[no-untyped-def]
    m = margins(MarginInputs(usage, {OCT: Decimal(1)}), _book(plan, seats, start))
    for r in m.rows:
        assert r.gross_margin == r.revenue - r.variable_cost - r.fixed_cost
        assert r.contribution_margin == r.revenue - r.variable_cost
    assert sum(r.revenue for r in m.rows) == sum(i.amount for i in m.items)
    assert sum(r.variable_cost for r in m.rows) == sum(ln.variable_cost for ln in usage)


@settings(max_examples=150, deadline=None)
@given(money, money, lines(), st.decimals(min_value=1, max_value=20, places=3))
def test_more_usage_never_raises_margin_on_a_flat_plan(fee, fixed, usage, k) -> None:  # type: ignore[no-untyped-def]
    book = _book(Plan(monthly_fee=fee + Decimal("0.01"), fixed_cost_per_customer=fixed))

    def margin(ls: list[UsageLine]) -> Decimal:
        rows = margins(MarginInputs(ls, {OCT: Decimal(1)}), book).rows
        return sum(r.gross_margin for r in roll_up(rows, "customer"))

    assert margin([ln.scaled(k) for ln in usage]) <= margin(usage)


@settings(max_examples=300, deadline=None)
@given(
    money,
    money,
    costs.filter(lambda c: c > 0),
    fractions,
    st.one_of(st.none(), counts),
    costs,
)
def test_u0_is_at_least_u_m(price, fixed, c, m, included, unit_price) -> None:  # type: ignore[no-untyped-def]
    u0 = threshold_usage(price, fixed, c, Decimal(0), included, unit_price)
    um = threshold_usage(price, fixed, c, m, included, unit_price)
    if u0 is None:
        return  # never collapses: any u_m is below infinity
    assert um is not None and u0 >= um


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(min_value=-10_000, max_value=10_000, places=2),
    st.lists(st.decimals(min_value=0, max_value=100, places=3), min_size=1, max_size=8),
)
def test_split_cents_adds_up(amount, ws) -> None:  # type: ignore[no-untyped-def]
    parts = split_cents(amount, dict(enumerate(ws)))
    assert sum(parts.values()) == amount
    assert all(p == p.quantize(Decimal("0.01")) for p in parts.values())


@given(st.lists(st.decimals(min_value=0, max_value=1000, places=2), min_size=1, max_size=30))
def test_gini_bounds(xs) -> None:  # type: ignore[no-untyped-def]
    g = gini(xs)
    n = len(xs)
    assert 0 <= g <= Decimal(n - 1) / n
