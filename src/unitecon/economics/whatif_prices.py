"""What-if on prices: re-run the margins with changed model prices, plan prices or usage,
from the records already read (`MarginInputs`), never touching the ledger.

A scenario changes:

    model_price[model]   = k   the variable cost of that model's calls x k   (a price cut of
                               30 % is k = 0.7; exact for a proportional price change)
    plan[name]           = {field: value}   plan fields replaced (monthly_fee, per_seat,
                               usage, fixed_cost_per_customer, ...) and re-validated
    usage_scale[feature] = k   that feature's usage and cost x k (units become fractional)

The result compares the base and the scenario by plan and in total: revenue, cost, gross
margin [USD] and gross margin % — the difference is the scenario's effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from unitecon.economics.analysis import MarginInputs, Margins, margins
from unitecon.economics.inputs import UsageLine
from unitecon.economics.margins import By, MarginRow, roll_up
from unitecon.economics.revenue import Book
from unitecon.economics.revenue_config import Plan
from unitecon.errors import LookupFailed

ONE = Decimal(1)


@dataclass(frozen=True)
class Scenario:
    """Changes to apply; empty changes nothing."""

    model_price: Mapping[str, Decimal] = field(default_factory=dict)
    """Factor on the cost of each model's calls [x]."""
    plan: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Plan fields to replace, by plan name."""
    usage_scale: Mapping[str, Decimal] = field(default_factory=dict)
    """Factor on each feature's usage and cost [x]."""


def reprice_line(line: UsageLine, factors: Mapping[str, Decimal]) -> UsageLine:
    """The line with each model's cost x its factor (other models unchanged)."""
    costs = {m: c * factors.get(m or "", ONE) for m, c in line.cost_by_model.items()}
    return replace(line, cost_by_model=costs)


def apply_to_inputs(inputs: MarginInputs, s: Scenario) -> MarginInputs:
    """Usage lines with model prices and feature usage changed."""
    out = []
    for ln in inputs.usage:
        ln = reprice_line(ln, s.model_price)
        k = s.usage_scale.get(ln.feature or "", ONE)
        out.append(ln if k == ONE else ln.scaled(k))
    return replace(inputs, usage=out)


def apply_to_book(book: Book, s: Scenario) -> Book:
    """The book with plan fields replaced (validated like the project file)."""
    plans = dict(book.config.plans)
    for name, changes in s.plan.items():
        if name not in plans:
            raise LookupFailed("plan", name, plans)
        plans[name] = Plan.model_validate({**plans[name].model_dump(), **changes})
    cfg = book.config.model_copy(update={"plans": plans})
    return replace(book, config=cfg)


def run(inputs: MarginInputs, book: Book, s: Scenario) -> Margins:
    """The margins under scenario `s`."""
    return margins(apply_to_inputs(inputs, s), apply_to_book(book, s))


def _summary(r: MarginRow) -> dict[str, Any]:
    return {
        "revenue": r.revenue,
        "cost": r.cost,
        "gross_margin": r.gross_margin,
        "gross_margin_pct": r.gross_margin_pct,
    }


def _total(rows: list[MarginRow]) -> MarginRow:
    return MarginRow(
        key=("total",),
        revenue=sum((r.revenue for r in rows), Decimal(0)),
        variable_cost=sum((r.variable_cost for r in rows), Decimal(0)),
        fixed_cost=sum((r.fixed_cost for r in rows), Decimal(0)),
    )


def compare(base: Margins, scenario: Margins, by: By = "plan") -> list[dict[str, Any]]:
    """Base vs scenario per group of `by` and in total, with the change in gross margin."""
    b = {r.key[0]: r for r in roll_up(base.rows, by)}
    s = {r.key[0]: r for r in roll_up(scenario.rows, by)}
    b["total"], s["total"] = _total(base.rows), _total(scenario.rows)
    out = []
    for k in [*sorted((k for k in b if k != "total"), key=str), "total"]:
        zero = MarginRow((k,), Decimal(0), Decimal(0), Decimal(0))
        br, sr = b.get(k, zero), s.get(k, zero)
        out.append(
            {
                by: k,
                "base": _summary(br),
                "scenario": _summary(sr),
                "change": sr.gross_margin - br.gross_margin,
            }
        )
    return out
