"""The analysis core: every surface asks it, every number is computed once.

`Analysis` is the only code that assembles the chain ledger -> priced -> costed ->
allocation -> unit metrics, margins, governance. The CLI, the HTTP API (and through it the
dashboard), the HTML report, `pipeline.py` and the what-if replay ask it a question and get
an answer (`answers.py`): the CLI prints it or its `--json`, the API returns the same object,
so the surfaces agree by construction.

One question, one rule for its filters (`Filters`):

- `since`/`until` (UTC days, half-open) are the window: the events priced and costed, the
  endpoint periods whose GPU time is charged;
- `feature`/`customer` select among the costed events of the window *after* costing, so a
  self-hosted call costs the same whoever else used the endpoint that day, and a filtered
  unit-metrics table keeps the rest on its `__filtered__` row (conservation).

Everything the engine materializes while answering lives in the `Analysis`' engine scope
and is dropped when the `Analysis` closes (`unitecon.engine.scope`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Hashable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar

from unitecon import engine
from unitecon.analysis.answers import (
    Alerts,
    Anomalies,
    AsymmetryTable,
    BudgetDay,
    Budgets,
    BudgetState,
    BudgetSummary,
    CollapsedCustomer,
    Costs,
    Coverage,
    DaySpend,
    DimensionInfo,
    EndpointSpans,
    FilterChoices,
    Filters,
    Ingests,
    MarginTable,
    MeasureWhatIf,
    MissingPrice,
    MonthSummary,
    Outcomes,
    Quarantine,
    QuarantineRecord,
    RunawayTask,
    RunawayTasks,
    SpendAnomaly,
    Summary,
    Table,
    TagCoverage,
    TaskNode,
    TaskTree,
    UnitMetrics,
    WhatIfResult,
)
from unitecon.analysis.cost_table import CostTable
from unitecon.errors import LookupFailed, UniteconError
from unitecon.ledger import dimensions

ZERO = Decimal(0)
TIME = ("day", "month")
"""Dimensions whose rows are a time line: answered in time order."""


def plain(v: Any) -> Any:
    """A JSON-ready value: dataclasses as dicts, dates as ISO text; Decimal stays exact."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {k.name: plain(getattr(v, k.name)) for k in dataclasses.fields(v)}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [plain(x) for x in v]
    if isinstance(v, dt.datetime) and v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)  # every instant is UTC; Spark hands them back naive
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, Decimal):
        return v.quantize(Decimal(1)) if v == v.to_integral_value() else v.normalize()
    return v


def _table(f: Filters, rows: list[dict[str, Any]], notes: list[str] | None = None) -> Table:
    cols = list(rows[0]) if rows else []
    return Table(filters=f, columns=cols, rows=[plain(r) for r in rows], notes=notes or [])


def _instant(d: dt.date | None) -> dt.datetime | None:
    return None if d is None else dt.datetime.combine(d, dt.time(), dt.UTC)


T = TypeVar("T")


