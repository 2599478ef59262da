"""Fixed costs: what each costs in the window (amortization), and its split by a driver.

Charge of a cost in calendar month m, for the part of m inside the window and inside
[start, end):

    monthly          M x f                     f = overlapping seconds / seconds of month m
    gb-month         gb x usd_per_gb_month x f
    hourly           usd_per_hour x overlapping hours
    one-time / N months   straight line over the life [start, start + N months): each month of
                     life (start + k months to start + k + 1 months) recognizes A/N, spread
                     evenly over its seconds; the charge of a calendar month is
                     R(end of its part) - R(start of its part), R(t) = A x (k + s/S) / N
                     (k whole months of life elapsed at t, s of the S seconds of month k+1),
                     each R rounded down to 1e-24, so the charges over the life sum to A
                     exactly, a mid-month start included (16 Oct, 6 months: to 16 Apr)
    one-time / E tasks    A x (min(E, n_m1) - min(E, n_m0)) / E, where n_m0 and n_m1 are the
                     tasks in scope started since `start` before and after month m's part
    one-time, neither     A in the month of `start`

Two ways to amortize a one-time cost A, both shown by `unitecon unit --loaded`
(`one_time_views`); the allocation uses the one the project file names:

    per period            A over N months of life (above): the window carries the months'
                          charges; per task = charge in the window / tasks in scope in it
    lifetime executions   A / E per task (the seed report's definition: total fixed
                          expenditure / expected lifetime executions), E = `amortize_tasks`;
                          for a cost amortized over months, E is estimated from the window's
                          run rate, E = tasks in scope in the window x life / window's part of
                          the life (the label says "estimated")

Split (largest remainder, exact): each month's charge goes to the keys of that month in
proportion to the driver's weight over the events in scope: `requests` (leaf calls),
`tokens` (input + output), `tasks` (distinct tasks), `variable_cost`, `even` (1 per key with
any event in scope), or `metric` (sum of a column or `tags.KEY`). A month with no weight in
scope cannot be split and goes to the unallocated line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import ibis

from unitecon.attribution.config import FixedCost
from unitecon.attribution.frame import (
    CTX,
    QUANTUM,
    ZERO,
    Window,
    is_leaf,
    next_month,
    q,
    task_count,
    utc,
)

K = TypeVar("K", bound=Hashable)
#: (tasks before the window, {month: tasks in the window's part of that month})
TaskCounts = tuple[int, dict[dt.datetime, int]]


@dataclass(frozen=True)
class Charge:
    """The part of a fixed cost that falls in one month of the window [USD]."""

    name: str
    month: dt.datetime
    amount: Decimal


def _overlap(a0: dt.datetime, a1: dt.datetime, b0: dt.datetime, b1: dt.datetime) -> Decimal:
    return Decimal(max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds()))


def _span(fc: FixedCost) -> tuple[dt.datetime, dt.datetime]:
    lo = utc(fc.start) if fc.start else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    hi = utc(fc.end) if fc.end else dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
    return lo, hi


def _monthly_base(fc: FixedCost) -> Decimal | None:
    if fc.monthly is not None:
        return fc.monthly
    if fc.gb is not None and fc.usd_per_gb_month is not None:
        return fc.gb * fc.usd_per_gb_month
    return None


def add_months(t: dt.datetime, n: int) -> dt.datetime:
    """`t` plus `n` calendar months, the day clipped to the month's last (31 Jan + 1 = 28 Feb)."""
    import calendar

    y, m = divmod(t.month - 1 + n, 12)
    year, month = t.year + y, m + 1
    day = min(t.day, calendar.monthrange(year, month)[1])
    return t.replace(year=year, month=month, day=day)


def recognized(fc: FixedCost, t: dt.datetime) -> Decimal:
    """R(t): the part of a one-time cost amortized over `amortize_months` that is recognized
    by time t [USD], straight line within each month of its life (module docstring)."""
    assert fc.amount is not None and fc.amortize_months is not None and fc.start
    start, n = utc(fc.start), fc.amortize_months
    if t <= start:
        return ZERO
    if t >= add_months(start, n):
        return fc.amount
    k = (t.year - start.year) * 12 + t.month - start.month
    while add_months(start, k) > t:
        k -= 1
    lo, hi = add_months(start, k), add_months(start, k + 1)
    s, size = Decimal((t - lo).total_seconds()), Decimal((hi - lo).total_seconds())
    return q(CTX.divide(CTX.multiply(fc.amount, CTX.add(Decimal(k) * size, s)), size * n))


