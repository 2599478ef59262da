"""Shared vocabulary of the attribution stage: the money type, the analysed window, the
leaf rule and the task key, as Ibis expressions."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dtypes

from unitecon import engine
from unitecon.ledger.schema import STRUCTURAL_OPERATIONS

#: Money inside attribution: exact, 24 places as in the pricing stage, so products of a
#: rate and a quantity are exact sums (DuckDB keeps DECIMAL under + and *, never under /).
MONEY = dtypes.Decimal(38, 24)
#: Quantities (GPU-seconds, units) cast for exact multiplication by a price.
QTY = dtypes.Decimal(38, 6)
#: Python-side arithmetic context: wide enough that no allocation ever rounds.
CTX = decimal.Context(prec=60, rounding=decimal.ROUND_FLOOR)
QUANTUM = Decimal("1e-24")
#: Python's default context keeps 28 significant digits: at 24 decimal places that is under
#: $10,000 before a sum silently rounds. Money sums here need 38 (DECIMAL(38, 24)), so the
#: default context of this thread and of new threads is widened once, at import.
MONEY_PRECISION = 60
if decimal.getcontext().prec < MONEY_PRECISION:
    decimal.getcontext().prec = MONEY_PRECISION
if decimal.DefaultContext.prec < MONEY_PRECISION:
    decimal.DefaultContext.prec = MONEY_PRECISION
ZERO = Decimal(0)

#: Report rows that are not a value of the dimension (stable keys in JSON and the API).
IDLE = "__idle__"
FILTERED = "__filtered__"
UNALLOCATED = "__unallocated__"
NONE = "(none)"
#: Customer of spend that carries no customer_id (`economics.inputs.UNATTRIBUTED`).
UNATTRIBUTED = "(unattributed)"
UNTAGGED = "(untagged)"
#: What people read for those keys: every table shows these; JSON rows carry both.
LABELS = {
    IDLE: "Idle GPU capacity",
    FILTERED: "Outside the filters",
    UNALLOCATED: "Fixed cost with no driver in scope",
    NONE: "Untagged",
    UNTAGGED: "Untagged",
    UNATTRIBUTED: "No customer (untagged spend)",
}


def label(key: object) -> str | None:
    """The name a person reads for a row key: `LABELS`, else the key itself (None: none)."""
    if key is None:
        return None
    return LABELS.get(key, key) if isinstance(key, str) else str(key)


def q(x: Decimal) -> Decimal:
    """Round down to the money quantum (1e-24 USD)."""
    return x.quantize(QUANTUM, context=CTX)


@dataclass(frozen=True)
class Window:
    """The analysed interval [since, until), UTC, half-open as FOCUS charge periods."""

    since: dt.datetime
    until: dt.datetime

    def days(self) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Calendar days (UTC) overlapping the window, clipped to it."""
        day = self.since.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < self.until:
            nxt = day + dt.timedelta(days=1)
            yield max(day, self.since), min(nxt, self.until)
            day = nxt

    def months(self) -> Iterator[tuple[dt.datetime, dt.datetime, dt.datetime]]:
        """(month start, clipped start, clipped end) for each calendar month overlapping."""
        m = self.since.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        while m < self.until:
            nxt = next_month(m)
            yield m, max(m, self.since), min(nxt, self.until)
            m = nxt


