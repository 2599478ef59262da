"""What-if replay: real traffic, transformed as Ibis expressions, priced as real traffic is.

    events  = the ledger's events in the period                 (read only, never written)
    events' = transformation_k(... transformation_1(events))   (Ibis, an event-shaped table)
    cost    = variable_costs(apply_prices(events', prices), project')   (the same stages)

Each transformation may also add to the project what pricing needs (a self-hosted endpoint
sized by the performance model, a semantic-cache lookup price) or a price factor applied
right after token pricing. A scenario with no transformations is priced by exactly the code
that prices the baseline, so it reproduces it to the cent. See `unitecon.models.scenario`
for the file and `unitecon.economics.whatif` for the comparison.

The baseline's and the scenario's costed events also become the margins stage's records
(`MarginInputs`: usage lines and month coverage, as `economics.analysis.load_inputs` reads
them from the ledger), so revenue and margin are re-run by `economics.analysis.margins` on
the scenario's usage: a usage-priced plan bills the grown traffic, a flat plan does not.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from unitecon import engine
from unitecon.attribution.config import EndpointConfig, UnitPrice
from unitecon.attribution.costed import Costed, variable_costs
from unitecon.attribution.frame import task_count
from unitecon.economics import inputs as inp
from unitecon.economics.analysis import MarginInputs
from unitecon.economics.whatif import Group, Side
from unitecon.errors import UniteconError
from unitecon.ledger.schema import STRUCTURAL_OPERATIONS
from unitecon.models import scenario as sc
from unitecon.models import tco
from unitecon.pricing.engine import apply_prices, build_prices, ledger_events

LOOKUP_UNIT = "semantic_cache_lookup"
BUCKETS = 1_000_000


@dataclass(frozen=True)
class PriceFactor:
    """Token cost of matching priced calls x factor, right after pricing."""

    model: str
    provider: str | None
    factor: Decimal


@dataclass(frozen=True)
class State:
    """An event-shaped table plus what pricing needs for it."""

    events: ir.Table
    project: Any
    factors: tuple[PriceFactor, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    earlier: Any = None
    """The ledger's events when `events` starts at a window's start: the tasks before it
    (one-time costs amortized over tasks, `attribution.variable_costs`)."""


# -- selection ---------------------------------------------------------------------------


HEX = "0123456789abcdef"
BUCKET_DIGITS = 8
"""Hex digits of the MD5 digest read as the bucket's number (32 bits, then mod BUCKETS)."""


def bucket(key: ir.StringValue, salt: str) -> ir.IntegerValue:
    """A deterministic number in [0, 1e6) from `key` and `salt`, the same on every engine:
    the first 8 hex digits of the MD5 digest of `key || salt` (a null key as ''), read as
    a number, mod 1e6. In Python: `int(md5((key + salt).encode()).hexdigest()[:8], 16) %
    1_000_000`. (Ibis's `.hash()` is each engine's own hash function: DuckDB and Spark
    would pick different events for the same share.) The digest is not a secret: MD5
    spreads the keys evenly, which is all a bucket needs."""
    digest = (key.fill_null("") + salt).hexdigest("md5")
    digits = ibis.literal(HEX)
    # Horner's rule, mod BUCKETS at each step: (n * 16 + d) < 1.6e7 fits any engine's
    # 32-bit integers (Spark types these literals INT), and the result is the whole mod 1e6
    n: ir.IntegerValue = ibis.literal(0, "int64")
    for k in range(BUCKET_DIGITS):
        n = (n * 16 + digits.find(digest.substr(k, 1))) % BUCKETS
    return n


def is_call(t: ir.Table) -> ir.BooleanValue:
    """A leaf model call priced by tokens (not structure, not a unit, not an endpoint)."""
    return (
        ~t.operation.isin(sorted(STRUCTURAL_OPERATIONS))
        & t.model.notnull()
        & (t.model != "")
        & t.endpoint.isnull()
    )


