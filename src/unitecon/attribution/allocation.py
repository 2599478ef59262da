"""Every dollar of the window on a row of a breakdown, conserved (the OpenCost method).

For a dimension D (feature, customer, agent, task type, ...) and optional filters, each row
gets its variable cost, its share of fixed costs (see `fixed`) and of idle GPU time:

    idle: line   one `__idle__` row holds all idle cost of self-hosted endpoints
    idle: share  an endpoint's idle cost in a month is split over the rows that used it
                 that month, by their GPU cost on it (none used it: `__idle__`)

Shares are computed over all rows, the filtered ones included; what a filter hides (its
variable cost and its shares) lands in one visible `__filtered__` row instead of inflating
the rows shown. Fixed cost with no weight to split by lands in `__unallocated__`. So, always
and exactly: sum of rows = variable + fixed + idle of the window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis

from unitecon.attribution import fixed
from unitecon.attribution.costed import Costed
from unitecon.attribution.fixed import Charge
from unitecon.attribution.frame import FILTERED, IDLE, NONE, UNALLOCATED, ZERO, utc
from unitecon.ledger import dimensions

if TYPE_CHECKING:
    from unitecon.attribution.config import FixedCost
    from unitecon.config import Project

Key = tuple[str, bool]  # (dimension value, visible under the filters)


@dataclass
class AllocRow:
    """One row of a breakdown [USD]."""

    key: str
    variable: Decimal = ZERO
    fixed: Decimal = ZERO
    idle: Decimal = ZERO

    @property
    def loaded(self) -> Decimal:
        """Fully loaded cost = variable + allocated fixed + shared idle."""
        return self.variable + self.fixed + self.idle


@dataclass
class Allocation:
    dim: str
    rows: dict[str, AllocRow]
    variable: Decimal
    fixed: Decimal
    idle: Decimal
    charges: list[Charge] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.variable + self.fixed + self.idle


def dim_expr(t: Any, dim: str) -> Any:
    """The value of the unit-metrics dimension `dim` (a registry name or alias) on `t`."""
    return dimensions.get(dim, dimensions.UNITS).expr(t)


IDLE_COLUMNS = ("cost_kind", "endpoint", "month", "var_cost")
"""The costed-event columns `_idle` reads (the endpoint cost shares of the idle time)."""


def allocation_columns(project: Project) -> set[str]:
    """The costed-event columns `allocate` reads besides those of its dimensions."""
    out = {*IDLE_COLUMNS, "var_cost"}
    for fc in project.fixed_costs:
        out |= fixed.columns(fc)
    return out


def keyed(
    c: Costed,
    dim: str,
    only: Mapping[str, str] | None = None,
    agents: bool = False,
    once: bool = False,
    columns: Iterable[str] | None = None,
) -> Any:
    """The events with `_key` (the row's value of `dim`, `(none)` when null) and `_vis`
    (passes the filters); with resolved agents (`agent_r`) when needed or asked. `once`: the
    caller reads the result in one query, so the events need no temporary table
    (`Costed.scan`). `columns`: the caller reads those only (with the dimensions'), so
    only they are materialized (`Costed.narrow`)."""
    dim = dimensions.get(dim, dimensions.UNITS).name
    only = {dimensions.get(d, dimensions.UNITS).name: v for d, v in (only or {}).items()}
    agents = agents or dim == "agent" or "agent" in only
    cols = None
    if columns is not None:
        dims = [dimensions.get(d, dimensions.UNITS) for d in (dim, *only)]
        cols = {*columns, *(x for d in dims for x in d.columns)}
    if agents:
        t = c.resolved(cols)
    elif once:
        t = c.scan()
    else:
        t = c.events if cols is None else c.narrow(cols)
    vis = ibis.literal(True)
    for d, value in (only or {}).items():
        vis = vis & (dim_expr(t, d).cast("string") == value).fill_null(False)
    key = ibis.coalesce(dim_expr(t, dim).cast("string"), ibis.literal(NONE))
    return t.mutate(_key=key, _vis=vis)


def queries_events(c: Costed, project: Project) -> bool:
    """Whether `allocate` queries the events for more than the variable cost per row (fixed
    cost weights, idle shares); if not, `allocate(..., variable=...)` reads no event."""
    return bool(project.fixed_costs) or (project.allocation.idle == "share" and bool(c.periods))


def allocate(
    c: Costed,
    project: Project,
    dim: str,
    only: Mapping[str, str] | None = None,
    variable: Mapping[Key, Decimal | None] | None = None,
    columns: Iterable[str] | None = None,
) -> Allocation:
    """The breakdown of the window's whole cost by `dim` (see the module docstring).

    `variable`: the variable cost per (`_key`, `_vis`) of `keyed(c, dim, only)` when the
    caller has summed it already (one query less). `columns`: materialize those and the
    allocation's (`allocation_columns`) only, for a caller that reads `keyed(c, dim, only,
    columns=...)` too (one table for both); None: every costed column."""
    agents = any(fc.agent for fc in project.fixed_costs)
    once = variable is not None and not queries_events(c, project)  # t is never read
    cols = None if columns is None else {*columns, *allocation_columns(project)}
    t: Any = None if once else keyed(c, dim, only, agents=agents, columns=cols)
    acc: dict[Key | str, AllocRow] = defaultdict(lambda: AllocRow(""))
    if variable is None:
        agg = t.group_by("_key", "_vis").agg(v=t.var_cost.sum()).to_pyarrow().to_pylist()
        variable = {(r["_key"], r["_vis"]): r["v"] for r in agg}
    for key, v in variable.items():
        acc[key].variable += v or ZERO
    charges = _fixed(c, project, t, acc)
    _idle(c, t, project.allocation.idle == "share", acc)
    rows = _merge(acc)
    return Allocation(
        dim,
        rows,
        variable=sum((r.variable for r in rows.values()), ZERO),
        fixed=sum((ch.amount for ch in charges), ZERO),
        idle=c.idle_total,
        charges=charges,
    )


def _fixed(c: Costed, project: Project, t: Any, acc: dict[Any, AllocRow]) -> list[Charge]:
    out: list[Charge] = []
    charged: list[tuple[FixedCost, list[Charge]]] = []
    for fc in project.fixed_costs:
        counts = fixed.task_counts(c.source, fc, c.window) if fc.amortize_tasks else None
        chs = fixed.charges(fc, c.window, counts)
        out.extend(chs)
        if chs:
            charged.append((fc, chs))
    every = fixed.weights_of(t, [fc for fc, _ in charged], ["_key", "_vis"])
    for (_, chs), ws in zip(charged, every, strict=True):
        for ch in chs:
            month = {(k, v): w for (m, k, v), w in ws.items() if m == ch.month}
            shares = fixed.split(ch.amount, month)
            for key, amt in shares.items():
                acc[key].fixed += amt
            if not shares:
                acc[UNALLOCATED].fixed += ch.amount
    return out


def _idle(c: Costed, t: Any, share: bool, acc: dict[Any, AllocRow]) -> None:
    idle: dict[tuple[str, Any], Decimal] = defaultdict(lambda: ZERO)
    for p in c.periods:
        idle[(p.endpoint, p.day.replace(day=1))] += p.idle
    ws: dict[tuple[str, Any], dict[Key, Decimal]] = defaultdict(dict)
    if share and idle:
        used = t.filter(t.cost_kind == "endpoint")
        agg = used.group_by("endpoint", "month", "_key", "_vis").agg(w=used.var_cost.sum())
        for r in agg.to_pyarrow().to_pylist():
            ws[(r["endpoint"], utc(r["month"]))][(r["_key"], r["_vis"])] = r["w"]
    for ep_month, amount in idle.items():
        shares = fixed.split(amount, ws.get(ep_month, {}))
        for key, amt in shares.items():
            acc[key].idle += amt
        if not shares and amount:
            acc[IDLE].idle += amount


def _merge(acc: Mapping[Any, AllocRow]) -> dict[str, AllocRow]:
    rows: dict[str, AllocRow] = {}
    for key, r in acc.items():
        name = key if isinstance(key, str) else (key[0] if key[1] else FILTERED)
        row = rows.setdefault(name, AllocRow(name))
        row.variable += r.variable
        row.fixed += r.fixed
        row.idle += r.idle
    return rows
