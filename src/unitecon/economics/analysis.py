"""Margins and the collapse analysis end to end: ledger -> records -> revenue -> margins.

`load_inputs` is the only step that queries the engine; `margins` and `collapse` are pure
functions of its records and the project's revenue section, so a what-if re-runs them
without touching the ledger (`whatif_prices.py`).
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
from unitecon.economics.inputs import UsageLine
from unitecon.economics.margins import FixedKey, MarginRow, margin_rows
from unitecon.economics.revenue import Book, RevenueItem, load_book, revenue
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


@dataclass(frozen=True)
class Margins:
    """Margin rows per customer-month-feature and the revenue items behind them."""

    rows: list[MarginRow]
    items: list[RevenueItem]
    book: Book
    inputs: MarginInputs


def load_inputs(priced: Any, project: Any) -> MarginInputs:
    """Query the engine once per record kind: cost and usage lines, month coverage."""
    events, col = inp.costed_events(priced, project)
    source = "attribution" if col == "var_cost" else "pricing"
    return MarginInputs(inp.usage_lines(events, col), inp.coverage(priced), None, source)


def margins(inputs: MarginInputs, book: Book) -> Margins:
    """Revenue for every customer-month of the data, then the margin rows."""
    items = revenue(book, inputs.usage, inputs.coverage)
    rows = margin_rows(book, inputs.usage, items, inputs.allocated_fixed)
    return Margins(rows, items, book, inputs)


def collapse(
    m: Margins, plan: str | None = None, target_margin: Decimal | None = None
) -> list[PlanCollapse]:
    """The collapse analysis of one plan, or of every plan."""
    plans = m.book.config.plans
    if plan is not None and plan not in plans:
        raise LookupFailed("plan", plan, plans)
    target = m.book.config.target_margin if target_margin is None else target_margin
    names = [plan] if plan else sorted(plans)
    return [analyze(n, m.rows, m.book, m.inputs.coverage, target) for n in names]


def book_for(project: Any, config_path: Path | None) -> Book:
    """The project's revenue book; CSV paths are relative to the project file."""
    return load_book(project.revenue, config_path.parent if config_path else None)
