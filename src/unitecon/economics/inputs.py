"""What margins need from the ledger, as plain records: cost and usage per customer-month-feature.

One engine query per record kind; everything after this module is pure Python over Decimals.

- `UsageLine`: variable cost by model [USD] and usage units of one (customer, month, feature).
- `window`: the whole UTC days the data covers, [first day, last day + 1); revenue is
  prorated to it so that revenue and cost cover the same days (`revenue.py`).
- `coverage`: the share of each calendar month that the window covers (a 60-day window starts
  and ends in part-months), used to turn a part-month into a monthly run rate.

The variable cost is the attribution stage's `var_cost` (tokens + unit prices + GPU time,
leaf-only) when that stage is available, else the pricing stage's `cost` of leaf events
weighted by 1/sample_rate. Usage counts are not re-weighted for sampling.

- `FixedLines`: the project's fixed costs (and idle GPU cost) of the window per (customer,
  month, feature), allocated by the attribution stage's drivers, with the special lines.

Usage metrics (per customer, month and feature; revenue needs them at that grain):

    tasks              distinct tasks (task_id, else trace_id, else event_id)
    successful_tasks   tasks whose last event (by ts) with a known `accepted` has it true
                       (unknown is not success)
    conversations      distinct conversation_id
    resolutions        distinct conversations (else tasks) holding a successful task
    ktokens            (input_tokens + output_tokens) / 1000 over leaf events

"Successful task" is the one rule of `unitecon.attribution.outcomes` (`last_accepted`,
`succeeded`: the last known `accepted` is true), applied per slice: `task_outcomes` judges a
whole task, while revenue counts a task in each (customer, month, feature) slice it touches,
so its verdict is the last known one inside the slice. The two agree whenever a task stays in
one slice (a test checks it).

Fixed cost per (customer, month, feature), `fixed_lines`: each fixed cost's monthly charge
is split by its own driver and scope (`attribution.keyed_alloc`, the functions of
`attribution.fixed`); with `allocation: {idle: share}` the endpoints' idle cost is split over
the rows that used them by GPU cost. What no row can carry stays visible on its own line:
`__unallocated__` (a month's charge with no driver weight in scope) and `__idle__` (idle
with `idle: line`, or an endpoint-month nobody used). So, exactly:

    sum over lines = fixed cost of the window + idle cost of the window
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from unitecon.attribution.frame import IDLE as IDLE
from unitecon.attribution.frame import UNALLOCATED as UNALLOCATED
from unitecon.attribution.frame import UNATTRIBUTED as UNATTRIBUTED
from unitecon.attribution.frame import utc_date
from unitecon.attribution.outcomes import last_accepted, succeeded
from unitecon.economics.window import Window
from unitecon.ledger.schema import STRUCTURAL_OPERATIONS

#: Lines of `fixed_lines` that are no customer (the keys of `unitecon.attribution.frame`,
#: whose `LABELS` are what tables show).
SPECIAL = (IDLE, UNALLOCATED)
#: (customer_id, month, feature) of a margin row.
FixedKey = tuple[str, dt.date, str | None]
ZERO = Decimal(0)
USAGE_METRICS = ("tasks", "successful_tasks", "conversations", "resolutions", "ktokens")


@dataclass(frozen=True)
class UsageLine:
    """Cost and usage of one customer in one month for one feature."""

    customer_id: str
    month: dt.date
    feature: str | None
    cost_by_model: Mapping[str | None, Decimal] = field(default_factory=dict)
    """Variable cost per model [USD]."""
    tasks: Decimal = ZERO
    successful_tasks: Decimal = ZERO
    conversations: Decimal = ZERO
    resolutions: Decimal = ZERO
    ktokens: Decimal = ZERO

    @property
    def variable_cost(self) -> Decimal:
        """Sum of the per-model variable costs [USD]."""
        return sum(self.cost_by_model.values(), ZERO)

    def metric(self, name: str) -> Decimal:
        """Units of a usage metric (see the module docstring) [units]."""
        if name not in USAGE_METRICS:
            raise KeyError(name)
        value: Decimal = getattr(self, name)
        return value

    def scaled(self, factor: Decimal) -> UsageLine:
        """This line with usage and cost multiplied by `factor` (what-if)."""
        return replace(
            self,
            cost_by_model={m: c * factor for m, c in self.cost_by_model.items()},
            tasks=self.tasks * factor,
            successful_tasks=self.successful_tasks * factor,
            conversations=self.conversations * factor,
            resolutions=self.resolutions * factor,
            ktokens=self.ktokens * factor,
        )


def _leaf(t: ir.Table) -> ir.BooleanValue:
    return ~t.operation.isin(sorted(STRUCTURAL_OPERATIONS))


def _prepare(events: ir.Table, cost_col: str) -> ir.Table:
    """Add customer, month, task and leaf cost columns."""
    if cost_col == "cost":
        from unitecon.economics.costs import weighted_cost

        cost = weighted_cost(events)
    else:
        cost = events[cost_col].fill_null(0)
    leaf = _leaf(events)
    return events.mutate(
        _customer=events.customer_id.fill_null(UNATTRIBUTED),
        _month=utc_date(events, "M"),
        _task=ibis.coalesce(events.task_id, events.trace_id, events.event_id),
        _cost=ibis.ifelse(leaf, cost, 0),
        _tokens=ibis.ifelse(leaf, events.input_tokens + events.output_tokens, 0),
    )


_KEYS = ["_customer", "_month", "feature"]


USAGE_COLUMNS = (
    "customer_id", "ts", "task_id", "trace_id", "event_id", "operation", "input_tokens",
    "output_tokens", "feature", "model", "conversation_id", "accepted",
)  # fmt: skip
"""The event columns `usage_lines` reads besides the cost column (`_prepare`, the two
queries below, `last_accepted`)."""

FIXED_KEY_COLUMNS = ("customer_id", "feature")
"""The event columns of the keys `fixed_lines` allocates on."""


def _usage_query(t: ir.Table) -> ir.Table:
    per_task = t.group_by([*_KEYS, "_task"]).aggregate(
        last=last_accepted(t),
        conv=t.conversation_id.max(),
        tokens=t._tokens.sum(),
    )
    per_task = per_task.mutate(ok=succeeded(per_task["last"]))
    per_task = per_task.mutate(
        res=ibis.ifelse(per_task.ok, ibis.coalesce(per_task.conv, per_task._task), None)
    )
    base = per_task.group_by(_KEYS).aggregate(
        tasks=per_task.count(),
        successful_tasks=per_task.ok.cast("int64").sum(),
        tokens=per_task.tokens.sum(),
    )
    # The distinct conversations and resolutions of a line, counted as distinct (line,
    # value) pairs first: a group by of a few columns each instead of two distinct
    # aggregates in the group by above (`margins --json` on 10M events: 20.5 s CPU against
    # 21.9-22.5 s, the same bytes; docs/benchmarks.md, Session 13).
    for col, name in (("conv", "conversations"), ("res", "resolutions")):
        pairs = per_task.filter(per_task[col].notnull()).select(*_KEYS, col).distinct()
        n = pairs.group_by(_KEYS).aggregate(**{name: pairs.count()})
        base = base.left_join(n, [base[k].identical_to(n[k]) for k in _KEYS]).select(
            *base.columns, name
        )
    return base.mutate(
        conversations=base.conversations.fill_null(0), resolutions=base.resolutions.fill_null(0)
    )


def _cost_query(t: ir.Table) -> ir.Table:
    return t.group_by([*_KEYS, "model"]).aggregate(cost=t._cost.sum())


def usage_lines(events: ir.Table, cost_col: str = "cost") -> list[UsageLine]:
    """Per (customer, month, feature): variable cost by model and usage units.

    `events` is a priced-events table (`cost_col='cost'`) or the attribution stage's costed
    events (`cost_col='var_cost'`).
    """
    t = _prepare(events, cost_col)
    costs: dict[tuple[Any, ...], dict[str | None, Decimal]] = {}
    for r in _cost_query(t).to_pyarrow().to_pylist():
        key = (r["_customer"], r["_month"], r["feature"])
        costs.setdefault(key, {})[r["model"]] = Decimal(r["cost"] or 0)
    out = []
    for r in _usage_query(t).to_pyarrow().to_pylist():
        key = (r["_customer"], r["_month"], r["feature"])
        out.append(
            UsageLine(
                customer_id=key[0],
                month=key[1],
                feature=key[2],
                cost_by_model=costs.get(key, {}),
                tasks=Decimal(r["tasks"] or 0),
                successful_tasks=Decimal(r["successful_tasks"] or 0),
                conversations=Decimal(r["conversations"] or 0),
                resolutions=Decimal(r["resolutions"] or 0),
                ktokens=Decimal(r["tokens"] or 0) / 1000,
            )
        )
    return sorted(out, key=lambda u: (u.customer_id, u.month, u.feature or ""))


def month_coverage(first: dt.datetime, last: dt.datetime) -> dict[dt.date, Decimal]:
    """Share of each calendar month covered by whole UTC days from `first` to `last`.

    coverage = days observed in the month / days in the month [fraction, 0..1].
    """
    day, end = first.date(), last.date()
    out: dict[dt.date, Decimal] = {}
    while day <= end:
        m = day.replace(day=1)
        days_in = calendar.monthrange(m.year, m.month)[1]
        stop = min(end, m.replace(day=days_in))
        out[m] = Decimal((stop - day).days + 1) / days_in
        day = stop + dt.timedelta(days=1)
    return out


def window(events: ir.Table) -> Window | None:
    """The whole UTC days from the events' first to their last timestamp (None: no events)."""
    r = events.aggregate(lo=events.ts.min(), hi=events.ts.max()).to_pyarrow().to_pylist()[0]
    if r["lo"] is None:
        return None
    return Window(r["lo"].date(), r["hi"].date() + dt.timedelta(days=1))