def _prorate(x: Decimal, secs: Decimal, month_secs: Decimal) -> Decimal:
    """x x f as one division (exact whenever the result is a whole number of quanta)."""
    return q(CTX.divide(x * secs, month_secs))


def charges(fc: FixedCost, w: Window, tasks: TaskCounts | None = None) -> list[Charge]:
    """The charges of `fc` per month of `w`. `tasks`: for `amortize_tasks`, the tasks in
    scope since `start` before the window and per month inside it (`task_counts`)."""
    lo, hi = _span(fc)
    out = []
    cum, per_month = tasks or (0, {})
    for m, s, e in w.months():
        secs, month_secs = _overlap(s, e, lo, hi), Decimal((next_month(m) - m).total_seconds())

        base = _monthly_base(fc)
        if base is not None:
            amt = _prorate(base, secs, month_secs)
        elif fc.usd_per_hour is not None:
            amt = q(CTX.divide(fc.usd_per_hour * secs, Decimal(3600)))
        elif fc.amortize_months:
            amt = recognized(fc, max(s, min(e, hi))) - recognized(fc, max(s, lo)) if secs else ZERO
        elif fc.amortize_tasks:
            assert fc.amount is not None
            n0, cum = cum, cum + per_month.get(m, 0)
            used = min(fc.amortize_tasks, cum) - min(fc.amortize_tasks, n0)
            amt = q(CTX.divide(fc.amount * used, Decimal(fc.amortize_tasks)))
        else:
            assert fc.amount is not None
            amt = fc.amount if s <= lo < e else ZERO
        if amt:
            out.append(Charge(fc.name, m, amt))
    return out


@dataclass(frozen=True)
class OneTimeView:
    """One one-time cost amortized both ways over the window [USD, tasks]."""

    name: str
    amount: Decimal
    method: str
    """The method the figures use: `per period (N months)` or `lifetime executions (E)`."""
    window_charge: Decimal
    """What the window carries under `method` (the allocated figure)."""
    tasks: int
    """Tasks in the cost's scope in the window (from `start`)."""
    per_period_charge: Decimal | None
    """The window's charge amortized over `amortize_months` (None: not configured)."""
    lifetime_tasks: Decimal | None
    """E: configured (`amortize_tasks`), else estimated from the window's run rate."""
    lifetime_estimated: bool

    @property
    def per_task_per_period(self) -> Decimal | None:
        """Per period: the window's charge / tasks in the window [USD/task]."""
        if self.per_period_charge is None or not self.tasks:
            return None
        return q(CTX.divide(self.per_period_charge, Decimal(self.tasks)))

    @property
    def per_task_lifetime(self) -> Decimal | None:
        """Lifetime executions: A / E [USD/task]."""
        if not self.lifetime_tasks:
            return None
        return q(CTX.divide(self.amount, self.lifetime_tasks))

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "amount": self.amount,
            "method": self.method,
            "window_charge": self.window_charge,
            "tasks_in_window": self.tasks,
            "per_period_charge": self.per_period_charge,
            "cost_per_task_per_period": self.per_task_per_period,
            "lifetime_tasks": self.lifetime_tasks,
            "lifetime_tasks_estimated": self.lifetime_estimated,
            "cost_per_task_lifetime": self.per_task_lifetime,
        }


def life_span(fc: FixedCost) -> tuple[dt.datetime, dt.datetime]:
    """[start, start + N months) of a cost amortized over months."""
    assert fc.start is not None and fc.amortize_months is not None
    start = utc(fc.start)
    return start, add_months(start, fc.amortize_months)


