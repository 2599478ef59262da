"""Price the ledger in the engine: find each event's price row, then arithmetic.

An event's row is found by a left join on (provider, model, batch, service tier) with the
validity interval, time-of-day window and tier band as range conditions (the catalog's
segments are disjoint, so an event matches at most one row); a DuckDB ledger's events, which
carry their price key, find the same row by position in constant arrays (`_lookup`). Then

    input_cost  = sum_f tokens_f * rate[input, f]  + rate[input, request]     [USD]
    output_cost = sum_f tokens_f * rate[output, f] + rate[output, request]
    cost        = input_cost + output_cost + other                            (DECIMAL(38, 24))

All of it is an Ibis expression, so it runs on any Ibis backend; DuckDB is the default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from unitecon.engine import is_duckdb, temp_table
from unitecon.ledger.schema import (
    MAX_TOKENS,
    SOURCE_ROW,
    STRUCTURAL_OPERATIONS,
    TOKEN_FIELDS,
    TS_FROM,
    TS_TO,
)
from unitecon.pricing import rates
from unitecon.pricing.catalog import (
    DAY_SECONDS,
    PriceKey,
    PriceTable,
    keys_from_rows,
    price_table,
)
from unitecon.pricing.config import PricingConfig

MONEY = dt.Decimal(38, rates.RATE_SCALE)
STATUSES = ("priced", "structural", "missing", "usage_missing", "endpoint", "unit")
#: Operations that are one model call each, priced by tokens (`validate.TOKEN_OPERATIONS`).
CALL_OPERATIONS = ("chat", "generate_content", "text_completion", "embeddings")
PRICED_COLUMNS = (
    "priced",
    "price_status",
    "input_cost",
    "output_cost",
    "cost",
    "price_rule",
    "catalog_version",
    "cache_saving",
)


def _backend(source: Any) -> Any:
    return source.ibis() if hasattr(source, "ibis") and hasattr(source, "con") else source


def _pricing(project: Any) -> PricingConfig:
    if project is None:
        return PricingConfig()
    if isinstance(project, PricingConfig):
        return project
    return project.pricing  # type: ignore[no-any-return]


def _instant(v: date | datetime) -> datetime:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    return datetime.combine(v, time(), UTC)


def _keyed_events(
    source: Any, since: date | datetime | None = None, until: date | datetime | None = None
) -> ir.Table:
    """`ledger_events`, keeping the ledger's `price_key` column where it has one. A ledger's
    `source` is the event's text (`located_source`), never its stored prefix."""
    t = _backend(source).table("events")
    if since is not None:
        t = t.filter(t.ts >= _instant(since))
    if until is not None:
        t = t.filter(t.ts < _instant(until))
    if SOURCE_ROW in t.columns:
        t = t.mutate(source=located_source(t)).drop(SOURCE_ROW)
    return t


def located_source(t: ir.Table) -> ir.StringValue:
    """`schema.source_sql` in Ibis: the stored `source` followed by `source_row` where a
    direct read numbered the row, else the stored `source` (a text DuckDB only builds for
    the rows of a question that reads it)."""
    row = t[SOURCE_ROW]
    return ibis.ifelse(row.isnull(), t.source, t.source.concat(row.cast("string")))  # type: ignore[no-any-return]


def ledger_events(
    source: Any, since: date | datetime | None = None, until: date | datetime | None = None
) -> ir.Table:
    """The `events` table of a Ledger or Ibis backend, `since <= ts < until` (the event
    schema's columns: a caller that changes provider, model, batch or tier gets no stale
    `price_key`)."""
    t = _keyed_events(source, since, until)
    return t.drop(PRICE_KEY) if PRICE_KEY in t.columns else t


