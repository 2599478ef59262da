"""Margins and the collapse analysis end to end: ledger -> records -> revenue -> margins.

`load_inputs` is the only step that queries the engine; `margins` and `collapse` are pure
functions of its records and the project's revenue section, so a what-if re-runs them
without touching the ledger (`whatif_prices.py`; a what-if keeps the allocated fixed cost).

Two fixed costs, two uses:

- margins (`Margins.rows`): the project's real fixed costs allocated by driver when the
  project has `fixed_costs` or self-hosted endpoints (`inputs.fixed_lines`), else the plans'
  F (`fixed_cost_per_customer`);
- the collapse analysis: always the plans' F, the per-customer planning figure of
  u0 = (P - F)/c and u_m = (P(1 - m) - F)/c (`Margins.planned` holds those rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from unitecon.economics import inputs as inp
from unitecon.economics.collapse_plan import PlanCollapse, analyze
from unitecon.economics.inputs import FixedKey, FixedLines, UsageLine
from unitecon.economics.margins import MarginRow, margin_rows
from unitecon.economics.revenue import Book, RevenueItem, load_book, revenue
from unitecon.economics.window import Window
from unitecon.errors import LookupFailed


@dataclass(frozen=True)
class MarginInputs:
    """What margins need from the ledger, as plain records."""

    usage: Sequence[UsageLine]
    coverage: Mapping[dt.date, Decimal]
    """Share of each month the data covers [fraction]."""
    allocated_fixed: Mapping[FixedKey, Decimal] | None = None
    """Fixed cost per (customer, month, feature) from attribution; None: the plans' F."""
    cost_source: str = "pricing"
    """`attribution` (tokens + units + GPU time) or `pricing` (token prices only)."""
    fixed: FixedLines | None = None
    """The allocation behind `allocated_fixed` (window totals, idle mode)."""
    window: Window | None = None
    """The days the cost covers; revenue is prorated to them. None: whole months."""

    @property
    def fixed_basis(self) -> str:
        """`allocated` (the project's fixed costs) or `plan` (the plans' F)."""
        return "plan" if self.allocated_fixed is None else "allocated"


@dataclass(frozen=True)
class Margins:
    """Margin rows per customer-month-feature and the revenue items behind them."""

    rows: list[MarginRow]
    items: list[RevenueItem]
    book: Book
    inputs: MarginInputs
    planned: list[MarginRow]
    """The same rows with the plans' F as fixed cost (the collapse analysis' basis)."""


def load_inputs(priced: Any, project: Any, costed: Any = None) -> MarginInputs:
    """Query the engine once per record kind: cost and usage lines, month coverage, and the
    project's fixed costs (and idle) per line when it has any. `costed`: the window's
    `Costed` as the analysis core made it for every other question (`Analysis.costed`), so
    that margins cover the very days, fixed charges and idle cost that unit metrics and the
    headline's cost cover; None: made here from `priced` over the events' own days (the
    whole ledger, as the tests ask it)."""
    c = costed if costed is not None else inp.costed(priced, project)
    if c is None:
        w = inp.window(priced)
        usage = inp.usage_lines(priced, "cost")
        return MarginInputs(usage, inp.window_coverage(w), None, "pricing", window=w)
    from unitecon.attribution.allocation import allocation_columns

    w = inp.window_of(c.window.since, c.window.until)
    fixed = bool(getattr(project, "fixed_costs", None) or c.idle_total)
    cols = {*inp.USAGE_COLUMNS, "var_cost"}
    if fixed:  # one table for the usage lines and the allocation
        cols |= {*allocation_columns(project), *inp.FIXED_KEY_COLUMNS}
    usage = inp.usage_lines(c.narrow(cols), "var_cost")
    fx = inp.fixed_lines(c, project, cols) if fixed else None
    cov = inp.window_coverage(w)
    return MarginInputs(usage, cov, fx.amounts if fx else None, "attribution", fx, w)


def margins(inputs: MarginInputs, book: Book) -> Margins:
    """Revenue for every customer-month of the data, prorated to the cost's window (the
    days of `inputs.window`), then the margin rows."""
    items = revenue(book, inputs.usage, inputs.coverage, inputs.window)
    planned = margin_rows(book, inputs.usage, items, window=inputs.window)
    if inputs.allocated_fixed is None:
        return Margins(planned, items, book, inputs, planned)
    rows = margin_rows(book, inputs.usage, items, inputs.allocated_fixed, inputs.window)
    return Margins(rows, items, book, inputs, planned)


def collapse(
    m: Margins, plan: str | None = None, target_margin: Decimal | None = None
) -> list[PlanCollapse]:
    """The collapse analysis of one plan, or of every plan (on the plans' F)."""
    plans = m.book.config.plans
    if plan is not None and plan not in plans:
        raise LookupFailed("plan", plan, plans)
    target = m.book.config.target_margin if target_margin is None else target_margin
    names = [plan] if plan else sorted(plans)
    return [analyze(n, m.planned, m.book, m.inputs.coverage, target) for n in names]


def book_for(project: Any, config_path: Path | None) -> Book:
    """The project's revenue book; CSV paths are relative to the project file."""
    return load_book(project.revenue, config_path.parent if config_path else None)