def one_time_view(fc: FixedCost, w: Window, counts: TaskCounts) -> OneTimeView:
    """`fc` (a one-time cost amortized over months or tasks) both ways over `w`."""
    assert fc.amount is not None
    tasks = sum(counts[1].values())
    charged = sum((ch.amount for ch in charges(fc, w, counts)), ZERO)
    per_period, lifetime, estimated = None, None, False
    if fc.amortize_months:
        method = f"per period ({fc.amortize_months} months)"
        per_period = charged
        lo, hi = life_span(fc)
        part = _overlap(w.since, w.until, lo, hi)
        if part and tasks:
            life = Decimal((hi - lo).total_seconds())
            lifetime, estimated = CTX.divide(CTX.multiply(Decimal(tasks), life), part), True
    else:
        method = f"lifetime executions ({fc.amortize_tasks:,} tasks)"
        lifetime = Decimal(fc.amortize_tasks or 0) or None
    return OneTimeView(fc.name, fc.amount, method, charged, tasks, per_period, lifetime, estimated)


def split(total: Decimal, weights: Mapping[K, Decimal]) -> dict[K, Decimal]:
    """Split `total` over keys in proportion to `weights` exactly (largest remainder on the
    1e-24 quantum). Non-positive weights get nothing; {} when no weight is positive."""
    pos = {k: w for k, w in weights.items() if w > 0}
    wsum = sum(pos.values(), ZERO)
    if not pos or not total:
        return {}
    units = int(CTX.divide(total, QUANTUM))
    exact = {k: CTX.divide(CTX.multiply(Decimal(units), w), wsum) for k, w in pos.items()}
    base = {k: int(v) for k, v in exact.items()}
    left = units - sum(base.values())
    order = sorted(pos, key=lambda k: (exact[k] - base[k], str(k)), reverse=True)
    for k in order[:left]:
        base[k] += 1
    return {k: CTX.multiply(Decimal(v), QUANTUM) for k, v in base.items()}


def scope(t: Any, fc: FixedCost) -> Any:
    """Whether an event of `t` carries `fc` (`in_scope`), as a boolean expression."""
    cond = is_leaf(t)
    if fc.feature is not None:
        cond = cond & (t.feature == fc.feature)
    if fc.agent is not None:
        cond = cond & (t.agent_r == fc.agent)
    return cond


def in_scope(t: Any, fc: FixedCost) -> Any:
    """Leaf events that carry `fc`: all, or one feature, or one (resolved) agent."""
    return t.filter(scope(t, fc))


def _driver(t: Any, fc: FixedCost) -> Any:
    d = fc.driver
    if d == "requests":
        return t.count()
    if d == "tokens":
        return (t.input_tokens + t.output_tokens).sum()
    if d == "tasks":
        return task_count(t)
    if d == "variable_cost":
        return t.var_cost.sum()
    if d == "even":
        return ibis.literal(1)
    assert fc.metric is not None
    if fc.metric.startswith("tags."):
        return t.tags[fc.metric[5:]].cast("float64").sum()
    return t[fc.metric].cast("float64").sum()


def columns(fc: FixedCost) -> set[str]:
    """The costed-event columns `weights(t, fc, keys)` reads besides `keys` (`agent_r`: the
    columns it is resolved from)."""
    from unitecon.attribution.trees import AGENT_COLUMNS

    out = {"month", "operation"}  # the month, the leaf rule of `in_scope`
    if fc.feature is not None:
        out.add("feature")
    if fc.agent is not None:
        out.update(AGENT_COLUMNS)
    d = fc.driver
    if d == "tokens":
        out.update(("input_tokens", "output_tokens"))
    elif d == "tasks":
        out.update(("task_id", "trace_id"))
    elif d == "variable_cost":
        out.add("var_cost")
    elif d not in ("requests", "even"):
        assert fc.metric is not None
        out.add("tags" if fc.metric.startswith("tags.") else fc.metric)
    return out


def weights(t: Any, fc: FixedCost, keys: list[str]) -> dict[tuple[Any, ...], Decimal]:
    """{(month, *keys): driver weight} over the events in scope (one query)."""
    s = in_scope(t, fc)
    agg = s.group_by("month", *keys).agg(_w=_driver(s, fc))
    rows = agg.to_pyarrow().to_pylist()
    return {(utc(r["month"]), *(r[k] for k in keys)): Decimal(str(r["_w"] or 0)) for r in rows}


