"""Variable cost of every event: token prices (pricing stage) + unit prices + GPU time.

Input: a priced-events table (all event columns plus `priced`, `price_status`,
`input_cost`, `output_cost`, `cost`, `price_rule`, `catalog_version`, as
`unitecon.pricing.priced_events` returns). Output adds, per event in the window:

    var_cost   DECIMAL(38,24), never null: the cost if priced and a leaf, else 0; weighted
               by round(1/sample_rate, 6) for sampled token and unit rows (as
               `economics.costs.weighted_cost`); GPU-time rows are not re-weighted, so the
               endpoint's cost stays conserved
    cost_kind  token | endpoint | unit | structural | unpriced
    gpu_s      GPU-seconds of a self-hosted call (null elsewhere)
    task       the task key (task_id, else trace_id, else event_id)
    day, month UTC truncations of ts
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ibis

from unitecon.attribution.frame import (
    MONEY,
    QTY,
    ZERO,
    Window,
    in_window,
    is_leaf,
    money,
    task_key,
    utc_trunc,
    weighted,
    window_around,
    window_of,
)
from unitecon.attribution.selfhosted import (
    Period,
    apply_endpoint_costs,
    busy_by_day,
    periods,
    with_gpu_seconds,
)
from unitecon.attribution.units import apply_unit_prices
from unitecon.engine import capabilities, drop, materialize, view
from unitecon.pricing.engine import PRICED_COLUMNS

if TYPE_CHECKING:
    from unitecon.config import Project


@dataclass(frozen=True)
class Survey:
    """What the unit metrics need to know of the events before their one pass (a superset
    when taken over more events than the window's)."""

    verdicts: int
    """Events with a known `accepted` or a leaf call that errored (0: every task's outcome
    is unknown)."""
    conversations: int
    """Events with a `conversation_id` (0: no conversation to count)."""


def survey_aggregates(t: Any) -> dict[str, Any]:
    """The aggregates of a `Survey` of the (priced) events `t`, for one `aggregate` call."""
    return {
        "_verdicts": t.count(where=t.accepted.notnull() | (is_leaf(t) & (t.status == "error"))),
        "_conversations": t.conversation_id.count(),
    }


def survey_of(row: dict[str, Any]) -> Survey:
    return Survey(
        int(row["_verdicts"] or 0),
        int(row["_conversations"] or 0),
    )


@dataclass(frozen=True)
class Costed:
    """The events of a window with their variable cost, and the endpoint periods.

    `query` is the costed events as an Ibis expression, not yet computed: reading it runs the
    pricing join again. `events` computes it once into a temporary table, on first use, for
    readers that query it several times; `scan()` gives that table when it exists, else the
    query, for a reader that reads the events once (one pass, no temporary table).
    """

    query: Any  # ibis.Table
    window: Window
    periods: tuple[Period, ...]
    source: Any
    """The events the window was cut from (the priced table before the window filter, or
    the events before the window beside the window's own): the tasks a one-time cost
    amortized over tasks has used before the window (`fixed.task_counts`)."""
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def events(self) -> Any:
        """The costed events (ibis.Table), materialized once into a temporary table."""
        if "events" not in self._cache:
            self._cache["events"] = materialize(self.query)
        return self._cache["events"][0]

    def scan(self) -> Any:
        """`events` if already materialized, else `query` (for a single read)."""
        hit = self._cache.get("events")
        return self.query if hit is None else hit[0]

    def narrow(self, columns: Iterable[str]) -> Any:
        """The costed events with the columns `columns` only, materialized once, for a
        reader that queries them several times and names every column it reads: `events`
        itself when that is materialized already (it holds them all).

        Writing the table is most of a read command's time, and grows with its width: on
        the demo ledger the 54 columns of `events` take 1.1 s of CPU, the 24 governance
        reads 0.5 s. A column left out fails the reader's expression, it does not change
        an answer (except where a reader asks whether a column exists: name it then)."""
        hit = self._cache.get("events")
        if hit is not None:
            return hit[0]
        wanted = set(columns)
        unknown = sorted(wanted - set(self.query.columns))
        if unknown:
            raise KeyError(f"not a costed-event column: {', '.join(unknown)}")
        keep = [c for c in self.query.columns if c in wanted]
        key = "narrow:" + ",".join(keep)
        if key not in self._cache:
            self._cache[key] = materialize(self.query.select(*keep))
        return self._cache[key][0]

    def survey(self) -> Survey:
        """The `Survey` of the events: taken with the window when that needed a query, else
        one query now."""
        if "survey" not in self._memo:
            t = self.scan()
            self._memo["survey"] = survey_of(
                t.aggregate(**survey_aggregates(t)).to_pyarrow().to_pylist()[0]
            )
        hit: Survey = self._memo["survey"]
        return hit

    def resolved(self, columns: Iterable[str] | None = None) -> Any:
        """`events` with `agent_r` (see `trees.resolve_agents`), materialized once: on an
        engine with temporary tables as `events` joined to the narrow `trees.agent_lookup`.
        With `columns`: on `narrow(columns)` (plus the columns the agents are resolved
        from), for a reader that names every column it reads."""
        from unitecon.attribution.trees import (
            AGENT_COLUMNS,
            agent_lookup,
            join_resolved,
            resolve_agents,
        )

        whole = columns is None or "events" in self._cache
        base = self.events if whole else self.narrow({*(columns or ()), *AGENT_COLUMNS})
        key = "resolved" if whole else "resolved:" + ",".join(base.columns)
        if key not in self._cache:
            if capabilities(base).temp_tables:  # a narrow table, not a second copy
                self._cache["agents:" + key] = materialize(agent_lookup(base))
                found = self._cache["agents:" + key][0]
                self._cache[key] = (join_resolved(base, found), "")
            else:
                self._cache[key] = materialize(resolve_agents(base))
        return self._cache[key][0]

    def resolved_where(self, tasks: Iterable[str], columns: Iterable[str] | None = None) -> Any:
        """`resolved(columns)` for the events of `tasks` (task keys or trace ids) and every
        span of their traces only, materialized once per set of tasks: for a reader of a
        few tasks (`economics.tasks`), instead of writing the window's every event. An
        agent is resolved among its trace's spans only (`trees.resolve_agents`), so each
        kept row's `agent_r` is the one `resolved` gives it.

        When the window's events or a set of tasks holding all of `tasks` is materialized
        already, read from it."""
        from unitecon.attribution.trees import AGENT_COLUMNS, agent_lookup, join_resolved

        wanted = frozenset(tasks)
        q = self.query
        cols = set(q.columns) if columns is None else {*columns, *AGENT_COLUMNS, "task"}
        for held, held_cols, table in self._memo.get("subsets", ()):
            if wanted <= held and cols <= held_cols:
                return table
        if "events" in self._cache:
            return self._filtered(self.resolved(), wanted)
        keep = [str(k) for k in sorted(wanted)]
        # the traces as values, not a subquery: both filters are then on stored columns
        # (the task key is one), which the engine applies at the scan, before pricing
        ids = q.filter(q.task.isin(keep) | q.trace_id.isin(keep)).select("trace_id").distinct()
        traces = sorted(r["trace_id"] for r in ids.to_pyarrow().to_pylist() if r["trace_id"])
        rows = q.filter(q.task.isin(keep) | q.trace_id.isin(traces or keep))
        key = "subset:" + ",".join(keep) + ":" + ",".join(sorted(cols))
        if key not in self._cache:
            self._cache[key] = materialize(rows.select(*(c for c in q.columns if c in cols)))
        base = self._cache[key][0]
        if capabilities(base).temp_tables:
            self._cache["agents:" + key] = materialize(agent_lookup(base))
            out = join_resolved(base, self._cache["agents:" + key][0])
        else:
            from unitecon.attribution.trees import resolve_agents

            self._cache["resolved:" + key] = materialize(resolve_agents(base))
            out = self._cache["resolved:" + key][0]
        self._memo.setdefault("subsets", []).append((wanted, frozenset(cols), out))
        return out

    @staticmethod
    def _filtered(t: Any, tasks: frozenset[str]) -> Any:
        keep = sorted(tasks)
        return t.filter(t.task.isin(keep) | t.trace_id.isin(keep))

    def release(self) -> None:
        """Drop the temporary tables (call before closing the backend)."""
        for t, name in self._cache.values():
            drop(t, name)
        self._cache.clear()
        self._memo.pop("subsets", None)

    @property
    def idle_total(self) -> Decimal:
        return sum((p.idle for p in self.periods), ZERO)

    @property
    def endpoint_total(self) -> Decimal:
        return sum((p.cost for p in self.periods), ZERO)


def check_priced(t: Any) -> None:
    missing = [c for c in PRICED_COLUMNS if c not in t.columns]
    if missing:
        from unitecon.errors import UniteconError

        raise UniteconError(
            f"Not a priced-events table: missing {', '.join(missing)}. "
            "Pass the result of unitecon.pricing.priced_events(...)."
        )


def variable_costs(
    priced: Any,
    project: Project,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    *,
    earlier: Any = None,
) -> Costed:
    """Apply unit prices and endpoint GPU-time cost; keep only leaves' cost (leaf-only).

    The window and the endpoint periods are computed here; the events are not: `Costed.events`
    materializes them (a temporary table) on first use, since most reports query them several
    times, and `Costed.release()` drops it. A one-pass reader uses `Costed.scan()`.

    `earlier`: the ledger's events (not priced, any window), when `priced` holds the
    window's events only: the tasks before the window that a one-time cost amortized over
    tasks has already been charged for are counted from it (`Costed.source`).
    """
    check_priced(priced)
    memo: dict[str, Any] = {}
    if since is None or until is None:  # one query: the bounds, and the survey on the way
        t = priced
        row = t.aggregate(lo=t.ts.min(), hi=t.ts.max(), **survey_aggregates(t))
        r = row.to_pyarrow().to_pylist()[0]
        w, memo["survey"] = window_around(r["lo"], r["hi"], since, until), survey_of(r)
    else:
        w = window_of(priced, since, until)
    t = in_window(priced, w)
    t = t.mutate(
        cost=money(t.cost), input_cost=money(t.input_cost), output_cost=money(t.output_cost)
    )
    if project.unit_prices:  # no prices: the join would change nothing
        t = apply_unit_prices(t, project.unit_prices)
    if project.endpoints:
        t = view(with_gpu_seconds(t, project.endpoints))
        ps = periods(project.endpoints, busy_by_day(t), w)
        t = apply_endpoint_costs(t, ps)
    else:  # no endpoints: no GPU time, no periods, no scan for busy time
        t, ps = _no_gpu_time(t), []
    return Costed(view(_finish(t)), w, tuple(ps), _with_earlier(priced, earlier, w), _memo=memo)


def _with_earlier(priced: Any, earlier: Any, w: Window) -> Any:
    """The events a window's one-time costs count tasks over: `priced` when it is not cut
    at the window's start (`earlier` None), else the events of `earlier` before the window
    and those of `priced`, in the columns `fixed.task_counts` reads. A question with
    `--since` prices the window's events only; the tasks before it have still used part of
    a cost amortized over tasks."""
    if earlier is None:
        return priced
    from unitecon.attribution.fixed import TASK_COUNT_COLUMNS
    from unitecon.attribution.trees import AGENT_COLUMNS

    wanted = {*TASK_COUNT_COLUMNS, *AGENT_COLUMNS}
    cols = [c for c in priced.columns if c in wanted]
    before = earlier.filter(earlier.ts < w.since)
    before = before.select(*(before[c].cast(priced[c].type()).name(c) for c in cols))
    return before.union(priced.select(*cols))


def _no_gpu_time(t: Any) -> Any:
    """The columns `with_gpu_seconds` adds, as it computes them when no endpoint matches."""
    return t.mutate(
        gpu_s=ibis.null(QTY),
        prefill_s=ibis.null("float64"),
        decode_s=ibis.null("float64"),
        day=utc_trunc(t, "D"),
    )


def _finish(t: Any) -> Any:
    leaf = is_leaf(t)
    has_cost = leaf & t.priced.fill_null(False) & t.cost.notnull()
    kind = ibis.cases(
        (~leaf, "structural"),
        (~has_cost, "unpriced"),
        (t.price_status == "endpoint", "endpoint"),
        (t.price_status == "unit", "unit"),
        else_="token",
    )
    zero = ibis.literal(ZERO, MONEY)
    sampled = (t.sample_rate != 1) & (t.price_status != "endpoint")
    cost = ibis.ifelse(sampled, weighted(t.cost, t.sample_rate), t.cost)
    return t.mutate(
        var_cost=ibis.ifelse(has_cost, cost, zero),
        cost_kind=kind,
        task=task_key(t),
        month=utc_trunc(t, "M"),
    )