def window_of(since: dt.datetime, until: dt.datetime) -> Window:
    """The whole UTC days of an attribution window [since, until)."""
    last = until - dt.timedelta(microseconds=1)
    return Window(since.date(), last.date() + dt.timedelta(days=1))


def window_coverage(w: Window | None) -> dict[dt.date, Decimal]:
    """`month_coverage` of a window's days."""
    if w is None or w.days <= 0:
        return {}
    first = dt.datetime.combine(w.since, dt.time())
    return month_coverage(first, dt.datetime.combine(w.until - dt.timedelta(days=1), dt.time()))


def coverage(events: ir.Table) -> dict[dt.date, Decimal]:
    """`month_coverage` of the events' first and last timestamps."""
    return window_coverage(window(events))


def costed(priced: ir.Table, project: Any, earlier: Any = None) -> Any | None:
    """The attribution stage's `Costed` window of `priced`, None without that stage."""
    try:
        from unitecon.attribution.costed import variable_costs
    except ImportError:
        return None
    return variable_costs(priced, project, earlier=earlier)


def costed_events(priced: ir.Table, project: Any) -> tuple[ir.Table, str]:
    """The richest variable-cost table available: attribution's, else the priced events."""
    c = costed(priced, project)
    return (priced, "cost") if c is None else (c.events, "var_cost")