def matches(t: ir.Table, m: sc.Match, salt: str, calls_only: bool = True) -> ir.BooleanValue:
    """Rows selected by `m` (criteria AND-ed, then a hashed `share`)."""
    cond: ir.BooleanValue = is_call(t) if calls_only else ibis.literal(True)
    for col, values in (
        ("feature", m.feature),
        ("customer_id", m.customer),
        ("agent", m.agent),
        ("operation", m.operation),
        ("provider", m.provider),
        ("model", m.model),
        ("task_type", m.task_type),
    ):
        if values is not None:
            cond = cond & t[col].isin(values).fill_null(False)
    if m.min_input_tokens is not None:
        cond = cond & (t.input_tokens >= m.min_input_tokens)
    if m.max_input_tokens is not None:
        cond = cond & (t.input_tokens <= m.max_input_tokens)
    for k, v in m.tags.items():
        cond = cond & (t.tags[k] == v).fill_null(False)
    if m.share < 1:
        cond = cond & (bucket(t.event_id, salt) < int(m.share * BUCKETS))
    return cond


def _int(x: ir.NumericValue) -> ir.IntegerValue:
    return x.cast("int64")  # type: ignore[no-any-return]


# -- transformations ---------------------------------------------------------------------


def route(s: State, tr: sc.Route, i: int) -> State:
    t = s.events
    sel = matches(t, tr.match, f"route{i}")
    f = float(tr.output_factor)
    out = ibis.ifelse(sel, _int((t.output_tokens * f).round()), t.output_tokens)
    reasoning = ibis.ifelse(sel, _int((t.reasoning_tokens * f).round()), t.reasoning_tokens)
    moved = t.mutate(
        model=ibis.ifelse(sel, ibis.literal(tr.to_model), t.model),
        provider=ibis.ifelse(sel, ibis.literal(tr.to_provider), t.provider)
        if tr.to_provider
        else t.provider,
        output_tokens=out,
        reasoning_tokens=ibis.least(reasoning, out),
    )
    if tr.rejection_rate_change == 0:
        return replace(s, events=moved)
    redo = sel & (bucket(t.event_id, f"reject{i}") < int(tr.rejection_rate_change * BUCKETS))
    rework = t.filter(redo).mutate(
        event_id=t.event_id + f":rework{i}",
        span_id=ibis.null("string"),
        attempt=(t.attempt + 1).cast("int32"),
        accepted=ibis.null("boolean"),
    )
    return replace(s, events=moved.union(rework.select(*t.columns)))


def prompt_cache(s: State, tr: sc.PromptCache, i: int) -> State:
    t = s.events
    sel = matches(t, tr.match, f"pcache{i}")
    uncached = (t.input_tokens - t.cache_read_tokens - t.cache_write_tokens).cast("float64")
    reads = _int((uncached * float(tr.read_share)).floor())
    writes = _int((uncached * float(tr.write_share)).floor())
    return replace(
        s,
        events=t.mutate(
            cache_read_tokens=ibis.ifelse(sel, t.cache_read_tokens + reads, t.cache_read_tokens),
            cache_write_tokens=ibis.ifelse(
                sel, t.cache_write_tokens + writes, t.cache_write_tokens
            ),
        ),
    )


def _as_lookup(t: ir.Table, suffix: str | None) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "operation": ibis.literal("vector_query"),
        "provider": ibis.null("string"),
        "model": ibis.null("string"),
        "input_tokens": ibis.literal(0, "int64"),
        "cache_read_tokens": ibis.literal(0, "int64"),
        "cache_write_tokens": ibis.literal(0, "int64"),
        "output_tokens": ibis.literal(0, "int64"),
        "reasoning_tokens": ibis.literal(0, "int64"),
        "unit_type": ibis.literal(LOOKUP_UNIT),
        "units": ibis.literal(1.0),
        "duration_ms": ibis.null("float64"),
        "ttft_ms": ibis.null("float64"),
    }
    if suffix:
        cols |= {"event_id": t.event_id + suffix, "span_id": ibis.null("string")}
    return cols


