"""Spend with no customer is a cost line, never a customer with revenue."""

from __future__ import annotations


def test_unattributed_spend_never_gets_a_plan() -> None:
    """A catch-all assignment rule must not give spend without a customer any revenue."""
    from unitecon.economics.inputs import UNATTRIBUTED
    from unitecon.economics.revenue import Book
    from unitecon.economics.revenue_config import AssignRule, Plan, RevenueConfig

    cfg = RevenueConfig(
        plans={"flat": Plan(monthly_fee=10)}, assign=[AssignRule(plan="flat", match="*")]
    )
    book = Book(cfg, {})
    assert [c.plan for c in book.contracts("c1")] == ["flat"]
    assert book.contracts(UNATTRIBUTED) == []