@dataclass(frozen=True)
class FixedLines:
    """Fixed (and idle) cost of the window per (customer, month, feature) [USD]."""

    amounts: dict[FixedKey, Decimal]
    """Allocated fixed + shared idle per key, `__unallocated__` and `__idle__` included."""
    fixed_total: Decimal
    """Charges of the project's fixed costs in the window [USD]."""
    idle_total: Decimal
    """Idle GPU cost of the self-hosted endpoints in the window [USD]."""
    idle: str
    """`line` or `share` (the project's `allocation.idle`)."""
    charges: int = 0
    """Number of monthly charges behind `fixed_total`."""

    @property
    def total(self) -> Decimal:
        return self.fixed_total + self.idle_total


def fixed_lines(c: Any, project: Any, columns: Iterable[str] = ()) -> FixedLines:
    """Allocate the project's fixed costs (and idle) of the `Costed` window `c` per
    (customer, month, feature); see the module docstring. The costed events materialized
    are the columns it reads and `columns` (a caller's, to share one table)."""
    from unitecon.attribution.keyed_alloc import allocate_keyed

    keys = {
        "_customer": lambda t: t.customer_id.fill_null(UNATTRIBUTED),
        "_feature": lambda t: t.feature,
    }
    a = allocate_keyed(c, project, keys, {*columns, *FIXED_KEY_COLUMNS})
    out: dict[FixedKey, Decimal] = {}

    def add(key: FixedKey, amount: Decimal) -> None:
        out[key] = out.get(key, ZERO) + amount

    for (month, cid, feature), amt in [*a.fixed.items(), *a.idle.items()]:
        add((cid, month.date(), feature), amt)
    for month, amt in a.unallocated.items():
        add((UNALLOCATED, month.date(), None), amt)
    for month, amt in a.idle_line.items():
        add((IDLE, month.date(), None), amt)
    return FixedLines(
        out, a.fixed_total, a.idle_total, project.allocation.idle, charges=len(a.charges)
    )