def semantic_cache(s: State, tr: sc.SemanticCache, i: int, hit_rate: Decimal) -> State:
    t = s.events
    sel = matches(t, tr.match, f"scache{i}")
    hit = sel & (bucket(t.event_id, f"shit{i}") < int(hit_rate * BUCKETS))
    lookups = _as_lookup(t, None)
    served = t.mutate(**{k: ibis.ifelse(hit, v, t[k]) for k, v in lookups.items()})
    misses = t.filter(sel & ~hit).mutate(**_as_lookup(t, f":lookup{i}")).select(*t.columns)
    price = UnitPrice(unit_type=LOOKUP_UNIT, usd_per_1000=tr.lookup_usd_per_1000)
    others = [p for p in s.project.unit_prices if p.unit_type != LOOKUP_UNIT]
    project = s.project.model_copy(update={"unit_prices": [*others, price]})
    note = f"semantic cache: hit rate {hit_rate}"
    return replace(s, events=served.union(misses), project=project, notes=(*s.notes, note))


def batch(s: State, tr: sc.Batch, i: int) -> State:
    t = s.events
    sel = matches(t, tr.match, f"batch{i}")
    if tr.tier == "batch":
        events = t.mutate(batch=sel | t.batch)
        note = "batch: results within 24 h"
    else:
        events = t.mutate(service_tier=ibis.ifelse(sel, ibis.literal("flex"), t.service_tier))
        note = "flex: slower, may be queued"
    return replace(s, events=events, notes=(*s.notes, note))


def price_change(s: State, tr: sc.PriceChange, i: int) -> State:
    return replace(s, factors=(*s.factors, PriceFactor(tr.model, tr.provider, tr.factor)))


def growth(s: State, tr: sc.Growth, i: int) -> State:
    t = s.events
    sel = matches(t, sc.Match(**tr.match.model_dump(exclude={"share"})), "", calls_only=False)
    whole, frac = int(tr.factor), tr.factor - int(tr.factor)
    task = ibis.coalesce(t.task_id, t.trace_id, t.event_id)
    keep_frac = bucket(task, f"grow{i}") < int(frac * BUCKETS)
    parts = [t.filter(~sel | (keep_frac if whole == 0 else ibis.literal(True)))]
    for k in range(1, whole + (1 if frac else 0)):
        cond = sel if k < whole else sel & keep_frac
        sfx = f":g{i}.{k}"
        parts.append(
            t.filter(cond)
            .mutate(
                event_id=t.event_id + sfx,
                trace_id=t.trace_id + sfx,
                task_id=task + sfx,
                conversation_id=t.conversation_id + sfx,
            )
            .select(*t.columns)
        )
    out = parts[0]
    for p in parts[1:]:
        out = out.union(p)
    return replace(s, events=out)


# -- self-hosting ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizing:
    """A fleet sized for the matched calls' peak by the performance model."""

    endpoint: str
    replicas: int
    gpus: int
    peak_tokens_per_s: float
    tokens_per_s_per_replica: float
    batch: float
    monthly_usd: Decimal


def measure_workload(t: ir.Table, sel: ir.BooleanValue) -> dict[str, float]:
    """Mean lengths, cached share and the peak minute's tokens/s of the selected calls."""
    from unitecon.economics.workload import token_mix

    return token_mix(t.filter(sel))