def next_month(m: dt.datetime) -> dt.datetime:
    return m.replace(year=m.year + m.month // 12, month=m.month % 12 + 1)


def utc(x: dt.datetime | dt.date) -> dt.datetime:
    """A date or naive datetime as an aware UTC datetime."""
    if not isinstance(x, dt.datetime):
        x = dt.datetime(x.year, x.month, x.day)
    return x.replace(tzinfo=dt.UTC) if x.tzinfo is None else x.astimezone(dt.UTC)


def window_of(t: Any, since: dt.datetime | None, until: dt.datetime | None) -> Window:
    """The window: given bounds, else whole UTC days around the events' timestamps."""
    if since is None or until is None:
        row = t.aggregate(lo=t.ts.min(), hi=t.ts.max()).to_pyarrow().to_pylist()[0]
        return window_around(row["lo"], row["hi"], since, until)
    return Window(utc(since), utc(until))


def window_around(
    lo: dt.datetime | None,
    hi: dt.datetime | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> Window:
    """`window_of` for events from `lo` to `hi` (None: no events)."""
    if since is None or until is None:
        if lo is None or hi is None:
            lo = hi = dt.datetime.now(dt.UTC)
        day0 = utc(lo).replace(hour=0, minute=0, second=0, microsecond=0)
        day1 = utc(hi).replace(hour=0, minute=0, second=0, microsecond=0)
        since = since or day0
        until = until or day1 + dt.timedelta(days=1)
    return Window(utc(since), utc(until))


def in_window(t: Any, w: Window) -> Any:
    return t.filter((t.ts >= w.since) & (t.ts < w.until))


def is_leaf(t: Any) -> Any:
    """Leaf-only rule: structural spans (invoke_agent, workflow, ...) are never cost."""
    return ~t.operation.isin(sorted(STRUCTURAL_OPERATIONS))


def task_key(t: Any) -> Any:
    """A task: the explicit `task_id`, else the trace (its root), else the event itself."""
    return ibis.coalesce(t.task_id, t.trace_id, t.event_id)


def task_count(t: Any) -> Any:
    """How many tasks (`task_key`) the events of `t` hold, as one aggregate: an event with
    neither task nor trace is a task of its own, so it is counted, not hashed (a distinct
    count of ten million event ids costs a hash of every one)."""
    return ibis.coalesce(t.task_id, t.trace_id).nunique() + t.count(
        where=t.task_id.isnull() & t.trace_id.isnull()
    )


def money(x: Any) -> Any:
    return x.cast(MONEY)


#: A sampled event's weight, 1/sample_rate rounded to 6 places.
WEIGHT = dtypes.Decimal(18, 6)
#: The cost multiplied by a weight at 18 places: DECIMAL(38, 18) x DECIMAL(18, 6) has scale
#: 24 and 14 integer digits, where DECIMAL(38, 24) x DECIMAL(18, 6) (scale 30) would leave 8
#: and overflow at $100M (a tiny sample rate on a big event).
_WEIGHED = dtypes.Decimal(38, 18)


def weighted(cost: Any, sample_rate: Any) -> Any:
    """cost x round(1/sample_rate, 6), as MONEY (exact to 1e-18 USD)."""
    weight = (1 / sample_rate).round(6).cast(WEIGHT)
    return (cost.cast(_WEIGHED) * weight).cast(MONEY)


@ibis.udf.scalar.builtin(name="epoch_us")  # type: ignore[untyped-decorator]
def _epoch_us(ts: dtypes.timestamp) -> dtypes.int64:  # type: ignore[valid-type]
    """DuckDB's microseconds since the Unix epoch (no time-zone conversion)."""


@ibis.udf.scalar.builtin(name="make_timestamp")  # type: ignore[untyped-decorator]
def _naive(us: dtypes.int64) -> dtypes.Timestamp(timezone=None):  # type: ignore[valid-type]
    """DuckDB's TIMESTAMP (no time zone) of epoch microseconds: the UTC wall clock."""


def month_number(t: Any) -> Any:
    """The UTC calendar month of `ts` as one integer, year x 12 + month - 1, for counting
    distinct months. On DuckDB from the UTC wall clock as a plain TIMESTAMP, as the fields
    of a TIMESTAMPTZ go through ICU (~20x slower)."""
    ts = _naive(_epoch_us(t.ts)) if engine.capabilities(t).epoch_us else t.ts
    return ts.year() * 12 + ts.month() - 1


@ibis.udf.scalar.builtin(name="epoch")  # type: ignore[untyped-decorator]
def _epoch(ts: dtypes.Timestamp(timezone=None)) -> dtypes.float64:  # type: ignore[valid-type]
    """DuckDB's seconds since the Unix epoch of a plain TIMESTAMP (no time-zone conversion)."""


@ibis.udf.scalar.builtin(name="to_timestamp")  # type: ignore[untyped-decorator]
def _instant(seconds: dtypes.float64) -> dtypes.timestamp:  # type: ignore[valid-type]
    """DuckDB's TIMESTAMPTZ of epoch seconds (no time-zone conversion), typed as Ibis types
    `ts.truncate(unit)` of a TIMESTAMPTZ column (a plain timestamp), whose DuckDB value
    is a TIMESTAMPTZ too."""


def _wall(t: Any) -> Any:
    """`t.ts`, or on DuckDB its UTC wall clock as a plain TIMESTAMP: the fields of a
    TIMESTAMPTZ (its date, its day or month) go through ICU, ~0.04 s of CPU per 272k
    events (the demo ledger), 5-8x the same on the plain TIMESTAMP."""
    return _naive(_epoch_us(t.ts)) if engine.capabilities(t).epoch_us else t.ts


def utc_date(t: Any, unit: str | None = None) -> Any:
    """The UTC calendar day of `t.ts` (a DATE), or of the start of its UTC week or month
    (`unit` "W", "M"), as `t.ts.date()` / `t.ts.truncate(unit).date()` in the engine's UTC
    session."""
    ts = _wall(t)
    return (ts if unit is None else ts.truncate(unit)).date()


def utc_trunc(t: Any, unit: str) -> Any:
    """`t.ts.truncate(unit)`: the start of the UTC day or month of `t.ts`, in the engine's
    UTC session. On DuckDB truncated on the UTC wall clock (`_wall`) and made an instant
    again from its epoch seconds (exact: whole seconds), the same TIMESTAMPTZ value and
    the same Ibis type."""
    exact = t.ts.truncate(unit)
    if not engine.capabilities(t).epoch_us:
        return exact
    fast = _instant(_epoch(_wall(t).truncate(unit)))
    return fast if fast.type() == exact.type() else exact


def memtable(rows: list[dict[str, Any]], schema: dict[str, Any]) -> Any:
    """An in-memory table with an explicit schema (also when `rows` is empty), named by
    its content: the same rows give the same expression, whose compiled SQL the engine
    keeps (`engine/duck.py`)."""
    import hashlib

    import ibis.expr.operations as ops
    import ibis.expr.schema as isch
    import pyarrow as pa
    from ibis.formats.pyarrow import PyArrowTableProxy

    sch = ibis.schema(schema)
    arrow = pa.Table.from_pylist(rows, schema=sch.to_pyarrow())
    digest = hashlib.sha256(repr((rows, list(sch.items()))).encode()).hexdigest()[:32]
    return ops.InMemoryTable(  # `ibis.memtable(arrow)` with a name of ours
        name=f"{engine.TEMP_PREFIX}mem_{digest}",
        schema=isch.infer(arrow),
        data=PyArrowTableProxy(arrow),
    ).to_expr()
