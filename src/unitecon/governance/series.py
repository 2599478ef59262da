"""Daily spend series: the input of budgets, forecasts and anomaly detection.

Input: the attribution stage's costed events (`Costed.events`: `ts`, `var_cost` = variable
cost of leaves, weighted by 1/sample_rate, and the business dimensions). A series is the
exact `Decimal` sum of `var_cost` per UTC day, with every day of the window present (0 where
nothing was spent: a missing day is a zero, not a gap to interpolate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis

from unitecon.attribution.frame import utc_date

ZERO = Decimal(0)
TOTAL = "total"
NONE = "(none)"


@dataclass(frozen=True)
class Series:
    """Cost per UTC day of one monitored value (`dim` = `value`, or the total)."""

    dim: str
    value: str
    days: tuple[dt.date, ...]
    costs: tuple[Decimal, ...]

    def at(self, day: dt.date) -> Decimal:
        i = (day - self.days[0]).days
        return self.costs[i] if 0 <= i < len(self.costs) else ZERO

    @property
    def label(self) -> str:
        return "all spend" if self.dim == TOTAL else f"{self.dim} = {self.value}"

    @property
    def total(self) -> Decimal:
        """Cost over all the series' days."""
        return sum(self.costs, ZERO)


def day_range(first: dt.date, end: dt.date) -> list[dt.date]:
    """Days first .. end - 1."""
    return [first + dt.timedelta(days=i) for i in range((end - first).days)]


def _where(t: Any, where: Mapping[str, str]) -> Any:
    """Events with every `col` = `val` (`NONE`: the column null or empty)."""
    for col, val in where.items():
        c = t[col].cast("string")
        t = t.filter(c.isnull() | (c == "") if val == NONE else c == val)
    return t


def daily(
    events: Any,
    first: dt.date,
    end: dt.date,
    dim: str | None = None,
    where: Mapping[str, str] | None = None,
) -> list[Series]:
    """Series of var_cost per day in [first, end), one per value of `dim` (None: the total).

    Events whose `dim` is null or empty are their own series, value "(none)".
    """
    t = _where(events, where or {})
    t = t.filter(
        (t.ts >= dt.datetime.combine(first, dt.time(), dt.UTC))
        & (t.ts < dt.datetime.combine(end, dt.time(), dt.UTC))
    )
    keys = {"day": utc_date(t)}
    if dim is not None:
        v = t[dim].cast("string")
        keys["value"] = ibis.ifelse(v.isnull() | (v == ""), NONE, v)
    got = t.group_by(**keys).aggregate(cost=t.var_cost.sum()).to_pyarrow()
    days = day_range(first, end)
    values = got.column("value").to_pylist() if dim is not None else [TOTAL] * got.num_rows
    by: dict[str, dict[dt.date, Decimal]] = {}
    for value, day, cost in zip(
        values, got.column("day").to_pylist(), got.column("cost").to_pylist(), strict=True
    ):
        by.setdefault(value, {})[day] = Decimal(cost or 0)
    if dim is None and not by:
        by[TOTAL] = {}
    return [
        Series(dim or TOTAL, value, tuple(days), tuple(costs.get(d, ZERO) for d in days))
        for value, costs in sorted(by.items())
    ]