def size_fleet(tr: sc.SelfHost, w: dict[str, float]) -> tuple[EndpointConfig, Sizing]:
    """Replicas for the measured peak at the latency target; the endpoint that prices it."""
    from unitecon.models.perf import calibrate
    from unitecon.models.perf.predict import deployment
    from unitecon.models.perf.serving import Engine, Lengths, at_latency_target
    from unitecon.models.selfhost import HOURS_PER_MONTH, replica_tokens_per_s, replicas_for_peak

    if w["n"] == 0:
        raise UniteconError(f"self_host {tr.model}: no calls match in the period")
    lengths = Lengths(max(1, round(w["input"])), max(1, round(w["output"])), min(w["cached"], 0.95))
    dep = deployment(tr.model, tr.gpu, tr.gpus_per_replica, tr.precision)
    point = at_latency_target(dep, calibrate.fitted(), Engine(), lengths, tr.tpot_s, tr.ttft_s)
    per_replica = replica_tokens_per_s(point, lengths)
    replicas = replicas_for_peak(w["peak_tokens_per_s"], per_replica)
    name = tr.endpoint or f"selfhost-{tr.model}"
    gpus = replicas * tr.gpus_per_replica
    cfg = EndpointConfig(
        gpu=tr.gpu,
        gpu_count=gpus,
        hourly={"on_demand": tr.usd_per_gpu_hour},
        billing="on_demand",
        concurrency=Decimal(repr(replicas * point.batch)),
        prefill_tokens_per_s=Decimal(repr(lengths.prefill_len / point.ttft_s)),
        decode_tokens_per_s=Decimal(repr(1 / point.tpot_s)),
        models=[tr.model],
    )
    monthly = (gpus * tr.usd_per_gpu_hour * HOURS_PER_MONTH).quantize(Decimal("0.01"))
    sizing = Sizing(
        name,
        replicas,
        gpus,
        w["peak_tokens_per_s"],
        per_replica,
        point.batch,
        monthly,
    )
    return cfg, sizing


def self_host(s: State, tr: sc.SelfHost, i: int) -> State:
    t = s.events
    sel = matches(t, tr.match, f"self{i}")
    cfg, sz = size_fleet(tr, measure_workload(t, sel))
    events = t.mutate(
        endpoint=ibis.ifelse(sel, ibis.literal(sz.endpoint), t.endpoint),
        duration_ms=ibis.ifelse(sel, ibis.null("float64"), t.duration_ms),
    )
    project = s.project.model_copy(update={"endpoints": {**s.project.endpoints, sz.endpoint: cfg}})
    note = (
        f"{sz.endpoint}: {sz.replicas} x {tr.gpus_per_replica} {tr.gpu} for a peak of "
        f"{sz.peak_tokens_per_s:,.0f} tok/s ({sz.tokens_per_s_per_replica:,.0f} per replica), "
        f"${sz.monthly_usd:,} a month"
    )
    return replace(s, events=events, project=project, notes=(*s.notes, note))


# -- pricing and summaries ---------------------------------------------------------------


def priced(s: State) -> ir.Table:
    """Token prices as for real traffic, then the scenario's price factors."""
    t = apply_prices(s.events, build_prices(s.events, s.project.pricing))
    for f in s.factors:
        hit = (t.model == f.model) & (t.price_status == "priced")
        if f.provider is not None:
            hit = hit & (t.provider == f.provider)
        k = ibis.literal(f.factor, "decimal(18,9)")
        t = t.mutate(
            **{c: ibis.ifelse(hit, (t[c] * k).cast(t[c].type()), t[c]) for c in _COST_COLUMNS}
        )
    return t


_COST_COLUMNS = ("input_cost", "output_cost", "cost")


def costed(s: State, since: dt.datetime | None, until: dt.datetime | None) -> Costed:
    return variable_costs(priced(s), s.project, since, until, earlier=s.earlier)


def side(c: Costed, by: Sequence[str]) -> Side:
    """Totals and groups (by feature, by customer) of a costed replay."""
    t = c.events
    leaf = ~t.operation.isin(sorted(STRUCTURAL_OPERATIONS))
    groups: dict[str, list[Group]] = {}
    for dim in by:
        agg = t.group_by(key=t[dim]).aggregate(
            cost=t.var_cost.sum(),
            requests=leaf.sum(),
            tasks=task_count(t),
        )
        rows = [
            Group(r["key"], Decimal(r["cost"] or 0), int(r["requests"] or 0), int(r["tasks"]))
            for r in agg.to_pyarrow().to_pylist()
        ]
        # the engine returns groups in any order: sort so that two replays compare equal
        groups[dim] = sorted(rows, key=lambda g: (g.key is None, str(g.key)))
    tot = t.aggregate(cost=t.var_cost.sum(), requests=leaf.sum(), tasks=task_count(t))
    r = tot.to_pyarrow().to_pylist()[0]
    return Side(
        Decimal(r["cost"] or 0),
        c.idle_total,
        int(r["requests"] or 0),
        int(r["tasks"] or 0),
        groups,
    )