def build_prices(events: ir.Table, config: PricingConfig) -> PriceTable:
    """Resolve the distinct price keys of `events` into a price table.

    A ledger's events carry `price_key`: the keys are then the rows of the small
    `price_keys` table that these events use (a window's price table holds the window's
    keys, not the whole ledger's), and the table records each key's number for the lookup
    (`_lookup`). Otherwise the keys are
    read from every event, token-priced or not (a plain GROUP BY of four columns is cheaper
    than filtering first).
    """
    if _lookup_usable(events):
        # the keys of these events only (a window's: its price table, not the ledger's)
        pk = events.get_backend().table("price_keys")
        pk = pk.filter(pk.key_id.isin(events.select(PRICE_KEY).distinct()[PRICE_KEY]))
        rows = pk.order_by("key_id").to_pyarrow().to_pylist()
        priced = [r for r in rows if r["model"] and not r["structural"] and not r["has_endpoint"]]
        keys = keys_from_rows(priced)
        table = price_table(keys, config)
        table.key_ids = {k: int(r["key_id"]) for k, r in zip(keys, priced, strict=True)}
        table.n_keys = max((int(r["key_id"]) for r in rows), default=0) + 1
        table.structural_ids = frozenset(int(r["key_id"]) for r in rows if r["structural"])
        return table
    found = (
        events.group_by("provider", "model", "batch", "service_tier")
        .aggregate()
        .to_pyarrow()
        .to_pylist()
    )
    return price_table(keys_from_rows([k for k in found if k["model"]]), config)


@ibis.udf.scalar.builtin(name="epoch_us")  # type: ignore[untyped-decorator]
def _epoch_us(ts: dt.timestamp) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's microseconds since the Unix epoch (no time-zone conversion)."""


@ibis.udf.scalar.builtin(name="divide")  # type: ignore[untyped-decorator]
def _div(a: dt.int64, b: dt.int64) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's integer division (truncating; Ibis writes `//` as FLOOR of a DOUBLE quotient)."""


_DAY_US = 86_400_000_000
PRICE_KEY = "price_key"
#: Price by array lookup where the ledger allows it (`_lookup`); False forces the join
#: (the tests run both).
USE_LOOKUP = True
#: The longest lookup array built (DuckDB copies a constant list for every vector of rows it
#: meets, so long ones cost); a price table that needs more is joined.
MAX_LIST = 1 << 16


def _us_of_day(us: ir.IntegerValue) -> ir.IntegerValue:
    """Microseconds since UTC midnight of an epoch-microsecond value (also before 1970: the
    remainder of a negative value is negative, and one day is added back)."""
    m = us % _DAY_US
    return m + (m < 0).cast("int64") * _DAY_US  # type: ignore[no-any-return]


def _seconds_of_day(t: ir.Table, duck: bool) -> ir.IntegerValue:
    """Whole seconds since UTC midnight. DuckDB: integer arithmetic on the epoch (`_us`), as
    extracting hour/minute/second from a TIMESTAMPTZ goes through ICU (~50x slower)."""
    if duck:
        return _div(_us_of_day(t._us), 1_000_000)  # type: ignore[no-any-return]
    ts = t.ts
    return ts.hour() * 3600 + ts.minute() * 60 + ts.second()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Arith:
    """How rates are multiplied: BIGINT units of 1e-`scale` USD (DuckDB, whose integer
    arithmetic is overflow-checked, ~20x faster than DECIMAL(38, 24) products), or DECIMAL."""

    scale: int | None

    def money(self, raw: ir.NumericValue) -> ir.NumericValue:
        """A raw amount (BIGINT units or DECIMAL) as DECIMAL(38, 24) USD, exactly."""
        if self.scale is None:
            return raw.cast(MONEY)
        unit = ibis.literal(Decimal(1).scaleb(-self.scale), type=dt.Decimal(38, self.scale))
        return (raw.cast(dt.Decimal(38, 0)) * unit).cast(MONEY)


def _arith(events: ir.Table, table: PriceTable) -> _Arith:
    return _Arith(table.int_scale() if is_duckdb(events) else None)


def _lookup_usable(events: ir.Table) -> bool:
    """Whether `events` are a DuckDB ledger's, keyed by `price_keys` (see `_lookup`)."""
    return USE_LOOKUP and PRICE_KEY in events.columns and is_duckdb(events)


