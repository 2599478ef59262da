"""Fixed costs and idle GPU cost per month and composite key (customer, feature, ...).

`allocation.allocate` breaks the window down by one report dimension and folds the months
together; margins need the same money per (customer, month, feature). This module runs the
same steps with the same functions (`fixed.charges`, `fixed.task_counts`, `fixed.weights`,
`fixed.split`; idle split by GPU cost on the endpoint as `allocation._idle`) over several key
columns, and keeps the month on every line, the special ones included:

    fixed[(month, *key)]     share of each month's charges, by the cost's driver and scope
    unallocated[month]       charges of a month with no driver weight in scope
    idle[(month, *key)]      idle: share  an endpoint-month's idle cost over its users, by
                                          their GPU cost on it
    idle_line[month]         idle: line (or no user that month)  the endpoint's idle cost

Conservation, exact (1e-24 USD quantum, largest remainder):
sum(fixed) + sum(unallocated) = sum of the charges; sum(idle) + sum(idle_line) = idle total.
Key values are the columns' raw values (None stays None).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from unitecon.attribution import fixed
from unitecon.attribution.costed import Costed
from unitecon.attribution.fixed import Charge
from unitecon.attribution.frame import ZERO, utc

if TYPE_CHECKING:
    from unitecon.attribution.config import FixedCost
    from unitecon.config import Project

#: (month start, UTC, *key values)
MonthKey = tuple[Any, ...]


@dataclass(frozen=True)
class KeyedAllocation:
    """Fixed and idle cost of a window per (month, *key) [USD]."""

    names: tuple[str, ...]
    fixed: dict[MonthKey, Decimal] = field(default_factory=dict)
    unallocated: dict[dt.datetime, Decimal] = field(default_factory=dict)
    idle: dict[MonthKey, Decimal] = field(default_factory=dict)
    idle_line: dict[dt.datetime, Decimal] = field(default_factory=dict)
    charges: list[Charge] = field(default_factory=list)
    idle_total: Decimal = ZERO

    @property
    def fixed_total(self) -> Decimal:
        """Fixed cost of the window = sum of the charges [USD]."""
        return sum((ch.amount for ch in self.charges), ZERO)


def allocate_keyed(
    c: Costed,
    project: Project,
    keys: Mapping[str, Callable[[Any], Any]],
    columns: Iterable[str] | None = None,
) -> KeyedAllocation:
    """Fixed costs and idle of the window `c` per month and `keys` (name -> expression of
    the events table, e.g. `{"customer": lambda t: t.customer_id}`). `columns`: the event
    columns the `keys` read; then those and the allocation's (`allocation_columns`) only are
    materialized (`Costed.narrow`), else every costed column."""
    from unitecon.attribution.allocation import allocation_columns

    agents = any(fc.agent for fc in project.fixed_costs)
    cols = None if columns is None else {*columns, *allocation_columns(project)}
    if agents:
        t = c.resolved(cols)
    elif cols is None:
        t = c.events
    else:
        t = c.narrow(cols)
    t = t.mutate(**{name: expr(t) for name, expr in keys.items()})
    names = list(keys)
    out = KeyedAllocation(tuple(names), idle_total=c.idle_total)
    _fixed(c, project, t, names, out)
    _idle(c, t, names, project.allocation.idle == "share", out)
    return out


def _fixed(c: Costed, project: Project, t: Any, names: list[str], out: KeyedAllocation) -> None:
    acc: dict[MonthKey, Decimal] = defaultdict(lambda: ZERO)
    lost: dict[dt.datetime, Decimal] = defaultdict(lambda: ZERO)
    charged: list[tuple[FixedCost, list[Charge]]] = []
    for fc in project.fixed_costs:
        counts = fixed.task_counts(c.source, fc, c.window) if fc.amortize_tasks else None
        chs = fixed.charges(fc, c.window, counts)
        out.charges.extend(chs)
        if chs:
            charged.append((fc, chs))
    every = fixed.weights_of(t, [fc for fc, _ in charged], names)
    for (_, chs), ws in zip(charged, every, strict=True):
        for ch in chs:
            shares = fixed.split(ch.amount, {k: w for k, w in ws.items() if k[0] == ch.month})
            for k, amt in shares.items():
                acc[k] += amt
            if not shares:
                lost[ch.month] += ch.amount
    out.fixed.update(acc)
    out.unallocated.update(lost)


def _idle(c: Costed, t: Any, names: list[str], share: bool, out: KeyedAllocation) -> None:
    idle: dict[tuple[str, dt.datetime], Decimal] = defaultdict(lambda: ZERO)
    for p in c.periods:
        idle[(p.endpoint, utc(p.day.replace(day=1)))] += p.idle
    ws: dict[tuple[str, dt.datetime], dict[MonthKey, Decimal]] = defaultdict(dict)
    if share and idle:
        used = t.filter(t.cost_kind == "endpoint")
        agg = used.group_by("endpoint", "month", *names).agg(_w=used.var_cost.sum())
        for r in agg.to_pyarrow().to_pylist():
            month = utc(r["month"])
            ws[(r["endpoint"], month)][(month, *(r[n] for n in names))] = r["_w"]
    acc: dict[MonthKey, Decimal] = defaultdict(lambda: ZERO)
    line: dict[dt.datetime, Decimal] = defaultdict(lambda: ZERO)
    for (ep, month), amount in idle.items():
        shares = fixed.split(amount, ws.get((ep, month), {}))
        for k, amt in shares.items():
            acc[k] += amt
        if not shares and amount:
            line[month] += amount
    out.idle.update(acc)
    out.idle_line.update(line)