Step = Callable[[State, Any, int], State]
STEPS: dict[str, Step] = {
    "route": route,
    "prompt_cache": prompt_cache,
    "batch": batch,
    "price_change": price_change,
    "growth": growth,
    "self_host": self_host,
}


def apply(s: State, tr: Any, i: int, hit_rate: Callable[[sc.SemanticCache], Decimal]) -> State:
    """Apply transformation `i` of the scenario."""
    if isinstance(tr, sc.SemanticCache):
        return semantic_cache(s, tr, i, hit_rate(tr))
    return STEPS[tr.kind](s, tr, i)


def _earlier(ledger: Any, since: dt.datetime | None) -> Any:
    """The ledger's events, when a window starts at `since` (`State.earlier`)."""
    return None if since is None else ledger_events(ledger)


def _utc(d: dt.date | None) -> dt.datetime | None:
    return None if d is None else dt.datetime.combine(d, dt.time(), dt.UTC)


def given_rate(tr: sc.SemanticCache) -> Decimal:
    if tr.hit_rate is None:
        raise UniteconError(
            "semantic_cache: `measure` needs the semantic extra "
            "(pip install 'unitecon[semantic]'); or give `hit_rate`"
        )
    return tr.hit_rate


def margin_inputs(c: Costed, project: Any, allocated: bool) -> MarginInputs:
    """The margins stage's records of a costed replay, as `analysis.load_inputs` reads them
    from the ledger: usage lines by (customer, month, feature) with their variable cost,
    month coverage, and with `allocated` the project's fixed costs and idle GPU cost
    allocated per line (`inputs.fixed_lines`), else the plans' F."""
    w = inp.window_of(c.window.since, c.window.until)
    usage, cov = inp.usage_lines(c.events, "var_cost"), inp.window_coverage(w)
    if not allocated:
        return MarginInputs(usage, cov, None, "attribution", window=w)
    fx = inp.fixed_lines(c, project)
    return MarginInputs(usage, cov, fx.amounts, "attribution", fx, w)


def both_inputs(
    base: tuple[Costed, Any], scen: tuple[Costed, Any]
) -> tuple[MarginInputs, MarginInputs]:
    """Both sides on one fixed-cost basis: allocated when the project has fixed costs or
    either side has idle GPU time (a self-hosted fleet the scenario adds), else the plans' F
    (the rule of `analysis.load_inputs`, applied to the two sides together)."""
    allocated = any(bool(p.fixed_costs) or c.idle_total != 0 for c, p in (base, scen))
    return margin_inputs(*base, allocated), margin_inputs(*scen, allocated)


@dataclass(frozen=True)
class Replay:
    """The costs of a scenario, step by step, and the margin records of both ends."""

    sides: list[Side]
    """Baseline, then after each transformation (cumulative)."""
    notes: list[str]
    baseline_inputs: MarginInputs
    scenario_inputs: MarginInputs
    window: tuple[dt.datetime, dt.datetime] | None = None
    """The replayed window [since, until) (the scenario's, else the ledger's days)."""