class Shared(Protocol):
    """Where several `Analysis` of one ledger state and project (the service's requests)
    share what they computed in plain Python objects for the same window (`Analysis.shared`;
    the service's `server.shared.SharedWork`): `get` returns the value kept for `key`, or
    computes it with `compute()` (once, whoever asks meanwhile waits for it)."""

    def get(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T: ...


def check_window(f: Filters) -> None:
    if f.since and f.until and f.until <= f.since:
        raise UniteconError(f"`until` ({f.until}) must be after `since` ({f.since}).")


class Analysis:
    """Questions about one ledger under one project file. Use as a context manager.

    `source` is a `Ledger` (or the service's per-thread view of one): anything with
    `.ibis()` (the engine) and the ledger's read methods (`quarantine()`). `shared`: what
    the service's other requests of the same ledger state and project computed for the
    same window (`Shared`): the margin rows (margins and collapse) and the unit-metric rows
    (variable and loaded), plain Python objects, never an engine table.
    """

    def __init__(
        self,
        source: Any,
        project: Any,
        config_path: Path | None = None,
        shared: Shared | None = None,
    ) -> None:
        self.source = source
        self.project = project
        self.config_path = config_path
        self.shared = shared
        self._priced: dict[tuple[Any, ...], Any] = {}
        self._costed: dict[tuple[Any, ...], Any] = {}
        self._stack = contextlib.ExitStack()
        self._stack.enter_context(engine.scope())

    # -- lifecycle -------------------------------------------------------------------
    @classmethod
    @contextlib.contextmanager
    def open(cls, config: Path | None = None, *, ledger: Path | None = None) -> Iterator[Analysis]:
        """The analysis of the ledger at `ledger` (default: `$UNITECON_HOME/ledger.duckdb`),
        read-only, under the project file `config` (default: found as `unitecon.yaml`)."""
        from unitecon import config as cfg
        from unitecon.ledger.store import Ledger

        project = cfg.load(config)
        if project.engine.chosen() == "spark":
            with cls(spark_lake(project), project, cfg.find(config)) as a:
                yield a
            return
        with Ledger(ledger, read_only=True) as store, cls(store, project, cfg.find(config)) as a:
            yield a

    def __enter__(self) -> Analysis:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release every temporary object made for the answers (the engine's scope)."""
        self._costed.clear()
        self._priced.clear()
        self._stack.close()

    def _share(self, key: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
        """`compute()`, or what another request computed for `key` (`shared`)."""
        return compute() if self.shared is None else self.shared.get(key, compute)

    # -- the chain ---------------------------------------------------------------------
    def priced(self, f: Filters) -> Any:
        """The priced events of the window (pricing stage)."""
        from unitecon.pricing import priced_events

        key = (f.since, f.until)
        if key not in self._priced:
            t = priced_events(self.source, self.project, f.since, f.until)
            # read by several queries: Spark computes it once, DuckDB compiles it once
            keep = engine.capabilities(t).keep_priced
            t = engine.materialize(t)[0] if keep else engine.view(t)
            self._priced[key] = t
        return self._priced[key]

    def costed(self, f: Filters) -> Any:
        """The window's costed events (`attribution.Costed`): tokens + unit prices +
        self-hosted GPU time, leaf-only, weighted for sampling."""
        from unitecon.attribution.costed import variable_costs

        check_window(f)
        key = (f.since, f.until)
        if key not in self._costed:
            self._costed[key] = variable_costs(
                self.priced(f),
                self.project,
                _instant(f.since),
                _instant(f.until),
                earlier=self._earlier(f),
            )
        return self._costed[key]

    def _earlier(self, f: Filters) -> Any:
        """The ledger's events, for the tasks before a window that starts at `f.since`
        (its priced events start there); None without `since` (they are all priced)."""
        if f.since is None:
            return None
        from unitecon.pricing.engine import ledger_events

        return ledger_events(self.source)

    def events(
        self, f: Filters, *, once: bool = False, columns: Iterable[str] | None = None
    ) -> Any:
        """The costed events of the window narrowed to the feature and customer filters:
        for one pass (`once`), or materialized with the `columns` the reader names
        (`Costed.narrow`), or all of them."""
        c = self.costed(f)
        if once:
            t = c.scan()
        elif columns is not None:
            t = c.narrow({*columns, "feature", "customer_id"})
        else:
            t = c.events
        if f.feature is not None:
            t = t.filter(t.feature == f.feature)
        if f.customer is not None:
            t = t.filter(t.customer_id == f.customer)
        return t

    @staticmethod
    def only(f: Filters) -> dict[str, str]:
        """The feature and customer filters as unit-metrics selections."""
        out = {}
        if f.feature is not None:
            out["feature"] = f.feature
        if f.customer is not None:
            out["customer"] = f.customer
        return out

    # -- the ledger ------------------------------------------------------------------
    def holds_events(self, f: Filters) -> bool:
        """Whether the window of `f` holds any event (one indexed look, before pricing: a
        question about an empty window is answered without building its chain)."""
        if f.since is None and f.until is None:
            return True
        t = self.source.ibis().table("events")
        if f.since is not None:
            t = t.filter(t.ts >= _instant(f.since))
        if f.until is not None:
            t = t.filter(t.ts < _instant(f.until))
        return bool(t.select("ts").limit(1).to_pyarrow().num_rows)

    def _data_end(self, since: dt.date | None = None) -> dt.date | None:
        """The day after the last event from `since` on (`governance.data_end`), from the
        events as stored: the costed events of a window hold every stored event of it."""
        t = self.source.ibis().table("events")
        if since is not None:
            t = t.filter(t.ts >= _instant(since))
        hi = t.aggregate(hi=t.ts.max()).to_pyarrow().to_pylist()[0]["hi"]
        return None if hi is None else hi.date() + dt.timedelta(days=1)

    def filters(self) -> FilterChoices:
        """The period the ledger covers, the features and customers it holds, and the
        dimensions every question accepts."""
        t = self.source.ibis().table("events")
        span = t.aggregate(lo=t.ts.min(), hi=t.ts.max(), n=t.count()).to_pyarrow().to_pylist()[0]

        def distinct(col: str) -> list[str]:
            v = t.filter(t[col].notnull()).select(col).distinct().order_by(col)
            return [r[col] for r in v.to_pyarrow().to_pylist()]

        return FilterChoices(
            first_day=span["lo"].date() if span["lo"] else None,
            last_day=span["hi"].date() if span["hi"] else None,
            features=distinct("feature"),
            customers=distinct("customer_id"),
            events=int(span["n"]),
            dimensions=[
                DimensionInfo(name=d.name, label=d.label, uses=sorted(d.uses))
                for d in dimensions.REGISTRY
            ],
        )

    def quarantine(self, source: str | None = None, limit: int = 100) -> Quarantine:
        """Records that could not become events, with where they came from and why."""
        rows = self.source.quarantine()
        if source:
            rows = [r for r in rows if r["source"] == source]
        shown = rows[:limit] if limit else rows
        return Quarantine(total=len(rows), records=[QuarantineRecord(**r) for r in shown])

    def prices_missing(self, f: Filters) -> list[MissingPrice]:
        """Models in the window with no price, their volume, and the override to add."""
        from unitecon.pricing import missing_prices

        check_window(f)
        rows = missing_prices(self.source, self.project, f.since, f.until)
        return [MissingPrice(**plain(r.as_dict())) for r in rows]

    # -- cost --------------------------------------------------------------------------
    def costs(self, f: Filters, by: str = "model", limit: int = 0) -> Costs:
        """Variable cost (tokens + unit prices + busy GPU time) by any dimensions."""
        return self.cost_table(f, by, limit).answer()

    def cost_table(self, f: Filters, by: str = "model", limit: int = 0) -> CostTable:
        """`costs` with its rows in columns, as the engine hands them back: what a surface
        writes as JSON without an object per row (`analysis.cost_table`)."""
        from unitecon.economics.costs import cost_table, parse_dims

        dims = parse_dims(by)
        check_window(f)
        if not self.holds_events(f):  # at once, whatever the ledger's size
            return CostTable(by=dims, filters=f, total_cost=ZERO, total_rows=0)
        return CostTable.of(dims, f, cost_table(self.events(f, once=True), dims), limit)

    def units(
        self,
        f: Filters,
        by: str = "feature",
        loaded: bool = False,
        only: dict[str, str] | None = None,
    ) -> UnitMetrics:
        """Unit metrics per value of `by`, variable or fully loaded, with the window's
        conserved totals (variable + fixed + idle). `only` selects on more dimensions than
        the filters (the command line's `--only DIM=VALUE`)."""
        from unitecon.attribution.fixed import one_time_views
        from unitecon.economics.metrics import unit_rows

        dim = dimensions.get(by, dimensions.UNITS).name
        sel = {**(only or {}), **self.only(f)}

        def compute() -> tuple[list[Any], Any, Any]:
            c = self.costed(f)
            return (*unit_rows(c, self.project, dim, sel), c.window)

        # the variable and the loaded table of a page share their rows (`shared`)
        key = ("units", f.since, f.until, dim, tuple(sorted(sel.items())))
        got, alloc, window = self._share(key, compute)
        rows = list(got)  # shared: sorted below as a copy
        views = []
        if loaded:
            c = self.costed(f)
            views = one_time_views(c.source, c.window, self.project.fixed_costs)
        if dim in TIME:  # a time line reads in time order; the special rows (__idle__) last
            rows.sort(key=lambda r: (str(r.key).startswith("__"), str(r.key)))
        return UnitMetrics(
            filters=f,
            by=dim,
            loaded=loaded,
            since=window.since,
            until=window.until,
            variable_cost=alloc.variable,
            fixed_cost=alloc.fixed,
            idle_cost=alloc.idle,
            total_cost=alloc.total,
            fixed_charges=[
                {"name": ch.name, "month": ch.month.isoformat(), "amount": ch.amount}
                for ch in alloc.charges
            ],
            one_time_costs=[plain(v.as_dict()) for v in views],
            columns=[],
            rows=[plain(r.metrics(loaded)) for r in rows],
        ).with_columns()

    def tasks(self, f: Filters, limit: int = 20, trees: bool = True) -> Table:
        """The most expensive tasks: cost, calls, agents, supervisor, outcome, rework.
        `trees` False: no task's tree is asked next of this `Analysis` (`top_tasks`)."""
        from unitecon.economics.tasks import top_tasks

        c = self.costed(f)
        rows = top_tasks(c, limit, f.feature, f.customer, trees=trees)
        return _table(f, rows)

    def task(self, task_id: str, f: Filters | None = None) -> TaskTree:
        """One task's agent tree: every span with its own and inclusive cost (leaf-only)."""
        from unitecon.economics.tasks import task_details

        f = f or self._task_window(task_id)
        d = task_details(self._covering(f) or self.costed(f), task_id)
        if d is None:
            raise LookupFailed("task", task_id, [])
        s = d.stats
        return TaskTree(
            task_id=d.task,
            cost=s.cost,
            calls=s.calls,
            depth=s.depth,
            fan_out=s.fan_out,
            agents={a: {"own": own, "inclusive": inc} for a, (own, inc) in s.agents.items()},
            roots=[_node(r) for r in d.roots],
            outcome=d.outcome,
            supervisor=d.supervisor,
            supervisor_overhead=d.supervisor_overhead,
        )

    def _covering(self, f: Filters) -> Any:
        """A window costed already (`costed`) that holds every whole UTC day of `f`, or None.

        A call's cost does not depend on the window around it when the window holds its
        whole day (the endpoint rate of a day is that day's cost over its busy time, both
        within the day; `attribution.selfhosted.periods`), so one task's tree read from
        the window of the question before it (`tasks`, then the tree of its first rows) is
        the tree read from the task's own days, without pricing those days again."""
        lo, hi = _instant(f.since), _instant(f.until)
        if lo is None or hi is None:
            return None
        for c in self._costed.values():
            w = c.window
            whole = all(
                x == x.replace(hour=0, minute=0, second=0, microsecond=0)
                for x in (w.since, w.until)
            )
            if whole and w.since <= lo and hi <= w.until:
                return c
        return None

    def _task_window(self, task_id: str) -> Filters:
        """The UTC days holding every span of the traces of `task_id` (a task key or trace
        id), from the raw events: the tree is then priced and costed over those days only,
        not the whole ledger (a call's cost does not depend on the window around it). No
        such span: the whole ledger (the tree's own lookup then says the task is unknown)."""
        t = self.source.ibis().table("events")
        traces = t.filter((t.task_id == task_id) | (t.trace_id == task_id)).select("trace_id")
        spans = t.filter(t.trace_id.isin(traces.trace_id) | (t.task_id == task_id))
        got = spans.aggregate(lo=spans.ts.min(), hi=spans.ts.max()).to_pyarrow().to_pylist()[0]
        if got["lo"] is None:
            return Filters()
        return Filters(since=got["lo"].date(), until=got["hi"].date() + dt.timedelta(days=1))

    def asymmetry(self, f: Filters, by: str = "model") -> AsymmetryTable:
        """Input vs output cost per model or feature: each token kind's share of the token
        cost and its cost per 1k tokens (`economics.asymmetry`)."""
        from unitecon.economics.asymmetry import asymmetry

        if by not in ("model", "feature"):
            raise UniteconError(f"by: choose model or feature, not {by!r}")
        c = self.costed(f)
        rows = [plain(a.as_dict()) for a in asymmetry(c, by)]  # type: ignore[arg-type]
        t = _table(f, rows, ["API calls; cache reads are part of input, reasoning of output"])
        return AsymmetryTable(**t.model_dump(), by=by, since=c.window.since, until=c.window.until)

    def endpoints(self, f: Filters) -> Table:
        """Self-hosted endpoints: cost, idle cost, utilization, effective $/M tokens."""
        from unitecon.attribution.endpoints import endpoint_usage
        from unitecon.economics.metrics import endpoint_metrics

        c = self.costed(f)
        usage = endpoint_usage(c, self.project)
        return _table(f, [endpoint_metrics(u, c.window) for u in usage])

    # -- margins ---------------------------------------------------------------------
    def margin_model(self, f: Filters) -> Any:
        """The margin rows of the window (`economics.analysis.Margins`): revenue, cost and
        margin per customer-month-feature, for the questions below and `collapse`."""
        return self._margins(f)

    def _margins(self, f: Filters) -> Any:
        """The margin model of the window (`margin_model`); the margins and the collapse
        of a page share it (`shared`): read-only below (rows are selected and rolled up
        into new lists)."""
        from unitecon.economics import analysis

        def compute() -> Any:
            book = analysis.book_for(self.project, self.config_path)
            inputs = analysis.load_inputs(self.priced(f), self.project, costed=self.costed(f))
            return analysis.margins(inputs, book)

        return self._share(("margins", f.since, f.until), compute)

    def margins(
        self, f: Filters, by: str = "customer", month: dt.date | None = None
    ) -> MarginTable:
        """Revenue, variable and fixed cost, contribution and gross margin; worst first."""
        from unitecon.economics import margins as mg
        from unitecon.economics.window import month_window

        dim = dimensions.get(by, dimensions.MARGINS).name
        m = self._margins(f)
        rows = _select(mg.in_month(m.rows, month) if month else m.rows, f)
        planned = _select(mg.in_month(m.planned, month) if month else m.planned, f)
        groups = mg.roll_up(rows, dim)  # type: ignore[arg-type]
        if dim in TIME:  # in time order, not worst first
            groups.sort(key=lambda g: (g.key[0] is None, str(g.key[0])))
        plan_f = {g.key[0]: g.fixed_cost for g in mg.roll_up(planned, dim)}  # type: ignore[arg-type]
        conc = mg.concentration(mg.roll_up(rows, "customer"))
        fx = m.inputs.fixed
        w = m.inputs.window
        w = month_window(w, month) if month and w else w
        out = [{**g.as_dict([dim]), "plan_fixed_cost": plan_f.get(g.key[0], ZERO)} for g in groups]
        t = _table(f, out, [f"cost source: {m.inputs.cost_source}"])
        return MarginTable(
            **t.model_dump(),
            by=dim,
            month=month.strftime("%Y-%m") if month else None,
            cost_source=m.inputs.cost_source,
            fixed_basis=m.inputs.fixed_basis,
            fixed_window=None
            if fx is None
            else plain(
                {"fixed_costs": fx.fixed_total, "idle": fx.idle_total, "idle_mode": fx.idle}
            ),
            total=mg.totals(groups, plan_f.values()),
            window=None if w is None else plain(w.as_dict()),
            losing_money={
                "customers": mg.losing_money(mg.roll_up(rows, "customer")),
                "definitions": mg.LOSING_MONEY,
            },
            concentration=plain(
                {
                    "customers": conc.customers,
                    "gini": conc.gini,
                    "top_cost_share": conc.top_cost_share,
                    "top_negative_margin_share": conc.top_negative_share,
                    "negative_margin": conc.negative_margin,
                    "lorenz": [{"customers": x, "cost": y} for x, y in conc.lorenz],
                }
            ),
        )

    def collapse(self, f: Filters, plan: str | None = None) -> Table:
        """Per plan: the usage at which a customer's margin reaches 0 (u0) and the target
        (u_m), and where each customer sits against those lines."""
        from unitecon.economics import analysis

        out = []
        for pc in analysis.collapse(self._margins(f), plan):
            row = plain(pc)
            row["positions"] = [
                {**plain(p), "past_u0": p.past_u0, "past_um": p.past_um} for p in pc.positions
            ]
            row["share_past_u0"] = plain(pc.share("u0"))
            row["share_past_um"] = plain(pc.share("u_m"))
            out.append(row)
        return _table(f, out)

    # -- governance ------------------------------------------------------------------
    def budgets(self, month: dt.date | None = None) -> Budgets:
        """Each budget: spend to date, month-end forecast with an 80% range, run-out day."""
        from unitecon.governance import EVENT_COLUMNS, budget_statuses
        from unitecon.governance.overview import latest_month

        notes = [] if self.project.governance.budgets else ["No budgets in the project file."]
        # the month and the 28 days of history its forecast needs; no month: the latest,
        # found from the events as stored (one column's maximum), so that only that month
        # and its history are priced and costed, not the whole ledger (a budget's spend
        # and forecast read those days only, and a day's cost is the same in any window
        # that holds it: `attribution.costed`)
        since = None if month is None else month - dt.timedelta(days=35)
        end = self._data_end(since)
        if month is None and end is not None:
            since = latest_month(end) - dt.timedelta(days=35)
        if end is None or not self.project.governance.budgets:
            label = month.strftime("%Y-%m") if month else None
            return Budgets(month=label, as_of=end, budgets=[], notes=notes)
        events = self.costed(Filters(since=since)).narrow(EVENT_COLUMNS)
        statuses = budget_statuses(events, self.project.governance.budgets, month, end)
        return Budgets(
            month=statuses[0].month.strftime("%Y-%m"),
            as_of=end,
            budgets=[_budget(s) for s in statuses],
            notes=notes,
        )

    def anomalies(self, f: Filters, top: int = 50) -> Anomalies:
        """Days far above the weekday-adjusted baseline, with what drove them."""
        from unitecon.governance import ANOMALY_COLUMNS, anomalies_from, data_end
        from unitecon.governance.overview import data_start, spend_by_day

        check_window(f)
        cfg = self.project.governance.anomalies
        hist = None if f.since is None else f.since - dt.timedelta(days=cfg.history_days)
        events = self.events(f.model_copy(update={"since": hist}), columns=ANOMALY_COLUMNS)
        first, end = data_start(events), data_end(events)
        if first is None or end is None:
            return Anomalies(
                filters=f, first_day=f.since, as_of=None, period_cost=ZERO, daily=[], total=0,
                anomalies=[],
            )  # fmt: skip
        if f.until is not None:
            end = min(end, f.until)
        tested = max(first, f.since) if f.since else first
        found = anomalies_from(events, cfg, first, end, f.since, top)
        spend = spend_by_day(events, tested, end)
        return Anomalies(
            filters=f,
            first_day=tested,
            as_of=end,
            period_cost=plain(spend.total),
            daily=[
                DaySpend(day=d, cost=plain(c)) for d, c in zip(spend.days, spend.costs, strict=True)
            ],
            total=len(found),
            anomalies=[_anomaly(a) for a in found[:top]],
        )

    def runaway(self, f: Filters, top: int = 20) -> RunawayTasks:
        """Tasks with far more calls than the other tasks of their feature (agent loops)."""
        check_window(f)
        period = Filters(since=f.since, until=f.until, feature=f.feature)
        found = self._governance(period, "runaway")
        if f.customer is not None:
            found = [r for r in found if r.customer_id == f.customer]
        return RunawayTasks(
            filters=f,
            total=len(found),
            rows=[_runaway(r) for r in (found[:top] if top else found)],
        )

    def coverage(self, f: Filters) -> Coverage:
        """The share of spend and calls carrying each business tag."""
        rows = self._governance(f, "coverage")
        return Coverage(
            filters=f, rows=[TagCoverage.model_validate(plain(x.as_dict())) for x in rows]
        )

    def _governance(self, f: Filters, read: str) -> Any:
        """The runaway tasks (`read` runaway, no customer filter: `runaway` applies it to
        the tasks) or the tag coverage (`coverage`) of the window, read from the window's
        governance columns (one narrow table). With `shared` (the service, whose budgets
        page asks both at once) both are read from the one table and the other request
        takes its answer from there: one pricing pass and one table for the two."""
        from unitecon.governance import EVENT_COLUMNS, runaway_tasks
        from unitecon.governance import coverage as cov

        def one(name: str) -> Any:
            events = self.events(f, columns=EVENT_COLUMNS)
            if name == "runaway":
                return runaway_tasks(events, self.project.governance.runaway, None)
            return cov(events)

        if self.shared is None or f.customer is not None:
            return one(read)
        key = ("runaway+coverage", f.since, f.until, f.feature)
        got = self.shared.get(key, lambda: {n: one(n) for n in ("runaway", "coverage")})
        return got[read]

    def alerts(self, days: int = 7) -> Alerts:
        """Everything needing attention now: the latest month's budgets with an alert, the
        anomalies and runaway tasks of the last `days` days."""
        from unitecon.governance import EVENT_COLUMNS, data_end
        from unitecon.governance import alerts as all_alerts

        c = self.costed(Filters())
        events = c.narrow(EVENT_COLUMNS)
        end = data_end(events)
        if end is None:
            return Alerts(as_of=None, days=days, budgets=[], anomalies=[], runaway_tasks=[])
        got = all_alerts(events, self.project.governance, c.window.since.date(), end, days)
        return Alerts.model_validate(
            {**plain(got.as_dict()), "anomalies": [_anomaly(a) for a in got.anomalies]}
        )

    # -- the headline ------------------------------------------------------------------
    def summary(self, f: Filters, top: int = 5) -> Summary:
        """The period's headline, from the other questions: fully loaded cost (variable,
        fixed, idle), revenue, gross margin, cost per successful task and their monthly
        trend, the budgets of the period's last month, customers past collapse, the
        largest anomalies and runaway tasks (`top` of each)."""
        from unitecon.economics import analysis
        from unitecon.economics import margins as mg
        from unitecon.economics.metrics import cost_per_successful_task

        if f.feature is not None or f.customer is not None:
            raise UniteconError(
                "The summary covers all spend of a period: use since/until, not feature or "
                "customer (ask `costs`, `unit` or `margins` for those)."
            )
        units = self.units(f, by="feature")
        m = self._margins(f)
        months = mg.roll_up(m.rows, "month")
        total = mg.totals(months)

        def count(rows: list[Any], key: str) -> int:
            return int(sum((Decimal(r.usage.get(key, 0)) for r in rows), ZERO))

        tasks, successes = count(months, "tasks"), count(months, "successful_tasks")
        trend = [
            MonthSummary(
                month=_day(g.key[0]),
                revenue=g.revenue,
                variable_cost=g.variable_cost,
                fixed_cost=g.fixed_cost,
                gross_margin=g.gross_margin,
                gross_margin_pct=g.gross_margin_pct,
                tasks=count([g], "tasks"),
                successful_tasks=count([g], "successful_tasks"),
                cost_per_successful_task=cost_per_successful_task(
                    g.cost, count([g], "successful_tasks")
                ),
            )
            for g in sorted(months, key=lambda g: str(g.key[0]))
        ]
        last = f.until - dt.timedelta(days=1) if f.until else None
        budgets = self.budgets(last.replace(day=1) if last else None)
        past = [
            CollapsedCustomer(
                customer_id=p.customer_id,
                plan=pc.plan,
                usage=p.usage,
                u0=p.u0,
                revenue=p.revenue,
                gross_margin=p.gross_margin,
                monthly_margin=p.monthly_margin,
            )
            for pc in analysis.collapse(m, None)
            for p in pc.past("u0")
        ]
        past.sort(key=lambda c: (c.monthly_margin, c.customer_id))
        anomalies = self.anomalies(f, top)
        runaway = self.runaway(f, top)
        return Summary(
            filters=f,
            since=units.since,
            until=units.until,
            variable_cost=units.variable_cost,
            fixed_cost=units.fixed_cost,
            idle_cost=units.idle_cost,
            total_cost=units.total_cost,
            revenue=total["revenue"],
            gross_margin=total["gross_margin"],
            gross_margin_pct=mg.margin_pct(total["gross_margin"], total["revenue"]),
            tasks=tasks,
            successful_tasks=successes,
            cost_per_successful_task=cost_per_successful_task(units.total_cost, successes),
            variable_cost_per_successful_task=cost_per_successful_task(
                units.variable_cost, successes
            ),
            months=trend,
            budgets=[
                BudgetSummary.model_validate(b.model_dump(exclude={"days"}))
                for b in budgets.budgets
            ],
            budget_month=budgets.month,
            customers_past_collapse=past,
            anomalies=anomalies.total,
            top_anomalies=anomalies.anomalies,
            runaway_tasks=runaway.total,
            top_runaway_tasks=runaway.rows,
            notes=[*units.notes, f"cost source: {m.inputs.cost_source}", *budgets.notes],
        )

    # -- the questions the command line asks beside a running service --------------------
    def outcomes(self, f: Filters, by: str = "kind") -> Outcomes:
        """Cost per successful task, tasks by outcome, rework cost and share, per task kind
        or feature; the supervisor overhead of multi-agent tasks."""
        from unitecon.economics.tasks import outcome_rows, supervisor_overhead

        if by not in ("kind", "feature"):
            raise UniteconError(f"by: choose kind or feature, not {by!r}")
        c = self.costed(f)
        return Outcomes(
            filters=f,
            by=by,
            outcomes=[plain(r) for r in outcome_rows(c, by)],
            supervisor_overhead=[plain(r) for r in supervisor_overhead(c)],
        )

    def collapse_plans(
        self, f: Filters, plan: str | None = None, target_margin: Decimal | None = None
    ) -> list[Any]:
        """The collapse analysis of each plan (`economics.collapse_plan.PlanCollapse`),
        at the project file's target margin or `target_margin`."""
        from unitecon.economics import analysis

        if target_margin is not None and not 0 <= target_margin < 1:
            raise UniteconError("target margin must be in [0, 1), e.g. 0.6")
        m = self._margins(f)
        if not m.book.config.plans:
            raise UniteconError(
                "No plans in the project file: add a `revenue:` section with plans."
            )
        return analysis.collapse(m, plan, target_margin)

    @contextlib.contextmanager
    def ledger(self) -> Iterator[Any]:
        """The DuckDB ledger itself, for what only it holds (lineage, bills; the lake's
        export): the source, or, on an engine that reads the lake, the ledger behind it."""
        if hasattr(self.source, "con"):
            yield self.source
            return
        from unitecon.ledger.store import Ledger

        with Ledger(read_only=True) as store:
            yield store

    def lineage(self) -> Ingests:
        """Every ingest with its source, counts and status, oldest first."""
        with self.ledger() as store:
            return Ingests(rows=[plain(r) for r in store.ingests()])

    def endpoint_spans(self, endpoint: str) -> EndpointSpans:
        """The spans of `endpoint` that carry a duration, for its TPS audit."""
        t = self.source.ibis().table("events")
        t = t.filter((t.endpoint == endpoint) & t.duration_ms.notnull())
        rows = t.select(
            start=t.ts.epoch_seconds().cast("float64"),
            dur=t.duration_ms.cast("float64"),
            ttft=t.ttft_ms.cast("float64"),
            i=t.input_tokens,
            o=t.output_tokens,
        ).to_pyarrow()
        col = {c: rows.column(c).to_pylist() for c in ("start", "dur", "ttft", "i", "o")}
        return EndpointSpans(
            endpoint=endpoint,
            start_s=col["start"],
            duration_ms=col["dur"],
            ttft_ms=col["ttft"],
            input_tokens=[int(x or 0) for x in col["i"]],
            output_tokens=[int(x or 0) for x in col["o"]],
        )

    def workload(
        self, feature: str, since: dt.date | None = None, until: dt.date | None = None
    ) -> Any:
        """The token mix and peak load of `feature` (`models.selfhost.Workload`)."""
        from unitecon.economics.workload import measured_workload

        return measured_workload(self.source, feature, since=since, until=until)

    def measure(
        self,
        feature: str,
        since: dt.date | None = None,
        until: dt.date | None = None,
        scenario: Any = None,
    ) -> Any:
        """A feature's variable cost, tasks and successful tasks in a window, as a TCO
        model's `from_ledger` reads them (`models.tco.Measured`); with a what-if `scenario`,
        after its transformations are replayed on that traffic."""
        from unitecon.economics import replay
        from unitecon.models import tco

        f = tco.FromLedger(feature=feature, since=since, until=until)
        return replay.measure_feature(self.source.ibis(), self.project, f, scenario)

    def measure_whatif(self, request: MeasureWhatIf) -> Any:
        """`measure` after `request.scenario` (`POST /measure/whatif`)."""
        return self.measure(request.feature, request.since, request.until, request.scenario)

    def whatif(self, scenario: Any) -> WhatIfResult:
        """The ledger's traffic replayed under `scenario` (`models.scenario.Scenario`):
        cost, margins and what each transformation saved against the baseline, and the
        savings levers (`economics.levers.summary`)."""
        from unitecon.economics import levers

        result = levers.replay_file(self.source.ibis(), scenario, self.project, self.config_path)
        out = result.as_dict()
        out["levers"] = levers.summary(result)
        return WhatIfResult(result=plain(out))


def _day(v: Any) -> dt.date:
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))


def spark_lake(project: Any) -> Any:
    """The lake of the project's Spark engine (`engine:` in the project file)."""
    from unitecon.engine import spark
    from unitecon.ledger.lake import Lake
    from unitecon.ledger.store import home

    root = project.engine.lake or home() / "lake"
    Lake.check(root)  # before Spark starts and reads it: "No lake at ...", not Spark's error
    return Lake(root, spark.backend(project.engine.master, root))


def _select(rows: list[Any], f: Filters) -> list[Any]:
    """Margin rows of the feature and customer filters."""
    # a MarginRow's key is (customer_id, month, feature): `margins.KEY_NAMES`
    if f.feature is not None:
        rows = [r for r in rows if r.key[2] == f.feature]
    if f.customer is not None:
        rows = [r for r in rows if r.key[0] == f.customer]
    return rows


def _node(n: Any) -> TaskNode:
    r = n.row
    return TaskNode(
        span_id=n.span_id,
        operation=n.operation,
        label=n.label,
        agent=r.get("agent_r") or r.get("agent"),
        model=r.get("model"),
        cost=n.cost,
        inclusive_cost=n.inclusive,
        status=r.get("status"),
        duration_ms=r.get("duration_ms"),
        input_tokens=int(r.get("input_tokens") or 0),
        output_tokens=int(r.get("output_tokens") or 0),
        children=[_node(c) for c in n.children],
    )


def _anomaly(a: Any) -> SpendAnomaly:
    d = a.as_dict()
    d["contributors"] = [
        {"dim": c.dim, "value": c.value, "cost": c.cost, "usual": c.usual, "above_usual": c.delta}
        for c in a.contributors
    ]
    return SpendAnomaly.model_validate(plain(d))


def _runaway(r: Any) -> RunawayTask:
    return RunawayTask.model_validate(plain(r.as_dict()))


def _budget(s: Any) -> BudgetState:
    from unitecon.governance.overview import burn_up

    days = [
        BudgetDay.model_validate(
            plain(
                {
                    "day": b.day,
                    "spent": b.spent,
                    "forecast": b.forecast,
                    "forecast_low": b.low,
                    "forecast_high": b.high,
                }
            )
        )
        for b in burn_up(s)
    ]
    return BudgetState.model_validate({**plain(s.as_dict()), "days": days})