def _filtered_driver(t: Any, fc: FixedCost, cond: Any) -> Any:
    """`_driver(in_scope(t, fc), fc)` as an aggregate of `t` filtered by `cond` (the scope);
    None for a driver summed in floating point (`metric`: its own query, so that its
    sums add the same rows in the same way as `weights`)."""
    d = fc.driver
    if d == "requests":
        return t.count(where=cond)
    if d == "tokens":
        return (t.input_tokens + t.output_tokens).sum(where=cond)
    if d == "tasks":
        return ibis.coalesce(t.task_id, t.trace_id).nunique(where=cond) + t.count(
            where=cond & t.task_id.isnull() & t.trace_id.isnull()
        )
    if d == "variable_cost":
        return t.var_cost.sum(where=cond)
    if d == "even":
        return ibis.literal(1)
    return None


def weights_of(
    t: Any, fcs: list[FixedCost], keys: list[str]
) -> list[dict[tuple[Any, ...], Decimal]]:
    """`weights(t, fc, keys)` of each cost of `fcs`, in one query where their drivers are
    exact (counts, integer and decimal sums): grouped by the month and `keys`, each cost's
    driver and count of events over its own scope as filtered aggregates, a group with no
    event in a cost's scope left out of that cost's weights (as `weights`, which groups
    the events in scope only, never sees it). A command that allocates six fixed costs
    compiles and runs one query instead of six."""
    out: list[dict[tuple[Any, ...], Decimal] | None] = [None] * len(fcs)
    aggs: dict[str, Any] = {}
    for i, fc in enumerate(fcs):
        cond = scope(t, fc)
        w = _filtered_driver(t, fc, cond)
        if w is None:
            out[i] = weights(t, fc, keys)
            continue
        aggs[f"_w{i}"] = w
        aggs[f"_n{i}"] = t.count(where=cond)
    if aggs:
        rows = t.group_by("month", *keys).agg(**aggs).to_pyarrow().to_pylist()
        for i in range(len(fcs)):
            if out[i] is not None:
                continue
            out[i] = {
                (utc(r["month"]), *(r[k] for k in keys)): Decimal(str(r[f"_w{i}"] or 0))
                for r in rows
                if r[f"_n{i}"]
            }
    return [w or {} for w in out]


TASK_COUNT_COLUMNS = ("ts", "operation", "task_id", "trace_id", "event_id", "feature")
"""The event columns `task_counts` reads (the task, the leaf rule, a feature's scope), with
`trees.AGENT_COLUMNS` for an agent's scope."""


def task_counts(source: Any, fc: FixedCost, w: Window) -> TaskCounts:
    """Tasks in scope (by their first event, since `fc.start`): before `w`, and per month
    inside `w`.

    Reads the columns it needs of `source` only, and resolves the agents of an agent's
    cost by the narrow join (`trees.agent_lookup`, the same `agent_r` row for row as
    `trees.resolve_agents`): only the calls without an agent are walked up their spans."""
    from unitecon.attribution.frame import task_key
    from unitecon.attribution.trees import AGENT_COLUMNS, agent_lookup, join_resolved

    keep = set(TASK_COUNT_COLUMNS) - {"feature"}
    if fc.feature is not None:
        keep.add("feature")
    if fc.agent is not None:
        keep.update(AGENT_COLUMNS)
    t = source.select(*(c for c in source.columns if c in keep))
    t = t.mutate(task=task_key(t))
    if fc.start is not None:
        t = t.filter(t.ts >= utc(fc.start))
    t = t.filter(t.ts < w.until)
    if fc.agent is not None:
        t = join_resolved(t, agent_lookup(t))
    first = in_scope(t, fc).group_by("task").agg(ts=ibis._.ts.min())
    before = ibis.ifelse(first.ts < w.since, None, first.ts.truncate("M"))
    rows = first.group_by(m=before).agg(n=ibis._.count()).to_pyarrow().to_pylist()
    counts = {r["m"]: int(r["n"]) for r in rows}
    return counts.pop(None, 0), {utc(m): n for m, n in counts.items()}


def one_time_views(source: Any, w: Window, fixed_costs: Any) -> list[OneTimeView]:
    """Every one-time cost amortized over months or tasks, both ways over `w` (`source`:
    the priced events before the window filter, `Costed.source`)."""
    return [
        one_time_view(fc, w, task_counts(source, fc, w))
        for fc in fixed_costs
        if fc.amount is not None and (fc.amortize_months or fc.amortize_tasks)
    ]