def replay(
    ledger: Any,
    scenario: sc.Scenario,
    project: Any,
    *,
    by: Sequence[str] = ("feature", "customer_id"),
    hit_rate: Callable[[sc.SemanticCache], Decimal] = given_rate,
    materialize: bool = True,
) -> Replay:
    """Baseline then the cost after each transformation (cumulative), the notes, and the
    margin records of the baseline and of the whole scenario.

    `materialize` keeps each step's transformed events in client memory (an Arrow memtable,
    never the ledger) so that step k+1 does not recompute steps 1..k; on Spark a cached view
    (`engine.materialize`), so the replay stays where the data lives.
    """
    since, until = _utc(scenario.since), _utc(scenario.until)
    s = State(ledger_events(ledger, since, until), project, earlier=_earlier(ledger, since))
    c0 = c = costed(s, since, until)
    sides = [side(c, by)]
    for i, tr in enumerate(scenario.transformations):
        s = apply(s, tr, i, hit_rate)
        caps = engine.capabilities(s.events)
        if materialize and caps.temp_tables:
            # each step's table once, instead of re-running the whole chain (DuckDB: an
            # in-memory table)
            s = replace(s, events=ibis.memtable(s.events.to_pyarrow()))
        elif materialize and caps.materializes:
            # Spark: a cached view where the data lives (released with the analysis)
            s = replace(s, events=engine.materialize(s.events)[0])
        if c is not c0:  # an intermediate step's tables are not read again
            c.release()
        c = costed(s, since, until)
        sides.append(side(c, by))
    base, last = both_inputs((c0, project), (c, s.project))
    window = (c0.window.since, c0.window.until)
    return Replay(sides, list(s.notes), base, last, window)


def measured_rate(
    source: Any, scenario: sc.Scenario, limit: int = 5000
) -> Callable[[sc.SemanticCache], Decimal]:
    """A hit-rate function that measures on the matched calls' request texts (time order)."""
    from unitecon.models import semantic

    def rate(tr: sc.SemanticCache) -> Decimal:
        if tr.measure is None:
            return given_rate(tr)
        t = ledger_events(source, _utc(scenario.since), _utc(scenario.until))
        text = t.tags[tr.measure.text_tag]
        m = t.filter(matches(t, tr.match, "measure") & text.notnull())
        rows = m.select(text=text, ts=m.ts).order_by("ts").limit(limit).to_pyarrow()
        texts = rows.column("text").to_pylist()
        if not texts:
            raise UniteconError(
                f"semantic_cache: no matched call carries tag {tr.measure.text_tag!r} with its "
                "request text; give `hit_rate` instead"
            )
        return semantic.measure(texts, float(tr.measure.threshold))

    return rate


# -- measurements for the models ---------------------------------------------------------


def measure_feature(
    ledger: Any, project: Any, f: tco.FromLedger, scenario: sc.Scenario | None = None
) -> tco.Measured:
    """A feature's variable cost, tasks and successful tasks in a window of the ledger,
    priced and attributed as real traffic (`attribution.outcomes` decides success); with a
    what-if `scenario`, after its transformations are replayed on that traffic."""
    from unitecon.attribution.outcomes import task_outcomes

    since, until = _utc(f.since), _utc(f.until)
    s = State(ledger_events(ledger, since, until), project, earlier=_earlier(ledger, since))
    if scenario is not None:
        rate = measured_rate(ledger, scenario)
        for i, tr in enumerate(scenario.transformations):
            s = apply(s, tr, i, rate)
    c = costed(s, since, until)
    e = c.events
    o = task_outcomes(e.filter(e.feature == f.feature))
    r = (
        o.aggregate(tasks=o.count(), ok=o.count(where=o.outcome == "success"), cost=o.spend.sum())
        .to_pyarrow()
        .to_pylist()[0]
    )
    if not r["tasks"]:
        names = e.select("feature").distinct().to_pyarrow().column("feature").to_pylist()
        known = sorted(str(n) for n in names if n is not None)
        w = f"{c.window.since:%Y-%m-%d} to {c.window.until:%Y-%m-%d}"
        raise UniteconError(
            f"no events of feature {f.feature!r} in the ledger from {w}; features there: "
            f"{', '.join(known) or '(none)'}"
        )
    seconds = int((c.window.until - c.window.since).total_seconds())
    from unitecon.economics import metrics

    cost, tasks, ok = Decimal(r["cost"] or 0), int(r["tasks"]), int(r["ok"])
    return tco.Measured(
        cost,
        tasks,
        ok,
        Decimal(seconds) / 86400,
        metrics.cost_per_task(cost, tasks),
        metrics.cost_per_successful_task(cost, ok),
    )