@dataclass(frozen=True)
class _Grid:
    """The price table as arrays, for `_lookup`.

    The edges of every row (validity instants, time-of-day edges, input-token band edges)
    cut time and input size into intervals; an event's cell is its price key, its time
    interval and its band. No row edge falls inside a cell, so a row covers a cell whole or
    not at all, and the catalog's rows being disjoint, each cell is priced by one row or
    none: `cells[i]` is 1 + that row's index, 0 for none. Only edges inside the domain of
    stored events count (`schema.TS_FROM`..`TS_TO`, 0..`MAX_TOKENS` tokens): the others are
    passed, or not, by every stored event alike.

    Time is one array element: validity edges fall on UTC midnights (prices change by date
    in genai-prices and in the project file), so the validity interval is a function of the
    day, and the time-of-day interval one of the `step` (the largest span that divides every
    time-of-day edge: 30 minutes for the catalog's off-peak prices). `times[d * steps + s]`
    is the time interval of day `d` (0 before `first_day`, then one per day up to the last
    edge's, which stands for every later day too) at step `s` of that day.
    """

    first_day: int  # the first validity edge's day (epoch days); 0 when none
    n_days: int  # days on the axis, the one for "before first_day" included
    step: int  # microseconds
    times: Any  # numpy int32: time interval at (day, step)
    n_times: int
    bands: list[int]  # band b: b of these are < the event's input_tokens
    cells: Any  # numpy int32: (key, time interval, band) flattened

    @property
    def steps(self) -> int:
        return _DAY_US // self.step

    @staticmethod
    def build(table: PriceTable) -> _Grid | None:
        """The grid of `table` (built with `key_ids`), or None when it would be too large, a
        price changes at another time than midnight, or the rows overlap (then the join
        decides, as it always can)."""
        import numpy as np

        assert table.key_ids is not None
        rows = table.rows
        lo_us, hi_us = _epoch_us_of(TS_FROM), _epoch_us_of(TS_TO)
        instants = {_epoch_us_of(r[k]) for r in rows for k in ("valid_from", "valid_to")}
        valid = sorted(v for v in instants if lo_us < v < hi_us)
        if any(v % _DAY_US for v in valid):
            return None
        tod_edges = sorted({r[k] for r in rows for k in ("tod_from", "tod_to")})
        tod_edges = [t * 1_000_000 for t in tod_edges if 0 < t < DAY_SECONDS]
        step = math.gcd(_DAY_US, *tod_edges)
        first_day = valid[0] // _DAY_US if valid else 0
        n_days = (valid[-1] // _DAY_US - first_day + 2) if valid else 1
        edges = {r[k] for r in rows for k in ("in_lo", "in_hi")}
        bands = sorted(e for e in edges if 0 <= e < MAX_TOKENS)
        n_p, n_q, n_b = len(valid) + 1, len(tod_edges) + 1, len(bands) + 1
        steps = _DAY_US // step
        if n_days * steps > MAX_LIST or table.n_keys * n_p * n_q * n_b > MAX_LIST:
            return None
        # the time interval (validity p, time of day q) at each (day, step) of the axis
        day_starts = (first_day - 1 + np.arange(n_days, dtype=np.int64)) * _DAY_US
        p_of = np.searchsorted(np.array(valid, dtype=np.int64), day_starts, "right")
        step_starts = np.arange(steps, dtype=np.int64) * step
        q_of = np.searchsorted(np.array(tod_edges, dtype=np.int64), step_starts, "right")
        times = (p_of[:, None] * n_q + q_of[None, :]).astype(np.int32).ravel()
        # a representative point of each interval of each axis
        xs = np.array([lo_us, *valid], dtype=np.int64)
        zs = np.array([0, *tod_edges], dtype=np.int64) // 1_000_000
        ys = np.array([0] + [e + 1 for e in bands], dtype=np.int64)
        cells = np.zeros((table.n_keys, n_p, n_q, n_b), dtype=np.int32)
        for i, r in enumerate(rows):
            k = table.key_ids[PriceKey(r["provider"], r["model"], r["batch"], r["service_tier"])]
            vf, vt = _epoch_us_of(r["valid_from"]), _epoch_us_of(r["valid_to"])
            p = np.flatnonzero((vf <= xs) & (xs < vt))
            q = np.flatnonzero((r["tod_from"] <= zs) & (zs < r["tod_to"]))
            b = np.flatnonzero((r["in_lo"] < ys) & (ys <= r["in_hi"]))
            block = np.ix_(np.array([k]), p, q, b)
            if cells[block].any():
                return None
            cells[block] = i + 1
        return _Grid(first_day, n_days, step, times, n_p * n_q, bands, cells.ravel())


def _epoch_us_of(v: datetime) -> int:
    return (v - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _list(values: Any) -> pa.Array:
    """A one-element list column holding the numpy array `values`."""
    flat = pa.array(values)
    return pa.ListArray.from_arrays(pa.array([0, len(flat)], pa.int32()), flat)


@ibis.udf.scalar.builtin(name="list_extract")  # type: ignore[untyped-decorator]
def _cell_at(xs: dt.Array(dt.int32), i: dt.int64) -> dt.int32:  # type: ignore[valid-type]
    """DuckDB's 1-based list element; NULL for 0, NULL or out of range."""


@ibis.udf.scalar.builtin(name="list_extract")  # type: ignore[untyped-decorator]
def _int_at(xs: dt.Array(dt.int64), i: dt.int64) -> dt.int64:  # type: ignore[valid-type]
    """DuckDB's 1-based list element; NULL for 0 or NULL."""


@ibis.udf.scalar.builtin(name="list_extract")  # type: ignore[untyped-decorator]
def _dec_at(xs: dt.Array(MONEY), i: dt.int64) -> MONEY:  # type: ignore[valid-type]
    """DuckDB's 1-based list element; NULL for 0 or NULL."""


@ibis.udf.scalar.builtin(name="list_extract")  # type: ignore[untyped-decorator]
def _bool_at(xs: dt.Array(dt.boolean), i: dt.int64) -> dt.boolean:  # type: ignore[valid-type]
    """DuckDB's 1-based list element."""


@ibis.udf.scalar.builtin(name="list_extract")  # type: ignore[untyped-decorator]
def _str_at(xs: dt.Array(dt.string), i: dt.int64) -> dt.string:  # type: ignore[valid-type]
    """DuckDB's 1-based list element; NULL for 0 or NULL."""


def _band(tokens: ir.IntegerValue, edges: list[int]) -> ir.IntegerValue:
    """The band of `tokens`: how many of `edges` it is above."""
    out: ir.IntegerValue = ibis.literal(0, "int64")
    for edge in edges:
        out = out + (tokens > edge).cast("int64")
    return out


def _constants(events: ir.Table, lists: pa.Table) -> ir.Table:
    """`lists` (one row) as a DuckDB temporary table of the events' connection, named by its
    content so that the same prices reuse it. Not a memtable: DuckDB knows a table's row
    count and the range of its lists' elements, and so proves that the token sums cannot
    overflow 64 bits (cheaper sums, and a group-by sized for the groups, not the rows),
    which an Arrow scan of unknown length prevents. Temporary tables also work on a
    read-only ledger."""
    import hashlib

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, lists.schema) as writer:
        writer.write_table(lists)
    name = "_unitecon_prices_" + hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()[:20]
    return temp_table(events.get_backend(), name, lists)


def _lookup(events: ir.Table, table: PriceTable, arith: _Arith, grid: _Grid) -> ir.Table:
    """As `_join`, by position instead of a join: an event's cell (`_Grid`) is its price
    key, an element of the time array and a comparison per band edge, its row an element
    of the cell array, and each rate an element of that rate's array (a one-row table
    cross-joined, whose lists DuckDB passes as constants). Joined, ten million events spent
    most of their time hashing and comparing four strings each and walking each key's list
    of price rows.

    Stored events are in `schema.TS_FROM`..`TS_TO`, after 1970: `_us` is positive, so the
    day and the time of day are a plain quotient and remainder (`_day`).
    """
    arrow = table.to_arrow(arith.scale)
    lists: dict[str, Any] = {"_l_cell": _list(grid.cells), "_l_time": _list(grid.times)}
    lists["_l_ns"] = pa.array(
        [[k not in table.structural_ids for k in range(table.n_keys)]], pa.list_(pa.bool_())
    )
    lists["_l_rule"] = pa.array([arrow["rule"].to_pylist()], pa.list_(pa.string()))
    for col in table.rate_columns:
        lists[f"_l_{col}"] = pa.array([arrow[col].to_pylist()], pa.list_(arrow[col].type))
    e = events.mutate(_us=_epoch_us(events.ts)).cross_join(_constants(events, pa.table(lists)))
    e = e.mutate(_day=_div(e._us, _DAY_US), _ns=_bool_at(e._l_ns, e[PRICE_KEY].cast("int64") + 1))
    at_time: ir.IntegerValue = ibis.literal(1, "int64")
    if grid.n_days > 1:  # day on the axis: 0 before the first edge's, the last for later ones
        d = e._day - (grid.first_day - 1)
        at_time = ibis.greatest(ibis.least(d, grid.n_days - 1), 0) * grid.steps + 1
    if grid.steps > 1:
        at_time = at_time + _div(e._us % _DAY_US, grid.step)
    time = _cell_at(e._l_time, at_time).cast("int64")
    cell = e[PRICE_KEY].cast("int64") * grid.n_times + time
    cell = cell * (len(grid.bands) + 1) + _band(e.input_tokens, grid.bands)
    # a key not priced by tokens (structural, endpoint, no model) has no row in any cell
    e = e.mutate(_r=_cell_at(e._l_cell, cell + 1).nullif(0).cast("int64"))
    at = _int_at if arith.scale is not None else _dec_at
    rates_ = {f"_p_{c}": at(e[f"_l_{c}"], e._r) for c in table.rate_columns}
    return e.mutate(_p_rid=e._r - 1, _p_rule=_str_at(e._l_rule, e._r), **rates_)


def _join(events: ir.Table, table: PriceTable, arith: _Arith) -> ir.Table:
    """`events` left-joined to the price row that prices each (columns `_p_*`, `_p_rid`), with
    `_ns` (not a structural operation) and, on DuckDB, `_us` (epoch microseconds of `ts`).

    Only token-priced events take part in the join (others get a null provider key), so the
    rate columns are null exactly where an event is not priced here. A ledger's events
    (with `price_key`) are priced by `_lookup` instead, to the same columns.
    """
    if table.key_ids is not None and _lookup_usable(events):
        grid = _Grid.build(table)
        if grid is not None:
            return _lookup(events, table, arith, grid)
    duck = is_duckdb(events)
    arrow = table.to_arrow(arith.scale)
    if duck:  # validity as epoch microseconds: integer comparisons in the join
        import pyarrow.compute as pc  # not at the top: 0.1 s of a read that never gets here

        for name in ("valid_from", "valid_to"):
            us = pc.cast(pc.cast(arrow[name], pa.timestamp("us")), pa.int64())
            arrow = arrow.set_column(arrow.schema.get_field_index(name), name, us)
    prices = ibis.memtable(arrow)
    p = prices.rename({f"_p_{c}": c for c in prices.columns})
    e = events.mutate(_ns=~events.operation.isin(sorted(STRUCTURAL_OPERATIONS)))
    if duck:
        e = e.mutate(_us=_epoch_us(e.ts))
    token_priced = e._ns & e.endpoint.isnull() & e.model.notnull() & (e.model != "")
    e = e.mutate(
        _pk=ibis.ifelse(token_priced, e.provider.fill_null(""), ibis.null()),
        _tk=e.service_tier.fill_null(""),
    )
    at = e._us if duck else e.ts
    cond = [
        e._pk == p._p_provider,
        e.model == p._p_model,
        e.batch == p._p_batch,
        e._tk == p._p_service_tier,
        at >= p._p_valid_from,
        at < p._p_valid_to,
        e.input_tokens > p._p_in_lo,
        e.input_tokens <= p._p_in_hi,
    ]
    if any((r["tod_from"], r["tod_to"]) != (0, DAY_SECONDS) for r in table.rows):
        e = e.mutate(_tod=_seconds_of_day(e, duck))
        cond += [e._tod >= p._p_tod_from, e._tod < p._p_tod_to]
    return e.left_join(p, cond)


def usage_missing(t: ir.Table) -> ir.BooleanValue:
    """A model call that succeeded with no usage at all (no input, no output tokens): a
    stream sent without `include_usage`, an instrumentation that dropped the counts. Its
    cost is unknown, never $0: `price_status` 'usage_missing', cost null."""
    return (  # type: ignore[no-any-return]
        t.operation.isin(CALL_OPERATIONS)
        & (t.status == "ok")
        & t.endpoint.isnull()
        & t.model.notnull()
        & (t.model != "")
        & (t.input_tokens == 0)
        & (t.output_tokens == 0)
        & (t.units == 0)
    )


def _status(t: ir.Table, matched: ir.BooleanValue) -> ir.StringValue:
    return ibis.cases(  # type: ignore[no-any-return]
        (t.operation.isin(sorted(STRUCTURAL_OPERATIONS)), "structural"),
        (t.endpoint.notnull(), "endpoint"),
        (t.model.isnull() | (t.model == ""), "unit"),
        (usage_missing(t), "usage_missing"),
        (matched, "priced"),
        else_="missing",
    )


def _raw_costs(t: ir.Table, table: PriceTable) -> dict[str, ir.NumericValue]:
    """Per direction (input, output, other): sum of tokens x rate + per-event rate, in the
    rate columns' own type; null where the row matched no price."""
    out: dict[str, ir.NumericValue] = {}
    for col in table.rate_columns:
        direction, term = col.split("__")
        rate = t[f"_p_{col}"]
        term_cost = rate if term == "request" else t[term] * rate
        out[direction] = out[direction] + term_cost if direction in out else term_cost
    zero = t._p_rid * 0  # null when unmatched, like the rates
    return {d: out.get(d, zero) for d in rates.DIRECTIONS}


def apply_prices(events: ir.Table, table: PriceTable) -> ir.Table:
    """Join `events` to `table` and add the priced columns (see `priced_events`)."""
    arith = _arith(events, table)
    j = _join(events, table, arith)
    raw = _raw_costs(j, table)
    j = j.mutate(
        _in=raw["input"], _out=raw["output"], _total=raw["input"] + raw["output"] + raw["other"]
    )
    structural = j.operation.isin(sorted(STRUCTURAL_OPERATIONS))
    zero = ibis.literal(Decimal(0), type=MONEY)
    unknown = usage_missing(j)

    def money(expr: ir.NumericValue) -> ir.NumericValue:
        return ibis.cases(  # type: ignore[no-any-return]
            (structural, zero), (unknown, ibis.null(MONEY)), else_=arith.money(expr)
        )

    # the cache-read rate is the cache-read price minus the input price (`rates`): minus it,
    # times the tokens read from cache, is what the cache saved at this event's own prices
    if "input__cache_read_tokens" in table.rate_columns:
        saving = -(j.cache_read_tokens * j._p_input__cache_read_tokens)
    else:
        saving = j._p_rid * 0  # null when unmatched, like the rates
    matched = j._p_rid.notnull()
    return j.select(
        *(c for c in events.columns if c != PRICE_KEY),
        priced=matched,
        price_status=_status(j, matched),
        input_cost=money(j._in),
        output_cost=money(j._out),
        cost=money(j._total),
        price_rule=j._p_rule,
        catalog_version=ibis.literal(table.version),
        cache_saving=money(saving),
    )


def priced_events(
    source: Any,
    project: Any = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> ir.Table:
    """The ledger's events (`since <= ts < until`) with their cost, as an Ibis table.

    `source` is a `Ledger` or an Ibis backend holding table `events`; `project` a `Project`,
    a `PricingConfig` or None (catalog prices only). Added columns: `priced` (bool),
    `price_status` ('priced' | 'structural' | 'missing' | 'endpoint' | 'unit'), `input_cost`,
    `output_cost`, `cost` (DECIMAL(38, 24) USD; 0 for structural rows, null unless priced),
    `price_rule` (which catalog row priced it), `catalog_version` and `cache_saving` (USD:
    the cache-read tokens at the input price minus their cache-read price, this event's
    prices; null unless priced). Unknown models are
    'missing' with a null cost, never $0. Endpoints and non-token units are left to later
    stages.
    """
    events = _keyed_events(source, since, until)
    return apply_prices(events, build_prices(events, _pricing(project)))


def _dimension(t: ir.Table, name: str, duck: bool) -> ir.Value:
    if name == "day" and "_day" in t.columns:  # priced by `_lookup`
        return t._day
    if name == "day" and duck:  # day number; made a DATE after the group-by
        return _div(t._us - _us_of_day(t._us), _DAY_US)
    if name == "day":
        return t.ts.date()
    if name == "month":
        return t.ts.truncate("M").date()
    return t[name]


def _as_date(name: str, value: ir.Value, duck: bool) -> ir.Value:
    if name == "day" and duck:
        return (ibis.date(1970, 1, 1) + value.as_interval("D")).name(name)  # type: ignore[attr-defined]
    return value.name(name)


def costs(
    source: Any,
    project: Any = None,
    by: Sequence[str] = (),
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> ir.Table:
    """Cost summed by `by` (event columns, or `day` / `month` of `ts`), with event counts,
    token totals and the number of events left unpriced (missing, endpoint, unit).

    Equals summing `priced_events` per group: the same join and arithmetic, raw amounts summed
    first and turned into DECIMAL(38, 24) USD once per group (exact: the sum of exact integers
    is exact); a cost is null only where every event of the group is unpriced.
    """
    events = _keyed_events(source, since, until)
    # only the columns read: a shorter expression to compile (the rest DuckDB never scans)
    used = {"ts", "operation", "provider", "model", "endpoint", "batch", "service_tier"}
    used |= {"status", "units"}
    used |= {*TOKEN_FIELDS, PRICE_KEY, *by}
    events = events.select(*(c for c in events.columns if c in used))
    table = build_prices(events, _pricing(project))
    arith = _arith(events, table)
    j = _join(events, table, arith)
    raw = _raw_costs(j, table)
    unknown = usage_missing(j)
    unpriced = (j._ns & j._p_rid.isnull()) | unknown
    duck = is_duckdb(events)
    keys = {k: _dimension(j, k, duck) for k in by}
    sums = {
        "events": j.count(),
        "unpriced": j.count(where=unpriced),
        **{f: j[f].sum() for f in TOKEN_FIELDS},
        # a call without usage adds nothing (its cost is unknown: counted in `unpriced`)
        **{
            name: ibis.ifelse(unknown, raw[d] * 0, raw[d]).sum()
            for name, d in (("_in", "input"), ("_out", "output"), ("_other", "other"))
        },
    }
    g = j.group_by(**keys).aggregate(**sums) if keys else j.aggregate(**sums)
    # as summing `priced_events`: null where no event has a cost, else the sum, in which a
    # structural event (no price row, cost 0) adds 0
    costed = g.events > g.unpriced

    def money(raw_sum: ir.NumericValue) -> ir.NumericValue:
        return ibis.ifelse(costed, arith.money(raw_sum.fill_null(0)), ibis.null(MONEY))  # type: ignore[no-any-return]

    return g.select(
        *(_as_date(k, g[k], duck) for k in keys),
        "events",
        "unpriced",
        *TOKEN_FIELDS,
        input_cost=money(g._in),
        output_cost=money(g._out),
        cost=money(g._in.fill_null(0) + g._out.fill_null(0) + g._other.fill_null(0)),
    )


# -- `unitecon prices missing` ---------------------------------------------------------------


@dataclass(frozen=True)
class MissingPrice:
    """A (provider, model) with events that could not be priced, and the override to add."""

    provider: str | None
    model: str
    events: int
    input_tokens: int
    output_tokens: int
    first_seen: datetime
    last_seen: datetime
    reason: str
    #: a group of calls without usage (`UsageMissing`), not a model without a price
    usage: UsageMissing | None = None

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def snippet(self) -> str:
        """The project-file entry to add (prices left as TODO so it cannot price at $0); for
        calls without usage, what to fix at the source."""
        if self.usage is not None:
            return USAGE_FIX
        provider = f"      provider: {self.provider}\n" if self.provider else ""
        return (
            "pricing:\n"
            "  models:\n"
            f"    - model: {self.model}\n"
            f"{provider}"
            f"      since: {self.first_seen.date().isoformat()}\n"
            "      input_mtok: TODO    # USD per million input tokens\n"
            "      output_mtok: TODO   # USD per million output tokens\n"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "events": self.events,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "reason": self.reason,
            "snippet": self.snippet(),
        }


def missing_prices(
    source: Any,
    project: Any = None,
    since: date | datetime | None = None,
    until: date | datetime | None = None,
) -> list[MissingPrice]:
    """Unknown (provider, model)s with their event count and token volume, largest first;
    then the groups of calls without usage (`usage_missing_calls`, reason `usage missing`)."""
    config = _pricing(project)
    events = _keyed_events(source, since, until)
    table = build_prices(events, config)
    t = apply_prices(events, table)
    m = t.filter(t.price_status == "missing")
    agg = m.group_by("provider", "model").aggregate(
        events=m.count(),
        input_tokens=m.input_tokens.sum(),
        output_tokens=m.output_tokens.sum(),
        first_seen=m.ts.min(),
        last_seen=m.ts.max(),
    )
    rows = agg.to_pyarrow().to_pylist()
    out = []
    for r in rows:
        why = table.unpriced.get((r["provider"] or "", r["model"]))
        reason = why.reason if why else "no price for these events' dates (see pricing.models)"
        out.append(
            MissingPrice(
                r["provider"],
                r["model"],
                int(r["events"]),
                int(r["input_tokens"] or 0),
                int(r["output_tokens"] or 0),
                r["first_seen"],
                r["last_seen"],
                reason,
            )
        )
    out = sorted(out, key=lambda x: (-x.tokens, -x.events, x.provider or "", x.model))
    return out + [u.as_missing() for u in usage_missing_calls(source, since, until)]


# -- calls without usage ---------------------------------------------------------------------
#: How a `missing_prices` row of calls without usage starts its reason.
USAGE_MISSING = "usage missing"
USAGE_FIX = (
    "Send streams with usage (OpenAI: stream_options={'include_usage': True}) and check that "
    "the instrumentation of this source records gen_ai.usage.* on its model-call spans."
)


@dataclass(frozen=True)
class UsageMissing:
    """Model calls of one source, provider and model that came with no usage: their cost is
    unknown (not $0). Fix at the source: send streams with `include_usage`, upgrade or
    configure the instrumentation that drops the counts."""

    source: str
    provider: str | None
    model: str
    events: int
    calls: int
    """All model calls of this source, provider and model (with usage or not)."""
    first_seen: datetime
    last_seen: datetime

    @property
    def share(self) -> Decimal:
        return Decimal(self.events) / self.calls if self.calls else Decimal(0)

    def as_missing(self) -> MissingPrice:
        """As a row of `missing_prices` (what `prices missing` and the dashboard list)."""
        reason = (
            f"{USAGE_MISSING}: {self.events} of {self.calls} calls from {self.source} came "
            "without token counts; their cost is unknown, not $0"
        )
        return MissingPrice(
            self.provider,
            self.model,
            self.events,
            0,
            0,
            self.first_seen,
            self.last_seen,
            reason,
            self,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "provider": self.provider,
            "model": self.model,
            "events": self.events,
            "calls": self.calls,
            "share": str(self.share.quantize(Decimal("0.0001"))),
            "first_seen": self.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
        }


#: What `source_name` strips: a line number, a Parquet row (`:row N`) or a span id at the end.
SOURCE_SUFFIX = r"(:\d+|:row \d+|#[0-9A-Za-z]+)"
#: The characters a regular expression's `.` and `$` treat as line ends (Java's, a superset
#: of RE2's "\n"): a source holding one takes the definition's own extraction.
LINE_ENDS = r"[\n\r\x{85}\x{2028}\x{2029}]"


def source_name_definition(t: ir.Table) -> ir.StringValue:
    """The file or receiver of an event's `source`: `file:line` and `file#span-id` lose
    their line or span id, `file:row N` (a Parquet or CSV row) its row; the shortest prefix
    whose rest is empty, a `:line`, a `:row N` or a `#id`. (Until session 11 a Parquet row
    kept its row: on a ledger ingested from Parquet every event was a source of its own, and
    `coverage` grouped 10M of them to name the worst three files.)"""
    return t.source.re_extract(rf"^(.*?){SOURCE_SUFFIX}?$", 1)  # type: ignore[no-any-return]


def source_name(t: ir.Table) -> ir.StringValue:
    """`source_name_definition`, 13x cheaper (2M sources: 0.24 s of CPU instead of 3.2 s on
    DuckDB): the suffix removed by a replace, which needs no capture group. The same text:
    the suffix can only be the last `:` followed by digits to the end, or the last `#`
    followed by letters and digits to the end, what the lazy prefix leaves to it. A line end
    inside a source changes what `.` and `$` match (and the definition's answer: '' on
    DuckDB), so such a source takes the definition itself."""
    fast = t.source.re_replace(rf"{SOURCE_SUFFIX}$", "")
    return ibis.ifelse(t.source.re_search(LINE_ENDS), source_name_definition(t), fast)


def usage_missing_calls(
    source: Any, since: date | datetime | None = None, until: date | datetime | None = None
) -> list[UsageMissing]:
    """Model calls without usage per source, provider and model, most first, with their
    share of that source's calls of the model."""
    t = _keyed_events(source, since, until)
    t = t.filter(t.operation.isin(CALL_OPERATIONS) & t.model.notnull() & t.endpoint.isnull())
    missing = usage_missing(t)
    agg = t.group_by(src=source_name(t), provider=t.provider, model=t.model).aggregate(
        events=t.count(where=missing),
        calls=t.count(),
        first_seen=t.ts.min(where=missing),
        last_seen=t.ts.max(where=missing),
    )
    rows = agg.filter(agg.events > 0).to_pyarrow().to_pylist()
    out = [
        UsageMissing(
            r["src"] or "",
            r["provider"],
            r["model"],
            int(r["events"]),
            int(r["calls"]),
            r["first_seen"],
            r["last_seen"],
        )
        for r in rows
    ]
    return sorted(out, key=lambda x: (-x.events, x.source, x.provider or "", x.model))
